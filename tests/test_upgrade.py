"""A database made by an earlier schema opens in this version with every item and every
change-log row intact, after a backup is written beside it. The fixture is committed and never
regenerated: each later schema change must keep passing this test."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from fujian.migrations import HEAD
from fujian.storage import Store

FIXTURES = Path(__file__).parent / "fixtures"


def _rows(path: Path, table: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    finally:
        con.close()


def _columns(path: Path, table: str) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    finally:
        con.close()


def test_schema_0001_fixture_upgrades_with_everything_kept(tmp_path, cli):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-0001.db", db)
    items, log, units = (_rows(db, t) for t in ("item", "change_log", "unit"))
    old_item_columns = _columns(db, "item")
    assert len(items) == 27 and len(log) == 86

    store = Store(db)
    assert store.upgraded_from == "0001"
    assert store.backup_path is not None and store.backup_path.exists()
    assert store.backup_path.parent == db.parent
    assert oct(store.backup_path.stat().st_mode & 0o777) == "0o600"
    store.dispose()

    # The backup is the old database as it was.
    assert _rows(store.backup_path, "item") == items
    assert _rows(store.backup_path, "change_log") == log
    con = sqlite3.connect(db)
    assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    # Every old column of every old row is still there with the same value.
    new_columns = _columns(db, "item")
    positions = [new_columns.index(c) for c in old_item_columns]
    assert [tuple(r[i] for i in positions) for r in _rows(db, "item")] == items
    assert _rows(db, "change_log")[: len(log)] == log
    assert _rows(db, "unit") == units

    # And the tool reads it: the same items, the history intact.
    listed = cli.json("--db", str(db), "list", "--status", "all")
    assert len(listed) == 27
    history = cli.json("--db", str(db), "history", "R2")
    # accepted (stage only: no rule), then not-filed (stage and a new due date)
    assert [(h["action"], h["field"]) for h in history] == [
        ("create", None), ("stage", "stage"), ("stage", "stage"), ("stage", "due_on")]


def test_current_database_is_not_backed_up_again(tmp_path):
    db = tmp_path / "new.db"
    Store(db).dispose()
    store = Store(db)
    assert store.upgraded_from is None and store.backup_path is None
    assert sorted(p.name for p in tmp_path.iterdir() if ".bak" in p.name) == []
    store.dispose()


def test_schema_0003_fixture_gains_duties_that_agree_with_its_history(tmp_path, cli,
                                                                     monkeypatch):
    """tests/fixtures/schema-0003.db was made by fujian at schema 0003 (the script beside it):
    every kind, stage changes, replies on time and late, an extension, a withdrawal, a
    cancellation, a reopen with a new due date. Upgrading keeps every row and rebuilds each
    item's duties from its change log."""
    monkeypatch.setenv("FUJIAN_TODAY", "2025-06-30")  # the day the fixture was made for
    db = tmp_path / "old3.db"
    shutil.copy(FIXTURES / "schema-0003.db", db)
    items, log, units = (_rows(db, t) for t in ("item", "change_log", "unit"))
    old_item_columns = _columns(db, "item")
    assert len(items) == 19 and len(log) == 126
    store = Store(db)
    assert store.upgraded_from == "0003"
    store.dispose()
    new_columns = _columns(db, "item")
    positions = [new_columns.index(c) for c in old_item_columns]
    assert [tuple(r[i] for i in positions) for r in _rows(db, "item")] == items
    assert _rows(db, "change_log")[: len(log)] == log
    assert _rows(db, "unit") == units

    def duties(ident):
        return [(d["name"], d["holder"], d["due_on"], d["met_on"], d["state"])
                for d in cli.json("--db", str(db), "show", ident)["duties"]]

    # R2: sent → accepted → not-filed → reconsideration → supervision, as logged
    assert duties("R2") == [
        ("decide-filing", "gaj", "2025-03-06", "2025-03-06", "met"),
        # 310号令 第九条: a right, exercised by asking for 复议 (migration 0010)
        ("request-reconsideration", "yjj", "2025-03-10", "2025-03-08", "exercised"),
        ("decide-reconsideration", "gaj", "2025-03-11", "2025-03-20", "late"),
        ("explain-not-filing", "gaj", "2025-03-27", None, "open")]
    assert duties("R4") == [("decide-filing", "gaj", "2025-04-07", None, "waived")]  # withdrawn
    assert duties("S1") == [("reply", "rsj", "2025-03-06", "2025-03-20", "late")]
    assert duties("A2") == [("carry-out", "gaj", "2025-05-31", None, "open")]  # extended
    assert duties("A3") == [("carry-out", "sthjj", "2025-04-30", None, "waived")]  # cancelled
    assert duties("M1") == []  # a meeting has no clock of its own
    # Every open item's most urgent open duty is the due date it had, held by its unit.
    listed = cli.json("--db", str(db), "list", "--status", "all")
    assert len(listed) == 19
    for row in listed:
        shown = cli.json("--db", str(db), "show", row["id"])
        open_duties = [d for d in shown["duties"] if d["state"] == "open"]
        if row["status"] == "open" and row["due_on"] is not None:
            assert min(d["due_on"] for d in open_duties) == row["due_on"], row["id"]
            assert row["unit"] == open_duties[0]["holder"], row["id"]
        elif row["status"] == "closed":
            assert open_duties == [], row["id"]
    summary = {r["key"]: r for r in cli.json("--db", str(db), "report", "summary")}
    assert (summary["gaj"]["late"], summary["gaj"]["waived"]) == (1, 1)


def test_schema_0009_fixture_judges_rights_acts_and_refusals_by_law(tmp_path, cli, monkeypatch):
    """tests/fixtures/schema-0009.db was made by fujian at schema 0009 (the script beside it),
    before issue 19. Upgrading keeps every item and every history entry, and gives the verdicts
    the law gives: the sending unit's lapsed 3 days are a right (310号令 第九条), not overdue;
    a right a later stage used is exercised, not late; a public-interest suggestion closed 未采纳
    leaves its duty to perform unmet (两高解释 第二十一条第二款), as do a suit (行政诉讼法 第二十五条
    第四款) and an obstruction (组织法 第二十一条); an acceptance after the stand-in's due date
    leaves that duty late (310号令 第七、八条)."""
    monkeypatch.setenv("FUJIAN_TODAY", "2026-06-30")  # the day the fixture was made for
    db = tmp_path / "old9.db"
    shutil.copy(FIXTURES / "schema-0009.db", db)
    items, log = (_rows(db, t) for t in ("item", "change_log"))
    old_item_columns = _columns(db, "item")
    before = cli.json("--db", str(db), "report", "summary")  # upgrades, then reports
    new_columns = _columns(db, "item")
    positions = [new_columns.index(c) for c in old_item_columns]
    assert [tuple(r[i] for i in positions) for r in _rows(db, "item")] == items
    assert _rows(db, "change_log")[: len(log)] == log

    def states(ident):
        return [(d["name"], d["holder"], d["state"], d["right"])
                for d in cli.json("--db", str(db), "show", ident)["duties"]]

    assert states("R1") == [("decide-filing", "gaj", "met", False),
                            ("request-reconsideration", "scjgj", "lapsed", True)]
    assert states("R2")[1] == ("request-reconsideration", "scjgj", "exercised", True)
    assert states("R3")[0] == ("decide-filing", "gaj", "late", False)
    assert states("S1") == [("reply", "sthjj", "met", False), ("perform", "sthjj", "unmet", False)]
    assert states("S2") == [("reply", "zjj", "met", False), ("perform", "zjj", "met", False)]
    assert states("X1") == [("assist", "zjj", "unmet", False),
                            ("decide-escalation", "jcy", "open", False)]
    assert states("C1") == [("evaluate", "jcy", "met", False), ("reply", "swj", "unmet", False),
                            ("perform", "swj", "unmet", False)]
    # The clue's evaluation and the request's periods are local rules, now marked.
    assert [d["local"] for d in cli.json("--db", str(db), "show", "X1")["duties"]] == [True, True]
    overdue = cli.json("--db", str(db), "report", "overdue")
    assert [(r["id"], r["unit"], r["duty"]) for r in overdue] == [
        ("S3", "jyj", "reply"), ("X1", "jcy", "decide-escalation"),
        ("R2", "gaj", "explain-not-filing"), ("R3", "gaj", "decide-filing"),
        ("A1", "scjgj", "carry-out")]
    total = before[-1]
    # Before: on_time 8, late 3, overdue 6, waived 2 (rate 0.4706), the lapsed right overdue
    # and the suggestion not adopted counted as performed.
    assert {k: total[k] for k in ("on_time", "late", "unmet", "overdue", "open", "waived",
                                  "rate")} == {"on_time": 7, "late": 1, "unmet": 4, "overdue": 5,
                                               "open": 0, "waived": 0, "rate": 0.4118}
    units = {r["key"]: r for r in before if r["group"] == "unit"}
    assert "scjgj" in units and units["scjgj"]["overdue"] == 1  # its action item, not the right
    assert (units["sthjj"]["unmet"], units["swj"]["unmet"], units["zjj"]["unmet"]) == (1, 2, 1)
