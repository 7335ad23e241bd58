"""The fast template path (template.fast) makes the same files as the plain writer.

A skeleton is rendered once per framework and shape; every further unit of that shape is patched
from it. These tests render units with both writers and compare: the bytes, and (so that a
difference would be explained, not just detected) the workbooks cell by cell through openpyxl:
values, styles, protection, merged ranges, validations, conditional formats, defined names."""

from __future__ import annotations

import io
import random
from dataclasses import replace
from decimal import Decimal as D

import openpyxl
import pytest

from conftest import BLANK_PROJECT, WUCHANG, WUHAN
from xltool.core.model import ProjectInfo
from xltool.template import generate, plan_for, template_filename, write_plan
from xltool.template.fast import TemplateWriter
from xltool.template.signing import current_key
from xltool.template.writer import _render

LONG = "中国共产党武汉市委员会党史研究室（武汉市地方志编纂委员会办公室）档案资料管理中心"
WIDE = "武汉市江岸区档案馆暨江岸区地方志编纂委员会办公室档案室"  # widens a column, not the guide's rows


def _plain(plan, key) -> bytes:
    buffer = io.BytesIO()
    _render(plan, buffer, {}, key)
    return buffer.getvalue()


# (unit, whether it is patched from a skeleton: False for the first of a shape, and for a unit
# that does not fit its skeleton)
DEPARTMENT_UNITS = [
    (WUHAN, False),
    (replace(WUHAN, name="江岸区档案馆", code="420102-DAG", year=2022), True),
    (replace(WUHAN, name="A&B <档案馆> \"甲\"", code="X&<1>", initial_budget=D("3203.460")), True),
    (replace(WUHAN, name="蔡甸区档案馆", initial_budget=D("0"), adjusted_budget=D("12.5"), final_accounts=D("99999999.99")), True),
    (replace(WUHAN, name=WIDE), True),  # a wider column
    (replace(WUHAN, name=LONG), False),  # the guide's first line takes another row height
    (replace(WUHAN, name="同名", code="2021"), True),  # the code is the year's text in _meta: one shared string
    (replace(WUHAN, adjusted_budget=None), False),  # the figure becomes an input, a format no skeleton has yet
    (replace(WUHAN, name="汉阳区档案馆", adjusted_budget=None), True),
]
PROJECT_UNITS = [
    (WUCHANG, False),
    (replace(WUCHANG, name="洪山区档案馆", code="420111", year=2023, projects=(ProjectInfo("数字化加工费", D("88.8")), ProjectInfo("库房改造费", D("12")))), True),
    (replace(WUCHANG, projects=(ProjectInfo(LONG, D("1")), ProjectInfo("史料编研费", D("100")))), True),  # a wider column
    (replace(WUCHANG, projects=(ProjectInfo("档案保护费", D("300")), ProjectInfo("档案保护费", D("100")))), True),  # one shared text
    (replace(WUCHANG, projects=(ProjectInfo("项目名称", D("300")), ProjectInfo("史料编研费", D("100")))), True),  # a fixed label
    (replace(WUCHANG, name="档案保护费"), True),  # the unit is named like its project
    (replace(WUCHANG, name="青山区档案馆", projects=(ProjectInfo("甲", D("1")), ProjectInfo("乙", D("3")))), True),
    (replace(WUCHANG, projects=(ProjectInfo("档案保护费", D("300"), D("250.5")), ProjectInfo("史料编研费", D("100"), D("0")))), True),  # inputs become pre-filled figures
    (replace(WUCHANG, name="江夏区档案馆", projects=(ProjectInfo("甲", D("1"), D("2")), ProjectInfo("乙", D("3"), D("4")))), True),
    # the form's blocks pre-filled: 年初预算数, 其中 rows, 预期目标 (a long text in a merged cell)
    (replace(WUCHANG, projects=(ProjectInfo("档案保护费", D("300"), initial=D("280"), goal_plan="完成馆藏档案数字化", sources=(("当年财政拨款", D("280"), D("250"), None), ("其他资金", None, D("50"), None))),
                                ProjectInfo("史料编研费", D("100")))), False),
    (replace(WUCHANG, name="汉南区档案馆", projects=(ProjectInfo("甲", D("3"), initial=D("2"), goal_plan=LONG * 3, sources=(("当年财政拨款", D("2"), D("1.5"), None), ("其他资金", None, D("1.5"), None))),
                                                   ProjectInfo("乙", D("1")))), True),
    (replace(BLANK_PROJECT, framework="project_sichuan"), False),  # a province's framework: four 其中 rows, 不适用
    (replace(BLANK_PROJECT, name="成都市档案馆", framework="project_sichuan"), True),
    (BLANK_PROJECT, False),
    (replace(BLANK_PROJECT, name="新洲区档案馆", year=2019), True),
    (replace(BLANK_PROJECT, name="黄陂区档案馆", code="420116"), True),  # a code where the first had none
]


@pytest.mark.parametrize("units", [DEPARTMENT_UNITS, PROJECT_UNITS], ids=["department", "project"])
def test_fast_path_makes_the_plain_writers_bytes(units):
    key = b"k" * 32
    writer = TemplateWriter(key)
    for unit, patched in units:
        plan = plan_for(unit)
        fast = writer.fast
        assert writer.render(plan) == _plain(plan, key), unit.name
        assert (writer.fast > fast) == patched, unit.name


def test_units_that_do_not_fit_their_skeleton_fall_back():
    key = b"k" * 32
    writer = TemplateWriter(key)
    writer.render(plan_for(WUHAN))
    writer.render(plan_for(replace(WUHAN, name="江岸区档案馆")))
    assert (writer.fast, writer.plain) == (1, 1)
    misfit = plan_for(replace(WUHAN, name=LONG))  # the guide's first line takes another row height
    assert writer.render(misfit) == _plain(misfit, key)
    assert (writer.fast, writer.plain) == (1, 2)
    # the misfit became a second skeleton of the shape: a unit like it is patched from it
    like = plan_for(replace(WUHAN, name=LONG.replace("中心", "科")))
    assert writer.render(like) == _plain(like, key)
    assert (writer.fast, writer.plain) == (2, 2)


def test_an_odd_first_unit_does_not_send_the_rest_to_the_plain_writer():
    key = b"k" * 32
    writer = TemplateWriter(key)
    writer.render(plan_for(replace(WUCHANG, name="档案保护费")))  # shares a text with its project
    for k in range(5):
        plan = plan_for(replace(WUCHANG, name=f"第{k}档案馆"))
        assert writer.render(plan) == _plain(plan, key)
    assert writer.fast >= 3


def _cell_facts(cell) -> tuple:
    return (
        cell.value,
        cell.data_type,
        cell.number_format,
        cell.protection.locked,
        cell.protection.hidden,
        cell.fill.fgColor.rgb if cell.fill and cell.fill.fill_type else None,
        cell.font.b,
        cell.font.name,
        cell.alignment.wrap_text,
        cell.alignment.horizontal,
    )


def _workbook_facts(data: bytes) -> dict:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    facts = {
        "sheets": wb.sheetnames,
        "names": sorted((name, dn.attr_text) for name, dn in wb.defined_names.items()),
        "properties": (wb.properties.title, wb.properties.description),
    }
    for ws in wb.worksheets:
        facts[ws.title] = {
            "state": ws.sheet_state,
            "cells": {(c.row, c.column): _cell_facts(c) for row in ws.iter_rows() for c in row if c.value is not None or c.has_style},
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": sorted(
                (str(v.sqref), v.type, v.operator, v.formula1, v.formula2, v.allow_blank, v.errorStyle, v.error, v.prompt, v.promptTitle)
                for v in ws.data_validations.dataValidation
            ),
            "conditional": sorted(
                (str(rng.sqref), tuple(rule.formula or ())) for rng in ws.conditional_formatting for rule in rng.rules
            ),
            "protection": (ws.protection.sheet, ws.protection.selectLockedCells, ws.protection.formatColumns, ws.protection.insertRows),
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "freeze": ws.freeze_panes,
        }
    return facts


@pytest.mark.parametrize("first, unit", [(WUHAN, replace(WUHAN, name=WIDE, code="1", year=2030)), (WUCHANG, replace(WUCHANG, name="洪山区档案馆", projects=(ProjectInfo(LONG, D("7.25")), ProjectInfo("乙", D("1")))))], ids=["department", "project"])
def test_fast_template_equals_the_plain_one_cell_by_cell(first, unit):
    key = current_key()
    writer = TemplateWriter(key)
    writer.render(plan_for(first))
    plan = plan_for(unit)
    fast = writer.render(plan)
    assert writer.fast == 1
    facts = _workbook_facts(fast)
    assert facts == _workbook_facts(_plain(plan, key))
    # and it is this unit's template, not the skeleton's
    assert facts["properties"][0].startswith(unit.name)
    cells = facts["基本信息"]["cells"]
    assert cells[(3, 2)][0] == unit.name and cells[(5, 2)][0] == unit.year


def test_generate_writes_what_write_plan_writes(tmp_path):
    units = [WUCHANG, replace(WUCHANG, name="洪山区档案馆", code="420111"), WUHAN, replace(WUHAN, name="江岸区档案馆", code="420102")]
    paths = generate(units, tmp_path / "fast")
    for unit, path in zip(units, paths):
        plain = write_plan(plan_for(unit), tmp_path / "plain" / template_filename(unit))
        assert path.name == plain.name
        assert path.read_bytes() == plain.read_bytes(), unit.name


def test_random_rosters_give_the_plain_writers_bytes():
    """Names and figures drawn at random (markup, quotes, spaces, digits, long and short texts,
    figures missing or not): whatever path a unit takes, the bytes are the plain writer's."""
    rng = random.Random(9)
    alphabet = "档案馆局市区县第一二三&<>\"' 0123456789ABCxyz（）·—"

    def text(low, high):
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(low, high))).strip() or "馆"

    def figure():
        return rng.choice([None, D(rng.randint(0, 10**6)) / 100, D("0"), D("1E+3"), D("12.50")])

    key = b"r" * 32
    writer = TemplateWriter(key)
    for k in range(40):
        if k % 2:
            unit = replace(WUHAN, name=text(1, 40), code=text(0, 12), year=rng.randint(2000, 2100),
                           initial_budget=figure(), adjusted_budget=figure(), final_accounts=figure())
        else:
            projects = tuple(
                ProjectInfo(text(1, 30), figure(), figure(), initial=figure(), goal_plan=rng.choice([None, text(1, 60)]),
                            sources=tuple((name, figure(), figure(), figure()) for name in ("当年财政拨款", "其他资金") if rng.random() < 0.5))
                for _ in range(rng.randint(0, 3))
            )
            unit = replace(WUCHANG, name=text(1, 40), code=text(0, 12), year=rng.randint(2000, 2100), projects=projects)
        plan = plan_for(unit)
        assert writer.render(plan) == _plain(plan, key), unit
    assert writer.fast > 0, (writer.fast, writer.plain)


def test_units_with_their_own_approved_tables_are_patched_from_one_skeleton():
    """Each archive's approved indicators differ in number, in which are 定性 (no target, no unit),
    which carry an adjusted value, and in a blank 二级指标: cells turn from inputs into locked,
    pre-filled ones and back. They are patched from one skeleton (or a few), never rendered one
    by one, and every file is the plain writer's, byte for byte."""
    from xltool.core.approved import ApprovedIndicator

    rng = random.Random(5)
    levels = (("产出指标", "数量指标"), ("产出指标", "质量指标"), ("效益指标", "社会效益指标"), ("满意度指标", "服务对象满意度指标"))

    def table(k: int) -> tuple:
        rows = []
        for j in range(rng.randint(3, 14)):
            level1, level2 = levels[j % len(levels)]
            quality = rng.random() < 0.3
            rows.append(ApprovedIndicator(
                j + 2, level1, "" if rng.random() < 0.1 else level2, f"指标{k}-{j}", "定性" if quality else rng.choice("≥≤="),
                None if quality else D(rng.randint(1, 10**5)), "" if quality else rng.choice(["册", "%", "人次"]),
                D(rng.randint(1, 20)), D(rng.randint(1, 100)) if not quality and rng.random() < 0.2 else None,
            ))
        return tuple(rows)

    key = b"t" * 32
    writer = TemplateWriter(key)
    n = 30
    for k in range(n):
        projects = (ProjectInfo(f"项目甲{k}", D(300), approved=table(k)), ProjectInfo(f"项目乙{k}", D(100), approved=table(k)))
        plan = plan_for(replace(WUCHANG, name=f"第{k}档案馆", code=f"U{k}", projects=projects))
        assert writer.render(plan) == _plain(plan, key), k
    assert writer.plain <= 3 and writer.fast >= n - 3, (writer.fast, writer.plain)
