"""Reads in bulk with SQLAlchemy Core: rows come back as plain dicts, streamed, never as ORM
objects (loading ORM objects is several times slower for a full list or export)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date
from typing import Any

from sqlalchemy import Date, Select, Text, and_, bindparam, case, false, func, or_, select
from sqlalchemy.orm import aliased

from fujian import models
from fujian.errors import BadInput, NotFound, RowsSkipped, StorageError
from fujian.i18n import _, listing
from fujian.kinds import CLOSED, KINDS, OPEN, Kind, format_id, names_a_unit, split_id, unit_columns
from fujian.models import (
    DUTY_EXERCISED,
    DUTY_LAPSED,
    DUTY_LATE,
    DUTY_MET,
    DUTY_OPEN,
    ChangeLog,
    Duty,
    Item,
    Note,
    Unit,
    check_kind_columns,
    overdue_condition,
)
from fujian.service.past import stages_then
from fujian.service.search import condition

# The item columns a row carries: every column of the model, in the table's order, but the
# few no list, show or export reads (parsing two timestamps per row is dear for a million
# rows). Derived once from the model, so that a column added to it is read like the others.
_UNREAD = frozenset({"voided_at", "created_at", "updated_at", "actor"})
_COLUMNS = tuple(c for c in Item.__table__.columns if c.name not in _UNREAD)

# Item columns that name another item (kinds.KindField type "link"): each is joined to read
# the linked item's ID.
LINK_COLUMNS = tuple(c.name for c in Item.__table__.columns if c.name in {
    kf.column_name for kind in KINDS.values() for kf in kind.fields if kf.type == "link"})
_LINKED = {column: aliased(Item, name=f"lk_{column}") for column in LINK_COLUMNS}


@dataclass
class Filters:
    kinds: tuple[Kind, ...] = ()
    status: str = OPEN  # open | closed | all
    unit_id: int | None = None  # the unit that holds the (most urgent) open duty
    overdue_as_of: date | None = None  # only open items due before this date
    due_from: date | None = None  # inclusive range on the due date
    due_to: date | None = None
    opened_from: date | None = None
    opened_to: date | None = None
    sort: str = "due"  # due | opened | id | overdue
    limit: int | None = None
    ids: tuple[int, ...] = ()
    meeting_id: int | None = None  # only the action items of this meeting
    links: tuple[tuple[str, int], ...] = ()  # (link column, item pk): items linked to these
    involving_id: int | None = None  # items a unit sent, received or holds a duty on
    from_id: int | None = None  # items a unit sent (its referrals, its clues)
    handler: str | None = None  # the person handling the item
    search: tuple[str, ...] = ()  # every word must occur (service/search.py)
    include_void: bool = False  # entries voided as mistakes (default: left out)


@dataclass(frozen=True)
class _State:
    """What the filters and the order read of an item's state: the item row as it stands
    (today and later), or the state at a past day rebuilt in SQL from the duties open that day.
    The one filter table (:func:`_conditions`) reads either, so that both lists filter alike."""

    status: Any
    holder: Any  # the unit holding the most urgent open duty (the item's own unit: none)
    due_on: Any
    is_right: Any
    overdue_on: date | None  # the day the overdue filter judges at


# The duty an item's holder and due date stood for at a past day (see _urgent_then).
_URGENT = aliased(Duty, name="urgent")
_URGENT_COLUMNS = (_URGENT.id, _URGENT.holder_id, _URGENT.due_on, _URGENT.name, _URGENT.is_right,
                   _URGENT.provisional)


def _present_state(filters: Filters) -> _State:
    """The state the item row holds: its holder and due date are its most urgent duty's."""
    t = Item.__table__
    return _State(t.c.status, t.c.holder_id, t.c.due_on, t.c.duty_is_right,
                  filters.overdue_as_of)


def _closed_then(day: date):
    """SQL: the item was closed by ``day``."""
    t = Item.__table__
    return and_(t.c.closed_on.is_not(None), t.c.closed_on <= day)


def _past_state(day: date) -> _State:
    """The state at ``day``: open unless closed by then; an open item's holder and due date
    those of its most urgent duty open that day (joined as ``urgent``), else its own unit."""
    t = Item.__table__
    closed = _closed_then(day)
    return _State(
        status=case((closed, CLOSED), else_=OPEN),
        holder=case((closed, func.coalesce(t.c.holder_id, t.c.unit_id)),
                    else_=func.coalesce(_URGENT.holder_id, t.c.unit_id)),
        due_on=case((closed, t.c.due_on), else_=_URGENT.due_on),
        is_right=func.coalesce(_URGENT.is_right, false()),
        overdue_on=day)


def _urgent_then(day: date):
    """SQL: the key of the item's most urgent duty open at ``day`` (begun by then, not ended
    by then): :func:`duties.most_urgent` in SQL — a duty with a due date (the first due), else a
    right still running then, else a duty without a due date; the first entered on a tie."""
    t, d = Item.__table__, Duty.__table__
    running = or_(d.c.is_right == false(), and_(d.c.due_on.is_not(None), d.c.due_on >= day))
    return (select(d.c.id)
            .where(d.c.item_id == t.c.id, d.c.started_on <= day,
                   or_(d.c.ended_on.is_(None), d.c.ended_on > day), running)
            .order_by(d.c.due_on.is_(None), d.c.is_right, d.c.due_on, d.c.id)
            .limit(1).correlate(t).scalar_subquery())


def _statement(filters: Filters, due_part: bool | None = None, limit: int | None = None,
               exists_on: date | None = None, then: date | None = None) -> Select:
    """The query for ``filters``; ``due_part`` True/False restricts it to items with/without
    a due date (see :func:`iter_items`); ``exists_on`` leaves out items opened after it.
    ``then``: a past day, whose state (:func:`_past_state`) the filters and the order read,
    and whose most urgent duties the rows carry after the link columns."""
    t = Item.__table__
    # Units are looked up in a small dict (see _units), not joined: the item table alone
    # drives the query, so the (…, status, due_on) indexes give rows in order.
    stmt = select(*_COLUMNS, *(c for column in LINK_COLUMNS
                               for c in (_LINKED[column].kind, _LINKED[column].number)))
    stmt = stmt.select_from(t)
    for column in LINK_COLUMNS:
        stmt = stmt.outerjoin(_LINKED[column], _LINKED[column].id == t.c[column])
    state = _present_state(filters)
    if then is not None:
        state = _past_state(then)
        stmt = stmt.add_columns(*_URGENT_COLUMNS).outerjoin(
            _URGENT, _URGENT.id == _urgent_then(then))
    conditions = _conditions(filters, state, exists_on)
    if due_part is not None:
        conditions.append(state.due_on.is_not(None) if due_part else state.due_on.is_(None))
    if conditions:
        stmt = stmt.where(and_(*conditions))
    stmt = stmt.order_by(*_order(filters.sort, state))
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def _conditions(filters: Filters, state: _State, exists_on: date | None) -> list:
    """The one filter table: each of ``filters`` as an SQL condition on ``state``."""
    t = Item.__table__
    given = {name: getattr(filters, name) for name in _FILTERS}
    conditions = [_FILTERS[name](value, state) for name, value in given.items()
                  if value not in (None, ())]
    if filters.status in (OPEN, CLOSED):
        conditions.append(state.status == filters.status)
    if filters.overdue_as_of is not None:
        conditions.append(overdue_condition(
            state.overdue_on, is_open=state.status == OPEN, is_right=state.is_right,
            due_on=state.due_on, paused_on=t.c.paused_on))
    if exists_on is not None:
        conditions.append(t.c.opened_on <= exists_on)
    if not filters.include_void:
        conditions.append(t.c.voided_at.is_(None))
    return conditions


def _involving(unit: int, _state: _State):
    """SQL: the unit sent, received or holds a duty on the item, or is its own unit."""
    t, duty = Item.__table__, Duty.__table__
    return or_(t.c.unit_id == unit, t.c.from_unit_id == unit, t.c.to_unit_id == unit,
               t.c.holder_id == unit,
               t.c.id.in_(select(duty.c.item_id).where(duty.c.holder_id == unit)))


_T = Item.__table__
# Filters whose value alone makes the condition, by Filters field (unset: None or empty).
_FILTERS = {
    "kinds": lambda kinds, _s: _T.c.kind.in_([k.code for k in kinds]),
    "unit_id": lambda unit, s: s.holder == unit,
    "due_from": lambda day, s: s.due_on >= day,
    "due_to": lambda day, s: s.due_on <= day,
    "opened_from": lambda day, _s: _T.c.opened_on >= day,
    "opened_to": lambda day, _s: _T.c.opened_on <= day,
    "ids": lambda ids, _s: _T.c.id.in_(ids),
    "meeting_id": lambda pk, _s: _T.c.meeting_id == pk,
    "links": lambda links, _s: and_(*(_T.c[column] == pk for column, pk in links)),
    "involving_id": _involving,
    "from_id": lambda unit, _s: _T.c.from_unit_id == unit,
    "handler": lambda name, _s: _T.c.handler == name,
    "search": lambda words, _s: condition(words),
}


def _order(sort: str, state: _State) -> tuple:
    """Plain column orders, so that the (…, status, due_on) indexes deliver rows already
    sorted; an expression such as "due_on IS NULL" would force a sort of every matching row."""
    t = Item.__table__
    return {
        "due": (state.due_on, t.c.kind, t.c.number),
        "overdue": (state.due_on, t.c.kind, t.c.number),
        "opened": (t.c.opened_on, t.c.kind, t.c.number),
        "id": (t.c.kind, t.c.number),
    }[sort]


# Positions of the selected columns (see _statement), by column name: rows are read by index,
# which is several times cheaper than attribute access when a report shapes a few hundred
# thousand of them.
_POSITIONS = {c.name: i for i, c in enumerate(_COLUMNS)}
# A link column's linked kind and number follow the item's columns, two by two.
_LINK_POSITIONS = {column: len(_COLUMNS) + 2 * i for i, column in enumerate(LINK_COLUMNS)}
(_PK, _KIND, _NUMBER, _TITLE, _HOLDER, _UNIT, _STAGE, _STATUS, _OPENED, _DUE, _CLOSED,
 _OUTCOME, _NOTE, _SUBTYPE, _STAGE_ON, _MET_ON, _MET_DUE, _PAUSED, _HANDLER, _VOID_REASON,
 _DUTY, _DUTY_IS_RIGHT, _DUE_PROVISIONAL) = (_POSITIONS[name] for name in (
    "id", "kind", "number", "title", "holder_id", "unit_id", "stage", "status", "opened_on",
    "due_on", "closed_on", "outcome", "note", "subtype", "stage_on", "met_on", "met_due",
    "paused_on", "handler", "void_reason", "duty", "duty_is_right", "due_provisional"))


def _kind_shaper(kind: Kind) -> tuple:
    """A kind's ID prefix, subtype key, (key, position, how) for each own field, and its
    subtypes' codes."""
    check_kind_columns((kind,))
    own = []
    for kf in kind.fields:
        if kf.type == "unit":
            own.append((kf.name, _POSITIONS[kf.column_name], "unit"))
        elif kf.type == "link":
            own.append((kf.name, _LINK_POSITIONS[kf.column_name], "link"))
        else:
            own.append((kf.name, _POSITIONS[kf.column_name],
                         "flag" if kf.type == "flag" else "plain"))
    codes = frozenset(kind.subtypes.codes) if kind.subtype_key else frozenset()
    return kind.prefix, kind.subtype_key, tuple(own), codes


# Built on first use per kind, so that a kind added to the registry is shaped like the others.
_SHAPERS: dict[str, tuple[Kind, tuple]] = {}
_NO_UNIT = (None, None)


def _shaper(code: str) -> tuple:
    kind = KINDS[code]
    known = _SHAPERS.get(code)
    if known is None or known[0] is not kind:
        known = _SHAPERS[code] = (kind, _kind_shaper(kind))
    return known[1]


def find_item(connection, ident: str, kind: Kind | None = None) -> tuple[int, Kind]:
    """The one ID lookup: the row key and kind of an item by its ID (any letter case);
    refuses an unknown ID or, given ``kind``, another kind's. ``connection`` may be a session."""
    found, number = split_id(ident)
    if kind is not None and kind.code != found.code:
        raise BadInput(_("{id} is not of kind {kind}.").format(id=ident.upper(),
                                                               kind=_(kind.code)))
    pk = connection.scalar(select(Item.id).where(Item.kind == found.code,
                                                 Item.number == number))
    if pk is None:
        raise NotFound(_("No item {id}.").format(id=format_id(found, number)))
    return pk, found


def units_by_id(connection) -> dict[int, tuple[str, str]]:
    """Every unit's id → (code, name): a few dozen rows, read once per query."""
    return {r[0]: (r[1], r[2]) for r in connection.execute(select(Unit.id, Unit.code, Unit.name))}


def shape(row, as_of: date | None = None, units: dict | None = None) -> dict:
    """One result row as the public dict: the JSON contract of every list, show and export.
    ``unit`` is who holds the most urgent open duty; ``assignee`` is the item's own unit."""
    prefix, subtype_key, own, subtypes = _shaper(row[_KIND])
    status = row[_STATUS]
    units = units or {}
    holder = units.get(row[_HOLDER] if row[_HOLDER] is not None else row[_UNIT], _NO_UNIT)
    out = {
        "id": f"{prefix}{row[_NUMBER]}",  # kinds.format_id inline: called for every row
        "kind": row[_KIND],
        "title": row[_TITLE],
        "unit": holder[0],
        "unit_name": holder[1],
        "stage": row[_STAGE],
        "status": status,
        "opened_on": row[_OPENED],
        "due_on": row[_DUE],
        "closed_on": row[_CLOSED],
        "outcome": row[_OUTCOME],
        "paused_on": row[_PAUSED],
        "assignee": units.get(row[_UNIT], _NO_UNIT)[0],
        "handler": row[_HANDLER],
        "note": row[_NOTE],
    }
    out["stage_on"] = row[_STAGE_ON]
    out["met_on"] = row[_MET_ON]
    out["met_due"] = row[_MET_DUE]
    if subtype_key:
        out[subtype_key] = row[_SUBTYPE]
        if row[_SUBTYPE] is not None and row[_SUBTYPE] not in subtypes:
            raise ValueError("subtype")  # written behind fujian's back: iter_items names it
    if type(row[_TITLE]) is not str:
        raise ValueError("title")  # a BLOB another program wrote: iter_items names it
    _own_fields(out, row, own, units)
    if row[_VOID_REASON] is not None:  # only a voided entry carries the key
        out["void_reason"] = row[_VOID_REASON]
    _duty_keys(out, row, as_of, units)
    if as_of is not None:
        out["days_overdue"] = models.days_overdue(
            as_of, is_open=status == OPEN, is_right="right" in out, due_on=out["due_on"],
            paused_on=out["paused_on"])
    return out


def _own_fields(out: dict, row, own: tuple, units: dict) -> None:
    """A kind's own fields into ``out``: flags as booleans, units by code, links by ID."""
    for key, position, how in own:
        value = row[position]
        if how == "flag":
            value = bool(value)
        elif how == "unit":
            value = units.get(value, _NO_UNIT)[0]
        elif how == "link":
            value = None if value is None else f"{_prefix(value)}{row[position + 1]}"
        out[key] = value


def _duty_keys(out: dict, row, as_of: date | None, units: dict) -> None:
    """What an open row says of its most urgent duty: its name, and only when so, that its due
    date is provisional or that it is a right (lapsed when its window passed by ``as_of``)."""
    is_open = row[_STATUS] == OPEN
    out["duty"] = row[_DUTY] if is_open else None
    if row[_DUE_PROVISIONAL] and is_open:  # only a provisional due date carries it
        out["provisional"] = True
    if row[_DUTY_IS_RIGHT] and is_open:  # only a row whose holder may act carries it
        out["right"] = True
        due_on = row[_DUE]
        if as_of is not None and due_on is not None and due_on < as_of:
            lapsed(out, units.get(row[_UNIT], _NO_UNIT))


def lapsed(out: dict, own_unit: tuple) -> None:
    """A row whose only running duty was a right whose window has passed: the right has lapsed
    (domain.md §3), nothing is owed, and the item's own unit is named again."""
    out.pop("right", None)
    out.pop("provisional", None)
    out.update(unit=own_unit[0], unit_name=own_unit[1], due_on=None, duty=None)


def days_overdue(row: dict, as_of: date) -> int:
    """How many days a shaped item row is overdue at ``as_of``, by its most urgent duty
    (models.days_overdue)."""
    return models.days_overdue(as_of, is_open=row["status"] == OPEN,
                               is_right=bool(row.get("right")), due_on=row["due_on"],
                               paused_on=row.get("paused_on"))


def iter_items(connection, filters: Filters, as_of: date | None = None,
               today: date | None = None) -> Iterator[dict]:
    """Stream matching items as public dicts, judged at ``as_of``.

    An item opened after ``as_of`` does not exist then. Records as they stand are the state at
    any day from ``today`` on; an earlier day is rebuilt from the duties (see _past_rows), by
    the same statement with the state of that day.
    By due date, items with a due date come first, then those without one (such as meetings):
    two ordered queries rather than one that sorts on "has a due date", which no index serves.
    """
    units = units_by_id(connection)
    then = as_of if as_of is not None and today is not None and as_of < today else None
    if filters.sort in ("due", "overdue"):
        parts: list[bool | None] = [True]
        if filters.overdue_as_of is None and (filters.due_from, filters.due_to) == (None, None):
            parts.append(False)
    else:
        parts = [None]
    sent = 0
    unreadable: dict[int, tuple[str, str, Any]] | None = None  # looked for once, on a failure
    skipped: list[tuple[str, str, Any]] = []
    for due_part in parts:
        limit = filters.limit
        if limit is not None:
            limit -= sent
            if limit <= 0:
                break
        statement = _statement(filters, due_part, limit, exists_on=as_of, then=then)
        given = 0  # rows of this statement given out
        while True:
            try:
                for row in _readable_rows(connection, statement, unreadable, given, as_of,
                                          units, then):
                    given += 1
                    sent += 1
                    yield row
                break
            except (ValueError, TypeError, KeyError) as exc:
                # SQLite keeps any value in any column: a row another program damaged fails
                # when it is fetched (a date that is no date) or shaped (a kind fujian does
                # not know). The statement runs again without such rows, after the rows
                # already given out; what was left out is said after the last row.
                if unreadable is None:
                    unreadable = unreadable_items(connection)
                    if unreadable:
                        continue
                found = next(damaged_items(connection), None)  # a failure not foreseen
                if found is None:
                    raise
                raise damaged_item_error(*found) from exc
        if unreadable:
            skipped += _passed_over(connection, statement, unreadable,
                                    given if limit is not None and given >= limit else None)
    if skipped:
        if len(filters.ids) == 1:  # one item asked for by its ID (show): name it, alone
            raise damaged_item_error(*skipped[0])
        raise rows_skipped_error(skipped)


def _readable_rows(connection, statement: Select, unreadable: dict | None, after: int,
                   as_of: date | None, units: dict, then: date | None) -> Iterator[dict]:
    """The rows of ``statement`` shaped, without the ``unreadable`` ones, after the first
    ``after`` (given out before the statement ran again)."""
    if unreadable:
        statement = statement.where(Item.__table__.c.id.not_in(bindparam(
            "unreadable", sorted(unreadable), expanding=True, literal_execute=True)))
    rows = connection.execution_options(yield_per=2000).execute(statement)
    shaped = (shape(row, as_of, units) for row in rows) if then is None \
        else _past_rows(connection, rows, then, units)
    return itertools.islice(shaped, after, None)


def _passed_over(connection, statement: Select, unreadable: dict,
                 shown: int | None) -> list[tuple[str, str, Any]]:
    """The ``unreadable`` rows ``statement`` would have given, in its order: all of them, or,
    when its limit was reached at ``shown`` rows, those before the last row shown."""
    t = Item.__table__
    passed = []
    readable = 0
    for (pk,) in connection.execute(statement.with_only_columns(t.c.id).limit(None)):
        if pk in unreadable:
            passed.append(unreadable[pk])
            continue
        readable += 1
        if shown is not None and readable >= shown:
            break
    return passed


def unreadable_items(connection) -> dict[int, tuple[str, str, Any]]:
    """Row key → (ID, field, value) of each item row a list cannot read: a column it reads
    whose value does not convert (a date that is no date), a title that is not text, a kind
    fujian does not know, a subtype that is not the kind's (what :func:`shape` refuses).
    Other damage (a stage, an outcome, a column lists do not read) is doctor's to find."""
    typed = [(c.name, c.type.dialect_impl(connection.dialect).result_processor(
        connection.dialect, None)) for c in _COLUMNS if not isinstance(c.type, Text)]
    typed = [(name, process) for name, process in typed if process is not None]
    names = [c.name for c in models.Item.__table__.columns]
    found = {}
    for raw in connection.exec_driver_sql(f"SELECT {', '.join(names)} FROM item ORDER BY id"):
        row = dict(zip(names, raw, strict=True))
        problem = _unreadable_problem(typed, row)
        if problem is not None:
            found[row["id"]] = problem
    return found


def _unreadable_problem(typed: list, row: dict) -> tuple[str, str, Any] | None:
    kind = KINDS.get(row["kind"]) if isinstance(row["kind"], str) else None
    number = row["number"]
    ident = format_id(kind, number) if kind is not None and isinstance(number, int) \
        else f"#{row['id']}"
    for name, process in typed:
        value = row[name]
        if value is None:
            continue
        try:
            process(value)
        except (ValueError, TypeError):
            return ident, name, value
    if type(row["title"]) is not str:
        return ident, "title", row["title"]
    if kind is None:
        return ident, "kind", row["kind"]
    subtype = row["subtype"]
    if subtype is not None and kind.subtype_key is not None and subtype not in kind.subtypes.codes:
        return ident, "subtype", subtype
    return None


def rows_skipped_error(skipped: list[tuple[str, str, Any]]) -> RowsSkipped:
    """One line: the first row left out (as :func:`damaged_item_error` names it), how many
    were left out and the first five with their field."""
    ident, field, value = skipped[0]
    shown, what = _damage(field, value)
    named = listing([f"{i} {f}" for i, f, _v in skipped], most=5)
    return RowsSkipped(_("{id}: {field} holds '{value}', {what}; item rows skipped: {count} "
                         "({ids}): run fujian doctor").format(
        id=ident, field=field, value=shown, what=what, count=len(skipped), ids=named))


def damaged_items(connection) -> Iterator[tuple[str, str, Any]]:
    """(ID, field, value) of each item row, in row order, that fujian cannot read back as it
    wrote it: a date or time that does not parse, text that is not text, a kind fujian does
    not know, a subtype, stage or outcome that is not the kind's. Reads the raw values (the
    item table's columns, without SQLAlchemy's processing, which would raise)."""
    columns = list(models.Item.__table__.columns)
    names = [c.name for c in columns]
    for raw in connection.exec_driver_sql(f"SELECT {', '.join(names)} FROM item ORDER BY id"):
        row = dict(zip(names, raw, strict=True))
        problem = _item_problem(connection.dialect, columns, row)
        if problem is not None:
            yield problem


def _item_problem(dialect, columns, row: dict) -> tuple[str, str, Any] | None:
    kind = KINDS.get(row["kind"]) if isinstance(row["kind"], str) else None
    number = row["number"]
    ident = format_id(kind, number) if kind is not None and isinstance(number, int) \
        else f"#{row['id']}"
    for column in columns:
        value = row[column.name]
        if value is None:
            continue
        if isinstance(column.type, Text):
            if not isinstance(value, str):
                return ident, column.name, value
            continue
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        try:
            if process is not None:
                process(value)
        except (ValueError, TypeError):
            return ident, column.name, value
    if kind is None:
        return ident, "kind", row["kind"]
    subtype = row["subtype"]
    if subtype is not None and kind.subtype_key is not None and subtype not in kind.subtypes.codes:
        return ident, "subtype", subtype
    if row["stage"] not in kind.all_stages().codes:
        return ident, "stage", row["stage"]
    if row["outcome"] is not None and row["outcome"] not in kind.all_outcomes().codes:
        return ident, "outcome", row["outcome"]
    return None


def damaged_item_error(ident: str, field: str, value: Any) -> StorageError:
    """One line naming the damaged item, its field and the value it holds."""
    shown, what = _damage(field, value)
    return StorageError(_("{id}: {field} holds '{value}', {what}: run fujian doctor").format(
        id=ident, field=field, value=shown, what=what))


def _damage(field: str, value: Any) -> tuple[str, str]:
    """A damaged value as a message shows it, and what is wrong with it."""
    shown = value.hex() if isinstance(value, bytes) else str(value)
    column = models.Item.__table__.columns[field]
    if isinstance(value, bytes):
        what = _("not text")
    elif field == "kind":
        what = _("not a kind fujian knows")
    elif field in ("subtype", "stage", "outcome"):
        what = _("not one of its kind's values")
    elif not isinstance(column.type, Text):
        what = _("not a date") if isinstance(column.type, Date) else _("not a value of its type")
    else:
        what = _("not text")
    return shown[:40], what


# Where a past row's most urgent duty then (_URGENT_COLUMNS) follows the link columns.
_URGENT_AT = len(_COLUMNS) + 2 * len(LINK_COLUMNS)


def _past_rows(connection, rows, day: date, units: dict) -> Iterator[dict]:
    """The rows of a past day's statement as they stood at ``day``, 500 at a time: no filter
    or order depends on the stage, so only the rows given out have theirs rebuilt."""
    batch: list[dict] = []
    for row in rows:
        batch.append(_as_it_stood(row, day, units))
        if len(batch) == 500:
            _stages_then(connection, batch, day)
            yield from batch
            batch = []
    _stages_then(connection, batch, day)
    yield from batch


def _as_it_stood(row, day: date, units: dict) -> dict:
    """One row at ``day``, by today's records: open then when not closed by then; holder and
    due date those of the most urgent duty open that day (the statement's ``urgent``)."""
    out = shape(row, None, units)
    # What shape() took from the item row describes its duty of today: set again below
    # from the duty open that day.
    out.pop("right", None)
    out.pop("provisional", None)
    if row[_CLOSED] is not None and row[_CLOSED] <= day:
        status = CLOSED
        out["duty"] = None
    else:
        status = OPEN
        out.update(closed_on=None, outcome=None)
        urgent, holder, due_on, name, is_right, provisional = \
            row[_URGENT_AT:_URGENT_AT + len(_URGENT_COLUMNS)]
        out["unit"], out["unit_name"] = units.get(holder if urgent else row[_UNIT], _NO_UNIT)
        out["due_on"] = due_on if urgent else None
        out["duty"] = name if urgent else None
        if urgent and provisional:
            out["provisional"] = True
        if urgent and is_right:
            out["right"] = True
        if out["paused_on"] is not None and out["paused_on"] > day:
            out["paused_on"] = None
    out["status"] = status
    out["days_overdue"] = days_overdue(out, day)
    return out


def _stages_then(connection, rows: list[dict], day: date) -> None:
    """Set the stage (with its date, met_on and met_due) each of ``rows`` stood at on ``day``
    (service/past.py). Only rows whose current stage began after it are looked up: the others
    stood at their current stage then."""
    later = [r for r in rows if r["stage_on"] is not None and r["stage_on"] > day]
    for start in range(0, len(later), 500):  # the change log read 500 items at a time
        chunk = {r["id"]: r for r in later[start:start + 500]}
        for ident, values in stages_then(connection, chunk, day).items():
            chunk[ident].update(values)


def _prefix(kind_code: str) -> str:
    kind = KINDS.get(kind_code)
    return kind.prefix if kind is not None else "?"


def duty_rows(connection, item_pk: int, units: dict | None = None,
              as_of: date | None = None) -> list[dict]:
    """An item's duties, oldest first, as ``show --format json`` gives them: exactly the keys
    name, stage, holder, started_on, due_on, met_on, state, right, local, provisional (met_on
    is the day the holder acted: empty unless met, late or exercised). An open right whose
    window has passed by ``as_of`` is shown lapsed, as it is."""
    units = units if units is not None else units_by_id(connection)
    d = Duty.__table__
    rows = connection.execute(select(d).where(d.c.item_id == item_pk).order_by(d.c.id))
    out = []
    for r in rows:
        state = r.state
        if state == DUTY_OPEN and r.is_right and as_of is not None and r.due_on is not None \
                and r.due_on < as_of:
            state = DUTY_LAPSED
        out.append({"name": r.name, "stage": r.stage,
                    "holder": units.get(r.holder_id, _NO_UNIT)[0],
                    "started_on": r.started_on, "due_on": r.due_on,
                    "met_on": r.ended_on if state in (DUTY_MET, DUTY_LATE, DUTY_EXERCISED)
                    else None, "state": state, "right": bool(r.is_right),
                    "local": bool(r.local), "provisional": bool(r.provisional)})
    return out


def _utc(instant):
    """Instants are stored in UTC; the database may hand them back without a zone (SQLite).
    Marked as UTC here, so that showing them in China time never depends on the machine's
    own zone."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def _said(note) -> str:
    """A note's text in the reader's language: one fujian wrote itself is said again from its
    message and arguments; a person's, or one that cannot be (an older catalog), as stored."""
    if note.template is None:
        return note.text
    try:
        return _(note.template).format(**json.loads(note.args or "{}"))
    except (ValueError, KeyError, IndexError, TypeError):
        return note.text


def note_rows(connection, item_pk: int) -> list[dict]:
    """An item's running record, oldest first: each note with ``at``, ``actor``, ``text`` and
    ``day`` (the day its event happened, when the writer said; else None)."""
    n = Note.__table__
    return [{"at": _utc(r.at), "actor": r.actor, "text": _said(r), "day": r.day}
            for r in connection.execute(select(n).where(n.c.item_id == item_pk)
                                        .order_by(n.c.id))]


def linked_ids(connection, item_pk: int) -> list[str]:
    """IDs of the items related to this one either way (related_id), in ID order."""
    t = Item.__table__
    own = select(t.c.related_id).where(t.c.id == item_pk).scalar_subquery()
    rows = connection.execute(select(t.c.kind, t.c.number).where(
        or_(t.c.related_id == item_pk, t.c.id == own)).order_by(t.c.kind, t.c.number))
    return [f"{_prefix(kind)}{number}" for kind, number in rows]


def column_of(connection, item_pk: int, column: str):
    """One column of one item (a long text such as minutes, which lists leave out)."""
    t = Item.__table__
    return connection.scalar(select(t.c[column]).where(t.c.id == item_pk))


def history_rows(connection, subject: str) -> list[dict]:
    """An item's change log, oldest first. The log keeps a unit by its row id (holder_id,
    unit_id, from_unit_id, to_unit_id, a duty's holder_id, and in the item's snapshot at
    creation); the rows name it by its code, as every other output does."""
    t = ChangeLog.__table__
    rows = connection.execute(select(t).where(t.c.subject == subject).order_by(t.c.id))
    units = units_by_id(connection)
    out = []
    for r in rows:
        old, new = r.old_value, r.new_value
        if names_a_unit(r.field):
            old, new = _unit_code(old, units), _unit_code(new, units)
        elif r.action == "create" and r.field is None and new:
            new = _snapshot_with_codes(new, units)
        out.append({"at": _utc(r.at), "actor": r.actor, "action": r.action, "field": r.field,
                    "old": old, "new": new, "reason": r.reason})
    return out


def _unit_code(value: str | None, units: dict[int, tuple[str, str]]) -> str | None:
    """A logged unit id as the unit's code (a value that names no unit is left as it is)."""
    if not isinstance(value, str) or not value.isdigit():
        return value
    return units.get(int(value), (value,))[0]


def _snapshot_with_codes(text: str, units: dict[int, tuple[str, str]]) -> str:
    """The item as created (JSON, keys sorted) with its unit ids as codes."""
    try:
        data = json.loads(text)
    except ValueError:  # not a snapshot this version wrote: shown as stored
        return text
    if not isinstance(data, dict):
        return text
    for key in unit_columns() & data.keys():
        data[key] = _unit_code(data[key], units)
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
