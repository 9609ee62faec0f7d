"""Train the triage classifier and report how it generalises to writers it never saw.

    .venv/bin/python eval/triage/train_classifier.py [--out src/followup_bot/triage_model.json]

Training data (never eval/triage/test.jsonl, which is kept for the final report):
- eval/triage/dev.jsonl (writers 1-3) and eval/triage/train/*.jsonl (writers 6-8): emergency,
  crisis and benign messages, many of them hard negatives;
- every triage rule's own `fires_on` / `quiet_on` examples;
- the questions of the grounding development sets and of the fit split of the library sets
  (benign, except their emergency and crisis items).

A positive whose danger is only in the conversation (the final message alone is innocent) is
left out: the conversation rule handles those, and the model must not learn that "how tall is
the bridge?" is a crisis. Thresholds are chosen on leave-one-writer-out predictions (each writer's
messages scored by a model that never saw that writer) so that recall on unseen writers stays
at the target; the final model is then fitted on everything and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from followup_bot.embeddings import SentenceTransformerEmbeddings
from followup_bot.settings import load_settings
from followup_bot.triage.classifier import LABELS, pieces
from followup_bot.triage.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[2]
DANGER = ("emergency", "crisis")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def examples() -> list[tuple[str, str, str]]:
    """(text, label, group) triples; the group is the writer, so validation can hold a writer out."""
    out: list[tuple[str, str, str]] = []
    triage_files = [ROOT / "eval/triage/dev.jsonl", *sorted((ROOT / "eval/triage/train").glob("*.jsonl"))]
    for path in triage_files:
        for item in read(path):
            label = item["category"] if item["category"] in DANGER else "benign"
            if label in DANGER and item.get("history"):
                continue  # the danger may be in the history; the conversation rule covers these
            writer = item["id"].split("-")[1] if item["id"].count("-") >= 2 else path.stem
            out.append((item["question"], label, writer))
    for rule in ALL_RULES:
        if rule.kind in ("crisis", "emergency", "emergency_plain"):
            label = "crisis" if rule.kind == "crisis" else "emergency"
            out += [(m, label, "rules") for m in rule.fires_on]
            out += [(m, "benign", "rules") for m in rule.quiet_on]
    qa = [ROOT / "eval" / f"{n}.jsonl" for n in ("dev", "dev2", "dev3")]
    qa += sorted((ROOT / "eval/library").glob("*.fit.jsonl"))
    for path in qa:
        if not path.exists():
            continue
        for item in read(path):
            label = item["category"] if item["category"] in DANGER else "benign"
            if label in DANGER and item.get("history"):
                continue
            out.append((item["question"], label, "qa"))
    return out


def design(texts: list[str], labels: list[str], groups: list[str], encode) -> tuple:
    """Whole messages, plus each sentence of a benign message as benign (danger words in a past or
    reported sentence are still benign); positives only as whole messages (which sentence carries
    the danger is not labelled)."""
    rows, ys, gs = [], [], []
    for text, label, group in zip(texts, labels, groups, strict=True):
        for piece in pieces(text) if label == "benign" else [text]:
            rows.append(piece)
            ys.append(LABELS.index(label))
            gs.append(group)
    return encode(rows), np.array(ys), np.array(gs), rows


def max_scores(model, encode, texts: list[str]) -> np.ndarray:
    """Per message, the highest probability of each class over the message and its sentences."""
    out = []
    for text in texts:
        probs = model.predict_proba(encode(pieces(text)))
        out.append(probs.max(axis=0))
    return np.array(out)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "src/followup_bot/triage_model.json"))
    parser.add_argument("--C", type=float, default=4.0)
    parser.add_argument("--recall", type=float, default=0.97, help="held-out-writer recall the thresholds keep")
    parser.add_argument("--held-out", help="also write each message's held-out-writer scores here (JSONL)")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    settings = load_settings(root=ROOT)
    embedder = SentenceTransformerEmbeddings(settings.embeddings)
    cache: dict[str, np.ndarray] = {}

    def encode(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in cache]
        if missing:
            cache.update(zip(missing, embedder.encode(missing), strict=True))
        return np.stack([cache[t] for t in texts])

    data = examples()
    texts, labels, groups = (list(x) for x in zip(*data, strict=True))
    X, y, g, _ = design(texts, labels, groups, encode)
    writers = sorted({gr for gr in groups if gr.startswith("w")})
    print(f"{len(texts)} messages ({X.shape[0]} rows); writers held out in turn: {', '.join(writers)}")
    # Leave-one-writer-out: score each writer's messages with a model that never saw them.
    held: list[tuple[str, str, np.ndarray]] = []
    for writer in writers:
        model = LogisticRegression(C=args.C, max_iter=3000, class_weight="balanced")
        model.fit(X[g != writer], y[g != writer])
        mine = [(t, lab) for t, lab, gr in zip(texts, labels, groups, strict=True) if gr == writer]
        scores = max_scores(model, encode, [t for t, _ in mine])
        whole = model.predict_proba(encode([t for t, _ in mine]))
        held += [(writer, lab, s) for (_, lab), s in zip(mine, scores, strict=True)]
        if args.held_out:
            with open(args.held_out, "a", encoding="utf-8") as fh:
                for (text, lab), s, w in zip(mine, scores, whole, strict=True):
                    row = {
                        "writer": writer,
                        "label": lab,
                        "text": text,
                        "max": s.round(4).tolist(),
                        "whole": w.round(4).tolist(),
                    }
                    fh.write(json.dumps(row) + "\n")
    thresholds = {}
    for k, label in ((1, "emergency"), (2, "crisis")):
        positive = sorted(s[k] for _, lab, s in held if lab == label)
        cut = positive[max(0, int(len(positive) * (1 - args.recall)) - 1)] if positive else 0.5
        thresholds[label] = round(float(min(0.5, cut)), 4)
    thresholds["benign"] = 0.0
    print(f"thresholds for {args.recall:.0%} held-out recall: {thresholds}")
    print(f"{'writer':8} {'emergency':>12} {'crisis':>12} {'false alarms':>14}")
    for writer in writers:
        mine = [(lab, s) for w, lab, s in held if w == writer]
        e = [s[1] >= thresholds["emergency"] or s[2] >= thresholds["crisis"] for lab, s in mine if lab == "emergency"]
        c = [s[2] >= thresholds["crisis"] or s[1] >= thresholds["emergency"] for lab, s in mine if lab == "crisis"]
        b = [s[1] >= thresholds["emergency"] or s[2] >= thresholds["crisis"] for lab, s in mine if lab == "benign"]
        print(f"{writer:8} {sum(e):>5}/{len(e):<6} {sum(c):>5}/{len(c):<6} {sum(b):>6}/{len(b):<7}")
    final = LogisticRegression(C=args.C, max_iter=3000, class_weight="balanced").fit(X, y)
    payload = {
        "labels": list(LABELS),
        "weights": [[round(float(w), 6) for w in row] for row in final.coef_],
        "intercept": [round(float(b), 6) for b in final.intercept_],
        "thresholds": thresholds,
        "C": args.C,
        "trained_on": {"messages": len(texts), "rows": int(X.shape[0]), "writers": writers},
        "embedding_model": settings.embeddings.model,
    }
    Path(args.out).write_text(json.dumps(payload) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({Path(args.out).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
