"""The output format of a command, picked in one place: every command asks the picked format
what it needs to know (is it for a person at a terminal? JSON?) instead of comparing names."""

from __future__ import annotations


class OutputFormat(str):
    """One of render.FORMATS (table, plain, csv, json), as :func:`pick_output` chose it. A str,
    so that the renderer takes it as it is."""

    @property
    def for_people(self) -> bool:
        """A table on a terminal: labels and names in words, grouped, with titles."""
        return self == "table"

    @property
    def is_json(self) -> bool:
        return self == "json"

    @property
    def is_csv(self) -> bool:
        return self == "csv"

    @property
    def is_rows_of_text(self) -> bool:
        """Plain or CSV: rows of cells for a script or a spreadsheet."""
        return self in ("plain", "csv")

    @property
    def for_reading(self) -> bool:
        """Table or plain: a record may be followed by more tables (its notes, its duties)."""
        return self in ("table", "plain")


def pick_output(requested: str | None) -> OutputFormat:
    """The format a command writes: ``--format`` when given, else table on a terminal and
    plain otherwise (render.pick_format)."""
    from fujian.render import pick_format  # deferred: Rich, which `--help` does not need

    return OutputFormat(pick_format(requested))
