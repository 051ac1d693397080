"""Alembic environment: fujian always passes an open connection in ``config.attributes``."""

from alembic import context

connection = context.config.attributes["connection"]
# render_as_batch lets later migrations alter SQLite tables (copy-and-move) portably.
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
