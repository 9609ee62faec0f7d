"""The library on the chat page: the picker's choices, the article a URL asks for, and per-article suggestions.

Suggested questions come from an article's own headings; with the (cheap) extractive generator the
ones the assistant can actually answer come first, which takes a few real `ask` calls within a
time budget. They are computed for an article the first time a reader opens it and kept in a
bounded LRU cache, so opening the page pays for one article, not for the whole library.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from followup_bot.assistant import Assistant
from followup_bot.ui import render

log = logging.getLogger("followup_bot.ui")

ARTICLE_PARAM = "article"
SUGGESTION_CACHE_SIZE = 64
SUGGESTION_CHECK_BUDGET_S = 3.0
MAX_TITLE_CHARS = 110


def choice_label(title: str, article_id: str) -> str:
    """'Title — id', the title shortened so long titles keep the picker readable (it shows text, not HTML)."""
    text = render.normalise(title) or article_id
    if len(text) > MAX_TITLE_CHARS:
        text = text[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    return f"{text} — {article_id}"


def article_choices(assistant: Assistant) -> list[tuple[str, str]]:
    """The picker's choices, (label, article id), in library order: the default article first."""
    return [(choice_label(str(a["title"]), str(a["id"])), str(a["id"])) for a in assistant.articles()]


def requested_article(request: Any) -> str:
    """The `?article=` of the page's URL, or '' (Gradio's browser client sends the page's query string)."""
    if request is None:
        return ""
    try:
        params = dict(request.query_params or {})
    except (AttributeError, TypeError, ValueError):
        return ""
    value = params.get(ARTICLE_PARAM, "")
    return value if isinstance(value, str) else ""


class SuggestionCache:
    """Suggested questions per article: computed on first use, then kept (least recently used dropped)."""

    def __init__(
        self,
        assistant: Assistant,
        size: int = SUGGESTION_CACHE_SIZE,
        budget_s: float = SUGGESTION_CHECK_BUDGET_S,
    ) -> None:
        self.assistant = assistant
        self.size = size
        self.budget_s = budget_s
        self._cache: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, article_id: str) -> list[str] | None:
        """The cached questions, or None when they have not been computed yet (never computes)."""
        with self._lock:
            questions = self._cache.get(article_id)
            if questions is not None:
                self._cache.move_to_end(article_id)
            return list(questions) if questions is not None else None

    def get(self, article_id: str) -> list[str]:
        """The article's questions, computed now if needed (two readers at once may both compute them)."""
        cached = self.peek(article_id)
        if cached is not None:
            return cached
        questions = self.compute(article_id)
        with self._lock:
            self._cache[article_id] = questions
            self._cache.move_to_end(article_id)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return list(questions)

    def cached(self) -> list[str]:
        with self._lock:
            return list(self._cache)

    def compute(self, article_id: str) -> list[str]:
        """Questions from the article's headings, the answerable ones first (extractive generator only)."""
        view = self.assistant.article(article_id)
        candidates = render.suggested_questions(view.chunks.values(), view.records, limit=12)
        top = candidates[: render.MAX_SUGGESTIONS]
        if self.assistant.generator_info.provider != "extractive":
            return top
        answered: list[str] = []
        other: list[str] = []
        deadline = time.monotonic() + self.budget_s
        for question in candidates:
            if time.monotonic() > deadline:
                other.append(question)
                continue
            try:
                ok = not self.assistant.ask(question, article=view.id).refused
            except Exception:  # a suggestion check must never stop an article from opening
                log.debug("checking a suggested question failed", exc_info=True)
                ok = False
            (answered if ok else other).append(question)
        return (answered + other)[: render.MAX_SUGGESTIONS] if answered else top
