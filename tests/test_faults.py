"""Faults of the vector store under a real service: each ends with an answer, or one clear line, and nothing lost.

- The store folder is deleted while serving (test_the_store_folder_deleted_while_serving): a cached
  article still answers (dense search falls back to its passage vectors in memory); an article not
  built yet is ingested again into a reopened store, or, without auto-ingest, is one StoreError
  saying to ingest; a new assistant re-ingests the default article.
- chroma.sqlite3 is damaged before start (test_a_damaged_database_*): exit 2 and one line naming
  the store folder and saying to move it aside and ingest (SQLite's quick_check finds the damage).
- Two ingests of one store run at once (test_two_ingests_at_once_*): the second waits for the
  ingest lock, then finds the index current; the index is whole and answers.
- An ingest is killed with `kill -9` halfway (test_an_ingest_killed_halfway_*): the previous index
  stays live and answers; the next ingest, of the old corpus or the changed one, removes the orphans.
- The Chroma server goes down and comes back (test_the_chroma_server_down_and_back): cached articles
  answer from memory; whatever needs the server is one StoreError naming host:port, at once; a hung
  server costs a timeout; when it is back the same assistant uses it again, without a restart.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from followup_bot.assistant import Assistant
from followup_bot.errors import StoreError
from followup_bot.settings import Settings
from followup_bot.store import ChunkStore
from followup_bot.store import client as store_client
from support import free_port

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]
BOT = str(Path(sys.executable).with_name("followup-bot"))
CHROMA = str(Path(sys.executable).with_name("chroma"))
QUESTION = "What did the Veraart review find about lithium?"
ZINC_QUESTION = "How many days did colds last with zinc lozenges?"
ZINC_ARTICLE = """# Zinc lozenges for the common cold

## Findings

In the trial, 120 adults with a cold took zinc acetate lozenges (75 mg of zinc a day) or placebo lozenges.

Colds lasted 4.5 days on average with zinc and 7.1 days with placebo.

## Harms

Nausea was reported by 12 of the 60 adults who took zinc, and a bad taste by 20 of them.
"""


def write_article(folder: Path, article_id: str, title: str, body: str) -> Path:
    """A one-document article folder (manifest + article.md), as `followup-bot import` writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "article.md").write_text(body, encoding="utf-8")
    (folder / "manifest.toml").write_text(
        f'id = "{article_id}"\ntitle = "{title}"\n\n[[documents]]\nid = "article"\npath = "article.md"\n'
        f'kind = "article"\ntitle = "{title}"\n',
        encoding="utf-8",
    )
    return folder


def one_line(message: str) -> str:
    assert message.strip() and "\n" not in message.strip() and "Traceback" not in message, message
    return message.strip()


def cli_env(store: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "FOLLOWUP_BOT_STORE__PATH": str(store)}
    return {**env, **extra}


def run(args: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BOT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


# What a store holds, read in a process of its own (this one's Chroma would cache what it saw).
PROBE = """
import json
from followup_bot.settings import load_settings
from followup_bot.store import ChunkStore
store = ChunkStore(load_settings())
live = store.live_chunks()
rows = store.client.get_collection(store.name).get(include=[])["ids"]
sentences = store.client.get_collection(store.name + "-sentences").get(include=[])["ids"]
print(json.dumps({"live": sorted(c.chunk_id for c in live), "rows": len(rows), "sentence_rows": len(sentences),
                  "live_sentences": sum(len(c.sentences) for c in live)}))
"""


def probe(env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


@pytest.fixture
def built_store(tmp_path: Path, assistant: Any, session_settings: Settings) -> Path:
    """A copy of the session's store, which already holds the corpus article (no ingest needed)."""
    target = tmp_path / "chroma"
    shutil.copytree(session_settings.resolve(session_settings.store.path), target)
    return target


# -- the store folder deleted under a running service ------------------------------------------------
def test_the_store_folder_deleted_while_serving(tmp_path: Path, built_store: Path) -> None:
    write_article(tmp_path / "library" / "zinc", "zinc-colds", "Zinc lozenges for the common cold", ZINC_ARTICLE)
    settings = make_settings(tmp_path, library={"dir": tmp_path / "library"})
    served = Assistant.from_settings(settings)
    before = served.ask(QUESTION)
    assert before.citations and not before.refused

    shutil.rmtree(built_store)
    cached = served.ask(QUESTION)
    assert (cached.answer, [c.quote for c in cached.citations]) == (before.answer, [c.quote for c in before.citations])

    # An article not built yet needs the store: without auto-ingest, one line saying what to do…
    library = served.components.library
    library.auto_ingest = False
    with pytest.raises(StoreError) as missing:
        served.ask(ZINC_QUESTION, article="zinc-colds")
    assert "zinc-colds" in one_line(str(missing.value)) and "followup-bot ingest" in str(missing.value)
    # …and with it (the default), the store is reopened and the article ingested again.
    library.auto_ingest = True
    zinc = served.ask(ZINC_QUESTION, article="zinc-colds")
    assert "4.5 days" in zinc.answer and zinc.citations
    assert served.ask(QUESTION).answer == before.answer  # the cached article is still served

    # A new assistant (a restart) re-ingests the default article into the new store.
    restarted = Assistant.from_settings(settings)
    assert restarted.ask(QUESTION).answer == before.answer
    assert len(ChunkStore(settings, client=restarted.components.library.client).live_chunks()) == len(
        served.article().chunks
    )


# -- a damaged database before start ------------------------------------------------------------------
def _damage(db: Path, how: str) -> None:
    data = bytearray(db.read_bytes())
    rnd = random.Random(how)
    if how == "garbage":
        data = bytearray(b"this is not a database" * 200)
    elif how == "truncated":
        data = data[: len(data) // 2]
    elif how == "first_page":
        data[100:4096] = bytes(rnd.randrange(256) for _ in range(3996))
    elif how == "middle":
        start = len(data) // 3
        data[start : start + 20000] = bytes(rnd.randrange(256) for _ in range(20000))
    db.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["garbage", "truncated", "first_page", "middle"])
def test_a_damaged_database_is_one_line_and_exit_2(built_store: Path, how: str) -> None:
    _damage(built_store / "chroma.sqlite3", how)
    result = run(["ask", QUESTION], cli_env(built_store), timeout=300)
    assert result.returncode == 2, result.stderr
    line = one_line(result.stderr)
    assert str(built_store) in line and "move" in line and "followup-bot ingest" in line


def test_a_damaged_database_stops_the_chat_server_with_the_same_line(built_store: Path) -> None:
    _damage(built_store / "chroma.sqlite3", "middle")
    result = run(["serve", "--port", str(free_port())], cli_env(built_store), timeout=300)
    assert result.returncode == 2 and str(built_store) in one_line(result.stderr)


# -- two ingests at once -------------------------------------------------------------------------------
def test_two_ingests_at_once_one_waits_and_the_index_is_whole(tmp_path: Path, assistant: Any) -> None:
    env = cli_env(tmp_path / "chroma")
    procs = [
        subprocess.Popen(
            [BOT, "ingest", "--json"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=900) for p in procs]
    codes = [p.returncode for p in procs]
    reports = [json.loads(out) for (out, _), code in zip(outputs, codes, strict=True) if code == 0]
    for (_, err), code in zip(outputs, codes, strict=True):
        if code != 0:  # allowed: one fails, clearly
            assert code == 2 and "another ingest" in one_line(err.splitlines()[-1])
    assert reports, outputs
    expected = len(assistant.article().chunks)  # what one ingest of this corpus gives
    # One wrote everything; if the other ran, it waited for the lock and found the index current.
    assert sorted(r["added"] for r in reports) == ([0, expected] if len(reports) == 2 else [expected])
    assert all(r["chunks"] == expected for r in reports)
    held = probe(env)
    assert len(held["live"]) == held["rows"] == expected
    assert held["sentence_rows"] == held["live_sentences"]
    answer = run(["ask", QUESTION, "--json"], env)
    assert answer.returncode == 0 and json.loads(answer.stdout)["citations"], answer.stderr


# -- an ingest killed halfway ----------------------------------------------------------------------
def _invented_words(n: int) -> list[str]:
    """Words no embedding cache holds yet, so the ingest spends seconds embedding them after its rows are written."""
    rnd = random.Random(9)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    return ["".join(rnd.choice(syllables) for _ in range(4)) for _ in range(n)]


def _queue_rows(db: Path) -> int:
    """Rows Chroma has written (its write-ahead log in SQLite), read without disturbing the writer."""
    for _ in range(50):
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
                return int(con.execute("SELECT count(*) FROM embeddings_queue").fetchone()[0])
        except sqlite3.OperationalError:
            time.sleep(0.02)
    raise AssertionError("could not read the store's database")


def test_an_ingest_killed_halfway_leaves_the_old_index_and_the_next_one_cleans_up(
    tmp_path: Path, tmp_corpus: Path, built_store: Path
) -> None:
    old = cli_env(built_store, FOLLOWUP_BOT_CORPUS__DIR=str(tmp_corpus))
    before = probe(old)
    assert len(before["live"]) == before["rows"]

    changed = tmp_path / "changed"
    shutil.copytree(tmp_corpus, changed)
    words = _invented_words(1500)
    body = "# Appendix\n\n" + "\n\n".join(" ".join(words[i : i + 12]) + "." for i in range(0, len(words), 12))
    (changed / "sources" / "appendix.md").write_text(body, encoding="utf-8")
    with (changed / "manifest.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[[documents]]\nid = "appendix"\npath = "sources/appendix.md"\nkind = "source"\ntitle = "Appendix"\n'
        )
    new = cli_env(built_store, FOLLOWUP_BOT_CORPUS__DIR=str(changed))

    db = built_store / "chroma.sqlite3"
    written_before = _queue_rows(db)
    ingest = subprocess.Popen([BOT, "ingest"], cwd=REPO, env=new, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while _queue_rows(db) == written_before:  # the model has loaded, embedded, and begun writing rows
        assert ingest.poll() is None and time.monotonic() < deadline, ingest.communicate()
        time.sleep(0.02)
    os.kill(ingest.pid, signal.SIGKILL)
    ingest.wait(timeout=30)
    assert ingest.returncode == -signal.SIGKILL

    # The previous index is exactly what it was, and it answers (a service started on it now).
    after = probe(old)
    assert after["live"] == before["live"] and after["rows"] > before["rows"]  # orphan rows, not live
    answer = run(["ask", QUESTION, "--json"], old)
    assert answer.returncode == 0 and json.loads(answer.stdout)["citations"], answer.stderr

    # The next ingest of the unchanged corpus removes the orphans without loading the model…
    swept = run(["ingest", "--json"], old)
    assert swept.returncode == 0, swept.stderr
    report = json.loads(swept.stdout)
    assert report["orphans"] == after["rows"] - before["rows"] and report["added"] == 0
    held = probe(old)
    assert held["live"] == before["live"] and held["rows"] == len(before["live"])
    assert held["sentence_rows"] == held["live_sentences"]

    # …and the changed corpus ingests completely, with no row left over.
    done = run(["ingest", "--json"], new)
    assert done.returncode == 0, done.stderr
    final = probe(new)
    assert len(final["live"]) == final["rows"] == json.loads(done.stdout)["chunks"] > len(before["live"])
    assert final["sentence_rows"] == final["live_sentences"]


# -- the Chroma server down, then back ----------------------------------------------------------------
def _start_chroma(folder: Path, port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [CHROMA, "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    import httpx

    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        assert server.poll() is None and time.monotonic() < deadline, "the Chroma server did not start"
        time.sleep(0.3)


def _stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.kill(server.pid, signal.SIGCONT)
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=20)


def test_the_chroma_server_down_and_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = write_article(tmp_path / "zinc", "zinc-colds", "Zinc lozenges for the common cold", ZINC_ARTICLE)
    other = tmp_path / "library" / "zinc-again"
    write_article(other, "zinc-again", "Zinc again", ZINC_ARTICLE.replace("4.5 days", "4.4 days"))
    port = free_port()
    settings = make_settings(
        tmp_path, corpus, store={"mode": "http", "port": port}, library={"dir": tmp_path / "library"}
    )
    server = _start_chroma(tmp_path / "server", port)
    try:
        served = Assistant.from_settings(settings)
        before = served.ask(ZINC_QUESTION)
        assert "4.5 days" in before.answer
        dense = served.components.article().retriever.vectorstore
        assert dense.degraded is None

        _stop(server)
        t0 = time.monotonic()
        cached = served.ask(ZINC_QUESTION)  # the cached article answers from its vectors in memory
        assert cached.answer == before.answer and dense.degraded
        with pytest.raises(StoreError) as down:
            served.ask(ZINC_QUESTION, article="zinc-again")  # needs the server: one line, at once
        assert f"127.0.0.1:{port}" in one_line(str(down.value)) and "cannot reach" in str(down.value)
        with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
            Assistant.from_settings(settings)
        assert time.monotonic() - t0 < 60

        server = _start_chroma(tmp_path / "server", port)  # same data, same port
        again = served.ask(ZINC_QUESTION, article="zinc-again")  # no restart of the assistant
        assert "4.4 days" in again.answer
        dense.retry_after_s = 0.0
        assert served.ask(ZINC_QUESTION).answer == before.answer and dense.degraded is None  # back on the store

        # A server that hangs (stopped, not gone) costs a timeout, not a hung reader.
        monkeypatch.setattr(store_client, "HTTP_TIMEOUT_S", 2.0)
        os.kill(server.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
            ChunkStore(settings)
        assert time.monotonic() - t0 < 30
        os.kill(server.pid, signal.SIGCONT)
    finally:
        _stop(server)
