"""xltool's templates in LibreOffice Calc, typed into as archive staff do (tests/lo_ui.py).

Every entry here is keystrokes into Calc's grid window, so the template's sheet protection and
data validation meet it exactly as they meet a person; the cell API would ignore both. After the
typing the workbook is saved as .xlsx by LibreOffice itself, and what the person saw (the cell
after Enter, the box that came up) and what the saved file holds are both asserted; the saved
file then goes through `xltool check`.

One soffice serves the whole module (a start costs about 2 s); each test opens its own copies.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import shutil
import sys
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from lo_ui import CalcUI, missing_reason
from xltool import check_files
from xltool.cli import main
from xltool.template import plan_for
from xltool.template.approved import apply_targets, read_targets
from xltool.template.layout import SHEET_INDICATORS
from xltool.template.roster import read_roster

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ROSTER = SAMPLES / "roster.csv"
TARGETS = SAMPLES / "approved_targets.csv"
KEY = SAMPLES / "demo.key"

# What a file that only went through LibreOffice's hands must never be told: the template's own
# guards, the signature and the structure are intact.
INTEGRITY = {
    "NOT_OUR_TEMPLATE", "SIGNATURE_MISSING", "SIGNATURE_INVALID", "META_DUPLICATE", "NAME_RANGE_CHANGED",
    "SHEET_MISSING", "NAME_MISSING", "PROTECTION_REMOVED", "STRUCTURE_CHANGED", "LOCKED_CHANGED",
    "PREFILL_CHANGED", "TARGET_CHANGED", "FORMULA_CHANGED", "FINGERPRINT_MISMATCH", "EXTRA_CONTENT",
}


@pytest.fixture(scope="module")
def calc():
    reason = missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI 必须能在 LibreOffice 界面中输入：{reason}")
        pytest.skip(reason)
    ui = CalcUI()
    yield ui
    ui.close()


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The samples' roster made into templates by the command line: with the approved targets
    (issue 12) and without."""
    out = tmp_path_factory.mktemp("ui-templates")
    made = {}
    for label, extra in (("targets", ["--targets", str(TARGETS)]), ("plain", [])):
        folder = out / label
        assert main(["template", "--roster", str(ROSTER), *extra, "-o", str(folder), "--key", str(KEY), "-q"]) == 0
        for path in folder.glob("*.xlsx"):
            made[(label, "project" if "项目" in path.name else "department")] = path
    return made


def _copy(src: Path, tmp_path: Path) -> Path:
    """A copy to type into: the template itself is never opened by LibreOffice."""
    dest = tmp_path / "in" / src.name
    dest.parent.mkdir(exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _names(path: Path) -> dict[str, tuple[str, list[str]]]:
    """The workbook's defined names: name → (sheet, its cells top down)."""
    out = {}
    for name, dn in openpyxl.load_workbook(path).defined_names.items():
        [(sheet, ref)] = list(dn.destinations)
        first, _, last = ref.replace("$", "").partition(":")
        col = first.rstrip("0123456789")
        top, bottom = int(first[len(col):]), int((last or first)[len(col):])
        out[name] = (sheet, [f"{col}{r}" for r in range(top, bottom + 1)])
    return out


def _cell(names, name: str, row: int = 0) -> tuple[str, str]:
    sheet, cells = names[name]
    return sheet, cells[row]


def _type(names, name, text, row=0) -> dict:
    sheet, cell = _cell(names, name, row)
    return {"do": "type", "sheet": sheet, "cell": cell, "text": text}


def _saved(path: Path, names, name: str, row: int = 0):
    sheet, cell = _cell(names, name, row)
    return openpyxl.load_workbook(path)[sheet][cell].value


def _holds(r: dict, value) -> bool:
    """Does the cell after an action (the driver's result) hold value? Numbers are compared as
    numbers: "string" is what the cell shows, formatted (8 in a score cell shows 8.00)."""
    if value is None:
        return r["type"] == "EMPTY"
    if isinstance(value, (int, float)):
        return r["type"] == "VALUE" and r["value"] == value
    return r["type"] == "TEXT" and r["string"] == value


def _codes(result) -> set[str]:
    return {f.code for f in result.findings}


# ---------------------------------------------------------------- 1. approved targets stay as approved


def test_typing_over_an_approved_target_is_refused_and_the_saved_file_keeps_it(calc, templates, tmp_path):
    src = _copy(templates[("targets", "project")], tmp_path)
    names = _names(src)
    before = openpyxl.load_workbook(src)[SHEET_INDICATORS]
    approved = {key: before[_cell(names, f"PROJ1_{key}")[1]].value for key in ("TARGET", "SIGN", "POINTS", "INDICATOR")}
    # the first approved row of 档案保护费: 数字化年度项目扫描 ≥ 140000 幅, 8 分
    assert approved == {"TARGET": 140000, "SIGN": "≥", "POINTS": 8, "INDICATOR": "数字化年度项目扫描（指标值为示例）"}
    saved = tmp_path / "saved.xlsx"
    results = calc.run(src, [
        _type(names, "PROJ1_TARGET", "100"),  # a lower target: easier to meet
        _type(names, "PROJ1_SIGN", "≤"),
        _type(names, "PROJ1_POINTS", "20"),
        _type(names, "PROJ1_INDICATOR", "数字化扫描"),
        _type(names, "PROJ1_ACTUAL", "149638"),  # 实际完成值 of the same row: the staff's to fill
        _type(names, "PROJ1_ACTUAL", "96%", row=9),  # 档案查询人员满意度 ≥ 95 %: typed with its sign
    ], save=saved)
    refused, accepted, percent = results[:4], results[4], results[5]
    for r, key in zip(refused, ("TARGET", "SIGN", "POINTS", "INDICATOR")):
        assert r["box"], f"{key}: Calc 应弹出“受保护的单元格”提示"
        assert _holds(r, approved[key]), (key, r)
    assert accepted["box"] is None and accepted["value"] == 149638

    for key, value in approved.items():
        assert _saved(saved, names, f"PROJ1_{key}") == value, key
    assert _saved(saved, names, "PROJ1_ACTUAL") == 149638
    [result] = check_files([saved], key=KEY)
    assert not _codes(result) & INTEGRITY, [(f.code, f.cell, f.message) for f in result.findings if f.code in INTEGRITY]
    # the actual typed is read and scored against the approved target: 149638 ≥ 140000, full 8 points
    [row] = [i for i in result.evaluations[0].indicators if i["name"] == approved["INDICATOR"]]
    assert D(str(row["score"])) == 8 and row["met"]
    # Calc stores "96%" as 0.96, which the number rule lets through; the check says the scales differ
    assert percent["value"] == pytest.approx(0.96) and percent["string"] == "96.00%"
    sheet, cell = _cell(names, "PROJ1_ACTUAL", 9)
    assert [(f.sheet, f.cell) for f in result.findings if f.code == "PERCENT_SCALE_MIXED"] == [(sheet, cell)]


def test_every_approved_column_refuses_typing(calc, templates, tmp_path):
    """Each pre-filled cell of the first and the last approved row of both projects: a box, the
    value unchanged (every row is locked the same way: the ends show the span is right)."""
    src = _copy(templates[("targets", "project")], tmp_path)
    names = _names(src)
    ws = openpyxl.load_workbook(src)[SHEET_INDICATORS]
    actions, expected = [], []
    for p, approved in ((1, 10), (2, 8)):  # samples/approved_targets.csv: 10 and 8 rows
        column = names[f"PROJ{p}_INDICATOR"][1]
        assert ws[column[approved - 1]].value and ws[column[approved]].value is None  # the staff's rows follow
        for row in (0, approved - 1):
            for key in ("LEVEL1", "LEVEL2", "INDICATOR", "SIGN", "TARGET", "UNIT", "POINTS"):
                sheet, ref = _cell(names, f"PROJ{p}_{key}", row)
                actions.append({"do": "type", "sheet": sheet, "cell": ref, "text": "1"})
                expected.append((ref, ws[ref].value))
    results = calc.run(src, actions, save=tmp_path / "saved.xlsx")
    seen = {r["cell"]: r for r in results}
    wrong = [(ref, value, seen[ref]["string"]) for ref, value in expected
             if seen[ref]["box"] is None or not _holds(seen[ref], value)]
    assert not wrong, f"LibreOffice 接受了对批复指标的修改：{wrong}"
    [result] = check_files([tmp_path / "saved.xlsx"], key=KEY)
    assert not _codes(result) & INTEGRITY


# ---------------------------------------------------------------- 2. data validation


def test_validation_refuses_text_in_number_cells_and_keeps_numbers_and_choices(calc, templates, tmp_path):
    src = _copy(templates[("plain", "project")], tmp_path)
    names = _names(src)
    saved = tmp_path / "saved.xlsx"
    results = calc.run(src, [
        _type(names, "PROJ1_ACTUAL", "很好"),  # 实际完成值: a number
        _type(names, "PROJ1_TARGET", "1万以上"),  # 年初指标值 written as the seeds' phrases
        _type(names, "PROJ1_EXECUTED", "二百万"),  # 全年执行数（万元）
        _type(names, "PROJ1_POINTS", "十"),
        _type(names, "PROJ1_ACTUAL", "很好", row=1),
        _type(names, "PROJ1_ACTUAL", "149638", row=1),  # then a number: kept
        _type(names, "PROJ1_EXECUTED", "214.68"),
        _type(names, "PROJ1_POINTS", "8"),
        {"do": "choose", "sheet": SHEET_INDICATORS, "cell": _cell(names, "PROJ1_SIGN")[1], "entry": "≤", "entries": True},
        {"do": "choose", "sheet": SHEET_INDICATORS, "cell": _cell(names, "PROJ1_SIGN", 1)[1], "entry": "="},
        {"do": "choose", "sheet": SHEET_INDICATORS, "cell": _cell(names, "PROJ1_LEVEL1")[1], "entry": "效益指标", "entries": True},
        _type(names, "INFO_PHONE", "02788886666"),  # typed without a dash: the leading 0 must stay
        _type(names, "INFO_DATE", "2021年3月31日"),  # as staff in China write a date (zh-CN locale)
    ], save=saved)
    phone, date = results[-2:]
    results = results[:-2]
    assert _holds(phone, "02788886666"), phone
    assert date["type"] == "VALUE" and date["string"] == "2021-03-31", date
    refused = results[:5]
    for r in refused:
        assert r["type"] == "EMPTY", f"{r['cell']} 接受了文字“{r['string']}”"
    assert [r["value"] for r in results[5:8]] == [149638, 214.68, 8]
    sign, equal, level1 = results[8:]
    assert sign["entries"] == ["≥", ">", "≤", "<", "=", "定性"] and sign["string"] == "≤"
    assert equal["string"] == "="  # "=" can only be chosen: typed, it would start a formula
    assert level1["entries"] == ["产出指标", "效益指标", "满意度指标"] and level1["string"] == "效益指标"

    assert _saved(saved, names, "PROJ1_ACTUAL") is None and _saved(saved, names, "PROJ1_TARGET") is None
    assert _saved(saved, names, "PROJ1_ACTUAL", 1) == 149638
    assert _saved(saved, names, "PROJ1_EXECUTED") == 214.68
    assert [_saved(saved, names, "PROJ1_SIGN", r) for r in (0, 1)] == ["≤", "="]
    assert _saved(saved, names, "PROJ1_LEVEL1") == "效益指标"
    assert _saved(saved, names, "INFO_PHONE") == "02788886666"
    assert _saved(saved, names, "INFO_DATE") == datetime.datetime(2021, 3, 31)
    [result] = check_files([saved], key=KEY)
    assert not _codes(result) & (INTEGRITY | {"TEXT_IN_NUMBER", "INVALID_CHOICE"})


# ---------------------------------------------------------------- 3. a whole fill typed by hand


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _text(value) -> str:
    if isinstance(value, datetime.date):
        return f"{value.year}/{value.month}/{value.day}"  # as staff in China type a date
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _build_samples():
    sys.path.insert(0, str(SAMPLES))  # build_samples imports seed_data from its own folder
    try:
        return _load("samples_build_samples", SAMPLES / "build_samples.py")
    finally:
        sys.path.remove(str(SAMPLES))


def _type_sample(calc, plan, values, src, saved, reference, chosen=None, skip=()):
    """Enter a sample's values (by defined name, as build_samples fills them) into src cell by cell
    as a person does: typed (a list cell takes a typed entry of its list too), or chosen from the
    dropdown where typing cannot work ("=" starts a formula) or the list does not hold the value;
    save; check both the typed file and the bundled reference sample. `chosen`: what a person
    picks from the dropdown for a value the list lacks; `skip`: values that cannot be entered
    headless."""
    inputs = {(c.sheet, c.row, c.col): c for c in plan.input_cells()}
    actions = []
    for name, value in values.items():
        spec = plan.names[name]
        for offset, item in enumerate(value if isinstance(value, list) else [value]):
            cell = inputs.get((spec.sheet, spec.row + offset, spec.col))
            if item is None or cell is None or _text(item) in skip:
                continue  # nothing to type, or approved and locked: the template already holds it
            text = (chosen or {}).get(_text(item), _text(item))
            if cell.validation and cell.validation.kind == "list" and (text == "=" or text != _text(item)):
                actions.append({"do": "choose", "sheet": cell.sheet, "cell": cell.ref, "entry": text, "text": text})
            else:
                actions.append({"do": "type", "sheet": cell.sheet, "cell": cell.ref, "text": text})
    assert len(actions) >= 50
    results = calc.run(src, actions, save=saved)
    results = [{"box": None, **r} for r in results]
    boxes = [(r["cell"], r["box"]) for r in results if r["box"]]
    assert not boxes, f"输入时弹出了提示：{boxes}"
    dropped = [(r["cell"], a["text"]) for r, a in zip(results, actions) if r["type"] == "EMPTY"]
    assert not dropped, f"LibreOffice 拒绝了样例中的合法数据：{dropped}"
    texts = [(r["cell"], r["string"]) for r, a in zip(results, actions) if r["type"] == "TEXT" and r["string"] != a["text"]]
    assert not texts, f"输入的文字被改动（自动更正或自动输入）：{texts}"
    [typed] = check_files([saved], key=KEY)
    [checked] = check_files([reference], key=KEY)
    assert not _codes(typed) & INTEGRITY, [(f.code, f.cell) for f in typed.findings if f.code in INTEGRITY]
    assert sorted((f.code, f.sheet, f.cell) for f in typed.findings) == sorted(
        (f.code, f.sheet, f.cell) for f in checked.findings
    )
    return typed, checked


def test_the_wuchang_sample_typed_in_calc_gets_the_samples_verdict(calc, templates, tmp_path):
    """武昌区档案馆's 2020 figures (samples/seed_data.py) typed into its approved-targets template
    cell by cell, saved by LibreOffice: the check recomputes what it does for the bundled sample
    (samples/returned, written without LibreOffice): the same rates, scores, grades and findings,
    and nothing about the template's guards."""
    units = read_roster(ROSTER)
    unit = next(u for u in apply_targets(units, read_targets(TARGETS, units)) if u.code == "420106-DAG")
    plan = plan_for(unit)
    build = _build_samples()
    typed, reference = _type_sample(
        calc, plan, build.project_values(plan, build.seed_data.WUCHANG_2020),
        _copy(templates[("targets", "project")], tmp_path), tmp_path / "2020_武昌区档案馆_界面填报.xlsx",
        next((SAMPLES / "returned").glob("2020_武昌区档案馆*.xlsx")),
    )
    assert [(e.name, e.execution_rate, e.score, e.declared_score, e.grade) for e in typed.evaluations] == [
        ("档案保护费", D("0.7156"), D("94.16"), D("95"), "优"),
        ("史料编研费", D("0.7600"), D("82.60"), D("95"), "良"),
    ]
    assert [(e.name, e.execution_rate, e.score, e.grade) for e in typed.evaluations] == [
        (e.name, e.execution_rate, e.score, e.grade) for e in reference.evaluations
    ]


def test_the_wuhan_sample_typed_in_calc_gets_the_samples_verdict(calc, templates, tmp_path):
    """武汉市档案馆's 2021 unit-wide figures (seed 000) typed into its template: 100.00% and 87.87%,
    criteria 19 / 29 / 24 / 23, total 95, 优 — as the bundled sample, with the same findings."""
    plan = plan_for(next(u for u in read_roster(ROSTER) if u.code == "420100-DAG"))
    build = _build_samples()
    typed, reference = _type_sample(
        calc, plan, build.department_values(plan, build.seed_data.WUHAN_2021),
        _copy(templates[("plain", "department")], tmp_path), tmp_path / "2021_武汉市档案馆_界面填报.xlsx",
        next((SAMPLES / "returned").glob("2021_武汉市档案馆*.xlsx")),
        chosen={"优秀": "优"},  # seed 000 writes 优秀; the dropdown offers 优
        skip={"件次"},
    )
    [evaluation] = typed.evaluations
    assert (evaluation.execution_rate, evaluation.initial_budget_completion_rate) == (D("1.0000"), D("0.8787"))
    assert [c["score"] for c in evaluation.criteria] == [D("19"), D("29"), D("24"), D("23")]
    assert (evaluation.score, evaluation.grade) == (D("95"), "优")
    [expected] = reference.evaluations  # the grade chosen 优 where the report wrote 优秀: the same verdict
    assert (evaluation.score, evaluation.grade, evaluation.criteria) == (expected.score, expected.grade, expected.criteria)


# ---------------------------------------------------------------- 4. sweeps: every guard of a plain template


def _spread(cells, per_group: int = 3):
    """A few cells of each group, first, middle and last: every rule without typing into all."""
    cells = sorted(cells, key=lambda c: (c.row, c.col))
    picks = {0, len(cells) // 2, len(cells) - 1} if per_group >= 3 else {0, len(cells) - 1}
    return [cells[i] for i in sorted(picks)]


def _groups(cells, key):
    out: dict = {}
    for c in cells:
        out.setdefault(key(c), []).append(c)
    return out


def _read_then_type(cells, text):
    actions = []
    for c in cells:
        actions.append({"do": "read", "sheet": c.sheet, "cell": c.ref})
        actions.append({"do": "type", "sheet": c.sheet, "cell": c.ref, "text": text})
    return actions


def _changed(results):
    """(sheet, cell, before, after) of every typing that changed its cell."""
    out = []
    for before, after in zip(results[::2], results[1::2]):
        if (before["type"], before["formula"]) != (after["type"], after["formula"]):
            out.append((after["sheet"], after["cell"], before["formula"], after["formula"]))
    return out


def _plain_plan(kind: str):
    unit = next(u for u in read_roster(ROSTER) if u.kind == kind)
    return plan_for(unit)


@pytest.mark.parametrize("kind", ["project", "department"])
def test_locked_labels_figures_and_formulas_refuse_typing(calc, templates, tmp_path, kind):
    """A template without targets: on every visible sheet, labels, the roster's pre-filled figures
    and the live formulas (first, middle and last of each kind) refuse a keystroke with the
    protected-cell box, and the saved file passes the template's integrity checks."""
    plan = _plain_plan(kind)
    hidden = {s.name for s in plan.sheets if s.state != "visible"}
    locked = [c for c in plan.locked_cells() if c.sheet not in hidden]
    cells = [c for group in _groups(locked, lambda c: (c.sheet, c.role)).values() for c in _spread(group)]
    assert {c.role for c in cells} == {"label", "prefill", "formula"}
    src = _copy(templates[("plain", kind)], tmp_path)
    saved = tmp_path / "saved.xlsx"
    results = calc.run(src, _read_then_type(cells, "1"), save=saved)
    assert not _changed(results), f"LibreOffice 接受了对锁定单元格的输入：{_changed(results)}"
    silent = [(r["sheet"], r["cell"]) for r in results[1::2] if not r["box"]]
    assert not silent, f"没有弹出“受保护”提示：{silent}"
    [result] = check_files([saved], key=KEY)
    assert not _codes(result) & INTEGRITY, [(f.code, f.cell) for f in result.findings if f.code in INTEGRITY]


@pytest.mark.parametrize("kind", ["project", "department"])
def test_every_number_date_and_list_rule_refuses_text(calc, templates, tmp_path, kind):
    """Every input column with a number, date, score or strict list rule (first and last cell of
    each column of each sheet) refuses the word 很好 typed into it."""
    plan = _plain_plan(kind)
    guarded = [c for c in plan.input_cells()
               if c.validation and c.validation.kind in ("decimal", "custom", "date", "list") and c.validation.strict]
    cells = [c for group in _groups(guarded, lambda c: (c.sheet, c.col, c.validation.kind)).values()
             for c in _spread(group, per_group=2)]
    assert len(cells) >= 20
    src = _copy(templates[("plain", kind)], tmp_path)
    results = calc.run(src, _read_then_type(cells, "很好"))
    assert not _changed(results), f"数字、日期或下拉单元格接受了文字：{_changed(results)}"


def test_the_phone_cell_is_text_formatted(templates):
    """Without LibreOffice too: 联系电话 is a text cell (@), so 02788886666 typed in Excel, WPS or
    Calc keeps its leading 0 (the test above types it in Calc)."""
    for kind in ("project", "department"):
        path = templates[("plain", kind)]
        sheet, cell = _cell(_names(path), "INFO_PHONE")
        assert openpyxl.load_workbook(path)[sheet][cell].number_format == "@", kind


# ---------------------------------------------------------------- 5. menu commands: what still gets through


def test_menu_commands_insert_and_delete_are_refused_and_a_paste_is_caught_by_the_check(calc, templates, tmp_path):
    """Sheet > Insert / Delete Rows and Columns on the indicator sheet change nothing. Edit > Paste
    is the one way past data validation (LibreOffice, like Excel, does not validate a paste): a
    copied word lands in a number cell, and `xltool check` names that cell; a paste over an
    approved target is refused like typing."""
    src = _copy(templates[("targets", "project")], tmp_path)
    names = _names(src)

    def command(name, row, what):
        sheet, cell = _cell(names, name, row)
        return {"do": "command", "sheet": sheet, "cell": cell, "command": what}

    def read(name, row):
        sheet, cell = _cell(names, name, row)
        return {"do": "read", "sheet": sheet, "cell": cell}

    first, second = "数字化年度项目扫描（指标值为示例）", "数字化年度项目著录（指标值为示例）"
    saved = tmp_path / "saved.xlsx"
    results = calc.run(src, [
        command("PROJ1_INDICATOR", 1, ".uno:InsertRowsBefore"), read("PROJ1_INDICATOR", 1),
        command("PROJ1_INDICATOR", 0, ".uno:DeleteRows"), read("PROJ1_INDICATOR", 0),
        command("PROJ1_INDICATOR", 0, ".uno:InsertColumnsBefore"), read("PROJ1_INDICATOR", 0),
        command("PROJ1_INDICATOR", 0, ".uno:DeleteColumns"), read("PROJ1_INDICATOR", 0),
        _type(names, "PROJ1_REASON", "很好"),  # a word where words belong
        command("PROJ1_REASON", 0, ".uno:Copy"),
        command("PROJ1_ACTUAL", 1, ".uno:Paste"),  # 实际完成值 of the second row
        command("PROJ1_TARGET", 0, ".uno:Paste"),  # the approved 140000
    ], save=saved)
    reads = [r for r in results if r["do"] == "read"]
    assert [r["string"] for r in reads] == [second, first, first, first]
    pasted, over_target = results[-2:]
    assert pasted["string"] == "很好"
    assert _holds(over_target, 140000)
    assert _saved(saved, names, "PROJ1_TARGET") == 140000
    [result] = check_files([saved], key=KEY)
    assert not _codes(result) & INTEGRITY, [(f.code, f.cell) for f in result.findings if f.code in INTEGRITY]
    sheet, cell = _cell(names, "PROJ1_ACTUAL", 1)
    found = [f for f in result.findings if f.code == "TEXT_IN_NUMBER"]
    assert [(f.sheet, f.cell) for f in found] == [(sheet, cell)] and "很好" in found[0].message


# ---------------------------------------------------------------- 6. the 二级 dropdown follows the 一级 (layout 3)


def test_the_level2_dropdown_offers_only_the_level2_of_the_rows_level1(calc, templates, tmp_path):
    """A template of layout 3: with 一级 = 产出指标 typed, a 二级 of 效益指标 typed into the row is
    refused, 数量指标 is accepted, and the dropdown lists 产出指标's four 二级 only; another row's
    dropdown follows its own 一级. LibreOffice keeps the per-一级 names and the validation formula
    on saving, and the saved file checks with no LEVEL2_MISMATCH."""
    src = _copy(templates[("plain", "project")], tmp_path)
    names = _names(src)
    assert names["二级_产出指标"] == ("_lists", ["G1", "G2", "G3", "G4"])
    saved = tmp_path / "saved.xlsx"
    results = calc.run(src, [
        _type(names, "PROJ1_LEVEL1", "产出指标"),
        _type(names, "PROJ1_LEVEL2", "社会效益指标"),  # a 二级 of 效益指标: refused
        _type(names, "PROJ1_LEVEL2", "数量指标"),
        _type(names, "PROJ1_LEVEL1", "效益指标", row=1),
        {"do": "choose", "sheet": SHEET_INDICATORS, "cell": _cell(names, "PROJ1_LEVEL2", 1)[1], "entry": "社会效益指标", "entries": True},
        _type(names, "PROJ1_LEVEL1", "产出指标", row=2),
        {"do": "choose", "sheet": SHEET_INDICATORS, "cell": _cell(names, "PROJ1_LEVEL2", 2)[1], "entry": "成本指标", "entries": True},
    ], save=saved)
    level1, other, own, _l1, benefit, _l1b, output = results
    assert _holds(level1, "产出指标")
    assert other["type"] == "EMPTY", f"二级指标接受了不属于“产出指标”的“{other['string']}”"
    assert _holds(own, "数量指标")
    assert benefit["entries"] == ["经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标"] and benefit["string"] == "社会效益指标"
    assert output["entries"] == ["数量指标", "质量指标", "时效指标", "成本指标"] and output["string"] == "成本指标"

    assert [_saved(saved, names, "PROJ1_LEVEL2", r) for r in (0, 1, 2)] == ["数量指标", "社会效益指标", "成本指标"]
    book = openpyxl.load_workbook(saved)
    assert {n for n in book.defined_names if n.startswith("二级_")} == {"二级_产出指标", "二级_效益指标", "二级_满意度指标"}
    sheet, cell = _cell(names, "PROJ1_LEVEL2")
    [rule] = [v for v in book[sheet].data_validations.dataValidation if cell in v.sqref]
    assert rule.type == "list" and rule.formula1.replace(" ", "") == f'INDIRECT("二级_"&$A{cell[1:]})'
    [result] = check_files([saved], key=KEY)
    assert not _codes(result) & (INTEGRITY | {"LEVEL2_MISMATCH", "INVALID_CHOICE"}), [(f.code, f.cell) for f in result.findings]
