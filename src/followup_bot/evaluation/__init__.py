"""Grounding evaluation: datasets, metrics, the support judge's calibration, reports and plots.

`run_eval` runs a dataset through the assistant and returns an `EvalResult`; `compare_runs`
compares two finished runs and returns a `Comparison`. Both raise the typed errors of
`followup_bot.errors` (`DatasetError`, `GateError`, `CompareError`) and never print, exit or
import the CLI: `followup-bot eval` lives in `followup_bot.cli_eval`. Tests and notebooks use
the pieces directly (`load_dataset`, `Scorer`, `aggregate`, `triage_section`, `evaluate_judge`).
Report keys follow INTERFACES.md (see `metrics.METRICS`).
"""

from typing import Any

from followup_bot.evaluation.aggregates import aggregate, by_category
from followup_bot.evaluation.citation_scores import alce_scores, citation_validity
from followup_bot.evaluation.compare import Comparison, compare_rows, compare_runs, load_report
from followup_bot.evaluation.dataset import (
    CATEGORIES,
    CalibrationPair,
    DatasetError,
    EvalItem,
    load_calibration,
    load_dataset,
)
from followup_bot.evaluation.gate import (
    EXIT_GATE_FAILED,
    Gate,
    GateError,
    GateResult,
    apply_gate,
    check_gate,
    load_gate,
)
from followup_bot.evaluation.item_scores import ItemScore, Scorer, retrieval_scores
from followup_bot.evaluation.judge_calibration import evaluate_judge
from followup_bot.evaluation.metrics import METRICS
from followup_bot.evaluation.runner import EvalResult, run_eval
from followup_bot.evaluation.triage_scores import TRIAGE_METRICS, triage_section

# Names that moved to the CLI side: importing them from here says where they went.
_MOVED_TO_CLI = {"run_cli", "compare_cli", "summary_text"}


def __getattr__(name: str) -> Any:
    if name in _MOVED_TO_CLI:
        raise AttributeError(
            f"followup_bot.evaluation.{name} moved to followup_bot.cli_eval.{name} (the evaluation no longer prints "
            "or picks exit codes; use run_eval / compare_runs for results)"
        )
    raise AttributeError(f"module 'followup_bot.evaluation' has no attribute {name!r}")


__all__ = [
    "CATEGORIES",
    "EXIT_GATE_FAILED",
    "METRICS",
    "TRIAGE_METRICS",
    "CalibrationPair",
    "Comparison",
    "DatasetError",
    "EvalItem",
    "EvalResult",
    "Gate",
    "GateError",
    "GateResult",
    "ItemScore",
    "Scorer",
    "aggregate",
    "alce_scores",
    "apply_gate",
    "by_category",
    "check_gate",
    "citation_validity",
    "compare_rows",
    "compare_runs",
    "evaluate_judge",
    "load_calibration",
    "load_dataset",
    "load_gate",
    "load_report",
    "retrieval_scores",
    "run_eval",
    "triage_section",
]
