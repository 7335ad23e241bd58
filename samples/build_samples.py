"""Rebuild the filled sample workbooks from roster.csv and seed_data.py.

    python samples/build_samples.py           # write samples/returned/ and samples/variants/
    python samples/build_samples.py --check   # rebuild into a temporary folder; exit 1 if stale

Run it again whenever the template (xltool/template/layout.py) or a framework file changes: the
samples are filled templates, so a layout change makes the committed ones stale, and `--check`
(run by tests/test_samples.py) says so.

This script knows the workbook only through the template's defined names (INFO_CONTACT,
GOAL1_TARGET, PROJ2_EXECUTED, CRIT_DEDUCTION, DECLARED_C4, ...) and the framework's own lists
(criterion_indicators, criteria); where a cell is comes from the plan.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for folder in (ROOT, HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import seed_data  # noqa: E402

from xltool.template.fill import write_filled  # noqa: E402
from xltool.template.roster import read_roster  # noqa: E402
from xltool.template.signing import use_key_file  # noqa: E402
from xltool.template import plan_for  # noqa: E402

ROSTER = HERE / "roster.csv"

# (output path relative to samples/, seed data). The file names say what each file is.
SAMPLES = (
    ("returned/2021_武汉市档案馆_部门整体支出绩效自评（已填报）.xlsx", seed_data.WUHAN_2021),
    ("returned/2020_武昌区档案馆_项目支出绩效自评（已填报）.xlsx", seed_data.WUCHANG_2020),
    ("variants/2021_武汉市档案馆_效果自评24分.xlsx", seed_data.WUHAN_2021_EFFECT_24),
)
# Folders whose .xlsx files are all produced here: a file in them that SAMPLES does not make is stale.
OUTPUT_DIRS = ("returned", "variants")

# seed_data's Chinese row keys → the suffix of the template's indicator column names (GOAL1_<suffix>).
ROW_COLUMNS = {
    "一级指标": "LEVEL1",
    "二级指标": "LEVEL2",
    "指标名称": "INDICATOR",
    "计算符号": "SIGN",
    "指标值": "TARGET",
    "计量单位": "UNIT",
    "实际完成值": "ACTUAL",
    "定性档次": "BAND",
    "分值": "POINTS",
    "自评得分": "SCORE",
    "偏差原因": "REASON",
}
SOURCE_ONLY = ("原表指标值", "原表完成值")  # kept in seed_data for provenance, never written


class SampleError(ValueError):
    pass


def indicator_columns(prefix: str, rows: list[dict]) -> dict[str, list]:
    """One block's rows → {"GOAL1_TARGET": [10000, 100, ...], ...}: a list fills a column from its
    first row. Columns no row uses are left out (a unit-wide goal has no 分值/自评得分 columns)."""
    for row in rows:
        unknown = set(row) - set(ROW_COLUMNS) - set(SOURCE_ONLY)
        if unknown:
            raise SampleError(f"{prefix}: unknown row keys {sorted(unknown)}")
    out = {}
    for key, suffix in ROW_COLUMNS.items():
        column = [row.get(key) for row in rows]
        if any(v is not None for v in column):
            out[f"{prefix}_{suffix}"] = column
    return out


def department_values(plan, data: dict) -> dict[str, object]:
    fw = plan.framework
    values: dict[str, object] = {
        "INFO_CONTACT": data["填报人"],
        "INFO_PHONE": data["联系电话"],
        "INFO_DATE": data["填报日期"],
        "BUDGET_NOTE": data["执行情况说明"],
        "PROBLEMS": data["存在的问题"],
        "IMPROVEMENTS": data["改进措施"],
        "DECLARED_TOTAL": data["自评总分"],
        "DECLARED_GRADE": data["自评等级"],
    }
    # CRIT_DEDUCTION / CRIT_REASON run in the framework's criterion_indicators order; a
    # deduction names its row by (准则, 二级指标, 三级指标), since some names occur twice.
    keys = [(i.criterion, i.group, i.name) for i in fw.criterion_indicators]
    deductions: list = [0] * len(keys)  # the report lists the deductions; every other row was 0, typed as 0
    reasons: list = [None] * len(keys)
    for item in data["扣分"]:
        key = (item["准则"], item["二级指标"], item["三级指标"])
        if keys.count(key) != 1:
            raise SampleError(f"框架 {fw.name} 中找不到唯一的评分指标 {key}")
        k = keys.index(key)
        deductions[k], reasons[k] = item["扣分"], item["扣分原因"]
    values["CRIT_DEDUCTION"] = deductions
    values["CRIT_REASON"] = reasons
    criteria = [c.name for c in fw.criteria]
    for name, score in data["自评得分"].items():
        if name not in criteria:
            raise SampleError(f"框架 {fw.name} 没有评价准则“{name}”")
        values[f"DECLARED_C{criteria.index(name) + 1}"] = score
    for n, goal in enumerate(data["年度目标"], start=1):
        values[f"GOAL{n}_NAME"] = goal["名称"]
        values.update(indicator_columns(f"GOAL{n}", goal["指标"]))
    return values


def _prefilled(plan, name: str) -> bool:
    spec = plan.names[name]
    return any(c.role == "prefill" for c in plan.cells if (c.sheet, c.row, c.col) == (spec.sheet, spec.row, spec.col))


def project_values(plan, data: dict) -> dict[str, object]:
    values: dict[str, object] = {
        "INFO_CONTACT": data["填报人"],
        "INFO_PHONE": data["联系电话"],
        "INFO_DATE": data["填报日期"],
        "PROBLEMS": data["存在的问题"],
        "IMPROVEMENTS": data["改进措施"],
        # the report's texts are optional: a seed without them leaves them blank
        "BACKGROUND": data.get("立项背景和依据"),
        "ANALYSIS": data.get("问题分析"),
        "CONCLUSION": data.get("评价结论"),
    }
    # Project blocks follow the roster's project order (PROJ1 = the unit's first project).
    names = [p.name for p in plan.unit.projects]
    for project in data["项目"]:
        if project["项目名称"] not in names:
            raise SampleError(f"名册中{plan.unit.name}没有项目“{project['项目名称']}”")
        pre = f"PROJ{names.index(project['项目名称']) + 1}"
        values[f"{pre}_EXECUTED"] = project["全年执行数"]
        values[f"{pre}_INITIAL"] = project["年初预算数"]
        sources = list(plan.framework.fund_sources)
        for source, figures in project["资金来源"].items():
            k = sources.index(source) + 1
            for key, figure in zip(("INITIAL", "BUDGET", "EXECUTED"), figures):
                if plan.names[f"{pre}_SRC{k}_{key}"] and _prefilled(plan, f"{pre}_SRC{k}_{key}"):
                    continue  # the roster gave it: pre-filled and locked
                values[f"{pre}_SRC{k}_{key}"] = figure
        values[f"{pre}_GOAL_DONE"] = project["实际完成情况"]
        values[f"{pre}_NOTE"] = project["执行情况说明"]
        values[f"{pre}_DECLARED_SCORE"] = project["自评总分"]
        values[f"{pre}_DECLARED_GRADE"] = project["自评等级"]
        values[f"{pre}_IMPLEMENTATION"] = project.get("实施情况")
        values.update(indicator_columns(pre, project["指标"]))
    return values


# The samples are signed with a published demonstration key (never a bureau's own key), so that
# `xltool demo` and the tests can verify them anywhere.
DEMO_KEY = HERE / "demo.key"


def build(out_dir: Path) -> list[Path]:
    """Write every sample under out_dir (same relative paths as in samples/)."""
    use_key_file(DEMO_KEY)
    units = {u.code: u for u in read_roster(ROSTER)}
    written = []
    for relative, data in SAMPLES:
        unit = units.get(data["单位编码"])
        if unit is None:
            raise SampleError(f"名册 {ROSTER.name} 中没有单位编码 {data['单位编码']}")
        plan = plan_for(unit)
        values = project_values(plan, data) if unit.kind == "project" else department_values(plan, data)
        written.append(write_filled(plan, values, out_dir / relative))
    written.append(write_targets(out_dir))
    return written


TARGETS = "approved_targets.csv"
TARGETS_COLUMNS = ("单位编码", "项目名称", "一级指标", "二级指标", "三级指标", "计算符号", "指标值", "计量单位", "分值", "备注")


def write_targets(out_dir: Path) -> Path:
    """The approved-targets file (绩效目标批复表) of 武昌区档案馆's two projects: the 2020 targets as
    seed 001 states them; a row whose 指标值 the report does not give is marked 示例 in 备注."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(TARGETS_COLUMNS)
    data = seed_data.WUCHANG_2020
    for project in data["项目"]:
        for row in project["指标"]:
            example = "指标值为示例" in row["指标名称"]
            target = "" if row.get("指标值") is None else row["指标值"]
            writer.writerow((
                data["单位编码"], project["项目名称"], row["一级指标"], row["二级指标"], row["指标名称"], row["计算符号"], target,
                row.get("计量单位") or "", row["分值"], "示例（报告未写指标值）" if example else "2020年自评报告所列",
            ))
    path = out_dir / TARGETS
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    return path


def stale_files(fresh_dir: Path) -> list[str]:
    """Relative paths whose committed bytes differ from a fresh build (or that are missing, or that
    no longer belong). The writer is deterministic (fixed creation time), so bytes are compared."""
    problems = []
    if not (HERE / TARGETS).is_file() or (HERE / TARGETS).read_bytes() != (fresh_dir / TARGETS).read_bytes():
        problems.append(f"{TARGETS}: missing or differs from a fresh build")
    for relative, _data in SAMPLES:
        committed, fresh = HERE / relative, fresh_dir / relative
        if not committed.is_file():
            problems.append(f"{relative}: missing")
        elif committed.read_bytes() != fresh.read_bytes():
            problems.append(f"{relative}: differs from a fresh build")
    expected = {str(Path(r)) for r, _d in SAMPLES}
    for folder in OUTPUT_DIRS:
        for path in sorted((HERE / folder).glob("*.xlsx")):
            relative = str(path.relative_to(HERE))
            if relative not in expected:
                problems.append(f"{relative}: not produced by build_samples.py")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rebuild the filled sample workbooks from the two seed reports.")
    parser.add_argument("--check", action="store_true", help="rebuild into a temporary folder and exit 1 if the committed samples are stale")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory(prefix="xltool-samples-") as tmp:
            build(Path(tmp))
            problems = stale_files(Path(tmp))
        if problems:
            print("samples are stale; run: python samples/build_samples.py", file=sys.stderr)
            for line in problems:
                print(f"  {line}", file=sys.stderr)
            return 1
        print(f"samples are up to date ({len(SAMPLES)} files)")
        return 0
    for path in build(HERE):
        print(path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
