"""Train the triage classifier and report how it generalises to writers it never saw.

    .venv/bin/python eval/triage/train_classifier.py [--out src/followup_bot/triage_model.json]

Training data (never eval/triage/test.jsonl, which is kept for the final report):
- eval/triage/dev.jsonl (writers 1-3), eval/triage/heldout1.jsonl (writers 4-5: the first held-out
  split, measured once and then read) and eval/triage/train/*.jsonl (writers 6-8): emergency,
  crisis and benign messages, most of the benign ones hard negatives;
- every triage rule's own `fires_on` / `quiet_on` examples;
- the questions of the grounding development sets and the fit halves of the library sets.

A positive whose danger is only in the conversation (the final message alone is innocent) is left
out: the conversation rule handles those, and the model must not learn that "how tall is the
bridge?" is a crisis. Features: word 1-2-grams, character 3-5-grams (within words) and the
sentence embedding, in one logistic regression. Each writer's messages are scored by a model
that never saw that writer; the decision thresholds are chosen on those scores, together with
the rules and context cues as the triage applies them, for the recall target at the fewest false
alarms. The final model is then fitted on everything and written as JSON (vocabularies, idf,
weights, thresholds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack

from followup_bot.embeddings import SentenceTransformerEmbeddings
from followup_bot.settings import load_settings
from followup_bot.triage.classifier import CHAR_NGRAMS, LABELS, WORD_NGRAMS, ModelScores, vectorizer
from followup_bot.triage.rules import ALL_RULES
from followup_bot.triage.triage import SafetyTriage, clean_message

ROOT = Path(__file__).resolve().parents[2]
DANGER = ("emergency", "crisis")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def examples() -> list[tuple[str, str, str]]:
    """(text, label, group) triples; the group is the writer, so validation can hold a writer out."""
    out: list[tuple[str, str, str]] = []
    fit = [ROOT / "eval/triage/dev.jsonl", ROOT / "eval/triage/heldout1.jsonl"]
    for path in [*fit, *sorted((ROOT / "eval/triage/train").glob("*.jsonl"))]:
        for item in read(path):
            label = item["category"] if item["category"] in DANGER else "benign"
            if label in DANGER and item.get("history"):
                continue  # the danger may be in the history; the conversation rule covers these
            out.append((item["question"], label, item["id"].split("-")[1]))
    for rule in ALL_RULES:
        if rule.kind in ("crisis", "emergency", "emergency_plain"):
            label = "crisis" if rule.kind == "crisis" else "emergency"
            out += [(m, label, "rules") for m in rule.fires_on]
            out += [(m, "benign", "rules") for m in rule.quiet_on]
    qa = [ROOT / "eval" / f"{n}.jsonl" for n in ("dev", "dev2", "dev3")] + sorted(
        (ROOT / "eval/library").glob("*.fit.jsonl")
    )
    for path in qa:
        for item in read(path):
            label = item["category"] if item["category"] in DANGER else "benign"
            if not (label in DANGER and item.get("history")):
                out.append((item["question"], label, "qa"))
    return out


class Features:
    """Word and character TF-IDF fitted on the training texts, plus the embedding."""

    def __init__(self, texts: list[str]) -> None:
        self.words = vectorizer(WORD_NGRAMS).fit(texts)
        self.chars = vectorizer(CHAR_NGRAMS).fit(texts)

    def __call__(self, texts: list[str], vectors: np.ndarray) -> csr_matrix:
        return hstack([self.words.transform(texts), self.chars.transform(texts), csr_matrix(vectors)]).tocsr()


def fit(texts: list[str], y: np.ndarray, vectors: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    features = Features(texts)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced").fit(features(texts, vectors), y)
    return features, model


def decisions(
    triage: SafetyTriage, texts: list[str], scores: list[ModelScores], thresholds: dict[str, float]
) -> list[str]:
    """What the triage would say for each text with these model scores and thresholds (rules and cues included)."""
    out = []
    for text, s in zip(texts, scores, strict=True):
        lowered = clean_message(text).lower().replace("’", "'")
        danger = triage.danger(lowered, s, thresholds)
        out.append(danger.kind if danger else "none")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "src/followup_bot/triage_model.json"))
    parser.add_argument("--C", type=float, default=16.0)
    args = parser.parse_args()
    settings = load_settings(root=ROOT)
    embedder = SentenceTransformerEmbeddings(settings.embeddings)
    data = examples()
    texts = [t for t, _, _ in data]
    y = np.array([LABELS.index(label) for _, label, _ in data])
    groups = np.array([g for _, _, g in data])
    vectors = embedder.encode(texts)
    writers = sorted({g for g in groups if g.startswith("w")})
    print(f"{len(texts)} messages; writers held out in turn: {', '.join(writers)}")
    held: list[tuple[int, ModelScores]] = []
    for writer in writers:
        train = np.flatnonzero(groups != writer)
        features, model = fit([texts[i] for i in train], y[train], vectors[train], args.C)
        mine = np.flatnonzero(groups == writer)
        probs = model.predict_proba(features([texts[i] for i in mine], vectors[mine]))
        held += [(int(i), ModelScores(float(p[1]), float(p[2]))) for i, p in zip(mine, probs, strict=True)]
    triage = SafetyTriage(settings.safety)
    idx = [i for i, _ in held]
    truth = [LABELS[y[i]] for i in idx]
    best = None
    for te in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        for tc in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4):
            for hi in (0.8, 0.9, 0.95):
                th = {"emergency": te, "crisis": tc, "high": hi}
                got = decisions(triage, [texts[i] for i in idx], [s for _, s in held], th)
                caught = sum(g != "none" for g, t in zip(got, truth, strict=True) if t != "benign")
                alarms = sum(g != "none" for g, t in zip(got, truth, strict=True) if t == "benign")
                key = (caught, -alarms, te, tc)
                if best is None or key > best[0]:
                    best = (key, th, got)
    assert best is not None
    (_, _, _, _), thresholds, got = best
    print(f"thresholds (most danger caught, then fewest false alarms, on held-out writers): {thresholds}")
    print(f"{'writer':8} {'emergency':>12} {'crisis':>12} {'false alarms':>14}")
    for writer in writers:
        rows = [(g, t) for g, t, i in zip(got, truth, idx, strict=True) if groups[i] == writer]
        e = [g != "none" for g, t in rows if t == "emergency"]
        c = [g != "none" for g, t in rows if t == "crisis"]
        b = [g != "none" for g, t in rows if t == "benign"]
        print(f"{writer:8} {sum(e):>5}/{len(e):<6} {sum(c):>5}/{len(c):<6} {sum(b):>6}/{len(b):<7}")
    features, model = fit(texts, y, vectors, args.C)
    vocab = lambda v: {k: int(i) for k, i in v.vocabulary_.items()}  # noqa: E731
    payload = {
        "labels": list(LABELS),
        "weights": [[round(float(w), 5) for w in row] for row in model.coef_],
        "intercept": [round(float(b), 5) for b in model.intercept_],
        "thresholds": thresholds,
        "words": {"vocabulary": vocab(features.words), "idf": [round(float(x), 5) for x in features.words.idf_]},
        "chars": {"vocabulary": vocab(features.chars), "idf": [round(float(x), 5) for x in features.chars.idf_]},
        "dim": int(vectors.shape[1]),
        "C": args.C,
        "trained_on": {"messages": len(texts), "writers": writers},
        "embedding_model": settings.embeddings.model,
    }
    Path(args.out).write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({Path(args.out).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
