"""Issue 21, case 5: rows and tables damaged behind fujian's back (another program's SQL).
`fujian doctor` finds them (exit 3), and commands that read such a row name it and its field
(exit 3) instead of failing with an internal error (exit 70)."""

from __future__ import annotations

import json

import pytest
from conftest import run_sql

# (SQL on item R1, the field named): values SQLite keeps whatever the column's type says.
DAMAGE = [
    ("UPDATE item SET opened_on = '2025-02-30' WHERE kind = 'referral'", "opened_on"),
    ("UPDATE item SET paused_on = 'yesterday' WHERE kind = 'referral'", "paused_on"),
    ("UPDATE item SET due_on = '2025-13-01' WHERE kind = 'referral'", "due_on"),
    ("UPDATE item SET title = X'e4b8ad' WHERE kind = 'referral'", "title"),
    ("UPDATE item SET subtype = 'nosuch' WHERE kind = 'referral'", "subtype"),
    ("UPDATE item SET kind = 'zzz' WHERE kind = 'referral'", "kind"),
]


def _referral(cli) -> None:
    r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
            "--title", "移送", "--on", "2025-03-03")
    assert r.exit_code == 0, r.stderr


def _doctor(cli) -> tuple[int, dict[str, dict]]:
    r = cli("doctor", "--format", "json")
    return r.exit_code, {c["check"]: c for c in json.loads(r.stdout)}


@pytest.mark.sqlite_only("SQLite keeps any value in any column; PostgreSQL refuses them")
@pytest.mark.parametrize(("sql", "field"), DAMAGE, ids=[f for _s, f in DAMAGE])
def test_doctor_fails_on_a_damaged_item_row(cli, initialised, sql, field):
    _referral(cli)
    run_sql(initialised, sql)
    code, checks = _doctor(cli)
    assert code == 3
    detail = checks["items"]["detail"]
    assert checks["items"]["status"] == "fail" and detail.startswith("1 items")
    assert f"({field})" in detail


@pytest.mark.parametrize("table", ["duty", "note", "change_log"])
def test_doctor_fails_on_a_dropped_table(cli, initialised, table):
    run_sql(initialised, f"DROP TABLE {table}")
    code, checks = _doctor(cli)
    assert code == 3
    assert checks["tables"]["status"] == "fail" and table in checks["tables"]["detail"]


def test_doctor_names_at_most_five_items(cli, initialised):
    for _n in range(7):
        _referral(cli)
    run_sql(initialised, "UPDATE item SET stage = 'nowhere'")
    code, checks = _doctor(cli)
    detail = checks["items"]["detail"]
    assert code == 3 and detail.startswith("7 items") and detail.count("(stage)") == 5


COMMANDS = [("list",), ("list", "--format", "json"), ("show", "R1"), ("report", "overdue"),
            ("export", "csv", "-o", "{out}")]


@pytest.mark.sqlite_only("SQLite keeps any value in any column; PostgreSQL refuses them")
@pytest.mark.parametrize(("sql", "field"), DAMAGE, ids=[f for _s, f in DAMAGE])
def test_reading_a_damaged_row_names_it_and_exits_3(cli, initialised, tmp_path, sql, field):
    r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
            "--title", "逾期", "--on", "2024-06-03")
    assert r.exit_code == 0, r.stderr
    assert cli("report", "overdue", "--format", "json").stdout.count('"R1"') == 1
    run_sql(initialised, sql.replace("'2025-13-01'", "'2024-13-01'"))
    ident = "#1" if field == "kind" else "R1"
    out = tmp_path / "out.csv"
    for command in COMMANDS:
        if command == ("show", "R1") and field == "kind":
            continue  # no item R1 any more: exit 2, as for any unknown ID
        r = cli(*(part.format(out=out) for part in command))
        assert r.exit_code == 3, (command, r.stderr)
        line = r.stderr.strip()
        assert "\n" not in line and line.startswith(f"error: {ident}: {field} holds "), line
        assert line.endswith("run fujian doctor")
    assert not out.exists()
