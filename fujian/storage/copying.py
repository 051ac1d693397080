"""Copying a whole fujian database from one store to another, of either kind: ``fujian copy``
(SQLite → PostgreSQL is the common case), a backup of a server database (into an SQLite file,
the same format as an SQLite backup) and a restore into a server.

Every table is copied row for row with its ids, in one write transaction on the target, and
then read back: each table's row count and checksum must equal the source's before the
transaction commits. Works from the tables as they are in the database (reflected), so it
copies a database at any schema revision into a target at the same revision.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from fujian.errors import BadInput, StorageError, os_reason
from fujian.i18n import _
from fujian.storage.base import (
    Store,
    data_tables,
    holds_data,
    new_partial,
    remove_stale_partials,
)
from fujian.storage.location import as_location
from fujian.storage.sqlite import (
    SqliteStore,
    finish_copy,
    place_backup,
    remove_database_file,
    storage_error_from,
)

BATCH = 5000


def _order(table) -> list:
    return list(table.primary_key.columns) or list(table.columns)


def _self_references(table) -> list[str]:
    """Columns that point at another row of the same table (an action's meeting): filled in a
    second pass, so a row may point at one copied after it."""
    return [c.name for c in table.columns
            if any(fk.column.table.name == table.name for fk in c.foreign_keys)]


def copy_rows(source, target) -> dict[str, int]:
    """Copy every row of every fujian table from connection ``source`` to ``target`` (whose
    tables must exist, at the same revision, and be empty); returns rows per table."""
    from sqlalchemy import bindparam, select

    # deferred: dialects compiles with SQLAlchemy, which `import fujian.storage` does not load
    from fujian.storage.dialects import bulk_insert

    targets = {t.name: t for t in data_tables(target)}
    counts: dict[str, int] = {}
    for table in data_tables(source):
        into = targets.get(table.name)
        names = [c.name for c in table.columns]
        if into is None or {c.name for c in into.columns} != set(names):
            raise StorageError(_("The two databases have different tables ({table}): bring both "
                                 "to the same fujian version first. Nothing was copied.")
                               .format(table=table.name))
        later = _self_references(table)
        links: list[dict] = []
        count = 0
        result = source.execute(select(*table.columns).order_by(*_order(table))
                                .execution_options(yield_per=BATCH))
        for chunk in result.partitions(BATCH):
            records = [dict(zip(names, row, strict=True)) for row in chunk]
            if later:
                key = _order(table)[0].name
                for record in records:
                    if any(record[name] is not None for name in later):
                        links.append({"_key": record[key],
                                      **{f"_{name}": record[name] for name in later}})
                        for name in later:
                            record[name] = None
            bulk_insert(target, into, records, BATCH)
            count += len(records)
        if links:
            key = _order(into)[0]
            statement = into.update().where(key == bindparam("_key")).values(
                {name: bindparam(f"_{name}") for name in later})
            target.execute(statement, links)
        counts[table.name] = count
    return counts


def _canonical(value: Any) -> str:
    """One text for a value whichever database returned it: SQLite and PostgreSQL give the same
    dates, instants (UTC, naive) and numbers as different Python types at times."""
    if value is None:
        return "\x00"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(int(value))
    return str(value)


def fingerprints(connection) -> dict[str, tuple[int, str]]:
    """Per table: (rows, SHA-256 over every value of every row in primary-key order)."""
    from sqlalchemy import select

    found = {}
    for table in data_tables(connection):
        digest = hashlib.sha256()
        count = 0
        columns = sorted(table.columns, key=lambda c: c.name)
        result = connection.execute(select(*columns).order_by(*_order(table))
                                    .execution_options(yield_per=BATCH))
        for row in result:
            digest.update("\x1f".join(_canonical(v) for v in row).encode("utf-8"))
            digest.update(b"\x1e")
            count += 1
        found[table.name] = (count, digest.hexdigest())
    return found


def _verify(source, target) -> dict[str, tuple[int, str]]:
    expected, found = fingerprints(source), fingerprints(target)
    if expected != found:
        wrong = sorted(name for name in set(expected) | set(found)
                       if expected.get(name) != found.get(name))
        raise StorageError(_("The copy did not verify (tables {tables} differ): nothing was "
                             "copied.").format(tables=", ".join(wrong)))
    return found


def replace_contents(source, target, store: Store) -> dict[str, tuple[int, str]]:
    """Inside the caller's write transaction on ``target``: delete every row, copy
    ``source`` in, fix what the target needs after rows arrive with their ids (PostgreSQL's
    sequences) and verify. The caller's transaction makes it all or nothing."""
    for table in reversed(data_tables(target)):
        for name in _self_references(table):
            target.execute(table.update().values({name: None}))
        target.execute(table.delete())
    copy_rows(source, target)
    store.after_copy(target)
    return _verify(source, target)


def copy_database(source: Store, location: Any) -> dict[str, tuple[int, str]]:
    """``fujian copy``: the whole of ``source`` into the empty database at ``location`` (made
    there when it does not exist yet); returns rows and checksum per table, verified. A target
    that holds any data is refused untouched; a failed copy leaves it as it was (a file this
    made is removed)."""
    location = as_location(location)
    if str(location) == str(source.location) or (
            isinstance(location, Path) and source.is_database_file(location)):
        raise BadInput(_("{path} is the database itself: choose another target.").format(
            path=location))
    if isinstance(location, Path) and location.is_dir():
        raise BadInput(_("{path} is a folder, not a database file.").format(path=location))
    if isinstance(location, Path) and not location.exists() and not location.is_symlink():
        # A new file is written under a temporary name and renamed into place once the data
        # is in and verified: a copy killed midway leaves no file other commands would accept.
        return _copy_to_new_file(source, location)
    # An existing target's tables are made inside the copy's transaction: a failed or killed
    # copy leaves it without them, as it was (see each backend's open_copy_target).
    target = Store.backend_for(location).open_copy_target(location)
    try:
        return _copy_into(source, target)
    except BaseException as exc:
        target.dispose()
        if target.created and isinstance(location, Path):
            remove_database_file(location)
        found = _driver_error(exc, source, target)
        if found is None:
            raise
        raise found from exc
    finally:
        target.dispose()


def _copy_to_new_file(source: Store, target: Path) -> dict[str, tuple[int, str]]:
    """``fujian copy`` into a file that does not exist yet: through a private temporary file
    beside it (removed on any failure), put in place only if no file of that name appeared
    meanwhile."""
    if not target.parent.is_dir():
        raise StorageError(_("The folder of {path} does not exist.").format(path=target))
    try:
        found, tmp = _copy_to_temporary(source, target)
    except OSError as exc:
        if exc.filename is None:
            raise
        raise StorageError(_("Cannot create the database {path}: {reason}.").format(
            path=target, reason=os_reason(exc))) from exc
    except BaseException as exc:
        error = None if isinstance(exc, BadInput | StorageError) else (
            storage_error_from(exc, target) or source.error_from(exc))
        if error is None:
            raise
        raise error from exc
    place_backup(tmp, target, replace=False)
    return found


def _copy_to_temporary(store: Store, target: Path) -> tuple[dict[str, tuple[int, str]], Path]:
    """The whole of ``store``, verified, in a new private temporary SQLite file beside
    ``target``, checked and synced: (rows and checksum per table, the file). On any failure
    the file is removed and the error raised."""
    remove_stale_partials(target.parent, target.name)
    tmp = new_partial(target.parent, target.name)  # 0600, locked while this process writes it
    try:
        copy = SqliteStore(tmp, create=True, upto=store.revision)
        try:
            found = _copy_into(store, copy)
        finally:
            copy.dispose()
        finish_copy(tmp, store.revision)
    except BaseException:
        remove_database_file(tmp)
        raise
    return found, tmp


def _driver_error(exc: BaseException, source: Store, target: Store):
    """A driver's error during a copy, as one line naming the database it came from (the
    server's error from the server, SQLite's from the file; the target when both are alike)."""
    if isinstance(exc, BadInput | StorageError):
        return None
    for store in (target, source):
        found = store.error_from(exc)
        if found is not None:
            return found
    return None


def _copy_into(source: Store, target: Store) -> dict[str, tuple[int, str]]:
    with target.writing() as written, source.reading() as read:
        connection = written.connection()
        if target.revision is None:
            target.make_schema(connection)
        if target.revision != source.revision:  # pragma: no cover - both are at HEAD
            raise StorageError(_("The two databases have different schemas ({a} and {b}): "
                                 "nothing was copied.").format(a=source.revision,
                                                               b=target.revision))
        if holds_data(connection):
            raise BadInput(_("{path} is not empty: `fujian copy` only fills an empty database "
                             "(a new file, or a server database without fujian's data; one "
                             "`fujian init` made holds the unit directory: drop and create it "
                             "again). Nothing was copied.").format(path=target.location))
        return replace_contents(read.connection(), connection, target)


def backup_to_file(store: Store, target: Path, replace: bool) -> None:
    """A verified SQLite file of the whole database ``store`` at ``target``: written to a
    private temporary file beside it, checked, synced, and only then put in place (an
    interrupted backup leaves ``target`` as it was)."""
    _found, tmp = _copy_to_temporary(store, target)
    place_backup(tmp, target, replace)
