"""The unit directory (成员单位 and their 联络员): the service, the `fujian unit` commands, the
shipped directory loaded by `init`, and lookup by Chinese name wherever a unit is taken."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import query_rows, table_dump

from fujian.errors import BadInput, NotFound
from fujian.resources import data_file
from fujian.service import units as unit_ops
from fujian.storage import as_location

VALID_KINDS = "government, procuratorate, police, other"


def shipped_units() -> list[dict]:
    with data_file("units.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def change_log(path: Path | str, subject: str | None = None) -> list[tuple]:
    sql = "SELECT actor, subject, action, field, old_value, new_value FROM change_log"
    if subject is not None:
        sql += " WHERE subject = :subject"
    return [tuple(r.values()) for r in query_rows(path, sql + " ORDER BY id",
                                                  {"subject": subject})]


def unit_row(path: Path | str, code: str) -> dict | None:
    rows = query_rows(path, "SELECT code, name, liaison, phone, kind FROM unit WHERE code = :c",
                      {"c": code})
    return rows[0] if rows else None


def write_csv(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def assert_bad_input(result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


# -- the shipped directory -------------------------------------------------------------------


def test_default_directory_is_loaded(tracker):
    expected = shipped_units()
    assert len(expected) == 30
    listed = tracker.list_units()
    assert [u["code"] for u in listed] == sorted(r["code"] for r in expected)
    by_code = {u["code"]: u for u in listed}
    for row in expected:
        assert by_code[row["code"]] == {"code": row["code"], "name": row["name"],
                                        "liaison": None, "phone": None, "kind": row["kind"]}
    assert by_code["gaj"]["kind"] == "police"
    assert by_code["jcy"]["kind"] == "procuratorate"


def test_default_directory_loads_once(tracker):
    tracker.update_unit("scjgj", liaison="张三")
    tracker.update_unit("gaj", name="市公安局江夏区分局(新)")
    assert tracker.load_default_units() == {"added": 0, "updated": 0, "unchanged": 30}
    units = {u["code"]: u for u in tracker.list_units()}
    assert len(units) == 30
    assert units["scjgj"]["liaison"] == "张三"
    assert units["gaj"]["name"] == "市公安局江夏区分局(新)"


def test_init_twice_adds_nothing_and_keeps_edits(cli, db_path):
    first = cli("init")
    assert first.exit_code == 0, first.output
    assert first.stderr == f"Created {as_location(db_path)}; units: 30 added.\n"
    assert cli("unit", "update", "scjgj", "--liaison", "张三", "--phone", "027-1").exit_code == 0
    before = table_dump(db_path)
    second = cli("init")
    assert second.exit_code == 0, second.output
    assert second.stderr == f"Checked {as_location(db_path)}; units: 0 added.\n"
    assert table_dump(db_path) == before  # not even a change-log row
    assert unit_row(db_path, "scjgj")["liaison"] == "张三"
    assert unit_row(db_path, "scjgj")["phone"] == "027-1"


def test_init_logs_every_unit_created_by_the_user(initialised):
    rows = change_log(initialised)
    assert len(rows) == 30
    assert {r[0] for r in rows} == {"tester"}
    assert {r[2] for r in rows} == {"create"}
    assert ("tester", "unit:gaj", "create", None, None, "市公安局江夏区分局|||police") in rows


# -- adding ----------------------------------------------------------------------------------


def test_add_unit_service(tracker, store):
    assert tracker.add_unit("ABC", " 某单位 ", "张三", "027-1", "Other") == "abc"
    unit = {u["code"]: u for u in tracker.list_units()}["abc"]
    assert unit == {"code": "abc", "name": "某单位", "liaison": "张三", "phone": "027-1",
                    "kind": "other"}
    assert change_log(store.location, "unit:abc") == [
        ("tester", "unit:abc", "create", None, None, "某单位|张三|027-1|other")]


def test_add_unit_defaults_and_blanks(tracker):
    tracker.add_unit("abc", "某单位", "", "   ")
    unit = {u["code"]: u for u in tracker.list_units()}["abc"]
    assert unit["liaison"] is None and unit["phone"] is None
    assert unit["kind"] == "government"


@pytest.mark.parametrize("code", ["", "1abc", "a b", "中文", "a.b", "a" * 33, "-ab"])
def test_add_unit_rejects_bad_codes(tracker, store, code):
    before = table_dump(store.location)
    with pytest.raises(BadInput, match="Not a unit code"):
        tracker.add_unit(code, "某单位")
    assert table_dump(store.location) == before


def test_longest_code_is_accepted(tracker):
    assert tracker.add_unit("a" * 32, "某单位") == "a" * 32


@pytest.mark.parametrize("code,name,message", [
    ("scjgj", "新单位", "Unit scjgj already exists"),
    ("SCJGJ", "新单位", "Unit scjgj already exists"),
    ("new", "区市场监督管理局", "A unit named 区市场监督管理局 already exists"),
    ("new", " 区市场监督管理局 ", "A unit named 区市场监督管理局 already exists"),
    ("new", "   ", "needs a name"),
])
def test_add_unit_refuses_duplicates_and_blanks(tracker, store, code, name, message):
    before = table_dump(store.location)
    with pytest.raises(BadInput, match=message):
        tracker.add_unit(code, name)
    assert table_dump(store.location) == before


def test_cli_add_unit(cli, initialised):
    result = cli("unit", "add", "abc", "--name", "某单位", "--liaison", "张三", "--phone",
                 "027-8888", "--kind", "police")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "Added unit abc.\n"
    assert unit_row(initialised, "abc") == {"code": "abc", "name": "某单位", "liaison": "张三",
                                            "phone": "027-8888", "kind": "police"}
    assert change_log(initialised, "unit:abc") == [
        ("tester", "unit:abc", "create", None, None, "某单位|张三|027-8888|police")]


@pytest.mark.parametrize("args,words", [
    (("scjgj", "--name", "新单位"), ("Unit scjgj already exists",)),
    (("new", "--name", "区市场监督管理局"), ("already exists", "区市场监督管理局")),
    (("new", "--name", "新单位", "--kind", "army"), ("army", VALID_KINDS)),
    (("new unit", "--name", "新单位"), ("Not a unit code",)),
])
def test_cli_add_unit_refused_changes_nothing(cli, initialised, snapshot, args, words):
    before = snapshot(initialised)
    assert_bad_input(cli("unit", "add", *args), *words)
    assert snapshot(initialised) == before


def test_cli_add_unit_needs_a_name(cli, initialised, snapshot):
    before = snapshot(initialised)
    result = cli("unit", "add", "new")
    assert result.exit_code == 2
    assert "--name" in result.stderr
    assert snapshot(initialised) == before


# -- finding ---------------------------------------------------------------------------------


def test_find_unit_by_code_any_case_or_exact_name(tracker, store):
    with store.reading() as session:
        assert unit_ops.find_unit(session, "gaj").code == "gaj"
        assert unit_ops.find_unit(session, " GAJ ").code == "gaj"
        assert unit_ops.find_unit(session, "市公安局江夏区分局").code == "gaj"
        assert unit_ops.find_unit(session, " 市公安局江夏区分局 ").code == "gaj"
        for text in ("公安", "市公安局江夏区", "", "nope"):
            with pytest.raises(NotFound, match="Unknown unit"):
                unit_ops.find_unit(session, text)


def test_referral_takes_unit_names(cli, initialised):
    result = cli("referral", "add", "--direction", "to-criminal", "--from", "区市场监督管理局",
                 "--to", "gaj", "--title", "x")
    assert result.exit_code == 0, result.output
    assert result.stdout == "R1\n"
    shown = cli.json("show", "R1")
    assert (shown["from_unit"], shown["unit"]) == ("scjgj", "gaj")
    result = cli("referral", "add", "--direction", "to-criminal", "--from", "scjgj",
                 "--to", "市公安局江夏区分局", "--title", "y")
    assert result.stdout == "R2\n"
    assert cli.json("show", "R2")["unit"] == "gaj"


def test_other_commands_take_unit_names(cli, initialised):
    assert cli("suggestion", "add", "--type", "correction", "--to", "区人力资源和社会保障局",
               "--title", "t").stdout == "S1\n"
    assert cli("meeting", "add", "--title", "m",
               "--attendees", "区市场监督管理局,gaj").stdout == "M1\n"
    assert cli.json("show", "M1")["attendees"] == "scjgj,gaj"
    assert cli("action", "add", "--meeting", "M1", "--unit", "区财政局", "--title", "a",
               "--due", "2025-04-30").stdout == "A1\n"
    assert cli.json("show", "A1")["unit"] == "czj"
    assert [r["id"] for r in cli.json("list", "--unit", "区人力资源和社会保障局")] == ["S1"]
    assert [r["id"] for r in cli.json("list", "--unit", "区财政局")] == ["A1"]


def test_unknown_unit_is_refused(cli, initialised, snapshot):
    before = snapshot(initialised)
    result = cli("referral", "add", "--direction", "to-criminal", "--from", "市场监督",
                 "--to", "gaj", "--title", "x")
    assert_bad_input(result, "Unknown unit", "市场监督")
    assert_bad_input(cli("unit", "update", "nope", "--liaison", "张三"), "Unknown unit 'nope'")
    assert_bad_input(cli("list", "--unit", "nope"), "Unknown unit")
    assert snapshot(initialised) == before


# -- updating --------------------------------------------------------------------------------


def test_update_unit_logs_each_field(tracker, store):
    assert tracker.update_unit("scjgj", liaison="张三", phone="027-1") == ("scjgj", True)
    assert tracker.update_unit("区市场监督管理局", liaison="李四", kind="Other") == ("scjgj", True)
    assert tracker.update_unit("scjgj", name=" 区市场监管局 ") == ("scjgj", True)
    assert tracker.update_unit("scjgj", name="区市场监管局") == ("scjgj", False)
    assert {u["code"]: u for u in tracker.list_units()}["scjgj"] == {
        "code": "scjgj", "name": "区市场监管局", "liaison": "李四", "phone": "027-1",
        "kind": "other"}
    assert change_log(store.location, "unit:scjgj")[1:] == [
        ("tester", "unit:scjgj", "update", "liaison", None, "张三"),
        ("tester", "unit:scjgj", "update", "phone", None, "027-1"),
        ("tester", "unit:scjgj", "update", "liaison", "张三", "李四"),
        ("tester", "unit:scjgj", "update", "kind", "government", "other"),
        ("tester", "unit:scjgj", "update", "name", "区市场监督管理局", "区市场监管局"),
    ]


def test_update_with_empty_value_clears_liaison_and_phone(tracker, store):
    tracker.update_unit("scjgj", liaison="张三", phone="027-1")
    tracker.update_unit("scjgj", liaison="", phone="  ")
    unit = {u["code"]: u for u in tracker.list_units()}["scjgj"]
    assert unit["liaison"] is None and unit["phone"] is None
    assert change_log(store.location, "unit:scjgj")[-2:] == [
        ("tester", "unit:scjgj", "update", "liaison", "张三", None),
        ("tester", "unit:scjgj", "update", "phone", "027-1", None),
    ]


def test_update_that_changes_nothing_logs_nothing(tracker, store):
    tracker.update_unit("scjgj", liaison="张三")
    before = table_dump(store.location)
    tracker.update_unit("scjgj", liaison="张三", name="区市场监督管理局", kind="government")
    tracker.update_unit("scjgj")
    assert table_dump(store.location) == before


@pytest.mark.parametrize("values,message", [
    ({"name": "市公安局江夏区分局"}, "already exists"),
    ({"name": ""}, "needs a name"),
    ({"kind": "army"}, VALID_KINDS),
    ({"kind": ""}, VALID_KINDS),  # not silently "government"
    ({"liaison": "张三", "kind": "army"}, "Unknown unit kind"),  # nothing half-done
])
def test_update_unit_refusals_change_nothing(tracker, store, values, message):
    tracker.update_unit("gaj", liaison="王五")
    before = table_dump(store.location)
    with pytest.raises(BadInput, match=message):
        tracker.update_unit("scjgj" if "name" in values else "gaj", **values)
    assert table_dump(store.location) == before


def test_cli_update_by_name(cli, initialised):
    result = cli("unit", "update", "区市场监督管理局", "--liaison", "张三", "--phone", "027-6666")
    assert result.exit_code == 0, result.output
    assert result.stderr == "Updated unit scjgj.\n"
    assert unit_row(initialised, "scjgj")["liaison"] == "张三"
    assert change_log(initialised, "unit:scjgj")[1:] == [
        ("tester", "unit:scjgj", "update", "liaison", None, "张三"),
        ("tester", "unit:scjgj", "update", "phone", None, "027-6666"),
    ]
    result = cli("unit", "update", "scjgj", "--liaison", "")
    assert result.exit_code == 0, result.output
    assert unit_row(initialised, "scjgj")["liaison"] is None


def test_cli_update_refusals_change_nothing(cli, initialised, snapshot):
    before = snapshot(initialised)
    assert_bad_input(cli("unit", "update", "scjgj", "--name", "市公安局江夏区分局"),
                     "already exists")
    assert_bad_input(cli("unit", "update", "scjgj", "--kind", "army"), VALID_KINDS)
    assert_bad_input(cli("unit", "update", "scjgj", "--name", ""), "needs a name")
    assert snapshot(initialised) == before


# -- listing ---------------------------------------------------------------------------------


@pytest.fixture
def two_units(cli, db_path) -> Path:
    """A database with exactly two units, so that whole outputs can be compared."""
    from fujian.storage import Store

    Store(db_path).dispose()  # a database without the default directory (only init makes one)
    assert cli("unit", "add", "zeta", "--name", "乙单位").exit_code == 0
    assert cli("unit", "add", "alpha", "--name", "甲单位", "--liaison", "张三", "--phone",
               "027-1", "--kind", "police").exit_code == 0
    return db_path


def test_list_json(cli, two_units):
    result = cli("unit", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows == [
        {"code": "alpha", "name": "甲单位", "liaison": "张三", "phone": "027-1", "kind": "police"},
        {"code": "zeta", "name": "乙单位", "liaison": None, "phone": None, "kind": "government"},
    ]
    assert [list(r) for r in rows] == [["code", "name", "liaison", "phone", "kind"]] * 2
    assert "甲单位" in result.stdout  # not \u-escaped


def test_list_plain(cli, two_units):
    result = cli("unit", "list", "--format", "plain")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("code\tname\tliaison\tphone\tkind\n"
                             "alpha\t甲单位\t张三\t027-1\tpolice\n"
                             "zeta\t乙单位\t\t\tgovernment\n")


def test_plain_is_the_default_for_scripts(cli, two_units):
    assert cli("unit", "list").stdout == cli("unit", "list", "--format", "plain").stdout


def test_plain_escapes_tabs_so_a_unit_stays_one_line(cli, two_units):
    assert cli("unit", "update", "zeta", "--liaison", "a\tb").exit_code == 0
    lines = cli("unit", "list", "--format", "plain").stdout.splitlines()
    assert lines[2] == "zeta\t乙单位\ta\\tb\t\tgovernment"


def test_list_csv(cli, two_units):
    result = cli("unit", "list", "--format", "csv")
    assert result.exit_code == 0, result.output
    # .stdout turns CRLF into LF: compare the bytes, CRLF line ends being part of the contract.
    assert result.stdout_bytes == ("code,name,liaison,phone,kind\r\n"
                                   "alpha,甲单位,张三,027-1,police\r\n"
                                   "zeta,乙单位,,,government\r\n").encode()


def test_list_table(cli, two_units, monkeypatch):
    result = cli("unit", "list", "--format", "table")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Member units" in out
    for text in ("Code", "Name", "Liaison", "Phone", "Kind", "alpha", "甲单位", "张三",
                 "027-1", "police", "乙单位"):
        assert text in out, text
    assert out.index("alpha") < out.index("zeta")
    monkeypatch.setenv("FUJIAN_LANG", "zh")  # Chinese headers in the Chinese interface
    out = cli("unit", "list", "--format", "table").stdout
    for text in ("代码", "单位名称", "联络员", "联系电话", "类型", "甲单位"):
        assert text in out, text


def test_list_rejects_an_unknown_format(cli, two_units):
    assert_bad_input(cli("unit", "list", "--format", "xml"), "table, plain, csv, json")


def test_list_of_the_full_directory(cli, initialised):
    rows = cli.json("unit", "list")
    assert len(rows) == 30
    assert [r["code"] for r in rows] == sorted(r["code"] for r in rows)


# -- importing -------------------------------------------------------------------------------


def test_import_adds_and_updates(cli, initialised, tmp_path):
    path = write_csv(tmp_path / "u.csv",
                     "code,name,liaison,phone,kind\n"
                     "abc,某单位,张三,027-1,other\n"
                     "scjgj,区市场监督管理局,李四,027-2,\n"
                     "gaj,市公安局江夏区分局,,,police\n")
    result = cli("unit", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr == "Units: 1 added, 1 updated, 1 unchanged.\n"
    assert unit_row(initialised, "abc") == {"code": "abc", "name": "某单位", "liaison": "张三",
                                            "phone": "027-1", "kind": "other"}
    # An empty kind keeps the unit's kind.
    assert unit_row(initialised, "scjgj") == {"code": "scjgj", "name": "区市场监督管理局",
                                              "liaison": "李四", "phone": "027-2",
                                              "kind": "government"}
    assert change_log(initialised, "unit:abc") == [
        ("tester", "unit:abc", "create", None, None, "某单位|张三|027-1|other")]
    assert change_log(initialised, "unit:scjgj")[1:] == [
        ("tester", "unit:scjgj", "update", "liaison", None, "李四"),
        ("tester", "unit:scjgj", "update", "phone", None, "027-2"),
    ]
    assert change_log(initialised, "unit:gaj")[1:] == []


def test_import_utf8_with_bom_and_crlf(cli, initialised, tmp_path):
    path = write_csv(tmp_path / "u.csv",
                     "code,name,liaison\r\nabc,某单位,张三\r\n", bom=True)
    result = cli("unit", "import", str(path))
    assert result.exit_code == 0, result.output
    assert unit_row(initialised, "abc")["liaison"] == "张三"


def test_import_empty_cell_clears_but_missing_column_keeps(cli, initialised, tmp_path):
    assert cli("unit", "update", "scjgj", "--liaison", "张三", "--phone", "027-1").exit_code == 0
    assert cli("unit", "update", "gaj", "--liaison", "王五", "--phone", "110").exit_code == 0
    # No liaison or phone column at all: those fields are left alone.
    path = write_csv(tmp_path / "a.csv", "code,name\nscjgj,区市场监督管理局\n")
    result = cli("unit", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr == "Units: 0 added, 0 updated, 1 unchanged.\n"
    assert unit_row(initialised, "scjgj")["liaison"] == "张三"
    assert unit_row(initialised, "scjgj")["phone"] == "027-1"
    # A liaison column with an empty cell clears it; phone, absent, stays.
    path = write_csv(tmp_path / "b.csv", "code,name,liaison\ngaj,市公安局江夏区分局,\n")
    assert cli("unit", "import", str(path)).exit_code == 0
    assert unit_row(initialised, "gaj")["liaison"] is None
    assert unit_row(initialised, "gaj")["phone"] == "110"


def test_import_with_one_bad_row_imports_nothing(cli, initialised, snapshot, tmp_path):
    path = write_csv(tmp_path / "u.csv",
                     "code,name,liaison,phone,kind\n"
                     "abc,某单位,张三,,\n"
                     "scjgj,区市场监督管理局,李四,,\n"
                     "def,另一单位,,,army\n")
    before = snapshot(initialised)
    result = cli("unit", "import", str(path))
    assert_bad_input(result, "Nothing imported", "line 4", "army")
    assert "line 2" not in result.stderr and "line 3" not in result.stderr
    assert snapshot(initialised) == before


@pytest.mark.parametrize("body,line,word", [
    ("abc,某单位\n\nBAD CODE,x\n", 4, "Not a unit code"),  # a blank line still counts
    ('abc,"某\n单位"\nxyz,\n', 4, "needs a name"),  # a quoted newline spans two lines
    ("abc,区财政局\n", 2, "already exists"),
    ("abc,新单位\nxyz,新单位\n", 3, "already exists"),  # a duplicate within the file
    (",新单位\n", 2, "Not a unit code"),
])
def test_import_names_the_right_line(cli, initialised, snapshot, body, line, word, tmp_path):
    path = write_csv(tmp_path / "u.csv", "code,name\n" + body)
    before = snapshot(initialised)
    assert_bad_input(cli("unit", "import", str(path)), f"line {line}:", word)
    assert snapshot(initialised) == before


def test_import_reports_every_bad_line(cli, initialised, tmp_path):
    path = write_csv(tmp_path / "u.csv",
                     "code,name,kind\nabc,某单位,army\nok,好单位,\n9x,坏单位,\n")
    result = cli("unit", "import", str(path))
    assert_bad_input(result, "line 2:", "line 4:")


@pytest.mark.parametrize("content,word", [
    (b"name,liaison\n\xe6\x9f\x90,x\n", "header"),
    (b"", "header"),
    (b"code,name\nabc,\xff\xff\n", "not UTF-8 or GB18030"),  # GBK is read: see test_damaged_files
])
def test_import_refuses_unreadable_files(cli, initialised, snapshot, content, word, tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(content)
    before = snapshot(initialised)
    assert_bad_input(cli("unit", "import", str(path)), word)
    assert snapshot(initialised) == before


def test_import_missing_file(cli, initialised, snapshot, tmp_path):
    before = snapshot(initialised)
    assert_bad_input(cli("unit", "import", str(tmp_path / "nope.csv")), "Cannot read")
    assert snapshot(initialised) == before


def test_import_service_without_update_leaves_existing(store, tracker, tmp_path):
    path = write_csv(tmp_path / "u.csv", "code,name,liaison\nscjgj,区市场监督管理局,张三\n"
                                         "abc,某单位,李四\n")
    assert tracker.import_units(path, update=False) == {"added": 1, "updated": 0,
                                                        "unchanged": 1}
    units = {u["code"]: u for u in tracker.list_units()}
    assert units["scjgj"]["liaison"] is None
    assert units["abc"]["liaison"] == "李四"


def test_read_units_csv_rows_know_their_lines(tmp_path):
    path = write_csv(tmp_path / "u.csv", " code , name \n\nabc,甲\n\n\nxyz,乙,extra\n",
                     bom=True)
    rows = unit_ops.read_units_csv(path)
    assert [dict(r) for r in rows] == [{"code": "abc", "name": "甲"},
                                       {"code": "xyz", "name": "乙"}]
    assert [r.line for r in rows] == [3, 6]
