"""Issue 21, cases 2 and 7: crafted workbooks, written here part by part (zipfile and raw XML),
whose row and column numbers, sizes and cell lengths a spreadsheet program never writes. Row and
column numbers are data, never an allocation or a walk: a row numbered 0, 2,000,000,000, out
of order or twice, a cell past column XFD are refused in one line naming the sheet and the row;
a workbook that unpacks to more than an import reads, or has more parts than a workbook has, is
refused before it is read; a text longer than a cell holds is refused naming its cell."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import query_rows

from fujian.service.workbook import MAX_PARTS, MAX_UNPACKED, read_item_sheets

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEADER = ["kind", "opened_on", "direction", "from_unit", "unit", "title"]
REFERRAL = ["referral", "2025-03-01", "to-criminal", "scjgj", "gaj", "甲案"]


def _letters(column: int) -> str:
    """1 → A, 16,384 → XFD."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def row(number: int | str, values: Iterable[str], first: int = 1, refs: bool = True) -> str:
    """A ``<row>`` of inline-string cells from column ``first`` on."""
    cells = []
    for column, value in enumerate(values, start=first):
        ref = f' r="{_letters(column)}{number}"' if refs else ""
        cells.append(f'<c{ref} t="inlineStr"><is><t>{value}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'


def package(path: Path, rows: Iterable[str], shared: Iterable[str] = (),
            extra: dict[str, bytes] | None = None) -> Path:
    """A one-sheet workbook (Sheet1) whose sheet data is ``rows`` and whose shared strings part
    is ``shared`` (XML text, written as it comes: a huge part costs no memory here)."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="{RELS[:-len("relationships")]}'
            'relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{TYPES}.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            f'ContentType="{TYPES}.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" '
            f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{RELS}">'
            f'<Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{DOC}/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>'),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            book.writestr(name, text)
        _stream(book, "xl/worksheets/sheet1.xml",
                [f'<worksheet xmlns="{MAIN}"><sheetData>', *rows, "</sheetData></worksheet>"])
        _stream(book, "xl/sharedStrings.xml", [f'<sst xmlns="{MAIN}">', *shared, "</sst>"])
        for name, data in (extra or {}).items():
            book.writestr(name, data)
    return path


def _stream(book: zipfile.ZipFile, name: str, pieces: Iterable[str]) -> None:
    with book.open(name, "w", force_zip64=True) as part:
        for piece in pieces:
            part.write(piece.encode())


def _items(location) -> int:
    return query_rows(location, "SELECT count(*) AS n FROM item")[0]["n"]


def _one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    return lines[0]


def test_the_package_written_here_imports(cli, initialised, tmp_path):
    """The crafted files below differ from this one in one thing each."""
    path = package(tmp_path / "ok.xlsx", [row(1, HEADER), row(2, REFERRAL),
                                          row(5, [*REFERRAL[:5], "乙案"], refs=False)])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 0, result.output
    assert _items(initialised) == 2


# -- row numbers ---------------------------------------------------------------------------------

ROW_NUMBERS = {
    "a data row numbered 0": ([row(1, HEADER), row(0, REFERRAL)], "row 0"),
    "a header row numbered 0": ([row(0, HEADER), row(1, REFERRAL)], "row 0"),
    "a row numbered -5 after the header": ([row(1, HEADER), row(-5, REFERRAL, refs=False)],
                                            "row -5"),
    "a row numbered 2,000,000,000": ([row(1, HEADER), row(2_000_000_000, REFERRAL)],
                                     "row 2000000000"),
    "a row just past a spreadsheet's last": ([row(1, HEADER), row(1_048_577, REFERRAL)],
                                             "row 1048577"),
    "rows out of order": ([row(1, HEADER), row(3, REFERRAL), row(2, REFERRAL)], "row 2"),
    "a row number twice": ([row(1, HEADER), row(2, REFERRAL), row(2, REFERRAL)], "row 2"),
}


@pytest.mark.parametrize("case", list(ROW_NUMBERS))
def test_a_row_number_no_spreadsheet_writes_is_refused(cli, initialised, tmp_path, case):
    rows, named = ROW_NUMBERS[case]
    path = package(tmp_path / "rows.xlsx", rows)
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "Sheet1" in line and named in line.replace(",", "")
    assert _items(initialised) == 0


def test_the_last_row_of_a_spreadsheet_is_read(cli, initialised, tmp_path):
    path = package(tmp_path / "last.xlsx", [row(1, HEADER), row(1_048_576, REFERRAL)])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 0, result.output
    assert _items(initialised) == 1


# -- columns -------------------------------------------------------------------------------------

def test_a_cell_past_column_xfd_is_refused_naming_the_sheet_and_row(cli, initialised, tmp_path):
    path = package(tmp_path / "wide.xlsx", [row(1, HEADER), row(2, REFERRAL),
                                            row(3, ["x"], first=16_385)])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "Sheet1" in line and "row 3" in line and "XFE" in line
    assert _items(initialised) == 0


def test_a_row_of_more_cells_than_a_spreadsheet_has_columns_is_refused(cli, initialised,
                                                                      tmp_path):
    crowded = row(2, REFERRAL).replace("</row>", '<c r="A2"/>' * 16_385 + "</row>")
    path = package(tmp_path / "crowded.xlsx", [row(1, HEADER), crowded])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "Sheet1" in line and "row 2" in line and "16,391 cells" in line
    assert _items(initialised) == 0


def test_a_row_of_200_000_xml_elements_is_refused_before_it_is_built(cli, initialised,
                                                                     tmp_path):
    """A row's XML is built in memory before it is parsed: its elements are counted as they
    come (a row of 33 million empty elements fits in 128 MiB)."""
    runs = '<c r="G2" t="inlineStr"><is>' + "<r><t></t></r>" * 100_000 + "</is></c>"
    path = package(tmp_path / "runs.xlsx", [row(1, HEADER),
                                            row(2, REFERRAL).replace("</row>", runs + "</row>")])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "Sheet1" in line and "after row 1" in line
    assert _items(initialised) == 0


def test_a_cell_under_no_header_is_still_a_bad_row(cli, initialised, tmp_path):
    path = package(tmp_path / "extra.xlsx", [row(1, HEADER), row(2, [*REFERRAL, "多余"])])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    assert "row 2" in result.stderr and "more cells than columns" in result.stderr
    assert _items(initialised) == 0


def test_blank_cells_in_column_xfd_cost_nothing(initialised, tmp_path):
    """A cell styled to the sheet's last column on every row (what formatting a whole row
    leaves): the rows are read by their cells, never padded to 16,384 columns. (Padded, these
    2,000 rows took 3.5 s, now 2.1 s: the timeout bounds a regression far worse than that.)"""
    rows = [row(1, HEADER)]
    rows += [row(r, [*REFERRAL[:5], f"案{r}"])[:-len("</row>")] + f'<c r="XFD{r}" s="0"/></row>'
             for r in range(2, 2002)]
    path = package(tmp_path / "xfd.xlsx", rows)
    done = subprocess.run([sys.executable, "-m", "fujian", "import", "xlsx", str(path),
                           "--dry-run"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2000 items" in done.stdout + done.stderr


# -- sizes ---------------------------------------------------------------------------------------

def _measured(*args: str, timeout: float) -> dict:
    """Runs ``python -m fujian *args`` from a fresh process that reports its exit code and its
    peak resident memory (ru_maxrss of its one child, in KiB): the test process's own children
    cannot inflate it."""
    script = (
        "import json, resource, subprocess, sys\n"
        "done = subprocess.run([sys.executable, '-m', 'fujian', *sys.argv[1:]],"
        " capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'code': done.returncode, 'stderr': done.stderr, 'kib': peak}))\n")
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          timeout=timeout, check=True)
    return json.loads(done.stdout)


def test_a_small_workbook_with_one_200_mb_cell_is_refused_before_it_is_read(initialised,
                                                                            tmp_path):
    chunk = "x" * (1 << 20)
    path = package(tmp_path / "huge.xlsx", [row(1, HEADER), row(2, REFERRAL[:5])
                                            .replace("</row>", '<c r="F2" t="s"><v>0</v></c>'
                                                               "</row>")],
                   shared=["<si><t>", *(chunk for _ in range(200)), "</t></si>"])
    assert path.stat().st_size < 2_000_000
    run = _measured("import", "xlsx", str(path), "--dry-run", timeout=120)
    assert run["code"] == 2, run
    assert len(run["stderr"].strip().splitlines()) == 1, run
    assert "MiB" in run["stderr"] and "internal error" not in run["stderr"]
    assert run["kib"] < 300 * 1024, run
    assert _items(initialised) == 0


def test_a_workbook_unpacking_past_the_limit_is_refused(cli, initialised, tmp_path):
    padding = {"xl/media/padding.bin": b"\0" * (MAX_UNPACKED + 1)}
    path = package(tmp_path / "padded.xlsx", [row(1, HEADER), row(2, REFERRAL)], extra=padding)
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    assert "128 MiB" in _one_line(result)
    assert _items(initialised) == 0


def test_a_workbook_of_too_many_parts_is_refused(cli, initialised, tmp_path):
    parts = {f"xl/media/p{i}.bin": b"" for i in range(MAX_PARTS)}
    path = package(tmp_path / "parts.xlsx", [row(1, HEADER), row(2, REFERRAL)], extra=parts)
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    assert "10,000" in _one_line(result)
    assert _items(initialised) == 0


# -- cell length ---------------------------------------------------------------------------------

LONG = "长" * 32_768


@pytest.mark.parametrize("where", ["inline", "shared"])
def test_a_text_longer_than_a_cell_holds_is_refused_naming_the_cell(cli, initialised, tmp_path,
                                                                     where):
    if where == "inline":
        path = package(tmp_path / "long.xlsx", [row(1, HEADER), row(2, [*REFERRAL[:5], LONG])])
    else:
        path = package(tmp_path / "long.xlsx",
                       [row(1, HEADER), row(2, REFERRAL[:5]).replace(
                           "</row>", '<c r="F2" t="s"><v>0</v></c></row>')],
                       shared=[f"<si><t>{LONG}</t></si>"])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    line = _one_line(result)
    assert "Sheet1" in line and "row 2" in line and "F" in line and "32,767" in line
    assert _items(initialised) == 0


def test_a_text_as_long_as_a_cell_holds_is_read(tmp_path):
    path = package(tmp_path / "full.xlsx",
                   [row(1, [*HEADER, "note"]), row(2, [*REFERRAL, "注" * 32_767])])
    sheets = read_item_sheets(path)
    try:
        [(line, texts)] = list(sheets.rows())
    finally:
        sheets.close()
    assert sheets.place(line) == "sheet Sheet1 row 2"
    assert texts["note"] == "注" * 32_767 and texts["title"] == "甲案"
