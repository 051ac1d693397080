"""The service modules form a DAG (issue 20): a module low in the graph (search, queries) loads
neither the tracker nor a database backend, no service module imports one that imports it back,
and the past list filters with the same SQL statement as the present one."""

from __future__ import annotations

import json
import subprocess
import sys

import grimp
import pytest

# What a low module must not drag in: the facade and the modules above it, and a server's driver.
# (fujian.storage itself, the layer below, loads its backend modules: they import no driver
# but the standard library's sqlite3.)
HEAVY = ("fujian.service.tracker", "fujian.service.items", "fujian.service.transfer", "psycopg")


@pytest.mark.parametrize("module", ["fujian.service.search", "fujian.service.queries"])
def test_a_low_service_module_loads_neither_the_facade_nor_a_server_driver(module):
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                       capture_output=True, text=True).stdout)
    assert [m for m in HEAVY if m in loaded] == []


def test_the_package_still_gives_the_tracker():
    from fujian.service import Tracker, current_actor
    from fujian.service.tracker import Tracker as Direct

    assert Tracker is Direct and callable(current_actor)


def test_no_service_module_imports_one_that_imports_it_back():
    graph = grimp.build_graph("fujian")  # imports inside functions count too
    service = sorted(m for m in graph.modules if m.startswith("fujian.service."))
    loops = []
    for module in service:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("fujian.service.") and imported != module and \
                    graph.chain_exists(imported, module):
                loops.append((module, imported))
    assert loops == []


def test_the_past_and_the_present_list_filter_with_one_statement(tracker, make_item):
    """At a day after every record, the past list (rebuilt at that day) and the present one
    (the item rows) give the same items for every filter: both run queries._statement, the
    past one with the state of that day in place of the item row's."""
    from datetime import date, timedelta

    from fujian.kinds import KINDS
    from fujian.service.queries import Filters, _statement, iter_items, units_by_id

    today = tracker.today
    ref = make_item("referral", opened_on="2025-01-06")
    tracker.update(ref, {"stage": "not-filed", "on": "2025-01-13"})  # a right, lapsed by now
    make_item("suggestion", type="public-interest", unit="sthjj", opened_on="2025-01-06")
    make_item("clue", opened_on="2025-01-02")
    make_item("assist", opened_on="2025-02-20")
    tracker.close(make_item("referral", opened_on="2025-02-03"), "filed", on="2025-02-05")
    make_item("action", due_on="2025-03-31")
    with tracker.store.engine.connect() as conn:
        gaj = next(pk for pk, (code, _name) in units_by_id(conn).items() if code == "gaj")
        cases = [Filters(), Filters(status="all"), Filters(status="closed"),
                 Filters(unit_id=gaj, status="all"), Filters(overdue_as_of=today),
                 Filters(due_from=date(2025, 3, 1), due_to=date(2025, 3, 31)),
                 Filters(kinds=(KINDS["referral"],), status="all", sort="opened"),
                 Filters(status="all", sort="id", limit=3), Filters(search=("采砂",))]
        for filters in cases:
            present = [r["id"] for r in iter_items(conn, filters, today, today)]
            past = [r["id"] for r in iter_items(conn, filters, today, today + timedelta(1))]
            assert past == present, filters
    # One statement: the past one is the present one with the day's state joined in.
    present, past = _statement(Filters(status="all")), _statement(Filters(status="all"), then=today)
    shown = [c.name for c in present.selected_columns]
    assert [c.name for c in past.selected_columns][:len(shown)] == shown
    assert "duty AS urgent" in str(past) and "duty AS urgent" not in str(present)


def test_the_sql_most_urgent_duty_is_duties_most_urgent(tracker, make_item):
    """The past list picks an item's most urgent duty of the day in SQL (queries._urgent_then);
    on every mix of duties and days it is the one duties.most_urgent picks."""
    from datetime import date, timedelta

    from sqlalchemy import delete, insert, select

    from fujian.models import Duty, Item
    from fujian.service.duties import most_urgent
    from fujian.service.queries import _urgent_then

    make_item("referral", opened_on="2025-01-02")  # the one item: its duties are replaced
    d = date(2025, 1, 1)
    mixes = [  # (due_on, is_right, started_on, ended_on)
        [(d + timedelta(20), False, d, None), (d + timedelta(10), False, d, None)],
        [(None, False, d, None), (d + timedelta(15), True, d, None)],
        [(d + timedelta(15), True, d, None), (d + timedelta(15), False, d, None)],
        [(None, True, d, None), (None, False, d, None)],
        [(d + timedelta(5), False, d, d + timedelta(8)), (None, False, d + timedelta(3), None)],
        [(d + timedelta(9), False, d + timedelta(4), None), (d + timedelta(9), False, d, None)],
    ]
    with tracker.store.engine.begin() as conn:
        pk, holder = conn.execute(select(Item.id, Item.holder_id)).one()
        for mix in mixes:
            conn.execute(delete(Duty).where(Duty.item_id == pk))
            rows = [{"item_id": pk, "name": f"d{i}", "stage": "sent", "holder_id": holder,
                     "due_on": due, "is_right": right, "started_on": start, "ended_on": end,
                     "state": "open"} for i, (due, right, start, end) in enumerate(mix)]
            conn.execute(insert(Duty), rows)
            duties = [dict(r._mapping) for r in conn.execute(
                select(Duty).where(Duty.item_id == pk).order_by(Duty.id))]
            for day in (d + timedelta(n) for n in range(0, 30, 2)):
                running = [x for x in duties if x["started_on"] <= day
                           and (x["ended_on"] is None or x["ended_on"] > day)]
                expected = most_urgent(running, day)
                picked = conn.scalar(select(_urgent_then(day)).select_from(Item.__table__)
                                     .where(Item.id == pk))
                assert picked == (expected["id"] if expected else None), (mix, day)
