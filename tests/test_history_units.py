"""`history` names units (issue 19, point 12): the change log keeps a unit by its row id; every
format shows its code instead, and a table its name — never `Unit 28 → 19`."""

from __future__ import annotations

import csv
import io
import json

import pytest

UNIT_FIELDS = ("holder_id", "unit_id", "from_unit_id", "to_unit_id")


def ok(result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result.stdout


def names_a_unit(field: str | None) -> bool:
    return bool(field) and (field in UNIT_FIELDS or (field.startswith("duty:")
                                                     and field.endswith(".holder_id")))


@pytest.fixture
def refused_referral(cli, initialised):
    """R1, sent by the market regulator to the police and not filed: 310号令 第九条第一款 hands
    the sending unit the (3-day) right to object, so the item's holder moves gaj → scjgj."""
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "某公司销售假药案", "--on", "2025-03-01"))
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-05"))
    return "R1"


def test_json_gives_the_holder_change_in_codes(cli, refused_referral):
    history = cli.json("history", refused_referral)
    changes = [(h["old"], h["new"]) for h in history if h["field"] == "holder_id"]
    assert changes == [("gaj", "scjgj")]


def test_the_table_gives_unit_names(cli, refused_referral, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    table = ok(cli("history", refused_referral, "--format", "table"))
    [line] = [line for line in table.splitlines() if "市公安局江夏区分局" in line]
    assert line.index("市公安局江夏区分局") < line.index("区市场监督管理局")
    assert "gaj" not in line and "scjgj" not in line
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    table = ok(cli("history", refused_referral, "--format", "table"))
    [line] = [line for line in table.splitlines() if "市公安局江夏区分局" in line]
    assert "责任单位" in line and "区市场监督管理局" in line


def _values(cli, ident: str, fmt: str) -> list[tuple[str, str | None, str | None]]:
    """(field, old, new) of every history row, read back from one format."""
    if fmt == "json":
        return [(h["field"], h["old"], h["new"]) for h in cli.json("history", ident)]
    out = ok(cli("history", ident, "--format", fmt))
    if fmt == "csv":
        return [(r["field"], r["old"], r["new"]) for r in csv.DictReader(io.StringIO(out))]
    lines = out.splitlines()
    keys = lines[0].split("\t")
    rows = [dict(zip(keys, line.split("\t"), strict=True)) for line in lines[1:]]
    return [(r["field"], r["old"], r["new"]) for r in rows]


@pytest.mark.parametrize("fmt", ["json", "plain", "csv"])
def test_no_format_gives_a_unit_as_a_number(cli, refused_referral, fmt):
    """Every unit field a referral logs — its holder, its own unit, a duty's holder — and the
    item as created, by code: the police are moved to another unit while they still owe the
    decision (310号令 第八条), so the duty's holder changes too."""
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "移错了单位", "--on", "2025-03-07"))
    ok(cli("referral", "update", "R2", "--to", "cgj"))
    for ident in (refused_referral, "R2"):
        rows = _values(cli, ident, fmt)
        units = [(f, old, new) for f, old, new in rows if names_a_unit(f)]
        assert units, ident
        for field, old, new in units:
            assert not (old or "").isdigit() and not (new or "").isdigit(), (field, old, new)
        created = json.loads(next(new for f, _old, new in rows if not f))
        assert {k: created[k] for k in UNIT_FIELDS} == {
            "holder_id": "gaj", "unit_id": "gaj", "from_unit_id": "scjgj", "to_unit_id": None}
    moved = {f: (old, new) for f, old, new in _values(cli, "R2", fmt) if names_a_unit(f)}
    assert moved == {"unit_id": ("gaj", "cgj"), "holder_id": ("gaj", "cgj"),
                     "duty:decide-filing.holder_id": ("gaj", "cgj")}


def test_a_duty_holder_and_a_clue_organ_by_name_in_a_table(cli, initialised, monkeypatch):
    """The organ a pre-litigation suggestion is addressed to (行政诉讼法 第二十五条第四款) holds
    the duty to reply: naming it is a to_unit change, shown by name."""
    ok(cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "非法采砂线索",
           "--on", "2025-03-03"))
    ok(cli("clue", "update", "C1", "--to", "swj"))
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "移错了单位", "--on", "2025-03-07"))
    ok(cli("referral", "update", "R1", "--to", "cgj"))
    assert [(h["old"], h["new"]) for h in cli.json("history", "C1")
            if h["field"] == "to_unit_id"] == [(None, "swj")]
    monkeypatch.setenv("COLUMNS", "200")
    table = ok(cli("history", "C1", "--format", "table"))
    assert "区水务和湖泊局" in table and "swj" not in table
    table = ok(cli("history", "R1", "--format", "table"))
    [duty] = [line for line in table.splitlines() if "作出是否立案的决定" in line]
    assert "市公安局江夏区分局" in duty and "区城市管理执法局" in duty
