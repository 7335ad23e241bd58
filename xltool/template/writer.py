"""Render a layout Plan into an .xlsx with xlsxwriter.

Caveats, stated plainly:
- Sheet protection has no password: it guards against accidents, not people. The checker verifies
  the locked content itself and reports removed protection.
- Formula cells carry an empty cached value; Excel and WPS recalculate on opening
  (xlsxwriter sets fullCalcOnLoad). The checker never reads cached values anyway.
- The file is written to a temporary name beside the target and moved into place, so an
  interrupted run leaves no half-written workbook.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from xltool.template.celltext import merge_text, write_text
from xltool.template.layout import SHEET_META, CellSpec, Plan, Validation
from xltool.template.styles import CONDITIONAL, STYLES, line_width, text_width

# A fixed creation time makes the same inputs give the same bytes (samples are checked for
# staleness, and a re-generated template should not look changed).
_FIXED_TIME = _dt.datetime(2000, 1, 1)


def write_plan(plan: Plan, path: str | Path, values: dict | None = None, key: bytes | None = None) -> Path:
    """Write the workbook atomically; returns the final path.

    `values` fills input cells, keyed by (sheet, row, col): how samples and test files are made
    (see xltool.template.fill). A blank template has none. The metadata is signed with `key`, by default
    this run's key (xltool.template.signing.current_key)."""
    from xltool.template.signing import current_key

    key = current_key() if key is None else key
    path = Path(path)
    with atomic_path(path) as tmp:
        _render(plan, tmp, values or {}, key)
    return path


@contextmanager
def atomic_path(path: Path):
    """A temporary name beside `path`, moved into place when the block ends without error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".xltool-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def document_properties(plan: Plan) -> dict:
    """The workbook's document properties (title, company, ...): the fast writer patches these."""
    unit = plan.unit
    return {
        "title": f"{unit.name} {unit.year}年度{plan.framework.title}",
        "subject": "预算绩效自评",
        "author": "xltool",
        "company": unit.name,
        "comments": f"template {plan.meta['template_id']} framework {plan.framework.name} {plan.framework.version}",
        "created": _FIXED_TIME,
    }


def _render(plan: Plan, filename, values: dict, key: bytes):
    """Render into `filename` (a path or a binary file object); returns the closed workbook."""
    from xltool.template.signing import SIGNATURE, sign

    wb = xlsxwriter.Workbook(
        filename,
        {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False, "in_memory": True},
    )
    wb.set_properties(document_properties(plan))
    formats = {key: wb.add_format(spec) for key, spec in STYLES.items()}
    conditional = {key: wb.add_format(spec) for key, spec in CONDITIONAL.items()}

    sheets = {}
    for spec in plan.sheets:
        ws = wb.add_worksheet(spec.name)
        _skip_future_function_rewrite(ws)
        sheets[spec.name] = ws
        ws.hide_gridlines(2 if spec.name not in ("_lists", "_meta") else 0)
        if spec.tab_color:
            ws.set_tab_color(spec.tab_color)

    by_sheet: dict[str, list[CellSpec]] = {}
    for cell in plan.cells:
        by_sheet.setdefault(cell.sheet, []).append(cell)

    for spec in plan.sheets:
        ws = sheets[spec.name]
        cells = by_sheet.get(spec.name, [])
        _set_widths(ws, spec, cells)
        for cell in cells:
            if cell.role == "input" and (cell.sheet, cell.row, cell.col) in values:
                cell = replace(cell, value=values[(cell.sheet, cell.row, cell.col)])
            _write_cell(ws, cell, formats[cell.style])
        if spec.name == SHEET_META:  # the signature row, below the metadata it signs
            ws.write_string(len(plan.meta), 0, SIGNATURE, formats["meta"])
            ws.write_string(len(plan.meta), 1, sign(plan.meta, key), formats["meta"])
        _add_validations(ws, cells)
        _set_row_heights(ws, spec, cells)
        if spec.freeze:
            ws.freeze_panes(*spec.freeze)
        _print_setup(ws, spec)
        if spec.protect:
            ws.protect(
                "",
                {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True, "format_rows": True},
            )
        if spec.state == "hidden":
            ws.hide()
        elif spec.state == "very_hidden":
            ws.very_hidden()

    for cf in plan.conditional:
        sheets[cf.sheet].conditional_format(
            cf.first_row, cf.first_col, cf.last_row, cf.last_col,
            {"type": "formula", "criteria": cf.formula, "format": conditional[cf.style]},
        )
    for name in plan.names.values():
        wb.define_name(name.name, "=" + name.ref)
    wb.worksheets()[0].activate()
    wb.close()
    return wb


def _plain_formula(formula: str, expand_future_functions: bool = False) -> str:
    return formula[1:] if formula.startswith("=") else formula


def _skip_future_function_rewrite(ws) -> None:
    """xlsxwriter runs ~30 regular expressions over every formula to prefix Excel 365 functions
    with _xlfn. — half of the time a template takes. The layout uses none of them
    (layout.check_formula_functions guards this), so the rewrite is skipped."""
    if hasattr(ws, "_prepare_formula"):
        ws._prepare_formula = _plain_formula


def _value(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (_dt.date, _dt.datetime)) and not isinstance(value, _dt.datetime):
        return _dt.datetime(value.year, value.month, value.day)
    return value


def _write_cell(ws, cell: CellSpec, fmt) -> None:
    value = _value(cell.value)
    if cell.span > 1 or cell.rows > 1:
        last_row, last_col = cell.row + cell.rows - 1, cell.col + cell.span - 1
        if cell.role == "formula":
            ws.merge_range(cell.row, cell.col, last_row, last_col, "", fmt)
            ws.write_formula(cell.row, cell.col, value, fmt, "")
        elif isinstance(value, str):
            merge_text(ws, cell.row, cell.col, last_row, last_col, value, fmt)
        else:
            ws.merge_range(cell.row, cell.col, last_row, last_col, value if value is not None else "", fmt)
        return
    if cell.role == "formula":
        ws.write_formula(cell.row, cell.col, value, fmt, "")
    elif value is None:
        ws.write_blank(cell.row, cell.col, None, fmt)
    elif isinstance(value, str):
        write_text(ws, cell.row, cell.col, value, fmt)
    elif isinstance(value, _dt.datetime):
        ws.write_datetime(cell.row, cell.col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(cell.row, cell.col, value, fmt)
    else:
        ws.write_number(cell.row, cell.col, value, fmt)


def _set_widths(ws, spec, cells) -> None:
    for col, width in column_widths(spec, cells).items():
        ws.set_column(col, col, width)


def column_widths(spec, cells) -> dict[int, float]:
    widths = dict(spec.widths)
    # Widen a column to its longest single-cell, unwrapped label, measured for CJK glyphs.
    for cell in cells:
        if cell.span == 1 and cell.role != "input" and isinstance(cell.value, str) and not cell.value.startswith("="):
            if "wrap" in cell.style or cell.style in ("header", "label", "label_bold", "label_center", "guide", "note"):
                continue
            # a single line of 60 characters or more is wider than the cap whatever its glyphs
            width = 60 if len(cell.value) >= 60 and "\n" not in cell.value else min(text_width(cell.value), 60)
            widths[cell.col] = max(widths.get(cell.col, 8), width)
    return widths


def _set_row_heights(ws, spec, cells) -> None:
    for row, height in row_heights(spec, cells).items():
        ws.set_row(row, height)


# The only sheet whose row heights follow its texts (the rest follow roles and styles alone).
HEIGHTS_FOLLOW_TEXT = ("填表说明",)


def row_heights(spec, cells) -> dict[int, float]:
    heights: dict[int, float] = {}
    if spec.name == "问题与改进":
        for cell in cells:
            if cell.role == "input":  # the two required texts get most room, the report's texts less
                heights[cell.row] = 220 if cell.row <= 3 else 120
    if spec.name in HEIGHTS_FOLLOW_TEXT:
        for cell in cells:
            if cell.col == 1 and isinstance(cell.value, str):
                lines = max(1, int(text_width(cell.value) / 100) + 1)
                heights[cell.row] = 16 * lines + 4
    # Rows with wrapped inputs (indicator names, reasons, notes) get two lines, so a printed
    # page and LibreOffice (which does not grow rows for wrapped text on load) show them whole.
    if spec.name != "问题与改进":
        for row in {c.row for c in cells if c.role == "input" and c.style == "input_wrap"}:
            heights[row] = 30
        # 年度总体目标 (预期目标, 实际完成情况): a paragraph each
        for row in {c.row for c in cells if c.style in ("input_long", "prefill_long")}:
            heights[row] = 110
        for row in {c.row for c in cells if c.style == "input_note"}:
            heights[row] = 48
        # an approved 定性 wording, wrapped in its narrow column: as many lines as it takes
        for cell in cells:
            if cell.style == "prefill_wrap" and isinstance(cell.value, str):
                per_line = max(spec.widths.get(cell.col, 8.43) - 1, 2)
                lines = min(8, math.ceil(line_width(cell.value, remember=False) / per_line))
                heights[cell.row] = max(heights.get(cell.row, 0), 30, 15 * lines + 3)
    if spec.name == "预算执行":
        heights[1] = 32  # the note above the blocks takes two lines
    headers = {c.row for c in cells if c.style == "header"}
    for row in headers:
        heights[row] = 36
    heights.update(spec.heights)
    return heights


def _print_setup(ws, spec) -> None:
    ws.set_paper(9)  # A4
    if spec.landscape:
        ws.set_landscape()
    if spec.one_page:  # the print form: one signed and stamped page, centred
        ws.fit_to_pages(1, 1)
        ws.center_horizontally()
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.5)
        return
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    if spec.repeat_rows:
        ws.repeat_rows(*spec.repeat_rows)


def _validation_options(v: Validation) -> dict:
    options = {
        "input_title": v.title[:32],
        "input_message": v.message[:255],
        "error_title": "输入有误"[:32],
        "error_message": v.error[:255],
        "ignore_blank": True,
    }
    if v.kind == "decimal":
        options.update({"validate": "decimal", "criteria": "between", "minimum": v.minimum, "maximum": v.maximum})
    elif v.kind == "length":
        options.update({"validate": "length", "criteria": "between", "minimum": v.minimum, "maximum": v.maximum})
    elif v.kind == "date":
        options.update(
            {
                "validate": "date",
                "criteria": "between",
                "minimum": _dt.datetime.fromisoformat(v.minimum),
                "maximum": _dt.datetime.fromisoformat(v.maximum),
            }
        )
    elif v.kind == "list":
        options.update({"validate": "list", "source": v.source})
        if not v.strict:
            options["error_type"] = "information"
    elif v.kind == "custom":
        options.update({"validate": "custom", "value": v.source})
    return options


def _add_validations(ws, cells) -> None:
    for first_row, first_col, last_row, last_col, validation in validation_runs(cells):
        ws.data_validation(first_row, first_col, last_row, last_col, _validation_options(validation))


def validation_runs(cells) -> list[tuple[int, int, int, int, Validation]]:
    """One validation per run of consecutive cells in a column with the same rule: (first row,
    first column, last row, last column, the rule).

    A custom rule's formula is relative to the run's first cell, as Excel reads it, so each run
    keeps the formula of its first cell."""
    runs: list[list[CellSpec]] = []
    for cell in sorted((c for c in cells if c.validation), key=lambda c: (c.col, c.row)):
        last = runs[-1][-1] if runs else None
        if last and last.col == cell.col and last.row + 1 == cell.row and _same_rule(last.validation, cell.validation):
            runs[-1].append(cell)
        else:
            runs.append([cell])
    return [(run[0].row, run[0].col, run[-1].row, run[-1].col + run[0].span - 1, run[0].validation) for run in runs]


def _same_rule(a: Validation, b: Validation) -> bool:
    if a.kind == "custom" and b.kind == "custom":
        return (a.title, a.message, a.error) == (b.title, b.message, b.error)
    if a.relative and b.relative:  # a formula relative to each cell: the run keeps its first
        return (a.kind, a.title, a.message, a.error, a.strict) == (b.kind, b.title, b.message, b.error, b.strict)
    return a == b
