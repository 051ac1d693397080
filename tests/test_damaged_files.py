"""Issue 11: a damaged or empty file never passes for "nothing is late", and a backup is never
worse than the one it replaces.

Every refusal here is checked the same way: exit code, one line on stderr, nothing on stdout,
and the database (and any backup) byte for byte as it was, with nothing new beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import TODAY, table_dump

ROOT = Path(__file__).resolve().parent.parent
NOBODY = 65534
HOSTILE = "标题\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f尾"  # OSC retitle, clear screen, C1 CSI, DEL
SHOWN = "标题\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\x7f尾"  # how a terminal and plain show it
RAW_CONTROLS = ("\x1b]", "\x1b[2J", "\x07", "\x9b", "\x7f")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> dict[str, str]:
    """Every file in a folder with its hash: proves nothing was changed, added or removed."""
    return {p.name: digest(p) for p in sorted(folder.iterdir()) if p.is_file()}


def one_line_error(result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == "", result.stdout
    for word in words:
        assert word in result.stderr, (word, result.stderr)


_MADE: dict[int, bytes] = {}  # databases made once per run, by number of items


def closed_db(cli, path: Path, items: int = 3) -> Path:
    """A real fujian database made through the CLI (init, then clue add), closed: its log is
    checkpointed into it, so its bytes are the whole database. Each size is made once."""
    if items not in _MADE:
        made = Path(tempfile.mkdtemp(prefix="fujian-made-")) / "f.db"
        assert cli("--db", str(made), "init").exit_code == 0
        for n in range(items):
            r = cli("--db", str(made), "clue", "add", "--from", "sthjj", "--field", "ecology",
                    "--title", f"线索{n}" + "很长的标题" * 40, "--on", "2025-01-02")
            assert r.exit_code == 0, r.output
        _MADE[items] = made.read_bytes()
        shutil.rmtree(made.parent)
    path.write_bytes(_MADE[items])
    path.chmod(0o600)
    return path


def scribble(path: Path, start: int, end: int, step: int = 7) -> None:
    """Overwrite bytes in [start, end) of a closed database: pages damaged, header intact."""
    data = bytearray(path.read_bytes())
    for offset in range(start, min(end, len(data)), step):
        data[offset] = 0xA5
    path.write_bytes(bytes(data))


def damaged_db(cli, path: Path) -> Path:
    closed_db(cli, path, items=20)
    scribble(path, 4096 * 2 + 100, 4096 * 6)
    return path


def foreign_db(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE foo (x)")
    con.execute("INSERT INTO foo VALUES (1)")
    con.commit()
    con.close()
    return path


def blank_db(path: Path) -> Path:
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 7")  # a valid SQLite file without a single table
    con.close()
    return path


READ_COMMANDS = [
    ("report", "overdue", "--fail-if-any"), ("list",), ("list", "--status", "all"),
    ("report", "summary"), ("report", "due-soon"), ("unit", "list"), ("show", "C1"),
    ("history", "C1"), ("export", "csv"),
]
WRITE_COMMANDS = [
    ("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "新线索"),
    ("close", "C1", "--outcome", "rectified"), ("unit", "add", "abc", "--name", "某单位"),
    ("unit", "update", "gaj", "--liaison", "张三"),
]


# -- 1. only a fujian database is read; only init makes one ------------------------------------


def test_an_empty_file_is_refused_by_every_command_but_init(cli, tmp_path):
    db = tmp_path / "z.db"
    db.touch()  # what a failed copy leaves: `: > z.db`
    before = listing(tmp_path)
    for args in (*READ_COMMANDS, *WRITE_COMMANDS, ("backup", str(tmp_path / "b.db"))):
        one_line_error(cli("--db", str(db), *args), 3, "empty file (0 bytes)", "fujian init")
    assert db.stat().st_size == 0
    assert listing(tmp_path) == before  # no schema, no -wal or -shm, no backup


def test_cron_on_an_empty_file_is_an_error_not_an_empty_report(tmp_path):
    """The issue's own line, run as cron runs it (a process, no terminal)."""
    db = tmp_path / "z.db"
    db.touch()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "FUJIAN_TODAY": TODAY.isoformat(), "FUJIAN_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run([sys.executable, "-m", "fujian", "--db", str(db), "report", "overdue",
                        "--fail-if-any"], env=env, capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout) == (3, "")
    assert "empty file" in r.stderr and r.stderr.count("\n") == 1
    assert db.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["z.db"]


def test_init_makes_a_database_of_an_empty_file_only_after_saying_so(cli, tmp_path):
    db = tmp_path / "z.db"
    db.touch()
    db.chmod(0o644)
    r = cli("--db", str(db), "init")
    assert r.exit_code == 0, r.output
    first, second = r.stderr.splitlines()
    assert first == f"{db} is an empty file (0 bytes): making a new fujian database in it."
    assert second.startswith(f"Created {db}; units: 30 added.")
    assert db.stat().st_mode & 0o777 == 0o600  # as private as a database init creates
    assert len(cli.json("--db", str(db), "unit", "list")) == 30


@pytest.mark.parametrize("kind", ["truncated", "foreign", "blank", "folder", "text"])
def test_what_is_not_a_fujian_database_is_refused_untouched(cli, tmp_path, kind):
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "f.db"
    if kind == "truncated":
        closed_db(cli, tmp_path / "whole.db")
        db.write_bytes((tmp_path / "whole.db").read_bytes()[:20000])
    elif kind == "foreign":
        foreign_db(db)
    elif kind == "blank":
        blank_db(db)
    elif kind == "folder":
        db.mkdir()
    else:
        db.write_text("买菜\n", encoding="utf-8")
    before = listing(folder)
    commands = [*READ_COMMANDS, *WRITE_COMMANDS, ("backup", str(tmp_path / "b.db"))]
    if kind != "blank":  # init makes a database of a blank SQLite file, as of an empty one
        commands.append(("init",))
    for args in commands:
        one_line_error(cli("--db", str(db), *args), 3)
    assert listing(folder) == before
    if kind == "folder":
        assert list(db.iterdir()) == []
    assert not (tmp_path / "b.db").exists()


# -- 2. backups that can be trusted; init and doctor on a damaged file --------------------------


def test_backup_from_a_damaged_database_keeps_the_good_backup(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db", items=20)
    good = tmp_path / "good-backup.db"
    assert cli("--db", str(db), "backup", str(good)).exit_code == 0
    scribble(db, 4096 * 2 + 100, 4096 * 6)
    before = listing(tmp_path)
    one_line_error(cli("--db", str(db), "backup", "--force", str(good)), 3, "damaged",
                   "fujian doctor")
    one_line_error(cli("--db", str(db), "backup", str(tmp_path / "new.db")), 3, "damaged")
    assert listing(tmp_path) == before  # the good backup, the database, and nothing else


def test_a_failed_backup_leaves_the_old_backup_as_it_was(cli, tmp_path):
    """The copy fails half-way (the file-size limit of a full disk): the target it would have
    replaced is untouched and no partial file is left behind."""
    import resource
    import signal

    db = closed_db(cli, tmp_path / "f.db", items=20)
    old = tmp_path / "old-backup.db"
    assert cli("--db", str(db), "backup", str(old)).exit_code == 0
    assert cli("--db", str(db), "clue", "add", "--from", "sthjj", "--field", "ecology",
               "--title", "新的").exit_code == 0
    before = listing(tmp_path)
    limit = db.stat().st_size // 2

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "fujian", "--db", str(db), "backup", "--force",
                        str(old)], env=env, capture_output=True, text=True, timeout=60,
                       preexec_fn=small_disk)
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr
    assert listing(tmp_path) == before


def test_backup_writes_a_verified_copy_and_replaces_only_with_force(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db")
    target = tmp_path / "b.db"
    r = cli("--db", str(db), "backup", str(target))
    assert r.exit_code == 0 and r.stderr == f"Backed up to {target}.\n"
    assert table_dump(target) == table_dump(db) and target.stat().st_mode & 0o777 == 0o600
    first = digest(target)
    one_line_error(cli("--db", str(db), "backup", str(target)), 2, "--force")
    assert digest(target) == first
    assert cli("--db", str(db), "clue", "add", "--from", "sthjj", "--field", "ecology",
               "--title", "x").exit_code == 0
    assert cli("--db", str(db), "backup", "--force", str(target)).exit_code == 0
    assert table_dump(target) == table_dump(db)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["b.db", "f.db"]


def test_the_copy_is_checked_before_it_replaces_anything(cli, tmp_path, monkeypatch):
    from fujian import storage

    db = closed_db(cli, tmp_path / "f.db")
    target = tmp_path / "b.db"
    assert cli("--db", str(db), "backup", str(target)).exit_code == 0
    before = listing(tmp_path)
    monkeypatch.setattr(storage.sqlite, "_problems_of_copy", lambda path, revision: ["bad page"])
    one_line_error(cli("--db", str(db), "backup", "--force", str(target)), 3, "did not verify")
    assert listing(tmp_path) == before


def test_init_on_a_damaged_database_refuses(cli, tmp_path):
    db = damaged_db(cli, tmp_path / "f.db")
    before = listing(tmp_path)
    one_line_error(cli("--db", str(db), "init"), 3, "damaged", "fujian doctor")
    assert listing(tmp_path) == before


DOCTOR_CHECKS = ["file", "permissions", "header", "integrity", "schema", "references",
                 "journal", "ids", "units", "calendar override", "calendar", "provisional",
                 "recount"]


def doctor(cli, db: Path) -> tuple[int, dict[str, dict]]:
    r = cli("--db", str(db), "doctor", "--format", "json")
    rows = json.loads(r.stdout)
    assert [row["check"] for row in rows] == DOCTOR_CHECKS  # every check, every time
    assert all(row["status"] in ("ok", "warn", "fail") for row in rows)
    return r.exit_code, {row["check"]: row for row in rows}


def test_doctor_on_a_damaged_database_shows_which_check_failed(cli, tmp_path):
    db = damaged_db(cli, tmp_path / "f.db")
    before = listing(tmp_path)
    code, checks = doctor(cli, db)
    assert code == 3
    assert checks["integrity"]["status"] == "fail"
    assert "fujian restore" in checks["integrity"]["detail"]
    assert checks["header"]["status"] == "ok" and checks["calendar"]["status"] == "ok"
    for row in checks.values():  # the doctor never sends you back to itself
        assert "fujian doctor" not in row["detail"]
    assert listing(tmp_path) == before


@pytest.mark.parametrize(("kind", "failed"), [
    ("missing", "file"), ("empty", "file"), ("folder", "file"), ("text", "header"),
    ("truncated", "header"), ("foreign", "schema"), ("blank", "schema"), ("newer", "schema"),
    ("stale ids", "ids"),
])
def test_doctor_never_stops_at_the_first_problem(cli, tmp_path, kind, failed):
    folder = tmp_path / "data"
    folder.mkdir()
    db = folder / "f.db"
    if kind in ("truncated", "newer", "stale ids"):
        closed_db(cli, db)
        con = sqlite3.connect(db)
        if kind == "newer":
            con.execute("UPDATE alembic_version SET version_num = '9999'")
        if kind == "stale ids":
            con.execute("UPDATE item_sequence SET last_number = 1 WHERE kind = 'clue'")
        con.commit()
        con.close()
        if kind == "truncated":
            db.write_bytes(db.read_bytes()[:20000])
    elif kind == "empty":
        db.touch()
    elif kind == "folder":
        db.mkdir()
    elif kind == "text":
        db.write_text("买菜\n", encoding="utf-8")
    elif kind == "foreign":
        foreign_db(db)
    elif kind == "blank":
        blank_db(db)
    before = listing(folder)
    code, checks = doctor(cli, db)
    assert code == 3
    assert checks[failed]["status"] == "fail", checks[failed]
    assert checks["calendar"]["status"] == "ok"  # checked all the same
    assert listing(folder) == before
    if kind == "stale ids":
        assert "clue 3 > 1" in checks["ids"]["detail"]


@pytest.mark.parametrize("kind", ["damaged", "truncated"])
def test_every_message_that_points_to_doctor_is_one_where_doctor_says_more(cli, tmp_path, kind):
    db = tmp_path / "f.db"
    if kind == "damaged":
        damaged_db(cli, db)
    else:
        closed_db(cli, tmp_path / "whole.db")
        db.write_bytes((tmp_path / "whole.db").read_bytes()[:20000])
    pointed = 0
    for args in (*READ_COMMANDS, *WRITE_COMMANDS, ("init",), ("backup", str(tmp_path / "b"))):
        r = cli("--db", str(db), *args)
        assert r.exit_code in (0, 1, 3), (args, r.output)  # a read may miss the damaged pages
        if "fujian doctor" in r.stderr:
            pointed += 1
            code, checks = doctor(cli, db)
            failed = [row for row in checks.values() if row["status"] == "fail"]
            assert code == 3 and failed, (args, checks)
            assert all("fujian doctor" not in row["detail"] for row in failed)
    assert pointed > 0


# -- restore ------------------------------------------------------------------------------------


def test_restore_puts_a_backup_back_over_a_damaged_database(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db", items=20)
    backup = tmp_path / "b.db"
    assert cli("--db", str(db), "backup", str(backup)).exit_code == 0
    saved, saved_rows = digest(backup), table_dump(backup)
    scribble(db, 4096 * 2 + 100, 4096 * 6)
    damaged = digest(db)
    one_line_error(cli("--db", str(db), "restore", str(backup)), 2, "--force")
    assert digest(db) == damaged
    r = cli("--db", str(db), "restore", "--force", str(backup))
    assert r.exit_code == 0, r.output
    kept = [p for p in tmp_path.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and kept[0].name.endswith(".bak")
    assert r.stderr == (f"Restored {db} from {backup}; the database it replaced is kept as "
                        f"{kept[0]}.\n")
    assert digest(kept[0]) == damaged  # the damaged file kept exactly as it was
    assert kept[0].stat().st_mode & 0o777 == 0o600
    assert table_dump(db) == saved_rows and digest(backup) == saved
    code, _checks = doctor(cli, db)
    assert code == 0
    assert len(cli.json("--db", str(db), "list", "--status", "all")) == 20


def test_restore_replaces_a_live_database_in_place(cli, tmp_path):
    """A connection that stays open across the restore sees the restored data: the database
    was overwritten through SQLite (one transaction), not renamed away under it."""
    db = closed_db(cli, tmp_path / "f.db", items=2)
    backup = tmp_path / "b.db"
    assert cli("--db", str(db), "backup", str(backup)).exit_code == 0
    assert cli("--db", str(db), "clue", "add", "--from", "sthjj", "--field", "ecology",
               "--title", "after the backup").exit_code == 0
    live = sqlite3.connect(db)
    try:
        assert live.execute("SELECT count(*) FROM item").fetchone()[0] == 3
        r = cli("--db", str(db), "restore", "--force", str(backup))
        assert r.exit_code == 0, r.output
        assert live.execute("SELECT count(*) FROM item").fetchone()[0] == 2
    finally:
        live.close()
    kept = next(p for p in tmp_path.iterdir() if ".before-restore-" in p.name)
    titles = {r[0] for r in sqlite3.connect(kept).execute("SELECT title FROM item")}
    assert "after the backup" in titles  # nothing lost: the replaced database is kept whole


def test_restore_into_a_missing_database(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db")
    backup = tmp_path / "b.db"
    assert cli("--db", str(db), "backup", str(backup)).exit_code == 0
    fresh = tmp_path / "new" / "fujian.db"
    fresh.parent.mkdir()
    r = cli("--db", str(fresh), "restore", str(backup))
    assert r.exit_code == 0 and r.stderr == f"Restored {fresh} from {backup}.\n"
    assert table_dump(fresh) == table_dump(db)
    assert fresh.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["fujian.db"]


@pytest.mark.parametrize(("kind", "words"), [
    ("damaged", "damaged"), ("foreign", "not a fujian backup"), ("text", "not a fujian backup"),
    ("empty", "empty file"), ("newer", "newer fujian"), ("truncated", "damaged"),
])
def test_restore_refuses_a_backup_it_cannot_trust(cli, tmp_path, kind, words):
    db = closed_db(cli, tmp_path / "f.db")
    backup = tmp_path / "backup.db"
    if kind == "damaged":
        damaged_db(cli, backup)
    elif kind == "foreign":
        foreign_db(backup)
    elif kind == "text":
        backup.write_text("not a database", encoding="utf-8")
    elif kind == "empty":
        backup.touch()
    else:
        shutil.copy(db, backup)
        if kind == "newer":
            con = sqlite3.connect(backup)
            con.execute("UPDATE alembic_version SET version_num = '9999'")
            con.commit()
            con.close()
        else:
            backup.write_bytes(backup.read_bytes()[:20000])
    before = listing(tmp_path)
    one_line_error(cli("--db", str(db), "restore", "--force", str(backup)), 3, words)
    assert listing(tmp_path) == before


# -- 4. nothing printed before the error --------------------------------------------------------


def big_db(cli, path: Path, rows: int = 400) -> Path:
    """A database whose items fill many pages (copies of one real item, inserted with SQL)."""
    closed_db(cli, path, items=1)
    con = sqlite3.connect(path)
    columns = [r[1] for r in con.execute("PRAGMA table_info(item)")]
    seed = dict(zip(columns, con.execute("SELECT * FROM item").fetchone(), strict=True))
    copies = []
    for n in range(2, rows + 1):
        copy = {**seed, "id": None, "number": n, "title": f"线索{n}" + "长" * 1000}
        copies.append(tuple(copy[c] for c in columns))
    con.executemany(f"INSERT INTO item VALUES ({', '.join('?' * len(columns))})", copies)
    con.execute("UPDATE item_sequence SET last_number = ? WHERE kind = 'clue'", (rows,))
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("args", [
    ("list", "--status", "all", "--sort", "id", "--format", "plain"),
    ("list", "--status", "all", "--sort", "id", "--format", "json"),
    ("list", "--status", "all", "--format", "table"),
    ("export", "csv"),
])
def test_a_command_that_fails_prints_nothing_on_stdout(cli, tmp_path, args):
    db = big_db(cli, tmp_path / "f.db")
    whole = cli("--db", str(db), *args)
    assert whole.exit_code == 0 and len(whole.stdout) > 100_000  # the answer is long...
    size = db.stat().st_size
    scribble(db, size * 3 // 4, size, step=5)  # ...and the damage is near its end
    before = listing(tmp_path)
    one_line_error(cli("--db", str(db), *args), 3, "damaged")
    assert listing(tmp_path) == before


def test_output_of_a_command_that_succeeds_is_unchanged(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db", items=2)
    r = cli("--db", str(db), "report", "overdue", "--fail-if-any", "--format", "plain")
    assert r.exit_code == 1  # its own exit code: what it printed is the answer
    lines = r.stdout.splitlines()
    assert lines[0].startswith("id\tkind\ttitle") and [line[:3] for line in lines[1:]] == \
        ["C1\t", "C2\t"]


# -- 5. control characters are shown, never executed --------------------------------------------


@pytest.fixture
def hostile(cli, tmp_path) -> Path:
    db = closed_db(cli, tmp_path / "f.db", items=0)
    r = cli("--db", str(db), "clue", "add", "--from", "sthjj", "--field", "ecology", "--title",
            "线索", "--note", f"第一行\n{HOSTILE}", "--on", "2025-01-02")
    assert r.exit_code == 0, r.output
    # Changed by an update, so that history shows it as the field's new value.
    assert cli("--db", str(db), "clue", "update", "C1", "--title", HOSTILE).exit_code == 0
    assert cli("--db", str(db), "unit", "update", "jcy", "--name", "检察院" + HOSTILE
               ).exit_code == 0
    return db


def stored(db: Path) -> tuple:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT i.title, i.note, u.name FROM item i JOIN unit u "
                           "ON u.id = i.unit_id").fetchone()
    finally:
        con.close()


def test_plain_and_table_output_show_control_characters(cli, hostile):
    before = digest(hostile)
    for args in (("list",), ("show", "C1"), ("history", "C1"),
                 ("report", "overdue", "--as-of", "2099-01-01")):
        for fmt in ("plain", "table"):
            r = cli("--db", str(hostile), *args, "--format", fmt)
            assert r.exit_code == 0, (args, r.output)
            for raw in RAW_CONTROLS:
                assert raw not in r.stdout, (args, fmt, raw)
            assert SHOWN in r.stdout.replace("\\\\", "\\"), (args, fmt)
    assert stored(hostile) == (HOSTILE, f"第一行\n{HOSTILE}", "检察院" + HOSTILE)
    assert digest(hostile) == before  # showing it changed nothing


def test_json_escapes_and_csv_keeps_the_exact_text(cli, hostile, tmp_path):
    r = cli("--db", str(hostile), "list", "--format", "json")
    for raw in RAW_CONTROLS:
        assert raw not in r.stdout
    assert json.loads(r.stdout)[0]["title"] == HOSTILE
    assert "\\u001b]0;pwned\\u0007" in r.stdout and "\\u009b31m\\u007f" in r.stdout
    shown = cli("--db", str(hostile), "show", "C1", "--format", "json").stdout
    assert "\x1b" not in shown and json.loads(shown)["note"] == f"第一行\n{HOSTILE}"
    r = cli("--db", str(hostile), "list", "--format", "csv")
    assert HOSTILE in r.stdout
    out = tmp_path / "out.csv"
    assert cli("--db", str(hostile), "export", "csv", "-o", str(out)).exit_code == 0
    assert HOSTILE in out.read_text(encoding="utf-8-sig")


def test_a_real_terminal_is_not_taken_over(cli, hostile):
    """At a terminal (a pseudo-terminal here, colours on): the escape sequences in a title and
    a unit name are drawn as text, never sent to the terminal."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(hostile.parent), "PYTHONPATH": str(ROOT),
           "TERM": "xterm-256color", "COLUMNS": "250", "LINES": "50",
           "FUJIAN_TODAY": TODAY.isoformat(), "FUJIAN_CACHE_DIR": str(hostile.parent / "c")}
    for args in (("list",), ("show", "C1"), ("report", "overdue", "--as-of", "2099-01-01")):
        master, slave = pty.openpty()
        proc = subprocess.Popen([sys.executable, "-m", "fujian", "--db", str(hostile), *args],
                                env=env, stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        output = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
        proc.wait(timeout=60)
        os.close(master)
        text = output.decode("utf-8", "replace")
        assert proc.returncode == 0, text
        assert "\x1b[" in text  # Rich did style the table: this was a terminal
        for raw in ("\x1b]0;pwned", "\x1b[2J", "\x07", "\x9b31m", "\x7f"):
            assert raw not in text, (args, raw)
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in text, (args, text)


# -- 6. an empty --db or FUJIAN_DB --------------------------------------------------------------


def test_an_empty_db_option_or_variable_is_an_error_not_the_default(tmp_path):
    """As cron would run it: an unset variable in `--db "$DB"` or `FUJIAN_DB=$DB`."""
    home = tmp_path / "home"
    default = home / ".local" / "share" / "fujian" / "fujian.db"
    default.parent.mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": str(ROOT),
           "FUJIAN_CACHE_DIR": str(tmp_path / "cache")}
    r = subprocess.run([sys.executable, "-m", "fujian", "init"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and default.exists(), r.stderr
    before = listing(default.parent)
    for args, extra in ((["--db", "", "report", "overdue", "--fail-if-any"], {}),
                        (["--db", " ", "list"], {}),
                        (["report", "overdue", "--fail-if-any"], {"FUJIAN_DB": ""}),
                        (["clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "x"],
                         {"FUJIAN_DB": ""})):
        r = subprocess.run([sys.executable, "-m", "fujian", *args], env={**env, **extra},
                           capture_output=True, text=True, timeout=60)
        assert (r.returncode, r.stdout) == (2, ""), (args, r.stderr)
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
        assert "empty" in r.stderr
    assert listing(default.parent) == before


# -- 7. read-only databases can be read ---------------------------------------------------------


def _chattr(flag: str, path: Path) -> bool:
    tool = shutil.which("chattr")
    return tool is not None and subprocess.run([tool, flag, str(path)],
                                               capture_output=True).returncode == 0


@contextmanager
def immutable(path: Path) -> Iterator[None]:
    # chattr +i stops even root (a read-only folder: nothing can be created in it).
    if os.geteuid() != 0 or not _chattr("+i", path):
        pytest.skip("chattr +i is not available here (not root, or the filesystem refuses)")
    try:
        yield
    finally:
        _chattr("-i", path)


@contextmanager
def as_nobody(db: Path, monkeypatch) -> Iterator[tuple[Path, Path]]:
    """The database in a folder this process (switched to user nobody) cannot write, and the
    file itself read-only: an archive copy mounted for everyone to read. The pytest folder is
    not reachable by nobody, so the database moves, with a scratch folder nobody may use."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    folder = Path(tempfile.mkdtemp(prefix="fujian-ro-"))
    try:
        moved = folder / "data" / db.name
        moved.parent.mkdir()
        shutil.copy2(db, moved)
        moved.chmod(0o444)
        moved.parent.chmod(0o555)
        scratch = folder / "scratch"
        scratch.mkdir()
        scratch.chmod(0o777)
        folder.chmod(0o755)
        monkeypatch.setenv("FUJIAN_CACHE_DIR", str(scratch / "cache"))
        monkeypatch.setenv("XDG_CONFIG_HOME", str(scratch / "config"))
        monkeypatch.delenv("FUJIAN_CALENDAR", raising=False)
        os.seteuid(NOBODY)
        try:
            yield moved, scratch
        finally:
            os.seteuid(0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def read_only(how: str, db: Path, scratch: Path, monkeypatch) -> Iterator[tuple[Path, Path]]:
    if how == "folder":
        with immutable(db.parent):
            yield db, scratch
    elif how == "file":
        with immutable(db):
            yield db, scratch
    else:
        with as_nobody(db, monkeypatch) as moved:
            yield moved


@pytest.mark.parametrize("how", ["folder", "file", "nobody"])
def test_a_read_only_database_can_be_read(cli, tmp_path, monkeypatch, how):
    folder = tmp_path / "archive"
    folder.mkdir()
    db = closed_db(cli, folder / "f.db", items=2)
    assert cli("--db", str(db), "close", "C2", "--outcome", "rectified").exit_code == 0
    expected = {args: cli("--db", str(db), *args).stdout for args in READ_COMMANDS}
    rows = table_dump(db)
    with read_only(how, db, tmp_path, monkeypatch) as (path, out):
        before = listing(path.parent)
        for args in READ_COMMANDS:
            r = cli("--db", str(path), *args)
            assert r.exit_code in (0, 1), (args, r.output)  # 1: --fail-if-any found items
            assert r.stdout == expected[args], args
        r = cli("--db", str(path), "export", "csv", "-o", str(out / f"{how}.csv"))
        assert r.exit_code == 0, r.output
        r = cli("--db", str(path), "backup", str(out / f"{how}-backup.db"))
        assert r.exit_code == 0, r.output
        r = cli("--db", str(path), "doctor", "--format", "json")
        assert r.exit_code == 0, r.output
        checks = {row["check"]: row for row in json.loads(r.stdout)}
        assert "read-only" in checks["file"]["detail"] and checks["integrity"]["status"] == "ok"
        for args in (*WRITE_COMMANDS, ("init",)):
            one_line_error(cli("--db", str(path), *args), 3, "read-only")
        assert listing(path.parent) == before  # not a byte changed, nothing written beside it
        assert table_dump(out / f"{how}-backup.db") == rows


def test_a_read_only_mount_can_be_read(cli, tmp_path):
    """A real read-only mount (a bind mount remounted ro in a private mount namespace, as an
    archive disk or CD would be): every read works in a separate process; writes say why."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare for a private read-only mount")
    folder = tmp_path / "cd"
    folder.mkdir()
    db = closed_db(cli, folder / "f.db", items=2)
    before = listing(folder)
    driver = tmp_path / "driver.py"
    driver.write_text(
        "import json, subprocess, sys\n"
        "out = []\n"
        "for args in json.loads(sys.argv[1]):\n"
        "    r = subprocess.run([sys.executable, '-m', 'fujian', *args], capture_output=True,\n"
        "                       text=True)\n"
        "    out.append([r.returncode, r.stdout, r.stderr])\n"
        "print(json.dumps(out))\n", encoding="utf-8")
    commands = [["report", "overdue", "--as-of", "2099-01-01"], ["export", "csv"],
                ["doctor", "--format", "json"],
                ["clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "x"]]
    script = ('mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" && shift && '
              'touch "$0/probe" 2>/dev/null && exit 99; exec "$@"')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FUJIAN_DB": str(db)}
    r = subprocess.run(["unshare", "-m", "--", "sh", "-c", script, str(folder), str(folder),
                        sys.executable, str(driver), json.dumps(commands)], env=env,
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 and not r.stdout:
        pytest.skip(f"no private read-only mount here: {r.stderr.strip()[:200]}")
    results = json.loads(r.stdout)
    for (code, stdout, stderr), args in zip(results[:-1], commands[:-1], strict=True):
        assert code == 0 and stdout, (args, stderr)
    assert "C1" in results[0][1] and "C1" in results[1][1]
    code, stdout, stderr = results[-1]
    assert (code, stdout) == (3, "") and "read-only" in stderr and stderr.count("\n") == 1
    assert listing(folder) == before


# -- 8. one encoding reader ---------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_unit_import_reads_gbk_and_gb18030(cli, tmp_path, encoding):
    db = closed_db(cli, tmp_path / "f.db", items=0)
    units = tmp_path / "units.csv"
    name = "某街道办事处" if encoding == "gbk" else "㐀街道办事处"  # 㐀 needs four bytes in GB18030
    units.write_bytes(f"code,name,liaison\nabc,{name},张三\n".encode(encoding))
    r = cli("--db", str(db), "unit", "import", str(units))
    assert r.exit_code == 0, r.output
    added = {u["code"]: u for u in cli.json("--db", str(db), "unit", "list")}["abc"]
    assert (added["name"], added["liaison"]) == (name, "张三")


def test_unit_import_refuses_text_that_is_neither_and_changes_nothing(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db", items=0)
    units = tmp_path / "units.csv"
    units.write_bytes(b"code,name\nabc,\xff\xfe\xff\n")
    before = table_dump(db)
    one_line_error(cli("--db", str(db), "unit", "import", str(units)), 2,
                   "not UTF-8 or GB18030 text")
    assert table_dump(db) == before


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "auto"])
def test_a_bom_never_becomes_part_of_a_column_name(encoding):
    from fujian.service.transfer import decode, read_rows

    body = "title,from_unit,field\n非法采砂,sthjj,ecology\n"
    bom = "\ufeff".encode("gb18030" if encoding == "gb18030" else "utf-8")
    data = bom + body.encode("gb18030" if encoding == "gb18030" else "utf-8")
    rows = list(read_rows(decode(data, encoding)))  # an unknown "\ufefftitle" was refused
    assert rows == [(2, {"title": "非法采砂", "from_unit": "sthjj", "field": "ecology"})]


def test_unit_import_with_a_bom(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db", items=0)
    units = tmp_path / "units.csv"
    units.write_bytes(b"\xef\xbb\xbf" + "code,name\nabc,某单位\n".encode())
    assert cli("--db", str(db), "unit", "import", str(units)).exit_code == 0
    assert "abc" in {u["code"] for u in cli.json("--db", str(db), "unit", "list")}


def test_unit_import_encoding_overrides_detection(cli, tmp_path):
    db = closed_db(cli, tmp_path / "f.db", items=0)
    units = tmp_path / "units.csv"
    units.write_bytes("\ufeffcode,name\nabc,某街道办事处\n".encode())
    r = cli("--db", str(db), "unit", "import", "--encoding", "gb18030", str(units))
    assert r.exit_code == 2 and "code" in r.stderr  # read as GB18030 the header is not code
    before = table_dump(db)
    assert cli("--db", str(db), "unit", "import", "--encoding", "utf-8-sig",
               str(units)).exit_code == 0
    assert table_dump(db) != before
    assert "abc" in {u["code"] for u in cli.json("--db", str(db), "unit", "list")}
