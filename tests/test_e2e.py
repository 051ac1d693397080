"""End to end: the installed `fujian` command in a subprocess, as cron runs it — minimal
environment, no terminal, no colour. Run from a folder outside the checkout, so the installed
package (and its packaged data files) is what answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def fujian_command() -> list[str]:
    script = Path(sys.executable).parent / "fujian"
    if script.exists():
        return [str(script)]
    found = shutil.which("fujian")
    if found:
        return [found]
    return [sys.executable, "-m", "fujian"]


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C"}
    if fujian_command()[0] == sys.executable:  # not installed: let python find the checkout
        base["PYTHONPATH"] = str(ROOT)
    return subprocess.run([*fujian_command(), *args], cwd=tmp_path, env={**base, **env},
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def test_cron_overdue_report_is_plain(tmp_path):
    demo = tmp_path / "demo.db"
    r = run(["demo", "--db", str(demo)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout + r.stderr
    if fujian_command()[0] != sys.executable:  # not on PATH here: the hint names the real path
        assert f"Try: {fujian_command()[0]} --db {demo} list" in r.stderr
    r = run(["report", "overdue"], tmp_path, FUJIAN_DB=str(demo))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # What is owed (the duty) is the last column, so that scripts keep their positions.
    assert lines[0] == "id\tkind\ttitle\tunit\tunit_name\tstage\tdue_on\tdays_overdue\tduty"
    assert len(lines) > 3
    assert "\x1b" not in r.stdout
    assert all(line.count("\t") == 8 for line in lines)
    r = run(["report", "overdue", "--fail-if-any"], tmp_path, FUJIAN_DB=str(demo))
    assert r.returncode == 1
    r = run(["report", "overdue", "--fail-if-any", "--as-of", "2000-01-01"], tmp_path,
            FUJIAN_DB=str(demo))
    assert (r.returncode, r.stdout) == (0, "")


def test_add_prints_the_id_alone(tmp_path):
    db = tmp_path / "f.db"
    assert run(["--db", str(db), "init"], tmp_path).returncode == 0
    r = run(["--db", str(db), "clue", "add", "--from", "sthjj", "--field", "ecology",
             "--title", "线索"], tmp_path)
    assert (r.returncode, r.stdout) == (0, "C1\n")
    shown = json.loads(run(["--db", str(db), "show", "c1", "--format", "json"], tmp_path).stdout)
    assert shown["id"] == "C1" and shown["unit"] == "jcy"


def test_user_errors_never_print_a_traceback(tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a database")
    assert run(["--db", str(tmp_path / "x.db"), "init"], tmp_path).returncode == 0
    cases = [
        (["--db", str(text_file), "list"], 3),
        (["calendar", "due", "2025-02-30", "3d"], 2),
        (["--db", str(tmp_path / "x.db"), "show", "R99"], 2),
        (["--db", str(tmp_path / "x.db"), "referral", "add", "--direction", "to-criminal",
          "--from", "nowhere", "--to", "gaj", "--title", "x"], 2),
        (["no-such-command"], 2),
    ]
    for args, code in cases:
        r = run(args, tmp_path)
        assert r.returncode == code, (args, r.stderr)
        assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
        assert r.stderr.strip(), args
    assert text_file.read_text() == "not a database"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_new_database_is_private(tmp_path):
    db = tmp_path / "new.db"
    assert run(["--db", str(db), "init"], tmp_path).returncode == 0
    assert oct(db.stat().st_mode & 0o777) == "0o600"


def test_python_dash_m_and_version(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "fujian", "--version"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.startswith("fujian ")


def test_a_mistyped_database_path_is_an_error_not_an_empty_report(tmp_path):
    """cron must not mail "nothing overdue" because of a typo in FUJIAN_DB."""
    typo = tmp_path / "fujain.db"
    for args in (["report", "overdue", "--fail-if-any"], ["list"], ["export", "csv"],
                 ["referral", "add", "--direction", "to-criminal", "--from", "a", "--to", "b",
                  "--title", "x"]):
        r = run(args, tmp_path, FUJIAN_DB=str(typo))
        assert r.returncode == 3, (args, r.stderr)
        assert "fujian init" in r.stderr
        assert not typo.exists()
