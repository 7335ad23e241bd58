"""The generated templates, as staff and finance would meet them in a spreadsheet program."""

from __future__ import annotations

import random
import zipfile
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils.cell import range_boundaries

from fillgen import department_values, project_values
from conftest import BLANK_PROJECT, WUCHANG, WUHAN
from xltool.template.fill import write_filled
from xltool.core.framework import NOT_APPLICABLE, load_framework
from xltool.template import plan_for, template_filename
from xltool.template.layout import SHEET_BUDGET, SHEET_INDICATORS, SHEET_LISTS, SHEET_META, SHEET_SCORES, a1, form_sheet_name, project_form_rows

UNITS = {"wuhan_template": WUHAN, "wuchang_template": WUCHANG, "blank_project_template": BLANK_PROJECT}


def _covered(sqref_ranges) -> set[tuple[int, int]]:
    cells = set()
    for rng in sqref_ranges:
        min_col, min_row, max_col, max_row = range_boundaries(str(rng))
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                cells.add((r, c))
    return cells


@pytest.mark.parametrize("fixture", list(UNITS))
def test_every_input_is_unlocked_validated_and_named_and_everything_else_locked(fixture, request):
    path = request.getfixturevalue(fixture)
    plan = plan_for(UNITS[fixture])
    wb = openpyxl.load_workbook(path)
    named: dict[str, set] = {}
    for name, dn in wb.defined_names.items():
        for sheet, ref in dn.destinations:
            named.setdefault(sheet, set()).update(_covered([ref.replace("$", "")]))
    expected_inputs: dict[str, set] = {}
    for cell in plan.input_cells():
        for k in range(cell.span):
            expected_inputs.setdefault(cell.sheet, set()).add((cell.row + 1, cell.col + 1 + k))
    total_inputs = 0
    for ws in wb.worksheets:
        validated = set()
        for dv in ws.data_validations.dataValidation:
            assert dv.promptTitle and dv.prompt, f"{ws.title}!{dv.sqref} 缺少中文输入提示"
            assert dv.errorTitle and dv.error, f"{ws.title}!{dv.sqref} 缺少出错警告"
            validated |= _covered(dv.sqref.ranges)
        unlocked = set()
        for row in ws.iter_rows():
            for c in row:
                if c.protection.locked is False:
                    unlocked.add((c.row, c.column))
                elif c.value is not None:
                    assert (c.row, c.column) not in expected_inputs.get(ws.title, set())
        assert unlocked == expected_inputs.get(ws.title, set()), ws.title
        assert unlocked <= validated, f"{ws.title}: 未设置数据验证的输入格 {sorted(unlocked - validated)[:5]}"
        tops = {(c.row + 1, c.col + 1) for c in plan.input_cells() if c.sheet == ws.title}
        assert tops <= named.get(ws.title, set()), f"{ws.title}: 没有定义名称的输入格 {sorted(tops - named.get(ws.title, set()))[:5]}"
        assert ws.protection.sheet, f"{ws.title} 没有工作表保护"
        total_inputs += len(unlocked)
    assert total_inputs > 100
    assert wb[SHEET_META].sheet_state == "veryHidden"
    assert wb[SHEET_LISTS].sheet_state == "hidden"
    assert [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"][0] == "填表说明"


def test_prefilled_budget_figures_are_locked_values(wuhan_template, wuchang_template):
    ws = openpyxl.load_workbook(wuhan_template)[SHEET_BUDGET]
    assert [ws["B3"].value, ws["B4"].value, ws["B5"].value] == [3203.46, 2814.98, 2814.98]
    assert all(ws[c].protection.locked for c in ("B3", "B4", "B5"))
    ws = openpyxl.load_workbook(wuchang_template)[SHEET_BUDGET]
    # one block per project: 项目名称 row, then 项目资金 (年度资金总额 first, 年初 | 全年预算 | 全年执行)
    assert [ws["C3"].value, ws["D5"].value, ws["C13"].value, ws["D15"].value] == ["档案保护费", 300, "史料编研费", 100]
    assert [ws["B5"].value, ws["B6"].value, ws["B7"].value, ws["B8"].value] == ["年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金"]
    assert ws["D5"].protection.locked and not ws["E5"].protection.locked  # executed is theirs to fill
    assert not ws["C5"].protection.locked and not ws["D6"].protection.locked  # 年初预算数 and the 其中 rows too


def test_blank_template_has_input_budget_and_project_names(blank_project_template):
    ws = openpyxl.load_workbook(blank_project_template)[SHEET_BUDGET]
    assert ws["C3"].value is None and ws["C3"].protection.locked is False
    assert ws["D5"].protection.locked is False


def test_print_setup_and_widths(wuchang_template):
    wb = openpyxl.load_workbook(wuchang_template)
    ws = wb[SHEET_INDICATORS]
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    # The 三级指标 column fits a Chinese heading: more than xlsxwriter's Latin autofit would give.
    assert ws.column_dimensions["C"].width >= 30


def test_meta_sheet_identifies_the_template(wuchang_template):
    ws = openpyxl.load_workbook(wuchang_template)[SHEET_META]
    meta = {r[0].value: r[1].value for r in ws.iter_rows()}
    assert meta["framework"] == "project" and meta["framework_version"] == "2020.1"
    assert meta["unit_name"] == "武昌区档案馆" and meta["year"] == "2020" and meta["kind"] == "project"
    assert len(meta["fingerprint"]) == 32 and len(meta["template_id"]) == 16


def test_same_inputs_give_the_same_bytes(tmp_path):
    a = write_filled(plan_for(WUCHANG), {}, tmp_path / "a.xlsx").read_bytes()
    b = write_filled(plan_for(WUCHANG), {}, tmp_path / "b.xlsx").read_bytes()
    assert a == b


def test_file_names_carry_unit_and_year():
    assert template_filename(WUHAN) == "2021_武汉市档案馆_部门整体支出绩效自评.xlsx"
    assert template_filename(WUCHANG) == "2020_武昌区档案馆_项目支出绩效自评.xlsx"


def test_conditional_format_marks_rows_needing_a_reason_by_the_framework_rule(wuchang_template, wuhan_template):
    ws = openpyxl.load_workbook(wuchang_template)[SHEET_INDICATORS]
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    # project: the national rule, score (L) below points (J) with the reason (N) empty
    assert "AND(AND(ISNUMBER($L5),ISNUMBER($J5),$L5<$J5),LEN(TRIM($N5))=0)" in rules
    # over-achieved actual values are marked, against the adjusted target (F) when given, else E
    assert any("ROUND($H5*100,6)>=ROUND(IF(LEN(TRIM($F5))=0,$E5,$F5)*120,6)" in f for f in rules)
    # a changed target (F ≠ E) without 调整说明 (O) is marked
    assert "AND(LEN(TRIM($F5))>0,OR(NOT(ISNUMBER($E5)),NOT(ISNUMBER($F5)),$F5<>$E5),LEN(TRIM($O5))=0)" in rules
    ws = openpyxl.load_workbook(wuhan_template)[SHEET_INDICATORS]
    rules = [rule.formula[0] for cf in ws.conditional_formatting for rule in cf.rules]
    assert any('="未达成",LEN(TRIM(' in f for f in rules)  # unit-wide goals are not scored: unmet targets

    from xltool.template.layout import build_plan

    fw = replace(load_framework("project"), reason_rule="target_unmet", reason_above_percent=D(30))
    rules = [cf.formula for cf in build_plan(fw, WUCHANG).conditional if cf.style == "alert" and cf.sheet == SHEET_INDICATORS]
    t = "IF(LEN(TRIM($F5))=0,$E5,$F5)"  # the target that scores: adjusted (F) when given, else 年初 (E)
    assert f'=AND(OR($M5="未达成",AND(OR($D5="≥",$D5=">",$D5="="),ISNUMBER({t}),ISNUMBER($H5),{t}>0,ROUND($H5*100,6)>=ROUND({t}*130,6))),LEN(TRIM($N5))=0)' in rules


# ---------------------------------------------------------------- formulas agree with scoring.py


def _formulas_engine(path: Path):
    import formulas  # the [test] extra installs it
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    out = {}
    for key, value in solution.items():
        key = str(key)
        if "!" not in key:
            continue
        sheet, cell = key.rsplit("!", 1)
        sheet = sheet.split("]", 1)[-1].strip("'")
        try:
            v = value.value[0][0]
        except (AttributeError, IndexError, TypeError):
            continue
        out[(sheet, cell.upper())] = v
    return out


def _cent(value) -> D | None:
    if value is None or value == "" or (hasattr(value, "__class__") and value.__class__.__name__ == "XlError"):
        return None
    return D(repr(float(value))).quantize(D("0.01"))


def _rate(value) -> D | None:
    if value is None or value == "":
        return None
    return D(repr(float(value))).quantize(D("0.0001"))


def _project_cells(plan):
    """Where each expected figure sits: the scores sheet row of project p and its indicator rows."""
    cells = []
    for p in range(1, plan.blocks + 1):
        spec = plan.names[f"PROJ{p}_CALC"]
        cells.append(
            {
                "rate": (SHEET_BUDGET, plan.names[f"PROJ{p}_RATE"].ref.split("!")[1].replace("$", "")),
                "exec": (SHEET_SCORES, plan.names[f"PROJ{p}_CALC_EXEC"].ref.split("!")[1].replace("$", "")),
                "total": (SHEET_SCORES, plan.names[f"PROJ{p}_CALC_TOTAL"].ref.split("!")[1].replace("$", "")),
                "grade": (SHEET_SCORES, plan.names[f"PROJ{p}_CALC_GRADE"].ref.split("!")[1].replace("$", "")),
                "cats": [(SHEET_SCORES, plan.names[f"PROJ{p}_CALC_C{k}"].ref.split("!")[1].replace("$", "")) for k in range(1, 4)],
                "rows": [(SHEET_INDICATORS, a1(r, spec.col)) for r in range(spec.row, spec.last_row + 1)],
                "sources": [(SHEET_BUDGET, _cell(plan, f"PROJ{p}_SRC{k}_RATE")) for k in range(1, len(plan.framework.fund_sources) + 1)],
                "raw": (SHEET_SCORES, _cell(plan, f"PROJ{p}_CALC_RAW")) if plan.framework.not_applicable else None,
                "na_points": (SHEET_SCORES, _cell(plan, f"PROJ{p}_NA_POINTS")) if plan.framework.not_applicable else None,
            }
        )
    return cells


def _form_cells(plan, p):
    """The print form's figures of project p (自评表-p): the same numbers, printed."""
    fw = plan.framework
    rows = project_form_rows(fw)
    sheet = form_sheet_name(fw, p)
    return {
        "rate": (sheet, a1(rows.money + 1, 7)),
        "exec": (sheet, a1(rows.money + 1, 8)),
        "total": (sheet, a1(rows.total, 6)),
        "rows": [(sheet, a1(rows.header + 1 + i, 6)) for i in range(fw.indicator_rows)],
    }


def _cell(plan, name: str) -> str:
    return plan.names[name].ref.split("!")[1].replace("$", "")


def _assert_project_agrees(values, plan, expected, where):
    for p, block in enumerate(expected, start=1):
        form = _form_cells(plan, p)
        assert _rate(values.get(form["rate"])) == block["rate"], (where, "form", form["rate"])
        assert _cent(values.get(form["exec"])) == block["exec_score"], (where, "form", form["exec"])
        assert _cent(values.get(form["total"])) == block["total"], (where, "form", form["total"])
        for cell, score in zip(form["rows"], block["rows"]):
            if score == NOT_APPLICABLE:  # printed as on the input sheet
                assert values.get(cell) == NOT_APPLICABLE, (where, "form", cell)
                continue
            assert _cent(values.get(cell)) == score, (where, "form", cell)
    for block, cells in zip(expected, _project_cells(plan)):
        assert _rate(values.get(cells["rate"])) == block["rate"], where
        assert [_rate(values.get(c)) for c in cells["sources"]] == block["sources"], where  # 其中 rows' rates
        for cell, score in zip(cells["rows"], block["rows"]):
            if score == NOT_APPLICABLE:  # a row that does not apply says so, and has no score
                assert values.get(cell) == NOT_APPLICABLE, (where, cell)
                continue
            assert _cent(values.get(cell)) == score, (where, cell)
        if cells["raw"]:
            assert _cent(values.get(cells["raw"])) == block["raw"], where
            assert _cent(values.get(cells["na_points"])) == block["na_points"], where
        for cell, score in zip(cells["cats"], block["categories"].values()):
            assert _cent(values.get(cell)) == score, (where, cell)
        assert _cent(values.get(cells["total"])) == block["total"], where
        assert (values.get(cells["grade"]) or None) == block["grade"], where  # "" while ungraded


@pytest.fixture(scope="module")
def random_project_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("random_projects")
    files = []
    for seed in range(4):
        rng = random.Random(seed)
        unit = BLANK_PROJECT if seed % 2 else WUCHANG
        if seed == 3:  # the province variant: four 其中 rows, ratio rule, cap, 不适用 rescaled to 100
            unit = replace(BLANK_PROJECT, framework="project_sichuan")
        plan = plan_for(unit)
        values, expected = project_values(plan, rng, rows=14)
        files.append((write_filled(plan, values, folder / f"p{seed}.xlsx"), plan, expected))
    return files


@pytest.fixture(scope="module")
def random_department_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("random_departments")
    files = []
    for seed in range(3):
        plan = plan_for(WUHAN)
        values, expected = department_values(plan, random.Random(100 + seed))
        files.append((write_filled(plan, values, folder / f"d{seed}.xlsx"), plan, expected))
    return files


def _department_cells(plan):
    cell = lambda n: (SHEET_SCORES, plan.names[n].ref.split("!")[1].replace("$", ""))  # noqa: E731
    return {
        "criteria": [cell(f"CALC_C{k}") for k in range(1, len(plan.framework.criteria) + 1)],
        "total": cell("CALC_TOTAL"),
        "grade": cell("CALC_GRADE"),
        "rate": (SHEET_BUDGET, plan.names["RATE_EXECUTION"].ref.split("!")[1].replace("$", "")),
        "initial_rate": (SHEET_BUDGET, plan.names["RATE_INITIAL"].ref.split("!")[1].replace("$", "")),
    }


def _assert_department_agrees(values, plan, expected, where):
    form = form_sheet_name(plan.framework, 1)  # the 评分结果 table of the printed form
    crits = list(expected["criteria"].values())
    for k, score in enumerate(crits):
        assert _cent(values.get((form, a1(4 + k, 4)))) == score, (where, "form", k)
    assert _cent(values.get((form, a1(4 + len(crits), 4)))) == expected["total"], (where, "form total")
    assert (values.get((form, a1(4 + len(crits), 5))) or None) == expected["grade"], (where, "form grade")
    cells = _department_cells(plan)
    for cell, score in zip(cells["criteria"], expected["criteria"].values()):
        assert _cent(values.get(cell)) == score, (where, cell)
    assert _cent(values.get(cells["total"])) == expected["total"]
    assert values.get(cells["grade"]) == expected["grade"]
    assert _rate(values.get(cells["rate"])) == expected["rate"]
    assert _rate(values.get(cells["initial_rate"])) == expected["initial_rate"]


def test_formulas_engine_computes_what_scoring_computes_for_projects(random_project_files):
    for path, plan, expected in random_project_files:
        _assert_project_agrees(_formulas_engine(path), plan, expected, path.name)


def test_formulas_engine_computes_what_scoring_computes_for_the_unit(random_department_files):
    for path, plan, expected in random_department_files:
        _assert_department_agrees(_formulas_engine(path), plan, expected, path.name)


def test_seed_000_figures_in_the_template_formulas(tmp_path):
    plan = plan_for(WUHAN)
    fw = load_framework("department")
    names = [i.name for i in fw.criterion_indicators]
    deducted = {"绩效指标明确性", "基础信息完善性", "完成及时率", "质量达标率", "经济效益", "社会效益", "生态效益", "社会公众或服务对象满意度"}
    deductions = [D("0.5") if n in deducted else D(0) for n in names]
    deductions[names.index("管理制度健全性")] = D("0.5")  # the first: 预算管理's, not 资产管理's
    deductions[names.index("预算调整率")] = D("0.5")  # the first: 投入's, as Wuhan scored it
    path = write_filled(plan, {"CRIT_DEDUCTION": deductions}, tmp_path / "seed000.xlsx")
    values = _formulas_engine(path)
    cells = _department_cells(plan)
    assert [_cent(values[c]) for c in cells["criteria"]] == [19, 29, 24, 23]
    assert _cent(values[cells["total"]]) == 95 and values[cells["grade"]] == "优"
    assert _rate(values[cells["rate"]]) == D("1.0000") and _rate(values[cells["initial_rate"]]) == D("0.8787")


# ---------------------------------------------------------------- LibreOffice, as staff would open it


def _cached_values(path: Path):
    wb = openpyxl.load_workbook(path, data_only=True)
    out = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out[(ws.title, c.coordinate)] = c.value
    return out


@pytest.fixture(scope="module")
def libreoffice_resaved(random_project_files, random_department_files, tmp_path_factory):
    from libreoffice import require_libreoffice, resave_many

    require_libreoffice()
    folder = tmp_path_factory.mktemp("lo")
    sources = [p for p, _pl, _e in random_project_files + random_department_files]
    return dict(zip(sources, resave_many(sources, folder, fmt="xlsx", recalc=True)))


def test_libreoffice_computes_what_scoring_computes(libreoffice_resaved, random_project_files, random_department_files):
    for path, plan, expected in random_project_files:
        _assert_project_agrees(_cached_values(libreoffice_resaved[path]), plan, expected, "LibreOffice " + path.name)
    for path, plan, expected in random_department_files:
        _assert_department_agrees(_cached_values(libreoffice_resaved[path]), plan, expected, "LibreOffice " + path.name)


def test_names_validations_and_protection_survive_a_libreoffice_resave(libreoffice_resaved, random_project_files):
    source, plan, _e = random_project_files[0]
    resaved = openpyxl.load_workbook(libreoffice_resaved[source])
    original = openpyxl.load_workbook(source)
    assert set(plan.names) <= set(resaved.defined_names)
    for ws in original.worksheets:
        assert len(resaved[ws.title].data_validations.dataValidation) >= 1 or not ws.data_validations.dataValidation
        assert resaved[ws.title].protection.sheet
    # LibreOffice has no "very hidden": it keeps the metadata sheet, hidden.
    assert resaved[SHEET_META].sheet_state in ("hidden", "veryHidden")


def test_libreoffice_opens_the_template_without_complaint(wuhan_template, tmp_path):
    from libreoffice import require_libreoffice, resave

    require_libreoffice()
    pdf = resave(wuhan_template, tmp_path, fmt="pdf")
    assert pdf.stat().st_size > 10_000
    with zipfile.ZipFile(wuhan_template) as z:
        assert z.testzip() is None


@pytest.mark.parametrize("unit", [WUHAN, WUCHANG, BLANK_PROJECT], ids=["department", "project", "blank"])
def test_formulas_use_only_functions_every_spreadsheet_program_has(unit):
    from xltool.template.layout import check_formula_functions

    assert check_formula_functions(plan_for(unit)) == set()
