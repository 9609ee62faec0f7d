"""Feedback lines: complete records, and a file that concurrent writers never corrupt."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from followup_bot.models import Answer, Citation
from followup_bot.ui.feedback import answer_id, append_jsonl, feedback_record, read_jsonl, rotate

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


def test_a_feedback_record_holds_the_rating_the_question_and_the_answer_by_id_and_citations_not_a_copy() -> None:
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
    assert "answer" not in record and record["answer_id"] == answer_id(ANSWER) and len(record["answer_id"]) == 16
    assert record["answer_chars"] == len(ANSWER.answer)
    assert record["citations"] == [{"marker": "[1]", "source_id": "ref1", "chunk_id": "c1", "start": 5, "end": 40}]
    assert record["config_fingerprint"] == "abc123def456"
    assert record["rating"] == "helpful" and record["comment"] == "clear and sourced"
    assert record["timestamp"].startswith("2026-05-01T12:00:00")
    assert record["standalone_question"] == ANSWER.standalone_question and record["audience"] == "clinician"


def test_an_unknown_rating_is_rejected_and_long_questions_and_comments_are_cut_with_a_marker() -> None:
    with pytest.raises(ValueError, match="rating"):
        feedback_record(question="q", answer=ANSWER, rating="meh", fingerprint="x")
    record = feedback_record(
        question="q" * 5000, answer=ANSWER, rating="not_helpful", comment="x" * 10_000, fingerprint="x"
    )
    assert record["comment"] == "x" * 2000 + " …[truncated 8000 characters]"
    assert record["question"] == "q" * 2000 + " …[truncated 3000 characters]"


def test_a_record_stays_a_few_kilobytes_whatever_the_reader_sends(tmp_path: Path) -> None:
    huge = ANSWER.model_copy(update={"answer": "word " * 600_000, "standalone_question": "why " * 700_000})
    record = feedback_record(
        question="é" * 3_000_000, answer=huge, rating="helpful", comment="✓" * 1_000_000, fingerprint="x"
    )
    path = tmp_path / "feedback.jsonl"
    append_jsonl(path, record)
    assert path.stat().st_size < 20_000
    assert read_jsonl(path)[0]["answer_chars"] == 3_000_000


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


def test_the_reader_skips_and_counts_damaged_lines_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    append_jsonl(path, {"n": 1})
    with open(path, "ab") as fh:
        fh.write(b'{"n": 2, "torn\n[1, 2]\n\xff\xfe not utf-8\n')
    append_jsonl(path, {"n": 3})
    with open(path, "ab") as fh:
        fh.write(b'{"n": 4, "killed mid-wri')  # a partial last line
    records = read_jsonl(path)
    assert [r["n"] for r in records] == [1, 3]
    assert records.damaged == 4 and records.damaged_lines == [2, 3, 4, 6]
    assert read_jsonl(tmp_path / "absent.jsonl") == [] and read_jsonl(tmp_path / "absent.jsonl").damaged == 0


def test_past_its_size_limit_the_log_rotates_and_keeps_only_the_configured_backups(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    for n in range(40):
        append_jsonl(path, {"n": n, "pad": "x" * 200}, max_bytes=1000, backups=2)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["feedback.jsonl", "feedback.jsonl.1", "feedback.jsonl.2"]
    assert all(p.stat().st_size <= 1000 for p in tmp_path.iterdir())
    kept = [r["n"] for r in read_jsonl(path, rotated=True)]
    assert kept == list(range(40 - len(kept), 40))  # the newest records, in order, oldest file first
    assert len(read_jsonl(path)) < len(kept)


def test_with_no_backups_a_rotation_starts_a_fresh_log(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    append_jsonl(path, {"n": 1, "pad": "x" * 600}, max_bytes=1000, backups=0)
    append_jsonl(path, {"n": 2, "pad": "x" * 600}, max_bytes=1000, backups=0)
    assert [r["n"] for r in read_jsonl(path, rotated=True)] == [2]
    rotate(path, 0)
    assert not path.exists()


ROTATING_WRITER = """
import sys
from followup_bot.ui.feedback import append_jsonl
path, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    append_jsonl(path, {"writer": writer, "i": i, "comment": "z" * (100 + 37 * (i % 20))}, max_bytes=20_000, backups=1000)
"""


def test_writers_in_several_processes_across_many_rotations_lose_no_record(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    processes, per_process = 4, 150
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen([sys.executable, "-c", ROTATING_WRITER, str(path), str(p), str(per_process)], env=env)
        for p in range(processes)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0] * processes
    records = read_jsonl(path, rotated=True)
    assert records.damaged == 0
    assert sorted((r["writer"], r["i"]) for r in records) == sorted(
        (w, i) for w in range(processes) for i in range(per_process)
    )
    assert len(list(tmp_path.iterdir())) > 5 and all(p.stat().st_size <= 20_000 for p in tmp_path.iterdir())


ACKING_WRITER = """
import os, sys
from followup_bot.ui.feedback import append_jsonl
path, writer, count, big, letter = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
for i in range(count):
    size = big if i % 3 == 0 else 100 + 997 * i
    append_jsonl(path, {"writer": writer, "i": i, "size": size, "pad": letter * size})
    os.write(1, f"{writer} {i}\\n".encode())  # acknowledged only once the append returned
"""
MB = 1_000_000


def _acks(output: bytes) -> set[tuple[int, int]]:
    return {(int(w), int(i)) for w, i in (line.split() for line in output.decode().splitlines())}


def test_a_writer_killed_mid_write_leaves_no_torn_acknowledged_record_and_the_reader_reports_the_damage(
    tmp_path: Path,
) -> None:
    path = tmp_path / "feedback.jsonl"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def start(writer: int, count: int, big: int, letter: str) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-c", ACKING_WRITER, str(path), str(writer), str(count), str(big), letter]
        return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)

    writers = [start(w, 15, 2 * MB, letter) for w, letter in enumerate("abc")]  # small and multi-MB records
    acked: set[tuple[int, int]] = set()
    torn = False
    for attempt in range(10):  # the kill must land inside a write; a few tries make that certain
        victim = start(100 + attempt, 1000, 8 * MB, "V")  # 8 MB records of "V", written over and over
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with open(path, "rb") as fh:
                    size = os.fstat(fh.fileno()).st_size
                    last = os.pread(fh.fileno(), 1, size - 1) if size else b""
            except FileNotFoundError:
                continue
            if last == b"V":  # the victim's line is being written right now
                os.kill(victim.pid, signal.SIGKILL)
                break
        out, _ = victim.communicate(timeout=30)
        acked |= _acks(out)
        with open(path, "rb") as fh:
            torn = fh.read().rstrip(b"\n").endswith(b"V") or read_jsonl(path).damaged > 0
        if torn:
            break
    outputs = [p.communicate(timeout=120)[0] for p in writers]
    assert [p.returncode for p in writers] == [0, 0, 0]
    for out in outputs:
        acked |= _acks(out)

    records = read_jsonl(path)
    found = [(r["writer"], r["i"]) for r in records]
    assert torn and records.damaged >= 1  # the reader reports the killed writer's line instead of failing
    assert len(found) == len(set(found))  # nothing written twice
    assert acked <= set(found)  # no acknowledged record lost or torn
    assert all(len(r["pad"]) == r["size"] for r in records)
    assert {(w, i) for w in range(3) for i in range(15)} <= set(found)
    lines = path.read_bytes().split(b"\n")
    bad = [line for line in lines if line and not line.endswith(b"}")]
    assert bad and all(line.startswith(b'{"writer":10') for line in bad)  # only the victim's line is damaged
    path.unlink()  # ~100 MB: do not keep it in pytest's temporary folders


def test_a_full_disk_during_a_write_leaves_no_partial_line_and_raises_enospc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "feedback.jsonl"
    append_jsonl(path, {"n": 1})
    before = path.read_bytes()
    real_write = os.write
    calls: list[int] = []

    def nearly_full(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, data[: len(data) // 2])  # the disk takes half of the line…
        raise OSError(errno.ENOSPC, "No space left on device")  # …then nothing more

    monkeypatch.setattr(os, "write", nearly_full)
    with pytest.raises(OSError) as raised:
        append_jsonl(path, {"n": 2, "pad": "x" * 5000})
    monkeypatch.undo()
    assert raised.value.errno == errno.ENOSPC and len(calls) == 2
    assert path.read_bytes() == before  # the half line was cut back off
    append_jsonl(path, {"n": 3})
    assert [r["n"] for r in read_jsonl(path)] == [1, 3] and read_jsonl(path).damaged == 0
