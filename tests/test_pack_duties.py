"""The pack and the reminder notices say what is owed (issue 19): the overdue sheet names each
row's duty by its label, the summary sheet counts unmet duties and its chart still reads the rate
column, a right (可以) is never on the overdue sheet nor chased once lapsed, and a due date that
is provisional (a year without an official calendar) or set by a local rule is marked in its
cell, which stays a date."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fujian.service.workbook import _summary_sheet_rows

PLAIN_DATE = "yyyy-mm-dd"


def ok(result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr)


def header_row(sheet) -> int:
    """The header is the row above the frozen pane."""
    return int(sheet.freeze_panes[1:]) - 1


def table(sheet) -> list[dict]:
    top = header_row(sheet)
    header = [c.value for c in sheet[top]]
    out = []
    for row in sheet.iter_rows(min_row=top + 1):
        if not any(c.value is not None for c in row[:len(header)]):
            break
        out.append(dict(zip(header, row, strict=False)))
    return out


def pack(cli, path: Path, *args: str) -> Path:
    ok(cli("export", "pack", "-o", str(path), *args))
    return path


def read_csv(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


# -- the overdue sheet names the duty ----------------------------------------------------------


def owing(cli) -> None:
    """As of 2025-03-10 (today): C1 (jcy) evaluation 30 days from 02-01, a local period, due
    03-03; S1 (sthjj) replied on 01-20 but its duty to perform, 2 months from 01-02 (两高《检察
    公益诉讼解释》第二十一条第二款), was due 03-03; R1 (gaj) accepted on 03-01, its decision on
    filing due 03-04 (国务院令第310号 第八条)."""
    ok(cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "非法采砂线索",
           "--on", "2025-02-01"))
    ok(cli("suggestion", "add", "--type", "public-interest", "--to", "sthjj", "--title",
           "督促整治非法排污", "--on", "2025-01-02"))
    ok(cli("suggestion", "reply", "S1", "--on", "2025-01-20"))
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "销售假药案", "--on", "2025-03-01"))
    ok(cli("referral", "update", "R1", "--stage", "accepted", "--on", "2025-03-01"))


def test_the_overdue_sheet_names_each_duty_by_its_label(cli, initialised, tmp_path):
    """A suggestion at 已回复 is overdue because its duty to perform (履职) is late: the sheet
    says so (两高《检察公益诉讼解释》第二十一条第二款: reply and performance are two duties)."""
    owing(cli)
    sheet = load_workbook(pack(cli, tmp_path / "p.xlsx"))["Overdue"]
    assert [c.value for c in sheet[header_row(sheet)]] == [
        "Unit name", "Unit", "ID", "Kind", "Title", "Stage", "Due", "Days overdue", "Owed"]
    assert [(r["Unit"].value, r["ID"].value, r["Stage"].value, r["Days overdue"].value,
             r["Owed"].value) for r in table(sheet)] == [
        ("jcy", "C1", "已受理", 7, "评估线索"),
        ("sthjj", "S1", "已回复", 7, "依法履行职责"),
        ("gaj", "R1", "已受理", 6, "作出是否立案的决定")]


def test_the_overdue_sheet_in_chinese_and_the_csv_pack_with_codes(cli, initialised, tmp_path,
                                                                   monkeypatch):
    owing(cli)
    folder = tmp_path / "codes"
    ok(cli("export", "pack", "-o", str(folder), "--header", "codes"))
    rows = read_csv(folder / "overdue.csv")
    assert rows[0][-1] == "duty"
    assert [(r[0], r[-1]) for r in rows[1:]] == [
        ("C1", "evaluate"), ("S1", "perform"), ("R1", "decide-filing")]
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    sheet = load_workbook(pack(cli, tmp_path / "材料.xlsx"))["逾期事项"]
    assert [c.value for c in sheet[header_row(sheet)]][-2:] == ["逾期天数", "义务"]
    assert [(r["编号"].value, r["义务"].value) for r in table(sheet)] == [
        ("C1", "评估线索"), ("S1", "依法履行职责"), ("R1", "作出是否立案的决定")]


# -- the summary sheet counts unmet duties ------------------------------------------------------


def test_the_summary_sheet_counts_unmet_and_the_chart_reads_the_rate_column(cli, initialised,
                                                                           tmp_path):
    """Closing a public-interest suggestion as 未采纳 leaves its duty to perform unmet (两高
    《检察公益诉讼解释》第二十一条第二款: not performing within 2 months is what is sued on),
    though it replied in time: sthjj has 1 on time, 1 unmet, rate 50%."""
    ok(cli("suggestion", "add", "--type", "public-interest", "--to", "sthjj", "--title",
           "督促整治非法排污", "--on", "2025-01-02"))
    ok(cli("suggestion", "reply", "S1", "--on", "2025-01-20"))
    ok(cli("close", "S1", "--outcome", "rejected", "--on", "2025-02-10"))
    ok(cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正违规发放",
           "--on", "2025-01-02"))
    ok(cli("suggestion", "reply", "S2", "--on", "2025-02-10"))  # 检察建议工作规定 第十九条
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "销售假药案", "--on", "2025-03-01"))  # due 03-04: overdue
    sheet = load_workbook(pack(cli, tmp_path / "p.xlsx"))["Overview"]
    top = header_row(sheet)
    assert [c.value for c in sheet[top]] == ["Group", "Key", "Name", "On time", "Late", "Unmet",
                                             "Overdue", "Open", "Waived", "On-time rate"]
    assert [[c.value for c in sheet[top + i]] for i in (1, 2, 3)] == [
        ["按单位", "gaj", "市公安局江夏区分局", 0, 0, 0, 1, 0, 0, 0.0],
        ["按单位", "sthjj", "市生态环境局江夏区分局", 1, 0, 1, 0, 0, 0, 0.5],
        ["按单位", "rsj", "区人力资源和社会保障局", 1, 0, 0, 0, 0, 0, 1.0]]
    total = next(r for r in table(sheet) if r["Key"].value == "total")
    assert (total["Unmet"].value, total["On-time rate"].value) == (1, 0.5)
    (chart,) = sheet._charts
    (series,) = chart.series
    # The rates are column J (F is 未履行), the names column C, the three rated units' rows.
    assert series.val.numRef.f == f"'Overview'!$J${top + 1}:$J${top + 3}"
    categories = series.cat.strRef or series.cat.numRef  # openpyxl reads either back
    assert categories.f == f"'Overview'!$C${top + 1}:$C${top + 3}"
    assert series.tx.strRef.f == f"'Overview'!J{top}"  # the header names the series
    assert [sheet[f"J{top + i}"].value for i in (1, 2, 3)] == [0.0, 0.5, 1.0]
    folder = tmp_path / "csv"
    ok(cli("export", "pack", "-o", str(folder)))
    sthjj = next(r for r in read_csv(folder / "summary.csv") if r[1] == "sthjj")
    assert sthjj == ["按单位", "sthjj", "市生态环境局江夏区分局", "1", "0", "1", "0", "0", "0", "50.0%"]


def test_worst_first_counts_unmet_among_the_failures():
    """Two units at 0%: the one with more failures (overdue, unmet or late) comes first."""

    def unit(key: str, **counts: int) -> dict:
        values = {"on_time": 0, "late": 0, "unmet": 0, "overdue": 0, "open": 0, "waived": 0}
        return {"group": "unit", "key": key, "name": key, **values, **counts, "rate": 0.0}

    rows, rated = _summary_sheet_rows([unit("a", overdue=1), unit("b", late=1, unmet=1)])
    assert ([r["key"] for r in rows], rated) == (["b", "a"], 2)


# -- a right is never overdue, never chased once lapsed ----------------------------------------


def not_filed(cli) -> None:
    """R1: not filed, notice received 2025-02-05; scjgj may ask for 复议 or propose 立案监督
    within 3 days (国务院令第310号 第九条第一款), until 2025-02-08 (a make-up working day)."""
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "销售假药案", "--on", "2025-02-01"))
    ok(cli("referral", "update", "R1", "--stage", "accepted", "--on", "2025-02-02"))
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-02-05"))


@pytest.mark.parametrize("as_of", ["2025-02-10", "2025-03-10"])
def test_a_lapsed_right_is_not_on_the_overdue_sheet_nor_chased(cli, initialised, tmp_path,
                                                               as_of):
    """The sending unit's 3 days after 不予立案 are a right (可以, 国务院令第310号 第九条第一款):
    once passed unused it has lapsed; R1 is still open, and nobody is late."""
    not_filed(cli)
    assert cli.json("report", "overdue", "--as-of", as_of) == []
    book = load_workbook(pack(cli, tmp_path / "p.xlsx", "--as-of", as_of))
    overdue = book["Overdue"]
    assert overdue["A1"].value == f"Overdue as of {as_of}: 0 items; units concerned: 0."
    assert table(overdue) == []
    assert [r["ID"].value for r in table(book["Open referrals"])] == ["R1"]
    assert all(r["Key"].value != "scjgj" for r in table(book["Overview"]))  # never counted
    r = cli("export", "reminders", "-o", str(tmp_path / "催办"), "--as-of", as_of)
    ok(r)
    assert f"Nothing to chase as of {as_of}" in r.stderr
    assert not (tmp_path / "催办").exists()


def test_a_running_right_is_listed_as_a_right(cli, initialised, tmp_path):
    """Within its window the right is due soon and may be in a notice, marked "may … until D":
    never as a duty owed (国务院令第310号 第九条第一款)."""
    not_filed(cli)
    book = load_workbook(pack(cli, tmp_path / "p.xlsx", "--as-of", "2025-02-06"))
    assert table(book["Overdue"]) == []
    assert [(r["ID"].value, r["Unit"].value, r["Days left"].value, r["Owed"].value)
            for r in table(book["Due soon"])] == [
        ("R1", "scjgj", 2, "may 提请复议或建议立案监督 until 2025-02-08")]
    folder = tmp_path / "催办"
    ok(cli("export", "reminders", "-o", str(folder), "--as-of", "2025-02-06"))
    assert [p.name for p in folder.iterdir()] == ["区市场监督管理局.xlsx"]
    sheet = load_workbook(folder / "区市场监督管理局.xlsx")["Reminder notice"]
    assert [sheet.cell(row=i, column=1).value for i in (6, 7)] == [
        "0 overdue; 0 due by 2025-02-13.",
        "1 right(s) the unit may exercise until the date shown: not owed, never late."]
    assert [(r["ID"].value, r["Owed"].value, r["Due"].value, r["Days left"].value)
            for r in table(sheet)] == [
        ("R1", "may 提请复议或建议立案监督 until 2025-02-08", datetime(2025, 2, 8), 2)]
    assert table(sheet)[0]["ID"].fill.fill_type is None  # not red: nothing is late


# -- provisional and local due dates ----------------------------------------------------------


@pytest.fixture
def in_2027(cli, initialised, monkeypatch):
    """Today 2027-03-05; the calendar knows no official 2027 schedule. S1 (rsj) delivered
    2026-12-31: reply in 2 months (检察建议工作规定 第十九条), 2027-02-28 a Sunday by the
    estimate, so provisionally 2027-03-01. X1 (zjj): 10 working days, a local rule, counted
    into 2027: 2027-01-15, provisional too."""
    monkeypatch.setenv("FUJIAN_TODAY", "2027-03-05")
    ok(cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正违规发放",
           "--on", "2026-12-31"))
    ok(cli("assist", "add", "--type", "retrieve", "--to", "zjj", "--title", "调取审批材料",
           "--on", "2026-12-31"))


def test_a_provisional_due_date_is_marked_and_stays_a_date(cli, in_2027, tmp_path):
    book = load_workbook(pack(cli, tmp_path / "p.xlsx"))
    marked = 'yyyy-mm-dd" Provisional"'
    overdue = {r["ID"].value: r["Due"] for r in table(book["Overdue"])}
    assert {k: (c.value, c.number_format, c.is_date) for k, c in overdue.items()} == {
        "X1": (datetime(2027, 1, 15), marked, True), "S1": (datetime(2027, 3, 1), marked, True)}
    sheet = book["Open suggestions"]
    (s1,) = table(sheet)
    assert (s1["Due"].value, s1["Due"].number_format) == (datetime(2027, 3, 1), marked)
    assert s1["Opened"].number_format == PLAIN_DATE  # only a due date is provisional
    due_column = s1["Due"].column_letter
    assert sheet.column_dimensions[due_column].width >= 11 + len("Provisional")  # never ####


def test_a_provisional_due_date_in_chinese(cli, in_2027, tmp_path, monkeypatch):
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    book = load_workbook(pack(cli, tmp_path / "材料.xlsx"))
    assert [r["期限"].number_format for r in table(book["逾期事项"])] == ['yyyy-mm-dd" 暂定"'] * 2


def test_a_pack_with_provisional_dates_imports_back(cli, in_2027, tmp_path):
    path = pack(cli, tmp_path / "p.xlsx")
    empty = tmp_path / "empty.db"
    ok(cli("--db", str(empty), "init"))
    ok(cli("--db", str(empty), "import", "xlsx", str(path), "--sheet", "Open suggestions"))
    ok(r := cli("--db", str(empty), "show", "S1", "-f", "json"))
    assert '"due_on": "2027-03-01"' in r.stdout


def test_a_reminder_marks_a_local_period_and_a_provisional_date(cli, in_2027, tmp_path):
    """The assistance request's 10 working days are the district's own rule (人民检察院组织法
    第二十一条 sets no period): the notice says so beside the date."""
    folder = tmp_path / "催办"
    ok(cli("export", "reminders", "-o", str(folder), "--as-of", "2027-03-05"))
    zjj = table(load_workbook(folder / "区住房和城市更新局.xlsx")["Reminder notice"])
    assert [(r["ID"].value, r["Owed"].value, r["Due"].value, r["Due"].number_format,
             r["Started"].number_format) for r in zjj] == [
        ("X1", "协助调查核实", datetime(2027, 1, 15), 'yyyy-mm-dd" Local rule/Provisional"',
         PLAIN_DATE)]
    rsj = table(load_workbook(folder / "区人力资源和社会保障局.xlsx")["Reminder notice"])
    assert [(r["ID"].value, r["Due"].number_format) for r in rsj] == [
        ("S1", 'yyyy-mm-dd" Provisional"')]


def test_a_reminder_marks_a_local_period(cli, initialised, tmp_path, monkeypatch):
    """A known year: the local rule alone is marked; a statutory period is not (人民检察院组织法
    第二十一条 sets none for assistance; 国务院令第310号 第八条 sets the police's 3 days)."""
    ok(cli("assist", "add", "--type", "retrieve", "--to", "zjj", "--title", "调取审批材料",
           "--on", "2025-03-03"))  # 10 working days: 2025-03-17
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "zjj",
           "--title", "违法建设案", "--on", "2025-03-10"))  # a statutory 3 days: 2025-03-13
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    folder = tmp_path / "催办"
    ok(cli("export", "reminders", "-o", str(folder), "--as-of", "2025-03-10"))
    rows = table(load_workbook(folder / "区住房和城市更新局.xlsx")["催办通知"])
    assert [(r["编号"].value, r["义务"].value, r["期限"].value, r["期限"].number_format)
            for r in rows] == [
        ("R1", "作出是否立案的决定", datetime(2025, 3, 13), PLAIN_DATE),
        ("X1", "协助调查核实", datetime(2025, 3, 17), 'yyyy-mm-dd" 本地规定"')]
