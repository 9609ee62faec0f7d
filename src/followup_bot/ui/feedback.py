"""Reader feedback, appended to a JSONL file that concurrent writers can never corrupt.

Feedback is how we learn which answers misled a clinician, so a lost or garbled line is a lost
signal. Several server workers (threads, or processes behind one file) may append at once:
each record is written as one `os.write` of one complete line, on a descriptor opened with
`O_APPEND`, while holding an exclusive `flock`. If an earlier writer died mid-line, the next
writer starts on a fresh line, so one broken record never swallows the next.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from followup_bot.models import Answer

Rating = Literal["helpful", "not_helpful"]
RATINGS: tuple[str, ...] = ("helpful", "not_helpful")
MAX_COMMENT_CHARS = 2000


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
    """One feedback line: enough to replay the answer (question, text, citations, config)."""
    if rating not in RATINGS:
        raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
    citations = [c.model_dump(mode="json", exclude={"chunk_text"}) for c in answer.citations]
    return {
        "timestamp": (now or datetime.now(UTC)).isoformat(timespec="milliseconds"),
        "rating": rating,
        "comment": (comment or "").strip()[:MAX_COMMENT_CHARS],
        "question": question,
        "standalone_question": answer.standalone_question,
        "audience": audience or answer.audience,
        "answer": answer.answer,
        "citations": citations,
        "refused": answer.refused,
        "refusal_reason": answer.refusal_reason,
        "generator": answer.generator.model_dump(mode="json"),
        "config_fingerprint": fingerprint,
    }


def append_jsonl(path: str | Path, record: dict[str, Any]) -> None:
    """Append one JSON line atomically with respect to other writers using this function."""
    line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            size = os.fstat(fd).st_size
            if size and _last_byte(target, size) != b"\n":
                line = b"\n" + line  # a writer died mid-line: start ours on a fresh one
            written = os.write(fd, line)
            while written < len(line):  # a short write on a regular file is rare; finish it under the lock
                written += os.write(fd, line[written:])
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(size - 1)
        return fh.read(1)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """All records of a feedback file (tests and reviewers use it)."""
    target = Path(path)
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines() if line.strip()]
