"""A PostgreSQL server shared by a district or a city.

Everything fujian must know about the server lives here: its URL (and keeping the password out
of every message), the connection settings that make it keep the SQLite file's guarantees, its
errors in a person's words, and the facts ``fujian doctor`` reports.

The guarantees, and how each is kept:

* **Instants are UTC.** Every connection sets ``TimeZone = 'UTC'``: the columns are
  ``timestamp without time zone`` holding UTC, and a server in Asia/Shanghai would otherwise
  turn the driver's aware UTC values into local time, eight hours off.
* **One writer at a time.** SQLite's ``BEGIN IMMEDIATE`` made every write transaction wait for
  the file lock, so reading the next item number or checking that a unit code is free and then
  writing could never race. Here every write transaction first takes one transaction-level
  advisory lock (:data:`WRITE_LOCK`), in READ COMMITTED, so it sees what the writer before it
  committed. Reads take no lock and see one snapshot (REPEATABLE READ), as SQLite's do.
* **Text sorts by code point**, as SQLite's binary collation does: migration 0009 gives every
  text column the "C" collation, whatever the server's default (an ICU collation would put
  ``a_c`` before ``a-b``).
* A lock wait gives up after the same :data:`~fujian.storage.BUSY_TIMEOUT_S` as SQLite's busy
  timeout, and a connection attempt after :data:`CONNECT_TIMEOUT_S`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fujian.errors import BadInput, FujianError, StorageError
from fujian.i18n import _
from fujian.migrations import HEAD
from fujian.storage.base import (
    BUSY_TIMEOUT_S,
    FUJIAN_TABLES,
    Store,
    holds_data,
    refuse_nul,
    release_partial,
)
from fujian.storage.copying import backup_to_file, replace_contents
from fujian.storage.location import ServerAddress, as_location, backups_folder
from fujian.storage.sqlite import SqliteStore, check_backup, verified_copy_of

CONNECT_TIMEOUT_S = 10  # unless FUJIAN_CONNECT_TIMEOUT says otherwise (connect_timeout())
# pg_advisory_xact_lock key of fujian's writers: "fujian" in ASCII, so another application's
# advisory locks on the same server are unlikely to collide with it.
WRITE_LOCK = int.from_bytes(b"fujian", "big")
MINIMUM_SERVER = 120000  # PostgreSQL 12: the oldest release the migrations were tried on


def _quiet_driver() -> None:
    """psycopg logs a warning of its own when a connection breaks mid-statement ("error
    ignored terminating pipeline"); the error itself reaches the user as one line, so its
    logger gets a handler that drops records (else Python prints them on stderr)."""
    import logging

    logger = logging.getLogger("psycopg")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StorageError(_("A PostgreSQL database needs the driver: install fujian with "
                             "pip install 'fujian[postgres]'.")) from None


def connect_timeout() -> int:
    """Seconds to wait for the server to answer a connection: FUJIAN_CONNECT_TIMEOUT, else
    10. A whole number of 1 or more (libpq reads 0 as "wait for ever", which a cron job must
    not do)."""
    text = os.environ.get("FUJIAN_CONNECT_TIMEOUT", "").strip()
    if not text:
        return CONNECT_TIMEOUT_S
    if not text.isdigit() or int(text) < 1:
        raise BadInput(_("FUJIAN_CONNECT_TIMEOUT must be a whole number of seconds, 1 or more "
                         "(it is {value}).").format(value=text))
    return int(text)


def make_engine(address: ServerAddress, **options: Any):
    """An engine whose connections keep fujian's guarantees (see the module's docstring)."""
    _require_driver()
    _quiet_driver()
    from sqlalchemy import create_engine, event

    engine = create_engine(
        address.url,
        isolation_level="REPEATABLE READ",
        # client_encoding here, not only in the connect hook: SQLAlchemy reads the server's
        # version before the hook runs, and a SQL_ASCII database would hand it bytes.
        connect_args={"connect_timeout": connect_timeout(), "application_name": "fujian",
                      "client_encoding": "utf8"},
        **options,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET TimeZone = 'UTC'")
            cursor.execute("SET client_encoding = 'UTF8'")
            cursor.execute(f"SET lock_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        dbapi_connection.autocommit = autocommit

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("fujian_write", False):
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")

    refuse_nul(engine)
    return engine


def _tables(connection) -> set[str]:
    return set(connection.exec_driver_sql(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'").scalars())


class PostgresStore(Store):
    """An open fujian database on a PostgreSQL server. ``create`` makes fujian's tables in an
    empty database (the database itself is the server administrator's to create)."""

    backend = "postgresql"
    location_type = ServerAddress

    def __init__(self, location: ServerAddress | str, *, create: bool = True,
                 schema_later: bool = False) -> None:
        """``schema_later``: an empty database is left without tables (``revision`` None) for
        the caller to make them inside its own write transaction (``copy``: all or nothing,
        the schema included)."""
        address = as_location(location)
        self.address = self.location = address
        self.engine = make_engine(address)
        self.writer = self.engine.execution_options(fujian_write=True,
                                                    isolation_level="READ COMMITTED")
        try:
            self._open(create, schema_later)
        except Exception as exc:
            # Every refusal and every driver error alike: the engine goes, the error is a line.
            self.engine.dispose()
            found = storage_error_from(exc, address)
            if found is None:
                raise
            raise found from exc

    def _open(self, create: bool, schema_later: bool) -> None:
        address = self.address
        with self.engine.connect() as connection:
            encoding = connection.exec_driver_sql("SHOW server_encoding").scalar()
            tables = _tables(connection)
            revision = None
            if "alembic_version" in tables:
                revision = connection.exec_driver_sql(
                    "SELECT version_num FROM alembic_version").scalar()
        if str(encoding).upper() != "UTF8":
            raise StorageError(_("The database {path} stores text as {encoding}: fujian needs "
                                 "UTF8 for Chinese text. Ask the administrator to create it with "
                                 "createdb --encoding UTF8 --template template0.").format(
                                     path=address, encoding=encoding))
        if tables and not tables >= FUJIAN_TABLES:
            raise StorageError(_("The database {path} holds another program's tables, not "
                                 "fujian's: nothing was changed.").format(path=address))
        if not tables and not create:
            raise StorageError(_("{path} has no fujian tables yet: run `fujian init` (a new "
                                 "database) or `fujian copy --to` (from an existing one).")
                               .format(path=address))
        self.created = not tables
        self._refuse_revision(revision)
        self.revision = revision
        if schema_later and not tables:
            return
        if revision != HEAD:
            self._migrate(revision)
            self.revision = HEAD

    def _backup_before_upgrade(self) -> Path:
        """Before an upgrade rewrites tables: an SQLite copy of the whole database (at its old
        schema) in the user's data folder, as a SQLite database keeps one beside itself."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = unique_name(backups_folder(), f"{self.address.database}.before-{HEAD}-{stamp}",
                             ".db")
        self.backup(target, replace=False)
        return target

    def backup(self, target: Path, replace: bool) -> None:
        """A verified SQLite file of the whole database at ``target`` (the format of an SQLite
        backup, so `restore` and every read command accept it)."""
        backup_to_file(self, target, replace)

    @classmethod
    def open_copy_target(cls, location: Any) -> Store:
        """Opened without tables: ``copy`` makes them inside its transaction, so a failed copy
        leaves the database without them, as it was."""
        return cls(location, create=True, schema_later=True)

    def error_from(self, exc: BaseException) -> StorageError | None:
        return storage_error_from(exc, self.location)

    def after_copy(self, connection) -> None:
        reset_sequences(connection)
        # Fresh statistics: the planner would otherwise plan the first reports as for the
        # empty tables the copy started from.
        connection.exec_driver_sql("ANALYZE")


def unique_name(folder: Path, stem: str, suffix: str) -> Path:
    target = folder / f"{stem}{suffix}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{stem}-{n}{suffix}"
    return target


def reset_sequences(connection) -> list[str]:
    """Move every id sequence past the largest id in its table: rows copied with their ids
    leave the sequences where they were, and the next insert would collide. Returns the
    tables whose sequence was behind."""
    from sqlalchemy import text

    moved = []
    for table, column, sequence in _sequences(connection):
        last, largest = _sequence_state(connection, table, column, sequence)
        if largest is not None and (last is None or last < largest):
            moved.append(table)
        connection.execute(text(
            f'SELECT setval(:seq, COALESCE((SELECT MAX("{column}") FROM "{table}"), 1), '
            f'(SELECT MAX("{column}") FROM "{table}") IS NOT NULL)'), {"seq": sequence})
    return moved


def _sequences(connection) -> list[tuple[str, str, str]]:
    """(table, column, sequence) for every column with an owned sequence in fujian's schema."""
    rows = connection.exec_driver_sql(
        "SELECT c.table_name, c.column_name, "
        "pg_get_serial_sequence(quote_ident(c.table_name), c.column_name) "
        "FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_name = c.table_name "
        "AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() ORDER BY c.table_name, c.column_name")
    return [(t, c, s) for t, c, s in rows if s]


def _sequence_state(connection, table: str, column: str, sequence: str):
    from sqlalchemy import text

    last = connection.execute(text(
        "SELECT CASE WHEN is_called THEN last_value END FROM " + sequence)).scalar()
    largest = connection.execute(text(f'SELECT MAX("{column}") FROM "{table}"')).scalar()
    return last, largest


def restore_into_server(backup: Path, address: ServerAddress, force: bool) -> Path | None:
    """Replace the server database's contents with a verified backup (an SQLite file), in one
    transaction; returns where its previous contents were kept (an SQLite file in the user's
    data folder), or None when it held nothing."""
    import tempfile

    revision = check_backup(backup)
    store = PostgresStore(address, create=True)
    try:
        with tempfile.TemporaryDirectory(prefix="fujian-restore-") as folder:
            # A verified private copy of the backup, brought to this version's schema there
            # (an older backup is upgraded in the copy, never in the user's file).
            staged_file = verified_copy_of(backup, Path(folder), revision)
            staged = SqliteStore(staged_file, create=False)
            try:
                with store.writing() as session:
                    # The write lock is held from here: nobody can change the database between
                    # keeping its contents and replacing them.
                    connection = session.connection()
                    kept = None
                    # Not any row: the schema itself seeds item_sequence (its counters at 0),
                    # so a database with no data yet would need --force and leave a .bak.
                    if holds_data(connection):
                        if not force:
                            raise BadInput(_("{path} holds data: add --force to replace it with "
                                             "the backup (its contents are kept in a file "
                                             "first).").format(path=address))
                        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
                        # In the user's data folder, as before an upgrade: not beside the
                        # backup, which may be on read-only or removable media.
                        kept = unique_name(backups_folder(),
                                           f"{address.database}.before-restore-{stamp}", ".bak")
                        store.backup(kept, replace=False)
                    with staged.reading() as source:
                        replace_contents(source.connection(), connection, store)
            finally:
                staged.dispose()
                release_partial(staged_file)
        return kept
    finally:
        store.dispose()


# -- errors ---------------------------------------------------------------------------------

_UNREACHABLE = ("connection refused", "could not connect", "no such file or directory",
                "connection to server", "is the server running")
_LOST = ("server closed the connection", "terminating connection", "consuming input failed",
         "connection is lost", "the connection is closed", "connection already closed",
         "ssl syscall", "eof detected")


def storage_error_from(exc: BaseException, location: Any) -> StorageError | None:
    """A psycopg error as one line naming the server and database, never the password nor
    any value from the data (the server's detail lines are not quoted)."""
    if "psycopg" not in sys.modules:
        return None
    import psycopg
    from sqlalchemy.exc import DBAPIError

    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, psycopg.Error):
        return None
    where = location.server if isinstance(location, ServerAddress) else str(location)
    state = getattr(orig, "sqlstate", None) or ""
    text = str(orig).lower()
    return StorageError(_describe(state, text).format(server=where, state=state or "?"))


def _describe(state: str, text: str) -> str:
    if state == "3D000" or ("database" in text and "does not exist" in text):
        return _("The database {server} does not exist: ask the server's administrator to "
                 "create it (createdb), then run `fujian init`.")
    if state in ("28P01", "28000") or any(w in text for w in (
            "password authentication failed", "no password supplied", "authentication failed",
            "is not permitted to log in", "role \"")):
        return _("The PostgreSQL server refused the login to {server}: check the user name and "
                 "the password (in the URL, PGPASSWORD or ~/.pgpass).")
    if "timeout expired" in text or "timed out" in text:
        return _("The PostgreSQL server for {server} did not answer in time: nothing was "
                 "changed.")
    if any(w in text for w in ("invalid port", "invalid uri query parameter",
                                "invalid connection option", "invalid dsn",
                                "invalid sslmode", "invalid integer value")):
        return _("The URL for {server} has a setting the driver does not accept (a port, a "
                 "parameter after ?): check the URL.")
    if "could not translate host name" in text or "name or service not known" in text:
        return _("The PostgreSQL server of {server} is unknown: check the host name.")
    if state in ("55P03",) or "lock timeout" in text:
        return _("The database {server} is busy (another fujian is writing); try again.")
    if state in ("57P01", "57P02", "57P03") or any(w in text for w in _LOST):
        return _("The connection to {server} was lost: the interrupted command changed "
                 "nothing; try again.")
    if any(w in text for w in _UNREACHABLE) or state.startswith("08"):
        return _("Cannot reach the PostgreSQL server for {server}: is it running? Nothing was "
                 "changed.")
    if state == "53100":
        return _("The server of {server} is out of disk space: nothing was changed.")
    if state == "25006" or "read-only transaction" in text:
        return _("The database {server} is read-only: nothing was changed.")
    if state in ("42501",) or "permission denied" in text:
        return _("The login may not change the database {server} (permission denied): "
                 "nothing was changed.")
    if state == "23505":
        return _("Another fujian wrote the same record to {server} at the same time: nothing "
                 "was changed; try again.")
    return _("Database error on {server} (SQLSTATE {state}): nothing was changed.")


# -- facts for `fujian doctor` ----------------------------------------------------------------


@dataclass
class ServerFacts:
    """What ``fujian doctor`` reports about a server database. ``error`` is set (and nothing
    else is) when the server could not be reached."""

    error: str | None = None
    connect_ms: float = 0.0
    version: str = ""
    version_num: int = 0
    tables: set[str] = field(default_factory=set)
    revision: str | None = None
    timezone: str = ""
    server_timezone: str = ""
    server_encoding: str = ""
    client_encoding: str = ""
    sequences_behind: list[str] = field(default_factory=list)
    sequences: int = 0
    not_binary: list[str] = field(default_factory=list)  # text columns not in collation "C"


def server_facts(address: ServerAddress) -> ServerFacts:
    """Reads only: connects, asks the server, disconnects."""
    import time

    from sqlalchemy.pool import NullPool

    facts = ServerFacts()
    try:
        _require_driver()
        engine = make_engine(address, poolclass=NullPool)
        started = time.perf_counter()
        try:
            with engine.connect() as connection:
                facts.connect_ms = (time.perf_counter() - started) * 1000
                _read_facts(connection, facts)
        finally:
            engine.dispose()
    except FujianError as exc:
        facts.error = exc.message
    except Exception as exc:  # noqa: BLE001 - every failure is a fact to report
        found = storage_error_from(exc, address)
        facts.error = found.message if found else type(exc).__name__
    return facts


def _read_facts(connection, facts: ServerFacts) -> None:
    scalar = connection.exec_driver_sql
    facts.version = scalar("SHOW server_version").scalar()
    facts.version_num = int(scalar("SHOW server_version_num").scalar())
    facts.timezone = scalar("SHOW TimeZone").scalar()
    facts.server_timezone = scalar(
        "SELECT reset_val FROM pg_settings WHERE name = 'TimeZone'").scalar() or ""
    facts.server_encoding = scalar("SHOW server_encoding").scalar()
    facts.client_encoding = scalar("SHOW client_encoding").scalar()
    facts.tables = _tables(connection)
    if "alembic_version" in facts.tables:
        facts.revision = scalar("SELECT version_num FROM alembic_version").scalar()
    sequences = _sequences(connection)
    facts.sequences = len(sequences)
    for table, column, sequence in sequences:
        last, largest = _sequence_state(connection, table, column, sequence)
        if largest is not None and (last is None or last < largest):
            facts.sequences_behind.append(table)
    facts.not_binary = [f"{t}.{c}" for t, c in scalar(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_name = c.table_name "
        "AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() AND c.data_type IN ('text', 'character varying')"
        " AND c.table_name <> 'alembic_version' AND COALESCE(c.collation_name, '') <> 'C' "
        "ORDER BY 1, 2")]
