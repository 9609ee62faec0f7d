"""Prompts in and replies out for the chat providers, without a model: fast, and unmarked.

Small models rarely write the format they are asked for, so the reply parser is tested on the
shapes they do write (markers after the full stop, copied passage headers, "(Source 1)", answers
that also abstain). The answer prompt is tested on a hand-built request: the markers must be the
ones a reader sees, and the passages must fit the token budget. The real models run in
test_llm_providers.py.
"""

from __future__ import annotations

import pytest

from conftest import REPO
from followup_bot.evidence import Evidence
from followup_bot.generators import GenerationRequest, GeneratorError
from followup_bot.generators.answer_prompt import build_answer_prompt
from followup_bot.generators.reply_parsing import (
    clean_standalone,
    normalize_markers,
    parse_answer,
    parse_judgement,
    split_answer,
)
from followup_bot.models import Chunk, DocumentRecord, Passage, Sentence, Turn
from followup_bot.prompts import PromptLibrary

ABSTAIN = "The sources provided do not answer this question."


# ---------------------------------------------------------------------------------------------
# Reading the model's reply


def test_markers_written_after_the_full_stop_stay_with_their_sentence() -> None:
    labels = {"[A1]": "c-a1", "[1]": "c-1", "[1b]": "c-1b"}
    sentences, abstained = parse_answer(
        "Lamotrigine lowered the breakpoint in rats. [1] It did not change food seeking [1, A1]. Lee et al. saw more (Source 1b).",
        labels,
        ABSTAIN,
    )
    assert not abstained
    assert [(s.text, s.markers) for s in sentences] == [
        ("Lamotrigine lowered the breakpoint in rats.", ["[1]"]),
        ("It did not change food seeking.", ["[1]", "[A1]"]),
        ("Lee et al. saw more.", ["[1b]"]),
    ]


def test_copied_headers_are_stripped_and_invalid_markers_stay_visible() -> None:
    labels = {"[A1]": "c-a1", "[1]": "c-1"}
    reply = (
        "The article: Dose was 0.5 mg/kg [a1].\n- The source: [A1] (the article)\n- Something else [7].\n"
        "(Lee et al. 2019, preclinical animal study (rats)): Lamotrigine can weaken the effect [1]. Something else [7]."
    )
    sentences, _ = parse_answer(reply, labels, ABSTAIN)
    assert [(s.text, s.markers) for s in sentences] == [
        ("Dose was 0.5 mg/kg.", ["[A1]"]),
        ("Something else.", ["[7]"]),
        ("Lamotrigine can weaken the effect.", ["[1]"]),
    ]


@pytest.mark.parametrize("reply", [ABSTAIN, f"  {ABSTAIN.lower()}  ", f"Unfortunately no. {ABSTAIN}"])
def test_the_fixed_abstention_sentence_is_an_abstention(reply: str) -> None:
    assert parse_answer(reply, {"[1]": "c"}, ABSTAIN) == ([], True)


def test_an_answer_that_also_abstains_keeps_its_cited_sentences() -> None:
    sentences, abstained = parse_answer(f"Lamotrigine is used for epilepsy [1]. {ABSTAIN}", {"[1]": "c"}, ABSTAIN)
    assert not abstained and [s.markers for s in sentences] == [["[1]"]]


def test_a_marker_closing_a_paragraph_covers_the_uncited_sentences_before_it() -> None:
    labels = {"[1]": "c-1", "[2]": "c-2"}
    sentences, _ = parse_answer(
        "Rats were used. They pressed a lever. [1]\n\nA case report exists.\n\nCraving fell [2].", labels, ABSTAIN
    )
    assert [(s.text, s.markers) for s in sentences] == [
        ("Rats were used.", ["[1]"]),
        ("They pressed a lever.", ["[1]"]),
        ("A case report exists.", []),
        ("Craving fell.", ["[2]"]),
    ]


def test_a_marker_mid_paragraph_is_not_lent_to_the_sentences_before_it() -> None:
    labels = {"[1]": "c-1", "[2]": "c-2"}
    sentences, _ = parse_answer(
        "Rats were used [1]. They pressed a lever. A case report exists [2]. It was small.", labels, ABSTAIN
    )
    assert [s.markers for s in sentences] == [["[1]"], [], ["[2]"], []]


def test_citing_words_before_a_marker_are_dropped_with_it() -> None:
    labels = {"[2]": "c-2"}
    assert [s.text for s in parse_answer("The case report in [2] describes less craving.", labels, ABSTAIN)[0]] == [
        "The case report describes less craving."
    ]
    assert [s.text for s in parse_answer("According to [2], craving fell.", labels, ABSTAIN)[0]] == ["Craving fell."]


def test_sentences_are_not_split_at_decimals_or_et_al() -> None:
    assert split_answer("Rats got 0.5 mg/kg per infusion [1]. Lee et al. 2019 is a rat study [1].") == [
        "Rats got 0.5 mg/kg per infusion [1].",
        "Lee et al. 2019 is a rat study [1].",
    ]


def test_marker_spellings_are_normalized_to_the_prompt_labels() -> None:
    labels = {"[A2]": "x", "[3]": "y"}
    assert normalize_markers("Source 3, a2", labels) == ["[3]", "[A2]"]
    assert normalize_markers("9", labels) == ["[9]"]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("SUPPORTED", True), (" NOT_SUPPORTED\n", False), ("Not supported.", False), ("supported", True)],
)
def test_the_judges_verdict_is_read_from_its_reply(reply: str, expected: bool) -> None:
    assert parse_judgement(reply) is expected


def test_a_judge_reply_that_is_neither_verdict_is_an_error() -> None:
    with pytest.raises(GeneratorError, match="not SUPPORTED"):
        parse_judgement("Maybe, it depends")


def test_a_standalone_rewrite_is_cleaned_or_rejected() -> None:
    history = [
        Turn(role="user", content="Can lamotrigine reduce ketamine craving?"),
        Turn(role="assistant", content="In rats, yes [1]."),
    ]
    assert (
        clean_standalone(
            "Standalone question: What dose of lamotrigine was used?\nExtra", "What dose was used?", history
        )
        == "What dose of lamotrigine was used?"
    )
    assert clean_standalone("", "What dose?", history) is None
    assert (
        clean_standalone("Paris is the capital of France.", "What dose?", history) is None
    )  # unrelated to the conversation


def test_chat_generators_offer_the_standalone_rewrite_under_the_name_the_pipeline_looks_up() -> None:
    from followup_bot.generators.chat import ChatGenerator

    # components.build_components: getattr(generator, "standalone_question", None)
    assert callable(getattr(ChatGenerator, "standalone_question", None))


# ---------------------------------------------------------------------------------------------
# The answer prompt


def _request(personal_dose: bool = False, audience: str = "clinician") -> GenerationRequest:
    records = {
        "article": DocumentRecord(id="article", path="article.md", kind="article", title="The article"),
        "ref1": DocumentRecord(
            id="ref1",
            path="r1.md",
            kind="source",
            reference_number=1,
            authors=["Mei-Yi Lee", "B"],
            year=2019,
            study_type="preclinical animal study (rats)",
        ),
    }

    def chunk(cid: str, source: str, sentences: list[str]) -> Chunk:
        text = " ".join(sentences)
        sents, pos = [], 0
        for s in sentences:
            sents.append(Sentence(text=s, start=pos, end=pos + len(s)))
            pos += len(s) + 1
        return Chunk(
            chunk_id=cid,
            source_id=source,
            text=text,
            section="s",
            start=0,
            end=len(text),
            sentences=sents,
            kind="record",
        )

    chunks = {
        "a1": chunk(
            "a1", "article", ["No established dosing protocols exist specifically for ketamine use disorder [2]."]
        ),
        "r1": chunk(
            "r1", "ref1", ["Lamotrigine lowered the breakpoint for ketamine.", "It did not change food seeking."]
        ),
        "r1b": chunk("r1b", "ref1", ["Rats pressed a lever for ketamine (0.5 mg/kg per infusion)."]),
    }
    passages = [
        Passage(chunk_id=c.chunk_id, source_id=c.source_id, score=1.0 - i / 10, text=c.text, rank=i + 1)
        for i, c in enumerate(chunks.values())
    ]
    evidence = Evidence(sentences=[], chosen=[], key_terms={}, coverage=1.0, best=1.0, abstain=False)
    return GenerationRequest("What dose?", "What dose?", passages, evidence, chunks, records, audience, personal_dose)


def test_the_answer_prompt_labels_passages_like_the_reader_sees_them() -> None:
    prompt = build_answer_prompt(_request(), PromptLibrary(REPO / "prompts"), n_ctx=2048, max_tokens=96)
    assert prompt.labels == {"[A1]": "a1", "[1]": "r1", "[1b]": "r1b"}
    user = prompt.messages[1]["content"]
    assert (
        "[1] (Lee et al., preclinical animal study (rats)): Lamotrigine lowered the breakpoint for ketamine [1]."
        in user
    )
    assert (
        "for ketamine use disorder [A1]." in user and "[2]" not in user
    )  # the article's own reference numbers are not shown
    assert prompt.abstention == ABSTAIN and ABSTAIN in prompt.messages[0]["content"]
    assert "Question: What dose?" in user
    assert "clinician" in prompt.messages[0]["content"]


def test_the_answer_prompt_forbids_individual_dosing_and_follows_the_audience() -> None:
    plain = build_answer_prompt(_request(), PromptLibrary(REPO / "prompts"), n_ctx=2048, max_tokens=96)
    personal = build_answer_prompt(
        _request(personal_dose=True, audience="patient"), PromptLibrary(REPO / "prompts"), n_ctx=2048, max_tokens=96
    )
    assert "Do not give any dose" not in plain.messages[1]["content"]
    assert "Do not give any dose" in personal.messages[1]["content"]
    assert "patient" in personal.messages[0]["content"]


def test_the_answer_prompt_fits_the_token_budget() -> None:
    small = build_answer_prompt(_request(), PromptLibrary(REPO / "prompts"), n_ctx=512, max_tokens=300)
    assert 1 <= len(small.labels) < 3
