"""The `[ui]` section: the chat page's server, its admission gate, feedback log and sign-in throttle.

Kept apart from `sections` (the answering sections) because serving has grown settings of its own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from followup_bot.settings.sections import _Section


class UISettings(_Section):
    host: str = Field("127.0.0.1", description="Address the chat page binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the chat page.")
    auth_user: str = Field("", description="Basic-auth user name; empty disables auth.")
    auth_password_env: str = Field(
        "FOLLOWUP_BOT_UI_PASSWORD", description="Environment variable holding the basic-auth password."
    )
    concurrency_limit: int = Field(
        2, ge=1, le=64, description="Questions answered at once (retrieval workers); the rest wait in the queue."
    )
    max_queue: int = Field(
        64,
        ge=1,
        le=10000,
        description="Questions waiting for a worker; past it a question gets a 'busy, try again' answer (never an "
        "HTTP 503). Emergency and crisis replies never wait.",
    )
    max_in_flight_per_session: int = Field(
        2, ge=1, le=64, description="Questions one page session or API client may have waiting or being answered."
    )
    max_in_flight_per_ip: int = Field(
        8,
        ge=1,
        le=10000,
        description="Questions one address may have in flight through /ask (behind a proxy on this host, the "
        "X-Forwarded-For address).",
    )
    torch_threads: int = Field(
        1, ge=0, le=64, description="torch threads for the embedding model when serving; 0 keeps torch's default."
    )
    feedback_path: Path = Field(
        Path(".followup_bot/feedback.jsonl"), description="JSONL file that feedback is appended to."
    )
    feedback_max_bytes: int = Field(
        10_000_000, ge=10_000, le=10**12, description="Size past which the feedback log is rotated."
    )
    feedback_backups: int = Field(
        5, ge=0, le=100, description="Rotated feedback logs kept (feedback.jsonl.1 … .N); 0 keeps none."
    )
    feedback_per_minute: int = Field(10, ge=1, le=10000, description="Ratings one page session may send per minute.")
    login_max_failures: int = Field(
        5, ge=1, le=1000, description="Failed sign-ins from one address before it is locked out (auth on)."
    )
    login_lockout_s: float = Field(
        30.0,
        gt=0,
        le=86400,
        description="First lockout after too many failed sign-ins; it doubles with each further failure, up to 15 min.",
    )
