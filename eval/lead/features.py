"""Features for an experiment: could a learned model pick the answer's first sentence better than the rule?

Measured leave-one-article-out (eval/lead/train_lead.py), it could not (0.589 against the rule's
0.630 on 343 development questions), so evidence/compose.py keeps the rule. Kept to reproduce that.

The first sentence must be the one that answers. Relevance alone puts methods first ("rats
learned to press a lever…" shares the question's words), and role rules alone cannot weigh a
finding far down the ranking against a method at the top. The model scores each candidate with
signals that know nothing of an article's vocabulary: its rank and scores, its rhetorical role
and whether the question's focus prefers that role, how much of the question's specific words it
holds, whether it holds the kind of answer asked for (a number, a duration), whether it gives the
record field asked for, and whether it can stand alone (no opening "This" or "They").

"""

from __future__ import annotations

import math
import re

from followup_bot.evidence.answer_types import asked_types
from followup_bot.evidence.ranking import ScoredSentence
from followup_bot.lexicon.records import BIBLIOGRAPHIC, asked_fields
from followup_bot.text import content_terms

ROLES = ("finding", "conclusion", "method", "background", "caveat", "record", "caption")
FOCUS_NAMES = ("limitations", "methods", "direct", "findings", "background", "any")
# A sentence opening with a pointer to an earlier one cannot open an answer on its own.
_DANGLING = re.compile(r"^\s*(?:this|these|that|those|it|they|such|however|moreover|furthermore|also|thus|"
                       r"therefore|in addition|in contrast|similarly|likewise)\b", re.I)  # fmt: skip
_NUMBER = re.compile(r"\d")


def lead_features(
    candidates: list[ScoredSentence], question: str, focus: str, prefer: tuple[str, ...], specific: set[str]
) -> list[dict[str, float]]:
    """One feature row per candidate (in the candidates' order)."""
    if not candidates:
        return []
    best = max(c.score for c in candidates)
    types = asked_types(question)
    fields = asked_fields(question) if BIBLIOGRAPHIC.search(question) else []
    rows = []
    for rank, c in enumerate(candidates):
        terms = set(content_terms(c.text))
        share = len(terms & specific) / len(specific) if specific else 0.0
        words = len(c.text.split())
        row = {
            "rank": float(rank),
            "first": float(rank == 0),
            "score": c.score,
            "gap": best - c.score,
            "dense": c.dense,
            "lexical": c.lexical,
            "passage_rank": float(min(c.passage_rank, 10)),
            "specific_share": share,
            "specific_any": float(share > 0),
            "holds_type": float(bool(types) and any(t.held(c.text) for t in types)),
            "asks_type": float(bool(types)),
            "field": float(c.role == "record" and any(f.sentence.search(c.text) for f in fields)),
            "asks_field": float(bool(fields)),
            "preferred": float(c.role in prefer),
            "most_preferred": float(bool(prefer) and c.role == prefer[0]),
            "dangling": float(bool(_DANGLING.match(c.text))),
            "has_number": float(bool(_NUMBER.search(c.text))),
            "log_words": math.log1p(words),
            "long": float(words > 40),
            "caveat_cue": float(c.caveat),
            "from_article": float(c.source_id == "article"),
        }
        for role in ROLES:
            row[f"role_{role}"] = float(c.role == role)
        for name in FOCUS_NAMES:
            row[f"focus_{name}_x_preferred"] = float(focus == name and c.role in prefer)
        rows.append(row)
    return rows
