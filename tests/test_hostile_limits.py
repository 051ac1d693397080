"""Issue 21, case 2: every text has a stated length, every import file a stated size, and an
import's memory is that of a batch of rows, not of the file. Before: no limit on a title (a
13-million-character one made `list` run out of memory), a CSV with one 200 MB line took
23.5 s and 2.52 GB and was accepted, and 100,000 rows took 681 MB.

Memory is measured as the peak RSS of the fujian process itself (os.wait4 on its pid), time
bounded by a generous timeout, never asserted as a speed."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import query_rows

from fujian.models import NAME_CHARS, TEXT_CHARS, TITLE_CHARS
from fujian.service.decoding import MAX_FILE_BYTES, MAX_LINE_CHARS
from fujian.service.transfer import MAX_CSV_LINES

ADD = ("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj")


def _items(location) -> int:
    return query_rows(location, "SELECT count(*) AS n FROM item")[0]["n"]


def peak_run(args: list[str], tmp_path: Path, timeout: float = 300) -> tuple[int, str, int]:
    """Run fujian in a child: (exit code, stderr, the child's own peak RSS in MB)."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "fujian", *args], stdout=stdout,
                                stderr=stderr, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                pytest.fail(f"fujian {' '.join(args)} ran past {timeout} s")
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait
    return proc.returncode, err.read_text(encoding="utf-8"), usage.ru_maxrss // 1024


# -- fields --------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "field"), [
    ((*ADD, "--title", "案" * (TITLE_CHARS + 1)), "Title"),
    ((*ADD, "--title", "案", "--handler", "张" * (NAME_CHARS + 1)), "Handler"),
    ((*ADD, "--title", "案", "--note", "记" * (TEXT_CHARS + 1)), "Note"),
    ((*ADD, "--title", "案", "--doc-no", "号" * (NAME_CHARS + 1)), "Doc no."),
])
def test_a_text_longer_than_its_field_takes_is_refused(cli, initialised, args, field):
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {field} is ") and "at most" in result.stderr
    assert _items(initialised) == 0


def test_a_text_at_its_limit_is_kept_whole(cli, initialised):
    title, note = "案" * TITLE_CHARS, "记" * TEXT_CHARS
    assert cli(*ADD, "--title", title, "--note", note).exit_code == 0
    assert query_rows(initialised, "SELECT title, note FROM item") == [
        {"title": title, "note": note}]


def test_notes_reasons_and_units_have_limits_too(cli, initialised):
    assert cli(*ADD, "--title", "案").exit_code == 0
    long = "长" * (TEXT_CHARS + 1)
    for args in (("note", "R1", long), ("void", "R1", "--reason", long),
                 ("unit", "update", "gaj", "--liaison", "李" * (NAME_CHARS + 1)),
                 ("unit", "add", "abc", "--name", "单" * (NAME_CHARS + 1))):
        result = cli(*args)
        assert result.exit_code == 2 and "at most" in result.stderr, (args, result.output)
    assert query_rows(initialised, "SELECT count(*) AS n FROM note")[0]["n"] == 0
    assert query_rows(initialised, "SELECT voided_at FROM item") == [{"voided_at": None}]
    assert query_rows(initialised, "SELECT liaison FROM unit WHERE code = 'gaj'")[0][
        "liaison"] is None


def test_every_text_column_a_person_fills_has_a_limit():
    from fujian.models import ChangeLog, Item, Note, Unit

    typed = {Unit: ("code", "name", "liaison", "phone"),
             Item: ("title", "note", "party", "doc_no", "minutes", "handler", "void_reason",
                    "actor"),
             Note: ("text", "actor"), ChangeLog: ("reason", "actor")}
    for model, names in typed.items():
        for name in names:
            assert model.__table__.c[name].info.get("max_chars"), (model, name)


def test_an_import_row_with_a_title_too_long_names_its_line(cli, initialised, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("kind,direction,from_unit,unit,title\n"
                    f"referral,to-criminal,scjgj,gaj,短\n"
                    f"referral,to-criminal,scjgj,gaj,{'长' * (TITLE_CHARS + 1)}\n",
                    encoding="utf-8")
    result = cli("import", "csv", str(path))
    assert result.exit_code == 2, result.output
    assert "line 3: Title is 501 characters long" in result.stderr
    assert _items(initialised) == 0


# -- files -----------------------------------------------------------------------------------


def test_a_csv_larger_than_the_limit_is_refused_before_it_is_read(initialised, tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as fh:
        fh.write(b"kind,title\nreferral,")
        fh.truncate(200 * 1024 * 1024)  # sparse: 200 MB on paper, nothing on disk
    code, stderr, peak = peak_run(["import", "csv", str(path), "--dry-run"], tmp_path)
    assert code == 2, stderr
    assert f"larger than {MAX_FILE_BYTES // 2**20} MB" in stderr
    assert peak < 200


def test_one_endless_line_is_refused_without_holding_it(initialised, tmp_path):
    path = tmp_path / "line.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("kind,direction,from_unit,unit,title,note\n"
                 "referral,to-criminal,scjgj,gaj,案,")
        for _ in range(15):  # one cell of 15 million characters: a 45 MB file
            fh.write("备" * 1024 * 1024)
        fh.write("\n")
    code, stderr, peak = peak_run(["import", "csv", str(path), "--dry-run"], tmp_path)
    assert code == 2, stderr
    assert f"line 2 is longer than {MAX_LINE_CHARS:,} characters" in stderr
    assert peak < 200, peak  # before: 498 MB, and the row was accepted (now ~65 MB alone)
    assert _items(initialised) == 0


def test_a_cell_past_the_longest_text_is_refused(cli, initialised, tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("kind,direction,from_unit,unit,title,note\n"
                    f"referral,to-criminal,scjgj,gaj,案,{'备' * (TEXT_CHARS + 2)}\n",
                    encoding="utf-8")
    result = cli("import", "csv", str(path))
    assert result.exit_code == 2, result.output
    assert f"line 2: a cell holds more than {TEXT_CHARS:,} characters" in result.stderr
    assert _items(initialised) == 0


def test_a_csv_past_a_spreadsheets_last_line_is_refused(cli, initialised, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("kind,direction,from_unit,unit,title\n" + "\n" * MAX_CSV_LINES,
                    encoding="utf-8")
    result = cli("import", "csv", str(path))
    assert result.exit_code == 2, result.output
    assert "more than 1,048,576 lines" in result.stderr


def test_a_device_with_no_end_is_refused(cli, initialised):
    result = cli("import", "csv", "/dev/zero")
    assert result.exit_code == 2, result.output
    assert "NUL" in result.stderr
    result = cli("unit", "import", "/dev/zero")
    assert result.exit_code == 2, result.output


def test_a_minutes_file_too_large_is_refused(cli, initialised, tmp_path):
    path = tmp_path / "minutes.txt"
    with path.open("wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    result = cli("meeting", "add", "--title", "第一次联席会议", "--minutes", str(path))
    assert result.exit_code == 2, result.output
    assert "larger than" in result.stderr


def _rows_file(path: Path, rows: int) -> Path:
    units = ("cgj", "czj", "scjgj", "sthjj", "zjj", "rsj", "wjj", "yjj")
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["kind", "title", "direction", "from_unit", "unit", "opened_on", "party",
                      "note"])
        for i in range(rows):
            out.writerow(["referral", f"某某区某街道涉嫌违法案件第{i}号线索移送", "to-criminal",
                          units[i % len(units)], "gaj", f"2024-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                          "张某", "已电话联系对方经办人，约定下周送达材料"])
    return path


@pytest.mark.slow
def test_an_imports_memory_is_a_batch_not_the_file(initialised, tmp_path):
    """40,000 rows (6.6 MB): 300 MB before rows were streamed in batches, about 85 MB now
    (the process alone, without an import, is about 60 MB)."""
    path = _rows_file(tmp_path / "rows.csv", 40_000)
    code, stderr, peak = peak_run(["import", "csv", str(path)], tmp_path, timeout=600)
    assert code == 0, stderr
    assert peak < 60 + 2 * path.stat().st_size // 2**20 + 60, peak
    assert _items(initialised) == 40_000


def test_a_user_name_longer_than_a_name_is_refused(cli, initialised, monkeypatch):
    monkeypatch.setenv("FUJIAN_USER", "u" * (NAME_CHARS + 1))
    result = cli(*ADD, "--title", "案")
    assert result.exit_code == 2, result.output
    assert result.stderr == f"error: FUJIAN_USER is {NAME_CHARS + 1} characters long; it takes " \
                            f"at most {NAME_CHARS}.\n"
    assert _items(initialised) == 0
