"""What every report shares: status and grade words, text made safe for outputs, the workbook helpers."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import _preserve_whitespace, xl_rowcol_to_cell_fast
from xlsxwriter.xmlwriter import XMLwriter

from xltool.core.model import OUTPUT_MARKER, Finding, Result
from xltool.template.celltext import utf16_units, write_text
from xltool.template.styles import line_width as text_width


STATUS_TEXT = {"passed": "通过", "failed": "不通过", "unreadable": "无法读取", "missing": "未找到"}


def status_label(status: str, file: str = "x") -> str:
    """The status as a user reads it; `missing` is 未交 for a roster unit that sent nothing (no
    file) and 未找到 for a file named on the command line that is not there."""
    if status == "missing" and not file:
        return "未交"
    return STATUS_TEXT.get(status, status)


_NOT_EVALUATED = ("unreadable", "missing")


KIND_TEXT = {"project": "项目支出", "department": "部门整体", "declaration": "绩效目标申报表"}


SEVERITY_TEXT = {"error": "错误", "warning": "警告", "info": "提示"}

# (fill, font) colours of a verdict or severity, the same in the summary and the feedback.
RED = ("#FFC7CE", "#9C0006")
GREEN = ("#C6EFCE", "#006100")
SEVERITY_COLOURS = {"错误": RED, "警告": ("#FFEB9C", "#9C5700"), "提示": ("#DDEBF7", "#1F4E78")}


_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


FONT = "宋体"




MAX_CELL_CHARS = 32767  # Excel's limit for one cell's text


WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "in_memory": True,  # no scratch files outside the output's own temporary file (the summary,
    # written in constant memory, uses a scratch folder of its own, removed when it is written)
    "default_format_properties": {"font_name": FONT},
}


# OWASP CSV injection: a cell starting with one of these is a formula (or DDE) to Excel, WPS or
# LibreOffice. Full-width forms are included: WPS and IMEs turn them into ASCII on some paths.
_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


# Characters that may precede a trigger and are ignored by some importers.
_LEADING_BLANKS = " \u3000\u00a0\u200b\ufeff"


def _clean_unicode(text: str) -> str:
    """Replace lone surrogates (e.g. from undecodable file names) so the text can be UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def safe_text(value: Any) -> str:
    """`value` as text that no spreadsheet program will take for a formula.

    Text starting with = + - @ (also full-width ＝＋－＠), a tab, a carriage return or a line
    feed — also after leading spaces — gets a single quote in front (the OWASP rule). None
    becomes ''. Everything else is returned unchanged.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _clean_unicode(text)
    stripped = text.lstrip(_LEADING_BLANKS)
    if stripped and stripped[0] in _TRIGGERS:
        return "'" + text
    return text


def _safe_tree(value: Any) -> Any:
    """Every string in a JSON-shaped tree through safe_text; non-finite numbers to null."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {k: _safe_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe_tree(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    return value


def _close_workbook(workbook: "xlsxwriter.Workbook | _Book") -> None:
    """Close (= write) a workbook, a _Book's streamed rows first; xlsxwriter's own file errors
    become OSError."""
    from xlsxwriter.exceptions import FileCreateError

    if isinstance(workbook, _Book):
        for sheet in workbook.sheets:
            sheet.flush()
        workbook = workbook.wb
    try:
        workbook.close()
    except FileCreateError as exc:
        raise OSError(str(exc)) from exc


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return Decimal(str(value))
    return None


def _float(value: Any) -> float | None:
    d = _dec(value)
    if d is None:
        return None
    number = float(d)  # a finite Decimal beyond float range (1E+400) becomes inf
    return number if math.isfinite(number) else None


def _difference(declared: Any, score: Any) -> Decimal | None:
    a, b = _dec(declared), _dec(score)
    if a is None or b is None:
        return None
    try:
        return a - b
    except InvalidOperation:
        return None


def _file_name(file: str) -> str:
    """The last component of a path written with / or \\ (paths from Windows shares too)."""
    parts = re.split(r"[\\/]", file or "")
    return parts[-1] if parts and parts[-1] else (file or "")


def _about(f: Finding, name: str) -> bool:
    """Does the finding's message name this project (项目“名称”, or 项目 N when unnamed)?"""
    if name.startswith("项目 "):
        return re.search(re.escape(name) + r"(?!\d)", f.message) is not None
    return f"项目“{name}”" in f.message


def _note(result: Result, evaluation: str | None = None) -> str:
    """One sentence for the 说明 column: why a file failed or could not be read. On the row of
    one of several projects, only that project's findings and the file's own (those naming no
    project) are named; errors about the other projects are only counted."""
    findings = list(result.findings)
    elsewhere = 0
    if evaluation and len(result.evaluations) > 1:
        others = {e.name for e in result.evaluations if e.name and e.name != evaluation}
        mine = [f for f in findings if _about(f, evaluation) or not any(_about(f, o) for o in others)]
        kept = {id(f) for f in mine}  # by identity: a list's `in` compares every field of every finding
        elsewhere = sum(1 for f in findings if f.severity == "error" and id(f) not in kept)
        findings = mine
    errors = [f for f in findings if f.severity == "error"]
    warnings = sum(1 for f in findings if f.severity == "warning")
    if result.status in _NOT_EVALUATED:
        reasons = errors or findings
        return "；".join(f.message for f in reasons) or STATUS_TEXT.get(result.status, "无法读取")
    others_text = f"同一文件中其他项目有 {elsewhere} 个错误，见问题清单" if elsewhere else ""
    if errors:
        more = f"（另有 {len(errors) - 1} 个错误，见问题清单）" if len(errors) > 1 else ""
        return errors[0].message + more + (f"（{others_text}）" if others_text else "")
    if others_text:
        return f"本项目未发现错误；{others_text}。"
    if warnings:
        return f"{warnings} 条警告，请核实（见问题清单）"
    return ""


def _cell_text(value: Any) -> str:
    if type(value) is str and len(value) <= 300:  # file names, units, sheets, codes and messages recur
        return _cell_str(value)  # (short ones only: the cache stays small whatever a file holds)
    return _cell_str_uncached(value)


@lru_cache(maxsize=256)  # as _wrapped_lines: a few rows' texts, not a batch's
def _cell_str(value: str) -> str:
    return _cell_str_uncached(value)


def _cell_str_uncached(value: Any) -> str:
    text = safe_text(value)
    if len(text) > MAX_CELL_CHARS // 2 and utf16_units(text) > MAX_CELL_CHARS:
        # Excel counts UTF-16 units: a character beyond the BMP (𠀀, an emoji) counts two
        keep, units = 0, 0
        for keep, ch in enumerate(text):
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > MAX_CELL_CHARS - 1:
                break
        text = text[:keep] + "…"
    return text


_XML = XMLwriter()


@lru_cache(maxsize=1024)  # texts recur from row to row (file names, units, codes, messages)
def _inline_string_xml(shown: str) -> str:
    """The end of an inline-string cell element, as xlsxwriter writes it in constant memory
    (control characters as _xHHHH_, leading or trailing blanks preserved), but always escaped:
    a text shaped like xlsxwriter's own rich-string XML (<r>…</r>) stays text (celltext)."""
    escaped = _XML._escape_control_characters(shown)
    # as xlsxwriter decides it: on the text after _xHHHH_ escaping (a lone \x1f is blank to Python)
    preserve = ' xml:space="preserve"' if _preserve_whitespace(escaped) else ""
    return f' t="inlineStr"><is><t{preserve}>{_XML._escape_data(escaped)}</t></is></c>'


# Printing (A4 landscape, 100 %): points per line of 10 pt text. LibreOffice draws 宋体 with a
# CJK fallback (Noto Sans CJK) whose lines are about 14.5 pt; Excel's own are 13.5 pt.
LINE_HEIGHT = 15.0
MAX_ROW_HEIGHT = 409.0  # Excel's limit


def wrapped_lines(text: Any, width: float) -> int:
    """Lines a wrapped cell `width` characters wide needs for `text` (CJK counted double, each
    line break kept), measured with the project's one text width (styles.line_width)."""
    return _wrapped_lines(_cell_text(text), width)


@lru_cache(maxsize=1024)  # file names, units, sheets, codes and messages recur from row to row
def _wrapped_lines(shown: str, width: float) -> int:
    usable = max(width - 1.5, 1.0)  # cell padding, and a word that does not fit moves down
    if len(shown) > 4000:  # beyond the row-height limit anyway: an estimate will do
        return int(text_width(shown[:4000], remember=False) // usable) + shown.count("\n") + 1
    return sum(max(1, math.ceil(text_width(line, remember=False) / usable)) for line in shown.split("\n"))


class _Sheet:
    """A worksheet that only ever writes text with write_string, and tracks column widths.

    Columns given a fixed width (`fix`) wrap; `size_row` gives a row the height its wrapped
    texts need (before the row is written: in constant memory a row is final once the next one
    starts)."""

    def __init__(self, book: "_Book", name: str, stream: bool = False):
        self.book = book
        self.ws = book.wb.add_worksheet(name)
        self.widths: dict[int, float] = {}
        self.fixed: dict[int, float] = {}
        self._sized: list[int] = []
        # A streamed sheet (long listings in a constant-memory book) renders each row's cells
        # itself and hands xlsxwriter the finished <row>: the same XML xlsxwriter writes, at a
        # fraction of the cost a cell. Every cell of such a sheet must be written through this
        # class, in row order (tests/test_summary_stream.py compares both ways byte for byte).
        self.stream = stream and self.ws.constant_memory
        self._row = -1  # the streamed row being filled
        self._done = -1  # the last streamed row written out
        self._cells: dict[int, str] = {}
        book.sheets.append(self)

    def fix(self, widths: dict[int, float]) -> None:
        for col, width in widths.items():
            self.fixed[col] = width
            self.ws.set_column(col, col, width)

    def size_row(self, row: int, texts: dict[int, Any], minimum: float | None = None) -> None:
        """Set row's height to the most lines any of `texts` (by column; only fixed columns, or
        a width given as (text, width)) needs."""
        lines = 1
        for col, text in texts.items():
            if isinstance(text, tuple):
                text, width = text
            elif col in self.fixed:
                width = self.fixed[col]
            else:
                continue
            if text is not None and text != "":
                lines = max(lines, wrapped_lines(text, width))
        height = min(MAX_ROW_HEIGHT, lines * LINE_HEIGHT + 3) if lines > 1 else None
        if minimum is not None:
            height = max(height or 0, minimum)
        if height is not None:
            ws = self.ws
            ws.set_row(row, height)
            if ws.constant_memory:
                # xlsxwriter keeps every set_row for good; a row before the pending one is
                # already on disk and its entry only costs memory (flat memory: test_memory)
                self._sized.append(row)
                while self._sized and self._sized[0] < ws.previous_row:
                    done = self._sized.pop(0)
                    ws.row_info.pop(done, None)
                    ws.row_sizes.pop(done, None)

    def _measure(self, col: int, shown: str) -> None:
        self.widths[col] = max(self.widths.get(col, 0.0), text_width(shown))

    def text(self, row: int, col: int, value: Any, fmt=None, measure: bool = True) -> None:
        shown = _cell_text(value)
        if self.stream:
            if shown:
                self._put(row, col, fmt, _inline_string_xml(shown))
            elif fmt is not None:
                self._put(row, col, fmt, "/>")
        elif not shown:
            self.ws.write_blank(row, col, None, fmt)
        else:
            write_text(self.ws, row, col, shown, fmt)
        if measure and col not in self.fixed:  # a fixed column's width is not measured
            self._measure(col, shown)

    def number(self, row: int, col: int, value: Any, fmt=None, shown_as: str | None = None) -> None:
        number = _float(value)
        if number is None:
            if self.stream:
                if fmt is not None:
                    self._put(row, col, fmt, "/>")
            else:
                self.ws.write_blank(row, col, None, fmt)
            return
        if self.stream:
            self._put(row, col, fmt, f"><v>{number:.16G}</v></c>")
        else:
            self.ws.write_number(row, col, number, fmt)
        self._measure(col, shown_as if shown_as is not None else f"{number:,.2f}")

    def _put(self, row: int, col: int, fmt, tail: str) -> None:
        """A streamed cell: `tail` is its element after the reference and style."""
        if row != self._row:
            if row <= self._row:
                raise ValueError(f"streamed rows go down the sheet: row {row + 1} after row {self._row + 1}")
            self.flush()
            self._row = row
        if fmt is None:  # as xlsxwriter: the column's format, if it has one
            info = self.ws.col_info.get(col)
            fmt = info.column_format if info else None
        style = f' s="{fmt._get_xf_index()}"' if fmt is not None else ""
        self._cells[col] = f'<c r="{xl_rowcol_to_cell_fast(row, col)}"{style}{tail}'

    def flush(self) -> None:
        """Write the pending streamed row out (also when the book closes)."""
        if not self._cells:
            return
        ws, row, cells = self.ws, self._row, self._cells
        if ws.table or ws.previous_row in ws.comments:  # a cell xlsxwriter holds: written first
            if row <= ws.previous_row:
                raise ValueError("a streamed row shares its row with a cell written by xlsxwriter")
            ws._write_single_row(row)
        columns = sorted(cells)
        ws._check_dimensions(row, columns[0])
        ws._check_dimensions(row, columns[-1])
        ws._write_row(row, None, ws.row_info.pop(row, None))
        ws.fh.write("".join([cells[col] for col in columns]) + "</row>")
        ws.row_sizes.pop(row, None)
        ws.previous_row = row + 1  # xlsxwriter refuses cells above this row from now on
        self._done, self._cells = row, {}

    def value(self, row: int, col: int, value: Any, fmt=None, text_fmt=None) -> None:
        """Numbers as numbers, booleans as 是/否, everything else as text."""
        if isinstance(value, bool):
            self.text(row, col, "是" if value else "否", text_fmt or fmt)
        elif isinstance(value, (int, float, Decimal)):
            self.number(row, col, value, fmt, shown_as=str(value))
        else:
            self.text(row, col, value, text_fmt or fmt)

    def fit_columns(self, minimum: float = 6, maximum: float = 50, caps: dict[int, float] | None = None) -> None:
        caps = caps or {}
        for col, width in self.widths.items():
            if col not in self.fixed:
                self.ws.set_column(col, col, min(max(width + 2, minimum), caps.get(col, maximum)))

    def print_setup(self, header_row: int | None, title: str, last_col: int, repeat_cols: int = 0) -> None:
        """A4 landscape at 100 % (10 pt stays 10 pt: a wide table is never shrunk to the page);
        a table wider than the page goes on over more pages with the header row and the first
        `repeat_cols` columns printed again on each."""
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.set_print_scale(100)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.center_horizontally()
        if header_row is not None:
            ws.repeat_rows(header_row)
        if repeat_cols:
            ws.repeat_columns(0, repeat_cols - 1)
            ws.print_across()  # a row's pages one after the other
        safe_title = _cell_text(title).replace("&", "&&")[:200]
        ws.set_header(f'&C&"{FONT},Bold"&12{safe_title}')
        ws.set_footer("&C第 &P 页，共 &N 页")


class _Book:
    def __init__(self, path: Path, title: str, kind: str = "summary", **options: Any):
        # a fresh copy of the default font: xlsxwriter adds a key to the dict it is given, and a
        # shared one made every workbook after a process's first differ from it (styles.xml)
        defaults = dict(WORKBOOK_OPTIONS["default_format_properties"])
        self.wb = xlsxwriter.Workbook(str(path), {**WORKBOOK_OPTIONS, "default_format_properties": defaults, **options})
        self.wb.set_properties({"title": _cell_text(title), "author": "xltool", "comments": "由 xltool 生成"})
        # The mark by which a later run passes over this workbook when it lies among the returns.
        self.wb.set_custom_property(OUTPUT_MARKER, kind)
        self._formats: dict[tuple, Any] = {}
        self.sheets: list[_Sheet] = []  # their streamed rows are flushed by _close_workbook

    def fmt(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format({"font_name": FONT, "font_size": 10, "valign": "vcenter", **props})
        return self._formats[key]

    # the recurring styles
    @cached_property
    def title(self):
        return self.fmt(font_size=16, bold=True, align="center")

    @cached_property
    def header(self):
        return self.fmt(bold=True, align="center", text_wrap=True, border=1, bg_color="#D9D9D9")

    @cached_property
    def cell(self):
        return self.fmt(border=1)

    @cached_property
    def wrap(self):
        return self.fmt(border=1, text_wrap=True)

    @cached_property
    def center(self):
        return self.fmt(border=1, align="center")

    @cached_property
    def money(self):
        return self.fmt(border=1, num_format="#,##0.00")

    @cached_property
    def percent(self):
        return self.fmt(border=1, num_format="0.00%", align="center")

    @cached_property
    def score(self):
        return self.fmt(border=1, num_format="0.00", align="center")

    @cached_property
    def integer(self):
        return self.fmt(border=1, num_format="0", align="center")

    @cached_property
    def general(self):
        return self.fmt(border=1, num_format="General")

    @cached_property
    def general_wrap(self):
        return self.fmt(border=1, num_format="General", text_wrap=True)

    def cond(self, bg: str, font: str):
        return self.wb.add_format({"bg_color": bg, "font_color": font})


def _plain_value(value: Any) -> Any:
    """A seen/expected value for a cell: Decimal/int/float as a number, anything else as text."""
    if value is None or isinstance(value, (bool, int, float, Decimal, str)):
        return value
    return str(value)


FORMULA_EXPECTED = "公式（请勿改动，从下发的模板复制原公式恢复）"


def _shown_text(value: Any) -> str:
    """A seen/expected value as `_Sheet.value` shows it (for measuring its lines)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)


def _expected_value(value: Any) -> Any:
    """The 应为 column: a formula is described, never shown as its raw text ("=IF(…)" means
    nothing to staff, and pasted back it would overwrite the template's own formula)."""
    if isinstance(value, str) and value.lstrip().startswith(("=", "\uff1d")):
        return FORMULA_EXPECTED
    return _plain_value(value)
