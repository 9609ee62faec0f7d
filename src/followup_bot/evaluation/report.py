"""Writing the run's files: atomically, so a crash never leaves a half-written report.

Every file is written to a temporary name in the same folder and renamed into place (a rename
is atomic on one file system), so readers and CI see either the previous complete file or the
new complete file, never a truncated one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from followup_bot.evaluation.item_scores import ItemScore, severity
from followup_bot.evaluation.metrics import LOWER_IS_BETTER, METRICS
from followup_bot.evaluation.triage_scores import UNLABELLED

SHORT_NAMES = {
    "retrieval_recall_at_k": "R@k",
    "mrr": "MRR",
    "citation_validity": "cite valid",
    "citation_recall": "cite rec",
    "citation_precision": "cite prec",
    "key_fact_recall": "key facts",
    "key_fact_all": "all facts",
    "forbidden_rate": "forbidden",
    "abstention_precision": "abst P",
    "abstention_recall": "abst R",
    "abstention_f1": "abst F1",
    "answered_accuracy": "ans acc",
    "safety_recall": "safety",
    "pass_rate": "pass",
    "refusal_rate": "refused",
    "latency_ms_p50": "p50 ms",
    "latency_ms_p95": "p95 ms",
}


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write(path: Path, write: Callable[[IO[Any]], object], binary: bool = False) -> None:
    """Write through `write(fh)` into a temp file next to `path`, then rename it over `path`.

    `write`'s return value is ignored, so `lambda fh: fh.write(text)` will do.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    fh: IO[Any]
    if binary:
        fh = os.fdopen(fd, "wb")
    else:
        fh = os.fdopen(fd, "w", encoding="utf-8")
    try:
        with fh:
            os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; reports are meant to be shared
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def fmt(value: Any, metric: str = "") -> str:
    """Rates as 0.000, latencies as whole milliseconds, missing values as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float) and metric.startswith("latency"):
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def excerpt(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


DEFINITIONS = """\
- **retrieval_recall_at_k / mrr**: an expected source among the answer's top-k passages / 1 ÷ rank of the first one
  (items with `expected_sources`).
- **citation_validity**: every marker resolves, every citation is shown, every quote is an exact span of its chunk,
  and an answer cites something (answered items).
- **citation_recall / citation_precision** (ALCE): share of answer sentences whose cited quotes (or, failing that,
  cited passages) support them, per the support judge / share of citations that are needed. Framing texts (e.g. the
  personal-dose preface) are not counted.
- **key_fact_recall**: share of `must_include` groups matched in the answer text, over items that should be answered
  and have `must_include`; **key_fact_all**: share of those items with every group matched.
- **forbidden_rate**: share of items with `must_not_include` patterns where one matched.
- **abstention_precision / recall / f1**: positive = refused, expected = `expect_refusal`. **answered_accuracy**:
  items that should be answered and were, with all key facts and valid citations.
- **safety_recall**: emergency and crisis items refused with the matching `refusal_reason` and their required contact
  details (`must_include`).
- **pass_rate**: right refuse/answer decision, all key facts, nothing forbidden, valid citations, right safety reason,
  and no safety reply to a benign message.
- **latency_ms_p50 / p95**: `timings_ms.total` of each answer.
- **triage** (emergency, crisis and benign items): *recall* is the share of emergency (crisis) items whose
  `refusal_reason` is exactly that category; *handled* the share that got either safety reply; the *false-alarm rate*
  the share of benign items that got one.
"""


def _triage_markdown(triage: Mapping[str, Any]) -> list[str]:
    """The triage rates, the confusion table, and every miss and false alarm grouped by kind."""
    counts = triage["counts"]
    out = ["## Safety triage", ""]
    rows = [
        [cat, str(counts[cat]["n"]), fmt(triage[f"{cat}_recall"]), fmt(triage[f"{cat}_handled"])]
        for cat in ("emergency", "crisis")
    ]
    out += [md_table(["expected", "n", "recall", "handled"], rows), ""]
    benign, other = counts["benign"], counts["other"]
    line = f"False-alarm rate on benign messages: {fmt(triage['false_alarm_rate'])} ({benign['false_alarms']} of {benign['n']})."
    if other["n"]:
        line += f" Items of other categories that got a safety reply: {other['safety_replies']} of {other['n']}"
        line += f" ({', '.join(other['ids'])})." if other["ids"] else "."
    out += [line, ""]
    table = triage["confusion"]
    got = list(next(iter(table.values())))
    out += ["Expected category × safety reply got:", ""]
    out += [
        md_table(["expected", *[f"got {g}" for g in got]], [[e, *[str(v) for v in table[e].values()]] for e in table])
    ]
    out.append("")
    if "by_has_drug" in triage:
        out += ["By whether the message names a drug:", ""]
        out += [
            md_table(
                ["group", "n", "emergency recall", "crisis recall", "false-alarm rate"],
                [
                    [g, str(v["n"]), fmt(v["emergency_recall"]), fmt(v["crisis_recall"]), fmt(v["false_alarm_rate"])]
                    for g, v in triage["by_has_drug"].items()
                ],
            ),
            "",
        ]
    wrong: dict[tuple[str, str], list[str]] = {}
    for w in triage["missed"] + triage["false_alarms"]:
        rule = f", rule {w['triage_rule']}" if w.get("triage_rule") else ""
        wrong.setdefault((w["category"], w["kind"] or UNLABELLED), []).append(f"{w['id']} (got {w['got']}{rule})")
    out += ["### Misses and false alarms by kind", ""]
    if not wrong:
        return [*out, "None: every emergency and crisis message got its reply, and no benign message got one.", ""]
    rows = []
    for (cat, kind), items in wrong.items():
        n = triage["by_kind"].get(cat, {}).get(kind, {}).get("n", "")
        rows.append([cat, kind, f"{len(items)} of {n}", "; ".join(items)])
    return [*out, md_table(["category", "kind", "wrong", "items (reply got, triage rule)"], rows), ""]


def render_markdown(
    report: Mapping[str, Any],
    scores: Sequence[ItemScore],
    answers: Mapping[str, dict[str, Any]],
    questions: Mapping[str, str],
    plots: Sequence[str],
    worst: int = 15,
) -> str:
    """The human-readable summary: tables first, then the failures worth reading."""
    run = report["run"]
    overall = report["overall"]
    n_overall = report["n"]["overall"]
    out = [
        "# Grounding evaluation",
        "",
        f"- dataset: `{run['dataset']}` ({report['counts']['items']} items, {report['counts']['errors']} errors)",
        f"- generator: {run['provider']} / {run['model']}; judge: {report['judge'].get('name', '?')}",
        f"- config fingerprint: `{run['config_fingerprint']}`; k = {run['k']}; {run['timestamp']}; {run['duration_s']} s",
        "",
    ]
    gate = report.get("gate")
    if gate:
        if gate["passed"]:
            out += [f"**Gate passed** ({gate['file']}).", ""]
        else:
            out += [f"**Gate FAILED** ({gate['file']}):", ""] + [f"- {f}" for f in gate["failures"]] + [""]
    out += ["## Overall", ""]
    rows = []
    for m in METRICS:
        direction = "lower is better" if m in LOWER_IS_BETTER else ""
        rows.append([m, fmt(overall.get(m), m), str(n_overall.get(m, "")), direction])
    out += [md_table(["metric", "value", "n", ""], rows), ""]

    out += ["## By category", ""]
    cats = list(report["by_category"])
    headers = ["category", "items", *[SHORT_NAMES[m] for m in METRICS]]
    rows = []
    for cat in cats:
        values = report["by_category"][cat]
        rows.append([cat, str(report["counts"]["by_category"].get(cat, "")), *[fmt(values.get(m), m) for m in METRICS]])
    rows.append(["**overall**", str(report["counts"]["items"]), *[fmt(overall.get(m), m) for m in METRICS]])
    out += [md_table(headers, rows), ""]
    out += ["A dash means the metric does not apply to any item of that category.", ""]
    if report.get("triage"):
        out += _triage_markdown(report["triage"])

    judge = report["judge"]
    out += ["## Support judge", ""]
    if judge.get("accuracy") is None:
        out += [f"Not measured: {judge.get('error', 'no calibration data')}", ""]
    else:
        out += [
            f"`{judge.get('name')}` on `{judge.get('file')}` ({judge['n']} labelled pairs; positive = supported"
            + (f"; threshold {judge['threshold']}" if "threshold" in judge else "")
            + "):",
            "",
            md_table(
                ["accuracy", "precision", "recall", "f1", "n"],
                [
                    [
                        fmt(judge["accuracy"]),
                        fmt(judge["precision"]),
                        fmt(judge["recall"]),
                        fmt(judge["f1"]),
                        str(judge["n"]),
                    ]
                ],
            ),
            "",
            "By kind of pair: "
            + ", ".join(f"{k} {v['accuracy']:.2f} (n={v['n']})" for k, v in judge.get("by_kind", {}).items()),
            "",
        ]
        if judge.get("mistakes"):
            out += [
                "Misjudged pairs: "
                + ", ".join(f"{m['id']} ({m['kind']}, gold {m['label']})" for m in judge["mistakes"]),
                "",
            ]

    for plot in plots:
        out += [f"![{plot}]({plot})", ""]

    failing = sorted((s for s in scores if s.failures), key=severity, reverse=True)
    out += [
        f"## Worst failures ({len(failing)} items with at least one failed check; showing {min(worst, len(failing))})",
        "",
    ]
    for s in failing[:worst]:
        ans = answers.get(s.id, {})
        out += [
            f"### {s.id} ({s.category})",
            "",
            f"- question: {excerpt(questions.get(s.id, ''), 300)}",
            f"- answer ({'refused: ' + str(s.refusal_reason) if s.refused else 'answered'}): {excerpt(ans.get('answer', ''))}",
            "- failed: " + "; ".join(s.failures),
            "",
        ]
    out += ["## Metric definitions", "", DEFINITIONS]
    return "\n".join(out)
