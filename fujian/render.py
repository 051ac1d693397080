"""The one renderer: rows become a Rich table (people at a terminal), plain tab-separated text
(scripts and cron), CSV or JSON. Column lists come from :func:`fujian.kinds.columns_for`, so
list, report and export cannot drift apart.

Value → text, one function per audience: :func:`human_cell` for people (tables, `show`:
labels, unit names, yes/no), :func:`file_value` for files (CSV through :func:`file_text`, and
the workbook's cells: labels or codes, text neutralised in CSV), and :func:`plain_cell` for the
plain format scripts read (codes, one item per line).

Rich is imported only when a table is drawn.
"""

from __future__ import annotations

import codecs
import csv
import functools
import json
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import IO, Any

from fujian.errors import StorageError
from fujian.i18n import _
from fujian.kinds import FLAG_LABELS, KINDS, UNIT_CODE_KEYS, Column, duty_text, value_label

FORMATS = ("table", "plain", "csv", "json")


def default_format(stream: IO[str] | None = None) -> str:
    stream = stream or sys.stdout
    try:
        return "table" if stream.isatty() else "plain"
    except (AttributeError, ValueError):
        return "plain"


def pick_format(requested: str | None, stream: IO[str] | None = None,
                also: tuple[str, ...] = ()) -> str:
    """``--format`` checked (``also``: the formats only this command writes, such as the
    report's ``text``), else table on a terminal and plain otherwise."""
    from fujian.errors import BadInput

    if requested is None:
        return default_format(stream)
    value = requested.strip().lower()
    if value not in (*FORMATS, *also):
        raise BadInput(_("Unknown format {text!r}. Valid: {valid}.").format(
            text=requested, valid=", ".join((*FORMATS, *also))))
    return value


# What a terminal would obey or hide, as a regular expression's character class: the C0 and
# C1 controls and DEL (Unicode category Cc: ESC starts a sequence, CSI U+009B is one in some
# terminals), the format characters (Cf: the bidi overrides and isolates such as U+202E, the
# zero-width space, joiners and U+FEFF, the invisible operators, the tag characters), the line
# and paragraph separators (Zl, Zp) and lone surrogates (Cs: what an undecodable argument
# becomes). Spelled out from the Unicode 15 tables so that nothing is computed at start-up;
# tests/test_hostile_output.py checks it against the tables of the Python running.
_C0 = "\x00-\x1f"
_HIDDEN_REST = ("\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
                "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
                "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
                "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f\ud800-\udfff")
_NAMED_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def _escape(match: re.Match) -> str:
    """One hidden character as its escape: ``\\x1b``, ``\\u202e``, ``\\U000e0041`` (tab,
    newline, carriage return and the backslash by name)."""
    char = match.group()
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


# A terminal: stored text is shown, never obeyed (ESC ] 0 ; … BEL would retitle the window,
# ESC [ 2 J clear it) nor hidden (U+202E would show the rest of a title reversed, U+200B
# would make two different names look alike). Newlines and tabs stay: a note is read as lines
# in a table cell.
_VISIBLE_RE = re.compile(f"[\\x00-\\x08\\x0b-\\x1f{_HIDDEN_REST}]")
# Plain output: one item per line, so tab, newline and carriage return are escaped too, and the
# backslash (so that an escape in the output always means an escape, never stored text).
_PLAIN_RE = re.compile(f"[\\\\{_C0}{_HIDDEN_REST}]")
# JSON escapes C0 itself; the rest of what a terminal would obey or hide it writes as it is.
_JSON_HIDDEN_RE = re.compile(f"[{_HIDDEN_REST}]")


def visible(text: str) -> str:
    """Text for a terminal or a message: control characters, escape sequences, bidi overrides
    and zero-width characters shown as escapes (``\\x1b]0;``, ``\\u202e``, ``\\u200b``),
    never executed nor hidden. The stored text is not changed."""
    if text.isprintable():  # the common case: one fast scan
        return text
    return _VISIBLE_RE.sub(_escape, text)


@functools.lru_cache(maxsize=16)
def _is_unicode(encoding: str | None) -> bool:
    """Whether ``encoding`` can hold every character (UTF-8, UTF-16...): None counts as such
    (a StringIO)."""
    if not encoding:
        return True
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return True


def shown_in(text: str, encoding: str | None, errors: str = "backslashreplace") -> str:
    """``text`` as a stream in ``encoding`` can hold it: each character the encoding lacks (an
    emoji under GBK) escaped by the ``errors`` handler — by default as a Python escape
    (``\\U0001f389``), as the standard streams write it (cli.console.safe_streams). Used where
    the width must be known before writing (a table), and for JSON with its own escapes."""
    if _is_unicode(encoding):
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        return text.encode(encoding, errors).decode(encoding)


def _stream_encoding(out: Any) -> str | None:
    return getattr(out, "encoding", None)


def _is_terminal(out: Any) -> bool:
    try:
        return bool(out.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _dumps(data: Any, **options: Any) -> str:
    """``data`` as JSON; a value JSON cannot hold (bytes another program wrote into a text
    column) is a damaged row, named as such (exit 3), never an internal error."""
    try:
        return json.dumps(data, ensure_ascii=False, default=json_default, **options)
    except TypeError:
        raise _not_text(data) from None


def _not_text(data: Any) -> StorageError:
    """The damaged-row message for the first value of ``data`` that is not text."""
    row = data if isinstance(data, dict) else {}
    for field, value in row.items():
        if isinstance(value, bytes):
            return StorageError(_("{id}: {field} holds '{value}', {what}: run fujian doctor")
                                .format(id=row.get("id", "?"), field=field,
                                        value=value.hex(), what=_("not text")))
    return StorageError(_("{id}: a value is {what}: run fujian doctor").format(
        id=row.get("id", "?"), what=_("not text")))


# C0 controls are escaped by JSON itself; DEL and the C1 controls (U+0080–U+009F: CSI among
# them, which some terminals obey) are not, so JSON output escapes them too. The text a
# program reads back is the same.
_JSON_UNESCAPED_CONTROLS = re.compile("[\x7f-\x9f]")


def _json_u(char: str) -> str:
    """A character as JSON's escape: ``\\u00e9``, or a surrogate pair above U+FFFF."""
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xd800 + (code >> 10):04x}\\u{0xdc00 + (code & 0x3ff):04x}"


def _json_unencodable(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: what the encoding cannot hold as JSON escapes (outside strings
    JSON has only ASCII, so every such character is inside a string)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    chunk = error.object[error.start:error.end]
    return "".join(_json_u(c) for c in chunk), error.end


codecs.register_error("fujian.json", _json_unencodable)


def _json_escape_controls(text: str) -> str:
    if _JSON_UNESCAPED_CONTROLS.search(text) is None:
        return text
    return _JSON_UNESCAPED_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _json_for(out: Any) -> Callable[[str], str]:
    """JSON text as ``out`` can take it: at a terminal bidi and zero-width characters escaped
    too (``\\u202e``); in an encoding that cannot hold a character (an emoji under GBK), that
    character escaped (``\\ud83c\\udf89``). A program reads back the same text either way;
    a pipe or file in UTF-8 gets the characters themselves."""
    terminal = _is_terminal(out)
    encoding = _stream_encoding(out)

    def fit(text: str) -> str:
        text = _json_escape_controls(text)
        if terminal and not text.isascii():
            text = _JSON_HIDDEN_RE.sub(lambda m: _json_u(m.group()), text)
        return shown_in(text, encoding, "fujian.json")

    return fit


def to_json(data: Any, out: Any = None) -> str:
    """``data`` as JSON text; with ``out``, as that stream can take it (:func:`_json_for`)."""
    text = _dumps(data, indent=2)
    return _json_for(out)(text) if out is not None else _json_escape_controls(text)


def plain_cell(value: Any) -> str:
    """A value for tab-separated output: ISO dates, nothing wrapped; tabs, newlines and
    backslashes escaped so that one item is always one line, and everything a terminal would
    obey or hide escaped as :func:`visible` does."""
    if value is None:
        return ""
    if value.__class__ is str:  # the common case first: a report writes millions of cells
        text = value
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, date | datetime):
        return value.isoformat()
    else:
        text = str(value)
    # isprintable() is false for every control and format character (and for some harmless
    # text, such as an ideographic space, which the expression then leaves as it is).
    if "\\" in text or not text.isprintable():
        return _PLAIN_RE.sub(_escape, text)
    return text


# -- CSV: one writer for `--format csv` of every command and for `export csv` ------------------
# Text cells are neutralised against formula injection (OWASP "CSV injection") wherever a CSV
# is written: a spreadsheet opening `report overdue --format csv` is as exposed as an export.

_RISKY_FIRST = frozenset("=+-@\t\r'")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def neutralise(text: str) -> str:
    """Keep a spreadsheet from reading a text cell as a formula: a leading ' makes it text.
    A cell already starting with ' gets one more, so import can strip exactly one."""
    if not text or text[0] not in _RISKY_FIRST:
        return text
    if text[0] == "'" or not _NUMBER.fullmatch(text):
        return "'" + text
    return text  # a plain number such as -5 stays a number


def unneutralise(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def file_value(column: Column, labels: bool, unit_names: dict[str, str] | None = None,
               duty_in_words: bool = False) -> Callable[[dict], Any]:
    """Value → file (CSV and workbook cells): per column, chosen once (an export calls it for
    every cell), how to read from a row the value a file holds. With ``labels`` what a person
    reads (Chinese labels for codes, unit names for unit codes, 是/否), else the codes. Dates,
    counts and rates stay values (a workbook types its cells; :func:`file_text` writes them);
    text is not yet neutralised. ``duty_in_words``: a right's duty said as "may … until D"
    (:func:`kinds.duty_text`), as a workbook for people shows it."""
    key = column.key
    return _file_getter(column, labels, unit_names, duty_in_words) or (lambda row: row.get(key))


def _file_getter(column: Column, labels: bool, unit_names: dict[str, str] | None,
                 duty_in_words: bool, as_text: bool = False) -> Callable[[dict], Any] | None:
    """:func:`file_value`, or None when the file holds the row's own value (the fast path of
    a million-cell export). ``as_text``: the CSV cell's text (:func:`file_text`) at once."""
    key = column.key
    if column.type in ("date", "int", "rate"):
        return None
    empty = "" if as_text else None
    finish = neutralise if as_text else _same
    if column.type == "flag":
        yes, no = (FLAG_LABELS[True], FLAG_LABELS[False]) if labels else ("true", "false")
        return lambda row: empty if (v := row.get(key)) is None else (yes if v else no)
    if labels and duty_in_words and key == "duty":
        return lambda row: empty if (v := duty_text(row)) is None else finish(v)
    if labels and column.type == "choice":
        return _choice_label(key, finish, empty)
    if labels and key == "unit":
        return lambda row: (empty if (v := row.get("unit_name") or row.get("unit")) is None
                            else finish(v))
    if labels and unit_names and key in UNIT_CODE_KEYS:
        return lambda row: (empty if (v := row.get(key)) is None
                            else finish(unit_names.get(v, v)))
    return None


def _same(value: Any) -> Any:
    return value


def _choice_label(key: str, finish: Callable[[str], str], empty: str | None,
                  ) -> Callable[[dict], str | None]:
    """The label of a coded value (kinds.label_of), ``finish``-ed and remembered per kind,
    subtype and code."""
    subtype_keys = {code: kind.subtype_key for code, kind in KINDS.items()}
    memo: dict[tuple, str] = {}

    def choice(row: dict) -> str | None:
        value = row.get(key)
        if value is None:
            return empty
        kind_code = row.get("kind", "")
        subtype_key = subtype_keys.get(kind_code)
        memo_key = (kind_code, row.get(subtype_key) if subtype_key else None, value)
        label = memo.get(memo_key)
        if label is None:
            label = memo[memo_key] = finish(value_label(row, key))
        return label

    return choice


def file_text(value: Any, labels: bool = True) -> str:
    """A file's value (:func:`file_value`) as the text of a CSV cell: ISO dates, numbers as
    they are, text neutralised against formulas."""
    if value is None:
        return ""
    if value.__class__ is str:
        return neutralise(value)
    if isinstance(value, bool):
        return (FLAG_LABELS[value]) if labels else ("true" if value else "false")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return str(value)
    return neutralise(str(value))


def _csv_cell(column: Column, labels: bool,
              unit_names: dict[str, str] | None = None) -> Callable[[dict], str]:
    """One CSV cell writer per column: :func:`file_value`, then :func:`file_text` (a row's own
    value read and written in one step: most cells of an export are)."""
    key = column.key
    get = _file_getter(column, labels, unit_names, duty_in_words=False, as_text=True)
    if get is not None:  # labels and names: text, neutralised as any text
        return get
    if column.type == "date":
        return lambda row: "" if (v := row.get(key)) is None else v.isoformat()
    if column.type in ("int", "rate"):  # a count, a rate, or a rate already in words (12.5%)
        return lambda row: "" if (v := row.get(key)) is None else str(v)

    def own(row: dict) -> str:
        value = row.get(key)
        if value is None:
            return ""
        if value.__class__ is str:
            return neutralise(value)
        return file_text(value, labels)

    return own


def export_cell(row: dict, column: Column, labels: bool) -> str:
    return _csv_cell(column, labels)(row)


def write_csv(rows: Iterable[dict], columns: Sequence[Column], out: IO[str],
              labels: bool = True, unit_names: dict[str, str] | None = None,
              shown: bool = False) -> int:
    """``unit_names`` (code → name) lets a labelled export name the sending unit as it names
    the responsible one; import reads names and codes alike. ``shown``: the CSV goes to a
    terminal, so each cell is made :func:`visible` (a file or a pipe gets the text as stored)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label if labels else c.key for c in columns])
    # With labels a unit is shown by name — unless the file has its own name column, when the
    # unit column stays the code.
    names_elsewhere = any(c.key == "unit_name" for c in columns)
    cells = [_csv_cell(c, labels and not (c.key == "unit" and names_elsewhere), unit_names)
             for c in columns]
    n = 0
    if shown:
        cells = [_shown(cell) for cell in cells]
    for n, row in enumerate(rows, start=1):  # noqa: B007 - n counts the rows
        writer.writerow([cell(row) for cell in cells])
    return n


def _shown(cell: Callable[[dict], str]) -> Callable[[dict], str]:
    return lambda row: visible(cell(row))


def human_cell(row: dict, column: Column, record: bool = False) -> str:
    """A value as a person reads it: Chinese labels for codes, unit names, 是/否."""
    if column.key == "duty":
        return duty_text(row) or ""
    if column.type == "choice":
        return value_label(row, column.key) or ""
    if column.key == "unit" and row.get("unit_name"):
        return row["unit_name"]
    value = row.get(column.key)
    if isinstance(value, bool):  # a list marks only the yes; one item's page says both
        return _("yes") if value else (_("no") if record else "")
    if column.key == "due_on" and value is not None and row.get("provisional") and not record:
        # Counted across a year with no official holiday notice: recounted once it is known.
        # (One item's page gives it a row of its own.)
        return value.isoformat() + " " + _("(provisional)")
    return plain_cell(value) if not isinstance(value, str) else value


def render(rows: Iterable[dict], columns: Sequence[Column], fmt: str, out: IO[str] | None = None,
           *, title: str | None = None, as_of: date | None = None,
           extra_columns: Sequence[Column] = ()) -> int:
    """Write ``rows`` in ``fmt``; returns how many rows were written."""
    out = out or sys.stdout
    columns = [*columns, *extra_columns]
    if fmt == "json":
        return _json_list(rows, out)
    if fmt == "csv":  # code headers and values; text neutralised as in `export csv`
        return write_csv(rows, columns, out, labels=False, shown=_is_terminal(out))
    if fmt == "plain":
        out.write("\t".join(c.key for c in columns) + "\n")
        keys = [c.key for c in columns]
        n, batch = 0, []
        for n, row in enumerate(rows, start=1):  # noqa: B007
            batch.append("\t".join([plain_cell(row.get(k)) for k in keys]))
            if len(batch) == 1000:  # one write per thousand lines, not one per line
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
        return n
    return _table(list(rows), columns, out, title=title, as_of=as_of)


def _json_list(rows: Iterable[dict], out: IO[str]) -> int:
    # Streamed, so a million-item export does not build one huge string.
    n = 0
    fit = _json_for(out)
    out.write("[")
    for n, row in enumerate(rows, start=1):
        out.write(("\n" if n == 1 else ",\n") + fit(_dumps(row)))
    out.write("\n]\n" if n else "]\n")
    return n


def console(out: IO[str] | None = None):
    """A Rich console for people. Every string it draws (cells, titles, notes) goes through
    :func:`visible`, and through :func:`shown_in` the stream's encoding (so that a table is
    measured as it will be written), and nothing in stored text is read as Rich markup
    (``[red]``) or as an emoji code (``:smile:``): a title is shown exactly as typed."""
    return _safe_console_class()(file=out or sys.stdout, highlight=False, soft_wrap=False,
                                 markup=False, emoji=False)


_SAFE_CONSOLE = None


def _safe_console_class():
    global _SAFE_CONSOLE
    if _SAFE_CONSOLE is None:
        from rich.console import Console

        class SafeConsole(Console):
            def render_str(self, text: str, **kwargs: Any):
                return super().render_str(shown_in(visible(text), self.encoding), **kwargs)

        _SAFE_CONSOLE = SafeConsole
    return _SAFE_CONSOLE


# At a narrow terminal titles and unit names keep at least 8 CJK characters (16 cells) a line:
# low-value columns give way first — dates lose their year when all share one, units show
# their code, then columns drop from the right — rather than text folding at 1–3 characters.
PROTECTED = ("title", "unit", "unit_name", "name", "basis")
# A duty's state says whether its past due date was met, late or waived, the marks of a right or
# a local rule whether it could be late at all, and a provisional due date may still move
# (service/recount.py): never dropped.
KEPT = ("id", *PROTECTED, "due_on", "days_overdue", "days_left", "rate", "state", "right",
        "local", "provisional")
TEXT_MIN = 16


def _fit(rows: list[dict], columns: list[Column], width: int):
    """The columns that fit ``width``, the cell function to draw them, the year the dates
    were shortened to (None when they keep it), and whether even these do not fit: counts
    are never dropped (the numbers shown must add up), so below their width the command
    says so (see :func:`_too_narrow`)."""
    from rich.cells import cell_len

    short_dates = short_units = short_rates = False
    year = None

    def draw(row: dict, column: Column) -> str:
        value = row.get(column.key)
        if short_dates and column.type == "date" and value is not None:
            return f"{value.month:02d}-{value.day:02d}"
        if short_units and column.key == "unit" and row.get("unit"):
            return visible(row["unit"])
        if short_rates and column.type == "rate" and isinstance(value, str) and value.strip():
            return value.split()[0]  # the percentage without its bar
        return visible(human_cell(row, column))  # measured as it is drawn

    def needed(cols: list[Column]) -> int:
        total = 1
        for c in cols:
            if c.key in PROTECTED:
                total += TEXT_MIN + 3
                continue
            longest = max((cell_len(draw(r, c)) for r in rows), default=0)
            total += max(cell_len(c.header), longest) + 3
        return total

    columns = list(columns)
    if needed(columns) > width:
        dates = {v.year for r in rows for c in columns if c.type == "date"
                 if (v := r.get(c.key)) is not None}
        if len(dates) == 1:
            short_dates, year = True, next(iter(dates))
    # Lowest value first: dates the item's page still shows, the kind its ID already says, a
    # summary row's code and group; then the rest from the right; counts and the stage last.
    first = ("opened_on", "closed_on", "kind", "outcome", "paused_on", "key", "group")
    droppable = sorted((c for c in columns if c.key not in KEPT and c.type != "int"),
                       key=lambda c: (c.key == "stage", c.type == "int", c.key not in first,
                                      -columns.index(c)))
    while needed(columns) > width and droppable:
        columns.remove(droppable.pop(0))
    if needed(columns) > width and any(c.key == "unit" for c in columns):
        short_units = True  # the unit's code: short, and `unit list` names it
    if needed(columns) > width:
        short_rates = True  # a rate's bar gives way before any count
    return columns, draw, year, needed(columns) > width


def _table(rows: list[dict], columns: Sequence[Column], out: IO[str], *, title: str | None,
           as_of: date | None) -> int:
    from rich.table import Table

    # A person at a terminal gets the columns that fit; `show` has the rest. A column empty
    # in every row (closing dates in a list of open items) is left out too.
    columns = [c for c in columns if c.brief
               and (not rows or any(row.get(c.key) not in (None, "") for row in rows))]
    if rows and len({row.get("status") for row in rows}) == 1:  # `--status open`: said once
        columns = [c for c in columns if c.key != "status"]
    con = console(out)
    columns, cell, year, cramped = _fit(rows, columns, con.width)
    if year is not None and title:
        title = f"{title} ({year})"
    table = Table(title=title, header_style="bold", show_lines=False)
    for column in columns:
        table.add_column(column.header, overflow="fold",
                         no_wrap=column.type in ("date", "int") or column.key == "id",
                         min_width=TEXT_MIN if column.key in PROTECTED else None)
    for row in rows:
        # "Overdue" is decided once, by the query (queries.days_overdue): a paused item
        # whose due date has passed is not late, and is not drawn red.
        overdue = as_of is not None and (row.get("days_overdue") or 0) > 0
        table.add_row(*(cell(row, c) for c in columns), style="red" if overdue else None)
    if not rows:
        con.print(_("Nothing to show."))
    elif cramped:
        if title:
            con.print(title, style="bold")
        _stacked(con, rows, columns, cell)
    else:
        con.print(table)
    return len(rows)


def _stacked(con, rows: list[dict], columns: list[Column], cell) -> None:
    """Rows too wide for the terminal even with every column that may go gone: one paragraph
    each, "header value" pairs that wrap at any width — no count is dropped or cut — and a
    line saying how to get the table."""
    from rich.text import Text

    for row in rows:
        lead = [cell(row, c) for c in columns if c.key == "id" or c.key in PROTECTED]
        rest = [f"{c.header}\u00a0{cell(row, c)}" for c in columns
                if not (c.key == "id" or c.key in PROTECTED)]
        con.print(Text(" ".join(lead) + _(": ") + _(", ").join(rest)))
    con.print(_("(Too narrow for the table: widen the terminal, or use --format plain.)"))


def group_by_holder(rows: Iterable[dict]) -> list[list[dict]]:
    """Overdue rows (most overdue first) in groups, one per holding unit: each group starts
    with its worst item and the groups come in the order of their worst item. The one grouping
    of `report overdue` at a terminal and of the pack's overdue sheet."""
    by_unit: dict[str | None, list[dict]] = {}
    for row in rows:
        by_unit.setdefault(row["unit"], []).append(row)
    return list(by_unit.values())


def overdue_text(rows: list[dict], day: date, out: IO[str] | None = None) -> int:
    """`report overdue --format text`: the report a cron job mails — dated, one paragraph per
    unit that owes (worst first, as at a terminal), each line saying what is owed and how many
    days late. Lines, not a table: a mail reader's proportional font cannot line up columns of
    Chinese text."""
    out = out or sys.stdout
    groups = group_by_holder(rows)
    lines = [_("Overdue as of {day}: {n} item(s) owed by {units} unit(s).").format(
        day=day.isoformat(), n=len(rows), units=len(groups))]
    for group in groups:
        first = group[0]
        lines += ["", _("{name} ({code}): {n} item(s)").format(
            name=visible(first["unit_name"] or ""), code=first["unit"], n=len(group))]
        lines += ["  " + _("{id} {title}: {duty}, {days} day(s) overdue (due {due}).").format(
            id=row["id"], title=visible(row["title"]), duty=duty_text(row) or "",
            days=row["days_overdue"], due=row["due_on"].isoformat()) for row in group]
    out.write(shown_in("\n".join(lines) + "\n", getattr(out, "encoding", None)))
    return len(rows)


def overdue_by_unit(rows: list[dict], columns: Sequence[Column], day: date,
                    out: IO[str] | None = None) -> int:
    """`report overdue` at a terminal: one table per holding unit, fitted to the width as every
    other table is. Rows arrive most overdue first, so each unit's group starts with its worst
    item and the groups come out in the order of their worst item."""
    from rich.table import Table

    con = console(out)
    groups = group_by_holder(rows)
    # The unit heads its group, so no column says it; one fitting for all groups, so that
    # every group shows the same columns.
    columns, cell, year, cramped = _fit(
        rows, [c for c in columns if c.key not in ("unit", "unit_name")], con.width)
    heading = _("Overdue items as of {day}: {n}").format(day=day.isoformat(), n=len(rows))
    # Dates shortened to month and day: the year is said unless the heading's date says it.
    con.print(heading if year in (None, day.year) else f"{heading} ({year})", style="bold")
    for unit_rows in groups:
        table = Table(title=_("{name} ({code}): {n}").format(
            name=unit_rows[0]["unit_name"], code=unit_rows[0]["unit"], n=len(unit_rows)),
            title_justify="left", header_style="bold")
        for column in columns:
            table.add_column(column.header, overflow="fold",
                             no_wrap=column.type in ("date", "int"),
                             justify="right" if column.type == "int" else "left",
                             min_width=TEXT_MIN if column.key in PROTECTED else None)
        for row in unit_rows:
            table.add_row(*(cell(row, c) for c in columns), style="red")
        if cramped:
            con.print(table.title, style="bold")
            _stacked(con, unit_rows, columns, cell)
        else:
            con.print(table)
    con.print(_("Total overdue: {n}; units concerned: {units}.").format(
        n=len(rows), units=len(groups)), style="bold")
    return len(rows)


def render_record(row: dict, columns: Sequence[Column], fmt: str, out: IO[str] | None = None,
                  *, extra: Sequence[tuple[str, str, Any]] = ()) -> None:
    """One item (``show``): JSON object, CSV/plain with one row, or a two-column table."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(to_json(row, out) + "\n")
        return
    if fmt in ("csv", "plain"):
        render([row], columns, fmt, out)
        if fmt == "plain":
            for key, _label, value in extra:
                if value:  # lines of text (minutes): newlines and tabs stay, nothing else
                    out.write(f"\n[{key}]\n{visible(value)}\n")
        return
    from rich.table import Table

    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for column in columns:
        table.add_row(column.header, human_cell(row, column, record=True))
    con = console(out)
    con.print(table)
    for _key, label, value in extra:
        if value:
            con.rule(label)
            con.print(value, markup=False)


_EIGHTHS = " ▏▎▍▌▋▊▉"  # a cell's eighths: the bar's last, partial cell (all in GBK too)


def rate_bar(rate: float | None, width: int = 8) -> str:
    """A rate from 0 to 1 as a bar of block characters, ``width`` cells when full (eighths of
    a cell: 1/64 steps); empty when there is no rate or it is 0."""
    if rate is None:
        return ""
    eighths = round(max(0.0, min(1.0, rate)) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def message(text: str, out: IO[str] | None = None) -> None:
    """A line for a person (never rich markup: texts may hold brackets), made
    :func:`visible`."""
    (out or sys.stdout).write(visible(text) + "\n")
