"""Who is answered when: safety replies at once, a bounded waiting room for the rest, a fair share each.

Why the queueing is done here and not by Gradio's queue (measured on Gradio 6.31; see
benchmarks/README.md):
- Gradio refuses an event with HTTP 503 "Queue is full" when the events waiting in *all*
  concurrency groups reach `max_size`, before any of our code runs. A separate concurrency group
  (or API route) for safety replies therefore still meets the 503, and Gradio cannot tell an
  emergency from a question: only a function that reads the message can.
- So Gradio's queue only dispatches: the answering events have no concurrency limit, enough job
  slots (`launch(max_threads=...)`) for every admitted question plus spare ones, and no size
  limit. This gate does the queueing, inside the event, where the message is known.

Every message is triaged first (rules on threads of their own: no retrieval, no generator), then
goes down one of three lanes:
- `safety` (emergency, crisis): answered at once on threads of their own. Never counted, never
  refused, never behind a question.
- `quick` (invalid input, pleasantries, instructions only): answered at once without a worker,
  but counted against the client's share, so a flood of them cannot crowd the safety threads.
- `answer` (everything that needs retrieval): waits in a first-come line for one of `workers`
  slots. When `workers + waiting` questions are already admitted, or the client already has its
  share in flight, the question is turned away at once with `Busy` and a retry hint, which the
  page and `/ask` show as a friendly answer: no HTTP error, no unbounded wait.

All bookkeeping happens on the server's event loop (one thread), so plain counters are safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")
Lane = Literal["safety", "quick", "answer"]
SAFETY_KINDS = frozenset({"emergency", "crisis"})
SIDE_THREADS = 4  # threads for triage, for safety replies and for quick replies (each its own)
_DONE = object()


def lane_for(kind: str | None) -> Lane:
    """The lane for a triage verdict (`Assistant.triage`): None means the question needs retrieval."""
    if kind in SAFETY_KINDS:
        return "safety"
    return "answer" if kind is None else "quick"


@dataclass(frozen=True)
class Busy:
    """Why a question was turned away ("client": its share is in flight; "full": the line is full), and when to retry."""

    reason: Literal["client", "full"]
    retry_after_s: int
    in_flight: int = 0


class Ticket:
    """An admitted question: its handler runs on the lane's threads, whole (`run`) or step by step (`iterate`)."""

    def __init__(self, lane: Lane, limiter: anyio.CapacityLimiter) -> None:
        self.lane = lane
        self._limiter = limiter

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)

    async def iterate(self, items: Iterator[T]) -> AsyncIterator[T]:
        """Each step of a (blocking) generator on a thread; the generator is closed if the reader goes away."""
        try:
            while True:
                item = await anyio.to_thread.run_sync(next, items, _DONE, limiter=self._limiter)
                if item is _DONE:
                    return
                yield item  # type: ignore[misc]
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()


class Gate:
    """The admission rules above; one per app, used from the server's event loop."""

    def __init__(self, *, workers: int, waiting: int, per_session: int, per_ip: int) -> None:
        self.workers = workers
        self.waiting = waiting
        self.per_session = per_session
        self.per_ip = per_ip
        self._slots = anyio.Semaphore(workers)  # first come, first served
        self._threads = {
            "answer": anyio.CapacityLimiter(workers),  # only slot holders use it, so it never makes them wait
            "safety": anyio.CapacityLimiter(SIDE_THREADS),
            "quick": anyio.CapacityLimiter(SIDE_THREADS),
            "triage": anyio.CapacityLimiter(SIDE_THREADS),
        }
        self._in_flight: Counter[str] = Counter()
        self.admitted = 0  # answer-lane questions waiting or being answered
        self.running = 0
        self._recent: deque[float] = deque(maxlen=50)  # seconds per answered question, for the retry hint

    @property
    def capacity(self) -> int:
        """Answer-lane questions admitted at most (being answered plus waiting)."""
        return self.workers + self.waiting

    async def triage(self, check: Callable[..., str | None], *args: Any) -> str | None:
        """Run the triage check on its own threads (never behind an answer)."""
        return await anyio.to_thread.run_sync(check, *args, limiter=self._threads["triage"])

    async def aside(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a short handler that needs no worker (the busy reply) on the quick lane's threads."""
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._threads["quick"])

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the line ahead times the recent answer time, 2 to 60."""
        per_question = sorted(self._recent)[len(self._recent) // 2] if self._recent else 1.0
        return int(min(60, max(2, math.ceil(per_question * (self.admitted + 1) / self.workers))))

    def in_flight(self, key: str) -> int:
        return self._in_flight.get(key, 0)

    def refusal(self, lane: Lane, keys: Sequence[tuple[str, int]]) -> Busy | None:
        """Why a question in this lane from these clients would be turned away now, or None."""
        if lane == "safety":
            return None
        for key, limit in keys:
            if self._in_flight[key] >= limit:
                return Busy("client", self.retry_after(), self._in_flight[key])
        if lane == "answer" and self.admitted >= self.capacity:
            return Busy("full", self.retry_after())
        return None

    @asynccontextmanager
    async def admit(self, lane: Lane, keys: Sequence[tuple[str, int]] = ()) -> AsyncIterator[Ticket | Busy]:
        """A Ticket once the question may run (after waiting for a slot in the answer lane), or Busy at once."""
        busy = self.refusal(lane, keys)
        if busy is not None:
            yield busy
            return
        if lane == "safety":
            yield Ticket(lane, self._threads["safety"])
            return
        for key, _ in keys:
            self._in_flight[key] += 1
        try:
            if lane == "quick":
                yield Ticket(lane, self._threads["quick"])
                return
            self.admitted += 1
            try:
                async with self._slots:
                    self.running += 1
                    started = time.monotonic()
                    try:
                        yield Ticket(lane, self._threads["answer"])
                    finally:
                        self.running -= 1
                        self._recent.append(time.monotonic() - started)
            finally:
                self.admitted -= 1
        finally:
            for key, _ in keys:
                self._in_flight[key] -= 1
                if self._in_flight[key] <= 0:
                    del self._in_flight[key]


class RateLimit:
    """At most `limit` events per key in any `window_s` seconds (a sliding window); used for ratings.

    Unlike the gate it is called from handler threads, so it takes a lock."""

    def __init__(self, limit: int, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """0 and the event is counted, or the seconds to wait before the next one is allowed."""
        with self._lock:
            return self._check(key, self.clock())

    def _check(self, key: str, now: float) -> float:
        if len(self._events) > 10_000:  # forget idle keys so the table stays small
            self._events = {k: v for k, v in self._events.items() if v and now - v[-1] < self.window_s}
        times = self._events.setdefault(key, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            return max(0.0, self.window_s - (now - times[0]))
        times.append(now)
        return 0.0
