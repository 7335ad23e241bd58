"""Random but valid fillings of a template, with the figures scoring.py says they must give.

Used to prove the template's own formulas (as computed by the `formulas` engine and by
LibreOffice) agree with scoring.py to the cent.
"""

from __future__ import annotations

import random
from decimal import Decimal as D

from xltool.core import scoring
from xltool.core.framework import NOT_APPLICABLE
from xltool.template.layout import Plan

SIGNS = ("≥", ">", "≤", "<", "=", "定性")


def _money(rng: random.Random, high: int = 5000) -> D:
    return D(rng.randint(0, high * 100)) / 100


def _figure(rng: random.Random) -> D:
    choice = rng.random()
    if choice < 0.08:
        return D(0)
    if choice < 0.5:
        return D(rng.randint(0, 100))
    return D(rng.randint(0, 2_000_000)) / 100


def project_values(plan: Plan, rng: random.Random, rows: int = 12):
    """Inputs for every project block, and the expected figures per block."""
    fw = plan.framework
    values: dict[str, object] = {}
    expected = []
    for p in range(1, plan.blocks + 1):
        pre = f"PROJ{p}_"
        budget = plan.unit.projects[p - 1].budget if p <= len(plan.unit.projects) and plan.unit.projects[p - 1].budget is not None else None
        if budget is None:
            budget = _money(rng) if rng.random() > 0.1 else D(0)
            values[pre + "BUDGET"] = budget
        if p > len(plan.unit.projects):
            values[pre + "NAME"] = f"项目{p}"
        executed = _money(rng, 6000)
        values[pre + "EXECUTED"] = executed
        source_rates = []
        for k in range(1, len(fw.fund_sources) + 1):  # 其中 rows: each its own rate (a blank one has none)
            s_budget = None if rng.random() < 0.2 else (_money(rng) if rng.random() > 0.1 else D(0))
            s_executed = None if rng.random() < 0.1 else _money(rng, 6000)
            values[f"{pre}SRC{k}_BUDGET"], values[f"{pre}SRC{k}_EXECUTED"] = s_budget, s_executed
            source_rates.append(scoring.rate(s_executed, s_budget))
        cols = {k: [] for k in ("LEVEL1", "LEVEL2", "INDICATOR", "SIGN", "TARGET", "ADJUSTED", "UNIT", "ACTUAL", "BAND", "POINTS", "SCORE")}
        row_scores = []
        dropped = []
        signs = SIGNS + ((NOT_APPLICABLE,) if fw.not_applicable else ())
        for _ in range(rows):
            cat = rng.choice(fw.categories)
            sign = rng.choice(signs)
            points = D(rng.randint(0, 2000)) / 100
            target, actual, band, declared = _figure(rng), _figure(rng), None, None
            # an approved mid-year adjustment: 年度指标值（调整后） scores instead of 年初指标值
            adjusted = _figure(rng) if rng.random() < 0.3 else None
            if sign == NOT_APPLICABLE:
                score, declared, target, actual, adjusted = NOT_APPLICABLE, None, None, None, None
                dropped.append(points)
            elif sign == "定性":
                band = rng.choice(fw.bands)
                declared = (D(rng.randint(0, int(points * 100))) / 100) if points else D(0)
                score = scoring.qualitative_score(band, declared, points)
                target = actual = adjusted = None
            else:
                declared = points
                score = scoring.indicator_score(sign, target if adjusted is None else adjusted, actual, points, fw.reverse_rule, cap=fw.score_cap != "none")
            for key, value in (
                ("LEVEL1", cat.name), ("LEVEL2", cat.subcategories[0]), ("INDICATOR", "指标"), ("SIGN", sign),
                ("TARGET", target), ("ADJUSTED", adjusted), ("UNIT", "个"), ("ACTUAL", actual), ("BAND", band.label if band else None),
                ("POINTS", points), ("SCORE", declared),
            ):
                cols[key].append(value)
            row_scores.append((cat.name, score))
        for key, items in cols.items():
            values[pre + key] = items
        rate = scoring.rate(executed, budget)
        exec_score = scoring.execution_score(rate, fw.execution_points) if rate is not None else None
        # nothing graded half-filled: a category without rows, or a project without a defined rate, has no score
        cats = {}
        for c in fw.categories:
            own = [s for n, s in row_scores if n == c.name]
            scored = [s for s in own if s != NOT_APPLICABLE]  # 不适用 rows count as done, with no score
            cats[c.name] = scoring.sum_scores(scored) if own and None not in scored else None
        parts = [exec_score, *cats.values()]
        raw = None if None in parts else scoring.sum_scores(parts)
        na_points = scoring.sum_scores(dropped)
        total = scoring.scaled_total(raw, na_points) if raw is not None else None
        expected.append(
            {
                "sources": source_rates,
                "raw": raw if fw.not_applicable else None,
                "na_points": na_points if fw.not_applicable else None,
                "rate": rate,
                "exec_score": exec_score,
                "rows": [s for _n, s in row_scores],
                "categories": cats,
                "total": total,
                "grade": scoring.grade(total, fw.grades),
            }
        )
    return values, expected


def department_values(plan: Plan, rng: random.Random):
    fw = plan.framework
    values: dict[str, object] = {}
    indicators = fw.criterion_indicators
    deductions = []
    for ind in indicators:
        if rng.random() < 0.4:
            deductions.append(D(rng.randint(0, int(ind.points * 100))) / 100)
        else:
            deductions.append(D(0))  # no deduction is typed as 0: a blank one leaves the criterion unscored
    values["CRIT_DEDUCTION"] = deductions
    values["CRIT_REASON"] = ["扣分原因" if d else None for d in deductions]
    criteria = {}
    for crit in fw.criteria:
        own = [d for ind, d in zip(indicators, deductions) if ind.criterion == crit.name]
        criteria[crit.name] = scoring.criterion_score(crit.points, own)
    total = scoring.sum_scores(criteria.values())
    unit = plan.unit
    rate = scoring.rate(unit.final_accounts, unit.adjusted_budget)
    initial_rate = scoring.rate(unit.final_accounts, unit.initial_budget)
    return values, {"criteria": criteria, "total": total, "grade": scoring.grade(total, fw.grades), "rate": rate, "initial_rate": initial_rate}
