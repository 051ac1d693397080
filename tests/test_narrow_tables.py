"""Issue 22, point 5: a table never drops a count — at 60 columns `report summary` dropped
Overdue and Open, at 80 in Chinese 免除, so the numbers shown no longer added up to the rate.
Now dates, codes, groups and a rate's bar give way first; below the width the counts need,
each row is written as "header value" pairs that wrap, with a line saying how to get the table."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

COUNTS_EN = ("On time", "Late", "Unmet", "Overdue", "Open", "Waived", "On-time rate")
COUNTS_ZH = ("按期履行", "逾期履行", "未履行", "逾期未履行", "未到期", "免除", "按期率")


@pytest.fixture
def some_duties(cli, initialised):
    for args in (("referral", "add", "--direction", "to-criminal", "--title", "假药案", "--from",
                  "scjgj", "--to", "gaj", "--on", "2025-03-03"),
                 ("suggestion", "add", "--type", "correction", "--to", "rsj", "--title", "纠正",
                  "--on", "2025-01-02")):
        assert cli(*args).exit_code == 0


@pytest.mark.parametrize("width", [40, 60, 80, 120])
@pytest.mark.parametrize(("lang", "counts"), [("en", COUNTS_EN), ("zh_CN", COUNTS_ZH)])
def test_every_count_of_the_summary_is_shown_at_any_width(cli, some_duties, monkeypatch,
                                                          width, lang, counts):
    monkeypatch.setenv("COLUMNS", str(width))
    monkeypatch.setenv("FUJIAN_LANG", lang)
    shown = cli("report", "summary", "--format", "table").stdout
    flat = " ".join(shown.replace("\u00a0", " ").split())
    for header in counts:
        assert header.replace(" ", "") in flat.replace(" ", ""), (width, header, shown)
    widest = max(cell_len(line) for line in shown.splitlines())
    assert widest <= width, shown  # nothing runs past the terminal's edge


def test_a_narrow_terminal_is_told_how_to_get_the_table(cli, some_duties, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    shown = cli("report", "summary", "--format", "table").stdout
    assert "--format plain" in shown
    monkeypatch.setenv("COLUMNS", "160")
    assert "--format plain" not in cli("report", "summary", "--format", "table").stdout
