"""The day a note's event happened, when the writer says so; what fujian itself wrote.

Why: a note was dated by when it was written; a phone call made yesterday and recorded today
read as today's (issue 22). Column `note.day` (a calendar date, nullable) holds the day the
writer gave with `fujian note ID TEXT --on D`; empty means the day it was written (`at`).
Nothing is filled in for the notes already kept: nobody said on which day their events were.

And a note fujian writes itself (an escalation's "Opened from X1") was stored in the language
of the session that wrote it, so an English line landed in a Chinese pack. Columns
`note.template` (the message, as the catalog knows it) and `note.args` (its arguments, JSON)
let `show` say it in the reader's language; `text` keeps it in Chinese, as documents are.

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
    postgres = op.get_bind().dialect.name == "postgresql"
    text = sa.Text(collation="C") if postgres else sa.Text()  # every text column sorts by code point (0009)
    op.add_column("note", sa.Column("day", sa.Date))
    op.add_column("note", sa.Column("template", text))
    op.add_column("note", sa.Column("args", text))


def downgrade() -> None:  # pragma: no cover - fujian never downgrades
    pass
