"""Every finding code, triggered by a crafted file made by filling a generated template.

Each case changes one thing in a clean filling (what staff type, or what they do to the file) and
asserts the code lands on the cell a staff member must fix. The common cases are checked again
after LibreOffice re-saved the file, as staff who use it would.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import openpyxl
import pytest

from cases import (
    _project_rows,
    clean_project_values,
    edit_sheet,
    number_cell,
    replace_cell,
    rewrite_parts,
    text_cell,
    with_row,
    write_department,
    write_project,
)
from conftest import BLANK_PROJECT, WUCHANG, WUHAN
from xltool.check.batch import check_file
from xltool.cli import main
from xltool.template.fill import write_filled
from xltool.template import plan_for
from xltool.template.layout import SHEET_BUDGET, SHEET_INDICATORS, SHEET_SCORES, SHEET_TEXT, a1

P = plan_for(WUCHANG)
D = plan_for(WUHAN)
ROWS = _project_rows(1)


def at(plan, name: str, row: int = 0) -> tuple[str, str]:
    """(sheet, A1) of a defined name's cell, or of row `row` of a named column."""
    spec = plan.names[name]
    return spec.sheet, a1(spec.row + row, spec.col)


def _project(**changes):
    return lambda path: write_project(path, **changes)


def _department(**changes):
    return lambda path: write_department(path, **changes)


def _blank_project(path):
    values = clean_project_values()
    values = {k: v for k, v in values.items() if not k.startswith("PROJ2_") and not k.startswith("PROJ3_")}
    values.update({"PROJ1_NAME": "档案保护费", "PROJ1_BUDGET": 0, "PROJ1_EXECUTED": 10})
    return write_filled(plan_for(BLANK_PROJECT), values, path)


def _then(build, sheet: str, edit):
    def make(path: Path) -> Path:
        raw = build(path.with_name("raw_" + path.name))
        return edit_sheet(raw, path, sheet, edit)

    return make


def _parts(build, edit):
    def make(path: Path) -> Path:
        raw = build(path.with_name("raw_" + path.name))
        return rewrite_parts(raw, path, edit)

    return make


def _workbook_xml(build, edit):
    return _parts(build, lambda name, data: edit(data.decode()).encode() if name == "xl/workbook.xml" else data)


_qual = dict(
    PROJ1_SIGN=with_row(ROWS["SIGN"], 2, "定性"),
    PROJ1_TARGET=with_row(ROWS["TARGET"], 2, None),
    PROJ1_ACTUAL=with_row(ROWS["ACTUAL"], 2, None),
)
_unmet = dict(PROJ1_ACTUAL=with_row(ROWS["ACTUAL"], 0, 30000))
_effect_deductions = [None] * 25 + [0.5, 0.5, 0.5, 0.5]
_effect_reasons = [None] * 25 + ["理由"] * 4

CASES = {
    # what staff type
    "REQUIRED_BLANK": (_project(PROJ1_EXECUTED=None), at(P, "PROJ1_EXECUTED")),
    "TEXT_IN_NUMBER": (_project(PROJ1_TARGET=with_row(ROWS["TARGET"], 0, "1万以上")), at(P, "PROJ1_TARGET")),
    "MULTIPLE_TARGETS": (_project(PROJ1_INDICATOR=with_row(ROWS["INDICATOR"], 0, "目录数据合格率≥95%；元数据合格率≥95%")), at(P, "PROJ1_INDICATOR")),
    "VALUE_OUT_OF_RANGE": (_project(PROJ1_ACTUAL=with_row(ROWS["ACTUAL"], 1, -5)), at(P, "PROJ1_ACTUAL", 1)),
    "INVALID_CHOICE": (_project(PROJ1_SIGN=with_row(ROWS["SIGN"], 0, "大于等于")), at(P, "PROJ1_SIGN")),
    "LEVEL2_MISMATCH": (_project(PROJ1_LEVEL2=with_row(ROWS["LEVEL2"], 0, "社会效益指标")), at(P, "PROJ1_LEVEL2")),
    "POINTS_SUM_MISMATCH": (_project(PROJ1_POINTS=with_row(ROWS["POINTS"], 0, 25), PROJ1_SCORE=with_row(ROWS["SCORE"], 0, 25)), None),
    "NO_INDICATORS": (_project(**{f"PROJ2_{k}": [None] * 4 for k in ROWS}), None),
    "RATE_UNDEFINED": (_blank_project, at(plan_for(BLANK_PROJECT), "PROJ1_BUDGET")),
    "OVER_BUDGET_NO_NOTE": (_project(PROJ1_EXECUTED=320), at(P, "PROJ1_NOTE")),
    "LOW_EXECUTION_NO_NOTE": (_project(PROJ1_EXECUTED=214.68), at(P, "PROJ1_NOTE")),
    # 项目资金: 当年财政拨款 one cent short of 年度资金总额's 全年执行数; a target adjusted with no note
    "FUNDS_SUM_MISMATCH": (_project(PROJ1_SRC1_EXECUTED=299.99), at(P, "PROJ1_EXECUTED")),
    "ADJUSTMENT_NOTE_MISSING": (_project(PROJ1_ADJUSTED=[145000, None, None, None]), at(P, "PROJ1_ADJUST_NOTE")),
    "TARGET_UNMET_NO_REASON": (_project(**_unmet), at(P, "PROJ1_REASON")),
    "TARGET_UNMET": (_project(**_unmet, PROJ1_REASON=["受疫情影响扫描设备停工两个月"], PROJ1_SCORE=with_row(ROWS["SCORE"], 0, 6.43)), None),
    "FULL_SCORE_UNMET": (_project(**_unmet), at(P, "PROJ1_SCORE")),
    "SCORE_MISMATCH": (_project(PROJ1_SCORE=with_row(ROWS["SCORE"], 0, 25)), at(P, "PROJ1_SCORE")),
    "QUALITATIVE_NO_BAND": (_project(**_qual), at(P, "PROJ1_BAND", 2)),
    "QUALITATIVE_OUT_OF_BAND": (_project(**_qual, PROJ1_BAND=[None, None, "部分达成年度指标并具有一定效果"]), at(P, "PROJ1_SCORE", 2)),
    "DECLARED_SCORE_MISMATCH": (_project(PROJ1_DECLARED_SCORE=95), at(P, "PROJ1_DECLARED_SCORE")),
    "DECLARED_GRADE_MISMATCH": (_project(PROJ1_DECLARED_GRADE="良"), at(P, "PROJ1_DECLARED_GRADE")),
    "DECLARED_MISSING": (_project(PROJ1_DECLARED_SCORE=None), at(P, "PROJ1_DECLARED_SCORE")),
    "CONTACT_MISSING": (_project(INFO_PHONE=None), at(P, "INFO_PHONE")),
    "TEXT_MISSING": (_project(PROBLEMS=None), at(P, "PROBLEMS")),
    "INVALID_DATE": (_project(INFO_DATE="去年"), at(P, "INFO_DATE")),
    "DEDUCTION_OUT_OF_RANGE": (_department(CRIT_DEDUCTION=[5], CRIT_REASON=["理由"]), at(D, "CRIT_DEDUCTION")),
    "DEDUCTION_NO_REASON": (_department(CRIT_DEDUCTION=[0.5], DECLARED_C1=19.5, DECLARED_TOTAL=99.5), at(D, "CRIT_REASON")),
    # what staff do to the file
    "PROTECTION_REMOVED": (_then(_project(), SHEET_INDICATORS, lambda x: re.sub(r"<sheetProtection[^>]*/>", "", x)), (SHEET_INDICATORS, "")),
    "LOCKED_CHANGED": (_then(_project(), SHEET_INDICATORS, lambda x: replace_cell(x, "C4", text_cell("C4", "指标"))), (SHEET_INDICATORS, "C4")),
    "PREFILL_CHANGED": (_then(_project(), SHEET_BUDGET, lambda x: replace_cell(x, "D5", number_cell("D5", 350))), at(P, "PROJ1_BUDGET")),
    "FORMULA_CHANGED": (_then(_project(), SHEET_SCORES, lambda x: replace_cell(x, at(P, "PROJ1_CALC_TOTAL")[1], number_cell(at(P, "PROJ1_CALC_TOTAL")[1], 100))), at(P, "PROJ1_CALC_TOTAL")),
    "RATE_MISMATCH": (_then(_project(PROJ1_EXECUTED=214.68, PROJ1_NOTE="部分采购延至次年"), SHEET_BUDGET, lambda x: replace_cell(x, "G5", number_cell("G5", 0.8))), at(P, "PROJ1_RATE")),
    "EXTRA_CONTENT": (_then(_project(), SHEET_TEXT, lambda x: x.replace("</sheetData>", '<row r="30">' + text_cell("A30", "补充说明见附件") + "</row></sheetData>")), (SHEET_TEXT, "A30")),
    "STRUCTURE_CHANGED": (_workbook_xml(_project(), lambda x: x.replace("!$E$5:$E$24<", "!$E$6:$E$25<", 1)), None),
    "NAME_MISSING": (_workbook_xml(_project(), lambda x: re.sub(r'<definedName name="PROJ1_NOTE">[^<]*</definedName>', "", x)), at(P, "PROJ1_NOTE")),
    "SHEET_MISSING": (_workbook_xml(_project(), lambda x: re.sub(r'<sheet name="问题与改进"[^>]*/>', "", x)), (SHEET_TEXT, "")),
    "FINGERPRINT_MISMATCH": (_parts(_project(), lambda n, d: re.sub(rb">[0-9a-f]{32}<", b">" + b"0" * 32 + b"<", d) if n == "xl/sharedStrings.xml" else d), None),
}

SEVERITY = {"TARGET_UNMET": "info", "LOW_EXECUTION_NO_NOTE": "warning", "DECLARED_MISSING": "warning", "CONTACT_MISSING": "warning", "TEXT_MISSING": "warning", "EXTRA_CONTENT": "warning", "FINGERPRINT_MISMATCH": "warning"}


@pytest.fixture(scope="module")
def crafted(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("crafted")
    return {code: build(folder / f"{code}.xlsx") for code, (build, _where) in CASES.items()}


def _assert_finding(result, code, where):
    found = [f for f in result.findings if f.code == code]
    assert found, f"{code} 未报告；实际：{[(f.code, f.sheet, f.cell) for f in result.findings]}"
    f = found[0]
    assert f.severity == SEVERITY.get(code, "error")
    assert re.search(r"[\u4e00-\u9fff]", f.message)
    if where is not None:
        sheet, cell = where
        assert any(g.sheet == sheet and (not cell or g.cell == cell) for g in found), [(g.sheet, g.cell) for g in found]
    if f.severity == "error":
        assert result.status == "failed"
    return found


@pytest.mark.parametrize("code", list(CASES))
def test_each_code_is_reported_on_the_right_cell(crafted, code):
    _assert_finding(check_file(crafted[code]), code, CASES[code][1])


def test_clean_fillings_pass_with_no_finding(tmp_path):
    for build in (write_project, write_department):
        result = check_file(build(tmp_path / f"{build.__name__}.xlsx"))
        assert (result.status, [f.code for f in result.findings]) == ("passed", [])


def test_text_in_number_tells_how_to_fill_it(crafted):
    (f,) = [f for f in check_file(crafted["TEXT_IN_NUMBER"]).findings if f.code == "TEXT_IN_NUMBER"]
    assert "1万以上" in f.message and "≥" in f.message and "10000" in f.message


def test_declared_versus_recomputed_carries_both_figures(crafted):
    (f,) = [f for f in check_file(crafted["DECLARED_SCORE_MISMATCH"]).findings if f.code == "DECLARED_SCORE_MISMATCH"]
    assert float(f.seen) == 95 and float(f.expected) == 100


def test_seed_000_declared_effect_24_is_flagged_on_its_cell(tmp_path):
    path = write_department(
        tmp_path / "effect24.xlsx", CRIT_DEDUCTION=_effect_deductions, CRIT_REASON=_effect_reasons, DECLARED_C4=24, DECLARED_TOTAL=98
    )
    result = check_file(path)
    found = [f for f in result.findings if f.code == "DECLARED_SCORE_MISMATCH" and (f.sheet, f.cell) == at(D, "DECLARED_C4")]
    assert found and float(found[0].seen) == 24 and float(found[0].expected) == 23
    assert [c["score"] for c in result.evaluations[0].criteria][-1] == 23


def test_rate_typed_over_the_formula_is_compared_with_executed_over_budget(crafted):
    result = check_file(crafted["RATE_MISMATCH"])
    (f,) = [f for f in result.findings if f.code == "RATE_MISMATCH"]
    assert float(f.seen) == pytest.approx(0.8) and float(f.expected) == pytest.approx(0.7156)
    assert float(result.evaluations[0].execution_rate) == 0.7156


# ---------------------------------------------------------------- after LibreOffice re-saved them

COMMON = ["REQUIRED_BLANK", "TEXT_IN_NUMBER", "OVER_BUDGET_NO_NOTE", "TARGET_UNMET_NO_REASON", "FULL_SCORE_UNMET", "SCORE_MISMATCH",
          "DECLARED_SCORE_MISMATCH", "DECLARED_GRADE_MISMATCH", "PREFILL_CHANGED", "FORMULA_CHANGED", "LOCKED_CHANGED", "DEDUCTION_NO_REASON",
          "PROTECTION_REMOVED", "QUALITATIVE_OUT_OF_BAND", "FUNDS_SUM_MISMATCH", "ADJUSTMENT_NOTE_MISSING"]


@pytest.fixture(scope="module")
def resaved(crafted, tmp_path_factory):
    from libreoffice import require_libreoffice, resave_many

    require_libreoffice()
    folder = tmp_path_factory.mktemp("crafted_lo")
    clean = tmp_path_factory.mktemp("clean")
    sources = [crafted[c] for c in COMMON] + [write_project(clean / "clean_project.xlsx"), write_department(clean / "clean_department.xlsx")]
    out = resave_many(sources, folder, fmt="xlsx", recalc=True)
    return dict(zip([*COMMON, "clean_project", "clean_department"], out))


@pytest.mark.parametrize("code", COMMON)
def test_each_common_code_survives_a_libreoffice_resave(resaved, code):
    _assert_finding(check_file(resaved[code]), code, CASES[code][1])


def test_clean_files_resaved_by_libreoffice_still_pass(resaved):
    for key in ("clean_project", "clean_department"):
        result = check_file(resaved[key])
        assert (result.status, [(f.code, f.sheet, f.cell) for f in result.findings]) == ("passed", [])


def test_recomputed_figures_equal_what_libreoffice_computes(resaved):
    """The checker never reads cached values; LibreOffice's own recalculation must agree with it."""
    for key, plan in (("clean_project", P), ("LOW_EXECUTION_NO_NOTE", None)):
        if key not in resaved:
            continue
        result = check_file(resaved[key])
        wb = openpyxl.load_workbook(resaved[key], data_only=True)
        for p, evaluation in enumerate(result.evaluations, start=1):
            sheet, cell = at(plan, f"PROJ{p}_CALC_TOTAL")
            assert round(float(evaluation.score), 2) == round(wb[sheet][cell].value, 2)
            sheet, cell = at(plan, f"PROJ{p}_RATE")
            assert round(float(evaluation.execution_rate), 4) == round(wb[sheet][cell].value, 4)
            sheet, cell = at(plan, f"PROJ{p}_CALC_GRADE")
            assert evaluation.grade == wb[sheet][cell].value
    result = check_file(resaved["clean_department"])
    wb = openpyxl.load_workbook(resaved["clean_department"], data_only=True)
    sheet, cell = at(D, "CALC_TOTAL")
    assert float(result.evaluations[0].score) == wb[sheet][cell].value
    sheet, cell = at(D, "RATE_INITIAL")
    assert float(result.evaluations[0].initial_budget_completion_rate) == pytest.approx(wb[sheet][cell].value)


# ---------------------------------------------------------------- the command, end to end


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_check_command_writes_summary_json_csv_and_leaves_inputs_untouched(tmp_path, capsys):
    returned = tmp_path / "回收 文件"
    returned.mkdir()
    write_project(returned / "武昌区 档案馆.xlsx", PROJ1_EXECUTED=214.68, PROJ1_NOTE="部分采购延至次年", PROJ1_DECLARED_SCORE=97.16)
    write_department(returned / "武汉.xlsx")
    before = {p: _sha(p) for p in returned.iterdir()}
    out = tmp_path / "汇总.xlsx"
    code = main(["check", str(returned), "--out", str(out), "--json", str(tmp_path / "r.json"), "--csv", str(tmp_path / "r.csv"), "--feedback", str(tmp_path / "fb")])
    assert code == 0, capsys.readouterr()
    assert {p: _sha(p) for p in returned.iterdir()} == before
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    by_file = {Path(r["file"]).name: r for r in report}
    project = by_file["武昌区 档案馆.xlsx"]
    assert project["status"] == "passed" and project["kind"] == "project" and project["unit"] == "武昌区档案馆" and project["year"] == 2020
    assert project["evaluations"][0]["execution_rate"] == 0.7156 and project["evaluations"][0]["score"] == 97.16
    unit = by_file["武汉.xlsx"]["evaluations"][0]
    assert unit["initial_budget_completion_rate"] == 0.8787 and unit["execution_rate"] == 1.0
    ws = openpyxl.load_workbook(out)["汇总"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, r in enumerate(rows) if "执行率" in r)
    col = rows[header].index("执行率")
    cells = [ws.cell(row=i + 1, column=col + 1) for i in range(header + 1, len(rows)) if rows[i][col] == 0.7156]
    assert cells and cells[0].number_format == "0.00%"
    assert len(list((tmp_path / "fb").iterdir())) == 2
    assert "汇总" in capsys.readouterr().out


def test_check_command_exit_codes(tmp_path, crafted):
    out = tmp_path / "s.xlsx"
    assert main(["check", str(crafted["TEXT_IN_NUMBER"]), "--out", str(out), "--quiet"]) == 1
    assert main(["check", str(tmp_path / "nothing-here"), "--out", str(out), "--quiet"]) == 2
    assert main(["check", str(crafted["TEXT_IN_NUMBER"]), "--out", str(crafted["TEXT_IN_NUMBER"]), "--quiet"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["check", "--out", str(out)])
    assert info.value.code == 2


def test_jobs_give_the_same_results_as_one_process(tmp_path, crafted):
    files = [str(crafted[c]) for c in ("TEXT_IN_NUMBER", "REQUIRED_BLANK", "PREFILL_CHANGED")]
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    main(["check", *files, "--out", str(tmp_path / "1.xlsx"), "--json", str(one), "--quiet"])
    main(["check", *files, "--out", str(tmp_path / "2.xlsx"), "--json", str(two), "--jobs", "2", "--quiet"])
    assert json.loads(one.read_text(encoding="utf-8")) == json.loads(two.read_text(encoding="utf-8"))


def test_library_returns_a_dataframe(crafted):
    from xltool.check.batch import check_paths
    from xltool.report import to_dataframe

    frame = to_dataframe(check_paths([crafted["LOW_EXECUTION_NO_NOTE"]]))
    assert list(frame["execution_rate"])[0] == pytest.approx(0.7156)


def test_a_file_of_another_year_fails_when_the_year_is_given(tmp_path, crafted):
    out = tmp_path / "r.json"
    clean = write_project(tmp_path / "clean.xlsx")  # 武昌区档案馆 2020
    assert main(["check", str(clean), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--year", "2020", "--quiet"]) == 0
    assert main(["check", str(clean), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--year", "2021", "--quiet"]) == 1
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    (f,) = [f for f in result["findings"] if f["code"] == "YEAR_MISMATCH"]
    assert result["status"] == "failed" and "是 2020 年度的项目支出绩效自评表，本次检查的是 2021 年度" in f["message"]
    assert "用下发的 2021 年度模板填写" in f["message"]


def test_a_declaration_of_another_year_is_called_a_申报表(tmp_path):
    from declfill import fill, good_project

    key = Path(__file__).resolve().parent.parent / "samples" / "demo.key"
    forms = tmp_path / "申报表"
    assert main(["template", "--framework", "project", "--unit", "洪山区档案馆", "--code", "420111-DAG", "--year", "2022",
                 "--stage", "申报", "--out", str(forms), "--key", str(key), "-q"]) == 0
    [blank] = forms.glob("*.xlsx")
    filled = fill(blank, tmp_path / "申报.xlsx", [dict(good_project(name="档案数字化"), fiscal=50)])
    out = tmp_path / "r.json"
    assert main(["check", str(filled), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--year", "2023", "--key", str(key), "-q"]) == 1
    (result,) = json.loads(out.read_text(encoding="utf-8"))
    (f,) = [f for f in result["findings"] if f["code"] == "YEAR_MISMATCH"]
    assert "是 2022 年度的绩效目标申报表，本次检查的是 2023 年度" in f["message"] and "用下发的 2023 年度申报表填写" in f["message"]
    assert "自评表" not in f["message"]
