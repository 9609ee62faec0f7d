"""The support judge: does this passage say what this claim says?

No entailment model can be installed offline here, so the default judge is built from what we
have: content-word overlap, embedding similarity, and the strict checks of `checks.py` (numbers,
negation, names, populations, dose roles). One judge serves both the verification of LLM answers
and the evaluation's citation recall and precision; its accuracy is measured on
eval/judge_calibration.jsonl.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from followup_bot.corpus.chunking import split_sentences
from followup_bot.text import content_terms, words
from followup_bot.verify.checks import (
    PASSAGE_TURNS,
    Reason,
    dose_role_mismatch,
    names_check,
    negated,
    numbers_check,
    polarity_conflicts,
    source_references,
)

MARKER = re.compile(r"\[([A-Za-z]?\d+[a-z]?(?:-[a-z])?|[A-Za-z][\w.-]*)\]")
# Where a claim joins two assertions; each part must be supported on its own ("partial" claims).
_CLAIM_JOINS = re.compile(
    r",\s*(?:and|but|while|whereas|although|though)\s+|;\s+|\s+but\s+|\s+and\s+(?:also\s+)?(?=\w+ed\b|(?:the|it|they|this|these)\s)",
    re.IGNORECASE,
)


@dataclass
class Judgement:
    supported: bool
    score: float
    reasons: list[Reason] = field(default_factory=list)

    @property
    def strict(self) -> list[Reason]:
        """The fact mismatches among the reasons: vetoes no other judge may overrule."""
        return [r for r in self.reasons if r.strict]


class SupportJudge(Protocol):
    name: str

    def judge(self, claim: str, passage: str) -> Judgement: ...


def strip_markers(text: str) -> str:
    return re.sub(r"\s+", " ", MARKER.sub(" ", text)).strip()


def find_markers(text: str) -> list[str]:
    return [f"[{m}]" for m in MARKER.findall(text)]


class VectorCache:
    """A bounded, thread-safe LRU of text embeddings; evaluation judges the same quotes many times.

    The chat page answers two requests at once, so the cache is locked; vectors are returned from
    the batch just computed, never re-read after an eviction, so a full cache cannot raise.
    """

    def __init__(self, embed: Callable[[list[str]], np.ndarray], size: int = 4096) -> None:
        self.embed = embed
        self.size = max(1, size)
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, texts: list[str]) -> list[np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in texts:
                vec = self._items.get(text)
                if vec is not None:
                    self._items.move_to_end(text)
                    found[text] = vec
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = {t: np.asarray(v, dtype=np.float32) for t, v in zip(missing, self.embed(missing), strict=True)}
            found.update(fresh)
            with self._lock:
                for text, vec in fresh.items():
                    self._items[text] = vec
                    self._items.move_to_end(text)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return [found[t] for t in texts]


class HeuristicJudge:
    """Overlap + embedding similarity, vetoed by strict checks of what makes a claim wrong.

    A medical claim can look almost identical to its passage and still be false: another number,
    a dropped "not", another drug or population, an extra clause, or "will cure" where the
    passage says "may". Similarity cannot see those, so each is a hard veto; similarity only
    decides among the claims that survive them. The rules are general (numbers, negation, names,
    modality, coordination), not keyed to the calibration pairs, so they transfer to new text.
    """

    name = "heuristic"

    def __init__(
        self,
        threshold: float = 0.46,
        embed: Callable[[list[str]], np.ndarray] | None = None,
        idf: Callable[[str], float] | None = None,
        *,
        lexical_weight: float = 0.6,
        part_margin: float = 0.1,
        cache_size: int = 4096,
        vectors: VectorCache | None = None,
    ) -> None:
        self.threshold = threshold
        self.idf = idf or (lambda _t: 1.0)
        self.lexical_weight = lexical_weight
        self.part_floor = max(0.0, threshold - part_margin)
        # Judges of several articles share one cache of vectors (a text's vector is the same everywhere).
        self.vectors = vectors or (VectorCache(embed, cache_size) if embed is not None else None)

    def _mix(self, lexical: float, similarity: float) -> float:
        return self.lexical_weight * lexical + (1 - self.lexical_weight) * similarity

    def _coverage(self, terms: list[str], pterms: set[str]) -> float:
        total = sum(self.idf(t) for t in terms)
        return sum(self.idf(t) for t in terms if t in pterms) / total if total else 0.0

    @staticmethod
    def _units(passage: str) -> list[str]:
        """Passage sentences, split again where they turn ("…, but …")."""
        units: list[str] = []
        for s, e in split_sentences(passage) or [(0, len(passage))]:
            units.extend(u for u in PASSAGE_TURNS.split(passage[s:e]) if u.strip())
        return units or [passage]

    def _negation_differs(self, claim: str, units: list[str]) -> bool:
        """Polarity of each part of the claim against the passage part that says the same thing."""
        scored_units = [(set(content_terms(u)), u) for u in units]
        for part in PASSAGE_TURNS.split(claim):
            pterms = content_terms(part)
            if not pterms:
                continue
            scored = [(self._coverage(pterms, terms), u) for terms, u in scored_units]
            best = max(s for s, _ in scored)
            if best <= 0:
                continue
            polarity = negated(part)
            if all(negated(u) != polarity for s, u in scored if s >= best - 1e-9):
                return True
        return False

    def _negation_check(self, claim: str, passage: str, units: list[str]) -> list[Reason]:
        if self._negation_differs(claim, units):
            return [Reason("negation", "negation differs from the passage")]
        conflicts = polarity_conflicts(claim, passage)
        if conflicts:
            return [Reason("negation_conflict", f"negation conflict: the passage denies {sorted(conflicts)}")]
        return []

    @staticmethod
    def _parts(claim: str, excused: set[str]) -> list[str]:
        parts = [p for p in _CLAIM_JOINS.split(claim) if len([t for t in content_terms(p) if t not in excused]) >= 2]
        return parts if len(parts) >= 2 else []

    def _parts_check(
        self, parts: list[str], pterms: set[str], excused: set[str], similarity: list[float] | None
    ) -> list[Reason]:
        """Every joined assertion of the claim must be covered on its own ("partial" claims)."""
        for i, part in enumerate(parts):
            score = self._coverage([t for t in content_terms(part) if t not in excused], pterms)
            if similarity is not None:
                score = self._mix(score, similarity[i])
            if score < self.part_floor:
                return [Reason("part", f"part not supported ({score:.2f}): {part.strip()[:60]}", strict=False)]
        return []

    @staticmethod
    def _verbatim(claim: str, passage: str, units: list[str]) -> bool:
        """The claim is one of the passage's sentences (or the whole passage), word for word."""
        key = words(claim)
        return bool(key) and any(words(u) == key for u in [passage, *units])

    def judge(self, claim: str, passage: str) -> Judgement:
        """Supported only if no strict check vetoes the claim and the similarity reaches the threshold.

        The strict checks run first and need no model, so a vetoed claim costs no embedding; its
        score is then the lexical overlap alone. A claim that is a whole sentence of the passage
        is supported outright (the common case for extractive answers, and the cheapest).
        """
        claim_clean = strip_markers(claim)
        passage = strip_markers(passage)
        pterms = set(content_terms(passage))
        # A publication's name ("the Huang case report") identifies the source; it is not a claim
        # the passage text has to repeat, so it does not count against the overlap.
        excused = {t for r in source_references(claim_clean) - source_references(passage) for t in content_terms(r)}
        cterms = [t for t in content_terms(claim_clean) if t not in excused]
        if not cterms or not passage:
            detail = "claim has no content" if not cterms else "empty passage"
            return Judgement(False, 0.0, [Reason("empty", detail, strict=False)])
        units = self._units(passage)
        if self._verbatim(claim_clean, passage, units):
            return Judgement(True, 1.0, [])
        lexical = self._coverage(cterms, pterms)
        reasons = numbers_check(claim_clean, passage)
        reasons += self._negation_check(claim_clean, passage, units)
        reasons += names_check(claim_clean, passage, pterms)
        reasons += dose_role_mismatch(claim_clean, passage)
        if reasons:
            return Judgement(False, round(lexical, 4), reasons)
        parts = self._parts(claim_clean, excused)
        score = lexical
        similarity = None
        if self.vectors is not None:
            vecs = self.vectors.get([claim_clean, *parts, passage, *units])
            targets = vecs[1 + len(parts) :]
            score = self._mix(lexical, max(float(vecs[0] @ v) for v in targets))
            similarity = [max(float(vecs[1 + i] @ v) for v in targets) for i in range(len(parts))]
        reasons = self._parts_check(parts, pterms, excused, similarity)
        supported = not reasons and score >= self.threshold
        if not supported and not reasons:
            reasons.append(Reason("score", f"score {score:.2f} < {self.threshold}", strict=False))
        return Judgement(supported, round(score, 4), reasons)
