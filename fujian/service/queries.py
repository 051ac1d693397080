"""Reads in bulk with SQLAlchemy Core: rows come back as plain dicts, streamed, never as ORM
objects (loading ORM objects is several times slower for a full list or export)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased

from fujian.kinds import CLOSED, KINDS, OPEN, Kind
from fujian.models import ChangeLog, Item, Unit

_unit = aliased(Unit, name="u")
_from = aliased(Unit, name="fu")
_meeting = aliased(Item, name="mt")


@dataclass
class Filters:
    kinds: tuple[Kind, ...] = ()
    status: str = OPEN  # open | closed | all
    unit_id: int | None = None
    overdue_as_of: date | None = None  # only open items due before this date
    due_from: date | None = None  # inclusive range on the due date
    due_to: date | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    sort: str = "due"  # due | opened | id | overdue
    limit: int | None = None
    ids: tuple[int, ...] = ()


def _statement(filters: Filters) -> Select:
    t = Item.__table__
    stmt = (
        select(
            t.c.id.label("pk"), t.c.kind, t.c.number, t.c.title, _unit.code.label("unit"),
            _unit.name.label("unit_name"), t.c.stage, t.c.status, t.c.opened_on, t.c.due_on,
            t.c.closed_on, t.c.outcome, t.c.note, t.c.subtype, _from.code.label("from_unit"),
            t.c.party, t.c.enterprise, t.c.doc_no, t.c.urgent, t.c.attendees, t.c.minutes,
            _meeting.number.label("meeting_number"),
        )
        .select_from(t)
        .join(_unit, _unit.id == t.c.unit_id)
        .outerjoin(_from, _from.id == t.c.from_unit_id)
        .outerjoin(_meeting, _meeting.id == t.c.meeting_id)
    )
    conditions = []
    if filters.kinds:
        conditions.append(t.c.kind.in_([k.code for k in filters.kinds]))
    if filters.status in (OPEN, CLOSED):
        conditions.append(t.c.status == filters.status)
    if filters.unit_id is not None:
        conditions.append(t.c.unit_id == filters.unit_id)
    if filters.overdue_as_of is not None:
        conditions += [t.c.status == OPEN, t.c.due_on < filters.overdue_as_of]
    if filters.due_from is not None:
        conditions.append(t.c.due_on >= filters.due_from)
    if filters.due_to is not None:
        conditions.append(t.c.due_on <= filters.due_to)
    if filters.opened_from is not None:
        conditions.append(t.c.opened_on >= filters.opened_from)
    if filters.opened_to is not None:
        conditions.append(t.c.opened_on <= filters.opened_to)
    if filters.ids:
        conditions.append(t.c.id.in_(filters.ids))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    # Items without a due date sort last whatever the order.
    no_due = t.c.due_on.is_(None)
    order = {
        "due": (no_due, t.c.due_on, t.c.kind, t.c.number),
        "overdue": (no_due, t.c.due_on, t.c.kind, t.c.number),
        "opened": (t.c.opened_on, t.c.kind, t.c.number),
        "id": (t.c.kind, t.c.number),
    }[filters.sort]
    stmt = stmt.order_by(*order)
    if filters.limit is not None:
        stmt = stmt.limit(filters.limit)
    return stmt


def shape(row, as_of: date | None = None) -> dict:
    """One result row as the public dict: the JSON contract of every list, show and export."""
    kind = KINDS[row.kind]
    out = {
        "id": f"{kind.prefix}{row.number}",
        "kind": row.kind,
        "title": row.title,
        "unit": row.unit,
        "unit_name": row.unit_name,
        "stage": row.stage,
        "status": row.status,
        "opened_on": row.opened_on,
        "due_on": row.due_on,
        "closed_on": row.closed_on,
        "outcome": row.outcome,
        "note": row.note,
    }
    if kind.subtype_key:
        out[kind.subtype_key] = row.subtype
    for kf in kind.fields:
        if kf.type == "unit":
            out[kf.name] = row.from_unit
        elif kf.type == "meeting":
            out[kf.name] = f"M{row.meeting_number}" if row.meeting_number is not None else None
        else:
            value = getattr(row, kf.name)
            out[kf.name] = bool(value) if kf.type == "flag" else value
    if as_of is not None:
        overdue = row.status == OPEN and row.due_on is not None and row.due_on < as_of
        out["days_overdue"] = (as_of - row.due_on).days if overdue else 0
    return out


def iter_items(connection, filters: Filters, as_of: date | None = None) -> Iterator[dict]:
    """Stream matching items as public dicts."""
    result = connection.execution_options(yield_per=2000).execute(_statement(filters))
    for row in result:
        yield shape(row, as_of)


def minutes_of(connection, item_pk: int) -> str | None:
    return connection.scalar(select(Item.minutes).where(Item.id == item_pk))


def item_pk(connection, kind: str, number: int) -> int | None:
    return connection.scalar(select(Item.id).where(Item.kind == kind, Item.number == number))


def history_rows(connection, subject: str) -> list[dict]:
    t = ChangeLog.__table__
    rows = connection.execute(select(t).where(t.c.subject == subject).order_by(t.c.id))
    return [
        {"at": r.at, "actor": r.actor, "action": r.action, "field": r.field,
         "old": r.old_value, "new": r.new_value, "reason": r.reason}
        for r in rows
    ]


def count_items(connection) -> dict[str, int]:
    t = Item.__table__
    rows = connection.execute(select(t.c.kind, func.count()).group_by(t.c.kind))
    return {kind: n for kind, n in rows}


