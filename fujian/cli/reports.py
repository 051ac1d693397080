"""Reports (overdue, due soon, summary), exports, imports and backups."""

from __future__ import annotations

import itertools
import sys
from typing import Annotated

import typer

from fujian.cli.common import AsOfOption, FormatOption, command, parse_day, state
from fujian.errors import EXIT_FOUND
from fujian.i18n import _
from fujian.kinds import Column, kind_of

report_app = typer.Typer(no_args_is_help=True, help="Who is late: overdue, due soon, summary.")

OVERDUE_COLUMNS = (
    Column("id", "编号"), Column("kind", "类别", "choice"), Column("title", "标题"),
    Column("unit", "责任单位代码"), Column("unit_name", "责任单位"),
    Column("stage", "阶段", "choice"), Column("due_on", "期限", "date"),
    Column("days_overdue", "逾期天数", "int"),
)
DUE_SOON_COLUMNS = (
    Column("id", "编号"), Column("kind", "类别", "choice"), Column("title", "标题"),
    Column("unit", "责任单位代码"), Column("unit_name", "责任单位"),
    Column("stage", "阶段", "choice"), Column("due_on", "期限", "date"),
    Column("days_left", "剩余天数", "int"),
)
KindFilter = Annotated[str | None, typer.Option("--kind", help="Only this kind.")]
UnitFilter = Annotated[str | None, typer.Option("--unit", help="Only this responsible unit.")]


def print_overdue(as_of: str | None, unit: str | None, kind: str | None, fmt: str | None,
                  fail_if_any: bool) -> None:
    from fujian.render import pick_format, render
    from fujian.service.reports import overdue_rows

    fmt = pick_format(fmt)
    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    rows = overdue_rows(tracker, day, unit=unit, kind=kind_of(kind) if kind else None)
    first = next(rows, None)
    if first is None:
        if fmt == "json":
            sys.stdout.write("[]\n")
        elif fmt == "csv":
            render([], OVERDUE_COLUMNS, fmt)
        elif fmt == "table":
            sys.stdout.write(_("Nothing is overdue as of {day}.").format(day=day.isoformat())
                             + "\n")
        return  # plain: nothing at all on stdout, so cron mails only when there is news
    rows = itertools.chain([first], rows)
    if fmt == "table":
        _grouped_table(list(rows), day)
    else:
        render(rows, OVERDUE_COLUMNS, fmt)
    if fail_if_any:
        raise typer.Exit(EXIT_FOUND)


def _grouped_table(rows: list[dict], day) -> None:
    from rich.table import Table

    from fujian.render import console, human_cell

    con = console()
    # Rows arrive most overdue first, so each unit's group starts with its worst item and the
    # groups come out in the order of their worst item.
    by_unit: dict[str, list[dict]] = {}
    for row in rows:
        by_unit.setdefault(row["unit"], []).append(row)
    con.print(_("Overdue as of {day}: {n} items").format(day=day.isoformat(), n=len(rows)),
              style="bold")
    columns = [c for c in OVERDUE_COLUMNS if c.key not in ("unit", "unit_name")]
    for unit_rows in by_unit.values():
        table = Table(title=_("{name} ({code}): {n}").format(
            name=unit_rows[0]["unit_name"], code=unit_rows[0]["unit"], n=len(unit_rows)),
            title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(column.label, overflow="fold",
                             no_wrap=column.type in ("date", "int"),
                             justify="right" if column.type == "int" else "left")
        for row in unit_rows:
            table.add_row(*(human_cell(row, c) for c in columns), style="red")
        con.print(table)
    con.print(_("Total: {n} overdue in {units} units.").format(n=len(rows), units=len(by_unit)),
              style="bold")


@command(report_app, "overdue")
def overdue(as_of: AsOfOption = None, unit: UnitFilter = None, kind: KindFilter = None,
            fmt: FormatOption = None,
            fail_if_any: Annotated[bool, typer.Option(
                "--fail-if-any", help="Exit 1 when anything is overdue (for cron).")] = False,
            ) -> None:
    """Every open item past its due date, most overdue first, with its days overdue.

    On a terminal, grouped by responsible unit. Plain output prints nothing when nothing is
    overdue. Example (crontab):

        0 8 * * * fujian report overdue --fail-if-any || mail-the-office
    """
    print_overdue(as_of, unit, kind, fmt, fail_if_any)


@command(report_app, "due-soon")
def due_soon(within: Annotated[int, typer.Option("--within", help="Days ahead.")] = 7,
             as_of: AsOfOption = None, unit: UnitFilter = None, kind: KindFilter = None,
             fmt: FormatOption = None) -> None:
    """Open items due from the as-of date through as-of + N days.

    Example:

        fujian report due-soon --within 14
    """
    from fujian.errors import BadInput
    from fujian.render import pick_format, render
    from fujian.service.reports import due_soon_rows

    if within < 0:
        raise BadInput(_("--within must be 0 or more."))
    fmt = pick_format(fmt)
    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    rows = due_soon_rows(tracker, day, within, unit=unit, kind=kind_of(kind) if kind else None)
    render(rows, DUE_SOON_COLUMNS, fmt, as_of=day,
           title=_("Due by {end}").format(end=(day.fromordinal(day.toordinal() + within))))


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
