"""Issue 21, case 15: an import whose header names a column twice, or whose units file names a
unit twice, is refused naming them (which cell or row would win was a guess: the last one did,
silently); and a header of 100,000 unknown columns gets one short line, cut with a count."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from conftest import query_rows
from test_workbook import workbook_file


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _items(location) -> int:
    return query_rows(location, "SELECT count(*) AS n FROM item")[0]["n"]


def test_a_csv_naming_the_title_twice_is_refused(cli, initialised, tmp_path):
    path = _write(tmp_path / "twice.csv",
                  "kind,direction,from_unit,标题,unit,title\n"
                  "referral,to-criminal,scjgj,甲案,gaj,乙案\n")
    result = cli("import", "csv", str(path))
    assert result.exit_code == 2, result.output
    assert "标题 / title" in result.stderr and "twice" in result.stderr
    assert _items(initialised) == 0


def test_a_csv_with_the_same_header_twice_is_refused(cli, initialised, tmp_path):
    path = _write(tmp_path / "same.csv", "direction,from_unit,title,unit,title\n"
                                         "to-criminal,scjgj,甲案,gaj,乙案\n")
    result = cli("import", "csv", str(path), "--kind", "referral")
    assert result.exit_code == 2, result.output
    assert "title / title" in result.stderr
    assert _items(initialised) == 0


def test_a_workbook_naming_the_title_twice_is_refused(cli, initialised, tmp_path):
    path = workbook_file(tmp_path / "twice.xlsx",
                         ["kind", "direction", "from_unit", "标题", "unit", "标题"],
                         [["referral", "to-criminal", "scjgj", "甲案", "gaj", "乙案"]])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    assert "Sheet1" in result.stderr and "标题 / 标题" in result.stderr
    assert _items(initialised) == 0


def test_a_units_file_with_the_code_column_twice_is_refused(cli, initialised, tmp_path):
    path = _write(tmp_path / "u.csv", "code,name,code\nabc,某单位,xyz\n")
    result = cli("unit", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "code" in result.stderr and "twice" in result.stderr
    assert query_rows(initialised, "SELECT code FROM unit WHERE code IN ('abc', 'xyz')") == []


def test_a_units_file_naming_one_unit_on_two_rows_is_refused(cli, initialised, tmp_path):
    path = _write(tmp_path / "u.csv", "code,name\nabc,某单位\nabc,另一单位\n")
    result = cli("unit", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "line 3" in result.stderr and "line 2" in result.stderr
    assert query_rows(initialised, "SELECT code FROM unit WHERE code = 'abc'") == []


def test_a_hundred_thousand_unknown_headers_get_one_short_line(cli, initialised, tmp_path):
    header = ",".join(f"列{i}" for i in range(100_000))
    path = _write(tmp_path / "wide.csv", f"title,{header}\n")
    result = cli("import", "csv", str(path), "--kind", "referral")
    assert result.exit_code == 2, result.output
    assert len(result.stderr) < 1_000
    assert "列0" in result.stderr and "99990 more" in result.stderr


# -- case 7: crafted workbooks --------------------------------------------------------------------

# Row 2 of a valid referral, less its opening date (column B), which each case writes itself.
_ROW_2 = ('<c r="A2" t="inlineStr"><is><t>referral</t></is></c>'
          '<c r="C2" t="inlineStr"><is><t>to-criminal</t></is></c>'
          '<c r="D2" t="inlineStr"><is><t>scjgj</t></is></c>'
          '<c r="E2" t="inlineStr"><is><t>gaj</t></is></c>'
          '<c r="F2" t="inlineStr"><is><t>甲案</t></is></c>')
CRAFTED = {
    "an ISO date cell holding garbage": f'<row r="2">{_ROW_2}<c r="B2" t="d"><v>garbage</v></c></row>',
    "a number cell holding abc": f'<row r="2">{_ROW_2}<c r="B2" t="n"><v>abc</v></c></row>',
    "a NaN date serial": f'<row r="2">{_ROW_2}<c r="B2" s="1" t="n"><v>NaN</v></c></row>',
    "a shared string out of range": f'<row r="2">{_ROW_2}<c r="B2" t="s"><v>999</v></c></row>',
    "a row numbered abc": f'<row r="abc">{_ROW_2}</row>',
    "a row numbered -5": '<row r="-5">' + _ROW_2.replace('2"', '-5"') + '</row>',
    "a cell at 1A": f'<row r="2">{_ROW_2}<c r="1A" t="inlineStr"><is><t>x</t></is></c></row>',
    "a row past 10,000,000": '<row r="10000001"><c r="F10000001" t="inlineStr"><is><t>x</t></is>'
                             '</c></row>',
}


def crafted_workbook(path: Path, row_xml: str) -> Path:
    """A referral workbook saved by openpyxl (its opening date a date cell, style 1), whose
    row 2 is then replaced in the sheet's XML by ``row_xml``: what a broken or hostile program
    could write."""
    import re
    import zipfile
    from datetime import date

    plain = workbook_file(path.with_suffix(".plain.xlsx"),
                          ["kind", "opened_on", "direction", "from_unit", "unit", "title"],
                          [["referral", date(2025, 3, 1), "to-criminal", "scjgj", "gaj", "甲案"]])
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "xl/worksheets/sheet1.xml":
                text = re.sub(r'<row r="2".*?</row>', row_xml, data.decode(), flags=re.S)
                data = re.sub(r'<dimension ref="[^"]*"/>', "", text).encode()
            target.writestr(entry, data)
    return path


@pytest.mark.parametrize("case", list(CRAFTED))
def test_a_crafted_workbook_is_refused_in_one_line(cli, initialised, tmp_path, case):
    path = crafted_workbook(tmp_path / "crafted.xlsx", CRAFTED[case])
    result = cli("import", "xlsx", str(path))
    assert result.exit_code == 2, result.output
    assert "Sheet1" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "internal error" not in result.stderr
    assert _items(initialised) == 0


def test_a_date_serial_out_of_range_is_a_bad_row_without_a_library_warning(cli, initialised,
                                                                          tmp_path):
    path = crafted_workbook(tmp_path / "serial.xlsx",
                            f'<row r="2">{_ROW_2}<c r="B2" s="1" t="n"><v>1e10</v></c></row>')
    with warnings.catch_warnings(record=True) as warned:  # a process prints what is caught here
        warnings.simplefilter("always")
        result = cli("import", "xlsx", str(path))
    assert [str(w.message) for w in warned] == []
    assert result.exit_code == 2, result.output
    assert "row 2" in result.stderr and "warn" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
