"""Templates per second for a roster of N archives, beside a bare xlsxwriter baseline.

    python benchmarks/bench_templates.py [--archives 500] [--roster simple|samples|targets] [--root DIR] [--no-bare]

`--roster simple` (the default): every archive like the seed ones, nothing pre-filled but the
budget figures. `--roster samples`: archives like samples/roster.csv (the project's 预期目标 and
当年财政拨款 pre-filled), read from a CSV roster as `xltool template --roster` does; `--roster
targets` adds a targets file like samples/approved_targets.csv (`--targets`), each archive's
approved indicators its own: the number of rows, which are 定性, which carry an adjusted value
and the target values differ from one archive to the next. `--root DIR` times the xltool of
another checkout (an older commit: before and after figures, each with its own same-run
baselines).

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

ROOT = Path(__file__).resolve().parent.parent
if "--root" in sys.argv:
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--root") + 1]).resolve()))
else:
    sys.path.insert(0, str(ROOT))

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


def sample_roster(n: int, folder: Path, targets: bool) -> list[UnitInfo]:
    """n archives like samples/roster.csv (and, with targets, samples/approved_targets.csv), each
    with its own name, code, 预期目标 and figures; read back as `xltool template` reads them."""
    import csv

    from xltool.template.roster import read_roster

    def rows(name: str) -> list[list[str]]:
        with open(ROOT / "samples" / name, encoding="utf-8-sig", newline="") as handle:
            return list(csv.reader(handle))

    roster, approved = rows("roster.csv"), rows("approved_targets.csv")
    out, out_targets = [roster[0]], [approved[0]]
    for i in range(n):
        for row in roster[1:]:
            row = list(row)
            row[0], row[1] = f"第{i}区{row[0]}", f"{row[1]}-{i:04d}"
            if row[12]:
                row[12] += f"（第{i}批）"
            if row[9]:
                row[9] = row[11] = str(int(row[9]) + i % 7)
            out.append(row)
        by_project: dict[str, list[list[str]]] = {}
        for row in approved[1:]:
            by_project.setdefault(row[1], []).append(list(row))
        for k, items in enumerate(by_project.values()):
            # this archive's own table: another row split in two, another one 定性, another adjusted
            split = (i + k) % len(items)
            if int(items[split][8]) % 2 == 0:
                half = str(int(items[split][8]) // 2)
                first, second = list(items[split]), list(items[split])
                first[4], first[8], second[4], second[8] = first[4] + "（一）", half, second[4] + "（二）", half
                items[split : split + 1] = [first, second]
            quality = (i // 3 + k) % len(items)
            items[quality][5], items[quality][6], items[quality][7] = "定性", "", ""
            for j, row in enumerate(items):
                row[0] = f"{row[0]}-{i:04d}"
                if row[6]:
                    row[6] = str(int(row[6]) + i)
                    if (i + j) % 5 == 0:
                        row.append(str(int(row[6]) + 1))  # 调整后指标值
                out_targets.append(row)
    out_targets[0] = out_targets[0] + ["调整后指标值"]
    for path, data in ((folder / "roster.csv", out), (folder / "targets.csv", out_targets)):
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(data)
    units = read_roster(folder / "roster.csv")
    if targets:
        from xltool.template.approved import apply_targets, read_targets

        units = apply_targets(units, read_targets(folder / "targets.csv", units))
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
    parser.add_argument("--roster", choices=("simple", "samples", "targets"), default="simple")
    parser.add_argument("--root", help="the checkout whose xltool is timed")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare xlsxwriter baseline (the slowest part)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.roster == "simple":
            units = roster(args.archives)
        else:  # an archive of samples/roster.csv is two units: 武汉 and 武昌
            units = sample_roster((args.archives + 1) // 2, tmp, args.roster == "targets")[: args.archives]
        (tmp / "t").mkdir()
        (tmp / "b").mkdir()
        start, cpu = time.perf_counter(), time.process_time()
        generate(units, tmp / "t")
        ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        for k, unit in enumerate(units):
            write_plan(plan_for(unit), tmp / "p" / f"plain{k}.xlsx")
        plain, plain_cpu = time.perf_counter() - start, time.process_time() - cpu
        baseline = None
        if not args.no_bare:
            start = time.perf_counter()
            bare(units, tmp / "b")
            baseline = time.perf_counter() - start
        from xltool.template.fast import TemplateWriter

        writer = TemplateWriter()  # again, untimed: how many units were patched from a skeleton
        for unit in units:
            writer.render(plan_for(unit))
    n = len(units)
    import xltool

    print(f"archives: {n}  roster: {args.roster}  xltool from: {Path(xltool.__file__).resolve().parent.parent}")
    # CPU seconds of this process: what one core does, whatever else the machine is running
    print(f"xltool template: {ours:.2f} s  ({n / ours:.0f} templates/s; CPU {n / ours_cpu:.0f}/s; {writer.fast} of {n} patched from a skeleton)")
    print(f"plain writer (one xlsxwriter workbook per unit, as before): {plain:.2f} s  ({n / plain:.0f} templates/s; CPU {n / plain_cpu:.0f}/s)")
    print(f"ratio template / plain writer: {ours / plain:.2f}  (CPU: {ours_cpu / plain_cpu:.2f})")
    if baseline is not None:
        print(f"bare xlsxwriter, same cells: {baseline:.2f} s  ({n / baseline:.0f} workbooks/s)")
        print(f"ratio template / bare: {ours / baseline:.2f}   plain writer / bare: {plain / baseline:.2f}")


if __name__ == "__main__":
    main()
