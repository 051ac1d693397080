"""The readable core (issue 20, Build 4 and 5): an update is checked once and applied in named
steps; a pause and a resume change the item's state in one place (service/duties.py) and are
logged once each; every change-log row is written by one builder with one value -> text rule
(service/changelog.py); no function of the core is too long to read at once."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from fujian.errors import BadInput
from fujian.models import Change, ChangeLog, Unit
from fujian.service import changelog

SERVICE = Path(__file__).resolve().parent.parent / "fujian" / "service"


def to_admin(make_item, opened_on: str) -> str:
    """A to-admin referral: its period is a local rule, so the district may stop its clock."""
    return make_item("referral", direction="to-admin", from_unit="jcy", unit="rsj",
                     opened_on=opened_on)


def logged(tracker, ident: str, action: str) -> list[tuple]:
    return [(h["field"], h["old"], h["new"], h["reason"]) for h in tracker.history(ident)
            if h["action"] == action]


# -- pause and resume ------------------------------------------------------------------------


def test_a_pause_and_a_resume_are_each_logged_once(tracker, make_item):
    ident = to_admin(make_item, "2025-01-02")  # due Monday 2025-03-03
    due_before = tracker.show(ident)["due_on"]
    tracker.update(ident, {"pause": True, "reason": "鉴定", "on": "2025-02-20"})
    assert tracker.show(ident)["paused_on"] == date(2025, 2, 20)
    assert logged(tracker, ident, "pause") == [("paused_on", None, "2025-02-20", "鉴定")]

    tracker.update(ident, {"resume": True, "on": "2025-03-10", "reason": "鉴定意见已出"})
    row = tracker.show(ident)
    assert (row["paused_on"], row["due_on"]) == (None, date(2025, 3, 20))
    resumed = logged(tracker, ident, "resume")
    # The duty's due date moves once, then the item's pause ends once, then the item follows
    # its duty: each change one row, all with the reason.
    assert resumed[:2] == [("duty:reply.due_on", due_before.isoformat(), "2025-03-20",
                            "鉴定意见已出"),
                           ("paused_on", "2025-02-20", None, "鉴定意见已出")]
    assert [r[0] for r in resumed].count("paused_on") == 1
    assert logged(tracker, ident, "pause") == [("paused_on", None, "2025-02-20", "鉴定")]


def test_pause_and_resume_change_state_in_duties_only():
    """Only duties.pause and duties.resume set the pause (a close also ends it, in items.py):
    the update's steps in items.py only call them."""
    setters = {}
    for name in ("items.py", "duties.py"):
        tree = ast.parse((SERVICE / name).read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if isinstance(func, ast.FunctionDef):
                for call in ast.walk(func):
                    if isinstance(call, ast.Call) and any(
                            k.arg == "paused_on" for k in call.keywords):
                        setters.setdefault(name, set()).add(func.name)
    assert setters == {"duties.py": {"pause", "resume"},
                       "items.py": {"close_item"}}


def test_a_refused_resume_changes_nothing(tracker, make_item):
    ident = to_admin(make_item, "2025-01-02")
    with pytest.raises(BadInput, match="is not paused"):
        tracker.update(ident, {"resume": True, "reason": "x"})
    assert [h["action"] for h in tracker.history(ident)] == ["create"]


# -- the "closed" refusals ---------------------------------------------------------------------


def test_the_closed_refusals(tracker, make_item):
    ident = make_item("referral", opened_on="2025-03-03")
    tracker.close(ident, "returned", "2025-03-05")
    with pytest.raises(BadInput) as stage:
        tracker.update(ident, {"stage": "accepted", "on": "2025-03-06"})
    assert str(stage.value) == f"{ident} is closed: reopen it before changing its stage."
    with pytest.raises(BadInput) as pause:
        tracker.update(ident, {"pause": True, "reason": "鉴定"})
    assert str(pause.value) == str(stage.value)
    with pytest.raises(BadInput) as due:
        tracker.update(ident, {"due_on": "2025-04-01", "reason": "材料补正"})
    assert str(due.value) == f"{ident} is closed: reopen it before moving its due date."
    assert [h["action"] for h in tracker.history(ident)][-1] == "close"


# -- one value -> text rule ------------------------------------------------------------------


def test_the_one_value_to_text_rule(tracker):
    with tracker.store.writing() as session:
        unit = session.scalar(select(Unit).where(Unit.code == "gaj"))
        values = [date(2025, 3, 10), datetime(2025, 3, 10, 2, 0, tzinfo=UTC), None, True,
                  False, unit, 7, "文本"]
        changelog.log(session, "tester", "probe", "update",
                      [Change(f"f{i}", None, value) for i, value in enumerate(values)])
    with tracker.store.reading() as session:
        stored = list(session.scalars(select(ChangeLog.new_value)
                                      .where(ChangeLog.subject == "probe")
                                      .order_by(ChangeLog.id)))
    assert stored == ["2025-03-10", "2025-03-10T02:00:00+00:00", None, "true", "false",
                      "gaj", "7", "文本"]


def test_item_and_duty_rows_store_the_same_text_as_before(tracker, make_item):
    """A bool field logs true/false, a date ISO, a duty's holder its unit's row id (history
    shows the code), an unchanged value nothing."""
    ident = make_item("suggestion", type="public-interest", unit="sthjj",
                      opened_on="2025-03-03")
    tracker.update(ident, {"urgent": True})
    with tracker.store.reading() as session:
        rows = [(r.action, r.field, r.old_value, r.new_value) for r in session.scalars(
            select(ChangeLog).where(ChangeLog.subject == ident).order_by(ChangeLog.id))]
    assert rows[1] == ("update", "urgent", None, "true")
    assert ("recompute", "duty:reply.due_on", "2025-05-06", "2025-03-18") in rows
    assert ("update", "due_on", "2025-05-06", "2025-03-18") in rows


# -- short functions ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["items.py", "duties.py", "changelog.py"])
def test_no_function_of_the_core_is_over_60_lines(name):
    tree = ast.parse((SERVICE / name).read_text(encoding="utf-8"))
    long = {f.name: f.end_lineno - f.lineno + 1 for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
            and f.end_lineno - f.lineno + 1 > 60}
    assert long == {}
