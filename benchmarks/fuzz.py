"""Deep fuzzing of the checker: many mutations of valid returned workbooks, each checked in
strict mode (an unforeseen exception is counted and shown, not turned into a finding).

    python benchmarks/fuzz.py [--iterations 20000] [--seed 0] [--jobs 4] [--keep DIR] [--timeout 10]

Mutation i of a run with --seed S is `Mutator(seeds).mutate(S * 10**9 + i)` (tests/hostile.py),
so any case it reports can be rebuilt exactly. --keep writes every file that raised or took
longer than --timeout seconds into DIR, to attach to a bug report. Prints the counts per status,
per mutation kind and per finding code, the slowest cases, and every exception with the mutation
that raised it. Exit status 1 when anything raised or was too slow.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

_MUTATOR = None
_WORK: Path | None = None


def make_seeds(folder: Path) -> list[Path]:
    from cases import write_department, write_project
    from fillgen import department_values, project_values
    from xltool.template.fill import write_filled
    from xltool.core.model import ProjectInfo, UnitInfo
    from xltool.template import plan_for

    rng = random.Random(11)
    project = plan_for(UnitInfo("洪山区档案馆", "420111", 2022, "project", projects=(ProjectInfo("档案数字化", None),)))
    department = plan_for(UnitInfo("江岸区档案馆", "420102", 2022, "department"))
    return [
        write_project(folder / "project.xlsx", PROJ1_NOTE="=1+1"),
        write_department(folder / "department.xlsx"),
        write_filled(project, project_values(project, rng, rows=6)[0], folder / "random_project.xlsx"),
        write_filled(department, department_values(department, rng)[0], folder / "random_department.xlsx"),
    ]


def _init(seed_paths: list[str], work: str) -> None:
    global _MUTATOR, _WORK
    from hostile import Mutator

    _MUTATOR = Mutator([Path(p) for p in seed_paths])
    _WORK = Path(work)


def _one(index: int) -> tuple[int, str, str, list[str], float, str | None, bytes | None]:
    from xltool.check.batch import check_file

    kind, data = _MUTATOR.mutate(index)
    path = _WORK / f"{os.getpid()}.xlsx"
    path.write_bytes(data)
    start = time.perf_counter()
    try:
        result = check_file(path, strict=True)
        status, codes, error = result.status, [f.code for f in result.findings], None
    except Exception:  # noqa: BLE001 - what this script is looking for
        status, codes, error = "EXCEPTION", [], traceback.format_exc(limit=6)
    elapsed = time.perf_counter() - start
    return index, kind, status, codes, elapsed, error, data if error else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keep", help="folder for the files that raised or were too slow")
    ap.add_argument("--timeout", type=float, default=10.0, help="seconds one file may take")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="xltool-fuzz-") as tmp:
        seeds_dir = Path(tmp, "seeds")
        seeds_dir.mkdir()
        seeds = [str(p) for p in make_seeds(seeds_dir)]
        indexes = range(args.seed * 10**9, args.seed * 10**9 + args.iterations)
        statuses, kinds, codes = Counter(), Counter(), Counter()
        failures, slow = [], []
        timings = []
        start = time.perf_counter()
        keep = Path(args.keep) if args.keep else None
        if keep:
            keep.mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(max_workers=args.jobs, initializer=_init, initargs=(seeds, tmp)) as pool:
            for done, (index, kind, status, found, elapsed, error, data) in enumerate(pool.map(_one, indexes, chunksize=50), start=1):
                statuses[status] += 1
                kinds[kind] += 1
                codes.update(found)
                timings.append((elapsed, index, kind))
                if error:
                    failures.append((index, kind, error))
                if elapsed > args.timeout:
                    slow.append((elapsed, index, kind))
                if keep and (error or elapsed > args.timeout):
                    (keep / f"mutation_{index}_{kind}.xlsx").write_bytes(data or _regenerate(seeds, index))
                if done % 5000 == 0:
                    sys.stderr.write(f"{done}/{args.iterations} …\n")
        total = time.perf_counter() - start

    print(f"{args.iterations} mutations (seed {args.seed}) in {total:.1f} s with {args.jobs} processes")
    print("status:     " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    print("mutations:  " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print("codes:      " + ", ".join(f"{k} {v}" for k, v in codes.most_common()))
    timings.sort(reverse=True)
    print("slowest:    " + ", ".join(f"{t:.3f}s #{i} {k}" for t, i, k in timings[:5]))
    for index, kind, error in failures[:20]:
        print(f"\n--- mutation {index} ({kind}) raised:\n{error}")
    if len(failures) > 20:
        print(f"\n… and {len(failures) - 20} more exceptions")
    for elapsed, index, kind in slow:
        print(f"too slow: mutation {index} ({kind}) took {elapsed:.1f} s")
    return 1 if failures or slow else 0


def _regenerate(seeds: list[str], index: int) -> bytes:
    from hostile import Mutator

    return Mutator([Path(p) for p in seeds]).mutate(index)[1]


if __name__ == "__main__":
    sys.exit(main())
