"""Reports: overdue, due soon and the summary the joint meeting reads. All take the as-of date
as a parameter; none reads the clock. They take what the Tracker hands down (an open
connection, the day, options), never the Tracker itself."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, false, func, select

from fujian.errors import BadInput
from fujian.i18n import _
from fujian.kinds import GROUP_LABELS, KINDS, Kind
from fujian.models import (
    DUTY_LATE,
    DUTY_MET,
    DUTY_UNMET,
    DUTY_WAIVED,
    Duty,
    Item,
    Unit,
    overdue_condition,
)
from fujian.service.queries import Filters, iter_items


def overdue_rows(conn, as_of: date, today: date, unit_id: int | None = None,
                 kind: Kind | None = None, **who) -> Iterator[dict]:
    """Open items due before ``as_of``, most overdue first. ``who``: further Filters fields
    (involving_id, from_id, handler, search)."""
    filters = Filters(kinds=(kind,) if kind else (), status="open", unit_id=unit_id,
                      overdue_as_of=as_of, sort="overdue", **who)
    return iter_items(conn, filters, as_of, today)


def due_soon_rows(conn, as_of: date, today: date, within: int, unit_id: int | None = None,
                  kind: Kind | None = None, **who) -> Iterator[dict]:
    """Open items due from ``as_of`` through ``as_of + within`` days."""
    filters = Filters(kinds=(kind,) if kind else (), status="open", unit_id=unit_id,
                      due_from=as_of, due_to=as_of + timedelta(days=within), sort="due",
                      **who)
    for row in iter_items(conn, filters, as_of, today):
        row["days_left"] = (row["due_on"] - as_of).days
        yield row


def check_within(within: int) -> None:
    """Refuse a negative --within (due soon, the pack, the reminders)."""
    if within < 0:
        raise BadInput(_("--within must be 0 or more."))


@dataclass(frozen=True)
class PackData:
    """What the Tracker hands down to write the joint meeting's pack (service/pack.py,
    service/workbook.py): an open connection, the day, the meeting asked for and the units."""

    as_of: date
    today: date
    unit_names: dict[str, str]  # code → name
    conn: Any = None  # open while the pack is written
    units: list[dict] = field(default_factory=list)  # the unit directory
    meeting: dict | None = None  # the meeting's public dict (Tracker.show)
    meeting_pk: int | None = None
    database: Any = None  # the store: an output file must never be it (transfer.open_output)

    def items(self, filters: Filters) -> Iterator[dict]:
        """Items matching ``filters``, judged at the pack's day."""
        return iter_items(self.conn, filters, self.as_of, self.today)

    def overdue(self) -> Iterator[dict]:
        return overdue_rows(self.conn, self.as_of, self.today)

    def due_soon(self, within: int) -> Iterator[dict]:
        return due_soon_rows(self.conn, self.as_of, self.today, within)

    def summary(self) -> list[dict]:
        return summary_rows(self.conn, self.as_of, None, None)

    def meeting_actions(self) -> Iterator[dict]:
        """The action items of the meeting asked for, by ID."""
        return self.items(Filters(kinds=(KINDS["action"],), status="all", sort="id",
                                  meeting_id=self.meeting_pk))


SUMMARY_KEYS = ("on_time", "late", "unmet", "overdue", "open", "waived")


def summary_rows(conn, as_of: date, start: date | None, end: date | None) -> list[dict]:
    """Duties judged at ``as_of`` (domain.md §3), per kind, per holder unit and in total, over
    the duties due within ``start``…``end`` (each bound optional; a duty without a due date is
    not counted, nor is a right: a right is never late). A duty exists at ``as_of`` once begun;
    by then it was met on time, met late, ended unmet (the owed act did not happen), waived
    (listed, never counted), or is still open: overdue when its due date has passed and its
    item's clocks are not paused, else open. ``rate`` = on_time / (on_time + late + unmet +
    overdue), null only when that sum is 0 — never answering scores as badly as answering
    late."""
    by_kind, by_unit, total = _summary_counts(conn, _summary_statement(as_of, start, end))
    units = {r.id: (r.code, r.name) for r in conn.execute(select(Unit.id, Unit.code, Unit.name))}
    out = [_summary_row("kind", kind.code, kind.label, by_kind.get(kind.code))
           for kind in KINDS.values()]
    for code, name, values in sorted((*units[pk], v) for pk, v in by_unit.items()):
        out.append(_summary_row("unit", code, name, values))
    out.append(_summary_row("total", "total", "合计", total))
    return out


def _summary_statement(as_of: date, start: date | None, end: date | None):
    """SQL: the summary's counts per kind and holder of the duties judged at ``as_of``."""
    d, t = Duty.__table__, Item.__table__
    ended = and_(d.c.ended_on.is_not(None), d.c.ended_on <= as_of)
    overdue = overdue_condition(as_of, is_open=~ended, is_right=d.c.is_right, due_on=d.c.due_on,
                                paused_on=t.c.paused_on)

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    measures = [
        count_if(and_(ended, d.c.state == DUTY_MET)).label("on_time"),
        count_if(and_(ended, d.c.state == DUTY_LATE)).label("late"),
        count_if(and_(ended, d.c.state == DUTY_UNMET)).label("unmet"),
        count_if(overdue).label("overdue"),
        count_if(and_(~ended, ~overdue)).label("open"),
        count_if(and_(ended, d.c.state == DUTY_WAIVED)).label("waived"),
    ]
    conditions = [d.c.due_on.is_not(None), d.c.started_on <= as_of, t.c.opened_on <= as_of,
                  d.c.is_right == false(),  # a right is never late: no statistic counts it
                  t.c.voided_at.is_(None)]  # an entry made in error is no statistic
    if start is not None:
        conditions.append(d.c.due_on >= start)
    if end is not None:
        conditions.append(d.c.due_on <= end)
    # Grouped by an expression, not the bare column: the item index on kind would otherwise
    # tempt the planner to walk every item in kind order and look its duties up one by one
    # (4.5 times slower at 300k items than one pass over the duties).
    kind = t.c.kind.concat("").label("kind")
    return (select(kind, d.c.holder_id, *measures).select_from(d)
            .join(t, t.c.id == d.c.item_id).where(*conditions)
            .group_by(kind, d.c.holder_id))


def _summary_counts(conn, stmt) -> tuple[dict[str, dict[str, int]], dict[int, dict[str, int]],
                                         dict[str, int]]:
    """The statement's counts added up per kind, per holder and in total."""
    by_kind: dict[str, dict[str, int]] = {}
    by_unit: dict[int, dict[str, int]] = {}
    total = dict.fromkeys(SUMMARY_KEYS, 0)
    for row in conn.execute(stmt):
        values = {k: int(getattr(row, k)) for k in SUMMARY_KEYS}
        for bucket in (by_kind.setdefault(row.kind, dict.fromkeys(SUMMARY_KEYS, 0)),
                       by_unit.setdefault(row.holder_id, dict.fromkeys(SUMMARY_KEYS, 0)),
                       total):
            for k, v in values.items():
                bucket[k] += v
    return by_kind, by_unit, total


def _summary_row(group: str, key: str, name: str, values: dict[str, int] | None) -> dict:
    values = values or dict.fromkeys(SUMMARY_KEYS, 0)
    judged = values["on_time"] + values["late"] + values["unmet"] + values["overdue"]
    rate = round(values["on_time"] / judged, 4) if judged else None
    return {"group": group, "key": key, "name": name, **values, "rate": rate}


def summary_for_people(rows: list[dict]) -> list[dict]:
    """The summary as a person reads it: Chinese group names, the rate as a percentage."""
    return [{**row, "group": GROUP_LABELS[row["group"]],
             "rate": "" if row["rate"] is None
             else f"{row['rate'] * 100:.1f}%"} for row in rows]
