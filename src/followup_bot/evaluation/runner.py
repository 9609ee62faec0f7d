"""`followup-bot eval --dataset FILE --out DIR`: run every item through the assistant, score, report.

The assistant is built once and asked every question in one process, as a user would ask them,
so the numbers describe the product (safety triage, follow-up resolution, framing and all), not
a test harness. Inputs are validated before the model loads, so a typo costs seconds, not a run.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from followup_bot.evaluation.aggregates import aggregate, by_category
from followup_bot.evaluation.dataset import DatasetError, EvalItem, load_calibration, load_dataset, unknown_categories
from followup_bot.evaluation.gate import EXIT_GATE_FAILED, Gate, GateError, check_gate, load_gate
from followup_bot.evaluation.item_scores import ItemScore, Scorer
from followup_bot.evaluation.judge_calibration import evaluate_judge
from followup_bot.evaluation.metrics import METRICS
from followup_bot.evaluation.plots import latency_histogram, metrics_heatmap
from followup_bot.evaluation.report import atomic_write, fmt, render_markdown, write_json, write_text
from followup_bot.settings import Settings

RESULTS = "results.jsonl"
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PLOT_CATEGORIES = "metrics_by_category.png"
PLOT_LATENCY = "latency_hist.png"


def _user_error(message: str) -> Exception:
    from followup_bot.cli import UserError

    return UserError(message)


def framing_texts(assistant: Any) -> list[str]:
    """The fixed texts the assistant may wrap answers in (rendered), so scoring can set them aside."""
    return list(assistant.framing_texts())


def _progress(items: list[EvalItem]) -> Any:
    from tqdm import tqdm

    tty = sys.stderr.isatty()
    return tqdm(
        items,
        total=len(items),
        desc="eval",
        unit="item",
        file=sys.stderr,
        mininterval=0.2 if tty else 5.0,
        dynamic_ncols=tty,
    )


def _ask(assistant: Any, item: EvalItem) -> tuple[Any, float, str | None]:
    from followup_bot.assistant import InputError

    t0 = time.perf_counter()
    try:
        answer = assistant.ask(item.question, history=item.history or None, audience=item.audience)
        return answer, (time.perf_counter() - t0) * 1000, None
    except InputError as exc:
        return None, (time.perf_counter() - t0) * 1000, f"input rejected: {exc}"
    except Exception as exc:  # noqa: BLE001 - one failing item is reported, not allowed to sink the run
        return None, (time.perf_counter() - t0) * 1000, f"{type(exc).__name__}: {exc}"


def _calibration(settings: Settings, judge: Any) -> dict[str, Any]:
    path = settings.resolve(settings.eval.calibration)
    base = {"name": getattr(judge, "name", type(judge).__name__), "file": str(settings.eval.calibration)}
    try:
        pairs = load_calibration(path)
    except DatasetError as exc:
        sys.stderr.write(f"followup-bot: judge not calibrated: {exc}\n")
        return {**base, "accuracy": None, "precision": None, "recall": None, "f1": None, "n": 0, "error": str(exc)}
    return {**base, **evaluate_judge(judge, pairs)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def run_eval(
    settings: Settings,
    dataset: Path,
    out: Path,
    gate: Gate | None = None,
    limit: int | None = None,
    assistant: Any = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the evaluation and write every file; returns the report (with `gate` when given).

    `assistant` may be passed in (tests reuse one); otherwise it is built from `settings`.
    """
    items = load_dataset(dataset, limit=limit)
    for cat in unknown_categories(items):
        sys.stderr.write(
            f"followup-bot: note: category '{cat}' is not one of INTERFACES.md's; it is scored like the others\n"
        )
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    timestamp = datetime.now(UTC).isoformat(timespec="seconds")
    if assistant is None:
        from tqdm import tqdm

        from followup_bot.assistant import Assistant

        assistant = Assistant.from_settings(
            settings, progress=lambda it, total, desc: tqdm(it, total=total, desc=desc, unit="text", file=sys.stderr)
        )
    scorer = Scorer(assistant.article().chunks, assistant.judge(), k=settings.eval.k, framing=framing_texts(assistant))

    scores: list[ItemScore] = []
    answers: dict[str, dict[str, Any]] = {}
    partial = out / (RESULTS + ".partial")
    with open(partial, "w", encoding="utf-8") as sink:
        for item in _progress(items) if progress else items:
            answer, wall_ms, error = _ask(assistant, item)
            score = scorer.score(item, answer, latency_ms=wall_ms, error=error)
            scores.append(score)
            dumped = (
                answer.model_dump(mode="json")
                if answer is not None
                else {"answer": "", "refused": False, "error": error}
            )
            answers[item.id] = dumped
            record = {
                "id": item.id,
                "category": item.category,
                "question": item.question,
                "audience": item.audience,
                "history_turns": len(item.history),
                "expect_refusal": item.expect_refusal,
                **dumped,
                "scores": score.as_dict(),
            }
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.replace(out / RESULTS)

    judge_report = _calibration(settings, assistant.judge())
    overall, n_overall = aggregate(scores)
    cats, n_cats = by_category(scores)
    generator = assistant.generator_info
    counts: dict[str, Any] = {
        "items": len(scores),
        "errors": sum(1 for s in scores if s.error),
        "refused": sum(1 for s in scores if s.refused),
        "expect_refusal": sum(1 for s in scores if s.expect_refusal),
        "passed": sum(1 for s in scores if s.passed),
        "fallback_answers": sum(1 for a in answers.values() if (a.get("generator") or {}).get("fallback")),
        "by_category": {c: sum(1 for s in scores if s.category == c) for c in cats},
    }
    report: dict[str, Any] = {
        "overall": overall,
        "by_category": cats,
        "judge": judge_report,
        "counts": counts,
        "n": {"overall": n_overall, "by_category": n_cats},
        "run": {
            "config_fingerprint": settings.fingerprint(),
            "provider": generator.provider,
            "model": generator.model,
            "judge": judge_report.get("name"),
            "dataset": str(dataset),
            "dataset_sha256": _sha256(dataset),
            "limit": limit,
            "k": settings.eval.k,
            "timestamp": timestamp,
            "duration_s": round(time.perf_counter() - started, 1),
            "python": platform.python_version(),
        },
        "metrics": list(METRICS),
    }
    if gate is not None:
        failed = check_gate(gate, report)
        report["gate"] = {"file": gate.file, "passed": not failed, "failures": failed}

    plots = []
    try:
        metrics_heatmap(overall, cats, out / PLOT_CATEGORIES)
        plots.append(PLOT_CATEGORIES)
        lat: dict[str, list[float]] = {}
        for s in scores:
            if s.latency_ms is not None and s.error is None:
                lat.setdefault(s.category, []).append(s.latency_ms)
        latency_histogram(lat, overall.get("latency_ms_p50"), overall.get("latency_ms_p95"), out / PLOT_LATENCY)
        plots.append(PLOT_LATENCY)
    except Exception as exc:  # noqa: BLE001 - a plotting failure must not lose the numbers
        sys.stderr.write(f"followup-bot: plots not written: {exc}\n")
    report["plots"] = plots
    write_json(out / REPORT_JSON, report)
    write_text(out / REPORT_MD, render_markdown(report, scores, answers, {i.id: i.question for i in items}, plots))
    return report


def summary_text(report: dict[str, Any], out: Path) -> str:
    overall = report["overall"]
    judge = report["judge"]
    width = max(len(m) for m in METRICS)
    lines = [f"{m:<{width}}  {fmt(overall.get(m), m)}" for m in METRICS]
    lines.append(
        f"{'judge accuracy':<{width}}  {fmt(judge.get('accuracy'))}  (precision {fmt(judge.get('precision'))}, "
        f"recall {fmt(judge.get('recall'))}, n={judge.get('n')})"
    )
    lines.append(
        f"{report['counts']['items']} items, {report['counts']['errors']} errors; wrote {out}/"
        f"{{{RESULTS},{REPORT_JSON},{REPORT_MD},{','.join(report.get('plots', []))}}}"
    )
    return "\n".join(lines)


def run_cli(
    settings: Settings,
    dataset: Path,
    out: Path,
    gate: Path | None = None,
    limit: int | None = None,
    as_json: bool = False,
) -> int:
    """The CLI entry: 0 on success, 3 when the gate fails; bad inputs raise UserError (exit 2)."""
    try:
        gate_obj = load_gate(gate) if gate is not None else None
        load_dataset(dataset, limit=limit)  # fail fast, before the model loads
        report = run_eval(settings, dataset, out, gate=gate_obj, limit=limit)
    except (DatasetError, GateError) as exc:
        raise _user_error(str(exc)) from None
    if as_json:
        payload = {k: report[k] for k in ("overall", "by_category", "judge", "counts", "run")}
        payload["judge"] = {k: v for k, v in report["judge"].items() if k != "mistakes"}
        payload["out"] = str(out)
        if "gate" in report:
            payload["gate"] = report["gate"]
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(summary_text(report, out) + "\n")
    gate_report = report.get("gate")
    if gate_report and not gate_report["passed"]:
        sys.stderr.write(f"followup-bot: eval gate failed ({gate_report['file']}):\n")
        for failure in gate_report["failures"]:
            sys.stderr.write(f"  - {failure}\n")
        return EXIT_GATE_FAILED
    if gate_report:
        sys.stderr.write(f"eval gate passed ({gate_report['file']})\n")
    return 0


__all__ = ["atomic_write", "framing_texts", "run_cli", "run_eval", "summary_text"]
