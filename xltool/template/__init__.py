"""The template side: layout (the workbook as data), styles, and the xlsxwriter writer."""

from __future__ import annotations

import re
from pathlib import Path

from xltool.core.framework import load_framework
from xltool.core.model import UnitInfo
from xltool.template.layout import Plan, build_plan, indicator_columns
from xltool.template.writer import write_plan

KIND_LABELS = {"project": "项目支出绩效自评", "department": "部门整体支出绩效自评"}


def template_filename(unit: UnitInfo) -> str:
    """File name that says whose template it is: 2021_武汉市档案馆_部门整体支出绩效自评.xlsx"""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", unit.name).strip(" .") or unit.code or "单位"
    return f"{unit.year}_{safe}_{KIND_LABELS[unit.kind]}.xlsx"


def plan_for(unit: UnitInfo) -> Plan:
    return build_plan(load_framework(unit.framework or unit.kind), unit)


MAX_PROJECTS = 100  # project blocks in one template (each is a block, a 自评表 sheet, a text)
# Cells one sheet of a template may hold, filled: well below what the checker reads from a sheet
# (check.xlsx.MAX_CELLS, 50,000), so a returned file is never too large to check.
SHEET_CELLS = 40_000


def refuse_overfull(units: list[UnitInfo]) -> None:
    """A RosterError (every problem, in Chinese, naming the unit and the limit) when a unit asks for
    more than its template has room for: more projects or annual goals than one workbook holds, or
    more approved indicators for a project or goal than its block's rows. Called before any plan
    is built or file written: a template is never cut short, nor its formulas pointed past a block."""
    from xltool.template.roster import KIND_NAMES, MAX_LISTED, RosterError

    problems = []
    for unit in units:
        fw = load_framework(unit.framework or unit.kind)
        who = f"单位“{unit.name}”（编码 {unit.code}）" if unit.code else f"单位“{unit.name}”"
        block_cells = (fw.indicator_rows + 3) * len(indicator_columns(fw.kind))
        room = min(SHEET_CELLS // block_cells, MAX_PROJECTS if fw.kind == "project" else SHEET_CELLS)
        if fw.kind == "project":
            count = len(unit.projects) or fw.blank_projects
            if count > room:
                source = f"名册中有 {count} 个项目" if unit.projects else f"框架“{fw.name}”规定 {count} 个空白项目"
                problems.append(f"{who}{source}，一份{KIND_NAMES[fw.kind]}自评模板最多容纳 {room} 个项目。"
                                "请核对名册中该单位的项目行（是否重复粘贴）；项目确实更多的，请分到不同的单位编码下分别生成模板。")
            blocks = [("项目", p.name, p.approved) for p in unit.projects]
        else:
            if fw.goals > room:
                problems.append(f"框架“{fw.name}”规定 {fw.goals} 个年度目标，一份{KIND_NAMES[fw.kind]}自评模板最多容纳 {room} 个。请减少框架的 layout.goals。")
            if len(unit.goals) > fw.goals:
                problems.append(f"{who}的批复表有 {len(unit.goals)} 个年度目标，模板只有 {fw.goals} 个年度目标（框架“{fw.name}”的 layout.goals）。"
                                "请在批复表中合并该单位的年度目标，或换用年度目标更多的框架。")
            blocks = [("年度目标", name, rows) for name, rows in unit.goals]
        for what, name, rows in blocks:
            if len(rows) > fw.indicator_rows:
                problems.append(f"{who}{what}“{name}”批复了 {len(rows)} 个指标，模板每个{what}只有 {fw.indicator_rows} 行指标（框架“{fw.name}”的 layout.indicator_rows）。"
                                "请在批复表中精简或合并该处的指标，或换用指标行更多的框架。")
    if problems:
        shown = "\n".join(f"  {i}. {p}" for i, p in enumerate(problems[:MAX_LISTED], 1))
        more = f"\n  还有 {len(problems) - MAX_LISTED} 处未列出。" if len(problems) > MAX_LISTED else ""
        raise RosterError(f"有 {len(problems)} 处内容超出模板的容量，一份模板也没有生成，请改正后重新生成：\n{shown}{more}", problems)


def generate(units: list[UnitInfo], out_dir: str | Path, progress=None) -> list[Path]:
    """One workbook per unit; every plan is built before the first file is written.
    progress(done, total), when given, is called after each file.

    Units of the same framework and shape share one rendering (see template.fast): the files are
    byte for byte what write_plan makes."""
    from xltool.template.fast import TemplateWriter

    out_dir = Path(out_dir)
    refuse_overfull(units)
    plans = [plan_for(u) for u in units]
    names = [template_filename(u) for u in units]
    if len(set(names)) != len(names):
        # Two archives with the same name: keep them apart by their codes.
        names = [n.replace(".xlsx", f"_{u.code}.xlsx") for n, u in zip(names, units)]
    writer = TemplateWriter()
    paths = []
    for plan, name in zip(plans, names):
        paths.append(writer.write(plan, out_dir / name))
        if progress is not None:
            progress(len(paths), len(plans))
    return paths


__all__ = ["Plan", "build_plan", "write_plan", "generate", "plan_for", "refuse_overfull", "template_filename"]
