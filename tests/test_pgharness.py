"""The test harness's PostgreSQL side (conftest and tools/pgcluster.py), without fujian's own
PostgreSQL support: the throw-away server starts, answers and stops; it collates and keeps time
unlike SQLite (so a suite that passes on it proves fujian does not lean on either); every test
gets an empty database of its own; the backend markers skip what they say."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import PG_ENV, ROOT, fresh_pg_database, is_url, libpq_url, load_pgcluster, table_dump

# The ICU zh-Hans-CN order; SQLite's binary order is Ab a-b a_c aa ab.
ICU_ORDER = ["a_c", "a-b", "aa", "ab", "Ab"]
TOOL = ROOT / "tools" / "pgcluster.py"


def ordered(admin_url: str) -> list[str]:
    import psycopg

    with psycopg.connect(libpq_url(admin_url)) as con:
        return [r[0] for r in con.execute(
            "SELECT x FROM unnest(%s::text[]) AS x ORDER BY x", (sorted(ICU_ORDER),))]


def setting(url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(libpq_url(url)) as con:
        return con.execute(f"SHOW {name}").fetchone()[0]


def answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(libpq_url(url), connect_timeout=3) as con:
            return con.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


@pytest.mark.postgres_only
def test_the_cluster_script_starts_answers_and_stops():
    try:
        load_pgcluster().bindir()
    except load_pgcluster().ClusterError as e:
        pytest.skip(str(e))
    base = Path(tempfile.mkdtemp(prefix="fujian-pgtool-"))
    base.chmod(0o755)  # the server runs as user postgres when we are root
    folder = base / "pg"
    try:
        r = subprocess.run([sys.executable, str(TOOL), "start", str(folder)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        url = r.stdout.strip()
        assert r.stdout == url + "\n"  # only the URL: CI reads it with $(...)
        assert url.startswith("postgresql://postgres@127.0.0.1:") and url.endswith("/postgres")
        assert (folder / "url").read_text().strip() == url
        assert answers(url)
        assert ordered(url) == ICU_ORDER and setting(url, "TimeZone") == "Asia/Shanghai"
        assert setting(url, "max_connections") == "200" and setting(url, "fsync") == "off"
        for _ in range(2):  # stopping a stopped server is no error
            r = subprocess.run([sys.executable, str(TOOL), "stop", str(folder)],
                               capture_output=True, text=True, timeout=120)
            assert r.returncode == 0 and r.stdout == "", r.stderr
        assert not answers(url)
    finally:
        load_pgcluster().stop(folder)
        subprocess.run(["rm", "-rf", str(base)], check=False)


@pytest.mark.postgres_only
def test_a_killed_private_server_comes_back_on_its_url(pgcluster):
    import psycopg

    con = psycopg.connect(libpq_url(pgcluster.url))
    con.execute("SELECT 1")
    pgcluster.kill()
    with pytest.raises(psycopg.OperationalError):
        con.execute("SELECT 1")  # the kill breaks open connections at once
    assert not answers(pgcluster.url)
    url = pgcluster.url
    assert pgcluster.restart() == url
    assert answers(url)
    assert pgcluster.location("x") == url.replace("postgresql:", "postgresql+psycopg:", 1)[:-8] + "x"


@pytest.mark.postgres_only
def test_the_suite_server_collates_and_keeps_time_unlike_sqlite(admin_pg):
    """If this fails, FUJIAN_TEST_PG points at a server made otherwise than tools/pgcluster.py
    makes it, and a green suite there proves less."""
    assert ordered(admin_pg) == ICU_ORDER
    assert setting(admin_pg, "TimeZone") == "Asia/Shanghai"


@pytest.mark.postgres_only
def test_each_test_gets_a_fresh_empty_database(db_path):
    assert is_url(db_path) and db_path.startswith("postgresql+psycopg://")
    assert os.environ["FUJIAN_DB"] == db_path
    assert table_dump(db_path) == []
    with fresh_pg_database() as other:
        assert other != db_path and table_dump(other) == []
        import psycopg

        with psycopg.connect(libpq_url(other)) as con:
            con.execute("CREATE TABLE t (k text PRIMARY KEY, v json)")
            con.execute("INSERT INTO t VALUES ('ab', '{}'), ('Ab', '[]'), ('a_c', null)")
        assert table_dump(other) == [("t", [("a_c", None), ("ab", {}), ("Ab", [])])]
    with fresh_pg_database():
        pass
    assert not answers(other)  # dropped when the next database is retired


def test_sqlite_keeps_its_path(backend, db_path, tmp_path):
    if backend == "postgresql":
        assert is_url(db_path)
    else:
        assert db_path == tmp_path / "fujian.db" and os.environ["FUJIAN_DB"] == str(db_path)


@pytest.mark.sqlite_only("probe for the next test")
def test_sqlite_only_probe(backend):
    assert backend == "sqlite"


def test_sqlite_only_is_skipped_in_a_postgresql_run(request, backend):
    probe = [i for i in request.session.items if i.name == "test_sqlite_only_probe"]
    if not probe:
        pytest.skip("the probe is not among the selected tests")
    skips = [m.kwargs.get("reason", "") for m in probe[0].iter_markers("skip")]
    if backend == "postgresql":
        assert skips == ["SQLite only: probe for the next test"]
    else:
        assert skips == []


@pytest.mark.postgres_only
def test_postgres_only_runs_on_postgresql_whatever_the_backend(db_path):
    assert is_url(db_path)


def test_postgresql_run_without_a_server_is_a_usage_error():
    env = {k: v for k, v in os.environ.items() if k != PG_ENV}
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--backend",
                        "postgresql", "--collect-only", "-q", str(Path(__file__))],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == pytest.ExitCode.USAGE_ERROR, r.stdout + r.stderr
    assert f"--backend postgresql needs {PG_ENV}" in r.stderr
