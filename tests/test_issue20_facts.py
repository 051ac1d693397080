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


def test_grouped_overdue_table_fits_a_narrow_terminal(tracker, make_item, monkeypatch) -> None:
    from datetime import date

    from rich.cells import cell_len

    from fujian.kinds import OVERDUE_COLUMNS
    from fujian.render import overdue_by_unit

    make_item("referral", opened_on="2025-01-02", title="某公司销售假药案涉嫌生产销售伪劣产品罪" * 2)
    make_item("suggestion", opened_on="2025-01-02", due_on="2025-02-05", title="纠正违规发放补贴")
    day = date(2025, 3, 10)
    rows = list(tracker.overdue(day))
    assert len(rows) == 2
    monkeypatch.setenv("COLUMNS", "60")
    out = io.StringIO()
    assert overdue_by_unit(rows, OVERDUE_COLUMNS, day, out) == 2
    text = out.getvalue()
    assert max(cell_len(line) for line in text.splitlines()) <= 60, text
    # Fitted as every other table: low-value columns give way (here the kind, which the ID
    # says, and the owed duty) before a title folds to two characters a line.
    assert "某公司销售假药案" in text and "纠正违规发放补贴" in text, text
    assert "Total overdue: 2; units concerned: 2." in text
    assert text.index("(gaj): 1") < text.index("(rsj): 1")  # the most overdue unit first


def test_format_id_is_split_ids_inverse() -> None:
    from fujian.kinds import KINDS, format_id, split_id

    for code, kind in KINDS.items():
        assert format_id(kind, 12) == format_id(code, 12)
        assert split_id(format_id(kind, 12)) == (kind, 12)
