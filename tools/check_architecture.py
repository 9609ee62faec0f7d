"""Architecture checks `make check` runs: no import cycles in src/, and no module over 400 lines.

An import cycle makes a change in one module break another that only seemed unrelated, and a
module past 400 lines usually holds two concepts. Both are cheap to keep out and expensive to
take out later, so they fail the build. The import graph counts every `import` and
`from ... import` of a `followup_bot` module, including imports inside functions and
`TYPE_CHECKING` blocks: a lazy import hides a cycle from Python, not from a reader.

    python tools/check_architecture.py [--max-lines 400] [--graph]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "followup_bot"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The package modules a file imports (a `from pkg import name` counts as pkg.name when that is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != me and name.startswith(PACKAGE):
                found.add(name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each a cycle to break."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-lines", type=int, default=400)
    parser.add_argument("--graph", action="store_true", help="print each module's imports")
    args = parser.parse_args()
    files = sorted((ROOT / PACKAGE).rglob("*.py"))
    modules = {module_name(f) for f in files}
    # A package's __init__ re-exports its modules; importing the package is importing __init__ only.
    graph = {module_name(f): imports_of(f, modules) for f in files}
    problems = []
    for f in files:
        n = len(f.read_text(encoding="utf-8").splitlines())
        if n > args.max_lines:
            problems.append(f"{f.relative_to(ROOT.parent)}: {n} lines (most allowed: {args.max_lines})")
    for cycle in cycles(graph):
        problems.append("import cycle: " + " -> ".join(cycle))
    if args.graph:
        for name in sorted(graph):
            print(f"{name}: {', '.join(sorted(graph[name])) or '-'}")
    for problem in problems:
        print(problem)
    print(f"{len(files)} modules, {sum(len(v) for v in graph.values())} imports, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
