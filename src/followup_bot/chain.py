"""The whole pipeline in one LCEL expression; each stage is a small typed function.

    triage → (terminal? frame) : standalone → retrieve → evidence → generate → verify → frame

Read `build_chain` to see the flow; open the stage's module for how each step works. Stages
pass one `State` along and record their own time, so every Answer carries its trace.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableBranch, RunnableLambda

from followup_bot.conversation import Standalone
from followup_bot.evidence import Evidence
from followup_bot.generators import Draft, GenerationRequest, GeneratorError
from followup_bot.models import Answer, Citation, GeneratorInfo, Passage, Turn, Verification
from followup_bot.retrieval import Query
from followup_bot.safety import Triage
from followup_bot.text import content_terms
from followup_bot.verify import VerificationResult, verify_draft

if TYPE_CHECKING:
    from followup_bot.assistant import Components


@dataclass
class State:
    message: str
    history: list[Turn]
    audience: str
    triage: Triage | None = None
    standalone: Standalone | None = None
    query_vector: np.ndarray | None = None
    passages: list[Passage] = field(default_factory=list)
    evidence: Evidence | None = None
    draft: Draft | None = None
    verified: VerificationResult | None = None
    timings: dict[str, float] = field(default_factory=dict)
    terminal: str | None = None
    on_token: Callable[[str], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _timed(name: str, fn: Callable[[State], State]) -> Runnable:
    def run(state: State) -> State:
        t0 = time.perf_counter()
        out = fn(state)
        state.timings[name] = round((time.perf_counter() - t0) * 1000, 2)
        return out

    return RunnableLambda(run, name=name)


def build_chain(c: Components) -> Runnable:
    """The LCEL composition; `c` holds the components the stages call."""

    def triage(state: State) -> State:
        state.triage = c.triage.triage(state.message)
        kind = state.triage.kind
        if kind != "ok" or not state.triage.message:
            state.terminal = kind if kind != "ok" else "injection_only"
        return state

    def standalone(state: State) -> State:
        assert state.triage is not None
        state.standalone = c.condense(state.triage.message, state.history)
        return state

    def retrieve(state: State) -> State:
        sa = state.standalone
        assert sa is not None
        vector = c.embedder.query_vector(sa.message)
        if sa.history_text and sa.history_weight > 0:
            hv = c.embedder.query_vector(sa.history_text)
            vector = (1 - sa.history_weight) * vector + sa.history_weight * hv
            vector = vector / (np.linalg.norm(vector) or 1.0)
        state.query_vector = vector
        text = sa.message if sa.is_followup else sa.question
        # Worked out once: retrieval votes for these publications and the ranker prefers them.
        state.extra["named"] = c.retriever.publications_named(text, sa.history_text, sa.last_answer)
        query = Query(
            text=text,
            history_text=sa.history_text,
            history_weight=sa.history_weight,
            last_answer=sa.last_answer,
            vector=vector,
            named=state.extra["named"],
        )
        ranked = c.retriever.retrieve(query)
        # The rest of each top passage's section (a list's other bullets) joins the sentence pool.
        state.passages = ranked + c.retriever.section_siblings(ranked, vector)
        return state

    def evidence(state: State) -> State:
        sa = state.standalone
        assert sa is not None and state.query_vector is not None
        topic = sa.history_text if sa.is_followup else ""
        # A personal question ("can I take it with X?") still deserves the general evidence next
        # to the prescriber statement, so its words need not all be covered.
        lenient = state.triage is not None and state.triage.personal_dose
        state.evidence = c.ranker.evaluate(
            state.passages, state.query_vector, sa.message, topic, lenient=lenient, named=state.extra.get("named")
        )
        return state

    def generate(state: State) -> State:
        assert state.evidence is not None and state.standalone is not None and state.triage is not None
        if state.evidence.abstain:
            return state
        request = GenerationRequest(
            question=state.standalone.question,
            message=state.standalone.message,
            passages=state.passages,
            evidence=state.evidence,
            chunks=c.chunks,
            records=c.records,
            audience=state.audience,
            personal_dose=state.triage.personal_dose,
        )
        try:
            if state.on_token is not None:
                draft = None
                for event in c.generator.stream(request):
                    if isinstance(event, Draft):
                        draft = event
                    else:
                        state.on_token(event)
                assert draft is not None
            else:
                draft = c.generator.generate(request)
        except GeneratorError as exc:
            draft = c.fallback.generate(request)
            draft.fallback = True
            draft.note = f"{c.generator.name} unavailable ({exc}); showing the extractive answer instead"
        if not draft.sentences and not draft.fallback and c.generator is not c.fallback:
            draft = c.fallback.generate(request)
            draft.fallback = True
            draft.note = "the model's answer was empty; showing the extractive answer instead"
        state.draft = draft
        return state

    def verify(state: State) -> State:
        if state.draft is None:
            return state
        book = c.new_marker_book()
        result = verify_draft(state.draft, book, c.chunks, c.judge)
        if not result.sentences and not state.draft.fallback and state.draft.provider != c.fallback.name:
            # Nothing the model wrote survived: fall back to the verbatim answer.
            assert state.evidence is not None and state.standalone is not None
            removed = result.record.removed
            fallback = c.fallback.generate(
                GenerationRequest(
                    state.standalone.question,
                    state.standalone.message,
                    state.passages,
                    state.evidence,
                    c.chunks,
                    c.records,
                    state.audience,
                )
            )
            fallback.fallback = True
            fallback.note = f"none of the model's {removed} sentences was supported by its citations; showing the extractive answer instead"
            state.draft = fallback
            book = c.new_marker_book()
            result = verify_draft(fallback, book, c.chunks, c.judge)
            result.record.removed += removed
        state.verified = result
        state.extra["book"] = book
        return state

    def frame(state: State) -> State:
        state.extra["answer"] = c.frame(state)
        return state

    pipeline = (
        _timed("standalone", standalone)
        | _timed("retrieve", retrieve)
        | _timed("evidence", evidence)
        | _timed("generate", generate)
        | _timed("verify", verify)
        | _timed("frame", frame)
    )
    return _timed("safety", triage) | RunnableBranch(
        (lambda s: s.terminal is not None, _timed("frame", frame)),
        pipeline,
    )


def answer_text(sentences: list[tuple[str, list[Citation]]]) -> str:
    """Sentence, then its marker(s), then the full stop: `… activity [A1].`"""
    parts = []
    for text, cites in sentences:
        body = text.rstrip()
        end = "."
        if body and body[-1] in ".!?":
            end = body[-1] if body[-1] != "." else "."
            body = body[:-1].rstrip()
        markers = "".join(c.marker for c in cites)
        parts.append(f"{body} {markers}{end}")
    return " ".join(parts)


def key_terms_known(evidence: Evidence | None, known: Callable[[str], bool]) -> bool:
    if evidence is None or not evidence.key_terms:
        return True
    return any(known(t) for t in evidence.key_terms)


__all__ = [
    "Answer",
    "GeneratorInfo",
    "State",
    "Verification",
    "answer_text",
    "build_chain",
    "content_terms",
    "key_terms_known",
]
