"""Items of every kind through the command line (issue 3): `fujian KIND add/list/show/update/
close/reopen`, `fujian suggestion reply`, the cross-kind `show/close/reopen/history/list`, the
output formats, and one-line errors that change nothing."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date
from pathlib import Path

import pytest
from conftest import clone_into
from typer.testing import CliRunner

from fujian.cli import app
from fujian.dates import parse_date

TODAY = "2025-03-10"

ADD = {
    "referral": ["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
                 "--title", "某公司销售假药案"],
    "suggestion": ["suggestion", "add", "--type", "correction", "--to", "rsj",
                   "--title", "纠正违规发放"],
    "clue": ["clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "非法采砂线索"],
    "meeting": ["meeting", "add", "--title", "联席会议", "--on", "2025-03-01"],
    "action": ["action", "add", "--meeting", "M1", "--unit", "scjgj", "--title", "专项检查",
               "--due", "2025-04-30"],
}
REQUIRED_KEYS = {"id", "kind", "title", "unit", "stage", "status", "opened_on", "due_on",
                 "closed_on", "outcome"}
OWN_KEYS = {
    "referral": {"direction", "from_unit", "party", "enterprise", "doc_no"},
    "suggestion": {"type", "doc_no", "urgent"},
    "clue": {"field", "from_unit"},
    "meeting": {"type", "attendees"},
    "action": {"meeting"},
}


def ok(result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    return result.stdout


def add(cli, kind: str, *extra: str) -> str:
    """Add an item and return the ID the command printed."""
    out = ok(cli(*ADD[kind], *extra))
    assert out.endswith("\n") and out.count("\n") == 1, repr(out)
    return out.strip()


def item(cli, ident: str) -> dict:
    return cli.json("show", ident)


def refused(cli, snapshot, db_path, *args: str) -> str:
    """Run a command that must fail: exit 2, one line on stderr, nothing on stdout, nothing
    written. Returns the error line."""
    before = snapshot(db_path)
    result = cli(*args)
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    prefix = "错误：" if os.environ.get("FUJIAN_LANG") == "zh" else "error: "
    assert len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    assert result.stderr.endswith("\n")
    assert snapshot(db_path) == before
    return lines[0]


def build_world(cli) -> None:
    add(cli, "referral", "--on", "2025-03-01")
    add(cli, "referral", "--direction", "to-admin", "--from", "jcy", "--to", "scjgj",
        "--on", "2025-01-15")
    ok(cli("close", "R2", "--outcome", "penalized", "--on", "2025-02-10"))
    ok(cli("suggestion", "add", "--type", "public-interest", "--to", "sthjj", "--title", "督促整治",
           "--urgent"))
    add(cli, "clue")
    add(cli, "meeting")
    add(cli, "action")
    add(cli, "action", "--due", "2025-05-30")
    ok(cli("action", "close", "A2", "--outcome", "done"))


def _template(tmp_path_factory, build) -> Path:
    """A database built once per module through the CLI, with the autouse fixture's settings."""
    path = tmp_path_factory.mktemp("template") / "fujian.db"
    runner = CliRunner()

    def cli(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FUJIAN_DB", str(path))
        mp.delenv("FUJIAN_CALENDAR", raising=False)
        mp.setenv("XDG_CONFIG_HOME", str(path.parent / "config"))
        mp.setenv("FUJIAN_USER", "tester")
        mp.setenv("FUJIAN_TODAY", TODAY)
        mp.setenv("FUJIAN_LANG", "en")
        mp.setenv("NO_COLOR", "1")
        mp.delenv("FUJIAN_DEBUG", raising=False)
        ok(cli("init"))
        build(cli)
    return path


@pytest.fixture(scope="module")
def blank_template(tmp_path_factory) -> Path:
    return _template(tmp_path_factory, lambda cli: None)


@pytest.fixture(scope="module")
def world_template(tmp_path_factory) -> Path:
    return _template(tmp_path_factory, build_world)


@pytest.fixture
def fresh(db_path, blank_template) -> Path:
    """Like ``initialised`` (the default units, no items), copied from a module template."""
    clone_into(blank_template, db_path)
    return db_path


@pytest.fixture
def world(db_path, world_template) -> Path:
    """R1 to-criminal sent 03-01 (due 03-04, overdue), R2 to-admin to scjgj (closed),
    S1 public-interest urgent to sthjj (due 03-25), C1 (due 04-09), M1 with open A1 (due 04-30)
    and closed A2. A private copy of the module's template."""
    clone_into(world_template, db_path)
    return db_path


# -- add -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("referral", "R1"), ("suggestion", "S1"), ("clue", "C1"), ("meeting", "M1")],
)
def test_add_prints_the_id_alone(cli, initialised, kind, expected):
    result = cli(*ADD[kind])
    assert ok(result) == expected + "\n"
    assert "\x1b" not in result.output


def test_add_action_prints_its_id_and_numbers_go_up(cli, fresh):
    assert add(cli, "meeting") == "M1"
    assert add(cli, "action") == "A1"
    assert add(cli, "action") == "A2"
    assert add(cli, "referral") == "R1"
    assert add(cli, "referral") == "R2"


@pytest.mark.parametrize(
    ("args", "due"),
    [
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
          "--title", "t"], "2025-03-13"),
        # sent on Thursday 03-06: 03-09 is a Sunday, rolled to Monday
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
          "--title", "t", "--on", "2025-03-06"], "2025-03-10"),
        # Labour Day holiday 1-5 May 2025
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
          "--title", "t", "--on", "2025/4/30"], "2025-05-06"),
        # to-admin: two months; 2025-03-15 is a Saturday
        (["referral", "add", "--direction", "to-admin", "--from", "jcy", "--to", "scjgj",
          "--title", "t", "--on", "2025-01-15"], "2025-03-17"),
        (["suggestion", "add", "--type", "governance", "--to", "rsj", "--title", "t"],
         "2025-05-12"),
        (["suggestion", "add", "--type", "public-interest", "--to", "rsj", "--title", "t"],
         "2025-05-12"),
        (["suggestion", "add", "--type", "public-interest", "--to", "rsj", "--title", "t",
          "--urgent"], "2025-03-25"),
        (["suggestion", "add", "--type", "other", "--to", "rsj", "--title", "t",
          "--on", "2024-12-31"], "2025-02-28"),
        (["clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "t"], "2025-04-09"),
        (["clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "t",
          "--on", "2025年3月1日"], "2025-03-31"),
        # a document's own period overrides the rule
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
          "--title", "t", "--due", "2025-03-20"], "2025-03-20"),
        (["suggestion", "add", "--type", "public-interest", "--to", "rsj", "--title", "t",
          "--urgent", "--due", "2025-06-30"], "2025-06-30"),
    ],
)
def test_add_due_date(cli, fresh, args, due, monkeypatch):
    if "--on" in args:  # an item cannot open in the future: today is at least its opening day
        opened = parse_date(args[args.index("--on") + 1], date.fromisoformat(TODAY))
        if opened > date.fromisoformat(TODAY):
            monkeypatch.setenv("FUJIAN_TODAY", opened.isoformat())
    ident = ok(cli(*args)).strip()
    assert item(cli, ident)["due_on"] == due


def test_add_defaults_the_opening_date_to_today(cli, fresh):
    for kind in ("referral", "suggestion", "clue"):
        row = item(cli, add(cli, kind))
        assert row["opened_on"] == TODAY
        assert (row["status"], row["closed_on"], row["outcome"]) == ("open", None, None)


def test_referral_add_fields(cli, fresh):
    ident = add(cli, "referral", "--party", "张三", "--enterprise",
                "--doc-no", "夏市监移〔2025〕1号", "--note", "附件 3 份")
    row = item(cli, ident)
    assert row["kind"] == "referral"
    assert (row["direction"], row["from_unit"], row["unit"]) == ("to-criminal", "scjgj", "gaj")
    assert (row["party"], row["enterprise"], row["doc_no"]) == ("张三", True, "夏市监移〔2025〕1号")
    assert row["note"] == "附件 3 份"
    assert row["stage"] == "sent"
    plain = item(cli, add(cli, "referral"))
    assert (plain["enterprise"], plain["party"], plain["doc_no"]) == (False, None, None)


def test_suggestion_add_fields(cli, fresh):
    ok(cli("suggestion", "add", "--type", "public-interest", "--to", "sthjj", "--title", "督促",
           "--doc-no", "夏检行建〔2025〕3号", "--urgent"))
    row = item(cli, "S1")
    assert (row["type"], row["doc_no"], row["urgent"], row["unit"], row["stage"]) == \
        ("public-interest", "夏检行建〔2025〕3号", True, "sthjj", "delivered")
    assert item(cli, add(cli, "suggestion"))["urgent"] is False


def test_clue_add_fields_and_default_unit(cli, fresh):
    row = item(cli, add(cli, "clue"))
    assert (row["field"], row["from_unit"], row["unit"], row["stage"]) == \
        ("ecology", "sthjj", "jcy", "received")
    row = item(cli, add(cli, "clue", "--unit", "fjb"))
    assert row["unit"] == "fjb"


def test_meeting_add_with_minutes_and_attendees(cli, fresh, tmp_path):
    minutes = "2025年第一次联席会议纪要\n一、议定事项：\n\t1. 开展专项检查 😀\n"
    path = tmp_path / "纪要.txt"
    path.write_text(minutes, encoding="utf-8")
    ident = add(cli, "meeting", "--type", "topic", "--attendees", "gaj,区人民检察院, rsj",
                "--minutes", str(path))
    assert ident == "M1"
    add(cli, "action")
    row = item(cli, "m1")
    assert (row["type"], row["attendees"], row["unit"], row["stage"]) == \
        ("topic", "gaj,jcy,rsj", "fjb", "held")
    assert (row["opened_on"], row["due_on"]) == ("2025-03-01", None)
    assert row["minutes"] == minutes
    assert row["actions"] == ["A1"]
    # show (plain, not a terminal) prints the minutes text itself
    out = ok(cli("meeting", "show", "M1"))
    for line in minutes.strip().splitlines():
        assert line in out
    assert ok(cli("show", "M1")) == out


def test_meeting_minutes_with_bom_are_read_as_text(cli, fresh, tmp_path):
    path = tmp_path / "m.txt"
    path.write_bytes("\ufeff纪要正文".encode())
    add(cli, "meeting", "--minutes", str(path))
    assert item(cli, "M1")["minutes"] == "纪要正文"


def test_meeting_type_defaults_to_plenary(cli, fresh):
    assert item(cli, add(cli, "meeting"))["type"] == "plenary"


def test_action_add(cli, fresh):
    add(cli, "meeting")
    row = item(cli, add(cli, "action", "--meeting", "m1"))
    assert (row["meeting"], row["unit"], row["due_on"], row["stage"]) == \
        ("M1", "scjgj", "2025-04-30", "open")


def test_action_add_requires_due(cli, fresh, snapshot):
    add(cli, "meeting")
    before = snapshot(fresh)
    result = cli("action", "add", "--meeting", "M1", "--unit", "scjgj", "--title", "t")
    assert result.exit_code == 2
    assert "--due" in result.stderr
    assert snapshot(fresh) == before


def test_chinese_labels_on_the_command_line(cli, fresh):
    ident = ok(cli("referral", "add", "--direction", "正向移送", "--from", "scjgj", "--to", "gaj",
                   "--title", "t")).strip()
    assert item(cli, ident)["direction"] == "to-criminal"
    ident = ok(cli("clue", "add", "--from", "sthjj", "--field", "生态环境和资源保护",
                   "--title", "t")).strip()
    assert item(cli, ident)["field"] == "ecology"
    ident = ok(cli("suggestion", "add", "--type", "纠正违法", "--to", "rsj", "--title", "t"))
    ok(cli("suggestion", "close", ident.strip(), "--outcome", "采纳"))
    assert item(cli, "S1")["outcome"] == "adopted"
    ok(cli("referral", "update", "R1", "--stage", "已受理"))
    assert item(cli, "R1")["stage"] == "accepted"
    add(cli, "meeting", "--type", "专题会议")
    assert item(cli, "M1")["type"] == "topic"


def test_units_by_chinese_name(cli, fresh):
    ident = ok(cli("referral", "add", "--direction", "to-criminal", "--from", "区市场监督管理局",
                   "--to", "市公安局江夏区分局", "--title", "t")).strip()
    row = item(cli, ident)
    assert (row["from_unit"], row["unit"]) == ("scjgj", "gaj")


# -- update, reply ---------------------------------------------------------------------------


def test_stage_change_restarts_the_clock(cli, world, later):
    assert ok(cli("referral", "update", "R1", "--stage", "reconsideration", "--on",
                  "2025-03-20")) == "R1\n"
    row = item(cli, "R1")
    # 310号令 第九条第二款: 3 days to decide on 复议; 03-20 + 3 days = 03-23, a Sunday
    assert (row["stage"], row["due_on"]) == ("reconsideration", "2025-03-24")
    ok(cli("referral", "update", "r1", "--stage", "supervision", "--on", "2025-03-24"))
    assert item(cli, "R1")["due_on"] == "2025-03-31"


def test_stage_change_with_due(cli, world, later):
    ok(cli("referral", "update", "R1", "--stage", "reconsideration", "--on", "2025-03-20",
           "--due", "2025-04-15"))
    assert item(cli, "R1")["due_on"] == "2025-04-15"


def test_stage_change_defaults_to_today(cli, world):
    ok(cli("referral", "update", "R1", "--stage", "reconsideration"))
    assert item(cli, "R1")["due_on"] == "2025-03-13"


def test_stage_without_a_rule_keeps_the_due_date(cli, world):
    ok(cli("suggestion", "update", "S1", "--stage", "objected"))
    assert item(cli, "S1")["due_on"] == "2025-03-25"


def test_acceptance_restarts_the_three_days(cli, world):
    ok(cli("referral", "update", "R1", "--stage", "accepted", "--on", "2025-03-10"))
    row = item(cli, "R1")
    assert (row["due_on"], row["unit"]) == ("2025-03-13", "gaj")


def test_extension(cli, world):
    ok(cli("referral", "update", "R1", "--due", "2025-03-31", "--reason", "材料补正"))
    row = item(cli, "R1")
    assert (row["due_on"], row["stage"]) == ("2025-03-31", "sent")
    last = cli.json("history", "R1")[-1]
    assert (last["action"], last["field"], last["old"], last["new"], last["reason"],
            last["actor"]) == ("extend", "due_on", "2025-03-04", "2025-03-31", "材料补正", "tester")
    # an action item's due date comes from the minutes; moving it is an extension too
    ok(cli("action", "update", "a1", "--due", "2025-05-15"))
    assert item(cli, "A1")["due_on"] == "2025-05-15"
    last = cli.json("history", "A1")[-1]
    assert (last["action"], last["old"], last["new"]) == ("extend", "2025-04-30", "2025-05-15")


def test_update_title_note_and_fields(cli, world):
    ok(cli("referral", "update", "R1", "--title", "新标题", "--note", "新备注", "--party", "李四",
           "--enterprise", "--doc-no", "2号", "--to", "jcy", "--from", "rsj"))
    row = item(cli, "R1")
    assert (row["title"], row["note"], row["party"], row["enterprise"], row["doc_no"],
            row["unit"], row["from_unit"]) == \
        ("新标题", "新备注", "李四", True, "2号", "jcy", "rsj")
    ok(cli("referral", "update", "R1", "--no-enterprise"))
    assert item(cli, "R1")["enterprise"] is False
    ok(cli("suggestion", "update", "S1", "--no-urgent", "--type", "governance"))
    row = item(cli, "S1")
    assert (row["urgent"], row["type"]) == (False, "governance")
    ok(cli("clue", "update", "C1", "--field", "food-drug", "--from", "jyj"))
    row = item(cli, "C1")
    assert (row["field"], row["from_unit"]) == ("food-drug", "jyj")
    ok(cli("meeting", "update", "M1", "--attendees", "gaj,jcy"))
    assert item(cli, "M1")["attendees"] == "gaj,jcy"
    ok(cli("action", "update", "A1", "--unit", "gaj", "--title", "改"))
    row = item(cli, "A1")
    assert (row["unit"], row["title"]) == ("gaj", "改")


def test_suggestion_reply(cli, world, later):
    out = cli("suggestion", "reply", "s1", "--on", "2025-03-20", "--note", "已书面回复")
    ok(out)
    row = item(cli, "S1")
    # The reply is done; the duty to perform still runs two months from delivery (两高解释
    # 第二十一条), so the item stays due on that day.
    assert (row["stage"], row["due_on"], row["note"], row["status"]) == \
        ("replied", "2025-05-12", "已书面回复", "open")
    assert [(d["name"], d["state"], d["met_on"]) for d in item(cli, "S1")["duties"]] == [
        ("reply", "met", "2025-03-20"), ("perform", "open", None)]
    assert [h["action"] for h in cli.json("history", "S1")][-2:] == ["stage", "note"]


# -- close, reopen ---------------------------------------------------------------------------


def test_kind_close_and_reopen(cli, world, later):
    ok(cli("clue", "close", "C1", "--outcome", "rectified", "--on", "2025-03-11", "--note", "整改"))
    row = item(cli, "C1")
    assert (row["status"], row["outcome"], row["closed_on"], row["note"]) == \
        ("closed", "rectified", "2025-03-11", "整改")
    ok(cli("clue", "reopen", "c1", "--reason", "整改不到位"))
    row = item(cli, "C1")
    assert (row["status"], row["outcome"], row["closed_on"]) == ("open", None, None)


def test_cross_kind_close_and_reopen(cli, world):
    ok(cli("close", "s1", "--outcome", "partly"))
    row = item(cli, "S1")
    assert (row["status"], row["outcome"], row["closed_on"]) == ("closed", "partly", TODAY)
    ok(cli("reopen", "S1", "--reason", "复查"))
    assert item(cli, "S1")["status"] == "open"


def test_meeting_closes_with_its_last_action_item(cli, world):
    ok(cli("close", "A1", "--outcome", "cancelled"))
    row = item(cli, "M1")
    assert (row["status"], row["outcome"], row["closed_on"]) == ("closed", "done", TODAY)
    assert cli.json("history", "M1")[-1]["action"] == "close"
    ok(cli("reopen", "A1", "--reason", "未完成"))
    assert item(cli, "M1")["status"] == "open"


# -- errors: one line, exit 2, nothing changed -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["show", "R99"], ["R99"]),
        (["referral", "show", "S1"], ["S1"]),
        (["history", "C7"], ["C7"]),
        (["referral", "update", "R9", "--note", "x"], ["R9"]),
        (["close", "X1", "--outcome", "done"], ["X1"]),
        (["referral", "close", "R42", "--outcome", "filed"], ["R42"]),
        (["reopen", "S5", "--reason", "x"], ["S5"]),
        # unknown unit
        (["referral", "add", "--direction", "to-criminal", "--from", "nosuch", "--to", "gaj",
          "--title", "t"], ["nosuch"]),
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "nosuch",
          "--title", "t"], ["nosuch"]),
        (["suggestion", "add", "--type", "other", "--to", "nosuch", "--title", "t"], ["nosuch"]),
        (["clue", "add", "--from", "nosuch", "--field", "ecology", "--title", "t"], ["nosuch"]),
        (["meeting", "add", "--title", "t", "--attendees", "gaj,nosuch"], ["nosuch"]),
        (["action", "add", "--meeting", "M1", "--unit", "nosuch", "--title", "t", "--due",
          "2025-04-01"], ["nosuch"]),
        (["referral", "update", "R1", "--to", "nosuch"], ["nosuch"]),
        (["list", "--unit", "nosuch"], ["nosuch"]),
        # unknown codes: the message lists the valid ones
        (["referral", "add", "--direction", "sideways", "--from", "scjgj", "--to", "gaj",
          "--title", "t"], ["sideways", "to-criminal", "to-admin"]),
        (["suggestion", "add", "--type", "advice", "--to", "rsj", "--title", "t"],
         ["advice", "correction", "governance", "public-interest", "other"]),
        (["clue", "add", "--from", "sthjj", "--field", "space", "--title", "t"],
         ["space", "ecology", "food-drug", "other"]),
        (["meeting", "add", "--title", "t", "--type", "party"], ["party", "plenary", "topic"]),
        (["referral", "update", "R1", "--stage", "bogus"],
         ["bogus", "sent", "accepted", "not-filed", "reconsideration", "supervision"]),
        (["suggestion", "update", "S1", "--stage", "bogus"], ["delivered", "objected", "replied"]),
        (["referral", "close", "R1", "--outcome", "penalized"],
         ["penalized", "filed", "not-filed", "returned", "withdrawn"]),
        (["close", "S1", "--outcome", "maybe"], ["maybe", "adopted", "partly", "rejected"]),
        (["close", "C1", "--outcome", "x"], ["rectified", "judged", "transferred"]),
        (["close", "A1", "--outcome", "x"], ["done", "cancelled"]),
        # lifecycle
        (["close", "R2", "--outcome", "withdrawn"], ["R2", "closed"]),
        (["referral", "close", "R2", "--outcome", "penalized"], ["R2"]),
        (["reopen", "R1", "--reason", "why"], ["R1", "open"]),
        (["suggestion", "reopen", "S1", "--reason", "why"], ["S1"]),
        (["meeting", "close", "M1", "--outcome", "done"], ["M1", "A1"]),
        (["close", "R1", "--outcome", "filed", "--on", "2025-02-28"], ["2025-02-28", "R1"]),
        (["reopen", "R2", "--reason", "  "], ["reason"]),
        (["referral", "update", "R2", "--stage", "replied"], ["R2", "closed"]),
        (["referral", "update", "R1", "--stage", "not-filed", "--on", "2025-02-01"],
         ["2025-02-01"]),
        (["referral", "update", "R1", "--due", "2025-02-01"], ["2025-02-01"]),
        (["referral", "update", "R1", "--stage", "accepted", "--due", "2025-02-01"],
         ["2025-02-01"]),
        (["referral", "update", "R1", "--direction", "upward"], ["upward", "to-admin"]),
        # urgency (15 days) exists only for a public-interest suggestion
        (["suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "t",
          "--urgent"], ["--urgent", "public-interest"]),
        (["suggestion", "update", "S1", "--type", "governance"], ["--urgent"]),
        (["referral", "update", "R1", "--due", "someday"], ["someday"]),
        (["suggestion", "reply", "R1"], ["R1"]),
        # action for a meeting that does not exist / is not a meeting
        (["action", "add", "--meeting", "M9", "--unit", "scjgj", "--title", "t", "--due",
          "2025-04-30"], ["M9"]),
        (["action", "add", "--meeting", "R1", "--unit", "scjgj", "--title", "t", "--due",
          "2025-04-30"], ["R1"]),
        # empty titles
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
          "--title", ""], ["title"]),
        (["suggestion", "add", "--type", "other", "--to", "rsj", "--title", "   "], ["title"]),
        (["meeting", "add", "--title", "\t"], ["title"]),
        (["action", "add", "--meeting", "M1", "--unit", "scjgj", "--title", " ", "--due",
          "2025-04-30"], ["title"]),
        (["clue", "update", "C1", "--title", ""], ["title"]),
        (["referral", "update", "R1", "--title", "   "], ["title"]),
        # dates
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
          "--title", "t", "--on", "2025-02-30"], ["2025-02-30"]),
        (["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
          "--title", "t", "--on", "2025-03-05", "--due", "2025-03-01"], ["2025-03-01"]),
        (["list", "--as-of", "soon"], ["soon"]),
        # list options
        (["list", "--status", "pending"], ["pending", "open", "closed", "all"]),
        (["referral", "list", "--sort", "title"], ["title", "due", "opened", "id"]),
        (["list", "--format", "xml"], ["xml", "json"]),
        (["list", "--limit", "-1"], ["--limit"]),
        (["meeting", "add", "--title", "t", "--minutes", "/no/such/minutes.txt"], ["minutes"]),
    ],
)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bad_input_is_one_line_and_changes_nothing(cli, world, snapshot, args, expected, lang,
                                                   monkeypatch):
    """Run in both interface languages: the Chinese message names the same IDs, codes and
    dates, in Chinese sentences."""
    monkeypatch.setenv("FUJIAN_LANG", lang)
    line = refused(cli, snapshot, world, *args)
    english_words = {"title", "reason", "closed", "open", "minutes"}
    for text in expected:
        if lang == "zh" and text in english_words:
            continue
        assert text in line, (text, line)
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", line), line


def test_meeting_close_names_only_its_open_actions(cli, world, snapshot):
    add(cli, "action", "--due", "2025-06-01")  # A3, open
    add(cli, "meeting")  # M2
    add(cli, "action", "--meeting", "M2")  # A4: another meeting
    line = refused(cli, snapshot, world, "close", "m1", "--outcome", "done")
    assert "A1" in line and "A3" in line
    assert "A2" not in line and "A4" not in line


def test_direction_change_needs_a_stage_that_exists(cli, world, snapshot):
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-05"))
    line = refused(cli, snapshot, world, "referral", "update", "R1", "--direction", "to-admin")
    assert "not-filed" in line and "replied" in line
    ok(cli("referral", "update", "R1", "--direction", "反向衔接", "--stage", "sent",
           "--on", "2025-03-05"))
    row = item(cli, "R1")
    assert (row["direction"], row["stage"], row["due_on"]) == ("to-admin", "sent", "2025-05-06")


def test_closed_meeting_refuses_new_action_items(cli, world, snapshot):
    ok(cli("close", "A1", "--outcome", "done"))
    assert item(cli, "M1")["status"] == "closed"
    assert "M1 is closed" in refused(cli, snapshot, world, "action", "add", "--meeting", "M1",
                                     "--unit", "gaj", "--title", "t", "--due", "2025-04-01")
    ok(cli("meeting", "reopen", "M1", "--reason", "补充"))
    ok(cli("action", "add", "--meeting", "M1", "--unit", "gaj", "--title", "t", "--due",
           "2025-04-01"))


def test_closing_twice_keeps_the_first_close(cli, world, snapshot):
    refused(cli, snapshot, world, "referral", "close", "r2", "--outcome", "withdrawn")
    row = item(cli, "R2")
    assert (row["outcome"], row["closed_on"]) == ("penalized", "2025-02-10")


def test_errors_do_not_quote_a_traceback_for_odd_ids(cli, world, snapshot):
    for ident in ("", "R", "R1x", "r-1", "1", "R" + "9" * 30):
        refused(cli, snapshot, world, "show", ident)


# -- lists and formats -------------------------------------------------------------------------


def ids(rows) -> list[str]:
    return [r["id"] for r in rows]


def test_list_defaults_to_open_sorted_by_due(cli, world):
    # R1 03-04, S1 03-25, C1 04-09, A1 04-30, M1 no due date (last)
    assert ids(cli.json("list")) == ["R1", "S1", "C1", "A1", "M1"]
    assert ids(cli.json("referral", "list")) == ["R1"]
    assert ids(cli.json("action", "list")) == ["A1"]


def test_list_status(cli, world):
    assert ids(cli.json("list", "--status", "closed")) == ["R2", "A2"]  # due 03-17, 05-30
    assert ids(cli.json("referral", "list", "--status", "all")) == ["R1", "R2"]
    assert ids(cli.json("action", "list", "--status", "全部")) == ["A1", "A2"]
    assert ids(cli.json("list", "--status", "ALL")) == ["R1", "R2", "S1", "C1", "A1", "A2", "M1"]


def test_list_unit(cli, world):
    assert ids(cli.json("list", "--unit", "gaj")) == ["R1"]
    assert ids(cli.json("list", "--unit", "区人民检察院")) == ["C1"]
    assert ids(cli.json("list", "--unit", "SCJGJ", "--status", "all")) == ["R2", "A1", "A2"]
    assert cli.json("suggestion", "list", "--unit", "gaj") == []


def test_list_overdue_and_as_of(cli, world):
    assert ids(cli.json("list", "--overdue")) == ["R1"]
    assert ids(cli.json("list", "--overdue", "--as-of", "2025-03-26")) == ["R1", "S1"]
    assert ids(cli.json("list", "--overdue", "--as-of", "2025-03-25")) == ["R1"]
    assert cli.json("list", "--overdue", "--as-of", "2025-03-04") == []
    assert ids(cli.json("suggestion", "list", "--overdue", "--as-of", "+1m")) == ["S1"]
    rows = cli.json("list", "--as-of", "2025-03-14")
    assert rows[0]["days_overdue"] == 10


def test_list_sort_and_limit(cli, world):
    # A1 opens on its meeting's date, so it sorts with M1 (ties by kind, then number).
    assert ids(cli.json("list", "--sort", "opened")) == ["A1", "M1", "R1", "C1", "S1"]
    assert ids(cli.json("list", "--sort", "id")) == ["A1", "C1", "M1", "R1", "S1"]
    assert ids(cli.json("list", "--limit", "2")) == ["R1", "S1"]
    assert cli.json("list", "--limit", "0") == []


def test_list_json_has_every_key(cli, world):
    rows = {r["id"]: r for r in cli.json("list", "--status", "all")}
    for ident, kind in (("R1", "referral"), ("S1", "suggestion"), ("C1", "clue"),
                        ("M1", "meeting"), ("A1", "action")):
        assert REQUIRED_KEYS | OWN_KEYS[kind] <= set(rows[ident]), ident
        assert rows[ident]["kind"] == kind
    r2 = rows["R2"]
    assert (r2["status"], r2["outcome"], r2["closed_on"], r2["opened_on"], r2["due_on"]) == \
        ("closed", "penalized", "2025-02-10", "2025-01-15", "2025-03-17")
    assert rows["M1"]["due_on"] is None and rows["R1"]["closed_on"] is None


@pytest.mark.parametrize("kind", list(OWN_KEYS))
def test_kind_list_json_keys(cli, world, kind):
    rows = cli.json(kind, "list", "--status", "all")
    assert rows
    for row in rows:
        assert REQUIRED_KEYS | OWN_KEYS[kind] <= set(row)
        assert row["kind"] == kind


def test_empty_list_json(cli, fresh):
    assert cli.json("list") == []
    assert cli.json("clue", "list") == []


def test_show_json_is_one_object(cli, world):
    row = cli.json("referral", "show", "r1")
    assert isinstance(row, dict)
    assert REQUIRED_KEYS | OWN_KEYS["referral"] <= set(row)
    assert row == cli.json("show", "R1")
    listed = next(r for r in cli.json("list") if r["id"] == "R1")
    for key in REQUIRED_KEYS | OWN_KEYS["referral"]:
        assert row[key] == listed[key], key


@pytest.mark.parametrize("kind", list(OWN_KEYS))
def test_csv_has_the_json_columns_and_values(cli, world, kind):
    result = cli(kind, "list", "--status", "all", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(ok(result))))
    records = cli.json(kind, "list", "--status", "all")
    assert REQUIRED_KEYS | OWN_KEYS[kind] <= set(rows[0])
    assert [r["id"] for r in rows] == ids(records)
    for row, record in zip(rows, records, strict=True):
        for key in REQUIRED_KEYS | OWN_KEYS[kind]:
            value = record[key]
            expected = "" if value is None else (str(value).lower() if isinstance(value, bool)
                                                 else str(value))
            assert row[key] == expected, (key, row[key], value)


def test_show_csv_is_one_row(cli, world):
    rows = list(csv.DictReader(io.StringIO(ok(cli("show", "S1", "--format", "csv")))))
    assert len(rows) == 1
    assert (rows[0]["id"], rows[0]["due_on"], rows[0]["type"]) == ("S1", "2025-03-25",
                                                                  "public-interest")


def test_plain_is_the_default_and_tab_separated(cli, world):
    out = ok(cli("list", "--status", "all"))
    assert out == ok(cli("list", "--status", "all", "--format", "plain"))
    assert "\x1b" not in out
    lines = out.splitlines()
    header = lines[0].split("\t")
    assert set(header) >= REQUIRED_KEYS
    assert len(lines) == 1 + 7
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    by_id = {r["id"]: r for r in rows}
    assert by_id["R2"]["opened_on"] == "2025-01-15"
    assert by_id["R2"]["closed_on"] == "2025-02-10"
    assert by_id["R1"]["due_on"] == "2025-03-04"
    assert by_id["M1"]["due_on"] == ""


def test_plain_kind_list_has_kind_columns(cli, world):
    lines = ok(cli("referral", "list", "--format", "plain")).splitlines()
    header = lines[0].split("\t")
    assert REQUIRED_KEYS | OWN_KEYS["referral"] <= set(header)
    row = dict(zip(header, lines[1].split("\t"), strict=True))
    assert (row["id"], row["direction"], row["from_unit"], row["unit"]) == \
        ("R1", "to-criminal", "scjgj", "gaj")


def test_plain_keeps_one_item_per_line(cli, fresh):
    add(cli, "referral", "--title", "第一行\n第二行\t制表", "--note", "a\tb\nc")
    lines = ok(cli("referral", "list", "-f", "plain")).splitlines()
    assert len(lines) == 2
    assert len(lines[1].split("\t")) == len(lines[0].split("\t"))


def test_table_format(cli, world):
    out = ok(cli("list", "--format", "table"))
    assert "\x1b" not in out
    for text in ("R1", "S1", "C1", "A1", "M1", "某公司销售假药案", "已移送", "市公安局江夏区分局"):
        assert text in out
    out = ok(cli("referral", "show", "R1", "--format", "table"))
    assert "某公司销售假药案" in out and "正向移送" in out
    assert "Nothing" in ok(cli("clue", "list", "--status", "closed", "--format", "table"))


def test_empty_plain_list_has_the_header(cli, fresh):
    out = ok(cli("referral", "list"))
    assert out.count("\n") == 1 and out.startswith("id\t")


# -- Unicode -----------------------------------------------------------------------------------

TEXTS = [
    "某公司销售假药案（涉嫌生产、销售假药罪）",
    "排污口😀🏭🚱",
    "引号 \"double\" 'single' 「书名」《法》“中文引号”",
    "第一行\n第二行\n",
    "制表\t符",
    "  前后空格  ",
    "反斜杠 \\t 与 \\n",
    "𠀀𪚥 扩展区 · ①②③ — ‰",
]


def test_unicode_round_trip_through_show(cli, fresh):
    made = {add(cli, "referral", "--title", text, "--party", text, "--note", text,
                "--doc-no", text): text for text in TEXTS}
    assert list(made) == [f"R{n}" for n in range(1, len(TEXTS) + 1)]
    for ident, text in made.items():
        row = item(cli, ident)
        assert (row["title"], row["party"], row["note"], row["doc_no"]) == (text, text, text, text)
    listed = {r["id"]: r["title"] for r in cli.json("referral", "list", "--sort", "id")}
    assert listed == made
    csv_rows = csv.DictReader(io.StringIO(ok(cli("referral", "list", "--sort", "id", "-f", "csv"))))
    assert {r["id"]: r["party"] for r in csv_rows} == made


def test_unicode_round_trip_through_update_close_reopen(cli, fresh):
    text = "".join(TEXTS)
    ident = add(cli, "suggestion")
    ok(cli("suggestion", "update", ident, "--title", text, "--note", "备注" + text,
           "--doc-no", text))
    row = item(cli, ident)
    assert (row["title"], row["note"], row["doc_no"]) == (text, "备注" + text, text)
    ok(cli("close", ident, "--outcome", "adopted", "--note", text))
    assert item(cli, ident)["note"] == text
    ok(cli("reopen", ident, "--reason", text))
    history = cli.json("history", ident)
    assert history[-1]["reason"] == text
    assert any(h["new"] == text and h["field"] == "title" for h in history)


# -- history -----------------------------------------------------------------------------------


def test_history_of_a_whole_life(cli, world, later):
    ok(cli("referral", "update", "R1", "--title", "改名"))
    ok(cli("referral", "update", "R1", "--stage", "supervision-requested", "--on",
           "2025-03-05"))
    ok(cli("referral", "update", "R1", "--due", "2025-03-20"))
    ok(cli("referral", "close", "R1", "--outcome", "returned", "--on", "2025-03-21"))
    ok(cli("referral", "reopen", "R1", "--reason", "复查"))
    history = cli.json("history", "r1")
    assert [h["action"] for h in history] == [
        "create", "update", "stage", "stage", "stage", "stage", "stage", "stage", "extend",
        "close", "close", "close", "reopen", "reopen", "reopen"]
    # The stage change records its effective date, not only when it was typed in, and hands
    # the examination of the proposal to the procuratorate (刑诉规则 第五百五十七条), with no
    # statutory period: the due date comes only from a document (--due).
    assert [(h["field"], h["new"]) for h in history if h["action"] == "stage"][:2] == [
        ("stage", "supervision-requested"), ("stage_on", "2025-03-05")]
    staged = {h["field"]: h["new"] for h in history if h["action"] == "stage"}
    assert (staged["due_on"], "holder_id" in staged) == (None, True)
    assert [(h["field"], h["new"]) for h in history if h["action"] == "extend"] == [
        ("due_on", "2025-03-20")]
    # Reopened, the procuratorate examines the proposal again (a duty without a due date).
    assert (item(cli, "R1")["unit"], item(cli, "R1")["duty"]) == ("jcy", "examine-proposal")
    assert {h["actor"] for h in history} == {"tester"}
    assert history[1]["field"] == "title"
    assert (history[1]["old"], history[1]["new"]) == ("某公司销售假药案", "改名")
    assert history[-1]["reason"] == "复查"


def test_history_of_each_kind_starts_with_create(cli, world):
    for ident in ("R2", "S1", "C1", "M1", "A1", "A2"):
        history = cli.json("history", ident)
        assert history[0]["action"] == "create"
        assert history[0]["actor"] == "tester"
    assert [h["action"] for h in cli.json("history", "A2")] == ["create", "close", "close",
                                                                 "close"]


def test_history_plain(cli, world):
    out = ok(cli("history", "R2"))
    lines = out.splitlines()
    header = lines[0].split("\t")
    assert header[:3] == ["at", "actor", "action"]
    actions = [line.split("\t")[2] for line in lines[1:]]
    assert actions == ["create", "close", "close", "close"]
    assert "\x1b" not in out


def test_failed_commands_leave_no_history(cli, world):
    before = cli.json("history", "R1")
    cli("referral", "update", "R1", "--title", "新", "--stage", "bogus")
    cli("referral", "close", "R1", "--outcome", "nope")
    cli("reopen", "R1", "--reason", "x")
    assert cli.json("history", "R1") == before
    assert item(cli, "R1")["title"] == "某公司销售假药案"


# -- ID letter case everywhere -----------------------------------------------------------------


def test_lower_case_ids_everywhere(cli, world):
    assert ok(cli("suggestion", "update", "s1", "--note", "n")) == "S1\n"
    assert item(cli, "s1")["id"] == "S1"
    assert cli.json("suggestion", "show", "s1")["id"] == "S1"
    ok(cli("suggestion", "reply", "s1"))
    ok(cli("suggestion", "close", "s1", "--outcome", "adopted"))
    ok(cli("suggestion", "reopen", "s1", "--reason", "r"))
    ok(cli("close", "c1", "--outcome", "judged"))
    ok(cli("reopen", "c1", "--reason", "r"))
    assert cli.json("history", "s1") == cli.json("history", "S1")
    assert [h["action"] for h in cli.json("history", "c1")][-1] == "reopen"


def test_terminal_table_is_brief_and_show_has_everything(cli, world):
    """A list on a terminal keeps the columns that fit; `show` and machine formats have all."""
    table = cli("referral", "list", "--status", "all", "--format", "table").stdout
    assert "Direction" in table and "Due" in table
    assert "Party" not in table and "Note" not in table and "Kind" not in table
    shown = cli("show", "R1", "--format", "table").stdout
    assert "Party" in shown and "Note" in shown
    plain_header = cli("referral", "list", "--format", "plain").stdout.splitlines()[0]
    assert plain_header.split("\t")[-6:] == ["from_unit", "party", "enterprise", "doc_no", "note",
                                             "duty"]


def test_action_items_open_on_their_meeting_date(cli, initialised):
    meeting = cli("meeting", "add", "--title", "联席会议", "--on", "2025-01-30")
    assert meeting.exit_code == 0
    r = cli("action", "add", "--meeting", "M1", "--unit", "sfj", "--title", "修订细则",
            "--due", "2025-02-28")  # typed in weeks later: opens on the meeting's date
    assert r.exit_code == 0, r.stderr
    assert item(cli, "A1")["opened_on"] == "2025-01-30"
    r = cli("action", "add", "--meeting", "M1", "--unit", "sfj", "--title", "x",
            "--due", "2025-02-28", "--on", "2025-01-01")
    assert r.exit_code == 2 and "M1" in r.stderr and "2025-01-30" in r.stderr


def test_gbk_minutes_are_read(cli, initialised, tmp_path):
    minutes = tmp_path / "纪要.txt"
    minutes.write_bytes("一、议定事项：开展专项检查。".encode("gbk"))
    assert cli("meeting", "add", "--title", "会议", "--minutes", str(minutes)).exit_code == 0
    assert item(cli, "M1")["minutes"] == "一、议定事项：开展专项检查。"


def test_reopen_can_set_a_new_due_date_and_warns_without_one(cli, world, later):
    ok(cli("suggestion", "add", "--type", "governance", "--to", "rsj", "--title", "t",
           "--on", "2025-03-01"))
    ok(cli("suggestion", "reply", "S2", "--on", "2025-03-05"))
    ok(cli("close", "S2", "--outcome", "adopted", "--on", "2025-03-06"))
    r = cli("reopen", "S2", "--reason", "复查")
    assert r.exit_code == 0 and "no due date" in r.stderr  # the reply was made: no clock
    # S1: the duty to perform ended with the close; reopening runs it again, same due date
    ok(cli("suggestion", "reply", "S1", "--on", "2025-03-12"))
    ok(cli("close", "S1", "--outcome", "adopted", "--on", "2025-03-13"))
    r = cli("reopen", "S1", "--reason", "整改未到位")
    assert r.exit_code == 0 and "no due date" not in r.stderr
    duties = item(cli, "S1")["duties"]
    assert [(d["name"], d["state"]) for d in duties] == [
        ("reply", "met"), ("perform", "met"), ("perform", "open")]  # earlier verdicts kept
    assert item(cli, "S1")["due_on"] == duties[1]["due_on"]
    ok(cli("close", "S1", "--outcome", "adopted", "--on", "2025-03-14"))
    r = cli("suggestion", "reopen", "S1", "--reason", "再次整改", "--due", "2025-04-30")
    assert r.exit_code == 0 and "no due date" not in r.stderr
    assert item(cli, "S1")["due_on"] == "2025-04-30"
    assert cli.json("history", "S1")[-1]["action"] == "extend"


def test_action_list_by_meeting(cli, world):
    ok(cli("meeting", "add", "--title", "第二次会议", "--on", "2025-03-05"))
    ok(cli("action", "add", "--meeting", "M2", "--unit", "gaj", "--title", "另一事项",
           "--due", "2025-04-15"))
    assert [r["meeting"] for r in cli.json("action", "list", "--meeting", "m2")] == ["M2"]
    assert all(r["meeting"] == "M1"
               for r in cli.json("action", "list", "--meeting", "M1", "--status", "all"))
    assert cli("action", "list", "--meeting", "R1").exit_code == 2
    assert cli("action", "list", "--meeting", "M9").exit_code == 2


def test_history_table_speaks_the_interface_language(cli, world, monkeypatch):
    ok(cli("referral", "update", "R1", "--stage", "accepted", "--on", "2025-03-02"))
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    table = cli("history", "R1", "--format", "table").stdout
    assert "已移送" in table and "已受理" in table and "阶段" in table
    plain = cli("history", "R1", "--format", "plain").stdout  # scripts keep the codes
    assert "\tstage\tsent\taccepted\t" in plain
    # duty changes and the holder are named as people know them
    ok(cli("suggestion", "update", "S1", "--no-urgent"))
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-05"))
    table = "".join(cli("history", "S1", "--format", "table").stdout.split())
    assert "书面回复·期限" in table and "重新计算" in table
    table = "".join(cli("history", "R1", "--format", "table").stdout.split())
    assert "责任单位" in table
