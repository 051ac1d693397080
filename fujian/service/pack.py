"""The joint meeting's pack: a folder of Excel-safe CSV files and a README naming them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
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
from fujian.service.reports import due_soon_rows, overdue_rows, summary_for_people, summary_rows
from fujian.service.transfer import open_output, write_csv


def write_pack(tracker, folder: Path, as_of: date, *, meeting: str | None = None,
               within: int = 7, encoding: str = "utf-8-sig", labels: bool = True,
               force: bool = False, warn: Callable[[str], None] | None = None) -> list[Path]:
    """The pack: a folder of CSV files, or one workbook when ``folder`` ends in .xlsx
    (``warn`` hears what a workbook could not hold: see workbook.write_pack_workbook)."""
    from fujian.service.workbook import is_workbook_name, write_pack_workbook

    if is_workbook_name(folder):
        return write_pack_workbook(tracker, folder, as_of, meeting=meeting, within=within,
                                   labels=labels, force=force, warn=warn)
    if folder.exists() and not folder.is_dir():
        raise BadInput(_("{path} is a file: give a folder for the pack.").format(path=folder))
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise BadInput(_("{path} is not empty: add --force to write into it.").format(
            path=folder))
    if within < 0:
        raise BadInput(_("--within must be 0 or more."))
    meeting_row = tracker.show(meeting, KINDS["meeting"]) if meeting else None
    folder.mkdir(parents=True, exist_ok=True)
    database = tracker.store
    written: list[tuple[str, str, int]] = []
    names = tracker.unit_names()

    def emit(name: str, description: str, rows, columns) -> None:
        with open_output(folder / name, True, database, encoding) as fh:
            n = write_csv(rows, columns, fh, labels, names)
        written.append((name, description, n))

    emit("overdue.csv", _("overdue items, most overdue first"),
         overdue_rows(tracker, as_of), OVERDUE_COLUMNS)
    emit("due-soon.csv", _("items due by {end}").format(
        end=(as_of + timedelta(days=within)).isoformat()),
         due_soon_rows(tracker, as_of, within), DUE_SOON_COLUMNS)
    for kind in KINDS.values():
        emit(f"open-{kind.code}.csv", _("open items: {label}").format(label=kind.label),
             tracker.items(Filters(kinds=(kind,), status="open", sort="due"), as_of),
             columns_for(kind))
    summary = summary_rows(tracker, as_of, None, None)
    if labels:
        summary = summary_for_people(summary)
    emit("summary.csv", _("duties per kind and per unit holding them: met on time, late, "
                          "unmet, overdue, open, waived, on-time rate"), summary, SUMMARY_COLUMNS)
    if meeting_row is not None:
        actions = Filters(kinds=(KINDS["action"],), status="all", sort="id",
                          meeting_id=tracker.item_pk(meeting_row["id"]))
        rows = list(tracker.items(actions, as_of))
        emit(f"meeting-{meeting_row['id']}-actions.csv",
             _("action items of {id}").format(id=meeting_row["id"]), rows,
             columns_for(KINDS["action"]))
    readme = folder / "README.txt"
    with open_output(readme, True, database, encoding) as fh:
        fh.write(_("fujian meeting pack, as of {day}").format(day=as_of.isoformat()) + "\r\n\r\n")
        for name, description, n in written:
            fh.write(f"{name}\t{description} ({n})\r\n")
        # The note column holds each item's latest note only.
        fh.write("\r\n" + _("The note column is each item's latest note; its whole running "
                             "record (every note, dated and signed) is shown by "
                             "`fujian show ID`.") + "\r\n")
    return [folder / name for name, _d, _n in written] + [readme]
