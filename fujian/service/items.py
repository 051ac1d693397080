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

from pydantic_core import PydanticUndefined
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fujian.dates import check_due, check_event, now, parse_date
from fujian.deadlines import Calendar, RuleBook
from fujian.errors import BadInput
from fujian.i18n import N_, _, in_language, listing
from fujian.kinds import CLOSED, KINDS, OPEN, STATUS_LABELS, Kind, format_id, unit_field_columns
from fujian.models import (
    DUTY_LATE,
    DUTY_MET,
    Change,
    Item,
    ItemSequence,
    Note,
    Unit,
    check_close_date,
    check_lengths,
)
from fujian.service import duties as duty_ops
from fujian.service import search
from fujian.service.changelog import log, log_item, logged_text
from fujian.service.queries import find_item
from fujian.service.units import find_unit


@dataclass(frozen=True)
class Ended:
    """A duty an operation ended, and its verdict (domain.md §3)."""

    duty: str  # its name (reply, perform …)
    unit: str  # the holder's unit code
    state: str  # met, late, unmet, waived, lapsed, exercised
    due_on: date | None
    ended_on: date | None

    @property
    def days_late(self) -> int:
        """Days after its due date a late duty was met (0 for any other verdict)."""
        if self.state != DUTY_LATE or self.due_on is None or self.ended_on is None:
            return 0
        return (self.ended_on - self.due_on).days


@dataclass
class Done:
    """What an operation did: the item's ID, its due date and any calendar warnings."""

    ident: str
    due_on: date | None = None
    warnings: list[str] = field(default_factory=list)
    changed: bool = True  # False: the command found nothing to change, and says so
    ended: list[Ended] = field(default_factory=list)  # the duties it ended, with their verdicts


def _open_duty_ids(ctx: Context, item: Item) -> set[int]:
    return {d.id for d in duty_ops.duties_of(ctx.session, item) if d.is_open}


def _ended_since(ctx: Context, item: Item, open_before: set[int]) -> list[Ended]:
    """The duties open before an operation that it ended (``ctx.session`` flushed); a holder
    missing from the directory (a damaged file) is named by its row number, as doctor does."""
    ended = []
    for duty in duty_ops.duties_of(ctx.session, item):
        if duty.id in open_before and not duty.is_open:
            holder = ctx.session.get(Unit, duty.holder_id)
            ended.append(Ended(duty.name, holder.code if holder else f"#{duty.holder_id}",
                               duty.state, duty.due_on, duty.ended_on))
    return ended


@dataclass
class Context:
    session: Session
    today: date
    actor: str
    calendar: Calendar
    rules: RuleBook

    _units: dict[str, Any] = field(default_factory=dict)
    logged: int = 0  # change-log rows written in this transaction: did anything change?
    touched: set[int] = field(default_factory=set)  # items written: their search rows follow

    def unit(self, text: str):
        """A unit by code or name, remembered for the transaction (bulk imports ask often)."""
        key = str(text).strip()
        if key not in self._units:
            self._units[key] = find_unit(self.session, key)
        return self._units[key]

    def unit_code(self, unit_id: int) -> str:
        """A unit's code by its row id."""
        return self.session.get(Unit, unit_id).code

    def date(self, value: date | str | None, default: date | None = None,
             option: str = "date") -> date | None:
        """A date as typed; ``None`` (not given) is ``default``, an empty text is refused."""
        if value is None:
            return default
        if isinstance(value, date):
            return value
        if not str(value).strip():
            raise BadInput(_("{option} must not be empty.").format(option=option))
        return parse_date(value, self.today)

    def event(self, value: date | str | None, default: date | None, option: str) -> date | None:
        """The date something happened: not after today, not before 2000 (dates.py)."""
        day = self.date(value, default, option)
        return None if day is None else check_event(day, self.today, option)

    def due(self, value: date | str | None, start: date, option: str = "--due") -> date | None:
        """A due date: any day ahead, but not beyond ten years from ``start``."""
        day = self.date(value, None, option)
        return None if day is None else check_due(day, start, option)


def flag(value: Any) -> bool:
    """A yes/no value as typed (true/false, yes/no, 是/否, 1/0); empty is no."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "n", "否", "f"):
        return False
    if text in ("1", "true", "yes", "y", "是", "t"):
        return True
    raise BadInput(_("Not a yes/no value: {text!r}.").format(text=str(value)[:20]))


def get_item(session: Session, ident: str, kind: Kind | None = None) -> Item:
    """One item by its ID, through the one lookup (queries.find_item)."""
    return session.get(Item, find_item(session, ident, kind)[0])



def append_note(ctx: Context, item: Item, text: str | None, action: str = "note",
                day: date | str | None = None) -> None:
    """Add a dated, attributed note to the item's running record; the item's ``note`` column
    becomes this latest one (exports carry it). Nothing is ever overwritten. ``day``: the day
    its event happened, when the writer says (never in the future)."""
    if not (text or "").strip():
        raise BadInput(_("The note must not be empty."))
    check_lengths(Note.__table__, {"text": text})
    day = ctx.event(day, None, "--on")
    _add_note(ctx, item, Note(item_id=item.id, actor=ctx.actor, text=text, day=day), action)


def append_said(ctx: Context, item: Item, template: str, action: str, **args: str) -> None:
    """A note fujian writes itself: ``template`` (a catalog message, marked with N_) with
    ``args``. Kept in Chinese, as documents are, and as the message and its arguments, so
    that `show` says it in the reader's language."""
    text = in_language("zh", template).format(**args)
    _add_note(ctx, item, Note(item_id=item.id, actor=ctx.actor, text=text, template=template,
                              args=json.dumps(args, ensure_ascii=False)), action)


def _add_note(ctx: Context, item: Item, note: Note, action: str) -> None:
    """Write ``note`` to the running record, logged; the item's ``note`` column becomes it."""
    stamp = now()
    note.at = stamp
    text = note.text
    ctx.logged += 1
    ctx.touched.add(item.id)
    ctx.session.add(note)
    log(ctx.session, ctx.actor, item.ident, action, [Change("note", item.note, text)], at=stamp)
    item.note, item.updated_at, item.actor = text, stamp, ctx.actor


def _require_title(title: str | None) -> str:
    """The title, refused when empty."""
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
            parsed[kf.column_name] = ctx.unit(raw).id if str(raw).strip() else None
        elif kf.type == "flag":
            parsed[kf.name] = flag(raw)
        elif kf.type == "units":
            codes = [ctx.unit(part).code for part in str(raw).replace("，", ",")
                     .split(",") if part.strip()]
            parsed[kf.name] = ",".join(dict.fromkeys(codes)) or None
        elif kf.type == "link":
            target = KINDS[kf.target] if kf.target else None
            parsed[kf.column_name] = find_item(ctx.session, str(raw), target)[0] \
                if str(raw).strip() else None
        else:
            parsed[kf.name] = raw if raw != "" else None
    return parsed


def check_units(kind: Kind, record: Mapping[str, Any]) -> None:
    """A unit field that must name another unit than the item's own (a unit does not refer a
    case to itself)."""
    for kf in kind.fields:
        if kf.not_own_unit and record.get(kf.column_name) is not None \
                and record.get(kf.column_name) == record.get("unit_id"):
            raise BadInput(_("{option} names the item's own unit ({label}): a unit does not "
                             "hand a matter to itself.").format(option=kf.option,
                                                                 label=kind.unit_label))


def check_flags(kind: Kind, subtype: str | None, values: Mapping[str, Any]) -> None:
    """A flag some subtypes only may carry (--urgent: public-interest suggestions)."""
    for kf in kind.fields:
        if kf.only_subtypes and values.get(kf.column_name) and subtype not in kf.only_subtypes:
            raise BadInput(_("{option} applies only to {what} {valid}.").format(
                option=kf.option, what=_(kind.subtypes.what),
                valid=", ".join(kf.only_subtypes)))


def next_numbers(session: Session, kind: str, count: int = 1) -> int:
    """Reserve ``count`` numbers for ``kind``; returns the first. Runs inside the write lock."""
    last = set_last_number(session, kind, None, count)
    return last - count + 1


def set_last_number(session: Session, kind: str, last: int | None, add: int = 0) -> int:
    """Set a kind's last number handed out (or add ``add`` to it); returns it. A kind's
    sequence row is made on its first use, so a kind added to the registry needs no
    migration to be numbered."""
    value = ItemSequence.last_number + add if last is None else last
    done = session.execute(update(ItemSequence).where(ItemSequence.kind == kind)
                           .values(last_number=value))
    if not done.rowcount:
        session.add(ItemSequence(kind=kind, last_number=add if last is None else last))
        session.flush()
    return session.scalar(select(ItemSequence.last_number).where(ItemSequence.kind == kind))


@dataclass
class Built:
    """A validated new item: its column values, its first duties (dicts, without item ids)
    and any calendar warnings."""

    record: dict[str, Any]
    duties: list[dict[str, Any]]
    warnings: list[str]


def blank_record() -> dict[str, Any]:
    """Every column of the item model but its key, at the model's default (None where it has
    none): a new item's record starts from the model, so a column added to it is there too.
    Worked out once per set of columns (an import builds a hundred thousand records)."""
    columns = Item.__table__.columns
    blank = _BLANKS.get(len(columns))
    if blank is None:
        blank = {}
        for name, column in columns.items():
            if column.primary_key:
                continue
            field = Item.model_fields.get(name)
            default = None if field is None else field.get_default()
            blank[name] = None if default is PydanticUndefined else default
        _BLANKS[len(columns)] = blank
    return dict(blank)


_BLANKS: dict[int, dict[str, Any]] = {}


def build_item(ctx: Context, kind: Kind, values: Mapping[str, Any]) -> Built:
    """Validate ``values`` into the column values of a new, unnumbered item of ``kind``.

    Plain dicts, not ORM objects: a bulk import builds a hundred thousand of these, and
    constructing model instances cost more than half of its time.
    """
    title = _require_title(values.get("title"))
    subtype = _new_subtype(kind, values)
    unit = _new_unit(ctx, kind, values)
    opened_on = ctx.event(values.get("opened_on"), ctx.today, "--on")
    stage = kind.stages(subtype).parse(values["stage"]) if values.get("stage") \
        else kind.first_stage(subtype)
    record = _new_record(ctx, kind, values, title=title, subtype=subtype, unit_id=unit.id,
                         opened_on=opened_on, stage=stage)
    check_flags(kind, subtype, record)
    check_units(kind, record)
    _open_with_parent(ctx, kind, values, record)
    explicit_due = _new_due(ctx, kind, values, record["opened_on"])
    duties, warnings = _first_duties(ctx, kind, record, explicit_due)
    _arrive_closed(ctx, kind, values, record, duties)
    return Built(record, duties, warnings)


def _new_subtype(kind: Kind, values: Mapping[str, Any]) -> str | None:
    """A new item's subtype, when its kind has them: given, else the kind's default."""
    if not kind.subtype_key:
        return None
    raw_subtype = values.get(kind.subtype_key) or kind.default_subtype
    if raw_subtype is None:
        raise BadInput(_("--{option} is required. Valid: {valid}.").format(
            option=kind.subtype_key, valid=kind.subtypes.describe()))
    return kind.subtypes.parse(raw_subtype)


def _new_unit(ctx: Context, kind: Kind, values: Mapping[str, Any]) -> Unit:
    """A new item's responsible unit; refuses it without one or without a required field."""
    unit_text = values.get("unit") or kind.default_unit
    if not unit_text:
        raise BadInput(_("{option} is required: the responsible unit.").format(
            option=kind.unit_option))
    unit = ctx.unit(unit_text)
    for kf in kind.fields:
        if kf.required and not values.get(kf.name):
            raise BadInput(_("{option} is required for kind {kind}.").format(
                option=kf.option, kind=_(kind.code)))
    return unit


def _new_record(ctx: Context, kind: Kind, values: Mapping[str, Any], *, title: str,
                subtype: str | None, unit_id: int, opened_on: date,
                stage: str) -> dict[str, Any]:
    """The column values of a new item, from the model's blank record and ``values``."""
    stamp = now()
    record = blank_record()
    record.update({
        "kind": kind.code, "number": 0, "title": title, "unit_id": unit_id,
        "holder_id": unit_id, "opened_on": opened_on, "stage": stage,
        "note": values.get("note") or None, "subtype": subtype,
        "stage_on": ctx.event(values.get("stage_on"), opened_on, "stage_on"),
        "met_on": ctx.event(values.get("met_on"), None, "met_on"),
        "met_due": ctx.date(values.get("met_due"), None, "met_due"),
        "paused_on": ctx.event(values.get("paused_on"), None, "paused_on"),
        "handler": (values.get("handler") or "").strip() or None,
        "created_at": stamp, "updated_at": stamp, "actor": ctx.actor,
    })
    record.update(_kind_values(ctx, kind, values))
    check_lengths(Item.__table__, record)
    return record


def _open_with_parent(ctx: Context, kind: Kind, values: Mapping[str, Any],
                      record: dict[str, Any]) -> None:
    """An item that belongs to another (an action item of a meeting) opens on its parent's
    date unless given one, and never before it."""
    part_of = kind.parent_link()
    if part_of is None or record[part_of.column_name] is None:
        return
    # Minutes are often typed in days later: an action item opens on its meeting's date.
    parent = ctx.session.get(Item, record[part_of.column_name])
    opened_on = record["opened_on"]
    if values.get("opened_on") in (None, ""):
        record["opened_on"] = opened_on = parent.opened_on
        record["stage_on"] = ctx.event(values.get("stage_on"), opened_on, "stage_on")
    elif opened_on < parent.opened_on:
        raise BadInput(_("{date} is before meeting {id} was held ({held}).").format(
            date=opened_on.isoformat(), id=parent.ident, held=parent.opened_on.isoformat()))


def _new_due(ctx: Context, kind: Kind, values: Mapping[str, Any],
             opened_on: date) -> date | None:
    """A due date typed for a new item (a document's own period): required by some kinds,
    never before the opening."""
    explicit_due = ctx.due(values.get("due_on"), opened_on)
    if explicit_due is None and kind.due_required:
        raise BadInput(_("--due is required for {kind}: it comes from the document.").format(
            kind=_(kind.code)))
    if explicit_due is not None and explicit_due < opened_on:
        raise BadInput(_("The due date {due} is before the opening date {opened}.").format(
            due=explicit_due.isoformat(), opened=opened_on.isoformat()))
    return explicit_due


def _first_duties(ctx: Context, kind: Kind, record: dict[str, Any],
                  explicit_due: date | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The duties the first stage opens, as dicts; the record names the most urgent one.
    Returns them and the calendar warnings."""
    subtype, stage = record["subtype"], record["stage"]
    plan = duty_ops.plan_for(ctx, kind, subtype, bool(record["urgent"]), stage)
    duties, warnings = duty_ops.new_duties(ctx, kind, plan, stage, record["stage_on"], record,
                                           explicit_due)
    urgent = duty_ops.most_urgent(duties, ctx.today)
    if urgent is not None:
        record.update(holder_id=urgent["holder_id"], due_on=urgent["due_on"],
                      duty=urgent["name"], duty_is_right=urgent["is_right"],
                      due_provisional=urgent["provisional"])
    return duties, warnings


def _arrive_closed(ctx: Context, kind: Kind, values: Mapping[str, Any],
                   record: dict[str, Any], duties: list[dict[str, Any]]) -> None:
    """An item may arrive already closed (CSV import of an export): check it like a close, and
    end its duties. The tool never invents what a row does not say, nor drops what it does."""
    status = str(values.get("status") or "").strip().lower()
    if status in (CLOSED, STATUS_LABELS[CLOSED]):
        outcome = values.get("outcome")
        if not outcome:
            raise BadInput(_("A closed item needs an outcome."))
        closed_on = ctx.event(values.get("closed_on"), None, "closed_on")
        if closed_on is None:
            raise BadInput(_("A closed item needs its closing date (closed_on)."))
        check_close_date(_("the item"), record["opened_on"], closed_on)
        record.update(status=CLOSED, outcome=kind.outcomes(record["subtype"]).parse(outcome),
                      closed_on=closed_on)
        for duty in duties:
            duty.update(duty_ops.end_values(ctx, kind, record["outcome"], duty, closed_on))
        record.update(duty=None, duty_is_right=False, due_provisional=False)
    elif status not in ("", OPEN, STATUS_LABELS[OPEN]):
        raise BadInput(_("Unknown status {text!r}. Valid: open, closed.").format(
            text=str(values["status"])[:20]))
    elif values.get("outcome") or values.get("closed_on"):
        raise BadInput(_("An open item has no outcome or closing date: give status closed, or "
                         "leave them empty."))


# Besides bookkeeping, what an item owes is derived from its duties (their own record).
# A new item is never void: the void columns are not part of what was created.
_NOT_IN_SNAPSHOT = frozenset(("id", "created_at", "updated_at", "actor", "number", "duty",
                              "duty_is_right", "due_provisional", "voided_at", "void_reason"))


def snapshot(record: Mapping[str, Any]) -> str:
    """The whole item at creation, as JSON: the first entry of its history."""
    data = {c: logged_text(v) for c, v in record.items() if c not in _NOT_IN_SNAPSHOT}
    return json.dumps(data, ensure_ascii=False, sort_keys=True)


def parent_must_be_open(ctx: Context, kind: Kind, record: Mapping[str, Any]) -> None:
    """A meeting stays open while it has open action items (an item stays open while it has
    open parts): an open part may not be added to, or moved under, a closed one."""
    link = kind.parent_link()
    if link is None or record.get(link.column_name) is None or record.get("status") != OPEN:
        return
    parent = ctx.session.get(Item, record[link.column_name])
    if parent is not None and not parent.is_open:
        raise BadInput(_("{id} is closed: reopen it before giving it open action items.")
                       .format(id=parent.ident))


def add_item(ctx: Context, kind: Kind, values: Mapping[str, Any]) -> Done:
    """Add a new item of ``kind``: numbered, its first duties written, its creation logged."""
    built = build_item(ctx, kind, values)
    record = built.record
    parent_must_be_open(ctx, kind, record)
    record["number"] = next_numbers(ctx.session, kind.code)
    item = Item(**record)
    ctx.session.add(item)
    ctx.session.flush()
    ctx.touched.add(item.id)
    duty_ops.add_duties(ctx.session, item, built.duties)
    if record["note"]:
        ctx.session.add(Note(item_id=item.id, at=item.created_at, actor=ctx.actor,
                             text=record["note"]))
    log(ctx.session, ctx.actor, item.ident, "create", [Change(None, None, snapshot(record))],
        at=item.created_at)
    return Done(item.ident, item.due_on, built.warnings + _same_document(ctx, item))


def _same_document(ctx: Context, item: Item) -> list[str]:
    """A warning when another item carries the item's document number: one document is one
    matter, and a second entry of it is most often a duplicate (`search` finds the other)."""
    if not item.doc_no:
        return []
    ctx.session.flush()
    search.refresh(ctx.session, {item.id})  # the row the comparison reads
    others = search.same_document(ctx.session.connection(), item.doc_no, other_than=item.id)
    if not others:
        return []
    idents = [ctx.session.get(Item, pk).ident for pk in others]
    return [_("{id}'s document number {doc_no} is also that of {others}: check it is not "
              "entered twice.").format(id=item.ident, doc_no=item.doc_no,
                                       others=listing(idents))]


def _sync(ctx: Context, item: Item, action: str, reason: str | None = None) -> None:
    """Bring the item's holder and due date in line with its duties, and log the change."""
    ctx.session.flush()
    log_item(ctx, item, action,
                duty_ops.sync(item, duty_ops.duties_of(ctx.session, item), ctx.today),
                reason=reason)


def _rule_keys() -> tuple[str, ...]:
    """The item fields the due dates depend on: the subtype, the urgent flag, and the units a
    duty may fall to (the kinds' unit fields, from the registry)."""
    return ("subtype", "urgent", "unit_id", *unit_field_columns())


@dataclass
class _Request:
    """An update, checked before anything changes: the parsed values and what they ask for."""

    plain: dict[str, Any]  # plain fields (title, handler, unit, subtype, the kind's own)
    stage: str | None  # the stage entered, parsed
    backward: bool  # the stage comes before the current one
    pausing: bool
    resuming: bool
    reason: str | None
    start: date | None  # the day a stage is entered or a duty met (--on)
    acted: date | None  # the day the holder of the duties ended acted (--acted-on)
    explicit_due: date | None  # a due date typed (--due)


def update_item(ctx: Context, ident: str, values: Mapping[str, Any],
                kind: Kind | None = None) -> Done:
    """Change an item as ``values`` say: its plain fields, its opening date, its stage or due
    date, a duty met, a pause or resume, a note; each change logged."""
    item = get_item(ctx.session, ident, kind)
    logged_before, open_before = ctx.logged, _open_duty_ids(ctx, item)
    request = _check_request(ctx, item, values)
    warnings = _apply_fields(ctx, item, values, request)
    stage = _check_stage_and_due(item, request)
    warnings += _apply_stage_or_extension(ctx, item, stage, request)
    if values.get("met"):
        _apply_met(ctx, item, values["met"], request.acted)
    warnings += _apply_pause_or_resume(ctx, item, values, request)
    if values.get("note") is not None:
        append_note(ctx, item, values["note"])
    ctx.session.flush()
    return Done(item.ident, item.due_on, warnings, changed=ctx.logged > logged_before,
                ended=_ended_since(ctx, item, open_before))


def _check_request(ctx: Context, item: Item, values: Mapping[str, Any]) -> _Request:
    """Parse and check everything the update asks, before any of it is applied."""
    kind = item.kind_info
    plain = _plain_values(ctx, kind, item, values)
    stage = kind.stages(plain.get("subtype", item.subtype)).parse(values["stage"]) \
        if values.get("stage") else None
    backward = stage is not None and _is_backward(kind, item, plain.get("subtype"), stage)
    pausing, resuming, reason = _check_update_options(ctx, item, values, backward)
    start = ctx.event(values.get("on"), ctx.today, "--on") if stage or values.get("met") \
        else None
    acted = _acted_on(ctx, values, start)
    explicit_due = ctx.due(values.get("due_on"), start or ctx.today)
    check_units(kind, {kf.column_name: plain.get(kf.column_name, getattr(item, kf.column_name))
                       for kf in kind.fields if kf.type == "unit"}
                | {"unit_id": plain.get("unit_id", item.unit_id)})
    return _Request(plain, stage, backward, pausing, resuming, reason, start, acted,
                    explicit_due)


def _apply_fields(ctx: Context, item: Item, values: Mapping[str, Any],
                  request: _Request) -> list[str]:
    """Apply the plain fields and a corrected opening date; when what the due dates depend on
    changed, the open duties follow their rules again. Returns calendar warnings."""
    kind = item.kind_info
    warnings: list[str] = []
    changes = item.edit(**request.plain)
    log_item(ctx, item, "update", changes)
    link = kind.parent_link()
    if link is not None and link.column_name in request.plain:
        parent_must_be_open(ctx, kind, {link.column_name: getattr(item, link.column_name),
                                        "status": item.status})
    if values.get("opened_on") is not None:
        warnings += _correct_opening(ctx, item, ctx.event(values["opened_on"], None,
                                                          "--opened-on"), request.reason)
    if any(c.field == "doc_no" for c in changes):
        warnings += _same_document(ctx, item)
    if item.is_open and any(c.field in _rule_keys() for c in changes):
        # What the due dates depend on has changed: the open duties follow their rules again.
        warnings += duty_ops.recompute(ctx, item)
        _sync(ctx, item, "update")
    return warnings


def _check_stage_and_due(item: Item, request: _Request) -> str | None:
    """Refuse a current stage its (new) subtype lacks, a due date before the opening, a due
    date on a closed item; returns the stage to enter (None: stay)."""
    kind, stage, due = item.kind_info, request.stage, request.explicit_due
    if not stage and item.stage not in kind.stages(item.subtype).codes:
        # A new subtype (referral direction) whose stages do not include the current one.
        raise BadInput(_("Stage {stage} does not exist for {subtype}: give --stage. Valid: "
                         "{valid}.").format(stage=kind.stage_text(item.stage), subtype=item.subtype,
                                            valid=kind.stages(item.subtype).describe()))
    if due is not None and due < item.opened_on:
        raise BadInput(_("The due date {due} is before the opening date {opened}.").format(
            due=due.isoformat(), opened=item.opened_on.isoformat()))
    if stage == item.stage and due is None:
        return None  # already there: re-entering would restart its clock and drop an extension
    if not stage and due is not None and not item.is_open:
        raise BadInput(_("{id} is closed: reopen it before moving its due date.").format(
            id=item.ident))
    return stage


def _apply_stage_or_extension(ctx: Context, item: Item, stage: str | None,
                              request: _Request) -> list[str]:
    """Enter ``stage``, or move the due date (延期); returns calendar warnings."""
    if stage:
        return _move_stage(ctx, item, stage, request.start, request.acted,
                           request.explicit_due, request.backward, request.reason)
    if request.explicit_due is not None:
        duty_ops.extend(ctx, item, request.explicit_due, on=ctx.today)  # logged by _sync
        _sync(ctx, item, "extend", reason=request.reason)
    return []


def _apply_met(ctx: Context, item: Item, name: str, acted: date | None) -> None:
    """The holder met one open duty (--met) on ``acted``, without a stage change."""
    duty_ops.meet(ctx, item, ctx.rules.duty_code(name), acted)
    _sync(ctx, item, "met")


def _apply_pause_or_resume(ctx: Context, item: Item, values: Mapping[str, Any],
                           request: _Request) -> list[str]:
    """Stop or restart the item's clocks on --on (default today); returns calendar warnings."""
    if not (request.pausing or request.resuming):
        return []
    day = ctx.event(values.get("on"), ctx.today, "--on")
    if request.pausing:
        duty_ops.pause(ctx, item, day, request.reason)
        return []
    warnings = duty_ops.resume(ctx, item, day, request.reason)
    _sync(ctx, item, "resume", reason=request.reason)
    return warnings


def _plain_values(ctx: Context, kind: Kind, item: Item,
                  values: Mapping[str, Any]) -> dict[str, Any]:
    """The plain fields an update changes (title, handler, unit, subtype, the kind's own)."""
    plain: dict[str, Any] = {}
    if values.get("title") is not None:
        plain["title"] = _require_title(values["title"])
    if values.get("handler") is not None:
        plain["handler"] = values["handler"].strip() or None
    plain.update(_kind_values(ctx, kind, values))
    if kind.subtype_key and values.get(kind.subtype_key):
        plain["subtype"] = kind.subtypes.parse(values[kind.subtype_key])
    check_flags(kind, plain.get("subtype", item.subtype),
                {kf.column_name: plain.get(kf.column_name, getattr(item, kf.column_name))
                 for kf in kind.fields if kf.only_subtypes})
    if values.get("unit"):
        plain["unit_id"] = find_unit(ctx.session, values["unit"]).id
    return plain


def _is_backward(kind: Kind, item: Item, subtype: str | None, stage: str) -> bool:
    """Whether ``stage`` comes before the item's current stage in its kind's order."""
    codes = kind.stages(subtype or item.subtype).codes
    return stage in codes and item.stage in codes and codes.index(stage) < codes.index(item.stage)


def _check_update_options(ctx: Context, item: Item, values: Mapping[str, Any],
                          backward: bool) -> tuple[bool, bool, str | None]:
    """Refuse option combinations that say nothing or contradict each other; returns
    (pausing, resuming, reason)."""
    pausing, resuming = bool(values.get("pause")), bool(values.get("resume"))
    reason = (values.get("reason") or "").strip() or None
    _check_options_together(values, pausing, resuming, backward, reason)
    _check_options_for(item, values, pausing, resuming, backward, reason)
    return pausing, resuming, reason


def _check_options_together(values: Mapping[str, Any], pausing: bool, resuming: bool,
                            backward: bool, reason: str | None) -> None:
    """Refuse an empty option, and options that contradict or lack each other."""
    for name, option in (("stage", "--stage"), ("due_on", "--due"), ("on", "--on"),
                         ("opened_on", "--opened-on"), ("acted_on", "--acted-on"),
                         ("met", "--met")):
        if values.get(name) is not None and not str(values[name]).strip():
            raise BadInput(_("{option} must not be empty.").format(option=option))
    moving = values.get("stage") or values.get("met")
    if pausing and resuming:
        raise BadInput(_("Give --pause or --resume, not both."))
    if values.get("stage") and values.get("met"):
        raise BadInput(_("Give --stage or --met, not both: a stage change ends the duties it "
                         "supersedes by itself."))
    if values.get("on") is not None and not (moving or pausing or resuming):
        raise BadInput(_("--on dates a stage change: give --stage too."))
    if values.get("acted_on") is not None and not moving:
        raise BadInput(_("--acted-on dates the act of the holder of the duties a stage change "
                         "ends: give --stage or --met too."))
    if reason and not (values.get("due_on") or values.get("opened_on") or pausing or resuming
                       or backward):
        # A reason with nothing to explain would be dropped: say so instead.
        raise BadInput(_("--reason explains --due, --opened-on, --pause, --resume or a move "
                         "back to an earlier stage: give one of them."))


def _check_options_for(item: Item, values: Mapping[str, Any], pausing: bool, resuming: bool,
                       backward: bool, reason: str | None) -> None:
    """Refuse what the item's state forbids (closed, paused) and a change that needs a reason
    given without one."""
    moving = values.get("stage") or values.get("met")
    if (pausing or resuming or moving) and not item.is_open:
        raise BadInput(_("{id} is closed: reopen it before changing its stage.").format(
            id=item.ident))
    if backward and not reason:
        raise BadInput(_("{stage} comes before {id}'s current stage {current}: say why it moves "
                         "back with --reason TEXT (the duties it ends are judged, and logged).")
                       .format(stage=item.kind_info.stage_text(item.kind_info.all_stages().parse(
                           values["stage"])), id=item.ident,
                               current=item.kind_info.stage_text(item.stage)))
    if pausing and not reason:
        raise BadInput(_("Say why the clock stops: --reason TEXT."))
    if values.get("opened_on") is not None and not reason:
        raise BadInput(_("Say why the opening date is corrected: --reason TEXT."))
    if moving and item.paused_on is not None:
        raise BadInput(_("{id} is paused: resume it (--resume) before changing its stage.")
                       .format(id=item.ident))


def _acted_on(ctx: Context, values: Mapping[str, Any], on: date | None) -> date | None:
    """The day the holder of the duties being ended acted (the document's date): default the
    day of receipt, never after it."""
    if on is None:
        return None
    acted = ctx.event(values.get("acted_on"), on, "--acted-on")
    if acted > on:
        raise BadInput(_("--acted-on {acted} is after --on {on}: the act comes before the other "
                         "side receives it.").format(acted=acted.isoformat(), on=on.isoformat()))
    return acted


def _move_stage(ctx: Context, item: Item, stage: str, start: date, acted: date,
                explicit_due: date | None, backward: bool,
                reason: str | None) -> list[str]:
    """Enter ``stage`` on ``start``; the duties it ends are judged on ``acted``. Returns the
    calendar warnings."""
    if start < item.opened_on:
        raise BadInput(_("The date {on} is before {id} was opened ({opened}).").format(
            on=start.isoformat(), id=item.ident, opened=item.opened_on.isoformat()))
    if item.stage_on is not None and start < item.stage_on:
        # Stages follow one another: a later stage cannot begin before the current one.
        raise BadInput(_("The date {on} is before {id} entered its current stage {stage} "
                         "({since}).").format(on=start.isoformat(), id=item.ident,
                                              stage=item.kind_info.stage_text(item.stage),
                                              since=item.stage_on.isoformat()))
    before_due = item.due_on
    clock, warnings, _ended = duty_ops.enter_stage(ctx, item, stage, start, explicit_due, acted,
                                                   backward, reason)
    moves = item.move_to(stage, start, clock, before_due)
    log_item(ctx, item, "stage", moves, reason=reason if backward else None)
    # A due date the user typed is an extension (延期) even when it comes with a stage.
    _sync(ctx, item, "extend" if explicit_due is not None else "stage",
          reason=reason if explicit_due is not None or backward else None)
    return warnings


def _correct_opening(ctx: Context, item: Item, day: date, reason: str | None) -> list[str]:
    """A mistyped opening date, corrected with a reason: the clocks that started on it start on
    the new day, and their due dates follow their rules again unless a document fixed them."""
    old = item.opened_on
    if day == old:
        return []
    later = [d.started_on for d in duty_ops.duties_of(ctx.session, item) if d.started_on != old]
    if item.stage_on is not None and item.stage_on != old:
        later.append(item.stage_on)
    if later and day > min(later):
        # The opening cannot come after what the item records as having happened since.
        raise BadInput(_("{id} records a stage on {first}: it cannot have opened on {day}.")
                       .format(id=item.ident, first=min(later).isoformat(), day=day.isoformat()))
    if item.closed_on is not None and item.closed_on < day:
        raise BadInput(_("{id} was closed on {closed}, before {day}.").format(
            id=item.ident, closed=item.closed_on.isoformat(), day=day.isoformat()))
    moved = {"opened_on": day}
    if item.stage_on == old:
        moved["stage_on"] = day
    log_item(ctx, item, "correct", item.edit(**moved), reason=reason)
    for duty in duty_ops.duties_of(ctx.session, item):
        if duty.started_on == old:
            duty_ops.log_duty(ctx, item, "correct", duty, "started_on", old, day, reason)
            duty.started_on = day
    warnings = duty_ops.recompute(ctx, item) if item.is_open else []
    _sync(ctx, item, "correct", reason=reason)
    return warnings


def close_item(ctx: Context, ident: str, outcome: str, on: date | str | None = None,
               note: str | None = None, kind: Kind | None = None,
               reason: str | None = None, acted_on: date | str | None = None) -> Done:
    """Close with ``outcome`` on ``on``; the open duties are judged on ``acted_on``, the day
    their holder acted (default ``on``)."""
    item = get_item(ctx.session, ident, kind)
    if not item.is_open:
        raise BadInput(_("{id} is already closed.").format(id=item.ident))
    code = item.kind_info.outcomes(item.subtype).parse(outcome)
    children = _children(ctx, item, OPEN)
    if children:
        raise BadInput(_("{id} still has open action items: {items}. Close them first.")
                       .format(id=item.ident, items=", ".join(a.ident for a in children)))
    day = ctx.event(on, ctx.today, "--on")
    acted = _acted_on(ctx, {"acted_on": acted_on}, day)
    open_before = _open_duty_ids(ctx, item)
    changes = item.close(code, day)
    duty_ops.close_duties(ctx, item, acted, code)
    # nothing is owed on a closed item
    item.duty, item.duty_is_right, item.due_provisional = None, False, False
    if item.paused_on is not None:
        changes += item.edit(paused_on=None)
    log_item(ctx, item, "close", changes, reason=reason)
    if note is not None:
        append_note(ctx, item, note)
    ctx.session.flush()
    _close_parent_when_done(ctx, item, day)
    return Done(item.ident, item.due_on, ended=_ended_since(ctx, item, open_before))


def part_links(kind_code: str) -> list[tuple[Kind, Any]]:
    """(kind, link field) of every kind whose items belong to items of ``kind_code``."""
    return [(k, f) for k in KINDS.values() for f in k.links()
            if f.part_of and f.target == kind_code]


def _children(ctx: Context, item: Item, status: str) -> list[Item]:
    """The items that belong to ``item`` (a meeting's action items)."""
    found: list[Item] = []
    for kind, link in part_links(item.kind):
        found += ctx.session.scalars(
            select(Item).where(Item.kind == kind.code,
                               getattr(Item, link.column_name) == item.id,
                               Item.status == status).order_by(Item.number))
    return found


def _parent(ctx: Context, item: Item) -> Item | None:
    """The item ``item`` belongs to (an action item's meeting), if any."""
    link = item.kind_info.parent_link()
    parent_id = getattr(item, link.column_name) if link is not None else None
    return ctx.session.get(Item, parent_id) if parent_id is not None else None


def _close_parent_when_done(ctx: Context, item: Item, day: date) -> None:
    """A meeting whose last open action item closes is done: it closes itself, logged."""
    parent = _parent(ctx, item)
    if parent is None or not parent.is_open or _children(ctx, parent, OPEN):
        return
    outcome = parent.kind_info.outcomes(parent.subtype).codes[0]
    close_item(ctx, parent.ident, outcome, max(day, parent.opened_on),
               reason=_("its last open action item {id} was closed").format(id=item.ident))


def reopen_item(ctx: Context, ident: str, reason: str, kind: Kind | None = None,
                due_on: date | str | None = None, note: str | None = None) -> Done:
    """Reopen a closed item, optionally with a new due date (a reopened item whose clock had
    stopped has none, and would otherwise never be overdue)."""
    if not reason or not reason.strip():
        raise BadInput(_("Say why the item is reopened: --reason TEXT."))
    item = get_item(ctx.session, ident, kind)
    new_due = ctx.due(due_on, ctx.today)
    if new_due is not None and new_due < item.opened_on:
        raise BadInput(_("The due date {due} is before the opening date {opened}.").format(
            due=new_due.isoformat(), opened=item.opened_on.isoformat()))
    closed_on = item.closed_on
    log_item(ctx, item, "reopen", item.reopen(), reason=reason)
    parent = _parent(ctx, item)
    if parent is not None and not parent.is_open:
        # Reopening an action item reopens its meeting: the meeting is open while it has work.
        log_item(ctx, parent, "reopen", parent.reopen(),
                    reason=_("its action item {id} was reopened").format(id=item.ident))
    duty_ops.reopen_duties(ctx, item, closed_on, max(ctx.today, item.opened_on), new_due)
    _sync(ctx, item, "extend" if new_due is not None else "reopen", reason=reason)
    if note is not None:
        append_note(ctx, item, note)
    ctx.session.flush()
    warnings = [] if item.due_on is not None else [
        _("{id} has no due date now: give one with --due so that it can become overdue.")
        .format(id=item.ident)]
    return Done(item.ident, item.due_on, warnings)


def record_stage(ctx: Context, ident: str, kind: Kind, verb, on: date | str | None = None,
                 note: str | None = None, acted_on: date | str | None = None) -> Done:
    """A kind's verb that records one stage (a suggestion's `reply`: kinds.Verb ``stage``) or
    meets one duty without a stage change (a clue's `reply`: ``meets``, while the duty to
    perform runs on). Recording again what is already recorded changes nothing."""
    if verb.stage is not None:
        return update_item(ctx, ident, {"stage": verb.stage, "on": on, "note": note,
                                        "acted_on": acted_on}, kind)
    item = get_item(ctx.session, ident, kind)
    duties = duty_ops.duties_of(ctx.session, item)
    if item.is_open and not any(d.is_open and d.name == verb.meets for d in duties) \
            and any(d.name == verb.meets and d.state in (DUTY_MET, DUTY_LATE) for d in duties):
        return Done(item.ident, item.due_on, changed=False)
    return update_item(ctx, ident, {"met": verb.meets, "on": on, "note": note,
                                    "acted_on": acted_on}, kind)


def open_linked(ctx: Context, ident: str, kind: Kind, verb, values: Mapping[str, Any],
                superior: bool = False, report: str | None = None, again: bool = False,
                reason: str | None = None) -> Done:
    """A kind's verb that opens an item of another kind from this one (kinds.Verb ``opens``):
    an obstructed assistance request escalated to a 检察建议 of type correction. The new item
    names this one (related_id), so each item's `show` names the other; opening it is the
    decision the stage waited for, so this item's open duties end (met, or late) that day;
    ``report`` (to the district committee or government) joins its running record. Opening a
    second one takes ``again`` with a ``reason``."""
    item = get_item(ctx.session, ident, kind)
    if not item.is_open or item.stage not in verb.from_stages:
        raise BadInput(_("{id} is at stage {stage}: {verb} needs stage {stages}.").format(
            id=item.ident, stage=kind.stage_text(item.stage), verb=verb.name,
            stages=_(", ").join(kind.stage_text(s) for s in verb.from_stages)))
    target = KINDS[verb.opens]
    _check_again(ctx, item, target, verb, again, reason)
    wanted = _linked_values(ctx, item, target, verb, values)
    _check_linked(ctx, item, wanted, superior)
    opened = add_item(ctx, target, wanted)
    new = get_item(ctx.session, opened.ident, target)
    new.related_id = item.id
    for duty in duty_ops.duties_of(ctx.session, item):
        if duty.is_open:
            before = duty.state
            duty_ops.log_duty(ctx, item, verb.name, duty, "state", before,
                              duty.end(new.opened_on))
    _sync(ctx, item, verb.name)
    if again:  # why another was opened stays in the history, beside what was opened
        log_item(ctx, item, verb.name, [Change("opened", None, new.ident)], reason=reason)
    _note_linked(ctx, item, new, verb, superior, report)
    ctx.session.flush()
    return Done(new.ident, new.due_on, opened.warnings)


def _check_again(ctx: Context, item: Item, target: Kind, verb, again: bool,
                 reason: str | None) -> None:
    """Refuse to open a second item from this one by the same verb unless ``again`` says it
    is meant, with a reason (a repeated escalation would otherwise open a twin suggestion)."""
    earlier = [format_id(target, n) for n in ctx.session.scalars(
        select(Item.number).where(Item.kind == target.code, Item.related_id == item.id,
                                  Item.voided_at.is_(None)).order_by(Item.number))]
    if earlier and not again:
        raise BadInput(_("{id} already opened {items} by {verb}: to open another, give --again "
                         "with --reason TEXT.").format(id=item.ident, items=", ".join(earlier),
                                                       verb=verb.name))
    if again and not (reason or "").strip():
        raise BadInput(_("--again needs --reason TEXT: say why another is opened."))


def _linked_values(ctx: Context, item: Item, target: Kind, verb,
                   values: Mapping[str, Any]) -> dict[str, Any]:
    """What the item a verb opens is given: by default this item's title (and ID) and unit,
    and the subtype the verb names."""
    wanted = dict(values)
    wanted.setdefault("title", None)
    if not (wanted["title"] or "").strip():
        wanted["title"] = f"{item.title}（{item.ident}）"
    if not wanted.get("unit"):
        wanted["unit"] = ctx.session.get(Unit, item.unit_id).code
    if target.subtype_key and verb.opens_subtype:
        wanted[target.subtype_key] = verb.opens_subtype
    return wanted


def _check_linked(ctx: Context, item: Item, wanted: Mapping[str, Any], superior: bool) -> None:
    """Refuse a linked item opened before this item's stage began, or one said to go to the
    superior unit but addressed to the unit itself."""
    opened_on = ctx.event(wanted.get("opened_on"), ctx.today, "--on")
    if item.stage_on is not None and opened_on < item.stage_on:
        # The decision answers the stage: it cannot come before the stage began.
        raise BadInput(_("The date {on} is before {id} entered its current stage {stage} "
                         "({since}).").format(on=opened_on.isoformat(), id=item.ident,
                                              stage=item.kind_info.stage_text(item.stage),
                                              since=item.stage_on.isoformat()))
    if superior and ctx.unit(wanted["unit"]).id == item.unit_id:
        raise BadInput(_("--superior: give the superior unit with --to (not {unit} itself).")
                       .format(unit=ctx.session.get(Unit, item.unit_id).code))


def _note_linked(ctx: Context, item: Item, new: Item, verb, superior: bool,
                 report: str | None) -> None:
    """Each item's running record names the other; ``report`` joins this item's."""
    unit = ctx.session.get(Unit, new.unit_id)
    said = N_("{verb}: {id} opened, addressed to {unit}, the superior of the unit asked.") \
        if superior else N_("{verb}: {id} opened, addressed to {unit}.")
    append_said(ctx, item, said, verb.name, verb=verb.name, id=new.ident, unit=unit.name)
    append_said(ctx, new, N_("Opened from {id} ({verb})."), verb.name, id=item.ident,
                verb=verb.name)
    if report is not None:
        append_note(ctx, item, report, action="report")


def note_item(ctx: Context, ident: str, text: str, day: date | str | None = None) -> Done:
    """Add a note to an item's running record (``day``: when its event happened)."""
    item = get_item(ctx.session, ident)
    append_note(ctx, item, text, day=day)
    return Done(item.ident, item.due_on)


def void_item(ctx: Context, ident: str, reason: str | None) -> Done:
    """Mark an entry made in error: it leaves lists, reports, statistics and exports (unless
    asked for), keeps its history, and is never deleted."""
    if not (reason or "").strip():
        raise BadInput(_("Say why the entry is void: --reason TEXT."))
    item = get_item(ctx.session, ident)
    if item.voided_at is not None:
        return Done(item.ident, item.due_on, changed=False)
    log_item(ctx, item, "void", item.edit(voided_at=now(), void_reason=reason.strip()),
                reason=reason.strip())
    return Done(item.ident, item.due_on)


def unvoid_item(ctx: Context, ident: str, reason: str | None) -> Done:
    """An entry marked void counts again, with a reason; its history keeps both."""
    if not (reason or "").strip():
        raise BadInput(_("Say why the entry counts again: --reason TEXT."))
    item = get_item(ctx.session, ident)
    if item.voided_at is None:
        return Done(item.ident, item.due_on, changed=False)
    log_item(ctx, item, "unvoid", item.edit(voided_at=None, void_reason=None),
                reason=reason.strip())
    return Done(item.ident, item.due_on)
