"""The template as data: every sheet, cell, formula, validation and defined name of a workbook.

`build_plan(framework, unit)` is the single source of truth for the layout. The xlsxwriter
writer renders a plan; the reader and the checks use the same plan to know where each input lives
(through its defined name) and what every locked cell must still hold. Changing the layout means
changing this module only.

Coordinates are 0-based (row, col) as in xlsxwriter; `a1()` gives Excel's A1 text.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from xltool.core.framework import NOT_APPLICABLE, Framework
from xltool.core.model import MONEY_MAX, NUMBER_MAX, UnitInfo

# Sheet names, in workbook order.
SHEET_GUIDE = "填表说明"
SHEET_INFO = "基本信息"
SHEET_BUDGET = "预算执行"
SHEET_INDICATORS = "绩效指标"
SHEET_SCORES = "评分"
SHEET_TEXT = "问题与改进"
SHEET_LISTS = "_lists"
SHEET_META = "_meta"

# Above the optional texts of a project workbook's text sheet.
REPORT_TEXT_NOTE = "以下文字用于自评报告初稿（xltool report），可以不填：不填的部分在初稿中留出“【请补充：……】”，由单位补写。"



# Layout 3: the 二级 options of each 一级, a column of the lists sheet under a defined name: this
# prefix and the 一级's name (二级_产出指标), reached from a row's 一级 cell with INDIRECT.
LEVEL2_NAME_PREFIX = "二级_"
# Characters a defined name may hold in Excel, WPS and LibreOffice alike (conservatively: ASCII
# letters, digits, _ and ., and CJK ideographs); a name starting with the CJK prefix can never be
# read as a cell reference.
_NAME_TEXT = re.compile(r"[A-Za-z0-9_.\u3400-\u4dbf\u4e00-\u9fff]+")


def level2_list_name(category: str) -> str:
    """The defined name of one 一级's 二级 options on the lists sheet: 二级_产出指标."""
    return LEVEL2_NAME_PREFIX + category


@lru_cache(maxsize=64)
def dependent_level2(framework: Framework, layout: int) -> bool:
    """Whether the 二级 dropdown depends on the 一级: from layout 3, when every 一级 of the
    framework makes a valid defined name (otherwise the framework keeps the full list)."""
    return layout >= 3 and bool(framework.categories) and all(
        len(level2_list_name(c.name)) <= 255 and _NAME_TEXT.fullmatch(c.name) and c.subcategories for c in framework.categories
    )


def list_name(name: str) -> bool:
    """A defined name of the lists sheet (layout 3's 二级 per 一级): it feeds a dropdown only, and
    the checker never reads through it, so one deleted or moved is no finding (the rules check the
    pairs themselves: LEVEL2_MISMATCH)."""
    return name.startswith(LEVEL2_NAME_PREFIX)


def optional_name(name: str) -> bool:
    """The report texts of a project workbook (BACKGROUND, PROJ2_IMPLEMENTATION, …): added after
    returns were already made, so a workbook without their names is read as if they were blank."""
    return name in ("BACKGROUND", "ANALYSIS", "CONCLUSION") or (name.startswith("PROJ") and name.endswith("_IMPLEMENTATION"))


VISIBLE_SHEETS = (SHEET_GUIDE, SHEET_INFO, SHEET_BUDGET, SHEET_INDICATORS, SHEET_SCORES, SHEET_TEXT)


# ---------------------------------------------------------------- plan data


@dataclass(frozen=True)
class Validation:
    kind: str  # decimal | list | length | date | custom
    title: str
    message: str
    error: str
    minimum: object = None
    maximum: object = None
    source: object = None  # list values, or a range / formula text
    strict: bool = True  # False: a list that also allows other values (warning only)
    # the source is a formula relative to its cell (a list that depends on the row): consecutive
    # cells with the same words share one rule, written with the first cell's formula
    relative: bool = False


@dataclass(frozen=True)
class CellSpec:
    sheet: str
    row: int
    col: int
    role: str  # label | prefill | input | formula
    value: object = None  # text, number, or formula text starting with "="
    style: str = "label"
    validation: Validation | None = None
    span: int = 1  # merged across this many columns
    field: str = ""  # what the input is, for messages: "全年执行数"
    rows: int = 1  # merged down this many rows (the print form's section labels)

    @property
    def locked(self) -> bool:
        return self.role != "input"

    @property
    def ref(self) -> str:
        return a1(self.row, self.col)


@dataclass(frozen=True)
class NameSpec:
    name: str
    sheet: str
    row: int
    col: int
    last_row: int

    @property
    def ref(self) -> str:
        start = a1(self.row, self.col, absolute=True)
        if self.last_row == self.row:
            return f"{quote_sheet(self.sheet)}!{start}"
        return f"{quote_sheet(self.sheet)}!{start}:{a1(self.last_row, self.col, absolute=True)}"


@dataclass(frozen=True)
class ConditionalFormat:
    sheet: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int
    formula: str
    style: str


@dataclass
class SheetSpec:
    name: str
    widths: dict[int, float] = field(default_factory=dict)
    freeze: tuple[int, int] | None = None
    repeat_rows: tuple[int, int] | None = None
    landscape: bool = False
    state: str = "visible"  # visible | hidden | very_hidden
    protect: bool = True
    tab_color: str | None = None
    one_page: bool = False  # printed on exactly one page (the print form), else fit to width
    heights: dict[int, float] = field(default_factory=dict)  # fixed row heights (points)


@dataclass
class Plan:
    framework: Framework
    unit: UnitInfo
    sheets: list[SheetSpec]
    cells: list[CellSpec]
    names: dict[str, NameSpec]
    conditional: list[ConditionalFormat]
    meta: dict[str, str]
    blocks: int  # project or goal blocks

    def locked_cells(self):
        return [c for c in self.cells if c.locked and c.value is not None and c.sheet not in (SHEET_META,)]

    def input_cells(self):
        return [c for c in self.cells if c.role == "input"]


# ---------------------------------------------------------------- A1 helpers


def col_number(letters: str) -> int:
    """"A" → 0, "AA" → 26: the inverse of col_letter (upper-case letters only)."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@lru_cache(maxsize=65536)
def a1(row: int, col: int, absolute: bool = False) -> str:
    if absolute:
        return f"${col_letter(col)}${row + 1}"
    return f"{col_letter(col)}{row + 1}"


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def ref(sheet: str, row: int, col: int) -> str:
    """An absolute reference to a cell on another sheet, as written in formulas."""
    return f"{quote_sheet(sheet)}!{a1(row, col, absolute=True)}"


def _effective(c: dict) -> dict:
    """Cell references of an indicator row, with "target" the target that scores: 年度指标值
    （调整后） when given, else 年初指标值 (kept as "initial")."""
    out = dict(c)
    out["initial"] = c["target"]
    if "adjusted" in c:
        out["target"] = f'IF(LEN(TRIM({c["adjusted"]}))=0,{c["target"]},{c["adjusted"]})'
    return out


def project_block_row(framework: Framework, p: int) -> int:
    """First row (0-based) of project p's block on the 预算执行 sheet: its 项目名称 row."""
    return 2 + (p - 1) * (len(framework.fund_sources) + 7)


def indicator_block_row(framework: Framework, b: int) -> int:
    """First row (0-based) of block b (a project, or a unit-wide goal) on the 绩效指标 sheet: its title row."""
    return 2 + (b - 1) * (framework.indicator_rows + 3)


def _rate_formula(budget: str, executed: str) -> str:
    return f'=IF(AND(ISNUMBER({budget}),ISNUMBER({executed})),IF({budget}>0,ROUND({executed}/{budget},4),""),"")'


def _num(value: Decimal | int) -> str:
    """A number as formula text, without exponent or trailing zeros."""
    text = format(Decimal(value).normalize(), "f")
    return text


# ---------------------------------------------------------------- indicator columns

# (field, header, width, style). Department goals have no points / scores: their rows are judged
# met or not, and the unit's score comes from the criteria table.
_INDICATOR_COLUMNS = (
    ("level1", "一级指标", 11, "input_text"),
    ("level2", "二级指标", 16, "input_text"),
    ("name", "三级指标（指标名称）", 30, "input_wrap"),
    ("sign", "计算符号", 8, "input_center"),
    ("target", "年初指标值", 11, "input_number"),
    ("adjusted", "年度指标值\n（调整后）", 11, "input_number"),
    ("unit", "计量单位", 8, "input_center"),
    ("actual", "实际完成值", 11, "input_number"),
    ("band", "定性评价档次\n（仅定性指标）", 18, "input_wrap"),
    ("points", "分值", 7, "input_score"),
    ("score", "自评得分", 8, "input_score"),
    ("calc", "计算得分", 8, "formula_score"),
    ("status", "完成情况", 9, "formula_center"),
    ("reason", "偏差原因分析及改进措施\n（标红时必填）", 36, "input_wrap"),
    ("adjust_note", "调整说明\n（调整指标值时必填）", 24, "input_wrap"),
)
_DEPARTMENT_SKIP = ("points", "score", "calc")


def indicator_columns(kind: str) -> list[tuple[str, str, float, str]]:
    cols = [c for c in _INDICATOR_COLUMNS if kind == "project" or c[0] not in _DEPARTMENT_SKIP]
    return cols


def column_name(prefix: str, block: int, key: str) -> str:
    """Defined name of one indicator column of a block: PROJ1_TARGET, GOAL3_INDICATOR."""
    return f"{prefix}{block}_{'INDICATOR' if key == 'name' else key.upper()}"


FIELD_LABELS = {
    "level1": "一级指标",
    "level2": "二级指标",
    "name": "三级指标名称",
    "sign": "计算符号",
    "target": "年初指标值",
    "adjusted": "年度指标值（调整后）",
    "unit": "计量单位",
    "actual": "实际完成值",
    "band": "定性评价档次",
    "points": "分值",
    "score": "自评得分",
    "calc": "计算得分",
    "status": "完成情况",
    "reason": "偏差原因分析及改进措施",
    "adjust_note": "调整说明",
}


# ---------------------------------------------------------------- the builder


class _Builder:
    def __init__(self, framework: Framework, unit: UnitInfo):
        self.fw = framework
        self.unit = unit
        self.sheets: list[SheetSpec] = []
        self.cells: list[CellSpec] = []
        self.names: dict[str, NameSpec] = {}
        self.conditional: list[ConditionalFormat] = []
        self.lists: dict[str, str] = {}  # list key → range reference on the lists sheet

    # -- primitives
    def sheet(self, name: str, **kw) -> SheetSpec:
        spec = SheetSpec(name, **kw)
        self.sheets.append(spec)
        return spec

    def put(self, sheet, row, col, role, value=None, style="label", validation=None, span=1, field="", name=None, rows=1):
        if isinstance(value, str) and not value.strip():
            # Never write an empty text: Excel, LibreOffice, Gnumeric and openpyxl save "" as a
            # blank cell, and blank and "" must be the same thing everywhere.
            value = None
        cell = CellSpec(sheet, row, col, role, value, style, validation, span, field, rows)
        self.cells.append(cell)
        if name:
            self.names[name] = NameSpec(name, sheet, row, col, row)
        return cell

    def name_range(self, name, sheet, row, col, last_row):
        self.names[name] = NameSpec(name, sheet, row, col, last_row)

    # -- validations
    def v_money(self, what):
        return Validation(
            "decimal", "请填写金额", f"请填写{what}，单位万元，最多两位小数，不能为负数。",
            f"{what}必须是 0 到 {MONEY_MAX:,} 之间的数字（万元），不能填文字或负数。", 0, MONEY_MAX,
        )

    def v_number(self, what, maximum=NUMBER_MAX):
        return Validation(
            "decimal", f"请填写{what}"[:32], "只填数字，不要填单位或“以上”“低于”等文字：比较关系请在“计算符号”列选择，单位填在“计量单位”列。百分比填百分数，如 95% 填 95。",
            f"{what}必须是数字（不能是文字、不能为负数）。如“1万以上”请选计算符号 ≥ 并填 10000。", 0, maximum,
        )

    def v_text(self, what, maximum=None):
        maximum = maximum or self.fw.text_max_length
        return Validation("length", f"请填写{what}"[:32], f"请填写{what}，不超过 {maximum} 个字。", f"{what}不能超过 {maximum} 个字，请精简后再填。", 0, maximum)

    def v_list(self, key, what, strict=True, extra=""):
        return self.v_choices(what, self.lists[key], strict, extra)

    def v_choices(self, what, source, strict=True, extra=""):
        """A dropdown of `source`: a range on the lists sheet, or the options themselves."""
        return Validation(
            "list", f"请选择{what}"[:32], f"请从下拉列表中选择{what}。{extra}".strip(),
            f"{what}只能从下拉列表中选择。" if strict else f"建议从下拉列表中选择{what}，确需其他值可以继续。",
            source=source, strict=strict,
        )

    # -- the workbook
    def build(self) -> Plan:
        fw, unit = self.fw, self.unit
        self.build_lists()
        self.build_guide()
        self.build_info()
        if fw.kind == "project":
            blocks = self.build_project_budget()
            self.build_indicator_blocks(blocks, "PROJ")
            self.build_project_scores(blocks)
        else:
            blocks = fw.goals
            self.build_department_budget()
            self.build_indicator_blocks(blocks, "GOAL")
            self.build_criteria()
        self.build_text()
        self.build_forms(blocks)
        meta = self.build_meta()
        forms = tuple(s.name for s in self.sheets if is_form_sheet(s.name))
        order = {n: i for i, n in enumerate(VISIBLE_SHEETS + forms + (SHEET_LISTS, SHEET_META))}
        self.sheets.sort(key=lambda s: order[s.name])
        return Plan(fw, unit, self.sheets, self.cells, self.names, self.conditional, meta, blocks)

    def _extend(self, section) -> None:
        cells, names, conditional = section
        self.cells.extend(cells)
        self.names.update(names)
        self.conditional.extend(conditional)

    def build_lists(self):
        cells, lists, names = _lists_section(self.fw, dependent_level2(self.fw, self.unit.layout))
        self.sheet(SHEET_LISTS, state="hidden", widths={0: 10, 1: 14, 2: 24, 3: 34, 4: 8, 5: 8})
        self.cells.extend(cells)
        self.lists.update(lists)
        self.names.update(names)

    def put_lists(self, columns: dict[str, list]) -> None:
        """Each list a column of the hidden lists sheet, and its range under its key in self.lists."""
        for col, (key, values) in enumerate(columns.items()):
            for row, value in enumerate(values):
                self.put(SHEET_LISTS, row, col, "label", value, "list")
            self.lists[key] = f"={quote_sheet(SHEET_LISTS)}!{a1(0, col, True)}:{a1(len(values) - 1, col, True)}"

    def _build_lists_uncached(self, dependent: bool = False):
        fw = self.fw
        self.sheet(SHEET_LISTS, state="hidden", widths={0: 10, 1: 14, 2: 24, 3: 34, 4: 8, 5: 8})
        columns = {
            "sign": list(("≥", ">", "≤", "<", "=", "定性")) + ([NOT_APPLICABLE] if fw.not_applicable else []),
            "level1": list(fw.category_names),
            "level2": list(fw.all_subcategories),
            "band": [b.label for b in fw.bands],
            "grade": [g.label for g in fw.grades],
            "unit": list(fw.units) or ["%"],
        }
        if dependent:  # layout 3: each 一级's 二级 options, a column under its own defined name
            columns.update({level2_list_name(c.name): list(c.subcategories) for c in fw.categories})
        self.put_lists(columns)
        for c in fw.categories if dependent else ():
            key = level2_list_name(c.name)
            self.name_range(key, SHEET_LISTS, 0, list(columns).index(key), len(c.subcategories) - 1)

    def build_guide(self):
        fw, unit = self.fw, self.unit
        s = self.sheet(SHEET_GUIDE, widths={0: 4, 1: 100}, tab_color="#808080")
        kind_text = "项目支出绩效自评" if fw.kind == "project" else "部门（单位）整体支出绩效自评"
        self.put(s.name, 0, 0, "label", f"{unit.year}年度{kind_text} 填表说明", "title", span=2)
        lines = [
            f"本工作簿是{unit.name}{unit.year}年度{fw.title}，由财政（主管）部门统一生成，请在 Excel、WPS 或 LibreOffice 中填写后原样交回。",
            "浅黄色单元格是需要填写的内容；灰色单元格是财政已掌握的数据或固定的表格内容，已锁定，不能修改。浅蓝色单元格是自动计算的结果。",
            "请保持 .xlsx 格式保存，不要另存为 .xls、.et、.ods 或 .csv；文件名可以修改，检查以工作簿内部信息为准。",
            "不要插入或删除行列、不要重命名或删除工作表、不要撤销工作表保护：表格结构改动后，检查程序会判定为不合格，需要重新填写。",
            "金额单位为万元，保留两位小数。指标值和实际完成值只填数字：“1万以上”请在“计算符号”选 ≥ 并在“指标值”填 10000；“低于5%”选 < 并填 5；百分比填百分数（95% 填 95）。",
            "一个单元格只写一个指标：一行只填一项指标，多项指标请分行填写。",
            "定性指标的“计算符号”选“定性”，在“定性评价档次”中选择档次，并在该档次的分值区间内自评打分（达成 80%～100%，部分达成 60%～80%，未达成 60% 以下）。",
            self._reason_guide(),
        ]
        if fw.kind == "project":
            lines.append(
                f"项目得分 = 预算执行率得分（{_num(fw.execution_points)} 分，执行率×分值，超过 100% 按 100% 计）"
                + "".join(f" + {c.name}（{_num(c.points)} 分）" for c in fw.categories)
                + "。同一一级指标下各三级指标分值之和必须等于该一级指标分值。自评得分超过分值或与计算得分不一致时，检查程序会指出。"
            )
        else:
            lines.append(
                "评分表中每个三级指标的分值已锁定；每个指标都要填写扣分（没有扣分填 0，不能空着），有扣分的写明扣分原因。准则得分 = 准则分值 − 扣分合计；扣分填齐之前不显示得分和等级。"
                "“评分结果”中的自评得分和自评等级请如实填写，检查程序会与计算结果核对。"
            )
        grades = "；".join(f"{g.label}：{_num(g.minimum)} 分及以上" for g in fw.grades if g.minimum > 0)
        lines.append(f"评价等级：{grades}；其余为{fw.grades[-1].label}。")
        lines.append(f"本模板依据：{fw.basis or fw.title}（框架 {fw.name} 版本 {fw.version}）。")
        for i, text in enumerate(lines, start=1):
            self.put(s.name, i + 1, 0, "label", i, "guide_number")
            self.put(s.name, i + 1, 1, "label", text, "guide")

    def _reason_guide(self) -> str:
        fw = self.fw
        if fw.kind == "project" and fw.reason_rule == "below_points":
            when = "计算得分低于分值的指标（未完成的目标、定性指标未得满分、反向指标超出指标值）"
        else:
            when = "未完成的指标（完成情况显示“未达成”）"
        extra = f"；实际完成值超过指标值 {_num(fw.reason_above_percent)}% 及以上的也要说明" if fw.reason_above_percent is not None else ""
        over = (
            f"实际完成值达到指标值 {_num(fw.over_achievement_percent)}% 及以上的（超额完成，标黄），指标值可能定得偏低，请说明；"
            "如按实际情况调低自评得分，须写明理由。"
            if fw.over_achievement_percent is not None and fw.kind == "project" else ""
        )
        return (
            f"{when}必须在“偏差原因分析及改进措施”中说明原因和改进措施{extra}（需要说明而未填写的单元格显示为红色）。{over}"
            "预算执行率超过 100% 或明显偏低时，请在预算执行表中说明。"
        )

    def build_info(self):
        unit, fw = self.unit, self.fw
        s = self.sheet(SHEET_INFO, widths={0: 18, 1: 40, 2: 40})
        kind_text = "项目支出" if fw.kind == "project" else "部门（单位）整体支出"
        self.put(s.name, 0, 0, "label", f"{unit.year}年度{fw.title}", "title", span=3)
        rows = [
            ("单位名称", "prefill", unit.name, "INFO_UNIT", None),
            ("单位编码", "prefill", unit.code, "INFO_CODE", None),
            ("评价年度", "prefill", unit.year, "INFO_YEAR", None),
            ("评价类型", "prefill", kind_text, "INFO_KIND", None),
            ("填报人", "input", None, "INFO_CONTACT", self.v_text("填报人姓名", 50)),
            ("联系电话", "input", None, "INFO_PHONE", self.v_text("联系电话", 30)),
            ("填报日期", "input", None, "INFO_DATE", Validation("date", "请填写填报日期", "请填写日期，如 2022-06-30。", "请填写有效日期（2000 年到 2100 年之间），如 2022-06-30。", "2000-01-01", "2100-12-31")),
            # 主管部门: from the roster (locked) or typed by the archive; printed on the 自评表
            ("主管部门", "prefill" if unit.department else "input", unit.department or None, "INFO_DEPARTMENT", None if unit.department else self.v_text("主管部门名称", 100)),
        ]
        for i, (label, role, value, name, validation) in enumerate(rows, start=2):
            self.put(s.name, i, 0, "label", label, "label_bold")
            style = {"prefill": "prefill", "input": {"INFO_DATE": "input_date", "INFO_PHONE": "input_code"}.get(name, "input_text")}[role]
            self.put(s.name, i, 1, role, value, style, validation, field=label, name=name)
        self.put(s.name, 10, 0, "label", "说明", "label_bold")
        self.put(s.name, 10, 1, "label", "灰色为财政已填并锁定的信息，如有错误请与财政（主管）部门联系，不要自行修改。", "note", span=2)

    def _prefill_or_input(self, sheet, row, col, value, name, what, money=True):
        if value is not None:
            return self.put(sheet, row, col, "prefill", value, "prefill_money" if money else "prefill", field=what, name=name)
        validation = self.v_money(what) if money else self.v_text(what, 100)
        return self.put(sheet, row, col, "input", None, "input_money" if money else "input_wrap", validation, field=what, name=name)

    def build_project_budget(self) -> int:
        """Per project, the official form's first blocks: 项目名称, 项目资金 (年度资金总额 and its
        其中 rows: 年初预算数, 全年预算数, 全年执行数, 分值, 执行率, 得分) and 年度总体目标."""
        fw, unit = self.fw, self.unit
        s = self.sheet(SHEET_BUDGET, widths={0: 8, 1: 24, 2: 16, 3: 16, 4: 16, 5: 10, 6: 14, 7: 14}, freeze=(2, 0), repeat_rows=(0, 1))
        low = _num(fw.low_execution_percent)
        self.put(s.name, 0, 0, "label", f"{unit.name} {unit.year}年度项目资金及年度总体目标", "title", span=8)
        self.put(
            s.name, 1, 0, "label",
            f"金额单位：万元。年度资金总额应等于其中各项之和；预算执行率 = 全年执行数 ÷ 全年预算数；执行率得分 = 执行率（超过 100% 按 100% 计）× 分值。"
            f"执行率低于 {low}% 或超过 100% 时必须填写执行情况说明。",
            "note", span=8,
        )
        projects = list(unit.projects) or [None] * fw.blank_projects
        for p, project in enumerate(projects, start=1):
            self._project_money_block(p, project)
        return len(projects)

    def _project_money_block(self, p: int, project) -> None:
        fw = self.fw
        sheet = SHEET_BUDGET
        r0 = project_block_row(fw, p)
        pre = f"PROJ{p}_"
        self.put(sheet, r0, 0, "label", f"项目 {p}", "block_title")
        self.put(sheet, r0, 1, "label", "项目名称", "label_bold")
        if project is not None:
            self.put(sheet, r0, 2, "prefill", project.name, "prefill", span=6, field="项目名称", name=pre + "NAME")
        else:
            self.put(sheet, r0, 2, "input", None, "input_wrap", self.v_text("项目名称", 100), span=6, field="项目名称", name=pre + "NAME")
        headers = ["项目资金（万元）", "年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（B/A）", "得分"]
        for col, text in enumerate(headers, start=1):
            self.put(sheet, r0 + 1, col, "label", text, "header")
        # 年度资金总额: its figures are typed (as on the real forms); the checker compares them with
        # the sum of the 其中 rows (FUNDS_SUM_MISMATCH) and the total turns red while they differ.
        r = total = r0 + 2
        self.put(sheet, r, 1, "label", "年度资金总额", "label_bold")
        initial, budget, executed = (None, None, None) if project is None else (project.initial, project.budget, project.executed)
        self._prefill_or_input(sheet, r, 2, initial, pre + "INITIAL", "年初预算数")
        self._prefill_or_input(sheet, r, 3, budget, pre + "BUDGET", "全年预算数")
        self._prefill_or_input(sheet, r, 4, executed, pre + "EXECUTED", "全年执行数")
        self.put(sheet, r, 5, "label", fw.execution_points, "prefill_score")
        self.put(sheet, r, 6, "formula", _rate_formula(a1(r, 3), a1(r, 4)), "formula_percent", name=pre + "RATE")
        rc = a1(r, 6)
        score = f'=IF(ISNUMBER({rc}),ROUND(MIN(MAX({rc},0),1)*{_num(fw.execution_points)},2),"")'
        self.put(sheet, r, 7, "formula", score, "formula_score", name=pre + "EXEC_SCORE")
        n = len(fw.fund_sources)
        first, last = r + 1, r + n
        for col in (2, 3, 4):
            letter = col_letter(col)
            self.conditional.append(ConditionalFormat(
                sheet, r, col, r, col, f"=ROUND(N(${letter}${r + 1}),2)<>ROUND(SUM(${letter}${first + 1}:${letter}${last + 1}),2)", "alert",
            ))
        for k, source in enumerate(fw.fund_sources, start=1):
            r = r0 + 2 + k
            src = f"{pre}SRC{k}_"
            self.put(sheet, r, 1, "label", ("其中：" if k == 1 else "") + source, "label")
            figures = project.source(source) if project is not None else (None, None, None)
            for col, key, what, value in zip((2, 3, 4), ("INITIAL", "BUDGET", "EXECUTED"), ("年初预算数", "全年预算数", "全年执行数"), figures):
                self._prefill_or_input(sheet, r, col, value, src + key, f"{source}{what}")
            self.put(sheet, r, 5, "label", "—", "label_center")
            self.put(sheet, r, 6, "formula", _rate_formula(a1(r, 3), a1(r, 4)), "formula_percent", name=src + "RATE")
            self.put(sheet, r, 7, "label", "—", "label_center")
        # 执行情况说明: required (red) while the rate is above 100% or below low_execution_percent
        r = r0 + 3 + n
        low = _num(fw.low_execution_percent)
        self.put(sheet, r, 1, "label", f"执行情况说明\n（执行率低于 {low}% 或超过 100% 时必填）", "label_bold")
        self.put(sheet, r, 2, "input", None, "input_note", self.v_text("执行情况说明"), span=6, field="执行情况说明", name=pre + "NOTE")
        rate = f"${col_letter(6)}${total + 1}"
        self.conditional.append(ConditionalFormat(
            sheet, r, 2, r, 2, f"=AND(ISNUMBER({rate}),OR({rate}>1,{rate}<{_num(fw.low_execution_percent / 100)}),LEN(TRIM($C${r + 1}))=0)", "alert",
        ))
        r += 1
        self.put(sheet, r, 1, "label", "年度总体目标", "label_bold")
        self.put(sheet, r, 2, "label", "预期目标", "header", span=3)
        self.put(sheet, r, 5, "label", "实际完成情况", "header", span=3)
        r += 1
        plan = project.goal_plan if project is not None else None
        if plan:
            self.put(sheet, r, 2, "prefill", plan, "prefill_long", span=3, field="预期目标", name=pre + "GOAL_PLAN")
        else:
            self.put(sheet, r, 2, "input", None, "input_long", self.v_text("预期目标"), span=3, field="预期目标", name=pre + "GOAL_PLAN")
        self.put(sheet, r, 5, "input", None, "input_long", self.v_text("实际完成情况"), span=3, field="实际完成情况", name=pre + "GOAL_DONE")

    def build_department_budget(self):
        unit = self.unit
        s = self.sheet(SHEET_BUDGET, widths={0: 30, 1: 16, 2: 60})
        self.put(s.name, 0, 0, "label", f"{unit.name} {unit.year}年度整体支出预算执行情况", "title", span=3)
        self.put(s.name, 1, 0, "label", "项目", "header")
        self.put(s.name, 1, 1, "label", "金额（万元）/比率", "header")
        self.put(s.name, 1, 2, "label", "说明", "header")
        rows = [
            ("年初预算数（万元）", unit.initial_budget, "BUDGET_INITIAL"),
            ("调整预算数（万元）", unit.adjusted_budget, "BUDGET_ADJUSTED"),
            ("决算数（万元）", unit.final_accounts, "BUDGET_FINAL"),
        ]
        for i, (label, value, name) in enumerate(rows, start=2):
            self.put(s.name, i, 0, "label", label, "label_bold")
            self._prefill_or_input(s.name, i, 1, value, name, label.split("（")[0])
            self.put(s.name, i, 2, "label", "财政已填，锁定" if value is not None else "请填写", "note")
        b_init, b_adj, b_final = a1(2, 1), a1(3, 1), a1(4, 1)
        self.put(s.name, 5, 0, "label", "整体支出预算执行率", "label_bold")
        self.put(s.name, 5, 1, "formula", f'=IF(AND(ISNUMBER({b_adj}),ISNUMBER({b_final})),IF({b_adj}>0,ROUND({b_final}/{b_adj},4),""),"")', "formula_percent", name="RATE_EXECUTION")
        self.put(s.name, 5, 2, "label", "= 决算数 ÷ 调整预算数", "note")
        self.put(s.name, 6, 0, "label", "年初预算完成率", "label_bold")
        self.put(s.name, 6, 1, "formula", f'=IF(AND(ISNUMBER({b_init}),ISNUMBER({b_final})),IF({b_init}>0,ROUND({b_final}/{b_init},4),""),"")', "formula_percent", name="RATE_INITIAL")
        self.put(s.name, 6, 2, "label", "= 决算数 ÷ 年初预算数", "note")
        self.put(s.name, 7, 0, "label", f"执行情况说明\n（执行率超过 100% 或低于 {_num(self.fw.low_execution_percent)}% 时必填）", "label_bold")
        self.put(s.name, 7, 1, "input", None, "input_wrap", self.v_text("执行情况说明"), span=2, field="执行情况说明", name="BUDGET_NOTE")
        low = _num(self.fw.low_execution_percent / 100)  # as the checker: above 100% or below the framework's threshold
        self.conditional.append(ConditionalFormat(s.name, 7, 1, 7, 1, f"=AND(ISNUMBER($B$6),OR($B$6>1,$B$6<{low}),LEN(TRIM($B$8))=0)", "alert"))
        self.build_measures()

    def build_measures(self):
        """The inputs of the 53号 indicators the framework scores by formula (在职人员数, 编制数 …)
        and each indicator's value; the scoring table's deduction is then a formula on it."""
        measured = measured_indicators(self.fw)
        if not measured:
            return
        sheet = SHEET_BUDGET
        self.put(sheet, MEASURE_FIRST_ROW - 1, 0, "label", "定量指标（评分表中这些指标的扣分按公式计算，请填写数据）", "block_title", span=3)
        for j, (_i, ind) in enumerate(measured, start=1):
            m = ind.measure
            a_row, b_row, v_row = measure_rows(j)
            for row, label, key in ((a_row, m.inputs[0], "A"), (b_row, m.inputs[1], "B")):
                self.put(sheet, row, 0, "label", label, "label_bold")
                self.put(sheet, row, 1, "input", None, "input_number", self.v_number(label), field=label, name=f"MEASURE{j}_{key}")
                self.put(sheet, row, 2, "label", f"用于计算“{ind.name}”", "note")
            a, b = a1(a_row, 1), a1(b_row, 1)
            top = a if m.formula == "ratio" else f"({a}-{b})"
            self.put(sheet, v_row, 0, "label", f"{ind.name}（%）", "label_bold")
            self.put(sheet, v_row, 1, "formula", f'=IF(AND(ISNUMBER({a}),ISNUMBER({b})),IF({b}>0,ROUND({top}/{b}*100,2),""),"")', "formula_score", name=f"MEASURE{j}_VALUE")
            self.put(sheet, v_row, 2, "label", measure_rule_text(ind), "note")

    def build_indicator_blocks(self, blocks: int, prefix: str):
        fw = self.fw
        columns = indicator_columns(fw.kind)
        col_of = {key: i for i, (key, *_rest) in enumerate(columns)}
        s = self.sheet(
            SHEET_INDICATORS, widths={i: c[2] for i, c in enumerate(columns)}, landscape=True, freeze=(1, 3), repeat_rows=(0, 0)
        )
        title = "项目绩效指标完成情况" if fw.kind == "project" else "年度绩效目标完成情况"
        self.put(s.name, 0, 0, "label", f"{self.unit.name} {self.unit.year}年度{title}", "title", span=len(columns))
        for b in range(1, blocks + 1):
            cells, names, conditional = _indicator_block(fw, b, prefix, self.unit.layout)
            self.cells.extend(cells)
            self.names.update(names)
            self.conditional.extend(conditional)
        self._approved_rows(prefix, col_of)

    def _approved_blocks(self) -> list[tuple[int, str, tuple]]:
        """(block number, goal name or "", approved indicators) of the blocks finance approved."""
        if self.fw.kind == "project":
            return [(b, "", p.approved) for b, p in enumerate(self.unit.projects, start=1) if p.approved]
        return [(b, name, rows) for b, (name, rows) in enumerate(self.unit.goals, start=1) if rows]

    def _approved_rows(self, prefix: str, col_of: dict[str, int]) -> None:
        """The approved indicators pre-filled and locked (role prefill, grey): 一级/二级/三级, 计算符号,
        年初指标值 (a 定性 row's approved wording, when it has one), 计量单位, 分值 and 调整后指标值 when
        finance gave one. Staff fill the rest of the
        row (实际完成值, 自评得分, 偏差原因, an adjustment with its 调整说明). The block's other rows stay
        inputs: the points already add up to the framework's, so the checker refuses a scored extra
        row, and a unit-wide goal may carry indicators finance did not list."""
        approved = self._approved_blocks()
        if not approved:
            return
        replace: dict[tuple[int, int], CellSpec] = {}
        for b, goal_name, rows in approved:
            first = indicator_block_row(self.fw, b) + 2
            if goal_name:
                replace[(first - 2, 2)] = CellSpec(
                    SHEET_INDICATORS, first - 2, 2, "prefill", goal_name, "prefill", None, len(col_of) - 2, "年度目标名称"
                )
            for i, ind in enumerate(rows):
                r = first + i
                values = {
                    "level1": ind.level1, "level2": ind.level2, "name": ind.name, "sign": ind.sign,
                    "target": ind.shown_target, "unit": ind.unit, "points": ind.points, "adjusted": ind.adjusted,
                }
                for key, value in values.items():
                    if key not in col_of or (key == "adjusted" and value is None):
                        continue
                    if isinstance(value, str) and not value.strip():
                        value = None
                    # a 定性 row's approved wording wraps in the narrow 年初指标值 column
                    style = "prefill_score" if key == "points" else "prefill_wrap" if key == "target" and isinstance(value, str) else "prefill"
                    replace[(r, col_of[key])] = CellSpec(SHEET_INDICATORS, r, col_of[key], "prefill", value, style, None, 1, FIELD_LABELS[key])
        self.cells = [
            replace.pop((c.row, c.col)) if c.sheet == SHEET_INDICATORS and (c.row, c.col) in replace else c for c in self.cells
        ]

    def indicator_block(self, b: int, prefix: str):
        """Block b of the indicator sheet: the same for every archive, hence cached (see
        _indicator_block): it is most of a plan, and the reader builds a plan per file."""
        fw = self.fw
        columns = indicator_columns(fw.kind)
        col_of = {key: i for i, (key, *_rest) in enumerate(columns)}
        sheet = SHEET_INDICATORS
        rows = fw.indicator_rows
        row = indicator_block_row(fw, b)
        pre = f"{prefix}{b}_"
        if fw.kind == "project":
            self.put(sheet, row, 0, "label", f"项目 {b}", "block_title", span=2)
            name_ref = ref(SHEET_BUDGET, project_block_row(fw, b), 2)
            self.put(sheet, row, 2, "formula", f'=IF(LEN({name_ref})=0,"（请先在预算执行表填写项目名称）",{name_ref})', "block_formula", span=len(columns) - 2)
        else:
            self.put(sheet, row, 0, "label", f"年度目标 {b}", "block_title", span=2)
            self.put(sheet, row, 2, "input", None, "input_block", self.v_text("年度目标名称", 200), span=len(columns) - 2, field="年度目标名称", name=pre + "NAME")
        row += 1
        for col, (key, header, _w, _style) in enumerate(columns):
            self.put(sheet, row, col, "label", header, "header")
        first = row + 1
        last = first + rows - 1
        for r in range(first, last + 1):
            self._indicator_row(sheet, r, columns, col_of)
        for col, (key, *_rest) in enumerate(columns):
            self.name_range(column_name(prefix, b, key), sheet, first, col, last)
        # A row that needs a reason (by the framework's rule, as the checker) is red while it has none.
        status = col_letter(col_of["status"])
        reason = col_letter(col_of["reason"])
        c = _effective({key: f"${col_letter(col)}{first + 1}" for key, col in col_of.items()})
        self.conditional.append(
            ConditionalFormat(sheet, first, col_of["reason"], last, col_of["reason"], f"=AND({self._reason_formula(c)},LEN(TRIM(${reason}{first + 1}))=0)", "alert")
        )
        self.conditional.append(ConditionalFormat(sheet, first, col_of["status"], last, col_of["status"], f'=${status}{first + 1}="未达成"', "warn"))
        # 调整说明: required (red) while an adjusted target differs from the year-start one
        e, f, n = c["initial"], c["adjusted"], c["adjust_note"]
        self.conditional.append(ConditionalFormat(
            sheet, first, col_of["adjust_note"], last, col_of["adjust_note"],
            f"=AND(LEN(TRIM({f}))>0,OR(NOT(ISNUMBER({e})),NOT(ISNUMBER({f})),{f}<>{e}),LEN(TRIM({n}))=0)", "alert",
        ))
        over = self._over_formula(c)
        if over:  # over-achieved: the target may have been set too low
            self.conditional.append(ConditionalFormat(sheet, first, col_of["actual"], last, col_of["actual"], f"={over}", "warn"))

    def _indicator_row(self, sheet, r, columns, col_of):
        c = _effective({key: a1(r, col) for key, col in col_of.items()})
        for col, (key, header, _w, style) in enumerate(columns):
            if key in ("calc", "status"):
                formula = self._calc_formula(c) if key == "calc" else self._status_formula(c)
                self.put(sheet, r, col, "formula", formula, style)
                continue
            if key == "level2" and dependent_level2(self.fw, self.unit.layout):
                validation = self._level2_validation(c["level1"])
            elif key == "score":  # relative to its own row
                validation = Validation(
                    "custom", "请填写自评得分", "自评得分不能超过本行分值；定量指标按完成值计算，定性指标在所选档次的区间内打分。",
                    "自评得分必须是数字，且在 0 和本行分值之间。", source=f"=AND(ISNUMBER({c['score']}),{c['score']}>=0,{c['score']}<={c['points']})",
                )
            else:
                validation = self._column_validation(key)
            self.put(sheet, r, col, "input", None, style, validation, field=FIELD_LABELS[key])

    def _level2_validation(self, level1: str) -> Validation:
        """Layout 3: the 二级 options of the row's 一级 (its defined name on the lists sheet)."""
        return Validation(
            "list", "请选择二级指标", "请先选择一级指标，再从下拉列表中选择二级指标：列表只列出所选一级指标下的二级指标。",
            "二级指标只能从下拉列表中选择，且须属于本行的一级指标；请先选择一级指标。",
            source=f'=INDIRECT("{LEVEL2_NAME_PREFIX}"&${level1})',
            relative=True,
        )

    def _column_validation(self, key: str) -> Validation:
        """The same rule for every row of an indicator column: built once per workbook."""
        cache = self.__dict__.setdefault("_validations", {})
        if key not in cache:
            cache[key] = {
                "level1": lambda: self.v_list("level1", "一级指标"),
                "level2": lambda: self.v_list("level2", "二级指标", extra="请选择与一级指标对应的二级指标。"),
                "name": lambda: self.v_text("三级指标名称（一个单元格只写一个指标）", 200),
                "sign": lambda: self.v_list("sign", "计算符号", extra="≥ > 为正向指标，≤ < 为反向指标（如故障率），定性指标选“定性”。" + (
                    f"本年度不适用的指标选“{NOT_APPLICABLE}”（其分值不计，其余得分折算为百分制）。" if self.fw.not_applicable else "")),
                "target": lambda: self.v_number("年初指标值"),
                "adjusted": lambda: self.v_number("年度指标值（调整后）"),
                "adjust_note": lambda: self.v_text("调整说明"),
                "unit": lambda: self.v_list("unit", "计量单位", strict=False),
                "actual": lambda: self.v_number("实际完成值"),
                "band": lambda: self.v_list("band", "定性评价档次", extra="仅定性指标填写。"),
                "points": lambda: Validation("decimal", "请填写分值", "本指标的分值。同一一级指标下各指标分值之和应等于该一级指标分值。", "分值必须是 0 到 100 之间的数字。", 0, 100),
                "reason": lambda: self.v_text("偏差原因分析及改进措施"),
            }[key]()
        return cache[key]

    def _met_formula(self, c) -> str:
        d, e, g = c["sign"], c["target"], c["actual"]
        return (
            f'IF(OR({d}="≥",{d}=">"),OR({e}<=0,MAX({g},0)>={e}),'
            f'IF(OR({d}="≤",{d}="<"),MAX({g},0)<={e},'
            f'IF({e}=0,MAX({g},0)<=0,MAX({g},0)>={e})))'
        )

    def _status_formula(self, c) -> str:
        d, e, g, h = c["sign"], c["target"], c["actual"], c["band"]
        top = self.fw.bands[0].label
        body = (
            f'IF({d}="定性",IF(LEN({h})=0,"",IF({h}="{top}","达成","未达成")),'
            f'IF(AND(ISNUMBER({e}),ISNUMBER({g})),IF({self._met_formula(c)},"达成","未达成"),""))'
        )
        if self.fw.not_applicable:
            body = f'IF({d}="{NOT_APPLICABLE}","{NOT_APPLICABLE}",{body})'
        return f'=IF(LEN({d})=0,"",{body})'


    def _over_formula(self, c) -> str:
        """Over-achievement (B ≥ threshold% of A on a positive row) as a formula; "" when off."""
        pct = self.fw.over_achievement_percent
        if pct is None:
            return ""
        d, e, g = c["sign"], c["target"], c["actual"]
        # rounded at 6 places: 2-decimal figures compare exactly, as the checker's decimals do
        return f'AND(OR({d}="≥",{d}=">",{d}="="),ISNUMBER({e}),ISNUMBER({g}),{e}>0,ROUND({g}*100,6)>=ROUND({e}*{_num(pct)},6))'

    def _reason_formula(self, c) -> str:
        """True where a 偏差原因 is required, by the framework's rule (mirrors checks._reason_required)."""
        status = c["status"]
        if self.fw.kind == "project" and self.fw.reason_rule == "below_points":
            k, i = c["calc"], c["points"]
            needed = [f"AND(ISNUMBER({k}),ISNUMBER({i}),{k}<{i})"]
        else:
            needed = [f'{status}="未达成"']
        above = self.fw.reason_above_percent
        if above is not None:
            d, e, g = c["sign"], c["target"], c["actual"]
            needed.append(f'AND(OR({d}="≥",{d}=">",{d}="="),ISNUMBER({e}),ISNUMBER({g}),{e}>0,ROUND({g}*100,6)>=ROUND({e}*{_num(100 + above)},6))')
        return needed[0] if len(needed) == 1 else f"OR({','.join(needed)})"

    def _calc_formula(self, c) -> str:
        """The template's own indicator score, mirroring scoring.indicator_score and qualitative_score."""
        d, e, g, h, i, j = c["sign"], c["target"], c["actual"], c["band"], c["points"], c["score"]
        a = f"MAX({g},0)"
        # No cap by default (national rule); a framework may opt into points − 0.01 for a miss.
        if self.fw.score_cap == "points_minus_cent":
            miss = lambda x: f"MIN(ROUND({x},2),{i}-0.01)"  # noqa: E731
        else:
            miss = lambda x: f"ROUND({x},2)"  # noqa: E731
        positive = f"IF(OR({e}<=0,{a}>={e}),{i},{miss(f'{a}/{e}*{i}')})"
        if self.fw.reverse_rule == "linear":
            reverse_miss = miss(f"MAX(0,1-({a}-{e})/{e})*{i}")
        else:
            reverse_miss = miss(f"{e}/{a}*{i}")
        reverse = f"IF({a}<={e},{i},IF({e}<=0,0,{reverse_miss}))"
        equal = f"IF({e}=0,IF({a}<=0,{i},0),{positive})"
        computed = f'MAX(0,MIN({i},IF(OR({d}="≥",{d}=">"),{positive},IF(OR({d}="≤",{d}="<"),{reverse},{equal}))))'
        over = self._over_formula(c)
        if over:
            # An over-achieved row may be scored lower by hand, with a reason (the national system).
            m = c["reason"]
            computed = f'IF(AND({over},ISNUMBER({j}),LEN(TRIM({m}))>0),MIN(MAX(0,ROUND({j},2)),{computed}),{computed})'
        quantitative = f'IF(AND(ISNUMBER({e}),ISNUMBER({g})),{computed},"")'
        qualitative = '""'
        for band in reversed(self.fw.bands):
            low = f"ROUND({i}*{_num(band.low)},2)"
            high = f"ROUND({i}*{_num(band.high)},2)" + ("" if band.high_inclusive else "-0.01")
            qualitative = f'IF({h}="{band.label}",MEDIAN({low},{j},{high}),{qualitative})'
        qualitative = f'IF(ISNUMBER({j}),{qualitative},"")'
        scored = f'IF(OR(LEN({d})=0,NOT(ISNUMBER({i}))),"",IF({d}="定性",{qualitative},{quantitative}))'
        if self.fw.not_applicable:  # a row that does not apply shows so, and no sum counts it
            scored = f'IF({d}="{NOT_APPLICABLE}","{NOT_APPLICABLE}",{scored})'
        return "=" + scored

    def build_project_scores(self, blocks: int):
        fw = self.fw
        cats = fw.categories
        headers = ["序号", "项目名称", f"{fw.execution_name}得分\n（{_num(fw.execution_points)}分）"]
        headers += [f"{c.name}得分\n（{_num(c.points)}分）" for c in cats]
        if fw.not_applicable:
            headers += ["不适用指标\n分值", "得分合计\n（折算前）", "计算总分\n（折算为百分制）"]
        else:
            headers += ["计算总分"]
        headers += ["计算等级", "自评总分\n（请填写）", "自评等级\n（请选择）", "分值核对"]
        widths = {0: 6, 1: 28}
        widths.update({i: 12 for i in range(2, len(headers))})
        widths[len(headers) - 1] = 40
        s = self.sheet(SHEET_SCORES, widths=widths, landscape=True, freeze=(3, 2), repeat_rows=(0, 2))
        self.put(s.name, 0, 0, "label", f"{self.unit.name} {self.unit.year}年度项目自评得分", "title", span=len(headers))
        self.put(s.name, 1, 0, "label", "计算得分由表格按填报数据自动计算；请填写自评总分和自评等级，检查程序会与计算结果核对。", "note", span=len(headers))
        for col, text in enumerate(headers):
            self.put(s.name, 2, col, "label", text, "header")
        for p in range(1, blocks + 1):
            self._extend(_section(fw, "score_block", p, layout=self.unit.layout))

    def score_block(self, p: int):
        """Row p of the project score sheet: the same for every archive (cached by _section)."""
        fw = self.fw
        cats = fw.categories
        sheet = SHEET_SCORES
        ind_cols = {key: i for i, (key, *_r) in enumerate(indicator_columns("project"))}
        r = 2 + p
        name_ref = ref(SHEET_BUDGET, project_block_row(fw, p), 2)
        first, last = self._block_rows(p)
        rng = lambda key: f"{quote_sheet(SHEET_INDICATORS)}!{a1(first, ind_cols[key], True)}:{a1(last, ind_cols[key], True)}"  # noqa: E731
        empty = f"LEN({name_ref})=0"
        self.put(sheet, r, 0, "label", p, "label_center")
        self.put(sheet, r, 1, "formula", f'=IF({empty},"",{name_ref})', "formula_text")
        exec_ref = ref(SHEET_BUDGET, project_block_row(fw, p) + 2, 7)
        self.put(sheet, r, 2, "formula", f'=IF(OR({empty},NOT(ISNUMBER({exec_ref}))),"",{exec_ref})', "formula_score", name=f"PROJ{p}_CALC_EXEC")
        for k, cat in enumerate(cats, start=1):
            # Nothing graded before it is filled: a category without rows, or with a row whose
            # score cannot be computed yet, stays empty (never a sum of the rows filled so far).
            rows = f'COUNTIF({rng("level1")},"{cat.name}")'
            scored = f'COUNTIFS({rng("level1")},"{cat.name}",{rng("calc")},">=0")'
            if fw.not_applicable:  # a row that does not apply counts as done, with no score
                scored += f'+COUNTIFS({rng("level1")},"{cat.name}",{rng("sign")},"{NOT_APPLICABLE}")'
            formula = f'=IF(OR({empty},{rows}=0,{scored}<{rows}),"",ROUND(SUMIFS({rng("calc")},{rng("level1")},"{cat.name}"),2))'
            self.put(sheet, r, 2 + k, "formula", formula, "formula_score", name=f"PROJ{p}_CALC_C{k}")
        total_col = 3 + len(cats)
        parts = ",".join(a1(r, col) for col in range(2, 3 + len(cats)))
        total = f'=IF(OR({empty},COUNT({parts})<{len(cats) + 1}),"",ROUND(SUM({parts}),2))'
        if fw.not_applicable:
            # 不适用 rows drop out: the rest is scaled to 100 (raw × 100 ÷ (100 − their points)).
            na, raw = a1(r, total_col), a1(r, total_col + 1)
            self.put(sheet, r, total_col, "formula", f'=IF({empty},"",ROUND(SUMIFS({rng("points")},{rng("sign")},"{NOT_APPLICABLE}"),2))', "formula_score", name=f"PROJ{p}_NA_POINTS")
            self.put(sheet, r, total_col + 1, "formula", total, "formula_score", name=f"PROJ{p}_CALC_RAW")
            total = f'=IF(NOT(ISNUMBER({raw})),"",IF(N({na})=0,{raw},IF(N({na})>=100,"",ROUND({raw}*100/(100-{na}),2))))'
            total_col += 2
        self.put(sheet, r, total_col, "formula", total, "formula_score", name=f"PROJ{p}_CALC_TOTAL")
        self.put(sheet, r, total_col + 1, "formula", self._grade_formula(a1(r, total_col)), "formula_center", name=f"PROJ{p}_CALC_GRADE")
        self.put(
            sheet, r, total_col + 2, "input", None, "input_score",
            Validation("decimal", "请填写自评总分", "请填写本项目的自评总分（0～100）。", "自评总分必须是 0 到 100 之间的数字。", 0, 100),
            field="自评总分", name=f"PROJ{p}_DECLARED_SCORE",
        )
        self.put(sheet, r, total_col + 3, "input", None, "input_center", self.v_list("grade", "自评等级"), field="自评等级", name=f"PROJ{p}_DECLARED_GRADE")
        checks = []
        for cat in cats:
            total = f'SUMIFS({rng("points")},{rng("level1")},"{cat.name}")'
            checks.append(f'IF(ROUND({total},2)={_num(cat.points)},"","{cat.name}分值合计应为{_num(cat.points)}；")')
        self.put(sheet, r, total_col + 4, "formula", f'=IF({empty},"",IF(LEN({"&".join(checks)})=0,"分值合计正确",{"&".join(checks)}))', "formula_text")

    def _block_rows(self, block: int) -> tuple[int, int]:
        """First and last indicator row of a block on the indicator sheet."""
        rows = self.fw.indicator_rows
        first = 2 + (block - 1) * (rows + 3) + 2
        return first, first + rows - 1

    def _grade_formula(self, cell: str) -> str:
        grades = self.fw.grades
        inner = f'"{grades[-1].label}"'
        for g in reversed(grades[:-1]):
            inner = f'IF({cell}>={_num(g.minimum)},"{g.label}",{inner})'
        return f'=IF(ISNUMBER({cell}),{inner},"")'

    def build_criteria(self):
        fw = self.fw
        s = self.sheet(SHEET_SCORES, widths={0: 10, 1: 12, 2: 26, 3: 8, 4: 8, 5: 44, 6: 8}, freeze=(3, 0), repeat_rows=(0, 2))
        self.put(s.name, 0, 0, "label", f"{self.unit.name} {self.unit.year}年度部门整体支出绩效评分表", "title", span=7)
        self._extend(_section(fw, "criteria_body", layout=self.unit.layout))

    def criteria_body(self):
        """The criteria table below its title: the same for every archive (cached by _section)."""
        fw = self.fw
        sheet = SHEET_SCORES
        self.put(sheet, 1, 0, "label", "分值已锁定。每个指标都要填写扣分（没有扣分填 0，不超过分值），有扣分的写明扣分原因；得分 = 分值 − 扣分。", "note", span=7)
        for col, text in enumerate(["一级指标", "二级指标", "三级指标", "分值", "扣分", "扣分原因\n（有扣分时必填）", "得分"]):
            self.put(sheet, 2, col, "label", text, "header")
        indicators = fw.criterion_indicators
        first = 3
        measured = {i: j for j, (i, _ind) in enumerate(measured_indicators(fw), start=1)}
        for k, ind in enumerate(indicators):
            r = first + k
            self.put(sheet, r, 0, "label", ind.criterion, "label_center")
            self.put(sheet, r, 1, "label", ind.group, "label_center")
            self.put(sheet, r, 2, "label", ind.name, "label")
            self.put(sheet, r, 3, "label", ind.points, "prefill_score")
            d = a1(r, 4)
            if k in measured:  # scored by formula from the 预算执行 sheet's inputs
                m = ind.measure
                v = ref(SHEET_BUDGET, measure_rows(measured[k])[2], 1)
                beyond = f"{v}-{_num(m.limit)}" if m.at_most else f"{_num(m.limit)}-{v}"
                formula = f'=IF(ISNUMBER({v}),MIN({a1(r, 3)},ROUND(MAX(0,{beyond})*{_num(m.per_point)},2)),"")'
                self.put(sheet, r, 4, "formula", formula, "formula_score")
                self.put(sheet, r, 5, "input", None, "input_wrap", self.v_text("扣分原因"), field="扣分原因")
                self.put(sheet, r, 6, "formula", f'=IF(ISNUMBER({d}),ROUND(MAX(0,{a1(r, 3)}-{d}),2),"")', "formula_score")
                self.conditional.append(ConditionalFormat(sheet, r, 5, r, 5, f"=AND(N($E{r + 1})>0,LEN(TRIM($F{r + 1}))=0)", "alert"))
                continue
            self.put(
                sheet, r, 4, "input", None, "input_score",
                Validation("custom", "请填写扣分", f"本指标分值 {_num(ind.points)} 分；每行都要填写，没有扣分请填 0。", f"扣分必须是 0 到 {_num(ind.points)} 之间的数字。", source=f"=AND(ISNUMBER({d}),{d}>=0,{d}<={a1(r, 3)})"),
                field="扣分",
            )
            self.put(sheet, r, 5, "input", None, "input_wrap", self.v_text("扣分原因"), field="扣分原因")
            self.put(sheet, r, 6, "formula", f'=IF(ISNUMBER({d}),ROUND(MAX(0,{a1(r, 3)}-{d}),2),"")', "formula_score")
            self.conditional.append(ConditionalFormat(sheet, r, 5, r, 5, f"=AND(N($E{r + 1})>0,LEN(TRIM($F{r + 1}))=0)", "alert"))
        last = first + len(indicators) - 1
        for key, col in (("NAME", 2), ("POINTS", 3), ("DEDUCTION", 4), ("REASON", 5), ("SCORE", 6)):
            self.name_range(f"CRIT_{key}", sheet, first, col, last)
        # 评分结果: recomputed beside declared, as the seed's summary table.
        r = last + 2
        self.put(sheet, r, 0, "label", "评分结果", "block_title", span=7)
        r += 1
        for col, text in enumerate(["评价准则", "", "", "准则分值", "计算得分", "自评得分（请填写）", ""]):
            if text:
                self.put(sheet, r, col, "label", text, "header")
        crit_rng = f"$A${first + 1}:$A${last + 1}"
        ded_rng = f"$E${first + 1}:$E${last + 1}"
        score_refs = []
        for k, crit in enumerate(fw.criteria, start=1):
            r += 1
            self.put(sheet, r, 0, "label", crit.name, "label_bold", span=3)
            self.put(sheet, r, 3, "label", crit.points, "prefill_score")
            # Empty until every deduction of the criterion is typed (0 for none): a blank table is not 100.
            own = [first + i for i, ind in enumerate(indicators) if ind.criterion == crit.name]
            own_rng = f"$E${own[0] + 1}:$E${own[-1] + 1}"
            formula = (
                f'=IF(COUNT({own_rng})<{len(own)},"",'
                f'ROUND(MAX(0,MIN({_num(crit.points)},{_num(crit.points)}-SUMIF({crit_rng},"{crit.name}",{ded_rng}))),2))'
            )
            self.put(sheet, r, 4, "formula", formula, "formula_score", name=f"CALC_C{k}")
            score_refs.append(a1(r, 4))
            self.put(
                sheet, r, 5, "input", None, "input_score",
                Validation("decimal", "请填写自评得分", f"{crit.name}的自评得分（0～{_num(crit.points)}）。", f"自评得分必须是 0 到 {_num(crit.points)} 之间的数字。", 0, float(crit.points)),
                field=f"{crit.name}自评得分", name=f"DECLARED_C{k}",
            )
        r += 1
        self.put(sheet, r, 0, "label", "综合绩效", "label_bold", span=3)
        self.put(sheet, r, 3, "label", 100, "prefill_score")
        refs = ",".join(score_refs)
        self.put(sheet, r, 4, "formula", f'=IF(COUNT({refs})<{len(score_refs)},"",ROUND(SUM({refs}),2))', "formula_score", name="CALC_TOTAL")
        total_ref = a1(r, 4)
        self.put(
            sheet, r, 5, "input", None, "input_score",
            Validation("decimal", "请填写自评总分", "综合绩效自评总分（0～100）。", "自评总分必须是 0 到 100 之间的数字。", 0, 100),
            field="综合绩效自评得分", name="DECLARED_TOTAL",
        )
        r += 1
        self.put(sheet, r, 0, "label", "评价等级", "label_bold", span=3)
        self.put(sheet, r, 4, "formula", self._grade_formula(total_ref), "formula_center", name="CALC_GRADE")
        self.put(sheet, r, 5, "input", None, "input_center", self.v_list("grade", "自评等级"), field="自评等级", name="DECLARED_GRADE")

    def build_text(self):
        s = self.sheet(SHEET_TEXT, widths={0: 22, 1: 100})
        self.put(s.name, 0, 0, "label", f"{self.unit.name} {self.unit.year}年度存在的问题和改进措施", "title", span=2)
        limit = max(self.fw.text_max_length, 2000)
        for r, (label, name) in enumerate((("存在的问题和原因", "PROBLEMS"), ("下一步拟改进措施", "IMPROVEMENTS")), start=2):
            self.put(s.name, r, 0, "label", label, "label_bold")
            self.put(s.name, r, 1, "input", None, "input_long", self.v_text(label, limit), field=label, name=name)
        if self.fw.kind != "project":
            return
        # The project report's own texts (seed 001's 立项背景和依据, 项目实施情况, 问题分析, 评价结论):
        # optional, so a return without them still passes; the draft then asks for them.
        self.put(s.name, 5, 0, "label", REPORT_TEXT_NOTE, "note", span=2)
        texts = [("项目立项背景和依据", "BACKGROUND")]
        texts += [(f"项目 {p} 实施情况\n（预算执行表第 {p} 个项目）", f"PROJ{p}_IMPLEMENTATION") for p in range(1, self._project_count() + 1)]
        texts += [("问题分析", "ANALYSIS"), ("评价结论补充说明", "CONCLUSION")]
        for r, (label, name) in enumerate(texts, start=6):
            what = label.split("\n")[0]
            self.put(s.name, r, 0, "label", label, "label_bold")
            self.put(s.name, r, 1, "input", None, "input_long", self.v_text(what, limit), field=what, name=name)

    def _project_count(self) -> int:
        return len(self.unit.projects) or self.fw.blank_projects

    # -------------------------------------------------------------- the print form (自评表)

    def build_forms(self, blocks: int):
        """The official one-page form, a sheet per project (or one for the unit): every figure a
        formula on the input sheets, found through their defined names (FORM_NAMES)."""
        fw = self.fw
        if fw.kind == "project":
            for p in range(1, blocks + 1):
                wanted = {template.format(p=p, k=k) for template in FORM_NAMES.values() for k in range(1, len(fw.fund_sources) + 1)}
                wanted.update(column_name("PROJ", p, key) for key in FORM_COLUMNS)
                places = tuple(sorted((n, s.sheet, s.row, s.col, s.last_row) for n, s in self.names.items() if n in wanted))
                rows = project_form_rows(fw)
                self.sheet(form_sheet_name(fw, p), widths=dict(enumerate(_PROJECT_FORM_WIDTHS)), one_page=True, heights=rows.heights)
                self._extend(_section(fw, "project_form", p, places, layout=self.unit.layout))
        else:
            wanted = {n for n in self.names if n.startswith(("INFO_", "BUDGET_", "RATE_", "CALC_")) or re.fullmatch(r"GOAL\d+_(NAME|STATUS)", n)}
            places = tuple(sorted((n, s.sheet, s.row, s.col, s.last_row) for n, s in self.names.items() if n in wanted))
            heights = {0: 30, 3: 24, 11: 24, 14: 24}
            self.sheet(form_sheet_name(fw, 1), widths=dict(enumerate(_DEPARTMENT_FORM_WIDTHS)), one_page=True, heights=heights)
            self._extend(_section(fw, "department_form", places, layout=self.unit.layout))

    def project_form(self, p: int, places: tuple):
        fw = self.fw
        sheet = form_sheet_name(fw, p)
        where = {n: (s, r, c, last) for n, s, r, c, last in places}
        rows = project_form_rows(fw)

        def at(key: str, k: int = 1, offset: int | None = None) -> str | None:
            """The input cell behind a form figure (row `offset` of an indicator column), or None
            when the plan has no such name."""
            name = FORM_NAMES[key].format(p=p, k=k) if offset is None else column_name("PROJ", p, key)
            if name not in where:
                return None
            s, r, c, _last = where[name]
            return ref(s, r + (offset or 0), c)

        def number(cell: str | None) -> str | None:
            return None if cell is None else f'=IF(ISNUMBER({cell}),{cell},"")'

        def text(cell: str | None) -> str | None:
            return None if cell is None else f'=IF(LEN({cell})=0,"",{cell})'

        put = lambda r, c, role, value, style, **kw: self.put(sheet, r, c, role, value, style, **kw)  # noqa: E731
        year = at("year")
        put(0, 0, "formula", f'="项目支出绩效自评表（"&{year}&"年度）"', "form_title", span=9)
        put(1, 0, "label", "项目名称", "form_label", span=2)
        put(1, 2, "formula", text(at("name")), "form_text", span=7)
        put(2, 0, "label", "主管部门", "form_label", span=2)
        put(2, 2, "formula" if at("department") else "label", text(at("department")), "form_text", span=3)
        put(2, 5, "label", "实施单位", "form_label")
        put(2, 6, "formula", text(at("unit")), "form_text", span=3)
        # 项目资金（万元）
        m = rows.money
        sources = fw.fund_sources
        put(m, 0, "label", "项目资金\n（万元）", "form_head", rows=2 + len(sources))
        put(m, 1, "label", None, "form_head", span=2)
        for col, head in enumerate(("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"), start=3):
            put(m, col, "label", head, "form_head")
        put(m + 1, 1, "label", "年度资金总额", "form_label", span=2)
        for col, key, style in ((3, "initial", "form_money"), (4, "budget", "form_money"), (5, "executed", "form_money"), (7, "rate", "form_percent"), (8, "exec_score", "form_score")):
            cell = at(key)
            put(m + 1, col, "formula" if cell else "label", number(cell), style)
        put(m + 1, 6, "label", fw.execution_points, "form_score")
        for k, source in enumerate(sources, start=1):
            r = m + 1 + k
            put(r, 1, "label", ("其中：" if k == 1 else "") + source, "form_text", span=2)
            for col, key, style in ((3, "src_initial", "form_money"), (4, "src_budget", "form_money"), (5, "src_executed", "form_money"), (7, "src_rate", "form_percent")):
                cell = at(key, k)
                put(r, col, "formula" if cell else "label", number(cell), style)
            put(r, 6, "label", "—", "form_label")
            put(r, 8, "label", "—", "form_label")
        # 年度总体目标
        g = rows.goals
        put(g, 0, "label", "年度\n总体目标", "form_head", rows=2)
        put(g, 1, "label", "预期目标", "form_head", span=4)
        put(g, 5, "label", "实际完成情况", "form_head", span=4)
        for col, key in ((1, "goal_plan"), (5, "goal_done")):
            cell = at(key)
            put(g + 1, col, "formula" if cell else "label", text(cell), "form_text", span=4)
        # 绩效指标
        h = rows.header
        for col, head in enumerate(("一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分")):
            put(h, col, "label", head, "form_head")
        put(h, 7, "label", "偏差原因分析及改进措施", "form_head", span=2)
        for i in range(fw.indicator_rows):
            r = h + 1 + i
            c = {key: at(key, offset=i) for key in FORM_COLUMNS}
            prev = {key: at(key, offset=i - 1) for key in ("level1", "level2")} if i else {}
            n = c["name"]
            used = f"LEN({n})>0"
            # Grouped as on the paper form: 一级 / 二级 written once, where they change.
            l1, l2 = c["level1"], c["level2"]
            same1 = f",{l1}={prev['level1']}" if i else ""
            same2 = f",AND({l1}={prev['level1']},{l2}={prev['level2']})" if i else ""
            put(r, 0, "formula", f'=IF(OR(LEN({l1})=0{same1}),"",{l1})', "form_label")
            put(r, 1, "formula", f'=IF(OR(LEN({l2})=0{same2}),"",{l2})', "form_label")
            put(r, 2, "formula", f'=IF({used},{n},"")', "form_text")
            sign, unit = c["sign"], c["unit"]
            # 年度指标值: the adjusted target when given, else the initial one (as the score uses)
            target = c["target"] if c["adjusted"] is None else f'IF(LEN({c["adjusted"]})=0,{c["target"]},{c["adjusted"]})'
            if self.unit.layout >= 2:  # a 定性 row shows its approved wording, when it has one
                shown = f'IF({sign}="定性",IF(LEN({target})=0,"定性",{target}&{unit}),IF(ISNUMBER({target}),{sign}&{target}&{unit},""))'
            else:
                shown = f'IF(ISNUMBER({target}),IF({sign}="定性","",{sign})&{target}&{unit},IF({sign}="定性","定性",""))'
            put(r, 3, "formula", f'=IF({used},IF({sign}="{NOT_APPLICABLE}","{NOT_APPLICABLE}",{shown}),"")', "form_label")
            actual = f'IF({sign}="定性",IF(LEN({c["band"]})=0,"",{c["band"]}),IF(ISNUMBER({c["actual"]}),{c["actual"]}&{unit},""))'
            put(r, 4, "formula", f'=IF({used},{actual},"")', "form_label")
            put(r, 5, "formula", f'=IF(AND({used},ISNUMBER({c["points"]})),{c["points"]},"")', "form_score")
            na = f'IF(AND({used},{sign}="{NOT_APPLICABLE}"),"{NOT_APPLICABLE}","")' if fw.not_applicable else '""'
            put(r, 6, "formula", f'=IF(AND({used},ISNUMBER({c["calc"]})),{c["calc"]},{na})', "form_score")
            put(r, 7, "formula", f'=IF(LEN({c["reason"]})=0,"",{c["reason"]})', "form_text", span=2)
        t = rows.total
        first, last = a1(h + 1, 5), a1(h + fw.indicator_rows, 5)
        put(t, 0, "label", "总分", "form_head", span=5)
        put(t, 5, "formula", f'=IF(COUNT({first}:{last})=0,"",ROUND({_num(fw.execution_points)}+SUM({first}:{last}),2))', "form_score")
        put(t, 6, "formula", number(at("total")), "form_score")
        put(t, 7, "formula", f'=IF(LEN({at("grade")})=0,"","评价等级："&{at("grade")})', "form_label", span=2)
        self._form_signatures(sheet, rows.signature, ("项目负责人", "财务负责人", "实施单位（盖章）"), at("contact"), at("phone"), at("date"))

    def _form_signatures(self, sheet, r, heads, contact, phone, date, right=5, right_span=2):
        """Signature lines below the form: the left half from column A, the right from `right`."""
        put = lambda r, c, role, value, style, **kw: self.put(sheet, r, c, role, value, style, **kw)  # noqa: E731
        value = right + right_span
        put(r, 0, "label", f"{heads[0]}：", "form_sign", span=2)
        put(r, right, "label", f"{heads[1]}：", "form_sign", span=right_span)
        put(r + 1, 0, "label", "填报人：", "form_sign", span=2)
        put(r + 1, 2, "formula", f'=IF(LEN({contact})=0,"",{contact})', "form_sign")
        put(r + 1, right, "label", "联系电话：", "form_sign", span=right_span)
        put(r + 1, value, "formula", f'=IF(LEN({phone})=0,"",{phone})', "form_sign", span=2)
        put(r + 2, 0, "label", "填报日期：", "form_sign", span=2)
        put(r + 2, 2, "formula", f'=IF(ISNUMBER({date}),{date},IF(LEN({date})=0,"",{date}))', "form_sign_date")
        put(r + 2, right, "label", f"{heads[2]}：", "form_sign", span=right_span)

    def department_form(self, places: tuple):
        fw = self.fw
        sheet = form_sheet_name(fw, 1)
        where = {n: ref(s, r, c) for n, s, r, c, _last in places}
        ranges = {n: f"{quote_sheet(s)}!{a1(r, c, True)}:{a1(last, c, True)}" for n, s, r, c, last in places}
        put = lambda r, c, role, value, style, **kw: self.put(sheet, r, c, role, value, style, **kw)  # noqa: E731
        put(0, 0, "formula", f'="部门整体支出绩效自评表（"&{where["INFO_YEAR"]}&"年度）"', "form_title", span=7)
        put(1, 0, "label", "部门（单位）名称", "form_label", span=2)
        put(1, 2, "formula", f'=IF(LEN({where["INFO_UNIT"]})=0,"",{where["INFO_UNIT"]})', "form_text", span=5)
        put(2, 0, "label", "一、评分结果", "form_note", span=7)
        put(3, 0, "label", "评价准则", "form_head", span=3)
        put(3, 3, "label", "准则分值", "form_head")
        put(3, 4, "label", "评价得分", "form_head")
        put(3, 5, "label", "评价等级", "form_head", span=2)
        r = 4
        for k, crit in enumerate(fw.criteria, start=1):
            score = where[f"CALC_C{k}"]
            put(r, 0, "label", crit.name, "form_label", span=3)
            put(r, 3, "label", crit.points, "form_score")
            put(r, 4, "formula", f'=IF(ISNUMBER({score}),{score},"")', "form_score")
            # a criterion is graded on its share of its points, as seed 000's table does
            put(r, 5, "formula", self._share_grade(score, crit.points), "form_label", span=2)
            r += 1
        put(r, 0, "label", "综合绩效", "form_head", span=3)
        put(r, 3, "label", 100, "form_score")
        put(r, 4, "formula", f'=IF(ISNUMBER({where["CALC_TOTAL"]}),{where["CALC_TOTAL"]},"")', "form_score")
        put(r, 5, "formula", f'=IF(LEN({where["CALC_GRADE"]})=0,"",{where["CALC_GRADE"]})', "form_label", span=2)
        r += 2
        put(r, 0, "label", "二、预算执行情况", "form_note", span=7)
        initial, adjusted, final = where["BUDGET_INITIAL"], where["BUDGET_ADJUSTED"], where["BUDGET_FINAL"]
        for label, base, base_name, rate in (
            ("整体支出预算执行率", adjusted, "调整预算数", where["RATE_EXECUTION"]),
            ("年初预算完成率", initial, "年初预算数", where["RATE_INITIAL"]),
        ):
            r += 1
            written = (
                f'="{label} =（决算数 "&TEXT({final},"#,##0.00")&" 万元 ÷ {base_name} "&TEXT({base},"#,##0.00")&" 万元）× 100% = "&TEXT({rate},"0.00%")'
            )
            put(r, 0, "formula", f'=IF(ISNUMBER({rate}),{written[1:]},"{label} =（决算数 ÷ {base_name}）× 100%")', "form_text", span=7)
        r += 2
        put(r, 0, "label", "三、年度目标完成情况", "form_note", span=7)
        r += 1
        put(r, 0, "label", "序号", "form_head")
        put(r, 1, "label", "年度目标", "form_head", span=3)
        put(r, 4, "label", "已达成指标（个）", "form_head")
        put(r, 5, "label", "未达成指标（个）", "form_head")
        put(r, 6, "label", "完成情况", "form_head")
        for b in range(1, fw.goals + 1):
            r += 1
            name, status = where[f"GOAL{b}_NAME"], ranges[column_name("GOAL", b, "status")]
            met, unmet = f'COUNTIF({status},"达成")', f'COUNTIF({status},"未达成")'
            used = f"LEN({name})>0"
            put(r, 0, "label", b, "form_label")
            put(r, 1, "formula", f'=IF({used},{name},"")', "form_text", span=3)
            put(r, 4, "formula", f'=IF({used},{met},"")', "form_label")
            put(r, 5, "formula", f'=IF({used},{unmet},"")', "form_label")
            put(r, 6, "formula", f'=IF(OR(NOT({used}),{met}+{unmet}=0),"",IF({unmet}=0,"全部达成","部分未达成"))', "form_label")
        self._form_signatures(sheet, r + 2, ("单位负责人", "财务负责人", "单位（盖章）"), where["INFO_CONTACT"], where["INFO_PHONE"], where["INFO_DATE"], right=4, right_span=1)

    def _share_grade(self, score: str, points) -> str:
        grades = self.fw.grades
        share = f"ROUND({score}/{_num(points)}*100,6)"
        inner = f'"{grades[-1].label}"'
        for g in reversed(grades[:-1]):
            inner = f'IF({share}>={_num(g.minimum)},"{g.label}",{inner})'
        return f'=IF(ISNUMBER({score}),{inner},"")'

    def build_meta(self) -> dict[str, str]:
        meta = self.meta_fields()
        meta["fingerprint"] = fingerprint(self.cells)
        self.sheet(SHEET_META, state="very_hidden", widths={0: 20, 1: 60})
        self.meta_cells(meta)
        return meta

    def meta_fields(self) -> dict[str, str]:
        """The metadata but its fingerprint (which is of the cells)."""
        fw, unit = self.fw, self.unit
        prefills = {
            "initial_budget": _plain(unit.initial_budget),
            "adjusted_budget": _plain(unit.adjusted_budget),
            "final_accounts": _plain(unit.final_accounts),
            "projects": [_project_prefills(p) for p in unit.projects],
        }
        if unit.department:
            prefills["department"] = unit.department
        if unit.goals:
            prefills["goals"] = [[name, [_approved_prefill(ind) for ind in rows]] for name, rows in unit.goals]
        meta = {
            "template_id": hashlib.sha256(f"{fw.name}|{fw.version}|{unit.code}|{unit.name}|{unit.year}".encode()).hexdigest()[:16],
            "generator": "xltool",
            "framework": fw.name,
            "framework_version": fw.version,
            "framework_digest": fw.digest,
            "kind": fw.kind,
            "unit_name": unit.name,
            "unit_code": unit.code,
            "year": str(unit.year),
            "blocks": str(len(unit.projects) or fw.blank_projects) if fw.kind == "project" else str(fw.goals),
            "prefills": json.dumps(prefills, ensure_ascii=False, sort_keys=True),
        }
        if unit.layout != 1:  # layout 1's templates carry no such key
            meta["layout"] = str(unit.layout)
        return meta

    def meta_cells(self, meta: dict[str, str]) -> None:
        for r, (key, value) in enumerate(meta.items()):
            self.put(SHEET_META, r, 0, "label", key, "meta")
            self.put(SHEET_META, r, 1, "label", value, "meta")


# ---------------------------------------------------------------- 53号 indicators scored by formula

MEASURE_FIRST_ROW = 10  # on the unit-wide 预算执行 sheet, below 执行情况说明


def measured_indicators(framework: Framework) -> list[tuple[int, object]]:
    """(index in criterion_indicators, indicator) of every indicator the framework scores by formula."""
    return [(i, ind) for i, ind in enumerate(framework.criterion_indicators) if ind.measure is not None]


def measure_rows(j: int) -> tuple[int, int, int]:
    """Rows of measure j (from 1) on the 预算执行 sheet: input a, input b, the value."""
    first = MEASURE_FIRST_ROW + 3 * (j - 1)
    return first, first + 1, first + 2


def measure_rule_text(ind) -> str:
    m = ind.measure
    a, b = m.inputs
    value = f"{a} ÷ {b} × 100%" if m.formula == "ratio" else f"（{a} − {b}）÷ {b} × 100%"
    side, over = ("不超过", "超过") if m.at_most else ("不低于", "低于")
    return f"= {value}；{side} {_num(m.limit)}% 得满分（{_num(ind.points)} 分），每{over} 1 个百分点扣 {_num(m.per_point)} 分（按比例计算，扣完为止）"


# ---------------------------------------------------------------- the print form's places

FORM_PREFIX = "自评表"
# Where the project form takes each figure: the defined names of the input sheets ({p} the
# project, {k} the fund-source row). A name the plan does not define leaves that cell of the form
# blank, so wiring a new input into the form is one line here.
FORM_NAMES = {
    "name": "PROJ{p}_NAME",
    "department": "INFO_DEPARTMENT",
    "unit": "INFO_UNIT",
    "year": "INFO_YEAR",
    "contact": "INFO_CONTACT",
    "phone": "INFO_PHONE",
    "date": "INFO_DATE",
    "initial": "PROJ{p}_INITIAL",
    "budget": "PROJ{p}_BUDGET",
    "executed": "PROJ{p}_EXECUTED",
    "rate": "PROJ{p}_RATE",
    "exec_score": "PROJ{p}_EXEC_SCORE",
    "src_initial": "PROJ{p}_SRC{k}_INITIAL",
    "src_budget": "PROJ{p}_SRC{k}_BUDGET",
    "src_executed": "PROJ{p}_SRC{k}_EXECUTED",
    "src_rate": "PROJ{p}_SRC{k}_RATE",
    "goal_plan": "PROJ{p}_GOAL_PLAN",
    "goal_done": "PROJ{p}_GOAL_DONE",
    "total": "PROJ{p}_CALC_TOTAL",
    "grade": "PROJ{p}_CALC_GRADE",
}
# The indicator columns the form shows (layout.column_name of each, per project).
FORM_COLUMNS = ("level1", "level2", "name", "sign", "target", "adjusted", "unit", "actual", "band", "points", "calc", "reason")
# 一级 | 二级 | 三级 | 年度指标值 | 实际完成值 | 分值 | 得分 | 偏差原因 (two columns)
_PROJECT_FORM_WIDTHS = (9, 11, 24, 12, 13, 10, 8, 12, 20)
_DEPARTMENT_FORM_WIDTHS = (7, 10, 16, 12, 14, 14, 14)


def form_sheet_name(framework: Framework, p: int) -> str:
    return f"{FORM_PREFIX}-{p}" if framework.kind == "project" else FORM_PREFIX


def is_form_sheet(name: str) -> bool:
    return name == FORM_PREFIX or (name.startswith(FORM_PREFIX + "-") and name[len(FORM_PREFIX) + 1 :].isdigit())


@dataclass(frozen=True)
class FormRows:
    money: int  # the money block's header row
    goals: int  # 年度总体目标
    header: int  # the indicator table's header; its rows follow
    total: int  # 总分
    signature: int  # the first signature line
    heights: dict


def project_form_rows(framework: Framework) -> FormRows:
    money = 3
    goals = money + 2 + len(framework.fund_sources)
    header = goals + 2
    total = header + 1 + framework.indicator_rows
    heights = {0: 30, money: 28, goals + 1: 66, header: 28, total: 22}
    heights.update({header + 1 + i: 42 for i in range(framework.indicator_rows)})  # three lines of text
    heights.update({total + 2 + i: 24 for i in range(3)})
    return FormRows(money, goals, header, total, total + 2, heights)


META_KEYS = ("template_id", "generator", "framework", "framework_version", "framework_digest", "kind", "unit_name", "unit_code", "year", "blocks", "prefills", "layout", "fingerprint")


def _project_prefills(p) -> list:
    """[name, 全年预算数, 全年执行数] as before, then what the form's blocks add when given:
    {"initial": 年初预算数, "goal_plan": 预期目标, "sources": [[name, 年初, 全年预算, 全年执行], …]}."""
    extra = {}
    if p.initial is not None:
        extra["initial"] = _plain(p.initial)
    if p.goal_plan:
        extra["goal_plan"] = p.goal_plan
    sources = [[name, *(_plain(v) for v in figures)] for name, *figures in p.sources if any(v is not None for v in figures)]
    if sources:
        extra["sources"] = sources
    if p.approved:
        extra["approved"] = [_approved_prefill(ind) for ind in p.approved]
    return [p.name, _plain(p.budget), _plain(p.executed)] + ([extra] if extra else [])


APPROVED_KEYS = ("level1", "level2", "name", "sign", "target", "unit", "points", "adjusted", "row", "wording")


def _approved_prefill(ind) -> list:
    """One approved indicator as signed in `_meta`: the values of APPROVED_KEYS, figures as text;
    the last, a 定性 row's wording, only when it has one (so a row without keeps the nine values
    templates made before it was carried)."""
    row = [ind.level1, ind.level2, ind.name, ind.sign, _plain(ind.target), ind.unit, _plain(ind.points), _plain(ind.adjusted), ind.row]
    return row + [ind.wording] if ind.wording else row


def _plain(value):
    return None if value is None else format(Decimal(value), "f")


def fingerprint(cells) -> str:
    """A digest of everything locked: labels, pre-filled figures and formulas, with their places."""
    items = sorted(
        [(c.sheet, c.row, c.col, str(c.value)) for c in cells if c.role != "input" and c.value is not None and c.sheet != SHEET_META]
    )
    return hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()[:32]


# Functions the template's formulas may use: all in Excel 2007, WPS and LibreOffice, none needing
# the _xlfn. prefix (the writer relies on that), all known to the `formulas` engine.
ALLOWED_FUNCTIONS = frozenset({"IF", "AND", "OR", "NOT", "ISNUMBER", "ROUND", "MIN", "MAX", "MEDIAN", "SUM", "SUMIF", "SUMIFS", "COUNT", "COUNTIF", "COUNTIFS", "LEN", "TRIM", "N", "TEXT"})
_FUNCTION = re.compile(r"([A-Z][A-Z0-9.]*)\(")


def check_formula_functions(plan: Plan) -> set[str]:
    """Functions used by the plan's formulas that are not in ALLOWED_FUNCTIONS (empty when fine)."""
    used = set()
    for cell in plan.cells:
        if cell.role == "formula":
            text = re.sub(r'"[^"]*"', '""', str(cell.value))
            used.update(_FUNCTION.findall(text))
    for cf in plan.conditional:
        used.update(_FUNCTION.findall(re.sub(r'"[^"]*"', '""', cf.formula)))
    return used - ALLOWED_FUNCTIONS


@lru_cache(maxsize=16)
def _lists_section(framework: Framework, dependent: bool):
    builder = _Builder(framework, UnitInfo("", "", 0, framework.kind))
    builder._build_lists_uncached(dependent)
    return tuple(builder.cells), dict(builder.lists), dict(builder.names)


@lru_cache(maxsize=256)
def _section(framework: Framework, method: str, *args, layout: int):
    """Cells, names and conditional formats of a part of the workbook that does not depend on the
    archive (a builder method run for an empty unit): built once per framework and layout."""
    builder = _Builder(framework, UnitInfo("", "", 0, framework.kind, layout=layout))
    builder.build_lists()
    builder.cells, builder.names, builder.conditional = [], {}, []
    getattr(builder, method)(*args)
    return tuple(builder.cells), dict(builder.names), tuple(builder.conditional)


@lru_cache(maxsize=64)
def _indicator_block(framework: Framework, block: int, prefix: str, layout: int):
    builder = _Builder(framework, UnitInfo("", "", 0, framework.kind, layout=layout))
    builder.build_lists()
    builder.cells, builder.names, builder.conditional = [], {}, []
    builder.indicator_block(block, prefix)
    return tuple(builder.cells), dict(builder.names), tuple(builder.conditional)


def build_plan(framework: Framework, unit: UnitInfo) -> Plan:
    """The whole workbook for one archive, as data."""
    # Decimal("300") == Decimal("300.00") with the same hash, but they are written differently:
    # the cache key carries the unit's text as well, so equal-but-differently-written figures
    # never share a plan (and its fingerprint).
    return _cached_plan(framework, unit, repr(unit))


@lru_cache(maxsize=16)  # a plan is ~1 MB: keep a few, not one per archive of a batch
def _cached_plan(framework: Framework, unit: UnitInfo, _written: str) -> Plan:
    return _Builder(framework, unit).build()
