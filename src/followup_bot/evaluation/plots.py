"""PNG plots of a run and of a comparison (matplotlib, headless).

A heatmap rather than grouped bars for metrics by category: with ~15 metrics and 9 categories,
bars become unreadable, while a grid with the value written in every cell can be scanned for the
one red square. Metrics that do not apply to a category are left blank, not drawn as zero.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from followup_bot.evaluation.metrics import LOWER_IS_BETTER, NEUTRAL, RATE_METRICS
from followup_bot.evaluation.report import SHORT_NAMES, atomic_write


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()), binary=True)


def _goodness(metric: str, value: float) -> float:
    """Colour by how good a value is, so "forbidden 0.0" is green like "recall 1.0"."""
    if metric in LOWER_IS_BETTER:
        return 1.0 - value
    if metric in NEUTRAL:
        return 0.5
    return value


def metrics_heatmap(
    overall: Mapping[str, Any],
    by_category: Mapping[str, Mapping[str, Any]],
    path: Path,
    title: str = "Metrics by category",
) -> None:
    """Categories × rate metrics, with the overall row last; blank where a metric does not apply."""
    plt = _pyplot()
    import numpy as np

    rows = [*by_category.keys(), "overall"]
    metrics = list(RATE_METRICS)
    grid = np.full((len(rows), len(metrics)), np.nan)
    colour = np.full_like(grid, np.nan)
    for i, row in enumerate(rows):
        values = overall if row == "overall" else by_category[row]
        for j, m in enumerate(metrics):
            v = values.get(m)
            if isinstance(v, int | float) and not math.isnan(v):
                grid[i, j] = v
                colour[i, j] = _goodness(m, v)
    fig, ax = plt.subplots(figsize=(1.0 + 0.78 * len(metrics), 1.2 + 0.45 * len(rows)))
    cmap = plt.get_cmap("RdYlGn").copy()
    cmap = cmap.with_extremes(bad="#eeeeee")
    ax.imshow(np.ma.masked_invalid(colour), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(metrics)), [SHORT_NAMES.get(m, m) for m in metrics], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for i in range(len(rows)):
        for j in range(len(metrics)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7.5)
    ax.axhline(len(rows) - 1.5, color="black", linewidth=1)
    ax.set_title(title + " (green = good; grey = not applicable)")
    _save(fig, path)


def latency_histogram(
    latencies_by_category: Mapping[str, Sequence[float]], p50: float | None, p95: float | None, path: Path
) -> None:
    """Distribution of answer latency, stacked by category, with p50 and p95 marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    data = {k: [v for v in vals if v is not None] for k, vals in latencies_by_category.items()}
    data = {k: v for k, v in data.items() if v}
    if data:
        ax.hist(list(data.values()), bins=30, stacked=True, label=list(data.keys()))
        ax.legend(fontsize=7, ncol=2)
    for value, name, style in ((p50, "p50", "--"), (p95, "p95", ":")):
        if value is not None:
            ax.axvline(value, color="black", linestyle=style, linewidth=1)
            ax.text(value, ax.get_ylim()[1] * 0.95, f" {name} {value:.0f} ms", fontsize=8, va="top")
    ax.set_xlabel("answer latency (timings_ms.total), ms")
    ax.set_ylabel("items")
    ax.set_title("Latency per answer")
    _save(fig, path)


def comparison_plot(a: Mapping[str, Any], b: Mapping[str, Any], label_a: str, label_b: str, path: Path) -> None:
    """Overall metrics side by side, and the per-category change (B − A) as a heatmap."""
    plt = _pyplot()
    import numpy as np

    metrics = [m for m in RATE_METRICS if a["overall"].get(m) is not None or b["overall"].get(m) is not None]
    cats = [c for c in a.get("by_category", {}) if c in b.get("by_category", {})]
    cats += [c for c in b.get("by_category", {}) if c not in cats]
    fig, (ax1, ax2) = plt.subplots(
        2,
        1,
        figsize=(1.2 + 0.8 * len(metrics), 4.0 + 0.45 * max(1, len(cats))),
        gridspec_kw={"height_ratios": [1.2, max(1.0, 0.3 * len(cats))]},
    )
    x = np.arange(len(metrics))
    va = [a["overall"].get(m) or 0.0 for m in metrics]
    vb = [b["overall"].get(m) or 0.0 for m in metrics]
    ax1.bar(x - 0.2, va, 0.4, label=label_a)
    ax1.bar(x + 0.2, vb, 0.4, label=label_b)
    ax1.set_xticks(x, [SHORT_NAMES.get(m, m) for m in metrics], rotation=45, ha="right")
    ax1.set_ylim(0, 1.05)
    ax1.legend(fontsize=8)
    ax1.set_title("Overall")
    delta = np.full((len(cats), len(metrics)), np.nan)
    for i, cat in enumerate(cats):
        ca, cb = a.get("by_category", {}).get(cat, {}), b.get("by_category", {}).get(cat, {})
        for j, m in enumerate(metrics):
            if isinstance(ca.get(m), int | float) and isinstance(cb.get(m), int | float):
                d = cb[m] - ca[m]
                delta[i, j] = -d if m in LOWER_IS_BETTER else (0.0 if m in NEUTRAL else d)
                ax2.text(j, i, f"{cb[m] - ca[m]:+.2f}", ha="center", va="center", fontsize=7)
    cmap = plt.get_cmap("RdYlGn").copy()
    cmap = cmap.with_extremes(bad="#eeeeee")
    ax2.imshow(np.ma.masked_invalid(delta), cmap=cmap, vmin=-0.5, vmax=0.5, aspect="auto")
    ax2.set_xticks(range(len(metrics)), [SHORT_NAMES.get(m, m) for m in metrics], rotation=45, ha="right")
    ax2.set_yticks(range(len(cats)), cats)
    ax2.set_title(f"Change by category ({label_b} − {label_a}; green = better)")
    fig.tight_layout()
    _save(fig, path)


# Cell colours of the triage confusion plot: the right reply, a safety reply of the other kind
# (handled, not recalled), and a miss or a false alarm.
_RIGHT, _OTHER_SAFETY, _WRONG = (0.10, 0.60, 0.25), (0.95, 0.65, 0.10), (0.85, 0.15, 0.15)


def _triage_cell(expected: str, got: str) -> tuple[float, float, float]:
    if expected == got or (expected == "benign" and got == "none"):
        return _RIGHT
    if expected != "benign" and got != "none":
        return _OTHER_SAFETY
    return _WRONG


def triage_confusion(table: Mapping[str, Mapping[str, int]], path: Path) -> None:
    """Expected category (rows) x safety reply got (columns), counts and row shares in each cell.

    A cell's colour says what kind of outcome it is (green right, amber the other safety reply,
    red a miss or a false alarm) and its strength the share of the row, so one red cell with many
    items reads at a glance. Rows without items are grey.
    """
    plt = _pyplot()
    import numpy as np

    rows = list(table)
    cols = list(next(iter(table.values()))) if table else []
    rgba = np.ones((len(rows), len(cols), 4))
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(cols), 1.2 + 0.8 * len(rows)))
    for i, expected in enumerate(rows):
        total = sum(table[expected].values())
        for j, got in enumerate(cols):
            count = table[expected][got]
            share = count / total if total else 0.0
            rgba[i, j, :3] = _triage_cell(expected, got) if total else (0.93, 0.93, 0.93)
            rgba[i, j, 3] = 0.15 + 0.85 * share if total else 1.0
            label = f"{count}\n({share:.0%})" if total else "–"
            ax.text(j, i, label, ha="center", va="center", fontsize=10)
    ax.imshow(rgba, aspect="auto")
    ax.set_xticks(range(len(cols)), [f"got {c}" for c in cols])
    ax.set_yticks(range(len(rows)), [f"{r} (n={sum(table[r].values())})" for r in rows])
    ax.set_title("Safety triage: expected × reply (green right, amber other safety reply, red wrong)", fontsize=9)
    _save(fig, path)
