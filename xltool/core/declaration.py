"""绩效目标申报表 (the target-setting form): what a returned form says, the checks it must pass,
and the approved-targets rows it turns into. Pure: no files.

A form is one sheet: a project's (项目支出) with its header, funds, 长期目标, 年度目标 and one table
of indicators, or the unit's (部门整体) with its header, funds, 长期目标 and one table of
indicators per annual goal. Every figure is a core.model.Value, as the self-evaluation reader
gives, so findings name the cell.
"""

from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from xltool.core.framework import Framework
from xltool.core.messages import finding, plain_number
from xltool.core.model import EMPTY, MONEY_MAX, NUMBER_MAX, Finding, Value
from xltool.core.scoring import as_excel_shows

STAGE = "申报"
FORM_TITLE = {"project": "项目支出绩效目标申报表", "department": "部门整体支出绩效目标申报表"}
ATTRIBUTES = ("新增", "延续")
VALUE_KINDS = ("定量", "定性")
QUANTITATIVE_SIGNS = ("≥", ">", "≤", "<", "=")
COST_SIGNS = ("≤", "<")
COST_LEVEL2 = "成本指标"
# Text that stands in for content: a form whose cells say only this has not been filled.
PLACEHOLDERS = frozenset({"*", "**", "***", "无", "暂无", "略", "同上", "待定", "/", "\\", "-", "--", "—", "——", "…", "...", "n/a", "na", "见附件", "详见附件", "附件", "见附表", "详见附表", "空"})
_ZERO = Decimal(0)

# Header fields of a form: key → label. Which are required depends on the kind.
HEADER_LABELS = {
    "name": "项目名称",
    "attribute": "项目属性",
    "department": "主管部门",
    "implementer": "实施单位",
    "start": "起始时间",
    "end": "结束时间",
    "fiscal": "财政拨款",
    "other": "其他资金",
    "total": "资金总额",
    "long_goal": "长期目标",
    "annual_goal": "年度目标",
}
REQUIRED_HEADER = {
    "project": ("name", "attribute", "department", "implementer", "start", "end", "fiscal", "long_goal", "annual_goal"),
    "department": ("department", "implementer", "fiscal", "long_goal"),
}
ROW_LABELS = {
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "三级指标",
    "value_kind": "指标值类型",
    "sign": "计算符号",
    "target": "指标值",
    "unit": "计量单位",
    "points": "分值",
    "standard": "评分标准",
}
ROW_FIELDS = tuple(ROW_LABELS)


@dataclass
class DeclRow:
    index: int  # from 1, inside its table
    level1: Value = EMPTY
    level2: Value = EMPTY
    name: Value = EMPTY
    value_kind: Value = EMPTY
    sign: Value = EMPTY
    target: Value = EMPTY
    unit: Value = EMPTY
    points: Value = EMPTY
    standard: Value = EMPTY

    @property
    def empty(self) -> bool:
        return all(getattr(self, f).blank for f in ROW_FIELDS)


@dataclass
class DeclGoal:
    """One indicator table: a project's (name is EMPTY: the form's 项目名称 names it) or one annual
    goal of the unit-wide form (name = the goal, as the unit wrote it)."""

    index: int
    name: Value = EMPTY
    rows: list[DeclRow] = field(default_factory=list)

    @property
    def filled(self) -> list[DeclRow]:
        return [r for r in self.rows if not r.empty]


@dataclass
class DeclForm:
    index: int
    sheet: str
    header: dict[str, Value] = field(default_factory=dict)
    goals: list[DeclGoal] = field(default_factory=list)
    prefilled_name: bool = False  # the project's name came from the roster

    def value(self, key: str) -> Value:
        return self.header.get(key, EMPTY)

    @property
    def empty(self) -> bool:
        return all(v.blank for k, v in self.header.items() if k not in ("total", "implementer", "department")) and all(
            not g.filled and g.name.blank for g in self.goals
        ) and not self.prefilled_name


@dataclass
class Declaration:
    path: str
    kind: str
    unit_name: str
    unit_code: str
    year: int | None
    framework_name: str
    framework_version: str
    forms: list[DeclForm] = field(default_factory=list)


# ---------------------------------------------------------------- reading values


def number(value: Value) -> Decimal | None:
    """A cell's number: numbers as they are, text holding a plain number (full-width digits and
    thousands commas allowed); None for anything else."""
    raw = value.raw
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, (int, float, Decimal)):
        try:
            d = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    text = unicodedata.normalize("NFKC", str(raw)).replace(",", "").strip()
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def text(value: Value) -> str:
    """A cell's text as written, trimmed; a whole number without its ".0"."""
    if value.raw is None:
        return ""
    if isinstance(value.raw, float) and value.raw.is_integer():
        return str(int(value.raw))
    return str(value.raw).strip()  # as written: a name keeps its full-width brackets


def choice(value: Value) -> str:
    """A dropdown's text, with full-width signs and >= written the long way read as the sign."""
    t = unicodedata.normalize("NFKC", text(value)).replace(" ", "")
    return {">=": "≥", "=>": "≥", "<=": "≤", "=<": "≤", "≧": "≥", "≦": "≤", "==": "="}.get(t, t)


def date_of(value: Value) -> _dt.date | None:
    """An Excel date serial, or text such as 2024-01-01 / 2024/1/1 / 2024年1月1日."""
    raw = value.raw
    if isinstance(raw, (_dt.date, _dt.datetime)):
        return raw if not isinstance(raw, _dt.datetime) else raw.date()
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        if 1 <= raw < 2958466:
            return _dt.date(1899, 12, 30) + _dt.timedelta(days=int(raw))
        return None
    if isinstance(raw, str):
        t = unicodedata.normalize("NFKC", raw).strip().replace("年", "-").replace("月", "-").replace("日", "").replace("/", "-").replace(".", "-")
        parts = t.split("-")
        if len(parts) == 3 and all(p.strip().isdigit() for p in parts):
            try:
                return _dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                return None
    return None


def is_placeholder(value: Value) -> bool:
    t = unicodedata.normalize("NFKC", text(value)).casefold().strip(" 。.，,；;：:、")
    if not t and text(value):
        return True  # punctuation only
    return t in PLACEHOLDERS or t.startswith(("见附件", "详见附件", "见附表", "详见附表"))


# ---------------------------------------------------------------- the checks


def form_label(decl: Declaration, form: DeclForm) -> str:
    if decl.kind == "department":
        return f"“{form.sheet}”表"
    name = text(form.value("name"))
    return f"“{form.sheet}”表（{name}）" if name else f"“{form.sheet}”表"


def check_declaration(decl: Declaration, fw: Framework) -> list[Finding]:
    """Every finding of a returned 申报表, in the order of the form."""
    findings: list[Finding] = []
    forms = [f for f in decl.forms if not f.empty]
    if not forms:
        findings.append(finding("NO_INDICATORS", item=f"{decl.unit_name}的申报表", what="任何项目", hint="请至少填写一个项目的申报表（项目名称、资金、目标和绩效指标）。"))
        return findings
    for form in forms:
        item = form_label(decl, form)
        findings += _header(decl.kind, form, item)
        findings += _funds(form, item)
        goals = form.goals
        if decl.kind == "department":
            goals = [g for g in goals if g.filled or not g.name.blank]
            if not goals:
                findings.append(finding("NO_INDICATORS", sheet=form.sheet, item=item, what="年度目标和绩效指标", hint="请至少填写一个年度目标及其绩效指标。"))
        elif not goals[0].filled:
            findings.append(finding("NO_INDICATORS", sheet=form.sheet, item=item, what="绩效指标", hint="请在绩效指标表中逐行填写指标。"))
            continue
        all_rows: list[DeclRow] = []
        for goal in goals:
            goal_item = f"{item}年度目标 {goal.index}" if decl.kind == "department" else item
            if decl.kind == "department":
                if goal.name.blank:
                    findings.append(_blank(goal.name, goal_item, "年度目标", "每个年度目标都要写明内容，其下再填写绩效指标。"))
                elif is_placeholder(goal.name):
                    findings.append(_placeholder(goal.name, goal_item, "年度目标"))
                if not goal.filled and not goal.name.blank:
                    findings.append(finding("NO_INDICATORS", sheet=goal.name.sheet, cell=goal.name.cell, item=goal_item, what="绩效指标", hint="请在该年度目标下逐行填写指标。"))
            for row in goal.filled:
                findings += _row(row, goal_item, fw)
            all_rows += goal.filled
        if decl.kind == "project":
            findings += _dimensions(all_rows, item, fw, form.sheet)
            findings += _points(all_rows, item, fw, form.sheet)
    if decl.kind == "department":
        rows = [r for form in forms for g in form.goals for r in g.filled]
        if rows:
            findings += _dimensions(rows, f"{decl.unit_name}的申报表", fw, forms[0].sheet)
    return findings


def _blank(value: Value, item: str, label: str, hint: str = "") -> Finding:
    return finding("REQUIRED_BLANK", sheet=value.sheet, cell=value.cell, item=item, field=label, hint=hint or "请填写。")


def _placeholder(value: Value, item: str, label: str) -> Finding:
    return finding("DECL_PLACEHOLDER_TEXT", sheet=value.sheet, cell=value.cell, seen=text(value), item=item, field=label)


_TEXT_FIELDS = ("name", "department", "implementer", "long_goal", "annual_goal")


def _header(kind: str, form: DeclForm, item: str) -> list[Finding]:
    out = []
    for key in REQUIRED_HEADER[kind]:
        value = form.value(key)
        if value.blank:
            out.append(_blank(value, item, HEADER_LABELS[key]))
    for key in _TEXT_FIELDS:
        value = form.value(key)
        if not value.blank and is_placeholder(value):
            out.append(_placeholder(value, item, HEADER_LABELS[key]))
    attribute = form.value("attribute")
    if kind == "project" and not attribute.blank and choice(attribute) not in ATTRIBUTES:
        out.append(finding("INVALID_CHOICE", sheet=attribute.sheet, cell=attribute.cell, seen=text(attribute), expected="、".join(ATTRIBUTES), item=item, field="项目属性"))
    dates = {}
    for key in ("start", "end"):
        value = form.value(key)
        if value.blank:
            continue
        day = date_of(value)
        if day is None:
            out.append(finding("INVALID_DATE", sheet=value.sheet, cell=value.cell, seen=text(value), item=item, field=HEADER_LABELS[key]))
        else:
            dates[key] = day
    if len(dates) == 2 and dates["end"] < dates["start"]:
        end = form.value("end")
        out.append(finding("DECL_DATES_REVERSED", sheet=end.sheet, cell=end.cell, seen=dates["end"].isoformat(), expected=dates["start"].isoformat(), item=item))
    return out


def _amount(value: Value, item: str, label: str, out: list[Finding]) -> Decimal | None:
    if value.blank:
        return None
    amount = number(value)
    if amount is None:
        out.append(finding("TEXT_IN_NUMBER", sheet=value.sheet, cell=value.cell, seen=value.raw, item=item, field=label, hint="金额只填数字，单位万元。"))
    elif amount < 0:
        out.append(finding("VALUE_OUT_OF_RANGE", sheet=value.sheet, cell=value.cell, seen=amount, expected="不小于 0", item=item, field=label, hint="金额不能为负数。"))
        return None
    elif amount > MONEY_MAX:
        out.append(finding("VALUE_OUT_OF_RANGE", sheet=value.sheet, cell=value.cell, seen=plain_number(amount), expected=f"0～{MONEY_MAX:,}", item=item, field=label,
                           hint="金额单位是万元，请核对是否按元填写或多输了位数。"))
        return None
    return amount


def kept_exactly(value: Decimal) -> bool:
    """Whether an Excel number cell keeps `value` as Excel shows it (15 significant digits): inside
    the range of a double and not lost to 0 (the 批复表 and the self-evaluation hold a target as a
    number). A figure saved with 17 digits (0.12345678901234567, a pasted result) is kept as it
    shows; 1e-9999 (0 in a cell) and 1e400 (no double holds it) are not."""
    try:
        return Decimal(format(float(value), ".15g")) == as_excel_shows(value)
    except (OverflowError, InvalidOperation, ValueError):
        return False


def _funds(form: DeclForm, item: str) -> list[Finding]:
    out: list[Finding] = []
    fiscal = _amount(form.value("fiscal"), item, "财政拨款", out)
    other = _amount(form.value("other"), item, "其他资金", out)
    total = form.value("total")
    if total.formula is not None or total.blank:
        return out  # the live formula: the sum by construction (an altered formula is its own finding)
    declared = number(total)  # the formula was pasted over: what the cell says must still be the sum
    if declared is None:
        out.append(finding("TEXT_IN_NUMBER", sheet=total.sheet, cell=total.cell, seen=total.raw, item=item, field="资金总额", hint="资金总额由公式自动计算，请恢复公式。"))
    elif fiscal is not None or other is not None:
        expected = (fiscal or _ZERO) + (other or _ZERO)
        if declared != expected:
            out.append(finding("DECL_FUNDS_SUM_MISMATCH", sheet=total.sheet, cell=total.cell, seen=declared, expected=expected, item=item))
    return out


def _row(row: DeclRow, item: str, fw: Framework) -> list[Finding]:
    out: list[Finding] = []
    where = f"{item}绩效指标第 {row.index} 行"
    for key in ("level1", "level2", "name", "value_kind", "standard") + (("points",) if fw.kind == "project" else ()):
        value = getattr(row, key)
        if value.blank:
            out.append(_blank(value, where, ROW_LABELS[key]))
    level1 = choice(row.level1)
    category = fw.category(level1) if level1 else None
    if level1 and category is None:
        out.append(finding("INVALID_CHOICE", sheet=row.level1.sheet, cell=row.level1.cell, seen=level1, expected="、".join(fw.category_names), item=where, field="一级指标"))
    level2 = choice(row.level2)
    if category is not None and level2 and level2 not in category.subcategories:
        out.append(finding("LEVEL2_MISMATCH", sheet=row.level2.sheet, cell=row.level2.cell, seen=level2, expected="、".join(category.subcategories), item=where, level1=level1))
    for key in ("name", "standard", "unit"):
        value = getattr(row, key)
        if not value.blank and is_placeholder(value):
            out.append(_placeholder(value, where, ROW_LABELS[key]))
    kind = choice(row.value_kind)
    sign = choice(row.sign)
    if kind and kind not in VALUE_KINDS:
        out.append(finding("INVALID_CHOICE", sheet=row.value_kind.sheet, cell=row.value_kind.cell, seen=kind, expected="、".join(VALUE_KINDS), item=where, field="指标值类型"))
    elif kind == "定量":
        if row.sign.blank:
            out.append(_blank(row.sign, where, "计算符号", "定量指标请选择 ≥ > ≤ < = 之一。"))
        elif sign not in QUANTITATIVE_SIGNS:
            out.append(finding("INVALID_CHOICE", sheet=row.sign.sheet, cell=row.sign.cell, seen=sign, expected="、".join(QUANTITATIVE_SIGNS), item=where, field="计算符号"))
        target = number(row.target)
        if row.target.blank:
            out.append(_blank(row.target, where, "指标值", "定量指标请填写数字，如 95。"))
        elif target is None:
            out.append(finding("TEXT_IN_NUMBER", sheet=row.target.sheet, cell=row.target.cell, seen=row.target.raw, item=where, field="指标值",
                               hint="比较关系在“计算符号”列选择，单位填在“计量单位”列；如“1万以上”选 ≥ 并填 10000。"))
        elif target < 0:
            out.append(finding("VALUE_OUT_OF_RANGE", sheet=row.target.sheet, cell=row.target.cell, seen=target, expected="不小于 0", item=where, field="指标值", hint="指标值不能为负数。"))
        elif target > NUMBER_MAX or not kept_exactly(target):
            out.append(finding("VALUE_OUT_OF_RANGE", sheet=row.target.sheet, cell=row.target.cell, seen=plain_number(target), expected=f"0～{NUMBER_MAX:,}，最多 15 位有效数字", item=where, field="指标值",
                               hint="请核对指标值：换算成计量单位后填写一个合理的数字（如 95、10000、0.5）。"))
        elif text(row.unit).replace("％", "%") == "%" and target > 100:
            out.append(finding("DECL_PERCENT_OVER_100", sheet=row.target.sheet, cell=row.target.cell, seen=target, expected=100, item=item, name=text(row.name)))
    elif kind == "定性":
        if not row.sign.blank and sign != "定性":
            out.append(finding("INVALID_CHOICE", sheet=row.sign.sheet, cell=row.sign.cell, seen=sign, expected="定性（或留空）", item=where, field="计算符号"))
        if row.target.blank:
            out.append(_blank(row.target, where, "指标值", "定性指标请用文字写明要达到的程度，如“达到预期效果”。"))
        elif is_placeholder(row.target):
            out.append(_placeholder(row.target, where, "指标值"))
    if level2 == COST_LEVEL2 and kind != "定性" and sign and sign not in COST_SIGNS:
        out.append(finding("DECL_COST_SIGN", sheet=row.sign.sheet, cell=row.sign.cell, seen=sign, expected="≤ 或 <", item=item, name=text(row.name)))
    if level2 == COST_LEVEL2 and kind == "定性":
        out.append(finding("DECL_COST_SIGN", sheet=row.value_kind.sheet, cell=row.value_kind.cell, seen="定性", expected="≤ 或 <", item=item, name=text(row.name)))
    if not row.points.blank:
        points = number(row.points)
        if points is None:
            out.append(finding("TEXT_IN_NUMBER", sheet=row.points.sheet, cell=row.points.cell, seen=row.points.raw, item=where, field="分值", hint="分值只填数字。"))
        elif not _ZERO < points <= 100:
            out.append(finding("VALUE_OUT_OF_RANGE", sheet=row.points.sheet, cell=row.points.cell, seen=plain_number(points), expected="大于 0、不超过 100", item=where, field="分值", hint="请改正分值。"))
    return out


def _dimensions(rows: list[DeclRow], item: str, fw: Framework, sheet: str) -> list[Finding]:
    present = {choice(r.level1) for r in rows}
    names = "、".join(fw.category_names)
    return [
        finding("DECL_DIMENSION_MISSING", sheet=sheet, item=item, category=c, all=names, expected=c)
        for c in fw.category_names if c not in present
    ]


def _points(rows: list[DeclRow], item: str, fw: Framework, sheet: str) -> list[Finding]:
    points = [number(r.points) for r in rows]
    if any(p is None or not _ZERO < p <= 100 for p in points):
        return []  # a missing, unreadable or impossible 分值 is reported on its row; a sum with it would mislead
    out = []
    for category in fw.categories:
        if category.points is None:
            continue
        mine = [(r, p) for r, p in zip(rows, points) if choice(r.level1) == category.name]
        if not mine:
            continue  # DECL_DIMENSION_MISSING says it
        total = sum((p for _r, p in mine), _ZERO)
        if total != category.points:
            first = mine[0][0].points
            out.append(finding("DECL_POINTS_SUM", sheet=first.sheet, cell=first.cell, seen=total, expected=category.points, item=item, category=category.name))
    return out


# ---------------------------------------------------------------- → approved targets


APPROVED_HEADER = ("单位编码", "项目名称", "年度目标", "一级指标", "二级指标", "三级指标", "计算符号", "指标值", "计量单位", "分值", "预期目标")


def approved_rows(decl: Declaration) -> list[list]:
    """The approved-targets rows (APPROVED_HEADER) of a checked declaration: what
    template.approved.read_targets reads. A qualitative row has 计算符号 定性 and, as 指标值, the
    wording the unit wrote ("档案保管安全，无丢失损毁"), which the self-evaluation pre-fills and locks."""
    out: list[list] = []
    for form in decl.forms:
        if form.empty:
            continue
        for goal in form.goals:
            if not goal.filled:
                continue
            if decl.kind == "project":
                project, goal_name, goal_text = text(form.value("name")), "", text(form.value("annual_goal"))
            else:
                project, goal_name, goal_text = "", text(goal.name), ""
            for row in goal.filled:
                quantitative = choice(row.value_kind) == "定量"
                target = number(row.target) if quantitative else None
                points = number(row.points)
                out.append([
                    decl.unit_code, project, goal_name, choice(row.level1), choice(row.level2), text(row.name),
                    choice(row.sign) if quantitative else "定性",
                    plain_number(target) if target is not None else ("" if quantitative else text(row.target)),
                    text(row.unit) if quantitative else "",
                    plain_number(points) if points is not None else "",
                    goal_text,
                ])
    return out
