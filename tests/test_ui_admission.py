"""Admission: safety replies never wait or get turned away, questions wait in a bounded line, and
one client cannot fill it. The gate is tested on its own (asyncio, milliseconds), then through a
real server whose answering is held back on purpose, so the line is full while we probe it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from followup_bot.settings import Settings
from followup_bot.ui.admission import Busy, Gate, RateLimit, Ticket, lane_for
from support import free_port, with_feedback_file

EMERGENCY = "My friend took too much ketamine and is not breathing"
CRISIS = "I want to kill myself tonight"
QUESTION = "Did lamotrigine reduce ketamine self-administration in rats?"
LETTER = "journal.pmed.0030205"  # the PLOS letter the `library_settings` fixture imports
LETTER_QUESTION = "Is an odds ratio the same as a relative risk?"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ----------------------------------------------------------------------------- the gate alone


def test_emergency_and_crisis_take_the_safety_lane_questions_the_answer_lane_and_other_verdicts_the_quick_lane() -> (
    None
):
    assert lane_for("emergency") == lane_for("crisis") == "safety"
    assert lane_for(None) == "answer"
    assert {lane_for(k) for k in ("invalid_input", "greeting", "thanks", "injection_only")} == {"quick"}


def test_a_full_line_turns_a_question_away_at_once_but_never_a_safety_reply() -> None:
    async def scenario() -> tuple[Any, ...]:
        gate = Gate(workers=1, waiting=1, per_session=10, per_ip=10)
        release = asyncio.Event()
        got_slot = asyncio.Event()

        async def hold() -> None:
            async with gate.admit("answer") as ticket:
                assert isinstance(ticket, Ticket)
                got_slot.set()
                await release.wait()

        holders = [asyncio.create_task(hold()) for _ in range(2)]  # one answered, one waiting
        await got_slot.wait()
        await asyncio.sleep(0.01)
        counts = (gate.admitted, gate.running)
        async with gate.admit("answer") as turned_away:
            pass
        async with gate.admit("safety") as safety:
            pass
        async with gate.admit("quick") as quick:
            pass
        release.set()
        await asyncio.gather(*holders)
        return counts, turned_away, safety, quick, (gate.admitted, gate.running)

    counts, turned_away, safety, quick, after = run(scenario())
    assert counts == (2, 1)
    assert isinstance(turned_away, Busy) and turned_away.reason == "full" and 2 <= turned_away.retry_after_s <= 60
    assert isinstance(safety, Ticket) and safety.lane == "safety"
    assert isinstance(quick, Ticket) and quick.lane == "quick"
    assert after == (0, 0)


def test_one_client_cannot_hold_more_than_its_share_while_another_still_gets_in() -> None:
    async def scenario() -> tuple[Any, ...]:
        gate = Gate(workers=1, waiting=10, per_session=2, per_ip=10)
        release = asyncio.Event()
        mine = [("session:a", gate.per_session)]

        async def hold(keys: list[tuple[str, int]]) -> None:
            async with gate.admit("answer", keys):
                await release.wait()

        holders = [asyncio.create_task(hold(mine)) for _ in range(2)]
        await asyncio.sleep(0.01)
        async with gate.admit("answer", mine) as third:
            pass
        async with gate.admit("quick", mine) as quick:
            pass  # a pleasantry counts against the share too, so a flood of them is bounded
        async with gate.admit("safety", mine) as safety:
            pass
        other = gate.refusal("answer", [("session:b", gate.per_session)])
        release.set()
        await asyncio.gather(*holders)
        return third, quick, safety, other, gate.in_flight("session:a")

    third, quick, safety, other, left = run(scenario())
    assert isinstance(third, Busy) and third.reason == "client" and third.in_flight == 2
    assert isinstance(quick, Busy) and isinstance(safety, Ticket)
    assert other is None  # another session would be let in
    assert left == 0


def test_waiting_questions_are_answered_first_come_first_served() -> None:
    async def scenario() -> list[int]:
        gate = Gate(workers=1, waiting=10, per_session=10, per_ip=10)
        order: list[int] = []

        async def question(n: int) -> None:
            async with gate.admit("answer") as ticket:
                assert isinstance(ticket, Ticket)
                order.append(n)
                await ticket.run(time.sleep, 0.01)

        tasks = []
        for n in range(5):
            tasks.append(asyncio.create_task(question(n)))
            await asyncio.sleep(0.001)
        await asyncio.gather(*tasks)
        return order

    assert run(scenario()) == [0, 1, 2, 3, 4]


def test_a_streamed_handler_runs_step_by_step_on_threads_and_is_closed_when_the_reader_goes_away() -> None:
    closed = threading.Event()
    threads: set[str] = set()

    def steps() -> Iterator[int]:
        try:
            for n in range(100):
                threads.add(threading.current_thread().name)
                yield n
        finally:
            closed.set()

    async def scenario() -> list[int]:
        gate = Gate(workers=1, waiting=1, per_session=1, per_ip=1)
        seen: list[int] = []
        async with gate.admit("answer") as ticket:
            assert isinstance(ticket, Ticket)
            stream = ticket.iterate(steps())
            async for n in stream:
                seen.append(n)
                if n == 2:
                    break
            await stream.aclose()
        return seen

    assert run(scenario()) == [0, 1, 2]
    assert closed.is_set() and threading.main_thread().name not in threads


def test_a_rating_rate_limit_allows_the_configured_number_per_window_per_session() -> None:
    now = [0.0]
    limit = RateLimit(3, 60.0, clock=lambda: now[0])
    assert [limit.check("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limit.check("a") == pytest.approx(60.0)
    assert limit.check("b") == 0.0
    now[0] = 30.0
    assert limit.check("a") == pytest.approx(30.0)
    now[0] = 60.5
    assert limit.check("a") == 0.0


# ----------------------------------------------------------------------------- through a real server


class Held:
    """The real assistant, except that questions needing retrieval wait until `release` is set.

    Triage and safety replies are the real ones, so what is measured is the real routing."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.release = threading.Event()
        self.release.set()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def _hold(self, question: Any, history: Any) -> None:
        if self._real.triage(question, history) is None:
            assert self.release.wait(60), "the test never released the held questions"

    def ask(self, question: Any, history: Any = None, *args: Any, **kwargs: Any) -> Any:
        self._hold(question, history)
        return self._real.ask(question, history, *args, **kwargs)

    def stream(self, question: Any, history: Any = None, *args: Any, **kwargs: Any) -> Iterator[Any]:
        self._hold(question, history)
        yield from self._real.stream(question, history, *args, **kwargs)


def ask_raw(
    url: str, question: str, *, address: str | None = None, article: str | None = None, timeout: float = 60
) -> tuple[int, Any, float]:
    """`/ask` as curl would call it: (HTTP status of the call, the Answer or None, seconds taken)."""
    headers = {"X-Forwarded-For": address} if address else {}
    data = [question, "[]", "clinician", article or ""]  # /call takes every input, the optional article too
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, headers=headers, timeout=timeout) as http:
        posted = http.post("gradio_api/call/ask", json={"data": data})
        if posted.status_code != 200:
            return posted.status_code, None, time.perf_counter() - t0
        text = http.get(f"gradio_api/call/ask/{posted.json()['event_id']}").text
    events = [block for block in text.split("\n\n") if block.startswith("event: complete")]
    answer = json.loads(events[0].split("data: ", 1)[1])[0] if events else None
    return 200, answer, time.perf_counter() - t0


def ask_on_the_page(url: str, app: Any, message: str, session: str, timeout: float = 30) -> tuple[str, float]:
    """The chat box's submit event as the browser sends it; returns the last assistant message's HTML."""
    fn_index = next(i for i, fn in app.fns.items() if fn.name == "respond")
    t0 = time.perf_counter()
    data = [message, None, "clinician", None]  # the states (conversation, article) are the server's
    body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None}
    with httpx.Client(base_url=url, timeout=timeout) as http:
        joined = http.post("gradio_api/queue/join", json=body)
        assert joined.status_code == 200, joined.text
        with http.stream("GET", f"gradio_api/queue/data?session_hash={session}") as resp:
            for line in resp.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg["msg"] == "process_completed":
                    chat = msg["output"]["data"][0]
                    return chat[-1]["content"][0]["text"], time.perf_counter() - t0
    raise AssertionError("the page event never completed")


@pytest.fixture
def held_server(
    assistant: Any, session_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Any, Held]]:
    from followup_bot.ui import build_app, launch

    settings = with_feedback_file(session_settings, tmp_path_factory.mktemp("admission"))
    settings.ui.concurrency_limit = 1
    settings.ui.max_queue = 2
    settings.ui.max_in_flight_per_ip = 2
    held = Held(assistant)
    app = build_app(held, settings)  # type: ignore[arg-type]
    url = launch(app, settings, host="127.0.0.1", port=free_port(), prevent_thread_lock=True, quiet=True)
    try:
        yield url, app, held
    finally:
        held.release.set()
        app.close()


def _wait_until(condition: Any, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.integration
def test_with_the_line_full_safety_replies_come_at_once_on_ask_and_on_the_page_and_questions_get_a_kind_busy_answer(
    held_server: tuple[str, Any, Held],
) -> None:
    url, app, held = held_server
    gate = app.fb_gate
    held.release.clear()
    with ThreadPoolExecutor(8) as pool:
        blocked = [pool.submit(ask_raw, url, f"{QUESTION} ({n})", address=f"10.0.0.{n}") for n in range(3)]
        _wait_until(lambda: gate.admitted == gate.capacity == 3)

        status, emergency, emergency_s = ask_raw(url, EMERGENCY, address="10.0.1.1")
        _, crisis, crisis_s = ask_raw(url, CRISIS, address="10.0.1.2")
        page_html, page_s = ask_on_the_page(url, app, EMERGENCY, session="page-session-1")
        busy_status, busy, busy_s = ask_raw(url, f"{QUESTION} (late)", address="10.0.1.3")
        _, unknown, unknown_s = ask_raw(url, QUESTION, address="10.0.1.4", article="journal.pone.9999999")

        held.release.set()
        finished = [f.result(timeout=60) for f in blocked]

    assert status == 200 and emergency["refusal_reason"] == "emergency" and emergency_s < 3
    assert crisis["refusal_reason"] == "crisis" and crisis_s < 3
    assert "fb-reason-emergency" in page_html and page_s < 3
    assert busy_status == 200 and busy_s < 3
    assert busy["refused"] is True and busy["refusal_reason"] == "busy"
    assert "try again" in busy["notice"].lower() and busy["standalone_question"].endswith("(late)")
    assert busy["disclaimer"]
    # an unknown article is invalid input, told at once (triage checks the article), not busy
    assert unknown["refusal_reason"] == "invalid_input" and "unknown article" in unknown["answer"] and unknown_s < 3
    assert [s for s, _, _ in finished] == [200, 200, 200]
    assert all(a["refusal_reason"] != "busy" and a["standalone_question"].startswith(QUESTION) for _, a, _ in finished)
    assert gate.admitted == 0


@pytest.mark.integration
def test_one_address_cannot_fill_the_line_its_extra_questions_are_turned_away_while_others_get_in(
    held_server: tuple[str, Any, Held],
) -> None:
    url, app, held = held_server
    gate = app.fb_gate
    held.release.clear()
    with ThreadPoolExecutor(8) as pool:
        mine = [pool.submit(ask_raw, url, f"{QUESTION} (mine {n})", address="10.9.9.9") for n in range(2)]
        _wait_until(lambda: gate.in_flight("address:10.9.9.9") == 2)
        _, extra, extra_s = ask_raw(url, f"{QUESTION} (mine, extra)", address="10.9.9.9")
        other = pool.submit(ask_raw, url, f"{QUESTION} (someone else)", address="10.8.8.8")
        _wait_until(lambda: gate.admitted == 3)
        held.release.set()
        results = [f.result(timeout=60) for f in [*mine, other]]

    assert extra["refusal_reason"] == "busy" and "still being answered" in extra["answer"] and extra_s < 3
    assert [s for s, _, _ in results] == [200, 200, 200]
    assert all(a["refusal_reason"] != "busy" for _, a, _ in results)  # the other address got in, and mine finished


@pytest.mark.integration
def test_a_page_session_past_its_share_sees_a_busy_reply_its_question_kept_out_of_the_conversation(
    held_server: tuple[str, Any, Held],
) -> None:
    import gradio as gr

    from followup_bot.ui.lanes import Lanes

    _url, app, held = held_server
    lanes = Lanes(app.fb_page, Gate(workers=1, waiting=5, per_session=1, per_ip=5))
    request = SimpleNamespace(session_hash="one-tab", client=SimpleNamespace(host="10.1.1.1"))

    async def scenario() -> tuple[Any, ...]:
        held.release.clear()
        first = asyncio.create_task(_drain(lanes.respond(request, QUESTION, [], "clinician")))
        await asyncio.sleep(0.5)
        (second,) = await _drain(lanes.respond(request, f"{QUESTION} again", [], "clinician"))
        safety_updates = await _drain(lanes.respond(request, EMERGENCY, [], "clinician"))
        held.release.set()
        return second, safety_updates[-1], await first

    second, safety_update, first = run(scenario())
    chat, panel, state, box, export = second
    assert "fb-reason-busy" in chat[-1]["content"] and "still being answered" in chat[-1]["content"]
    assert all(x == gr.skip() for x in (panel, state, box, export))  # not kept; the question stays in the box
    assert "fb-reason-emergency" in safety_update[0][-1]["content"]
    assert len(first[-1][2]) == 1 and first[-1][2][0].answer.refusal_reason is None


async def _drain(stream: Any) -> list[Any]:
    return [update async for update in stream]


# ----------------------------------------------------------------------------- the article


@pytest.mark.integration
def test_triage_checks_the_requested_article_without_building_its_index(
    library_assistant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = library_assistant.components.library
    monkeypatch.setattr(library, "get", lambda *a, **k: pytest.fail("triage must not build an article's index"))
    assert library_assistant.triage(QUESTION, [], LETTER) is None
    assert library_assistant.triage(QUESTION, [], "") is None  # the default article
    assert library_assistant.triage(EMERGENCY, [], LETTER) == "emergency"
    for unknown in ("journal.pone.9999999", "../../etc/passwd", "<script>alert(1)</script>", 7):
        assert library_assistant.triage(QUESTION, [], unknown) == "invalid_input"


@pytest.mark.integration
def test_the_gate_answers_about_the_sessions_article_and_its_busy_reply_renders_with_it(
    library_assistant: Any, library_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from followup_bot.ui import build_app
    from followup_bot.ui.lanes import Lanes

    app = build_app(library_assistant, with_feedback_file(library_settings, tmp_path_factory.mktemp("lanes")))
    lanes = Lanes(app.fb_page, Gate(workers=1, waiting=1, per_session=5, per_ip=5))
    request = SimpleNamespace(session_hash="letter-tab", client=SimpleNamespace(host="10.2.2.2"))

    async def scenario() -> tuple[Any, Any]:
        *_, answered = await _drain(lanes.respond(request, LETTER_QUESTION, [], "clinician", LETTER))
        exchanges = answered[2]
        busy = await lanes.gate.aside(app.fb_page.busy, "And then?", exchanges, "clinician", Busy("full", 5), LETTER)
        return answered, busy

    (chat, _panel, state, _box, _export), (busy_chat, *_) = run(scenario())
    letter = library_assistant.article(LETTER)
    answer = state[0].answer
    assert answer.article_id == LETTER and answer.citations
    assert all(c.chunk_id in letter.chunks for c in answer.citations)
    # the busy reply re-renders the conversation about the letter as it was, then says busy
    assert busy_chat[:-2] == chat and "fb-reason-busy" in busy_chat[-1]["content"]
