"""The one place every user-facing sentence passes through.

Strings are written in English inside ``_()`` (or ``N_()`` where a string is data that is
translated later, at its point of use). The zh_CN catalog lives in ``fujian/locale`` and is
maintained with Babel: ``python tools/messages.py`` extracts, updates and compiles it.

Domain values (stages, outcomes, kinds, fields) are Chinese labels in :mod:`fujian.kinds` and
show as they are in both languages; CSV exports keep their Chinese headers in both languages.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

DOMAIN = "fujian"
LOCALE_DIR = Path(__file__).parent / "locale"


def language() -> str:
    """``zh`` or ``en``: FUJIAN_LANG first, then the locale variables, else English."""
    explicit = os.environ.get("FUJIAN_LANG", "").strip().lower()
    if explicit:
        return "zh" if explicit.startswith("zh") else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


@cache
def _translation(lang: str) -> gettext.NullTranslations:
    if lang != "zh":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=["zh_CN"], fallback=True)


def _(message: str) -> str:
    """Translate one user-facing message into the current language."""
    return _translation(language()).gettext(message)


def in_language(lang: str, message: str) -> str:
    """``message`` translated into ``lang`` (zh or en), whatever the current language."""
    return _translation(lang).gettext(message)


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext_noop name
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def listing(names: list[str], most: int = 10, sep: str = ", ") -> str:
    """Names for a message, ``sep``-separated; past ``most``, cut with a count of the rest (a
    file with 100,000 unknown headers gets one short line, not a line of 700 KB)."""
    shown = sep.join(names[:most])
    if len(names) <= most:
        return shown
    return _("{names} … and {count} more").format(names=shown, count=len(names) - most)


# Typer's own help words (section titles, "required", "default: …") go through the standard
# library's gettext; they are listed here so that they are extracted into fujian's catalog.
TYPER_MESSAGES = (N_("Options"), N_("Commands"), N_("Arguments"), N_("required"),
                  N_("default: {default}"), N_("No such command {name!r}."),
                  N_("Missing command."), N_("Aborted!"), N_("env var: {var}"), N_("(dynamic)"),
                  N_("Usage: "))


def translate_typer() -> None:
    """Let Typer's gettext calls (the stdlib's global domain) read fujian's catalog too."""
    if language() != "zh":
        return
    os.environ["LANGUAGE"] = "zh_CN"  # this process only: the stdlib picks the catalog by env
    gettext.bindtextdomain(DOMAIN, LOCALE_DIR)
    gettext.textdomain(DOMAIN)


@contextmanager
def document_language() -> Iterator[None]:
    """Chinese for a document unless FUJIAN_LANG names a language (the locale alone does not:
    the interface follows it, documents are read by the office): the pack, reminder notices
    and the report cron mails (`report overdue --format text`)."""
    if os.environ.get("FUJIAN_LANG", "").strip():
        yield
        return
    os.environ["FUJIAN_LANG"] = "zh"
    try:
        yield
    except Exception as error:
        # Its message was written in the document's language: it is said in that language
        # whole, its "error:" too (cli/common.fail), never a Chinese sentence after English.
        error.language = "zh"  # type: ignore[attr-defined]
        raise
    finally:
        os.environ.pop("FUJIAN_LANG", None)
