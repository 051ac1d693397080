"""The service layer: does the work, imports nothing from Typer or Rich.

:class:`Tracker` is the façade the CLI (and tests) use; it holds what every operation needs —
the store, today's date, who is acting, the calendar and the deadline rules — so that "today" is
a parameter and no query reads the wall clock by itself.
"""

from fujian.service.tracker import Tracker, current_actor

__all__ = ["Tracker", "current_actor"]
