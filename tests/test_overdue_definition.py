""""Overdue" is defined once (models.py), written as SQL and of a row read: both forms must give
the same answer in every case, on the backend under test."""

from datetime import date
from itertools import product

from sqlalchemy import Boolean, Date, literal, select

from fujian.models import clocks_running, days_overdue, overdue_condition

AS_OF = date(2025, 3, 10)
DUE = (None, date(2025, 1, 2), date(2025, 3, 9), AS_OF, date(2025, 3, 11))
PAUSED = (None, date(2025, 3, 9), AS_OF, date(2025, 3, 11))
CASES = list(product((True, False), (True, False), DUE, PAUSED))


def _sql(is_open, is_right, due_on, paused_on):
    return overdue_condition(AS_OF, is_open=literal(is_open, Boolean),
                             is_right=literal(is_right, Boolean), due_on=literal(due_on, Date),
                             paused_on=literal(paused_on, Date))


def test_sql_and_row_forms_agree(store):
    query = select(*(_sql(*case).label(f"c{i}") for i, case in enumerate(CASES)))
    with store.engine.connect() as conn:
        answers = conn.execute(query).one()
    for case, answer in zip(CASES, answers, strict=True):
        is_open, is_right, due_on, paused_on = case
        days = days_overdue(AS_OF, is_open=is_open, is_right=is_right, due_on=due_on,
                            paused_on=paused_on)
        assert bool(answer) == (days > 0), case


def test_the_rule_in_plain_cases():
    def days(**changes):
        values = {"is_open": True, "is_right": False, "due_on": date(2025, 3, 9),
                  "paused_on": None} | changes
        return days_overdue(AS_OF, **values)

    assert days() == 1  # due yesterday, open: one day late
    assert days(due_on=AS_OF) == 0  # due today: not yet late
    assert days(is_right=True) == 0  # a right is never late
    assert days(is_open=False) == 0  # ended: judged, not overdue
    assert days(paused_on=date(2025, 3, 10)) == 0  # clocks stopped on or before as_of
    assert days(paused_on=date(2025, 3, 11)) == 1  # paused only later: late today
    assert days(due_on=None) == 0  # no due date: never overdue


def test_clocks_running_is_the_pause_part_of_overdue(store):
    cases = [None, date(2025, 3, 9), AS_OF, date(2025, 3, 11)]
    query = select(*(clocks_running(literal(p, Date), AS_OF).label(f"c{i}")
                     for i, p in enumerate(cases)))
    with store.engine.connect() as conn:
        answers = conn.execute(query).one()
    assert [bool(a) for a in answers] == [True, False, False, True]
