"""Duties: what each stage hands to which unit, from which day, by when (domain.md §3).

A stage's rules (data/deadlines.toml) open duties (应当) and rights (可以); entering the next
stage ends them by their holder's act — met or late by the date the holder acted, a right
exercised — or unmet, or as stand-ins, as the stage's entry says; closing the item ends them the
same way, or waives them when the outcome is nobody's failure (a withdrawal, a cancellation).
The item row keeps the holder, due date and name of its most urgent open duty (:func:`sync`),
so that lists and reports read one indexed table; this module is the only place that writes
them.

New duties are plain dicts first (a bulk import builds a hundred thousand), rows afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from fujian.deadlines import Rule, StagePlan, compute_due, roll_forward
from fujian.errors import BadInput
from fujian.i18n import _
from fujian.kinds import Kind, unit_field_columns
from fujian.models import (
    DUTY_OPEN,
    END_BACKWARD,
    END_MET,
    END_UNMET,
    END_WAIVED,
    Change,
    Duty,
    Item,
    ending,
)
from fujian.service.changelog import log, log_item


def _holder_column(kind: Kind, holder: str) -> str:
    """The item column naming the unit a rule's ``holder`` stands for."""
    if holder == "unit":
        return "unit_id"
    field = kind.field(holder)
    return field.column_name if field is not None else f"{holder}_id"


def holder_of(ctx, kind: Kind, rule: Rule, ids: Mapping[str, Any]) -> int:
    """The unit id that holds ``rule``'s duty on an item whose unit columns are ``ids``; a
    holder the rules name as a fixed unit (the procuratorate) is that unit, by its code."""
    fixed = ctx.rules.holders.get(rule.holder)
    if fixed is not None:
        return ctx.unit(fixed["unit"]).id
    value = ids.get(_holder_column(kind, rule.holder))
    if value is None:
        raise BadInput(_("At stage {stage} the duty falls on the {label}: give {option}.").format(
            stage=kind.stage_text(rule.stage), label=kind.holder_label(rule.holder),
            option=kind.holder_option(rule.holder)))
    return value


def _has_holder(ctx, kind: Kind, rule: Rule, ids: Mapping[str, Any]) -> bool:
    """Whether someone is named to hold ``rule``'s duty yet."""
    return rule.holder in ctx.rules.holders or ids.get(_holder_column(kind, rule.holder)) \
        is not None


def _fallback(kind: Kind, stage: str) -> Rule:
    """A stage no rule speaks of, given a due date by hand: the item's own unit holds it."""
    return Rule(kind.code, stage, None, "", duty="follow-up", holder="unit", start="received")


def plan_for(ctx, kind: Kind, subtype: str | None, urgent: bool, stage: str) -> StagePlan:
    """What entering ``stage`` opens and ends, by the rules."""
    return ctx.rules.plan(kind.code, subtype, stage, bool(urgent))


def new_duties(ctx, kind: Kind, plan: StagePlan, stage: str, start: date,
               ids: Mapping[str, Any], explicit_due: date | None) -> tuple[list[dict], list[str]]:
    """The duties entering ``stage`` on ``start`` opens, as dicts. A due date typed by the user
    (a document's own period, "期限以文书载明为准") applies to every duty the stage opens; a rule
    without a period opens a duty without a due date (the procuratorate examining a proposal)."""
    rules = list(plan.rules) or ([_fallback(kind, stage)] if explicit_due is not None else [])
    duties, warnings = [], []
    explicit = explicit_due is not None
    for rule in rules:
        provisional = False
        if explicit:
            due = nominal = explicit_due
        elif rule.period is None:
            if not _has_holder(ctx, kind, rule, ids):
                continue  # a duty without a period, and no one named to hold it yet
            due = nominal = None
        else:
            result = compute_due(start, rule.period, ctx.calendar, criminal=rule.criminal)
            due, nominal, provisional = result.due, result.nominal, bool(result.warnings)
            warnings = warnings + [w for w in result.warnings if w not in warnings]
        duties.append({"name": rule.duty, "stage": stage,
                       "holder_id": holder_of(ctx, kind, rule, ids),
                       "started_on": start, "due_on": due, "ended_on": None, "state": DUTY_OPEN,
                       "explicit": explicit, "is_right": rule.right,
                       "local": rule.local and not explicit, "provisional": provisional,
                       "nominal_on": nominal, "paused_days": 0})
    return duties, warnings


def most_urgent(duties, as_of: date | None = None) -> Any | None:
    """The open duty the item's holder and due date stand for: a duty with a due date (the
    first due), else a right still running at ``as_of`` (a right whose window has passed has
    lapsed), else a duty without a due date."""
    best, best_key = None, None
    for index, duty in enumerate(duties):
        if _get(duty, "state") != DUTY_OPEN:
            continue
        due, is_right = _get(duty, "due_on"), bool(_get(duty, "is_right"))
        if is_right and (due is None or (as_of is not None and due < as_of)):
            continue
        key = (due is None, is_right, due or date.max, index)
        if best_key is None or key < best_key:
            best, best_key = duty, key
    return best


def _get(duty, key: str):
    """A field of a duty, whether a dict (not yet written) or a row."""
    return duty[key] if isinstance(duty, dict) else getattr(duty, key)


def close_how(ctx, kind: Kind, outcome: str, name: str, is_right: bool) -> str:
    """How closing with ``outcome`` ends an open duty: waived when the outcome is nobody's
    failure (a withdrawal) — a right is never exercised by a close —, unmet when the outcome
    says the owed act did not happen (a suggestion not adopted leaves performance unmet), else
    met or late by the date the holder acted."""
    if is_right or outcome in kind.waiving_outcomes:
        return END_WAIVED
    if name in ctx.rules.unmet_on_close(kind.code, outcome):
        return END_UNMET
    return END_MET


def end_values(ctx, kind: Kind, outcome: str, duty: dict, on: date) -> dict[str, Any]:
    """How a duty not yet written (a dict of a bulk import) ends at a close: as
    :func:`close_duties` ends a row."""
    ended_on, state = ending(duty["due_on"], duty["started_on"], duty["is_right"], on,
                             close_how(ctx, kind, outcome, duty["name"], duty["is_right"]))
    return {"ended_on": ended_on, "state": state}


# -- one item, through the ORM --------------------------------------------------------------


def duties_of(session, item: Item) -> list[Duty]:
    """Every duty of ``item``, oldest first."""
    return list(session.scalars(select(Duty).where(Duty.item_id == item.id).order_by(Duty.id)))


def add_duties(session, item: Item, duties: list[dict]) -> list[Duty]:
    """Write duties built as dicts (:func:`new_duties`) as rows of ``item``."""
    rows = [Duty(item_id=item.id, **d) for d in duties]
    session.add_all(rows)
    return rows


def sync(item: Item, duties: list[Duty], today: date | None = None) -> list[Change]:
    """Keep the item's holder and due date equal to its most urgent open duty's (see
    :func:`most_urgent`), and remember which duty that is. With no open duty the item's own
    unit is named and the due date cleared (the clock has stopped). The duty's name is derived
    like the holder, but not logged: the duty rows keep it."""
    urgent = most_urgent(duties, today)
    item.duty = None if urgent is None else urgent.name
    item.duty_is_right = bool(urgent is not None and urgent.is_right)
    item.due_provisional = bool(urgent is not None and urgent.provisional)
    if urgent is None:
        return item.edit(holder_id=item.unit_id, due_on=None)
    return item.edit(holder_id=urgent.holder_id, due_on=urgent.due_on)


def log_duty(ctx, item: Item, action: str, duty: Duty, field: str, old: Any, new: Any,
             reason: str | None = None) -> None:
    """A duty's change in the item's change log: the field is named ``duty:NAME.FIELD``."""
    ctx.logged += 1
    change = Change(f"duty:{duty.name}.{field}", old, new)
    log(ctx.session, ctx.actor, item.ident, action, [change], reason=reason)


def enter_stage(ctx, item: Item, stage: str, on: date, explicit_due: date | None,
                acted: date | None = None, backward: bool = False,
                reason: str | None = None) -> tuple[str, list[str], list[Duty]]:
    """End the duties ``stage`` supersedes and open its own, whose clocks start ``on`` (the
    receipt). The ended duties are judged on ``acted``, the day their holder acted (default
    ``on``): met or late, or as the stage's entry says (unmet, stand-in). A move ``backward``
    to an earlier stage ends them unmet when already past due, else waived, each logged with
    ``reason``. Returns what happened to the clock — "restart" (new timed duties), "stop"
    (duties ended, none timed opened) or "keep" (a stage no rule speaks of: the open duties run
    on) —, any calendar warnings, and the duties it ended."""
    kind = item.kind_info
    acted = on if acted is None else acted
    plan = plan_for(ctx, kind, item.subtype, bool(item.urgent), stage)
    current = duties_of(ctx.session, item)
    if not plan.has_rule:
        if explicit_due is not None:
            extend(ctx, item, explicit_due, current, on=on, stage=stage)
        return "keep", [], []
    opened, warnings = new_duties(ctx, kind, plan, stage, on, _ids(item), explicit_due)
    ending_now = [(d, plan.ending(d.name)) for d in current if d.is_open]
    ending_now = [(d, how) for d, how in ending_now if how is not None]
    for duty, _how in ending_now:
        check_act(item, duty, acted)
    for duty, how in ending_now:
        before = duty.state
        duty.end(acted, END_BACKWARD if backward else how)
        if backward:  # a move back is a correction: each verdict it gives is logged
            log_duty(ctx, item, "stage", duty, "state", before, duty.state, reason)
    current += add_duties(ctx.session, item, opened)
    ctx.session.flush()
    restarted = any(d["due_on"] for d in opened)
    return ("restart" if restarted else "stop"), warnings, [d for d, _how in ending_now]


def check_act(item: Item, duty: Duty, acted: date) -> None:
    """A holder cannot have acted on a duty before it began."""
    if acted < duty.started_on:
        raise BadInput(_("--acted-on {acted} is before {id}'s duty {duty} began ({began}).")
                       .format(acted=acted.isoformat(), id=item.ident, duty=duty.name,
                               began=duty.started_on.isoformat()))


def meet(ctx, item: Item, name: str, acted: date) -> Duty:
    """The holder met one open duty without a stage change (an organ's reply to a clue's
    pre-litigation suggestion, while its duty to perform runs on): met or late by ``acted``."""
    duty = next((d for d in duties_of(ctx.session, item) if d.is_open and d.name == name),
                None)
    if duty is None:
        open_names = [d.name for d in duties_of(ctx.session, item) if d.is_open]
        raise BadInput(_("{id} has no open duty {duty}. Open: {valid}.").format(
            id=item.ident, duty=name, valid=", ".join(open_names) or _("none")))
    check_act(item, duty, acted)
    before = duty.state
    log_duty(ctx, item, "met", duty, "state", before, duty.end(acted, END_MET))
    return duty


def extend(ctx, item: Item, due: date, current: list[Duty] | None = None, *, on: date,
           stage: str | None = None) -> None:
    """Move the due date of the most urgent open duty (延期); with no open duty, the date opens
    one for the current stage (a document's own period)."""
    current = duties_of(ctx.session, item) if current is None else current
    urgent = most_urgent(current, on)
    if urgent is None:
        kind = item.kind_info
        plan = plan_for(ctx, kind, item.subtype, bool(item.urgent), stage or item.stage)
        start = min(on, due)
        opened, _warnings = new_duties(ctx, kind, plan, stage or item.stage,
                                       max(start, item.opened_on), _ids(item), due)
        current += add_duties(ctx.session, item, opened)
        return
    if urgent.due_on != due:  # logged as the item's due date (it is the most urgent duty)
        urgent.fix_due(due)


def close_duties(ctx, item: Item, acted: date, outcome: str) -> None:
    """Closing ends the open duties as :func:`close_how` says, judged on ``acted`` (the day
    their holder acted)."""
    kind = item.kind_info
    for duty in duties_of(ctx.session, item):
        if duty.is_open:
            duty.end(acted, close_how(ctx, kind, outcome, duty.name, duty.is_right))


def reopen_duties(ctx, item: Item, closed_on: date | None, on: date, due: date | None) -> None:
    """Reopening keeps every earlier duty and its verdict. The duties the close ended start
    again from the reopening day, against the same due dates (the matter was not done) — or,
    given ``due``, the current stage's duty runs to that date instead."""
    current = duties_of(ctx.session, item)
    if due is not None:
        kind = item.kind_info
        plan = plan_for(ctx, kind, item.subtype, bool(item.urgent), item.stage)
        opened, _w = new_duties(ctx, kind, plan, item.stage, max(on, item.opened_on),
                                _ids(item), due)
        add_duties(ctx.session, item, opened)
        return
    ended = [d for d in current if d.ended_on == closed_on and closed_on is not None]
    add_duties(ctx.session, item, [
        {"name": d.name, "stage": d.stage, "holder_id": d.holder_id, "started_on": on,
         "due_on": d.due_on, "ended_on": None, "state": DUTY_OPEN, "explicit": d.explicit,
         "is_right": d.is_right, "local": d.local, "provisional": d.provisional,
         "nominal_on": d.nominal_on, "paused_days": d.paused_days} for d in ended])


def recompute(ctx, item: Item) -> list[str]:
    """After a change the rules key on (urgency, direction, type, a unit): each open duty
    follows its rule again — holder always, due date unless a document fixed it — a duty whose
    rule no longer applies is waived (a correction), and the current stage's duties that now
    apply are opened from the stage's date."""
    ids = _ids(item)
    warnings: list[str] = []
    current = duties_of(ctx.session, item)
    for duty in current:
        if duty.is_open:
            warnings += _follow_rule(ctx, item, duty, ids)
    return warnings + _open_missing(ctx, item, current, ids)


def _follow_rule(ctx, item: Item, duty: Duty, ids: Mapping[str, Any]) -> list[str]:
    """One open duty follows its rule again (holder, due date), or is waived when no rule
    applies now; each change logged. Returns calendar warnings."""
    kind = item.kind_info
    rule = ctx.rules.find(kind.code, item.subtype, duty.stage, bool(item.urgent), duty.name)
    if rule is None:
        if duty.stage == item.stage and not ctx.rules.plan(
                kind.code, item.subtype, duty.stage, bool(item.urgent)).has_rule:
            return []  # a duty given by hand at a stage no rule speaks of: it stands
        before = duty.state
        log_duty(ctx, item, "recompute", duty, "state", before, duty.waive(ctx.today))
        return []
    holder = holder_of(ctx, kind, rule, ids)
    if holder != duty.holder_id:
        log_duty(ctx, item, "recompute", duty, "holder_id", duty.holder_id, holder)
        duty.holder_id = holder
    if duty.explicit or rule.period is None:
        return []
    result = compute_due(duty.started_on, rule.period, ctx.calendar, criminal=rule.criminal)
    duty.nominal_on, duty.provisional = result.nominal, bool(result.warnings)
    due = shifted_due(ctx, duty)  # a correction keeps the days a pause did not count
    if due != duty.due_on:
        log_duty(ctx, item, "recompute", duty, "due_on", duty.due_on, due)
        duty.due_on = due
    return list(result.warnings)


def _open_missing(ctx, item: Item, current: list[Duty], ids: Mapping[str, Any]) -> list[str]:
    """Open, from the stage's date, the current stage's timed duties that now apply and are
    not open yet; each logged. Returns calendar warnings."""
    kind = item.kind_info
    plan = plan_for(ctx, kind, item.subtype, bool(item.urgent), item.stage)
    have = {d.name for d in current if d.is_open and d.stage == item.stage}
    missing = [r for r in plan.timed if r.duty not in have]
    if not (missing and item.is_open):
        return []
    start = item.stage_on or item.opened_on
    opened, warnings = new_duties(ctx, kind, plan, item.stage, start, ids, None)
    opened = [d for d in opened if d["name"] in {r.duty for r in missing}]
    for row in add_duties(ctx.session, item, opened):
        log_duty(ctx, item, "recompute", row, "state", None, DUTY_OPEN)
    return warnings


def pausable(ctx, item: Item, duty: Duty) -> bool:
    """Whether the law lets this duty's clock stop: a district's own period, or a rule naming a
    suspension ground — never a period a document set, nor a statute's."""
    if duty.explicit or duty.due_on is None:
        return False
    rule = ctx.rules.find(item.kind, item.subtype, duty.stage, bool(item.urgent), duty.name)
    return rule is not None and rule.pausable


def pause(ctx, item: Item, on: date, reason: str | None) -> None:
    """Stop the item's clocks on ``on``, logged with ``reason``: refused when already paused,
    with no clock running, when the law stops none of them, or before the item opened."""
    if item.paused_on is not None:
        raise BadInput(_("{id} is already paused (since {day}).").format(
            id=item.ident, day=item.paused_on.isoformat()))
    running = [d for d in duties_of(ctx.session, item) if d.is_open and d.due_on is not None]
    if not running:
        raise BadInput(_("{id} has no running clock to pause.").format(id=item.ident))
    if not any(pausable(ctx, item, d) for d in running):
        duty = running[0]
        raise BadInput(_("{id}: the law does not stop the clock of {duty} ({holder}); a period "
                         "the document sets is recorded with --due DATE --reason TEXT.").format(
            id=item.ident, duty=ctx.rules.duties.get(duty.name, duty.name),
            holder=ctx.unit_code(duty.holder_id)))
    if on < item.opened_on:
        raise BadInput(_("The date {on} is before {id} was opened ({opened}).").format(
            on=on.isoformat(), id=item.ident, opened=item.opened_on.isoformat()))
    log_item(ctx, item, "pause", item.edit(paused_on=on), reason=reason)


def resume(ctx, item: Item, on: date, reason: str | None) -> list[str]:
    """Restart the item's clocks on ``on``, logged with ``reason``: every open due date the
    pause could stop (:func:`pausable`) moves later by the days the clock stood still, then off
    a rest day; a statute's period runs on."""
    if item.paused_on is None:
        raise BadInput(_("{id} is not paused.").format(id=item.ident))
    if on < item.paused_on:
        raise BadInput(_("The resume date {on} is before the pause began ({paused}).").format(
            on=on.isoformat(), paused=item.paused_on.isoformat()))
    for duty in duties_of(ctx.session, item):
        if not duty.is_open or duty.due_on is None or duty.due_on < item.paused_on:
            continue  # a period that had already run out is not paused: it stays late
        if not pausable(ctx, item, duty):
            continue
        # Days of the pause that fell inside the period: from the pause to the resume.
        stopped = (on - max(item.paused_on, duty.started_on)).days
        if stopped <= 0:
            continue
        duty.paused_days = (duty.paused_days or 0) + stopped
        moved = shifted_due(ctx, duty)
        log_duty(ctx, item, "resume", duty, "due_on", duty.due_on, moved, reason)
        duty.due_on = moved
    log_item(ctx, item, "resume", item.edit(paused_on=None), reason=reason)
    return []


def shifted_due(ctx, duty: Duty, nominal: date | None = None) -> date:
    """A duty's due date: its period's own last day (or the document's date) plus the days not
    counted, then off rest days — the rest-day rule applied once, at the end."""
    base = nominal or duty.nominal_on or duty.due_on
    due, _rolled = roll_forward(base + timedelta(days=duty.paused_days or 0), ctx.calendar)
    return due


def _ids(item: Item) -> dict[str, Any]:
    """The units a duty of the item may fall to: its own, and its kind fields' (the registry's
    unit fields)."""
    return {"unit_id": item.unit_id} | {c: getattr(item, c) for c in unit_field_columns()}
