"""Fit the lead model (evidence/lead.py) and report it leave-one-article-out.

    .venv/bin/python eval/lead/train_lead.py eval/lead/data.jsonl [--write]

For each article, a model fitted on the other articles' questions picks the lead of this article's
questions; the table gives, per article, how often the picked sentence holds a key fact, next to the
top-ranked candidate, the rule-based composition's lead and the ceiling (any candidate holds one).
The pairwise model did not beat the rule, so nothing is written into the package.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[2]
C = 0.5


def load(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def matrix(items: list[dict], names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    x = [[c["features"].get(n, 0.0) for n in names] for it in items for c in it["candidates"]]
    y = [int(c["label"]) for it in items for c in it["candidates"]]
    return np.asarray(x, dtype=np.float64), np.asarray(y)


def fit(items: list[dict], names: list[str]) -> tuple[LogisticRegression, np.ndarray, np.ndarray]:
    """A pairwise ranker: within one question, a candidate holding a key fact should outscore one that does not
    (logistic regression on feature differences, so each question counts once whatever its candidate count)."""
    x, _ = matrix(items, names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    diffs, ys, weights = [], [], []
    for it in items:
        feats = (np.asarray([[c["features"].get(n, 0.0) for n in names] for c in it["candidates"]]) - mean) / scale
        pos = [i for i, c in enumerate(it["candidates"]) if c["label"]]
        neg = [i for i, c in enumerate(it["candidates"]) if not c["label"]]
        if not pos or not neg:
            continue
        w = 1.0 / (len(pos) * len(neg))
        for p in pos:
            for q in neg:
                diffs += [feats[p] - feats[q], feats[q] - feats[p]]
                ys += [1, 0]
                weights += [w, w]
    model = LogisticRegression(C=C, fit_intercept=False, max_iter=5000)
    model.fit(np.asarray(diffs), np.asarray(ys), sample_weight=np.asarray(weights))
    return model, mean, scale


def pick(item: dict, names: list[str], model: LogisticRegression, mean: np.ndarray, scale: np.ndarray) -> int:
    x = np.asarray([[c["features"].get(n, 0.0) for n in names] for c in item["candidates"]])
    return int(np.argmax(model.decision_function((x - mean) / scale)))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    args = parser.parse_args()
    items = [it for it in load(args.data) if it["candidates"]]
    names = sorted({n for it in items for c in it["candidates"] for n in c["features"]})
    by_article: dict[str, list[dict]] = defaultdict(list)
    for it in items:
        by_article[it["article"]].append(it)
    print(f"{'article (held out)':34}{'items':>6}{'model':>8}{'rule':>8}{'top':>8}{'ceiling':>9}")
    tot = defaultdict(int)
    for article, held in sorted(by_article.items()):
        train = [it for it in items if it["article"] != article]
        model, mean, scale = fit(train, names)
        got = {
            "model": sum(it["candidates"][pick(it, names, model, mean, scale)]["label"] for it in held),
            "rule": sum(it["current"] >= 0 and it["candidates"][it["current"]]["label"] for it in held),
            "top": sum(it["candidates"][0]["label"] for it in held),
            "ceiling": sum(any(c["label"] for c in it["candidates"]) for it in held),
        }
        for k, v in got.items():
            tot[k] += v
        tot["items"] += len(held)
        n = len(held)
        print(f"{article[:34]:34}{n:>6}{got['model'] / n:>8.3f}{got['rule'] / n:>8.3f}{got['top'] / n:>8.3f}"
              f"{got['ceiling'] / n:>9.3f}")  # fmt: skip
    n = tot["items"]
    print(f"{'ALL (leave-one-article-out)':34}{n:>6}{tot['model'] / n:>8.3f}{tot['rule'] / n:>8.3f}{tot['top'] / n:>8.3f}"
          f"{tot['ceiling'] / n:>9.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
