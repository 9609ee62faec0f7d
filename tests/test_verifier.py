"""The verifier on crafted sentences against real corpus passages.

Each bad sentence is the kind of error a small model makes while still *looking* grounded: a
wrong number, a flipped negation, a swapped drug, an invented dose, a missing or made-up marker.
The cases are clear-cut on purpose, so they hold while the heuristic judge is being tuned.
"""

from __future__ import annotations

from typing import Any

import pytest

from followup_bot.citations import MarkerBook
from followup_bot.generators import Draft, DraftSentence
from followup_bot.models import Chunk
from followup_bot.verify import VerificationResult, verify_draft
from followup_bot.verify.llm_judge import LLMJudge

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def parts(assistant: Any) -> dict[str, Any]:
    view = assistant.article()
    return {"chunks": dict(view.chunks), "records": dict(view.records), "judge": assistant.judge()}


def chunk_with(chunks: dict[str, Chunk], text: str, source_id: str | None = None) -> str:
    """The id of the live chunk holding `text` (fails loudly if the corpus changed)."""
    found = [cid for cid, ch in chunks.items() if text in ch.text and (source_id is None or ch.source_id == source_id)]
    assert found, f"no chunk holds {text!r}"
    return found[0]


def run(
    parts: dict[str, Any], sentences: list[tuple[str, list[str]]], labels: dict[str, str], judge: Any = None
) -> VerificationResult:
    draft = Draft(
        sentences=[DraftSentence(text=t, markers=m) for t, m in sentences],
        provider="test",
        model="crafted",
        labels=labels,
    )
    return verify_draft(draft, MarkerBook(parts["chunks"], parts["records"]), parts["chunks"], judge or parts["judge"])


def assert_consistent(result: VerificationResult, n: int) -> None:
    record = result.record
    assert record.sentences == n
    assert record.supported == len(result.sentences)
    assert record.supported + record.removed == n
    assert len(record.details) == record.removed


# The real passages the cases cite.
FOOD = "Lamotrigine did not change the breakpoint for food"
HALOPERIDOL = "Haloperidol: one paper found an interaction with ketamine and two did not."
TITRATION = "starting at 25 mg daily"
INCLUDED = "Twenty-four studies were included."
METHODS = "intravenous ketamine (0.5 mg/kg per infusion)"
LITHIUM = "Lithium: no significant interactions with ketamine were reported."
MATHEW = "Patients took lamotrigine 300 mg or placebo"
# The invention MODELS.md reports, with the number borrowed from a real passage about a trial.
REROLED_DOSE = "The maximum daily dose of lamotrigine for ketamine use disorder is 300 mg."


@pytest.fixture(scope="module")
def labels(parts: dict[str, Any]) -> dict[str, str]:
    chunks = parts["chunks"]
    return {
        "[1]": chunk_with(chunks, FOOD, "ref1"),
        "[1b]": chunk_with(chunks, METHODS, "ref1"),
        "[4]": chunk_with(chunks, HALOPERIDOL, "ref4"),
        "[4b]": chunk_with(chunks, INCLUDED, "ref4"),
        "[4c]": chunk_with(chunks, LITHIUM, "ref4"),
        "[A1]": chunk_with(chunks, TITRATION, "article"),
        "[5]": chunk_with(chunks, MATHEW, "ref5"),
    }


GOOD = [
    ("Lamotrigine did not change the breakpoint for food.", ["[1]"]),
    ("One paper found an interaction between haloperidol and ketamine, and two did not.", ["[4]"]),
    ("Twenty-four studies were included in the review.", ["[4b]"]),
    ("The rats self-administered intravenous ketamine at 0.5 mg/kg per infusion.", ["[1b]"]),
    ("Standard titration starts at 25 mg daily and increases gradually to minimize rash risk.", ["[A1]"]),
]


@pytest.mark.parametrize(("text", "markers"), GOOD)
def test_supported_sentences_are_kept_with_exact_quotes(
    parts: dict[str, Any], labels: dict[str, str], text: str, markers: list[str]
) -> None:
    result = run(parts, [(text, markers)], labels)
    assert_consistent(result, 1)
    assert result.record.removed == 0, result.record.details
    (kept,) = result.sentences
    (citation,) = kept.citations
    chunk = parts["chunks"][labels[markers[0]]]
    assert citation.chunk_id == chunk.chunk_id
    assert " ".join(citation.quote.split()) in " ".join(chunk.text.split())


BAD = [
    pytest.param("Three papers found an interaction between haloperidol and ketamine.", ["[4]"], id="wrong-number"),
    pytest.param("The review included 34 studies.", ["[4b]"], id="wrong-number-digits"),
    pytest.param("The rats self-administered intravenous ketamine at 5 mg/kg per infusion.", ["[1b]"], id="wrong-dose"),
    pytest.param("Lamotrigine changed the breakpoint for food.", ["[1]"], id="flipped-negation"),
    pytest.param("Lithium had significant interactions with ketamine.", ["[4c]"], id="flipped-negation-2"),
    pytest.param("In rats, memantine did not change the breakpoint for food.", ["[1]"], id="swapped-drug"),
    pytest.param(
        "The maximum recommended daily dose of lamotrigine for ketamine use disorder is 100 mg.",
        ["[A1]"],
        id="invented-dose",
    ),
    pytest.param("Lamotrigine did not change the breakpoint for food.", [], id="missing-marker"),
    pytest.param("Lamotrigine did not change the breakpoint for food.", ["[9]"], id="invalid-marker"),
]


@pytest.mark.parametrize(("text", "markers"), BAD)
def test_unsupported_sentences_are_removed(
    parts: dict[str, Any], labels: dict[str, str], text: str, markers: list[str]
) -> None:
    result = run(parts, [(text, markers)], labels)
    assert_consistent(result, 1)
    assert result.sentences == [] and result.record.removed == 1
    assert result.record.details[0]["removed"]


def test_wrong_passage_is_not_support(parts: dict[str, Any], labels: dict[str, str]) -> None:
    """A true sentence cited to a passage that does not say it is still removed."""
    result = run(parts, [("Lamotrigine did not change the breakpoint for food.", ["[4b]"])], labels)
    assert result.sentences == [] and result.record.removed == 1


def test_mixed_draft_keeps_only_what_is_supported(parts: dict[str, Any], labels: dict[str, str]) -> None:
    sentences = [
        GOOD[0],
        ("The maximum recommended daily dose of lamotrigine for ketamine use disorder is 100 mg.", ["[A1]"]),
        (
            "One paper found an interaction between haloperidol and ketamine, and two did not.",
            ["[4]", "[7]"],
        ),  # one valid marker is enough
        ("Lamotrigine cures ketamine addiction.", []),
    ]
    result = run(parts, sentences, labels)
    assert_consistent(result, 4)
    assert [s.text for s in result.sentences] == [GOOD[0][0], sentences[2][0]]
    assert [[c.chunk_id for c in s.citations] for s in result.sentences] == [[labels["[1]"]], [labels["[4]"]]]
    reasons = " | ".join(d["removed"] for d in result.record.details)
    assert "100" in reasons and "no valid marker" in reasons


class _AlwaysYes:
    """An LLM that calls everything SUPPORTED: the worst case the strict vetoes must survive."""

    def __init__(self) -> None:
        self.asked = 0

    def judge_support(self, claim: str, passage: str) -> bool:
        self.asked += 1
        return True


class _Broken:
    def judge_support(self, claim: str, passage: str) -> bool:
        raise RuntimeError("server down")


def test_llm_judge_cannot_overrule_strict_vetoes(parts: dict[str, Any], labels: dict[str, str]) -> None:
    llm = _AlwaysYes()
    judge = LLMJudge(llm, fallback=parts["judge"])
    bad = [
        ("The maximum recommended daily dose of lamotrigine for ketamine use disorder is 100 mg.", ["[A1]"]),
        ("The rats self-administered intravenous ketamine at 5 mg/kg per infusion.", ["[1b]"]),
        ("Lamotrigine changed the breakpoint for food.", ["[1]"]),
    ]
    result = run(parts, bad, labels, judge)
    assert result.sentences == [] and result.record.removed == 3
    good = run(parts, [GOOD[0]], labels, judge)
    assert len(good.sentences) == 1 and llm.asked > 0


def test_llm_judge_falls_back_to_the_heuristic_on_errors(parts: dict[str, Any], labels: dict[str, str]) -> None:
    judge = LLMJudge(_Broken(), fallback=parts["judge"])
    result = run(parts, [GOOD[0], ("Lamotrigine changed the breakpoint for food.", ["[1]"])], labels, judge)
    assert [s.text for s in result.sentences] == [GOOD[0][0]]
    assert judge.errors > 0


def test_llm_judge_vetoes_a_dose_given_a_role_the_passage_does_not_give_it(
    parts: dict[str, Any], labels: dict[str, str]
) -> None:
    """300 mg is in the passage (a single pre-infusion dose in a trial); "maximum daily dose" is not."""
    judge = LLMJudge(_AlwaysYes(), fallback=parts["judge"])
    result = run(
        parts,
        [(REROLED_DOSE, ["[5]"]), ("Patients took lamotrigine 300 mg before the ketamine infusion.", ["[5]"])],
        labels,
        judge,
    )
    assert [s.text for s in result.sentences] == ["Patients took lamotrigine 300 mg before the ketamine infusion."]
    assert "dose stated as maximum" in result.record.details[0]["removed"]


def test_heuristic_judge_rejects_a_dose_given_a_new_role(parts: dict[str, Any], labels: dict[str, str]) -> None:
    result = run(parts, [(REROLED_DOSE, ["[5]"])], labels)
    assert result.sentences == []


class _AlwaysNo:
    def __init__(self) -> None:
        self.asked = 0

    def judge_support(self, claim: str, passage: str) -> bool:
        self.asked += 1
        return False


def test_llm_judge_confirms_paraphrases_but_never_second_guesses_a_quote(
    parts: dict[str, Any], labels: dict[str, str]
) -> None:
    llm = _AlwaysNo()
    judge = LLMJudge(llm, fallback=parts["judge"])
    paraphrase = run(parts, [GOOD[1]], labels, judge)
    assert paraphrase.sentences == [] and llm.asked > 0, (
        "in confirm mode the LLM can remove what the heuristic accepted"
    )
    asked = llm.asked
    quote = run(parts, [(LITHIUM, ["[4c]"])], labels, judge)
    assert len(quote.sentences) == 1 and llm.asked == asked, "a verbatim sentence of the passage is not re-judged"
