"""The shape of an answer: the sentence that answers first, methods only when asked, caveats last."""

from __future__ import annotations

from followup_bot.evidence.compose import Shape, clause_of, compose
from followup_bot.evidence.ranking import ScoredSentence
from followup_bot.text import content_terms


def s(text: str, role: str, score: float, index: int = 0, chunk: str = "c1") -> ScoredSentence:
    return ScoredSentence(chunk, index, text, score, score, 0.0, "article", 1, role=role)


METHOD = s("Male rats learned to press a lever for ketamine infusions during daily sessions.", "method", 0.9, 0)
FINDING = s("Lamotrigine lowered the breakpoint for ketamine in the rats.", "finding", 0.86, 1)
CAVEAT = s("The study was small and used only male rats.", "caveat", 0.85, 2)
CONCLUSION = s("Lamotrigine may help prevent relapse to ketamine use.", "conclusion", 0.84, 3)
POOL = [METHOD, FINDING, CAVEAT, CONCLUSION]


def specific(question: str) -> dict[str, float]:
    return dict.fromkeys(content_terms(question), 1.0)


def test_a_what_did_it_show_question_leads_with_the_finding_and_leaves_methods_out() -> None:
    q = "What did the rat study show about ketamine?"
    answer = compose(POOL, q, specific(q), Shape(4, 200))
    assert answer[0] is FINDING or answer[0].text == FINDING.text
    assert all(x.role != "method" for x in answer)


def test_a_how_was_it_done_question_leads_with_the_method() -> None:
    q = "How was the study done?"
    answer = compose(POOL, q, specific(q), Shape(4, 200))
    assert answer[0].role == "method"


def test_caveats_come_last_unless_limitations_are_asked_for() -> None:
    q = "What did the rat study show about ketamine?"
    answer = compose(POOL, q, specific(q), Shape(4, 200))
    assert answer[-1].role == "caveat"
    asked = "What are the limitations of the study?"
    assert compose(POOL, asked, specific(asked), Shape(4, 200))[0].role == "caveat"


def test_a_patient_answer_keeps_to_its_sentence_limit() -> None:
    q = "What did the rat study show about ketamine?"
    assert len(compose(POOL, q, specific(q), Shape(sentences=2, words=40))) <= 2


def test_a_sentence_that_announces_what_follows_brings_its_continuation() -> None:
    announce = s("There are two ways that lamotrigine might do more harm than good.", "finding", 0.9, 0, "c2")
    first = s("First, it may blunt the antidepressant effect of ketamine.", "finding", 0.0, 1, "c2")
    second = s("Second, it may cause a serious rash.", "caveat", 0.0, 2, "c2")
    q = "In what two ways could lamotrigine do harm?"
    answer = compose([announce], q, specific(q), Shape(4, 200), lambda x: [first, second])
    assert [x.text for x in answer] == [announce.text, first.text, second.text]


def test_only_the_answering_clause_of_a_long_sentence_is_quoted_as_an_exact_span() -> None:
    text = (
        "Participants were recruited from three outpatient clinics over two years in a large city in the north "
        "of the country; "
        "lamotrigine reduced ketamine craving scores by half compared with placebo at twelve weeks of follow-up"
    )
    span = clause_of(s(text, "finding", 0.9), set(content_terms("Did lamotrigine reduce craving scores?")))
    assert span is not None
    assert text[span[0] : span[1]].startswith("lamotrigine reduced ketamine craving")


def test_a_clause_is_not_cut_away_from_a_negation_that_changes_its_meaning() -> None:
    text = (
        "This was not seen in the patients who took the drug for longer than a year at any of the clinics; "
        "lamotrigine reduced ketamine craving scores by half compared with placebo at twelve weeks of follow-up"
    )
    assert clause_of(s(text, "finding", 0.9), set(content_terms("Did lamotrigine reduce craving scores?"))) is None


def test_a_bibliographic_question_leads_with_the_record_sentence_of_the_field_it_asks_for() -> None:
    kind = s("Study type of Lee et al. 2019: preclinical animal study (rats).", "record", 0.9, 0, "r1")
    doi = s("Lee et al. 2019 is identified by DOI 10.1016/j.drugalcdep.2018.10.028.", "record", 0.8, 1, "r1")
    q = "doi for lee et al's rat study pls"
    assert compose([kind, doi], q, specific(q), Shape(4, 200))[0] is doi


def test_a_two_part_question_is_split_into_its_parts() -> None:
    from followup_bot.evidence.compose import question_parts

    assert question_parts("How many rats were used, and what dose did they get?") == [
        "How many rats were used",
        "what dose did they get",
    ]
    assert question_parts("What did the study find?") == ["What did the study find"]


def test_a_part_the_answer_says_nothing_about_is_reported_as_not_stated() -> None:
    from followup_bot.evidence.compose import unstated_parts

    q = "Did lamotrigine lower the breakpoint, and what happened to appetite?"
    spec = specific(q)
    answer = [FINDING]
    missing = [t for t in spec if t not in content_terms(FINDING.text)]
    assert unstated_parts(q, answer, spec, missing) == ["what happened to appetite"]
    assert unstated_parts("Did lamotrigine lower the breakpoint?", answer, spec, missing) == []


def test_a_sentence_that_adds_nothing_asked_must_fit_the_budget_and_one_that_answers_a_part_may_stretch_it() -> None:
    lead = s("Lamotrigine lowered the breakpoint for ketamine in the rats.", "finding", 0.9, 0)  # 9 words
    filler = s("The effect was seen in every session of the experiment and in both groups.", "finding", 0.85, 1)
    part = s("Food seeking was unchanged in the same animals across sessions.", "finding", 0.8, 2)
    q = "Did lamotrigine change ketamine and food seeking?"
    tight = compose([lead, filler, part], q, specific(q), Shape(4, 12, stretch=2.0))
    assert [x.text for x in tight] == [lead.text, part.text]  # the filler would overrun; the food part may
    no_stretch = compose([lead, filler, part], q, specific(q), Shape(4, 8, stretch=1.0))  # the lead is already over
    assert [x.text for x in no_stretch] == [lead.text]
    roomy = compose([lead, filler, part], q, specific(q), Shape(4, 200))
    assert len(roomy) == 3
