"""Unit-wide quantitative 53号 indicators scored by formula, where the framework says so:
在职人员控制率 = 在职人员数 ÷ 编制数 (full at ≤ 100%, 0.1 off per point above), "三公经费"变动率 =
(本年 − 上年) ÷ 上年 (full at ≤ 0%). The inputs sit on 预算执行, the scoring table's deduction is a
formula, the checker recomputes it (core: scoring.measure_value / measure_deduction)."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cases import clean_department_values, edit_sheet, number_cell, replace_cell
from conftest import WUHAN
from xltool.check.batch import check_file
from xltool.core import scoring
from xltool.core.framework import REGISTERED_ENV, FrameworkError, parse_framework, register_frameworks
from xltool.template.fill import write_filled
from xltool.template.layout import SHEET_BUDGET, SHEET_SCORES, a1, build_plan, measure_rows

BUNDLED = (Path(__file__).resolve().parents[1] / "workbook_templates" / "department.yaml").read_text(encoding="utf-8")
STAFF = "{name: 在职人员控制率, points: 3, measure: {formula: ratio, inputs: [在职人员数（人）, 编制数（人）], full_at_most: 100, per_point: 0.1}}"
THREE = '{name: "\\u201c三公经费\\u201d变动率", points: 3, measure: {formula: change, inputs: [本年“三公经费”（万元）, 上年“三公经费”（万元）], full_at_most: 0, per_point: 0.1}}'
MEASURED = (
    BUNDLED.replace("name: department\n", "name: department-measured\n", 1)
    .replace("- {name: 在职人员控制率, points: 3}", "- " + STAFF, 1)
    .replace('- {name: "\\u201c三公经费\\u201d变动率", points: 3}', "- " + THREE, 1)
)


# ---------------------------------------------------------------- the rule (golden)


@pytest.mark.parametrize(
    "formula, a, b, value",
    [("ratio", 52, 50, "104.00"), ("ratio", 50, 50, "100.00"), ("ratio", 48, 50, "96.00"), ("ratio", 1, 3, "33.33"), ("ratio", 2, 3, "66.67"),
     ("change", 110, 100, "10.00"), ("change", 90, 100, "-10.00"), ("change", D("12.345"), 10, "23.45"),
     ("ratio", 1, 0, None), ("ratio", 1, -2, None), ("ratio", None, 50, None), ("change", 5, None, None)],
)
def test_the_value_is_a_percent_rounded_half_up_and_undefined_without_a_positive_base(formula, a, b, value):
    assert scoring.measure_value(formula, a, b) == (None if value is None else D(value))


@pytest.mark.parametrize(
    "value, limit, at_most, per_point, points, deduction",
    [("104.00", 100, True, "0.1", 3, "0.40"),  # 4 points above: 0.4 off
     ("100.00", 100, True, "0.1", 3, "0.00"), ("96.00", 100, True, "0.1", 3, "0.00"),
     ("100.05", 100, True, "0.1", 3, "0.01"),  # 0.005 rounds half up
     ("100.04", 100, True, "0.1", 3, "0.00"),
     ("10.00", 0, True, "0.1", 3, "1.00"), ("-10.00", 0, True, "0.1", 3, "0.00"),
     ("250.00", 100, True, "0.1", 3, "3"),  # never more than the points
     ("85.00", 90, False, "0.2", 2, "1.00"), ("95.00", 90, False, "0.2", 2, "0.00"),
     (None, 100, True, "0.1", 3, None)],
)
def test_the_deduction_per_point_beyond_the_limit(value, limit, at_most, per_point, points, deduction):
    got = scoring.measure_deduction(None if value is None else D(value), D(limit), at_most, D(per_point), D(points))
    assert got == (None if deduction is None else D(deduction))


@settings(max_examples=200, deadline=None)
@given(a=st.decimals(0, 10**6, places=2), b=st.decimals(0, 10**6, places=2), per_point=st.decimals(0, 5, places=2), points=st.integers(1, 10), at_most=st.booleans())
def test_the_deduction_stays_within_the_points(a, b, per_point, points, at_most):
    value = scoring.measure_value("ratio", a, b)
    got = scoring.measure_deduction(value, D(100), at_most, per_point, D(points))
    assert got is None if value is None else D(0) <= got <= points


# ---------------------------------------------------------------- the framework setting


def test_the_framework_parses_the_setting():
    fw = parse_framework(MEASURED, source="department-measured.yaml")
    staff = next(i for i in fw.criterion_indicators if i.name == "在职人员控制率")
    assert (staff.measure.formula, staff.measure.inputs, staff.measure.limit, staff.measure.at_most, staff.measure.per_point) == (
        "ratio", ("在职人员数（人）", "编制数（人）"), D(100), True, D("0.1"))
    assert [i.name for i in fw.criterion_indicators if i.measure] == ["在职人员控制率", "\u201c三公经费\u201d变动率"]
    assert all(i.measure is None for i in parse_framework(BUNDLED).criterion_indicators)  # off unless the framework says so


@pytest.mark.parametrize(
    "spec, words",
    [("{formula: sum, inputs: [a, b], full_at_most: 100, per_point: 0.1}", ("formula", "ratio")),
     ("{formula: ratio, inputs: [a], full_at_most: 100, per_point: 0.1}", ("inputs", "两个")),
     ("{formula: ratio, inputs: [a, b], full_at_most: 100, full_at_least: 90, per_point: 0.1}", ("full_at_most",)),
     ("{formula: ratio, inputs: [a, b], full_at_most: 100}", ("per_point", "缺少"))],
)
def test_a_bad_setting_is_named(spec, words):
    text = BUNDLED.replace("- {name: 在职人员控制率, points: 3}", "- {name: 在职人员控制率, points: 3, measure: " + spec + "}", 1)
    with pytest.raises(FrameworkError) as exc:
        parse_framework(text, source="bad.yaml")
    assert "measure" in str(exc.value) and all(w in str(exc.value) for w in words), str(exc.value)


# ---------------------------------------------------------------- template and checker


@pytest.fixture
def measured(tmp_path, monkeypatch):
    monkeypatch.setenv(REGISTERED_ENV, "")
    path = tmp_path / "department-measured.yaml"
    path.write_text(MEASURED, encoding="utf-8")
    (fw,) = register_frameworks([path])
    return build_plan(fw, WUHAN)


def _values(plan, staff=(52, 50), three=(110, 100), reasons=True):
    fw = plan.framework
    names = [i.name for i in fw.criterion_indicators]
    deductions = [None if i.measure else D(0) for i in fw.criterion_indicators]
    values = {**clean_department_values(), "DECLARED_C1": D("18.6"), "DECLARED_TOTAL": D("98.6"), "CRIT_DEDUCTION": deductions, "MEASURE1_A": staff[0], "MEASURE1_B": staff[1], "MEASURE2_A": three[0], "MEASURE2_B": three[1]}
    reason = [None] * len(names)
    if reasons:
        reason[names.index("在职人员控制率")] = "超编 2 人"
        reason[names.index("\u201c三公经费\u201d变动率")] = "接待任务增加"
    values["CRIT_REASON"] = reason
    return values


def test_the_deduction_cell_is_a_locked_formula_on_named_inputs(measured):
    fw = measured.framework
    k = [i.name for i in fw.criterion_indicators].index("在职人员控制率")
    crit = measured.names["CRIT_DEDUCTION"]
    cell = next(c for c in measured.cells if (c.sheet, c.row, c.col) == (SHEET_SCORES, crit.row + k, crit.col))
    assert cell.role == "formula" and cell.locked and "预算执行" in cell.value
    for name in ("MEASURE1_A", "MEASURE1_B"):
        spec = measured.names[name]
        inp = next(c for c in measured.cells if (c.sheet, c.row, c.col) == (spec.sheet, spec.row, spec.col))
        assert inp.role == "input" and inp.validation is not None
    assert measured.names["MEASURE1_VALUE"].row == measure_rows(1)[2]


def test_the_formulas_engine_computes_the_deduction_the_checker_computes(measured, tmp_path):
    from test_template import _cent, _formulas_engine

    path = write_filled(measured, _values(measured), tmp_path / "m.xlsx")
    values = _formulas_engine(path)
    fw = measured.framework
    crit = measured.names["CRIT_DEDUCTION"]
    names = [i.name for i in fw.criterion_indicators]
    staff = values[(SHEET_SCORES, a1(crit.row + names.index("在职人员控制率"), crit.col))]
    three = values[(SHEET_SCORES, a1(crit.row + names.index("\u201c三公经费\u201d变动率"), crit.col))]
    assert (_cent(staff), _cent(three)) == (D("0.40"), D("1.00"))
    assert _cent(values[(SHEET_BUDGET, a1(measure_rows(1)[2], 1))]) == D("104.00")
    result = check_file(path)
    assert result.status == "passed", [(f.code, f.message) for f in result.findings]
    (ev,) = result.evaluations
    inputs = {c["name"]: c for c in ev.criteria}
    assert inputs["投入"]["score"] == D("18.60")  # 20 − 0.40 − 1.00
    calc = measured.names["CALC_C1"]
    assert _cent(values[(SHEET_SCORES, a1(calc.row, calc.col))]) == D("18.60")


def test_the_checker_asks_for_inputs_and_reasons(measured, tmp_path):
    path = write_filled(measured, {**_values(measured, staff=(52, 0), reasons=False), "MEASURE2_A": None}, tmp_path / "m.xlsx")
    found = {(f.code, f.cell) for f in check_file(path).findings}
    a_three = measured.names["MEASURE2_A"]
    b_staff = measured.names["MEASURE1_B"]
    assert ("REQUIRED_BLANK", a1(a_three.row, a_three.col)) in found
    assert ("VALUE_OUT_OF_RANGE", a1(b_staff.row, b_staff.col)) in found
    # with the inputs given, a deduction without a reason
    path = write_filled(measured, _values(measured, reasons=False), tmp_path / "n.xlsx")
    crit = measured.names["CRIT_REASON"]
    names = [i.name for i in measured.framework.criterion_indicators]
    found = {(f.code, f.cell) for f in check_file(path).findings}
    assert ("DEDUCTION_NO_REASON", a1(crit.row + names.index("在职人员控制率"), crit.col)) in found


def test_a_number_typed_over_the_deduction_formula_is_a_changed_formula(measured, tmp_path):
    raw = write_filled(measured, _values(measured), tmp_path / "raw.xlsx")
    crit = measured.names["CRIT_DEDUCTION"]
    k = [i.name for i in measured.framework.criterion_indicators].index("在职人员控制率")
    cell = a1(crit.row + k, crit.col)
    path = edit_sheet(raw, tmp_path / "typed.xlsx", SHEET_SCORES, lambda xml: replace_cell(xml, cell, number_cell(cell, 0)))
    result = check_file(path)
    assert ("FORMULA_CHANGED", SHEET_SCORES, cell) in {(f.code, f.sheet, f.cell) for f in result.findings}
    # and the score is still the recomputed one, not the typed 0
    assert {c["name"]: c["score"] for c in result.evaluations[0].criteria}["投入"] == D("18.60")
