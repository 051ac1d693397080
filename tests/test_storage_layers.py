"""Issue 20: the storage package answers for its backend. The service imports no backend
module, storage's own modules import each other in one order (no cycle, never the package),
``fujian.storage.diagnose`` reports on real SQLite files, healthy and damaged, and importing
``fujian.storage`` loads no PostgreSQL driver."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from fujian import storage
from fujian.migrations import HEAD
from fujian.storage import FAIL, OK, WARN, Check, ServerAddress, Store, diagnose
from fujian.storage.postgres import PostgresStore, ServerFacts
from fujian.storage.sqlite import SqliteStore

pytestmark = pytest.mark.sqlite_only("reads SQLite files and SQLite's SQL")

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fujian" / "storage"
BACKENDS = {"sqlite3", "psycopg", "fujian.storage.sqlite", "fujian.storage.postgres",
            "fujian.storage.copying", "fujian.storage.sqlite_health",
            "fujian.storage.postgres_health"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at its top or inside a function (``from a import b``
    counts ``a`` and ``a.b``: b may be a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["doctor", "search"])
def test_service_imports_no_backend(module):
    imports = imported_modules(ROOT / "fujian" / "service" / f"{module}.py")
    assert any(m.partition(".storage")[0] == "fujian" for m in imports)  # it does use storage
    assert not imports & BACKENDS, imports & BACKENDS


def test_storage_modules_import_in_one_order():
    graph = {}
    for path in PACKAGE.glob("*.py"):
        if path.name == "__init__.py":
            continue
        name = f"fujian.storage.{path.stem}"
        imports = imported_modules(path)
        assert "fujian.storage" not in imports, f"{name} imports the package's __init__"
        graph[name] = {m for m in imports if m.startswith("fujian.storage.") and m != name}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:  # pragma: no cover - the failure's message
        pytest.fail(f"storage modules import in a circle: {cycle.args[1]}")
    assert order.index("fujian.storage.location") < order.index("fujian.storage.base")
    assert order.index("fujian.storage.base") < order.index("fujian.storage.sqlite")


def test_importing_storage_loads_no_server_driver():
    code = ("import sys, fujian.storage; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_store_picks_its_backend_without_connecting(tmp_path):
    assert Store.backend_for(tmp_path / "a.db") is SqliteStore
    assert Store.backend_for("postgresql://someone@db.example/fujian") is PostgresStore
    assert isinstance(storage.as_location("postgres://h/db"), ServerAddress)


def test_position_is_spelled_per_dialect():
    from sqlalchemy import literal, select
    from sqlalchemy.dialects import postgresql, sqlite

    query = select(storage.position(literal("abc"), literal("b")))
    assert "instr(" in str(query.compile(dialect=sqlite.dialect()))
    assert "strpos(" in str(query.compile(dialect=postgresql.dialect()))


def test_driver_errors_are_told_from_others():
    import sqlite3

    assert storage.is_driver_error(sqlite3.OperationalError("database is locked"))
    assert not storage.is_driver_error(ValueError("x"))
    assert storage.storage_error_from(ValueError("x"), "f.db") is None


# -- diagnose on real files ------------------------------------------------------------------

def seen(conn) -> Check:
    """A data check that reads the database (as the service's do)."""
    count = conn.exec_driver_sql("SELECT count(*) FROM unit").scalar()
    return Check("units", OK, f"{count} units")


def fresh_database(path: Path) -> Path:
    Store(path, create=True).dispose()
    return path


def rows(diagnosis) -> dict[str, tuple[str, str]]:
    return {c.name: (c.status, c.detail) for c in diagnosis.checks}


def test_diagnose_a_healthy_file(tmp_path):
    path = fresh_database(tmp_path / "f.db")
    diagnosis = diagnose(path, (("units", seen),))
    names = [c.name for c in diagnosis.checks]
    assert names == ["file", "permissions", "header", "integrity", "schema", "references",
                     "journal", "units"]
    found = rows(diagnosis)
    assert all(status == OK for status, _ in found.values()), found
    assert found["schema"][1].startswith(f"schema {HEAD}")
    assert found["units"] == (OK, "0 units")
    assert diagnosis.writable
    engine = diagnosis.open_engine()
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD
    finally:
        engine.dispose()


def test_diagnose_damaged_pages(tmp_path):
    path = fresh_database(tmp_path / "f.db")
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for offset in range(page, len(data), 7):  # every page but the first: the header holds
        data[offset] = 0xA5
    path.write_bytes(bytes(data))
    diagnosis = diagnose(path, (("units", seen),))
    found = rows(diagnosis)
    assert found["header"][0] == OK
    assert found["integrity"][0] == FAIL
    assert "fujian restore BACKUP" in found["integrity"][1]
    assert diagnosis.open_engine() is None  # nothing else should read it


def test_diagnose_a_truncated_file(tmp_path):
    path = fresh_database(tmp_path / "f.db")
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    found = rows(diagnose(path, (("units", seen),)))
    assert found["header"][0] == FAIL and found["header"][1].startswith("truncated")


@pytest.mark.parametrize(("content", "file", "header"), [
    (b"", FAIL, WARN),
    (b"not a database, just some text" * 10, OK, FAIL),
])
def test_diagnose_what_is_not_a_database(tmp_path, content, file, header):
    path = tmp_path / "f.db"
    path.write_bytes(content)
    path.chmod(0o600)
    diagnosis = diagnose(path, (("units", seen),))
    found = rows(diagnosis)
    assert (found["file"][0], found["header"][0]) == (file, header)
    for name in ("integrity", "schema", "references", "journal", "units"):
        assert found[name][0] == WARN and found[name][1].startswith("not checked"), found[name]
    assert diagnosis.open_engine() is None


def test_diagnose_another_programs_file_skips_the_data_checks(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA journal_mode=wal")
        con.execute("CREATE TABLE notes (body TEXT)")
    con.close()
    found = rows(diagnose(path, (("units", seen),)))
    assert found["schema"] == (FAIL, "the tables of another program: not a fujian database; "
                                     "check the path")
    assert found["units"] == (WARN, "not checked: see the schema check")


# -- a server's rows, from its facts (no server needed) ---------------------------------------

ADDRESS = "postgresql://someone@db.example:5432/fujian"


def server_rows(monkeypatch, facts: ServerFacts) -> list[Check]:
    from fujian.storage import postgres_health

    monkeypatch.setattr(postgres_health, "server_facts", lambda address: facts)
    diagnosis = diagnose(ADDRESS, (("ids", seen), ("units", seen)))
    assert diagnosis.open_engine() is None
    return diagnosis.checks


def test_an_unreachable_server(monkeypatch):
    checks = server_rows(monkeypatch, ServerFacts(error="cannot reach db.example"))
    assert [(c.name, c.status) for c in checks] == [
        ("connection", FAIL), ("server", WARN), ("schema", WARN), ("sequences", WARN),
        ("time zone", WARN), ("encoding", WARN), ("text order", WARN), ("ids", WARN),
        ("units", WARN)]


def test_a_server_database_without_tables(monkeypatch):
    facts = ServerFacts(version="16.2", version_num=160002, timezone="UTC",
                        server_timezone="Asia/Shanghai", server_encoding="UTF8",
                        client_encoding="UTF8")
    checks = server_rows(monkeypatch, facts)
    assert [(c.name, c.status) for c in checks] == [
        ("connection", OK), ("server", OK), ("schema", FAIL), ("sequences", OK),
        ("time zone", OK), ("encoding", OK), ("text order", WARN), ("ids", WARN),
        ("units", WARN)]
    assert checks[0].detail.startswith("db.example:5432/fujian, connected in")
