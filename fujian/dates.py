"""Dates typed by people, parsed in one place.

Due dates are calendar dates in China, never instants: everything here works on ``date``
objects, and "today" is always passed in so that no query reads the wall clock by itself.
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

from fujian.errors import BadInput
from fujian.i18n import _

CHINA = timezone(timedelta(hours=8))  # China keeps UTC+8 all year: no DST, no zoneinfo needed


def china_today() -> date:
    """Today's calendar date in China. FUJIAN_TODAY (YYYY-MM-DD) pins it for demos and tests."""
    pinned = os.environ.get("FUJIAN_TODAY")
    if pinned:
        try:
            return date.fromisoformat(pinned)
        except ValueError as exc:
            raise BadInput(_("FUJIAN_TODAY must be YYYY-MM-DD.")) from exc
    return datetime.now(UTC).astimezone(CHINA).date()


def now() -> datetime:
    """The instant a change is recorded (a change log's ``at``), in UTC. Modules import it by
    name, so a test can pin it per module."""
    return datetime.now(UTC)


ACCEPTED_FORMS = (
    "2025-03-01, 2025/3/1, 2025.3.1, 2025年3月1日, 20250301, "
    "today, yesterday, tomorrow, +3d, -1w, +2m"
)

_SEPARATED = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_RELATIVE = re.compile(r"([+-])\s*(\d{1,5})\s*([dwm])")
_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1, "今天": 0, "昨天": -1, "明天": 1}


def _shown(text: str) -> str:
    """The input as echoed in a message: never more than 40 characters of it."""
    return text if len(text) <= 40 else text[:40] + "…"


def _bad(text: str) -> BadInput:
    text = _shown(text)
    return BadInput(
        _("Not a date: {text!r}. Use one of: {forms}.").format(text=text, forms=ACCEPTED_FORMS)
    )


def parse_date(text: str, today: date) -> date:
    """Parse one date as a person types it; raise :class:`BadInput` naming the accepted forms.

    Ambiguous day/month orders such as ``03/04/2025`` are refused rather than guessed.
    """
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:  # the ISO form is by far the most common (exports, imports, scripts): fast path
            return date.fromisoformat(text)
        except ValueError:
            pass  # e.g. 2025-02-30: fall through to the full parser and its message
    raw = text
    # Full-width digits and separators (２０２６－０３－０１), as Chinese input methods type them.
    text = unicodedata.normalize("NFKC", text).strip().lower()
    if len(text) > 40:
        raise _bad(raw)
    if text in _WORDS:
        try:
            return today + timedelta(days=_WORDS[text])
        except OverflowError as exc:  # "tomorrow" on date.max
            raise _bad(raw) from exc
    if m := _RELATIVE.fullmatch(text):
        sign = 1 if m.group(1) == "+" else -1
        amount = sign * int(m.group(2))
        unit = m.group(3)
        try:
            if unit == "d":
                return today + timedelta(days=amount)
            if unit == "w":
                return today + timedelta(weeks=amount)
            from dateutil.relativedelta import relativedelta  # month arithmetic, clipped

            return today + relativedelta(months=amount)
        except (OverflowError, ValueError) as exc:
            raise _bad(raw) from exc
    for pattern in (_SEPARATED, _CHINESE, _COMPACT):
        if m := pattern.fullmatch(text):
            groups = [g for g in m.groups() if g not in ("-", "/", ".")]
            year, month, day = (int(g) for g in groups)
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise BadInput(
                    _("No such date: {text!r}. Use one of: {forms}.").format(
                        text=_shown(raw), forms=ACCEPTED_FORMS
                    )
                ) from exc
    raise _bad(raw)


# Event dates (opened, a stage's event, a reply, a close) must be days people mean: not in the
# future, and not before the mechanism could have recorded them. Due dates may lie ahead, but
# not beyond this many years from their start (a typo'd year, not a real period).
EARLIEST = date(2000, 1, 1)
DUE_YEARS = 10


def check_event(day: date, today: date, option: str) -> date:
    """Refuse an event date after ``today`` or before :data:`EARLIEST`."""
    if day > today:
        raise BadInput(_("{option} {day} is after today ({today}): an event cannot be in the "
                         "future.").format(option=option, day=day.isoformat(),
                                           today=today.isoformat()))
    if day < EARLIEST:
        raise BadInput(_("{option} {day} is before {earliest}: check the year.").format(
            option=option, day=day.isoformat(), earliest=EARLIEST.isoformat()))
    return day


def check_due(due: date, start: date, option: str) -> date:
    """Refuse a due date more than :data:`DUE_YEARS` years after its start."""
    try:
        limit = start.replace(year=start.year + DUE_YEARS)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + DUE_YEARS, day=28)
    if due > limit:
        raise BadInput(_("{option} {day} is more than {years} years after {start}: check the "
                         "year.").format(option=option, day=due.isoformat(), years=DUE_YEARS,
                                         start=start.isoformat()))
    return due
