"""Scoring rules of 预算绩效自评, as pure decimal functions.

Everything a user sees is rounded half-up to 2 places (rates: 4 places as a fraction), the way
Excel's ROUND does, so that the checker agrees with the formulas in the template. Python's
``round`` rounds half to even and binary floats misplace halves (2.675 → 2.67), hence Decimal.

Every function takes what a cell may hold (Decimal, int, float, numeric text or None) and
returns None where a figure cannot be computed, rather than raising.
"""

from __future__ import annotations

import functools
import math
import numbers
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

D = Decimal

__all__ = [
    "D",
    "Band",
    "as_excel_shows",
    "DEFAULT_BANDS",
    "DEFAULT_GRADES",
    "GradeBand",
    "band_range",
    "criterion_score",
    "deduction_valid",
    "execution_score",
    "grade",
    "indicator_score",
    "is_met",
    "qualitative_in_band",
    "qualitative_score",
    "rate",
    "round_half_up",
    "same_grade",
    "scaled_total",
    "sum_scores",
    "to_decimal",
]

# Our own context, so a caller changing the thread's decimal context cannot change a score.
# 34 digits is far beyond Excel's 15, so intermediate rounding never shows at 2 or 4 places.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)

_CENT = D("0.01")
_ZERO = D(0)
_ZERO_SCORE = D("0.00")


def _in_context(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with localcontext(_CONTEXT):
            return func(*args, **kwargs)

    return wrapper


# ---------------------------------------------------------------- numbers

# "2,814.98" as printed in the seeds; a comma elsewhere ("1,5") is ambiguous, so not a number.
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


# Zero-width space, non-joiner and joiner, word joiner, byte-order mark: invisible around a pasted figure.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

# The largest number Excel stores or types (its limit is 9.99999999999999E+307); beyond is text.
EXCEL_MAX = D("9.99999999999999E+307")


def to_decimal(x) -> Decimal | None:
    """A cell value as a finite Decimal within Excel's range (|x| ≤ 9.99999999999999E+307), or
    None when it is not such a number. Never raises."""
    try:
        if x is None or isinstance(x, bool):  # True is an int to Python, not a figure to a user
            return None
        if isinstance(x, Decimal):
            value = x
        elif isinstance(x, numbers.Integral):
            value = D(int(x))
        elif isinstance(x, numbers.Real):
            f = float(x)
            if not math.isfinite(f):
                return None
            value = D(repr(f))  # repr is the shortest text that round-trips: 0.1 stays 0.1
        elif isinstance(x, str):
            # Full-width digits and signs (１２．５) are common in Chinese input; text copied from
            # WeChat or a web page brings invisible characters around a figure (zero-width spaces).
            text = unicodedata.normalize("NFKC", x).strip().strip(_INVISIBLE).strip()
            if _THOUSANDS.fullmatch(text):
                text = text.replace(",", "")
            # Decimal() also accepts "1_000" and non-ASCII digits; Excel does not.
            if not text or "_" in text or not text.isascii():
                return None
            value = D(text)
        else:
            return None
        return value if value.is_finite() and abs(value) <= EXCEL_MAX else None
    except (ArithmeticError, ValueError, TypeError, OverflowError):
        return None


def _quantize(value: Decimal, places: int) -> Decimal | None:
    try:
        return value.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context holds: not a figure anyone typed
        return None


@_in_context
def round_half_up(x, places: int = 2) -> Decimal | None:
    """Excel's ROUND(x, places): halves go away from zero. None when x is not a number."""
    value = to_decimal(x)
    if value is None:
        return None
    return _quantize(value, places)


def _r2(value: Decimal) -> Decimal:
    result = _quantize(value, 2)
    if result is None:
        raise InvalidOperation("too large to round")
    return result


def _as_score(points: Decimal) -> Decimal:
    """Points shown with 2 decimals when that is exact (10 → 10.00); never altered otherwise."""
    if points.as_tuple().exponent >= -2:
        shown = _quantize(points, 2)  # None for 1E+300: more digits than the context holds
        return points if shown is None else shown
    return points


def _below(points: Decimal) -> Decimal:
    """The largest 2-decimal score strictly below points (10 → 9.99)."""
    return points.quantize(_CENT, rounding=ROUND_CEILING) - _CENT


# ---------------------------------------------------------------- budget execution


@_in_context
def rate(numerator, denominator) -> Decimal | None:
    """numerator / denominator as a fraction rounded half-up to 4 places (= a 2-decimal %).

    None when the denominator is blank, zero, negative or not a number: an undefined rate is a
    finding, never 0%.
    """
    num, den = to_decimal(numerator), to_decimal(denominator)
    if num is None or den is None or den <= 0:
        return None
    try:
        return _quantize(num / den, 4)
    except ArithmeticError:
        return None


@_in_context
def execution_score(rate_, points=10) -> Decimal:
    """min(max(rate, 0), 1) × points, rounded to 2: spending over budget earns no bonus."""
    r, p = to_decimal(rate_), to_decimal(points)
    if r is None or p is None or p <= 0:
        return _ZERO_SCORE
    try:
        return _r2(min(max(r, _ZERO), D(1)) * p)
    except ArithmeticError:
        return _ZERO_SCORE


# ---------------------------------------------------------------- quantitative indicators

_POSITIVE, _REVERSE, _EQUAL, _QUALITATIVE = "positive", "reverse", "equal", "qualitative"

_SIGNS = {
    "≥": _POSITIVE, ">=": _POSITIVE, "≧": _POSITIVE, "=>": _POSITIVE, ">": _POSITIVE,
    "≤": _REVERSE, "<=": _REVERSE, "≦": _REVERSE, "=<": _REVERSE, "<": _REVERSE,
    "=": _EQUAL, "==": _EQUAL,
    "定性": _QUALITATIVE,
}

REVERSE_RULES = ("ratio", "linear")


def _kind(sign) -> str | None:
    if not isinstance(sign, str):
        return None
    # NFKC turns the full-width ＞＜＝ into ASCII; ≥ ≤ stay as they are.
    return _SIGNS.get(unicodedata.normalize("NFKC", sign).strip())


# Excel keeps, shows and compares 15 significant digits, but writes a computed figure pasted as a
# value with 17 (0.1 + 0.2 → 0.30000000000000004): compared as Excel does, 0.3 meets "< 0.3".
_EXCEL_DIGITS = Context(prec=15, rounding=ROUND_HALF_UP)


def as_excel_shows(value: Decimal) -> Decimal:
    """A number at Excel's 15 significant digits, as the sheet shows and compares it
    (100.00000000000001 → 100): what a comparison with a target or a limit must use."""
    return _EXCEL_DIGITS.plus(value)


def _met(kind: str, target: Decimal, actual: Decimal) -> bool:
    """The one comparison both is_met and indicator_score use, so they cannot disagree. The
    figures are compared at Excel's 15 significant digits, as the sheet shows them."""
    target, actual = as_excel_shows(target), as_excel_shows(actual)
    actual = max(actual, _ZERO)  # a negative actual counts as 0
    if kind == _REVERSE:
        return actual <= target
    if kind == _EQUAL and target == 0:
        return actual <= 0
    return actual >= target  # ">" is read as "≥", as the scoring table does


@_in_context
def is_met(sign, target, actual) -> bool | None:
    """Whether the target is met; None for 定性, an unknown sign or a non-numeric figure."""
    kind = _kind(sign)
    t, a = to_decimal(target), to_decimal(actual)
    if kind is None or kind == _QUALITATIVE or t is None or a is None:
        return None
    return _met(kind, t, a)


@_in_context
def indicator_score(sign: str, target, actual, points, reverse_rule: str = "linear", cap: bool = False) -> Decimal | None:
    """The score of one quantitative indicator, 2 decimals in [0, points] (DOMAIN.md's national rules).

    Met → full points. Not met → positive: ROUND(B / A × w, 2); reverse: linear (national,
    ROUND((1 − (B − A) / A) × w, 2), 0 from twice the target) or ratio (ROUND(A / B × w, 2));
    "=" with target 0: 0. There is no cap: 9,996 of 10,000 on 10 points is 10.00. With cap=True
    (a framework's opt-in `score_cap: points_minus_cent`) an unmet row shows at most points − 0.01.
    None when it cannot be computed (定性, unknown sign, a blank or non-numeric figure).
    """
    if reverse_rule not in REVERSE_RULES:
        raise ValueError(f"reverse_rule must be one of {REVERSE_RULES}, got {reverse_rule!r}")
    kind = _kind(sign)
    t, a, p = to_decimal(target), to_decimal(actual), to_decimal(points)
    if kind is None or kind == _QUALITATIVE or t is None or a is None or p is None or p < 0:
        return None
    if _met(kind, t, a):
        return _as_score(p)
    a = max(a, _ZERO)
    try:
        if kind == _REVERSE:
            if t <= 0:  # nothing above a zero ceiling earns anything
                raw = _ZERO
            elif reverse_rule == "ratio":  # some provinces: target / actual
                raw = t / a * p
            else:  # national: linear, 0 at twice the target
                raw = max((1 - (a - t) / t) * p, _ZERO)
        elif t <= 0:  # "=" with target 0 and actual > 0; positive t <= 0 is always met
            raw = _ZERO
        else:
            raw = a / t * p
        score = min(_r2(raw), _as_score(p))
        if cap:
            score = min(score, _below(p))
        return max(score, _ZERO_SCORE)
    except ArithmeticError:
        return None


# ---------------------------------------------------------------- qualitative indicators


@dataclass(frozen=True)
class Band:
    """A qualitative band as fractions of the indicator's points: [low, high) or [low, high]."""

    label: str
    low: Decimal
    high: Decimal
    high_inclusive: bool


DEFAULT_BANDS = (
    Band("达成年度指标", D("0.8"), D("1"), True),
    Band("部分达成年度指标并具有一定效果", D("0.6"), D("0.8"), False),
    Band("未达成年度指标且效果较差", D("0"), D("0.6"), False),
)


@_in_context
def band_range(band: Band, points) -> tuple[Decimal, Decimal]:
    """The lowest and highest 2-decimal score allowed in the band (points 10, [0.6, 0.8) → 6.00, 7.99).

    Raises ValueError when points is not a number (callers check first).
    """
    p = to_decimal(points)
    low, high = to_decimal(band.low), to_decimal(band.high)
    if p is None or low is None or high is None:
        raise ValueError(f"band_range needs numeric points and band limits, got {points!r} and {band!r}")
    top = _r2(high * p)
    if not band.high_inclusive:
        top -= _CENT  # the open end: 8.00 already belongs to the band above
    return _r2(low * p), top


def _band_and_declared(band, declared, points):
    if band is None:
        return None
    d, p = to_decimal(declared), to_decimal(points)
    if d is None or p is None or p < 0:
        return None
    try:
        low, high = band_range(band, p)
        declared2 = _r2(d)  # compared as shown: scores are 2-decimal figures
    except (ArithmeticError, ValueError):
        return None
    if high < low:  # points too small for the band to hold any 2-decimal score
        return None
    return low, high, declared2


@_in_context
def qualitative_score(band: Band | None, declared, points) -> Decimal | None:
    """The recomputed score of a qualitative indicator: the declared score clamped into its band."""
    found = _band_and_declared(band, declared, points)
    if found is None:
        return None
    low, high, declared2 = found
    return min(max(declared2, low), high)


@_in_context
def qualitative_in_band(band, declared, points) -> bool | None:
    """Whether the declared score (as shown, 2 decimals) lies inside its band; None if unknown."""
    found = _band_and_declared(band, declared, points)
    if found is None:
        return None
    low, high, declared2 = found
    return low <= declared2 <= high


# ---------------------------------------------------------------- unit-wide criteria


def _values(items):
    if items is None:
        return ()
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        return (items,)  # one deduction passed on its own
    return items


@_in_context
def measure_value(formula: str, a, b) -> Decimal | None:
    """A 53号 quantitative indicator in percent, 2 places half-up: ratio a ÷ b × 100, change
    (a − b) ÷ b × 100. None when a or b is not a number, or b ≤ 0 (undefined, never 0%)."""
    x, y = to_decimal(a), to_decimal(b)
    if x is None or y is None or y <= 0:
        return None
    top = x if formula == "ratio" else x - y
    return _quantize(top * 100 / y, 2)


def measure_deduction(value, limit, at_most: bool, per_point, points) -> Decimal | None:
    """The deduction of a measured indicator: per_point per percentage point beyond `limit`
    (above it when at_most, below it otherwise), 2 places half-up, at most `points`. None when
    the value is undefined."""
    v = to_decimal(value)
    if v is None:
        return None
    beyond = v - to_decimal(limit) if at_most else to_decimal(limit) - v
    taken = _quantize(max(beyond, _ZERO) * to_decimal(per_point), 2)
    return min(taken, to_decimal(points))


def criterion_score(points, deductions) -> Decimal:
    """points − Σ deductions, in [0, points], 2 decimals. Blank or non-numeric deductions count 0;
    a negative one counts 0 too (it would add points)."""
    p = to_decimal(points)
    if p is None or p <= 0:
        return _ZERO_SCORE
    total = _ZERO
    for item in _values(deductions):
        d = to_decimal(item)
        if d is not None and d > 0:
            total += d
    try:
        return _r2(min(max(p - total, _ZERO), p))
    except ArithmeticError:
        return _ZERO_SCORE


@_in_context
def deduction_valid(deduction, points) -> bool:
    """0 ≤ deduction ≤ points, both numeric (a blank deduction is not valid here)."""
    d, p = to_decimal(deduction), to_decimal(points)
    return d is not None and p is not None and _ZERO <= d <= p


# ---------------------------------------------------------------- grades


@dataclass(frozen=True)
class GradeBand:
    """A grade from its minimum total (inclusive) up to the next grade's minimum."""

    label: str
    minimum: Decimal
    aliases: tuple[str, ...] = ()


DEFAULT_GRADES = (
    GradeBand("优", D(90), ("优秀",)),
    GradeBand("良", D(80), ("良好",)),
    GradeBand("中", D(60), ("中等", "合格")),
    GradeBand("差", D(0), ("不合格",)),
)


def _sorted_grades(grades) -> list[GradeBand]:
    usable = [g for g in grades if to_decimal(g.minimum) is not None]
    return sorted(usable, key=lambda g: to_decimal(g.minimum), reverse=True)


@_in_context
def grade(total, grades=DEFAULT_GRADES) -> str | None:
    """The grade of a total: 90 → 优, 89.99 → 良. The total is graded as shown (2 decimals);
    a total below every minimum gets the lowest grade. None when the total is not a number."""
    t = round_half_up(total, 2)
    ordered = _sorted_grades(grades)
    if t is None or not ordered:
        return None
    for band in ordered:
        if to_decimal(band.minimum) <= t:
            return band.label
    return ordered[-1].label


_QUOTES = "\"'“”‘’「」『』《》()（）【】[]"


def _normalize_label(text) -> str:
    text = unicodedata.normalize("NFKC", str(text))  # full-width space and letters → ASCII
    return "".join(ch for ch in text if not ch.isspace() and ch not in _QUOTES)


def same_grade(declared_text, computed_label, grades=DEFAULT_GRADES) -> bool:
    """Whether a declared grade ("优秀", " 优 ") names the computed one ("优")."""
    if declared_text is None or computed_label is None:
        return False
    declared, computed = _normalize_label(declared_text), _normalize_label(computed_label)
    if not declared:
        return False
    for band in grades:
        names = {_normalize_label(n) for n in (band.label, *band.aliases)}
        if computed in names:
            return declared in names
    return declared == computed  # a label outside the grade table: plain comparison


@_in_context
def sum_scores(values) -> Decimal:
    """The sum of the numeric values (blanks and text skipped), 2 decimals."""
    total = _ZERO
    for item in _values(values):
        d = to_decimal(item)
        if d is not None:
            total += d
    try:
        return _r2(total)
    except ArithmeticError:
        return _ZERO_SCORE


@_in_context
def scaled_total(total, dropped_points, full=100) -> Decimal | None:
    """A total scaled back to `full` after rows worth `dropped_points` were marked 不适用 (some
    provinces' rule): ROUND(total × full ÷ (full − dropped), 2). The total itself when nothing was
    dropped; None when the total is not a number or nothing is left to score."""
    t, d, f = to_decimal(total), to_decimal(dropped_points), to_decimal(full)
    if t is None or f is None or f <= 0:
        return None
    if d is None or d <= 0:
        return _r2(t)
    if d >= f:
        return None
    try:
        return _r2(t * f / (f - d))
    except ArithmeticError:
        return None
