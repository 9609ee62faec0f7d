"""Evidence: what the question is about (`terms`), which sentences answer it (`ranking`), whether
they really do (`decision`), and the kinds of answer a question asks for (`answer_types`)."""

from followup_bot.evidence.answer_types import ANSWER_TYPES, AnswerType, asked_types, missing_types
from followup_bot.evidence.decision import FEATURES, AbstentionJudge, AbstentionModel, Evidence
from followup_bot.evidence.ranking import ScoredSentence, SentenceRanker
from followup_bot.evidence.terms import KeyTerms, TermWeights, WordVectors

__all__ = [
    "ANSWER_TYPES",
    "FEATURES",
    "AbstentionJudge",
    "AbstentionModel",
    "AnswerType",
    "Evidence",
    "KeyTerms",
    "ScoredSentence",
    "SentenceRanker",
    "TermWeights",
    "WordVectors",
    "asked_types",
    "missing_types",
]
