"""The print form (自评表): one page per project as LibreOffice prints it, its labels in the order
of the official form, the figures of the filled samples, and its formulas guarded like the rest.

The other half of the form's promise — its figures equal scoring.py on random fills, in the
formulas engine and in LibreOffice — is in tests/test_template.py (_assert_project_agrees and
_assert_department_agrees check the form's cells as well)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from cases import edit_sheet, number_cell, replace_cell, text_cell, write_project
from conftest import BLANK_PROJECT, WUCHANG, WUHAN
from xltool.check.batch import check_file
from xltool.template import plan_for, write_plan
from xltool.template.layout import SHEET_INFO, a1, form_sheet_name, is_form_sheet, project_form_rows
from xltool.template.roster import read_roster

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT = ROOT / "samples" / "returned" / "2020_武昌区档案馆_项目支出绩效自评（已填报）.xlsx"
SAMPLE_UNIT = ROOT / "samples" / "returned" / "2021_武汉市档案馆_部门整体支出绩效自评（已填报）.xlsx"

# The official form's labels, in the order a reader meets them on the printed page.
PROJECT_LABELS = (
    "项目支出绩效自评表（", "项目名称", "主管部门", "实施单位",
    "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分",
    "项目资金", "年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金",
    "预期目标", "实际完成情况", "年度",
    "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施",
    "总分", "项目负责人", "财务负责人", "填报人", "联系电话", "填报日期", "实施单位（盖章）",
)
UNIT_LABELS = (
    "部门整体支出绩效自评表（", "部门（单位）名称", "评分结果", "评价准则", "准则分值", "评价得分", "评价等级",
    "投入", "过程", "产出", "效果", "综合绩效", "预算执行情况", "整体支出预算执行率", "年初预算完成率",
    "年度目标完成情况", "年度目标", "单位负责人", "财务负责人", "填报人", "联系电话", "填报日期", "单位（盖章）",
)


def _in_order(text: str, labels) -> list[str]:
    """The labels not found after the previous one (empty when all are there, in order)."""
    missing, pos = [], 0
    for label in labels:
        found = text.find(label, pos)
        if found < 0:
            missing.append(label)
        else:
            pos = found + len(label)
    return missing


def _pages(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return out.split("\f")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """Each generated template and both filled samples, printed to PDF by LibreOffice."""
    from libreoffice import require_libreoffice, resave_many

    require_libreoffice()
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext is missing: apt-get install poppler-utils")
    folder = tmp_path_factory.mktemp("print")
    sources = {
        "wuchang": write_plan(plan_for(WUCHANG), folder / "wuchang.xlsx"),
        "blank": write_plan(plan_for(BLANK_PROJECT), folder / "blank.xlsx"),
        "wuhan": write_plan(plan_for(WUHAN), folder / "wuhan.xlsx"),
        "sichuan": write_plan(plan_for(SICHUAN), folder / "sichuan.xlsx"),  # four 其中 rows, 不适用
        "sample_project": Path(shutil.copy(SAMPLE_PROJECT, folder / "sample_project.xlsx")),
        "sample_unit": Path(shutil.copy(SAMPLE_UNIT, folder / "sample_unit.xlsx")),
        # an approved mid-year adjustment of the first target: the form prints the adjusted one
        "adjusted": write_project(folder / "adjusted.xlsx", PROJ1_ADJUSTED=[150000, None, None, None], PROJ1_ADJUST_NOTE=["年中批复调增", None, None, None]),
    }
    pdfs = resave_many(list(sources.values()), folder / "pdf", fmt="pdf", recalc=True)
    return {key: _pages(pdf) for key, pdf in zip(sources, pdfs)}


def _form_pages(pages, title):
    return [p for p in pages if title in p]


SICHUAN = replace(WUCHANG, framework="project_sichuan")


@pytest.mark.parametrize("key, unit", [("wuchang", WUCHANG), ("blank", BLANK_PROJECT), ("sample_project", WUCHANG), ("sichuan", SICHUAN)])
def test_each_project_prints_on_exactly_one_page_with_the_official_labels_in_order(printed, key, unit):
    plan = plan_for(unit)
    forms = _form_pages(printed[key], "项目支出绩效自评表（")
    assert len(forms) == plan.blocks == len([s for s in plan.sheets if is_form_sheet(s.name)])
    labels = PROJECT_LABELS
    if key == "sichuan":  # the framework's own fund-source rows
        sources = plan.framework.fund_sources
        # (the merged 项目资金 label is centred on the taller block: not in the same text order)
        labels = tuple(x for x in labels if x not in ("项目资金", "其中：当年财政拨款", "上年结转资金", "其他资金"))
        at = labels.index("年度资金总额") + 1
        labels = labels[:at] + ("其中：" + sources[0], *sources[1:]) + labels[at:]
    for page in forms:
        # the whole form on this one page: from its title to the stamp line
        assert _in_order(page, labels) == [], page
        assert page.count("项目支出绩效自评表（") == 1 and "项目资金" in page


def test_the_unit_form_prints_on_one_page_with_its_tables(printed):
    for key in ("wuhan", "sample_unit"):
        forms = _form_pages(printed[key], "部门整体支出绩效自评表（")
        assert len(forms) == 1
        assert _in_order(forms[0], UNIT_LABELS) == [], forms[0]


def test_the_printed_sample_holds_the_seed_figures(printed):
    first, second = _form_pages(printed["sample_project"], "项目支出绩效自评表（")
    assert "2020年度" in first and "档案保护费" in first and "武昌区档案馆" in first
    money = next(line for line in first.splitlines() if "年度资金总额" in line).split()
    assert money[-5:] == ["300.00", "214.68", "10.00", "71.56%", "7.16"]
    money = next(line for line in second.splitlines() if "年度资金总额" in line).split()
    assert money[-5:] == ["100.00", "76.00", "10.00", "76.00%", "7.60"]
    # an indicator row as printed: sign, target and unit in one cell, then actual, points, score
    assert "≥140000幅" in first and "149638幅" in first
    total = next(line for line in first.splitlines() if "总分" in line).split()
    assert total[1:3] == ["100.00", "94.16"]
    (unit,) = _form_pages(printed["sample_unit"], "部门整体支出绩效自评表（")
    criteria = {line.split()[0]: line.split()[1:] for line in unit.splitlines() if line.split()[:1] in (["投入"], ["过程"], ["产出"], ["效果"], ["综合绩效"])}
    assert criteria == {"投入": ["20.00", "19.00", "优"], "过程": ["30.00", "29.00", "优"], "产出": ["25.00", "24.00", "优"], "效果": ["25.00", "23.00", "优"], "综合绩效": ["100.00", "95.00", "优"]}
    assert "整体支出预算执行率 =（决算数 2,814.98 万元 ÷ 调整预算数 2,814.98 万元）× 100% = 100.00%" in unit
    assert "年初预算完成率 =（决算数 2,814.98 万元 ÷ 年初预算数 3,203.46 万元）× 100% = 87.87%" in unit


def test_the_printed_form_shows_the_adjusted_target_and_the_fund_rows(printed):
    first = _form_pages(printed["adjusted"], "项目支出绩效自评表（")[0]
    assert "≥150000幅" in first and "≥140000幅" not in first
    page = _form_pages(printed["sample_project"], "项目支出绩效自评表（")[0]
    source = next(line for line in page.splitlines() if "当年财政拨款" in line).split()
    assert source[-6:] == ["300.00", "300.00", "214.68", "—", "71.56%", "—"]
    assert "档案馆藏档案" in page  # 预期目标, from the roster


def test_a_blank_template_prints_no_figure_it_does_not_know(printed):
    (page,) = _form_pages(printed["blank"], "项目支出绩效自评表（")[:1]
    money = next(line for line in page.splitlines() if "年度资金总额" in line).split()
    assert money[-2:] == ["年度资金总额", "10.00"]  # only the row's points: no 0.00, no 0.00%
    total = next(line for line in page.splitlines() if "总分" in line).split()
    assert total == ["总分"]


def test_every_form_cell_is_a_locked_formula_or_label_on_a_protected_one_page_portrait_sheet():
    for unit in (WUCHANG, WUHAN):
        plan = plan_for(unit)
        forms = [s for s in plan.sheets if is_form_sheet(s.name)]
        assert forms and all(s.one_page and not s.landscape and s.protect and s.state == "visible" for s in forms)
        cells = [c for c in plan.cells if is_form_sheet(c.sheet)]
        assert cells and all(c.locked and c.validation is None for c in cells)
        # no figure typed into the form: every number on it is a fixed label (points) or a formula
        assert {c.value for c in cells if c.role == "label" and isinstance(c.value, (int, float)) and not isinstance(c.value, bool)} <= {100, 10, 20, 25, 30, 1, 2, 3, 4, 5, 6}


def test_a_number_pasted_over_a_form_figure_is_a_changed_formula(tmp_path):
    plan = plan_for(WUCHANG)
    rows = project_form_rows(plan.framework)
    sheet, cell = form_sheet_name(plan.framework, 1), a1(rows.total, 6)
    raw = write_project(tmp_path / "raw.xlsx")
    path = edit_sheet(raw, tmp_path / "pasted.xlsx", sheet, lambda xml: replace_cell(xml, cell, number_cell(cell, 100)))
    result = check_file(path)
    changed = [(f.code, f.sheet, f.cell) for f in result.findings if f.code == "FORMULA_CHANGED"]
    assert changed == [("FORMULA_CHANGED", sheet, cell)]
    assert [(f.code, f.sheet, f.cell) for f in check_file(raw).findings if f.sheet == sheet] == []


def test_the_department_comes_from_the_roster_locked_or_is_typed_by_the_archive(tmp_path):
    roster = tmp_path / "名册.csv"
    roster.write_text("单位名称,单位编码,年度,类型,项目名称,全年预算数,主管部门\n武昌区档案馆,420106-DAG,2020,项目,档案保护费,300,武昌区人民政府\n", encoding="utf-8")
    (unit,) = read_roster(roster)
    assert unit.department == "武昌区人民政府"
    plan = plan_for(unit)
    spec = plan.names["INFO_DEPARTMENT"]
    cell = next(c for c in plan.cells if (c.sheet, c.row, c.col) == (spec.sheet, spec.row, spec.col))
    assert (cell.role, cell.value) == ("prefill", "武昌区人民政府")
    blank = plan_for(replace(unit, department=""))
    cell = next(c for c in blank.cells if (c.sheet, c.row, c.col) == (spec.sheet, spec.row, spec.col))
    assert cell.role == "input" and cell.validation is not None
    # the form prints it, and a checked file whose department was retyped says so
    path = write_plan(plan, tmp_path / "t.xlsx")
    form = [c for c in plan.cells if c.sheet == form_sheet_name(plan.framework, 1) and c.row == 2 and c.col == 2][0]
    assert "基本信息" in form.value and form.role == "formula"
    changed = edit_sheet(path, tmp_path / "changed.xlsx", SHEET_INFO, lambda xml: replace_cell(xml, a1(spec.row, spec.col), text_cell(a1(spec.row, spec.col), "别的部门")))
    codes = [(f.code, f.cell) for f in check_file(changed).findings if f.sheet == SHEET_INFO]
    assert ("PREFILL_CHANGED", a1(spec.row, spec.col)) in codes
