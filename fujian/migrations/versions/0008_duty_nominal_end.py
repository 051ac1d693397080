"""Each duty keeps its period's own last day and the days its clock stood still.

Why: a pause moves a due date later by the days the clock stood still, and then the rest-day
rule applies (民法典 art. 203). Moving the date the rule had already rolled off a weekend
counted the weekend twice: 15 Jan + 2 months ends on Saturday 15 Mar and is due Monday 17 Mar;
a five-day pause must give Thursday 20 Mar (15 + 5), not Monday 24 Mar (17 + 5 = Saturday 22,
rolled). So a duty now keeps `nominal_on` (the period's last day before rolling off a rest day,
or the date a document gave) and `paused_days` (days not counted so far); its due date is
always the nominal day plus the paused days, rolled off rest days — which a corrected opening
date also keeps.

Existing duties: `nominal_on` starts as their due date (the nominal day was not kept) and
`paused_days` as 0; only a later pause of a duty whose due date was rolled off a rest day
can still differ, by the days of that roll.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("duty", sa.Column("nominal_on", sa.Date))
    op.add_column("duty", sa.Column("paused_days", sa.Integer, nullable=False,
                                    server_default="0"))
    op.execute("UPDATE duty SET nominal_on = due_on")


def downgrade() -> None:
    with op.batch_alter_table("duty") as batch:
        batch.drop_column("paused_days")
        batch.drop_column("nominal_on")
