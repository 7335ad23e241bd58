"""Rosters and `xltool template`, as a finance officer runs them."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from xltool.cli import main
from xltool.core.framework import FrameworkError, load_framework, parse_framework
from xltool.template.roster import RosterError, read_roster

HEADER = "单位名称,单位编码,年度,类型,年初预算数,调整预算数,决算数,项目名称,全年预算数\n"
GOOD = HEADER + (
    "武汉市档案馆,420100-DAG,2021,部门整体,3203.46,2814.98,2814.98,,\n"
    "武昌区档案馆,420106-DAG,2020,项目,,,,档案保护费,300\n"
    "武昌区档案馆,420106-DAG,2020,项目,,,,史料编研费,100\n"
)


def _write(tmp_path: Path, text: str, name="roster.csv", encoding="utf-8-sig") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_roster_reads_units_and_their_projects(tmp_path):
    units = read_roster(_write(tmp_path, GOOD))
    wuhan, wuchang = units
    assert (wuhan.name, wuhan.kind, wuhan.initial_budget, wuhan.final_accounts) == ("武汉市档案馆", "department", D("3203.46"), D("2814.98"))
    assert [(p.name, p.budget) for p in wuchang.projects] == [("档案保护费", D("300.00")), ("史料编研费", D("100.00"))]


def test_roster_saved_by_excel_in_gbk_is_read(tmp_path):
    assert len(read_roster(_write(tmp_path, GOOD, encoding="gb18030"))) == 2


def test_roster_as_xlsx(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    for line in GOOD.strip().split("\n"):
        ws.append(line.split(","))
    wb.save(tmp_path / "roster.xlsx")
    assert [u.name for u in read_roster(tmp_path / "roster.xlsx")] == ["武汉市档案馆", "武昌区档案馆"]


@pytest.mark.parametrize(
    "text, words",
    [
        (GOOD.replace("单位编码,", ""), ["缺少必需的列", "单位编码"]),
        (GOOD + "汉阳区档案馆,420100-DAG,2021,部门整体,1,1,1,,\n", ["第 5 行", "单位编码", "420100-DAG", "第 2 行"]),
        (GOOD.replace("3203.46", "-5"), ["第 2 行", "年初预算数", "负数"]),
        (GOOD.replace("3203.46", "三千万"), ["第 2 行", "年初预算数", "不是数字"]),
        (GOOD.replace("部门整体", "事业单位"), ["第 2 行", "类型", "事业单位"]),
        (HEADER.rstrip("\n") + ",框架\n" + "武汉市档案馆,420100-DAG,2021,部门整体,1,1,1,,,no-such\n", ["第 2 行", "框架", "no-such"]),
        (GOOD.replace("2021", "二〇二一"), ["第 2 行", "年度"]),
        (GOOD + "武昌区档案馆,420106-DAG,2020,项目,,,,档案保护费,5\n", ["第 5 行", "项目名称", "重复"]),
    ],
    ids=["missing-column", "duplicate-code", "negative", "non-numeric", "unknown-kind", "unknown-framework", "bad-year", "duplicate-project"],
)
def test_bad_roster_stops_with_row_and_column_and_writes_nothing(tmp_path, capsys, text, words):
    roster = _write(tmp_path, text)
    with pytest.raises(RosterError) as info:
        read_roster(roster)
    for word in words:
        assert word in str(info.value)
    out = tmp_path / "out"
    assert main(["template", "--roster", str(roster), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "未生成模板" in err and words[0] in err
    assert not out.exists() or not list(out.iterdir())


def test_template_command_from_roster(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["template", "--roster", str(_write(tmp_path, GOOD)), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["2020_武昌区档案馆_项目支出绩效自评.xlsx", "2021_武汉市档案馆_部门整体支出绩效自评.xlsx"]
    assert "已生成 2 份模板" in capsys.readouterr().out


def test_template_command_for_one_unit(tmp_path):
    out = tmp_path / "out"
    assert main(["template", "--framework", "project", "--unit", "洪山区档案馆", "--year", "2022", "--out", str(out), "--quiet"]) == 0
    wb = openpyxl.load_workbook(out / "2022_洪山区档案馆_项目支出绩效自评.xlsx")
    assert wb["基本信息"]["B3"].value == "洪山区档案馆"


def test_template_command_usage_errors_exit_2(tmp_path, capsys):
    assert main(["template", "--unit", "x", "--out", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as info:
        main(["template", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert "用法" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_program():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "xltool", "--help"], capture_output=True, text=True, cwd=Path(__file__).parents[1])
    assert done.returncode == 0 and "template" in done.stdout and "check" in done.stdout


# ---------------------------------------------------------------- framework files


def test_bundled_frameworks_load_and_add_up():
    project = load_framework("project")
    assert project.execution_points + sum(c.points for c in project.categories) == 100
    department = load_framework("department")
    assert [(c.name, c.points) for c in department.criteria] == [("投入", 20), ("过程", 30), ("产出", 25), ("效果", 25)]
    for crit in department.criteria:
        assert sum(i.points for i in crit.indicators) == crit.points


def test_framework_error_names_file_key_and_line():
    text = Path(load_framework("project").source).name
    bad = (Path(__file__).parents[1] / "workbook_templates" / "project.yaml").read_text(encoding="utf-8").replace("points: 50", "points: 40")
    with pytest.raises(FrameworkError) as info:
        parse_framework(bad, source="project-bad.yaml")
    message = str(info.value)
    assert "project-bad.yaml" in message and "categories" in message and "100" in message and "行" in message
    assert text == "project.yaml"


def test_framework_with_unknown_reverse_rule_is_refused():
    bad = (Path(__file__).parents[1] / "workbook_templates" / "project.yaml").read_text(encoding="utf-8").replace("reverse_rule: linear", "reverse_rule: sideways")
    with pytest.raises(FrameworkError, match="reverse_rule"):
        parse_framework(bad, source="x.yaml")


def test_reverse_rule_and_cap_settings_change_the_template_formula(tmp_path):
    from dataclasses import replace

    from xltool.template.layout import build_plan
    from conftest import WUCHANG

    fw = load_framework("project")
    assert (fw.reverse_rule, fw.score_cap) == ("linear", "none")  # the national rules by default
    ratio = replace(fw, reverse_rule="ratio")
    capped = replace(fw, score_cap="points_minus_cent")
    formula = lambda f: next(c.value for c in build_plan(f, WUCHANG).cells if c.role == "formula" and "MEDIAN" in str(c.value))  # noqa: E731
    assert "1-(" in formula(fw) and "1-(" not in formula(ratio)
    assert "J5-0.01)" not in formula(fw) and "J5-0.01)" in formula(capped)  # J: 分值


def test_framework_settings_for_cap_reasons_and_over_achievement_are_checked():
    text = (Path(__file__).parents[1] / "workbook_templates" / "project.yaml").read_text(encoding="utf-8")
    fw = parse_framework(text + "\nscore_cap: points_minus_cent\nreason_above_percent: 30\n", source="x.yaml")
    assert fw.score_cap == "points_minus_cent" and fw.reason_above_percent == 30 and fw.over_achievement_percent == 120
    assert parse_framework(text.replace("over_achievement_percent: 120", "over_achievement_percent: 0"), source="x.yaml").over_achievement_percent is None
    for bad, key in (("score_cap: sometimes", "score_cap"), ("reason_rule: never", "reason_rule"), ("over_achievement_percent: 90", "over_achievement_percent")):
        with pytest.raises(FrameworkError, match=key):
            parse_framework(text.replace("over_achievement_percent: 120", "") + "\n" + bad + "\n", source="x.yaml")


def test_readme_lists_every_finding_code():
    from xltool.core.messages import CODES

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert [code for code in CODES if f"`{code}`" not in readme] == []


def test_readme_commands_match_ci():
    root = Path(__file__).parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    ci = (root / ".ci" / "run").read_text(encoding="utf-8")
    test_command = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test]" && python -m pytest -q'
    assert test_command in readme
    assert test_command.replace('pip install -e', 'pip install -q -e') in ci


# --- the command line speaks Chinese, argparse's own words included ---------------------------

_ALLOWED = re.compile(  # option names, the program and its commands, codes, formats, examples
    r"(?<![A-Za-z])(?:--?[a-z][a-z-]*|xltool-demo|xltool|template|check|targets|report|serve|demo|[A-Z][A-Z_]+|\.xlsx|\.csv|\.docx|\.zip"
    r"|project|department|returned|Excel|WPS|UTF|Unicode|LibreOffice|Word|SQLite|postgresql)(?![A-Za-z])"
)


def _english_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", _ALLOWED.sub("", text))


def _run(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["check"], ["缺少必需的参数", "路径"]),
        (["check", "a.xlsx"], ["缺少必需的参数：--out"]),
        (["check", "--jobs", "x", "a.xlsx", "--out", "s.xlsx"], ["参数 -j/--jobs 应为整数", "“x”"]),
        (["template", "--year", "x"], ["参数 --year 应为整数"]),
        (["template", "--unit", "甲", "--roster", "r.csv", "--out", "o"], ["--roster 不能与 --unit 同时使用"]),
        (["check", "a.xlsx", "--out", "s.xlsx", "--bogus"], ["无法识别的参数：--bogus"]),
        (["检查"], ["“检查”不是可用的命令", "可选：template, check, targets, report, serve, demo"]),
        (["check", "--out"], ["--out 后面需要跟一个值"]),
    ],
)
def test_usage_errors_are_chinese(capsys, argv, words):
    code, text = _run(capsys, argv)
    assert code == 2
    assert text.startswith("用法：xltool")
    for word in words:
        assert word in text
    assert _english_words(text) == [], text


@pytest.mark.parametrize("argv", [["--help"], ["check", "--help"], ["template", "--help"], ["report", "--help"], ["targets", "--help"], ["demo", "--help"], ["serve", "--help"], []])
def test_help_is_chinese(capsys, argv):
    code, text = _run(capsys, argv)
    assert code in (0, 2)
    assert "用法：" in text and "显示本帮助并退出" in text
    assert _english_words(text) == [], text


# --- a roster tells every problem at once, in Chinese --------------------------------------------


def test_roster_lists_all_its_errors_at_once(tmp_path, capsys):
    text = GOOD.replace("3203.46", "三千万").replace("420106-DAG,2020,项目,,,,档案保护费", "420106-DAG,二〇二〇,项目,,,,档案保护费")
    text = text.replace(",项目,,,,史料编研费", ",事业单位,,,,史料编研费")
    roster = _write(tmp_path, text)
    with pytest.raises(RosterError) as info:
        read_roster(roster)
    message = str(info.value)
    assert "有 3 处错误" in message
    assert "第 2 行“年初预算数”列：“三千万”不是数字" in message
    assert "第 3 行“年度”列：“二〇二〇”不是有效年度" in message
    assert "第 4 行“类型”列：“事业单位”不是已知类型" in message
    assert main(["template", "--roster", str(roster), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "第 2 行" in err and "第 3 行" in err and "第 4 行" in err
    assert not (tmp_path / "out").exists()


def test_roster_lists_at_most_50_errors(tmp_path):
    rows = "".join(f"档案馆{i},C{i},2021,部门整体,-1,1,1,,\n" for i in range(60))
    with pytest.raises(RosterError) as info:
        read_roster(_write(tmp_path, HEADER + rows))
    message = str(info.value)
    assert "有 60 处错误" in message and "  50. 第 51 行" in message and "51. " not in message
    assert "还有 10 处错误未列出" in message


def test_roster_headings_in_any_width_and_spacing(tmp_path):
    header = "单位 名称,单位编码,年度,类型,年初预算数(万元),调整预算数（万元）,决算数 （万元）,项目名称,全年预算数\n"
    units = read_roster(_write(tmp_path, header + GOOD.split("\n", 1)[1]))
    assert [(u.name, u.initial_budget, u.adjusted_budget, u.final_accounts) for u in units][0] == (
        "武汉市档案馆", D("3203.46"), D("2814.98"), D("2814.98"),
    )


def test_roster_names_the_nearest_known_column(tmp_path, capsys):
    with pytest.raises(RosterError) as info:
        read_roster(_write(tmp_path, GOOD.replace("单位名称", "单位名", 1)))
    assert "未知的列“单位名”，是不是“单位名称”？" in str(info.value)
    notes: list[str] = []
    read_roster(_write(tmp_path, GOOD.replace("全年预算数\n", "全年预算数,备注\n", 1)), notes)
    assert notes == ["名册 roster.csv 的列“备注”不是名册使用的列，已忽略。"]


def test_roster_saved_as_unicode_text_is_read(tmp_path):
    # Excel's "Unicode 文本 (*.txt)": UTF-16 little-endian with a BOM, tab-separated
    path = tmp_path / "roster.txt"
    path.write_bytes(GOOD.replace(",", "\t").encode("utf-16"))
    assert [u.name for u in read_roster(path)] == ["武汉市档案馆", "武昌区档案馆"]
    path = tmp_path / "roster.csv"
    path.write_bytes(GOOD.encode("utf-16"))
    assert len(read_roster(path)) == 2


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("roster.csv", b"", ["文件是空的"]),
        ("roster.xlsx", b"not a workbook at all", ["不是压缩包格式"]),
        ("roster.csv", (HEADER + "a,b,2021,项目,,,,p,1,extra,more\n").encode(), ["第 2 行", "比表头"]),
    ],
    ids=["empty", "xlsx-not-zip", "too-many-fields"],
)
def test_roster_file_errors_are_chinese(tmp_path, name, data, words):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(RosterError) as info:
        read_roster(path)
    for word in words:
        assert word in str(info.value)
    assert _english_words(str(info.value).replace(name, "")) == []


@pytest.mark.parametrize(
    "text, words",
    [
        ("name: a: b\n", ["第 1 行第 8 列", "冒号"]),
        ("name: x\nkind:\n\t- project\n", ["第 3 行", "制表符"]),
        ("name: 'open\n", ["引号"]),
    ],
)
def test_framework_yaml_errors_are_chinese(text, words):
    with pytest.raises(FrameworkError) as info:
        parse_framework(text, "bad.yaml")
    message = str(info.value)
    assert "框架文件 bad.yaml 不是有效的 YAML" in message
    for word in words:
        assert word in message
    assert _english_words(message.replace("bad.yaml", "")) == [], message


def test_exception_details_are_chinese(tmp_path):
    import io
    import zipfile

    from lxml import etree

    from xltool.core.messages import explain

    def raised(action):
        try:
            action()
        except Exception as exc:  # noqa: BLE001
            return explain(exc)
        raise AssertionError("nothing raised")

    assert raised(lambda: open(tmp_path / "none.xlsx", "rb")).startswith("文件或文件夹不存在")
    assert raised(lambda: open(tmp_path, "rb")).startswith("这是一个文件夹，不是文件")
    assert raised(lambda: zipfile.ZipFile(io.BytesIO(b"plain text"))).startswith("不是压缩包格式")
    assert raised(lambda: etree.fromstring(b"<a><b></a>")) == "XML 格式错误（第 1 行）"
    assert raised(lambda: b"\xff".decode("utf-8")).startswith("文字编码无法识别")
    assert raised(lambda: {}["x"]) == "内容无法识别"
    error = OSError(28, "No space left on device")
    assert explain(error).startswith("磁盘空间已满")
    from xlsxwriter.exceptions import FileCreateError

    wrapped = FileCreateError(PermissionError(13, "Permission denied", "汇总.xlsx"))
    assert explain(wrapped) == "没有访问权限，请检查文件或文件夹的权限，或换一个位置（汇总.xlsx）"
    try:
        raise OSError(str(wrapped)) from wrapped
    except OSError as again:
        assert explain(again) == explain(wrapped)


def test_roster_without_the_frameworks_kind_says_so_in_chinese(tmp_path, capsys):
    roster = _write(tmp_path, HEADER + "武汉市档案馆,420100-DAG,2021,部门整体,1,1,1,,\n")
    assert main(["template", "--roster", str(roster), "--framework", "project", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "名册中没有类型为“项目支出”的单位" in err
    assert _english_words(err.replace(str(tmp_path), "")) == []


# ---------------------------------------------------------------- more than a template holds


def _projects(count: int) -> str:
    return HEADER + "".join(f"武昌区档案馆,420106-DAG,2020,项目,,,,项目{i},10\n" for i in range(1, count + 1))


def test_a_roster_with_more_projects_than_a_template_holds_is_refused_before_anything_is_written(tmp_path, capsys):
    from xltool.template import MAX_PROJECTS

    out = tmp_path / "out"
    roster = _write(tmp_path, HEADER + "武汉市档案馆,420100-DAG,2021,部门整体,1,1,1,,\n" + _projects(MAX_PROJECTS + 1)[len(HEADER):])
    assert main(["template", "--roster", str(roster), "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    assert "未生成模板" in err
    assert f"单位“武昌区档案馆”（编码 420106-DAG）名册中有 {MAX_PROJECTS + 1} 个项目，一份项目支出自评模板最多容纳 {MAX_PROJECTS} 个项目" in err
    assert not out.exists() or not list(out.iterdir())  # not even the unit-wide template of the other unit


def test_the_most_projects_a_template_holds_stay_within_what_the_checker_reads():
    """The limit is honest: a template at it, every input filled, is not too large for the checker."""
    from collections import Counter

    from xltool.check import xlsx
    from xltool.core.model import ProjectInfo, UnitInfo
    from xltool.template import MAX_PROJECTS, SHEET_CELLS, plan_for, refuse_overfull

    unit = UnitInfo("武昌区档案馆", "420106-DAG", 2020, "project", projects=tuple(ProjectInfo(f"项目{i}", D(10)) for i in range(MAX_PROJECTS)))
    refuse_overfull([unit])
    plan = plan_for(unit)
    per_sheet = Counter(c.sheet for c in plan.cells)
    assert SHEET_CELLS < xlsx.MAX_CELLS and max(per_sheet.values()) <= SHEET_CELLS
    assert len(plan.cells) <= xlsx.MAX_BOOK_CELLS and len(plan.names) < xlsx.MAX_NAMES


def test_units_given_as_data_with_more_approved_indicators_than_a_block_has_rows_are_refused(tmp_path):
    """A targets file says so itself (core.approved); units handed to the library directly must
    not overwrite the next block's title with their 21st row either."""
    from xltool import generate_templates
    from xltool.core.approved import ApprovedIndicator
    from xltool.core.model import ProjectInfo, UnitInfo

    rows = tuple(ApprovedIndicator(i, "产出指标", "数量指标", f"指标{i}", "≥", D(10), "册", D(1)) for i in range(2, 23))
    unit = UnitInfo("武昌区档案馆", "420106-DAG", 2020, "project", projects=(ProjectInfo("档案保护费", D(300), approved=rows), ProjectInfo("史料编研费")))
    with pytest.raises(RosterError) as info:
        generate_templates([unit], tmp_path / "out")
    assert "单位“武昌区档案馆”（编码 420106-DAG）项目“档案保护费”批复了 21 个指标，模板每个项目只有 20 行指标" in str(info.value)
    assert not (tmp_path / "out").exists()


def test_more_approved_goals_than_the_template_has_are_refused(tmp_path):
    from xltool import generate_templates
    from xltool.core.approved import ApprovedIndicator
    from xltool.core.model import UnitInfo

    row = (ApprovedIndicator(2, "产出指标", "数量指标", "档案接收", "≥", D(10), "卷", None),)
    unit = UnitInfo("武汉市档案馆", "420100-DAG", 2021, "department", goals=tuple((f"目标{g}", row) for g in range(1, 9)))
    with pytest.raises(RosterError) as info:
        generate_templates([unit], tmp_path / "out")
    assert "单位“武汉市档案馆”（编码 420100-DAG）的批复表有 8 个年度目标，模板只有 6 个年度目标" in str(info.value)
    assert not (tmp_path / "out").exists()
