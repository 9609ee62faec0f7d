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
from support import free_port, with_feedback_file

pytestmark = pytest.mark.integration

RAT_QUESTION = "Did lamotrigine reduce ketamine self-administration in rats?"


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
    params = [p["parameter_name"] for p in info["named_endpoints"]["/ask"]["parameters"]]
    assert params == ["question", "history_json", "audience"]


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


# ----------------------------------------------------------------------------- the page's handlers


def gr_skip() -> Any:
    import gradio as gr

    return gr.skip()


def _run(page: Any, message: str, exchanges: list | None = None, audience: str = "clinician") -> list[tuple]:
    return list(page.respond(message, exchanges or [], audience))


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

    from followup_bot.ui import build_app, launch

    app = build_app(assistant, ui_settings)
    url = launch(
        app,
        ui_settings,
        host="127.0.0.1",
        port=free_port(),
        auth=("reviewer", "s3cret"),
        prevent_thread_lock=True,
        quiet=True,
    )
    try:
        assert httpx.get(url + "config", timeout=10).status_code == 401
        from gradio_client import Client

        result = Client(
            url, auth=("reviewer", "s3cret"), verbose=False, analytics_enabled=False, download_files=False
        ).predict(RAT_QUESTION, "[]", "clinician", api_name="/ask")
        assert result["citations"]
    finally:
        app.close()
