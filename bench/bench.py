"""Benchmarks for fujian: whole-process timings against their floors and against Taskwarrior.

Not part of the test run. Usage:

    python bench/bench.py                       # 1k, 10k, 100k and 1M items; writes docs/performance.md
    python bench/bench.py --sizes 1000,10000 --runs 3 --out /tmp/perf.md
    python bench/bench.py --backend postgresql --pg-url postgresql://postgres@127.0.0.1:5432/postgres \
        --sizes 10000,100000,1000000 --runs 3     # the PostgreSQL section (issue 14)

For each size N it generates N realistic items of every kind straight into a fresh database
(through the schema migrations, then one executemany), and times whole `fujian` processes —
each several times after a warm-up, reporting the median and min–max. Beside each: the floor
(the same query or export done with Python's sqlite3 on the same file, in a process of its own,
and a bare `python -c "import typer, sqlmodel, rich"`) and the peer, Taskwarrior 2.6 (Debian
package `taskwarrior`) loaded with the same N tasks (skipped with a message when not installed).

With ``--backend postgresql`` it runs add, close, list, overdue, summary, export and import
against both backends side by side instead: the SQLite database of each size is generated as
above and copied with ``fujian copy --to`` into a fresh PostgreSQL database ``bench_<N>``
(created through the administrator URL ``--pg-url``; the copy is timed too), then the same
whole-process commands run against each, next to a raw psycopg floor (import floor plus the
cheapest plain psycopg statement(s) doing the same work, in a process of its own). The table
goes into the "PostgreSQL (issue 14)" section of ``--out``; the SQLite table is left alone.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TODAY = date.today()  # Taskwarrior reads the real clock, so fujian must too
PY = sys.executable
KIND_SHARE = [("referral", 0.40), ("suggestion", 0.25), ("clue", 0.15), ("meeting", 0.05),
              ("action", 0.15)]
STAGES = {"referral": "sent", "suggestion": "delivered", "clue": "received", "meeting": "held",
          "action": "open"}
OUTCOMES = {"referral": "filed", "suggestion": "adopted", "clue": "rectified", "meeting": "done",
            "action": "done"}
SUBTYPES = {"referral": "to-criminal", "suggestion": "governance", "clue": "ecology",
            "meeting": "plenary", "action": None}
TITLES = ["销售假药案", "非法排污线索", "督促整治违法建设", "校园周边食品安全", "安全生产隐患",
          "违规收集个人信息", "非法采砂", "拖欠农民工工资", "文物保护不力", "燃气管道占压"]

# -- helpers ------------------------------------------------------------------------------------


def fujian_cmd() -> list[str]:
    script = Path(PY).parent / "fujian"
    return [str(script)] if script.exists() else [PY, "-m", "fujian"]


def timed(argv: list[str], env: dict, runs: int, warmup: int = 1, stdin=None,
          before=None) -> dict:
    """Median and range of whole-process wall times; ``before(i)`` may reset state per run."""
    times = []
    for i in range(warmup + runs):
        if before:
            before(i)
        started = time.perf_counter()
        r = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           stdin=stdin)
        elapsed = time.perf_counter() - started
        if r.returncode not in (0, 1):
            raise RuntimeError(f"{argv} failed: {r.stderr.decode()[:500]}")
        if i >= warmup:
            times.append(elapsed)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def python_floor(code: str, env: dict, runs: int) -> dict:
    return timed([PY, "-c", code], env, runs)


# -- data ---------------------------------------------------------------------------------------


def generate(path: Path, n: int, seed: int = 7) -> list[int]:
    """N items of every kind into a fresh fujian database; returns open referral numbers."""
    env = {**os.environ, "FUJIAN_DB": str(path)}
    subprocess.run([*fujian_cmd(), "init"], env=env, check=True, capture_output=True)
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    units = [r[0] for r in con.execute("SELECT id FROM unit")]
    stamp = datetime.now(UTC).isoformat(sep=" ")
    numbers = {k: 0 for k, _ in KIND_SHARE}
    items, logs, open_referrals = [], [], []
    kinds = [k for k, _ in KIND_SHARE]
    weights = [w for _, w in KIND_SHARE]
    first_meeting = None
    for _ in range(n):
        kind = rng.choices(kinds, weights)[0]
        numbers[kind] += 1
        number = numbers[kind]
        opened = TODAY - timedelta(days=rng.randint(0, 720))
        due = opened + timedelta(days=rng.choice([3, 7, 15, 30, 61]))
        closed = rng.random() < 0.6
        closed_on = (opened + timedelta(days=rng.randint(1, 90))) if closed else None
        if closed_on and closed_on > TODAY:
            closed_on = TODAY
        if kind == "meeting":
            due = None
            first_meeting = first_meeting or number
        items.append((
            kind, number, f"{rng.choice(TITLES)}{number}", rng.choice(units), opened.isoformat(),
            due.isoformat() if due else None, STAGES[kind], "closed" if closed else "open",
            closed_on.isoformat() if closed_on else None, OUTCOMES[kind] if closed else None,
            None, SUBTYPES[kind], rng.choice(units) if kind in ("referral", "clue") else None,
            stamp, stamp, "bench"))
        if kind == "referral" and not closed:
            open_referrals.append(number)
        logs.append((stamp, "bench", f"{kind[0].upper()}{number}", "create",
                     json.dumps({"title": items[-1][2]}, ensure_ascii=False)))
    con.executemany(
        "INSERT INTO item (kind, number, title, unit_id, opened_on, due_on, stage, status, "
        "closed_on, outcome, note, subtype, from_unit_id, created_at, updated_at, actor) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", items)
    if numbers["meeting"]:
        # Action items belong to meetings: point them all at real ones.
        con.execute("UPDATE item SET meeting_id = (SELECT id FROM item WHERE kind='meeting' "
                    "ORDER BY number LIMIT 1) WHERE kind='action'")
    con.executemany("INSERT INTO change_log (at, actor, subject, action, new_value) "
                    "VALUES (?,?,?,?,?)", logs)
    # Each item with a deadline owes one duty, held by its own unit: met or late when closed.
    con.execute("UPDATE item SET holder_id = unit_id, duty = CASE WHEN status = 'open' AND "
                "due_on IS NOT NULL THEN 'reply' END")
    con.execute("INSERT INTO duty (item_id, name, stage, holder_id, started_on, due_on, "
                "ended_on, state, explicit, is_right) "
                "SELECT id, 'reply', stage, unit_id, opened_on, due_on, closed_on, "
                "CASE WHEN status = 'open' THEN 'open' WHEN closed_on <= due_on THEN 'met' "
                "ELSE 'late' END, 0, 0 FROM item WHERE due_on IS NOT NULL")
    for kind, last in numbers.items():
        con.execute("UPDATE item_sequence SET last_number=? WHERE kind=?", (last, kind))
    con.commit()
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("ANALYZE")
    con.close()
    return open_referrals


def import_csv_file(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["title", "direction", "from_unit", "unit", "opened_on", "due_on", "party"])
        for i in range(rows):
            w.writerow([f"导入案件{i}", "to-criminal", "scjgj", "gaj", "2026-03-01", "2026-03-04",
                        f"当事人{i}"])


# -- floors: the same work with Python's sqlite3, in a process of its own ------------------------

RAW_OVERDUE = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
out = open('/dev/null', 'w')
for r in con.execute("SELECT i.kind, i.number, i.title, u.code, u.name, i.stage, i.due_on "
                     "FROM item i JOIN unit u ON u.id = i.unit_id WHERE i.status='open' "
                     "AND i.due_on < ? ORDER BY i.due_on", (sys.argv[2],)):
    out.write('\\t'.join(map(str, r)) + '\\n')
"""
RAW_LIST = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = con.execute("SELECT i.*, u.code FROM item i JOIN unit u ON u.id=i.unit_id "
                   "WHERE i.status='open' ORDER BY i.due_on IS NULL, i.due_on LIMIT 50").fetchall()
"""
RAW_SUMMARY = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
q = ("SELECT {g}, count(*), sum(status='closed'), sum(status='closed' AND closed_on<=due_on), "
     "sum(status='closed' AND closed_on>due_on), sum(status='open'), "
     "sum(status='open' AND due_on<?) FROM item GROUP BY {g}")
con.execute(q.format(g='kind'), (sys.argv[2],)).fetchall()
con.execute(q.format(g='unit_id'), (sys.argv[2],)).fetchall()
"""
RAW_EXPORT = """
import csv, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
with open(sys.argv[3], 'w', encoding='utf-8-sig', newline='') as fh:
    w = csv.writer(fh)
    for r in con.execute("SELECT i.*, u.code FROM item i JOIN unit u ON u.id=i.unit_id "
                         "ORDER BY i.kind, i.number"):
        w.writerow(r)
"""
RAW_INSERT = """
import csv, sqlite3, sys
con = sqlite3.connect(sys.argv[1])
rows = list(csv.reader(open(sys.argv[2], encoding='utf-8')))[1:]
con.executemany("INSERT INTO item (kind, number, title, unit_id, opened_on, due_on, stage, "
                "status, subtype, from_unit_id, party, created_at, updated_at, actor) "
                "VALUES ('referral', ?, ?, 1, ?, ?, 'sent', 'open', ?, 2, ?, 'now', 'now', 'b')",
                [(1000000 + i, r[0], r[4], r[5], r[1], r[6]) for i, r in enumerate(rows)])
con.commit()
"""

RAW_SEARCH = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
words = sys.argv[2:]
where = " AND ".join("(title LIKE ? OR party LIKE ? OR doc_no LIKE ? OR note LIKE ?)"
                     for _ in words)
con.execute("SELECT kind, number, title FROM item WHERE " + where,
            [f"%{w}%" for w in words for _ in range(4)]).fetchall()
"""
# A two-character word (in titles and notes), a three-character one (in notes only), both.
SEARCHES = (("采砂",), ("汤逊湖",), ("采砂", "汤逊湖"))
PARTIES = ["张某", "李某某", "王某某", "某建材有限公司", "某环保科技有限公司", "刘某", "陈某某",
           "某食品加工厂", "某物业管理有限公司", "赵某"]
PLACES = ["汤逊湖", "南湖", "梁子湖", "东湖", "长江", "府河", "后湖", "青山", "光谷", "江夏"]
NOTES = ["已电话联系承办人，答复正在调查核实", "现场核查发现{p}周边仍有违法行为", "已书面回复，整改完成",
         "单位已签收检察建议书", "{p}非法采砂船只已扣押", "联席会议决定由牵头单位督办",
         "补充证据材料已移送", "鉴定意见尚未出具，暂停计算期限", "整改不到位，建议继续跟踪",
         "已约谈企业负责人，限期整改", "群众再次举报{p}排污问题"]
HANDLERS = ["王芳", "李强", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄磊"]


def add_words(path: Path, seed: int = 11) -> None:
    """What a search reads, on generated items: parties, document numbers (one in twenty
    typed with full-width digits), handlers, and 1–3 notes on 60 % of items; then their
    search rows, as fujian's writes keep them."""
    rng = random.Random(seed)
    con = sqlite3.connect(path)
    updates, notes = [], []
    for pk, kind, number, stamp in con.execute("SELECT id, kind, number, updated_at FROM item"):
        party = doc = last = None
        if kind == "referral":
            party = rng.choice(PARTIES)
            if rng.random() < 0.5:
                doc = f"夏检刑移〔{rng.choice((2024, 2025))}〕{number % 997 + 1}号"
        elif kind == "suggestion":
            doc = f"夏检行建〔{rng.choice((2024, 2025))}〕{number % 997 + 1}号"
            if rng.random() < 0.05:
                doc = doc.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
        handler = rng.choice(HANDLERS) if rng.random() < 0.5 else None
        if rng.random() < 0.6:
            for _ in range(rng.randint(1, 3)):
                last = rng.choice(NOTES).format(p=rng.choice(PLACES))
                notes.append((pk, stamp, "bench", last))
        updates.append((party, doc, handler, last, pk))
    con.executemany("UPDATE item SET party=?, doc_no=?, handler=?, note=? WHERE id=?", updates)
    con.executemany("INSERT INTO note (item_id, at, actor, text) VALUES (?,?,?,?)", notes)
    con.commit()
    con.close()
    from sqlalchemy import create_engine

    from fujian.service.search import rebuild

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        rebuild(connection)
    engine.dispose()


# -- Taskwarrior ---------------------------------------------------------------------------------


def taskwarrior_env(folder: Path, n: int, seed: int = 7) -> dict | None:
    if shutil.which("task") is None:
        return None
    data = folder / "task"
    data.mkdir(parents=True, exist_ok=True)
    rc = folder / "taskrc"
    rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\n"
                  "gc=on\nrecurrence=off\nhooks=off\n")
    rng = random.Random(seed)
    pending, completed = [], []
    epoch = datetime(TODAY.year, TODAY.month, TODAY.day, tzinfo=UTC)
    for i in range(n):
        opened = epoch - timedelta(days=rng.randint(0, 720))
        due = opened + timedelta(days=rng.choice([3, 7, 15, 30, 61]))
        closed = rng.random() < 0.6
        fields = {"description": f"{rng.choice(TITLES)}{i}", "entry": str(int(opened.timestamp())),
                  "due": str(int(due.timestamp())), "project": f"unit{rng.randint(1, 30)}",
                  "status": "completed" if closed else "pending", "uuid": str(uuid.uuid4())}
        if closed:
            fields["end"] = str(int((opened + timedelta(days=5)).timestamp()))
        line = "[" + " ".join(f'{k}:"{v}"' for k, v in fields.items()) + "]\n"
        (completed if closed else pending).append(line)
    (data / "pending.data").write_text("".join(pending))
    (data / "completed.data").write_text("".join(completed))
    (data / "undo.data").write_text("")
    (data / "backlog.data").write_text("")
    return {**os.environ, "TASKRC": str(rc), "TASKDATA": str(data)}


# -- the run -------------------------------------------------------------------------------------


def fmt(t: dict | None) -> str:
    if t is None:
        return "–"
    return f"{t['median']:.3f} ({t['min']:.3f}–{t['max']:.3f})"


def ratio(a: dict | None, b: dict | None) -> str:
    if not a or not b:
        return "–"
    return f"{a['median'] / b['median']:.2f}"


def run(sizes: list[int], runs: int, out: Path, tw_sizes: set[int],
        ops: set[str] | None = None) -> None:
    """``ops``: only these (add, close, list, overdue, summary, export, pack, search,
    import); all when None."""

    def wanted(op: str) -> bool:
        return ops is None or op in ops

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("FUJIAN_")}
    tmp = Path(tempfile.mkdtemp(prefix="fujian-bench-"))
    base_env.update({"FUJIAN_TODAY": TODAY.isoformat(), "FUJIAN_USER": "bench",
                     "NO_COLOR": "1", "XDG_CONFIG_HOME": str(tmp / "config")})
    rows: list[tuple] = []
    print("floors: bare imports", flush=True)
    floor_typer = python_floor("import typer", base_env, runs)
    floor_all = python_floor("import typer, sqlmodel, rich", base_env, runs)
    fujian = fujian_cmd()
    help_t = timed([*fujian, "--help"], base_env, runs)
    complete_env = {**base_env, "_FUJIAN_COMPLETE": "complete_bash", "COMP_WORDS": "fujian re",
                    "COMP_CWORD": "1"}
    complete_t = timed(fujian, complete_env, runs)
    rows.append(("--help", "–", help_t, floor_typer, "python -c 'import typer'", None))
    rows.append(("completion (TAB)", "–", complete_t, floor_typer, "python -c 'import typer'",
                 None))
    for n in sizes:
        print(f"generating {n} items", flush=True)
        db = tmp / f"bench-{n}.db"
        started = time.perf_counter()
        open_refs = generate(db, n)
        print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
        env = {**base_env, "FUJIAN_DB": str(db)}
        tw = taskwarrior_env(tmp / f"tw-{n}", n) if n in tw_sizes else None
        if n in tw_sizes and tw is None:
            print("  taskwarrior not installed: peer skipped", flush=True)
        if wanted("add"):
            add = timed([*fujian, "referral", "add", "--direction", "to-criminal", "--from",
                         "scjgj", "--to", "gaj", "--title", "bench add"], env, runs)
            tw_add = timed(["task", "add", "bench add", "due:2026-07-01"], tw, runs) if tw \
                else None
            rows.append(("add", n, add, floor_all, "import floor", tw_add))
        if wanted("close"):
            close = _time_close(fujian, env, runs, iter(open_refs))
            tw_done = _time_tw_done(tw, runs) if tw else None
            rows.append(("close", n, close, floor_all, "import floor", tw_done))
        if wanted("list"):
            lst = timed([*fujian, "list", "--limit", "50"], env, runs)
            raw_list = timed([PY, "-c", RAW_LIST, str(db)], env, runs)
            rows.append(("list --limit 50", n, lst, _sum(floor_all, raw_list),
                         "import floor + raw sqlite3", None))
        if wanted("overdue"):
            overdue = timed([*fujian, "report", "overdue"], env, runs)
            raw_overdue = timed([PY, "-c", RAW_OVERDUE, str(db), TODAY.isoformat()], env, runs)
            tw_overdue = timed(["task", "overdue"], tw, runs) if tw else None
            rows.append(("report overdue", n, overdue, _sum(floor_all, raw_overdue),
                         "import floor + raw sqlite3", tw_overdue))
        if wanted("summary"):
            summary = timed([*fujian, "report", "summary"], env, runs)
            raw_summary = timed([PY, "-c", RAW_SUMMARY, str(db), TODAY.isoformat()], env, runs)
            rows.append(("report summary", n, summary, _sum(floor_all, raw_summary),
                         "import floor + raw sqlite3", None))
        if wanted("export"):
            target = tmp / f"export-{n}.csv"
            export = timed([*fujian, "export", "csv", "-o", str(target), "--force"], env, runs)
            raw_export = timed([PY, "-c", RAW_EXPORT, str(db), "", str(tmp / "raw.csv")], env,
                               runs)
            tw_export = timed(["task", "export"], tw, runs) if tw else None
            rows.append(("export csv", n, export, _sum(floor_all, raw_export),
                         "import floor + raw sqlite3", tw_export))
        if wanted("pack"):
            # The pack as one workbook against the same pack as a folder of CSV files (issue
            # 15: under 2x). --force: each run replaces the previous one.
            folder, workbook = tmp / f"pack-{n}", tmp / f"pack-{n}.xlsx"
            csv_pack = timed([*fujian, "export", "pack", "-o", str(folder), "--force"], env,
                             runs)
            xlsx_pack = timed([*fujian, "export", "pack", "-o", str(workbook), "--force"], env,
                              runs)
            rows.append(("export pack (.xlsx)", n, xlsx_pack, csv_pack,
                         "export pack (CSV folder)", None))
        if wanted("search"):
            # Last of the per-size operations: it gives the generated items the words a search
            # reads (parties, document numbers, notes), which the others were timed without.
            started = time.perf_counter()
            add_words(db)
            print(f"  words and search rows added in {time.perf_counter() - started:.1f}s",
                  flush=True)
            for words in SEARCHES:
                found = timed([*fujian, "search", *words], env, runs)
                raw_like = timed([PY, "-c", RAW_SEARCH, str(db), *words], env, runs)
                rows.append((f"search {' '.join(words)}", n, found, raw_like,
                             "raw sqlite3 LIKE scan (process)", None))
        print(f"  done {n}", flush=True)
        write_report(out, rows, runs, None)
    if not wanted("import"):
        write_report(out, rows, runs, floor_all)
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"wrote {out}")
        return
    # import csv of 100k rows into a fresh database each run
    print("import csv of 100k rows", flush=True)
    src = tmp / "import.csv"
    import_csv_file(src, 100_000)
    target_db = tmp / "import.db"

    def fresh(_i: int) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(str(target_db) + suffix).unlink(missing_ok=True)
        subprocess.run([*fujian, "--db", str(target_db), "init"], env=base_env, check=True,
                       capture_output=True)

    imp = timed([*fujian, "--db", str(target_db), "import", "csv", "--kind", "referral",
                 str(src)], base_env, max(1, runs - 2), before=fresh)
    raw_imp = timed([PY, "-c", RAW_INSERT, str(target_db), str(src)], base_env,
                    max(1, runs - 2), before=fresh)
    rows.append(("import csv (100k rows)", 100_000, imp, raw_imp, "raw executemany (process)",
                 None))
    write_report(out, rows, runs, floor_all)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {out}")


def _sum(a: dict, b: dict) -> dict:
    return {k: a[k] + b[k] for k in ("median", "min", "max")}


def _time_close(fujian, env, runs, numbers) -> dict:
    times = []
    for i in range(runs + 1):
        number = next(numbers)
        started = time.perf_counter()
        r = subprocess.run([*fujian, "close", f"R{number}", "--outcome", "filed"], env=env,
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode()[:300])
        if i:
            times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def _time_tw_done(env, runs) -> dict:
    times = []
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(["task", str(i + 1), "done"], env=env, capture_output=True)
        if i:
            times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def write_report(out: Path, rows, runs: int, floor_all) -> None:
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    lines = [
        "# Performance",
        "",
        f"Measured by `python bench/bench.py` on {date.today().isoformat()} ({machine}).",
        f"Seconds per whole process: median of {runs} runs after one warm-up (min–max).",
        "Ratios are medians measured side by side in this one run.",
        "",
        "| operation | items | fujian | floor | fujian/floor | floor is | Taskwarrior 2.6 "
        "| fujian/Taskwarrior |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for name, n, t, floor, floor_name, tw in rows:
        items = f"{n:,}" if isinstance(n, int) else n
        lines.append(f"| {name} | {items} | {fmt(t)} | {fmt(floor)} | {ratio(t, floor)} | "
                     f"{floor_name} | {fmt(tw)} | {ratio(t, tw)} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    existing = out.read_text(encoding="utf-8") if out.exists() else ""
    marker = "<!-- bench -->"
    notes = existing.split(marker, 1)[1] if marker in existing else ""
    out.write_text("\n".join(lines) + "\n\n" + marker + notes, encoding="utf-8")

# -- PostgreSQL (issue 14): the same commands against a server, beside SQLite ---------------------

# The raw psycopg floors: the cheapest plain statement(s) doing the command's work on the same
# PostgreSQL data, connection included, in a process of their own. argv[1] is the database URL.
PG_ADD = """
import psycopg, sys
with psycopg.connect(sys.argv[1]) as con:
    con.execute("INSERT INTO item (kind, number, title, unit_id, opened_on, due_on, stage, "
                "status, subtype, from_unit_id, created_at, updated_at, actor) "
                "SELECT 'referral', max(number) + 1, 'bench add', 1, current_date, "
                "current_date + 3, 'sent', 'open', 'to-criminal', 2, now(), now(), 'bench' "
                "FROM item WHERE kind = 'referral'")
"""
PG_CLOSE = """
import psycopg, sys
with psycopg.connect(sys.argv[1]) as con:
    con.execute("UPDATE item SET status='closed', closed_on=%s, outcome='filed', "
                "updated_at=now() WHERE kind='referral' AND number=%s",
                (sys.argv[2], int(sys.argv[3])))
"""
PG_LIST = """
import psycopg, sys
with psycopg.connect(sys.argv[1]) as con:
    rows = con.execute("SELECT i.*, u.code FROM item i JOIN unit u ON u.id = i.unit_id "
                       "WHERE i.status = 'open' ORDER BY i.due_on LIMIT 50").fetchall()
"""
PG_OVERDUE = """
import psycopg, sys
out = open('/dev/null', 'w')
with psycopg.connect(sys.argv[1]) as con:
    for r in con.execute("SELECT i.kind, i.number, i.title, u.code, u.name, i.stage, i.due_on "
                         "FROM item i JOIN unit u ON u.id = i.unit_id WHERE i.status = 'open' "
                         "AND i.due_on < %s ORDER BY i.due_on", (sys.argv[2],)):
        out.write('\\t'.join(map(str, r)) + '\\n')
"""
PG_SUMMARY = """
import psycopg, sys
q = ("SELECT {g}, count(*), count(*) FILTER (WHERE status = 'closed'), "
     "count(*) FILTER (WHERE status = 'closed' AND closed_on <= due_on), "
     "count(*) FILTER (WHERE status = 'closed' AND closed_on > due_on), "
     "count(*) FILTER (WHERE status = 'open'), "
     "count(*) FILTER (WHERE status = 'open' AND due_on < %s) FROM item GROUP BY {g}")
with psycopg.connect(sys.argv[1]) as con:
    con.execute(q.format(g='kind'), (sys.argv[2],)).fetchall()
    con.execute(q.format(g='unit_id'), (sys.argv[2],)).fetchall()
"""
PG_EXPORT = """
import psycopg, sys
with psycopg.connect(sys.argv[1]) as con, open(sys.argv[2], 'wb') as fh:
    fh.write('\\ufeff'.encode())
    with con.cursor().copy("COPY (SELECT i.*, u.code FROM item i JOIN unit u ON u.id = i.unit_id "
                           "ORDER BY i.kind, i.number) TO STDOUT WITH (FORMAT csv)") as copy:
        for block in copy:
            fh.write(block)
"""
PG_IMPORT = """
import csv, psycopg, sys
from datetime import date, datetime
rows = list(csv.reader(open(sys.argv[2], encoding='utf-8')))[1:]
now = datetime.now()
with psycopg.connect(sys.argv[1]) as con:
    with con.cursor().copy("COPY item (kind, number, title, unit_id, opened_on, due_on, stage, "
                           "status, subtype, from_unit_id, party, created_at, updated_at, actor) "
                           "FROM STDIN") as copy:
        for i, r in enumerate(rows):
            copy.write_row(('referral', 1000000 + i, r[0], 1, date.fromisoformat(r[4]),
                            date.fromisoformat(r[5]), 'sent', 'open', r[1], 2, r[6], now, now,
                            'b'))
"""
PG_FLOORS = {"add": "import floor + raw INSERT", "close": "import floor + raw UPDATE",
             "list": "import floor + raw SELECT … LIMIT 50", "overdue": "import floor + raw SELECT",
             "summary": "import floor + raw GROUP BY ×2", "export": "import floor + raw COPY TO",
             "import": "raw COPY FROM (process)"}


def pg_urls(admin: str, database: str) -> tuple[str, str]:
    """(fujian's URL, psycopg's URL) of ``database`` on the server of the admin URL."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(admin)
    plain = urlunsplit(("postgresql", parts.netloc, f"/{database}", parts.query, ""))
    return "postgresql+psycopg" + plain[len("postgresql"):], plain


def pg_fresh_database(admin: str, database: str) -> None:
    import psycopg

    assert database.startswith("bench_"), database
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{database}"')


def pg_settings(admin: str) -> str:
    import psycopg

    names = ("server_version", "fsync", "synchronous_commit", "full_page_writes",
             "shared_buffers", "work_mem", "jit")
    with psycopg.connect(admin) as con:
        values = {n: con.execute(f"SHOW {n}").fetchone()[0] for n in names}
    values["server_version"] = values["server_version"].split()[0]
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _time_each(make_argv, env, runs) -> dict:
    """Like :func:`timed`, with a different command line for each run (one warm-up)."""
    times = []
    for i in range(runs + 1):
        argv = make_argv(i)
        started = time.perf_counter()
        r = subprocess.run(argv, env=env, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode()[:300])
        if i:
            times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def run_postgres(sizes: list[int], runs: int, out: Path, admin: str,
                 ops: set[str] | None = None, keep: bool = False) -> None:
    """Each operation against SQLite and PostgreSQL holding the same items, beside its raw
    psycopg floor; the table goes into the "PostgreSQL (issue 14)" section of ``out``."""

    def wanted(op: str) -> bool:
        return ops is None or op in ops

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("FUJIAN_")}
    tmp = Path(tempfile.mkdtemp(prefix="fujian-bench-pg-"))
    base_env.update({"FUJIAN_TODAY": TODAY.isoformat(), "FUJIAN_USER": "bench",
                     "NO_COLOR": "1", "XDG_CONFIG_HOME": str(tmp / "config"),
                     "XDG_DATA_HOME": str(tmp / "data")})
    fujian = fujian_cmd()
    settings = pg_settings(admin)
    rows: list[tuple] = []
    print("floor: bare imports", flush=True)
    floor_all = python_floor("import typer, sqlmodel, rich", base_env, runs)
    connect = timed([PY, "-c", "import psycopg, sys; psycopg.connect(sys.argv[1]).close()",
                     admin], base_env, runs)
    rows.append(("import floor (`python -c 'import typer, sqlmodel, rich'`)", "–", None, None,
                 floor_all, "–", None))
    rows.append(("psycopg connect (`python -c 'import psycopg; connect'`)", "–", None, None,
                 None, "–", connect))
    if wanted("import"):
        print("import csv of 100k rows", flush=True)
        src = tmp / "import.csv"
        import_csv_file(src, 100_000)
        target_db = tmp / "import.db"
        url, plain = pg_urls(admin, "bench_import")

        def fresh_lite(_i: int) -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(target_db) + suffix).unlink(missing_ok=True)
            subprocess.run([*fujian, "--db", str(target_db), "init"], env=base_env, check=True,
                           capture_output=True)

        def fresh_pg(_i: int) -> None:
            pg_fresh_database(admin, "bench_import")
            subprocess.run([*fujian, "--db", url, "init"], env=base_env, check=True,
                           capture_output=True)

        import_runs = max(1, runs - 2)
        imp = [*fujian, "import", "csv", "--kind", "referral", str(src)]
        a = timed([*fujian[:1], "--db", str(target_db), *imp[1:]], base_env, import_runs,
                  before=fresh_lite)
        b = timed([*fujian[:1], "--db", url, *imp[1:]], base_env, import_runs, before=fresh_pg)
        raw = timed([PY, "-c", PG_IMPORT, plain, str(src)], base_env, import_runs,
                    before=fresh_pg)
        rows.append(("import csv (100k rows)", 100_000, a, b, raw, PG_FLOORS["import"], raw))
        import psycopg

        with psycopg.connect(admin, autocommit=True) as con:
            con.execute('DROP DATABASE IF EXISTS "bench_import" WITH (FORCE)')
        write_pg_report(out, rows, runs, settings)
    today = TODAY.isoformat()
    for n in sizes:
        print(f"generating {n} items (SQLite)", flush=True)
        db = tmp / f"bench-{n}.db"
        started = time.perf_counter()
        open_refs = generate(db, n)
        print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
        database = f"bench_{n}"
        url, plain = pg_urls(admin, database)
        pg_fresh_database(admin, database)
        started = time.perf_counter()
        subprocess.run([*fujian, "--db", str(db), "copy", "--to", url], env=base_env,
                       check=True, capture_output=True)
        copied = time.perf_counter() - started
        print(f"  copied to {database} in {copied:.1f}s", flush=True)
        started = time.perf_counter()
        import psycopg

        with psycopg.connect(plain, autocommit=True) as con:
            con.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f}s", flush=True)
        once = {"median": copied, "min": copied, "max": copied}
        rows.append(("copy --to (build, 1 run)", n, None, once, None, "–", None))
        lite = {**base_env, "FUJIAN_DB": str(db)}
        pg = {**base_env, "FUJIAN_DB": url}

        def both(name, argv, floor_code=None, floor_args=(), op="", n=n, lite=lite, pg=pg,
                 plain=plain):
            print(f"  {name}", flush=True)
            a = timed(argv, lite, runs)
            b = timed(argv, pg, runs)
            raw = timed([PY, "-c", floor_code, plain, *floor_args], base_env, runs) \
                if floor_code else None
            rows.append((name, n, a, b, _sum(floor_all, raw) if raw else None,
                         PG_FLOORS.get(op, "–"), raw))

        if wanted("add"):
            both("add", [*fujian, "referral", "add", "--direction", "to-criminal", "--from",
                         "scjgj", "--to", "gaj", "--title", "bench add"], PG_ADD, op="add")
        if wanted("close"):
            print("  close", flush=True)
            a = _time_close(fujian, lite, runs, iter(open_refs))
            b = _time_close(fujian, pg, runs, iter(open_refs))
            last = open_refs[::-1]
            raw = _time_each(lambda i, last=last, plain=plain: [PY, "-c", PG_CLOSE, plain, today,
                                                         str(last[i])],
                             base_env, runs)
            rows.append(("close", n, a, b, _sum(floor_all, raw), PG_FLOORS["close"], raw))
        if wanted("list"):
            both("list --limit 50", [*fujian, "list", "--limit", "50"], PG_LIST, op="list")
        if wanted("overdue"):
            both("report overdue", [*fujian, "report", "overdue"], PG_OVERDUE, (today,),
                 op="overdue")
        if wanted("summary"):
            both("report summary", [*fujian, "report", "summary"], PG_SUMMARY, (today,),
                 op="summary")
        if wanted("export"):
            both("export csv", [*fujian, "export", "csv", "-o", str(tmp / f"export-{n}.csv"),
                                "--force"], PG_EXPORT, (str(tmp / "raw.csv"),), op="export")
        write_pg_report(out, rows, runs, settings)
        if not keep:
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            db.unlink(missing_ok=True)
        print(f"  done {n}", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {out}")


PG_BEGIN, PG_END = "<!-- pg-bench -->", "<!-- /pg-bench -->"


def write_pg_report(out: Path, rows, runs: int, settings: str) -> None:
    """The generated part of the "PostgreSQL (issue 14)" section, between its two markers
    (the section is added at the end when missing; everything else is left as it is)."""
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    lines = [
        PG_BEGIN,
        f"Measured by `python bench/bench.py --backend postgresql` on {date.today().isoformat()} "
        f"({machine}; PostgreSQL on the same machine over 127.0.0.1 TCP: {settings}).",
        f"Seconds per whole process: median of {runs} runs after one warm-up (min–max); "
        "import: of max(1, runs − 2).",
        "",
        "| operation | items | SQLite | PostgreSQL | PG/SQLite | psycopg floor | PG/floor "
        "| floor is | raw psycopg process alone |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for name, n, lite, pg, floor, floor_name, raw in rows:
        items = f"{n:,}" if isinstance(n, int) else n
        lines.append(f"| {name} | {items} | {fmt(lite)} | {fmt(pg)} | {ratio(pg, lite)} | "
                     f"{fmt(floor)} | {ratio(pg, floor)} | {floor_name} | {fmt(raw)} |")
    lines.append(PG_END)
    table = "\n".join(lines)
    existing = out.read_text(encoding="utf-8") if out.exists() else ""
    if PG_BEGIN in existing and PG_END in existing:
        head, rest = existing.split(PG_BEGIN, 1)
        text = head + table + rest.split(PG_END, 1)[1]
    else:
        text = existing.rstrip("\n") + "\n\n## PostgreSQL (issue 14)\n\n" + table + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000")
    parser.add_argument("--taskwarrior-sizes", default="10000,50000,100000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--ops", default="", help="comma-separated subset of add, close, list, "
                        "overdue, summary, export, pack, search, import (default: all)")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: add, close, list, overdue, summary, export and import "
                        "against SQLite and PostgreSQL side by side (needs --pg-url)")
    parser.add_argument("--pg-url", default=os.environ.get("FUJIAN_BENCH_PG", ""),
                        help="administrator URL of the PostgreSQL server; databases named "
                        "bench_<size> and bench_import are created (and dropped) on it")
    parser.add_argument("--keep", action="store_true",
                        help="postgresql: keep the bench_<size> databases afterwards")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ops = {o.strip() for o in args.ops.split(",") if o.strip()} or None
    if args.backend == "postgresql":
        if not args.pg_url:
            parser.error("--backend postgresql needs --pg-url (or FUJIAN_BENCH_PG)")
        run_postgres(sorted(set(sizes)), args.runs, args.out, args.pg_url, ops, args.keep)
        return
    tw_sizes = {int(s) for s in args.taskwarrior_sizes.split(",") if s}
    run(sorted(set(sizes) | tw_sizes), args.runs, args.out, tw_sizes, ops)


if __name__ == "__main__":
    main()
