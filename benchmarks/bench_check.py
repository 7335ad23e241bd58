"""Checking N returned workbooks end to end, beside openpyxl merely loading the same files.

    python benchmarks/bench_check.py [--files 500] [--jobs 1]

1. Makes N filled workbooks (random valid fillings of generated templates, half unit-wide, half
   projects) in a temporary folder.
2. Times `xltool check` on them in a fresh process (read, recompute, checks, summary workbook,
   JSON and CSV written), and records that process's peak memory (VmHWM, benchmarks/peak_memory.py:
   its own peak; ru_maxrss would carry over this script's, which has just made the files).
3. Times `openpyxl.load_workbook` on the same files in another fresh process: the baseline;
   and the reader's floor: only unzipping and lxml-parsing the parts a check reads (workbook,
   shared strings, worksheets, custom properties), nothing interpreted.
4. Repeats the check on the first fifth of the files, to show whether peak memory grows with
   the number of files.

Peak memory is the main process's (`peak_rss_mb`); with `--jobs` above 1 the largest worker's
is `peak_rss_worker_mb` (the workers' ru_maxrss, as the main process sees it: forked, never
exec'd, they carry no other process's peak, but count the memory they share with the main
process from the fork). `--data FOLDER` checks the workbooks already in FOLDER (made once by
an earlier run with `--keep FOLDER`) instead of making new ones; `--root DIR` runs the check of
another checkout instead, and `--before DIR` runs it as well (an older commit: before/after
figures in one run, beside the same baseline); `--rounds N` then runs openpyxl, the --before
checkout and this one in turn N times and gives each round's ratio of processor times and their
median (the figures the README quotes: one run's ratio on a shared machine can be off by a
quarter):

    python benchmarks/bench_check.py --files 150 --jobs 1 --data returned --before ../old --rounds 7

`--no-load` skips the openpyxl baseline when only memory is wanted:

    python benchmarks/bench_check.py --files 2000 --jobs 2 --keep returned --no-load
    python benchmarks/bench_check.py --files 2000 --jobs 2 --data returned --no-load --root ../old
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_memory import BENCHMARKS  # noqa: E402  (the measured processes import its peak_mb from there)


def make_files(folder: Path, n: int) -> list[Path]:
    from decimal import Decimal

    from fillgen import department_values, project_values
    from xltool.template.fill import write_filled
    from xltool.core.model import ProjectInfo, UnitInfo
    from xltool.template import plan_for

    rng = random.Random(7)
    files = []
    for i in range(n):
        if i % 2:
            unit = UnitInfo(f"第{i}档案馆", f"U{i:04d}", 2021, "department", initial_budget=Decimal("3203.46"), adjusted_budget=Decimal("2814.98"), final_accounts=Decimal("2814.98"))
            plan = plan_for(unit)
            values, _ = department_values(plan, rng)
        else:
            unit = UnitInfo(f"第{i}档案馆", f"U{i:04d}", 2020, "project", projects=(ProjectInfo("档案保护费", Decimal(300)), ProjectInfo("史料编研费", Decimal(100))))
            plan = plan_for(unit)
            values, _ = project_values(plan, rng, rows=12)
        files.append(write_filled(plan, values, folder / f"{i:04d}_{unit.name}.xlsx"))
    return files


# The modules a check uses are imported before the clock starts, as openpyxl is for its load
# below: neither side's figure counts compiling modules (which every run does when Python writes
# no bytecode cache, PYTHONDONTWRITEBYTECODE).
_CHECK = """
import resource, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
from peak_memory import peak_mb
from xltool.cli import main
import xltool.check.batch, xltool.check.reader, xltool.check.rules, xltool.check.evaluate, xltool.report.summary, xltool.report.tabular
start, cpu = time.perf_counter(), time.process_time()
code = main(["check", {folder!r}, "--out", {out!r}, "--json", {out!r} + ".json", "--csv", {out!r} + ".csv", "--jobs", "{jobs}", "--quiet"{limit}])
print(time.perf_counter() - start, peak_mb(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, code, time.process_time() - cpu)
"""

_LOAD = """
import sys, time, glob
sys.path.insert(0, {bench!r})
from peak_memory import peak_mb
import openpyxl
files = sorted(glob.glob({pattern!r}))
start, cpu = time.perf_counter(), time.process_time()
for f in files:
    openpyxl.load_workbook(f)
print(time.perf_counter() - start, peak_mb(), time.process_time() - cpu)
"""

_FLOOR = """
import sys, time, glob, zipfile
sys.path.insert(0, {bench!r})
from peak_memory import peak_mb
from lxml import etree
files = sorted(glob.glob({pattern!r}))
start, cpu = time.perf_counter(), time.process_time()
for f in files:
    with zipfile.ZipFile(f) as z:
        for name in z.namelist():
            if name in ("xl/workbook.xml", "xl/sharedStrings.xml", "docProps/custom.xml") or name.startswith("xl/worksheets/sheet"):
                etree.fromstring(z.read(name))
print(time.perf_counter() - start, peak_mb(), time.process_time() - cpu)
"""


def run(code: str) -> list[float]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return [float(x) for x in done.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--data", help="check the workbooks already in this folder (the first --files of them)")
    parser.add_argument("--keep", help="copy the workbooks made to this folder, for a later --data")
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose xltool is run")
    parser.add_argument("--no-load", action="store_true", help="skip the openpyxl baseline")
    parser.add_argument("--before", help="also check the same files with this checkout (an older commit): before/after in one run")
    parser.add_argument("--rounds", type=int, default=0, help="then N rounds of openpyxl, --before and the check in turn (processor time): medians and each round's ratio")
    args = parser.parse_args()
    root = str(Path(args.root).resolve())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "returned"
        data.mkdir()
        small = tmp / "returned_small"
        small.mkdir()
        if args.data:
            files = []
            for f in sorted(Path(args.data).glob("*.xlsx"))[: args.files]:
                files.append(data / f.name)
                shutil.copyfile(f, files[-1])
        else:
            files = make_files(data, args.files)
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            for f in files:
                shutil.copyfile(f, Path(args.keep) / f.name)
        for f in files[: max(1, len(files) // 5)]:
            (small / f.name).write_bytes(f.read_bytes())
        check_time, check_rss, worker_rss, _code, check_cpu = run(_CHECK.format(bench=BENCHMARKS, root=root, folder=str(data), out=str(tmp / "summary.xlsx"), jobs=args.jobs, limit=""))
        if not args.no_load:
            load_time, load_rss, load_cpu = run(_LOAD.format(bench=BENCHMARKS, pattern=str(data / "*.xlsx")))
            floor_time, _floor_rss, floor_cpu = run(_FLOOR.format(bench=BENCHMARKS, pattern=str(data / "*.xlsx")))
        if args.before:
            before = str(Path(args.before).resolve())
            before_time, *_rest, before_cpu = run(_CHECK.format(bench=BENCHMARKS, root=before, folder=str(data), out=str(tmp / "before.xlsx"), jobs=args.jobs, limit=""))
        small_time, small_rss, _, _, _ = run(_CHECK.format(bench=BENCHMARKS, root=root, folder=str(small), out=str(tmp / "small.xlsx"), jobs=args.jobs, limit=""))
        turns = []
        for _ in range(args.rounds):  # in turn: a machine that other work shares slows all alike
            turn = {"load": run(_LOAD.format(bench=BENCHMARKS, pattern=str(data / "*.xlsx")))[-1]}
            if args.before:
                turn["before"] = run(_CHECK.format(bench=BENCHMARKS, root=before, folder=str(data), out=str(tmp / "before.xlsx"), jobs=args.jobs, limit=""))[-1]
            turn["check"] = run(_CHECK.format(bench=BENCHMARKS, root=root, folder=str(data), out=str(tmp / "summary.xlsx"), jobs=args.jobs, limit=""))[-1]
            turns.append(turn)
    result = {
        "files": len(files),
        "jobs": args.jobs,
        "check_seconds": round(check_time, 2),
        "check_ms_per_file": round(1000 * check_time / len(files), 1),
    }
    if not args.no_load:
        result.update(
            openpyxl_load_seconds=round(load_time, 2),
            ratio_check_to_load=round(check_time / load_time, 2),
            load_ms_per_file=round(1000 * load_time / len(files), 1),
            floor_ms_per_file=round(1000 * floor_time / len(files), 1),
            ratio_floor_to_load=round(floor_time / load_time, 2),
        )
    # The same in processor time (this process's, so with --jobs 1 only): steadier than the clock
    # on a machine that other work shares.
    result["check_cpu_ms_per_file"] = round(1000 * check_cpu / len(files), 1)
    if not args.no_load:
        result.update(
            load_cpu_ms_per_file=round(1000 * load_cpu / len(files), 1),
            floor_cpu_ms_per_file=round(1000 * floor_cpu / len(files), 1),
            ratio_cpu_check_to_load=round(check_cpu / load_cpu, 2),
        )
    if args.before:
        result["before_check_ms_per_file"] = round(1000 * before_time / len(files), 1)
        result["before_check_cpu_ms_per_file"] = round(1000 * before_cpu / len(files), 1)
        if not args.no_load:
            result["before_ratio_check_to_load"] = round(before_time / load_time, 2)
            result["before_ratio_cpu_check_to_load"] = round(before_cpu / load_cpu, 2)
    result["peak_rss_mb"] = round(check_rss, 1)
    if args.jobs > 1:
        result["peak_rss_worker_mb"] = round(worker_rss, 1)
    result[f"peak_rss_mb_{len(files) // 5}_files"] = round(small_rss, 1)
    if turns:
        result["rounds"] = _rounds(turns, len(files))
    print(json.dumps(result, ensure_ascii=False, indent=2))


def _rounds(turns: list[dict], files: int) -> dict:
    """Each round's processor time a file and its ratio to openpyxl's, with the medians."""
    out = {}
    for key in turns[0]:
        out[f"{key}_cpu_ms_per_file"] = [round(1000 * t[key] / files, 1) for t in turns]
    for key in ("check", "before"):
        if key in turns[0]:
            ratios = [t[key] / t["load"] for t in turns]
            out[f"{key}_ratio_cpu"] = [round(r, 3) for r in ratios]
            out[f"{key}_median_ratio_cpu"] = round(statistics.median(ratios), 3)
            out[f"{key}_rounds_within_0.25"] = sum(r <= 0.25 for r in ratios)
    return out


if __name__ == "__main__":
    main()
