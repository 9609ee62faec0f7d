"""One article's index in Chroma: idempotent ingest, and lookups of its live passages and vectors.

The set of live documents is one JSON value in the passage collection's metadata, written in a
single call after the new passages are in place: a crash (even `kill -9`) before that call
leaves the previous index exactly as it was, and the next ingest finishes the job. Rows carry
their document's content hash in their id, so new and old versions never overwrite each other.
It all lives in Chroma, so http mode works the same.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from followup_bot.corpus import Manifest, load_manifest
from followup_bot.embeddings import SentenceTransformerEmbeddings
from followup_bot.errors import StoreError
from followup_bot.models import Chunk
from followup_bot.settings import Settings
from followup_bot.store.client import (
    ARTICLE_KEY,
    SENTENCES,
    STATE_KEY,
    TITLE_KEY,
    WORDS,
    collection_base,
    collection_name,
    ingest_lock,
    make_client,
)
from followup_bot.store.documents import (
    Scanned,
    chunk_from_row,
    chunk_metadata,
    chunk_one,
    embedding_text,
    scan_documents,
    vocabulary,
)
from followup_bot.store.guard import GuardedClient

log = logging.getLogger(__name__)

BATCH = 256
Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


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
    # Rows no live document owns (left by an ingest that died before its commit), deleted now.
    orphans: int = 0

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
            "orphans": self.orphans,
        }


def corpus_manifest(settings: Settings) -> Manifest:
    """The manifest of the article in `[corpus] dir` (the default article)."""
    return load_manifest(settings.resolve(settings.corpus.dir), settings.corpus.manifest)


class ChunkStore:
    """One article's collections: its passages, their sentences, and the live-document state."""

    def __init__(
        self,
        settings: Settings,
        embedder: SentenceTransformerEmbeddings | None = None,
        article: str | None = None,
        client: Any = None,
    ) -> None:
        self.settings = settings
        self.article = article or corpus_manifest(settings).id
        self.name = collection_name(settings, self.article)
        self.client = client if client is not None else make_client(settings)
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
        except StoreError as exc:  # the guarded client's translation of whatever Chroma raised
            message = str(exc.__cause__ or exc).lower()
            if not create and ("does not exist" in message or "not found" in message):
                return None
            raise

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

    def _write_state(self, coll: Any, state: dict[str, Any], title: str) -> None:
        metadata = dict(coll.metadata or {})
        metadata.pop("hnsw:space", None)  # a creation-time setting; Chroma refuses to modify it
        metadata[STATE_KEY] = json.dumps(state, sort_keys=True)
        metadata[ARTICLE_KEY] = self.article
        metadata[TITLE_KEY] = title
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
                f"{self.settings.embeddings.model!r} gives {embedder.dimension}-d vectors; "
                "run `followup-bot ingest` to rebuild"
            )

    def delete(self) -> None:
        """Remove this article's collections (used when an article leaves the library)."""
        for suffix in ("", SENTENCES):
            if self._collection(suffix) is not None:
                self.client.delete_collection(self.name + suffix)

    # -- ingest ---------------------------------------------------------------------------------
    def scan(self, manifest: Manifest) -> Scanned:
        return scan_documents(manifest, self.settings)

    def is_current(self, manifest: Manifest) -> bool:
        """Whether the index holds exactly this manifest's documents, as they are now."""
        return {d: h for d, (_, _, h) in self.scan(manifest).items()} == self.live_hashes()

    def ingest(self, manifest: Manifest | None = None, progress: Progress | None = None) -> IngestReport:
        with ingest_lock(self.settings):
            return self._ingest(manifest or corpus_manifest(self.settings), progress)

    def _ingest(self, manifest: Manifest, progress: Progress | None) -> IngestReport:
        t0 = time.perf_counter()
        docs = self.scan(manifest)
        old_docs: dict[str, dict[str, Any]] = self.state().get("docs", {})
        changed = [d for d, (_, _, h) in docs.items() if old_docs.get(d, {}).get("hash") != h]
        vanished = [d for d in old_docs if d not in docs]
        report = IngestReport(collection=self.name, documents={d: h for d, (_, _, h) in docs.items()})
        if not changed and not vanished:
            report.unchanged = report.chunks = sum(int(info.get("chunks", 0)) for info in old_docs.values())
            coll = self._collection()
            if coll is not None:
                report.orphans = self._sweep(coll, self._collection(SENTENCES), old_docs)
            report.seconds = time.perf_counter() - t0
            return report

        refs = manifest.reference_map()
        coll = self._collection(create=True)
        sent_coll = self._collection(SENTENCES, create=True)
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
            chunks = chunk_one(doc_id, docs, manifest, refs, self.settings)
            new_chunks.extend(chunks)
            new_docs[doc_id] = {"hash": docs[doc_id][2], "chunks": len(chunks)}
            ids = {c.chunk_id for c in chunks}
            before = old_ids.get(doc_id, set())
            report.added += len(ids - before)
            report.updated += len(ids & before)
            report.removed += len(before - ids)
        for doc_id in vanished:
            report.removed += len(old_ids.get(doc_id, set()))

        embedder = self.embedder
        report.model_loaded = True
        self._write_rows(coll, sent_coll, new_chunks, docs, embedder, progress)
        self.word_vectors(vocabulary(new_chunks), embedder)
        # The commit point: one metadata write switches the live set.
        state = {"docs": new_docs, "dim": embedder.dimension, "model": self.settings.embeddings.model}
        article = manifest.article()
        self._write_state(coll, state, manifest.title or (article.title if article else ""))
        self._sweep(coll, sent_coll, new_docs)
        report.chunks = sum(int(info["chunks"]) for info in new_docs.values())
        report.unchanged = report.chunks - report.added - report.updated
        report.seconds = time.perf_counter() - t0
        return report

    @staticmethod
    def _sweep(coll: Any, sent_coll: Any, live_docs: dict[str, dict[str, Any]]) -> int:
        """Delete the rows of documents that are not live: replaced versions, and an interrupted ingest's orphans.

        Returns the number of passage rows deleted.
        """
        live = sorted({info["hash"] for info in live_docs.values()})
        deleted = 0
        for target in (coll, sent_coll):
            if target is None:
                continue
            stale = target.get(where={"doc_hash": {"$nin": live}}, include=[]) if live else target.get(include=[])
            if stale["ids"]:
                target.delete(ids=stale["ids"])
            if target is coll:
                deleted = len(stale["ids"])
        return deleted

    def _write_rows(
        self,
        coll: Any,
        sent_coll: Any,
        new_chunks: list[Chunk],
        docs: Scanned,
        embedder: SentenceTransformerEmbeddings,
        progress: Progress | None,
    ) -> None:
        """Embed the new passages and their sentences, and upsert them (not yet live)."""
        texts = [embedding_text(c, docs[c.source_id][0]) for c in new_chunks]
        sentences = [(c, i, s) for c in new_chunks for i, s in enumerate(c.sentences)]
        total = len(texts) + len(sentences)
        bar = iter(progress(range(total), total, "embedding")) if progress else None

        def advance(n: int) -> None:
            if bar is not None:
                for _ in range(n):
                    next(bar, None)

        prefix = embedder.settings.document_prefix
        chunk_vectors = self._encode_batches(embedder, texts, prefix, advance)
        sentence_vectors = self._encode_batches(embedder, [s.text for _, _, s in sentences], prefix, advance)
        for _ in bar or ():
            pass
        for i in range(0, len(new_chunks), BATCH):
            part = new_chunks[i : i + BATCH]
            coll.upsert(
                ids=[f"{c.doc_hash}-{c.chunk_id}" for c in part],
                documents=[c.text for c in part],
                embeddings=chunk_vectors[i : i + BATCH],
                metadatas=[chunk_metadata(c) for c in part],
            )
        for i in range(0, len(sentences), BATCH):
            rows = sentences[i : i + BATCH]
            sent_coll.upsert(
                ids=[f"{c.doc_hash}-{c.chunk_id}-{j}" for c, j, _ in rows],
                documents=[s.text for _, _, s in rows],
                embeddings=sentence_vectors[i : i + BATCH],
                metadatas=[
                    {"chunk_id": c.chunk_id, "doc_hash": c.doc_hash, "source_id": c.source_id, "index": j}
                    for c, j, _ in rows
                ],
            )

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
                f"no index yet for article {self.article!r} with this embedding model and chunking "
                f"(collection {self.name!r}); run `followup-bot ingest` or `followup-bot import`"
            )
        got = coll.get(where={"doc_hash": {"$in": hashes}}, include=["documents", "metadatas"])
        chunks = [chunk_from_row(text, meta) for text, meta in zip(got["documents"], got["metadatas"], strict=True)]
        chunks.sort(key=lambda c: (c.source_id, c.position))
        return chunks

    def _vectors(self, suffix: str) -> tuple[list[Any], list[dict[str, Any]]]:
        hashes = sorted(set(self.live_hashes().values()))
        coll = self._collection(suffix)
        if coll is None or not hashes:
            return [], []
        got = coll.get(where={"doc_hash": {"$in": hashes}}, include=["embeddings", "metadatas"])
        return list(got["embeddings"]), list(got["metadatas"])

    def sentence_vectors(self) -> dict[tuple[str, int], np.ndarray]:
        vectors, metas = self._vectors(SENTENCES)
        return {
            (m["chunk_id"], int(m["index"])): np.asarray(e, dtype=np.float32)
            for e, m in zip(vectors, metas, strict=True)
        }

    def chunk_vectors(self) -> dict[str, np.ndarray]:
        vectors, metas = self._vectors("")
        return {m["chunk_id"]: np.asarray(e, dtype=np.float32) for e, m in zip(vectors, metas, strict=True)}

    def word_vectors(
        self, words: set[str], embedder: SentenceTransformerEmbeddings | None = None
    ) -> dict[str, np.ndarray]:
        """Vectors of single words, read from the shared words collection; missing ones are embedded and added.

        Embedding an article's whole vocabulary (thousands of words) took ~10 s on this machine,
        which a reader would pay on first opening an article; stored once per word, it is a read.
        """
        name = collection_base(self.settings) + WORDS
        coll = self.client.get_or_create_collection(
            name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        wanted = sorted(words)
        found: dict[str, np.ndarray] = {}
        try:
            for i in range(0, len(wanted), 1000):
                got = coll.get(ids=wanted[i : i + 1000], include=["embeddings"])
                found.update(
                    {w: np.asarray(e, dtype=np.float32) for w, e in zip(got["ids"], got["embeddings"], strict=True)}
                )
        except StoreError as exc:
            # The words collection is only a cache shared by all articles. One a killed writer left
            # damaged ("Error getting embedding", "Failed to apply logs to the hnsw segment writer")
            # is dropped and rebuilt rather than failing every article that opens.
            log.warning("the shared words collection is damaged (%s); rebuilding it", exc)
            found = {}
            try:
                self.client.delete_collection(name)
                coll = self.client.get_or_create_collection(
                    name, configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
                )
            except StoreError as again:
                log.warning("the words collection could not be rebuilt (%s); vectors stay in memory", again)
                coll = None
        missing = [w for w in wanted if w not in found]
        if missing:
            model = embedder or self.embedder
            vectors = self._encode_batches(model, missing, "", lambda _n: None)
            try:
                for i in range(0, len(missing), BATCH) if coll is not None else ():
                    coll.upsert(ids=missing[i : i + BATCH], embeddings=vectors[i : i + BATCH])
            except StoreError as exc:
                log.warning("the words collection could not be updated (%s); vectors stay in memory", exc)
            found.update(zip(missing, vectors, strict=True))
        return found

    def vectorstore(self, embedder: SentenceTransformerEmbeddings) -> Any:
        """The LangChain view of the passage collection, used for dense search."""
        from langchain_chroma import Chroma

        return Chroma(
            client=self.client.raw if isinstance(self.client, GuardedClient) else self.client,
            collection_name=self.name,
            embedding_function=embedder,
            create_collection_if_not_exists=False,
        )
