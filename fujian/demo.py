"""`fujian demo`: a fresh database with a realistic few dozen items of every kind, dated
relative to today so that some are overdue whenever it runs. Never the user's own database."""

from __future__ import annotations

import tempfile
import tomllib
from datetime import date, timedelta
from pathlib import Path

from fujian.dates import china_today
from fujian.errors import BadInput
from fujian.i18n import _
from fujian.resources import data_file


def default_demo_path(option: str | None):
    """Where the demo goes: the named file (which must not hold anything yet) or server
    database (checked to be empty when the demo opens it), else a new temporary folder."""
    if option:
        from fujian.storage import as_location, is_url

        if is_url(option):
            return as_location(option)
        path = Path(option).expanduser()
        if path.exists() and path.stat().st_size > 0:
            raise BadInput(_("{path} already exists: the demo makes a fresh database and will "
                             "not touch an existing file.").format(path=path))
        return path
    return Path(tempfile.mkdtemp(prefix="fujian-demo-")) / "demo.db"


def _day(today: date, offset: int | None) -> date | None:
    return None if offset is None else today + timedelta(days=offset)


def build_demo(path, today: date | None = None) -> dict:
    from fujian.kinds import KINDS
    from fujian.service import Tracker
    from fujian.storage import Store

    today = today or china_today()
    store = Store(path)
    if not store.created and store.holds_data():
        store.dispose()
        raise BadInput(_("{path} already holds data: the demo makes a fresh database and will "
                         "not touch an existing one.").format(path=path))
    tracker = Tracker(store, today, actor="demo")
    tracker.load_default_units()
    spec = tomllib.loads(data_file("demo/items.toml").read_text(encoding="utf-8"))
    count = 0
    per_kind: dict[str, int] = {}
    for entry in spec["item"]:
        entry = dict(entry)
        kind = entry.pop("kind")
        steps = entry.pop("steps", [])
        close = entry.pop("close", None)
        entry_opens = entry.pop("opens", [])
        entry["opened_on"] = _day(today, entry.pop("opened"))
        if "due" in entry:
            entry["due_on"] = _day(today, entry.pop("due"))
        ident = tracker.add(kind, entry).ident
        for step in steps:
            step = dict(step)
            step["on"] = _day(today, step.pop("on", 0))
            if "due" in step:
                step["due_on"] = _day(today, step.pop("due"))
            if "acted" in step:  # the day the holder acted, before the other side received it
                step["acted_on"] = _day(today, step.pop("acted"))
            tracker.update(ident, step)
        for opened in entry_opens:  # a verb that opens a linked item (an escalation)
            opened = dict(opened)
            verb, report = opened.pop("verb"), opened.pop("report", None)
            opened["opened_on"] = _day(today, opened.pop("on", 0))
            tracker.open_linked(ident, KINDS[kind], verb, opened, report=report)
        if close:
            tracker.close(ident, close["outcome"], _day(today, close["on"]), close.get("note"))
        count += 1
        per_kind[kind] = per_kind.get(kind, 0) + 1
    store.dispose()
    return {"items": count, "per_kind": per_kind}
