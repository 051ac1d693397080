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


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext_noop name
    """Mark a string for extraction; it is translated where it is shown."""
    return message
