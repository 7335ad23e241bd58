"""The 绩效目标申报表 template (`xltool template --stage 申报`): the workbook as data, written by
the self-evaluation's writer (same styles, protection, validations, defined names and signed
`_meta`), one workbook per unit.

Project kind: a sheet per project (项目1, 项目2, …) laid out like the official 项目支出绩效目标申报表:
项目名称, 项目属性 (新增/延续), 主管部门, 实施单位, 起止时间, 资金 (资金总额 = 财政拨款 + 其他资金, a
live formula), 长期目标, 年度目标, and the indicator table (一级 / 二级 / 三级 / 指标值类型 / 计算符号 /
指标值 / 计量单位 / 分值 / 评分标准). Unit-wide kind: one sheet 部门整体 with the header, funds,
长期目标 and an indicator table under each annual goal. What finance knows (unit, project names,
主管部门, 财政拨款 from the roster) is pre-filled and locked.

The `_meta` sheet says stage 申报; the checker (check.declaration) rebuilds this plan from it and
finds every input through the defined names. Its key `declaration_framework` (not `framework`)
keeps the self-evaluation reader from taking a 申报表 for a self-evaluation.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from xltool.core.declaration import ATTRIBUTES, FORM_TITLE, HEADER_LABELS, STAGE, VALUE_KINDS
from xltool.core.framework import Framework, load_framework
from xltool.core.model import OUTPUT_MARKER, UnitInfo
from xltool.template.layout import (
    SHEET_LISTS,
    SHEET_META,
    NameSpec,
    Plan,
    Validation,
    a1,
    fingerprint,
)
from xltool.template.layout import _Builder as LayoutBuilder

SHEET_GUIDE = "填表说明"
DEPARTMENT_SHEET = "部门整体"
FUND_SOURCE = "当年财政拨款"  # the roster's 其中 row whose figure pre-fills 财政拨款
WIDTH = 9  # columns A..I
# The indicator table's columns: key, heading, width, input style
ROW_COLUMNS = (
    ("level1", "一级指标", 12, "input_text"),
    ("level2", "二级指标", 16, "input_text"),
    ("name", "三级指标", 30, "input_wrap"),
    ("value_kind", "指标值类型", 10, "input_center"),
    ("sign", "计算符号", 9, "input_center"),
    ("target", "指标值", 14, "input_wrap"),
    ("unit", "计量单位", 10, "input_text"),
    ("points", "分值", 8, "input_score"),
    ("standard", "评分标准", 36, "input_wrap"),
)
HEADER_ROWS = {  # project form: key → (row, label)
    "name": (2, "项目名称"),
    "attribute": (3, "项目属性"),
    "department": (4, "主管部门"),
    "implementer": (5, "实施单位"),
    "start": (6, "起始时间"),
    "end": (7, "结束时间"),
    "total": (8, "资金总额（万元）"),
    "fiscal": (9, "其中：财政拨款"),
    "other": (10, "　　　其他资金"),
    "long_goal": (11, "长期目标"),
    "annual_goal": (12, "年度目标"),
}
DEPARTMENT_HEADER_ROWS = {
    "implementer": (2, "单位名称"),
    "department": (3, "主管部门"),
    "total": (4, "资金总额（万元）"),
    "fiscal": (5, "其中：财政拨款"),
    "other": (6, "　　　其他资金"),
    "long_goal": (7, "长期目标"),
}
META_FORMS = "forms"
MAX_FORMS = 100  # project forms (sheets) one 申报表 holds; the checker reads no more
# The 申报表's own layout numbers (not the self-evaluation's LAYOUTS), recorded in `_meta` as
# "layout": a later change of the form is told apart; one without the key (made before it was
# recorded) is layout 1. Every layout a release wrote stays in DECL_LAYOUTS.
DECL_LAYOUT = 1
DECL_LAYOUTS = (1,)


def header_name(form: int, key: str) -> str:
    return f"DECL{form}_{key.upper()}"


def column_name(form: int, goal: int, key: str) -> str:
    return f"DECL{form}_G{goal}_{key.upper()}"


def goal_name(form: int, goal: int) -> str:
    return f"DECL{form}_G{goal}_GOAL"


def declaration_filename(unit: UnitInfo) -> str:
    safe = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "_", unit.name).strip(" .") or unit.code or "单位"
    return f"{unit.year}_{safe}_{FORM_TITLE[unit.kind]}.xlsx"


def _plain(value) -> str | None:
    return None if value is None else format(Decimal(value), "f")


def form_prefills(unit: UnitInfo, fw: Framework) -> list[list]:
    """What finance pre-fills per form: [project name, 财政拨款] ("" and None where the unit fills
    it). Project kind: the roster's projects, else the framework's number of blank forms;
    unit-wide kind: one form."""
    if unit.kind == "department":
        return [["", None]]
    if not unit.projects:
        return [["", None] for _ in range(max(1, fw.blank_projects))]
    out = []
    for p in unit.projects:
        initial, budget, _executed = p.source(FUND_SOURCE)
        fiscal = initial if initial is not None else budget
        out.append([p.name, _plain(fiscal)])
    return out


class _Builder(LayoutBuilder):
    """The self-evaluation layout's builder (cells, names, sheets, validations), drawing the 申报表."""

    def __init__(self, fw: Framework, unit: UnitInfo, forms: list[list]):
        super().__init__(fw, unit)
        self.forms = forms
        self._validations: dict[str, Validation] = {}

    def v_text(self, what: str, maximum: int | None = None) -> Validation:
        maximum = maximum or self.fw.text_max_length
        return Validation("length", f"请填写{what}"[:32], f"请填写{what}，不超过 {maximum} 个字。不要只写“*”“无”“见附件”。", f"{what}不能超过 {maximum} 个字，请精简后再填。", 0, maximum)

    def v_date(self, what: str) -> Validation:
        return Validation("date", f"请填写{what}"[:32], f"请按 2024-01-01 的格式填写{what}。", f"{what}必须是日期，如 2024-01-01。", "2000-01-01", "2100-12-31")

    def column_validation(self, key: str) -> Validation:
        if key not in self._validations:
            self._validations[key] = {
                "level1": lambda: self.v_list("level1", "一级指标", extra="三类一级指标（" + "、".join(self.fw.category_names) + "）都要有指标。"),
                "level2": lambda: self.v_list("level2", "二级指标", extra="请选择与一级指标对应的二级指标；成本指标的计算符号只能选 ≤ 或 <。"),
                "name": lambda: self.v_text("三级指标名称（一个单元格只写一个指标）", 200),
                "value_kind": lambda: self.v_choices("指标值类型", list(VALUE_KINDS), extra="定量指标填数字指标值，定性指标用文字写明要达到的程度。"),
                "sign": lambda: self.v_list("sign", "计算符号", extra="≥ > 为正向指标，≤ < 为反向指标（成本、故障率），定性指标选“定性”。"),
                "target": lambda: Validation(
                    "length", "请填写指标值", "定量指标只填数字（百分比填百分数，95% 填 95），比较关系在“计算符号”列选择；定性指标用文字写明要达到的程度。",
                    "指标值太长，请精简后再填。", 0, 200,
                ),
                "unit": lambda: self.v_list("unit", "计量单位", strict=False),
                "points": lambda: Validation("decimal", "请填写分值", "本指标的分值。同一一级指标下各指标分值之和应等于该一级指标的分值。", "分值必须是 0 到 100 之间的数字。", 0, 100),
                "standard": lambda: self.v_text("评分标准"),
            }[key]()
        return self._validations[key]

    # -- the workbook
    def build(self) -> Plan:
        fw, unit = self.fw, self.unit
        self.build_lists()
        self.build_guide()
        if unit.kind == "department":
            self.build_form(1, DEPARTMENT_SHEET, self.forms[0])
        else:
            for i, form in enumerate(self.forms, start=1):
                self.build_form(i, f"项目{i}", form)
        meta = self.build_meta()
        order = {s.name: i for i, s in enumerate(self.sheets)}
        order[SHEET_LISTS], order[SHEET_META] = len(order) + 1, len(order) + 2
        self.sheets.sort(key=lambda s: order[s.name])
        plan_fw = replace(fw, title=FORM_TITLE[unit.kind])  # the document's title says 申报表
        return Plan(plan_fw, unit, self.sheets, self.cells, self.names, [], meta, len(self.forms))

    def build_lists(self):
        fw = self.fw
        self.sheet(SHEET_LISTS, state="hidden", widths={0: 14, 1: 24, 2: 10, 3: 8})
        columns = {
            "level1": list(fw.category_names),
            "level2": list(fw.all_subcategories),
            "unit": list(fw.units) or ["%"],
            "sign": ["≥", ">", "≤", "<", "=", "定性"],
        }
        self.put_lists(columns)

    def build_guide(self):
        fw, unit = self.fw, self.unit
        self.sheet(SHEET_GUIDE, widths={0: 4, 1: 100}, tab_color="#808080")
        title = FORM_TITLE[unit.kind]
        self.put(SHEET_GUIDE, 0, 0, "label", f"{unit.year}年度{title} 填表说明", "title", span=2)
        points = "；".join(f"{c.name} {c.points.normalize():f} 分" for c in fw.categories if c.points is not None)
        lines = [
            f"本工作簿是{unit.name}{unit.year}年度{title}，由财政（主管）部门统一生成，请在 Excel、WPS 或 LibreOffice 中填写后原样交回。",
            "浅黄色单元格是需要填写的内容；灰色单元格是财政已掌握的数据（单位、项目名称、财政拨款等），已锁定，不能修改；浅蓝色单元格自动计算（资金总额 = 财政拨款 + 其他资金）。",
            "请保持 .xlsx 格式保存；不要插入或删除行列、不要重命名或删除工作表、不要撤销工作表保护。",
            "每行填写一个指标：一级指标、二级指标从下拉列表选择；指标值类型选“定量”或“定性”。定量指标的计算符号选 ≥ > ≤ < =，指标值只填数字（1万以上：选 ≥ 填 10000；95% 填 95，百分比不超过 100）；定性指标的计算符号选“定性”（或留空），指标值用文字写明要达到的程度。",
            "产出指标、效益指标、满意度指标三类都要有指标；成本指标是反向指标，计算符号只能选 ≤ 或 <。" + (f"各一级指标的分值合计：{points}（预算执行率另计 {fw.execution_points.normalize():f} 分）。" if points else ""),
            "长期目标、年度目标、指标名称、评分标准都要写明具体内容，不能只填“*”“无”“见附件”：附件中的内容请直接填到表中。",
            "财政部门审核后，将按本表批复绩效目标；年度自评时，批复的指标会预填在自评表中并锁定。",
        ]
        for i, line in enumerate(lines, start=1):
            self.put(SHEET_GUIDE, i + 1, 0, "label", i, "guide_number")
            self.put(SHEET_GUIDE, i + 1, 1, "label", line, "guide")

    def build_form(self, p: int, sheet: str, prefill: list):
        fw, unit = self.fw, self.unit
        widths = {i: w for i, (_k, _h, w, _s) in enumerate(ROW_COLUMNS)}
        self.sheet(sheet, widths=widths, landscape=True, tab_color="#FFC000", repeat_rows=None)
        kind_title = FORM_TITLE[unit.kind]
        self.put(sheet, 0, 0, "label", f"{unit.year}年度{kind_title}", "title", span=WIDTH)
        self.put(sheet, 1, 0, "label", f"填报单位：{unit.name}　　金额单位：万元　　浅黄色单元格填写，灰色为财政预填（锁定）", "note", span=WIDTH)
        rows = HEADER_ROWS if unit.kind == "project" else DEPARTMENT_HEADER_ROWS
        name, fiscal = prefill[0], prefill[1]
        for key, (row, label) in rows.items():
            self.put(sheet, row, 0, "label", label, "label_bold", span=2)
            n = header_name(p, key)
            span = WIDTH - 2
            if key == "name" and name:
                self.put(sheet, row, 2, "prefill", name, "prefill", span=span, field=label, name=n)
            elif key == "implementer":
                self.put(sheet, row, 2, "prefill", unit.name, "prefill", span=span, field=label, name=n)
            elif key == "department" and unit.department:
                self.put(sheet, row, 2, "prefill", unit.department, "prefill", span=span, field=label, name=n)
            elif key == "fiscal" and fiscal is not None:
                self.put(sheet, row, 2, "prefill", Decimal(fiscal), "prefill_money", field=label, name=n)
            elif key == "total":
                f_row, o_row = rows["fiscal"][0], rows["other"][0]
                self.put(sheet, row, 2, "formula", f"=ROUND(N({a1(f_row, 2)})+N({a1(o_row, 2)}),2)", "formula_score", field=label, name=n)
            elif key in ("fiscal", "other"):
                what = HEADER_LABELS[key]
                self.put(sheet, row, 2, "input", None, "input_money", self.v_money(what), field=what, name=n)
            elif key == "attribute":
                self.put(sheet, row, 2, "input", None, "input_center", self.v_choices("项目属性", list(ATTRIBUTES), extra="新设立的项目选“新增”，以前年度已有的选“延续”。"), span=2, field=label, name=n)
            elif key in ("start", "end"):
                self.put(sheet, row, 2, "input", None, "input_date", self.v_date(label), span=2, field=label, name=n)
            elif key in ("long_goal", "annual_goal"):
                self.put(sheet, row, 2, "input", None, "input_long", self.v_text(label, 2000), span=span, field=label, name=n)
            else:
                self.put(sheet, row, 2, "input", None, "input_text", self.v_text(label, 100), span=span, field=label, name=n)
        row = max(r for r, _l in rows.values()) + 1
        goals = 1 if unit.kind == "project" else fw.goals
        for g in range(1, goals + 1):
            if unit.kind == "project":
                self.put(sheet, row, 0, "label", "绩效指标", "block_title", span=WIDTH)
            else:
                self.put(sheet, row, 0, "label", f"年度目标 {g}", "block_title", span=2)
                self.put(sheet, row, 2, "input", None, "input_block", self.v_text("年度目标", 200), span=WIDTH - 2, field="年度目标", name=goal_name(p, g))
            row += 1
            for col, (_key, heading, _w, _s) in enumerate(ROW_COLUMNS):
                self.put(sheet, row, col, "label", heading, "header")
            first = row + 1
            last = first + fw.indicator_rows - 1
            for r in range(first, last + 1):
                for col, (key, heading, _w, style) in enumerate(ROW_COLUMNS):
                    self.put(sheet, r, col, "input", None, style, self.column_validation(key), field=heading)
            for col, (key, *_rest) in enumerate(ROW_COLUMNS):
                n = column_name(p, g, key)
                self.names[n] = NameSpec(n, sheet, first, col, last)
            row = last + 1
            if unit.kind == "project":
                points_col = [k for k, *_r in ROW_COLUMNS].index("points")
                self.put(sheet, row, 0, "label", "分值合计（应为 " + "+".join(f"{c.points.normalize():f}" for c in fw.categories if c.points is not None) + "）", "label_bold", span=points_col)
                self.put(sheet, row, points_col, "formula", f"=SUM({a1(first, points_col)}:{a1(last, points_col)})", "formula_score")
                row += 1
            row += 1

    def build_meta(self) -> dict[str, str]:
        fw, unit = self.fw, self.unit
        identity = json.dumps([STAGE, unit.name, unit.code, unit.year, unit.kind, fw.name, fw.version, self.forms], ensure_ascii=False)
        meta = {
            "template_id": hashlib.sha256(identity.encode()).hexdigest()[:16],
            "generator": "xltool",
            "stage": STAGE,
            "form": FORM_TITLE[unit.kind],
            "declaration_framework": fw.name,
            "framework_version": fw.version,
            "framework_digest": fw.digest,
            "kind": unit.kind,
            "unit_name": unit.name,
            "unit_code": unit.code,
            "year": str(unit.year),
            "department": unit.department,
            META_FORMS: json.dumps(self.forms, ensure_ascii=False),
            "layout": str(DECL_LAYOUT),
        }
        meta["fingerprint"] = fingerprint(self.cells)
        self.sheet(SHEET_META, state="very_hidden", widths={0: 20, 1: 60})
        for r, (key, value) in enumerate(meta.items()):
            self.put(SHEET_META, r, 0, "label", key, "meta")
            self.put(SHEET_META, r, 1, "label", value, "meta")
        return meta


def build_declaration_plan(fw: Framework, unit: UnitInfo, forms: list[list] | None = None) -> Plan:
    """The 申报表 workbook of one unit, as data; `forms` as form_prefills gives (the checker passes
    the signed metadata's)."""
    return _Builder(fw, unit, forms if forms is not None else form_prefills(unit, fw)).build()


def generate_declarations(units: list[UnitInfo], out_dir: str | Path, progress=None) -> list[Path]:
    """One 申报表 workbook per unit, written atomically; every plan is built before the first file."""
    from xltool.template.writer import write_plan

    from xltool.template.roster import RosterError

    out_dir = Path(out_dir)
    frameworks = [load_framework(u.framework or u.kind) for u in units]
    counts = [len(form_prefills(u, fw)) for u, fw in zip(units, frameworks)]
    too_many = [f"{u.name}（{u.code or '无编码'}）有 {n} 个项目" for u, n in zip(units, counts) if n > MAX_FORMS]
    if too_many:
        raise RosterError(
            f"{'；'.join(too_many[:5])}，一份绩效目标申报表最多 {MAX_FORMS} 个项目，没有生成任何申报表。"
            f"请核对名册（是否把指标或明细写成了项目、是否重复），确有这么多项目的，请把该单位的项目分几次、每次不超过 {MAX_FORMS} 个生成申报表。"
        )
    plans = [build_declaration_plan(fw, u) for u, fw in zip(units, frameworks)]
    names = [declaration_filename(u) for u in units]
    if len(set(names)) != len(names):
        names = [n.replace(".xlsx", f"_{u.code}.xlsx") for n, u in zip(names, units)]
    paths = []
    for plan, name in zip(plans, names):
        paths.append(write_plan(plan, out_dir / name))
        if progress is not None:
            progress(len(paths), len(plans))
    return paths


def write_approved(rows: list[list], path: str | Path) -> Path:
    """The approved-targets workbook (批复表) in the columns template.approved.read_targets reads:
    one row per indicator, figures as numbers (a 定性 row's 指标值, its wording, as text),
    written atomically."""
    import xlsxwriter

    from xltool.core.declaration import APPROVED_HEADER
    from xltool.template.celltext import write_text
    from xltool.template.styles import STYLES, text_width
    from xltool.template.writer import atomic_path

    path = Path(path)
    numeric = {APPROVED_HEADER.index("指标值"), APPROVED_HEADER.index("分值")}
    target_col, sign_col = APPROVED_HEADER.index("指标值"), APPROVED_HEADER.index("计算符号")
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(tmp, {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False})
        wb.set_properties({"title": "绩效目标批复表", "author": "xltool"})
        wb.set_custom_property(OUTPUT_MARKER, "approval")  # read back among returns, it is set aside as ours
        head = wb.add_format(STYLES["header"])
        body = wb.add_format({k: v for k, v in STYLES["label"].items()})
        ws = wb.add_worksheet("绩效目标批复表")
        widths = [text_width(h) for h in APPROVED_HEADER]
        for col, heading in enumerate(APPROVED_HEADER):
            ws.write_string(0, col, heading, head)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if col in numeric and value != "" and not (col == target_col and row[sign_col] == "定性"):
                    ws.write_number(r, col, float(Decimal(value)), body)
                else:
                    write_text(ws, r, col, str(value), body)  # a 申报表's text, whatever it holds
                widths[col] = min(max(widths[col], text_width(str(value))), 50)
        for col, width in enumerate(widths):
            ws.set_column(col, col, width)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(rows), 1), len(APPROVED_HEADER) - 1)
        wb.close()
    return path
