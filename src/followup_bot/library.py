"""Articles and their indexes: everything the pipeline needs to answer about one article.

An `ArticleIndex` holds one article's documents, passages and the indexes built on them (BM25,
sentence and passage vectors, sections, term weights, the speller's vocabulary). The stages ask
the `Library` for the index of the article in their request, so nothing below the interfaces
assumes there is only one article.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from followup_bot.citations import MarkerBook
from followup_bot.corpus import Manifest, load_manifest
from followup_bot.embeddings import SentenceTransformerEmbeddings
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
from followup_bot.store import ChunkStore, embedding_text
from followup_bot.text import SpellingCorrector, words

Progress = Callable[[Iterable[Any], int, str], Iterable[Any]]


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
) -> ArticleIndex:
    """Read the live passages and vectors of one article from the store and build its indexes."""
    scanned = store.scan(manifest)
    records = {doc_id: rec for doc_id, (rec, _, _) in scanned.items()}
    chunk_list = store.live_chunks()
    chunks = {c.chunk_id: c for c in chunk_list}
    contexts = [embedding_text(c, records.get(c.source_id)) for c in chunk_list]
    weights = TermWeights(chunk_list)
    chunk_vectors = store.chunk_vectors()
    sentence_vectors = store.sentence_vectors()
    retriever = HybridRetriever(
        chunk_list,
        contexts,
        chunk_vectors,
        store.vectorstore(embedder),
        sorted(set(store.live_hashes().values())),
        records,
        settings.retrieval,
    )
    vocabulary = {
        w for c in chunk_list for w in words(c.text + " " + " ".join(c.heading_path)) if len(w) > 2 and not w.isdigit()
    }
    word_vectors = WordVectors(embedder.encode, vocabulary)
    terms = KeyTerms(weights, records, settings.evidence)
    ranker = SentenceRanker(
        chunks, sentence_vectors, chunk_vectors, terms, settings.evidence, settings.generator.max_sentences
    )
    abstention = AbstentionJudge(chunks, sentence_vectors, terms, word_vectors, settings.evidence, model)
    article = manifest.article()
    title = manifest.title or (article.title if article else "") or "the article"
    return ArticleIndex(
        id=article_id,
        title=title,
        records=records,
        chunks=chunks,
        retriever=retriever,
        terms=terms,
        ranker=ranker,
        abstention=abstention,
        speller=SpellingCorrector(vocabulary),
    )


class Library:
    """The articles this process can answer about, by id."""

    def __init__(self, indexes: dict[str, ArticleIndex], default: str) -> None:
        self._indexes = indexes
        self.default = default

    def ids(self) -> list[str]:
        return list(self._indexes)

    def get(self, article_id: str | None = None) -> ArticleIndex:
        key = article_id or self.default
        index = self._indexes.get(key)
        if index is None:
            known = ", ".join(sorted(self._indexes)) or "none"
            raise ArticleError(f"unknown article {key!r}; known articles: {known}")
        return index


def open_library(
    settings: Settings,
    embedder: SentenceTransformerEmbeddings,
    model: AbstentionModel | None,
    *,
    auto_ingest: bool = True,
    progress: Progress | None = None,
) -> Library:
    """The configured corpus as a library, ingesting it first when its index is missing or stale."""
    manifest = load_manifest(settings.resolve(settings.corpus.dir), settings.corpus.manifest)
    store = ChunkStore(settings, embedder)
    scanned = store.scan(manifest)
    if {d: h for d, (_, _, h) in scanned.items()} != store.live_hashes():
        if not auto_ingest:
            raise StoreError("the index is missing or out of date; run `followup-bot ingest`")
        store.ingest(manifest, progress=progress)
    store.check_model(embedder)
    article_id = "default"
    return Library({article_id: build_index(article_id, manifest, store, embedder, settings, model)}, article_id)
