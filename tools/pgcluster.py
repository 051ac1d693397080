"""A throw-away PostgreSQL cluster for the test suite (standard library only).

    python tools/pgcluster.py start DIR   # prints postgresql://postgres@127.0.0.1:PORT/postgres
    python tools/pgcluster.py stop DIR    # fast shutdown; nothing to do if it is not running
    python tools/pgcluster.py bindir      # where the server binaries are (exit 1: none found)

Tests import it too: start(dir) -> url, stop(dir), kill(dir) (SIGKILL, as a crash would) and
restart(dir) -> url (same port, so a client's URL stays valid).

The data lives in DIR/data, the log in DIR/server.log, the URL in DIR/url. The cluster is made to
differ from SQLite where fujian must not care: an ICU Chinese collation (it orders
`a_c a-b aa ab Ab`, SQLite's binary order is `Ab a-b a_c aa ab`) and the server time zone
Asia/Shanghai (a naive timestamp read back through it would move by 8 hours). Durability is off:
the data is thrown away.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

USER = "postgres"
HOST = "127.0.0.1"
ICU_FLAGS = ["--locale-provider=icu", "--icu-locale=zh-Hans-CN"]
SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "Asia/Shanghai",
    "max_connections": "200",
}


class ClusterError(RuntimeError):
    """The cluster could not be made, started or stopped; the message says why."""


def bindir() -> Path:
    """The folder of initdb/pg_ctl: `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        r = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            candidates.append(Path(r.stdout.strip()))

    def version(p: Path) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", p.parent.name)) or (0,)

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for folder in candidates:
        # pg_config may come from libpq-dev alone and name a folder without the server.
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise ClusterError("no PostgreSQL server binaries (initdb, pg_ctl) found: "
                       "install the Debian package postgresql")


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(argv: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    """Runs a server tool as the postgres user when we are root (initdb and pg_ctl refuse root)."""
    if _as_root():
        argv = ["runuser", "-u", USER, "--", *argv]
    # cwd: the postgres user may not be allowed into ours (e.g. /root), and the tools complain.
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if check and r.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


def _prepare(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if _as_root():
        shutil.chown(folder, USER, USER)
        # The postgres user must be able to walk down to the folder.
        probe = subprocess.run(["runuser", "-u", USER, "--", "test", "-w", str(folder)],
                               capture_output=True)
        if probe.returncode != 0:
            raise ClusterError(f"user {USER} cannot write to {folder}: a parent folder is private "
                               "(pytest's and mktemp's are; chmod 0755 them)")


def _initdb(folder: Path, data: Path) -> None:
    base = [str(bindir() / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
            "--encoding=UTF8", "--locale=C.utf8", "--no-sync"]
    r = _run(base + ICU_FLAGS, folder, check=False)
    if r.returncode != 0:
        # An initdb built without ICU: the suite still runs, on the C.utf8 collation.
        print(f"pgcluster: initdb refused ICU ({r.stderr.strip().splitlines()[-1:]}); "
              "using the C.utf8 collation", file=sys.stderr)
        shutil.rmtree(data, ignore_errors=True)
        _run(base, folder)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _url(port: int) -> str:
    return f"postgresql://{USER}@{HOST}:{port}/postgres"


def _port_of(folder: Path) -> int | None:
    try:
        return int((folder / "url").read_text().strip().rsplit(":", 1)[1].split("/", 1)[0])
    except (OSError, IndexError, ValueError):
        return None


def _postmaster(folder: Path) -> int | None:
    try:
        return int((folder / "data" / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def running(folder: Path | str) -> bool:
    """Whether the cluster's postmaster is alive. (Not `pg_ctl status`: it takes the zombie of a
    killed postmaster, which init has not reaped yet, for a running server.)"""
    pid = _postmaster(Path(folder).absolute())
    return pid is not None and _alive(pid)


def _wait_until_answers(port: int, folder: Path, timeout: float = 30) -> None:
    isready = bindir() / "pg_isready"
    deadline = time.monotonic() + timeout
    while True:
        r = subprocess.run([str(isready), "-q", "-h", HOST, "-p", str(port), "-U", USER,
                            "-d", "postgres"], capture_output=True)
        if r.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"the server on port {port} does not answer:\n{_log_tail(folder)}")
        time.sleep(0.1)


def _log_tail(folder: Path, lines: int = 20) -> str:
    try:
        return "\n".join((folder / "server.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server.log)"


def start(folder: Path | str, port: int | None = None) -> str:
    """Makes the cluster if DIR/data is not one yet, starts it and returns the admin URL.
    A cluster that is already running is left alone (its URL is returned)."""
    folder = Path(folder).absolute()
    data = folder / "data"
    _prepare(folder)
    if not (data / "PG_VERSION").exists():
        _initdb(folder, data)
    elif running(folder):
        url = (folder / "url").read_text().strip()
        _wait_until_answers(_port_of(folder) or 0, folder)
        return url
    else:
        # Left by a killed server. Every one of its processes is gone (kill() waits for that), so
        # its shared memory is free; the server's own check would wait for init to reap a zombie.
        (data / "postmaster.pid").unlink(missing_ok=True)
    tries = 1 if port else 5
    for attempt in range(tries):
        chosen = port or _free_port()
        options = " ".join([f"-p {chosen}", f"-k {folder}"]
                           + [f"-c {key}={value}" for key, value in SETTINGS.items()])
        r = _run([str(bindir() / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
                  "-l", str(folder / "server.log"), "-o", options], folder, check=False)
        if r.returncode == 0:
            break
        # Another process may have taken the free port between our probe and the server's bind.
        if attempt == tries - 1 or "could not" not in _log_tail(folder, 5):
            raise ClusterError(f"pg_ctl start failed ({r.returncode}):\n{r.stdout}{r.stderr}\n"
                               f"{_log_tail(folder)}")
    _wait_until_answers(chosen, folder)
    url = _url(chosen)
    (folder / "url").write_text(url + "\n")
    return url


def stop(folder: Path | str) -> None:
    """Fast shutdown (open sessions are ended). Nothing to do if the cluster is not running."""
    folder = Path(folder).absolute()
    if not running(folder):
        return
    r = _run([str(bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(folder / "data")],
             folder, check=False)
    if r.returncode != 0 and running(folder):
        raise ClusterError(f"pg_ctl stop failed ({r.returncode}):\n{r.stdout}{r.stderr}")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (init may take a while to reap one)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def kill(folder: Path | str) -> None:
    """SIGKILL the postmaster and its processes, as a crash or the OOM killer would: open
    connections break at once and nothing is written on the way down."""
    pid = _postmaster(Path(folder).absolute())
    if pid is None or not _alive(pid):
        return
    # The backends are killed too: on their own they would serve their clients a little longer
    # and keep the shared memory that a restart needs.
    victims = [pid, *_children(pid)]
    for victim in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(_alive(v) for v in victims) and time.monotonic() < deadline:
        time.sleep(0.05)


def restart(folder: Path | str) -> str:
    """Starts the cluster again on the port it had (after stop() or kill()); returns the URL."""
    folder = Path(folder).absolute()
    stop(folder)
    port = _port_of(folder)
    deadline = time.monotonic() + 15
    while True:
        try:
            return start(folder, port=port)
        except ClusterError:
            # After a kill the port or the old shared memory may still be held for a moment.
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main(argv: list[str]) -> int:
    usage = "usage: pgcluster.py start DIR | stop DIR | bindir"
    try:
        if argv[:1] == ["bindir"] and len(argv) == 1:
            print(bindir())
        elif len(argv) == 2 and argv[0] == "start":
            print(start(argv[1]))
        elif len(argv) == 2 and argv[0] == "stop":
            stop(argv[1])
        else:
            print(usage, file=sys.stderr)
            return 2
    except ClusterError as e:
        print(f"pgcluster: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
