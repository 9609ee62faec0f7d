"""How far the support judge can be trusted: its accuracy on labelled sentence-passage pairs.

Citation recall and precision are only as good as the judge that computes them, and no NLI model
can be installed offline here, so the report always carries the judge's own scores next to the
metrics it produced. Positive = "supported": precision is the share of "supported" verdicts that
were right (an unsupported claim passed as supported is the dangerous error), recall the share of
truly supported sentences the judge accepted.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from followup_bot.evaluation.dataset import CalibrationPair
from followup_bot.verify import SupportJudge


def confusion_scores(tp: int, fp: int, tn: int, fn: int) -> dict[str, float | None]:
    n = tp + fp + tn + fn
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = (
        2 * precision * recall / (precision + recall)
        if precision and recall
        else (0.0 if precision is not None and recall is not None else None)
    )
    return {
        "accuracy": round((tp + tn) / n, 4) if n else None,
        "precision": round(precision, 4) if precision is not None else None,
        "recall": round(recall, 4) if recall is not None else None,
        "f1": round(f1, 4) if f1 is not None else None,
    }


def evaluate_judge(judge: SupportJudge, pairs: Sequence[CalibrationPair]) -> dict[str, Any]:
    """Accuracy, precision, recall and F1 of `judge`, overall and per kind of pair, with its mistakes."""
    tp = fp = tn = fn = 0
    kinds: dict[str, list[int]] = {}
    mistakes: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for pair in pairs:
        verdict = judge.judge(pair.sentence, pair.passage)
        said = bool(verdict.supported)
        right = said == pair.supported
        if said and pair.supported:
            tp += 1
        elif said:
            fp += 1
        elif pair.supported:
            fn += 1
        else:
            tn += 1
        tally = kinds.setdefault(pair.kind or "unlabelled", [0, 0])
        tally[0] += int(right)
        tally[1] += 1
        if not right:
            mistakes.append(
                {
                    "id": pair.id,
                    "kind": pair.kind,
                    "label": "supported" if pair.supported else "not_supported",
                    "score": round(float(verdict.score), 4),
                    "reasons": [str(r) for r in verdict.reasons[:3]],
                    "sentence": pair.sentence,
                }
            )
    result: dict[str, Any] = {
        "name": getattr(judge, "name", type(judge).__name__),
        **confusion_scores(tp, fp, tn, fn),
        "n": len(pairs),
        "confusion": {"tp": tp, "fp": fp, "tn": tn, "fn": fn},
        "by_kind": {k: {"accuracy": round(c / t, 4), "n": t} for k, (c, t) in sorted(kinds.items())},
        "mistakes": mistakes,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    threshold = getattr(judge, "threshold", None)
    if isinstance(threshold, int | float):
        result["threshold"] = threshold
    return result
