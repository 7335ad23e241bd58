"""Approved targets (批复的绩效目标): what finance approved for each project or annual goal, and
the checks a file of them must pass before a single template is written. Pure: no files.

A block is one project (project kind) or one annual goal (unit-wide kind) of one unit; its rows
are the indicators finance approved, in the order the template will show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from xltool.core.framework import Framework
from xltool.core.model import UnitInfo

_ZERO = Decimal(0)


@dataclass(frozen=True)
class ApprovedIndicator:
    row: int  # the file's row, as Excel numbers it (header = 1)
    level1: str
    level2: str
    name: str
    sign: str  # one of core.targets.SIGNS
    target: Decimal | None  # None for 定性
    unit: str
    points: Decimal | None  # None where the kind does not score rows (unit-wide goals)
    adjusted: Decimal | None = None  # 调整后指标值, after an approved mid-year adjustment
    wording: str = ""  # a 定性 row's 指标值 as approved ("档案保管安全，无丢失损毁"); "" otherwise

    @property
    def shown_target(self) -> Decimal | str | None:
        """What the template shows as 年初指标值: the number, or a 定性 row's wording (None if none)."""
        return self.target if self.target is not None else (self.wording or None)


@dataclass(frozen=True)
class ApprovedBlock:
    unit_code: str
    name: str  # the project's name, or the annual goal's
    goal_text: str  # 预期目标 (年度总体目标), "" when not given
    indicators: tuple[ApprovedIndicator, ...]
    complete: bool = True  # False: some of its rows could not be read (their problems are listed)

    @property
    def first_row(self) -> int:
        return self.indicators[0].row if self.indicators else 0


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def check_blocks(blocks: list[ApprovedBlock], units: list[UnitInfo], frameworks: dict[str, Framework]) -> list[str]:
    """Every problem of a set of approved blocks against the roster, as sentences naming the row:
    a unit the roster does not have, a project the unit does not have, an 一级/二级 the framework
    does not know, more rows than the template holds, points that do not add up to the
    framework's. `frameworks` maps a unit code to the framework its template uses."""
    problems: list[str] = []
    by_code = {u.code: u for u in units}
    goals_seen: dict[str, list[str]] = {}
    for block in blocks:
        unit = by_code.get(block.unit_code)
        where = f"第 {block.first_row} 行"
        if unit is None:
            problems.append(f"{where}“单位编码”列：名册中没有单位编码 {block.unit_code}，请核对编码或先把该单位加入名册。")
            continue
        fw = frameworks[block.unit_code]
        if unit.kind == "project":
            names = [p.name for p in unit.projects]
            if block.name not in names:
                known = "、".join(f"“{n}”" for n in names[:5]) or "（没有项目）"
                problems.append(f"{where}“项目名称”列：{unit.name}在名册中没有项目“{block.name}”（名册中的项目：{known}），请核对项目名称。")
                continue
        else:
            goals = goals_seen.setdefault(block.unit_code, [])
            goals.append(block.name)
            if len(goals) == fw.goals + 1:
                problems.append(f"{where}“年度目标”列：{unit.name}的年度目标超过模板的 {fw.goals} 个，请合并或删减。")
        if len(block.indicators) > fw.indicator_rows:
            problems.append(
                f"{where}起：{unit.name}“{block.name}”有 {len(block.indicators)} 个指标，模板每块只有 {fw.indicator_rows} 行，请合并或删减指标。"
            )
        problems += _levels(block, fw)
        if unit.kind == "project" and block.complete:  # a sum without the unread rows would mislead
            problems += _points(block, unit, fw)
    return problems


def _levels(block: ApprovedBlock, fw: Framework) -> list[str]:
    problems = []
    categories = {c.name: c for c in fw.categories}
    for ind in block.indicators:
        cat = categories.get(ind.level1)
        if cat is None:
            problems.append(f"第 {ind.row} 行“一级指标”列：“{ind.level1}”不是本框架的一级指标，请填写{'、'.join(categories)}之一。")
        elif ind.level2 and ind.level2 not in cat.subcategories:  # the template's list refuses it too
            problems.append(f"第 {ind.row} 行“二级指标”列：“{ind.level2}”不属于“{cat.name}”，请填写{'、'.join(cat.subcategories)}之一。")
    return problems


def _points(block: ApprovedBlock, unit: UnitInfo, fw: Framework) -> list[str]:
    """Each 一级指标's rows add up to its points, as the checker will demand of the returned file."""
    problems = []
    if any(ind.points is None for ind in block.indicators):
        return problems  # a missing 分值 is reported on its row
    for cat in fw.categories:
        mine = [ind for ind in block.indicators if ind.level1 == cat.name]
        total = sum((ind.points for ind in mine), _ZERO)
        if cat.points is not None and total != cat.points:
            at = f"第 {mine[0].row} 行起" if mine else f"第 {block.first_row} 行起"
            problems.append(
                f"{at}：{unit.name}“{block.name}”的“{cat.name}”分值合计 {_plain(total)} 分，框架规定 {_plain(cat.points)} 分，请调整各指标分值。"
            )
    return problems
