"""The façade the CLI and the tests use. Each method is one transaction."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import replace
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir, user_config_dir
from sqlalchemy import exists, func, select
from sqlalchemy.exc import InternalError, OperationalError, ProgrammingError

from fujian import deadlines
from fujian.deadlines import Calendar, RuleBook
from fujian.errors import BadInput, FujianError
from fujian.i18n import _, document_language
from fujian.kinds import KINDS, Kind, format_id, split_id
from fujian.models import NAME_CHARS, Duty, Item, Unit, check_kind_columns
from fujian.resources import data_file
from fujian.service import items as item_ops
from fujian.service import queries, recount, search
from fujian.service import units as unit_ops
from fujian.service.finding import find
from fujian.service.search import words_of
from fujian.storage import Store, copy_database, damaged_message, resolve_location, restore, storage_error_from
from fujian.storage import as_location as to_location


def current_actor() -> str:
    """Who is acting: FUJIAN_USER, else the login name."""
    explicit = os.environ.get("FUJIAN_USER", "").strip()
    if len(explicit) > NAME_CHARS:  # stored with every change: a name, not a text
        raise BadInput(_("FUJIAN_USER is {length:,} characters long; it takes at most "
                         "{limit:,}.").format(length=len(explicit), limit=NAME_CHARS))
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


def override_files() -> list[Path]:
    """Calendar overrides: the shipped file, then FUJIAN_CALENDAR or the user's config file."""
    files = [data_file("calendar_override.toml")]
    env = os.environ.get("FUJIAN_CALENDAR")
    if env:
        files.append(Path(env).expanduser())
    else:
        files.append(Path(user_config_dir("fujian", appauthor=False)) / "calendar.toml")
    return files


def optional_override_files() -> list[Path]:
    """Override files that may be absent: the user's default config file. A file named by
    FUJIAN_CALENDAR must exist: a mistyped name would silently count days without it."""
    return [] if os.environ.get("FUJIAN_CALENDAR") else override_files()[1:]


def cache_dir() -> Path | None:
    """Where derived data (the holiday table) is kept: FUJIAN_CACHE_DIR, else the user's cache
    folder."""
    env = os.environ.get("FUJIAN_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(user_cache_dir("fujian", appauthor=False))


def load_calendar() -> Calendar:
    return Calendar(override_files(), cache_dir(), optional=optional_override_files())


def load_rules() -> RuleBook:
    return deadlines.shipped_rules()


class Tracker:
    def __init__(self, store: Store, today: date, actor: str | None = None,
                 calendar: Calendar | None = None, rules: RuleBook | None = None) -> None:
        self.store = store
        self.today = today
        self.actor = actor or current_actor()
        self._calendar = calendar
        self._rules = rules
        self.saved: list[set[int]] = []  # per committed write that changed something: its items
        # A kind whose field has no column is refused here, by name, before any command uses it.
        check_kind_columns()

    @cached_property
    def calendar(self) -> Calendar:
        return self._calendar or load_calendar()

    @cached_property
    def rules(self) -> RuleBook:
        return self._rules or load_rules()

    def _context(self, session) -> item_ops.Context:
        return item_ops.Context(session, self.today, self.actor, self.calendar, self.rules)

    @contextmanager
    def _writing(self, commit: bool = True) -> Iterator[item_ops.Context]:
        """One write transaction; the search rows of the items it wrote are rebuilt in it
        (service/search.py), so that search never lags behind the records."""
        with self.store.writing(commit=commit) as session:
            ctx = self._context(session)
            yield ctx
            search.refresh(session, ctx.touched)
        if commit and (ctx.logged or ctx.touched):  # committed: a report may say so (saved_ids)
            self.saved.append(set(ctx.touched))

    def saved_ids(self, most: int = 5) -> list[str]:
        """The IDs of the items this tracker's committed writes changed, the first ``most``."""
        pks = sorted(set().union(*self.saved))[:most]
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(Item.kind, Item.number).where(Item.id.in_(pks)))
            return [format_id(kind, number) for kind, number in sorted(tuple(r) for r in rows)]

    # -- the calendar the due dates were counted with (service/recount.py) --------------------

    def recount_due_dates(self) -> int | None:
        """When the calendar changed since the open due dates were counted (or they never were
        checked against one), count them again in one write transaction and store the
        calendar's fingerprint; returns how many moved, or None when nothing was to do or it
        could not be done. A database this user cannot write is left as it is (and so is one
        busy with another writer: the next command tries again); an override file that cannot
        be read is for the commands that count days, and doctor, to report."""
        if self.store.read_only:
            return None
        try:
            fingerprint = self.calendar.fingerprint
        except FujianError:
            return None
        with self.store.engine.connect() as connection:
            if recount.stored_fingerprint(connection) == fingerprint:
                return None
        try:
            with self._writing() as ctx:
                return recount.recount(ctx, fingerprint)
        except (OperationalError, ProgrammingError, InternalError, FujianError):
            # Read-only after all (a server role without write rights, a read-only
            # transaction) or busy: nothing was changed, and the command goes on.
            return None

    def stamp_calendar(self) -> None:
        """A new database (`fujian init`): its due dates, none yet, are counted with this
        calendar. A database that holds duties already is left to the recount."""
        try:
            fingerprint = self.calendar.fingerprint
        except FujianError:  # a broken override file: the first recount stores it
            return
        with self.store.writing() as session:
            if not session.scalar(select(exists().select_from(Duty))):
                recount.store_fingerprint(session, fingerprint)

    # -- units ---------------------------------------------------------------------------------

    def add_unit(self, code: str, name: str, liaison: str | None = None, phone: str | None = None,
                 kind: str | None = None) -> str:
        with self.store.writing() as session:
            return unit_ops.add_unit(session, self.actor, code, name, liaison, phone, kind).code

    def update_unit(self, code: str, **values: str | None) -> tuple[str, bool]:
        """The unit's code, and whether anything changed."""
        with self.store.writing() as session:
            unit, changed = unit_ops.update_unit(session, self.actor, code, **values)
            return unit.code, changed

    def list_units(self) -> list[dict]:
        with self.store.reading() as session:
            return unit_ops.list_units(session)

    def import_units(self, path: Path, update: bool = True, encoding: str = "auto") -> dict:
        rows = unit_ops.read_units_csv(path, encoding)
        with self.store.writing() as session:
            return unit_ops.import_units(session, self.actor, rows, update=update)

    def load_default_units(self) -> dict:
        """The shipped directory, the first time only: a later run never overwrites edits."""
        rows = unit_ops.read_units_csv(data_file("units.csv"))
        with self.store.writing() as session:
            if session.scalar(select(func.count()).select_from(Unit)):
                return {"added": 0, "updated": 0, "unchanged": len(rows)}
            return unit_ops.import_units(session, self.actor, rows, update=False)

    def unit_names(self) -> dict[str, str]:
        """Every unit's code → name."""
        return {u["code"]: u["name"] for u in self.list_units()}

    def unit_id(self, text: str) -> int:
        with self.store.reading() as session:
            return unit_ops.find_unit(session, text).id

    # -- items ---------------------------------------------------------------------------------

    def add(self, kind: Kind | str, values: Mapping[str, Any]) -> item_ops.Done:
        kind = KINDS[kind] if isinstance(kind, str) else kind
        with self._writing() as ctx:
            return item_ops.add_item(ctx, kind, values)

    def update(self, ident: str, values: Mapping[str, Any], kind: Kind | None = None):
        with self._writing() as ctx:
            return item_ops.update_item(ctx, ident, values, kind)

    def close(self, ident: str, outcome: str, on: date | str | None = None,
              note: str | None = None, kind: Kind | None = None,
              acted_on: date | str | None = None):
        with self._writing() as ctx:
            return item_ops.close_item(ctx, ident, outcome, on, note, kind, acted_on=acted_on)

    def reopen(self, ident: str, reason: str, kind: Kind | None = None,
               due_on: date | str | None = None, note: str | None = None):
        with self._writing() as ctx:
            return item_ops.reopen_item(ctx, ident, reason, kind, due_on,
                                        note)

    def note(self, ident: str, text: str, day: date | str | None = None):
        with self._writing() as ctx:
            return item_ops.note_item(ctx, ident, text, day)

    def void(self, ident: str, reason: str | None):
        with self._writing() as ctx:
            return item_ops.void_item(ctx, ident, reason)

    def unvoid(self, ident: str, reason: str | None):
        with self._writing() as ctx:
            return item_ops.unvoid_item(ctx, ident, reason)

    def record_stage(self, ident: str, kind: Kind, verb_name: str,
                     on: date | str | None = None, note: str | None = None,
                     acted_on: date | str | None = None):
        """A kind's verb that records a stage or meets a duty (kinds.Verb): a suggestion's or
        a clue's `reply`."""
        verb = next(v for v in kind.verbs if v.name == verb_name)
        with self._writing() as ctx:
            return item_ops.record_stage(ctx, ident, kind, verb, on, note, acted_on)

    def open_linked(self, ident: str, kind: Kind, verb_name: str, values: Mapping[str, Any],
                    superior: bool = False, report: str | None = None, again: bool = False,
                    reason: str | None = None):
        """A kind's verb that opens a linked item of another kind (an escalation)."""
        verb = next(v for v in kind.verbs if v.name == verb_name)
        with self._writing() as ctx:
            return item_ops.open_linked(ctx, ident, kind, verb, values,
                                        superior, report, again, reason)

    def reply(self, ident: str, on: date | str | None = None, note: str | None = None,
              acted_on: date | str | None = None):
        """The reply of a suggestion's addressee, or of the organ a clue's suggestion went to."""
        kind = split_id(ident)[0]
        if not any(v.name == "reply" for v in kind.verbs):
            replying = [k.code for k in KINDS.values() if any(v.name == "reply" for v in k.verbs)]
            raise BadInput(_("{id} is not of kind {kind}.").format(
                id=ident.upper(), kind=" / ".join(_(code) for code in replying)))
        return self.record_stage(ident, kind, "reply", on, note, acted_on)

    def show(self, ident: str, kind: Kind | None = None) -> dict:
        """One item as its public dict, with its long texts (a meeting's minutes) and the items
        that belong to it (a meeting's action items, under the key its kind declares)."""
        with self.store.engine.connect() as conn:
            pk, found = queries.find_item(conn, ident, kind)
            units = queries.units_by_id(conn)
            # Whatever its dates, an item asked for by its ID is shown (no as-of filter).
            row = next(queries.iter_items(conn, queries.Filters(status="all", ids=(pk,),
                                                                include_void=True)))
            row["days_overdue"] = queries.days_overdue(row, self.today)
            row["duties"] = queries.duty_rows(conn, pk, units, self.today)
            row["notes"] = queries.note_rows(conn, pk)
            for kf in found.fields:
                if kf.type == "file":
                    row[kf.name] = queries.column_of(conn, pk, kf.column_name)
            for part_kind, link in item_ops.part_links(found.code):
                parts = queries.Filters(kinds=(part_kind,), status="all", sort="id",
                                        links=((link.column_name, pk),))
                row[link.parts_key] = [a["id"] for a in queries.iter_items(conn, parts)]
            linked = queries.linked_ids(conn, pk)
            if linked:  # items related either way (a request and the suggestion it led to)
                row["linked"] = linked
            return row

    def item_pk(self, ident: str, kind: Kind | None = None) -> int:
        """The row key of an item by its ID; refuses an unknown ID or another kind's."""
        with self.store.engine.connect() as conn:
            return queries.find_item(conn, ident, kind)[0]

    def items(self, filters: queries.Filters, as_of: date | None = None) -> Iterator[dict]:
        with self.store.engine.connect() as conn:
            yield from queries.iter_items(conn, filters, as_of or self.today, self.today)

    def history(self, ident: str) -> list[dict]:
        with self.store.engine.connect() as conn:
            _pk, kind = queries.find_item(conn, ident)
            return queries.history_rows(conn, format_id(kind, split_id(ident)[1]))

    # -- reports: the CLI reaches reports, exports, the pack and doctor through these -----------

    def overdue(self, as_of: date, unit: str | None = None, kind: Kind | None = None,
                **who: Any) -> Iterator[dict]:
        from fujian.service.reports import overdue_rows  # deferred: the reports' module, not loaded by list or show

        unit_id = self.unit_id(unit) if unit else None  # an unknown unit is refused at once
        return self._streamed(overdue_rows, as_of, self.today, unit_id=unit_id, kind=kind,
                              **who)

    def due_soon(self, as_of: date, within: int, unit: str | None = None,
                 kind: Kind | None = None, **who: Any) -> Iterator[dict]:
        from fujian.service.reports import due_soon_rows  # deferred: the reports' module, not loaded by list or show

        # As before, the unit is looked up when the first row is asked for.
        unit_id = self.unit_id(unit) if unit else None
        with self.store.engine.connect() as conn:
            yield from due_soon_rows(conn, as_of, self.today, within, unit_id=unit_id,
                                     kind=kind, **who)

    def _streamed(self, rows: Any, *args: Any, **kwargs: Any) -> Iterator[dict]:
        """``rows(conn, *args, **kwargs)`` streamed on a connection open while it is read."""
        with self.store.engine.connect() as conn:
            yield from rows(conn, *args, **kwargs)

    def summary(self, as_of: date, start: date | None = None,
                end: date | None = None) -> list[dict]:
        """Duties per kind and per holder (:meth:`for_people` gives labels and rates as text)."""
        from fujian.service.reports import summary_rows  # deferred: the reports' module, not loaded by list or show

        with self.store.engine.connect() as conn:
            return summary_rows(conn, as_of, start, end)

    @staticmethod
    def for_people(rows: list[dict]) -> list[dict]:
        from fujian.service.reports import summary_for_people  # deferred: the reports' module

        return summary_for_people(rows)

    @staticmethod
    def check_encoding(encoding: str) -> str:
        from fujian.service.transfer import check_encoding  # deferred: the file commands' module

        return check_encoding(encoding)

    def export_csv(self, out, kind: Kind | None, status: str, labels: bool) -> int:
        """Every item (of ``kind``) in the export format, written to ``out``; returns how many."""
        from fujian.service.transfer import export_columns, write_csv  # deferred: the file commands' module

        filters = queries.Filters(kinds=(kind,) if kind else (), status=status, sort="id")
        return write_csv(self.items(filters), export_columns(kind), out, labels,
                         self.unit_names())

    def open_output(self, path: Path, force: bool, encoding: str):
        """A new export file (0600), never the database itself."""
        from fujian.service.transfer import open_output  # deferred: the file commands' module

        return open_output(path, force, self.store, encoding)

    def write_pack(self, target: Path, as_of: date, **options: Any) -> list[Path]:
        """The joint meeting's pack (service/pack.py), from what this hands down: a
        connection, the day, the meeting asked for and the unit directory."""
        from fujian.service import pack, workbook  # deferred: the pack's modules, not loaded by list or show

        within, force = options.get("within", 7), options.get("force", False)
        meeting = options.pop("meeting", None)
        is_book = workbook.is_workbook_name(target)
        # A workbook is a document: its messages too are in the document's language.
        with document_language() if is_book else nullcontext():
            pack.check_pack_target(target, within, force)
            data = self._pack_data(as_of, meeting, with_units=is_book)
            with self.store.engine.connect() as conn:
                return pack.write_pack(replace(data, conn=conn), target, **options)

    def _pack_data(self, as_of: date, meeting: str | None, with_units: bool) -> Any:
        """The pack's :class:`reports.PackData` but its connection: the meeting asked for
        (refused when unknown), the unit names and, for a workbook, the unit directory."""
        from fujian.service.reports import PackData  # deferred: the reports' module, not loaded by list or show

        meeting_row = self.show(meeting, KINDS["meeting"]) if meeting else None
        return PackData(as_of, self.today, self.unit_names(),
                        units=self.list_units() if with_units else [],
                        meeting=meeting_row,
                        meeting_pk=self.item_pk(meeting_row["id"]) if meeting_row else None,
                        database=self.store)

    def reminders(self, as_of: date, within: int, units: Sequence[str] = ()) -> list:
        """Each unit with a duty to chase at ``as_of`` (overdue or due within ``within`` days),
        with those duties (workbook.reminders); ``units``: those units only."""
        from fujian.service import workbook  # deferred: the workbook's module, not loaded by list or show
        from fujian.service.reports import check_within  # deferred: the reports' module, not loaded by list or show

        check_within(within)
        holder_ids = {self.unit_id(u) for u in units}
        with self.store.engine.connect() as conn:
            return workbook.reminders(conn, as_of, within, holder_ids)

    def write_reminders(self, folder: Path, as_of: date, *, within: int = 7,
                        units: Sequence[str] = (), force: bool = False,
                        labels: bool = True) -> list[Path]:
        """One reminder notice workbook per unit with a duty to chase (workbook.py)."""
        from fujian.service import workbook  # deferred: the workbook's module, not loaded by list or show

        with document_language():  # its messages too, as the notices
            workbook.check_reminder_folder(folder, force)
            found = self.reminders(as_of, within, units)
            return workbook.write_reminders(found, folder, as_of, self.store, within=within,
                                            labels=labels, force=force)

    @staticmethod
    def is_workbook_name(path: Path | str) -> bool:
        from fujian.service.workbook import is_workbook_name  # deferred: the workbook's module

        return is_workbook_name(path)

    @staticmethod
    def doctor(path: Any, today: date) -> tuple[list[dict], bool]:
        """The health checks of the database at ``path`` (a file, never opened as a store: it
        may be anything; or a server database) and of the calendar; returns the rows and the
        verdict."""
        from fujian.service.doctor import healthy, run_checks  # deferred: doctor's module, for that command only

        named = os.environ.get("FUJIAN_CALENDAR")
        checks = run_checks(path, load_calendar, today, override_files(),
                            Path(named).expanduser() if named else None)
        rows = [{"check": c.name, "status": c.status, "detail": c.detail} for c in checks]
        return rows, healthy(checks)

    # -- exchange ------------------------------------------------------------------------------

    def import_csv(self, path: Path, kind: Kind | None, encoding: str = "auto",
                   dry_run: bool = False, source: str = "import") -> dict[str, int]:
        """Bulk-add items from a CSV file in the export format; all or nothing."""
        from fujian.service import transfer  # deferred: the file commands' module, not loaded by list or show

        rows = transfer.read_rows(transfer.text_lines(path, encoding))
        with self._writing(commit=not dry_run) as ctx:
            return transfer.import_items(ctx, rows, kind, source, ids="id" in rows.keys)

    @staticmethod
    def read_text(path: Path) -> str:
        """A text file a person names (minutes): UTF-8 or GB18030, at most the size an import
        reads (service/decoding.py)."""
        from fujian.service.decoding import read_file  # deferred: the file commands' module

        return read_file(path)

    def import_xlsx(self, path: Path, kind: Kind | None, sheet: str | None = None,
                    dry_run: bool = False, source: str = "import"):
        """Bulk-add items from a workbook's item sheets (see workbook.read_item_sheets); all
        sheets or nothing. Returns the counts and the sheets read and skipped."""
        from fujian.service import transfer, workbook  # deferred: the file commands' module, not loaded by list or show

        with suppress(OSError):  # a file that cannot be read is named by the workbook reader
            transfer.check_size(path)
        sheets = workbook.read_item_sheets(path, sheet)
        try:
            with self._writing(commit=not dry_run) as ctx:
                counts = transfer.import_items(ctx, sheets.rows(), kind, source,
                                               place=sheets.place, ids=sheets.ids)
        finally:
            sheets.close()
        return workbook.SheetImport(counts, sheets.read, sheets.skipped)

    def backup(self, target: Path, force: bool = False) -> Path:
        """A verified copy of the database at ``target``; the source must be sound, and a
        failed or interrupted backup leaves an existing ``target`` as it was."""
        from fujian.service.transfer import check_target, refuse_database  # deferred: the file commands' module

        refuse_database(target, self.store)
        check_target(target, force)
        self.store.backup(target, replace=force)
        return target

    def copy_to(self, location: Any) -> dict[str, tuple[int, str]]:
        """The whole database into the empty database at ``location`` (a file or a server),
        verified table by table; returns rows and checksum per table."""
        return copy_database(self.store, location)

    @staticmethod
    def restore(backup: Path, database: Any, force: bool = False) -> Path | None:
        """Put a verified backup in place of ``database`` (a file, which need not open: it may
        be damaged; or a server database); returns where the database it replaced was kept,
        if there was one."""
        if backup.is_dir():
            raise BadInput(_("{path} is a folder: give the backup file.").format(path=backup))
        if not backup.is_file():
            raise BadInput(_("No backup file {path}.").format(path=backup))
        return restore(backup, database, force)

    # -- what the command line needs besides the operations: it reaches the storage, the search
    #    and the calendar through these only, so that it imports nothing below the service -----

    @staticmethod
    def location(db_option: str | None):
        """The database a run uses: ``--db``, else ``FUJIAN_DB``, else the user's data folder."""
        return resolve_location(db_option)

    @staticmethod
    def as_location(value: Any):
        """A database location from a user's text: a server address or a file path."""
        return to_location(value)

    @staticmethod
    def open_store(location: Any, create: bool = False) -> Store:
        """The database at ``location``; only ``create`` makes a new one."""
        return Store(location, create=create)

    @staticmethod
    def damaged_message(location: Any) -> str:
        """What to say about a database whose integrity check failed."""
        return damaged_message(location)

    @staticmethod
    def storage_error(exc: BaseException, location: Any):
        """A database driver's exception as a StorageError for a person, or None."""
        return storage_error_from(exc, location)

    @staticmethod
    def legal_calendar() -> Calendar:
        """The holiday calendar, with the user's overrides."""
        return load_calendar()

    @staticmethod
    def search_words(texts: list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """The words of a query as search compares them (normalised, no repeats)."""
        return words_of(texts)

    def search(self, words: tuple[str, ...], **options: Any):
        """Items holding every word, most relevant first (service/search.py)."""
        with self.store.engine.connect() as connection:
            return find(connection, words, today=self.today, **options)

    @staticmethod
    def list_filters(**values: Any) -> queries.Filters:
        """The filters of a list, from the CLI's options already resolved to codes and keys."""
        return queries.Filters(**values)
