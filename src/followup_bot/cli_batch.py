"""`ask --batch`: one process answers a JSONL file, and one bad line costs one error record, not the run.

Every input line gets exactly one output line, in order: the Answer plus its `id`, or an error
record (`{"id", "error", "refused": true, "refusal_reason": "invalid_input"}`) when the line is
not JSON, has no question, or is refused as input. Output goes to `OUT.partial` and is renamed
when the run ends, so a crashed run never leaves a file that looks finished.
"""

from __future__ import annotations

import json
import logging
import sys
import uuid
from pathlib import Path
from typing import IO, Any

from followup_bot.errors import UserError

log = logging.getLogger("followup_bot.batch")


def read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        raise UserError(f"batch file not found: {path}") from None
    except OSError as exc:
        raise UserError(f"batch file {path} cannot be read ({exc.strerror})") from None


def _error(item_id: Any, message: str) -> dict[str, Any]:
    return {"id": item_id, "error": message, "refused": True, "refusal_reason": "invalid_input"}


def answer_line(assistant: Any, line: str, n: int, default_article: str | None) -> dict[str, Any]:
    """The output record for one input line; never raises."""
    try:
        item = json.loads(line)
    except json.JSONDecodeError as exc:
        return _error(f"line-{n}", f"line {n}: not valid JSON ({exc.msg})")
    if not isinstance(item, dict) or not isinstance(item.get("question"), str):
        item_id = item.get("id") if isinstance(item, dict) else None
        return _error(item_id if item_id is not None else f"line-{n}", f"line {n}: needs a text 'question'")
    item_id = item.get("id", f"line-{n}")
    try:
        answer = assistant.ask(
            item["question"],
            history=item.get("history"),
            audience=item.get("audience") or "clinician",
            article=item.get("article") or default_article,
        )
        return {"id": item_id, **answer.model_dump(mode="json")}
    except UserError as exc:
        return _error(item_id, f"line {n}: {' '.join(str(exc).split())}")
    except Exception:
        reference = uuid.uuid4().hex[:8]
        log.exception("batch line %s failed (reference %s)", n, reference)
        return _error(item_id, f"line {n}: internal error (reference {reference})")


def run_batch(assistant: Any, batch: Path, out: Path | None, default_article: str | None = None) -> tuple[int, int]:
    """Answer every line of `batch`; returns (records written, error records)."""
    lines = [(n, line) for n, line in enumerate(read_lines(batch), 1) if line.strip()]
    tmp = out.with_name(out.name + ".partial") if out else None
    sink: IO[str] = open(tmp, "w", encoding="utf-8") if tmp else sys.stdout
    errors = 0
    try:
        for n, line in lines:
            record = answer_line(assistant, line, n, default_article)
            errors += "error" in record
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
    finally:
        if tmp:
            sink.close()
    if tmp and out:
        tmp.replace(out)
    return len(lines), errors
