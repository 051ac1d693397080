"""A search row per item: its words normalised, in one compact table.

Why: `fujian search` and `--search` must find every word — one or two Chinese characters too —
in the title, party, document number, handler, every note and the unit names, compared after
NFKC and case folding on both sides (a document number stored with full-width digits is found
as typed). SQL cannot normalise stored text, and scanning the item and note tables took about
1 s at 1M items before any ranking. Table `item_search` (item_id, opened_on, title_end,
fields_end, notes_end, text) holds each item's words already normalised, with where each part
ends for ranking (see fujian/service/search.py, which keeps the rows in step on every write).

The backfill is written out here rather than imported, so that this migration keeps doing what
it did when later versions change the search module; a test checks that both give the same rows.

Revision ID: 0006
Revises: 0005
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BRACKETS = str.maketrans("[{〔【〖〘]}〕】〗〙", "(((((())))))")


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().translate(_BRACKETS)


def upgrade() -> None:
    op.create_table(
        "item_search",
        sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id"), primary_key=True),
        sa.Column("opened_on", sa.Date),
        sa.Column("title_end", sa.Integer, nullable=False),
        sa.Column("fields_end", sa.Integer, nullable=False),
        sa.Column("notes_end", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    _backfill(op.get_bind())


def _backfill(bind) -> None:
    meta = sa.MetaData()
    item = sa.Table("item", meta, autoload_with=bind)
    note = sa.Table("note", meta, autoload_with=bind)
    unit = sa.Table("unit", meta, autoload_with=bind)
    search = sa.Table("item_search", meta, autoload_with=bind)
    units = {pk: _normalise(f"{code} {name}") for pk, code, name in
             bind.execute(sa.select(unit.c.id, unit.c.code, unit.c.name))}
    last = bind.execute(sa.select(sa.func.max(item.c.id))).scalar() or 0
    for low in range(1, last + 1, 5000):  # ranges of keys: no IN list, no parameter limit
        high = low + 4999
        notes: dict[int, list[str]] = {}
        for item_id, text in bind.execute(
                sa.select(note.c.item_id, note.c.text).where(note.c.item_id.between(low, high))
                .order_by(note.c.item_id, note.c.id.desc())):
            notes.setdefault(item_id, []).append(text)
        rows = []
        for pk, title, party, doc_no, handler, opened_on, *unit_ids in bind.execute(
                sa.select(item.c.id, item.c.title, item.c.party, item.c.doc_no, item.c.handler,
                          item.c.opened_on, item.c.unit_id, item.c.from_unit_id,
                          item.c.to_unit_id).where(item.c.id.between(low, high))):
            title_n = _normalise(title or "")
            fields_n = _normalise("\n".join(f for f in (party, doc_no, handler) if f))
            notes_n = _normalise("\n".join(notes.get(pk, ())))
            title_end = len(title_n)
            fields_end = title_end + 1 + len(fields_n)
            rows.append({
                "item_id": pk, "opened_on": opened_on, "title_end": title_end,
                "fields_end": fields_end, "notes_end": fields_end + 1 + len(notes_n),
                "text": "\n".join((title_n, fields_n, notes_n,
                                   *(units.get(u, "") for u in dict.fromkeys(unit_ids) if u)))})
        if rows:
            bind.execute(search.insert(), rows)


def downgrade() -> None:
    op.drop_table("item_search")
