"""Evaluation items and judge-calibration pairs, read strictly but forgivingly.

Reviewers run the evaluation on their own held-out files, so a malformed line must be reported
with its file and line number (not a traceback half-way through a run), and keys this version
does not know are ignored rather than rejected, so richer files keep working.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followup_bot.errors import DatasetError

CATEGORIES = (
    "answerable",
    "followup",
    "unanswerable",
    "out_of_scope",
    "false_premise",
    "injection",
    "personal",
    "emergency",
    "crisis",
    "benign",
)
# Categories whose correct behaviour is to refuse, used only when an item omits `expect_refusal`.
REFUSAL_CATEGORIES = frozenset({"unanswerable", "out_of_scope", "emergency", "crisis"})
SAFETY_CATEGORIES = frozenset({"emergency", "crisis"})
# Categories the triage section of the report is about: messages that must (or, for `benign`,
# must not) get a safety reply.
TRIAGE_CATEGORIES = ("emergency", "crisis", "benign")
AUDIENCES = ("clinician", "patient")


@dataclass
class EvalItem:
    """One evaluation question with what a correct answer must (not) contain."""

    id: str
    category: str
    question: str
    expect_refusal: bool
    history: list[dict[str, str]] = field(default_factory=list)
    audience: str = "clinician"
    expected_sources: list[str] = field(default_factory=list)
    must_include: list[list[str]] = field(default_factory=list)
    must_not_include: list[str] = field(default_factory=list)
    # The article the question is about (None: the run's default article).
    article: str | None = None
    # A finer label than the category ("anaphylaxis", "idiom"), reported per kind for triage items.
    kind: str | None = None
    # Whether the message names a drug (triage rules read drug names, so misses are split by it).
    has_drug: bool | None = None
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "question": self.question,
            "history": self.history,
            "audience": self.audience,
            "expect_refusal": self.expect_refusal,
            "expected_sources": self.expected_sources,
            "must_include": self.must_include,
            "must_not_include": self.must_not_include,
            "article": self.article,
            "kind": self.kind,
            "has_drug": self.has_drug,
        }


@dataclass
class CalibrationPair:
    """A labelled sentence-passage pair for measuring the support judge."""

    id: str
    sentence: str
    passage: str
    supported: bool
    kind: str = ""


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"dataset not found: {path}") from None
    except IsADirectoryError:
        raise DatasetError(f"{path} is a folder, not a JSONL file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path} cannot be read ({exc})") from None


def _objects(path: Path) -> list[tuple[int, dict[str, Any]]]:
    out = []
    for n, line in enumerate(_read_lines(path), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{n}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(obj, dict):
            raise DatasetError(f"{path}:{n}: each line must be a JSON object, got {type(obj).__name__}")
        out.append((n, obj))
    if not out:
        raise DatasetError(f"{path}: no items (the file is empty)")
    return out


def _string(obj: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise DatasetError(f"{where}: '{key}' must be a non-empty string")
    return value


def _optional_string(obj: dict[str, Any], key: str, where: str) -> str | None:
    """An optional label: absent or null is None; otherwise a non-empty string (whitespace trimmed)."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(f"{where}: '{key}' must be a non-empty string when given")
    return value.strip()


def _regex(pattern: Any, where: str, key: str) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise DatasetError(f"{where}: every pattern in '{key}' must be a non-empty string")
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise DatasetError(f"{where}: invalid regex {pattern!r} in '{key}' ({exc})") from None
    return pattern


def _item(n: int, obj: dict[str, Any], path: Path) -> EvalItem:
    where = f"{path}:{n}"
    item_id = obj.get("id")
    if isinstance(item_id, int | float) and not isinstance(item_id, bool):
        item_id = str(item_id)
    item_id = _string({"id": item_id}, "id", where)
    where = f"{path}:{n} (id {item_id})"
    category = _string(obj, "category", where).strip()
    question = obj.get("question")
    if not isinstance(question, str):
        raise DatasetError(f"{where}: 'question' must be a string")
    expect = obj.get("expect_refusal")
    if expect is None:
        expect = category in REFUSAL_CATEGORIES
    if not isinstance(expect, bool):
        raise DatasetError(f"{where}: 'expect_refusal' must be true or false")
    history = obj.get("history") or []
    if not isinstance(history, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        for t in history
    ):
        raise DatasetError(f"{where}: 'history' must be a list of {{role: user|assistant, content: text}}")
    audience = obj.get("audience") or "clinician"
    if audience not in AUDIENCES:
        raise DatasetError(f"{where}: 'audience' must be one of {', '.join(AUDIENCES)}")
    sources = obj.get("expected_sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise DatasetError(f"{where}: 'expected_sources' must be a list of source ids")
    include_raw = obj.get("must_include") or []
    if not isinstance(include_raw, list):
        raise DatasetError(f"{where}: 'must_include' must be a list of lists of regexes")
    include: list[list[str]] = []
    for group in include_raw:
        # A bare string is read as a group of one, which is what a hand-written file usually means.
        alternatives = [group] if isinstance(group, str) else group
        if not isinstance(alternatives, list) or not alternatives:
            raise DatasetError(f"{where}: each 'must_include' group must be a non-empty list of regexes")
        include.append([_regex(p, where, "must_include") for p in alternatives])
    exclude_raw = obj.get("must_not_include") or []
    if not isinstance(exclude_raw, list):
        raise DatasetError(f"{where}: 'must_not_include' must be a list of regexes")
    exclude = [_regex(p, where, "must_not_include") for p in exclude_raw]
    article = _optional_string(obj, "article", where)
    kind = _optional_string(obj, "kind", where)
    has_drug = obj.get("has_drug")
    if has_drug is not None and not isinstance(has_drug, bool):
        raise DatasetError(f"{where}: 'has_drug' must be true or false")
    return EvalItem(
        id=item_id,
        category=category,
        question=question,
        expect_refusal=expect,
        history=[dict(t) for t in history],
        audience=audience,
        expected_sources=list(sources),
        must_include=include,
        must_not_include=exclude,
        article=article,
        kind=kind,
        has_drug=has_drug,
        line=n,
    )


def load_dataset(path: Path, limit: int | None = None) -> list[EvalItem]:
    """All items of a JSONL evaluation file (the first `limit` if given); DatasetError on bad lines."""
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for n, obj in _objects(Path(path)):
        item = _item(n, obj, Path(path))
        if item.id in seen:
            raise DatasetError(f"{path}:{n}: id {item.id!r} repeats line {seen[item.id]}")
        seen[item.id] = n
        items.append(item)
    if limit is not None:
        if limit < 1:
            raise DatasetError("--limit must be at least 1")
        items = items[:limit]
    return items


def unknown_categories(items: list[EvalItem]) -> list[str]:
    """Categories outside INTERFACES.md: allowed (scored like any other), but worth a warning."""
    return sorted({i.category for i in items} - set(CATEGORIES))


def load_calibration(path: Path) -> list[CalibrationPair]:
    """Labelled judge pairs `{id, sentence, passage, label: supported|not_supported, kind}`."""
    pairs = []
    for n, obj in _objects(Path(path)):
        where = f"{path}:{n}"
        label = obj.get("label")
        if label not in ("supported", "not_supported"):
            raise DatasetError(f"{where}: 'label' must be 'supported' or 'not_supported'")
        pairs.append(
            CalibrationPair(
                id=str(obj.get("id") or f"line-{n}"),
                sentence=_string(obj, "sentence", where),
                passage=_string(obj, "passage", where),
                supported=label == "supported",
                kind=str(obj.get("kind") or ""),
            )
        )
    return pairs
