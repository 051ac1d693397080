"""Migration 0007 (issue 13): items gain `related_id`, the link an assistance request keeps to
its case and an escalated suggestion to its request. An older database upgrades with every
row and value kept, no item related to anything, and assistance requests work in it at once
(their ID sequence is made on first use: no migration inserts it)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

from fujian.migrations import REVISIONS
from fujian.service import Tracker
from fujian.storage import Store

FIXTURES = Path(__file__).parent / "fixtures"


def _table(path: Path, table: str) -> tuple[list[str], list[tuple]]:
    con = sqlite3.connect(path)
    try:
        columns = [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
        return columns, con.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        con.close()


def test_schema_0003_database_gains_related_id_with_everything_kept(tmp_path):
    assert "0007" in REVISIONS
    db = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-0003.db", db)
    old_columns, old_items = _table(db, "item")
    assert old_items and "related_id" not in old_columns
    _log_columns, old_log = _table(db, "change_log")

    store = Store(db)
    try:
        columns, items = _table(db, "item")
        assert "related_id" in columns
        where = [columns.index(c) for c in old_columns]
        assert [tuple(r[i] for i in where) for r in items] == old_items
        assert {r[columns.index("related_id")] for r in items} == {None}
        assert _table(db, "change_log")[1][:len(old_log)] == old_log
        con = sqlite3.connect(db)
        indexes = {r[1] for r in con.execute("PRAGMA index_list(item)")}
        con.close()
        assert "ix_item_related" in indexes

        tracker = Tracker(store, date(2025, 3, 10), actor="tester")
        first = tracker.show(f"R{1}")["id"]
        made = tracker.add("assist", {"type": "query", "unit": "zjj", "title": "查询",
                                      "item": first, "opened_on": "2025-03-03"})
        assert made.ident == "X1"
        assert tracker.show("X1")["item"] == first
        assert tracker.show(first)["linked"] == ["X1"]
    finally:
        store.dispose()
