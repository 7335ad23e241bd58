"""Templates made with an approved targets file (issue 12): the approved rows pre-filled and locked,
the rest of the row left to the staff; the fast path still the plain writer's bytes; a target
changed anyway is TARGET_CHANGED on its cell, naming the row, the old and the new value."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from test_approved_targets import GOOD, HEADER
from xltool import check_files, generate_templates
from xltool.cli import main
from xltool.core.approved import ApprovedIndicator
from xltool.core.model import ProjectInfo
from xltool.template import plan_for
from xltool.template.approved import apply_targets, read_targets
from xltool.template.fast import TemplateWriter
from xltool.template.layout import SHEET_INDICATORS, indicator_columns
from xltool.template.roster import RosterError, read_roster
from xltool.template.writer import _render

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "samples" / "roster.csv"
KEY = ROOT / "samples" / "demo.key"
LOCKED_KEYS = ("level1", "level2", "name", "sign", "target", "unit", "points")
STAFF_KEYS = ("actual", "band", "score", "reason", "adjust_note")


def _targets(tmp_path, lines=GOOD) -> Path:
    path = tmp_path / "批复.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("targets")
    paths = generate_templates(ROSTER, tmp / "out", key=KEY, targets=_targets(tmp))
    return {("project" if "项目" in p.name else "department"): p for p in paths}


def _cols(kind):
    return {key: i + 1 for i, (key, *_rest) in enumerate(indicator_columns(kind))}


def test_every_approved_cell_is_prefilled_locked_and_grey(made):
    ws = openpyxl.load_workbook(made["project"])[SHEET_INDICATORS]
    assert ws.protection.sheet
    cols = _cols("project")
    first = 5  # block 1: title row 3, header row 4
    rows = [line.split(",") for line in GOOD if line.startswith("420106")]
    for i, fields in enumerate(rows):
        r = first + i
        for key in LOCKED_KEYS:
            cell = ws.cell(r, cols[key])
            assert cell.protection.locked, (r, key)
            assert cell.fill.fgColor.rgb not in (None, "00000000"), (r, key)
        for key in STAFF_KEYS:
            assert not ws.cell(r, cols[key]).protection.locked, (r, key)
        assert ws.cell(r, cols["name"]).value == fields[5]
        assert ws.cell(r, cols["points"]).value == int(fields[9])
    # "95%以上" with a blank sign: ≥ 95 %; "1万以上" 人次: ≥ 10000, with its approved adjustment locked too
    assert [ws.cell(6, cols[k]).value for k in ("sign", "target", "unit")] == ["≥", 95, "%"]
    assert [ws.cell(7, cols[k]).value for k in ("target", "adjusted")] == [10000, 12000]
    assert ws.cell(7, cols["adjusted"]).protection.locked
    assert not ws.cell(5, cols["adjusted"]).protection.locked  # no adjustment approved: staff may propose one
    # the rows after the approved ones stay inputs
    assert not ws.cell(first + len(rows), cols["name"]).protection.locked
    # 预期目标 from the file, locked on the budget sheet
    budget = openpyxl.load_workbook(made["project"])["预算执行"]
    plan_cells = [c for row in budget.iter_rows() for c in row if c.value == "完成馆藏档案保护与修复"]
    assert plan_cells and plan_cells[0].protection.locked


def test_an_annual_goal_gets_its_name_and_rows_locked(made):
    ws = openpyxl.load_workbook(made["department"])[SHEET_INDICATORS]
    cols = _cols("department")
    assert ws.cell(3, 3).value == "提升档案服务能力" and ws.cell(3, 3).protection.locked
    assert [ws.cell(5, cols[k]).value for k in ("name", "sign", "target", "unit")] == ["档案整理", "≥", 41000, "册"]
    assert all(ws.cell(5, cols[k]).protection.locked for k in ("level1", "name", "sign", "target", "unit"))


def test_the_untouched_template_has_no_integrity_finding(made):
    for result in check_files(list(made.values()), key=KEY):
        codes = {f.code for f in result.findings}
        assert not codes & {"TARGET_CHANGED", "PREFILL_CHANGED", "LOCKED_CHANGED", "FINGERPRINT_MISMATCH", "META_TAMPERED"}, codes


def test_a_target_changed_with_openpyxl_is_target_changed_on_its_cell(made, tmp_path):
    wb = openpyxl.load_workbook(made["project"])
    ws = wb[SHEET_INDICATORS]
    ws.protection.sheet = False  # protection removed, the target lowered, protection put back
    cols = _cols("project")
    ws.cell(6, cols["target"]).value = 80  # 修复合格率 95 → 80
    ws.protection.sheet = True
    edited = tmp_path / made["project"].name
    wb.save(edited)
    [result] = check_files([edited], key=KEY)
    found = [f for f in result.findings if f.code == "TARGET_CHANGED"]
    assert [(f.sheet, f.cell) for f in found] == [(SHEET_INDICATORS, f"{openpyxl.utils.get_column_letter(cols['target'])}6")]
    assert found[0].severity == "error"
    assert "修复合格率" in found[0].message and "95" in found[0].message and "80" in found[0].message
    assert "第 6 行" in found[0].message


def test_targets_errors_are_all_reported_before_any_template(tmp_path, capsys):
    bad = _targets(tmp_path, [
        "999999,档案保护费,,产出指标,数量指标,档案修复,≥,25,卷,20,,",
        "420106-DAG,没有的项目,,产出指标,数量指标,档案修复,≥,25,卷,20,,",
        "420106-DAG,档案保护费,,产出指标,数量指标,档案修复,≥,25,卷,20,,",
    ])
    out = tmp_path / "out"
    code = main(["template", "--roster", str(ROSTER), "--targets", str(bad), "-o", str(out), "--key", str(KEY), "-q"])
    err = capsys.readouterr().err
    assert code != 0
    assert "999999" in err and "没有的项目" in err and "分值合计" in err
    assert not out.exists() or not any(out.iterdir())
    with pytest.raises(RosterError):
        generate_templates(ROSTER, tmp_path / "lib", key=KEY, targets=bad)
    assert not (tmp_path / "lib").exists() or not any((tmp_path / "lib").iterdir())


def test_the_cli_writes_the_targets(tmp_path):
    out = tmp_path / "out"
    assert main(["template", "--roster", str(ROSTER), "--targets", str(_targets(tmp_path)), "-o", str(out), "--key", str(KEY), "-q"]) == 0
    project = next(out.glob("*项目*.xlsx"))
    assert openpyxl.load_workbook(project)[SHEET_INDICATORS].cell(5, 3).value == "档案修复"


def _plain(plan, key) -> bytes:
    buffer = io.BytesIO()
    _render(plan, buffer, {}, key)
    return buffer.getvalue()


def test_the_fast_path_makes_the_plain_writers_bytes_with_per_unit_targets(tmp_path):
    units = apply_targets(read_roster(ROSTER), read_targets(_targets(tmp_path), read_roster(ROSTER)))
    project = next(u for u in units if u.kind == "project")
    department = next(u for u in units if u.kind == "department")

    def other(unit, k):  # the same approved shape, other values: patched from the skeleton
        if unit.kind == "project":
            projects = tuple(
                replace(p, approved=tuple(replace(i, name=f"{i.name}{k}", target=i.target + k, points=i.points) for i in p.approved))
                for p in unit.projects
            )
            return replace(unit, name=f"第{k}档案馆", projects=projects)
        goals = tuple((f"{name}{k}", tuple(replace(i, target=i.target + k, name=f"指标{k}") for i in rows)) for name, rows in unit.goals)
        return replace(unit, name=f"第{k}档案馆", goals=goals)

    key = b"k" * 32
    writer = TemplateWriter(key)
    variants = [project, other(project, 1), other(project, 2), department, other(department, 3), other(department, 4),
                replace(project, projects=(ProjectInfo("档案保护费", D(300)),))]  # the same unit without targets
    for unit in variants:
        plan = plan_for(unit)
        assert writer.render(plan) == _plain(plan, key), unit.name
    assert writer.fast >= 3  # units of one approved shape are patched, not each rendered again


def test_the_signed_meta_carries_the_approved_rows(made):
    from xltool.check.reader import unit_from_meta

    wb = openpyxl.load_workbook(made["project"])
    meta = {row[0].value: row[1].value for row in wb["_meta"].iter_rows() if row[0].value}
    unit = unit_from_meta(meta)
    approved = unit.projects[0].approved
    assert [i.name for i in approved] == ["档案修复", "修复合格率", "线下查档利用人数", "服务对象满意度"]
    assert approved[2] == ApprovedIndicator(4, "效益指标", "社会效益指标", "线下查档利用人数", "≥", D(10000), "人次", D(30), D(12000))


def _check_json(tmp_path, paths, *extra) -> dict:
    out = tmp_path / "r.json"
    main(["check", *map(str, paths), "--key", str(KEY), "-q", "-j", "1", "-o", str(tmp_path / "汇总.xlsx"), "--json", str(out), *extra])
    data = json.loads(out.read_text(encoding="utf-8"))
    files = data["files"] if isinstance(data, dict) else data
    return {Path(f["file"]).name: f["findings"] for f in files}


def test_check_with_the_targets_file_compares_with_it(made, tmp_path, clean_env):
    targets = _targets(tmp_path)
    plain = _check_json(tmp_path, [made["project"]], "--roster", str(ROSTER))  # the roster has no targets: the signed ones stand
    assert not [f for fs in plain.values() for f in fs if f["code"] in ("PREFILL_CHANGED", "TARGET_CHANGED")]
    same = _check_json(tmp_path, [made["project"]], "--roster", str(ROSTER), "--targets", str(targets))
    assert not [f for fs in same.values() for f in fs if f["code"] in ("PREFILL_CHANGED", "TARGET_CHANGED")]
    raised = tmp_path / "raised.csv"  # finance's file says 96 for 修复合格率; the template carries 95
    raised.write_text(targets.read_text(encoding="utf-8").replace("修复合格率,,95%以上,,", "修复合格率,≥,96,%,"), encoding="utf-8")
    found = [f for fs in _check_json(tmp_path, [made["project"]], "--roster", str(ROSTER), "--targets", str(raised)).values()
             for f in fs if f["code"] == "TARGET_CHANGED"]
    assert [(f["sheet"], f["cell"]) for f in found] == [(SHEET_INDICATORS, "E6")]
    assert "96（批复表）" in found[0]["message"] and "修复合格率" in found[0]["message"]


def test_the_samples_targets_file_is_the_seed_and_fits_the_returned_sample(tmp_path):
    """samples/approved_targets.csv reads cleanly; its targets are those the filled seed-001 workbook carries."""
    units = read_roster(ROSTER)
    blocks = read_targets(ROOT / "samples" / "approved_targets.csv", units)
    assert {k: len(b.indicators) for k, b in blocks.items()} == {("420106-DAG", "档案保护费"): 10, ("420106-DAG", "史料编研费"): 8}
    returned = next((ROOT / "samples" / "returned").glob("2020_武昌区档案馆*.xlsx"))
    ws = openpyxl.load_workbook(returned)[SHEET_INDICATORS]
    cols = _cols("project")
    first = 5
    for b, name in enumerate(("档案保护费", "史料编研费")):
        for i, ind in enumerate(blocks[("420106-DAG", name)].indicators):
            r = first + b * (plan_for(units[1]).framework.indicator_rows + 3) + i
            assert ws.cell(r, cols["name"]).value == ind.name
            target = ws.cell(r, cols["target"]).value
            assert (None if target is None else D(str(target))) == ind.target, (name, ind.name)
            assert D(str(ws.cell(r, cols["points"]).value)) == ind.points


def test_a_qualitative_rows_approved_wording_is_prefilled_locked_and_whole(tmp_path):
    """The 定性 wording finance approved is the row's 年初指标值: grey, locked, wrapped in a row tall
    enough to show it, carried in the signed `_meta`, and TARGET_CHANGED when altered."""
    from test_approved_targets import QUALITATIVE

    from xltool.check.reader import unit_from_meta

    paths = generate_templates(ROSTER, tmp_path / "out", key=KEY, targets=_targets(tmp_path, [GOOD[0], QUALITATIVE, *GOOD[2:]]))
    project = next(p for p in paths if "项目" in p.name)
    wb = openpyxl.load_workbook(project)
    ws = wb[SHEET_INDICATORS]
    cols = _cols("project")
    cell = ws.cell(6, cols["target"])
    assert (ws.cell(6, cols["sign"]).value, cell.value) == ("定性", "档案保管安全, 无丢失损毁；全年零事故")
    assert cell.protection.locked and cell.alignment.wrap_text and cell.fill.fgColor.rgb not in (None, "00000000")
    assert ws.row_dimensions[6].height >= 45  # 17 characters in an 11-wide column: three lines
    meta = {row[0].value: row[1].value for row in wb["_meta"].iter_rows() if row[0].value}
    assert unit_from_meta(meta).projects[0].approved[1].wording == "档案保管安全, 无丢失损毁；全年零事故"
    [result] = check_files([project], key=KEY)
    assert [f.code for f in result.findings if f.code.endswith("CHANGED")] == []
    ws.cell(6, cols["target"]).value = "基本安全"
    wb.save(tmp_path / "改.xlsx")
    [result] = check_files([tmp_path / "改.xlsx"], key=KEY)
    found = [f for f in result.findings if f.code == "TARGET_CHANGED"]
    assert [(f.cell, f.seen) for f in found] == [(f"{openpyxl.utils.get_column_letter(cols['target'])}6", "基本安全")]
    assert "档案保管安全, 无丢失损毁；全年零事故" in found[0].message


def test_a_qualitative_rows_wording_is_its_target_in_every_output(tmp_path):
    """The summary's 评分明细, the JSON, the export's kpi_val and the report draft show a 定性 row's
    approved wording as its target (not a blank or the word 定性)."""
    from docx import Document
    from test_approved_targets import QUALITATIVE

    wording = "档案保管安全, 无丢失损毁；全年零事故"
    paths = generate_templates(ROSTER, tmp_path / "out", key=KEY, targets=_targets(tmp_path, [GOOD[0], QUALITATIVE, *GOOD[2:]]))
    project = next(p for p in paths if "项目" in p.name)
    out = tmp_path / "结果"
    code = main(["check", str(project), "--key", str(KEY), "-o", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--export", str(out / "导出"), "--reports", str(out / "初稿"), "-q"])
    assert code in (0, 1)
    [item] = json.loads((out / "r.json").read_text(encoding="utf-8"))
    row = next(i for e in item["evaluations"] for i in e["indicators"] if i["name"] == "档案保管安全")
    assert (row["sign"], row["target"]) == ("定性", wording)
    details = openpyxl.load_workbook(out / "汇总.xlsx")["评分明细"]
    heads = [c.value for c in details[1]]
    shown = next(r for r in details.iter_rows(min_row=2, values_only=True) if r[heads.index("名称")] == "档案保管安全")
    assert shown[heads.index("指标值")] == wording
    export = openpyxl.load_workbook(out / "导出" / "PM_SELF_EVAL_INDICATOR.xlsx").active
    heads = [c.value for c in export[1]]
    kpi = next(r for r in export.iter_rows(min_row=2, values_only=True) if r[heads.index("ind_name")] == "档案保管安全")
    assert kpi[heads.index("kpi_val")] == wording
    [draft] = list((out / "初稿").glob("*.docx"))
    cells = [c.text for t in Document(draft).tables for r in t.rows for c in r.cells]
    assert wording in cells
