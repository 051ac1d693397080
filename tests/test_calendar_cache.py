"""The holiday table cache gives exactly the holidays package's answers, and spares later
commands the package's import."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import holidays

from fujian.deadlines import Calendar

ROOT = Path(__file__).resolve().parent.parent


def _days(first: date, last: date):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def test_cached_calendar_matches_the_package_day_by_day(tmp_path):
    china = holidays.China()
    cold = Calendar(cache_dir=tmp_path)
    for day in _days(date(2019, 1, 1), date(2027, 12, 31)):
        assert cold.is_working_day(day) == china.is_working_day(day), day
    warm = Calendar(cache_dir=tmp_path)  # reads the file written above
    for day in _days(date(2019, 1, 1), date(2027, 12, 31)):
        assert warm.is_working_day(day) == china.is_working_day(day), day
    assert warm.package_years == cold.package_years and 2026 in warm.package_years
    data = json.loads((tmp_path / "holidays-china.json").read_text())
    assert "2025-01-28" in data["years"]["2025"]["off"]  # Spring Festival eve
    assert "2025-01-26" in data["years"]["2025"]["work"]  # a 调休 working Sunday


def test_a_warm_cache_does_not_import_holidays(tmp_path):
    Calendar(cache_dir=tmp_path).is_working_day(date(2026, 2, 14))
    Calendar(cache_dir=tmp_path).knows(2026)
    code = ("import sys; from datetime import date; from pathlib import Path\n"
            "from fujian.deadlines import Calendar\n"
            f"c = Calendar(cache_dir=Path({str(tmp_path)!r}))\n"
            "assert c.is_working_day(date(2026, 2, 14)) and c.knows(2026)\n"
            "print('holidays' in sys.modules)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_a_stale_or_broken_cache_is_rebuilt(tmp_path):
    path = tmp_path / "holidays-china.json"
    path.write_text(json.dumps({"key": "another package", "package_years": [1999],
                                "years": {"2025": {"off": [], "work": []}}}))
    calendar = Calendar(cache_dir=tmp_path)
    assert calendar.is_rest_day(date(2025, 1, 29))  # not the stale "no holidays" entry
    assert 1999 not in calendar.package_years
    path.write_text("{not json")
    assert Calendar(cache_dir=tmp_path).is_rest_day(date(2025, 10, 1))


def test_an_unwritable_cache_folder_only_costs_speed(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    calendar = Calendar(cache_dir=blocker / "cache")  # cannot be created: a file is in the way
    assert calendar.is_rest_day(date(2025, 10, 1))
    assert calendar.knows(2025)
