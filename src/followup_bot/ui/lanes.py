"""The page's answering events behind the admission gate: the Gradio side of `admission`.

`Lanes.respond` (the chat, streamed) and `Lanes.ask` (the `/ask` API) triage the message first,
then run the unchanged `ChatPage` handler in the lane the verdict chooses, or give the busy
answer. The handler gets the arguments as they came, the article included; triage reads the
message, the conversation and the article (an unknown article is invalid input: the quick lane,
where the handler explains it, without waiting for a worker).

Clients are told apart by Gradio's session hash (one per page load or `gradio_client.Client`)
and, for `/ask`, also by address (`request.client.host`, which uvicorn takes from
X-Forwarded-For when a proxy on this host forwards the request), because a script can open as
many sessions as it likes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import gradio as gr

from followup_bot.ui.admission import Busy, Gate, lane_for
from followup_bot.ui.handlers import ChatPage
from followup_bot.ui.render import Exchange


def client_keys(request: gr.Request | None, gate: Gate, *, by_address: bool) -> list[tuple[str, int]]:
    """The (key, limit) pairs a request counts against: its session, and for the API its address."""
    if request is None:
        return []
    keys: list[tuple[str, int]] = []
    session = getattr(request, "session_hash", None)
    if session:
        keys.append((f"session:{session}", gate.per_session))
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    if by_address and host:
        keys.append((f"address:{host}", gate.per_ip))
    return keys


def parsed_history(history_json: Any) -> list[Any] | None:
    """The history `/ask` was sent, or None when it is not a JSON list (the handler explains what is wrong)."""
    raw = history_json if isinstance(history_json, str) else "[]"
    try:
        history = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError:
        return None
    return history if isinstance(history, list) else None


class Lanes:
    def __init__(self, page: ChatPage, gate: Gate) -> None:
        self.page = page
        self.gate = gate

    async def respond(
        self,
        request: gr.Request | None,
        message: str,
        exchanges: list[Exchange] | None,
        audience: str,
        article: str | None = None,
    ) -> AsyncIterator[tuple[Any, ...]]:
        """`ChatPage.respond`, admitted: a safety reply at once, a question when a worker is free, or the busy reply."""
        history = self.page.history(list(exchanges or []))
        kind = await self.gate.triage(self.page.assistant.triage, message, history, article or None)
        async with self.gate.admit(lane_for(kind), client_keys(request, self.gate, by_address=False)) as ticket:
            if isinstance(ticket, Busy):
                # off the event loop: it renders with the article's documents (an index, if evicted, is rebuilt)
                yield await self.gate.aside(self.page.busy, message, exchanges, audience, ticket, article)
                return
            async for update in ticket.iterate(self.page.respond(message, exchanges, audience, article)):
                yield update

    async def ask(
        self, request: gr.Request | None, question: str, history_json: str, audience: str, article: Any = ""
    ) -> dict[str, Any]:
        """`ChatPage.api_ask`, admitted the same way; the busy answer is an ordinary Answer."""
        history = parsed_history(history_json)
        kind = (
            "invalid_input"
            if history is None
            else await self.gate.triage(self.page.assistant.triage, question, history, article)
        )
        async with self.gate.admit(lane_for(kind), client_keys(request, self.gate, by_address=True)) as ticket:
            if isinstance(ticket, Busy):
                text = question if isinstance(question, str) else ""
                return self.page.busy_answer(text, audience, ticket).model_dump(mode="json")
            return await ticket.run(self.page.api_ask, question, history_json, audience, article)
