"""The pack workbook as LibreOffice prints it: every sheet on landscape A4, one page wide, the
header row repeated on each page of a long sheet, page numbers and the as-of date in the footer.

Needs `soffice` (Debian: libreoffice-calc-nogui) and `pdfinfo`/`pdftotext` (poppler-utils);
.ci/run installs them. Outside CI the test is skipped when they are missing; in CI it fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.slow

TOOLS = ("soffice", "pdfinfo", "pdftotext")


def _tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        reason = f"{', '.join(missing)} not installed (.ci/run installs them from Debian)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _to_pdf(workbook: Path, tmp_path: Path) -> Path:
    profile = tmp_path / "lo-profile"  # LibreOffice's settings: never the user's own
    r = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), str(workbook)],
        capture_output=True, text=True, timeout=240)
    pdf = tmp_path / "pdf" / (workbook.stem + ".pdf")
    assert r.returncode == 0 and pdf.exists(), (r.stdout, r.stderr)
    return pdf


def _page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True,
                         text=True, check=True).stdout
    return [(float(w), float(h)) for w, h in
            re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)]


def _page_text(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf),
                           "-"], capture_output=True, text=True, check=True).stdout


def test_the_pack_prints_landscape_one_page_wide_with_repeated_headers(cli, initialised,
                                                                       tmp_path):
    _tools()
    # 150 open referrals (due in May: not overdue, not due soon) make one sheet run over
    # several pages; every other sheet fits on one.
    rows = ["title,direction,from_unit,unit,opened_on"]
    rows += [f"移送案件{i:03d},to-admin,jcy,scjgj,2025-03-01" for i in range(150)]
    source = tmp_path / "many.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert cli("import", "csv", "--kind", "referral", str(source)).exit_code == 0
    assert cli("clue", "add", "--from", "sthjj", "--field", "ecology", "--title", "线索",
               "--on", "2025-02-01").exit_code == 0  # overdue: the summary has a rate
    assert cli("meeting", "add", "--title", "联席会议", "--on", "2025-03-05").exit_code == 0
    assert cli("action", "add", "--meeting", "M1", "--unit", "scjgj", "--title", "检查",
               "--due", "2025-03-14").exit_code == 0
    workbook = tmp_path / "pack.xlsx"
    r = cli("export", "pack", "-o", str(workbook), "--meeting", "M1")
    assert r.exit_code == 0, r.stderr
    pdf = _to_pdf(workbook, tmp_path)

    sizes = _page_sizes(pdf)
    assert sizes and all(abs(w - 841.9) < 1 and abs(h - 595.3) < 1 for w, h in sizes), sizes
    sheets = load_workbook(workbook, read_only=True).sheetnames
    assert sheets[:4] == ["Overview", "Overdue", "Due soon", "Open referrals"]
    assert sheets[-2:] == ["Meeting M1", "Units"]
    # Each page's header (centre) is its sheet's name; its footer the as-of date and "Page i
    # of n": so each page is known, and every sheet is one page wide.
    pages: dict[str, list[int]] = {}
    for number in range(1, len(sizes) + 1):
        text = _page_text(pdf, number)
        first = next(line.strip() for line in text.splitlines() if line.strip())
        pages.setdefault(first, []).append(number)
        assert "As of 2025-03-10" in text and f"Page {number} of {len(sizes)}" in text, number
    assert list(pages) == sheets
    long = pages.pop("Open referrals")
    assert all(len(numbers) == 1 for numbers in pages.values()), pages
    assert len(long) >= 2
    assert len(sizes) == len(sheets) - 1 + len(long)
    for number in long:  # the header row is printed on every page of the sheet
        header = next(line for line in _page_text(pdf, number).splitlines() if "Title" in line)
        assert re.search(r"ID\s+Kind\s+Title\s+Unit", header), header
    all_text = "".join(_page_text(pdf, n) for n in long)
    assert all(f"移送案件{i:03d}" in all_text for i in range(150))
    # The chart is drawn (its title is printed with the overview).
    assert "On-time rate by unit, worst first" in _page_text(pdf, 1)
