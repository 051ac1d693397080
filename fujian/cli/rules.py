"""`fujian rules`: the default deadline rules (data/deadlines.toml), each with its basis, so that
a statutory period can be told from a district's own (本地规定)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fujian.cli.common import FormatOption, command, flags_in_words
from fujian.cli.console import pick_output
from fujian.i18n import _

TABLE_KEYS = ("subtype", "stage", "duty", "period", "holder", "right", "local", "basis",
              "starts_at")

KindArgument = Annotated[str | None, typer.Argument(
    metavar="KIND", help=_("Only this kind: referral, suggestion, clue, meeting, action or assist "
                           "(code or Chinese label)."), show_default=False)]


app = typer.Typer()


@command(app, "rules")
def rules(kind: KindArgument = None, fmt: FormatOption = None) -> None:
    """Print the default deadline rules: for each stage, the duty (应当) or right (可以) it
    opens, who holds it, the event that starts the clock, the period, and the article it
    rests on — or, for a period no statute sets (the texts say 及时, or nothing), the
    district's own note, marked local (本地规定). Rights are never late and never counted.

    Columns (JSON keys): kind, subtype (empty: every subtype), stage, duty, holder (a
    fixed unit's code, such as jcy for the procuratorate, else the item's field naming the
    unit: unit, from_unit, to_unit), starts_at (the event), period (3d days, 10wd working
    days, 2m months; empty: no due date unless the document gives one), right, local,
    basis. A table names them in words; a document's own period always overrides a rule
    (--due).

    Example:

        fujian rules referral --format table
    """
    from fujian.deadlines import RuleBook
    from fujian.kinds import KINDS, RULE_COLUMNS, kind_of
    from fujian.render import render
    from fujian.resources import data_file

    fmt = pick_output(fmt)
    code = kind_of(kind).code if kind is not None else None
    book = RuleBook.load(data_file("deadlines.toml"))
    if not fmt.for_people:
        render(book.rows(code), RULE_COLUMNS, fmt)
        return
    # One table per kind, titled by it (the kind column would repeat on every row); what a
    # narrow terminal drops first stands rightmost (render._fit): the event, then the holder.
    by_key = {c.key: c for c in RULE_COLUMNS}
    columns = tuple(by_key[k] for k in TABLE_KEYS)
    for n, each in enumerate((code,) if code else KINDS):
        rules = book.of_kind(each)
        if not rules and code is None:
            continue  # meetings open no duty of their own
        if n:
            sys.stdout.write("\n")
        rows = [flags_in_words(_for_people(book, rule), columns, ("right", "local"))
                for rule in rules]
        render(rows, columns, fmt, title=_("Deadline rules: {kind}").format(
            kind=KINDS[each].label))


def _for_people(book, rule) -> dict:
    """A rule as a person reads it: the labels of its kind, subtype, stage, duty, holder and
    event (an urgent rule says so beside its subtype)."""
    from fujian.kinds import KINDS, label_of

    kind = KINDS[rule.kind]
    row = book.row(rule)
    subtype = kind.subtypes.label(rule.subtype) if rule.subtype and kind.subtype_key else None
    if rule.urgent:  # 紧急: the label of the kinds' urgent flag, a domain value in both languages
        subtype = " · ".join(filter(None, (subtype, "紧急")))
    fixed = book.holders.get(rule.holder)
    return {**row, "kind": kind.label, "subtype": subtype,
            "stage": label_of("stage", rule.kind, rule.subtype, rule.stage),
            "duty": book.duties.get(rule.duty, rule.duty),
            "holder": fixed.get("label", row["holder"]) if fixed
            else kind.holder_label(rule.holder),
            "starts_at": book.events.get(rule.start, rule.start),
            "period": row["period"] or _("none"),
            # The articles without their explanation, so that a terminal keeps the other
            # columns; plain, CSV and JSON give the whole basis.
            "basis": rule.citation}
