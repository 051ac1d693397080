"""The service layer: does the work, imports nothing from Typer or Rich.

:class:`Tracker` is the façade the CLI (and tests) use; it holds what every operation needs —
the store, today's date, who is acting, the calendar and the deadline rules — so that "today" is
a parameter and no query reads the wall clock by itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fujian.service.tracker import Tracker, current_actor

__all__ = ["Tracker", "current_actor"]


def __getattr__(name: str) -> Any:
    """``Tracker`` and ``current_actor`` on first use (PEP 562): importing one service module
    (``fujian.service.search``) runs this package's ``__init__`` first, and must not load the
    tracker, the store and every other service module with it."""
    if name in __all__:
        from fujian.service import tracker  # deferred: the reason of this function

        return getattr(tracker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
