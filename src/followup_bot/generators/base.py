"""The generator interface: passages and ranked evidence in, a draft with sources out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from followup_bot.evidence import Evidence
from followup_bot.models import Chunk, DocumentRecord, Passage


@dataclass
class DraftSentence:
    """One sentence of a draft and the passages it claims to rest on.

    `refs` holds (chunk_id, sentence index) pairs for extractive sentences; an LLM sentence
    carries the markers it wrote in `markers` and is resolved by the verifier.
    """

    text: str
    refs: list[tuple[str, int]] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    verbatim: bool = False
    # For a clause quoted alone: its span within the referenced sentence (one per ref, None for whole).
    spans: list[tuple[int, int] | None] = field(default_factory=list)


@dataclass
class Draft:
    sentences: list[DraftSentence]
    provider: str
    model: str
    abstained: bool = False
    raw_text: str = ""
    fallback: bool = False
    note: str | None = None
    first_token_ms: float | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class GenerationRequest:
    question: str
    message: str
    passages: list[Passage]
    evidence: Evidence
    chunks: dict[str, Chunk]
    records: dict[str, DocumentRecord]
    audience: str = "clinician"
    personal_dose: bool = False
    # The request's time budget ends here (time.monotonic); an LLM call stops by then at the latest.
    deadline: float | None = None


class Generator(Protocol):
    name: str
    model: str

    def generate(self, request: GenerationRequest) -> Draft: ...

    def stream(self, request: GenerationRequest) -> Iterator[str | Draft]: ...
