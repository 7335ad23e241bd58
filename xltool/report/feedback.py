"""One feedback workbook per returned file: its findings and what to do, to send back to the unit."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path
from typing import Any

from xltool.core.model import Evaluation, Finding, Result
from xltool.report.common import FORMULA_EXPECTED, SEVERITY_COLOURS, SEVERITY_TEXT, _Book, _SEVERITY_RANK, _Sheet, _clean_unicode, _close_workbook, _dec, _expected_value, _file_name, _float, _plain_value, _shown_text, safe_text, status_label
from xltool.report.outputs import _atomic


_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


_BAD_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def feedback_filename(file: str) -> str:
    """'…/武昌区档案馆2020.xlsx' → '武昌区档案馆2020_检查意见.xlsx', safe on Windows and POSIX."""
    return output_filename(file, "_检查意见.xlsx")


def output_filename(file: str, suffix: str) -> str:
    """The returned file's name without its extension, safe on Windows and POSIX, + suffix."""
    name = _clean_unicode(_file_name(file))
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _BAD_NAME_CHARS.sub("_", stem).strip(" .")
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    while len(stem.encode("utf-8")) > 180:  # room for the suffix within 255 bytes
        stem = stem[:-1]
    return f"{stem or '文件'}{suffix}"


def _advice(f: Finding) -> str:
    """What must happen about a finding (the message itself already says what is wrong and how
    to put it right)."""
    if f.severity == "error":
        if f.code.startswith("FILE_") or f.code == "NOT_OUR_TEMPLATE":
            return "请按左侧说明处理后重新报送。"
        if isinstance(_expected_value(f.expected), str) and _expected_value(f.expected) == FORMULA_EXPECTED:
            return "必须恢复原公式（从下发的模板复制），恢复后重新报送。"
        if f.expected is not None and f.expected != "":
            return f"必须更正（应为 {_shown(f.expected)}），更正后重新报送。"
        return "必须更正，更正后重新报送。"
    if f.severity == "warning":
        return "请核实；如无误，请在说明栏写明原因。"
    return "供参考，无需处理。"


def _shown(value: Any) -> str:
    """A value in a sentence: exact decimals, safe text."""
    d = None if isinstance(value, str) else _dec(value)
    return format(d, "f") if d is not None else safe_text(value)


def _evaluation_line(ev: Evaluation) -> str:
    parts = []
    rate = _float(ev.execution_rate)
    if rate is not None:
        parts.append(f"执行率 {rate * 100:.2f}%")
    if _dec(ev.declared_score) is not None:
        parts.append(f"自评 {_shown(ev.declared_score)} 分" + (f"（{ev.declared_grade}）" if ev.declared_grade else ""))
    if _dec(ev.score) is not None:
        parts.append(f"复核 {_shown(ev.score)} 分" + (f"（{ev.grade}）" if ev.grade else ""))
        if _dec(ev.not_applicable_points) and _dec(ev.raw_score) is not None:  # 不适用 rows: scaled to 100
            parts[-1] += f"，即得分合计 {_shown(ev.raw_score)} 分扣除不适用指标 {_shown(ev.not_applicable_points)} 分后折算为百分制"
    return f"{ev.name or '评价对象'}：" + ("，".join(parts) or "未能计算得分")


def write_feedback(result: Result, out_dir: str | os.PathLike, filename: str | None = None) -> Path:
    """A short workbook for one returned file: what is wrong, where, and what to do.

    Written (atomically) to out_dir / feedback_filename(result.file) unless `filename` is given.
    """
    out = Path(out_dir)
    target = out / (filename or feedback_filename(result.file))
    name = _file_name(result.file)
    unit = result.unit or "（未能识别单位）"
    title = f"检查意见：{unit}（{name}）"
    headers = ("序号", "级别", "工作表", "单元格", "问题", "处理意见", "填报值", "应为")
    widths = (4, 5, 8, 6, 30, 20, 7, 7)  # 87 units: one A4 landscape page across; texts wrap
    page = sum(widths)
    last_col = len(headers) - 1
    with _atomic(target) as tmp:
        book = _Book(tmp, title, kind="feedback")
        sh = _Sheet(book, "检查意见")
        sh.fix(dict(enumerate(widths)))
        ws = sh.ws
        ws.merge_range(0, 0, 0, last_col, "", book.title)
        sh.text(0, 0, title, book.title, measure=False)
        ws.set_row(0, 30)
        info = book.fmt(text_wrap=True)
        status = status_label(result.status, result.file)
        lines = [
            f"文件：{name}",
            f"单位：{unit}    年度：{result.year or '—'}    检查结果：{status}（错误 {result.errors} 个，警告 {result.warnings} 个）",
            f"检查日期：{date.today().isoformat()}",
        ]
        if result.status == "passed" and not result.findings:
            lines.append("检查通过，无需更正。")
        elif result.status == "passed":
            lines.append("检查通过；下列提示请核实，无需重新报送。")
        else:
            lines.append("请按下表逐项更正或说明，更正后重新报送。")
        for i, line in enumerate(lines, start=1):
            sh.size_row(i, {0: (line, page)})
            ws.merge_range(i, 0, i, last_col, "", info)
            sh.text(i, 0, line, info, measure=False)
        r = len(lines) + 2

        for ev in result.evaluations:
            line = _evaluation_line(ev)
            sh.size_row(r, {0: (line, page)})
            ws.merge_range(r, 0, r, last_col, "", info)
            sh.text(r, 0, line, info, measure=False)
            r += 1
        if result.evaluations:
            r += 1

        header_row = r
        for col, h in enumerate(headers):
            sh.text(r, col, h, book.header)
        ordered = sorted(result.findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 9))
        for k, f in enumerate(ordered, start=1):
            r += 1
            advice, seen, expected = _advice(f), _plain_value(f.seen), _expected_value(f.expected)
            sh.size_row(r, {2: f.sheet, 4: f.message, 5: advice, 6: _shown_text(seen), 7: _shown_text(expected)})
            ws.write_number(r, 0, k, book.integer)
            sh.text(r, 1, SEVERITY_TEXT.get(f.severity, f.severity), book.center)
            sh.text(r, 2, f.sheet, book.wrap)
            sh.text(r, 3, f.cell, book.center)
            sh.text(r, 4, f.message, book.wrap)
            sh.text(r, 5, advice, book.wrap)
            sh.value(r, 6, seen, book.general_wrap, book.wrap)
            sh.value(r, 7, expected, book.general_wrap, book.wrap)
        if not ordered:
            r += 1
            ws.merge_range(r, 0, r, last_col, "", book.cell)
            sh.text(r, 0, "没有发现问题。", book.cell, measure=False)
        elif r > header_row:
            for text, (bg, font) in SEVERITY_COLOURS.items():
                ws.conditional_format(
                    header_row + 1, 1, r, 1, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": book.cond(bg, font)}
                )
        ws.freeze_panes(header_row + 1, 0)
        sh.print_setup(header_row, title, last_col)
        _close_workbook(book.wb)
    return target


def feedback_plan(results, folder, inputs) -> list[tuple[object, Path]]:
    """Each result's feedback path, decided before anything is written: names made unique
    (two returned files may share a name in different folders), and never an input's path.
    `results` may be results or sources (anything with `.file`)."""
    taken = {os.path.realpath(p) for p in inputs}
    planned = []
    for result in results:
        name = feedback_filename(result.file)
        path = Path(folder) / name
        n = 1
        while os.path.realpath(path) in taken:
            n += 1
            path = Path(folder) / name.replace("_检查意见.xlsx", f"_检查意见_{n}.xlsx")
        taken.add(os.path.realpath(path))
        planned.append((result, path))
    return planned


def write_feedback_files(results, folder, inputs) -> list[Path]:
    return [write_feedback(result, folder, filename=path.name) for result, path in feedback_plan(results, folder, inputs)]
