"""Follow-ups are resolved from the conversation; standalone questions are left alone."""

from __future__ import annotations

import pytest

from followup_bot.conversation import looks_like_followup, standalone_question
from followup_bot.models import Turn
from followup_bot.settings import ConversationSettings

S = ConversationSettings()
HISTORY = [
    Turn(role="user", content="Did lamotrigine reduce ketamine self-administration in rats?"),
    Turn(role="assistant", content="Yes, it lowered the breakpoint [1]."),
]


@pytest.mark.parametrize(
    "message",
    [
        "What about dosing?",
        "Did it say which dose?",
        "And how many of them showed that?",
        "Which journal was it in?",
        "Why?",
        "Was that in humans?",
    ],
)
def test_elliptical_messages_are_follow_ups(message: str) -> None:
    assert looks_like_followup(message, S)
    resolved = standalone_question(message, HISTORY, S)
    assert resolved.is_followup and "rats" in resolved.question and resolved.history_weight < 0.5


@pytest.mark.parametrize(
    "message",
    [
        "What did the Veraart review conclude about benzodiazepines and ketamine?",
        "Have randomized controlled trials of lamotrigine for ketamine use disorder been published?",
    ],
)
def test_self_contained_questions_are_not_polluted_by_history(message: str) -> None:
    resolved = standalone_question(message, HISTORY, S)
    assert not resolved.is_followup and resolved.question == message and resolved.history_text == ""


def test_without_history_nothing_is_a_follow_up() -> None:
    assert not standalone_question("What about dosing?", [], S).is_followup


def test_a_chain_of_follow_ups_keeps_the_original_topic() -> None:
    history = [
        *HISTORY,
        Turn(role="user", content="Which journal?"),
        Turn(role="assistant", content="Drug and Alcohol Dependence [1]."),
    ]
    resolved = standalone_question("And the year?", history, S)
    assert "rats" in resolved.question
