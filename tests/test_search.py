"""Search: every word, of any length, in any of an item's texts, compared after NFKC and case
folding on both sides; most relevant first; the same items as `list --search`; the search rows
kept in step by every write; migration 0006 fills them for an existing database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from fujian.service import search

DOC = "夏检行建〔2025〕3号"


def ids(cli, *args: str, db: Path | None = None) -> list[str]:
    where = ("--db", str(db)) if db else ()
    return [r["id"] for r in cli.json(*where, "search", *args)]


@pytest.fixture
def items(tracker, make_item):
    """A small office: a clue about sand (采砂), a referral about fake drugs, a suggestion with a
    document number, and one whose document number was typed with full-width digits."""
    made = {
        "sand": make_item("clue", title="某河段非法采砂线索", opened_on="2025-03-01"),
        "drugs": make_item("referral", title="某公司销售假药案", party="张某", opened_on="2025-03-02"),
        "doc": make_item("suggestion", title="督促整治非法排污", doc_no=DOC, opened_on="2025-03-03"),
        "wide": make_item("suggestion", title="纠正违规发放补贴", doc_no="夏检行建〔２０２５〕７号",
                          opened_on="2025-03-04"),
    }
    return made


# -- words of one or two Chinese characters ------------------------------------------------------


def test_one_and_two_character_chinese_words(cli, items):
    assert ids(cli, "采") == [items["sand"]]
    assert ids(cli, "采砂") == [items["sand"]]
    assert ids(cli, "假") == [items["drugs"]]
    assert ids(cli, "假药") == [items["drugs"]]
    assert ids(cli, "砂采") == []  # a substring, not a bag of characters


def test_three_character_word_and_latin_words_any_case(cli, tracker, make_item):
    wide = make_item("referral", title="某公司销售假药案", party="ＡＢＣ医药有限公司")
    plain = make_item("referral", title="XYZ Trading 违规经营")
    assert ids(cli, "abc医药") == [wide]  # full-width letters stored, ASCII typed
    assert ids(cli, "ＡＢＣ") == [wide]
    assert ids(cli, "trading") == [plain]
    assert ids(cli, "TRADING") == [plain]


# -- document numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [
    DOC,                        # as stored
    "夏检行建(2025)3号",         # half-width brackets
    "夏检行建（2025）3号",       # full-width parentheses, NFKC makes them half-width
    "夏检行建[2025]3号",
    "夏检行建［２０２５］３号",  # full-width square brackets and digits
    "〔2025〕3号",
])
def test_document_number_with_full_width_brackets(cli, items, typed):
    rows = cli.json("search", typed)
    assert [r["id"] for r in rows] == [items["doc"]]
    assert rows[0]["match_field"] == "doc_no" and rows[0]["match"] == DOC


def test_document_number_stored_with_full_width_digits_is_found_as_typed(cli, items):
    rows = cli.json("search", "夏检行建〔2025〕7号")
    assert [r["id"] for r in rows] == [items["wide"]]
    assert rows[0]["match"] == "夏检行建〔２０２５〕７号"  # shown as stored
    assert ids(cli, "〔2025〕33号") == []  # and no nearby number matches


# -- notes, handler and units --------------------------------------------------------------------


def test_words_in_every_note_of_the_running_record(cli, tracker, items):
    tracker.note(items["doc"], "现场核查：汤逊湖周边仍有非法采砂")
    assert cli("note", items["doc"], "单位已书面回复，整改完成").exit_code == 0
    rows = cli.json("search", "汤逊湖")  # in the older note, no longer the item's latest
    assert [r["id"] for r in rows] == [items["doc"]]
    assert rows[0]["match_field"] == "note"
    assert rows[0]["match"] == "现场核查：汤逊湖周边仍有非法采砂"
    assert ids(cli, "书面回复") == [items["doc"]]


def test_long_note_is_shown_as_a_snippet_around_the_word(cli, tracker, items):
    tracker.note(items["drugs"], "据群众反映，某公司长期在汤逊湖东岸非法采砂并向湖中排放泥浆，"
                                 "已责令停止并移送")
    row = cli.json("search", "泥浆")[0]
    assert row["match"] == "…东岸非法采砂并向湖中排放泥浆，已责令停止并移送"
    assert row["match_field"] == "note"


def test_handler_and_party(cli, tracker, items):
    tracker.update(items["sand"], {"handler": "王芳"})
    assert ids(cli, "王芳") == [items["sand"]]
    assert ids(cli, "张某") == [items["drugs"]]


def test_unit_names_and_codes(cli, items):
    # The referral goes from 区市场监督管理局 (scjgj) to 市公安局江夏区分局 (gaj).
    rows = cli.json("search", "公安局")
    assert [r["id"] for r in rows] == [items["drugs"]]
    assert (rows[0]["match_field"], rows[0]["match"], rows[0]["score"]) == \
        ("unit", "市公安局江夏区分局", 1)
    assert ids(cli, "scjgj") == [items["drugs"]]


def test_renamed_unit_is_found_by_its_new_name(cli, tracker, items):
    tracker.update_unit("gaj", name="市公安局江夏分局（新）")
    assert ids(cli, "公安局江夏分局") == [items["drugs"]]
    assert ids(cli, "公安局江夏区分局") == []


def test_every_word_must_occur_across_fields(cli, tracker, items):
    tracker.note(items["drugs"], "涉及汤逊湖周边药店")
    assert ids(cli, "假药", "汤逊湖") == [items["drugs"]]  # title and note
    assert ids(cli, "假药 汤逊湖") == [items["drugs"]]  # one argument, two words
    assert ids(cli, "假药", "采砂") == []


# -- what is searched ----------------------------------------------------------------------------


def test_no_match_prints_what_list_prints_for_nothing(cli, items):
    plain = cli("search", "不存在的词")
    listed = cli("list", "--search", "不存在的词", "--status", "all")
    assert plain.exit_code == 0 and plain.stdout.count("\n") == 1  # the header only
    assert plain.stdout.split("\t")[:3] == ["id", "kind", "title"]
    assert listed.stdout.count("\n") == 1
    assert cli.json("search", "不存在的词") == []
    table = cli("search", "不存在的词", "--format", "table")
    assert "Nothing to show." in table.stdout


def test_voided_items_are_left_out_unless_asked_for(cli, tracker, items):
    tracker.void(items["sand"], "重复登记")
    assert ids(cli, "采砂") == []
    assert ids(cli, "采砂", "--include-void") == [items["sand"]]
    assert ids(cli, "采砂", "--status", "all") == [items["sand"]]


def test_status_and_kind(cli, tracker, items):
    tracker.close(items["sand"], "rectified")
    assert ids(cli, "非法") == [items["doc"], items["sand"]]  # closed ones too, by default
    assert ids(cli, "非法", "--status", "open") == [items["doc"]]
    assert ids(cli, "非法", "--status", "closed") == [items["sand"]]
    assert ids(cli, "非法", "--kind", "clue") == [items["sand"]]
    assert ids(cli, "非法", "--kind", "检察建议") == [items["doc"]]


@pytest.mark.parametrize("words", [("采",), ("采砂",), ("非法",), ("局",), ("2025",),
                                   ("非法", "局"), ("不存在",)])
def test_list_search_selects_the_same_items_as_search(cli, tracker, items, words):
    tracker.note(items["drugs"], "汤逊湖非法采砂")
    found = set(ids(cli, *words, "--limit", "1000"))
    listed = {r["id"] for r in cli.json("list", "--search", " ".join(words), "--status", "all")}
    assert found == listed
    assert found or words == ("不存在",)


# -- ranking -------------------------------------------------------------------------------------


def test_title_before_document_number_before_note_before_unit_then_newest(cli, tracker,
                                                                          make_item):
    in_note = make_item("referral", title="案件甲", opened_on="2025-03-05")
    tracker.note(in_note, "涉及排污")
    in_unit = make_item("suggestion", title="案件乙", unit="sthjj", opened_on="2025-03-06")
    old_title = make_item("clue", title="排污线索一", opened_on="2025-02-01")
    new_title = make_item("clue", title="排污线索二", opened_on="2025-03-01")
    in_doc = make_item("suggestion", title="案件丙", doc_no="排污〔2025〕1号", unit="sthjj",
                       opened_on="2025-03-07")
    # 排污 is not in a unit name; 生态环境 is (sthjj, and every clue's default source).
    rows = cli.json("search", "排污")
    assert [r["id"] for r in rows] == [new_title, old_title, in_doc, in_note]
    assert [r["score"] for r in rows] == [4, 4, 3, 2]
    assert [r["match_field"] for r in rows] == ["title", "title", "doc_no", "note"]
    both = cli.json("search", "排污", "生态环境")
    # two words: title + unit (5) before document number + unit (4)
    assert [(r["id"], r["score"]) for r in both] == [(new_title, 5), (old_title, 5),
                                                     (in_doc, 4)]
    assert in_unit not in [r["id"] for r in both]


def test_limit_keeps_the_most_relevant_and_says_more_match(cli, make_item):
    made = [make_item("clue", title=f"采砂线索{i}", opened_on=f"2025-03-0{i}") for i in range(1, 5)]
    result = cli("search", "采砂", "--limit", "2", "--format", "json")
    assert [r["id"] for r in json.loads(result.stdout)] == [made[3], made[2]]
    assert "more match" in result.stderr
    assert "more match" not in cli("search", "采砂", "--limit", "4").stderr


def test_rows_the_filters_drop_do_not_hide_the_rest(cli, tracker, make_item):
    """More of the best-ranked rows are filtered out than the first pass ranks: the search
    goes on through the rest in rank order."""
    older = make_item("clue", title="采砂线索（在办）", opened_on="2025-01-02")
    for day in range(1, 46):
        closed = make_item("clue", title="采砂线索", opened_on=f"2025-02-{day % 28 + 1:02d}")
        tracker.close(closed, "rectified", on="2025-03-01")
    assert ids(cli, "采砂", "--status", "open", "--limit", "1") == [older]


# -- output --------------------------------------------------------------------------------------


def test_json_keys_are_those_of_list_plus_score_and_match(cli, items):
    listed = {r["id"]: r for r in cli.json("list", "--status", "all")}
    for row in cli.json("search", "非法"):
        extra = set(row) - set(listed[row["id"]])
        assert extra == {"score", "match_field", "match"}
        assert {k: row[k] for k in listed[row["id"]]} == listed[row["id"]]


def test_plain_columns_are_those_of_list_plus_score_and_match(cli, items):
    header = cli("search", "采砂").stdout.splitlines()[0].split("\t")
    listed = cli("list").stdout.splitlines()[0].split("\t")
    assert [c for c in header if c not in ("score", "match_field", "match")] == listed
    line = cli("search", "采砂").stdout.splitlines()[1].split("\t")
    assert dict(zip(header, line, strict=True))["match"] == "某河段非法采砂线索"


def test_table_shows_the_match_under_the_title_even_when_narrow(cli, tracker, items,
                                                                monkeypatch):
    tracker.note(items["doc"], "汤逊湖")
    for width in ("200", "80"):
        monkeypatch.setenv("COLUMNS", width)
        out = cli("search", "夏检行建", "汤逊湖", "--format", "table").stdout
        assert "督促整治非法排污" in out and "↳ document number:" in out
        assert DOC in out.replace("│", "").replace(" ", "").replace("\n", "")
    out = cli("search", "采砂", "--format", "table").stdout
    assert "某河段非法采砂线索" in out and "↳" not in out  # matched in the title itself


@pytest.mark.parametrize("args", [("",), (" ", "\u3000"), ("采砂", "--limit", "0"),
                                  ("采砂", "--status", "half"), ("采砂", "--kind", "case")])
def test_bad_input_is_one_line_and_exit_2(cli, items, args):
    result = cli("search", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_no_words_at_all_is_a_usage_error(cli, items):
    assert cli("search").exit_code == 2


# -- the search rows -----------------------------------------------------------------------------


def _stored(store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(search.SEARCH).order_by(search.SEARCH.c.item_id))]


def _computed(store) -> list[dict]:
    from fujian.models import Item

    with store.engine.connect() as conn:
        pks = list(conn.scalars(select(Item.id).order_by(Item.id)))
        rows = search._rows(conn, pks, search._unit_texts(conn))
    return sorted(rows, key=lambda r: r["item_id"])


def _written(folder, data: bytes):
    path = folder / "import.csv"
    path.write_bytes(data)
    return path


def test_every_write_keeps_the_search_rows_in_step(cli, tracker, store, make_item, tmp_path):
    """Each way an item's words, notes or units change, then the rows compared with rows
    computed afresh: a write path that forgets search.refresh fails here."""
    sand = make_item("clue", title="某河段非法采砂线索", note="初次登记")
    drugs = make_item("referral", title="某公司销售假药案")
    doc = make_item("suggestion", title="督促整治", doc_no=DOC)
    meeting = make_item("meeting", title="第一次联席会议")
    action = make_item("action", meeting=meeting, title="专项检查")
    steps = [
        lambda: tracker.update(drugs, {"title": "某公司销售假药案（改）", "party": "李某",
                                       "doc_no": "夏检刑移〔2025〕1号", "handler": "王芳",
                                       "unit": "sthjj"}),
        lambda: tracker.update(sand, {"opened_on": "2025-02-01", "reason": "录入错误"}),
        lambda: tracker.note(sand, "现场核查"),
        lambda: tracker.reply(doc, note="已书面回复"),
        lambda: tracker.close(action, "done", note="检查完毕"),
        lambda: tracker.reopen(action, "整改未到位", note="重新检查"),
        lambda: tracker.update_unit("sthjj", name="市生态环境局江夏分局"),
        lambda: tracker.import_csv(_written(tmp_path, "kind,title,direction,from_unit,unit,opened_on,party,note\n"
                                   "referral,导入的采砂案,to-criminal,scjgj,gaj,2025-03-01,赵某,"
                                   "导入备注\n"
                                   .encode()), None),
    ]
    for step in steps:
        step()
        assert _stored(store) == _computed(store)
    assert ids(cli, "导入的采砂案") and ids(cli, "江夏分局") and ids(cli, "重新检查")
    assert len(_stored(store)) == 6


def test_refresh_and_rebuild_give_the_rows_the_search_reads(tracker, store, make_item):
    make_item("clue", title="采砂")
    with store.engine.begin() as conn:
        assert search.rebuild(conn) == 1
    assert _stored(store) == _computed(store)


def test_snippet_shows_the_stored_text_around_the_first_word():
    assert search.snippet("某河段非法采砂线索", ["采砂"]) == "某河段非法采砂线索"
    long = "一二三四五六七八九十一二三四五汤逊湖非法采砂一二三四五六七八九十一二三四五"
    assert search.snippet(long, ["采砂"], context=3) == "…湖非法采砂一二三…"
    assert search.snippet("夏检行建〔２０２５〕３号", search.words_of(["(2025)3"])) == \
        "夏检行建〔２０２５〕３号"
    assert search.snippet("第一行\n第二行采砂", ["采砂"], context=5) == "…行 第二行采砂"
    assert search.snippet("没有", ["采砂"]) is None


def test_words_are_normalised_and_repeats_dropped():
    assert search.words_of(["  采砂\u3000ＡＢＣ  采砂 "]) == ("采砂", "abc")
    assert search.words_of(["［２０２５］"]) == ("(2025)",)
    assert search.words_of([" ", ""]) == ()


# -- migration 0006 ------------------------------------------------------------------------------


def test_upgrade_to_0006_fills_the_search_rows(tmp_path: Path, cli):
    """A database at 0005 (made by Alembic, filled by SQL as an older fujian would) gains one
    search row per item, equal to what the search module computes, and is searched at once."""
    import sqlite3

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    import fujian.migrations
    from fujian.storage import Store

    db = tmp_path / "old.db"
    config = Config()
    config.set_main_option("script_location", str(Path(fujian.migrations.__file__).parent))
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
    engine.dispose()
    con = sqlite3.connect(db)
    stamp = "2025-01-01 00:00:00"
    con.executemany("INSERT INTO unit (id, code, name, kind, created_at, updated_at) "
                    "VALUES (?, ?, ?, 'government', ?, ?)",
                    [(1, "sthjj", "市生态环境局江夏区分局", stamp, stamp),
                     (2, "jcy", "区人民检察院", stamp, stamp)])
    con.executemany(
        "INSERT INTO item (id, kind, number, title, unit_id, from_unit_id, opened_on, stage, "
        "status, doc_no, party, handler, note, created_at, updated_at, actor) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, 'old')",
        [(1, "clue", 1, "某河段非法采砂线索", 2, 1, "2025-01-02", "received", None, None,
          "王芳", "第二次核查", stamp, stamp),
         (2, "suggestion", 1, "督促整治", 1, None, "2025-01-03", "delivered",
          "夏检行建〔２０２５〕３号", "ＡＢＣ公司", None, None, stamp, stamp)])
    con.executemany("INSERT INTO note (item_id, at, actor, text) VALUES (?, ?, 'old', ?)",
                    [(1, stamp, "汤逊湖首次核查"), (1, stamp, "第二次核查")])
    con.execute("UPDATE item_sequence SET last_number = 1 WHERE kind IN ('clue', 'suggestion')")
    con.commit()
    con.close()

    store = Store(db)
    assert store.upgraded_from == "0005"
    try:
        assert len(_stored(store)) == 2
        assert _stored(store) == _computed(store)  # the migration's rows are the module's
    finally:
        store.dispose()
    assert ids(cli, "汤逊湖", db=db) == ["C1"]
    assert ids(cli, "夏检行建(2025)3号", db=db) == ["S1"]
    assert ids(cli, "abc", db=db) == ["S1"]
    assert ids(cli, "王芳", db=db) == ["C1"]
    assert ids(cli, "生态环境", db=db) == ["S1", "C1"]
