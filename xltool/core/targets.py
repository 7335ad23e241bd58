"""Targets written as text ("1万以上", "低于5%", "≥200人次") → structured (sign, value, unit).

Real 预算绩效 tables rarely hold a bare number in 指标值: staff write phrases, often several in one
cell, with full-width digits and line breaks left over from Word tables. This module reads such a
cell into `Target`s the scorer can use. Whatever it cannot read becomes a 定性 target, so callers
never need a try/except (see DOMAIN.md, "Reading targets written as text").

How one phrase is read (`parse_target`):
1. Normalise (`normalize_text`): NFKC (full-width → half-width), ≧/≦ → ≥/≤, spaces removed; line
   breaks inside a phrase count as nothing.
2. The target number is the LAST number outside 《》/〈〉 titles: "出版《2019年大事》1000册" → 1000.
   A number glued to latin letters ("Win10") or after a dot ("v1.2") is not a number.
3. 百/千/万/亿 right after it multiply ("4.1万册" → 41000 册), except in the money units 千元/万元/亿元,
   which are how budgets are written ("300万元" → 300 万元).
4. The unit is "%"/"‰", or the run of letters right after the number, cut before 以上/以下/及以上/….
5. The sign is, first found: a sign just before the number (≥ > ≤ < = >= <= ==); a comparator word
   just before it (不低于, 超过, 低于, 控制在, …); a word just after the unit (以上, 以内, …); "=" for a
   bare zero; otherwise "≥", since a bare quantity is a plan to reach that amount.
6. Without a number: "为零" / "零发生" / a trailing 零 → = 0; anything else → 定性. A bare grade with
   no comparator ("达到2级") is 定性 too: a level is not a quantity to score by ratio.
7. Chinese numerals, when the phrase has no digits: "一千册以上" → ≥ 1000 册, "两万" → 20000,
   "三百五十人次" → 350 人次, "一万五" → 15000, "十" → 10. A numeral counts only where it reads as a
   quantity: followed by a short unit (at most 4 letters) and then the end, a sign word or a
   separator; words such as 一致, 统一, 进一步, 三公经费, 十分, 百分之, 第三 are not numbers.
8. A range ("3-5天", "3～5天", "3至5天", "三至五天"): the target is the range, not its last number;
   it is 定性 (value None) with `low`/`high` kept, so no wrong single sign is ever scored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation

SIGNS = ("≥", ">", "≤", "<", "=", "定性")


@dataclass(frozen=True)
class Target:
    sign: str  # one of SIGNS
    value: Decimal | None  # None for 定性
    unit: str  # "" when none; "%" for percent (value kept as the percent number: 5 for 5%)
    name: str = ""  # text before the number naming the indicator, e.g. "目录数据合格率"
    text: str = ""  # the phrase as written (one piece, stripped)
    low: Decimal | None = None  # a range "3-5天": sign 定性, value None, low 3, high 5
    high: Decimal | None = None


# Longer digit runs are IDs or noise, not quantities; below this, arithmetic in _CTX is exact.
_MAX_DIGITS = 40
_CTX = Context(prec=_MAX_DIGITS + 20)

# Look-alikes NFKC leaves alone.
_CHAR_MAP = str.maketrans({"≧": "≥", "⩾": "≥", "≮": "≥", "≦": "≤", "⩽": "≤", "≯": "≤", "−": "-"})
# Invisible characters pasted from Word/web pages.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad]")
_LINE_BREAKS = re.compile("\r\n|[\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SPACES = re.compile(r"[^\S\n]+")

# [0-9], not \d: \d also matches other scripts' digits, which are not what the tables mean.
_NUMBER_TEXT = (
    r"(?<![A-Za-z0-9.])"  # not inside "Win10" or "v1.2"
    r"(?P<neg>-)?"
    r"(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)"
)
_NUMBER = re.compile(_NUMBER_TEXT)
_TITLE = re.compile(r"《[^《》]*》|〈[^〈〉]*〉")  # linear: a class that excludes the opener
_MULTIPLIER_RUN = re.compile("[百千万亿]+")
_MULTIPLIERS = {"百": Decimal(100), "千": Decimal(1000), "万": Decimal(10**4), "亿": Decimal(10**8)}
# Letters (CJK or latin, digits allowed after a latin letter as in "m2") make up a unit.
_UNIT_RUN = re.compile(
    r"(?:[A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff°/·]|(?<=[A-Za-z0-9])[0-9])*"
)

# Sign written before the number; longest first so "不超过" wins over "超过", ">=" over "=".
_BEFORE = sorted(
    {
        ">=": "≥", "=>": "≥", "<=": "≤", "=<": "≤", "==": "=",
        "≥": "≥", ">": ">", "≤": "≤", "<": "<", "=": "=",
        "不少于": "≥", "不低于": "≥", "不小于": "≥", "至少": "≥", "大于等于": "≥", "大于或等于": "≥",
        "超过": ">", "高于": ">", "大于": ">", "多于": ">",
        "不超过": "≤", "不高于": "≤", "不大于": "≤", "不多于": "≤", "小于等于": "≤", "小于或等于": "≤",
        "至多": "≤", "最多": "≤", "控制在": "≤",
        "低于": "<", "少于": "<", "小于": "<",
        "等于": "=",
    }.items(),
    key=lambda item: -len(item[0]),
)
# Words before the number that belong to neither the name nor the sign ("满意度达到95%").
_FILLERS = ("达到", "达", "为", "约")
# Sign written after the unit; "(含)" may sit between ("95%(含)以上").
_AFTER = (
    ("及以上", "≥"), ("或以上", "≥"), ("以上", "≥"),
    ("及以下", "≤"), ("或以下", "≤"), ("以下", "≤"), ("以内", "≤"), ("之内", "≤"),
)
_UNIT_STOPS = tuple(word for word, _ in _AFTER) + ("左右", "的")
_ORDINAL_UNITS = ("级", "星", "星级")
_ZERO_WORDS = re.compile("为零|为〇|零发生|零$")
_ENUMERATOR = re.compile(r"^(?:\([0-9]+\)|[0-9]+[、.)])")  # "1、" "(2)" before a name
_NAME_TRIM = " :;,、.。"


def normalize_text(text) -> str:
    """Full-width → half-width (NFKC), ≧/≦ → ≥/≤, spaces and invisible characters removed.

    Line breaks are kept (as "\\n") so that `split_targets` can still see them; ends are stripped.
    """
    s = unicodedata.normalize("NFKC", _as_text(text)).translate(_CHAR_MAP)
    s = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", s))
    return _SPACES.sub("", s).strip()


def parse_target(text) -> Target:
    """Read one target phrase. Never raises; what it cannot read is 定性 (see the module doc)."""
    original = _as_text(text).strip()
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        return _from_number(text, original)
    return _parse(normalize_text(original).replace("\n", ""), original)


def parse_targets(text) -> list[Target]:
    """Read a cell that may hold several targets (see `split_targets`); [] for a blank cell."""
    if isinstance(text, (int, float, Decimal)) and not isinstance(text, bool):
        return [parse_target(text)]
    return [parse_target(piece) for piece in split_targets(text)]


def split_targets(text) -> list[str]:
    """The pieces of a cell holding several targets, as written (stripped, line breaks removed).

    - ";" / "；" always splits.
    - "," / "，" / "、" and line breaks split only when the text on each side has its own number
      (or 为零): "事故率为零，避免经济损失" and "宣传档案政策法规、档案业务信息300条" stay whole,
      and a stray break inside a word ("幅面2万\\n幅面") is dropped. A side is the whole phrase
      gathered so far, so "A，B，C1台" stays one piece.
    - Nothing splits inside a 《》 title, and "2,814.98" is a thousands separator, not a list.
    """
    s = _as_text(text)
    parts, seps = _cut(s)
    pieces: list[list[str]] = [[parts[0]]]
    current_has = _has_number(parts[0])
    for (kind, sep), part in zip(seps, parts[1:]):
        part_has = _has_number(part)
        if kind == "hard" or (current_has and part_has):
            pieces.append([part])
            current_has = part_has
        else:
            pieces[-1] += [sep if kind == "soft" else "", part]
            current_has = current_has or part_has
    cleaned = ("".join(piece).translate(_DROP_BREAKS).strip() for piece in pieces)
    return [piece for piece in cleaned if piece]


def describe(target: Target) -> str:
    """A short rendering for messages: "≥ 10000", "< 5%", "≥ 200人次", "定性"."""
    if target.low is not None and target.high is not None:
        return f"区间 {_plain(target.low)}～{_plain(target.high)}{target.unit}"
    if target.sign == "定性" or target.value is None:
        return "定性"
    return f"{target.sign} {_plain(target.value)}{target.unit}"


# ---------------------------------------------------------------------------------------------


def _as_text(text) -> str:
    """Any cell value as text: None → "", bytes decoded (UTF-8, else GB18030 as Chinese Excel saves)."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
        for encoding in ("utf-8", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                pass
        return raw.decode("utf-8", errors="replace")
    try:
        return str(text)
    except Exception:  # an object whose __str__ fails (or a huge int) is simply unreadable
        return ""


def _qualitative(text: str) -> Target:
    return Target("定性", None, "", name="", text=text)


def _plain(value: Decimal) -> Decimal:
    """`value` without trailing zeros and without an exponent: 41000, not 4.1E+4; 0, not -0."""
    try:
        value = value.normalize(_CTX)
        if value.is_zero():
            return Decimal(0)
        if value.as_tuple().exponent > 0:
            value = value.quantize(Decimal(1), context=_CTX)
    except (InvalidOperation, TypeError):
        pass
    return value


def _from_number(number, text: str) -> Target:
    """A cell holding a number (int/float/Decimal) is a bare quantity."""
    try:
        value = Decimal(repr(number)) if isinstance(number, float) else Decimal(number)
    except (InvalidOperation, ValueError, TypeError):
        return _qualitative(text)
    if not value.is_finite() or len(value.as_tuple().digits) > _MAX_DIGITS:
        return _qualitative(text)
    if not value.is_zero() and abs(value.adjusted()) > _MAX_DIGITS:  # 1E+999999 has no plain form
        return _qualitative(text)
    return Target("=" if value.is_zero() else "≥", _plain(value), "", text=text)


def _mask_titles(s: str) -> str:
    """Blank out what is inside 《》/〈〉 (same length), so digits in a book title are never the target."""
    return _TITLE.sub(lambda m: m[0][0] + "\0" * (len(m[0]) - 2) + m[0][-1], s)


def _parse(s: str, text: str) -> Target:
    """Read one normalised phrase `s` (no line breaks); `text` is kept as the Target's text."""
    masked = _mask_titles(s)
    number = None
    for number in _NUMBER.finditer(masked):
        pass
    if number is None:
        converted = _with_chinese_numerals(s, masked)
        if converted is not None:
            return _parse(converted, text)
        zero = _ZERO_WORDS.search(masked)
        if zero is None:
            return _qualitative(text)
        return Target("=", Decimal(0), "", name=_clean_name(s[: zero.start()]), text=text)

    digits = number["num"].replace(",", "")
    if len(digits) > _MAX_DIGITS + 1:  # + 1 for the decimal point
        return _qualitative(text)
    value = Decimal(digits)
    if number["neg"]:
        value = -value

    # Multipliers: "4.1万" → 41000, but 万元/亿元/千元 are units of money, not multipliers.
    pos = number.end()
    chain = _MULTIPLIER_RUN.match(masked, pos)
    multipliers = chain[0] if chain else ""
    if multipliers and multipliers[-1] in "千万亿" and masked.startswith("元", pos + len(multipliers)):
        multipliers = multipliers[:-1]
    for char in multipliers:
        value = _CTX.multiply(value, _MULTIPLIERS[char])
    pos += len(multipliers)

    unit, pos = _read_unit(masked, pos)

    if masked.startswith("±", number.start() - 1) and number.start():  # "100±5": a tolerance
        return _tolerance(s, masked, number.start() - 1, value, unit, text)

    low = _range_start(masked, number.start(), unit, multipliers)
    if low is not None:  # "3-5天": a range is not "≥ 5天"
        name = _clean_name(s[: low[1]])
        high = _plain(abs(value) if number["neg"] else value)
        if low[0] is not None and low[0] <= high:
            return Target("定性", None, unit, name=name, text=text, low=_plain(low[0]), high=high)
        return Target("定性", None, unit, name=name, text=text)

    # Sign after the unit: "100%以上", "3年及以上", "95%(含)以上".
    after = pos + 3 if masked.startswith("(含)", pos) else pos
    sign = next((sign for word, sign in _AFTER if masked.startswith(word, after)), None)

    # Sign and filler words before the number; "百分之95" is 95%.
    name_end = number.start()
    if masked.endswith("百分之", 0, name_end):
        name_end -= 3
        unit = unit or "%"
    for word, before in _BEFORE:
        if masked.endswith(word, 0, name_end):
            name_end -= len(word)
            sign = before  # a sign before the number outranks a word after it
            break
    for word in _FILLERS:
        if masked.endswith(word, 0, name_end):
            name_end -= len(word)
            break

    if sign is None:
        if unit in _ORDINAL_UNITS:  # "达到2级": a grade, not an amount
            return _qualitative(text)
        sign = "=" if value.is_zero() else "≥"
    return Target(sign, _plain(value), unit, name=_clean_name(s[:name_end]), text=text)


# What joins the two ends of a range: "3-5", "3~5" (～ after NFKC), "3〜5", "3—5", "3至5", "3到5".
_RANGE_JOINERS = "-~〜—–至到"
_RANGE_START = re.compile(
    _NUMBER_TEXT + r"(?P<mult>[百千万亿]*)(?P<unit>%|‰|[A-Za-z\u3400-\u4dbf\u4e00-\u9fff]{0,4})$"
)


def _range_start(masked: str, start: int, unit: str, multipliers: str) -> tuple[Decimal | None, int] | None:
    """When the number at `start` ends a range ("3-5天"), the range's first value and where it
    starts (value None for a chain like a date "2021-12-31"); else None. The first end's unit,
    when written, must be the same ("3天-5天"); "1.5-2万" is 1.5万 to 2万."""
    joiner = start if masked.startswith("-", start) else start - 1  # "3天-5天": "-" was read as a minus
    if joiner < 0 or masked[joiner] not in _RANGE_JOINERS:
        return None
    found = _RANGE_START.search(masked, max(0, joiner - 80), joiner)
    if found is None or found["unit"] not in ("", unit):
        return None
    before = masked[max(0, found.start() - 2) : found.start()]
    if len(before) == 2 and before[1] in _RANGE_JOINERS and before[0].isdigit():
        return None, found.start()  # "2021-12-31": a date; neither a range nor a quantity
    mult = found["mult"]
    if mult and mult[-1] in "千万亿" and found["unit"].startswith("元"):
        mult = mult[:-1]
    if not mult and not found["unit"]:
        mult = multipliers
    value = Decimal(found["num"].replace(",", ""))
    if found["neg"]:
        value = -value
    for char in mult:
        value = _CTX.multiply(value, _MULTIPLIERS[char])
    return value, found.start()


def _tolerance(s: str, masked: str, sign_at: int, value: Decimal, unit: str, text: str) -> Target:
    """"100±5" is the range 95～100; "误差±5%" (no centre) is an error bound, ≤ 5%."""
    centre = _RANGE_START.search(masked, max(0, sign_at - 80), sign_at)
    if centre is None or centre["unit"] not in ("", unit):
        return Target("≤", _plain(abs(value)), unit, name=_clean_name(s[:sign_at]), text=text)
    middle = Decimal(centre["num"].replace(",", ""))
    middle = -middle if centre["neg"] else middle
    for char in centre["mult"]:
        middle = _CTX.multiply(middle, _MULTIPLIERS[char])
    name = _clean_name(s[: centre.start()])
    spread = abs(value)
    return Target("定性", None, unit, name=name, text=text, low=_plain(middle - spread), high=_plain(middle + spread))


# Chinese numerals ("一千", "两万", "三百五十", "一万五").
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_RUN = re.compile("[零〇一二两三四五六七八九十百千万亿]+")
# Words holding numeral characters that are not quantities; masked before looking for numerals.
_CN_WORDS = re.compile(
    "百分之|百分百|百分比|(?<![零〇一二两三四五六七八九])十分|一致|一般|统一|唯一|一体|一流|一次性|一定|一些|一切|一律|"
    "一直|一起|一站式|一网|一件事|一把手|进一步|逐一|同一|之一|一线|三公|三重一大|两学一做|十四五|十三五|"
    "万无一失|千方百计|一年一度|第[零〇一二两三四五六七八九十百千万亿]+|[几数上成][十百千万亿]+"
)
_CN_JOINERS = "至到-~〜—–"


def _chinese_number(run: str) -> int | None:
    """The value of a Chinese numeral ("三百五十" → 350), or None when `run` is not one ("三五")."""
    total = wan = section = 0
    number: int | None = None
    last_unit = 0
    prev = ""
    abbreviable = False  # a digit right after 百/千/万/亿: "一万五" is 15000
    for char in run:
        if char in _CN_DIGITS:
            if prev and prev in _CN_DIGITS and _CN_DIGITS[prev] != 0:
                return None  # "三五" is not a numeral
            number = _CN_DIGITS[char]
            abbreviable = prev in ("百", "千", "万", "亿")
        elif char in _CN_UNITS:
            unit = _CN_UNITS[char]
            if number is None:
                if char != "十" or (prev and prev not in "零〇万亿"):
                    return None  # "百" alone, "十百"
                number = 1
            elif number == 0:
                return None  # "零十"
            if section and unit >= last_unit and last_unit < 10**4:
                return None  # "十百", "百千" out of order
            section += number * unit
            number, last_unit, abbreviable = None, unit, False
        elif char == "万":
            if (section == 0 and not number) or wan:
                return None
            wan = (section + (number or 0)) * 10**4
            section, number, last_unit, abbreviable = 0, None, 10**4, False
        else:  # 亿
            if section == 0 and wan == 0 and not number:
                return None
            total = (total + wan + section + (number or 0)) * 10**8
            wan = section = 0
            number, last_unit, abbreviable = None, 10**8, False
        prev = char
    if number and abbreviable and last_unit >= 100:
        number *= last_unit // 10
    value = total + wan + section + (number or 0)
    return value if run.strip("零〇") else None


def _with_chinese_numerals(s: str, masked: str) -> str | None:
    """`s` with the target written in Chinese numerals turned into digits ("一千册以上" → "1000册以上",
    "三至五天" → "3至5天"), or None when the phrase has no numeral that reads as a quantity.
    Like digits, the target is the last numeral; only the last ones are looked at."""
    hidden = _CN_WORDS.sub(lambda m: "\0" * len(m[0]), masked)
    runs = list(_CN_RUN.finditer(hidden))
    for i in range(len(runs) - 1, -1, -1):
        found = _numeral(hidden, runs[i])
        if found is None:
            continue
        before = _numeral(hidden, runs[i - 1]) if i else None
        in_range = before is not None and before[1] + 1 == found[0] and hidden[before[1]] in _CN_JOINERS
        if found[3] and not in_range:
            continue  # a lone "三" with no unit is a word, not a quantity
        for start, end, value, _lone in (found, before) if in_range else (found,):
            s = s[:start] + str(value) + s[end:]
        return s
    return None


def _numeral(hidden: str, run: re.Match) -> tuple[int, int, int, bool] | None:
    """(start, end, value, lone) for a numeral run that reads as a quantity: followed by a short
    unit (at most 4 letters), then the end, a sign word, a separator or a range joiner. `lone` is
    a single digit with no unit and no joiner after it, a quantity only as a range's second end."""
    start, end = run.span()
    text = run[0]
    if text[-1] in "千万亿" and hidden.startswith("元", end) and len(text) > 1:
        text, end = text[:-1], end - 1  # "三百万元": 万元 is the unit
    value = _chinese_number(text)
    if not value:
        return None
    unit, _pos = _read_unit(hidden[end : end + 12], 0)  # a unit is short: never read the rest
    cut = next((i for i, c in enumerate(unit) if c in _CN_DIGITS or c in "至到"), len(unit))
    unit, after = unit[:cut], end + cut
    joined = hidden.startswith(tuple(_CN_JOINERS), after)
    if len(unit) > 4 or (
        after < len(hidden)
        and _is_letter(hidden[after])
        and not joined
        and not hidden.startswith(tuple(_UNIT_STOPS) + ("(含)",), after)
    ):
        return None
    return start, end, value, not unit and len(text) == 1 and text in _CN_DIGITS and not joined


def _is_letter(char: str) -> bool:
    return bool(_UNIT_RUN.fullmatch(char)) and not char.isdigit()


def _read_unit(masked: str, pos: int) -> tuple[str, int]:
    """The unit starting at `pos` and the position after it."""
    if masked.startswith(("%", "‰"), pos):
        return masked[pos], pos + 1
    run = _UNIT_RUN.match(masked, pos)[0]
    cut = len(run)
    for stop in _UNIT_STOPS:
        found = run.find(stop, 0, cut)
        if found != -1:
            cut = found
    return run[:cut], pos + cut


def _clean_name(name: str) -> str:
    name = name.strip(_NAME_TRIM)
    return _ENUMERATOR.sub("", name).strip(_NAME_TRIM)


def _has_number(part: str) -> bool:
    """Whether a piece of a cell states its own target: a number outside titles, or 为零."""
    masked = _mask_titles(normalize_text(part).replace("\n", ""))
    return _NUMBER.search(masked) is not None or _ZERO_WORDS.search(masked) is not None


_HARD = frozenset(";；﹔︔")
_SOFT = frozenset(",，﹐︐、﹑︑､")
_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
_OPENERS, _CLOSERS = frozenset("《〈"), frozenset("》〉")
_DROP_BREAKS = dict.fromkeys(map(ord, _BREAKS))


def _cut(s: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Cut `s` at every candidate separator: the parts, and (kind, char) for each cut."""
    parts: list[str] = []
    seps: list[tuple[str, str]] = []
    start = 0
    in_title = False
    for i, char in enumerate(s):
        if char in _HARD:
            kind, in_title = "hard", False  # an unclosed 《 does not swallow the rest of the cell
        elif char in _OPENERS:
            in_title = True
            continue
        elif char in _CLOSERS:
            in_title = False
            continue
        elif in_title:
            continue
        elif char in _BREAKS:
            kind = "line"
        elif char in _SOFT and not _is_thousands_comma(s, i):
            kind = "soft"
        else:
            continue
        parts.append(s[start:i])
        seps.append((kind, char))
        start = i + 1
    parts.append(s[start:])
    return parts, seps


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9" or "０" <= char <= "９"


def _is_thousands_comma(s: str, i: int) -> bool:
    """"2,814.98": a comma between a digit and exactly three digits."""
    if s[i] not in ",，" or i == 0 or not _is_digit(s[i - 1]):
        return False
    group = s[i + 1 : i + 4]
    return len(group) == 3 and all(map(_is_digit, group)) and not (i + 4 < len(s) and _is_digit(s[i + 4]))
