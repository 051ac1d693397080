"""Text sorts by code point on every backend.

Why: SQLite compares text byte by byte (its BINARY collation: UTF-8 bytes, so code point
order), and fujian's lists, exports and reports are ordered that way. A PostgreSQL server's
default collation may be an ICU or glibc locale that orders ``a_c a-b aa ab Ab`` and Chinese
names by other rules, so the same command would print rows in another order on a server. The
"C" collation compares bytes, as SQLite does, whatever the server's default: every text column
of fujian's tables gets it (its indexes are rebuilt by the same statement). SQLite: nothing to
do. Later migrations that add a text column on PostgreSQL give it ``collation="C"``.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    columns = bind.exec_driver_sql(
        "SELECT c.table_name, c.column_name, c.data_type, c.character_maximum_length FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_name = c.table_name "
        "AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() AND c.table_name <> 'alembic_version' "
        "AND c.data_type IN ('text', 'character varying') "
        "AND COALESCE(c.collation_name, '') <> 'C' ORDER BY 1, 2").fetchall()
    for table, column, data_type, length in columns:
        kind = "TEXT" if data_type == "text" else f"VARCHAR({length})" if length else "VARCHAR"
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE {kind} COLLATE "C"')


def downgrade() -> None:  # pragma: no cover - fujian never downgrades
    pass
