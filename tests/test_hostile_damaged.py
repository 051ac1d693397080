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
