"""Who was late, by law (issue 19): a right (可以) is never a late duty, a duty is met by its
holder's own act, a refusal is never "on time". Each test is one of the cases the issue found
naming the wrong unit or giving the wrong verdict, and names the article it rests on."""

from __future__ import annotations

from datetime import date

import pytest

from fujian.errors import BadInput

TODAY = date(2025, 3, 10)
LATER = date(2025, 12, 31)


def states(tracker, ident):
    return [(d["name"], d["holder"], d["state"]) for d in tracker.show(ident)["duties"]]


def unit_row(rows, code):
    return next(r for r in rows if r["group"] == "unit" and r["key"] == code)


def overdue(tracker, as_of):
    return [(r["id"], r["unit"], r["duty"]) for r in tracker.overdue(as_of)]


@pytest.fixture
def late_tracker(tracker):
    tracker.today = LATER  # events after the suite's TODAY are recorded
    return tracker


# -- rights: the sending unit's objection (310号令 第九条; 公安规定 第一百八十一条) ----------------


@pytest.mark.parametrize("objection", ["reconsideration", "supervision-requested"])
def test_either_objection_exercises_the_one_right(late_tracker, make_item, objection):
    # 310号令 第九条第一款: within 3 days the sending unit MAY ask the police for 复议, or propose
    # 立案监督 to the procuratorate directly. Either way the right is exercised, never late.
    ref = make_item("referral", opened_on="2025-03-03")
    late_tracker.update(ref, {"stage": "not-filed", "on": "2025-03-05"})
    late_tracker.update(ref, {"stage": objection, "on": "2025-03-20"})  # after the 3 days
    right = states(late_tracker, ref)[1]
    assert right == ("request-reconsideration", "scjgj", "exercised")
    assert "scjgj" not in [r["key"] for r in late_tracker.summary(LATER, None, None)
                           if r["group"] == "unit"]


def test_a_skipped_proposal_is_exercised_not_late(late_tracker, make_item):
    # Records that start later skip steps: going not-filed → supervision (the procuratorate's
    # notice) means the proposal was made; the right is exercised (刑诉规则 第五百五十七条).
    ref = make_item("referral", opened_on="2025-03-03")
    late_tracker.update(ref, {"stage": "not-filed", "on": "2025-03-05"})
    late_tracker.update(ref, {"stage": "supervision", "on": "2025-04-01"})
    assert states(late_tracker, ref)[1] == ("request-reconsideration", "scjgj", "exercised")


def test_the_right_after_reconsideration(late_tracker, make_item):
    # 310号令 第九条第二款: after the 复议 decision the sending unit MAY propose 立案监督 in 3
    # days: a right again, which lapses unused.
    ref = make_item("referral", opened_on="2025-03-03")
    for stage, on in (("not-filed", "2025-03-05"), ("reconsideration", "2025-03-06"),
                      ("reconsidered", "2025-03-07")):
        late_tracker.update(ref, {"stage": stage, "on": on})
    assert states(late_tracker, ref)[-1] == ("request-supervision", "scjgj", "lapsed")
    assert overdue(late_tracker, date(2025, 6, 1)) == []


# -- the 立案监督 chain: each step with its holder (刑诉规则 第五百五十七至五百六十三条) -----------


def test_the_supervision_chain_charges_each_holder_only_its_own_time(late_tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-03")
    late_tracker.update(ref, {"stage": "not-filed", "on": "2025-03-05"})
    # Day 2 the sending unit proposes 立案监督; the procuratorate examines it — no statutory
    # period (刑诉规则 第五百五十七至五百五十九条), so no due date and never overdue.
    late_tracker.update(ref, {"stage": "supervision-requested", "on": "2025-03-07"})
    row = late_tracker.show(ref)
    assert (row["unit"], row["duty"], row["due_on"]) == ("jcy", "examine-proposal", None)
    assert overdue(late_tracker, date(2025, 5, 1)) == []
    # The police receive the notice on 04-01: 7 days to explain (刑诉规则 第五百六十条), and
    # explain on day 5 — recorded as the stage `explained`, which meets their duty.
    late_tracker.update(ref, {"stage": "supervision", "on": "2025-04-01"})
    assert late_tracker.show(ref)["due_on"] == date(2025, 4, 8)
    late_tracker.update(ref, {"stage": "explained", "on": "2025-04-07", "acted_on": "2025-04-06"})
    row = late_tracker.show(ref)
    # 刑诉规则 第五百六十一条第二款: the procuratorate then has 10 days (04-07 + 10 = 04-17).
    assert (row["unit"], row["duty"], row["due_on"]) == ("jcy", "review-explanation",
                                                          date(2025, 4, 17))
    assert states(late_tracker, ref) == [
        ("decide-filing", "gaj", "met"), ("request-reconsideration", "scjgj", "exercised"),
        ("examine-proposal", "jcy", "met"), ("explain-not-filing", "gaj", "met"),
        ("review-explanation", "jcy", "open")]
    # 刑诉规则 第五百六十三条: notified to file, the police have 15 days.
    late_tracker.update(ref, {"stage": "filing-notice", "on": "2025-04-15"})
    assert (late_tracker.show(ref)["unit"], late_tracker.show(ref)["due_on"]) == (
        "gaj", date(2025, 4, 30))
    gaj = unit_row(late_tracker.summary(date(2025, 4, 16), None, None), "gaj")
    assert (gaj["on_time"], gaj["late"], gaj["unmet"]) == (2, 0, 0)


# -- a duty is met by its holder's act (310号令 第八、九条; 刑诉法 第一百零五条第三款) ---------------


def test_a_decision_dated_in_time_is_in_time_whenever_received(late_tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-03")  # decide by 03-06
    # Decided (不予立案) on 03-06, received by the sending unit on 03-07: the police were on
    # time; the sending unit's 3 days run from its receipt.
    late_tracker.update(ref, {"stage": "not-filed", "on": "2025-03-07", "acted_on": "2025-03-06"})
    duties = late_tracker.show(ref)["duties"]
    assert (duties[0]["state"], duties[0]["met_on"]) == ("met", date(2025, 3, 6))
    assert (duties[1]["started_on"], duties[1]["due_on"]) == (date(2025, 3, 7),
                                                              date(2025, 3, 10))
    # Without --acted-on the receipt stands for the act: the same decision would be late.
    other = make_item("referral", opened_on="2025-03-03")
    late_tracker.update(other, {"stage": "not-filed", "on": "2025-03-07"})
    assert late_tracker.show(other)["duties"][0]["state"] == "late"


def test_acted_on_is_checked(cli, initialised, later):
    cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
        "--title", "t", "--on", "2025-03-03")
    for args, message in (
            (["--acted-on", "2025-03-08"], "is after --on 2025-03-07"),
            (["--acted-on", "2025-03-01"], "is before R1's duty decide-filing began"),
            (["--acted-on", ""], "--acted-on must not be empty")):
        r = cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-07", *args)
        assert r.exit_code == 2 and message in r.stderr and r.stderr.count("\n") == 1, r.stderr
    r = cli("referral", "update", "R1", "--acted-on", "2025-03-06")
    assert r.exit_code == 2 and "--acted-on dates the act" in r.stderr
    assert cli.json("show", "R1")["stage"] == "sent"
    assert [h["action"] for h in cli.json("history", "R1")] == ["create"]


def test_close_judges_on_the_act(late_tracker, make_item):
    # A suggestion's reply dated 03-03 (the last day: 《检察建议工作规定》第十九条), received and
    # closed on 03-07: replied in time.
    sug = make_item("suggestion", opened_on="2025-01-02")  # due 03-03
    late_tracker.close(sug, "adopted", "2025-03-07", acted_on="2025-03-03")
    assert states(late_tracker, sug) == [("reply", "rsj", "met")]


# -- refusal and non-performance are unmet ----------------------------------------------------------


@pytest.mark.parametrize(("outcome", "perform"), [("rejected", "unmet"), ("partly", "unmet"),
                                                   ("adopted", "met")])
def test_a_public_interest_suggestion_not_adopted_leaves_perform_unmet(late_tracker, make_item,
                                                                       outcome, perform):
    # 两高《检察公益诉讼解释》第二十一条第二款: not performing within 2 months is what the
    # procuratorate sues on; replying "未采纳" does not meet the duty to perform.
    sug = make_item("suggestion", type="public-interest", unit="sthjj", opened_on="2025-01-02")
    late_tracker.reply(sug, "2025-02-10")
    late_tracker.close(sug, outcome, "2025-02-20")
    assert states(late_tracker, sug) == [("reply", "sthjj", "met"),
                                         ("perform", "sthjj", perform)]
    sthjj = unit_row(late_tracker.summary(LATER, None, None), "sthjj")
    assert (sthjj["on_time"], sthjj["unmet"], sthjj["rate"]) == (
        (1, 1, 0.5) if perform == "unmet" else (2, 0, 1.0))


def test_a_suit_means_the_organ_did_not_perform(late_tracker, make_item):
    # 行政诉讼法 第二十五条第四款: the procuratorate sues because the organ did not perform: its
    # open reply and duty to perform end unmet, not "performed late".
    clue = make_item("clue", opened_on="2025-01-02")
    late_tracker.update(clue, {"stage": "suggested", "to_unit": "swj", "on": "2025-01-10"})
    late_tracker.update(clue, {"stage": "litigating", "on": "2025-04-01"})
    assert states(late_tracker, clue)[1:] == [("reply", "swj", "unmet"),
                                              ("perform", "swj", "unmet")]
    swj = unit_row(late_tracker.summary(LATER, None, None), "swj")
    assert (swj["late"], swj["unmet"], swj["rate"]) == (0, 2, 0.0)


def test_refusing_never_scores_better_than_helping_late(late_tracker, make_item):
    # 人民检察院组织法 第二十一条: units shall assist. One unit helps 5 days late; another is 5
    # days late and then refuses: the refusal is unmet, never waived.
    helped = make_item("assist", opened_on="2025-03-03", unit="zjj")  # 10 working days: 03-17
    late_tracker.close(helped, "completed", "2025-03-24")
    refused = make_item("assist", opened_on="2025-03-03", unit="jtj")
    late_tracker.close(refused, "refused", "2025-03-24")
    obstructed = make_item("assist", opened_on="2025-03-03", unit="cgj")
    late_tracker.update(obstructed, {"stage": "obstructed", "on": "2025-03-05"})  # in time
    rows = late_tracker.summary(LATER, None, None)
    assert [(unit_row(rows, u)["late"], unit_row(rows, u)["unmet"], unit_row(rows, u)["waived"])
            for u in ("zjj", "jtj", "cgj")] == [(1, 0, 0), (0, 1, 0), (0, 1, 0)]
    assert unit_row(rows, "jtj")["rate"] == unit_row(rows, "zjj")["rate"] == 0.0


# -- acceptance does not hide delay (310号令 第七、八条) --------------------------------------------


def test_acceptance_after_the_stand_in_is_late(late_tracker, make_item):
    # The police sign the receipt on transfer: the transfer date stands in until acceptance is
    # recorded; accepting 24 days later leaves that duty late, not waived.
    late = make_item("referral", opened_on="2025-03-03")  # stand-in due 03-06
    late_tracker.update(late, {"stage": "accepted", "on": "2025-03-27"})
    assert states(late_tracker, late) == [("decide-filing", "gaj", "late"),
                                          ("decide-filing", "gaj", "open")]
    prompt = make_item("referral", opened_on="2025-03-03")
    late_tracker.update(prompt, {"stage": "accepted", "on": "2025-03-04"})
    assert states(late_tracker, prompt)[0] == ("decide-filing", "gaj", "waived")


# -- a clue's urgent reply is recorded on its own (两高解释 第二十一条第二款) ------------------------


def test_a_clue_reply_meets_the_reply_and_performance_runs_on(late_tracker, make_item, cli):
    clue = make_item("clue", opened_on="2025-01-02", urgent=True)
    late_tracker.update(clue, {"stage": "suggested", "to_unit": "swj", "on": "2025-01-10"})
    assert late_tracker.show(clue)["due_on"] == date(2025, 1, 26)  # 15 days (26th: 调休 workday)
    late_tracker.reply(clue, "2025-01-20")
    row = late_tracker.show(clue)
    assert (row["stage"], row["duty"], row["due_on"]) == ("suggested", "perform",
                                                          date(2025, 3, 10))
    assert states(late_tracker, clue)[1:] == [("reply", "swj", "met"),
                                              ("perform", "swj", "open")]
    assert overdue(late_tracker, date(2025, 2, 1)) == []
    assert late_tracker.reply(clue, "2025-01-21").changed is False  # already recorded


def test_clue_reply_cli(cli, initialised, later):
    cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "t", "--on",
        "2025-01-02")
    r = cli("clue", "reply", "C1", "--on", "2025-01-20")
    assert r.exit_code == 2 and "C1 has no open duty reply" in r.stderr
    cli("clue", "update", "C1", "--stage", "suggested", "--to", "swj", "--on", "2025-01-10")
    r = cli("clue", "reply", "C1", "--on", "2025-01-20", "--acted-on", "2025-01-18")
    assert (r.exit_code, r.stderr) == (0, "reply (swj): met on time.\n"
                                          "Recorded the reply to C1.\n")
    reply = cli.json("show", "C1")["duties"][1]
    assert (reply["name"], reply["state"], reply["met_on"]) == ("reply", "met", "2025-01-18")
    r = cli("clue", "reply", "C1", "--on", "2025-01-21")
    assert (r.exit_code, r.stderr) == (0, "No change: the reply to C1 is already recorded.\n")


def test_met_without_a_stage_change(late_tracker, make_item):
    sug = make_item("suggestion", type="public-interest", unit="sthjj", opened_on="2025-01-02")
    late_tracker.update(sug, {"met": "依法履行职责", "on": "2025-02-01"})  # by its label
    assert states(late_tracker, sug) == [("reply", "sthjj", "open"),
                                         ("perform", "sthjj", "met")]
    with pytest.raises(BadInput, match="has no open duty perform"):
        late_tracker.update(sug, {"met": "perform", "on": "2025-02-02"})
    with pytest.raises(BadInput, match="Unknown duty"):
        late_tracker.update(sug, {"met": "nonsense"})


# -- a move back keeps the truth ---------------------------------------------------------------------


def test_moving_back_keeps_a_late_duty_and_says_so(cli, initialised, later):
    cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
        "--title", "t", "--on", "2025-01-02")
    cli("referral", "update", "R1", "--stage", "supervision", "--on", "2025-01-06")
    # The police's 7 days ran out on 01-13: 155 days late by mid-June.
    assert [r["id"] for r in cli.json("report", "overdue", "--as-of", "2025-06-17")] == ["R1"]
    r = cli("referral", "update", "R1", "--stage", "accepted", "--on", "2025-06-17")
    assert r.exit_code == 2 and "--reason" in r.stderr and r.stderr.count("\n") == 1
    assert cli.json("show", "R1")["stage"] == "supervision"
    r = cli("referral", "update", "R1", "--stage", "accepted", "--on", "2025-06-17",
            "--reason", "误录阶段")
    assert r.exit_code == 0, r.stderr
    assert r.stderr == "explain-not-filing (gaj): not met.\n"
    explain = cli.json("show", "R1")["duties"][-2]
    assert (explain["name"], explain["state"]) == ("explain-not-filing", "unmet")
    summary = {row["key"]: row for row in cli.json("report", "summary", "--as-of", "2025-06-17")}
    assert (summary["gaj"]["unmet"], summary["gaj"]["rate"]) == (1, 0.5)
    logged = [h for h in cli.json("history", "R1") if h["field"] == "duty:explain-not-filing.state"]
    assert [(h["old"], h["new"], h["reason"]) for h in logged] == [("open", "unmet", "误录阶段")]


def test_moving_back_before_the_due_date_waives(late_tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-03")
    late_tracker.update(ref, {"stage": "reconsideration", "on": "2025-03-05"})  # due 03-10
    out = late_tracker.update(ref, {"stage": "sent", "on": "2025-03-06", "reason": "录错"})
    assert [(e.duty, e.unit, e.state) for e in out.ended] == [
        ("decide-reconsideration", "gaj", "waived")]


# -- say what is owed ----------------------------------------------------------------------------------


def test_the_overdue_report_says_what_is_owed(cli, tracker, make_item):
    # Replied on time, but the duty to perform (两高解释 第二十一条第二款) ran out on 03-03.
    sug = make_item("suggestion", type="public-interest", unit="sthjj", opened_on="2025-01-02")
    tracker.reply(sug, "2025-02-10")
    rows = cli.json("report", "overdue")
    assert [(r["id"], r["stage"], r["duty"]) for r in rows] == [(sug, "replied", "perform")]
    table = cli("report", "overdue", "--format", "table").stdout
    assert "依法履行职责" in table
