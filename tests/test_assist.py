"""Assistance requests (协助调查核实, kind assist, issue 13): a whole life — the unit asked owes
the assistance, obstruction hands the decision to the procuratorate, escalation opens a linked
检察建议 — through the service and through the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest

from fujian.errors import BadInput
from fujian.kinds import KINDS

ASSIST = KINDS["assist"]


def show(tracker, ident: str) -> dict:
    return tracker.show(ident)


def duties(row: dict) -> list[tuple]:
    return [(d["name"], d["holder"], d["state"]) for d in row["duties"]]


def add(tracker, **values) -> str:
    base = {"type": "retrieve", "unit": "zjj", "title": "调取某小区项目审批材料",
            "doc_no": "夏检民协〔2025〕2号", "opened_on": "2025-03-03"}
    return tracker.add("assist", {**base, **values}).ident


def test_a_request_is_due_in_ten_working_days_unless_the_letter_says(tracker):
    ident = add(tracker)
    row = show(tracker, ident)
    assert ident == "X1"
    # 3 March 2025 is a Monday: ten working days later is Monday 17 March.
    assert (row["unit"], row["stage"], row["due_on"]) == ("zjj", "requested", date(2025, 3, 17))
    assert (row["type"], row["doc_no"], row["item"]) == ("retrieve", "夏检民协〔2025〕2号", None)
    assert duties(row) == [("assist", "zjj", "open")]
    letter = add(tracker, due_on="2025-03-31")
    assert show(tracker, letter)["due_on"] == date(2025, 3, 31)


def test_the_default_period_is_a_local_rule_without_statute(tracker):
    rules = [r for r in tracker.rules.rules if r.kind == "assist"]
    assert {r.stage for r in rules} == {"requested", "obstructed"}
    assert all(r.local for r in rules)
    assert str(tracker.rules.find("assist", "retrieve", "requested").period) == "10wd"


def test_a_request_names_its_related_item_of_any_kind(tracker, make_item):
    for kind in ("referral", "suggestion", "clue", "meeting", "action"):
        other = make_item(kind)
        ident = add(tracker, item=other.lower())
        assert show(tracker, ident)["item"] == other
        assert show(tracker, other)["linked"] == [ident]
    with pytest.raises(BadInput, match="Not an item ID"):
        add(tracker, item="Q1")


def test_assisting_lets_the_clock_run_and_completion_meets_the_duty(tracker):
    ident = add(tracker)
    tracker.update(ident, {"stage": "assisting", "on": "2025-03-05"})
    row = show(tracker, ident)
    assert (row["stage"], row["unit"], row["due_on"]) == ("assisting", "zjj", date(2025, 3, 17))
    tracker.close(ident, "completed", on="2025-03-07")
    row = show(tracker, ident)
    assert (row["status"], row["outcome"]) == ("closed", "completed")
    assert duties(row) == [("assist", "zjj", "met")]


def test_a_withdrawn_request_waives_the_duty(tracker):
    ident = add(tracker)
    tracker.close(ident, "withdrawn", on="2025-03-09")
    assert duties(show(tracker, ident)) == [("assist", "zjj", "waived")]


def test_obstruction_moves_the_duty_to_the_procuratorate(tracker):
    ident = add(tracker)
    tracker.update(ident, {"stage": "obstructed", "on": "2025-03-07"})
    row = show(tracker, ident)
    # The unit's duty ends unmet — it refused or obstructed (人民检察院组织法 第二十一条: units
    # shall assist), on time or not; the procuratorate (jcy, named in deadlines.toml
    # [holders]) must decide on escalation within 15 days: 22 March is a Saturday, so Monday
    # 24 March.
    assert duties(row) == [("assist", "zjj", "unmet"), ("decide-escalation", "jcy", "open")]
    assert (row["unit"], row["assignee"], row["due_on"]) == ("jcy", "zjj", date(2025, 3, 24))
    late = list(tracker.overdue(date(2025, 3, 31)))
    assert [(r["id"], r["unit"], r["days_overdue"]) for r in late] == [(ident, "jcy", 7)]


def test_escalation_opens_a_linked_correction_suggestion_and_records_the_report(tracker):
    ident = add(tracker)
    with pytest.raises(BadInput, match="escalate needs stage obstructed"):
        tracker.open_linked(ident, ASSIST, "escalate", {})
    tracker.update(ident, {"stage": "obstructed", "on": "2025-03-07"})
    with pytest.raises(BadInput, match="--superior"):
        tracker.open_linked(ident, ASSIST, "escalate", {"unit": "zjj"}, superior=True)
    outcome = tracker.open_linked(ident, ASSIST, "escalate", {"unit": "gov"}, superior=True,
                                  report="已书面报告区委、区政府")
    sug = show(tracker, outcome.ident)
    assert (sug["kind"], sug["type"], sug["unit"], sug["stage"]) == \
        ("suggestion", "correction", "gov", "delivered")
    assert sug["title"] == f"调取某小区项目审批材料（{ident}）"
    assert sug["linked"] == [ident]
    request = show(tracker, ident)
    assert request["linked"] == [outcome.ident]
    # Escalating is the decision the procuratorate owed: met, and the request's clock stops.
    assert duties(request) == [("assist", "zjj", "unmet"), ("decide-escalation", "jcy", "met")]
    assert request["due_on"] is None and request["status"] == "open"
    notes = [n["text"] for n in request["notes"]]
    assert notes[-1] == "已书面报告区委、区政府"
    assert outcome.ident in notes[-2] and "superior" in notes[-2]
    actions = [h["action"] for h in tracker.history(ident)]
    assert "escalate" in actions and "report" in actions
    tracker.close(ident, "refused", on="2025-03-10")
    assert show(tracker, ident)["outcome"] == "refused"


def test_assist_cli_whole_life(cli, initialised, tmp_path):
    r = cli("assist", "add", "--type", "query", "--to", "zjj", "--title", "查询不动产登记信息",
            "--doc-no", "夏检民协〔2025〕2号", "--on", "2025-03-03")
    assert r.exit_code == 0, r.output
    assert r.stdout == "X1\n"
    row = cli.json("show", "X1")
    assert (row["type"], row["due_on"], row["unit"]) == ("query", "2025-03-17", "zjj")
    assert [r["id"] for r in cli.json("assist", "list")] == ["X1"]
    assert cli("assist", "update", "X1", "--stage", "obstructed", "--on", "2025-03-07") \
        .exit_code == 0
    assert cli.json("show", "X1")["unit"] == "jcy"
    r = cli("assist", "escalate", "X1", "--report", "已报告区委、区政府")
    assert r.exit_code == 0, r.output
    assert r.stdout == "S1\n"
    assert cli.json("show", "S1")["linked"] == ["X1"]
    assert cli.json("suggestion", "show", "S1")["unit"] == "zjj"
    shown = cli("show", "X1", "--format", "plain").stdout
    assert "X1" in shown
    out = cli("report", "overdue", "--as-of", "2025-03-31", "--format", "json")
    assert json.loads(out.stdout) == []  # the escalation met the procuratorate's duty
    out = tmp_path / "x.csv"
    assert cli("export", "csv", "--kind", "assist", "--header", "codes", "-o", str(out)) \
        .exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [(r["id"], r["type"], r["stage"]) for r in rows] == [("X1", "query", "obstructed")]
    r = cli("assist", "close", "X1", "--outcome", "拒绝协助", "--on", "2025-03-10")
    assert r.exit_code == 0, r.output
    assert cli.json("show", "X1")["outcome"] == "refused"


def test_assist_help_in_both_languages(cli, monkeypatch):
    r = cli("assist", "escalate", "--help")
    assert r.exit_code == 0 and "--superior" in r.stdout and "--report" in r.stdout
    r = cli("assist", "add", "--help")
    assert "fujian assist add --type retrieve" in r.stdout and "--item" in r.stdout
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    r = cli("assist", "update", "--help")
    assert r.exit_code == 0 and "收到协助函之日" in r.stdout and "人民检察院" in r.stdout


def test_escalation_cannot_come_before_the_obstruction(cli, initialised):
    assert cli("assist", "add", "--type", "query", "--to", "zjj", "--title", "查询",
               "--on", "2025-03-01").exit_code == 0
    assert cli("assist", "update", "X1", "--stage", "obstructed", "--on", "2025-03-05") \
        .exit_code == 0
    r = cli("assist", "escalate", "X1", "--superior", "--to", "gov", "--on", "2025-03-04")
    assert r.exit_code == 2 and "current stage obstructed" in r.stderr
    assert cli.json("suggestion", "list", "--status", "all") == []  # nothing was opened
