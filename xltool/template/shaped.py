"""build_plan for a batch of returned files: one layout per *shape*, the unit's own values set in.

Every file of a batch is its own unit (name, code, year, figures), so `build_plan`'s cache,
keyed by the whole unit, never hits there, and each file's plan was rebuilt cell by cell. Yet
files of one framework, with the same projects and the same figures pre-filled or not, share a
layout: only some cells' values differ. `shaped_plan` builds that layout once per shape
(`plan_shape_key`) and sets each unit's values into the cells that hold them.

Which cells hold which value is found, not assumed: the shape is built for two stand-in units
whose every value differs (marked texts, odd figures); a cell equal in both is fixed, a cell that
differs must be one value, or a text with values set in, and setting the second unit's values
into the first's cells must give the second's cells exactly. The first file of a shape is also
built in full and must come out the same, metadata and fingerprint included. A shape that fails
any of this is marked, and its files are built in full: a mismatch only costs time. Plans share
no list or dict with each other or with the cache.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import OrderedDict
from dataclasses import replace
from decimal import Decimal

from xltool.core.framework import Framework
from xltool.core.model import UnitInfo
from xltool.template.layout import SHEET_META, Plan, _Builder, build_plan

# Shapes kept (LRU): ~1–3 MB each (the layout, its fingerprint's parts), so memory stays flat
# however many shapes a batch has. A batch's files come in a few shapes (a framework, a number of
# projects, the figures finance pre-filled); lone shapes are only noted (a key each, SEEN_SIZE of them).
SHAPE_CACHE_SIZE = 16
SEEN_SIZE = 256  # keys hold the approved rows as written: a few KB each at most


def plan_shape_key(framework: Framework, unit: UnitInfo) -> tuple:
    """What decides a plan's layout but not the values it sets in: the framework (its content and
    file digest), the kinds, how many projects, their fund sources and approved rows, which
    figures, goals and 主管部门 are pre-filled, the unit-wide goals. Two units that differ in
    any of this never share a shape. (Project names are values set in, as the unit's name: a
    batch's projects are named differently in every file.)"""
    projects = tuple(
        (p.initial is None, p.budget is None, p.executed is None, bool(p.goal_plan),
         tuple((s[0], *(v is None for v in s[1:])) for s in p.sources), repr(p.approved))
        for p in unit.projects
    )
    figures = (unit.initial_budget is None, unit.adjusted_budget is None, unit.final_accounts is None, bool(unit.department))
    # Approved rows as written (repr): Decimal("1.0") == Decimal("1.00"), but they are written,
    # and fingerprinted, differently.
    return (framework, framework.digest, framework.version, framework.kind, unit.kind, unit.framework, projects, figures, repr(unit.goals), unit.layout)


# ---------------------------------------------------------------- the values a unit sets in


def _slots(unit: UnitInfo) -> list:
    """The unit's own values, in a fixed order for its shape: name, code, year, 主管部门 when
    given, the unit-wide figures given, then each project's figures, 预期目标 and sources' figures."""
    out = [unit.name, unit.code, unit.year]
    out += [v for v in (unit.department or None, unit.initial_budget, unit.adjusted_budget, unit.final_accounts) if v is not None]
    for p in unit.projects:
        out.append(p.name)
        out += [v for v in (p.initial, p.budget, p.executed, p.goal_plan or None) if v is not None]
        for s in p.sources:
            out += [v for v in s[1:] if v is not None]
    return out


def _with_slots(unit: UnitInfo, values: list) -> UnitInfo:
    """The unit with its own values replaced by `values` (in _slots order)."""
    it = iter(values)

    def take(v):
        return None if v is None else next(it)

    name, code, year = next(it), next(it), next(it)
    department = take(unit.department or None) or ""
    initial, adjusted, final = take(unit.initial_budget), take(unit.adjusted_budget), take(unit.final_accounts)
    projects = []
    for p in unit.projects:
        p_name = next(it)
        p_initial, budget, executed, goal = take(p.initial), take(p.budget), take(p.executed), take(p.goal_plan or None)
        sources = tuple((s[0], *(take(v) for v in s[1:])) for s in p.sources)
        projects.append(replace(p, name=p_name, initial=p_initial, budget=budget, executed=executed, goal_plan=goal if goal is not None else p.goal_plan, sources=sources))
    return replace(unit, name=name, code=code, year=year, department=department, initial_budget=initial, adjusted_budget=adjusted, final_accounts=final, projects=tuple(projects))


def _stand_in(values: list, tag: str, year: int, base: int) -> list:
    out = []
    for k, v in enumerate(values):
        if isinstance(v, str):
            out.append(f"\ue000{tag}{k}\ue001")
        elif isinstance(v, Decimal):
            out.append(Decimal(f"{base}{k:05d}.37"))
        else:  # the year
            out.append(year)
    return out


def _blanked(value):
    """As _Builder.put stores a value: an empty or blank text is no value."""
    return None if isinstance(value, str) and not value.strip() else value


class _Shape:
    """A layout and, for each cell that holds a unit's value, how to set it in."""

    def __init__(self, plan: Plan, recipes: dict[int, tuple], texts: dict[str, int], pattern: re.Pattern | None):
        self.plan = plan  # the first stand-in's plan: its fixed cells, sheets, names, formats
        self.recipes = recipes  # cell index → ("value", slot) | ("text", template)
        self.texts = texts  # stand-in text → slot
        self.pattern = pattern
        self.body = _body(plan)
        fixed = sorted(
            (c.sheet, c.row, c.col, str(c.value)) for i, c in enumerate(plan.cells[: self.body])
            if i not in recipes and c.role != "input" and c.value is not None
        )
        self.items = fixed
        self.fragments = [json.dumps(list(item), ensure_ascii=False) for item in fixed]

    def cells(self, values: list) -> list:
        cells = self.plan.cells[: self.body]  # a new list: the cache's is never handed out
        pattern = self.pattern
        for i, (how, what) in self.recipes.items():
            if how == "value":
                value = values[what]
            else:
                value = pattern.sub(lambda m: str(values[self.texts[m.group(0)]]), what) if pattern is not None else what
            cells[i] = replace(cells[i], value=_blanked(value))
        return cells

    def fingerprint(self, cells: list) -> str:
        import hashlib

        items, fragments = list(self.items), list(self.fragments)
        for i in self.recipes:
            c = cells[i]
            if c.role != "input" and c.value is not None:
                item = (c.sheet, c.row, c.col, str(c.value))
                at = bisect.bisect_right(items, item)
                items.insert(at, item)
                fragments.insert(at, json.dumps(list(item), ensure_ascii=False))
        return hashlib.sha256(("[" + ", ".join(fragments) + "]").encode()).hexdigest()[:32]

    def plan_for(self, framework: Framework, unit: UnitInfo) -> Plan:
        cells = self.cells(_slots(unit))
        builder = _Builder(framework, unit)
        meta = builder.meta_fields()
        meta["fingerprint"] = self.fingerprint(cells)
        builder.meta_cells(meta)
        p = self.plan
        return Plan(framework, unit, list(p.sheets), cells + builder.cells, dict(p.names), list(p.conditional), meta, p.blocks)


def _body(plan: Plan) -> int | None:
    """How many cells come before the metadata's, which must all be last (None when not)."""
    body = sum(1 for c in plan.cells if c.sheet != SHEET_META)
    return body if all(c.sheet == SHEET_META for c in plan.cells[body:]) else None


def _learn(framework: Framework, unit: UnitInfo, full: Plan) -> _Shape | None:
    """The shape of `unit`'s plan, checked as the module says; None when it does not hold."""
    values = _slots(unit)
    a_values, b_values = _stand_in(values, "A", 7391, 9), _stand_in(values, "B", 8462, 8)
    a = _Builder(framework, _with_slots(unit, a_values)).build()
    b = _Builder(framework, _with_slots(unit, b_values)).build()
    if _body(a) is None or (len(a.cells) != len(b.cells) or a.names != b.names or a.sheets != b.sheets or a.conditional != b.conditional or a.blocks != b.blocks):
        return None
    texts = {v: k for k, v in enumerate(a_values) if isinstance(v, str)}
    texts["7391"] = 2  # the year, set into titles
    pattern = re.compile("|".join(re.escape(t) for t in sorted(texts, key=len, reverse=True)))
    by_value = {(type(v), v): k for k, v in enumerate(a_values) if not isinstance(v, str)}
    recipes: dict[int, tuple] = {}
    for i, (ca, cb) in enumerate(zip(a.cells, b.cells)):
        if ca == cb:
            continue
        if ca.sheet == SHEET_META:
            continue  # the metadata is written for each unit
        if replace(ca, value=None) != replace(cb, value=None):
            return None
        if isinstance(ca.value, str):
            recipes[i] = ("text", ca.value)
        elif (type(ca.value), ca.value) in by_value:
            recipes[i] = ("value", by_value[type(ca.value), ca.value])
        else:
            return None
    shape = _Shape(a, recipes, texts, pattern)
    trial_b = shape.plan_for(framework, _with_slots(unit, b_values))
    trial = shape.plan_for(framework, unit)
    for made, built in ((trial_b, b), (trial, full)):
        if made.cells != built.cells or made.meta != built.meta or made.names != built.names or made.sheets != built.sheets:
            return None
    return shape


_SHAPES: OrderedDict = OrderedDict()  # key → _Shape, or None (its files built in full)
_SEEN: OrderedDict = OrderedDict()  # keys met once


def shaped_plan(framework: Framework, unit: UnitInfo) -> Plan:
    """The same plan as build_plan(framework, unit), built once per shape."""
    if not (unit.name.strip() and unit.code.strip() and unit.year and all(p.name.strip() for p in unit.projects)):
        return build_plan(framework, unit)  # values the layout may treat apart: built in full
    key = plan_shape_key(framework, unit)
    if key in _SHAPES:
        _SHAPES.move_to_end(key)
        shape = _SHAPES[key]
        return shape.plan_for(framework, unit) if shape is not None else build_plan(framework, unit)
    full = build_plan(framework, unit)
    if key not in _SEEN:  # learnt on a shape's second file: a batch of lone shapes pays nothing
        _SEEN[key] = True
        while len(_SEEN) > SEEN_SIZE:
            _SEEN.popitem(last=False)
        return full
    del _SEEN[key]
    try:
        _SHAPES[key] = _learn(framework, unit, full)
    except Exception:  # noqa: BLE001 - a layout this module cannot follow: its files are built in full
        _SHAPES[key] = None
    while len(_SHAPES) > SHAPE_CACHE_SIZE:
        _SHAPES.popitem(last=False)
    return full
