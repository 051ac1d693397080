def test_demo_like_flow(cli, initialised):
    r = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj", "--to", "gaj",
            "--title", "案", "--on", "2025-03-01")
    assert r.exit_code == 0, r.output
    assert r.stdout == "R1\n"
    rows = cli.json("list")
    assert rows[0]["id"] == "R1"
    assert rows[0]["due_on"] == "2025-03-04"
