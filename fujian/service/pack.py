"""The joint meeting's pack: a folder of Excel-safe CSV files and a README naming them.

It takes what the Tracker hands down (:class:`reports.PackData`), never the Tracker."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from fujian.errors import BadInput
from fujian.i18n import _
from fujian.kinds import (
    DUE_SOON_COLUMNS,
    KINDS,
    OVERDUE_COLUMNS,
    SUMMARY_COLUMNS,
    columns_for,
)
from fujian.service.queries import Filters
from fujian.service.reports import PackData, check_within, summary_for_people
from fujian.service.transfer import folder_of_files, open_output, refuse_link, write_csv


def check_pack_target(target: Path, within: int, force: bool) -> None:
    """Refuse a pack's target and options before any work, in the order a person fixes them."""
    from fujian.service import workbook  # deferred: openpyxl-side module, for .xlsx only

    if workbook.is_workbook_name(target):
        check_within(within)
        workbook.check_target(target, force)
        return
    refuse_link(target, force)
    if target.exists() and not target.is_dir():
        raise BadInput(_("{path} is a file: give a folder for the pack.").format(path=target))
    if target.is_dir() and any(target.iterdir()) and not force:
        raise BadInput(_("{path} is not empty: add --force to write into it.").format(
            path=target))
    check_within(within)


def write_pack(data: PackData, folder: Path, *, within: int = 7, encoding: str = "utf-8-sig",
               labels: bool = True, force: bool = False,
               warn: Callable[[str], None] | None = None) -> list[Path]:
    """The pack: a folder of CSV files, or one workbook when ``folder`` ends in .xlsx
    (``warn`` hears what a workbook could not hold: see workbook.write_pack_workbook). The
    target was checked by :func:`check_pack_target`."""
    from fujian.service.workbook import is_workbook_name, write_pack_workbook

    if is_workbook_name(folder):
        return write_pack_workbook(data, folder, within=within, labels=labels, force=force,
                                   warn=warn)
    written: list[tuple[str, str, int]] = []
    with folder_of_files(folder) as made:

        def emit(name: str, description: str, rows, columns) -> None:
            path = folder / name
            new = not os.path.lexists(path)
            # Without --force the folder was empty or new: no file, nor link, is there to follow.
            with open_output(path, force, data.database, encoding) as fh:
                n = write_csv(rows, columns, fh, labels, data.unit_names)
            if new:
                made.append(path)
            written.append((name, description, n))

        _emit_reports(data, within, labels, emit)
        if data.meeting is not None:
            emit(f"meeting-{data.meeting['id']}-actions.csv",
                 _("action items of {id}").format(id=data.meeting["id"]),
                 list(data.meeting_actions()), columns_for(KINDS["action"]))
        readme = folder / "README.txt"
        _write_readme(readme, data, encoding, written, force)
    return [folder / name for name, _d, _n in written] + [readme]


def _emit_reports(data: PackData, within: int, labels: bool, emit) -> None:
    """The pack's reports, one file each: overdue, due soon, open items per kind, summary."""
    as_of = data.as_of
    emit("overdue.csv", _("overdue items, most overdue first"), data.overdue(), OVERDUE_COLUMNS)
    emit("due-soon.csv", _("items due by {end}").format(
        end=(as_of + timedelta(days=within)).isoformat()),
         data.due_soon(within), DUE_SOON_COLUMNS)
    for kind in KINDS.values():
        emit(f"open-{kind.code}.csv", _("open items: {label}").format(label=kind.label),
             data.items(Filters(kinds=(kind,), status="open", sort="due")), columns_for(kind))
    summary = data.summary()
    if labels:
        summary = summary_for_people(summary)
    emit("summary.csv", _("duties per kind and per unit holding them: met on time, late, "
                          "unmet, overdue, open, waived, on-time rate"), summary, SUMMARY_COLUMNS)


def _write_readme(readme: Path, data: PackData, encoding: str,
                  written: list[tuple[str, str, int]], force: bool) -> None:
    """README.txt: the pack's day and each file with what it holds and how many rows."""
    with open_output(readme, force, data.database, encoding) as fh:
        fh.write(_("fujian meeting pack, as of {day}").format(day=data.as_of.isoformat())
                 + "\r\n\r\n")
        for name, description, n in written:
            fh.write(f"{name}\t{description} ({n})\r\n")
        # The note column holds each item's latest note only.
        fh.write("\r\n" + _("The note column is each item's latest note; its whole running "
                             "record (every note, dated and signed) is shown by "
                             "`fujian show ID`.") + "\r\n")
