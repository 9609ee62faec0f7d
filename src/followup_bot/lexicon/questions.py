"""How English questions are built: the words that ask, as opposed to the words that name a subject.

Retrieval, the evidence ranker, the follow-up resolver, injection stripping and the answer-type
rules all need to tell scaffolding ("what did they find about") from content ("rash"). They
read these lists, so a word added here is added everywhere at once.
"""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from
    further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how how's
    i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself nor of off on once only or
    other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such than that
    that's the their theirs them themselves then there there's these they they'd they'll they're they've this those through to
    too under until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where where's which while
    who who's whom why why's with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves
    tell say said says please know explain describe give show anything something thing things really actually just get got
    much many may might must will shall one also well way ever like yes okay ok hi hello thanks thank want need
    does doing done""".split()
)
WH_WORDS = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
QUESTION_WORDS = frozenset((*WH_WORDS, "whats"))
# Verbs that open a yes/no question ("Did the rats eat less?") or a request ("Tell me...").
AUXILIARIES = (
    "did", "does", "do", "is", "are", "was", "were", "can", "could", "has", "have", "had",
    "will", "would", "should", "may", "might", "must",
)  # fmt: skip
REQUEST_VERBS = ("tell", "explain", "summarise", "summarize", "describe", "list", "give", "show")
# A yes/no question asks for no quantity ("Did the number of lever presses fall?").
YES_NO = re.compile(r"^\W*(?:" + "|".join(AUXILIARIES) + r")\b", re.I)
# Text that asks something: a question mark, or a clause opening with a question or request word.
ASKS = re.compile(r"\?|^\W*(?:please\s+)?(?:" + "|".join((*WH_WORDS, *REQUEST_VERBS, *AUXILIARIES)) + r")\b", re.I)
# Words that shape a question but carry no fact to look for ("what did they find", "what kind").
GENERIC = frozenset(
    """find found finding look looked looking kind kinds type sort happen happened happens use used using uses
    show showed shown shows mean means meant go going come came make made take taken see seen think thought
    someone somebody anyone right true correct exactly specifically particular general generally
    next first last overall number amount lot lots bit little big able possible
    information info detail details data say says said mention mentioned mentions talk talks discuss discussed
    according article articles source sources document documents paper papers text passage here there now
    yes ok okay also still even back go went get gets getting gave given""".split()
)
