"""Dense search for one article that keeps answering when the store fails under a running service.

`HybridRetriever` asks Chroma for the passages nearest to each question. An article's index also
holds every live passage vector in memory, so when that call fails (the store folder deleted under
the service, the Chroma server down or restarting) the same search runs over those vectors instead:
exact cosine over the article's passages, which ranks as Chroma's HNSW does at this size, so the
reader gets the answer the index holds rather than an error. After a failure Chroma is tried again
through a reopened client at once (a restarted server leaves a stale connection behind) and then
every `retry_after_s`, so the service returns to the store when it is back, without a restart. A
warning is logged when the search leaves the store, and again when it returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger("followup_bot.store")


class _Hit:
    """The part of a LangChain `Document` that retrieval reads."""

    __slots__ = ("metadata",)

    def __init__(self, chunk_id: str) -> None:
        self.metadata = {"chunk_id": chunk_id}


class DenseSearch:
    """The vector-store interface `HybridRetriever.dense` calls, with the in-memory fallback described above."""

    def __init__(
        self,
        open_store: Callable[[], Any],
        vectors: dict[str, np.ndarray],
        label: str,
        store: Any = None,
        retry_after_s: float = 10.0,
    ) -> None:
        self._open = open_store
        self._store = store
        self._ids = list(vectors)
        self._matrix = np.stack([vectors[i] for i in self._ids]) if self._ids else np.zeros((0, 1), dtype=np.float32)
        self.label = label
        self.retry_after_s = retry_after_s
        self._failed_at = -float("inf")  # when the store last failed a retry
        self._lock = threading.Lock()
        # Why the search runs in memory now (the store's error), or None while Chroma answers.
        self.degraded: str | None = None

    def similarity_search_by_vector_with_relevance_scores(
        self, embedding: list[float], k: int = 4, filter: dict[str, Any] | None = None, **kwargs: Any
    ) -> list[tuple[Any, float]]:
        store = self._store
        if store is not None:
            try:
                return list(store.similarity_search_by_vector_with_relevance_scores(embedding, k=k, filter=filter))
            except Exception as exc:  # noqa: BLE001 - whatever the store raised, the index in memory can answer
                self._failed(exc, pause=False)
        if time.monotonic() >= self._failed_at + self.retry_after_s and self._lock.acquire(blocking=False):
            try:
                store = self._open()
                hits = list(store.similarity_search_by_vector_with_relevance_scores(embedding, k=k, filter=filter))
            except Exception as exc:  # noqa: BLE001 - still down: try again after a pause
                self._failed(exc, pause=True)
            else:
                self._store = store
                if self.degraded is not None:
                    log.warning("dense search for %s uses the vector store again", self.label)
                self.degraded = None
                return hits
            finally:
                self._lock.release()
        return self.in_memory(embedding, k)

    def in_memory(self, embedding: list[float], k: int) -> list[tuple[Any, float]]:
        """The k nearest passages by exact cosine, each with its cosine distance (as Chroma reports it)."""
        if not self._ids:
            return []
        sims = self._matrix @ np.asarray(embedding, dtype=self._matrix.dtype)
        order = np.argsort(-sims, kind="stable")[:k]
        return [(_Hit(self._ids[i]), float(1.0 - sims[i])) for i in order]

    def _failed(self, exc: BaseException, *, pause: bool) -> None:
        self._store = None
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        if self.degraded is None:
            log.warning("dense search for %s falls back to the passage vectors in memory: %s", self.label, reason)
        self.degraded = reason
        if pause:
            self._failed_at = time.monotonic()
