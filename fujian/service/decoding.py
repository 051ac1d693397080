"""Imported text, decoded once for items and units alike: the encodings a file may be in, and
the one reader that turns its bytes into text (or says, in a person's words, why it cannot)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from fujian.errors import BadInput
from fujian.i18n import _

ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
# The largest file an import reads (CSV, workbook, unit directory, minutes): checked before it
# is read, so /dev/zero or a 10 GB file costs nothing. An export of 100,000 items is 19 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024


def read_file(path: Path, encoding: str = "auto") -> str:
    """The text of a file a person gives (see :func:`decode`), refused when it cannot be read
    or is larger than MAX_FILE_BYTES; never reads more than that."""
    try:
        with path.open("rb") as fh:
            check_size(path, fh.fileno())
            data = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise BadInput(_("Cannot read {path}: {reason}.").format(
            path=path, reason=exc.strerror)) from exc
    if len(data) > MAX_FILE_BYTES:  # a pipe or device says no size: counted as it is read
        raise too_large(path)
    return decode(data, encoding, name=str(path))


def check_size(path: Path, fd: int | None = None) -> None:
    """Refuse a file larger than MAX_FILE_BYTES (by what the file system says of it)."""
    size = os.fstat(fd).st_size if fd is not None else path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise too_large(path)


def too_large(path: Path) -> BadInput:
    return BadInput(_("{path} is larger than {limit} MB, the most fujian reads in one "
                      "import: split it.").format(path=path, limit=MAX_FILE_BYTES // 2**20))


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
