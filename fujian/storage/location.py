"""Where a database is: an SQLite file's path, or a PostgreSQL server's address
(:class:`ServerAddress`), from what a person typed (``--db``, ``FUJIAN_DB``) or the default.

The first module of :mod:`fujian.storage`: it imports none of the others.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fujian.errors import BadInput
from fujian.i18n import _

DRIVER = "postgresql+psycopg"  # SQLAlchemy's name for PostgreSQL through psycopg 3

# A PostgreSQL URL, in any of the spellings people copy from their tools; anything else names
# an SQLite file.
URL_PREFIXES = ("postgresql://", "postgresql+psycopg://", "postgres://")


# What is neither a file nor our URL, and must not be read as a file name: another scheme
# (two letters or more, so a Windows drive C:/ is a path) or a libpq key=value string.
_OTHER_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):/")
_KEY_VALUE = re.compile(r"\s*(host|hostaddr|dbname|user|password|port|service)\s*=",
                        re.IGNORECASE)


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(URL_PREFIXES)


def as_location(value: Any):
    """A database location from a user's text or a path: a :class:`ServerAddress` for a
    PostgreSQL URL, else a :class:`Path` to an SQLite file."""
    if isinstance(value, ServerAddress | Path):
        return value
    text = os.fspath(value)
    if is_url(text):
        return ServerAddress.parse(text)
    scheme = _OTHER_SCHEME.match(text.strip())
    if scheme or _KEY_VALUE.match(text):
        # Never a file name: a misspelled or foreign URL (postgress://, mysql://), or a libpq
        # key=value string. Read as a path it would be echoed, password and all.
        raise BadInput(_("{what} is not a database fujian can open: give a file, or a URL "
                         "postgresql://user@host:port/database.").format(
                             what=f"{scheme.group(1)}://…" if scheme else "host=…"))
    return Path(text).expanduser()


def default_db_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("fujian", appauthor=False)) / "fujian.db"


def resolve_location(option: str | None):
    """``--db`` first, then ``FUJIAN_DB``, then the user's data directory: a file path or a
    PostgreSQL URL.

    An empty value is refused, never read as "the default": a cron line whose variable is
    unset (``--db "$DB"``) must not report on another database."""
    if option is not None:
        if not option.strip():
            raise BadInput(_("--db is empty: give the database file, or leave the option out "
                             "to use $FUJIAN_DB or the default."))
        return as_location(option)
    env = os.environ.get("FUJIAN_DB")
    if env is not None:
        if not env.strip():
            raise BadInput(_("FUJIAN_DB is set but empty: give the database file, or unset it "
                             "to use the default."))
        return as_location(env)
    return default_db_path()


resolve_db_path = resolve_location  # the name earlier versions (and their tests) used


def backups_folder() -> Path:
    """Where backups of a server database go when fujian makes them itself (before an
    upgrade): the user's data folder, as private as the default database's."""
    folder = default_db_path().parent / "backups"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


# The authority of a URL whose user name or password holds an unencoded @: the user
# information runs to the LAST @ before the first / (a host never holds an @).
_AUTHORITY = re.compile(r"(?P<userinfo>[^/?#]*)@(?P<rest>[^@/?#]*(?:[/?#].*)?)", re.DOTALL)


def _parse_url(rest: str, make_url):
    """SQLAlchemy's URL for the text after ``scheme://``. Its parser (as libpq's) ends the
    user information at the first @, reading ``user:pa@ss@host`` as the host ``ss@host``
    that no server has, and printing part of the password with it; the password meant
    runs to the last @ before the host, so that is where it is read to."""
    from urllib.parse import unquote

    found = _AUTHORITY.fullmatch(rest)
    if found is None or "@" not in found["userinfo"]:
        return make_url(f"{DRIVER}://{rest}")
    user, colon, password = found["userinfo"].partition(":")
    url = make_url(f"{DRIVER}://{found['rest']}")
    return url.set(username=unquote(user), password=unquote(password) if colon else None)


@dataclass(frozen=True)
class ServerAddress:
    """A PostgreSQL database named by a URL. ``str()`` is safe to print: it never shows the
    password (which may also come from ``PGPASSWORD`` or ``~/.pgpass``, as with libpq)."""

    url: Any  # sqlalchemy.engine.URL, with the psycopg driver

    @classmethod
    def parse(cls, text: str) -> ServerAddress:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        text = text.strip()
        scheme, sep, rest = text.partition("://")
        try:
            url = _parse_url(rest, make_url)
        except (ArgumentError, ValueError) as exc:
            raise BadInput(_("{url} is not a valid PostgreSQL URL (postgresql://user@host:port/"
                             "database).").format(url=f"{scheme}{sep}…")) from exc
        address = cls(url)
        if "@" in (url.host or ""):
            # An @ the split above could not place (a / before it): never a host, and what
            # precedes it is part of the user name or the password. Shown in no message.
            raise BadInput(_("{url} is not a valid PostgreSQL URL: write an @ or / in the user "
                             "name or password as %40 or %2F.").format(url=f"{scheme}{sep}…"))
        if not url.database:
            raise BadInput(_("{url} names no database: add it after the server, as in "
                             "postgresql://user@host:5432/fujian.").format(url=address))
        return address

    @property
    def host(self) -> str:
        host = self.url.host or self.url.query.get("host") or "localhost"
        return host if isinstance(host, str) else ",".join(host)

    @property
    def database(self) -> str:
        return self.url.database or ""

    @property
    def server(self) -> str:
        """host:port/database, for messages."""
        port = f":{self.url.port}" if self.url.port else ""
        return f"{self.host}{port}/{self.database}"

    def __str__(self) -> str:
        # URL.set(password=None) means "leave it": _replace really drops it.
        return self.url._replace(drivername="postgresql", password=None).render_as_string(
            hide_password=True)

    def __fspath__(self) -> str:  # so os.fspath() and Path-minded helpers refuse it loudly
        raise TypeError(f"{self} is a server, not a file")
