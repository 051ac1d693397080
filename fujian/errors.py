"""One error hierarchy. Each error carries the exit code the CLI ends with and a message
for a person. Messages never quote case text (titles, notes, parties): they name IDs and codes."""

from __future__ import annotations

import re

from fujian.i18n import N_

# Documented exit codes (README, "Exit codes").
EXIT_FOUND = 1  # report overdue --fail-if-any found something
EXIT_BAD_INPUT = 2
EXIT_STORAGE = 3
EXIT_DELIVERY = 5  # the change was saved; only its report could not be written (stdout closed, full)
EXIT_INTERNAL = 70  # an unexpected internal error (EX_SOFTWARE)


class FujianError(Exception):
    """Base of every error a user can cause or meet."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(FujianError):
    """The user typed something we cannot accept: nothing was changed."""

    exit_code = EXIT_BAD_INPUT


class NotFound(BadInput):
    """An ID, unit or meeting that does not exist."""


class StorageError(FujianError):
    """The database cannot be opened, read or written."""

    exit_code = EXIT_STORAGE


class SchemaMismatch(StorageError):
    """The kind registry names a field the item table has no column for: the tool's set-up
    and its database schema disagree (a kind's field added without its migration)."""


class RowsSkipped(StorageError):
    """Item rows that cannot be read (damaged behind fujian's back) were left out of a list,
    report or export that went on without them. Raised after the last readable row, so that a
    command can end its output whole (a table, valid JSON) and then say so (exit 3)."""


# The packages whose exceptions a database raises: SQLite's and psycopg's drivers, and
# SQLAlchemy's wrapping of them.
_DRIVER_PACKAGES = frozenset({"sqlite3", "_sqlite3", "psycopg", "sqlalchemy"})


def is_driver_error(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by a database driver or SQLAlchemy (then the store may word
    it for a person). Reads the exception's class only and imports nothing: cheap on any error,
    so the command line's last line of defence can ask before it loads the database layer."""
    return any(cls.__module__.split(".")[0] in _DRIVER_PACKAGES for cls in type(exc).__mro__)


# user:password@ in anything that looks like a URL (one slash or two, any scheme), the
# password running to the LAST @ of the address (an unencoded @ or : in it included: see
# ServerAddress.parse), and password=… in a libpq key=value string.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*:/{1,2}[^\s/:@]*):\S*@")
_KEY_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every password a database address in it may carry taken out: the last
    guard of the rule that no message shows one, whatever a user typed where (a misspelled
    scheme read as a file name, a URL given as a backup file …)."""
    text = _URL_PASSWORD.sub(r"\1@", text)
    return _KEY_PASSWORD.sub(r"\1***", text)


# What the operating system says, in the catalog's words (its own are English whatever the
# locale); an error the catalog does not name keeps the system's words.
_OS_REASONS = {
    "ENOENT": N_("no such file or folder"), "EACCES": N_("permission denied"),
    "EPERM": N_("operation not permitted"), "ENOSPC": N_("no space left on the disk"),
    "EDQUOT": N_("the disk quota is used up"), "EROFS": N_("the file system is read-only"),
    "EISDIR": N_("it is a folder"), "ENOTDIR": N_("a part of the path is not a folder"),
    "EEXIST": N_("it exists already"), "ENAMETOOLONG": N_("the name is too long"),
    "EIO": N_("input/output error"), "EPIPE": N_("the reader went away (broken pipe)"),
    "ELOOP": N_("too many symbolic links"), "ETXTBSY": N_("the file is busy"),
}


def os_reason(error: BaseException) -> str:
    """Why an operating-system call failed, in the reader's language."""
    import errno

    from fujian.i18n import _

    name = errno.errorcode.get(getattr(error, "errno", None) or -1)
    if name in _OS_REASONS:
        return _(_OS_REASONS[name])
    return getattr(error, "strerror", None) or type(error).__name__
