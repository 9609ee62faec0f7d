"""Sentence-level evidence: rank the sentences of the retrieved passages, and decide to abstain.

The abstention rule combines two signals, calibrated on eval/dev.jsonl (never on the test set):
a relevance floor on the best sentence, and coverage of the question's key terms by the chosen
evidence, weighted by how informative each term is in the corpus. A question whose distinctive
words ("half-life", "price") appear nowhere in the evidence is not answered from the nearest
topical sentence, however similar it looks to the embedding model.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from followup_bot.models import Chunk, DocumentRecord, Passage
from followup_bot.settings import GeneratorSettings
from followup_bot.text import content_terms


@dataclass
class ScoredSentence:
    chunk_id: str
    index: int
    text: str
    score: float
    dense: float
    lexical: float
    source_id: str
    passage_rank: int
    caveat: bool = False


@dataclass
class Evidence:
    sentences: list[ScoredSentence]
    chosen: list[ScoredSentence]
    key_terms: dict[str, float]
    coverage: float
    best: float
    abstain: bool
    reason: str = ""
    uncovered: list[str] = field(default_factory=list)


_CAVEAT = ("however", "limited", "remain", "unknown", "not yet", "uncertain", "caution", "but ", "although", "only", "weak")


class TermWeights:
    """Inverse document frequency of stemmed terms over the live chunks."""

    def __init__(self, chunks: list[Chunk], records: dict[str, DocumentRecord]) -> None:
        df: Counter[str] = Counter()
        for chunk in chunks:
            df.update(set(content_terms(chunk.text)) | set(content_terms(" ".join(chunk.heading_path))))
        self.n = max(1, len(chunks))
        self.df = df
        self.unseen = math.log(1 + self.n) + 1.0

    def idf(self, term: str) -> float:
        d = self.df.get(term, 0)
        if d == 0:
            return self.unseen
        return math.log(1 + (self.n - d + 0.5) / (d + 0.5))

    def known(self, term: str) -> bool:
        return term in self.df


class SentenceRanker:
    def __init__(
        self,
        chunks: dict[str, Chunk],
        sentence_vectors: dict[tuple[str, int], np.ndarray],
        records: dict[str, DocumentRecord],
        weights: TermWeights,
        settings: GeneratorSettings,
    ) -> None:
        self.chunks = chunks
        self.vectors = sentence_vectors
        self.records = records
        self.weights = weights
        self.settings = settings

    def key_terms(self, message: str, topic: str = "") -> dict[str, float]:
        terms = {t: self.weights.idf(t) for t in content_terms(message)}
        if not terms and topic:
            terms = {t: self.weights.idf(t) * 0.7 for t in content_terms(topic)}
        elif topic:
            for t in content_terms(topic):
                terms.setdefault(t, self.weights.idf(t) * 0.25)
        return terms

    def _context_terms(self, chunk: Chunk) -> set[str]:
        record = self.records.get(chunk.source_id)
        extra = " ".join(chunk.heading_path)
        if record is not None and record.kind != "article":
            extra += " " + record.short_name()
        return set(content_terms(extra))

    def rank(self, passages: list[Passage], query_vector: np.ndarray, key_terms: dict[str, float]) -> list[ScoredSentence]:
        total = sum(key_terms.values()) or 1.0
        out: list[ScoredSentence] = []
        for passage in passages:
            chunk = self.chunks.get(passage.chunk_id)
            if chunk is None:
                continue
            context = self._context_terms(chunk)
            for i, sentence in enumerate(chunk.sentences):
                vec = self.vectors.get((chunk.chunk_id, i))
                dense = float(vec @ query_vector) if vec is not None else 0.0
                terms = set(content_terms(sentence.text))
                hit = sum(w for t, w in key_terms.items() if t in terms)
                hit += 0.5 * sum(w for t, w in key_terms.items() if t in context and t not in terms)
                lexical = hit / total
                score = 0.7 * dense + 0.3 * lexical - 0.01 * (passage.rank - 1)
                lowered = sentence.text.lower()
                out.append(
                    ScoredSentence(
                        chunk_id=chunk.chunk_id,
                        index=i,
                        text=sentence.text,
                        score=score,
                        dense=dense,
                        lexical=lexical,
                        source_id=chunk.source_id,
                        passage_rank=passage.rank,
                        caveat=any(c in lowered for c in _CAVEAT),
                    )
                )
        out.sort(key=lambda s: -s.score)
        return out

    def choose(self, ranked: list[ScoredSentence], max_sentences: int | None = None) -> list[ScoredSentence]:
        """The best sentence, then others close to it and not redundant with what is chosen."""
        s = self.settings
        limit = max_sentences or s.max_sentences
        if not ranked:
            return []
        chosen = [ranked[0]]
        floor = max(s.sentence_floor, ranked[0].score - 0.12)
        for cand in ranked[1:]:
            if len(chosen) >= limit or cand.score < floor:
                break
            cv = self.vectors.get((cand.chunk_id, cand.index))
            redundant = False
            for c in chosen:
                v = self.vectors.get((c.chunk_id, c.index))
                if cv is not None and v is not None and float(cv @ v) >= s.redundancy_threshold:
                    redundant = True
                    break
            if not redundant:
                chosen.append(cand)
        direct = [c for c in chosen if not c.caveat or c is chosen[0]]
        caveats = [c for c in chosen if c.caveat and c is not chosen[0]]
        return direct + caveats

    def coverage(self, chosen: list[ScoredSentence], key_terms: dict[str, float]) -> tuple[float, list[str]]:
        if not key_terms:
            return 1.0, []
        present: set[str] = set()
        for c in chosen:
            present |= set(content_terms(c.text))
            chunk = self.chunks.get(c.chunk_id)
            if chunk is not None:
                present |= self._context_terms(chunk)
        total = sum(key_terms.values())
        covered = sum(w for t, w in key_terms.items() if t in present)
        missing = [t for t in key_terms if t not in present]
        return covered / total if total else 1.0, missing

    def evaluate(self, passages: list[Passage], query_vector: np.ndarray, message: str, topic: str = "") -> Evidence:
        key = self.key_terms(message, topic)
        ranked = self.rank(passages, query_vector, key)
        chosen = self.choose(ranked)
        best = ranked[0].score if ranked else -1.0
        cov, missing = self.coverage(chosen, key)
        abstain, reason = False, ""
        if not ranked:
            abstain, reason = True, "no passages"
        elif best < self.settings.relevance_floor:
            abstain, reason = True, f"best sentence {best:.2f} < relevance floor {self.settings.relevance_floor}"
        elif cov < self.settings.coverage_floor:
            abstain, reason = True, f"key-term coverage {cov:.2f} < {self.settings.coverage_floor} (missing: {', '.join(missing)})"
        return Evidence(ranked, chosen, key, cov, best, abstain, reason, missing)
