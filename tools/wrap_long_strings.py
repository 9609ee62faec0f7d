"""Split string literals on lines over the limit into implicitly concatenated parts (a one-off tidy-up aid).

Only lines whose single long token is a string literal inside brackets are touched; the split
falls on a space outside any f-string braces, so the joined string is exactly the same.
"""

from __future__ import annotations

import io
import sys
import tokenize
from pathlib import Path

LIMIT = 120


def split_point(body: str, want: int) -> int | None:
    depth = 0
    best = None
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == " " and depth == 0 and 20 < i <= want and (i == 0 or body[i - 1] != "\\"):
            best = i
    return best


def fix(path: Path, limit: int = 140) -> int:
    src = path.read_text(encoding="utf-8")
    lines = src.split("\n")
    tokens = list(tokenize.generate_tokens(io.StringIO(src).readline))
    changed = 0
    for tok in reversed(tokens):
        if tok.type != tokenize.STRING or tok.start[0] != tok.end[0]:
            continue
        row = tok.start[0] - 1
        line = lines[row]
        if len(line) <= limit:
            continue
        text = tok.string
        prefix_len = len(text) - len(text.lstrip("rbfuRBFU"))
        prefix, quote = text[:prefix_len], text[prefix_len]
        if text[prefix_len : prefix_len + 3] in ('"""', "'''"):
            continue
        body = text[prefix_len + 1 : -1]
        col = tok.start[1]
        cut = split_point(body, LIMIT - col - prefix_len - 3)
        if cut is None:
            continue
        first = f"{prefix}{quote}{body[: cut + 1]}{quote}"
        second = f"{prefix}{quote}{body[cut + 1 :]}{quote}"
        indent = " " * (len(line) - len(line.lstrip()))
        if line.lstrip().startswith(text):
            lead = indent
        else:
            lead = indent + "    "
        lines[row] = line[:col] + first + "\n" + lead + second + line[tok.end[1] :]
        changed += 1
    if changed:
        path.write_text("\n".join(lines), encoding="utf-8")
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        n = fix(Path(name))
        if n:
            print(f"{name}: {n} strings split")
