"""evaluate.py: every figure recomputed from a Submission's inputs alone (seed 000 and 001).

The Submissions are built by hand, with each Value placed where the template puts it (through the
layout plan's defined names), so these tests need no workbook. The factories here are shared
with test_checks.py.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings, strategies as st

from xltool.check.evaluate import evaluate
from xltool.core.cells import choose, sign_of, type_choices, type_date
from xltool.core.framework import load_framework
from xltool.core.model import (
    CriterionRow,
    GoalBlock,
    IndicatorRow,
    ProjectBlock,
    ProjectInfo,
    Submission,
    UnitInfo,
    Value,
)
from xltool.template.layout import a1, build_plan

PROJECT = load_framework("project")
DEPARTMENT = load_framework("department")

WUHAN = UnitInfo(
    "武汉市档案馆", "420100-DAG", 2021, "department",
    initial_budget=D("3203.46"), adjusted_budget=D("2814.98"), final_accounts=D("2814.98"),
)
WUCHANG = UnitInfo(
    "武昌区档案馆", "420106-DAG", 2020, "project",
    projects=(ProjectInfo("档案保护费", D("300")), ProjectInfo("史料编研费", D("100"))),
)

ROW_FIELDS = ("level1", "level2", "name", "sign", "target", "adjusted", "unit", "actual", "band", "points", "score", "reason", "adjust_note")
FORMULA = "IF(TRUE,1,0)"  # any formula text: the cell still holds the template's formula


# ---------------------------------------------------------------- factories


class Book:
    """Places Values where the template for `unit` puts its defined names."""

    def __init__(self, fw, unit):
        self.fw = fw
        self.unit = unit
        self.plan = build_plan(fw, unit)

    def v(self, name: str, raw=None, offset: int = 0, formula: str | None = None, is_error: bool = False) -> Value:
        spec = self.plan.names[name]
        return Value(raw, spec.sheet, a1(spec.row + offset, spec.col), formula, is_error)

    def rows(self, prefix: str, block: int, given: list[dict]) -> list[IndicatorRow]:
        out = []
        for i in range(self.fw.indicator_rows):
            data = given[i] if i < len(given) else {}
            row = IndicatorRow(block=block, index=i + 1)
            for key in ROW_FIELDS:
                if self.fw.kind == "department" and key in ("points", "score"):
                    continue
                name = f"{prefix}{block}_{'INDICATOR' if key == 'name' else key.upper()}"
                raw = data.get(key)
                setattr(row, key, raw if isinstance(raw, Value) else self.v(name, raw, offset=i))
            type_choices(row, self.fw)  # as the reader types its list cells
            out.append(row)
        return out


def ind(level1, level2, name, sign, target=None, unit=None, actual=None, points=None, score=None, reason=None, band=None,
        adjusted=None, adjust_note=None) -> dict:
    return dict(level1=level1, level2=level2, name=name, sign=sign, target=target, unit=unit, actual=actual,
                points=points, score=score, reason=reason, band=band, adjusted=adjusted, adjust_note=adjust_note)


def project_submission(projects: list[dict], unit: UnitInfo = WUCHANG, info: dict | None = None, texts: bool = True) -> Submission:
    """A project workbook as read. Each project dict may give: name, budget, executed, rate (a typed
    figure over the formula), note, declared_score, declared_grade, rows (list of ind(...)); and the
    form's blocks: initial (年初预算数), sources ({k: (年初, 全年预算, 全年执行)} for the 其中 rows; the
    blocks are left out, as in a hand-made Submission, unless given), goal_plan, goal_done."""
    book = Book(PROJECT, unit)
    sub = Submission(
        path="test.xlsx", kind="project", framework_name="project", framework_version=PROJECT.version,
        template_id="t", unit_name=unit.name, unit_code=unit.code, year=unit.year,
    )
    sub.info = _info(book, info)
    for p in range(1, book.plan.blocks + 1):
        data = projects[p - 1] if p <= len(projects) else {}
        pre = f"PROJ{p}_"
        known = unit.projects[p - 1] if p <= len(unit.projects) else None
        rate = data.get("rate")
        sub.projects.append(
            ProjectBlock(
                index=p,
                name=book.v(pre + "NAME", data.get("name", known.name if known else None)),
                budget=book.v(pre + "BUDGET", data.get("budget", known.budget if known else None)),
                executed=book.v(pre + "EXECUTED", data.get("executed")),
                rate=book.v(pre + "RATE", rate, formula=None if rate is not None else FORMULA),
                exec_score=book.v(pre + "EXEC_SCORE", None, formula=FORMULA),
                note=book.v(pre + "NOTE", data.get("note")),
                declared_score=book.v(pre + "DECLARED_SCORE", data.get("declared_score")),
                declared_grade=book.v(pre + "DECLARED_GRADE", data.get("declared_grade")),
                rows=book.rows("PROJ", p, data.get("rows", [])),
            )
        )
        block = sub.projects[-1]
        if "initial" in data:
            block.initial = book.v(pre + "INITIAL", data["initial"])
        if "sources" in data:
            for k, source in enumerate(PROJECT.fund_sources, start=1):
                figures = data["sources"].get(k, (None, None, None))
                block.sources.append((source, *(book.v(f"{pre}SRC{k}_{key}", figure) for key, figure in zip(("INITIAL", "BUDGET", "EXECUTED"), figures)),
                                      book.v(f"{pre}SRC{k}_RATE", None, formula=FORMULA)))
        for key in ("goal_plan", "goal_done"):
            if key in data:
                setattr(block, key, book.v(pre + key.upper(), data[key]))
    if texts:
        sub.problems = book.v("PROBLEMS", "项目绩效指标有待完善。")
        sub.improvements = book.v("IMPROVEMENTS", "做好项目绩效指标量化工作。")
    return sub


def _info(book: Book, info: dict | None) -> dict:
    info = {"contact": "张三", "phone": "027-88888888", "date": 44742.0} | (info or {})  # 44742 = 2022-06-30
    out = {}
    for key in ("UNIT", "CODE", "YEAR", "KIND"):
        out[key.lower()] = book.v(f"INFO_{key}", {"UNIT": book.unit.name, "CODE": book.unit.code, "YEAR": book.unit.year, "KIND": "x"}[key])
    for key in ("contact", "phone", "date"):
        out[key] = book.v(f"INFO_{key.upper()}", info[key])
    out["date"] = type_date(out["date"])  # as the reader types the date cell
    return out


# Seed 000's deductions: 0.5 each on these (criterion, group, name).
SEED_000_DEDUCTIONS = {
    ("投入", "目标设定", "绩效指标明确性"): 0.5,
    ("投入", "预算配置", "预算调整率"): 0.5,  # 投入's, as Wuhan scored it (the framework has both)
    ("过程", "预算管理", "管理制度健全性"): 0.5,  # 预算管理's, not 资产管理's
    ("过程", "预算管理", "基础信息完善性"): 0.5,
    ("产出", "职责履行", "完成及时率"): 0.5,
    ("产出", "职责履行", "质量达标率"): 0.5,
    ("效果", "履职效益", "经济效益"): 0.5,
    ("效果", "履职效益", "社会效益"): 0.5,
    ("效果", "履职效益", "生态效益"): 0.5,
    ("效果", "履职效益", "社会公众或服务对象满意度"): 0.5,
}
SEED_000_REASONS = "依据自评扣分"


def department_submission(
    deductions: dict | None = None,
    reasons: dict | None = None,
    declared: dict | None = None,
    goals: list[dict] | None = None,
    budget: dict | None = None,
    unit: UnitInfo = WUHAN,
    info: dict | None = None,
    texts: bool = True,
) -> Submission:
    """A unit-wide workbook as read. deductions/reasons: (criterion, group, name) → value;
    declared: criterion name / "total" / "grade" → value; goals: [{"name", "rows"}];
    budget: initial/adjusted/final/rate/initial_rate/note raw values (rate typed over the formula)."""
    book = Book(DEPARTMENT, unit)
    sub = Submission(
        path="test.xlsx", kind="department", framework_name="department", framework_version=DEPARTMENT.version,
        template_id="t", unit_name=unit.name, unit_code=unit.code, year=unit.year,
    )
    sub.info = _info(book, info)
    b = {"initial": unit.initial_budget, "adjusted": unit.adjusted_budget, "final": unit.final_accounts} | (budget or {})
    sub.budget = {
        "initial": book.v("BUDGET_INITIAL", b.get("initial")),
        "adjusted": book.v("BUDGET_ADJUSTED", b.get("adjusted")),
        "final": book.v("BUDGET_FINAL", b.get("final")),
        "rate": book.v("RATE_EXECUTION", b.get("rate"), formula=None if b.get("rate") is not None else FORMULA),
        "initial_rate": book.v("RATE_INITIAL", b.get("initial_rate"), formula=None if b.get("initial_rate") is not None else FORMULA),
        "note": book.v("BUDGET_NOTE", b.get("note")),
    }
    goals = goals or []
    for g in range(1, book.plan.blocks + 1):
        data = goals[g - 1] if g <= len(goals) else {}
        sub.goals.append(GoalBlock(index=g, name=book.v(f"GOAL{g}_NAME", data.get("name")), rows=book.rows("GOAL", g, data.get("rows", []))))
    deductions = deductions or {}
    reasons = reasons or {}
    for k, item in enumerate(DEPARTMENT.criterion_indicators):
        key = (item.criterion, item.group, item.name)
        sub.criteria.append(
            CriterionRow(
                item.criterion, item.group, item.name,
                points=book.v("CRIT_POINTS", item.points, offset=k),
                deduction=book.v("CRIT_DEDUCTION", deductions.get(key, 0), offset=k),  # 0 typed unless given (None: blank)
                reason=book.v("CRIT_REASON", reasons.get(key, SEED_000_REASONS if deductions.get(key) else None), offset=k),
            )
        )
    declared = declared or {}
    for k, crit in enumerate(DEPARTMENT.criteria, start=1):
        sub.declared[crit.name] = book.v(f"DECLARED_C{k}", declared.get(crit.name))
    sub.declared["total"] = book.v("DECLARED_TOTAL", declared.get("total"))
    sub.declared["grade"] = book.v("DECLARED_GRADE", declared.get("grade"))
    if texts:
        sub.problems = book.v("PROBLEMS", "整体绩效目标还不够细化。")
        sub.improvements = book.v("IMPROVEMENTS", "加强预算绩效目标建设管理。")
    return sub


# ---------------------------------------------------------------- the seeds as submissions

# Seed 001 (武昌区档案馆 2020): two projects. The report gives the budget figures; the indicator
# rows follow its text (149638 幅 scanned, 27 卷 repaired, 665 人 served, 满意度 95%, 4 街道志 planned).
SEED_001_PROTECTION_ROWS = [
    ind("产出指标", "数量指标", "数字化扫描幅数", "≥", 140000, "幅", 149638, 20, 20),
    ind("产出指标", "数量指标", "档案修复卷数", "≥", 27, "卷", 27, 10, 10),
    ind("产出指标", "质量指标", "档案质检验收合格率", "≥", 95, "%", 100, 10, 10),
    ind("产出指标", "时效指标", "年度任务按期完成率", "≥", 100, "%", 100, 10, 10),
    ind("效益指标", "社会效益指标", "线下查档利用人次", "≥", 600, "人次", 665, 15, 15),
    ind("效益指标", "可持续影响指标", "实体档案保护", "定性", "有效保护", None, "基本达到", 15, 14, band="达成年度指标",
        reason="基本达到保护要求，部分实体档案尚未转化为电子档案；下一年度加快转化。"),  # 14 of 15: a reason is required
    ind("满意度指标", "服务对象满意度指标", "档案查询人员满意度", "≥", 95, "%", 95, 10, 10),
]
SEED_001_EDITING_ROWS = [
    ind("产出指标", "数量指标", "街道志出版部数", "≥", 4, "部", 3, 20, 15, reason="送出版社审稿 3 部，尚未出版；加快审稿进度。"),
    ind("产出指标", "数量指标", "短视频拍摄部数", "≥", 2, "部", 2, 10, 10),
    ind("产出指标", "质量指标", "编研成果审核通过率", "≥", 100, "%", 100, 10, 10),
    ind("产出指标", "时效指标", "年鉴按期付印", "≥", 1, "部", 1, 10, 10),
    ind("效益指标", "社会效益指标", "史志利用服务", "≥", 300, "人次", 340, 30, 30),
    ind("满意度指标", "服务对象满意度指标", "群众满意度", "≥", 95, "%", 95, 10, 10),
]


def seed_001(**changes) -> Submission:
    first = {"executed": 214.68, "note": "受疫情影响，部分数字化加工推迟。", "declared_score": 96.16, "declared_grade": "优",
             "rows": SEED_001_PROTECTION_ROWS} | changes.pop("first", {})
    second = {"executed": 76, "note": "街道志尚在审稿。", "declared_score": 92.6, "declared_grade": "优",
              "rows": SEED_001_EDITING_ROWS} | changes.pop("second", {})
    return project_submission([first, second], **changes)


# Seed 000 (武汉市档案馆 2021): the annual goals as typed into the template, one indicator a row.
PUBLISH = ind("产出指标", "数量指标", "出版《革命先烈小传》", "≥", 1000, "册", 30, reason=(
    "《灿若晨星——武汉革命先烈小传》属于专题报批范围，暂未获得书号审批，先完成内部出版30册。"))
SEED_000_GOALS = [
    {"name": "档案馆运行维护", "rows": [
        ind("产出指标", "数量指标", "网站点击率", "≥", 10000, "次", 10000),
        ind("产出指标", "数量指标", "IT系统覆盖率", "≥", 100, "%", 100),
        ind("产出指标", "质量指标", "馆内大型设备使用情况故障率", "<", 5, "%", 5 - 1),
        ind("效益指标", "社会效益指标", "IT项目查档率", "≥", 100, "%", 100),
        ind("满意度指标", "社会公众或服务对象满意度指标", "所有二级项目对象满意程度", "≥", 95, "%", 95),
    ]},
    {"name": "档案馆事业发展建设", "rows": [
        ind("产出指标", "数量指标", "馆藏资料整理", "≥", 41000, "册", 37479, reason="资料整理工作量大，部分转入下年度。"),
        PUBLISH,
        ind("产出指标", "数量指标", "武汉党史寻访专题片", "≥", 5, "集", 4, reason="依据选题调整为4集，每集5分钟，总时长超出原定时长。"),
        ind("效益指标", "社会效益指标", "主题展览参观人数", "≥", 200, "人次", 200),
        ind("满意度指标", "社会公众或服务对象满意度指标", "观展满意度", "≥", 90, "%", 90),
    ]},
]


def seed_000(**changes) -> Submission:
    defaults = dict(
        deductions=SEED_000_DEDUCTIONS,
        declared={"投入": 19, "过程": 29, "产出": 24, "效果": 23, "total": 95, "grade": "优秀"},
        goals=SEED_000_GOALS,
        budget={"note": "年度预算全部执行。"},
    )
    return department_submission(**(defaults | changes))


# ---------------------------------------------------------------- a cell's number, as typed once


def number(raw):
    """A Value's number, as core.cells interprets the raw content when the Value is made."""
    return raw.number if isinstance(raw, Value) else Value(raw).number


class TestNumber:
    @pytest.mark.parametrize(
        "raw, expected",
        [
            (214.68, "214.68"), (300, "300"), (D("2814.98"), "2814.98"), (" 300 ", "300"), ("1,000", "1000"),
            ("２８１４．９８", "2814.98"), ("95%", "95"), ("95％", "95"), (" 7.5 % ", "7.5"), ("-5", "-5"), (0, "0"),
        ],
    )
    def test_numbers_and_numeric_text(self, raw, expected):
        assert number(raw) == D(expected)
        assert number(Value(raw, "S", "A1")) == D(expected)

    @pytest.mark.parametrize("raw", [None, "", "   ", "1万以上", "低于5%", "0.5分", "95%以上", True, False, "1,5", "nan", "inf", float("nan")])
    def test_not_numbers(self, raw):
        assert number(raw) is None

    def test_excel_error_is_no_number(self):
        assert number(Value("#DIV/0!", "S", "A1", is_error=True)) is None

    def test_float_binary_noise_is_not_kept(self):
        assert number(0.1) == D("0.1")  # not 0.1000000000000000055…

    @given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.decimals()))
    def test_never_raises(self, raw):
        result = number(raw)
        assert result is None or (isinstance(result, D) and result.is_finite())


class TestReadingChoices:
    def test_sign_forms(self):
        assert sign_of(Value("≥").text) == "≥"
        assert sign_of(Value(">=").text) == "≥"
        assert sign_of(Value("＞").text) == ">"
        assert sign_of(Value(" ≦ ").text) == "≤"
        assert sign_of(Value("定性").text) == "定性"
        assert sign_of(Value("大于").text) is None
        assert sign_of(Value(None).text) is None
        assert sign_of(" 不适用 ") is None and sign_of(" 不适用 ", not_applicable=True) == "不适用"

    def test_category_tolerates_spaces_and_suffix(self):
        names = PROJECT.category_names
        assert choose(Value(" 产出指标 ").text, names) == "产出指标"
        assert choose(Value("产出").text, names) == "产出指标"
        assert choose(Value("投入").text, names) is None

    def test_text(self):
        assert Value(10.0).text == "10"
        assert Value("  档案 ").text == "档案"
        assert Value(None).text == ""
        assert Value("#DIV/0!", is_error=True).text == ""


# ---------------------------------------------------------------- seed 000: the unit as a whole


class TestSeed000:
    def test_budget_execution(self):
        (ev,) = evaluate(seed_000(), DEPARTMENT)
        assert ev.name == "武汉市档案馆"
        assert ev.initial_budget == D("3203.46")
        assert ev.budget == D("2814.98")
        assert ev.executed == D("2814.98")
        assert str(ev.execution_rate) == "1.0000"
        assert str(ev.initial_budget_completion_rate) == "0.8787"

    def test_criteria_total_and_grade(self):
        (ev,) = evaluate(seed_000(), DEPARTMENT)
        assert [(c["name"], c["points"], c["score"]) for c in ev.criteria] == [
            ("投入", 20, 19), ("过程", 30, 29), ("产出", 25, 24), ("效果", 25, 23),
        ]
        assert [str(c["score"]) for c in ev.criteria] == ["19.00", "29.00", "24.00", "23.00"]
        assert [c["declared"] for c in ev.criteria] == [19, 29, 24, 23]
        assert ev.score == 95
        assert str(ev.score) == "95.00"
        assert ev.grade == "优"
        assert ev.declared_score == 95
        assert ev.declared_grade == "优秀"

    def test_the_same_name_in_two_groups_is_told_apart(self):
        # 预算调整率 under 过程 instead of 投入: 投入 19.5, 过程 28.5, the total unchanged
        deductions = dict(SEED_000_DEDUCTIONS)
        del deductions[("投入", "预算配置", "预算调整率")]
        deductions[("过程", "预算执行", "预算调整率")] = 0.5
        (ev,) = evaluate(seed_000(deductions=deductions), DEPARTMENT)
        scores = {c["name"]: c["score"] for c in ev.criteria}
        assert scores["投入"] == D("19.5") and scores["过程"] == D("28.5")
        assert ev.score == 95

    def test_points_come_from_the_framework_not_the_file(self):
        sub = seed_000()
        # someone typed 30 over 经济效益's locked 6 points: the score does not change
        for row in sub.criteria:
            if row.name == "经济效益":
                row.points = Value(30, row.points.sheet, row.points.cell)
        (ev,) = evaluate(sub, DEPARTMENT)
        assert ev.score == 95

    def test_goal_rows_carry_met_flags(self):
        (ev,) = evaluate(seed_000(), DEPARTMENT)
        publish = next(i for i in ev.indicators if i["name"] == "出版《革命先烈小传》")
        assert publish["met"] is False
        assert publish["target"] == 1000 and publish["actual"] == 30 and publish["unit"] == "册"
        assert publish["goal"] == "档案馆事业发展建设"
        assert "points" not in publish
        met = next(i for i in ev.indicators if i["name"] == "馆内大型设备使用情况故障率")
        assert met["met"] is True  # 4% < 5%: a reverse indicator met
        assert len(ev.indicators) == 10

    def test_as_dict_is_json_ready(self):
        (ev,) = evaluate(seed_000(), DEPARTMENT)
        out = ev.as_dict("department")
        assert out["execution_rate"] == 1.0
        assert out["initial_budget_completion_rate"] == 0.8787
        assert out["score"] == 95.0 and out["grade"] == "优"
        assert {c["name"] for c in out["criteria"]} == {"投入", "过程", "产出", "效果"}

    def test_blank_or_zero_denominators_give_no_rate(self):
        (ev,) = evaluate(seed_000(budget={"adjusted": None, "initial": 0}), DEPARTMENT)
        assert ev.execution_rate is None
        assert ev.initial_budget_completion_rate is None

    def test_deductions_as_numeric_text_and_bad_text(self):
        deductions = {("效果", "履职效益", "经济效益"): " 0.5 ", ("效果", "履职效益", "社会效益"): "0.5分"}
        (ev,) = evaluate(department_submission(deductions=deductions), DEPARTMENT)
        effect = next(c for c in ev.criteria if c["name"] == "效果")
        # "0.5分" cannot be read: reported, not guessed; the criterion and the total stay unscored
        assert effect["score"] is None and ev.score is None and ev.grade is None
        (ev,) = evaluate(department_submission(deductions={("效果", "履职效益", "经济效益"): " 0.5 "}), DEPARTMENT)
        assert next(c for c in ev.criteria if c["name"] == "效果")["score"] == D("24.5") and ev.score == D("99.5")

    def test_a_blank_deduction_leaves_its_criterion_and_the_total_unscored(self):
        (ev,) = evaluate(department_submission(deductions={("投入", "目标设定", "绩效目标合理性"): None}), DEPARTMENT)
        assert [c["score"] for c in ev.criteria] == [None, 30, 25, 25]
        assert ev.score is None and ev.grade is None
        assert ev.as_dict("department")["score"] is None and ev.as_dict("department")["grade"] is None


# ---------------------------------------------------------------- seed 001: two projects


class TestSeed001:
    def test_execution_rates_and_scores(self):
        protection, editing = evaluate(seed_001(), PROJECT)
        assert protection.name == "档案保护费"
        assert (protection.budget, protection.executed) == (D("300"), D("214.68"))
        assert str(protection.execution_rate) == "0.7156"
        assert str(protection.criteria[0]["score"]) == "7.16"
        assert protection.criteria[0]["name"] == "预算执行率"
        assert editing.name == "史料编研费"
        assert str(editing.execution_rate) == "0.7600"
        assert str(editing.criteria[0]["score"]) == "7.60"

    def test_totals_and_grades(self):
        protection, editing = evaluate(seed_001(), PROJECT)
        cats = {c["name"]: c["score"] for c in protection.criteria}
        assert cats == {"预算执行率": D("7.16"), "产出指标": 50, "效益指标": 29, "满意度指标": 10}
        assert str(protection.score) == "96.16"
        assert protection.grade == "优"
        assert protection.declared_score == D("96.16")
        # 街道志: 3 of 4 部 → 3 / 4 × 20 = 15
        assert str(editing.score) == "92.60"
        street = next(i for i in editing.indicators if i["name"] == "街道志出版部数")
        assert street["score"] == 15 and street["met"] is False and street["points"] == 20

    def test_qualitative_score_is_the_declared_one_clamped_into_its_band(self):
        protection, _ = evaluate(seed_001(), PROJECT)
        row = next(i for i in protection.indicators if i["sign"] == "定性")
        assert row["score"] == 14 and row["met"] is True
        rows = list(SEED_001_PROTECTION_ROWS)
        rows[5] = ind("效益指标", "可持续影响指标", "实体档案保护", "定性", None, None, None, 15, 15, band="部分达成年度指标并具有一定效果")
        protection, _ = evaluate(seed_001(first={"rows": rows}), PROJECT)
        row = next(i for i in protection.indicators if i["sign"] == "定性")
        assert str(row["score"]) == "11.99"  # [60%, 80%) of 15 → at most 11.99
        assert row["met"] is False

    def test_only_used_blocks_are_evaluated(self):
        unit = UnitInfo("示例区档案馆", "", 2022, "project")
        sub = project_submission([{"name": "档案征集", "budget": 50, "executed": 50}], unit=unit)
        assert len(sub.projects) == PROJECT.blank_projects
        (ev,) = evaluate(sub, PROJECT)
        # no indicators yet: the execution score alone is not a project's score
        assert ev.name == "档案征集" and ev.execution_rate == 1 and ev.criteria[0]["score"] == 10
        assert ev.score is None and ev.grade is None

    def test_over_budget_scores_no_bonus(self):
        (ev, _) = evaluate(seed_001(first={"executed": 330}), PROJECT)
        assert str(ev.execution_rate) == "1.1000"
        assert ev.criteria[0]["score"] == 10

    def test_zero_budget_rate_is_undefined_not_zero(self):
        (ev, _) = evaluate(seed_001(first={"budget": 0}), PROJECT)
        assert ev.execution_rate is None
        assert ev.criteria[0]["score"] is None and ev.score is None  # undefined, never 0 points

    def test_typed_rate_and_cached_values_are_ignored(self):
        (ev, _) = evaluate(seed_001(first={"rate": 0.99}), PROJECT)
        assert str(ev.execution_rate) == "0.7156"

    def test_text_in_number_cells(self):
        rows = list(SEED_001_PROTECTION_ROWS)
        rows[0] = ind("产出指标", "数量指标", "数字化扫描幅数", "≥", "14万以上", "幅", 149638, 20, 20)
        rows[2] = ind("产出指标", "质量指标", "档案质检验收合格率", "≥", "95%", "%", "100%", 10, 10)
        protection, _ = evaluate(seed_001(first={"rows": rows, "executed": " 214.68 "}), PROJECT)
        assert protection.executed == D("214.68")
        scan = protection.indicators[0]
        assert scan["target"] is None and scan["score"] is None  # unreadable: scores nothing
        quality = protection.indicators[2]
        assert quality["target"] == 95 and quality["actual"] == 100 and quality["score"] == 10
        assert protection.score is None and protection.grade is None  # 产出 cannot be scored yet
        rows[0] = SEED_001_PROTECTION_ROWS[0]
        protection, _ = evaluate(seed_001(first={"rows": rows, "executed": " 214.68 "}), PROJECT)
        assert protection.score is not None and protection.grade is not None

    def test_as_dict(self):
        protection, _ = evaluate(seed_001(), PROJECT)
        out = protection.as_dict("project")
        assert out["execution_rate"] == 0.7156
        assert out["score"] == 96.16
        assert "criteria" not in out
        assert out["indicators"][0]["name"] == "数字化扫描幅数"


@settings(max_examples=60, deadline=None)
@given(
    budget=st.one_of(st.none(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=6)),
    executed=st.one_of(st.none(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=6)),
    cells=st.lists(st.one_of(st.none(), st.integers(-10, 200), st.text(max_size=5), st.sampled_from(["≥", "≤", "定性", "产出指标", "数量指标", "达成年度指标"])), min_size=11, max_size=11),
)
def test_evaluate_never_raises_and_stays_in_range(budget, executed, cells):
    row = ind(*cells[:10])
    row["band"] = cells[10]
    (ev,) = evaluate(project_submission([{"name": "x", "budget": budget, "executed": executed, "rows": [row]}],
                                        unit=UnitInfo("u", "", 2022, "project")), PROJECT)
    assert ev.score is None or 0 <= ev.score <= 100
    # a negative 执行数 gives a negative rate (reported by the checks), never a crash or a 0%
    assert ev.execution_rate is None or ev.execution_rate >= 0 or ev.executed < 0
    assert ev.criteria[0]["score"] is None or ev.criteria[0]["score"] >= 0
    assert (ev.grade is None) == (ev.score is None) and ev.grade in {"优", "良", "中", "差", None}
