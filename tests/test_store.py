"""The Chroma store with the real embedding model: idempotent, incremental, safe, and clear."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from followup_bot.embeddings import EmbeddingError, SentenceTransformerEmbeddings
from followup_bot.settings import Settings
from followup_bot.store import ChunkStore, StoreError, collection_name
from support import free_port

pytestmark = pytest.mark.integration


def ids_by_source(store: ChunkStore) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for chunk in store.live_chunks():
        out.setdefault(chunk.source_id, set()).add(chunk.chunk_id)
    return out


def test_ingest_is_idempotent_incremental_and_removes_vanished_documents(
    tmp_settings: Settings, tmp_corpus: Path
) -> None:
    store = ChunkStore(tmp_settings)
    first = store.ingest()
    assert first.added == first.chunks > 50 and first.removed == 0
    before = ids_by_source(store)
    assert set(before) == {"article", "ref1", "ref2", "ref3", "ref4", "ref5"}

    # Nothing changed: no model load, nothing written, about a second at most.
    fresh = ChunkStore(tmp_settings)
    t0 = time.perf_counter()
    again = fresh.ingest()
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, first.chunks)
    assert not again.model_loaded and fresh._embedder is None
    assert time.perf_counter() - t0 < 2.0

    # Editing one document changes only that document's chunks.
    card = tmp_corpus / "sources" / "ref4_veraart2021.md"
    card.write_text(
        card.read_text().replace("Twenty-four studies were included.", "Twenty-four studies were included in total.")
    )
    edited = ChunkStore(tmp_settings).ingest()
    assert edited.added == 1 and edited.removed == 1
    after = ids_by_source(store)
    for source in before:
        if source != "ref4":
            assert after[source] == before[source]
    assert len(after["ref4"] ^ before["ref4"]) == 2

    # Removing a document from the manifest removes its chunks.
    manifest = tmp_corpus / "manifest.toml"
    text = manifest.read_text()
    start = text.index('[[documents]]\nid = "ref5"')
    manifest.write_text(text[:start])
    removed = ChunkStore(tmp_settings).ingest()
    assert removed.removed == len(before["ref5"]) and "ref5" not in ids_by_source(store)
    raw = store.client.get_collection(store.name).get(include=[])
    assert len(raw["ids"]) == removed.chunks  # stale records are deleted, not only hidden


def test_a_crash_mid_ingest_leaves_the_previous_index_usable(
    tmp_settings: Settings, tmp_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ChunkStore(tmp_settings)
    store.ingest()
    before = {c.chunk_id: c.text for c in store.live_chunks()}
    card = tmp_corpus / "sources" / "ref1_lee2019.md"
    card.write_text(
        card.read_text().replace("Spontaneous locomotor activity was also measured.", "Locomotion was measured too.")
    )

    crashing = ChunkStore(tmp_settings, store.embedder)
    original = crashing._write_state

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("power cut before the commit point")

    monkeypatch.setattr(crashing, "_write_state", crash)
    with pytest.raises(RuntimeError):
        crashing.ingest()
    assert {c.chunk_id: c.text for c in ChunkStore(tmp_settings).live_chunks()} == before
    monkeypatch.setattr(crashing, "_write_state", original)
    report = ChunkStore(tmp_settings, store.embedder).ingest()
    assert report.added >= 1 and any("Locomotion" in c.text for c in ChunkStore(tmp_settings).live_chunks())


def test_the_collection_name_depends_on_the_model_and_chunking(tmp_settings: Settings) -> None:
    name = collection_name(tmp_settings)
    tmp_settings.chunking.max_chars = 500
    assert collection_name(tmp_settings) != name
    tmp_settings.chunking.max_chars = 700
    tmp_settings.embeddings.model = "/some/other/model"
    assert collection_name(tmp_settings) != name


def test_a_model_that_cannot_be_loaded_fails_fast_naming_the_config_key(tmp_settings: Settings) -> None:
    for spec in ("sentence-transformers/not-a-cached-model", "package:not_a_real_package", "./no/such/folder"):
        tmp_settings.embeddings.model = spec
        t0 = time.perf_counter()
        with pytest.raises(EmbeddingError, match=r"embeddings\.model"):
            SentenceTransformerEmbeddings(tmp_settings.embeddings).embed_query("x")
        assert time.perf_counter() - t0 < 10


def test_a_dimension_mismatch_is_detected_with_a_clear_message(tmp_settings: Settings) -> None:
    store = ChunkStore(tmp_settings)
    store.ingest()

    class Wider(SentenceTransformerEmbeddings):
        @property
        def dimension(self) -> int:
            return 768

    with pytest.raises(StoreError, match="768"):
        store.check_model(Wider(tmp_settings.embeddings))


def test_a_corrupt_store_gets_a_clear_error(tmp_settings: Settings) -> None:
    path = tmp_settings.resolve(tmp_settings.store.path)
    path.mkdir(parents=True)
    (path / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="unreadable"):
        ChunkStore(tmp_settings)
    file_store = path.parent / "a-file"
    file_store.write_text("x")
    tmp_settings.store.path = file_store
    with pytest.raises(StoreError, match="is a file"):
        ChunkStore(tmp_settings)


def test_http_mode_works_against_a_real_chroma_server(tmp_settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        tmp_settings.store.mode = "http"
        tmp_settings.store.port = port
        deadline = time.time() + 60
        while True:
            try:
                store = ChunkStore(tmp_settings)
                break
            except StoreError:
                if time.time() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        report = store.ingest()
        assert report.added == report.chunks > 50
        assert ChunkStore(tmp_settings).ingest().added == 0
        assert len(store.live_chunks()) == report.chunks
    finally:
        server.terminate()
        server.wait(timeout=20)
    with pytest.raises(StoreError, match="cannot reach"):
        ChunkStore(tmp_settings)
