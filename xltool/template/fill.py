"""Fill a template's input cells by defined name: how the samples and the test files are made.

`fill_values(plan, {"PROJ1_EXECUTED": 214.68, "PROJ1_TARGET": [10000, 95], ...})` gives the
cell positions the writer fills; a list fills a named column from its first row down.
"""

from __future__ import annotations

from pathlib import Path

from xltool.template.layout import Plan
from xltool.template.writer import write_plan


class FillError(KeyError):
    pass


def fill_values(plan: Plan, values: dict[str, object]) -> dict[tuple[str, int, int], object]:
    inputs = {(c.sheet, c.row, c.col) for c in plan.input_cells()}
    out: dict[tuple[str, int, int], object] = {}
    for name, value in values.items():
        spec = plan.names.get(name)
        if spec is None:
            raise FillError(f"模板中没有名为 {name} 的输入")
        items = value if isinstance(value, (list, tuple)) else [value]
        if len(items) > spec.last_row - spec.row + 1:
            raise FillError(f"{name} 最多 {spec.last_row - spec.row + 1} 行，给了 {len(items)} 行")
        for offset, item in enumerate(items):
            key = (spec.sheet, spec.row + offset, spec.col)
            if key not in inputs:
                if item is None:  # nothing to write: a formula among a column's inputs stays
                    continue
                raise FillError(f"{name} 第 {offset + 1} 格不是输入单元格")
            if item is not None:
                out[key] = item
    return out


def write_filled(plan: Plan, values: dict[str, object], path: str | Path) -> Path:
    return write_plan(plan, path, fill_values(plan, values))
