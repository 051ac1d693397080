"""Overdue, due-soon and summary reports (service and CLI)."""

from __future__ import annotations

import json
from datetime import date

AS_OF = date(2025, 3, 10)


def _item(make_item, due: str, **values) -> str:
    return make_item("referral", due_on=due, opened_on="2025-01-02", **values)


def test_overdue_boundaries(tracker, make_item):
    today_due = _item(make_item, "2025-03-10")
    yesterday_due = _item(make_item, "2025-03-09")
    rows = list(tracker.overdue(AS_OF))
    assert [r["id"] for r in rows] == [yesterday_due]
    assert rows[0]["days_overdue"] == 1
    assert today_due not in {r["id"] for r in rows}


def test_overdue_most_overdue_first_and_as_of(tracker, make_item):
    a = _item(make_item, "2025-03-01")
    b = _item(make_item, "2025-02-01")
    c = _item(make_item, "2025-03-05")
    rows = list(tracker.overdue(AS_OF))
    assert [r["id"] for r in rows] == [b, a, c]
    assert [r["days_overdue"] for r in rows] == [37, 9, 5]
    assert [r["id"] for r in tracker.overdue(date(2025, 3, 2))] == [b, a]
    assert list(tracker.overdue(date(2025, 2, 1))) == []


def test_closed_items_are_never_overdue(tracker, make_item):
    ident = _item(make_item, "2025-02-01")
    tracker.close(ident, "filed", "2025-03-01")
    assert list(tracker.overdue(AS_OF)) == []


def test_overdue_filters_by_unit_and_kind(tracker, make_item):
    r = _item(make_item, "2025-03-01")
    s = make_item("suggestion", opened_on="2025-01-02", due_on="2025-03-01", unit="rsj")
    assert [x["id"] for x in tracker.overdue(AS_OF, unit="gaj")] == [r]
    assert [x["id"] for x in tracker.overdue(AS_OF, unit="区人力资源和社会保障局")] == [s]
    from fujian.kinds import KINDS

    assert [x["id"] for x in tracker.overdue(AS_OF, kind=KINDS["suggestion"])] == [s]


def test_due_soon_window_is_inclusive(tracker, make_item):
    inside_first = _item(make_item, "2025-03-10")
    inside_last = _item(make_item, "2025-03-17")
    _item(make_item, "2025-03-18")
    _item(make_item, "2025-03-09")
    rows = list(tracker.due_soon(AS_OF, 7))
    assert [r["id"] for r in rows] == [inside_first, inside_last]
    assert [r["days_left"] for r in rows] == [0, 7]


def test_summary_counts_duties(tracker, make_item):
    on_time = _item(make_item, "2025-02-10")
    tracker.close(on_time, "filed", "2025-02-10")
    late = _item(make_item, "2025-02-10")
    tracker.close(late, "filed", "2025-02-20")
    _item(make_item, "2025-03-01")  # open and overdue
    _item(make_item, "2025-04-01")  # open, not overdue
    withdrawn = _item(make_item, "2025-02-01")
    tracker.close(withdrawn, "withdrawn", "2025-02-20")  # the sender's doing: waived
    make_item("meeting", opened_on="2025-03-01")  # no deadline: not counted at all
    rows = tracker.summary(AS_OF, None, None)
    referral = next(r for r in rows if r["group"] == "kind" and r["key"] == "referral")
    assert {k: referral[k] for k in ("on_time", "late", "overdue", "open", "waived", "rate")} == {
        "on_time": 1, "late": 1, "overdue": 1, "open": 1, "waived": 1, "rate": round(1 / 3, 4)}
    gaj = next(r for r in rows if r["group"] == "unit" and r["key"] == "gaj")
    assert gaj["name"] == "市公安局江夏区分局" and gaj["on_time"] == 1
    total = rows[-1]
    assert total["group"] == "total" and total["open"] == 1 and total["waived"] == 1
    meeting = next(r for r in rows if r["key"] == "meeting")
    assert (meeting["on_time"], meeting["open"], meeting["rate"]) == (0, 0, None)
    # A window on the due date: only the duties due from 2025-02-15 on.
    later = tracker.summary(AS_OF, date(2025, 2, 15), None)
    referral = next(r for r in later if r["key"] == "referral")
    assert (referral["on_time"], referral["late"], referral["overdue"], referral["open"]) == \
        (0, 0, 1, 1)


# -- CLI -----------------------------------------------------------------------------------------


def _add(cli, due: str) -> str:
    r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
            "--title", "案件", "--on", "2025-01-02", "--due", due)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def test_cli_overdue_json_keys(cli, initialised):
    ident = _add(cli, "2025-03-07")
    rows = cli.json("report", "overdue")
    assert rows == [{
        "id": ident, "kind": "referral", "title": "案件", "unit": "gaj",
        "unit_name": "市公安局江夏区分局", "stage": "sent", "status": "open",
        "opened_on": "2025-01-02", "due_on": "2025-03-07", "closed_on": None, "outcome": None,
        "paused_on": None, "assignee": "gaj", "handler": None, "note": None,
        "stage_on": "2025-01-02", "met_on": None, "met_due": None,
        "direction": "to-criminal", "from_unit": "scjgj", "party": None,
        "enterprise": False, "doc_no": None, "duty": "decide-filing", "days_overdue": 3,
    }]


def test_cli_overdue_plain_and_fail_if_any(cli, initialised):
    r = cli("report", "overdue")
    assert (r.exit_code, r.stdout) == (0, "")
    r = cli("report", "overdue", "--fail-if-any")
    assert (r.exit_code, r.stdout) == (0, "")
    assert cli.json("report", "overdue") == []
    ident = _add(cli, "2025-03-01")
    r = cli("report", "overdue")
    assert r.exit_code == 0
    # What is owed comes last, so that scripts reading the earlier columns keep working.
    assert r.stdout == ("id\tkind\ttitle\tunit\tunit_name\tstage\tdue_on\tdays_overdue\tduty\n"
                        f"{ident}\treferral\t案件\tgaj\t市公安局江夏区分局\tsent\t2025-03-01\t9"
                        "\tdecide-filing\n")
    assert cli("report", "overdue", "--fail-if-any").exit_code == 1
    assert cli("report", "overdue", "--fail-if-any", "--as-of", "2025-03-01").exit_code == 0
    r = cli("report", "overdue", "--format", "csv")
    assert r.stdout.splitlines()[0] == \
        "id,kind,title,unit,unit_name,stage,due_on,days_overdue,duty"


def test_cli_overdue_grouped_table(cli, initialised):
    _add(cli, "2025-03-01")
    r = cli("suggestion", "add", "--type", "other", "--to", "rsj", "--title", "建议",
            "--on", "2025-01-02", "--due", "2025-03-05")
    assert r.exit_code == 0
    r = cli("report", "overdue", "--format", "table")
    out = r.stdout
    assert "市公安局江夏区分局 (gaj): 1" in out
    assert "区人力资源和社会保障局 (rsj): 1" in out
    assert out.index("gaj") < out.index("rsj")  # the most overdue unit first
    assert "Total overdue: 2; units concerned: 2." in out


def test_cli_overdue_bad_input(cli, initialised):
    for args in (["--as-of", "03/04/2025"], ["--unit", "nowhere"], ["--kind", "bogus"],
                 ["--format", "xml"]):
        r = cli("report", "overdue", *args)
        assert r.exit_code == 2, args
        assert r.stderr.startswith("error: ") and r.stderr.count("\n") == 1
        assert "Traceback" not in r.output


def test_cli_due_soon_and_summary(cli, initialised):
    soon = _add(cli, "2025-03-12")
    _add(cli, "2025-03-30")
    rows = cli.json("report", "due-soon")
    assert [(r["id"], r["days_left"]) for r in rows] == [(soon, 2)]
    assert len(cli.json("report", "due-soon", "--within", "30")) == 2
    summary = cli.json("report", "summary")
    assert summary[0] == {"group": "kind", "key": "referral", "name": "案件移送", "on_time": 0,
                          "late": 0, "unmet": 0, "overdue": 0, "open": 2, "waived": 0,
                          "rate": None}
    assert list(summary[0]) == ["group", "key", "name", "on_time", "late", "unmet", "overdue",
                                "open", "waived", "rate"]
    assert cli.json("report", "summary", "--as-of", "2025-03-20")[0]["overdue"] == 1
    assert cli("report", "summary", "--from", "2025-03-01", "--to", "2025-01-01").exit_code == 2


def test_demo_ends_with_overdue_report(cli, tmp_path):
    target = tmp_path / "demo.db"
    r = cli("demo", "--db", str(target))
    assert r.exit_code == 0, r.output
    assert "Demo database" in r.stderr
    listing, report = r.stdout.split("\n\n")
    # Open items of every kind first (meetings too, though they have no deadline) ...
    assert {line.split("\t")[1] for line in listing.splitlines()[1:]} == {
        "referral", "suggestion", "clue", "meeting", "action", "assist"}
    # ... then the real overdue report.
    lines = report.splitlines()
    assert lines[0] == "id\tkind\ttitle\tunit\tunit_name\tstage\tdue_on\tdays_overdue\tduty"
    kinds = {line.split("\t")[1] for line in lines[1:]}
    assert {"referral", "suggestion", "clue", "action"} <= kinds
    listed = json.loads(cli("--db", str(target), "list", "--status", "all", "-f", "json").stdout)
    assert {r["kind"] for r in listed} == {"referral", "suggestion", "clue", "meeting", "action",
                                           "assist"}
    assert len(listed) >= 24
    # The demo never reuses an existing file.
    again = cli("demo", "--db", str(target))
    assert again.exit_code == 2


def test_row_positions_match_the_selected_columns():
    """shape() reads rows by position for speed: the positions must follow the SELECT, which
    is derived from the model (issue 20): every item column but the few no output reads, in
    the table's order, then each link column's linked item (its kind and number)."""
    from fujian.models import Item
    from fujian.service import queries

    names = [c.name for c in queries._statement(queries.Filters()).selected_columns]
    columns = [c.name for c in Item.__table__.columns]
    assert names == [n for n in columns if n not in queries._UNREAD] + \
        ["kind", "number"] * len(queries.LINK_COLUMNS)
    assert set(queries._UNREAD) <= set(columns)
    assert queries.LINK_COLUMNS == ("meeting_id", "related_id")
    for name, position in queries._POSITIONS.items():
        assert names[position] == name
    assert min(queries._LINK_POSITIONS.values()) == len(queries._POSITIONS)
    assert names[queries._PAUSED] == "paused_on" and names[queries._MET_DUE] == "met_due"
    assert names[queries._DUE] == "due_on" and names[queries._PK] == "id"


def test_a_late_reply_counts_as_late_even_when_closed_later(tracker, make_item):
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    """A reply stops the clock; the on-time rate judges the reply, not the later closing."""
    late = make_item("suggestion", opened_on="2025-01-02")  # due 2025-03-03 (2 months, Monday)
    tracker.reply(late, "2025-03-20")
    tracker.close(late, "adopted", "2025-03-25")
    on_time = make_item("suggestion", opened_on="2025-01-02")
    tracker.reply(on_time, "2025-02-20")
    tracker.close(on_time, "partly", "2025-04-30")  # closing after the due date is not late
    shown = tracker.show(late)
    assert (shown["met_on"], shown["met_due"], shown["due_on"]) == (
        date(2025, 3, 20), date(2025, 3, 3), None)
    rows = tracker.summary(date(2025, 6, 1), None, None)
    suggestion = next(r for r in rows if r["key"] == "suggestion")
    assert (suggestion["on_time"], suggestion["late"]) == (1, 1)
    # A new clock (a rule with a period) starts a new duty: the old reply no longer counts.
    ref = make_item("referral", opened_on="2025-03-03", direction="to-admin", from_unit="jcy",
                    unit="scjgj")
    tracker.update(ref, {"stage": "replied", "on": "2025-03-05"})
    assert tracker.show(ref)["met_on"] == date(2025, 3, 5)
    tracker.update(ref, {"stage": "sent", "on": "2025-03-06", "reason": "回复不完整，重新督促"})
    assert tracker.show(ref)["met_on"] is None
