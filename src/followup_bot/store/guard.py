"""Chroma's failures as one clear `StoreError`, and a damaged database caught before Chroma opens it.

Chroma raises many types for the same few faults (`InternalError` from its Rust core, `ValueError`
for a server it cannot reach, httpx errors when a server dies mid-request, even a Rust panic for
some damaged files), and they reached readers as "internal error: Error executing plan: …".
`GuardedClient` wraps the client and every collection it returns, so each call into Chroma either
succeeds or raises a `StoreError` that names the store (its folder, or the server's host:port) and
says what to do. Only calls into Chroma are translated: a bug in our own code stays a bug.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from followup_bot.errors import FollowupError, StoreError
from followup_bot.settings import Settings

DATABASE = "chroma.sqlite3"
# What a failure of the server itself (not of a request) looks like, whatever layer reports it.
_UNREACHABLE = ("could not connect", "connection refused", "connecterror", "timed out", "timeout", "disconnected")
# SQLite result codes (low byte) that mean "another process holds the file", not damage.
_BUSY = {5, 6}


def _detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] if text else type(exc).__name__


def where(settings: Settings) -> str:
    """The store as a reader can find it: the Chroma server's host:port, or the store folder."""
    store = settings.store
    return f"{store.host}:{store.port}" if store.mode == "http" else str(settings.resolve(store.path))


def translate(settings: Settings, exc: BaseException, doing: str) -> StoreError:
    """One line naming the store, what failed, and what to do about it."""
    detail = _detail(exc)
    store = settings.store
    if store.mode == "http":
        blob = f"{type(exc).__name__} {detail}".lower()
        if isinstance(exc, OSError) or any(word in blob for word in _UNREACHABLE):
            return StoreError(
                f"cannot reach the Chroma server at {store.host}:{store.port} ({doing}: {detail}); "
                "start it (`chroma run`) or fix store.host/store.port"
            )
        return StoreError(f"the Chroma server at {store.host}:{store.port} failed ({doing}: {detail})")
    return StoreError(
        f"the vector store at {settings.resolve(store.path)} failed ({doing}: {detail}); if it was deleted or is "
        "damaged, move it aside and run `followup-bot ingest`"
    )


def _is_panic(exc: BaseException) -> bool:
    """A Rust panic inside Chroma surfaces as pyo3's PanicException, a BaseException."""
    return type(exc).__name__ == "PanicException"


@contextlib.contextmanager
def translated(settings: Settings, doing: str) -> Iterator[None]:
    try:
        yield
    except FollowupError:
        raise
    except Exception as exc:  # every failure of a Chroma call means the same to a reader
        raise translate(settings, exc, doing) from exc
    except BaseException as exc:
        if not _is_panic(exc):
            raise
        raise translate(settings, exc, doing) from exc


class _Guarded:
    """Calls through to the wrapped Chroma object; each method's failure becomes a `StoreError`."""

    def __init__(self, target: Any, settings: Settings) -> None:
        self.raw = target
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.raw, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with translated(self._settings, name):
                out = attr(*args, **kwargs)
            return GuardedCollection(out, self._settings) if _is_collection(out) else out

        return call


class GuardedClient(_Guarded):
    """A Chroma client whose calls, and the collections it hands out, fail only with `StoreError`."""


class GuardedCollection(_Guarded):
    """A Chroma collection whose calls fail only with `StoreError`."""

    @property
    def metadata(self) -> Any:
        return self.raw.metadata

    @property
    def name(self) -> str:
        return str(self.raw.name)


def _is_collection(value: Any) -> bool:
    return type(value).__name__ == "Collection" and type(value).__module__.startswith("chromadb")


def check_database(folder: Path) -> None:
    """Fail with one clear line when the store's SQLite file is damaged, before Chroma reads it.

    Chroma opens some damaged files without complaint and fails later, mid-question, with a
    message about its compactor. SQLite's own structural check (`PRAGMA quick_check`) reads
    every page in milliseconds for this corpus (about a second per few hundred MB). A file
    another process is writing is left to Chroma, which waits for it.
    """
    db = folder / DATABASE
    try:
        if not db.is_file() or db.stat().st_size == 0:
            return  # a new store; Chroma creates the file
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as con:
            rows = con.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        if (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in _BUSY:
            return
        problem = _detail(exc)
    except OSError as exc:
        problem = _detail(exc)
    else:
        found = [str(r[0]) for r in rows if str(r[0]) != "ok"]
        if not found:
            return
        problem = " ".join(found[0].replace("*** in database main ***", "").split())[:200]
    raise StoreError(
        f"the vector store at {folder} is unreadable: {DATABASE} is damaged ({problem}); move the folder aside or "
        "delete it, then run `followup-bot ingest`"
    )
