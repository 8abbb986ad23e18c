"""`make bench` cannot rot: its quick mode runs every benchmark and writes the whole report (issue 16)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench import report

ROOT = Path(__file__).resolve().parent.parent.parent
QUICK_BUDGET_SECONDS = 60


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header line starts with ``header``."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


@pytest.mark.integration
def test_quick_bench_measures_every_target_and_gives_the_baseline_ratios(tmp_path):
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run_all.py"), "--quick", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=240)  # fmt: skip
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    text = (tmp_path / report.REPORT).read_text()
    figures = table_rows(text, "| area | figure |")
    areas = {row[0] for row in figures}
    assert {"client pacing", "catalog sync", "search overhead", "bulk assignment", "bulk assignment (fault mix)",
            "auto-assign latency", "audit scale", "export memory", "sandbox"} <= areas  # fmt: skip
    unmeasured = [row for row in figures if not row[3] or row[3] == report.NOT_MEASURED]
    assert not unmeasured, unmeasured
    assert all(row[4] in ("pass", "**FAIL**", "-") for row in figures)

    ratios = table_rows(text, "| scenario | figure |")
    assert {(row[0], row[1]) for row in ratios} == {
        (scenario, figure) for scenario in ("default quota", "fault mix")
        for figure in ("assignments per minute", "assignments lost", "duplicate writes (legs written twice)",
                       "429s provoked")}  # fmt: skip
    for scenario, figure, engine, script, ratio in ratios:
        assert re.fullmatch(r"[\d.]+", engine) and re.fullmatch(r"[\d.]+", script), (scenario, figure, engine, script)
        assert ratio != report.NOT_MEASURED

    for plot in (report.THROUGHPUT_PNG, report.LATENCY_PNG):
        assert (tmp_path / report.PLOTS / plot).read_bytes().startswith(b"\x89PNG"), plot
        assert f"]({report.PLOTS}/{plot})" in text
    # The budget the issue sets, with room for a machine busy with other tests.
    assert seconds < 2 * QUICK_BUDGET_SECONDS, f"--quick took {seconds:.0f} s"
