"""Sign-in throttling: too many failed passwords from one address lock that address out for a while.

Gradio 6.31 checks the password of `launch(auth=...)` on `POST /login` and answers every wrong
one at once, so a script can try passwords as fast as the server answers (reviewers: 200 in
1.9 s). `LoginThrottle` is an ASGI middleware around that route, keyed by the client address
(uvicorn has already replaced it by the X-Forwarded-For address when the connection comes from
a proxy on this host). It watches the route's answer: 200 is a success, which forgets the
address's failures; 400 or 401 is a failure. After `max_failures` failures the address is
locked out for `lockout_s`, doubled for each further failure, at most `max_lockout_s`: during
the lockout every sign-in from it (the right password too) gets 429 with `Retry-After`, without
reaching Gradio; after it, the right password works again. Attempts in progress count as
failures until they are answered, and after a lockout an address gets one attempt at a time, so
parallel guesses cannot slip past the limit.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LOGIN = re.compile(r"/login/?$")
MAX_LOCKOUT_S = 900.0
MAX_ADDRESSES = 10_000


@dataclass
class _Record:
    failures: int = 0
    pending: int = 0
    last_failure: float = 0.0


class FailureLockout:
    """The bookkeeping: failures per address, and how long an address is locked out."""

    def __init__(
        self,
        max_failures: int = 5,
        lockout_s: float = 30.0,
        max_lockout_s: float = MAX_LOCKOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.max_lockout_s = max(max_lockout_s, lockout_s)
        self.clock = clock
        self._records: dict[str, _Record] = {}

    def _lockout(self, failures: int) -> float:
        if failures < self.max_failures:
            return 0.0
        return min(self.max_lockout_s, self.lockout_s * 2 ** min(failures - self.max_failures, 30))

    def locked_for(self, address: str) -> float:
        """Seconds this address must still wait before it may try again (0 when it may)."""
        record = self._records.get(address)
        if record is None:
            return 0.0
        now = self.clock()
        if record.failures and now - record.last_failure > 2 * self.max_lockout_s:
            record.failures = 0  # a long-quiet address starts afresh
        if record.failures < self.max_failures:
            # attempts still being answered count, so parallel guesses cannot pass the limit
            return 1.0 if record.failures + record.pending >= self.max_failures else 0.0
        remaining = record.last_failure + self._lockout(record.failures) - now
        if remaining > 0:
            return remaining
        return 1.0 if record.pending else 0.0  # after a lockout, one attempt at a time until one succeeds

    def started(self, address: str) -> None:
        if len(self._records) > MAX_ADDRESSES:
            now = self.clock()
            self._records = {
                a: r for a, r in self._records.items() if r.pending or now - r.last_failure < 2 * self.max_lockout_s
            }
        self._records.setdefault(address, _Record()).pending += 1

    def finished(self, address: str, *, success: bool | None) -> None:
        """An attempt was answered: success forgets the failures, failure adds one, None (an error) neither."""
        record = self._records.setdefault(address, _Record())
        record.pending = max(0, record.pending - 1)
        if success:
            record.failures = 0
        elif success is False:
            record.failures += 1
            record.last_failure = self.clock()


class LoginThrottle:
    """ASGI middleware applying `FailureLockout` to Gradio's sign-in route (see the module notes)."""

    def __init__(self, app: ASGIApp, max_failures: int = 5, lockout_s: float = 30.0) -> None:
        self.app = app
        self.lockout = FailureLockout(max_failures, lockout_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not _LOGIN.search(str(scope.get("path", ""))):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        wait = self.lockout.locked_for(address)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            response = JSONResponse(
                {"detail": f"Too many failed sign-ins from this address. Try again in {seconds} seconds."},
                status_code=429,
                headers={"Retry-After": str(seconds)},
            )
            await response(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        self.lockout.started(address)
        success: bool | None = None
        try:
            await self.app(scope, receive, watch)
            if status:
                success = True if status[0] < 300 else (False if status[0] in (400, 401, 403) else None)
        finally:
            self.lockout.finished(address, success=success)
