"""Issue 20: facts said once — one CSV writer, one table renderer, one id format."""

from __future__ import annotations

import csv
import io

from fujian.deadlines import Period


def test_calendar_due_csv_goes_through_the_one_writer(cli, monkeypatch) -> None:
    # A value needing both quoting (a comma) and neutralising (a leading =): written by hand,
    # it split into two cells and reached a spreadsheet as a formula.
    monkeypatch.setattr(Period, "__str__", lambda self: "=HYPERLINK(1),2")
    r = cli("calendar", "due", "2025-01-15", "2m", "--format", "csv")
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["start", "period", "nominal", "due", "rolled_over"]
    assert rows[1][:4] == ["2025-01-15", "'=HYPERLINK(1),2", "2025-03-15", "2025-03-17"]
    assert len(rows[1]) == 5


def test_calendar_due_plain_unchanged(cli) -> None:
    r = cli("calendar", "due", "2025-01-15", "2m", "--format", "plain")
    assert r.exit_code == 0, r.output
    assert r.stdout.splitlines() == ["start\tperiod\tnominal\tdue\trolled_over",
                                     "2025-01-15\t2m\t2025-03-15\t2025-03-17\t2025-03-15 2025-03-16"]
