"""Suggested questions, built from the article's own section headings.

A first-time reader does not know what the documents can answer; the headings do. Nothing here
knows what the article is about, so the same code serves any imported article.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from followup_bot.models import Chunk, DocumentRecord
from followup_bot.ui.render.markup import normalise

MAX_SUGGESTIONS = 6
_QUESTION_WORDS = (
    "when ",
    "how ",
    "why ",
    "what ",
    "which ",
    "who ",
    "where ",
    "should ",
    "can ",
    "is ",
    "are ",
    "does ",
    "do ",
)
_SKIP_HEADINGS = {"references", "sources", "bibliography", "bibliographic record", "see also", "related", "footnotes"}


def _sentence_case(text: str) -> str:
    """'Dosing Considerations' -> 'dosing considerations'; acronyms (FDA, QTc) keep their case."""
    words = text.split(" ")
    title_case = sum(w[:1].isupper() for w in words) >= max(2, len(words) // 2 + 1)
    out = []
    for i, word in enumerate(words):
        acronym = sum(ch.isupper() for ch in word) > 1 or any(ch.isdigit() for ch in word)
        out.append(word if acronym or (not title_case and i > 0) else word[:1].lower() + word[1:])
    return " ".join(out)


def _question_for(heading: str) -> str:
    text = _sentence_case(normalise(heading).rstrip(":?."))
    if text.lower().startswith(_QUESTION_WORDS):
        return text[:1].upper() + text[1:] + "?"
    return f"What does the article say about {text}?"


def suggested_questions(
    chunks: Iterable[Chunk], records: Mapping[str, DocumentRecord], limit: int = MAX_SUGGESTIONS
) -> list[str]:
    """Questions built from the article's own section headings, in reading order.

    Leaf headings are the specific ones ("Dosing Considerations"); the document title and
    reference lists are skipped.
    """
    article_ids = {sid for sid, rec in records.items() if rec.kind == "article"}
    ordered = sorted(
        (c for c in chunks if c.source_id in article_ids and c.kind == "text" and c.heading_path),
        key=lambda c: (c.source_id, c.start),
    )
    paths: list[tuple[str, ...]] = []
    for c in ordered:
        path = tuple(normalise(h) for h in c.heading_path if normalise(h))
        if path and path not in paths:
            paths.append(path)
    deepest = max((len(p) for p in paths), default=0)
    leaves = [p for p in paths if not any(len(q) > len(p) and q[: len(p)] == p for q in paths)]
    if deepest > 1:
        leaves = [p for p in leaves if len(p) > 1]
    out: list[str] = []
    for path in leaves:
        heading = path[-1]
        if heading.casefold() in _SKIP_HEADINGS:
            continue
        question = _question_for(heading)
        if question not in out:
            out.append(question)
    return out[:limit]
