"""The wheel carries every package, data file and catalog: a non-editable install works."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "fujian").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert on_disk <= listed, on_disk - listed
    assert {"fujian.data", "fujian.data.demo"} <= listed


def test_data_files_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    patterns = {pattern for patterns in package_data.values() for pattern in patterns}
    for name in ("units.csv", "deadlines.toml", "clue_fields.csv", "calendar_override.toml"):
        assert any(Path(name).match(p) for p in package_data["fujian.data"]), name
    assert (ROOT / "data" / "demo" / "items.toml").exists()
    assert any(p.endswith(".mo") for p in patterns)
