"""xltool: 预算绩效自评工作簿的模板生成、回收检查与汇总。

The library in four calls (each documented in the README):

    from xltool import generate_templates, check_files, write_summary, to_dataframe

    paths = generate_templates("名册.csv", "模板/")          # one template per roster unit
    results = check_files("回收/")                           # a file, folder, .zip, or a list of them
    write_summary(results, "汇总.xlsx")                       # the graded summary workbook
    frame = to_dataframe(results)                             # one row per evaluated object
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence, Union

__version__ = "0.1.0"

__all__ = ["__version__", "generate_templates", "check_files", "write_summary", "to_dataframe"]

if TYPE_CHECKING:  # pragma: no cover
    import pandas

    from xltool.core.model import Result, UnitInfo

PathLike = Union[str, "os.PathLike[str]"]


def _use_key(key: PathLike | None) -> None:
    if key is not None:
        from xltool.template.signing import use_key_file

        use_key_file(key)


def generate_templates(
    roster: PathLike | Sequence["UnitInfo"], out_dir: PathLike, key: PathLike | None = None, targets: PathLike | None = None
) -> list[Path]:
    """One template per unit of a roster file (CSV / XLSX) or of a list of UnitInfo; returns the
    paths written. A roster with errors raises RosterError listing every error (in Chinese).
    `key`: the signing key file (default: the user's key, created on first use); it is then this
    process's key, as `--key` is for a command. `targets`: the approved targets file
    (绩效目标批复表, columns in xltool.template.approved): its rows are pre-filled and locked; every
    error of it raises one RosterError before a single template is written."""
    from xltool.template import generate
    from xltool.template.roster import read_roster

    _use_key(key)
    units = read_roster(roster) if isinstance(roster, (str, os.PathLike)) else list(roster)
    if targets is not None:
        from xltool.template.approved import apply_targets, read_targets

        units = apply_targets(units, read_targets(targets, units))
    return generate(units, out_dir)


def check_files(paths: PathLike | Iterable[PathLike], jobs: int = 1, key: PathLike | None = None) -> list["Result"]:
    """Check returned workbooks: a file, a folder (searched recursively), a .zip of returns, or
    a list of them. Never raises for a bad file: each gets its own result (status passed /
    failed / unreadable / missing) with findings. `key`: the key the templates were signed with."""
    from xltool.check import batch

    _use_key(key)
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    inputs = batch.collect([os.fspath(p) for p in items])
    return inputs.problems + [r for r in batch.check_paths(inputs.sources, jobs=jobs) if r.status != "skipped"]


def write_summary(results: Iterable["Result"], path: PathLike) -> Path:
    """The graded summary workbook (汇总, 问题清单, 评分明细, 图表), written atomically."""
    from xltool.report.summary import write_summary as _write

    return _write(results, path)


def to_dataframe(results: Iterable["Result"]) -> "pandas.DataFrame":
    """One row per evaluated object (the unit as a whole, or each project)."""
    from xltool.report.tabular import to_dataframe as _frame

    return _frame(results)
