"""Issue 22, point 8: a note may say on which day its event happened (`note ID TEXT --on D`:
a phone call made yesterday is recorded today as yesterday's), never in the future; the
notes already kept have no such day, and none is invented for them."""

from __future__ import annotations

from conftest import query_rows

ADD = ("referral", "add", "--direction", "to-criminal", "--title", "案", "--from", "scjgj",
       "--to", "gaj", "--on", "2025-03-03")


def test_a_note_keeps_the_day_its_event_happened(cli, initialised):
    assert cli(*ADD).exit_code == 0
    result = cli("note", "R1", "已电话督促", "--on", "2025-03-09")
    assert result.exit_code == 0, result.output
    assert cli("note", "R1", "今天的记录").exit_code == 0
    notes = cli.json("show", "R1")["notes"]
    assert [(n["text"], n["day"]) for n in notes] == [("已电话督促", "2025-03-09"),
                                                    ("今天的记录", None)]
    shown = cli("show", "R1", "-f", "plain").stdout
    assert "at\tactor\ttext\tday\n" in shown and "\t已电话督促\t2025-03-09\n" in shown


def test_a_note_day_in_the_future_is_refused(cli, initialised):
    assert cli(*ADD).exit_code == 0
    result = cli("note", "R1", "明天的事", "--on", "2025-03-11")  # today is 2025-03-10
    assert result.exit_code == 2
    assert "is after today" in result.stderr
    assert query_rows(initialised, "SELECT count(*) AS n FROM note")[0]["n"] == 0


def test_notes_without_a_day_show_no_day_column(cli, initialised):
    assert cli(*ADD).exit_code == 0
    assert cli("note", "R1", "记录").exit_code == 0
    assert "at\tactor\ttext\n" in cli("show", "R1", "-f", "plain").stdout
