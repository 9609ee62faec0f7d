"""Reader feedback, appended to a bounded JSONL log that concurrent writers can never corrupt.

Feedback is how we learn which answers misled a clinician, so a lost or garbled line is a lost
signal; and it is written by anyone who can open the page, so it must not be able to fill the disk.

- Bounded records: the question, the understood question and the comment are capped (cut with a
  visible marker), and the answer is recorded by its hash, length and citations (markers, sources,
  chunk spans), not copied: with the question, the config fingerprint and the spans the answer can
  be found again. A record is a few kilobytes at most, whatever the reader sends.
- Bounded file: past `max_bytes` the log is rotated (feedback.jsonl → .1 → … → .N, the oldest
  dropped), so the log takes at most (N + 1) × max_bytes.
- Safe appends: each record is one `os.write` of one complete line on a descriptor opened with
  `O_APPEND`, while holding an exclusive `flock` on it, so writers in other threads or processes
  never interleave. A writer killed mid-write leaves at most a partial last line; the next writer
  starts on a fresh line, so the damage never swallows the next record. A failed write (a full
  disk) is cut back off the file, so it leaves no partial line at all.
- A tolerant reader: `read_jsonl` skips a damaged line and counts it (`.damaged`) instead of failing.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from followup_bot.models import Answer

log = logging.getLogger("followup_bot.ui")

Rating = Literal["helpful", "not_helpful"]
RATINGS: tuple[str, ...] = ("helpful", "not_helpful")
MAX_COMMENT_CHARS = 2000
MAX_QUESTION_CHARS = 2000
MAX_CITATIONS = 40
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def capped(text: str, limit: int) -> str:
    """The text, or its first `limit` characters and a marker saying how much was cut."""
    text = text or ""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} …[truncated {len(text) - limit} characters]"


def answer_id(answer: Answer) -> str:
    """A short stable id of the answer text (its SHA-256), recorded instead of a copy of it."""
    return hashlib.sha256(answer.answer.encode("utf-8")).hexdigest()[:16]


def feedback_record(
    *,
    question: str,
    answer: Answer,
    rating: str,
    comment: str = "",
    fingerprint: str,
    audience: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """One feedback line: the rating, the capped question and comment, and the answer by id and citations."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    citations = [
        {"marker": c.marker, "source_id": c.source_id, "chunk_id": c.chunk_id, "start": c.start, "end": c.end}
        for c in answer.citations[:MAX_CITATIONS]
    ]
    return {
        "timestamp": (now or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        "rating": rating,
        "comment": capped((comment or "").strip(), MAX_COMMENT_CHARS),
        "question": capped(question, MAX_QUESTION_CHARS),
        "standalone_question": capped(answer.standalone_question, MAX_QUESTION_CHARS),
        "audience": audience or answer.audience,
        "answer_id": answer_id(answer),
        "answer_chars": len(answer.answer),
        "citations": citations,
        "refused": answer.refused,
        "refusal_reason": answer.refusal_reason,
        "triage": answer.triage,
        "article_id": answer.article_id,
        "generator": answer.generator.model_dump(mode="json"),
        "config_fingerprint": fingerprint,
    }


def append_jsonl(path: str | Path, record: dict[str, Any], *, max_bytes: int | None = None, backups: int = 5) -> None:
    """Append one JSON line atomically with respect to other writers using this function.

    With `max_bytes`, a file that the line would take past it is rotated first (see the module notes).
    Raises OSError when the line cannot be written (nothing of it is left behind).
    """
    line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(target, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            mine = os.fstat(fd)
            if not _is_current(target, mine):
                continue  # another writer rotated the file while we waited for the lock: open the new one
            size = mine.st_size
            if max_bytes is not None and size and size + len(line) > max_bytes:
                rotate(target, backups)
                continue
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a writer died mid-line: start ours on a fresh one
            _write_whole(fd, line, size)
            return
        finally:
            os.close(fd)  # closing releases the lock


def _is_current(target: Path, mine: os.stat_result) -> bool:
    try:
        now = os.stat(target)
    except FileNotFoundError:
        return False
    return (now.st_ino, now.st_dev) == (mine.st_ino, mine.st_dev)


def _write_whole(fd: int, line: bytes, size: int) -> None:
    """One `os.write` of the whole line; a short or failed write is cut back off so no partial line is left."""
    written = 0
    try:
        written = os.write(fd, line)
        while written < len(line):  # only on a nearly full disk or a signal: finish it under the lock
            written += os.write(fd, line[written:])
    except OSError:
        if written:
            try:
                os.ftruncate(fd, size)
            except OSError:
                log.warning("could not cut a partial feedback line off the log", exc_info=True)
        raise


def rotate(target: Path, backups: int) -> None:
    """feedback.jsonl → .1, .1 → .2, …; the oldest (.N) is dropped; with no backups the log is just removed."""
    if backups <= 0:
        target.unlink(missing_ok=True)
        return
    for i in range(backups - 1, 0, -1):
        older = target.with_name(f"{target.name}.{i}")
        if older.exists():
            os.replace(older, target.with_name(f"{target.name}.{i + 1}"))
    os.replace(target, target.with_name(f"{target.name}.1"))


class JsonlRecords(list[dict[str, Any]]):
    """The good records of a JSONL file, with the number (and line numbers) of damaged lines that were skipped."""

    def __init__(self, records: list[dict[str, Any]], damaged_lines: list[int]) -> None:
        super().__init__(records)
        self.damaged_lines = damaged_lines

    @property
    def damaged(self) -> int:
        return len(self.damaged_lines)


def read_jsonl(path: str | Path, *, rotated: bool = False) -> JsonlRecords:
    """All good records of a feedback file, skipping (and reporting) damaged lines; an absent file has none.

    With `rotated`, the rotated files (oldest first) are read before it. Each read holds a shared
    lock, so it never sees a record being written: a partial last line is the trace of a killed
    writer, and counts as damaged. Damaged lines are numbered across the files read, in order.
    """
    target = Path(path)
    files = [target]
    if rotated:
        olders = [p for p in target.parent.glob(f"{target.name}.*") if p.suffix[1:].isdigit()]
        files = [*sorted(olders, key=lambda p: -int(p.suffix[1:])), target]
    records: list[dict[str, Any]] = []
    damaged: list[int] = []
    number = 0
    for file in files:
        for raw in _locked_read(file).split(b"\n"):
            number += 1
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                record = None
            if isinstance(record, dict):
                records.append(record)
            else:
                damaged.append(number)
    if damaged:
        log.warning("%s: skipped %d damaged line(s): %s", target, len(damaged), damaged[:10])
    return JsonlRecords(records, damaged)


def _locked_read(path: Path) -> bytes:
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return b""
    with fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        return fh.read()


def save_problem(exc: OSError) -> str:
    """What a reader is told when feedback cannot be saved, by cause."""
    if exc.errno in DISK_FULL:
        return "the server's disk is full"
    if exc.errno in READ_ONLY:
        return "the feedback file cannot be written on the server (read-only)"
    return "the server could not write it"
