"""`fujian demo`: a fresh demo database, never the user's own."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from fujian.cli.common import command, note, state
from fujian.cli.items import list_items
from fujian.cli.reports import print_overdue
from fujian.i18n import _
from fujian.kinds import KINDS

app = typer.Typer()


def _program_name() -> str:
    """How to run fujian again: a venv's `fujian` that is not on PATH (as after the README's
    first command) is named by the path it was started with."""
    started = sys.argv[0]
    if os.path.basename(started) == "fujian" and os.sep in started:
        found = shutil.which("fujian")
        if found is None or os.path.abspath(found) != os.path.abspath(started):
            return started
    return "fujian"


@command(app, "demo")
def demo(db: Annotated[str | None, typer.Option(
        "--db", metavar="PATH", help=_("Where to make the demo database (must not exist yet). "
        "Default: a new temporary folder."))] = None) -> None:
    """Make a fresh demo database with items of every kind, list the open ones, then print the
    overdue report.

    Never touches your own database. Example:

        fujian demo
    """
    from fujian.demo import build_demo, default_demo_path  # deferred: the database layer

    path = default_demo_path(db or state().db_option)
    summary = build_demo(path)
    kinds = _(", ").join(f"{KINDS[k].label} {n}" for k, n in summary["per_kind"].items())
    note(_("Demo database: {path} ({n} items: {kinds}). Try: {program} --db {path} list").format(
        path=path, n=summary["items"], kinds=kinds, program=_program_name()))
    state().db_option = str(path)
    # First the open items of every kind (meetings have no deadline, so the overdue report
    # alone would never show one), then the real overdue report.
    list_items(None, "open", None, False, None, "due", None, None)
    sys.stdout.write("\n")
    print_overdue(as_of=None, unit=None, kind=None, fmt=None, fail_if_any=False)
