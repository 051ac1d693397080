"""Tables and the lifecycle every item shares.

One ``item`` table holds the shared lifecycle of every kind (ID prefix + number, title,
responsible unit, dates, stage, status, outcome, note) and the few fields only some kinds have
(nullable columns named in :mod:`fujian.kinds`). One table, not one per kind, because the
questions the office asks most — what is overdue, who is late — cross every kind, and one indexed
table answers them with one query. SQLModel has no polymorphic inheritance (sqlmodel#36), and
none is needed: the kind registry says which columns a kind uses.

Status changes are methods (:meth:`Item.close`, :meth:`Item.reopen`, ...) that refuse what the
lifecycle forbids and return the list of field changes, which the service writes to the
append-only change log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint, and_, false, or_
from sqlmodel import Field, SQLModel

from fujian.errors import BadInput, SchemaMismatch
from fujian.i18n import _
from fujian.kinds import CLOSED, KINDS, OPEN, Kind, field_header, format_id

UNIT_KINDS = ("government", "procuratorate", "police", "other")

# The longest text a person may give each field (issue 21), checked before anything is stored.
# Chosen from what real documents need; the longest (16,000 characters, about 25 printed
# pages) still fits one spreadsheet cell (32,767 UTF-16 units) whatever the characters, so an
# export never cuts a record short. Each limit is on its column (``info``): one definition.
NAME_CHARS = 200  # a unit's code, name, liaison or phone; a handler; a document number; a person
TITLE_CHARS = 500  # an item's title: one line that names the matter
TEXT_CHARS = 16_000  # a note, minutes, parties, a reason


def _limited(chars: int, **kwargs: Any) -> Column:
    """A text column holding at most ``chars`` characters (see :func:`too_long`)."""
    return Column(Text, info={"max_chars": chars}, **kwargs)


def too_long(table, values: Any) -> tuple[str, int, int] | None:
    """(column, length, limit) of the first text in ``values`` (column name → value) longer
    than its column of ``table`` takes; None when every one fits."""
    for name, limit in _limits(table).items():
        value = values.get(name)
        if value.__class__ is str and len(value) > limit:
            return name, len(value), limit
    return None


@cache
def _limits(table) -> dict[str, int]:
    """Column name → the most characters it takes, for the limited columns of ``table``."""
    return {c.name: c.info["max_chars"] for c in table.c if "max_chars" in c.info}


def check_lengths(table, values: Any) -> None:
    """Refuse (BadInput, naming the field) a text longer than its column takes."""
    found = too_long(table, values)
    if found is not None:
        name, length, limit = found
        raise BadInput(_("{field} is {length:,} characters long; it takes at most {limit:,}.")
                       .format(field=field_header(name), length=length, limit=limit))


class Unit(SQLModel, table=True):
    """A member unit (成员单位) and its liaison (联络员)."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=_limited(NAME_CHARS, unique=True, nullable=False))
    name: str = Field(sa_column=_limited(NAME_CHARS, unique=True, nullable=False))
    liaison: str | None = Field(default=None, sa_column=_limited(NAME_CHARS))
    phone: str | None = Field(default=None, sa_column=_limited(NAME_CHARS))
    kind: str = Field(default="government", sa_column=Column(Text, nullable=False))
    created_at: datetime
    updated_at: datetime


class ItemSequence(SQLModel, table=True):
    """The last number handed out per kind: IDs are permanent and never reused."""

    __tablename__ = "item_sequence"

    kind: str = Field(sa_column=Column(Text, primary_key=True))
    last_number: int = 0


@dataclass(frozen=True)
class Change:
    """One field's change, as a transition returns it and the change log stores it (field
    None: a row about the whole subject, such as an item's creation snapshot)."""

    field: str | None
    old: Any
    new: Any


def check_close_date(ident: str, opened_on: date, on: date) -> None:
    """An item cannot be closed before it was opened (shared by close and by imports of items
    that arrive already closed)."""
    if on < opened_on:
        raise BadInput(
            _("The close date {on} is before {id} was opened ({opened}).").format(
                on=on.isoformat(), id=ident, opened=opened_on.isoformat()
            )
        )


class Item(SQLModel, table=True):
    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("kind", "number", name="uq_item_kind_number"),
        Index("ix_item_status_due", "status", "due_on"),
        Index("ix_item_holder_status_due", "holder_id", "status", "due_on"),
        Index("ix_item_kind_status_due", "kind", "status", "due_on"),
        Index("ix_item_meeting", "meeting_id"),
        Index("ix_item_related", "related_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_column=Column(Text, nullable=False))
    number: int
    title: str = Field(sa_column=_limited(TITLE_CHARS, nullable=False))
    unit_id: int = Field(foreign_key="unit.id")  # the item's own unit (receiving, addressee …)
    # Kept equal to the holder and due date of the item's most urgent open duty (service/
    # duties.py), so that lists and reports read one indexed table.
    holder_id: int | None = Field(default=None, foreign_key="unit.id")
    opened_on: date
    due_on: date | None = None
    stage: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=OPEN, sa_column=Column(Text, nullable=False))
    closed_on: date | None = None
    outcome: str | None = Field(default=None, sa_column=Column(Text))
    note: str | None = Field(default=None, sa_column=_limited(TEXT_CHARS))
    # Kind-specific fields (kinds.py says which kind uses which).
    subtype: str | None = Field(default=None, sa_column=Column(Text))
    from_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    to_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    party: str | None = Field(default=None, sa_column=_limited(TEXT_CHARS))
    enterprise: bool | None = None
    doc_no: str | None = Field(default=None, sa_column=_limited(NAME_CHARS))
    urgent: bool | None = None
    attendees: str | None = Field(default=None, sa_column=Column(Text))  # comma-joined unit codes
    minutes: str | None = Field(default=None, sa_column=_limited(TEXT_CHARS))
    meeting_id: int | None = Field(default=None, foreign_key="item.id")
    # The item this one relates to (an assistance request's case; a suggestion opened by
    # escalating a request names the request): see kinds.KindField type "link".
    related_id: int | None = Field(default=None, foreign_key="item.id")
    # When the current stage began, and when the responsible unit met its deadline duty (a
    # reply or decision that stops the clock) with the due date it is measured against.
    stage_on: date | None = None
    met_on: date | None = None
    met_due: date | None = None
    paused_on: date | None = None  # the clocks stopped on this day (鉴定, 中止审查)
    # The name of that most urgent open duty, and whether it is a right (可以): a right is
    # never overdue (service/duties.py keeps these with holder_id and due_on).
    duty: str | None = Field(default=None, sa_column=Column(Text))
    duty_is_right: bool = False
    due_provisional: bool = False  # that due date was counted across a year with no notice
    handler: str | None = Field(default=None, sa_column=_limited(NAME_CHARS))  # the person handling it
    # An entry made in error: out of lists, reports and statistics, never deleted.
    voided_at: datetime | None = None
    void_reason: str | None = Field(default=None, sa_column=_limited(TEXT_CHARS))
    created_at: datetime
    updated_at: datetime
    actor: str = Field(sa_column=_limited(NAME_CHARS, nullable=False))

    @property
    def ident(self) -> str:
        return format_id(self.kind_info, self.number)

    @property
    def kind_info(self) -> Kind:
        return KINDS[self.kind]

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    # -- transitions: each refuses what the lifecycle forbids and returns what it changed ----

    def _assign(self, **values: Any) -> list[Change]:
        changes = []
        for name, new in values.items():
            old = getattr(self, name)
            if old != new:
                changes.append(Change(name, old, new))
                setattr(self, name, new)
        return changes

    def edit(self, **values: Any) -> list[Change]:
        """Change plain fields (title, note, kind fields); the lifecycle is not touched."""
        check_lengths(Item.__table__, values)
        return self._assign(**values)

    def move_to(self, stage: str, on: date, clock: str = "keep",
                due_before: date | None = None) -> list[Change]:
        """Enter ``stage`` on ``on``. ``clock`` is what the stage did to the duties (see
        service/duties.py): "stop" (the unit met its duty: remember when, against which due
        date), "restart" (a new duty begins) or "keep"."""
        if not self.is_open:
            raise BadInput(_("{id} is closed: reopen it before changing its stage.").format(
                id=self.ident))
        values: dict[str, Any] = {"stage": stage, "stage_on": on}
        if clock == "stop" and due_before is not None:
            values.update(met_on=on, met_due=due_before)
        elif clock == "restart":
            values.update(met_on=None, met_due=None)
        return self._assign(**values)

    def close(self, outcome: str, on: date) -> list[Change]:
        if not self.is_open:
            raise BadInput(_("{id} is already closed.").format(id=self.ident))
        check_close_date(self.ident, self.opened_on, on)
        return self._assign(status=CLOSED, outcome=outcome, closed_on=on)

    def reopen(self) -> list[Change]:
        if self.is_open:
            raise BadInput(_("{id} is open: there is nothing to reopen.").format(id=self.ident))
        return self._assign(status=OPEN, outcome=None, closed_on=None)


def check_kind_columns(kinds: Iterable[Kind] | None = None) -> None:
    """Every field of every kind (of ``kinds``, else the registry as it stands) is a column of
    the item table; refuses, naming the kind and the field, one that is not. A kind whose
    field needs a column of its own comes with the migration that adds it and the model's
    column: without them its items could be neither written nor read."""
    columns = Item.__table__.columns
    for kind in KINDS.values() if kinds is None else kinds:
        for kf in kind.fields:
            if kf.column_name not in columns:
                raise SchemaMismatch(_(
                    "Kind {kind} has a field {field} but the item table has no column "
                    "{column}: add the column to the model, with a migration.").format(
                    kind=kind.code, field=kf.name, column=kf.column_name))


class Note(SQLModel, table=True):
    """The running record of an item: appended, never overwritten. The item's ``note`` column
    repeats the latest one, which exports carry."""

    __tablename__ = "note"
    __table_args__ = (Index("ix_note_item", "item_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id")
    at: datetime
    actor: str = Field(sa_column=_limited(NAME_CHARS, nullable=False))
    text: str = Field(sa_column=_limited(TEXT_CHARS, nullable=False))
    day: date | None = None  # the day its event happened, when the writer said (else ``at``)
    # A note fujian wrote itself: its message (msgid) and arguments (JSON), so that it is
    # shown in the reader's language; ``text`` holds it in Chinese, as documents are.
    template: str | None = Field(default=None, sa_column=Column(Text))
    args: str | None = Field(default=None, sa_column=Column(Text))


# How a duty stands (domain.md §3). A duty (应当) is open, then met or late by its holder's
# act, unmet when it ended without the owed act (a refusal, a suggestion not performed), or
# waived when its ending is nobody's failure (a withdrawal, a correction). A right (可以) is
# exercised, or lapsed when its window passed unused; neither ever counts against anyone.
DUTY_OPEN, DUTY_MET, DUTY_LATE, DUTY_UNMET = "open", "met", "late", "unmet"
DUTY_WAIVED, DUTY_LAPSED, DUTY_EXERCISED = "waived", "lapsed", "exercised"
DUTY_STATE_CODES = (DUTY_OPEN, DUTY_MET, DUTY_LATE, DUTY_UNMET, DUTY_WAIVED, DUTY_LAPSED,
                    DUTY_EXERCISED)

# How a duty is ended (:func:`ending`): by its holder's act ("met": met or late by the act's
# date), without the owed act ("unmet"), as a stand-in for a later stage's duty ("stand-in":
# waived when the later stage came in time, else late), by a move back to an earlier stage
# ("backward": unmet when already past due, else waived), or by nobody's failure ("waived").
END_MET, END_UNMET, END_STAND_IN, END_BACKWARD, END_WAIVED = (
    "met", "unmet", "stand-in", "backward", "waived")


def verdict(due_on: date | None, on: date) -> str:
    """A duty done on ``on``: met when on or before its due date (or it had none), else late."""
    return DUTY_LATE if due_on is not None and on > due_on else DUTY_MET


def ending(due_on: date | None, started_on: date, is_right: bool, on: date,
           how: str) -> tuple[date, str]:
    """(ended_on, state) of a duty or right ended on ``on`` (never before it began) ``how``.
    A right is exercised by a stage that follows from it, whenever it is recorded (a skipped
    step is not late: rights never are); ended otherwise, it lapsed on its last day when that
    had passed, else it is waived."""
    on = max(on, started_on)
    past_due = due_on is not None and on > due_on
    if is_right:
        if how == END_MET:
            return on, DUTY_EXERCISED
        return (max(due_on, started_on), DUTY_LAPSED) if past_due else (on, DUTY_WAIVED)
    if how == END_MET:
        return on, verdict(due_on, on)
    if how == END_UNMET:
        return on, DUTY_UNMET
    if how in (END_STAND_IN, END_BACKWARD):
        late = DUTY_LATE if how == END_STAND_IN else DUTY_UNMET
        return on, late if past_due else DUTY_WAIVED
    return on, DUTY_WAIVED


# "Overdue" (domain.md §3), the one definition: a duty still open at ``as_of`` whose due date
# has passed, that is no right (可以: a right is never late, its window lapses), and whose
# item's clocks are running (a pause stops them). Written twice, side by side, because it is
# asked twice: as SQL, so a report selects only what is overdue, and of a row already read
# (an item rebuilt as it stood in the past, a shaped row). tests/test_overdue_definition.py
# checks on a real database that the two agree in every case.


def clocks_running(paused_on: Any, as_of: date) -> Any:
    """SQL: the item's clocks run at ``as_of`` (not paused then). ``paused_on``: a column."""
    return or_(paused_on.is_(None), paused_on > as_of)


def overdue_condition(as_of: date, *, is_open: Any, is_right: Any, due_on: Any,
                      paused_on: Any) -> Any:
    """SQL: overdue at ``as_of``. ``is_open``: a condition saying the duty is open then;
    ``is_right``, ``due_on``, ``paused_on``: columns."""
    return and_(is_open, is_right == false(), due_on < as_of,
                clocks_running(paused_on, as_of))


def days_overdue(as_of: date, *, is_open: bool, is_right: bool, due_on: date | None,
                 paused_on: date | None) -> int:
    """How many days a duty read from a row is overdue at ``as_of``; 0 when it is not."""
    if not is_open or is_right or due_on is None or due_on >= as_of:
        return 0
    if paused_on is not None and paused_on <= as_of:
        return 0
    return (as_of - due_on).days


class Duty(SQLModel, table=True):
    """One duty (or right) a stage handed to one unit (domain.md §3): what is owed, by whom,
    from which day, by when, and how it ended. The overdue report names the holder of an open
    duty; the summary judges ended ones. Rows are never deleted: a reopened item keeps its
    earlier duties and their verdicts."""

    __tablename__ = "duty"
    __table_args__ = (
        Index("ix_duty_item", "item_id", "id"),
        Index("ix_duty_holder", "holder_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id")
    name: str = Field(sa_column=Column(Text, nullable=False))  # reply, perform, decide-filing …
    stage: str = Field(sa_column=Column(Text, nullable=False))  # the stage that opened it
    holder_id: int = Field(foreign_key="unit.id")
    started_on: date
    due_on: date | None = None
    # The day it ended: for met and late the day its holder acted (not the other side's
    # receipt); for a lapsed right its last day.
    ended_on: date | None = None
    state: str = Field(default=DUTY_OPEN, sa_column=Column(Text, nullable=False))
    explicit: bool = False  # the due date came from a document (--due), not from a rule
    is_right: bool = False  # a right (可以), not a duty: never late, never counted
    local: bool = False  # its period is a district's own rule, not a statute's
    provisional: bool = False  # counted across a year the calendar has no official notice of
    # The period's own last day (before the rest-day rule) or the document's date, and the
    # days not counted (pauses): the due date is nominal_on + paused_days, off rest days.
    nominal_on: date | None = None
    paused_days: int = 0

    @property
    def is_open(self) -> bool:
        return self.state == DUTY_OPEN

    def end(self, on: date, how: str = END_MET) -> str:
        """End the duty on ``on`` ``how`` (see :func:`ending`); returns the new state."""
        self.ended_on, self.state = ending(self.due_on, self.started_on, self.is_right, on, how)
        return self.state

    def waive(self, on: date) -> str:
        """End the duty as a correction (its rule no longer applies): waived on ``on``, never
        before it began, whatever its due date; returns the new state."""
        self.ended_on, self.state = max(on, self.started_on), DUTY_WAIVED
        return self.state

    def fix_due(self, due: date) -> None:
        """A document's new date is the due date (延期): earlier pauses are already behind it."""
        self.due_on, self.explicit, self.nominal_on, self.paused_days = due, True, due, 0


class ChangeLog(SQLModel, table=True):
    """Append-only: the tool writes a row in the same transaction as the change it records and
    offers no command to edit or delete one."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_subject", "subject", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(sa_column=_limited(NAME_CHARS, nullable=False))
    subject: str = Field(sa_column=Column(Text, nullable=False))  # "R12" or "unit:scjgj"
    action: str = Field(sa_column=Column(Text, nullable=False))  # create, update, close, ...
    field: str | None = Field(default=None, sa_column=Column(Text))
    old_value: str | None = Field(default=None, sa_column=Column(Text))
    new_value: str | None = Field(default=None, sa_column=Column(Text))
    reason: str | None = Field(default=None, sa_column=_limited(TEXT_CHARS))


class Setting(SQLModel, table=True):
    """A value that belongs to the database as a whole (migration 0011): ``calendar``, the
    fingerprint of the calendar its open due dates were last counted with."""

    __tablename__ = "setting"

    name: str = Field(sa_column=Column(Text, primary_key=True))
    value: str = Field(sa_column=Column(Text, nullable=False))
