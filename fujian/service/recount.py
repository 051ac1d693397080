"""Due dates counted again when the calendar changes (issue 19, point 9).

A due date counted across a year the calendar has no official notice of is provisional: its
rest days are the holidays package's estimate. When the year becomes known (a ``holidays``
release with the State Council notice, a ``FUJIAN_CALENDAR`` override) or an override changes
a known year, the stored dates must follow, or ``calendar due`` and the overdue report
disagree. The database keeps the fingerprint of the calendar its dates were counted with
(table ``setting``, migration 0011); when the calendar's differs, every open duty whose date
came from a rule is counted again with its rule's period, keeping the days a pause did not
count (see :class:`_Counter` for what is counted again). A date set by a document (``--due``)
stays: it is the document's.

Reading the stored fingerprint is one query; nothing here runs when it matches.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import false, func, select, true

from fujian.deadlines import Calendar, DueDate, Period, compute_due, roll_forward
from fujian.errors import BadInput
from fujian.models import DUTY_OPEN, Duty, Item, Setting
from fujian.service.changelog import log_item
from fujian.service.duties import log_duty, sync

CALENDAR = "calendar"  # the setting that holds the fingerprint
BATCH = 500  # items written at a time: their rows are loaded with one query


def stored_fingerprint(connection) -> str | None:
    """The fingerprint of the calendar the open due dates were last counted with (on a
    Connection or a Session). The SQL is written out: the query runs on every command, and
    an ORM query would first configure every mapper (5 ms), a Core one compile (1 ms)."""
    if not hasattr(connection, "exec_driver_sql"):
        connection = connection.connection()
    return connection.exec_driver_sql(
        f"SELECT value FROM setting WHERE name = '{CALENDAR}'").scalar()


def store_fingerprint(session, fingerprint: str) -> None:
    setting = session.get(Setting, CALENDAR)
    if setting is None:
        session.add(Setting(name=CALENDAR, value=fingerprint))
    elif setting.value != fingerprint:
        setting.value = fingerprint


def recount(ctx, fingerprint: str) -> int:
    """Count every open due date that came from a rule again with ``ctx.calendar``, log each
    one that moved (action ``recount``), bring the items in line and store ``fingerprint``;
    returns how many due dates moved. Inside the caller's write transaction, which holds the
    write lock: a second process that waited for it finds the work done."""
    if stored_fingerprint(ctx.session) == fingerprint:
        return 0
    counted = _Counter(ctx.calendar)
    changed: dict[int, list[tuple[int, date, date, bool]]] = {}
    for row in ctx.session.execute(_open_counted_duties()):
        rule = ctx.rules.find(row.kind, row.subtype, row.stage, bool(row.urgent), row.name)
        if rule is None or rule.period is None:
            continue  # no rule counts it any more: the date stands as it was given
        found = counted.due(row.started_on, row.nominal_on, rule.period, rule.criminal,
                            row.paused_days or 0)
        if found is None:
            continue  # a date past what can be counted: it stays as it was
        nominal, due, provisional = found
        if (nominal, due, provisional) != (row.nominal_on, row.due_on, bool(row.provisional)):
            changed.setdefault(row.item_id, []).append((row.id, nominal, due, provisional))
    moved = 0
    pending = list(changed.items())
    for at in range(0, len(pending), BATCH):
        moved += _apply(ctx, pending[at:at + BATCH])
    store_fingerprint(ctx.session, fingerprint)
    return moved


def _apply(ctx, batch: list[tuple[int, list[tuple[int, date, date, bool]]]]) -> int:
    """Write one batch of counted dates: each moved due date logged, each item brought in
    line with its duties (what items._sync does, with the duties loaded once for the batch:
    one query per item made a recount of 3,000 items take 10 s). Returns how many moved."""
    session = ctx.session
    ids = [item_id for item_id, _counted in batch]
    items = {item.id: item for item in session.scalars(select(Item).where(Item.id.in_(ids)))}
    duties: dict[int, list[Duty]] = {}
    for duty in session.scalars(select(Duty).where(Duty.item_id.in_(ids)).order_by(Duty.id)):
        duties.setdefault(duty.item_id, []).append(duty)
    moved = 0
    with session.no_autoflush:
        for item_id, counted in batch:
            item, own = items[item_id], {d.id: d for d in duties[item_id]}
            for duty_id, nominal, due, provisional in counted:
                duty = own[duty_id]
                if due != duty.due_on:
                    log_duty(ctx, item, "recount", duty, "due_on", duty.due_on, due)
                    moved += 1
                duty.nominal_on, duty.due_on, duty.provisional = nominal, due, provisional
            log_item(ctx, item, "recount", sync(item, duties[item_id], ctx.today))
    session.flush()
    session.expunge_all()  # written: a recount of many items need not keep them all
    return moved


def _open_counted_duties():
    d = Duty.__table__
    i = Item.__table__
    return (select(d.c.id, d.c.item_id, d.c.name, d.c.stage, d.c.started_on, d.c.due_on,
                   d.c.nominal_on, d.c.paused_days, d.c.provisional, i.c.kind, i.c.subtype,
                   i.c.urgent)
            .join(i, i.c.id == d.c.item_id)
            .where(d.c.state == DUTY_OPEN, d.c.explicit == false(), d.c.due_on.is_not(None))
            .order_by(d.c.item_id, d.c.id))


class _Counter:
    """Counts a duty's due date again with a new calendar, changing only what the calendar
    decides. A period of days or months ends on the same day whatever the calendar: its own
    last day (``nominal_on``) is kept, and only the rest-day rule (民法典 第二百零三条) is
    applied again, after the days a pause did not count (duties.shifted_due). Counting it
    again from ``started_on`` would move dates for other reasons: a reopened duty starts on
    the reopening day against its first due date, and a rule edited since would apply to
    duties it never counted. Only working days depend on the calendar throughout: those are
    counted again from the start, as are dates stored before the last day was kept.
    Remembered: many duties share a start and a period (a bulk import)."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self._periods: dict[tuple, DueDate | None] = {}

    def due(self, start: date, nominal: date | None, period: Period, criminal: bool,
            paused_days: int) -> tuple[date, date, bool] | None:
        """(the period's own last day, the due date, provisional) — provisional when a year
        it counts across has no official notice; None when it cannot be counted."""
        unknown = False  # a year counted across has no official notice
        if nominal is None or period.unit == "wd":
            key = (start, period, criminal)
            if key not in self._periods:
                try:
                    self._periods[key] = compute_due(start, period, self.calendar,
                                                     criminal=criminal)
                except BadInput:  # past the year 9999
                    self._periods[key] = None
            result = self._periods[key]
            if result is None:
                return None
            nominal, unknown = result.nominal, bool(result.warnings)
        try:
            due, _rolled = roll_forward(nominal + timedelta(days=paused_days), self.calendar)
        except OverflowError:
            return None
        years = {start.year, nominal.year, due.year}
        return nominal, due, unknown or any(not self.calendar.knows(y) for y in years)


def provisional_count(connection) -> tuple[int, date | None, date | None]:
    """How many open due dates are provisional, and the first and last of them."""
    d = Duty.__table__
    return tuple(connection.execute(
        select(func.count(), func.min(d.c.due_on), func.max(d.c.due_on))
        .where(d.c.state == DUTY_OPEN, d.c.provisional == true())).one())
