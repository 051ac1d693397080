"""The database: an SQLite file (the embedded default) or a PostgreSQL server that a whole
district or city shares.

This package is the only place that knows which backend it has. Everything above it speaks
SQLAlchemy and asks the store what differs: where it is (``store.location``, safe to print: a
PostgreSQL password never appears in it), how to back it up, whether a path is the database
itself, how to restore it. SQLite's own words live in :mod:`fujian.storage.sqlite`,
PostgreSQL's in :mod:`fujian.storage.postgres`, copying between the two in
:mod:`fujian.storage.copying`.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fujian.errors import BadInput, StorageError
from fujian.i18n import _
from fujian.migrations import HEAD, REVISIONS

BUSY_TIMEOUT_S = 10.0  # how long a writer waits for another writer before "busy; try again"

# What marks a fujian database (tables of any revision since 0001).
FUJIAN_TABLES = frozenset({"alembic_version", "item", "unit"})

# A PostgreSQL URL, in any of the spellings people copy from their tools; anything else names
# an SQLite file.
URL_PREFIXES = ("postgresql://", "postgresql+psycopg://", "postgres://")


# What is neither a file nor our URL, and must not be read as a file name: another scheme
# (two letters or more, so a Windows drive C:/ is a path) or a libpq key=value string.
_OTHER_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):/")
_KEY_VALUE = re.compile(r"\s*(host|hostaddr|dbname|user|password|port|service)\s*=",
                        re.IGNORECASE)


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(URL_PREFIXES)


def as_location(value: Any):
    """A database location from a user's text or a path: a :class:`ServerAddress` for a
    PostgreSQL URL, else a :class:`Path` to an SQLite file."""
    from fujian.storage.postgres import ServerAddress

    if isinstance(value, ServerAddress | Path):
        return value
    text = os.fspath(value)
    if is_url(text):
        return ServerAddress.parse(text)
    scheme = _OTHER_SCHEME.match(text.strip())
    if scheme or _KEY_VALUE.match(text):
        # Never a file name: a misspelled or foreign URL (postgress://, mysql://), or a libpq
        # key=value string. Read as a path it would be echoed, password and all.
        raise BadInput(_("{what} is not a database fujian can open: give a file, or a URL "
                         "postgresql://user@host:port/database.").format(
                             what=f"{scheme.group(1)}://…" if scheme else "host=…"))
    return Path(text).expanduser()


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("fujian", appauthor=False)) / "fujian.db"


def resolve_location(option: str | None):
    """``--db`` first, then ``FUJIAN_DB``, then the user's data directory: a file path or a
    PostgreSQL URL.

    An empty value is refused, never read as "the default": a cron line whose variable is
    unset (``--db "$DB"``) must not report on another database."""
    if option is not None:
        if not option.strip():
            raise BadInput(_("--db is empty: give the database file, or leave the option out "
                             "to use $FUJIAN_DB or the default."))
        return as_location(option)
    env = os.environ.get("FUJIAN_DB")
    if env is not None:
        if not env.strip():
            raise BadInput(_("FUJIAN_DB is set but empty: give the database file, or unset it "
                             "to use the default."))
        return as_location(env)
    return default_db_path()


resolve_db_path = resolve_location  # the name earlier versions (and their tests) used


def backups_folder() -> Path:
    """Where backups of a server database go when fujian makes them itself (before an
    upgrade): the user's data folder, as private as the default database's."""
    folder = default_db_path().parent / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


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

    def __new__(cls, location: Any = None, *args: Any, **kwargs: Any):
        if cls is Store:
            from fujian.storage.postgres import PostgresStore, ServerAddress
            from fujian.storage.sqlite import SqliteStore

            cls = PostgresStore if isinstance(as_location(location), ServerAddress) \
                else SqliteStore
        return super().__new__(cls)

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
        from fujian.storage.copying import holds_data

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


def storage_error_from(exc: BaseException, location: Any) -> StorageError | None:
    """A database driver's exception as a one-line StorageError for a person, or None if it
    is not one (which backend raised it decides the words)."""
    from fujian.storage import sqlite

    found = sqlite.storage_error_from(exc, location)
    if found is not None:
        return found
    from fujian.storage.postgres import storage_error_from as from_postgres

    return from_postgres(exc, location)


def run_migrations(connection, upto: str = HEAD) -> None:
    """Alembic's upgrade on ``connection``, inside its transaction if it has one (Alembic then
    leaves the commit to the caller)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    config.attributes["connection"] = connection
    command.upgrade(config, upto)


def restore(backup: Path, location: Any, force: bool = False) -> Path | None:
    """Put a verified backup (an SQLite file) in place of the database at ``location``;
    returns where the database it replaced was kept (None when there was nothing to keep)."""
    from fujian.storage.postgres import ServerAddress

    location = as_location(location)
    if isinstance(location, ServerAddress):
        from fujian.storage.postgres import restore_into_server

        return restore_into_server(backup, location, force)
    from fujian.storage import sqlite

    sqlite.refuse_database_files(backup, location)
    if location.is_dir():
        raise BadInput(_("{path} is a folder, not a database file.").format(path=location))
    if location.exists() and location.stat().st_size > 0 and not force:
        raise BadInput(_("{path} exists: add --force to replace it with the backup (it is "
                         "kept beside it first).").format(path=location))
    return sqlite.restore_database(backup, location)


def bulk_insert(connection, table, records: list[dict], batch: int = 5000) -> None:
    """Insert many rows at DB-API speed: the statement is compiled once and each column's bind
    processor (the dialect's own conversion, so this stays portable) is looked up once,
    instead of SQLAlchemy building parameters row by row — which was a third of a 100k-row
    import."""
    if not records:
        return
    keys = list(records[0])
    dialect = connection.dialect
    if dialect.name == "postgresql":
        from fujian.storage.postgres import copy_in

        copy_in(connection, table, keys, records)
        return
    compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    converters = []
    for key in keys:
        processor = table.c[key].type._cached_bind_processor(dialect)
        converters.append(processor)
    positional = compiled.positiontup
    order = list(positional) if positional else keys
    index = {key: i for i, key in enumerate(keys)}
    picks = [(index[name], converters[index[name]]) for name in order]
    sql = compiled.string
    for start in range(0, len(records), batch):
        rows = []
        for record in records[start:start + batch]:
            values = list(record.values())
            converted = [values[i] if convert is None else convert(values[i])
                         for i, convert in picks]
            rows.append(tuple(converted) if positional else dict(zip(order, converted,
                                                                     strict=True)))
        connection.exec_driver_sql(sql, rows)


# Names tests and earlier callers import from ``fujian.storage`` (SQLite is the default).
from fujian.storage.sqlite import (  # noqa: E402
    backup_to,
    create_private_file,
    damaged_message,
    describe_sqlite_error,
    read_only_uri,
)

__all__ = [
    "BUSY_TIMEOUT_S", "FUJIAN_TABLES", "Store", "as_location", "backup_to", "bulk_insert",
    "create_private_file", "damaged_message", "default_db_path", "describe_sqlite_error",
    "is_url", "read_only_uri", "resolve_db_path", "resolve_location", "restore",
    "storage_error_from",
]
