"""What every fujian database has in common: the :class:`Store` each backend subclasses, the
schema's tables, the NUL rule and the migrations.

Reads only :mod:`fujian.storage.location`; the backends (:mod:`~fujian.storage.sqlite`,
:mod:`~fujian.storage.postgres`) import this module, never the other way round.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fujian.errors import BadInput, StorageError
from fujian.i18n import _
from fujian.migrations import HEAD, REVISIONS
from fujian.storage.location import as_location

BUSY_TIMEOUT_S = 10.0  # how long a writer waits for another writer before "busy; try again"

# What marks a fujian database (tables of any revision since 0001).
FUJIAN_TABLES = frozenset({"alembic_version", "item", "unit"})

SKIP = frozenset({"alembic_version"})  # the schema's own bookkeeping: each side has its own
BOOKKEEPING = frozenset({"item_sequence", "setting"})  # copied, but no sign of data


def data_tables(connection) -> list:
    """fujian's tables in the database, parents before children."""
    from sqlalchemy import MetaData

    metadata = MetaData()
    metadata.reflect(bind=connection)
    return [t for t in metadata.sorted_tables if t.name not in SKIP]


def holds_data(connection) -> bool:
    """Whether the database holds anything a person entered. The ID counters a new schema
    starts with (item_sequence, at 0) are bookkeeping: a used counter has its items; so is
    the calendar the (absent) due dates were counted with (setting)."""
    from sqlalchemy import exists, select

    return any(connection.scalar(select(exists().select_from(t)))
               for t in data_tables(connection) if t.name not in BOOKKEEPING)


def refuse_nul(engine) -> None:
    """One rule for NUL characters on every backend: refused (exit 2) before any statement
    that would store one reaches the database. Importers say which line; this is the guard
    for every other way in."""
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute", retval=False)
    def _no_nul(_conn, _cursor, _statement, parameters, _context, _executemany):
        # One row (a tuple or dict) or many (a list of them), or the flat values of a
        # multi-row INSERT: look two levels deep.
        rows = parameters.values() if isinstance(parameters, dict) else parameters or ()
        check_no_nul(rows)


def check_no_nul(rows) -> None:
    """Refuse rows (dicts, tuples or single values) with a NUL character in any text."""
    for row in rows:
        if isinstance(row, dict):
            row = row.values()
        elif not isinstance(row, list | tuple):
            row = (row,)
        for value in row:
            if isinstance(value, str) and "\x00" in value:
                raise BadInput(_(
                    "A value contains a NUL character (U+0000), which no database stores "
                    "(PostgreSQL refuses it): remove it. Nothing was changed."))


class Store(ABC):
    """An open fujian database: an SQLAlchemy engine with fujian's connection settings.

    ``Store(location)`` opens an SQLite file or a PostgreSQL database, whichever the location
    names (:func:`as_location`). Only a fujian database is opened; with ``create`` (``fujian
    init``, the demo, ``copy``'s target, tests) an empty one is made into one. Subclasses set
    ``engine``, ``writer`` (the engine for write transactions: one writer at a time),
    ``revision``, ``read_only`` and ``location``."""

    backend = ""
    engine: Any
    writer: Any
    location: Any
    read_only = False
    upgraded_from: str | None = None
    backup_path: Path | None = None
    created = False
    was_empty = False
    revision: str | None = None

    # The kind of location each backend opens (set by each subclass): ``Store(location)``
    # picks the subclass whose kind it is, so this module needs no import of the backends.
    location_type: type = object
    _backends: list[type[Store]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "location_type" in cls.__dict__:  # a backend, not a subclass of one
            Store._backends.append(cls)

    def __new__(cls, location: Any = None, *args: Any, **kwargs: Any):
        if cls is Store:
            cls = Store.backend_for(location)
        return super().__new__(cls)

    @staticmethod
    def backend_for(location: Any) -> type[Store]:
        """The Store subclass that opens ``location`` (a path or a URL, see :func:`as_location`)."""
        location = as_location(location)
        for backend in Store._backends:
            if isinstance(location, backend.location_type):
                return backend
        raise TypeError(f"no backend opens {type(location).__name__}")  # pragma: no cover

    @classmethod
    def open_copy_target(cls, location: Any) -> Store:
        """The database ``fujian copy`` fills, made there when it does not exist yet."""
        return cls(location, create=True)

    def error_from(self, exc: BaseException) -> StorageError | None:
        """The driver's exception as a one-line StorageError naming this database, or None."""
        return None

    # -- what differs by backend ------------------------------------------------------------

    def is_database_file(self, path: Path) -> bool:
        """Whether writing ``path`` would write over the database (or its companion files)."""
        return False

    @abstractmethod
    def backup(self, target: Path, replace: bool) -> None:
        """A verified SQLite copy of the database at ``target`` (see each backend)."""

    def check_integrity(self) -> list[str]:
        """Problems the database reports about its own storage: empty when it is sound."""
        return []

    @abstractmethod
    def _backup_before_upgrade(self) -> Path:
        """Where the whole database was copied before an upgrade rewrites its tables."""

    # -- shared --------------------------------------------------------------------------------

    def holds_data(self) -> bool:
        """Whether any of fujian's tables has a row (units included)."""
        with self.engine.connect() as connection:
            return holds_data(connection)

    def make_schema(self, connection) -> None:
        """fujian's tables in a database opened without them, inside the caller's transaction
        (PostgreSQL's DDL is transactional: see ``PostgresStore(schema_later=True)``)."""
        run_migrations(connection)
        self.revision = HEAD

    def after_copy(self, connection) -> None:  # noqa: B027 - SQLite needs nothing
        """What the database needs after rows arrived with their own ids (see copying);
        SQLite's next rowid already follows the largest id."""

    def _migrate(self, revision: str | None, upto: str = HEAD) -> None:
        if revision is not None:
            # An upgrade rewrites tables: keep the user's data beside it first.
            self.backup_path = self._backup_before_upgrade()
            self.upgraded_from = revision
        with self.writer.connect() as connection:
            run_migrations(connection, upto)
            connection.commit()

    def _refuse_revision(self, revision: str | None) -> None:
        if revision is not None and revision not in REVISIONS:
            raise StorageError(
                _("{path} was made by a newer fujian (schema {found}; this version knows up to "
                  "{head}). Upgrade fujian; the file was not touched.").format(
                    path=self.location, found=revision, head=HEAD)
            )

    @contextmanager
    def reading(self) -> Iterator:
        """A Session for reads: one consistent view, never blocking writers."""
        from sqlmodel import Session

        with Session(self.engine) as session:
            yield session

    @contextmanager
    def writing(self, commit: bool = True) -> Iterator:
        """A Session whose transaction holds the write lock (one writer at a time, as with
        SQLite's file lock); commits on success (unless ``commit`` is false: a dry run), rolls
        back on any error. Refused at once on a read-only database."""
        from sqlmodel import Session

        if self.read_only:
            raise StorageError(_("The database {path} is read-only: nothing was changed.")
                               .format(path=self.location))
        with Session(self.writer) as session:
            session.begin()
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            if commit:
                session.commit()
            else:
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()


def run_migrations(connection, upto: str = HEAD) -> None:
    """Alembic's upgrade on ``connection``, inside its transaction if it has one (Alembic then
    leaves the commit to the caller)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, upto)


# -- partial files: the private temporary copies backups, restores and copies write beside their
# target (``.<target name>.<8 random characters>.partial``, mode 0600), with SQLite's
# ``-journal``, ``-wal`` and ``-shm`` files beside them. The process writing one holds an flock
# on it until the file is placed or removed: a partial nobody can lock belongs to a live run; one
# that can be locked was left by a run that was killed.

_PARTIAL_END = ".partial"
_PARTIAL_COMPANIONS = ("-journal", "-wal", "-shm")
_PARTIAL_LOCKS: dict[str, int] = {}


def _partial_pattern(name: str | None):
    import re

    target = re.escape(name) if name is not None else r".+"
    return re.compile(rf"^\.{target}\.[a-z0-9_]{{8}}\.partial$")


def new_partial(folder: Path, name: str) -> Path:
    """A new private (0600) empty partial file in ``folder`` for the target ``name``, locked
    by this process until :func:`release_partial`."""
    import fcntl
    import tempfile

    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=_PARTIAL_END, dir=folder)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file nobody else has opened
    _PARTIAL_LOCKS[tmp_name] = fd
    return Path(tmp_name)


def release_partial(path: Path) -> None:
    """Give up this process's lock on a partial it made (placed or removed). Only once every
    SQLite connection of this process to the file is closed: closing a descriptor drops the
    process's POSIX locks on the file."""
    import os

    fd = _PARTIAL_LOCKS.pop(str(path), None)
    if fd is not None:
        os.close(fd)


def _stale_partials(folder: Path, name: str | None, before: float | None) -> list[Path]:
    """Partial files in ``folder`` (for the target ``name``, or any) no live process holds;
    with ``before``, only those last written before that time."""
    import fcntl
    import os

    pattern = _partial_pattern(name)
    try:
        entries = [p for p in folder.iterdir() if pattern.match(p.name)]
    except OSError:
        return []
    stale = []
    for path in entries:
        if str(path) in _PARTIAL_LOCKS:
            continue
        try:
            if before is not None and path.stat().st_mtime >= before:
                continue
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except OSError:
            continue  # a live run is writing it
        finally:
            os.close(fd)
        stale.append(path)
    return stale


def find_partials(folder: Path) -> list[Path]:
    """Partial files left in ``folder`` by killed backups, restores and copies (reads only)."""
    return _stale_partials(folder, None, None)


def remove_stale_partials(folder: Path, name: str) -> None:
    """Remove the partial files for the target ``name`` in ``folder`` that a killed run left
    (older than now, and not locked by a live process), with their SQLite companions."""
    import fcntl
    import os
    import time
    from contextlib import suppress

    for path in _stale_partials(folder, name, time.time()):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            for p in (*(Path(f"{path}{end}") for end in _PARTIAL_COMPANIONS), path):
                with suppress(FileNotFoundError):
                    p.unlink()
        except OSError:
            continue
        finally:
            os.close(fd)
