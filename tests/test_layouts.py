"""Template layouts are numbered: a file keeps the layout it was made with, and the checker
rebuilds that layout's formulas, so a template sent out before an upgrade is checked by its own
formulas after it. Layout 2: the print form's 年度指标值 shows a 定性 row's approved wording.
Layout 3: the 二级指标 dropdown lists only the 二级 of the row's 一级."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import json

import openpyxl
import pytest

from test_approved_targets import GOOD, HEADER, QUALITATIVE
from xltool.check.batch import check_file
from xltool.core.model import LAYOUT_VERSION, LAYOUTS
from xltool.template import plan_for, write_plan
from xltool.template.approved import apply_targets, read_targets
from xltool.template.roster import read_roster

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "samples" / "roster.csv"
WORDING = "档案保管安全, 无丢失损毁；全年零事故"
INTEGRITY = ("FORMULA_CHANGED", "FINGERPRINT_MISMATCH", "LABEL_CHANGED", "PREFILL_CHANGED", "TARGET_CHANGED", "NOT_OUR_TEMPLATE")


@pytest.fixture(scope="module")
def unit(tmp_path_factory):
    """武昌区档案馆 with an approved 定性 row (its wording) as 档案保护费's second indicator."""
    csv = tmp_path_factory.mktemp("t") / "批复.csv"
    csv.write_text("\n".join([HEADER, GOOD[0], QUALITATIVE, *GOOD[2:]]) + "\n", encoding="utf-8")
    units = read_roster(ROSTER)
    return next(u for u in apply_targets(units, read_targets(csv, units)) if u.kind == "project")


def _form_cell(path: Path, text: str) -> list[str]:
    """The first project's print form cells whose formula holds `text`."""
    ws = openpyxl.load_workbook(path)["自评表-1"]
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str) and text in c.value]


def test_new_templates_carry_the_current_layout_and_old_ones_are_checked_by_their_own(tmp_path, unit):
    assert unit.layout == LAYOUT_VERSION == max(LAYOUTS)
    new = write_plan(plan_for(unit), tmp_path / "new.xlsx")
    old = write_plan(plan_for(replace(unit, layout=1)), tmp_path / "old.xlsx")
    meta = {r[0].value: r[1].value for r in openpyxl.load_workbook(new)["_meta"].iter_rows() if r[0].value}
    assert meta["layout"] == str(LAYOUT_VERSION)
    assert "layout" not in {r[0].value for r in openpyxl.load_workbook(old)["_meta"].iter_rows()}  # as layout 1 was written
    for path in (new, old):
        result = check_file(path)
        assert result.status != "unreadable"
        assert [f.code for f in result.findings if f.code in INTEGRITY] == [], path.name
    # the two differ exactly where layout 2 changed the print form
    assert _form_cell(old, '"定性","定性"') and not _form_cell(new, '"定性","定性"')


def test_the_print_form_shows_a_qualitative_rows_approved_wording(tmp_path, unit):
    """As LibreOffice computes the form: the wording in layout 2, the word 定性 in layout 1."""
    from libreoffice import require_libreoffice, resave_many

    require_libreoffice()
    new = write_plan(plan_for(unit), tmp_path / "new.xlsx")
    old = write_plan(plan_for(replace(unit, layout=1)), tmp_path / "old.xlsx")
    shown = []
    for path in resave_many([new, old], tmp_path / "computed", fmt="xlsx", recalc=True):
        ws = openpyxl.load_workbook(path, data_only=True)["自评表-1"]
        row = next(r for r in ws.iter_rows(values_only=True) if "档案保管安全" in r)
        shown.append(row[3])  # 年度指标值
    assert shown == [WORDING, "定性"]


def test_a_template_from_a_newer_release_says_to_upgrade(tmp_path, unit):
    path = write_plan(plan_for(replace(unit, layout=max(LAYOUTS) + 1)), tmp_path / "newer.xlsx")
    result = check_file(path)
    assert result.status == "unreadable"
    [found] = result.findings
    assert found.code == "TEMPLATE_LAYOUT_NEWER"
    assert "升级" in found.message and str(max(LAYOUTS) + 1) in found.message


# ---------------------------------------------------------------- layout 3: 二级 by 一级

LAYOUT2 = Path(__file__).resolve().parent / "layout2"  # the samples as the layout-2 release filled them
KEY = ROOT / "samples" / "demo.key"


def test_layout_2_returns_get_exactly_the_report_the_layout_2_release_gave(tmp_path):
    """The bundled samples as the release before layout 3 wrote them, and its own `xltool check
    --json` of them (checked_by_layout2_release.json): this release reports them alike, finding
    for finding, score for score."""
    from xltool.cli import main

    files = sorted(LAYOUT2.glob("*.xlsx"))
    assert len(files) == 3 and all(_meta(f)["layout"] == "2" for f in files)
    out = tmp_path / "report.json"
    assert main(["check", str(LAYOUT2), "--key", str(KEY), "--json", str(out), "--out", str(tmp_path / "汇总.xlsx"), "-q"]) == 1
    report = json.loads(out.read_text(encoding="utf-8"))
    for item in report:
        item["file"] = Path(item["file"]).name
    before = json.loads((LAYOUT2 / "checked_by_layout2_release.json").read_text(encoding="utf-8"))
    assert report == before


def _meta(path: Path) -> dict:
    return {r[0].value: r[1].value for r in openpyxl.load_workbook(path)["_meta"].iter_rows() if r[0].value}


def _level2_rules(path: Path) -> set[str]:
    ws = openpyxl.load_workbook(path)["绩效指标"]
    return {v.formula1 for v in ws.data_validations.dataValidation if str(v.sqref).startswith("B")}


@pytest.mark.parametrize("kind", ["project", "department"])
def test_layout_3_lists_each_level1s_level2_under_a_name_and_layout_2_keeps_the_full_list(tmp_path, kind):
    unit = next(u for u in read_roster(ROSTER) if u.kind == kind)
    new = write_plan(plan_for(unit), tmp_path / "new.xlsx")
    old = write_plan(plan_for(replace(unit, layout=2)), tmp_path / "old.xlsx")
    book = openpyxl.load_workbook(new)
    lists = book["_lists"]
    named = {}
    for name in book.defined_names:
        if name.startswith("二级_"):
            [(sheet, ref)] = list(book.defined_names[name].destinations)
            assert sheet == "_lists"
            cells = lists[ref.replace("$", "")]
            named[name] = [row[0].value for row in (cells if isinstance(cells, tuple) else ((cells,),))]
    satisfaction = "服务对象满意度指标" if kind == "project" else "社会公众或服务对象满意度指标"
    assert named == {
        "二级_产出指标": ["数量指标", "质量指标", "时效指标", "成本指标"],
        "二级_效益指标": ["经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"],
        "二级_满意度指标": [satisfaction],
    }
    # every block's 二级 column: the row's own 一级 (column A) picks the list
    rules = _level2_rules(new)
    assert len(rules) == plan_for(unit).blocks and all(r.startswith('INDIRECT("二级_"&$A') for r in rules)
    # layout 2 as before: no such names, the full list of 二级 for every row
    old_book = openpyxl.load_workbook(old)
    assert not [n for n in old_book.defined_names if n.startswith("二级_")]
    assert _level2_rules(old) == {"'_lists'!$C$1:$C$9"}
    for path in (new, old):
        assert not {f.code for f in check_file(path).findings} & set(INTEGRITY)


def test_a_deleted_dropdown_name_is_no_finding(tmp_path):
    """The per-一级 names feed the dropdown only; the checker reads nothing through them (the
    rules check each pair: LEVEL2_MISMATCH), so a file whose names were deleted reads alike."""
    unit = next(u for u in read_roster(ROSTER) if u.kind == "project")
    path = write_plan(plan_for(unit), tmp_path / "t.xlsx")
    book = openpyxl.load_workbook(path)
    for name in [n for n in book.defined_names if n.startswith("二级_")]:
        del book.defined_names[name]
    del book.defined_names["PROJ1_NOTE"]  # a name the checker reads through: still reported
    book.save(tmp_path / "edited.xlsx")
    missing = [f for f in check_file(tmp_path / "edited.xlsx").findings if f.code == "NAME_MISSING"]
    assert [f.expected for f in missing] == ["PROJ1_NOTE"]


def test_a_level1_that_cannot_name_a_range_keeps_the_full_list(tmp_path):
    from xltool.core.framework import load_framework
    from xltool.template.layout import build_plan, dependent_level2

    fw = load_framework("project")
    odd = replace(fw, categories=(replace(fw.categories[0], name="产出指标（数量）"), *fw.categories[1:]))
    assert dependent_level2(fw, 3) and not dependent_level2(fw, 2) and not dependent_level2(odd, 3)
    unit = next(u for u in read_roster(ROSTER) if u.kind == "project")
    plan = build_plan(odd, replace(unit, layout=3))
    assert not [n for n in plan.names if n.startswith("二级_")]
    assert {c.validation.source for c in plan.input_cells() if c.field == "二级指标"} == {"='_lists'!$C$1:$C$9"}
