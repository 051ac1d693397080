"""Issue 21, cases 10 and 6: a password never shown in part, and a killed copy that leaves
no database other commands accept."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fujian.errors import redact
from fujian.storage.location import ServerAddress

# The password meant is everything between the user's colon and the last @ before the host.
PASSWORDS = ["plain@pass123", "a@b:c", "p:q@r@s", "x@y%z"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("FUJIAN_DB", "FUJIAN_CALENDAR", "FUJIAN_DEBUG", "PGPASSWORD")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               FUJIAN_CACHE_DIR=str(tmp_path / "cache"), FUJIAN_USER="tester",
               FUJIAN_LANG="en", PGCONNECT_TIMEOUT="5", **extra)
    return env


def _fujian(env: dict[str, str], *args: str, timeout: float = 120):
    return subprocess.run([sys.executable, "-m", "fujian", *args], env=env, timeout=timeout,
                          capture_output=True, text=True)


def _pieces(password: str) -> list[str]:
    """Every part of the password a partial redaction could leave (split at @ and :)."""
    parts = {password}
    for sep in "@:":
        parts.update(p for p in password.split(sep) if len(p) >= 2)
    return sorted(parts)


@pytest.mark.parametrize("password", PASSWORDS)
def test_server_address_never_prints_the_password(password):
    address = ServerAddress.parse(f"postgresql://fj2:{password}@127.0.0.1:5432/db")
    assert address.url.password == password
    assert address.host == "127.0.0.1" and address.database == "db"
    for shown in (str(address), address.server):
        for piece in _pieces(password):
            assert piece not in shown, (piece, shown)
    assert str(address) == "postgresql://fj2@127.0.0.1:5432/db"


@pytest.mark.parametrize("password", PASSWORDS)
def test_redact_takes_the_userinfo_to_the_last_at(password):
    text = f"could not open postgresql://fj2:{password}@db.example:5432/fj (refused)"
    shown = redact(text)
    for piece in _pieces(password):
        assert piece not in shown, (piece, shown)
    assert "db.example:5432/fj (refused)" in shown


@pytest.mark.parametrize("password", ["plain@pass123", "a@b:c"])
def test_db_path_and_errors_show_no_part_of_the_password(tmp_path, password):
    url = f"postgresql://fj2:{password}@127.0.0.1:{_closed_port()}/db"
    env = _env(tmp_path)
    shown = _fujian(env, "--db", url, "db-path")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == url.replace(f":{password}", "")
    # Connection refused: the error names the server, never the password.
    failed = _fujian(env, "--db", url, "list")
    assert failed.returncode == 3, failed.stderr
    assert "127.0.0.1" in failed.stderr
    # The same from FUJIAN_DB, and doctor's connection row and password warning.
    doctor = _fujian(_env(tmp_path, FUJIAN_DB=url), "doctor", "--format", "plain")
    assert doctor.returncode != 0
    rows = {line.split("\t")[0]: line.split("\t")[1:] for line in doctor.stdout.splitlines()}
    assert rows["password"][0] == "warn", doctor.stdout
    assert "/proc/PID/cmdline" in rows["password"][1] and "PGPASSFILE" in rows["password"][1]
    for output in (shown.stdout, shown.stderr, failed.stdout, failed.stderr, doctor.stdout,
                   doctor.stderr):
        for piece in _pieces(password):
            assert piece not in output, (piece, output)


def test_doctor_has_no_password_row_without_a_password(tmp_path):
    url = f"postgresql://fj2@127.0.0.1:{_closed_port()}/db"
    doctor = _fujian(_env(tmp_path), "--db", url, "doctor", "--format", "plain")
    assert "password\t" not in doctor.stdout


def test_an_at_the_split_cannot_place_is_refused_unshown(tmp_path):
    # A / before the @s: the host as read would hold an @ (and a part of the password).
    url = "postgresql://fj2:pa/ss@wurd@127.0.0.1:5432/db"
    r = _fujian(_env(tmp_path), "--db", url, "db-path")
    assert r.returncode == 2
    assert "%40" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    for piece in ("pa/ss", "wurd", "ss@"):
        assert piece not in r.stdout + r.stderr


ITEMS = 20000


@pytest.fixture(scope="module")
def big_source(tmp_path_factory) -> Path:
    """A database of 20,000 items (a copy of it takes seconds: time to kill it midway)."""
    folder = tmp_path_factory.mktemp("big-source")
    db = folder / "source.db"
    env = _env(folder, FUJIAN_DB=str(db))
    assert _fujian(env, "init").returncode == 0
    src = folder / "big.csv"
    lines = ["title,direction,from_unit,unit,opened_on"]
    lines += [f"案件{i},to-criminal,scjgj,gaj,2025-03-01" for i in range(ITEMS)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = _fujian(env, "import", "csv", "--kind", "referral", str(src))
    assert r.returncode == 0, r.stderr
    return db


def _kill_copy(env: dict[str, str], source: Path, target: Path, delay: float) -> None:
    """Start `fujian copy --to target` and SIGKILL it ``delay`` seconds after a file first
    appears in the target's folder (the target or a temporary file beside it)."""
    before = set(target.parent.iterdir())
    proc = subprocess.Popen([sys.executable, "-m", "fujian", "--db", str(source), "copy",
                             "--to", str(target)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while set(target.parent.iterdir()) == before and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)


@pytest.mark.slow
@pytest.mark.sqlite_only("a killed process and the SQLite file it was writing")
@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "empty-file"])
def test_a_killed_copy_leaves_no_database_that_reports_all_clear(tmp_path, big_source,
                                                                  existing):
    env = _env(tmp_path, FUJIAN_TODAY="2025-06-01")
    killed = 0
    for n, delay in enumerate((0.0, 0.3, 1.0, 2.0)):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        target = folder / "new.db"
        if existing:
            target.touch(mode=0o600)
        _kill_copy(env, big_source, target, delay)
        report = _fujian(env, "--db", str(target), "report", "overdue", "--fail-if-any",
                         "--format", "csv")
        # Either no database (refused, exit 3) or the whole copy (every item overdue).
        assert report.returncode in (1, 3), (delay, report.returncode, report.stdout)
        if report.returncode == 1:
            assert len(report.stdout.strip().splitlines()) == ITEMS + 1
        else:
            killed += 1
            assert report.stdout == "" and report.stderr.count("\n") == 1, report.stderr
    assert killed, "no copy was killed before it finished: give the source more items"


def test_a_finished_copy_leaves_no_temporary_file(tmp_path, big_source):
    env = _env(tmp_path, FUJIAN_TODAY="2025-06-01")
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "new.db"
    r = _fujian(env, "--db", str(big_source), "copy", "--to", str(target))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["new.db"]
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    report = _fujian(env, "--db", str(target), "report", "overdue", "--fail-if-any",
                     "--format", "csv")
    assert report.returncode == 1 and len(report.stdout.strip().splitlines()) == ITEMS + 1


@pytest.mark.slow
@pytest.mark.postgres_only
def test_a_killed_copy_to_a_server_leaves_it_without_tables(tmp_path, big_source):
    # One transaction makes the server's tables and fills them: killed, it leaves none.
    from conftest import fresh_pg_database

    env = _env(tmp_path, FUJIAN_TODAY="2025-06-01")
    killed = 0
    for delay in (0.5, 1.5):
        with fresh_pg_database() as url:
            proc = subprocess.Popen([sys.executable, "-m", "fujian", "--db", str(big_source),
                                     "copy", "--to", url], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            report = _fujian(env, "--db", url, "report", "overdue", "--fail-if-any",
                             "--format", "csv")
            assert report.returncode in (1, 3), (delay, report.returncode, report.stdout)
            if report.returncode == 1:
                assert len(report.stdout.strip().splitlines()) == ITEMS + 1
            else:
                killed += 1
                assert "no fujian tables" in report.stderr
    assert killed
