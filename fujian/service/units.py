"""The unit directory (成员单位 and their 联络员)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fujian.dates import now
from fujian.errors import BadInput, NotFound
from fujian.i18n import _, listing
from fujian.models import UNIT_KINDS, Change, Unit, check_lengths
from fujian.service import search
from fujian.service.changelog import log
from fujian.service.decoding import read_file

_CODE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
UNIT_FIELDS = ("code", "name", "liaison", "phone", "kind")


def normalise_code(code: str) -> str:
    cleaned = code.strip().lower()
    if not _CODE.fullmatch(cleaned):
        raise BadInput(
            _("Not a unit code: {code!r}. Use 1–32 ASCII letters, digits, - or _, "
              "starting with a letter.").format(code=code[:40])
        )
    return cleaned


def normalise_kind(kind: str | None) -> str:
    value = (kind or "government").strip().lower()
    if value not in UNIT_KINDS:
        raise BadInput(
            _("Unknown unit kind {kind!r}. Valid: {valid}.").format(
                kind=kind, valid=", ".join(UNIT_KINDS))
        )
    return value


def find_unit(session: Session, text: str) -> Unit:
    """A unit by its code (any case) or its exact Chinese name."""
    wanted = (text or "").strip()
    unit = session.scalar(select(Unit).where(func.lower(Unit.code) == wanted.lower()))
    if unit is None:
        unit = session.scalar(select(Unit).where(Unit.name == wanted))
    if unit is None:
        if session.scalar(select(func.count()).select_from(Unit)) == 0:
            raise NotFound(_("Unknown unit {text!r}: the unit directory is empty; run `fujian "
                             "init` or `fujian unit import FILE.csv`.").format(text=wanted[:60]))
        close = closest_units(session, wanted)
        if close:
            raise NotFound(_("Unknown unit {text!r}: did you mean {names}? Give a code or the "
                             "exact name from `fujian unit list`.").format(
                text=wanted[:60], names=_(", ").join(f"{name} ({code})" for code, name in close)))
        raise NotFound(
            _("Unknown unit {text!r}: give a code or the exact name from `fujian unit list`.")
            .format(text=wanted[:60])
        )
    return unit


def closest_units(session: Session, text: str, most: int = 3) -> list[tuple[str, str]]:
    """(code, name) of the units a mistyped or shortened name most likely means: names that
    hold its characters in order (市场监管局 → 区市场监督管理局) first, then names difflib finds
    close."""
    import difflib

    units = {name: code for code, name in session.execute(select(Unit.code, Unit.name))}
    if not text or len(text) > 60:
        return []
    def in_order(name: str) -> bool:
        rest = iter(name)
        return all(char in rest for char in text)

    found = [name for name in units if len(text) >= 2 and in_order(name)]
    found += difflib.get_close_matches(text, list(units), n=most, cutoff=0.5)
    return [(units[name], name) for name in dict.fromkeys(found)][:most]


def _log(session: Session, actor: str, code: str, action: str, field: str | None = None,
         old: str | None = None, new: str | None = None) -> None:
    log(session, actor, f"unit:{code}", action, [Change(field, old, new)])


def add_unit(session: Session, actor: str, code: str, name: str, liaison: str | None = None,
             phone: str | None = None, kind: str | None = None) -> Unit:
    code = normalise_code(code)
    # Stripped: find_unit strips what it is given, so " 区财政局" could never be found by name
    # (and would slip past the duplicate check as a near-twin of 区财政局).
    name = (name or "").strip()
    if not name:
        raise BadInput(_("A unit needs a name."))
    kind = normalise_kind(kind)
    if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        raise BadInput(_("Unit {code} already exists.").format(code=code))
    if session.scalar(select(Unit.id).where(Unit.name == name)) is not None:
        raise BadInput(_("A unit named {name} already exists.").format(name=name))
    liaison = (liaison or "").strip() or None  # blank means "none", not a name of spaces
    phone = (phone or "").strip() or None
    check_lengths(Unit.__table__, {"code": code, "name": name, "liaison": liaison, "phone": phone})
    stamp = now()
    unit = Unit(code=code, name=name, liaison=liaison, phone=phone, kind=kind,
                created_at=stamp, updated_at=stamp)
    session.add(unit)
    _log(session, actor, code, "create", new=f"{name}|{liaison or ''}|{phone or ''}|{kind}")
    session.flush()
    return unit


def update_unit(session: Session, actor: str, code: str,
                **values: str | None) -> tuple[Unit, bool]:
    """Change a unit's fields; returns the unit and whether anything changed."""
    unit = find_unit(session, code)
    old_name = unit.name
    changed = False
    for field, new in values.items():
        if new is None:
            continue
        new = new.strip()
        if field == "kind":
            if not new:  # normalise_kind("") would silently mean "government"
                raise BadInput(_("Unknown unit kind {kind!r}. Valid: {valid}.").format(
                    kind=new, valid=", ".join(UNIT_KINDS)))
            new = normalise_kind(new)
        if field == "name":
            if not new:
                raise BadInput(_("A unit needs a name."))
            other = session.scalar(select(Unit.id).where(Unit.name == new, Unit.id != unit.id))
            if other is not None:
                raise BadInput(_("A unit named {name} already exists.").format(name=new))
        old = getattr(unit, field)
        new_value = new if new != "" or field == "name" else None
        check_lengths(Unit.__table__, {field: new_value})
        if old != new_value:
            _log(session, actor, unit.code, "update", field, old, new_value)
            setattr(unit, field, new_value)
            changed = True
    if changed:
        unit.updated_at = now()
        session.add(unit)
        session.flush()
        if unit.name != old_name:  # its items are found by the unit's name
            search.refresh(session, units=[unit.id])
    return unit, changed


def list_units(session: Session) -> list[dict]:
    rows = session.scalars(select(Unit).order_by(Unit.code))
    return [{c: getattr(u, c) for c in UNIT_FIELDS} for u in rows]


class CsvRow(dict):
    """One CSV record as {column: value}, with the line of the file it starts on."""

    def __init__(self, values, line: int) -> None:
        super().__init__(values)
        self.line = line


def read_units_csv(path: Path, encoding: str = "auto") -> list[dict]:
    """Rows of a units CSV (header: code,name[,liaison,phone,kind]). Read as item imports are
    (:func:`fujian.service.decoding.decode`): UTF-8 with or without BOM, or GB18030/GBK,
    detected; ``encoding`` overrides."""
    text = read_file(path, encoding)
    # csv.reader, not DictReader: DictReader skips blank lines silently, so counting rows
    # would name the wrong line in an error message. Each row remembers its own line.
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] = []
    for record in reader:
        if record:
            header = [h.strip() for h in record]
            break
    if not {"code", "name"} <= set(header):
        raise BadInput(_("{path} needs a header line with at least code,name.").format(path=path))
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:  # which cell would win is a guess: refused, naming them
        raise BadInput(_("{path}: column(s) given twice: {names}. Keep one of each.").format(
            path=path, names=listing(twice)))
    rows = []
    start = reader.line_num + 1
    for record in reader:
        if record:
            rows.append(CsvRow(zip(header, record, strict=False), line=start))
        start = reader.line_num + 1
    return rows


def import_units(session: Session, actor: str, rows: list[dict], *, update: bool = True) -> dict:
    """Add new units; with ``update``, change existing ones (matched by code). All or nothing:
    every row is checked before the caller commits."""
    added = updated = unchanged = 0
    problems = []
    first_line: dict[str, int] = {}
    for index, row in enumerate(rows, start=2):
        line = getattr(row, "line", index)
        try:
            code = normalise_code(row.get("code") or "")
            if code in first_line:  # the first row would be lost to the second: refused
                raise BadInput(_("unit {code} is on line {first} already").format(
                    code=code, first=first_line[code]))
            first_line[code] = line
            existing = session.scalar(select(Unit).where(Unit.code == code))
            fields = {k: (row.get(k) or "").strip() for k in ("name", "liaison", "phone", "kind")}
            # A column the file does not have leaves the field alone; an empty cell in a
            # column it has clears liaison or phone.
            present = {k for k in fields if row.get(k) is not None}
            if existing is None:
                add_unit(session, actor, code, fields["name"], fields["liaison"], fields["phone"],
                         fields["kind"] or None)
                added += 1
            elif update:
                before = {c: getattr(existing, c) for c in UNIT_FIELDS}
                update_unit(session, actor, code, **{
                    k: v for k, v in fields.items()
                    if v or (k in ("liaison", "phone") and k in present)})
                after = {c: getattr(existing, c) for c in UNIT_FIELDS}
                updated += before != after
                unchanged += before == after
            else:
                unchanged += 1
        except BadInput as exc:
            problems.append(_("line {line}: {reason}").format(line=line, reason=exc.message))
    if problems:
        raise BadInput(_("Nothing imported. ") + listing(problems, most=20, sep="; "))
    return {"added": added, "updated": updated, "unchanged": unchanged}
