"""Workbooks (issue 15): the pack as one printable .xlsx, reminder notices per unit, import xlsx,
and the summary's bars at a terminal. Written files are opened with openpyxl (and, in
test_workbook_pdf.py, printed by LibreOffice)."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import run_sql
from openpyxl import Workbook, load_workbook

from fujian.kinds import KINDS
from fujian.render import rate_bar
from fujian.service.workbook import RED, spreadsheet_escape, spreadsheet_unescape

AS_OF = "2025-03-20"
DANGEROUS = ["=1+1", "+A1", "-cmd", "@SUM(A1)", "=HYPERLINK(\"http://x\",\"点我\")", "#N/A"]
SHEETS_EN = ["Overview", "Overdue", "Due soon", "Open referrals", "Open suggestions",
             "Open clues", "Open meetings", "Open action items", "Meeting M1", "Units"]
SHEETS_ZH = ["概览", "逾期事项", "即将到期", "未办结案件移送", "未办结检察建议", "未办结公益诉讼线索",
             "未办结联席会议", "未办结议定事项", "会议 M1", "成员单位名录"]


def assert_sheets(names: list[str], expected: list[str]) -> None:
    """The views, one open-items sheet per kind in the registry's order (a kind added later has
    its own, placed by the registry), the meeting and the units."""
    assert names[:3] == expected[:3] and names[-2:] == expected[-2:]
    middle = names[3:-2]
    assert len(middle) == len(KINDS)
    assert [n for n in middle if n in expected] == expected[3:-2]
MINUTES = "2025年第一次联席会议纪要\n一、议定事项：\n  1. 开展专项检查\n=SUM(A1) 不是公式\n"


def ok(result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr)


def populate(cli, tmp_path: Path) -> None:
    """Today is 2025-03-10 (conftest). As of 2025-03-20: C1 (jcy) 17 days overdue, R1 (gaj) 16,
    C2 (jcy) and S1 (sthjj) 3; A1 (scjgj) due 2025-03-25; A2 (gaj) and A3 (sfj) due later;
    R2 closed in time; S2 replied in time (rsj: rate 100%)."""
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", '=HYPERLINK("http://x","点我")', "--party", "0012", "--doc-no", "00123",
           "--on", "2025-03-01"))
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "1234567890123456789", "--doc-no", "夏检行建〔2025〕3号", "--on",
           "2025-03-01"))
    ok(cli("close", "R2", "--outcome", "filed", "--on", "2025-03-03"))
    ok(cli("suggestion", "add", "--type", "public-interest", "--to", "sthjj", "--title",
           "督促整治非法排污", "--urgent", "--on", "2025-03-01"))
    ok(cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正违规发放",
           "--on", "2025-01-02"))
    ok(cli("suggestion", "reply", "S2", "--on", "2025-02-10"))
    ok(cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "非法采砂线索",
           "--on", "2025-02-01"))
    ok(cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "湖泊污染线索",
           "--on", "2025-02-15"))
    minutes = tmp_path / "纪要.txt"
    minutes.write_text(MINUTES, encoding="utf-8")
    ok(cli("meeting", "add", "--title", "2025年第一次联席会议", "--on", "2025-03-05",
           "--attendees", "gaj,scjgj", "--minutes", str(minutes)))
    ok(cli("action", "add", "--meeting", "M1", "--unit", "scjgj", "--title", "开展专项检查",
           "--due", "2025-03-25"))
    ok(cli("action", "add", "--meeting", "M1", "--unit", "gaj", "--title", "修订工作细则",
           "--due", "2025-04-30"))
    ok(cli("action", "add", "--meeting", "M1", "--unit", "sfj", "--title", "组织培训",
           "--due", "2025-04-30"))
    ok(cli("unit", "update", "scjgj", "--liaison", "张三", "--phone", "02788880000"))


@pytest.fixture
def pack(cli, initialised, tmp_path) -> Path:
    populate(cli, tmp_path)
    path = tmp_path / "pack.xlsx"
    result = cli("export", "pack", "-o", str(path), "--as-of", AS_OF, "--meeting", "M1")
    ok(result)
    assert result.stdout == ""
    assert "pack.xlsx" in result.stderr
    return path


def rows_of(sheet) -> list[tuple]:
    return [tuple(c.value for c in row) for row in sheet.iter_rows()]


def header_row(sheet) -> int:
    """The header is the row above the frozen pane."""
    return int(re.sub(r"\D", "", sheet.freeze_panes)) - 1


def table(sheet) -> list[dict]:
    top = header_row(sheet)
    header = [c.value for c in sheet[top]]
    out = []
    for row in sheet.iter_rows(min_row=top + 1):
        values = [c.value for c in row]
        if not any(v is not None for v in values[:len(header)]):
            break
        out.append(dict(zip(header, row, strict=False)))
    return out


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))


# -- the pack --------------------------------------------------------------------------------------


def test_pack_sheets_headers_frozen_filtered_and_printable(pack):
    book = load_workbook(pack)
    assert_sheets(book.sheetnames, SHEETS_EN)
    for sheet in book.worksheets:
        top = header_row(sheet)
        header = sheet[top]
        assert all(c.font.bold for c in header if c.value), sheet.title
        assert sheet.auto_filter.ref.startswith(f"A{top}:"), sheet.title
        last = len([c for c in header if c.value is not None])
        assert sheet.auto_filter.ref.split(":")[1].startswith(header[last - 1].column_letter)
        assert sheet.print_title_rows == f"${top}:${top}"
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)  # A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.oddFooter.left.text == f"As of {AS_OF}"
        assert "&P" in sheet.oddFooter.right.text and "&N" in sheet.oddFooter.right.text
    referrals = book["Open referrals"]
    assert [c.value for c in referrals[1]][:4] == ["ID", "Kind", "Title", "Unit"]
    assert referrals.freeze_panes == "A2"
    overdue = book["Overdue"]
    assert overdue["A1"].value == f"Overdue as of {AS_OF}: 4 items; units concerned: 3."
    assert [c.value for c in overdue[2]] == ["Unit name", "Unit", "ID", "Kind", "Title", "Stage",
                                             "Due", "Days overdue", "Owed"]
    assert oct(pack.stat().st_mode & 0o777) == "0o600"


def test_pack_in_chinese_has_chinese_sheets_and_headers(cli, initialised, tmp_path, monkeypatch):
    populate(cli, tmp_path)
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    path = tmp_path / "材料.xlsx"
    ok(cli("export", "pack", "-o", str(path), "--as-of", AS_OF, "--meeting", "M1"))
    book = load_workbook(path)
    assert_sheets(book.sheetnames, SHEETS_ZH)
    assert [c.value for c in book["未办结案件移送"][1]][:4] == ["编号", "类别", "标题", "责任单位"]
    assert [c.value for c in book["逾期事项"][2]] == ["责任单位", "责任单位代码", "编号", "类别",
                                                   "标题", "阶段", "期限", "逾期天数", "义务"]
    assert [c.value for c in book["概览"][header_row(book["概览"])]] == [
        "分组", "代码", "名称", "按期履行", "逾期履行", "未履行", "逾期未履行", "未到期", "免除", "按期率"]
    assert book["概览"].oddFooter.left.text == f"截至 {AS_OF}"
    assert book["概览"].oddFooter.right.text == "第 &P 页，共 &N 页"


def test_ids_document_numbers_and_phones_are_text_dates_are_dates(pack):
    book = load_workbook(pack)
    r1 = next(row for row in table(book["Open referrals"]) if row["ID"].value == "R1")
    for key, value in (("ID", "R1"), ("Party", "0012"), ("Doc no.", "00123")):
        assert (r1[key].value, r1[key].data_type) == (value, "s"), key
    assert r1["Opened"].value == datetime(2025, 3, 1)
    assert r1["Opened"].is_date and r1["Opened"].number_format == "yyyy-mm-dd"
    assert r1["Closed"].value is None
    scjgj = next(row for row in table(book["Units"]) if row["Code"].value == "scjgj")
    assert (scjgj["Phone"].value, scjgj["Phone"].data_type) == ("02788880000", "s")
    overdue = table(book["Overdue"])
    assert [(r["Days overdue"].value, r["Days overdue"].data_type) for r in overdue] == \
        [(17, "n"), (3, "n"), (16, "n"), (3, "n")]
    overview = book["Overview"]
    assert overview["B2"].value == datetime(2025, 3, 20) and overview["B2"].is_date


def test_number_like_text_stays_text(cli, initialised, tmp_path):
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "1234567890123456789", "--party", "0.50", "--doc-no", "1E5"))
    path = tmp_path / "p.xlsx"
    ok(cli("export", "pack", "-o", str(path)))
    row = table(load_workbook(path)["Open referrals"])[0]
    for key, value in (("Title", "1234567890123456789"), ("Party", "0.50"), ("Doc no.", "1E5")):
        assert (row[key].value, row[key].data_type) == (value, "s")


def test_formula_like_text_is_text_never_a_formula(cli, initialised, tmp_path):
    for text in DANGEROUS:
        ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
               "--title", text, "--party", text))
    path = tmp_path / "p.xlsx"
    ok(cli("export", "pack", "-o", str(path)))
    rows = table(load_workbook(path)["Open referrals"])
    assert [(r["Title"].value, r["Title"].data_type) for r in rows] == [(t, "s") for t in DANGEROUS]
    assert [r["Party"].value for r in rows] == DANGEROUS
    assert "<f>" not in sheet_xml(path) and "<f " not in sheet_xml(path)


def test_overdue_rows_are_light_red_and_others_are_not(pack):
    book = load_workbook(pack)

    def red(cell) -> bool:
        return cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith(RED)

    for row in table(book["Overdue"]):
        assert all(red(cell) for cell in row.values())
    actions = {r["ID"].value: r for r in table(book["Open action items"])}
    assert not any(red(c) for c in actions["A1"].values())
    referrals = {r["ID"].value: r for r in table(book["Open referrals"])}
    assert all(red(c) for c in referrals["R1"].values())  # empty cells too: the whole row
    assert not any(red(c) for c in table(book["Due soon"])[0].values())


def test_overdue_is_grouped_by_holder_most_overdue_first(pack):
    rows = table(load_workbook(pack)["Overdue"])
    assert [(r["Unit"].value, r["ID"].value) for r in rows] == [
        ("jcy", "C1"), ("jcy", "C2"), ("gaj", "R1"), ("sthjj", "S1")]
    assert rows[0]["Unit name"].value == "区人民检察院"


def test_overview_counts_summary_worst_first_and_the_chart_reads_its_cells(pack):
    book = load_workbook(pack)
    sheet = book["Overview"]
    cells = rows_of(sheet)
    assert cells[0][0] == "Joint meeting pack"
    kinds = ("案件移送", "检察建议", "公益诉讼线索", "联席会议", "议定事项", "Total")
    assert cells[3][0] == "Kind" and set(kinds) <= set(cells[3])
    counts = {row[0]: dict(zip(cells[3][1:], row[1:], strict=True)) for row in cells[4:7]}
    assert [counts["Open"][k] for k in kinds] == [1, 2, 2, 1, 3, 9]
    assert [counts["Overdue"][k] for k in kinds] == [1, 1, 2, 0, 0, 4]
    assert [counts["Due within 7 days"][k] for k in kinds] == [0, 0, 0, 0, 1, 1]
    top = header_row(sheet)
    assert [c.value for c in sheet[top]] == ["Group", "Key", "Name", "On time", "Late", "Unmet",
                                             "Overdue", "Open", "Waived", "On-time rate"]
    rows = table(sheet)
    units = [(r["Key"].value, r["On-time rate"].value) for r in rows
             if r["Group"].value == "按单位"]
    assert units[:4] == [("jcy", 0.0), ("sthjj", 0.0), ("gaj", 0.5), ("rsj", 1.0)]
    assert all(rate is None for _key, rate in units[4:])
    assert rows[0]["On-time rate"].number_format == "0.0%"
    (chart,) = sheet._charts
    assert chart.tagname == "barChart" and chart.type == "bar"
    (series,) = chart.series
    # The rate is column J since the summary gained 未履行 (unmet) as column F.
    assert series.val.numRef.f == f"'Overview'!$J${top + 1}:$J${top + 4}"
    categories = series.cat.strRef.f if series.cat.strRef is not None else series.cat.numRef.f
    assert categories == f"'Overview'!$C${top + 1}:$C${top + 4}"
    assert [sheet[f"C{top + i}"].value for i in range(1, 5)] == [
        "区人民检察院", "市生态环境局江夏区分局", "市公安局江夏区分局", "区人力资源和社会保障局"]
    assert series.tx.strRef.f.replace("$", "") == f"'Overview'!J{top}"  # the header names it
    assert sheet[f"J{top}"].value == "On-time rate"


def test_meeting_sheet_has_its_actions_and_minutes(pack):
    sheet = load_workbook(pack)["Meeting M1"]
    cells = rows_of(sheet)
    assert cells[0][0] == "M1 2025年第一次联席会议"
    assert cells[1][:2] == ("Held on", datetime(2025, 3, 5))
    assert cells[3][:2] == ("Attending units", "市公安局江夏区分局、区市场监督管理局")
    assert [r["ID"].value for r in table(sheet)] == ["A1", "A2", "A3"]
    text = [row[0] for row in cells[header_row(sheet) + 4:]]
    assert text[0] == "Minutes"
    assert text[1:] == MINUTES.splitlines()
    minutes_cell = sheet.cell(row=header_row(sheet) + 5 + 4, column=1)
    assert minutes_cell.value == "=SUM(A1) 不是公式" and minutes_cell.data_type == "s"


def test_columns_are_wide_enough_for_chinese(pack):
    sheet = load_workbook(pack)["Units"]
    widths = {c: sheet.column_dimensions[c].width for c in "ABCD"}
    longest = max(len(r["Name"].value) for r in table(sheet))  # 13 characters, 2 columns each
    assert widths["B"] >= 2 * longest
    assert widths["A"] < widths["B"]


def test_workbook_and_folder_pack_refuse_what_they_must(cli, initialised, tmp_path, snapshot):
    target = tmp_path / "pack.xlsx"
    target.write_bytes(b"keep me")
    r = cli("export", "pack", "-o", str(target))
    assert r.exit_code == 2 and "--force" in r.stderr and r.stdout == ""
    assert target.read_bytes() == b"keep me"
    ok(cli("export", "pack", "-o", str(target), "--force"))
    assert zipfile.is_zipfile(target)
    folder = tmp_path / "a.xlsx"
    folder.mkdir()
    assert cli("export", "pack", "-o", str(folder)).exit_code == 2
    assert cli("export", "pack", "-o", str(tmp_path / "no" / "p.xlsx")).exit_code == 2
    database = tmp_path / "data.xlsx"
    ok(cli("--db", str(database), "init"))
    before = snapshot(database)
    r = cli("--db", str(database), "export", "pack", "-o", str(database), "--force")
    assert r.exit_code == 2 and "database itself" in r.stderr
    assert snapshot(database) == before
    assert cli("export", "pack", "-o", str(tmp_path / "x.xlsx"), "--within", "-1").exit_code == 2
    assert not (tmp_path / "x.xlsx").exists()
    # The folder pack is still the folder pack.
    ok(cli("export", "pack", "-o", str(tmp_path / "csv-pack")))
    assert (tmp_path / "csv-pack" / "overdue.csv").exists()


def test_control_characters_and_escape_lookalikes_survive(cli, initialised, tmp_path):
    titles = ["红\x1b[31m字\x07", "_x0041_ 不是转义", "回车\r换行\n制表\t"]
    for title in titles:
        ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
               "--title", title))
    path = tmp_path / "p.xlsx"
    ok(cli("export", "pack", "-o", str(path)))
    assert "_x001B_" in sheet_xml(path) and "_x005F_x0041_" in sheet_xml(path)
    empty = tmp_path / "empty.db"
    ok(cli("--db", str(empty), "init"))
    ok(cli("--db", str(empty), "import", "xlsx", str(path)))
    after = json.loads(cli("--db", str(empty), "list", "-f", "json").stdout)
    assert sorted(r["title"] for r in after) == sorted(titles)


@pytest.mark.parametrize("text", ["a\x00b", "\x1b]0;x\x07", "_x0041_", "_x00", "x_x1234_y", "é😀"])
def test_spreadsheet_escape_round_trips(text):
    assert spreadsheet_unescape(spreadsheet_escape(text)) == text
    assert not re.search(r"[\x00-\x08\x0b-\x1f]", spreadsheet_escape(text))


def test_text_longer_than_a_cell_is_cut_with_a_warning(cli, initialised, tmp_path, db_path):
    # fujian takes at most 16,000 characters a field now (models.TEXT_CHARS); an older
    # database may hold a longer note, and the pack still says what it cut.
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "长备注", "--note", "短"))
    run_sql(db_path, "UPDATE item SET note = '" + "长" * 40_000 + "'")
    path = tmp_path / "p.xlsx"
    r = cli("export", "pack", "-o", str(path))
    ok(r)
    assert "R1 Note" in r.stderr and "32,767" in r.stderr
    row = table(load_workbook(path)["Open referrals"])[0]
    assert len(row["Note"].value) == 32_767 and row["Note"].value.endswith("…")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("header", ["labels", "codes"])
def test_pack_imports_back_to_the_same_items(cli, initialised, tmp_path, monkeypatch, lang,
                                             header):
    populate(cli, tmp_path)
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-06"))
    before = cli.json("list")
    monkeypatch.setenv("FUJIAN_LANG", lang)
    path = tmp_path / "pack.xlsx"
    ok(cli("export", "pack", "-o", str(path), "--meeting", "M1", "--header", header))
    empty = tmp_path / "empty.db"
    ok(cli("--db", str(empty), "init"))
    r = cli("--db", str(empty), "import", "xlsx", str(path))
    ok(r)
    after = json.loads(cli("--db", str(empty), "list", "-f", "json").stdout)
    assert after == before
    assert {r["id"] for r in after} == {"R1", "S1", "S2", "C1", "C2", "M1", "A1", "A2", "A3"}
    # What is owed now, by whom, from when (an export carries no duty history).
    r1 = [d for d in cli.json("show", "R1")["duties"] if d["state"] == "open"]
    r1_copy = json.loads(cli("--db", str(empty), "show", "R1", "-f", "json").stdout)["duties"]
    assert r1_copy == r1 and r1[0]["holder"] == "scjgj"


# -- import xlsx -------------------------------------------------------------------------------


def workbook_file(path: Path, header: list[str], rows: list[list], title: str = "Sheet1",
                  formulas: bool = False) -> Path:
    """A workbook as Excel would save it: typed cells (dates, numbers), text kept as text
    unless ``formulas`` (then a text starting with = is a formula)."""
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    if not formulas:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.data_type in ("f", "e"):
                    cell.data_type = "s"
    book.save(path)
    return path


def test_import_xlsx_reads_excel_dates_text_dates_and_numbers(cli, initialised, tmp_path):
    path = workbook_file(tmp_path / "in.xlsx",
                         ["标题", "移送方向", "移送单位", "承办单位", "开始日期", "文号", "当事人"],
                         [["甲", "正向移送", "区市场监督管理局", "gaj", datetime(2025, 3, 1), 123,
                           27888800000],
                          ["乙", "to-criminal", "scjgj", "gaj", "2025/3/2", "夏检〔2025〕1号", None],
                          ["丙", "to-criminal", "scjgj", "gaj", date(2025, 3, 3), 1e16, 0.5]])
    r = cli("import", "xlsx", str(path), "--kind", "referral")
    ok(r)
    assert "Imported 3 items" in r.stderr and "Sheet1" in r.stderr
    by_title = {row["title"]: row for row in cli.json("list")}
    assert by_title["甲"]["opened_on"] == "2025-03-01" and by_title["甲"]["due_on"] == "2025-03-04"
    assert by_title["甲"]["doc_no"] == "123" and by_title["甲"]["party"] == "27888800000"
    assert by_title["乙"]["opened_on"] == "2025-03-02"
    assert by_title["丙"]["opened_on"] == "2025-03-03" and by_title["丙"]["party"] == "0.5"
    assert by_title["丙"]["doc_no"] == "10000000000000000"  # Excel keeps it as 1E+16


def test_import_xlsx_english_and_code_headers(cli, initialised, tmp_path):
    ok(cli("import", "xlsx", "--kind", "clue", str(workbook_file(
        tmp_path / "codes.xlsx", ["title", "field", "from_unit"], [["线索一", "ecology", "sthjj"]]))))
    ok(cli("import", "xlsx", "--kind", "clue", str(workbook_file(
        tmp_path / "en.xlsx", ["Title", "Field", "From", "Opened"],
        [["线索二", "生态环境和资源保护", "sthjj", datetime(2025, 2, 1)]]))))
    rows = {r["title"]: r for r in cli.json("list")}
    assert rows["线索一"]["from_unit"] == rows["线索二"]["from_unit"] == "sthjj"
    assert rows["线索二"]["opened_on"] == "2025-02-01"


def test_import_xlsx_bad_rows_import_nothing_and_name_sheet_and_row(cli, initialised, tmp_path,
                                                                    snapshot):
    path = workbook_file(tmp_path / "in.xlsx", ["title", "direction", "from_unit", "unit",
                                                 "opened_on"],
                         [["好的", "to-criminal", "scjgj", "gaj", "2025-03-01"],
                          ["坏的", "to-criminal", "scjgj", "nowhere", "2025-03-01"],
                          [None, None, None, None, None],
                          ["也好", "to-admin", "jcy", "scjgj", datetime(2025, 3, 2)],
                          ["坏日期", "to-admin", "jcy", "scjgj", "2025-02-30"]], title="移送")
    before = snapshot(initialised)
    for extra in ((), ("--dry-run",)):
        r = cli("import", "xlsx", "--kind", "referral", str(path), *extra)
        assert r.exit_code == 2 and r.stdout == ""
        assert "sheet 移送 row 3" in r.stderr and "sheet 移送 row 6" in r.stderr
        assert "row 2" not in r.stderr and "nowhere" in r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert snapshot(initialised) == before


def test_import_xlsx_keeps_formula_like_text_and_refuses_formulas(cli, initialised, tmp_path,
                                                                  snapshot):
    header = ["title", "direction", "from_unit", "unit", "party"]
    texts = workbook_file(tmp_path / "text.xlsx", header,
                          [[t, "to-criminal", "scjgj", "gaj", t] for t in DANGEROUS])
    ok(cli("import", "xlsx", "--kind", "referral", str(texts)))
    rows = cli.json("list")
    assert sorted(r["title"] for r in rows) == sorted(DANGEROUS)
    assert sorted(r["party"] for r in rows) == sorted(DANGEROUS)
    formulas = workbook_file(tmp_path / "formula.xlsx", header,
                             [["=1+1", "to-criminal", "scjgj", "gaj", "x"]], formulas=True)
    before = snapshot(initialised)
    r = cli("import", "xlsx", "--kind", "referral", str(formulas))
    assert r.exit_code == 2 and "sheet Sheet1 row 2" in r.stderr and "formula" in r.stderr
    errors = workbook_file(tmp_path / "error.xlsx", header,
                           [["x", "to-criminal", "scjgj", "gaj", "#DIV/0!"]], formulas=True)
    r = cli("import", "xlsx", "--kind", "referral", str(errors))
    assert r.exit_code == 2 and "column E holds an error value (#DIV/0!)" in r.stderr
    assert snapshot(initialised) == before


def test_import_xlsx_refuses_unknown_columns_sheets_and_non_workbooks(cli, initialised,
                                                                      tmp_path, snapshot):
    before = snapshot(initialised)
    bad = workbook_file(tmp_path / "bad.xlsx", ["title", "colour"], [["x", "red"]])
    r = cli("import", "xlsx", "--kind", "referral", str(bad))
    assert r.exit_code == 2 and "colour" in r.stderr and "Sheet1" in r.stderr
    r = cli("import", "xlsx", str(bad), "--sheet", "Missing")
    assert r.exit_code == 2 and "Missing" in r.stderr and "Sheet1" in r.stderr
    no_title = workbook_file(tmp_path / "none.xlsx", ["a", "b"], [["1", "2"]])
    r = cli("import", "xlsx", str(no_title))
    assert r.exit_code == 2 and "title column" in r.stderr
    csv_file = tmp_path / "items.xlsx"
    csv_file.write_text("title\nx\n", encoding="utf-8")
    r = cli("import", "xlsx", str(csv_file))
    assert r.exit_code == 2 and "not an Excel workbook" in r.stderr
    r = cli("import", "xlsx", str(tmp_path / "absent.xlsx"))
    assert r.exit_code == 2 and "Cannot read" in r.stderr
    wide = workbook_file(tmp_path / "wide.xlsx", ["title", "direction", "from_unit", "unit"],
                         [["x", "to-criminal", "scjgj", "gaj", "extra"]])
    r = cli("import", "xlsx", "--kind", "referral", str(wide))
    assert r.exit_code == 2 and "row 2" in r.stderr and "more cells than columns" in r.stderr
    assert snapshot(initialised) == before


def test_import_xlsx_checks_rows_as_import_csv_does(cli, initialised, tmp_path, snapshot):
    """The same rows as CSV and as a workbook: the same verdict and the same reasons, the
    workbook naming sheet and row where the CSV names the line."""
    header = ["title", "kind", "direction", "type", "from_unit", "unit", "opened_on", "status"]
    rows = [["好", "referral", "to-criminal", "", "scjgj", "gaj", "2025-03-01", ""],
            ["单位错", "referral", "to-criminal", "", "scjgj", "nowhere", "2025-03-01", ""],
            ["日期错", "referral", "to-admin", "", "jcy", "scjgj", "2025-02-30", ""],
            ["类别不同", "suggestion", "", "correction", "", "rsj", "2025-03-01", ""],
            ["未来", "referral", "to-criminal", "", "scjgj", "gaj", "2099-01-01", ""],
            ["状态错", "referral", "to-criminal", "", "scjgj", "gaj", "2025-03-01", "maybe"]]
    source = tmp_path / "rows.csv"
    source.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    book = workbook_file(tmp_path / "rows.xlsx", header, rows, title="数据")
    before = snapshot(initialised)
    for extra in ((), ("--kind", "referral")):
        by_csv = cli("import", "csv", str(source), *extra)
        by_xlsx = cli("import", "xlsx", str(book), *extra)
        assert by_csv.exit_code == by_xlsx.exit_code == 2
        assert by_xlsx.stderr.replace("sheet 数据 row ", "line ") == by_csv.stderr
        assert snapshot(initialised) == before


def test_import_xlsx_dry_run_changes_nothing_and_names_the_sheets(pack, cli, tmp_path, snapshot):
    empty = tmp_path / "empty.db"
    ok(cli("--db", str(empty), "init"))
    before = snapshot(empty)
    r = cli("--db", str(empty), "import", "xlsx", str(pack), "--dry-run")
    ok(r)
    assert "Would import 9 items" in r.stderr and "dry run" in r.stderr
    read = re.search(r"Sheets read: (.*)\.\n", r.stderr).group(1).split(", ")
    assert read[:5] == ["Open referrals", "Open suggestions", "Open clues", "Open meetings",
                        "Open action items"] and len(read) == len(KINDS)
    assert "skipped" in r.stderr and "Overview" in r.stderr
    assert snapshot(empty) == before
    r = cli("--db", str(empty), "import", "xlsx", str(pack), "--sheet", "Open clues")
    ok(r)
    assert {x["id"] for x in json.loads(cli("--db", str(empty), "list", "-f", "json").stdout)} \
        == {"C1", "C2"}
    r = cli("--db", str(empty), "import", "xlsx", str(pack), "--sheet", "Overdue")
    assert r.exit_code == 2 and "Overdue" in r.stderr


def test_import_xlsx_message_in_chinese(cli, initialised, tmp_path, monkeypatch):
    path = workbook_file(tmp_path / "in.xlsx", ["标题", "移送方向", "移送单位", "承办单位"],
                         [["甲", "正向移送", "scjgj", "nowhere"]], title="移送")
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    r = cli("import", "xlsx", "--kind", "referral", str(path))
    assert r.exit_code == 2
    assert "工作表“移送”第 2 行：" in r.stderr


# -- reminders ---------------------------------------------------------------------------------

# The units populate() leaves something to chase as of AS_OF.
REMINDED = ["区人民检察院.xlsx", "市公安局江夏区分局.xlsx", "市生态环境局江夏区分局.xlsx",
            "区市场监督管理局.xlsx"]


def test_reminders_one_workbook_per_unit_to_chase(cli, initialised, tmp_path):
    populate(cli, tmp_path)
    folder = tmp_path / "催办"
    r = cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF)
    ok(r)
    assert "Wrote 4 reminder notices" in r.stderr and r.stdout == ""
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(REMINDED)
    assert "区司法局.xlsx" not in names  # A3 is due 2025-04-30: nothing to chase yet
    for path in folder.iterdir():
        assert oct(path.stat().st_mode & 0o777) == "0o600"
    sheet = load_workbook(folder / "区市场监督管理局.xlsx")["Reminder notice"]
    cells = rows_of(sheet)
    assert cells[0][0] == "Reminder notice"
    assert cells[1][:2] == ("Unit", "区市场监督管理局")
    assert cells[2][:2] == ("Liaison", "张三")
    assert cells[3][:2] == ("Phone", "02788880000") and sheet["B4"].data_type == "s"
    assert cells[4][:2] == ("As of", datetime(2025, 3, 20))
    assert [c.value for c in sheet[header_row(sheet)]] == [
        "ID", "Kind", "Title", "Doc no.", "Stage", "Owed", "Started", "Due", "Days overdue",
        "Days left"]
    rows = table(sheet)
    assert [(r["ID"].value, r["Owed"].value, r["Started"].value, r["Due"].value,
             r["Days left"].value) for r in rows] == [
        ("A1", "落实议定事项", datetime(2025, 3, 5), datetime(2025, 3, 25), 5)]
    police = table(load_workbook(folder / "市公安局江夏区分局.xlsx")["Reminder notice"])
    assert [(r["ID"].value, r["Doc no."].value, r["Owed"].value, r["Days overdue"].value)
            for r in police] == [("R1", "00123", "作出是否立案的决定", 16)]
    assert police[0]["Title"].value == '=HYPERLINK("http://x","点我")'
    assert police[0]["Title"].data_type == "s"
    assert police[0]["ID"].fill.fgColor.rgb.endswith(RED)
    assert sheet.print_title_rows == f"${header_row(sheet)}:${header_row(sheet)}"
    assert sheet.page_setup.orientation == "landscape"


def test_reminders_unit_filter_nothing_to_chase_and_refusals(cli, initialised, tmp_path):
    populate(cli, tmp_path)
    folder = tmp_path / "out"
    r = cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF, "--unit", "gaj",
            "--unit", "区人民检察院")
    ok(r)
    assert sorted(p.name for p in folder.iterdir()) == ["区人民检察院.xlsx", "市公安局江夏区分局.xlsx"]
    r = cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF)
    assert r.exit_code == 2 and "--force" in r.stderr
    ok(cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF, "--force"))
    assert len(list(folder.iterdir())) == 4
    quiet = tmp_path / "quiet"
    r = cli("export", "reminders", "-o", str(quiet), "--as-of", "2025-01-01")
    ok(r)
    assert "Nothing to chase as of 2025-01-01" in r.stderr and not quiet.exists()
    r = cli("export", "reminders", "-o", str(tmp_path / "x"), "--unit", "nowhere")
    assert r.exit_code == 2 and "nowhere" in r.stderr
    assert cli("export", "reminders", "-o", str(tmp_path / "纪要.txt")).exit_code == 2


# -- the summary's bars ------------------------------------------------------------------------


@pytest.mark.parametrize(("rate", "bar"), [(None, ""), (0.0, ""), (1.0, "████████"),
                                           (0.5, "████"), (0.53, "████▎"), (1 / 64, "▏")])
def test_rate_bar(rate, bar):
    assert rate_bar(rate) == bar


def test_summary_at_a_terminal_shows_bars_and_machine_formats_do_not(cli, initialised, tmp_path):
    populate(cli, tmp_path)
    table_out = cli("report", "summary", "--as-of", AS_OF, "--format", "table").stdout
    rsj = next(line for line in table_out.splitlines() if "rsj" in line)
    assert "100.0% ████████" in rsj
    gaj = next(line for line in table_out.splitlines() if "gaj" in line)
    assert " 50.0% ████" in gaj and "█████" not in gaj
    for fmt in ("plain", "csv", "json"):
        out = cli("report", "summary", "--as-of", AS_OF, "--format", fmt).stdout
        assert "█" not in out and "▏" not in out
    rows = cli.json("report", "summary", "--as-of", AS_OF)
    assert next(r for r in rows if r["key"] == "rsj")["rate"] == 1.0



def test_reminders_leave_out_paused_items(cli, initialised, tmp_path):
    """An assistance request's 10 working days are a local rule (no statute sets them), so it
    may be paused; a suggestion's periods are the law's and may not (issue 19)."""
    populate(cli, tmp_path)
    ok(cli("assist", "add", "--type", "retrieve", "--to", "zjj", "--title", "调取审批材料",
           "--on", "2025-03-03"))  # 10 working days: due 2025-03-17, overdue as of 03-20
    before = tmp_path / "before"
    ok(cli("export", "reminders", "-o", str(before), "--as-of", AS_OF))
    assert sorted(p.name for p in before.iterdir()) == sorted([*REMINDED, "区住房和城市更新局.xlsx"])
    zjj = load_workbook(before / "区住房和城市更新局.xlsx")["Reminder notice"]
    assert [(r["ID"].value, r["Owed"].value, r["Days overdue"].value) for r in table(zjj)] == [
        ("X1", "协助调查核实", 3)]
    ok(cli("assist", "update", "X1", "--pause", "--reason", "等待档案调取", "--on", "2025-03-10"))
    folder = tmp_path / "out"
    ok(cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF))
    assert sorted(p.name for p in folder.iterdir()) == sorted(REMINDED)


def test_reminders_leave_out_voided_entries(cli, initialised, tmp_path):
    populate(cli, tmp_path)
    ok(cli("void", "S1", "--reason", "重复登记"))
    folder = tmp_path / "out"
    ok(cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF))
    assert "市生态环境局江夏区分局.xlsx" not in {p.name for p in folder.iterdir()}


def test_a_workbook_that_fails_half_way_leaves_no_file(cli, initialised, tmp_path, monkeypatch):
    from fujian.service import workbook

    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "案件"))

    def broken(self, out) -> None:
        out.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workbook.Book, "save", broken)
    path = tmp_path / "p.xlsx"
    r = cli("export", "pack", "-o", str(path))
    assert r.exit_code == 3 and "no space left on the disk" in r.stderr
    assert not path.exists()


def test_a_sheet_never_gets_more_rows_than_a_spreadsheet_holds(cli, initialised, tmp_path,
                                                               monkeypatch):
    from fujian.service import workbook

    for title in ("一", "二", "三"):
        ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
               "--title", title))
    monkeypatch.setattr(workbook, "MAX_ROWS", 3)  # header + 2 rows
    path = tmp_path / "p.xlsx"
    r = cli("export", "pack", "-o", str(path))
    assert r.exit_code == 2 and "more rows than a spreadsheet holds" in r.stderr
    assert "folder of CSV files" in r.stderr and not path.exists()


def test_a_pack_is_chinese_unless_fujian_lang_asks_otherwise(cli, initialised, tmp_path,
                                                            monkeypatch):
    """A cron machine's locale is often C: the interface follows it, the office's documents
    do not."""
    from openpyxl import load_workbook

    monkeypatch.delenv("FUJIAN_LANG")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    path = tmp_path / "p.xlsx"
    ok(cli("export", "pack", "-o", str(path)))
    assert load_workbook(path).sheetnames[0] == "概览"
    import os

    assert "FUJIAN_LANG" not in os.environ  # the process's language is left as it was
