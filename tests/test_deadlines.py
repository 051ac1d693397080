"""The deadline engine (fujian/deadlines.py) and `fujian calendar due`.

Every expected date below is a real one, checked by hand against the State Council's holiday
notices (国务院办公厅关于2025年/2026年部分节假日安排的通知) and domain.md §3–§4:

- 2025 Spring Festival: 01-28..02-04 off; Sun 01-26 and Sat 02-08 are make-up working days.
- 2025 National Day + Mid-Autumn: 10-01..10-08 off; Sun 09-28 and Sat 10-11 working days.
- 2025 Dragon Boat: 05-31..06-02 off.
- 2026 New Year: 01-01..01-03 off; Sun 01-04 is a working day.
- 2026 Spring Festival: 02-15..02-23 off; Sat 02-14 and Sat 02-28 are working days.
- 2026 National Day + Mid-Autumn: 10-01..10-07 off; Sun 09-20 and Sat 10-10 working days.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fujian.deadlines import Calendar, DueDate, Period, Rule, RuleBook, compute_due
from fujian.errors import EXIT_BAD_INPUT, BadInput
from fujian.service.tracker import load_calendar, load_rules


def D(text: str) -> date:
    return date.fromisoformat(text)


def days(first: str, last: str) -> list[date]:
    """Every day from first to last, both included."""
    a, b = D(first), D(last)
    return [a + timedelta(n) for n in range((b - a).days + 1)]


@pytest.fixture(scope="module")
def cal() -> Calendar:
    """The package calendar alone (no override file): built once, holidays loads lazily."""
    return Calendar()


def due(cal: Calendar, start: str, period: str) -> DueDate:
    return compute_due(D(start), Period.parse(period), cal)


# ---------------------------------------------------------------------------------------------
# Period


@pytest.mark.parametrize(
    ("text", "amount", "unit"),
    [
        ("3d", 3, "d"),
        ("10wd", 10, "wd"),
        ("2m", 2, "m"),
        ("1w", 7, "d"),
        ("2w", 14, "d"),
        ("15D", 15, "d"),
        (" 2M ", 2, "m"),
        ("10WD", 10, "wd"),
        ("3 d", 3, "d"),
        ("9999d", 9999, "d"),
    ],
)
def test_period_parse_accepts(text: str, amount: int, unit: str) -> None:
    p = Period.parse(text)
    assert (p.amount, p.unit) == (amount, unit)


def test_week_is_seven_days(cal: Calendar) -> None:
    assert Period.parse("1w") == Period.parse("7d")
    assert str(Period.parse("1w")) == "7d"
    for start in ("2025-01-22", "2025-03-03", "2026-02-08"):
        assert due(cal, start, "1w") == due(cal, start, "7d")


def test_period_str_round_trips() -> None:
    for text in ("3d", "10wd", "2m"):
        assert str(Period.parse(text)) == text
        assert Period.parse(str(Period.parse(text))) == Period.parse(text)


@pytest.mark.parametrize(
    "text",
    ["3x", "", "   ", "-3d", "+3d", "3", "d", "wd", "3dd", "3 days", "2.5m", "1y", "3d3d",
     "10000d", "0d", "0wd", "0m", "三日", "none"],
)
def test_period_parse_rejects(text: str) -> None:
    with pytest.raises(BadInput) as info:
        Period.parse(text)
    message = info.value.message
    assert "Not a period" in message
    assert "3d" in message and "10wd" in message and "2m" in message


def test_period_parse_none_is_bad_input() -> None:
    with pytest.raises(BadInput):
        Period.parse(None)  # type: ignore[arg-type]


@given(st.text(max_size=12))
@settings(max_examples=200, deadline=None)
def test_period_parse_never_crashes(text: str) -> None:
    try:
        p = Period.parse(text)
    except BadInput:
        return
    assert p.unit in ("d", "wd", "m")
    assert p.amount >= 1


# ---------------------------------------------------------------------------------------------
# Rule 1: the start day is not counted


def test_start_day_not_counted(cal: Calendar) -> None:
    r = due(cal, "2025-03-03", "3d")  # Monday
    assert r.nominal == D("2025-03-06")
    assert r.due == D("2025-03-06")
    assert r.rolled_over == []
    assert r.warnings == []
    assert r.start == D("2025-03-03")
    assert r.period == Period(3, "d")


def test_one_day_period_is_the_next_day(cal: Calendar) -> None:
    assert due(cal, "2025-03-04", "1d").due == D("2025-03-05")


def test_seven_day_supervision_period(cal: Calendar) -> None:
    # 2025-03-03 (Mon) + 7d = 2025-03-10 (Mon)
    r = due(cal, "2025-03-03", "7d")
    assert (r.nominal, r.due) == (D("2025-03-10"), D("2025-03-10"))


# ---------------------------------------------------------------------------------------------
# Rule 2: month periods end on the same day-number, clipped to the month's last day


def test_month_same_day_number(cal: Calendar) -> None:
    r = due(cal, "2025-03-10", "2m")  # 2025-05-10 is a Saturday...
    assert r.nominal == D("2025-05-10")
    assert D("2025-05-10").weekday() == 5
    assert r.due == D("2025-05-12")  # ...so Monday


def test_month_end_clipping_common_year(cal: Calendar) -> None:
    r = due(cal, "2024-12-31", "2m")
    assert r.nominal == D("2025-02-28")
    assert D("2025-02-28").weekday() == 4  # a Friday, a working day
    assert r.due == D("2025-02-28")
    assert r.rolled_over == []


def test_month_end_clipping_leap_year(cal: Calendar) -> None:
    r = due(cal, "2023-12-31", "2m")
    assert r.nominal == D("2024-02-29")
    assert D("2024-02-29").weekday() == 3  # a Thursday: no roll
    assert r.due == D("2024-02-29")
    assert r.rolled_over == []


def test_month_end_clipping_then_roll(cal: Calendar) -> None:
    # 31 Aug + 3 months: November has no 31st, so 30 Nov 2025, a Sunday → Monday 1 Dec.
    r = due(cal, "2025-08-31", "3m")
    assert r.nominal == D("2025-11-30")
    assert D("2025-11-30").weekday() == 6
    assert r.due == D("2025-12-01")
    assert r.rolled_over == [D("2025-11-30")]


def test_month_end_clipping_onto_makeup_saturday(cal: Calendar) -> None:
    # 31 Dec 2025 + 2 months → 28 Feb 2026: a Saturday, but a 调休 working day.
    r = due(cal, "2025-12-31", "2m")
    assert r.nominal == D("2026-02-28")
    assert D("2026-02-28").weekday() == 5
    assert r.due == D("2026-02-28")
    assert r.rolled_over == []


def test_one_month_from_january_31(cal: Calendar) -> None:
    assert due(cal, "2025-01-31", "1m").nominal == D("2025-02-28")
    assert due(cal, "2024-01-31", "1m").nominal == D("2024-02-29")


# ---------------------------------------------------------------------------------------------
# Rule 3: a last day on a rest day rolls to the next working day


def test_weekend_rolls_to_monday(cal: Calendar) -> None:
    r = due(cal, "2025-01-15", "2m")
    assert r.nominal == D("2025-03-15")
    assert D("2025-03-15").weekday() == 5
    assert r.due == D("2025-03-17")
    assert r.rolled_over == [D("2025-03-15"), D("2025-03-16")]
    assert r.warnings == []


def test_sunday_rolls_one_day(cal: Calendar) -> None:
    # 2026-03-05 (Thu) + 3d = 2026-03-08 (Sun) → Mon 2026-03-09
    r = due(cal, "2026-03-05", "3d")
    assert r.nominal == D("2026-03-08")
    assert r.due == D("2026-03-09")
    assert r.rolled_over == [D("2026-03-08")]


def test_spring_festival_2025_rolls(cal: Calendar) -> None:
    r = due(cal, "2025-01-22", "7d")
    assert r.nominal == D("2025-01-29")
    assert r.due == D("2025-02-05")
    assert r.rolled_over == days("2025-01-29", "2025-02-04")


def test_spring_festival_2025_first_day_off_rolls(cal: Calendar) -> None:
    r = due(cal, "2025-01-25", "3d")
    assert r.nominal == D("2025-01-28")
    assert r.due == D("2025-02-05")
    assert r.rolled_over == days("2025-01-28", "2025-02-04")


def test_spring_festival_2026_rolls(cal: Calendar) -> None:
    r = due(cal, "2026-02-12", "3d")
    assert r.nominal == D("2026-02-15")
    assert r.due == D("2026-02-24")
    assert r.rolled_over == days("2026-02-15", "2026-02-23")


def test_spring_festival_2026_last_day_off_rolls(cal: Calendar) -> None:
    # 2026-02-23 is a Monday but a day off (substituted from Sat 02-28).
    r = due(cal, "2026-02-20", "3d")
    assert D("2026-02-23").weekday() == 0
    assert r.nominal == D("2026-02-23")
    assert r.due == D("2026-02-24")
    assert r.rolled_over == [D("2026-02-23")]


def test_national_day_2025_rolls(cal: Calendar) -> None:
    r = due(cal, "2025-09-30", "1d")
    assert r.nominal == D("2025-10-01")
    assert r.due == D("2025-10-09")
    assert r.rolled_over == days("2025-10-01", "2025-10-08")


def test_national_day_2026_rolls(cal: Calendar) -> None:
    r = due(cal, "2026-09-28", "3d")
    assert r.nominal == D("2026-10-01")
    assert r.due == D("2026-10-08")
    assert r.rolled_over == days("2026-10-01", "2026-10-07")


def test_dragon_boat_2025_month_period_rolls(cal: Calendar) -> None:
    r = due(cal, "2025-03-31", "2m")
    assert r.nominal == D("2025-05-31")
    assert r.due == D("2025-06-03")
    assert r.rolled_over == days("2025-05-31", "2025-06-02")


def test_new_year_2026_rolls_onto_makeup_sunday(cal: Calendar) -> None:
    # 2026-01-01..03 off; Sunday 2026-01-04 is a working day, so the period ends on it.
    r = due(cal, "2025-12-29", "3d")
    assert r.nominal == D("2026-01-01")
    assert r.rolled_over == days("2026-01-01", "2026-01-03")
    assert r.due == D("2026-01-04")
    assert D("2026-01-04").weekday() == 6
    assert r.warnings == []


# ---------------------------------------------------------------------------------------------
# Rule 4: the calendar: weekends, holidays and 调休 make-up working days


@pytest.mark.parametrize(
    "day",
    ["2025-01-26", "2025-02-08", "2025-09-28", "2025-10-11",
     "2026-01-04", "2026-02-14", "2026-02-28", "2026-09-20", "2026-10-10"],
)
def test_makeup_weekend_days_are_working_days(cal: Calendar, day: str) -> None:
    assert D(day).weekday() >= 5  # really a weekend day
    assert cal.is_working_day(D(day))
    assert not cal.is_rest_day(D(day))


@pytest.mark.parametrize(
    "day",
    [*days("2025-01-28", "2025-02-04"), *days("2025-10-01", "2025-10-08"),
     *days("2026-02-15", "2026-02-23"), *days("2026-10-01", "2026-10-07"),
     D("2025-01-01"), D("2026-01-01"), D("2026-01-02"), D("2025-05-01"), D("2025-05-05")],
)
def test_holidays_are_rest_days(cal: Calendar, day: date) -> None:
    assert cal.is_rest_day(day)
    assert not cal.is_working_day(day)


@pytest.mark.parametrize(
    ("day", "working"),
    [("2025-03-08", False), ("2025-03-09", False), ("2025-03-10", True),
     ("2025-03-14", True), ("2026-03-07", False), ("2026-03-09", True),
     ("2025-01-27", True), ("2025-02-05", True), ("2026-02-13", True), ("2026-02-24", True)],
)
def test_ordinary_days(cal: Calendar, day: str, working: bool) -> None:
    assert cal.is_working_day(D(day)) is working


@pytest.mark.parametrize(
    ("start", "end"),
    [("2025-01-23", "2025-01-26"),   # Sunday, 调休 working day
     ("2025-02-05", "2025-02-08"),   # Saturday, 调休 working day
     ("2025-09-25", "2025-09-28"),   # Sunday, 调休 working day
     ("2025-10-08", "2025-10-11"),   # Saturday, 调休 working day
     ("2026-02-11", "2026-02-14"),   # Saturday, 调休 working day
     ("2026-02-25", "2026-02-28"),   # Saturday, 调休 working day
     ("2026-10-07", "2026-10-10")],  # Saturday, 调休 working day
)
def test_period_ending_on_makeup_day_does_not_roll(cal: Calendar, start: str, end: str) -> None:
    r = due(cal, start, "3d")
    assert D(end).weekday() >= 5
    assert r.nominal == D(end)
    assert r.due == D(end)
    assert r.rolled_over == []


def test_known_years(cal: Calendar) -> None:
    assert cal.knows(2025)
    assert cal.knows(2026)
    assert not cal.knows(2030)
    assert 2025 in cal.known_years() and 2026 in cal.known_years()
    assert 2030 not in cal.known_years()
    assert cal.known_years() == sorted(cal.known_years())


# ---------------------------------------------------------------------------------------------
# Rule 5: working-day periods skip rest days


def test_working_days_over_spring_festival_2025(cal: Calendar) -> None:
    # From Fri 2025-01-24: Sun 01-26 (1), Mon 01-27 (2), [01-28..02-04 off], 02-05 (3), 02-06 (4),
    # 02-07 (5), Sat 02-08 (6), 02-10 (7), 02-11 (8), 02-12 (9), 02-13 (10).
    r = due(cal, "2025-01-24", "10wd")
    assert r.due == D("2025-02-13")
    assert r.nominal == r.due
    assert r.rolled_over == []
    assert r.warnings == []


def test_working_days_over_spring_festival_2026(cal: Calendar) -> None:
    # From Tue 2026-02-10: 02-11 (1), 02-12 (2), 02-13 (3), Sat 02-14 (4), [02-15..02-23 off],
    # 02-24 (5), 02-25 (6), 02-26 (7), 02-27 (8), Sat 02-28 (9), Mon 03-02 (10).
    r = due(cal, "2026-02-10", "10wd")
    assert r.due == D("2026-03-02")
    assert r.rolled_over == []


def test_working_days_over_national_day_2026(cal: Calendar) -> None:
    # From Wed 2026-09-30: [10-01..10-07 off], Thu 10-08 (1), Fri 10-09 (2), Sat 10-10 (3).
    assert due(cal, "2026-09-30", "3wd").due == D("2026-10-10")


def test_working_days_plain_week(cal: Calendar) -> None:
    # From Fri 2025-03-07: Mon 03-10 (1) .. Fri 03-14 (5), Mon 03-17 (6)
    assert due(cal, "2025-03-07", "1wd").due == D("2025-03-10")
    assert due(cal, "2025-03-07", "5wd").due == D("2025-03-14")
    assert due(cal, "2025-03-07", "6wd").due == D("2025-03-17")


def test_working_days_differ_from_calendar_days(cal: Calendar) -> None:
    assert due(cal, "2025-01-24", "10wd").due != due(cal, "2025-01-24", "10d").due
    assert due(cal, "2025-01-24", "10d").due == D("2025-02-05")  # 02-03 is off → 02-05


# ---------------------------------------------------------------------------------------------
# Properties of compute_due over 2025–2026


_known_starts = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 10, 31))


@given(start=_known_starts, n=st.integers(min_value=1, max_value=60))
@settings(max_examples=150, deadline=None)
def test_calendar_day_periods_properties(cal: Calendar, start: date, n: int) -> None:
    r = compute_due(start, Period(n, "d"), cal)
    assert r.nominal == start + timedelta(days=n)
    assert cal.is_working_day(r.due)
    assert r.rolled_over == [r.nominal + timedelta(k) for k in range((r.due - r.nominal).days)]
    assert all(cal.is_rest_day(d) for d in r.rolled_over)
    assert r.warnings == []


@given(start=_known_starts, n=st.integers(min_value=1, max_value=4))
@settings(max_examples=100, deadline=None)
def test_month_periods_properties(cal: Calendar, start: date, n: int) -> None:
    r = compute_due(start, Period(n, "m"), cal)
    months = start.year * 12 + start.month - 1 + n
    assert (r.nominal.year, r.nominal.month) == (months // 12, months % 12 + 1)
    next_month = date(months // 12 + (months % 12 + 1) // 12, (months % 12 + 1) % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    assert r.nominal.day == min(start.day, last_day)
    assert cal.is_working_day(r.due)
    assert all(cal.is_rest_day(d) for d in r.rolled_over)


@given(start=_known_starts, n=st.integers(min_value=1, max_value=25))
@settings(max_examples=100, deadline=None)
def test_working_day_periods_properties(cal: Calendar, start: date, n: int) -> None:
    r = compute_due(start, Period(n, "wd"), cal)
    between = [start + timedelta(k) for k in range(1, (r.due - start).days + 1)]
    assert sum(cal.is_working_day(d) for d in between) == n
    assert cal.is_working_day(r.due)
    assert r.rolled_over == []


# ---------------------------------------------------------------------------------------------
# Unknown years warn; overrides teach the calendar a year


def test_known_year_gives_no_warning(cal: Calendar) -> None:
    assert due(cal, "2025-06-03", "3d").warnings == []
    assert due(cal, "2026-06-03", "2m").warnings == []


def test_due_in_2027_warns(cal: Calendar) -> None:
    r = due(cal, "2026-12-20", "2m")  # start known, due 2027-02-2x unknown
    assert r.due.year == 2027
    assert len(r.warnings) == 1
    assert "2027" in r.warnings[0]
    assert "2026" not in r.warnings[0]


def test_due_in_2030_warns(cal: Calendar) -> None:
    r = due(cal, "2030-03-04", "3d")
    assert r.due == D("2030-03-07")
    assert len(r.warnings) == 1
    assert "2030" in r.warnings[0]
    assert "override" in r.warnings[0]


def test_working_days_into_unknown_year_warn(cal: Calendar) -> None:
    r = due(cal, "2026-12-25", "10wd")
    assert r.due.year == 2027
    assert any("2027" in w for w in r.warnings)
    assert not any("2026" in w for w in r.warnings)


def _write(tmp_path: Path, text: str, name: str = "calendar.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


OVERRIDE_2027 = """
[2027]
days_off = ["2027-02-05", "2027-02-08", "2027-02-09"]
workdays = ["2027-02-07"]
"""


def test_override_changes_results_and_removes_warning(tmp_path: Path, cal: Calendar) -> None:
    # Fri 2027-02-05 declared off; Sun 2027-02-07 declared a make-up working day.
    assert D("2027-02-05").weekday() == 4 and D("2027-02-07").weekday() == 6
    plain = due(cal, "2027-02-02", "3d")
    assert plain.warnings and "2027" in plain.warnings[0]
    assert plain.due != D("2027-02-07")  # without the override a Sunday never is a working day

    over = Calendar([_write(tmp_path, OVERRIDE_2027)])
    assert over.knows(2027)
    assert 2027 in over.known_years()
    r = compute_due(D("2027-02-02"), Period.parse("3d"), over)
    assert r.nominal == D("2027-02-05")
    assert r.rolled_over == [D("2027-02-05"), D("2027-02-06")]
    assert r.due == D("2027-02-07")
    assert r.warnings == []


def test_override_days_and_year_standing_alone(tmp_path: Path) -> None:
    over = Calendar([_write(tmp_path, OVERRIDE_2027)])
    assert over.is_rest_day(D("2027-02-08"))      # Monday declared off
    assert over.is_working_day(D("2027-02-07"))   # Sunday declared working
    assert over.is_rest_day(D("2027-02-13"))      # an ordinary Saturday
    assert over.is_working_day(D("2027-02-10"))   # an ordinary Wednesday
    # A year named in an override stands alone: a day it does not list off is a working day.
    assert D("2027-01-01").weekday() == 4
    assert over.is_working_day(D("2027-01-01"))
    # Other years still come from the package.
    assert over.is_rest_day(D("2025-01-29"))
    assert over.is_working_day(D("2025-01-26"))


def test_override_working_days_period(tmp_path: Path) -> None:
    over = Calendar([_write(tmp_path, OVERRIDE_2027)])
    # From Thu 2027-02-04: [02-05 off, 02-06 Sat], Sun 02-07 (1), [02-08, 02-09 off], 02-10 (2)
    r = compute_due(D("2027-02-04"), Period.parse("2wd"), over)
    assert r.due == D("2027-02-10")
    assert r.warnings == []


def test_override_accepts_toml_dates(tmp_path: Path) -> None:
    text = "[2027]\ndays_off = [2027-02-05]\nworkdays = [2027-02-07]\n"
    over = Calendar([_write(tmp_path, text)])
    assert over.is_rest_day(D("2027-02-05"))
    assert over.is_working_day(D("2027-02-07"))


def test_later_override_file_adds_to_earlier(tmp_path: Path) -> None:
    a = _write(tmp_path, '[2027]\ndays_off = ["2027-02-05"]\n', "a.toml")
    b = _write(tmp_path, '[2028]\nworkdays = ["2028-01-29"]\n', "b.toml")
    over = Calendar([a, b])
    assert over.knows(2027) and over.knows(2028)
    assert over.is_rest_day(D("2027-02-05"))
    assert D("2028-01-29").weekday() == 5
    assert over.is_working_day(D("2028-01-29"))


def test_missing_override_file_is_refused(tmp_path: Path) -> None:
    # A FUJIAN_CALENDAR that names nothing would silently count days without the notice.
    with pytest.raises(BadInput, match="absent.toml does not exist"):
        Calendar([tmp_path / "absent.toml"])
    with pytest.raises(BadInput, match="cannot be read"):
        Calendar([tmp_path])  # a folder


def test_an_optional_override_file_may_be_absent(tmp_path: Path) -> None:
    over = Calendar([tmp_path / "absent.toml"], optional=[tmp_path / "absent.toml"])
    assert over.override_years == set() and not over.knows(2027)


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[2027]\n", "lists no days_off and no workdays"),
     ('[2027]\ndays_off = []\nworkdays = []\n', "lists no days_off and no workdays"),
     ('[2027]\ndays_off = ["2028-01-01"]\n', "2028-01-01 is listed under [2027]"),
     ('[2027]\nworkdays = ["2026-12-31"]\n', "2026-12-31 is listed under [2027]")],
)
def test_override_years_are_strict(tmp_path: Path, text: str, problem: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(BadInput) as info:
        Calendar([path])
    assert problem in info.value.message and str(path) in info.value.message


@pytest.mark.parametrize(
    "text",
    [
        "[2027\ndays_off = [",                          # not TOML
        '[2027]\ndays_off = ["2027-02-30"]\n',          # no such day
        '[2027]\ndays_off = ["next friday"]\n',         # not a date
        '[2027]\nworkdays = [20270207]\n',              # a number
        '[2027]\ndays_off = "2027-02-05"\n',            # a string, not a list
        '[abc]\ndays_off = ["2027-02-05"]\n',           # not a year
        "2027 = 5\n",                                   # not a table
        '[2027]\ndays_off = [2027-02-05T00:00:00]\n',   # a datetime, not a day
    ],
)
def test_invalid_override_raises_bad_input(tmp_path: Path, text: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(BadInput) as info:
        Calendar([path])
    assert str(path) in info.value.message
    assert "not valid" in info.value.message


def test_override_file_not_utf8_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "calendar.toml"
    path.write_bytes(b"[2027]\n# \xff\xfe\n")
    with pytest.raises(BadInput):
        Calendar([path])


def test_shipped_calendar_has_no_stray_years() -> None:
    # data/calendar_override.toml ships commented out; FUJIAN_CALENDAR points nowhere (conftest).
    c = load_calendar()
    assert c.override_years == set()
    assert c.knows(2025) and c.knows(2026) and not c.knows(2030)


def test_load_calendar_reads_fujian_calendar(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FUJIAN_CALENDAR", str(_write(tmp_path, OVERRIDE_2027)))
    c = load_calendar()
    assert c.knows(2027)
    assert compute_due(D("2027-02-02"), Period.parse("3d"), c).due == D("2027-02-07")


# ---------------------------------------------------------------------------------------------
# Limits


def test_period_past_year_9999_is_bad_input(cal: Calendar) -> None:
    for start, period in [("9999-12-20", "1m"), ("9999-12-25", "30d"), ("9999-12-01", "100wd")]:
        with pytest.raises(BadInput, match="9999"):
            due(cal, start, period)


def test_roll_past_year_9999_is_bad_input(tmp_path: Path) -> None:
    over = Calendar([_write(tmp_path, '[9999]\ndays_off = ["9999-12-31"]\n')])
    with pytest.raises(BadInput, match="9999"):
        compute_due(D("9999-12-30"), Period.parse("1d"), over)


# ---------------------------------------------------------------------------------------------
# The rule book (data/deadlines.toml)


@pytest.fixture(scope="module")
def rules() -> RuleBook:
    return load_rules()


@pytest.mark.parametrize(
    ("kind", "subtype", "stage", "urgent", "period"),
    [
        ("referral", "to-criminal", "sent", False, Period(3, "d")),
        ("referral", "to-criminal", "not-filed", False, Period(3, "d")),
        ("referral", "to-criminal", "reconsideration", False, Period(3, "d")),
        ("referral", "to-criminal", "accepted", False, Period(3, "d")),
        ("referral", "to-criminal", "reconsidered", False, Period(3, "d")),
        ("referral", "to-criminal", "supervision", False, Period(7, "d")),
        ("referral", "to-criminal", "filing-notice", False, Period(15, "d")),
        ("referral", "to-admin", "sent", False, Period(2, "m")),
        ("suggestion", "correction", "delivered", False, Period(2, "m")),
        ("suggestion", "governance", "delivered", False, Period(2, "m")),
        ("suggestion", "other", "delivered", False, Period(2, "m")),
        ("suggestion", "correction", "delivered", True, Period(2, "m")),
        ("suggestion", "public-interest", "delivered", False, Period(2, "m")),
        ("suggestion", "public-interest", "delivered", True, Period(15, "d")),
        ("clue", None, "received", False, Period(30, "d")),
    ],
)
def test_rule_periods(rules: RuleBook, kind, subtype, stage, urgent, period) -> None:
    rule = rules.find(kind, subtype, stage, urgent)
    assert rule is not None
    assert rule.period == period
    assert rule.source.strip()


@pytest.mark.parametrize(
    ("kind", "subtype", "stage"),
    [("referral", "to-admin", "replied"), ("suggestion", "correction", "replied"),
     ("suggestion", "public-interest", "replied"), ("clue", "ecology", "filed"),
     ("clue", "ecology", "litigating")],
)
def test_stages_that_stop_the_clock(rules: RuleBook, kind, subtype, stage) -> None:
    # A [[stage]] entry without rules: entering it ends the open duties and opens none.
    plan = rules.plan(kind, subtype, stage)
    assert plan.has_rule and plan.rules == ()


def test_duties_without_a_period(rules: RuleBook) -> None:
    # 刑诉规则 第五百五十七至五百五十九条: the procuratorate examines a proposal of 立案监督
    # with no statutory period; an action item's period is the minutes' (--due).
    examine = rules.find("referral", "to-criminal", "supervision-requested")
    assert (examine.duty, examine.holder, examine.period) == (
        "examine-proposal", "procuratorate", None)
    assert rules.find("action", None, "open").period is None
    assert rules.find("meeting", "plenary", "held") is None


@pytest.mark.parametrize(
    ("kind", "subtype", "stage"),
    [("referral", "to-admin", "not-filed"), ("suggestion", "correction", "objected"),
     ("referral", "to-criminal", "replied"), ("clue", None, "evaluating"),
     ("action", None, "in-progress"), ("nonsense", None, "sent")],
)
def test_stages_without_rule(rules: RuleBook, kind, subtype, stage) -> None:
    assert rules.find(kind, subtype, stage) is None


def test_public_interest_rules_cite_their_law(rules: RuleBook) -> None:
    normal = rules.find("suggestion", "public-interest", "delivered", False)
    urgent = rules.find("suggestion", "public-interest", "delivered", True)
    generic = rules.find("suggestion", "correction", "delivered", False)
    assert normal is not None and urgent is not None and generic is not None
    assert normal.subtype == "public-interest" and normal.urgent is None
    assert urgent.urgent is True
    assert "公益诉讼" in normal.source and "十五日" in urgent.source
    assert generic.subtype is None and "检察建议工作规定" in generic.source


def test_referral_rules_cite_their_law(rules: RuleBook) -> None:
    assert "310" in rules.find("referral", "to-criminal", "sent").source
    assert "第九条" in rules.find("referral", "to-criminal", "not-filed").source
    assert "第五百六十条" in rules.find("referral", "to-criminal", "supervision").source
    assert "第一百七十七条" in rules.find("referral", "to-admin", "sent").source
    assert "第一百八十条" in rules.find("referral", "to-criminal", "accepted").source
    assert "第九条第二款" in rules.find("referral", "to-criminal", "reconsidered").source
    assert "第五百六十三条" in rules.find("referral", "to-criminal", "filing-notice").source
    # 行政诉讼法第二十五条 sets no period: no rule rests on it.
    assert not any("行政诉讼法" in r.source for r in rules.rules)


@pytest.mark.parametrize(
    ("kind", "subtype", "stage", "holder", "start"),
    [("referral", "to-criminal", "sent", "unit", "sent"),
     ("referral", "to-criminal", "accepted", "unit", "accepted"),
     ("referral", "to-criminal", "not-filed", "from_unit", "refusal-received"),
     ("referral", "to-criminal", "reconsideration", "unit", "request-received"),
     ("referral", "to-criminal", "reconsidered", "from_unit", "decision-received"),
     ("referral", "to-criminal", "supervision", "unit", "explain-notice-received"),
     ("referral", "to-criminal", "filing-notice", "unit", "filing-notice-received"),
     ("referral", "to-admin", "sent", "unit", "opinion-received"),
     ("suggestion", "governance", "delivered", "unit", "suggestion-received"),
     ("clue", "ecology", "received", "unit", "received"),
     ("clue", "ecology", "suggested", "to_unit", "suggestion-received")],
)
def test_rules_name_the_holder_and_the_start_event(rules: RuleBook, kind, subtype, stage,
                                                    holder, start) -> None:
    rule = rules.find(kind, subtype, stage)
    assert (rule.holder, rule.start) == (holder, start)
    assert rule.start in rules.events and rule.duty in rules.duties
    if kind == "referral" and subtype == "to-criminal":
        assert rule.criminal


@pytest.mark.parametrize("urgent", [False, True])
@pytest.mark.parametrize(("kind", "subtype"), [("suggestion", "public-interest"),
                                               ("clue", "ecology")])
def test_a_pre_litigation_suggestion_opens_reply_and_perform(rules: RuleBook, kind, subtype,
                                                              urgent) -> None:
    # 两高解释 第二十一条: perform and reply within 2 months; urgent: reply within 15 days,
    # the duty to perform still runs to 2 months.
    plan = rules.plan(kind, subtype, "delivered" if kind == "suggestion" else "suggested",
                      urgent)
    periods = {r.duty: r.period for r in plan.rules}
    assert periods == {"reply": Period(15, "d") if urgent else Period(2, "m"),
                       "perform": Period(2, "m")}


def test_replying_keeps_the_duty_to_perform(rules: RuleBook) -> None:
    plan = rules.plan("suggestion", "public-interest", "replied")
    assert plan.has_rule and plan.timed == () and plan.keep == {"perform"}


def test_rights_stand_ins_and_unmet_endings(rules: RuleBook) -> None:
    # 310号令 第九条: the sending unit MAY (可以) object within 3 days: rights, not duties.
    assert rules.find("referral", "to-criminal", "not-filed").right
    assert rules.find("referral", "to-criminal", "reconsidered").right
    assert not rules.find("referral", "to-criminal", "sent").right
    assert rules.plan("referral", "to-criminal", "accepted").ending("decide-filing") == "stand-in"
    # 行政诉讼法 第二十五条第四款: the suit is brought because the organ did not perform.
    litigating = rules.plan("clue", "ecology", "litigating")
    assert (litigating.ending("reply"), litigating.ending("perform")) == ("unmet", "unmet")
    assert rules.plan("assist", "query", "obstructed").ending("assist") == "unmet"
    assert rules.unmet_on_close("suggestion", "rejected") == {"perform"}
    assert rules.unmet_on_close("suggestion", "adopted") == frozenset()
    assert rules.unmet_on_close("assist", "refused") == {"assist"}


def test_every_rule_has_a_source(rules: RuleBook) -> None:
    assert len(rules.rules) >= 12
    for rule in rules.rules:
        assert isinstance(rule, Rule)
        assert rule.source.strip(), rule
        assert rule.kind and rule.stage


def test_rule_specificity_picks_the_most_specific() -> None:
    book = RuleBook([
        Rule("suggestion", "delivered", Period(2, "m"), "general"),
        Rule("suggestion", "delivered", Period(1, "m"), "by subtype", subtype="x"),
        Rule("suggestion", "delivered", Period(5, "d"), "urgent", subtype="x", urgent=True),
    ])
    assert book.find("suggestion", "y", "delivered").source == "general"
    assert book.find("suggestion", "x", "delivered").source == "by subtype"
    assert book.find("suggestion", "x", "delivered", urgent=True).source == "urgent"
    assert book.find("suggestion", "y", "delivered", urgent=True).source == "general"


def test_rulebook_load_parses_periods(tmp_path: Path) -> None:
    path = _write(tmp_path, """
[[rule]]
kind = "clue"
stage = "received"
period = "10wd"
source = "local"

[[rule]]
kind = "clue"
stage = "filed"
period = "none"
source = "stops"
""", "rules.toml")
    book = RuleBook.load(path)
    assert book.find("clue", None, "received").period == Period(10, "wd")
    assert book.find("clue", None, "filed").period is None


def test_rulebook_load_rejects_bad_period(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[rule]]\nkind = "clue"\nstage = "received"\nperiod = "3x"\n'
                  'source = "s"\n', "rules.toml")
    with pytest.raises(BadInput):
        RuleBook.load(path)


# ---------------------------------------------------------------------------------------------
# The engine stays free of the CLI and the database


def test_deadlines_imports_no_cli_or_database() -> None:
    code = (
        "import fujian.deadlines, sys; "
        "print(','.join(sorted(m for m in ('typer', 'rich', 'sqlalchemy', 'sqlmodel', 'click') "
        "if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "", out.stdout


# ---------------------------------------------------------------------------------------------
# `fujian calendar due`


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_cli_due_plain(cli) -> None:
    r = cli("calendar", "due", "2025-01-15", "2m")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == [
        "start\tperiod\tnominal\tdue\trolled_over",
        "2025-01-15\t2m\t2025-03-15\t2025-03-17\t2025-03-15 2025-03-16",
    ]
    assert r.stderr == ""


def test_cli_due_plain_without_roll(cli) -> None:
    r = cli("calendar", "due", "2025-03-03", "3d")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines()[1] == "2025-03-03\t3d\t2025-03-06\t2025-03-06\t"


def test_cli_due_json(cli) -> None:
    r = cli("calendar", "due", "2025-01-15", "2m", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert set(data) == {"start", "period", "nominal", "due", "rolled_over"}
    assert data == {
        "start": "2025-01-15",
        "period": "2m",
        "nominal": "2025-03-15",
        "due": "2025-03-17",
        "rolled_over": ["2025-03-15", "2025-03-16"],
    }


def test_cli_due_json_working_days_and_weeks(cli) -> None:
    data = cli.json("calendar", "due", "2025-01-24", "10wd")
    assert data["due"] == "2025-02-13" and data["period"] == "10wd"
    assert data["rolled_over"] == []
    data = cli.json("calendar", "due", "2025-01-22", "1w")
    assert data["period"] == "7d"
    assert data["due"] == "2025-02-05"
    assert data["rolled_over"][0] == "2025-01-29" and len(data["rolled_over"]) == 7


def test_cli_due_accepts_other_date_forms(cli) -> None:
    # FUJIAN_TODAY is 2025-03-10 (conftest); "today" + 3d = Thu 2025-03-13.
    assert cli.json("calendar", "due", "today", "3d")["due"] == "2025-03-13"
    assert cli.json("calendar", "due", "2025年1月15日", "2m")["due"] == "2025-03-17"
    assert cli.json("calendar", "due", "2025/1/15", "2m")["start"] == "2025-01-15"


def test_cli_due_table_format(cli) -> None:
    r = cli("calendar", "due", "2025-01-15", "2m", "--format", "table")
    assert r.exit_code == 0, r.output
    assert "2025-03-17" in r.stdout
    assert "2025-03-15(六)" in r.stdout and "2025-03-16(日)" in r.stdout


@pytest.mark.parametrize(
    ("start", "period", "needle"),
    [("2025-02-30", "3d", "2025-02-30"), ("03/04/2025", "3d", "03/04/2025"),
     ("abc", "3d", "abc"), ("2025-03-03", "3x", "3x"), ("2025-03-03", "-3d", "-3d"),
     ("2025-03-03", "", "period"), ("2025-03-03", "0d", "0d")],
)
def test_cli_due_bad_input(cli, start: str, period: str, needle: str) -> None:
    # "--" ends the options, so that "-3d" reaches the command as a period (not an option).
    r = cli("calendar", "due", "--", start, period)
    assert r.exit_code == EXIT_BAD_INPUT
    assert r.stdout == ""
    line = _one_line(r.stderr)
    assert line.startswith("error:")
    assert needle in line
    assert "Traceback" not in r.output


def test_cli_due_warns_for_unknown_year(cli) -> None:
    r = cli("calendar", "due", "2026-12-20", "2m")
    assert r.exit_code == 0, r.output
    line = _one_line(r.stderr)
    assert line.startswith("warning:") and "2027" in line
    assert r.stdout.splitlines()[1].split("\t")[3].startswith("2027-")


def test_cli_due_json_stdout_stays_clean_with_warning(cli) -> None:
    r = cli("calendar", "due", "2030-03-04", "3d", "--format", "json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["due"] == "2030-03-07"
    assert "2030" in r.stderr


def test_cli_due_no_warning_for_known_year(cli) -> None:
    r = cli("calendar", "due", "2026-01-10", "2m")
    assert r.exit_code == 0, r.output
    assert r.stderr == ""


def test_cli_due_override_file_removes_warning(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FUJIAN_CALENDAR", str(_write(tmp_path, OVERRIDE_2027)))
    r = cli("calendar", "due", "2027-02-02", "3d", "--format", "json")
    assert r.exit_code == 0, r.output
    assert r.stderr == ""
    assert json.loads(r.stdout)["due"] == "2027-02-07"


def test_cli_due_invalid_override_file(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("FUJIAN_CALENDAR", str(_write(tmp_path, "[2027\n")))
    r = cli("calendar", "due", "2025-03-03", "3d")
    assert r.exit_code == EXIT_BAD_INPUT
    assert "not valid" in _one_line(r.stderr)
    assert "Traceback" not in r.output


def test_unknown_year_warning_says_what_was_assumed(cli) -> None:
    r = cli("calendar", "due", "2026-12-20", "2m")
    line = _one_line(r.stderr)
    assert "holidays package's estimate" in line and "no make-up working days" in line
    assert "fixed festivals" not in line  # what the engine used to claim, and never did


# ---------------------------------------------------------------------------------------------
# Criminal-procedure counting (最高法《关于适用〈刑事诉讼法〉的解释》(2021) 第二百零二条)


@pytest.mark.parametrize(
    ("start", "period", "civil", "criminal"),
    [
        ("2025-02-28", "1m", "2025-03-28", "2025-03-31"),  # last day → last day
        ("2025-04-30", "1m", "2025-05-30", "2025-06-03"),  # 31 May is a Saturday … Dragon Boat
        ("2025-01-31", "1m", "2025-02-28", "2025-02-28"),  # both clip to the month's end
        ("2025-03-15", "1m", "2025-04-15", "2025-04-15"),  # mid-month: the same
        ("2024-02-29", "1m", "2024-03-29", "2024-04-01"),  # 31 Mar 2024 is a Sunday
    ],
)
def test_criminal_month_periods_end_on_the_last_day(cal, start, period, civil, criminal):
    assert due(cal, start, period).due == D(civil)
    result = compute_due(D(start), Period.parse(period, criminal=True), cal, criminal=True)
    assert result.due == D(criminal)


def test_half_a_month_is_fifteen_days_in_criminal_procedure(cal) -> None:
    assert Period.parse("0.5m", criminal=True) == Period(15, "d")
    assert Period.parse("半个月", criminal=True) == Period(15, "d")
    with pytest.raises(BadInput, match="15d"):
        Period.parse("0.5m")


def test_cli_due_criminal(cli) -> None:
    civil = cli.json("calendar", "due", "2025-02-28", "1m")
    criminal = cli.json("calendar", "due", "2025-02-28", "1m", "--criminal")
    assert set(civil) == set(criminal)  # same output keys
    assert (civil["due"], criminal["due"]) == ("2025-03-28", "2025-03-31")
    assert cli.json("calendar", "due", "2025-03-03", "0.5m", "--criminal")["due"] == "2025-03-18"
    r = cli("calendar", "due", "2025-03-03", "0.5m")
    assert r.exit_code == EXIT_BAD_INPUT and "--criminal" in r.stderr


@pytest.mark.parametrize(
    ("text", "problem"),
    [("[2027]\n", "no days_off"), ('[2027]\ndays_off = ["2028-01-01"]\n', "listed under")],
)
def test_every_counting_command_refuses_a_bad_override(cli, initialised, tmp_path, monkeypatch,
                                                       text, problem) -> None:
    path = _write(tmp_path, text, "bad.toml")
    monkeypatch.setenv("FUJIAN_CALENDAR", str(path))
    for args in (("calendar", "due", "2027-01-04", "3d"),
                 ("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to",
                  "gaj", "--title", "x")):
        r = cli(*args)
        assert r.exit_code == EXIT_BAD_INPUT, r.output
        line = _one_line(r.stderr)
        assert str(path) in line and problem in line
    assert cli.json("list") == []  # nothing was added


def test_a_missing_named_override_is_refused(cli, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FUJIAN_CALENDAR", str(tmp_path / "typo.toml"))
    r = cli("calendar", "due", "2025-03-03", "3d")
    assert r.exit_code == EXIT_BAD_INPUT
    assert "typo.toml does not exist" in _one_line(r.stderr)


def test_every_rule_names_a_known_duty_event_and_holder(rules: RuleBook) -> None:
    from fujian.kinds import KINDS

    for rule in rules.rules:
        kind = KINDS[rule.kind]
        assert rule.duty in rules.duties, rule
        assert rule.start in rules.events, rule
        assert rule.holder == "unit" or kind.field(rule.holder) is not None \
            or rule.holder in rules.holders, rule
        subtypes = kind.subtypes.codes if rule.subtype else (None,)
        assert any(rule.stage in kind.stages(s).codes for s in subtypes), rule
