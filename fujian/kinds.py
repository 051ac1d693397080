"""The registry of item kinds: the one place that says what a referral, a suggestion, a clue,
a meeting and an action item are. Commands, reports and exports are driven from here, so adding a
kind is adding data. Codes are stable English; labels are the Chinese users read.

This module is light on purpose (no database, no CLI): ``--help`` builds its commands from it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache

from fujian.errors import BadInput
from fujian.i18n import N_, _
from fujian.resources import data_file

OPEN, CLOSED = "open", "closed"
# Words that messages put in place of {what} or {kind}; marked here so they are translated.
_MESSAGE_WORDS = (N_("stage"), N_("outcome"), N_("direction"), N_("type"), N_("field"), N_("kind"),
                  N_("status"), N_("referral"), N_("suggestion"), N_("clue"), N_("meeting"),
                  N_("action"), N_("assist"))
# Labels a person reads, each defined here once and imported wherever it is shown.
VOID = "void"  # not a status an item has: how a list shows an entry voided as a mistake
STATUS_LABELS = {OPEN: "未办结", CLOSED: "已办结", VOID: "作废"}
FLAG_LABELS = {True: "是", False: "否"}  # a yes/no field in a labelled file
GROUP_LABELS = {"kind": "按类别", "unit": "按单位", "total": "合计"}  # the summary's groups


@dataclass(frozen=True)
class Choice:
    code: str
    label: str


@dataclass(frozen=True)
class Choices:
    """A closed set of values a user picks by code (any case) or by Chinese label."""

    what: str  # how messages name a value: "stage", "outcome", "type", ...
    items: tuple[Choice, ...]

    def parse(self, text: str) -> str:
        wanted = text.strip()
        for choice in self.items:
            if wanted.lower() == choice.code or wanted == choice.label:
                return choice.code
        raise BadInput(
            _("Unknown {what} {text!r}. Valid: {valid}.").format(
                what=_(self.what), text=text, valid=self.describe()
            )
        )

    def describe(self) -> str:
        return ", ".join(f"{c.code} ({c.label})" for c in self.items)

    def label(self, code: str | None) -> str:
        for choice in self.items:
            if choice.code == code:
                return choice.label
        return code or ""

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.items)


def choices(what: str, *pairs: tuple[str, str]) -> Choices:
    return Choices(what, tuple(Choice(code, label) for code, label in pairs))


@dataclass(frozen=True)
class KindField:
    """A field that only some kinds have. ``name`` is the JSON key and the model attribute."""

    name: str
    label: str  # Chinese column header
    type: str  # text | unit | flag | link | units | file
    option: str  # the CLI option of add/update
    help: str
    required: bool = False  # required by add
    listed: bool = True  # a column of list and export (long texts such as minutes are not)
    column: str | None = None  # the item column, when it is not ``name`` (unit ids)
    only_subtypes: tuple[str, ...] = ()  # a flag allowed only for these subtypes
    not_own_unit: bool = False  # a unit field that may not name the item's own unit
    # A link (type "link") names another item by its ID: ``target`` the kind it must be (None:
    # any kind). ``part_of``: the item belongs to the target (an action to its meeting) — the
    # target stays open while it has open parts, closes itself when the last one closes, and
    # reopens with one; its `show` lists them under ``parts_key``.
    target: str | None = None
    part_of: bool = False
    parts_key: str | None = None

    @property
    def column_name(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class Verb:
    """A command a kind adds to the shared ones. ``stage``: records that stage (an addressee's
    reply) — with ``--on``, ``--acted-on`` and ``--note``. ``meets``: records that the holder
    met that duty, without a stage change (an organ's reply to a clue's suggestion, while its
    duty to perform runs on). ``opens``: from ``from_stages``, opens an item of that kind and
    subtype, linked both ways to this one (an escalation)."""

    name: str
    help: str  # the command's --help (marked for translation), with an example
    stage: str | None = None
    meets: str | None = None
    done: str = ""  # what the command prints, with {id}
    same: str = ""  # what it prints when the item is already there
    opens: str | None = None
    opens_subtype: str | None = None
    from_stages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Kind:
    code: str
    prefix: str
    label: str
    subtype_key: str | None  # the kind's name for its subtype column: direction, type, field
    subtype_label: str
    unit_option: str  # the add option naming the item's own unit
    unit_help: str
    unit_label: str  # what the item's own unit is called (接收单位, 被建议单位 …)
    fields: tuple[KindField, ...] = ()
    default_unit: str | None = None  # when add is not told the responsible unit
    default_subtype: str | None = None
    # Outcomes that end the matter without the duty holder failing (a withdrawal, a
    # cancellation): the open duties are waived, never counted late.
    waiving_outcomes: tuple[str, ...] = ()
    due_required: bool = False  # add needs --due: the period comes from a document
    example: str = ""  # an `add` command line, shown in its --help
    sheet_name: str = ""  # the pack workbook's sheet of its open items (≤ 31 characters)
    verbs: tuple[Verb, ...] = ()  # commands beyond the shared ones
    subtypes_file: str | None = None  # subtypes kept as data (a CSV of code,label)
    _subtypes: Choices | None = None
    _stages: dict[str | None, Choices] = field(default_factory=dict)
    _outcomes: dict[str | None, Choices] = field(default_factory=dict)

    @property
    def subtypes(self) -> Choices:
        if self.subtypes_file:
            return choices_file(self.subtypes_file, self.subtype_key or "type")
        assert self._subtypes is not None
        return self._subtypes

    def links(self) -> tuple[KindField, ...]:
        return tuple(f for f in self.fields if f.type == "link")

    def parent_link(self) -> KindField | None:
        """The link naming the item this one belongs to (an action's meeting), if any."""
        return next((f for f in self.fields if f.type == "link" and f.part_of), None)

    def stages(self, subtype: str | None) -> Choices:
        """Stages depend on the subtype for referrals; other kinds keep one list under None."""
        return self._stages.get(subtype) or self._stages[None]

    def outcomes(self, subtype: str | None) -> Choices:
        return self._outcomes.get(subtype) or self._outcomes[None]

    def first_stage(self, subtype: str | None) -> str:
        return self.stages(subtype).items[0].code

    def stage_text(self, code: str | None) -> str:
        """A stage named in a message: its code in English (what --stage takes), its label with
        the code in Chinese (协助函已送达（requested）), so that a message is in one language and
        still says what to type."""
        from fujian.i18n import language

        if code is None or language() != "zh":
            return code or ""
        label = self.all_stages().label(code)
        return f"{label}（{code}）" if label != code else code

    def all_stages(self) -> Choices:
        """Every stage of every subtype (for labels in cross-subtype tables)."""
        seen: dict[str, Choice] = {}
        for ch in self._stages.values():
            for c in ch.items:
                seen.setdefault(c.code, c)
        return Choices("stage", tuple(seen.values()))

    def all_outcomes(self) -> Choices:
        seen: dict[str, Choice] = {}
        for ch in self._outcomes.values():
            for c in ch.items:
                seen.setdefault(c.code, c)
        return Choices("outcome", tuple(seen.values()))

    def field(self, name: str) -> KindField | None:
        return next((f for f in self.fields if f.name == name), None)

    def holder_label(self, holder: str) -> str:
        """How a rule's holder (an item field naming a unit) is called for this kind."""
        if holder == "unit":
            return self.unit_label
        kf = self.field(holder)
        return kf.label if kf is not None else holder

    def holder_option(self, holder: str) -> str:
        if holder == "unit":
            return self.unit_option
        kf = self.field(holder)
        return kf.option if kf is not None else holder


@cache
def choices_file(name: str, what: str) -> Choices:
    """Subtypes kept as data (public-interest fields 领域 grow with new laws:
    data/clue_fields.csv): a CSV of code,label."""
    with data_file(name).open(encoding="utf-8") as fh:
        return Choices(what, tuple(Choice(r["code"], r["label"]) for r in csv.DictReader(fh)))


def clue_fields() -> Choices:
    return choices_file("clue_fields.csv", "field")


_DOC_NO = KindField("doc_no", "文号", "text", "--doc-no", N_("Document number, e.g. 夏检行建〔2025〕3号."))

REFERRAL = Kind(
    code="referral",
    prefix="R",
    label="案件移送",
    subtype_key="direction",
    subtype_label="移送方向",
    unit_option="--to",
    unit_help=N_("Receiving unit (code or Chinese name): it must act before the due date."),
    unit_label="接收单位",
    waiving_outcomes=("withdrawn",),
    example="fujian referral add --direction to-criminal --from scjgj --to gaj "
            "--title '某公司销售假药案' --on 2025-03-01",
    sheet_name=N_("Open referrals"),
    fields=(
        KindField("from_unit", "移送单位", "unit", "--from", N_("Sending unit (code or name)."),
                  required=True, column="from_unit_id", not_own_unit=True),
        KindField("party", "当事人", "text", "--party", N_("Party concerned (person or enterprise).")),
        KindField("enterprise", "涉企", "flag", "--enterprise", N_("The case involves an enterprise.")),
        _DOC_NO,
    ),
    _subtypes=choices("direction", ("to-criminal", "正向移送"), ("to-admin", "反向衔接")),
    _stages={
        "to-criminal": choices(
            "stage", ("sent", "已移送"), ("accepted", "已受理"), ("not-filed", "不予立案"),
            ("reconsideration", "复议"), ("reconsidered", "复议决定已送达"),
            ("supervision-requested", "已提请立案监督"), ("supervision", "要求说明不立案理由"),
            ("explained", "已说明不立案理由"), ("filing-notice", "通知立案"),
        ),
        "to-admin": choices("stage", ("sent", "检察意见书已送达"), ("replied", "已回复")),
    },
    _outcomes={
        "to-criminal": choices(
            "outcome", ("filed", "已立案"), ("not-filed", "不予立案"),
            ("returned", "移回行政处理"), ("withdrawn", "撤回"),
        ),
        "to-admin": choices(
            "outcome", ("penalized", "已处罚"), ("not-penalized", "不予处罚"), ("withdrawn", "撤回")
        ),
    },
)

SUGGESTION = Kind(
    code="suggestion",
    prefix="S",
    label="检察建议",
    subtype_key="type",
    subtype_label="建议类型",
    unit_option="--to",
    unit_help=N_("Addressee unit (code or Chinese name): it must reply before the due date."),
    unit_label="被建议单位",
    waiving_outcomes=("withdrawn",),
    example="fujian suggestion add --type public-interest --to sthjj "
            "--title '督促整治非法排污' --doc-no '夏检行建〔2025〕3号' --urgent",
    sheet_name=N_("Open suggestions"),
    verbs=(Verb("reply", N_("Record the addressee's written reply (moves it to `replied`; the "
                            "clock stops).\n\nExample:\n\n    fujian suggestion reply S1 --on "
                            "2025-05-06"),
                stage="replied", done=N_("Recorded the reply to {id}."),
                same=N_("No change: {id} is already replied.")),),
    fields=(
        _DOC_NO,
        KindField("urgent", "紧急", "flag", "--urgent",
                  N_("Urgent public-interest suggestion: reply due in 15 days."),
                  only_subtypes=("public-interest",)),
    ),
    _subtypes=choices(
        "type", ("correction", "纠正违法"), ("governance", "社会治理"),
        ("public-interest", "公益诉讼诉前检察建议"), ("other", "其他"),
    ),
    _stages={None: choices("stage", ("delivered", "已送达"), ("objected", "异议"), ("replied", "已回复"))},
    _outcomes={
        None: choices(
            "outcome", ("adopted", "采纳"), ("partly", "部分采纳"), ("rejected", "未采纳"),
            ("withdrawn", "撤回"),
        )
    },
)

CLUE = Kind(
    code="clue",
    prefix="C",
    label="公益诉讼线索",
    subtype_key="field",
    subtype_label="领域",
    unit_option="--unit",
    unit_help=N_("Unit that evaluates the clue (default: the procuratorate, code jcy)."),
    unit_label="评估单位",
    default_unit="jcy",
    example="fujian clue add --from sthjj --field ecology --title '某河段非法采砂线索'",
    sheet_name=N_("Open clues"),
    subtypes_file="clue_fields.csv",
    verbs=(Verb("reply", N_("Record the organ's written reply to the pre-litigation suggestion "
                            "(stage suggested): its duty to reply is met, its duty to perform "
                            "runs on.\n\nExample:\n\n    fujian clue reply C1 --on 2025-05-06"),
                meets="reply", done=N_("Recorded the reply to {id}."),
                same=N_("No change: the reply to {id} is already recorded.")),),
    fields=(
        KindField("from_unit", "线索来源单位", "unit", "--from", N_("Unit handing over the clue."),
                  required=True, column="from_unit_id"),
        KindField("to_unit", "被建议机关", "unit", "--to",
                  N_("The organ the pre-litigation suggestion is addressed to (stage suggested): "
                     "it holds the duty to reply and perform."), column="to_unit_id"),
        KindField("urgent", "紧急", "flag", "--urgent",
                  N_("Urgent pre-litigation suggestion: reply due in 15 days.")),
    ),
    _stages={
        None: choices(
            "stage", ("received", "已受理"), ("evaluating", "评估"), ("filed", "立案"),
            ("consulting", "诉前磋商"), ("suggested", "诉前检察建议"), ("litigating", "提起诉讼"),
        )
    },
    _outcomes={
        None: choices(
            "outcome", ("rectified", "整改到位"), ("not-filed", "不立案"), ("judged", "判决"),
            ("transferred", "移送"),
        )
    },
)

MEETING = Kind(
    code="meeting",
    prefix="M",
    label="联席会议",
    subtype_key="type",
    subtype_label="会议类型",
    unit_option="--unit",
    unit_help=N_("Unit that follows the meeting up (default: the liaison office, code fjb)."),
    unit_label="牵头单位",
    default_unit="fjb",
    default_subtype="plenary",
    example="fujian meeting add --title '2025年第一次联席会议' --on 2025-03-10 "
            "--type plenary --minutes minutes.txt",
    sheet_name=N_("Open meetings"),
    fields=(
        KindField("attendees", "参会单位", "units", "--attendees",
                  N_("Attending units, comma-separated codes or names.")),
        KindField("minutes", "会议纪要", "file", "--minutes",
                  N_("A text file holding the minutes (纪要); show prints it."), listed=False),
    ),
    _subtypes=choices("type", ("plenary", "全体会议"), ("topic", "专题会议"), ("liaison", "联络员会议")),
    _stages={None: choices("stage", ("held", "已召开"))},
    _outcomes={None: choices("outcome", ("done", "办结"))},
)

ACTION = Kind(
    code="action",
    prefix="A",
    label="议定事项",
    subtype_key=None,
    subtype_label="",
    unit_option="--unit",
    unit_help=N_("Unit the minutes assign the item to."),
    unit_label="承办单位",
    waiving_outcomes=("cancelled",),
    due_required=True,
    example="fujian action add --meeting M1 --unit scjgj --title '开展药品安全专项检查' "
            "--due 2025-04-30",
    sheet_name=N_("Open action items"),
    fields=(
        KindField("meeting", "所属会议", "link", "--meeting", N_("The meeting (M…) that decided it."),
                  required=True, column="meeting_id", target="meeting", part_of=True,
                  parts_key="actions"),
    ),
    _stages={None: choices("stage", ("open", "待办"), ("in-progress", "办理中"))},
    _outcomes={None: choices("outcome", ("done", "办结"), ("cancelled", "撤销"))},
)

ASSIST = Kind(
    code="assist",
    prefix="X",
    label="协助调查核实",
    subtype_key="type",
    subtype_label="协助事项",
    unit_option="--to",
    unit_help=N_("The unit asked to assist (code or Chinese name): it owes the assistance."),
    unit_label="被请求单位",
    waiving_outcomes=("withdrawn",),
    example="fujian assist add --type retrieve --to zjj --title '调取某小区项目审批材料' "
            "--doc-no '夏检民协〔2025〕2号' --item S3",
    sheet_name=N_("Open assistance requests"),
    fields=(
        _DOC_NO,
        KindField("item", "关联事项", "link", "--item",
                  N_("The related item, if any: any ID (R12, S3, C1 …)."), column="related_id"),
    ),
    verbs=(Verb("escalate", N_(
        "From stage obstructed (拒绝或妨碍): open a 检察建议 of type correction (纠正违法) to "
        "the unit, or with --superior to its superior, linked both ways to the request; "
        "--report records the report to the district committee or government in the "
        "request's running record. Prints the suggestion's ID.\n\nExample:\n\n"
        "    fujian assist escalate X1 --to zjj --report '已报告区委、区政府'"),
        opens="suggestion", opens_subtype="correction", from_stages=("obstructed",)),),
    _subtypes=choices("type", ("query", "查询"), ("retrieve", "调取/复制材料"),
                      ("interview", "询问有关人员"), ("other", "其他")),
    _stages={None: choices("stage", ("requested", "协助函已送达"), ("assisting", "协助中"),
                           ("obstructed", "拒绝或妨碍"))},
    _outcomes={None: choices("outcome", ("completed", "已协助完成"), ("refused", "拒绝协助"),
                             ("withdrawn", "撤回"))},
)

KINDS: dict[str, Kind] = {k.code: k for k in (REFERRAL, SUGGESTION, CLUE, MEETING, ACTION,
                                              ASSIST)}
BY_PREFIX: dict[str, Kind] = {k.prefix: k for k in KINDS.values()}
STATUS_FILTER = choices("status", (OPEN, STATUS_LABELS[OPEN]), (CLOSED, STATUS_LABELS[CLOSED]),
                        ("all", "全部"))


def kind_choices() -> Choices:
    """The kinds as a choice (code or Chinese label), from the registry as it stands."""
    return Choices("kind", tuple(Choice(k.code, k.label) for k in KINDS.values()))


def kind_of(code: str) -> Kind:
    return KINDS[kind_choices().parse(code)]


@cache
def unit_columns() -> frozenset[str]:
    """The item columns that hold a unit's row id: the item's own unit, the holder of its most
    urgent duty, and each kind's unit fields (from_unit_id, to_unit_id)."""
    return frozenset({"unit_id", "holder_id"} | {
        kf.column_name for k in KINDS.values() for kf in k.fields if kf.type == "unit"})


def unit_field_columns() -> tuple[str, ...]:
    """The item columns of the kinds' own unit fields (from_unit_id, to_unit_id …), from the
    registry as it stands: what a duty's holder may be besides the item's own unit."""
    return tuple(sorted({kf.column_name for k in KINDS.values() for kf in k.fields
                         if kf.type == "unit"}))


def names_a_unit(field: str | None) -> bool:
    """Whether a change-log field is a unit: one of :func:`unit_columns`, or a duty's holder
    (``duty:NAME.holder_id``). The log stores the unit's id; `history` shows its code."""
    if not field:
        return False
    if field.startswith("duty:"):
        return field.rpartition(".")[2] == "holder_id"
    return field in unit_columns()


def import_order() -> tuple[Kind, ...]:
    """Kinds in the order an import inserts them: kinds other kinds link to first (meetings
    before their action items), kinds with links last; registry order otherwise."""
    targets = {f.target for k in KINDS.values() for f in k.links() if f.target}
    return tuple(sorted(KINDS.values(), key=lambda k: (
        0 if k.code in targets else 2 if k.links() else 1)))


def format_id(kind: Kind | str, number: int) -> str:
    """(REFERRAL, 12) or ("referral", 12) → ``R12``: the one way an ID is written, as
    :func:`split_id` is the one way it is read."""
    return f"{(KINDS[kind] if isinstance(kind, str) else kind).prefix}{number}"


def split_id(text: str) -> tuple[Kind, int]:
    """``r12`` → (REFERRAL, 12). IDs are accepted in any letter case."""
    cleaned = text.strip().upper()
    kind = BY_PREFIX.get(cleaned[:1])
    number = cleaned[1:]
    if kind is None or not number.isdigit() or len(number) > 12:
        raise BadInput(
            _("Not an item ID: {text!r}. IDs look like {examples}.").format(
                text=text[:40], examples=", ".join(format_id(k, n) for n, k in
                                                   enumerate(BY_PREFIX.values(), start=1)))
        )
    return kind, int(number)


# ---------------------------------------------------------------------------------------------
# Columns: defined once, used by list, show, reports and exports alike so they cannot drift.


@dataclass(frozen=True)
class Column:
    key: str  # JSON key and CSV code header
    label: str  # Chinese header: CSV exports, and tables in Chinese
    type: str = "text"  # text | date | flag | int | choice
    brief: bool = True  # shown in a terminal table; `show` and machine formats show them all

    @property
    def header(self) -> str:
        """The table header in the interface language: the Chinese label, or an English title
        for maintainers (exports keep their Chinese headers in both languages)."""
        from fujian.i18n import language

        if language() == "zh":
            return self.label
        return COLUMN_TITLES.get(self.key, self.key.replace("_", " ").capitalize())


COLUMN_TITLES = {
    "id": "ID", "opened_on": "Opened", "due_on": "Due", "closed_on": "Closed",
    "unit": "Unit", "unit_name": "Unit name", "from_unit": "From", "doc_no": "Doc no.",
    "days_overdue": "Days overdue", "days_left": "Days left", "old": "Old value",
    "new": "New value", "at": "Time", "stage_on": "Stage since",
    "met_on": "Met on", "met_due": "Due when met", "assignee": "Assigned unit",
    "paused_on": "Paused since", "on_time": "On time", "late": "Late", "overdue": "Overdue",
    "waived": "Waived", "rate": "On-time rate", "holder": "Holder", "started_on": "Started",
    "handler": "Handler", "actor": "By", "text": "Note", "void_reason": "Void because",
    "duty": "Owed", "unmet": "Unmet", "right": "Right", "local": "Local rule",
    "provisional": "Provisional", "starts_at": "Starts at", "basis": "Basis",
    "reason": "Reason",
}


COMMON_COLUMNS: tuple[Column, ...] = (
    Column("id", "编号"),
    Column("kind", "类别", "choice"),
    Column("title", "标题"),
    # The unit that owes the most urgent open duty (domain.md §3): who the reports name.
    Column("unit", "责任单位"),
    Column("stage", "阶段", "choice"),
    Column("status", "状态", "choice"),
    Column("opened_on", "开始日期", "date"),
    Column("due_on", "期限", "date"),
    Column("closed_on", "办结日期", "date"),
    Column("outcome", "结果", "choice"),
    Column("paused_on", "暂停计时日期", "date"),
    # The item's own unit (receiving unit, addressee, assigned unit), whoever holds the duty.
    Column("assignee", "承办单位", brief=False),
    Column("handler", "经办人", brief=False),  # the person handling it inside the unit
)
NOTE_COLUMN = Column("note", "备注", brief=False)
# Dates that exports carry (so an import restores them) but lists leave to `show`.
TRACKING_COLUMNS: tuple[Column, ...] = (
    Column("stage_on", "本阶段开始日期", "date", brief=False),
    Column("met_on", "答复或决定日期", "date", brief=False),
    Column("met_due", "答复时的期限", "date", brief=False),
)

OVERDUE_COLUMNS = (
    Column("id", "编号"), Column("kind", "类别", "choice"), Column("title", "标题"),
    Column("unit", "责任单位代码"), Column("unit_name", "责任单位"),
    Column("stage", "阶段", "choice"), Column("due_on", "期限", "date"),
    Column("days_overdue", "逾期天数", "int"), Column("duty", "义务", "choice"),
)
DUE_SOON_COLUMNS = (
    Column("id", "编号"), Column("kind", "类别", "choice"), Column("title", "标题"),
    Column("unit", "责任单位代码"), Column("unit_name", "责任单位"),
    Column("stage", "阶段", "choice"), Column("due_on", "期限", "date"),
    Column("days_left", "剩余天数", "int"), Column("duty", "义务", "choice"),
)
# The unit directory, as `unit list` shows it (the pack's units sheet leaves the kind out).
UNIT_COLUMNS = (Column("code", "代码"), Column("name", "单位名称"), Column("liaison", "联络员"),
                Column("phone", "联系电话"), Column("kind", "类型"))
# Columns holding a unit's code that a labelled export writes as the unit's name, as it does
# the responsible unit (import reads codes and names alike).
UNIT_CODE_KEYS = ("from_unit", "assignee", "to_unit")

# The summary judges duties (domain.md §3): each column counts duties with a due date.
SUMMARY_COLUMNS = (
    Column("group", "分组", "choice"), Column("key", "代码"), Column("name", "名称"),
    Column("on_time", "按期履行", "int"), Column("late", "逾期履行", "int"),
    Column("unmet", "未履行", "int"),
    Column("overdue", "逾期未履行", "int"), Column("open", "未到期", "int"),
    Column("waived", "免除", "int"), Column("rate", "按期率", "rate"),
)

DUTY_STATES = choices("state", ("open", "待履行"), ("met", "按期履行"), ("late", "逾期履行"),
                      ("unmet", "未履行"), ("waived", "免除"), ("lapsed", "已过期未行使"),
                      ("exercised", "已行使"))
# An item's duties, as `show` lists them (the JSON keys of its "duties").
DUTY_COLUMNS = (
    Column("name", "义务"), Column("stage", "阶段", "choice"), Column("holder", "义务单位"),
    Column("started_on", "起算日期", "date"), Column("due_on", "期限", "date"),
    Column("met_on", "履行日期", "date"), Column("state", "状态", "choice"),
    Column("right", "权利", "flag"), Column("local", "本地规定", "flag"),
    Column("provisional", "暂定", "flag"),
)
# The default deadline rules, as `fujian rules` lists them (deadlines.RULE_KEYS): the
# procuratorate as a fixed holder is its unit code, other holders the item field naming one.
RULE_COLUMNS = (
    Column("kind", "类别"), Column("subtype", "类型"), Column("stage", "阶段"),
    Column("duty", "义务"), Column("holder", "义务单位"), Column("starts_at", "起算事件"),
    Column("period", "期间"), Column("right", "权利", "flag"), Column("local", "本地规定", "flag"),
    Column("basis", "依据"),
)
# What a listed item owes now: the name of its most urgent open duty (the last column of plain
# output, so that scripts keep their positions).
DUTY_COLUMN = Column("duty", "义务", "choice")


# Texts a person gives that no item or unit column shows (named in messages about them).
OTHER_TEXT_COLUMNS = (Column("void_reason", "作废原因"), Column("reason", "理由"),
                      Column("actor", "操作人"), Column("text", "备注"))


def field_header(key: str) -> str:
    """A field's name in a message, as its column is headed in the interface language."""
    kind_columns = (column for kind in KINDS.values() for column in columns_for(kind, True))
    for column in (*COMMON_COLUMNS, NOTE_COLUMN, *UNIT_COLUMNS, *OTHER_TEXT_COLUMNS,
                   *kind_columns):
        if column.key == key:
            return column.header
    return key


def columns_for(kind: Kind | None, everything: bool = False) -> tuple[Column, ...]:
    """Columns of one kind (common + its own fields + note), or of a cross-kind list.
    ``everything`` adds long texts such as minutes, which exports carry and lists do not."""
    if kind is None:
        return (*COMMON_COLUMNS, NOTE_COLUMN)
    own = []
    if kind.subtype_key:
        own.append(Column(kind.subtype_key, kind.subtype_label, "choice"))
    for kf in kind.fields:
        if kf.listed or everything:
            own.append(Column(kf.name, kf.label, "flag" if kf.type == "flag" else "text",
                              brief=kf.part_of))
    # In a one-kind table the kind column says the same thing on every row.
    common = tuple(c if c.key != "kind" else Column(c.key, c.label, c.type, brief=False)
                   for c in COMMON_COLUMNS)
    return (*common, *own, *(TRACKING_COLUMNS if everything else ()), NOTE_COLUMN)


def value_label(row: dict, key: str) -> str | None:
    """The Chinese label of a coded value in ``row`` (kind, stage, outcome, subtype, status)."""
    value = row.get(key)
    if value is None:
        return None
    kind_code = row.get("kind", "")
    kind = KINDS.get(kind_code)
    subtype = row.get(kind.subtype_key) if kind is not None and kind.subtype_key else None
    return label_of(key, kind_code, subtype, value)


def duty_text(row: dict) -> str | None:
    """What a row owes, as a person reads it: the duty's label; a right (可以) says so and until
    when, "may … until D" (可……至D), never read as a duty owed."""
    code = row.get("duty")
    if code is None:
        return None
    label = duty_labels().get(code, code)
    if row.get("right") and row.get("due_on") is not None:
        return _("may {duty} until {day}").format(duty=label, day=row["due_on"].isoformat())
    return label


@cache
def duty_labels() -> dict[str, str]:
    """Duty name → Chinese label, from the rules file (read without the deadline engine)."""
    import tomllib

    with data_file("deadlines.toml").open("rb") as fh:
        return dict(tomllib.load(fh).get("duties", {}))


@cache
def label_of(key: str, kind_code: str, subtype: str | None, value: str) -> str:
    """Cached: exports ask this for every cell of a million rows."""
    if key == "kind":
        return kind_choices().label(value)
    if key == "status":
        return STATUS_LABELS.get(value, value)
    if key == "group":  # a summary row's group
        return GROUP_LABELS.get(value, value)
    if key == "state":
        return DUTY_STATES.label(value)
    if key == "duty":
        return duty_labels().get(value, value)
    kind = KINDS.get(kind_code)
    if kind is None:
        return value
    if key == "stage":
        return (kind.stages(subtype) if subtype else kind.all_stages()).label(value)
    if key == "outcome":
        return (kind.outcomes(subtype) if subtype else kind.all_outcomes()).label(value)
    if key == kind.subtype_key:
        return kind.subtypes.label(value)
    return value
