"""The template side: layout (the workbook as data), styles, and the xlsxwriter writer."""

from __future__ import annotations

import re
from pathlib import Path

from xltool.core.framework import load_framework
from xltool.core.model import UnitInfo
from xltool.template.layout import Plan, build_plan
from xltool.template.writer import write_plan

KIND_LABELS = {"project": "项目支出绩效自评", "department": "部门整体支出绩效自评"}


def template_filename(unit: UnitInfo) -> str:
    """File name that says whose template it is: 2021_武汉市档案馆_部门整体支出绩效自评.xlsx"""
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", unit.name).strip(" .") or unit.code or "单位"
    return f"{unit.year}_{safe}_{KIND_LABELS[unit.kind]}.xlsx"


def plan_for(unit: UnitInfo) -> Plan:
    return build_plan(load_framework(unit.framework or unit.kind), unit)


def generate(units: list[UnitInfo], out_dir: str | Path, progress=None) -> list[Path]:
    """One workbook per unit; every plan is built before the first file is written.
    progress(done, total), when given, is called after each file.

    Units of the same framework and shape share one rendering (see template.fast): the files are
    byte for byte what write_plan makes."""
    from xltool.template.fast import TemplateWriter

    out_dir = Path(out_dir)
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


__all__ = ["Plan", "build_plan", "write_plan", "generate", "plan_for", "template_filename"]
