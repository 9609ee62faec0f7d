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
  Gradio, our script is inlined, and answers are escaped HTML with no images. The chat runs no
  Markdown on messages (`render_markdown=False`): they are our own HTML, so a user's `![x](…)`
  stays text. `guard.PageGuard` adds a Content-Security-Policy and refuses what the page does
  not use (uploads, remote files, the proxy); run history and static workers are off.
- Every answering event (chat, suggestions, API) goes through one admission gate (`admission`,
  `lanes`): emergency and crisis replies are answered at once, questions wait for one of
  `ui.concurrency_limit` workers in a line of at most `ui.max_queue`, a client has at most its
  share in flight, and whoever is turned away gets a friendly "busy, try again" answer. Gradio's
  own queue only dispatches (no size limit, no concurrency limit on these events), because its
  limits answer HTTP 503 before anything can tell an emergency from a question.
- Failed sign-ins are throttled per address (`login.LoginThrottle`) when auth is on.
- `serve` gives torch one thread and freezes the start-up objects out of the garbage collector
  (`tuning`): both measured on 2 cores.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from importlib import resources
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from followup_bot.assistant import Assistant
from followup_bot.settings import ConfigError, Settings, load_settings
from followup_bot.ui import render
from followup_bot.ui.admission import Gate
from followup_bot.ui.guard import PageGuard, inline_script_hashes
from followup_bot.ui.handlers import EXPORT_ROOT, ChatPage
from followup_bot.ui.lanes import Lanes
from followup_bot.ui.login import LoginThrottle
from followup_bot.ui.render import Exchange
from followup_bot.ui.tuning import limit_model_threads, settle_garbage_collector

__all__ = ["ChatPage", "build_app", "launch", "page_head", "resolve_auth", "serve"]

AUDIENCES = [("Clinician", "clinician"), ("Patient or caregiver", "patient")]
CONCURRENCY_ID = "answer"
# Gradio job slots beyond the questions the gate may hold (workers + waiting line): room for safety
# replies, busy answers, feedback and the like while the line is full.
SPARE_JOB_SLOTS = 64
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


def build_app(assistant: Assistant, settings: Settings | None = None) -> gr.Blocks:
    """Build the page (not launched); tests launch it on a free port, `serve` on the configured one."""
    settings = settings or assistant.settings
    page = ChatPage(assistant, settings)
    ui = settings.ui
    gate = Gate(
        workers=ui.concurrency_limit,
        waiting=ui.max_queue,
        per_session=ui.max_in_flight_per_session,
        per_ip=ui.max_in_flight_per_ip,
    )
    lanes = Lanes(page, gate)
    private: dict[str, Any] = {"api_visibility": "private"}
    # No Gradio concurrency limit on answering events: the gate queues them (see the module notes).
    answering: dict[str, Any] = {
        "concurrency_id": CONCURRENCY_ID,
        "concurrency_limit": None,
        "show_progress": "hidden",
        **private,
    }

    with gr.Blocks(title=f"Follow-up questions: {assistant.title}", analytics_enabled=False) as demo:
        gr.HTML(render.render_header(assistant.title), elem_id="fb-header-wrap")
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
                    render_markdown=False,  # messages are our escaped HTML: Markdown must not re-read them
                    sanitize_html=True,
                    allow_tags=False,
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
        generator = assistant.generator_info
        footer = render.render_footer(generator.provider, generator.model, page.fingerprint)
        gr.HTML(footer, elem_id="fb-footer-wrap")

        outputs = [chatbot, panel, state, box, download]

        async def respond(
            message: str, exchanges: list[Exchange], audience_value: str, request: gr.Request
        ) -> AsyncIterator[tuple[Any, ...]]:
            async for update in lanes.respond(request, message, exchanges, audience_value):
                yield update

        box.submit(respond, [box, state, audience], outputs, **answering)
        send.click(respond, [box, state, audience], outputs, **answering)
        for button, question in zip(suggestion_buttons, page.suggestions, strict=True):

            async def ask_suggestion(
                exchanges: list[Exchange], audience_value: str, request: gr.Request, question: str = question
            ) -> AsyncIterator[tuple[Any, ...]]:
                async for update in lanes.respond(request, question, exchanges, audience_value):
                    yield update

            button.click(ask_suggestion, [state, audience], outputs, **answering)
        clear.click(page.clear, None, [chatbot, panel, state, box, download, status], queue=False, **private)
        chatbot.clear(page.clear, None, [chatbot, panel, state, box, download, status], queue=False, **private)
        audience.change(page.audience_note, audience, note, queue=False, **private)

        def rate_helpful(text: str, exchanges: list[Exchange], request: gr.Request) -> tuple[str, Any]:
            return page.feedback("helpful", text, exchanges, client=request.session_hash)

        def rate_unhelpful(text: str, exchanges: list[Exchange], request: gr.Request) -> tuple[str, Any]:
            return page.feedback("not_helpful", text, exchanges, client=request.session_hash)

        helpful.click(rate_helpful, [comment, state], [status, comment], **private)
        unhelpful.click(rate_unhelpful, [comment, state], [status, comment], **private)

        async def ask(
            question: str, history_json: str = "[]", audience: str = "clinician", request: gr.Request | None = None
        ) -> dict:
            """Answer one question strictly from the article and its sources; returns the Answer as JSON.

            Args:
                question: the reader's message.
                history_json: the conversation so far, a JSON list of {"role": "user"|"assistant", "content": "..."}.
                audience: "clinician" or "patient".
            """
            return await lanes.ask(request, question, history_json, audience)

        gr.api(ask, api_name="ask", concurrency_id=CONCURRENCY_ID, concurrency_limit=None)

    # Other events (ratings) keep a small limit; no size limit: the gate turns questions away kindly instead.
    demo.queue(default_concurrency_limit=ui.concurrency_limit, max_size=None)
    demo.fb_page = page  # tests reach the handlers without a browser
    demo.fb_gate = gate
    return demo


def job_slots(settings: Settings) -> int:
    """Gradio's `max_threads`: its job slots (and threads for plain functions). Every question the gate may
    hold takes a slot while it waits, so there must be more than those, or a safety reply would queue in Gradio."""
    return settings.ui.concurrency_limit + settings.ui.max_queue + SPARE_JOB_SLOTS


def page_head() -> str:
    """What `launch(head=...)` adds to the page: page-level CSS, and the chips script (hashed by the CSP)."""
    return f"<style>{asset('page.css')}</style><script>{asset('chips.js')}</script>"


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
    """Start the server with the page's theme, CSS and script; returns the local URL.

    Besides the look: `PageGuard` (CSP, no uploads or remote files), no run history (it would keep
    readers' questions in the browser and add routes that call the Hugging Face Hub), no static
    file workers (they would serve uploads and files on ports the guard does not cover), and a
    one-byte upload cap in case a future route escaped the guard.
    """
    EXPORT_ROOT.mkdir(parents=True, exist_ok=True)
    head = page_head()
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
            head=head,
            allowed_paths=[str(EXPORT_ROOT)],
            app_kwargs={
                "middleware": [
                    Middleware(PageGuard, script_hashes=inline_script_hashes(head)),
                    Middleware(
                        LoginThrottle,
                        max_failures=settings.ui.login_max_failures,
                        lockout_s=settings.ui.login_lockout_s,
                    ),
                ]
            },
            run_history=False,
            num_workers=0,
            max_threads=job_slots(settings),
            max_file_size=1,
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
    limit_model_threads(settings.ui.torch_threads)
    assistant = Assistant.from_settings(settings)
    demo = build_app(assistant, settings)
    settle_garbage_collector()
    launch(demo, settings, host=host, port=port, auth=auth)
