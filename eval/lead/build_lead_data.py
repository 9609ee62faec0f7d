"""Candidate sentences of every answered development question, with lead features and labels.

    .venv/bin/python eval/lead/build_lead_data.py --out eval/lead/data.jsonl eval/dev*.jsonl eval/library/*.fit.jsonl

One line per question the pipeline answers (not refused, with `must_include` facts): the article
(the group for leave-one-article-out), each candidate's features (evidence/lead.py) and label
(the candidate holds one of the item's key facts), and which candidate the rule-based composition
put first. Only development splits go in; the `.test` halves and held-out sets never do.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from followup_bot import Assistant, pipeline, stages
from followup_bot.evidence.compose import focus_of
from followup_bot.inputs import parse_history
from followup_bot.settings import load_settings
from followup_bot.state import Request, State

sys.path.insert(0, str(Path(__file__).parent))
from features import lead_features


def holds_fact(item: dict, text: str) -> bool:
    return any(any(re.search(rx, text, re.I) for rx in group) for group in item["must_include"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("datasets", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if any(".test." in d or "holdout" in d or "grounding_testset" in d for d in args.datasets):
        parser.error("only development splits may be used to fit the lead model")
    assistant = Assistant.from_settings(load_settings())
    c = assistant.components
    with open(args.out, "w", encoding="utf-8") as out:
        for name in args.datasets:
            items = [json.loads(line) for line in Path(name).read_text(encoding="utf-8").splitlines() if line.strip()]
            kept = 0
            for item in items:
                if item["expect_refusal"] or not item.get("must_include"):
                    continue
                article = item.get("article") or c.library.default
                request = Request(
                    item["question"], tuple(parse_history(item.get("history") or [])),
                    item.get("audience") or "clinician", article,
                )  # fmt: skip
                state = stages.triage(State(request), c)
                if state.terminal:
                    continue
                for _, stage in pipeline.ANSWER_STAGES[:3]:
                    state = stage(state, c)
                ev, sa = state.evidence, state.standalone
                if ev is None or sa is None or ev.abstain or not ev.candidates:
                    continue
                index = c.article(article)
                specific = {t for t in ev.key_terms if index.terms.is_specific(t) and index.terms.weights.known(t)}
                focus = focus_of(sa.message)
                rows = lead_features(ev.candidates, sa.message, focus.name, focus.prefer, specific)
                lead = ev.answer[0] if ev.answer else None
                current = next(
                    (
                        i
                        for i, x in enumerate(ev.candidates)
                        if lead and (x.chunk_id, x.index) == (lead.chunk_id, lead.index)
                    ),
                    -1,
                )
                out.write(json.dumps({
                    "set": Path(name).name, "id": item["id"], "article": article, "question": item["question"],
                    "current": current,
                    "candidates": [
                        {"features": r, "label": holds_fact(item, x.text)} for r, x in zip(rows, ev.candidates, strict=True)
                    ],
                }) + "\n")  # fmt: skip
                kept += 1
            print(f"{Path(name).name}: {kept} answered questions", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
