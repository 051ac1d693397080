"""The database: an SQLite file (the embedded default) or a PostgreSQL server that a whole
district or city shares.

This package is the only place that knows which backend it has. Everything above it speaks
SQLAlchemy and asks the store what differs: where it is (``store.location``, safe to print: a
PostgreSQL password never appears in it), how to back it up, whether a path is the database
itself, how to restore it, what ``fujian doctor`` should report about it. Import the names
below from ``fujian.storage``, never from its modules.

The modules, each importing only those before it (the package's reading order):
:mod:`~fujian.storage.location` (paths and server addresses), :mod:`~fujian.storage.base`
(the :class:`Store` protocol, the schema's tables, the NUL rule, migrations),
:mod:`~fujian.storage.dialects` (SQL spelled per backend), :mod:`~fujian.storage.sqlite`,
:mod:`~fujian.storage.copying` (between stores of either kind), :mod:`~fujian.storage.postgres`,
then the health checks (:mod:`~fujian.storage.health`, :mod:`~fujian.storage.sqlite_health`,
:mod:`~fujian.storage.postgres_health`). This file only gathers them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fujian.errors import BadInput, StorageError, is_driver_error
from fujian.i18n import _
from fujian.storage import postgres, postgres_health, sqlite, sqlite_health
from fujian.storage.base import (
    BUSY_TIMEOUT_S,
    FUJIAN_TABLES,
    Store,
    check_no_nul,
    refuse_nul,
    run_migrations,
)
from fujian.storage.copying import copy_database
from fujian.storage.health import (
    FAIL,
    OK,
    RESTORE_HINT,
    WARN,
    Check,
    DataCheck,
    DataChecks,
    Diagnosis,
)
from fujian.storage.location import (
    URL_PREFIXES,
    ServerAddress,
    as_location,
    backups_folder,
    default_db_path,
    is_url,
    resolve_db_path,
    resolve_location,
)
from fujian.storage.postgres import restore_into_server
from fujian.storage.sqlite import (
    backup_to,
    create_private_file,
    damaged_message,
    describe_sqlite_error,
    read_only_uri,
    refuse_database_files,
    restore_database,
)

# Names from modules that import SQLAlchemy at once (``import fujian.storage`` does not: the
# CLI imports it before knowing whether a command needs the database).
_DEFERRED = {"bulk_insert": "dialects", "copy_in": "dialects", "position": "dialects"}


def __getattr__(name: str) -> Any:
    if name in _DEFERRED:
        # deferred: fujian.storage.dialects imports SQLAlchemy (see _DEFERRED)
        import importlib

        return getattr(importlib.import_module(f"fujian.storage.{_DEFERRED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def diagnose(location: Any, data_checks: DataChecks = ()) -> Diagnosis:
    """``fujian doctor``'s rows about the database at ``location`` (a file or a server), the
    backend's own checks then ``data_checks`` (name, check on a connection) when it is a
    fujian database of this fujian's schema. Reads only: nothing is created or repaired."""
    location = as_location(location)
    if isinstance(location, ServerAddress):
        return postgres_health.diagnose(location, data_checks)
    return sqlite_health.diagnose(location, data_checks)


def storage_error_from(exc: BaseException, location: Any) -> StorageError | None:
    """A database driver's exception as a one-line StorageError for a person, or None if it
    is not one (which backend raised it decides the words)."""
    found = sqlite.storage_error_from(exc, location)
    if found is not None:
        return found
    return postgres.storage_error_from(exc, location)


def restore(backup: Path, location: Any, force: bool = False) -> Path | None:
    """Put a verified backup (an SQLite file) in place of the database at ``location``;
    returns where the database it replaced was kept (None when there was nothing to keep)."""
    location = as_location(location)
    if isinstance(location, ServerAddress):
        return restore_into_server(backup, location, force)
    refuse_database_files(backup, location)
    if location.is_dir():
        raise BadInput(_("{path} is a folder, not a database file.").format(path=location))
    if location.exists() and location.stat().st_size > 0 and not force:
        raise BadInput(_("{path} exists: add --force to replace it with the backup (it is "
                         "kept beside it first).").format(path=location))
    return restore_database(backup, location)


__all__ = [
    "BUSY_TIMEOUT_S", "FAIL", "FUJIAN_TABLES", "OK", "RESTORE_HINT", "WARN", "Check", "DataCheck",
    "DataChecks", "Diagnosis", "diagnose", "URL_PREFIXES", "ServerAddress", "Store", "as_location",
    "backup_to", "backups_folder", "bulk_insert", "check_no_nul", "copy_database", "copy_in",
    "create_private_file", "damaged_message", "default_db_path", "describe_sqlite_error",
    "is_driver_error", "is_url", "position", "read_only_uri", "refuse_nul", "resolve_db_path",
    "resolve_location", "restore", "run_migrations", "storage_error_from",
]
