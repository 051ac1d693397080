"""Issue 21, case 5 (its end): "reports still list the rest when they can, saying how many
rows they skipped". Item rows damaged behind fujian's back (another program's SQL, as in
test_hostile_damaged.py) are left out of `list`, `report overdue`, `report due-soon` and
`export csv`: every readable row is output, the same rows in the same order as if the damaged
ones were not there, in every format (JSON stays valid JSON), and then the command exits 3
with one line on stderr: the first damaged item and field, how many item rows were skipped
and the first IDs with their field, "run fujian doctor"."""

from __future__ import annotations

import json
import re

import pytest
from conftest import run_sql

pytestmark = pytest.mark.sqlite_only("SQLite keeps any value in any column; PostgreSQL "
                                     "refuses them")

# Opened on these days (TODAY is 2025-03-10): R1-R5 are overdue, R6-R8 due soon.
OPENED = ["2024-06-03", "2024-06-05", "2024-07-01", "2025-02-28", "2025-03-01", "2025-03-05",
          "2025-03-07", "2025-03-10"]
DAMAGED = (2, 7)  # R2 is overdue, R7 due soon

# (name, SQL setting the damage on the rows numbered {numbers}, the field named)
DAMAGE = [
    ("opened_on", "UPDATE item SET opened_on = '2025-02-30' WHERE number IN ({numbers})"),
    ("kind", "UPDATE item SET kind = 'zzz' WHERE number IN ({numbers})"),
    ("title", "UPDATE item SET title = X'e4b8ad' WHERE number IN ({numbers})"),
    ("subtype", "UPDATE item SET subtype = 'nosuch' WHERE number IN ({numbers})"),
]
DAMAGE_IDS = [name for name, _sql in DAMAGE]

COMMANDS = {
    "list": ("list",),
    "list-all-by-opened": ("list", "--status", "all", "--sort", "opened"),
    "overdue": ("report", "overdue"),
    "overdue-past": ("report", "overdue", "--as-of", "2025-03-05"),
    "due-soon": ("report", "due-soon"),
}
FORMATS = ("table", "plain", "json", "csv")


def _items(cli, count: int = len(OPENED)) -> None:
    for n in range(count):
        r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
                "--title", f"移送{n + 1}", "--on", OPENED[n % len(OPENED)])
        assert r.exit_code == 0, r.stderr


def _damage(db, field: str, numbers=DAMAGED) -> None:
    sql = dict(DAMAGE)[field]
    run_sql(db, sql.format(numbers=", ".join(str(n) for n in numbers)))


def _ident(field: str, number: int) -> str:
    return f"#{number}" if field == "kind" else f"R{number}"


def _ids_in(text: str) -> list[str]:
    return re.findall(r"(?<![\w#])R\d+\b", text)


def _without(fmt: str, before: str, gone: set[str]) -> object:
    """What ``before`` (a clean run's stdout) shows without the rows of ``gone``."""
    if fmt == "json":
        return [row for row in json.loads(before) if row["id"] not in gone]
    if fmt == "table":
        return [i for i in _ids_in(before) if i not in gone]
    sep = "\t" if fmt == "plain" else ","
    return [line for line in before.splitlines() if line.split(sep)[0] not in gone]


def _shown(fmt: str, after: str) -> object:
    if fmt == "json":
        return json.loads(after)  # valid JSON, whole
    if fmt == "table":
        return _ids_in(after)
    return after.splitlines()


def _check_line(stderr: str, field: str, skipped: list[int]) -> None:
    line = stderr.strip()
    assert "\n" not in line, line
    first = _ident(field, skipped[0])
    assert line.startswith(f"error: {first}: {field} holds "), line
    assert f"item rows skipped: {len(skipped)} (" in line, line
    for number in skipped:
        assert f"{_ident(field, number)} {field}" in line, line
    assert line.endswith("run fujian doctor"), line


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("field", DAMAGE_IDS)
def test_reports_list_the_readable_rows_then_exit_3(cli, initialised, command, fmt, field):
    _items(cli)
    args = (*COMMANDS[command], "--format", fmt)
    before = cli(*args)
    assert before.exit_code == 0, before.stderr
    shown_before = set(_ids_in(before.stdout))
    skipped = [n for n in DAMAGED if f"R{n}" in shown_before]
    assert skipped  # each command shows at least one of the damaged rows
    _damage(initialised, field)
    after = cli(*args)
    assert after.exit_code == 3, (after.stdout, after.stderr)
    assert _shown(fmt, after.stdout) == _without(fmt, before.stdout, {f"R{n}" for n in DAMAGED})
    assert set(_ids_in(after.stdout)) == shown_before - {f"R{n}" for n in DAMAGED}
    _check_line(after.stderr, field, skipped)


@pytest.mark.parametrize("field", DAMAGE_IDS)
def test_export_csv_writes_the_readable_rows_then_exits_3(cli, initialised, tmp_path, field):
    _items(cli)
    before = cli("export", "csv")
    assert before.exit_code == 0, before.stderr
    _damage(initialised, field)
    after = cli("export", "csv")
    assert after.exit_code == 3, after.stderr
    assert after.stdout.splitlines() == _without("csv", before.stdout, {"R2", "R7"})
    _check_line(after.stderr, field, list(DAMAGED))
    # To a file, the export is written whole or not at all: no file, the same line.
    out = tmp_path / "out.csv"
    to_file = cli("export", "csv", "-o", str(out))
    assert to_file.exit_code == 3
    _check_line(to_file.stderr, field, list(DAMAGED))
    assert not out.exists()


@pytest.mark.parametrize("fmt", FORMATS)
def test_cron_overdue_with_damage_exits_3_not_0_or_1(cli, initialised, fmt):
    _items(cli)
    _damage(initialised, "opened_on")
    r = cli("report", "overdue", "--fail-if-any", "--format", fmt)
    assert r.exit_code == 3, r.stderr
    assert {"R1", "R3", "R4", "R5"} <= set(_ids_in(r.stdout))
    _check_line(r.stderr, "opened_on", [2])
    # Every overdue row damaged: nothing readable is overdue, and still not an all clear.
    _damage(initialised, "title", numbers=(1, 3, 4, 5))
    r = cli("report", "overdue", "--fail-if-any", "--format", fmt)
    assert r.exit_code == 3, r.stderr
    assert not _ids_in(r.stdout)
    assert "Nothing is overdue" not in r.stdout
    if fmt == "json":
        assert json.loads(r.stdout) == []
    assert "item rows skipped: 5 (" in r.stderr


@pytest.mark.parametrize("fmt", ("plain", "json"))
def test_limit_counts_only_rows_shown(cli, initialised, fmt):
    _items(cli)
    _damage(initialised, "opened_on", numbers=(2, 5))
    # Ordered by ID: R1 R2 R3 R4 R5 …; the first three readable are R1 R3 R4, and only R2
    # was passed over to show them.
    r = cli("list", "--sort", "id", "--limit", "3", "--format", fmt)
    assert r.exit_code == 3, r.stderr
    assert _ids_in(r.stdout) == ["R1", "R3", "R4"]
    _check_line(r.stderr, "opened_on", [2])
    r = cli("list", "--sort", "id", "--limit", "6", "--format", fmt)
    assert r.exit_code == 3, r.stderr
    assert _ids_in(r.stdout) == ["R1", "R3", "R4", "R6", "R7", "R8"]
    _check_line(r.stderr, "opened_on", [2, 5])
    # The damaged rows come after the rows asked for: nothing was skipped.
    r = cli("list", "--sort", "id", "--limit", "1", "--format", fmt)
    assert r.exit_code == 0, r.stderr
    assert _ids_in(r.stdout) == ["R1"]


def test_many_damaged_rows_are_counted_and_the_first_five_named(cli, initialised):
    _items(cli, 12)
    _damage(initialised, "subtype", numbers=(2, 3, 5, 6, 8, 9, 11))
    r = cli("list", "--sort", "id", "--format", "json")
    assert r.exit_code == 3, r.stderr
    assert [row["id"] for row in json.loads(r.stdout)] == ["R1", "R4", "R7", "R10", "R12"]
    line = r.stderr.strip()
    assert "item rows skipped: 7 (R2 subtype, R3 subtype, R5 subtype, R6 subtype, R8 subtype" \
        in line, line
    assert "R9 subtype" not in line and "2 more" in line and line.endswith("run fujian doctor")


def test_damaged_rows_the_filters_leave_out_are_not_counted(cli, initialised):
    _items(cli)
    _damage(initialised, "opened_on", numbers=(2, 7))
    r = cli("report", "overdue", "--format", "json")
    assert r.exit_code == 3
    assert [row["id"] for row in json.loads(r.stdout)] == ["R1", "R3", "R4", "R5"]
    _check_line(r.stderr, "opened_on", [2])  # R7 is not overdue: not this report's row
    assert "R7" not in r.stderr


def test_show_of_a_damaged_item_names_it_alone(cli, initialised):
    _items(cli, 2)
    _damage(initialised, "opened_on", numbers=(2,))
    r = cli("show", "R2")
    assert r.exit_code == 3
    assert r.stderr.strip() == ("error: R2: opened_on holds '2025-02-30', not a date: "
                                "run fujian doctor")
    assert cli("show", "R1").exit_code == 0


@pytest.mark.parametrize("args", [("list", "-f", "json"), ("report", "overdue", "-f", "json"),
                                  ("show", "R2", "-f", "json")])
def test_bytes_in_another_text_column_are_named_not_an_internal_error(cli, initialised, args):
    """A BLOB in handler (not the title) passed the row checks and broke JSON: exit 70."""
    _items(cli)
    run_sql(initialised, "UPDATE item SET handler = X'e4b8ad' WHERE number = 2")
    result = cli(*args)
    assert result.exit_code == 3, result.output
    assert "R2: handler holds 'e4b8ad', not text: run fujian doctor" in result.stderr
