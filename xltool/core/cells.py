"""One cell's content, interpreted once.

Every input Value is interpreted here once: its number, its text, whether the number was typed
as a plain number, and why it is not one (`reason`), worked out by `interpret` the first time any
of them is asked for and kept on the Value (model.Value); the reader adds to each list cell
(一级/二级指标, 计算符号, 定性评价档次) the option it names (`type_choices`) and to the 填报日期 its
date (`type_date`). The evaluation and the checks read those fields and never interpret a raw
cell again. Nothing here touches a file.

Reason codes (Value.reason), None when the cell is blank or a plain number:
  "error"            an Excel error such as #DIV/0!
  "number_as_text"   text that is nothing but a number (" 300 ", "1,000", "１２．５"): read, but
                     the workbook's own formulas do not see it as a number
  "percent_text"     a percent typed as text ("95%"): read as the percent number (95)
  "not_a_number"     text, or TRUE/FALSE, that is no number ("1万以上", "0.5分")
  "not_a_date"       (a date cell) neither a date nor a date's text
  "date_out_of_range" (a date cell) a serial number outside Excel's dates
  "date_in_number"   a number the cell shows as a date (a date pasted in brings its format):
                     the reader makes it the date's text ("2021-06-30", as staff see it), no number
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from functools import lru_cache
from decimal import Decimal

from xltool.core.scoring import to_decimal

QUALITATIVE = "定性"
NOT_APPLICABLE = "不适用"  # the 计算符号 of a row that does not apply (a framework's opt-in)

_PERCENT = re.compile(r"^([+-]?[0-9][0-9,]*(?:\.[0-9]+)?|[+-]?\.[0-9]+)\s*%$")


def interpret(raw, is_error: bool = False) -> tuple[Decimal | None, str, bool, str | None]:
    """(number, text, pure, reason) of a cell's raw content.

    number: numbers are numbers; text that is a pure number (" 300 ", "1,000", full-width
    "１２．５") is the number; "95%" typed as text is 95, the percent number the template asks
    for; anything else ("1万以上", "低于5%", "0.5分"), booleans, Excel errors and blanks → None.
    text: trimmed, "" when blank or an error; 10.0 reads "10", as Excel shows it.
    pure: a number, or text that is nothing but a number (no finding needed).
    """
    if is_error:
        return None, "", False, "error"
    if raw is None:
        return None, "", False, None
    if isinstance(raw, bool):
        return None, "TRUE" if raw else "FALSE", False, "not_a_number"
    if isinstance(raw, str):
        stripped = raw.strip()
        if not stripped:
            return None, "", False, None
        found = to_decimal(raw)
        if found is not None:
            return found, stripped, True, "number_as_text"
        match = _PERCENT.match(unicodedata.normalize("NFKC", raw).strip())
        if match:
            return to_decimal(match.group(1)), stripped, False, "percent_text"
        return None, stripped, False, "not_a_number"
    found = to_decimal(raw)
    shown = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
    return found, shown, found is not None, None if found is not None else "not_a_number"


def option_key(label: str) -> str:
    """A label as compared with a list's options: NFKC, without spaces and quotes."""
    label = unicodedata.normalize("NFKC", label)
    return "".join(ch for ch in label if not ch.isspace() and ch not in "\"'“”‘’")


def choose(text: str, options) -> str | None:
    """The option a cell's text names, or None. Tolerates spaces, full-width letters and the
    "指标" suffix ("产出" for "产出指标", "数量指标 " for "数量指标")."""
    written = option_key(text)
    if not written:
        return None
    keyed = _keyed(tuple(options))
    if written in keyed:
        return keyed[written]
    for variant in (written + "指标", written[:-2] if written.endswith("指标") else None):
        if variant and variant in keyed:
            return keyed[variant]
    return None


@lru_cache(maxsize=64)
def _keyed(options: tuple) -> dict:
    return {option_key(o): o for o in options}


_SIGN_ALIASES = {
    "≥": "≥", ">=": "≥", "=>": "≥", "≧": "≥", "⩾": "≥",
    ">": ">",
    "≤": "≤", "<=": "≤", "=<": "≤", "≦": "≤", "⩽": "≤",
    "<": "<",
    "=": "=", "==": "=",
    "定性": QUALITATIVE,
}


def sign_of(text: str, not_applicable: bool = False) -> str | None:
    """The 计算符号 a cell's text names (≥ > ≤ < = 定性), full-width and ">=" forms included;
    with a framework's not_applicable, also 不适用; else None."""
    written = option_key(text)
    found = _SIGN_ALIASES.get(written)
    if found is None and not_applicable and written == NOT_APPLICABLE:
        return NOT_APPLICABLE
    return found


_EXCEL_EPOCH = _dt.date(1899, 12, 30)
_DATE_TEXT = re.compile(r"^\s*([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*[日号]?\s*(?:[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?\s*$")


def as_date(raw, is_error: bool = False) -> tuple[_dt.date | None, str | None]:
    """A date cell → (date, None); (None, reason) when it is no date; (None, None) when blank.
    A date, a serial number (Excel's dates) or a date's text (2022-06-30, 2022年6月30日, 2022年6月30号) count."""
    if is_error:
        return None, "error"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if isinstance(raw, _dt.datetime):
        return raw.date(), None
    if isinstance(raw, _dt.date):
        return raw, None
    if isinstance(raw, bool):
        return None, "not_a_date"
    if isinstance(raw, (int, float, Decimal)):
        try:
            serial = float(raw)
            if not 1 <= serial < 2958466:  # Excel's serial range: 1900-01-01 … 9999-12-31
                return None, "date_out_of_range"
            return _EXCEL_EPOCH + _dt.timedelta(days=int(serial)), None
        except (OverflowError, ValueError):
            return None, "date_out_of_range"
    match = _DATE_TEXT.match(unicodedata.normalize("NFKC", str(raw)))
    if not match:
        return None, "not_a_date"
    try:
        return _dt.date(*(int(g) for g in match.groups())), None
    except ValueError:
        return None, "not_a_date"


def type_choices(row, fw) -> None:
    """An indicator row's list cells typed with the option each names (Value.choice): 一级指标
    among the framework's categories, 二级指标 among all its subcategories, 计算符号 (不适用 too
    when the framework allows it), 定性评价档次 among its bands. The reader calls this once per
    row; a Submission made by hand (a test) calls it too."""
    level1, level2, sign, band = row.level1, row.level2, row.sign, row.band
    if level1.raw is None and level2.raw is None and sign.raw is None and band.raw is None:
        return  # a blank row's (most of a template's): nothing names an option
    for key, v, options in (("level1", level1, fw.category_names), ("level2", level2, fw.all_subcategories), ("band", band, None)):
        if v.raw is not None and v.text:
            setattr(row, key, v.typed(choice=choose(v.text, options if options is not None else [b.label for b in fw.bands])))
    if sign.raw is not None and sign.text:
        row.sign = sign.typed(choice=sign_of(sign.text, bool(fw.not_applicable)))


def type_date(v):
    """A date cell (填报日期) typed with its date, and the reason when it holds none."""
    if v.blank and not v.is_error:
        return v
    date, reason = as_date(v.raw, v.is_error)
    return v.typed(date=date, reason=reason)
