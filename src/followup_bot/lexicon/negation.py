"""Words that make a clause negative: the support judge compares the polarity of claim and passage."""

from __future__ import annotations

NEGATIONS = frozenset(
    "no not never none neither nor without cannot can't didn't doesn't don't isn't wasn't weren't aren't won't".split()
)
# Negative-polarity words beyond the plain negations: "unchanged" says what "did not change" says.
NEGATIVE_WORDS = frozenset(
    "unknown unclear unchanged unaffected unable unlikely unsupported unproven untested unestablished inconclusive "
    "ineffective insufficient absent absence lack lacks lacking lacked fail fails failed neither".split()
)
