"""Feedback lines: complete records, and a file that concurrent writers never corrupt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup_bot.models import Answer, Citation
from followup_bot.ui.feedback import append_jsonl, feedback_record, read_jsonl

ANSWER = Answer(
    answer="Lamotrigine lowered the breakpoint [1].",
    citations=[
        Citation(
            marker="[1]",
            source_id="ref1",
            chunk_id="c1",
            quote="Lamotrigine lowered the breakpoint.",
            start=5,
            end=40,
            title="A rat study",
            evidence_level="preclinical",
            chunk_text="long chunk text " * 50,
        )
    ],
    standalone_question="Did lamotrigine lower the breakpoint?",
    disclaimer="For healthcare professionals.",
)


def test_a_feedback_record_holds_question_answer_citations_fingerprint_rating_comment_and_time() -> None:
    record = feedback_record(
        question="Did it work?",
        answer=ANSWER,
        rating="helpful",
        comment="  clear and sourced  ",
        fingerprint="abc123def456",
        audience="clinician",
        now=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    )
    assert record["question"] == "Did it work?"
    assert record["answer"] == ANSWER.answer
    assert (
        record["citations"][0]["marker"] == "[1]"
        and record["citations"][0]["quote"] == "Lamotrigine lowered the breakpoint."
    )
    assert "chunk_text" not in record["citations"][0]  # the quote identifies the span; the chunk would bloat every line
    assert record["config_fingerprint"] == "abc123def456"
    assert record["rating"] == "helpful" and record["comment"] == "clear and sourced"
    assert record["timestamp"].startswith("2026-05-01T12:00:00")
    assert record["standalone_question"] == ANSWER.standalone_question and record["audience"] == "clinician"


def test_an_unknown_rating_is_rejected_and_long_comments_are_truncated() -> None:
    with pytest.raises(ValueError, match="rating"):
        feedback_record(question="q", answer=ANSWER, rating="meh", fingerprint="x")
    record = feedback_record(question="q", answer=ANSWER, rating="not_helpful", comment="x" * 10_000, fingerprint="x")
    assert len(record["comment"]) == 2000


def test_each_append_adds_exactly_one_valid_json_line_and_creates_missing_folders(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "feedback.jsonl"
    append_jsonl(path, {"n": 1, "comment": "line\nbreak and unicode: é ✓"})
    append_jsonl(path, {"n": 2})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["n"] for line in lines] == [1, 2]
    assert read_jsonl(path)[0]["comment"] == "line\nbreak and unicode: é ✓"


def test_a_line_left_unfinished_by_a_crashed_writer_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    append_jsonl(path, {"n": 1})
    with open(path, "ab") as fh:
        fh.write(b'{"n": 2, "trunc')  # a writer killed mid-line
    append_jsonl(path, {"n": 3})
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"n": 1} and json.loads(lines[-1]) == {"n": 3}


def _check(path: Path, expected: int) -> None:
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""  # the file ends with a newline
    records = [json.loads(line) for line in lines[:-1]]  # every line is whole, valid JSON
    assert len(records) == expected
    assert len({(r["writer"], r["i"]) for r in records}) == expected  # none lost, none duplicated


def test_many_threads_appending_at_once_never_corrupt_the_file(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    writers, per_writer = 16, 40
    padding = "x" * 20_000  # lines far larger than a pipe buffer or page, to expose torn writes
    barrier = threading.Barrier(writers)

    def write(writer: int) -> None:
        barrier.wait()
        for i in range(per_writer):
            append_jsonl(path, {"writer": writer, "i": i, "comment": padding})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _check(path, writers * per_writer)


WRITER = """
import sys
from followup_bot.ui.feedback import append_jsonl
path, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    append_jsonl(path, {"writer": writer, "i": i, "comment": "y" * (1000 + 997 * (i % 50))})
"""


def test_many_processes_appending_at_once_never_corrupt_the_file(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    processes, per_process = 4, 150
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(p), str(per_process)], env=env)
        for p in range(processes)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * processes
    _check(path, processes * per_process)
