"""The self-evaluation report drafts (xltool report; check --reports): what the unit reads in Word.

Every test reads the written .docx back with python-docx, in document order (paragraphs and
table rows as they appear), so what is asserted is what a reader of the draft sees.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from hypothesis import given, strategies as st

from cases import write_department, write_project
from conftest import ROOT
from libreoffice import require_libreoffice

from xltool.check import batch
from xltool.core.framework import load_framework
from xltool.core.model import Value
from xltool.report import drafts, pdf as pdf_tool

SAMPLES = ROOT / "samples"
WUHAN_SAMPLE = next((SAMPLES / "returned").glob("2021_*.xlsx"))
WUCHANG_SAMPLE = next((SAMPLES / "returned").glob("2020_*.xlsx"))
WUHAN_24 = next((SAMPLES / "variants").glob("2021_*24*.xlsx"))


@pytest.fixture(autouse=True)
def demo_key(monkeypatch):
    monkeypatch.setenv("XLTOOL_KEY_FILE", str(SAMPLES / "demo.key"))


def draft_of(path: Path, out: Path) -> Path:
    ((result, sub, fw),) = list(batch.iter_read([path]))
    assert sub is not None, result.findings
    return drafts.write_draft(result, sub, fw, out)


def lines(docx: Path) -> list[str]:
    """The document body in order: each paragraph's text, each table row as "a | b | c"."""
    return lines_of(Document(str(docx)))


def _text(element) -> str:
    """Text of a paragraph or cell as Word shows it: text runs, tabs and line breaks."""
    pieces = {qn("w:t"): None, qn("w:tab"): "\t", qn("w:br"): "\n"}
    return "".join((e.text or "") if pieces[e.tag] is None else pieces[e.tag] for e in element.iter(*pieces))


def lines_of(doc) -> list[str]:
    out = []
    for child in doc.element.body.iterchildren():
        if child.tag == qn("w:p"):
            text = _text(child)
            if text.strip():
                out.append(text)
        elif child.tag == qn("w:tbl"):
            for tr in child.iter(qn("w:tr")):
                out.append(" | ".join(_text(tc) for tc in tr.iter(qn("w:tc"))))
    return out


def in_order(found: list[str], wanted: list[str]) -> None:
    """Each wanted text is (part of) a line, after the line of the one before."""
    at = 0
    for text in wanted:
        for i in range(at, len(found)):
            if text in found[i]:
                at = i + 1
                break
        else:
            raise AssertionError(f"not found after line {at}: {text!r}\n" + "\n".join(found[at:]))


def comments(docx: Path) -> list[str]:
    return [c.text for c in Document(str(docx)).comments]


# ---------------------------------------------------------------- seed 000: 武汉市档案馆 2021


@pytest.fixture(scope="module")
def wuhan_draft(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("XLTOOL_KEY_FILE", str(SAMPLES / "demo.key"))
    try:
        return draft_of(WUHAN_SAMPLE, tmp_path_factory.mktemp("wuhan"))
    finally:
        mp.undo()


def test_wuhan_draft_holds_the_seed_report_in_order_with_the_checked_figures(wuhan_draft):
    found = lines(wuhan_draft)
    in_order(found, [
        "2021年度武汉市档案馆",
        "整体绩效自评结果（摘要版）",
        "一、自评结论",
        "部门整体支出绩效评分95分，评价等级为“优”",
        "评价准则 | 准则分值 | 评价得分 | 评价等级",
        "投入 | 20分 | 19分 | 优",
        "过程 | 30分 | 29分 | 优",
        "产出 | 25分 | 24分 | 优",
        "效果 | 25分 | 23分 | 优",
        "综合绩效 | 100分 | 95分 | 优",
        "1．投入：准则分值20分，评价得分19分；",
        "绩效指标明确性、预算调整率各扣0.5分",
        "4．效果：准则分值25分，评价得分23分；",
        "（二）部门（单位）整体绩效目标完成情况",
        "（1）整体支出预算执行率=（决算数2,814.98万元/调整预算数2,814.98万元）×100%= 100.00%；",
        "（2）整体支出年初预算完成率=（决算数2,814.98万元/年初预算数3,203.46万元）×100%= 87.87%；",
        "2、完成的绩效目标：",
        "（1）“档案馆运行维护”",
        "年度目标1：档案馆运行维护",
        "产出指标 | 数量指标 | 网站点击率（按全年点击次数计） | ≥10000次 | 10000次",
        "（2）“档案馆事业发展建设”",
        "（3）“档案数字化”",
        "（4）“全市新冠肺炎疫情防控档案整理”",
        "（5）“信息化建设”",
        "3、未完成的绩效目标：",
        "出版《革命先烈小传》，年初目标值≥1000册，实际完成值30册。按相关出版文件要求",
        "武汉党史寻访专题片，年初目标值≥5集，实际完成值4集。《建党百年 追寻初心》系列",
        "（三）存在的问题和原因",
        "1、整体绩效目标还不够细化，绩效目标的可量化程度还不够高。",
        "2、绩效评价结果应用存在工作机制不够健全",
        "（四）下一步拟改进措施",
        "1、加强预算绩效目标建设管理",
        "3、综合考虑相关因素，年初做好预算",
        "2022年6月30日",
    ])
    # each unmet goal with its reason as typed, in one paragraph
    assert any("实际完成值30册" in line and line.endswith("因此先完成内部出版30册。") for line in found)
    assert any("实际完成值4集" in line and line.endswith("总时长超出原定时长。") for line in found)
    # The seed's slip (4. 项目效益 … 24分) is not repeated: 效果 is 23 wherever it is said.
    effect = [line for line in found if line.startswith("4．效果")]
    assert effect == ["4．效果：准则分值25分，评价得分23分；"]
    # declared and recomputed agree in this sample: nothing to comment on
    assert comments(wuhan_draft) == []


def test_a_declared_score_that_differs_is_replaced_and_commented(tmp_path):
    """The variant declares 效果 24 (the seed's body text): the draft says 23, highlighted, with a
    Word comment naming both."""
    docx = draft_of(WUHAN_24, tmp_path)
    found = lines(docx)
    assert "效果 | 25分 | 23分 | 优" in found
    assert "4．效果：准则分值25分，评价得分23分；" in found
    notes = comments(docx)
    assert any("效果得分：单位自评为24分，按填报数据复核为23分" in n for n in notes), notes
    doc = Document(str(docx))
    marked = [r for p in doc.paragraphs for r in p.runs if r.font.highlight_color is not None]
    assert any(r.text.endswith("23") for r in marked)


# ---------------------------------------------------------------- seed 001: 武昌区档案馆 2020


def test_wuchang_draft_writes_the_money_sentences_and_recomputed_scores(tmp_path):
    docx = draft_of(WUCHANG_SAMPLE, tmp_path)
    found = lines(docx)
    in_order(found, [
        "武昌区档案馆2020年度",
        "项目支出绩效自评报告",
        "一、项目立项背景和依据",
        "为深入贯彻落实党的十九大“全面实施绩效管理”的决策部署",
        "二、绩效目标",
        "档案保护费项目绩效目标：2020年度预算资金为300万元，执行数为214.68万元，完成预算的71.56%。",
        "史料编研费项目绩效目标：2020年度预算资金为100万元，执行数为76万元，完成预算的76.00%。",
        "1.产出指标",
        "档案保护费 | 质量指标 | 实体档案保护达到预期效果 | 定性指标 | 部分达成年度指标并具有一定效果 | 10 | 7",
        "史料编研费 | 数量指标 | 街道志出版 | ≥4部 | 0部 | 12 | 0",
        "2.效益指标",
        "3.满意度指标",
        "三、经费来源和使用情况",
        "武昌区档案馆-档案保护费2020年度预算资金为300万元，执行数为214.68万元，完成预算的71.56%。",
        "四、项目实施情况",
        "（一）武昌区档案馆档案保护费2020年度预算资金为300万元，执行数为214.68万元，完成预算的71.56%。主要用于：",
        "1、完成1983-1995年度7个全宗的发文汇集目录输入7006条",
        "（二）武昌区档案馆史料编研费2020年度预算资金为100万元，执行数为76万元，完成预算的76.00%。主要用于：",
        "群众满意度95%以上。",
        "五、评价结论",
        "档案保护费：预算执行率得分7.16分，产出指标得分47分，效益指标得分30分，满意度指标得分10分，综合得分94.16分，评价等级为“优”。",
        "史料编研费：预算执行率得分7.6分，产出指标得分35分，效益指标得分30分，满意度指标得分10分，综合得分82.6分，评价等级为“良”。",
        "项目 | 预算执行率 | 预算执行率得分 | 产出指标得分 | 效益指标得分 | 满意度指标得分 | 综合得分 | 评价等级",
        "档案保护费 | 71.56% | 7.16 | 47 | 30 | 10 | 94.16 | 优",
        "史料编研费 | 76.00% | 7.6 | 35 | 30 | 10 | 82.6 | 良",
        "六、存在的问题",
        "1.项目绩效指标予待完善",
        "七、问题分析",
        "1.项目绩效指标主要是单位没有专业的财务人员",
        "八、改进措施",
        "2.实体档案保护方式单一。",
    ])
    # The unit declared 95 / 优 for both projects: the recomputed figures stand, each commented.
    notes = comments(docx)
    assert any("档案保护费综合得分：单位自评为95分，按填报数据复核为94.16分" in n for n in notes)
    assert any("史料编研费综合得分：单位自评为95分，按填报数据复核为82.6分" in n for n in notes)
    assert any("史料编研费评价等级：单位自评为“优”，按复核得分应为“良”" in n for n in notes)
    assert not any("档案保护费评价等级" in n for n in notes)  # 优 is 优
    assert not any("95分，评价等级" in line for line in found)


def test_blank_report_texts_leave_a_visible_request(tmp_path):
    """A project return without the optional texts passes, and its draft asks for them."""
    path = write_project(tmp_path / "无文字.xlsx")
    ((result, sub, fw),) = list(batch.iter_read([path]))
    assert result.status == "passed", [f.code for f in result.findings]
    found = lines(drafts.write_draft(result, sub, fw, tmp_path / "初稿"))
    in_order(found, [
        "一、项目立项背景和依据", "【请补充：项目立项背景和依据】",
        "四、项目实施情况", "【请补充：档案保护费的实施情况】", "【请补充：史料编研费的实施情况】",
        "七、问题分析", "【请补充：问题分析】",
    ])
    doc = Document(str(tmp_path / "初稿" / drafts.draft_filename(str(path))))
    asks = [r for p in doc.paragraphs for r in p.runs if r.text.startswith("【请补充")]
    assert asks and all(r.font.highlight_color is not None for r in asks)


def test_hostile_text_goes_in_as_plain_text(tmp_path):
    formula = "=cmd|' /C calc'!A0"
    long_text = "很长的说明。" * 5000  # 30,000 characters
    path = write_project(
        tmp_path / "恶意.xlsx",
        BACKGROUND=formula, ANALYSIS=long_text,
        PROJ1_IMPLEMENTATION="@SUM(A1)\n+1-1\n<w:p>不是标签</w:p>",
    )
    ((result, sub, fw),) = list(batch.iter_read([path]))
    # Control characters as a reader may hand them over (a workbook stores them as _x0001_ escapes)
    sub.problems = Value("问题\x01一\x07\x1b[31m红字\ue000\ufffe", sub.problems.sheet, sub.problems.cell)
    docx = drafts.write_draft(result, sub, fw, tmp_path)
    found = lines(docx)  # the file opens
    assert formula in found
    assert long_text in found
    assert "问题一[31m红字" in found
    in_order(found, ["@SUM(A1)", "+1-1", "<w:p>不是标签</w:p>"])
    body = docx.read_bytes()
    assert b"instrText" not in body and b"fldSimple" not in body  # no Word field was made of it


# ---------------------------------------------------------------- the document itself


def test_fonts_are_set_in_the_styles_with_their_east_asian_name_and_the_page_is_a4(wuhan_draft):
    doc = Document(str(wuhan_draft))
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)

    def east_asian(style_name):
        fonts = doc.styles[style_name].element.rPr.find(qn("w:rFonts"))
        return fonts.get(qn("w:eastAsia")), fonts.get(qn("w:ascii"))

    assert east_asian("Normal") == ("仿宋", "仿宋")
    assert east_asian("Heading 1") == ("宋体", "宋体")
    assert east_asian("报告标题") == ("宋体", "宋体")
    assert east_asian("表格文字") == ("宋体", "宋体")


@pytest.mark.parametrize(
    "value, text",
    [("2814.98", "2,814.98万元"), ("3203.46", "3,203.46万元"), ("300", "300万元"), ("300.00", "300万元"),
     ("76", "76万元"), ("214.68", "214.68万元"), ("214.6", "214.60万元"), ("0.005", "0.01万元"), ("1234567", "1,234,567万元")],
)
def test_money_is_written_as_the_seeds_write_it(value, text):
    assert drafts.money(Decimal(value)) == text


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_money_reads_back_as_the_same_amount(value):
    text = drafts.money(value)
    assert text.endswith("万元")
    assert Decimal(text[:-2].replace(",", "")) == value
    assert text.count(".") <= 1 and (value != value.to_integral_value() or "." not in text)


def test_rates_and_scores_are_written_as_the_seeds_write_them():
    assert [drafts.percent(Decimal(r)) for r in ("1", "0.8787", "0.7156", "0.76")] == ["100.00%", "87.87%", "71.56%", "76.00%"]
    assert [drafts.points(Decimal(s)) for s in ("19.00", "94.16", "82.60", "0.5")] == ["19", "94.16", "82.6", "0.5"]


# ---------------------------------------------------------------- wording is data


def test_a_framework_can_name_its_own_report_wording(tmp_path):
    bundled = (ROOT / "workbook_templates" / "department.yaml").read_text(encoding="utf-8")
    (tmp_path / "省框架.yaml").write_text(bundled + "\nreport_template: 省报告.yaml\n", encoding="utf-8")
    wording = (ROOT / "xltool" / "report" / "templates" / "department.yaml").read_text(encoding="utf-8")
    wording = wording.replace("（三）存在的问题和原因", "（三）主要问题及原因分析")
    (tmp_path / "省报告.yaml").write_text(wording, encoding="utf-8")
    fw = load_framework(tmp_path / "省框架.yaml")
    assert fw.digest == load_framework("department").digest  # the rules are the same
    ((result, sub, _fw),) = list(batch.iter_read([WUHAN_SAMPLE]))
    found = lines(drafts.write_draft(result, sub, fw, tmp_path / "初稿"))
    assert "（三）主要问题及原因分析" in found and "（三）存在的问题和原因" not in found


@pytest.mark.parametrize(
    "data, said",
    [
        ({"blocks": [{"text": "x"}]}, "title：缺少这一项"),
        ({"title": "{{ unit", "blocks": [{"text": "x"}]}, "Jinja2 模板有误"),
        ({"title": "t", "blocks": [{"table": "饼图"}]}, "没有名为“饼图”的表格"),
        ({"title": "t", "blocks": [{"text": "a", "heading": "b"}]}, "只能有 heading、text、table、for 中的一项"),
    ],
)
def test_a_broken_report_template_is_named_in_chinese(data, said):
    with pytest.raises(drafts.ReportTemplateError, match=said):
        drafts.parse_template(data, "省报告.yaml", "department")


def test_a_template_cannot_reach_python_internals():
    from jinja2.exceptions import SecurityError

    template = drafts.parse_template({"title": "{{ unit.__class__.__mro__[1].__subclasses__() }}", "blocks": [{"text": "x"}]}, "x.yaml", "department")
    with pytest.raises(SecurityError):
        template.title.render(unit="")


# ---------------------------------------------------------------- the commands


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "xltool", *args], capture_output=True, text=True, cwd=cwd)


def test_report_command_writes_one_draft_per_readable_file_and_names_the_others(tmp_path):
    returned = tmp_path / "回收"
    returned.mkdir()
    shutil.copy(WUHAN_SAMPLE, returned / "武汉.xlsx")
    write_department(returned / "干净.xlsx")
    (returned / "坏文件.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    done = run("report", str(returned), "--out", str(tmp_path / "初稿"), "--key", str(SAMPLES / "demo.key"))
    assert done.returncode == 1, done.stderr
    assert sorted(p.name for p in (tmp_path / "初稿").iterdir()) == ["干净_自评报告初稿.docx", "武汉_自评报告初稿.docx"]
    assert "未写初稿：坏文件.xlsx 无法读取" in done.stderr
    assert "初稿：" in done.stdout


def test_check_reports_option_writes_the_drafts_beside_the_summary(tmp_path):
    done = run("check", str(WUHAN_SAMPLE), "--out", str(tmp_path / "汇总.xlsx"), "--reports", str(tmp_path / "初稿"), "--quiet", "--key", str(SAMPLES / "demo.key"))
    assert (tmp_path / "汇总.xlsx").exists(), done.stderr
    (docx,) = (tmp_path / "初稿").iterdir()
    assert "效果 | 25分 | 23分 | 优" in lines(docx)
    usage = run("check", str(WUHAN_SAMPLE), "--out", str(tmp_path / "汇总2.xlsx"), "--pdf")
    assert usage.returncode == 2 and "--pdf 要与 --reports" in usage.stderr


def test_without_libreoffice_the_pdf_step_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(pdf_tool, "soffice", lambda: None)
    (tmp_path / "a.docx").write_bytes(b"x")
    (converted,) = pdf_tool.to_pdf([tmp_path / "a.docx"])
    assert converted.pdf is None and "apt-get install libreoffice-writer-nogui" in converted.error


def require_writer() -> None:
    """LibreOffice with Writer (a Calc-only install cannot read .docx), and pdftotext; CI has both."""
    import os

    soffice = require_libreoffice()
    writer = Path(os.path.realpath(soffice)).parent / "libswlo.so"
    missing = [what for what, ok in (("libreoffice-writer-nogui", writer.exists()), ("poppler-utils", shutil.which("pdftotext"))) if not ok]
    if missing and os.environ.get("CI"):
        pytest.fail(f"CI 必须安装 {'、'.join(missing)}（见 .ci/run）")
    if missing:
        pytest.skip(f"{'、'.join(missing)} 未安装")


def test_libreoffice_converts_each_draft_and_a_bad_one_does_not_stop_the_batch(tmp_path):
    require_writer()
    wuhan = draft_of(WUHAN_SAMPLE, tmp_path)
    wuchang = draft_of(WUCHANG_SAMPLE, tmp_path)
    broken = tmp_path / "坏的_自评报告初稿.docx"
    broken.write_bytes(b"PK\x03\x04 this is not a document")
    results = pdf_tool.to_pdf([wuhan, broken, wuchang], timeout=120)
    assert [r.pdf is not None for r in results] == [True, False, True], [r.error for r in results]
    assert "坏的_自评报告初稿.docx" in results[1].error
    def pdf_text(pdf):  # pdftotext puts spaces between Latin and CJK runs and breaks lines
        return "".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())

    text = pdf_text(results[0].pdf)
    assert "（决算数2,814.98万元/年初预算数3,203.46万元）×100%=87.87%" in text and "整体绩效自评结果（摘要版）" in text
    text = pdf_text(results[2].pdf)
    assert "执行数为214.68万元，完成预算的71.56%" in text and "综合得分82.6分" in text


def test_a_conversion_that_takes_too_long_is_stopped_and_said(tmp_path):
    require_writer()
    docx = draft_of(WUHAN_SAMPLE, tmp_path)
    (result,) = pdf_tool.to_pdf([docx], timeout=0.5)
    assert result.pdf is None and "超过 0.5 秒仍未完成，已停止" in result.error


# ---------------------------------------------------------------- the template's report texts


def test_project_template_has_the_report_texts_as_named_validated_optional_inputs():
    from conftest import WUCHANG, WUHAN
    from xltool.template import plan_for
    from xltool.template.layout import SHEET_TEXT

    plan = plan_for(WUCHANG)
    inputs = {(c.sheet, c.row, c.col): c for c in plan.input_cells()}
    for name in ("BACKGROUND", "PROJ1_IMPLEMENTATION", "PROJ2_IMPLEMENTATION", "ANALYSIS", "CONCLUSION"):
        spec = plan.names[name]
        cell = inputs[(spec.sheet, spec.row, spec.col)]
        assert spec.sheet == SHEET_TEXT and not cell.locked
        assert cell.validation.kind == "length" and cell.validation.maximum >= 2000
    assert "PROJ3_IMPLEMENTATION" not in plan.names  # one per project of the roster
    assert not {"BACKGROUND", "ANALYSIS", "CONCLUSION"} & set(plan_for(WUHAN).names)  # unit-wide: none


def test_the_reader_reads_the_report_texts_of_the_sample():
    ((result, sub, _fw),) = list(batch.iter_read([WUCHANG_SAMPLE]))
    assert sub.texts["background"].raw.startswith("为深入贯彻落实党的十九大")
    assert sub.texts["analysis"].raw.startswith("1.项目绩效指标主要是单位没有专业的财务人员")
    assert sub.projects[1].implementation.raw.endswith("群众满意度95%以上。")
    assert not [f for f in result.findings if f.sheet == "问题与改进"]


def test_a_blank_return_gets_a_draft_that_asks_for_what_is_missing(wuhan_template, blank_project_template, tmp_path):
    ((result, sub, fw),) = list(batch.iter_read([wuhan_template]))
    found = lines(drafts.write_draft(result, sub, fw, tmp_path))
    assert "投入 | 20分 | 【待复核】分 | " in found  # no score is made up from blanks
    assert any("【请补充：评分表中" in line and "扣分（没有扣分填 0）】" in line for line in found)
    assert "【请补充：年度目标（绩效指标表中没有填写年度目标）】" in found
    assert "（1）整体支出预算执行率=（决算数2,814.98万元/调整预算数2,814.98万元）×100%= 100.00%；" in found  # pre-filled
    ((result, sub, fw),) = list(batch.iter_read([blank_project_template]))
    found = lines(drafts.write_draft(result, sub, fw, tmp_path))
    in_order(found, ["二、绩效目标", "【请补充：项目（预算执行表中没有填写项目）】", "七、问题分析", "【请补充：问题分析】"])


def test_report_pdf_without_libreoffice_writes_the_drafts_and_says_how_to_install(tmp_path, monkeypatch, capsys):
    from xltool.cli import main

    monkeypatch.setattr(pdf_tool, "soffice", lambda: None)
    code = main(["report", str(WUHAN_SAMPLE), "--out", str(tmp_path), "--pdf", "--key", str(SAMPLES / "demo.key")])
    err = capsys.readouterr().err
    assert code == 1 and "没有找到 LibreOffice（soffice），未生成 PDF；Word 初稿已经写好" in err
    assert [p.suffix for p in tmp_path.iterdir()] == [".docx"]


def test_a_return_made_before_the_report_texts_existed_is_not_told_it_deleted_them(tmp_path):
    """Project returns made from the earlier template have no BACKGROUND, PROJn_IMPLEMENTATION,
    ANALYSIS or CONCLUSION names: they read as blank (no NAME_MISSING), and the draft asks for them."""
    import re
    import zipfile

    source = write_project(tmp_path / "新.xlsx", BACKGROUND="背景")
    old = tmp_path / "旧.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(old, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/workbook.xml":
                text, n = re.subn(r'<definedName name="(?:BACKGROUND|ANALYSIS|CONCLUSION|PROJ[0-9]+_IMPLEMENTATION)"[^>]*>[^<]*</definedName>', "", data.decode())
                assert n == 5
                data = text.encode()
            zout.writestr(info, data)
    ((result, sub, fw),) = list(batch.iter_read([old]))
    assert not [f for f in result.findings if f.code == "NAME_MISSING"]
    assert result.status == "passed"
    assert "【请补充：项目立项背景和依据】" in lines(drafts.write_draft(result, sub, fw, tmp_path))


@pytest.fixture(scope="module")
def wuhan_read():
    mp = pytest.MonkeyPatch()
    mp.setenv("XLTOOL_KEY_FILE", str(SAMPLES / "demo.key"))
    try:
        ((result, sub, fw),) = list(batch.iter_read([WUHAN_SAMPLE]))
    finally:
        mp.undo()
    return result, sub, fw


from hypothesis import HealthCheck, settings  # noqa: E402


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=120))
def test_any_typed_text_is_written_as_its_lines(wuhan_read, tmp_path, typed_text):
    """Whatever a unit types (any Unicode, control characters, markup, our own markers), the
    document is written and its paragraphs are the text's non-blank lines, minus what XML cannot hold."""
    import io

    result, sub, fw = wuhan_read
    sub.problems = Value(typed_text, "问题与改进", "B3")
    doc = drafts.build_draft(result, sub, fw)
    buffer = io.BytesIO()
    doc.save(buffer)  # a valid package
    found = lines_of(Document(io.BytesIO(buffer.getvalue())))
    start = found.index("（三）存在的问题和原因") + 1
    end = found.index("（四）下一步拟改进措施")
    expected = [line.strip() for line in drafts.clean(typed_text).split("\n") if line.strip()]
    assert found[start:end] == (expected or ["【请补充：存在的问题和原因】"])
