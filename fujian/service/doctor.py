"""`fujian doctor`: is this database healthy, and is the calendar up to date?

Every check runs, whatever the others found, on any file: missing, empty, truncated,
damaged, another program's, read-only. Nothing is created, upgraded or repaired. Each row is
ok, warn or fail, and a warning or failure says what to do.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fujian.i18n import _

OK, WARN, FAIL = "ok", "warn", "fail"

RESTORE_HINT = "`fujian restore BACKUP`"


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


class _Skip(Exception):
    """A check that cannot run because an earlier one failed (it says which)."""


def run_checks(path, calendar: Callable, today: date, override_files=(),
               named_override=None) -> list[Check]:
    """Every check on the database at ``path`` (a file, or a server: see :func:`_server_checks`)
    and on the calendar (``calendar`` loads
    it: a broken override file is a failed check too, not the end of the run)."""
    from fujian.storage import sqlite as storage
    from fujian.storage.postgres import ServerAddress

    checks: list[Check] = []
    if isinstance(path, ServerAddress):
        from sqlalchemy.pool import NullPool

        from fujian.storage.postgres import make_engine

        fujian = _server_checks(path, checks)
        loaded = _calendar_checks(calendar, today, override_files, named_override, checks)
        _due_date_checks(lambda: make_engine(path, poolclass=NullPool) if fujian else None,
                         loaded, True, checks)
        return checks
    facts = storage.file_facts(path)
    usable = _file_checks(path, facts, checks)
    header = None
    if usable:
        header = _header_check(path, facts, checks)
    else:
        checks.append(Check("header", WARN, _("not checked: see the file check")))
    database_checks = ("integrity", "schema", "references", "journal", "ids", "units")
    fujian = False
    if header is None:
        for name in database_checks:
            checks.append(Check(name, WARN, _("not checked: see the file and header checks")))
    else:
        fujian = _database_checks(path, header, facts, checks)
    loaded = _calendar_checks(calendar, today, override_files, named_override, checks)
    _due_date_checks(lambda: storage.diagnostic_engine(path) if fujian else None, loaded,
                     facts.writable, checks)
    return checks


def _file_checks(path: Path, facts, checks: list[Check]) -> bool:
    if not facts.exists:
        checks.append(Check("file", FAIL, _("no database at {path}: run `fujian init` to make "
                                            "one, or {restore}").format(path=path,
                                                                        restore=RESTORE_HINT)))
        checks.append(Check("permissions", WARN, _("not checked: see the file check")))
        return False
    if facts.folder:
        checks.append(Check("file", FAIL, _("{path} is a folder, not a database file: give the "
                                            "database file").format(path=path)))
        checks.append(Check("permissions", WARN, _("not checked: see the file check")))
        return False
    mode = stat.S_IMODE(facts.mode)
    if facts.size == 0:
        checks.append(Check("file", FAIL, _("0 bytes: an empty file (what a failed copy "
                                            "leaves), not a database. Put a backup back with "
                                            "{restore}, or run `fujian init` to start a new "
                                            "database").format(restore=RESTORE_HINT)))
    else:
        detail = _("{size} bytes").format(size=facts.size)
        if not facts.writable:
            detail += _("; read-only here: reading works, changes are refused")
        checks.append(Check("file", OK, detail))
    checks.append(Check("permissions", OK if mode & 0o077 == 0 else WARN,
                        _("file mode {mode}").format(mode=oct(mode))
                        + ("" if mode & 0o077 == 0 else _(": others can read it; chmod 600"))))
    return facts.size > 0


def _header_check(path: Path, facts, checks: list[Check]):
    from fujian.storage import sqlite as storage

    try:
        header = storage.read_header(path)
    except OSError as exc:
        checks.append(Check("header", FAIL, _("cannot read the file: {reason}").format(
            reason=exc.strerror)))
        return None
    if header is None or not header.sqlite:
        checks.append(Check("header", FAIL, _(
            "not an SQLite file (no \"SQLite format 3\" header): this is not a fujian database. "
            "Check the path, or put a backup back with {restore}").format(restore=RESTORE_HINT)))
        return None
    expected = header.expected_size
    if expected is not None and facts.size < expected and not facts.wal_bytes:
        checks.append(Check("header", FAIL, _(
            "truncated: the file has {size} bytes, its header says {expected} ({pages} pages of "
            "{page}). Put a backup back with {restore}").format(
                size=facts.size, expected=expected, pages=header.page_count,
                page=header.page_size, restore=RESTORE_HINT)))
        return header  # the database checks say what SQLite makes of it
    pages = header.page_count if header.page_count is not None else "?"
    checks.append(Check("header", OK, _("SQLite 3, {pages} pages of {page} bytes").format(
        pages=pages, page=header.page_size)))
    return header


def _database_checks(path: Path, header, facts, checks: list[Check]) -> bool:
    """The checks of an SQLite file; returns whether it is a fujian database of this
    fujian's schema that could be read (the due date checks read it too)."""
    from fujian.migrations import HEAD, REVISIONS
    from fujian.storage import sqlite as storage

    engine = storage.diagnostic_engine(path)
    state: dict[str, object] = {}  # what the schema check found, for the checks after it

    def run(name: str, body: Callable) -> None:
        try:
            with engine.connect() as conn:
                checks.append(body(conn))
        except _Skip as skip:
            checks.append(Check(name, WARN, str(skip)))
        except Exception as exc:  # noqa: BLE001 - a broken file must not stop the doctor
            reason = storage.sqlite_reason(exc) or type(exc).__name__
            checks.append(Check(name, FAIL, _(
                "could not be read (SQLite: {reason}): put a backup back with {restore}")
                .format(reason=reason, restore=RESTORE_HINT)))

    def integrity(conn) -> Check:
        problems = storage.integrity_problems(conn)
        if not problems:
            return Check("integrity", OK, "ok")
        lines = [line for problem in problems for line in problem.splitlines()
                 if line and not line.startswith("***")]
        more = _(" (and more)") if len(lines) > 5 else ""
        return Check("integrity", FAIL, _(
            "{problems}{more}. The file is damaged: put a backup back with {restore} "
            "(`fujian backup` refuses to copy a damaged database)").format(
                problems="; ".join(lines[:5]), more=more, restore=RESTORE_HINT))

    def schema(conn) -> Check:
        tables = storage.table_names(conn)
        if not tables:
            return Check("schema", FAIL, _("no tables: an SQLite file that is not a fujian "
                                           "database; `fujian init` makes one there"))
        if not tables >= storage.FUJIAN_TABLES:
            return Check("schema", FAIL, _("the tables of another program: not a fujian "
                                           "database; check the path"))
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        state["fujian"] = True
        state["version"] = version
        if version == HEAD:
            return Check("schema", OK, _("schema {version} (this fujian: {head})").format(
                version=version, head=HEAD))
        if version in REVISIONS:
            return Check("schema", WARN, _(
                "schema {version} (this fujian: {head}): upgraded on next use, after a backup "
                "beside it").format(version=version, head=HEAD))
        return Check("schema", FAIL, _(
            "schema {version} (this fujian: {head}): made by a newer fujian; upgrade fujian")
            .format(version=version, head=HEAD))

    def fujian_only(conn) -> None:
        if not state.get("fujian"):
            raise _Skip(_("not checked: see the schema check"))
        if state.get("version") != HEAD:
            raise _Skip(_("not checked: the schema is not this fujian's"))

    def references(conn) -> Check:
        fujian_only(conn)
        broken = storage.broken_references(conn)
        return Check("references", OK if not broken else FAIL,
                     _("{n} broken references").format(n=broken)
                     + ("" if not broken else _(": put a backup back with {restore}").format(
                         restore=RESTORE_HINT)))

    def journal(conn) -> Check:
        if header.wal:
            detail = _("journal mode wal")
            if facts.wal_bytes:
                detail += _("; {n} bytes of recent changes in the -wal file (keep it with the "
                            "database)").format(n=facts.wal_bytes)
            return Check("journal", OK, detail)
        return Check("journal", FAIL, _(
            "a rollback journal, not wal: fujian needs wal; the next fujian command that can "
            "write the database switches it"))

    def ids(conn) -> Check:
        fujian_only(conn)
        return ids_check(conn)

    def units(conn) -> Check:
        fujian_only(conn)
        return units_check(conn)

    try:
        for name, body in (("integrity", integrity), ("schema", schema),
                           ("references", references), ("journal", journal), ("ids", ids),
                           ("units", units)):
            run(name, body)
    finally:
        engine.dispose()
    return bool(state.get("fujian")) and state.get("version") == HEAD and \
        all(c.status != FAIL for c in checks if c.name in ("integrity", "schema"))

def _server_checks(address, checks: list[Check]) -> bool:
    """A server database: connection, server version, schema, ID sequences (database and
    item numbers), connection time zone, encoding, text order, units. Reads only. Returns
    whether it is a fujian database of this fujian's schema."""
    from fujian.migrations import HEAD, REVISIONS
    from fujian.storage import FUJIAN_TABLES
    from fujian.storage.postgres import MINIMUM_SERVER, make_engine, server_facts

    facts = server_facts(address)
    names = ("server", "schema", "sequences", "time zone", "encoding", "text order", "ids",
             "units")
    if facts.error:
        checks.append(Check("connection", FAIL, facts.error))
        checks.extend(Check(name, WARN, _("not checked: see the connection check"))
                      for name in names)
        return False
    checks.append(Check("connection", OK, _("{server}, connected in {ms} ms").format(
        server=address.server, ms=round(facts.connect_ms))))
    old = facts.version_num < MINIMUM_SERVER
    checks.append(Check("server", WARN if old else OK, _("PostgreSQL {version}").format(
        version=facts.version) + (_(": older than 12, not tested with fujian") if old else "")))
    fujian = False
    if not facts.tables:
        checks.append(Check("schema", FAIL, _("no tables: run `fujian init` (a new database) "
                                              "or `fujian copy --to` (from an existing one)")))
    elif not facts.tables >= FUJIAN_TABLES:
        checks.append(Check("schema", FAIL, _("the tables of another program: not a fujian "
                                              "database; check the URL")))
    elif facts.revision == HEAD:
        fujian = True
        checks.append(Check("schema", OK, _("schema {version} (this fujian: {head})").format(
            version=facts.revision, head=HEAD)))
    elif facts.revision in REVISIONS:
        checks.append(Check("schema", WARN, _(
            "schema {version} (this fujian: {head}): upgraded on next use, after a backup in "
            "your data folder").format(version=facts.revision, head=HEAD)))
    else:
        checks.append(Check("schema", FAIL, _(
            "schema {version} (this fujian: {head}): made by a newer fujian; upgrade fujian")
            .format(version=facts.revision, head=HEAD)))
    if facts.sequences_behind:
        checks.append(Check("sequences", FAIL, _(
            "id sequences behind their tables: {tables}; the next insert would collide. "
            "`fujian copy` and `fujian restore` set them; ask the administrator to run setval")
            .format(tables=", ".join(facts.sequences_behind))))
    else:
        checks.append(Check("sequences", OK, _("{n} id sequences past their tables' ids")
                            .format(n=facts.sequences)))
    zone_ok = facts.timezone.upper() in ("UTC", "ETC/UTC")
    checks.append(Check("time zone", OK if zone_ok else FAIL, _(
        "fujian's connections use {zone} (the server's default is {server}); times are stored "
        "in UTC").format(zone=facts.timezone, server=facts.server_timezone)))
    encoding_ok = facts.server_encoding.upper() == "UTF8" and \
        facts.client_encoding.upper() == "UTF8"
    checks.append(Check("encoding", OK if encoding_ok else FAIL, _(
        "server {server}, connection {client}").format(server=facts.server_encoding,
                                                       client=facts.client_encoding)
        + ("" if encoding_ok else _(": Chinese text needs UTF8; create the database with "
                                    "ENCODING 'UTF8'"))))
    if not fujian:
        checks.extend(Check(name, WARN, _("not checked: see the schema check"))
                      for name in ("text order", "ids", "units"))
        return False
    if facts.not_binary:
        checks.append(Check("text order", WARN, _(
            "{n} text columns sort by the server's collation, not by code point as SQLite "
            "does: {columns}").format(n=len(facts.not_binary),
                                      columns=", ".join(facts.not_binary[:5]))))
    else:
        checks.append(Check("text order", OK, _("every text column sorts by code point "
                                                "(collation C), as in SQLite")))
    from sqlalchemy.pool import NullPool

    engine = make_engine(address, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            checks.append(ids_check(conn))
            checks.append(units_check(conn))
    finally:
        engine.dispose()
    return True


def ids_check(conn) -> Check:
    """An item number above its kind's last handed-out number would be handed out again."""
    from sqlalchemy import func, select

    from fujian.models import Item, ItemSequence

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

def units_check(conn) -> Check:
    from sqlalchemy import func, select

    from fujian.models import Unit

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
        calendar, problem = None, exc.strerror or type(exc).__name__
    present, unreadable = [], []
    for file in override_files:
        try:
            if file.is_file():
                present.append(str(file))
        except OSError as exc:  # a folder this user may not enter
            unreadable.append(f"{file} ({exc.strerror})")
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
