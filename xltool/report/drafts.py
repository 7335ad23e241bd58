"""The self-evaluation report a unit writes after filling its tables, drafted from the checked workbook.

One .docx per returned file, in the seeds' own structure: 整体绩效自评结果（摘要版） for a unit-wide
evaluation (seed 000), 项目支出绩效自评报告 for projects (seed 001). Every figure comes from the
recomputed Evaluation, never from what the workbook declares; where the unit declared another
score or grade, the draft says the recomputed one and a highlighted Word comment names both.
Text the unit typed is used as written (control characters removed, nothing else); text it
left blank shows as a highlighted 【请补充：…】.

The wording is data: a YAML file of blocks with Jinja2 templates per framework kind
(report/templates/*.yaml), or the one a framework names (`report_template:`). The workbook's
contents come in as the check produced them (Result, Submission, Framework): this module never
reads a workbook.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from xltool.core import scoring
from xltool.core.framework import Framework
from xltool.core.model import Evaluation, IndicatorRow, ProjectBlock, Result, Submission, Value
from xltool.report.feedback import output_filename
from xltool.report.outputs import _atomic

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEXT_WIDTH_MM = 210 - 28 - 26  # A4 less the margins set in _new_document
AUTHOR = "xltool"

# Private-use characters that mark, inside rendered text, a figure with a comment (E000 n E001)
# and a highlighted run (E002 … E003); the unit's own text is stripped of them first.
_NOTE_OPEN, _NOTE_CLOSE, _MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_PIECES = re.compile("\ue002(.*?)\ue003|\ue000([0-9]+)\ue001", re.S)
# Not allowed in XML 1.0 (python-docx refuses them), and our markers.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff\ue000-\ue003]")


class ReportTemplateError(ValueError):
    """A report template that cannot be used; the message names the file and the fault."""


# ---------------------------------------------------------------- figures as the seeds write them


def money(value) -> str:
    """万元 as the seeds write them: thousands separators, two decimals, none for a whole number
    ("2,814.98万元", "300万元", "76万元")."""
    d = scoring.round_half_up(value, 2)
    if d is None:
        return ""
    if d == d.to_integral_value():
        return f"{int(d):,}万元"
    return f"{d:,.2f}万元"


def percent(rate) -> str:
    """A rate (0.7156) as the seeds write it: "71.56%", always two decimals."""
    d = scoring.round_half_up(None if rate is None else Decimal(str(rate)) * 100, 2)
    return "" if d is None else f"{d:.2f}%"


def points(value) -> str:
    """A score or points without trailing zeros: 19, 94.16, 82.6, 0.5."""
    d = scoring.round_half_up(value, 2)
    if d is None:
        return ""
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def plain_number(value) -> str:
    """An indicator's target or actual: 10000, 4.9, 2000462 (no separators, as the seed's tables)."""
    if value is None:
        return ""
    d = Decimal(str(value))
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def clean(text) -> str:
    """Typed text as written, minus what cannot go into a .docx (control characters) and our markers."""
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    return _UNSAFE.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n")).strip()


_CN = "零一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (section numbers; beyond 99 the digits)."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _CN[tens]) + "十" if tens else "") + (_CN[ones] if ones or not tens else "")


# ---------------------------------------------------------------- notes and placeholders


@dataclass
class _Notes:
    """The comments of one draft, referred to from rendered text by a marker."""

    texts: list[str] = field(default_factory=list)

    def figure(self, text: str, note: str = "") -> str:
        if not note:
            return text
        self.texts.append(note)
        return f"{text}{_NOTE_OPEN}{len(self.texts) - 1}{_NOTE_CLOSE}"


def highlighted(text: str) -> str:
    return f"{_MARK_OPEN}{text}{_MARK_CLOSE}"


def ask(what: str) -> str:
    return highlighted(f"【请补充：{what}】")


def typed(value: Value | None, what: str) -> str:
    """The unit's text as written, or a visible request for it."""
    text = clean(None if value is None or value.is_error else value.raw)
    return text or ask(what)


def _text_of(value: Value | None) -> str:
    return clean(None if value is None or value.is_error else value.raw)


# ---------------------------------------------------------------- the context of a draft


def _grade_matches(declared: str | None, grade: str | None, fw: Framework) -> bool:
    if not declared or not grade:
        return not declared
    band = next((g for g in fw.grades if g.label == grade), None)
    names = {grade} | set(band.aliases if band else ())
    return declared.strip() in names


def _score_figure(notes: _Notes, score, declared, what: str) -> str:
    if score is None:  # not all filled in (or unreadable): the check's findings say what
        return highlighted("【待复核】")
    note = ""
    if declared is not None and scoring.round_half_up(declared, 2) != scoring.round_half_up(score, 2):
        note = f"{what}：单位自评为{points(declared)}分，按填报数据复核为{points(score)}分，本稿采用复核结果。"
    return notes.figure(points(score), note)


def _grade_figure(notes: _Notes, grade, declared, fw: Framework, what: str) -> str:
    if grade is None:
        return highlighted("【待复核】")
    note = ""
    if declared and not _grade_matches(declared, grade, fw):
        note = f"{what}：单位自评为“{clean(declared)}”，按复核得分应为“{grade}”，本稿采用复核结果。"
    return notes.figure(grade, note)


def _target_text(row: dict) -> str:
    if row.get("kind") == "qualitative" or row.get("sign") == "定性":
        wording = row.get("target")
        return clean(wording) if isinstance(wording, str) and wording.strip() else "定性指标"
    number = plain_number(row.get("target"))
    if not number:
        return ask("年初目标值")
    sign = row.get("sign") or ""
    return f"{sign if sign in ('≥', '>', '≤', '<', '=') else ''}{number}{clean(row.get('unit'))}"


def _actual_text(row: dict) -> str:
    if row.get("kind") == "qualitative" or row.get("sign") == "定性":
        band = clean(row.get("band"))
        number = plain_number(row.get("actual"))
        shown = "，".join(x for x in (band, number + clean(row.get("unit")) if number else "") if x)
        return shown or ask("定性评价档次")
    number = plain_number(row.get("actual"))
    return f"{number}{clean(row.get('unit'))}" if number else ask("实际完成值")


def _reason(rows: list[IndicatorRow], index: int) -> Value | None:
    return rows[index - 1].reason if 0 < index <= len(rows) else None


def _date_text(value: Value | None) -> str:
    """填报日期 as the report writes it (2022年6月30日): the date the reader typed, else the cell's text."""
    if value is not None and value.date is not None:
        return f"{value.date.year}年{value.date.month}月{value.date.day}日"
    raw = None if value is None or value.is_error else value.raw
    if isinstance(raw, _dt.datetime):
        raw = raw.date()
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and 20000 < raw < 80000:
        raw = _dt.date(1899, 12, 30) + _dt.timedelta(days=int(raw))  # an Excel serial date
    if isinstance(raw, _dt.date):
        return f"{raw.year}年{raw.month}月{raw.day}日"
    return clean(raw)


def department_context(result: Result, sub: Submission, fw: Framework, notes: _Notes) -> dict:
    ev = result.evaluations[0] if result.evaluations else Evaluation(name=sub.unit_name)
    criteria = []
    for c in ev.criteria:
        own = [r for r in sub.criteria if r.criterion == c["name"]]
        taken = [r for r in own if (scoring.to_decimal(r.deduction.raw) or 0) > 0]
        blank = sum(1 for r in own if r.deduction.blank)
        criteria.append(
            {
                "name": c["name"],
                "points": points(c["points"]),
                "score": _score_figure(notes, c.get("score"), c.get("declared"), f"{c['name']}得分"),
                "grade": (scoring.grade(Decimal(c["score"]) / Decimal(c["points"]) * 100, fw.grades) if c.get("score") is not None and c["points"] else None) or "",
                "deducted": _deductions(taken) + (ask(f"评分表中{blank}个指标的扣分（没有扣分填 0）") if blank else ""),
            }
        )
    goals, unmet = [], []
    rows_by_goal: dict[int, list[dict]] = {}
    for row in ev.indicators:
        rows_by_goal.setdefault(row["block"], []).append(row)
    for goal in sub.goals:
        if goal.empty:
            continue
        name = _text_of(goal.name) or ask(f"年度目标 {goal.index} 的名称")
        rows = []
        for row in rows_by_goal.get(goal.index, []):
            item = {
                "level1": clean(row["level1"]), "level2": clean(row["level2"]), "name": clean(row["name"]),
                "target": _target_text(row), "actual": _actual_text(row), "met": row.get("met"),
            }
            rows.append(item)
            if row.get("met") is False:
                unmet.append({**item, "goal": name, "reason": typed(_reason(goal.rows, row["row"]), "未完成的原因")})
        goals.append({"index": goal.index, "name": name, "rows": rows})
    budget = sub.budget
    return {
        "unit": clean(sub.unit_name),
        "year": sub.year or "",
        "total": _score_figure(notes, ev.score, ev.declared_score, "综合绩效得分"),
        "grade": _grade_figure(notes, ev.grade, ev.declared_grade, fw, "评价等级"),
        "total_points": points(sum((c["points"] for c in ev.criteria), Decimal(0))) if ev.criteria else "100",
        "criteria": criteria,
        "final": money(ev.executed) or ask("决算数"),
        "adjusted": money(ev.budget) or ask("调整预算数"),
        "initial": money(ev.initial_budget) or ask("年初预算数"),
        "execution_rate": percent(ev.execution_rate) or highlighted("【无法计算】"),
        "initial_rate": percent(ev.initial_budget_completion_rate) or highlighted("【无法计算】"),
        "budget_note": _text_of(budget.get("note")),
        "goals": goals,
        "unmet": unmet,
        "problems": typed(sub.problems, "存在的问题和原因"),
        "improvements": typed(sub.improvements, "下一步拟改进措施"),
        "date": _date_text(sub.info.get("date")),
    }


def _deductions(rows) -> str:
    """"绩效指标明确性、预算调整率各扣0.5分" as seed 000 writes it, then each reason as typed."""
    if not rows:
        return ""
    amounts = [points(scoring.to_decimal(r.deduction.raw)) for r in rows]
    names = [clean(r.name) for r in rows]
    if len(set(amounts)) == 1:
        head = f"{'、'.join(names)}{'各' if len(rows) > 1 else ''}扣{amounts[0]}分"
    else:
        head = "，".join(f"{n}扣{a}分" for n, a in zip(names, amounts))
    reasons = "\n".join(f"{clean(r.name)}：{typed(r.reason, '扣分原因')}" for r in rows)
    return f"{head}。\n{reasons}"


def project_context(result: Result, sub: Submission, fw: Framework, notes: _Notes) -> dict:
    projects = []
    by_category: dict[str, list[dict]] = {c.name: [] for c in fw.categories}
    for ev in result.evaluations:
        block = _block_of(ev, sub.projects)
        criteria = {c["name"]: c for c in ev.criteria}
        parts = [f"{c['name']}得分{_score_figure(notes, c.get('score'), None, c['name'])}分" for c in ev.criteria]
        rows = block.rows if block else []
        for row in ev.indicators:
            category = next((c.name for c in fw.categories if c.name == row["level1"]), None)
            if category is None:
                continue
            by_category[category].append(
                {
                    "project": clean(ev.name), "level2": clean(row["level2"]), "name": clean(row["name"]),
                    "target": _target_text(row), "actual": _actual_text(row), "points": points(row.get("points")),
                    "score": _score_figure(notes, row.get("score"), row.get("declared"), f"{clean(ev.name)}“{clean(row['name'])}”得分"),
                    "reason": _text_of(_reason(rows, row["row"])),
                }
            )
        projects.append(
            {
                "name": clean(ev.name),
                "budget": money(ev.budget) or ask("全年预算数"),
                "executed": money(ev.executed) or ask("全年执行数"),
                "rate": percent(ev.execution_rate) or highlighted("【无法计算】"),
                "note": _text_of(block.note) if block else "",
                "implementation": typed(block.implementation if block else None, f"{clean(ev.name)}的实施情况"),
                "parts": "，".join(parts),
                "criteria": [
                    {"name": c["name"], "points": points(c["points"]), "score": _score_figure(notes, c.get("score"), None, c["name"])}
                    for c in criteria.values()
                ],
                "score": _score_figure(notes, ev.score, ev.declared_score, f"{clean(ev.name)}综合得分"),
                "grade": _grade_figure(notes, ev.grade, ev.declared_grade, fw, f"{clean(ev.name)}评价等级"),
            }
        )
    texts = sub.texts
    conclusion = _text_of(texts.get("conclusion"))
    return {
        "unit": clean(sub.unit_name),
        "year": sub.year or "",
        "projects": projects,
        "categories": [{"name": c.name, "points": points(c.points), "rows": by_category[c.name]} for c in fw.categories],
        "execution_name": fw.execution_name,
        "background": typed(texts.get("background"), "项目立项背景和依据"),
        "analysis": typed(texts.get("analysis"), "问题分析"),
        "conclusion_note": conclusion,
        "conclusion_given": bool(conclusion),
        "problems": typed(sub.problems, "存在的问题"),
        "improvements": typed(sub.improvements, "改进措施"),
        "date": _date_text(sub.info.get("date")),
    }


def _block_of(ev: Evaluation, blocks: list[ProjectBlock]) -> ProjectBlock | None:
    if ev.indicators:
        index = ev.indicators[0]["block"]
        return next((b for b in blocks if b.index == index), None)
    return next((b for b in blocks if _text_of(b.name) == ev.name), None)


# ---------------------------------------------------------------- templates (data)


@dataclass(frozen=True)
class ReportTemplate:
    source: str
    title: str
    blocks: tuple


def _environment():
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)
    env.filters["cn"] = chinese_number
    env.globals.update(ask=ask, mark=highlighted)  # {{ ask('…') }} → a highlighted 【请补充：…】
    return env


_TABLES = {"department": ("score_results", "goal"), "project": ("indicators", "project_scores")}
_LISTS = {"department": ("criteria", "goals", "unmet"), "project": ("projects", "categories")}


def load_template(fw: Framework) -> ReportTemplate:
    """The framework's report template, or the bundled one of its kind (read once per change)."""
    name = fw.report_template or fw.kind
    path = Path(name) if name.lower().endswith((".yaml", ".yml")) else TEMPLATES / f"{name}.yaml"
    try:
        stamp = path.stat().st_mtime_ns if path.is_file() else None
    except OSError:
        stamp = None
    if stamp is None:
        known = "、".join(sorted(p.stem for p in TEMPLATES.glob("*.yaml")))
        raise ReportTemplateError(f"找不到报告模板“{name}”（框架 {fw.name} 的 report_template）。可用的自带模板：{known}；也可以写框架文件旁的 YAML 文件名。")
    return _load_template(str(path), stamp, fw.kind)


@lru_cache(maxsize=16)
def _load_template(path_text: str, _stamp: int, kind: str) -> ReportTemplate:
    path = Path(path_text)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReportTemplateError(f"报告模板 {path.name} 无法读取：{exc}。请改正后再试。") from None
    return parse_template(data, path.name, kind)


def parse_template(data, source: str, kind: str) -> ReportTemplate:
    env = _environment()

    def fail(where: str, what: str):
        raise ReportTemplateError(f"报告模板 {source} 的 {where}：{what}")

    def compile_text(text, where):
        if not isinstance(text, (str, int, float)):
            fail(where, f"应当是文字，实际是 {text!r}")
        try:
            return env.from_string(str(text))
        except Exception as exc:  # jinja2.TemplateSyntaxError and kin
            fail(where, f"Jinja2 模板有误：{exc}")

    def blocks(items, where):
        if not isinstance(items, list) or not items:
            fail(where, "应当是非空的块列表")
        out = []
        for i, item in enumerate(items):
            here = f"{where}[{i + 1}]"
            if not isinstance(item, dict):
                fail(here, "每个块应当是“键: 值”的映射")
            kinds = [k for k in ("heading", "text", "table", "for") if k in item]
            if len(kinds) != 1:
                fail(here, "每个块只能有 heading、text、table、for 中的一项")
            block = {"kind": kinds[0]}
            if "when" in item:
                try:
                    block["when"] = env.compile_expression(str(item["when"]))
                except Exception as exc:
                    fail(here + ".when", f"条件有误：{exc}")
            if kinds[0] in ("heading", "text"):
                block["template"] = compile_text(item[kinds[0]], here)
                level = item.get("level", 1)
                if kinds[0] == "heading" and level not in (1, 2, 3):
                    fail(here + ".level", f"应当是 1、2 或 3，实际是 {level!r}")
                block["level"] = level if kinds[0] == "heading" else 0
                block["align"] = str(item.get("align", ""))
                if block["align"] not in ("", "left", "center", "right"):
                    fail(here + ".align", f"应当是 left、center 或 right，实际是 {item['align']!r}")
            elif kinds[0] == "table":
                if item["table"] not in _TABLES[kind]:
                    fail(here, f"没有名为“{item['table']}”的表格，可用：{'、'.join(_TABLES[kind])}")
                block["table"] = item["table"]
            else:
                if item["for"] not in _LISTS[kind]:
                    fail(here, f"没有名为“{item['for']}”的列表，可用：{'、'.join(_LISTS[kind])}")
                block["list"] = item["for"]
                block["blocks"] = blocks(item.get("blocks"), here + ".blocks")
            out.append(block)
        return tuple(out)

    if not isinstance(data, dict):
        fail("（文件）", "顶层应当是“键: 值”的映射，含 title 和 blocks")
    if "title" not in data:
        fail("title", "缺少这一项")
    title = compile_text(data["title"], "title")
    return ReportTemplate(source, title, blocks(data.get("blocks"), "blocks"))


# ---------------------------------------------------------------- the document


def _set_fonts(style, latin: str, east_asian: str, size=None, bold=None) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = style.font
    font.name = latin
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.color.rgb = RGBColor(0, 0, 0)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    for key in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(key), east_asian if key == "w:eastAsia" else latin)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)


def _new_document():
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    styles = doc.styles
    _set_fonts(styles["Normal"], "仿宋", "仿宋", size=14)
    normal = styles["Normal"].paragraph_format
    normal.first_line_indent = Pt(28)
    normal.line_spacing = Pt(26)
    normal.space_after = Pt(0)
    for name, size in (("Heading 1", 15), ("Heading 2", 14), ("Heading 3", 14)):
        _set_fonts(styles[name], "宋体", "宋体", size=size, bold=True)
        fmt = styles[name].paragraph_format
        fmt.space_before, fmt.space_after, fmt.first_line_indent = Pt(8), Pt(4), Pt(0)
    title = styles.add_style("报告标题", WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = styles["Normal"]
    _set_fonts(title, "宋体", "宋体", size=20, bold=True)
    title.paragraph_format.first_line_indent = Pt(0)
    title.paragraph_format.line_spacing = Pt(32)
    table_text = styles.add_style("表格文字", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = styles["Normal"]
    _set_fonts(table_text, "宋体", "宋体", size=10.5)
    table_text.paragraph_format.first_line_indent = Pt(0)
    table_text.paragraph_format.line_spacing = 1.0
    return doc


class _Writer:
    def __init__(self, doc, notes: _Notes):
        self.doc = doc
        self.notes = notes
        self.comments = hasattr(doc, "add_comment")

    def runs(self, paragraph, text: str) -> None:
        """Text with markers → runs: highlighted pieces, and a comment on the figure before a note."""
        from docx.enum.text import WD_COLOR_INDEX

        last = None
        position = 0
        for match in _PIECES.finditer(text):
            if match.start() > position:
                last = paragraph.add_run(text[position : match.start()])
            if match.group(1) is not None:
                last = paragraph.add_run(match.group(1))
                last.font.highlight_color = WD_COLOR_INDEX.YELLOW
            else:
                note = self.notes.texts[int(match.group(2))]
                if last is None:
                    last = paragraph.add_run("")
                last.font.highlight_color = WD_COLOR_INDEX.YELLOW
                if self.comments:
                    self.doc.add_comment(last, text=note, author=AUTHOR, initials="XL")
                else:
                    extra = paragraph.add_run(f"【注：{note}】")
                    extra.font.highlight_color = WD_COLOR_INDEX.YELLOW
            position = match.end()
        if position < len(text):
            paragraph.add_run(text[position:])

    def style_id(self, name: str) -> str:
        cache = self.__dict__.setdefault("_style_ids", {})
        if name not in cache:
            cache[name] = self.doc.styles[name].style_id
        return cache[name]

    def paragraphs(self, text: str, style: str | None = None, align: str = "") -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        for line in text.split("\n"):
            if not line.strip():
                continue
            p = self.doc.add_paragraph()
            if style is not None:
                p._p.style = self.style_id(style)
            if align == "right":
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            elif align == "center":
                p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            self.runs(p, line.strip())

    def table(self, header: list[str], rows: list[list[str]], widths_mm: list[float] | None = None):
        """A grid table across the text width: fixed column widths (LibreOffice and WPS honour
        those, not autofit), the header bold and repeated on every page."""
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Mm

        table = self.doc.add_table(rows=1 + len(rows), cols=len(header))
        table.style = self.doc.styles["Table Grid"]
        table.autofit = False
        weights = widths_mm or [1.0] * len(header)
        widths_mm = [TEXT_WIDTH_MM * w / sum(weights) for w in weights]
        for c, width in enumerate(widths_mm):
            table.columns[c].width = Mm(width)
        for i, row in enumerate(table.rows):  # a row is never split across pages; the header repeats
            for tag in ("w:cantSplit",) + (("w:tblHeader",) if i == 0 else ()):
                flag = OxmlElement(tag)
                flag.set(qn("w:val"), "true")
                row._tr.get_or_add_trPr().append(flag)
        # python-docx's table.cell() and paragraph.style look up the whole table and every style
        # on each call: a row's cells are taken once and the style set by its id.
        style_id = self.style_id("表格文字")
        for r, values in enumerate([header] + rows):
            cells = table.rows[r].cells
            for c, value in enumerate(values):
                cell = cells[c]
                p = cell.paragraphs[0]
                p._p.style = style_id
                self.runs(p, str(value))
                if r == 0:
                    for run in p.runs:
                        run.font.bold = True
                cell.width = Mm(widths_mm[c])
        self.doc.add_paragraph()
        return table


def _tables(kind: str, name: str, ctx: dict, item: dict | None, w: _Writer) -> None:
    if name == "score_results":
        rows = [[c["name"], f"{c['points']}分", f"{c['score']}分", c["grade"]] for c in ctx["criteria"]]
        rows.append(["综合绩效", f"{ctx['total_points']}分", f"{ctx['total']}分", ctx["grade"]])
        w.table(["评价准则", "准则分值", "评价得分", "评价等级"], rows, [3, 2, 2, 2])
    elif name == "goal" and item is not None:
        rows = [[f"年度目标{item['index']}：{item['name']}", "", "", "", ""]]
        rows += [[r["level1"], r["level2"], r["name"], r["target"], r["actual"]] for r in item["rows"]]
        table = w.table(["一级指标", "二级指标", "指标名称", "年初目标值", "实际完成值"], rows, [20, 28, 50, 28, 28])
        table.cell(1, 0).merge(table.cell(1, 4))
    elif name == "indicators" and item is not None:
        rows = [[r["project"], r["level2"], r["name"], r["target"], r["actual"], r["points"], r["score"]] for r in item["rows"]]
        w.table(["项目", "二级指标", "指标名称", "指标值", "实际完成值", "分值", "得分"], rows or [["（无）", "", "", "", "", "", ""]], [26, 22, 44, 20, 24, 10, 12])
    elif name == "project_scores":
        names = [c["name"] for c in ctx["projects"][0]["criteria"]] if ctx["projects"] else []
        rows = [[p["name"], p["rate"], *[c["score"] for c in p["criteria"]], p["score"], p["grade"]] for p in ctx["projects"]]
        w.table(["项目", "预算执行率", *[f"{n}得分" for n in names], "综合得分", "评价等级"], rows)


def _render(blocks, ctx: dict, w: _Writer, kind: str, item: dict | None = None) -> None:
    for block in blocks:
        if "when" in block and not block["when"](**ctx):
            continue
        if block["kind"] == "heading":
            w.paragraphs(block["template"].render(**ctx), style=f"Heading {block['level']}")
        elif block["kind"] == "text":
            w.paragraphs(block["template"].render(**ctx), align=block["align"])
        elif block["kind"] == "table":
            _tables(kind, block["table"], ctx, item, w)
        else:
            for i, entry in enumerate(ctx[block["list"]]):
                loop = {"index": i + 1, "first": i == 0, "last": i == len(ctx[block["list"]]) - 1}
                _render(block["blocks"], {**ctx, "item": entry, "loop": loop}, w, kind, entry)


def build_draft(result: Result, sub: Submission, fw: Framework, template: ReportTemplate | None = None):
    """The draft as a python-docx Document (not saved)."""
    template = template or load_template(fw)
    notes = _Notes()
    ctx = department_context(result, sub, fw, notes) if fw.kind == "department" else project_context(result, sub, fw, notes)
    doc = _new_document()
    w = _Writer(doc, notes)
    w.paragraphs(template.title.render(**ctx), style="报告标题", align="center")
    if result.status != "passed":
        w.paragraphs(highlighted(
            f"【本初稿由检查程序按复核结果写出。该工作簿检查未通过（错误 {result.errors} 处），"
            "请先按检查意见修改工作簿、重新检查后再定稿。】"
        ))
    _render(template.blocks, ctx, w, fw.kind)
    doc.core_properties.title = f"{ctx['unit']}{ctx['year']}年度自评报告初稿"
    doc.core_properties.author = AUTHOR
    return doc


def draft_filename(file: str) -> str:
    """'…/武昌区档案馆2020.xlsx' → '武昌区档案馆2020_自评报告初稿.docx'."""
    return output_filename(file, "_自评报告初稿.docx")


def write_draft(result: Result, sub: Submission, fw: Framework, out_dir, filename: str | None = None) -> Path:
    """Write the draft of one checked file (atomically) into out_dir."""
    target = Path(out_dir) / (filename or draft_filename(result.file))
    doc = build_draft(result, sub, fw)
    with _atomic(target) as tmp:
        doc.save(str(tmp))
    return target
