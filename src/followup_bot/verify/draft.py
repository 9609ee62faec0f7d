"""Draft verification: every sentence of a draft must rest on the passage its marker points to.

Extractive sentences are quotes by construction, so the check is that each quoted span is really
in its chunk. An LLM's sentences are judged one by one against every sentence of each passage
they cite (then the whole passage), and the ones no cited passage supports are removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from followup_bot.citations import MarkerBook
from followup_bot.generators.base import Draft
from followup_bot.models import Chunk, Citation, Verification
from followup_bot.text import content_terms
from followup_bot.verify.checks import Reason
from followup_bot.verify.judge import SupportJudge, strip_markers


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
    details: list[dict[str, Any]] = []
    removed = 0
    for sentence in draft.sentences:
        if sentence.verbatim and sentence.refs:
            # Quotes are exact by construction; the check is that the span is really there.
            cites = []
            spans = sentence.spans or [None] * len(sentence.refs)
            for (chunk_id, index), span in zip(sentence.refs, spans, strict=False):
                if chunk_id in chunks and index < len(chunks[chunk_id].sentences):
                    cites.append(book.cite_sentence(chunk_id, index, span))
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
        reasons: list[Reason] = []
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
                    best = (
                        whole.score,
                        max(
                            range(len(chunk.sentences)),
                            key=lambda i: len(set(content_terms(claim)) & set(content_terms(chunk.sentences[i].text))),
                        ),
                    )
                else:
                    reasons.extend(whole.reasons[:1])
            if best is not None:
                citations.append(book.cite_sentence(chunk_id, best[1]))
        if citations:
            kept.append(VerifiedSentence(claim, citations))
        else:
            removed += 1
            details.append(
                {"sentence": claim, "removed": "; ".join(dict.fromkeys(str(r) for r in reasons)) or "not supported"}
            )
    record = Verification(sentences=len(draft.sentences), supported=len(kept), removed=removed, details=details)
    return VerificationResult(kept, record)
