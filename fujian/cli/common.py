"""What every command shares: the run's state (which database, which day), the one error
handler, and the shared options. Imports nothing heavy: the database layer is loaded by the
commands that use it, so ``--help`` and completion stay fast."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from fujian.dates import china_today
from fujian.errors import EXIT_BAD_INPUT, EXIT_STORAGE, FujianError
from fujian.i18n import _

EXIT_INTERNAL = 70  # an unexpected internal error (EX_SOFTWARE)


@dataclass
class State:
    db_option: str | None = None
    _store: Any = None
    _tracker: Any = None
    warnings: list[str] = field(default_factory=list)

    @property
    def db_path(self) -> Path:
        from fujian.storage import resolve_db_path

        return resolve_db_path(self.db_option)

    def store(self, create: bool = False):
        """The open database. Only commands that set one up (init, unit add/import) create
        the file: a mistyped --db must not answer a cron job with an empty report."""
        if self._store is None:
            from fujian.storage import Store

            self._store = Store(self.db_path, create=create)
            if self._store.upgraded_from:
                note(_("Upgraded the database from schema {old}; a backup is at {path}.").format(
                    old=self._store.upgraded_from, path=self._store.backup_path))
        return self._store

    def close(self) -> None:
        """Release the database at the end of a command (tests run many in one process)."""
        if self._store is not None:
            self._store.dispose()
            self._store = self._tracker = None

    def tracker(self, create: bool = False):
        if self._tracker is None:
            from fujian.service import Tracker

            self._tracker = Tracker(self.store(create), china_today())
        return self._tracker


_current = State()


def begin_run(db_option: str | None) -> State:
    """Called once per invocation (the root callback): a fresh state, so that tests invoking
    the app many times in one process never share an open database."""
    global _current
    _current = State(db_option)
    return _current


def state() -> State:
    return _current


def note(text: str) -> None:
    """A message for a person on standard error (warnings, confirmations for scripts)."""
    sys.stderr.write(text + "\n")


def fail(error: FujianError) -> typer.Exit:
    sys.stderr.write(_("error: ") + error.message.replace("\n", " ") + "\n")
    return typer.Exit(error.exit_code)


def handle_errors(func: Callable) -> Callable:
    """The one error handler, applied to every command: a clear line on stderr, a documented
    exit code, never a traceback (and so never case data) for anything a user can cause."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except FujianError as error:
            raise fail(error) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # A reader such as `head` went away: not an error of ours.
            sys.stderr.close()
            raise typer.Exit(0) from None
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            from fujian.errors import StorageError

            converted = _storage_error(exc)
            if converted is not None:
                raise fail(converted) from None
            if isinstance(exc, OSError):
                raise fail(StorageError(_("File error: {reason}.").format(
                    reason=exc.strerror or type(exc).__name__))) from None
            if os.environ.get("FUJIAN_DEBUG"):
                raise
            sys.stderr.write(
                _("error: internal error ({kind}); nothing was changed. Run again with "
                  "FUJIAN_DEBUG=1 for details and report it.").format(kind=type(exc).__name__)
                + "\n")
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def _storage_error(exc: BaseException):
    if "sqlalchemy" not in sys.modules and "sqlite3" not in sys.modules:
        return None
    from fujian.storage import storage_error_from

    st = state()
    return storage_error_from(exc, st.db_path if st else "")


def help_text(func: Callable) -> str:
    """A docstring as Click help: indented example blocks are kept as written (Click's ``\b``
    marker), not re-wrapped into one paragraph."""
    import inspect
    import re

    doc = inspect.getdoc(func)
    return re.sub(r"\n\n(?=    \S)", "\n\n\b\n", _(doc)) if doc else ""


def command(group: typer.Typer, name: str | None = None, **kwargs: Any) -> Callable:
    """Register a command with the shared error handler."""

    def decorate(func: Callable) -> Callable:
        kwargs.setdefault("help", help_text(func))
        group.command(name, **kwargs)(handle_errors(func))
        return func

    return decorate


def parse_day(text: str | None, default: date | None = None) -> date | None:
    from fujian.dates import parse_date

    if text is None:
        return default
    return parse_date(text, china_today())


FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", metavar="FORMAT", help=_("table (terminal), plain (tab-separated, the default "
                 "when not a terminal), csv or json."), show_default=False),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", metavar="DATE", help=_("Report as of this date (default today)."))
]

__all__ = ["EXIT_BAD_INPUT", "EXIT_STORAGE"]
