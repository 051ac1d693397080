"""Where the shipped data files live.

In an installed wheel ``data/`` is the package ``fujian.data``; in a bare checkout (tests run
without installing) it is the ``data/`` folder beside the package.
"""

from __future__ import annotations

from pathlib import Path


def data_dir() -> Path:
    try:
        import fujian.data as package  # present in an installed wheel or editable install

        return Path(next(iter(package.__path__)))
    except ImportError:
        return Path(__file__).resolve().parent.parent / "data"


def data_file(name: str) -> Path:
    return data_dir() / name
