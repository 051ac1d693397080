"""Issue 21, hostile arguments and output streams (cases 3, 9, 11, 12): each through a real
process on a real SQLite file. Bad input is exit 2 with one line on stderr and nothing made; a
change that was saved but whose report could not be written says so (exit 5), never "nothing
was changed"."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only("processes on a database file")

ADD = ["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
       "--title", "某公司销售假药案"]


def run(db: Path, *args: str | bytes, env: dict | None = None, stdout=subprocess.PIPE,
        timeout: float = 60) -> subprocess.CompletedProcess:
    full = {**os.environ, "FUJIAN_DB": str(db), **(env or {})}
    return subprocess.run([sys.executable, "-m", "fujian", *args], env=full, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=timeout)


def err(proc: subprocess.CompletedProcess) -> str:
    return proc.stderr.decode("utf-8", "replace")


def one_line(proc: subprocess.CompletedProcess, code: int) -> str:
    text = err(proc)
    assert proc.returncode == code, (proc.returncode, text)
    assert len(text.strip().splitlines()) == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    return text


def count(db: Path, table: str = "item") -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    proc = run(path, "init")
    assert proc.returncode == 0, err(proc)
    return path


# -- case 3: a saved change whose report could not be written ----------------------------------

def test_saved_change_with_stdout_closed_says_saved(db: Path) -> None:
    full = {**os.environ, "FUJIAN_DB": str(db)}
    # The shell's `>&-`: the child starts with file descriptor 1 closed.
    proc = subprocess.run(
        ["/bin/sh", "-c", 'exec "$0" -m fujian "$@" >&-', sys.executable, *ADD],
        env=full, stderr=subprocess.PIPE, timeout=60)
    text = one_line(proc, 5)
    assert "R1" in text and "saved" in text and "nothing was changed" not in text
    assert count(db) == 1


def test_saved_change_to_full_disk_says_saved(db: Path) -> None:
    with open("/dev/full", "wb") as full:
        proc = run(db, *ADD, stdout=full)
    text = one_line(proc, 5)
    assert "R1 was saved" in text and "no space left on the disk" in text
    assert count(db) == 1


def test_saved_change_to_a_reader_gone_says_saved(db: Path) -> None:
    full = {**os.environ, "FUJIAN_DB": str(db)}
    proc = subprocess.Popen([sys.executable, "-m", "fujian", *ADD], env=full,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader goes away before the ID is written
    _, stderr = proc.communicate(timeout=60)
    text = stderr.decode("utf-8", "replace")
    assert proc.returncode == 5, text
    assert "R1 was saved" in text and len(text.strip().splitlines()) == 1
    assert count(db) == 1


def test_note_printing_nothing_to_full_disk_succeeds(db: Path) -> None:
    assert run(db, *ADD).returncode == 0
    with open("/dev/full", "wb") as full:
        proc = run(db, "note", "R1", "called the unit", stdout=full)
    assert proc.returncode == 0, err(proc)  # nothing on standard output: nothing lost
    assert count(db, "note") == 1


def test_read_only_command_to_full_disk_is_not_called_saved(db: Path) -> None:
    assert run(db, *ADD).returncode == 0
    with open("/dev/full", "wb") as full:
        proc = run(db, "list", "--format", "plain", stdout=full)
    text = one_line(proc, 3)
    assert "saved" not in text and "no space left on the disk" in text


def test_read_only_command_with_stdout_closed_is_not_internal(db: Path) -> None:
    full = {**os.environ, "FUJIAN_DB": str(db)}
    assert run(db, *ADD).returncode == 0
    proc = subprocess.run(
        ["/bin/sh", "-c", 'exec "$0" -m fujian "$@" >&-', sys.executable, "list"],
        env=full, stderr=subprocess.PIPE, timeout=60)
    text = one_line(proc, 3)
    assert "closed" in text and "saved" not in text


def test_command_printing_nothing_runs_with_stdout_closed(db: Path, tmp_path: Path) -> None:
    full = {**os.environ, "FUJIAN_DB": str(db)}
    out = tmp_path / "b.db"
    proc = subprocess.run(
        ["/bin/sh", "-c", 'exec "$0" -m fujian "$@" >&-', sys.executable, "backup", str(out)],
        env=full, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0, err(proc)
    assert out.exists()


# -- case 9: arguments that are not valid UTF-8 --------------------------------------------------

@pytest.mark.parametrize("args, name", [
    ([*ADD[:-1], b"bad\xff"], "--title"),
    ([*ADD, "--note", b"n\xffote"], "--note"),
    (["referral", "add", "--direction", "to-criminal", "--from", b"scj\xff", "--to", "gaj",
      "--title", "x"], "--from"),
    (["unit", "add", "zz", "--name", b"\xff\xfe"], "--name"),
    (["unit", "add", b"z\xffz", "--name", "x"], "CODE"),
])
def test_non_utf8_argument_is_bad_input_naming_it(db: Path, args: list, name: str) -> None:
    before = count(db, "unit")
    text = one_line(run(db, *args), 2)
    assert name in text
    assert count(db) == 0 and count(db, "unit") == before


def test_non_utf8_note_and_search_words(db: Path) -> None:
    assert run(db, *ADD).returncode == 0
    text = one_line(run(db, "note", "R1", b"bad\xff"), 2)
    assert "TEXT" in text or "note" in text.lower()
    assert count(db, "note") == 0
    one_line(run(db, "search", b"\xff"), 2)
    one_line(run(db, "list", "--search", b"a\xffb"), 2)
    one_line(run(db, "list", "--unit", b"g\xffaj"), 2)


def test_non_utf8_user_is_bad_input(db: Path) -> None:
    proc = run(db, *ADD, env={"FUJIAN_USER": os.fsdecode(b"\xffme")})
    text = one_line(proc, 2)
    assert "FUJIAN_USER" in text
    assert count(db) == 0


def test_non_utf8_database_path_is_bad_input(tmp_path: Path) -> None:
    bad = os.fsencode(str(tmp_path)) + b"/\xff.db"
    full = {**os.environ}
    full.pop("FUJIAN_DB", None)
    proc = subprocess.run([sys.executable, "-m", "fujian", "--db", bad, "init"], env=full,
                          capture_output=True, timeout=60)
    text = one_line(proc, 2)
    assert "--db" in text
    assert not os.path.exists(bad)
    proc = run(tmp_path / "x.db", "list", env={"FUJIAN_DB": os.fsdecode(bad)})
    assert "FUJIAN_DB" in one_line(proc, 2)


# -- case 11: numbers out of range ---------------------------------------------------------------

@pytest.mark.parametrize("args, name", [
    (["list", "--limit", "9223372036854775808"], "--limit"),
    (["list", "--limit", "1000001"], "--limit"),
    (["search", "x", "--limit", "9223372036854775808"], "--limit"),
    (["report", "due-soon", "--within", "999999999"], "--within"),
    (["report", "due-soon", "--within", "-1"], "--within"),
    (["report", "due-soon", "--as-of", "9999-12-31"], "--as-of"),
    (["report", "due-soon", "--as-of", "9999-12-01", "--within", "60"], "--as-of"),
    (["export", "pack", "-o", "PACK", "--within", "999999999"], "--within"),
    (["export", "pack", "-o", "PACK", "--as-of", "9999-12-31"], "--as-of"),
    (["export", "reminders", "-o", "REM", "--within", "999999999"], "--within"),
    (["export", "reminders", "-o", "REM", "--as-of", "9999-12-31"], "--as-of"),
])
def test_huge_number_is_bad_input(db: Path, tmp_path: Path, args: list[str], name: str) -> None:
    args = [str(tmp_path / a) if a in ("PACK", "REM") else a for a in args]
    assert name in one_line(run(db, *args), 2)
    assert not (tmp_path / "PACK").exists() and not (tmp_path / "REM").exists()


def test_numbers_in_range_still_work(db: Path) -> None:
    assert run(db, "list", "--limit", "1000000").returncode == 0
    assert run(db, "report", "due-soon", "--within", "3660").returncode == 0
    assert run(db, "report", "due-soon", "--as-of", "9999-12-01").returncode == 0


# -- case 12: a search too long ------------------------------------------------------------------

def test_long_list_search_is_bad_input(db: Path) -> None:
    words = " ".join(f"w{n}" for n in range(600))
    text = one_line(run(db, "list", "--search", words), 2)
    assert "at most" in text


def test_long_search_is_bad_input(db: Path) -> None:
    words = [f"w{n}" for n in range(1200)]
    assert "at most" in one_line(run(db, "search", *words), 2)
    assert "at most" in one_line(run(db, "search", *[f"w{n}" for n in range(33)]), 2)
    assert "at most" in one_line(run(db, "search", "x" * 1001), 2)


def test_search_at_the_limit_runs(db: Path) -> None:
    assert run(db, "search", *[f"w{n}" for n in range(32)]).returncode == 0
