"""Helpers several test modules share (not fixtures; imported as `from support import …`)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from followup_bot.settings import Settings


def free_port() -> int:
    """A port nothing listens on right now, for a real server started by a test."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_feedback_file(settings: Settings, folder: Path) -> Settings:
    """A copy of the shared settings whose feedback log goes to the test's own folder."""
    copy = settings.model_copy(deep=True)
    copy.ui.feedback_path = folder / "feedback.jsonl"
    return copy


AUTH = ("reviewer", "s3cret")


@contextmanager
def signed_in_server(assistant: Any, settings: Settings) -> Iterator[str]:
    """A real chat server with sign-in on (user `AUTH`), on a free port; its URL, closed afterwards."""
    from followup_bot.ui import build_app, launch

    app = build_app(assistant, settings)
    url = launch(app, settings, host="127.0.0.1", port=free_port(), auth=AUTH, prevent_thread_lock=True, quiet=True)
    try:
        yield url
    finally:
        app.close()


class ProxyRecorder:
    """A TCP listener standing in for a proxy: it records the first line of whatever connects
    (e.g. "CONNECT dns.google:443 HTTP/1.1"), so a test can see every request sent through a proxy."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1") or "(sent nothing)")
                except OSError:
                    self.seen.append("(connected, sent nothing)")

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=2)
