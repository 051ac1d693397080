"""Issue 22, point 4: the Chinese help describes every command — Click cut a Chinese first
sentence at spaces it does not have, and `fujian --help` listed backup, search, rules and
doctor as "..." alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

GROUPS = ((), ("report",), ("export",), ("import",), ("unit",), ("calendar",), ("referral",),
          ("assist",))


@pytest.mark.parametrize("group", GROUPS)
def test_every_command_listed_in_chinese_help_has_words(group):
    env = {**os.environ, "FUJIAN_LANG": "zh_CN"}
    done = subprocess.run([sys.executable, "-m", "fujian", *group, "--help"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("命令:")[1] if "命令:" in done.stdout else done.stdout
    entries = re.findall(r"^  (\S+)\s+(.*)$", listed, flags=re.MULTILINE)
    assert entries, done.stdout
    for name, text in entries:
        assert re.search(r"[\u4e00-\u9fff]", text), (name, text)  # words, not "..." alone
        assert not text.endswith("..."), (name, text)


def test_an_os_error_is_told_in_the_readers_language(cli, initialised, monkeypatch, tmp_path):
    """`Read-only file system`, `No such file or directory` stayed English inside a Chinese
    sentence; now the catalog's words ("文件或文件夹不存在")."""
    monkeypatch.setenv("FUJIAN_LANG", "zh_CN")
    result = cli("import", "csv", str(tmp_path / "absent.csv"))
    assert result.exit_code == 2
    assert "文件或文件夹不存在" in result.stderr and "No such file" not in result.stderr


def test_chinese_messages_name_stages_by_label(cli, initialised, monkeypatch):
    """`X1 处于 requested 阶段` named a stage by its code in a Chinese sentence; now by its label,
    with the code a person types for --stage."""
    assert cli("assist", "add", "--type", "query", "--to", "zjj", "--title", "查询").exit_code == 0
    monkeypatch.setenv("FUJIAN_LANG", "zh_CN")
    result = cli("assist", "escalate", "X1")
    assert result.exit_code == 2
    assert "协助函已送达（requested）" in result.stderr and "拒绝或妨碍（obstructed）" in result.stderr
    monkeypatch.setenv("FUJIAN_LANG", "en")
    assert "is at stage requested: escalate needs stage obstructed" in cli(
        "assist", "escalate", "X1").stderr


def test_a_documents_error_is_one_language_whole(cli, initialised, monkeypatch, tmp_path):
    """The pack is written in Chinese on a cron machine whose locale is C; its errors came out
    as "error: 无法写入 …". Now the line is Chinese whole."""
    monkeypatch.delenv("FUJIAN_LANG")
    monkeypatch.setenv("LANG", "C")
    result = cli("export", "pack", "-o", str(tmp_path / "absent" / "pack.xlsx"))
    assert result.exit_code in (2, 3), result.output
    assert result.stderr.startswith("错误：") and "error:" not in result.stderr, result.stderr


def test_a_note_fujian_writes_is_shown_in_the_readers_language(cli, initialised, monkeypatch):
    """`Opened from X1 (escalate).` was stored in the language of the session that wrote it,
    so an English line landed in a Chinese pack."""
    from conftest import query_rows

    assert cli("assist", "add", "--type", "query", "--to", "zjj", "--title", "查询").exit_code == 0
    assert cli("assist", "update", "X1", "--stage", "obstructed").exit_code == 0
    assert cli("assist", "escalate", "X1").exit_code == 0  # an English session
    stored = [r["text"] for r in query_rows(initialised, "SELECT text FROM note ORDER BY id")]
    assert stored == ["escalate：已制发 S1，送达区住房和城市更新局。", "由 X1 制发（escalate）。"]
    assert [n["text"] for n in cli.json("show", "S1")["notes"]] == ["Opened from X1 (escalate)."]
    monkeypatch.setenv("FUJIAN_LANG", "zh_CN")
    assert [n["text"] for n in cli.json("show", "S1")["notes"]] == ["由 X1 制发（escalate）。"]
    assert cli.json("show", "S1")["note"] == "由 X1 制发（escalate）。"  # exports are documents
