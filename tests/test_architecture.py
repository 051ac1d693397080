"""The layers of docs/architecture.md hold, as import-linter checks them from the contracts in
pyproject.toml (imports inside functions count), and the modules form a graph without cycles.
A contract that cannot fail proves nothing: one test adds an upward import to a copy of the
package and watches the check fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    tool = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(tool).exists():
        pytest.fail("lint-imports is missing: it comes with the test extra (pip install -e '.[test]')")
    env = {**os.environ, "PYTHONPATH": str(root)}  # the package under `root` is the one analysed
    return subprocess.run([tool, "--no-cache", "pyproject.toml"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(("module", "upward", "contract", "line"), [
    ("models.py", "from fujian.service import Tracker", "Layers look down only",
     "fujian.models -> fujian.service"),
    ("service/search.py", "from fujian.service.items import get_item",
     "Service modules import only modules listed below them",
     "fujian.service.search -> fujian.service.items"),
])
def test_an_upward_import_breaks_the_layers(tmp_path, module, upward, contract, line):
    shutil.copytree(ROOT / "fujian", tmp_path / "fujian",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    source = tmp_path / "fujian" / module
    source.write_text(source.read_text(encoding="utf-8")
                      + f"\n\ndef _upward():\n    {upward}  # noqa\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert contract in result.stdout and "BROKEN" in result.stdout
    assert line in result.stdout


def test_no_module_imports_itself_in_a_circle():
    """Stricter than the sibling contract: a package and its own modules count too (a package's
    __init__ importing a module that imports the package back is a cycle)."""
    grimp = pytest.importorskip("grimp")  # installed with import-linter
    graph = grimp.build_graph("fujian")
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    assert _cycles(edges) == []


def _cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(edges[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in edges:
                    continue
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges[succ])))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found
