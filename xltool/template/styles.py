"""Cell formats of the template, by the style names the layout uses.

Inputs are light yellow and unlocked, locked figures grey, formulas light blue: staff see at a
glance what is theirs to fill. Fonts are 宋体 (present on every Chinese Windows and in WPS;
LibreOffice substitutes a CJK font of the same metrics).
"""

from __future__ import annotations

import unicodedata
from itertools import repeat

FONT = "宋体"
INPUT_FILL = "#FFF2CC"
PREFILL_FILL = "#E7E6E6"
FORMULA_FILL = "#DDEBF7"
HEADER_FILL = "#D9D9D9"

_BASE = {"font_name": FONT, "font_size": 11, "valign": "vcenter", "border": 1}

_FORM = {"font_name": FONT, "font_size": 10, "valign": "vcenter", "border": 1, "text_wrap": True}

STYLES: dict[str, dict] = {
    "title": {"font_name": FONT, "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"},
    "note": {"font_name": FONT, "font_size": 10, "italic": True, "font_color": "#595959", "text_wrap": True, "valign": "vcenter"},
    "guide": {"font_name": FONT, "font_size": 11, "text_wrap": True, "valign": "top"},
    "guide_number": {"font_name": FONT, "font_size": 11, "align": "center", "valign": "top"},
    "header": {**_BASE, "bold": True, "align": "center", "text_wrap": True, "bg_color": HEADER_FILL},
    "label": {**_BASE, "text_wrap": True},
    "label_bold": {**_BASE, "bold": True, "text_wrap": True},
    "label_center": {**_BASE, "align": "center", "text_wrap": True},
    "block_title": {**_BASE, "bold": True, "bg_color": HEADER_FILL},
    "block_formula": {**_BASE, "bold": True, "bg_color": FORMULA_FILL},
    "prefill": {**_BASE, "bg_color": PREFILL_FILL},
    "prefill_money": {**_BASE, "bg_color": PREFILL_FILL, "num_format": "#,##0.00"},
    "prefill_long": {**_BASE, "bg_color": PREFILL_FILL, "text_wrap": True, "valign": "top"},
    "prefill_wrap": {**_BASE, "bg_color": PREFILL_FILL, "text_wrap": True},
    "prefill_score": {**_BASE, "bg_color": PREFILL_FILL, "num_format": "0.00", "align": "center"},
    "input_text": {**_BASE, "bg_color": INPUT_FILL, "locked": False},
    # Text format (@): a phone number typed as 02788886666 keeps its leading 0 (General makes it a number).
    "input_code": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "num_format": "@"},
    "input_wrap": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "text_wrap": True},
    "input_long": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "text_wrap": True, "valign": "top"},
    "input_note": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "text_wrap": True, "valign": "top"},
    "input_block": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "bold": True},
    "input_center": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "align": "center"},
    "input_number": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "num_format": "General"},
    "input_money": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "num_format": "#,##0.00"},
    "input_score": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "num_format": "0.00", "align": "center"},
    "input_date": {**_BASE, "bg_color": INPUT_FILL, "locked": False, "num_format": "yyyy-mm-dd", "align": "left"},
    "formula_percent": {**_BASE, "bg_color": FORMULA_FILL, "num_format": "0.00%", "align": "center"},
    "formula_score": {**_BASE, "bg_color": FORMULA_FILL, "num_format": "0.00", "align": "center"},
    "formula_center": {**_BASE, "bg_color": FORMULA_FILL, "align": "center"},
    "formula_text": {**_BASE, "bg_color": FORMULA_FILL, "text_wrap": True},
    # The print form (自评表): black on white, as it is signed and stamped; every figure a formula.
    "form_title": {"font_name": FONT, "font_size": 16, "bold": True, "align": "center", "valign": "vcenter"},
    "form_note": {"font_name": FONT, "font_size": 10, "valign": "vcenter"},
    "form_head": {**_FORM, "bold": True, "align": "center"},
    "form_label": {**_FORM, "align": "center"},
    "form_text": {**_FORM},
    "form_money": {**_FORM, "num_format": "#,##0.00", "align": "right"},
    "form_percent": {**_FORM, "num_format": "0.00%", "align": "right"},
    "form_score": {**_FORM, "num_format": "0.00", "align": "center"},
    "form_sign": {"font_name": FONT, "font_size": 11, "valign": "bottom"},
    "form_sign_date": {"font_name": FONT, "font_size": 11, "valign": "bottom", "num_format": "yyyy-mm-dd", "align": "left"},
    "list": {"font_name": FONT, "font_size": 10},
    "meta": {"font_name": "Consolas", "font_size": 9},
}

# Conditional formats: drawn over the cell's own style.
CONDITIONAL: dict[str, dict] = {
    "alert": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "warn": {"font_color": "#C65911", "bold": True},
}


def text_width(text: str) -> float:
    """Column width (in Excel's character units) that shows `text` on one line, with a margin."""
    return line_width(text) + 2


def line_width(text, remember: bool = True) -> float:
    """Width (in Excel's character units) of the longest line of `text`, no margin.

    East Asian wide characters take two units; Excel's own autofit and xlsxwriter's measure
    Latin glyphs only and leave Chinese headings cut off. Short texts (labels, names, codes:
    they come back for every unit and every file) are remembered; long ones are not, so the
    cache stays small however many files a batch has. `remember=False` for texts that will not
    come back (a finding's message, a file name): measured, not kept."""
    text = str(text)
    if len(text) > 200 or not remember:
        return _measure(text)
    known = _WIDTHS.get(text)
    if known is None:
        if len(_WIDTHS) >= 4096:  # bounded: memory stays flat however many files
            _WIDTHS.clear()
        known = _WIDTHS[text] = _measure(text)
    return known


def _measure(text: str) -> float:
    longest = 0.0
    for line in text.split("\n"):
        if line.isascii():  # the same additions as below, without asking unicodedata per character
            width = sum(repeat(1.1, len(line)))
        else:
            width = sum(map(_CHAR_WIDTHS.__getitem__, line))
        longest = max(longest, width)
    return longest


class _CharWidths(dict):
    """Width of one character, asked of unicodedata once per character (bounded)."""

    def __missing__(self, ch: str) -> float:
        width = 2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1
        if len(self) < 20_000:
            self[ch] = width
        return width


_CHAR_WIDTHS = _CharWidths()


_WIDTHS: dict[str, float] = {}  # short texts already measured
