"""The handlers behind the chat page: opening an article, answering (streamed), feedback, export, clear, `/ask`.

Kept apart from the layout (app.py) so they can be driven directly in tests without a browser.
They use only the public `Assistant` API (`ask`, `stream`, `article()`, `articles()`, `banner()`,
`default_article`, `disclaimer()`, `generator_info`); nothing reaches the components behind it.
Any failure while answering or rendering becomes an apology with a reference the operator can
find in the log, never a traceback and never a draft stuck on screen.

A conversation is scoped to one article: the session keeps the article's id beside the
conversation, every handler renders with that article's documents, and opening another article
starts a new conversation.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from followup_bot.assistant import Assistant, InputError, normalize_audience
from followup_bot.errors import ArticleError
from followup_bot.inputs import parse_article
from followup_bot.models import Answer, Chunk, DocumentRecord
from followup_bot.settings import Settings
from followup_bot.ui import render
from followup_bot.ui.admission import Busy, RateLimit
from followup_bot.ui.articles import ArticleOpening, SuggestionCache
from followup_bot.ui.feedback import append_jsonl, feedback_record, save_problem
from followup_bot.ui.render import Exchange

log = logging.getLogger("followup_bot.ui")

EXPORT_ROOT = Path(tempfile.gettempdir()) / "followup-bot-exports"
EXPORT_MAX_AGE_S = 3600


class ChatPage(ArticleOpening):
    """The handlers behind the page; one instance per app, shared by all sessions (stateless).

    Opening an article (on load, from the picker) comes from `ArticleOpening`.
    """

    def __init__(self, assistant: Assistant, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        self.default = assistant.default_article
        self.feedback_path = settings.resolve(settings.ui.feedback_path)
        self.feedback_rate = RateLimit(settings.ui.feedback_per_minute, 60.0)
        self.fingerprint = settings.fingerprint()
        self.suggestion_cache = SuggestionCache(assistant)
        self.suggestion_cache.get(self.default)  # the first page load finds the default article's ready

    # ----------------------------------------------------------------- helpers

    @property
    def records(self) -> Mapping[str, DocumentRecord]:
        return self.view().records

    @property
    def chunks(self) -> Mapping[str, Chunk]:
        return self.view().chunks

    @property
    def suggestions(self) -> list[str]:
        """The default article's suggested questions."""
        return self.suggestion_cache.get(self.default)

    @staticmethod
    def history(exchanges: list[Exchange]) -> list[dict[str, str]]:
        """The conversation as the assistant expects it: plain question and answer texts."""
        turns: list[dict[str, str]] = []
        for ex in exchanges:
            if ex.answer is None:
                continue
            turns.append({"role": "user", "content": ex.question})
            turns.append({"role": "assistant", "content": ex.answer.answer})
        return turns

    def messages(self, exchanges: list[Exchange], audience: str, article: str | None = None) -> list[dict[str, str]]:
        return render.chat_messages(exchanges, self.view(article).records, self.assistant.disclaimer(audience))

    def panel(self, exchanges: list[Exchange], article: str | None = None) -> str:
        view = self.view(article)
        return render.render_source_panel(exchanges, view.records, view.chunks)

    def write_export(self, exchanges: list[Exchange], article: str | None = None) -> str | None:
        """The conversation as a Markdown file in a fresh folder, for the download button."""
        if not exchanges:
            return None
        view = self.view(article)
        self._prune_exports()
        folder = EXPORT_ROOT / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"conversation-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.md"
        text = render.export_markdown(
            exchanges,
            view.records,
            title=view.title,
            banner=self.assistant.banner(view.id),
            fingerprint=self.fingerprint,
        )
        path.write_text(text, encoding="utf-8")
        return str(path)

    @staticmethod
    def _prune_exports() -> None:
        if not EXPORT_ROOT.is_dir():
            return
        cutoff = time.time() - EXPORT_MAX_AGE_S
        for folder in EXPORT_ROOT.iterdir():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue

    # ----------------------------------------------------------------- events

    def respond(
        self, message: str, exchanges: list[Exchange] | None, audience: str, article: str | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one reply about the session's article: the question and a draft at once, partial
        text, then the final answer.

        Outputs: chat messages, source panel, state, input box, export button.
        """
        exchanges = list(exchanges or [])
        article = article or self.default
        text = message if isinstance(message, str) else ""
        if not text.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        audience = normalize_audience(audience)
        disclaimer = self.assistant.disclaimer(audience)
        shown = self.messages(exchanges, audience, article)
        shown.append({"role": "user", "content": render.render_user_message(text)})
        yield (
            [*shown, {"role": "assistant", "content": render.render_draft("", disclaimer)}],
            gr.skip(),
            gr.skip(),
            "",
            gr.skip(),
        )
        partial = ""
        try:
            final: Answer | None = None
            stream = self.assistant.stream(text, history=self.history(exchanges), audience=audience, article=article)
            for event in stream:
                if isinstance(event, Answer):
                    final = event
                    continue
                partial += str(event)
                yield (
                    [*shown, {"role": "assistant", "content": render.render_draft(partial, disclaimer)}],
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                    gr.skip(),
                )
            if final is None:
                raise RuntimeError("the assistant finished without an answer")
            exchange = Exchange(question=text, answer=final, audience=audience)
        except Exception:  # the reader gets an apology with a reference, the log gets the traceback
            reference = uuid.uuid4().hex[:8]
            log.exception("answering failed (reference %s)", reference)
            exchange = Exchange(question=text, error=reference, audience=audience)
        try:
            done = [*exchanges, exchange]
            chat, panel = self.messages(done, audience, article), self.panel(done, article)
        except Exception:  # a rendering bug must not leave the reader with a stuck draft
            reference = uuid.uuid4().hex[:8]
            log.exception("rendering the answer failed (reference %s)", reference)
            done = [*exchanges, Exchange(question=text, error=reference, audience=audience)]
            chat, panel = self.messages(done, audience, article), self.panel(done, article)
        yield chat, panel, done, gr.skip(), self._export_update(done, article)

    def _export_update(self, exchanges: list[Exchange], article: str | None = None) -> Any:
        try:
            path = self.write_export(exchanges, article)
        except Exception:  # a failed export must not hide the answer
            log.exception("writing the conversation export failed")
            return gr.skip()
        return gr.update(value=path, interactive=path is not None)

    def clear(self, article: str | None = None) -> tuple[Any, ...]:
        """Forget the conversation (outputs: chat, panel, state, input, export button, feedback status)."""
        return [], self.panel([], article), [], "", gr.update(value=None, interactive=False), ""

    # ----------------------------------------------------------------- feedback

    def feedback(
        self, rating: str, comment: str, exchanges: list[Exchange] | None, client: str | None = None
    ) -> tuple[str, Any]:
        """Record a rating of the latest answer (outputs: status line, comment box).

        `client` (the page session) is allowed `ui.feedback_per_minute` ratings a minute. A full
        disk or a read-only log gets a message that says so; the chat goes on either way.
        """
        latest = next(
            ((i, ex) for i, ex in reversed(list(enumerate(exchanges or [], 1))) if ex.answer is not None), None
        )
        if latest is None:
            return '<p class="fb-status">Ask a question first: feedback applies to the latest answer.</p>', gr.skip()
        turn, ex = latest
        assert ex.answer is not None
        wait = self.feedback_rate.check(client) if client else 0.0
        if wait > 0:
            return (
                '<p class="fb-status fb-status-error">That is a lot of feedback in a short time: please wait '
                f"{max(1, round(wait))} seconds before sending more. Your comment is still in the box.</p>",
                gr.skip(),
            )
        ui = self.settings.ui
        try:
            record = feedback_record(
                question=ex.question,
                answer=ex.answer,
                rating=rating,
                comment=comment or "",
                fingerprint=self.fingerprint,
                audience=ex.audience,
            )
            append_jsonl(self.feedback_path, record, max_bytes=ui.feedback_max_bytes, backups=ui.feedback_backups)
        except OSError as exc:
            log.error("saving feedback to %s failed: %s", self.feedback_path, exc)
            return (
                f'<p class="fb-status fb-status-error">Sorry, your feedback could not be saved: {save_problem(exc)}. '
                "The chat still works; please tell the site's operator.</p>",
                gr.skip(),
            )
        except Exception:  # feedback must never break the page
            log.exception("saving feedback failed")
            return (
                '<p class="fb-status fb-status-error">Sorry, your feedback could not be saved. Please try again.</p>',
                gr.skip(),
            )
        word = "helpful" if rating == "helpful" else "not helpful"
        return f'<p class="fb-status fb-status-ok">Thank you. Answer {turn} was marked {word}.</p>', ""

    def audience_note(self, audience: str) -> str:
        return render.render_audience_note(self.assistant.disclaimer(audience))

    # ----------------------------------------------------------------- API

    def busy_answer(self, question: str, audience: str, busy: Busy) -> Answer:
        """Not answered for now (see `admission`): why, and when to try again; nothing was searched."""
        seconds = busy.retry_after_s
        if busy.reason == "client":
            many = "question is" if busy.in_flight == 1 else f"{busy.in_flight} questions are"
            text = f"Your earlier {many} still being answered. Please wait for the answer, then ask again."
        else:
            text = "The assistant is busy answering other questions right now. Please ask again in a few seconds."
        text += " If this is an emergency, call your local emergency number now."
        try:
            who = normalize_audience(audience)
        except InputError:
            who = "clinician"
        return Answer(
            answer=text,
            refused=True,
            refusal_reason="busy",
            standalone_question=question.strip() if isinstance(question, str) else "",
            notice=f"Busy: not answered yet. Try again in about {seconds} seconds.",
            disclaimer=self.assistant.disclaimer(who),
            audience=who,
            generator=self.assistant.generator_info,
        )

    def busy(
        self, message: str, exchanges: list[Exchange] | None, audience: str, busy: Busy, article: str | None = None
    ) -> tuple[Any, ...]:
        """The chat's busy reply: shown under the question, kept out of the conversation (and its history),
        and the question stays in the box for another try. Outputs as `respond`."""
        exchanges = list(exchanges or [])
        text = message if isinstance(message, str) else ""
        answer = self.busy_answer(text, audience, busy)
        records = self.view(article).records
        shown = [
            *self.messages(exchanges, normalize_audience(answer.audience), article),
            {"role": "user", "content": render.render_user_message(text)},
            {"role": "assistant", "content": render.render_answer(answer, text, len(exchanges) + 1, records)},
        ]
        return shown, gr.skip(), gr.skip(), gr.skip(), gr.skip()

    def invalid(self, message: str, audience: str) -> dict[str, Any]:
        """A friendly invalid_input Answer for malformed API calls (bad history_json, unknown article)."""
        generator = self.assistant.generator_info
        answer = Answer(
            answer=message,
            refused=True,
            refusal_reason="invalid_input",
            triage="invalid_input",
            disclaimer=self.assistant.disclaimer(audience),
            audience=normalize_audience(audience),
            generator=generator,
        )
        return answer.model_dump(mode="json")

    def api_ask(
        self, question: str, history_json: str = "[]", audience: str = "clinician", article: str | None = ""
    ) -> dict[str, Any]:
        audience = audience if isinstance(audience, str) else "clinician"
        raw = history_json if isinstance(history_json, str) else "[]"
        try:
            history = json.loads(raw) if raw.strip() else []
        except json.JSONDecodeError as exc:
            return self.invalid(
                f"history_json is not valid JSON ({exc.msg} at character {exc.pos}); send a JSON list of "
                '{"role": "user" | "assistant", "content": "..."} messages, or "[]".',
                audience,
            )
        if not isinstance(history, list):
            return self.invalid('history_json must be a JSON list of {"role", "content"} messages, or "[]".', audience)
        try:
            requested = parse_article(article)
        except InputError as exc:
            return self.invalid(f"{exc}.", audience)
        try:
            article_id = self.view(requested).id  # ArticleError when the library has no such article
            answer = self.assistant.ask(
                question if isinstance(question, str) else "", history=history, audience=audience, article=article_id
            )
        except ArticleError as exc:
            return self.invalid(f'article: {exc} (send "" for the default article).', audience)
        except InputError as exc:
            return self.invalid(f"history_json: {exc}.", audience)
        except Exception as exc:  # API callers get a message, not a traceback
            reference = uuid.uuid4().hex[:8]
            log.exception("API answering failed (reference %s)", reference)
            raise gr.Error(f"The assistant could not answer (reference {reference}). Please try again.") from exc
        return answer.model_dump(mode="json")
