"""Conversation requests through the whole pipeline, with the real model and store: each reshapes or
redirects the answer, and none is ever turned away as out of scope."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

FIRST = "What did the rat study show?"


@pytest.fixture(scope="module")
def first(assistant):
    answer = assistant.ask(FIRST)
    assert not answer.refused
    return answer


def history(first) -> list[dict[str, str]]:
    return [{"role": "user", "content": FIRST}, {"role": "assistant", "content": first.answer}]


def test_more_detail_reaches_further_than_the_answer_it_expands(assistant, first) -> None:
    more = assistant.ask("Tell me more detail", history=history(first))
    assert not more.refused
    assert len(more.answer.split()) > len(first.answer.split())
    assert first.citations[0].quote in {c.quote for c in more.citations}  # it expands, not replaces


def test_summarise_the_article_mid_conversation_covers_the_article_not_the_last_answer(assistant, first) -> None:
    summary = assistant.ask("summarise the article", history=history(first))
    assert not summary.refused
    assert len(summary.citations) >= 3
    assert any(c.source_id == "article" for c in summary.citations)
    assert summary.answer.lstrip().startswith("- ")


def test_a_simpler_version_for_a_relative_keeps_to_three_sentences_and_is_never_out_of_scope(assistant, first) -> None:
    simpler = assistant.ask("Can you say that more simply for my mum?", history=history(first))
    assert not simpler.refused and simpler.refusal_reason is None
    assert 1 <= len(simpler.citations) <= 3


def test_a_request_for_bullet_points_answers_as_a_list(assistant, first) -> None:
    bullets = assistant.ask("Give me that in 3 bullet points", history=history(first))
    assert not bullets.refused
    lines = [line for line in bullets.answer.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 3 and all(line.startswith("- ") for line in lines)


def test_which_source_says_that_answers_with_the_publication_record(assistant, first) -> None:
    source = assistant.ask("Which source says that?", history=history(first))
    assert not source.refused
    assert "Lee" in source.answer and "Drug and Alcohol Dependence" in source.answer


def test_a_population_switch_keeps_the_topic(assistant, first) -> None:
    people = assistant.ask("And in people?", history=history(first))
    assert not people.refused
    assert "following up on" in people.standalone_question
