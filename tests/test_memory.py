"""Writing the outputs takes memory flat in the number of files (issue 9, item 3): the summary
workbook, JSON and CSV read the results one at a time and keep none of them.

Measured with tracemalloc (allocations by Python code, not time): the peak for four times as
many results must stay under 1.5 times the peak for a quarter of them. Before the summary was
written in constant memory that ratio was about 4 (10 MB for 100 results, 40 MB for 400)."""

from __future__ import annotations

import dataclasses
import sys
import tracemalloc

import pytest

from test_report import wuchang, wuhan
from xltool import report
from xltool.core.model import Finding
from xltool.template import styles


FEW, MANY = 60, 240


def _result(i: int):
    """The i-th of many distinct results: two projects or a unit as a whole, 20 more findings."""
    base = wuchang() if i % 2 else wuhan()
    findings = [Finding(f"CODE{k}", "warning", f"第{i}个文件的第{k}条问题，请核实后修改。", "项目支出", f"B{k + 3}") for k in range(20)]
    return dataclasses.replace(base, file=f"回收/第{i:04d}号单位_自评表.xlsx", unit=f"第{i}号单位", unit_code=f"U{i:04d}", findings=base.findings + findings)


def _results(n: int):
    """n distinct results, made as they are read (a generator holds none of them)."""
    return (_result(i) for i in range(n))


def _peak(write, n: int, tmp_path) -> int:
    styles._WIDTHS.clear()  # a bounded cache: start each measure from the same state
    tracemalloc.start()
    try:
        write(_results(n), tmp_path / f"out_{n}")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("write", [report.write_summary, report.write_json, report.write_csv], ids=["summary", "json", "csv"])
def test_writers_peak_memory_is_flat_in_the_number_of_results(write, tmp_path):
    small = _peak(write, FEW, tmp_path)
    large = _peak(write, MANY, tmp_path)
    assert large < 1.5 * small, f"peak {large / 1e6:.2f} MB for {MANY} results, {small / 1e6:.2f} MB for {FEW}"


def test_check_command_keeps_briefs_not_results(tmp_path, monkeypatch):
    """The whole `check` command: each result is spooled to disk as it arrives and only a brief
    of it kept, so the main process's peak grows by far less than a result per file."""
    from xltool import cli
    from xltool.check import batch

    def synthetic(source, data=None):
        return _result(int(source.path.rsplit("_", 1)[1].split(".")[0]))

    monkeypatch.setattr(batch, "check_source", synthetic)

    def peak(n: int, run: str = "") -> int:
        folder = tmp_path / f"回收{n}{run}"
        folder.mkdir()
        for i in range(n):
            (folder / f"f_{i}.xlsx").write_bytes(b"")
        out = tmp_path / f"out{n}{run}"
        styles._WIDTHS.clear()
        tracemalloc.start()
        try:
            code = cli.main(["check", str(folder), "--out", str(out / "s.xlsx"), "--json", str(out / "r.json"), "--csv", str(out / "r.csv"), "--jobs", "1", "--quiet"])
            assert code == 1 and (out / "s.xlsx").exists()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(FEW, "warm-up")  # a first run warms what every run shares (imports, parser, formats)
    small, large = peak(FEW), peak(MANY)
    # What keeping the extra results would cost: the peak must grow by well under that. (A ratio of
    # the two peaks alone is fragile: a brief per file is kept on purpose, and the small peak is small.)
    tracemalloc.start()
    try:
        kept = [_result(i) for i in range(MANY - FEW)]
        results_cost = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del kept
    growth = large - small
    assert growth < 0.5 * results_cost, (
        f"peak {large / 1e6:.2f} MB for {MANY} files, {small / 1e6:.2f} MB for {FEW}: it grew by "
        f"{growth / 1e6:.2f} MB, keeping the {MANY - FEW} extra results would take {results_cost / 1e6:.2f} MB"
    )


_CHECK_IN_PROCESS = """
import sys
sys.path.insert(0, {root!r})
from xltool.cli import main
code = main({args!r})
with open("/proc/self/status") as status:
    peak = [line.split()[1] for line in status if line.startswith("VmHWM:")][0]
print("peak_kb", peak, "code", code)
"""

FILES = 2000
BOUND_MB = 80


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_checking_2000_files_keeps_the_main_process_under_80_mb(tmp_path):
    """Issue 9, item 3, measured as a user would: `xltool check` on 2,000 returned files, in a
    fresh process that runs the command itself. Its peak is VmHWM, the high-water mark of this
    process's own memory: the checking workers are other processes, and (unlike ru_maxrss, which
    Linux carries over an exec from the forking process: here pytest, ~100 MB) nothing of the
    parent is counted. Not timed.

    The files are copies of ten half-filled returns of distinct units (about 20 findings each,
    what the summary's 问题清单 and the JSON carry), so most results are findings-heavy; the
    copies add DUPLICATE_FILE / DUPLICATE_UNIT, whose cross-file records are small."""
    import os
    import shutil
    import subprocess
    from dataclasses import replace
    from pathlib import Path

    from cases import clean_department_values, clean_project_values
    from conftest import WUCHANG, WUHAN
    from xltool.template import plan_for
    from xltool.template.fill import write_filled

    folder = tmp_path / "回收"
    folder.mkdir()
    originals = []
    for k in range(10):
        base, values = (WUHAN, clean_department_values()) if k % 2 else (WUCHANG, clean_project_values())
        drop = {"INFO_CONTACT", "INFO_PHONE", "PROBLEMS", "IMPROVEMENTS", "PROJ1_ACTUAL", "PROJ2_ACTUAL", "PROJ1_UNIT", "PROJ2_UNIT", "PROJ1_SCORE",
                "PROJ2_SCORE", "PROJ1_SRC1_EXECUTED", "GOAL1_ACTUAL", "GOAL1_UNIT", "GOAL1_TARGET", "CRIT_DEDUCTION", "DECLARED_C1"}
        values = {key: v for key, v in values.items() if key not in drop}
        unit = replace(base, name=f"第{k}号档案馆", code=f"U{k:03d}")
        originals.append(write_filled(plan_for(unit), values, tmp_path / f"{k}.xlsx"))
    for i in range(FILES):
        shutil.copyfile(originals[i % len(originals)], folder / f"{i:04d}_第{i % len(originals)}号档案馆.xlsx")
    out = tmp_path / "out"
    args = ["check", str(folder), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--csv", str(out / "r.csv"), "--jobs", "2", "--quiet"]
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", _CHECK_IN_PROCESS.format(root=root, args=args)], capture_output=True, text=True, env=dict(os.environ), timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    words = done.stdout.split()
    peak_mb = int(words[words.index("peak_kb") + 1]) / 1024
    assert words[words.index("code") + 1] == "1"  # failed files (findings), but checked
    # every file is in the outputs, with its findings
    import json

    records = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert len(records) == FILES
    assert all(r["status"] == "failed" and len(r["findings"]) >= 15 for r in records)
    assert len((out / "r.csv").read_text(encoding="utf-8-sig").splitlines()) > FILES
    print(f"main process peak {peak_mb:.1f} MB for {FILES} files, {sum(len(r['findings']) for r in records) / FILES:.1f} findings a file")
    assert peak_mb <= BOUND_MB, f"主进程内存峰值 {peak_mb:.1f} MB，超过 {BOUND_MB} MB（{FILES} 个文件）：{done.stdout}"
