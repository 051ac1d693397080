"""Imported text, decoded once for items and units alike: the encodings a file may be in, and
the one reader that turns its bytes into text (or says, in a person's words, why it cannot).

A file is checked whole before any of it is used (its size, its encoding, a NUL), reading it a
chunk at a time, and then read again line by line as the import uses it: an import never holds
the whole file, only the rows it is working on."""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

from fujian.errors import BadInput, os_reason
from fujian.i18n import _

ENCODINGS = ("utf-8-sig", "utf-8", "gb18030")
# The largest file an import reads (CSV, workbook, unit directory, minutes): checked before it
# is read, so /dev/zero or a 10 GB file costs nothing. An export of 100,000 items is 19 MB.
MAX_FILE_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
# The longest line read: more than any row holds (the longest texts are 16,000 characters), so
# a file of one endless line is refused when the line is met, not after it was read whole.
MAX_LINE_CHARS = 1_000_000


def check_encoding(encoding: str, allowed: Sequence[str] = ENCODINGS) -> str:
    value = encoding.strip().lower().replace("_", "-")
    if value not in allowed:
        raise BadInput(_("Unknown encoding {text!r}. Valid: {valid}.").format(
            text=encoding, valid=", ".join(allowed)))
    return value


def text_lines(path: Path, encoding: str = "auto") -> Iterator[str]:
    """The lines of a text file a person gives (line ends kept, a BOM left out), read as they
    are used, once the whole file was found readable: at most MAX_FILE_BYTES, in the encoding
    :func:`decode` would find, without a NUL. Refusals are BadInput naming the file."""
    chosen = _chosen_encoding(lambda: _chunks(path), encoding, str(path))
    return _lines(path, chosen)


def read_file(path: Path, encoding: str = "auto") -> str:
    """The whole text of a (small) file a person gives: a unit directory, minutes."""
    return "".join(text_lines(path, encoding))


def decode(data: bytes, encoding: str = "auto", name: str | None = None) -> str:
    """The one reader of imported text (items and units): UTF-8 with or without a BOM, else
    GB18030 (a superset of GBK, what Excel on Chinese Windows saves), detected in that order;
    an explicit ``encoding`` overrides. A byte-order mark is never part of the text, whatever
    the encoding (a BOM glued to the first header would make it an unknown column)."""
    text = data.decode(_chosen_encoding(lambda: iter((data,)), encoding, name))
    return text[1:] if text.startswith("\ufeff") else text


def check_size(path: Path, fd: int | None = None) -> None:
    """Refuse a file larger than MAX_FILE_BYTES (by what the file system says of it)."""
    size = os.fstat(fd).st_size if fd is not None else path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise too_large(path)


def too_large(path: Path) -> BadInput:
    return BadInput(_("{path} is larger than {limit} MB, the most fujian reads in one "
                      "import: split it.").format(path=path, limit=MAX_FILE_BYTES // 2**20))


def _chunks(path: Path) -> Iterator[bytes]:
    """The file's bytes a chunk at a time; refuses one that cannot be read or is too large (a
    pipe or a device says no size: its bytes are counted as they are read)."""
    try:
        with path.open("rb") as fh:
            check_size(path, fh.fileno())
            total = 0
            while chunk := fh.read(CHUNK_BYTES):
                total += len(chunk)
                if total > MAX_FILE_BYTES:
                    raise too_large(path)
                yield chunk
    except OSError as exc:
        raise BadInput(_("Cannot read {path}: {reason}.").format(
            path=path, reason=os_reason(exc))) from exc


def _chosen_encoding(chunks: Callable[[], Iterable[bytes]], encoding: str,
                     name: str | None) -> str:
    """The encoding the bytes are in (``encoding``, or the first of UTF-8 and GB18030 that
    reads them all); refuses bytes no candidate reads, and a NUL."""
    encoding = check_encoding(encoding, ("auto", *ENCODINGS))
    what = _("The file") if name is None else name
    candidates = ("utf-8", "gb18030") if encoding == "auto" else (encoding,)
    for candidate in candidates:
        bad = _first_undecodable(chunks(), candidate, what)
        if bad is None:
            return candidate
    if encoding == "auto":
        raise BadInput(_("{name} is not UTF-8 or GB18030 text (byte {pos}): give "
                         "--encoding.").format(name=what, pos=bad))
    raise BadInput(_("{name} is not {encoding} text (byte {pos}).").format(
        name=what, encoding=encoding, pos=bad))


def _first_undecodable(chunks: Iterable[bytes], encoding: str, what: str) -> int | None:
    """The position of the first byte ``encoding`` cannot read (None: it reads them all);
    refuses a NUL on the way (in UTF-8 and GB18030 a zero byte is always U+0000)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = lines = 0
    for chunk in chunks:
        nul = chunk.find(b"\x00")
        if nul >= 0:
            # One rule on every database: SQLite would store it, PostgreSQL refuses it, and no
            # person typed it (it is what a binary file or a broken export leaves).
            raise BadInput(_("{name} contains a NUL character (U+0000) on line {line}: no "
                             "database stores it; remove it and import again. Nothing was "
                             "changed.").format(name=what,
                                                line=lines + chunk.count(b"\n", 0, nul) + 1))
        pending = len(decoder.getstate()[0])  # bytes of a character the last chunk began
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            return offset - pending + exc.start
        offset += len(chunk)
        lines += chunk.count(b"\n")
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return offset - len(decoder.getstate()[0]) + exc.start
    return None


def _lines(path: Path, encoding: str) -> Iterator[str]:
    """The file's lines in ``encoding``, a leading BOM left out; refuses a line longer than
    MAX_LINE_CHARS when it is met, before it is held whole."""
    try:
        with path.open("r", encoding=encoding, newline="") as fh:
            number = 0
            while line := fh.readline(MAX_LINE_CHARS + 1):
                number += 1
                if len(line) > MAX_LINE_CHARS:
                    raise BadInput(_("{path}: line {line} is longer than {n} characters: no "
                                     "row fujian reads is.").format(
                        path=path, line=number, n=f"{MAX_LINE_CHARS:,}"))
                yield line[1:] if number == 1 and line.startswith("\ufeff") else line
    except OSError as exc:
        raise BadInput(_("Cannot read {path}: {reason}.").format(
            path=path, reason=os_reason(exc))) from exc
