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
