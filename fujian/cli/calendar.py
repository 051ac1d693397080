"""`fujian calendar`: the legal calendar, to check a deadline by hand."""

from __future__ import annotations

from typing import Annotated

import typer

from fujian.cli.common import FormatOption, command, note, parse_day
from fujian.cli.console import pick_output
from fujian.i18n import _
from fujian.kinds import Column

app = typer.Typer(no_args_is_help=True, help=_("The legal calendar: check a deadline."))

# `calendar due --format plain/csv`: one row, code headers, as every other command writes it.
DUE_COLUMNS = (Column("start", "起算日", "date"), Column("period", "期间"),
               Column("nominal", "名义到期日", "date"), Column("due", "到期日", "date"),
               Column("rolled_over", "顺延的休息日"))


@command(app, "due")
def calendar_due(
    start: Annotated[str, typer.Argument(metavar="START", help=_("The day the clock starts (not counted)."))],
    period: Annotated[str, typer.Argument(metavar="PERIOD", help=_("3d (days), 10wd (working days) or 2m (months)."))],
    criminal: Annotated[bool, typer.Option("--criminal", help=_(
        "Count as criminal procedure does: a month period starting on a month's last day ends "
        "on the last day of its final month; 0.5m (half a month) is 15 days."))] = False,
    fmt: FormatOption = None,
) -> None:
    """Compute a due date the way Chinese law counts it, and show how it was reached.

    Example:

        fujian calendar due 2025-01-15 2m
    """
    from fujian.deadlines import Period, compute_due
    from fujian.render import render, to_json
    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    fmt = pick_output(fmt)
    begin = parse_day(start)
    result = compute_due(begin, Period.parse(period, criminal=criminal), Tracker.legal_calendar(),
                         criminal=criminal)
    for warning in result.warnings:
        note(_("warning: ") + warning)
    data = {"start": result.start, "period": str(result.period), "nominal": result.nominal,
            "due": result.due, "rolled_over": result.rolled_over}
    if fmt.is_json:
        typer.echo(to_json(data))
        return
    if fmt.is_rows_of_text:  # through the one writer: CSV quoted and neutralised
        render([{**data, "start": begin, "rolled_over": " ".join(
            d.isoformat() for d in result.rolled_over)}], DUE_COLUMNS, fmt)
        return
    typer.echo(_("Start {start} (not counted) + {period} → nominal {nominal}").format(
        start=begin.isoformat(), period=result.period, nominal=result.nominal.isoformat()))
    if result.rolled_over:
        typer.echo(_("Rest days rolled over: {days}").format(
            days=", ".join(f"{d.isoformat()}({'一二三四五六日'[d.weekday()]})"
                           for d in result.rolled_over)))
    typer.echo(_("Due: {due}").format(due=result.due.isoformat()))
