"""The answer/abstain decision: do the chosen sentences answer the question, or only resemble it?

The rule combines two signals, calibrated on the dev sets (never on a test set): how relevant the
best evidence is, and whether the question's key terms are covered by the chosen evidence,
weighted by how informative each term is in the corpus. A question whose distinctive words
("half-life", "price") appear nowhere in the evidence is not answered from the nearest topical
sentence, however similar it looks to the embedding model. Two hard rules come first: a
drug-shaped word no document uses, and a question asking for a kind of answer (a percentage, an
age, a duration) that the evidence does not hold.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from followup_bot.errors import ConfigError
from followup_bot.evidence.answer_types import missing_types
from followup_bot.evidence.ranking import ScoredSentence
from followup_bot.evidence.terms import KeyTerms, WordVectors
from followup_bot.lexicon.drugs import looks_like_drug
from followup_bot.lexicon.records import BIBLIOGRAPHIC
from followup_bot.models import Chunk
from followup_bot.settings import EvidenceSettings
from followup_bot.text import content_terms, english_frequency, words

FEATURES = (
    "best", "dense", "lex", "cov", "unseen_w", "miss_unseen_w", "min_z", "min_syn", "crit", "fu", "personal",
    "atype", "ctr", "miss_max",
)  # fmt: skip


@dataclass
class Evidence:
    """The ranked sentences, the ones chosen for the answer, and the decision with its reasons."""

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
    # The answer's sentences, in order (evidence/compose.py); `chosen` is the wider set the decision weighed.
    answer: list[ScoredSentence] = field(default_factory=list)
    # The wider set the answer was composed from (for tracing and for fitting the lead model).
    candidates: list[ScoredSentence] = field(default_factory=list)


@dataclass
class AbstentionModel:
    """P(the documents do not answer) = sigmoid(w · features + b), fitted on the dev sets.

    The features are the two signals the rule needs, measured several ways: how relevant the
    best evidence is (sentence, passage and lexical scores) and whether the question's key terms
    are covered by it (exactly, as synonyms, or not at all, and how rare a missing word is in
    English). `eval/calibrate_abstention.py` refits it from the dev sets; never from a test set.
    """

    weights: dict[str, float]
    intercept: float
    threshold: float = 0.5
    source: str = ""

    @classmethod
    def load(cls, path: Path, features: tuple[str, ...] = FEATURES) -> AbstentionModel:
        """Read a fitted model; a missing, extra or renamed feature is a clear error, never a silent 0."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            weights = {str(k): float(v) for k, v in data["weights"].items()}
            model = cls(weights, float(data["intercept"]), float(data.get("threshold", 0.5)), str(path))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"abstention model {path} cannot be read ({exc})") from None
        missing, extra = set(features) - weights.keys(), weights.keys() - set(features)
        if missing or extra:
            raise ConfigError(
                f"abstention model {path} does not match the features of this version "
                f"(missing: {sorted(missing) or 'none'}; unknown: {sorted(extra) or 'none'}); "
                "refit it with eval/calibrate_abstention.py"
            )
        return model

    def probability(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(w * float(features[k]) for k, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


class AbstentionJudge:
    """Measures how well the chosen evidence covers a question, and decides to answer or abstain."""

    def __init__(
        self,
        chunks: dict[str, Chunk],
        sentence_vectors: dict[tuple[str, int], np.ndarray],
        terms: KeyTerms,
        word_vectors: WordVectors | None,
        settings: EvidenceSettings,
        model: AbstentionModel | None,
    ) -> None:
        self.chunks = chunks
        self.vectors = sentence_vectors
        self.terms = terms
        self.word_vectors = word_vectors
        self.settings = settings
        self.model = model
        # Every sentence of a one-topic corpus is close to every question about the topic; the
        # mean sentence vector is that shared topic, and similarity measured from it says whether
        # a sentence matches what the question adds to the topic.
        stacked = np.stack(list(sentence_vectors.values())) if sentence_vectors else np.zeros((1, 1))
        self._topic = stacked.mean(axis=0)

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
                present |= self.terms.context(chunk)
                surface |= set(words(" ".join(chunk.heading_path)))
        surface = {w for w in surface if len(w) > 2 and not w.isdigit()}
        total = sum(key_terms.values())
        covered = 0.0
        missing = []
        if self.word_vectors is not None:  # the words to compare, embedded in one batch
            absent = [(spelled or {}).get(t, t) for t in key_terms if t not in present]
            self.word_vectors.add([w for w in absent if not w.isdigit()] + sorted(surface))
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

    def critical_word(self, word: str, zipf: float, synonym: float) -> bool:
        """A word no document uses that names a subject of its own (a drug, a condition).

        A drug-shaped word rare in English ("carbamazepine") is another drug, however close its
        embedding is to the corpus's drugs; a commoner one ("urine", "caffeine") counts unless the
        corpus has a near synonym. Other words only count when very rare and without a synonym:
        "sedate" or "reassessed" are phrasing, and the abstention model weighs them instead.
        """
        s = self.settings
        if looks_like_drug(word) and zipf < s.drug_common_zipf:
            return zipf < s.rare_word_zipf or synonym < s.drug_synonym_floor
        return zipf < s.very_rare_zipf and synonym < s.rare_synonym_floor

    def features(
        self,
        ranked: list[ScoredSentence],
        chosen: list[ScoredSentence],
        key: dict[str, float],
        cov: float,
        missing: list[str],
        is_followup: bool,
        personal: bool,
        question: str,
        query_vector: np.ndarray,
        surface: dict[str, str],
    ) -> tuple[dict[str, float], list[str], list[str]]:
        """The model's features, the critical words no document uses, and the answer types missing."""
        known = self.terms.weights.known
        total = sum(key.values()) or 1.0
        top = chosen[0] if chosen else None
        unseen = [t for t in key if not known(t)]
        missing_unseen = [t for t in missing if not known(t)]
        rarity = [english_frequency(surface.get(t, t)) for t in missing_unseen]
        if self.word_vectors is not None:
            self.word_vectors.add([surface.get(t, t) for t in missing_unseen])  # one batch, not one call a word
        synonyms = [
            self.word_vectors.best_in_vocabulary(surface.get(t, t)) if self.word_vectors else 0.0
            for t in missing_unseen
        ]
        critical = [
            t
            for t, z, b in zip(missing_unseen, rarity, synonyms, strict=True)
            if self.critical_word(surface.get(t, t), z, b)
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
            "ctr": self.centered_similarity(query_vector, chosen),
            "miss_max": max((key[t] for t in missing), default=0.0) / total,
        }
        return features, critical, absent_types

    def _record_of_named(self, chosen: list[ScoredSentence], named: frozenset[str], message: str) -> bool:
        if not chosen or not named or not BIBLIOGRAPHIC.search(message):
            return False
        chunk = self.chunks.get(chosen[0].chunk_id)
        return chunk is not None and chunk.kind == "record" and chunk.source_id in named

    def decide(
        self,
        ranked: list[ScoredSentence],
        chosen: list[ScoredSentence],
        key: dict[str, float],
        surface: dict[str, str],
        query_vector: np.ndarray,
        message: str,
        is_followup: bool,
        lenient: bool,
        named: frozenset[str] = frozenset(),
    ) -> Evidence:
        """Answer or abstain, in a fixed order: no evidence, another drug, a missing answer type, the model.

        A question about a publication's record that names the publication ("who wrote reference 12?",
        "how sure is the match for reference 3?") is answered from that record when it leads the evidence.
        """
        s = self.settings
        best = ranked[0].score if ranked else -1.0
        cov, missing = self.coverage(chosen, key, surface)
        features, critical, absent_types = self.features(
            ranked, chosen, key, cov, missing, is_followup, lenient, message, query_vector, surface
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
            kinds = " and a ".join(absent_types)
            abstain, reason = True, f"the question asks for a {kinds} that the evidence does not give"
        elif self._record_of_named(chosen, named, message):
            pass
        elif self.model is not None:
            probability = self.model.probability(features)
            if probability >= self.model.threshold:
                missing_words = ", ".join(surface.get(t, t) for t in missing) or "none"
                reason = (
                    f"P(unanswerable) {probability:.2f} (coverage {cov:.2f}, best {best:.2f}, missing: {missing_words})"
                )
                abstain = True
        elif best < s.relevance_floor:
            abstain, reason = True, f"best sentence {best:.2f} < relevance floor {s.relevance_floor}"
        elif cov < (s.coverage_floor / 2 if lenient else s.coverage_floor):
            abstain, reason = True, f"key-term coverage {cov:.2f} < {s.coverage_floor}"
        return Evidence(ranked, chosen, key, cov, best, abstain, reason, missing, features, probability)
