"""The chat page's server side: the `/ask` API through gradio_client against a real server, and
the page's handlers (streaming, errors, feedback, export, clear) driven directly.

The server runs in-process on a free port with the session's real assistant (real embeddings,
real Chroma store), so these tests exercise what `followup-bot serve` serves.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from followup_bot.models import Answer
from followup_bot.settings import ConfigError, Settings
from followup_bot.ui.feedback import answer_id, read_jsonl
from support import AUTH, free_port, signed_in_server, with_feedback_file

pytestmark = pytest.mark.integration

RAT_QUESTION = "Did lamotrigine reduce ketamine self-administration in rats?"
LETTER = "journal.pmed.0030205"  # "Mischievous Odds Ratios", imported by the `library_settings` fixture
LETTER_QUESTION = "Is an odds ratio the same as a relative risk?"


@pytest.fixture(scope="module")
def ui_settings(session_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return with_feedback_file(session_settings, tmp_path_factory.mktemp("ui-api"))


@pytest.fixture(scope="module")
def app(assistant: Any, ui_settings: Settings) -> Iterator[Any]:
    from followup_bot.ui import build_app

    yield build_app(assistant, ui_settings)


@pytest.fixture(scope="module")
def server_url(app: Any, ui_settings: Settings) -> Iterator[str]:
    from followup_bot.ui import launch

    url = launch(app, ui_settings, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    app.close()


@pytest.fixture(scope="module")
def client(server_url: str) -> Any:
    from gradio_client import Client

    return Client(server_url, verbose=False, analytics_enabled=False, download_files=False)


@pytest.fixture(scope="module")
def library_app(library_assistant: Any, library_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The page over a library of two articles: the corpus article (the default) and the PLOS letter."""
    from followup_bot.ui import build_app

    return build_app(library_assistant, with_feedback_file(library_settings, tmp_path_factory.mktemp("ui-library")))


@pytest.fixture(scope="module")
def library_client(library_app: Any, library_settings: Settings) -> Iterator[Any]:
    from gradio_client import Client

    from followup_bot.ui import launch

    url = launch(
        library_app, library_settings, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True
    )
    yield Client(url, verbose=False, analytics_enabled=False, download_files=False)
    library_app.close()


# ----------------------------------------------------------------------------- /ask over HTTP


def test_the_ask_endpoint_returns_a_grounded_answer_whose_markers_all_resolve(client: Any) -> None:
    result = client.predict(RAT_QUESTION, "[]", "clinician", api_name="/ask")
    answer = Answer.model_validate(result)
    assert not answer.refused and answer.citations
    markers = set(re.findall(r"\[[A-Za-z0-9-]+\]", answer.answer))
    assert markers == {c.marker for c in answer.citations}
    assert all(c.quote for c in answer.citations)
    assert answer.disclaimer.startswith("For healthcare professionals")
    assert set(result) >= {
        "answer",
        "citations",
        "refused",
        "refusal_reason",
        "standalone_question",
        "disclaimer",
        "related",
        "generator",
        "verification",
        "timings_ms",
    }


def test_the_ask_endpoint_reads_the_history_to_answer_a_follow_up(client: Any) -> None:
    first = client.predict(RAT_QUESTION, "[]", "clinician", api_name="/ask")
    history = json.dumps([{"role": "user", "content": RAT_QUESTION}, {"role": "assistant", "content": first["answer"]}])
    follow = client.predict("What about in humans?", history, "clinician", api_name="/ask")
    assert follow["standalone_question"] != "What about in humans?"
    assert "rats" in follow["standalone_question"].lower() or follow["citations"]


@pytest.mark.parametrize(
    "history_json, hint",
    [
        ("[{not json", "not valid JSON"),
        ('{"role": "user"}', "must be a JSON list"),
        ('[{"role": "robot", "content": "hi"}]', "history_json: history item 0"),
    ],
)
def test_a_malformed_history_gets_a_friendly_invalid_input_answer_not_an_error(
    client: Any, history_json: str, hint: str
) -> None:
    result = client.predict("Which journal was it in?", history_json, "clinician", api_name="/ask")
    assert result["refused"] is True and result["refusal_reason"] == "invalid_input"
    assert hint in result["answer"] and "Traceback" not in result["answer"]
    assert result["disclaimer"]


def test_the_patient_audience_changes_the_framing_of_the_answer(client: Any) -> None:
    clinician = client.predict(RAT_QUESTION, "", "clinician", api_name="/ask")
    patient = client.predict(RAT_QUESTION, "", "patient", api_name="/ask")
    assert patient["disclaimer"] != clinician["disclaimer"] and "not medical advice" in patient["disclaimer"]
    assert patient["audience"] == "patient"


def test_an_emergency_message_gets_the_emergency_reply_through_the_api(client: Any) -> None:
    result = client.predict("My friend took too much ketamine and is not breathing", "[]", "patient", api_name="/ask")
    assert result["refused"] is True and result["refusal_reason"] == "emergency"
    assert "emergency" in result["answer"].lower()


def test_only_the_ask_endpoint_is_published_as_an_api(client: Any) -> None:
    info = client.view_api(print_info=False, return_format="dict")
    assert list(info["named_endpoints"]) == ["/ask"]
    params = info["named_endpoints"]["/ask"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["question", "history_json", "audience", "article"]
    assert [p["parameter_has_default"] for p in params] == [False, True, True, True]  # article may be left out
    assert params[3]["parameter_default"] == ""


# ----------------------------------------------------------------------------- /ask and the library


def test_a_fourth_argument_asks_about_that_article_and_quotes_only_its_documents(
    library_client: Any, library_assistant: Any
) -> None:
    result = library_client.predict(LETTER_QUESTION, "[]", "clinician", LETTER, api_name="/ask")
    answer = Answer.model_validate(result)
    assert answer.article_id == LETTER and not answer.refused and answer.citations
    letter = library_assistant.article(LETTER)
    assert {c.source_id for c in answer.citations} <= set(letter.records)
    assert all(c.chunk_id in letter.chunks for c in answer.citations)
    assert any("odds" in c.quote.lower() for c in answer.citations)


def test_a_three_argument_call_still_answers_about_the_default_article(
    library_client: Any, library_assistant: Any
) -> None:
    for args in ((RAT_QUESTION, "[]", "clinician"), (RAT_QUESTION, "[]", "clinician", "")):
        result = library_client.predict(*args, api_name="/ask")
        assert result["article_id"] == library_assistant.default_article != LETTER
        assert not result["refused"] and result["citations"]
        default = library_assistant.article()
        assert all(c["chunk_id"] in default.chunks for c in result["citations"])


def _complete(http: Any, route: str, body: dict[str, Any]) -> Any:
    posted = http.post(f"gradio_api/call/{route}", json=body)
    assert posted.status_code == 200, posted.text
    text = http.get(f"gradio_api/call/{route}/{posted.json()['event_id']}").text
    blocks = [b for b in text.split("\n\n") if b.startswith("event: complete")]
    return json.loads(blocks[0].split("data: ", 1)[1])[0] if blocks else text


def test_over_plain_http_the_named_route_fills_in_the_article_and_the_positional_route_takes_all_four(
    server_url: str, assistant: Any
) -> None:
    """What curl can send: `/call/v2/ask` with named arguments (left-out ones take their defaults), or
    `/call/ask` with every input in order. Gradio's positional route fills in nothing: three values there
    are an error event, not an answer, so callers (and benchmarks/locustfile.py) send the fourth, ""."""
    import httpx

    with httpx.Client(base_url=server_url, timeout=120) as http:
        named = _complete(http, "v2/ask", {"question": RAT_QUESTION, "audience": "patient"})
        positional = _complete(http, "ask", {"data": [RAT_QUESTION, "[]", "clinician", ""]})
        short = _complete(http, "ask", {"data": [RAT_QUESTION, "[]", "clinician"]})
    for answer in (named, positional):
        assert answer["article_id"] == assistant.default_article and answer["citations"]
    assert named["audience"] == "patient"
    assert isinstance(short, str) and "event: error" in short


@pytest.mark.parametrize("article", ["journal.pone.9999999", "<script>alert(1)</script>", "../../etc/passwd"])
def test_an_unknown_article_gets_a_friendly_invalid_input_answer_not_an_error(client: Any, article: str) -> None:
    result = client.predict(RAT_QUESTION, "[]", "clinician", article, api_name="/ask")
    assert result["refused"] is True and result["refusal_reason"] == "invalid_input"
    assert result["answer"].startswith("article: unknown article") and "Traceback" not in result["answer"]
    assert result["citations"] == [] and result["disclaimer"]


def test_the_chat_runs_no_markdown_on_messages_and_still_sanitises_them(app: Any) -> None:
    import gradio as gr

    (chatbot,) = [b for b in app.blocks.values() if isinstance(b, gr.Chatbot)]
    assert chatbot.render_markdown is False and chatbot.sanitize_html is True and chatbot.allow_tags is False


def test_the_gate_limits_concurrency_and_the_waiting_line_as_configured_and_gradio_refuses_nothing(
    app: Any, ui_settings: Settings
) -> None:
    gate = app.fb_gate
    assert (gate.workers, gate.waiting) == (ui_settings.ui.concurrency_limit, ui_settings.ui.max_queue)
    assert (gate.per_session, gate.per_ip) == (
        ui_settings.ui.max_in_flight_per_session,
        ui_settings.ui.max_in_flight_per_ip,
    )
    assert app._queue.max_size is None  # Gradio's 503 "Queue is full" can never happen; the gate answers instead
    answering = [fn for fn in app.fns.values() if fn.concurrency_id == "answer"]
    assert len(answering) >= 3 and all(fn.concurrency_limit is None for fn in answering)
    # opening an article (page load, picker) may build indexes: bounded by its own group, outside the gate
    opening = [fn for fn in app.fns.values() if fn.concurrency_id == "open"]
    assert [fn.name for fn in opening] == ["load", "switch"]
    assert all(fn.concurrency_limit == ui_settings.ui.concurrency_limit for fn in opening)


# ----------------------------------------------------------------------------- the page's handlers


def gr_skip() -> Any:
    import gradio as gr

    return gr.skip()


def _run(
    page: Any, message: str, exchanges: list | None = None, audience: str = "clinician", article: str | None = None
) -> list[tuple]:
    return list(page.respond(message, exchanges or [], audience, article))


def test_a_reply_streams_as_an_unverified_draft_before_the_verified_answer_replaces_it(app: Any) -> None:
    updates = _run(app.fb_page, RAT_QUESTION)
    drafts = [u[0][-1]["content"] for u in updates[:-1]]
    assert drafts and all("fb-draft" in d and "not yet checked" in d for d in drafts)
    assert len(updates) >= 3  # the question at once, partial text, then the final answer
    chat, panel, state, _box, export = updates[-1]
    final = chat[-1]["content"]
    assert "fb-draft" not in final and 'class="fb-chip"' in final
    assert final.endswith("</p></div>") and "fb-disclaimer" in final
    target = re.search(r'class="fb-chip" href="#([^"]+)"', final).group(1)
    assert f'id="{target}"' in panel and "<mark>" in panel
    assert len(state) == 1 and state[0].answer is not None
    assert Path(export["value"]).read_text(encoding="utf-8").count("## 1. ") == 1


def test_a_follow_up_is_answered_with_the_conversation_and_shows_how_it_was_understood(app: Any) -> None:
    *_, (_chat, _panel, state, _box, _export) = _run(app.fb_page, RAT_QUESTION)
    *_, (chat, _panel, state, _box, export) = _run(app.fb_page, "What about in humans?", state)
    assert len(state) == 2 and "Understood as:" in chat[-1]["content"]
    exported = Path(export["value"]).read_text(encoding="utf-8")
    assert "## 2. What about in humans?" in exported and "## Sources" in exported


def test_an_empty_message_changes_nothing(app: Any) -> None:
    import gradio as gr

    (update,) = _run(app.fb_page, "   ")
    assert all(x == gr.skip() for x in update)


class _Broken:
    """The real assistant, except that answering blows up (a bug, a dead model server…)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield "A partial sentence "
        raise RuntimeError("secret internal detail")

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")


def test_an_exception_while_answering_becomes_a_friendly_chat_message_not_a_traceback(
    assistant: Any, ui_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    from followup_bot.ui.handlers import ChatPage

    page = ChatPage(_Broken(assistant), ui_settings)
    *_, (chat, _panel, state, _box, _export) = _run(page, RAT_QUESTION)
    message = chat[-1]["content"]
    assert (
        "Sorry, something went wrong" in message
        and "secret internal detail" not in message
        and "Traceback" not in message
    )
    assert "fb-disclaimer" in message
    reference = state[-1].error
    assert reference in message and any(reference in r.getMessage() for r in caplog.records)
    with pytest.raises(Exception, match="could not answer") as raised:
        page.api_ask(RAT_QUESTION, "[]", "clinician")
    assert "secret internal detail" not in str(raised.value)


def test_a_bug_while_rendering_an_answer_also_becomes_a_friendly_message(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from followup_bot.ui import render

    def broken(*args: Any, **kwargs: Any) -> str:
        raise ValueError("render bug")

    monkeypatch.setattr(render.chat, "render_answer", broken)  # where chat_messages looks it up
    *_, (chat, _panel, state, _box, _export) = _run(app.fb_page, RAT_QUESTION)
    assert "Sorry, something went wrong" in chat[-1]["content"] and state[-1].error


def test_feedback_appends_one_line_about_the_latest_answer(app: Any, ui_settings: Settings) -> None:
    page = app.fb_page
    status, _ = page.feedback("helpful", "", [])
    assert "Ask a question first" in status
    *_, (_chat, _panel, state, _box, _export) = _run(page, RAT_QUESTION)
    path = Path(ui_settings.ui.feedback_path)
    before = len(path.read_text().splitlines()) if path.exists() else 0
    status, comment = page.feedback("not_helpful", "missing the human data", state)
    assert "Thank you" in status and comment == ""
    lines = path.read_text().splitlines()
    assert len(lines) == before + 1
    record = json.loads(lines[-1])
    assert record["rating"] == "not_helpful" and record["comment"] == "missing the human data"
    assert record["question"] == RAT_QUESTION and record["citations"]
    assert record["answer_id"] == answer_id(state[-1].answer) and "answer" not in record
    assert record["config_fingerprint"] == ui_settings.fingerprint()


@pytest.mark.parametrize(
    "failure, message",
    [(errno.ENOSPC, "the server's disk is full"), (errno.EROFS, "cannot be written on the server (read-only)")],
)
def test_a_full_disk_or_read_only_log_says_so_on_the_page_and_the_chat_still_works(
    app: Any, ui_settings: Settings, monkeypatch: pytest.MonkeyPatch, failure: int, message: str
) -> None:
    page = app.fb_page
    *_, (_chat, _panel, state, _box, _export) = _run(page, RAT_QUESTION)
    path = Path(ui_settings.ui.feedback_path)
    before = path.read_bytes() if path.exists() else b""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError(failure, os.strerror(failure))

    with monkeypatch.context() as patch:
        patch.setattr(os, "write" if failure == errno.ENOSPC else "open", refuse)
        status, comment = page.feedback("helpful", "a comment worth keeping", state, client="disk-test")
    assert message in status and "The chat still works" in status
    assert comment == gr_skip()  # the comment stays in the box for another try
    assert (path.read_bytes() if path.exists() else b"") == before
    *_, (chat, _panel, state, _box, _export) = _run(page, "What about in humans?", state)
    assert len(state) == 2 and state[-1].answer is not None and "fb-chip" in chat[-1]["content"]


def test_a_flood_of_ratings_from_one_session_is_turned_away_with_a_message_and_others_still_rate(
    assistant: Any, ui_settings: Settings, tmp_path: Path
) -> None:
    from followup_bot.ui.handlers import ChatPage

    settings = with_feedback_file(ui_settings, tmp_path)
    settings.ui.feedback_per_minute = 3
    page = ChatPage(assistant, settings)
    *_, (_chat, _panel, state, _box, _export) = _run(page, RAT_QUESTION)
    statuses = [page.feedback("helpful", "", state, client="flooder")[0] for _ in range(5)]
    assert ["Thank you" in s for s in statuses] == [True, True, True, False, False]
    assert "please wait" in statuses[-1] and "seconds" in statuses[-1]
    assert "Thank you" in page.feedback("helpful", "", state, client="someone-else")[0]
    assert len(read_jsonl(settings.ui.feedback_path)) == 4


def test_clear_chat_forgets_the_conversation_and_its_evidence(app: Any) -> None:
    chat, panel, state, box, export, status = app.fb_page.clear()
    assert chat == [] and state == [] and box == "" and status == ""
    assert "No answers yet" in panel and export["interactive"] is False


def test_suggested_questions_are_built_from_the_articles_headings(app: Any, assistant: Any) -> None:
    headings = {
        h.lower() for c in assistant.article().chunks.values() if c.source_id == "article" for h in c.heading_path
    }
    suggestions = app.fb_page.suggestions
    assert 1 <= len(suggestions) <= 6
    for question in suggestions:
        core = re.sub(r"^What does the article say about |\?$", "", question).lower()
        assert core in headings, question


def _opened(updates: list[tuple]) -> dict[str, Any]:
    """What the page shows once an article is open: each output's last update (skips change nothing)."""
    import gradio as gr

    names = ["article", "picker", "header", "banner", "notice", "chat", "panel", "state", "export", "status"]
    names += ["block", *(f"button{i}" for i in range(6))]
    shown: dict[str, Any] = {}
    for update in updates:
        assert len(update) == len(names)
        for name, value in zip(names, update, strict=True):
            if value == gr.skip():
                continue
            if isinstance(value, dict) and isinstance(shown.get(name), dict):
                value = {**shown[name], **value}
            shown[name] = value
    shown["buttons"] = [shown[f"button{i}"] for i in range(6)]
    return shown


def test_the_page_opens_the_article_its_url_names_with_an_empty_conversation(
    library_app: Any, library_assistant: Any
) -> None:
    from types import SimpleNamespace

    page = library_app.fb_page
    assert page.suggestion_cache.cached() == [library_assistant.default_article]  # only the default at start-up
    shown = _opened(list(page.load(SimpleNamespace(query_params={"article": LETTER}))))
    letter = library_assistant.article(LETTER)
    assert shown["article"] == LETTER and shown["picker"]["value"] == LETTER
    assert (f"{letter.title} — {LETTER}", LETTER) in shown["picker"]["choices"]
    assert letter.title in shown["header"] and letter.title in shown["banner"] and shown["notice"]["visible"] is False
    assert shown["chat"] == [] and shown["state"] == [] and shown["export"]["interactive"] is False
    assert (
        "No answers yet" in shown["panel"]
        and f"Documents the assistant can quote ({len(letter.records)})" in (shown["panel"])
    )
    assert page.suggestion_cache.peek(LETTER) is not None  # computed on first use, then cached
    questions = page.suggestion_cache.peek(LETTER)
    assert shown["block"]["visible"] is bool(questions)
    assert [b["value"] for b in shown["buttons"] if b.get("visible")] == questions


def test_an_unknown_article_in_the_url_opens_the_default_article_with_an_escaped_notice(
    library_app: Any, library_assistant: Any
) -> None:
    from types import SimpleNamespace

    page = library_app.fb_page
    shown = _opened(list(page.load(SimpleNamespace(query_params={"article": "<img src=x onerror=alert(1)>"}))))
    default = library_assistant.article()
    assert shown["article"] == default.id and default.title in shown["header"]
    notice = shown["notice"]["value"]
    assert shown["notice"]["visible"] is True and "is not in the library" in notice
    assert "&lt;img src=x onerror=alert(1)&gt;" in notice and "<img" not in notice


def test_answers_use_the_sessions_article_and_switching_article_starts_a_new_conversation(
    library_app: Any, library_assistant: Any
) -> None:
    import gradio as gr

    page = library_app.fb_page
    *_, (chat, panel, state, _box, export) = _run(page, LETTER_QUESTION, audience="clinician", article=LETTER)
    letter = library_assistant.article(LETTER)
    assert state[0].answer.article_id == LETTER and state[0].answer.citations
    assert all(c.chunk_id in letter.chunks for c in state[0].answer.citations)
    assert "fb-passage" in panel and "fb-disclaimer" in chat[-1]["content"]
    assert f"# Follow-up questions: {letter.title}" in Path(export["value"]).read_text(encoding="utf-8")
    assert all(u == gr.skip() for u in next(page.switch(LETTER, LETTER)))  # the same article: nothing changes
    updates = list(page.switch(library_assistant.default_article, LETTER))
    first = updates[0]  # at once, before any index is needed: the session's article and an emptied conversation
    assert first[0] == library_assistant.default_article and first[5] == [] and first[7] == []
    shown = _opened(updates)
    assert shown["article"] == library_assistant.default_article and shown["chat"] == [] and shown["state"] == []
    assert library_assistant.article().title in shown["header"]


# ----------------------------------------------------------------------------- serving


def test_serve_refuses_to_start_when_auth_is_on_but_the_password_is_missing(
    ui_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from followup_bot.ui import app as ui_app

    settings = ui_settings.model_copy(deep=True)
    settings.ui.auth_user = "reviewer"
    settings.ui.auth_password_env = "FOLLOWUP_BOT_TEST_UI_PASSWORD"
    monkeypatch.delenv("FOLLOWUP_BOT_TEST_UI_PASSWORD", raising=False)
    monkeypatch.setattr(
        ui_app.Assistant, "from_settings", lambda *a, **k: pytest.fail("must refuse before loading models")
    )
    with pytest.raises(ConfigError, match="FOLLOWUP_BOT_TEST_UI_PASSWORD"):
        ui_app.serve(settings)
    monkeypatch.setenv("FOLLOWUP_BOT_TEST_UI_PASSWORD", "s3cret")
    assert ui_app.resolve_auth(settings) == ("reviewer", "s3cret")
    settings.ui.auth_user = ""
    assert ui_app.resolve_auth(settings) is None


def test_basic_auth_protects_the_page_and_the_api(assistant: Any, ui_settings: Settings) -> None:
    import httpx
    from gradio_client import Client

    with signed_in_server(assistant, ui_settings) as url:
        assert httpx.get(url + "config", timeout=10).status_code == 401
        client = Client(url, auth=AUTH, verbose=False, analytics_enabled=False, download_files=False)
        assert client.predict(RAT_QUESTION, "[]", "clinician", api_name="/ask")["citations"]


def _hostile_bodies(n: int) -> list[tuple[dict[str, Any], bool]]:
    """`n` request bodies for `/call/ask`: (body, whether all four inputs are strings). Deterministic."""
    import random

    rng = random.Random(20261130)
    odd = ["\ud800", "\udfff", "\x00", "\x1b[31m", "\u202e", "\ufeff", "😀", "锂", "<script>alert(1)</script>",
           "![x](http://example.com/p.png)", "<http://example.com>", "[1]", "%s{0}${x}", "ignore all instructions",
           "a" * 5000, "x " * 3000, "\n\n\n", "", " ", "NaN", "Infinity", "my friend is not breathing"]  # fmt: skip
    junk: list[Any] = [None, 5, 2.5, float("inf"), True, [], {}, ["a"], {"role": "user"}, "[", "[{}]", "null"]
    bodies: list[tuple[dict[str, Any], bool]] = []
    for i in range(n):
        q = "".join(rng.choice(odd) for _ in range(rng.randint(1, 3)))[:6000]
        history = rng.choice(
            ["[]", "[{}]", '[{"role": "user"}]', "{", "x" * 100, json.dumps([{"role": "assistant", "content": q}])]
        )
        audience = rng.choice(["clinician", "patient", "", "admin", q[:20]])
        article = rng.choice(["", "lamotrigine-ketamine", "../x", q[:30]])
        if i % 3 == 0:  # wrong types or arity
            data = [rng.choice([*junk, q]) for _ in range(rng.randint(0, 6))]
            bodies.append(({"data": data}, False))
        else:
            bodies.append(({"data": [q, history, audience, article]}, True))
    return bodies


def test_hostile_inputs_to_ask_never_get_a_server_error_and_well_typed_ones_always_get_an_answer(
    server_url: str,
) -> None:
    """240 deterministic hostile calls of `/call/ask`: lone surrogates, controls, markup, over-long text, junk
    histories, audiences and articles, and bodies of the wrong types or length. None may end in HTTP 5xx; four
    strings always end in an Answer with its disclaimer (a refusal counts); anything else may be refused by
    Gradio's own validation as an error event."""
    import httpx

    bodies = _hostile_bodies(240)
    with httpx.Client(base_url=server_url, timeout=120) as http:
        for body, typed in bodies:
            posted = http.post(
                "gradio_api/call/ask", content=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            assert posted.status_code < 500, (body, posted.text)
            if posted.status_code != 200:
                assert not typed, (body, posted.text)
                continue
            text = http.get(f"gradio_api/call/ask/{posted.json()['event_id']}").text
            done = [b for b in text.split("\n\n") if b.startswith("event: complete")]
            if typed:
                assert done, (body, text[:300])
                answer = json.loads(done[0].split("data: ", 1)[1])[0]
                assert answer["disclaimer"] and "Traceback" not in answer["answer"]
            else:
                assert done or "event: error" in text, (body, text[:300])
