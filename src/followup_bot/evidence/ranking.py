"""Sentence-level evidence: rank the sentences of the retrieved passages, and choose the answer's.

A sentence's score mixes its own similarity to the question, its passage's (headings and title
included, which lend context to a bare bullet), and how much of the question's key-term weight it
holds. The composer then takes the best sentence and adds others close to it that bring words
of the question the answer still lacks, skipping near-duplicates and putting caveats last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from followup_bot.evidence.answer_types import asked_types
from followup_bot.evidence.terms import KeyTerms
from followup_bot.lexicon.populations import ASKS_WHO_WAS_STUDIED, names_a_population
from followup_bot.lexicon.records import BIBLIOGRAPHIC
from followup_bot.models import Chunk, Passage
from followup_bot.settings import EvidenceSettings
from followup_bot.text import content_terms

_CAVEAT = (
    "however",
    "limited",
    "remain",
    "unknown",
    "not yet",
    "uncertain",
    "caution",
    "but ",
    "although",
    "only",
    "weak",
)


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
    # Shares a word with the question beyond the corpus's topic words (which every sentence has).
    specific: bool = False
    # Rhetorical role from ingest (finding, conclusion, method, background, caveat, record, caption).
    role: str = ""
    # The span (within `text`) of the one clause that answers, when quoting it alone keeps the meaning.
    clause: tuple[int, int] | None = None

    @property
    def quoted(self) -> str:
        return self.text[self.clause[0] : self.clause[1]] if self.clause else self.text


class SentenceRanker:
    """Scores every sentence of the given passages against one question, and picks the answer's."""

    def __init__(
        self,
        chunks: dict[str, Chunk],
        sentence_vectors: dict[tuple[str, int], np.ndarray],
        chunk_vectors: dict[str, np.ndarray],
        terms: KeyTerms,
        settings: EvidenceSettings,
        max_sentences: int = 4,
    ) -> None:
        self.chunks = chunks
        self.vectors = sentence_vectors
        self.chunk_vectors = chunk_vectors
        self.terms = terms
        self.settings = settings
        self.max_sentences = max_sentences
        # Each text passage's section, in document order: a list item's next items follow it.
        sections: dict[tuple[str, tuple[str, ...]], list[Chunk]] = {}
        for chunk in chunks.values():
            if chunk.kind == "text":
                sections.setdefault((chunk.source_id, tuple(chunk.heading_path)), []).append(chunk)
        self._next: dict[str, list[Chunk]] = {}
        for members in sections.values():
            members.sort(key=lambda c: c.position)
            for i, chunk in enumerate(members):
                self._next[chunk.chunk_id] = members[i + 1 : i + 4]

    def summary(self, n: int) -> list[ScoredSentence]:
        """The article's main findings across its sections: per top-level section, the finding or conclusion
        sentence closest to what the whole article is about; the abstract and conclusions first.

        "Summarise the main findings" names no subject to search for; what a summary needs is coverage:
        one line from each part of the article, each the most central of its part.
        """
        candidates = [
            (chunk, i)
            for chunk in self.chunks.values()
            if chunk.kind == "text" and chunk.source_id == "article"
            for i, s in enumerate(chunk.sentences)
            if s.role in ("finding", "conclusion") and (chunk.chunk_id, i) in self.vectors
        ]
        if not candidates:
            return []
        centre = np.mean([self.vectors[(c.chunk_id, i)] for c, i in candidates], axis=0)
        best: dict[str, tuple[float, Chunk, int]] = {}
        for chunk, i in candidates:
            path = [h.lower() for h in chunk.heading_path[1:] or chunk.heading_path]
            section = path[0] if path else ""
            score = float(self.vectors[(chunk.chunk_id, i)] @ centre)
            score += 0.1 * any(w in " ".join(path) for w in ("abstract", "summary", "conclusion"))
            score += 0.05 * (chunk.sentences[i].role == "conclusion")
            if section not in best or score > best[section][0]:
                best[section] = (score, chunk, i)
        picked = sorted(best.values(), key=lambda x: -x[0])[:n]
        picked.sort(key=lambda x: (x[1].position, x[2]))
        return [
            ScoredSentence(c.chunk_id, i, c.sentences[i].text, s, s, 0.0, c.source_id, 1, role=c.sentences[i].role)
            for s, c, i in picked
        ]

    def following(self, sentence: ScoredSentence, n: int = 3) -> list[ScoredSentence]:
        """The sentences after this one: the rest of its passage, then the next passages of its section."""
        chunk = self.chunks.get(sentence.chunk_id)
        if chunk is None:
            return []
        out = [(chunk, i) for i in range(sentence.index + 1, len(chunk.sentences))]
        for nxt in self._next.get(chunk.chunk_id, []):
            out += [(nxt, i) for i in range(len(nxt.sentences))]
        return [
            ScoredSentence(c.chunk_id, i, c.sentences[i].text, 0.0, 0.0, 0.0, c.source_id, sentence.passage_rank,
                           role=c.sentences[i].role)
            for c, i in out[:n]
        ]  # fmt: skip

    def rank(
        self,
        passages: list[Passage],
        query_vector: np.ndarray,
        key_terms: dict[str, float],
        question: str,
        named: set[str] | frozenset[str],
    ) -> list[ScoredSentence]:
        s = self.settings
        total = sum(key_terms.values()) or 1.0
        bibliographic = bool(BIBLIOGRAPHIC.search(question))
        types = asked_types(question)
        out: list[ScoredSentence] = []
        for passage in passages:
            chunk = self.chunks.get(passage.chunk_id)
            if chunk is None:
                continue
            context = self.terms.context(chunk)
            # The passage's own similarity (its headings and title included) lends context to a
            # sentence that answers the question in words the question does not use.
            cvec = self.chunk_vectors.get(chunk.chunk_id)
            passage_dense = float(cvec @ query_vector) if cvec is not None else 0.0
            for i, sentence in enumerate(chunk.sentences):
                vec = self.vectors.get((chunk.chunk_id, i))
                dense = float(vec @ query_vector) if vec is not None else 0.0
                terms = set(content_terms(sentence.text))
                hit = sum(w for t, w in key_terms.items() if t in terms)
                hit += s.context_weight * sum(w for t, w in key_terms.items() if t in context and t not in terms)
                lexical = hit / total
                score = (
                    s.dense_weight * dense
                    + s.passage_weight * passage_dense
                    + s.lexical_weight * lexical
                    - s.rank_penalty * (passage.rank - 1)
                )
                if chunk.kind == "record" and not bibliographic:
                    score -= s.record_penalty
                elif chunk.kind == "record" and chunk.source_id in named:
                    # "Which paper reported that?": the record of the paper meant is the answer,
                    # however little its wording resembles the conversation's.
                    score += s.named_record_bonus
                if named and chunk.source_id not in named:
                    score -= s.named_source_penalty
                specific = any(t in terms and self.terms.is_specific(t) for t in key_terms)
                if types and specific and any(t.held(sentence.text) for t in types):
                    score += s.answer_type_bonus
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
                        specific=specific,
                        role=sentence.role or ("record" if chunk.kind == "record" else ""),
                    )
                )
        out.sort(key=lambda x: -x.score)
        return out

    def specific_terms(self, key_terms: dict[str, float]) -> dict[str, float]:
        """The question's words an answer sentence can bring: specific ones some passage has (a word no
        passage uses would dilute the gain), and a "which species" word (see `who_asked`)."""
        weights = self.terms.weights
        specific = {t: w for t, w in key_terms.items() if self.terms.is_specific(t) and weights.known(t)}
        who_asked(key_terms, specific)
        return specific

    def choose(
        self,
        ranked: list[ScoredSentence],
        key_terms: dict[str, float],
        max_sentences: int | None = None,
        window: float | None = None,
    ) -> list[ScoredSentence]:
        """The best sentence, then others close to it that add what the answer still lacks.

        Each next pick is the best candidate after a bonus for the question's specific words it
        brings that the chosen sentences do not have yet, so a two-part question ("how many
        patients, and what did it do to side effects?") gets a sentence for each part instead of
        two on the same part. Near-duplicates of a chosen sentence are skipped.
        """
        s = self.settings
        limit = max_sentences or self.max_sentences
        if not ranked:
            return []
        specific = self.specific_terms(key_terms)
        total = sum(specific.values()) or 1.0
        chosen = [ranked[0]]
        floor = max(s.sentence_floor, ranked[0].score - (s.score_window if window is None else window))
        pool = [c for c in ranked[1:] if c.score >= s.sentence_floor]
        # Each sentence's specific words, worked out once rather than on every pass of the loop.
        brings = {id(c): brought(c.text, specific) for c in [ranked[0], *pool]}
        covered = set(brings[id(ranked[0])])
        while len(chosen) < limit and pool:
            best, best_value = None, -1e9
            for cand in pool:
                gain = sum(specific[t] for t in brings[id(cand)] - covered) / total
                value = cand.score + s.coverage_gain * gain
                if value >= floor and value > best_value:
                    best, best_value = cand, value
            if best is None:
                break
            pool.remove(best)
            if self._redundant(best, chosen):
                continue
            chosen.append(best)
            covered |= brings[id(best)]
        direct = [c for c in chosen if not c.caveat or c is chosen[0]]
        caveats = [c for c in chosen if c.caveat and c is not chosen[0]]
        return direct + caveats

    def _redundant(self, cand: ScoredSentence, chosen: list[ScoredSentence]) -> bool:
        cv = self.vectors.get((cand.chunk_id, cand.index))
        if cv is None:
            return False
        for c in chosen:
            v = self.vectors.get((c.chunk_id, c.index))
            if v is not None and float(cv @ v) >= self.settings.redundancy_threshold:
                return True
        return False


_WHO_STEMS = frozenset(content_terms(" ".join(ASKS_WHO_WAS_STUDIED)))


def who_asked(key_terms: dict[str, float], specific: dict[str, float]) -> None:
    """Count a "which species / population" word among the specific words though no passage uses it, since
    a sentence naming a population brings it (see `brought`)."""
    for t, w in key_terms.items():
        if t in _WHO_STEMS:
            specific.setdefault(t, w)


def brought(text: str, specific: dict[str, float]) -> set[str]:
    """The question's specific words a sentence brings: its own, and a "which species" word if it names who
    was studied."""
    out = set(content_terms(text)) & specific.keys()
    if names_a_population(text):
        out |= _WHO_STEMS & specific.keys()
    return out
