"""The shape rule for a model's answer: the first sentence must be supported and must answer.

An LLM can write a correct answer that opens with background or methods, or whose opening
sentence the verifier removed; the reader then sees support without the finding. The extractive
answer is built finding-first, so a verified LLM answer that breaks the rule is replaced by it.
"Answers" is judged without the article's vocabulary: the first kept sentence must cite a passage
the evidence chose, or share a specific term of the question with the evidence's leading sentence.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from followup_bot.evidence.ranking import ScoredSentence
from followup_bot.generators.base import Draft
from followup_bot.text import content_terms
from followup_bot.verify.draft import VerificationResult
from followup_bot.verify.judge import strip_markers


def shape_problem(
    draft: Draft,
    result: VerificationResult,
    evidence: list[ScoredSentence],
    specific: Collection[str],
) -> str | None:
    """Why this verified LLM answer breaks the shape rule, or None when its first sentence answers."""
    if draft.fallback or not draft.sentences or not result.sentences:
        return None
    first = result.sentences[0]
    if _plain(draft.sentences[0].text) != _plain(first.text):
        return "the model's first sentence was not supported by its citations"
    if not evidence:
        return None
    chosen = {s.chunk_id for s in evidence}
    if any(c.chunk_id in chosen for c in first.citations):
        return None
    lead_terms = set(content_terms(evidence[0].text))
    wanted = set(specific) & lead_terms if specific else lead_terms
    if wanted & set(content_terms(first.text)):
        return None
    return "the model's first sentence does not give the finding the evidence leads with"


def _plain(sentence: str) -> str:
    """A sentence without its markers or spacing, to tell whether the verifier kept it."""
    return re.sub(r"\s+", "", strip_markers(sentence))
