"""Maintain fujian's zh_CN message catalog with Babel: extract, update, compile, check.

    python tools/messages.py extract   # fujian/locale/fujian.pot from the code
    python tools/messages.py update    # merge the template into zh_CN/LC_MESSAGES/fujian.po
    python tools/messages.py compile   # write fujian.mo (shipped inside the package)
    python tools/messages.py check     # exit 1 if a message lacks a translation or .mo is stale

Messages are the literals inside _() and N_() calls, plus the docstrings of command functions
(a command's docstring is its --help; :func:`fujian.cli.common.help_text` translates it).
"""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fujian"
LOCALE = PACKAGE / "locale"
POT = LOCALE / "fujian.pot"
PO = LOCALE / "zh_CN" / "LC_MESSAGES" / "fujian.po"
MO = PO.with_suffix(".mo")


def _command_docstrings() -> list[tuple[str, int, str]]:
    """Docstrings of functions registered with command(...), as decorator or as a call."""
    found = []
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        registered: set[str] = set()
        for node in ast.walk(tree):
            # command(group, "name")(function)
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Call)
                    and getattr(node.func.func, "id", None) == "command"):
                registered.update(a.id for a in node.args if isinstance(a, ast.Name))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorated = any(isinstance(d, ast.Call) and getattr(d.func, "id", None) == "command"
                            for d in node.decorator_list)
            doc = ast.get_docstring(node, clean=True)
            if doc and (decorated or node.name in registered):
                found.append((str(path.relative_to(ROOT)), node.lineno, doc))
    return found


def template() -> Catalog:
    catalog = Catalog(project="fujian", domain="fujian", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            PACKAGE, method_map=[("**.py", "python")], keywords={"_": None, "N_": None},
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        if isinstance(message, str) and message:
            catalog.add(message, locations=[(f"fujian/{filename}", lineno)],
                        auto_comments=comments, context=context)
    for filename, lineno, doc in _command_docstrings():
        catalog.add(doc, locations=[(filename, lineno)])
    return catalog


def extract() -> Catalog:
    catalog = template()
    POT.parent.mkdir(parents=True, exist_ok=True)
    with POT.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True)
    print(f"{POT.relative_to(ROOT)}: {len(catalog)} messages")
    return catalog


def update() -> None:
    pot = extract()
    if PO.exists():
        with PO.open("rb") as fh:
            catalog = read_po(fh, locale="zh_CN")
        catalog.update(pot, no_fuzzy_matching=True)
    else:
        catalog = Catalog(locale="zh_CN", domain="fujian", project="fujian", charset="utf-8")
        for message in pot:
            if message.id:
                catalog.add(message.id, locations=message.locations)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, ignore_obsolete=True)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages, {len(missing)} untranslated")


def compile_mo() -> None:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    with MO.open("wb") as fh:
        write_mo(fh, catalog)
    print(f"{MO.relative_to(ROOT)} written")


def problems() -> list[str]:
    """Messages in the code without a zh_CN translation, fuzzy ones, and a stale .mo."""
    found = []
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_CN")
    for message in template():
        if not message.id:
            continue
        translated = catalog.get(message.id)
        if translated is None or not translated.string:
            found.append(f"untranslated: {message.id[:70]!r}")
        elif translated.fuzzy:
            found.append(f"fuzzy: {message.id[:70]!r}")
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    with MO.open("rb") as fh:
        shipped = read_mo(fh)
    fresh = read_mo(io.BytesIO(buffer.getvalue()))
    if {m.id: m.string for m in shipped} != {m.id: m.string for m in fresh}:
        found.append("fujian.mo is older than fujian.po: run `python tools/messages.py compile`")
    return found


def main() -> None:
    action = sys.argv[1] if len(sys.argv) > 1 else "check"
    if action == "extract":
        extract()
    elif action == "update":
        update()
    elif action == "compile":
        compile_mo()
    elif action == "check":
        found = problems()
        print("\n".join(found) or "catalog complete")
        sys.exit(1 if found else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
