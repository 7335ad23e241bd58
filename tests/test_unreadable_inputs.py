"""Inputs the checker cannot read, or reads differently from the file's own formulas, as real
returned files hold them: no made-up expected score, and a warning where staff saw another figure."""

from __future__ import annotations

import json

from cases import write_project
from xltool.check.batch import check_file
from xltool.report import write_json


def test_money_with_its_unit_in_the_cell_gives_no_made_up_expected_score(tmp_path):
    result = check_file(write_project(tmp_path / "wan.xlsx", PROJ1_EXECUTED="214.68万元"))
    assert result.status == "failed"
    codes = [f.code for f in result.findings]
    assert "TEXT_IN_NUMBER" in codes and "SCORE_NOT_RECOMPUTED" in codes
    assert not {"DECLARED_SCORE_MISMATCH", "DECLARED_GRADE_MISMATCH", "SCORE_MISMATCH"} & set(codes)
    assert not any("应为" in f.message for f in result.findings), [f.message for f in result.findings]
    text = next(f for f in result.findings if f.code == "TEXT_IN_NUMBER")
    assert "214.68万元" in text.message and "不要带“万元”" in text.message
    out = json.loads(write_json([result], tmp_path / "r.json").read_text(encoding="utf-8"))
    first = out[0]["evaluations"][0]
    assert first["score"] is None and first["grade"] is None and first["execution_rate"] is None
    assert out[0]["evaluations"][1]["score"] is not None  # the other project is scored as usual


def test_numbers_stored_as_text_are_read_with_a_warning(tmp_path):
    result = check_file(write_project(tmp_path / "text.xlsx", PROJ1_EXECUTED="３００"))
    assert result.status == "passed"
    (f,) = [f for f in result.findings if f.code == "NUMBER_STORED_AS_TEXT"]
    assert f.severity == "warning" and "３００" in f.message and "300" in f.message
    assert result.evaluations[0].executed == 300


def test_percent_on_two_scales_is_a_warning(tmp_path):
    result = check_file(write_project(tmp_path / "pct.xlsx", PROJ1_ACTUAL=[149638, 0.98, 665, 95]))
    (f,) = [f for f in result.findings if f.code == "PERCENT_SCALE_MIXED"]
    assert f.severity == "warning" and "0.98" in f.message and "95% 填 95" in f.message


def _shown_as_percent(src, dest, names: list[str]):
    """The file as Excel or Calc saves it after staff typed "25%" into the named cells: the number
    0.25 with a percent format (numFmtId 9, "0%"), the cell still unlocked."""
    import re

    from cases import rewrite_parts, sheet_part
    from conftest import WUCHANG
    from xltool.template import plan_for
    from xltool.template.layout import a1

    plan = plan_for(WUCHANG)
    refs = {}
    for name in names:
        base, _, offset = name.partition("#")
        spec = plan.names[base]
        refs.setdefault(spec.sheet, set()).add(a1(spec.row + int(offset or 0), spec.col))
    parts = {sheet_part(src, sheet): cells for sheet, cells in refs.items()}
    state = {}

    def edit(name, data):
        text = data.decode()
        if name == "xl/styles.xml":
            count = int(re.search(r'<cellXfs count="(\d+)"', text).group(1))
            state["style"] = count
            xf = '<xf numFmtId="9" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyProtection="1"><protection locked="0"/></xf>'
            text = text.replace(f'<cellXfs count="{count}"', f'<cellXfs count="{count + 1}"').replace("</cellXfs>", xf + "</cellXfs>")
        return text.encode()

    def edit_cells(name, data):
        if name not in parts:
            return data
        text = data.decode()
        for ref in parts[name]:
            text, n = re.subn(rf'(<c r="{ref}") s="\d+"', rf'\1 s="{state["style"]}"', text)
            assert n == 1, ref
        return text.encode()

    middle = dest.with_name("styled-" + dest.name)
    rewrite_parts(src, middle, edit)
    return rewrite_parts(middle, dest, edit_cells)


def test_a_percent_typed_with_its_sign_against_a_low_target_is_a_warning(tmp_path):
    """档案利用增长率 ≥ 10 (%): staff type "25%" into 实际完成值, which Excel and Calc keep as 0.25
    shown "25%". The checker scores 0.25 as the sheet's formulas do, but must say why: the cell shows
    25%, the target is 10 — whatever the ratio of the two numbers (10 ÷ 0.25 is only 40)."""
    src = write_project(tmp_path / "typed.xlsx", PROJ1_TARGET=[140000, 10, 600, 90], PROJ1_ACTUAL=[149638, 0.25, 665, 95],
                        PROJ1_INDICATOR=["数字化扫描", "档案利用增长率", "查档利用人次", "查档人员满意度"])
    result = check_file(_shown_as_percent(src, tmp_path / "pct.xlsx", ["PROJ1_ACTUAL#1"]))
    assert not {"LOCKED_CHANGED", "STRUCTURE_CHANGED", "FINGERPRINT_MISMATCH"} & {f.code for f in result.findings}
    (f,) = [f for f in result.findings if f.code == "PERCENT_SCALE_MIXED"]
    assert (f.sheet, f.cell) == ("绩效指标", "H6") and f.severity == "warning"
    assert "25%" in f.message and "0.25" in f.message and "95% 填 95" in f.message


def test_a_target_and_actual_both_typed_with_their_sign_are_on_one_scale(tmp_path):
    """Both typed "10%" and "25%" (0.1 and 0.25, shown as percents): one scale, scored right, no warning."""
    src = write_project(tmp_path / "typed.xlsx", PROJ1_TARGET=[140000, 0.1, 600, 90], PROJ1_ACTUAL=[149638, 0.25, 665, 95])
    result = check_file(_shown_as_percent(src, tmp_path / "pct.xlsx", ["PROJ1_TARGET#1", "PROJ1_ACTUAL#1"]))
    assert "PERCENT_SCALE_MIXED" not in [f.code for f in result.findings]
    assert result.status == "passed"


def test_a_percent_typed_with_its_sign_against_a_fraction_target_is_one_scale(tmp_path):
    """合格率 ≥ 0.95 typed as a plain fraction, 实际完成值 "98%" (0.98 shown as a percent): both are
    fractions, 0.98 ≥ 0.95 is scored right, and nothing says the scales differ."""
    src = write_project(tmp_path / "typed.xlsx", PROJ1_TARGET=[140000, 0.95, 600, 90], PROJ1_ACTUAL=[149638, 0.98, 665, 95])
    result = check_file(_shown_as_percent(src, tmp_path / "pct.xlsx", ["PROJ1_ACTUAL#1"]))
    assert "PERCENT_SCALE_MIXED" not in [f.code for f in result.findings]
    assert result.status == "passed" and result.evaluations[0].score == 100


def test_a_number_pasted_with_an_invisible_character_is_read_with_a_warning(tmp_path):
    """Text copied from WeChat or a web page brings zero-width spaces and byte-order marks around a
    figure: staff see 300, so it is read as 300 with the stored-as-text warning (as " 300 " is),
    not rejected as "not a number" with a quote that shows 300."""
    for pasted in ("300\u200b", "\ufeff300", "\u200d300\u2060 "):
        result = check_file(write_project(tmp_path / "zw.xlsx", PROJ1_EXECUTED=pasted))
        assert result.status == "passed", [(f.code, f.message) for f in result.findings]
        (f,) = [f for f in result.findings if f.code == "NUMBER_STORED_AS_TEXT"]
        assert (f.sheet, f.cell) == ("预算执行", "E5") and "300" in f.message
        assert result.evaluations[0].executed == 300 and result.evaluations[0].score == 100


def test_no_adjustment_written_as_a_word_is_told_to_leave_the_cell_blank(tmp_path):
    """年度指标值（调整后） holding “无” or “/” (staff's habit for "none"): the sheet's formulas take it
    as the target, so it is reported — with the advice that fits: leave it blank, not 选择“定性”."""
    for word in ("无", "/", "未调整", "—"):
        result = check_file(write_project(tmp_path / "adj.xlsx", PROJ1_ADJUSTED=[word, None, None, None]))
        (f,) = [f for f in result.findings if f.code == "TEXT_IN_NUMBER"]
        assert (f.sheet, f.cell) == ("绩效指标", "F5"), word
        assert "请留空" in f.message and "定性" not in f.message, (word, f.message)


def _as_excel_saves(src, dest, unit, stored: dict):
    """The file with number cells holding the 17 digits Excel writes for a figure computed and
    pasted as a value: stored maps "NAME#offset" (offset from the named column's first row) to
    the number's text."""
    import re

    from cases import edit_sheet
    from xltool.template import plan_for
    from xltool.template.layout import a1

    plan = plan_for(unit)
    sheets = {}
    for key, text in stored.items():
        base, _, offset = key.partition("#")
        spec = plan.names[base]
        sheets.setdefault(spec.sheet, []).append((a1(spec.row + int(offset or 0), spec.col), text))
    for sheet, cells in sheets.items():
        def edit(xml, cells=cells):
            for ref, text in cells:
                xml, n = re.subn(rf'(<c r="{ref}"[^>]*>)<v>[^<]*</v>', rf"\g<1><v>{text}</v>", xml)
                assert n == 1, ref
            return xml
        src = edit_sheet(src, dest, sheet, edit)
    return src


def test_a_goal_met_as_excel_shows_it_is_not_reported_unmet(tmp_path):
    """A unit-wide annual goal's 实际完成值 pasted as a value from a computation: Excel saves 0.1 + 0.2
    as 0.30000000000000004 and shows 0.3, and 满意度 95.5 as 95.499999999999986. Both meet their
    targets (< 0.3 %, ≥ 95.5 %) as the sheet shows them: no 未完成, no reason demanded."""
    from cases import write_department
    from conftest import WUHAN

    src = write_department(tmp_path / "goal.xlsx", GOAL1_TARGET=[10000, 0.3, 100, 95.5], GOAL1_ACTUAL=[11000, 0.3, 100, 95.5])
    saved = _as_excel_saves(src, tmp_path / "excel.xlsx", WUHAN, {"GOAL1_ACTUAL#1": "0.30000000000000004", "GOAL1_ACTUAL#3": "95.499999999999986"})
    result = check_file(saved)
    assert result.status == "passed", [(f.code, f.cell, f.message) for f in result.findings]
    assert not [f for f in result.findings if f.code.startswith("TARGET_UNMET")]
    goal_rows = result.evaluations[0].indicators
    assert [r["met"] for r in goal_rows] == [True, True, True, True]


def test_scores_pasted_from_a_sum_are_within_their_points_as_excel_shows_them(tmp_path):
    """自评得分 10 and 自评总分 100 pasted as values from sums Excel saved as 10.000000000000002 and
    100.00000000000001 (shown 10 and 100): within 0～10 and 0～100, no VALUE_OUT_OF_RANGE."""
    from conftest import WUCHANG

    src = write_project(tmp_path / "sum.xlsx")
    saved = _as_excel_saves(src, tmp_path / "excel.xlsx", WUCHANG, {"PROJ1_SCORE#3": "10.000000000000002", "PROJ1_DECLARED_SCORE": "100.00000000000001"})
    result = check_file(saved)
    assert result.status == "passed", [(f.code, f.cell, f.message) for f in result.findings]
    assert result.evaluations[0].score == 100


def test_a_full_deduction_pasted_from_a_sum_is_within_its_points(tmp_path):
    """扣分 4 of 4 points pasted from a sum Excel saved as 4.0000000000000009: not out of range."""
    from cases import write_department
    from conftest import WUHAN
    from xltool.core.framework import load_framework

    count = len(load_framework("department").criterion_indicators)
    deductions, reasons = [0] * count, [None] * count
    deductions[1], reasons[1] = 4, "绩效指标未细化量化"
    src = write_department(tmp_path / "ded.xlsx", CRIT_DEDUCTION=deductions, CRIT_REASON=reasons, DECLARED_C1=16, DECLARED_TOTAL=96)
    result = check_file(_as_excel_saves(src, tmp_path / "excel.xlsx", WUHAN, {"CRIT_DEDUCTION#1": "4.0000000000000009"}))
    assert result.status == "passed", [(f.code, f.cell, f.message) for f in result.findings]
    assert result.evaluations[0].score == 96


def test_an_over_achievement_and_an_unchanged_adjusted_target_as_excel_shows_them(tmp_path):
    """查档利用人次 ≥ 500, 完成 600 pasted from a computation as 599.99999999999989 (shown 600): 120%,
    flagged, and the score lowered by hand with a reason stands; 年度指标值（调整后） 140000 pasted as
    140000.00000000003 is the year-start target unchanged: no 调整说明 demanded."""
    from conftest import WUCHANG

    src = write_project(tmp_path / "over.xlsx", PROJ1_TARGET=[140000, 95, 500, 90], PROJ1_ACTUAL=[149638, 98, 600, 95],
                        PROJ1_ADJUSTED=[140000, None, None, None], PROJ1_SCORE=[30, 20, 28, 10],
                        PROJ1_REASON=[None, None, "指标值偏低，调低2分", None], PROJ1_DECLARED_SCORE=98)
    saved = _as_excel_saves(src, tmp_path / "excel.xlsx", WUCHANG, {"PROJ1_ACTUAL#2": "599.99999999999989", "PROJ1_ADJUSTED": "140000.00000000003"})
    result = check_file(saved)
    assert result.status == "passed", [(f.code, f.cell, f.message) for f in result.findings]
    assert [(f.code, f.cell) for f in result.findings] == [("OVER_ACHIEVED", "H7")]
    assert result.evaluations[0].score == 98


def test_a_date_written_with_hao_is_a_date(tmp_path):
    """填报日期 “2021年3月31号” (号 for 日, as people say and write it): the date, no INVALID_DATE."""
    result = check_file(write_project(tmp_path / "hao.xlsx", INFO_DATE="2021年3月31号"))
    assert result.status == "passed", [(f.code, f.cell, f.message) for f in result.findings]
