"""Aggregates over a group of item scores: the numbers of `report.json`'s `overall` and `by_category`.

Each metric is the mean over the items it applies to (`None` scores are skipped, not counted as
0), and its `n` is how many items that was; abstention precision and recall count refusals as the
positive class; latency percentiles interpolate like numpy's default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from followup_bot.evaluation.item_scores import ItemScore


def _mean(values: Iterable[float | None]) -> tuple[float | None, int]:
    vals = [v for v in values if v is not None]
    return (sum(vals) / len(vals), len(vals)) if vals else (None, 0)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), without needing numpy here."""
    vals = sorted(v for v in values if v is not None and not math.isnan(v))
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def aggregate(scores: Sequence[ItemScore]) -> tuple[dict[str, float | None], dict[str, int]]:
    """(metric -> value, metric -> number of items it was computed on) for a group of items."""
    m: dict[str, float | None] = {}
    n: dict[str, int] = {}
    m["retrieval_recall_at_k"], n["retrieval_recall_at_k"] = _mean(s.retrieval_hit for s in scores)
    m["mrr"], n["mrr"] = _mean(s.reciprocal_rank for s in scores)
    m["citation_validity"], n["citation_validity"] = _mean(s.citation_valid for s in scores)
    m["citation_recall"], n["citation_recall"] = _mean(s.citation_recall for s in scores)
    m["citation_precision"], n["citation_precision"] = _mean(s.citation_precision for s in scores)
    facts = [s for s in scores if s.key_facts_total]
    matched = sum(s.key_facts_matched or 0 for s in facts)
    total = sum(s.key_facts_total or 0 for s in facts)
    m["key_fact_recall"], n["key_fact_recall"] = (matched / total if total else None), len(facts)
    m["key_fact_all"], n["key_fact_all"] = _mean(s.key_fact_all for s in scores)
    m["forbidden_rate"], n["forbidden_rate"] = _mean(s.forbidden for s in scores)
    tp = sum(1 for s in scores if s.refused and s.expect_refusal)
    fp = sum(1 for s in scores if s.refused and not s.expect_refusal)
    fn = sum(1 for s in scores if not s.refused and s.expect_refusal)
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    m["abstention_precision"], n["abstention_precision"] = precision, tp + fp
    m["abstention_recall"], n["abstention_recall"] = recall, tp + fn
    if precision is not None and recall is not None:
        m["abstention_f1"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    else:
        m["abstention_f1"] = None
    n["abstention_f1"] = tp + fp + fn
    m["answered_accuracy"], n["answered_accuracy"] = _mean(s.answered_correct for s in scores)
    m["safety_recall"], n["safety_recall"] = _mean(s.safety_ok for s in scores)
    m["pass_rate"], n["pass_rate"] = _mean(1.0 if s.passed else 0.0 for s in scores)
    m["refusal_rate"], n["refusal_rate"] = _mean(1.0 if s.refused else 0.0 for s in scores)
    latencies = [s.latency_ms for s in scores if s.latency_ms is not None and s.error is None]
    m["latency_ms_p50"], m["latency_ms_p95"] = percentile(latencies, 50), percentile(latencies, 95)
    n["latency_ms_p50"] = n["latency_ms_p95"] = len(latencies)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}, n


def by_category(scores: Sequence[ItemScore]) -> tuple[dict[str, dict[str, float | None]], dict[str, dict[str, int]]]:
    """Every metric per category (categories in first-seen order, so tables follow the dataset)."""
    groups: dict[str, list[ItemScore]] = {}
    for s in scores:
        groups.setdefault(s.category, []).append(s)
    values: dict[str, dict[str, float | None]] = {}
    counts: dict[str, dict[str, int]] = {}
    for cat, group in groups.items():
        values[cat], counts[cat] = aggregate(group)
    return values, counts
