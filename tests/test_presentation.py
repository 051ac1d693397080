"""Presentation (issue 20): one grouping of overdue rows for the terminal and the workbook, one
value → text per audience (people, files), and reports, pack and workbook fed by the Tracker
without ever holding it."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fujian import render
from fujian.kinds import FLAG_LABELS, GROUP_LABELS, OVERDUE_COLUMNS, STATUS_LABELS, Column, label_of

AS_OF = date(2025, 3, 10)
PACKAGE = Path(__file__).resolve().parent.parent / "fujian"
FED_MODULES = ("service/reports.py", "service/pack.py", "service/workbook.py")


@pytest.fixture
def interleaved(make_item) -> list[tuple[str, str]]:
    """Overdue items whose holders alternate when sorted most overdue first: gaj, rsj, gaj, rsj.
    Returns (id, holder) in the grouped order: gaj's two, then rsj's two."""
    r1 = make_item("referral", opened_on="2025-01-02", due_on="2025-02-01")
    s1 = make_item("suggestion", opened_on="2025-01-02", due_on="2025-02-10")
    r2 = make_item("referral", opened_on="2025-01-02", due_on="2025-02-20")
    s2 = make_item("suggestion", opened_on="2025-01-02", due_on="2025-03-01")
    return [(r1, "gaj"), (r2, "gaj"), (s1, "rsj"), (s2, "rsj")]


def _sheet_ids_and_units(sheet) -> list[tuple[str, str]]:
    """(ID, holder code) of each item row of the pack's overdue sheet (the header is the row
    above the frozen pane; columns: holder name, holder code, ID, ...)."""
    top = int(re.sub(r"\D", "", sheet.freeze_panes)) - 1
    return [(row[2].value, row[1].value) for row in sheet.iter_rows(min_row=top + 1)
            if row[2].value is not None]


def test_the_workbook_and_the_terminal_group_overdue_rows_the_same_way(tracker, interleaved,
                                                                        tmp_path):
    rows = list(tracker.overdue(AS_OF))
    assert [r["unit"] for r in rows] == ["gaj", "rsj", "gaj", "rsj"]  # the case in question
    grouped = [(r["id"], r["unit"]) for group in render.group_by_holder(rows) for r in group]
    assert grouped == interleaved

    out = io.StringIO()
    render.overdue_by_unit(rows, OVERDUE_COLUMNS, AS_OF, out)
    shown = re.findall(r"\b([RS]\d+)\b", out.getvalue())
    assert shown == [ident for ident, _unit in interleaved]

    path = tmp_path / "pack.xlsx"
    tracker.write_pack(path, AS_OF)
    overdue_sheet = load_workbook(path).worksheets[1]
    assert _sheet_ids_and_units(overdue_sheet) == interleaved


@pytest.mark.parametrize("text", ["=1+1", "+A1", "-cmd", "@SUM(A1)", "'quoted"])
def test_value_to_text_for_files_neutralises_formulas(text):
    for labels in (True, False):
        cell = render.file_value(Column("title", "标题"), labels)({"title": text})
        assert cell == text  # the value a workbook writes as an inline string, never a formula
        assert render.file_text(cell, labels) == "'" + text
    out = io.StringIO()
    render.write_csv([{"title": text}], [Column("title", "标题")], out)
    assert next(iter(csv.reader(io.StringIO(out.getvalue().splitlines()[1]))))[0] == "'" + text


def test_value_to_text_for_files_labels_or_codes():
    flag, group = Column("urgent", "紧急", "flag"), Column("group", "分组", "choice")
    assert render.file_value(flag, True)({"urgent": True}) == FLAG_LABELS[True] == "是"
    assert render.file_value(flag, True)({"urgent": False}) == FLAG_LABELS[False] == "否"
    assert render.file_value(flag, False)({"urgent": True}) == "true"
    assert render.file_value(group, True)({"group": "unit"}) == GROUP_LABELS["unit"]
    assert render.file_value(group, False)({"group": "unit"}) == "unit"
    names = {"gaj": "区公安局"}
    assignee = Column("assignee", "承办单位")
    assert render.file_value(assignee, True, names)({"assignee": "gaj"}) == "区公安局"
    assert render.file_value(assignee, False, names)({"assignee": "gaj"}) == "gaj"
    day = Column("due_on", "期限", "date")
    assert render.file_value(day, True)({"due_on": AS_OF}) == AS_OF  # a workbook types it
    assert render.file_text(AS_OF) == "2025-03-10"


def test_value_to_text_for_people_prints_labels():
    row = {"kind": "referral", "status": "open", "stage": "sent", "unit": "gaj",
           "unit_name": "区公安局", "urgent": True}
    assert render.human_cell(row, Column("status", "状态", "choice")) == STATUS_LABELS["open"]
    assert render.human_cell(row, Column("kind", "类别", "choice")) == label_of(
        "kind", "referral", None, "referral") != "referral"
    stage = render.human_cell(row, Column("stage", "阶段", "choice"))
    assert stage == label_of("stage", "referral", None, "sent") == "已移送"
    assert render.human_cell(row, Column("unit", "责任单位")) == "区公安局"
    assert render.human_cell(row, Column("urgent", "紧急", "flag")) != "True"


def _tracker_uses(tree: ast.Module) -> list[str]:
    """What in a module's tree holds or reaches the Tracker: a parameter named tracker, an
    import of fujian.service.tracker (or of Tracker), a reach for the store's engine."""
    found = [f"parameter {a.arg}" for node in ast.walk(tree)
             if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
             for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)
             if a.arg == "tracker"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names
                      if a.name.startswith("fujian.service.tracker")]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {f"{node.module}.{a.name}" for a in node.names}
            if node.module.startswith("fujian.service.tracker") or names & {
                    "fujian.service.tracker", "fujian.service.Tracker"}:
                found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and node.attr == "engine":
            found.append("the store's engine")  # the Tracker hands a connection down
    return found


@pytest.mark.parametrize("module", FED_MODULES)
def test_reports_pack_and_workbook_take_no_tracker(module):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    assert _tracker_uses(tree) == []


def test_the_tracker_check_sees_what_the_modules_held_before():
    before = ast.parse("from fujian.service.tracker import Tracker\n"
                       "from fujian.service import tracker as t\n"
                       "def overdue_rows(tracker, as_of):\n"
                       "    return tracker.store.engine.connect()\n")
    assert _tracker_uses(before) == ["parameter tracker", "from fujian.service.tracker import ...",
                                     "from fujian.service import ...", "the store's engine"]
