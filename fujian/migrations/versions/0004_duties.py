"""Duties: who owes what, from which day, by when — one row per duty a stage hands to a unit.

Why: an item had one due date and one responsible unit for its whole life, while the law hands
a matter from unit to unit stage by stage (domain.md §3): after 不予立案 the next three days are
the *sending* unit's, a clue's pre-litigation suggestion is owed by the addressed organ, and an
urgent public-interest suggestion opens two clocks (reply in 15 days, perform in 2 months). The
overdue report must name the holder of the open duty, and the summary must judge each duty.

What it adds:
- table `duty` (item, name, stage, holder, started_on, due_on, ended_on, state, explicit,
  optional);
- item columns `holder_id` (the holder of the most urgent open duty, kept in step by the
  service so that lists and reports read one indexed table), `to_unit_id` (the organ a clue's
  suggestion is addressed to) and `paused_on` (clocks stopped for 鉴定 or 中止审查);
- the index on (holder_id, status, due_on) replaces the one on (unit_id, status, due_on), since
  reports now select by holder.

Existing data is kept and the duties are rebuilt from each item's change log: its creation
snapshot, stage changes (a new due date ends the open duty on the stage's date, met or late, and
opens the next), extensions, closes (a withdrawal or cancellation waives) and reopens. Holders
follow the rules as they stood when this migration was written (frozen below, so later edits of
deadlines.toml cannot change history); a backfilled due date is marked explicit, so it is never
recomputed from a rule it may not have come from. Where the rebuilt open duty disagrees with the
item's stored due date, the stored item wins.

Revision ID: 0004
Revises: 0003
"""

import json
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# (kind, subtype or None, stage) → (duty name, holder field), as deadlines.toml said in 0004.
_DUTIES = {
    ("referral", "to-criminal", "sent"): ("decide-filing", "unit"),
    ("referral", "to-criminal", "accepted"): ("decide-filing", "unit"),
    ("referral", "to-criminal", "not-filed"): ("request-reconsideration", "from_unit"),
    ("referral", "to-criminal", "reconsideration"): ("decide-reconsideration", "unit"),
    ("referral", "to-criminal", "supervision"): ("explain-not-filing", "unit"),
    ("referral", "to-admin", "sent"): ("reply", "unit"),
    ("referral", "to-admin", "replied"): ("reply", "unit"),
    ("clue", None, "received"): ("evaluate", "unit"),
    ("clue", None, "evaluating"): ("evaluate", "unit"),
    ("clue", None, "filed"): ("evaluate", "unit"),
    ("clue", None, "consulting"): ("consult", "unit"),
    # Before 0004 a clue did not record the addressed organ: the duty stays where it was.
    ("clue", None, "suggested"): ("reply", "unit"),
    ("clue", None, "litigating"): ("follow-up", "unit"),
    ("meeting", None, "held"): ("follow-up", "unit"),
    ("action", None, "open"): ("carry-out", "unit"),
    ("action", None, "in-progress"): ("carry-out", "unit"),
}
_OPTIONAL = {"request-reconsideration"}
_WAIVING = {"withdrawn", "cancelled"}
_PREFIX = {"R": "referral", "S": "suggestion", "C": "clue", "M": "meeting", "A": "action"}


def _duty_of(kind, subtype, stage):
    if kind == "suggestion":
        return "reply", "unit"
    return _DUTIES.get((kind, subtype, stage)) or _DUTIES.get((kind, None, stage)) or \
        ("follow-up", "unit")


def _day(value):
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(str(value)[:10])


def _china_day(at):
    """A change-log instant (UTC) as the calendar date in China."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return (at + timedelta(hours=8)).date()


class _Replay:
    """Rebuilds one item's duties from its change log."""

    def __init__(self, item):
        self.item = item
        self.kind = item["kind"]
        self.subtype = item["subtype"]
        self.ids = {"unit": item["unit_id"], "from_unit": item["from_unit_id"]}
        self.stage = item["stage"]
        self.stage_on = item["opened_on"]
        self.due = None
        self.duties = []
        self.open = None
        self.last_ended = None

    def _holder(self, role):
        return self.ids.get(role) or self.ids["unit"]

    def open_duty(self, stage, start, due):
        name, role = _duty_of(self.kind, self.subtype, stage)
        duty = {"name": name, "stage": stage, "role": role, "holder_id": self._holder(role),
                "started_on": start, "due_on": due, "ended_on": None, "state": "open",
                "explicit": True, "optional": name in _OPTIONAL}
        self.duties.append(duty)
        self.open = duty

    def end(self, on, waive=False):
        duty = self.open
        if duty is None:
            return
        on = max(on, duty["started_on"])
        if waive or (duty["optional"] and waive is None):
            state = "waived"
        else:
            state = "late" if duty["due_on"] is not None and on > duty["due_on"] else "met"
        duty.update(ended_on=on, state=state)
        self.last_ended, self.open = duty, None

    def create(self, snapshot):
        self.stage = snapshot.get("stage") or self.stage
        self.subtype = snapshot.get("subtype", self.subtype)
        for role, key in (("unit", "unit_id"), ("from_unit", "from_unit_id")):
            if snapshot.get(key):
                self.ids[role] = int(snapshot[key])
        self.stage_on = _day(snapshot.get("stage_on")) or _day(snapshot.get("opened_on")) \
            or self.item["opened_on"]
        self.due = _day(snapshot.get("due_on"))
        if self.due is not None:
            self.open_duty(self.stage, self.stage_on, self.due)
        if snapshot.get("status") == "closed":
            self.close(_day(snapshot.get("closed_on")) or self.stage_on, snapshot.get("outcome"))

    def event(self, action, at, fields):
        if action == "create":
            return
        if action == "update":
            for role, key in (("unit", "unit_id"), ("from_unit", "from_unit_id")):
                if key in fields and fields[key][1]:
                    self.ids[role] = int(fields[key][1])
                    for duty in self.duties:
                        if duty["state"] == "open" and duty["role"] == role:
                            duty["holder_id"] = self.ids[role]
            if "subtype" in fields:
                self.subtype = fields["subtype"][1]
        elif action == "stage":
            new_stage = fields.get("stage", (None, self.stage))[1]
            on = _day(fields.get("stage_on", (None, None))[1]) or _china_day(at)
            if "due_on" in fields:
                self.end(on)
                self.due = _day(fields["due_on"][1])
                if self.due is not None:
                    self.open_duty(new_stage, on, self.due)
            self.stage, self.stage_on = new_stage, on
        elif action == "extend":
            self.due = _day(fields.get("due_on", (None, None))[1])
            if self.open is not None:
                self.open["due_on"] = self.due
            elif self.due is not None:
                start = max(self.stage_on, min(_china_day(at), self.due))
                self.open_duty(self.stage, start, self.due)
        elif action == "close":
            on = _day(fields.get("closed_on", (None, None))[1]) or _china_day(at)
            self.close(on, fields.get("outcome", (None, None))[1])
        elif action == "reopen" and self.due is not None and self.last_ended is not None:
            # The old model kept the due date on reopening: the clock ran on against it.
            start = max(self.stage_on, min(_china_day(at), self.due))
            self.open_duty(self.stage, start, self.due)

    def close(self, on, outcome):
        if self.open is not None:
            self.end(on, waive=True if outcome in _WAIVING else None)

    def finish(self):
        """Make the rebuilt state agree with the stored item, which wins."""
        item = self.item
        if item["status"] == "open":
            if item["due_on"] is not None:
                if self.open is None:
                    start = min(item["stage_on"] or item["opened_on"], item["due_on"])
                    self.open_duty(item["stage"], max(start, item["opened_on"]), item["due_on"])
                else:
                    self.open["due_on"] = item["due_on"]
            elif self.open is not None:
                self.end(item["stage_on"] or item["opened_on"])
        elif self.open is not None:
            self.close(item["closed_on"] or self.stage_on, item["outcome"])
        holder = self.open["holder_id"] if self.open is not None else item["unit_id"]
        return holder, self.duties


def upgrade() -> None:
    # New item columns by plain ADD COLUMN, with their references: no copy of the item table
    # (minutes at a million items, and SQLite's copy-and-rename trips over the table's own
    # reference to itself). Alembic will not add a reference on SQLite, which itself accepts
    # one on a nullable column, so SQLite gets the statement written out.
    for name in ("holder_id", "to_unit_id"):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE item ADD COLUMN {name} INTEGER REFERENCES unit (id)")
        else:
            op.add_column("item", sa.Column(name, sa.Integer, sa.ForeignKey(
                "unit.id", name=f"fk_item_{name}_unit")))
    op.add_column("item", sa.Column("paused_on", sa.Date))
    op.drop_index("ix_item_unit_status_due", table_name="item")
    op.create_index("ix_item_holder_status_due", "item", ["holder_id", "status", "due_on"])
    op.create_table(
        "duty",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("item.id"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("holder_id", sa.Integer, sa.ForeignKey("unit.id"), nullable=False),
        sa.Column("started_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date),
        sa.Column("ended_on", sa.Date),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("explicit", sa.Boolean, nullable=False),
        sa.Column("optional", sa.Boolean, nullable=False),
    )
    op.create_index("ix_duty_item", "duty", ["item_id", "id"])
    op.create_index("ix_duty_holder", "duty", ["holder_id"])
    _backfill(op.get_bind())


def _backfill(bind) -> None:
    meta = sa.MetaData()
    item = sa.Table("item", meta, autoload_with=bind)
    log = sa.Table("change_log", meta, autoload_with=bind)
    duty = sa.Table("duty", meta, autoload_with=bind)
    by_subject = {}
    prefix_of = {kind: prefix for prefix, kind in _PREFIX.items()}
    for row in bind.execute(sa.select(item)).mappings():
        by_subject[f"{prefix_of.get(row['kind'], '?')}{row['number']}"] = _Replay(dict(row))

    def flush(replay, events):
        for action, at, fields in events:
            if action == "create" and "__snapshot__" in fields:
                replay.create(json.loads(fields["__snapshot__"]))
            else:
                replay.event(action, at, fields)

    # The change log in order, grouped per item and per event (one timestamp, one action).
    stmt = sa.select(log.c.subject, log.c.at, log.c.action, log.c.field, log.c.old_value,
                     log.c.new_value).order_by(log.c.subject, log.c.id)
    current, events = None, []
    for subject, at, action, field, old, new in bind.execute(stmt):
        if subject != current:
            if current in by_subject:
                flush(by_subject[current], events)
            current, events = subject, []
        if events and events[-1][0] == action and events[-1][1] == at and action != "create":
            events[-1][2][field] = (old, new)
        elif action == "create":
            events.append((action, at, {"__snapshot__": new} if new else {}))
        else:
            events.append((action, at, {field: (old, new)}))
    if current in by_subject:
        flush(by_subject[current], events)

    rows, holders = [], []
    for replay in by_subject.values():
        holder, duties = replay.finish()
        holders.append({"pk": replay.item["id"], "holder": holder})
        for d in duties:
            rows.append({"item_id": replay.item["id"], "name": d["name"], "stage": d["stage"],
                         "holder_id": d["holder_id"], "started_on": d["started_on"],
                         "due_on": d["due_on"], "ended_on": d["ended_on"], "state": d["state"],
                         "explicit": d["explicit"], "optional": d["optional"]})
    for start in range(0, len(rows), 5000):
        bind.execute(duty.insert(), rows[start:start + 5000])
    update = item.update().where(item.c.id == sa.bindparam("pk")).values(
        holder_id=sa.bindparam("holder"))
    for start in range(0, len(holders), 5000):
        bind.execute(update, holders[start:start + 5000])


def downgrade() -> None:
    op.drop_index("ix_item_holder_status_due", table_name="item")
    op.create_index("ix_item_unit_status_due", "item", ["unit_id", "status", "due_on"])
    with op.batch_alter_table("item") as batch:
        batch.drop_column("paused_on")
        batch.drop_column("to_unit_id")
        batch.drop_column("holder_id")
    op.drop_index("ix_duty_holder", table_name="duty")
    op.drop_index("ix_duty_item", table_name="duty")
    op.drop_table("duty")
