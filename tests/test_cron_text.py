"""Issue 22, point 6: the report cron mails reads well — `report overdue --format text` prints a
dated report, one paragraph per unit that owes (worst first), each line saying what is owed
and how many days late, in Chinese even when cron's locale is C (a document for the office);
nothing at all when nothing is overdue, so cron mails only when there is news."""

from __future__ import annotations

import pytest


@pytest.fixture
def cron_locale(monkeypatch):
    monkeypatch.delenv("FUJIAN_LANG", raising=False)
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C")


def _two_units_late(cli) -> None:
    for args in (("referral", "add", "--direction", "to-criminal", "--title", "假药案", "--from",
                  "scjgj", "--to", "gaj", "--on", "2025-03-03"),  # gaj: due 03-06
                 ("suggestion", "add", "--type", "correction", "--to", "rsj", "--title",
                  "纠正违规发放", "--on", "2025-01-02"),  # rsj: two months, due 03-03
                 ("referral", "add", "--direction", "to-criminal", "--title", "非法采砂案",
                  "--from", "sthjj", "--to", "gaj", "--on", "2025-03-04")):  # gaj: due 03-07
        assert cli(*args).exit_code == 0


def test_the_text_report_is_dated_grouped_and_chinese_under_cron(cli, initialised,
                                                                  cron_locale):
    _two_units_late(cli)
    result = cli("report", "overdue", "--format", "text", "--fail-if-any")
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "府检联动逾期未履行事项（截至 2025-03-10）：共 3 项，涉及 2 个单位。"
    assert lines[2] == "区人力资源和社会保障局（rsj）：1 项"  # the worst first
    assert lines[3].startswith("  S1 纠正违规发放：书面回复，逾期 7 天（期限 2025-03-03）")
    assert lines[5] == "市公安局江夏区分局（gaj）：2 项"
    assert lines[6] == "  R1 假药案：作出是否立案的决定，逾期 4 天（期限 2025-03-06）。"
    assert lines[7] == "  R2 非法采砂案：作出是否立案的决定，逾期 3 天（期限 2025-03-07）。"


def test_english_when_fujian_lang_says_so(cli, initialised, monkeypatch):
    _two_units_late(cli)
    result = cli("report", "overdue", "--format", "text")
    assert result.stdout.startswith("Overdue as of 2025-03-10: 3 item(s) owed by 2 unit(s).\n")


def test_nothing_overdue_prints_nothing(cli, initialised, cron_locale):
    result = cli("report", "overdue", "--format", "text", "--fail-if-any")
    assert (result.exit_code, result.stdout) == (0, "")


def test_text_is_a_format_of_the_report_only(cli, initialised):
    result = cli("list", "--format", "text")
    assert result.exit_code == 2 and "Unknown format 'text'" in result.stderr
