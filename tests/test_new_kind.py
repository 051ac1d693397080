"""A kind added as data only (issue 13, point 1): a throw-away kind is put in the registry and
the deadline rules — nothing else — and every generic command works with it: its ID sequence
is made on first use, its commands come from the registry, and lists, reports, exports,
imports and the pack carry it like any other kind."""

from __future__ import annotations

import csv
import io

import pytest

from fujian.deadlines import Period, Rule, RuleBook
from fujian.kinds import BY_PREFIX, KINDS, Kind, KindField, choices

PROBE = Kind(
    code="probe",
    prefix="Q",
    label="试验事项",
    subtype_key="type",
    subtype_label="试验类型",
    unit_option="--to",
    unit_help="The unit asked.",
    unit_label="承办单位",
    waiving_outcomes=("dropped",),
    example="fujian probe add --type a --to zjj --title T",
    sheet_name="Open probes",
    fields=(KindField("party", "当事人", "text", "--party", "Party concerned."),),
    _subtypes=choices("type", ("a", "甲类"), ("b", "乙类")),
    _stages={None: choices("stage", ("asked", "已发出"), ("answered", "已答复"))},
    _outcomes={None: choices("outcome", ("done", "办结"), ("dropped", "撤回"))},
)


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Kind:
    """The registry and the rules gain kind ``probe`` (prefix Q) for one test: the rules through
    the one loader (deadlines.shipped_rules), which the service and the help both read."""
    from fujian import deadlines
    from fujian.cli import app
    from fujian.cli import items as cli_items

    monkeypatch.setitem(KINDS, PROBE.code, PROBE)
    monkeypatch.setitem(BY_PREFIX, PROBE.prefix, PROBE)
    shipped = deadlines.shipped_rules()
    book = RuleBook([*shipped.rules,
                     Rule("probe", "asked", Period(5, "d"), "test rule", duty="reply",
                          holder="unit", start="received"),
                     Rule("probe", "answered", None, "answered", duty="reply", holder="unit",
                          start="received")],
                    shipped.duties, shipped.events)
    book.holders = shipped.holders
    monkeypatch.setattr(deadlines, "shipped_rules", lambda: book)
    # The command line is built from the registry: the new kind gets its command group.
    monkeypatch.setattr(app, "registered_groups", list(app.registered_groups))
    app.add_typer(cli_items.build_kind_app(PROBE), name=PROBE.code)
    return PROBE


def test_a_kind_added_as_data_works_with_every_generic_command(probe, cli, initialised,
                                                               tmp_path):
    help_text = cli("probe", "add", "--help").stdout
    assert "fujian probe add --type a --to zjj --title T" in help_text
    r = cli("probe", "add", "--type", "a", "--to", "zjj", "--title", "试验一",
            "--party", "=HYPERLINK(\"x\")", "--on", "2025-03-01")
    assert r.exit_code == 0, r.output
    assert r.stdout == "Q1\n"  # its ID sequence was made on first use
    assert cli("probe", "add", "--type", "乙类", "--to", "zjj", "--title", "试验二",
               "--on", "2025-03-09").stdout == "Q2\n"
    row = cli.json("show", "Q1")
    assert (row["kind"], row["type"], row["party"], row["stage"], row["due_on"]) == \
        ("probe", "a", "=HYPERLINK(\"x\")", "asked", "2025-03-06")
    assert [r["id"] for r in cli.json("probe", "list")] == ["Q1", "Q2"]
    assert [r["id"] for r in cli.json("list", "--status", "all", "--sort", "id")][-2:] == \
        ["Q1", "Q2"]
    # Reports: Q1 is overdue (due 6 March, today is 10 March) and names its unit.
    late = cli.json("report", "overdue")
    assert [(r["id"], r["unit"], r["days_overdue"]) for r in late] == [("Q1", "zjj", 4)]
    # Every --format csv neutralises formula-like text, as export csv does.
    listed = cli("probe", "list", "--format", "csv").stdout
    assert "'=HYPERLINK" in listed
    summary = cli.json("report", "summary")
    assert any(r["group"] == "kind" and r["key"] == "probe" and r["overdue"] == 1
               for r in summary)
    assert cli("probe", "update", "Q1", "--stage", "answered", "--on", "2025-03-08") \
        .exit_code == 0
    assert cli("note", "Q1", "已答复").exit_code == 0
    # search knows the new kind's items and notes too
    assert [r["id"] for r in cli.json("search", "已答复")] == ["Q1"]
    assert [r["id"] for r in cli.json("probe", "list", "--search", "试验二")] == ["Q2"]
    assert cli("close", "Q1", "--outcome", "办结", "--on", "2025-03-09").exit_code == 0
    assert cli("probe", "reopen", "Q1", "--reason", "补充").exit_code == 0
    assert cli("probe", "close", "Q1", "--outcome", "dropped").exit_code == 0
    assert [h["action"] for h in cli.json("history", "Q1")][:1] == ["create"]
    assert cli("void", "Q2", "--reason", "重复").exit_code == 0
    assert cli.json("probe", "list", "--status", "all", "--sort", "id")[-1]["id"] == "Q2"
    # Export, then import into a new database: the same items, with their IDs.
    out = tmp_path / "probe.csv"
    assert cli("export", "csv", "--kind", "probe", "--status", "all", "-o", str(out)) \
        .exit_code == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "试验类型" in text and "'=HYPERLINK" in text
    other = tmp_path / "other.db"
    assert cli("--db", str(other), "init").exit_code == 0
    r = cli("--db", str(other), "import", "csv", str(out))
    assert r.exit_code == 0, r.output
    rows = cli.json("--db", str(other), "probe", "list", "--status", "all")
    assert [(r["id"], r["status"], r["party"]) for r in rows] == \
        [("Q1", "closed", "=HYPERLINK(\"x\")")]
    assert cli("--db", str(other), "probe", "add", "--type", "a", "--to", "zjj",
               "--title", "三").stdout == "Q2\n"
    # The pack has a file of open items for the new kind.
    pack = tmp_path / "pack"
    assert cli("export", "pack", "-o", str(pack)).exit_code == 0
    assert (pack / "open-probe.csv").exists()


def test_the_registry_drives_links_and_import_order(probe):
    from fujian.kinds import import_order

    order = [k.code for k in import_order()]
    assert order.index("meeting") < order.index("action")
    assert order.index("probe") < order.index("action")  # no links: before linked kinds
    assert set(order) == set(KINDS)


def test_report_csv_neutralises_formula_text(cli, initialised):
    r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
            "--title", "=HYPERLINK(\"http://x\",\"y\")", "--on", "2025-03-01")
    assert r.exit_code == 0, r.output
    out = cli("report", "overdue", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][2] == "'=HYPERLINK(\"http://x\",\"y\")"


# A kind whose field needs a column the item table lacks (issue 20): refused, by name.
UNMIGRATED = Kind(
    code="ledger",
    prefix="L",
    label="台账事项",
    subtype_key=None,
    subtype_label="",
    unit_option="--to",
    unit_help="The unit asked.",
    unit_label="承办单位",
    example="fujian ledger add --to zjj --title T",
    sheet_name="Open ledgers",
    fields=(KindField("amount", "金额", "text", "--amount", "Amount concerned."),),
    _stages={None: choices("stage", ("asked", "已发出"),)},
    _outcomes={None: choices("outcome", ("done", "办结"),)},
)


def test_a_registry_field_with_no_column_is_refused_naming_kind_and_field(
        monkeypatch, cli, initialised):
    from fujian.errors import SchemaMismatch
    from fujian.models import check_kind_columns

    with pytest.raises(SchemaMismatch) as refused:
        check_kind_columns((UNMIGRATED,))
    assert "ledger" in refused.value.message and "amount" in refused.value.message
    check_kind_columns()  # the shipped registry has every column it names
    monkeypatch.setitem(KINDS, UNMIGRATED.code, UNMIGRATED)
    monkeypatch.setitem(BY_PREFIX, UNMIGRATED.prefix, UNMIGRATED)
    r = cli("list")
    assert r.exit_code == SchemaMismatch.exit_code == 3, r.output
    assert "ledger" in r.output and "amount" in r.output
    assert "Traceback" not in r.output and "KeyError" not in r.output


def test_the_rules_are_read_through_one_loader(monkeypatch):
    """The service and the command line's help read the rules through deadlines.shipped_rules
    (issue 20): replacing it there is seen by both."""
    from fujian import deadlines
    from fujian.cli import items as cli_items
    from fujian.service import tracker as tracker_module

    assert tracker_module.load_rules() is cli_items._rules() is deadlines.shipped_rules()
    book = RuleBook([], {}, {})
    monkeypatch.setattr(deadlines, "shipped_rules", lambda: book)
    assert tracker_module.load_rules() is book and cli_items._rules() is book


# The whole path of a kind whose field needs a column of its own, run in a process of its own
# (see the test's docstring). Argument: the database's location.
_OWN_COLUMN_SCRIPT = r'''
import json, sys
from sqlalchemy import Column, Text
from pydantic.fields import FieldInfo

# 1. The model gains the column (what the one line in models.py does), ...
from fujian.models import Item
amount = Column("amount", Text)
Item.__table__.append_column(amount)
Item.__mapper__.add_property("amount", amount)
Item.model_fields["amount"] = FieldInfo(annotation=str | None, default=None)

# 2. ... the registry gains the kind, the rules its rule (through the one loader) ...
from fujian import deadlines
from fujian.deadlines import Period, Rule, RuleBook
from fujian.kinds import BY_PREFIX, KINDS, Kind, KindField, choices
kind = Kind(code="ledger", prefix="L", label="台账事项", subtype_key=None, subtype_label="",
            unit_option="--to", unit_help="The unit asked.", unit_label="承办单位",
            example="fujian ledger add --to zjj --title T", sheet_name="Open ledgers",
            fields=(KindField("amount", "金额", "text", "--amount", "Amount concerned."),),
            _stages={None: choices("stage", ("asked", "已发出"), ("answered", "已答复"))},
            _outcomes={None: choices("outcome", ("done", "办结"),)})
KINDS[kind.code] = kind
BY_PREFIX[kind.prefix] = kind
shipped = deadlines.shipped_rules()
book = RuleBook([*shipped.rules,
                 Rule("ledger", "asked", Period(5, "d"), "test rule", duty="reply",
                      holder="unit", start="received"),
                 Rule("ledger", "answered", None, "answered", duty="reply", holder="unit",
                      start="received")], shipped.duties, shipped.events)
book.holders = shipped.holders
deadlines.shipped_rules = lambda: book

# 3. ... and every generic command is driven through the command line, which is built from
# the registry as it stands now.
from typer.testing import CliRunner
from fujian.cli import app
runner = CliRunner()
out = {}
def run(name, *args):
    r = runner.invoke(app, list(args), catch_exceptions=False)
    out[name] = [r.exit_code, r.stdout]
run("add", "ledger", "add", "--to", "zjj", "--title", "台账一", "--amount", "1200",
    "--on", "2025-03-01")
run("list", "ledger", "list", "--format", "json")
run("update", "ledger", "update", "L1", "--amount", "1500", "--stage", "answered",
    "--on", "2025-03-04")
run("show", "show", "L1", "--format", "json")
run("close", "close", "L1", "--outcome", "done", "--on", "2025-03-05")
run("export", "export", "csv", "--kind", "ledger", "--status", "all", "-o", sys.argv[1])
run("history", "history", "L1", "--format", "json")
print(json.dumps(out, ensure_ascii=False))
'''


def test_a_kind_whose_field_needs_a_column_of_its_own(initialised, tmp_path):
    """A kind with a field (``amount``) no other kind has takes (issue 20): the column on the
    item table — here ``ALTER TABLE`` on the test's database (file or server), what its migration would do —
    and on the model; the registry entry; its rules, through the one rule loader. Nothing
    else is patched: the select list, the row shape, the new item's record and the CLI's
    options are all derived from the model and the registry.

    It runs in a process of its own: the model's table, mapper and fields are changed there
    for good (SQLAlchemy offers no way to take a column off a mapped class again), which must
    not leak into the other tests of this worker."""
    import json
    import subprocess
    import sys

    from conftest import run_sql

    run_sql(initialised, "ALTER TABLE item ADD COLUMN amount TEXT")  # what the migration does
    exported = tmp_path / "ledger.csv"
    done = subprocess.run([sys.executable, "-c", _OWN_COLUMN_SCRIPT, str(exported)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert all(code == 0 for code, _text in out.values()), out
    assert out["add"][1] == "L1\n"
    listed = json.loads(out["list"][1])
    assert [(r["id"], r["amount"], r["due_on"]) for r in listed] == \
        [("L1", "1200", "2025-03-06")]
    shown = json.loads(out["show"][1])
    assert (shown["amount"], shown["stage"]) == ("1500", "answered")
    text = exported.read_text(encoding="utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert row[header.index("金额")] == "1500" and "L1" in row
    history = json.loads(out["history"][1])
    assert any(h["field"] == "amount" and (h["old"], h["new"]) == ("1200", "1500")
               for h in history)
