"""Workbooks (.xlsx) for people: the joint meeting's pack as one printable workbook, a reminder
notice (催办通知) for each unit that has something to chase, and item sheets read back for
import.

openpyxl makes every part of a written file except the cells — styles, the chart, frozen panes,
filters, print setup, page header and footer, the package itself — and reads workbooks back.
The cells are written here, straight into each sheet's XML: openpyxl writes about 100,000 cells
a second (measured: 8.5 s for 40,000 rows of 21 cells; XlsxWriter 5 s; the same rows as CSV
0.2 s), and a pack of 100,000 items holds over a million cells. So each sheet is built in two
halves that meet at ``<sheetData>``: openpyxl's sheet without cells, and this module's rows.

Every cell has an explicit type: text is an inline string (never a formula, never a number, so
an ID, a document number or a phone number keeps its zeros and digits), a date is a date serial
shown ``yyyy-mm-dd``, a count is a number. Characters XML cannot hold (control characters) are
written with the spreadsheet escape ``_xHHHH_``, which Excel and LibreOffice show as the
character and :func:`read_item_sheets` reads back.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import and_, false, or_, select

from fujian.errors import BadInput, os_reason
from fujian.i18n import N_, _, document_language, listing
from fujian.kinds import (
    COLUMN_TITLES,
    DUE_SOON_COLUMNS,
    DUTY_COLUMNS,
    FLAG_LABELS,
    KINDS,
    OVERDUE_COLUMNS,
    SUMMARY_COLUMNS,
    UNIT_COLUMNS,
    Column,
    columns_for,
    format_id,
    label_of,
)
from fujian.models import Duty, Item, Unit, clocks_running, days_overdue
from fujian.render import file_value, group_by_holder
from fujian.service.queries import Filters
from fujian.service.reports import PackData
from fujian.service.transfer import (
    all_kind_columns,
    columns_twice,
    export_columns,
    folder_of_files,
    header_map,
    open_output,
    refuse_database,
    refuse_link,
)
from fujian.service.transfer import check_target as check_output_target

MAX_CELL = 32_767  # characters a spreadsheet cell holds
MAX_ROWS = 1_048_576  # rows a sheet holds (Excel, LibreOffice)
SAMPLE = 1000  # rows measured for column widths
RED = "FFC7CE"  # the light red of Excel's "bad" style
HEADER_GREY = "E7E6E6"
# Sheet names: at most 31 characters, none of : \ / ? * [ ].
SHEET_NAMES = {
    "overview": N_("Overview"), "overdue": N_("Overdue"), "due-soon": N_("Due soon"),
    "referral": N_("Open referrals"), "suggestion": N_("Open suggestions"),
    "clue": N_("Open clues"), "meeting": N_("Open meetings"), "action": N_("Open action items"),
    "units": N_("Units"), "reminder": N_("Reminder notice"),
}
# The pack's unit directory: the kind of a unit is for `unit list`, not the meeting.
PACK_UNIT_COLUMNS = tuple(c for c in UNIT_COLUMNS if c.key != "kind")
REMINDER_COLUMNS = (
    Column("id", "编号"), Column("kind", "类别", "choice"), Column("title", "标题"),
    Column("doc_no", "文号"), Column("stage", "阶段", "choice"), Column("duty", "义务", "choice"),
    Column("started_on", "起算日期", "date"), Column("due_on", "期限", "date"),
    Column("days_overdue", "逾期天数", "int"), Column("days_left", "剩余天数", "int"),
)
# What a due date cell may say after the date (the row's flags "local", "provisional"): the
# cell stays a date, to sort and filter by, and its number format prints the words.
DUE_MARKS = {"l": ("local",), "p": ("provisional",), "lp": ("local", "provisional")}


def due_mark(row: dict) -> str:
    """The :data:`DUE_MARKS` key of a row's due date: "" when the period is statutory and
    the date final."""
    return ("l" if row.get("local") else "") + ("p" if row.get("provisional") else "")


def _due_words(flags: tuple[str, ...]) -> str:
    """The duty columns' headers (本地规定, 暂定; in English Local rule, Provisional), in the
    document's language."""
    headers = {c.key: c.header for c in DUTY_COLUMNS}
    return "/".join(headers[f] for f in flags)


def english_title(column: Column) -> str:
    """The English header of a column (what :attr:`Column.header` shows in English)."""
    return COLUMN_TITLES.get(column.key, column.key.replace("_", " ").capitalize())


def is_workbook_name(path: Path | str) -> bool:
    return str(path).lower().endswith(".xlsx")


# ---------------------------------------------------------------------------------------------
# Cells as XML


_EPOCH = date(1899, 12, 30).toordinal()  # day 0 of a spreadsheet's date serials
_XML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# XML cannot hold most control characters, and a parser turns \r into \n: such a character is
# written _xHHHH_, and a literal "_xHHHH_" in the text gets its "_" escaped (_x005F_).
_SPREADSHEET_ESCAPE = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_SPREADSHEET_UNESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _escape_char(match: re.Match) -> str:
    char = match.group()
    return "_x005F_" if char == "_" else f"_x{ord(char):04X}_"


def spreadsheet_escape(text: str) -> str:
    return _SPREADSHEET_ESCAPE.sub(_escape_char, text)


def spreadsheet_unescape(text: str) -> str:
    if "_x" not in text:
        return text
    return _SPREADSHEET_UNESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _col_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _display_width(text: str) -> int:
    """Columns a text needs: a Chinese character is two (three UTF-8 bytes: len + 1)."""
    return max(len(line) + (len(line.encode()) - len(line)) // 2 for line in text.split("\n"))


class CellWriter:
    """Turns values into ``<c>`` elements. Styles are openpyxl's cell-format ids."""

    def __init__(self, styles: dict[str, int]) -> None:
        self.styles = styles
        self.cut: list[str] = []  # where a text was longer than a cell holds

    def clip(self, value: str, where: Callable[[], str]) -> str:
        """A text no longer than a cell holds (Excel counts UTF-16 units): the beginning and
        an ellipsis, and a warning naming where (see :meth:`Book.save`)."""
        if len(value.encode("utf-16-le")) // 2 <= MAX_CELL:
            return value
        self.cut.append(where())
        return value.encode("utf-16-le")[:2 * (MAX_CELL - 1)].decode("utf-16-le", "ignore") + "…"

    def text(self, ref: str, value: str, style: int = 0) -> str:
        if not value.isprintable() or "_x" in value:
            value = spreadsheet_escape(value)
        if "&" in value or "<" in value or ">" in value:
            value = value.translate(_XML)
        s = f' s="{style}"' if style else ""
        if value[:1].isspace() or value[-1:].isspace():
            return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
        return f'<c r="{ref}"{s} t="inlineStr"><is><t>{value}</t></is></c>'

    def value(self, ref: str, value: Any, style: str | None = None) -> str:
        """A free cell (captions, labels): its type follows the Python value."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            if len(value) > MAX_CELL // 2:
                value = self.clip(value, lambda: ref)
            return self.text(ref, value, self.styles.get(style or "", 0))
        if isinstance(value, date):
            s = self.styles[style or "day"]
            return f'<c r="{ref}" s="{s}"><v>{value.toordinal() - _EPOCH}</v></c>'
        if isinstance(value, bool):
            return self.text(ref, FLAG_LABELS[value], self.styles.get(style or "", 0))
        s = f' s="{self.styles[style]}"' if style else ""
        return f'<c r="{ref}"{s}><v>{value}</v></c>'


@dataclass
class Table:
    """One sheet: optional rows above (caption), a header, one row per item, rows below."""

    key: str  # what the sheet is (overview, overdue, referral …): its name and its role
    name: str
    columns: Sequence[Column]
    rows: Iterable[dict]
    labels: bool = True
    caption: list[list[Any]] = field(default_factory=list)  # [value or (value, style), …]
    after: list[list[Any]] = field(default_factory=list)
    red: Callable[[dict], bool] | None = None
    unit_names: dict[str, str] | None = None
    # Filled in as the rows are written:
    count: int = 0
    widths: list[int] = field(default_factory=list)
    header_row: int = 0
    last_row: int = 0


def _getters(table: Table) -> list[tuple[str, Callable[[dict], Any]]]:
    """Per column: its cell kind (s text, d date, D a due date that may be marked, n number,
    p percentage) and how to read the value a person reads from a row — the same values as a
    labelled CSV export (render.file_value: unit names, Chinese labels, 是/否), or the codes."""
    names_elsewhere = any(c.key == "unit_name" for c in table.columns)
    return [(_cell_kind(column),
             file_value(column, table.labels and not (column.key == "unit" and names_elsewhere),
                        table.unit_names, duty_in_words=True))
            for column in table.columns]


def _cell_kind(column: Column) -> str:
    """How a column's cells are typed: a date (a due date may be marked: a local period, a
    provisional date), a number, a percentage or text."""
    if column.type == "date":
        return "D" if column.key == "due_on" else "d"
    return {"int": "n", "rate": "p"}.get(column.type, "s")


def _free_row(cells: CellWriter, r: int, values: list[Any]) -> str:
    parts = [f'<row r="{r}">']
    for i, item in enumerate(values):
        value, style = item if isinstance(item, tuple) else (item, None)
        parts.append(cells.value(f"{_col_letter(i)}{r}", value, style))
    parts.append("</row>")
    return "".join(parts)


def write_table_rows(table: Table, cells: CellWriter, out: IO[bytes]) -> None:
    """The sheet's ``<sheetData>`` content, streamed to ``out``; fills in the counts and the
    column widths (measured on the header and the first rows)."""
    widths = [0] * max(len(table.columns), 1)
    lines = _caption_rows(table, cells, widths)
    table.header_row = r = len(lines) + 1
    headers = [c.header if table.labels else c.key for c in table.columns]
    lines.append(_free_row(cells, r, [(h, "header") for h in headers]))
    for i, h in enumerate(headers):
        widths[i] = max(widths[i], _display_width(h) + 3)  # room for the filter button
    items = _ItemRows(table, cells, headers, widths)
    n = 0
    for n, row in enumerate(table.rows, start=1):  # noqa: B007 - n counts the rows
        r += 1
        if r > MAX_ROWS - len(table.after):
            raise BadInput(_("Sheet {sheet} would have more rows than a spreadsheet holds "
                             "({n}): write the pack as a folder of CSV files.").format(
                sheet=table.name, n=f"{MAX_ROWS:,}"))
        lines.append(items.row(str(r), row, measure=n <= SAMPLE))
        if len(lines) >= 1000:
            out.write("".join(lines).encode())
            lines.clear()
    table.count = n
    for values in table.after:
        r += 1
        lines.append(_free_row(cells, r, values))
    out.write("".join(lines).encode())
    table.last_row = r
    table.widths = [min(max(w + 2, 6), 60) for w in widths]


def _caption_rows(table: Table, cells: CellWriter, widths: list[int]) -> list[str]:
    """The rows above the header, widening the columns they share with it."""
    lines = []
    for r, values in enumerate(table.caption, start=1):
        lines.append(_free_row(cells, r, values))
        # Labels and small tables above the header share its columns; a row's last cell (a
        # title, a long value) may run on into the empty cells to its right.
        for i, item in enumerate(values[:-1]):
            value = item[0] if isinstance(item, tuple) else item
            if i < len(widths):
                widths[i] = max(widths[i], _display_width(str(value)) if value is not None else 0)
    return lines


class _ItemRows:
    """Writes a table's item rows as ``<row>`` XML, widening ``widths`` as it measures."""

    def __init__(self, table: Table, cells: CellWriter, headers: list[str],
                 widths: list[int]) -> None:
        styles = cells.styles
        kinds = (("s", "text"), ("d", "date"), ("n", "num"), ("p", "pct"),
                 *((f"d{mark}", f"date_{mark}") for mark in DUE_MARKS))
        self.plain = {k: styles[name] for k, name in kinds}
        self.red = {k: styles["red_" + name] for k, name in kinds}
        self.marked_width = {mark: 11 + _display_width(_due_words(flags))
                             for mark, flags in DUE_MARKS.items()}
        self.columns = [(_col_letter(i), kind, get, i)
                        for i, (kind, get) in enumerate(_getters(table))]
        self.is_red, self.cells, self.headers, self.widths = table.red, cells, headers, widths

    def row(self, rs: str, row: dict, measure: bool) -> str:
        """Row number ``rs``; ``measure``: whether its text widens the columns."""
        style = self.red if self.is_red is not None and self.is_red(row) else self.plain
        widths = self.widths
        parts = ['<row r="', rs, '">']
        for letter, kind, get, i in self.columns:
            value = get(row)
            if value is None or value == "":  # drawn too: borders, and red when late
                parts.append(f'<c r="{letter}{rs}" s="{style["n"]}"/>')
            elif kind == "s":
                if value.__class__ is not str or len(value) > MAX_CELL // 2:  # rare
                    value = self._text(value, row, i)
                parts.append(self.cells.text(letter + rs, value, style["s"]))
                if measure and (width := _display_width(value)) > widths[i]:
                    widths[i] = width
            elif kind == "d" or kind == "D":
                mark = due_mark(row) if kind == "D" else ""
                parts.append(f'<c r="{letter}{rs}" s="{style["d" + mark]}"><v>'
                             f'{value.toordinal() - _EPOCH}</v></c>')
                # A marked date is wider, and rare (so measured on every row, lest it print
                # as #### far down a long sheet).
                width = self.marked_width[mark] if mark else 10 if measure else 0
                if widths[i] < width:
                    widths[i] = width
            else:
                parts.append(f'<c r="{letter}{rs}" s="{style[kind]}"><v>{value}</v></c>')
        parts.append("</row>")
        return "".join(parts)

    def _text(self, value: Any, row: dict, i: int) -> str:
        """A text cell's value, clipped to what a cell holds."""
        if value.__class__ is not str:
            value = value.isoformat() if isinstance(value, date) else str(value)
        if len(value) > MAX_CELL // 2:
            value = self.cells.clip(value, lambda: f"{row.get('id', '')} {self.headers[i]}")
        return value


# ---------------------------------------------------------------------------------------------
# The workbook: openpyxl's parts, this module's cells


def _register_styles(workbook) -> dict[str, int]:
    """The cell formats the sheets use, registered in ``workbook``: name → format id."""
    from openpyxl.cell import WriteOnlyCell  # deferred: openpyxl is for the workbook commands
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    scratch = workbook.create_sheet("scratch")
    red = PatternFill("solid", fgColor=RED)

    def style(**attributes: Any) -> int:
        # A cell that is never written registers the format; its id is the index the
        # cells refer to.
        cell = WriteOnlyCell(scratch)
        for name, value in attributes.items():
            setattr(cell, name, value)
        return cell.style_id

    # Table cells have thin borders (so the printed table has its grid and nothing else
    # does); text wraps within its column (rows grow to fit when opened).
    thin = Side(style="thin", color="A6A6A6")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    top = Alignment(vertical="top")
    formats = {"text": ("General", wrap), "num": ("General", top),
               "date": ("yyyy-mm-dd", top), "pct": ("0.0%", top)}
    styles = {
        "header": style(font=Font(bold=True), fill=PatternFill("solid", fgColor=HEADER_GREY),
                        border=box, alignment=Alignment(vertical="center", wrap_text=True)),
        "caption": style(font=Font(bold=True, size=13)),
        "bold": style(font=Font(bold=True)),
        "cell": style(border=box),
        "day": style(number_format="yyyy-mm-dd"),  # a date in a caption
    }
    for mark, flags in DUE_MARKS.items():
        formats[f"date_{mark}"] = (f'yyyy-mm-dd" {_due_words(flags)}"', top)
    for name, (number_format, alignment) in formats.items():
        styles[name] = style(border=box, number_format=number_format, alignment=alignment)
        styles["red_" + name] = style(border=box, number_format=number_format,
                                      alignment=alignment, fill=red)
    workbook.remove(scratch)
    return styles


class Book:
    """A workbook of :class:`Table` sheets. Rows are written to spooled temporary files as the
    tables are added (so counts are known before the sheets that show them); :meth:`save`
    lets openpyxl write the file and puts each sheet's rows into it."""

    def __init__(self, as_of: date, warn: Callable[[str], None] | None = None) -> None:
        from openpyxl import Workbook  # deferred: openpyxl is for the workbook commands

        self.as_of = as_of
        self.warn = warn or (lambda _text: None)
        self.workbook = Workbook()
        self.workbook.remove(self.workbook.active)
        self.tables: list[tuple[Table, Any, Any]] = []  # (table, worksheet, spooled rows)
        self.charts: list[Callable[[], None]] = []  # drawn when the rows are known
        self.styles = _register_styles(self.workbook)
        self.cells = CellWriter(self.styles)

    def spool(self, table: Table):
        """Write ``table``'s rows now (filling in its counts); place it later with :meth:`add`."""
        spool = tempfile.SpooledTemporaryFile(max_size=32 << 20)  # noqa: SIM115 - see save
        try:
            write_table_rows(table, self.cells, spool)
        except BaseException:
            spool.close()
            raise
        return spool

    def add(self, table: Table, spool=None):
        """The next sheet: ``table``, its rows written now unless spooled already."""
        if spool is None:
            spool = self.spool(table)
        sheet = self.workbook.create_sheet(table.name)
        self.tables.append((table, sheet, spool))
        return sheet

    def _set_up(self, table: Table, sheet) -> None:
        from openpyxl.worksheet.properties import PageSetupProperties

        for i, width in enumerate(table.widths):
            sheet.column_dimensions[_col_letter(i)].width = width
        last = _col_letter(len(table.columns) - 1)
        top = table.header_row
        sheet.freeze_panes = f"A{top + 1}"
        sheet.auto_filter.ref = f"A{top}:{last}{top + table.count}"
        sheet.print_title_rows = f"{top}:{top}"
        setup = sheet.page_setup
        setup.orientation = "landscape"
        setup.paperSize = sheet.PAPERSIZE_A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0  # as many pages down as the rows need
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        sheet.page_margins.top = sheet.page_margins.bottom = 0.6
        sheet.page_margins.header = sheet.page_margins.footer = 0.3
        day = _("As of {day}").format(day=self.as_of.isoformat())
        for header, footer in ((sheet.oddHeader, sheet.oddFooter),
                               (sheet.evenHeader, sheet.evenFooter)):
            header.center.text = "&A"  # the sheet's name
            footer.left.text = day.replace("&", "&&")
            footer.right.text = _("Page &P of &N")

    def save(self, out: IO[bytes]) -> None:
        """Write the workbook to ``out`` (a new, seekable binary file)."""
        import io

        try:
            for table, sheet, _spool in self.tables:
                self._set_up(table, sheet)
            for chart in self.charts:
                chart()
            shell = io.BytesIO()
            self.workbook.save(shell)
            # Each sheet's part, as openpyxl named it while saving.
            parts = {sheet.path.lstrip("/"): (table, spool) for table, sheet, spool in self.tables}
            with zipfile.ZipFile(shell) as source, \
                    zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
                for info in source.infolist():
                    data = source.read(info.filename)
                    if info.filename not in parts:
                        target.writestr(info.filename, data)
                        continue
                    table, spool = parts[info.filename]
                    self._splice(target, info.filename, data.decode(), table, spool)
        finally:
            for _table, _sheet, spool in self.tables:
                spool.close()
        for where in self.cells.cut:
            self.warn(_("{where}: longer than a spreadsheet cell holds ({n} characters); the "
                        "workbook shows its beginning, `fujian show` and export csv all of "
                        "it.").format(where=where.strip(), n=f"{MAX_CELL:,}"))

    @staticmethod
    def _splice(target: zipfile.ZipFile, name: str, xml: str, table: Table, spool) -> None:
        match = re.search(r"<sheetData\s*/>|<sheetData>.*?</sheetData>", xml, re.S)
        if match is None:  # openpyxl always writes one; refuse to guess otherwise
            raise RuntimeError(f"no sheetData in {name}")
        head, tail = xml[:match.start()], xml[match.end():]
        last = _col_letter(max(len(table.columns), 1) - 1)
        head = re.sub(r'<dimension ref="[^"]*"\s*/>',
                      f'<dimension ref="A1:{last}{max(table.last_row, 1)}"/>', head, count=1)
        with target.open(name, "w", force_zip64=True) as fh:
            fh.write(head.encode())
            fh.write(b"<sheetData>")
            spool.seek(0)
            shutil.copyfileobj(spool, fh, 1 << 20)
            fh.write(b"</sheetData>")
            fh.write(tail.encode())


def save_book(book: Book, path: Path, force: bool, database) -> None:
    """The workbook at ``path``, under :func:`transfer.open_output`'s rules (0600, never the
    database, never an existing file without ``force``, whole or not at all)."""
    with open_output(path, force, database, None) as out:
        book.save(out)


# ---------------------------------------------------------------------------------------------
# The pack


def _summary_sheet_rows(summary: list[dict]) -> tuple[list[dict], int]:
    """Units worst first (lowest on-time rate, then most failures: overdue, unmet or late;
    units with nothing judged last), then kinds, then the total; and how many units have a
    rate (the chart's rows)."""
    units = [r for r in summary if r["group"] == "unit"]
    rated = sorted((r for r in units if r["rate"] is not None),
                   key=lambda r: (r["rate"], -(r["overdue"] + r["unmet"] + r["late"]), r["key"]))
    unrated = [r for r in units if r["rate"] is None]
    others = [r for r in summary if r["group"] != "unit"]
    return rated + unrated + others, len(rated)


def _write_pack_workbook(data: PackData, path: Path, *, within: int = 7, labels: bool = True,
                         force: bool = False,
                         warn: Callable[[str], None] | None = None) -> list[Path]:
    """The joint meeting's pack as one workbook: an overview (counts per kind, the summary per
    unit worst first and its chart), overdue items grouped by holder, due soon, the open items
    of each kind with every column of export csv (what import xlsx reads back), the meeting's
    action items and minutes, and the unit directory. The target was checked
    (pack.check_pack_target)."""
    book = Book(data.as_of, warn)
    # The open items are written first: the overview counts them.
    open_tables = [(table, book.spool(table)) for table in _open_tables(data, labels)]
    overdue = [row for group in group_by_holder(data.overdue()) for row in group]
    soon = list(data.due_soon(within))
    summary, rated = _summary_sheet_rows(data.summary())
    overview = _overview_table(data.as_of, within, labels, [t for t, _s in open_tables],
                               overdue, soon, summary)
    sheet = book.add(overview)
    if rated:
        book.charts.append(_chart_maker(sheet, overview, rated))
    book.add(_overdue_table(data.as_of, overdue, labels))
    book.add(_due_soon_table(data.as_of, within, soon, labels))
    for table, spool in open_tables:
        book.add(table, spool)
    if data.meeting is not None:
        book.add(_meeting_table(data, labels))
    book.add(Table("units", _(SHEET_NAMES["units"]), PACK_UNIT_COLUMNS, data.units, labels))
    save_book(book, path, force, data.database)
    return [path]


def _late(row: dict) -> bool:
    """A row drawn red: overdue, as the query judged it (models.days_overdue)."""
    return (row.get("days_overdue") or 0) > 0


def _open_tables(data: PackData, labels: bool) -> list[Table]:
    """One sheet of open items per kind, with every column of export csv."""
    return [Table(kind.code, _(kind.sheet_name or kind.label), export_columns(kind),
                  data.items(Filters(kinds=(kind,), status="open", sort="due")), labels,
                  red=_late, unit_names=data.unit_names)
            for kind in KINDS.values()]


def _overdue_table(as_of: date, overdue: list[dict], labels: bool) -> Table:
    """Overdue items grouped by holder, the holder's name and code first."""
    overdue_columns = (OVERDUE_COLUMNS[4], OVERDUE_COLUMNS[3],
                       *(c for c in OVERDUE_COLUMNS if c.key not in ("unit", "unit_name")))
    caption = _("Overdue as of {day}: {n} items; units concerned: {units}.").format(
        day=as_of.isoformat(), n=len(overdue), units=len({r["unit"] for r in overdue}))
    return Table("overdue", _(SHEET_NAMES["overdue"]), overdue_columns, overdue, labels,
                 caption=[[(caption, "caption")]], red=_late)


def _due_soon_table(as_of: date, within: int, soon: list[dict], labels: bool) -> Table:
    """Items due from the pack's day through ``within`` days later."""
    caption = _("Due from {start} to {end}: {n} items.").format(
        start=as_of.isoformat(), end=(as_of + timedelta(days=within)).isoformat(), n=len(soon))
    return Table("due-soon", _(SHEET_NAMES["due-soon"]), DUE_SOON_COLUMNS, soon, labels,
                 caption=[[(caption, "caption")]])


def check_target(path: Path, force: bool) -> None:
    """Refuse a target early, before a long piece of work; :func:`transfer.open_output` checks
    again (the database itself among others) when the file is made."""
    check_output_target(path, force)


def _overview_table(as_of: date, within: int, labels: bool, open_tables: list[Table],
                    overdue: list[dict], soon: list[dict], summary: list[dict]) -> Table:
    kinds = list(KINDS.values())
    open_counts = [t.count for t in open_tables]
    late_counts = [sum(1 for r in overdue if r["kind"] == k.code) for k in kinds]
    soon_counts = [sum(1 for r in soon if r["kind"] == k.code) for k in kinds]
    total = _("Total")
    caption: list[list[Any]] = [
        [(_("Joint meeting pack"), "caption")],
        [(_("As of"), "bold"), as_of],
        [],
        [(_("Kind"), "header"), *((k.label if labels else k.code, "header") for k in kinds),
         (total, "header")],
        *([(label, "header"), *((n, "cell") for n in counts), (sum(counts), "cell")]
          for label, counts in ((_("Open"), open_counts), (_("Overdue"), late_counts),
                                (_("Due within {n} days").format(n=within), soon_counts))),
        [],
    ]
    return Table("overview", _(SHEET_NAMES["overview"]), SUMMARY_COLUMNS, summary, labels,
                 caption=caption)


def _chart_maker(sheet, table: Table, rated: int) -> Callable[[], None]:
    """A bar per unit with a rate, worst at the top, drawn from the summary's own cells."""

    def make() -> None:
        from openpyxl.chart import BarChart, Reference

        keys = [c.key for c in table.columns]
        rate_col, name_col = keys.index("rate") + 1, keys.index("name") + 1
        first = table.header_row + 1
        chart = BarChart()
        chart.type = "bar"
        chart.style = 10
        chart.title = _("On-time rate by unit, worst first")
        chart.legend = None
        chart.add_data(Reference(sheet, min_col=rate_col, min_row=table.header_row,
                                 max_row=first + rated - 1), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=name_col, min_row=first,
                                       max_row=first + rated - 1))
        chart.x_axis.scaling.orientation = "maxMin"  # the first (worst) unit on top
        chart.y_axis.scaling.min = 0
        chart.y_axis.scaling.max = 1
        chart.y_axis.number_format = "0%"
        chart.y_axis.majorGridlines = None
        # openpyxl 3.1 marks axes deleted unless told: Excel would draw no labels.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        chart.width = 18
        chart.height = max(6.0, 0.55 * rated + 2.5)
        sheet.add_chart(chart, f"A{table.last_row + 3}")

    return make


def _minutes_lines(text: str, width: int) -> list[str]:
    """The minutes as rows of at most ``width`` columns, so that they print within the
    table's width."""
    lines: list[str] = []
    for line in text.splitlines() or [""]:
        current, used = "", 0
        for char in line:
            w = 2 if len(char.encode()) > 2 else 1
            if used + w > width and current:
                lines.append(current)
                current, used = "", 0
            current += char
            used += w
        lines.append(current)
    return lines


def _meeting_table(data: PackData, labels: bool) -> Table:
    """The meeting asked for: its particulars, its action items and its minutes."""
    meeting, names = data.meeting, data.unit_names
    action = KINDS["action"]
    rows = list(data.meeting_actions())
    attendees = [names.get(code.strip(), code.strip())
                 for code in (meeting.get("attendees") or "").split(",") if code.strip()]
    kind_label = label_of("type", "meeting", None, meeting["type"]) if meeting.get("type") \
        else ""
    caption = [
        [(f"{meeting['id']} {meeting['title']}", "caption")],
        [(_("Held on"), "bold"), meeting.get("opened_on")],
        [(_("Type"), "bold"), kind_label if labels else meeting.get("type")],
        [(_("Attending units"), "bold"), "、".join(attendees)],
        [],
    ]
    columns = columns_for(action)
    after: list[list[Any]] = []
    minutes = meeting.get("minutes")
    if minutes:
        after = [[], [(_("Minutes"), "bold")]]
        after += [[line] for line in _minutes_lines(minutes, 80)]
    return Table("meeting", _("Meeting {id}").format(id=meeting["id"]), columns, rows, labels,
                 caption=caption, after=after, red=_late, unit_names=names)


# ---------------------------------------------------------------------------------------------
# Reminder notices


@dataclass
class Reminder:
    code: str
    name: str
    liaison: str | None
    phone: str | None
    rows: list[dict]

    @property
    def overdue(self) -> int:
        return sum(1 for r in self.rows if r["days_overdue"])

    @property
    def rights(self) -> int:
        """Rights still running: listed so the unit knows the window, never owed."""
        return sum(1 for r in self.rows if r["right"])


def reminders(conn, as_of: date, within: int, holder_ids: Collection[int] = ()) -> list[Reminder]:
    """Each unit holding a duty that is open at ``as_of`` and overdue or due within ``within``
    days (``holder_ids``: those units only), with those duties: what is owed (``duty``, its
    code), since when, by when. A paused item's clocks stand still: nothing of it is chased. A
    right (可以) still running is listed, marked ``right`` (the notice says "may … until D"); a
    lapsed one never is. Rows carry ``local`` and ``provisional`` as the due date's cell shows
    them."""
    by_unit: dict[int, list[dict]] = {}
    for r in conn.execute(_reminder_statement(as_of, within, holder_ids)):
        by_unit.setdefault(r.holder_id, []).append(_reminder_row(r, as_of))
    units_info = {u.id: u for u in conn.execute(
        select(Unit.id, Unit.code, Unit.name, Unit.liaison, Unit.phone))}
    out = []
    for holder_id, rows in by_unit.items():
        u = units_info[holder_id]
        out.append(Reminder(u.code, u.name, u.liaison, u.phone, rows))
    out.sort(key=lambda rem: rem.name)
    return out


def _reminder_statement(as_of: date, within: int, holder_ids: Collection[int]):
    """SQL: the duties to chase at ``as_of``, by holder, soonest due first."""
    d, t = Duty.__table__, Item.__table__
    end = as_of + timedelta(days=within)
    conditions = [
        d.c.due_on.is_not(None), d.c.due_on <= end, d.c.started_on <= as_of,
        or_(d.c.ended_on.is_(None), d.c.ended_on > as_of),
        t.c.opened_on <= as_of, t.c.voided_at.is_(None),  # an entry made in error: no one owes it
        clocks_running(t.c.paused_on, as_of),
        # A right is never chased once its window has passed: it has lapsed.
        or_(d.c.is_right == false(), d.c.due_on >= as_of),
    ]
    if holder_ids:
        conditions.append(d.c.holder_id.in_(sorted(holder_ids)))
    return (select(d.c.holder_id, d.c.name, d.c.stage, d.c.started_on, d.c.due_on, d.c.id,
                   d.c.is_right, d.c.local, d.c.provisional,
                   t.c.kind, t.c.number, t.c.title, t.c.doc_no, t.c.subtype)
            .select_from(d).join(t, t.c.id == d.c.item_id).where(and_(*conditions))
            .order_by(d.c.holder_id, d.c.due_on, t.c.kind, t.c.number, d.c.id))


def _reminder_row(r, as_of: date) -> dict:
    """One duty of a reminder notice, as its sheet reads it."""
    kind = KINDS[r.kind]
    row = {"id": format_id(kind, r.number), "kind": r.kind, "title": r.title,
           "doc_no": r.doc_no, "stage": r.stage,
           "duty": r.name, "right": bool(r.is_right), "local": bool(r.local),
           "provisional": bool(r.provisional),
           "started_on": r.started_on, "due_on": r.due_on,
           # Read after the query kept only open duties of running clocks.
           "days_overdue": days_overdue(as_of, is_open=True, is_right=r.is_right,
                                        due_on=r.due_on, paused_on=None) or None,
           "days_left": (r.due_on - as_of).days if r.due_on >= as_of else None}
    if kind.subtype_key:
        row[kind.subtype_key] = r.subtype
    return row


# A notice's file name must open on Windows as well as here: none of these characters, no
# reserved device name (CON.xlsx, com1.anything), no trailing dot or space; and no control,
# bidi or zero-width character (U+202E would show "xslx.exe" as "exe.xlsx").
_UNSAFE_FILE_CHARS = re.compile(r'[\\/:*?"<>|]')
_WINDOWS_RESERVED = re.compile(r"(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$)",
                               re.IGNORECASE)
MAX_FILE_NAME = 100  # characters of a notice's file name, ".xlsx" included
MAX_FILE_BYTES = 240  # its UTF-8 bytes: most file systems take 255


def _file_text(text: str) -> str:
    """``text`` with what a file name must not hold replaced by "_" (other spaces by " "),
    without leading or trailing dots and spaces."""
    out = []
    for c in unicodedata.normalize("NFC", text):
        category = unicodedata.category(c)
        if category[0] == "C" or category in ("Zl", "Zp") or _UNSAFE_FILE_CHARS.match(c):
            out.append("_")
        elif category == "Zs":
            out.append(" ")
        else:
            out.append(c)
    return "".join(out).strip(" .")


def _fit(stem: str, suffix: str) -> str:
    """``stem + suffix + ".xlsx"``, the stem cut to the limits and never a reserved name."""
    def cut(text: str) -> str:
        room = MAX_FILE_NAME - len(suffix) - len(".xlsx")
        text = text[:room]
        while len(f"{text}{suffix}.xlsx".encode()) > MAX_FILE_BYTES:
            text = text[:-1]
        return text.rstrip(" .") or "_"

    stem = cut(stem)
    if _WINDOWS_RESERVED.fullmatch(stem.split(".")[0].rstrip(" ")):
        stem = cut("_" + stem)
    return f"{stem}{suffix}.xlsx"


def _file_key(file: str) -> str:
    """Two file names one folder cannot tell apart (case, and forms some file systems fold)."""
    return unicodedata.normalize("NFKC", file).casefold()


def reminder_file_name(name: str, code: str, taken: set[str]) -> str:
    """The unit's Chinese name as a file name Windows accepts too (see _file_text, _fit); its
    code added when the name is taken already (in ``taken``, case folded), then a number,
    until it is free. The name chosen is added to ``taken``."""
    code = _file_text(code) or "unit"
    stem = _file_text(name) or code
    suffixes = itertools.chain(["", f"-{code}"], (f"-{code}-{n}" for n in itertools.count(2)))
    for suffix in suffixes:  # pragma: no branch - ends: the numbers never run out
        file = _fit(stem, suffix)
        if _file_key(file) not in taken:
            taken.add(_file_key(file))
            return file
    raise AssertionError("unreachable")  # pragma: no cover


def check_reminder_folder(folder: Path, force: bool) -> None:
    """Refuse a reminders target before any work: a link (unless ``force``), a file, or a
    folder with files in it."""
    refuse_link(folder, force)
    if folder.exists() and not folder.is_dir():
        raise BadInput(_("{path} is a file: give a folder for the reminders.").format(
            path=folder))
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise BadInput(_("{path} is not empty: add --force to write into it.").format(
            path=folder))


def _write_reminders(found: list[Reminder], folder: Path, as_of: date, database, *,
                     within: int = 7, labels: bool = True, force: bool = False) -> list[Path]:
    """One reminder notice (催办通知) workbook per unit in ``found`` (see :func:`reminders`);
    the folder was checked (:func:`check_reminder_folder`). Every file name is chosen and
    checked before any notice is written, so none overwrites another and a refusal leaves
    nothing behind; a failure half way removes the notices this run had made."""
    if not found:
        return []
    taken: set[str] = set()
    paths = [folder / reminder_file_name(rem.name, rem.code, taken) for rem in found]
    if folder.is_dir():
        for path in paths:
            refuse_database(path, database)
            check_output_target(path, force)
    with folder_of_files(folder) as made:
        for rem, path in zip(found, paths, strict=True):
            book = Book(as_of)
            book.add(Table("reminder", _(SHEET_NAMES["reminder"]), REMINDER_COLUMNS, rem.rows,
                           labels, caption=_reminder_caption(rem, as_of, within),
                           red=lambda row: bool(row["days_overdue"])))
            new = not os.path.lexists(path)
            save_book(book, path, force, database)
            if new:
                made.append(path)
    return paths


def _reminder_caption(rem: Reminder, as_of: date, within: int) -> list[list[Any]]:
    """The notice's head: the unit, its liaison, the day, and what is overdue and due soon."""
    end = as_of + timedelta(days=within)
    overdue, rights = rem.overdue, rem.rights
    caption: list[list[Any]] = [
        [(_("Reminder notice"), "caption")],
        [(_("Unit"), "bold"), rem.name],
        [(_("Liaison"), "bold"), rem.liaison or ""],
        [(_("Phone"), "bold"), rem.phone or ""],
        [(_("As of"), "bold"), as_of],
        [(_("{overdue} overdue; {soon} due by {end}.").format(
            overdue=overdue, soon=len(rem.rows) - overdue - rights, end=end.isoformat()),
          "bold")],
        [],
    ]
    if rights:  # a right (可以) is no duty: the notice must not read as if it were owed
        caption[-1:-1] = [[(_("{n} right(s) the unit may exercise until the date shown: "
                              "not owed, never late.").format(n=rights), "bold")]]
    return caption


# ---------------------------------------------------------------------------------------------
# Reading item sheets back (import xlsx)


ROW_STRIDE = 10_000_000  # line numbers given to import: sheet index × stride + row
# What a workbook may hold, checked before its cells are read. An .xlsx is a zip: 205 KB on
# disk unpacks to a 200 MB cell, and openpyxl's load_workbook reads the shared strings part
# whole (19.7 s, 1.70 GB), so the parts' sizes are added up from the zip's directory first
# (zipfile never yields more than a part declares). 128 MiB is over 100,000 rows of 21 text
# columns (a row of a pack's referral sheet unpacks to about 1 KB); a workbook has a dozen
# parts, one per sheet, chart or image besides, so 10,000 is no workbook a person made.
MAX_UNPACKED = 128 * 2**20  # bytes all the parts unpack to
MAX_PARTS = 10_000  # files in the zip
MAX_COLUMNS = 16_384  # a spreadsheet's last column, XFD (rows: MAX_ROWS, 1,048,576)
# XML elements in one row below the row itself: a cell is a few (c, v or f, is and t, rich
# text runs), so 8 a column is more than any spreadsheet writes and bounds a row's memory
# (a row of 33 million empty elements fits in 128 MiB).
MAX_ROW_ELEMENTS = 8 * MAX_COLUMNS


@dataclass
class SheetImport:
    counts: dict[str, int]  # kind → items
    read: list[str]  # sheets imported
    skipped: list[str]  # sheets without an item header


@dataclass
class ItemSheets:
    """The item sheets of a workbook, ready for :func:`transfer.import_items`: rows as
    (line, {column key: text}), where a line encodes the sheet and the row (see :meth:`place`)."""

    names: list[str]  # every sheet, in the workbook's order
    read: list[str]  # the sheets whose rows are imported
    skipped: list[str]
    ids: bool  # whether any sheet read has an id column (see transfer.import_items)
    _rows: Callable[[], Iterator[tuple[int, dict[str, str]]]]
    _close: Callable[[], None]

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        return self._rows()

    def place(self, line: int) -> str:
        return _("sheet {sheet} row {row}").format(sheet=self.names[line // ROW_STRIDE],
                                                   row=line % ROW_STRIDE)

    def close(self) -> None:
        self._close()


def _import_headers() -> dict[str, str]:
    """Header text → column key: what import csv accepts (codes, Chinese labels), and the
    English headers a workbook written with FUJIAN_LANG=en has."""
    mapping = header_map()
    for column in (*all_kind_columns(), Column("unit_name", "责任单位")):
        mapping.setdefault(english_title(column), column.key)
    return mapping


def _cell_text(value: Any, kind: str) -> tuple[str, str | None]:
    """A cell's value (of openpyxl's type ``kind``) as import reads text; a problem (a
    formula, an error value) instead of guessing what it meant."""
    if value is None:
        return "", None
    if kind == "f":
        return "", "formula"
    if kind == "e":
        return "", "error"
    if isinstance(value, str):
        return spreadsheet_unescape(value), None
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat(), None
        return value.isoformat(sep=" "), None
    if isinstance(value, date | time):
        return value.isoformat(), None
    if isinstance(value, float) and value.is_integer():
        return str(int(value)), None
    return str(value), None


def read_item_sheets(path: Path, sheet: str | None = None) -> ItemSheets:
    """Open an .xlsx and find its item sheets: ``sheet`` alone when named, else every sheet
    whose first row is a header with a title column (标题, title or Title). Header problems are
    refused here, before anything is written; rows are read as they are imported."""
    handle, workbook = _open_workbook(path)

    def close() -> None:
        workbook.close()
        handle.close()

    try:
        names = list(workbook.sheetnames)
        chosen, skipped = _item_sheets(workbook, names, path, sheet)
    except BaseException:
        close()
        raise

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for index, name, keys in chosen:
            for r, texts, problem in _sheet_rows(workbook[name], name, keys):
                line = index * ROW_STRIDE + r
                yield (line, {"__error__": problem}) if problem else (line, texts)

    return ItemSheets(names, [n for _i, n, _k in chosen], skipped,
                      any("id" in keys for _i, _n, keys in chosen), rows, close)


def _sheet_rows(ws, name: str, keys: list[str | None]) -> Iterator[tuple[int, dict, str | None]]:
    """(row number, texts by column key, first problem) of each data row of one sheet (the
    rows after row 1, the header), empty rows left out."""
    for r, cells in _sheet_cells(ws, name):
        if r == 1:
            continue
        texts, problem = _row_texts(cells, keys)
        if texts is not None:  # None: an empty row
            yield r, texts, problem


def _sheet_cells(ws, name: str) -> Iterator[tuple[int, dict[int, dict]]]:
    """(row number, {column number: cell}) of each row of a sheet as its XML has it, a cell
    being openpyxl's parse of it ({"value", "data_type", …}).

    openpyxl's worksheets (ReadOnlyWorksheet.iter_rows) pad: a row is a tuple as wide as the
    last column (a cell in XFD makes 16,384 cells a row), and a row numbered 2,000,000,000 is
    reached by walking the empty rows before it, while a row numbered 0 or out of order is
    dropped without a word. So rows are read here with openpyxl's own sheet parser
    (worksheet._reader.WorkSheetParser, private: what ReadOnlyWorksheet._cells_by_row uses in
    openpyxl 3.1): its parse_row and parse_cell read the cells (types, shared strings, dates,
    formulas) exactly as iter_rows would, and the row and column numbers stay data, checked
    here: a row numbered below 1, past a spreadsheet's last row, not after the row before it,
    a row of more cells than a spreadsheet has columns, a cell past column XFD and a text
    longer than a cell holds are refused naming the sheet and the row, as soon as read. The
    XML walk is this function's (parser.parse would build a row of any size before returning
    it): a row's elements are counted as they come, what is not a row is let go as soon as it
    ends, and the walk stops where the sheet's data ends. What openpyxl cannot parse (a number
    cell holding text, a date that is no date, a string index out of range, a row numbered
    "abc") is refused by :func:`_parsed`."""
    from openpyxl.worksheet._reader import DATA_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    book = ws.parent
    with book._archive.open(ws._worksheet_path) as source:
        parser = WorkSheetParser(source, ws._shared_strings, data_only=book.data_only,
                                 epoch=book.epoch, date_formats=book._date_formats,
                                 timedelta_formats=book._timedelta_formats)
        depth, last, inside = 0, 0, 0
        parents: list[Any] = []  # the sheet's root element and the open one under it
        try:
            for event, element in iterparse(source, events=("start", "end")):
                if event == "start":
                    depth += 1
                    if depth > 3:  # within a row (or another part of the sheet)
                        inside += 1
                        if inside > MAX_ROW_ELEMENTS:
                            raise _unreadable(name, last)
                    elif depth == 3:
                        inside = 0
                    else:
                        parents.append(element)
                    continue
                depth -= 1
                if depth == 2:  # a row ended, or another element of the sheet's parts
                    if element.tag == ROW_TAG and parents[-1].tag == DATA_TAG:
                        r, cells = _parsed(lambda el=element: parser.parse_row(el), name, last)
                        _check_row_number(name, r, last)
                        last = r
                        parser.row_dimensions.clear()  # row heights: not read, not kept
                        yield r, _cells_by_column(name, r, cells)
                    parents[-1].clear()
                elif depth == 1:
                    if element.tag == DATA_TAG:
                        return  # the rows are read: what follows is print setup and the like
                    parents.pop()
                    parents[0].clear()
        except BadInput:
            raise
        except Exception:  # noqa: BLE001 - XML that does not parse: a damaged sheet
            raise _unreadable(name, last) from None


def _unreadable(sheet: str, row: int) -> BadInput:
    return BadInput(_("sheet {sheet}: the row after row {row} cannot be read: the file is "
                      "damaged or was not saved by a spreadsheet program.").format(
        sheet=sheet, row=row))


def _check_row_number(sheet: str, r: int, last: int) -> None:
    """Refuses a row number no spreadsheet program writes: each row's is greater than the one
    before it (a row number is data: never padded to, nor walked to)."""
    if r < 1 or r > MAX_ROWS:
        raise BadInput(_("sheet {sheet}: row {row} is outside rows 1 to {last}: the file was "
                         "not saved by a spreadsheet program.").format(
            sheet=sheet, row=r, last=f"{MAX_ROWS:,}"))
    if r <= last:
        raise BadInput(_("sheet {sheet}: row {row} comes after row {before}; rows are in order, "
                         "each once: the file was not saved by a spreadsheet program.").format(
            sheet=sheet, row=r, before=last))


def _cells_by_column(sheet: str, r: int, cells: list[dict]) -> dict[int, dict]:
    """A row's cells by column number (when a column is given twice, the last cell, as
    openpyxl reads it); refuses a cell past column XFD and a text longer than a cell holds."""
    if len(cells) > MAX_COLUMNS:
        raise BadInput(_("sheet {sheet} row {row}: {n} cells; a spreadsheet has {most} "
                         "columns.").format(sheet=sheet, row=r, n=f"{len(cells):,}",
                                            most=f"{MAX_COLUMNS:,}"))
    by_column: dict[int, dict] = {}
    for cell in cells:
        column = cell["column"]
        if column > MAX_COLUMNS:
            raise BadInput(_("sheet {sheet} row {row}: a cell in column {column}, past {last}, "
                             "a spreadsheet's last column.").format(
                sheet=sheet, row=r, column=_col_letter(column - 1),
                last=_col_letter(MAX_COLUMNS - 1)))
        value = cell["value"]
        if (value.__class__ is str and len(value) > MAX_CELL
                and len(spreadsheet_unescape(value)) > MAX_CELL):
            raise BadInput(_("sheet {sheet} row {row} column {column}: a text of {n} characters; "
                             "a cell holds at most {most}.").format(
                sheet=sheet, row=r, column=_col_letter(column - 1),
                n=f"{len(spreadsheet_unescape(value)):,}", most=f"{MAX_CELL:,}"))
        by_column[column] = cell
    return by_column


def _open_workbook(path: Path):
    """The open file and openpyxl's read-only workbook; refuses what is not an .xlsx, and a
    package larger than an import reads (checked from the zip's directory, before any part
    is unpacked)."""
    from openpyxl import load_workbook  # deferred: openpyxl is for the workbook commands

    try:
        handle = path.open("rb")
    except OSError as exc:
        raise BadInput(_("Cannot read {path}: {reason}.").format(
            path=path, reason=os_reason(exc))) from exc
    try:
        _check_package(handle, path)
        handle.seek(0)
        workbook = load_workbook(handle, read_only=True, data_only=False, keep_links=False)
    except BadInput:
        handle.close()
        raise
    except Exception:  # noqa: BLE001 - whatever fails to parse is not a workbook we read
        handle.close()
        raise BadInput(_("{path} is not an Excel workbook (.xlsx); an older .xls must be saved "
                         "as .xlsx first.").format(path=path)) from None
    return handle, workbook


def _check_package(handle: IO[bytes], path: Path) -> None:
    """Refuses a workbook of more than :data:`MAX_PARTS` parts, or whose parts unpack to more
    than :data:`MAX_UNPACKED` bytes, as its zip directory declares them. The count is read
    from the directory's end record first: ZipFile makes an object of every entry it lists
    (a 92 MB file of a million empty parts: 630 MB), so it only opens a package of few."""
    try:  # private, and in zipfile since Python 2: the end record, zip64 included
        end = zipfile._EndRecData(handle)
    except (AttributeError, OSError):
        end = None
    declared = end[zipfile._ECD_ENTRIES_TOTAL] if end else 0
    handle.seek(0)
    parts = []
    if declared <= MAX_PARTS:
        with zipfile.ZipFile(handle) as package:
            parts = package.infolist()
    if max(declared, len(parts)) > MAX_PARTS:
        raise BadInput(_("{path} holds {n} parts; a workbook import reads at most {most}: the "
                         "file was not saved by a spreadsheet program.").format(
            path=path, n=f"{max(declared, len(parts)):,}", most=f"{MAX_PARTS:,}"))
    size = sum(part.file_size for part in parts)
    if size > MAX_UNPACKED:
        raise BadInput(_("{path} unpacks to {size} MiB; a workbook import reads at most {most} "
                         "MiB: split it into smaller workbooks.").format(
            path=path, size=f"{size / 2**20:,.0f}", most=MAX_UNPACKED // 2**20))


def _item_sheets(workbook, names: list[str], path: Path, sheet: str | None,
                 ) -> tuple[list[tuple[int, str, list[str | None]]], list[str]]:
    """The sheets to import, as (index, name, column keys), and the sheets skipped (no item
    header); refuses a sheet named but absent, and a header import cannot read."""
    if sheet is not None and sheet not in names:
        raise BadInput(_("No sheet {name!r} in {path}. Sheets: {names}.").format(
            name=sheet, path=path, names=", ".join(names)))
    mapping = _import_headers()
    chosen: list[tuple[int, str, list[str | None]]] = []
    skipped: list[str] = []
    for index, name in enumerate(names):
        if sheet is not None and name != sheet:
            continue
        header, keys = _sheet_header(workbook[name], name, mapping)
        if sheet is None and "title" not in keys:
            skipped.append(name)
            continue
        unknown = [h for h, k in zip(header, keys, strict=True) if h and k is None]
        if unknown:
            raise BadInput(_("sheet {sheet}: {reason}").format(sheet=name, reason=_(
                "Unknown column(s): {names}.").format(names=listing(unknown))))
        twice = columns_twice(header, keys)
        if twice:
            raise BadInput(_("sheet {sheet}: {reason}").format(sheet=name, reason=twice))
        if "title" not in keys:
            raise BadInput(_("sheet {sheet}: {reason}").format(sheet=name, reason=_(
                "The file needs a title column (标题 or title).")))
        chosen.append((index, name, keys))
    if not chosen:
        raise BadInput(_("No sheet of {path} starts with an item header (a title column: "
                         "标题, title or Title). Sheets: {names}.").format(
            path=path, names=", ".join(names)))
    return chosen, skipped


def _parsed(read: Callable[[], Any], sheet: str, row: int) -> Any:
    """``read()``, one step of openpyxl's parse of a sheet: what it cannot parse (a crafted or
    damaged file) is refused naming the sheet and the last row read, never an internal error;
    its warnings (a date serial out of range becomes an error cell, reported as such) are not
    printed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return read()
    except Exception:  # noqa: BLE001 - what fails to parse is a damaged sheet
        raise _unreadable(sheet, row) from None


def _sheet_header(ws, name: str, mapping: dict[str, str]) -> tuple[list[str], list[str | None]]:
    """A sheet's first row as header texts, and the column key each names (None: unknown);
    no header when the sheet's first row is not row 1."""
    rows = _sheet_cells(ws, name)
    try:
        r, cells = next(rows, (0, {}))
    finally:
        rows.close()
    values = [cells[c]["value"] if c in cells else None
              for c in range(1, max(cells, default=0) + 1)] if r == 1 else []
    header = [str(v).strip() if v is not None else "" for v in values]
    return header, [mapping.get(h) if h else None for h in header]


def _row_texts(cells: dict[int, dict], keys: list[str | None],
               ) -> tuple[dict[str, str] | None, str | None]:
    """A row's texts by column key and its first problem; (None, None) for an empty row."""
    texts: dict[str, str] = {}
    problem = None
    empty = True
    for column in sorted(cells):  # a spreadsheet writes them in order: sorted costs nothing
        cell = cells[column]
        text, trouble = _cell_text(cell["value"], cell["data_type"])
        if trouble is None and text == "":
            continue
        empty = False
        i = column - 1
        if i >= len(keys) or keys[i] is None:
            problem = problem or _("more cells than columns")
        elif trouble == "formula":
            problem = problem or _("column {column} holds a formula: type its "
                                   "value instead").format(column=_col_letter(i))
        elif trouble == "error":
            problem = problem or _("column {column} holds an error value "
                                   "({value})").format(column=_col_letter(i), value=cell["value"])
        else:
            texts[keys[i]] = text
    return (None, None) if empty else (texts, problem)


def write_pack_workbook(*args, **kwargs):
    """A document for the joint meeting or a unit: Chinese unless ``FUJIAN_LANG=en`` asks
    for English — a cron machine whose locale is C must not send the office English sheets."""
    with document_language():
        return _write_pack_workbook(*args, **kwargs)


def write_reminders(*args, **kwargs):
    """A document for the joint meeting or a unit: Chinese unless ``FUJIAN_LANG=en`` asks
    for English — a cron machine whose locale is C must not send the office English sheets."""
    with document_language():
        return _write_reminders(*args, **kwargs)


