"""Two finished runs side by side (`followup-bot eval --compare DIR_A DIR_B`).

Developers who swap a model or a setting need to see what moved, per metric and per category,
and whether the move is good: the table marks each change "better" or "worse" according to the
metric's direction (a lower forbidden rate or latency is better). Runs on different datasets are
compared anyway, with a warning, because the numbers are then not directly comparable.
`compare_runs` returns a `Comparison` and raises `CompareError`; the CLI prints it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followup_bot.errors import CompareError
from followup_bot.evaluation.metrics import LOWER_IS_BETTER, METRICS, NEUTRAL
from followup_bot.evaluation.report import fmt, md_table, write_json, write_text

COMPARE_MD = "compare.md"
COMPARE_PNG = "compare.png"
COMPARE_JSON = "compare.json"


def load_report(folder: Path) -> dict[str, Any]:
    path = folder / "report.json" if folder.is_dir() or not folder.name.endswith(".json") else folder
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CompareError(
            f"no report.json in {folder} (run `followup-bot eval --dataset FILE --out {folder}` first)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompareError(f"{path} is not a readable report ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("overall"), dict):
        raise CompareError(f"{path} has no 'overall' section; is it an eval report?")
    return data


def verdict(metric: str, a: Any, b: Any, tolerance: float = 1e-9) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return ""
    delta = b - a
    if metric in NEUTRAL or abs(delta) <= tolerance:
        return ""
    if metric.startswith("latency"):
        # Latency moves a little on every run; only a change of over 10% is worth a word.
        if abs(delta) <= 0.10 * max(abs(a), 1.0):
            return ""
    better = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return "better" if better else "worse"


def _delta(metric: str, a: Any, b: Any) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return "–"
    d = b - a
    return f"{d:+.0f}" if metric.startswith("latency") else f"{d:+.3f}"


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (scope, metric): scope is "overall" or a category present in either run."""
    rows = []
    scopes = [("overall", a.get("overall", {}), b.get("overall", {}))]
    cats = list(a.get("by_category", {}))
    cats += [c for c in b.get("by_category", {}) if c not in cats]
    scopes += [(c, a.get("by_category", {}).get(c, {}), b.get("by_category", {}).get(c, {})) for c in cats]
    for scope, va, vb in scopes:
        for m in METRICS:
            x, y = va.get(m), vb.get(m)
            if x is None and y is None:
                continue
            rows.append(
                {
                    "scope": scope,
                    "metric": m,
                    "a": x,
                    "b": y,
                    "delta": (y - x) if isinstance(x, int | float) and isinstance(y, int | float) else None,
                    "verdict": verdict(m, x, y),
                }
            )
    ja, jb = a.get("judge", {}), b.get("judge", {})
    for m in ("accuracy", "precision", "recall", "f1"):
        if ja.get(m) is not None or jb.get(m) is not None:
            rows.append(
                {
                    "scope": "judge",
                    "metric": m,
                    "a": ja.get(m),
                    "b": jb.get(m),
                    "delta": (jb[m] - ja[m])
                    if isinstance(ja.get(m), int | float) and isinstance(jb.get(m), int | float)
                    else None,
                    "verdict": verdict(m, ja.get(m), jb.get(m)),
                }
            )
    return rows


def _label(report: dict[str, Any], folder: Path) -> str:
    run = report.get("run", {})
    return f"{folder.name or folder} ({run.get('provider', '?')}/{run.get('model', '?')}, {run.get('config_fingerprint', '?')})"


def render(
    a: dict[str, Any], b: dict[str, Any], dir_a: Path, dir_b: Path, rows: list[dict[str, Any]], markdown: bool
) -> str:
    la, lb = _label(a, dir_a), _label(b, dir_b)
    notes = []
    da, db = a.get("run", {}).get("dataset_sha256"), b.get("run", {}).get("dataset_sha256")
    if da and db and da != db:
        notes.append(
            f"warning: the runs used different datasets ({a['run'].get('dataset')} vs {b['run'].get('dataset')}); "
            "numbers are not directly comparable"
        )
    header = ["scope", "metric", "A", "B", "Δ (B−A)", ""]
    table = [
        [
            r["scope"],
            r["metric"],
            fmt(r["a"], r["metric"]),
            fmt(r["b"], r["metric"]),
            _delta(r["metric"], r["a"], r["b"]),
            r["verdict"],
        ]
        for r in rows
    ]
    worse = [f"{r['scope']}.{r['metric']}" for r in rows if r["verdict"] == "worse"]
    better = [f"{r['scope']}.{r['metric']}" for r in rows if r["verdict"] == "better"]
    summary = f"{len(better)} better, {len(worse)} worse" + (
        f"; worse: {', '.join(worse[:12])}" + ("…" if len(worse) > 12 else "") if worse else ""
    )
    if markdown:
        parts = ["# Evaluation comparison", "", f"- A: `{dir_a}` — {la}", f"- B: `{dir_b}` — {lb}", ""]
        parts += [f"> {n}" for n in notes] + ([""] if notes else [])
        parts += [summary, "", f"![comparison]({COMPARE_PNG})", ""]
        overall_rows = [r for r, raw in zip(table, rows, strict=True) if raw["scope"] in ("overall", "judge")]
        parts += ["## Overall", "", md_table(header, overall_rows), "", "## By category", ""]
        parts += [
            md_table(
                header, [r for r, raw in zip(table, rows, strict=True) if raw["scope"] not in ("overall", "judge")]
            ),
            "",
        ]
        return "\n".join(parts)
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header))]
    lines = [f"A: {dir_a}  {la}", f"B: {dir_b}  {lb}", *notes, ""]
    lines.append("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    previous = None
    for row in table:
        if previous is not None and row[0] != previous:
            lines.append("")
        previous = row[0]
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    lines += ["", summary]
    return "\n".join(lines)


@dataclass(eq=False)
class Comparison:
    """Two runs' reports, the rows that compare them, and the files written (with `out`)."""

    a: dict[str, Any]
    b: dict[str, Any]
    dir_a: Path
    dir_b: Path
    rows: list[dict[str, Any]]
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """What compare.json holds (and `--json` prints)."""
        return {"a": str(self.dir_a), "b": str(self.dir_b), "rows": self.rows}

    def render(self, markdown: bool = False) -> str:
        return render(self.a, self.b, self.dir_a, self.dir_b, self.rows, markdown=markdown)


def compare_runs(dir_a: Path, dir_b: Path, out: Path | None = None) -> Comparison:
    """Compare two runs; with `out`, also write compare.md, compare.json and compare.png there.

    A missing or malformed report, or an `out` that is not a folder, raises `CompareError`. A plot
    that cannot be drawn is a note on the result, not an error: the table is the result.
    """
    dir_a, dir_b = Path(dir_a), Path(dir_b)
    a, b = load_report(dir_a), load_report(dir_b)
    result = Comparison(a, b, dir_a, dir_b, compare_rows(a, b))
    if out is None:
        return result
    if out.exists() and not out.is_dir():
        raise CompareError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / COMPARE_JSON, result.as_dict())
    write_text(out / COMPARE_MD, result.render(markdown=True) + "\n")
    result.files += [COMPARE_JSON, COMPARE_MD]
    try:
        from followup_bot.evaluation.plots import comparison_plot

        comparison_plot(a, b, f"A: {dir_a.name}", f"B: {dir_b.name}", out / COMPARE_PNG)
        result.files.append(COMPARE_PNG)
    except Exception as exc:  # noqa: BLE001 - the table is the result; the plot is a convenience
        result.notes.append(f"comparison plot not written: {exc}")
    return result


__all__ = ["Comparison", "compare_rows", "compare_runs", "load_report", "render", "verdict"]
