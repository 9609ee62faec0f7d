"""From a manifest to passages: read each document, hash it, chunk it; and passages to and from Chroma rows.

These steps need no store and no model, so ingest, the library and fast unit tests share them.
A document listed without a file (a cited work known only by its reference-list entry) has no
text, only its bibliographic record, which becomes a citable passage of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from followup_bot.corpus import CorpusError, LoadedDocument, Manifest, chunk_document, load_document, record_chunk
from followup_bot.models import Chunk, DocumentRecord, Sentence
from followup_bot.settings import Settings
from followup_bot.text import words

Scanned = dict[str, tuple[DocumentRecord, LoadedDocument, str]]


def document_hash(record: DocumentRecord, raw: bytes, settings: Settings) -> str:
    h = hashlib.sha256()
    h.update(record.model_dump_json().encode())
    h.update(settings.chunking.model_dump_json().encode())
    h.update(raw)
    return h.hexdigest()[:16]


def scan_documents(manifest: Manifest, settings: Settings) -> Scanned:
    """Each document's full record (manifest fields, completed from front matter), its text and its hash."""
    out: Scanned = {}
    for record in manifest.documents:
        loaded = load_document(manifest.dir / record.path) if record.path else LoadedDocument(text="")
        front = loaded.front_matter
        merged = record.model_dump()
        for key, value in front.items():
            if key in merged and not merged[key] and value:
                merged[key] = value
        if record.kind == "article" and not merged.get("framing"):
            merged["framing"] = str(front.get("disclaimer", "") or "")
        full = DocumentRecord(**{k: v for k, v in merged.items() if k in DocumentRecord.model_fields})
        out[record.id] = (full, loaded, document_hash(full, loaded.raw_bytes, settings))
    return out


def chunk_one(
    doc_id: str, scanned: Scanned, manifest: Manifest, refs: dict[str, str], settings: Settings
) -> list[Chunk]:
    """The passages of one document: its text's chunks, then its bibliographic record as a passage."""
    record, loaded, doc_hash = scanned[doc_id]
    chunks: list[Chunk] = []
    if record.path:
        chunks = chunk_document(
            loaded, record, refs, settings.chunking.max_chars, settings.chunking.min_chars, doc_hash
        )
        if not chunks:
            raise CorpusError(f"{manifest.dir / record.path}: no text passages found (is the file empty?)")
    passage = record_chunk(record, doc_hash)
    if passage is not None:
        chunks.append(passage)
    return chunks


def chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {
        "chunk_id": chunk.chunk_id,
        "source_id": chunk.source_id,
        "section": chunk.section,
        "heading_path": json.dumps(chunk.heading_path),
        "start": chunk.start,
        "end": chunk.end,
        "cites": json.dumps(chunk.cites),
        "sentences": json.dumps([s.model_dump() for s in chunk.sentences]),
        "doc_hash": chunk.doc_hash,
        "position": chunk.position,
        "kind": chunk.kind,
    }


def chunk_from_row(text: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        chunk_id=meta["chunk_id"],
        source_id=meta["source_id"],
        text=text,
        section=meta.get("section", ""),
        heading_path=json.loads(meta.get("heading_path", "[]")),
        start=int(meta["start"]),
        end=int(meta["end"]),
        cites=json.loads(meta.get("cites", "[]")),
        sentences=[Sentence(**s) for s in json.loads(meta.get("sentences", "[]"))],
        doc_hash=meta.get("doc_hash", ""),
        position=int(meta.get("position", 0)),
        kind=meta.get("kind", "text"),
    )


def vocabulary(chunks: Iterable[Chunk]) -> set[str]:
    """The words of the passages and their headings, for synonym lookups (numbers and short words left out)."""
    return {w for c in chunks for w in words(c.text + " " + " ".join(c.heading_path)) if len(w) > 2 and not w.isdigit()}


def embedding_text(chunk: Chunk, record: DocumentRecord | None) -> str:
    """Title and headings give a bare bullet the context that retrieval needs."""
    title = f"{record.short_name()}: {record.title}" if record and record.kind != "article" else ""
    parts = [p for p in (title, " > ".join(chunk.heading_path)) if p]
    return "\n".join([*parts, chunk.text])
