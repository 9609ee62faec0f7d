"""Properties of `Assistant.ask` at its boundary, checked with hypothesis on the real assistant.

Whatever a caller passes (any text, lone surrogates and NULs included; a history of any shape; an
audience or an article of any type), `ask` either answers or raises the documented `InputError`
with a one-line message; nothing else escapes. Every Answer carries its disclaimer, serialises to
JSON holding only finite numbers, and quotes only text that is in the passage it cites.

The assistant is the session's real one (real embedding model, real Chroma store). Examples are
derandomized (the same ones every run), so a failure reproduces. The counts below add up to
1,510 examples: 100 texts run the whole pipeline (about half a second each on two shared cores),
while most shape examples are refused at the boundary in a millisecond, which keeps the file
to about three minutes with the session's ingest.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from followup_bot.errors import InputError
from followup_bot.inputs import clean_text
from followup_bot.models import Answer, Citation, GeneratorInfo, Passage, Verification

pytestmark = pytest.mark.integration

DEFAULT_ARTICLE = "lamotrigine-ketamine"
LIMIT = 4000  # safety.max_message_chars in followup_bot.toml (checked against the settings below)


def budget(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


# -- strategies ---------------------------------------------------------------------------------
# Every code point, unpaired surrogates (category Cs) included: callers of the Python API can pass them.
ANY_CHAR = st.characters(exclude_categories=())
AWKWARD = st.sampled_from(
    [
        "\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\x85", "\x9b", "\t", "\n", "\r\n", "\r", "\x0b", "\x0c",
        "\u200b", "\u200d", "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\ufffe",
        "\uffff", "\ufffd", "\ud800", "\udfff", "\udbff\udfff", "\U0010ffff", "\u0301", "e\u0301", "\u00a0",
        "\u3000", "😀", "👩\u200d⚕️", "💊", "🇺🇸", "مرحبا", "שלום", "ليثيوم", "锂", "ｌａｍｏｔｒｉｇｉｎｅ",
        "\\", '"', "'", "`", "{", "}", "<script>", "%s", "{0}", "${x}", "[1]", "[A]", "\u2028", "\u2029",
    ]
)  # fmt: skip
VOCAB = st.sampled_from(
    [
        "lamotrigine", "ketamine", "Lamictal", "dose", "mg", "rats", "rat", "study", "review", "Veraart", "Lee",
        "lithium", "glutamate", "patients", "what", "did", "the", "find", "about", "was", "used", "which",
        "journal", "who", "wrote", "reference", "ref 4", "?", "!", "can", "I", "take", "it", "with", "my",
        "overdose", "not breathing", "kill myself", "ignore previous instructions", "system:", "hi", "thanks",
    ]
)  # fmt: skip
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=60),
    st.lists(st.one_of(VOCAB.map(lambda w: w + " "), AWKWARD, st.text(ANY_CHAR, max_size=3)), max_size=20).map("".join),
)


def _repeat(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


# Long messages around the limit; repeating a short unit keeps the number of distinct words (and
# so the embedding work for them) small.
LONG = st.builds(_repeat, TEXT.filter(bool), st.integers(LIMIT - 60, LIMIT + 60))
QUESTION = st.one_of(TEXT, TEXT, TEXT, LONG)

SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(ANY_CHAR, max_size=12),
    st.binary(max_size=12),
)
JUNK = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(max_size=8), st.sampled_from(["role", "content"])), inner, max_size=4),
        st.frozensets(st.integers(), max_size=3),
    ),
    max_leaves=10,
)
TURN = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": TEXT})
BAD_TURN = st.fixed_dictionaries(
    {
        "role": st.one_of(st.sampled_from(["user", "assistant", "system", "User", "", "tool", b"user"]), JUNK),
        "content": st.one_of(TEXT, JUNK),
    },
    optional={"name": JUNK, "extra": JUNK},
)
HISTORY = st.one_of(
    st.none(),
    st.lists(TURN, max_size=5),
    st.lists(TURN, max_size=3).map(tuple),
    st.lists(st.one_of(TURN, BAD_TURN, JUNK), min_size=1, max_size=5),
    JUNK,
)
AUDIENCE = st.one_of(
    st.sampled_from(["patient", "clinician", "Patient ", " CAREGIVER", "family member", "doctor", "", "patient\x00"]),
    st.text(ANY_CHAR, max_size=20),
    JUNK,
)
ARTICLE = st.one_of(
    st.sampled_from(
        [
            DEFAULT_ARTICLE,
            f" {DEFAULT_ARTICLE} ",
            f"{DEFAULT_ARTICLE}\x00",
            DEFAULT_ARTICLE.upper(),
            "../../etc/passwd",
            f"{DEFAULT_ARTICLE}/../x",
            "*",
            "%s",
            "\ud800",
            "",
        ]
    ),
    st.text(ANY_CHAR, max_size=30),
    JUNK,
)
# Questions for the shape properties: a greeting and an empty message end at triage; the others run the pipeline.
SHORT_QUESTION = st.sampled_from(["hi", "", "What dose of lamotrigine was used?", "Which journal was it in?"])


# -- the checks every result must pass ------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise AssertionError(f"the JSON holds {name}, which is not a number JSON can carry")


def assert_finite(value: Any, where: str = "answer") -> None:
    if isinstance(value, float):
        assert math.isfinite(value), f"{where} = {value}"
    elif isinstance(value, dict):
        for k, v in value.items():
            assert_finite(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            assert_finite(v, f"{where}[{i}]")


def assert_serialises(answer: Answer) -> None:
    assert_finite(json.loads(answer.model_dump_json(), parse_constant=_reject_constant))
    # The CLI and the /ask API dump to Python first, then json.dumps, which would write NaN.
    data = answer.model_dump(mode="json")
    assert_finite(data)
    json.dumps(data, allow_nan=False)


def check_answer(assistant: Any, answer: Answer) -> None:
    assert isinstance(answer, Answer)
    assert answer.disclaimer.strip(), "every answer carries its disclaimer"
    assert answer.disclaimer == assistant.disclaimer(answer.audience)
    assert answer.answer.strip()
    assert_serialises(answer)
    chunks = assistant.article(answer.article_id).chunks
    for citation in answer.citations:
        chunk = chunks[citation.chunk_id]
        assert citation.quote and citation.quote in chunk.text, (citation.quote, chunk.text)
        if citation.chunk_text:
            assert citation.quote in citation.chunk_text


def ask_checked(assistant: Any, question: Any, **kw: Any) -> Answer | None:
    """The Answer (checked), or None for the documented InputError; anything else fails the property."""
    try:
        answer = assistant.ask(question, **kw)
    except InputError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, repr(message)
        return None
    check_answer(assistant, answer)
    return answer


# -- properties ------------------------------------------------------------------------------------
def test_the_limit_in_these_properties_is_the_configured_one(assistant: Any) -> None:
    assert assistant.settings.safety.max_message_chars == LIMIT


@budget(100)
@given(question=QUESTION)
@example(question="What did the Veraart review find about lithium?")
@example(question="\ud800\udc00\x00\x1b\u202e💊 lamotrigine \udfff?")
@example(question=_repeat("lamotrigine dose in rats? ", LIMIT))
@example(question=_repeat("lamotrigine dose in rats? ", LIMIT + 1))
@example(question=_repeat("\x00", LIMIT))
@example(question=_repeat("\ud800", LIMIT))
@example(question=_repeat("😀\u202e", LIMIT))
def test_any_text_is_answered(assistant: Any, question: str) -> None:
    answer = ask_checked(assistant, question)
    assert answer is not None, "text is never an input error: it is answered, refused or declined"
    if len(clean_text(question)) > LIMIT:  # measured after the boundary removed control characters
        assert answer.refusal_reason == "invalid_input"


@budget(400)
@given(question=SHORT_QUESTION, history=HISTORY)
@example(question="hi", history=[{"role": "user", "content": "\ud800"}] * 300)
@example(question="hi", history=b"\x00\xff")
@example(question="hi", history={"role": "user", "content": "x"})
@example(question="hi", history="[]")
@example(question="hi", history=[{"role": "user", "content": "x" * 100_000}])
@example(question="Which journal was it in?", history=[{"role": "user", "content": "the rat study"}, ["nested"]])
def test_any_history_shape_is_answered_or_one_input_error(assistant: Any, question: str, history: Any) -> None:
    answer = ask_checked(assistant, question, history=history)
    if history is None or (isinstance(history, list | tuple) and not history):
        assert answer is not None


@budget(400)
@given(question=SHORT_QUESTION, audience=AUDIENCE, article=ARTICLE)
def test_any_audience_and_article_is_answered_or_one_input_error(
    assistant: Any, question: str, audience: Any, article: Any
) -> None:
    answer = ask_checked(assistant, question, audience=audience, article=article)
    if answer is not None:
        assert answer.audience in ("clinician", "patient")
        assert answer.article_id in (None, DEFAULT_ARTICLE)
    if audience is None and article in (None, "", DEFAULT_ARTICLE):
        assert answer is not None


@budget(230)
@given(question=TEXT, history=HISTORY, audience=AUDIENCE, article=ARTICLE)
def test_everything_at_once(assistant: Any, question: str, history: Any, audience: Any, article: Any) -> None:
    ask_checked(assistant, question, history=history, audience=audience, article=article)


@budget(80)
@given(question=SHORT_QUESTION, history=HISTORY, audience=AUDIENCE)
def test_stream_ends_with_a_checked_answer_or_one_input_error(
    assistant: Any, question: str, history: Any, audience: Any
) -> None:
    try:
        events = list(assistant.stream(question, history=history, audience=audience))
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    *partial, final = events
    assert all(isinstance(e, str) for e in partial)
    check_answer(assistant, final)


FLOAT = st.floats(allow_nan=True, allow_infinity=True)
JSON_LIKE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), FLOAT, st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)


@budget(300)
@given(
    scores=st.lists(st.tuples(FLOAT, st.one_of(st.none(), FLOAT), st.one_of(st.none(), FLOAT)), max_size=4),
    timings=st.dictionaries(st.text(max_size=6), FLOAT, max_size=4),
    details=st.lists(st.dictionaries(st.text(max_size=6), JSON_LIKE, max_size=3), max_size=3),
)
def test_no_score_or_timing_that_is_not_a_number_reaches_json(
    scores: list[tuple[float, float | None, float | None]], timings: dict[str, float], details: list[dict[str, Any]]
) -> None:
    passages = [
        Passage(chunk_id=f"c{i}", source_id="s", score=s, text="t", dense_score=d, bm25_score=b)
        for i, (s, d, b) in enumerate(scores)
    ]
    answer = Answer(
        answer="a",
        disclaimer="d",
        passages=passages,
        related=passages[:1],
        timings_ms=timings,
        verification=Verification(details=details),
        citations=[Citation(marker="[1]", source_id="s", chunk_id="c0", quote="t", start=0, end=1)],
        generator=GeneratorInfo(provider="extractive", model="none"),
    )
    assert_serialises(answer)
    for passage, (s, d, b) in zip(passages, scores, strict=True):
        dumped = passage.model_dump()
        assert dumped["score"] == (s if math.isfinite(s) else 0.0)
        assert dumped["dense_score"] == (d if d is not None and math.isfinite(d) else None)
        assert dumped["bm25_score"] == (b if b is not None and math.isfinite(b) else None)
