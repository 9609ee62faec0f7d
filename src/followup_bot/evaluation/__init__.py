"""Grounding evaluation: datasets, metrics, the support judge's calibration, reports and plots.

`followup-bot eval` calls `run_cli` and `compare_cli`; tests and notebooks use the pieces
directly (`load_dataset`, `Scorer`, `aggregate`, `evaluate_judge`). Report keys follow
INTERFACES.md (see `metrics.METRICS`).
"""

from followup_bot.evaluation.aggregates import aggregate, by_category
from followup_bot.evaluation.citation_scores import alce_scores, citation_validity
from followup_bot.evaluation.compare import compare_cli, compare_rows, load_report
from followup_bot.evaluation.dataset import (
    CATEGORIES,
    CalibrationPair,
    DatasetError,
    EvalItem,
    load_calibration,
    load_dataset,
)
from followup_bot.evaluation.gate import EXIT_GATE_FAILED, Gate, GateError, check_gate, load_gate
from followup_bot.evaluation.item_scores import ItemScore, Scorer, retrieval_scores
from followup_bot.evaluation.judge_calibration import evaluate_judge
from followup_bot.evaluation.metrics import METRICS
from followup_bot.evaluation.runner import run_cli, run_eval

__all__ = [
    "CATEGORIES",
    "EXIT_GATE_FAILED",
    "METRICS",
    "CalibrationPair",
    "DatasetError",
    "EvalItem",
    "Gate",
    "GateError",
    "ItemScore",
    "Scorer",
    "aggregate",
    "alce_scores",
    "by_category",
    "check_gate",
    "citation_validity",
    "compare_cli",
    "compare_rows",
    "evaluate_judge",
    "load_calibration",
    "load_dataset",
    "load_gate",
    "load_report",
    "retrieval_scores",
    "run_cli",
    "run_eval",
]
