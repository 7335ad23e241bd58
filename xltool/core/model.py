"""Plain data shared by the template writer, the reader, the checks and the report.

Nothing here touches a file: a Submission is what a returned workbook says, as read; a Finding is
one problem with a stable code and a place; a Result is one file's verdict with the recomputed
figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from xltool.core.cells import interpret

# ---------------------------------------------------------------- roster (what finance knows)


@dataclass(frozen=True)
class ProjectInfo:
    """One spending project as finance knows it before the archive fills anything."""

    name: str
    budget: Decimal | None = None  # 全年预算数（万元）
    executed: Decimal | None = None  # 全年执行数（万元），when finance already knows it
    initial: Decimal | None = None  # 年初预算数（万元） of 年度资金总额
    goal_plan: str | None = None  # 年度总体目标：预期目标 (the approved annual goal)
    # 其中 rows of 项目资金 known to finance: (source name, 年初预算数, 全年预算数, 全年执行数), by
    # the framework's fund_sources names; a None figure stays an input
    sources: tuple[tuple[str, Decimal | None, Decimal | None, Decimal | None], ...] = ()
    # the indicators finance approved (core.approved.ApprovedIndicator), pre-filled and locked
    approved: tuple = ()

    def source(self, name: str) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        for item in self.sources:
            if item[0] == name:
                return item[1], item[2], item[3]
        return None, None, None


# The template layout this release writes. 1: the first; 2: the print form's 年度指标值 shows a 定性
# row's approved wording (was the word 定性); 3: the 二级指标 dropdown lists only the 二级 of the
# row's 一级 (a defined name per 一级 on the lists sheet, reached with INDIRECT). A file keeps the
# layout it was made with: every layout a release ever wrote stays in LAYOUTS, and the builder
# still makes each.
LAYOUT_VERSION = 3
LAYOUTS = (1, 2, 3)

# The largest figures an input cell takes (the templates' validations and the checks say the same).
MONEY_MAX = 10**9  # 万元: far above any archive's budget, low enough to catch a typo in 元
NUMBER_MAX = 10**12  # an indicator's value

# The custom document property of every workbook this program writes as an output (summary,
# feedback, export, 批复表): a later run finds it among the returns and sets it aside.
OUTPUT_MARKER = "xltool-output"


@dataclass(frozen=True)
class UnitInfo:
    """One archive and year: a roster row, and everything pre-filled into its template."""

    name: str
    code: str
    year: int
    kind: str  # "project" | "department"
    framework: str = ""  # framework name or path; "" = the bundled one named like the kind
    initial_budget: Decimal | None = None  # 年初预算数
    adjusted_budget: Decimal | None = None  # 调整预算数
    final_accounts: Decimal | None = None  # 决算数
    projects: tuple[ProjectInfo, ...] = ()
    department: str = ""  # 主管部门; "" = the archive fills it in
    # unit-wide kind: the approved annual goals, (goal name, (ApprovedIndicator, …)), pre-filled and locked
    goals: tuple = ()
    # The layout its template was made with: LAYOUT_VERSION for a new one; a returned file's own
    # (from its `_meta`), so the checker rebuilds the very formulas that file was given.
    layout: int = LAYOUT_VERSION


# ---------------------------------------------------------------- what a workbook says


@dataclass(frozen=True, init=False)
class Value:
    """One input cell as read, and what it says, interpreted once (core.cells.interpret).

    raw is the content as seen (number, text, bool, None or an Excel error text such as
    '#DIV/0!'), for the findings' `seen`; sheet and cell say where it is; formula is its formula
    text when the cell holds one. The interpretation: number (a Decimal, or None), text (trimmed;
    "" when blank or an error), pure (a number or a number's text: nothing to report), reason (why
    the cell is not a plain number: core.cells' codes; None when blank or a number). It is worked
    out once, the first time any of the four is asked for, and kept (most cells of a returned
    template, blank rows and formula results, are never asked). The reader adds choice (the
    option a list cell names, None when it names none), date (a date cell's date; its reason
    then says why it is none) and percent_format (a number shown as a percent: "25%" typed is 0.25)."""

    raw: Any = None
    sheet: str = ""
    cell: str = ""
    formula: str | None = None
    is_error: bool = False
    # no class default: the first read of any of these goes through __getattr__, which types the cell
    number: Decimal | None = field(init=False, compare=False, repr=False)
    text: str = field(init=False, compare=False, repr=False)
    pure: bool = field(init=False, compare=False, repr=False)
    reason: str | None = field(init=False, compare=False, repr=False)
    choice: str | None = field(default=None, init=False, compare=False, repr=False)
    date: Any = field(default=None, init=False, compare=False, repr=False)
    # a number the cell shows as a percent: "25%" typed in Excel or Calc is kept as 0.25 (the reader)
    percent_format: bool = field(default=False, init=False, compare=False, repr=False)

    def __init__(self, raw: Any = None, sheet: str = "", cell: str = "", formula: str | None = None, is_error: bool = False):
        # frozen: the fields are set once, here (one dict update: the reader makes thousands)
        self.__dict__.update(raw=raw, sheet=sheet, cell=cell, formula=formula, is_error=is_error)

    def __getattr__(self, name: str):
        if name not in _TYPED:
            raise AttributeError(name)
        fields = self.__dict__
        fields.update(zip(_TYPED, interpret(fields.get("raw"), fields.get("is_error", False))))
        return fields[name]

    @classmethod
    def empty_at(cls, sheet: str, cell: str) -> "Value":
        """A blank cell's Value (what most of a template's input cells are)."""
        out = object.__new__(cls)
        fields = out.__dict__  # raw, formula, is_error: the class's defaults
        fields["sheet"] = sheet
        fields["cell"] = cell
        return out

    def typed(self, choice: str | None = None, date: Any = None, reason: str | None | object = ...) -> "Value":
        """This Value with the option it names (a list cell) or its date (a date cell) added."""
        out = object.__new__(Value)
        out.__dict__.update(self.__dict__, choice=choice, date=date)
        if reason is not ...:
            out.number  # typed first, so that the date's reason is not overwritten
            out.__dict__["reason"] = reason
        return out

    @property
    def blank(self) -> bool:
        return self.raw is None or (isinstance(self.raw, str) and not self.raw.strip())


_TYPED = ("number", "text", "pure", "reason")


EMPTY = Value()


@dataclass
class IndicatorRow:
    """One 绩效指标 row (a project's or an annual goal's)."""

    block: int  # project or goal number, from 1
    index: int  # row number inside the block, from 1
    level1: Value = EMPTY
    level2: Value = EMPTY
    name: Value = EMPTY
    sign: Value = EMPTY
    target: Value = EMPTY
    unit: Value = EMPTY
    actual: Value = EMPTY
    band: Value = EMPTY
    points: Value = EMPTY
    score: Value = EMPTY  # 自评得分 (declared)
    calc: Value = EMPTY  # the template's own formula result (never trusted)
    status: Value = EMPTY
    reason: Value = EMPTY
    adjusted: Value = EMPTY  # 年度指标值（调整后）: scores instead of target (年初指标值) when given
    adjust_note: Value = EMPTY  # 调整说明

    INPUT_FIELDS = ("level1", "level2", "name", "sign", "target", "adjusted", "unit", "actual", "band", "points", "score", "reason", "adjust_note")

    @property
    def empty(self) -> bool:
        # Value.blank, inlined: asked for every row by the evaluation, the checks and the reports
        for f in self.INPUT_FIELDS:
            raw = getattr(self, f).raw
            if raw is not None and not (isinstance(raw, str) and not raw.strip()):
                return False
        return True


@dataclass
class ProjectBlock:
    index: int
    name: Value = EMPTY
    budget: Value = EMPTY
    executed: Value = EMPTY
    rate: Value = EMPTY
    exec_score: Value = EMPTY
    note: Value = EMPTY
    declared_score: Value = EMPTY
    declared_grade: Value = EMPTY
    rows: list[IndicatorRow] = field(default_factory=list)
    implementation: Value = EMPTY  # 项目实施情况 (text sheet; for the report draft only)
    initial: Value = EMPTY  # 年度资金总额's 年初预算数
    # 其中 rows, in the framework's fund_sources order: (name, 年初预算数, 全年预算数, 全年执行数, 执行率)
    sources: list[tuple[str, Value, Value, Value, Value]] = field(default_factory=list)
    goal_plan: Value = EMPTY  # 年度总体目标：预期目标
    goal_done: Value = EMPTY  # 年度总体目标：实际完成情况

    @property
    def empty(self) -> bool:
        fields = (self.name, self.executed, self.note, self.declared_score, self.declared_grade, self.initial, self.goal_plan, self.goal_done)
        figures = [v for _name, *values in self.sources for v in values[:3]]
        return all(v.blank for v in (*fields, *figures)) and all(r.empty for r in self.rows)


@dataclass
class GoalBlock:
    index: int
    name: Value = EMPTY
    rows: list[IndicatorRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.name.blank and all(r.empty for r in self.rows)


@dataclass
class CriterionRow:
    criterion: str
    group: str
    name: str
    points: Value = EMPTY
    deduction: Value = EMPTY
    reason: Value = EMPTY


@dataclass
class Integrity:
    """Facts about the workbook as a returned template, gathered by the reader."""

    protected: dict[str, bool] = field(default_factory=dict)  # sheet → protection still on
    missing_sheets: list[str] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)
    name_places: dict[str, tuple[str, str]] = field(default_factory=dict)  # where each missing name should be
    moved_names: list[tuple[str, str, str]] = field(default_factory=list)  # name, expected ref, found ref
    resized_names: list[tuple[str, str, str]] = field(default_factory=list)  # same first cell, other extent
    changed_cells: list[tuple[str, str, str, Any, Any]] = field(default_factory=list)  # sheet, cell, role, expected, found
    fingerprint_ok: bool = True
    extra_content: list[tuple[str, str]] = field(default_factory=list)  # sheet, cell: content outside the template's cells
    notes: list[str] = field(default_factory=list)
    # an approved target's cell (role "target" in changed_cells) → what it is: 第 5 行“档案修复”的年初指标值
    target_labels: dict[tuple[str, str], str] = field(default_factory=dict)
    # Projects the roster (`check --roster`) and the workbook disagree on, matched by name:
    # (code, sheet, cell, unit, project, block) with code PROJECT_MISSING (a roster project the
    # workbook lacks; block: the roster's position, where it would be) or PROJECT_NOT_IN_ROSTER
    # (the workbook's block number holding a project the roster does not list).
    roster_projects: list[tuple[str, str, str, str, str, int]] = field(default_factory=list)


@dataclass
class Submission:
    path: str
    kind: str
    framework_name: str
    framework_version: str
    template_id: str
    unit_name: str
    unit_code: str
    year: int | None
    info: dict[str, Value] = field(default_factory=dict)
    budget: dict[str, Value] = field(default_factory=dict)  # department: initial, adjusted, final, rate, initial_rate, note
    projects: list[ProjectBlock] = field(default_factory=list)
    goals: list[GoalBlock] = field(default_factory=list)
    criteria: list[CriterionRow] = field(default_factory=list)
    measures: dict[int, tuple[Value, Value]] = field(default_factory=dict)  # criterion row index → inputs a, b of its formula
    declared: dict[str, Value] = field(default_factory=dict)  # criterion name / "total" / "grade" → declared value
    problems: Value = EMPTY
    improvements: Value = EMPTY
    # The project report's optional texts: background (立项背景和依据), analysis (问题分析),
    # conclusion (评价结论补充说明); absent keys and blank values are the same.
    texts: dict[str, Value] = field(default_factory=dict)
    integrity: Integrity = field(default_factory=Integrity)
    # text inputs longer than their cell allows (pasting skips the length validation):
    # (the cell, what it is, the template's maximum of characters)
    overlong: list[tuple[Value, str, int]] = field(default_factory=list)


# ---------------------------------------------------------------- findings and results

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    message: str
    sheet: str = ""
    cell: str = ""
    seen: Any = None
    expected: Any = None

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
            "seen": _jsonable(self.seen),
            "expected": _jsonable(self.expected),
        }


def _jsonable(value):
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


@dataclass
class Evaluation:
    """One evaluated object: the unit as a whole, or one project."""

    name: str
    budget: Decimal | None = None
    executed: Decimal | None = None
    execution_rate: Decimal | None = None
    declared_score: Decimal | None = None
    score: Decimal | None = None
    declared_grade: str | None = None
    grade: str | None = None
    initial_budget: Decimal | None = None
    initial_budget_completion_rate: Decimal | None = None
    criteria: list[dict] = field(default_factory=list)  # name, points, score, declared
    indicators: list[dict] = field(default_factory=list)  # per indicator row: block, name, points, declared, score, met
    # project only: 项目资金's 其中 rows (name, initial, budget, executed, rate), 年度总体目标, and
    # with a framework's not_applicable: the points of the rows marked 不适用 and the score before
    # it was scaled to 100 (score = raw_score × 100 ÷ (100 − not_applicable_points))
    sources: list[dict] = field(default_factory=list)
    raw_score: Decimal | None = None
    not_applicable_points: Decimal | None = None
    goal_plan: str | None = None
    goal_done: str | None = None

    def as_dict(self, kind: str) -> dict:
        out = {
            "name": self.name,
            "budget": _jsonable(self.budget),
            "executed": _jsonable(self.executed),
            "execution_rate": _jsonable(self.execution_rate),
            "declared_score": _jsonable(self.declared_score),
            "score": _jsonable(self.score),
            "declared_grade": self.declared_grade,
            "grade": self.grade,
        }
        if kind == "department":
            out["initial_budget"] = _jsonable(self.initial_budget)
            out["initial_budget_completion_rate"] = _jsonable(self.initial_budget_completion_rate)
            out["criteria"] = [{k: _jsonable(v) for k, v in c.items()} for c in self.criteria]
        else:
            out["initial_budget"] = _jsonable(self.initial_budget)
            out["sources"] = [{k: _jsonable(v) for k, v in s.items()} for s in self.sources]
            out["goal_plan"], out["goal_done"] = self.goal_plan, self.goal_done
            if self.raw_score is not None or self.not_applicable_points is not None:
                out["raw_score"] = _jsonable(self.raw_score)
                out["not_applicable_points"] = _jsonable(self.not_applicable_points)
        out["indicators"] = [{k: _jsonable(v) for k, v in i.items()} for i in self.indicators]
        return out


@dataclass
class Result:
    file: str
    status: str  # passed | failed | unreadable
    kind: str = ""
    unit: str = ""
    unit_code: str = ""
    year: int | None = None
    framework: str = ""
    findings: list[Finding] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    sha256: str = ""

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "status": self.status,
            "kind": self.kind,
            "unit": self.unit,
            "unit_code": self.unit_code,
            "year": self.year,
            "framework": self.framework,
            "errors": self.errors,
            "warnings": self.warnings,
            "findings": [f.as_dict() for f in self.findings],
            "evaluations": [e.as_dict(self.kind) for e in self.evaluations],
        }


@dataclass
class Brief:
    """What is kept of a Result once it has been written out: enough for the terminal table, the
    roster's missing returns and the exit status, without the findings, criteria and indicators
    (a batch of thousands of files keeps thousands of these, not of Results)."""

    file: str
    status: str
    kind: str = ""
    unit: str = ""
    unit_code: str = ""
    year: int | None = None
    errors: int = 0
    warnings: int = 0
    evaluations: list[Evaluation] = field(default_factory=list)  # without criteria and indicators

    @classmethod
    def of(cls, result: Result) -> "Brief":
        from dataclasses import replace

        return cls(
            file=result.file,
            status=result.status,
            kind=result.kind,
            unit=result.unit,
            unit_code=result.unit_code,
            year=result.year,
            errors=result.errors,
            warnings=result.warnings,
            evaluations=[replace(e, criteria=[], indicators=[], sources=[]) for e in result.evaluations],
        )
