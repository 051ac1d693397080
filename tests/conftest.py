"""Shared fixtures. An autouse fixture points FUJIAN_DB (and the calendar override, the user
name and "today") at a temporary folder, so no test can touch a real database."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fujian.cli import app
from fujian.service import Tracker
from fujian.storage import Store

TODAY = date(2025, 3, 10)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUJIAN_DB", str(tmp_path / "fujian.db"))
    monkeypatch.delenv("FUJIAN_CALENDAR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user calendar file
    monkeypatch.setenv("FUJIAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FUJIAN_USER", "tester")
    monkeypatch.setenv("FUJIAN_TODAY", TODAY.isoformat())
    monkeypatch.setenv("FUJIAN_LANG", "en")
    monkeypatch.delenv("FUJIAN_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fujian.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    s = Store(db_path)
    yield s
    s.dispose()


@pytest.fixture
def tracker(store: Store) -> Tracker:
    t = Tracker(store, TODAY, actor="tester")
    t.load_default_units()
    return t


@pytest.fixture
def make_item(tracker: Tracker) -> Callable[..., str]:
    """Factory: make_item("referral", title=...) with sensible defaults per kind; returns the ID."""
    defaults = {
        "referral": {"direction": "to-criminal", "from_unit": "scjgj", "unit": "gaj",
                     "title": "某公司销售假药案"},
        "suggestion": {"type": "correction", "unit": "rsj", "title": "纠正违规发放"},
        "clue": {"from_unit": "sthjj", "field": "ecology", "title": "非法采砂线索"},
        "meeting": {"title": "联席会议", "type": "plenary"},
        "action": {"unit": "scjgj", "title": "专项检查", "due_on": "2025-04-30"},
        "assist": {"type": "retrieve", "unit": "zjj", "title": "调取审批材料"},
    }

    def make(kind: str, **values) -> str:
        merged = {**defaults[kind], **values}
        if kind == "action" and "meeting" not in merged:
            merged["meeting"] = tracker.add("meeting", defaults["meeting"]).ident
        return tracker.add(kind, merged).ident

    return make


class Cli:
    """Runs the app in-process, as a script would (stdout is not a terminal)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)

    def json(self, *args: str):
        result = self(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture
def initialised(cli: Cli, db_path: Path) -> Path:
    result = cli("init")
    assert result.exit_code == 0, result.output
    return db_path


def table_dump(path: Path) -> list:
    """Every row of every table: to prove that a failed command changed nothing."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return [(t, con.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall())
                for t in tables]
    finally:
        con.close()


@pytest.fixture
def snapshot() -> Callable[[Path], list]:
    return table_dump


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("COLUMNS", "200")


LATER = date(2025, 12, 31)


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> date:
    """For tests that record events after TODAY: the CLI's today moves to LATER (event dates
    may not lie in the future)."""
    monkeypatch.setenv("FUJIAN_TODAY", LATER.isoformat())
    return LATER
