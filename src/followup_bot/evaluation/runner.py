"""Run every item of a dataset through the assistant, score it, and write the run's files.

The assistant is built once and asked every question in one process, as a user would ask them,
so the numbers describe the product (safety triage, follow-up resolution, framing and all), not
a test harness. Inputs are validated before the model loads, so a typo costs seconds, not a run.
`run_eval` returns an `EvalResult` and raises `DatasetError` for bad inputs; printing, argument
handling and exit codes belong to the CLI (`followup_bot.cli_eval`).
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from followup_bot.errors import ArticleError, DatasetError, InputError
from followup_bot.evaluation.aggregates import aggregate, by_category
from followup_bot.evaluation.dataset import EvalItem, load_calibration, load_dataset, unknown_categories
from followup_bot.evaluation.gate import Gate, GateResult, apply_gate
from followup_bot.evaluation.item_scores import ItemScore, Scorer
from followup_bot.evaluation.judge_calibration import evaluate_judge
from followup_bot.evaluation.metrics import METRICS
from followup_bot.evaluation.plots import latency_histogram, metrics_heatmap, triage_confusion
from followup_bot.evaluation.report import render_markdown, write_json, write_text
from followup_bot.evaluation.triage_scores import triage_section
from followup_bot.settings import Settings

RESULTS = "results.jsonl"
REPORT_JSON = "report.json"
REPORT_MD = "report.md"
PLOT_CATEGORIES = "metrics_by_category.png"
PLOT_LATENCY = "latency_hist.png"
PLOT_TRIAGE = "triage_confusion.png"

# Where notes for the person running the evaluation go (a skipped plot, an uncalibrated judge).
Log = Callable[[str], None]


@dataclass(eq=False)
class EvalResult(Mapping[str, Any]):
    """A finished run: the report (also readable as a mapping, `result["overall"]`), scores and files.

    `gate` is the gate's verdict when a gate was given; `notes` are the warnings of the run (they
    were also passed to `log` as they happened).
    """

    report: dict[str, Any]
    scores: list[ItemScore]
    out: Path
    files: list[str]
    gate: GateResult | None = None
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.report[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.report)

    def __len__(self) -> int:
        return len(self.report)

    @property
    def passed(self) -> bool:
        """True unless a gate was given and the run failed it."""
        return self.gate is None or self.gate.passed


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


def _ask(assistant: Any, item: EvalItem, article: str | None) -> tuple[Any, float, str | None]:
    t0 = time.perf_counter()
    try:
        answer = assistant.ask(item.question, history=item.history or None, audience=item.audience, article=article)
        return answer, (time.perf_counter() - t0) * 1000, None
    except InputError as exc:
        return None, (time.perf_counter() - t0) * 1000, f"input rejected: {exc}"
    except Exception as exc:  # noqa: BLE001 - one failing item is reported, not allowed to sink the run
        return None, (time.perf_counter() - t0) * 1000, f"{type(exc).__name__}: {exc}"


def _calibration(settings: Settings, judge: Any, note: Log) -> dict[str, Any]:
    path = settings.resolve(settings.eval.calibration)
    base = {"name": getattr(judge, "name", type(judge).__name__), "file": str(settings.eval.calibration)}
    try:
        pairs = load_calibration(path)
    except DatasetError as exc:
        note(f"judge not calibrated: {exc}")
        return {**base, "accuracy": None, "precision": None, "recall": None, "f1": None, "n": 0, "error": str(exc)}
    return {**base, **evaluate_judge(judge, pairs)}


def _scorers(
    assistant: Any, items: list[EvalItem], default: str | None, k: int, dataset: Path
) -> dict[str | None, Scorer]:
    """One scorer per article the items ask about (its chunks and judge); an unknown id names the item."""
    framing = framing_texts(assistant)
    scorers: dict[str | None, Scorer] = {}
    for item in items:
        article = item.article or default
        if article in scorers:
            continue
        try:
            view = assistant.article(article)
            judge = assistant.judge(article)
        except ArticleError as exc:
            where = f"{dataset}:{item.line} (id {item.id})" if item.article else "--article"
            raise DatasetError(f"{where}: {exc}") from None
        scorers[article] = Scorer(view.chunks, judge, k=k, framing=framing)
    return scorers


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
    article: str | None = None,
    log: Log | None = None,
) -> EvalResult:
    """Run the evaluation and write every file; the result holds the report (with `gate` when given).

    `assistant` may be passed in (tests reuse one); otherwise it is built from `settings`. Items
    without an `article` ask about `article` (None: the library's default article). A bad dataset,
    an unknown article or an `out` that is not a folder raise `DatasetError` before any item runs.
    """
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        if log is not None:
            log(message)

    items = load_dataset(dataset, limit=limit)
    for cat in unknown_categories(items):
        note(f"note: category '{cat}' is not one of INTERFACES.md's; it is scored like the others")
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} exists and is not a folder")
    started = time.perf_counter()
    timestamp = datetime.now(UTC).isoformat(timespec="seconds")
    if assistant is None:
        from followup_bot.assistant import Assistant

        if progress:
            from tqdm import tqdm

            assistant = Assistant.from_settings(
                settings,
                progress=lambda it, total, desc: tqdm(it, total=total, desc=desc, unit="text", file=sys.stderr),
            )
        else:
            assistant = Assistant.from_settings(settings)
    scorers = _scorers(assistant, items, article, settings.eval.k, dataset)
    out.mkdir(parents=True, exist_ok=True)

    scores: list[ItemScore] = []
    answers: dict[str, dict[str, Any]] = {}
    partial = out / (RESULTS + ".partial")
    with open(partial, "w", encoding="utf-8") as sink:
        for item in _progress(items) if progress else items:
            item_article = item.article or article
            answer, wall_ms, error = _ask(assistant, item, item_article)
            score = scorers[item_article].score(item, answer, latency_ms=wall_ms, error=error)
            scores.append(score)
            dumped = (
                answer.model_dump(mode="json")
                if answer is not None
                else {"answer": "", "refused": False, "triage": None, "triage_rule": None, "error": error}
            )
            answers[item.id] = dumped
            record = {
                "id": item.id,
                "category": item.category,
                "question": item.question,
                "audience": item.audience,
                "history_turns": len(item.history),
                "expect_refusal": item.expect_refusal,
                **({"article": item_article} if item_article is not None else {}),
                **({"kind": item.kind} if item.kind is not None else {}),
                **({"has_drug": item.has_drug} if item.has_drug is not None else {}),
                **dumped,
                "scores": score.as_dict(),
            }
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
    partial.replace(out / RESULTS)

    judge_report = _calibration(settings, assistant.judge(article), note)
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
            "article": assistant.article(article).id,
            "timestamp": timestamp,
            "duration_s": round(time.perf_counter() - started, 1),
            "python": platform.python_version(),
        },
        "metrics": list(METRICS),
    }
    triage = triage_section(scores)
    if triage is not None:
        report["triage"] = triage
    verdict = apply_gate(gate, report) if gate is not None else None
    if verdict is not None:
        report["gate"] = verdict.as_dict()

    lat: dict[str, list[float]] = {}
    for s in scores:
        if s.latency_ms is not None and s.error is None:
            lat.setdefault(s.category, []).append(s.latency_ms)
    drawings: list[tuple[str, Callable[[Path], None]]] = [
        (PLOT_CATEGORIES, lambda path: metrics_heatmap(overall, cats, path)),
        (
            PLOT_LATENCY,
            lambda path: latency_histogram(lat, overall.get("latency_ms_p50"), overall.get("latency_ms_p95"), path),
        ),
    ]
    if triage is not None:
        table = triage["confusion"]
        drawings.append((PLOT_TRIAGE, lambda path: triage_confusion(table, path)))
    plots = []
    for name, draw in drawings:
        try:
            draw(out / name)
            plots.append(name)
        except Exception as exc:  # noqa: BLE001 - a plotting failure must not lose the numbers
            note(f"plot {name} not written: {exc}")
    report["plots"] = plots
    write_json(out / REPORT_JSON, report)
    write_text(out / REPORT_MD, render_markdown(report, scores, answers, {i.id: i.question for i in items}, plots))
    files = [RESULTS, REPORT_JSON, REPORT_MD, *plots]
    return EvalResult(report=report, scores=scores, out=out, files=files, gate=verdict, notes=notes)


__all__ = ["EvalResult", "framing_texts", "run_eval"]
