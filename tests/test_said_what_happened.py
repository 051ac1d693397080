"""Issue 22, point 7: `close`, `update --stage` and `reply` say the verdict of every duty they
ended — met on time, late by how many days, unmet, waived — on stderr, in the reader's
language; stdout stays the ID a script reads. Before, `close` said only "Closed R1." when it
had just ended a duty 13 days late."""

from __future__ import annotations

import pytest

REFERRAL = ("referral", "add", "--direction", "to-criminal", "--title", "案", "--from", "scjgj",
            "--to", "gaj", "--on", "2025-03-03")  # 公安 decides on filing by 2025-03-06


def test_close_says_a_duty_was_met_late_and_by_how_many_days(cli, initialised):
    assert cli(*REFERRAL).exit_code == 0
    result = cli("referral", "close", "R1", "--outcome", "not-filed", "--on", "2025-03-09")
    assert result.exit_code == 0, result.output
    assert result.stderr == ("decide-filing (gaj): met 3 day(s) late (due 2025-03-06, met "
                             "2025-03-09).\nClosed R1.\n")


def test_close_in_chinese_names_the_duty_and_the_days(cli, initialised, monkeypatch):
    assert cli(*REFERRAL).exit_code == 0
    monkeypatch.setenv("FUJIAN_LANG", "zh_CN")
    result = cli("referral", "close", "R1", "--outcome", "not-filed", "--on", "2025-03-09")
    assert result.exit_code == 0, result.output
    assert "作出是否立案的决定（gaj）：逾期 3 天履行（期限 2025-03-06，履行日 2025-03-09）。" \
        in result.stderr


def test_a_stage_met_on_time_says_so(cli, initialised):
    assert cli(*REFERRAL).exit_code == 0
    result = cli("referral", "update", "R1", "--stage", "not-filed", "--on", "2025-03-05")
    assert result.exit_code == 0, result.output
    assert "decide-filing (gaj): met on time." in result.stderr
    assert result.stdout == "R1\n"


def test_a_reply_says_its_verdict(cli, initialised):
    assert cli("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "督促",
               "--on", "2025-01-02").exit_code == 0
    result = cli("suggestion", "reply", "S1", "--on", "2025-03-07")
    assert result.exit_code == 0, result.output
    assert "reply (rsj): met " in result.stderr and "day(s) late" in result.stderr


@pytest.mark.parametrize(("outcome", "said"), [("withdrawn", "waived: nobody's failure")])
def test_a_duty_ended_by_a_withdrawal_is_waived(cli, initialised, outcome, said):
    assert cli(*REFERRAL).exit_code == 0
    result = cli("referral", "close", "R1", "--outcome", outcome, "--on", "2025-03-05")
    assert result.exit_code == 0, result.output
    assert f"decide-filing (gaj): {said}." in result.stderr
