"""The service modules form a DAG (issue 20): a module low in the graph (search, queries) loads
neither the tracker nor a database backend, no service module imports one that imports it back,
and the past list filters with the same SQL statement as the present one."""

from __future__ import annotations

import json
import subprocess
import sys

import grimp
import pytest

HEAVY = ("fujian.service.tracker", "fujian.storage.sqlite")


@pytest.mark.parametrize("module", ["fujian.service.search", "fujian.service.queries"])
def test_a_low_service_module_loads_neither_the_tracker_nor_a_backend(module):
    code = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                       capture_output=True, text=True).stdout)
    assert [m for m in HEAVY if m in loaded] == []


def test_the_package_still_gives_the_tracker():
    from fujian.service import Tracker, current_actor
    from fujian.service.tracker import Tracker as Direct

    assert Tracker is Direct and callable(current_actor)


def test_no_service_module_imports_one_that_imports_it_back():
    graph = grimp.build_graph("fujian")  # imports inside functions count too
    service = sorted(m for m in graph.modules if m.startswith("fujian.service."))
    loops = []
    for module in service:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("fujian.service.") and imported != module and \
                    graph.chain_exists(imported, module):
                loops.append((module, imported))
    assert loops == []
