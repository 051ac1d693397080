"""Imported text, decoded once for items and units alike: the encodings a file may be in, and
the one reader that turns its bytes into text (or says, in a person's words, why it cannot)."""

from __future__ import annotations

from collections.abc import Sequence

from fujian.errors import BadInput
from fujian.i18n import _

ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")


def check_encoding(encoding: str, allowed: Sequence[str] = ENCODINGS) -> str:
    value = encoding.strip().lower().replace("_", "-")
    if value not in allowed:
        raise BadInput(_("Unknown encoding {text!r}. Valid: {valid}.").format(
            text=encoding, valid=", ".join(allowed)))
    return value


def decode(data: bytes, encoding: str = "auto", name: str | None = None) -> str:
    """The one reader of imported text (items and units): UTF-8 with or without a BOM, else
    GB18030 (a superset of GBK, what Excel on Chinese Windows saves), detected in that order;
    an explicit ``encoding`` overrides. A byte-order mark is never part of the text, whatever
    the encoding (a BOM glued to the first header would make it an unknown column)."""
    encoding = check_encoding(encoding, ("auto", *ENCODINGS))
    try:
        if encoding != "auto":
            text = data.decode(encoding)
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        what = _("The file") if name is None else name
        if encoding == "auto":
            raise BadInput(_("{name} is not UTF-8 or GB18030 text (byte {pos}): give "
                             "--encoding.").format(name=what, pos=exc.start)) from exc
        raise BadInput(_("{name} is not {encoding} text (byte {pos}).").format(
            name=what, encoding=encoding, pos=exc.start)) from exc
    text = text[1:] if text.startswith("\ufeff") else text
    nul = text.find("\x00")
    if nul >= 0:
        # One rule on every database: SQLite would store it, PostgreSQL refuses it, and no
        # person typed it (it is what a binary file or a broken export leaves).
        raise BadInput(_("{name} contains a NUL character (U+0000) on line {line}: no "
                         "database stores it; remove it and import again. Nothing was "
                         "changed.").format(name=_("The file") if name is None else name,
                                            line=text.count("\n", 0, nul) + 1))
    return text
