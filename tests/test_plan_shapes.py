"""Plans built once per shape (template/shaped.py): each file of a batch still gets its own plan.

Files checked one after another in one process share the shape caches; each must get the
verdict it gets when checked alone, its own figures, and a change to its own pre-filled figure
must be seen even when another unit of the same shape holds that very figure.
"""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from cases import edit_sheet, number_cell, replace_cell
from fillgen import department_values, project_values
from xltool.check import reader
from xltool.check.batch import check_file
from xltool.core.framework import load_framework
from xltool.core.model import ProjectInfo, UnitInfo
from xltool.template import layout, plan_for, shaped
from xltool.template.fill import write_filled
from xltool.template.layout import SHEET_BUDGET, a1


def _project(name: str, code: str, *figures, **extra) -> UnitInfo:
    names = ("档案保护费", "史料编研费", "数字化费")
    projects = tuple(ProjectInfo(names[i], Decimal(f), **(extra if i == 0 else {})) for i, f in enumerate(figures))
    return UnitInfo(name, code, 2024, "project", projects=projects)


UNITS = {
    "a": _project("甲档案馆", "A01", 300, 100),
    "b": _project("乙档案馆", "B02", 500, 200),  # a's shape, other figures
    "c": _project("丙档案馆", "C03", 300, 100, 50),  # three projects
    "e": _project("戊档案馆", "E05", 300, 100, executed=Decimal(120)),  # a figure more pre-filled
    "d": UnitInfo("丁档案馆", "D04", 2024, "department", initial_budget=Decimal("3203.46"), adjusted_budget=Decimal("2814.98")),
}


def _clear() -> None:
    shaped._SHAPES.clear()
    shaped._SEEN.clear()
    reader._SHAPES.clear()
    layout._cached_plan.cache_clear()


def _files(tmp_path):
    rng = random.Random(3)
    files = {}
    for key, unit in UNITS.items():
        plan = plan_for(unit)
        values, _ = (department_values if unit.kind == "department" else project_values)(plan, rng)
        inputs = {(c.sheet, c.row, c.col) for c in plan.input_cells()}
        values = {k: v for k, v in values.items() if (plan.names[k].sheet, plan.names[k].row, plan.names[k].col) in inputs}  # e: executed pre-filled
        files[key] = write_filled(plan, values, tmp_path / f"{key}.xlsx")
    return files


def _seen(result):
    return result.status, [(f.code, f.sheet, f.cell, f.message) for f in result.findings], [(e.name, e.budget) for e in result.evaluations]


def test_files_of_other_shapes_checked_in_one_batch_get_their_own_verdicts(tmp_path):
    files = _files(tmp_path)
    budget = plan_for(UNITS["b"]).names["PROJ1_BUDGET"]
    # b's file showing a's figure where finance pre-filled 500: a's plan would see no change
    files["b_changed"] = edit_sheet(files["b"], tmp_path / "b_changed.xlsx", SHEET_BUDGET,
                                    lambda x: replace_cell(x, a1(budget.row, budget.col), number_cell(a1(budget.row, budget.col), 300)))
    _clear()
    batch = {key: check_file(path) for key, path in files.items()}  # one process, caches shared
    alone = {}
    for key, path in files.items():
        _clear()
        alone[key] = check_file(path)
    for key in files:
        assert _seen(batch[key]) == _seen(alone[key]), key
    for key in ("a", "b", "c", "d", "e"):
        codes = {f.code for f in batch[key].findings}
        assert not codes & {"FINGERPRINT_MISMATCH", "PREFILL_CHANGED", "STRUCTURE_CHANGED", "NAME_MISSING", "LOCKED_CHANGED"}, (key, codes)
        assert batch[key].unit == UNITS[key].name
    assert [e.budget for e in batch["b"].evaluations] == [Decimal(500), Decimal(200)]
    assert len(batch["c"].evaluations) == 3
    changed = [f for f in batch["b_changed"].findings if f.code == "PREFILL_CHANGED"]
    assert [(f.sheet, f.cell) for f in changed] == [(SHEET_BUDGET, a1(budget.row, budget.col))]
    assert "500" in changed[0].message + str(changed[0].expected)


def test_a_shaped_plan_is_the_full_plan_whatever_the_values():
    _clear()
    units = [
        UNITS["a"], UNITS["b"],
        _project("甲档案馆", "A01", "300.00", "100.0"),  # equal figures written otherwise: their own fingerprint
        replace(UNITS["a"], department=" "),  # a blank 主管部门 is no value
        replace(UNITS["a"], name="7391 年度=甲", year=2025),  # the stand-in year in a name
        replace(UNITS["a"], projects=(ProjectInfo("\ue000A3\ue001", Decimal(1)), ProjectInfo("7391", Decimal(2)))),  # names like the stand-ins
        UNITS["d"], replace(UNITS["d"], department="某局", final_accounts=Decimal(1)),
    ]
    for unit in units * 3:  # a shape's first two files are built in full (the second learns it), the rest from the shape
        fw = load_framework(unit.kind)
        made, full = shaped.shaped_plan(fw, unit), layout._Builder(fw, unit).build()
        assert made.cells == full.cells and made.meta == full.meta and made.names == full.names
        assert made.sheets == full.sheets and made.conditional == full.conditional and made.unit == unit
    assert all(isinstance(shape, shaped._Shape) for shape in shaped._SHAPES.values())  # every shape learnt, none built in full for good


def test_the_shape_caches_are_bounded(monkeypatch):
    _clear()
    monkeypatch.setattr(shaped, "SHAPE_CACHE_SIZE", 3)
    monkeypatch.setattr(reader, "SHAPE_CACHE_SIZE", 3)
    fw = load_framework("project")
    for k in range(16):  # eight shapes (1 to 8 projects), each met twice: learnt
        unit = UnitInfo(f"单位{k}", f"U{k}", 2024, "project", projects=tuple(ProjectInfo(f"项目{j}", Decimal(10)) for j in range(k // 2 + 1)))
        plan = shaped.shaped_plan(fw, unit)
        reader._plan_positions(plan)
        assert plan.unit == unit and plan.cells == layout._Builder(fw, unit).build().cells
        assert len(shaped._SHAPES) <= 3 and len(reader._SHAPES) <= 3
    assert len(shaped._SHAPES) == 3 and isinstance(shaped._SHAPES[shaped.plan_shape_key(fw, unit)], shaped._Shape)
