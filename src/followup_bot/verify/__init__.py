"""Verification: the support judge (`judge.py`, with its strict `checks.py`), the optional LLM
judge (`llm_judge.py`), and the check that every sentence of a draft rests on its citation
(`draft.py`). The judge is separate from draft verification because evaluation uses it alone."""

from followup_bot.verify.checks import Reason, dose_role_mismatch, negated, source_references
from followup_bot.verify.draft import VerificationResult, VerifiedSentence, verify_draft
from followup_bot.verify.judge import HeuristicJudge, Judgement, SupportJudge, find_markers, strip_markers

__all__ = [
    "HeuristicJudge",
    "Judgement",
    "Reason",
    "SupportJudge",
    "VerificationResult",
    "VerifiedSentence",
    "dose_role_mismatch",
    "find_markers",
    "negated",
    "source_references",
    "strip_markers",
    "verify_draft",
]
