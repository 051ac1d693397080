"""An item may name a related item: an assistance request (kind assist) its case, and a
suggestion opened by escalating a request the request it came from.

Why: assistance requests (协助调查核实, issue 13) refer to another item of any kind, and an
obstructed request may lead to a 检察建议 that must name it — a link both ways that the
meeting_id column (a meeting and its action items only) cannot hold. Column `related_id`
(nullable, a reference to item.id) with its index; existing items keep every value and have
no related item.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN, not a table rebuild: no row is copied, so none can be lost.
    if op.get_bind().dialect.name == "sqlite":  # Alembic cannot add a column with a key there
        op.execute("ALTER TABLE item ADD COLUMN related_id INTEGER REFERENCES item (id)")
    else:
        op.add_column("item", sa.Column("related_id", sa.Integer, sa.ForeignKey(
            "item.id", name="fk_item_related_item")))
    op.create_index("ix_item_related", "item", ["related_id"])


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_index("ix_item_related")
        batch.drop_column("related_id")
