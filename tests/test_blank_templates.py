"""A template returned blank is not graded: not in its own formulas (after LibreOffice computes
them, as staff would see them), not in the report, and the check fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import BLANK_PROJECT, WUCHANG, WUHAN
from test_template import _cached_values, _formulas_engine
from xltool.check.batch import check_file
from xltool.report import write_json
from xltool.template import plan_for, write_plan

UNITS = {"department": WUHAN, "project_roster": WUCHANG, "project_blank": BLANK_PROJECT}


def _scored_cells(plan) -> list[tuple[str, str]]:
    """Every cell the template computes a score, total or grade in."""
    names = [n for n in plan.names if n.startswith(("CALC_", "PROJ")) and ("_CALC_" in n or n.startswith("CALC_"))]
    return [(plan.names[n].sheet, plan.names[n].ref.split("!")[1].replace("$", "")) for n in names]


@pytest.fixture(scope="module")
def blanks(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("blank")
    return {key: write_plan(plan_for(unit), folder / f"{key}.xlsx") for key, unit in UNITS.items()}


@pytest.fixture(scope="module")
def blanks_in_libreoffice(blanks, tmp_path_factory) -> dict[str, Path]:
    from libreoffice import require_libreoffice, resave_many

    require_libreoffice()
    folder = tmp_path_factory.mktemp("blank_lo")
    return dict(zip(blanks, resave_many(list(blanks.values()), folder, fmt="xlsx", recalc=True)))


def _shown(values, cells):
    return {cell: values.get(cell) for cell in cells if values.get(cell) not in (None, "")}


@pytest.mark.parametrize("key", list(UNITS))
def test_blank_template_shows_no_score_or_grade_after_libreoffice_recalculates(key, blanks_in_libreoffice):
    plan = plan_for(UNITS[key])
    cells = _scored_cells(plan)
    assert cells
    assert _shown(_cached_values(blanks_in_libreoffice[key]), cells) == {}


def test_blank_department_template_shows_nothing_in_the_formulas_engine(blanks):
    plan = plan_for(WUHAN)
    assert _shown(_formulas_engine(blanks["department"]), _scored_cells(plan)) == {}


@pytest.mark.parametrize("key", list(UNITS))
def test_blank_template_fails_the_check_with_null_scores(key, blanks, tmp_path):
    result = check_file(blanks[key])
    assert result.status == "failed"
    codes = {f.code for f in result.findings if f.severity == "error"}
    assert codes & {"REQUIRED_BLANK", "NO_INDICATORS"}, codes
    out = json.loads(write_json([result], tmp_path / "r.json").read_text(encoding="utf-8"))
    for ev in out[0]["evaluations"]:
        assert ev["score"] is None and ev["grade"] is None, ev
    if key == "department":
        (blank,) = [f for f in result.findings if f.code == "REQUIRED_BLANK" and "扣分" in f.message]  # one, not 29
        assert "29 个指标的扣分都未填写" in blank.message and "没有扣分请填 0" in blank.message
    from xltool.report import write_summary
    import openpyxl

    ws = openpyxl.load_workbook(write_summary([result], tmp_path / "汇总.xlsx")).worksheets[0]
    header = next(r for r in ws.iter_rows(values_only=True) if r and "复核得分" in r)
    rows = [r for r in ws.iter_rows(values_only=True) if r and r[0] == blanks[key].name]
    assert rows and all(r[header.index("复核得分")] is None and r[header.index("复核等级")] in (None, "") for r in rows)
    if key == "project_blank":
        assert any(f.code == "NO_INDICATORS" and "没有填写任何项目" in f.message for f in result.findings)


def test_libreoffice_resaved_blank_templates_still_fail(blanks_in_libreoffice):
    for path in blanks_in_libreoffice.values():
        assert check_file(path).status == "failed"


def test_one_blank_deduction_leaves_its_criterion_total_and_grade_empty(tmp_path):
    from xltool.check.batch import check_file as check
    from xltool.template.fill import write_filled
    from xltool.core.framework import load_framework

    plan = plan_for(WUHAN)
    deductions = [0] * len(load_framework("department").criterion_indicators)
    deductions[0] = None  # 投入 / 绩效目标合理性 left blank
    path = write_filled(plan, {"CRIT_DEDUCTION": deductions}, tmp_path / "partial.xlsx")
    values = _formulas_engine(path)
    cell = lambda n: (plan.names[n].sheet, plan.names[n].ref.split("!")[1].replace("$", ""))  # noqa: E731
    assert values.get(cell("CALC_C1")) in (None, "")
    assert [float(values[cell(f"CALC_C{k}")]) for k in (2, 3, 4)] == [30, 25, 25]
    assert values.get(cell("CALC_TOTAL")) in (None, "") and values.get(cell("CALC_GRADE")) in (None, "")
    (ev,) = check(path).evaluations
    assert [c["score"] for c in ev.criteria] == [None, 30, 25, 25] and ev.score is None and ev.grade is None
