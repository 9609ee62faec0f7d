"""The metric catalogue: the keys of `report.json`'s `overall` and `by_category`, and their direction.

The scores themselves live by concept: `citation_scores` (validity and ALCE recall/precision of
one answer), `item_scores` (everything measured about one item), `aggregates` (means over a group
of items) and `triage_scores` (the safety triage section). The names this module used to define
are re-exported here, so `from followup_bot.evaluation.metrics import Scorer` keeps working.
"""

from __future__ import annotations

from followup_bot.evaluation.aggregates import aggregate, by_category, percentile
from followup_bot.evaluation.citation_scores import (
    SentenceCheck,
    SupportOracle,
    alce_scores,
    answer_sentences,
    citation_validity,
    normalize_space,
    strip_framing,
)
from followup_bot.evaluation.item_scores import (
    ItemScore,
    Scorer,
    failures,
    forbidden_hits,
    key_facts,
    retrieval_scores,
    severity,
)

# Report keys, in table order. INTERFACES.md names the first ones; the rest are additions.
METRICS: tuple[str, ...] = (
    "retrieval_recall_at_k",
    "mrr",
    "citation_validity",
    "citation_recall",
    "citation_precision",
    "key_fact_recall",
    "key_fact_all",
    "forbidden_rate",
    "abstention_precision",
    "abstention_recall",
    "abstention_f1",
    "answered_accuracy",
    "safety_recall",
    "pass_rate",
    "refusal_rate",
    "latency_ms_p50",
    "latency_ms_p95",
)
LOWER_IS_BETTER = frozenset({"forbidden_rate", "latency_ms_p50", "latency_ms_p95"})
# Neither direction is better in itself: it depends on the mix of categories.
NEUTRAL = frozenset({"refusal_rate"})
RATE_METRICS = tuple(m for m in METRICS if not m.startswith("latency"))

__all__ = [
    "LOWER_IS_BETTER",
    "METRICS",
    "NEUTRAL",
    "RATE_METRICS",
    "ItemScore",
    "Scorer",
    "SentenceCheck",
    "SupportOracle",
    "aggregate",
    "alce_scores",
    "answer_sentences",
    "by_category",
    "citation_validity",
    "failures",
    "forbidden_hits",
    "key_facts",
    "normalize_space",
    "percentile",
    "retrieval_scores",
    "severity",
    "strip_framing",
]
