"""What every command shares: the run's state (which database, which day), the one error
handler, and the shared options. Imports nothing heavy: the database layer is loaded by the
commands that use it, so ``--help`` and completion stay fast."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from fujian.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_STORAGE,
    FujianError,
    RowsSkipped,
    is_driver_error,
    os_reason,
    redact,
)
from fujian.i18n import _


@dataclass
class State:
    db_option: str | None = None
    _store: Any = None
    _tracker: Any = None
    warnings: list[str] = field(default_factory=list)

    @property
    def location(self):
        """The database this run uses: a file path, or a PostgreSQL server address (whose
        text never shows the password)."""
        from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

        return Tracker.location(self.db_option)

    def store(self, create: bool = False):
        """The open database. Only `init` creates one (``create``); every other command opens
        only a fujian database: a mistyped --db, an empty file left by a failed copy or
        another program's file must not answer a cron job with an empty report."""
        if self._store is None:
            from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

            path = self.location
            if create and isinstance(path, Path) and path.is_file() and \
                    path.stat().st_size == 0:
                # An empty file is what a failed copy leaves: say so before making it a
                # database (only `init` may; every other command refuses it).
                note(_("{path} is an empty file (0 bytes): making a new fujian database in it.")
                     .format(path=path))
            self._store = Tracker.open_store(path, create=create)
            if self._store.upgraded_from:
                note(_("Upgraded the database from schema {old}; a backup is at {path}.").format(
                    old=self._store.upgraded_from, path=self._store.backup_path))
        return self._store

    def close(self) -> None:
        """Release the database at the end of a command (tests run many in one process)."""
        if self._store is not None:
            self._store.dispose()
            self._store = self._tracker = None

    def tracker(self, create: bool = False, recount: bool = True):
        """The service on the open database. Opening it for use first brings the stored due
        dates in line with the calendar when it changed (service/recount.py): one small query
        when it did not. ``recount`` is false where the database must stay as it is (a backup,
        a copy) or is being made (`init`)."""
        if self._tracker is None:
            from fujian.dates import china_today  # deferred: not needed for --help
            from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

            self._tracker = Tracker(self.store(create), china_today())
            if recount:
                moved = self._tracker.recount_due_dates()
                self._tracker.saved.clear()  # not the command's change: its report is its own
                if moved:
                    note(_("The calendar changed: due dates counted again, {n} moved "
                           "(`fujian history ID` shows each).").format(n=moved))
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


def say(text: str) -> None:
    """The one writer of messages on standard error: the password of a server address
    redacted, and control, bidi and zero-width characters (a file name, a CSV header, an
    argument quoted back) shown as escapes, never obeyed by the terminal (render.visible)."""
    from fujian.render import visible  # deferred: the renderer, which `--help` does not need

    sys.stderr.write(visible(redact(text)) + "\n")


def note(text: str) -> None:
    """A message for a person on standard error (warnings, confirmations for scripts)."""
    say(text)


def fail(error: FujianError) -> typer.Exit:
    """The error's one line, its prefix in the language its message was written in (a
    document's messages are Chinese: i18n.document_language)."""
    from fujian.i18n import in_language

    written_in = getattr(error, "language", None)
    prefix = in_language(written_in, "error: ") if written_in else _("error: ")
    say(prefix + redact(error.message).replace("\n", " "))
    return typer.Exit(error.exit_code)


class ReadableRows:
    """The rows of a list, report or export, ended cleanly where the service says it left out
    rows it could not read (RowsSkipped, raised after the last readable row): the output is
    written whole (a table, valid JSON), then :meth:`finish` says what was skipped (exit 3)."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows
        self.skipped: RowsSkipped | None = None

    def __iter__(self) -> Any:
        try:
            yield from self.rows
        except RowsSkipped as error:
            self.skipped = error

    def finish(self) -> None:
        """Exit 3 with the one line on what was skipped, the output written (if any was)."""
        if self.skipped is not None:
            raise fail(self.skipped)


def void_marked(rows: Any, fmt: Any) -> Any:
    """Rows for a table or plain output with an entry voided as a mistake marked as such: its
    status reads 作废 (plain: ``void``) instead of 未办结 or 已办结, so that it never passes for an
    open or closed item. JSON carries its ``void_reason``; CSV keeps the status an import
    reads back."""
    from fujian.kinds import VOID

    if not fmt.for_reading:
        return rows
    return ({**row, "status": VOID} if "void_reason" in row else row for row in rows)


def handle_errors(func: Callable) -> Callable:
    """The one error handler, applied to every command: a clear line on stderr, a documented
    exit code, never a traceback (and so never case data) for anything a user can cause.

    Standard output is held back until the command ends: a command that fails prints nothing
    on it (no header line, no half table, no partial export), so a script or cron job never
    takes a fragment for the answer. A command that ends with its own exit code (``--fail-if-any``,
    ``doctor``) prints what it wrote."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        spool = OutputSpool()
        try:
            try:
                check_text_arguments(kwargs)
                result = func(*args, **kwargs)
            except typer.Exit:
                deliver(spool)
                raise
            deliver(spool)
            return result
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
                    reason=os_reason(exc)))) from None
            if os.environ.get("FUJIAN_DEBUG"):
                raise
            sys.stderr.write(
                _("error: internal error ({kind}); nothing was changed. Run again with "
                  "FUJIAN_DEBUG=1 for details and report it.").format(kind=type(exc).__name__)
                + "\n")
            raise typer.Exit(EXIT_INTERNAL) from None
        finally:
            spool.discard()  # whatever was not released: the command failed

    return wrapper


def _not_utf8(value: Any) -> bool:
    """Whether an argument holds bytes that were not UTF-8 (Python reads them from argv and the
    environment as lone surrogates, U+DC80..U+DCFF), in a text, a path or a list of them."""
    if isinstance(value, (list, tuple)):
        return any(_not_utf8(v) for v in value)
    if isinstance(value, (str, Path)):
        return any("\udc80" <= ch <= "\udcff" for ch in str(value))
    return False


def check_text_arguments(values: dict[str, Any]) -> None:
    """Refuse, naming it, an argument, a --db or an environment variable the command reads
    that is not valid UTF-8: such text can be neither stored, compared nor printed, so it is
    bad input before any work (and a database file so named is not made)."""
    from fujian.errors import BadInput

    def refuse(name: str) -> BadInput:
        return BadInput(_("{name} is not valid UTF-8 text; give it in UTF-8 (check the "
                          "terminal's or the script's encoding).").format(name=name))

    st = state()
    if _not_utf8(st.db_option):
        raise refuse("--db")
    for variable in (["FUJIAN_DB"] if st.db_option is None else []) + ["FUJIAN_USER"]:
        if _not_utf8(os.environ.get(variable)):
            raise refuse(variable)
    bad = [key for key, value in values.items() if _not_utf8(value)]
    if not bad:
        return
    try:  # Typer >= 0.26 vendors Click; older Typer uses Click itself
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover
        from click.globals import get_current_context
    context = get_current_context(silent=True)
    params = {p.name: p for p in context.command.params} if context is not None else {}
    param = params.get(bad[0])
    if param is None:
        raise refuse(bad[0])
    opts = [o for o in param.opts if o.startswith("--")] or param.opts
    raise refuse(opts[0] if getattr(param, "param_type_name", "") == "option"
                 else (getattr(param, "metavar", None) or param.name or bad[0]).upper())


def deliver(spool: OutputSpool) -> None:
    """Release the held-back standard output. When it cannot be written (closed, full, a
    reader gone) after the command committed a change, say that the change was saved and which
    items, exit 5 (EXIT_DELIVERY): a script that retried would make the change twice. When
    nothing was changed, a reader gone is not an error (``head``), anything else exit 3."""
    from fujian.errors import EXIT_DELIVERY, StorageError

    try:
        spool.release()
        return
    except (OSError, ValueError, AttributeError) as exc:
        error = exc
    tracker = state()._tracker
    closed = _("standard output is closed")
    reason = os_reason(error) if isinstance(error, OSError) and error.strerror else closed
    if tracker is None or not tracker.saved:
        if isinstance(error, BrokenPipeError):
            raise error
        raise fail(StorageError(_("The output could not be written: {reason}.").format(
            reason=reason)))
    try:
        ids = tracker.saved_ids()
    except Exception:  # noqa: BLE001 - the change is saved whatever the IDs' query does
        ids = []
    if not ids:
        text = _("The change was saved, but its report could not be written: {reason}.")
    elif len(ids) == 1:
        text = _("{ids} was saved, but its report could not be written: {reason}.")
    else:
        text = _("{ids} were saved, but their report could not be written: {reason}.")
    sys.stderr.write(_("error: ") + text.format(ids=", ".join(ids), reason=reason) + "\n")
    raise typer.Exit(EXIT_DELIVERY)


class OutputSpool:
    """Standard output written to a temporary spool (memory, then disk past 16 MiB) and copied
    to the real one only on :meth:`release`. The stand-in answers ``isatty`` as the real
    stream does, so formats and colours are chosen as before."""

    def __init__(self) -> None:
        import io
        import tempfile

        self.real = sys.stdout
        self.raw = tempfile.SpooledTemporaryFile(max_size=16 << 20)  # noqa: SIM115 - discard()
        real = self.real

        class _Stdout(io.TextIOWrapper):
            def isatty(self) -> bool:
                try:
                    return real.isatty()
                except (AttributeError, ValueError):
                    return False

        self.text = _Stdout(self.raw, encoding=getattr(real, "encoding", None) or "utf-8",
                            errors=getattr(real, "errors", None) or "strict",
                            write_through=True)
        sys.stdout = self.text

    def release(self) -> None:
        """Copy what was written to the real standard output."""
        import shutil

        if sys.stdout is not self.text:  # released already
            return
        sys.stdout = self.real
        self.text.flush()
        if not self.raw.tell():  # nothing written: nothing to deliver (standard output may be closed)
            return
        self.raw.seek(0)
        buffer = getattr(self.real, "buffer", None)
        if buffer is not None:
            self.real.flush()
            shutil.copyfileobj(self.raw, buffer, 1 << 20)
            buffer.flush()
        else:
            self.real.write(self.raw.read().decode(self.text.encoding, self.text.errors))
            self.real.flush()

    def discard(self) -> None:
        if sys.stdout is self.text:
            sys.stdout = self.real
        self.text.detach()
        self.raw.close()


def _storage_error(exc: BaseException):
    """A database driver's exception as a StorageError for a person, else None."""
    if not is_driver_error(exc):
        return None
    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    st = state()
    try:
        path = st.location if st else ""
    except FujianError:  # an empty --db: the error is about the option, not a path
        path = ""
    return Tracker.storage_error(exc, path)


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
        kwargs.setdefault("short_help", short_help(kwargs["help"]))
        group.command(name, **kwargs)(handle_errors(func))
        return func

    return decorate


SHORT_HELP_CELLS = 60  # a line of `--help`'s command list, after the command's name


def short_help(text: str | None) -> str | None:
    """The line a group's help lists for a command, for a help in Chinese: its first sentence,
    cut with "…" when longer than a line. Click cuts at spaces, and a Chinese sentence has
    none: it showed "..." alone. English help is left to Click."""
    from fujian.i18n import language

    if not text or language() != "zh":
        return None
    first = text.strip().split("\n\n")[0].replace("\n", "")
    end = first.find("。")
    sentence = first[:end + 1] if end >= 0 else first
    cells = 0
    for i, char in enumerate(sentence):
        cells += 2 if ord(char) > 0x2E7F else 1
        if cells > SHORT_HELP_CELLS:
            return sentence[:i] + "…"
    return sentence


def flags_in_words(row: dict, columns: Sequence[Any], keys: Sequence[str]) -> dict:
    """A row for a table in which each flag of ``keys`` that is set reads as its column's name
    (本地规定 / Local rule, 权利 / Right), and one not set as nothing: a person reads words,
    not true or false."""
    headers = {c.key: c.header for c in columns}
    return {**row, **{key: headers[key] if row.get(key) else None for key in keys}}


def parse_day(text: str | None, default: date | None = None) -> date | None:
    from fujian.dates import china_today, parse_date  # deferred: not needed for --help

    if text is None:
        return default
    return parse_date(text, china_today())


# The largest numbers a command takes (issue 21): past them a number is bad input, refused
# before any work, not an overflow in the database or in date arithmetic.
MAX_LIMIT = 1_000_000  # --limit: items in one listing
MAX_WITHIN = 3660  # --within: days ahead (ten years)


def check_limit(limit: int | None) -> int | None:
    """``--limit`` at most MAX_LIMIT (None: no limit; the lower bound is each command's)."""
    from fujian.errors import BadInput

    if limit is not None and limit > MAX_LIMIT:
        raise BadInput(_("--limit must be at most {high}.").format(high=MAX_LIMIT))
    return limit


def check_window(day: date, within: int) -> int:
    """``--within`` at most MAX_WITHIN days, and a window from ``day`` (--as-of) that ends by
    the last day a date can hold (9999-12-31). The lower bound is each command's."""
    from fujian.errors import BadInput

    if within > MAX_WITHIN:
        raise BadInput(_("--within must be at most {high} days.").format(high=MAX_WITHIN))
    if within > 0 and day.toordinal() + within > date.max.toordinal():
        raise BadInput(_("--as-of {day} with --within {within}: the window ends after "
                         "{last}.").format(day=day.isoformat(), within=within,
                                           last=date.max.isoformat()))
    return within


FormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", metavar="FORMAT", help=_("table (terminal), plain (tab-separated, the default "
                 "when not a terminal), csv or json."), show_default=False),
]
AsOfOption = Annotated[
    str | None, typer.Option("--as-of", metavar="DATE", help=_(
        "Judge today's records at this date (default today): an item opened later does not "
        "exist yet; its stage is the one entered by then (by the stage's date); a duty is open "
        "then when begun by then and not met by then, and overdue when also due before it."))
]

__all__ = ["EXIT_BAD_INPUT", "EXIT_STORAGE"]


# -- who and what: filters shared by every list and report --------------------------------------

SearchOption = Annotated[str | None, typer.Option(
    "--search", metavar="WORDS", help=_("Only items whose title, party, document number, notes, "
                                        "handler or units contain every word."))]
InvolvingOption = Annotated[str | None, typer.Option(
    "--involving", metavar="UNIT", help=_("Only items this unit sent, received or holds a duty "
                                          "on."))]
FromOption = Annotated[str | None, typer.Option(
    "--from", metavar="UNIT", help=_("Only items this unit sent (referrals, clues)."))]
HandlerOption = Annotated[str | None, typer.Option(
    "--handler", metavar="NAME", help=_("Only items this person handles."))]
KindFilter = Annotated[str | None, typer.Option("--kind", metavar="KIND", help=_("Only this kind."))]
ForceOption = Annotated[bool, typer.Option("--force", help=_("Overwrite an existing file."))]
IncludeVoidFlag = Annotated[bool, typer.Option(
    "--include-void", help=_("Also entries voided as mistakes (--status all includes them "
                             "too)."))]


def filter_values(tracker, search: str | None = None, involving: str | None = None,
                  from_unit: str | None = None, handler: str | None = None,
                  include_void: bool = False) -> dict[str, Any]:
    """The shared filter options as query filters (units by code or name)."""
    from fujian.errors import BadInput
    values: dict[str, Any] = {"include_void": include_void}
    if search is not None:
        words = tracker.search_words([search])
        if not words:
            raise BadInput(_("--search needs at least one word."))
        values["search"] = words
    if involving:
        values["involving_id"] = tracker.unit_id(involving)
    if from_unit:
        values["from_id"] = tracker.unit_id(from_unit)
    if handler is not None:
        if not handler.strip():
            raise BadInput(_("--handler must not be empty."))
        values["handler"] = handler.strip()
    return values
