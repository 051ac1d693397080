"""The same verbs for every kind — add, list, show, update, close, reopen — built from the kind
registry, so a new kind gets its commands without new code here. ``add`` and ``update`` take
the kind's own options, read from :mod:`fujian.kinds`."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fujian.cli.common import (
    AsOfOption,
    FormatOption,
    FromOption,
    HandlerOption,
    IncludeVoidFlag,
    InvolvingOption,
    ReadableRows,
    SearchOption,
    check_limit,
    command,
    filter_values,
    flags_in_words,
    note,
    parse_day,
    state,
    void_marked,
)
from fujian.cli.console import pick_output
from fujian.errors import BadInput
from fujian.i18n import N_, _
from fujian.kinds import (
    DUTY_COLUMN,
    KINDS,
    STATUS_FILTER,
    Column,
    Kind,
    KindField,
    Verb,
    columns_for,
)

if TYPE_CHECKING:
    from fujian.deadlines import Rule

_KW = inspect.Parameter.KEYWORD_ONLY


_METAVARS = {"opened_on": "DATE", "due_on": "DATE", "on": "DATE", "acted_on": "DATE", "unit": "UNIT",
             "from_unit": "UNIT", "attendees": "UNITS", "minutes": "FILE"}


def _metavar(name: str) -> str:
    """A link names an item by its ID: its target kind's prefix (M…), or any ID."""
    for kind in KINDS.values():
        for kf in kind.links():
            if kf.name == name:
                return f"{KINDS[kf.target].prefix}…" if kf.target else "ID"
    return _METAVARS.get(name, "TEXT")


def _opt(name: str, annotation: Any, *decls: str, default: Any = None, **info: Any):
    if annotation is not bool and annotation != bool | None:
        info.setdefault("metavar", _metavar(name))
    return inspect.Parameter(name, _KW, default=default,
                             annotation=Annotated[annotation, typer.Option(*decls, **info)])


def _required(name: str, *decls: str, **info: Any):
    info.setdefault("metavar", _metavar(name))
    return inspect.Parameter(name, _KW, annotation=Annotated[str, typer.Option(*decls, **info)])


def _field_param(kf: KindField, for_update: bool) -> inspect.Parameter:
    if kf.type == "flag":
        if for_update:
            return _opt(kf.name, bool | None, f"{kf.option}/--no-{kf.option[2:]}", help=_(kf.help))
        return _opt(kf.name, bool, kf.option, default=False, help=_(kf.help))
    if kf.type == "file":
        return _opt(kf.name, Path | None, kf.option, help=_(kf.help), show_default=False)
    if kf.required and not for_update:
        return _required(kf.name, kf.option, help=_(kf.help))
    return _opt(kf.name, str | None, kf.option, help=_(kf.help), show_default=False)


def _with_signature(func: Callable, params: list[inspect.Parameter], doc: str) -> Callable:
    func.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    func.__annotations__ = {p.name: p.annotation for p in params}
    func.__doc__ = doc
    return func


def _read_minutes(values: dict) -> None:
    path = values.get("minutes")
    if isinstance(path, Path):  # UTF-8, or GBK as Notepad on Chinese Windows saves "ANSI"
        from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

        values["minutes"] = Tracker.read_text(path)


def _report_outcome(outcome, verb: str) -> None:
    for warning in outcome.warnings:
        note(_("warning: ") + warning)
    _say_verdicts(outcome)
    if not outcome.changed:
        note(_("No change: {id} already says so.").format(id=outcome.ident))
        return
    if sys.stdout.isatty():
        due = outcome.due_on.isoformat() if outcome.due_on else _("none")
        sys.stdout.write(_("{verb} {id} (due {due}).").format(verb=verb, id=outcome.ident,
                                                             due=due) + "\n")
    else:
        sys.stdout.write(outcome.ident + "\n")


def _say_verdicts(outcome) -> None:
    """What a change did to whom: each duty it ended, with its verdict (on stderr)."""
    for ended in outcome.ended:
        note(_verdict(ended))


def _verdict(ended) -> str:
    """One line for a duty a command ended: whose, and how it ended (late: by how many days)."""
    from fujian.i18n import language

    duty = _rules().duties.get(ended.duty, ended.duty) if language() == "zh" else ended.duty
    if ended.state == "late":
        return _("{duty} ({unit}): met {days} day(s) late (due {due}, met {on}).").format(
            duty=duty, unit=ended.unit, days=ended.days_late, due=ended.due_on.isoformat(),
            on=ended.ended_on.isoformat())
    verdicts = {"met": N_("met on time"), "unmet": N_("not met"),
                "waived": N_("waived: nobody's failure"), "lapsed": N_("a right not used: lapsed"),
                "exercised": N_("a right, used")}
    return _("{duty} ({unit}): {verdict}.").format(
        duty=duty, unit=ended.unit, verdict=_(verdicts.get(ended.state, ended.state)))


def _rules():
    """The deadline rules, through the one loader (deadlines.shipped_rules, cached), which
    does not load the database layer: help must not."""
    from fujian import deadlines

    return deadlines.shipped_rules()


def _subtypes(kind: Kind) -> tuple[str | None, ...]:
    return kind.subtypes.codes if kind.subtype_key and kind._stages.get(
        kind.subtypes.codes[0]) else (None,)


def _per_subtype(kind: Kind, choices_of: Callable[[str | None], Any]) -> str:
    """Every choice a kind accepts (its stages, its outcomes) with its Chinese label, per
    direction for referrals."""
    parts = []
    for subtype in _subtypes(kind):
        listed = choices_of(subtype).describe()
        parts.append(f"{subtype}: {listed}" if subtype else listed)
    return "; ".join(parts)


def _stage_list(kind: Kind) -> str:
    """Every stage a kind accepts, with its Chinese label."""
    return _per_subtype(kind, kind.stages)


def _outcome_list(kind: Kind) -> str:
    """Every outcome a kind accepts, with its Chinese label."""
    return _per_subtype(kind, kind.outcomes)


def _holder(kind: Kind, holder: str) -> str:
    """A rule's holder as the tool names it: a fixed unit's label (人民检察院), or the kind's
    name for the item field (接收单位, 移送单位 …)."""
    return _rules().holders.get(holder, {}).get("label") or kind.holder_label(holder)


def _kind_stages(kind: Kind, stages: tuple[str, ...] | None = None):
    """(subtype, stage) for every stage of a kind, in the kind's order (per direction for
    referrals), or only those named."""
    for subtype in _subtypes(kind):
        for stage in kind.stages(subtype).codes:
            if stages is None or stage in stages:
                yield subtype, stage


def _stage_lines(kind: Kind, subtype: str | None, stage: str) -> list[str]:
    """What entering one stage does, as help states it: the duties and rights it opens, then
    the open duties it keeps running, ends unmet or ends as stand-ins ([[stage]] entries)."""
    rules = _rules()
    lines = [_rule_line(kind, subtype or rule.subtype, rule)
             for rule in rules.stage_rules(kind.code, stage) if subtype in (None, rule.subtype)
             or rule.subtype is None]
    for effect in rules.stages:
        if effect.kind != kind.code or effect.stage != stage or \
                (subtype is not None and effect.subtype not in (None, subtype)):
            continue
        prefix = f"{subtype or effect.subtype or ''} {stage}".strip()
        for names, text in ((effect.keep, N_("{duties} runs on")),
                            (effect.unmet, N_("ends {duties} unmet: the owed act did not happen")),
                            (effect.stand_in, N_("ends {duties} of the stage before, which stood in "
                                                 "for it: waived when acted on by its due date, "
                                                 "else late"))):
            if names:
                duties = "、".join(rules.duties.get(n, n) for n in sorted(names))
                lines.append(f"{prefix}: " + _(text).format(duties=duties))
    return lines


def _rule_line(kind: Kind, subtype: str | None, rule: Rule) -> str:
    """One rule as help states it: "stage: event → holder: duty (may … for a right), period —
    article". Labels and articles are the rules file's Chinese, in both languages."""
    from fujian.kinds import DUTY_COLUMNS

    rules = _rules()
    owed = rules.duties.get(rule.duty, rule.duty)
    if rule.right:
        owed = _("may {duty}").format(duty=owed)
    period = str(rule.period) if rule.period is not None else _("no period")
    if rule.urgent:
        period += " (--urgent)"
    if rule.local:  # marked as `show` heads the column: 本地规定, or in English "local rule"
        period += f" ({next(c.header for c in DUTY_COLUMNS if c.key == 'local').lower()})"
    event = rules.events.get(rule.start, rule.start)
    prefix = f"{subtype} " if subtype else ""
    return (f"{prefix}{rule.stage}: {event} → {_holder(kind, rule.holder)}: {owed}, {period} — "
            f"{rule.citation}")


def _rules_help(kind: Kind, stages: tuple[str, ...] | None = None) -> str:
    """The help paragraphs naming, for each stage with a rule, its event, holder, duty or right,
    period and article, and what it does to the duties already open: one paragraph per line,
    so Click wraps each on its own."""
    lines = [line for subtype, stage in _kind_stages(kind, stages)
             for line in _stage_lines(kind, subtype, stage)]
    if not lines:
        return ""
    head = _("Who owes what — stage: the event whose date --on gives → the unit that holds the "
             "duty: what it owes (\"may\": a right, never late), the period, the article "
             "(`fujian rules {code}` prints every rule):").format(code=kind.code)
    return "\n\n".join([head, *(f"- {line}" for line in lines)])


def _close_verdicts(kind: Kind) -> str:
    """How closing a kind's item ends its open duties, as help states it: met or late by the
    holder's act, waived by a withdrawal, unmet by the outcomes the rules file names."""
    rules = _rules()
    text = _("Closing ends the open duties met or late, judged on --acted-on; a right is never "
             "exercised by a close (waived, or lapsed once its window has passed).")
    if kind.waiving_outcomes:
        text += " " + _("{outcomes} waives them: nobody failed.").format(
            outcomes=", ".join(kind.waiving_outcomes))
    unmet: dict[frozenset[str], list[str]] = {}
    for (code, outcome), names in rules.unmet_outcomes.items():
        if code == kind.code:
            unmet.setdefault(names, []).append(outcome)
    for names, outcomes in unmet.items():
        duties = "、".join(rules.duties.get(n, n) for n in sorted(names))
        text += " " + _("{outcomes} leaves {duties} unmet: the owed act did not happen.").format(
            outcomes=", ".join(outcomes), duties=duties)
    return text


def _first_event(kind: Kind) -> str:
    rules = _rules()
    stage = kind.first_stage(_subtypes(kind)[0])
    found = rules.stage_rules(kind.code, stage)
    return rules.events.get(found[0].start, found[0].start) if found else stage


def _with_outcome_help(func: Callable, outcomes: str) -> None:
    """Give a close command's --outcome the list of the outcomes it accepts."""
    signature = inspect.signature(func, eval_str=True)
    option = typer.Option("--outcome", metavar="OUTCOME", help=_(
        "The outcome, by code or Chinese label: {outcomes}.").format(outcomes=outcomes))
    func.__signature__ = signature.replace(parameters=[  # type: ignore[attr-defined]
        p.replace(annotation=Annotated[str, option]) if p.name == "outcome" else p
        for p in signature.parameters.values()])


def make_add(kind: Kind) -> Callable:
    params = [_required("title", "--title", help=_("Title (any text)."))]
    if kind.subtype_key:
        decl = f"--{kind.subtype_key}"
        help_ = _("One of: {valid}.").format(valid=kind.subtypes.describe())
        if kind.default_subtype:
            params.append(_opt(kind.subtype_key, str, decl, default=kind.default_subtype,
                               help=help_))
        else:
            params.append(_required(kind.subtype_key, decl, help=help_))
    if kind.default_unit:
        params.append(_opt("unit", str | None, kind.unit_option, help=_(kind.unit_help),
                           show_default=False))
    else:
        params.append(_required("unit", kind.unit_option, help=_(kind.unit_help)))
    params += [_field_param(kf, for_update=False) for kf in kind.fields]
    on_help = _("Opening date (default today): {events}.").format(
        events=_first_event(kind))
    params += [
        _opt("opened_on", str | None, "--on", help=on_help),
        (_required("due_on", "--due", help=_("Due date from the document (required).")) if
         kind.due_required else _opt("due_on", str | None, "--due",
                                     help=_("Due date from the document; default: the rule in "
                                            "deadlines.toml."))),
        _opt("handler", str | None, "--handler", help=_("The person handling it inside the unit.")),
        _opt("note", str | None, "--note", help=_("The first note of its running record.")),
    ]

    def add(**values: Any) -> None:
        _read_minutes(values)
        outcome = state().tracker().add(kind, values)
        _report_outcome(outcome, _("Added"))

    doc = _("Add a {label} ({code}); prints its ID.\n\nExample:\n\n    {example}").format(
        label=kind.label, code=kind.code, example=kind.example or f"fujian {kind.code} add --help")
    first = tuple(kind.first_stage(subtype) for subtype in _subtypes(kind))
    return _with_signature(add, params, "\n\n".join(filter(None, [doc, _rules_help(kind, first)])))


def make_update(kind: Kind) -> Callable:
    params = [
        inspect.Parameter("ident", _KW, annotation=Annotated[str, typer.Argument(
            metavar="ID", help=_("Item ID, e.g. {p}12.").format(p=kind.prefix))]),
        _opt("stage", str | None, "--stage", help=_(
            "New stage: it ends the duties it supersedes and opens its own, due by their rules "
            "unless --due is given. Stages: {stages}.").format(stages=_stage_list(kind))),
        _opt("on", str | None, "--on", help=_(
            "Date of the stage change (default today): the date of the event that starts the "
            "new stage's clock (each stage's event is listed above). With --pause or --resume: "
            "the day the clock stops or restarts.")),
        _opt("acted_on", str | None, "--acted-on", help=_(
            "The day the holder of the duties the stage change (or --met) ends acted — the "
            "document's own date; default --on, never after it. Those duties are judged on it: "
            "a decision dated in time is in time, whenever it was received.")),
        _opt("met", str | None, "--met", metavar="DUTY", help=_(
            "Record that the holder met this open duty (code or Chinese label), without a "
            "stage change; --on (and --acted-on) date it.")),
        _opt("due_on", str | None, "--due", help=_("New due date of the most urgent open duty "
                                                   "(recorded as an extension).")),
        _opt("reason", str | None, "--reason", help=_(
            "Why the due date moves, the clock stops or the item moves back to an earlier "
            "stage (kept in the history; required for these).")),
        _opt("pause", bool, "--pause", default=False, help=_(
            "Stop the clocks the law lets stop: a local rule's period, or one whose rule names "
            "a suspension ground; needs --reason. A statute's period (the police's 3, 7 or 15 "
            "days, an organ's 2 months) runs on: a document's own period is --due.")),
        _opt("resume", bool, "--resume", default=False, help=_(
            "Restart the clocks: each paused due date moves later by the days they stood "
            "still.")),
        _opt("opened_on", str | None, "--opened-on", help=_(
            "Correct the opening date (needs --reason); the clocks that started on it move, "
            "their due dates follow unless a document fixed them.")),
        _opt("title", str | None, "--title", help=_("New title.")),
        _opt("handler", str | None, "--handler", help=_("The person handling it inside the unit.")),
        _opt("note", str | None, "--note", help=_("Add a note to its running record.")),
        _opt("unit", str | None, kind.unit_option, help=_(kind.unit_help)),
    ]
    if kind.subtype_key:
        params.append(_opt(kind.subtype_key, str | None, f"--{kind.subtype_key}",
                           help=kind.subtypes.describe()))
    params += [_field_param(kf, for_update=True) for kf in kind.fields]

    def update(ident: str, **values: Any) -> None:
        _read_minutes(values)
        outcome = state().tracker().update(ident, values, kind)
        _report_outcome(outcome, _("Updated"))

    doc = _("Change a {label}: stage, dates, title, note or its own fields.\n\nExample:\n\n"
            "    fujian {code} update {p}1 --stage {stage}").format(
        label=kind.label, code=kind.code, p=kind.prefix,
        stage=kind.stages(kind.subtypes.codes[0] if kind.subtype_key else None).items[-1].code)
    return _with_signature(update, params, "\n\n".join(filter(None, [doc, _rules_help(kind)])))


def list_items(kind: Kind | None, status: str, unit: str | None, overdue: bool,
               as_of: str | None, sort: str, limit: int | None, fmt: str | None,
               links: dict[str, str | None] | None = None, **who: Any) -> None:
    from fujian.render import render

    sort_value = sort.strip().lower()
    if sort_value not in ("due", "opened", "id"):
        raise BadInput(_("Unknown sort {text!r}. Valid: due, opened, id.").format(text=sort))
    if limit is not None and limit < 0:
        raise BadInput(_("--limit must be 0 or more."))
    check_limit(limit)
    fmt = pick_output(fmt)
    tracker = state().tracker()
    day = parse_day(as_of, tracker.today)
    status_code = STATUS_FILTER.parse(status)
    extra = filter_values(tracker, **who)
    extra["include_void"] = extra["include_void"] or status_code == "all"
    filters = tracker.list_filters(
        kinds=(kind,) if kind else (),
        status=status_code,
        unit_id=tracker.unit_id(unit) if unit else None,
        overdue_as_of=day if overdue else None,
        sort=sort_value,
        limit=limit,
        links=_link_filters(kind, links or {}, tracker),
        **extra,
    )
    # The heading says what is listed: open, closed or all items (of a kind, or of every kind).
    what = {"open": _("open items"), "closed": _("closed items"), "all": _("all items")}[
        status_code]
    title = f"{kind.label}: {what}" if kind else what[:1].upper() + what[1:]
    rows = ReadableRows(tracker.items(filters, day))
    render(void_marked(rows, fmt), (*columns_for(kind), DUTY_COLUMN), fmt, as_of=day,
           title=title)
    rows.finish()  # rows that could not be read were left out: exit 3, saying so


def _link_filters(kind: Kind | None, given: dict[str, str | None],
                  tracker) -> tuple[tuple[str, int], ...]:
    """`--meeting M1` on an action list: items whose link names that item."""
    found = []
    for kf in kind.links() if kind else ():
        if given.get(kf.name):
            target = KINDS[kf.target] if kf.target else None
            found.append((kf.column_name, tracker.item_pk(given[kf.name], target)))
    return tuple(found)


StatusOption = Annotated[str, typer.Option("--status", metavar="STATUS", help=_("open, closed or all."))]
UnitFilter = Annotated[str | None, typer.Option("--unit", metavar="UNIT", help=_(
    "Only items whose open duty this unit holds."))]
OverdueFlag = Annotated[bool, typer.Option("--overdue", help=_("Only items past their due date."))]
SortOption = Annotated[str, typer.Option("--sort", metavar="KEY", help=_("due, opened or id."))]
LimitOption = Annotated[int | None, typer.Option("--limit", metavar="N", help=_("At most N items."))]
IdArgument = Annotated[str, typer.Argument(metavar="ID", help=_("Item ID such as R12 (any case)."))]
OutcomeOption = Annotated[str, typer.Option("--outcome", metavar="OUTCOME", help=_("Outcome code or Chinese label."))]
OnOption = Annotated[str | None, typer.Option("--on", metavar="DATE", help=_("Date (default today)."))]
NoteOption = Annotated[str | None, typer.Option("--note", metavar="TEXT", help=_(
    "Add a note to its running record."))]
ActedOnOption = Annotated[str | None, typer.Option("--acted-on", metavar="DATE", help=_(
    "The day the holder acted (the document's own date); default --on, never after it. The "
    "duties it ends are judged on it."))]
DueOption = Annotated[str | None, typer.Option(
    "--due", metavar="DATE", help=_("A new due date for the reopened item."))]
ReasonOption = Annotated[str, typer.Option("--reason", metavar="TEXT", help=_("Why (kept in the history)."))]
VoidReason = Annotated[str, typer.Option("--reason", metavar="TEXT", help=_(
    "Why (required; kept in the history)."))]
NOTE_COLUMNS = (Column("at", "时间"), Column("actor", "记录人"), Column("text", "备注"))
NOTE_DAY_COLUMN = Column("day", "事由日期", "date")  # shown when a note was given a day (--on)
VOID_COLUMN = Column("void_reason", "作废原因")


def show_item(ident: str, kind: Kind | None, fmt: str | None) -> None:
    from fujian.kinds import DUTY_COLUMNS
    from fujian.render import render, render_record

    fmt = pick_output(fmt)
    row = state().tracker().show(ident, kind)
    item_kind = KINDS[row["kind"]]
    # Long texts (a meeting's minutes) and the items that belong to this one (its actions).
    texts = [kf for kf in item_kind.fields if kf.type == "file"]
    extra = [(kf.name, kf.label, row.get(kf.name)) for kf in texts]
    extra += [(link.parts_key, part_kind.label, ", ".join(row.get(link.parts_key, [])))
              for part_kind in KINDS.values() for link in part_kind.links()
              if link.part_of and link.target == item_kind.code]
    if row.get("linked"):  # related either way: a request and the suggestion it led to
        extra.append(("linked", "关联事项", ", ".join(row["linked"])))
    columns = [c for c in columns_for(item_kind, everything=True)
               if c.key not in {kf.name for kf in texts}]
    if row.get("void_reason") is not None:  # an entry voided as a mistake says so, and why
        columns.append(VOID_COLUMN)
    if fmt.for_people and row.get("provisional"):  # the due date may still move: said beside it
        at = next((i + 1 for i, c in enumerate(columns) if c.key == "due_on"), len(columns))
        columns.insert(at, next(c for c in DUTY_COLUMNS if c.key == "provisional"))
    render_record(row, columns, fmt, extra=extra)
    if fmt.for_reading and row["notes"]:
        # The running record, oldest first (the item's note column is the latest of these).
        sys.stdout.write("\n")
        notes = row["notes"]
        if fmt.for_people:
            from fujian.dates import CHINA

            notes = [{**n, "at": n["at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M")}
                     for n in notes]
        columns = NOTE_COLUMNS + ((NOTE_DAY_COLUMN,) if any(n["day"] for n in notes) else ())
        render(notes, columns, fmt, title=_("Notes of {id}").format(id=row["id"]))
    if fmt.for_reading and row["duties"]:
        # Who owed what, when: each duty the stages handed out, oldest first.
        sys.stdout.write("\n")
        duties = [{**d, "kind": row["kind"]} for d in row["duties"]]
        columns = DUTY_COLUMNS
        if fmt.for_people:  # a person reads what is owed, by whom, and of what nature in words
            names, labels = state().tracker().unit_names(), _rules().duties
            # A flag no duty has would be a blank column: room for those a duty has.
            columns = tuple(c for c in DUTY_COLUMNS
                            if c.type != "flag" or any(d[c.key] for d in duties))
            duties = [flags_in_words({**d, "name": labels.get(d["name"], d["name"]),
                                      "holder": names.get(d["holder"], d["holder"])},
                                     DUTY_COLUMNS, ("right", "local", "provisional"))
                      for d in duties]
        render(duties, columns, fmt, title=_("Duties of {id}").format(id=row["id"]))


def close_item(ident: str, kind: Kind | None, outcome: str, on: str | None,
               note_text: str | None, acted_on: str | None = None) -> None:
    # --note appends to the running record
    result = state().tracker().close(ident, outcome, on, note_text, kind, acted_on)
    _say_verdicts(result)
    note(_("Closed {id}.").format(id=result.ident))


def reopen_item(ident: str, kind: Kind | None, reason: str, due: str | None = None,
                note_text: str | None = None) -> None:
    result = state().tracker().reopen(ident, reason, kind, due, note_text)
    for warning in result.warnings:
        note(_("warning: ") + warning)
    note(_("Reopened {id}.").format(id=result.ident))


def _make_opener(kind: Kind, verb: Verb) -> Callable:
    target = KINDS[verb.opens]
    params = [
        inspect.Parameter("ident", _KW, annotation=IdArgument),
        _opt("unit", str | None, target.unit_option, help=_(
            "{help} Default: the unit of the {label}.").format(help=_(target.unit_help),
                                                              label=kind.label)),
        _opt("superior", bool, "--superior", default=False, help=_(
            "The unit given is the superior of the unit asked.")),
        _opt("report", str | None, "--report", help=_(
            "The report to the district committee or government (kept in the running "
            "record).")),
        _opt("title", str | None, "--title", help=_("Title (default: the request's, with its "
                                                    "ID).")),
        *(_field_param(kf, for_update=True) for kf in target.fields
          if kf.type == "text"),
        _opt("opened_on", str | None, "--on", help=_("Date (default today).")),
        _opt("due_on", str | None, "--due", help=_(
            "Due date from the document; default: the rule in deadlines.toml.")),
        _opt("again", bool, "--again", default=False, help=_(
            "Open another although one was opened from it before (with --reason).")),
        _opt("reason", str | None, "--reason", help=_("Why another is opened (with --again).")),
    ]

    def opener(ident: str, superior: bool = False, report: str | None = None,
               again: bool = False, reason: str | None = None, **values: Any) -> None:
        outcome = state().tracker().open_linked(ident, kind, verb.name, values, superior,
                                                report, again, reason)
        _report_outcome(outcome, _("Added"))

    return _with_signature(opener, params, _(verb.help))


def make_verb(kind: Kind, verb: Verb) -> Callable:
    """A command a kind declares (kinds.Verb): one that records a stage (a suggestion's
    `reply`), or one that opens a linked item of another kind (an escalation)."""
    if verb.opens is not None:
        return _make_opener(kind, verb)

    def record_cmd(ident: IdArgument, on: OnOption = None, acted_on: ActedOnOption = None,
                   note_text: NoteOption = None) -> None:
        outcome = state().tracker().record_stage(ident, kind, verb.name, on, note_text,
                                                 acted_on)
        if not outcome.changed:
            note(_(verb.same).format(id=outcome.ident))
            return
        _say_verdicts(outcome)
        note(_(verb.done).format(id=outcome.ident))

    record_cmd.__doc__ = _(verb.help)
    return record_cmd


LIST_ALL_HELP = N_("List items of every kind (default: open ones, by due date).\n\nExample:\n\n"
                   "    fujian list --overdue --unit scjgj")


def make_list(kind: Kind | None) -> Callable:
    """`fujian KIND list`: the shared list options, plus one per link the kind declares;
    `fujian list` (``kind`` None): every kind's items."""

    def list_cmd(status: StatusOption = "open", unit: UnitFilter = None,
                 overdue: OverdueFlag = False, as_of: AsOfOption = None,
                 sort: SortOption = "due", limit: LimitOption = None,
                 search: SearchOption = None, involving: InvolvingOption = None,
                 from_unit: FromOption = None, handler: HandlerOption = None,
                 include_void: IncludeVoidFlag = False,
                 fmt: FormatOption = None, **links: Any) -> None:
        list_items(kind, status, unit, overdue, as_of, sort, limit, fmt, search=search,
                   involving=involving, from_unit=from_unit, handler=handler,
                   include_void=include_void, links=links)

    signature = inspect.signature(list_cmd, eval_str=True)
    params = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
    for kf in kind.links() if kind else ():  # an action list can be narrowed to one meeting's
        params.append(_opt(kf.name, str | None, kf.option, help=_(
            "Only the items linked by {option} to this item.").format(option=kf.option)
            if not kf.part_of else _("Only the items that belong to this {label}.").format(
                label=KINDS[kf.target].label)))
    list_cmd.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    list_cmd.__doc__ = LIST_ALL_HELP if kind is None else _(  # help_text translates the first
        "List {label} items (default: open ones, by due date).\n\nExample:\n\n"
        "    fujian {code} list --overdue --format json").format(label=kind.label, code=kind.code)
    return list_cmd


def make_show(kind: Kind) -> Callable:
    """`fujian KIND show ID`."""

    def show_cmd(ident: IdArgument, fmt: FormatOption = None) -> None:
        show_item(ident, kind, fmt)

    show_cmd.__doc__ = _("Show one {label}.\n\nExample:\n\n    fujian {code} show {p}1").format(
        label=kind.label, code=kind.code, p=kind.prefix)
    return show_cmd


def make_close(kind: Kind) -> Callable:
    """`fujian KIND close ID --outcome ...`, its help naming the kind's outcomes and verdicts."""

    def close_cmd(ident: IdArgument, outcome: OutcomeOption, on: OnOption = None,
                  acted_on: ActedOnOption = None, note_text: NoteOption = None) -> None:
        close_item(ident, kind, outcome, on, note_text, acted_on)

    outcomes = _outcome_list(kind)
    _with_outcome_help(close_cmd, outcomes)
    close_cmd.__doc__ = _("Close a {label} with its outcome: {outcomes}.\n\nExample:\n\n"
                          "    fujian {code} close {p}1 --outcome {first}").format(
        label=kind.label, outcomes=outcomes, code=kind.code, p=kind.prefix,
        first=kind.outcomes(kind.subtypes.codes[0] if kind.subtype_key else None).codes[0])
    close_cmd.__doc__ += "\n\n" + _close_verdicts(kind)
    return close_cmd


def make_reopen(kind: Kind) -> Callable:
    """`fujian KIND reopen ID --reason ...`."""

    def reopen_cmd(ident: IdArgument, reason: ReasonOption, due: DueOption = None,
                   note_text: NoteOption = None) -> None:
        reopen_item(ident, kind, reason, due, note_text)

    reopen_cmd.__doc__ = _("Reopen a closed {label}; the reason is kept in its history.\n\n"
                           "Example:\n\n    fujian {code} reopen {p}1 --reason '补充材料'").format(
        label=kind.label, code=kind.code, p=kind.prefix)
    return reopen_cmd


def build_kind_app(kind: Kind) -> typer.Typer:
    """One kind's group: the shared verbs, then the verbs the kind declares."""
    sub = typer.Typer(no_args_is_help=True, help=_("{label}: add, list, show, update, close, "
                                                   "reopen.").format(label=kind.label))
    shared = (("add", make_add), ("list", make_list), ("show", make_show),
              ("update", make_update), ("close", make_close), ("reopen", make_reopen))
    for name, make in shared:
        command(sub, name)(make(kind))
    for verb in kind.verbs:
        command(sub, verb.name)(make_verb(kind, verb))
    return sub


# The change log's action codes, marked for translation (history shows them to people).
HISTORY_ACTIONS = (N_("create"), N_("update"), N_("stage"), N_("extend"), N_("close"),
                   N_("reopen"), N_("pause"), N_("resume"), N_("recompute"), N_("note"),
                   N_("correct"), N_("void"), N_("unvoid"), N_("report"), N_("escalate"))


def _value_name(kind: Kind, field: str | None, value: str | None,
                units: dict[str, str] | None = None) -> str | None:
    """A coded value (stage, outcome, status, subtype) as its Chinese label, as lists show it:
    through the one code→label lookup (kinds.label_of); a unit (its code) as its name."""
    from fujian.kinds import label_of, names_a_unit

    if value is not None and units is not None and names_a_unit(field):
        return units.get(value, value)
    if value is None or field not in ("stage", "outcome", "status", "subtype"):
        return value
    key = kind.subtype_key if field == "subtype" else field
    return label_of(key, kind.code, None, value) if key else value


def _field_name(field: str | None) -> str:
    """A change-log field as the column header people know (阶段, 期限 …)."""
    if not field:
        return ""
    from fujian.kinds import DUTY_COLUMNS, KINDS, Column, columns_for

    if field.startswith("duty:"):  # duty:reply.due_on → "书面回复 · 期限"
        name, _dot, sub = field[len("duty:"):].partition(".")
        headers = {c.key: c.header for c in DUTY_COLUMNS}
        headers.update(holder_id=headers["holder"], ended_on=headers["met_on"])
        return f"{_rules().duties.get(name, name)} · {headers.get(sub, sub)}"

    known: dict[str, Column] = {}
    for kind in KINDS.values():
        for column in columns_for(kind, everything=True):
            known.setdefault(column.key, column)
    for kind in KINDS.values():  # fields stored under another column name (unit ids, links)
        for kf in kind.fields:
            if kf.column_name != kf.name and kf.name in known:
                known.setdefault(kf.column_name, known[kf.name])
    for name, column in (("unit_id", known["assignee"]), ("holder_id", known["unit"]),
                         ("subtype", Column("subtype", "类型", "choice"))):
        known[name] = column
    return known[field].header if field in known else field


# `fujian referral ...`, `fujian meeting ...`: one group per kind, by its code.
KIND_APPS = {kind.code: build_kind_app(kind) for kind in KINDS.values()}

# The verbs that take any kind's item by its ID: `fujian close S3`.
app = typer.Typer()


# `fujian list`: the shared list options over every kind (a kind's own list adds its links).
command(app, "list")(make_list(None))


@command(app, "show")
def show_any(ident: IdArgument, fmt: FormatOption = None) -> None:
    """Show any item by its ID.

    Example:

        fujian show R12
    """
    show_item(ident, None, fmt)


@command(app, "close")
def close_any(ident: IdArgument, outcome: OutcomeOption, on: OnOption = None,
              acted_on: ActedOnOption = None, note_text: NoteOption = None) -> None:
    """Close any item with its outcome.

    Example:

        fujian close S3 --outcome adopted --on 2025-05-06
    """
    close_item(ident, None, outcome, on, note_text, acted_on)


_with_outcome_help(close_any, " | ".join(
    f"{kind.code}: {_outcome_list(kind)}" for kind in KINDS.values()))


@command(app, "reopen")
def reopen_any(ident: IdArgument, reason: ReasonOption, due: DueOption = None,
               note_text: NoteOption = None) -> None:
    """Reopen any closed item.

    Example:

        fujian reopen S3 --reason '整改未到位'
    """
    reopen_item(ident, None, reason, due, note_text)


@command(app, "note")
def note_cmd(ident: IdArgument,
             text: Annotated[str, typer.Argument(metavar="TEXT", help=_("The note."))],
             on: Annotated[str | None, typer.Option("--on", metavar="DATE", help=_(
                 "The day what it records happened (default: today; not in the future)."))]
             = None) -> None:
    """Add a dated note, signed with your name, to any item's running record (nothing is
    ever overwritten; `show` lists them all).

    Example:

        fujian note S6 '已电话督促，单位承诺本周内书面回复' --on 2025-03-09
    """
    result = state().tracker().note(ident, text, on)
    note(_("Noted on {id}.").format(id=result.ident))


def said(result, done: str, unchanged: str) -> None:
    """One line on stderr for an operation that may find nothing to do (void, unvoid)."""
    note((done if result.changed else unchanged).format(id=result.ident))


@command(app, "void")
def void_cmd(ident: IdArgument, reason: VoidReason) -> None:
    """Mark an entry made in error (a duplicate, a mistaken entry): it leaves lists, reports,
    statistics and exports — `--status all` or `--include-void` still list it — and `show`
    and `history` keep it with its reason. Nothing is deleted; `unvoid` undoes it.

    Example:

        fujian void R7 --reason '与R5重复登记'
    """
    said(state().tracker().void(ident, reason), _("Voided {id}."),
         _("No change: {id} is already void."))


@command(app, "unvoid")
def unvoid_cmd(ident: IdArgument, reason: VoidReason) -> None:
    """Count a voided entry again.

    Example:

        fujian unvoid R7 --reason '误作废'
    """
    said(state().tracker().unvoid(ident, reason), _("{id} counts again."),
         _("No change: {id} is not void."))


@command(app, "history")
def history(ident: IdArgument, fmt: FormatOption = None) -> None:
    """An item's change log, oldest first. A unit (the holder, the item's own unit, the
    sending unit, a duty's holder) is given by its code, and in a table by its name.

    Example:

        fujian history R12
    """
    from fujian.kinds import Column
    from fujian.render import render

    fmt = pick_output(fmt)
    tracker = state().tracker()
    rows = tracker.history(ident)
    if fmt.for_people:  # people read China time, action, field and unit names in words
        from fujian.dates import CHINA
        from fujian.kinds import split_id

        kind, units = split_id(ident)[0], tracker.unit_names()
        rows = [{**r, "at": r["at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                 "action": _(r["action"]), "field": _field_name(r["field"]),
                 "old": _value_name(kind, r["field"], r["old"], units),
                 "new": _("(created)") if r["action"] == "create"
                 else _value_name(kind, r["field"], r["new"], units)}
                for r in rows]
    columns = (Column("at", "时间"), Column("actor", "操作人"), Column("action", "操作"),
               Column("field", "字段"), Column("old", "原值"), Column("new", "新值"),
               Column("reason", "原因"))
    render(rows, columns, fmt, title=ident.upper())
