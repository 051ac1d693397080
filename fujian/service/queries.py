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
    meeting_id: int | None = None  # only the action items of this meeting


def _statement(filters: Filters, due_part: bool | None = None,
               limit: int | None = None) -> Select:
    """The query for ``filters``; ``due_part`` True/False restricts it to items with/without
    a due date (see :func:`iter_items`)."""
    t = Item.__table__
    stmt = (
        select(
            t.c.id.label("pk"), t.c.kind, t.c.number, t.c.title, _unit.code.label("unit"),
            _unit.name.label("unit_name"), t.c.stage, t.c.status, t.c.opened_on, t.c.due_on,
            t.c.closed_on, t.c.outcome, t.c.note, t.c.subtype, _from.code.label("from_unit"),
            t.c.party, t.c.enterprise, t.c.doc_no, t.c.urgent, t.c.attendees, t.c.minutes,
            _meeting.number.label("meeting_number"), t.c.stage_on, t.c.met_on, t.c.met_due,
        )
        .select_from(t)
        # An outer join, although every item has a unit: it makes the item table drive the
        # query, so the (status, due_on) indexes give rows in order instead of a full sort.
        .outerjoin(_unit, _unit.id == t.c.unit_id)
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
    if filters.meeting_id is not None:
        conditions.append(t.c.meeting_id == filters.meeting_id)
    if due_part is not None:
        conditions.append(t.c.due_on.is_not(None) if due_part else t.c.due_on.is_(None))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    # Plain column orders, so that the (…, status, due_on) indexes deliver rows already sorted;
    # an expression such as "due_on IS NULL" would force a sort of every matching row.
    order = {
        "due": (t.c.due_on, t.c.kind, t.c.number),
        "overdue": (t.c.due_on, t.c.kind, t.c.number),
        "opened": (t.c.opened_on, t.c.kind, t.c.number),
        "id": (t.c.kind, t.c.number),
    }[filters.sort]
    stmt = stmt.order_by(*order)
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


# Positions of the selected columns (see _statement): rows are read by index, which is several
# times cheaper than attribute access when a report shapes a few hundred thousand of them.
(_PK, _KIND, _NUMBER, _TITLE, _UNIT, _UNIT_NAME, _STAGE, _STATUS, _OPENED, _DUE, _CLOSED,
 _OUTCOME, _NOTE, _SUBTYPE, _FROM_UNIT, _PARTY, _ENTERPRISE, _DOC_NO, _URGENT, _ATTENDEES,
 _MINUTES, _MEETING_NUMBER, _STAGE_ON, _MET_ON, _MET_DUE) = range(25)
_FIELD_POSITIONS = {"party": _PARTY, "enterprise": _ENTERPRISE, "doc_no": _DOC_NO,
                    "urgent": _URGENT, "attendees": _ATTENDEES, "minutes": _MINUTES}


def _kind_shapers() -> dict[str, tuple]:
    """Per kind: its ID prefix, subtype key, and (key, position, how) for each own field."""
    shapers = {}
    for code, kind in KINDS.items():
        own = []
        for kf in kind.fields:
            if kf.type == "unit":
                own.append((kf.name, _FROM_UNIT, "plain"))
            elif kf.type == "meeting":
                own.append((kf.name, _MEETING_NUMBER, "meeting"))
            else:
                own.append((kf.name, _FIELD_POSITIONS[kf.name],
                             "flag" if kf.type == "flag" else "plain"))
        shapers[code] = (kind.prefix, kind.subtype_key, tuple(own))
    return shapers


_SHAPERS = _kind_shapers()


def shape(row, as_of: date | None = None) -> dict:
    """One result row as the public dict: the JSON contract of every list, show and export."""
    prefix, subtype_key, own = _SHAPERS[row[_KIND]]
    status, due_on = row[_STATUS], row[_DUE]
    out = {
        "id": f"{prefix}{row[_NUMBER]}",
        "kind": row[_KIND],
        "title": row[_TITLE],
        "unit": row[_UNIT],
        "unit_name": row[_UNIT_NAME],
        "stage": row[_STAGE],
        "status": status,
        "opened_on": row[_OPENED],
        "due_on": due_on,
        "closed_on": row[_CLOSED],
        "outcome": row[_OUTCOME],
        "note": row[_NOTE],
    }
    out["stage_on"] = row[_STAGE_ON]
    out["met_on"] = row[_MET_ON]
    out["met_due"] = row[_MET_DUE]
    if subtype_key:
        out[subtype_key] = row[_SUBTYPE]
    for key, position, how in own:
        value = row[position]
        if how == "flag":
            value = bool(value)
        elif how == "meeting" and value is not None:
            value = f"M{value}"
        out[key] = value
    if as_of is not None:
        overdue = status == OPEN and due_on is not None and due_on < as_of
        out["days_overdue"] = (as_of - due_on).days if overdue else 0
    return out


def iter_items(connection, filters: Filters, as_of: date | None = None) -> Iterator[dict]:
    """Stream matching items as public dicts.

    By due date, items with a due date come first, then those without one (such as meetings):
    two ordered queries rather than one that sorts on "has a due date", which no index serves.
    """
    if filters.sort in ("due", "overdue"):
        parts = [(True, filters.limit)]
        if filters.overdue_as_of is None and (filters.due_from, filters.due_to) == (None, None):
            parts.append((False, filters.limit))
    else:
        parts = [(None, filters.limit)]
    sent = 0
    for due_part, limit in parts:
        if limit is not None:
            limit -= sent
            if limit <= 0:
                return
        statement = _statement(filters, due_part, limit)
        for row in connection.execution_options(yield_per=2000).execute(statement):
            sent += 1
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


