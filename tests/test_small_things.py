"""Issue 22, point 8: the small things that cost a new user a try each — a global option
given after the command gets a hint naming where it goes; a second escalation of the same
request is refused unless `--again --reason` says it is meant."""

from __future__ import annotations

import subprocess
import sys

from conftest import query_rows


def fujian(*args: str) -> subprocess.CompletedProcess:
    """The console script's own handling of usage errors (main), in a child."""
    return subprocess.run([sys.executable, "-m", "fujian", *args], capture_output=True,
                          text=True, timeout=60)


def test_db_after_the_command_says_where_it_goes(initialised):
    result = fujian("list", "--db", "other.db")
    assert result.returncode == 2
    assert result.stderr == ("error: --db is an option of fujian itself: give it before the "
                             "command, as in `fujian --db PATH_OR_URL list …`.\n")
    result = fujian("report", "overdue", "--db", "other.db")
    assert "`fujian --db PATH_OR_URL report overdue …`" in result.stderr


def test_an_unknown_option_still_names_the_command_help(initialised):
    result = fujian("list", "--bogus")
    assert result.returncode == 2
    assert result.stderr == "error: No such option: --bogus (see `fujian list --help`)\n"


def _obstructed(cli) -> None:
    assert cli("assist", "add", "--type", "query", "--to", "zjj", "--title", "查询不动产登记信息",
               "--on", "2025-03-03").exit_code == 0
    assert cli("assist", "update", "X1", "--stage", "obstructed", "--on", "2025-03-07") \
        .exit_code == 0


def test_a_second_escalation_needs_again_and_a_reason(cli, initialised):
    _obstructed(cli)
    assert cli("assist", "escalate", "X1").exit_code == 0
    result = cli("assist", "escalate", "X1")
    assert result.exit_code == 2, result.output
    assert result.stderr == ("error: X1 already opened S1 by escalate: to open another, give "
                             "--again with --reason TEXT.\n")
    result = cli("assist", "escalate", "X1", "--again")
    assert result.exit_code == 2 and "--reason" in result.stderr
    assert query_rows(initialised, "SELECT count(*) AS n FROM item WHERE kind = 'suggestion'") \
        == [{"n": 1}]
    result = cli("assist", "escalate", "X1", "--again", "--reason", "第一份建议送错单位")
    assert result.exit_code == 0, result.output
    assert result.stdout == "S2\n"
    reasons = [r["reason"] for r in query_rows(
        initialised, "SELECT reason FROM change_log WHERE subject = 'X1' AND action = 'escalate'")]
    assert "第一份建议送错单位" in reasons


def test_a_voided_escalation_does_not_count(cli, initialised):
    _obstructed(cli)
    assert cli("assist", "escalate", "X1").exit_code == 0
    assert cli("void", "S1", "--reason", "误操作").exit_code == 0
    result = cli("assist", "escalate", "X1")
    assert result.exit_code == 0, result.output


def test_the_demo_has_assistance_requests_one_obstructed_and_escalated(tmp_path):
    from fujian.demo import build_demo

    build_demo(tmp_path / "demo.db")
    rows = query_rows(tmp_path / "demo.db", "SELECT kind, number, stage, related_id, id FROM item"
                      " WHERE kind IN ('assist', 'suggestion') ORDER BY id")
    assists = [r for r in rows if r["kind"] == "assist"]
    assert len(assists) >= 3
    obstructed = [r for r in assists if r["stage"] == "obstructed"]
    assert obstructed
    assert any(r["kind"] == "suggestion" and r["related_id"] == obstructed[0]["id"] for r in rows)


def test_a_document_number_already_used_warns_naming_the_other_item(cli, initialised):
    add = ("suggestion", "add", "--type", "correction", "--to", "rsj", "--title")
    assert cli(*add, "甲", "--doc-no", "夏检行建〔2025〕3号").stderr == ""
    result = cli(*add, "乙", "--doc-no", "夏检行建[２０２５]３号")  # the same number, typed anyhow
    assert result.exit_code == 0 and result.stdout == "S2\n"
    assert result.stderr == ("warning: S2's document number 夏检行建[２０２５]３号 is also that of "
                             "S1: check it is not entered twice.\n")
    assert cli(*add, "丙", "--doc-no", "夏检行建〔2025〕4号").stderr == ""
    result = cli("suggestion", "update", "S3", "--doc-no", "夏检行建(2025)3号")
    assert "is also that of S1, S2" in result.stderr
    assert cli("void", "S1", "--reason", "重复").exit_code == 0
    result = cli("suggestion", "update", "S3", "--doc-no", "夏检行建〔2025〕3号")
    assert "is also that of S2:" in result.stderr  # a void entry is no longer a twin


def test_an_unknown_unit_suggests_the_closest_names(cli, initialised):
    result = cli("referral", "add", "--direction", "to-criminal", "--title", "案", "--from",
                 "市场监管局", "--to", "gaj")
    assert result.exit_code == 2
    assert result.stderr == ("error: Unknown unit '市场监管局': did you mean 区市场监督管理局 (scjgj)? "
                             "Give a code or the exact name from `fujian unit list`.\n")
    result = cli("referral", "add", "--direction", "to-criminal", "--title", "案", "--from",
                 "zzz", "--to", "gaj")
    assert "did you mean" not in result.stderr
