"""Triage before retrieval: emergency, crisis, invalid input, injection, personal dosing.

Triage runs on the raw message before anything else, so an emergency gets emergency services at
once and never waits for (or depends on) retrieval. The decisions are the rows of `rules.py`;
this module only says in which order they are read. Emergency rows need a person or a present
danger in the message, so a reader asking what a paper says about an overdose still gets the
paper. Every verdict names the rule that made it, so an evaluator can see why.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from followup_bot.settings import SafetySettings
from followup_bot.triage.injection import injected, strip_injection
from followup_bot.triage.rules import CRISIS, EMERGENCY, PERSONAL_DOSE, cue, first_match

TriageKind = Literal["ok", "emergency", "crisis", "invalid_input", "greeting", "thanks"]
InvalidReason = Literal["not_text", "too_long", "empty", "unreadable"]

_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening)|greetings|yo)(?:\s+(?:there|bot|assistant|everyone))?\W*$",
    re.I,
)
_THANKS = re.compile(
    r"^\W*(?:thanks?(?: you)?(?: so much| very much| a lot)?|thx|ty|cheers|great|ok(?:ay)?|got it|perfect|awesome|"
    r"cool|bye|goodbye)\W*(?:thanks?(?: you)?)?\W*$",
    re.I,
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SOMEONE, _ABOUT_DOCUMENTS, _ASKER, _DANGER_NOW = (
    cue("someone"), cue("about_documents"), cue("asker"), cue("danger_now")
)  # fmt: skip


@dataclass(frozen=True)
class Triage:
    """The verdict on one message, and the message as it goes on (injected instructions removed)."""

    kind: TriageKind
    message: str
    personal_dose: bool = False
    injection: bool = False
    # The rule that decided (a row name of rules.py), for the Answer's `triage_rule`.
    rule: str | None = None
    invalid: InvalidReason | None = None
    length: int = 0


def clean_message(message: str) -> str:
    text = unicodedata.normalize("NFKC", message or "")
    text = CONTROL.sub(" ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


class SafetyTriage:
    def __init__(self, settings: SafetySettings) -> None:
        self.settings = settings

    def check(self, message: object, history: Sequence[Any] = ()) -> Triage:
        """Read the rows in a fixed order: invalid input, crisis, emergency, injection, pleasantries, dosing."""
        if not isinstance(message, str):
            return Triage("invalid_input", "", invalid="not_text")
        raw = message
        if len(raw) > self.settings.max_message_chars:
            return Triage("invalid_input", "", invalid="too_long", length=len(raw))
        controls = len(CONTROL.findall(raw))
        text = clean_message(raw)
        letters = sum(ch.isalnum() for ch in text)
        if not text or letters == 0 or (controls and controls > max(3, len(raw) // 10)):
            return Triage("invalid_input", "", invalid="empty" if not text else "unreadable")
        lowered = text.lower().replace("’", "'")
        crisis = first_match(CRISIS, lowered)
        if crisis is not None:
            return Triage("crisis", text, rule=crisis.name)
        emergency = first_match(EMERGENCY, lowered, "emergency")
        if emergency is not None and self._someone_in_danger(lowered):
            return Triage("emergency", text, rule=emergency.name)
        injection = injected(text, lowered)
        if injection is not None:
            text = strip_injection(text)
            if not re.search(r"[a-z]{3}", text.lower()):
                return Triage("ok", "", injection=True, rule=injection.name)
        if _GREETING.match(text):
            return Triage("greeting", text)
        if _THANKS.match(text):
            return Triage("thanks", text)
        personal = first_match(PERSONAL_DOSE, text.lower())
        rule = personal.name if personal else (injection.name if injection else None)
        return Triage("ok", text, personal_dose=personal is not None, injection=injection is not None, rule=rule)

    @staticmethod
    def _someone_in_danger(lowered: str) -> bool:
        """A person is involved, or the danger needs none ("not breathing"); never a question about a document.

        "There was a case where someone overdosed…" asks about a document, unless the asker or
        someone present is involved, or the danger is happening now.
        """
        about_documents = (
            _ABOUT_DOCUMENTS.match(lowered) is not None
            and _ASKER.match(lowered) is None
            and _DANGER_NOW.match(lowered) is None
        )
        if about_documents:
            return False
        return _SOMEONE.match(lowered) is not None or first_match(EMERGENCY, lowered, "emergency_plain") is not None
