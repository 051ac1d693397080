"""The one place every user-facing sentence passes through.

Strings are written in English inside ``_()`` so that a gettext catalog (zh_CN) can be added
without hunting for them. Domain values (stages, outcomes, kinds) carry their Chinese labels as
data in :mod:`fujian.kinds`, not here.
"""

from __future__ import annotations

import gettext
import os
from functools import cache
from pathlib import Path

DOMAIN = "fujian"


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
def _translation() -> gettext.NullTranslations:
    if language() != "zh":
        return gettext.NullTranslations()
    localedir = Path(__file__).parent / "locale"
    return gettext.translation(DOMAIN, localedir, languages=["zh_CN"], fallback=True)


def _(message: str) -> str:
    """Translate one user-facing message."""
    return _translation().gettext(message)
