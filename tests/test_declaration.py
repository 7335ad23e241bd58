"""The target-setting form (issue 12 item 3): `xltool template --stage 申报`, the checks of a
returned 申报表 in `xltool check`, `xltool targets`, and the round trip 申报表 → targets → self-
evaluation template → check, where every target in the final result is what the 申报表 said."""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from declfill import cell_of, fill, good_project, good_rows, random_rows
from xltool.check.batch import check_file
from xltool.cli import main
from xltool.template.declaration import column_name, header_name
from xltool.template.layout import column_name as eval_column
from xltool.template.roster import read_roster
from xltool.template.approved import read_targets

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "samples" / "roster.csv"
KEY = ROOT / "samples" / "demo.key"
PROJECTS = ("档案保护费", "史料编研费")
INPUT_FILL = "FFFFF2CC"


@pytest.fixture(autouse=True)
def _keep_environment():
    """These tests choose the demo key for the process (use_key_file): put the environment back,
    so that later test files see the key they expect."""
    import os

    saved = {k: os.environ.get(k) for k in ("XLTOOL_KEY_FILE", "XLTOOL_ROSTER", "XLTOOL_TARGETS", "XLTOOL_FRAMEWORKS")}
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    out = tmp_path_factory.mktemp("decl")
    assert main(["template", "--roster", str(ROSTER), "--stage", "申报", "--out", str(out / "t"), "--key", str(KEY), "-q"]) == 0
    paths = sorted((out / "t").glob("*.xlsx"))
    return {("project" if "项目支出" in p.name else "department"): p for p in paths}


def _check(path: Path):
    from xltool.template.signing import use_key_file

    use_key_file(KEY)
    return check_file(path)


def _codes(result) -> list[tuple[str, str, str]]:
    return [(f.code, f.sheet, f.cell) for f in result.findings]


# ---------------------------------------------------------------- the template


def test_template_per_unit_names_every_input_prefills_what_finance_knows(forms):
    assert forms["project"].name == "2020_武昌区档案馆_项目支出绩效目标申报表.xlsx"
    assert forms["department"].name == "2021_武汉市档案馆_部门整体支出绩效目标申报表.xlsx"
    wb = openpyxl.load_workbook(forms["project"])
    assert wb.sheetnames == ["填表说明", "项目1", "项目2", "_lists", "_meta"]
    assert wb["_meta"].sheet_state == "veryHidden"
    meta = {r[0]: r[1] for r in wb["_meta"].iter_rows(values_only=True)}
    assert meta["stage"] == "申报" and meta["generator"] == "xltool" and meta["signature"]
    for p, name in enumerate(PROJECTS, start=1):
        ws = wb[f"项目{p}"]
        assert ws.protection.sheet
        name_cell = cell_of(wb, header_name(p, "name"))
        assert name_cell.value == name and name_cell.protection.locked  # pre-filled from the roster, locked
        assert cell_of(wb, header_name(p, "implementer")).value == "武昌区档案馆"
        fiscal = cell_of(wb, header_name(p, "fiscal"))
        assert fiscal.value == {"档案保护费": 300, "史料编研费": 100}[name] and fiscal.protection.locked
        total = cell_of(wb, header_name(p, "total"))
        assert total.value == f"=ROUND(N(C{fiscal.row})+N(C{fiscal.row + 1}),2)" and total.protection.locked
        for key in ("attribute", "department", "start", "end", "other", "long_goal", "annual_goal"):
            c = cell_of(wb, header_name(p, key))
            assert not c.protection.locked and c.fill.fgColor.rgb == INPUT_FILL, key
        for key in ("level1", "level2", "name", "value_kind", "sign", "target", "unit", "points", "standard"):
            for i in (0, 14):
                c = cell_of(wb, column_name(p, 1, key), i)
                assert not c.protection.locked and c.fill.fgColor.rgb == INPUT_FILL, (key, i)
        rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
        attribute = cell_of(wb, header_name(p, "attribute")).coordinate
        assert any(attribute in ref and v.type == "list" and "新增" in v.formula1 and "延续" in v.formula1 for ref, v in rules.items())
        kind = cell_of(wb, column_name(p, 1, "value_kind")).coordinate
        assert any(kind in ref.split(":")[0] and "定量" in v.formula1 and "定性" in v.formula1 for ref, v in rules.items())
        start = cell_of(wb, header_name(p, "start")).coordinate
        assert any(start in ref and v.type == "date" for ref, v in rules.items())
        fiscal_other = cell_of(wb, header_name(p, "other")).coordinate
        assert any(fiscal_other in ref and v.type == "decimal" and float(v.formula1) == 0 for ref, v in rules.items())
    dept = openpyxl.load_workbook(forms["department"])
    assert dept.sheetnames == ["填表说明", "部门整体", "_lists", "_meta"]
    assert "DECL1_G6_GOAL" in dept.defined_names and "DECL1_G1_STANDARD" in dept.defined_names


def test_blank_template_passes_nothing_and_filled_one_passes(forms, tmp_path):
    blank = _check(forms["project"])
    assert blank.kind == "declaration" and blank.status == "failed"
    assert [f.code for f in blank.findings] == ["NO_INDICATORS"] or {f.code for f in blank.findings} >= {"REQUIRED_BLANK"}
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    result = _check(good)
    assert (result.status, result.kind, result.unit, result.unit_code, result.year, result.findings) == ("passed", "declaration", "武昌区档案馆", "420106-DAG", 2020, [])


# ---------------------------------------------------------------- every check caught by a crafted file


def _rows_without(level1):
    return [r for r in good_rows() if r["level1"] != level1]


def _with(rows, index, **changes):
    rows = [dict(r) for r in rows]
    rows[index].update(changes)
    return rows


def _paste_total(wb):
    cell_of(wb, header_name(1, "total")).value = 999  # the formula pasted over with a number


CRAFTED = {
    "DECL_FUNDS_SUM_MISMATCH": (dict(other=5), _paste_total, "C9"),
    "DECL_DIMENSION_MISSING": (dict(rows=_rows_without("满意度指标")), None, ""),
    "DECL_COST_SIGN": (dict(rows=_with(good_rows(), 0, level2="成本指标", sign="≥")), None, "E16"),
    "DECL_PERCENT_OVER_100": (dict(rows=_with(good_rows(), 0, target=120)), None, "F16"),
    "DECL_POINTS_SUM": (dict(rows=_with(good_rows(), 0, points=40)), None, "H16"),
    "DECL_PLACEHOLDER_TEXT": (dict(long_goal="见附件"), None, "C12"),
    "REQUIRED_BLANK": (dict(attribute=None), None, "C4"),
    "INVALID_CHOICE": (dict(attribute="新建"), None, "C4"),
    "TEXT_IN_NUMBER": (dict(rows=_with(good_rows(), 0, target="1万以上")), None, "F16"),
    "DECL_DATES_REVERSED": (dict(end=dt.datetime(2019, 12, 31)), None, "C8"),
    "LEVEL2_MISMATCH": (dict(rows=_with(good_rows(), 0, level2="社会效益指标")), None, "B16"),
}


@pytest.mark.parametrize("code", sorted(CRAFTED))
def test_each_check_is_caught_by_a_crafted_file(forms, tmp_path, code):
    changes, edit, cell = CRAFTED[code]
    changes = dict(changes)
    form = good_project(rows=changes.pop("rows", None))
    form.update(changes)
    path = fill(forms["project"], tmp_path / f"{code}.xlsx", [form, good_project()], edit=edit)
    result = _check(path)
    assert result.status == "failed"
    found = [(f.sheet, f.cell) for f in result.findings if f.code == code]
    assert found, _codes(result)
    if cell:
        assert ("项目1", cell) in found, _codes(result)
    assert all(f.sheet != "项目2" for f in result.findings if f.code.startswith("DECL"))  # the good project has none


def test_every_declaration_code_is_crafted_and_says_a_filled_sentence(forms, tmp_path):
    from xltool.core.messages import CODES
    from test_checks import assert_sentence

    roster_only = {"DECL_PROJECT_MISSING"}  # needs `check --roster`: test_a_roster_project_the_declaration_lacks_…
    elsewhere = {"DECL_TOO_MANY_PROJECTS", "DECL_SHEET_ADDED"}  # crafted in test_declaration_sweep.py
    assert {c for c in CODES if c.startswith("DECL_")} <= set(CRAFTED) | roster_only | elsewhere
    for code in (c for c in CRAFTED if c.startswith("DECL_")):
        changes, edit, _cell = CRAFTED[code]
        changes = dict(changes)
        form = dict(good_project(rows=changes.pop("rows", None)), **changes)
        found = [f for f in _check(fill(forms["project"], tmp_path / f"{code}.xlsx", [form, good_project()], edit=edit)).findings if f.code == code]
        assert found, code
        for f in found:
            assert_sentence(f)
            assert f.severity == CODES[code][0] == "error" and "请" in f.message, f.message


@pytest.mark.parametrize("text", ["*", "＊", "无", "见附件", "详见附件3", "——"])
def test_placeholders_in_indicator_rows(forms, tmp_path, text):
    path = fill(forms["project"], tmp_path / "p.xlsx", [good_project(rows=_with(good_rows(), 1, standard=text)), good_project()])
    found = [f for f in _check(path).findings if f.code == "DECL_PLACEHOLDER_TEXT"]
    assert [(f.cell, f.seen) for f in found] == [("I17", text)]
    assert "评分标准" in found[0].message and "见附件" in found[0].message


def test_prefilled_name_changed_protection_removed_and_formula_altered(forms, tmp_path):
    def edit(wb):
        cell_of(wb, header_name(1, "name")).value = "档案保护费（改）"
        wb["项目2"].protection.sheet = False
        cell_of(wb, header_name(2, "total")).value = "=C10"

    path = fill(forms["project"], tmp_path / "x.xlsx", [good_project(), good_project()], edit=edit)
    codes = _codes(_check(path))
    assert ("PREFILL_CHANGED", "项目1", "C3") in codes
    assert ("PROTECTION_REMOVED", "项目2", "") in codes
    assert ("FORMULA_CHANGED", "项目2", "C9") in codes


def test_department_form_checks_goals_and_dimensions(forms, tmp_path):
    rows = [dict(r, points=None) for r in good_rows("department") if r["level1"] != "效益指标"]
    path = fill(forms["department"], tmp_path / "d.xlsx", [{"department": "武汉市档案局", "fiscal": 100, "other": 0, "long_goal": "建设现代化档案馆",
                                                             "goals": [("做好档案接收", rows), (None, rows[:1])]}])
    result = _check(path)
    codes = _codes(result)
    assert ("DECL_DIMENSION_MISSING", "部门整体", "") in codes
    assert any(c[0] == "REQUIRED_BLANK" and c[1] == "部门整体" for c in codes)  # goal 2 has rows but no 年度目标
    assert not [c for c in codes if c[0] == "DECL_POINTS_SUM"]  # unit-wide rows carry no points


def test_plain_check_with_a_declaration_writes_every_output(forms, tmp_path):
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    returned = next((ROOT / "samples" / "returned").glob("2020_*.xlsx"))
    out = tmp_path / "o"
    code = main(["check", str(good), str(returned), "--out", str(out / "s.xlsx"), "--json", str(out / "s.json"), "--csv", str(out / "s.csv"),
                 "--feedback", str(out / "fb"), "--export", str(out / "ex"), "--reports", str(out / "rp"), "--key", str(KEY), "-q"])
    files = {Path(f["file"]).name: f for f in json.loads((out / "s.json").read_text(encoding="utf-8"))}
    assert code == (0 if files[returned.name]["status"] == "passed" else 1)
    assert (files["good.xlsx"]["kind"], files["good.xlsx"]["status"], files["good.xlsx"]["findings"]) == ("declaration", "passed", [])
    summary = openpyxl.load_workbook(out / "s.xlsx")
    assert any("绩效目标申报表" in str(c) for ws in summary for row in ws.iter_rows(values_only=True) for c in row)
    assert (out / "fb" / "good_检查意见.xlsx").exists()
    assert [p.name for p in (out / "rp").glob("*.docx")] == [returned.stem + "_自评报告初稿.docx"]


# ---------------------------------------------------------------- xltool targets


def test_targets_refuses_while_any_form_has_errors(forms, tmp_path, capsys):
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    bad = fill(forms["project"], tmp_path / "bad.xlsx", [good_project(rows=_rows_without("效益指标")), good_project()])
    out = tmp_path / "approved.xlsx"
    assert main(["targets", str(good), str(bad), "--out", str(out), "--key", str(KEY)]) == 1
    err = capsys.readouterr().err
    assert not out.exists()
    assert "bad.xlsx" in err and "效益指标" in err and "未写出批复表" in err and "good.xlsx" not in err.split("未写出批复表")[0]
    # the same project declared in two files
    assert main(["targets", str(good), str(tmp_path / "good.xlsx"), str(shutil.copy(good, tmp_path / "again.xlsx")), "--out", str(out), "--key", str(KEY)]) == 1
    assert "已经申报过" in capsys.readouterr().err and not out.exists()
    # not a 申报表 at all
    returned = next((ROOT / "samples" / "returned").glob("2020_*.xlsx"))
    assert main(["targets", str(good), str(returned), "--out", str(out), "--key", str(KEY)]) == 1
    assert "不是绩效目标申报表" in capsys.readouterr().err and not out.exists()


def test_targets_writes_the_file_template_reads(forms, tmp_path, capsys):
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    out = tmp_path / "approved.xlsx"
    assert main(["targets", str(good), "--out", str(out), "--roster", str(ROSTER), "--key", str(KEY)]) == 0
    assert "已写出批复表" in capsys.readouterr().out
    header = [c.value for c in openpyxl.load_workbook(out).active[1]]
    assert header == ["单位编码", "项目名称", "年度目标", "一级指标", "二级指标", "三级指标", "计算符号", "指标值", "计量单位", "分值", "预期目标"]
    blocks = read_targets(out, read_roster(ROSTER))
    assert sorted(blocks) == [("420106-DAG", "史料编研费"), ("420106-DAG", "档案保护费")]
    first = blocks[("420106-DAG", "档案保护费")]
    assert first.goal_text == "完成年度档案整理、数字化和修复任务"
    assert [(i.name, i.sign, i.target, i.unit, i.points, i.wording) for i in first.indicators[:2]] == [
        ("产出指标指标甲", "≥", D(90), "%", D(48), ""), ("产出指标指标乙", "定性", None, "", D(2), "达到预期效果")]
    # the 定性 row's wording is text in the 批复表, its 分值 still a number
    row = next(r for r in openpyxl.load_workbook(out).active.iter_rows(min_row=2, values_only=True) if r[5] == "产出指标指标乙")
    assert (row[6], row[7], row[9]) == ("定性", "达到预期效果", 2)


# ---------------------------------------------------------------- the round trip


def _fill_evaluation(path: Path, out: Path) -> None:
    """Staff fill the self-evaluation: every approved row's actual (= its target) or band."""
    wb = openpyxl.load_workbook(path)
    prefix = "PROJ" if "PROJ1_ACTUAL" in wb.defined_names else "GOAL"
    for b in range(1, 7):
        if f"{prefix}{b}_ACTUAL" not in wb.defined_names:
            break
        for i in range(15):
            sign = cell_of(wb, eval_column(prefix, b, "sign"), i).value
            if not sign:
                continue
            target = cell_of(wb, eval_column(prefix, b, "target"), i).value
            if sign == "定性":
                cell_of(wb, eval_column(prefix, b, "band"), i).value = "达成年度指标"
            else:
                cell_of(wb, eval_column(prefix, b, "actual"), i).value = target
    wb.save(out)


def _qualitative_cells(folder: Path) -> list[tuple[str, str, str, str, bool]]:
    """(file, cell, 三级指标, 年初指标值, locked) of every 定性 row of the self-evaluation templates."""
    out = []
    for path in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        prefix = "PROJ" if "PROJ1_SIGN" in wb.defined_names else "GOAL"
        b = 1
        while f"{prefix}{b}_SIGN" in wb.defined_names:
            for i in range(15):
                if cell_of(wb, eval_column(prefix, b, "sign"), i).value == "定性":
                    target = cell_of(wb, eval_column(prefix, b, "target"), i)
                    out.append((path.name, target.coordinate, cell_of(wb, eval_column(prefix, b, "name"), i).value, target.value, target.protection.locked))
            b += 1
    return out


@pytest.mark.parametrize("seed", range(4))
def test_round_trip_every_target_is_what_the_declaration_said(forms, tmp_path, seed):
    rng = random.Random(seed)
    project_forms = [good_project(rows=random_rows(rng)) for _ in PROJECTS]
    # at least one 定性 row whose wording has the commas a unit writes
    first = next(r for r in project_forms[0]["goals"][0][1] if r["level2"] != "成本指标")
    first.update({"value_kind": "定性", "sign": "定性", "target": "档案保管安全，无丢失损毁", "unit": None})
    goals = [(f"年度目标{g}-{rng.randint(1, 99)}", random_rows(rng, "department", unit_wide=True)) for g in range(rng.randint(1, 3))]
    department = {"department": "武汉市档案局", "fiscal": rng.randint(1, 5000), "other": rng.randint(0, 100), "long_goal": "建设现代化档案馆", "goals": goals}
    returned = tmp_path / "回收申报表"
    returned.mkdir()
    fill(forms["project"], returned / "p.xlsx", project_forms)
    fill(forms["department"], returned / "d.xlsx", [department])
    approved = tmp_path / "approved.xlsx"
    assert main(["targets", str(returned), "--out", str(approved), "--roster", str(ROSTER), "--key", str(KEY), "-q"]) == 0
    assert main(["template", "--roster", str(ROSTER), "--targets", str(approved), "--out", str(tmp_path / "t"), "--key", str(KEY), "-q"]) == 0
    filled = tmp_path / "filled"
    filled.mkdir()
    for path in (tmp_path / "t").glob("*.xlsx"):
        _fill_evaluation(path, filled / path.name)
    report = tmp_path / "r.json"
    main(["check", str(filled), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--roster", str(ROSTER), "--targets", str(approved), "--key", str(KEY), "-q"])
    results = json.loads(report.read_text(encoding="utf-8"))
    assert not [f for r in results for f in r["findings"] if f["code"] in ("TARGET_CHANGED", "PREFILL_CHANGED", "LOCKED_CHANGED")]
    # every 定性 wording the units wrote is in the self-evaluation template, locked
    declared = sorted((r["name"], r["target"]) for f in project_forms + [department] for _g, rows in f["goals"] for r in rows if r["value_kind"] == "定性")
    shown = _qualitative_cells(tmp_path / "t")
    assert sorted((name, target) for _f, _c, name, target, _l in shown) == declared
    assert all(locked for *_rest, locked in shown)
    # and a wording altered anyway is TARGET_CHANGED on its cell, with and without the targets file
    file, cell, name, wording, _locked = next(s for s in shown if s[3] == "档案保管安全，无丢失损毁")
    wb = openpyxl.load_workbook(filled / file)
    wb["绩效指标"][cell].value = "基本安全"
    altered = tmp_path / "altered"
    altered.mkdir()
    wb.save(altered / file)
    for extra in (["--roster", str(ROSTER), "--targets", str(approved)], []):
        again = tmp_path / "again.json"
        main(["check", str(altered), "--out", str(tmp_path / "s2.xlsx"), "--json", str(again), *extra, "--key", str(KEY), "-q"])
        found = [f for r in json.loads(again.read_text(encoding="utf-8")) for f in r["findings"] if f["code"] == "TARGET_CHANGED"]
        assert [(f["sheet"], f["cell"], f["seen"]) for f in found] == [("绩效指标", cell, "基本安全")], extra
        assert "档案保管安全，无丢失损毁" in found[0]["message"] and name in found[0]["message"]
    said = {}
    for name, form in zip(PROJECTS, project_forms):
        said[name] = [r for _g, rows in form["goals"] for r in rows]
    for goal, rows in goals:
        said[goal] = rows
    got = {}
    for r in results:
        for ev in r["evaluations"]:
            for ind in ev["indicators"]:
                key = ev["name"] if r["kind"] == "project" else ind.get("block_name") or ind["block"]
                got.setdefault(key, []).append(ind)
    dept = next(r for r in results if r["kind"] == "department")
    goal_inds = [i for ev in dept["evaluations"] for i in ev["indicators"]]
    for name in PROJECTS:
        _same_targets(said[name], got[name])
    _same_targets([r for _g, rows in goals for r in rows], goal_inds)


def _same_targets(declared: list[dict], evaluated: list[dict]) -> None:
    assert len(evaluated) == len(declared)
    for d, e in zip(declared, evaluated):
        assert (e["level1"], e["level2"], e["name"]) == (d["level1"], d["level2"], d["name"])
        if d["value_kind"] == "定性":
            assert e["sign"] == "定性" and e["target"] == d["target"]  # the approved wording
        else:
            # the JSON report quotes text starting with = (formula guard): "=" reads "'="
            assert e["sign"].removeprefix("'") == d["sign"] and D(str(e["target"])) == D(str(d["target"])) and (e["unit"] or "") == d["unit"], (d, e)
        if "points" in d and e.get("points") is not None:
            assert D(str(e["points"])) == D(d["points"])


# ---------------------------------------------------------------- re-saved by LibreOffice


def test_libreoffice_resave_of_a_filled_declaration_still_reads(forms, tmp_path):
    from libreoffice import require_libreoffice, resave

    require_libreoffice()
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project(rows=_with(good_rows(), 0, target=120))])
    again = resave(good, tmp_path / "lo")
    result = _check(again)
    assert result.kind == "declaration"
    # the one planted fault, on its cell, and nothing that the re-save alone would cause
    assert [(f.code, f.sheet, f.cell) for f in result.findings] == [("DECL_PERCENT_OVER_100", "项目2", "F16")]
    approved = tmp_path / "approved.xlsx"
    fixed = resave(fill(forms["project"], tmp_path / "fixed.xlsx", [good_project(), good_project()]), tmp_path / "lo2")
    assert main(["targets", str(fixed), "--out", str(approved), "--roster", str(ROSTER), "--key", str(KEY), "-q"]) == 0
    assert len(read_targets(approved, read_roster(ROSTER))) == 2


# ---------------------------------------------------------------- the demo runs the whole year


def test_demo_runs_declaration_targets_template_check(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    assert "绩效目标申报表" in out and "汇成批复表" in out
    folder = tmp_path / "demo"
    units = read_roster(ROSTER)
    made = read_targets(folder / "批复表.xlsx", units)
    bundled = read_targets(ROOT / "samples" / "approved_targets.csv", units)
    assert sorted(made) == sorted(bundled)
    for key, block in bundled.items():  # the demo's 申报表 said exactly the bundled targets
        assert [(i.level1, i.level2, i.name, i.sign, i.target, i.unit, i.points) for i in made[key].indicators] == [
            (i.level1, i.level2, i.name, i.sign, i.target, i.unit, i.points) for i in block.indicators]
    ws = openpyxl.load_workbook(next((folder / "模板").glob("2020_*.xlsx")))["绩效指标"]
    assert any(c.value == "档案查询人员满意度" and c.protection.locked for row in ws.iter_rows() for c in row)


def test_workspace_sets_a_declaration_aside_and_says_what_it_is(forms, tmp_path):
    from xltool.workspace.service import Workspace, add_paths
    from xltool.template.signing import use_key_file

    use_key_file(KEY)
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    ws = Workspace(str(tmp_path / "ws"), None)
    try:
        campaign, _notes = ws.create_campaign(2020, "", "", "roster.csv", ROSTER.read_bytes())
        [outcome] = add_paths(ws, campaign, [str(good)])
        assert outcome.kind == "set_aside" and "绩效目标申报表" in outcome.message and "xltool targets" in outcome.message
        assert ws.export(campaign, "summary")[1]  # the campaign's outputs still write
    finally:
        ws.close()


def test_check_with_roster_lists_who_sent_no_declaration(forms, tmp_path):
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    report = tmp_path / "r.json"
    main(["check", str(good), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--roster", str(ROSTER), "--key", str(KEY), "-q"])
    files = json.loads(report.read_text(encoding="utf-8"))
    missing = [f for f in files if f["status"] == "missing"]
    assert [(f["unit"], f["findings"][0]["code"]) for f in missing] == [("武汉市档案馆", "MISSING_RETURN")]  # 武昌 sent its 申报表
    assert "没有交回绩效目标申报表" in missing[0]["findings"][0]["message"]


def test_single_unit_blank_forms_name_their_projects_and_empty_forms_are_skipped(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["template", "--framework", "project", "--unit", "洪山区档案馆", "--code", "420111-DAG", "--year", "2022", "--stage", "申报", "--out", str(out), "--key", str(KEY)]) == 0
    assert "已生成 1 份绩效目标申报表" in capsys.readouterr().out
    [blank] = out.glob("*.xlsx")
    wb = openpyxl.load_workbook(blank)
    forms_ = [n for n in wb.sheetnames if n.startswith("项目")]
    assert len(forms_) >= 2 and not cell_of(wb, header_name(1, "name")).protection.locked  # the unit names its projects
    named = fill(blank, tmp_path / "one.xlsx", [dict(good_project(name="档案数字化（二期）"), fiscal=50)])
    result = _check(named)
    assert (result.status, result.findings) == ("passed", [])  # the untouched forms are not projects
    approved = tmp_path / "a.xlsx"
    assert main(["targets", str(named), "--out", str(approved), "-q", "--key", str(KEY)]) == 0
    rows = list(openpyxl.load_workbook(approved).active.iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[1]) for r in rows} == {("420111-DAG", "档案数字化（二期）")}
    nameless = fill(blank, tmp_path / "nameless.xlsx", [dict(good_project(), fiscal=50)])
    assert ("REQUIRED_BLANK", "项目1", "C3") in _codes(_check(nameless))


def test_targets_refuses_a_form_without_unit_code(tmp_path, capsys):
    out = tmp_path / "t"
    assert main(["template", "--framework", "project", "--unit", "洪山区档案馆", "--year", "2022", "--stage", "申报", "--out", str(out), "--key", str(KEY), "-q"]) == 0
    [blank] = out.glob("*.xlsx")
    named = fill(blank, tmp_path / "one.xlsx", [dict(good_project(name="档案数字化"), fiscal=50)])
    assert main(["targets", str(named), "--out", str(tmp_path / "a.xlsx"), "--key", str(KEY)]) == 1
    assert "没有单位编码" in capsys.readouterr().err and not (tmp_path / "a.xlsx").exists()


@pytest.mark.parametrize("forms_text", ['[["x", "abc"]]', '[["x", {"a": 1}]]', "[]", "not json", '[["x"]]', "[" + ",".join(['["", null]'] * 101) + "]"])
def test_forged_metadata_is_reported_never_a_crash(forms, tmp_path, forms_text):
    def edit(wb):
        ws = wb["_meta"]
        for row in ws.iter_rows():
            if row[0].value == "forms":
                row[1].value = forms_text

    path = fill(forms["project"], tmp_path / "f.xlsx", [good_project(), good_project()], edit=edit)
    result = _check(path)
    if forms_text.count("null") == 101:  # well-formed, but more forms than a 申报表 holds: said so, and that it was altered
        assert (result.status, [f.code for f in result.findings]) == ("unreadable", ["SIGNATURE_INVALID", "DECL_TOO_MANY_PROJECTS"])
        return
    # metadata that does not describe a form this program writes: not taken for a 申报表
    assert (result.status, [f.code for f in result.findings]) == ("unreadable", ["NOT_OUR_TEMPLATE"])


# ---------------------------------------------------------------- the pure checks, by property


from hypothesis import given, settings, strategies as st  # noqa: E402

from xltool.core.declaration import Declaration, DeclForm, DeclGoal, DeclRow, check_declaration  # noqa: E402
from xltool.core.framework import load_framework  # noqa: E402
from xltool.core.model import Value  # noqa: E402

_MONEY = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False)


def _typed_form(total, fiscal, other, rows) -> Declaration:
    v = lambda raw, cell="": Value(raw, "项目1", cell)  # noqa: E731
    header = {"name": v("甲项目"), "attribute": v("新增"), "department": v("局"), "implementer": v("馆"), "start": v(43831.0), "end": v(44196.0),
              "fiscal": v(fiscal, "C10"), "other": v(other, "C11"), "total": Value(total, "项目1", "C9"), "long_goal": v("长期"), "annual_goal": v("年度")}
    typed = [DeclRow(i + 1, **{k: v(x) for k, x in r.items()}) for i, r in enumerate(rows)]
    return Declaration("f.xlsx", "project", "馆", "1", 2020, "project", "1", [DeclForm(1, "项目1", header, [DeclGoal(1, Value(), typed)], True)])


@settings(max_examples=200, deadline=None)
@given(fiscal=_MONEY, other=_MONEY, total=_MONEY)
def test_funds_sum_is_caught_exactly_when_the_typed_total_differs(fiscal, other, total):
    found = [f for f in check_declaration(_typed_form(float(total), float(fiscal), float(other), good_rows()), load_framework("project"))
             if f.code == "DECL_FUNDS_SUM_MISMATCH"]
    assert bool(found) == (total != fiscal + other)
    if found:
        assert (found[0].cell, found[0].seen, found[0].expected) == ("C9", total, fiscal + other)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=30), min_size=3, max_size=9))
def test_points_sum_is_caught_per_category_exactly_when_it_differs(points):
    fw = load_framework("project")
    categories = [c.name for c in fw.categories]
    rows = [dict(good_rows()[0], level1=categories[i % 3], level2=fw.categories[i % 3].subcategories[0], points=p) for i, p in enumerate(points)]
    found = {f.expected and f.message.split("“")[2].split("”")[0] for f in check_declaration(_typed_form(None, 1.0, 0.0, rows), fw) if f.code == "DECL_POINTS_SUM"}
    wrong = {c.name for i, c in enumerate(fw.categories) if sum(points[i::3]) != c.points}
    assert found == wrong


def test_mutated_declarations_never_raise(forms, tmp_path):
    """The fuzz test's mutations (bytes, parts, XML, cells, names) on filled 申报表: every one ends
    as a result, none raises, none is FILE_UNREADABLE (an unforeseen error), and many still read."""
    import hostile
    from xltool.template.signing import use_key_file

    use_key_file(KEY)
    seeds = [fill(forms["project"], tmp_path / "p.xlsx", [good_project(), good_project()]),
             fill(forms["department"], tmp_path / "d.xlsx", [{"department": "局", "fiscal": 1, "other": 0, "long_goal": "长期",
                                                             "goals": [("目标", [dict(r, points=None) for r in good_rows("department")])]}])]
    mutator = hostile.Mutator(seeds)
    path = tmp_path / "变异.xlsx"
    read = 0
    for i in range(300):
        kind, data = mutator.mutate(i)
        path.write_bytes(data)
        result = check_file(path, strict=True)
        assert result.status in ("passed", "failed", "unreadable"), (i, kind)
        assert all(f.code != "FILE_UNREADABLE" for f in result.findings), (i, kind, result.findings)
        read += result.kind == "declaration" and result.status != "unreadable"
    assert read > 30


def test_check_with_roster_compares_the_prefills_with_the_roster(forms, tmp_path, capsys):
    """A 申报表 made from an older roster (or re-signed elsewhere) is caught by `check --roster`:
    each pre-filled cell that differs from the roster now is PREFILL_CHANGED, saying the roster's
    value; without the roster the signed metadata stands, and with the same roster all is quiet."""
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])

    def check_with(roster):
        report = tmp_path / "r.json"
        main(["check", str(good), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), *roster, "--key", str(KEY), "-q"])
        return next(f for f in json.loads(report.read_text(encoding="utf-8")) if Path(f["file"]).name == "good.xlsx")["findings"]

    assert check_with(["--roster", str(ROSTER)]) == []
    newer = tmp_path / "名册（新）.csv"  # finance has since raised 档案保护费's 财政拨款 and renamed the other project
    text = ROSTER.read_text(encoding="utf-8-sig").replace("档案保护费,300,,300,", "档案保护费,300,,320,").replace("史料编研费", "史料编研与出版费")
    newer.write_text(text, encoding="utf-8-sig")
    found = [(f["code"], f["sheet"], f["cell"], f["seen"]) for f in check_with(["--roster", str(newer)])]
    assert found == [("PREFILL_CHANGED", "项目1", "C10", 300), ("PREFILL_CHANGED", "项目2", "C3", "史料编研费")]
    message = next(f["message"] for f in check_with(["--roster", str(newer)]) if f["cell"] == "C10")
    assert "原为“320（名册）”" in message and "现为“300”" in message
    assert check_with([]) == []  # the signed metadata: nothing was changed in the file
    # a pre-fill edited in the file is one finding, not one from the metadata and one from the roster
    fill(forms["project"], good, [good_project(), good_project()], edit=lambda wb: setattr(cell_of(wb, header_name(1, "name")), "value", "档案保护"))
    assert [(f["code"], f["cell"], f["expected"]) for f in check_with(["--roster", str(ROSTER)])] == [("PREFILL_CHANGED", "C3", "档案保护费（名册）")]
    # `xltool targets --roster` refuses it the same way
    out = tmp_path / "approved.xlsx"
    assert main(["targets", str(good), "--out", str(out), "--roster", str(newer), "--key", str(KEY)]) == 1
    err = capsys.readouterr().err
    assert not out.exists() and "C10" in err and "320（名册）" in err


def _roster_with(tmp_path: Path, name: str, edit) -> Path:
    lines = ROSTER.read_text(encoding="utf-8-sig").splitlines()
    path = tmp_path / name
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8-sig")
    return path


def _check_cli(tmp_path: Path, path: Path, *extra: str) -> tuple[list[dict], list[tuple]]:
    """`xltool check PATH … --json --out`: the file's findings in the JSON report, and its rows of
    the summary workbook's 问题清单 (工作表, 单元格, 代码, 级别, 应为), as a user reads them."""
    report, summary = tmp_path / "r.json", tmp_path / "汇总.xlsx"
    main(["check", str(path), "--out", str(summary), "--json", str(report), *extra, "--key", str(KEY), "-q"])
    findings = next(f for f in json.loads(report.read_text(encoding="utf-8")) if Path(f["file"] or "").name == path.name)["findings"]
    ws = openpyxl.load_workbook(summary)["问题清单"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)]
    listed = [(r["工作表"], r["单元格"], r["代码"], r["级别"], r["应为"]) for r in rows if r["文件"] == path.name]
    return findings, listed


def test_a_roster_project_the_declaration_lacks_is_reported_and_refused(forms, tmp_path, capsys):
    """The roster now lists a third project for 武昌 that the 申报表 (made from the older roster)
    has no sheet for: DECL_PROJECT_MISSING on the sheet it would have, naming the project and
    telling finance to regenerate; `targets --roster` writes no 批复表."""
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    added = _roster_with(tmp_path, "名册（新增项目）.csv", lambda lines: lines + [lines[2].replace("档案保护费", "档案宣传费")])
    findings, listed = _check_cli(tmp_path, good, "--roster", str(added))
    assert [(f["code"], f["severity"], f["sheet"], f["expected"]) for f in findings] == [("DECL_PROJECT_MISSING", "error", "项目3", "档案宣传费（名册）")]
    message = findings[0]["message"]
    assert "“档案宣传费”" in message and "武昌区档案馆" in message and "重新生成" in message and "--stage 申报" in message and "{" not in message
    assert listed == [("项目3", None, "DECL_PROJECT_MISSING", "错误", "档案宣传费（名册）")]
    assert _check_cli(tmp_path, good, "--roster", str(ROSTER))[0] == []  # the roster it was made from: nothing to say
    out = tmp_path / "approved.xlsx"
    assert main(["targets", str(good), "--out", str(out), "--roster", str(added), "--key", str(KEY)]) == 1
    err = capsys.readouterr().err
    assert not out.exists() and "档案宣传费" in err and "未写出批复表" in err
    assert main(["targets", str(good), "--out", str(out), "--roster", str(ROSTER), "--key", str(KEY), "-q"]) == 0 and out.exists()


def test_a_deleted_project_sheet_is_one_finding_naming_the_roster_project(forms, tmp_path, capsys):
    """A unit deletes 项目2 (workbook structure unprotected, e.g. in LibreOffice): with the roster,
    one DECL_PROJECT_MISSING on 项目2 naming 史料编研费 (in place of SHEET_MISSING); without it,
    SHEET_MISSING alone. Never a finding per cell of a sheet that is not there."""
    def drop(wb):
        del wb["项目2"]

    deleted = fill(forms["project"], tmp_path / "deleted.xlsx", [good_project(), good_project()], edit=drop)
    findings, listed = _check_cli(tmp_path, deleted, "--roster", str(ROSTER))
    assert [(f["code"], f["sheet"], f["cell"], f["expected"]) for f in findings] == [("DECL_PROJECT_MISSING", "项目2", "", "史料编研费（名册）")]
    assert "“史料编研费”" in findings[0]["message"] and "被删除或改名" in findings[0]["message"] and "不要删除或重命名工作表" in findings[0]["message"]
    assert listed == [("项目2", None, "DECL_PROJECT_MISSING", "错误", "史料编研费（名册）")]
    findings, _listed = _check_cli(tmp_path, deleted)
    assert [(f["code"], f["sheet"]) for f in findings] == [("SHEET_MISSING", "项目2")]
    out = tmp_path / "approved.xlsx"
    assert main(["targets", str(deleted), "--out", str(out), "--roster", str(ROSTER), "--key", str(KEY)]) == 1
    assert not out.exists() and "史料编研费" in capsys.readouterr().err


def test_a_declaration_project_the_roster_does_not_list_is_reported_as_the_self_evaluation_does(forms, tmp_path, capsys):
    """The roster no longer lists 史料编研费: its pre-filled cells are PREFILL_CHANGED against the
    roster's blank, as the self-evaluation's roster comparison reports a project the roster lacks;
    `targets --roster` refuses."""
    good = fill(forms["project"], tmp_path / "good.xlsx", [good_project(), good_project()])
    fewer = _roster_with(tmp_path, "名册（删去项目）.csv", lambda lines: [line for line in lines if "史料编研费" not in line])
    findings, listed = _check_cli(tmp_path, good, "--roster", str(fewer))
    found = [(f["code"], f["sheet"], f["cell"], f["seen"], f["expected"]) for f in findings]
    assert ("PREFILL_CHANGED", "项目2", "C3", "史料编研费", "（空白）（名册）") in found and {f[0] for f in found} == {"PREFILL_CHANGED"}
    assert ("项目2", "C3", "PREFILL_CHANGED", "错误", "（空白）（名册）") in listed
    out = tmp_path / "approved.xlsx"
    assert main(["targets", str(good), "--out", str(out), "--roster", str(fewer), "--key", str(KEY)]) == 1
    assert not out.exists() and "项目2" in capsys.readouterr().err


def test_a_name_deleted_or_moved_is_reported_and_its_cell_read_where_the_template_put_it(forms, tmp_path):
    """The 申报表 reads its inputs through the defined names (check.reader.Binder): a name deleted
    is NAME_MISSING on its cell, a name moved is one STRUCTURE_CHANGED per sheet; either way the
    cell is read where the template put it, so what the unit wrote there is still checked."""
    def edit(wb):
        del wb.defined_names[header_name(1, "attribute")]
        moved = wb.defined_names[header_name(2, "start")]
        moved.attr_text = moved.attr_text.replace("$7", "$30")
        cell_of(wb, header_name(2, "attribute")).value = "新建"  # still read at C4 of 项目2

    path = fill(forms["project"], tmp_path / "names.xlsx", [good_project(), good_project()], edit=edit)
    result = _check(path)
    found = [(f.code, f.sheet, f.cell) for f in result.findings]
    assert ("NAME_MISSING", "项目1", "C4") in found and ("STRUCTURE_CHANGED", "项目2", "C7") in found
    assert ("INVALID_CHOICE", "项目2", "C4") in found and ("REQUIRED_BLANK", "项目1", "C4") not in found  # 延续, read at its place
    missing = next(f for f in result.findings if f.code == "NAME_MISSING")
    assert "项目属性" in missing.message and header_name(1, "attribute") in missing.message
    moved = next(f for f in result.findings if f.code == "STRUCTURE_CHANGED")
    assert (moved.expected, moved.seen) == ("C7", "C30") and "起始时间" in moved.message
