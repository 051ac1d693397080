"""Moving data in and out whole: imports (CSV, workbooks), backups, copies and restores."""

from __future__ import annotations

from typing import Annotated

import typer

from fujian.cli.common import ForceOption, FormatOption, KindFilter, command, note, state
from fujian.cli.console import pick_output
from fujian.i18n import _
from fujian.kinds import kind_of

import_app = typer.Typer(no_args_is_help=True, help=_("Bulk-add items from CSV or a workbook."))


@command(import_app, "csv")
def import_csv(path: Annotated[str, typer.Argument(metavar="FILE", help=_("CSV file."))],
               kind: KindFilter = None,
               dry_run: Annotated[bool, typer.Option("--dry-run", help=_("Check every row; "
                                                     "import nothing."))] = False,
               encoding: Annotated[str, typer.Option(
                   "--encoding", metavar="ENCODING", help=_("auto, utf-8, utf-8-sig or gb18030."))] = "auto") -> None:
    """Bulk-add items from a CSV in the export format (Chinese or code headers).

    Every row is checked first: if any row is bad nothing is imported and each bad row is
    named with its line number. Example:

        fujian import csv --kind referral referrals.csv --dry-run
    """
    from pathlib import Path

    source = Path(path).expanduser()
    # A dry run writes nothing, not even a recount.
    counts = state().tracker(recount=not dry_run).import_csv(
        source, kind_of(kind) if kind else None, encoding, dry_run,
        source=f"import {source.name}")
    report_import(counts, dry_run, kind)


def report_import(counts, dry_run: bool, kind: str | None) -> None:
    """What an import did (or, dry, would do): the same words for CSV and workbooks."""
    total = sum(counts.values())
    detail = ", ".join(f"{k} {n}" for k, n in counts.items()) or "0"
    message = _("Would import {n} items ({detail}); nothing was imported (dry run).") \
        if dry_run else _("Imported {n} items ({detail}).")
    note(message.format(n=total, detail=detail))
    if getattr(counts, "skipped", 0):
        note(_("Skipped {n} rows of other kinds (--kind {kind}).").format(n=counts.skipped,
                                                                          kind=kind))


@command(import_app, "xlsx")
def import_xlsx(path: Annotated[str, typer.Argument(metavar="FILE", help=_("Workbook (.xlsx)."))],
                sheet: Annotated[str | None, typer.Option("--sheet", metavar="NAME", help=_(
                    "Read only this sheet (default: every sheet whose first row is an item "
                    "header)."))] = None,
                kind: KindFilter = None,
                dry_run: Annotated[bool, typer.Option("--dry-run", help=_(
                    "Check every row; import nothing."))] = False) -> None:
    """Bulk-add items from an Excel workbook whose sheet starts with the export's header
    (Chinese, English or code headers), as import csv does: every row is checked first, and
    if any is bad nothing is imported and each is named by sheet and row. Dates may be Excel
    dates or text. A pack written by export pack reads back as its open items. Example:

        fujian import xlsx 区市场监督管理局.xlsx --kind referral --dry-run
    """
    from pathlib import Path

    source = Path(path).expanduser()
    result = state().tracker(recount=not dry_run).import_xlsx(
        source, kind_of(kind) if kind else None, sheet, dry_run, source=f"import {source.name}")
    report_import(result.counts, dry_run, kind)
    note(_("Sheets read: {read}.").format(read=", ".join(result.read)))
    if result.skipped:
        note(_("Sheets skipped (no item header in the first row): {names}.").format(
            names=", ".join(result.skipped)))


# Whole-database commands, top level: `fujian backup`, `fujian copy`, `fujian restore`.
app = typer.Typer()


@command(app, "backup")
def backup(target: Annotated[str, typer.Argument(metavar="FILE", help=_("Backup file."))],
           force: ForceOption = False) -> None:
    """A consistent, verified copy of the database, safe while others write. A damaged
    database is refused; an existing file is replaced (--force) only by a copy that
    passed its check.

    Example:

        fujian backup /mnt/usb/fujian-2025-03-10.db
    """
    from pathlib import Path

    # A backup is the database as it is: no recount first.
    path = state().tracker(recount=False).backup(Path(target).expanduser(), force)
    note(_("Backed up to {path}.").format(path=path))


@command(app, "copy")
def copy(to: Annotated[str, typer.Option(
        "--to", metavar="URL_OR_PATH", help=_("The empty database to fill: a PostgreSQL "
                                              "URL or a new SQLite file."))],
         fmt: FormatOption = None) -> None:
    """Copy the whole database (items, duties, notes, history, units, ID sequences) into
    an empty one, of either kind, and check every table's rows and checksum. A target
    that holds any data is refused; a failed copy leaves it as it was.

    Example (moving an office's file to the shared server):

        fujian --db ~/fujian.db copy --to postgresql://fujian@db.example/fujian
    """
    from fujian.kinds import Column
    from fujian.render import render
    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    st = state()
    tables = st.tracker(recount=False).copy_to(to)  # a copy is the database as it is
    rows = [{"table": name, "rows": count, "sha256": digest[:16]}
            for name, (count, digest) in tables.items()]
    fmt = pick_output(fmt)
    render(rows, (Column("table", "表"), Column("rows", "行数"),
                  Column("sha256", "校验值")), fmt, title=_("Copied"))
    note(_("Copied {source} to {target}: {n} rows in {tables} tables, verified.").format(
        source=st.location, target=Tracker.as_location(to), n=sum(r["rows"] for r in rows),
        tables=len(rows)))


@command(app, "restore")
def restore(backup: Annotated[str, typer.Argument(metavar="BACKUP", help=_("Backup file "
                                                  "made by `fujian backup`."))],
            force: Annotated[bool, typer.Option("--force", help=_(
                "Replace an existing database (it is kept beside it)."))] = False) -> None:
    """Put a backup back: the backup is verified, the current database is kept beside it
    (the message names the file), and the database is replaced in one step.

    A damaged or foreign backup, or one from a newer fujian, is refused. Example:

        fujian restore /mnt/usb/fujian-2025-03-10.db --force
    """
    from pathlib import Path

    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    source = Path(backup).expanduser()
    database = state().location
    kept = Tracker.restore(source, database, force)
    if kept is None:
        note(_("Restored {path} from {backup}.").format(path=database, backup=source))
    else:
        note(_("Restored {path} from {backup}; the database it replaced is kept as "
               "{kept}.").format(path=database, backup=source, kept=kept))
