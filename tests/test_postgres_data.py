"""Moving and keeping the data of a server database (issue 14): `copy` between the two
backends, `backup` of a server into an SQLite file, `restore` into a server, the backup before
a server's schema is upgraded, and `fujian doctor` on a server. Every test needs a PostgreSQL
server (FUJIAN_TEST_PG); each gets a fresh empty database as `db_path`."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import fresh_pg_database, libpq_url, table_dump

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_0003 = ROOT / "tests" / "fixtures" / "schema-0003.db"
pytestmark = pytest.mark.postgres_only


# -- helpers -------------------------------------------------------------------------------------

def _sql(url: str, statement: str, *params) -> list:
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as con:
        cursor = con.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


def _ok(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def _refused(result, *words: str) -> str:
    """A refusal: exit 2 or 3, one line on standard error, nothing on standard output."""
    assert result.exit_code in (2, 3), result.output
    assert result.stdout == ""
    line = result.stderr.strip()
    assert line and "\n" not in line and "Traceback" not in line, line
    for word in words:
        assert word in line, line
    return line


_made: list[Path] = []  # the first test's realistic file, copied by the others (saves ~2 s each)


def _realistic(cli, path: Path) -> Path:
    """The demo, plus a note, a voided item, a paused item and an assist escalated into a
    suggestion: every table has rows, and the self-reference (an item's related item) too."""
    if not (_made and _made[0].exists()):
        template = path.with_name("realistic-template.db")  # never touched by a test
        _build(cli, template)
        _made[:] = [template]
    shutil.copyfile(_made[0], path)
    return path


def _build(cli, path: Path) -> None:
    _ok(cli("demo", "--db", str(path)))
    db = ("--db", str(path))
    _ok(cli(*db, "note", "S6", "已电话督促，单位承诺本周内书面回复"))
    _ok(cli(*db, "void", "R7", "--reason", "与R5重复登记"))
    _ok(cli(*db, "referral", "update", "R6", "--pause", "--reason", "鉴定"))
    # The demo escalates one request already; one more, escalated here, as a person would.
    request = _ok(cli(*db, "assist", "add", "--type", "retrieve", "--to", "zjj", "--title",
                      "调取审批材料", "--on", "2025-03-01")).strip()
    _ok(cli(*db, "assist", "update", request, "--stage", "obstructed"))
    opened = _ok(cli(*db, "assist", "escalate", request, "--report", "已报告区委、区政府")).strip()
    assert opened.startswith("S")
    assert not Path(f"{path}-wal").exists()  # a plain copy of the file is the whole database


def _fingerprints(location) -> dict:
    """fujian.storage.copying.fingerprints of a database, opened without changing it."""
    from sqlalchemy import create_engine

    from fujian.storage.copying import fingerprints

    # A file is not opened read-only: a read-only connection to a WAL file leaves its -wal
    # file behind.
    engine = create_engine(f"sqlite:///{location}" if isinstance(location, Path) else location)
    try:
        with engine.connect() as connection:
            return fingerprints(connection)
    finally:
        engine.dispose()


def _value(value) -> object:
    """One representation for a value as either backend returns it: SQLite gives text for
    dates and instants and 0/1 for booleans; PostgreSQL gives Python objects."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _normal(dump: list) -> dict:
    """table_dump of either backend, comparable: values normalised, rows sorted (SQLite's
    are in rowid order, PostgreSQL's in primary-key order)."""
    return {table: sorted((tuple(_value(v) for v in row) for row in rows), key=repr)
            for table, rows in dump}


def _sorted(dump: list) -> dict:
    return {table: sorted(rows, key=repr) for table, rows in dump}


def _data_rows(location) -> int:
    return sum(len(rows) for table, rows in table_dump(location)
               if table not in ("alembic_version", "item_sequence"))


def _no_partial_files(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if ".partial" in p.name or p.name.endswith("-wal")
            or p.name.endswith("-journal")]
    assert left == [], left


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _doctor(cli, *db: str):
    result = cli(*db, "doctor", "--format", "json")
    rows = {row["check"]: row for row in json.loads(result.stdout)}
    return result, rows


# -- 1. SQLite → PostgreSQL: every row, every command -------------------------------------------

def test_copy_of_a_realistic_file_to_the_server_keeps_every_row(cli, db_path, tmp_path):
    source = _realistic(cli, tmp_path / "office.db")
    before = table_dump(source)
    result = cli("--db", str(source), "copy", "--to", db_path, "--format", "json")
    copied = {row["table"]: row["rows"] for row in json.loads(_ok(result))}
    assert copied["item"] == 34 and copied["note"] > 0 and copied["duty"] > 0
    assert table_dump(source) == before  # the source is only read
    assert _normal(table_dump(db_path)) == _normal(before)
    assert _fingerprints(db_path) == _fingerprints(source)
    assert {t: n for t, (n, _) in _fingerprints(db_path).items()} == copied


COMMANDS = [
    ("list",),
    ("list", "--status", "all", "--include-void"),
    ("list", "--format", "json", "--status", "all"),
    ("referral", "list", "--format", "csv"),
    ("report", "overdue"),
    ("report", "overdue", "--format", "json"),
    ("report", "due-soon"),
    ("report", "summary"),
    ("report", "summary", "--format", "json"),
    ("show", "R1"),
    ("show", "R6"),
    ("show", "R7"),
    ("show", "S7", "--format", "json"),
    ("show", "X1"),
    ("history", "R6"),
    ("history", "X1"),
    ("history", "S6", "--format", "json"),
    ("search", "非法"),
    ("unit", "list"),
]


def test_every_command_prints_the_same_on_both_backends(cli, db_path, tmp_path):
    source = _realistic(cli, tmp_path / "office.db")
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    for args in COMMANDS:
        on_file = cli("--db", str(source), *args)
        on_server = cli("--db", db_path, *args)
        assert on_file.exit_code == 0, (args, on_file.output)
        assert (on_server.exit_code, on_server.stdout) == (0, on_file.stdout), args
        assert on_file.stdout.strip(), args
    for options in ((), ("--header", "codes", "--encoding", "gb18030"), ("--kind", "assist")):
        a, b = tmp_path / "file.csv", tmp_path / "server.csv"
        _ok(cli("--db", str(source), "export", "csv", *options, "-o", str(a), "--force"))
        _ok(cli("--db", db_path, "export", "csv", *options, "-o", str(b), "--force"))
        assert a.read_bytes() == b.read_bytes() and len(a.read_bytes()) > 100, options


# -- 2. PostgreSQL → SQLite and → PostgreSQL; the round trip -------------------------------------

def test_server_to_a_new_file_and_to_another_server_and_back_is_identical(cli, db_path,
                                                                          tmp_path):
    source = _realistic(cli, tmp_path / "office.db")
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    back = tmp_path / "back.db"
    _ok(cli("--db", db_path, "copy", "--to", str(back)))
    # SQLite → PostgreSQL → SQLite: the same rows in the same representation (rowid order
    # aside: the copy inserts item_sequence's rows in key order).
    assert _sorted(table_dump(back)) == _sorted(table_dump(source))
    assert _fingerprints(back) == _fingerprints(source)
    with fresh_pg_database() as other:
        _ok(cli("--db", db_path, "copy", "--to", other))
        assert table_dump(other) == table_dump(db_path)
        assert _fingerprints(other) == _fingerprints(source)
        # The second server's sequences were set too: new rows take new ids.
        assert _ok(cli("--db", other, "referral", "add", "--direction", "to-criminal", "--from",
                       "scjgj", "--to", "gaj", "--title", "第二台服务器")).strip() == "R9"
        _ok(cli("--db", other, "note", "R9", "新的记录"))
    assert _ok(cli("--db", str(back), "list")) == _ok(cli("--db", str(source), "list"))


def test_a_copy_of_more_rows_than_one_batch_keeps_every_row(cli, db_path, tmp_path):
    import sqlite3

    from fujian.storage.copying import BATCH

    source = _realistic(cli, tmp_path / "office.db")
    con = sqlite3.connect(source)
    con.executemany(
        "INSERT INTO change_log (at, actor, subject, action, field, old_value, new_value)"
        " VALUES (?, 'tester', ?, 'update', 'title', ?, ?)",
        [(f"2025-03-0{1 + n % 9} 08:00:{n % 60:02d}.{n:06d}", f"item:{n % 29 + 1}",
          f"旧标题{n}", None if n % 7 else "") for n in range(2 * BATCH + 17)])
    con.commit()
    con.close()
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    assert _fingerprints(db_path) == _fingerprints(source)
    assert _fingerprints(db_path)["change_log"][0] > 2 * BATCH
    back = tmp_path / "back.db"
    _ok(cli("--db", db_path, "copy", "--to", str(back)))
    assert _sorted(table_dump(back)) == _sorted(table_dump(source))


@pytest.mark.parametrize("kind", ["file", "server"])
def test_a_copy_reads_one_snapshot_of_a_source_being_written(cli, db_path, tmp_path,
                                                             monkeypatch, kind):
    """Another fujian commits a note while the copy is between copying and verifying: the
    copy holds the database as it was when it began, and verifies."""
    import sqlite3

    from fujian.storage import copying

    office = _realistic(cli, tmp_path / "office.db")
    if kind == "file":
        source, target = office, db_path
    else:
        _ok(cli("--db", str(office), "copy", "--to", db_path))
        source, target = db_path, tmp_path / "copy.db"
    before = _fingerprints(source)
    real = copying.copy_rows

    def copy_rows(read, written):
        counts = real(read, written)
        statement = ("INSERT INTO note (item_id, at, actor, text) VALUES "
                     "(1, '2025-03-10 01:00:00', 'other', '复制期间写入的记录')")
        if kind == "file":
            con = sqlite3.connect(source, timeout=10)
            con.execute(statement)
            con.commit()
            con.close()
        else:
            _sql(source, statement)
        return counts

    monkeypatch.setattr(copying, "copy_rows", copy_rows)
    _ok(cli("--db", str(source), "copy", "--to", str(target)))
    assert _fingerprints(target) == before
    assert _fingerprints(source)["note"][0] == before["note"][0] + 1


# -- 3. copy refuses what it must not fill --------------------------------------------------------

def test_copy_refuses_a_file_that_holds_data_and_leaves_it_unchanged(cli, db_path, tmp_path,
                                                                     snapshot):
    _ok(cli("--db", db_path, "init"))
    _ok(cli("--db", db_path, "referral", "add", "--direction", "to-criminal", "--from", "scjgj",
            "--to", "gaj", "--title", "服务器上的案件"))
    target = tmp_path / "used.db"
    _ok(cli("--db", str(target), "init"))
    before, source_before = snapshot(target), snapshot(db_path)
    _refused(cli("--db", db_path, "copy", "--to", str(target)), "not empty")
    assert snapshot(target) == before and snapshot(db_path) == source_before


@pytest.mark.parametrize("what", ["initialised", "another program's table", "an item"])
def test_copy_refuses_a_server_database_that_is_not_empty(cli, db_path, tmp_path, snapshot,
                                                           what):
    source = _realistic(cli, tmp_path / "office.db")
    if what == "another program's table":
        _sql(db_path, "CREATE TABLE payroll (id serial PRIMARY KEY, name text)")
        _sql(db_path, "INSERT INTO payroll (name) VALUES ('张三')")
    else:
        _ok(cli("--db", db_path, "init"))  # loads the units: not empty
        if what == "an item":
            _sql(db_path, "DELETE FROM unit WHERE id NOT IN (SELECT unit_id FROM item "
                          "UNION SELECT 0)")
            _ok(cli("--db", db_path, "unit", "add", "gaj2", "--name", "市公安局"))
    before = snapshot(db_path)
    _refused(cli("--db", str(source), "copy", "--to", db_path),
             "another program" if what == "another program's table" else "not empty")
    assert snapshot(db_path) == before


def test_copy_to_itself_is_refused_in_any_spelling(cli, db_path, tmp_path, snapshot):
    source = _realistic(cli, tmp_path / "office.db")
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    before = snapshot(db_path)
    for spelling in (db_path, db_path.replace("postgresql+psycopg://", "postgresql://"),
                     db_path.replace("postgresql+psycopg://", "postgres://")):
        _refused(cli("--db", db_path, "copy", "--to", spelling))
    assert snapshot(db_path) == before
    file_before = snapshot(source)
    _refused(cli("--db", str(source), "copy", "--to", str(source)))
    assert snapshot(source) == file_before


def _failing_verify(monkeypatch) -> None:
    """The verify step finds a difference: the second fingerprint (the target's) is off."""
    from fujian.storage import copying

    real = copying.fingerprints
    calls = []

    def fingerprints(connection):
        found = real(connection)
        calls.append(1)
        if len(calls) % 2 == 0:
            found = {**found, "item": (found["item"][0], "0" * 64)}
        return found

    monkeypatch.setattr(copying, "fingerprints", fingerprints)


def test_a_copy_that_does_not_verify_leaves_no_file_and_an_empty_server(cli, db_path, tmp_path,
                                                                        monkeypatch):
    source = _realistic(cli, tmp_path / "office.db")
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "new.db"
    _failing_verify(monkeypatch)
    _refused(cli("--db", db_path, "copy", "--to", str(target)), "item")
    assert list(folder.iterdir()) == []
    with fresh_pg_database() as other:
        _refused(cli("--db", str(source), "copy", "--to", other), "item")
        # As it was: not even fujian's tables (they are made in the copy's transaction).
        assert table_dump(other) == []
        monkeypatch.undo()
        # Nothing half-done stays in the way: the same copy then succeeds.
        _ok(cli("--db", str(source), "copy", "--to", other))
        assert _fingerprints(other) == _fingerprints(source)


# -- 4. backup of a server database: an SQLite file ---------------------------------------------

def test_backup_of_the_server_is_a_file_every_command_reads(cli, db_path, tmp_path):
    source = _realistic(cli, tmp_path / "office.db")
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    folder = tmp_path / "usb"
    folder.mkdir()
    backup = folder / "fujian-2025-03-10.db"
    result = cli("--db", db_path, "backup", str(backup))
    _ok(result)
    assert str(backup) in result.stderr
    assert _fingerprints(backup) == _fingerprints(db_path)
    assert sorted(p.name for p in folder.iterdir()) == [backup.name]
    for args in (("list",), ("show", "S7"), ("report", "overdue"), ("report", "summary"),
                 ("history", "R6")):
        assert _ok(cli("--db", str(backup), *args)) == _ok(cli("--db", db_path, *args)), args
    # It restores into a file as any SQLite backup does.
    restored = tmp_path / "restored.db"
    _ok(cli("--db", str(restored), "restore", str(backup)))
    assert _fingerprints(restored) == _fingerprints(db_path)
    assert _ok(cli("--db", str(restored), "list")) == _ok(cli("--db", db_path, "list"))


def test_backup_refuses_an_existing_file_and_never_leaves_a_partial_one(cli, db_path, tmp_path,
                                                                        monkeypatch):
    source = _realistic(cli, tmp_path / "office.db")
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    folder = tmp_path / "usb"
    folder.mkdir()
    backup = folder / "b.db"
    backup.write_bytes(b"last week's backup")
    _refused(cli("--db", db_path, "backup", str(backup)), "--force")
    assert backup.read_bytes() == b"last week's backup"
    _no_partial_files(folder)
    # A backup that does not verify replaces nothing, even with --force, and leaves nothing.
    _failing_verify(monkeypatch)
    _refused(cli("--db", db_path, "backup", str(backup), "--force"))
    assert backup.read_bytes() == b"last week's backup"
    _refused(cli("--db", db_path, "backup", str(folder / "new.db")))
    assert sorted(p.name for p in folder.iterdir()) == ["b.db"]
    monkeypatch.undo()
    _ok(cli("--db", db_path, "backup", str(backup), "--force"))
    assert _fingerprints(backup) == _fingerprints(db_path)
    assert sorted(p.name for p in folder.iterdir()) == ["b.db"]


# -- 5. restore into a server ---------------------------------------------------------------------

def _backup_of(cli, tmp_path: Path) -> tuple[Path, Path]:
    source = _realistic(cli, tmp_path / "office.db")
    folder = tmp_path / "usb"
    folder.mkdir(exist_ok=True)
    backup = folder / "office-backup.db"
    _ok(cli("--db", str(source), "backup", str(backup)))
    return source, backup


def test_restore_into_an_empty_server_database_needs_no_force(cli, db_path, tmp_path):
    source, backup = _backup_of(cli, tmp_path)
    digest = _sha(backup)
    result = cli("--db", db_path, "restore", str(backup))
    _ok(result)
    assert "kept" not in result.stderr
    assert _fingerprints(db_path) == _fingerprints(source)
    assert _sha(backup) == digest
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]
    assert _ok(cli("--db", db_path, "list", "--status", "all")) == \
        _ok(cli("--db", str(source), "list", "--status", "all"))


def test_restore_over_data_needs_force_keeps_the_old_contents_and_sets_sequences(
        cli, db_path, tmp_path, snapshot):
    source, backup = _backup_of(cli, tmp_path)
    _ok(cli("--db", db_path, "init"))
    for title in ("服务器上的旧案件一", "服务器上的旧案件二"):
        _ok(cli("--db", db_path, "referral", "add", "--direction", "to-criminal", "--from",
                "scjgj", "--to", "gaj", "--title", title))
    _ok(cli("--db", db_path, "note", "R2", "旧记录"))
    before, old_prints = snapshot(db_path), _fingerprints(db_path)

    _refused(cli("--db", db_path, "restore", str(backup)), "--force")
    assert snapshot(db_path) == before
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]

    result = cli("--db", db_path, "restore", str(backup), "--force")
    _ok(result)
    assert _fingerprints(db_path) == _fingerprints(source)
    database = _sql(db_path, "SELECT current_database()")[0][0]
    # Kept in the data folder (the backup's may be read-only media), the backup's left alone.
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]
    kept = list((Path(os.environ["XDG_DATA_HOME"]) / "fujian" / "backups").glob(
        f"{database}.before-restore-*"))
    assert len(kept) == 1, kept
    assert kept[0].name.startswith(f"{database}.before-restore-") and kept[0].suffix == ".bak"
    assert str(kept[0]) in result.stderr
    assert _fingerprints(kept[0]) == old_prints
    titles = [r["title"] for r in cli.json("--db", str(kept[0]), "list")]
    assert titles == ["服务器上的旧案件一", "服务器上的旧案件二"]

    # Every id sequence is past the restored rows: new rows of every table go in.
    assert _ok(cli("--db", db_path, "referral", "add", "--direction", "to-criminal", "--from",
                   "scjgj", "--to", "gaj", "--title", "恢复后的新案件")).strip() == "R9"
    _ok(cli("--db", db_path, "note", "R9", "恢复后的记录"))
    _ok(cli("--db", db_path, "unit", "add", "newunit", "--name", "新成员单位"))
    result, rows = _doctor(cli, "--db", db_path)
    assert rows["sequences"]["status"] == "ok", rows["sequences"]


def test_restoring_an_older_schema_backup_upgrades_the_copy_not_the_file(cli, db_path, tmp_path):
    backup = tmp_path / "schema-0003.db"
    shutil.copyfile(FIXTURE_0003, backup)
    digest = _sha(FIXTURE_0003)
    _ok(cli("--db", db_path, "restore", str(backup)))
    assert _sha(backup) == digest and _sha(FIXTURE_0003) == digest
    from fujian.migrations import HEAD

    assert _sql(db_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    # The same backup restored into a file (SQLite's own upgrade path) reads the same.
    as_file = tmp_path / "restored.db"
    _ok(cli("--db", str(as_file), "restore", str(backup)))
    assert _sha(backup) == digest
    listed = _ok(cli("--db", db_path, "list", "--status", "all"))
    assert listed == _ok(cli("--db", str(as_file), "list", "--status", "all"))
    assert len(listed.splitlines()) > 1
    assert _fingerprints(db_path) == _fingerprints(as_file)


def _newer_schema(tmp_path: Path, backup: Path) -> Path:
    import sqlite3

    newer = tmp_path / "newer.db"
    shutil.copyfile(backup, newer)
    con = sqlite3.connect(newer)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    return newer


def _foreign(tmp_path: Path) -> Path:
    import sqlite3

    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE payroll (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO payroll (name) VALUES ('张三')")
    con.commit()
    con.close()
    return foreign


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "foreign", "newer"])
def test_a_damaged_or_foreign_backup_is_refused_and_the_server_unchanged(cli, db_path, tmp_path,
                                                                         snapshot, kind):
    source, backup = _backup_of(cli, tmp_path)
    _ok(cli("--db", db_path, "init"))
    _ok(cli("--db", db_path, "referral", "add", "--direction", "to-criminal", "--from", "scjgj",
            "--to", "gaj", "--title", "服务器上的案件"))
    bad = tmp_path / "bad" / "bad.db"
    bad.parent.mkdir()
    if kind == "truncated":
        bad.write_bytes(backup.read_bytes()[: backup.stat().st_size // 2])
    elif kind == "garbage":
        bad.write_bytes(b"PK\x03\x04 not a database at all " * 200)
    elif kind == "empty":
        bad.write_bytes(b"")
    elif kind == "foreign":
        shutil.copyfile(_foreign(tmp_path), bad)
    else:
        shutil.copyfile(_newer_schema(tmp_path, backup), bad)
    before, digest = snapshot(db_path), _sha(bad)
    _refused(cli("--db", db_path, "restore", str(bad), "--force"))
    assert snapshot(db_path) == before
    assert _sha(bad) == digest
    assert sorted(p.name for p in bad.parent.iterdir()) == ["bad.db"]  # no .bak either


def test_a_restore_that_does_not_verify_leaves_the_server_as_it_was(cli, db_path, tmp_path,
                                                                    snapshot, monkeypatch):
    source, backup = _backup_of(cli, tmp_path)
    _ok(cli("--db", db_path, "init"))
    _ok(cli("--db", db_path, "referral", "add", "--direction", "to-criminal", "--from", "scjgj",
            "--to", "gaj", "--title", "服务器上的案件"))
    before = snapshot(db_path)
    _failing_verify(monkeypatch)
    _refused(cli("--db", db_path, "restore", str(backup), "--force"), "item")
    assert snapshot(db_path) == before
    monkeypatch.undo()
    # And the sequences were not moved either: the next item is R2.
    assert _ok(cli("--db", db_path, "referral", "add", "--direction", "to-criminal", "--from",
                   "scjgj", "--to", "gaj", "--title", "又一件")).strip() == "R2"


def test_restore_refuses_a_server_database_of_another_program(cli, db_path, tmp_path,
                                                              snapshot):
    _, backup = _backup_of(cli, tmp_path)
    _sql(db_path, "CREATE TABLE payroll (id serial PRIMARY KEY, name text)")
    _sql(db_path, "INSERT INTO payroll (name) VALUES ('张三')")
    before = snapshot(db_path)
    _refused(cli("--db", db_path, "restore", str(backup), "--force"), "another program")
    assert snapshot(db_path) == before
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]


# -- 6. the backup before a server's schema is upgraded ----------------------------------------

def _server_at_0003(url: str) -> None:
    """The server database as fujian 0003 left it: its migrations up to 0003, then the rows
    of tests/fixtures/schema-0003.db (made by that version) copied in with their ids."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from fujian.storage.copying import copy_rows
    from fujian.storage.postgres import reset_sequences

    config = Config()
    config.set_main_option("script_location", str(ROOT / "fujian" / "migrations"))
    engine = create_engine(url)
    old = create_engine(f"sqlite:///file:{FIXTURE_0003}?mode=ro&uri=true")
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0003")
            connection.commit()
        with engine.begin() as connection, old.connect() as source:
            connection.exec_driver_sql("DELETE FROM item_sequence")  # 0001 seeds it
            copy_rows(source, connection)
            reset_sequences(connection)
    finally:
        engine.dispose()
        old.dispose()


def test_opening_an_older_server_schema_backs_it_up_into_the_data_folder_first(
        cli, db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    _server_at_0003(db_path)
    old_prints = _fingerprints(db_path)
    assert old_prints["item"][0] > 0
    digest = _sha(FIXTURE_0003)

    result = cli("--db", db_path, "list", "--status", "all", "--format", "json")
    _ok(result)
    message = [line for line in result.stderr.splitlines() if "Upgraded" in line]
    assert len(message) == 1, result.stderr
    assert message[0].startswith("Upgraded the database from schema 0003; a backup is at ")
    path = Path(message[0].removeprefix("Upgraded the database from schema 0003; a backup is at ")
                .rstrip("."))
    assert path.is_file()
    assert path.is_relative_to(tmp_path / "data" / "fujian" / "backups"), path
    from fujian.migrations import HEAD

    assert _sql(db_path, "SELECT version_num FROM alembic_version") == [(HEAD,)]
    # The backup holds the database as it was, at its old schema.
    import sqlite3

    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0003",)]
    con.close()
    assert _fingerprints(path) == old_prints
    # And fujian opens it (upgrading that copy): the same items as the upgraded server.
    on_server = json.loads(result.stdout)
    from_backup = cli.json("--db", str(path), "list", "--status", "all")
    assert [r["id"] for r in from_backup] == [r["id"] for r in on_server] != []
    assert [r["title"] for r in from_backup] == [r["title"] for r in on_server]
    # The next command finds the server upgraded: no second backup of it (the file's own
    # upgrade above kept the file's old version beside it, as SQLite databases do).
    again = cli("--db", db_path, "list")
    assert "Upgraded" not in again.stderr
    database = _sql(db_path, "SELECT current_database()")[0][0]
    assert [p.name for p in path.parent.glob(f"{database}.before-*.db")] == [path.name]
    assert _sha(FIXTURE_0003) == digest


# -- 7. doctor on a server -----------------------------------------------------------------------

SERVER_ROWS = ["connection", "server", "schema", "sequences", "time zone", "encoding",
               "text order", "ids", "units"]


def test_doctor_on_a_healthy_server_database(cli, db_path, tmp_path):
    from sqlalchemy.engine import make_url

    source = _realistic(cli, tmp_path / "office.db")
    _ok(cli("--db", str(source), "copy", "--to", db_path))
    _sql(db_path, "UPDATE unit SET liaison = '张三'")  # else the units row warns
    with_password = make_url(db_path).set(password="s3cret-pw").render_as_string(
        hide_password=False)
    result, rows = _doctor(cli, "--db", with_password)
    assert result.exit_code == 0, result.output
    assert list(rows)[:len(SERVER_ROWS)] == SERVER_ROWS
    assert len(rows) > len(SERVER_ROWS)  # the calendar rows follow
    assert {name: rows[name]["status"] for name in SERVER_ROWS} == {
        name: "ok" for name in SERVER_ROWS}
    database = make_url(db_path).database
    assert "127.0.0.1" in rows["connection"]["detail"]
    assert database in rows["connection"]["detail"]
    assert "s3cret-pw" not in result.output
    assert "UTC" in rows["time zone"]["detail"]
    assert "UTF8" in rows["encoding"]["detail"]


def test_doctor_fails_a_sequence_behind_its_table(cli, db_path):
    _ok(cli("init"))
    for n in range(3):
        _ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to",
                "gaj", "--title", f"案件{n}"))
    _sql(db_path, "SELECT setval(pg_get_serial_sequence('item', 'id'), 1)")
    result, rows = _doctor(cli)
    assert result.exit_code == 3, result.output
    assert rows["sequences"]["status"] == "fail"
    assert "item" in rows["sequences"]["detail"]
    assert rows["connection"]["status"] == rows["schema"]["status"] == "ok"


def test_doctor_fails_a_database_without_tables(cli, db_path, snapshot):
    result, rows = _doctor(cli)
    assert result.exit_code == 3, result.output
    assert rows["connection"]["status"] == "ok"
    assert rows["schema"]["status"] == "fail"
    assert "fujian init" in rows["schema"]["detail"]
    assert snapshot(db_path) == []  # doctor made nothing


@pytest.mark.parametrize("where", ["port 1", "no such database"])
def test_doctor_on_an_unreachable_server_fails_the_connection_only(cli, db_path, where):
    from sqlalchemy.engine import make_url

    url = make_url(db_path).set(password="s3cret-pw")
    url = url.set(port=1) if where == "port 1" else url.set(database="fujian_no_such_db")
    result, rows = _doctor(cli, "--db", url.render_as_string(hide_password=False))
    assert result.exit_code == 3, result.output
    assert rows["connection"]["status"] == "fail"
    assert url.database in rows["connection"]["detail"]
    assert ("does not exist" in rows["connection"]["detail"]) == (where != "port 1")
    assert "s3cret-pw" not in result.output
    for name in SERVER_ROWS[1:]:
        assert rows[name]["status"] != "ok", name
        assert "not checked" in rows[name]["detail"], name


def test_doctor_says_utc_even_when_the_database_default_is_shanghai(cli, db_path):
    _ok(cli("init"))
    database = _sql(db_path, "SELECT current_database()")[0][0]
    _sql(db_path, f"ALTER DATABASE \"{database}\" SET TimeZone = 'Asia/Shanghai'")
    result, rows = _doctor(cli)
    assert rows["time zone"]["status"] == "ok"
    assert "use UTC" in rows["time zone"]["detail"]
    assert "Asia/Shanghai" in rows["time zone"]["detail"]


def test_doctor_warns_about_a_text_column_in_another_collation(cli, db_path):
    _ok(cli("init"))
    _sql(db_path, 'ALTER TABLE unit ALTER COLUMN name TYPE TEXT COLLATE "und-x-icu"')
    result, rows = _doctor(cli)
    assert rows["text order"]["status"] == "warn", rows["text order"]
    assert "unit.name" in rows["text order"]["detail"]
    assert rows["schema"]["status"] == "ok"


def test_doctor_fails_item_numbers_behind_their_counters(cli, db_path):
    _ok(cli("init"))
    for n in range(3):
        _ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to",
                "gaj", "--title", f"案件{n}"))
    _sql(db_path, "UPDATE item_sequence SET last_number = 1 WHERE kind = 'referral'")
    result, rows = _doctor(cli)
    assert result.exit_code == 3, result.output
    assert rows["ids"]["status"] == "fail"
    assert "referral 3 > 1" in rows["ids"]["detail"]
    assert rows["sequences"]["status"] == "ok"


def test_doctor_on_an_older_server_schema_warns_and_changes_nothing(cli, db_path, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    _server_at_0003(db_path)
    before = table_dump(db_path)
    result, rows = _doctor(cli)
    assert rows["schema"]["status"] == "warn", rows["schema"]
    assert "0003" in rows["schema"]["detail"]
    assert rows["connection"]["status"] == rows["sequences"]["status"] == "ok"
    assert table_dump(db_path) == before  # not upgraded by doctor
    assert not (tmp_path / "data" / "fujian" / "backups").exists() or \
        list((tmp_path / "data" / "fujian" / "backups").iterdir()) == []


def test_doctor_fails_a_database_of_another_program(cli, db_path, snapshot):
    _sql(db_path, "CREATE TABLE payroll (id serial PRIMARY KEY, name text)")
    before = snapshot(db_path)
    result, rows = _doctor(cli)
    assert result.exit_code == 3, result.output
    assert rows["schema"]["status"] == "fail"
    assert "another program" in rows["schema"]["detail"]
    assert snapshot(db_path) == before
