"""Items of every kind through the service façade (:class:`fujian.service.Tracker`): add with the
default deadlines, update (stage clock, extensions), close, reopen, the change log, lists and
the refusals of bad input. Issue 3."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import clone_into

from fujian.errors import BadInput, NotFound
from fujian.kinds import KINDS
from fujian.service import Tracker
from fujian.service.queries import Filters
from fujian.storage import Store

TODAY = date(2025, 3, 10)


@pytest.fixture(scope="module")
def store_template(tmp_path_factory) -> Path:
    """A migrated database with the default units, made once per module (fast setup)."""
    path = tmp_path_factory.mktemp("template") / "fujian.db"
    template = Store(path)
    Tracker(template, TODAY, actor="tester").load_default_units()
    template.dispose()
    return path


@pytest.fixture
def store(db_path, store_template):
    """Overrides conftest's ``store``: a private copy of the template at FUJIAN_DB."""
    clone_into(store_template, db_path)
    s = Store(db_path)
    yield s
    s.dispose()


def show(tracker, ident):
    return tracker.show(ident)


def listed(tracker, **filters):
    return [row["id"] for row in tracker.items(Filters(**filters))]


def actions(tracker, ident):
    return [h["action"] for h in tracker.history(ident)]


# -- add: IDs and default deadlines ---------------------------------------------------------


def test_ids_are_numbered_per_kind_with_prefix(make_item):
    assert make_item("referral") == "R1"
    assert make_item("referral") == "R2"
    assert make_item("suggestion") == "S1"
    assert make_item("clue") == "C1"
    assert make_item("meeting") == "M1"
    # make_item("action") first makes its own meeting (M2)
    assert make_item("action") == "A1"
    assert make_item("meeting") == "M3"


def test_a_failed_add_does_not_use_up_a_number(tracker, make_item):
    assert make_item("referral") == "R1"
    with pytest.raises(BadInput):
        make_item("referral", title="   ")
    assert make_item("referral") == "R2"


@pytest.mark.parametrize(
    ("kind", "values", "due"),
    [
        # to-criminal: 3 days from sending; the start day is not counted
        ("referral", {"opened_on": "2025-03-01"}, "2025-03-04"),
        # 2025-03-09 is a Sunday: rolled to Monday
        ("referral", {"opened_on": "2025-03-06"}, "2025-03-10"),
        # 2025-05-03 falls in the Labour Day holiday (1-5 May): next working day is 6 May
        ("referral", {"opened_on": "2025-04-30"}, "2025-05-06"),
        # 2025-10-01 falls in the National Day holiday (1-8 Oct)
        ("referral", {"opened_on": "2025-09-28"}, "2025-10-09"),
        # to-admin: 2 months; 2025-03-15 is a Saturday
        ("referral", {"direction": "to-admin", "from_unit": "jcy", "unit": "scjgj",
                      "opened_on": "2025-01-15"}, "2025-03-17"),
        ("referral", {"direction": "to-admin", "from_unit": "jcy", "unit": "scjgj",
                      "opened_on": "2025-02-03"}, "2025-04-03"),
        # suggestion: 2 months, month-end clipped (31 Dec + 2 months = 28 Feb)
        ("suggestion", {"opened_on": "2024-12-31"}, "2025-02-28"),
        ("suggestion", {"opened_on": "2025-02-12"}, "2025-04-14"),  # 04-12 is a Saturday
        ("suggestion", {"type": "governance"}, "2025-05-12"),  # 05-10 is a Saturday
        ("suggestion", {"type": "public-interest"}, "2025-05-12"),
        ("suggestion", {"type": "public-interest", "urgent": True}, "2025-03-25"),
        # clue: 30 days (local rule)
        ("clue", {}, "2025-04-09"),
        ("clue", {"opened_on": "2025-03-01"}, "2025-03-31"),
    ],
)
def test_default_due_date_follows_the_rule_table(tracker, make_item, kind, values, due):
    opened = values.get("opened_on")
    if opened and date.fromisoformat(opened) > TODAY:
        tracker.today = date.fromisoformat(opened)  # an item cannot open in the future
    ident = make_item(kind, **values)
    row = show(tracker, ident)
    assert row["due_on"] == date.fromisoformat(due)
    assert row["opened_on"] == date.fromisoformat(values.get("opened_on", "2025-03-10"))


def test_add_returns_the_due_date(tracker):
    out = tracker.add("referral", {"direction": "to-criminal", "from_unit": "scjgj",
                                   "unit": "gaj", "title": "案", "opened_on": "2025-03-06"})
    assert out.ident == "R1"
    assert out.due_on == date(2025, 3, 10)


def test_explicit_due_overrides_the_rule(tracker, make_item):
    ident = make_item("suggestion", due_on="2025-03-31")
    assert show(tracker, ident)["due_on"] == date(2025, 3, 31)


def test_opening_date_defaults_to_today(tracker, make_item):
    for kind in KINDS:
        row = show(tracker, make_item(kind))
        assert row["opened_on"] == TODAY, kind
        assert row["status"] == "open"
        assert row["closed_on"] is None and row["outcome"] is None


def test_due_before_opening_is_refused(make_item):
    with pytest.raises(BadInput, match="before"):
        make_item("referral", opened_on="2025-03-05", due_on="2025-03-01")


def test_new_items_start_at_their_first_stage(tracker, make_item):
    assert show(tracker, make_item("referral"))["stage"] == "sent"
    assert show(tracker, make_item("referral", direction="to-admin"))["stage"] == "sent"
    assert show(tracker, make_item("suggestion"))["stage"] == "delivered"
    assert show(tracker, make_item("clue"))["stage"] == "received"
    assert show(tracker, make_item("meeting"))["stage"] == "held"
    assert show(tracker, make_item("action"))["stage"] == "open"


# -- kind fields ---------------------------------------------------------------------------


def test_referral_fields(tracker, make_item):
    ident = make_item("referral", party="张三 (某某药房)", enterprise=True,
                      doc_no="夏市监移〔2025〕1号", note="附材料")
    row = show(tracker, ident)
    assert row["kind"] == "referral"
    assert row["unit"] == "gaj"  # the receiving unit is responsible
    assert row["from_unit"] == "scjgj"
    assert row["direction"] == "to-criminal"
    assert row["party"] == "张三 (某某药房)"
    assert row["enterprise"] is True
    assert row["doc_no"] == "夏市监移〔2025〕1号"
    assert row["note"] == "附材料"


def test_referral_enterprise_defaults_to_false(tracker, make_item):
    row = show(tracker, make_item("referral"))
    assert row["enterprise"] is False
    assert row["party"] is None and row["doc_no"] is None


def test_units_by_chinese_name(tracker, make_item):
    ident = make_item("referral", from_unit="区市场监督管理局", unit="市公安局江夏区分局")
    row = show(tracker, ident)
    assert (row["from_unit"], row["unit"]) == ("scjgj", "gaj")


def test_suggestion_fields(tracker, make_item):
    row = show(tracker, make_item("suggestion", type="public-interest", urgent=True,
                                  doc_no="夏检行建〔2025〕3号"))
    assert row["type"] == "public-interest"
    assert row["urgent"] is True
    assert row["doc_no"] == "夏检行建〔2025〕3号"
    assert row["unit"] == "rsj"
    assert show(tracker, make_item("suggestion"))["urgent"] is False


def test_clue_fields_and_default_unit(tracker, make_item):
    row = show(tracker, make_item("clue", field="food-drug"))
    assert row["field"] == "food-drug"
    assert row["from_unit"] == "sthjj"
    assert row["unit"] == "jcy"
    assert show(tracker, make_item("clue", unit="fjb"))["unit"] == "fjb"


def test_meeting_fields_minutes_and_actions(tracker, make_item):
    minutes = "一、会议议定：\n1. 市场监管局开展专项检查。\n\t2. 😀"
    meeting = make_item("meeting", type="topic", attendees="gaj, 区人民检察院，gaj",
                        minutes=minutes, opened_on="2025-03-01")
    a1 = make_item("action", meeting=meeting.lower())
    a2 = make_item("action", meeting=meeting, unit="gaj")
    row = show(tracker, meeting)
    assert row["type"] == "topic"
    assert row["attendees"] == "gaj,jcy"  # codes, names resolved, duplicates dropped
    assert row["minutes"] == minutes
    assert row["actions"] == [a1, a2]
    assert row["unit"] == "fjb"
    assert row["due_on"] is None
    assert show(tracker, a1)["meeting"] == meeting


def test_meeting_type_defaults_to_plenary(tracker):
    ident = tracker.add("meeting", {"title": "会"}).ident
    assert show(tracker, ident)["type"] == "plenary"


def test_action_fields(tracker, make_item):
    meeting = make_item("meeting")
    ident = make_item("action", meeting=meeting, unit="gaj", due_on="2025-05-31")
    row = show(tracker, ident)
    assert row["meeting"] == meeting
    assert row["unit"] == "gaj"
    assert row["due_on"] == date(2025, 5, 31)


def test_action_needs_a_due_date(make_item):
    meeting = make_item("meeting")
    with pytest.raises(BadInput, match="--due"):
        make_item("action", meeting=meeting, due_on=None)


def test_action_needs_an_existing_meeting(make_item):
    with pytest.raises(NotFound, match="M9"):
        make_item("action", meeting="M9")
    ref = make_item("referral")
    with pytest.raises(BadInput, match="not of kind meeting"):
        make_item("action", meeting=ref)


def test_chinese_labels_are_accepted_for_codes(tracker, make_item):
    ref = make_item("referral", direction="正向移送")
    assert show(tracker, ref)["direction"] == "to-criminal"
    assert show(tracker, make_item("referral", direction="反向衔接"))["direction"] == "to-admin"
    clue = make_item("clue", field="生态环境和资源保护")
    assert show(tracker, clue)["field"] == "ecology"
    sug = make_item("suggestion", type="公益诉讼诉前检察建议")
    assert show(tracker, sug)["type"] == "public-interest"
    meeting = make_item("meeting", type="联络员会议")
    assert show(tracker, meeting)["type"] == "liaison"
    tracker.update(ref, {"stage": "已受理"})
    assert show(tracker, ref)["stage"] == "accepted"
    tracker.close(sug, "采纳")
    assert show(tracker, sug)["outcome"] == "adopted"


def test_codes_are_accepted_in_any_case(tracker, make_item):
    ref = make_item("referral", direction="TO-CRIMINAL")
    assert show(tracker, ref)["direction"] == "to-criminal"
    tracker.close(ref, "Filed")
    assert show(tracker, ref)["outcome"] == "filed"


def test_opening_date_may_be_a_date_or_any_accepted_form(tracker, make_item):
    assert show(tracker, make_item("clue", opened_on=date(2025, 3, 1)))["opened_on"] == \
        date(2025, 3, 1)
    assert show(tracker, make_item("clue", opened_on="2025年3月2日"))["opened_on"] == \
        date(2025, 3, 2)
    assert show(tracker, make_item("clue", opened_on="yesterday"))["opened_on"] == \
        date(2025, 3, 9)


@pytest.mark.parametrize(
    ("given", "stored"),
    [(True, True), (False, False), ("yes", True), ("是", True), ("1", True), ("TRUE", True),
     ("no", False), ("否", False), ("0", False), ("", False)],
)
def test_flags_accept_yes_no_words(tracker, make_item, given, stored):
    assert show(tracker, make_item("referral", enterprise=given))["enterprise"] is stored


def test_a_flag_that_is_not_yes_or_no_is_refused(make_item):
    with pytest.raises(BadInput, match="yes/no"):
        make_item("suggestion", type="public-interest", urgent="maybe")


def test_urgent_is_only_for_public_interest_suggestions(make_item):
    with pytest.raises(BadInput, match="public-interest"):
        make_item("suggestion", type="correction", urgent=True)


@pytest.mark.parametrize(
    ("kind", "missing", "message"),
    [("referral", "direction", "--direction"), ("referral", "unit", "--to"),
     ("referral", "from_unit", "--from"), ("suggestion", "type", "--type"),
     ("suggestion", "unit", "--to"), ("clue", "field", "--field"),
     ("clue", "from_unit", "--from"), ("action", "unit", "--unit"),
     ("action", "meeting", "--meeting")],
)
def test_required_values(tracker, make_item, kind, missing, message):
    values = {"meeting": make_item("meeting")} if kind == "action" else {}
    values[missing] = None
    with pytest.raises(BadInput) as info:
        make_item(kind, **values)
    assert message in info.value.message


def test_an_item_may_arrive_closed(tracker, make_item):
    ref = make_item("referral", opened_on="2025-02-01", status="closed", outcome="已立案",
                    closed_on="2025-02-05")
    row = show(tracker, ref)
    assert (row["status"], row["outcome"], row["closed_on"]) == \
        ("closed", "filed", date(2025, 2, 5))
    # A closed row must say when it closed: the tool never fills in a date nobody gave.
    with pytest.raises(BadInput, match="closed_on"):
        make_item("suggestion", status="已办结", outcome="adopted")
    sug = make_item("suggestion", status="已办结", outcome="adopted", closed_on="2025-03-10")
    assert (show(tracker, sug)["status"], show(tracker, sug)["closed_on"]) == ("closed", TODAY)
    # An open row may not carry an outcome or a closing date: it would be lost silently.
    with pytest.raises(BadInput, match="open item"):
        make_item("suggestion", outcome="adopted")
    with pytest.raises(BadInput, match="open item"):
        make_item("suggestion", status="open", closed_on="2025-03-01")
    assert show(tracker, make_item("clue", status="open"))["status"] == "open"
    with pytest.raises(BadInput, match="outcome"):
        make_item("referral", status="closed")
    with pytest.raises(BadInput, match="status"):
        make_item("referral", status="pending")
    with pytest.raises(BadInput, match="before"):
        make_item("referral", opened_on="2025-02-01", status="closed", outcome="filed",
                  closed_on="2025-01-31")


# -- bad input on add ------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["", "   ", "\t\n", None])
def test_empty_title_is_refused(make_item, title):
    with pytest.raises(BadInput, match="title"):
        make_item("suggestion", title=title)


@pytest.mark.parametrize(
    ("kind", "values", "what", "valid"),
    [
        ("referral", {"direction": "sideways"}, "direction", "to-criminal"),
        ("suggestion", {"type": "advice"}, "type", "public-interest"),
        ("clue", {"field": "space"}, "field", "ecology"),
        ("meeting", {"type": "party"}, "type", "plenary"),
    ],
)
def test_unknown_choice_lists_the_valid_ones(tracker, make_item, kind, values, what, valid):
    with pytest.raises(BadInput) as info:
        make_item(kind, **values)
    assert f"Unknown {what}" in info.value.message
    assert valid in info.value.message
    assert list(tracker.items(Filters(status="all"))) == []


@pytest.mark.parametrize(
    ("kind", "key"),
    [("referral", "unit"), ("referral", "from_unit"), ("suggestion", "unit"),
     ("clue", "from_unit"), ("clue", "unit"), ("action", "unit"), ("meeting", "attendees")],
)
def test_unknown_unit_is_refused(tracker, make_item, kind, key):
    with pytest.raises(NotFound, match="nosuch"):
        make_item(kind, **{key: "nosuch"})
    assert not [r for r in tracker.items(Filters(status="all")) if r["kind"] == kind]


def test_bad_input_changes_nothing(tracker, make_item, db_path, snapshot):
    ref = make_item("referral", opened_on="2025-03-01")
    meeting = make_item("meeting")
    make_item("action", meeting=meeting)
    before = snapshot(db_path)
    attempts = [
        lambda: make_item("referral", title=""),
        lambda: make_item("referral", unit="nosuch"),
        lambda: make_item("action", meeting="M42"),
        lambda: tracker.update(ref, {"title": "新标题", "stage": "bogus"}),
        lambda: tracker.update(ref, {"note": "x", "due_on": "2025-02-01"}),
        lambda: tracker.update("R99", {"title": "x"}),
        lambda: tracker.close(ref, "no-such-outcome"),
        lambda: tracker.close(ref, "filed", on="2025-02-28"),
        lambda: tracker.close(meeting, "done"),
        lambda: tracker.reopen(ref, "why"),
        lambda: tracker.reply(ref),
    ]
    for attempt in attempts:
        with pytest.raises(BadInput):
            attempt()
    assert snapshot(db_path) == before


# -- lookups ---------------------------------------------------------------------------------


def test_ids_in_any_letter_case(tracker, make_item):
    ident = make_item("referral")
    assert show(tracker, "r1")["id"] == ident
    assert show(tracker, " R1 ")["id"] == ident
    tracker.update("r1", {"note": "小写"})
    tracker.close("r1", "filed")
    tracker.reopen("r1", "再查")
    assert actions(tracker, "r1") == actions(tracker, "R1")
    assert actions(tracker, "r1")[-1] == "reopen"


def test_unknown_id(tracker, make_item):
    make_item("referral")
    for call in (lambda: tracker.show("R2"), lambda: tracker.history("S1"),
                 lambda: tracker.update("R2", {"note": "x"}),
                 lambda: tracker.close("R2", "filed"), lambda: tracker.reopen("R2", "x")):
        with pytest.raises(NotFound, match="R2|S1"):
            call()


@pytest.mark.parametrize("text", ["Z1", "R", "12", "R-1", "RR1", ""])
def test_malformed_id(tracker, text):
    with pytest.raises(BadInput, match="Not an item ID"):
        tracker.show(text)


def test_id_of_another_kind_is_refused_by_a_kind_command(tracker, make_item):
    sug = make_item("suggestion")
    with pytest.raises(BadInput, match="not of kind referral"):
        tracker.show(sug, KINDS["referral"])
    with pytest.raises(BadInput, match="not of kind referral"):
        tracker.close(sug, "adopted", kind=KINDS["referral"])
    with pytest.raises(BadInput, match="not of kind suggestion"):
        tracker.reply(make_item("referral"))
    assert show(tracker, sug)["status"] == "open"


# -- update: stages, clocks, extensions -------------------------------------------------------


def test_stage_change_restarts_the_clock(tracker, make_item):
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    ref = make_item("referral", opened_on="2025-03-01")
    out = tracker.update(ref, {"stage": "reconsideration", "on": "2025-03-20"})
    # 310号令 第九条第二款: 3 days to decide; 2025-03-23 is a Sunday
    assert out.due_on == date(2025, 3, 24)
    row = show(tracker, ref)
    assert (row["stage"], row["due_on"]) == ("reconsideration", date(2025, 3, 24))


@pytest.mark.parametrize(
    ("stage", "on", "due"),
    [("reconsideration", "2025-03-12", "2025-03-17"),  # 03-15 Saturday
     ("supervision", "2025-03-11", "2025-03-18"),  # 7 days
     ("explained", "2025-03-10", "2025-03-20"),  # 刑诉规则 第五百六十一条: 10 days
     ("filing-notice", "2025-03-10", "2025-03-25")],  # 15 days
)
def test_each_to_criminal_stage_has_its_period(tracker, make_item, stage, on, due):
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    ref = make_item("referral", opened_on="2025-03-01")
    tracker.update(ref, {"stage": stage, "on": on})
    assert show(tracker, ref)["due_on"] == date.fromisoformat(due)


def test_stage_change_defaults_to_today(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-01")
    tracker.update(ref, {"stage": "not-filed"})
    assert show(tracker, ref)["due_on"] == date(2025, 3, 13)


def test_acceptance_restarts_the_polices_three_days(tracker, make_item):
    # 310号令 第八条: three days from acceptance (接受); the sending date only stands in.
    ref = make_item("referral", opened_on="2025-03-01")
    tracker.update(ref, {"stage": "accepted", "on": "2025-03-03"})
    row = show(tracker, ref)
    assert (row["stage"], row["due_on"], row["unit"]) == ("accepted", date(2025, 3, 6), "gaj")
    assert [(d["stage"], d["state"]) for d in row["duties"]] == [
        ("sent", "waived"), ("accepted", "open")]


def test_stage_without_a_rule_keeps_the_due_date(tracker, make_item):
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    ident = make_item("suggestion", opened_on="2025-03-03")
    tracker.update(ident, {"stage": "objected", "on": "2025-03-20"})
    row = show(tracker, ident)
    assert (row["stage"], row["due_on"]) == ("objected", date(2025, 5, 6))
    assert [d["state"] for d in row["duties"]] == ["open"]


def test_stage_where_the_clock_stops_clears_the_due_date(tracker, make_item):
    ref = make_item("referral", direction="to-admin", opened_on="2025-01-15")
    tracker.update(ref, {"stage": "replied", "on": "2025-02-01"})
    row = show(tracker, ref)
    assert (row["stage"], row["due_on"]) == ("replied", None)


def test_stage_with_explicit_due(tracker, make_item):
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    ref = make_item("referral", opened_on="2025-03-01")
    tracker.update(ref, {"stage": "reconsideration", "on": "2025-03-20",
                         "due_on": "2025-03-28"})
    assert show(tracker, ref)["due_on"] == date(2025, 3, 28)


def test_stage_with_due_before_opening_is_refused(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-01")
    with pytest.raises(BadInput, match="before"):
        tracker.update(ref, {"stage": "accepted", "due_on": "2025-02-01"})
    assert show(tracker, ref)["due_on"] == date(2025, 3, 4)


def test_stage_date_before_opening_is_refused(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-05")
    with pytest.raises(BadInput, match="before"):
        tracker.update(ref, {"stage": "not-filed", "on": "2025-03-04"})
    assert show(tracker, ref)["stage"] == "sent"


def test_unknown_stage_lists_the_valid_ones(tracker, make_item):
    ref = make_item("referral", direction="to-admin")
    with pytest.raises(BadInput) as info:
        tracker.update(ref, {"stage": "accepted"})  # a to-criminal stage only
    assert "Unknown stage" in info.value.message
    assert "sent" in info.value.message and "replied" in info.value.message
    assert show(tracker, ref)["stage"] == "sent"


def test_stage_change_on_a_closed_item_is_refused(tracker, make_item):
    ref = make_item("referral")
    tracker.close(ref, "filed")
    with pytest.raises(BadInput, match="closed"):
        tracker.update(ref, {"stage": "accepted"})
    with pytest.raises(BadInput, match="closed"):
        tracker.update(ref, {"due_on": "2025-06-01"})


def test_moving_the_due_date_is_an_extension(tracker, make_item):
    ref = make_item("referral")
    out = tracker.update(ref, {"due_on": "2025-04-01", "reason": "补充材料"})
    assert out.due_on == date(2025, 4, 1)
    last = tracker.history(ref)[-1]
    assert last["action"] == "extend"
    assert (last["field"], last["old"], last["new"]) == ("due_on", "2025-03-13", "2025-04-01")
    assert last["reason"] == "补充材料"
    assert last["actor"] == "tester"
    # an extension does not change the stage
    assert show(tracker, ref)["stage"] == "sent"


def test_extension_before_opening_is_refused(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-05")
    with pytest.raises(BadInput, match="before"):
        tracker.update(ref, {"due_on": "2025-03-04"})


def test_suggestion_reply(tracker, make_item):
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    sug = make_item("suggestion", opened_on="2025-03-01")
    tracker.reply(sug.lower(), on="2025-03-20", note="已书面回复")
    row = show(tracker, sug)
    assert (row["stage"], row["due_on"], row["note"]) == ("replied", None, "已书面回复")
    assert row["status"] == "open"
    assert "stage" in actions(tracker, sug)


def test_suggestion_reply_refusals(tracker, make_item):
    sug = make_item("suggestion", opened_on="2025-03-05")
    with pytest.raises(BadInput, match="before"):
        tracker.reply(sug, on="2025-03-01")
    tracker.close(sug, "adopted")
    with pytest.raises(BadInput, match="closed"):
        tracker.reply(sug)


def test_update_title_note_and_fields(tracker, make_item):
    ref = make_item("referral")
    tracker.update(ref, {"title": "新标题", "note": "新备注", "party": "李四", "doc_no": "1号",
                         "enterprise": True, "unit": "jcy", "from_unit": "rsj"})
    row = show(tracker, ref)
    assert (row["title"], row["note"], row["party"], row["doc_no"]) == \
        ("新标题", "新备注", "李四", "1号")
    assert (row["enterprise"], row["unit"], row["from_unit"]) == (True, "jcy", "rsj")
    fields = {h["field"] for h in tracker.history(ref) if h["action"] == "update"}
    assert {"title", "party", "doc_no", "enterprise", "unit_id", "from_unit_id"} <= fields
    assert [h["new"] for h in tracker.history(ref) if h["action"] == "note"] == ["新备注"]


def test_update_suggestion_clue_meeting_action_fields(tracker, make_item):
    sug = make_item("suggestion")
    tracker.update(sug, {"type": "public-interest", "urgent": True, "doc_no": "D"})
    row = show(tracker, sug)
    assert (row["type"], row["urgent"], row["doc_no"]) == ("public-interest", True, "D")
    with pytest.raises(BadInput, match="public-interest"):  # urgency belongs to that type
        tracker.update(sug, {"type": "governance"})
    clue = make_item("clue")
    tracker.update(clue, {"field": "未成年人保护", "from_unit": "jyj"})
    row = show(tracker, clue)
    assert (row["field"], row["from_unit"]) == ("minors", "jyj")
    m1 = make_item("meeting")
    m2 = make_item("meeting")
    tracker.update(m1, {"attendees": "rsj,gaj", "type": "topic", "minutes": "纪要"})
    row = show(tracker, m1)
    assert (row["attendees"], row["type"], row["minutes"]) == ("rsj,gaj", "topic", "纪要")
    act = make_item("action", meeting=m1)
    tracker.update(act, {"meeting": m2})
    assert show(tracker, act)["meeting"] == m2


def test_update_with_nothing_to_change_logs_nothing(tracker, make_item):
    ref = make_item("referral")
    tracker.update(ref, {"title": "某公司销售假药案"})  # same title
    assert actions(tracker, ref) == ["create"]


@pytest.mark.parametrize("title", ["", "   "])
def test_update_to_an_empty_title_is_refused(tracker, make_item, title):
    ref = make_item("referral")
    with pytest.raises(BadInput, match="title"):
        tracker.update(ref, {"title": title})
    assert show(tracker, ref)["title"] == "某公司销售假药案"


def test_update_with_unknown_values_is_refused(tracker, make_item):
    ref = make_item("referral")
    for values in ({"unit": "nosuch"}, {"from_unit": "nosuch"}, {"direction": "up"},
                   {"due_on": "not a date"}):
        with pytest.raises(BadInput):
            tracker.update(ref, values)
    assert actions(tracker, ref) == ["create"]


def test_direction_change_must_keep_a_valid_stage(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-01")
    tracker.update(ref, {"stage": "not-filed", "on": "2025-03-05"})
    with pytest.raises(BadInput, match="stage"):
        tracker.update(ref, {"direction": "to-admin"})
    row = show(tracker, ref)
    assert (row["direction"], row["stage"]) == ("to-criminal", "not-filed")
    tracker.update(ref, {"direction": "to-admin", "stage": "sent", "on": "2025-03-05"})
    row = show(tracker, ref)
    assert (row["direction"], row["stage"], row["due_on"]) == ("to-admin", "sent",
                                                               date(2025, 5, 6))


# -- close and reopen ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values", "outcome"),
    [("referral", {}, "filed"), ("referral", {"direction": "to-admin"}, "penalized"),
     ("suggestion", {}, "partly"), ("clue", {}, "rectified"), ("action", {}, "cancelled")],
)
def test_close_records_outcome_and_date(tracker, make_item, kind, values, outcome):
    ident = make_item(kind, **values)
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    tracker.close(ident, outcome, on="2025-03-12", note="办结说明")
    row = show(tracker, ident)
    assert (row["status"], row["outcome"], row["closed_on"], row["note"]) == \
        ("closed", outcome, date(2025, 3, 12), "办结说明")
    assert ident not in listed(tracker)
    assert ident in listed(tracker, status="closed")


def test_close_defaults_to_today(tracker, make_item):
    ident = make_item("clue")
    tracker.close(ident, "不立案")
    row = show(tracker, ident)
    assert (row["closed_on"], row["outcome"]) == (TODAY, "not-filed")


def test_outcome_must_belong_to_the_kind_and_subtype(tracker, make_item):
    ref = make_item("referral")  # to-criminal
    with pytest.raises(BadInput) as info:
        tracker.close(ref, "penalized")  # a to-admin outcome
    assert "Unknown outcome" in info.value.message
    for code in ("filed", "not-filed", "returned", "withdrawn"):
        assert code in info.value.message
    with pytest.raises(BadInput, match="adopted"):
        tracker.close(make_item("suggestion"), "done")
    assert show(tracker, ref)["status"] == "open"


def test_closing_a_closed_item_is_refused(tracker, make_item):
    ref = make_item("referral")
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    tracker.close(ref, "filed", on="2025-03-11")
    with pytest.raises(BadInput, match="already closed"):
        tracker.close(ref, "withdrawn")
    row = show(tracker, ref)
    assert (row["outcome"], row["closed_on"]) == ("filed", date(2025, 3, 11))


def test_close_date_before_opening_is_refused(tracker, make_item):
    ref = make_item("referral", opened_on="2025-03-05")
    with pytest.raises(BadInput, match="before"):
        tracker.close(ref, "filed", on="2025-03-04")
    tracker.close(ref, "filed", on="2025-03-05")  # the same day is fine
    assert show(tracker, ref)["closed_on"] == date(2025, 3, 5)


def test_reopen(tracker, make_item):
    ref = make_item("referral")
    tracker.close(ref, "filed")
    tracker.reopen(ref, "公安机关撤销立案")
    row = show(tracker, ref)
    assert (row["status"], row["outcome"], row["closed_on"]) == ("open", None, None)
    assert row["due_on"] == date(2025, 3, 13)
    assert tracker.history(ref)[-1]["reason"] == "公安机关撤销立案"
    assert ref in listed(tracker)


def test_reopening_an_open_item_is_refused(tracker, make_item):
    ref = make_item("referral")
    with pytest.raises(BadInput, match="open"):
        tracker.reopen(ref, "why")
    assert actions(tracker, ref) == ["create"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_reopen_needs_a_reason(tracker, make_item, reason):
    ref = make_item("referral")
    tracker.close(ref, "filed")
    with pytest.raises(BadInput, match="reason"):
        tracker.reopen(ref, reason)
    assert show(tracker, ref)["status"] == "closed"


def test_meeting_with_open_actions_cannot_close(tracker, make_item):
    meeting = make_item("meeting")
    a1 = make_item("action", meeting=meeting)
    a2 = make_item("action", meeting=meeting)
    a3 = make_item("action", meeting=meeting)
    other = make_item("action")  # belongs to another meeting
    tracker.close(a2, "done")
    with pytest.raises(BadInput) as info:
        tracker.close(meeting, "done")
    message = info.value.message
    assert a1 in message and a3 in message
    assert a2 not in message and other not in message
    assert show(tracker, meeting)["status"] == "open"
    tracker.close(a1, "done")
    assert show(tracker, meeting)["status"] == "open"
    tracker.close(a3, "cancelled")
    # The last open action item closed: the meeting closes itself, and says why.
    row = show(tracker, meeting)
    assert (row["status"], row["outcome"], row["closed_on"]) == ("closed", "done", TODAY)
    closing = [h for h in tracker.history(meeting) if h["action"] == "close"]
    assert closing and all(a3 in h["reason"] for h in closing)


def test_a_closed_meeting_gets_no_open_action_items(tracker, make_item, db_path, snapshot):
    closed = make_item("meeting")
    act = make_item("action", meeting=closed)
    tracker.close(act, "done")
    assert show(tracker, closed)["status"] == "closed"  # closed itself with its last item
    other = make_item("meeting")
    moving = make_item("action", meeting=other)
    before = snapshot(db_path)
    with pytest.raises(BadInput, match=f"{closed} is closed"):
        make_item("action", meeting=closed)
    with pytest.raises(BadInput, match=f"{closed} is closed"):
        tracker.update(moving, {"meeting": closed})
    assert snapshot(db_path) == before
    # reopening an action item reopens its meeting, logged with the reason
    tracker.reopen(act, "未完成")
    assert show(tracker, act)["status"] == "open"
    assert show(tracker, closed)["status"] == "open"
    assert tracker.history(closed)[-1]["action"] == "reopen"
    assert act in tracker.history(closed)[-1]["reason"]
    # a closed action item may still be recorded under a closed meeting (and edited)
    tracker.close(act, "done")
    assert show(tracker, closed)["status"] == "closed"
    done = make_item("action", meeting=closed, status="closed", outcome="done",
                     closed_on="2025-03-10")
    tracker.update(done, {"title": "改"})
    assert show(tracker, done)["status"] == "closed"


# -- change log --------------------------------------------------------------------------------


def test_history_of_a_whole_life(tracker, make_item):
    tracker.today = date(2025, 12, 31)  # events after TODAY are recorded
    ref = make_item("referral", opened_on="2025-03-01")
    tracker.update(ref, {"stage": "explained", "on": "2025-03-05"})
    tracker.update(ref, {"due_on": "2025-03-20"})
    tracker.update(ref, {"title": "改名"})
    tracker.close(ref, "returned", on="2025-03-21")
    tracker.reopen(ref, "复查")
    history = tracker.history(ref)
    assert [h["action"] for h in history] == [
        "create", "stage", "stage", "stage", "stage", "extend", "update", "close", "close",
        "close", "reopen", "reopen", "reopen"]
    assert {h["actor"] for h in history} == {"tester"}
    stage_changes = {h["field"]: (h["old"], h["new"]) for h in history if h["action"] == "stage"}
    assert stage_changes == {"stage": ("sent", "explained"),
                             "due_on": ("2025-03-04", "2025-03-17"),
                             "stage_on": ("2025-03-01", "2025-03-05"),
                             # 刑诉规则 第五百六十一条: the procuratorate's 10 days now (by its code)
                             "holder_id": ("gaj", "jcy")}
    closes = {h["field"]: h["new"] for h in history if h["action"] == "close"}
    assert closes == {"status": "closed", "outcome": "returned", "closed_on": "2025-03-21"}
    assert history[-1]["reason"] == "复查"
    stamps = [h["at"] for h in history]
    assert stamps == sorted(stamps)


def test_history_create_entry_holds_the_item(tracker, make_item):
    import json

    ref = make_item("referral", title="标题😀", party="王五")
    create = tracker.history(ref)[0]
    assert create["action"] == "create"
    data = json.loads(create["new"])
    assert data["title"] == "标题😀"
    assert data["party"] == "王五"
    assert data["stage"] == "sent"


def test_history_actor_is_the_trackers_actor(store, make_item):
    ref = make_item("referral")
    other = Tracker(store, TODAY, actor="alice")
    other.update(ref, {"note": "n"})
    assert [h["actor"] for h in other.history(ref)] == ["tester", "alice"]


def test_history_is_per_item(tracker, make_item):
    r1 = make_item("referral")
    r2 = make_item("referral")
    tracker.update(r2, {"note": "x"})
    assert actions(tracker, r1) == ["create"]
    assert actions(tracker, r2) == ["create", "note"]


# -- Unicode -----------------------------------------------------------------------------------

TEXTS = [
    "某公司销售假药案",
    "排污😀🏭 emoji",
    "引号 \"double\" 'single' 「」《》“”",
    "第一行\n第二行\r\n第三行",
    "制表\t符\t",
    "  前后空格  ",
    "反斜杠 \\n 不是换行 \\",
    "零宽\u200b连接\u200d符 ‮RTL",
    "𠀀𪚥 扩展区汉字",
]


@pytest.mark.parametrize("text", TEXTS)
def test_unicode_round_trip(tracker, make_item, text):
    ref = make_item("referral", title=text, note=text, party=text, doc_no=text)
    row = show(tracker, ref)
    assert (row["title"], row["note"], row["party"], row["doc_no"]) == (text, text, text, text)
    tracker.close(ref, "filed", note=text + "!")
    assert show(tracker, ref)["note"] == text + "!"
    tracker.reopen(ref, text)
    assert tracker.history(ref)[-1]["reason"] == text


# -- lists -------------------------------------------------------------------------------------


@pytest.fixture
def several(tracker, make_item):
    """R1 due 03-04 (overdue), S1 due 05-12, C1 due 04-09, M1 (no due), A1 due 04-30,
    R2 closed, R3 to gaj due 03-13."""
    ids = {
        "r1": make_item("referral", opened_on="2025-03-01"),
        "s1": make_item("suggestion"),
        "c1": make_item("clue"),
        "m1": make_item("meeting", opened_on="2025-02-20"),
    }
    ids["a1"] = make_item("action", meeting=ids["m1"])
    ids["r2"] = make_item("referral", opened_on="2025-02-01")
    tracker.close(ids["r2"], "filed", on="2025-02-03")
    ids["r3"] = make_item("referral", opened_on="2025-03-10")
    return ids


def test_list_defaults_to_open_by_due_date(tracker, several):
    assert listed(tracker) == ["R1", "R3", "C1", "A1", "S1", "M1"]


def test_list_by_status(tracker, several):
    assert listed(tracker, status="closed") == ["R2"]
    assert sorted(listed(tracker, status="all")) == ["A1", "C1", "M1", "R1", "R2", "R3", "S1"]


def test_list_by_kind_and_unit(tracker, several):
    assert listed(tracker, kinds=(KINDS["referral"],), status="all") == ["R2", "R1", "R3"]
    assert listed(tracker, unit_id=tracker.unit_id("gaj")) == ["R1", "R3"]
    assert listed(tracker, unit_id=tracker.unit_id("jcy")) == ["C1"]


def test_list_overdue_as_of(tracker, several):
    assert listed(tracker, overdue_as_of=TODAY) == ["R1"]
    assert listed(tracker, overdue_as_of=date(2025, 3, 13)) == ["R1"]  # due that day: not late
    assert listed(tracker, overdue_as_of=date(2025, 3, 14)) == ["R1", "R3"]
    assert listed(tracker, overdue_as_of=date(2025, 12, 31)) == ["R1", "R3", "C1", "A1", "S1"]


def test_list_days_overdue(tracker, several):
    rows = {r["id"]: r for r in tracker.items(Filters(), as_of=date(2025, 3, 14))}
    assert rows["R1"]["days_overdue"] == 10
    assert rows["R3"]["days_overdue"] == 1
    assert rows["S1"]["days_overdue"] == 0
    assert rows["M1"]["days_overdue"] == 0


def test_list_sort_and_limit(tracker, several):
    # ties (same opening date) by kind, then number; A1 opens on its meeting's date
    assert listed(tracker, sort="opened") == ["A1", "M1", "R1", "C1", "R3", "S1"]
    assert listed(tracker, sort="id") == ["A1", "C1", "M1", "R1", "R3", "S1"]
    assert listed(tracker, limit=2) == ["R1", "R3"]
    assert listed(tracker, limit=0) == []


def test_list_sorts_numbers_numerically(tracker, make_item):
    for _ in range(11):
        make_item("clue")
    assert listed(tracker, sort="id")[-3:] == ["C9", "C10", "C11"]


def test_list_rows_carry_the_kind_fields(tracker, several):
    rows = {r["id"]: r for r in tracker.items(Filters(status="all"))}
    common = {"id", "kind", "title", "unit", "stage", "status", "opened_on", "due_on",
              "closed_on", "outcome"}
    own = {"R1": {"direction", "from_unit", "party", "enterprise", "doc_no"},
           "S1": {"type", "doc_no", "urgent"}, "C1": {"field", "from_unit"},
           "M1": {"type", "attendees"}, "A1": {"meeting"}}
    for ident, keys in own.items():
        assert common | keys <= set(rows[ident]), ident
    assert rows["R2"]["closed_on"] == date(2025, 2, 3)
    assert rows["A1"]["meeting"] == "M1"
