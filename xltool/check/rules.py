"""Submission → findings: every rule of DOMAIN.md's "What the checker must catch".

`check(sub, fw)` is pure: it reads the Submission (what the workbook says) and the Framework
(the rules), recomputes with evaluate.py / scoring.py, and returns findings ordered by severity,
then sheet and cell. Each finding carries the place of the offending cell, the raw value seen and
the value expected; its sentence comes from messages.py.

Blank blocks and blank indicator rows produce nothing: a template has more rows than anyone uses.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from xltool.core import scoring
from xltool.check.evaluate import (
    block_name,
    criterion_deduction,
    evaluate,
    over_achieved as _over_achieved,
    project_used,
    row_figures,
    used_goals,
)
from xltool.core.cells import QUALITATIVE
from xltool.core.framework import NOT_APPLICABLE, SIGNS, Framework
from xltool.core.messages import finding, percent, plain_number, show
from xltool.core.model import SEVERITIES, EMPTY, Evaluation, Finding, IndicatorRow, Integrity, Result, Submission, Value
from xltool.template.layout import FIELD_LABELS, MONEY_MAX, NUMBER_MAX, VISIBLE_SHEETS

__all__ = ["check", "integrity_findings", "result_status", "read_result", "LOW_EXECUTION_THRESHOLD", "order_findings"]

# A unit spending less than this share of its budget must say why (a warning: DOMAIN asks for an
# explanation whenever the rate is not 100%, but a few percent short is ordinary).
LOW_EXECUTION_THRESHOLD = Decimal("0.9")

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_UNSET = object()


# ---------------------------------------------------------------- the public entry points


def check(sub: Submission, fw: Framework, evaluations: list[Evaluation] | None = None) -> list[Finding]:
    """Every finding about one submission, ordered by severity then sheet and cell, no duplicates.

    evaluations: evaluate(sub, fw), when the caller has it already (each figure is worked out
    once per file); without it, the checks work it out."""
    out = _Out()
    out.extend(integrity_findings(sub.integrity))
    _info(sub, out)
    if evaluations is None:
        evaluations = evaluate(sub, fw)
    if fw.kind == "project":
        _projects(sub, fw, out, evaluations)
    else:
        _department(sub, fw, out, evaluations[0])
    _texts(sub, out)
    return order_findings(out.items)


# What a file of each Result.kind is, and what it is filled from: (form, what) of YEAR_MISMATCH
_FORMS = {
    "project": ("项目支出绩效自评表", "模板"),
    "department": ("部门整体支出绩效自评表", "模板"),
    "declaration": ("绩效目标申报表", "申报表"),
}


def apply_expected_year(result, year: int) -> None:
    """A file from another year than the one being checked fails with YEAR_MISMATCH, saying what
    kind of form it is (a 申报表 of 2020 is not called a 自评表)."""
    if result.status == "unreadable" or result.year is None or result.year == year:
        return
    from pathlib import Path

    form, what = _FORMS.get(result.kind, ("自评表", "模板"))
    result.findings.insert(0, finding("YEAR_MISMATCH", file=Path(result.file).name, seen=result.year, expected=year, form=form, what=what))
    result.status = "failed"


def result_status(findings) -> str:
    """"failed" when any finding is an error, else "passed"."""
    return "failed" if any(f.severity == "error" for f in findings) else "passed"


def read_result(file: str, read, findings: list[Finding], sha256: str, *, kind: str = "", evaluations: list[Evaluation] | None = None) -> Result:
    """The Result of a file that could be read: `read` (a Submission, or a 申报表's Declaration)
    says whose it is, of which year and framework; failed when any finding is an error. `kind`
    instead of read.kind (a 申报表's result is of kind "declaration")."""
    return Result(
        file=file,
        status=result_status(findings),
        kind=kind or read.kind,
        unit=read.unit_name,
        unit_code=read.unit_code,
        year=read.year,
        framework=f"{read.framework_name} {read.framework_version}",
        findings=findings,
        evaluations=evaluations if evaluations is not None else [],
        sha256=sha256,
    )


def order_findings(findings) -> list[Finding]:
    """Errors first, then warnings, then notes; within each, by sheet (workbook order) and cell
    (row, then column); exact repeats dropped."""
    seen, unique = set(), []
    for f in findings:
        key = (f.code, f.severity, f.sheet, f.cell, f.message)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return sorted(unique, key=_sort_key)


_SHEET_RANK = {name: i for i, name in enumerate(VISIBLE_SHEETS)}
_A1 = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)")


def _sort_key(f: Finding):
    sev = SEVERITIES.index(f.severity) if f.severity in SEVERITIES else len(SEVERITIES)
    sheet = (-1, "") if not f.sheet else (_SHEET_RANK.get(f.sheet, len(_SHEET_RANK)), f.sheet)
    match = _A1.match(f.cell or "")
    if match:
        col = 0
        for ch in match.group(1).upper():
            col = col * 26 + ord(ch) - 64
        place = (int(match.group(2)), col, "")
    else:
        place = (0, 0, f.cell or "")
    return (sev, sheet, place, f.code)


# ---------------------------------------------------------------- collecting findings


class _Out:
    def __init__(self):
        self.items: list[Finding] = []

    def add(self, code: str, at: Value | None = None, seen=_UNSET, expected=None, **params) -> None:
        at = at or EMPTY
        if seen is _UNSET:
            seen = at.raw
        self.items.append(finding(code, sheet=at.sheet, cell=at.cell, seen=seen, expected=expected, **params))

    def extend(self, findings) -> None:
        self.items.extend(findings)


def _r2(value: Decimal) -> Decimal | None:
    return scoring.round_half_up(value, 2)


def _amount(value, unit: str) -> str:
    shown = plain_number(value) if value is not None else "（空白）"
    if not unit or unit in ("%", "‰"):
        return f"{shown}{unit}"
    return f"{shown} {unit}"


def _range_text(low, high) -> str:
    if high is None:
        return f"不小于 {plain_number(low)}"
    return f"{plain_number(low)}～{plain_number(high)}"


# ---------------------------------------------------------------- one number cell


def _targets():
    """targets.py, imported when first needed; None if it cannot be imported (the checks then give
    a general hint and skip the several-targets rule rather than fail the whole file)."""
    try:
        from xltool.core import targets
    except Exception:  # noqa: BLE001
        return None
    return targets


def _pasted_date_hint(v: Value, hint: str) -> str:
    """A number cell holding a date (pasted: pasting skips the cell's validation) says so;
    any other text gets `hint`."""
    if v.reason == "date_in_number":
        return "这是一个日期（多半是从别处复制粘贴来的，粘贴不受数据有效性限制），请改填数字，并把单元格格式改回“常规”。"
    return hint


def _number_hint(v: Value, field: str) -> str:
    """What to type instead of a number cell's text; field "adjusted" is 年度指标值（调整后）, a
    target left blank when there was no adjustment."""
    if v.reason == "date_in_number":
        return _pasted_date_hint(v, "")
    if v.is_error:
        return f"单元格显示错误值 {v.raw}，请改为直接填写数字。"
    targets = _targets() if field in ("target", "adjusted", "actual") else None
    if targets is not None:
        raw = v.text
        parsed = targets.parse_target(raw)
        if getattr(parsed, "low", None) is not None:
            return (
                f"“{raw}”是一个区间，一格只能填一个数字：请按考核要求填下限 {plain_number(parsed.low)}（计算符号 ≥）"
                f"或上限 {plain_number(parsed.high)}（计算符号 ≤），单位填在“计量单位”列。"
            )
        if parsed.sign == QUALITATIVE or parsed.value is None:
            if field == "adjusted":  # "无", "/", "未调整": no adjustment is a blank cell
                return "没有调整的指标，“年度指标值（调整后）”请留空（不要填“无”“/”等），计分按年初指标值；有调整的只填调整后的数字。"
            if field == "target":
                return "指标值只填数字；无法量化的指标请在“计算符号”中选择“定性”，并选择定性评价档次。"
            return "实际完成值只填数字，单位填在“计量单位”列。"
        value = plain_number(parsed.value)
        if field in ("target", "adjusted"):
            parts = [f"计算符号 {parsed.sign}", f"指标值 {value}"]
        else:
            parts = [f"实际完成值 {value}"]
        if parsed.unit:
            parts.append(f"计量单位 {parsed.unit}")
        return f"“{raw}”可填为：" + "，".join(parts) + "。"
    if field in ("target", "adjusted"):
        return "指标值只填数字；比较关系在“计算符号”中选择，单位填在“计量单位”列。"
    if field == "actual":
        return "实际完成值只填数字，单位填在“计量单位”列。"
    if field == "money":
        return "金额只填数字，单位为万元，如 214.68；不要带“万元”等文字。"
    return "只填数字，如 8 或 7.5，不要带“分”等文字。"


def _figure(
    out: _Out,
    v: Value,
    label: str,
    item: str,
    kind: str = "score",
    required: bool = True,
    low=_ZERO,
    high=None,
    blank_hint: str = "请补充填写。",
    range_hint: str = "",
) -> Decimal | None:
    """Read one number cell, reporting a blank (when required), text and a value out of range.
    Returns the number (also a "95%" typed as text, which is reported but still used)."""
    if v.blank and not v.is_error:
        if required:
            out.add("REQUIRED_BLANK", v, field=label, item=item, hint=blank_hint)
        return None
    value = v.number
    if not v.pure:
        out.add("TEXT_IN_NUMBER", v, field=label, item=item, hint=_number_hint(v, kind))
    elif v.reason == "number_as_text":
        _stored_as_text(out, v, value, label, item)
    if value is None:
        return None
    shown = scoring.as_excel_shows(value)  # 100.00000000000001 pasted from a sum is the 100 the sheet shows
    if shown < low or (high is not None and shown > high):
        # a negative figure is told "不小于 0", not "0～1000000000" (the typo guard nobody reaches)
        shown_high = None if value < low and high is not None and high >= MONEY_MAX else high
        out.add("VALUE_OUT_OF_RANGE", v, expected=_range_text(low, shown_high), field=label, item=item, hint=range_hint)
        return None
    return value


def _stored_as_text(out: _Out, v: Value, value: Decimal | None, label: str, item: str) -> None:
    """A number kept as text ("３００", "1,234.50"): the checker reads it, the file's own formulas
    do not (ISNUMBER is false), so what staff saw computed in the sheet differs from the check."""
    out.add("NUMBER_STORED_AS_TEXT", v, expected=value, item=item, field=label, shown=plain_number(value))


def _percent_scale(out: _Out, row: IndicatorRow, f: dict, item: str, name: str) -> None:
    """A % row whose target and actual are on different scales (0.95 against 95). A number the
    cell shows as a percent ("25%" typed, kept as 0.25) tells its scale for certain: shown so
    against a plain number above 1 (a percent number) is reported whatever their ratio (10 against
    0.25 shown "25%"); both shown so are one scale; otherwise the figures themselves are compared
    (a plain 0.95 against 0.98 shown "98%" is one scale too)."""
    t, a = f["target"], f["actual"]
    if f["kind"] != "quantitative" or t is None or a is None or t <= 0 or a <= 0:
        return
    if unicodedata.normalize("NFKC", row.unit.text) not in ("%", "百分比"):
        return
    target_cell = row.target if row.adjusted.blank and not row.adjusted.is_error else row.adjusted
    shown = {key: v.percent_format for key, v in (("target", target_cell), ("actual", row.actual))}
    if shown["target"] and shown["actual"]:
        return
    plain = a if shown["target"] else t
    if (shown["target"] or shown["actual"]) and plain > 1:
        at = target_cell if shown["target"] else row.actual
        figures = {key: plain_number(x) + (f"（单元格显示为 {plain_number(x * _HUNDRED)}%）" if shown[key] else "")
                   for key, x in (("target", t), ("actual", a))}
        out.add("PERCENT_SCALE_MIXED", at, expected=None, item=item, name=name, **figures)
        return
    low, high = min(t, a), max(t, a)
    if low <= 1 < high and high / low >= 50:
        out.add("PERCENT_SCALE_MIXED", row.actual, expected=None, item=item, name=name,
                target=plain_number(t), actual=plain_number(a))


_TYPED_AS_TEXT = ("not_a_number", "number_as_text", "percent_text")  # text typed in (core.cells' reasons)


def _multiple(out: _Out, v: Value, label: str, item: str) -> bool:
    """Several targets in one cell ("目录数据合格率≥95%；元数据合格率≥95%"): reported, True."""
    targets = _targets()
    if targets is None or v.reason not in _TYPED_AS_TEXT:
        return False
    found = _target_count(v.text)
    if found > 1:
        out.add("MULTIPLE_TARGETS", v, field=label, item=item, count=found)
        return True
    return False


@lru_cache(maxsize=4096)
def _target_count(text: str) -> int:
    """How many targets with a figure a text names (the same indicator names come in file after file)."""
    return sum(1 for t in _targets().parse_targets(text) if t.value is not None)


# ---------------------------------------------------------------- integrity


_NAME_FIELDS = {
    "NAME": "项目名称",
    "BUDGET": "全年预算数",
    "EXECUTED": "全年执行数",
    "RATE": "预算执行率",
    "EXEC_SCORE": "执行率得分",
    "NOTE": "执行情况说明",
    "DECLARED_SCORE": "自评总分",
    "DECLARED_GRADE": "自评等级",
    "CALC_EXEC": "执行率得分",
    "CALC_TOTAL": "计算总分",
    "CALC_GRADE": "计算等级",
    "IMPLEMENTATION": "实施情况",
    "INDICATOR": FIELD_LABELS["name"],
    **{key.upper(): label for key, label in FIELD_LABELS.items() if key != "name"},
}
_FIXED_NAMES = {
    "INFO_UNIT": "单位名称",
    "INFO_CODE": "单位编码",
    "INFO_YEAR": "评价年度",
    "INFO_KIND": "评价类型",
    "INFO_CONTACT": "填报人",
    "INFO_PHONE": "联系电话",
    "INFO_DATE": "填报日期",
    "BUDGET_INITIAL": "年初预算数",
    "BUDGET_ADJUSTED": "调整预算数",
    "BUDGET_FINAL": "决算数",
    "BUDGET_NOTE": "执行情况说明",
    "RATE_EXECUTION": "整体支出预算执行率",
    "RATE_INITIAL": "年初预算完成率",
    "CRIT_NAME": "评分表的三级指标列",
    "CRIT_POINTS": "评分表的分值列",
    "CRIT_DEDUCTION": "评分表的扣分列",
    "CRIT_REASON": "评分表的扣分原因列",
    "CRIT_SCORE": "评分表的得分列",
    "DECLARED_TOTAL": "综合绩效自评得分",
    "DECLARED_GRADE": "自评等级",
    "CALC_TOTAL": "计算总分",
    "CALC_GRADE": "计算等级",
    "PROBLEMS": "存在的问题和原因",
    "IMPROVEMENTS": "下一步拟改进措施",
    "BACKGROUND": "项目立项背景和依据",
    "ANALYSIS": "问题分析",
    "CONCLUSION": "评价结论补充说明",
}
_BLOCK_NAME = re.compile(r"^(PROJ|GOAL)([0-9]+)_(.+)$")
_CRIT_NAME = re.compile(r"^(DECLARED|CALC)_C([0-9]+)$")


def describe_name(name: str) -> str:
    """What a defined name of the template holds, in words: PROJ2_EXECUTED → 项目 2 的全年执行数."""
    if name in _FIXED_NAMES:
        return _FIXED_NAMES[name]
    match = _BLOCK_NAME.match(name)
    if match:
        prefix, block, key = match.groups()
        what = "项目" if prefix == "PROJ" else "年度目标"
        if key.startswith("CALC_C"):
            return f"{what} {block} 的一级指标计算得分"
        field = _NAME_FIELDS.get(key, key)
        if prefix == "GOAL" and key == "NAME":
            field = "年度目标名称"
        return f"{what} {block} 的{field}"
    match = _CRIT_NAME.match(name)
    if match:
        return f"第 {match.group(2)} 项评价准则的{'自评得分' if match.group(1) == 'DECLARED' else '计算得分'}"
    return name


_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!]+))!\$?([A-Za-z]{1,3})\$?([0-9]+)")


def _split_ref(ref) -> tuple[str, str]:
    """"'绩效指标'!$A$5:$A$24" → ("绩效指标", "A5"); ("", text) when it is not a reference."""
    match = _REF.match(str(ref or "").lstrip("="))
    if not match:
        return "", str(ref or "")
    sheet = (match.group(1) or "").replace("''", "'") or (match.group(2) or "")
    return sheet, f"{match.group(3).upper()}{match.group(4)}"


def integrity_findings(integrity: Integrity) -> list[Finding]:
    """The reader's facts about what was changed in the template → findings."""
    out: list[Finding] = []
    for sheet in integrity.missing_sheets:
        out.append(finding("SHEET_MISSING", sheet=sheet))
    for sheet, protected in integrity.protected.items():
        if not protected and sheet not in integrity.missing_sheets:
            out.append(finding("PROTECTION_REMOVED", sheet=sheet))
    for name in integrity.missing_names:
        sheet, cell = integrity.name_places.get(name, ("", ""))
        out.append(finding("NAME_MISSING", sheet=sheet, cell=cell, seen=None, expected=name, name=name, label=describe_name(name)))
    # Rows inserted or deleted move every name below them: one finding per sheet, at the first.
    by_sheet: dict[str, list[tuple]] = {}
    for name, expected_ref, found_ref in integrity.moved_names:
        sheet, cell = _split_ref(expected_ref)
        by_sheet.setdefault(sheet, []).append((_sort_key(Finding("", "", "", sheet, cell)), name, cell, found_ref))
    for sheet, moves in by_sheet.items():
        moves.sort(key=lambda m: m[0])
        _key, name, cell, found_ref = moves[0]
        found_sheet, found_cell = _split_ref(found_ref)
        where = found_cell if found_sheet in ("", sheet) else f"“{found_sheet}”表 {found_cell}"
        out.append(
            finding(
                "STRUCTURE_CHANGED", sheet=sheet, cell=cell, seen=found_ref, expected=cell,
                label=describe_name(name), count=str(len(moves)), seen_text=where,
            )
        )
    # Names stretched or shrunk: one finding per sheet, at its first name, with how many.
    resized: dict[str, list[tuple]] = {}
    for name, expected_ref, found_ref in integrity.resized_names:
        sheet, cell = _split_ref(expected_ref)
        resized.setdefault(sheet, []).append((_sort_key(Finding("", "", "", sheet, cell)), name, cell, expected_ref, found_ref))
    for sheet, names in resized.items():
        names.sort(key=lambda m: m[0])
        _key, name, cell, expected_ref, found_ref = names[0]
        out.append(
            finding(
                "NAME_RANGE_CHANGED", sheet=sheet, cell=cell, seen=found_ref, expected=expected_ref, name=name, label=describe_name(name),
                seen_text=_range_text_of(found_ref), expected_text=_range_text_of(expected_ref), count=str(len(names)),
            )
        )
    for sheet, cell, role, expected, found in integrity.changed_cells:
        if role == "formula":
            if found is None or (isinstance(found, str) and not found.strip()):
                how = "被清除了"
            elif isinstance(found, (int, float, Decimal)) and not isinstance(found, bool):
                how = f"被数值“{plain_number(found)}”覆盖了"
            else:
                how = f"被改成了“{_short(found)}”"
            out.append(finding("FORMULA_CHANGED", sheet=sheet, cell=cell, seen=found, expected=expected, how=how))
        elif role == "target":
            what = integrity.target_labels.get((sheet, cell), cell)
            out.append(finding("TARGET_CHANGED", sheet=sheet, cell=cell, seen=found, expected=expected, what=what))
        else:
            code = "PREFILL_CHANGED" if role == "prefill" else "LOCKED_CHANGED"
            out.append(finding(code, sheet=sheet, cell=cell, seen=found, expected=expected))
    for code, sheet, cell, unit, project, block in integrity.roster_projects:
        seen, expected = (None, f"{project}（名册）") if code == "PROJECT_MISSING" else (project, None)
        out.append(finding(code, sheet=sheet, cell=cell, seen=seen, expected=expected, unit=unit, project=project, block=block))
    if not integrity.fingerprint_ok:
        out.append(finding("FINGERPRINT_MISMATCH"))
    # A block pasted beside the table is one finding per sheet, at its first cell, not one a cell.
    extra: dict[str, list[str]] = {}
    for sheet, cell in integrity.extra_content:
        extra.setdefault(sheet, []).append(cell)
    for sheet, cells in extra.items():
        cells = sorted(set(cells), key=lambda c: _sort_key(Finding("", "", "", sheet, c)))
        shown = "、".join(cells[:5]) + ("等" if len(cells) > 5 else "")
        out.append(finding("EXTRA_CONTENT", sheet=sheet, cell=cells[0], seen=None, expected=None, cells=shown, count=str(len(cells))))
    return out


def _range_text_of(ref) -> str:
    """"'绩效指标'!$E$5:$E$1048576" → "E5:E1048576"."""
    text = str(ref or "").lstrip("=")
    return _short(text.rsplit("!", 1)[-1].replace("$", ""))


def _short(value, limit: int = 40) -> str:
    shown = str(value).strip()
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# ---------------------------------------------------------------- basic information and texts

_DATE_LOW, _DATE_HIGH = _dt.date(2000, 1, 1), _dt.date(2100, 12, 31)


def _info(sub: Submission, out: _Out) -> None:
    for key, label in (("contact", "填报人"), ("phone", "联系电话")):
        v = sub.info.get(key)
        if v is not None and v.blank:
            out.add("CONTACT_MISSING", v, field=label)
    v = sub.info.get("date")
    if v is not None and not v.blank:
        found = v.date  # typed by the reader (core.cells.type_date): a date, or a reason why not
        if v.reason in ("error", "not_a_date"):
            out.add("INVALID_DATE", v, field="填报日期", item="基本信息")
        elif v.reason == "date_out_of_range" or (found is not None and not _DATE_LOW <= found <= _DATE_HIGH):
            out.add(
                "VALUE_OUT_OF_RANGE", v, expected="2000-01-01～2100-12-31", field="填报日期", item="基本信息",
                seen=found.isoformat() if found is not None else v.raw, hint="请填写实际的填报日期，如 2022-06-30。",
            )


def _texts(sub: Submission, out: _Out) -> None:
    for v, label in ((sub.problems, "存在的问题和原因"), (sub.improvements, "下一步拟改进措施")):
        if v.blank and v.cell:  # only where the workbook has the cell (a hand-made Submission may not)
            out.add("TEXT_MISSING", v, field=label)
    for v, label, maximum in sub.overlong:  # pasted past the cell's length validation
        out.add(
            "VALUE_OUT_OF_RANGE", v, seen=show(v.text), expected=maximum, seen_text=f"{len(v.text):,} 个字", expected_text=f"不超过 {maximum:,} 个字",
            field=label or "文字", item=f"“{v.sheet}”表 {v.cell} 格",
            hint=f"粘贴的文字不受单元格字数限制；请精简到 {maximum:,} 个字以内，详细材料请另附。",
        )


# ---------------------------------------------------------------- budget execution


def _denominator(out: _Out, v: Value, label: str, item: str, rate_name: str) -> Decimal | None:
    """A budget that divides: blank or zero → RATE_UNDEFINED (never 0%); text, negative → reported."""
    if v.blank and not v.is_error:
        out.add("RATE_UNDEFINED", v, field=label, item=item, rate_name=rate_name, state="未填写")
        return None
    value = _figure(out, v, label, item, kind="money", high=MONEY_MAX)
    if value is not None and value == 0:
        out.add("RATE_UNDEFINED", v, field=label, item=item, rate_name=rate_name, state="为 0")
        return None
    return value


def _typed_rate(out: _Out, v: Value, recomputed: Decimal | None, label: str, item: str, formula: str) -> None:
    """A rate cell whose formula was replaced by a typed figure that disagrees with the inputs."""
    if v.formula is not None or v.blank or recomputed is None:
        return
    typed = v.number
    if typed is not None and v.reason == "percent_text":
        typed = typed / _HUNDRED  # "87.87%" typed as text is the fraction 0.8787
    if typed is not None and scoring.round_half_up(typed, 4) == recomputed:
        return
    seen_text = percent(typed) if typed is not None else v.text
    out.add("RATE_MISMATCH", v, expected=recomputed, field=label, item=item, formula=formula, seen_text=seen_text, expected_text=percent(recomputed))


def _execution_note(out: _Out, note: Value, rate: Decimal | None, item: str, fw: Framework | None = None) -> None:
    """A rate above 100% or below the framework's low_execution_percent (90%) must be explained."""
    if rate is None or not note.blank:
        return
    threshold = LOW_EXECUTION_THRESHOLD if fw is None else fw.low_execution_percent / _HUNDRED
    if rate > 1:
        out.add("OVER_BUDGET_NO_NOTE", note, seen=None, expected="执行情况说明", item=item, rate=percent(rate))
    elif rate < threshold:
        out.add(
            "LOW_EXECUTION_NO_NOTE", note, seen=None, expected="执行情况说明", item=item,
            rate=percent(rate), threshold=plain_number(threshold * _HUNDRED) + "%",
        )


_MONEY_COLUMNS = (("年初预算数", 1), ("全年预算数", 2), ("全年执行数", 3))


def _project_funds(out: _Out, block, item: str) -> None:
    """项目资金: each 其中 figure a number, each 其中 rate as its formula computes it, and
    年度资金总额 equal to the sum of its 其中 rows in every column, to the cent (a blank 其中 cell
    counts 0; a column with an unreadable figure is not summed: that figure is reported)."""
    totals = {1: block.initial, 2: block.budget, 3: block.executed}
    readable = {1: True, 2: True, 3: True}
    sums = {1: _ZERO, 2: _ZERO, 3: _ZERO}
    for name, *cells in block.sources:
        for column, index in _MONEY_COLUMNS:
            v = cells[index - 1]
            if v.blank and not v.is_error:
                continue
            value = _figure(out, v, f"{name}{column}", item, kind="money", required=False, high=MONEY_MAX)
            if value is None:
                readable[index] = False
            else:
                sums[index] += value
        rate_cell = cells[3]
        _typed_rate(out, rate_cell, scoring.rate(cells[2].number, cells[1].number), f"{name}执行率", item, f"{name}全年执行数 ÷ 全年预算数")
    if not block.sources:
        return
    names = "、".join(name for name, *_cells in block.sources)
    for column, index in _MONEY_COLUMNS:
        total_cell = totals[index]
        total = total_cell.number
        if total is None or not readable[index] or total_cell.is_error or not _ZERO <= total <= MONEY_MAX:
            continue  # a total out of range is reported as such
        if _r2(total) != _r2(sums[index]):
            out.add("FUNDS_SUM_MISMATCH", total_cell, expected=_r2(sums[index]), item=item, column=column, sources=names,
                    total=plain_number(_r2(total)), sum=plain_number(_r2(sums[index])))


# ---------------------------------------------------------------- indicator rows

_SIGN_WORDS = {"≥": "", ">": "超过 ", "≤": "不超过 ", "<": "低于 ", "=": "为 "}


def _adjustment(out: _Out, row: IndicatorRow, f: dict, item: str, name: str) -> None:
    """A 年度指标值（调整后） that differs from the 年初指标值 needs its 调整说明."""
    initial, adjusted = f.get("initial"), f.get("adjusted")
    if row.adjusted.blank or adjusted is None or not row.adjust_note.blank:
        return
    if initial is None or scoring.as_excel_shows(adjusted) != scoring.as_excel_shows(initial):
        out.add("ADJUSTMENT_NOTE_MISSING", row.adjust_note, seen=None, expected="调整说明", item=item, name=name,
                adjusted=_amount(adjusted, row.unit.text), initial=_amount(initial, row.unit.text))


def _unmet_detail(f: dict) -> str:
    if f["kind"] == "qualitative":
        return f"定性评价为“{f['band']}”"
    word = _SIGN_WORDS.get(f["sign"], "")
    adjusted = f.get("adjusted") is not None and f.get("target") == f.get("adjusted") and f.get("adjusted") != f.get("initial")
    return f"{'调整后计划' if adjusted else '计划'}{word or ' '}{_amount(f['target'], f['unit'])}，完成 {_amount(f['actual'], f['unit'])}"


def _rule_text(f: dict, fw: Framework) -> str:
    if f["met"]:
        return "目标已完成，得分"
    t, a, p = (plain_number(x) for x in (f["target"], f["actual"], f["points"]))
    if f["sign"] in ("≤", "<"):
        if f["target"] is not None and f["target"] <= 0:
            return "反向指标的指标值为 0、实际完成值超出时，得分"
        if fw.reverse_rule == "linear":
            return f"按反向指标“（1 −（实际完成值 − 指标值）÷ 指标值）× 分值”（（1 −（{a} − {t}）÷ {t}）× {p}）计算，得分"
        return f"按反向指标“指标值 ÷ 实际完成值 × 分值”（{t} ÷ {a} × {p}）计算，得分"
    if f["target"] is not None and f["target"] <= 0:
        return "指标值为 0、实际完成值大于 0 时，得分"
    return f"按“实际完成值 ÷ 指标值 × 分值”（{a} ÷ {t} × {p}）计算，得分"


def _reason_required(f: dict, fw: Framework, scored: bool, points: Decimal | None) -> str:
    """Why a 偏差原因 is required on this row ("" when it is not), by the framework's rule: the
    national one (score below points), or target unmet; and optionally far above the target."""
    why = ""
    if f["met"] is False:
        why = "未完成"
    if scored and fw.reason_rule == "below_points" and f["score"] is not None and points is not None and f["score"] < points:
        if f["met"] is False:
            why = "未完成"
        else:
            why = f"得分 {plain_number(f['score'])} 分，低于分值 {plain_number(points)} 分"
    elif scored and fw.reason_rule == "below_points" and f["met"] is False and f["score"] is not None:
        why = ""  # rounded to full points (9,996 of 10,000): no deviation to explain
    t, a = f["target"], f["actual"]
    above = fw.reason_above_percent
    if not why and above is not None and f["kind"] == "quantitative" and f["sign"] in ("≥", ">", "=") and t is not None and a is not None and t > 0:
        if a >= t * (1 + above / _HUNDRED):
            why = f"实际完成值超过指标值 {plain_number(above)}% 及以上（{_unmet_detail(f).replace('计划', '指标值', 1)}）"
    return why


def _row(out: _Out, row: IndicatorRow, fw: Framework, scored: bool, prefix: str) -> dict:
    """Every check of one used indicator row; returns the recomputed figures."""
    f = row_figures(row, fw, scored)
    signs = SIGNS + ((NOT_APPLICABLE,) if fw.not_applicable else ())
    item = f"{prefix}第 {row.index} 行指标"
    name = f["name"] or f"第 {row.index} 行"
    label = FIELD_LABELS

    # 一级 / 二级 指标
    category = fw.category(f["category"]) if f["category"] else None
    if row.level1.blank:
        out.add("REQUIRED_BLANK", row.level1, field=label["level1"], item=item, hint="请从下拉列表中选择。")
    elif category is None or row.level1.text not in fw.category_names:
        # "产出" is read as 产出指标 for the recomputation, but the template's own formulas match
        # the list's words exactly, so the cell is still reported
        out.add("INVALID_CHOICE", row.level1, expected="、".join(fw.category_names), field=label["level1"], item=item)
    if row.level2.blank:
        out.add("REQUIRED_BLANK", row.level2, field=label["level2"], item=item, hint="请从下拉列表中选择。")
    else:
        level2 = row.level2.choice
        if level2 is None or row.level2.text not in fw.all_subcategories:
            allowed = category.subcategories if category else fw.all_subcategories
            out.add("INVALID_CHOICE", row.level2, expected="、".join(allowed), field=label["level2"], item=item)
        elif category is not None and level2 not in category.subcategories:
            out.add("LEVEL2_MISMATCH", row.level2, expected="、".join(category.subcategories), item=item, level1=category.name)

    # 名称 and 计算符号
    if row.name.blank:
        out.add("REQUIRED_BLANK", row.name, field=label["name"], item=item, hint="请填写指标名称，一行只写一项指标。")
    else:
        _multiple(out, row.name, label["name"], item)
    if row.sign.blank:
        out.add("REQUIRED_BLANK", row.sign, field=label["sign"], item=item, hint="请从下拉列表中选择 ≥、>、≤、<、= 或“定性”。")
    elif f["kind"] is None or row.sign.text not in signs:  # ">=" is not in the list, nor in its formulas
        out.add("INVALID_CHOICE", row.sign, expected="、".join(signs), field=label["sign"], item=item)

    if f["kind"] == "not_applicable":
        # 不适用 (a framework's opt-in): the row drops out of the score; its 分值 still counts in
        # the category's sum, and the project's total is scaled to 100 without it.
        if scored:
            f["points"] = _figure(out, row.points, label["points"], item, high=_HUNDRED)
        return f

    # 指标值 / 实际完成值: numbers, except on a 定性 row
    if f["kind"] != "qualitative":
        required = f["kind"] == "quantitative"
        for key, field in (("target", "initial"), ("adjusted", "adjusted"), ("actual", "actual")):
            v = getattr(row, key)
            if key == "adjusted" and v.blank and not v.is_error:
                continue  # no adjustment: the year-start target scores
            if _multiple(out, v, label[key], item):
                f[field] = None
                continue
            value = _figure(out, v, label[key], item, kind={"actual": "actual", "adjusted": "adjusted"}.get(key, "target"),
                            required=required and key != "adjusted", high=NUMBER_MAX, blank_hint="定量指标必须填写数字。")
            if value is None and not v.blank:
                f[field] = None  # out of range or unreadable: nothing to judge by
        f["target"] = f["initial"] if row.adjusted.blank and not row.adjusted.is_error else f["adjusted"]
        _adjustment(out, row, f, item, name)
        if f["target"] is None or f["actual"] is None:
            f["met"] = None
            f["score"] = None
        else:
            _percent_scale(out, row, f, item, name)
    else:
        for key in ("target", "adjusted", "actual"):  # not scored, but a pasted 1E+300 is still reported
            v = getattr(row, key)
            if v.number is not None and abs(v.number) > NUMBER_MAX:
                out.add("VALUE_OUT_OF_RANGE", v, expected=_range_text(_ZERO, NUMBER_MAX), field=label[key], item=item, hint="定性指标不按数字计分；请核对是否粘贴错了位置，改填实际的内容。")
        if row.band.blank:
            out.add("QUALITATIVE_NO_BAND", row.band, seen=None, expected="、".join(b.label for b in fw.bands), item=item, name=name)
        elif f["band_spec"] is None or row.band.text not in [b.label for b in fw.bands]:
            out.add("INVALID_CHOICE", row.band, expected="、".join(b.label for b in fw.bands), field=label["band"], item=item)

    # 分值 and 自评得分
    declared = points = None
    if scored:
        points = _figure(out, row.points, label["points"], item, high=_HUNDRED)
        declared = _figure(
            out, row.score, label["score"], item, high=points if points is not None else _HUNDRED,
            range_hint="自评得分不能为负数，也不能超过本行分值。",
        )
        f["points"] = points

    # 偏差原因: when it is required, and over-achievement
    over = _over_achieved(f, fw)
    if over is not None:
        out.add("OVER_ACHIEVED", row.actual, expected=f["target"], item=item, name=name, detail=_unmet_detail(f).replace("计划", "指标值", 1),
                share=plain_number(over) + "%", threshold=plain_number(fw.over_achievement_percent) + "%",
                score_note="；如按实际情况调低自评得分，也请在那里写明理由" if scored else "")  # a unit-wide goal has no score
    why = _reason_required(f, fw, scored, points)
    if f["met"] is False and (why or fw.reason_rule == "target_unmet"):
        if row.reason.blank:
            out.add("TARGET_UNMET_NO_REASON", row.reason, seen=None, expected="偏差原因分析及改进措施", item=item, name=name, detail=_unmet_detail(f))
        else:
            at = row.band if f["kind"] == "qualitative" else row.actual
            out.add("TARGET_UNMET", at, expected=f["target"] if f["kind"] == "quantitative" else None, item=item, name=name,
                    detail=_unmet_detail(f), reason=_short(row.reason.text, 120))
    elif why and row.reason.blank:
        out.add("REASON_REQUIRED", row.reason, seen=None, expected="偏差原因分析及改进措施", item=item, name=name, why=why)

    # 自评得分 against the recomputed one
    if scored and declared is not None and points is not None:
        if f["kind"] == "quantitative" and f["score"] is not None:
            if f["score"] < points <= declared:  # a full self-score where the rules give less
                out.add("FULL_SCORE_UNMET", row.score, expected=f["score"], item=item, name=name, detail=_unmet_detail(f))
            elif _r2(declared) != f["score"]:
                out.add("SCORE_MISMATCH", row.score, expected=f["score"], item=item, name=name, rule=_rule_text(f, fw))
        elif f["kind"] == "qualitative" and f["band_spec"] is not None:
            if scoring.qualitative_in_band(f["band_spec"], declared, points) is False:
                low, high = scoring.band_range(f["band_spec"], points)
                out.add("QUALITATIVE_OUT_OF_BAND", row.score, expected=f"{plain_number(low)}～{plain_number(high)}",
                        item=item, name=name, band=f["band"])
    return f


# ---------------------------------------------------------------- declared scores and grades


def _declared_score(out: _Out, v: Value | None, item: str, label: str, recomputed: Decimal | None, high: Decimal, basis: str, check_what: str) -> None:
    if v is None:
        return
    if recomputed is None:
        # An input is blank or unreadable: no made-up "应为" figure; the other findings say what to fix.
        if not v.blank and _figure(out, v, label, item, high=high) is not None:
            out.add("SCORE_NOT_RECOMPUTED", v, item=item, field=label)
        return
    if v.blank and not v.is_error:
        out.add("DECLARED_MISSING", v, expected=recomputed, item=item, field=label, expected_text=f"{plain_number(recomputed)} 分")
        return
    declared = _figure(out, v, label, item, high=high)
    if declared is not None and _r2(declared) != recomputed:
        out.add("DECLARED_SCORE_MISMATCH", v, expected=recomputed, item=item, basis=basis, check=check_what)


def _declared_grade(out: _Out, v: Value | None, item: str, computed: str | None, score: Decimal | None, fw: Framework) -> None:
    if v is None or (v.blank and computed is None):
        return
    if v.blank and not v.is_error:
        out.add("DECLARED_MISSING", v, expected=computed, item=item, field="自评等级")
        return
    written = v.text
    known = any(scoring.same_grade(written, g.label, fw.grades) for g in fw.grades)
    if not known:
        out.add("INVALID_CHOICE", v, expected="、".join(g.label for g in fw.grades), field="自评等级", item=item)
    elif computed is not None and not scoring.same_grade(written, computed, fw.grades):
        out.add("DECLARED_GRADE_MISMATCH", v, expected=computed, item=item, score=score)


# ---------------------------------------------------------------- project workbooks


def _projects(sub: Submission, fw: Framework, out: _Out, evaluations: list[Evaluation]) -> None:
    if sub.projects and not any(project_used(b) for b in sub.projects):
        # A blank template sent back as it came: nothing to evaluate is a failure, not a pass.
        out.add("NO_INDICATORS", sub.projects[0].name, seen=None, item="本工作簿", what="任何项目",
                hint="请在“预算执行”表填写项目名称、预算数和执行数，并在“绩效指标”表逐行填写该项目的绩效指标。")
    used = iter(evaluations)  # one a used block, in order (evaluate.evaluate)
    for block in sub.projects:
        if not project_used(block):
            continue
        item = block_name(block)
        ev = next(used)
        if block.name.blank:
            out.add("REQUIRED_BLANK", block.name, field="项目名称", item=item, hint="请在预算执行表中填写项目名称。")
        _denominator(out, block.budget, "全年预算数", item, "预算执行率")
        _figure(out, block.executed, "全年执行数", item, kind="money", high=MONEY_MAX, blank_hint="请填写全年执行数（万元），没有支出的填 0。")
        _typed_rate(out, block.rate, ev.execution_rate, "预算执行率", item, "全年执行数 ÷ 全年预算数")
        _execution_note(out, block.note, ev.execution_rate, item, fw)
        if block.initial.cell:  # a hand-made Submission may not have the form's blocks
            _figure(out, block.initial, "年初预算数", item, kind="money", high=MONEY_MAX, blank_hint="请填写年度资金总额的年初预算数（万元）。")
        _project_funds(out, block, item)
        for v, label, hint in ((block.goal_plan, "预期目标", "请填写批复的年度总体目标。"), (block.goal_done, "实际完成情况", "请对照预期目标写明全年实际完成情况。")):
            if v.blank and v.cell:
                out.add("REQUIRED_BLANK", v, field=f"年度总体目标的{label}", item=item, hint=hint)

        rows = [r for r in block.rows if not r.empty]
        if not rows:
            at = block.rows[0].level1 if block.rows else block.name
            out.add("NO_INDICATORS", at, seen=None, item=item, what="任何绩效指标",
                    hint="请在“绩效指标”表该项目下逐行填写指标，一行一项。")
        figures = [(r, _row(out, r, fw, scored=True, prefix=f"{item}")) for r in rows]
        if rows:
            for cat in fw.categories:
                mine = [(r, f) for r, f in figures if f["category"] == cat.name]
                if not mine:
                    if cat.points:
                        out.add("NO_INDICATORS", rows[0].level1, seen=None, expected=cat.points, item=item,
                                what=f"“{cat.name}”类的绩效指标（该类共 {plain_number(cat.points)} 分）",
                                hint=f"请至少填写一项一级指标为“{cat.name}”的指标。")
                    continue
                if any(f["points"] is None for _r, f in mine):
                    continue  # a blank or unreadable 分值 is reported on its own; a sum would mislead
                total = sum((f["points"] for _r, f in mine), _ZERO)
                if total != cat.points:
                    out.add("POINTS_SUM_MISMATCH", mine[0][0].points, seen=total, expected=cat.points, item=item, category=cat.name)

        if not rows:
            continue  # a total of the execution score alone says nothing; NO_INDICATORS says what to do
        parts = " + ".join(f"{c['name']} {plain_number(c['score'])}" for c in ev.criteria)
        if ev.not_applicable_points:
            dropped = plain_number(ev.not_applicable_points)
            parts = f"{parts} = {plain_number(ev.raw_score)}，不适用指标共 {dropped} 分，折算为百分制：{plain_number(ev.raw_score)} × 100 ÷（100 − {dropped}）"
        _declared_score(out, block.declared_score, item, "自评总分", ev.score, _HUNDRED,
                        basis=f"（{parts}）", check_what="各指标的自评得分和完成值")
        _declared_grade(out, block.declared_grade, item, ev.grade, ev.score, fw)


# ---------------------------------------------------------------- unit-wide workbooks


def _department(sub: Submission, fw: Framework, out: _Out, ev: Evaluation) -> None:
    item = "单位整体支出"
    budget = sub.budget
    if budget:
        initial = budget.get("initial", EMPTY)
        adjusted = budget.get("adjusted", EMPTY)
        final = budget.get("final", EMPTY)
        _denominator(out, initial, "年初预算数", item, "年初预算完成率")
        _denominator(out, adjusted, "调整预算数", item, "整体支出预算执行率")
        _figure(out, final, "决算数", item, kind="money", high=MONEY_MAX, blank_hint="请填写决算数（万元）。")
        _typed_rate(out, budget.get("rate", EMPTY), ev.execution_rate, "整体支出预算执行率", item, "决算数 ÷ 调整预算数")
        _typed_rate(out, budget.get("initial_rate", EMPTY), ev.initial_budget_completion_rate, "年初预算完成率", item, "决算数 ÷ 年初预算数")
        _execution_note(out, budget.get("note", EMPTY), ev.execution_rate, item, fw)

    # 年度目标
    goals = used_goals(sub)
    if not goals and sub.goals:
        out.add("NO_INDICATORS", sub.goals[0].name, seen=None, item="年度绩效目标表", what="任何年度目标",
                hint="请填写本年度的绩效目标及其指标完成情况。")
    for goal in goals:
        item_goal = block_name(goal)
        if goal.name.blank:
            out.add("REQUIRED_BLANK", goal.name, field="年度目标名称", item=item_goal, hint="请填写年度目标的名称。")
        rows = [r for r in goal.rows if not r.empty]
        if not rows:
            at = goal.rows[0].level1 if goal.rows else goal.name
            out.add("NO_INDICATORS", at, seen=None, item=item_goal, what="任何绩效指标", hint="请逐行填写该目标的绩效指标，一行一项。")
        for r in rows:
            _row(out, r, fw, scored=False, prefix=item_goal)

    # 评分表: deductions
    points = {(i.criterion, i.group, i.name): i.points for i in fw.criterion_indicators}
    by_index = fw.criterion_indicators
    typed = [r for k, r in enumerate(sub.criteria) if k not in sub.measures]  # the rest are formulas
    none_typed = len(typed) > 1 and all(r.deduction.blank and not r.deduction.is_error for r in typed)
    if none_typed:  # the table as it came: one finding, not one per row
        out.add("REQUIRED_BLANK", sub.criteria[0].deduction, field="扣分", item="评分表",
                hint=f"评分表 {len(sub.criteria)} 个指标的扣分都未填写。每个指标都要填写扣分，没有扣分请填 0。")
    for k, row in enumerate(sub.criteria):
        p = points.get((row.criterion, row.group, row.name))
        if p is None and k < len(by_index):
            p = by_index[k].points
        crow_item = f"评分表“{row.name}”"
        if k in sub.measures:
            _measure(out, sub, fw, k, row)
            continue
        if none_typed:
            continue
        if row.deduction.blank and not row.deduction.is_error:
            # 0 is typed, never assumed: a blank table must not grade itself 100 优
            out.add("REQUIRED_BLANK", row.deduction, field="扣分", item=crow_item, hint="每个指标都要填写扣分，没有扣分请填 0。")
            continue
        d = row.deduction.number
        if not row.deduction.pure:
            out.add("TEXT_IN_NUMBER", row.deduction, field="扣分", item=crow_item, hint=_pasted_date_hint(row.deduction, "扣分只填数字，如 0.5；没有扣分请填 0。"))
        elif row.deduction.reason == "number_as_text":
            _stored_as_text(out, row.deduction, d, "扣分", crow_item)
        if d is None:
            continue
        shown = scoring.as_excel_shows(d)
        if shown < 0 or (p is not None and shown > p):
            out.add("DEDUCTION_OUT_OF_RANGE", row.deduction, expected=_range_text(_ZERO, p), name=row.name)
            continue
        if d > 0 and row.reason.blank:
            out.add("DEDUCTION_NO_REASON", row.reason, seen=d, expected="扣分原因", name=row.name, seen_text=plain_number(d))

    # 评分结果: declared criterion scores, total and grade
    for c in ev.criteria:
        taken = plain_number(c["deduction"])
        _declared_score(
            out, sub.declared.get(c["name"]), f"评价准则“{c['name']}”", "自评得分", c["score"], c["points"],
            basis=f"（准则分值 {plain_number(c['points'])} − 扣分 {taken}）", check_what=f"评分表中“{c['name']}”各指标的扣分",
        )
    parts = " + ".join(plain_number(c["score"]) for c in ev.criteria)
    _declared_score(out, sub.declared.get("total"), "综合绩效", "综合绩效自评得分", ev.score, _HUNDRED,
                    basis=f"（各准则得分 {parts}）", check_what="各准则的得分")
    _declared_grade(out, sub.declared.get("grade"), "综合绩效", ev.grade, ev.score, fw)


def _measure(out, sub: Submission, fw: Framework, k: int, row) -> None:
    """A 53号 indicator scored by formula: its two inputs must be numbers (the denominator above
    0); its deduction, recomputed, needs a reason like a typed one."""
    ind = fw.criterion_indicators[k]
    m = ind.measure
    item = f"定量指标“{ind.name}”"
    values = sub.measures[k]
    for at, label in zip(values, m.inputs):
        if at.blank and not at.is_error:
            out.add("REQUIRED_BLANK", at, field=label, item=item, hint=f"请在预算执行表填写{label}：评分表中“{ind.name}”的扣分按它计算。")
        elif not at.pure:
            out.add("TEXT_IN_NUMBER", at, field=label, item=item, hint=_pasted_date_hint(at, "只填数字。"))
        elif at.number < 0:
            out.add("VALUE_OUT_OF_RANGE", at, expected="不小于 0", field=label, item=item, hint="请填写实际数。")
    b = values[1].number
    if b is not None and b == 0 and not values[1].is_error:
        out.add("VALUE_OUT_OF_RANGE", values[1], expected="大于 0", field=m.inputs[1], item=item,
                hint=f"{m.inputs[1]}为 0 时“{ind.name}”无法计算；请填写实际数，确为 0 的请与财政部门联系。")
    d = criterion_deduction(sub, fw, k)
    if d is not None and d > 0 and row.reason.blank:
        out.add("DEDUCTION_NO_REASON", row.reason, seen=d, expected="扣分原因", name=row.name, seen_text=plain_number(d))
