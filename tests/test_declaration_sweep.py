"""What an adversarial sweep of the 申报 stage found: outputs that would overwrite an input,
numbers out of range, tiny approved values, last year's forms, too many projects, added sheets,
a 批复表 fed back as a return, the reasons `targets` gives, and the 申报表's layout version."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

import test_declaration
from declfill import fill, good_project, good_rows
from xltool.cli import main

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "samples" / "roster.csv"
KEY = ROOT / "samples" / "demo.key"
RETURNED = next((ROOT / "samples" / "returned").glob("2020_*.xlsx"))


# The demo key chosen per test put back, and the 申报表 made from the sample roster (module fixtures).
_keep_environment = test_declaration._keep_environment
forms = test_declaration.forms


@pytest.fixture(scope="module")
def good(forms, tmp_path_factory):
    return fill(forms["project"], tmp_path_factory.mktemp("good") / "good.xlsx", [good_project(), good_project()])


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- 1. an output that is an input


def _spell(folder: Path, how: str) -> str:
    """The output path, naming the return x.xlsx of `folder` the way `how` says."""
    if how == "same":
        return str(folder / "x.xlsx")
    if how == "dotdot":
        return str(folder / ".." / folder.name / "." / "x.xlsx")
    if how == "symlink":
        os.symlink("x.xlsx", folder / "link.xlsx")
        return str(folder / "link.xlsx")
    os.link(folder / "x.xlsx", folder.parent / "hard.xlsx")  # a hard link outside the folder
    return str(folder.parent / "hard.xlsx")


@pytest.mark.parametrize("command", ["targets", "check"])
@pytest.mark.parametrize("how", ["same", "dotdot", "symlink", "hard"])
@pytest.mark.parametrize("named", [False, True])
def test_an_output_that_is_an_input_is_refused_and_the_input_unchanged(good, tmp_path, capsys, command, how, named):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "a.xlsx")
    shutil.copy(good if command == "check" else RETURNED, folder / "x.xlsx")  # targets: x.xlsx is no 申报表; check: any return
    out = _spell(folder, how)
    before = {p.name: _sha(p) for p in folder.iterdir() if not p.is_symlink()}
    inputs = [str(folder / "a.xlsx"), str(folder / "x.xlsx")] if named else [str(folder)]
    assert main([command, *inputs, "--out", out, "--key", str(KEY), "-q"]) == 2
    err = capsys.readouterr().err
    assert "不会覆盖任何输入文件" in err and "请换一个输出路径" in err
    assert {p.name: _sha(p) for p in folder.iterdir() if not p.is_symlink()} == before


def test_our_own_earlier_batch_output_in_the_folder_is_still_replaced(good, tmp_path, capsys):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "a.xlsx")
    args = ["check", str(folder), "--out", str(folder / "汇总.xlsx"), "--key", str(KEY), "-q"]
    assert main(args) == 0
    assert main(args) == 0
    assert "是本程序写出的汇总、检查意见或批复表" in capsys.readouterr().err


# ---------------------------------------------------------------- 2. numbers out of any sensible range


def _form_with(row: dict | None = None, **header) -> dict:
    rows = [dict(r) for r in good_rows()]
    rows[0].update(row or {})
    return dict(good_project(rows=rows), **header)


@pytest.mark.parametrize(
    "row, header, code, cell, seen",
    [
        (None, dict(other=1e300), "VALUE_OUT_OF_RANGE", "C11", "1.0E+300"),
        (None, dict(other="1e300"), "VALUE_OUT_OF_RANGE", "C11", "1.0E+300"),
        (None, dict(other=2e9), "VALUE_OUT_OF_RANGE", "C11", "2000000000"),  # 元 typed where 万元 is asked
        (None, dict(other=-5), "VALUE_OUT_OF_RANGE", "C11", "-5"),
        (None, dict(other="NaN"), "TEXT_IN_NUMBER", "C11", "NaN"),
        (dict(target=1e300, unit="册"), {}, "VALUE_OUT_OF_RANGE", "F16", "1.0E+300"),
        (dict(target="1e9999", unit="册"), {}, "VALUE_OUT_OF_RANGE", "F16", "1.0E+9999"),
        (dict(target=1e13, unit="册"), {}, "VALUE_OUT_OF_RANGE", "F16", "10000000000000"),
        (dict(target="1e-9999", unit="册"), {}, "VALUE_OUT_OF_RANGE", "F16", "1.0E-9999"),  # an Excel number would hold 0
        (dict(target="-Infinity"), {}, "TEXT_IN_NUMBER", "F16", "-Infinity"),
        (dict(target=1e9), {}, "DECL_PERCENT_OVER_100", "F16", "1000000000"),
        (dict(target=1e300), {}, "VALUE_OUT_OF_RANGE", "F16", "1.0E+300"),  # a percent too, but first absurd
        (dict(points=1e300), {}, "VALUE_OUT_OF_RANGE", "H16", "1.0E+300"),
    ],
)
def test_numbers_out_of_range_are_reported_on_their_cell(forms, tmp_path, row, header, code, cell, seen):
    from xltool.core.messages import show

    result = test_declaration._check(fill(forms["project"], tmp_path / "x.xlsx", [_form_with(row, **header), good_project()]))
    assert result.status == "failed"
    found = [f for f in result.findings if f.sheet == "项目1" and f.cell == cell]
    assert [f.code for f in found] == [code], test_declaration._codes(result)
    assert show(found[0].seen) == seen and seen in found[0].message and len(found[0].message) < 200
    assert not [f for f in result.findings if f.code == "DECL_POINTS_SUM"]  # an impossible 分值 is not summed as well


@pytest.mark.parametrize("target", [0.00005, 0.12345678901234567, 0.30000000000000004])  # 17 digits: a pasted result as Excel saves it
def test_a_target_an_excel_number_keeps_is_accepted(forms, tmp_path, target):
    result = test_declaration._check(fill(forms["project"], tmp_path / "x.xlsx", [_form_with(dict(target=target, unit="册")), good_project()]))
    assert (result.status, result.findings) == ("passed", [])


# ---------------------------------------------------------------- 3. a tiny approved value


def _evaluated(report: Path, project: str, indicator: str) -> tuple[list[D], list[str]]:
    """The targets the check used for one indicator, and the codes saying a locked cell changed."""
    results = json.loads(report.read_text(encoding="utf-8"))
    targets = [D(str(i["target"])) for r in results for ev in r["evaluations"] if ev["name"] == project for i in ev["indicators"] if i["name"] == indicator]
    changed = [f["code"] for r in results for f in r["findings"] if f["code"] in ("TARGET_CHANGED", "PREFILL_CHANGED", "LOCKED_CHANGED")]
    return targets, changed


def _approved_round_trip(forms, tmp_path, target: float, as_csv: bool = False) -> Path:
    """A 申报表 whose first 指标值 is `target` → xltool targets → template --targets → a filled
    self-evaluation → check --targets: the JSON report."""
    from test_declaration import _fill_evaluation

    declared = fill(forms["project"], tmp_path / "p.xlsx", [_form_with(dict(target=target, unit="册")), good_project()])
    approved = tmp_path / "approved.xlsx"
    assert main(["targets", str(declared), "--out", str(approved), "--roster", str(ROSTER), "--key", str(KEY), "-q"]) == 0
    if as_csv:  # the 批复表 saved as CSV by Excel: the small number in scientific notation
        rows = list(openpyxl.load_workbook(approved).active.iter_rows(values_only=True))
        assert rows[1][7] == target
        text = "\n".join(",".join("5E-05" if v == 0.00005 else "" if v is None else str(v) for v in row) for row in rows)
        approved = tmp_path / "approved.csv"
        approved.write_text(text, encoding="utf-8")
    assert main(["template", "--roster", str(ROSTER), "--targets", str(approved), "--out", str(tmp_path / "t"), "--key", str(KEY), "-q"]) == 0
    template = next((tmp_path / "t").glob("2020_*.xlsx"))
    filled = tmp_path / "filled"
    filled.mkdir()
    _fill_evaluation(template, filled / template.name)
    report = tmp_path / "r.json"
    main(["check", str(filled), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--roster", str(ROSTER), "--targets", str(approved), "--key", str(KEY), "-q"])
    return report


@pytest.mark.parametrize("as_csv", [False, True])
def test_a_tiny_approved_value_reaches_the_template_and_the_check_unchanged(forms, tmp_path, as_csv):
    report = _approved_round_trip(forms, tmp_path, 0.00005, as_csv)
    assert _evaluated(report, "档案保护费", "产出指标指标甲") == ([D("0.00005")], [])


def test_a_seventeen_digit_approved_value_is_the_figure_excel_shows_all_the_way(forms, tmp_path):
    """A 指标值 pasted from a computation is saved with 17 digits: the 批复表, the template and the
    check keep the figure Excel shows (15 digits), and no locked cell is said to have changed."""
    report = _approved_round_trip(forms, tmp_path, 0.12345678901234567)
    assert _evaluated(report, "档案保护费", "产出指标指标甲") == ([D("0.123456789012346")], [])


@pytest.mark.parametrize("target", ["1E+300", "1e-9999"])
def test_an_approved_value_the_template_cannot_keep_is_refused_with_its_row(tmp_path, target):
    from xltool.template.approved import read_targets
    from xltool.template.roster import RosterError, read_roster

    path = tmp_path / "approved.csv"
    path.write_text("单位编码,项目名称,一级指标,二级指标,三级指标,计算符号,指标值,计量单位,分值\n"
                    f"420106-DAG,档案保护费,产出指标,数量指标,整理,≥,{target},册,50\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        read_targets(path, read_roster(ROSTER))
    assert "第 2 行“指标值”列" in str(caught.value) and "最多 15 位有效数字" in str(caught.value)


# ---------------------------------------------------------------- 4. last year's 申报表


@pytest.fixture(scope="module")
def last_year(tmp_path_factory):
    """武昌区档案馆's 申报表 of 2019 (the sample roster lists it for 2020), filled without a fault."""
    folder = tmp_path_factory.mktemp("2019")
    roster = folder / "名册2019.csv"
    roster.write_text(ROSTER.read_text(encoding="utf-8-sig").replace(",2020,项目", ",2019,项目"), encoding="utf-8")
    assert main(["template", "--roster", str(roster), "--stage", "申报", "--out", str(folder / "t"), "--key", str(KEY), "-q"]) == 0
    return fill(next((folder / "t").glob("2019_*.xlsx")), folder / "去年.xlsx", [good_project(), good_project()])


@pytest.mark.parametrize("with_roster", [True, False])
def test_targets_refuses_last_years_declaration_naming_file_and_year(good, last_year, tmp_path, capsys, with_roster):
    out = tmp_path / "批复表.xlsx"
    args = [str(last_year), "--roster", str(ROSTER)] if with_roster else [str(last_year), str(good)]
    assert main(["targets", *args, "--out", str(out), "--key", str(KEY)]) == 1
    err = capsys.readouterr().err
    said = next(line for line in err.splitlines() if line.startswith("去年.xlsx"))
    assert "2019 年度的申报表" in said and ("名册中该单位是 2020 年度" if with_roster else "其他申报表是 2020 年度") in said and "请" in said
    assert "已经申报过" not in err and "good.xlsx" not in err  # the year is the reason, and the file of this year is fine
    assert not out.exists()


# ---------------------------------------------------------------- 5. more projects than a 申报表 holds


def _roster_with(tmp_path: Path, projects: int) -> Path:
    path = tmp_path / f"名册{projects}.csv"
    head = "单位名称,单位编码,年度,类型,项目名称,全年预算数,当年财政拨款全年预算数\n"
    path.write_text(head + "".join(f"武昌区档案馆,420106-DAG,2020,项目,项目{i:03d},10,10\n" for i in range(projects)), encoding="utf-8")
    return path


def test_template_refuses_a_roster_unit_with_more_projects_than_a_declaration_holds(tmp_path, capsys):
    from xltool.template.declaration import MAX_FORMS

    assert main(["template", "--roster", str(_roster_with(tmp_path, MAX_FORMS + 1)), "--stage", "申报", "--out", str(tmp_path / "t"), "--key", str(KEY), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"武昌区档案馆（420106-DAG）有 {MAX_FORMS + 1} 个项目" in err and f"最多 {MAX_FORMS} 个项目" in err and "请核对名册" in err
    assert not (tmp_path / "t").exists() or not list((tmp_path / "t").iterdir())


def test_a_declaration_with_more_projects_than_the_checker_reads_is_said_so(tmp_path, capsys, monkeypatch):
    from xltool.template import declaration
    from xltool.template.declaration import MAX_FORMS

    assert main(["template", "--roster", str(_roster_with(tmp_path, MAX_FORMS)), "--stage", "申报", "--out", str(tmp_path / "full"), "--key", str(KEY), "-q"]) == 0
    full = next((tmp_path / "full").glob("*.xlsx"))
    assert test_declaration._check(full).kind == "declaration"  # the capacity itself is read (and is blank)
    with monkeypatch.context() as m:  # a 申报表 with one project more, as another program (or a forged _meta) may make
        m.setattr(declaration, "MAX_FORMS", MAX_FORMS + 1)
        assert main(["template", "--roster", str(_roster_with(tmp_path, MAX_FORMS + 1)), "--stage", "申报", "--out", str(tmp_path / "big"), "--key", str(KEY), "-q"]) == 0
    big = next((tmp_path / "big").glob("*.xlsx"))
    result = test_declaration._check(big)
    assert (result.status, [f.code for f in result.findings]) == ("unreadable", ["DECL_TOO_MANY_PROJECTS"])
    assert f"{MAX_FORMS + 1} 个项目" in result.findings[0].message and "请" in result.findings[0].message
    assert main(["targets", str(big), "--out", str(tmp_path / "批复表.xlsx"), "--key", str(KEY)]) == 1
    err = capsys.readouterr().err
    assert f"{MAX_FORMS + 1} 个项目" in err and not (tmp_path / "批复表.xlsx").exists()


# ---------------------------------------------------------------- 6. a worksheet the unit added


def test_an_added_worksheet_is_a_warning_on_that_sheet_and_targets_says_it(forms, tmp_path, capsys):
    from test_checks import assert_sentence
    from xltool.core.messages import CODES

    def add(wb):
        wb.copy_worksheet(wb["项目2"]).title = "项目3"  # a third project, copied by the unit
        wb.create_sheet("附件说明")["A1"] = "详见附件"

    path = fill(forms["project"], tmp_path / "x.xlsx", [good_project(), good_project()], edit=add)
    result = test_declaration._check(path)
    assert [(f.code, f.sheet, f.severity) for f in result.findings] == [("DECL_SHEET_ADDED", "项目3", "warning"), ("DECL_SHEET_ADDED", "附件说明", "warning")]
    assert result.status == "passed" and CODES["DECL_SHEET_ADDED"][0] == "warning"  # what the issued sheets say is read as ever
    for f in result.findings:
        assert_sentence(f)
        assert f.sheet in f.message and "不会被读取" in f.message and "请" in f.message
    assert main(["targets", str(path), "--out", str(tmp_path / "批复表.xlsx"), "--roster", str(ROSTER), "--key", str(KEY)]) == 0
    err = capsys.readouterr().err
    assert "x.xlsx（武昌区档案馆）提示：" in err and "“项目3”" in err and "“附件说明”" in err


# ---------------------------------------------------------------- 7. a 批复表 fed back as a return


def test_an_approved_targets_file_among_the_returns_is_set_aside_as_ours(good, tmp_path, capsys):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "a.xlsx")
    approved = folder / "批复表.xlsx"
    assert main(["targets", str(folder), "--out", str(approved), "--key", str(KEY), "-q"]) == 0
    assert main(["targets", str(folder), "--out", str(approved), "--key", str(KEY), "-q"]) == 0  # again, into the same folder
    capsys.readouterr()
    skipped = "1 个是本程序写出的汇总、检查意见或批复表，不是回收的自评表或申报表"
    # found in the folder: passed over with a sentence, the rest read as before
    assert main(["targets", str(folder), "--out", str(tmp_path / "另一份.xlsx"), "--key", str(KEY), "-q"]) == 0
    assert skipped in capsys.readouterr().err
    assert main(["check", str(folder), "--out", str(tmp_path / "汇总.xlsx"), "--key", str(KEY), "-q"]) == 0
    assert skipped in capsys.readouterr().err
    # named: said to be ours, and the run fails as for any file that is not a return
    assert main(["targets", str(folder / "a.xlsx"), str(approved), "--out", str(tmp_path / "t.xlsx"), "--key", str(KEY), "-q"]) == 1
    said = [line for line in capsys.readouterr().err.splitlines() if line.startswith("批复表.xlsx：")]
    assert len(said) == 1 and "本程序写出的汇总、检查意见或批复表" in said[0]
    report = tmp_path / "r.json"
    assert main(["check", str(folder / "a.xlsx"), str(approved), "--out", str(tmp_path / "c.xlsx"), "--json", str(report), "--key", str(KEY), "-q"]) == 1
    found = {Path(r["file"]).name: r for r in json.loads(report.read_text(encoding="utf-8"))}
    assert found["a.xlsx"]["status"] == "passed" and found["批复表.xlsx"]["status"] == "unreadable"
    assert "本程序写出的汇总、检查意见或批复表" in found["批复表.xlsx"]["findings"][0]["message"]


# ---------------------------------------------------------------- 8. the reasons targets gives


def test_targets_gives_each_file_the_reasons_check_gives_with_their_cells(forms, tmp_path, capsys):
    rows = [dict(r) for r in good_rows()]
    rows[0].update(target="1万以上")
    rows[1].update(points=40)
    bad = fill(forms["project"], tmp_path / "bad.xlsx", [dict(good_project(rows=rows), other=-3, long_goal="见附件"), good_project()])
    report = tmp_path / "r.json"
    assert main(["check", str(bad), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--key", str(KEY), "-q"]) == 1
    errors = [f for r in json.loads(report.read_text(encoding="utf-8")) for f in r["findings"] if f["severity"] == "error"]
    assert len(errors) >= 4
    assert main(["targets", str(bad), "--out", str(tmp_path / "批复表.xlsx"), "--key", str(KEY)]) == 1
    err = capsys.readouterr().err
    assert f"bad.xlsx（武昌区档案馆）有 {len(errors)} 个错误" in err
    for f in errors:
        assert f"{f['sheet']} {f['cell']}：{f['message']}" in err


def test_targets_with_a_roster_lacking_the_unit_names_the_file_not_rows_of_a_file_never_written(good, tmp_path, capsys):
    roster = tmp_path / "名册.csv"
    roster.write_text("".join(line for line in ROSTER.read_text(encoding="utf-8-sig").splitlines(keepends=True) if "武昌" not in line), encoding="utf-8")
    assert main(["targets", str(good), "--roster", str(roster), "--out", str(tmp_path / "批复表.xlsx"), "--key", str(KEY)]) == 1
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if line.startswith("good.xlsx（武昌区档案馆）")]
    assert len(said) == 1 and "名册中没有这个项目支出单位（单位编码 420106-DAG）" in said[0] and "请核对名册" in said[0]
    assert "第 2 行" not in err and "\\x0a" not in err and not (tmp_path / "批复表.xlsx").exists()


# ---------------------------------------------------------------- 9. the 申报表's layout version


def _set_meta(key: str, value):
    def edit(wb):
        ws = wb["_meta"]
        row = next((r for r in ws.iter_rows() if r[0].value == key), None)
        if value is None and row is not None:
            ws.delete_rows(row[0].row)
        elif row is not None:
            row[1].value = value
        else:
            ws.append([key, value])
    return edit


def test_a_declaration_records_its_layout_and_one_without_it_reads_as_layout_1(forms, tmp_path):
    from xltool.template.signing import current_key, sign, use_key_file

    meta = {r[0]: r[1] for r in openpyxl.load_workbook(forms["project"])["_meta"].iter_rows(values_only=True)}
    assert meta["layout"] == "1"
    # a 申报表 made before the layout was recorded (re-signed as it was issued): read as before
    def old(wb):
        _set_meta("layout", None)(wb)
        ws = wb["_meta"]
        values = {r[0].value: r[1].value for r in ws.iter_rows()}
        next(r for r in ws.iter_rows() if r[0].value == "signature")[1].value = sign(values, current_key())

    use_key_file(KEY)
    before = fill(forms["project"], tmp_path / "old.xlsx", [good_project(), good_project()], edit=old)
    assert "layout" not in {r[0] for r in openpyxl.load_workbook(before)["_meta"].iter_rows(values_only=True)}
    result = test_declaration._check(before)
    assert (result.kind, result.status, result.findings) == ("declaration", "passed", [])


def test_a_declaration_of_a_later_layout_is_not_read_as_this_one(forms, tmp_path):
    result = test_declaration._check(fill(forms["project"], tmp_path / "new.xlsx", [good_project(), good_project()], edit=_set_meta("layout", "2")))
    assert (result.kind, result.status, [f.code for f in result.findings]) == ("declaration", "unreadable", ["TEMPLATE_LAYOUT_NEWER"])
    assert "模板格式 2" in result.findings[0].message and "升级" in result.findings[0].message
    odd = test_declaration._check(fill(forms["project"], tmp_path / "odd.xlsx", [good_project(), good_project()], edit=_set_meta("layout", "甲")))
    assert odd.status == "unreadable" and [f.code for f in odd.findings] == ["NOT_OUR_TEMPLATE"]
