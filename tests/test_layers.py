"""Layers only look down: CLI → service → models/storage. The service layer and below never
import Typer, Rich or the CLI; the deadline engine imports neither the CLI nor the database."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "fujian"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules(*parts: str):
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in parts or (not parts):
            yield relative, _imports(path)


def test_nothing_below_the_cli_imports_it_or_typer_or_rich():
    below = [(rel, names) for rel, names in _modules()
             if rel.parts[0] not in ("cli", "__main__.py", "render.py")]
    for relative, names in below:
        bad = {n for n in names if n.split(".")[0] in ("typer", "rich", "click")
               or n.startswith("fujian.cli")}
        assert not bad, (relative, bad)


def test_the_deadline_engine_and_dates_stand_alone():
    for name in ("deadlines.py", "dates.py", "kinds.py", "errors.py", "i18n.py"):
        names = _imports(PACKAGE / name)
        bad = {n for n in names if n.split(".")[0] in ("sqlalchemy", "sqlmodel", "alembic")
               or n in ("fujian.storage", "fujian.models") or n.startswith("fujian.service")}
        assert not bad, (name, bad)


def test_no_sqlite_specific_code_outside_storage():
    for relative, _names in _modules():
        if relative.parts[0] in ("storage", "migrations"):
            continue
        text = (PACKAGE / relative).read_text(encoding="utf-8")
        assert "PRAGMA" not in text, relative
        assert "import sqlite3" not in text, relative


def test_only_the_storage_package_knows_which_backend_it_has():
    """The rest of the code asks the store (its location, backup, health, "is this path the
    database itself") instead of reading a file path or talking to a driver."""
    for relative, names in _modules():
        if relative.parts[0] in ("storage", "migrations"):
            continue
        assert not {n for n in names if n.split(".")[0] in ("psycopg", "sqlite3")}, relative
        text = (PACKAGE / relative).read_text(encoding="utf-8")
        assert "store.path" not in text, relative
