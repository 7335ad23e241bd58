"""The official form's inputs (issue 10): 项目资金 with its 其中 rows, 年度总体目标, adjusted targets,
indicators that do not apply, and a province's framework made of settings alone.

Each figure is asserted where a user sees it: in the template's own formula (computed by the
`formulas` engine), in the checker's result, and as a finding code on the cell to fix.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings, strategies as st

from cases import write_project
from conftest import BLANK_PROJECT, WUCHANG
from test_evaluate import PROJECT, SEED_001_PROTECTION_ROWS, seed_001
from xltool.check.batch import check_file
from xltool.check.rules import check
from xltool.core import scoring
from xltool.core.framework import NOT_APPLICABLE, FrameworkError, load_framework, parse_framework
from xltool.template import plan_for
from xltool.template.fill import write_filled
from xltool.template.layout import SHEET_BUDGET, SHEET_INDICATORS, a1
from xltool.template.roster import RosterError, read_roster

SICHUAN = replace(BLANK_PROJECT, framework="project_sichuan")


def at(plan, name: str, row: int = 0) -> tuple[str, str]:
    spec = plan.names[name]
    return spec.sheet, a1(spec.row + row, spec.col)


def found(result, code: str) -> list[tuple[str, str]]:
    return [(f.sheet, f.cell) for f in result.findings if f.code == code]


def _engine(path: Path) -> dict:
    from test_template import _formulas_engine

    return _formulas_engine(path)


def _cent(value) -> D | None:
    if value is None or value == "" or type(value).__name__ == "XlError":
        return None
    return D(repr(float(value))).quantize(D("0.01"))


# ---------------------------------------------------------------- 项目资金


def test_total_of_zero_over_ninety_of_current_appropriation_is_funds_sum_mismatch(tmp_path):
    """The real returned form: 年度资金总额 0 while 当年财政拨款 read 90 / 89.974."""
    plan = plan_for(BLANK_PROJECT)
    values = {"PROJ1_NAME": "档案保护费", "PROJ1_INITIAL": 0, "PROJ1_BUDGET": 0, "PROJ1_EXECUTED": 0,
              "PROJ1_SRC1_INITIAL": 0, "PROJ1_SRC1_BUDGET": 90, "PROJ1_SRC1_EXECUTED": 89.974}
    path = write_filled(plan, values, tmp_path / "zero.xlsx")
    result = check_file(path)
    mismatches = [f for f in result.findings if f.code == "FUNDS_SUM_MISMATCH"]
    assert [(f.sheet, f.cell) for f in mismatches] == [at(plan, "PROJ1_BUDGET"), at(plan, "PROJ1_EXECUTED")]
    budget, executed = mismatches
    assert budget.severity == "error" and budget.expected == D("90.00")
    assert "全年预算数为 0 万元" in budget.message and "合计为 90 万元" in budget.message and "当年财政拨款" in budget.message
    assert "全年执行数为 0 万元" in executed.message and "合计为 89.97 万元" in executed.message
    # 年初预算数 0 = 0: no finding for that column
    assert at(plan, "PROJ1_INITIAL") not in found(result, "FUNDS_SUM_MISMATCH")
    # the rate and score stay undefined on the total (a zero budget), the 其中 row has its own rate
    assert found(result, "RATE_UNDEFINED") == [at(plan, "PROJ1_BUDGET")]
    computed = _engine(path)
    assert D(repr(computed[at(plan, "PROJ1_SRC1_RATE")])) == D("0.9997")
    assert computed[at(plan, "PROJ1_RATE")] == ""


def test_the_template_marks_a_total_that_differs_from_its_rows():
    plan = plan_for(WUCHANG)
    spec = plan.names["PROJ1_BUDGET"]
    first = plan.names["PROJ1_SRC1_BUDGET"]
    last = plan.names[f"PROJ1_SRC{len(plan.framework.fund_sources)}_BUDGET"]
    col = a1(0, spec.col)[:-1]
    rule = f"=ROUND(N(${col}${spec.row + 1}),2)<>ROUND(SUM(${col}${first.row + 1}:${col}${last.row + 1}),2)"
    assert any(cf.formula == rule and (cf.first_row, cf.first_col) == (spec.row, spec.col) and cf.style == "alert" for cf in plan.conditional)


def test_totals_matching_their_rows_to_the_cent_pass(tmp_path):
    path = write_project(tmp_path / "ok.xlsx", PROJ1_EXECUTED=214.68, PROJ1_NOTE="部分采购延至次年",
                         PROJ1_SRC1_EXECUTED=200.004, PROJ1_SRC3_EXECUTED=14.68)  # 200.00 + 14.68 = 214.68
    result = check_file(path)
    assert found(result, "FUNDS_SUM_MISMATCH") == []
    assert result.evaluations[0].execution_rate == D("0.7156")
    assert [s["name"] for s in result.evaluations[0].sources] == ["当年财政拨款", "上年结转资金", "其他资金"]


cents = st.integers(min_value=0, max_value=10**9).map(lambda c: D(c) / 100)


@settings(max_examples=60, deadline=None)
@given(st.lists(cents, min_size=3, max_size=3), st.sampled_from((D(0), D("0.01"), D("-0.01"), D("0.004"), D("0.005"))))
def test_funds_sum_compared_exactly_in_cents(parts, error):
    """Hypothesis: the total against the sum of the rows, each rounded half-up to the cent."""
    total = sum(parts) + error
    sub = seed_001(first={"initial": sum(parts), "budget": 300, "executed": total,
                          "sources": {k + 1: (parts[k], 300 if k == 0 else 0, parts[k]) for k in range(3)}})
    mismatch = [f for f in check(sub, PROJECT) if f.code == "FUNDS_SUM_MISMATCH"]
    differs = scoring.round_half_up(total, 2) != scoring.round_half_up(sum(parts), 2)
    assert [f.cell for f in mismatch] == ([sub.projects[0].executed.cell] if differs else [])


def test_source_figures_are_numbers_and_their_rates_formulas():
    sub = seed_001(first={"initial": 300, "sources": {1: (300, "三百", 214.68), 2: (None, -5, None)}})
    findings = check(sub, PROJECT)
    src = sub.projects[0].sources
    assert (src[0][2].cell, "TEXT_IN_NUMBER") in [(f.cell, f.code) for f in findings]
    assert (src[1][2].cell, "VALUE_OUT_OF_RANGE") in [(f.cell, f.code) for f in findings]
    # a column with an unreadable figure is not summed: that figure is what to fix
    assert [f.cell for f in findings if f.code == "FUNDS_SUM_MISMATCH"] == []
    typed = seed_001(first={"initial": 300, "sources": {1: (300, 300, 214.68)}})
    block = typed.projects[0]
    name, i, b, e, _rate = block.sources[0]
    block.sources[0] = (name, i, b, e, replace(_rate, raw=0.8, formula=None))
    (f,) = [f for f in check(typed, PROJECT) if f.code == "RATE_MISMATCH"]
    assert f.cell == _rate.cell and f.expected == D("0.7156") and "当年财政拨款执行率" in f.message


def test_initial_budget_and_the_annual_goal_are_required(tmp_path):
    plan = plan_for(WUCHANG)
    path = write_project(tmp_path / "blank.xlsx", PROJ1_INITIAL=None, PROJ1_GOAL_DONE=None, PROJ2_GOAL_PLAN=None)
    result = check_file(path)
    blank = found(result, "REQUIRED_BLANK")
    for name in ("PROJ1_INITIAL", "PROJ1_GOAL_DONE", "PROJ2_GOAL_PLAN"):
        assert at(plan, name) in blank, name
    (done,) = [f for f in result.findings if f.code == "REQUIRED_BLANK" and (f.sheet, f.cell) == at(plan, "PROJ1_GOAL_DONE")]
    assert "实际完成情况" in done.message and "预期目标" in done.message
    assert result.evaluations[0].goal_done is None and result.evaluations[0].goal_plan


def test_low_execution_threshold_is_the_frameworks():
    sub = seed_001(first={"executed": 255, "note": None})  # 85.00% of 300
    assert [f.code for f in check(sub, PROJECT) if f.code == "LOW_EXECUTION_NO_NOTE"] == ["LOW_EXECUTION_NO_NOTE"]
    assert not [f for f in check(sub, replace(PROJECT, low_execution_percent=D(80))) if f.code == "LOW_EXECUTION_NO_NOTE"]
    plan = plan_for(WUCHANG)
    note = plan.names["PROJ1_NOTE"]
    assert any(">1,$G$5<0.9)" in cf.formula for cf in plan.conditional if (cf.first_row, cf.first_col) == (note.row, note.col))


# ---------------------------------------------------------------- adjusted targets

ADJUSTED_ROWS = [  # (sign, 年初, 调整后, actual, 调整说明, score on 10 points)
    ("≥", 100, 80, 90, "年中批复调减", D("10.00")),  # met against the adjusted target
    ("≥", 100, None, 90, None, D("9.00")),  # no adjustment: the year-start target scores
    ("≥", 100, 120, 90, "年中批复调增", D("7.50")),  # 90 / 120 × 10
    ("≤", 5, 4, 5, "调整", D("7.50")),  # reverse, linear: (1 − (5 − 4) ÷ 4) × 10
    ("≥", 100, 120, 90, None, D("7.50")),  # changed without a note: scored, and reported
    ("≥", 100, 100, 90, None, D("9.00")),  # "adjusted" to the same value: no note needed
]


def _adjusted_file(tmp_path) -> tuple[Path, object]:
    plan = plan_for(WUCHANG)
    cols: dict[str, list] = {k: [] for k in ("LEVEL1", "LEVEL2", "INDICATOR", "SIGN", "TARGET", "ADJUSTED", "ADJUST_NOTE", "UNIT", "ACTUAL", "POINTS", "SCORE", "REASON")}
    for k, (sign, target, adjusted, actual, note, want) in enumerate(ADJUSTED_ROWS):
        for key, value in (("LEVEL1", "产出指标"), ("LEVEL2", "数量指标"), ("INDICATOR", f"指标{k}"), ("SIGN", sign), ("TARGET", target),
                           ("ADJUSTED", adjusted), ("ADJUST_NOTE", note), ("UNIT", "个"), ("ACTUAL", actual), ("POINTS", 10),
                           ("SCORE", want), ("REASON", "原因" if want < 10 else None)):
            cols[key].append(value)
    values = {f"PROJ1_{k}": v for k, v in cols.items()}
    values.update({"PROJ1_EXECUTED": 300})
    return write_filled(plan, values, tmp_path / "adjusted.xlsx"), plan


def test_adjusted_target_scores_in_the_formula_and_the_checker(tmp_path):
    path, plan = _adjusted_file(tmp_path)
    computed = _engine(path)
    want = [r[-1] for r in ADJUSTED_ROWS]
    assert [_cent(computed.get(at(plan, "PROJ1_CALC", k))) for k in range(len(want))] == want
    result = check_file(path)
    rows = result.evaluations[0].indicators
    assert [r["score"] for r in rows] == want
    assert [(r["initial"], r["adjusted"], r["target"]) for r in rows[:2]] == [(D(100), D(80), D(80)), (D(100), None, D(100))]
    assert not found(result, "SCORE_MISMATCH")  # every declared score is the adjusted one's
    (missing,) = [f for f in result.findings if f.code == "ADJUSTMENT_NOTE_MISSING"]
    assert (missing.sheet, missing.cell) == at(plan, "PROJ1_ADJUST_NOTE", 4) and missing.severity == "error"
    assert "年度指标值（调整后）为 120 个" in missing.message and "年初指标值 100 个" in missing.message
    unmet = [f.message for f in result.findings if f.code == "TARGET_UNMET" and "指标2" in f.message]
    assert unmet and "调整后计划 120 个" in unmet[0]


def test_the_template_marks_a_change_without_a_note(tmp_path):
    path, plan = _adjusted_file(tmp_path)
    ws = openpyxl.load_workbook(path)[SHEET_INDICATORS]
    note = plan.names["PROJ1_ADJUST_NOTE"]
    ranges = [str(cf.sqref) for cf in ws.conditional_formatting for rule in cf.rules if "$F5<>$E5" in rule.formula[0]]
    assert ranges == [f"{a1(note.row, note.col)}:{a1(note.last_row, note.col)}"]
    headers = [ws.cell(4, c).value for c in range(5, 7)]
    assert headers == ["年初指标值", "年度指标值\n（调整后）"]


def test_an_adjusted_value_that_is_not_a_number_scores_nothing():
    sub = seed_001(first={"rows": with_row_value(SEED_001_PROTECTION_ROWS, 0, adjusted="15万")})
    findings = check(sub, PROJECT)
    row = sub.projects[0].rows[0]
    assert (row.adjusted.cell, "TEXT_IN_NUMBER") in [(f.cell, f.code) for f in findings]
    from xltool.check.evaluate import evaluate

    assert evaluate(sub, PROJECT)[0].indicators[0]["score"] is None  # as the template: nothing to score by


def with_row_value(rows, index, **changes):
    rows = [dict(r) for r in rows]
    rows[index] = rows[index] | changes
    return rows


# ---------------------------------------------------------------- 不适用, rescaled to 100


def _na_file(tmp_path, declared) -> tuple[Path, object]:
    """产出 50 = 30 (half done: 15.00) + 20 不适用; 效益 30, 满意度 10 full; execution 10 full.
    Raw 65, 不适用 20: 65 × 100 ÷ 80 = 81.25 (良)."""
    plan = plan_for(SICHUAN)
    rows = [
        ("产出指标", "数量指标", "≥", 100, 50, 30, 15, "年内完成一半"),
        ("产出指标", "质量指标", NOT_APPLICABLE, None, None, 20, None, None),
        ("效益指标", "社会效益指标", "≥", 100, 100, 30, 30, None),
        ("满意度指标", "服务对象满意度指标", "≥", 90, 95, 10, 10, None),
    ]
    cols: dict[str, list] = {k: [] for k in ("LEVEL1", "LEVEL2", "INDICATOR", "SIGN", "TARGET", "ACTUAL", "POINTS", "SCORE", "REASON", "UNIT")}
    for k, (l1, l2, sign, target, actual, points, score, reason) in enumerate(rows):
        for key, value in (("LEVEL1", l1), ("LEVEL2", l2), ("INDICATOR", f"指标{k}"), ("SIGN", sign), ("TARGET", target), ("ACTUAL", actual),
                           ("POINTS", points), ("SCORE", score), ("REASON", reason), ("UNIT", "%")):
            cols[key].append(value)
    values = {f"PROJ1_{k}": v for k, v in cols.items()}
    values.update({"PROJ1_NAME": "档案保护费", "PROJ1_INITIAL": 100, "PROJ1_BUDGET": 100, "PROJ1_EXECUTED": 100,
                   "PROJ1_SRC1_INITIAL": 80, "PROJ1_SRC1_BUDGET": 80, "PROJ1_SRC1_EXECUTED": 80,
                   "PROJ1_SRC3_INITIAL": 20, "PROJ1_SRC3_BUDGET": 20, "PROJ1_SRC3_EXECUTED": 20,
                   "PROJ1_GOAL_PLAN": "完成年度任务", "PROJ1_GOAL_DONE": "完成一半", "PROJ1_DECLARED_SCORE": declared, "PROJ1_DECLARED_GRADE": "良"})
    return write_filled(plan, values, tmp_path / f"na{declared}.xlsx"), plan


def test_not_applicable_rows_drop_out_and_the_rest_is_scaled_to_100(tmp_path):
    path, plan = _na_file(tmp_path, 81.25)
    computed = _engine(path)
    cell = lambda name: at(plan, name)  # noqa: E731
    assert computed[at(plan, "PROJ1_CALC", 1)] == NOT_APPLICABLE and computed[at(plan, "PROJ1_STATUS", 1)] == NOT_APPLICABLE
    assert [_cent(computed[cell(f"PROJ1_CALC_C{k}")]) for k in (1, 2, 3)] == [15, 30, 10]
    assert _cent(computed[cell("PROJ1_CALC_RAW")]) == 65 and _cent(computed[cell("PROJ1_NA_POINTS")]) == 20
    assert _cent(computed[cell("PROJ1_CALC_TOTAL")]) == D("81.25") and computed[cell("PROJ1_CALC_GRADE")] == "良"
    result = check_file(path)
    ev = result.evaluations[0]
    assert (ev.raw_score, ev.not_applicable_points, ev.score, ev.grade) == (D("65.00"), D("20.00"), D("81.25"), "良")
    assert result.as_dict()["evaluations"][0]["not_applicable_points"] == 20.0
    assert [i["applicable"] for i in ev.indicators] == [True, False, True, True]
    assert result.errors == 0, [(f.code, f.cell, f.message) for f in result.findings if f.severity == "error"]
    from xltool.report.feedback import write_feedback

    sheet = openpyxl.load_workbook(write_feedback(result, tmp_path / "feedback")).active
    lines = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("复核 81.25 分（良），即得分合计 65.00 分扣除不适用指标 20.00 分后折算为百分制" in line for line in lines), lines


def test_a_declared_total_before_rescaling_is_told_how_it_is_scaled(tmp_path):
    path, plan = _na_file(tmp_path, 65)
    (f,) = [f for f in check_file(path).findings if f.code == "DECLARED_SCORE_MISMATCH"]
    assert (f.sheet, f.cell) == at(plan, "PROJ1_DECLARED_SCORE") and f.expected == D("81.25")
    assert "不适用指标共 20 分" in f.message and "65 × 100 ÷（100 − 20）" in f.message


def test_not_applicable_is_off_by_default():
    assert load_framework("project").not_applicable is False
    plan = plan_for(WUCHANG)
    assert NOT_APPLICABLE not in [c.value for c in plan.cells if c.sheet == "_lists"]
    assert "PROJ1_NA_POINTS" not in plan.names
    sub = seed_001(first={"rows": with_row_value(SEED_001_PROTECTION_ROWS, 0, sign=NOT_APPLICABLE)})
    (f,) = [f for f in check(sub, PROJECT) if f.code == "INVALID_CHOICE" and f.cell == sub.projects[0].rows[0].sign.cell]
    assert f.message.endswith("请从下拉列表中选择：≥、>、≤、<、=、定性。")


def test_scaled_total_golden():
    assert scoring.scaled_total(D("65"), D("20")) == D("81.25")
    assert scoring.scaled_total(D("94.16"), D("0")) == D("94.16")
    assert scoring.scaled_total(D("66.666"), D("10")) == D("74.07")  # 74.0733… half-up
    assert scoring.scaled_total(D("10"), D("100")) is None and scoring.scaled_total(None, D("5")) is None


# ---------------------------------------------------------------- a province's framework, by data alone


def test_project_sichuan_is_settings_only():
    national, sichuan = load_framework("project"), load_framework("project_sichuan")
    assert sichuan.fund_sources == ("财政资金", "财政专户管理资金", "单位资金", "其他资金")
    assert (sichuan.reverse_rule, sichuan.score_cap, sichuan.reason_above_percent, sichuan.not_applicable) == ("ratio", "points_minus_cent", D(30), True)
    same = ("categories", "execution_points", "bands", "grades", "units", "indicator_rows", "over_achievement_percent", "low_execution_percent")
    assert all(getattr(national, key) == getattr(sichuan, key) for key in same)


def test_a_template_from_project_sichuan_is_generated_and_checked(tmp_path):
    plan = plan_for(SICHUAN)
    rows = [  # (sign, target, actual, points, declared, reason); expected score
        ("≤", 5, 10, 20, D("10.00"), "故障率偏高", D("10.00")),  # ratio rule: 5 ÷ 10 × 20 (linear would give 0)
        ("≥", 10000, 9996, 30, D("29.99"), "略有差距", D("29.99")),  # capped: an unmet row at most points − 0.01
        ("≥", 100, 130, 30, D("30.00"), None, D("30.00")),  # 30% above target: a reason is required
        ("≥", 90, 95, 10, D("10.00"), None, D("10.00")),
    ]
    cols: dict[str, list] = {k: [] for k in ("LEVEL1", "LEVEL2", "INDICATOR", "SIGN", "TARGET", "ACTUAL", "POINTS", "SCORE", "REASON", "UNIT")}
    for k, ((sign, target, actual, points, declared, reason, _want), level1) in enumerate(zip(rows, ("产出指标", "产出指标", "效益指标", "满意度指标"))):
        level2 = load_framework("project_sichuan").category(level1).subcategories[0]
        for key, value in (("LEVEL1", level1), ("LEVEL2", level2), ("INDICATOR", f"指标{k}"), ("SIGN", sign), ("TARGET", target), ("ACTUAL", actual),
                           ("POINTS", points), ("SCORE", declared), ("REASON", reason), ("UNIT", "个")):
            cols[key].append(value)
    values = {f"PROJ1_{k}": v for k, v in cols.items()}
    values.update({"PROJ1_NAME": "档案保护费", "PROJ1_INITIAL": 100, "PROJ1_BUDGET": 100, "PROJ1_EXECUTED": 95,
                   "PROJ1_GOAL_PLAN": "目标", "PROJ1_GOAL_DONE": "完成"})
    for k, (b, e) in enumerate(((60, 57), (20, 19), (10, 9.5), (10, 9.5)), start=1):  # four 其中 rows add up
        values.update({f"PROJ1_SRC{k}_INITIAL": b, f"PROJ1_SRC{k}_BUDGET": b, f"PROJ1_SRC{k}_EXECUTED": e})
    path = write_filled(plan, values, tmp_path / "sichuan.xlsx")
    ws = openpyxl.load_workbook(path)[SHEET_BUDGET]
    labels = [ws.cell(r, 2).value for r in range(5, 10)]
    assert labels == ["年度资金总额", "其中：财政资金", "财政专户管理资金", "单位资金", "其他资金"]
    computed = _engine(path)
    want = [r[-1] for r in rows]
    assert [_cent(computed.get(at(plan, "PROJ1_CALC", k))) for k in range(4)] == want
    result = check_file(path)
    ev = result.evaluations[0]
    assert [i["score"] for i in ev.indicators] == want
    assert (ev.execution_rate, ev.score) == (D("0.95"), D("89.49"))  # 9.50 + 10 + 29.99 + 30 + 10
    assert _cent(computed[at(plan, "PROJ1_CALC_TOTAL")]) == D("89.49")
    assert found(result, "FUNDS_SUM_MISMATCH") == []
    (reason,) = [f for f in result.findings if f.code == "REASON_REQUIRED"]
    assert (reason.sheet, reason.cell) == at(plan, "PROJ1_REASON", 2) and "30%" in reason.message
    assert [s["name"] for s in ev.sources] == list(load_framework("project_sichuan").fund_sources)


# ---------------------------------------------------------------- framework settings


def _project_yaml() -> str:
    return (Path(__file__).parents[1] / "workbook_templates" / "project.yaml").read_text(encoding="utf-8")


def test_fund_sources_not_applicable_and_low_execution_settings_are_checked():
    text = _project_yaml()
    fw = parse_framework(text.replace("fund_sources: [当年财政拨款, 上年结转资金, 其他资金]", "fund_sources: [财政资金, 单位资金]")
                         .replace("not_applicable: false", "not_applicable: true").replace("low_execution_percent: 90", "low_execution_percent: 85"), source="x.yaml")
    assert (fw.fund_sources, fw.not_applicable, fw.low_execution_percent) == (("财政资金", "单位资金"), True, D(85))
    plan = plan_for(replace(BLANK_PROJECT))  # the default: three rows
    assert [c.value for c in plan.cells if c.sheet == SHEET_BUDGET and c.col == 1 and 4 <= c.row <= 7] == ["年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"]
    for bad, key in (
        ("fund_sources: [财政资金, 财政资金]", "fund_sources"),
        ("fund_sources: [财政资金, '']", "fund_sources"),
        ("fund_sources: 财政资金", "fund_sources"),
        ("not_applicable: 是", "not_applicable"),
        ("low_execution_percent: 120", "low_execution_percent"),
    ):
        setting = bad.split(":")[0]
        lines = [line for line in text.splitlines() if not line.startswith(setting + ":")]
        with pytest.raises(FrameworkError, match=key):
            parse_framework("\n".join(lines) + "\n" + bad + "\n", source="x.yaml")
    department = (Path(__file__).parents[1] / "workbook_templates" / "department.yaml").read_text(encoding="utf-8")
    with pytest.raises(FrameworkError, match="not_applicable"):
        parse_framework(department + "\nnot_applicable: true\n", source="d.yaml")


def test_every_framework_setting_is_documented_in_the_yaml_and_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    text = _project_yaml()
    for key in ("reverse_rule", "score_cap", "reason_rule", "reason_above_percent", "over_achievement_percent",
                "low_execution_percent", "fund_sources", "not_applicable"):
        assert key in text, key
        assert f"`{key}" in readme, key


# ---------------------------------------------------------------- the roster pre-fills the form

ROSTER = (
    "单位名称,单位编码,年度,类型,项目名称,年初预算数,全年预算数,全年执行数,当年财政拨款年初预算数,当年财政拨款全年预算数,"
    "其中：上年结转资金全年预算数,预期目标\n"
    "武昌区档案馆,420106-DAG,2020,项目,档案保护费,280,300,,280,250,50,完成馆藏档案数字化\n"
    "武昌区档案馆,420106-DAG,2020,项目,史料编研费,100,100,,,,,\n"
)


def test_roster_prefills_the_money_block_and_the_goal(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8-sig")
    (unit,) = read_roster(roster)
    first, second = unit.projects
    assert (first.initial, first.budget, first.goal_plan) == (D("280.00"), D("300.00"), "完成馆藏档案数字化")
    assert first.source("当年财政拨款") == (D("280.00"), D("250.00"), None) and first.source("上年结转资金") == (None, D("50.00"), None)
    assert second.sources == () and second.goal_plan is None
    plan = plan_for(unit)
    by_place = {(c.sheet, a1(c.row, c.col)): c for c in plan.cells}
    for name, value in (("PROJ1_INITIAL", D("280.00")), ("PROJ1_SRC1_INITIAL", D("280.00")), ("PROJ1_SRC1_BUDGET", D("250.00")),
                        ("PROJ1_SRC2_BUDGET", D("50.00")), ("PROJ1_GOAL_PLAN", "完成馆藏档案数字化"), ("PROJ2_INITIAL", D("100.00"))):
        cell = by_place[at(plan, name)]
        assert (cell.role, cell.value) == ("prefill", value), name
    for name in ("PROJ1_SRC1_EXECUTED", "PROJ1_GOAL_DONE", "PROJ2_GOAL_PLAN", "PROJ2_SRC1_BUDGET"):
        assert by_place[at(plan, name)].role == "input", name
    # signed with the rest of the pre-filled figures, and read back from the metadata
    from xltool.check.reader import unit_from_meta

    assert unit_from_meta(plan.meta).projects == unit.projects


def test_a_prefilled_source_figure_changed_is_prefill_changed(tmp_path):
    from cases import edit_sheet, number_cell, replace_cell

    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8-sig")
    (unit,) = read_roster(roster)
    plan = plan_for(unit)
    values = {"PROJ1_EXECUTED": 300, "PROJ1_SRC1_EXECUTED": 250, "PROJ1_SRC2_EXECUTED": 50, "PROJ1_GOAL_DONE": "完成",
              "PROJ2_EXECUTED": 100, "PROJ2_SRC1_INITIAL": 100, "PROJ2_SRC1_BUDGET": 100, "PROJ2_SRC1_EXECUTED": 100}
    path = write_filled(plan, values, tmp_path / "filled.xlsx")
    _sheet, cell = at(plan, "PROJ1_SRC1_BUDGET")
    edited = edit_sheet(path, tmp_path / "edited.xlsx", SHEET_BUDGET, lambda x: replace_cell(x, cell, number_cell(cell, 260)))
    result = check_file(edited)
    assert at(plan, "PROJ1_SRC1_BUDGET") in found(result, "PREFILL_CHANGED")
    assert found(check_file(path), "PREFILL_CHANGED") == [] and found(check_file(path), "FUNDS_SUM_MISMATCH") == []


@pytest.mark.parametrize("heading, value, expected", [
    ("中央补助资金全年预算数", "10", "“中央补助资金”不是框架“project”的资金来源（当年财政拨款、上年结转资金、其他资金）"),
    ("当年财政拨款全年执行数", "十万", "“当年财政拨款全年执行数”列：“十万”不是数字"),
    ("其他资金年初预算数", "-1", "“其他资金年初预算数”列：金额 -1 为负数"),
])
def test_roster_fund_source_errors_name_row_and_column(tmp_path, heading, value, expected):
    roster = tmp_path / "roster.csv"
    roster.write_text(f"单位名称,单位编码,年度,类型,项目名称,{heading}\n武昌区档案馆,420106-DAG,2020,项目,档案保护费,{value}\n", encoding="utf-8-sig")
    with pytest.raises(RosterError) as info:
        read_roster(roster)
    assert "第 2 行" in str(info.value) and expected in str(info.value)


def test_roster_for_project_sichuan_takes_its_own_source_names(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("单位名称,单位编码,年度,类型,框架,项目名称,全年预算数,财政专户管理资金全年预算数,财政资金全年预算数\n"
                      "某档案馆,510100-DAG,2022,项目,project_sichuan,档案保护费,100,30,70\n", encoding="utf-8-sig")
    (unit,) = read_roster(roster)
    assert unit.projects[0].sources == (("财政资金", None, D("70.00"), None), ("财政专户管理资金", None, D("30.00"), None))
    plan = plan_for(unit)
    assert [c.value for c in plan.cells if (c.sheet, a1(c.row, c.col)) == at(plan, "PROJ1_SRC2_BUDGET")] == [D("30.00")]
