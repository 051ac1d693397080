"""`fujian doctor`: is this database healthy, and is the calendar up to date?

Every check runs, whatever the others found, on any file: missing, empty, truncated,
damaged, another program's, read-only. Nothing is created, upgraded or repaired. Each row is
ok, warn or fail, and a warning or failure says what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import func, inspect, select
from sqlmodel import SQLModel

from fujian.errors import os_reason
from fujian.i18n import _
from fujian.models import Item, ItemSequence, Unit
from fujian.service.queries import damaged_items
from fujian.storage import FAIL, FUJIAN_TABLES, OK, RESTORE_HINT, WARN, Check, ServerAddress, diagnose

__all__ = ["FAIL", "OK", "RESTORE_HINT", "WARN", "Check", "healthy", "run_checks"]


def run_checks(path, calendar: Callable, today: date, override_files=(),
               named_override=None) -> list[Check]:
    """Every check on the database at ``path`` (a file or a server: the backend's own checks,
    see :func:`fujian.storage.diagnose`, then the items' and units'), on the calendar
    (``calendar`` loads it: a broken override file is a failed check too, not the end of the
    run) and on the due dates."""
    diagnosis = diagnose(path, (("tables", tables_check), ("ids", ids_check),
                                ("units", units_check), ("items", items_check)))
    # The tables and items rows show only when they fail: a healthy database's rows stay as
    # they were before these checks existed.
    checks = [c for c in diagnosis.checks if c.name not in QUIET_CHECKS or c.status == FAIL]
    if isinstance(path, ServerAddress) and path.url.password is not None:
        checks.append(password_check())
    loaded = _calendar_checks(calendar, today, override_files, named_override, checks)
    _due_date_checks(diagnosis.open_engine, loaded, diagnosis.writable, checks)
    return checks


def password_check() -> Check:
    """The URL in use carries its password, where other local users can read it."""
    return Check("password", WARN, _(
        "a password on the command line or in FUJIAN_DB is readable by other local users "
        "(/proc/PID/cmdline): use ~/.pgpass or PGPASSFILE"))


def ids_check(conn) -> Check:
    """An item number above its kind's last handed-out number would be handed out again."""
    stale = []
    tops = {kind: top for kind, top in conn.execute(
        select(Item.kind, func.max(Item.number)).group_by(Item.kind))}
    lasts = {kind: last for kind, last in conn.execute(
        select(ItemSequence.kind, ItemSequence.last_number))}
    for kind, top in sorted(tops.items()):
        if kind in lasts and top > lasts[kind]:
            stale.append(f"{kind} {top} > {lasts[kind]}")
    if stale:
        return Check("ids", FAIL, _(
            "ID sequences behind their items: {kinds}; new items would be refused or "
            "collide: put a backup back with {restore}").format(
                kinds=", ".join(stale), restore=RESTORE_HINT))
    return Check("ids", OK, _("ID sequences in order"))


QUIET_CHECKS = ("tables", "items")
SHOWN_IDS = 5  # a failed check names at most this many items


def tables_check(conn) -> Check:
    """Every table fujian keeps is there (one dropped behind its back breaks commands)."""
    expected = FUJIAN_TABLES | set(SQLModel.metadata.tables)
    missing = sorted(expected - set(inspect(conn).get_table_names()))
    if missing:
        return Check("tables", FAIL, _(
            "tables missing: {tables}; put a backup back with {restore}").format(
                tables=", ".join(missing), restore=RESTORE_HINT))
    return Check("tables", OK, _("all {n} tables present").format(n=len(expected)))


def items_check(conn) -> Check:
    """Every item row's values read back as fujian wrote them: dates parse, the kind is
    known, the subtype, stage and outcome are the kind's, text columns hold text."""
    bad = list(damaged_items(conn))
    if bad:
        shown = ", ".join(f"{ident} ({field})" for ident, field, _value in bad[:SHOWN_IDS])
        more = "" if len(bad) <= SHOWN_IDS else " …"
        return Check("items", FAIL, _(
            "{n} items hold values fujian cannot read: {items}{more}; fix them with "
            "`fujian update` or put a backup back with {restore}").format(
                n=len(bad), items=shown, more=more, restore=RESTORE_HINT))
    return Check("items", OK, _("every item's values can be read"))


def units_check(conn) -> Check:
    """Every unit has a liaison, and the procuratorate is among them."""
    count = conn.execute(select(func.count()).select_from(Unit)).scalar()
    if count == 0:
        return Check("units", FAIL, _("no units: run `fujian init`"))
    no_liaison = conn.execute(select(func.count()).select_from(Unit)
                              .where(Unit.liaison.is_(None))).scalar()
    procuratorate = conn.execute(select(func.count()).select_from(Unit)
                                 .where(Unit.kind == "procuratorate")).scalar()
    status = OK if procuratorate and not no_liaison else WARN
    detail = _("{n} units, {missing} without a liaison, {p} of the procuratorate").format(
        n=count, missing=no_liaison, p=procuratorate)
    if status == WARN:
        detail += _(": `fujian unit update CODE --liaison NAME`")
    return Check("units", status, detail)


def _calendar_checks(load, today: date, override_files, named_override,
                     checks: list[Check]):
    """The override files and the years known; returns the calendar (None when it cannot be
    loaded)."""
    from fujian.errors import FujianError

    problem = None
    try:
        calendar = load()
    except FujianError as error:
        calendar, problem = None, error.message
    except OSError as exc:
        calendar, problem = None, os_reason(exc)
    present, unreadable = [], []
    for file in override_files:
        try:
            if file.is_file():
                present.append(str(file))
        except OSError as exc:  # a folder this user may not enter
            unreadable.append(f"{file} ({os_reason(exc)})")
    if calendar is None:
        # Every command that counts days refuses such a file: say which and why, here too.
        checks.append(Check("calendar override", FAIL, _(
            "{reason} Fix the file or unset FUJIAN_CALENDAR.").format(reason=problem)))
        checks.append(Check("calendar", FAIL, _(
            "no due date can be counted until the override file is fixed")))
        return None
    if unreadable:
        checks.append(Check("calendar override", WARN, _(
            "cannot read {files}: check its permissions").format(files=", ".join(unreadable))))
    elif named_override is not None and not named_override.is_file():
        checks.append(Check("calendar override", WARN, _(
            "FUJIAN_CALENDAR names {path}, which does not exist").format(path=named_override)))
    else:
        checks.append(Check("calendar override", OK, _("override files: {files}").format(
            files=", ".join(present) or _("none"))))
    years = calendar.known_years()
    span = f"{years[0]}–{years[-1]}" if years else _("none")
    if not calendar.knows(today.year):
        checks.append(Check("calendar", FAIL, _(
            "no official holiday schedule for this year ({year}); known: {span}. Add it to a "
            "calendar override file.").format(year=today.year, span=span)))
    elif not calendar.knows(today.year + 1):
        checks.append(Check("calendar", WARN, _(
            "known years {span}; {next} is not known yet: add the State Council notice to a "
            "calendar override file when it is published.").format(span=span,
                                                                   next=today.year + 1)))
    else:
        checks.append(Check("calendar", OK, _("known years {span}").format(span=span)))
    return calendar


def _due_date_checks(engine_of: Callable, calendar, writable: bool,
                     checks: list[Check]) -> None:
    """How many open due dates are provisional (counted across a year with no official
    notice), and whether they were counted with this calendar (service/recount.py). Both are
    warnings: the next command that can write the database counts them again."""
    from fujian.service import recount

    engine = engine_of()
    if engine is None:
        checks.extend(Check(name, WARN, _("not checked: see the schema check"))
                      for name in ("provisional", "recount"))
        return
    try:
        with engine.connect() as conn:
            n, first, last = recount.provisional_count(conn)
            stored = recount.stored_fingerprint(conn)
    except Exception as exc:  # noqa: BLE001 - a broken database must not stop the doctor
        reason = type(exc).__name__
        checks.extend(Check(name, FAIL, _("could not be read ({reason})").format(reason=reason))
                      for name in ("provisional", "recount"))
        return
    finally:
        engine.dispose()
    if n:
        span = first.isoformat() if first == last else f"{first.isoformat()}–{last.isoformat()}"
        checks.append(Check("provisional", WARN, _(
            "provisional open due dates: {n} (due {span}), counted across a year with no "
            "official holiday schedule. Add the State Council notice to a calendar override "
            "file: the next command counts them again").format(n=n, span=span)))
    else:
        checks.append(Check("provisional", OK, _("no open due date is provisional")))
    if calendar is None:
        checks.append(Check("recount", WARN, _("not checked: see the calendar override check")))
    elif stored == calendar.fingerprint:
        checks.append(Check("recount", OK, _("the due dates were counted with this calendar")))
    else:
        detail = _("the calendar changed since the due dates were counted (a holidays release "
                   "or an override file)") if stored else \
            _("the due dates were not yet checked against this calendar")
        detail += _(": the next command that can write the database counts them again") \
            if writable else _(": this database is read-only here, so they stay as they are")
        checks.append(Check("recount", WARN, detail))


def healthy(checks: list[Check]) -> bool:
    return all(c.status != FAIL for c in checks)
