"""The library on the chat page: the picker's choices, the article a URL asks for, opening an
article, and per-article suggested questions.

Opening an article shows it in up to three steps, so that the session's article changes at once
(a question asked meanwhile is about the new article) even when its indexes must first be built:
the session's article, the header and an emptied conversation, from the library's catalog; then
the banner and the evidence panel from the article's indexes; then its suggested questions.

Suggested questions come from an article's own headings; with the (cheap) extractive generator the
ones the assistant can actually answer come first, which takes a few real `ask` calls within a
time budget. They are computed for an article the first time a reader opens it and kept in a
bounded LRU cache, so opening the page pays for one article, not for the whole library.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import gradio as gr

from followup_bot.assistant import ArticleView, Assistant
from followup_bot.corpus.manifest import article_id as id_slug
from followup_bot.errors import ArticleError, InputError
from followup_bot.inputs import parse_article
from followup_bot.ui import render

log = logging.getLogger("followup_bot.ui")

ARTICLE_PARAM = "article"
SUGGESTION_CACHE_SIZE = 64
SUGGESTION_CHECK_BUDGET_S = 3.0
MAX_TITLE_CHARS = 110
# What opening an article updates, in this order (app.py wires the components in the same order):
# these, then the suggestions block and its MAX_SUGGESTIONS buttons.
FIXED_OUTPUTS = ("article", "picker", "header", "banner", "notice", "chat", "panel", "state", "export", "status")
OPEN_OUTPUTS = len(FIXED_OUTPUTS) + 1 + render.MAX_SUGGESTIONS


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


def suggestion_updates(questions: list[str]) -> tuple[Any, ...]:
    """The suggestions block (hidden when there are none), then one update per suggestion button."""
    shown = questions[: render.MAX_SUGGESTIONS]
    buttons = [gr.update(value=q, visible=True) for q in shown]
    buttons += [gr.update(visible=False) for _ in range(render.MAX_SUGGESTIONS - len(shown))]
    return (gr.update(visible=bool(shown)), *buttons)


def opened(suggestions: list[str] | None = None, **fixed: Any) -> tuple[Any, ...]:
    """One update of what opening an article shows: the named outputs (see FIXED_OUTPUTS), then the
    suggestions when given; everything else stays as it is."""
    unknown = set(fixed) - set(FIXED_OUTPUTS)
    if unknown:
        raise TypeError(f"not an output of opening an article: {sorted(unknown)}")
    head = tuple(fixed.get(name, gr.skip()) for name in FIXED_OUTPUTS)
    tail = (
        suggestion_updates(suggestions)
        if suggestions is not None
        else tuple(gr.skip() for _ in range(OPEN_OUTPUTS - len(head)))
    )
    return (*head, *tail)


class ArticleOpening:
    """The page's handlers for opening an article: on page load (`?article=ID`) and from the picker."""

    assistant: Assistant
    default: str
    suggestion_cache: SuggestionCache

    def view(self, article: str | None = None) -> ArticleView:
        """The article's title, documents and passages (the default article when none is given).

        An id no article can have (every id is a slug: lower case, [a-z0-9._-], at most 120
        characters) is refused here, so that what a URL or an API caller sends reaches the library
        only when it could name an article.
        """
        if article and id_slug(article) != article:
            shown = article if len(article) <= 80 else article[:79] + "…"
            raise ArticleError(
                f"unknown article {shown!r}; an article id has lower-case letters, digits, '.', '_' and '-' only"
            )
        return self.assistant.article(article or self.default)

    def resolve(self, requested: Any) -> tuple[ArticleView, str]:
        """The article to open for a requested id, and a notice (escaped HTML) when it is not that one."""
        try:
            article_id = parse_article(requested)
        except InputError:
            article_id = None
        if article_id is None:
            return self.view(), ""
        try:
            return self.view(article_id), ""
        except ArticleError:
            fallback = self.view()
            return fallback, render.render_article_notice(article_id, fallback.title)
        except Exception:  # a broken article must not stop the page from opening
            reference = uuid.uuid4().hex[:8]
            log.exception("opening article %r failed (reference %s)", article_id[:200], reference)
            fallback = self.view()
            return fallback, render.render_article_notice(article_id, fallback.title, reference)

    def load(self, request: gr.Request) -> Iterator[tuple[Any, ...]]:
        """On page load: open the article the URL names (`?article=ID`), else the default one."""
        yield from self.open(requested_article(request), refresh_choices=True)

    def switch(self, choice: str | None, current: str | None) -> Iterator[tuple[Any, ...]]:
        """The reader picked an article in the picker: a new conversation about it."""
        if not choice or choice == (current or self.default):
            yield opened()
            return
        yield from self.open(choice)

    def open(self, requested: Any, *, refresh_choices: bool = False) -> Iterator[tuple[Any, ...]]:
        """Show an article with an empty conversation, in the steps the module docstring describes.

        What the reader is typing stays in the input box.
        """
        catalog = self.assistant.articles()  # the library's list: no index is built for it
        titles = {str(a["id"]): str(a["title"]) for a in catalog}
        choices = [(choice_label(title, article_id), article_id) for article_id, title in titles.items()]
        try:
            wanted = parse_article(requested) or self.default
        except InputError:
            wanted = self.default

        def picker(value: str) -> Any:
            return gr.update(value=value, choices=choices) if refresh_choices else gr.update(value=value)

        emptied: dict[str, Any] = {
            "chat": [],
            "state": [],
            "export": gr.update(value=None, interactive=False),
            "status": "",
        }
        early = wanted in titles
        if early:  # 1. at once: the session's article, the header, an emptied conversation
            yield opened(
                self.suggestion_cache.peek(wanted) or [],
                article=wanted,
                picker=picker(wanted),
                header=render.render_header(titles[wanted]),
                notice=gr.update(visible=False),
                **emptied,
            )
        view, notice = self.resolve(requested)  # 2. the article's indexes, built now if need be
        if view.id not in titles:  # imported since the catalog was read (resolving it read the library again)
            choices = article_choices(self.assistant)
        shown: dict[str, Any] = {
            "header": render.render_header(view.title),
            "banner": render.render_banner(self.assistant.banner(view.id)),
            "panel": render.render_source_panel([], view.records, view.chunks),
        }
        if not early or view.id != wanted:  # step 1 did not show this article: show it all now
            shown |= {
                "article": view.id,
                "picker": picker(view.id),
                "notice": gr.update(value=notice, visible=bool(notice)),
                **emptied,
            }
        cached = self.suggestion_cache.peek(view.id)
        yield opened(cached or [], **shown)
        if cached is None:  # 3. its suggested questions, computed once and then cached
            yield opened(self.suggestion_cache.get(view.id))
