"""Launching the page (ui/server.py): loopback exempted from any HTTP proxy, and Gradio's job slots.

`followup-bot serve` under a proxy end to end is in test_egress.py; these are the pieces."""

from __future__ import annotations

import os

import pytest

from followup_bot.settings import Settings
from followup_bot.ui.server import LOOPBACK_HOSTS, SPARE_JOB_SLOTS, exempt_loopback_from_proxy, job_slots


def test_with_no_no_proxy_both_spellings_get_the_loopback_names() -> None:
    env: dict[str, str] = {"HTTP_PROXY": "http://proxy.test:3128"}
    assert exempt_loopback_from_proxy(env) == "localhost,127.0.0.1,::1"
    assert env["NO_PROXY"] == env["no_proxy"] == "localhost,127.0.0.1,::1"
    assert env["HTTP_PROXY"] == "http://proxy.test:3128"  # the proxy itself is left alone


@pytest.mark.parametrize(
    "before, expected",
    [
        ({"NO_PROXY": "corp.test, .internal"}, "corp.test,.internal,localhost,127.0.0.1,::1"),
        ({"no_proxy": "10.0.0.0/8"}, "10.0.0.0/8,localhost,127.0.0.1,::1"),
        ({"NO_PROXY": "a.test", "no_proxy": "b.test,a.test"}, "a.test,b.test,localhost,127.0.0.1,::1"),
        ({"NO_PROXY": "127.0.0.1,localhost"}, "127.0.0.1,localhost,::1"),
        ({"NO_PROXY": "*"}, "*,localhost,127.0.0.1,::1"),
    ],
)
def test_what_no_proxy_held_is_kept_and_only_missing_loopback_names_are_added(
    before: dict[str, str], expected: str
) -> None:
    env = dict(before)
    exempt_loopback_from_proxy(env)
    assert env["NO_PROXY"] == env["no_proxy"] == expected
    assert exempt_loopback_from_proxy(env) == expected  # a second launch adds nothing


def test_httpx_sends_loopback_past_the_proxy_once_exempted(monkeypatch: pytest.MonkeyPatch) -> None:
    """What Gradio's start-up self-check relies on: httpx reads these variables when a client is made."""
    import httpx

    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, "")  # recorded, so that monkeypatch restores it even when it was unset
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")

    def proxied(url: str) -> bool:
        with httpx.Client() as client:
            return client._transport_for_url(httpx.URL(url)) is not client._transport

    assert proxied("http://127.0.0.1:7860/gradio_api/startup-events")
    exempt_loopback_from_proxy()  # the real os.environ, as launch() does; monkeypatch restores it
    for host in ("127.0.0.1", "localhost", "[::1]"):
        assert not proxied(f"http://{host}:7860/gradio_api/startup-events"), host
    assert proxied("http://example.test/")
    assert set(LOOPBACK_HOSTS) <= set(os.environ["NO_PROXY"].split(","))


def test_gradio_gets_a_job_slot_for_every_question_the_gate_may_hold_and_every_opening_and_spares(
    session_settings: Settings,
) -> None:
    ui = session_settings.ui
    assert job_slots(session_settings) == 2 * ui.concurrency_limit + ui.max_queue + SPARE_JOB_SLOTS
