"""Finding items by their words: title, party, document number, handler, notes and unit names.

Every word must occur somewhere in the item (AND), as a substring, whatever its length — a
one- or two-character Chinese word included — compared after :func:`normalise` on both sides
(NFKC, case folding, one kind of bracket), so that 夏检行建〔２０２５〕３号 is found as
夏检行建(2025)3号 and ＡＢＣ as abc.

Why a table of its own (``item_search``, migration 0006): SQL cannot apply NFKC to stored
text, and the words live in two tables (items and their notes). Scanning both at 1M items took
about 1 s before any ranking; one compact row per item, already normalised, is scanned in about
0.25 s. A full-text index would not do: a trigram index cannot find words of one or two
characters, which are most Chinese search words (采砂, 假药).

Each row holds ``text`` = title, then party / document number / handler, then the notes
(newest first), then the item's units ("code name"), separated by newlines, and where each part
ends. A word's first position tells the strongest part it occurs in (no word holds a newline,
so no match spans two parts): that is its score — 4 title, 3 party / document number /
handler, 2 notes, 1 units — summed over the words.

The rows are derived data: :func:`refresh` rebuilds the rows of the items a transaction
changed, and must be called by every write of an item's words, its notes or a unit's name.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    case,
    delete,
    func,
    or_,
    select,
)

from fujian.kinds import format_id
from fujian.models import Item, Note, Unit
from fujian.storage import position

# Created by migration 0006 (the schema's history); described here for queries only.
SEARCH = Table(
    "item_search", MetaData(),
    Column("item_id", Integer, primary_key=True),
    Column("opened_on", Date),  # newest first among equal scores
    Column("title_end", Integer, nullable=False),  # last position of the title in text
    Column("fields_end", Integer, nullable=False),  # … of party, document number, handler
    Column("notes_end", Integer, nullable=False),  # … of the notes; the units follow
    Column("text", Text, nullable=False),
)

WEIGHTS = {"title": 4, "doc_no": 3, "party": 3, "handler": 3, "note": 2, "unit": 1}

# Document numbers are written 夏检行建〔2025〕3号, typed [2025], (2025) or （2025）: after NFKC
# (which makes （ ［ ｛ plain) every such bracket is one pair.
_BRACKETS = str.maketrans("[{〔【〖〘]}〕】〗〙", "(((((())))))")


def normalise(text: str) -> str:
    """How stored text and search words are compared: NFKC (full-width → half-width),
    case-folded, brackets of any kind as ( )."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_BRACKETS)


def words_of(texts: Sequence[str]) -> tuple[str, ...]:
    """The words of a query: split on white space, normalised, repeats and empty ones
    dropped."""
    words = (normalise(w) for text in texts for w in text.split())
    return tuple(dict.fromkeys(w for w in words if w.strip()))


# -- SQL -----------------------------------------------------------------------------------------


def _where(word: str):
    return position(SEARCH.c.text, word)


def matches(words: Sequence[str]):
    """An SQL condition on ``item_search``: every word occurs in the row."""
    return and_(*(_where(w) > 0 for w in words))


def score(words: Sequence[str]):
    """An SQL expression: per word, the weight of the strongest part it occurs in; summed."""
    s = SEARCH.c
    parts = [case((_where(w) <= s.title_end, WEIGHTS["title"]),
                  (_where(w) <= s.fields_end, WEIGHTS["doc_no"]),
                  (_where(w) <= s.notes_end, WEIGHTS["note"]), else_=WEIGHTS["unit"])
             for w in words]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def condition(words: Sequence[str]):
    """An SQL condition on the item table: every word occurs in one of its texts (the
    ``--search`` of every list; the same rows as :func:`find`)."""
    return Item.__table__.c.id.in_(select(SEARCH.c.item_id).where(matches(words)))


# -- keeping the rows in step --------------------------------------------------------------------


def _connection(target):
    """A Core connection from a Session (flushed first, so that its pending changes are read)
    or a Connection."""
    if hasattr(target, "flush") and hasattr(target, "connection"):
        target.flush()
        return target.connection()
    return target


def _unit_texts(connection) -> dict[int, str]:
    return {pk: normalise(f"{code} {name}")
            for pk, code, name in connection.execute(select(Unit.id, Unit.code, Unit.name))}


# At most this many values in one IN (…): older SQLite allows 999 parameters per statement.
CHUNK = 500


def _chunks(values: Sequence, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _rows(connection, pks: Sequence[int] | None, units: dict[int, str],
          between: tuple[int, int] | None = None) -> list[dict]:
    """The search rows of the items ``pks``, or of the items whose key is within
    ``between`` (both ends included)."""
    t, n = Item.__table__, Note.__table__
    if between is not None:
        of_items, of_notes = t.c.id.between(*between), n.c.item_id.between(*between)
    else:
        of_items, of_notes = t.c.id.in_(pks), n.c.item_id.in_(pks)
    notes: dict[int, list[str]] = {}
    for item_id, text in connection.execute(
            select(n.c.item_id, n.c.text).where(of_notes).order_by(n.c.item_id, n.c.id.desc())):
        notes.setdefault(item_id, []).append(text)
    rows = []
    for pk, title, party, doc_no, handler, opened_on, *unit_ids in connection.execute(
            select(t.c.id, t.c.title, t.c.party, t.c.doc_no, t.c.handler, t.c.opened_on,
                   t.c.unit_id, t.c.from_unit_id, t.c.to_unit_id).where(of_items)):
        rows.append(search_row(pk, opened_on, title, (party, doc_no, handler),
                               notes.get(pk, ()),
                               [units.get(u, "") for u in dict.fromkeys(unit_ids) if u]))
    return rows


def search_row(pk: int, opened_on: date | None, title: str, fields: Iterable[str | None],
               notes: Iterable[str], units: Iterable[str]) -> dict:
    """One ``item_search`` row (``units``: each unit's normalised "code name")."""
    title_n = normalise(title or "")
    fields_n = normalise("\n".join(f for f in fields if f))
    notes_n = normalise("\n".join(notes))
    title_end = len(title_n)
    fields_end = title_end + 1 + len(fields_n)
    notes_end = fields_end + 1 + len(notes_n)
    return {"item_id": pk, "opened_on": opened_on, "title_end": title_end,
            "fields_end": fields_end, "notes_end": notes_end,
            "text": "\n".join((title_n, fields_n, notes_n, *units))}


def refresh(target, item_ids: Iterable[int] = (), *, units: Iterable[int] = ()) -> None:
    """Rebuild the search rows of these items, and of every item of these units (after a
    unit's name changed), in the caller's transaction. ``target``: a Session or Connection."""
    from fujian.storage import bulk_insert

    connection = _connection(target)
    pks = set(item_ids)
    unit_ids = list(units)
    if unit_ids:
        t = Item.__table__
        pks.update(connection.scalars(select(t.c.id).where(or_(
            t.c.unit_id.in_(unit_ids), t.c.from_unit_id.in_(unit_ids),
            t.c.to_unit_id.in_(unit_ids)))))
    if not pks:
        return
    texts = _unit_texts(connection)
    for chunk in _chunks(sorted(pks)):
        connection.execute(delete(SEARCH).where(SEARCH.c.item_id.in_(chunk)))
        bulk_insert(connection, SEARCH, _rows(connection, chunk, texts))


def rebuild(connection) -> int:
    """Every item's search row anew (a database filled by other means, such as the
    benchmark's generator). Returns how many rows were written."""
    from fujian.storage import bulk_insert

    connection.execute(delete(SEARCH))
    texts = _unit_texts(connection)
    last = connection.scalar(select(func.max(Item.id))) or 0
    written = 0
    for low in range(1, last + 1, 5000):  # ranges of keys: no IN list, no parameter limit
        rows = _rows(connection, None, texts, between=(low, low + 4999))
        bulk_insert(connection, SEARCH, rows)
        written += len(rows)
    return written


# -- the search command --------------------------------------------------------------------------


@dataclass
class Found:
    rows: list[dict]  # the public dicts of list, plus score, match_field and match
    more: bool  # more items match than the limit let through


def find_in(store, words: Sequence[str], **options: Any) -> Found:
    """:func:`find` on a :class:`fujian.storage.Store`."""
    with store.engine.connect() as connection:
        return find(connection, words, **options)


def find(connection, words: Sequence[str], *, kinds: Sequence[str] = (), status: str = "all",
         include_void: bool = False, limit: int = 50, today: date | None = None) -> Found:
    """The items holding every word, most relevant first (score, then newest opened, then
    newest entered), at most ``limit``; ``kinds`` are kind codes, ``status`` open, closed or
    all. Each row says where it matched: ``match_field`` and a ``match`` snippet."""
    from fujian.service.queries import Filters, iter_items

    if not words:
        return Found([], False)
    s = SEARCH
    points = score(words).label("score")
    ranked = (select(s.c.item_id, points).where(matches(words))
              .order_by(points.desc(), s.c.opened_on.desc(), s.c.item_id.desc()))
    wanted = limit + 1  # one more than shown: whether more match
    t = Item.__table__
    kept = [t.c.voided_at.is_(None)] if not include_void else []
    if status in ("open", "closed"):
        kept.append(t.c.status == status)
    if kinds:
        kept.append(t.c.kind.in_(list(kinds)))
    picked: list[tuple[int, int]] = []

    def take(candidates: list) -> None:
        if not kept:
            picked.extend((pk, points_) for pk, points_ in candidates)
            return
        passing: set[int] = set()
        for ids in _chunks([pk for pk, _points in candidates]):
            passing.update(connection.scalars(select(t.c.id).where(t.c.id.in_(ids), *kept)))
        picked.extend((pk, points_) for pk, points_ in candidates if pk in passing)

    # Most searches are decided by their best few rows: rank with a LIMIT (SQLite keeps only
    # the top rows while scanning) and a margin for rows the filters drop; only when the
    # margin was not enough, go on through the rest in rank order.
    first = wanted if not kept else wanted * 4 + 32
    candidates = connection.execute(ranked.limit(first)).all()
    take(candidates)
    if len(picked) < wanted and len(candidates) == first:
        rest = connection.execution_options(yield_per=2000).execute(ranked.offset(first))
        for batch in rest.partitions(2000):
            take(list(batch))
            if len(picked) >= wanted:
                break
        rest.close()
    more = len(picked) > limit
    picked = picked[:limit]
    if not picked:
        return Found([], more)
    idents, shaped, where = {}, {}, {}
    for pks in _chunks([pk for pk, _points in picked]):
        idents.update({pk: format_id(kind, number) for pk, kind, number in
                       connection.execute(select(t.c.id, t.c.kind, t.c.number)
                                          .where(t.c.id.in_(pks)))})
        shaped.update({r["id"]: r for r in iter_items(connection, Filters(
            status="all", include_void=True, ids=tuple(pks), sort="id"), today, today)})
        where.update(_where_matched(connection, pks, words))
    rows = [{**shaped[idents[pk]], "score": points_, "match_field": where[pk][0],
             "match": where[pk][1]} for pk, points_ in picked]
    return Found(rows, more)


def _where_matched(connection, pks: list[int], words: Sequence[str]) -> dict[int, tuple]:
    """Per item: the strongest field holding a word, and a snippet around its first one."""
    t, n = Item.__table__, Note.__table__
    notes: dict[int, list[str]] = {}
    for item_id, text in connection.execute(
            select(n.c.item_id, n.c.text).where(n.c.item_id.in_(pks))
            .order_by(n.c.item_id, n.c.id.desc())):
        notes.setdefault(item_id, []).append(text)
    units = {pk: (code, name) for pk, code, name in
             connection.execute(select(Unit.id, Unit.code, Unit.name))}
    found = {}
    for pk, title, party, doc_no, handler, *unit_ids in connection.execute(
            select(t.c.id, t.c.title, t.c.party, t.c.doc_no, t.c.handler, t.c.unit_id,
                   t.c.from_unit_id, t.c.to_unit_id).where(t.c.id.in_(pks))):
        named = [units[u] for u in dict.fromkeys(unit_ids) if u in units]
        fields: list[tuple[str, list[str]]] = [
            ("title", [title]), ("doc_no", [doc_no]), ("party", [party]),
            ("handler", [handler]), ("note", notes.get(pk, [])),
            ("unit", [text for code, name in named for text in (name, code)])]
        found[pk] = best_match(fields, words)
    return found


def best_match(fields: Sequence[tuple[str, Sequence[str | None]]],
               words: Sequence[str]) -> tuple[str | None, str | None]:
    """The first field (strongest first) whose text holds a word, and a snippet of it."""
    for name, texts in fields:
        for text in texts:
            if text:
                shown = snippet(text, words)
                if shown is not None:
                    return name, shown
    return None, None


def _mapped(text: str) -> tuple[str, list[int], str]:
    """``text`` normalised; for each normalised character, its position in the returned
    source. The source is ``text`` itself when normalising character by character gives the
    same as normalising the whole (always, but for combining sequences); else the normalised
    text stands for itself."""
    pieces, origin = [], []
    for i, char in enumerate(text):
        piece = normalise(char)
        pieces.append(piece)
        origin.extend([i] * len(piece))
    whole = normalise(text)
    if "".join(pieces) == whole:
        return whole, origin, text
    return whole, list(range(len(whole))), whole


SNIPPET_CONTEXT = 12  # characters shown on each side of the match


def snippet(text: str, words: Sequence[str], context: int = SNIPPET_CONTEXT) -> str | None:
    """A short piece of ``text`` around the first word found in it ("…汤逊湖非法采砂…"), as
    stored; None when no word occurs. White space (newlines too) is shown as one space."""
    normalised, origin, source = _mapped(text)
    hits = [(at, len(w)) for w in words if (at := normalised.find(w)) >= 0]
    if not hits:
        return None
    at, size = min(hits)
    begin, end = origin[at], origin[at + size - 1] + 1
    low, high = max(0, begin - context), min(len(source), end + context)
    piece = " ".join(source[low:high].split())
    return ("…" if low else "") + piece + ("…" if high < len(source) else "")
