"""`fujian doctor`: is this database healthy, and is the calendar up to date?"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import date

from fujian.i18n import _

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


def run_checks(store, calendar, today: date, override_files=(), named_override=None
               ) -> list[Check]:
    from sqlalchemy import func, select, text

    from fujian.migrations import HEAD
    from fujian.models import Item, ItemSequence, Unit

    checks: list[Check] = []
    mode = stat.S_IMODE(store.path.stat().st_mode)
    checks.append(Check("permissions", OK if mode & 0o077 == 0 else WARN,
                        _("file mode {mode}").format(mode=oct(mode))
                        + ("" if mode & 0o077 == 0 else _(": others can read it; chmod 600"))))
    with store.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        checks.append(Check("schema", OK if version == HEAD else FAIL,
                            _("schema {version} (this fujian: {head})").format(
                                version=version, head=HEAD)))
        integrity = store.integrity_problems(conn)
        checks.append(Check("integrity", OK if not integrity else FAIL,
                            "; ".join(integrity[:5]) or "ok"))
        broken = store.broken_references(conn)
        checks.append(Check("references", OK if not broken else FAIL,
                            _("{n} broken references").format(n=broken)))
        journal, journal_ok = store.journal_mode(conn)
        checks.append(Check("journal", OK if journal_ok else FAIL,
                            _("journal mode {mode}").format(mode=journal)))
        stale = []
        for kind, last in conn.execute(select(ItemSequence.kind, ItemSequence.last_number)):
            top = conn.execute(select(func.max(Item.number)).where(Item.kind == kind)).scalar()
            if top is not None and top > last:
                stale.append(kind)
        checks.append(Check("ids", OK if not stale else FAIL,
                            _("ID sequences behind their items: {kinds}").format(
                                kinds=", ".join(stale)) if stale else _("ID sequences in order")))
        units = conn.execute(select(func.count()).select_from(Unit)).scalar()
        no_liaison = conn.execute(select(func.count()).select_from(Unit)
                                  .where(Unit.liaison.is_(None))).scalar()
        procuratorate = conn.execute(select(func.count()).select_from(Unit)
                                     .where(Unit.kind == "procuratorate")).scalar()
        if units == 0:
            checks.append(Check("units", FAIL, _("no units: run `fujian init`")))
        else:
            status = OK if procuratorate and not no_liaison else WARN
            detail = _("{n} units, {missing} without a liaison, {p} of the procuratorate").format(
                n=units, missing=no_liaison, p=procuratorate)
            checks.append(Check("units", status, detail))
    present = [str(p) for p in override_files if p.is_file()]
    if named_override is not None and not named_override.is_file():
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
    return checks


def healthy(checks: list[Check]) -> bool:
    return all(c.status != FAIL for c in checks)
