"""Issue 22, point 5: an entry voided as a mistake never passes for an ordinary open item —
`list --status all`, `list --include-void` and `search --include-void` mark it (作废 in a table,
``void`` in plain; JSON carries its void_reason); CSV keeps the status an import reads."""

from __future__ import annotations

import pytest

ADD = ("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
       "--title")


@pytest.fixture
def one_void(cli, initialised):
    assert cli(*ADD, "重复登记的案").exit_code == 0
    assert cli(*ADD, "正常的案").exit_code == 0
    assert cli("void", "R1", "--reason", "与R2重复").exit_code == 0


@pytest.mark.parametrize("args", [("list", "--status", "all"), ("list", "--include-void"),
                                  ("search", "案", "--include-void")])
def test_a_void_entry_is_marked_in_plain_and_table(cli, one_void, args):
    plain = cli(*args, "--format", "plain").stdout.splitlines()
    status = plain[0].split("\t").index("status")
    by_id = {line.split("\t")[0]: line.split("\t")[status] for line in plain[1:]}
    assert by_id == {"R1": "void", "R2": "open"}
    table = cli(*args, "--format", "table").stdout
    assert "作废" in table


def test_json_and_csv_keep_the_status_and_say_why(cli, one_void):
    rows = {r["id"]: r for r in cli.json("list", "--status", "all")}
    assert rows["R1"]["status"] == "open" and rows["R1"]["void_reason"] == "与R2重复"
    assert "void_reason" not in rows["R2"]
    csv_text = cli("list", "--status", "all", "--format", "csv").stdout
    assert ",void," not in csv_text
