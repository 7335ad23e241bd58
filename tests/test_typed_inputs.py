"""A cell is read once: the Submission's inputs arrive typed, and evaluation and checks use that.

core.cells interprets a cell's content when its Value is made (number, text, whether it is a plain
number, why not); the reader adds the option a list cell names and the date of the date cell.
evaluate.py and rules.py read those fields only. These tests need no workbook: Submissions are
built by hand (tests/test_evaluate.py's factories), then their raw contents are swapped for
text no interpreter could read, keeping the typed fields: every figure and finding must stay.
"""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal as D
from pathlib import Path

from hypothesis import given, strategies as st

from test_evaluate import DEPARTMENT, PROJECT, SEED_000_GOALS, department_submission, ind, seed_001
from xltool.check.evaluate import evaluate, row_figures
from xltool.check.rules import check
from xltool.core.cells import as_date, interpret, type_choices, type_date
from xltool.core.model import IndicatorRow, Value

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- core.cells: one cell, typed


def test_a_value_is_typed_once():
    v = Value(" 1,000 ", "预算执行", "C5")
    assert "number" not in v.__dict__  # nothing worked out until asked
    assert (v.number, v.text, v.pure, v.reason) == (D(1000), "1,000", True, "number_as_text")
    v.__dict__["raw"] = "changed"  # what was worked out is kept, not worked out again
    assert v.number == D(1000)


class TestInterpret:
    def test_numbers_and_reasons(self):
        assert interpret(214.68) == (D("214.68"), "214.68", True, None)
        assert interpret(10.0) == (D(10), "10", True, None)
        assert interpret(" 300 ") == (D(300), "300", True, "number_as_text")
        assert interpret("95%") == (D(95), "95%", False, "percent_text")
        assert interpret("1万以上") == (None, "1万以上", False, "not_a_number")
        assert interpret(True) == (None, "TRUE", False, "not_a_number")
        assert interpret("#DIV/0!", is_error=True) == (None, "", False, "error")
        assert interpret(None) == (None, "", False, None)
        assert interpret("   ") == (None, "", False, None)

    @given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.decimals()))
    def test_never_raises_and_agrees_with_itself(self, raw):
        number, text, pure, reason = interpret(raw)
        assert number is None or (isinstance(number, D) and number.is_finite())
        assert pure == (number is not None and reason in (None, "number_as_text"))
        assert isinstance(text, str) and text == text.strip()
        v = Value(raw, "S", "A1")
        assert (v.number, v.text, v.pure, v.reason) == (number, text, pure, reason)

    def test_dates(self):
        assert as_date(44742.0) == (dt.date(2022, 6, 30), None)
        assert as_date("2022年6月30日") == (dt.date(2022, 6, 30), None)
        assert as_date("下周") == (None, "not_a_date")
        assert as_date(-3) == (None, "date_out_of_range")
        assert as_date("#VALUE!", is_error=True) == (None, "error")
        assert type_date(Value("2022-02-30", "基本信息", "B8")).reason == "not_a_date"

    def test_list_cells_name_their_option(self):
        row = IndicatorRow(block=1, index=1, level1=Value(" 产出 "), level2=Value("数量指标"), sign=Value(">="), band=Value("大于"))
        type_choices(row, PROJECT)
        assert (row.level1.choice, row.level2.choice, row.sign.choice, row.band.choice) == ("产出指标", "数量指标", "≥", None)
        assert row.level1.raw == " 产出 " and row.level1.text == "产出"  # as seen, for the findings


# ---------------------------------------------------------------- evaluation and checks read typed fields only


class Seen:
    """A raw content no interpreter can read: not a number, not a text of one, not a date."""

    def __init__(self, shown):
        self.shown = shown

    def __repr__(self):
        return f"Seen({self.shown!r})"


def _unreadable(v):
    """The same typed Value with its raw content made unreadable (a blank one stays blank)."""
    if not isinstance(v, Value) or v.blank:
        return v
    v.number  # typed (once, when first asked), then the raw content swapped
    out = object.__new__(Value)
    out.__dict__.update(v.__dict__, raw=Seen(v.raw))
    return out


def _swap_raw(sub):
    for block in sub.projects:
        for key in ("name", "budget", "executed", "rate", "exec_score", "note", "declared_score", "declared_grade", "initial", "goal_plan", "goal_done"):
            setattr(block, key, _unreadable(getattr(block, key)))
        block.sources = [(name, *(_unreadable(v) for v in values)) for name, *values in block.sources]
        _swap_rows(block.rows)
    for goal in sub.goals:
        goal.name = _unreadable(goal.name)
        _swap_rows(goal.rows)
    sub.info = {k: _unreadable(v) for k, v in sub.info.items()}
    sub.budget = {k: _unreadable(v) for k, v in sub.budget.items()}
    sub.declared = {k: _unreadable(v) for k, v in sub.declared.items()}
    sub.measures = {k: tuple(_unreadable(v) for v in pair) for k, pair in sub.measures.items()}
    for crit in sub.criteria:
        crit.points, crit.deduction, crit.reason = (_unreadable(v) for v in (crit.points, crit.deduction, crit.reason))
    sub.problems, sub.improvements = _unreadable(sub.problems), _unreadable(sub.improvements)
    return sub


def _swap_rows(rows):
    for row in rows:
        for key in IndicatorRow.INPUT_FIELDS + ("calc", "status"):
            setattr(row, key, _unreadable(getattr(row, key)))


def _places(findings):
    return [(f.code, f.severity, f.sheet, f.cell, f.expected) for f in findings]


def _figures(evaluations, kind):
    return [e.as_dict(kind) for e in evaluations]


def test_a_project_is_evaluated_and_checked_from_typed_values_alone():
    # Seed 001 with a few faults: numbers typed as text, a percent as text, a wrong sign, a blank score.
    first = {"executed": " 214.68 ", "declared_score": "96.16", "rows": [
        ind("产出", "数量指标", "数字化扫描幅数", ">=", "140,000", "幅", 149638, 20, 20),
        ind("产出指标", "数量指标", "档案修复卷数", "大于", 27, "卷", 20, 10, 8, reason="部分推迟"),
        ind("产出指标", "质量指标", "档案质检验收合格率", "≥", "95%", "%", 100, 10, None),
        ind("效益指标", "可持续影响指标", "实体档案保护", "定性", "有效保护", None, "基本达到", 15, 14, band="达成年度指标"),
        ind("满意度指标", "服务对象满意度指标", "满意度", "≥", 95, "%", "九成五", 10, 10),
    ]}
    plain, swapped = seed_001(first=first), _swap_raw(seed_001(first=first))
    assert isinstance(swapped.projects[0].rows[0].target.raw, Seen)  # nothing left to read a number from
    assert _figures(evaluate(swapped, PROJECT), "project") == _figures(evaluate(plain, PROJECT), "project")
    found = check(swapped, PROJECT)
    assert _places(found) == _places(check(plain, PROJECT))
    codes = {f.code for f in found}
    assert {"NUMBER_STORED_AS_TEXT", "TEXT_IN_NUMBER", "INVALID_CHOICE", "REQUIRED_BLANK"} <= codes
    # The findings still show the cell as it was seen.
    text_in_number = next(f for f in found if f.code == "TEXT_IN_NUMBER" and f.cell == swapped.projects[0].rows[4].actual.cell)
    assert text_in_number.seen.shown == "九成五"
    # The evaluation used the typed figures: 140,000 typed as text still scores the first row.
    assert evaluate(swapped, PROJECT)[0].indicators[0]["target"] == D(140000)


def test_a_unit_wide_workbook_is_evaluated_and_checked_from_typed_values_alone():
    def made():
        return department_submission(
            deductions={("投入", "目标设定", "绩效指标明确性"): "0.5"}, declared={"total": "99.5", "grade": "优"},
            goals=SEED_000_GOALS, info={"date": "2022年13月1日"},
        )

    plain, swapped = made(), _swap_raw(made())
    assert _figures(evaluate(swapped, DEPARTMENT), "department") == _figures(evaluate(plain, DEPARTMENT), "department")
    found = check(swapped, DEPARTMENT)
    assert _places(found) == _places(check(plain, DEPARTMENT))
    assert "INVALID_DATE" in {f.code for f in found}


def test_a_rows_figures_are_worked_out_once_per_row():
    sub = seed_001()
    row = sub.projects[0].rows[0]
    first = row_figures(row, PROJECT, scored=True)
    first["score"] = "amended by a caller"
    again = row_figures(row, PROJECT, scored=True)
    assert again["score"] == D(20) and row.__dict__["_figures"][3] is not again  # each caller its own copy
    row.actual = Value(100000, row.actual.sheet, row.actual.cell)  # a cell replaced: computed again
    assert row_figures(row, PROJECT, scored=True)["score"] < D(20)


# ---------------------------------------------------------------- nothing left that reads a raw cell


def _source(module: str) -> ast.Module:
    return ast.parse((ROOT / "xltool" / "check" / f"{module}.py").read_text(encoding="utf-8"))


# core.cells' interpreters, scoring's number reader, and the helpers evaluate.py had before
RAW_READERS = {"to_decimal", "interpret", "choose", "sign_of", "as_date", "option_key", "is_pure_number", "number", "text", "choice"}


def test_evaluation_and_checks_call_no_raw_interpreter():
    for module in ("evaluate", "rules"):
        tree = _source(module)
        called = {
            node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
        }
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        assert not called & RAW_READERS, (module, called & RAW_READERS)
        assert not imported & RAW_READERS, (module, imported & RAW_READERS)
    # evaluate.py never looks at a cell's raw content at all
    evaluate_tree = _source("evaluate")
    assert not [n for n in ast.walk(evaluate_tree) if isinstance(n, ast.Attribute) and n.attr == "raw"]


# ---------------------------------------------------------------- each figure once per file


def test_a_returned_file_works_out_each_figure_once(tmp_path, monkeypatch):
    import random

    from fillgen import project_values
    from xltool.check import batch, evaluate as evaluation
    from xltool.core.model import ProjectInfo, UnitInfo
    from xltool.template import plan_for
    from xltool.template.fill import write_filled

    unit = UnitInfo("武昌区档案馆", "420106-DAG", 2020, "project", projects=(ProjectInfo("档案保护费", D(300)), ProjectInfo("史料编研费", D(100))))
    plan = plan_for(unit)
    values, _ = project_values(plan, random.Random(3), rows=6)
    path = write_filled(plan, values, tmp_path / "武昌区档案馆.xlsx")
    calls = {"project": 0, "row": 0}
    real_project, real_row = evaluation.evaluate_project, evaluation._row_figures

    def counted_project(*args, **kwargs):
        calls["project"] += 1
        return real_project(*args, **kwargs)

    def counted_row(*args, **kwargs):
        calls["row"] += 1
        return real_row(*args, **kwargs)

    monkeypatch.setattr(evaluation, "evaluate_project", counted_project)
    monkeypatch.setattr(evaluation, "_row_figures", counted_row)
    result, sub, _fw = batch.check_file_read(path)
    used = [b for b in sub.projects if evaluation.project_used(b)]
    rows = [r for b in used for r in b.rows if not r.empty]
    assert result.status in ("passed", "failed") and len(result.evaluations) == len(used) == 2
    assert calls == {"project": len(used), "row": len(rows)} and len(rows) >= 2
