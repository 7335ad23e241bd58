"""Fuzz: thousands of seed-deterministic mutations of valid returned workbooks — byte flips,
truncation, parts removed, duplicated, renamed or swapped, mangled XML, odd values and cell
types, broken defined names and metadata — each checked in-process with `strict=True`, so that
any exception nobody foresaw fails the test instead of becoming a FILE_UNREADABLE finding.

The deeper run is `python benchmarks/fuzz.py --iterations 100000` (see README).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path

import pytest

import hostile
from cases import write_department, write_project
from fillgen import project_values
from xltool.check.batch import check_file
from xltool.template.fill import write_filled
from xltool.core.model import ProjectInfo, UnitInfo
from xltool.template import plan_for

ITERATIONS = int(os.environ.get("XLTOOL_FUZZ_ITERATIONS", "3000"))
STATUSES = ("passed", "failed", "unreadable")


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("fuzz_seeds")
    unit = UnitInfo("洪山区档案馆", "420111", 2022, "project", projects=(ProjectInfo("档案数字化", None),))
    plan = plan_for(unit)
    values, _expected = project_values(plan, random.Random(11), rows=6)
    return [
        write_project(folder / "project.xlsx", PROJ1_NOTE="=1+1"),
        write_department(folder / "department.xlsx"),
        write_filled(plan, values, folder / "random.xlsx"),
    ]


def test_seeds_are_valid_and_read(seeds):
    for seed in seeds:
        result = check_file(seed, strict=True)
        assert result.status in ("passed", "failed") and result.evaluations


def test_thousands_of_mutations_never_raise_nor_hang(seeds, tmp_path):
    mutator = hostile.Mutator(seeds)
    statuses: Counter = Counter()
    kinds: Counter = Counter()
    slowest = (0.0, None)
    path = tmp_path / "变异 文件.xlsx"
    start = time.perf_counter()
    for i in range(ITERATIONS):
        kind, data = mutator.mutate(i)
        path.write_bytes(data)
        t = time.perf_counter()
        try:
            result = check_file(path, strict=True)
        except Exception as exc:  # noqa: BLE001 - reported with the seed that reproduces it
            raise AssertionError(f"mutation {i} ({kind}) raised {type(exc).__name__}: {exc}; reproduce with Mutator(seeds).mutate({i})") from exc
        elapsed = time.perf_counter() - t
        slowest = max(slowest, (elapsed, (i, kind)))
        assert result.status in STATUSES, (i, kind, result.status)
        assert result.findings or result.status == "passed", (i, kind)
        assert all(f.code != "FILE_UNREADABLE" for f in result.findings), (i, kind, result.findings)
        statuses[result.status] += 1
        kinds[kind] += 1
    total = time.perf_counter() - start
    print(f"\n{ITERATIONS} mutations in {total:.1f}s: {dict(statuses)}; slowest {slowest[0]:.3f}s {slowest[1]}")
    assert slowest[0] < 5, slowest
    # The mutations reach past the zip: some files are still read and checked.
    assert statuses["failed"] + statuses["passed"] > ITERATIONS // 20, statuses
    assert len(kinds) == len(mutator.kinds)


def test_mutations_are_reproducible(seeds):
    a, b = hostile.Mutator(seeds), hostile.Mutator(seeds)
    assert [a.mutate(i) for i in range(30)] == [b.mutate(i) for i in range(30)]
