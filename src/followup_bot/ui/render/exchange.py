"""One turn of the conversation as the page keeps it, shared by the chat, the panel and the export.

The per-session state is a list of these; every view is rendered from it, so what a reader sees,
what the assistant is given as history and what is exported cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from followup_bot.models import Answer


@dataclass
class Exchange:
    """One question of the conversation and what became of it (an Answer, or an error)."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    audience: str = "clinician"
    asked_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
