"""CSV in and out: Excel-safe exports for the meeting pack, and all-or-nothing imports.

Exports are written for Excel and WPS on Chinese Windows: UTF-8 with a BOM by default (without
one they show 乱码), Chinese headers by default, and text cells neutralised against formula
injection (OWASP "CSV injection"). Imports read the same format back — Chinese or code
headers, labels or codes — so export → import gives the same items.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from fujian.errors import BadInput, StorageError, os_reason
from fujian.i18n import _, listing
from fujian.kinds import KINDS, Column, Kind, columns_for, format_id, import_order, kind_of, split_id
from fujian.models import TEXT_CHARS, Change, ChangeLog, Duty, Item, ItemSequence, Note

# The one CSV writer lives with the other output formats (render.py); exports use it as is.
from fujian.render import export_cell, neutralise, unneutralise, write_csv  # noqa: F401

# Imported text is decoded in decoding.py (units read it too); its names stay reachable here.
from fujian.service import changelog
from fujian.service.decoding import check_encoding, check_size, decode, text_lines  # noqa: F401
from fujian.service.items import build_item, parent_must_be_open, set_last_number, snapshot
from fujian.storage import bulk_insert


def all_kind_columns() -> tuple[Column, ...]:
    """Columns of an export of every kind: the common ones, then each kind's own, once."""
    seen: dict[str, Column] = {}
    for kind in KINDS.values():
        for column in columns_for(kind, everything=True):
            seen.setdefault(column.key, column)
    note = seen.pop("note")
    return (*seen.values(), note)


def export_columns(kind: Kind | None) -> tuple[Column, ...]:
    return columns_for(kind, everything=True) if kind else all_kind_columns()


def refuse_link(path: Path, force: bool) -> None:
    """A path that is a symbolic link (dangling or not) is written through only when ``force``
    says the link is meant; without it, it is refused, naming where it points."""
    if force or not path.is_symlink():
        return
    try:
        target = os.readlink(path)
    except OSError:  # gone or changed since: say what was asked
        target = "?"
    raise BadInput(_("{path} is a link to {target}: add --force to write there.").format(
        path=path, target=target))


def check_target(path: Path, force: bool) -> None:
    """The one check of a file about to be written: not a link (unless ``force``), not a
    folder, not an existing file unless ``force``, in a folder that exists. Callers check
    early, before a long piece of work."""
    refuse_link(path, force)
    if path.is_dir():
        raise BadInput(_("{path} is a folder: give a file name.").format(path=path))
    if path.exists() and not force:
        raise BadInput(_("{path} exists: add --force to overwrite it.").format(path=path))
    if not path.parent.is_dir():
        raise BadInput(_("The folder of {path} does not exist.").format(path=path))


def refuse_database(path: Path, database) -> None:
    """No output is ever written over the database (``database``: the open store, which knows
    what its files are; a server database has none)."""
    if database is not None and database.is_database_file(path):
        raise BadInput(_("{path} is the database itself: choose another file.").format(path=path))


@contextmanager
def open_output(path: Path, force: bool, database, encoding: str | None) -> Iterator[IO]:
    """A new file for writing, used as ``with open_output(...) as fh`` (text in ``encoding``,
    bytes when it is None). Refuses to overwrite without ``force`` and never writes over the
    database itself. The file is whole or absent: it is written under a temporary name in the
    target's folder (0600: exports hold case data) and renamed into place when the block ends
    without error; on any error it is removed and whatever was at ``path`` stays as it was (an
    error writing names ``path``). A link is never written through without ``force``; with it,
    the link is meant and its target is replaced."""
    refuse_database(path, database)
    check_target(path, force)
    final = Path(os.path.realpath(path)) if force and path.is_symlink() else path
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{final.name[:40]}.", suffix=".partial",
                                    dir=final.parent)
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with (os.fdopen(fd, "wb") if encoding is None
              else os.fdopen(fd, "w", encoding=encoding, newline="")) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if not force and os.path.lexists(final):  # put there while this was written
            raise BadInput(_("{path} exists: add --force to overwrite it.").format(path=path))
        os.replace(temp, final)
    except OSError as exc:
        _remove(temp)
        raise _write_error(path, exc) from exc
    except BaseException:
        _remove(temp)
        raise


def _remove(temp: str) -> None:
    with suppress(OSError):
        os.unlink(temp)


def _write_error(path: Path, exc: OSError) -> StorageError:
    return StorageError(_("Could not write {path}: {reason}; it was not written.").format(
        path=path, reason=os_reason(exc)))


def make_folder(folder: Path) -> None:
    """The folder an export writes into: made when missing (with its parents); a link to a
    folder, given with --force, has its target made."""
    Path(os.path.realpath(folder) if folder.is_symlink() else folder).mkdir(
        parents=True, exist_ok=True)


@contextmanager
def folder_of_files(folder: Path) -> Iterator[list[Path]]:
    """The folder an export writes several files into (the pack, reminder notices), made when
    missing; yields the list the run adds each file to that it put where none was. If the run
    fails, those files go, and the folder too when this run made it: what was there stays."""
    new_folder = not os.path.lexists(folder)
    make_folder(folder)
    made: list[Path] = []
    try:
        yield made
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        if new_folder:
            with suppress(OSError):
                folder.rmdir()
        raise


# ---------------------------------------------------------------------------------------------
# Import


def header_map() -> dict[str, str]:
    """Header text (Chinese label or code) → column key, over every kind's columns."""
    mapping: dict[str, str] = {}
    for column in all_kind_columns():
        mapping[column.key] = column.key
        mapping[column.label] = column.key
    # Kinds label their unit columns differently (移送单位, 线索来源单位): all are from_unit.
    for kind in KINDS.values():
        for kf in kind.fields:
            mapping[kf.label] = kf.name
        if kind.subtype_key:
            mapping[kind.subtype_label] = kind.subtype_key
    mapping["unit_name"] = "unit_name"
    return mapping


def columns_twice(header: list[str], keys: list[str | None]) -> str | None:
    """What to say when an import's header names one column twice (标题 and title, or 标题
    twice): which cell would win is a guess, so the file is refused, naming them."""
    first: dict[str, str] = {}
    twice = []
    for name, key in zip(header, keys, strict=True):
        if key is None:
            continue
        if key in first:
            twice.append(f"{first[key]} / {name.strip()}")
        else:
            first[key] = name.strip()
    if not twice:
        return None
    return _("Column(s) given twice: {names}. Keep one of each.").format(names=listing(twice))


class CsvRows:
    """The data rows of an import CSV, (line, {column key: text}), and its header's keys."""

    def __init__(self, keys: list[str | None], rows: Iterator[tuple[int, dict[str, str]]]):
        self.keys, self.rows = keys, rows

    def __iter__(self) -> Iterator[tuple[int, dict[str, str]]]:
        return self.rows


# The most lines an import CSV may have, header included: a spreadsheet's, so that every file
# imported opens in Excel or WPS, and a runaway file stops at a stated point.
MAX_CSV_LINES = 1_048_576


def read_rows(text: str | Iterable[str]) -> CsvRows:
    """The rows of an import CSV (its text, or its lines as decoding.text_lines reads them);
    its header is read at once (unknown, doubled or missing columns refused), its rows as
    they are imported. No field may be longer than the longest text fujian keeps
    (models.TEXT_CHARS): a longer one is refused when it is met, before it is held whole."""
    csv.field_size_limit(TEXT_CHARS + 1)  # + the guard apostrophe an export may put first
    reader = csv.reader(io.StringIO(text, newline="") if isinstance(text, str) else text)
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput(_("The file is empty.")) from None
    except csv.Error as exc:
        raise _csv_error(1, exc) from exc
    mapping = header_map()
    keys = [mapping.get(name.strip()) for name in header]
    unknown = [name for name, key in zip(header, keys, strict=True) if key is None]
    if unknown:
        raise BadInput(_("Unknown column(s): {names}.").format(names=listing(unknown)))
    twice = columns_twice(header, keys)
    if twice:
        raise BadInput(twice)
    if "title" not in keys:
        raise BadInput(_("The file needs a title column (标题 or title)."))
    return CsvRows(keys, _data_rows(reader, keys))


def _data_rows(reader, keys: list[str | None]) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line, cells by key) of each non-empty data row; a row with more cells than the
    header is a bad row; a file past MAX_CSV_LINES lines is refused."""
    line = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(reader.line_num, exc) from exc
        start, line = line + 1, reader.line_num
        if line > MAX_CSV_LINES:
            raise BadInput(_("The file has more than {n} lines, the most a spreadsheet holds: "
                             "split it.").format(n=f"{MAX_CSV_LINES:,}"))
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(keys):
            yield start, {"__error__": _("more cells than columns")}
            continue
        yield start, {k: unneutralise(c) for k, c in zip(keys, cells, strict=False)
                      if k is not None}


def _csv_error(line: int, exc: csv.Error) -> BadInput:
    """What the csv module could not read, in a person's words where it is a limit."""
    if "field larger than field limit" in str(exc):
        return BadInput(_("line {line}: a cell holds more than {n} characters, the longest "
                          "text fujian keeps.").format(line=line, n=f"{TEXT_CHARS:,}"))
    return BadInput(_("line {line}: {reason}").format(line=line, reason=exc))


def values_for(kind: Kind, cells: dict[str, str]) -> dict[str, Any]:
    """Cells of one CSV row → the value mapping :func:`build_item` takes."""
    values: dict[str, Any] = {k: (v if v != "" else None) for k, v in cells.items()}
    values["opened_on"] = values.pop("opened_on", None)
    values["due_on"] = values.pop("due_on", None)
    # The pack is read by people: labels such as 是/否 and unit names are accepted as typed.
    values.pop("unit_name", None)
    # An export's `unit` names who holds the open duty; the item's own unit is `assignee`.
    assignee = values.pop("assignee", None)
    if assignee:
        values["unit"] = assignee
    values.pop("kind", None)
    values.pop("id", None)
    return values


def row_kind(cells: dict[str, str], fixed: Kind | None) -> Kind:
    """A row's kind: its kind column, else its ID's prefix, else the kind asked for."""
    text = (cells.get("kind") or "").strip()
    if text:
        return kind_of(text)
    if (cells.get("id") or "").strip():
        return split_id(cells["id"])[0]
    if fixed is not None:
        return fixed
    raise BadInput(_("no kind: give --kind, a kind column (类别) or an id column (编号)"))


class ImportCounts(dict):
    """Items imported per kind; ``skipped`` counts the rows of other kinds left out by
    ``--kind``."""

    skipped: int = 0


Rows = list[tuple[int, dict[str, str]]]  # (line, cells) of each row
# Rows built and inserted at a time: an import holds one batch in memory, not the whole file
# (100,000 rows held at once took 490 MB for a 19 MB file).
BATCH_ROWS = 2000


class Problems:
    """The bad rows of an import: how many, and the first ones by line (all that is named)."""

    SHOWN = 50

    def __init__(self) -> None:
        self.count = 0
        self.first: list[tuple[int, str]] = []

    def add(self, line: int, reason: str) -> None:
        self.count += 1
        self.first.append((line, reason))
        if len(self.first) > 20 * self.SHOWN:  # a file of bad rows: keep the first by line
            self.first = sorted(self.first)[:self.SHOWN]

    def __bool__(self) -> bool:
        return self.count > 0


def import_items(ctx, rows: Iterable[tuple[int, dict[str, str]]], fixed_kind: Kind | None,
                 source: str, place: Callable[[int], str] | None = None,
                 ids: bool = True) -> dict[str, int]:
    """Validate every row and insert them, batch by batch, in the caller's transaction: any bad
    row and the caller rolls all of it back (nothing is imported; every bad row is named with
    its line, or ``place``, a workbook's sheet and row).

    An ``id`` column is kept (an export re-imported keeps its IDs); rows without one get new
    IDs after the highest in the database and the file. ``ids``: whether the file has an id
    column at all; when it has, rows without an ID wait until every ID asked for is known.
    Rows of kinds that name another item (action items, assistance requests) wait until the
    rest is in, so that they may name items of the same file."""
    run = _Import(ctx, fixed_kind, source, place)
    waiting: list[tuple[int, dict[str, str], Kind]] = []
    batch: list[tuple[int, dict[str, str], Kind]] = []
    for line, cells in rows:
        kind = run.kind_of_row(line, cells)
        if kind is None:
            continue
        if kind.links() or (ids and not (cells.get("id") or "").strip()):
            waiting.append((line, cells, kind))
            continue
        batch.append((line, cells, kind))
        if len(batch) >= BATCH_ROWS:
            run.add(batch)
            batch = []
    run.add(batch)
    order = {kind.code: i for i, kind in enumerate(import_order())}
    waiting.sort(key=lambda row: (not (row[1].get("id") or "").strip(), order[row[2].code]))
    for start in range(0, len(waiting), BATCH_ROWS):
        run.add(waiting[start:start + BATCH_ROWS])
    return run.finish()


class _Import:
    """One import's state: the numbers handed out and asked for per kind, the counts, and the
    bad rows."""

    def __init__(self, ctx, fixed_kind: Kind | None, source: str,
                 place: Callable[[int], str] | None) -> None:
        self.ctx, self.fixed_kind, self.source, self.place = ctx, fixed_kind, source, place
        self.problems = Problems()
        self.counts = ImportCounts()
        self.top: dict[str, int] = {}  # the highest number used so far, per kind
        self.wanted: dict[str, dict[int, int]] = {}  # numbers asked for → their line, per kind

    def kind_of_row(self, line: int, cells: dict[str, str]) -> Kind | None:
        """The row's kind; None for a bad row (recorded) or one ``--kind`` leaves out."""
        if "__error__" in cells:
            self.problems.add(line, cells["__error__"])
            return None
        try:
            kind = row_kind(cells, self.fixed_kind)
        except BadInput as exc:
            self.problems.add(line, exc.message)
            return None
        if self.fixed_kind is not None and kind.code != self.fixed_kind.code:
            self.counts.skipped += 1  # --kind K imports the rows of K only: counted, not bad
            return None
        return kind

    def add(self, batch: list[tuple[int, dict[str, str], Kind]]) -> None:
        """Build one batch's rows, kind by kind; insert them while no row was bad."""
        for kind in import_order():  # meetings before their action items
            rows = [(line, cells) for line, cells, k in batch if k is kind]
            if not rows:
                continue
            wanted = self.wanted.setdefault(kind.code, {})
            built, asked = _build_rows(self.ctx, kind, rows, self.place, self.problems, wanted)
            _refuse_taken(self.ctx.session, kind, built, asked, self.problems)
            if kind.code not in self.top:
                self.top[kind.code] = self.ctx.session.scalar(
                    select(ItemSequence.last_number)
                    .where(ItemSequence.kind == kind.code)) or 0
            records, logs, self.top[kind.code] = _numbered(
                self.ctx, kind, built, max([self.top[kind.code], *asked]), self.source)
            if records and not self.problems:  # nothing will be committed after a bad row
                _insert_kind(self.ctx, kind, built, records, logs)
                self.counts[kind.code] = self.counts.get(kind.code, 0) + len(records)

    def finish(self) -> ImportCounts:
        """The counts; refuses the whole import when any row was bad."""
        if self.problems:
            raise _nothing_imported(self.problems, self.place)
        for code in self.counts:
            # top >= the old last number, so IDs handed out later never collide or repeat.
            set_last_number(self.ctx.session, code, self.top[code])
        counts = ImportCounts((kind.code, self.counts[kind.code]) for kind in import_order()
                              if kind.code in self.counts)
        counts.skipped = self.counts.skipped
        return counts


def _build_rows(ctx, kind: Kind, rows: Rows, place: Callable[[int], str] | None,
                problems: Problems, wanted: dict[int, int],
                ) -> tuple[list[tuple[int, Any, int | None]], list[int]]:
    """Each row of ``kind`` built as an item: (line, Built, number its ID asks for), and the
    numbers these rows ask for; ``wanted`` (every number the import asked for → its line)
    gains them."""
    built: list[tuple[int, Any, int | None]] = []
    asked: list[int] = []
    for line, cells in rows:
        try:
            number = _wanted_number(kind, cells, wanted, place)
            if number is not None:
                wanted[number] = line
                asked.append(number)
            made = build_item(ctx, kind, values_for(kind, cells))
            parent_must_be_open(ctx, kind, made.record)
            built.append((line, made, number))
        except BadInput as exc:
            problems.add(line, exc.message)
    return built, asked


def _wanted_number(kind: Kind, cells: dict[str, str], wanted: dict[int, int],
                   place: Callable[[int], str] | None) -> int | None:
    """The number a row's ``id`` asks for (None: a new one); refuses another kind's ID or one
    an earlier row asked for."""
    if not (cells.get("id") or "").strip():
        return None
    id_kind, number = split_id(cells["id"])
    if id_kind.code != kind.code:
        raise BadInput(_("ID {id} is not of kind {kind}").format(
            id=cells["id"].strip(), kind=_(kind.code)))
    if number in wanted and place is not None:
        raise BadInput(_("ID {id} appears twice ({place})").format(
            id=format_id(kind, number), place=place(wanted[number])))
    if number in wanted:
        raise BadInput(_("ID {id} appears twice (line {other})").format(
            id=format_id(kind, number), other=wanted[number]))
    return number


def _refuse_taken(session, kind: Kind, built: list, asked: list[int],
                  problems: Problems) -> None:
    """A problem for each row whose ID asks for a number the database already holds."""
    taken = set()
    explicit = sorted(asked)
    for start in range(0, len(explicit), 500):
        chunk = explicit[start:start + 500]
        taken.update(session.scalars(select(Item.number).where(
            Item.kind == kind.code, Item.number.in_(chunk))))
    for line, _record, number in built:
        if number in taken:
            problems.add(line, _("{id} already exists").format(
                id=format_id(kind, number)))


def _numbered(ctx, kind: Kind, built: list, top: int,
              source: str) -> tuple[list[dict], list[dict], int]:
    """The item records, numbered (the asked-for numbers, else after ``top``, the highest
    used), their creation log rows, and the highest number now used."""
    records, logs = [], []
    for _line, made, number in built:
        record = made.record
        if number is None:
            top += 1
            number = top
        record["number"] = number
        records.append(record)
        logs.append(changelog.row(ctx.actor, format_id(kind, number), "create",
                                  Change(None, None, snapshot(record)),
                                  at=record["created_at"], reason=source))
    return records, logs, top


def _insert_kind(ctx, kind: Kind, built: list, records: list[dict], logs: list[dict]) -> None:
    """Write one kind's items with their log rows, first duties and first notes."""
    connection = ctx.session.connection()
    bulk_insert(connection, Item.__table__, records)
    bulk_insert(connection, ChangeLog.__table__, logs)
    pks = _new_keys(ctx.session, kind, [r["number"] for r in records])
    ctx.touched.update(pks.values())
    duties = [{"item_id": pks[made.record["number"]], **duty}
              for _line, made, _n in built for duty in made.duties]
    bulk_insert(connection, Duty.__table__, duties)
    # A row's note starts the item's running record.
    bulk_insert(connection, Note.__table__, [
        {"item_id": pks[r["number"]], "at": r["created_at"], "actor": ctx.actor,
         "text": r["note"]} for r in records if r["note"]])


def _new_keys(session, kind: Kind, numbers: list[int]) -> dict[int, int]:
    """The new rows' keys by number, to hang each item's first duties on it."""
    pks: dict[int, int] = {}
    low, high = min(numbers, default=0), max(numbers, default=0)
    if high - low < 2 * len(numbers):
        # New numbers are mostly one run: one range scan of the (kind, number) index.
        # (500-number IN lists made PostgreSQL scan the kind's rows once per list, with the
        # statistics of the table before the import.)
        wanted = set(numbers)
        pks.update({number: pk for number, pk in session.execute(
            select(Item.number, Item.id).where(Item.kind == kind.code,
                                               Item.number.between(low, high)))
            if number in wanted})
    else:
        for start in range(0, len(numbers), 500):
            chunk = numbers[start:start + 500]
            pks.update({number: pk for number, pk in session.execute(
                select(Item.number, Item.id).where(Item.kind == kind.code,
                                                   Item.number.in_(chunk)))})
    return pks


def _nothing_imported(problems: Problems, place: Callable[[int], str] | None) -> BadInput:
    """The refusal naming the first 50 bad rows, by line (or ``place``)."""
    shown = sorted(problems.first)[:problems.SHOWN]
    listed = _("; ").join(
        _("line {line}: {reason}").format(line=line, reason=reason) if place is None
        else _("{place}: {reason}").format(place=place(line), reason=reason)
        for line, reason in shown)
    more = problems.count - len(shown)
    suffix = _(" (and {n} more)").format(n=more) if more > 0 else ""
    return BadInput(_("Nothing imported: {n} bad row(s). {rows}{more}").format(
        n=problems.count, rows=listed, more=suffix))
