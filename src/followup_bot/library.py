"""Articles and their indexes: everything the pipeline needs to answer about one article.

An `ArticleIndex` holds one article's documents, passages and the indexes built on them (BM25,
sentence and passage vectors, sections, term weights, the speller's vocabulary). The stages ask
the `Library` for the index of the article in their request, so nothing below the interfaces
assumes there is only one article.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from followup_bot.citations import MarkerBook
from followup_bot.corpus import Manifest, load_manifest
from followup_bot.corpus.manifest import article_id as article_slug
from followup_bot.embeddings import Embedder, SentenceTransformerEmbeddings
from followup_bot.errors import ArticleError, StoreError
from followup_bot.evidence import (
    AbstentionJudge,
    AbstentionModel,
    KeyTerms,
    SentenceRanker,
    TermWeights,
    WordVectors,
)
from followup_bot.models import Chunk, DocumentRecord
from followup_bot.retrieval import HybridRetriever
from followup_bot.settings import Settings
from followup_bot.store import ChunkStore, corpus_manifest, embedding_text, make_client
from followup_bot.store.client import reachable, store_identity
from followup_bot.store.dense import DenseSearch
from followup_bot.store.documents import vocabulary
from followup_bot.text import SpellingCorrector

Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]
log = logging.getLogger("followup_bot.library")


@dataclass(frozen=True)
class ArticleIndex:
    """One article, its cited works, and the indexes the stages read."""

    id: str
    title: str
    records: dict[str, DocumentRecord]
    chunks: dict[str, Chunk]
    retriever: HybridRetriever
    terms: KeyTerms
    ranker: SentenceRanker
    abstention: AbstentionJudge
    speller: SpellingCorrector

    def marker_book(self) -> MarkerBook:
        return MarkerBook(self.chunks, self.records)


def build_index(
    article_id: str,
    manifest: Manifest,
    store: ChunkStore,
    embedder: SentenceTransformerEmbeddings,
    settings: Settings,
    model: AbstentionModel | None,
    reopen: Callable[[], ChunkStore] | None = None,
) -> ArticleIndex:
    """Read the live passages and vectors of one article from the store and build its indexes.

    Dense search goes to the store, and falls back to the passage vectors in memory while the store
    fails (see `DenseSearch`); `reopen` gives the article's store through a fresh client for the retry.
    """
    scanned = store.scan(manifest)
    article = manifest.article()
    chunks = store.live_chunks()
    vectors = store.chunk_vectors()
    again = reopen or (lambda: store)
    dense = DenseSearch(
        lambda: again().vectorstore(embedder), vectors, f"article {article_id!r}", store.vectorstore(embedder)
    )
    return index_from_parts(
        article_id,
        manifest.title or (article.title if article else ""),
        {doc_id: rec for doc_id, (rec, _, _) in scanned.items()},
        chunks,
        vectors,
        store.sentence_vectors(),
        embedder,
        settings,
        model,
        vectorstore=dense,
        live_hashes=sorted(set(store.live_hashes().values())),
        known_words=store.word_vectors(vocabulary(chunks), embedder),
    )


def index_from_parts(
    article_id: str,
    title: str,
    records: dict[str, DocumentRecord],
    chunk_list: list[Chunk],
    chunk_vectors: dict[str, np.ndarray],
    sentence_vectors: dict[tuple[str, int], np.ndarray],
    embedder: Embedder,
    settings: Settings,
    model: AbstentionModel | None,
    *,
    vectorstore: Any = None,
    live_hashes: list[str] | None = None,
    known_words: dict[str, np.ndarray] | None = None,
) -> ArticleIndex:
    """An article's indexes from its passages and their vectors (the store, or a test, provides them).

    Without a vector store, dense search runs over the passage vectors in memory: the same
    ranking, which lets unit tests build an index from a handful of passages in milliseconds.
    """
    chunks = {c.chunk_id: c for c in chunk_list}
    contexts = [embedding_text(c, records.get(c.source_id)) for c in chunk_list]
    retriever = HybridRetriever(
        chunk_list, contexts, chunk_vectors, vectorstore, live_hashes or [], records, settings.retrieval
    )
    words = vocabulary(chunk_list)
    word_vectors = WordVectors(embedder.encode, words, known_words)
    terms = KeyTerms(TermWeights(chunk_list), records, settings.evidence)
    ranker = SentenceRanker(
        chunks, sentence_vectors, chunk_vectors, terms, settings.evidence, settings.generator.max_sentences
    )
    abstention = AbstentionJudge(chunks, sentence_vectors, terms, word_vectors, settings.evidence, model)
    return ArticleIndex(
        id=article_id,
        title=title or "the article",
        records=records,
        chunks=chunks,
        retriever=retriever,
        terms=terms,
        ranker=ranker,
        abstention=abstention,
        speller=SpellingCorrector(words),
    )


class Library:
    """The articles this process can answer about: the configured corpus plus every imported article.

    Each article's indexes are built on first use (from the store, or after ingesting the article
    when its index is missing or stale and `auto_ingest` allows) and kept in a bounded LRU cache,
    so memory follows the articles in use, not the size of the library. Two readers opening the
    same article at once build it once.
    """

    def __init__(
        self,
        settings: Settings,
        embedder: SentenceTransformerEmbeddings,
        model: AbstentionModel | None,
        *,
        auto_ingest: bool = True,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.model = model
        self.auto_ingest = auto_ingest
        self.progress = progress
        self.client: Any = make_client(settings)
        self._identity = store_identity(settings)
        self._client_lock = threading.Lock()
        self._manifests = self._scan_manifests()
        default = settings.corpus.default_article or corpus_manifest(settings).id
        if default not in self._manifests:
            raise ArticleError(f"corpus.default_article = {default!r} is not in the library")
        self.default = default
        self._cache: OrderedDict[str, ArticleIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[str, threading.Lock] = {}

    @classmethod
    def in_memory(cls, settings: Settings, indexes: dict[str, ArticleIndex], default: str) -> Library:
        """A library of indexes built elsewhere (unit tests build them from a fake embedder, without a store)."""
        library = cls.__new__(cls)
        library.settings = settings
        library.auto_ingest = False
        library.progress = None
        library.default = default
        library._manifests = {}
        library._cache = OrderedDict(indexes)
        library._lock = threading.Lock()
        library._building = {}
        library.client = None
        library._identity = None
        library._client_lock = threading.Lock()
        return library

    def _scan_manifests(self) -> dict[str, Manifest]:
        """The corpus article, then each imported article folder (a folder holding a manifest)."""
        corpus = corpus_manifest(self.settings)
        manifests = {corpus.id: corpus}
        folder = self.settings.resolve(self.settings.library.dir)
        if folder.is_dir():
            for sub in sorted(p for p in folder.iterdir() if (p / "manifest.toml").is_file()):
                manifest = load_manifest(sub)
                manifests.setdefault(manifest.id, manifest)
        return manifests

    def manifest(self, article_id: str | None = None) -> Manifest:
        key = article_id or self.default
        if key not in self._manifests:
            self._manifests = self._scan_manifests()  # imported while this process was running
        manifest = self._manifests.get(key)
        if manifest is None:
            known = ", ".join(sorted(self._manifests)[:20]) or "none"
            raise ArticleError(f"unknown article {key!r}; known articles: {known}")
        return manifest

    def ids(self) -> list[str]:
        return list(self._manifests)

    def resolve(self, article_id: str | None = None) -> str:
        """The id of an article the library has (the default one for None), without building its index:
        `ArticleError` when there is no such article. An id no article can have (not a slug) is refused
        without reading the library folder again."""
        key = article_id or self.default
        with self._lock:
            if key in self._cache:
                return key
        if article_slug(key) != key:
            raise ArticleError(f"unknown article {key[:80]!r}")
        return self.manifest(key).id

    def get(self, article_id: str | None = None) -> ArticleIndex:
        """The article's indexes, from the cache or built now (the least recently used one is dropped)."""
        key = article_id or self.default
        with self._lock:
            index = self._cache.get(key)
            if index is not None:
                self._cache.move_to_end(key)
                return index
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]
            index = self._build(key)
            with self._lock:
                self._cache[key] = index
                while len(self._cache) > self.settings.library.cache_size:
                    self._cache.popitem(last=False)
        return index

    def cached(self) -> list[str]:
        with self._lock:
            return list(self._cache)

    def store(self, article_id: str) -> ChunkStore:
        return ChunkStore(self.settings, self.embedder, article_id, client=self.client)

    def reconnect(self) -> Any:
        """The store's client, reopened when it can no longer serve: the store folder was deleted or
        replaced under this process (its Chroma still reads the unlinked files, and cannot write them),
        or the Chroma server stopped answering. A server still down is a `StoreError` naming host:port."""
        with self._client_lock:
            if self.settings.store.mode == "http":
                if not reachable(self.client):
                    self.client = make_client(self.settings)
            elif store_identity(self.settings) != self._identity:
                log.warning("the vector store folder was deleted or replaced; opening it again")
                self.client = make_client(self.settings)
                self._identity = store_identity(self.settings)
            return self.client

    def _build(self, article_id: str) -> ArticleIndex:
        manifest = self.manifest(article_id)
        self.reconnect()
        store = self.store(article_id)
        if not store.is_current(manifest):
            if not self.auto_ingest:
                raise StoreError(
                    f"the index of article {article_id!r} is missing or out of date; run `followup-bot ingest`"
                )
            store.ingest(manifest, progress=self.progress)
        store.check_model(self.embedder)

        def reopen() -> ChunkStore:
            self.reconnect()
            return self.store(article_id)

        return build_index(article_id, manifest, store, self.embedder, self.settings, self.model, reopen)
