"""How often the candidates hold a key fact at all, the top-ranked one does, and the composed lead does."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from followup_bot import Assistant, pipeline, stages
from followup_bot.inputs import parse_history
from followup_bot.settings import load_settings
from followup_bot.state import Request, State


def matches(group: list[str], text: str) -> bool:
    return any(re.search(rx, text, re.I) for rx in group)


def main() -> int:
    a = Assistant.from_settings(load_settings())
    c = a.components
    for name in sys.argv[1:]:
        items = [json.loads(line) for line in Path(name).read_text().splitlines() if line.strip()]
        n = anyc = top = lead = ranked_any = 0
        for it in items:
            if it["expect_refusal"] or not it.get("must_include"):
                continue
            req = Request(
                it["question"],
                tuple(parse_history(it.get("history") or [])),
                it.get("audience") or "clinician",
                it.get("article") or c.library.default,
            )
            st = stages.triage(State(req), c)
            if st.terminal:
                continue
            for _, stage in pipeline.ANSWER_STAGES[:3]:
                st = stage(st, c)
            ev = st.evidence
            if ev is None or ev.abstain:
                continue
            n += 1
            groups = it["must_include"]

            def fact(t: str, groups: list[list[str]] = groups) -> bool:
                return any(matches(g, t) for g in groups)

            anyc += any(fact(x.text) for x in ev.candidates)
            ranked_any += any(fact(x.text) for x in ev.sentences[:12])
            top += bool(ev.candidates) and fact(ev.candidates[0].text)
            lead += bool(ev.answer) and fact(ev.answer[0].quoted)
        print(
            f"{Path(name).name:40} answered {n}: candidates hold a fact {anyc / n:.2f}, top-12 ranked {ranked_any / n:.2f}, "
            f"top candidate {top / n:.2f}, composed lead {lead / n:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
