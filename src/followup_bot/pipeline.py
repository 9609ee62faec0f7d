"""The whole pipeline, top to bottom. Each stage is a function in `stages.py`.

    triage ─┬─ (emergency, crisis, invalid input, instructions only, pleasantries) ─────────┐
            └─ standalone → retrieve → evidence → generate → verify ──────────────────────── frame → Answer

A plain loop over typed stages, not an LCEL graph: every stage is an ordinary function of
`(state, components)`, the state is a typed dataclass rather than a dict, and streaming is a
Python generator. (LCEL's `RunnablePassthrough.assign` and `with_fallbacks(exception_key=…)`
need dict states, and its streaming merges partial dicts; this loop gives the same composition
with types and a stack trace a newcomer can read.) The runner times every stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from followup_bot.components import Components
from followup_bot.stages import frame, generate, generate_stream, retrieve, standalone, triage, verify, weigh_evidence
from followup_bot.state import Request, State

Stage = Callable[[State, Components], State]
StreamingStage = Callable[[State, Components], Iterator[str | State]]

# The stages after triage, in order, each with the name its time is reported under.
ANSWER_STAGES: tuple[tuple[str, Stage], ...] = (
    ("standalone", standalone),
    ("retrieve", retrieve),
    ("evidence", weigh_evidence),
    ("generate", generate),
    ("verify", verify),
)
# Stages that can hand out text as they produce it.
STREAMING: dict[Stage, StreamingStage] = {generate: generate_stream}


def _timed(name: str, stage: Stage, state: State, c: Components) -> State:
    t0 = time.perf_counter()
    out = stage(state, c)
    out.timings[name] = round((time.perf_counter() - t0) * 1000, 2)
    return out


def events(request: Request, c: Components, *, stream: bool = False) -> Iterator[str | State]:
    """Run the stages; with `stream`, yield partial text as it is written. The last event is the final State."""
    state = triage_only(request, c)
    if state.terminal is None:
        for name, stage in ANSWER_STAGES:
            streaming = STREAMING.get(stage) if stream else None
            if streaming is None:
                state = _timed(name, stage, state, c)
                continue
            t0 = time.perf_counter()
            for event in streaming(state, c):
                if isinstance(event, State):
                    state = event
                else:
                    yield event
            state.timings[name] = round((time.perf_counter() - t0) * 1000, 2)
    yield _timed("frame", frame, state, c)


def triage_only(request: Request, c: Components) -> State:
    """Triage alone (no retrieval, no generator): `terminal` says whether the question stops here, and why."""
    return _timed("safety", triage, State(request), c)


def run(request: Request, c: Components) -> State:
    """Answer one request; the returned state holds the Answer and the trace of every stage."""
    *_, last = events(request, c)
    assert isinstance(last, State)
    return last
