"""Issue 21, case 13 (the rest): a backup to a full disk names the backup, not the database,
and leaves nothing behind; partial files of killed backups, restores and copies are reported
by `fujian doctor` and removed by the next run to the same target (never one a live process
is writing)."""

from __future__ import annotations

import fcntl
import os
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PARTIAL = re.compile(r"^\..+\.[a-z0-9_]{8}\.partial")

pytestmark = pytest.mark.sqlite_only("partial SQLite files beside their target")


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUJIAN_")}
    env.update(FUJIAN_DB=str(db), FUJIAN_USER="tester", FUJIAN_LANG="en",
               PYTHONPATH=str(ROOT), XDG_CONFIG_HOME=str(db.parent / "config"),
               XDG_DATA_HOME=str(db.parent / "data"))
    return env


def _fujian(env: dict[str, str], *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fujian", *args], env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if PARTIAL.match(p.name))


@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> Path:
    """A database of 20,000 items (bench.py's generator), made once."""
    sys.path.insert(0, str(ROOT))
    try:
        from bench.bench import generate
    finally:
        sys.path.remove(str(ROOT))
    path = tmp_path_factory.mktemp("big") / "s2.db"
    old = os.environ.get("FUJIAN_DB")
    generate(path, 20_000)
    if old is not None:  # generate() only passes it to its child
        os.environ["FUJIAN_DB"] = old
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    return path


@pytest.fixture
def db(big_db, tmp_path) -> Path:
    path = tmp_path / "s2.db"
    shutil.copyfile(big_db, path)
    os.chmod(path, 0o600)
    return path


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_backup_to_a_full_disk_names_the_backup_and_leaves_nothing(db, tmp_path):
    folder = tmp_path / "usb"
    folder.mkdir()
    target = folder / "b.db"
    r = _fujian(_env(db), "backup", str(target), preexec_fn=_limit_file_size(200_000))
    assert r.returncode == 3, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert str(target) in r.stderr and "disk full" in r.stderr
    assert str(db) not in r.stderr
    assert os.listdir(folder) == []  # no .partial, no .partial-journal


def _kill_mid_backup(env: dict[str, str], target: Path) -> None:
    """Start a backup and SIGKILL it once its partial file is being written."""
    for _attempt in range(10):
        proc = subprocess.Popen([sys.executable, "-m", "fujian", "backup", str(target)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        caught = False
        while time.monotonic() < deadline and proc.poll() is None:
            found = [p for p in target.parent.iterdir()
                     if PARTIAL.match(p.name) and p.name.endswith(".partial")]
            if found and found[0].stat().st_size > 0:
                caught = True
                break
            time.sleep(0.001)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if caught and _partials(target.parent):
            return
        for p in target.parent.iterdir():  # the backup finished first: try again
            p.unlink()
    pytest.fail("the kill never landed while the backup was writing")


def _doctor_rows(env: dict[str, str]) -> list[list[str]]:
    r = _fujian(env, "doctor", "--format", "plain")
    return [line.split("\t") for line in r.stdout.splitlines()]


def test_a_killed_backup_is_reported_by_doctor_and_cleaned_by_the_next(db, tmp_path):
    env = _env(db)
    folder = tmp_path / "usb"
    folder.mkdir()
    target = folder / "b.db"
    _kill_mid_backup(env, target)
    left = _partials(folder)
    assert left and not target.exists()
    assert all(os.stat(folder / n).st_mode & 0o777 == 0o600 for n in left)
    # doctor reports the database's folder and the backups folder, not any other
    backups = tmp_path / "data" / "fujian" / "backups"
    backups.mkdir(parents=True)
    for n in left:
        shutil.copy(folder / n, backups / n)
    stale = tmp_path / ".x.db.abcd1234.partial"
    stale.write_bytes(b"x")
    rows = [r for r in _doctor_rows(env) if r and r[0] == "partials"]
    assert len(rows) == 2, rows
    assert any("1 partial files" in " ".join(r) and str(tmp_path) in " ".join(r) for r in rows)
    assert any(str(backups) in " ".join(r) for r in rows)
    # the next backup to the same file removes the partials of the killed one
    r = _fujian(env, "backup", str(target))
    assert r.returncode == 0, r.stderr
    assert _partials(folder) == []
    assert sorted(os.listdir(folder)) == ["b.db"]


def test_a_partial_a_live_process_holds_is_left_alone(db, tmp_path):
    env = _env(db)
    folder = tmp_path / "usb"
    folder.mkdir()
    target = folder / "b.db"
    live = folder / ".b.db.live1234.partial"
    dead = folder / ".b.db.dead1234.partial"
    (Path(f"{dead}-journal")).write_bytes(b"j")
    for p in (live, dead):
        p.write_bytes(b"data")
        os.utime(p, (time.time() - 60, time.time() - 60))
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the process writing it does
        r = _fujian(env, "backup", str(target))
        assert r.returncode == 0, r.stderr
        assert sorted(os.listdir(folder)) == [live.name, "b.db"]
        rows = [r for r in _doctor_rows(env) if r and r[0] == "partials"]
        assert rows == []  # a live run's file is not reported
    finally:
        os.close(fd)


def test_restore_and_copy_remove_stale_partials_beside_their_target(db, tmp_path):
    env = _env(db)
    backup = tmp_path / "b.db"
    assert _fujian(env, "backup", str(backup)).returncode == 0
    old = time.time() - 60
    beside_db = tmp_path / f".{db.name}.abcd1234.partial"
    other = tmp_path / f".{db.name}.x.abcd1234.partial"  # another target's: kept
    copy = tmp_path / "copy.db"
    beside_copy = tmp_path / ".copy.db.abcd1234.partial"
    for p in (beside_db, other, beside_copy):
        p.write_bytes(b"data")
        os.utime(p, (old, old))
    r = _fujian(env, "restore", str(backup), "--force")
    assert r.returncode == 0, r.stderr
    assert not beside_db.exists() and other.exists() and beside_copy.exists()
    r = _fujian(env, "copy", "--to", str(copy))
    assert r.returncode == 0, r.stderr
    assert not beside_copy.exists() and other.exists()
