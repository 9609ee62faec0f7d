"""The shared vocabulary of the pipeline.

Every stage speaks in these types, so a stage can be swapped (another store, another
generator) without the others noticing. Nothing here imports another module of the package.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer, field_validator

# "busy": not answered for now (the server's line is full); `notice` says when to try again.
RefusalReason = Literal["not_in_sources", "out_of_scope", "emergency", "crisis", "invalid_input", "busy"]
Audience = Literal["clinician", "patient"]


def finite(value: Any, default: Any = None) -> Any:
    """`default` for NaN and ±infinity, which JSON cannot carry (`json.dumps` writes `NaN`, which parsers
    reject, and pydantic's own JSON silently writes null for a number); lists and dicts are walked."""
    if isinstance(value, float):
        return value if math.isfinite(value) else default
    if isinstance(value, dict):
        return {k: finite(v, default) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v, default) for v in value]
    return value


class DocumentRecord(BaseModel):
    """One document of the knowledge base, as the manifest describes it."""

    id: str
    path: str = ""  # empty: a cited work known only by its bibliographic record
    kind: Literal["article", "source"] = "source"
    reference_number: int | None = None
    title: str = ""
    authors: list[str] = Field(default_factory=list)
    journal: str = ""
    year: int | None = None
    volume: str = ""
    pages: str = ""
    doi: str | None = None
    pmid: str | None = None
    url: str | None = None
    study_type: str = ""
    evidence_level: str = ""
    identification_confidence: str = ""
    content_kind: str = ""
    references: dict[str, str] = Field(default_factory=dict)
    framing: str = ""

    @field_validator("volume", "pages", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        """Front matter may say `volume: 194`; a locator is text ("24(10)", "257-263")."""
        return str(value) if isinstance(value, int | float) else value

    def short_name(self) -> str:
        """ "Lee et al. 2019": how a reader refers to a publication."""
        if self.kind == "article":
            return "the article"
        if not self.authors:
            return self.title or self.id
        surname = self.authors[0].split()[-1].strip(".,")
        lead = surname if len(self.authors) == 1 else f"{surname} et al."
        return f"{lead} {self.year}" if self.year else lead

    def marker_label(self) -> str:
        """The label readers see in a marker: the article's own number for a cited source."""
        if self.reference_number is not None:
            return str(self.reference_number)
        if self.kind == "article":
            return "A"
        return self.id


class Sentence(BaseModel):
    """A sentence of a chunk, with absolute offsets in the source file (quotes are exact)."""

    text: str
    start: int
    end: int
    cites: list[str] = Field(default_factory=list)
    # Rhetorical role, decided at ingest (corpus/roles.py): finding, conclusion, method, background,
    # caveat, record or caption.
    role: str = ""


class Chunk(BaseModel):
    """A passage that can be retrieved and cited; `text == file_text[start:end]`."""

    chunk_id: str
    source_id: str
    text: str
    section: str
    heading_path: list[str] = Field(default_factory=list)
    start: int
    end: int
    cites: list[str] = Field(default_factory=list)
    sentences: list[Sentence] = Field(default_factory=list)
    doc_hash: str = ""
    position: int = 0
    kind: Literal["text", "record"] = "text"


class Passage(BaseModel):
    """A chunk as retrieval returns it, with the scores that ranked it."""

    chunk_id: str
    source_id: str
    score: float
    text: str
    section: str = ""
    dense_score: float | None = None
    bm25_score: float | None = None
    rank: int = 0
    cites: list[str] = Field(default_factory=list)
    title: str = ""
    evidence_level: str = ""
    # "section": not ranked itself, but from the same section as a passage that was (a bullet of
    # the same list), read so that a question about the whole list gets all of it.
    via: str = "retrieval"

    # Serialised, a score that is not a number reads as no score: every dump is valid JSON.
    @field_serializer("score")
    def _finite_score(self, value: float) -> float:
        return float(finite(value, 0.0))

    @field_serializer("dense_score", "bm25_score")
    def _finite_optional(self, value: float | None) -> float | None:
        return finite(value)


class Citation(BaseModel):
    """What a marker resolves to: one passage and the exact span quoted from it."""

    marker: str
    source_id: str
    chunk_id: str
    quote: str
    start: int
    end: int
    title: str = ""
    evidence_level: str = ""
    section: str = ""
    article_cites: list[str] = Field(default_factory=list)
    chunk_text: str = ""


class Verification(BaseModel):
    sentences: int = 0
    supported: int = 0
    removed: int = 0
    details: list[dict[str, Any]] = Field(default_factory=list)

    @field_serializer("details")
    def _finite_details(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [finite(d) for d in value]


class GeneratorInfo(BaseModel):
    provider: str
    model: str
    fallback: bool = False
    note: str | None = None


class Answer(BaseModel):
    """The contract every interface renders (see INTERFACES.md)."""

    answer: str
    citations: list[Citation] = Field(default_factory=list)
    refused: bool = False
    refusal_reason: RefusalReason | None = None
    standalone_question: str = ""
    disclaimer: str = ""
    related: list[Passage] = Field(default_factory=list)
    generator: GeneratorInfo = Field(default_factory=lambda: GeneratorInfo(provider="none", model="none"))
    verification: Verification = Field(default_factory=Verification)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    passages: list[Passage] = Field(default_factory=list)
    audience: Audience = "clinician"
    notice: str | None = None
    # Why triage decided: the rule-table row that fired (see triage/rules.py).
    triage: str | None = None
    triage_rule: str | None = None
    # When the learned triage model decided (no rule fired): its name and its probability for the kind.
    triage_model: str | None = None
    triage_score: float | None = None
    # The article this answer is about (its passages are the only ones it may quote).
    article_id: str | None = None

    @field_serializer("timings_ms")
    def _finite_timings(self, value: dict[str, float]) -> dict[str, float]:
        """A timing that is not a number is left out."""
        return {k: v for k, v in value.items() if not isinstance(v, float) or math.isfinite(v)}


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str
