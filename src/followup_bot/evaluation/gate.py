"""The CI gate: floors (and a few ceilings) that a run must meet, kept in eval/thresholds.toml.

A regression should fail CI with a list that says which metric fell and by how much, not a bare
non-zero exit. Unknown metric names in the file are an error, so a typo cannot silently disable
a check.

The file's tables are rows of `SECTIONS`: which keys a table may hold, which report section the
values are read from, and which keys are ceilings (lower is better) rather than floors. `[overall]`
holds floors and `[overall_max]` ceilings of the same metrics; `[triage]` mixes both, each key
with its own direction (recall floors, a false-alarm ceiling). `[by_category.NAME]` holds floors
per category.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followup_bot.errors import GateError, GateFailed
from followup_bot.evaluation.metrics import METRICS
from followup_bot.evaluation.triage_scores import TRIAGE_LOWER_IS_BETTER, TRIAGE_METRICS
from followup_bot.settings import read_toml

JUDGE_KEYS = ("accuracy", "precision", "recall", "f1")
EXIT_GATE_FAILED = GateFailed.exit_code


@dataclass(frozen=True)
class Section:
    """One table of a thresholds file and how its numbers are checked against the report."""

    table: str  # the TOML table, also the attribute of `Gate` that holds its numbers
    keys: tuple[str, ...]  # the metric names it may hold
    scope: str  # the report section the values are read from
    label: str  # prefix of a failure line ("judge.accuracy: …")
    ceiling: Callable[[str], bool]  # True for a key whose limit is a ceiling
    # A report without the section, or a value measured on no item, is not checked (a run without
    # triage items has no triage to gate); otherwise an unmeasured value fails the check.
    optional: bool = False


SECTIONS: tuple[Section, ...] = (
    Section("overall", METRICS, "overall", "", lambda key: False),
    Section("overall_max", METRICS, "overall", "", lambda key: True),
    Section("judge", JUDGE_KEYS, "judge", "judge.", lambda key: False),
    Section("triage", TRIAGE_METRICS, "triage", "triage.", lambda key: key in TRIAGE_LOWER_IS_BETTER, optional=True),
)


@dataclass
class Gate:
    """The limits of a thresholds file: one dict per table of `SECTIONS`, and per-category floors."""

    file: str
    overall: dict[str, float] = field(default_factory=dict)
    overall_max: dict[str, float] = field(default_factory=dict)
    judge: dict[str, float] = field(default_factory=dict)
    triage: dict[str, float] = field(default_factory=dict)
    by_category: dict[str, dict[str, float]] = field(default_factory=dict)


def _numbers(section: Any, allowed: tuple[str, ...], where: str) -> dict[str, float]:
    if not isinstance(section, dict):
        raise GateError(f"{where} must be a table of metric = number")
    out = {}
    for key, value in section.items():
        if key not in allowed:
            raise GateError(f"{where}: unknown metric '{key}' (known: {', '.join(allowed)})")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GateError(f"{where}.{key} must be a number")
        out[key] = float(value)
    return out


def load_gate(path: Path) -> Gate:
    data = read_toml(path, str(path), what="thresholds file", error=GateError)
    tables = [section.table for section in SECTIONS] + ["by_category"]
    unknown = set(data) - set(tables)
    if unknown:
        raise GateError(f"{path}: unknown section(s) {', '.join(sorted(unknown))} (use {', '.join(tables)})")
    gate = Gate(file=str(path))
    for section in SECTIONS:
        setattr(gate, section.table, _numbers(data.get(section.table, {}), section.keys, f"{path} [{section.table}]"))
    cats = data.get("by_category", {})
    if not isinstance(cats, dict):
        raise GateError(f"{path} [by_category] must hold one table per category")
    for cat, section in cats.items():
        gate.by_category[cat] = _numbers(section, METRICS, f"{path} [by_category.{cat}]")
    return gate


def _check(name: str, value: Any, limit: float, floor: bool) -> str | None:
    if not isinstance(value, int | float):
        return f"{name}: not measured (limit {limit})"
    if floor and value < limit:
        return f"{name}: {value:.4g} < floor {limit:.4g}"
    if not floor and value > limit:
        return f"{name}: {value:.4g} > ceiling {limit:.4g}"
    return None


def check_gate(gate: Gate, report: Mapping[str, Any]) -> list[str]:
    """The failed checks, one readable line each; empty when the run passes."""
    failures: list[str | None] = []
    for section in SECTIONS:
        values = report.get(section.scope)
        if section.optional and not isinstance(values, Mapping):
            continue
        values = values if isinstance(values, Mapping) else {}
        for key, limit in getattr(gate, section.table).items():
            if section.optional and values.get(key) is None:
                continue
            failures.append(_check(section.label + key, values.get(key), limit, not section.ceiling(key)))
    for cat, floors in gate.by_category.items():
        values = report.get("by_category", {}).get(cat)
        if values is None:
            continue  # a dataset without this category (e.g. a --limit run) has nothing to check
        failures += [_check(f"{cat}.{m}", values.get(m), v, True) for m, v in floors.items()]
    return [f for f in failures if f]


@dataclass(frozen=True)
class GateResult:
    """The verdict of a gate on one run: the file it came from and every failed check."""

    file: str
    failures: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        """The `gate` section of report.json."""
        return {"file": self.file, "passed": self.passed, "failures": list(self.failures)}

    def error(self) -> GateFailed | None:
        """The error a caller raises (or whose exit code it returns) when the run failed the gate."""
        if self.passed:
            return None
        lines = "\n".join(f"  - {f}" for f in self.failures)
        return GateFailed(f"eval gate failed ({self.file}):\n{lines}")


def apply_gate(gate: Gate, report: Mapping[str, Any]) -> GateResult:
    return GateResult(gate.file, tuple(check_gate(gate, report)))
