"""Finding items by their words: title, party, document number, notes, handler and unit names.

Every word must occur somewhere in the item (AND), as a substring, whatever its length — a
one- or two-character Chinese word included — and compared after NFKC normalisation and case
folding, so that 夏检行建〔2025〕3号 and full-width digits are found as typed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from sqlalchemy import exists, func, literal, or_, select

from fujian.models import Item, Note, Unit


def normalise(text: str) -> str:
    """How searched text and search words are compared: NFKC (full-width → half-width),
    case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def words_of(texts: Sequence[str]) -> tuple[str, ...]:
    """The words of a query: split on white space, normalised, empty ones dropped."""
    return tuple(normalise(w) for text in texts for w in text.split() if w.strip())


def _contains(column, word: str):
    # instr() on the lower-cased column: a substring test with no LIKE wildcards to escape.
    return func.instr(func.lower(column), literal(word)) > 0


def condition(words: Sequence[str]):
    """An SQL condition on the item table: every word occurs in one of its texts."""
    t = Item.__table__
    n = Note.__table__
    u = Unit.__table__
    parts = []
    for word in words:
        units = select(u.c.id).where(or_(_contains(u.c.name, word), _contains(u.c.code, word)))
        parts.append(or_(
            _contains(t.c.title, word), _contains(t.c.party, word), _contains(t.c.doc_no, word),
            _contains(t.c.note, word), _contains(t.c.handler, word),
            t.c.unit_id.in_(units), t.c.holder_id.in_(units), t.c.from_unit_id.in_(units),
            t.c.to_unit_id.in_(units),
            exists().where(n.c.item_id == t.c.id, _contains(n.c.text, word)),
        ))
    from sqlalchemy import and_

    return and_(*parts)
