"""Shared fixtures. An autouse fixture points FUJIAN_DB (and the calendar override, the user
name and "today") at a temporary database, so no test can touch a real one.

Two backends run the same suite:

    pytest                                             # SQLite: a file in the test's tmp_path
    FUJIAN_TEST_PG=postgresql://postgres@127.0.0.1:PORT/postgres pytest --backend postgresql

FUJIAN_TEST_PG is an admin URL (a superuser's, on the `postgres` database). A throw-away server
for it: `python tools/pgcluster.py start /tmp/pg` (prints the URL; `... stop /tmp/pg`). In a
postgresql run every test gets a fresh, empty database `fujian_t_<session>_<n>`, copied from an
empty per-session template and dropped WITH (FORCE) after the test (one test later); `db_path`
and FUJIAN_DB are then its URL, `postgresql+psycopg://postgres@127.0.0.1:PORT/fujian_t_...`.
Names carry a random per-session token, so pytest-xdist workers and two runs on one server never
collide. The run's last line says what the databases cost (about 20 ms a test).

The pieces, for tests:

- `db_path`: the test's database location: a Path (SQLite) or a URL string (PostgreSQL).
  `store`, `tracker`, `initialised`, `snapshot`/`table_dump` take either.
- `backend` (session): "sqlite" or "postgresql", the --backend chosen.
- `@pytest.mark.sqlite_only(reason)`: the test is about SQLite files by nature (file modes, WAL,
  damaged files...); skipped in a postgresql run, with the reason (`pytest -ra` lists it).
- `@pytest.mark.postgres_only`: runs whenever FUJIAN_TEST_PG is set, whatever --backend (so also
  in a SQLite run that has it), and then always on PostgreSQL: its `db_path`/FUJIAN_DB is a fresh
  database on that server; skipped when FUJIAN_TEST_PG is unset.
- `admin_pg` (session): the admin URL; `fresh_pg_database()`: a context manager giving the URL of
  one more fresh, empty database (e.g. a `copy` target), dropped after the block. Both skip
  without FUJIAN_TEST_PG.
- `pgcluster` (session, for postgres_only tests): a separate private server started with
  tools/pgcluster.py, for tests that kill it (`.kill()`, `.restart()`); stopped at the end.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from fujian.cli import app
from fujian.service import Tracker
from fujian.storage import Store

TODAY = date(2025, 3, 10)
ROOT = Path(__file__).resolve().parent.parent
PG_ENV = "FUJIAN_TEST_PG"
BACKENDS = ("sqlite", "postgresql")


# -- backends ------------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=BACKENDS, default="sqlite",
                     help=f"the database the suite runs on: sqlite (default) or postgresql "
                          f"(then {PG_ENV} must be an admin URL)")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("COLUMNS", "200")
    if config.getoption("backend") == "postgresql" and not os.environ.get(PG_ENV):
        raise pytest.UsageError(
            f"--backend postgresql needs {PG_ENV}, the admin URL of a PostgreSQL server, e.g.\n"
            f"  {PG_ENV}=postgresql://postgres@127.0.0.1:5432/postgres pytest --backend postgresql\n"
            "A throw-away server: python tools/pgcluster.py start /tmp/pg (prints that URL).")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = config.getoption("backend") == "postgresql"
    have_server = bool(os.environ.get(PG_ENV))
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None and on_postgres:
            reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else
                                                     "about SQLite files")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))
        if item.get_closest_marker("postgres_only") is not None and not have_server:
            item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {PG_ENV} is not set"))


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return request.config.getoption("backend")


def _backend_of(request: pytest.FixtureRequest) -> str:
    """The backend of one test: a postgres_only test is on PostgreSQL even in a SQLite run."""
    if request.node.get_closest_marker("postgres_only") is not None:
        return "postgresql"
    return request.config.getoption("backend")


def is_url(location: Path | str) -> bool:
    return isinstance(location, str) and "://" in location


def location_text(location) -> Path | str:
    """A test's location as the helpers here take it: a Path, or a full URL (a store's
    ServerAddress prints without its password and driver, so take its URL)."""
    url = getattr(location, "url", None)
    return url.render_as_string(hide_password=False) if url is not None else location


def libpq_url(url: str) -> str:
    """The URL as libpq (psycopg.connect) takes it: without SQLAlchemy's `+driver`."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgAdmin:
    """One autocommit admin connection for the session (per xdist worker): makes and drops the
    per-test databases and times them."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self.conn = psycopg.connect(libpq_url(url), autocommit=True)
        # Random per session: xdist workers and concurrent runs on one server never share a name.
        token = uuid.uuid4().hex[:8]
        self.prefix = f"fujian_t_{token}_"
        self.template = f"fujian_template_{token}"
        self.counter = itertools.count(1)
        self.creating: list[float] = []  # seconds, for the summary line
        self.dropping: list[float] = []
        self.retired: list[str] = []
        self.templates: list[str] = []  # filled server templates (clone_into), dropped at the end
        # PostgreSQL 15's default, WAL_LOG, writes the whole template (7.5 MB of catalogs) to the
        # WAL and through shared buffers; FILE_COPY copies the files, and its checkpoints are cheap
        # without fsync. Measured on tools/pgcluster.py's server, a test at a time: 17 ms to create
        # and 4 to drop, instead of 75 and 11.
        self.strategy = " STRATEGY FILE_COPY" if self.conn.info.server_version >= 150000 else ""
        # Empty, like template1 today; the one place to put a prepared schema in if per-test
        # migrations ever cost too much.
        self.conn.execute(f'CREATE DATABASE "{self.template}"')

    def location(self, name: str) -> str:
        """fujian's URL for database `name` on this server."""
        from sqlalchemy.engine import make_url

        return (make_url(self.url).set(drivername="postgresql+psycopg", database=name)
                .render_as_string(hide_password=False))

    @contextmanager
    def fresh(self) -> Iterator[str]:
        """A new empty database for the block; yields its URL. It is dropped when the next one
        ends (or at the end of the session), see _retire."""
        name = f"{self.prefix}{next(self.counter)}"
        began = time.perf_counter()
        self.conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"{self.strategy}')
        self.creating.append(time.perf_counter() - began)
        try:
            yield self.location(name)
        finally:
            self.dropping.append(self._retire(name))

    def _retire(self, name: str) -> float:
        """Drops the databases retired earlier and keeps `name` for next time; returns the time it
        took. Not at once: the backend of a connection the test has just closed is still exiting,
        and DROP DATABASE then sleeps 100 ms for it (measured: 100 ms a test at once, 14 later)."""
        began = time.perf_counter()
        self._drop_retired()
        self.retired.append(name)
        return time.perf_counter() - began

    def _drop_retired(self) -> None:
        while self.retired:
            # FORCE: a connection the test left open (an engine not disposed) must not keep it.
            self.conn.execute(f'DROP DATABASE IF EXISTS "{self.retired[0]}" WITH (FORCE)')
            self.retired.pop(0)

    def close(self) -> None:
        try:
            self._drop_retired()
            for name in [*self.templates, self.template]:
                self.conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            self.conn.close()


_pg_admin: PgAdmin | None = None


def pg_admin() -> PgAdmin:
    """The session's PgAdmin (made on first use); skips the test when FUJIAN_TEST_PG is unset."""
    global _pg_admin
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"needs a PostgreSQL server: {PG_ENV} is not set")
    if _pg_admin is None:
        _pg_admin = PgAdmin(url)
    return _pg_admin


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """The URL of one more fresh, empty database (e.g. a `copy` target); dropped after the block
    (when the next such block ends, or at the end of the session)."""
    with pg_admin().fresh() as url:
        yield url


@pytest.fixture(scope="session")
def admin_pg() -> str:
    """The admin URL of the suite's PostgreSQL server (FUJIAN_TEST_PG)."""
    return pg_admin().url


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _pg_admin is not None:
        _pg_admin.close()


def pytest_terminal_summary(terminalreporter) -> None:
    admin = _pg_admin
    if admin is not None and admin.creating:
        n, made, dropped = len(admin.creating), sum(admin.creating), sum(admin.dropping)
        terminalreporter.write_line(
            f"PostgreSQL: {n} fresh databases, {made / n * 1000:.0f} ms to create and "
            f"{dropped / max(len(admin.dropping), 1) * 1000:.0f} ms to drop each on average "
            f"({made + dropped:.1f} s in all)")


def load_pgcluster() -> ModuleType:
    """tools/pgcluster.py as a module (tools/ is not a package)."""
    if "pgcluster" not in sys.modules:
        spec = importlib.util.spec_from_file_location("pgcluster", ROOT / "tools" / "pgcluster.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["pgcluster"] = module
        spec.loader.exec_module(module)
    return sys.modules["pgcluster"]


@dataclass
class PrivateCluster:
    """A server of the test session's own, which tests may kill and restart."""

    folder: Path
    url: str  # admin URL, libpq form

    def location(self, database: str = "postgres") -> str:
        """fujian's URL for a database on this server."""
        from sqlalchemy.engine import make_url

        return (make_url(self.url).set(drivername="postgresql+psycopg", database=database)
                .render_as_string(hide_password=False))

    def kill(self) -> None:
        """SIGKILL the server (postmaster and backends): connections break at once."""
        load_pgcluster().kill(self.folder)

    def restart(self) -> str:
        """Start it again, on the same port (so URLs stay valid); returns the admin URL."""
        self.url = load_pgcluster().restart(self.folder)
        return self.url

    def stop(self) -> None:
        load_pgcluster().stop(self.folder)


@pytest.fixture(scope="session")
def pgcluster() -> Iterator[PrivateCluster]:
    """A separate PostgreSQL server for tests that must kill it; for postgres_only tests."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"PostgreSQL only: {PG_ENV} is not set")
    tool = load_pgcluster()
    try:
        tool.bindir()
    except tool.ClusterError as e:
        pytest.skip(str(e))
    # Not under tmp_path: pytest makes its base folder private, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="fujian-pgcluster-"))
    base.chmod(0o755)
    folder = base / "pg"
    try:
        yield PrivateCluster(folder, tool.start(folder))
    finally:
        try:
            tool.stop(folder)
        finally:
            shutil.rmtree(base, ignore_errors=True)


# -- the test's database ------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _isolated(db_path: Path | str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FUJIAN_DB", str(db_path))
    monkeypatch.delenv("FUJIAN_CALENDAR", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no user calendar file
    # Where a server database's pre-upgrade backups go (the user's data folder).
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("FUJIAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("FUJIAN_USER", "tester")
    monkeypatch.setenv("FUJIAN_TODAY", TODAY.isoformat())
    monkeypatch.setenv("FUJIAN_LANG", "en")
    monkeypatch.delenv("FUJIAN_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """The test's database location: tmp_path/fujian.db, or the URL of a fresh empty database."""
    if _backend_of(request) == "sqlite":
        yield tmp_path / "fujian.db"
        return
    with fresh_pg_database() as url:
        yield url


@pytest.fixture
def store(db_path: Path | str) -> Iterator[Store]:
    s = Store(db_path)
    yield s
    s.dispose()


@pytest.fixture
def tracker(store: Store) -> Tracker:
    t = Tracker(store, TODAY, actor="tester")
    t.load_default_units()
    return t


@pytest.fixture
def make_item(tracker: Tracker) -> Callable[..., str]:
    """Factory: make_item("referral", title=...) with sensible defaults per kind; returns the ID."""
    defaults = {
        "referral": {"direction": "to-criminal", "from_unit": "scjgj", "unit": "gaj",
                     "title": "某公司销售假药案"},
        "suggestion": {"type": "correction", "unit": "rsj", "title": "纠正违规发放"},
        "clue": {"from_unit": "sthjj", "field": "ecology", "title": "非法采砂线索"},
        "meeting": {"title": "联席会议", "type": "plenary"},
        "action": {"unit": "scjgj", "title": "专项检查", "due_on": "2025-04-30"},
        "assist": {"type": "retrieve", "unit": "zjj", "title": "调取审批材料"},
    }

    def make(kind: str, **values) -> str:
        merged = {**defaults[kind], **values}
        if kind == "action" and "meeting" not in merged:
            merged["meeting"] = tracker.add("meeting", defaults["meeting"]).ident
        return tracker.add(kind, merged).ident

    return make


class Cli:
    """Runs the app in-process, as a script would (stdout is not a terminal)."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(app, list(args), input=input, catch_exceptions=False)

    def json(self, *args: str):
        result = self(*args, "--format", "json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


@pytest.fixture(scope="session")
def init_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database exactly as `fujian init` makes it, made once a session by `fujian init`
    itself (the tests of init run it each time): `initialised` copies it, which on PostgreSQL
    is a tenth of the time of running the migrations for every test."""
    folder = tmp_path_factory.mktemp("init-template")
    path = folder / "fujian.db"
    with pytest.MonkeyPatch.context() as mp:
        for name in ("FUJIAN_CALENDAR", "FUJIAN_DEBUG"):
            mp.delenv(name, raising=False)
        mp.setenv("XDG_CONFIG_HOME", str(folder / "config"))
        mp.setenv("XDG_DATA_HOME", str(folder / "data"))
        mp.setenv("FUJIAN_CACHE_DIR", str(folder / "cache"))
        mp.setenv("FUJIAN_USER", "tester")
        mp.setenv("FUJIAN_TODAY", TODAY.isoformat())
        mp.setenv("FUJIAN_LANG", "en")
        result = Cli()("--db", str(path), "init")
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def initialised(db_path: Path | str, init_template: Path) -> Path | str:
    """The test's database after `fujian init` (a copy of one init made)."""
    clone_into(init_template, db_path)
    return db_path


def query_rows(location: Path | str, sql: str, params: dict | None = None) -> list[dict]:
    """Rows of one SQL query (portable SQL, named :params) on a file or a server database, as
    dicts: for tests that look at what was stored."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    location = location_text(location)
    url = location if is_url(location) else f"sqlite:///{location}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [dict(r._mapping) for r in connection.execute(text(sql), params or {})]
    finally:
        engine.dispose()


def run_sql(location: Path | str, *statements: str) -> None:
    """Change stored rows behind fujian's back (what an older version or another program
    left), on a file or a server database, in one transaction."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    location = location_text(location)
    url = location if is_url(location) else f"sqlite:///{location}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


_pg_templates: dict[str, str] = {}


def clone_into(template: Path, location: Path | str) -> None:
    """Put a copy of the SQLite database ``template`` at the test's (empty) location: a file
    copy on SQLite; on PostgreSQL the test's database is made again from a server template
    filled once per template file (``fujian copy``'s own code fills it)."""
    from fujian.storage import backup_to

    if not is_url(location):
        backup_to(template, Path(location))
        return
    from sqlalchemy.engine import make_url

    from fujian.storage.copying import copy_database

    admin = pg_admin()
    key = str(template)
    if key not in _pg_templates:
        name = f"{admin.prefix}tpl{len(_pg_templates) + 1}"
        admin.conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{admin.template}"'
                           f"{admin.strategy}")
        source = Store(template, create=False)
        try:
            copy_database(source, admin.location(name))
        finally:
            source.dispose()
        _pg_templates[key] = name
        admin.templates.append(name)
    database = make_url(str(location)).database
    admin.conn.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
    admin.conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{_pg_templates[key]}"'
                       f"{admin.strategy}")


def table_dump(location: Path | str) -> list:
    """Every row of every table, as [(table, rows)] with tables sorted by name: to prove that a
    failed command changed nothing. Takes a SQLite path or a PostgreSQL URL."""
    location = location_text(location)
    if is_url(location):
        return _pg_table_dump(str(location))
    con = sqlite3.connect(location)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return [(t, con.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall())
                for t in tables]
    finally:
        con.close()


def _pg_table_dump(url: str) -> list:
    """The PostgreSQL twin of table_dump: the tables of schema public, sorted by name in Python
    (code point order, as SQLite's), each row a tuple, ordered by the primary key (else by every
    column). Sequences are left out: a rolled-back insert still advances one."""
    import psycopg

    with psycopg.connect(libpq_url(url)) as con:
        tables = sorted(r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"))
        dump = []
        for t in tables:
            keys = [r[0] for r in con.execute(
                "SELECT k.column_name FROM information_schema.table_constraints c"
                " JOIN information_schema.key_column_usage k"
                " ON k.constraint_name = c.constraint_name AND k.table_schema = c.table_schema"
                " AND k.table_name = c.table_name"
                " WHERE c.table_schema = 'public' AND c.table_name = %s"
                " AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position", (t,))]
            if not keys:  # every column that can be ordered (json cannot)
                keys = [r[0] for r in con.execute(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND table_name = %s"
                    " AND data_type NOT IN ('json', 'xml') ORDER BY ordinal_position", (t,))]
            order = " ORDER BY " + ", ".join(f'"{k}"' for k in keys) if keys else ""
            rows = con.execute(f'SELECT * FROM "{t}"{order}').fetchall()
            dump.append((t, [tuple(row) for row in rows]))
        return dump


@pytest.fixture
def snapshot() -> Callable[[Path | str], list]:
    return table_dump


LATER = date(2025, 12, 31)


@pytest.fixture
def later(monkeypatch: pytest.MonkeyPatch) -> date:
    """For tests that record events after TODAY: the CLI's today moves to LATER (event dates
    may not lie in the future)."""
    monkeypatch.setenv("FUJIAN_TODAY", LATER.isoformat())
    return LATER
