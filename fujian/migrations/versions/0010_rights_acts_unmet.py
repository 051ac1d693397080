"""Rights are not duties, a refusal is not "on time", and reports say what is owed (issue 19).

Why: the sending unit's 3 days after 不予立案 are a right (可以: 310号令 第九条), yet they were
stored as a duty and reported overdue; closing a public-interest suggestion 未采纳 ended the
organ's duty to perform "met"; a clue taken to court ended the organ's duties "met" or "late"
although the suit is brought because it did not perform; an obstructed assistance request
ended the unit's duty "waived"; police who recorded acceptance after the stand-in duty's due
date showed no delay. What changes:

- ``duty.optional`` becomes ``duty.is_right`` (``right`` is an SQL keyword). Rights ended by a
  later stage become ``exercised``; rights ended by closing after their window ``lapsed`` on
  their last day. An open right whose window has passed is read as lapsed (it is never
  overdue), so it needs no rewrite.
- Duties that ended without the owed act become ``unmet``: ``perform`` of a public-interest
  suggestion closed ``rejected`` or ``partly``; the organ's ``reply`` and ``perform`` of a clue
  that went to court (ended on the day it did); ``assist`` of a request that was obstructed or
  closed ``refused``.
- The stand-in ``decide-filing`` of a to-criminal referral, waived when acceptance came after
  its due date, becomes ``late``.
- New columns: ``duty.local`` (the period is a district's own rule: the to-admin reply, the
  clue's evaluation and consultation, assistance periods, action items, when not set by a
  document), ``duty.provisional`` (counted across a year with no official calendar: set again
  by the next recount), ``item.duty``, ``item.duty_is_right`` and ``item.due_provisional`` (the name of the duty the
  item's holder and due date belong to, so that reports say what is owed and leave rights
  out).

Nothing is deleted; each changed verdict is one the law gives, and the change log keeps every
earlier entry.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# (kind, stage, duty) whose default periods are local rules (see data/deadlines.toml).
LOCAL = (("referral", "sent", "reply"), ("clue", "received", "evaluate"),
         ("clue", "consulting", "consult"), ("action", "open", "carry-out"),
         ("assist", "requested", "assist"), ("assist", "obstructed", "decide-escalation"))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    text = sa.Text(collation="C") if postgres else sa.Text()
    op.execute("ALTER TABLE duty RENAME COLUMN optional TO is_right")
    op.add_column("duty", sa.Column("local", sa.Boolean, nullable=False,
                                    server_default=sa.false()))
    op.add_column("duty", sa.Column("provisional", sa.Boolean, nullable=False,
                                    server_default=sa.false()))
    op.add_column("item", sa.Column("duty", text))
    op.add_column("item", sa.Column("duty_is_right", sa.Boolean, nullable=False,
                                    server_default=sa.false()))
    op.add_column("item", sa.Column("due_provisional", sa.Boolean, nullable=False,
                                    server_default=sa.false()))
    true = "true" if postgres else "1"

    # Rights: exercised by a later stage, lapsed when a close came after their window.
    op.execute(f"UPDATE duty SET state = 'exercised' WHERE is_right = {true} "
               "AND state IN ('met', 'late')")
    op.execute(f"UPDATE duty SET state = 'lapsed', ended_on = due_on WHERE is_right = {true} "
               "AND state = 'waived' AND due_on IS NOT NULL AND ended_on > due_on")

    def of_items(condition: str) -> str:
        return f"item_id IN (SELECT id FROM item WHERE {condition})"

    # Ended without the owed act.
    op.execute("UPDATE duty SET state = 'unmet' WHERE name = 'perform' "
               "AND state IN ('met', 'late') AND " + of_items(
                   "kind = 'suggestion' AND subtype = 'public-interest' "
                   "AND status = 'closed' AND outcome IN ('rejected', 'partly')"))
    # A clue's pre-litigation suggestion has no later stage but the suit: its organ's ended
    # reply and perform were ended by going to court.
    op.execute("UPDATE duty SET state = 'unmet' WHERE name IN ('reply', 'perform') "
               "AND stage = 'suggested' AND state IN ('met', 'late', 'waived') AND EXISTS ("
               "SELECT 1 FROM change_log c JOIN item i ON c.subject = 'C' || i.number "
               "WHERE i.id = duty.item_id AND i.kind = 'clue' AND c.field = 'stage' "
               "AND c.new_value = 'litigating')")
    op.execute("UPDATE duty SET state = 'unmet' WHERE name = 'assist' AND state <> 'open' "
               "AND (" + of_items("kind = 'assist' AND status = 'closed' AND outcome = 'refused'")
               + " OR (state = 'waived' AND EXISTS (SELECT 1 FROM duty d2 WHERE "
               "d2.item_id = duty.item_id AND d2.stage = 'obstructed' "
               "AND d2.started_on = duty.ended_on)))")
    # Acceptance after the stand-in's due date: that duty was late, not waived.
    op.execute("UPDATE duty SET state = 'late' WHERE name = 'decide-filing' AND stage = 'sent' "
               "AND state = 'waived' AND due_on IS NOT NULL AND ended_on > due_on AND EXISTS ("
               "SELECT 1 FROM duty d2 WHERE d2.item_id = duty.item_id "
               "AND d2.stage = 'accepted' AND d2.started_on = duty.ended_on)")

    for kind, stage, name in LOCAL:
        op.execute(f"UPDATE duty SET local = {true} WHERE explicit <> {true} AND name = '{name}' "
                   f"AND stage = '{stage}' AND {of_items(f'kind = {kind!r}')}"
                   + (" AND " + of_items("subtype = 'to-admin'") if kind == "referral" else ""))

    # What each open item's holder and due date belong to.
    match = ("FROM duty d WHERE d.item_id = item.id AND d.state = 'open' "
             "AND d.holder_id = item.holder_id AND (d.due_on = item.due_on "
             "OR (d.due_on IS NULL AND item.due_on IS NULL)) ORDER BY d.id LIMIT 1")
    op.execute(f"UPDATE item SET duty = (SELECT d.name {match}), "
               f"duty_is_right = COALESCE((SELECT d.is_right {match}), "
               f"{'false' if postgres else '0'}) WHERE status = 'open'")


def downgrade() -> None:  # pragma: no cover - fujian never downgrades
    pass
