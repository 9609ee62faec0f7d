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
  limits answer HTTP 503 before anything can tell an emergency from a question. Triage reads
  the session's (or the API call's) article only to check it exists: an unknown one is invalid
  input, answered at once.
- Opening an article (on page load, from `?article=ID`, or from the picker) may build the
  article's indexes and check its suggested questions with real answers, so it has a Gradio
  concurrency group of its own (`OPEN_ID`) limited to `ui.concurrency_limit`: bounded work, and
  no 503 either (the queue has no size limit). It does not go through the gate: a page must open
  even while the line of questions is full.
- A conversation is about one article: a per-session `gr.State` holds its id, every answer uses
  it, and picking another article (a filterable `gr.Dropdown` of "title — id") starts a new
  conversation and cancels a reply still streaming. The picker's value is mirrored into the
  URL's `?article=` in the browser, so a reload or a shared link opens the same article.
- Failed sign-ins are throttled per address (`login.LoginThrottle`) when auth is on.
- `serve` gives torch one thread and freezes the start-up objects out of the garbage collector
  (`tuning`): both measured on 2 cores. How the server is launched is in `server`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from followup_bot.assistant import Assistant
from followup_bot.settings import Settings, load_settings
from followup_bot.ui import render
from followup_bot.ui.admission import Gate
from followup_bot.ui.articles import ARTICLE_PARAM, article_choices
from followup_bot.ui.handlers import ChatPage
from followup_bot.ui.lanes import Lanes
from followup_bot.ui.render import Exchange
from followup_bot.ui.server import launch, page_head, resolve_auth
from followup_bot.ui.tuning import limit_model_threads, settle_garbage_collector

__all__ = ["ChatPage", "build_app", "launch", "page_head", "resolve_auth", "serve"]

AUDIENCES = [("Clinician", "clinician"), ("Patient or caregiver", "patient")]
CONCURRENCY_ID = "answer"
OPEN_ID = "open"  # opening an article: its own bounded group (see the module notes)
CHAT_PLACEHOLDER = (
    "**Ask a follow-up question about the article and the publications it cites.**\n\n"
    "Every statement in an answer is quoted from those documents and carries a marker; "
    "click a marker to see the exact passage and where it comes from."
)
# Keeps `?article=` in the address bar in step with the picker (replaceState: no navigation, no reload).
URL_SYNC_JS = f"""(id) => {{
  try {{
    const url = new URL(window.location.href);
    if (id && url.searchParams.get("{ARTICLE_PARAM}") !== id) {{
      url.searchParams.set("{ARTICLE_PARAM}", id);
      window.history.replaceState(window.history.state, "", url);
    }}
  }} catch (e) {{ /* an address we cannot rewrite stays as it is */ }}
  return [];
}}"""


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
    opening: dict[str, Any] = {
        "concurrency_id": OPEN_ID,
        "concurrency_limit": ui.concurrency_limit,
        "show_progress": "hidden",
        **private,
    }

    default = page.view()
    initial = page.suggestions

    with gr.Blocks(title="Follow-up questions", analytics_enabled=False) as demo:
        header = gr.HTML(render.render_header(default.title), elem_id="fb-header-wrap")
        picker = gr.Dropdown(
            choices=article_choices(assistant),
            value=default.id,
            label="Article",
            info="Type to search the library by title or id. Another article starts a new conversation.",
            filterable=True,
            interactive=True,
            elem_id="fb-article",
        )
        notice = gr.HTML("", elem_id="fb-article-notice", visible=False)
        banner = gr.HTML(render.render_banner(assistant.banner(default.id)), elem_id="fb-banner-wrap")
        state = gr.State([])
        article = gr.State(default.id)
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
                with gr.Column(elem_id="fb-suggest-block", min_width=0, visible=bool(initial)) as suggest_block:
                    gr.HTML('<p class="fb-label">Suggested questions, from the article\'s sections</p>')
                    with gr.Row(elem_id="fb-suggestions"):
                        suggestion_buttons = [  # one per slot; opening an article relabels or hides them
                            gr.Button(
                                initial[i] if i < len(initial) else "",
                                visible=i < len(initial),
                                size="sm",
                                elem_classes=["fb-suggestion"],
                                min_width=0,
                                scale=0,
                            )
                            for i in range(render.MAX_SUGGESTIONS)
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
            message: str, exchanges: list[Exchange], audience_value: str, article_id: str, request: gr.Request
        ) -> AsyncIterator[tuple[Any, ...]]:
            async for update in lanes.respond(request, message, exchanges, audience_value, article_id):
                yield update

        asked: list[dict[str, Any]] = [
            box.submit(respond, [box, state, audience, article], outputs, **answering),
            send.click(respond, [box, state, audience, article], outputs, **answering),
            # a suggestion button's label is its question
            *(b.click(respond, [b, state, audience, article], outputs, **answering) for b in suggestion_buttons),
        ]
        cleared = [chatbot, panel, state, box, download, status]
        clear.click(page.clear, article, cleared, queue=False, **private)
        chatbot.clear(page.clear, article, cleared, queue=False, **private)
        # in the order of articles.FIXED_OUTPUTS, then the suggestions
        opened = [article, picker, header, banner, notice, chatbot, panel, state, download, status]
        opened += [suggest_block, *suggestion_buttons]
        demo.load(page.load, None, opened, **opening)
        picker.input(page.switch, [picker, article], opened, cancels=asked, **opening)
        picker.change(None, picker, None, js=URL_SYNC_JS, queue=False, **private)
        audience.change(page.audience_note, audience, note, queue=False, **private)

        def rate_helpful(text: str, exchanges: list[Exchange], request: gr.Request) -> tuple[str, Any]:
            return page.feedback("helpful", text, exchanges, client=request.session_hash)

        def rate_unhelpful(text: str, exchanges: list[Exchange], request: gr.Request) -> tuple[str, Any]:
            return page.feedback("not_helpful", text, exchanges, client=request.session_hash)

        helpful.click(rate_helpful, [comment, state], [status, comment], **private)
        unhelpful.click(rate_unhelpful, [comment, state], [status, comment], **private)

        async def ask(
            question: str,
            history_json: str = "[]",
            audience: str = "clinician",
            article: str = "",
            request: gr.Request | None = None,
        ) -> dict:
            """Answer one question strictly from an article and its sources; returns the Answer as JSON.

            Args:
                question: the reader's message.
                history_json: the conversation so far, a JSON list of {"role": "user"|"assistant", "content": "..."}.
                audience: "clinician" or "patient".
                article: an article id from the library (`followup-bot articles`); "" means the default article.
            """
            return await lanes.ask(request, question, history_json, audience, article)

        gr.api(ask, api_name="ask", concurrency_id=CONCURRENCY_ID, concurrency_limit=None)

    # Other events (ratings) keep a small limit; no size limit: the gate turns questions away kindly instead.
    demo.queue(default_concurrency_limit=ui.concurrency_limit, max_size=None)
    demo.fb_page = page  # tests reach the handlers without a browser
    demo.fb_gate = gate
    return demo


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """`followup-bot serve`: check auth, build the assistant (ingesting if needed), serve until stopped."""
    settings = settings or load_settings()
    auth = resolve_auth(settings)  # before the slow start: a misconfiguration fails in a second
    limit_model_threads(settings.ui.torch_threads)
    assistant = Assistant.from_settings(settings)
    demo = build_app(assistant, settings)
    settle_garbage_collector()
    launch(demo, settings, host=host, port=port, auth=auth)
