"""The deadline engine: how Chinese law counts a period (domain.md §4).

Imports neither the CLI nor the database. Rules:

1. The day the clock starts is not counted (刑事诉讼法 art. 105; 民法典 art. 201).
2. A month period ends on the same day-number of the final month, or on its last day when that
   month is shorter (民法典 art. 202) — ``relativedelta`` clips exactly so.
3. A last day that is a rest day rolls to the next working day (民法典 art. 203).
4. Rest days are weekends and the State Council's holidays; 调休 make-up working days are working
   days. The calendar is the ``holidays`` package's China calendar plus local override files.
5. A period in working days skips rest days entirely.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache, cached_property
from pathlib import Path

from fujian.errors import BadInput, os_reason
from fujian.i18n import _

_PERIOD = re.compile(r"\s*(\d{1,4})\s*(wd|d|w|m)\s*", re.IGNORECASE)
_HALF_MONTH = re.compile(r"\s*0?\.5\s*m\s*|\s*半个月\s*", re.IGNORECASE)
UNITS = {"d": "days", "w": "weeks", "m": "months", "wd": "working days"}


@dataclass(frozen=True)
class Period:
    """A legal period: ``3d`` calendar days, ``10wd`` working days, ``2m`` months (``1w`` = 7d)."""

    amount: int
    unit: str  # one of d, wd, m (weeks are stored as days)

    @classmethod
    def parse(cls, text: str, criminal: bool = False) -> Period:
        """``criminal``: half a month (``0.5m``) is 15 days, as criminal procedure counts it
        (最高法《关于适用〈刑事诉讼法〉的解释》(2021) 第二百零二条)."""
        if _HALF_MONTH.fullmatch(text or ""):
            if not criminal:
                raise BadInput(_("Half a month ({text}) is counted only in criminal procedure "
                                 "(--criminal); elsewhere write 15d.").format(text=text.strip()))
            return cls(15, "d")
        m = _PERIOD.fullmatch(text or "")
        if not m:
            raise BadInput(
                _("Not a period: {text!r}. Write 3d (days), 10wd (working days) or 2m (months).")
                .format(text=text)
            )
        amount, unit = int(m.group(1)), m.group(2).lower()
        if amount == 0:  # the start day is never counted: a period lasts at least one day
            raise BadInput(
                _("Not a period: {text!r}. Write 3d (days), 10wd (working days) or 2m (months).")
                .format(text=text)
            )
        if unit == "w":
            amount, unit = amount * 7, "d"
        return cls(amount, unit)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


class Calendar:
    """China's working-day calendar: the ``holidays`` package plus local overrides.

    An override file is TOML, one table per year::

        [2027]
        days_off = ["2027-02-05", ...]     # public holidays (放假)
        workdays = ["2027-02-07", ...]     # 调休 make-up working days (上班)

    A year named in an override is taken as fully known for that year.
    """

    def __init__(self, override_files: Iterable[Path] = (), cache_dir: Path | None = None,
                 optional: Iterable[Path] = ()) -> None:
        """``optional``: override files that may be absent (the user's default config file);
        any other file named must exist and be valid, or nothing is counted."""
        self.extra_off: set[date] = set()
        self.extra_work: set[date] = set()
        self.override_years: set[int] = set()
        self.cache_dir = cache_dir
        self._years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}
        maybe_absent = set(optional)
        for path in override_files:
            if path in maybe_absent and not _present(path):
                continue
            self._load_override(path)

    def _load_override(self, path: Path) -> None:
        def refuse(problem: object) -> BadInput:
            return BadInput(_("Calendar override file {path} is not valid: {error}").format(
                path=path, error=problem))

        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput(_("Calendar override file {path} does not exist.").format(
                path=path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(_("Calendar override file {path} cannot be read: {reason}.").format(
                path=path, reason=os_reason(exc))) from exc
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise refuse(exc) from exc
        for year_text, table in doc.items():
            if not (isinstance(year_text, str) and year_text.isdigit() and len(year_text) == 4) \
                    or not isinstance(table, dict):
                raise refuse(_("[{year}] is not a year table such as [2027].").format(
                    year=year_text))
            year = int(year_text)
            unknown = set(table) - {"days_off", "workdays"}
            if unknown:  # a misspelt key would silently make the year weekends-only
                raise refuse(_("[{year}] has unknown keys: {keys}.").format(
                    year=year, keys=", ".join(sorted(unknown))))
            if not table.get("days_off") and not table.get("workdays"):
                # An empty table would mark the year as known with weekends only.
                raise refuse(_("[{year}] lists no days_off and no workdays.").format(year=year))
            try:
                off = {_day(d) for d in table.get("days_off", [])}
                work = {_day(d) for d in table.get("workdays", [])}
            except (ValueError, TypeError) as exc:
                raise refuse(exc) from exc
            stray = sorted(d for d in off | work if d.year != year)
            if stray:
                raise refuse(_("{day} is listed under [{year}].").format(
                    day=stray[0].isoformat(), year=year))
            self.override_years.add(year)
            self.extra_off.update(off)
            self.extra_work.update(work)

    # -- the holidays package, behind a small on-disk cache ------------------------------------
    # Importing `holidays` and building China's calendar costs about 70 ms, a fifth of a whole
    # `fujian add`. What fujian needs of it is tiny — each year's days off and 调休 working
    # days, and which years carry an official notice — so it is kept in a JSON file keyed by
    # the installed package, and recomputed whenever that package changes.

    @cached_property
    def _cache(self) -> dict:
        import json  # deferred: `fujian --help` reads the rules from this module, never the cache

        key = _holidays_fingerprint()
        path = self._cache_path()
        if path is not None and key is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("key") == key:
                    return data
            except (OSError, ValueError):
                pass
        return {"key": key, "years": {}, "package_years": None}

    def _cache_path(self) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / "holidays-china.json"

    def _save_cache(self) -> None:
        path = self._cache_path()
        if path is None or self._cache.get("key") is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{os.getpid()}.tmp")
            import json  # deferred: as in _cache

            temporary.write_text(json.dumps(self._cache), encoding="utf-8")
            os.replace(temporary, path)
        except OSError:
            pass  # a read-only home folder only costs the speed-up

    def _official(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """(public holidays, 调休 working weekend days) of ``year`` per the holidays package."""
        if year not in self._years:
            entry = self._cache["years"].get(str(year))
            if entry is None:
                import holidays

                china = holidays.China(years=[year])
                entry = {"off": sorted(d.isoformat() for d in china if d.year == year),
                         "work": sorted(d.isoformat() for d in getattr(china, "weekend_workdays",
                                                                       ()) if d.year == year)}
                self._cache["years"][str(year)] = entry
                self._save_cache()
            self._years[year] = (frozenset(map(date.fromisoformat, entry["off"])),
                                 frozenset(map(date.fromisoformat, entry["work"])))
        return self._years[year]

    @cached_property
    def package_years(self) -> frozenset[int]:
        """Years for which the installed ``holidays`` package carries the official notice."""
        if self._cache.get("package_years") is None:
            try:
                from holidays.countries.china import ChinaStaticHolidays

                years = sorted(ChinaStaticHolidays.special_public_holidays)
            except (ImportError, AttributeError):  # a future layout: fall back to 调休 days
                import holidays

                years = sorted({d.year for d in getattr(holidays.China(), "weekend_workdays", ())})
            self._cache["package_years"] = years
            self._save_cache()
        return frozenset(self._cache["package_years"])

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever the days this calendar gives can change: another China calendar
        in the holidays package, other override days, or another way of counting. Cheap: the
        package is read, never imported. The database keeps the one its due dates were counted
        with (service/recount.py)."""
        import hashlib

        digest = hashlib.sha256(f"{COUNTING}\n{holidays_china_release()}\n".encode())
        for days in (self.override_years, self.extra_off, self.extra_work):
            digest.update(",".join(str(d) for d in sorted(days)).encode() + b"\n")
        return digest.hexdigest()[:32]

    def known_years(self) -> list[int]:
        return sorted(self.package_years | self.override_years)

    def knows(self, year: int) -> bool:
        return year in self.package_years or year in self.override_years

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_work:
            return True
        if day in self.extra_off:
            return False
        if day.year in self.override_years:
            # An override year stands alone: weekends are rest days unless listed as workdays.
            return day.weekday() < 5
        days_off, workdays = self._official(day.year)
        if day in workdays:
            return True
        return day.weekday() < 5 and day not in days_off

    def is_rest_day(self, day: date) -> bool:
        return not self.is_working_day(day)


def _present(path: Path) -> bool:
    """Whether an optional file is there; one this user may not even look at counts as absent
    (another user's config folder), as it would for the default file that does not exist."""
    try:
        return path.exists()
    except OSError:
        return False


def _holidays_fingerprint() -> str | None:
    """Identifies the installed holidays package without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).parent
    marker = folder / "version.py" if (folder / "version.py").exists() else Path(spec.origin)
    try:
        stat = marker.stat()
    except OSError:
        return None
    return f"1:{folder}:{stat.st_mtime_ns}:{stat.st_size}"


# Bumped when fujian changes how it counts days, so that stored due dates are counted again.
COUNTING = 1


def holidays_china_release() -> str:
    """What the installed holidays package says of China, without importing it: a digest of
    the files that hold China's holidays and the lunar calendar, so the same data installed in
    two places (two machines sharing a server database) reads the same. The package's path
    and file times stand in when those files are not where this version keeps them."""
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec("holidays")
    if spec is None or not spec.origin:
        return "none"
    folder = Path(spec.origin).parent
    digest = hashlib.sha256()
    try:
        for name in ("countries/china.py", "calendars/chinese.py"):
            digest.update((folder / name).read_bytes())
    except OSError:
        return _holidays_fingerprint() or "unknown"
    return digest.hexdigest()[:32]


def _day(value: object) -> date:
    """One override day: an ISO string, or a TOML date (``2027-02-05`` without quotes)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return date.fromisoformat(value)  # TypeError / ValueError for anything else


@dataclass
class DueDate:
    """A computed due date and how it was reached."""

    start: date
    period: Period
    nominal: date
    due: date
    rolled_over: list[date] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def compute_due(start: date, period: Period, calendar: Calendar,
                criminal: bool = False) -> DueDate:
    """Apply ``period`` to ``start`` the way the law counts it. ``criminal``: a month period
    that starts on a month's last day ends on the last day of its final month (最高法《关于适用
    〈刑事诉讼法〉的解释》(2021) 第二百零二条), not on the same day-number."""
    try:
        if period.unit == "wd":
            return _working_days(start, period, calendar)
        if period.unit == "m":
            from dateutil.relativedelta import relativedelta  # only month arithmetic needs it

            nominal = start + relativedelta(months=period.amount)
            if criminal and (start + timedelta(days=1)).month != start.month:
                nominal = nominal + relativedelta(day=31)  # clips to the month's last day
        else:
            nominal = start + timedelta(days=period.amount)
        due, rolled = roll_forward(nominal, calendar)
    except (OverflowError, ValueError) as exc:
        raise BadInput(_("That period runs past the year 9999.")) from exc
    result = DueDate(start, period, nominal, due, rolled)
    result.warnings = _unknown_year_warnings(calendar, {start.year, due.year})
    return result


def roll_forward(day: date, calendar: Calendar) -> tuple[date, list[date]]:
    """A last day that is a rest day moves to the next working day (民法典 art. 203); returns
    the day and the rest days passed over."""
    rolled = []
    while calendar.is_rest_day(day):
        rolled.append(day)
        day += timedelta(days=1)
    return day, rolled


def _working_days(start: date, period: Period, calendar: Calendar) -> DueDate:
    day, counted = start, 0
    years = {start.year}
    while counted < period.amount:
        day += timedelta(days=1)
        years.add(day.year)
        if calendar.is_working_day(day):
            counted += 1
    result = DueDate(start, period, day, day, [])
    result.warnings = _unknown_year_warnings(calendar, years)
    return result


def _unknown_year_warnings(calendar: Calendar, years: set[int]) -> list[str]:
    return [unknown_year_warning(year) for year in sorted(years) if not calendar.knows(year)]


def unknown_year_warning(year: int) -> str:
    """Says exactly what the engine assumes for a year with no official notice: the holidays
    package's estimate of that year's public holidays (festival dates computed, extra days off
    guessed) and no 调休 make-up working days."""
    return _(
        "The calendar has no official holiday schedule for {year}: rest days were taken as "
        "weekends plus the holidays package's estimate of {year}'s public holidays, with no "
        "make-up working days (调休). Check against the State Council notice or add the year "
        "to a calendar override file."
    ).format(year=year)


# ---------------------------------------------------------------------------------------------
# Default deadline rules (data/deadlines.toml): the duty each stage hands to a unit


# The keys of a rule as `fujian rules` prints it (its JSON contract).
RULE_KEYS = ("kind", "subtype", "stage", "duty", "holder", "starts_at", "period", "right",
             "local", "basis")
_ARTICLE = re.compile(r"第[一二三四五六七八九十百千零〇0-9]+条")
_EXPLANATION = re.compile(r"[（。]")


@dataclass(frozen=True)
class Rule:
    """One duty (or right) a stage opens: what is owed, by whom, from which event, for how long."""

    kind: str
    stage: str
    period: Period | None  # None: a duty without a period (no due date unless --due gives one)
    source: str  # the article it rests on, or the district's note for a local rule
    subtype: str | None = None
    urgent: bool | None = None
    duty: str = "reply"
    holder: str = "unit"  # the item field naming the unit that must act
    start: str = "received"  # the event whose date starts the clock
    criminal: bool = False  # month periods counted as criminal procedure counts them
    right: bool = False  # a right (可以), not a duty (应当): never late, never counted
    local: bool = False  # a local default without statute (the district may change it)
    suspension: str | None = None  # a ground, with its article, on which the law stops the clock

    def matches(self, kind: str, subtype: str | None, stage: str, urgent: bool) -> bool:
        return (
            self.kind == kind
            and self.stage == stage
            and (self.subtype is None or self.subtype == subtype)
            and (self.urgent is None or self.urgent == urgent)
        )

    def specificity(self) -> int:
        return (self.subtype is not None) + (self.urgent is not None)

    @property
    def pausable(self) -> bool:
        """Only a district's own period, or one the law stops on a named ground, can be paused:
        no statute stops the organ's two months or the police's 3, 7 or 15 days."""
        return self.local or self.suspension is not None

    @property
    def cites_article(self) -> bool:
        return bool(_ARTICLE.search(self.source))

    @property
    def citation(self) -> str:
        """The source in short, as help texts cite it: the articles (or the district's note)
        without the explanation that follows them in （…） or after a full stop."""
        return _EXPLANATION.split(self.source, maxsplit=1)[0].strip()


@dataclass(frozen=True)
class StageEffect:
    """What a [[stage]] entry says about entering one stage besides the duties it opens: the
    open duties it keeps running, ends unmet, or ends as stand-ins."""

    kind: str
    stage: str
    subtype: str | None = None
    keep: frozenset[str] = frozenset()
    unmet: frozenset[str] = frozenset()
    stand_in: frozenset[str] = frozenset()

    def matches(self, kind: str, subtype: str | None, stage: str) -> bool:
        return (self.kind == kind and self.stage == stage
                and (self.subtype is None or self.subtype == subtype))


@dataclass(frozen=True)
class StagePlan:
    """What entering a stage does: the duties it opens (one rule per duty name, the most
    specific), which open duties it keeps, ends unmet or ends as stand-ins; the others end by
    their holder's act. ``has_rule`` is false for a stage neither a rule nor a [[stage]] entry
    speaks of: its open duties keep running."""

    rules: tuple[Rule, ...]
    keep: frozenset[str] = frozenset()
    unmet: frozenset[str] = frozenset()
    stand_in: frozenset[str] = frozenset()
    has_rule: bool = False

    @property
    def timed(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.period is not None)

    def ending(self, duty_name: str) -> str | None:
        """How entering the stage ends an open duty of this name: None (it runs on),
        "unmet", "stand-in" or "met" (judged on its holder's act)."""
        if duty_name in self.keep:
            return None
        if duty_name in self.unmet:
            return "unmet"
        if duty_name in self.stand_in:
            return "stand-in"
        return "met"


class RuleBook:
    """The rules of ``deadlines.toml``: which duties start at which stage of which kind."""

    def __init__(self, rules: list[Rule], duties: dict[str, str] | None = None,
                 events: dict[str, str] | None = None,
                 stages: list[StageEffect] | None = None,
                 unmet_outcomes: dict[tuple[str, str], frozenset[str]] | None = None) -> None:
        self.rules = rules
        self.duties = duties or {}  # duty name → Chinese label
        self.events = events or {}  # start event → Chinese label
        self.stages = stages or []
        # (kind, outcome) → the duties closing with that outcome ends unmet
        self.unmet_outcomes = unmet_outcomes or {}
        # Holders that are no field of the item: name → {"unit": code, "label": Chinese}.
        self.holders: dict[str, dict[str, str]] = {}
        self._plans: dict[tuple, StagePlan] = {}  # a bulk import asks the same few questions

    @classmethod
    def load(cls, path: Path) -> RuleBook:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
        rules = []
        for entry in doc.get("rule", []):
            period = entry["period"]
            criminal = entry.get("counting") == "criminal"
            rules.append(
                Rule(
                    kind=entry["kind"],
                    stage=entry["stage"],
                    subtype=entry.get("subtype"),
                    urgent=entry.get("urgent"),
                    period=None if period == "none" else Period.parse(period, criminal=criminal),
                    source=entry["source"],
                    duty=entry.get("duty", "reply"),
                    holder=entry.get("holder", "unit"),
                    start=entry.get("start", "received"),
                    criminal=criminal,
                    right=bool(entry.get("right", False)),
                    local=bool(entry.get("local", False)),
                    suspension=entry.get("suspension"),
                )
            )
        stages = [StageEffect(e["kind"], e["stage"], e.get("subtype"),
                              frozenset(e.get("keep", ())), frozenset(e.get("unmet", ())),
                              frozenset(e.get("stand_in", ())))
                  for e in doc.get("stage", [])]
        unmet_outcomes = {(e["kind"], outcome): frozenset(e["unmet"])
                          for e in doc.get("outcome", []) for outcome in e["outcomes"]}
        book = cls(rules, dict(doc.get("duties", {})), dict(doc.get("events", {})), stages,
                   unmet_outcomes)
        book.holders = {name: dict(table) for name, table in doc.get("holders", {}).items()}
        return book

    def plan(self, kind: str, subtype: str | None, stage: str, urgent: bool = False) -> StagePlan:
        """The duties ``stage`` opens: for each duty name, the most specific matching rule."""
        key = (kind, subtype, stage, urgent)
        if key in self._plans:
            return self._plans[key]
        best: dict[str, Rule] = {}
        for rule in self.rules:
            if rule.matches(kind, subtype, stage, urgent):
                current = best.get(rule.duty)
                if current is None or rule.specificity() > current.specificity():
                    best[rule.duty] = rule
        rules = tuple(best.values())
        effects = [e for e in self.stages if e.matches(kind, subtype, stage)]
        plan = self._plans[key] = StagePlan(
            rules,
            keep=frozenset().union(*(e.keep for e in effects)),
            unmet=frozenset().union(*(e.unmet for e in effects)),
            stand_in=frozenset().union(*(e.stand_in for e in effects)),
            has_rule=bool(rules or effects))
        return plan

    def find(self, kind: str, subtype: str | None, stage: str, urgent: bool = False,
             duty: str | None = None) -> Rule | None:
        """The rule of one duty of this stage (the first one when ``duty`` is not named), or
        None when no rule speaks of it."""
        rules = self.plan(kind, subtype, stage, urgent).rules
        if duty is not None:
            rules = tuple(r for r in rules if r.duty == duty)
        return rules[0] if rules else None

    def duty_code(self, text: str) -> str:
        """A duty's name from its code (any case) or its Chinese label."""
        wanted = str(text).strip()
        for code, label in self.duties.items():
            if wanted.lower() == code or wanted == label:
                return code
        raise BadInput(_("Unknown duty {text!r}. Valid: {valid}.").format(
            text=text, valid=", ".join(f"{c} ({label})" for c, label in self.duties.items())))

    def unmet_on_close(self, kind: str, outcome: str) -> frozenset[str]:
        """The duties closing with ``outcome`` ends unmet (a public-interest suggestion not
        adopted leaves the duty to perform unmet)."""
        return self.unmet_outcomes.get((kind, outcome), frozenset())

    def stage_rules(self, kind: str, stage: str) -> list[Rule]:
        """Every rule of a stage, whatever the subtype (for help texts)."""
        return [r for r in self.rules if r.kind == kind and r.stage == stage]

    def of_kind(self, kind: str | None = None) -> list[Rule]:
        """The rules of one kind (every kind when None), in the order of the file."""
        return [r for r in self.rules if kind is None or r.kind == kind]

    def holder_code(self, rule: Rule) -> str:
        """Who holds a rule's duty: a fixed holder's unit code (the procuratorate: jcy), else
        the item field naming the unit (unit, from_unit, to_unit)."""
        fixed = self.holders.get(rule.holder)
        return fixed["unit"] if fixed else rule.holder

    def row(self, rule: Rule) -> dict:
        """One rule as `fujian rules` gives it: exactly the keys of RULE_KEYS, in codes."""
        return {"kind": rule.kind, "subtype": rule.subtype, "stage": rule.stage,
                "duty": rule.duty, "holder": self.holder_code(rule), "starts_at": rule.start,
                "period": None if rule.period is None else str(rule.period),
                "right": rule.right, "local": rule.local, "basis": rule.source}

    def rows(self, kind: str | None = None) -> list[dict]:
        """Every rule of ``kind`` (all when None) as :meth:`row`, in the order of the file."""
        return [self.row(rule) for rule in self.of_kind(kind)]


@cache
def shipped_rules() -> RuleBook:
    """The deadline rules the tool ships (data/deadlines.toml), read once: the one loader the
    service and the command line's help both read them through, so that a test adding a
    kind's rules replaces them in one place."""
    from fujian.resources import data_file

    return RuleBook.load(data_file("deadlines.toml"))
