"""Templates per second for a roster of N archives, beside a bare xlsxwriter baseline.

    python benchmarks/bench_templates.py [--archives 500]

The baseline writes, in the same run and on the same core, a workbook with the same sheets and
the same cell contents but nothing else (no formats, validations, names, protection): what
xlsxwriter itself costs. The ratio says how much the template's features add on top.

`xltool template` renders one skeleton per framework and shape and patches it for every other
unit (xltool.template.fast); the plain writer (write_plan, one xlsxwriter workbook per unit: how
every template was made before) is timed in the same run, on the same units, for comparison.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import xlsxwriter  # noqa: E402

from xltool.core.model import ProjectInfo, UnitInfo  # noqa: E402
from xltool.template import generate, plan_for, write_plan  # noqa: E402


def roster(n: int) -> list[UnitInfo]:
    units = []
    for i in range(n):
        if i % 2:
            units.append(UnitInfo(f"第{i}档案馆", f"U{i:04d}", 2021, "department", initial_budget=Decimal("3203.46"), adjusted_budget=Decimal("2814.98"), final_accounts=Decimal("2814.98")))
        else:
            units.append(UnitInfo(f"第{i}档案馆", f"U{i:04d}", 2020, "project", projects=(ProjectInfo("档案保护费", Decimal(300)), ProjectInfo("史料编研费", Decimal(100)))))
    return units


def bare(units: list[UnitInfo], out: Path) -> None:
    for k, unit in enumerate(units):
        plan = plan_for(unit)
        wb = xlsxwriter.Workbook(str(out / f"bare{k}.xlsx"))
        sheets = {s.name: wb.add_worksheet(s.name) for s in plan.sheets}
        for cell in plan.cells:
            ws = sheets[cell.sheet]
            value = cell.value
            if isinstance(value, Decimal):
                value = float(value)
            if cell.role == "formula":
                ws.write_formula(cell.row, cell.col, value, None, "")
            elif value is not None:
                ws.write(cell.row, cell.col, value)
        wb.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--archives", type=int, default=500)
    args = parser.parse_args()
    units = roster(args.archives)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "t").mkdir()
        (tmp / "b").mkdir()
        start = time.perf_counter()
        generate(units, tmp / "t")
        ours = time.perf_counter() - start
        start = time.perf_counter()
        for k, unit in enumerate(units):
            write_plan(plan_for(unit), tmp / "p" / f"plain{k}.xlsx")
        plain = time.perf_counter() - start
        start = time.perf_counter()
        bare(units, tmp / "b")
        baseline = time.perf_counter() - start
    n = len(units)
    print(f"archives: {n}")
    print(f"xltool template: {ours:.2f} s  ({n / ours:.0f} templates/s)")
    print(f"plain writer (one xlsxwriter workbook per unit, as before): {plain:.2f} s  ({n / plain:.0f} templates/s)")
    print(f"bare xlsxwriter, same cells: {baseline:.2f} s  ({n / baseline:.0f} workbooks/s)")
    print(f"ratio template / bare: {ours / baseline:.2f}   plain writer / bare: {plain / baseline:.2f}")


if __name__ == "__main__":
    main()
