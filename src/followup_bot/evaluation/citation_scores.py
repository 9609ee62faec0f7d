"""Citation scores of one answer: the INTERFACES.md contract checked literally, and ALCE recall/precision.

Validity is mechanical (markers resolve, quotes are exact spans of the live index); recall and
precision ask the support judge whether the cited evidence supports each answer sentence, once
per (claim, evidence) pair. Fixed framing texts are set aside first: they are the product's own
words, not claims taken from the documents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from followup_bot.corpus import split_sentences
from followup_bot.models import Answer, Chunk, Citation
from followup_bot.verify import SupportJudge, find_markers, strip_markers

_SPACE = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass
class SentenceCheck:
    """One answer sentence, the citations it carries, and the judge's verdicts on them."""

    text: str
    markers: list[str]
    supported: bool
    via: str = ""
    relevant: list[bool] = field(default_factory=list)
    reason: str = ""


def strip_framing(text: str, framing: Iterable[str]) -> str:
    """The answer without the fixed framing texts (personal-dose preface, abstention line).

    Framing sentences are the product's own words, not claims taken from the documents, so they
    are neither expected to carry a citation nor counted against citation recall.
    """
    out = text
    for frame in sorted((f for f in framing if f and f.strip()), key=len, reverse=True):
        variants = {frame, frame.rstrip(":").rstrip() + "."}
        for v in variants:
            out = out.replace(v, " ")
    return normalize_space(out)


def answer_sentences(text: str) -> list[str]:
    """Sentences of an answer; a marker stays with its sentence ("… activity [A1].")."""
    return [text[s:e] for s, e in split_sentences(text) if text[s:e].strip()]


def citation_validity(answer: Answer, chunks: Mapping[str, Chunk], content: str) -> list[str]:
    """The contract of INTERFACES.md, checked literally; returns the problems found (none = valid).

    - every marker in the answer text resolves to a citation,
    - every citation appears as a marker,
    - every quote is in its chunk's text after whitespace normalisation (from the live index,
      not the copy inside the citation, so a stale or invented quote is caught),
    - and an answer that states something from the documents cites at least one passage.
    """
    problems: list[str] = []
    markers = find_markers(answer.answer)
    by_marker = {c.marker: c for c in answer.citations}
    unresolved = sorted(set(markers) - set(by_marker))
    if unresolved:
        problems.append(f"markers without a citation: {', '.join(unresolved)}")
    unused = sorted(set(by_marker) - set(markers))
    if unused:
        problems.append(f"citations never shown as a marker: {', '.join(unused)}")
    for c in answer.citations:
        chunk = chunks.get(c.chunk_id)
        if chunk is None:
            problems.append(f"{c.marker}: chunk {c.chunk_id} is not in the index")
        elif chunk.source_id != c.source_id:
            problems.append(f"{c.marker}: chunk belongs to {chunk.source_id}, citation says {c.source_id}")
        elif not normalize_space(c.quote) or normalize_space(c.quote) not in normalize_space(chunk.text):
            problems.append(f"{c.marker}: quote is not an exact span of its chunk")
    if not answer.refused and content and not answer.citations:
        problems.append("answer has no citation")
    return problems


class SupportOracle:
    """The judge, asked once per (claim, evidence): ALCE asks the same question several times."""

    def __init__(self, judge: SupportJudge) -> None:
        self.judge = judge
        self._cache: dict[tuple[str, str], tuple[bool, str]] = {}

    def __call__(self, claim: str, evidence: str) -> tuple[bool, str]:
        key = (claim, evidence)
        if key not in self._cache:
            verdict = self.judge.judge(claim, evidence)
            self._cache[key] = (bool(verdict.supported), "; ".join(str(r) for r in verdict.reasons[:2]))
        return self._cache[key]

    def supports(self, claim: str, cites: Sequence[Citation], chunks: Mapping[str, Chunk]) -> tuple[bool, str, str]:
        """Do these citations together support the claim? Quotes first, then their whole passages.

        The quote is the evidence the reader is shown; the chunk is the passage it sits in, which
        is what ALCE gives its NLI model. A sentence supported only by the wider passage still
        counts (the citation points at the right place) and is recorded as `via: passage`.
        """
        if not cites:
            return False, "", "no citation"
        quotes = " ".join(normalize_space(c.quote) for c in cites)
        ok, reason = self(claim, quotes)
        if ok:
            return True, "quote", ""
        texts = []
        for c in cites:
            chunk = chunks.get(c.chunk_id)
            text = normalize_space(chunk.text if chunk is not None else c.chunk_text)
            if text and text not in texts:
                texts.append(text)
        if texts:
            whole = " ".join(texts)
            if whole != quotes:
                ok2, reason2 = self(claim, whole)
                if ok2:
                    return True, "passage", ""
                reason = reason2 or reason
        return False, "", reason


def alce_scores(
    sentences: Sequence[str], citations: Sequence[Citation], chunks: Mapping[str, Chunk], oracle: SupportOracle
) -> tuple[float | None, float | None, list[SentenceCheck]]:
    """ALCE citation recall and precision (Gao et al. 2023) for one answer.

    Recall: share of sentences whose citations together support them (a sentence without a
    citation is unsupported). Precision: share of citations that are needed: in a supported
    sentence, a citation is irrelevant when it does not support the sentence alone *and* the
    others still support it without it; every citation of an unsupported sentence is irrelevant.
    """
    by_marker = {c.marker: c for c in citations}
    checks: list[SentenceCheck] = []
    supported_n = 0
    relevant_n = 0
    cites_n = 0
    for sentence in sentences:
        markers = list(dict.fromkeys(find_markers(sentence)))
        cites = [by_marker[m] for m in markers if m in by_marker]
        claim = strip_markers(sentence)
        ok, via, reason = oracle.supports(claim, cites, chunks)
        relevant: list[bool] = []
        if ok:
            supported_n += 1
            if len(cites) == 1:
                relevant = [True]
            else:
                for i, cite in enumerate(cites):
                    alone, _, _ = oracle.supports(claim, [cite], chunks)
                    if alone:
                        relevant.append(True)
                        continue
                    rest_ok, _, _ = oracle.supports(claim, cites[:i] + cites[i + 1 :], chunks)
                    relevant.append(not rest_ok)
        else:
            relevant = [False] * len(cites)
        cites_n += len(cites)
        relevant_n += sum(relevant)
        checks.append(
            SentenceCheck(text=sentence, markers=markers, supported=ok, via=via, relevant=relevant, reason=reason)
        )
    recall = supported_n / len(sentences) if sentences else None
    precision = relevant_n / cites_n if cites_n else (0.0 if sentences else None)
    return recall, precision, checks
