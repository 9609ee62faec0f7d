"""Follow-up → standalone question, without an LLM.

A short message that leans on the conversation ("What about dosing?", "Which journal was it
in?") is searched together with the earlier turns, weighted so that the new message dominates.
A self-contained question is left alone, so the history cannot pollute it. When an LLM provider
is configured, the pipeline may have it rewrite the question (prompts/llm/standalone.md) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from followup_bot.lexicon.intents import IntentName, intent_of
from followup_bot.lexicon.records import RECORD_FIELDS
from followup_bot.models import Turn
from followup_bot.settings import ConversationSettings
from followup_bot.text import content_terms, words

_CUE = re.compile(
    r"^\s*(?:and|but|so|also|then|what about|how about|what else|anything else|ok so|okay so|same for|and what|and how|"
    r"is that|was that|were they|was it|is it|did it|did they|does it|do they|are they|were those|how many of|which of|"
    r"why|why not|how so|in what way|compared to what|really|more on)\b",
    re.I,
)
_ANAPHORA = frozenset(
    "it its it's that this these those they them their theirs he she his her him there such same former latter above one ones".split()
)
_DEFINITE = re.compile(
    r"\bthe (?:study|studies|trial|trials|paper|papers|review|report|case|article|patient|patients|authors?|rats?|"
    r"animals?|drug|medication|dose|combination|interaction|effect|findings?|results?|source|reference|evidence|one)\b",
    re.I,
)


@dataclass
class Standalone:
    """The question as understood, and what retrieval should add to it."""

    question: str
    message: str
    history_text: str = ""
    history_weight: float = 0.0
    is_followup: bool = False
    # The previous answer as shown (markers included): it tells which publication "it" is.
    last_answer: str = ""
    # A conversation request (lexicon/intents.py): re-answer simpler, as bullets, in more detail, name the
    # source, compare, or summarise.
    intent: IntentName | None = None


def _user_turns(history: list[Turn] | tuple[Turn, ...]) -> list[str]:
    return [t.content for t in history if t.role == "user" and t.content.strip()]


def looks_like_followup(message: str, settings: ConversationSettings) -> bool:
    tokens = words(message)
    terms = content_terms(message)
    if _CUE.match(message):
        return True
    short = len(tokens) <= settings.followup_max_words
    # "What volume and pages?" asks for the record of the publication just discussed.
    if short and (any(t in _ANAPHORA for t in tokens) or _DEFINITE.search(message) or RECORD_FIELDS.search(message)):
        return True
    return len(terms) <= 1


# Requests about the previous answer: the previous question is answered again, in another shape.
_REANSWER = ("simplify", "bullets", "more_detail")


def standalone_question(
    message: str, history: list[Turn] | tuple[Turn, ...], settings: ConversationSettings
) -> Standalone:
    """The question as understood: the message itself, or for a follow-up, the message with its topic.

    A request about the previous answer ("say that more simply", "in 3 bullet points", "more detail")
    is the previous question asked again, with the request kept as the intent that shapes the answer.
    """
    intent = intent_of(message)
    turns = list(history)
    if intent in _REANSWER:
        earlier = [i for i, turn in enumerate(turns) if turn.role == "user" and turn.content.strip()]
        for i in reversed(earlier):
            if intent_of(turns[i].content) not in _REANSWER:
                again = standalone_question(turns[i].content, turns[:i], settings)
                shown = next((t.content for t in reversed(turns) if t.role == "assistant"), "")
                return replace(again, intent=intent, last_answer=shown or again.last_answer)
    understood = _resolve(message, turns, settings, intent)
    return replace(understood, intent=intent)


def _resolve(
    message: str, history: list[Turn], settings: ConversationSettings, intent: IntentName | None
) -> Standalone:
    users = _user_turns(history)[-settings.max_history_turns :] if settings.max_history_turns else []
    followup = looks_like_followup(message, settings) or intent in ("which_source", "compare")
    if not users or not followup:
        return Standalone(question=message, message=message)
    # The topic is the latest earlier question that stands on its own; later follow-ups refine it.
    topic_index = next((i for i in range(len(users) - 1, -1, -1) if not looks_like_followup(users[i], settings)), 0)
    recent = users[topic_index:]
    shown = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    last_answer = re.sub(r"\[[A-Za-z]?\d*[a-z]?\]", " ", shown)[:400]
    history_text = " ".join([*recent, last_answer]).strip()
    topic = users[topic_index].strip().rstrip("?.! ")
    question = f"{message.strip().rstrip('?')}? (following up on: {topic})"
    return Standalone(
        question=question,
        message=message,
        history_text=history_text,
        history_weight=settings.history_weight,
        is_followup=True,
        last_answer=shown,
    )
