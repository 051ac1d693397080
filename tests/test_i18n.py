"""The Chinese interface: every user-facing string has a zh_CN translation, messages follow
the language, and machine output (plain, CSV, JSON) is byte-for-byte the same in both."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fujian import i18n
from fujian.kinds import DUE_SOON_COLUMNS, KINDS, OVERDUE_COLUMNS, SUMMARY_COLUMNS, columns_for

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
sys.path.insert(0, str(ROOT / "tools"))


def test_every_message_has_a_translation():
    messages = pytest.importorskip("messages")
    assert messages.problems() == []


def test_catalog_ships_inside_the_package():
    mo = Path(i18n.__file__).parent / "locale" / "zh_CN" / "LC_MESSAGES" / "fujian.mo"
    assert mo.exists()


@pytest.mark.parametrize(("env", "expected"), [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LC_ALL": "C", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
    ({"FUJIAN_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"FUJIAN_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
    ({"FUJIAN_LANG": "zh_CN"}, "zh"),
])
def test_language_choice(monkeypatch, env, expected):
    for var in ("FUJIAN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert i18n.language() == expected


def test_table_headers_follow_the_language(monkeypatch):
    columns = [*OVERDUE_COLUMNS, *DUE_SOON_COLUMNS, *SUMMARY_COLUMNS,
               *(c for k in KINDS.values() for c in columns_for(k, everything=True))]
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    assert all(c.header == c.label for c in columns)
    monkeypatch.setenv("FUJIAN_LANG", "en")
    assert all(c.header.isascii() and c.header for c in columns)


def _zh(message: str, monkeypatch) -> str:
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    try:
        return i18n._(message)
    finally:
        monkeypatch.setenv("FUJIAN_LANG", "en")


ERROR_CASES = [
    (("show", "R9"), "No item {id}.", {"id": "R9"}),
    (("referral", "add", "--direction", "to-criminal", "--from", "nowhere", "--to", "gaj",
      "--title", "x"),
     "Unknown unit {text!r}: give a code or the exact name from `fujian unit list`.",
     {"text": "nowhere"}),
    (("calendar", "due", "2025-01-01", "3x"),
     "Not a period: {text!r}. Write 3d (days), 10wd (working days) or 2m (months).",
     {"text": "3x"}),
    (("reopen", "R1", "--reason", "r"), "{id} is open: there is nothing to reopen.",
     {"id": "R1"}),
]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(("args", "message", "values"), ERROR_CASES)
def test_errors_in_both_languages(cli, initialised, monkeypatch, lang, args, message, values):
    assert cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
               "--title", "案件").exit_code == 0
    monkeypatch.setenv("FUJIAN_LANG", lang)
    r = cli(*args)
    assert r.exit_code == 2
    expected = (i18n._("error: ") + i18n._(message).format(**values) + "\n")
    assert r.stderr == expected
    if lang == "zh":
        assert CJK.search(r.stderr.replace("区", "")) and "Unknown" not in r.stderr
        assert expected != "error: " + message.format(**values) + "\n"


def _machine_outputs(cli, tmp_path, tag) -> dict[str, bytes]:
    outputs = {}
    for args in (("list", "--status", "all", "--format", "plain"),
                 ("list", "--status", "all", "--format", "csv"),
                 ("list", "--status", "all", "--format", "json"),
                 ("report", "overdue"), ("report", "overdue", "--format", "json"),
                 ("report", "summary", "--format", "csv"), ("unit", "list"),
                 ("history", "R1", "--format", "json"), ("show", "M1", "--format", "json"),
                 ("calendar", "due", "2025-01-15", "2m", "--format", "json")):
        r = cli(*args)
        assert r.exit_code == 0, (args, r.stderr)
        outputs[" ".join(args)] = r.stdout_bytes
    target = tmp_path / f"export-{tag}.csv"
    assert cli("export", "csv", "-o", str(target)).exit_code == 0
    outputs["export"] = target.read_bytes()
    return outputs


def test_machine_output_is_the_same_in_both_languages(cli, initialised, tmp_path, monkeypatch):
    cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
        "--title", "某公司销售假药案", "--on", "2025-02-01")
    cli("meeting", "add", "--title", "联席会议", "--on", "2025-03-01")
    cli("action", "add", "--meeting", "M1", "--unit", "scjgj", "--title", "检查", "--due",
        "2025-03-05")
    cli("close", "R1", "--outcome", "filed", "--on", "2025-02-03")
    cli("reopen", "R1", "--reason", "补正")
    monkeypatch.setenv("FUJIAN_LANG", "en")
    english = _machine_outputs(cli, tmp_path, "en")
    monkeypatch.setenv("FUJIAN_LANG", "zh")
    chinese = _machine_outputs(cli, tmp_path, "zh")
    history_en = english.pop("history R1 --format json")
    history_zh = chinese.pop("history R1 --format json")
    # The change log records timestamps; compare it without the 'at' values.
    strip = re.compile(rb'"at": "[^"]*"')
    assert strip.sub(b"", history_en) == strip.sub(b"", history_zh)
    assert english == chinese


def _run(args: list[str], lang: str) -> str:
    env = {**os.environ, "FUJIAN_LANG": lang, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    r = subprocess.run([sys.executable, "-m", "fujian", *args], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_help_reads_chinese(monkeypatch):
    top = _run(["--help"], "zh")
    add = _run(["referral", "add", "--help"], "zh")
    english = _run(["referral", "add", "--help"], "en")
    assert "案件移送" in top and "检察建议" in top and "议定事项" in top
    # Every option's help is translated: no English sentence is left in the options block.
    options = add.split("Options:")[-1] if "Options:" in add else add
    assert CJK.search(options)
    assert "Receiving unit" not in add and "Receiving unit" in english
    assert "--direction" in add and "--to" in add  # option names stay English
    assert "Options:" not in add and "选项" in add and "required" not in add  # Typer's words too
    assert "Show this message" not in add
    assert add.startswith("用法：") and "Usage:" not in add  # Click's own word too
    zh_first_line = _zh_text("Add a {label} ({code}); prints its ID.\n\nExample:\n\n"
                             "    {example}", monkeypatch).splitlines()[0]
    assert zh_first_line.format(label="案件移送", code="referral") in add


def _zh_text(message: str, monkeypatch) -> str:
    return _zh(message, monkeypatch)


@pytest.mark.parametrize(("args", "english", "chinese"), [
    (["referral", "add", "--title", "x"], "Missing option '--direction'.", "缺少选项"),
    (["refferal"], "Did you mean 'referral'?", "referral"),
    (["show", "R1", "R2"], "unexpected extra argument", "多余的参数"),
])
def test_usage_errors_in_both_languages(tmp_path, args, english, chinese):
    for lang, expected in (("en", english), ("zh", chinese)):
        env = {**os.environ, "FUJIAN_LANG": lang, "PYTHONPATH": str(ROOT),
               "FUJIAN_DB": str(tmp_path / "f.db")}
        r = subprocess.run([sys.executable, "-m", "fujian", *args], env=env,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2
        assert r.stderr.count("\n") == 1 and expected in r.stderr, r.stderr
        assert r.stderr.startswith("错误：" if lang == "zh" else "error: ")
