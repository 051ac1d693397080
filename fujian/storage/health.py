"""What ``fujian doctor`` reports about a database, in rows: each check is ok, warn or fail,
and a warning or failure says what to do.

The rows' shape and words shared by the backends' own checks
(:mod:`~fujian.storage.sqlite_health`, :mod:`~fujian.storage.postgres_health`); the checks of
the data itself (items, units, due dates) are the service's and come in as ``data_checks``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

OK, WARN, FAIL = "ok", "warn", "fail"

RESTORE_HINT = "`fujian restore BACKUP`"


@dataclass
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


# A check of the data the caller knows (its name, and the check on an open connection).
DataCheck = tuple[str, Callable[[Any], Check]]
DataChecks = Sequence[DataCheck]


@dataclass
class Diagnosis:
    """A backend's rows about its database, and how the caller reads on: ``open_engine``
    gives an engine that only reads the database, or None when it is not a fujian database
    of this fujian's schema (then nothing else should read it)."""

    checks: list[Check]
    open_engine: Callable[[], Any]
    writable: bool


def not_checked(names: Iterable[str], detail: str) -> list[Check]:
    """A warning row for each check that could not run (``detail`` says why)."""
    return [Check(name, WARN, detail) for name in names]
