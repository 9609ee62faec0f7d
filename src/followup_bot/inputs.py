"""The one boundary where callers' input is checked: the CLI, `/ask`, the page and the API all pass here.

Text is normalised before anything reads it (unpaired surrogates replaced, NULs and other
control characters removed, NFC), because a tokenizer or a JSON encoder further down fails on
them in ways a reader would see as a crash. The shapes of `history`, `audience` and `article`
are validated with pydantic, so a wrong type is one `InputError` that says what was expected,
never an `AttributeError` from deep inside.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from followup_bot.errors import InputError
from followup_bot.models import Audience, Turn

_SURROGATES = re.compile(r"[\ud800-\udfff]")
# C0 and C1 controls except tab and newline, and the Unicode "non-characters" a paste can carry.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
MAX_HISTORY_TURNS = 200
MAX_TURN_CHARS = 8000


def clean_text(text: str) -> str:
    """The text with unpaired surrogates replaced (U+FFFD), control characters removed, and NFC applied."""
    text = _SURROGATES.sub("\ufffd", text)
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return unicodedata.normalize("NFC", text)


def normalize_audience(audience: Any) -> Audience:
    """'patient' (also caregivers and family) or 'clinician', the default; anything but text is an error."""
    if audience is None:
        return "clinician"
    if not isinstance(audience, str):
        raise InputError(f"audience must be 'clinician' or 'patient', not {type(audience).__name__}")
    value = clean_text(audience).strip().lower() or "clinician"
    return "patient" if value.startswith(("patient", "caregiver", "carer", "family")) else "clinician"


class _Turn(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)

    role: Literal["user", "assistant"]
    content: str = Field(max_length=10 * MAX_TURN_CHARS)

    @field_validator("content")
    @classmethod
    def _clean(cls, value: str) -> str:
        return clean_text(value)[:MAX_TURN_CHARS]


def parse_history(history: Any) -> list[Turn]:
    """The conversation so far as turns; a wrong shape is an `InputError` naming the bad item."""
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise InputError("history must be a list of {role, content} messages")
    turns = []
    for i, item in enumerate(list(history)[-MAX_HISTORY_TURNS:]):
        try:
            turn = _Turn.model_validate(item)
        except ValidationError:
            raise InputError(
                f"history item {i} must be an object with role 'user' or 'assistant' and text content"
            ) from None
        turns.append(Turn(role=turn.role, content=turn.content))
    return turns


def parse_question(question: Any) -> str:
    if not isinstance(question, str):
        raise InputError(f"the question must be text, not {type(question).__name__}")
    return clean_text(question)


def parse_article(article: Any) -> str | None:
    if article is None or article == "":
        return None
    if not isinstance(article, str):
        raise InputError(f"article must be an article id (text), not {type(article).__name__}")
    return clean_text(article).strip() or None
