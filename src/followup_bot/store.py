"""Chroma: collection naming, idempotent ingest, and lookups of the live index.

Everything the index depends on (embedding model, chunking) is hashed into the collection
name, so a model swap builds a new index instead of mixing vectors. The set of live documents
is one JSON value in the collection's metadata, written in a single call after the new chunks
are in place: a crash before that call leaves the previous index exactly as it was, and the
next ingest finishes the job. Records of a document carry its content hash in their id, so new
and old versions never overwrite each other. It all lives in Chroma, so http mode works too.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from followup_bot.corpus import CorpusError, Manifest, chunk_document, load_document, load_manifest, record_chunk
from followup_bot.embeddings import SentenceTransformerEmbeddings, model_identity
from followup_bot.errors import StoreError
from followup_bot.models import Chunk, DocumentRecord, Sentence
from followup_bot.settings import Settings

STATE_KEY = "followup_state"
BATCH = 256


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0
    collection: str = ""
    documents: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    model_loaded: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "chunks": self.chunks,
            "collection": self.collection,
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
        }


def collection_name(settings: Settings) -> str:
    basis = json.dumps(
        {"model": model_identity(settings.embeddings), "chunking": settings.chunking.model_dump()}, sort_keys=True
    )
    return f"{settings.store.collection_prefix}-{hashlib.sha256(basis.encode()).hexdigest()[:16]}"


def make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    store = settings.store
    try:
        if store.mode == "http":
            client = chromadb.HttpClient(host=store.host, port=store.port, settings=chroma_settings)
            client.heartbeat()
            return client
        path = settings.resolve(store.path)
        if path.exists() and not path.is_dir():
            raise StoreError(f"store.path = {path} is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        client.list_collections()
        return client
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - chromadb raises many types; all mean "unusable store"
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if store.mode == "http":
            raise StoreError(
                f"cannot reach the Chroma server at {store.host}:{store.port} (store.host/store.port): {detail}"
            ) from None
        raise StoreError(
            f"the vector store at {settings.resolve(store.path)} is unreadable ({detail}); move it aside or delete it, then run `followup-bot ingest`"
        ) from None


def document_hash(record: DocumentRecord, raw: bytes, settings: Settings) -> str:
    h = hashlib.sha256()
    h.update(record.model_dump_json().encode())
    h.update(settings.chunking.model_dump_json().encode())
    h.update(raw)
    return h.hexdigest()[:16]


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
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


def _chunk_from_record(text: str, meta: dict[str, Any]) -> Chunk:
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


def embedding_text(chunk: Chunk, record: DocumentRecord | None) -> str:
    """Title and headings give a bare bullet the context that retrieval needs."""
    title = f"{record.short_name()}: {record.title}" if record and record.kind != "article" else ""
    parts = [p for p in (title, " > ".join(chunk.heading_path)) if p]
    return "\n".join([*parts, chunk.text])


class ChunkStore:
    """One collection of chunks and one of their sentences, plus the live-document state."""

    def __init__(self, settings: Settings, embedder: SentenceTransformerEmbeddings | None = None) -> None:
        self.settings = settings
        self.name = collection_name(settings)
        self.client = make_client(settings)
        self._embedder = embedder

    # -- collections and state -------------------------------------------------------------
    def _collection(self, suffix: str = "", create: bool = False) -> Any:
        name = self.name + suffix
        try:
            if create:
                return self.client.get_or_create_collection(
                    name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:  # noqa: BLE001
            message = str(exc).lower()
            if not create and ("does not exist" in message or "not found" in message):
                return None
            raise StoreError(f"vector store collection {name!r} is unusable ({str(exc)[:200]})") from None

    @property
    def embedder(self) -> SentenceTransformerEmbeddings:
        if self._embedder is None:
            self._embedder = SentenceTransformerEmbeddings(self.settings.embeddings)
        return self._embedder

    def state(self) -> dict[str, Any]:
        coll = self._collection()
        if coll is None:
            return {}
        raw = (coll.metadata or {}).get(STATE_KEY)
        try:
            return json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            raise StoreError(
                f"collection {self.name!r} has corrupt state metadata; delete the store and re-ingest"
            ) from None

    def _write_state(self, coll: Any, state: dict[str, Any]) -> None:
        metadata = dict(coll.metadata or {})
        metadata[STATE_KEY] = json.dumps(state, sort_keys=True)
        metadata["embedding_model"] = self.settings.embeddings.model
        metadata["embedding_dim"] = int(state.get("dim", 0))
        metadata["chunking"] = self.settings.chunking.model_dump_json()
        coll.modify(metadata=metadata)

    def live_hashes(self) -> dict[str, str]:
        return {doc_id: info["hash"] for doc_id, info in self.state().get("docs", {}).items()}

    def check_model(self, embedder: SentenceTransformerEmbeddings) -> None:
        state = self.state()
        dim = int(state.get("dim", 0))
        if dim and embedder.dimension != dim:
            raise StoreError(
                f"collection {self.name!r} was built with {state.get('model')!r} ({dim}-d) but embeddings.model = "
                f"{self.settings.embeddings.model!r} gives {embedder.dimension}-d vectors; run `followup-bot ingest` to rebuild"
            )

    # -- ingest ---------------------------------------------------------------------------------
    def scan(self, manifest: Manifest) -> dict[str, tuple[DocumentRecord, Any, str]]:
        corpus_dir = manifest.dir
        out: dict[str, tuple[DocumentRecord, Any, str]] = {}
        for record in manifest.documents:
            loaded = load_document(corpus_dir / record.path)
            front = loaded.front_matter
            merged = record.model_dump()
            for key, value in front.items():
                if key in merged and not merged[key] and value:
                    merged[key] = value
            if record.kind == "article" and not merged.get("framing"):
                merged["framing"] = str(front.get("disclaimer", "") or "")
            full = DocumentRecord(**{k: v for k, v in merged.items() if k in DocumentRecord.model_fields})
            out[record.id] = (full, loaded, document_hash(full, loaded.raw_bytes, self.settings))
        return out

    def ingest(
        self, manifest: Manifest | None = None, progress: Callable[[Iterable, int, str], Iterable] | None = None
    ) -> IngestReport:
        t0 = time.perf_counter()
        manifest = manifest or load_manifest(
            self.settings.resolve(self.settings.corpus.dir), self.settings.corpus.manifest
        )
        docs = self.scan(manifest)
        state = self.state()
        old_docs: dict[str, dict[str, Any]] = state.get("docs", {})
        changed = [d for d, (_, _, h) in docs.items() if old_docs.get(d, {}).get("hash") != h]
        vanished = [d for d in old_docs if d not in docs]
        report = IngestReport(collection=self.name, documents={d: h for d, (_, _, h) in docs.items()})
        if not changed and not vanished:
            report.unchanged = report.chunks = sum(int(info.get("chunks", 0)) for info in old_docs.values())
            report.seconds = time.perf_counter() - t0
            return report

        refs = manifest.reference_map()
        coll = self._collection(create=True)
        sent_coll = self._collection("-sentences", create=True)
        old_ids: dict[str, set[str]] = {}
        for doc_id in changed + vanished:
            if doc_id in old_docs:
                got = coll.get(
                    where={"$and": [{"source_id": doc_id}, {"doc_hash": old_docs[doc_id]["hash"]}]},
                    include=["metadatas"],
                )
                old_ids[doc_id] = {m["chunk_id"] for m in got["metadatas"]}

        new_chunks: list[Chunk] = []
        new_docs = {d: info for d, info in old_docs.items() if d in docs}
        for doc_id in changed:
            record, loaded, doc_hash = docs[doc_id]
            chunks = chunk_document(
                loaded, record, refs, self.settings.chunking.max_chars, self.settings.chunking.min_chars, doc_hash
            )
            if not chunks:
                raise CorpusError(f"{manifest.dir / record.path}: no text passages found (is the file empty?)")
            record_passage = record_chunk(record, doc_hash)
            if record_passage is not None:
                chunks.append(record_passage)
            new_chunks.extend(chunks)
            new_docs[doc_id] = {"hash": doc_hash, "chunks": len(chunks)}
            ids = {c.chunk_id for c in chunks}
            before = old_ids.get(doc_id, set())
            report.added += len(ids - before)
            report.updated += len(ids & before)
            report.removed += len(before - ids)
        for doc_id in vanished:
            report.removed += len(old_ids.get(doc_id, set()))

        embedder = self.embedder
        report.model_loaded = True
        texts = [embedding_text(c, docs[c.source_id][0]) for c in new_chunks]
        sentences = [(c, i, s) for c in new_chunks for i, s in enumerate(c.sentences)]
        total = len(texts) + len(sentences)
        bar = progress(range(total), total, "embedding") if progress else None
        bar_iter = iter(bar) if bar is not None else None

        def advance(n: int) -> None:
            if bar_iter is not None:
                for _ in range(n):
                    next(bar_iter, None)

        chunk_vectors = self._encode_batches(embedder, texts, embedder.settings.document_prefix, advance)
        sentence_vectors = self._encode_batches(
            embedder, [s.text for _, _, s in sentences], embedder.settings.document_prefix, advance
        )
        if bar_iter is not None:
            for _ in bar_iter:
                pass
        for i in range(0, len(new_chunks), BATCH):
            part = new_chunks[i : i + BATCH]
            coll.upsert(
                ids=[f"{c.doc_hash}-{c.chunk_id}" for c in part],
                documents=[c.text for c in part],
                embeddings=chunk_vectors[i : i + BATCH],
                metadatas=[_chunk_metadata(c) for c in part],
            )
        for i in range(0, len(sentences), BATCH):
            sentence_part = sentences[i : i + BATCH]
            sent_coll.upsert(
                ids=[f"{c.doc_hash}-{c.chunk_id}-{j}" for c, j, _ in sentence_part],
                documents=[s.text for _, _, s in sentence_part],
                embeddings=sentence_vectors[i : i + BATCH],
                metadatas=[
                    {"chunk_id": c.chunk_id, "doc_hash": c.doc_hash, "source_id": c.source_id, "index": j}
                    for c, j, _ in sentence_part
                ],
            )
        # The commit point: one metadata write switches the live set.
        self._write_state(coll, {"docs": new_docs, "dim": embedder.dimension, "model": self.settings.embeddings.model})
        live = {info["hash"] for info in new_docs.values()}
        for target in (coll, sent_coll):
            stale = (
                target.get(where={"doc_hash": {"$nin": sorted(live)}}, include=[]) if live else target.get(include=[])
            )
            if stale["ids"]:
                target.delete(ids=stale["ids"])
        report.chunks = sum(int(info["chunks"]) for info in new_docs.values())
        report.unchanged = report.chunks - report.added - report.updated
        report.seconds = time.perf_counter() - t0
        return report

    @staticmethod
    def _encode_batches(
        embedder: SentenceTransformerEmbeddings, texts: list[str], prefix: str, advance: Callable[[int], None]
    ) -> np.ndarray:
        parts = []
        step = max(1, embedder.settings.batch_size)
        for i in range(0, len(texts), step):
            parts.append(embedder.encode(texts[i : i + step], prefix))
            advance(len(texts[i : i + step]))
        return np.concatenate(parts) if parts else np.zeros((0, 1), dtype=np.float32)

    # -- lookups ----------------------------------------------------------------------------------
    def live_chunks(self) -> list[Chunk]:
        hashes = sorted(set(self.live_hashes().values()))
        coll = self._collection()
        if coll is None or not hashes:
            raise StoreError(
                f"no index yet for this embedding model and chunking (collection {self.name!r}); run `followup-bot ingest`"
            )
        got = coll.get(where={"doc_hash": {"$in": hashes}}, include=["documents", "metadatas"])
        chunks = [_chunk_from_record(text, meta) for text, meta in zip(got["documents"], got["metadatas"], strict=True)]
        chunks.sort(key=lambda c: (c.source_id, c.position))
        return chunks

    def sentence_vectors(self) -> dict[tuple[str, int], np.ndarray]:
        hashes = sorted(set(self.live_hashes().values()))
        coll = self._collection("-sentences")
        if coll is None or not hashes:
            return {}
        got = coll.get(where={"doc_hash": {"$in": hashes}}, include=["embeddings", "metadatas"])
        return {
            (m["chunk_id"], int(m["index"])): np.asarray(e, dtype=np.float32)
            for e, m in zip(got["embeddings"], got["metadatas"], strict=True)
        }

    def chunk_vectors(self) -> dict[str, np.ndarray]:
        hashes = sorted(set(self.live_hashes().values()))
        coll = self._collection()
        if coll is None or not hashes:
            return {}
        got = coll.get(where={"doc_hash": {"$in": hashes}}, include=["embeddings", "metadatas"])
        return {
            m["chunk_id"]: np.asarray(e, dtype=np.float32)
            for e, m in zip(got["embeddings"], got["metadatas"], strict=True)
        }

    def vectorstore(self, embedder: SentenceTransformerEmbeddings) -> Any:
        """The LangChain view of the chunk collection, used for dense search."""
        from langchain_chroma import Chroma

        return Chroma(
            client=self.client,
            collection_name=self.name,
            embedding_function=embedder,
            create_collection_if_not_exists=False,
        )


def store_path_for_display(settings: Settings) -> str:
    if settings.store.mode == "http":
        return f"http://{settings.store.host}:{settings.store.port}"
    return str(Path(settings.resolve(settings.store.path)))
