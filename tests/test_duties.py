"""Who owes what, by law (issue 10): each stage hands a duty to the unit the law names, with its
own clock, and every report judges duties. Each test reproduces a case the single due date and
single "responsible unit" of earlier versions got wrong."""

from __future__ import annotations

from datetime import date

import pytest

from fujian.errors import BadInput

TODAY = date(2025, 3, 10)
DUTY_KEYS = ["name", "stage", "holder", "started_on", "due_on", "met_on", "state", "right",
             "local", "provisional"]


def show(tracker, ident):
    return tracker.show(ident)


def duties(tracker, ident):
    return [(d["name"], d["stage"], d["holder"], d["due_on"], d["state"])
            for d in tracker.show(ident)["duties"]]


def overdue_ids(tracker, as_of=TODAY, unit=None):
    return [(r["id"], r["unit"]) for r in tracker.overdue(as_of, unit=unit)]


def unit_row(rows, code):
    return next(r for r in rows if r["group"] == "unit" and r["key"] == code)


# -- the holder is the answer everywhere ---------------------------------------------------------


def test_not_filed_gives_the_sending_unit_a_right_not_a_duty(tracker, make_item, cli):
    ref = make_item("referral", opened_on="2025-02-20")  # scjgj → gaj
    tracker.update(ref, {"stage": "not-filed", "on": "2025-03-07"})  # window to Mon 03-10
    # 310号令 第九条第一款: the sending unit MAY (可以) object within three days — a right. While
    # it runs, the sending unit is the one who may act; it is never overdue.
    row = show(tracker, ref)
    assert (row["unit"], row["unit_name"], row["assignee"], row["due_on"], row["duty"],
            row["right"]) == ("scjgj", "区市场监督管理局", "gaj", date(2025, 3, 10),
                              "request-reconsideration", True)
    listed = cli.json("list", "--unit", "scjgj")
    assert [(r["id"], r["unit"], r["assignee"], r["right"]) for r in listed] == [
        (ref, "scjgj", "gaj", True)]
    soon = cli.json("report", "due-soon", "--within", "3")
    assert [(r["id"], r["duty"], r["right"]) for r in soon] == [
        (ref, "request-reconsideration", True)]
    # Unused, the window passes: the right has lapsed. Nobody is overdue, nobody is late.
    for day in ("2025-03-11", "2025-04-30"):
        assert overdue_ids(tracker, date.fromisoformat(day)) == []
        assert cli.json("list", "--overdue", "--as-of", day) == []
    assert cli.json("list", "--as-of", "2025-03-11")[0]["unit"] == "gaj"
    assert [d["state"] for d in cli.json("show", ref)["duties"]][-1] == "open"
    # A right counts in no statistic: the sending unit is not in the summary at all.
    rows = tracker.summary(date(2025, 4, 30), None, None)
    assert [r["key"] for r in rows if r["group"] == "unit"] == ["gaj"]
    # The CSV export names the holder in `unit` and the receiving unit in `assignee`.
    csv_lines = cli("export", "csv", "--header", "codes").stdout.splitlines()
    header = csv_lines[0].lstrip("\ufeff").split(",")
    values = dict(zip(header, csv_lines[1].split(","), strict=False))
    assert (values["unit"], values["assignee"]) == ("scjgj", "gaj")
    # with Chinese headers every unit column is a name, as a person reads it in Excel
    lines = cli("export", "csv").stdout.splitlines()
    named = dict(zip(lines[0].lstrip("\ufeff").split(","), lines[1].split(","), strict=False))
    assert (named["责任单位"], named["承办单位"], named["移送单位"]) == (
        "区市场监督管理局", "市公安局江夏区分局", "区市场监督管理局")


def test_a_lapsed_right_shows_lapsed(tracker, make_item, cli):
    ref = make_item("referral", opened_on="2025-02-20")
    tracker.update(ref, {"stage": "not-filed", "on": "2025-03-03"})  # window to 03-06
    # TODAY is 03-10: the window passed unused, so the right ended on its last day.
    right = cli.json("show", ref)["duties"][-1]
    assert (right["name"], right["state"], right["right"], right["met_on"]) == (
        "request-reconsideration", "lapsed", True, None)


def test_overdue_report_groups_by_holder(cli, tracker, make_item):
    ref = make_item("referral", opened_on="2025-02-10")
    tracker.update(ref, {"stage": "supervision", "on": "2025-02-17"})
    # 刑诉规则 第五百六十一条第二款: once the police explained, the procuratorate has 10 days
    # (02-20 + 10 = Sun 03-02, due Mon 03-03) to tell the sending unit: its duty now.
    tracker.update(ref, {"stage": "explained", "on": "2025-02-20"})
    table = cli("report", "overdue", "--format", "table").stdout
    assert "区人民检察院 (jcy): 1" in table and "(gaj)" not in table


def test_clue_suggestion_is_owed_by_the_addressed_organ(tracker, make_item):
    clue = make_item("clue", opened_on="2025-01-02")
    # Without the organ the duty has no holder: refused, nothing changed.
    with pytest.raises(BadInput, match="--to"):
        tracker.update(clue, {"stage": "suggested", "on": "2025-01-10"})
    assert show(tracker, clue)["stage"] == "received"
    tracker.update(clue, {"to_unit": "sthjj", "stage": "suggested", "on": "2025-01-10"})
    row = show(tracker, clue)
    assert (row["unit"], row["to_unit"], row["due_on"]) == ("sthjj", "sthjj", date(2025, 3, 10))
    assert [d[:3] for d in duties(tracker, clue)] == [
        ("evaluate", "received", "jcy"), ("reply", "suggested", "sthjj"),
        ("perform", "suggested", "sthjj")]
    assert overdue_ids(tracker, date(2025, 3, 11)) == [(clue, "sthjj")]
    # urgent: the reply within 15 days, the duty to perform still two months
    tracker.update(clue, {"urgent": True})
    reply, perform = duties(tracker, clue)[1:]
    # 01-10 + 15 days = Sat 01-25; Sun 01-26 was a 调休 working day in 2025
    assert (reply[3], perform[3]) == (date(2025, 1, 26), date(2025, 3, 10))


def test_show_json_lists_duties_with_exactly_the_contract_keys(cli, tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-03")
    tracker.update(ref, {"stage": "accepted", "on": "2025-03-04"})
    shown = cli.json("show", ref)
    assert [list(d) for d in shown["duties"]] == [DUTY_KEYS, DUTY_KEYS]
    flags = {"right": False, "local": False, "provisional": False}
    assert shown["duties"] == [
        {"name": "decide-filing", "stage": "sent", "holder": "gaj", "started_on": "2025-03-03",
         "due_on": "2025-03-06", "met_on": None, "state": "waived", **flags},
        {"name": "decide-filing", "stage": "accepted", "holder": "gaj",
         "started_on": "2025-03-04", "due_on": "2025-03-07", "met_on": None, "state": "open",
         **flags}]
    table = cli("show", ref, "--format", "table").stdout
    assert "Duties of R1" in table and "作出是否立案的决定" in table and "免除" in table
    plain = cli("show", ref, "--format", "plain").stdout.split("\n\n")[-1].splitlines()
    assert plain[0].split("\t") == DUTY_KEYS
    assert plain[1].split("\t") == ["decide-filing", "sent", "gaj", "2025-03-03",
                                    "2025-03-06", "", "waived", "false", "false", "false"]


# -- what the due date depends on recomputes it ---------------------------------------------------


def test_urgency_recomputes_the_reply_and_is_logged(tracker, make_item):
    ident = make_item("suggestion", type="public-interest", unit="sthjj", opened_on="2025-03-03")
    assert show(tracker, ident)["due_on"] == date(2025, 5, 6)  # 2 months (3 May: holiday)
    tracker.update(ident, {"urgent": True})
    assert show(tracker, ident)["due_on"] == date(2025, 3, 18)  # 15 days
    logged = [h for h in tracker.history(ident) if h["action"] == "recompute"]
    assert [(h["field"], h["old"], h["new"]) for h in logged] == [
        ("duty:reply.due_on", "2025-05-06", "2025-03-18")]
    # a due date the document fixed is not recomputed
    tracker.update(ident, {"due_on": "2025-04-01"})
    tracker.update(ident, {"urgent": False})
    assert show(tracker, ident)["due_on"] == date(2025, 4, 1)


def test_direction_change_recomputes_the_clock(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-03")
    assert show(tracker, ref)["due_on"] == date(2025, 3, 6)
    tracker.update(ref, {"direction": "to-admin"})
    row = show(tracker, ref)
    assert row["due_on"] == date(2025, 5, 6)  # two months (3 May is a holiday weekend)
    assert [(d[0], d[4]) for d in duties(tracker, ref)] == [("decide-filing", "waived"),
                                                           ("reply", "open")]


def test_changing_the_receiving_unit_moves_the_duty(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-03")
    tracker.update(ref, {"unit": "jcy"})
    assert show(tracker, ref)["unit"] == "jcy"
    assert duties(tracker, ref)[0][2] == "jcy"


# -- late is recorded, whoever it was ----------------------------------------------------------


def test_a_late_reconsideration_decision_is_a_late_duty(tracker, make_item):
    ref = make_item("referral", opened_on="2025-01-20")
    tracker.update(ref, {"stage": "not-filed", "on": "2025-01-23"})
    tracker.update(ref, {"stage": "reconsideration", "on": "2025-01-30"})  # due 02-02 (Sun →
    tracker.update(ref, {"stage": "reconsidered", "on": "2025-02-06"})     # 03? see below)
    listed = duties(tracker, ref)
    decided = next(d for d in listed if d[0] == "decide-reconsideration")
    assert decided[4] == "late"
    rows = tracker.summary(TODAY, None, None)
    assert unit_row(rows, "gaj")["late"] == 1
    # the sending unit then holds three days to ask the procuratorate for 立案监督
    assert listed[-1][:3] == ("request-supervision", "reconsidered", "scjgj")


def test_supervision_and_filing_notice_run_from_the_notice(tracker, make_item):
    ref = make_item("referral", opened_on="2025-01-02")
    tracker.update(ref, {"stage": "supervision", "on": "2025-03-03"})
    assert show(tracker, ref)["due_on"] == date(2025, 3, 10)  # 7 days from receipt
    tracker.update(ref, {"stage": "filing-notice", "on": "2025-03-05"})
    row = show(tracker, ref)
    assert (row["due_on"], row["unit"]) == (date(2025, 3, 20), "gaj")  # 15 days to file


# -- the summary judges duties -------------------------------------------------------------------


def test_withdrawn_referral_is_not_late_against_the_police(tracker, make_item):
    ref = make_item("referral", opened_on="2025-01-02")  # due 01-06
    tracker.close(ref, "withdrawn", "2025-02-01")
    gaj = unit_row(tracker.summary(TODAY, None, None), "gaj")
    assert (gaj["late"], gaj["waived"], gaj["rate"]) == (0, 1, None)


def test_reopening_keeps_an_earlier_late_reply(tracker, make_item):
    ident = make_item("suggestion", opened_on="2025-01-02")  # due 2025-03-03
    tracker.reply(ident, "2025-03-05")
    tracker.close(ident, "adopted", "2025-03-06")
    tracker.reopen(ident, "整改不到位")
    rsj = unit_row(tracker.summary(TODAY, None, None), "rsj")
    assert rsj["late"] == 1


def test_never_answering_scores_no_better_than_answering_late(tracker, make_item):
    make_item("suggestion", opened_on="2024-12-02")  # due 2025-02-05, never answered
    rsj = unit_row(tracker.summary(TODAY, None, None), "rsj")
    assert (rsj["overdue"], rsj["rate"]) == (1, 0.0)


def test_summary_window_applies_to_every_column(tracker, make_item):
    make_item("suggestion", opened_on="2024-12-02")  # due 2025-02-05, overdue
    make_item("suggestion", opened_on="2025-01-06")  # due 2025-03-06, overdue
    rows = tracker.summary(TODAY, date(2025, 3, 1), date(2025, 3, 31))
    assert unit_row(rows, "rsj")["overdue"] == 1


# -- one meaning of --as-of ----------------------------------------------------------------------


def test_as_of_judges_each_duty_at_that_day(tracker, make_item, cli):
    early = make_item("suggestion", opened_on="2025-01-02")  # due 03-03
    tracker.reply(early, "2025-03-05")  # met late, two days after
    make_item("suggestion", opened_on="2025-03-05", title="后来的建议")
    # On 03-04 the reply was still owed and overdue; the later item did not exist yet.
    assert [r["id"] for r in cli.json("list", "--as-of", "2025-03-04")] == [early]
    assert [(r["id"], r["days_overdue"]) for r in cli.json(
        "report", "overdue", "--as-of", "2025-03-04")] == [(early, 1)]
    assert cli.json("report", "overdue") == []
    summary = cli.json("report", "summary", "--as-of", "2025-03-04")
    assert (unit_row(summary, "rsj")["overdue"], unit_row(summary, "rsj")["late"]) == (1, 0)
    today = cli.json("report", "summary")
    assert (unit_row(today, "rsj")["late"], unit_row(today, "rsj")["open"]) == (1, 1)
    soon = cli.json("report", "due-soon", "--as-of", "2025-02-28", "--within", "7")
    assert [r["id"] for r in soon] == [early]


def test_as_of_shows_the_holder_of_that_day(tracker, make_item, cli):
    ref = make_item("referral", opened_on="2025-02-20")
    tracker.update(ref, {"stage": "not-filed", "on": "2025-03-03"})
    assert [(r["id"], r["unit"]) for r in cli.json("report", "overdue", "--as-of",
                                                  "2025-02-25")] == [(ref, "gaj")]
    # From 03-03 the sending unit holds a right: never overdue, but it is who may act.
    assert cli.json("report", "overdue") == []
    assert [(r["id"], r["unit"], r["right"]) for r in cli.json("list", "--as-of",
                                                              "2025-03-04")] == [
        (ref, "scjgj", True)]


def test_the_past_and_the_present_paths_agree_today(tracker, make_item):
    """Lists at a day before today are rebuilt from duties; from today on they read the item
    row. At the same records both must give the same answer."""
    from fujian.service.queries import Filters, iter_items

    ref = make_item("referral", opened_on="2025-02-20")
    tracker.update(ref, {"stage": "not-filed", "on": "2025-03-03"})
    sug = make_item("suggestion", type="public-interest", unit="sthjj", opened_on="2025-01-06")
    tracker.reply(sug, "2025-02-01")
    make_item("action", due_on="2025-03-01",
              meeting=tracker.add("meeting", {"title": "会", "opened_on": "2025-02-01"}).ident)
    make_item("clue", opened_on="2025-01-02")
    with tracker.store.engine.connect() as conn:
        fast = list(iter_items(conn, Filters(), TODAY, TODAY))
        rebuilt = list(iter_items(conn, Filters(), TODAY, date(2025, 3, 11)))
    keys = ("id", "unit", "due_on", "status", "days_overdue")
    assert [[r[k] for k in keys] for r in fast] == [[r[k] for k in keys] for r in rebuilt]


# -- clocks that stop ------------------------------------------------------------------------


def to_admin(make_item, opened_on):
    """A to-admin referral: its two months to reply are a local rule (刑诉法 第一百七十七条第三款
    says 及时), so the district may stop its clock."""
    return make_item("referral", direction="to-admin", from_unit="jcy", unit="rsj",
                     opened_on=opened_on)


def test_a_statutory_clock_cannot_be_paused(tracker, make_item, cli):
    # 《人民检察院检察建议工作规定》第十九条 sets two months and no ground to stop them; the
    # 公益诉讼办案规则 articles govern the procuratorate's own handling time.
    ident = make_item("suggestion", opened_on="2025-01-02")
    result = cli("suggestion", "update", ident, "--pause", "--reason", "鉴定")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {ident}: the law does not stop the clock of 书面回复 (rsj); a period the "
        "document sets is recorded with --due DATE --reason TEXT."]
    assert show(tracker, ident)["paused_on"] is None
    assert [h["action"] for h in tracker.history(ident)] == ["create"]


def test_pause_and_resume(tracker, make_item, cli):
    ident = to_admin(make_item, "2025-01-02")  # due 2025-03-03
    with pytest.raises(BadInput, match="--reason"):
        tracker.update(ident, {"pause": True})
    tracker.update(ident, {"pause": True, "reason": "鉴定", "on": "2025-02-20"})
    row = show(tracker, ident)
    assert row["paused_on"] == date(2025, 2, 20)
    assert overdue_ids(tracker) == []  # not overdue while paused
    assert cli.json("list")[0]["paused_on"] == "2025-02-20"
    with pytest.raises(BadInput, match="paused"):
        tracker.update(ident, {"stage": "replied"})
    with pytest.raises(BadInput, match="already paused"):
        tracker.update(ident, {"pause": True, "reason": "x"})
    tracker.update(ident, {"resume": True, "on": "2025-03-10", "reason": "鉴定意见已出"})
    # the period ends Sunday 03-02 (due Monday 03-03); 18 days stood still: 03-02 + 18 = 03-20
    row = show(tracker, ident)
    assert (row["paused_on"], row["due_on"]) == (None, date(2025, 3, 20))
    history = tracker.history(ident)
    assert [(h["action"], h["reason"]) for h in history if h["action"] in ("pause",
                                                                          "resume")][:2] == [
        ("pause", "鉴定"), ("resume", "鉴定意见已出")]
    with pytest.raises(BadInput, match="not paused"):
        tracker.update(ident, {"resume": True})


def test_resume_rolls_off_a_rest_day(tracker, make_item):
    ident = to_admin(make_item, "2025-01-02")  # ends Sun 03-02, due Mon 03-03
    tracker.update(ident, {"pause": True, "reason": "中止审查", "on": "2025-03-01"})
    tracker.update(ident, {"resume": True, "on": "2025-03-07"})  # 6 days → Sat 03-08
    assert show(tracker, ident)["due_on"] == date(2025, 3, 10)


# -- meetings ----------------------------------------------------------------------------------


def test_meeting_follows_its_action_items(tracker, make_item):
    meeting = make_item("meeting", opened_on="2025-03-01")
    a1 = make_item("action", meeting=meeting)
    tracker.close(a1, "done", "2025-03-08")
    row = show(tracker, meeting)
    assert (row["status"], row["outcome"], row["closed_on"]) == ("closed", "done",
                                                                  date(2025, 3, 8))
    tracker.reopen(a1, "未完成")
    assert show(tracker, meeting)["status"] == "open"


def test_a_pause_moves_the_periods_own_end_not_the_rolled_date(tracker, make_item):
    # 15 Jan + 2 months = Saturday 15 Mar, due Monday 17 Mar; five days not counted give
    # Thursday 20 Mar (15 + 5), not Monday 24 Mar (17 + 5 = Saturday 22, rolled).
    ident = to_admin(make_item, "2025-01-15")
    assert show(tracker, ident)["due_on"] == date(2025, 3, 17)
    tracker.update(ident, {"pause": True, "reason": "鉴定", "on": "2025-02-01"})
    tracker.update(ident, {"resume": True, "on": "2025-02-06"})
    assert show(tracker, ident)["due_on"] == date(2025, 3, 20)
    # a corrected opening date keeps the days the pause did not count: 14 Jan + 2m + 5 = 19 Mar
    tracker.update(ident, {"opened_on": "2025-01-14", "reason": "录入错误"})
    assert show(tracker, ident)["due_on"] == date(2025, 3, 19)


def test_a_period_that_had_run_out_is_not_paused(tracker, make_item):
    ident = to_admin(make_item, "2024-12-31")  # due Fri 2025-02-28
    tracker.update(ident, {"pause": True, "reason": "鉴定", "on": "2025-03-03"})
    tracker.update(ident, {"resume": True, "on": "2025-03-07"})
    assert show(tracker, ident)["due_on"] == date(2025, 2, 28)  # still late, as late as before
