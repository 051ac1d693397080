"""A shared PostgreSQL server (issue 14): each problem the trial found is a test here, run
against a real server (FUJIAN_TEST_PG; `.ci/run` starts one). Tests that hold on both backends
(NUL, text order) carry no marker and run in both runs of the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import libpq_url
from test_reliability import READER, WRITER  # the same writer and reader scripts as on a file

ROOT = Path(__file__).resolve().parent.parent
postgres = pytest.mark.postgres_only


def _sql(url: str, statement: str, *params):
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as con:
        cursor = con.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


def _one(url: str, statement: str, *params):
    return _sql(url, statement, *params)[0][0]


def _env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUJIAN_")}
    env.update({"FUJIAN_DB": url, "FUJIAN_USER": "tester", "PYTHONPATH": str(ROOT),
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
                "XDG_DATA_HOME": str(tmp_path / "data"), "FUJIAN_LANG": "en"})
    env.update(extra)
    return env


def _fujian(env, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "fujian", *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def one_line(result, code: int, *words: str) -> str:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line and "Traceback" not in line, line
    for word in words:
        assert word in line, line
    return line


# -- 1. a URL wherever a path is accepted ------------------------------------------------------

@postgres
def test_a_url_opens_the_server_database(cli, db_path):
    assert cli("init").exit_code == 0
    assert cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
               "--title", "服务器上的案件").stdout.strip() == "R1"
    assert _one(db_path, "SELECT title FROM item") == "服务器上的案件"
    assert [r["id"] for r in cli.json("list")] == ["R1"]


@postgres
@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_every_spelling_of_the_url_is_the_server_and_no_password_is_shown(cli, db_path,
                                                                          scheme, monkeypatch):
    from sqlalchemy.engine import make_url

    url = make_url(db_path)
    secret = url._replace(drivername=scheme, password="s3cret-pw").render_as_string(
        hide_password=False)
    monkeypatch.setenv("PGPASSWORD", "ignored-when-trust")
    result = cli("--db", secret, "db-path")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"postgresql://postgres@{url.host}:{url.port}/{url.database}"
    assert "s3cret" not in result.output
    for args in (["init"], ["list"], ["doctor"]):
        result = cli("--db", secret, *args)
        assert "s3cret" not in result.output, args
    assert result.exit_code == 0, result.output


@postgres
def test_an_unreachable_server_is_exit_3_naming_host_and_database_never_the_password(cli):
    for url, words in (
            ("postgresql://fujian:s3cret@127.0.0.1:1/district", ("127.0.0.1:1/district",
                                                                 "running")),
            ("postgresql://fujian:s3cret@no-such-host.invalid/district",
             ("no-such-host.invalid", "host name")),
    ):
        line = one_line(cli("--db", url, "list"), 3, *words)
        assert "s3cret" not in line


@postgres
def test_a_missing_database_and_a_refused_login_are_exit_3(cli, db_path):
    from sqlalchemy.engine import make_url

    url = make_url(db_path)
    missing = url._replace(database="fujian_no_such_db").render_as_string(hide_password=False)
    one_line(cli("--db", missing, "list"), 3, "fujian_no_such_db", "does not exist")
    if not _sql(db_path, "SELECT 1 FROM pg_roles WHERE rolname = 'fujian_login_test'"):
        _sql(db_path, "CREATE ROLE fujian_login_test")
    # Trust authentication lets any password in, so a role that may not log in stands for a
    # refused login here: the server answers 28000 as it does for a wrong password.
    _sql(db_path, "ALTER ROLE fujian_login_test NOLOGIN")
    refused = url._replace(username="fujian_login_test", password="wrong").render_as_string(
        hide_password=False)
    line = one_line(cli("--db", refused, "list"), 3, "refused the login", url.database)
    assert "wrong" not in line


def test_without_the_driver_a_url_names_the_extra(tmp_path):
    """Exit 3 and the install extra, not a traceback, when psycopg is not installed."""
    code = textwrap.dedent("""
        import sys
        sys.modules["psycopg"] = None  # as if it were not installed
        from fujian.cli import main
        sys.argv = ["fujian", "--db", "postgresql://u@127.0.0.1:1/d", "list"]
        main()
    """)
    env = _env("", tmp_path)
    env.pop("FUJIAN_DB")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 3, r.stderr
    assert "fujian[postgres]" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1


# -- 2. same behaviour, same guarantees --------------------------------------------------------

@postgres
def test_history_times_are_utc_whatever_the_servers_time_zone(cli, db_path):
    """The trial saw history 8 hours off: a timestamp column on a server in Asia/Shanghai."""
    database = _one(db_path, "SELECT current_database()")
    _sql(db_path, f'ALTER DATABASE "{database}" SET TimeZone = \'Asia/Shanghai\'')
    assert cli("init").exit_code == 0
    before = datetime.now(UTC)
    cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "采砂")
    after = datetime.now(UTC)
    at = datetime.fromisoformat(cli.json("history", "C1")[0]["at"])
    assert before.replace(microsecond=0) <= at.astimezone(UTC) <= after
    # And what is stored is UTC (as SQLite stores it), read by a plain client in that zone.
    stored = _one(db_path, "SELECT at FROM change_log WHERE subject = 'C1'")
    assert abs((stored - before.replace(tzinfo=None)).total_seconds()) < 60


def test_units_sort_in_code_point_order_on_every_backend(cli, initialised):
    """SQLite orders text by code point; a server's ICU collation orders a_c a-b aa ab."""
    codes = ["a_c", "a-b", "aa", "ab"]
    for n, code in enumerate(codes):
        result = cli("unit", "add", code, "--name", f"测试单位{n}")
        assert result.exit_code == 0, result.output
    listed = [u["code"] for u in cli.json("unit", "list") if u["code"] in codes]
    assert listed == sorted(codes) == ["a-b", "a_c", "aa", "ab"]


def test_a_nul_character_is_refused_on_every_backend(cli, initialised, tmp_path, snapshot,
                                                     tracker):
    from fujian.errors import BadInput

    before = snapshot(initialised)
    src = tmp_path / "nul.csv"
    src.write_bytes("title,direction,from_unit,unit,opened_on\n"
                    "正常,to-criminal,scjgj,gaj,2025-03-01\n"
                    "坏\x00行,to-criminal,scjgj,gaj,2025-03-01\n".encode())
    one_line(cli("import", "csv", "--kind", "referral", str(src)), 2, "NUL", "line 3")
    units = tmp_path / "units.csv"
    units.write_bytes("code,name\nxx,单位\x00\n".encode())
    one_line(cli("unit", "import", str(units)), 2, "NUL")
    with pytest.raises(BadInput, match="NUL"):
        tracker.add("referral", {"direction": "to-criminal", "from_unit": "scjgj",
                                 "unit": "gaj", "title": "a\x00b"})
    assert snapshot(initialised) == before


@postgres
@pytest.mark.slow
def test_four_writers_a_reader_and_an_import_lose_nothing_on_the_server(db_path, tmp_path):
    """The trial's import racing with adds died on a unique violation of the item number:
    every write transaction now waits for the one write lock, as SQLite's do."""
    env = _env(db_path, tmp_path)
    assert _fujian(env, "init").returncode == 0
    rows = 300
    src = tmp_path / "import.csv"
    src.write_text("title,direction,from_unit,unit,opened_on\n" + "".join(
        f"导入{i},to-criminal,scjgj,gaj,2025-03-01\n" for i in range(rows)), encoding="utf-8")
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(stop)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, f"w{n}", "40"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for n in range(4)]
    time.sleep(1.0)
    imported = _fujian(env, "import", "csv", "--kind", "referral", str(src))
    outputs = [w.communicate(timeout=300) for w in writers]
    stop.touch()
    reader_out, reader_err = reader.communicate(timeout=120)
    assert imported.returncode == 0, imported.stderr
    for out, err in outputs:
        assert out.strip() == "0", err
    runs, failures = map(int, reader_out.split())
    assert failures == 0 and runs > 0, reader_err
    total = 4 * 40 + rows
    assert _one(db_path, "SELECT count(*) FROM item") == total
    assert _one(db_path, "SELECT count(DISTINCT number) FROM item") == total
    assert _one(db_path, "SELECT max(number) FROM item") == total
    titles = {r[0] for r in _sql(db_path, "SELECT title FROM item")}
    assert titles == {f"w{n}-{i}" for n in range(4) for i in range(40)} | {
        f"导入{i}" for i in range(rows)}


@postgres
def test_two_identical_unit_adds_at_once_give_already_exists_not_a_driver_error(db_path,
                                                                                tmp_path):
    env = _env(db_path, tmp_path)
    assert _fujian(env, "init").returncode == 0
    for attempt in range(3):
        code = f"dup{attempt}"
        procs = [subprocess.Popen([sys.executable, "-m", "fujian", "unit", "add", code,
                                   "--name", f"重复单位{attempt}"], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(2)]
        results = [p.communicate(timeout=60) + (p.returncode,) for p in procs]
        codes = sorted(r[2] for r in results)
        assert codes == [0, 2], results
        refused = next(r for r in results if r[2] == 2)
        assert "exists" in refused[1] and "Integrity" not in refused[1], refused
    assert _one(db_path, "SELECT count(*) FROM unit WHERE code LIKE 'dup%'") == 3


@postgres
@pytest.mark.slow
def test_a_server_killed_mid_import_leaves_none_or_all(pgcluster, tmp_path):
    import psycopg

    admin = pgcluster.url
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute("DROP DATABASE IF EXISTS crash WITH (FORCE)")
        con.execute("CREATE DATABASE crash")
    url = pgcluster.location("crash")
    env = _env(url, tmp_path)
    assert _fujian(env, "init").returncode == 0
    rows = 40000
    src = tmp_path / "big.csv"
    src.write_text("title,direction,from_unit,unit,opened_on\n" + "".join(
        f"案件{i},to-criminal,scjgj,gaj,2025-03-01\n" for i in range(rows)), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "fujian", "import", "csv", "--kind",
                             "referral", str(src)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    # Kill the server once the import's transaction is writing rows.
    deadline = time.monotonic() + 60
    writing = False
    while time.monotonic() < deadline and proc.poll() is None:
        with psycopg.connect(pgcluster.location("crash").replace("+psycopg", ""),
                             autocommit=True) as con:
            busy = con.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'crash' "
                               "AND state = 'active' AND pid <> pg_backend_pid() "
                               "AND (query ILIKE 'INSERT%' OR query ILIKE 'COPY%')").fetchone()[0]
        if busy:
            writing = True
            break
        time.sleep(0.002)
    assert writing, "the import ended before the server could be killed"
    pgcluster.kill()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    line = err.strip()
    assert "\n" not in line and "Traceback" not in line and "crash" in line, line
    pgcluster.restart()
    assert _one(url, "SELECT count(*) FROM item") in (0, rows)
    after = _fujian(env, "clue", "add", "--from", "sthjj", "--field", "ecology",
                    "--title", "after the crash")
    assert after.returncode == 0, after.stderr


# -- 3. moving and keeping the data ------------------------------------------------------------

@postgres
def test_sequences_follow_a_copy_so_the_next_insert_does_not_collide(cli, tmp_path, db_path):
    source = tmp_path / "office.db"
    assert cli("--db", str(source), "init").exit_code == 0
    for n in range(3):
        cli("--db", str(source), "clue", "add", "--from", "sthjj", "--field", "ecology",
            "--title", f"线索{n}")
    cli("--db", str(source), "note", "C1", "第一条备注")
    result = cli("--db", str(source), "copy", "--to", db_path)
    assert result.exit_code == 0, result.output
    # Every table with an id sequence takes a new row after the copy.
    assert cli("clue", "add", "--from", "sthjj", "--field", "ecology",
               "--title", "复制后").stdout.strip() == "C4"
    assert cli("note", "C4", "复制后的备注").exit_code == 0
    assert cli("unit", "add", "newunit", "--name", "新单位").exit_code == 0
    assert cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to",
               "gaj", "--title", "复制后的移送").stdout.strip() == "R1"
    ids = _sql(db_path, "SELECT id FROM item ORDER BY id")
    assert len(ids) == len(set(ids)) == 5


@postgres
def test_export_never_writes_over_the_database_and_pack_works_on_the_server(cli, initialised,
                                                                             tmp_path):
    cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "采砂")
    out = tmp_path / "all.csv"
    assert cli("export", "csv", "-o", str(out)).exit_code == 0
    assert "采砂" in out.read_text(encoding="utf-8-sig")
    assert cli("export", "pack", "-o", str(tmp_path / "pack.xlsx")).exit_code == 0


@postgres
def test_the_demo_fills_an_empty_server_database_and_refuses_a_used_one(cli, db_path):
    result = cli("demo", "--db", db_path)
    assert result.exit_code == 0, result.output
    assert _one(db_path, "SELECT count(*) FROM item") > 10
    one_line(cli("demo", "--db", db_path), 2, "already holds data")


# -- found by a new user's pass -----------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "postgress://fujian:s3cret-pw@127.0.0.1:5432/fujian",   # a misspelled scheme
    "psql://fujian:s3cret-pw@127.0.0.1/fujian",
    "postgresql:/fujian:s3cret-pw@127.0.0.1/fujian",         # one slash
    "host=127.0.0.1 dbname=fujian password=s3cret-pw",       # a libpq key=value string
])
def test_what_is_neither_a_file_nor_our_url_is_refused_without_echoing_a_password(cli, typed):
    for args in (["list"], ["init"], ["db-path"]):
        result = cli("--db", typed, *args)
        assert result.exit_code == 2, (args, result.output)
        assert "s3cret" not in result.output
        assert result.stderr.count("\n") == 1 and "postgresql://user@host" in result.stderr


def test_a_url_given_where_a_file_belongs_never_shows_its_password(cli, initialised):
    url = "postgresql://fujian:s3cret-pw@127.0.0.1:5432/fujian"
    for args in (["restore", url], ["backup", url], ["import", "csv", url],
                 ["export", "csv", "-o", url]):
        result = cli(*args)
        assert result.exit_code in (2, 3), (args, result.output)
        assert "s3cret" not in result.output, args


@postgres
@pytest.mark.parametrize("value", ["abc", "1.5", "0", "-3"])
def test_a_bad_connect_timeout_is_one_line_exit_2(cli, db_path, monkeypatch, value, tmp_path):
    monkeypatch.setenv("FUJIAN_CONNECT_TIMEOUT", value)
    one_line(cli("list"), 2, "FUJIAN_CONNECT_TIMEOUT")
    # A file database does not read it at all.
    assert cli("--db", str(tmp_path / "f.db"), "init").exit_code == 0


@postgres
def test_a_database_that_is_not_utf8_is_refused_with_what_to_do(cli, db_path):
    from sqlalchemy.engine import make_url

    _sql(db_path, "DROP DATABASE IF EXISTS fujian_ascii_test WITH (FORCE)")
    _sql(db_path, "CREATE DATABASE fujian_ascii_test ENCODING 'SQL_ASCII' TEMPLATE template0 "
                  "LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        ascii_url = make_url(db_path)._replace(database="fujian_ascii_test").render_as_string(
            hide_password=False)
        for args in (["init"], ["list"]):
            one_line(cli("--db", ascii_url, *args), 3, "SQL_ASCII", "UTF8")
        assert _sql(ascii_url, "SELECT table_name FROM information_schema.tables "
                               "WHERE table_schema = 'public'") == []
    finally:
        _sql(db_path, "DROP DATABASE IF EXISTS fujian_ascii_test WITH (FORCE)")


def test_a_server_that_does_not_answer_is_exit_3_after_the_timeout(cli, monkeypatch):
    """A host that takes the connection and says nothing (a hung server, a firewall that
    swallows packets): exit 3 naming it after FUJIAN_CONNECT_TIMEOUT seconds, not a hang."""
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    port = silent.getsockname()[1]
    monkeypatch.setenv("FUJIAN_CONNECT_TIMEOUT", "1")
    try:
        began = time.monotonic()
        line = one_line(cli("--db", f"postgresql://fujian:s3cret@127.0.0.1:{port}/district",
                            "list"), 3, f"127.0.0.1:{port}/district", "in time")
        assert time.monotonic() - began < 10
        assert "s3cret" not in line
    finally:
        silent.close()


@pytest.mark.parametrize("url", ["postgresql://u:s3cret@127.0.0.1:99999/district",
                                 "postgresql://u:s3cret@127.0.0.1:5432/district?foo=bar"])
def test_a_url_the_driver_refuses_says_so_in_one_line(cli, url):
    line = one_line(cli("--db", url, "list"), 3, "127.0.0.1", "district", "check the URL")
    assert "s3cret" not in line
