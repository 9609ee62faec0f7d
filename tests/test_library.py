"""Importing real JATS articles and answering about each, scoped to its own documents.

Real processes, the real embedding model and a real Chroma store in a temporary folder; two
short PLOS articles keep it to about a minute.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]
BOT = str(Path(sys.executable).with_name("followup-bot"))
PLOS = REPO / "corpus" / "plos"
LETTER = PLOS / "journal.pmed.0030205.xml"  # "Mischievous Odds Ratios", a short letter with 3 references
XMRV = PLOS / "journal.pone.0008519.xml"  # XMRV in chronic fatigue syndrome, 26 references


def run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FOLLOWUP_BOT_STORE__PATH": str(home / "chroma"),
        "FOLLOWUP_BOT_LIBRARY__DIR": str(home / "library"),
    }
    return subprocess.run([BOT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def snapshot(home: Path) -> dict[str, object]:
    """Every library file with its bytes, and every indexed article with its passage count.

    The store is compared by what it holds, not by its bytes: opening SQLite rewrites its header.
    """
    out: dict[str, object] = {}
    for p in sorted((home / "library").rglob("*")):
        if p.is_file():
            out[str(p.relative_to(home))] = p.read_bytes()
    out["articles"] = json.loads(run(["articles", "--json"], home).stdout)["articles"]
    return out


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("library")
    result = run(["import", str(LETTER), str(XMRV), "--json"], home)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["added"] == 2 and not data["failed"]
    return home


def test_import_reports_each_article_with_its_documents_passages_and_references(home: Path) -> None:
    result = run(["import", str(XMRV), "--json"], home)
    data = json.loads(result.stdout)
    assert (data["added"], data["updated"], data["unchanged"]) == (0, 0, 1)
    article = data["articles"][0]
    assert article["id"] == "journal.pone.0008519" and article["references"] == 26
    assert article["documents"] == 27 and article["chunks"] > 20
    assert "XMRV" in article["title"]


def test_articles_lists_the_corpus_article_and_every_import(home: Path) -> None:
    data = json.loads(run(["articles", "--json"], home).stdout)
    ids = [a["id"] for a in data["articles"]]
    assert ids[0] == "lamotrigine-ketamine" and {"journal.pmed.0030205", "journal.pone.0008519"} <= set(ids)
    assert all(set(a) >= {"id", "title", "documents", "chunks"} for a in data["articles"])


def test_an_answer_about_an_imported_article_quotes_only_that_article(home: Path) -> None:
    result = run(
        ["ask", "How many CFS patients were tested for XMRV?", "--article", "journal.pone.0008519", "--json"], home
    )
    answer = json.loads(result.stdout)
    assert answer["article_id"] == "journal.pone.0008519" and not answer["refused"]
    assert "186" in answer["answer"]
    manifest = (home / "library" / "journal.pone.0008519" / "article.md").read_text()
    for citation in answer["citations"]:
        assert citation["source_id"] == "article" and " ".join(citation["quote"].split()) in " ".join(manifest.split())


def test_a_question_about_a_cited_work_is_answered_from_its_reference_record(home: Path) -> None:
    result = run(["ask", "Who wrote reference 1?", "--article", "journal.pone.0008519", "--json"], home)
    answer = json.loads(result.stdout)
    assert not answer["refused"] and any(c["source_id"] == "ref1" for c in answer["citations"])
    assert "Lombardi" in answer["answer"]


def test_retrieval_never_returns_another_articles_passages(home: Path) -> None:
    question = "Did lamotrigine reduce ketamine self-administration in rats?"
    result = run(["retrieve", question, "--article", "journal.pone.0008519", "--json", "--k", "8"], home)
    passages = json.loads(result.stdout)
    records = (home / "library" / "journal.pone.0008519" / "manifest.toml").read_text()
    assert passages and all(f'id = "{p["source_id"]}"' in records for p in passages)
    assert not any("lamotrigine" in p["text"].lower() for p in passages)


def test_an_unknown_article_is_a_one_line_user_error(home: Path) -> None:
    result = run(["ask", "What was found?", "--article", "no-such-article"], home)
    assert result.returncode == 2 and "no-such-article" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "content,needle",
    [
        (b"<article><front><article-meta><title-group><article-title>x", "not well-formed"),
        (b"<html><body><p>hello</p></body></html>", "not a JATS article"),
        (
            b"<article><front><article-meta><title-group><article-title>T</article-title></title-group>"
            b"</article-meta></front></article>",
            "no body text",
        ),
        (b"\xff\xfe\x00garbage", "broken.xml"),
    ],
)
def test_a_malformed_file_exits_2_with_one_line_naming_it_and_the_library_is_untouched(
    home: Path, tmp_path: Path, content: bytes, needle: str
) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_bytes(content)
    before = snapshot(home)
    result = run(["import", str(bad)], home)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("followup-bot:")]
    assert len(errors) == 1 and "broken.xml" in errors[0] and needle in errors[0]
    assert snapshot(home) == before


def test_a_multi_file_import_reports_each_failure_and_imports_the_rest(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text("<article>")
    twin = tmp_path / "twin"
    twin.mkdir()
    (twin / "copy.xml").write_bytes(LETTER.read_bytes())
    result = run(["import", str(bad), str(LETTER), str(twin / "copy.xml"), "--json"], home)
    data = json.loads(result.stdout)
    assert result.returncode == 2
    assert [a["id"] for a in data["articles"]] == ["journal.pmed.0030205"] and data["unchanged"] == 1
    failed = {f["path"]: f["error"] for f in data["failed"]}
    assert "bad.xml" in failed[str(bad)] and "duplicate article id" in failed[str(twin / "copy.xml")]


def test_a_follow_up_an_unanswerable_question_and_an_emergency_on_an_imported_article(home: Path) -> None:
    conv = home / "conv.json"
    conv.write_text(
        json.dumps(
            [
                {"role": "user", "content": "How many CFS patients were tested for XMRV?"},
                {"role": "assistant", "content": "The study tested 186 patients with chronic fatigue syndrome."},
            ]
        )
    )
    args = ["--article", "journal.pone.0008519", "--json"]
    follow = json.loads(run(["ask", "And how many of them were positive?", "--history", str(conv), *args], home).stdout)
    assert not follow["refused"] and "following up on" in follow["standalone_question"]
    unknown = json.loads(run(["ask", "What did the authors find about sertraline?", *args], home).stdout)
    assert unknown["refused"] and unknown["refusal_reason"] == "not_in_sources"
    danger = json.loads(run(["ask", "my friend collapsed and is not breathing what do i do", *args], home).stdout)
    assert danger["refusal_reason"] == "emergency" and danger["article_id"] == "journal.pone.0008519"


def test_the_library_works_on_a_chroma_server(tmp_path: Path) -> None:
    """Import and ask with `[store] mode = "http"` against a real `chroma run`."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed next to this Python")
    server = subprocess.Popen(
        [str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    env = {
        **os.environ,
        "FOLLOWUP_BOT_STORE__MODE": "http",
        "FOLLOWUP_BOT_STORE__PORT": str(port),
        "FOLLOWUP_BOT_LIBRARY__DIR": str(tmp_path / "library"),
    }

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([BOT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)

    try:
        deadline = time.time() + 60
        while (result := bot("import", str(LETTER), "--json")).returncode != 0:
            assert time.time() < deadline and server.poll() is None, result.stderr
            time.sleep(1)
        assert json.loads(result.stdout)["added"] == 1
        answer = json.loads(bot("ask", "Who wrote reference 1?", "--article", "journal.pmed.0030205", "--json").stdout)
        assert answer["article_id"] == "journal.pmed.0030205" and not answer["refused"]
        assert any(c["source_id"] == "ref1" for c in answer["citations"])
        listed = json.loads(bot("articles", "--json").stdout)["articles"]
        assert "journal.pmed.0030205" in [a["id"] for a in listed]
    finally:
        server.terminate()
        server.wait(timeout=20)
