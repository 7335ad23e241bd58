"""`xltool demo`: the whole loop on the bundled samples, into a fresh folder.

0. the target-setting forms (绩效目标申报表) of every archive; 武昌区档案馆's filled with the
   targets of samples/approved_targets.csv (its two projects), checked, and turned by the same
   code as `xltool targets` into the approved-targets file 批复表.xlsx;
1. templates for every archive in samples/roster.csv, the approved targets of that file
   pre-filled and locked;
2. a check of the filled sample workbooks (rebuilt from the two seed reports);
3. the graded summary (xlsx, JSON, CSV) and one feedback workbook per checked file;
4. a self-evaluation report draft (.docx) per checked file.
The samples are only read; everything is written under the new folder.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

_SAMPLE_DIRS = (
    Path(__file__).resolve().parent.parent / "samples",
    Path(__file__).resolve().parent / "samples",
)


def samples_dir() -> Path:
    for folder in _SAMPLE_DIRS:
        if (folder / "roster.csv").is_file():
            return folder
    raise FileNotFoundError("找不到自带样例（samples/roster.csv）。请从项目源码目录安装：pip install -e .")


def fresh_folder(out: str | None) -> Path:
    if out:
        folder = Path(out)
        if folder.exists() and any(folder.iterdir()):
            raise FileExistsError(f"输出文件夹 {folder} 已存在且不为空；演示只写入新的或空的文件夹。")
    else:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path.cwd() / f"xltool-demo-{stamp}"
        n = 1
        while folder.exists():
            n += 1
            folder = Path.cwd() / f"xltool-demo-{stamp}-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_demo(out: str | None = None, quiet: bool = False) -> int:
    import sys

    try:
        samples = samples_dir()
        folder = fresh_folder(out)
    except (FileNotFoundError, FileExistsError) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    say = (lambda *a: None) if quiet else print
    # The samples are signed with the published demonstration key (samples/demo.key): the demo
    # uses it for its own templates and checks too, and leaves the user's key alone.
    from xltool.template.signing import KEY_ENV, use_key_file

    before = os.environ.get(KEY_ENV)
    use_key_file(samples / "demo.key")
    try:
        return _run(samples, folder, quiet, say)
    finally:
        if before is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = before


def _run(samples, folder, quiet, say) -> int:
    from xltool.check import batch
    from xltool import report
    from xltool.template.roster import read_roster
    from xltool.template import generate

    units = read_roster(samples / "roster.csv")
    targets = samples / "approved_targets.csv"
    if targets.is_file():  # the yearly cycle: 申报表 → 批复表 → templates with the approved targets
        from xltool.template.approved import apply_targets, read_targets

        targets = _declare(units, read_targets(targets, units), folder, say)
        units = apply_targets(units, read_targets(targets, units))
    templates = generate(units, folder / "模板")
    say(f"1. 已按名册生成 {len(templates)} 份模板：{folder / '模板'}")
    if targets.is_file():
        say(f"   批复的绩效目标（{targets.name}）已预填并锁定，单位只填完成情况")
    files, _missing = batch.expand_paths([str(samples / "returned"), str(samples / "variants")])
    results = batch.check_paths(files)
    summary = folder / "汇总.xlsx"
    report.write_summary(results, summary)
    report.write_json(results, folder / "汇总.json")
    report.write_csv(results, folder / "汇总.csv")
    report.write_feedback_files(results, folder / "检查意见", files)
    say(f"2. 已检查 {len(results)} 份样例工作簿（来自 {samples}）：")
    if not quiet:
        report.print_table(results)
    say(f"3. 汇总：{summary}")
    say(f"   JSON：{folder / '汇总.json'}  CSV：{folder / '汇总.csv'}")
    say(f"   检查意见（每个文件一份，发回单位修改）：{folder / '检查意见'}")
    from xltool.report.drafts import write_draft

    drafts = 0
    for result, sub, framework in batch.iter_read(files):
        if sub is not None:
            write_draft(result, sub, framework, folder / "自评报告初稿")
            drafts += 1
    say(f"4. 自评报告初稿（Word，数字按复核结果）{drafts} 份：{folder / '自评报告初稿'}")
    say(f"全部输出位于：{folder}")
    return 0


def _declare(units, approved, folder: Path, say) -> Path:
    """Step 0: the 申报表 of every unit; those of the units with approved targets filled with them
    (as the unit would have declared them), checked and turned into 批复表.xlsx, as
    `xltool targets` does. Returns the approved-targets file the templates are made from."""
    from xltool.check import batch
    from xltool.check.approval import targets_from
    from xltool.core.framework import load_framework
    from xltool.template.declaration import build_declaration_plan, generate_declarations, write_approved
    from xltool.template.fill import write_filled

    blank = generate_declarations(units, folder / "申报表")
    say(f"0. 已生成 {len(blank)} 份绩效目标申报表：{folder / '申报表'}")
    filled_dir = folder / "回收申报表"
    filled = []
    for unit in units:
        mine = {name: block for (code, name), block in approved.items() if code == unit.code}
        if unit.kind != "project" or not mine:
            continue
        plan = build_declaration_plan(load_framework(unit.framework or unit.kind), unit)
        values: dict[str, object] = {}
        for p, project in enumerate(unit.projects, start=1):
            block = mine.get(project.name)
            if block is None:
                continue
            goal = block.goal_text or project.goal_plan or f"完成{project.name}年度任务"
            values.update({
                f"DECL{p}_ATTRIBUTE": "延续", f"DECL{p}_DEPARTMENT": unit.department or f"{unit.name}（示例）",
                f"DECL{p}_START": _dt.date(unit.year, 1, 1), f"DECL{p}_END": _dt.date(unit.year, 12, 31),
                f"DECL{p}_OTHER": 0, f"DECL{p}_LONG_GOAL": goal, f"DECL{p}_ANNUAL_GOAL": goal,
            })
            rows = block.indicators
            qualitative = [i.sign == "定性" for i in rows]
            columns = {
                "LEVEL1": [i.level1 for i in rows], "LEVEL2": [i.level2 for i in rows], "NAME": [i.name for i in rows],
                "VALUE_KIND": ["定性" if q else "定量" for q in qualitative], "SIGN": [i.sign for i in rows],
                "TARGET": [(i.wording or "达到年度指标") if q else i.target for q, i in zip(qualitative, rows)],
                "UNIT": [i.unit or None for i in rows], "POINTS": [i.points for i in rows],
                "STANDARD": ["达成得满分，部分达成按程度计分" if q else "达到指标值得满分，未达到按完成比例计分" for q in qualitative],
            }
            values.update({f"DECL{p}_G1_{key}": value for key, value in columns.items()})
        filled.append(write_filled(plan, values, filled_dir / f"{unit.year}_{unit.name}_绩效目标申报表（已填报）.xlsx"))
    results = batch.check_paths(filled)
    passed = sum(1 for r in results if r.status == "passed")
    say(f"   样例单位按 samples/approved_targets.csv 填好申报表 {len(filled)} 份（{filled_dir}），检查通过 {passed} 份")
    outcome = targets_from(batch.collect([str(filled_dir)]), units)
    for line in outcome.lines:
        say(f"   {line}")
    path = folder / "批复表.xlsx"
    if not outcome.ok:  # the samples are made to pass: say why, and go on with the bundled file
        say(f"   未生成批复表：{outcome.reason} 以下改用自带的 samples/approved_targets.csv")
        return samples_dir() / "approved_targets.csv"
    write_approved(outcome.rows, path)
    say(f"   xltool targets：{len(outcome.rows)} 个指标汇成批复表 {path}")
    return path
