"""Fill a generated 绩效目标申报表 as staff would (openpyxl, through the defined names), and make
random but valid fills for the round trip."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import openpyxl

from xltool.core.declaration import ROW_FIELDS
from xltool.core.framework import load_framework
from xltool.template.declaration import column_name, goal_name, header_name


def _cell(wb, name: str):
    dest = list(wb.defined_names[name].destinations)[0]
    sheet, ref = dest
    ref = ref.replace("$", "").split(":")[0]
    return wb[sheet][ref]


def fill(template: str | Path, out: str | Path, forms: list[dict], edit=None) -> Path:
    """forms[i]: header keys (attribute, department, start, end, fiscal, other, long_goal,
    annual_goal, name) and "goals": [(goal name or None, [row dict, …]), …]. `edit(wb)` may then
    change anything (the crafted files)."""
    wb = openpyxl.load_workbook(template)
    for p, form in enumerate(forms, start=1):
        for key, value in form.items():
            if key == "goals":
                continue
            _cell(wb, header_name(p, key)).value = value
        for g, (goal, rows) in enumerate(form.get("goals", []), start=1):
            if goal is not None:
                _cell(wb, goal_name(p, g)).value = goal
            for i, row in enumerate(rows):
                for key in ROW_FIELDS:
                    if key in row:
                        first = _cell(wb, column_name(p, g, key))
                        first.parent.cell(first.row + i, first.column).value = row[key]
    if edit is not None:
        edit(wb)
    wb.save(out)
    return Path(out)


def cell_of(wb, name: str, offset: int = 0):
    first = _cell(wb, name)
    return first.parent.cell(first.row + offset, first.column)


def good_rows(fw_name: str = "project") -> list[dict]:
    """Valid indicator rows of a project: every 一级, points adding up to the framework's."""
    fw = load_framework(fw_name)
    rows = []
    for c in fw.categories:
        sub = c.subcategories[0]
        pts = c.points if c.points is not None else None
        rows.append({"level1": c.name, "level2": sub, "name": f"{c.name}指标甲", "value_kind": "定量", "sign": "≥", "target": 90,
                     "unit": "%", "points": None if pts is None else float(pts) - 2 if pts > 2 else float(pts), "standard": "达到指标值得满分，未达到按比例扣分"})
        if pts is not None and pts > 2:
            rows.append({"level1": c.name, "level2": sub, "name": f"{c.name}指标乙", "value_kind": "定性", "sign": "定性", "target": "达到预期效果",
                         "points": 2, "standard": "达成得满分，部分达成得一半"})
    return rows


def good_project(name: str | None = None, rows=None) -> dict:
    form = {
        "attribute": "延续", "department": "武昌区档案局", "start": dt.datetime(2020, 1, 1), "end": dt.datetime(2020, 12, 31),
        "other": 0, "long_goal": "持续做好馆藏档案保护和开发利用", "annual_goal": "完成年度档案整理、数字化和修复任务",
        "goals": [(None, rows if rows is not None else good_rows())],
    }
    if name is not None:
        form["name"] = name
    return form


def random_rows(rng: random.Random, fw_name: str = "project", unit_wide: bool = False) -> list[dict]:
    """Random valid rows: each 一级 gets 1–4 rows whose points add up to its points."""
    fw = load_framework(fw_name)
    rows = []
    for c in fw.categories:
        n = rng.randint(1, 3 if unit_wide else 4)
        if c.points is not None:
            cuts = sorted(rng.sample(range(1, int(c.points)), n - 1)) if n > 1 else []
            parts = [b - a for a, b in zip([0] + cuts, cuts + [int(c.points)])]
        else:
            parts = [None] * n
        for k, pts in enumerate(parts):
            sub = rng.choice(c.subcategories)
            qualitative = sub != "成本指标" and rng.random() < 0.25
            unit = rng.choice(["%", "册", "人次", "卷"])
            if qualitative:
                row = {"value_kind": "定性", "sign": rng.choice(["定性", None]), "target": rng.choice(["达到预期效果", "按期完成", "质量合格", "档案保管安全，无丢失损毁", "群众满意度较高；投诉减少"])}
            else:
                sign = rng.choice(["≤", "<"]) if sub == "成本指标" else rng.choice(["≥", ">", "≤", "<", "="])
                target = Decimal(rng.randint(0, 10000)) / rng.choice([1, 10, 100])
                if unit == "%":
                    target = min(target, Decimal(100))
                row = {"value_kind": "定量", "sign": sign, "target": float(target), "unit": unit}
            row.update({"level1": c.name, "level2": sub, "name": f"{c.name}{k + 1}号（{rng.choice(['甲', 'Ａ', '２０２０'])}）{rng.randint(1, 999)}", "points": pts, "standard": "按完成程度计分"})
            if pts is None:
                row.pop("points")
            rows.append(row)
    rng.shuffle(rows)
    return rows
