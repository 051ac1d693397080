"""Index overdue-by-unit lookups on (unit_id, status, due_on).

Why: `report overdue --unit U` and the per-unit summary filter on the unit, the open status and
the due date together; the first index stopped at the status, so SQLite scanned every open item
of the unit to compare dates. Data is untouched.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_item_unit_status", table_name="item")
    op.create_index("ix_item_unit_status_due", "item", ["unit_id", "status", "due_on"])


def downgrade() -> None:
    op.drop_index("ix_item_unit_status_due", table_name="item")
    op.create_index("ix_item_unit_status", "item", ["unit_id", "status"])
