"""Recompute every figure of a submission from its inputs alone.

`evaluate(sub, fw)` gives one Evaluation per evaluated object: each used project block of a
project workbook, or the unit as a whole. Nothing here reads a formula's cached value, and the
criteria points of a unit-wide table come from the framework, not from the file (whose points
cells a staff member may have changed): what the workbook *says* is compared with these figures
by checks.py.

Every input arrives typed: a Value's number, text and reason are worked out once by
core.cells (when first asked), its choice and date by the reader; they are read here, never
the raw content. The helpers (`row_figures`, `project_used`, `block_name`)
are shared with the checks, and a row's figures are worked out once per row.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from decimal import Decimal

from xltool.core import scoring
from xltool.core.cells import QUALITATIVE
from xltool.core.framework import NOT_APPLICABLE, Framework
from xltool.core.model import Evaluation, GoalBlock, IndicatorRow, ProjectBlock, Submission, Value


def _number(value: Value | None) -> Decimal | None:
    return None if value is None else value.number


def _text(value: Value | None) -> str:
    return "" if value is None else value.text


def project_used(block: ProjectBlock) -> bool:
    """A project block that says anything (a budget typed into a blank template counts too)."""
    return not block.empty or not block.budget.blank


def block_name(block) -> str:
    name = block.name.text
    if isinstance(block, ProjectBlock):
        return f"项目“{name}”" if name else f"项目 {block.index}"
    return f"年度目标“{name}”" if name else f"年度目标 {block.index}"


# ---------------------------------------------------------------- one indicator row


_ROW_FIELDS = tuple(f.name for f in dataclass_fields(IndicatorRow))


def row_figures(row: IndicatorRow, fw: Framework, scored: bool) -> dict:
    """Everything recomputed for one used indicator row.

    kind is "quantitative", "qualitative" or None (sign missing or unknown). score is None when
    it cannot be computed (or the row is not scored); met is None when it cannot be told.

    The checks and the evaluation both ask for the same rows: the figures are worked out once,
    kept on the row, and each caller gets its own copy (the checks amend theirs). A row whose
    cells were replaced since is computed again.
    """
    fields = tuple(getattr(row, f) for f in _ROW_FIELDS)
    known = row.__dict__.get("_figures")
    if known is not None and known[0] is fw and known[1] == scored and all(a is b for a, b in zip(known[2], fields)):
        return dict(known[3])
    figures = _row_figures(row, fw, scored)
    row.__dict__["_figures"] = (fw, scored, fields, figures)
    return dict(figures)


def _row_figures(row: IndicatorRow, fw: Framework, scored: bool) -> dict:
    sign = row.sign.choice
    level1 = row.level1.choice
    band_label = row.band.choice
    band = fw.band(band_label) if band_label else None
    # The target that scores: 年度指标值（调整后） when given (blank = no adjustment), else 年初指标值;
    # an adjusted value that is not a number leaves nothing to score by, as in the template.
    initial, adjusted = row.target.number, row.adjusted.number
    target = initial if row.adjusted.blank and not row.adjusted.is_error else adjusted
    actual = row.actual.number
    points = row.points.number if scored else None
    declared = row.score.number if scored else None
    if sign == NOT_APPLICABLE:
        kind = "not_applicable"
    else:
        kind = None if sign is None else ("qualitative" if sign == QUALITATIVE else "quantitative")
    score = met = None
    if kind == "quantitative":
        met = scoring.is_met(sign, target, actual)
        if scored:
            score = scoring.indicator_score(sign, target, actual, points, fw.reverse_rule, cap=fw.score_cap != "none")
    elif kind == "qualitative":
        met = None if band is None else band.label == fw.bands[0].label
        if scored:
            score = scoring.qualitative_score(band, declared, points)
    lowered = False
    if (
        score is not None and kind == "quantitative" and declared is not None and not row.reason.blank
        and over_achieved({"kind": kind, "sign": sign, "target": target, "actual": actual}, fw) is not None
    ):
        # An over-achieved row (a target set too low) may be scored lower by hand, with a reason,
        # as the national system allows; the template's formula does the same.
        mine = scoring.round_half_up(max(declared, Decimal(0)), 2)
        lowered = mine < score
        score = min(score, mine)
    return {
        "block": row.block,
        "row": row.index,
        "level1": level1 or row.level1.text,
        "level2": row.level2.text,
        "name": row.name.text,
        "sign": sign or row.sign.text,
        "target": target,
        "initial": initial,
        "adjusted": adjusted,
        "actual": actual,
        "unit": row.unit.text,
        "band": band.label if band else row.band.text,
        "points": points,
        "declared": declared,
        "score": score,
        "met": met,
        "reason": row.reason.text,
        "kind": kind,
        "category": level1,  # the framework's category, or None
        "band_spec": band,
        "lowered": lowered,
        "applicable": kind != "not_applicable",
        # a 定性 row's target is the approved wording (年初指标值 holds text): shown, never scored
        "wording": row.target.text if kind == "qualitative" and initial is None else None,
    }


_HUNDRED = Decimal(100)


def over_achieved(f: dict, fw: Framework) -> Decimal | None:
    """B as a percent of A (2 decimals) on a positive row at or above the framework's
    over-achievement threshold (120%), else None. f holds kind, sign, target and actual."""
    t, a = f["target"], f["actual"]
    if fw.over_achievement_percent is None or f["kind"] != "quantitative" or t is None or a is None or t <= 0:
        return None
    if f["sign"] not in ("≥", ">", "="):
        return None
    share = scoring.as_excel_shows(a) / scoring.as_excel_shows(t) * _HUNDRED  # as the sheet shows them
    return scoring.round_half_up(share, 2) if share >= fw.over_achievement_percent else None


_PUBLIC_KEYS = ("block", "row", "level1", "level2", "name", "sign", "initial", "adjusted", "target", "actual", "unit", "band", "points", "declared", "score", "met", "applicable", "reason")


def _public(figures: dict, scored: bool) -> dict:
    out = {k: figures[k] for k in _PUBLIC_KEYS}
    if figures["wording"]:  # outputs show a 定性 row's approved wording as its target
        out["target"] = out["initial"] = figures["wording"]
    if not scored:
        for k in ("points", "declared", "score"):
            out.pop(k)
    return out


# ---------------------------------------------------------------- evaluations


def evaluate(sub: Submission, fw: Framework) -> list[Evaluation]:
    """The recomputed figures of a submission: one Evaluation per used project, or one for the unit."""
    if fw.kind == "project":
        return [evaluate_project(block, fw) for block in sub.projects if project_used(block)]
    return [evaluate_department(sub, fw)]


def evaluate_project(block: ProjectBlock, fw: Framework) -> Evaluation:
    budget, executed = _number(block.budget), _number(block.executed)
    rate = scoring.rate(executed, budget)
    exec_score = None if rate is None else scoring.execution_score(rate, fw.execution_points)
    rows = [row_figures(row, fw, scored=True) for row in block.rows if not row.empty]
    criteria = [{"name": fw.execution_name, "points": fw.execution_points, "score": exec_score}]
    for cat in fw.categories:
        # As the template's formulas: a row counts toward the category its 一级指标 names, and a
        # category is scored only when it has rows and every one of them could be scored (a row
        # marked 不适用 counts as done, with no score).
        mine = [r for r in rows if r["category"] == cat.name]
        scores = [r["score"] for r in mine if r["applicable"]]
        score = scoring.sum_scores(scores) if mine and None not in scores else None
        criteria.append({"name": cat.name, "points": cat.points, "score": score})
    raw = _total(criteria)
    dropped = None
    if fw.not_applicable:
        dropped = scoring.sum_scores([r["points"] for r in rows if not r["applicable"] and r["points"] is not None])
    total = raw if not dropped else scoring.scaled_total(raw, dropped)
    sources = []
    for name, initial_v, budget_v, executed_v, _rate in block.sources:
        s_budget, s_executed = _number(budget_v), _number(executed_v)
        sources.append({"name": name, "initial": _number(initial_v), "budget": s_budget, "executed": s_executed,
                        "rate": scoring.rate(s_executed, s_budget)})
    return Evaluation(
        name=_text(block.name) or f"项目 {block.index}",
        initial_budget=_number(block.initial),  # 年初预算数: the export's reply_amt
        budget=budget,
        executed=executed,
        execution_rate=rate,
        declared_score=_number(block.declared_score),
        score=total,
        declared_grade=_text(block.declared_grade) or None,
        grade=scoring.grade(total, fw.grades),
        criteria=criteria,
        indicators=[_public(r, scored=True) for r in rows],
        sources=sources,
        raw_score=raw if fw.not_applicable else None,
        not_applicable_points=dropped,
        goal_plan=_text(block.goal_plan) or None,
        goal_done=_text(block.goal_done) or None,
    )


def _total(criteria: list[dict]) -> Decimal | None:
    """The sum of the parts, or None while any part cannot be scored (nothing graded half-filled)."""
    scores = [c["score"] for c in criteria]
    return None if not scores or None in scores else scoring.sum_scores(scores)


def criterion_deduction(sub: Submission, fw: Framework, i: int) -> Decimal | None:
    """Row i's deduction: as typed, or recomputed from its inputs where the framework scores the
    indicator by formula (the template's formula result is never read)."""
    indicators = fw.criterion_indicators
    ind = indicators[i] if i < len(indicators) else None
    if ind is None or ind.measure is None or i not in sub.measures:
        return sub.criteria[i].deduction.number
    a, b = sub.measures[i]
    m = ind.measure
    return scoring.measure_deduction(scoring.measure_value(m.formula, a.number, b.number), m.limit, m.at_most, m.per_point, ind.points)


def criterion_scores(sub: Submission, fw: Framework) -> list[dict]:
    """Per criterion: name, points (framework), deduction (sum of numeric positive deductions),
    score = points − deductions in [0, points] (None until every deduction is a number: 0 is typed,
    never assumed), and the declared score."""
    out = []
    for crit in fw.criteria:
        deductions = [criterion_deduction(sub, fw, i) for i, r in enumerate(sub.criteria) if r.criterion == crit.name]
        complete = bool(deductions) and None not in deductions
        score = scoring.criterion_score(crit.points, deductions) if complete else None
        taken = scoring.sum_scores([d for d in deductions if d is not None and d > 0])
        declared_value = sub.declared.get(crit.name)
        out.append(
            {
                "name": crit.name,
                "points": crit.points,
                "deduction": taken,
                "score": score,
                "declared": _number(declared_value),
            }
        )
    return out


def evaluate_department(sub: Submission, fw: Framework) -> Evaluation:
    budget = sub.budget
    initial = _number(budget.get("initial"))
    adjusted = _number(budget.get("adjusted"))
    final = _number(budget.get("final"))
    criteria = criterion_scores(sub, fw)
    total = _total(criteria)
    indicators = []
    for goal in sub.goals:
        if goal.empty:
            continue
        for row in goal.rows:
            if not row.empty:
                item = _public(row_figures(row, fw, scored=False), scored=False)
                item["goal"] = goal.name.text
                indicators.append(item)
    declared_total = sub.declared.get("total")
    return Evaluation(
        name=sub.unit_name or _text(sub.info.get("unit")),
        budget=adjusted,
        executed=final,
        execution_rate=scoring.rate(final, adjusted),
        declared_score=_number(declared_total),
        score=total,
        declared_grade=_text(sub.declared.get("grade")) or None,
        grade=scoring.grade(total, fw.grades),
        initial_budget=initial,
        initial_budget_completion_rate=scoring.rate(final, initial),
        criteria=criteria,
        indicators=indicators,
    )


def used_goals(sub: Submission) -> list[GoalBlock]:
    return [g for g in sub.goals if not g.empty]
