"""Safety triage: the rule table (`rules`), injection stripping (`injection`) and the order the
rules are read in (`triage`). The replies themselves are framing texts (`followup_bot.framing`)."""

from followup_bot.triage.injection import strip_injection
from followup_bot.triage.rules import ALL_RULES, Rule
from followup_bot.triage.triage import SafetyTriage, Triage, TriageKind, clean_message

__all__ = ["ALL_RULES", "Rule", "SafetyTriage", "Triage", "TriageKind", "clean_message", "strip_injection"]
