"""Provisional due dates are corrected (issue 19, point 9).

A due date counted across a year with no State Council notice is provisional: its rest days
are the holidays package's estimate (民法典 第二百零三条: a last day that is a rest day moves
to the next working day, so which days rest decides the date). When the year becomes known
(an override file, a holidays release) or an override changes a known year, the next command
that opens the database counts every open rule-counted due date again; a date a document set
(--due) stays. The suggestion's two months: 《人民检察院检察建议工作规定》(2019) 第十九条.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import is_url, query_rows, run_sql, table_dump

from fujian.deadlines import Calendar

MOVED_ONE = ("The calendar changed: due dates counted again, 1 moved (`fujian history ID` "
             "shows each).\n")


def _unknown_year() -> int:
    """The first year from 2027 on that the installed holidays package has no notice of and
    whose 28 February is a weekend: a suggestion received on 31 December before it is due on
    28 February, which the estimate rolls to 1 March (or later)."""
    calendar = Calendar()
    return next(y for y in range(2027, 2100)
                if not calendar.knows(y) and date(y, 2, 28).weekday() >= 5)


@pytest.fixture
def year(monkeypatch) -> int:
    found = _unknown_year()
    monkeypatch.setenv("FUJIAN_TODAY", f"{found}-01-05")
    return found


def _override(tmp_path: Path, year: int) -> Path:
    """The year's notice as an override file: its Spring Festival days off and 28 February a
    make-up working day (调休), so the two months end on that day."""
    path = tmp_path / "calendar.toml"
    path.write_text(f'[{year}]\ndays_off = ["{year}-01-01"]\nworkdays = ["{year}-02-28"]\n',
                    encoding="utf-8")
    return path


def _checks(cli) -> dict[str, dict]:
    r = cli("doctor", "--format", "json")
    return {c["check"]: c for c in json.loads(r.stdout)}


def _log_rows(location) -> int:
    return query_rows(location, "SELECT COUNT(*) AS n FROM change_log")[0]["n"]


def test_a_provisional_due_date_is_counted_again_when_its_year_becomes_known(
        cli, initialised, tmp_path, monkeypatch, year):
    start = f"{year - 1}-12-31"
    r = cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正违规发放",
            "--on", start)
    assert r.exit_code == 0 and r.stdout == "S1\n"
    assert f"no official holiday schedule for {year}" in r.stderr
    estimated = cli.json("show", "S1")["due_on"]
    assert estimated > f"{year}-02-28"  # the estimate rolled the weekend over
    # A date the document sets is the document's: it is not counted, so it never moves.
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "按文书",
               "--on", start, "--due", estimated).exit_code == 0

    shown = cli.json("show", "S1")
    assert [(d["name"], d["due_on"], d["provisional"]) for d in shown["duties"]] == \
        [("reply", estimated, True)]
    rows = {row["id"]: row for row in cli.json("list")}
    assert rows["S1"]["provisional"] is True and "provisional" not in rows["S2"]
    checks = _checks(cli)
    assert checks["provisional"] == {
        "check": "provisional", "status": "warn",
        "detail": f"provisional open due dates: 1 (due {estimated}), counted across a year "
                  "with no official holiday schedule. Add the State Council notice to a "
                  "calendar override file: the next command counts them again"}
    assert checks["recount"]["status"] == "ok"

    # The notice arrives as an override file: `calendar due` and doctor know it at once ...
    monkeypatch.setenv("FUJIAN_CALENDAR", str(_override(tmp_path, year)))
    counted = cli.json("calendar", "due", start, "2m")
    assert counted["due"] == f"{year}-02-28"
    checks = _checks(cli)
    assert checks["recount"] == {
        "check": "recount", "status": "warn",
        "detail": "the calendar changed since the due dates were counted (a holidays release "
                  "or an override file): the next command that can write the database counts "
                  "them again"}
    assert checks["provisional"]["status"] == "warn"  # doctor reads, never recounts

    # ... and the next command counts the stored date again, says so once, and logs it.
    r = cli("list", "--format", "json")
    assert r.exit_code == 0 and r.stderr == MOVED_ONE
    rows = {row["id"]: row for row in json.loads(r.stdout)}
    assert rows["S1"]["due_on"] == counted["due"] and "provisional" not in rows["S1"]
    assert rows["S2"]["due_on"] == estimated  # --due stays
    recount = [(h["action"], h["field"], h["old"], h["new"]) for h in cli.json("history", "S1")
               if h["action"] == "recount"]
    assert recount == [("recount", "duty:reply.due_on", estimated, counted["due"]),
                       ("recount", "due_on", estimated, counted["due"])]
    assert [h["action"] for h in cli.json("history", "S2")] == ["create"]
    shown = cli.json("show", "S1")
    assert [(d["due_on"], d["provisional"]) for d in shown["duties"]] == \
        [(counted["due"], False)]
    checks = _checks(cli)
    assert checks["provisional"] == {"check": "provisional", "status": "ok",
                                     "detail": "no open due date is provisional"}
    assert checks["recount"] == {"check": "recount", "status": "ok",
                                 "detail": "the due dates were counted with this calendar"}
    assert cli("list").stderr == ""  # counted once

    # Without the file the year is unknown again: the estimate, and provisional, come back.
    monkeypatch.delenv("FUJIAN_CALENDAR")
    r = cli("show", "S1", "--format", "json")
    assert r.stderr == MOVED_ONE
    assert [(d["due_on"], d["provisional"]) for d in json.loads(r.stdout)["duties"]] == \
        [(estimated, True)]


def test_show_marks_a_provisional_due_date(cli, initialised, year):
    start = f"{year - 1}-12-31"
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", start).exit_code == 0
    table = cli("show", "S1", "--format", "table").stdout
    lines = [line.split() for line in table.splitlines()]
    at = lines.index(["Due", cli.json("show", "S1")["due_on"]])
    assert lines[at + 1] == ["Provisional", "yes"]  # beside the date it qualifies
    duties = table[table.index("Duties of S1"):]
    assert duties.count("Provisional") == 2  # the column, and the flag said in words
    # The flags no duty has (a right, a local rule) leave no blank column.
    assert "Right" not in duties and "Local rule" not in duties


def test_a_list_marks_a_provisional_due_date_beside_it(cli, initialised, year, monkeypatch):
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", f"{year - 1}-12-31").exit_code == 0
    due = cli.json("list")[0]["due_on"]
    assert f"{due} (provisional)" in cli("list", "--format", "table").stdout
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    assert f"{due} （暂定）" in cli("list", "--format", "table").stdout
    # Machine formats keep the date a date, and say it with their own key.
    assert cli("list", "--format", "plain").stdout.splitlines()[1].split("\t")[7] == due
    assert cli.json("list")[0]["provisional"] is True


def test_an_override_that_changes_a_known_year_counts_again_too(cli, initialised, tmp_path,
                                                                monkeypatch):
    """2025 is known: a suggestion received 2025-01-10 is due 2025-03-10, a Monday. An
    override that makes that Monday a day off moves the date to the Tuesday."""
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", "2025-01-10").exit_code == 0
    assert cli.json("show", "S1")["due_on"] == "2025-03-10"
    override = tmp_path / "calendar.toml"
    override.write_text('[2025]\ndays_off = ["2025-01-01", "2025-03-10"]\n', encoding="utf-8")
    monkeypatch.setenv("FUJIAN_CALENDAR", str(override))
    r = cli("report", "overdue", "--format", "json")
    assert r.exit_code == 0 and r.stderr == MOVED_ONE
    shown = cli.json("show", "S1")
    assert shown["due_on"] == "2025-03-11" and "provisional" not in shown
    assert shown["duties"][0]["provisional"] is False


def test_the_fingerprint_follows_the_days_not_the_file(tmp_path, monkeypatch):
    import fujian.deadlines as deadlines

    def fingerprint(text: str) -> str:
        path = tmp_path / "calendar.toml"
        path.write_text(text, encoding="utf-8")
        return Calendar([path]).fingerprint

    first = fingerprint('[2027]\ndays_off = ["2027-02-06"]\nworkdays = ["2027-02-28"]\n')
    # The same days written otherwise (a comment, another order, TOML dates) count the same.
    assert fingerprint('# 国务院办公厅通知\n[2027]\nworkdays = [2027-02-28]\n'
                       'days_off = [2027-02-06]\n') == first
    assert fingerprint('[2027]\ndays_off = ["2027-02-07"]\nworkdays = ["2027-02-28"]\n') != first
    assert fingerprint('[2027]\ndays_off = ["2027-02-06"]\n') != first
    assert Calendar().fingerprint != first
    # Another China calendar in the holidays package (a release with a new notice).
    before = Calendar().fingerprint
    monkeypatch.setattr(deadlines, "holidays_china_release", lambda: "a newer release")
    assert Calendar().fingerprint != before


def test_an_unchanged_calendar_writes_nothing(cli, initialised, year):
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", f"{year - 1}-12-31").exit_code == 0
    before, logged = table_dump(initialised), _log_rows(initialised)
    for args in (("list",), ("report", "overdue"), ("show", "S1"), ("history", "S1"),
                 ("unit", "list")):
        r = cli(*args)
        assert r.exit_code == 0 and r.stderr == "", args
    assert _log_rows(initialised) == logged
    assert table_dump(initialised) == before


def test_init_stores_the_calendar_so_the_first_command_writes_nothing(cli, db_path):
    assert cli("init").exit_code == 0
    stored = query_rows(db_path, "SELECT name, value FROM setting")
    assert stored == [{"name": "calendar", "value": Calendar(
        *_calendar_args()).fingerprint}]
    before = table_dump(db_path)
    assert cli("list").exit_code == 0
    assert table_dump(db_path) == before


def _calendar_args():
    from fujian.service.tracker import cache_dir, optional_override_files, override_files

    return override_files(), cache_dir(), optional_override_files()


def test_backup_copy_and_doctor_leave_the_dates_as_they_are(cli, initialised, tmp_path,
                                                           monkeypatch, year):
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", f"{year - 1}-12-31").exit_code == 0
    estimated = cli.json("show", "S1")["due_on"]
    monkeypatch.setenv("FUJIAN_CALENDAR", str(_override(tmp_path, year)))
    before = table_dump(initialised)
    assert cli("doctor").exit_code == 0
    r = cli("backup", str(tmp_path / "backup.db"))
    assert r.exit_code == 0 and "calendar changed" not in r.stderr
    assert table_dump(initialised) == before  # the backup is of the database as it was
    assert query_rows(tmp_path / "backup.db", "SELECT due_on FROM item")[0]["due_on"] in (
        estimated, date.fromisoformat(estimated))
    assert cli("list").stderr == MOVED_ONE


@pytest.mark.sqlite_only("a file made immutable")
def test_a_read_only_database_is_left_as_it_is_and_nothing_said(cli, initialised, tmp_path,
                                                                monkeypatch, year):
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", f"{year - 1}-12-31").exit_code == 0
    estimated = cli.json("show", "S1")["due_on"]
    run_sql(initialised, "PRAGMA wal_checkpoint(TRUNCATE)")
    monkeypatch.setenv("FUJIAN_CALENDAR", str(_override(tmp_path, year)))
    before = table_dump(initialised)
    chattr = shutil.which("chattr")
    if os.geteuid() != 0 or chattr is None or subprocess.run(
            [chattr, "+i", str(initialised.parent)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (not root, or the filesystem refuses)")
    try:
        r = cli("list", "--format", "json")
        assert r.exit_code == 0 and r.stderr == ""
        assert json.loads(r.stdout)[0]["due_on"] == estimated
        assert _checks(cli)["recount"]["detail"].endswith(
            ": this database is read-only here, so they stay as they are")
    finally:
        subprocess.run([chattr, "-i", str(initialised.parent)], check=True)
    assert table_dump(initialised) == before


def test_the_check_does_not_import_the_holidays_package(cli, initialised, tmp_path):
    """The check on every command reads the package's files: importing it costs about 70 ms."""
    assert cli("list").exit_code == 0  # stores the fingerprint
    location = initialised if not is_url(initialised) else str(initialised)
    code = ("import sys\nfrom fujian.cli import main\nsys.argv = ['fujian', '--db', sys.argv[1], "
            "'list']\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(str('holidays' in sys.modules))\n")
    env = {**os.environ, "FUJIAN_CACHE_DIR": str(tmp_path / "cold-cache")}  # no warm cache
    r = subprocess.run([sys.executable, "-c", code, str(location)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.stderr == "False"


def test_a_paused_duty_keeps_its_paused_days_when_counted_again(cli, initialised, tmp_path,
                                                                monkeypatch, year):
    """A pause moves a local rule's date by the days the clock stood still; counted again, the
    date is the new period's end plus those days, off rest days. The clue's 30 days to
    evaluate are a local rule (data/deadlines.toml), which a pause may stop."""
    start = date(year - 1, 12, 31)
    monkeypatch.setenv("FUJIAN_TODAY", f"{year}-01-20")
    assert cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "非法采砂",
               "--on", start.isoformat()).exit_code == 0
    assert cli("clue", "update", "C1", "--pause", "--on", f"{year}-01-05", "--reason",
               "送鉴定").exit_code == 0
    assert cli("clue", "update", "C1", "--resume", "--on", f"{year}-01-15", "--reason",
               "鉴定完成").exit_code == 0
    paused = query_rows(initialised, "SELECT paused_days, due_on FROM duty")[0]
    assert paused["paused_days"] == 10
    # An override that makes every day from the period's end plus the ten paused days to the
    # stored date a day off: the date moves to the first weekday after the stored one.
    shifted, stored = start + timedelta(days=40), date.fromisoformat(str(paused["due_on"]))
    off = [shifted + timedelta(days=n) for n in range((stored - shifted).days + 1)]
    expected = stored + timedelta(days=1)
    while expected.weekday() >= 5:
        expected += timedelta(days=1)
    override = tmp_path / "calendar.toml"
    override.write_text(f"[{year}]\ndays_off = [{', '.join(repr(d.isoformat()) for d in off)}]\n"
                        .replace("'", '"'), encoding="utf-8")
    monkeypatch.setenv("FUJIAN_CALENDAR", str(override))
    r = cli("list", "--format", "json")
    assert r.stderr == MOVED_ONE
    assert json.loads(r.stdout)[0]["due_on"] == expected.isoformat()
    # As `calendar due` counts the period from the start moved by the paused days.
    assert cli.json("calendar", "due", (start + timedelta(days=10)).isoformat(), "30d")["due"] \
        == expected.isoformat()


@pytest.mark.postgres_only
def test_a_server_login_that_may_only_read_is_left_as_it_is(cli, initialised, tmp_path,
                                                            monkeypatch, year):
    """A reader's login on the shared server (reports only): the recount cannot be written,
    so nothing is, nothing is said, and the command answers from the stored dates."""
    import uuid

    import psycopg
    from conftest import libpq_url
    from sqlalchemy.engine import make_url

    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", f"{year - 1}-12-31").exit_code == 0
    estimated = cli.json("show", "S1")["due_on"]
    role = f"fujian_reader_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_url(initialised), autocommit=True) as con:
        con.execute(f'CREATE ROLE "{role}" LOGIN')
        con.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"')
    try:
        reader = make_url(initialised).set(username=role).render_as_string(hide_password=False)
        monkeypatch.setenv("FUJIAN_CALENDAR", str(_override(tmp_path, year)))
        before = table_dump(initialised)
        r = cli("--db", reader, "list", "--format", "json")
        assert r.exit_code == 0 and r.stderr == ""
        assert json.loads(r.stdout)[0]["due_on"] == estimated
        assert table_dump(initialised) == before
        assert cli("list").stderr == MOVED_ONE  # a login that may write counts them
    finally:
        with psycopg.connect(libpq_url(initialised), autocommit=True) as con:
            con.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
            con.execute(f'DROP OWNED BY "{role}"')
            con.execute(f'DROP ROLE "{role}"')


def test_a_reopened_duty_keeps_its_first_period_when_counted_again(cli, initialised, tmp_path,
                                                                   monkeypatch, year):
    """Reopening starts the duty again on the reopening day against the same due date (the
    matter was not done): counted again, the date follows the calendar, not two months from
    the reopening."""
    monkeypatch.setenv("FUJIAN_TODAY", f"{year}-01-20")
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
               "--on", f"{year - 1}-12-31").exit_code == 0
    estimated = cli.json("show", "S1")["due_on"]
    assert cli("suggestion", "close", "S1", "--outcome", "adopted", "--on",
               f"{year}-01-10").exit_code == 0
    assert cli("suggestion", "reopen", "S1", "--reason", "整改未完成").exit_code == 0
    duties = cli.json("show", "S1")["duties"]
    assert [(d["started_on"], d["due_on"], d["state"]) for d in duties][-1] == \
        (f"{year}-01-20", estimated, "open")
    monkeypatch.setenv("FUJIAN_CALENDAR", str(_override(tmp_path, year)))
    r = cli("list", "--format", "json")
    assert r.stderr == MOVED_ONE
    assert json.loads(r.stdout)[0]["due_on"] == f"{year}-02-28"


def test_working_days_are_counted_again_from_the_start(cli, initialised, tmp_path, monkeypatch,
                                                       year):
    """Working days depend on the calendar all along, not only on the last day: the
    assistance request's 10 working days (a local rule, data/deadlines.toml) are counted
    again from the receipt."""
    start = f"{year - 1}-12-30"
    assert cli("assist", "add", "--type", "retrieve", "--to", "zjj", "--title", "调取审批材料",
               "--on", start).exit_code == 0
    estimated = cli.json("show", "X1")["due_on"]
    override = tmp_path / "calendar.toml"
    override.write_text(f'[{year}]\ndays_off = ["{year}-01-01", "{year}-01-04", '
                        f'"{year}-01-05", "{year}-01-06"]\n', encoding="utf-8")
    monkeypatch.setenv("FUJIAN_CALENDAR", str(override))
    counted = cli.json("calendar", "due", start, "10wd")["due"]
    assert counted > estimated  # three more days off in the first days of the year
    r = cli("list", "--format", "json")
    assert r.stderr == MOVED_ONE
    assert json.loads(r.stdout)[0]["due_on"] == counted
