"""A table of the database's own settings, first: the calendar its due dates were counted with.

Why: a due date counted across a year the calendar has no official notice of is provisional
(its rest days are the holidays package's estimate). When that year becomes known — a
``holidays`` release with the State Council notice, or a ``FUJIAN_CALENDAR`` override — or an
override changes a known year, every open duty counted from a rule must be counted again, or
the stored date stays wrong while ``calendar due`` gives the right one (issue 19). To know
that the calendar changed since the dates were counted, without counting anything on every
command, the database keeps the calendar's fingerprint (``Calendar.fingerprint``) in table
``setting`` (name, value), under the name ``calendar``. There was no place for a value that
belongs to the database as a whole.

Nothing is stored here: an existing database has no fingerprint, so the first command that can
write it counts its open due dates again and marks the provisional ones (migration 0010 added
the flag but left it unset), then stores the fingerprint. On PostgreSQL the text columns sort
by code point (collation "C"), as SQLite's do (see 0009).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    text = sa.Text(collation="C") if postgres else sa.Text()
    op.create_table(
        "setting",
        sa.Column("name", text, primary_key=True),
        sa.Column("value", text, nullable=False),
    )


def downgrade() -> None:  # pragma: no cover - fujian never downgrades
    pass
