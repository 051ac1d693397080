"""`fujian rules` (issue 19, point 7): every default deadline rule with its basis, so that a
statutory period can be told from a district's own (本地规定 / local rule); and `show` marks a
local due date and a right in words."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tomllib
from pathlib import Path

from fujian.deadlines import RuleBook
from fujian.resources import data_file

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["kind", "subtype", "stage", "duty", "holder", "starts_at", "period", "right", "local",
        "basis"]


def ok(result) -> str:
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result.stdout


def rule_tables() -> list[dict]:
    """The [[rule]] tables of the shipped data/deadlines.toml, read without fujian's loader."""
    with data_file("deadlines.toml").open("rb") as fh:
        return tomllib.load(fh)["rule"]


def find(rows: list[dict], **wanted) -> list[dict]:
    return [r for r in rows if all(r[k] == v for k, v in wanted.items())]


def test_json_rows_have_exactly_the_contract_keys(cli):
    rows = cli.json("rules")
    assert rows and all(list(row) == KEYS for row in rows)


def test_every_rule_of_the_file_is_listed_in_file_order(cli):
    tables = rule_tables()
    rows = cli.json("rules")
    assert len(rows) == len(tables) > 0
    assert [(r["kind"], r["subtype"], r["stage"], r["duty"], r["basis"]) for r in rows] == [
        (t["kind"], t.get("subtype"), t["stage"], t["duty"], t["source"]) for t in tables]


def test_a_rule_without_an_article_is_local():
    """What no article sets is a district's choice and must say so (issue 19, point 7)."""
    rules = RuleBook.load(data_file("deadlines.toml")).rules
    uncited = [r for r in rules if not r.cites_article]
    assert uncited  # the clue evaluation's 30 days, consultation, action items cite none
    assert [(r.kind, r.stage, r.duty) for r in uncited if not r.local] == []


def test_json_says_local_where_no_statute_sets_the_period(cli):
    """刑诉法 第一百七十七条第三款 and 刑诉规则 第三百七十三条 say the organ replies 及时 (no
    period); no statute sets a clue's evaluation time; 人民检察院组织法 第二十一条 says a unit
    shall assist, not within how long; no rule sets the time to decide on escalation."""
    rows = cli.json("rules")
    local = {(r["kind"], r["subtype"], r["stage"], r["duty"]): r["local"] for r in rows}
    assert local[("clue", None, "received", "evaluate")] is True
    assert local[("referral", "to-admin", "sent", "reply")] is True
    assert local[("assist", None, "requested", "assist")] is True
    assert local[("assist", None, "obstructed", "decide-escalation")] is True
    # statutory ones are not: 310号令 第八条, 检察建议工作规定 第十九条
    assert local[("referral", "to-criminal", "accepted", "decide-filing")] is False
    assert local[("suggestion", None, "delivered", "reply")] is False


def test_objecting_to_not_filing_is_a_right_and_reads_as_such(cli):
    """310号令 第九条第一款 (可以提请复议) and 第二款 (可以建议人民检察院立案监督): rights of the
    sending unit, held by the from_unit field, 3 days from receipt."""
    rows = cli.json("rules", "referral")
    not_filed = find(rows, stage="not-filed")
    reconsidered = find(rows, stage="reconsidered")
    assert [(r["duty"], r["holder"], r["starts_at"], r["period"], r["right"], r["local"])
            for r in not_filed + reconsidered] == [
        ("request-reconsideration", "from_unit", "refusal-received", "3d", True, False),
        ("request-supervision", "from_unit", "decision-received", "3d", True, False)]
    assert [r["stage"] for r in rows if r["right"]] == ["not-filed", "reconsidered"]


def test_holder_period_and_event_in_codes(cli):
    """A fixed holder is its unit code (刑诉规则 第五百五十七条: the procuratorate examines the
    proposal, with no period); working days keep their unit."""
    rows = cli.json("rules")
    examine = find(rows, stage="supervision-requested")[0]
    assert (examine["holder"], examine["period"], examine["starts_at"]) == (
        "jcy", None, "proposal-received")
    assist = find(rows, kind="assist", stage="requested")[0]
    assert (assist["holder"], assist["period"]) == ("unit", "10wd")
    clue_reply = find(rows, kind="clue", stage="suggested", duty="reply")
    assert [(r["holder"], r["period"]) for r in clue_reply] == [("to_unit", "2m"),
                                                                 ("to_unit", "15d")]
    assert find(rows, kind="suggestion", stage="delivered")[0]["subtype"] is None


def test_plain_of_one_kind_has_only_its_rows(cli):
    lines = ok(cli("rules", "referral", "--format", "plain")).splitlines()
    assert lines[0].split("\t") == KEYS
    assert len(lines) == 1 + 10
    assert all(line.split("\t")[0] == "referral" for line in lines[1:])
    assert lines[6].split("\t")[:9] == ["referral", "to-criminal", "supervision-requested",
                                        "examine-proposal", "jcy", "proposal-received", "",
                                        "false", "false"]


def test_kind_by_chinese_label_and_csv(cli):
    out = ok(cli("rules", "协助调查核实", "--format", "csv"))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["stage"], r["period"], r["right"], r["local"]) for r in rows] == [
        ("requested", "10wd", "false", "true"), ("obstructed", "15d", "false", "true")]


def test_a_kind_without_rules_lists_nothing(cli):
    assert cli.json("rules", "meeting") == []


def test_unknown_kind_is_one_line_and_exit_2(cli):
    result = cli("rules", "bogus")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Unknown kind 'bogus'.")


def test_table_names_everything_in_words(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    out = ok(cli("rules", "referral", "--format", "table"))
    assert "Deadline rules: 案件移送" in out
    lines = out.splitlines()
    admin = next(line for line in lines if "检察意见书已送达" in line)
    for words in ("反向衔接", "书面回复", "2m", "接收单位", "收到检察意见书之日", "Local rule"):
        assert words in admin, words
    right = next(line for line in lines if "不予立案" in line and "│" in line)
    for words in ("提请复议或建议立案监督", "移送单位", "收到不予立案通知书之日", "Right"):
        assert words in right, words
    examine = next(line for line in lines if "已提请立案监督" in line)
    assert "人民检察院" in examine and "jcy" not in examine
    assert "True" not in out and "true" not in out and "False" not in out


def test_table_in_chinese_says_local_rule(cli, monkeypatch):
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    monkeypatch.setenv("COLUMNS", "250")
    out = ok(cli("rules", "clue", "--format", "table"))
    evaluate = next(line for line in out.splitlines() if "评估线索" in line)
    assert "本地规定" in evaluate.split("本地规定：")[0]  # the mark, before the note itself
    header = next(line for line in out.splitlines() if "阶段" in line)
    assert "本地规定" in header
    urgent = next(line for line in out.splitlines() if "15d" in line)
    assert "紧急" in urgent


def test_all_kinds_table_has_one_table_per_kind_with_rules(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    out = ok(cli("rules", "--format", "table"))
    titles = [line.strip() for line in out.splitlines() if line.strip().startswith("Deadline")]
    assert titles == ["Deadline rules: 案件移送", "Deadline rules: 检察建议",
                      "Deadline rules: 公益诉讼线索", "Deadline rules: 议定事项",
                      "Deadline rules: 协助调查核实"]


def test_rules_need_no_database(cli, db_path):
    """The rules are the shipped file's: no database is opened, none is made."""
    assert len(cli.json("rules")) == len(rule_tables())
    if isinstance(db_path, Path):
        assert not db_path.exists()


def test_rules_do_not_load_the_database_layer():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom fujian.cli import app\n"
            "r = CliRunner().invoke(app, ['rules', '--format', 'json'])\n"
            "assert r.exit_code == 0, r.output\n"
            "print(','.join(m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'holidays')"
            " if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""


# -- show: a local due date and a right in words -----------------------------------------------


def duty_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("│")]


def test_show_marks_a_local_due_date_in_words(cli, initialised, monkeypatch):
    """No statute sets a clue's evaluation time: its due date is the district's (本地规定)."""
    ok(cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "非法采砂线索",
           "--on", "2025-03-03"))
    monkeypatch.setenv("COLUMNS", "200")
    out = ok(cli("show", "C1", "--format", "table"))
    [evaluate] = [line for line in duty_lines(out) if "评估线索" in line]
    assert "Local rule" in evaluate and "True" not in out and "yes" not in evaluate
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    out = ok(cli("show", "C1", "--format", "table"))
    [evaluate] = [line for line in duty_lines(out) if "评估线索" in line]
    assert evaluate.count("本地规定") == 1 and "是" not in evaluate
    # scripts keep true/false, JSON booleans
    plain = ok(cli("show", "C1", "--format", "plain")).splitlines()
    header = plain.index(next(line for line in plain if line.startswith("name\t")))
    assert plain[header].split("\t")[-3:] == ["right", "local", "provisional"]
    assert plain[header + 1].split("\t")[-3:] == ["false", "true", "false"]
    [duty] = cli.json("show", "C1")["duties"]
    assert (duty["right"], duty["local"], duty["provisional"]) == (False, True, False)


def test_show_marks_a_right_in_words(cli, initialised, monkeypatch):
    """310号令 第九条第一款: after 不予立案 the sending unit may (可以) ask for 复议."""
    ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
           "--title", "某公司销售假药案", "--on", "2025-03-03"))
    ok(cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-05"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    out = ok(cli("show", "R1", "--format", "table"))
    [right] = [line for line in duty_lines(out) if "提请复议或建议立案监督" in line]
    assert "权利" in right and "区市场监督管理局" in right
    [decide] = [line for line in duty_lines(out) if "作出是否立案的决定" in line]
    assert "权利" not in decide and "本地规定" not in decide
