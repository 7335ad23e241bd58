"""Template layouts are numbered: a file keeps the layout it was made with, and the checker
rebuilds that layout's formulas, so a template sent out before an upgrade is checked by its own
formulas after it. Layout 2: the print form's 年度指标值 shows a 定性 row's approved wording."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

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
