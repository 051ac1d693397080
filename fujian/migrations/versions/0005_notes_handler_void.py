"""A running record of notes, the person handling an item, and entries voided as mistakes.

Why: the item had one `note` field that every `--note` overwrote, so the record of progress was
one line; there was no way to say who in a unit handles an item; and an item entered by
mistake could only be closed, which left it in every statistic. Now:
- table `note` (item, at, actor, text): appended, never overwritten. It is filled from each
  item's change log — every value its note field ever took, with when and by whom — so notes
  that earlier versions overwrote are back in the record;
- item column `handler` (the person handling the item inside its unit);
- item columns `voided_at` and `void_reason`: an entry made in error leaves lists, reports,
  statistics and exports, but is never deleted.

The item's own `note` column stays: it is the latest note, which exports carry.

Revision ID: 0005
Revises: 0004
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PREFIX = {"referral": "R", "suggestion": "S", "clue": "C", "meeting": "M", "action": "A"}


def upgrade() -> None:
    op.create_table(
        "note",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id"), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_index("ix_note_item", "note", ["item_id", "id"])
    op.add_column("item", sa.Column("handler", sa.Text))
    op.add_column("item", sa.Column("voided_at", sa.DateTime))
    op.add_column("item", sa.Column("void_reason", sa.Text))
    _backfill(op.get_bind())


def _backfill(bind) -> None:
    meta = sa.MetaData()
    item = sa.Table("item", meta, autoload_with=bind)
    log = sa.Table("change_log", meta, autoload_with=bind)
    note = sa.Table("note", meta, autoload_with=bind)
    pks = {f"{_PREFIX.get(kind, '?')}{number}": pk for pk, kind, number in
           bind.execute(sa.select(item.c.id, item.c.kind, item.c.number))}
    rows, last = [], {}
    stmt = (sa.select(log.c.subject, log.c.at, log.c.actor, log.c.action, log.c.field,
                      log.c.new_value).order_by(log.c.subject, log.c.id))
    for subject, at, actor, action, field, new in bind.execute(stmt):
        pk = pks.get(subject)
        if pk is None or new in (None, ""):
            continue
        if action == "create":
            try:
                text = json.loads(new).get("note")
            except ValueError:
                continue
        elif field == "note":
            text = new
        else:
            continue
        if text and last.get(pk) != text:
            rows.append({"item_id": pk, "at": at, "actor": actor, "text": text})
            last[pk] = text
    # An item whose note the log does not show (written outside the tool) keeps it too.
    for pk, text, at, actor in bind.execute(sa.select(item.c.id, item.c.note, item.c.updated_at,
                                                      item.c.actor).where(item.c.note.is_not(None))):
        if text and last.get(pk) != text:
            rows.append({"item_id": pk, "at": at, "actor": actor, "text": text})
    for start in range(0, len(rows), 5000):
        bind.execute(note.insert(), rows[start:start + 5000])


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_column("void_reason")
        batch.drop_column("voided_at")
        batch.drop_column("handler")
    op.drop_index("ix_note_item", table_name="note")
    op.drop_table("note")
