"""The day a note's event happened, when the writer says so.

Why: a note was dated by when it was written; a phone call made yesterday and recorded today
read as today's (issue 22). Column `note.day` (a calendar date, nullable) holds the day the
writer gave with `fujian note ID TEXT --on D`; empty means the day it was written (`at`).
Nothing is filled in for the notes already kept: nobody said on which day their events were.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("note", sa.Column("day", sa.Date))


def downgrade() -> None:  # pragma: no cover - fujian never downgrades
    pass
