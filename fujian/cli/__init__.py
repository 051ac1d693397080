"""The command line: parses arguments, calls the service, renders. No SQL here.

Exit codes: 0 success (an empty result too); 1 `report overdue --fail-if-any` found overdue
items; 2 bad input or usage; 3 storage problem; 5 the change was saved but its report could not
be written; 70 internal error (errors.py lists them).
"""

from __future__ import annotations

from typing import Annotated

import typer

from fujian import __version__
from fujian.cli import (
    calendar,
    database,
    demo,
    doctor,
    items,
    reports,
    rules,
    search,
    transfer,
    units,
)
from fujian.cli.common import begin_run, say
from fujian.i18n import N_, _

app = typer.Typer(
    name="fujian",
    help=_("府检 fujian: track referrals, procuratorial suggestions, public-interest clues and "
    "joint-meeting action items between a district government and its procuratorate."),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # case data must never be dumped on a crash
    rich_markup_mode=None,  # plain Click help: Rich help alone doubled the start-up of --help
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fujian {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", metavar="PATH_OR_URL", help=_("Database file or PostgreSQL URL "
        "(postgresql://user@host/database; default: $FUJIAN_DB, else a file in the user's data "
        "folder)."), show_default=False)] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help=_("Print the version."))] = False,
) -> None:
    """府检 fujian — government–procuratorate linkage case tracker."""
    ctx.call_on_close(begin_run(db).close)


# Every command and group, in the order `fujian --help` lists them. Each module holds its
# commands at module level (common.command); a sub-app added without a name gives its commands
# to the top level, one with a name is a group (`fujian report ...`).
SUBCOMMANDS: tuple[tuple[typer.Typer, str | None], ...] = (
    (database.app, None),  # db-path, init
    (demo.app, None),
    (items.app, None),  # list, show, close, reopen, note, void, unvoid, history
    (transfer.app, None),  # backup, copy, restore
    (search.app, None),
    (rules.app, None),
    (doctor.app, None),
    (calendar.app, "calendar"),
    (units.app, "unit"),
    *((kind_app, code) for code, kind_app in items.KIND_APPS.items()),
    (reports.report_app, "report"),
    (reports.export_app, "export"),
    (transfer.import_app, "import"),
)
for sub_app, group_name in SUBCOMMANDS:
    app.add_typer(sub_app, name=group_name)


# Click's usage errors are English f-strings; these patterns give the common ones a
# translation (anything else is shown as Click wrote it).
_CLICK_MESSAGES = (
    (r"Missing option '(?P<name>[^']+)'\.", N_("Missing option '{name}'.")),
    (r"Missing argument '(?P<name>[^']+)'\.", N_("Missing argument '{name}'.")),
    (r"No such option: (?P<name>\S+) \(Possible options: (?P<options>[^)]*)\)",
     N_("No such option: {name} (did you mean: {options})")),
    (r"No such option: (?P<name>\S+)", N_("No such option: {name}")),
    (r"Option '(?P<name>[^']+)' requires an argument\.",
     N_("Option '{name}' requires an argument.")),
    (r"Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)",
     N_("Unexpected extra argument(s): {args}")),
    (r"Invalid value for '(?P<name>[^']+)': .*", N_("Invalid value for '{name}'.")),
    (r"(?P<text>.*?)\.? Did you mean '(?P<name>[^']+)'\?", N_("{text} Did you mean '{name}'?")),
)


def _usage_message(text: str) -> str:
    import re

    from fujian.i18n import language

    if language() == "en":
        return text
    for pattern, template in _CLICK_MESSAGES:
        match = re.fullmatch(pattern, text)
        if match:
            return _(template).format(**match.groupdict())
    return text


# Click's own words (the "Usage: " prefix, the --help and completion option texts) are not in
# our catalog: Click runs them through the stdlib's global gettext domain, not an
# application's (pallets/click#303, "Provide i18n with gettext", closed by pallets/click#1829,
# which wraps them for that global domain only). So the two functions below reach into
# Typer's vendored Click: HelpFormatter.write_usage is replaced and the built-in options'
# help is rewritten. This leans on private API; tests/test_cli_layout.py pins the Typer
# versions it was written and checked for (PATCHED_TYPER, lowest inclusive, highest
# exclusive): re-check both functions before widening it.
PATCHED_TYPER = ((0, 15), (0, 30))


def _translate_builtin_help(command) -> None:
    """Click's own option texts (--help, shell completion) through our catalog as well."""
    texts = {"install_completion": _("Install completion for the current shell."),
             "show_completion": _("Show completion for the current shell, to copy it or "
                                  "customize the installation.")}
    for param in command.params:
        if param.name in texts:
            param.help = texts[param.name]
    context = typer.Context(command, info_name=command.name, help_option_names=["-h", "--help"])
    option = command.get_help_option(context)
    if option is not None:
        option.help = _("Show this message and exit.")
    for sub in getattr(command, "commands", {}).values():
        _translate_builtin_help(sub)


def _translate_usage_prefix() -> None:
    """Click writes "Usage: " as a literal, outside gettext: give its formatter the catalog's
    word instead (help pages and usage errors alike)."""
    try:
        from typer._click.formatting import HelpFormatter
    except ImportError:  # a Typer without its vendored Click: its own words stay
        return
    original = HelpFormatter.write_usage
    if getattr(original, "_fujian", False):
        return

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        original(self, prog, args, _("Usage: ") if prefix is None else prefix)

    write_usage._fujian = True  # type: ignore[attr-defined]
    HelpFormatter.write_usage = write_usage  # type: ignore[method-assign]


# Options of fujian itself: given after a command they are "no such option" to it.
GLOBAL_OPTIONS = {"--db": "--db PATH_OR_URL", "--version": "--version"}


def _usage_error(exc) -> str:
    """A usage error in one line, with where to look; a global option given after the
    command says where it goes."""
    context = getattr(exc, "ctx", None)
    name = getattr(exc, "option_name", None)
    if name in GLOBAL_OPTIONS and context is not None and context.parent is not None:
        rest = context.command_path.partition(" ")[2]
        return _("{option} is an option of fujian itself: give it before the command, as in "
                 "`fujian {usage} {command} …`.").format(option=name, usage=GLOBAL_OPTIONS[name],
                                                         command=rest)
    where = _(" (see `{command} --help`)").format(command=context.command_path) \
        if context is not None else ""
    return _usage_message(exc.format_message().replace("\n", " ")) + where


def main() -> None:
    """The console script: usage errors become one line on stderr, as every other error."""
    import sys

    try:  # Typer >= 0.26 vendors Click; older Typer uses Click itself
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException, NoArgsIsHelpError
    from fujian.cli.console import safe_streams
    from fujian.i18n import language, translate_typer

    safe_streams()  # never a UnicodeEncodeError for a character the locale cannot show
    translate_typer()
    if language() != "en":
        _translate_usage_prefix()
    command = typer.main.get_command(app)
    if language() != "en":  # English is what Click says already; spare the walk
        _translate_builtin_help(command)
    try:
        code = command.main(prog_name="fujian", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `fujian` or `fujian report` alone: show the help
        sys.stdout.write(exc.ctx.get_help() + "\n")
        sys.exit(0)
    except ClickException as exc:
        say(_("error: ") + _usage_error(exc))
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
