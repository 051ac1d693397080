"""Opening, creating, upgrading and backing up the database.

This is the only module that knows it talks to SQLite (pragmas, ``BEGIN IMMEDIATE``, the
online backup API); everything above it speaks SQLAlchemy, so a PostgreSQL URL can replace the
file later.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fujian.errors import StorageError
from fujian.i18n import _
from fujian.migrations import HEAD, REVISIONS

BUSY_TIMEOUT_S = 10.0


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("fujian", appauthor=False)) / "fujian.db"


def resolve_db_path(option: str | None) -> Path:
    """``--db`` first, then ``FUJIAN_DB``, then the user's data directory."""
    if option:
        return Path(option).expanduser()
    env = os.environ.get("FUJIAN_DB")
    if env:
        return Path(env).expanduser()
    return default_db_path()


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (case records are confidential)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def _inspect(path: Path) -> str | None:
    """The schema revision of an existing file, ``None`` for an empty one; refuses a file that
    is not a fujian database. Reads only: nothing is written to a foreign file.

    The file is read through SQLite only, never with Python's open(): closing any other file
    descriptor on a database drops every POSIX lock this process holds on it, which lets another
    process checkpoint or reset the WAL under a live connection (sqlite.org/howtocorrupt.html
    §2.2). The concurrency test caught exactly that when one process opened the store twice.
    """
    try:
        if path.stat().st_size == 0:
            return None
    except OSError as exc:
        raise StorageError(
            _("Cannot read the database {path}: {reason}.").format(path=path, reason=exc.strerror)
        ) from exc
    try:
        # Percent-encode the path: a file name with ?, # or % would otherwise be read as URI
        # syntax and SQLite would open (and create) a different file.
        uri = f"file:{urllib.parse.quote(path.resolve().as_posix())}?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            tables = {r[0] for r in
                      con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                return None
            if not {"alembic_version", "item", "unit"} <= tables:
                raise StorageError(
                    _("{path} is an SQLite database of another program, not a fujian database.")
                    .format(path=path)
                )
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(describe_sqlite_error(str(exc), path)) from exc
    return row[0] if row else None


def describe_sqlite_error(message: str, path: Path | str) -> str:
    """A sentence for a person from an SQLite error text (which never contains case data)."""
    text = message.lower()
    if "locked" in text or "busy" in text:
        return _("The database {path} is busy (another fujian is writing); try again.").format(
            path=path)
    if "readonly" in text or "read-only" in text:
        return _("The database {path} is read-only: nothing was changed.").format(path=path)
    if "full" in text or "disk i/o" in text:
        return _("Could not write to {path} (disk full or I/O error): nothing was changed.").format(
            path=path)
    if "not a database" in text:
        return _("{path} is not a fujian database (not an SQLite file).").format(path=path)
    if "malformed" in text or "corrupt" in text:
        return _("{path} is damaged: run `fujian doctor`, restore a backup.").format(path=path)
    if "unable to open" in text:
        return _("Cannot open the database {path}.").format(path=path)
    return _("Database error in {path}: {reason}.").format(path=path, reason=message)


def backup_to(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API, safe while others write."""
    create_private_file(target)
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


class Store:
    """An open fujian database: an SQLAlchemy engine with fujian's connection settings."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.upgraded_from: str | None = None
        self.backup_path: Path | None = None
        self.created = False
        if path.is_dir():
            raise StorageError(_("{path} is a folder, not a database file.").format(path=path))
        if not path.exists():
            if not create:
                raise StorageError(_("No database at {path}; run `fujian init`.").format(path=path))
            if not path.parent.is_dir() and path == default_db_path():
                # First run with the default location: the data folder is ours to make.
                # (A folder named by --db or FUJIAN_DB that does not exist is a typo: refuse.)
                try:
                    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                except OSError as exc:
                    raise StorageError(
                        _("Cannot create the folder {folder}: {reason}.").format(
                            folder=path.parent, reason=exc.strerror)
                    ) from exc
            if not path.parent.is_dir():
                raise StorageError(
                    _("The folder of {path} does not exist.").format(path=path))
            try:
                create_private_file(path)
            except OSError as exc:
                raise StorageError(
                    _("Cannot create the database {path}: {reason}.").format(
                        path=path, reason=exc.strerror)
                ) from exc
            self.created = True
        revision = _inspect(path)
        if revision is not None and revision not in REVISIONS:
            raise StorageError(
                _("{path} was made by a newer fujian (schema {found}; this version knows up to "
                  "{head}). Upgrade fujian; the file was not touched.").format(
                    path=path, found=revision, head=HEAD)
            )
        self.engine = self._make_engine()
        self.writer = self.engine.execution_options(fujian_write=True)
        if revision != HEAD:
            self._migrate(revision)

    def _make_engine(self):
        from sqlalchemy import URL, create_engine, event

        # URL.create, not an f-string: a path with ?, # or % must not be parsed as URL syntax
        # (it would silently open another file, not created private).
        engine = create_engine(
            URL.create("sqlite", database=str(self.path)),
            connect_args={"timeout": BUSY_TIMEOUT_S},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # every connection, every time
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
            if mode != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            # A writer takes the write lock at BEGIN, so it waits its turn under busy_timeout
            # instead of failing with "database is locked" when it upgrades a read lock.
            write = conn.get_execution_options().get("fujian_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _migrate(self, revision: str | None) -> None:
        from alembic import command
        from alembic.config import Config

        if revision is not None:
            # An upgrade rewrites tables: keep the user's data beside it first.
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            self.backup_path = self.path.with_name(f"{self.path.name}.before-{HEAD}-{stamp}.bak")
            backup_to(self.path, self.backup_path)
            self.upgraded_from = revision
        config = Config()
        config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
        with self.writer.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, HEAD)
            connection.commit()

    @contextmanager
    def reading(self) -> Iterator:
        """A Session for reads (deferred transaction: never blocks writers in WAL)."""
        from sqlmodel import Session

        with Session(self.engine) as session:
            yield session

    @contextmanager
    def writing(self, commit: bool = True) -> Iterator:
        """A Session whose transaction holds the write lock; commits on success (unless
        ``commit`` is false: a dry run), rolls back on any error."""
        from sqlmodel import Session

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

    # -- health checks for `fujian doctor` (SQLite's own words stay in this module) ----------

    def integrity_problems(self, connection) -> list[str]:
        rows = [r[0] for r in connection.exec_driver_sql("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    def broken_references(self, connection) -> int:
        return len(connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall())

    def journal_mode(self, connection) -> tuple[str, bool]:
        """The journal mode and whether it is the one fujian needs (WAL)."""
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        return mode, mode == "wal"

    def dispose(self) -> None:
        self.engine.dispose()


def bulk_insert(connection, table, records: list[dict], batch: int = 5000) -> None:
    """Insert many rows at DB-API speed: the statement is compiled once and each column's bind
    processor (the dialect's own conversion, so this stays portable) is looked up once,
    instead of SQLAlchemy building parameters row by row — which was a third of a 100k-row
    import."""
    if not records:
        return
    keys = list(records[0])
    dialect = connection.dialect
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


def storage_error_from(exc: BaseException, path: Path | str) -> StorageError | None:
    """Map a database driver exception to a StorageError, or None if it is not one."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.DatabaseError):
        return StorageError(describe_sqlite_error(str(exc.orig), path))
    if isinstance(exc, sqlite3.DatabaseError):
        return StorageError(describe_sqlite_error(str(exc), path))
    return None
