"""The first schema: units, items of every kind, their ID sequences and the change log.

Why: fujian starts here. Every later change is a new revision that keeps the data.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("liaison", sa.Text),
        sa.Column("phone", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "item_sequence",
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.bulk_insert(
        sa.table("item_sequence", sa.column("kind", sa.Text), sa.column("last_number", sa.Integer)),
        [{"kind": k, "last_number": 0} for k in ("referral", "suggestion", "clue", "meeting", "action")],
    )
    op.create_table(
        "item",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("unit_id", sa.Integer, sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("closed_on", sa.Date),
        sa.Column("outcome", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("subtype", sa.Text),
        sa.Column("from_unit_id", sa.Integer, sa.ForeignKey("unit.id")),
        sa.Column("party", sa.Text),
        sa.Column("enterprise", sa.Boolean),
        sa.Column("doc_no", sa.Text),
        sa.Column("urgent", sa.Boolean),
        sa.Column("attendees", sa.Text),
        sa.Column("minutes", sa.Text),
        sa.Column("meeting_id", sa.Integer, sa.ForeignKey("item.id")),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.UniqueConstraint("kind", "number", name="uq_item_kind_number"),
    )
    op.create_index("ix_item_status_due", "item", ["status", "due_on"])
    op.create_index("ix_item_unit_status", "item", ["unit_id", "status"])
    op.create_index("ix_item_kind_status_due", "item", ["kind", "status", "due_on"])
    op.create_index("ix_item_meeting", "item", ["meeting_id"])
    op.create_table(
        "change_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("field", sa.Text),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_change_log_subject", "change_log", ["subject", "id"])


def downgrade() -> None:
    op.drop_table("change_log")
    op.drop_table("item")
    op.drop_table("item_sequence")
    op.drop_table("unit")
