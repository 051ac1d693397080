"""Items of every kind: add, update, close, reopen — one lifecycle, driven by the kind registry.

Values arrive as people typed them (codes or Chinese labels, dates in any accepted form); they are
parsed here, through the same parsers, whether they came from the command line or a CSV file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fujian.dates import parse_date
from fujian.deadlines import Calendar, RuleBook, compute_due
from fujian.errors import BadInput, NotFound
from fujian.i18n import _
from fujian.kinds import CLOSED, KINDS, OPEN, Kind, split_id
from fujian.models import Change, ChangeLog, Item, ItemSequence, check_close_date
from fujian.service.units import find_unit, now


@dataclass
class Outcome:
    """What an operation did: the item's ID, its due date and any calendar warnings."""

    ident: str
    due_on: date | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Context:
    session: Session
    today: date
    actor: str
    calendar: Calendar
    rules: RuleBook

    _units: dict[str, Any] = field(default_factory=dict)

    def unit(self, text: str):
        """A unit by code or name, remembered for the transaction (bulk imports ask often)."""
        key = str(text).strip()
        if key not in self._units:
            self._units[key] = find_unit(self.session, key)
        return self._units[key]

    def date(self, value: date | str | None, default: date | None = None) -> date | None:
        if value is None or value == "":
            return default
        if isinstance(value, date):
            return value
        return parse_date(value, self.today)


def _text(value: Any) -> str | None:
    """How a value is written in the change log."""
    if value is None or value.__class__ is str:
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "n", "否", "f"):
        return False
    if text in ("1", "true", "yes", "y", "是", "t"):
        return True
    raise BadInput(_("Not a yes/no value: {text!r}.").format(text=str(value)[:20]))


def get_item(session: Session, ident: str, kind: Kind | None = None) -> Item:
    found_kind, number = split_id(ident)
    if kind is not None and found_kind.code != kind.code:
        raise BadInput(_("{id} is not a {kind}.").format(id=ident.upper(), kind=_(kind.code)))
    item = session.scalar(select(Item).where(Item.kind == found_kind.code, Item.number == number))
    if item is None:
        raise NotFound(_("No item {id}.").format(id=f"{found_kind.prefix}{number}"))
    return item


def log_changes(ctx: Context, item: Item, action: str, changes: list[Change],
                reason: str | None = None) -> None:
    stamp = now()
    for change in changes:
        ctx.session.add(ChangeLog(at=stamp, actor=ctx.actor, subject=item.ident, action=action,
                                  field=change.field, old_value=_text(change.old),
                                  new_value=_text(change.new), reason=reason))
    if changes:
        item.updated_at = stamp
        item.actor = ctx.actor


def _require_title(title: str | None) -> str:
    if title is None or not title.strip():
        raise BadInput(_("The title must not be empty."))
    return title


def _kind_values(ctx: Context, kind: Kind, values: Mapping[str, Any]) -> dict[str, Any]:
    """Parse the kind-specific fields present in ``values`` into column values."""
    parsed: dict[str, Any] = {}
    for kf in kind.fields:
        if kf.name not in values or values[kf.name] is None:
            continue
        raw = values[kf.name]
        if kf.type == "unit":
            parsed["from_unit_id"] = ctx.unit(raw).id
        elif kf.type == "flag":
            parsed[kf.name] = flag(raw)
        elif kf.type == "units":
            codes = [ctx.unit(part).code for part in str(raw).replace("，", ",")
                     .split(",") if part.strip()]
            parsed[kf.name] = ",".join(dict.fromkeys(codes)) or None
        elif kf.type == "meeting":
            meeting = get_item(ctx.session, str(raw), KINDS["meeting"])
            parsed["meeting_id"] = meeting.id
        else:
            parsed[kf.name] = raw if raw != "" else None
    return parsed


def due_for_stage(ctx: Context, kind: str, subtype: str | None, urgent: bool, stage: str,
                  start: date) -> tuple[str, date | None, list[str]]:
    """What ``stage``, entered on ``start``, does to the clock — "keep" (no rule), "stop" (the
    duty is met) or "restart" — with the new due date and any calendar warnings."""
    rule = ctx.rules.find(kind, subtype, stage, urgent)
    if rule is None:
        return "keep", None, []
    if rule.period is None:
        return "stop", None, []
    result = compute_due(start, rule.period, ctx.calendar)
    return "restart", result.due, result.warnings


def next_numbers(session: Session, kind: str, count: int = 1) -> int:
    """Reserve ``count`` numbers for ``kind``; returns the first. Runs inside the write lock."""
    session.execute(
        update(ItemSequence).where(ItemSequence.kind == kind)
        .values(last_number=ItemSequence.last_number + count)
    )
    last = session.scalar(select(ItemSequence.last_number).where(ItemSequence.kind == kind))
    return last - count + 1


def build_item(ctx: Context, kind: Kind, values: Mapping[str, Any]) -> tuple[dict[str, Any],
                                                                             list[str]]:
    """Validate ``values`` into the column values of a new, unnumbered item of ``kind``.

    A plain dict, not an ORM object: a bulk import builds a hundred thousand of these, and
    constructing model instances cost more than half of its time.
    """
    title = _require_title(values.get("title"))
    subtype = None
    if kind.subtype_key:
        raw_subtype = values.get(kind.subtype_key) or kind.default_subtype
        if raw_subtype is None:
            raise BadInput(_("--{option} is required. Valid: {valid}.").format(
                option=kind.subtype_key, valid=kind.subtypes.describe()))
        subtype = kind.subtypes.parse(raw_subtype)
    unit_text = values.get("unit") or kind.default_unit
    if not unit_text:
        raise BadInput(_("{option} is required: the responsible unit.").format(
            option=kind.unit_option))
    unit = ctx.unit(unit_text)
    for kf in kind.fields:
        if kf.required and not values.get(kf.name):
            raise BadInput(_("{option} is required for a {kind}.").format(
                option=kf.option, kind=_(kind.code)))
    opened_on = ctx.date(values.get("opened_on"), ctx.today)
    stage = kind.stages(subtype).parse(values["stage"]) if values.get("stage") \
        else kind.first_stage(subtype)
    stamp = now()
    record: dict[str, Any] = {
        "kind": kind.code, "number": 0, "title": title, "unit_id": unit.id,
        "opened_on": opened_on, "due_on": None, "stage": stage, "status": OPEN,
        "closed_on": None, "outcome": None, "note": values.get("note") or None,
        "subtype": subtype, "from_unit_id": None, "party": None, "enterprise": None,
        "doc_no": None, "urgent": None, "attendees": None, "minutes": None, "meeting_id": None,
        "stage_on": ctx.date(values.get("stage_on"), opened_on),
        "met_on": ctx.date(values.get("met_on")), "met_due": ctx.date(values.get("met_due")),
        "created_at": stamp, "updated_at": stamp, "actor": ctx.actor,
    }
    record.update(_kind_values(ctx, kind, values))
    if record["urgent"] and subtype != "public-interest":
        raise BadInput(_("--urgent applies to public-interest suggestions only (15 days)."))
    if record["meeting_id"] is not None:
        # Minutes are often typed in days later: an action item opens on its meeting's date.
        meeting = ctx.session.get(Item, record["meeting_id"])
        if values.get("opened_on") in (None, ""):
            record["opened_on"] = opened_on = meeting.opened_on
            record["stage_on"] = ctx.date(values.get("stage_on"), opened_on)
        elif opened_on < meeting.opened_on:
            raise BadInput(_("{date} is before meeting {id} was held ({held}).").format(
                date=opened_on.isoformat(), id=meeting.ident, held=meeting.opened_on.isoformat()))
    warnings: list[str] = []
    explicit_due = ctx.date(values.get("due_on"))
    if explicit_due is not None:
        record["due_on"] = explicit_due
    elif kind.code == "action":
        raise BadInput(_("--due is required for an action item: it comes from the minutes."))
    else:
        _clock, record["due_on"], warnings = due_for_stage(
            ctx, kind.code, subtype, bool(record["urgent"]), stage, opened_on)
    if record["due_on"] is not None and record["due_on"] < opened_on:
        raise BadInput(_("The due date {due} is before the opening date {opened}.").format(
            due=record["due_on"].isoformat(), opened=opened_on.isoformat()))
    # An item may arrive already closed (CSV import of an export): check it like a close.
    status = str(values.get("status") or "").strip().lower()
    if status in (CLOSED, "已办结"):
        outcome = values.get("outcome")
        if not outcome:
            raise BadInput(_("A closed item needs an outcome."))
        closed_on = ctx.date(values.get("closed_on"), ctx.today)
        check_close_date(_("the item"), opened_on, closed_on)
        record.update(status=CLOSED, outcome=kind.outcomes(subtype).parse(outcome),
                      closed_on=closed_on)
    elif status not in ("", OPEN, "未办结"):
        raise BadInput(_("Unknown status {text!r}. Valid: open, closed.").format(
            text=str(values["status"])[:20]))
    return record, warnings


_NOT_IN_SNAPSHOT = frozenset(("id", "created_at", "updated_at", "actor", "number"))


def snapshot(record: Mapping[str, Any]) -> str:
    """The whole item at creation, as JSON: the first entry of its history."""
    data = {c: _text(v) for c, v in record.items() if c not in _NOT_IN_SNAPSHOT}
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def meeting_must_be_open(ctx: Context, kind: str, meeting_id: int | None, status: str) -> None:
    """A meeting stays open while it has open action items: an open action item may not be
    added to, moved to or reopened under a closed meeting."""
    if kind != "action" or meeting_id is None or status != OPEN:
        return
    meeting = ctx.session.get(Item, meeting_id)
    if meeting is not None and not meeting.is_open:
        raise BadInput(_("{id} is closed: reopen it before giving it open action items.")
                       .format(id=meeting.ident))


def add_item(ctx: Context, kind: Kind, values: Mapping[str, Any]) -> Outcome:
    record, warnings = build_item(ctx, kind, values)
    meeting_must_be_open(ctx, kind.code, record["meeting_id"], record["status"])
    record["number"] = next_numbers(ctx.session, kind.code)
    item = Item(**record)
    ctx.session.add(item)
    ctx.session.flush()
    ctx.session.add(ChangeLog(at=item.created_at, actor=ctx.actor, subject=item.ident,
                              action="create", new_value=snapshot(record)))
    return Outcome(item.ident, item.due_on, warnings)


def update_item(ctx: Context, ident: str, values: Mapping[str, Any],
                kind: Kind | None = None) -> Outcome:
    item = get_item(ctx.session, ident, kind)
    kind = item.kind_info
    warnings: list[str] = []
    plain: dict[str, Any] = {}
    if values.get("title") is not None:
        plain["title"] = _require_title(values["title"])
    if values.get("note") is not None:
        plain["note"] = values["note"] or None
    plain.update(_kind_values(ctx, kind, values))
    if kind.subtype_key and values.get(kind.subtype_key):
        plain["subtype"] = kind.subtypes.parse(values[kind.subtype_key])
    if plain.get("urgent", item.urgent) and plain.get("subtype", item.subtype) != "public-interest":
        raise BadInput(_("--urgent applies to public-interest suggestions only (15 days)."))
    if values.get("unit"):
        plain["unit_id"] = find_unit(ctx.session, values["unit"]).id
    log_changes(ctx, item, "update", item.edit(**plain))
    if "meeting_id" in plain:
        meeting_must_be_open(ctx, item.kind, item.meeting_id, item.status)

    for name, option in (("stage", "--stage"), ("due_on", "--due"), ("on", "--on")):
        if values.get(name) is not None and not str(values[name]).strip():
            raise BadInput(_("{option} must not be empty.").format(option=option))
    if values.get("on") is not None and not values.get("stage"):
        raise BadInput(_("--on dates a stage change: give --stage too."))
    explicit_due = ctx.date(values.get("due_on"))
    if not values.get("stage") and item.stage not in kind.stages(item.subtype).codes:
        # A new subtype (referral direction) whose stages do not include the current one.
        raise BadInput(_("Stage {stage} does not exist for {subtype}: give --stage. Valid: "
                         "{valid}.").format(stage=item.stage, subtype=item.subtype,
                                            valid=kind.stages(item.subtype).describe()))
    if values.get("stage"):
        stage = kind.stages(item.subtype).parse(values["stage"])
        start = ctx.date(values.get("on"), ctx.today)
        if start < item.opened_on:
            raise BadInput(_("The date {on} is before {id} was opened ({opened}).").format(
                on=start.isoformat(), id=item.ident, opened=item.opened_on.isoformat()))
        due = item.due_on
        clock, rule_due, rule_warnings = due_for_stage(
            ctx, item.kind, item.subtype, bool(item.urgent), stage, start)
        if explicit_due is None:
            warnings = rule_warnings
            if clock != "keep":
                due = rule_due  # a new stage restarts (or stops) the clock by its own rule
        else:
            if explicit_due < item.opened_on:
                raise BadInput(_("The due date {due} is before the opening date {opened}.")
                               .format(due=explicit_due.isoformat(),
                                       opened=item.opened_on.isoformat()))
            due = explicit_due
        changes = item.move_to(stage, due, start, clock)
        # A due date the user typed is an extension (延期) even when it comes with a stage.
        moved = [c for c in changes if c.field == "due_on" and explicit_due is not None]
        log_changes(ctx, item, "stage", [c for c in changes if c not in moved])
        log_changes(ctx, item, "extend", moved, reason=values.get("reason"))
    elif explicit_due is not None:
        if explicit_due < item.opened_on:
            raise BadInput(_("The due date {due} is before the opening date {opened}.").format(
                due=explicit_due.isoformat(), opened=item.opened_on.isoformat()))
        log_changes(ctx, item, "extend", item.extend(explicit_due), reason=values.get("reason"))
    ctx.session.flush()
    return Outcome(item.ident, item.due_on, warnings)


def close_item(ctx: Context, ident: str, outcome: str, on: date | str | None = None,
               note: str | None = None, kind: Kind | None = None) -> Outcome:
    item = get_item(ctx.session, ident, kind)
    if not item.is_open:
        raise BadInput(_("{id} is already closed.").format(id=item.ident))
    code = item.kind_info.outcomes(item.subtype).parse(outcome)
    if item.kind == "meeting":
        pending = ctx.session.scalars(
            select(Item).where(Item.meeting_id == item.id, Item.status == OPEN)
            .order_by(Item.number)).all()
        if pending:
            raise BadInput(_("{id} still has open action items: {items}. Close them first.")
                           .format(id=item.ident, items=", ".join(a.ident for a in pending)))
    changes = item.close(code, ctx.date(on, ctx.today), note)
    log_changes(ctx, item, "close", changes)
    ctx.session.flush()
    return Outcome(item.ident, item.due_on)


def reopen_item(ctx: Context, ident: str, reason: str, kind: Kind | None = None,
                due_on: date | str | None = None) -> Outcome:
    """Reopen a closed item, optionally with a new due date (a reopened item whose clock had
    stopped has none, and would otherwise never be overdue)."""
    if not reason or not reason.strip():
        raise BadInput(_("Say why the item is reopened: --reason TEXT."))
    item = get_item(ctx.session, ident, kind)
    new_due = ctx.date(due_on)
    if new_due is not None and new_due < item.opened_on:
        raise BadInput(_("The due date {due} is before the opening date {opened}.").format(
            due=new_due.isoformat(), opened=item.opened_on.isoformat()))
    log_changes(ctx, item, "reopen", item.reopen(), reason=reason)
    meeting_must_be_open(ctx, item.kind, item.meeting_id, item.status)
    if new_due is not None:
        log_changes(ctx, item, "extend", item.extend(new_due), reason=reason)
    ctx.session.flush()
    warnings = [] if item.due_on is not None else [
        _("{id} has no due date now: give one with --due so that it can become overdue.")
        .format(id=item.ident)]
    return Outcome(item.ident, item.due_on, warnings)


def reply_suggestion(ctx: Context, ident: str, on: date | str | None = None,
                     note: str | None = None) -> Outcome:
    values = {"stage": "replied", "on": on, "note": note}
    return update_item(ctx, ident, values, KINDS["suggestion"])
