"""The graded summary workbook: 汇总, 问题清单, 评分明细 and 图表."""

from __future__ import annotations

import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from xltool.core.model import Result
from xltool.report.common import FONT, GREEN, KIND_TEXT, RED, SEVERITY_COLOURS, SEVERITY_TEXT, _Book, _NOT_EVALUATED, _Sheet, _close_workbook, _difference, _expected_value, _file_name, _float, _plain_value, _shown_text, status_label
from xltool.report.outputs import _atomic
from xltool.report.spool import Spool
from xltool.report.tabular import _rows


GRADE_COLOURS = {  # grade → (fill, font)
    "优": ("#C6EFCE", "#006100"),
    "良": ("#E2EFDA", "#375623"),
    "中": ("#FFEB9C", "#9C5700"),
    "差": ("#FFC7CE", "#9C0006"),
}


SUMMARY_HEADERS = (
    # header, row key, style
    ("文件", "file_name", "text"),
    ("单位", "unit", "text"),
    ("年度", "year", "integer"),
    ("类型", "kind_text", "center"),
    ("评价对象", "evaluation", "text"),
    ("预算数（万元）", "budget", "money"),
    ("执行数（万元）", "executed", "money"),
    ("执行率", "execution_rate", "percent"),
    ("年初预算完成率", "initial_budget_completion_rate", "percent"),
    ("自评得分", "declared_score", "score"),
    ("复核得分", "score", "score"),
    ("差异", "difference", "score"),
    ("自评等级", "declared_grade", "center"),
    ("复核等级", "grade", "center"),
    ("错误数", "errors", "integer"),
    ("警告数", "warnings", "integer"),
    ("状态", "status_text", "center"),
    ("说明", "note", "wrap"),
    ("路径", "file", "text"),
    ("单位·评价对象", "label", "text"),  # the charts' labels (not printed)
)


SUMMARY_HEADER_ROW = 2  # 0: title, 1: totals, 2: header


_COL = {key: i for i, (_, key, _) in enumerate(SUMMARY_HEADERS)}


def _summary_rows(result: Result) -> list[dict]:
    """Rows of 汇总 for one file: one per evaluated object (one when it has none)."""
    rows = _rows([result])
    for row in rows:
        row["file_name"] = _file_name(row["file"])
        row["kind_text"] = KIND_TEXT.get(row["kind"], row["kind"] or "")
        row["status_text"] = status_label(row["status"], row["file"])
        unit, evaluation = row["unit"] or "", row["evaluation"] or ""
        row["label"] = f"{unit}·{evaluation}" if unit and evaluation and evaluation != unit else unit or evaluation or row["file_name"]
    return rows


# Printed widths of the columns that wrap (the rest fit their longest value). LibreOffice prints
# about 90 width units on an A4 landscape page: 汇总 takes three pages across, 文件 and 单位 on each.
_SUMMARY_WRAPPED = {"file_name": 16, "unit": 12, "evaluation": 14, "note": 26}


def _group(result: Result) -> int:
    """Readable files first, unreadable files next, then files not found, then units that sent
    nothing, so the charts can cover one unbroken block of evaluated rows."""
    if result.status not in _NOT_EVALUATED:
        return 0
    if result.status == "unreadable":
        return 1
    return 2 if result.file else 3


class _Overview:
    """The 汇总 sheet. Its totals row comes before the rows and the rows are ordered by status,
    while results arrive in the order given: rows are parked by group (see `_group`) and written
    out in row order when the last result is in (the workbook is written in constant memory)."""

    def __init__(self, book: _Book, title: str, scratch: str):
        self.book, self.title = book, title
        self.sh = _Sheet(book, "汇总")
        self.groups = [Spool(scratch) for _ in range(4)]
        self.counts = {"files": 0, "passed": 0, "failed": 0, "unreadable": 0, "missing": 0, "evaluated": 0}

    def add(self, result: Result) -> None:
        c = self.counts
        c["files"] += 1
        if result.status in ("passed", "failed", "unreadable", "missing"):
            c[result.status] += 1
        c["evaluated"] += len(result.evaluations)
        spool = self.groups[_group(result)]
        for row in _summary_rows(result):
            spool.add(row)

    def close(self) -> None:
        for spool in self.groups:
            spool.close()

    def finish(self) -> tuple[int, int]:
        """Write the sheet; returns (first data row, last evaluated data row) for the charts."""
        book, title, sh = self.book, self.title, self.sh
        ws = sh.ws
        last_col = len(SUMMARY_HEADERS) - 1
        ws.set_row(0, 30)
        ws.merge_range(0, 0, 0, last_col, "", book.title)
        sh.text(0, 0, title, book.title, measure=False)

        c = self.counts
        label = book.fmt(bold=True, align="right")
        count = book.fmt(bold=True, align="left", num_format="0")
        totals = (("文件数", c["files"]), ("通过", c["passed"]), ("不通过", c["failed"]), ("无法读取", c["unreadable"]), ("评价对象", c["evaluated"]))
        if c["missing"]:
            totals += (("未找到", c["missing"]),)
        for i, (name, n) in enumerate(totals):
            sh.text(1, 2 * i, name, label, measure=False)
            ws.write_number(1, 2 * i + 1, n, count)

        header_fmt = book.header
        sh.fix({_COL[key]: width for key, width in _SUMMARY_WRAPPED.items()})
        sh.fix({_COL["label"]: 36})  # the charts' labels, one per object: not measured
        ws.set_row(SUMMARY_HEADER_ROW, 30)
        for col, (name, _, _) in enumerate(SUMMARY_HEADERS):
            sh.text(SUMMARY_HEADER_ROW, col, name, header_fmt)
        ws.write_comment(SUMMARY_HEADER_ROW, _COL["difference"], "差异 = 自评得分 − 复核得分：正数表示自评偏高。", {"font_name": FONT})

        styles = {
            "text": book.cell,
            "wrap": book.wrap,
            "fixed": book.wrap,
            "center": book.center,
            "money": book.money,
            "percent": book.percent,
            "score": book.score,
            "integer": book.integer,
        }
        first = SUMMARY_HEADER_ROW + 1
        last_evaluated = first - 1
        r = first - 1
        for spool in self.groups:
            for row in spool:
                r += 1
                sh.size_row(r, {_COL[key]: row[key] for key in _SUMMARY_WRAPPED})
                for col, (_, key, style) in enumerate(SUMMARY_HEADERS):
                    value = row[key]
                    fmt = book.wrap if key in _SUMMARY_WRAPPED else styles[style]
                    if style in ("money", "percent", "score"):
                        shown = None
                        if style == "percent" and _float(value) is not None:
                            shown = f"{_float(value) * 100:.2f}%"
                        sh.number(r, col, value, fmt, shown_as=shown)
                    elif style == "integer":
                        sh.number(r, col, value, fmt, shown_as=None if value is None else str(value))
                    else:
                        sh.text(r, col, value, fmt, measure=key != "note")
                if row["status"] not in _NOT_EVALUATED:
                    last_evaluated = r
        last = r

        # 说明 wraps; 文件 and 路径 are long but 路径 is for lookups, not for the printed page.
        sh.fit_columns(minimum=6, maximum=30, caps={_COL["file"]: 40})
        ws.freeze_panes(first, 2)
        ws.autofilter(SUMMARY_HEADER_ROW, 0, max(last, SUMMARY_HEADER_ROW), last_col)
        sh.print_setup(SUMMARY_HEADER_ROW, title, last_col, repeat_cols=2)
        ws.print_area(0, 0, max(last, SUMMARY_HEADER_ROW), _COL["note"])

        if last >= first:
            for key in ("declared_grade", "grade"):
                col = _COL[key]
                for grade, (bg, font) in GRADE_COLOURS.items():
                    ws.conditional_format(
                        first, col, last, col, {"type": "text", "criteria": "begins with", "value": grade, "format": book.cond(bg, font)}
                    )
            col = _COL["status_text"]
            for text, (bg, font) in (("不通过", RED), ("无法读取", RED), ("未找到", RED), ("通过", GREEN)):
                ws.conditional_format(first, col, last, col, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": book.cond(bg, font)})
            col = _COL["difference"]
            ws.conditional_format(
                first, col, last, col, {"type": "cell", "criteria": "!=", "value": 0, "format": book.wb.add_format({"font_color": "#C00000", "bold": True})}
            )
            col = _COL["execution_rate"]
            ws.conditional_format(
                first, col, last, col, {"type": "cell", "criteria": ">", "value": 1, "format": book.wb.add_format({"font_color": "#C65911", "bold": True})}
            )
        return first, last_evaluated


FINDING_HEADERS = ("文件", "单位", "工作表", "单元格", "代码", "级别", "说明", "填报值", "应为")
FINDING_WIDTHS = (14, 10, 7, 6, 10, 5, 24, 6, 6)  # 88 units: one A4 landscape page across


class _Listing:
    """A sheet of rows under one header row, written as the results arrive (`r`: the last row)."""

    def __init__(self, book: _Book, title: str, name: str, headers: tuple[str, ...]):
        self.book, self.title = book, title
        self.sh = sh = _Sheet(book, name, stream=True)
        sh.ws.set_row(0, 24)
        for col, header in enumerate(headers):
            sh.text(0, col, header, book.header)
        self.r = 0


class _Findings(_Listing):
    """The 问题清单 sheet, a row per finding."""

    def __init__(self, book: _Book, title: str):
        super().__init__(book, title, "问题清单", FINDING_HEADERS)

        # One A4 landscape page across; every column but 单元格 and 级别 wraps.
        self.sh.fix(dict(enumerate(FINDING_WIDTHS)))

    def add(self, result: Result) -> None:
        book, sh = self.book, self.sh
        name = _file_name(result.file)
        for f in result.findings:
            self.r += 1
            r = self.r
            seen, expected = _plain_value(f.seen), _expected_value(f.expected)
            sh.size_row(r, {0: name, 1: result.unit, 2: f.sheet, 4: f.code, 6: f.message, 7: _shown_text(seen), 8: _shown_text(expected)})
            sh.text(r, 0, name, book.wrap)
            sh.text(r, 1, result.unit, book.wrap)
            sh.text(r, 2, f.sheet, book.wrap)
            sh.text(r, 3, f.cell, book.center)
            sh.text(r, 4, f.code, book.wrap)
            sh.text(r, 5, SEVERITY_TEXT.get(f.severity, f.severity), book.center)
            sh.text(r, 6, f.message, book.wrap)
            sh.value(r, 7, seen, book.general_wrap, book.wrap)
            sh.value(r, 8, expected, book.general_wrap, book.wrap)

    def finish(self) -> int:
        book, sh, r = self.book, self.sh, self.r
        ws = sh.ws
        if r == 0:
            sh.text(1, 0, "没有发现问题。", book.fmt(italic=True), measure=False)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(r, 0), len(FINDING_HEADERS) - 1)
        sh.print_setup(0, f"{self.title} · 问题清单", len(FINDING_HEADERS) - 1)
        if r:
            for text, (bg, font) in SEVERITY_COLOURS.items():
                ws.conditional_format(
                    1, 0, r, len(FINDING_HEADERS) - 1, {"type": "formula", "criteria": f'=$F2="{text}"', "format": book.cond(bg, font)}
                )
        return r


DETAIL_HEADERS = (
    "文件",
    "单位",
    "评价对象",
    "类别",
    "项目/目标序号",
    "一级指标",
    "二级指标",
    "名称",
    "计算符号",
    "指标值",
    "计量单位",
    "实际完成值",
    "定性档次",
    "分值",
    "扣分",
    "自评得分",
    "复核得分",
    "差异",
    "是否达成",
)


_D = {name: i for i, name in enumerate(DETAIL_HEADERS)}
# Wrapped, fixed widths; 文件, 单位 and 评价对象 print again on each page across.
_DETAIL_WRAPPED = {_D["文件"]: 14, _D["单位"]: 10, _D["评价对象"]: 12, _D["名称"]: 16}


# Keys the evaluation dicts may use for each column (the first present wins).
_INDICATOR_KEYS = {
    "项目/目标序号": ("block",),
    "一级指标": ("level1", "criterion"),
    "二级指标": ("level2", "group"),
    "名称": ("name",),
    "计算符号": ("sign",),
    "指标值": ("target",),
    "计量单位": ("measure", "unit"),
    "实际完成值": ("actual",),
    "定性档次": ("band",),
    "分值": ("points",),
    "扣分": ("deduction",),
    "自评得分": ("declared", "declared_score"),
    "复核得分": ("score", "recomputed"),
    "是否达成": ("met",),
}


def _pick(item: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    return None


class _Details(_Listing):
    """The 评分明细 sheet, a row per criterion and indicator."""

    def __init__(self, book: _Book, title: str):
        super().__init__(book, title, "评分明细", DETAIL_HEADERS)
        self.sh.fix(_DETAIL_WRAPPED)

    def add(self, result: Result) -> None:
        if result.status == "unreadable":
            return
        book, sh = self.book, self.sh
        numbers = {"指标值", "实际完成值"}
        scores = {"分值", "扣分", "自评得分", "复核得分", "差异"}
        name = _file_name(result.file)
        criteria_label = "准则" if result.kind == "department" else "类别"
        for ev in result.evaluations:
            items = [(criteria_label, c) for c in ev.criteria] + [("指标", i) for i in ev.indicators]
            for label, item in items:
                if not isinstance(item, dict):
                    continue
                self.r += 1
                r = self.r
                sh.size_row(r, {0: name, 1: result.unit, 2: ev.name, _D["名称"]: _pick(item, _INDICATOR_KEYS["名称"])})
                sh.text(r, 0, name, book.wrap)
                sh.text(r, 1, result.unit, book.wrap)
                sh.text(r, 2, ev.name, book.wrap)
                sh.text(r, 3, label, book.center)
                for header, keys in _INDICATOR_KEYS.items():
                    col = _D[header]
                    value = _pick(item, keys)
                    if header == "是否达成":
                        text = "是" if value is True else "否" if value is False else value
                        sh.text(r, col, text, book.center)
                    elif header in scores:
                        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                            sh.number(r, col, value, book.score, shown_as=f"{_float(value):.2f}" if _float(value) is not None else "")
                        else:
                            sh.text(r, col, value, book.center)
                    elif header in numbers or header == "项目/目标序号":
                        sh.value(r, col, _plain_value(value), book.general if header in numbers else book.center, book.wrap)
                    else:
                        sh.text(r, col, value, book.wrap if header == "名称" else book.cell)
                declared = _pick(item, _INDICATOR_KEYS["自评得分"])
                score = _pick(item, _INDICATOR_KEYS["复核得分"])
                sh.number(r, _D["差异"], _difference(declared, score), book.score)

    def finish(self) -> int:
        book, sh, r = self.book, self.sh, self.r
        ws = sh.ws
        if r == 0:
            sh.text(1, 0, "没有可列出的评分明细。", book.fmt(italic=True), measure=False)
        sh.fit_columns(minimum=6, maximum=30)
        ws.freeze_panes(1, 3)
        last_col = len(DETAIL_HEADERS) - 1
        ws.autofilter(0, 0, max(r, 0), last_col)
        sh.print_setup(0, f"{self.title} · 评分明细", last_col, repeat_cols=3)
        if r:
            ws.conditional_format(
                1, _D["差异"], r, _D["差异"], {"type": "cell", "criteria": "!=", "value": 0, "format": book.wb.add_format({"font_color": "#C00000", "bold": True})}
            )
            ws.conditional_format(1, _D["是否达成"], r, _D["是否达成"], {"type": "cell", "criteria": "==", "value": '"否"', "format": book.cond(*RED)})
        return r


CHART_ROWS = 15  # evaluation objects per chart (each label legible): each chart is one A4 landscape page
PAGE_ROWS = 30  # rows of 15 pt per printed page of 图表 (a page break after each)
MAX_CHART_PAGES = 7  # per kind of chart: memory stays bounded however many files a batch has


def _write_charts(book: _Book, sh: _Sheet, first: int, last: int) -> int:
    """Charts over the 汇总 rows first..last (0-based), CHART_ROWS objects each, one chart per
    A4 landscape page, bars labelled 单位·评价对象: first the scores, then the execution rates.
    Returns how many were drawn."""
    ws = sh.ws
    ws.set_default_row(15)  # the page breaks below count rows of this height
    sh.print_setup(None, "图表", 10)
    ws.center_vertically()
    if last < first:
        sh.text(0, 0, "没有可绘制的评价对象（所有文件均无法读取）。", book.fmt(italic=True), measure=False)
        return 0
    axis_font = {"name": FONT, "size": 9}
    title_font = {"name": FONT, "size": 12, "bold": True}
    name_font = {"name": FONT, "size": 10, "bold": False}
    chunks = [(a, min(a + CHART_ROWS - 1, last)) for a in range(first, last + 1, CHART_ROWS)][:MAX_CHART_PAGES]
    shown = chunks[-1][1] - first + 1
    if shown < last - first + 1:
        note = f"图表只画出前 {shown} 个评价对象（共 {last - first + 1} 个），其余请看“汇总”表。"
        sh.text(0, 0, note, book.fmt(italic=True), measure=False)
    # 10 default columns by 26 rows: within a page of PAGE_ROWS as LibreOffice prints it
    size = {"width": 10 * 64, "height": 26 * 20}
    label = _COL["label"]

    def part(k: int) -> str:
        return f"（{k + 1}/{len(chunks)}）" if len(chunks) > 1 else ""

    charts = []
    for k, (a, b) in enumerate(chunks):
        cats = ["汇总", a, label, b, label]
        scores = book.wb.add_chart({"type": "bar"})
        for key, colour in (("score", "#4472C4"), ("declared_score", "#A5A5A5")):
            col = _COL[key]
            scores.add_series(
                {
                    "name": ["汇总", SUMMARY_HEADER_ROW, col, SUMMARY_HEADER_ROW, col],
                    "categories": cats,
                    "values": ["汇总", a, col, b, col],
                    "fill": {"color": colour},
                    # the recomputed score only: two labels side by side print over each other
                    "data_labels": {"value": key == "score", "num_format": "0.00", "font": axis_font},
                    "gap": 60,
                }
            )
        scores.set_title({"name": "复核得分与自评得分（按单位·评价对象）" + part(k), "name_font": title_font})
        scores.set_x_axis({"name": "得分", "min": 0, "max": 100, "major_unit": 10, "name_font": name_font, "num_font": axis_font})
        scores.set_y_axis({"reverse": True, "num_font": axis_font})
        scores.set_legend({"position": "bottom", "font": axis_font})
        scores.set_size(size)
        charts.append(scores)
    for k, (a, b) in enumerate(chunks):
        cats = ["汇总", a, label, b, label]
        # bars across, as the scores: labels at the bars' ends never meet
        rates = book.wb.add_chart({"type": "bar"})
        col = _COL["execution_rate"]
        rates.add_series(
            {
                "name": ["汇总", SUMMARY_HEADER_ROW, col, SUMMARY_HEADER_ROW, col],
                "categories": cats,
                "values": ["汇总", a, col, b, col],
                "fill": {"color": "#70AD47"},
                "data_labels": {"value": True, "num_format": "0.00%", "font": axis_font},
                "gap": 80,
            }
        )
        rates.set_title({"name": "预算执行率（按单位·评价对象）" + part(k), "name_font": title_font})
        rates.set_x_axis({"name": "执行率", "min": 0, "num_format": "0%", "name_font": name_font, "num_font": axis_font})
        rates.set_y_axis({"reverse": True, "num_font": axis_font})
        rates.set_legend({"none": True})
        rates.set_size(size)
        charts.append(rates)
    for k, chart in enumerate(charts):
        ws.insert_chart(k * PAGE_ROWS + 1, 0, chart)
    ws.set_h_pagebreaks([k * PAGE_ROWS for k in range(1, len(charts))])
    ws.print_area(0, 0, len(charts) * PAGE_ROWS - 1, 10)
    return len(charts)


def write_summary(results: Iterable[Result], path: str | os.PathLike, title: str = "预算绩效自评检查汇总", extra_sheets=()) -> Path:
    """The graded summary workbook: 汇总, 问题清单, 评分明细, 图表, then any `extra_sheets`
    ((name, headers, rows) of plain values: the workspace's 抽查复核 sheet).

    `results` is read once, one result at a time, and may be a generator: the workbook is written
    in xlsxwriter's constant-memory mode (rows flushed as they are written, into a scratch folder
    removed at the end), so memory does not grow with the number of files."""
    target = Path(path)
    with tempfile.TemporaryDirectory(prefix="xltool-") as scratch, _atomic(target) as tmp:
        book = _Book(tmp, title, in_memory=False, constant_memory=True, tmpdir=scratch)
        # Sheets in the order the reader sees them; each is filled in its own row order.
        overview = _Overview(book, title, scratch)
        findings = _Findings(book, title)
        details = _Details(book, title)
        charts = _Sheet(book, "图表")
        try:
            for result in results:
                overview.add(result)
                findings.add(result)
                details.add(result)
            first, last_evaluated = overview.finish()
        finally:
            overview.close()
        findings.finish()
        details.finish()
        _write_charts(book, charts, first, last_evaluated)
        for name, headers, rows in extra_sheets:
            extra = _Listing(book, title, name, tuple(headers))
            for values in rows:
                extra.r += 1
                for col, value in enumerate(values):
                    extra.sh.value(extra.r, col, value, book.cell, book.wrap)
            if extra.r == 0:
                extra.sh.text(1, 0, "没有记录。", book.fmt(italic=True), measure=False)
            extra.sh.fit_columns(minimum=6, maximum=50)
            extra.sh.ws.freeze_panes(1, 0)
            extra.sh.print_setup(0, f"{title} · {name}", max(len(headers) - 1, 0))
        book.wb.worksheets()[0].activate()
        _close_workbook(book)
    return target
