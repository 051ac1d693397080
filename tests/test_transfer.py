"""CSV export (Excel-safe), the meeting pack, CSV import (all or nothing) and backup."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from fujian.service.transfer import neutralise, unneutralise

DANGEROUS = ["=1+1", "+A1", "-cmd", "@SUM(A1)", "\tx", "\rx", "=HYPERLINK(\"http://x\")"]


def _add_referral(cli, title="案件", **extra) -> str:
    args = ["referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
            "--title", title, "--on", "2025-03-01"]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", value]
    r = cli(*args)
    assert r.exit_code == 0, r.output
    return r.stdout.strip()


def _read(path: Path, encoding="utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_cells_are_neutralised(text):
    assert neutralise(text) == "'" + text
    assert unneutralise(neutralise(text)) == text


@pytest.mark.parametrize("text", ["-5", "+3", "-1.25", "普通标题", "a=b", "'quoted", "''"])
def test_safe_cells_round_trip(text):
    assert unneutralise(neutralise(text)) == text
    if text[0] not in "'":
        assert neutralise(text) == text  # numbers and plain text stay plain


def test_export_bom_and_chinese_headers(cli, initialised, tmp_path):
    ident = _add_referral(cli)
    out = tmp_path / "out.csv"
    r = cli("export", "csv", "--kind", "referral", "-o", str(out))
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = _read(out)
    assert rows[0][:10] == ["编号", "类别", "标题", "责任单位", "阶段", "状态", "开始日期", "期限",
                            "办结日期", "结果"]
    assert rows[1][:10] == [ident, "案件移送", "案件", "市公安局江夏区分局", "已移送", "未办结",
                            "2025-03-01", "2025-03-04", "", ""]
    assert rows[1][rows[0].index("移送单位")] == "区市场监督管理局"  # names, like 责任单位
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_export_codes_and_encodings(cli, initialised, tmp_path):
    _add_referral(cli, title="药品案")
    for encoding in ("utf-8", "gb18030"):
        out = tmp_path / f"{encoding}.csv"
        r = cli("export", "csv", "-o", str(out), "--encoding", encoding, "--header", "codes")
        assert r.exit_code == 0, r.output
        data = out.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        rows = _read(out, encoding)
        assert rows[0][:3] == ["id", "kind", "title"]
        assert rows[1][1:3] == ["referral", "药品案"]
    assert "药品案".encode("gb18030") in (tmp_path / "gb18030.csv").read_bytes()
    r = cli("export", "csv", "-o", str(tmp_path / "x.csv"), "--encoding", "latin-1")
    assert r.exit_code == 2 and "utf-8-sig" in r.stderr


def test_export_neutralises_every_dangerous_first_character(cli, initialised, tmp_path):
    for text in DANGEROUS:
        _add_referral(cli, title=text, party=text)
    _add_referral(cli, title="-5")
    out = tmp_path / "x.csv"
    assert cli("export", "csv", "--kind", "referral", "-o", str(out)).exit_code == 0
    rows = _read(out)
    header = rows[0]
    titles = [row[header.index("标题")] for row in rows[1:]]
    parties = [row[header.index("当事人")] for row in rows[1:]]
    assert titles == ["'" + t for t in DANGEROUS] + ["-5"]
    assert parties[:-1] == ["'" + t for t in DANGEROUS]
    dates = [row[header.index("开始日期")] for row in rows[1:]]
    assert set(dates) == {"2025-03-01"}  # dates are never touched


@pytest.mark.sqlite_only("writes over the database file; a server database has none")
def test_export_refuses_overwrite_and_the_database(cli, initialised, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("keep me")
    r = cli("export", "csv", "-o", str(out))
    assert r.exit_code == 2 and "--force" in r.stderr
    assert out.read_text() == "keep me"
    assert cli("export", "csv", "-o", str(out), "--force").exit_code == 0
    assert out.read_text(encoding="utf-8-sig").startswith("编号")
    before = initialised.read_bytes()
    r = cli("export", "csv", "-o", str(initialised), "--force")
    assert r.exit_code == 2 and "database itself" in r.stderr
    assert initialised.read_bytes() == before


def test_export_to_stdout(cli, initialised):
    _add_referral(cli)
    r = cli("export", "csv", "--header", "codes", "--encoding", "utf-8")
    assert r.exit_code == 0
    assert r.stdout.splitlines()[0].startswith("id,kind,title,unit,stage")


def _populate(cli) -> None:
    _add_referral(cli, title='带"引号",逗号\n换行 😀', party="=cmd|' /C calc'!A0",
                  note="-2+3")
    r = _add_referral(cli, title="已办结")
    assert cli("close", r, "--outcome", "filed", "--on", "2025-03-03").exit_code == 0
    assert cli("suggestion", "add", "--type", "public-interest", "--to", "sthjj", "--title",
               "紧急建议", "--urgent", "--on", "2025-03-01").exit_code == 0
    assert cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "线索",
               "--on", "2025-02-01").exit_code == 0
    m = cli("meeting", "add", "--title", "会议", "--on", "2025-03-05", "--attendees",
            "gaj,scjgj").stdout.strip()
    assert cli("action", "add", "--meeting", m, "--unit", "scjgj", "--title", "事项",
               "--due", "2025-04-01").exit_code == 0
    assert cli("referral", "update", "R1", "--stage", "accepted", "--on", "2025-03-02").exit_code == 0


@pytest.mark.parametrize("header", ["labels", "codes"])
@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_export_import_round_trip(cli, initialised, tmp_path, header, encoding):
    _populate(cli)
    before = cli.json("list", "--status", "all")
    out = tmp_path / "all.csv"
    r = cli("export", "csv", "-o", str(out), "--header", header, "--encoding", encoding)
    assert r.exit_code == 0, r.output
    empty = tmp_path / "empty.db"
    assert cli("--db", str(empty), "init").exit_code == 0
    r = cli("--db", str(empty), "import", "csv", str(out))
    assert r.exit_code == 0, r.output
    after = json.loads(cli("--db", str(empty), "list", "--status", "all", "-f", "json").stdout)
    assert after == before
    # New items continue after the imported IDs.
    r = cli("--db", str(empty), "referral", "add", "--direction", "to-admin", "--from", "jcy",
            "--to", "scjgj", "--title", "新")
    assert r.stdout.strip() == "R3"


def test_import_with_one_bad_row_imports_nothing(cli, initialised, tmp_path, snapshot):
    src = tmp_path / "in.csv"
    src.write_text(
        "title,direction,from_unit,unit,opened_on\n"
        "好的,to-criminal,scjgj,gaj,2025-03-01\n"
        "坏的,to-criminal,scjgj,nowhere,2025-03-01\n"
        "也好,to-admin,jcy,scjgj,2025-03-02\n"
        "坏日期,to-admin,jcy,scjgj,2025-02-30\n", encoding="utf-8")
    before = snapshot(initialised)
    r = cli("import", "csv", "--kind", "referral", str(src))
    assert r.exit_code == 2
    assert "line 3" in r.stderr and "line 5" in r.stderr and "line 2" not in r.stderr
    assert "nowhere" in r.stderr
    assert snapshot(initialised) == before
    r = cli("import", "csv", "--kind", "referral", str(src), "--dry-run")
    assert r.exit_code == 2
    assert snapshot(initialised) == before


def test_import_dry_run_and_kind_checks(cli, initialised, tmp_path, snapshot):
    src = tmp_path / "in.csv"
    src.write_text("标题,移送方向,移送单位,责任单位\n甲,正向移送,区市场监督管理局,gaj\n",
                   encoding="utf-8")
    before = snapshot(initialised)
    r = cli("import", "csv", "--kind", "referral", str(src), "--dry-run")
    assert r.exit_code == 0 and "dry run" in r.stderr
    assert snapshot(initialised) == before
    assert cli("import", "csv", str(src)).exit_code == 2  # no kind column and no --kind
    r = cli("import", "csv", "--kind", "referral", str(src))
    assert r.exit_code == 0
    assert cli.json("show", "R1")["from_unit"] == "scjgj"
    bad = tmp_path / "bad.csv"
    bad.write_text("title,colour\nx,red\n")
    r = cli("import", "csv", "--kind", "referral", str(bad))
    assert r.exit_code == 2 and "colour" in r.stderr


def test_import_gb18030_auto(cli, initialised, tmp_path):
    src = tmp_path / "gbk.csv"
    src.write_bytes("标题,领域,线索来源单位\n湖泊污染,生态环境和资源保护,sthjj\n".encode("gb18030"))
    r = cli("import", "csv", "--kind", "clue", str(src))
    assert r.exit_code == 0, r.output
    assert cli.json("show", "C1")["title"] == "湖泊污染"


def test_import_refuses_existing_ids(cli, initialised, tmp_path, snapshot):
    _add_referral(cli)
    src = tmp_path / "in.csv"
    src.write_text("id,title,direction,from_unit,unit\nR1,重复,to-criminal,scjgj,gaj\n")
    before = snapshot(initialised)
    r = cli("import", "csv", "--kind", "referral", str(src))
    assert r.exit_code == 2 and "R1 already exists" in r.stderr
    assert snapshot(initialised) == before


def test_pack(cli, initialised, tmp_path):
    _populate(cli)
    folder = tmp_path / "pack"
    r = cli("export", "pack", "-o", str(folder), "--meeting", "M1", "--as-of", "2025-03-20")
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(["README.txt", "overdue.csv", "due-soon.csv", "summary.csv",
                            "open-referral.csv", "open-suggestion.csv", "open-clue.csv",
                            "open-meeting.csv", "open-action.csv", "open-assist.csv",
                            "meeting-M1-actions.csv"])
    readme = (folder / "README.txt").read_text(encoding="utf-8-sig")
    assert "2025-03-20" in readme and "overdue.csv" in readme
    for name in names:
        assert (folder / name).read_bytes().startswith(b"\xef\xbb\xbf")
    overdue = _read(folder / "overdue.csv")
    assert overdue[0] == ["编号", "类别", "标题", "责任单位代码", "责任单位", "阶段", "期限", "逾期天数",
                          "义务"]
    # S1 urgent: 15 days from 03-01 → 03-16 (Sunday) → 03-17; R1 keeps 03-04; C1 30 days → 03-03
    assert [(row[0], row[-1]) for row in overdue[1:]] == [
        ("C1", "评估线索"), ("R1", "作出是否立案的决定"), ("S1", "书面回复")]
    assert _read(folder / "summary.csv")[0] == ["分组", "代码", "名称", "按期履行", "逾期履行", "未履行",
                                                "逾期未履行", "未到期", "免除", "按期率"]
    party_col = _read(folder / "open-referral.csv")[0].index("当事人")
    assert _read(folder / "open-referral.csv")[1][party_col].startswith("'=")
    actions = _read(folder / "meeting-M1-actions.csv")
    assert [row[0] for row in actions[1:]] == ["A1"]
    again = cli("export", "pack", "-o", str(folder))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert cli("export", "pack", "-o", str(tmp_path / "p2"), "--meeting", "M9").exit_code == 2


def test_backup_is_consistent_and_private(cli, initialised, tmp_path):
    _populate(cli)
    target = tmp_path / "backup.db"
    r = cli("backup", str(target))
    assert r.exit_code == 0, r.output
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    con = sqlite3.connect(target)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    original = cli.json("list", "--status", "all")
    copy = json.loads(cli("--db", str(target), "list", "--status", "all", "-f", "json").stdout)
    assert copy == original
    assert cli("backup", str(target)).exit_code == 2
    assert cli("backup", str(target), "--force").exit_code == 0
    if isinstance(initialised, Path):  # a server database has no file to write over
        assert cli("backup", str(initialised), "--force").exit_code == 2
        assert os.path.getsize(initialised) > 0


def test_restore_of_a_folder_says_it_is_a_folder(cli, initialised, tmp_path, snapshot):
    before = snapshot(initialised)
    r = cli("restore", str(tmp_path), "--force")
    assert r.exit_code == 2 and "is a folder" in r.stderr and r.stderr.count("\n") == 1
    assert snapshot(initialised) == before
