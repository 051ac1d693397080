"""`fujian search`: any item by its words, most relevant first, with the text that matched."""

from __future__ import annotations

from typing import Annotated

import typer

from fujian.cli.common import FormatOption, IncludeVoidFlag, check_limit, command, note, state, void_marked
from fujian.cli.console import pick_output
from fujian.errors import BadInput
from fujian.i18n import N_, _

# Where a word was found (the JSON value of match_field → what a table says).
FIELD_NAMES = {"title": N_("title"), "doc_no": N_("document number"), "party": N_("party"),
               "handler": N_("handler"), "note": N_("note"), "unit": N_("unit")}
DEFAULT_LIMIT = 50
# A table shows what a person needs to pick the item; kind (its ID says it), stage and dates
# are on `show`. The match goes under the title, in the title's cell: a narrow terminal
# drops whole columns from the right (render._fit) but always keeps the title.
TABLE_KEYS = ("id", "title", "unit", "status", "due_on", "score")


WordsArgument = Annotated[list[str], typer.Argument(
    metavar="WORDS", help=_("Words that must all occur in the item, in any field."),
    show_default=False)]
KindOption = Annotated[str | None, typer.Option(
    "--kind", metavar="KIND", help=_("Only this kind: referral, suggestion, clue, meeting or "
                                     "action (code or Chinese label)."), show_default=False)]
StatusOption = Annotated[str | None, typer.Option(
    "--status", metavar="STATUS", help=_(
        "open, closed or all (all includes voided entries, as on list). Default: open and "
        "closed items alike, since a case someone asks about is often a closed one."),
    show_default=False)]
LimitOption = Annotated[int, typer.Option("--limit", metavar="N", help=_(
    "At most N items, the most relevant (default 50)."), show_default=False)]


app = typer.Typer()


@command(app, "search")
def search(words: WordsArgument, kind: KindOption = None, status: StatusOption = None,
           include_void: IncludeVoidFlag = False, limit: LimitOption = DEFAULT_LIMIT,
           fmt: FormatOption = None) -> None:
    """Find items whose title, party, document number, handler, notes or unit names hold
    every word, of any length (采 and 采砂 too), most relevant first, each with the text
    that matched.

    Words and stored text are compared after NFKC and case folding, and every kind of
    bracket counts as one, so 夏检行建(2025)3号 finds 夏检行建〔２０２５〕３号. Relevance:
    per word 4 in the title, 3 in the party, document number or handler, 2 in a note, 1 in
    a unit's code or name, summed; then the newest. Open and closed items are searched
    unless --status says otherwise; voided entries only with --status all or
    --include-void. `list --search WORDS` selects the same items.

    Columns: those of `list`, plus score, match_field (title, doc_no, party, handler, note
    or unit: the strongest field holding a word) and match (the text around the first
    word found there). --format json gives the keys of `list --format json` plus score,
    match_field and match.

    Example:

        fujian search 汤逊湖 采砂
    """
    find_items(words, kind, status, include_void, limit, fmt)


def find_items(texts: list[str], kind: str | None, status: str | None, include_void: bool,
               limit: int, fmt: str | None) -> None:
    from fujian.kinds import DUTY_COLUMN, STATUS_FILTER, columns_for, kind_of
    from fujian.render import render
    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    fmt = pick_output(fmt)
    words = Tracker.search_words(texts)
    if not words:
        raise BadInput(_("Give at least one word to search for."))
    if limit < 1:
        raise BadInput(_("--limit must be 1 or more."))
    check_limit(limit)
    status_code = STATUS_FILTER.parse(status) if status is not None else "all"
    tracker = state().tracker()
    # --status all means every entry, voided ones too, as on list.
    everything = include_void or (status is not None and status_code == "all")
    found = tracker.search(words, kinds=(kind_of(kind).code,) if kind else (),
                           status=status_code, include_void=everything, limit=limit)
    columns = with_match((*columns_for(None), DUTY_COLUMN))
    if fmt.for_people:
        by_key = {c.key: c for c in columns}
        columns = tuple(by_key[k] for k in TABLE_KEYS)
        for row in found.rows:
            if row["match_field"] not in (None, "title"):  # a title match is the title
                field = _(FIELD_NAMES[row["match_field"]])
                row["title"] = f"{row['title']}\n↳ {field}: {row['match']}"
    render(void_marked(found.rows, fmt), columns, fmt, as_of=tracker.today,
           title=_("Items holding: {words}").format(words=" ".join(texts)))
    if found.more:
        note(_("Showing the {n} most relevant items; more match (--limit N shows more).")
             .format(n=limit))


def with_match(columns):
    """The columns of a list with score, match_field and match before the note (a narrow
    table drops the rightmost text column first: the note goes before the match)."""
    from fujian.kinds import Column

    added = (Column("score", "相关度", "int"), Column("match_field", "匹配字段", brief=False),
             Column("match", "匹配内容"))
    keys = [c.key for c in columns]
    at = keys.index("note") if "note" in keys else len(columns)
    return (*columns[:at], *added, *columns[at:])
