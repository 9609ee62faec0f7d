"""Sentence-level evidence: rank the sentences of the retrieved passages, and decide to abstain.

The abstention rule combines two signals, calibrated on the dev sets (never on the test set): how
relevant the best evidence is, and whether the question's key terms are covered by the chosen
evidence, weighted by how informative each term is in the corpus. A question whose distinctive
words ("half-life", "price") appear nowhere in the evidence is not answered from the nearest
topical sentence, however similar it looks to the embedding model. Two hard rules come first:
a drug-shaped word no document uses, and a question asking for a kind of answer (a percentage,
an age, a duration) that the evidence does not hold.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from followup_bot.answer_types import asked_types, missing_types
from followup_bot.models import Chunk, DocumentRecord, Passage
from followup_bot.settings import GeneratorSettings
from followup_bot.text import BIBLIOGRAPHIC as _BIBLIOGRAPHIC
from followup_bot.text import content_terms, english_frequency, expand_abbreviations, key_words, stem, words


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
    features: dict[str, float] = field(default_factory=dict)
    p_unanswerable: float | None = None


RECORD_PENALTY = 0.2
# International nonproprietary name stems: a word shaped like a drug name that no document uses
# means the question is about a drug the sources do not discuss.
_DRUG_LIKE = re.compile(
    r"(?:ine|one|pam|lam|zole|pril|sartan|olol|mab|tide|vir|azine|idone|apine|oxetine|aline|amine|pramine|trexone|xone|barbital|cillin|mycin|statin|profen|dronate|caine|"
    r"pentin|formin|gliptin|flozin|pion|amate|oxacin|cycline|dipine|tadine|setron|triptan|afil|lukast|parin|"
    r"semide|thiazide|tanyl|adol|orphine|codone|morphone)s?$"
)
# "Mathew et al. 2010: a randomized trial…": a short label before a colon opening a passage.
_LEAD_LABEL = re.compile(r"^\s*([^:;\n]{2,40}?):\s")
# Prefixes that leave a word's topic unchanged ("reassess" is about assessing); negating ones
# ("un-", "non-", "dis-") are left out on purpose.
LEXICALISED_ZIPF = 3.5
_NEUTRAL_PREFIXES = ("re", "co", "pre", "post", "sub", "over", "under", "inter", "intra", "multi", "semi")
# A word no document uses counts as a subject of its own when it is this rare in English (zipf)
# with no close synonym in the corpus; rarer than ~1 in 30 million words.
_VERY_RARE_ZIPF = 1.5
# "in the Adnan review": sentences from the publication the reader names come first.
NAMED_SOURCE_PENALTY = 0.1
NAMED_RECORD_BONUS = 0.15

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


# In a follow-up, the words borrowed from the conversation weigh together at most this share of
# the new message's own words.
TOPIC_SHARE = 0.8
# A sentence holding the kind of answer the question asks for (a number for "how many?") is
# lifted by this much.
ANSWER_TYPE_BONUS = 0.05
# A key term counts as specific (not a topic word) when its idf is at least this share of the
# idf of a word no chunk uses; "lamotrigine" in a lamotrigine corpus is not specific.
SPECIFIC_IDF_SHARE = 0.25

FEATURES = (
    "best",
    "dense",
    "lex",
    "cov",
    "unseen_w",
    "miss_unseen_w",
    "min_z",
    "min_syn",
    "crit",
    "fu",
    "personal",
    "atype",
    "ctr",
    "miss_max",
)


@dataclass
class AbstentionModel:
    """P(the documents do not answer) = sigmoid(w · features + b), fitted on the dev sets.

    The features are the two signals the rule needs, measured several ways: how relevant the
    best evidence is (sentence, passage and lexical scores) and whether the question's key terms
    are covered by it (exactly, as synonyms, or not at all, and how rare a missing word is in
    English). `eval/calibrate_abstention.py` refits it from eval/dev*.jsonl; never from the test set.
    """

    weights: dict[str, float]
    intercept: float
    threshold: float = 0.5
    source: str = ""

    @classmethod
    def load(cls, path: Path) -> AbstentionModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            weights=data["weights"], intercept=data["intercept"], threshold=data.get("threshold", 0.5), source=str(path)
        )

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(self.weights.get(k, 0.0) * float(v) for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


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


class WordVectors:
    """Embeddings of single words, so coverage can accept "lessen" for "reduce", "mice" for "rats".

    The corpus vocabulary is embedded once at start-up (about a second for ~800 words); words
    from questions are embedded on demand and cached.
    """

    def __init__(self, encode: Callable[[list[str]], np.ndarray], vocabulary: set[str]) -> None:
        self.encode = encode
        self.cache: dict[str, np.ndarray] = {}
        self._base = sorted(vocabulary)
        self._matrix: np.ndarray | None = None
        self._vocab: list[str] = []
        self.add(self._base)

    def add(self, items: list[str]) -> None:
        new = [w for w in dict.fromkeys(items) if w not in self.cache]
        if new:
            for word, vec in zip(new, self.encode(new), strict=True):
                self.cache[word] = vec

    def best(self, word: str, candidates: set[str]) -> float:
        self.add([word, *candidates])
        if not candidates:
            return 0.0
        v = self.cache[word]
        return max(float(v @ self.cache[c]) for c in candidates)

    def best_in_vocabulary(self, word: str) -> float:
        """Closest corpus word to `word` (1.0 when the corpus uses the word itself)."""
        if self._matrix is None:
            self._vocab = list(self._base)
            self._matrix = np.stack([self.cache[w] for w in self._vocab]) if self._vocab else np.zeros((0, 1))
        self.add([word])
        if not len(self._vocab):
            return 0.0
        return float(np.max(self._matrix @ self.cache[word]))


class SentenceRanker:
    def __init__(
        self,
        chunks: dict[str, Chunk],
        sentence_vectors: dict[tuple[str, int], np.ndarray],
        records: dict[str, DocumentRecord],
        weights: TermWeights,
        settings: GeneratorSettings,
        word_vectors: WordVectors | None = None,
        chunk_vectors: dict[str, np.ndarray] | None = None,
        abstention: AbstentionModel | None = None,
    ) -> None:
        self.abstention = abstention
        self.chunk_vectors = chunk_vectors or {}
        self.word_vectors = word_vectors
        self.chunks = chunks
        self.vectors = sentence_vectors
        self.records = records
        self.weights = weights
        self.settings = settings
        # Every sentence of a one-topic corpus is close to every question about the topic; the
        # mean sentence vector is that shared topic, and similarity measured from it says whether
        # a sentence matches what the question adds to the topic.
        stacked = np.stack(list(sentence_vectors.values())) if sentence_vectors else np.zeros((1, 1))
        self._topic = stacked.mean(axis=0)

    def is_specific(self, term: str) -> bool:
        """A word that says what the question adds to the corpus's topic ("rash", not "lamotrigine").

        Judged by the word's own idf, not its weight in a question: a follow-up's borrowed topic
        words are weighted down but are no less specific."""
        return self.weights.idf(term) >= SPECIFIC_IDF_SHARE * self.weights.unseen

    def _term(self, word: str) -> str:
        """The word's stem; for "reassessed" or "coexisting", the corpus's "assess" or "exist"."""
        t = stem(word)
        if self.weights.known(t):
            return t
        for prefix in _NEUTRAL_PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 4:
                rest = word[len(prefix) :].lstrip("-")
                base = stem(rest)
                # A common prefixed word is a word of its own ("reaction" is not about "action");
                # a rare one is built on the spot ("reassessed", "coexisting") and keeps its base's sense.
                if self.weights.known(base) and english_frequency(word) < LEXICALISED_ZIPF:
                    return base
        return t

    def key_terms(self, message: str, topic: str = "", surface: dict[str, str] | None = None) -> dict[str, float]:
        """Stemmed key terms with their weight (idf); a follow-up borrows its topic's terms."""
        # surface: stem → the word as the reader wrote it, for messages ("never mention: sedate").
        surface = {} if surface is None else surface
        terms: dict[str, float] = {}
        message = expand_abbreviations(message, keep=lambda w: self.weights.known(stem(w.lower())))
        for w in key_words(message):
            t = self._term(w)
            surface.setdefault(t, w)
            terms[t] = self.weights.idf(t)
        if topic:
            borrowed: dict[str, float] = {}
            for w in key_words(topic):
                t = self._term(w)
                if t not in terms and t not in borrowed:
                    surface.setdefault(t, w)
                    borrowed[t] = self.weights.idf(t)
            # The new message dominates: the topic's words together weigh at most a share of the
            # message's ("what about the volunteers?" is about volunteers, in the topic's context).
            own = sum(terms.values())
            total = sum(borrowed.values()) or 1.0
            cap = 0.7 if len(terms) <= 1 else 0.25
            scale = min(cap, TOPIC_SHARE * own / total) if own else cap
            terms.update({t: w * scale for t, w in borrowed.items()})
        return terms

    def named_sources(self, question: str) -> set[str]:
        from followup_bot.retrieval import named_sources

        return named_sources(question, self.records)

    def _context_terms(self, chunk: Chunk) -> set[str]:
        """Words every sentence of the passage is about: its headings, its publication, and the
        label a list item opens with ("Mathew et al. 2010: …" covers the item's later sentences)."""
        record = self.records.get(chunk.source_id)
        extra = " ".join(chunk.heading_path)
        if record is not None and record.kind != "article":
            extra += " " + record.short_name()
        label = _LEAD_LABEL.match(chunk.text)
        if label:
            extra += " " + label.group(1)
        return set(content_terms(extra))

    def rank(
        self,
        passages: list[Passage],
        query_vector: np.ndarray,
        key_terms: dict[str, float],
        question: str = "",
        named: set[str] | None = None,
    ) -> list[ScoredSentence]:
        total = sum(key_terms.values()) or 1.0
        bibliographic = bool(_BIBLIOGRAPHIC.search(question))
        named = self.named_sources(question) if named is None else named
        types = asked_types(question)
        out: list[ScoredSentence] = []
        for passage in passages:
            chunk = self.chunks.get(passage.chunk_id)
            if chunk is None:
                continue
            context = self._context_terms(chunk)
            # The passage's own similarity (its headings and title included) lends context to a
            # sentence that answers the question in words the question does not use.
            cvec = self.chunk_vectors.get(chunk.chunk_id)
            passage_dense = float(cvec @ query_vector) if cvec is not None else 0.0
            for i, sentence in enumerate(chunk.sentences):
                vec = self.vectors.get((chunk.chunk_id, i))
                dense = float(vec @ query_vector) if vec is not None else 0.0
                terms = set(content_terms(sentence.text))
                hit = sum(w for t, w in key_terms.items() if t in terms)
                hit += 0.5 * sum(w for t, w in key_terms.items() if t in context and t not in terms)
                lexical = hit / total
                score = 0.45 * dense + 0.25 * passage_dense + 0.3 * lexical - 0.005 * (passage.rank - 1)
                if chunk.kind == "record" and not bibliographic:
                    score -= RECORD_PENALTY
                elif chunk.kind == "record" and chunk.source_id in named:
                    # "Which paper reported that?": the record of the paper meant is the answer,
                    # however little its wording resembles the conversation's.
                    score += NAMED_RECORD_BONUS
                if named and chunk.source_id not in named:
                    score -= NAMED_SOURCE_PENALTY
                # The word's own idf, not its weight here: a follow-up's borrowed topic words are
                # weighted down but are no less specific.
                specific = any(t in terms and self.is_specific(t) for t in key_terms)
                if types and specific and any(t.held(sentence.text) for t in types):
                    score += ANSWER_TYPE_BONUS
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
                    )
                )
        out.sort(key=lambda s: -s.score)
        return out

    def choose(
        self, ranked: list[ScoredSentence], max_sentences: int | None = None, key_terms: dict[str, float] | None = None
    ) -> list[ScoredSentence]:
        """The best sentence, then others close to it that add what the answer still lacks.

        Each next pick is the best candidate after a bonus for the question's specific words it
        brings that the chosen sentences do not have yet, so a two-part question ("how many
        patients, and what did it do to side effects?") gets a sentence for each part instead of
        two on the same part. Near-duplicates of a chosen sentence are skipped.
        """
        s = self.settings
        limit = max_sentences or s.max_sentences
        if not ranked:
            return []
        # Only words some passage has can be added; a word no passage uses would dilute the gain.
        specific = {t: w for t, w in (key_terms or {}).items() if self.is_specific(t) and self.weights.known(t)}
        total = sum(specific.values()) or 1.0
        chosen = [ranked[0]]
        floor = max(s.sentence_floor, ranked[0].score - s.score_window)
        pool = [c for c in ranked[1:] if c.score >= s.sentence_floor]
        # Each sentence's specific words, worked out once rather than on every pass of the loop.
        brings = {id(c): set(content_terms(c.text)) & specific.keys() for c in [ranked[0], *pool]}
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

    def coverage(
        self, chosen: list[ScoredSentence], key_terms: dict[str, float], spelled: dict[str, str] | None = None
    ) -> tuple[float, list[str]]:
        """Share of the key-term weight found in the evidence: exactly, or as a close synonym."""
        if not key_terms:
            return 1.0, []
        present: set[str] = set()
        surface: set[str] = set()
        for c in chosen:
            # The passage a chosen sentence comes from counts: "Mathew et al. 2010:" may open the
            # bullet while the quoted sentence is the one after it.
            chunk = self.chunks.get(c.chunk_id)
            text = chunk.text if chunk is not None else c.text
            present |= set(content_terms(text))
            surface |= set(words(text))
            if chunk is not None:
                present |= self._context_terms(chunk)
                surface |= set(words(" ".join(chunk.heading_path)))
        surface = {w for w in surface if len(w) > 2 and not w.isdigit()}
        total = sum(key_terms.values())
        covered = 0.0
        missing = []
        for term, weight in key_terms.items():
            if term in present:
                covered += weight
                continue
            word = (spelled or {}).get(term, term)
            sim = self.word_vectors.best(word, surface) if self.word_vectors is not None and not word.isdigit() else 0.0
            if sim >= self.settings.synonym_floor:
                covered += weight * sim
            else:
                missing.append(term)
        return covered / total if total else 1.0, missing

    def centered_similarity(self, query_vector: np.ndarray, chosen: list[ScoredSentence]) -> float:
        """Best similarity of the chosen sentences to the question once the shared topic is removed."""
        q = query_vector - self._topic
        qn = float(np.linalg.norm(q)) or 1.0
        best = -1.0
        for c in chosen:
            v = self.vectors.get((c.chunk_id, c.index))
            if v is None:
                continue
            d = v - self._topic
            best = max(best, float(q @ d) / (qn * (float(np.linalg.norm(d)) or 1.0)))
        return best

    def _critical_word(self, word: str, zipf: float, synonym: float) -> bool:
        """A word no document uses that names a subject of its own (a drug, a condition).

        A drug-shaped word rare in English ("carbamazepine") is another drug, however close its
        embedding is to the corpus's drugs; a commoner one ("urine", "caffeine") counts unless the
        corpus has a near synonym. Other words only count when very rare and without a synonym:
        "sedate" or "reassessed" are phrasing, and the abstention model weighs them instead.
        """
        if _DRUG_LIKE.search(word) and zipf < 4.0:
            return zipf < self.settings.rare_word_zipf or synonym < 0.6
        return zipf < _VERY_RARE_ZIPF and synonym < 0.5

    def features(
        self,
        ranked: list[ScoredSentence],
        chosen: list[ScoredSentence],
        key: dict[str, float],
        cov: float,
        missing: list[str],
        is_followup: bool,
        personal: bool,
        question: str = "",
        query_vector: np.ndarray | None = None,
        surface: dict[str, str] | None = None,
    ) -> tuple[dict[str, float], list[str], list[str]]:
        """The model's features, the critical words no document uses, and the answer types missing."""
        surface = surface or {}
        total = sum(key.values()) or 1.0
        top = chosen[0] if chosen else None
        unseen = [t for t in key if not self.weights.known(t)]
        missing_unseen = [t for t in missing if not self.weights.known(t)]
        rarity = [english_frequency(surface.get(t, t)) for t in missing_unseen]
        synonyms = [
            self.word_vectors.best_in_vocabulary(surface.get(t, t)) if self.word_vectors else 0.0
            for t in missing_unseen
        ]
        critical = [
            t
            for t, z, b in zip(missing_unseen, rarity, synonyms, strict=True)
            if self._critical_word(surface.get(t, t), z, b)
        ]
        # Only the best sentence or one sharing a specific word can hold the answer: "two out of
        # five studies" does not answer "what percentage of patients get a rash?".
        absent_types = missing_types(question, [c.text for i, c in enumerate(chosen) if i == 0 or c.specific])
        features = {
            "best": ranked[0].score if ranked else -1.0,
            "dense": top.dense if top else 0.0,
            "lex": top.lexical if top else 0.0,
            "cov": cov,
            "unseen_w": sum(key[t] for t in unseen) / total,
            "miss_unseen_w": sum(key[t] for t in missing_unseen) / total,
            "min_z": min(rarity) if rarity else 7.0,
            "min_syn": min(synonyms) if synonyms else 1.0,
            "crit": float(len(critical)),
            "fu": float(is_followup),
            "personal": float(personal),
            "atype": float(len(absent_types)),
            "ctr": self.centered_similarity(query_vector, chosen) if query_vector is not None else 0.0,
            "miss_max": max((key[t] for t in missing), default=0.0) / total,
        }
        return features, critical, absent_types

    def evaluate(
        self,
        passages: list[Passage],
        query_vector: np.ndarray,
        message: str,
        topic: str = "",
        lenient: bool = False,
        named: set[str] | None = None,
    ) -> Evidence:
        surface: dict[str, str] = {}
        key = self.key_terms(message, topic, surface)
        ranked = self.rank(passages, query_vector, key, message, named)
        chosen = self.choose(ranked, key_terms=key)
        best = ranked[0].score if ranked else -1.0
        cov, missing = self.coverage(chosen, key, surface)
        features, critical, absent_types = self.features(
            ranked, chosen, key, cov, missing, bool(topic), lenient, message, query_vector, surface
        )
        abstain, reason, probability = False, "", None
        if not ranked:
            abstain, reason = True, "no passages"
        elif not lenient and features["crit"] > 0:
            # A rare word (a drug, a condition) that no document uses: the question is about
            # something the sources do not discuss, however close the nearest sentence looks.
            abstain, reason = True, "the documents never mention: " + ", ".join(surface.get(t, t) for t in critical)
        elif not lenient and features["atype"] > 0:
            # "What percentage…?", "how old…?": on-topic evidence without the kind of answer asked for.
            abstain, reason = (
                True,
                "the question asks for a " + " and a ".join(absent_types) + " that the evidence does not give",
            )
        elif self.abstention is not None:
            probability = self.abstention.probability(features)
            if probability >= self.abstention.threshold:
                missing_words = ", ".join(surface.get(t, t) for t in missing) or "none"
                abstain, reason = (
                    True,
                    f"P(unanswerable) {probability:.2f} (coverage {cov:.2f}, best {best:.2f}, missing: {missing_words})",
                )
        elif best < self.settings.relevance_floor:
            abstain, reason = True, f"best sentence {best:.2f} < relevance floor {self.settings.relevance_floor}"
        elif cov < (self.settings.coverage_floor / 2 if lenient else self.settings.coverage_floor):
            abstain, reason = True, f"key-term coverage {cov:.2f} < {self.settings.coverage_floor}"
        return Evidence(ranked, chosen, key, cov, best, abstain, reason, missing, features, probability)
