"""`fujian doctor`: a verdict, exit 0 when healthy and 3 otherwise."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import run_sql


def _checks(cli, *options) -> tuple[int, dict[str, dict]]:
    r = cli(*options, "doctor", "--format", "json")
    return r.exit_code, {c["check"]: c for c in json.loads(r.stdout)}


@pytest.mark.sqlite_only("the rows of a file (header, journal …); a server's rows are in "
                         "test_postgres_data.py")
def test_healthy_database(cli, initialised):
    code, checks = _checks(cli)
    assert code == 0
    assert list(checks) == ["file", "permissions", "header", "integrity", "schema",
                            "references", "journal", "ids", "units", "calendar override",
                            "calendar", "provisional", "recount"]
    assert all(c["status"] in ("ok", "warn") for c in checks.values())
    assert checks["journal"]["detail"] == "journal mode wal"
    assert checks["calendar"]["status"] == "ok"  # today is 2025-03-10: 2025 and 2026 known
    assert "2001–2026" in checks["calendar"]["detail"]
    r = cli("doctor")
    assert "Verdict: healthy." in r.stderr


def test_next_year_unknown_is_a_warning_this_year_unknown_a_failure(cli, initialised,
                                                                     monkeypatch):
    monkeypatch.setenv("FUJIAN_TODAY", "2026-11-28")
    code, checks = _checks(cli)
    assert code == 0 and checks["calendar"]["status"] == "warn"
    assert "2027" in checks["calendar"]["detail"]
    monkeypatch.setenv("FUJIAN_TODAY", "2031-01-05")
    code, checks = _checks(cli)
    assert code == 3 and checks["calendar"]["status"] == "fail"
    assert "Verdict: problems found." in cli("doctor").stderr


def test_override_file_makes_a_year_known(cli, initialised, monkeypatch, tmp_path):
    override = tmp_path / "calendar.toml"
    override.write_text('[2031]\ndays_off = ["2031-01-01"]\nworkdays = []\n'
                        '[2032]\ndays_off = ["2032-01-01"]\nworkdays = []\n')
    monkeypatch.setenv("FUJIAN_CALENDAR", str(override))
    monkeypatch.setenv("FUJIAN_TODAY", "2031-01-05")
    code, checks = _checks(cli)
    assert code == 0 and checks["calendar"]["status"] == "ok"


def test_stale_id_sequence_and_empty_directory_fail(cli, initialised):
    assert cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "x").exit_code == 0
    run_sql(initialised, "UPDATE item_sequence SET last_number = 0 WHERE kind = 'clue'")
    code, checks = _checks(cli)
    assert code == 3 and checks["ids"]["status"] == "fail" and "clue" in checks["ids"]["detail"]


def test_no_units_fails(cli, db_path):
    assert cli("db-path").exit_code == 0
    from fujian.storage import Store

    Store(db_path).dispose()  # a database without the unit directory
    code, checks = _checks(cli)
    assert code == 3 and checks["units"]["status"] == "fail"


def test_missing_database_is_not_created(cli, tmp_path):
    target = tmp_path / "absent.db"
    code, checks = _checks(cli, "--db", str(target))  # the option goes before the command
    assert code == 3
    assert checks["file"]["status"] == "fail" and "fujian init" in checks["file"]["detail"]
    # The calendar is still checked: the doctor does not stop at the first problem.
    assert checks["calendar"]["status"] == "ok"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("absent")]


@pytest.mark.sqlite_only("damages the file's pages")
def test_damaged_database_fails(cli, initialised):
    for n in range(20):
        cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", f"线索{n}" * 50)
    con = sqlite3.connect(initialised)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(initialised.read_bytes())
    page = 4096
    for offset in range(page * 2 + 100, min(len(data), page * 6), 7):
        data[offset] = 0xA5  # scribble over index and table pages, keep the header
    initialised.write_bytes(bytes(data))
    r = cli("doctor", "--format", "json")
    assert r.exit_code == 3
    assert "Traceback" not in r.output


@pytest.mark.parametrize(("text", "problem"), [
    (None, "does not exist"),
    ("[2027]\n", "lists no days_off and no workdays"),
    ('[2027]\ndays_off = ["2028-01-01"]\n', "2028-01-01 is listed under [2027]")])
def test_a_bad_override_is_a_failed_row_not_the_end_of_doctor(cli, initialised, monkeypatch,
                                                              tmp_path, text, problem):
    path = tmp_path / "override.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FUJIAN_CALENDAR", str(path))
    r = cli("doctor", "--format", "json")
    assert r.exit_code == 3
    rows = {row["check"]: row for row in json.loads(r.stdout)}
    assert rows["schema"]["status"] == "ok"  # the other checks still ran
    assert rows["calendar override"]["status"] == "fail"
    assert str(path) in rows["calendar override"]["detail"]
    assert problem in rows["calendar override"]["detail"]
    assert rows["calendar"]["status"] == "fail"
