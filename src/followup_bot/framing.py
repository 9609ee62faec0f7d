"""Framing: the disclaimer, the safety replies, and how a finished state becomes an `Answer`.

Framing never depends on the generator: the disclaimer is attached here to every answer,
refusal, safety reply and error, and its texts fall back to built-in ones if a prompt file is
missing, so nothing in a config, a message or a document can remove it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from followup_bot.evidence import Evidence
from followup_bot.models import Answer, Citation, GeneratorInfo, Verification
from followup_bot.prompts import PromptLibrary
from followup_bot.settings import SafetySettings
from followup_bot.state import State


def answer_text(sentences: list[tuple[str, list[Citation]]], bullets: bool = False) -> str:
    """Sentence, then its marker(s), then the full stop: `… activity [A1].`; as a list when asked for one."""
    parts = []
    for text, cites in sentences:
        body = text.rstrip()
        end = "."
        if body and body[-1] in ".!?":
            end = body[-1]
            body = body[:-1].rstrip()
        markers = "".join(c.marker for c in cites)
        parts.append(f"{body} {markers}{end}")
    return "\n".join(f"- {p}" for p in parts) if bullets else " ".join(parts)


def key_terms_known(evidence: Evidence | None, known: Callable[[str], bool]) -> bool:
    """Whether any of the question's key terms occurs in the corpus (else it is out of scope)."""
    if evidence is None or not evidence.key_terms:
        return True
    return any(known(t) for t in evidence.key_terms)


TRIAGE_MODEL_NAME = "ngram-embedding-logreg"

# Numbers the safety replies give first, by the readers' locale: (emergency, poison control, crisis line).
LOCALES: dict[str, tuple[str, str, str]] = {
    "US": (
        "911 (US) or your local emergency number (112 in the EU, 999 in the UK)",
        "Poison Control at 1-800-222-1222 (US)",
        "In the US, call or text 988 (Suicide & Crisis Lifeline)",
    ),
    "UK": ("999 (or 112)", "NHS 111 (or 999 if it is serious)", "Call Samaritans on 116 123, or text SHOUT to 85258"),
    "EU": ("112", "your local poison centre (112 can connect you)", "Call 112 or your national crisis line"),
    "CA": ("911", "your provincial poison centre (1-844-764-7669)", "Call or text 988 (Suicide Crisis Helpline)"),
    "AU": ("000", "the Poisons Information Centre on 13 11 26", "Call Lifeline on 13 11 14"),
    "NZ": ("111", "the National Poisons Centre on 0800 764 766", "Call or text 1737"),
    "IE": ("112 or 999", "the Poisons Information Centre on 01 809 2166", "Call Samaritans on 116 123"),
    "IN": ("112", "the nearest hospital's poison centre (112 can connect you)", "Call Tele-MANAS on 14416"),
}
# Emergencies where poison control gives the first advice: something swallowed, breathed or taken.
_POISONING = re.compile(
    r"\b(?:swallow\w*|ingest\w*|overdos\w*|poison\w*|bleach|detergent|pods?|batter(?:y|ies)|magnets?|pills?|"
    r"tablets?|meds|medicines?|drank|carbon monoxide|co alarm|fumes|gas|chemicals?|antifreeze|pesticide|weedkiller|"
    r"kerosene|paracetamol|tylenol|acetaminophen)\b",
    re.I,
)
# A crisis about someone else ("my son says he has a rope") gets how to help them now.
_THIRD_PARTY = re.compile(
    r"\b(?:my|our|a|the) (?:son|daughter|kid|child|friend|best friend|mate|bf|gf|boyfriend|girlfriend|partner|husband|"
    r"wife|mum|mom|dad|father|mother|brother|sister|colleague|flatmate|roommate|patient|client|student|neighbou?r|"
    r"cousin|uncle|aunt|grandad|grandma|nan)\b"
)
_SELF = re.compile(r"\b(?:i|i'm|im|i've|ive|me|myself)\b (?!think\b|am worried|'m worried|just found)")


class Framing:
    """The mandatory texts; nothing here can be turned off by config, message or document."""

    def __init__(self, prompts: PromptLibrary, settings: SafetySettings) -> None:
        self.prompts = prompts
        self.settings = settings

    def disclaimer(self, audience: str) -> str:
        name = "framing/patient.md" if audience == "patient" else "framing/clinician.md"
        return self.prompts.render(name)

    def banner(self, title: str) -> str:
        return self.prompts.render("framing/banner.md", title=title)

    def numbers(self) -> dict[str, str]:
        """The locale's emergency, poison-control and crisis numbers, each overridable in `[safety]`."""
        emergency, poison, crisis = LOCALES[self.settings.locale]
        s = self.settings
        return {
            "emergency_number": s.emergency_number or emergency,
            "poison_control": s.poison_control or poison,
            "crisis_line": s.crisis_line or crisis,
        }

    def text(self, name: str, title: str = "", **values: object) -> str:
        return self.prompts.render(name, title=title, **{**self.numbers(), **values})

    def safety_reply(self, kind: str, message: str, title: str = "", also_crisis: bool = False) -> str:
        """The emergency or crisis reply for this message: poisoning and someone-else variants where they apply,
        and the crisis line after an emergency that is also a crisis."""
        lowered = message.lower()
        if kind == "emergency":
            name = "safety/emergency_poisoning.md" if _POISONING.search(lowered) else "safety/emergency.md"
            crisis = f" {self.text('safety/crisis_line.md', title)}" if also_crisis else ""
            return self.text(name, title) + crisis
        third_party = _THIRD_PARTY.search(lowered) is not None and _SELF.search(lowered) is None
        return self.text("safety/crisis_third_party.md" if third_party else "safety/crisis.md", title)

    def texts(self, title: str = "") -> list[str]:
        """Every safety and framing text an answer may carry beside its quotes, rendered (evaluation sets them aside)."""
        folder = self.prompts.folder / "safety"
        names = sorted(f"safety/{f.name}" for f in folder.glob("*.md")) if folder.is_dir() else []
        texts = [self.text(name, title, length=0, limit=0) for name in names]
        return [t.strip() for t in texts if t.strip()]

    def answer(self, state: State, title: str, generator: GeneratorInfo, known: Callable[[str], bool]) -> Answer:
        """The Answer for a finished state: a terminal reply, an abstention, or the verified sentences."""
        request = state.request
        base: dict[str, Any] = {
            "article_id": request.article or None,
            "disclaimer": self.disclaimer(request.audience),
            "audience": request.audience,
            "timings_ms": state.timings,
            "generator": generator,
        }
        triage = state.triage
        if state.terminal is not None and triage is not None:
            return self._terminal(state, title, base)
        assert triage is not None and state.standalone is not None
        base["standalone_question"] = state.standalone.question
        base["passages"] = list(state.passages)
        notice = self.text("safety/injection.md", title) if triage.injection else None
        personal = "personal_dose" if triage.personal_dose else None
        evidence, verified = state.evidence, state.verified
        if (evidence is not None and evidence.abstain) or verified is None or not verified.result.sentences:
            # A conversation request ("more detail", "which source?") is about the conversation: never out of scope.
            in_scope = key_terms_known(evidence, known) or state.standalone.intent is not None
            text = self.text("safety/abstain.md" if in_scope else "safety/out_of_scope.md", title)
            if triage.personal_dose:
                text = self.text("safety/personal_abstain.md", title) + " " + text
            return Answer(
                answer=text,
                refused=True,
                refusal_reason="not_in_sources" if in_scope else "out_of_scope",
                related=list(state.passages[:3]),
                notice=notice,
                verification=verified.result.record if verified else Verification(),
                triage=personal,
                triage_rule=triage.rule,
                **base,
            )
        draft = state.draft
        assert draft is not None
        sentences = verified.result.sentences
        intent = state.standalone.intent
        listed = intent in ("bullets", "summarise") and len(sentences) > 1
        text = answer_text([(s.text, s.citations) for s in sentences], bullets=listed)
        if triage.personal_dose:
            text = self.text("safety/personal_dose.md", title) + " " + text
        unstated = state.evidence.unstated if state.evidence is not None else []
        if unstated and not draft.abstained:
            # Its own paragraph, so it never reads as part of the last quote or bullet.
            text += "\n\n" + self.text("framing/not_stated.md", title, parts='"; "'.join(unstated))
        used = {c.marker for s in sentences for c in s.citations}
        base["generator"] = GeneratorInfo(
            provider=draft.provider, model=draft.model, fallback=draft.fallback, note=draft.note
        )
        if draft.first_token_ms is not None:
            state.timings["first_token"] = round(draft.first_token_ms, 2)
        return Answer(
            answer=text,
            citations=[c for c in verified.book.citations if c.marker in used],
            refused=False,
            verification=verified.result.record,
            notice=notice,
            triage=personal,
            triage_rule=triage.rule,
            **base,
        )

    def _terminal(self, state: State, title: str, base: dict[str, Any]) -> Answer:
        """Safety replies, invalid input, a message of instructions only, and pleasantries."""
        triage = state.triage
        assert triage is not None
        kind = state.terminal
        rule: dict[str, Any] = {"triage_rule": triage.rule}
        if triage.score is not None:
            rule.update(triage_model=TRIAGE_MODEL_NAME, triage_score=triage.score)
        if kind in ("emergency", "crisis"):
            return Answer(
                answer=self.safety_reply(kind, triage.message, title, triage.also_crisis),
                refused=True,
                refusal_reason=kind,
                standalone_question=triage.message,
                triage=kind,
                **rule,
                **base,
            )
        if kind == "invalid_input":
            if triage.invalid == "too_long":
                limit = self.settings.max_message_chars
                text = self.text("safety/too_long.md", title, length=triage.length, limit=limit)
            else:
                text = self.text("safety/invalid_input.md", title)
            return Answer(
                answer=text, refused=True, refusal_reason="invalid_input", triage="invalid_input", **rule, **base
            )
        if kind == "injection_only":
            return Answer(
                answer=self.text("safety/out_of_scope.md", title),
                refused=True,
                refusal_reason="out_of_scope",
                notice=self.text("safety/injection.md", title),
                triage="injection",
                **rule,
                **base,
            )
        name = "safety/greeting.md" if kind == "greeting" else "safety/thanks.md"
        return Answer(
            answer=self.text(name, title), refused=False, standalone_question=triage.message, triage=kind, **base
        )
