"""The typed state one question carries through the pipeline.

Each stage reads the fields before it and returns a copy with its own field filled in
(`dataclasses.replace`), so a stage can be tested alone by handing it a state, and the state at
the end is the complete trace of how the answer was made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from followup_bot.citations import MarkerBook
from followup_bot.conversation import Standalone
from followup_bot.evidence import Evidence
from followup_bot.generators.base import Draft
from followup_bot.models import Answer, Audience, Passage, Turn
from followup_bot.triage import Triage
from followup_bot.verify import VerificationResult

# Where a question can stop before retrieval: safety replies, bad input, a message that held only
# instructions, and pleasantries. Each has its own framing.
TerminalKind = Literal["emergency", "crisis", "invalid_input", "injection_only", "greeting", "thanks"]


@dataclass(frozen=True)
class Request:
    """What the caller asked, validated: the message, the conversation so far, the audience, the article."""

    message: str
    history: tuple[Turn, ...] = ()
    audience: Audience = "clinician"
    article: str = ""


@dataclass(frozen=True)
class Retrieval:
    """The query as searched, the publications it names, and the passages found (ranked, then their section siblings)."""

    vector: np.ndarray
    named: frozenset[str]
    passages: tuple[Passage, ...]


@dataclass(frozen=True)
class Verified:
    """The sentences that survived verification, and the marker book their citations came from."""

    result: VerificationResult
    book: MarkerBook


@dataclass(frozen=True)
class State:
    request: Request
    triage: Triage | None = None
    terminal: TerminalKind | None = None
    standalone: Standalone | None = None
    retrieval: Retrieval | None = None
    evidence: Evidence | None = None
    draft: Draft | None = None
    verified: Verified | None = None
    answer: Answer | None = None
    # Milliseconds per stage, filled in by the runner (shared by every copy of the state).
    timings: dict[str, float] = field(default_factory=dict)
    # When the request began (time.monotonic), for its time budget (generator.request_budget_s).
    started: float = field(default_factory=time.monotonic)

    def deadline(self, budget_s: float) -> float:
        return self.started + budget_s

    def spent(self, budget_s: float) -> bool:
        return time.monotonic() >= self.deadline(budget_s)

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self.retrieval.passages if self.retrieval is not None else ()
