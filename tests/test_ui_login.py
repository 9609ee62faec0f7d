"""Sign-in throttling: wrong passwords from one address lock it out for a while, the right one works after.

The lockout arithmetic is tested with a fake clock; the behaviour against a real server started
with auth on, through Gradio's own `/login` route, with addresses told apart the way a reverse
proxy on this host tells them (X-Forwarded-For, which uvicorn trusts from loopback only).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from followup_bot.settings import Settings
from followup_bot.ui.login import FailureLockout
from support import signed_in_server, with_feedback_file


def test_an_address_is_locked_out_after_the_allowed_failures_and_each_further_failure_doubles_the_lockout() -> None:
    now = [100.0]
    lockout = FailureLockout(max_failures=3, lockout_s=10.0, max_lockout_s=25.0, clock=lambda: now[0])

    def fail(address: str = "a") -> None:
        lockout.started(address)
        lockout.finished(address, success=False)

    for _ in range(2):
        fail()
    assert lockout.locked_for("a") == 0.0
    fail()
    assert lockout.locked_for("a") == pytest.approx(10.0) and lockout.locked_for("b") == 0.0
    now[0] += 10.5
    assert lockout.locked_for("a") == 0.0
    fail()
    assert lockout.locked_for("a") == pytest.approx(20.0)
    now[0] += 20.5
    fail()
    assert lockout.locked_for("a") == pytest.approx(25.0)  # capped
    now[0] += 25.5
    lockout.started("a")
    lockout.finished("a", success=True)
    fail()
    assert lockout.locked_for("a") == 0.0  # a success forgot the earlier failures


def test_attempts_still_being_answered_count_so_parallel_guesses_cannot_pass_the_limit() -> None:
    now = [0.0]
    lockout = FailureLockout(max_failures=3, lockout_s=10.0, clock=lambda: now[0])
    for _ in range(3):
        assert lockout.locked_for("a") == 0.0
        lockout.started("a")
    assert lockout.locked_for("a") > 0
    for _ in range(3):
        lockout.finished("a", success=False)
    now[0] = 11.0
    assert lockout.locked_for("a") == 0.0
    lockout.started("a")
    assert lockout.locked_for("a") > 0  # after a lockout: one attempt at a time


@pytest.fixture
def auth_server(assistant: Any, session_settings: Settings, tmp_path: Any) -> Iterator[str]:
    settings = with_feedback_file(session_settings, tmp_path)
    settings.ui.login_max_failures = 3
    settings.ui.login_lockout_s = 1.5
    with signed_in_server(assistant, settings) as url:
        yield url


def sign_in(url: str, password: str, address: str) -> httpx.Response:
    return httpx.post(
        url + "login",
        data={"username": "reviewer", "password": password},
        headers={"X-Forwarded-For": address},
        timeout=10,
    )


@pytest.mark.integration
def test_wrong_passwords_lock_an_address_out_the_right_one_works_after_the_window_and_other_addresses_are_unaffected(
    auth_server: str,
) -> None:
    url = auth_server
    assert [sign_in(url, "guess", "10.5.0.1").status_code for _ in range(3)] == [400, 400, 400]
    locked = sign_in(url, "s3cret", "10.5.0.1")
    assert locked.status_code == 429 and 1 <= int(locked.headers["Retry-After"]) <= 2
    assert "Too many failed sign-ins" in locked.json()["detail"]
    assert sign_in(url, "s3cret", "10.5.0.2").status_code == 200  # another address is not locked out
    time.sleep(1.6)
    signed_in = sign_in(url, "s3cret", "10.5.0.1")
    assert signed_in.status_code == 200 and any(c.startswith("access-token") for c in signed_in.cookies)
    assert sign_in(url, "guess", "10.5.0.1").status_code == 400  # the success forgot the old failures


@pytest.mark.integration
def test_a_burst_of_wrong_passwords_reaches_the_password_check_only_a_few_times(auth_server: str) -> None:
    url = auth_server
    t0 = time.perf_counter()
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _: sign_in(url, "guess", "10.6.0.1").status_code, range(100)))
    elapsed = time.perf_counter() - t0
    # 3 failures, then one more guess each time a lockout ends (1.5 s, then 3 s, 6 s, … after the last failure)
    reopened, waited, lockout = 0, 0.0, 1.5
    while waited + lockout < elapsed:
        reopened, waited, lockout = reopened + 1, waited + lockout, lockout * 2
    assert 3 <= codes.count(400) <= 3 + reopened
    assert codes.count(429) == 100 - codes.count(400)
