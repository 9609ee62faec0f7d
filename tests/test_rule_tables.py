"""Every rule table carries its own examples, and one test runs them all.

A row that stops firing on one of its `fires_on` messages, or starts firing on a `quiet_on`
one, fails here with the row's name, so a pattern cannot drift from what it was written for.
"""

from __future__ import annotations

import pytest

from followup_bot.corpus.roles import SECTION_ROLES, SENTENCE_CUES
from followup_bot.evidence.answer_types import ANSWER_TYPES
from followup_bot.evidence.compose import FOCI, focus_of
from followup_bot.lexicon.intents import INTENTS, intent_of
from followup_bot.lexicon.records import RECORD_FIELD_ROWS
from followup_bot.settings import SafetySettings
from followup_bot.triage import ALL_RULES, SafetyTriage, clean_message
from followup_bot.triage.context_rules import CONTEXT_CUES

SAFETY_KINDS = {"crisis", "emergency", "emergency_plain", "personal_dose", "injection", "injection_framing"}


def normalised(message: str) -> str:
    """The text the triage rows read: cleaned, lower-cased, with typographic apostrophes folded."""
    return clean_message(message).lower().replace("’", "'")


TABLES = (*ALL_RULES, *CONTEXT_CUES)


def test_every_rule_has_a_unique_name_and_at_least_two_examples_each_way() -> None:
    names = [r.name for r in TABLES]
    assert len(names) == len(set(names))
    thin = [r.name for r in TABLES if len(r.fires_on) < 2 or len(r.quiet_on) < 2]
    assert not thin, f"rules without two fires_on and two quiet_on examples: {thin}"


@pytest.mark.parametrize(
    "rule,message,should_fire",
    [(r, m, True) for r in TABLES for m in r.fires_on] + [(r, m, False) for r in TABLES for m in r.quiet_on],
    ids=lambda v: v.name if hasattr(v, "pattern") else (v if isinstance(v, str) else ""),
)
def test_each_triage_rule_fires_on_its_examples_and_stays_quiet_on_its_near_misses(
    rule, message: str, should_fire: bool
) -> None:
    text = message if rule.name in ("role_line", "role_tags") else normalised(message)
    assert (rule.match(text) is not None) is should_fire


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.kind in ("crisis",)], ids=lambda r: r.name)
def test_a_crisis_rule_example_gets_the_crisis_reply_from_the_whole_triage(rule) -> None:
    triage = SafetyTriage(SafetySettings())
    for message in rule.fires_on:
        verdict = triage.check(message)
        assert verdict.kind == "crisis", (message, verdict)


def test_the_triage_verdict_names_the_rule_that_decided() -> None:
    verdict = SafetyTriage(SafetySettings()).check("my friend is not breathing")
    assert verdict.kind == "emergency" and verdict.rule == "not_breathing_well"


@pytest.mark.parametrize("row", [*SENTENCE_CUES, *SECTION_ROLES], ids=lambda r: r.name)
def test_each_sentence_role_row_recognises_its_examples(row) -> None:
    assert len(row.fires_on) >= 2 and len(row.quiet_on) >= 2
    assert all(row.match(text) for text in row.fires_on)
    assert not any(row.match(text) for text in row.quiet_on)


@pytest.mark.parametrize("answer_type", ANSWER_TYPES, ids=lambda t: t.name)
def test_each_answer_type_recognises_its_questions_and_the_texts_that_answer_them(answer_type) -> None:
    assert len(answer_type.asked_by) >= 2 and len(answer_type.not_asked_by) >= 2
    assert len(answer_type.held_by) >= 2 and len(answer_type.not_held_by) >= 2
    assert all(answer_type.asked(q) for q in answer_type.asked_by)
    assert not any(answer_type.asked(q) for q in answer_type.not_asked_by)
    assert all(answer_type.held(t) for t in answer_type.held_by)
    assert not any(answer_type.held(t) for t in answer_type.not_held_by)


@pytest.mark.parametrize("intent", INTENTS, ids=lambda i: i.name)
def test_each_conversation_intent_recognises_its_requests_and_no_others(intent) -> None:
    assert len(intent.fires_on) >= 2 and len(intent.quiet_on) >= 2
    assert all(intent_of(m) == intent.name for m in intent.fires_on)
    assert not any(intent_of(m) == intent.name for m in intent.quiet_on)


@pytest.mark.parametrize("focus", FOCI, ids=lambda f: f.name)
def test_each_answer_focus_is_chosen_for_its_questions_and_not_for_others(focus) -> None:
    assert len(focus.asked_by) >= 2 and len(focus.not_asked_by) >= 2
    assert all(focus_of(q).name == focus.name for q in focus.asked_by)
    assert not any(focus_of(q).name == focus.name for q in focus.not_asked_by)


@pytest.mark.parametrize("field", RECORD_FIELD_ROWS, ids=lambda f: f.name)
def test_each_record_field_is_asked_by_its_questions_and_not_by_others(field) -> None:
    assert len(field.asked_by) >= 2 and len(field.not_asked_by) >= 2
    assert all(field.asked.search(q) for q in field.asked_by)
    assert not any(field.asked.search(q) for q in field.not_asked_by)


def test_population_rows_join_true_synonyms_and_keep_different_populations_apart() -> None:
    from followup_bot.lexicon.populations import (
        OTHER_POPULATION_EXAMPLES,
        SAME_POPULATION_EXAMPLES,
        same_population,
    )

    assert all(b.lower() in same_population(a) for a, b in SAME_POPULATION_EXAMPLES)
    assert not any(b.lower() in same_population(a) for a, b in OTHER_POPULATION_EXAMPLES)
    assert not same_population("ketamine")


def test_a_which_species_word_is_brought_by_a_sentence_that_names_who_was_studied() -> None:
    from followup_bot.evidence.ranking import brought, who_asked
    from followup_bot.text import content_terms

    key = {t: 1.0 for t in content_terms("Which species did they use?")}
    specific: dict[str, float] = {}
    who_asked(key, specific)
    assert specific, "the species word counts as a word the answer must bring"
    assert brought("Male Sprague-Dawley rats learned to press a lever.", specific) == set(specific)
    assert brought("Twelve children were enrolled.", specific) == set(specific)
    assert not brought("The effect was minor and older drugs were used.", specific)  # adjectives, not who
    assert not brought("The breakpoint for food did not change.", specific)


def test_a_record_question_is_told_from_a_content_question_that_mentions_the_authors() -> None:
    from followup_bot.lexicon.records import BIBLIOGRAPHIC, BIBLIOGRAPHIC_ASKED_BY, BIBLIOGRAPHIC_NOT_ASKED_BY

    assert all(BIBLIOGRAPHIC.search(q) for q in BIBLIOGRAPHIC_ASKED_BY)
    assert not any(BIBLIOGRAPHIC.search(q) for q in BIBLIOGRAPHIC_NOT_ASKED_BY)


def test_a_summary_request_that_points_back_is_told_from_one_about_the_whole_article() -> None:
    from followup_bot.lexicon.intents import POINTS_BACK_EXAMPLES, WHOLE_ARTICLE_EXAMPLES, points_back

    assert all(points_back(m) for m in POINTS_BACK_EXAMPLES)
    assert not any(points_back(m) for m in WHOLE_ARTICLE_EXAMPLES)
