"""A liaison's working day (issue 12): a running record of notes, who is involved, corrections
that keep the record, dates people mean, imports that never invent, honest messages and tables
readable at 80 columns. Each test reproduces a case earlier versions got wrong."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import run_sql, table_dump

from fujian.errors import EXIT_BAD_INPUT

FIXTURES = Path(__file__).parent / "fixtures"


def ok(result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result.stdout


def refused(cli, db: Path, *args: str) -> str:
    """The command exits 2 with one line on stderr and leaves the database as it was."""
    before = table_dump(db)
    result = cli(*args)
    assert result.exit_code == EXIT_BAD_INPUT, (args, result.output)
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.output
    assert table_dump(db) == before, args
    return result.stderr


@pytest.fixture
def day(cli, initialised):
    """A referral scjgj → gaj (R1), a suggestion to sthjj (S1) and a clue from scjgj (C1)."""
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "汤逊湖非法采砂案", "--on", "2025-03-03"))
    ok(cli("suggestion", "add", "--type", "governance", "--to", "sthjj", "--title", "督促整治排污",
           "--doc-no", "夏检行建〔2025〕3号", "--on", "2025-03-03"))
    ok(cli("clue", "add", "--from", "scjgj", "--field", "ecology", "--title", "非法排污线索",
           "--on", "2025-03-04"))
    return initialised


# -- a running record ----------------------------------------------------------------------------


def test_notes_are_appended_never_overwritten(cli, day):
    ok(cli("note", "S1", "已电话督促"))
    ok(cli("suggestion", "reply", "S1", "--on", "2025-03-07", "--note", "单位已书面回复"))
    ok(cli("close", "S1", "--outcome", "adopted", "--on", "2025-03-08", "--note", "整改到位"))
    ok(cli("reopen", "S1", "--reason", "复查", "--note", "群众再次反映"))
    shown = cli.json("show", "S1")
    assert [n["text"] for n in shown["notes"]] == ["已电话督促", "单位已书面回复", "整改到位",
                                                   "群众再次反映"]
    assert all(set(n) == {"at", "actor", "text", "day"} and n["actor"] == "tester"
               for n in shown["notes"])
    assert shown["note"] == "群众再次反映"  # exports carry the latest
    table = cli("show", "S1", "--format", "table").stdout
    assert "已电话督促" in table and "群众再次反映" in table
    r = cli("note", "S1", "   ")
    assert r.exit_code == EXIT_BAD_INPUT


def test_upgrade_brings_back_notes_earlier_versions_overwrote(tmp_path, cli):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-0001.db", db)
    con = sqlite3.connect(db)
    logged = con.execute("SELECT subject, new_value FROM change_log WHERE field = 'note'").fetchall()
    con.close()
    assert logged  # the fixture's notes were set by close --note
    for subject, text in logged:
        notes = cli.json("--db", str(db), "show", subject)["notes"]
        assert text in [n["text"] for n in notes]


# -- who is involved -----------------------------------------------------------------------------


def test_a_sending_unit_sees_what_it_sent(cli, day):
    # scjgj owes nothing yet, but it sent R1 and handed over C1
    assert cli.json("list", "--unit", "scjgj") == []
    assert [r["id"] for r in cli.json("list", "--from", "scjgj")] == ["R1", "C1"]
    assert [r["id"] for r in cli.json("list", "--involving", "scjgj", "--sort", "id")] == [
        "C1", "R1"]
    assert [r["id"] for r in cli.json("list", "--involving", "gaj")] == ["R1"]  # received it
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-05"))
    # the police held a duty on it, and still count as involved once it passed to scjgj
    assert [r["id"] for r in cli.json("list", "--involving", "gaj")] == ["R1"], \
        cli.json("show", "R1")
    # scjgj now holds a right (310号令 第九条第一款: it MAY object in 3 days): it may act, and
    # is listed as the unit that may; when the window passes unused nobody is overdue.
    assert [(r["id"], r["unit"]) for r in cli.json("list", "--from", "scjgj")
            if r["id"] == "R1"] == [("R1", "scjgj")]
    assert cli.json("report", "overdue", "--from", "scjgj", "--as-of", "2025-03-11") == []
    assert cli.json("report", "overdue", "--from", "gaj", "--as-of", "2025-03-11") == []


def test_handler_is_recorded_shown_filtered_exported_and_imported(cli, day, tmp_path):
    ok(cli("referral", "update", "R1", "--handler", "王五"))
    ok(cli("suggestion", "add", "--type", "other", "--to", "rsj", "--title", "t",
           "--handler", "赵六"))
    assert cli.json("show", "R1")["handler"] == "王五"
    assert [r["id"] for r in cli.json("list", "--handler", "王五")] == ["R1"]
    out = tmp_path / "x.csv"
    ok(cli("export", "csv", "--kind", "referral", "-o", str(out)))
    assert "王五" in out.read_text(encoding="utf-8-sig")
    fresh = tmp_path / "fresh.db"
    ok(cli("--db", str(fresh), "init"))
    cli("--db", str(fresh), "import", "csv", str(out))
    assert cli.json("--db", str(fresh), "show", "R1")["handler"] == "王五"


# -- corrections that keep the record --------------------------------------------------------------


def test_opening_date_correction_recomputes_the_clock(cli, day):
    assert cli.json("show", "R1")["due_on"] == "2025-03-06"
    err = refused(cli, day, "referral", "update", "R1", "--opened-on", "2025-03-04")
    assert "--reason" in err
    ok(cli("referral", "update", "R1", "--opened-on", "2025-03-04", "--reason", "录入错误"))
    shown = cli.json("show", "R1")
    assert (shown["opened_on"], shown["due_on"]) == ("2025-03-04", "2025-03-07")
    assert shown["duties"][0]["started_on"] == "2025-03-04"
    logged = [h for h in cli.json("history", "R1") if h["action"] == "correct"]
    assert logged and all(h["reason"] == "录入错误" for h in logged)


def test_a_typo_year_can_be_corrected_and_closed(cli, day):
    # An item an older version let in with the year 2299 (written here as it was stored).
    run_sql(day, "UPDATE item SET opened_on = '2299-03-03', stage_on = '2299-03-03' "
                 "WHERE kind = 'referral'", "UPDATE duty SET started_on = '2299-03-03'")
    assert "before R1 was opened" in cli("close", "R1", "--outcome", "filed").stderr
    ok(cli("referral", "update", "R1", "--opened-on", "2025-03-03", "--reason", "年份录错"))
    ok(cli("close", "R1", "--outcome", "filed", "--on", "2025-03-05"))
    assert cli.json("show", "R1")["closed_on"] == "2025-03-05"


def test_void_removes_an_entry_from_everything_but_its_record(cli, day, tmp_path):
    err = refused(cli, day, "void", "S1", "--reason", " ")
    assert "--reason" in err
    ok(cli("void", "S1", "--reason", "与S2重复登记"))
    assert "S1" not in [r["id"] for r in cli.json("list")]
    assert "S1" not in [r["id"] for r in cli.json("report", "overdue", "--as-of", "2025-12-31")]
    summary = cli.json("report", "summary", "--as-of", "2025-12-31")
    assert next(r for r in summary if r["key"] == "suggestion")["overdue"] == 0
    out = tmp_path / "all.csv"
    ok(cli("export", "csv", "-o", str(out)))
    assert "督促整治排污" not in out.read_text(encoding="utf-8-sig")
    # still there when asked for, with its reason
    assert "S1" in [r["id"] for r in cli.json("list", "--status", "all")]
    assert "S1" in [r["id"] for r in cli.json("list", "--include-void")]
    assert cli.json("show", "S1")["void_reason"] == "与S2重复登记"
    assert cli.json("history", "S1")[-1]["action"] == "void"
    assert "No change" in cli("void", "S1", "--reason", "again").stderr
    ok(cli("unvoid", "S1", "--reason", "并非重复"))
    assert "S1" in [r["id"] for r in cli.json("list")]


# -- dates people mean ---------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "needle"), [
    (("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
      "--title", "x", "--on", "0001-01-01"), "before 2000-01-01"),
    (("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
      "--title", "x", "--on", "+99999d"), "after today"),
    (("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
      "--title", "x", "--on", "2025-03-11"), "after today"),
    (("close", "R1", "--outcome", "filed", "--on", "2027-06-30"), "after today"),
    (("suggestion", "reply", "S1", "--on", "tomorrow"), "after today"),
    (("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
      "--title", "x", "--on", ""), "--on must not be empty"),
    (("close", "R1", "--outcome", "filed", "--on", ""), "--on must not be empty"),
    (("referral", "update", "R1", "--due", "2099-01-01"), "more than 10 years"),
])
def test_dates_nobody_meant_are_refused(cli, day, args, needle):
    assert needle in refused(cli, day, *args)


def test_full_width_dates_are_accepted(cli, day):
    ok(cli("suggestion", "add", "--type", "other", "--to", "rsj", "--title", "全角",
           "--on", "２０２５－０３－０１"))
    assert cli.json("show", "S2")["opened_on"] == "2025-03-01"


# -- import never invents --------------------------------------------------------------------------


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("row", "needle"), [
    ("S9,suggestion,t,rsj,correction,closed,adopted,", "closed_on"),
    ("S9,suggestion,t,rsj,correction,open,adopted,", "open item"),
    ("S9,suggestion,t,rsj,correction,,,2025-03-01", "open item"),
    ("S9,suggestion,t,rsj,correction,closed,adopted,2099-01-01", "after today"),
])
def test_import_never_invents_nor_drops(cli, day, tmp_path, row, needle):
    path = _csv(tmp_path, "id,kind,title,unit,type,status,outcome,closed_on\n"
                          "S8,suggestion,good,rsj,other,,,\n" + row + "\n")
    err = refused(cli, day, "import", "csv", str(path))
    assert "line 3" in err and needle in err


def test_import_with_a_kind_takes_that_kind_and_counts_the_rest(cli, day, tmp_path):
    path = _csv(tmp_path, "id,kind,title,unit,type,from_unit,direction\n"
                          "S8,suggestion,一,rsj,other,,\n"
                          "R8,referral,二,gaj,,scjgj,to-criminal\n"
                          "S9,,三,rsj,other,,\n")
    r = cli("import", "csv", "--kind", "suggestion", "--dry-run", str(path))
    assert r.exit_code == 0 and "Would import 2 items (suggestion 2)" in r.stderr
    assert "Skipped 1 rows" in r.stderr
    r = cli("import", "csv", "--kind", "suggestion", str(path))
    assert r.exit_code == 0, r.output
    assert {"S8", "S9"} <= {x["id"] for x in cli.json("list")}
    assert "R8" not in {x["id"] for x in cli.json("list", "--status", "all")}
    # without --kind a mixed file is imported whole, each row's kind from its kind or ID
    path = _csv(tmp_path, "id,title,unit,type,from_unit,direction\n"
                          "S10,四,rsj,other,,\nR10,五,gaj,,scjgj,to-criminal\n")
    ok(cli("import", "csv", str(path)))
    assert {"S10", "R10"} <= {x["id"] for x in cli.json("list")}


# -- honest messages ---------------------------------------------------------------------------------


def test_commands_that_change_nothing_say_so(cli, day):
    before = table_dump(day)
    r = cli("unit", "update", "scjgj")
    assert r.exit_code == 0 and "No change" in r.stderr and table_dump(day) == before
    assert "--reason explains" in refused(cli, day, "referral", "update", "R1", "--reason", "x")
    ok(cli("suggestion", "reply", "S1", "--on", "2025-03-05"))
    history = cli.json("history", "S1")
    r = cli("suggestion", "reply", "S1", "--on", "2025-03-06")
    assert r.exit_code == 0 and "No change" in r.stderr
    assert cli.json("history", "S1") == history


def test_staying_at_the_same_stage_keeps_an_extension(cli, day):
    ok(cli("suggestion", "update", "S1", "--due", "2025-06-30", "--reason", "延期"))
    r = cli("suggestion", "update", "S1", "--stage", "delivered")
    assert r.exit_code == 0 and "No change" in r.stderr
    assert cli.json("show", "S1")["due_on"] == "2025-06-30"


def test_help_lists_codes_and_headings_say_what_is_listed(cli, day, monkeypatch):
    help_text = "".join(cli("suggestion", "close", "--help").stdout.split())
    assert "adopted(采纳)" in help_text and "partly(部分采纳)" in help_text
    help_text = "".join(cli("clue", "add", "--help").stdout.split())
    assert "ecology(生态环境和资源保护)" in help_text
    assert "Open items" in cli("list", "--format", "table").stdout
    assert "All items" in cli("list", "--status", "all", "--format", "table").stdout
    ok(cli("close", "S1", "--outcome", "adopted", "--on", "2025-03-09"))
    assert "检察建议: closed items" in cli("suggestion", "list", "--status", "closed",
                                         "--format", "table").stdout
    err = cli("suggestion", "show", "A1").stderr
    assert "is not of kind" in err and "a action" not in err


# -- 80 columns ------------------------------------------------------------------------------------


def test_titles_keep_eight_characters_a_line_at_80_columns(cli, day, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    ok(cli("referral", "update", "R1", "--title", "某某公司在汤逊湖周边非法采砂并破坏生态环境案"))
    out = cli("list", "--format", "table").stdout
    header = next(line for line in out.splitlines() if line.startswith("┃"))
    position = [cell.strip() for cell in header.split("┃")].index("Title")
    lines = [line for line in out.splitlines() if line.startswith("│")]
    title_cells = [line.split("│")[position].strip() for line in lines]
    cjk = [len(re.findall(r"[\u4e00-\u9fff]", cell)) for cell in title_cells if cell]
    # the long title wraps with at least 8 characters a line (its last line may be shorter)
    assert cjk[0] >= 8 and cjk[1] >= 8, out


def test_dates_keep_the_order_of_what_happened(cli, day):
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-06"))
    # a later stage cannot begin before the current one
    assert "current stage not-filed" in refused(cli, day, "referral", "update", "R1", "--stage",
                                                "reconsideration", "--on", "2025-03-05")
    # nor can the item have opened after a stage it records
    assert "records a stage on 2025-03-06" in refused(
        cli, day, "referral", "update", "R1", "--opened-on", "2025-03-07", "--reason", "x")
    ok(cli("referral", "update", "R1", "--opened-on", "2025-03-04", "--reason", "录入错误"))


def test_a_unit_does_not_refer_a_case_to_itself(cli, day):
    err = refused(cli, day, "referral", "add", "--direction", "to-criminal", "--from", "gaj",
                  "--to", "gaj", "--title", "x")
    assert "--from" in err and "own unit" in err
    assert "own unit" in refused(cli, day, "referral", "update", "R1", "--from", "gaj")
    assert "R1, S2, C3" in cli("show", "Z9").stderr  # ID examples come from the registry
