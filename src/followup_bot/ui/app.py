"""The chat page: a Gradio 6 Blocks app on top of `Assistant`, and the `/ask` API endpoint.

Design choices, and why:
- The conversation lives in per-session `gr.State` (a list of `Exchange`); the chat is re-rendered
  from it on every update, so what a reader sees, what the assistant is given as history and what
  is exported can never drift apart.
- Replies stream as a visibly "unverified" draft, then the verified Answer replaces it: the
  extractive and LLM generators both stream before verification removes unsupported sentences.
- The disclaimer banner is static markup from the framing prompts; no setting can hide it, and
  every assistant message, even an error, ends with the audience's disclaimer.
- The page loads nothing from outside the server: the default theme's fonts are bundled with
  Gradio, our script is inlined, and answers are escaped HTML with no images.
- Every answering event (chat, suggestions, API) shares one queue slot pool (`concurrency_id`),
  so `ui.concurrency_limit` bounds the work on the machine, not per button.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import gradio as gr

from followup_bot.assistant import Assistant, InputError, normalize_audience
from followup_bot.models import Answer
from followup_bot.settings import ConfigError, Settings, load_settings
from followup_bot.ui import render
from followup_bot.ui.feedback import append_jsonl, feedback_record
from followup_bot.ui.render import Exchange

log = logging.getLogger("followup_bot.ui")

AUDIENCES = [("Clinician", "clinician"), ("Patient or caregiver", "patient")]
CONCURRENCY_ID = "answer"
EXPORT_ROOT = Path(tempfile.gettempdir()) / "followup-bot-exports"
EXPORT_MAX_AGE_S = 3600
SUGGESTION_CHECK_BUDGET_S = 3.0
CHAT_PLACEHOLDER = (
    "**Ask a follow-up question about the article and the publications it cites.**\n\n"
    "Every statement in an answer is quoted from those documents and carries a marker; "
    "click a marker to see the exact passage and where it comes from."
)


def asset(name: str) -> str:
    """Read a file shipped beside this module (package data: ui/*.css, ui/*.js)."""
    return resources.files("followup_bot.ui").joinpath(name).read_text(encoding="utf-8")


def page_theme() -> gr.themes.Base:
    """The default theme, whose fonts are `LocalFont`s served by our own server (no Google Fonts)."""
    return gr.themes.Default(primary_hue="blue", secondary_hue="sky", neutral_hue="slate", radius_size="md")


def resolve_auth(settings: Settings) -> tuple[str, str] | None:
    """Basic-auth credentials, or None; refuse to start without a password rather than run open."""
    user = settings.ui.auth_user.strip()
    if not user:
        return None
    env = settings.ui.auth_password_env
    password = os.environ.get(env, "")
    if not password:
        raise ConfigError(
            f"ui.auth_user is set to {user!r} but the environment variable {env} (ui.auth_password_env) holding "
            "the password is empty or unset; set it, or clear ui.auth_user to serve without a login"
        )
    return (user, password)


class ChatPage:
    """The handlers behind the page; one instance per app, shared by all sessions (stateless)."""

    def __init__(self, assistant: Assistant, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        view = assistant.article()
        self.records = view.records
        self.chunks = view.chunks
        self.feedback_path = settings.resolve(settings.ui.feedback_path)
        self.fingerprint = settings.fingerprint()
        self.suggestions = self._suggestions()

    # ----------------------------------------------------------------- helpers

    def _suggestions(self) -> list[str]:
        """Questions from the article's headings; with the (cheap) extractive generator, the ones
        the assistant can actually answer come first, so a first click rarely meets a refusal."""
        candidates = render.suggested_questions(self.chunks.values(), self.records, limit=12)
        if self.assistant.generator_info.provider != "extractive":
            return candidates[: render.MAX_SUGGESTIONS]
        answered, other = [], []
        deadline = time.monotonic() + SUGGESTION_CHECK_BUDGET_S
        for question in candidates:
            if time.monotonic() > deadline:
                other.append(question)
                continue
            try:
                ok = not self.assistant.ask(question).refused
            except Exception:  # noqa: BLE001 - a suggestion check must never stop the page from starting
                ok = False
            (answered if ok else other).append(question)
        return (answered + other)[: render.MAX_SUGGESTIONS] if answered else candidates[: render.MAX_SUGGESTIONS]

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

    def messages(self, exchanges: list[Exchange], audience: str) -> list[dict[str, str]]:
        return render.chat_messages(exchanges, self.records, self.assistant.disclaimer(audience))

    def panel(self, exchanges: list[Exchange]) -> str:
        return render.render_source_panel(exchanges, self.records, self.chunks)

    def write_export(self, exchanges: list[Exchange]) -> str | None:
        """The conversation as a Markdown file in a fresh folder, for the download button."""
        if not exchanges:
            return None
        self._prune_exports()
        folder = EXPORT_ROOT / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"conversation-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.md"
        text = render.export_markdown(
            exchanges,
            self.records,
            title=self.assistant.title,
            banner=self.assistant.banner(),
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

    def respond(self, message: str, exchanges: list[Exchange] | None, audience: str) -> Iterator[tuple[Any, ...]]:
        """Stream one reply: the question and a draft at once, partial text, then the final answer.

        Outputs: chat messages, source panel, state, input box, export button.
        """
        exchanges = list(exchanges or [])
        text = message if isinstance(message, str) else ""
        if not text.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        audience = normalize_audience(audience)
        disclaimer = self.assistant.disclaimer(audience)
        shown = self.messages(exchanges, audience)
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
            for event in self.assistant.stream(text, history=self.history(exchanges), audience=audience):
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
            chat, panel = self.messages(done, audience), self.panel(done)
        except Exception:  # a rendering bug must not leave the reader with a stuck draft
            reference = uuid.uuid4().hex[:8]
            log.exception("rendering the answer failed (reference %s)", reference)
            done = [*exchanges, Exchange(question=text, error=reference, audience=audience)]
            chat, panel = self.messages(done, audience), self.panel(done)
        yield chat, panel, done, gr.skip(), self._export_update(done)

    def _export_update(self, exchanges: list[Exchange]) -> Any:
        try:
            path = self.write_export(exchanges)
        except Exception:  # a failed export must not hide the answer
            log.exception("writing the conversation export failed")
            return gr.skip()
        return gr.update(value=path, interactive=path is not None)

    def clear(self) -> tuple[Any, ...]:
        """Forget the conversation (outputs: chat, panel, state, input, export button, feedback status)."""
        return [], self.panel([]), [], "", gr.update(value=None, interactive=False), ""

    def feedback(self, rating: str, comment: str, exchanges: list[Exchange] | None) -> tuple[str, Any]:
        """Record a rating of the latest answer (outputs: status line, comment box)."""
        latest = next(
            ((i, ex) for i, ex in reversed(list(enumerate(exchanges or [], 1))) if ex.answer is not None), None
        )
        if latest is None:
            return '<p class="fb-status">Ask a question first: feedback applies to the latest answer.</p>', gr.skip()
        turn, ex = latest
        assert ex.answer is not None
        try:
            record = feedback_record(
                question=ex.question,
                answer=ex.answer,
                rating=rating,
                comment=comment or "",
                fingerprint=self.fingerprint,
                audience=ex.audience,
            )
            append_jsonl(self.feedback_path, record)
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

    def invalid(self, message: str, audience: str) -> dict[str, Any]:
        """A friendly invalid_input Answer for malformed API calls (bad history_json)."""
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

    def api_ask(self, question: str, history_json: str = "[]", audience: str = "clinician") -> dict[str, Any]:
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
            answer = self.assistant.ask(
                question if isinstance(question, str) else "", history=history, audience=audience
            )
        except InputError as exc:
            return self.invalid(f"history_json: {exc}.", audience)
        except Exception as exc:  # API callers get a message, not a traceback
            reference = uuid.uuid4().hex[:8]
            log.exception("API answering failed (reference %s)", reference)
            raise gr.Error(f"The assistant could not answer (reference {reference}). Please try again.") from exc
        return answer.model_dump(mode="json")


def _header(title: str) -> str:
    return (
        '<header class="fb-header"><p class="fb-kicker">Follow-up questions</p>'
        f'<h1 class="fb-h1">{render.esc(title)}</h1>'
        '<p class="fb-sub">Answers come only from the article and the publications it cites, '
        "each statement quoted and marked.</p></header>"
    )


def _footer(assistant: Assistant, settings: Settings) -> str:
    generator = assistant.generator_info
    return (
        '<p class="fb-footer">Answers by the <code>'
        f"{render.esc(generator.provider)}</code> generator ({render.esc(generator.model or 'default')}) · configuration "
        f"<code>{render.esc(settings.fingerprint())}</code> · feedback is stored on this server only.</p>"
    )


def build_app(assistant: Assistant, settings: Settings | None = None) -> gr.Blocks:
    """Build the page (not launched); tests launch it on a free port, `serve` on the configured one."""
    settings = settings or assistant.settings
    page = ChatPage(assistant, settings)
    private: dict[str, Any] = {"api_visibility": "private"}
    answering: dict[str, Any] = {"concurrency_id": CONCURRENCY_ID, "show_progress": "hidden", **private}

    with gr.Blocks(title=f"Follow-up questions: {assistant.title}", analytics_enabled=False) as demo:
        gr.HTML(_header(assistant.title), elem_id="fb-header-wrap")
        gr.HTML(render.render_banner(assistant.banner()), elem_id="fb-banner-wrap")
        state = gr.State([])
        with gr.Row(equal_height=False, elem_id="fb-main"):
            with gr.Column(scale=3, min_width=340, elem_id="fb-chat-col"):
                with gr.Column(elem_id="fb-audience-group", min_width=0):
                    audience = gr.Radio(
                        choices=AUDIENCES, value="clinician", label="Answer framing for", elem_id="fb-audience"
                    )
                    note = gr.HTML(page.audience_note("clinician"), elem_id="fb-audience-note")
                chatbot = gr.Chatbot(
                    value=[],
                    elem_id="fb-chat",
                    height=520,
                    show_label=False,
                    buttons=[],
                    feedback_options=None,
                    latex_delimiters=[],
                    placeholder=CHAT_PLACEHOLDER,
                    layout="bubble",
                    autoscroll=True,
                )
                with gr.Row(elem_id="fb-input-row", equal_height=True):
                    box = gr.Textbox(
                        placeholder="Ask a follow-up question about the article…",
                        show_label=False,
                        lines=1,
                        max_lines=5,
                        scale=8,
                        min_width=200,
                        elem_id="fb-input",
                        container=False,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="fb-send")
                with gr.Column(elem_id="fb-suggest-block", min_width=0):
                    gr.HTML('<p class="fb-label">Suggested questions, from the article\'s sections</p>')
                    with gr.Row(elem_id="fb-suggestions"):
                        suggestion_buttons = [
                            gr.Button(q, size="sm", elem_classes=["fb-suggestion"], min_width=0, scale=0)
                            for q in page.suggestions
                        ]
                with gr.Row(elem_id="fb-actions"):
                    clear = gr.Button(
                        "Clear chat", size="sm", variant="secondary", elem_id="fb-clear", scale=0, min_width=110
                    )
                    download = gr.DownloadButton(
                        "Export as Markdown",
                        value=None,
                        size="sm",
                        variant="secondary",
                        interactive=False,
                        elem_id="fb-export",
                        scale=0,
                        min_width=170,
                    )
                with gr.Column(elem_id="fb-feedback", min_width=0):
                    gr.HTML('<p class="fb-label">Was the latest answer helpful?</p>')
                    with gr.Row(elem_id="fb-feedback-row", equal_height=True):
                        helpful = gr.Button("Helpful", size="sm", elem_id="fb-helpful", scale=0, min_width=100)
                        unhelpful = gr.Button("Not helpful", size="sm", elem_id="fb-unhelpful", scale=0, min_width=110)
                        comment = gr.Textbox(
                            placeholder="Optional comment: what was wrong or missing?",
                            show_label=False,
                            lines=1,
                            max_lines=4,
                            max_length=2000,
                            scale=4,
                            min_width=180,
                            elem_id="fb-comment",
                            container=False,
                        )
                    status = gr.HTML("", elem_id="fb-feedback-status")
            with gr.Column(scale=2, min_width=320, elem_id="fb-sources-col"):
                panel = gr.HTML(page.panel([]), elem_id="fb-sources")
        gr.HTML(_footer(assistant, settings), elem_id="fb-footer-wrap")

        outputs = [chatbot, panel, state, box, download]
        box.submit(page.respond, [box, state, audience], outputs, **answering)
        send.click(page.respond, [box, state, audience], outputs, **answering)
        for button, question in zip(suggestion_buttons, page.suggestions, strict=True):

            def ask_suggestion(
                exchanges: list[Exchange], audience_value: str, question: str = question
            ) -> Iterator[tuple[Any, ...]]:
                yield from page.respond(question, exchanges, audience_value)

            button.click(ask_suggestion, [state, audience], outputs, **answering)
        clear.click(page.clear, None, [chatbot, panel, state, box, download, status], queue=False, **private)
        chatbot.clear(page.clear, None, [chatbot, panel, state, box, download, status], queue=False, **private)
        audience.change(page.audience_note, audience, note, queue=False, **private)

        def rate_helpful(text: str, exchanges: list[Exchange]) -> tuple[str, Any]:
            return page.feedback("helpful", text, exchanges)

        def rate_unhelpful(text: str, exchanges: list[Exchange]) -> tuple[str, Any]:
            return page.feedback("not_helpful", text, exchanges)

        helpful.click(rate_helpful, [comment, state], [status, comment], **private)
        unhelpful.click(rate_unhelpful, [comment, state], [status, comment], **private)

        def ask(question: str, history_json: str = "[]", audience: str = "clinician") -> dict:
            """Answer one question strictly from the article and its sources; returns the Answer as JSON.

            Args:
                question: the reader's message.
                history_json: the conversation so far, a JSON list of {"role": "user"|"assistant", "content": "..."}.
                audience: "clinician" or "patient".
            """
            return page.api_ask(question, history_json, audience)

        gr.api(ask, api_name="ask", concurrency_id=CONCURRENCY_ID)

    demo.queue(default_concurrency_limit=settings.ui.concurrency_limit, max_size=settings.ui.max_queue)
    demo.fb_page = page  # type: ignore[attr-defined]  # tests reach the handlers without a browser
    return demo


def launch(
    demo: gr.Blocks,
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> str:
    """Start the server with the page's theme, CSS and script; returns the local URL."""
    EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    server_name = host or settings.ui.host
    server_port = port or settings.ui.port
    try:
        _, url, _ = demo.launch(
            server_name=server_name,
            server_port=server_port,
            auth=auth,
            auth_message="Sign in to the follow-up assistant." if auth else None,
            prevent_thread_lock=prevent_thread_lock,
            quiet=quiet,
            share=False,
            inbrowser=False,
            show_error=False,
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            enable_monitoring=False,
            footer_links=["api"],
            theme=page_theme(),
            css=asset("style.css"),
            head=f"<style>{asset('page.css')}</style><script>{asset('chips.js')}</script>",
            allowed_paths=[str(EXPORT_ROOT)],
        )
    except OSError as exc:
        raise ConfigError(
            f"cannot serve on {server_name}:{server_port} ({exc}); choose another --port or --host"
        ) from None
    return str(url)


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """`followup-bot serve`: check auth, build the assistant (ingesting if needed), serve until stopped."""
    settings = settings or load_settings()
    auth = resolve_auth(settings)  # before the slow start: a misconfiguration fails in a second
    assistant = Assistant.from_settings(settings)
    demo = build_app(assistant, settings)
    launch(demo, settings, host=host, port=port, auth=auth)
