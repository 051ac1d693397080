"""The search command: the items holding every word, most relevant first, each with where it
matched. Ranked on the ``item_search`` rows (service/search.py), shaped as every list shapes its
rows (service/queries.py): this module sits above both, so that neither imports the other back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from fujian.kinds import format_id
from fujian.models import Item, Note, Unit
from fujian.service.queries import Filters, iter_items
from fujian.service.search import SEARCH, best_match, chunks, matches, score


@dataclass
class Found:
    rows: list[dict]  # the public dicts of list, plus score, match_field and match
    more: bool  # more items match than the limit let through


def find(connection, words: Sequence[str], *, kinds: Sequence[str] = (), status: str = "all",
         include_void: bool = False, limit: int = 50, today: date | None = None) -> Found:
    """The items holding every word, most relevant first (score, then newest opened, then
    newest entered), at most ``limit``; ``kinds`` are kind codes, ``status`` open, closed or
    all. Each row says where it matched: ``match_field`` and a ``match`` snippet."""
    if not words:
        return Found([], False)
    kept = _kept(kinds, status, include_void)
    picked = _pick(connection, _ranked(words), kept, wanted=limit + 1)  # one more: any more?
    more = len(picked) > limit
    picked = picked[:limit]
    if not picked:
        return Found([], more)
    return Found(_found_rows(connection, picked, words, today), more)


def _ranked(words: Sequence[str]) -> Select:
    """Every search row holding the words, with its score, best first."""
    s = SEARCH
    points = score(words).label("score")
    return (select(s.c.item_id, points).where(matches(words))
            .order_by(points.desc(), s.c.opened_on.desc(), s.c.item_id.desc()))


def _kept(kinds: Sequence[str], status: str, include_void: bool) -> list:
    """The item conditions a ranked row must pass (none: every row passes)."""
    t = Item.__table__
    kept = [t.c.voided_at.is_(None)] if not include_void else []
    if status in ("open", "closed"):
        kept.append(t.c.status == status)
    if kinds:
        kept.append(t.c.kind.in_(list(kinds)))
    return kept


def _pick(connection, ranked: Select, kept: list, wanted: int) -> list[tuple[int, int]]:
    """(item key, score) of the first ``wanted`` ranked rows that pass ``kept``, best first."""
    picked: list[tuple[int, int]] = []
    # Most searches are decided by their best few rows: rank with a LIMIT (SQLite keeps only
    # the top rows while scanning) and a margin for rows the filters drop; only when the
    # margin was not enough, go on through the rest in rank order.
    first = wanted if not kept else wanted * 4 + 32
    candidates = connection.execute(ranked.limit(first)).all()
    picked.extend(_passing(connection, candidates, kept))
    if len(picked) < wanted and len(candidates) == first:
        rest = connection.execution_options(yield_per=2000).execute(ranked.offset(first))
        for batch in rest.partitions(2000):
            picked.extend(_passing(connection, list(batch), kept))
            if len(picked) >= wanted:
                break
        rest.close()
    return picked


def _passing(connection, candidates: list, kept: list) -> list[tuple[int, int]]:
    """The ``candidates`` (key, score) whose item passes ``kept``, in their order."""
    if not kept:
        return [(pk, points) for pk, points in candidates]
    t = Item.__table__
    passing: set[int] = set()
    for ids in chunks([pk for pk, _points in candidates]):
        passing.update(connection.scalars(select(t.c.id).where(t.c.id.in_(ids), *kept)))
    return [(pk, points) for pk, points in candidates if pk in passing]


def _found_rows(connection, picked: list[tuple[int, int]], words: Sequence[str],
                today: date | None) -> list[dict]:
    """The picked items as list rows (at ``today``), each with its score and where it matched."""
    t = Item.__table__
    idents, shaped, where = {}, {}, {}
    for pks in chunks([pk for pk, _points in picked]):
        idents.update({pk: format_id(kind, number) for pk, kind, number in
                       connection.execute(select(t.c.id, t.c.kind, t.c.number)
                                          .where(t.c.id.in_(pks)))})
        shaped.update({r["id"]: r for r in iter_items(connection, Filters(
            status="all", include_void=True, ids=tuple(pks), sort="id"), today, today)})
        where.update(_where_matched(connection, pks, words))
    return [{**shaped[idents[pk]], "score": points, "match_field": where[pk][0],
             "match": where[pk][1]} for pk, points in picked]


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


