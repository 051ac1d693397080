"""What ``fujian doctor`` reports about an SQLite file: the file, its header, and what SQLite
makes of it (integrity, schema, references, journal), then the caller's data checks.

Every check runs, whatever the others found, on any file: missing, empty, truncated,
damaged, another program's, read-only. Nothing is created, upgraded or repaired.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from fujian.errors import os_reason
from fujian.i18n import _
from fujian.migrations import HEAD, REVISIONS
from fujian.storage.base import FUJIAN_TABLES, find_partials
from fujian.storage.health import (
    FAIL,
    OK,
    RESTORE_HINT,
    WARN,
    Check,
    DataChecks,
    Diagnosis,
    not_checked,
)
from fujian.storage.location import default_db_path
from fujian.storage.sqlite import (
    FileFacts,
    Header,
    broken_references,
    diagnostic_engine,
    file_facts,
    integrity_problems,
    read_header,
    sqlite_reason,
    table_names,
)

SQLITE_CHECKS = ("integrity", "schema", "references", "journal")


class _Skip(Exception):
    """A check that cannot run because an earlier one failed (it says which)."""


def diagnose(path: Path, data_checks: DataChecks) -> Diagnosis:
    """Every check of the file at ``path``, then ``data_checks`` on it when it is a fujian
    database of this fujian's schema."""
    facts = file_facts(path)
    checks: list[Check] = []
    usable = _file_checks(path, facts, checks)
    header = None
    if usable:
        header = _header_check(path, facts, checks)
    else:
        checks.append(Check("header", WARN, _("not checked: see the file check")))
    fujian = False
    if header is None:
        names = (*SQLITE_CHECKS, *(name for name, _check in data_checks))
        checks.extend(not_checked(names, _("not checked: see the file and header checks")))
    else:
        found, fujian = _database_checks(path, header, facts, data_checks)
        checks.extend(found)
    checks.extend(_partials_checks(path))
    return Diagnosis(checks, lambda: diagnostic_engine(path) if fujian else None,
                     facts.writable)


def _file_checks(path: Path, facts: FileFacts, checks: list[Check]) -> bool:
    """The file and permissions rows; returns whether there are bytes to read."""
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
    checks.append(_size_check(facts))
    checks.append(_permissions_check(facts))
    return facts.size > 0


def _size_check(facts: FileFacts) -> Check:
    """The file row of a file that exists: empty, or its size (and whether it is read-only)."""
    if facts.size == 0:
        return Check("file", FAIL, _("0 bytes: an empty file (what a failed copy "
                                     "leaves), not a database. Put a backup back with "
                                     "{restore}, or run `fujian init` to start a new "
                                     "database").format(restore=RESTORE_HINT))
    detail = _("{size} bytes").format(size=facts.size)
    if not facts.writable:
        detail += _("; read-only here: reading works, changes are refused")
    return Check("file", OK, detail)


def _permissions_check(facts: FileFacts) -> Check:
    """Case data is private: a warning when others may read the file."""
    mode = stat.S_IMODE(facts.mode)
    return Check("permissions", OK if mode & 0o077 == 0 else WARN,
                 _("file mode {mode}").format(mode=oct(mode))
                 + ("" if mode & 0o077 == 0 else _(": others can read it; chmod 600")))


def _header_check(path: Path, facts: FileFacts, checks: list[Check]) -> Header | None:
    """The header row; returns the header when SQLite should be asked about the file."""
    try:
        header = read_header(path)
    except OSError as exc:
        checks.append(Check("header", FAIL, _("cannot read the file: {reason}").format(
            reason=os_reason(exc))))
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


def _database_checks(path: Path, header: Header, facts: FileFacts,
                     data_checks: DataChecks) -> tuple[list[Check], bool]:
    """What SQLite makes of the file, then the data checks; returns the rows and whether it
    is a fujian database of this fujian's schema that could be read."""
    reading = _Reading(header, facts)
    steps: list[tuple[str, Callable]] = [
        ("integrity", _integrity), ("schema", reading.schema),
        ("references", reading.references), ("journal", reading.journal),
        *((name, reading.fujian_only(check)) for name, check in data_checks)]
    engine = diagnostic_engine(path)
    try:
        checks = [_run(engine, name, body) for name, body in steps]
    finally:
        engine.dispose()
    sound = all(c.status != FAIL for c in checks if c.name in ("integrity", "schema"))
    return checks, reading.current and sound


def _run(engine, name: str, body: Callable) -> Check:
    """One check on its own connection: a file SQLite cannot read is a failed row, never the
    end of the doctor."""
    try:
        with engine.connect() as conn:
            return body(conn)
    except _Skip as skip:
        return Check(name, WARN, str(skip))
    except Exception as exc:  # noqa: BLE001 - a broken file must not stop the doctor
        reason = sqlite_reason(exc) or type(exc).__name__
        return Check(name, FAIL, _(
            "could not be read (SQLite: {reason}): put a backup back with {restore}")
            .format(reason=reason, restore=RESTORE_HINT))


def _integrity(conn) -> Check:
    """SQLite's integrity check, its first five problems quoted."""
    problems = integrity_problems(conn)
    if not problems:
        return Check("integrity", OK, "ok")
    lines = [line for problem in problems for line in problem.splitlines()
             if line and not line.startswith("***")]
    more = _(" (and more)") if len(lines) > 5 else ""
    return Check("integrity", FAIL, _(
        "{problems}{more}. The file is damaged: put a backup back with {restore} "
        "(`fujian backup` refuses to copy a damaged database)").format(
            problems="; ".join(lines[:5]), more=more, restore=RESTORE_HINT))


class _Reading:
    """The checks that depend on what the schema check found."""

    def __init__(self, header: Header, facts: FileFacts) -> None:
        self.header, self.facts = header, facts
        self.fujian = False
        self.version: str | None = None

    @property
    def current(self) -> bool:
        """A fujian database of this fujian's schema."""
        return self.fujian and self.version == HEAD

    def schema(self, conn) -> Check:
        """Whose tables these are, and at which revision."""
        tables = table_names(conn)
        if not tables:
            return Check("schema", FAIL, _("no tables: an SQLite file that is not a fujian "
                                           "database; `fujian init` makes one there"))
        if not tables >= FUJIAN_TABLES:
            return Check("schema", FAIL, _("the tables of another program: not a fujian "
                                           "database; check the path"))
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        self.fujian, self.version = True, version
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

    def _require_current(self) -> None:
        if not self.fujian:
            raise _Skip(_("not checked: see the schema check"))
        if self.version != HEAD:
            raise _Skip(_("not checked: the schema is not this fujian's"))

    def fujian_only(self, check: Callable[[object], Check]) -> Callable[[object], Check]:
        """``check``, skipped (a warning saying why) unless the schema is this fujian's."""
        def guarded(conn) -> Check:
            self._require_current()
            return check(conn)
        return guarded

    def references(self, conn) -> Check:
        """Rows pointing at rows that do not exist."""
        self._require_current()
        broken = broken_references(conn)
        return Check("references", OK if not broken else FAIL,
                     _("{n} broken references").format(n=broken)
                     + ("" if not broken else _(": put a backup back with {restore}").format(
                         restore=RESTORE_HINT)))

    def journal(self, conn) -> Check:
        """fujian needs write-ahead logging; recent changes may wait in the -wal file."""
        if self.header.wal:
            detail = _("journal mode wal")
            if self.facts.wal_bytes:
                detail += _("; {n} bytes of recent changes in the -wal file (keep it with the "
                            "database)").format(n=self.facts.wal_bytes)
            return Check("journal", OK, detail)
        return Check("journal", FAIL, _(
            "a rollback journal, not wal: fujian needs wal; the next fujian command that can "
            "write the database switches it"))


def _partials_checks(path: Path) -> list[Check]:
    """A warning row for each folder (the database's, the backups folder) holding partial
    files that killed backups, restores or copies left: each a private copy of the case data.
    No row when there are none."""
    folders = [path.parent]
    backups = default_db_path().parent / "backups"
    try:
        if backups.is_dir() and backups.resolve() != path.parent.resolve():
            folders.append(backups)
    except OSError:  # a folder this user may not look into: nothing to report there
        pass
    checks = []
    for folder in folders:
        found = find_partials(folder)
        if found:
            checks.append(Check("partials", WARN, _(
                "{n} partial files left by killed backups, restores or copies in {folder} "
                "(.NAME.*.partial, each a copy of the case data): the next backup, restore or "
                "copy to the same file removes them, or delete them").format(
                    n=len(found), folder=folder)))
    return checks
