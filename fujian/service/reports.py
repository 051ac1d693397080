"""Reports: overdue, due soon and the summary the joint meeting reads. All take the as-of date
as a parameter; none reads the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from fujian.kinds import Kind
from fujian.service.queries import Filters


def overdue_rows(tracker, as_of: date, unit: str | None = None,
                 kind: Kind | None = None) -> Iterator[dict]:
    """Open items due before ``as_of``, most overdue first."""
    filters = Filters(kinds=(kind,) if kind else (), status="open",
                      unit_id=tracker.unit_id(unit) if unit else None,
                      overdue_as_of=as_of, sort="overdue")
    return tracker.items(filters, as_of)


def due_soon_rows(tracker, as_of: date, within: int, unit: str | None = None,
                  kind: Kind | None = None) -> Iterator[dict]:
    """Open items due from ``as_of`` through ``as_of + within`` days."""
    filters = Filters(kinds=(kind,) if kind else (), status="open",
                      unit_id=tracker.unit_id(unit) if unit else None,
                      due_from=as_of, due_to=as_of + timedelta(days=within), sort="due")
    for row in tracker.items(filters, as_of):
        row["days_left"] = (row["due_on"] - as_of).days
        yield row
