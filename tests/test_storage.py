"""The database file: which one is used, how it is created, opened, guarded and backed up.

Failures a user can meet (a wrong file, a newer schema, a read-only file) must end with exit 3,
one line on standard error, no traceback, and the file exactly as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from conftest import TODAY, table_dump

import fujian.migrations
from fujian.errors import BadInput, StorageError
from fujian.migrations import HEAD, REVISIONS
from fujian.service import Tracker
from fujian.storage import (
    BUSY_TIMEOUT_S,
    Store,
    backup_to,
    default_db_path,
    describe_sqlite_error,
    resolve_db_path,
)

NOBODY = 65534


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def make_db(path: Path, *, units: bool = True) -> None:
    """A real fujian database at ``path``, closed (its WAL checkpointed into the file)."""
    store = Store(path)
    try:
        if units:
            Tracker(store, TODAY, actor="tester").load_default_units()
    finally:
        store.dispose()


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def files_besides_wal(folder: Path) -> set[str]:
    # A read-only look at a WAL database leaves its (empty) -wal and -shm companions: SQLite's
    # doing, not a change to the database file.
    return {n for n in files_in(folder) if not n.endswith(("-wal", "-shm"))}


def assert_storage_failure(result, *words: str) -> None:
    """Exit 3, exactly one line on stderr that starts with "error:", no traceback."""
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.endswith("\n")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@contextmanager
def umask(value: int) -> Iterator[None]:
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


# -- which database ------------------------------------------------------------------------


def test_db_option_beats_environment(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FUJIAN_DB", str(tmp_path / "from-env.db"))
    result = cli("--db", str(tmp_path / "from-option.db"), "db-path")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'from-option.db'}\n"


def test_environment_used_without_option(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FUJIAN_DB", str(tmp_path / "from-env.db"))
    result = cli("db-path")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'from-env.db'}\n"


def test_default_is_in_xdg_data_home(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("FUJIAN_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    result = cli("db-path")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{tmp_path / 'xdg' / 'fujian' / 'fujian.db'}\n"


def test_default_is_under_home_without_xdg(cli, tmp_path, monkeypatch):
    monkeypatch.delenv("FUJIAN_DB")
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".local" / "share" / "fujian" / "fujian.db"
    assert default_db_path() == expected
    result = cli("db-path")
    assert result.stdout == f"{expected}\n"


def test_empty_db_option_or_environment_is_an_error_not_the_default(tmp_path, monkeypatch):
    # A cron line with an unset variable (`--db "$DB"`, `FUJIAN_DB=$DB`) must not quietly
    # report on the default database.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    for value in ("", "  "):
        monkeypatch.setenv("FUJIAN_DB", value)
        with pytest.raises(BadInput, match="FUJIAN_DB is set but empty"):
            resolve_db_path(None)
        with pytest.raises(BadInput, match="--db is empty"):
            resolve_db_path(value)
    monkeypatch.delenv("FUJIAN_DB")
    assert resolve_db_path(None) == tmp_path / "xdg" / "fujian" / "fujian.db"


def test_tilde_is_expanded_in_option_and_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_db_path("~/a.db") == tmp_path / "a.db"
    monkeypatch.setenv("FUJIAN_DB", "~/b.db")
    assert resolve_db_path(None) == tmp_path / "b.db"


def test_db_path_creates_nothing(cli, db_path):
    assert cli("db-path").exit_code == 0
    assert (not db_path.exists()) if isinstance(db_path, Path) else table_dump(db_path) == []


def test_commands_use_the_chosen_database(cli, tmp_path, db_path):
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "init").exit_code == 0
    assert other.exists()
    # FUJIAN_DB was not touched
    assert (not db_path.exists()) if isinstance(db_path, Path) else table_dump(db_path) == []


def test_init_at_default_location_makes_the_data_folder(cli, tmp_path, monkeypatch):
    # First run on a new machine: nothing under the user's data folder yet.
    monkeypatch.delenv("FUJIAN_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    result = cli("init")
    assert result.exit_code == 0, result.output
    made = tmp_path / "xdg" / "fujian" / "fujian.db"
    assert made.is_file()
    assert mode_of(made) == 0o600
    assert mode_of(made.parent) == 0o700


# -- creating --------------------------------------------------------------------------------


@pytest.mark.sqlite_only("the file's mode")
def test_new_file_is_private_even_with_a_lax_umask(cli, db_path):
    with umask(0):
        result = cli("init")
    assert result.exit_code == 0, result.output
    assert mode_of(db_path) == 0o600
    assert result.stderr.startswith("Created ")


@pytest.mark.sqlite_only("the file's mode")
def test_store_creates_private_file_with_head_schema(db_path):
    with umask(0):
        store = Store(db_path)
    try:
        assert store.created is True
        assert store.upgraded_from is None and store.backup_path is None
        assert mode_of(db_path) == 0o600
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalars() \
                .all() == [HEAD]
            tables = set(conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type='table'").scalars())
        assert {"unit", "item", "item_sequence", "change_log", "alembic_version"} <= tables
    finally:
        store.dispose()


@pytest.mark.sqlite_only("a missing file")
def test_store_without_create_refuses_a_missing_file(db_path):
    with pytest.raises(StorageError, match="fujian init"):
        Store(db_path, create=False)
    assert not db_path.exists()


@pytest.mark.sqlite_only("a 0-byte file")
def test_an_empty_file_becomes_a_database(cli, db_path):
    db_path.touch()
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert len(cli.json("unit", "list")) == 30


@pytest.mark.parametrize("name", ["a#1.db", "b?x.db", "c%20.db", "案件 库.db"])
def test_file_names_with_uri_characters(cli, tmp_path, name):
    # ?, # and % mean something in a URL or an SQLite URI: the tool must still write (and
    # later read) exactly the file it was given, and make no stray files beside it.
    path = tmp_path / name
    assert cli("--db", str(path), "init").exit_code == 0
    assert cli("--db", str(path), "unit", "add", "abc", "--name", "某单位").exit_code == 0
    assert {u["code"] for u in cli.json("--db", str(path), "unit", "list")} >= {"abc", "gaj"}
    assert mode_of(path) == 0o600
    assert {p for p in files_in(tmp_path) if not p.startswith(name)} == set()
    con = sqlite3.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM unit").fetchone()[0] == 31
    finally:
        con.close()


# -- connection settings ---------------------------------------------------------------------


def _pragmas(conn) -> tuple:
    return (conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
            conn.exec_driver_sql("PRAGMA foreign_keys").scalar(),
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar())


@pytest.mark.sqlite_only("SQLite's pragmas")
def test_every_connection_has_wal_foreign_keys_and_busy_timeout(store):
    assert BUSY_TIMEOUT_S >= 5
    # Two connections at once, so the pool cannot hand back one already configured.
    with store.engine.connect() as first, store.writer.connect() as second:
        for conn in (first, second):
            mode, fks, timeout = _pragmas(conn)
            assert mode == "wal"
            assert fks == 1
            assert timeout >= 5000


@pytest.mark.sqlite_only("SQLite's pragmas")
def test_settings_survive_a_new_engine_on_an_existing_file(db_path):
    make_db(db_path, units=False)
    store = Store(db_path)
    try:
        with store.engine.connect() as conn:
            mode, fks, timeout = _pragmas(conn)
        assert (mode, fks) == ("wal", 1) and timeout >= 5000
    finally:
        store.dispose()


def test_foreign_keys_are_enforced(store):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.writing() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO item (kind, number, title, unit_id, opened_on, stage, status, "
            "created_at, updated_at, actor) VALUES ('referral', 1, 't', 999, '2025-03-10', "
            "'sent', 'open', '2025-03-10', '2025-03-10', 'x')")
    assert dict(table_dump(store.location))["item"] == []


# -- migrations -----------------------------------------------------------------------------


def test_revisions_match_the_alembic_scripts():
    folder = Path(fujian.migrations.__file__).parent
    script = ScriptDirectory(str(folder))
    chain = tuple(rev.revision for rev in script.walk_revisions())[::-1]
    assert chain == REVISIONS
    assert script.get_heads() == [HEAD]
    assert REVISIONS[-1] == HEAD
    scripts = [p for p in (folder / "versions").glob("*.py") if p.name != "__init__.py"]
    assert len(scripts) == len(REVISIONS)


@pytest.mark.sqlite_only("the file's bytes")
def test_newer_schema_is_refused_and_file_untouched(cli, db_path):
    make_db(db_path)
    con = sqlite3.connect(db_path)
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    before = db_path.read_bytes()
    names = files_in(db_path.parent)
    for args in (("unit", "list"), ("init",), ("unit", "add", "zz", "--name", "新单位")):
        result = cli(*args)
        assert_storage_failure(result, "newer", "9999", HEAD)
    assert db_path.read_bytes() == before
    assert files_besides_wal(db_path.parent) == names  # no backup
    with pytest.raises(StorageError, match="newer"):
        Store(db_path)


@pytest.mark.sqlite_only("files beside the database")
def test_opening_a_current_database_makes_no_backup(db_path):
    make_db(db_path)
    names = files_besides_wal(db_path.parent)
    store = Store(db_path)
    try:
        assert store.created is False
        assert store.upgraded_from is None
        assert store.backup_path is None
    finally:
        store.dispose()
    assert files_besides_wal(db_path.parent) == names


def make_old_db(path: Path, revision: str) -> None:
    """A database at an older schema revision, made by Alembic itself, with one unit in it."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    config = Config()
    config.set_main_option("script_location", str(Path(fujian.migrations.__file__).parent))
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.exec_driver_sql(
                "INSERT INTO unit (code, name, liaison, phone, kind, created_at, updated_at) "
                "VALUES ('abc', '某单位', '张三', '027-1', 'other', '2025-01-01 00:00:00', "
                "'2025-01-01 00:00:00')")
    finally:
        engine.dispose()


@pytest.mark.sqlite_only("the backup beside the file (a server's: test_postgres_data.py)")
def test_older_schema_is_upgraded_after_a_backup(cli, db_path):
    if len(REVISIONS) < 2:
        pytest.skip("only one schema revision exists: no database can be older")
    make_old_db(db_path, REVISIONS[0])
    old = table_dump(db_path)
    with umask(0):
        result = cli("unit", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"Upgraded the database from schema {REVISIONS[0]}; "
                                    f"a backup is at {db_path}.before-{HEAD}-")
    assert json.loads(result.stdout) == [{"code": "abc", "name": "某单位", "liaison": "张三",
                                          "phone": "027-1", "kind": "other"}]
    backups = [p for p in db_path.parent.iterdir() if p.name.endswith(".bak")]
    assert len(backups) == 1
    assert mode_of(backups[0]) == 0o600
    assert table_dump(backups[0]) == old  # the file exactly as it was before the upgrade
    con = sqlite3.connect(db_path)
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    finally:
        con.close()
    # Opened again: already at head, so no second backup and no message.
    again = cli("unit", "list", "--format", "json")
    assert again.stderr == ""
    assert len([p for p in db_path.parent.iterdir() if p.name.endswith(".bak")]) == 1


@pytest.mark.sqlite_only("the backup beside the file (a server's: test_postgres_data.py)")
def test_migrate_step_writes_its_backup_first(db_path):
    # The backup step on its own, driven as if the file were older than it is.
    make_db(db_path)
    expected = table_dump(db_path)
    store = Store(db_path)
    try:
        with umask(0):
            store._migrate(REVISIONS[0])
        assert store.upgraded_from == REVISIONS[0]
        backup = store.backup_path
        assert backup is not None and backup.parent == db_path.parent
        assert backup.name.startswith(f"fujian.db.before-{HEAD}-")
        assert backup.name.endswith(".bak")
        assert mode_of(backup) == 0o600
        assert table_dump(backup) == expected
        assert table_dump(db_path) == expected
    finally:
        store.dispose()


def test_reopening_keeps_the_data(db_path):
    store = Store(db_path)
    tracker = Tracker(store, TODAY, actor="tester")
    tracker.load_default_units()
    tracker.add_unit("abc", "某单位", "张三", "027-1")
    ident = tracker.add("referral", {"direction": "to-criminal", "from_unit": "scjgj",
                                     "unit": "gaj", "title": "某案"}).ident
    store.dispose()

    again = Store(db_path)
    try:
        assert again.created is False
        tracker = Tracker(again, TODAY, actor="tester")
        units = {u["code"]: u for u in tracker.list_units()}
        assert len(units) == 31
        assert units["abc"] == {"code": "abc", "name": "某单位", "liaison": "张三",
                                "phone": "027-1", "kind": "government"}
        assert tracker.show(ident)["title"] == "某案"
    finally:
        again.dispose()


# -- backup ---------------------------------------------------------------------------------


@pytest.mark.sqlite_only("SQLite's online backup of a file")
def test_backup_to_is_a_private_identical_copy(tracker, store, tmp_path):
    tracker.add_unit("abc", "某单位", "张三")
    tracker.add("referral", {"direction": "to-criminal", "from_unit": "scjgj", "unit": "gaj",
                             "title": "某案"})
    target = tmp_path / "copy.db"
    with umask(0), store.engine.connect():  # an open connection does not matter
        backup_to(store.path, target)
    assert mode_of(target) == 0o600
    assert table_dump(target) == table_dump(store.path)
    con = sqlite3.connect(target)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    copy = Store(target)  # the copy is a fujian database at the head revision
    try:
        assert copy.upgraded_from is None
        assert len(Tracker(copy, TODAY).list_units()) == 31
    finally:
        copy.dispose()


@pytest.mark.sqlite_only("SQLite's online backup of a file (a server's snapshot: test_postgres_data.py)")
def test_backup_is_consistent_while_a_writer_is_busy(tracker, store, tmp_path):
    from fujian.service import units as unit_ops

    before = table_dump(store.path)
    target = tmp_path / "copy.db"
    with store.writing() as session:
        unit_ops.add_unit(session, "tester", "abc", "某单位")
        backup_to(store.path, target)  # the writer has not committed yet
    assert table_dump(target) == before
    assert table_dump(store.path) != before


@pytest.mark.sqlite_only("SQLite's online backup of a file")
def test_backup_never_overwrites(store, tmp_path):
    target = tmp_path / "copy.db"
    target.write_bytes(b"keep me")
    with pytest.raises(FileExistsError):
        backup_to(store.path, target)
    assert target.read_bytes() == b"keep me"


# -- refusing what is not ours --------------------------------------------------------------


def test_text_file_is_refused_untouched(cli, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("买菜\n", encoding="utf-8")
    before = path.read_bytes()
    for args in (("unit", "list"), ("init",)):
        assert_storage_failure(cli("--db", str(path), *args), "not an SQLite file")
    assert path.read_bytes() == before
    assert files_in(tmp_path) == {"notes.txt"}


def test_other_programs_sqlite_database_is_refused_untouched(cli, tmp_path):
    path = tmp_path / "other.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE foo (x)")
    con.execute("INSERT INTO foo VALUES (1)")
    con.commit()
    con.close()
    before = path.read_bytes()
    for args in (("init",), ("unit", "add", "abc", "--name", "某单位"), ("unit", "list")):
        assert_storage_failure(cli("--db", str(path), *args), "another program")
    assert path.read_bytes() == before
    assert files_in(tmp_path) == {"other.sqlite"}


def test_directory_is_refused(cli, tmp_path):
    folder = tmp_path / "somewhere"
    folder.mkdir()
    assert_storage_failure(cli("--db", str(folder), "init"), "folder")
    assert list(folder.iterdir()) == []


def test_missing_folder_is_refused_not_created(cli, tmp_path):
    path = tmp_path / "no-such-folder" / "fujian.db"
    assert_storage_failure(cli("--db", str(path), "init"), "does not exist")
    assert not path.parent.exists()


def test_missing_folder_from_environment_is_refused(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("FUJIAN_DB", str(tmp_path / "typo" / "fujian.db"))
    assert_storage_failure(cli("init"), "does not exist")
    assert_storage_failure(cli("unit", "list"), "fujian init")
    assert not (tmp_path / "typo").exists()


@pytest.mark.sqlite_only("a truncated file")
def test_truncated_database_is_refused(cli, tmp_path, db_path):
    make_db(db_path)
    path = tmp_path / "truncated.db"
    path.write_bytes(db_path.read_bytes()[:1000])
    before = path.read_bytes()
    for args in (("unit", "list"), ("unit", "add", "abc", "--name", "某单位")):
        assert_storage_failure(cli("--db", str(path), *args), "damaged")
    assert path.read_bytes() == before


def test_driver_errors_become_sentences():
    assert "busy" in describe_sqlite_error("database is locked", "x.db")
    assert "read-only" in describe_sqlite_error("attempt to write a readonly database", "x.db")
    assert "disk full" in describe_sqlite_error("database or disk is full", "x.db")
    assert "damaged" in describe_sqlite_error("database disk image is malformed", "x.db")
    assert "not a fujian database" in describe_sqlite_error("file is not a database", "x.db")
    assert "Cannot open" in describe_sqlite_error("unable to open database file", "x.db")
    assert "weird" in describe_sqlite_error("weird", "x.db")


# -- a read-only database --------------------------------------------------------------------


def _chattr(flag: str, path: Path) -> bool:
    tool = shutil.which("chattr")
    if tool is None:
        return False
    return subprocess.run([tool, flag, str(path)], capture_output=True).returncode == 0


@contextmanager
def read_only_by_chmod(path: Path) -> Iterator[Path]:
    if os.geteuid() == 0:
        pytest.skip("root ignores file modes: chmod 0444 cannot make a file read-only")
    path.chmod(0o444)
    try:
        yield path
    finally:
        path.chmod(0o600)


@contextmanager
def read_only_by_chattr(path: Path) -> Iterator[Path]:
    # The immutable attribute stops even root from writing (needs ext2/3/4, xfs, btrfs...).
    if os.geteuid() != 0 or not _chattr("+i", path):
        pytest.skip("chattr +i is not available here (not root, or the filesystem refuses)")
    try:
        yield path
    finally:
        _chattr("-i", path)


@contextmanager
def read_only_by_dropping_root(path: Path) -> Iterator[Path]:
    # As root, act as "nobody" for the duration (a reversible seteuid): the file stays root's
    # and mode 0444, so the writes fail for real. The folder must be reachable by nobody, and
    # the pytest temporary folder is not, so the database moves to a folder of its own.
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    folder = Path(tempfile.mkdtemp(prefix="fujian-ro-"))
    try:
        folder.chmod(0o777)
        moved = folder / path.name
        shutil.copy2(path, moved)
        moved.chmod(0o444)
        os.seteuid(NOBODY)
        try:
            yield moved
        finally:
            os.seteuid(0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.parametrize("make_read_only", [read_only_by_chmod, read_only_by_chattr,
                                            read_only_by_dropping_root])
@pytest.mark.sqlite_only("a read-only file")
def test_read_only_database_refuses_writes_cleanly(cli, db_path, make_read_only):
    make_db(db_path)
    with make_read_only(db_path) as path:
        before = path.read_bytes()
        result = cli("--db", str(path), "unit", "add", "abc", "--name", "某单位")
        assert_storage_failure(result, "read-only", "nothing was changed")
        result = cli("--db", str(path), "unit", "update", "gaj", "--liaison", "张三")
        assert_storage_failure(result, "read-only")
        # Reading still works.
        listed = cli("--db", str(path), "unit", "list", "--format", "json")
        assert listed.exit_code == 0, listed.output
        assert path.read_bytes() == before


# -- odd paths ---------------------------------------------------------------------------------


@pytest.mark.sqlite_only("an SQLite file without tables")
def test_sqlite_file_without_tables_becomes_a_database(cli, db_path):
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA user_version = 7")  # a valid SQLite file with no table at all
    con.close()
    assert db_path.stat().st_size > 0
    result = cli("init")
    assert result.exit_code == 0, result.output
    assert len(cli.json("unit", "list")) == 30


def test_dangling_symlink_is_refused_not_followed(cli, tmp_path):
    link = tmp_path / "fujian.db"
    link.symlink_to(tmp_path / "elsewhere" / "target.db")
    assert_storage_failure(cli("--db", str(link), "init"), "Cannot create the database")
    assert not (tmp_path / "elsewhere").exists()


def test_default_data_folder_that_cannot_be_made(cli, tmp_path, monkeypatch):
    blocker = tmp_path / "xdg"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    monkeypatch.delenv("FUJIAN_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    assert_storage_failure(cli("init"), "Cannot create the folder")
    assert blocker.read_text(encoding="utf-8") == "a file where a folder should be"


def test_dry_run_writing_keeps_nothing(store):
    from fujian.service import units as unit_ops

    before = table_dump(store.location)
    with store.writing(commit=False) as session:
        unit_ops.add_unit(session, "tester", "abc", "某单位")
    assert table_dump(store.location) == before
    with store.writing() as session:
        unit_ops.add_unit(session, "tester", "abc", "某单位")
    assert table_dump(store.location) != before


def test_driver_exceptions_are_mapped(tmp_path):
    from sqlalchemy.exc import OperationalError

    from fujian.storage import storage_error_from

    raw = sqlite3.OperationalError("database is locked")
    wrapped = OperationalError("INSERT ...", {}, raw)
    for exc in (raw, wrapped):
        error = storage_error_from(exc, tmp_path / "x.db")
        assert isinstance(error, StorageError) and error.exit_code == 3
        assert "busy" in error.message
    assert storage_error_from(ValueError("no"), "x.db") is None
