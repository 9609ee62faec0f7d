"""Markers and the citations they resolve to.

Markers are built from citations, never parsed back from free text (except when checking LLM
output). Source documents keep the article's own numbers ([1]…[5]); a second passage of the same
source gets a letter ([1b]), so one marker always means one passage and one quoted span. Article
passages get their own label ([A1], [A2]) and carry the references the article cites there.
"""

from __future__ import annotations

import re
import string

from followup_bot.models import Chunk, Citation, DocumentRecord


def sources_in(text: str, records: dict[str, DocumentRecord]) -> set[str]:
    """The documents an answer's markers point to: the inverse of `MarkerBook._next_marker`.

    "[3]" and "[3b]" are reference 3, "[ref1]" and "[ref1-b]" a source without a number; article
    markers ("[A1]") name no publication and are left out.
    """
    labels = {r.marker_label(): r.id for r in records.values() if r.kind != "article"}
    found = set()
    for raw in re.findall(r"\[([^\[\]\s]{1,40})\]", text):
        for label in (raw, raw[:-1], raw.rsplit("-", 1)[0]):
            if label in labels:
                found.add(labels[label])
                break
    return found


class MarkerBook:
    def __init__(self, chunks: dict[str, Chunk], records: dict[str, DocumentRecord]) -> None:
        self.chunks = chunks
        self.records = records
        self.citations: list[Citation] = []
        self._by_key: dict[tuple[str, int, int], Citation] = {}
        self._per_label: dict[str, int] = {}

    def _next_marker(self, record: DocumentRecord | None, source_id: str) -> str:
        label = record.marker_label() if record else source_id
        n = self._per_label.get(label, 0) + 1
        self._per_label[label] = n
        if label == "A":
            return f"[A{n}]"
        if n == 1:
            return f"[{label}]"
        suffix = string.ascii_lowercase[(n - 1) % 26]
        return f"[{label}{suffix}]" if label.isdigit() else f"[{label}-{suffix}]"

    def cite(self, chunk_id: str, start: int, end: int, quote: str) -> Citation:
        """Marker for an exact span (offsets relative to the chunk text)."""
        key = (chunk_id, start, end)
        if key in self._by_key:
            return self._by_key[key]
        chunk = self.chunks[chunk_id]
        record = self.records.get(chunk.source_id)
        absolute = chunk.kind != "record"
        citation = Citation(
            marker=self._next_marker(record, chunk.source_id),
            source_id=chunk.source_id,
            chunk_id=chunk_id,
            quote=quote,
            start=chunk.start + start if absolute else start,
            end=chunk.start + end if absolute else end,
            title=record.title if record else "",
            evidence_level=record.evidence_level if record else "",
            section=chunk.section,
            article_cites=list(chunk.cites) if record is not None and record.kind == "article" else [],
            chunk_text=chunk.text,
        )
        self._by_key[key] = citation
        self.citations.append(citation)
        return citation

    def cite_sentence(self, chunk_id: str, index: int, span: tuple[int, int] | None = None) -> Citation:
        """The marker for one sentence of a chunk, or for one clause of it (`span` within the sentence)."""
        chunk = self.chunks[chunk_id]
        sentence = chunk.sentences[index]
        if chunk.kind == "record":
            rel_start, rel_end = sentence.start, sentence.end
        else:
            rel_start, rel_end = sentence.start - chunk.start, sentence.end - chunk.start
        if span is not None:
            rel_start, rel_end = rel_start + span[0], rel_start + span[1]
        return self.cite(chunk_id, rel_start, rel_end, chunk.text[rel_start:rel_end])
