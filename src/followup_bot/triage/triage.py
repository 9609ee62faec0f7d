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
from followup_bot.text import words as word_tokens
from followup_bot.triage.classifier import ModelScores, TriageClassifier
from followup_bot.triage.context_rules import HYPOTHETICAL, IDIOM, INFORMATIONAL, PAST, PLEA, PRESENT
from followup_bot.triage.injection import injected, strip_injection
from followup_bot.triage.rules import CRISIS, EMERGENCY, PERSONAL_DOSE, cue, first_match

# Fewer words than this and the learned model decides only when it is confident (see `danger`).
MODEL_MIN_WORDS = 3
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
    # The rule that decided (a row name of rules.py), for the Answer's `triage_rule`; or, when the
    # model decided, its probability for the kind (the Answer's `triage_model` and `triage_score`).
    rule: str | None = None
    score: float | None = None
    invalid: InvalidReason | None = None
    length: int = 0
    # An emergency that is also a crisis (an overdose taken on purpose): the reply adds the crisis line.
    also_crisis: bool = False


def clean_message(message: str) -> str:
    text = unicodedata.normalize("NFKC", message or "")
    text = CONTROL.sub(" ", text)
    return re.sub(r"[ \t]+", " ", text).strip()


@dataclass(frozen=True)
class Danger:
    """A safety verdict and what made it: a rule's name, or the model's score."""

    kind: Literal["emergency", "crisis"]
    rule: str | None = None
    score: float | None = None
    also_crisis: bool = False


@dataclass(frozen=True)
class Context:
    """What the message says about when and to whom: cues that a danger word is not a danger now."""

    present: bool
    first_person: bool
    past: bool
    hypothetical: bool
    informational: bool
    idiom: bool

    @classmethod
    def of(cls, lowered: str) -> Context:
        hypothetical = HYPOTHETICAL.match(lowered) is not None
        plea = PLEA.match(lowered) is not None and not hypothetical
        return cls(
            present=PRESENT.match(lowered) is not None or plea,
            first_person=_FIRST_PERSON.search(lowered) is not None,
            past=PAST.match(lowered) is not None,
            hypothetical=hypothetical,
            informational=INFORMATIONAL.match(lowered) is not None,
            idiom=IDIOM.match(lowered) is not None,
        )

    @property
    def not_an_emergency_now(self) -> bool:
        """Past, hypothetical, about a study or an idiom, and nothing says it is happening now."""
        return (self.past or self.hypothetical or self.informational or self.idiom) and not self.present

    @property
    def not_a_crisis_now(self) -> bool:
        """Past or idiom, or research framing without anyone's own state or intent; never a conditional:
        people in crisis speak in them ("would anyone care if I was gone", "if I took all of them")."""
        framed = self.informational and not self.first_person
        return (self.past or self.idiom or framed) and not self.present


_FIRST_PERSON = re.compile(
    r"\b(?:i|i'm|im|i've|ive|i'll|ill|i'd)\s+(?:\w+\s+){0,3}?(?:want|wanna|feel|feeling|going|gonna|plan|planned|can'?t|"
    r"don'?t want|will|won'?t|am done|have (?:a|the|my|some|all)|need|wish|hate|decided|wrote|set|picked|bought|took)\b|"
    r"\bmyself\b|\bmy (?:\w+ )?(?:son|daughter|friend|partner|husband|wife|brother|sister|mum|mom|dad|patient|colleague)"
    r"\b[^.?!]{0,60}\b(?:says|said|told|texted|wants|plans|has|is going)\b"
)
# Emergency rows that name a topic rather than a sign in front of someone.
_TOPIC_ONLY = frozenset({"overdose", "dying", "took_way_too_much", "call_ambulance"})
# After a danger earlier in the conversation, a follow-up about amounts, ways or timing keeps it.
_FOLLOW_UP = re.compile(
    r"\b(?:how (?:many|much|long|fast|quick|soon)|which|what (?:about|if|dose|amount)|enough|fastest|quickest|"
    r"painless|would (?:it|that|they)|will (?:it|that|they)|all (?:of )?(?:them|at once)|if i took|what now|"
    r"now what|what do i do|still)\b"
)


class SafetyTriage:
    def __init__(self, settings: SafetySettings, classifier: TriageClassifier | None = None) -> None:
        self.settings = settings
        self.classifier = classifier

    def check(self, message: object, history: Sequence[Any] = ()) -> Triage:
        """Read the rows in a fixed order: invalid input, danger (rules, model, conversation), injection,
        pleasantries, dosing."""
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
        danger = self.danger(lowered, text=text) or self._from_conversation(lowered, history)
        if danger is not None:
            return Triage(danger.kind, text, rule=danger.rule, score=danger.score, also_crisis=danger.also_crisis)
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

    def danger(
        self,
        lowered: str,
        scores: ModelScores | None = None,
        thresholds: dict[str, float] | None = None,
        text: str | None = None,
    ) -> Danger | None:
        """Crisis, then emergency, by rule or by model, unless the context says it is not happening now.

        A rule and the model each raise a danger on their own (safety first when they disagree);
        context cues set a danger aside only when nothing says it is present, and the model's most
        confident calls are never set aside. `scores` and `thresholds` let training replay this
        exact decision on held-out scores.
        """
        context = Context.of(lowered)
        if scores is None and self.classifier is not None:
            scores = self.classifier.scores(text or lowered)
        t = thresholds or (self.classifier.model.thresholds if self.classifier else {})
        crisis_rule = first_match(CRISIS, lowered)
        crisis_rule = crisis_rule if crisis_rule is not None and not context.not_a_crisis_now else None
        emergency_rule = first_match(EMERGENCY, lowered, "emergency")
        if emergency_rule is not None and (not self._someone_in_danger(lowered) or context.not_an_emergency_now):
            emergency_rule = None
        c_score = e_score = 0.0
        # A message of one or two words ("hi", "hello", "help") gives the model nothing to read: its score is
        # its prior, which sits above the low crisis threshold. There only a confident call (or a rule) counts.
        if scores is not None and len(word_tokens(lowered)) < MODEL_MIN_WORDS:
            scores = ModelScores(
                emergency=scores.emergency if scores.emergency >= t["high"] else 0.0,
                crisis=scores.crisis if scores.crisis >= t["high"] else 0.0,
            )
        if scores is not None:
            if scores.crisis >= t["high"] or (scores.crisis >= t["crisis"] and not context.not_a_crisis_now):
                c_score = scores.crisis / t["crisis"]
            if scores.emergency >= t["high"] or (
                scores.emergency >= t["emergency"] and not context.not_an_emergency_now
            ):
                e_score = scores.emergency / t["emergency"]
        crisis, emergency = crisis_rule is not None or c_score > 0, emergency_rule is not None or e_score > 0
        if not crisis and not emergency:
            return None
        # Both: someone's body in danger now comes first, and the reply adds the crisis line. A crisis rule
        # outranks an emergency rule that only names the topic ("overdose", "dying") unless it is happening now.
        physical = emergency_rule is not None and (emergency_rule.name not in _TOPIC_ONLY or context.present)
        if emergency and (not crisis or physical or (crisis_rule is None and e_score >= c_score)):
            score = None if emergency_rule else round(float(scores.emergency), 4) if scores else None
            return Danger("emergency", emergency_rule.name if emergency_rule else None, score, also_crisis=crisis)
        score = None if crisis_rule else round(float(scores.crisis), 4) if scores else None
        return Danger("crisis", crisis_rule.name if crisis_rule else None, score)

    def _from_conversation(self, lowered: str, history: Sequence[Any]) -> Danger | None:
        """A danger stated earlier in the conversation carries to a follow-up about it.

        "I want it all to stop" and then "how many would it take?": the second message alone is a
        dosing question, with the first it is a crisis. A crisis carries over the last three of the
        reader's messages, an emergency over the last two, to a short message or one asking about
        amounts, ways or timing.
        """
        earlier = [_content(t) for t in history if _role(t) == "user"][-3:]
        short = len(lowered.split()) <= 25
        for age, turn in enumerate(reversed(earlier)):
            before = self.danger(clean_message(turn).lower().replace("’", "'"))
            if before is None or (before.kind == "emergency" and age >= 2):
                continue
            if short or _FOLLOW_UP.search(lowered):
                return Danger(before.kind, rule=f"conversation_{before.kind}")
        return None

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


def _role(turn: Any) -> str:
    return str(turn.get("role", "") if isinstance(turn, dict) else getattr(turn, "role", ""))


def _content(turn: Any) -> str:
    content = turn.get("content", "") if isinstance(turn, dict) else getattr(turn, "content", "")
    return content if isinstance(content, str) else ""
