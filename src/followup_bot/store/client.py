"""The Chroma client, collection names, the list of articles in a store, and the ingest lock.

Every article has its own pair of collections (passages, and their sentences). Measured with
118 articles of ~90 passages (benchmarks/bench_collections.py), a dense query in a collection of
its own took 1.6 ms at p50 against 9.2 ms in one shared collection filtered by article: Chroma
pre-filters through SQLite, and that cost grows with the library while a per-article HNSW index
does not. Separate collections also make scoping structural (a conversation cannot see another
article's passages because it never queries their collection) and let an import replace one
article without rewriting a state shared by all. The price is about twice the disk (HNSW
segment files per collection), which the benchmark reports.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from followup_bot.embeddings import model_identity
from followup_bot.errors import StoreError
from followup_bot.settings import Settings
from followup_bot.store.guard import DATABASE, GuardedClient, check_database

STATE_KEY = "followup_state"
ARTICLE_KEY = "followup_article"
TITLE_KEY = "followup_title"
SENTENCES = "-sentences"
# One collection of single-word vectors per configuration, shared by all articles: words recur.
WORDS = "-words"
_VALID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]$")


def collection_base(settings: Settings) -> str:
    """The prefix of this configuration's collections: a hash of the embedding model and the chunking.

    A model swap builds new collections instead of mixing vectors from two models in one index.
    """
    basis = json.dumps(
        {"model": model_identity(settings.embeddings), "chunking": settings.chunking.model_dump()}, sort_keys=True
    )
    return f"{settings.store.collection_prefix}-{hashlib.sha256(basis.encode()).hexdigest()[:16]}"


def collection_name(settings: Settings, article: str = "default") -> str:
    """The passage collection of one article (its sentences live in the same name plus "-sentences")."""
    name = f"{collection_base(settings)}-{article}"
    if not _VALID.match(name + SENTENCES):
        # Chroma allows 3-512 characters of [a-zA-Z0-9._-]; an odd id keeps a readable prefix and a hash.
        safe = re.sub(r"[^a-zA-Z0-9._-]+", "-", article).strip("._-")[:40] or "article"
        name = f"{collection_base(settings)}-{safe}-{hashlib.sha256(article.encode()).hexdigest()[:8]}"
    return name


# Chroma's http client waits forever by default: a hung server would hang every reader with it.
HTTP_TIMEOUT_S = 60.0
HTTP_CONNECT_TIMEOUT_S = 5.0
# The identity (device, inode) of the database file that this process's Chroma opened, per store folder.
_opened: dict[str, tuple[int, int] | None] = {}


def store_identity(settings: Settings) -> tuple[int, int] | None:
    """Which database file the store folder holds now (None in http mode, or when there is none).

    A different answer from the one at opening means the folder was deleted or replaced under a
    running process, whose Chroma still reads the old, unlinked file.
    """
    if settings.store.mode == "http":
        return None
    try:
        st = (settings.resolve(settings.store.path) / DATABASE).stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _forget_stale_system(key: str, identity: tuple[int, int] | None) -> None:
    """Make the next PersistentClient for this folder open the files there now, not the ones it had open.

    Chroma keeps one system per folder for the process's lifetime and hands it to every new client,
    so after the folder was deleted even a new client would read (and fail to write) the unlinked
    files. The old system is dropped from that cache, not stopped: indexes built from it may still
    be reading through it.
    """
    if key in _opened and _opened[key] != identity:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(key, None)
        SharedSystemClient._identifier_to_refcount.pop(key, None)


@contextlib.contextmanager
def _opening(folder: Path) -> Iterator[None]:
    """One process at a time creates or migrates a store's database (two first ingests may start together).

    A folder where the lock file cannot be written (a read-only store) is opened without it.
    """
    import fcntl

    try:
        fh = open(folder / ".open.lock", "a+")  # closed by the `with` below, after the lock is released
    except OSError:
        yield
        return
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def make_client(settings: Settings) -> GuardedClient:
    """The store's Chroma client; any failure, now or in a later call, is a `StoreError` naming the store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    store = settings.store
    try:
        if store.mode == "http":
            _preflight(store.host, store.port)
            client = chromadb.HttpClient(host=store.host, port=store.port, settings=chroma_settings)
            _set_timeout(client)
            client.heartbeat()
            return GuardedClient(client, settings)
        path = settings.resolve(store.path)
        if path.exists() and not path.is_dir():
            raise StoreError(f"store.path = {path} is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        with _opening(path):
            check_database(path)
            identity = store_identity(settings)
            _forget_stale_system(str(path), identity)
            client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
            client.list_collections()
            _opened[str(path)] = store_identity(settings)
        return GuardedClient(client, settings)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - chromadb raises many types; all mean "unusable store"
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if store.mode == "http":
            raise StoreError(
                f"cannot reach the Chroma server at {store.host}:{store.port} (store.host/store.port): {detail}"
            ) from None
        raise StoreError(
            f"the vector store at {settings.resolve(store.path)} is unreadable ({detail}); move it aside or "
            "delete it, then run `followup-bot ingest`"
        ) from None


def _preflight(host: str, port: int) -> None:
    """Reach the server once with a timeout: Chroma's client asks it about tenants while it is being
    built, before its requests can be given one, so a hung server would hang the constructor."""
    import httpx

    httpx.get(
        f"http://{host}:{port}/api/v2/heartbeat", timeout=httpx.Timeout(HTTP_TIMEOUT_S, connect=HTTP_CONNECT_TIMEOUT_S)
    )


def _set_timeout(client: Any) -> None:
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(HTTP_TIMEOUT_S, connect=HTTP_CONNECT_TIMEOUT_S)


def reachable(client: Any) -> bool:
    """Whether an http-mode client's server answers now (a persistent client always does)."""
    try:
        client.heartbeat()
    except StoreError:
        return False
    return True


def list_articles(client: Any, settings: Settings) -> dict[str, dict[str, Any]]:
    """The articles indexed for this configuration: id → {title, chunks, documents, collection}."""
    base = collection_base(settings) + "-"
    out: dict[str, dict[str, Any]] = {}
    try:
        collections = client.list_collections()
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - chromadb raises many types; all mean "unusable store"
        raise StoreError(f"cannot list the store's collections ({str(exc)[:200]})") from None
    for coll in collections:
        name = getattr(coll, "name", coll)
        if not name.startswith(base) or name.endswith(SENTENCES) or name == base + WORDS[1:]:
            continue
        meta = getattr(coll, "metadata", None) or client.get_collection(name, embedding_function=None).metadata or {}
        article = meta.get(ARTICLE_KEY) or name[len(base) :]
        try:
            state = json.loads(meta.get(STATE_KEY) or "{}")
        except json.JSONDecodeError:
            state = {}
        docs = state.get("docs", {})
        out[article] = {
            "title": meta.get(TITLE_KEY, ""),
            "chunks": sum(int(d.get("chunks", 0)) for d in docs.values()),
            "documents": len(docs),
            "collection": name,
        }
    return out


@contextlib.contextmanager
def ingest_lock(settings: Settings, timeout_s: float = 600.0) -> Iterator[None]:
    """One ingest at a time per store: a second one waits for the first, or fails clearly after a while.

    Two processes writing the same collections at once would each commit a state that does not
    know about the other's passages. A file lock in the store folder serialises them (persistent
    mode; a Chroma server serialises its own writes).
    """
    if settings.store.mode != "persistent":
        yield
        return
    import fcntl

    folder = settings.resolve(settings.store.path)
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(folder) / ".ingest.lock"
    with open(path, "a+") as fh:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"another ingest is still writing the store at {folder} (waited {timeout_s:.0f} s); "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.2)
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(str(os.getpid()))
            fh.flush()
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def store_path_for_display(settings: Settings) -> str:
    if settings.store.mode == "http":
        return f"http://{settings.store.host}:{settings.store.port}"
    return str(Path(settings.resolve(settings.store.path)))
