"""Every command exists, has help text with an example, and answers --help quickly without
loading the database layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from fujian.cli import app

ROOT = Path(__file__).resolve().parent.parent

EXPECTED = {
    "db-path", "init", "demo", "doctor", "list", "show", "close", "reopen", "history", "backup",
    "copy", "restore",
    "calendar due", "unit add", "unit list", "unit update", "unit import", "report overdue",
    "report due-soon", "report summary", "export csv", "export pack", "import csv",
    *(f"{kind} {verb}" for kind in ("referral", "suggestion", "clue", "meeting", "action",
                                     "assist")
      for verb in ("add", "list", "show", "update", "close", "reopen")),
    "suggestion reply", "clue reply", "assist escalate", "note", "void", "unvoid",
    "export reminders", "import xlsx", "search", "rules",
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


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_help_names_stages_holders_and_summary_columns(monkeypatch, lang):
    """What --help promises is what the tool prints: every stage code with its label, the unit
    that then holds the duty, and the summary's columns."""
    from typer.testing import CliRunner

    from fujian.kinds import KINDS, SUMMARY_COLUMNS

    monkeypatch.setenv("FUJIAN_LANG", lang)
    monkeypatch.setenv("COLUMNS", "2000")
    runner = CliRunner()
    for kind in KINDS.values():
        text = "".join(runner.invoke(app, [kind.code, "update", "--help"]).stdout.split())
        subtypes = kind.subtypes.codes if kind.subtype_key and kind._stages.get(
            kind.subtypes.codes[0]) else (None,)
        for subtype in subtypes:
            for choice in kind.stages(subtype).items:
                assert f"{choice.code}({choice.label})" in text, (kind.code, choice)
    # (compared without white space: Click wraps long help lines, also at hyphens)
    referral = "".join(runner.invoke(app, ["referral", "update", "--help"]).stdout.split())
    assert "to-criminalnot-filed:收到不予立案通知书之日→移送单位" in referral
    summary = "".join(runner.invoke(app, ["report", "summary", "--help"]).stdout.split())
    for column in SUMMARY_COLUMNS[3:]:
        assert f"{column.key}({column.label})" in summary, column
