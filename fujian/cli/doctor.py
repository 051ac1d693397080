"""`fujian doctor`: the health of the database file and of the holiday calendar."""

from __future__ import annotations

import typer

from fujian.cli.common import FormatOption, command, note, state
from fujian.cli.console import pick_output
from fujian.i18n import _

app = typer.Typer()


@command(app, "doctor")
def doctor(fmt: FormatOption = None) -> None:
    """Check the database file (header, integrity, schema, journal, ID sequences, units) and
    the holiday calendar, one row per check, each saying what to do; exit 0 when healthy,
    3 when any check failed. Works on a damaged, empty or read-only file and changes nothing.

    Example:

        fujian doctor
    """
    from fujian.dates import china_today
    from fujian.errors import EXIT_STORAGE
    from fujian.kinds import Column
    from fujian.render import render
    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    fmt = pick_output(fmt)
    path = state().location  # never opened as a store: it may be anything
    rows, verdict = Tracker.doctor(path, china_today())
    render(rows, (Column("check", "检查项"), Column("status", "结果"), Column("detail", "说明")),
           fmt, title=str(path))
    note(_("Verdict: healthy.") if verdict else _("Verdict: problems found."))
    if not verdict:
        raise typer.Exit(EXIT_STORAGE)
