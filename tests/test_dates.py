"""Dates as people type them (fujian/dates.py)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fujian.dates import ACCEPTED_FORMS, parse_date
from fujian.errors import BadInput

TODAY = date(2025, 3, 10)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-01", date(2025, 3, 1)),
        ("2025/3/1", date(2025, 3, 1)),
        ("2025.3.1", date(2025, 3, 1)),
        ("2025年3月1日", date(2025, 3, 1)),
        ("20250301", date(2025, 3, 1)),
        ("2025-3-1", date(2025, 3, 1)),
        ("2025/03/01", date(2025, 3, 1)),
        ("2025.12.31", date(2025, 12, 31)),
        ("2025年12月31日", date(2025, 12, 31)),
        ("2025年3月1号", date(2025, 3, 1)),
        ("2025 年 3 月 1 日", date(2025, 3, 1)),
        ("2024-02-29", date(2024, 2, 29)),
        ("20261001", date(2026, 10, 1)),
        ("  2025-03-01  ", date(2025, 3, 1)),
        ("2025-03-01\n", date(2025, 3, 1)),
    ],
)
def test_absolute_forms(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", date(2025, 3, 10)),
        ("TODAY", date(2025, 3, 10)),
        (" Today ", date(2025, 3, 10)),
        ("yesterday", date(2025, 3, 9)),
        ("tomorrow", date(2025, 3, 11)),
        ("今天", date(2025, 3, 10)),
        ("昨天", date(2025, 3, 9)),
        ("明天", date(2025, 3, 11)),
        ("+3d", date(2025, 3, 13)),
        ("-3d", date(2025, 3, 7)),
        ("+0d", date(2025, 3, 10)),
        ("-1w", date(2025, 3, 3)),
        ("+2w", date(2025, 3, 24)),
        ("+2m", date(2025, 5, 10)),
        ("-2m", date(2025, 1, 10)),
        ("+12m", date(2026, 3, 10)),
        ("+3D", date(2025, 3, 13)),
        ("+ 3 d", date(2025, 3, 13)),
        ("+365d", date(2026, 3, 10)),
    ],
)
def test_relative_forms(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


def test_relative_words_follow_today_not_the_clock() -> None:
    assert parse_date("today", date(2026, 2, 14)) == date(2026, 2, 14)
    assert parse_date("tomorrow", date(2025, 12, 31)) == date(2026, 1, 1)
    assert parse_date("yesterday", date(2025, 3, 1)) == date(2025, 2, 28)
    assert parse_date("yesterday", date(2024, 3, 1)) == date(2024, 2, 29)


@pytest.mark.parametrize(
    ("today", "text", "expected"),
    [
        (date(2025, 1, 31), "+1m", date(2025, 2, 28)),
        (date(2024, 1, 31), "+1m", date(2024, 2, 29)),
        (date(2025, 3, 31), "-1m", date(2025, 2, 28)),
        (date(2025, 8, 31), "+3m", date(2025, 11, 30)),
        (date(2025, 12, 31), "+2m", date(2026, 2, 28)),
        (date(2025, 1, 31), "+2m", date(2025, 3, 31)),
    ],
)
def test_month_steps_clip_to_month_end(today: date, text: str, expected: date) -> None:
    assert parse_date(text, today) == expected


REJECTED = [
    "03/04/2025",      # day/month order is ambiguous: refused, not guessed
    "04.03.2025",
    "3/4",
    "2025-02-30",      # no such day
    "2025-02-29",      # 2025 is not a leap year
    "2025-13-01",      # no such month
    "2025-00-10",
    "2025-04-31",
    "20250230",
    "2025年2月30日",
    "abc",
    "",
    "   ",
    "2025-3",          # incomplete
    "2025",
    "202503",
    "2025-03-01-",
    "2025-03/01",      # mixed separators
    "2025-03-01 10:00",
    "2025-03-01T10:00",
    "25-03-01",
    "+3",
    "3d",              # a relative date needs its sign
    "+3y",
    "+1.5m",
    "next monday",
    "后天",
    "+999999d",        # too many digits
    "+99999m",         # past the year 9999
    "-99999m",         # before the year 1
    "0000-01-01",
]


@pytest.mark.parametrize("text", REJECTED)
def test_rejected_forms_name_the_accepted_ones(text: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_date(text, TODAY)
    message = info.value.message
    assert ACCEPTED_FORMS in message
    for form in ("2025-03-01", "2025/3/1", "2025年3月1日", "20250301", "today", "+3d", "+2m"):
        assert form in message
    assert info.value.exit_code == 2


def test_impossible_day_says_no_such_date() -> None:
    with pytest.raises(BadInput, match="No such date: '2025-02-30'"):
        parse_date("2025-02-30", TODAY)
    with pytest.raises(BadInput, match="Not a date: 'abc'"):
        parse_date("abc", TODAY)


def test_one_megabyte_string_is_refused_with_a_short_message() -> None:
    text = "2" * 1_000_000
    with pytest.raises(BadInput) as info:
        parse_date(text, TODAY)
    message = info.value.message
    assert ACCEPTED_FORMS in message
    assert len(message) < 500


def test_long_padded_string_is_not_echoed_in_full() -> None:
    # After strip() only "abc" is left, but the message must not repeat a megabyte of spaces.
    text = " " * 1_000_000 + "abc" + " " * 1_000_000
    with pytest.raises(BadInput) as info:
        parse_date(text, TODAY)
    assert ACCEPTED_FORMS in info.value.message
    assert len(info.value.message) < 500


def test_padded_valid_date_is_accepted() -> None:
    assert parse_date(" " * 100_000 + "2025-03-01" + "\t" * 100, TODAY) == date(2025, 3, 1)


@pytest.mark.parametrize(
    ("text", "today"),
    [("tomorrow", date.max), ("yesterday", date.min), ("明天", date.max),
     ("+1d", date.max), ("-1d", date.min), ("+1w", date.max), ("+1m", date.max),
     ("-1m", date.min)],
)
def test_steps_off_the_calendar_are_bad_input(text: str, today: date) -> None:
    with pytest.raises(BadInput) as info:
        parse_date(text, today)
    assert ACCEPTED_FORMS in info.value.message


def test_extreme_but_valid_dates() -> None:
    assert parse_date("9999-12-31", TODAY) == date(9999, 12, 31)
    assert parse_date("0001-01-01", TODAY) == date(1, 1, 1)
    assert parse_date("today", date.max) == date.max
    assert parse_date("yesterday", date.max) == date(9999, 12, 30)


# ---------------------------------------------------------------------------------------------
# Properties


def _outcome_is_date_or_bad_input(text: str, today: date) -> None:
    try:
        result = parse_date(text, today)
    except BadInput as error:
        assert ACCEPTED_FORMS in error.message
        assert len(error.message) < 500
        return
    assert type(result) is date


@given(text=st.text(max_size=60), today=st.dates())
@settings(max_examples=400, deadline=None)
@example(text="tomorrow", today=date.max)
@example(text="yesterday", today=date.min)
@example(text="+99999m", today=date(2025, 3, 10))
@example(text="0000-00-00", today=date(2025, 3, 10))
@example(text="٢٠٢٥-٠٣-٠١", today=date(2025, 3, 10))
def test_random_text_is_a_date_or_bad_input(text: str, today: date) -> None:
    _outcome_is_date_or_bad_input(text, today)


# Text built from the pieces the parser looks for, so that the regular expressions really fire.
_PIECES = st.sampled_from(
    ["2025", "0000", "9999", "1", "02", "13", "31", "00", "99999", "-", "/", ".", "+", " ",
     "年", "月", "日", "号", "d", "w", "m", "wd", "today", "tomorrow", "yesterday", "\u0660"]
)


@given(text=st.lists(_PIECES, max_size=8).map("".join), today=st.dates())
@settings(max_examples=400, deadline=None)
def test_date_like_text_is_a_date_or_bad_input(text: str, today: date) -> None:
    _outcome_is_date_or_bad_input(text, today)


@given(day=st.dates(min_value=date(1000, 1, 1)))
@settings(max_examples=200, deadline=None)
def test_every_written_form_round_trips(day: date) -> None:
    y, m, d = day.year, day.month, day.day
    for text in (day.isoformat(), f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日",
                 f"{y:04d}{m:02d}{d:02d}"):
        assert parse_date(text, TODAY) == day, text


@given(n=st.integers(min_value=-3000, max_value=3000))
@settings(max_examples=100, deadline=None)
def test_day_and_week_steps_are_exact(n: int) -> None:
    sign = "+" if n >= 0 else "-"
    assert (parse_date(f"{sign}{abs(n)}d", TODAY) - TODAY).days == n
    assert (parse_date(f"{sign}{abs(n)}w", TODAY) - TODAY).days == 7 * n
