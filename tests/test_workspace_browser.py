"""The workspace end to end in a real browser: headless Chromium (Debian's `chromium`, driven by
Playwright's Python package) against `xltool serve`'s app on a free local port — what a
finance officer does, click by click, and what the page then shows.

Skipped when Chromium or Playwright is missing; `.ci/run` installs Chromium, so CI runs it.
With XLTOOL_UPDATE_SCREENSHOT=1 the board's screenshot replaces samples/images/workspace.png
(the README's picture)."""

from __future__ import annotations

import base64
import os
import shutil
import zipfile

import openpyxl
import pytest

from workspace_help import ROOT, ROSTER, WUCHANG, WUHAN, chromium, corrected_wuhan, new_workspace_folder, running, wuhan_blank_actual
from xltool.workspace.app import create_app
from xltool.workspace.service import Workspace

playwright_api = pytest.importorskip("playwright.sync_api", reason="没有安装 playwright（pip install -e \".[test]\"），跳过浏览器测试")

CHROMIUM = chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="没有安装 Chromium（apt-get install chromium），跳过浏览器测试；CI 会安装它")


@pytest.fixture
def browser_page():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.set_default_timeout(30_000)
        refused_by_policy: list[str] = []  # the page's own scripts and styles must pass its policy
        page.on("console", lambda m: refused_by_policy.append(m.text) if "Content Security Policy" in m.text else None)
        try:
            yield page
        finally:
            context.close()
            browser.close()
        assert refused_by_policy == []


def _wait_uploads(page, count: int) -> list[str]:
    page.locator("#upload-list tr[data-done]").nth(count - 1).wait_for()  # no eval: the page's policy forbids it
    return page.locator("#upload-list tbody tr td:nth-child(3)").all_inner_texts()


def _count(page, state: str) -> int:
    return int(page.locator(f'#counts a[data-state="{state}"] .n').inner_text())


def test_a_finance_officer_runs_a_campaign_in_the_browser(tmp_path, browser_page):
    page = browser_page
    ws = Workspace(new_workspace_folder(tmp_path))
    with running(create_app(ws)) as base:
        # 新建评价批次 from the sample roster
        page.goto(base + "/")
        assert "还没有评价批次" in page.inner_text("main")
        page.fill("input[name=year]", "2021")
        page.set_input_files("input[name=roster]", str(ROSTER))
        page.click("#new-campaign button[type=submit]")
        assert "评价批次已建立，共 1 个单位" in page.inner_text("main")

        # the templates, as one zip
        with page.expect_download() as info:
            page.click("#templates-download")
        path = tmp_path / "模板.zip"
        info.value.save_as(path)
        assert zipfile.ZipFile(path).namelist() == ["2021_武汉市档案馆_部门整体支出绩效自评.xlsx"]

        # 回收: the two sample returns (one of another year: set aside)
        page.click("text=去回收文件")
        page.set_input_files("#file-input", [str(WUHAN), str(WUCHANG)])
        results = _wait_uploads(page, 2)
        assert any("武汉市档案馆，不通过，1 处错误" in r for r in results), results
        assert any("另放" in r and "2020 年度" in r and "本批次收的是 2021 年度" in r for r in results), results
        page.click("text=查看单位看板")
        assert (_count(page, "不通过"), _count(page, "通过"), _count(page, "未交")) == (1, 0, 0)
        assert WUCHANG.name in page.inner_text("#set-aside")

        # a corrected version, dropped on the page as a user drags it from a folder
        fixed = corrected_wuhan(tmp_path / "2021_武汉市档案馆_改正后.xlsx")
        page.click("header >> text=回收")
        page.evaluate(
            """([name, data]) => {
                const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], name));
                document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true, cancelable: true}));
            }""",
            [fixed.name, base64.b64encode(fixed.read_bytes()).decode()],
        )
        assert "武汉市档案馆，通过" in _wait_uploads(page, 1)[0]
        # the same file again is recognised
        page.set_input_files("#file-input", str(WUHAN))
        assert "内容完全相同" in _wait_uploads(page, 2)[1]

        page.goto(base + "/c/1")
        assert (_count(page, "不通过"), _count(page, "通过")) == (0, 1)
        row = page.locator('#board tr[data-unit="武汉市档案馆"]')
        assert row.locator("td").nth(4).inner_text() == "95.00" and row.locator("td").nth(5).inner_text() == "优"
        shot = tmp_path / "workspace.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("XLTOOL_UPDATE_SCREENSHOT") == "1":
            shutil.copy(shot, ROOT / "samples" / "images" / "workspace.png")

        # the unit's page: both versions, and what the second fixed
        row.locator("a").first.click()
        text = page.inner_text("main")
        assert "第 2 版" in text and "第 1 版" in text
        assert "已改正 1 · 新出现 0 · 仍未改 3（与第 1 版相比）" in text
        assert f"已改正：绩效指标 {wuhan_blank_actual()}" in text
        with page.expect_download() as info:
            page.locator("#v2 >> text=下载检查意见").click()
        assert info.value.suggested_filename.endswith("_检查意见.xlsx")

        # 抽查复核: draw one per grade, enter the reviewer's score and opinion
        page.click("header >> text=抽查复核")
        page.fill("input[name=per_grade]", "1")
        page.click("#draw-form button[type=submit]")
        review = page.locator('#review-list tr[data-unit="武汉市档案馆"]')
        review.locator("input[name=review_score]").fill("93.5")
        review.locator("input[name=comment]").fill("抽查核实：宣传条数以年报为准。")
        review.locator("button").click()
        assert "已保存" in page.inner_text("#review-list")
        page.click("header >> text=单位看板")
        assert _count(page, "已复核") == 1

        # 历年对比: the unit's years (one so far)
        page.click("header >> text=历年对比")
        page.click("main button[type=submit]")
        assert page.locator("#history tbody tr td").all_inner_texts()[:1] + page.locator("#history tbody tr td").all_inner_texts()[2:5] == ["2021", "已复核", "95.00", "优"]
        page.click("#history a")  # to the unit's page in that year's batch
        page.click("text=返回单位看板")

        # the summary workbook, downloaded and read back
        with page.expect_download() as info:
            page.click("#dl-summary")
        summary = tmp_path / "汇总.xlsx"
        info.value.save_as(summary)
    ws.close()
    book = openpyxl.load_workbook(summary)
    assert "武汉市档案馆" in [c.value for c in book["汇总"]["B"]] + [c.value for c in book["汇总"]["C"]]
    assert [c.value for c in book["抽查复核"][2]] == ["武汉市档案馆", "420100-DAG", 95, 95, 93.5, "抽查核实：宣传条数以年报为准。"]


def test_roster_errors_are_shown_by_row_and_column(tmp_path, browser_page):
    page = browser_page
    ws = Workspace(new_workspace_folder(tmp_path))
    bad = tmp_path / "名册.csv"
    bad.write_text("单位名称,单位编码,年度,类型\n甲馆,,20x1,项目\n乙馆,B1,2021,项目\n", encoding="utf-8")
    with running(create_app(ws)) as base:
        page.goto(base + "/")
        page.fill("input[name=year]", "2021")
        page.set_input_files("input[name=roster]", str(bad))
        page.click("#new-campaign button[type=submit]")
        assert "评价批次没有建立" in page.inner_text("#roster-error")
        rows = [r.locator("td").all_inner_texts() for r in page.locator("#roster-problems tbody tr").all()]
        assert [r[:2] for r in rows] == [["2", "单位编码"], ["2", "年度"], ["2", "项目名称"], ["3", "项目名称"]]
    ws.close()


def test_approved_targets_are_uploaded_before_the_templates(tmp_path, browser_page):
    page = browser_page
    ws = Workspace(new_workspace_folder(tmp_path))
    bad = tmp_path / "批复表有错.csv"
    good = ROOT / "samples" / "approved_targets.csv"
    lines = good.read_text(encoding="utf-8-sig").splitlines()
    bad.write_text("\n".join([lines[0], lines[1].replace("420106-DAG", "999999")] + lines[2:]) + "\n", encoding="utf-8")
    with running(create_app(ws)) as base:
        page.goto(base + "/")
        page.fill("input[name=year]", "2020")
        page.set_input_files("input[name=roster]", str(ROSTER))
        page.click("#new-campaign button[type=submit]")
        page.click("#targets-link")
        assert "本批次还没有批复表" in page.inner_text("#targets-none")

        page.set_input_files("input[name=targets]", str(bad))  # an unknown unit: refused, by row
        page.click("#targets-form button[type=submit]")
        assert "没有采用" in page.inner_text("#targets-error")
        assert ["2", "单位编码"] in [r.locator("td").all_inner_texts()[:2] for r in page.locator("#targets-problems tbody tr").all()]

        page.set_input_files("input[name=targets]", str(good))
        page.click("#targets-form button[type=submit]")
        assert "批复表已采用：1 个单位的 2 个项目或年度目标、18 个指标" in page.inner_text("main")
        assert "approved_targets.csv" in page.inner_text("#targets-current")

        with page.expect_download() as info:
            page.click("text=下载全部模板（zip）")
        path = tmp_path / "模板.zip"
        info.value.save_as(path)
        with zipfile.ZipFile(path) as archive:
            [member] = archive.namelist()
            (tmp_path / member).write_bytes(archive.read(member))
        sheet = openpyxl.load_workbook(tmp_path / member)["绩效指标"]
        [cell] = [c for row in sheet.iter_rows() for c in row if c.value == "档案修复（指标值为示例）"]
        assert cell.protection.locked and sheet.protection.sheet
        page.click("text=单位看板")
        assert "批复表：approved_targets.csv" in page.inner_text("main")
    ws.close()


def test_the_申报_stage_in_the_browser_ends_with_the_批复表(tmp_path, browser_page):
    from declfill import fill, good_project, good_rows

    page = browser_page
    ws = Workspace(new_workspace_folder(tmp_path))
    with running(create_app(ws)) as base:
        page.goto(base + "/")
        page.select_option("select[name=stage]", "declaration")
        page.fill("input[name=year]", "2020")
        page.set_input_files("input[name=roster]", str(ROSTER))
        page.click("#new-campaign button[type=submit]")
        assert "绩效目标申报批次已建立，共 1 个单位" in page.inner_text("main")
        with page.expect_download() as info:
            page.click("#templates-download")
        info.value.save_as(tmp_path / "申报表.zip")
        with zipfile.ZipFile(tmp_path / "申报表.zip") as archive:
            [member] = archive.namelist()
            (tmp_path / member).write_bytes(archive.read(member))
        bad = fill(tmp_path / member, tmp_path / "武昌申报表.xlsx", [good_project(rows=[r for r in good_rows() if r["level1"] != "效益指标"]), good_project()])
        good = fill(tmp_path / member, tmp_path / "武昌申报表（改正）.xlsx", [good_project(), good_project()])

        page.click("text=去回收文件")
        page.set_input_files("#file-input", [str(bad), str(WUCHANG)])
        results = _wait_uploads(page, 2)
        assert any("武昌区档案馆，不通过，1 处错误" in r for r in results), results
        assert any("另放" in r and "申报批次只收申报表" in r for r in results), results
        page.click("text=查看单位看板")
        page.click("#approval-link")  # refused: the page says what to fix in which file
        assert "没有生成批复表" in page.inner_text("#approval-error")
        lines = page.locator("#approval-lines li").all_inner_texts()
        assert lines[0].startswith("武昌申报表.xlsx（武昌区档案馆）有 1 个错误") and "效益指标" in lines[1]

        page.click("text=回收文件")
        page.set_input_files("#file-input", str(good))
        assert "武昌区档案馆，通过" in _wait_uploads(page, 1)[0]
        page.click("text=查看单位看板")
        assert (_count(page, "不通过"), _count(page, "通过")) == (0, 1)
        with page.expect_download() as info:
            page.click("#approval-link")
        assert info.value.suggested_filename == "2020_绩效目标批复表.xlsx"
        info.value.save_as(tmp_path / "批复表.xlsx")
    ws.close()
    header = [c.value for c in openpyxl.load_workbook(tmp_path / "批复表.xlsx").active[1]]
    assert header[:3] == ["单位编码", "项目名称", "年度目标"]
