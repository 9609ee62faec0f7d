"""What kind of answer a question asks for, and whether a piece of evidence holds one.

"What percentage of patients get a rash?" is answered by a number or a share, not by "monitor
for rash". "How old was the patient?" needs an age, "how long" a duration, "how much does it
cost" a price. When the question asks for one of these and the evidence has none, the evidence
is on topic but does not answer it; that is the commonest way a question the documents do not
answer slips past a relevance score. Evidence that names the quantity ("the duration of
treatment remains unknown") holds it too: saying it is unknown is the answer. The same test lifts the sentence that does hold the
answer ("how many patients?" → "a trial in 26 patients").

These are rules of English questions, not of any corpus, so they hold for any article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from followup_bot.lexicon.questions import YES_NO

_NUM = r"(?:\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|several|a few|few)"
_UNIT = r"(?:seconds?|minutes?|min|hours?|h|days?|weeks?|months?|years?)"


@dataclass(frozen=True)
class AnswerType:
    """A kind of answer: how a question asks for it, and how a text that gives it reads."""

    name: str
    asks: re.Pattern[str]
    holds: re.Pattern[str]
    # The row's own examples, run by tests/test_rule_tables.py: questions that ask for this kind
    # of answer and near misses that do not; texts that give it and texts that do not.
    asked_by: tuple[str, ...] = ()
    not_asked_by: tuple[str, ...] = ()
    held_by: tuple[str, ...] = ()
    not_held_by: tuple[str, ...] = ()

    def asked(self, question: str) -> bool:
        return bool(self.asks.search(question))

    def held(self, text: str) -> bool:
        return bool(self.holds.search(text))


_QUALITATIVE_SHARE = (
    r"\b(?:rare(?:ly)?|uncommon|common(?:ly)?|frequent(?:ly)?|often|usually|seldom|occasional(?:ly)?|sometimes|"
    r"most|many|few|majority|minority)\b"
)

ANSWER_TYPES: tuple[AnswerType, ...] = (
    AnswerType(
        "share",
        re.compile(
            r"\b(?:percent(?:age)?s?|proportion|what fraction|what share|"
            r"(?:relapse|response|remission|success|failure|side[- ]effect|adverse[- ]event|dropout|incidence|prevalence|event) rates?|"
            r"incidence|prevalence|odds)\b|\bwhat %",
            re.I,
        ),
        re.compile(
            r"\d\s*%|\bpercent\b|\b" + _NUM + r"\s+(?:of|out of|in)\s+(?:the\s+|every\s+)?(?:\d+|" + _NUM + r")\b|"
            r"\b(?:majority|minority|half|none|all) of\b|\b(?:rates?|percentages?|proportions?|incidence|prevalence)\b",
            re.I,
        ),
        asked_by=("What percentage of patients relapsed?", "What was the response rate?"),
        not_asked_by=("What did the rats do?", "How was the drug given?"),
        held_by=("Relapse occurred in 12% of patients.", "Two of the five studies were trials."),
        not_held_by=("Monitor for rash during titration.", "The drug was given orally."),
    ),
    AnswerType(
        # "How common…?" is answered by "rare" as well as by a number.
        "commonness",
        re.compile(r"\bhow (?:common|likely|rare|usual)\b", re.I),
        re.compile(
            _QUALITATIVE_SHARE
            + r"|\d\s*%|\bpercent\b|\b"
            + _NUM
            + r"\s+(?:of|out of|in)\s+(?:the\s+)?(?:\d+|"
            + _NUM
            + r")\b",
            re.I,
        ),
        asked_by=("How common is rash?", "How likely is a relapse?"),
        not_asked_by=("Is rash a side effect?", "What causes rash?"),
        held_by=("Serious rash is rare.", "Rash occurred in 10% of patients."),
        not_held_by=("Rash can be serious.", "Stop the drug if a rash appears."),
    ),
    AnswerType(
        "frequency",
        re.compile(r"\bhow (?:often|frequently)\b|\bhow many times\b|\bat what intervals?\b", re.I),
        re.compile(
            r"\b(?:daily|weekly|monthly|yearly|annually|hourly|every|each|regular(?:ly)?|intervals?|once|twice|"
            r"times? (?:a|per)|per (?:day|week|month|year)|frequen\w*|\d+ times)\b|" + _QUALITATIVE_SHARE,
            re.I,
        ),
        asked_by=("How often should levels be checked?", "How many times a day is it taken?"),
        not_asked_by=("How long does it last?", "What dose is used?"),
        held_by=("Levels are checked weekly.", "It is taken twice daily."),
        not_held_by=("Levels should be checked.", "The dose is 25 mg."),
    ),
    AnswerType(
        "age",
        re.compile(r"\bhow old\b|\bwhat age\b|\bage (?:of|was|were|range)\b|\baged?\b\s*\?", re.I),
        re.compile(
            r"\baged?\b|\byears? old\b|\d+[- ]year[- ]old|\b(?:adolescents?|adults?|child(?:ren)?|teen\w*|elderly|infants?|juvenile)\b",
            re.I,
        ),
        asked_by=("How old was the patient?", "What age were the children?"),
        not_asked_by=("How long did it take?", "What was the patient's diagnosis?"),
        held_by=("A 34-year-old woman was treated.", "Adolescents took part."),
        not_held_by=("The patient recovered fully.", "Women were excluded."),
    ),
    AnswerType(
        "sex",
        re.compile(
            r"\bmale or female\b|\bfemale or male\b|\b(?:gender|sex) of\b|\bwhat (?:gender|sex)\b|\b(?:man|men) or "
            r"(?:a )?(?:woman|women)\b",
            re.I,
        ),
        re.compile(r"\b(?:male|female|men|women|man|woman|boys?|girls?|both sexes)\b", re.I),
        asked_by=("Was the patient male or female?", "What gender was the patient?"),
        not_asked_by=("How old was the patient?", "Were they treated?"),
        held_by=("All participants were men.", "The patient was a woman."),
        not_held_by=("All participants were treated.", "The patient recovered."),
    ),
    AnswerType(
        "duration",
        re.compile(
            r"\bhow long\b|\bhow (?:soon|quickly|fast)\b|\bhow many (?:seconds|minutes|hours|days|weeks|months|years)\b|"
            r"\bfor what (?:period|duration)\b|\bwhat duration\b|\bhow much time\b",
            re.I,
        ),
        re.compile(
            r"\b" + _NUM + r"[- ]?" + _UNIT + r"\b|\bduration\b|\bhow long\b|"
            r"\b(?:rapid(?:ly)?|quick(?:ly)?|fast|immediate(?:ly)?|slow(?:ly)?|gradual(?:ly)?|within|soon)\b",
            re.I,
        ),
        asked_by=("How long did the treatment last?", "How quickly does it work?"),
        not_asked_by=("How often is it taken?", "What dose was used?"),
        held_by=("Treatment lasted 12 weeks.", "The effect appeared rapidly."),
        not_held_by=("Treatment was effective.", "The dose was increased."),
    ),
    AnswerType(
        "price",
        re.compile(
            r"\b(?:cost|costs|price|prices|priced|expensive|cheap|afford\w*|insurance|pay for|how much is it)\b", re.I
        ),
        re.compile(
            r"[$€£¥]|\b(?:cost\w*|price\w*|dollars?|euros?|pounds?|insurance|reimburs\w*|expensive|cheap|afford\w*)\b",
            re.I,
        ),
        asked_by=("How much does it cost?", "Is it covered by insurance?"),
        not_asked_by=("How much was given?", "Is it approved?"),
        held_by=("A month's supply costs $40.", "Insurance rarely covers it."),
        not_held_by=("A month's supply is 60 tablets.", "It is widely available."),
    ),
    AnswerType(
        "count",
        re.compile(
            r"\bhow many\b(?!\s+(?:seconds|minutes|hours|days|weeks|months|years|times)\b)|\bnumber of\b|\bsample size\b",
            re.I,
        ),
        re.compile(
            r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|single|dozens?|hundreds?|thousands?|several|few|no|none)\b",
            re.I,
        ),
        asked_by=("How many patients were enrolled?", "What was the sample size?"),
        not_asked_by=("How many hours did it last?", "What did the study find?"),
        held_by=("Twenty-six patients were enrolled.", "A trial in 26 patients."),
        not_held_by=("Patients were enrolled.", "The trial was blinded."),
    ),
)


def asked_types(question: str) -> list[AnswerType]:
    """Types asked in the interrogative sentences ("…with a 90% success rate. What dose…?" asks a dose)."""
    sentences = re.split(r"(?<=[.?!])\s+", question)
    asking = [s for s in sentences if s.rstrip().endswith("?")] or sentences
    asking = [s for s in asking if not YES_NO.match(s)]
    return [t for t in ANSWER_TYPES if any(t.asked(s) for s in asking)]


def missing_types(question: str, evidence_texts: list[str]) -> list[str]:
    """Names of the answer types the question asks for that none of the texts holds."""
    joined = " ".join(evidence_texts)
    return [t.name for t in asked_types(question) if not t.held(joined)]
