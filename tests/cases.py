"""Clean fillings of the two seed archives' templates, and ways to break them.

A clean filling passes the checker with no error and no warning; each crafted case changes one
thing so that one finding code fires on one known cell. Cases are values by defined name (what
staff type) or edits of the written file (what staff do to the workbook itself).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
import re
import zipfile
from pathlib import Path

from xltool.template.fill import write_filled
from xltool.template import plan_for

from conftest import WUCHANG, WUHAN

CONTACT = {"INFO_CONTACT": "张三", "INFO_PHONE": "027-88886666", "INFO_DATE": dt.date(2022, 6, 30)}
TEXT = {"PROBLEMS": "绩效目标细化不够。", "IMPROVEMENTS": "加强绩效目标管理。"}


def _project_rows(offset: int = 0) -> dict[str, list]:
    return {
        "LEVEL1": ["产出指标", "产出指标", "效益指标", "满意度指标"],
        "LEVEL2": ["数量指标", "质量指标", "社会效益指标", "服务对象满意度指标"],
        "INDICATOR": ["数字化扫描", "质检合格率", "查档利用人次", "查档人员满意度"],
        "SIGN": ["≥", "≥", "≥", "≥"],
        "TARGET": [140000, 95, 600, 90],
        "UNIT": ["幅", "%", "人次", "%"],
        "ACTUAL": [149638 + offset, 98, 665, 95],
        "POINTS": [30, 20, 30, 10],
        "SCORE": [30, 20, 30, 10],
    }


BUDGETS = {1: 300, 2: 100}  # WUCHANG's pre-filled 全年预算数


def clean_project_values() -> dict[str, object]:
    values: dict[str, object] = {**CONTACT, **TEXT}
    for p, executed in ((1, 300), (2, 100)):
        values[f"PROJ{p}_EXECUTED"] = executed
        # 项目资金: 年初预算数 as budgeted, all of it 当年财政拨款 (the 其中 rows sum to the total)
        values[f"PROJ{p}_INITIAL"] = BUDGETS[p]
        values[f"PROJ{p}_SRC1_INITIAL"] = BUDGETS[p]
        values[f"PROJ{p}_SRC1_BUDGET"] = BUDGETS[p]
        values[f"PROJ{p}_SRC1_EXECUTED"] = executed
        values[f"PROJ{p}_GOAL_PLAN"] = "完成馆藏档案数字化和档案保护年度任务。"
        values[f"PROJ{p}_GOAL_DONE"] = "年度任务全部完成。"
        values[f"PROJ{p}_DECLARED_SCORE"] = 100
        values[f"PROJ{p}_DECLARED_GRADE"] = "优"
        for key, items in _project_rows(p).items():
            values[f"PROJ{p}_{key}"] = items
    return values


def clean_department_values() -> dict[str, object]:
    values: dict[str, object] = {**CONTACT, **TEXT}
    values["GOAL1_NAME"] = "档案馆运行维护"
    goal = {
        "LEVEL1": ["产出指标", "产出指标", "效益指标", "满意度指标"],
        "LEVEL2": ["数量指标", "质量指标", "社会效益指标", "社会公众或服务对象满意度指标"],
        "INDICATOR": ["网站点击量", "IT系统故障率", "IT项目查档率", "服务对象满意度"],
        "SIGN": ["≥", "<", "≥", "≥"],
        "TARGET": [10000, 5, 100, 95],
        "UNIT": ["次", "%", "%", "%"],
        "ACTUAL": [11000, 1, 100, 96],
    }
    for key, items in goal.items():
        values[f"GOAL1_{key}"] = items
    values.update({"DECLARED_C1": 20, "DECLARED_C2": 30, "DECLARED_C3": 25, "DECLARED_C4": 25, "DECLARED_TOTAL": 100, "DECLARED_GRADE": "优"})
    from xltool.core.framework import load_framework

    values["CRIT_DEDUCTION"] = [0] * len(load_framework("department").criterion_indicators)  # no deduction: 0, typed
    return values


def write_project(path: Path, **changes) -> Path:
    """The clean filling with some values changed. A changed 全年执行数 (PROJp_EXECUTED) is also
    typed into 当年财政拨款 unless that is given too, so the 其中 rows still add up."""
    values = clean_project_values()
    for p in BUDGETS:
        executed = changes.get(f"PROJ{p}_EXECUTED")
        if isinstance(executed, (int, float, Decimal)) and f"PROJ{p}_SRC1_EXECUTED" not in changes:
            values[f"PROJ{p}_SRC1_EXECUTED"] = executed  # a text figure is left to its own finding
    values.update(changes)
    return write_filled(plan_for(WUCHANG), {k: v for k, v in values.items() if v is not ...}, path)


def write_department(path: Path, **changes) -> Path:
    values = clean_department_values()
    values.update(changes)
    return write_filled(plan_for(WUHAN), {k: v for k, v in values.items() if v is not ...}, path)


def with_row(values: list, index: int, value) -> list:
    """A copy of a column list with one row changed (index from 0)."""
    out = list(values)
    out[index] = value
    return out


# ---------------------------------------------------------------- edits of the file itself


def rewrite_parts(src: Path, dest: Path, edit) -> Path:
    """Copy an .xlsx, passing each part's bytes through edit(name, data) -> data | None (drop)."""
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
    dest.write_bytes(out.getvalue())
    return dest


def sheet_part(path: Path, sheet: str) -> str:
    """The zip part name of a worksheet, by its tab name."""
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}" sheetId="\d+"(?: state="\w+")? r:id="(rId\d+)"', workbook).group(1)
    target = re.search(rf'Id="{rid}" Type="[^"]+" Target="([^"]+)"', rels) or re.search(rf'Target="([^"]+)"[^>]*Id="{rid}"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def edit_sheet(src: Path, dest: Path, sheet: str, edit) -> Path:
    part = sheet_part(src, sheet)
    return rewrite_parts(src, dest, lambda name, data: edit(data.decode()).encode() if name == part else data)


def replace_cell(xml: str, ref: str, new_cell: str) -> str:
    """Replace the <c r="ref" …> element (self-closing or not) with new_cell."""
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', re.S)
    assert pattern.search(xml), ref
    return pattern.sub(new_cell, xml, count=1)


def number_cell(ref: str, value, style: str = "0") -> str:
    return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'


def text_cell(ref: str, text: str, style: str = "0") -> str:
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t>{text}</t></is></c>'
