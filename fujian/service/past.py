"""The stage an item stood at on a past day, rebuilt from its change log (issue 19, point 10).

The item row keeps only its current stage. Its history keeps the rest: each stage change logs
the fields it moved (``stage``, ``stage_on``, and ``met_on``/``met_due`` when the clock stopped
or restarted) with their old values, and a corrected opening date re-dates what began on the old
one. A stage counts from its own date (``stage_on``, the ``--on`` of the change), never from
when it was recorded (the change log's ``at``): people record stages days later, and the day a
liaison typed it in is not the day the matter moved.

Stage dates never go backwards (a change may not begin before the current stage: see
items._move_stage), so an item whose current stage began by the day stood at that stage then,
and only the others need their history read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import select

from fujian.models import ChangeLog

# The item columns a stage change moves (Item.move_to), as this module rebuilds them.
STAGE_FIELDS = ("stage", "stage_on", "met_on", "met_due")
_DATES = frozenset(("stage_on", "met_on", "met_due"))
_READ = (*STAGE_FIELDS, "opened_on")


def stages_then(connection, current: Mapping[str, Mapping[str, Any]],
                day: date) -> dict[str, dict[str, Any]]:
    """For each item ID in ``current`` (its present STAGE_FIELDS values), the STAGE_FIELDS
    values it had at ``day``. One query for the lot: callers pass a batch (a few hundred IDs).
    The creation snapshots are not read: every stage change logs the old value of each field
    it moved, so the history is rebuilt backwards from the present."""
    if not current:
        return {}
    log = ChangeLog.__table__
    rows = connection.execute(
        select(log.c.subject, log.c.action, log.c.at, log.c.field, log.c.old_value,
               log.c.new_value)
        .where(log.c.subject.in_(list(current)), log.c.action.in_(("stage", "correct")),
               log.c.field.in_(_READ))
        .order_by(log.c.subject, log.c.id))
    history = {subject: list(group) for subject, group in groupby(rows, key=lambda r: r.subject)}
    return {subject: stage_at(replay(history.get(subject, ()), present), day)
            for subject, present in current.items()}


def replay(rows: Iterable, present: Mapping[str, Any]) -> list[dict[str, Any]]:
    """An item's stages in the order they were entered, each as its STAGE_FIELDS values, from
    its present values and its change-log rows (oldest first), walked back from the present:
    the stage before a change is the one after it with the fields it moved set back to their
    old values. Dates are shown as corrected: what began on a mistyped opening date began on
    the corrected one."""
    state = {f: present.get(f) for f in STAGE_FIELDS}
    entries = [dict(state)]
    redates: list[tuple[date | None, date | None]] = []  # later corrections, oldest first
    for action, changes in reversed(list(_changes(rows))):
        if action == "correct":
            if "opened_on" in changes:
                redates.insert(0, (_day(changes["opened_on"][0]), _day(changes["opened_on"][1])))
            continue
        state = {**state, **{f: _value(f, changes[f][0]) for f in STAGE_FIELDS if f in changes}}
        entry = dict(state)
        for old, new in redates:
            if entry["stage_on"] == old:
                entry["stage_on"] = new
        entries.append(entry)
    entries.reverse()
    return entries


def _changes(rows: Iterable) -> Iterable[tuple[str, dict[str, tuple]]]:
    """The rows grouped into changes, each as (action, field → (old, new)). The rows one change
    writes share their instant; a field met twice starts a new change all the same (two changes
    in one instant, where the clock is coarse)."""
    action, at, changes = None, None, {}
    for r in rows:
        if changes and ((r.action, r.at) != (action, at) or r.field in changes):
            yield action, changes
            changes = {}
        action, at = r.action, r.at
        changes[r.field] = (r.old_value, r.new_value)
    if changes:
        yield action, changes


def stage_at(entries: list[dict[str, Any]], day: date) -> dict[str, Any]:
    """The last stage entered by ``day`` (the first one if the records begin later)."""
    chosen = entries[0]
    for entry in entries:
        if entry["stage_on"] is None or entry["stage_on"] <= day:
            chosen = entry
    return dict(chosen)


def _value(field: str, text: str | None) -> Any:
    return _day(text) if field in _DATES else text


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None
