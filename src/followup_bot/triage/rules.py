"""Safety triage as a table of named rules, each carrying the messages it must and must not fire on.

A rule is a row: a name, the kind of message it recognises, a pattern, and its own examples.
`tests/test_rule_tables.py` runs every row over its `fires_on` and `quiet_on` messages, so a
change to a pattern that breaks one of its examples fails at once, and a new rule is a new row
plus its examples, never a new `if`. Patterns match the cleaned, lower-cased message.

Kinds:
- `crisis`: suicidal or self-harm intent or plan, for oneself or someone else.
- `emergency`: danger to someone's body; it needs a person in the message (the `someone` cue)
  unless it is also `emergency_plain`, and it is set aside when the message is about a document
  (`about_documents`) and nobody present is involved (`asker` and `danger_now` cues).
- `emergency_plain`: danger so clear that no person needs to be named ("not breathing").
- `cue`: context the emergency decision reads (who is involved, whether it is about a document).
- `personal_dose`: a request for individual medical advice (answered in general, prescriber first).
- `injection` / `injection_framing`: text addressed to the assistant rather than a question.
"""

from __future__ import annotations

from followup_bot.triage.advice_rules import PERSONAL_DOSE
from followup_bot.triage.crisis_rules import CRISIS
from followup_bot.triage.emergency_rules import CUES, EMERGENCY
from followup_bot.triage.injection_rules import INJECTION, ROLE_MARKUP
from followup_bot.triage.rule import ROLE, Rule, RuleKind, first_match, rule

ALL_RULES: tuple[Rule, ...] = (*CUES, *CRISIS, *EMERGENCY, *PERSONAL_DOSE, *INJECTION, *ROLE_MARKUP)


def cue(name: str) -> Rule:
    return next(r for r in CUES if r.name == name)


__all__ = [
    "ALL_RULES",
    "CRISIS",
    "CUES",
    "EMERGENCY",
    "INJECTION",
    "PERSONAL_DOSE",
    "ROLE",
    "ROLE_MARKUP",
    "Rule",
    "RuleKind",
    "cue",
    "first_match",
    "rule",
]
