"""The approved targets file (绩效目标批复表): one row per approved indicator, read by the roster's
rules (CSV in UTF-8, GBK or UTF-16, or XLSX; headings compared loosely; every problem listed at
once with its row and column) and checked against the roster before any template is written.

| column        | English   | required             | meaning                                          |
|---------------|-----------|----------------------|--------------------------------------------------|
| 单位编码      | unit_code | yes                  | as in the roster                                 |
| 项目名称      | project   | project kind         | as in the roster                                 |
| 年度目标      | goal      | unit-wide kind       | the annual goal the row belongs to               |
| 一级指标      | level1    | yes                  | 产出指标 / 效益指标 / 满意度指标 (the framework's) |
| 二级指标      | level2    | no                   | 数量指标 …                                       |
| 三级指标      | name      | yes                  | the indicator's name                             |
| 计算符号      | sign      | no                   | ≥ > ≤ < = 定性; blank: read from 指标值 ("≥95%") |
| 指标值        | target    | yes (but 定性)       | a number, or a phrase such as "1万以上"; on a 定性 |
|               |           |                      | row the approved wording ("档案保管安全，无丢失损毁"), |
|               |           |                      | kept as written (up to 200 characters), pre-filled |
|               |           |                      | and locked as the template's 年初指标值            |
| 计量单位      | unit      | no                   | 册, %, 人次 …; blank: read from 指标值            |
| 分值          | points    | project kind         | points of the row                                |
| 调整后指标值  | adjusted  | no                   | after an approved mid-year adjustment            |
| 预期目标      | goal_text | no                   | 年度总体目标 of the project                       |
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xltool.core.approved import ApprovedBlock, ApprovedIndicator, check_blocks
from xltool.core.declaration import kept_exactly
from xltool.core.framework import FrameworkError, load_framework
from xltool.core.model import NUMBER_MAX, UnitInfo
from xltool.core.scoring import as_excel_shows
from xltool.core.targets import SIGNS, Target, normalize_text, parse_targets
from xltool.template.roster import RosterError, TableKind, _fail, _read_rows, _Row

COLUMNS = {
    "unit_code": ("单位编码", True),
    "project": ("项目名称", False),
    "goal": ("年度目标", False),
    "level1": ("一级指标", True),
    "level2": ("二级指标", False),
    "name": ("三级指标", True),
    "sign": ("计算符号", False),
    "target": ("指标值", False),
    "unit": ("计量单位", False),
    "points": ("分值", False),
    "adjusted": ("调整后指标值", False),
    "goal_text": ("预期目标", False),
}
TARGETS = TableKind("绩效目标批复表", COLUMNS, "每行填写一个指标")

WORDING_MAX = 200  # a 定性 row's wording, as the 申报表's 指标值 cell allows
_SIGN_WORDS = {">=": "≥", "=>": "≥", "<=": "≤", "=<": "≤", "==": "=", "≧": "≥", "≦": "≤"}
# A 指标值 holding one of these says its own comparison; a bare number ("95") does not.
_SAYS_SIGN = ("≥", "≤", ">", "<", "=", "以上", "以下", "以内", "不少于", "不低于", "不超过", "不高于", "低于", "少于",
              "高于", "超过", "大于", "小于", "至少", "至多", "最多", "为零")


def read_targets(path: str | Path, units: list[UnitInfo], notes: list[str] | None = None) -> dict[tuple[str, str], ApprovedBlock]:
    """The approved blocks of a targets file, keyed by (unit code, project or goal name). Every
    problem — of a cell, or of a block against the roster and its framework — is raised together
    as one RosterError, so the file is corrected in one go and no template is written from it."""
    path = Path(path)
    rows = _read_rows(path, notes, TARGETS)
    blocks = build_blocks(rows, units, path.name)
    return {(b.unit_code, b.name): b for b in blocks}


def build_blocks(rows: list[_Row], units: list[UnitInfo], source: str = "绩效目标批复表") -> list[ApprovedBlock]:
    by_code = {u.code: u for u in units}
    problems: list[str] = []
    grouped: dict[tuple[str, str], dict] = {}
    for row in rows:
        v = row.values
        code = v.get("unit_code", "")
        unit = by_code.get(code)
        kind = unit.kind if unit else ("project" if v.get("project") else "department")
        block_key = "project" if kind == "project" else "goal"
        block_name = v.get(block_key, "")
        before = len(problems)
        if not code:
            problems.append(f"第 {row.number} 行“单位编码”列为空，请补全。")
        if not block_name:
            problems.append(f"第 {row.number} 行“{COLUMNS[block_key][0]}”列为空：{'项目支出' if kind == 'project' else '部门整体'}评价的每个指标都要写明所属的{COLUMNS[block_key][0]}。")
        indicator = _indicator(row, kind, problems)
        group = grouped.setdefault((code, block_name), {"goal_text": "", "rows": [], "goal_row": 0, "complete": True})
        if len(problems) > before or indicator is None:
            group["complete"] = False
            continue
        text = v.get("goal_text", "")
        if text:
            if group["goal_text"] and group["goal_text"] != text:
                problems.append(f"第 {row.number} 行“预期目标”列：与第 {group['goal_row']} 行写的不同；同一{COLUMNS[block_key][0]}的预期目标只写一次，或每行写得一样。")
            elif not group["goal_text"]:
                group["goal_text"], group["goal_row"] = text, row.number
        group["rows"].append(indicator)
    blocks = [
        ApprovedBlock(code, name, g["goal_text"], tuple(g["rows"]), g["complete"])
        for (code, name), g in grouped.items() if code and name and g["rows"]
    ]
    frameworks = {}
    for unit in units:
        try:
            frameworks[unit.code] = load_framework(unit.framework or unit.kind)
        except FrameworkError as exc:  # the roster was read with the same frameworks: only if one vanished since
            problems.append(f"单位 {unit.name} 的框架无法读取：{exc}")
    if len(frameworks) == len(units):
        problems += check_blocks(blocks, units, frameworks)
    if problems:
        raise _fail(source, problems, TARGETS)
    if not blocks:
        raise RosterError(f"绩效目标批复表 {source} 没有数据行。请在表头下面每行填写一个指标。")
    return blocks


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain_number(text: str) -> Decimal | None:
    """A cell that holds nothing but a number, in any notation a spreadsheet writes it ("95",
    "1,000", "5E-05", "1.5e+3"), as that number; None for anything else (a phrase such as "1万以上")."""
    try:
        value = Decimal(unicodedata.normalize("NFKC", text).replace(",", "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _number(row: _Row, key: str, problems: list[str], what: str) -> Decimal | None:
    text = row.values.get(key, "")
    if not unicodedata.normalize("NFKC", text).replace(",", "").strip():
        return None
    value = _plain_number(text)
    if value is None or value < 0:
        problems.append(f"第 {row.number} 行“{COLUMNS[key][0]}”列：“{row.values[key]}”不是{what}，请只填数字（不要带单位或文字）。")
        return None
    return value


def _indicator(row: _Row, kind: str, problems: list[str]) -> ApprovedIndicator | None:
    v = row.values
    before = len(problems)
    for key in ("level1", "name"):
        if not v.get(key):
            problems.append(f"第 {row.number} 行“{COLUMNS[key][0]}”列为空，请补全。")
    sign_text = normalize_text(v.get("sign", ""))
    sign = _SIGN_WORDS.get(sign_text, sign_text)
    if sign and sign not in SIGNS:
        problems.append(f"第 {row.number} 行“计算符号”列：“{v['sign']}”不是计算符号，请填写 ≥ > ≤ < = 或“定性”。")
    target_text = v.get("target", "")
    unit = v.get("unit", "")
    value = None
    # A 定性 row's 指标值 is the approved wording, kept as written: it is never read as a number,
    # nor cut into several targets at its commas.
    wording = target_text.strip() if sign == "定性" else ""
    plain = _plain_number(target_text) if sign != "定性" else None
    if plain is not None:  # 95, 0.00005, or 5E-05 as Excel writes a small number: the number itself
        pieces = [Target("=" if plain.is_zero() else "≥", plain, "", text=target_text)]
    else:
        pieces = parse_targets(target_text) if target_text and sign != "定性" else []
    if len(pieces) > 1 and all(p.value is None for p in pieces):
        pieces = pieces[:1]  # words without a number: one 定性 wording whose 计算符号 was left blank
    if len(pieces) > 1:
        shown = "”“".join(p.text for p in pieces)
        problems.append(f"第 {row.number} 行“指标值”列：一格写了 {len(pieces)} 个目标（“{shown}”），请拆成 {len(pieces)} 行，每行一个指标。")
    elif pieces:
        piece = pieces[0]
        if piece.value is None:
            problems.append(
                f"第 {row.number} 行“指标值”列：“{target_text}”读不出数值，请只填数字（如 95），比较关系填在“计算符号”列；定性指标请在“计算符号”列填“定性”。"
            )
        elif sign and piece.sign != sign and any(w in normalize_text(piece.text) for w in _SAYS_SIGN):
            problems.append(f"第 {row.number} 行：“计算符号”列是 {sign}，“指标值”列却写“{target_text}”，请只保留一种说法。")
        elif abs(piece.value) > NUMBER_MAX or not kept_exactly(piece.value):
            problems.append(f"第 {row.number} 行“指标值”列：{_short(target_text)} 超出模板能保存的范围（绝对值不超过 {NUMBER_MAX:,}，最多 15 位有效数字），请核对指标值和计量单位。")
        else:
            value = as_excel_shows(piece.value)  # the figure the template's number cell will show
            sign = sign or piece.sign
            unit = unit or piece.unit
    elif sign != "定性":
        problems.append(f"第 {row.number} 行“指标值”列为空：定量指标请填写指标值，定性指标请在“计算符号”列填“定性”。")
    elif len(wording) > WORDING_MAX:
        problems.append(f"第 {row.number} 行“指标值”列：定性指标的表述有 {len(wording)} 个字，超过 {WORDING_MAX} 个字，请精简。")
    points = _number(row, "points", problems, "分值")
    if kind == "project":
        if points is None and not v.get("points"):
            problems.append(f"第 {row.number} 行“分值”列为空：项目支出评价的每个指标都要有分值。")
        elif points is not None and not Decimal(0) < points <= 100:
            problems.append(f"第 {row.number} 行“分值”列：{v['points']} 不在 0 到 100 之间，请更正。")
    adjusted = _number(row, "adjusted", problems, "指标值")
    if len(problems) > before:
        return None
    return ApprovedIndicator(row.number, v["level1"], v.get("level2", ""), v["name"], sign or "定性", value, unit, points, adjusted, wording)


def apply_targets(units: list[UnitInfo], blocks: dict[tuple[str, str], ApprovedBlock]) -> list[UnitInfo]:
    """The units with their approved blocks attached: a project's indicators (and its 预期目标
    when the file gives one) on its ProjectInfo, a unit-wide unit's annual goals in file order.
    The blocks were checked against these units by read_targets."""
    from dataclasses import replace

    out = []
    for unit in units:
        mine = [b for (code, _name), b in blocks.items() if code == unit.code]
        if not mine:
            out.append(unit)
        elif unit.kind == "project":
            by_name = {b.name: b for b in mine}
            projects = tuple(
                replace(p, approved=by_name[p.name].indicators, goal_plan=by_name[p.name].goal_text or p.goal_plan) if p.name in by_name else p
                for p in unit.projects
            )
            out.append(replace(unit, projects=projects))
        else:
            out.append(replace(unit, goals=tuple((b.name, b.indicators) for b in mine)))
    return out
