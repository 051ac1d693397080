"""An SQLite file: opening, creating, upgrading, backing up and restoring it.

The only module that speaks SQLite's own language (pragmas, ``BEGIN IMMEDIATE``, the online
backup API, the file header); :mod:`fujian.storage` chooses it for any location that is not a
PostgreSQL URL.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fujian.errors import BadInput, StorageError, os_reason
from fujian.i18n import _
from fujian.migrations import HEAD, REVISIONS
from fujian.storage.base import (
    BUSY_TIMEOUT_S,
    FUJIAN_TABLES,
    Store,
    new_partial,
    refuse_nul,
    release_partial,
    remove_stale_partials,
)
from fujian.storage.location import default_db_path


def create_private_file(path: Path) -> None:
    """Create an empty file readable by its owner only (case records are confidential)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def _companions(path: Path) -> tuple[Path, Path]:
    return Path(f"{path}-wal"), Path(f"{path}-shm")


def _wal_has_frames(path: Path) -> bool:
    """Whether a write-ahead log beside ``path`` holds changes not yet in the file itself."""
    try:
        return _companions(path)[0].stat().st_size > 0
    except OSError:
        return False


def is_writable(path: Path) -> bool:
    """Whether this process may change the database (as the effective user, so root on an
    immutable file or a read-only mount, or a program run as another user, is told no).

    A WAL database also needs its folder, to create the ``-wal`` and ``-shm`` files, unless
    both already exist and are writable."""
    if not _may_write(path):
        return False
    if _may_write(path.parent):
        return True
    wal, shm = _companions(path)
    return wal.exists() and shm.exists() and _may_write(wal) and _may_write(shm)


def _may_write(path: Path) -> bool:
    return os.access(path, os.W_OK, effective_ids=os.access in os.supports_effective_ids)


def read_only_uri(path: Path) -> str:
    """An SQLite URI that opens ``path`` for reading only and writes nothing beside it.

    ``immutable=1`` makes SQLite read the file without locks, without the ``-shm`` index and
    without the ``-wal`` log (sqlite.org/uri.html), which is what lets a WAL database on a CD
    or a read-only mount be read at all (sqlite.org/wal.html, "Read-Only Databases"). It also
    ignores the log, so it is used only when the log is absent or empty: otherwise the newest
    changes would silently be missing, and ``mode=ro`` reads the log instead."""
    # Percent-encode the path: a file name with ?, # or % would otherwise be read as URI
    # syntax and SQLite would open (and create) a different file.
    uri = f"file:{urllib.parse.quote(path.resolve().as_posix())}?mode=ro"
    return uri if _wal_has_frames(path) else uri + "&immutable=1"


def _probe_uri(path: Path, read_only: bool) -> str:
    if read_only:
        return read_only_uri(path)
    return f"file:{urllib.parse.quote(path.resolve().as_posix())}?mode=ro"


@contextmanager
def _leave_no_trace(path: Path) -> Iterator[None]:
    """On a refusal, remove the empty ``-wal``/``-shm`` files a read-only look at a WAL file
    left beside it (SQLite makes them even for ``mode=ro``), so a refused file is left with
    nothing new next to it. Files that were there before are never touched."""
    before = {p for p in _companions(path) if p.exists()}
    try:
        yield
    except StorageError:
        for extra in _companions(path):
            if extra not in before:
                with suppress(OSError):
                    extra.unlink()
        raise


@dataclass
class Probe:
    """What an existing file is, as far as opening it goes."""

    revision: str | None  # the schema revision of a fujian database
    empty: bool = False  # zero bytes
    blank: bool = False  # a valid SQLite file without any table


def _inspect(path: Path, read_only: bool = False) -> Probe:
    """The schema revision of an existing file; refuses a file that is not a fujian database
    (another program's, damaged, truncated). Reads only: nothing is written to the file.

    The file is read through SQLite only, never with Python's open(): closing any other file
    descriptor on a database drops every POSIX lock this process holds on it, which lets another
    process checkpoint or reset the WAL under a live connection (sqlite.org/howtocorrupt.html
    §2.2). The concurrency test caught exactly that when one process opened the store twice.
    """
    try:
        if path.stat().st_size == 0:
            return Probe(None, empty=True)
    except OSError as exc:
        raise StorageError(
            _("Cannot read the database {path}: {reason}.").format(path=path, reason=os_reason(exc))
        ) from exc
    try:
        con = sqlite3.connect(_probe_uri(path, read_only), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            tables = {r[0] for r in
                      con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                return Probe(None, blank=True)
            if not tables >= FUJIAN_TABLES:
                raise StorageError(
                    _("{path} is an SQLite database of another program, not a fujian database.")
                    .format(path=path)
                )
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(describe_sqlite_error(str(exc), path)) from exc
    return Probe(row[0] if row else None)


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


def damaged_message(path: Path | str) -> str:
    return _("{path} is damaged (its integrity check failed): nothing was changed. Run `fujian "
             "doctor` for details; `fujian restore BACKUP` puts a backup back.").format(path=path)


def backup_to(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API, safe while others write.
    Never overwrites: ``target`` must not exist (the upgrade's copy beside the database)."""
    create_private_file(target)
    _online_copy(lambda: sqlite3.connect(source, timeout=BUSY_TIMEOUT_S), target)


def _online_copy(connect_source, target: Path) -> None:
    """Copy a database into ``target`` with SQLite's online backup API (consistent while
    others write); both connections are closed whatever happens."""
    src = connect_source()
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _integrity(con: sqlite3.Connection, limit: int = 20) -> list[str]:
    rows = [r[0] for r in con.execute(f"PRAGMA integrity_check({int(limit)})")]
    return [] if rows == ["ok"] else rows


def _problems_of_copy(path: Path, revision: str | None) -> list[str]:
    """Why the fujian database at ``path`` cannot be trusted (empty when it can): integrity,
    fujian's tables, and the expected schema revision."""
    try:
        con = sqlite3.connect(read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            problems = _integrity(con)
            if problems:
                return problems
            tables = {r[0] for r in
                      con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables >= FUJIAN_TABLES:
                return ["not a fujian database"]
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            found = row[0] if row else None
            if revision is not None and found != revision:
                return [f"schema {found}, expected {revision}"]
            return []
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return [str(exc)]


def _fsync(path: Path, directory: bool = False) -> None:
    # Only files that no SQLite connection of this process has open (a fresh copy, a folder),
    # so closing this descriptor cannot drop a lock (see _inspect).
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    except OSError:  # some filesystems cannot sync a folder; the rename stands anyway
        if not directory:
            raise
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Remove a file this process made, its log, index and rollback journal, and give up its
    lock when it was a partial file."""
    for p in (Path(f"{path}-journal"), *_companions(path), path):
        with suppress(FileNotFoundError):
            p.unlink()
    release_partial(path)


def _verified_copy(connect_source, folder: Path, name: str, revision: str | None) -> Path:
    """Copy a database with the online backup API into a new private temporary file in
    ``folder``, check the copy and flush it to disk; returns the temporary file. On any
    failure the temporary file is removed and the error raised."""
    remove_stale_partials(folder, name)
    tmp = new_partial(folder, name)  # 0600, locked while this process writes it
    try:
        try:
            _online_copy(connect_source, tmp)
        except sqlite3.DatabaseError as exc:
            text = str(exc).lower()
            # Only the copy is written: a full disk or a failed write is the target's.
            if "full" in text or "disk i/o" in text:
                raise StorageError(describe_sqlite_error(str(exc), folder / name)) from exc
            raise
        problems = _problems_of_copy(tmp, revision)
        if problems:
            raise StorageError(_("The copy did not verify ({reason}): nothing was replaced.")
                               .format(reason="; ".join(problems[:3])))
        _remove_companions(tmp)
        _fsync(tmp)
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _remove_companions(path: Path) -> None:
    for p in _companions(path):
        with suppress(FileNotFoundError):
            p.unlink()


def is_database_file(path: Path, database: Path) -> bool:
    """Whether ``path`` is the database file itself or its ``-wal`` or ``-shm`` file (by name
    or as the same file under another name)."""
    if path.exists() and database.exists() and os.path.samefile(path, database):
        return True
    resolved = database.resolve()
    return path.resolve() in {resolved, *(Path(f"{resolved}{end}") for end in ("-wal", "-shm"))}


def refuse_database_files(path: Path, database: Path) -> None:
    """A backup is never the database itself, nor its ``-wal`` or ``-shm`` file."""
    if path.exists() and is_database_file(path, database):
        raise BadInput(_("{path} is the database itself: choose another file.").format(
            path=path))


def write_backup(store: Store, target: Path, replace: bool) -> None:
    """A verified backup of ``store`` at ``target``, never worse than what it replaces.

    The source must pass SQLite's integrity check; the copy is written to a temporary file
    beside the target, checked (integrity, fujian's schema at the source's revision) and
    synced, and only then renamed over the target. An interrupted or failed backup leaves
    the target exactly as it was (at worst a ``.partial`` file beside it)."""
    problems = store.check_integrity()
    if problems:
        raise StorageError(damaged_message(store.path))
    tmp = _verified_copy(store.raw_connection, target.parent, target.name, store.revision)
    place_backup(tmp, target, replace)


def verified_copy_of(backup: Path, folder: Path, revision: str | None) -> Path:
    """A checked private copy of the (checked) backup file in ``folder``."""
    return _verified_copy(lambda: sqlite3.connect(read_only_uri(backup), uri=True,
                                                  timeout=BUSY_TIMEOUT_S),
                          folder, backup.name, revision)


def finish_copy(path: Path, revision: str | None) -> None:
    """A database file just written by another route than the online backup (a copy from a
    server): check it as a backup is checked, fold its log into it and sync it."""
    problems = _problems_of_copy(path, revision)
    if problems:
        raise StorageError(_("The copy did not verify ({reason}): nothing was replaced.")
                           .format(reason="; ".join(problems[:3])))
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    _remove_companions(path)
    _fsync(path)


def remove_database_file(path: Path) -> None:
    """Remove a database file this process made (with its log and index)."""
    _remove(path)


def place_backup(tmp: Path, target: Path, replace: bool) -> None:
    """Put a verified, synced temporary copy at ``target``: over it with ``replace``, else
    only if no file of that name has appeared meanwhile. The temporary file is gone after."""
    try:
        if replace:
            os.replace(tmp, target)
        else:
            # link() refuses an existing name: a file that appeared meanwhile is not replaced.
            try:
                os.link(tmp, target)
            except FileExistsError:
                raise BadInput(_("{path} exists: add --force to overwrite it.").format(
                    path=target)) from None
            tmp.unlink()
    except BaseException:
        _remove(tmp)
        raise
    release_partial(tmp)
    _fsync(target.parent, directory=True)


def check_backup(path: Path) -> str:
    """The schema revision of a backup that may be restored; refuses an empty, damaged or
    foreign file, or one made by a newer fujian. Reads only."""
    try:
        if path.stat().st_size == 0:
            raise StorageError(_("{path} is an empty file, not a fujian backup: nothing was "
                                 "changed.").format(path=path))
    except OSError as exc:
        raise StorageError(_("Cannot read {path}: {reason}.").format(
            path=path, reason=os_reason(exc))) from exc
    try:
        con = sqlite3.connect(read_only_uri(path), uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            tables = {r[0] for r in
                      con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables >= FUJIAN_TABLES:
                raise StorageError(_("{path} is not a fujian backup (it has no fujian tables): "
                                     "nothing was changed.").format(path=path))
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
            if revision not in REVISIONS:
                raise StorageError(
                    _("{path} was made by a newer fujian (schema {found}; this version knows up "
                      "to {head}): nothing was changed. Upgrade fujian to restore it.").format(
                        path=path, found=revision, head=HEAD))
            if _integrity(con):
                raise StorageError(_("{path} is damaged (its integrity check failed): it cannot "
                                     "be restored; nothing was changed.").format(path=path))
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc).lower():
            raise StorageError(_("{path} is not a fujian backup (not an SQLite file): nothing "
                                 "was changed.").format(path=path)) from exc
        raise StorageError(_("{path} is damaged (its integrity check failed): it cannot be "
                             "restored; nothing was changed.").format(path=path)) from exc
    return revision


def restore_database(backup: Path, database: Path) -> Path | None:
    """Replace ``database`` with a verified copy of ``backup``; returns where the database it
    replaced was kept (``None`` when there was none, or it was an empty file).

    The backup is checked first and copied into a temporary file beside the database, which
    is checked again. The current database is kept beside itself
    (``<name>.before-restore-<time>.bak``). A database SQLite can open is then overwritten
    through the online backup API: one write transaction, so other fujian processes see the
    old database or the new one, never a mixture, and a kill leaves the old one. A file SQLite
    cannot read (a damaged header, a truncated file, not a database) is kept byte for byte and
    replaced by renaming the copy over it."""
    revision = check_backup(backup)
    if database.exists() and not is_writable(database):
        raise StorageError(_("The database {path} is read-only: nothing was changed.").format(
            path=database))
    if not database.parent.is_dir():
        raise StorageError(_("The folder of {path} does not exist.").format(path=database))
    tmp = _verified_copy(lambda: sqlite3.connect(read_only_uri(backup), uri=True,
                                                 timeout=BUSY_TIMEOUT_S),
                         database.parent, database.name, revision)
    try:
        kept = None
        if database.exists() and database.stat().st_size > 0:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            kept = database.with_name(f"{database.name}.before-restore-{stamp}.bak")
            n = 1
            while kept.exists() or _companions(kept)[0].exists():  # two restores in a second
                n += 1
                kept = database.with_name(f"{database.name}.before-restore-{stamp}-{n}.bak")
        if kept is None or not _keep_and_overwrite(tmp, database, kept):
            if kept is not None:
                _keep_bytes(database, kept)
            # Nobody can be using a file SQLite cannot read. Its log and index belong to the
            # old file (the kept copy has the log) and would be replayed over the new one.
            _remove_companions(database)
            os.replace(tmp, database)
            _fsync(database.parent, directory=True)
        problems = _problems_of_copy(database, revision)
        if problems:  # pragma: no cover - the copy verified; this guards the step itself
            raise StorageError(_("The restored database did not verify ({reason}); the "
                                 "previous one is kept as {kept}.").format(
                                     reason="; ".join(problems[:3]), kept=kept))
        return kept
    finally:
        _remove(tmp)


_UNREADABLE = ("not a database", "malformed", "corrupt")


def _keep_and_overwrite(source: Path, database: Path, kept: Path) -> bool:
    """Keep a consistent copy of a sound live database, then overwrite it in one transaction
    with the online backup API. False (nothing done) when the database is damaged or not one
    SQLite can read: it is then kept byte for byte instead (evidence of what went wrong)."""
    dst = sqlite3.connect(database, timeout=BUSY_TIMEOUT_S)
    try:
        try:
            if [r[0] for r in dst.execute("PRAGMA quick_check(1)")] != ["ok"]:
                return False
            for _attempt in range(5):
                # data_version moves when another connection commits: keep again if one did
                # while the copy was being made, so the kept copy misses no change.
                version = dst.execute("PRAGMA data_version").fetchone()[0]
                _remove(kept)
                create_private_file(kept)
                copy = sqlite3.connect(kept)
                try:
                    dst.backup(copy)
                finally:
                    copy.close()
                if dst.execute("PRAGMA data_version").fetchone()[0] == version:
                    break
        except sqlite3.DatabaseError as exc:
            _remove(kept)
            if any(word in str(exc).lower() for word in _UNREADABLE):
                return False
            raise StorageError(describe_sqlite_error(str(exc), database)) from exc
        src = sqlite3.connect(source)
        try:
            src.backup(dst)
        except sqlite3.DatabaseError as exc:
            raise StorageError(describe_sqlite_error(str(exc), database)) from exc
        finally:
            src.close()
        return True
    finally:
        dst.close()


def _keep_bytes(database: Path, kept: Path) -> None:
    """The current file exactly as it is, with its log, when SQLite cannot read it. SQLite
    has no connection to it in this process, so closing these descriptors drops no lock."""
    import shutil

    _remove(kept)
    create_private_file(kept)
    shutil.copyfile(database, kept)
    if _wal_has_frames(database):
        create_private_file(_companions(kept)[0])
        shutil.copyfile(_companions(database)[0], _companions(kept)[0])


def _create_database_file(path: Path) -> None:
    """A new, private, empty file for a database, in a folder that exists (the default data
    folder alone is made here)."""
    if not path.parent.is_dir() and path == default_db_path():
        # First run with the default location: the data folder is ours to make.
        # (A folder named by --db or FUJIAN_DB that does not exist is a typo: refuse.)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                _("Cannot create the folder {folder}: {reason}.").format(
                    folder=path.parent, reason=os_reason(exc))
            ) from exc
    if not path.parent.is_dir():
        raise StorageError(
            _("The folder of {path} does not exist.").format(path=path))
    try:
        create_private_file(path)
    except OSError as exc:
        raise StorageError(
            _("Cannot create the database {path}: {reason}.").format(
                path=path, reason=os_reason(exc))
        ) from exc


class SqliteStore(Store):
    """An open fujian database in an SQLite file.

    Only a fujian database is opened. With ``create`` (``fujian init``, the demo, tests) a
    missing file, an empty file or an SQLite file without tables is made into one; without
    it they are refused, untouched. A database this process cannot write (a read-only file,
    folder or mount) is opened for reading: nothing is written beside it, and every write is
    refused with a clear message."""

    backend = "sqlite"
    location_type = Path

    def error_from(self, exc: BaseException) -> StorageError | None:
        return storage_error_from(exc, self.location)

    def __init__(self, path: Path | str, *, create: bool = True, upto: str = HEAD,
                 schema_later: bool = False) -> None:
        path = Path(path).expanduser()
        self.path = self.location = path
        self.upgraded_from: str | None = None
        self.backup_path: Path | None = None
        self.created = False
        self.was_empty = False
        if path.is_dir():
            raise StorageError(_("{path} is a folder, not a database file.").format(path=path))
        if not path.exists():
            if not create:
                raise StorageError(_("No database at {path}; run `fujian init`.").format(path=path))
            _create_database_file(path)
            self.created = True
        self.read_only = not is_writable(path)
        if self.read_only and _wal_has_frames(path) and not _companions(path)[1].exists() \
                and not _may_write(path.parent):
            raise StorageError(_(
                "The database {path} is read-only and its write-ahead log holds changes that "
                "cannot be read without a writable folder: copy the database with its -wal file "
                "to a writable folder. Nothing was changed.").format(path=path))
        with _leave_no_trace(path):
            probe = _inspect(path, self.read_only)
            self._refuse_what_is_not_ours(probe, create)
        self.was_empty = probe.empty and not self.created
        if self.was_empty:
            # Made a database now: as private as one this store creates (case records).
            with suppress(OSError):
                path.chmod(0o600)
        revision = probe.revision
        self.engine = self._make_engine()
        self.writer = self.engine.execution_options(fujian_write=True)
        self.revision = revision
        if schema_later and revision is None:
            return  # the caller makes the tables inside its own transaction (copy)
        if revision != upto:
            if revision is not None and self.check_integrity():
                # An upgrade rewrites tables: never on a damaged file.
                raise StorageError(damaged_message(path))
            self._migrate(revision, upto)
            self.revision = upto

    def _refuse_what_is_not_ours(self, probe: Probe, create: bool) -> None:
        path, revision = self.path, probe.revision
        if probe.empty and not create:
            raise StorageError(_(
                "{path} is an empty file (0 bytes), not a fujian database: nothing was changed. "
                "Put a backup back with `fujian restore BACKUP`, or run `fujian init` to start "
                "a new database there.").format(path=path))
        if probe.blank and not create:
            raise StorageError(_(
                "{path} is an SQLite file without fujian's tables: nothing was changed. Run "
                "`fujian init` to make a fujian database there.").format(path=path))
        self._refuse_revision(revision)
        if self.read_only and revision != HEAD:
            if revision is None:
                raise StorageError(_("The database {path} is read-only: nothing was changed.")
                                   .format(path=path))
            raise StorageError(_(
                "{path} was made by an older fujian (schema {found}) and must be upgraded, but "
                "it is read-only: copy it to a writable folder first. Nothing was changed.")
                .format(path=path, found=revision))

    def raw_connection(self) -> sqlite3.Connection:
        """A DB-API connection for whole-file work (backups): read-only when the file is."""
        if self.read_only:
            return sqlite3.connect(read_only_uri(self.path), uri=True, timeout=BUSY_TIMEOUT_S)
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)

    def _make_engine(self):
        from sqlalchemy import URL, create_engine, event
        from sqlalchemy.pool import NullPool

        if self.read_only:
            uri = read_only_uri(self.path)
            engine = create_engine(
                "sqlite://", poolclass=NullPool,
                creator=lambda: sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S))
        else:
            # URL.create, not an f-string: a path with ?, # or % must not be parsed as URL
            # syntax (it would silently open another file, not created private).
            engine = create_engine(
                URL.create("sqlite", database=str(self.path)),
                connect_args={"timeout": BUSY_TIMEOUT_S},
            )
        read_only = self.read_only

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):  # every connection, every time
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not read_only:
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

        refuse_nul(engine)
        return engine

    def _backup_before_upgrade(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = self.path.with_name(f"{self.path.name}.before-{HEAD}-{stamp}.bak")
        backup_to(self.path, target)
        return target

    @classmethod
    def open_copy_target(cls, location: Any) -> Store:
        """An existing file without tables (empty, or a blank SQLite file) stays without them
        until the copy's transaction makes them with the data: a killed copy leaves it as it
        was, never an empty fujian database. (A new file is written under a temporary name:
        see copying.copy_database.)"""
        return cls(location, create=True, schema_later=True)

    def is_database_file(self, path: Path) -> bool:
        return is_database_file(path, self.path)

    def backup(self, target: Path, replace: bool) -> None:
        write_backup(self, target, replace)

    def check_integrity(self) -> list[str]:
        """SQLite's integrity check of the whole file: empty when it is sound."""
        try:
            con = self.raw_connection()
            try:
                return _integrity(con)
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            return [str(exc)]




# -- a look at any file, for `fujian doctor` (SQLite's own words stay in this module) ---------


@dataclass
class FileFacts:
    exists: bool
    folder: bool = False
    size: int = 0
    mode: int = 0
    writable: bool = False
    wal_bytes: int = 0


def file_facts(path: Path) -> FileFacts:
    try:
        info = path.stat()
    except FileNotFoundError:
        return FileFacts(exists=False)
    if path.is_dir():
        return FileFacts(exists=True, folder=True)
    wal = _companions(path)[0]
    return FileFacts(exists=True, size=info.st_size, mode=info.st_mode & 0o7777,
                     writable=is_writable(path),
                     wal_bytes=wal.stat().st_size if wal.exists() else 0)


@dataclass
class Header:
    """The first 100 bytes of an SQLite file (sqlite.org/fileformat.html §1.3)."""

    sqlite: bool  # starts with "SQLite format 3\0"
    page_size: int = 0
    page_count: int | None = None  # None when the header's own count is not valid
    wal: bool = False  # file format 2: write-ahead log

    @property
    def expected_size(self) -> int | None:
        return None if self.page_count is None else self.page_count * self.page_size


def read_header(path: Path) -> Header | None:
    """The file's header, read with a plain descriptor: only call this while this process has
    no SQLite connection to the file (closing the descriptor would drop its locks; see
    :func:`_inspect`). ``None`` when the file is shorter than a header."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, 100, 0)
    finally:
        os.close(fd)
    if len(data) < 100:
        return None
    if data[:16] != b"SQLite format 3\x00":
        return Header(sqlite=False)
    size = int.from_bytes(data[16:18], "big")
    size = 65536 if size == 1 else size
    count = int.from_bytes(data[28:32], "big")
    valid = count > 0 and data[24:28] == data[92:96]
    return Header(sqlite=True, page_size=size, page_count=count if valid else None,
                  wal=data[18] == 2 and data[19] == 2)


def diagnostic_engine(path: Path):
    """An SQLAlchemy engine that only reads ``path``, whatever state it is in: read-only (and
    nothing written beside it) when this process cannot write it."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    if is_writable(path):
        def connect() -> sqlite3.Connection:
            return sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    else:
        uri = read_only_uri(path)

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    return create_engine("sqlite://", poolclass=NullPool, creator=connect)


def table_names(connection) -> set[str]:
    return set(connection.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type='table'").scalars())


def integrity_problems(connection, limit: int = 20) -> list[str]:
    rows = [r[0] for r in connection.exec_driver_sql(f"PRAGMA integrity_check({int(limit)})")]
    return [] if rows == ["ok"] else rows


def broken_references(connection) -> int:
    return len(connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall())


def storage_error_from(exc: BaseException, path: Path | str) -> StorageError | None:
    """Map a database driver exception to a StorageError, or None if it is not one."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.DatabaseError):
        return StorageError(describe_sqlite_error(str(exc.orig), path))
    if isinstance(exc, sqlite3.DatabaseError):
        return StorageError(describe_sqlite_error(str(exc), path))
    return None


def sqlite_reason(exc: BaseException) -> str | None:
    """SQLite's own words for a driver error (they never contain case data), else None."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.DatabaseError):
        return str(exc.orig)
    if isinstance(exc, sqlite3.DatabaseError):
        return str(exc)
    return None
