"""Conversation requests: asking about the previous answer rather than for a new fact.

"Can you say that more simply for my mum?", "give me that in 3 bullet points", "more detail
please", "which source says that?", "compare that with X", "summarise the main findings": none is
a question the documents could fail to answer, so none may ever get the out-of-scope reply. Each
is a row with its own examples (tests/test_rule_tables.py runs them); the pipeline decides what a
request means for retrieval and the answer's shape (conversation.py, evidence/compose.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

IntentName = Literal["simplify", "bullets", "more_detail", "which_source", "compare", "summarise"]


@dataclass(frozen=True)
class Intent:
    name: IntentName
    pattern: re.Pattern[str]
    fires_on: tuple[str, ...]
    quiet_on: tuple[str, ...]

    def match(self, message: str) -> bool:
        return self.pattern.search(message) is not None


def _intent(name: IntentName, pattern: str, fires_on: tuple[str, ...], quiet_on: tuple[str, ...]) -> Intent:
    return Intent(name, re.compile(pattern, re.I), fires_on, quiet_on)


INTENTS: tuple[Intent, ...] = (
    _intent(
        "simplify",
        r"\b(?:simpl(?:er|ify|e terms|y put)|more simply|plain(?:er)? (?:english|words|language|terms)|(?:in )?lay(?:man'?s?|"
        r"person'?s?)? terms|eli5|like i'?m (?:5|five)|easier to understand|dumb (?:it|that) down|non[- ]?(?:scientist|"
        r"expert|medical)|for (?:my|a) (?:mum|mom|dad|parent|grand\w+|nan|child|kid|family|friend|patient)\b|"
        r"(?:explain|say|put) (?:it|that|this) (?:in )?(?:simply|plainly|in normal words)|what does that mean in english)",
        ("can you say that more simply for my mum", "explain it in plain english please"),
        ("what did the trial find?", "is it simple to take?"),
    ),
    _intent(
        "bullets",
        r"\b(?:in (?:\d+|a few|two|three|four|five) (?:bullet ?points?|bullets|points|lines)|bullet ?points?|as a list|"
        r"tl;?dr|key points|(?:sum|boil) (?:it|that) (?:up|down)|in short|the gist)\b",
        ("give me that in 3 bullet points", "tl;dr?"),
        ("how many points did they score?", "what is the main point of the study?"),
    ),
    _intent(
        "more_detail",
        r"\b(?:more (?:detail|details|depth|info|information)|tell me more|go on|elaborate|expand on (?:that|this|it)|"
        r"explain further|in more depth|longer answer|say more)\b",
        ("more detail please", "can you elaborate on that?"),
        ("what details were recorded?", "is more better?"),
    ),
    _intent(
        "which_source",
        r"\b(?:which|what) (?:source|study|paper|reference|article|document|citation)s? (?:says?|said|do they cite|did they "
        r"cite|is (?:that|this) from|supports? (?:that|this))|\bwhere (?:does|did) (?:that|this|it) come from\b|\bsource for "
        r"(?:that|this)\b|\bwhat'?s the source\b|\bcitation for (?:that|this)\b|\bwho (?:says|said|found) (?:that|this)\b",
        ("which source says that?", "which source do they cite for that?"),
        ("which study was the largest?", "what sources of funding were there?"),
    ),
    _intent(
        "compare",
        r"\bcompare\b|\bcompared (?:to|with) (?:that|this|the)\b|\b(?:difference|differences) between\b|\bhow (?:does|do|did) "
        r"(?:that|this|those|these|the two|they) (?:compare|differ)\b|\bversus\b|\bvs\.?\b",
        ("compare that with obesity", "how did those two compare for preventing malaria?"),
        ("what did the comparison group get?", "was it compared to nothing?"),
    ),
    _intent(
        "summarise",
        r"\b(?:summari[sz]e|summary of|sum up|overview of|main (?:findings|results|points|conclusions|take-?aways)|"
        r"key (?:findings|results|takeaways)|what (?:are|were) the (?:main|key) (?:findings|results|conclusions))\b",
        ("please summarise the main findings of this paper", "what were the key findings?"),
        ("what did the summary table show?", "was the main trial blinded?"),
    ),
)


def intent_of(message: str) -> IntentName | None:
    """The conversation request a message makes, if any (first row that fires)."""
    return next((i.name for i in INTENTS if i.match(message)), None)


# "Summarise that" is about the answer just given; "summarise the article" is about the whole article.
POINTS_BACK = re.compile(
    r"\b(?:summari[sz]e|sum up|summary of|recap)\s+(?:that|this|it|those|these|your answer|what you (?:just )?said|"
    r"the above)\b(?!\s+(?:article|paper|study|review|trial|report)\b)",
    re.I,
)
POINTS_BACK_EXAMPLES = (
    "summarise that for me", "can you sum up what you just said", "summarize your answer", "summarise this for me",
)  # fmt: skip
WHOLE_ARTICLE_EXAMPLES = (
    "summarise the article", "give me a summary of the paper", "what are the main findings?",
    "what are the key findings of that study?", "summarise this paper",
)  # fmt: skip


def points_back(message: str) -> bool:
    """Whether a request refers to the previous answer rather than to the article."""
    return POINTS_BACK.search(message) is not None
