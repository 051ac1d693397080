"""The change log's one builder and its one value -> text rule.

Every row of the append-only change log (models.ChangeLog) is written here: an item's field
changes, a duty's, a note, a creation snapshot, a unit's. One rule turns a value into the text
the row stores (:func:`logged_text`), so `history` reads every row the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from fujian.dates import now
from fujian.models import Change, ChangeLog, Item, Unit, check_lengths


def logged_text(value: Any) -> str | None:
    """How a value is stored in the change log: None stays None, text as it is, a yes/no as
    "true"/"false", a date (or a moment) in ISO form, a unit as its code, anything else as
    ``str``."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Unit):
        return value.code
    return str(value)


def log(session: Session, actor: str, subject: str, action: str, changes: Iterable[Change],
        *, reason: str | None = None, at: datetime | None = None) -> datetime:
    """Add one change-log row per change of ``subject`` (an item's ID, "unit:CODE"); returns
    the moment they carry (``at``, else now)."""
    check_lengths(ChangeLog.__table__, {"actor": actor, "reason": reason})
    stamp = now() if at is None else at
    for change in changes:
        session.add(ChangeLog(**row(actor, subject, action, change, at=stamp, reason=reason)))
    return stamp


def row(actor: str, subject: str, action: str, change: Change, *, at: datetime,
        reason: str | None = None) -> dict[str, Any]:
    """The column values of one change-log row, for :func:`log` and for a bulk insert (an
    import writes a hundred thousand creation rows at once)."""
    return {"at": at, "actor": actor, "subject": subject, "action": action,
            "field": change.field, "old_value": logged_text(change.old),
            "new_value": logged_text(change.new), "reason": reason}


def log_item(ctx: Any, item: Item, action: str, changes: list[Change],
             reason: str | None = None) -> None:
    """Log an item's field changes in the transaction ``ctx`` (items.Context): counted, the
    item marked for its search row, and stamped with when and by whom it last changed."""
    stamp = log(ctx.session, ctx.actor, item.ident, action, changes, reason=reason)
    ctx.logged += len(changes)
    if changes:
        ctx.touched.add(item.id)
        item.updated_at = stamp
        item.actor = ctx.actor
