"""Reports: overdue, due soon and the summary the joint meeting reads. All take the as-of date
as a parameter; none reads the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from fujian.kinds import Kind
from fujian.service.queries import Filters


def overdue_rows(tracker, as_of: date, unit: str | None = None,
                 kind: Kind | None = None) -> Iterator[dict]:
    """Open items due before ``as_of``, most overdue first."""
    filters = Filters(kinds=(kind,) if kind else (), status="open",
                      unit_id=tracker.unit_id(unit) if unit else None,
                      overdue_as_of=as_of, sort="overdue")
    return tracker.items(filters, as_of)


def due_soon_rows(tracker, as_of: date, within: int, unit: str | None = None,
                  kind: Kind | None = None) -> Iterator[dict]:
    """Open items due from ``as_of`` through ``as_of + within`` days."""
    filters = Filters(kinds=(kind,) if kind else (), status="open",
                      unit_id=tracker.unit_id(unit) if unit else None,
                      due_from=as_of, due_to=as_of + timedelta(days=within), sort="due")
    for row in tracker.items(filters, as_of):
        row["days_left"] = (row["due_on"] - as_of).days
        yield row


SUMMARY_KEYS = ("opened", "closed", "closed_on_time", "closed_late", "open", "overdue_now")


def summary_rows(tracker, as_of: date, start: date | None, end: date | None) -> list[dict]:
    """Per kind, per unit and in total: opened, closed (on time / late) within the window,
    open at its end, overdue as of ``as_of``, and the on-time rate of the closed ones."""
    from sqlalchemy import and_, case, func, literal, or_, select

    from fujian.kinds import KINDS
    from fujian.models import Item, Unit

    t = Item.__table__
    end = end or as_of

    def within(column):
        cond = column <= end
        return and_(column >= start, cond) if start is not None else cond

    closed = and_(t.c.closed_on.is_not(None), within(t.c.closed_on))
    # On time is judged when the unit met its duty (a reply stops the clock), else at closing.
    late = and_(closed, or_(
        and_(t.c.met_on.is_not(None), t.c.met_due.is_not(None), t.c.met_on > t.c.met_due),
        and_(t.c.met_on.is_(None), t.c.due_on.is_not(None), t.c.closed_on > t.c.due_on)))

    def count_if(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    measures = [
        count_if(within(t.c.opened_on)).label("opened"),
        count_if(closed).label("closed"),
        count_if(and_(closed, ~late)).label("closed_on_time"),
        count_if(late).label("closed_late"),
        # Open at the end of the window: opened by then and not closed by then.
        count_if(and_(t.c.opened_on <= end,
                      or_(t.c.closed_on.is_(None), t.c.closed_on > end))).label("open"),
        count_if(and_(t.c.status == "open", t.c.due_on < as_of)).label("overdue_now"),
    ]
    out: list[dict] = []
    with tracker.store.engine.connect() as conn:
        by_kind = {r.kind: r for r in conn.execute(select(t.c.kind, *measures).group_by(t.c.kind))}
        for kind in KINDS.values():
            out.append(_summary_row("kind", kind.code, kind.label, by_kind.get(kind.code)))
        stmt = (select(Unit.code, Unit.name, *measures).select_from(t)
                .join(Unit, Unit.id == t.c.unit_id).group_by(Unit.code, Unit.name)
                .order_by(Unit.code))
        for r in conn.execute(stmt):
            out.append(_summary_row("unit", r.code, r.name, r))
        total = conn.execute(select(literal("total"), *measures)).one()
        out.append(_summary_row("total", "total", "合计", total))
    return out


def _summary_row(group: str, key: str, name: str, row) -> dict:
    values = {k: int(getattr(row, k)) if row is not None else 0 for k in SUMMARY_KEYS}
    rate = (values["closed_on_time"] / values["closed"]) if values["closed"] else None
    return {"group": group, "key": key, "name": name, **values,
            "on_time_rate": None if rate is None else round(rate, 4)}


GROUP_LABELS = {"kind": "按类别", "unit": "按单位", "total": "合计"}


def summary_for_people(rows: list[dict]) -> list[dict]:
    """The summary as a person reads it: Chinese group names, the rate as a percentage."""
    return [{**row, "group": GROUP_LABELS[row["group"]],
             "on_time_rate": "" if row["on_time_rate"] is None
             else f"{row['on_time_rate'] * 100:.1f}%"} for row in rows]
