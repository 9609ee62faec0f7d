"""The stages of the pipeline, each a function of `(state, components)` that returns the next state.

Each stage reads what the stages before it filled in, does one thing by calling its module, and
returns a copy of the state with its own field set. Nothing here keeps state between calls, so
two questions can run at once, and each stage can be tested alone with a state built by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from followup_bot.components import Components
from followup_bot.conversation import standalone_question
from followup_bot.errors import GeneratorError
from followup_bot.evidence.compose import Shape, compose, unstated_parts
from followup_bot.generators import Draft, GenerationRequest
from followup_bot.lexicon.intents import points_back
from followup_bot.retrieval import Query
from followup_bot.state import Retrieval, State, TerminalKind, Verified
from followup_bot.text import bounded_words, content_terms
from followup_bot.verify import verify_draft
from followup_bot.verify.draft import VerificationResult
from followup_bot.verify.llm_judge import LLMJudge
from followup_bot.verify.shape import shape_problem

log = logging.getLogger("followup_bot.stages")


def triage(state: State, c: Components) -> State:
    """Emergency, crisis, invalid input and injected instructions are recognised before anything else."""
    verdict = c.triage.check(state.request.message, state.request.history)
    terminal: TerminalKind | None = None
    if verdict.kind != "ok":
        terminal = verdict.kind
    elif not verdict.message:
        terminal = "injection_only"
    return replace(state, triage=verdict, terminal=terminal)


def standalone(state: State, c: Components) -> State:
    """The question as understood: typos mended against the corpus, follow-ups read with the conversation."""
    assert state.triage is not None
    index = c.article(state.request.article)
    limit = c.settings.retrieval.max_query_words
    message = index.speller.correct(bounded_words(state.triage.message, limit))
    history = [t.model_copy(update={"content": bounded_words(t.content, limit)}) for t in state.request.history]
    understood = standalone_question(message, history, c.settings.conversation)
    budget_left = not state.spent(c.settings.generator.request_budget_s)
    if c.rewrite_standalone is not None and understood.is_followup and budget_left:
        try:
            rewritten = c.rewrite_standalone(message, history)
        except Exception:
            log.warning("the LLM could not rewrite the follow-up; using the heuristic", exc_info=True)
            rewritten = None
        if rewritten:
            understood = replace(understood, question=rewritten)
    return replace(state, standalone=understood)


def retrieve(state: State, c: Components) -> State:
    """Hybrid retrieval for the message, with the conversation mixed in for a follow-up."""
    sa = state.standalone
    assert sa is not None
    index = c.article(state.request.article)
    vector = c.embedder.query_vector(sa.message)
    if sa.history_text and sa.history_weight > 0:
        mixed = (1 - sa.history_weight) * vector + sa.history_weight * c.embedder.query_vector(sa.history_text)
        vector = mixed / (np.linalg.norm(mixed) or 1.0)
    text = sa.message if sa.is_followup else sa.question
    # Worked out once: retrieval votes for these publications and the ranker prefers them.
    named = index.retriever.publications_named(text, sa.history_text, sa.last_answer)
    query = Query(
        text=text,
        history_text=sa.history_text,
        history_weight=sa.history_weight,
        last_answer=sa.last_answer,
        vector=vector,
        named=named,
    )
    ranked = index.retriever.retrieve(query)
    # The rest of each top passage's section (a list's other bullets) joins the sentence pool.
    passages = ranked + index.retriever.section_siblings(ranked, vector)
    return replace(state, retrieval=Retrieval(vector, frozenset(named), tuple(passages)))


def weigh_evidence(state: State, c: Components) -> State:
    """Rank the passages' sentences, choose the answer's, and decide whether they really answer."""
    sa, found, verdict = state.standalone, state.retrieval, state.triage
    assert sa is not None and found is not None and verdict is not None
    index = c.article(state.request.article)
    topic = sa.history_text if sa.is_followup else ""
    surface: dict[str, str] = {}
    key = index.terms.of(sa.message, topic, surface)
    ranked = index.ranker.rank(list(found.passages), found.vector, key, sa.message, found.named)
    chosen = index.ranker.choose(ranked, key)
    # A personal question ("can I take it with X?") still deserves the general evidence next to
    # the prescriber statement, so its words need not all be covered.
    evidence = index.abstention.decide(
        ranked,
        chosen,
        key,
        surface,
        found.vector,
        sa.message,
        bool(topic),
        lenient=verdict.personal_dose,
        named=found.named,
    )
    shape = answer_shape(c, state)
    if sa.intent == "summarise" and not points_back(sa.message):
        summary = index.ranker.summary(shape.sentences)
        if summary:
            evidence.answer, evidence.abstain, evidence.reason = summary, False, "summary of the main findings"
            return replace(state, evidence=evidence)
    specific = index.ranker.specific_terms(key)
    same = shape.sentences == index.ranker.max_sentences and sa.intent != "more_detail"
    window = c.settings.evidence.detail_score_window if sa.intent == "more_detail" else None
    candidates = chosen if same else index.ranker.choose(ranked, key, max_sentences=shape.sentences, window=window)
    evidence.candidates = candidates
    evidence.answer = compose(candidates, sa.message, specific, shape, index.ranker.following)
    evidence.unstated = unstated_parts(sa.message, evidence.answer, specific, evidence.uncovered)
    return replace(state, evidence=evidence)


def answer_shape(c: Components, state: State) -> Shape:
    """How long this answer may be: by audience (patients get fewer, shorter quotes) and by request
    ("more detail" lifts the limit once, "in 3 bullet points" is three, a summary covers the sections)."""
    g = c.settings.generator
    intent = state.standalone.intent if state.standalone else None
    patient = state.request.audience == "patient" or intent == "simplify"
    if intent == "more_detail":
        return Shape(sentences=g.detail_sentences, words=g.detail_words, stretch=g.budget_stretch)
    if intent == "bullets":
        return Shape(sentences=3, words=10_000)
    if intent == "summarise":
        return Shape(sentences=g.patient_sentences if patient else g.max_sentences + 1, words=10_000)
    if patient:
        return Shape(sentences=g.patient_sentences, words=g.patient_words, stretch=g.budget_stretch)
    return Shape(sentences=g.max_sentences, words=g.answer_words, stretch=g.budget_stretch)


def _request(state: State, c: Components) -> GenerationRequest:
    assert state.standalone is not None and state.evidence is not None and state.triage is not None
    index = c.article(state.request.article)
    return GenerationRequest(
        question=state.standalone.question,
        message=state.standalone.message,
        passages=list(state.passages),
        evidence=state.evidence,
        chunks=index.chunks,
        records=index.records,
        audience=state.request.audience,
        personal_dose=state.triage.personal_dose,
        deadline=state.deadline(c.settings.generator.request_budget_s),
    )


_BUDGET_SPENT = "the request's time budget (generator.request_budget_s) was spent; showing the extractive answer"


def _extractive(state: State, c: Components, note: str) -> Draft:
    """The verbatim answer, labelled as a fallback: what every LLM failure degrades to."""
    draft = c.fallback.generate(_request(state, c))
    draft.fallback = True
    draft.note = note
    return draft


def _needs_fallback(draft: Draft, c: Components) -> bool:
    return not draft.sentences and not draft.fallback and c.generator is not c.fallback


def generate(state: State, c: Components) -> State:
    """A draft with markers from the configured provider; the extractive answer if it fails or says nothing."""
    if state.evidence is None or state.evidence.abstain:
        return state
    if c.generator is not c.fallback and state.spent(c.settings.generator.request_budget_s):
        return replace(state, draft=_extractive(state, c, _BUDGET_SPENT))
    try:
        draft = c.generator.generate(_request(state, c))
    except GeneratorError as exc:
        draft = _extractive(state, c, f"{c.generator.name} unavailable ({exc}); showing the extractive answer instead")
    if _needs_fallback(draft, c):
        draft = _extractive(state, c, "the model's answer was empty; showing the extractive answer instead")
    return replace(state, draft=draft)


def generate_stream(state: State, c: Components) -> Iterator[str | State]:
    """`generate`, yielding the draft's text as the provider writes it, then the next state."""
    if state.evidence is None or state.evidence.abstain:
        yield state
        return
    if c.generator is not c.fallback and state.spent(c.settings.generator.request_budget_s):
        yield replace(state, draft=_extractive(state, c, _BUDGET_SPENT))
        return
    draft: Draft | None = None
    try:
        for event in c.generator.stream(_request(state, c)):
            if isinstance(event, Draft):
                draft = event
            else:
                yield event
    except GeneratorError as exc:
        draft = _extractive(state, c, f"{c.generator.name} unavailable ({exc}); showing the extractive answer instead")
    if draft is None or _needs_fallback(draft, c):
        draft = _extractive(state, c, "the model's answer was empty; showing the extractive answer instead")
    yield replace(state, draft=draft)


def verify(state: State, c: Components) -> State:
    """Keep the sentences their citations support; if an LLM's answer keeps none, serve the extractive one."""
    draft = state.draft
    if draft is None:
        return state
    index = c.article(state.request.article)
    judge = c.judge_for(index)
    if isinstance(judge, LLMJudge) and state.spent(c.settings.generator.request_budget_s):
        judge = judge.fallback  # the budget is spent: the heuristic judge, which takes milliseconds
    book = index.marker_book()
    result = verify_draft(draft, book, index.chunks, judge)
    if not result.sentences and not draft.fallback and draft.provider != c.fallback.name:
        removed = result.record.removed
        draft = _extractive(
            state,
            c,
            f"none of the model's {removed} sentences was supported by its citations; "
            "showing the extractive answer instead",
        )
        book = index.marker_book()
        result = verify_draft(draft, book, index.chunks, judge)
        result.record.removed += removed
    problem = _shape_problem(state, c, draft, result)
    if problem:
        draft = _extractive(state, c, f"{problem}; showing the extractive answer instead")
        book = index.marker_book()
        result = verify_draft(draft, book, index.chunks, judge)
    return replace(state, draft=draft, verified=Verified(result, book))


def _shape_problem(state: State, c: Components, draft: Draft, result: VerificationResult) -> str | None:
    """The finding-first rule for a model's answer (see verify/shape.py)."""
    if draft.provider == c.fallback.name or state.evidence is None or state.standalone is None:
        return None
    return shape_problem(draft, result, state.evidence.answer, content_terms(state.standalone.question))


def frame(state: State, c: Components) -> State:
    """The Answer: disclaimer always, then the safety reply, the abstention, or the verified sentences."""
    index = c.article(state.request.article)
    answer = c.framing.answer(state, index.title, c.generator_info, index.terms.weights.known)
    return replace(state, answer=answer)
