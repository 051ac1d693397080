"""What ``fujian doctor`` reports about a server database: connection, server version, schema,
ID sequences, connection time zone, encoding, text order, then the caller's data checks.
Reads only."""

from __future__ import annotations

from fujian.i18n import _
from fujian.migrations import HEAD, REVISIONS
from fujian.storage.base import FUJIAN_TABLES
from fujian.storage.health import (
    FAIL,
    OK,
    WARN,
    Check,
    DataChecks,
    Diagnosis,
    not_checked,
)
from fujian.storage.location import ServerAddress
from fujian.storage.postgres import MINIMUM_SERVER, ServerFacts, make_engine, server_facts

SERVER_CHECKS = ("server", "schema", "sequences", "time zone", "encoding", "text order")


def diagnose(address: ServerAddress, data_checks: DataChecks) -> Diagnosis:
    """Every check of the server database at ``address``, then ``data_checks`` on it when it
    is a fujian database of this fujian's schema."""
    checks: list[Check] = []
    fujian = _server_checks(address, data_checks, checks)
    return Diagnosis(checks, lambda: _reading_engine(address) if fujian else None, True)


def _reading_engine(address: ServerAddress):
    """An engine for the doctor's few reads: no pool to keep."""
    from sqlalchemy.pool import NullPool  # deferred: SQLAlchemy only once a server is checked

    return make_engine(address, poolclass=NullPool)


def _server_checks(address: ServerAddress, data_checks: DataChecks,
                   checks: list[Check]) -> bool:
    """Appends the rows; returns whether it is a fujian database of this fujian's schema."""
    facts = server_facts(address)
    data_names = [name for name, _check in data_checks]
    if facts.error:
        checks.append(Check("connection", FAIL, facts.error))
        checks.extend(not_checked((*SERVER_CHECKS, *data_names),
                                  _("not checked: see the connection check")))
        return False
    checks.append(Check("connection", OK, _("{server}, connected in {ms} ms").format(
        server=address.server, ms=round(facts.connect_ms))))
    old = facts.version_num < MINIMUM_SERVER
    checks.append(Check("server", WARN if old else OK, _("PostgreSQL {version}").format(
        version=facts.version) + (_(": older than 12, not tested with fujian") if old else "")))
    checks.append(_schema_check(facts))
    fujian = facts.revision == HEAD and facts.tables >= FUJIAN_TABLES
    checks.append(_sequences_check(facts))
    checks.append(_time_zone_check(facts))
    checks.append(_encoding_check(facts))
    if not fujian:
        checks.extend(not_checked(("text order", *data_names),
                                  _("not checked: see the schema check")))
        return False
    checks.append(_text_order_check(facts))
    engine = _reading_engine(address)
    try:
        with engine.connect() as conn:
            checks.extend(check(conn) for _name, check in data_checks)
    finally:
        engine.dispose()
    return True


def _schema_check(facts: ServerFacts) -> Check:
    """Whose tables these are, and at which revision."""
    if not facts.tables:
        return Check("schema", FAIL, _("no tables: run `fujian init` (a new database) "
                                       "or `fujian copy --to` (from an existing one)"))
    if not facts.tables >= FUJIAN_TABLES:
        return Check("schema", FAIL, _("the tables of another program: not a fujian "
                                       "database; check the URL"))
    if facts.revision == HEAD:
        return Check("schema", OK, _("schema {version} (this fujian: {head})").format(
            version=facts.revision, head=HEAD))
    if facts.revision in REVISIONS:
        return Check("schema", WARN, _(
            "schema {version} (this fujian: {head}): upgraded on next use, after a backup in "
            "your data folder").format(version=facts.revision, head=HEAD))
    return Check("schema", FAIL, _(
        "schema {version} (this fujian: {head}): made by a newer fujian; upgrade fujian")
        .format(version=facts.revision, head=HEAD))


def _sequences_check(facts: ServerFacts) -> Check:
    """A sequence behind its table's ids would hand out an id already taken."""
    if facts.sequences_behind:
        return Check("sequences", FAIL, _(
            "id sequences behind their tables: {tables}; the next insert would collide. "
            "`fujian copy` and `fujian restore` set them; ask the administrator to run setval")
            .format(tables=", ".join(facts.sequences_behind)))
    return Check("sequences", OK, _("{n} id sequences past their tables' ids")
                 .format(n=facts.sequences))


def _time_zone_check(facts: ServerFacts) -> Check:
    """fujian's connections must read and write instants in UTC."""
    zone_ok = facts.timezone.upper() in ("UTC", "ETC/UTC")
    return Check("time zone", OK if zone_ok else FAIL, _(
        "fujian's connections use {zone} (the server's default is {server}); times are stored "
        "in UTC").format(zone=facts.timezone, server=facts.server_timezone))


def _encoding_check(facts: ServerFacts) -> Check:
    """Chinese text needs UTF8 on the server and on the connection."""
    encoding_ok = facts.server_encoding.upper() == "UTF8" and \
        facts.client_encoding.upper() == "UTF8"
    return Check("encoding", OK if encoding_ok else FAIL, _(
        "server {server}, connection {client}").format(server=facts.server_encoding,
                                                       client=facts.client_encoding)
        + ("" if encoding_ok else _(": Chinese text needs UTF8; create the database with "
                                    "ENCODING 'UTF8'")))


def _text_order_check(facts: ServerFacts) -> Check:
    """Text columns should sort by code point (collation C), as SQLite does."""
    if facts.not_binary:
        return Check("text order", WARN, _(
            "{n} text columns sort by the server's collation, not by code point as SQLite "
            "does: {columns}").format(n=len(facts.not_binary),
                                      columns=", ".join(facts.not_binary[:5])))
    return Check("text order", OK, _("every text column sorts by code point "
                                     "(collation C), as in SQLite"))
