"""The support judge, and the checks that every sentence of a draft rests on its citation.

No entailment model can be installed offline here, so the default judge is built from what we
have: content-word overlap, embedding similarity, and strict checks on the things that make a
medical claim wrong while it still *looks* similar: numbers and doses, negation, and names
(drugs, populations) that the passage never mentions. One judge serves both the verification of
LLM answers and the evaluation's citation recall and precision; its accuracy is measured on
eval/judge_calibration.jsonl.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from followup_bot.citations import MarkerBook
from followup_bot.corpus import split_sentences
from followup_bot.generators.base import Draft
from followup_bot.models import Chunk, Citation, Verification
from followup_bot.text import content_terms, has_negation, numbers, words

_MARKER = re.compile(r"\[([A-Za-z]?\d+[a-z]?(?:-[a-z])?|[A-Za-z][\w.-]*)\]")
_POPULATION = frozenset(
    "rat rats mouse mice animal animals human humans patient patients volunteer volunteers healthy child children adult adults women men "
    "pregnant elderly adolescent adolescents schizophrenia bipolar depression epilepsy".split()
)


@dataclass
class Judgement:
    supported: bool
    score: float
    reasons: list[str] = field(default_factory=list)


class SupportJudge(Protocol):
    name: str

    def judge(self, claim: str, passage: str) -> Judgement: ...


class HeuristicJudge:
    """Overlap + embedding similarity, vetoed by strict number/negation/name checks."""

    name = "heuristic"

    def __init__(self, threshold: float = 0.5, embed: Callable[[list[str]], np.ndarray] | None = None,
                 idf: Callable[[str], float] | None = None) -> None:
        self.threshold = threshold
        self.embed = embed
        self.idf = idf or (lambda _t: 1.0)

    def _best_sentence(self, claim_terms: set[str], passage: str) -> str:
        best, best_hit = passage, -1.0
        for s, e in split_sentences(passage):
            sent = passage[s:e]
            hit = len(claim_terms & set(content_terms(sent)))
            if hit > best_hit:
                best, best_hit = sent, hit
        return best

    def judge(self, claim: str, passage: str) -> Judgement:
        reasons: list[str] = []
        claim_clean = _MARKER.sub(" ", claim)
        cterms = content_terms(claim_clean)
        pterms = set(content_terms(passage))
        if not cterms:
            return Judgement(False, 0.0, ["claim has no content"])
        total = sum(self.idf(t) for t in cterms)
        lexical = sum(self.idf(t) for t in cterms if t in pterms) / total
        cos = 0.0
        if self.embed is not None:
            vecs = self.embed([claim_clean, passage])
            cos = float(vecs[0] @ vecs[1])
        score = 0.6 * lexical + 0.4 * cos if self.embed is not None else lexical
        veto = False
        missing_numbers = numbers(claim_clean) - numbers(passage)
        if missing_numbers:
            veto = True
            reasons.append(f"numbers not in passage: {sorted(missing_numbers)}")
        best = self._best_sentence(set(cterms), passage)
        if has_negation(claim_clean) != has_negation(best) and has_negation(claim_clean) != has_negation(passage):
            veto = True
            reasons.append("negation differs from the passage")
        claim_words = words(claim_clean)
        passage_words = set(words(passage)) | pterms
        names = {w for w in re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{3,}\b", claim_clean) if w.lower() not in passage_words}
        names |= {w for w in claim_words if re.search(r"(?:ine|pine|pam|lam|done|zole|mab|lithium)$", w) and w not in passage_words}
        names = {n for n in names if content_terms(n) and content_terms(n)[0] not in pterms}
        if names:
            veto = True
            reasons.append(f"names not in passage: {sorted(names)}")
        pops = {w for w in claim_words if w in _POPULATION and w not in passage_words and content_terms(w)[0] not in pterms}
        if pops:
            veto = True
            reasons.append(f"population not in passage: {sorted(pops)}")
        supported = not veto and score >= self.threshold
        if not supported and not reasons:
            reasons.append(f"score {score:.2f} < {self.threshold}")
        return Judgement(supported, round(score, 4), reasons)


def strip_markers(text: str) -> str:
    return re.sub(r"\s+", " ", _MARKER.sub(" ", text)).strip()


def find_markers(text: str) -> list[str]:
    return [f"[{m}]" for m in _MARKER.findall(text)]


@dataclass
class VerifiedSentence:
    text: str
    citations: list[Citation]


@dataclass
class VerificationResult:
    sentences: list[VerifiedSentence]
    record: Verification


def verify_draft(draft: Draft, book: MarkerBook, chunks: dict[str, Chunk], judge: SupportJudge) -> VerificationResult:
    """Keep the sentences whose markers resolve and whose cited passages support them."""
    kept: list[VerifiedSentence] = []
    details: list[dict] = []
    removed = 0
    for sentence in draft.sentences:
        if sentence.verbatim and sentence.refs:
            # Quotes are exact by construction; the check is that the span is really there.
            cites = []
            for chunk_id, index in sentence.refs:
                if chunk_id in chunks and index < len(chunks[chunk_id].sentences):
                    cites.append(book.cite_sentence(chunk_id, index))
            if cites and all(c.quote in c.chunk_text for c in cites):
                kept.append(VerifiedSentence(sentence.text, cites))
            else:
                removed += 1
                details.append({"sentence": sentence.text, "removed": "quote not found"})
            continue
        claim = strip_markers(sentence.text)
        chunk_ids = [draft.labels[m] for m in sentence.markers if m in draft.labels]
        if not sentence.markers or not chunk_ids:
            removed += 1
            details.append({"sentence": sentence.text, "removed": "no valid marker"})
            continue
        citations = []
        reasons = []
        for chunk_id in dict.fromkeys(chunk_ids):
            chunk = chunks[chunk_id]
            best: tuple[float, int] | None = None
            for i, sent in enumerate(chunk.sentences):
                verdict = judge.judge(claim, sent.text)
                if verdict.supported and (best is None or verdict.score > best[0]):
                    best = (verdict.score, i)
                elif not verdict.supported:
                    reasons.extend(verdict.reasons[:1])
            if best is None:
                whole = judge.judge(claim, chunk.text)
                if whole.supported:
                    best = (whole.score, max(range(len(chunk.sentences)), key=lambda i: len(set(content_terms(claim)) & set(content_terms(chunk.sentences[i].text)))))
                else:
                    reasons.extend(whole.reasons[:1])
            if best is not None:
                citations.append(book.cite_sentence(chunk_id, best[1]))
        if citations:
            kept.append(VerifiedSentence(claim, citations))
        else:
            removed += 1
            details.append({"sentence": claim, "removed": "; ".join(dict.fromkeys(reasons)) or "not supported"})
    record = Verification(sentences=len(draft.sentences), supported=len(kept), removed=removed, details=details)
    return VerificationResult(kept, record)
