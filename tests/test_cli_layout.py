"""The command line's layout (issue 20): it talks to the Tracker only, picks the output format
in one place, registers every command one way, and patches Typer's private API only for the
Typer versions that patch was checked against."""

from __future__ import annotations

import ast
import re
from importlib.metadata import version
from pathlib import Path

import fujian.cli

CLI = Path(fujian.cli.__file__).parent
ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted(CLI.glob("*.py"))
# What a CLI module may import from the service: the façade, nothing behind it.
SERVICE_ALLOWED = {"fujian.service", "fujian.service.tracker"}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_modules(path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names) of every import in a module, at any depth."""
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, tuple(a.name for a in node.names)))
    return found


def test_the_cli_reaches_the_service_through_the_tracker_only():
    bad = []
    for path in MODULES:
        for line, module, names in _imported_modules(path):
            where = f"{path.name}:{line} {module}"
            if module.startswith(("fujian.storage", "fujian.migrations")):
                bad.append(where)
            elif module == "fujian.service" and set(names) - {"Tracker"}:
                bad.append(f"{where} {names}")
            elif module.startswith("fujian.service") and module not in SERVICE_ALLOWED:
                bad.append(where)
            elif module == "fujian.service.tracker" and set(names) - {"Tracker"}:
                bad.append(f"{where} {names}")
    assert not bad, "CLI modules must use the Tracker, not the layers behind it: " + str(bad)


def test_the_output_format_is_compared_in_one_place_only():
    hits = [f"{path.name}:{n}" for path in MODULES
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"\bfmt\s*(==|!=|in\s*\(|not in\s*\()", line)]
    assert not hits, "ask the picked format (cli/console.py OutputFormat) instead: " + str(hits)
    pickers = [f"{path.name}:{node.lineno}" for path in MODULES for node in ast.walk(_tree(path))
               if isinstance(node, ast.Name | ast.Attribute)
               and (node.id if isinstance(node, ast.Name) else node.attr) == "pick_format"]
    assert all(p.startswith("console.py:") for p in pickers), pickers


def _calls_named(path: Path, name: str) -> list[tuple[int, str | None]]:
    """(line, enclosing function) of each call of ``X.name(...)`` in a module."""
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef) else function
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                    and child.func.attr == name:
                found.append((child.lineno, function))
            visit(child, inner)

    visit(_tree(path), None)
    return found


def test_every_command_is_registered_one_way():
    # Commands through common.command only (the shared error handler and help text).
    stray = [f"{path.name}:{line}" for path in MODULES
             for line, function in _calls_named(path, "command")
             if not (path.name == "common.py" and function == "decorate")]
    assert not stray, "register commands with fujian.cli.common.command: " + str(stray)
    # Groups and sub-apps are added in one place: the ordered list in cli/__init__.py.
    added = [(path.name, line) for path in MODULES for line, _ in _calls_named(path, "add_typer")]
    assert len(added) == 1 and added[0][0] == "__init__.py", added
    # No module hides its commands in a register(app) function.
    registers = [path.name for path in MODULES for node in _tree(path).body
                 if isinstance(node, ast.FunctionDef) and node.name == "register"]
    assert not registers, registers


def test_every_cli_module_is_in_the_one_list():
    held = {sub for sub, _name in fujian.cli.SUBCOMMANDS}
    for path in MODULES:
        module = __import__(f"fujian.cli.{path.stem}", fromlist=["app"]) \
            if path.stem != "__init__" else None
        for typer_app in vars(module).values() if module else ():
            if type(typer_app).__name__ == "Typer" and typer_app.registered_commands:
                assert typer_app in held or typer_app in set(
                    getattr(module, "KIND_APPS", {}).values()), (path.name, typer_app)


def test_typer_is_a_version_the_help_patch_was_checked_against():
    low, high = fujian.cli.PATCHED_TYPER
    installed = tuple(int(part) for part in re.findall(r"\d+", version("typer"))[:2])
    assert low <= installed < high, (
        f"Typer {version('typer')} is outside {low}..{high} (high exclusive), the versions "
        "fujian/cli/__init__.py's patch of Typer's private Click API (_translate_usage_prefix, "
        "_translate_builtin_help) was written for: re-check the patch (Chinese help's "
        "'用法:' prefix and built-in option texts), then widen PATCHED_TYPER.")


def test_the_install_asks_for_the_typer_versions_the_patch_was_checked_against():
    """pyproject.toml's bound on Typer is PATCHED_TYPER's range, so that a fresh install (CI)
    never takes a Typer the patch was not checked against."""
    import tomllib

    low, high = fujian.cli.PATCHED_TYPER
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    wanted = [d for d in project["project"]["dependencies"] if d.startswith("typer")]
    assert wanted == [f"typer>={low[0]}.{low[1]},<{high[0]}.{high[1]}"]
