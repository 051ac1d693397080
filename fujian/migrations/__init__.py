"""Schema migrations (Alembic). Revisions are numbered in order; a test checks that this list
matches the scripts in ``versions/``, so opening a database can tell older from newer without
loading Alembic on every command."""

REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009",
                               "0010", "0011", "0012")
HEAD = REVISIONS[-1]
