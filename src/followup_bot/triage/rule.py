"""One row of a rule table: a named pattern that carries its own examples.

Tables of rules are data: `triage/rules.py` assembles them, `tests/test_rule_tables.py` runs
every row over its `fires_on` and `quiet_on` messages. A new rule is a new row plus its
examples, never a new `if`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

RuleKind = Literal[
    "crisis", "emergency", "emergency_plain", "cue", "personal_dose", "injection", "injection_framing"
]  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """One row of a rule table: what it recognises, and the examples that pin it down."""

    name: str
    kind: RuleKind
    pattern: re.Pattern[str]
    fires_on: tuple[str, ...]
    quiet_on: tuple[str, ...]
    # An extra test of the match ("the word after 'take all my' is a drug name").
    guard: Callable[[re.Match[str]], bool] | None = None

    def match(self, text: str) -> re.Match[str] | None:
        for m in self.pattern.finditer(text):
            if self.guard is None or self.guard(m):
                return m
        return None


def rule(
    name: str,
    kind: RuleKind,
    pattern: str,
    fires_on: tuple[str, ...],
    quiet_on: tuple[str, ...],
    guard: Callable[[re.Match[str]], bool] | None = None,
    flags: int = re.I,
) -> Rule:
    return Rule(name, kind, re.compile(pattern, flags), fires_on, quiet_on, guard)


# A line posing as a role of the conversation ("SYSTEM: ...", "### Admin notice:").
ROLE = r"^\s*(?:#+\s*)?(?:system|assistant|developer|instruction|admin|root)(?: notice| note| message| override| update)?\s*[:>\]]"


def first_match(rules: tuple[Rule, ...], text: str, kind: RuleKind | None = None) -> Rule | None:
    """The first row (in table order) of the given kind that fires on the text."""
    for r in rules:
        if (kind is None or r.kind == kind) and r.match(text):
            return r
    return None
