"""The output format of a command, picked in one place: every command asks the picked format
what it needs to know (is it for a person at a terminal? JSON?) instead of comparing names."""

from __future__ import annotations


class OutputFormat(str):
    """One of render.FORMATS (table, plain, csv, json), as :func:`pick_output` chose it. A str,
    so that the renderer takes it as it is."""

    @property
    def for_people(self) -> bool:
        """A table on a terminal: labels and names in words, grouped, with titles."""
        return self == "table"

    @property
    def is_json(self) -> bool:
        return self == "json"

    @property
    def is_csv(self) -> bool:
        return self == "csv"

    @property
    def is_text(self) -> bool:
        """The report a cron job mails (`report overdue --format text`)."""
        return self == "text"

    @property
    def is_rows_of_text(self) -> bool:
        """Plain or CSV: rows of cells for a script or a spreadsheet."""
        return self in ("plain", "csv")

    @property
    def for_reading(self) -> bool:
        """Table or plain: a record may be followed by more tables (its notes, its duties)."""
        return self in ("table", "plain")


# Error handlers that never fail on a character; any other (strict, surrogateescape) is replaced.
_NEVER_FAIL = frozenset({"backslashreplace", "replace", "namereplace", "xmlcharrefreplace",
                         "ignore"})


def safe_streams() -> None:
    """Standard output and error never fail on a character: what the locale's encoding cannot
    show (an emoji under GBK or ASCII) is written as an escape (``\\U0001f389``) instead of
    ending the command with UnicodeEncodeError. Called once at start-up; the encoding is kept,
    and files written with ``-o`` keep their own (UTF-8 by default)."""
    import contextlib
    import sys

    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) in _NEVER_FAIL:
            continue
        # Not a text stream (a test's stand-in), or closed: nothing to do.
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")


def pick_output(requested: str | None, also: tuple[str, ...] = ()) -> OutputFormat:
    """The format a command writes: ``--format`` when given (``also``: formats only this
    command writes), else table on a terminal and plain otherwise (render.pick_format)."""
    from fujian.render import pick_format  # deferred: Rich, which `--help` does not need

    return OutputFormat(pick_format(requested, also=also))
