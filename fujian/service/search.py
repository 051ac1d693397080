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
from datetime import date

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

from fujian.errors import BadInput
from fujian.i18n import _
from fujian.models import Item, Note, Unit
from fujian.storage import bulk_insert, position

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


# The longest query searched: each word is one more condition and one more score term in the
# statement (SQLite refuses a tree of about 1,000 terms as "Expression tree is too large", and
# time grows with it), so a longer query is bad input, refused before any SQL is built.
MAX_SEARCH_WORDS = 32
MAX_SEARCH_CHARS = 1000


def words_of(texts: Sequence[str]) -> tuple[str, ...]:
    """The words of a query: split on white space, normalised, repeats and empty ones
    dropped. More than MAX_SEARCH_CHARS characters or MAX_SEARCH_WORDS words is BadInput."""
    if sum(len(text) for text in texts) > MAX_SEARCH_CHARS:
        raise BadInput(_("A search takes at most {n} characters.").format(n=MAX_SEARCH_CHARS))
    words = (normalise(w) for text in texts for w in text.split())
    found = tuple(dict.fromkeys(w for w in words if w.strip()))
    if len(found) > MAX_SEARCH_WORDS:
        raise BadInput(_("A search takes at most {n} words; this one has {count}.").format(
            n=MAX_SEARCH_WORDS, count=len(found)))
    return found


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


def same_document(connection, doc_no: str, other_than: int | None = None) -> list[int]:
    """The keys of the items (void ones left out) whose document number is ``doc_no`` as
    search compares them (NFKC, any bracket): 夏检行建〔２０２５〕３号 is 夏检行建[2025]3号."""
    wanted = normalise(doc_no.strip())
    if not wanted:
        return []
    t = Item.__table__
    rows = connection.execute(
        select(t.c.id, t.c.doc_no).join(SEARCH, SEARCH.c.item_id == t.c.id)
        .where(_where(wanted) > 0, t.c.doc_no.is_not(None), t.c.voided_at.is_(None))
        .order_by(t.c.id))
    return [pk for pk, stored in rows
            if pk != other_than and normalise(stored.strip()) == wanted]


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


def chunks(values: Sequence, size: int = CHUNK):
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
    for chunk in chunks(sorted(pks)):
        connection.execute(delete(SEARCH).where(SEARCH.c.item_id.in_(chunk)))
        bulk_insert(connection, SEARCH, _rows(connection, chunk, texts))


def rebuild(connection) -> int:
    """Every item's search row anew (a database filled by other means, such as the
    benchmark's generator). Returns how many rows were written."""
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
