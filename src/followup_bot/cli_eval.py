"""`followup-bot eval`: the command-line side of the evaluation (arguments, printing, exit codes).

The evaluation package returns results and raises typed errors (`DatasetError`, `GateError`,
`CompareError`, all user errors that `cli.main` turns into exit 2); this module reads the
arguments, prints the summary (or JSON with `--json`), and returns the exit code: 0, or 3
(`GateFailed.exit_code`) when the run failed its gate, after every file has been written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from followup_bot.errors import UserError
from followup_bot.evaluation.compare import compare_runs
from followup_bot.evaluation.gate import load_gate
from followup_bot.evaluation.metrics import METRICS
from followup_bot.evaluation.report import fmt
from followup_bot.evaluation.runner import REPORT_JSON, REPORT_MD, RESULTS, run_eval
from followup_bot.settings import Settings

# The report sections `--json` prints (the per-item detail stays in the files).
JSON_SECTIONS = ("overall", "by_category", "judge", "counts", "run")


def _note(message: str) -> None:
    sys.stderr.write(f"followup-bot: {message}\n")


def eval_command(args: argparse.Namespace, settings: Settings) -> int:
    """`followup-bot eval --dataset FILE --out DIR [--gate FILE] [--limit N]` or `--compare DIR_A DIR_B`."""
    if args.compare:
        return compare_command(
            Path(args.compare[0]), Path(args.compare[1]), out=Path(args.out) if args.out else None, as_json=args.json
        )
    if not args.dataset or not args.out:
        raise UserError("eval needs --dataset FILE and --out DIR (or --compare DIR_A DIR_B)")
    return run_command(
        settings,
        Path(args.dataset),
        Path(args.out),
        gate=Path(args.gate) if args.gate else None,
        limit=args.limit,
        as_json=args.json,
        article=getattr(args, "article", None),
    )


def summary_text(report: dict[str, Any], out: Path) -> str:
    overall = report["overall"]
    judge = report["judge"]
    width = max(len(m) for m in METRICS)
    lines = [f"{m:<{width}}  {fmt(overall.get(m), m)}" for m in METRICS]
    lines.append(
        f"{'judge accuracy':<{width}}  {fmt(judge.get('accuracy'))}  (precision {fmt(judge.get('precision'))}, "
        f"recall {fmt(judge.get('recall'))}, n={judge.get('n')})"
    )
    triage = report.get("triage")
    if triage:
        lines.append(
            f"{'triage':<{width}}  emergency recall {fmt(triage.get('emergency_recall'))} "
            f"(handled {fmt(triage.get('emergency_handled'))}), crisis recall {fmt(triage.get('crisis_recall'))} "
            f"(handled {fmt(triage.get('crisis_handled'))}), false alarms {fmt(triage.get('false_alarm_rate'))}"
        )
    lines.append(
        f"{report['counts']['items']} items, {report['counts']['errors']} errors; wrote {out}/"
        f"{{{RESULTS},{REPORT_JSON},{REPORT_MD},{','.join(report.get('plots', []))}}}"
    )
    return "\n".join(lines)


def run_command(
    settings: Settings,
    dataset: Path,
    out: Path,
    gate: Path | None = None,
    limit: int | None = None,
    as_json: bool = False,
    article: str | None = None,
) -> int:
    """Run the evaluation and print its summary: 0, or 3 when the gate fails; bad inputs raise user errors."""
    gate_obj = load_gate(gate) if gate is not None else None  # a bad gate file fails before the model loads
    result = run_eval(settings, dataset, out, gate=gate_obj, limit=limit, article=article, log=_note)
    report = result.report
    if as_json:
        payload = {k: report[k] for k in JSON_SECTIONS}
        payload["judge"] = {k: v for k, v in report["judge"].items() if k != "mistakes"}
        if "triage" in report:
            payload["triage"] = report["triage"]
        payload["out"] = str(out)
        if "gate" in report:
            payload["gate"] = report["gate"]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(summary_text(report, out) + "\n")
    if result.gate is None:
        return 0
    failed = result.gate.error()
    if failed is not None:
        _note(str(failed))
        return failed.exit_code
    sys.stderr.write(f"eval gate passed ({result.gate.file})\n")
    return 0


def compare_command(dir_a: Path, dir_b: Path, out: Path | None = None, as_json: bool = False) -> int:
    """Print the comparison of two runs; with `out`, the files are written there too."""
    comparison = compare_runs(dir_a, dir_b, out=out)
    if as_json:
        sys.stdout.write(json.dumps(comparison.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(comparison.render(markdown=False) + "\n")
    for note in comparison.notes:
        _note(note)
    if out is not None and not as_json:
        sys.stderr.write(f"wrote {', '.join(str(out / f) for f in comparison.files)}\n")
    return 0


# The names `followup_bot.evaluation` exported before the CLI code moved here.
run_cli = run_command
compare_cli = compare_command

__all__ = ["compare_cli", "compare_command", "eval_command", "run_cli", "run_command", "summary_text"]
