"""The answer/abstain model, fitted on many articles and reported leave-one-article-out.

    .venv/bin/python eval/abstention_loao.py eval/dev.jsonl eval/dev2.jsonl eval/dev3.jsonl \
        eval/library/*.fit.jsonl [--write] [--table eval/abstention_loao.md] [--cache /tmp/abst.jsonl]

1. Every item runs through the real pipeline with the model switched off (so the evidence is
   always composed), recording the evidence features (evidence/decision.py FEATURES), whether the
   hard rare-word rule already abstained, and the answer text the reader would get.
2. Ablation: for every answerable item the pipeline answers, the sentences of its article that
   hold one of its key facts (and their near-duplicates, cosine >= 0.92) are hidden from the
   ranking, and the evidence is weighed again; the same question must now be declined. These rows
   train the model (label: abstain) and are reported as "ablation recall".
3. For each article, a logistic regression fitted on the other articles (real and ablation rows)
   decides that article's items: decisions, key facts (over the items that should be answered),
   abstention recall (real on-topic unanswerables) and ablation recall, per article and mean.
4. `--write` fits on every article and writes src/followup_bot/abstention_model.json.

Only development splits go in (`.fit` halves and eval/dev*.jsonl); the `.test` halves, the
held-out sets and the grounding test set are refused.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from calibrate_abstention import assistant_without_model

from followup_bot import pipeline, stages
from followup_bot.evidence import FEATURES
from followup_bot.inputs import parse_history
from followup_bot.state import Request, State

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "followup_bot" / "abstention_model.json"
NEAR_DUPLICATE = 0.92
# A key-fact pattern that matches more than this share of an article's sentences is too loose to hide by.
MAX_HIDDEN_SHARE = 0.15


def holds(groups: list[list[str]], text: str) -> bool:
    return any(any(re.search(rx, text, re.I) for rx in g) for g in groups)


def all_facts(groups: list[list[str]], text: str) -> bool:
    return all(any(re.search(rx, text, re.I) for rx in g) for g in groups)


def collect(paths: list[str]) -> list[dict[str, Any]]:
    assistant = assistant_without_model()
    c = assistant.components
    rows: list[dict[str, Any]] = []
    for path in paths:
        items = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        for item in items:
            article = item.get("article") or c.library.default
            request = Request(
                item["question"], tuple(parse_history(item.get("history") or [])),
                item.get("audience") or "clinician", article,
            )  # fmt: skip
            final = pipeline.run(request, c)
            answer = final.answer
            assert answer is not None
            base = {"set": Path(path).name, "id": item["id"], "article": article, "category": item["category"],
                    "expect_refusal": bool(item["expect_refusal"]), "must_include": item.get("must_include") or []}  # fmt: skip
            if final.terminal is not None or final.evidence is None:
                rows.append({**base, "kind": "fixed", "refused": bool(answer.refused)})
                continue
            ev = final.evidence
            text = answer.answer
            sa = final.standalone
            evidence = [x.text for x in (ev.candidates or ev.answer)[:3]]
            rows.append({**base, "kind": "real", "hard": bool(ev.abstain), "features": ev.features, "text": text,
                         "question": sa.message if sa else item["question"], "evidence": evidence})  # fmt: skip
            if item["expect_refusal"] or ev.abstain or not base["must_include"]:
                continue
            ablated = ablate(c, request, base["must_include"])
            if ablated is not None:
                rows.append(
                    {**base, "id": item["id"] + "#ablated", "kind": "ablation", "expect_refusal": True, **ablated}
                )
        print(f"{Path(path).name}: {sum(r['set'] == Path(path).name for r in rows)} rows", file=sys.stderr, flush=True)
    return rows


def ablate(c: Any, request: Request, groups: list[list[str]]) -> dict[str, Any] | None:
    """The evidence for the same question with the sentences that answer it hidden."""
    index = c.article(request.article)
    sentences = [(ch.chunk_id, i, s.text) for ch in index.chunks.values() for i, s in enumerate(ch.sentences)]
    hidden = {(cid, i) for cid, i, text in sentences if holds(groups, text)}
    if not hidden or len(hidden) > MAX_HIDDEN_SHARE * len(sentences):
        return None
    vectors = index.ranker.vectors
    keys = [k for k in vectors if k not in hidden]
    hidden_vecs = np.stack([vectors[k] for k in hidden if k in vectors]) if any(k in vectors for k in hidden) else None
    if hidden_vecs is not None and keys:
        sims = np.stack([vectors[k] for k in keys]) @ hidden_vecs.T
        hidden |= {k for k, row in zip(keys, sims, strict=True) if float(row.max()) >= NEAR_DUPLICATE}
    state = stages.triage(State(request), c)
    if state.terminal is not None:
        return None
    state = stages.retrieve(stages.standalone(state, c), c)
    sa, found, verdict = state.standalone, state.retrieval, state.triage
    assert sa is not None and found is not None and verdict is not None
    topic = sa.history_text if sa.is_followup else ""
    surface: dict[str, str] = {}
    key = index.terms.of(sa.message, topic, surface)
    ranked = index.ranker.rank(list(found.passages), found.vector, key, sa.message, found.named)
    ranked = [s for s in ranked if (s.chunk_id, s.index) not in hidden]
    chosen = index.ranker.choose(ranked, key)
    ev = index.abstention.decide(
        ranked, chosen, key, surface, found.vector, sa.message, bool(topic),
        lenient=verdict.personal_dose, named=found.named,
    )  # fmt: skip
    return {"hard": bool(ev.abstain), "features": ev.features, "text": "", "question": sa.message,
            "evidence": [x.text for x in chosen[:3]]}  # fmt: skip


def fit(rows: list[dict[str, Any]], c_reg: float, ablation_weight: float = 1.0) -> tuple[Any, np.ndarray, np.ndarray]:
    """Logistic regression; each article weighs the same in total, and ablation rows weigh `ablation_weight`
    of a real one (they are easier to make than to trust)."""
    from sklearn.linear_model import LogisticRegression

    train = [r for r in rows if r["kind"] in ("real", "ablation") and not r["hard"]]
    train = [r for r in train if r["kind"] == "real" or ablation_weight > 0]
    x = np.array([[r["features"][f] for f in FEATURES] for r in train], dtype=np.float64)
    y = np.array([int(r["expect_refusal"]) for r in train])
    per_article: dict[str, int] = defaultdict(int)
    for r in train:
        per_article[r["article"]] += 1
    w = np.array([(ablation_weight if r["kind"] == "ablation" else 1.0) / per_article[r["article"]] for r in train])
    model = LogisticRegression(C=c_reg, max_iter=5000)
    model.fit(x, y, sample_weight=w * len(train) / w.sum())
    return model, x, y


def refused(row: dict[str, Any], model: Any, threshold: float) -> bool:
    if row["kind"] == "fixed":
        return bool(row["refused"])
    if row["hard"]:
        return True
    x = np.array([[row["features"][f] for f in FEATURES]], dtype=np.float64)
    return bool(model.predict_proba(x)[0, 1] >= threshold)


def scores(rows: list[dict[str, Any]], model: Any, threshold: float) -> dict[str, float | None]:
    real = [r for r in rows if r["kind"] != "ablation"]
    decided = [(r, refused(r, model, threshold)) for r in real]
    should_answer = [(r, d) for r, d in decided if not r["expect_refusal"] and r["must_include"]]
    una = [(r, d) for r, d in decided if r["category"] == "unanswerable"]
    abl = [r for r in rows if r["kind"] == "ablation"]

    def share(xs: list[bool]) -> float | None:
        return sum(xs) / len(xs) if xs else None

    return {
        "items": float(len(real)),
        "decisions": share([d == r["expect_refusal"] for r, d in decided]),
        "key_facts": share([(not d) and all_facts(r["must_include"], r.get("text", "")) for r, d in should_answer]),
        "abstain_recall": share([d for _, d in una]),
        "ablation_recall": share([refused(r, model, threshold) for r in abl]),
    }


class Shipped:
    """The shipped model (src/followup_bot/abstention_model.json) in the shape `scores` expects."""

    def __init__(self) -> None:
        from followup_bot.evidence.decision import AbstentionModel

        self.model = AbstentionModel.load(OUT)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        p = self.model.probability(dict(zip(FEATURES, (float(v) for v in x[0]), strict=True)))
        return np.array([[1.0 - p, p]])


def table_rows(rows: list[dict[str, Any]], model_for: Any, threshold: float, cols: list[str]) -> list[str]:
    """One row per article, scored by `model_for(article)`, and the mean over articles."""
    lines = ["| article | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    per: dict[str, list[float]] = defaultdict(list)
    for article in sorted({r["article"] for r in rows}):
        got = scores([r for r in rows if r["article"] == article], model_for(article), threshold)
        lines.append(
            f"| {article} | " + " | ".join(fmt(got[k]) if k != "items" else str(int(got[k] or 0)) for k in cols) + " |"
        )
        for k in cols[1:]:
            if got[k] is not None:
                per[k].append(float(got[k]))  # type: ignore[arg-type]
    lines.append(
        "| **mean over articles** | | "
        + " | ".join(fmt(statistics.mean(per[k])) if per[k] else "-" for k in cols[1:])
        + " |"
    )
    return lines


def fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="*")
    parser.add_argument("--cache", help="read/write the collected rows here (JSONL)")
    parser.add_argument("--write", action="store_true", help=f"fit on every article and write {OUT.name}")
    parser.add_argument("--table", help="also write the leave-one-article-out table (Markdown) here")
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--ablation-weight", type=float, default=0.3, help="weight of an ablation row (0: report only)")
    args = parser.parse_args()
    if any(".test." in d or "holdout" in d or "grounding_testset" in d or "final" in d for d in args.datasets):
        parser.error("only development splits may be used to fit the abstention model")
    if args.cache and Path(args.cache).exists() and not args.datasets:
        rows = [json.loads(line) for line in Path(args.cache).read_text(encoding="utf-8").splitlines()]
    else:
        rows = collect(args.datasets)
        if args.cache:
            Path(args.cache).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cols = ["items", "decisions", "key_facts", "abstain_recall", "ablation_recall"]
    lines = table_rows(
        rows,
        lambda article: fit([r for r in rows if r["article"] != article], args.C, args.ablation_weight)[0],
        args.threshold,
        cols,
    )
    shipped = Shipped()
    shipped_lines = table_rows(rows, lambda article: shipped, shipped.model.threshold, cols)
    table = "\n".join(lines)
    print(table)
    shipped_table = "\n".join(shipped_lines)
    print("\nshipped model:\n" + shipped_table)
    if args.table:
        source = " ".join(args.datasets) or f"--cache {args.cache}"
        Path(args.table).write_text(
            "# Answer/abstain model, leave-one-article-out\n\n"
            f"Reproduce: `.venv/bin/python eval/abstention_loao.py {source}`\n\n"
            f"C={args.C}, threshold={args.threshold}, ablation weight {args.ablation_weight}, "
            f"near-duplicate cosine {NEAR_DUPLICATE}.\n\n"
            f"## Fitted on the other articles, tested on the one left out\n\n{table}\n\n"
            f"## The shipped model ({shipped.model.source}), on every article\n\n{shipped_table}\n",
            encoding="utf-8",
        )
    if args.write:
        model, _, y = fit(rows, args.C, args.ablation_weight)
        data = {
            "weights": {name: round(float(w), 5) for name, w in zip(FEATURES, model.coef_[0], strict=True)},
            "intercept": round(float(model.intercept_[0]), 5),
            "threshold": args.threshold,
            "fitted_on": sorted({r["set"] for r in rows}),
            "items": len(y),
            "abstain_share": round(float(y.mean()), 4),
            "fitted_by": "eval/abstention_loao.py (real items of every article plus ablation unanswerables)",
        }
        OUT.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
