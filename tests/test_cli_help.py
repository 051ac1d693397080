"""Every command exists, has help text with an example, and answers --help quickly without
loading the database layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.main import get_command

from fujian.cli import app

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    "db-path", "init", "demo", "doctor", "list", "show", "close", "reopen", "history", "backup",
    "calendar due", "unit add", "unit list", "unit update", "unit import", "report overdue",
    "report due-soon", "report summary", "export csv", "export pack", "import csv",
    *(f"{kind} {verb}" for kind in ("referral", "suggestion", "clue", "meeting", "action")
      for verb in ("add", "list", "show", "update", "close", "reopen")),
    "suggestion reply",
}


def _walk(command, prefix=()):
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        yield " ".join(prefix), command
        return
    for name, sub in subcommands.items():
        yield from _walk(sub, (*prefix, name))


def test_every_command_exists_and_has_help_with_an_example():
    commands = dict(_walk(get_command(app)))
    assert set(commands) == EXPECTED
    for name, command in commands.items():
        assert command.help and command.help.strip(), name
        assert "fujian" in command.help, f"{name}: no example in its help"


def test_help_does_not_import_the_database_layer():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom fujian.cli import app\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0\n"
            "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'alembic', 'holidays', 'rich')"
            " if m in sys.modules]\nprint(','.join(heavy))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == ""
