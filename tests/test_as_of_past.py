"""`--as-of D` in the past is the past (issue 19, point 10): the stage, holder, due date and duty
of every row are those the records give for D, in `list`, the reports and the pack, so that the
overdue report as of last month's meeting is the one the meeting saw. A stage counts from its
own date (`--on`), never from the day it was typed in."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime

import pytest

from fujian.service import Tracker
from fujian.service.queries import Filters, iter_items

TODAY = date(2025, 3, 10)  # conftest
STAGE_KEYS = ("stage", "stage_on", "unit", "due_on", "duty", "days_overdue")


@pytest.fixture
def recorded_on(monkeypatch):
    """Sets the instant the tool writes into the change log (its `at`): a record typed in on
    that day, 10:00 in China."""
    import fujian.service.changelog
    import fujian.service.items

    def at(day: str) -> None:
        instant = datetime.fromisoformat(f"{day}T02:00:00").replace(tzinfo=UTC)
        for module in (fujian.service.items, fujian.service.changelog):
            monkeypatch.setattr(module, "now", lambda: instant)

    return at


def row_at(tracker, ident: str, day: date, status: str = "all") -> dict:
    rows = [r for r in tracker.items(Filters(status=status), day) if r["id"] == ident]
    assert len(rows) == 1, rows
    return rows[0]


def stage_at(tracker, ident: str, day: date) -> tuple:
    row = row_at(tracker, ident, day)
    return tuple(row[k] for k in STAGE_KEYS)


# -- the issue's case: an assistance request later obstructed ------------------------------------


def test_an_assistance_request_is_requested_until_it_is_obstructed(tracker, make_item,
                                                                    recorded_on):
    """The 10 working days are a local rule (本地规定; 《人民检察院组织法》第二十一条 gives no
    period); the procuratorate's 15 days to decide on escalation too."""
    recorded_on("2025-01-10")
    ident = make_item("assist", opened_on="2025-01-10")  # zjj asked, due 2025-01-24
    recorded_on("2025-02-03")
    tracker.update(ident, {"stage": "obstructed", "on": "2025-02-01"})
    # 10 working days from Friday 10 January: 13–17 and 20–24 January.
    assert stage_at(tracker, ident, date(2025, 1, 25)) == (
        "requested", date(2025, 1, 10), "zjj", date(2025, 1, 24), "assist", 1)
    overdue = list(tracker.overdue(date(2025, 1, 25)))
    assert [(r["id"], r["stage"], r["unit"], r["days_overdue"]) for r in overdue] == [
        (ident, "requested", "zjj", 1)]
    # 15 days from 1 February end on Sunday 16 February: Monday 17 February.
    assert stage_at(tracker, ident, date(2025, 2, 5)) == (
        "obstructed", date(2025, 2, 1), "jcy", date(2025, 2, 17), "decide-escalation", 0)
    assert list(tracker.overdue(date(2025, 2, 5))) == []
    # The reminder notices (催办通知) read the duties of the day, with the stage each began at.
    assert [(r.code, [(x["id"], x["stage"], x["duty"], x["days_overdue"]) for x in r.rows])
            for r in tracker.reminders(date(2025, 1, 25), 7)] == [
        ("zjj", [(ident, "requested", "assist", 1)])]
    assert [(r.code, [(x["id"], x["stage"], x["duty"], x["days_left"]) for x in r.rows])
            for r in tracker.reminders(date(2025, 2, 12), 7)] == [
        ("jcy", [(ident, "obstructed", "decide-escalation", 5)])]
    # The day before it was opened it did not exist.
    assert list(tracker.items(Filters(status="all"), date(2025, 1, 9))) == []


def test_the_issue_case_through_the_command_line(tracker, cli, monkeypatch, tmp_path):
    """`report overdue --as-of 2026-01-25` listed the request as obstructed although on 01-25 it
    was still requested (the issue's own dates). 10 working days from Saturday 10 January 2026
    end on Friday 23 January; the 15 days from 1 February end on 16 February, inside the 2026
    Spring Festival (15–23 February, 国务院办公厅 notice), so on Tuesday 24 February."""
    monkeypatch.setenv("FUJIAN_TODAY", "2026-03-01")
    assert cli("assist", "add", "--type", "query", "--to", "zjj", "--title", "查询登记信息",
               "--on", "2026-01-10").exit_code == 0
    assert cli("assist", "update", "X1", "--stage", "obstructed", "--on", "2026-02-01") \
        .exit_code == 0
    rows = cli.json("report", "overdue", "--as-of", "2026-01-25")
    assert [{k: r[k] for k in ("id", "stage", "stage_on", "unit", "due_on", "days_overdue",
                                "duty")} for r in rows] == [
        {"id": "X1", "stage": "requested", "stage_on": "2026-01-10", "unit": "zjj",
         "due_on": "2026-01-23", "days_overdue": 2, "duty": "assist"}]
    plain = cli("report", "overdue", "--as-of", "2026-01-25", "--format", "plain")
    assert plain.stdout.splitlines()[1].split("\t") == [
        "X1", "assist", "查询登记信息", "zjj", "区住房和城市更新局", "requested", "2026-01-23", "2",
        "assist"]
    listed = cli.json("list", "--as-of", "2026-02-05")
    assert [(r["id"], r["stage"], r["stage_on"], r["unit"], r["due_on"], r["duty"])
            for r in listed] == [
        ("X1", "obstructed", "2026-02-01", "jcy", "2026-02-24", "decide-escalation")]
    soon = cli.json("report", "due-soon", "--as-of", "2026-01-20", "--within", "7")
    assert [(r["id"], r["stage"], r["unit"], r["days_left"]) for r in soon] == [
        ("X1", "requested", "zjj", 3)]
    # The summary judges the duties of that day: zjj's was overdue then, unmet once obstructed
    # (《人民检察院组织法》第二十一条: it had to assist).
    summary = {r["key"]: r for r in cli.json("report", "summary", "--as-of", "2026-01-25")}
    assert (summary["zjj"]["overdue"], summary["zjj"]["unmet"]) == (1, 0)
    assert "jcy" not in summary
    summary = {r["key"]: r for r in cli.json("report", "summary", "--as-of", "2026-02-05")}
    assert (summary["zjj"]["overdue"], summary["zjj"]["unmet"], summary["jcy"]["open"]) == \
        (0, 1, 1)


def test_the_pack_as_of_a_past_meeting_shows_that_days_stage(tracker, cli, monkeypatch,
                                                              tmp_path):
    monkeypatch.setenv("FUJIAN_TODAY", "2026-03-01")
    cli("assist", "add", "--type", "query", "--to", "zjj", "--title", "查询", "--on", "2026-01-10")
    cli("assist", "update", "X1", "--stage", "obstructed", "--on", "2026-02-01")
    folder = tmp_path / "pack"
    assert cli("export", "pack", "-o", str(folder), "--as-of", "2026-01-25", "--header",
               "codes").exit_code == 0
    for name in ("overdue.csv", "open-assist.csv"):
        with open(folder / name, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [(r["id"], r["stage"], r["unit"], r["due_on"]) for r in rows] == [
            ("X1", "requested", "zjj", "2026-01-23")], name
    from openpyxl import load_workbook

    book = tmp_path / "pack.xlsx"
    assert cli("export", "pack", "-o", str(book), "--as-of", "2026-01-25").exit_code == 0
    sheet = load_workbook(book)["Overdue"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0][2:8] == ["ID", "Kind", "Title", "Stage", "Due", "Days overdue"]
    assert rows[1][1:8] == ["zjj", "X1", "协助调查核实", "查询", "协助函已送达",
                            datetime(2026, 1, 23), 2]


# -- a referral through its stages ---------------------------------------------------------------


def test_a_referral_shows_the_stage_of_each_day(tracker, make_item, recorded_on):
    """国务院令第310号 第八条: the police decide on filing within 3 days of the transfer (the
    receipt stands in for acceptance until recorded), then of acceptance; 第九条第一款: after
    不予立案 the sending unit *may* ask for 复议 within 3 days (a right, never overdue).
    Periods counted as 刑诉法 第一百零五条 says: a last day on a rest day moves to the next.
    The whole week is typed in at one go, on the 14th: one instant for every record."""
    recorded_on("2025-01-14")
    ref = make_item("referral", opened_on="2025-01-06")  # scjgj → gaj, sent
    tracker.update(ref, {"stage": "accepted", "on": "2025-01-08"})
    tracker.update(ref, {"stage": "not-filed", "on": "2025-01-13"})
    assert stage_at(tracker, ref, date(2025, 1, 7)) == (
        "sent", date(2025, 1, 6), "gaj", date(2025, 1, 9), "decide-filing", 0)
    # 8 January + 3 = Saturday 11 January: Monday 13 January.
    assert stage_at(tracker, ref, date(2025, 1, 10)) == (
        "accepted", date(2025, 1, 8), "gaj", date(2025, 1, 13), "decide-filing", 0)
    assert stage_at(tracker, ref, date(2025, 1, 13)) == (
        "not-filed", date(2025, 1, 13), "scjgj", date(2025, 1, 16), "request-reconsideration",
        0)
    assert row_at(tracker, ref, date(2025, 1, 14))["right"] is True
    # The right's window passed unused: it lapsed, nothing is owed, the police are named again.
    later = row_at(tracker, ref, date(2025, 1, 20))
    assert tuple(later[k] for k in STAGE_KEYS) == (
        "not-filed", date(2025, 1, 13), "gaj", None, None, 0)
    assert "right" not in later
    # A right is never overdue, and is listed due soon as a right.
    assert list(tracker.overdue(date(2025, 1, 20))) == []
    soon = list(tracker.due_soon(date(2025, 1, 14), 7))
    assert [(r["id"], r["stage"], r["unit"], r.get("right"), r["days_left"]) for r in soon] == [
        (ref, "not-filed", "scjgj", True, 2)]
    # Before the transfer was accepted, the police's 3 days ran from it: overdue on the 10th
    # had acceptance not been recorded — it was, on the 8th, so nothing was overdue then.
    assert list(tracker.overdue(date(2025, 1, 10))) == []


def test_a_move_back_is_shown_after_its_date_only(tracker, make_item):
    """A backward move (issue 19 point 8) is a stage like another for the past: 310号令 第八条's
    3 days run again from the acceptance recorded on 20 January."""
    ref = make_item("referral", opened_on="2025-01-06")
    tracker.update(ref, {"stage": "accepted", "on": "2025-01-08"})
    tracker.update(ref, {"stage": "not-filed", "on": "2025-01-13"})
    tracker.update(ref, {"stage": "accepted", "on": "2025-01-20", "reason": "录入错误"})
    assert stage_at(tracker, ref, date(2025, 1, 15))[:3] == (
        "not-filed", date(2025, 1, 13), "scjgj")
    assert stage_at(tracker, ref, date(2025, 1, 21)) == (
        "accepted", date(2025, 1, 20), "gaj", date(2025, 1, 23), "decide-filing", 0)


# -- the stage's own date, not the day it was recorded ---------------------------------------


def test_a_stage_recorded_late_counts_from_its_own_date(tracker, make_item, recorded_on):
    """《人民检察院检察建议工作规定》第十九条: a reply within two months of receipt. The reply
    dated 20 January was typed in on 3 February; as of 21 January it had been replied."""
    recorded_on("2025-01-06")
    sug = make_item("suggestion", opened_on="2025-01-06")  # rsj, reply due 2025-03-06
    recorded_on("2025-02-03")
    tracker.reply(sug, "2025-01-20")
    before = row_at(tracker, sug, date(2025, 1, 19))
    assert (before["stage"], before["stage_on"], before["unit"], before["due_on"],
            before["duty"], before["met_on"], before["met_due"]) == (
        "delivered", date(2025, 1, 6), "rsj", date(2025, 3, 6), "reply", None, None)
    after = row_at(tracker, sug, date(2025, 1, 21))
    assert (after["stage"], after["stage_on"], after["unit"], after["due_on"], after["duty"],
            after["met_on"], after["met_due"]) == (
        "replied", date(2025, 1, 20), "rsj", None, None, date(2025, 1, 20), date(2025, 3, 6))
    # Between the reply and the day it was typed in, the item stood replied all the same.
    assert row_at(tracker, sug, date(2025, 2, 1))["stage"] == "replied"


def test_a_corrected_opening_date_moves_the_first_stage_with_it(tracker, make_item):
    """A mistyped opening date, corrected: the transfer (and the police's 3 days, 310号令
    第八条) began on the corrected day, and so did the stage `sent`."""
    ref = make_item("referral", opened_on="2025-01-10")
    tracker.update(ref, {"stage": "accepted", "on": "2025-01-15"})
    tracker.update(ref, {"opened_on": "2025-01-08", "reason": "移送日期录错"})
    # 8 January + 3 = Saturday 11 January: Monday 13 January.
    assert stage_at(tracker, ref, date(2025, 1, 9)) == (
        "sent", date(2025, 1, 8), "gaj", date(2025, 1, 13), "decide-filing", 0)
    assert stage_at(tracker, ref, date(2025, 1, 15))[:2] == ("accepted", date(2025, 1, 15))


def test_an_item_closed_after_the_day_is_open_at_its_stage_then(tracker, make_item):
    ref = make_item("referral", opened_on="2025-01-06")
    tracker.update(ref, {"stage": "accepted", "on": "2025-01-08"})
    tracker.close(ref, "filed", on="2025-01-09")
    then = row_at(tracker, ref, date(2025, 1, 7), status="open")
    assert (then["status"], then["stage"], then["closed_on"], then["outcome"], then["duty"]) == (
        "open", "sent", None, None, "decide-filing")
    closed = row_at(tracker, ref, date(2025, 1, 10), status="closed")
    assert (closed["status"], closed["stage"], closed["outcome"], closed["duty"]) == (
        "closed", "accepted", "filed", None)


# -- the duty of that day, not today's ---------------------------------------------------------


def test_provisional_and_right_are_those_of_the_duty_open_that_day(store, tracker):
    """A due date counted across a year with no official holiday notice is provisional (issue 19
    point 9); a past row says so only when the duty open that day was counted so."""
    later = Tracker(store, date(2027, 1, 20), actor="tester")
    ident = later.add("assist", {"type": "query", "unit": "zjj", "title": "查询",
                                 "opened_on": "2026-12-01"}).ident
    later.update(ident, {"stage": "obstructed", "on": "2026-12-28"})
    now = row_at(later, ident, date(2027, 1, 20))
    assert (now["duty"], now.get("provisional")) == ("decide-escalation", True)
    then = row_at(later, ident, date(2026, 12, 10))
    # 10 working days from 1 December 2026 (a Tuesday): 15 December, in a known year.
    assert (then["stage"], then["duty"], then["due_on"]) == (
        "requested", "assist", date(2026, 12, 15))
    assert "provisional" not in then
    assert row_at(later, ident, date(2026, 12, 29)).get("provisional") is True


def test_a_right_of_today_is_not_a_right_of_an_earlier_day(tracker, make_item):
    """310号令 第九条第一款: the right to ask for 复议 begins with the refusal, not before."""
    ref = make_item("referral", opened_on="2025-03-03")
    tracker.update(ref, {"stage": "not-filed", "on": "2025-03-07"})  # right until 03-10
    assert row_at(tracker, ref, TODAY).get("right") is True
    then = row_at(tracker, ref, date(2025, 3, 5))
    assert (then["stage"], then["unit"], then["duty"], then["due_on"]) == (
        "sent", "gaj", "decide-filing", date(2025, 3, 6))
    assert "right" not in then


# -- one answer for today ----------------------------------------------------------------------


def test_the_rebuilt_past_agrees_with_the_present_on_every_key(tracker, make_item):
    """Rows at a day before today are rebuilt from the history; from today on they are read
    from the item row. For a day after every record, both must give the same rows."""
    ref = make_item("referral", opened_on="2025-01-06")
    tracker.update(ref, {"stage": "accepted", "on": "2025-01-08"})
    tracker.update(ref, {"stage": "not-filed", "on": "2025-01-13"})  # a lapsed right
    sug = make_item("suggestion", type="public-interest", unit="sthjj", opened_on="2025-01-06")
    tracker.reply(sug, "2025-02-01")
    make_item("suggestion", opened_on="2025-01-02")
    make_item("assist", opened_on="2025-02-20")
    closed = make_item("referral", opened_on="2025-02-03")
    tracker.close(closed, "filed", on="2025-02-05")
    make_item("action", due_on="2025-03-01",
              meeting=tracker.add("meeting", {"title": "会", "opened_on": "2025-02-01"}).ident)
    with tracker.store.engine.connect() as conn:
        present = list(iter_items(conn, Filters(status="all"), TODAY, TODAY))
        rebuilt = list(iter_items(conn, Filters(status="all"), TODAY, date(2025, 3, 11)))
    assert len(present) == 7
    assert rebuilt == present
