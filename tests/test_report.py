"""report.py: every output written from hand-built Results, then read back.

The xlsx files are read with openpyxl (values, number formats, data types, panes, filters, print
setup) and unzipped for the parts openpyxl drops on load (charts).
"""

from __future__ import annotations

import dataclasses
import csv
import json
import os
import re
import zipfile
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from xltool import report
from xltool.core.model import Evaluation, Finding, Result
from xltool.report import safe_text

INJECTED_UNIT = '=HYPERLINK("http://x")'

# ---------------------------------------------------------------- hand-built results


def wuchang() -> Result:
    """武昌区档案馆 2020: two projects (seed 001), one declared score that disagrees."""
    protect = Evaluation(
        name="档案保护费",
        budget=D("300"),
        executed=D("214.68"),
        execution_rate=D("0.7156"),
        declared_score=D("90"),
        score=D("87.16"),
        declared_grade="优",
        grade="良",
        criteria=[
            {"name": "预算执行率", "points": D("10"), "declared": D("8"), "score": D("7.16")},
            {"name": "产出", "points": D("50"), "declared": D("50"), "score": D("50")},
        ],
        indicators=[
            {"block": 1, "level1": "产出", "level2": "数量指标", "name": "档案数字化", "sign": "≥", "target": D("10000"),
             "unit": "页", "actual": D("12000"), "points": D("20"), "declared": D("20"), "score": D("20"), "met": True},
            {"block": 1, "level1": "产出", "level2": "数量指标", "name": "出版史料", "sign": "≥", "target": D("1000"),
             "unit": "册", "actual": D("30"), "points": D("10"), "declared": D("10"), "score": D("0.3"), "met": False},
        ],
    )
    compile_ = Evaluation(
        name="史料编研费", budget=D("100"), executed=D("76"), execution_rate=D("0.76"),
        declared_score=D("85"), score=D("85"), declared_grade="良", grade="良",
    )
    findings = [
        Finding("SCORE_MISMATCH", "error", "项目1自评得分 90 与复核得分 87.16 不一致", "项目支出", "L20", D("90"), D("87.16")),
        Finding("MISSING_REASON", "warning", "出版史料未达成目标，请填写偏差原因", "项目支出", "M15", None, None),
    ]
    return Result("returned/武昌区档案馆_2020.xlsx", "failed", "project", "武昌区档案馆", "420106-DAG", 2020,
                  "project 2020", findings, [protect, compile_])


def wuhan() -> Result:
    """武汉市档案馆 2021 unit-wide (seed 000): 投入19 过程29 产出24 效果23 = 95, 优."""
    criteria = [
        {"name": n, "points": D(p), "declared": D(d), "score": D(s)}
        for n, p, d, s in (("投入", 20, 19, 19), ("过程", 30, 29, 29), ("产出", 25, 24, 24), ("效果", 25, 24, 23))
    ]
    ev = Evaluation(
        name="武汉市档案馆部门整体支出", budget=D("2814.98"), executed=D("2814.98"), execution_rate=D("1.0000"),
        declared_score=D("95"), score=D("95"), declared_grade="优秀", grade="优",
        initial_budget=D("3203.46"), initial_budget_completion_rate=D("0.8787"), criteria=criteria,
    )
    findings = [Finding("CRITERION_MISMATCH", "warning", "效果自评 24 分，按扣分应为 23 分", "部门整体", "E30", D("24"), D("23"))]
    return Result("returned/武汉市档案馆_2021.xlsx", "passed", "department", "武汉市档案馆", "420100-DAG", 2021,
                  "department 2021", findings, [ev])


def broken() -> Result:
    return Result("returned/旧版.xls", "unreadable",
                  findings=[Finding("FILE_XLS_LEGACY", "error", "文件是旧版 .xls 格式，请另存为 .xlsx 后重新报送")])


def evil() -> Result:
    ev = Evaluation(name="-2+3", budget=D("10"), executed=D("5"), execution_rate=D("0.5"), declared_score=D("70"),
                    score=D("70"), declared_grade="中", grade="中")
    findings = [Finding("TEXT_IN_NUMBER", "error", "+cmd", "项目支出", "G9", "=1+1", "@SUM(A1)")]
    return Result("returned/=evil.xlsx", "failed", "project", INJECTED_UNIT, "@code", 2020, "", findings, [ev])


def all_results() -> list[Result]:
    # the unreadable file comes second on purpose: the summary puts it last
    return [wuchang(), broken(), wuhan(), evil()]


# ---------------------------------------------------------------- helpers


def header_map(ws, row: int) -> dict[str, int]:
    return {c.value: c.column for c in ws[row] if c.value is not None}


def find_row(ws, col: int, value, start: int = 1) -> int:
    for r in range(start, ws.max_row + 1):
        if ws.cell(r, col).value == value:
            return r
    raise AssertionError(f"{value!r} not in column {col}")


@pytest.fixture
def summary(tmp_path) -> Path:
    return report.write_summary(all_results(), tmp_path / "out" / "汇总.xlsx")


@pytest.fixture
def book(summary):
    return openpyxl.load_workbook(summary)


# ---------------------------------------------------------------- safe_text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("  =1", "'  =1"),
        ("\u3000=1", "'\u3000=1"),
        ("＝1+1", "'＝1+1"),
        ("＋1", "'＋1"),
        ("－1", "'－1"),
        ("＠x", "'＠x"),
        (INJECTED_UNIT, "'" + INJECTED_UNIT),
        ("武昌区档案馆", "武昌区档案馆"),
        ("a=b", "a=b"),
        ("95%以上", "95%以上"),
        ("", ""),
        (None, ""),
        (D("0.7156"), "0.7156"),
        (12, "12"),
    ],
)
def test_safe_text(raw, expected):
    assert safe_text(raw) == expected


def test_safe_text_lone_surrogate_becomes_encodable():
    text = safe_text("bad\udcff.xlsx")
    text.encode("utf-8")  # no UnicodeEncodeError
    assert text.startswith("bad") and text.endswith(".xlsx")


# ---------------------------------------------------------------- summary workbook: 汇总


def test_summary_sheets(book):
    assert book.sheetnames == ["汇总", "问题清单", "评分明细", "图表"]


def test_overview_figures(book):
    ws = book["汇总"]
    assert ws["A1"].value == "预算绩效自评检查汇总"
    head = header_map(ws, 3)
    for name in ("文件", "单位", "年度", "类型", "评价对象", "预算数（万元）", "执行数（万元）", "执行率", "年初预算完成率",
                 "自评得分", "复核得分", "差异", "自评等级", "复核等级", "错误数", "警告数", "状态", "说明"):
        assert name in head, name
    r = find_row(ws, head["评价对象"], "档案保护费")
    rate = ws.cell(r, head["执行率"])
    assert rate.value == 0.7156
    assert rate.data_type == "n"
    assert rate.number_format == "0.00%"
    assert ws.cell(r, head["预算数（万元）"]).value == 300
    assert ws.cell(r, head["执行数（万元）"]).value == 214.68
    assert ws.cell(r, head["文件"]).value == "武昌区档案馆_2020.xlsx"
    assert ws.cell(r, head["单位"]).value == "武昌区档案馆"
    assert ws.cell(r, head["年度"]).value == 2020
    assert ws.cell(r, head["类型"]).value == "项目支出"
    assert ws.cell(r, head["差异"]).value == pytest.approx(2.84)
    assert ws.cell(r, head["复核等级"]).value == "良"
    assert ws.cell(r, head["错误数"]).value == 1
    assert ws.cell(r, head["警告数"]).value == 1
    assert ws.cell(r, head["状态"]).value == "不通过"
    assert "87.16" in ws.cell(r, head["说明"]).value
    assert ws.cell(r, head["年初预算完成率"]).value is None  # projects have none
    # a project workbook: one row per project
    assert ws.cell(r + 1, head["评价对象"]).value == "史料编研费"
    assert ws.cell(r + 1, head["执行率"]).value == 0.76

    r = find_row(ws, head["单位"], "武汉市档案馆")
    assert ws.cell(r, head["类型"]).value == "部门整体"
    assert ws.cell(r, head["复核得分"]).value == 95
    assert ws.cell(r, head["复核等级"]).value == "优"
    assert ws.cell(r, head["自评等级"]).value == "优秀"
    assert ws.cell(r, head["年初预算完成率"]).value == 0.8787
    assert ws.cell(r, head["年初预算完成率"]).number_format == "0.00%"
    assert ws.cell(r, head["状态"]).value == "通过"


def test_overview_unreadable_row_last_with_reason(book):
    ws = book["汇总"]
    head = header_map(ws, 3)
    assert ws.max_row == 3 + 5  # 2 projects + 1 unit + 1 evil + 1 unreadable
    r = find_row(ws, head["文件"], "旧版.xls")
    assert r == ws.max_row  # unreadable files go last
    assert ws.cell(r, head["状态"]).value == "无法读取"
    assert "旧版 .xls" in ws.cell(r, head["说明"]).value
    assert ws.cell(r, head["复核得分"]).value is None
    assert ws.cell(r, head["路径"]).value == "returned/旧版.xls"


def test_overview_totals(book):
    ws = book["汇总"]
    totals = {ws.cell(2, c).value: ws.cell(2, c + 1).value for c in range(1, 11, 2)}
    assert totals == {"文件数": 4, "通过": 1, "不通过": 2, "无法读取": 1, "评价对象": 4}


def test_overview_layout(book):
    ws = book["汇总"]
    assert ws.freeze_panes == "C4"
    assert ws.auto_filter.ref == "A3:T8"
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9
    # printed at 100 %, never shrunk to the page: the header row and 文件, 单位 repeat on each page
    assert not (ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
    assert int(ws.page_setup.scale or 100) == 100
    assert ws.print_title_rows == "$3:$3" and ws.print_title_cols == "$A:$B"
    # CJK text is two units wide: the 单位 column fits 武昌区档案馆 (6 characters = 12 units)
    head = header_map(ws, 3)
    letter = openpyxl.utils.get_column_letter(head["单位"])
    assert ws.column_dimensions[letter].width >= 12
    letter = openpyxl.utils.get_column_letter(head["预算数（万元）"])
    assert ws.column_dimensions[letter].width >= 14


def test_overview_conditional_formats(book):
    ws = book["汇总"]
    head = header_map(ws, 3)
    rules = {}
    for cf_range, cf_rules in ws.conditional_formatting._cf_rules.items():
        rules.setdefault(str(cf_range.sqref), []).extend(cf_rules)
    grade_col = openpyxl.utils.get_column_letter(head["复核等级"])
    grade_rules = rules[f"{grade_col}4:{grade_col}8"]
    assert {r.text for r in grade_rules} == {"优", "良", "中", "差"}
    fills = {r.text: r.dxf.fill.bgColor.rgb for r in grade_rules}
    assert fills["优"].endswith("C6EFCE") and fills["差"].endswith("FFC7CE")
    status_col = openpyxl.utils.get_column_letter(head["状态"])
    status = rules[f"{status_col}4:{status_col}8"]
    reds = [r for r in status if r.dxf.fill.bgColor.rgb.endswith("FFC7CE")]
    assert sorted(r.formula[0] for r in reds) == ['"不通过"', '"无法读取"', '"未找到"']


def test_no_formula_anywhere(book):
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


# ---------------------------------------------------------------- formula injection


def test_injection_is_text_in_workbook(book):
    ws = book["汇总"]
    head = header_map(ws, 3)
    r = find_row(ws, head["单位"], "'" + INJECTED_UNIT)
    cell = ws.cell(r, head["单位"])
    assert cell.data_type == "s"
    assert ws.cell(r, head["评价对象"]).value == "'-2+3"
    assert ws.cell(r, head["文件"]).value == "'=evil.xlsx"
    assert ws.cell(r, head["说明"]).value == "'+cmd"

    ws = book["问题清单"]
    head = header_map(ws, 1)
    r = find_row(ws, head["说明"], "'+cmd")
    assert ws.cell(r, head["说明"]).data_type == "s"
    assert ws.cell(r, head["单位"]).value == "'" + INJECTED_UNIT
    assert ws.cell(r, head["填报值"]).value == "'=1+1"
    assert ws.cell(r, head["应为"]).value == "'@SUM(A1)"


def test_injection_in_csv_and_json(tmp_path):
    csv_path = report.write_csv(all_results(), tmp_path / "r.csv")
    with open(csv_path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    evil_row = next(r for r in rows if r["unit"].endswith(INJECTED_UNIT))
    assert evil_row["unit"] == "'" + INJECTED_UNIT
    assert evil_row["note"] == "'+cmd"
    assert evil_row["unit_code"] == "'@code"
    for row in rows:
        for value in row.values():
            assert not value.lstrip(" ")[:1] in ("=", "+", "-", "@"), value

    data = json.loads(report.write_json(all_results(), tmp_path / "r.json").read_text("utf-8"))
    bad = next(d for d in data if d["unit"].endswith(INJECTED_UNIT))
    assert bad["unit"] == "'" + INJECTED_UNIT
    assert bad["file"] == "returned/=evil.xlsx"  # '=' is not at the start
    assert bad["findings"][0]["message"] == "'+cmd"
    assert bad["findings"][0]["seen"] == "'=1+1"
    assert bad["evaluations"][0]["name"] == "'-2+3"


# ---------------------------------------------------------------- 问题清单 / 评分明细 / 图表


def test_findings_sheet(book):
    ws = book["问题清单"]
    head = header_map(ws, 1)
    assert list(head) == ["文件", "单位", "工作表", "单元格", "代码", "级别", "说明", "填报值", "应为"]
    assert ws.max_row - 1 == sum(len(r.findings) for r in all_results()) == 5
    r = find_row(ws, head["代码"], "SCORE_MISMATCH")
    assert ws.cell(r, head["级别"]).value == "错误"
    assert ws.cell(r, head["单元格"]).value == "L20"
    assert ws.cell(r, head["填报值"]).value == 90
    assert ws.cell(r, head["应为"]).value == 87.16
    assert ws.cell(find_row(ws, head["代码"], "MISSING_REASON"), head["级别"]).value == "警告"
    assert ws.cell(find_row(ws, head["代码"], "FILE_XLS_LEGACY"), head["文件"]).value == "旧版.xls"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:I6"
    assert len(ws.conditional_formatting) >= 1


def test_details_sheet(book):
    ws = book["评分明细"]
    head = header_map(ws, 1)
    for name in ("评价对象", "类别", "名称", "计算符号", "指标值", "实际完成值", "分值", "自评得分", "复核得分", "是否达成"):
        assert name in head
    r = find_row(ws, head["名称"], "效果")
    assert ws.cell(r, head["类别"]).value == "准则"
    assert (ws.cell(r, head["分值"]).value, ws.cell(r, head["自评得分"]).value, ws.cell(r, head["复核得分"]).value) == (25, 24, 23)
    assert ws.cell(r, head["差异"]).value == 1
    r = find_row(ws, head["名称"], "出版史料")
    assert ws.cell(r, head["类别"]).value == "指标"
    assert ws.cell(r, head["计算符号"]).value == "≥"
    assert ws.cell(r, head["指标值"]).value == 1000
    assert ws.cell(r, head["实际完成值"]).value == 30
    assert ws.cell(r, head["复核得分"]).value == 0.3
    assert ws.cell(r, head["是否达成"]).value == "否"
    r = find_row(ws, head["名称"], "档案数字化")
    assert ws.cell(r, head["是否达成"]).value == "是"
    assert ws.cell(r, head["项目/目标序号"]).value == 1
    assert ws.cell(r, head["计量单位"]).value == "页"
    r = find_row(ws, head["名称"], "预算执行率")
    assert ws.cell(r, head["类别"]).value == "类别"
    # 4 criteria + 2 categories + 2 indicators
    assert ws.max_row - 1 == 8


def test_charts_exist_and_reference_overview(summary):
    with zipfile.ZipFile(summary) as z:
        names = z.namelist()
        assert "xl/charts/chart1.xml" in names and "xl/charts/chart2.xml" in names
        scores = z.read("xl/charts/chart1.xml").decode("utf-8")
        rates = z.read("xl/charts/chart2.xml").decode("utf-8")
    assert "<c:barChart>" in scores and "<c:barDir val=\"bar\"/>" in scores
    assert "复核得分" in scores and "评价对象" in scores
    # readable rows 4..7 of 汇总 (the unreadable file's row 8 is left out)
    refs = lambda xml: set(re.findall(r"<c:f>'?汇总'?!(\$[A-Z]+\$\d+(?::\$[A-Z]+\$\d+)?)</c:f>", xml))  # noqa: E731
    assert {"$K$3", "$K$4:$K$7", "$T$4:$T$7"} <= refs(scores)  # 复核得分 by 单位·评价对象
    ws = openpyxl.load_workbook(summary)["汇总"]
    assert ws["T3"].value == "单位·评价对象"
    labels = [ws.cell(r, 20).value for r in range(4, 8)]
    assert all(labels)
    assert "武昌区档案馆·档案保护费" in labels  # a project's bar names its unit too
    assert "预算执行率" in rates and {"$H$3", "$H$4:$H$7", "$T$4:$T$7"} <= refs(rates)
    assert 'formatCode="0%"' in rates


def test_empty_batch(tmp_path):
    path = report.write_summary([], tmp_path / "empty.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb["汇总"]["B2"].value == 0
    with zipfile.ZipFile(path) as z:
        assert not any(n.startswith("xl/charts/") for n in z.namelist())


def test_all_unreadable(tmp_path):
    path = report.write_summary([broken(), broken()], tmp_path / "bad.xlsx")
    ws = openpyxl.load_workbook(path)["汇总"]
    assert [ws.cell(r, 17).value for r in (4, 5)] == ["无法读取", "无法读取"]


# ---------------------------------------------------------------- JSON / CSV / DataFrames


def test_json_round_trip(tmp_path):
    results = all_results()
    path = report.write_json(results, tmp_path / "r.json")
    text = path.read_text("utf-8")
    assert "武昌区档案馆" in text  # ensure_ascii=False
    assert '\n  {\n    "file"' in text  # indent=2
    data = json.loads(text)
    expected = [r.as_dict() for r in results]
    # identical but for sanitized text
    assert [d["file"] for d in data] == [e["file"] for e in expected]
    assert data[0] == expected[0] and data[2] == expected[2]
    ev = data[0]["evaluations"][0]
    assert ev["execution_rate"] == 0.7156
    assert ev["budget"] == 300 and ev["executed"] == 214.68
    assert isinstance(ev["score"], float)
    dept = data[2]
    assert dept["kind"] == "department" and dept["evaluations"][0]["initial_budget_completion_rate"] == 0.8787
    assert [c["score"] for c in dept["evaluations"][0]["criteria"]] == [19, 29, 24, 23]
    assert data[1]["status"] == "unreadable" and data[1]["findings"][0]["code"] == "FILE_XLS_LEGACY"


def test_json_non_finite_becomes_null(tmp_path):
    r = wuchang()
    r.evaluations[0].execution_rate = D("NaN")
    data = json.loads(report.write_json([r], tmp_path / "r.json").read_text("utf-8"))
    assert data[0]["evaluations"][0]["execution_rate"] is None


def test_csv(tmp_path):
    path = report.write_csv(all_results(), tmp_path / "r.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(path, encoding="utf-8-sig")
    assert tuple(frame.columns) == report.CSV_COLUMNS
    assert len(frame) == 5  # one row per evaluation, one for the unreadable file
    protect = frame[frame["evaluation"] == "档案保护费"].iloc[0]
    assert protect["execution_rate"] == 0.7156
    assert protect["budget"] == 300 and protect["executed"] == 214.68
    assert protect["difference"] == pytest.approx(2.84)
    assert protect["unit"] == "武昌区档案馆" and protect["year"] == 2020
    assert protect["errors"] == 1 and protect["warnings"] == 1
    bad = frame[frame["status"] == "unreadable"].iloc[0]
    assert bad["file"] == "returned/旧版.xls"
    assert "旧版 .xls" in bad["note"]
    # the CSV keeps the input order
    assert list(frame["file"]) == [
        "returned/武昌区档案馆_2020.xlsx", "returned/武昌区档案馆_2020.xlsx", "returned/旧版.xls",
        "returned/武汉市档案馆_2021.xlsx", "returned/=evil.xlsx"]
    # exact decimals in the text
    assert "0.7156" in raw.decode("utf-8-sig") and "214.68" in raw.decode("utf-8-sig")


def test_to_dataframe_matches_csv(tmp_path):
    results = all_results()
    frame = report.to_dataframe(results)
    from_csv = pd.read_csv(report.write_csv(results, tmp_path / "r.csv"), encoding="utf-8-sig", keep_default_na=False)
    assert tuple(frame.columns) == report.CSV_COLUMNS
    assert len(frame) == len(from_csv) == 5
    assert frame["execution_rate"].dtype == "float64"
    assert frame.loc[0, "execution_rate"] == 0.7156
    assert frame.loc[0, "budget"] == 300.0
    assert pd.isna(frame.loc[2, "score"])  # the unreadable file
    assert list(frame["evaluation"]) == list(from_csv["evaluation"])
    assert list(frame["unit"]) == list(from_csv["unit"])
    assert frame.loc[4, "unit"] == "'" + INJECTED_UNIT


def test_findings_dataframe():
    frame = report.findings_dataframe(all_results())
    assert tuple(frame.columns) == report.FINDING_COLUMNS
    assert len(frame) == 5
    assert set(frame["severity"]) == {"error", "warning"}
    row = frame[frame["code"] == "SCORE_MISMATCH"].iloc[0]
    assert row["seen"] == 90.0 and row["expected"] == 87.16
    assert frame[frame["code"] == "TEXT_IN_NUMBER"].iloc[0]["message"] == "'+cmd"


# ---------------------------------------------------------------- feedback


def test_feedback(tmp_path):
    path = report.write_feedback(wuchang(), tmp_path / "意见")
    assert path == tmp_path / "意见" / "武昌区档案馆_2020_检查意见.xlsx"
    ws = openpyxl.load_workbook(path).active
    title = ws["A1"].value
    assert "武昌区档案馆" in title and "武昌区档案馆_2020.xlsx" in title
    cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("档案保护费：执行率 71.56%" in c for c in cells)
    header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "序号")
    head = header_map(ws, header)
    assert list(head) == ["序号", "级别", "工作表", "单元格", "问题", "处理意见", "填报值", "应为"]
    rows = list(range(header + 1, ws.max_row + 1))
    assert len(rows) == 2
    first = rows[0]
    assert ws.cell(first, head["级别"]).value == "错误"  # errors first
    assert ws.cell(first, head["单元格"]).value == "L20"
    assert "87.16" in ws.cell(first, head["处理意见"]).value
    assert ws.freeze_panes == f"A{header + 1}"


def test_feedback_unreadable_and_injection(tmp_path):
    path = report.write_feedback(broken(), tmp_path)
    assert path.name == "旧版_检查意见.xlsx"
    ws = openpyxl.load_workbook(path).active
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "文件是旧版 .xls 格式，请另存为 .xlsx 后重新报送" in texts
    assert "请按左侧说明处理后重新报送。" in texts

    path = report.write_feedback(evil(), tmp_path)
    assert path.name == "=evil_检查意见.xlsx"
    ws = openpyxl.load_workbook(path).active
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    assert ws["A1"].data_type == "s"


@pytest.mark.parametrize(
    "file, name",
    [
        ("a/b/武昌区档案馆2020.xlsx", "武昌区档案馆2020_检查意见.xlsx"),
        ("C:\\报送\\武汉市.xlsx", "武汉市_检查意见.xlsx"),
        ('a<b>:c|d?.xlsx', "a_b__c_d__检查意见.xlsx"),
        ("CON.xlsx", "_CON_检查意见.xlsx"),
        ("..xlsx", "文件_检查意见.xlsx"),
        ("noext", "noext_检查意见.xlsx"),
        ("", "文件_检查意见.xlsx"),
    ],
)
def test_feedback_filename(file, name):
    assert report.feedback_filename(file) == name


def test_feedback_filename_long_and_undecodable():
    name = report.feedback_filename("档" * 300 + ".xlsx")
    assert len(name.encode("utf-8")) <= 255
    report.feedback_filename("bad\udcff.xlsx").encode("utf-8")


# ---------------------------------------------------------------- atomic writes and modes

WRITERS = {
    "summary": lambda results, path: report.write_summary(results, path),
    "json": report.write_json,
    "csv": report.write_csv,
}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_failed_write_leaves_old_output(tmp_path, monkeypatch, kind):
    target = tmp_path / f"out.{kind}"
    target.write_bytes(b"previous output")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report.outputs, "_fsync", boom)  # fails after the temporary file is written
    with pytest.raises(OSError):
        WRITERS[kind](all_results(), target)
    assert target.read_bytes() == b"previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no temporary left behind


def test_summary_failing_midway_leaves_old_output(tmp_path, monkeypatch):
    target = tmp_path / "汇总.xlsx"
    report.write_summary([wuhan()], target)
    before = target.read_bytes()

    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(report.summary._Details, "add", boom)
    with pytest.raises(RuntimeError):
        report.write_summary(all_results(), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["汇总.xlsx"]


def test_failed_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(report.summary, "_write_charts", lambda *a: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        report.write_summary(all_results(), tmp_path / "s.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_feedback_failing_leaves_old_output(tmp_path, monkeypatch):
    target = report.write_feedback(wuchang(), tmp_path)
    before = target.read_bytes()
    monkeypatch.setattr(report.feedback, "_advice", lambda f: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        report.write_feedback(wuchang(), tmp_path)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_output_mode_follows_umask(tmp_path):
    old = os.umask(0o022)
    try:
        paths = [
            report.write_summary(all_results(), tmp_path / "s.xlsx"),
            report.write_json(all_results(), tmp_path / "r.json"),
            report.write_csv(all_results(), tmp_path / "r.csv"),
            report.write_feedback(wuchang(), tmp_path),
        ]
        for p in paths:
            assert os.stat(p).st_mode & 0o777 == 0o644, p
        os.umask(0o027)
        p = report.write_json(all_results(), tmp_path / "r.json")
        assert os.stat(p).st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def test_rewrite_replaces_output(tmp_path):
    target = tmp_path / "r.json"
    report.write_json([wuhan()], target)
    report.write_json(all_results(), target)
    assert len(json.loads(target.read_text("utf-8"))) == 4


def test_output_path_is_a_folder(tmp_path):
    with pytest.raises(OSError):
        report.write_json(all_results(), tmp_path)


def test_long_and_control_text(tmp_path):
    r = wuchang()
    r.findings.append(Finding("LONG", "info", "长" * 40000, "项目支出", "A1"))
    path = report.write_summary([r], tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(path)["问题清单"]
    head = header_map(ws, 1)
    text = ws.cell(find_row(ws, head["代码"], "LONG"), head["说明"]).value
    assert len(text) == 32767 and text.endswith("…")


def test_control_characters_survive(tmp_path):
    r = wuchang()
    r.findings.append(Finding("CTRL", "info", "a\x00b\x07c_x0041_d", "项目支出", "A1"))
    path = report.write_summary([r], tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(path)["问题清单"]
    head = header_map(ws, 1)
    text = ws.cell(find_row(ws, head["代码"], "CTRL"), head["说明"]).value
    # The summary is written in constant memory, so its strings are inline; Excel decodes their
    # _xHHHH_ escapes (ST_Xstring) as it does in shared strings, openpyxl leaves them: decode here.
    text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
    assert text == "a\x00b\x07c_x0041_d"  # control characters kept, a literal escape sequence not decoded


def test_charts_one_page_each_and_bounded(tmp_path):
    # 80 files of two projects: 160 objects, 15 a chart, at most 7 pages of each kind of chart
    results = (dataclasses.replace(wuchang(), file=f"回收/{i:03d}.xlsx", unit=f"单位{i:03d}") for i in range(80))
    path = report.write_summary(results, tmp_path / "many.xlsx")
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        first = z.read("xl/charts/chart1.xml").decode("utf-8")
    assert len(charts) == 14
    assert "（1/7）" in first and "<c:f>汇总!$T$4:$T$18</c:f>" in first  # 15 labels 单位·评价对象
    ws = openpyxl.load_workbook(path)["图表"]
    assert ws["A1"].value == "图表只画出前 105 个评价对象（共 160 个），其余请看“汇总”表。"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
    assert [b.id for b in ws.row_breaks.brk][:2] == [30, 60]
