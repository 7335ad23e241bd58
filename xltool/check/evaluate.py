"""Recompute every figure of a submission from its inputs alone.

`evaluate(sub, fw)` gives one Evaluation per evaluated object: each used project block of a
project workbook, or the unit as a whole. Nothing here reads a formula's cached value, and the
criteria points of a unit-wide table come from the framework, not from the file (whose points
cells a staff member may have changed): what the workbook *says* is compared with these figures
by checks.py.

The helpers (`number`, `text`, `choice`, `sign_of`, `row_figures`, `project_used`) are shared
with the checks, so both read a cell the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import fields as dataclass_fields
from decimal import Decimal

from xltool.core import scoring
from xltool.core.framework import NOT_APPLICABLE, Framework
from xltool.core.model import Evaluation, GoalBlock, IndicatorRow, ProjectBlock, Submission, Value

QUALITATIVE = "定性"

# ---------------------------------------------------------------- reading cells

_PERCENT = re.compile(r"^([+-]?[0-9][0-9,]*(?:\.[0-9]+)?|[+-]?\.[0-9]+)\s*%$")


def _raw(value):
    if isinstance(value, Value):
        return None if value.is_error else value.raw
    return value


def number(value) -> Decimal | None:
    """A cell (Value or raw content) as a Decimal, or None when it holds no usable number.

    Numbers are numbers; text that is a pure number (" 300 ", "1,000", full-width "１２．５") is
    the number; "95%" (a percent typed as text) is 95, the percent number the template asks for.
    Anything else ("1万以上", "低于5%", "0.5分"), booleans, Excel errors and blanks → None.
    """
    raw = _raw(value)
    if raw is None or isinstance(raw, bool):
        return None
    found = scoring.to_decimal(raw)
    if found is not None or not isinstance(raw, str):
        return found
    text = unicodedata.normalize("NFKC", raw).strip()
    match = _PERCENT.match(text)
    if match:
        return scoring.to_decimal(match.group(1))
    return None


def is_pure_number(value) -> bool:
    """Whether the cell holds a number, or text that is nothing but a number (no finding needed)."""
    raw = _raw(value)
    return raw is not None and not isinstance(raw, bool) and scoring.to_decimal(raw) is not None


def text(value) -> str:
    """A cell as trimmed text; "" when blank. 10.0 reads "10", as Excel shows it."""
    raw = _raw(value)
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _key(label: str) -> str:
    label = unicodedata.normalize("NFKC", label)
    return "".join(ch for ch in label if not ch.isspace() and ch not in "\"'“”‘’")


def choice(value, options) -> str | None:
    """The option a cell names, or None. Tolerates spaces, full-width letters and the "指标" suffix
    ("产出" for "产出指标", "数量指标 " for "数量指标")."""
    written = _key(text(value))
    if not written:
        return None
    keyed = {_key(o): o for o in options}
    if written in keyed:
        return keyed[written]
    for variant in (written + "指标", written[:-2] if written.endswith("指标") else None):
        if variant and variant in keyed:
            return keyed[variant]
    return None


_SIGN_ALIASES = {
    "≥": "≥", ">=": "≥", "=>": "≥", "≧": "≥", "⩾": "≥",
    ">": ">",
    "≤": "≤", "<=": "≤", "=<": "≤", "≦": "≤", "⩽": "≤",
    "<": "<",
    "=": "=", "==": "=",
    "定性": QUALITATIVE,
}


def sign_of(value) -> str | None:
    """The 计算符号 a cell names (≥ > ≤ < = 定性), full-width and ">=" forms included; else None."""
    written = _key(text(value))
    return _SIGN_ALIASES.get(written)


def project_used(block: ProjectBlock) -> bool:
    """A project block that says anything (a budget typed into a blank template counts too)."""
    return not block.empty or not block.budget.blank


def block_name(block) -> str:
    name = text(block.name)
    if isinstance(block, ProjectBlock):
        return f"项目“{name}”" if name else f"项目 {block.index}"
    return f"年度目标“{name}”" if name else f"年度目标 {block.index}"


# ---------------------------------------------------------------- one indicator row


_ROW_FIELDS = tuple(f.name for f in dataclass_fields(IndicatorRow))
_FIGURES: dict[int, tuple] = {}  # id(row) → (row, fw, scored, its fields, figures); bounded


def row_figures(row: IndicatorRow, fw: Framework, scored: bool) -> dict:
    """Everything recomputed for one used indicator row.

    kind is "quantitative", "qualitative" or None (sign missing or unknown). score is None when
    it cannot be computed (or the row is not scored); met is None when it cannot be told.

    The checks and the evaluation both ask for the same rows: the figures are worked out once
    and each caller gets its own copy (the checks amend theirs). The row is kept with its entry,
    so its id cannot be reused while the entry lives, and a row whose cells were replaced since
    is computed again.
    """
    fields = tuple(getattr(row, f) for f in _ROW_FIELDS)
    known = _FIGURES.get(id(row))
    if (
        known is not None and known[0] is row and known[1] is fw and known[2] == scored
        and len(known[3]) == len(fields) and all(a is b for a, b in zip(known[3], fields))
    ):
        return dict(known[4])
    figures = _row_figures(row, fw, scored)
    if len(_FIGURES) >= 512:  # a file's rows at most: memory stays flat however many files
        _FIGURES.clear()
    _FIGURES[id(row)] = (row, fw, scored, fields, figures)
    return dict(figures)


def _row_figures(row: IndicatorRow, fw: Framework, scored: bool) -> dict:
    sign = sign_of(row.sign)
    if sign is None and fw.not_applicable and _key(text(row.sign)) == NOT_APPLICABLE:
        sign = NOT_APPLICABLE
    level1 = choice(row.level1, fw.category_names)
    band_label = choice(row.band, [b.label for b in fw.bands])
    band = fw.band(band_label) if band_label else None
    # The target that scores: 年度指标值（调整后） when given (blank = no adjustment), else 年初指标值;
    # an adjusted value that is not a number leaves nothing to score by, as in the template.
    initial, adjusted = number(row.target), number(row.adjusted)
    target = initial if row.adjusted.blank and not row.adjusted.is_error else adjusted
    actual = number(row.actual)
    points = number(row.points) if scored else None
    declared = number(row.score) if scored else None
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
        "level1": level1 or text(row.level1),
        "level2": text(row.level2),
        "name": text(row.name),
        "sign": sign or text(row.sign),
        "target": target,
        "initial": initial,
        "adjusted": adjusted,
        "actual": actual,
        "unit": text(row.unit),
        "band": band.label if band else text(row.band),
        "points": points,
        "declared": declared,
        "score": score,
        "met": met,
        "reason": text(row.reason),
        "kind": kind,
        "category": level1,  # the framework's category, or None
        "band_spec": band,
        "lowered": lowered,
        "applicable": kind != "not_applicable",
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
    share = a / t * _HUNDRED
    return scoring.round_half_up(share, 2) if share >= fw.over_achievement_percent else None


_PUBLIC_KEYS = ("block", "row", "level1", "level2", "name", "sign", "initial", "adjusted", "target", "actual", "unit", "band", "points", "declared", "score", "met", "applicable", "reason")


def _public(figures: dict, scored: bool) -> dict:
    out = {k: figures[k] for k in _PUBLIC_KEYS}
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
    budget, executed = number(block.budget), number(block.executed)
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
        s_budget, s_executed = number(budget_v), number(executed_v)
        sources.append({"name": name, "initial": number(initial_v), "budget": s_budget, "executed": s_executed,
                        "rate": scoring.rate(s_executed, s_budget)})
    return Evaluation(
        name=text(block.name) or f"项目 {block.index}",
        initial_budget=number(block.initial),  # 年初预算数: the export's reply_amt
        budget=budget,
        executed=executed,
        execution_rate=rate,
        declared_score=number(block.declared_score),
        score=total,
        declared_grade=text(block.declared_grade) or None,
        grade=scoring.grade(total, fw.grades),
        criteria=criteria,
        indicators=[_public(r, scored=True) for r in rows],
        sources=sources,
        raw_score=raw if fw.not_applicable else None,
        not_applicable_points=dropped,
        goal_plan=text(block.goal_plan) or None,
        goal_done=text(block.goal_done) or None,
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
        return number(sub.criteria[i].deduction)
    a, b = sub.measures[i]
    m = ind.measure
    return scoring.measure_deduction(scoring.measure_value(m.formula, number(a), number(b)), m.limit, m.at_most, m.per_point, ind.points)


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
                "declared": number(declared_value) if declared_value is not None else None,
            }
        )
    return out


def evaluate_department(sub: Submission, fw: Framework) -> Evaluation:
    budget = sub.budget
    initial = number(budget.get("initial"))
    adjusted = number(budget.get("adjusted"))
    final = number(budget.get("final"))
    criteria = criterion_scores(sub, fw)
    total = _total(criteria)
    indicators = []
    for goal in sub.goals:
        if goal.empty:
            continue
        for row in goal.rows:
            if not row.empty:
                item = _public(row_figures(row, fw, scored=False), scored=False)
                item["goal"] = text(goal.name)
                indicators.append(item)
    declared_total = sub.declared.get("total")
    return Evaluation(
        name=sub.unit_name or text(sub.info.get("unit")),
        budget=adjusted,
        executed=final,
        execution_rate=scoring.rate(final, adjusted),
        declared_score=number(declared_total) if declared_total is not None else None,
        score=total,
        declared_grade=text(sub.declared.get("grade")) or None,
        grade=scoring.grade(total, fw.grades),
        initial_budget=initial,
        initial_budget_completion_rate=scoring.rate(final, initial),
        criteria=criteria,
        indicators=indicators,
    )


def used_goals(sub: Submission) -> list[GoalBlock]:
    return [g for g in sub.goals if not g.empty]
