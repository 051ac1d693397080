"""Remember when the current stage began and when the responsible unit met its deadline.

Why: a reply (回复) stops the clock, and the due date was then cleared — so a reply two weeks
late and one on time looked the same to the summary's on-time rate, and the reply's date was
kept nowhere but the change log's timestamp. `met_on` is the day the duty was met (the reply, the
decision) and `met_due` the due date it is measured against; `stage_on` is the date the current
stage began (--on of the stage change). Existing items keep their data: stage_on starts as the
opening date, met_on and met_due stay empty (their on-time status is judged by their close date,
as before).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("stage_on", sa.Date))
        batch.add_column(sa.Column("met_on", sa.Date))
        batch.add_column(sa.Column("met_due", sa.Date))
    op.execute("UPDATE item SET stage_on = opened_on")


def downgrade() -> None:
    with op.batch_alter_table("item") as batch:
        batch.drop_column("met_due")
        batch.drop_column("met_on")
        batch.drop_column("stage_on")
