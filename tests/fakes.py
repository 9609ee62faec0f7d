"""A fake embedding model and components built from it, for fast unit tests of the stages.

The fake embeds a text as a hashed bag of its stemmed content words: texts sharing words are
similar, others are not, which is all the ranking logic needs to be exercised. The real model
is used by the integration tests; these exist so that a stage can be tested in milliseconds.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from followup_bot.components import Components
from followup_bot.corpus import load_manifest
from followup_bot.framing import Framing
from followup_bot.generators.extractive import ExtractiveGenerator
from followup_bot.library import ArticleIndex, Library, index_from_parts
from followup_bot.prompts import PromptLibrary
from followup_bot.settings import Settings
from followup_bot.store.documents import chunk_one, scan_documents
from followup_bot.text import content_terms
from followup_bot.triage import SafetyTriage
from followup_bot.verify import HeuristicJudge


class FakeEmbedder:
    """Deterministic bag-of-stems vectors (1024-d, unit length; each term in three buckets, so two
    different words are never near-synonyms by accident)."""

    dimension = 1024

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dimension, dtype=np.float32)
        for term in content_terms(text) or ["_"]:
            digest = hashlib.md5(term.encode()).hexdigest()
            for k in range(3):
                h = int(digest[8 * k : 8 * k + 8], 16)
                v[h % self.dimension] += 1.0 if (h >> 12) % 2 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def encode(self, texts: list[str], prefix: str = "", show_progress: bool = False) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        return self._vector(text)


def fake_index(settings: Settings, corpus_dir: Path, embedder: FakeEmbedder) -> ArticleIndex:
    """An article's indexes from its manifest folder, with fake vectors and no store."""
    manifest = load_manifest(corpus_dir)
    scanned = scan_documents(manifest, settings)
    refs = manifest.reference_map()
    chunks = [c for doc_id in scanned for c in chunk_one(doc_id, scanned, manifest, refs, settings)]
    records = {doc_id: rec for doc_id, (rec, _, _) in scanned.items()}
    chunk_vectors = dict(zip([c.chunk_id for c in chunks], embedder.encode([c.text for c in chunks]), strict=True))
    sentence_vectors = {
        (c.chunk_id, i): embedder.query_vector(s.text) for c in chunks for i, s in enumerate(c.sentences)
    }
    return index_from_parts(
        manifest.id, manifest.title, records, chunks, chunk_vectors, sentence_vectors, embedder, settings, None
    )


def fake_components(settings: Settings, corpus_dir: Path) -> Components:
    embedder = FakeEmbedder()
    index = fake_index(settings, corpus_dir, embedder)
    prompts = PromptLibrary(settings.resolve(settings.prompts.dir))
    generator = ExtractiveGenerator()
    return Components(
        settings=settings,
        embedder=embedder,
        library=Library.in_memory(settings, {index.id: index}, index.id),
        generator=generator,
        fallback=ExtractiveGenerator(),
        judge=HeuristicJudge(settings.verify.support_threshold, embedder.encode),
        triage=SafetyTriage(settings.safety),
        framing=Framing(prompts, settings.safety),
        prompts=prompts,
    )
