"""`fujian unit ...`: the directory of member units and their liaisons."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from fujian.cli.common import FormatOption, command, note, state
from fujian.cli.console import pick_output
from fujian.i18n import _
from fujian.kinds import UNIT_COLUMNS

app = typer.Typer(no_args_is_help=True, help=_("Member units (成员单位) and their liaisons (联络员)."))

KindOption = Annotated[str | None, typer.Option(
    "--kind", metavar="KIND", help=_("government, procuratorate, police or other."))]
LiaisonOption = Annotated[str | None, typer.Option("--liaison", metavar="NAME", help=_("Liaison officer's name."))]
PhoneOption = Annotated[str | None, typer.Option("--phone", metavar="TEXT", help=_("Liaison's phone."))]


@command(app, "add")
def add(code: Annotated[str, typer.Argument(metavar="CODE", help=_("Short ASCII code, e.g. scjgj."))],
        name: Annotated[str, typer.Option("--name", metavar="NAME", help=_("Full Chinese name."))],
        liaison: LiaisonOption = None, phone: PhoneOption = None,
        kind: KindOption = None) -> None:
    """Add a member unit.

    Example:

        fujian unit add scjgj --name 区市场监督管理局 --liaison 张三 --phone 027-8888
    """
    code = state().tracker().add_unit(code, name, liaison, phone, kind)
    note(_("Added unit {code}.").format(code=code))


@command(app, "update")
def update(unit: Annotated[str, typer.Argument(metavar="CODE", help=_("Code or exact name."))],
           name: Annotated[str | None, typer.Option("--name", metavar="NAME", help=_("New name."))] = None,
           liaison: LiaisonOption = None, phone: PhoneOption = None,
           kind: KindOption = None) -> None:
    """Change a unit's name, liaison, phone or kind (an empty value clears liaison or phone).

    Example:

        fujian unit update scjgj --liaison 李四 --phone 027-6666
    """
    code, changed = state().tracker().update_unit(unit, name=name, liaison=liaison, phone=phone,
                                                  kind=kind)
    if not changed:
        note(_("No change: unit {code} already says so.").format(code=code))
        return
    note(_("Updated unit {code}.").format(code=code))


@command(app, "list")
def list_units(fmt: FormatOption = None) -> None:
    """List the member units.

    Example:

        fujian unit list --format csv
    """
    from fujian.render import render

    fmt = pick_output(fmt)
    render(state().tracker().list_units(), UNIT_COLUMNS, fmt, title=_("Member units"))


@command(app, "import")
def import_units(path: Annotated[Path, typer.Argument(metavar="FILE.csv")],
                 encoding: Annotated[str, typer.Option(
                     "--encoding", metavar="ENCODING",
                     help=_("auto, utf-8, utf-8-sig or gb18030."))] = "auto") -> None:
    """Add or update units from a CSV file with the header code,name,liaison,phone,kind.

    Every row is checked first: one bad row imports nothing.

    Example:

        fujian unit import units.csv
    """
    counts = state().tracker().import_units(path, encoding=encoding)
    note(_("Units: {added} added, {updated} updated, {unchanged} unchanged.").format(**counts))
