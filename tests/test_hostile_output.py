"""Issue 21, cases 1 and 8: output never fails on a character, and stored text never reaches a
terminal as something it would obey or hide.

1. Under a locale whose encoding cannot show a character (GBK, ASCII), `list` and `report
   overdue` in every format still exit 0: the character is escaped, the other rows intact.
8. Escape sequences, bidi overrides and zero-width characters are made visible in every
   message on standard error (file paths and CSV headers included), in table and plain
   output, and in `--format csv` at a terminal; a pipe still gets the bytes.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from fujian.render import plain_cell, visible

ROOT = Path(__file__).resolve().parent.parent
EMOJI_TITLE = "假药案 🎉 emoji"
PLAIN_TITLE = "普通案件"


def _run(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "fujian", *args], env=full,
                          capture_output=True, timeout=120, **kwargs)


@pytest.fixture
def emoji_items(cli, initialised):
    """R1 holds an emoji in its title, R2 plain Chinese; both overdue on the tests' today."""
    for title, on in ((EMOJI_TITLE, "2025-03-01"), (PLAIN_TITLE, "2025-03-02")):
        r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
                "--title", title, "--on", on)
        assert r.exit_code == 0, r.stderr
    return initialised


# -- 1. a locale that cannot show a character ---------------------------------------------------

def _locales() -> set[str]:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {line.strip().lower().replace("-", "") for line in out.splitlines()}


@pytest.fixture(scope="session")
def gbk_locale(tmp_path_factory) -> dict[str, str]:
    """The environment of the zh_CN.GBK locale: the system's, else one built with localedef
    in a temporary folder (LOCPATH); skips when neither is possible."""
    if "zh_cn.gbk" in _locales():
        return {}
    folder = tmp_path_factory.mktemp("locale")
    try:
        built = subprocess.run(["localedef", "-i", "zh_CN", "-f", "GBK",
                                str(folder / "zh_CN.GBK")], capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("the zh_CN.GBK locale is not installed and localedef is not available")
    if not (folder / "zh_CN.GBK").is_dir():
        pytest.skip(f"the zh_CN.GBK locale could not be built: {built.stderr[-200:]!r}")
    return {"LOCPATH": str(folder)}


ENVIRONMENTS = [
    pytest.param({"PYTHONIOENCODING": "gbk"}, "gbk", id="PYTHONIOENCODING=gbk"),
    pytest.param({"PYTHONIOENCODING": "ascii"}, "ascii", id="PYTHONIOENCODING=ascii"),
    pytest.param({"PYTHONIOENCODING": "gbk:strict"}, "gbk", id="PYTHONIOENCODING=gbk:strict"),
    # The case as reported: an older Chinese server's locale (no PYTHONIOENCODING).
    pytest.param({"LC_ALL": "zh_CN.GBK", "LANG": "zh_CN.GBK"}, "gbk", id="LC_ALL=zh_CN.GBK"),
]


@pytest.mark.parametrize("fmt", ["table", "plain", "csv", "json"])
@pytest.mark.parametrize("command", [["list"], ["report", "overdue"]], ids=["list", "overdue"])
@pytest.mark.parametrize(("env", "encoding"), ENVIRONMENTS)
def test_a_locale_that_cannot_show_a_character_still_reports(emoji_items, request, monkeypatch,
                                                              env, encoding, command, fmt):
    if "LC_ALL" in env:  # the locale's own encoding, nothing forced
        env = {**env, **request.getfixturevalue("gbk_locale")}
        monkeypatch.delenv("PYTHONIOENCODING", raising=False)
        monkeypatch.delenv("PYTHONUTF8", raising=False)
    r = _run(*command, "--format", fmt, env=env)
    assert r.returncode == 0, r.stderr.decode(encoding, "replace")
    out = r.stdout.decode(encoding)  # the locale's encoding, every byte of it
    err = r.stderr.decode(encoding)
    assert "Traceback" not in err and "internal error" not in err
    if encoding == "gbk":
        assert PLAIN_TITLE in out  # the other rows intact, Chinese as it is
    else:
        assert "\\u666e\\u901a\\u6848\\u4ef6" in out  # the other row, escaped
    assert "🎉" not in out
    if fmt == "json":
        rows = json.loads(out)
        if command == ["list"]:
            # JSON escapes what the encoding cannot hold as JSON does: read back, it is the title
            assert {row["title"] for row in rows} == {EMOJI_TITLE, PLAIN_TITLE}
        else:
            assert len(rows) == 2
            assert {row["title"] for row in rows} == {EMOJI_TITLE, PLAIN_TITLE}
    else:
        assert "\\U0001f389" in out  # shown as an escape, not lost


def test_a_file_keeps_its_encoding_under_a_gbk_locale(emoji_items, tmp_path):
    """-o writes the file's own encoding (UTF-8 with BOM by default) whatever the locale."""
    target = tmp_path / "out.csv"
    r = _run("export", "csv", "-o", str(target), env={"PYTHONIOENCODING": "gbk"})
    assert r.returncode == 0, r.stderr.decode("gbk", "replace")
    assert EMOJI_TITLE in target.read_text(encoding="utf-8-sig")


def test_a_message_with_a_character_the_locale_cannot_show(emoji_items):
    """An error quoting text the encoding cannot hold is one escaped line, its own exit code."""
    r = _run("show", "R🎉", env={"PYTHONIOENCODING": "gbk:strict"})
    assert r.returncode == 2, r.stderr
    err = r.stderr.decode("gbk")
    assert err.count("\n") == 1 and "Traceback" not in err and "internal error" not in err


# -- 8. nothing in stored text or arguments reaches a terminal as a command ----------------------

HIDDEN = "\x1b]0;pwned\x07\x1b[2J\u202e\u200b\x9b31m\u2066\ufeff"


def test_visible_shows_bidi_zero_width_and_c1_controls():
    shown = visible("a\u202eb\u200bc\u200dd\x9be\u2028f\U000e0041g\x1bh\ti\nj")
    assert shown == ("a\\u202eb\\u200bc\\u200dd\\x9be\\u2028f\\U000e0041g\\x1bh\ti\nj")
    assert visible("府检联动 😀「」\u3000") == "府检联动 😀「」\u3000"  # printable text as it is


def test_every_invisible_or_control_character_is_escaped():
    """Every control (Cc), format (Cf: bidi, zero-width, tags), line/paragraph separator and
    surrogate code point Python knows is shown as an escape, in a terminal and in plain text."""
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs") and char not in "\t\n":
            assert visible(char).startswith("\\"), hex(code)
            assert plain_cell(char).startswith("\\"), hex(code)
    assert plain_cell("a\tb\nc\\d\u202e") == "a\\tb\\nc\\\\d\\u202e"


def test_an_unknown_csv_header_is_shown_not_obeyed(cli, initialised, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(f"title,{HIDDEN}evil\n", encoding="utf-8")
    r = cli("import", "csv", str(path))
    assert r.exit_code == 2
    assert "Unknown column" in r.stderr
    assert not _raw(r.stderr), r.stderr
    assert "\\x1b]0;pwned\\x07" in r.stderr and "\\u202e" in r.stderr


def _raw(text: str) -> list[str]:
    """The characters of ``text`` a terminal would obey or hide (tab and newline aside)."""
    return [c for c in text if c not in "\t\n"
            and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")]


def test_a_file_path_in_an_error_is_shown_not_obeyed(cli, initialised, tmp_path):
    missing = tmp_path / f"no{HIDDEN}file.csv"
    r = cli("import", "csv", str(missing))
    assert r.exit_code != 0
    assert "\\x1b[2J" in r.stderr and not _raw(r.stderr), r.stderr
    r = cli("export", "csv", "-o", str(tmp_path / f"no{HIDDEN}dir" / "x.csv"))
    assert r.exit_code == 2
    assert "\\x1b[2J" in r.stderr and not _raw(r.stderr), r.stderr


def test_a_note_naming_a_file_is_shown_not_obeyed(cli, initialised, tmp_path):
    target = tmp_path / f"out{HIDDEN}.csv"
    r = cli("export", "csv", "-o", str(target))
    assert r.exit_code == 0, r.stderr
    assert target.exists()  # the file is the name asked for; only its mention is escaped
    assert "Wrote" in r.stderr and not _raw(r.stderr), r.stderr


def test_a_usage_error_echoing_an_argument_is_shown_not_obeyed(initialised):
    r = _run("list", f"--bogus{HIDDEN}")
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "--bogus" in err and not _raw(err), err


@pytest.fixture
def hidden_item(cli, initialised):
    r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
            "--title", f"右{HIDDEN}左", "--party", "零\u200b宽", "--on", "2025-03-01")
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("fmt", ["table", "plain"])
@pytest.mark.parametrize("command", [["list"], ["report", "overdue"], ["show", "R1"],
                                     ["search", "右"]])
def test_table_and_plain_show_bidi_and_zero_width(cli, hidden_item, command, fmt):
    r = cli(*command, "--format", fmt)
    assert r.exit_code == 0, r.stderr
    assert not _raw(r.stdout), repr(r.stdout)
    assert "\\u202e" in r.stdout and "\\u200b" in r.stdout


def _at_a_terminal(*args: str) -> bytes:
    """What `fujian ARGS` writes to a terminal (a pseudo-terminal: isatty() is true)."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "fujian", *args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    try:
        while True:
            ready, _w, _x = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        proc.stderr.close()
    return b"".join(chunks)


def test_csv_at_a_terminal_is_escaped_and_a_pipe_gets_the_bytes(hidden_item):
    shown = _at_a_terminal("list", "--format", "csv").decode()
    assert "\\x1b]0;pwned\\x07" in shown and "\\u202e" in shown
    assert not _raw(shown.replace("\r", "")), repr(shown)  # the terminal's own line ends aside
    piped = _run("list", "--format", "csv")
    assert piped.returncode == 0
    assert HIDDEN.encode() in piped.stdout  # a pipe or a file: the stored text, every byte


def test_a_workbook_header_and_sheet_name_are_shown_not_obeyed(cli, initialised, tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "hostile.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "表\u202e\u200b\x9b1"
    sheet.append(["title", "列\x9b31m\u202e\u200b"])
    sheet.append(["a title", "x"])
    workbook.save(path)
    r = cli("import", "xlsx", str(path))
    assert r.exit_code == 2
    assert "Unknown column" in r.stderr and not _raw(r.stderr), repr(r.stderr)
    assert "\\x9b31m\\u202e\\u200b" in r.stderr and "表\\u202e\\u200b\\x9b1" in r.stderr


def test_json_at_a_terminal_escapes_bidi_and_reads_back_the_same(hidden_item):
    shown = _at_a_terminal("list", "--format", "json").decode()
    assert not _raw(shown.replace("\r", "")), repr(shown)
    assert "\\u202e" in shown and "\\u200b" in shown
    assert json.loads(shown)[0]["title"] == f"右{HIDDEN}左"  # the stored text, read back
    piped = _run("list", "--format", "json")
    assert "\u202e".encode() in piped.stdout  # a pipe: the characters themselves
