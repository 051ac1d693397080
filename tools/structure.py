"""Figures on the package's structure, for docs/architecture.md's before-and-after table.

Usage: python tools/structure.py [PACKAGE_DIR]   (default: fujian)

Reads the source with ``ast`` (nothing is imported): lines of Python, imports of the package's
own modules (and how many of them sit inside functions), functions longer than 60 lines (the
migrations apart: released revisions are frozen), and import cycles — strongly connected
components of the module graph, counting imports inside functions. ``from package import
module`` is an import of the module, as import-linter (grimp) counts it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def modules(root: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module under ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def targets(mods: dict[str, Path], module: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package's modules one import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            package = module if mods[module].name == "__init__.py" else module.rsplit(".", 1)[0]
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        subs = [f"{source}.{a.name}" for a in node.names if f"{source}.{a.name}" in mods]
        names = subs + ([source] if len(subs) < len(node.names) else [])
    own = []
    for name in names:
        while name and name not in mods:
            name = name.rsplit(".", 1)[0] if "." in name else ""
        if name:
            own.append(name)
    return own


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def main() -> None:
    sys.setrecursionlimit(10_000)
    mods = modules(Path(sys.argv[1] if len(sys.argv) > 1 else "fujian").resolve())
    edges: dict[str, set[str]] = {m: set() for m in mods}
    lines = imports = inside = 0
    long = []
    for module, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lines += len(path.read_text(encoding="utf-8").splitlines())
        in_functions = set()
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                size = func.end_lineno - func.lineno + 1
                if size > 60 and ".migrations" not in module:
                    long.append((size, f"{module}.{func.name}"))
                in_functions.update(id(n) for n in ast.walk(func)
                                    if isinstance(n, ast.Import | ast.ImportFrom))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                own = targets(mods, module, node)
                if own:
                    imports += 1
                    inside += id(node) in in_functions
                    edges[module].update(t for t in own if t != module)
    print(f"lines: {lines}")
    print(f"imports of the package's own modules: {imports}, {inside} inside functions")
    print("functions over 60 lines:", ", ".join(f"{n} {s}" for s, n in sorted(long, reverse=True))
          or "none")
    print("cycles:", "; ".join("{" + ", ".join(c) + "}" for c in cycles(edges)) or "none")


if __name__ == "__main__":
    main()
