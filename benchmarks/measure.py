"""What every benchmark here measures with: percentiles, disk usage, a free port.

One copy, imported by the scripts of this folder (`from measure import pct`), so two tables
never disagree because two copies of a percentile drifted apart.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation; NaN for no values."""
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def disk_usage(folder: Path) -> tuple[int, int]:
    """(allocated bytes as `du` counts them, apparent bytes) of every file under folder."""
    allocated = apparent = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            allocated += st.st_blocks * 512
            apparent += st.st_size
    return allocated, apparent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def work_folder(keep: str | None, prefix: str) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    """Where a benchmark builds its stores: `--keep DIR` (new or empty, left behind), else a temporary
    folder removed with the returned handle. A non-empty DIR is refused, so no benchmark mixes runs."""
    if keep:
        root = Path(keep).resolve()
        if root.exists() and any(root.iterdir()):
            print(f"--keep {root}: folder is not empty", file=sys.stderr)
            raise SystemExit(2)
        root.mkdir(parents=True, exist_ok=True)
        return root, None
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return Path(tmp.name), tmp
