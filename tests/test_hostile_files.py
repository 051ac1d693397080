"""Issue 21, cases 4 and 14 (and 13): files written by exports under hostile names and paths.

Real units in a real database, real files and links in the test's folder. Unit names that the
interface may refuse one day (control characters, very long names) are stored behind fujian's
back, as an older version or another program could have left them.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from conftest import is_url, location_text
from openpyxl import load_workbook

from fujian.service.workbook import spreadsheet_unescape

AS_OF = "2025-03-20"
WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])", re.IGNORECASE)


def ok(result) -> None:
    assert result.exit_code == 0, result.output


def set_unit_name(location, code: str, name: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    location = location_text(location)
    url = location if is_url(location) else f"sqlite:///{location}"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE unit SET name = :name WHERE code = :code"),
                               {"name": name, "code": code})
    finally:
        engine.dispose()


def owing_units(cli, db_path, names: dict[str, str]) -> None:
    """A unit per code, named as given, each holding an overdue referral (as of AS_OF)."""
    for n, (code, name) in enumerate(names.items()):
        ok(cli("unit", "add", code, "--name", f"临时单位{n}"))
        set_unit_name(db_path, code, name)
        ok(cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", code,
               "--title", f"案件{n}", "--on", "2025-01-02"))


def notice_units(folder: Path) -> dict[str, str]:
    """File name -> the unit named inside the notice (its B2 cell)."""
    return {p.name: spreadsheet_unescape(load_workbook(p).worksheets[0]["B2"].value)
            for p in folder.iterdir()}


def windows_safe(file: str) -> bool:
    stem = file[:-len(".xlsx")] if file.endswith(".xlsx") else file
    return (not re.search(r'[<>:"/\\|?*]', file)
            and not any(unicodedata.category(c)[0] in "CZ" and c != " " for c in file)
            and not file.endswith((".", " ")) and not file.startswith((" ", "."))
            and not WINDOWS_RESERVED.fullmatch(stem.split(".")[0].strip())
            and len(file) <= 100 and len(file.encode()) <= 240)


# -- case 4: reminder notices, one per unit, every one written ------------------------------------


def test_reminder_names_that_clean_to_the_same_file_each_get_their_own(cli, initialised,
                                                                       tmp_path):
    """A/B, A?B and A_B clean to one name; "A_B." falls back to "A_B-x", another unit's name:
    before, one notice overwrote another and the count still said every one was written."""
    units = {"ab1": "A/B", "ab2": "A?B", "ab3": "A_B", "b": "A_B-x", "x": "A_B.", "lo": "a_b"}
    owing_units(cli, initialised, units)
    folder = tmp_path / "notices"
    r = cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF)
    ok(r)
    written = notice_units(folder)
    assert len(written) == len({f.casefold() for f in written})  # unique, case folded
    assert sorted(written.values()) == sorted(units.values())  # every unit has its own notice
    assert f"Wrote {len(units)} reminder notices" in r.stderr
    assert all(windows_safe(f) for f in written)


def test_reminder_names_are_safe_on_windows_and_show_no_hidden_characters(cli, initialised,
                                                                          tmp_path):
    units = {"con": "CON", "nul": "nul.txt", "com1": "COM1", "lpt9": "Lpt9 ",
             "dots": "分局. . ", "rlo": "\u202egpj.exe\u200b", "ctl": "甲\x07乙\x1b[31m",
             "long": "长" * 200, "long2": "长" * 199 + "短", "blank": " . ",
             "wide": "A" * 300}
    owing_units(cli, initialised, units)
    folder = tmp_path / "notices"
    r = cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF)
    ok(r)
    written = notice_units(folder)
    bad = [f for f in written if not windows_safe(f)]
    assert bad == []
    assert {"_CON.xlsx", "_nul.txt.xlsx", "_COM1.xlsx", "_Lpt9.xlsx", "分局.xlsx",
            "_gpj.exe_.xlsx", "甲_乙_[31m.xlsx", "blank.xlsx"} <= set(written)
    assert sorted(written.values()) == sorted(units.values())
    assert f"Wrote {len(units)} reminder notices" in r.stderr
    assert len(written) == len({f.casefold() for f in written})


def test_reminder_names_are_all_checked_before_any_is_written(cli, initialised, tmp_path):
    """A notice whose name is taken by a folder is refused before any notice is written."""
    owing_units(cli, initialised, {"aa": "甲单位", "bb": "乙单位", "cc": "丙单位"})
    folder = tmp_path / "notices"
    (folder / "甲单位.xlsx").mkdir(parents=True)  # the last of the three, by name
    r = cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF, "--force")
    assert r.exit_code == 2
    assert "甲单位.xlsx" in r.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["甲单位.xlsx"]


# -- case 14: links are not followed unless --force says so ---------------------------------------


def test_export_csv_refuses_a_dangling_link_without_force(cli, initialised, tmp_path):
    link = tmp_path / "out.csv"
    target = tmp_path / "elsewhere.csv"
    link.symlink_to(target)
    r = cli("export", "csv", "-o", str(link))
    assert r.exit_code == 2
    assert "is a link to" in r.stderr and "--force" in r.stderr and str(target) in r.stderr
    assert not target.exists() and link.is_symlink()
    ok(cli("export", "csv", "-o", str(link), "--force"))  # the link is meant: written as before
    assert target.read_text(encoding="utf-8-sig").startswith("编号")
    assert link.is_symlink()


def test_export_csv_refuses_a_link_to_a_file_without_force(cli, initialised, tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("keep me", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(target)
    r = cli("export", "csv", "-o", str(link))
    assert r.exit_code == 2 and "is a link to" in r.stderr and "--force" in r.stderr
    assert target.read_text(encoding="utf-8") == "keep me"
    ok(cli("export", "csv", "-o", str(link), "--force"))
    assert target.read_text(encoding="utf-8-sig").startswith("编号") and link.is_symlink()


@pytest.mark.parametrize("name", ["pack", "pack.xlsx"])
def test_export_pack_refuses_a_dangling_link_without_force(cli, initialised, tmp_path, name):
    link = tmp_path / name
    target = tmp_path / f"elsewhere-{name}"
    link.symlink_to(target)
    r = cli("export", "pack", "-o", str(link))
    assert r.exit_code == 2
    assert "is a link to" in r.stderr and "--force" in r.stderr
    assert not target.exists() and link.is_symlink()


def test_export_pack_refuses_a_link_to_an_empty_folder_without_force(cli, initialised, tmp_path):
    target = tmp_path / "real"
    target.mkdir()
    link = tmp_path / "pack"
    link.symlink_to(target)
    r = cli("export", "pack", "-o", str(link))
    assert r.exit_code == 2 and "is a link to" in r.stderr and "--force" in r.stderr
    assert list(target.iterdir()) == []
    ok(cli("export", "pack", "-o", str(link), "--force"))
    assert (target / "overdue.csv").is_file()


def test_export_reminders_refuses_links_without_force(cli, initialised, tmp_path):
    owing_units(cli, initialised, {"aa": "甲单位"})
    link = tmp_path / "notices"
    target = tmp_path / "elsewhere"
    link.symlink_to(target)
    r = cli("export", "reminders", "-o", str(link), "--as-of", AS_OF)
    assert r.exit_code == 2 and "is a link to" in r.stderr and "--force" in r.stderr
    assert not target.exists() and link.is_symlink()
    # A notice's own name a link, in a folder written with --force: the link is meant.
    folder = tmp_path / "folder"
    folder.mkdir()
    outside = tmp_path / "outside.xlsx"
    outside.write_bytes(b"old")
    (folder / "甲单位.xlsx").symlink_to(outside)
    ok(cli("export", "reminders", "-o", str(folder), "--as-of", AS_OF, "--force"))
    assert outside.read_bytes().startswith(b"PK")
    assert (folder / "甲单位.xlsx").is_symlink()
    assert sorted(os.listdir(folder)) == ["甲单位.xlsx"]


# -- case 13: a write that fails leaves no truncated file ----------------------------------------

LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))  # SQLite's -shm is 32 KiB
from fujian.cli import main
sys.argv = ["fujian", *sys.argv[1:]]
main()
"""


def run_limited(*args: str) -> subprocess.CompletedProcess:
    """fujian in a child process that cannot write past 64 KiB in any file: a full disk."""
    return subprocess.run([sys.executable, "-c", LIMITED, *args], capture_output=True,
                          text=True, timeout=120, env=os.environ.copy())


@pytest.fixture
def many_overdue(make_item) -> None:
    """150 overdue referrals to gaj with long titles that do not compress: every export of
    them (CSV, pack, gaj's reminder notice) is far over 64 KiB."""
    rng = random.Random(21)
    for n in range(150):
        title = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(400))
        make_item("referral", title=f"{n}号{title}", opened_on="2025-01-02")


@pytest.mark.sqlite_only("RLIMIT_FSIZE would stop a local server's files too")
def test_export_csv_that_fails_half_way_leaves_no_file(initialised, many_overdue, tmp_path):
    out = tmp_path / "items.csv"
    r = run_limited("export", "csv", "-o", str(out))
    assert r.returncode == 3, r.stderr
    assert "items.csv" in r.stderr
    assert os.listdir(tmp_path) == [p for p in os.listdir(tmp_path) if p != "items.csv"]
    assert not [p for p in os.listdir(tmp_path) if "items" in p]  # no partial file either
    # Over an existing file, with --force: the old file is kept whole.
    out.write_text("old", encoding="utf-8")
    r = run_limited("export", "csv", "-o", str(out), "--force")
    assert r.returncode == 3 and out.read_text(encoding="utf-8") == "old"
    assert [p for p in os.listdir(tmp_path) if "items" in p] == ["items.csv"]


@pytest.mark.sqlite_only("RLIMIT_FSIZE would stop a local server's files too")
def test_export_pack_that_fails_half_way_leaves_no_empty_file(initialised, many_overdue,
                                                               tmp_path):
    folder = tmp_path / "pack"
    r = run_limited("export", "pack", "-o", str(folder), "--as-of", AS_OF)
    assert r.returncode == 3, r.stderr
    assert "overdue.csv" in r.stderr
    assert not folder.exists() or os.listdir(folder) == []


@pytest.mark.sqlite_only("RLIMIT_FSIZE would stop a local server's files too")
def test_export_reminders_that_fail_half_way_leave_nothing(cli, initialised, many_overdue,
                                                           tmp_path):
    owing_units(cli, initialised, {"aa": "甲单位", "bb": "乙单位"})  # small notices, written first
    folder = tmp_path / "notices"
    r = run_limited("export", "reminders", "-o", str(folder), "--as-of", AS_OF)
    assert r.returncode == 3, r.stderr
    assert ".xlsx" in r.stderr and "Wrote" not in r.stderr
    assert not folder.exists()
