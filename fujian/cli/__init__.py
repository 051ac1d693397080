"""The command line: parses arguments, calls the service, renders. No SQL here.

Exit codes: 0 success (an empty result too); 1 `report overdue --fail-if-any` found overdue
items; 2 bad input or usage; 3 storage problem; 70 internal error.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fujian import __version__
from fujian.cli import items, units
from fujian.cli.common import FormatOption, begin_run, command, note, parse_day, state
from fujian.i18n import N_, _
from fujian.kinds import Column

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


calendar_app = typer.Typer(no_args_is_help=True, help=_("The legal calendar: check a deadline."))
app.add_typer(calendar_app, name="calendar")

# `calendar due --format plain/csv`: one row, code headers, as every other command writes it.
DUE_COLUMNS = (Column("start", "起算日", "date"), Column("period", "期间"),
               Column("nominal", "名义到期日", "date"), Column("due", "到期日", "date"),
               Column("rolled_over", "顺延的休息日"))


@command(calendar_app, "due")
def calendar_due(
    start: Annotated[str, typer.Argument(metavar="START", help=_("The day the clock starts (not counted)."))],
    period: Annotated[str, typer.Argument(metavar="PERIOD", help=_("3d (days), 10wd (working days) or 2m (months)."))],
    criminal: Annotated[bool, typer.Option("--criminal", help=_(
        "Count as criminal procedure does: a month period starting on a month's last day ends "
        "on the last day of its final month; 0.5m (half a month) is 15 days."))] = False,
    fmt: FormatOption = None,
) -> None:
    """Compute a due date the way Chinese law counts it, and show how it was reached.

    Example:

        fujian calendar due 2025-01-15 2m
    """
    from fujian.deadlines import Period, compute_due
    from fujian.render import pick_format, render, to_json
    from fujian.service.tracker import Tracker  # deferred: the database layer, not for --help

    fmt = pick_format(fmt)
    begin = parse_day(start)
    result = compute_due(begin, Period.parse(period, criminal=criminal), Tracker.legal_calendar(),
                         criminal=criminal)
    for warning in result.warnings:
        note(_("warning: ") + warning)
    data = {"start": result.start, "period": str(result.period), "nominal": result.nominal,
            "due": result.due, "rolled_over": result.rolled_over}
    if fmt == "json":
        typer.echo(to_json(data))
        return
    if fmt in ("plain", "csv"):  # through the one writer: CSV quoted and neutralised
        render([{**data, "start": begin, "rolled_over": " ".join(
            d.isoformat() for d in result.rolled_over)}], DUE_COLUMNS, fmt)
        return
    typer.echo(_("Start {start} (not counted) + {period} → nominal {nominal}").format(
        start=begin.isoformat(), period=result.period, nominal=result.nominal.isoformat()))
    if result.rolled_over:
        typer.echo(_("Rest days rolled over: {days}").format(
            days=", ".join(f"{d.isoformat()}({'一二三四五六日'[d.weekday()]})"
                           for d in result.rolled_over)))
    typer.echo(_("Due: {due}").format(due=result.due.isoformat()))


def _program_name() -> str:
    """How to run fujian again: a venv's `fujian` that is not on PATH (as after the README's
    first command) is named by the path it was started with."""
    import os
    import shutil
    import sys

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
    from fujian.demo import build_demo, default_demo_path

    path = default_demo_path(db or state().db_option)
    summary = build_demo(path)
    from fujian.kinds import KINDS

    kinds = _(", ").join(f"{KINDS[k].label} {n}" for k, n in summary["per_kind"].items())
    note(_("Demo database: {path} ({n} items: {kinds}). Try: {program} --db {path} list").format(
        path=path, n=summary["items"], kinds=kinds, program=_program_name()))
    import sys

    from fujian.cli.items import list_items
    from fujian.cli.reports import print_overdue

    state().db_option = str(path)
    # First the open items of every kind (meetings have no deadline, so the overdue report
    # alone would never show one), then the real overdue report.
    list_items(None, "open", None, False, None, "due", None, None)
    sys.stdout.write("\n")
    print_overdue(as_of=None, unit=None, kind=None, fmt=None, fail_if_any=False)


units_app = units.app
app.add_typer(units_app, name="unit")
items.register(app)

from fujian.cli import reports  # noqa: E402  (registers report, export, import, backup)

reports.register(app)

from fujian.cli import search  # noqa: E402  (registers search)

search.register(app)

from fujian.cli import rules  # noqa: E402  (registers rules)

rules.register(app)


@command(app, "doctor")
def doctor(fmt: FormatOption = None) -> None:
    """Check the database file (header, integrity, schema, journal, ID sequences, units) and
    the holiday calendar, one row per check, each saying what to do; exit 0 when healthy,
    3 when any check failed. Works on a damaged, empty or read-only file and changes nothing.

    Example:

        fujian doctor
    """
    from fujian.cli.common import china_today
    from fujian.errors import EXIT_STORAGE
    from fujian.kinds import Column
    from fujian.render import pick_format, render
    from fujian.service.tracker import Tracker

    fmt = pick_format(fmt)
    path = state().location  # never opened as a store: it may be anything
    rows, verdict = Tracker.doctor(path, china_today())
    render(rows, (Column("check", "检查项"), Column("status", "结果"), Column("detail", "说明")),
           fmt, title=str(path))
    note(_("Verdict: healthy.") if verdict else _("Verdict: problems found."))
    if not verdict:
        raise typer.Exit(EXIT_STORAGE)


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


def main() -> None:
    """The console script: usage errors become one line on stderr, as every other error."""
    import sys

    try:  # Typer >= 0.26 vendors Click; older Typer uses Click itself
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException, NoArgsIsHelpError
    from fujian.i18n import language, translate_typer

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
        context = getattr(exc, "ctx", None)
        where = _(" (see `{command} --help`)").format(command=context.command_path) \
            if context is not None else ""
        message = _usage_message(exc.format_message().replace("\n", " "))
        sys.stderr.write(_("error: ") + message + where + "\n")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
