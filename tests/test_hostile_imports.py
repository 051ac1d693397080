"""Issue 21, case 15: an import whose header names a column twice, or whose units file names a
unit twice, is refused naming them (which cell or row would win was a guess: the last one did,
silently); and a header of 100,000 unknown columns gets one short line, cut with a count."""

from __future__ import annotations

from pathlib import Path

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
