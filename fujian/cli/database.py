"""`fujian db-path` and `fujian init`: which database a run uses, and making it."""

from __future__ import annotations

import typer

from fujian.cli.common import command, note, state
from fujian.i18n import _

app = typer.Typer()


@command(app, "db-path")
def db_path() -> None:
    """Print the database in use: a file, or a PostgreSQL server's URL without its password.

    Example:

        FUJIAN_DB=/srv/fujian.db fujian db-path
    """
    from fujian.errors import redact

    typer.echo(redact(str(state().location)))


@command(app, "init")
def init() -> None:
    """Create or upgrade the database; load the default unit directory the first time only.

    Example:

        fujian --db ~/fujian.db init
    """
    from fujian.errors import StorageError
    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    st = state()
    store = st.store(create=True)
    if not store.created and not store.was_empty and store.check_integrity():
        raise StorageError(Tracker.damaged_message(store.location))
    tracker = st.tracker(recount=False)
    counts = tracker.load_default_units()
    tracker.stamp_calendar()  # a new database's due dates, none yet, follow this calendar
    verb = _("Created") if store.created or store.was_empty else _("Checked")
    note(_("{verb} {path}; units: {added} added.").format(verb=verb, path=store.location,
                                                          **counts))
