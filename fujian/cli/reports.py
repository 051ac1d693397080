"""Reports (overdue, due soon, summary) and exports (CSV, the meeting pack, reminder notices)."""

from __future__ import annotations

import itertools
import sys
from typing import Annotated

import typer

from fujian.cli.common import (
    AsOfOption,
    ForceOption,
    FormatOption,
    FromOption,
    HandlerOption,
    InvolvingOption,
    KindFilter,
    ReadableRows,
    SearchOption,
    check_window,
    command,
    fail,
    filter_values,
    note,
    parse_day,
    state,
)
from fujian.cli.console import pick_output
from fujian.errors import EXIT_FOUND, RowsSkipped
from fujian.i18n import _, document_language
from fujian.kinds import DUE_SOON_COLUMNS, OVERDUE_COLUMNS, SUMMARY_COLUMNS, kind_of

report_app = typer.Typer(no_args_is_help=True, help=_("Who is late: overdue, due soon, summary."))

UnitFilter = Annotated[str | None, typer.Option("--unit", metavar="UNIT", help=_(
    "Only items whose open duty this unit holds."))]


# `report overdue` also writes the report a cron job mails.
ReportFormatOption = Annotated[
    str | None,
    typer.Option("--format", "-f", metavar="FORMAT", help=_(
        "table (terminal), plain (tab-separated, the default when not a terminal), csv, json, "
        "or text: a dated report grouped by unit, in Chinese unless FUJIAN_LANG says "
        "otherwise, to mail."), show_default=False),
]


def print_overdue(as_of: str | None, unit: str | None, kind: str | None, fmt: str | None,
                  fail_if_any: bool, **who) -> None:
    from fujian.render import overdue_by_unit, overdue_text, render

    fmt = pick_output(fmt, also=("text",))
    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    readable = ReadableRows(tracker.overdue(day, unit=unit, kind=kind_of(kind) if kind else None,
                                            **filter_values(tracker, **who)))
    rows = iter(readable)
    first = next(rows, None)
    if first is None:
        if fmt.is_json:
            sys.stdout.write("[]\n")
        elif fmt.is_csv:
            render([], OVERDUE_COLUMNS, fmt)
        elif fmt.for_people and readable.skipped is None:
            sys.stdout.write(_("Nothing is overdue as of {day}.").format(day=day.isoformat())
                             + "\n")
        readable.finish()  # rows that could not be read: exit 3, never an all clear
        return  # plain: nothing at all on stdout, so cron mails only when there is news
    rows = itertools.chain([first], rows)
    if fmt.is_text:  # for a mail: Chinese unless FUJIAN_LANG says otherwise, as documents
        with document_language():
            overdue_text(list(rows), day)
    elif fmt.for_people:
        overdue_by_unit(list(rows), OVERDUE_COLUMNS, day)
    else:
        render(rows, OVERDUE_COLUMNS, fmt)
    readable.finish()  # exit 3 before --fail-if-any's 1: the report is not whole
    if fail_if_any:
        raise typer.Exit(EXIT_FOUND)


@command(report_app, "overdue")
def overdue(as_of: AsOfOption = None, unit: UnitFilter = None, kind: KindFilter = None,
            involving: InvolvingOption = None, from_unit: FromOption = None,
            handler: HandlerOption = None, search: SearchOption = None,
            fmt: ReportFormatOption = None,
            fail_if_any: Annotated[bool, typer.Option(
                "--fail-if-any", help=_("Exit 1 when anything is overdue (for cron)."))] = False,
            ) -> None:
    """Every open item past its due date, most overdue first, with its days overdue.

    Each item is listed under the unit that holds its most urgent open duty (the police after
    要求说明不立案理由, the addressed organ of a clue's suggestion …), with that duty's due date;
    the last column, duty, says what is owed. A right (可以: the sending unit's 3 days to object
    after 不予立案) is never overdue; paused items are not overdue. On a terminal, grouped by
    that unit. Plain and text output print nothing when nothing is overdue. Example (crontab):

        0 8 * * * fujian report overdue --format text --fail-if-any > /tmp/o.txt || mail-the-office
    """
    print_overdue(as_of, unit, kind, fmt, fail_if_any, involving=involving, from_unit=from_unit,
                  handler=handler, search=search)


@command(report_app, "due-soon")
def due_soon(within: Annotated[int, typer.Option("--within", metavar="DAYS", help=_("Days ahead."))] = 7,
             as_of: AsOfOption = None, unit: UnitFilter = None, kind: KindFilter = None,
             involving: InvolvingOption = None, from_unit: FromOption = None,
             handler: HandlerOption = None, search: SearchOption = None,
             fmt: FormatOption = None) -> None:
    """Open items due from the as-of date through as-of + N days; the last column, duty, says
    what is owed. A right still running (可以: the sending unit's 3 days to object after 不予立案)
    reads "may … until D" in a table: the unit may act, it owes nothing.

    Example:

        fujian report due-soon --within 14
    """
    from fujian.errors import BadInput
    from fujian.render import render

    if within < 0:
        raise BadInput(_("--within must be 0 or more."))
    fmt = pick_output(fmt)
    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    check_window(day, within)
    rows = ReadableRows(tracker.due_soon(
        day, within, unit=unit, kind=kind_of(kind) if kind else None,
        **filter_values(tracker, involving=involving, from_unit=from_unit, handler=handler,
                        search=search)))
    render(rows, DUE_SOON_COLUMNS, fmt, as_of=day,
           title=_("Due by {end}").format(end=(day.fromordinal(day.toordinal() + within))))
    rows.finish()


@command(report_app, "summary")
def summary(start: Annotated[str | None, typer.Option("--from", metavar="DATE", help=_(
                "Count the duties due on or after this day (default: all)."))] = None,
            end: Annotated[str | None, typer.Option("--to", metavar="DATE", help=_(
                "Count the duties due on or before this day (default: all)."))] = None,
            as_of: AsOfOption = None, fmt: FormatOption = None) -> None:
    """Per kind and per unit holding the duty: how each duty with a due date stands at the
    as-of date, judged on the day its holder acted. Columns: on_time (按期履行) met by its due
    date; late (逾期履行) met after it; unmet (未履行) ended without the owed act (a refusal, a
    suggestion not performed, a suit brought because the organ did not perform); overdue
    (逾期未履行) still open and past due; open (未到期) still open, not yet due or paused;
    waived (免除) ended by nobody's failure (a withdrawal, a cancellation), listed but never
    counted; rate (按期率) = on_time / (on_time + late + unmet + overdue), empty when that is 0.
    Rights (可以: the sending unit's 3 days to object) are never counted.

    The table a joint meeting reads. Example:

        fujian report summary --from 2025-01-01 --to 2025-06-30
    """
    from fujian.errors import BadInput
    from fujian.render import render

    fmt = pick_output(fmt)
    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    first, last = parse_day(start), parse_day(end)
    if first and last and first > last:
        raise BadInput(_("--from is after --to."))
    rows = tracker.summary(day, first, last)
    if fmt.for_people:
        from fujian.render import rate_bar

        # A person at a terminal sees each rate as a bar beside its number.
        people = [{**shown, "rate": f"{shown['rate']:>6} {rate_bar(row['rate'])}".rstrip()
                   if row["rate"] is not None else ""}
                  for shown, row in zip(tracker.for_people(rows), rows, strict=True)]
        render(people, SUMMARY_COLUMNS, fmt,
               title=_("Duties due {start} – {end}, as of {day}").format(
                   start=first.isoformat() if first else "…",
                   end=last.isoformat() if last else "…", day=day.isoformat()))
    else:
        render(rows, SUMMARY_COLUMNS, fmt)


export_app = typer.Typer(no_args_is_help=True, help=_(
    "Excel-safe CSV exports, meeting packs (a folder or one workbook) and reminder notices."))
EncodingOption = Annotated[str, typer.Option(
    "--encoding", metavar="ENCODING", help=_("utf-8-sig (Excel/WPS, the default), utf-8 or gb18030."))]
HeaderOption = Annotated[str, typer.Option(
    "--header", metavar="STYLE", help=_("labels (Chinese headers and values, the default) or codes."))]


def _header_style(header: str) -> bool:
    from fujian.errors import BadInput

    value = header.strip().lower()
    if value not in ("labels", "codes"):
        raise BadInput(_("Unknown header style {text!r}. Valid: labels, codes.").format(
            text=header))
    return value == "labels"


@command(export_app, "csv")
def export_csv(kind: KindFilter = None,
               status: Annotated[str, typer.Option("--status", metavar="STATUS", help=_("open, closed or all."))]
               = "all",
               output: Annotated[str | None, typer.Option(
                   "-o", "--output", metavar="PATH", help=_("File to write (default: standard output)."))] = None,
               encoding: EncodingOption = "utf-8-sig", header: HeaderOption = "labels",
               force: ForceOption = False) -> None:
    """Export items as CSV for Excel or WPS: UTF-8 with BOM and Chinese headers by default;
    text cells that could run as formulas are neutralised.

    Example:

        fujian export csv --kind suggestion -o 检察建议.csv
    """
    import io
    from pathlib import Path

    from fujian.kinds import STATUS_FILTER

    labels = _header_style(header)
    tracker = state().tracker()
    encoding = tracker.check_encoding(encoding)
    kind_info = kind_of(kind) if kind else None
    status_code = STATUS_FILTER.parse(status)
    if output is None:
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="")
        try:
            tracker.export_csv(stream, kind_info, status_code, labels)
        except RowsSkipped as error:  # the readable rows are written: say what was left out
            raise fail(error) from None
        finally:
            stream.flush()
            stream.detach()
        return
    # To a file, written whole or not at all: rows left out fail the export (no file).
    path = Path(output).expanduser()
    with tracker.open_output(path, force, encoding) as fh:
        n = tracker.export_csv(fh, kind_info, status_code, labels)
    note(_("Wrote {n} items to {path}.").format(n=n, path=path))


@command(export_app, "pack")
def export_pack(output: Annotated[str, typer.Option("-o", "--output", metavar="PATH", help=_(
                    "Folder to write, or a workbook: a file name ending in .xlsx."))],
                as_of: AsOfOption = None,
                meeting: Annotated[str | None, typer.Option(
                    "--meeting", metavar="M…", help=_("Also list this meeting's action items."))] = None,
                within: Annotated[int, typer.Option("--within", metavar="DAYS", help=_("Days ahead for "
                                                    "due-soon.csv."))] = 7,
                encoding: EncodingOption = "utf-8-sig", header: HeaderOption = "labels",
                force: ForceOption = False) -> None:
    """Write the joint meeting's pack: overdue, due soon, open items per kind, the summary and,
    with --meeting, that meeting's action items; each Excel-safe, plus README.txt.

    Given a file name ending in .xlsx, the pack is one workbook ready to print: an overview
    with the summary per unit and a chart of on-time rates, then one sheet each for overdue
    items (by holder), due soon, the open items of each kind, the meeting and the units.
    Examples:

        fujian export pack -o pack-2025-03 --meeting M2
        fujian export pack -o 联席会议材料.xlsx --meeting M2
    """
    from pathlib import Path

    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    check_window(day, within)
    files = tracker.write_pack(Path(output).expanduser(), day,
                               meeting=meeting, within=within,
                               encoding=tracker.check_encoding(encoding),
                               labels=_header_style(header), force=force, warn=note)
    if tracker.is_workbook_name(output):
        note(_("Wrote the workbook {path}.").format(path=output))
    else:
        note(_("Wrote {n} files to {path}.").format(n=len(files), path=output))


@command(export_app, "reminders")
def export_reminders(
        output: Annotated[str, typer.Option("-o", "--output", metavar="FOLDER", help=_(
            "Folder to write the notices to."))],
        as_of: AsOfOption = None,
        within: Annotated[int, typer.Option("--within", metavar="DAYS", help=_(
            "Also chase duties due within this many days."))] = 7,
        unit: Annotated[list[str] | None, typer.Option("--unit", metavar="UNIT", help=_(
            "Only this unit (repeat for more)."))] = None,
        force: Annotated[bool, typer.Option("--force", help=_(
            "Write into a folder that is not empty (same-named notices are replaced)."))]
        = False) -> None:
    """Write a reminder notice (催办通知) for each unit that holds an overdue or due-soon
    duty: one workbook per unit, named by its Chinese name, with its liaison and phone, the
    as-of date, and each item with what is owed, since when and by when. A unit with nothing
    to chase gets no file. Example:

        fujian export reminders -o 催办通知 --within 7
    """
    from pathlib import Path

    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    check_window(day, within)
    files = tracker.write_reminders(Path(output).expanduser(), day, within=within,
                                    units=unit or (), force=force)
    if files:
        note(_("Wrote {n} reminder notices to {path}.").format(n=len(files), path=output))
    else:
        note(_("Nothing to chase as of {day}: no notice written.").format(day=day.isoformat()))
