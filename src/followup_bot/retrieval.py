"""Hybrid retrieval: dense (Chroma) plus BM25, fused by reciprocal rank, then diversified.

Dense search finds paraphrases; BM25 finds exact terms (doses, names, numbers) that a small
embedding model blurs. Reciprocal-rank fusion needs no score calibration between the two. The
diversity pass (a cap per document, and skipping near-duplicates) keeps the article's bullet
and the source card saying the same thing from crowding out everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from rank_bm25 import BM25Okapi

from followup_bot.citations import sources_in
from followup_bot.lexicon.records import BIBLIOGRAPHIC, BY_NUMBER
from followup_bot.models import Chunk, DocumentRecord, Passage
from followup_bot.settings import RetrievalSettings
from followup_bot.text import content_terms, key_words, words


@dataclass
class Query:
    """What retrieval searches for: the message, plus the conversation at a lower weight."""

    text: str
    history_text: str = ""
    history_weight: float = 0.0
    last_answer: str = ""
    vector: np.ndarray | None = None
    # The publications the message is about, when the caller has worked them out already.
    named: set[str] | None = None


class BM25Index:
    """BM25 over chunk texts with their headings, on rank-bm25 (no langchain-community)."""

    def __init__(self, contexts: list[str]) -> None:
        self.size = len(contexts)
        self.index = BM25Okapi([content_terms(c) or ["_"] for c in contexts])

    def scores(self, text: str) -> np.ndarray:
        terms = content_terms(text)
        if not terms:
            return np.zeros(self.size)
        return np.asarray(self.index.get_scores(terms), dtype=np.float64)


# A question about the publication itself ("which journal", "who wrote it") may use the
# bibliographic-record passage; any other question should be answered from the content.


def _unit(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else scores


def named_sources(question: str, records: dict[str, DocumentRecord], by_type: bool = False) -> set[str]:
    """Documents a question names: by their number in the article ("reference 12"), by first author's
    surname ("the Adnan review") or, with `by_type`, by a word of its study type that no other
    document shares ("the case report", "the rat study"). All come from the manifest, so this works
    for any article."""
    tokens = set(words(question))
    stems = set(content_terms(question))
    named = set()
    numbered = {str(r.reference_number): r.id for r in records.values() if r.reference_number is not None}
    for match in BY_NUMBER.finditer(question):
        number = match.group(1) or match.group(2)
        if number in numbered:
            named.add(numbered[number])
    type_owner: dict[str, set[str]] = {}
    for record in records.values():
        if record.kind == "article":
            continue
        if record.authors:
            surname = record.authors[0].split()[-1].strip(".,").lower()
            if len(surname) > 2 and surname in tokens:
                named.add(record.id)
        for term in set(content_terms(record.study_type)):
            type_owner.setdefault(term, set()).add(record.id)
    if by_type and not named:
        for term in stems:
            owners = type_owner.get(term, set())
            if len(owners) == 1 and term not in {"studi", "paper", "review", "report", "trial"}:
                named |= owners
    return named


# The previous answer names a publication only when one passage matches it this many times
# better (BM25) than any passage of another document.
CLEAR_MATCH = 1.5


class HybridRetriever:
    """Dense + BM25 + fusion + diversity over the live chunks of one collection."""

    def __init__(
        self,
        chunks: list[Chunk],
        contexts: list[str],
        chunk_vectors: dict[str, np.ndarray],
        vectorstore: Any,
        live_hashes: list[str],
        records: dict[str, DocumentRecord],
        settings: RetrievalSettings,
    ) -> None:
        self.chunks = chunks
        self.by_id = {c.chunk_id: c for c in chunks}
        self.vectors = chunk_vectors
        self.vectorstore = vectorstore
        self.live_hashes = live_hashes
        self.records = records
        self.settings = settings
        self.bm25 = BM25Index(contexts)
        # Text chunks by (document, heading path): the sections whose siblings join the pool.
        self.sections: dict[tuple[str, tuple[str, ...]], list[Chunk]] = {}
        for chunk in chunks:
            if chunk.kind == "text":
                self.sections.setdefault((chunk.source_id, tuple(chunk.heading_path)), []).append(chunk)

    def dense(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        where = {"doc_hash": {"$in": self.live_hashes}}
        if self.vectorstore is not None:
            hits = self.vectorstore.similarity_search_by_vector_with_relevance_scores(
                vector.tolist(), k=k, filter=where
            )
            out = []
            for doc, score in hits:
                cid = doc.metadata.get("chunk_id")
                if cid in self.by_id:
                    out.append((cid, float(score)))
            return out
        ids = list(self.vectors)
        sims = np.stack([self.vectors[i] for i in ids]) @ vector
        order = np.argsort(-sims)[:k]
        return [(ids[i], float(sims[i])) for i in order]

    def retrieve(self, query: Query, k: int | None = None) -> list[Passage]:
        s = self.settings
        k = k or s.k
        assert query.vector is not None, "the chain embeds the query once and passes the vector"
        dense_hits = self.dense(query.vector, s.dense_k)
        bm25_scores = self.bm25.scores(query.text)
        if query.history_text and query.history_weight > 0:
            # Follow-ups: the new message dominates, the conversation adds the topic.
            # Scale both to [0, 1] first: a long history would otherwise outweigh a one-word message.
            history_scores = self.bm25.scores(query.history_text)
            bm25_scores = (1 - query.history_weight) * _unit(bm25_scores) + query.history_weight * _unit(history_scores)
        bm25_order = [int(i) for i in np.argsort(-bm25_scores)[: s.bm25_k] if bm25_scores[i] > 0]
        fused: dict[str, float] = {}
        dense_score = dict(dense_hits)
        for rank, (cid, _) in enumerate(dense_hits):
            fused[cid] = fused.get(cid, 0.0) + s.dense_weight / (s.rrf_k + rank + 1)
        bm25_by_id: dict[str, float] = {}
        for rank, i in enumerate(bm25_order):
            cid = self.chunks[i].chunk_id
            bm25_by_id[cid] = float(bm25_scores[i])
            fused[cid] = fused.get(cid, 0.0) + s.bm25_weight / (s.rrf_k + rank + 1)
        # A publication named in the question gets its passages a third vote in the fusion.
        named = (
            query.named
            if query.named is not None
            else self.publications_named(query.text, query.history_text, query.last_answer)
        )
        if named:
            own = [i for i in np.argsort(-bm25_scores) if self.chunks[i].source_id in named][: s.bm25_k]
            for rank, i in enumerate(own):
                cid = self.chunks[int(i)].chunk_id
                fused[cid] = fused.get(cid, 0.0) + 1.0 / (s.rrf_k + rank + 1)
        if not BIBLIOGRAPHIC.search(query.text):
            # Bibliographic records answer "which journal?", not questions about findings.
            fused = {cid: v for cid, v in fused.items() if self.by_id[cid].kind != "record"}
        else:
            # …and for those, the record of the publication asked about is the answer.
            top = max(fused.values(), default=0.0)
            for chunk in self.chunks:
                if chunk.kind == "record" and chunk.source_id in named:
                    fused[chunk.chunk_id] = max(fused.get(chunk.chunk_id, 0.0), top + 1e-6)
        ranked = sorted(fused, key=lambda c: -fused[c])
        chosen: list[str] = []
        per_source: dict[str, int] = {}
        for cid in ranked:
            chunk = self.by_id[cid]
            cap = s.max_per_source * (2 if chunk.source_id in named else 1)
            if per_source.get(chunk.source_id, 0) >= cap:
                continue
            vec = self.vectors.get(cid)
            if vec is not None and any(
                float(vec @ self.vectors[o]) >= s.duplicate_threshold for o in chosen if o in self.vectors
            ):
                continue
            chosen.append(cid)
            per_source[chunk.source_id] = per_source.get(chunk.source_id, 0) + 1
            if len(chosen) >= k:
                break
        out = []
        for rank, cid in enumerate(chosen):
            chunk = self.by_id[cid]
            record = self.records.get(chunk.source_id)
            # Report the exact cosine (Chroma's relevance score depends on its distance function).
            dense_val = float(self.vectors[cid] @ query.vector) if cid in self.vectors else dense_score.get(cid)
            out.append(
                Passage(
                    chunk_id=cid,
                    source_id=chunk.source_id,
                    score=round(fused[cid], 6),
                    text=chunk.text,
                    section=chunk.section,
                    dense_score=None if dense_val is None else round(dense_val, 4),
                    bm25_score=round(bm25_by_id.get(cid, 0.0), 4),
                    rank=rank + 1,
                    cites=chunk.cites,
                    title=record.title if record else "",
                    evidence_level=record.evidence_level if record else "",
                )
            )
        return out

    def publications_named(self, message: str, history_text: str = "", last_answer: str = "") -> set[str]:
        """The publications a message is about: named in it, or, for "which journal was it in?"
        and bare follow-ups, the one the previous answer came from. A follow-up with its own
        subject ("what about in humans?") does not inherit the earlier publication."""
        named = named_sources(message, self.records, by_type=True)
        if named or not history_text or not (BIBLIOGRAPHIC.search(message) or not key_words(message)):
            return named
        # The previous answer's markers say where it came from ("[3]" is reference 3)…
        named = sources_in(last_answer, self.records)
        if named:
            return named
        # …or, without markers, the passage it quotes or paraphrases clearly best does (a refusal
        # or a summary of several papers matches none of them clearly, and names nothing).
        if last_answer.strip():
            scores = self.bm25.scores(last_answer)
            if len(scores) and float(scores.max()) > 0:
                best = int(np.argmax(scores))
                chunk = self.chunks[best]
                others = [
                    float(sc) for sc, c in zip(scores, self.chunks, strict=True) if c.source_id != chunk.source_id
                ]
                if float(scores[best]) >= CLEAR_MATCH * max(others, default=0.0):
                    owner = self.records.get(chunk.source_id)
                    if owner is not None and owner.kind != "article":
                        return {chunk.source_id}
                    # An article passage: the works cited by the sentences the answer quoted, else by the passage.
                    quoted = " ".join(last_answer.split()).lower()
                    cited = {
                        c for s in chunk.sentences if " ".join(s.text.split()).lower()[:80] in quoted for c in s.cites
                    }
                    if cited and len(cited) <= 3:
                        return cited
                    if len(set(chunk.cites)) == 1:
                        return set(chunk.cites)
        return named_sources(history_text, self.records, by_type=True)

    def section_siblings(self, passages: list[Passage], vector: np.ndarray) -> list[Passage]:
        """Unranked passages from the sections of the top ones, nearest in the document first."""
        s = self.settings
        if not s.section_siblings:
            return []
        have = {p.chunk_id for p in passages}
        extra: list[Passage] = []
        for parent in passages[: s.section_siblings_from]:
            chunk = self.by_id[parent.chunk_id]
            if chunk.kind != "text":
                continue
            siblings = [
                c for c in self.sections.get((chunk.source_id, tuple(chunk.heading_path)), []) if c.chunk_id not in have
            ]
            siblings.sort(key=lambda c: abs(c.position - chunk.position))
            for sib in siblings[: s.section_siblings]:
                have.add(sib.chunk_id)
                record = self.records.get(sib.source_id)
                dense_val = float(self.vectors[sib.chunk_id] @ vector) if sib.chunk_id in self.vectors else None
                extra.append(
                    Passage(
                        chunk_id=sib.chunk_id,
                        source_id=sib.source_id,
                        score=0.0,
                        text=sib.text,
                        section=sib.section,
                        dense_score=None if dense_val is None else round(dense_val, 4),
                        bm25_score=None,
                        rank=len(passages) + len(extra) + 1,
                        cites=sib.cites,
                        title=record.title if record else "",
                        evidence_level=record.evidence_level if record else "",
                        via="section",
                    )
                )
        return extra
