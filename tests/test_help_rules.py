"""Help and README say who owes what exactly as the rules file does (issue 19, point 13): for
every stage with a rule, `fujian KIND update --help` names the event that starts the clock, the
unit that holds it, the duty (or the right, "may …"), its period and its article — in English
and in Chinese; the README names every stage code, event and duty of data/deadlines.toml."""

from __future__ import annotations

import gettext
import os
import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path

import pytest

from fujian.kinds import DUTY_STATES, KINDS
from fujian.resources import data_file

ROOT = Path(__file__).resolve().parent.parent
RULES = tomllib.loads(data_file("deadlines.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
ENGLISH, CHINESE = README.split("## 中文说明", 1)
# The Chinese part ends where the shared sections (More, exit codes, cron) begin.
CHINESE = CHINESE.split("\n## More", 1)[0]


def _flat(text: str) -> str:
    """Help without white space: Click wraps long lines, also at hyphens."""
    return "".join(text.split())


@cache
def _help(kind: str, lang: str) -> str:
    env = {**os.environ, "FUJIAN_LANG": lang, "COLUMNS": "2000"}
    r = subprocess.run([sys.executable, "-m", "fujian", kind, "update", "--help"], env=env,
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return _flat(r.stdout)


def _translate(lang: str, message: str) -> str:
    if lang == "en":
        return message
    return gettext.translation("fujian", ROOT / "fujian" / "locale", languages=["zh_CN"],
                               fallback=True).gettext(message)


def _holder(kind: str, holder: str) -> str:
    fixed = RULES.get("holders", {}).get(holder)
    return fixed["label"] if fixed else KINDS[kind].holder_label(holder)


def _citation(source: str) -> str:
    """The article as help cites it: the source up to its first explanation （…） or full stop."""
    return re.split("[（。]", source, maxsplit=1)[0].strip()


def _expected_line(rule: dict, lang: str) -> str:
    owed = RULES["duties"][rule["duty"]]
    if rule.get("right"):
        owed = _translate(lang, "may {duty}").format(duty=owed)
    period = _translate(lang, "no period") if rule["period"] == "none" else rule["period"]
    if rule.get("urgent"):
        period += " (--urgent)"
    if rule.get("local"):
        period += " (本地规定)" if lang == "zh" else " (local rule)"
    prefix = f"{rule['subtype']} " if rule.get("subtype") else ""
    return (f"{prefix}{rule['stage']}: {RULES['events'][rule['start']]} → "
            f"{_holder(rule['kind'], rule['holder'])}: {owed}, {period} — "
            f"{_citation(rule['source'])}")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("rule", RULES["rule"], ids=lambda r: "-".join(
    str(r.get(k)) for k in ("kind", "subtype", "stage", "duty", "urgent")))
def test_update_help_names_each_rules_event_holder_duty_and_article(rule, lang):
    """Each [[rule]] of deadlines.toml is one line of its kind's `update --help`."""
    assert _flat(_expected_line(rule, lang)) in _help(rule["kind"], lang)


def test_a_right_reads_may_and_names_its_article():
    """After 不予立案 the sending unit *may* object within 3 days (国务院令第310号 第九条第一款;
    公安规定 第一百八十一条): a right, never a duty owed."""
    line = ("to-criminal not-filed: 收到不予立案通知书之日 → 移送单位: may 提请复议或建议立案监督, 3d — "
            "国务院令第310号《行政执法机关移送涉嫌犯罪案件的规定》第九条第一款；"
            "《公安机关办理刑事案件程序规定》(2020)第一百八十一条")
    assert _flat(line) in _help("referral", "en")


def test_a_local_rule_says_so():
    """The to-admin reply's 2 months are the district's own (刑诉法 第一百七十七条第三款 says 及时)."""
    line = ("to-admin sent: 收到检察意见书之日 → 接收单位: 书面回复, 2m (本地规定) — "
            "本地规定：收到检察意见书之日起两个月内回复")
    assert _flat(line) in _help("referral", "zh")


def _stage_codes() -> set[str]:
    return {entry["stage"] for entry in RULES["rule"] + RULES.get("stage", [])}


@pytest.mark.parametrize("part", ["en", "zh"])
def test_readme_names_every_stage_event_and_duty_of_the_rules(part):
    text = ENGLISH if part == "en" else CHINESE
    missing = [f"`{code}`" for code in _stage_codes() if f"`{code}`" not in text]
    missing += [label for label in RULES["duties"].values() if label not in text]
    missing += [label for label in RULES["events"].values() if label not in text]
    missing += [h["label"] for h in RULES.get("holders", {}).values() if h["label"] not in text]
    assert missing == []


@pytest.mark.parametrize("part", ["en", "zh"])
def test_readme_names_every_article_and_the_duty_states(part):
    """Each rule's article (its citation, as --help prints it) and the seven verdicts with their
    labels appear in both languages' parts."""
    text = ENGLISH if part == "en" else CHINESE
    missing = [_citation(r["source"]) for r in RULES["rule"]
               if _citation(r["source"]) not in text]
    missing += [f"`{c.code}` {c.label}" for c in DUTY_STATES.items
                if f"`{c.code}` {c.label}" not in text]
    assert missing == []


@pytest.mark.parametrize("part", ["en", "zh"])
def test_readme_states_the_summary_contract(part):
    """The summary's JSON keys and its rate (issue 19, point 5): unmet counts against the holder,
    rights never count."""
    text = ENGLISH if part == "en" else CHINESE
    for key in ("group", "key", "name", "on_time", "late", "unmet", "overdue", "open", "waived",
                "rate"):
        assert f"`{key}`" in text, key
    assert "on_time / (on_time + late + unmet + overdue)" in text
    assert "--pause --reason 鉴定" not in text  # a statute's clock is never paused (point 6)


def _labels(names: list[str]) -> str:
    return "、".join(RULES["duties"][n] for n in sorted(names))


@cache
def _close_help(kind: str) -> str:
    env = {**os.environ, "FUJIAN_LANG": "en", "COLUMNS": "2000"}
    r = subprocess.run([sys.executable, "-m", "fujian", kind, "close", "--help"], env=env,
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return _flat(r.stdout)


@pytest.mark.parametrize("entry", [e for e in RULES.get("stage", []) if e.get("unmet")],
                         ids=lambda e: f"{e['kind']}-{e['stage']}")
def test_update_help_names_the_duties_a_stage_ends_unmet(entry):
    """A suit is brought because the organ did not perform (行政诉讼法 第二十五条第四款); an
    obstruction is a refusal (人民检察院组织法 第二十一条): help says these stages end the holder's
    duties unmet."""
    expected = f"{entry['stage']}: ends {_labels(entry['unmet'])} unmet"
    assert _flat(expected) in _help(entry["kind"], "en")


@pytest.mark.parametrize("entry", RULES.get("outcome", []), ids=lambda e: e["kind"])
def test_close_help_names_the_duties_an_outcome_leaves_unmet(entry):
    """Closing a public-interest suggestion 未采纳 or 部分采纳 leaves 依法履行职责 unmet (两高《检察
    公益诉讼解释》第二十一条第二款); closing an assistance request refused leaves 协助调查核实 unmet
    (人民检察院组织法 第二十一条)."""
    expected = f"{', '.join(entry['outcomes'])} leaves {_labels(entry['unmet'])} unmet"
    assert _flat(expected) in _close_help(entry["kind"])
