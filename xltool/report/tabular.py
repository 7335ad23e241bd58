"""Results as JSON, CSV and pandas DataFrames, streamed one file at a time."""

from __future__ import annotations

import csv
import json
import math
import os
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from xltool.core.model import Evaluation, Result
from xltool.report.common import _dec, _difference, _float, _note, _safe_tree, safe_text
from xltool.report.outputs import _atomic


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (Decimal, float)):
        d = _dec(value)
        return "" if d is None else format(d, "f")
    return safe_text(value)


CSV_COLUMNS = (
    "file",
    "status",
    "kind",
    "unit",
    "unit_code",
    "year",
    "evaluation",
    "budget",
    "executed",
    "execution_rate",
    "declared_score",
    "score",
    "difference",
    "declared_grade",
    "grade",
    "errors",
    "warnings",
    "initial_budget",
    "initial_budget_completion_rate",
    "note",
)


_NUMBER_COLUMNS = (
    "budget",
    "executed",
    "execution_rate",
    "declared_score",
    "score",
    "difference",
    "initial_budget",
    "initial_budget_completion_rate",
)


FINDING_COLUMNS = ("file", "unit", "status", "sheet", "cell", "code", "severity", "message", "seen", "expected")


def _rows(results: Iterable[Result]) -> list[dict]:
    """One raw row per evaluation (one per file when a file has none), values unformatted."""
    rows = []
    for result in results:
        base = {
            "file": result.file,
            "status": result.status,
            "kind": result.kind,
            "unit": result.unit,
            "unit_code": result.unit_code,
            "year": result.year,
            "errors": result.errors,
            "warnings": result.warnings,
            "note": _note(result),
        }
        evaluations: list[Evaluation | None] = list(result.evaluations) or [None]
        for ev in evaluations:
            row = dict(base)
            if ev is None:
                row.update({k: None for k in _NUMBER_COLUMNS})
                row.update(evaluation="", declared_grade=None, grade=None)
            else:
                row.update(
                    note=_note(result, ev.name),
                    evaluation=ev.name,
                    budget=ev.budget,
                    executed=ev.executed,
                    execution_rate=ev.execution_rate,
                    declared_score=ev.declared_score,
                    score=ev.score,
                    difference=_difference(ev.declared_score, ev.score),
                    declared_grade=ev.declared_grade,
                    grade=ev.grade,
                    initial_budget=ev.initial_budget if result.kind == "department" else None,
                    initial_budget_completion_rate=ev.initial_budget_completion_rate if result.kind == "department" else None,
                )
            rows.append(row)
    return rows


def write_json(results: Iterable[Result], path: str | os.PathLike) -> Path:
    """The JSON report: a list of `Result.as_dict()` (UTF-8, indent 2, numbers as numbers,
    rates as fractions), every string through safe_text."""
    target = Path(path)
    with _atomic(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            # One file at a time: memory stays that of one file's report, not the batch's.
            fh.write("[")
            for i, result in enumerate(results):
                fh.write(("," if i else "") + "\n  " + _json_item(result.as_dict()))
            fh.write("\n]\n")
    return target


class _NotPlain(Exception):
    """A value the quick writer leaves to the json module."""


def _json_item(tree) -> str:
    """json.dumps(_safe_tree(tree), ensure_ascii=False, indent=2, allow_nan=False), each line
    after the first indented two more spaces: the same text, written in one pass (json's own
    indented writer is pure Python, and _safe_tree copied the tree first)."""
    parts: list[str] = []
    try:
        _json_parts(tree, parts, "  ")
    except _NotPlain:
        item = json.dumps(_safe_tree(tree), ensure_ascii=False, indent=2, allow_nan=False)
        return item.replace("\n", "\n  ")
    return "".join(parts)


_quote = json.encoder.encode_basestring  # ensure_ascii=False's string writer


def _json_parts(value, out: list, indent: str) -> None:
    if isinstance(value, str):
        out.append(_quote(safe_text(value)))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(float.__repr__(value) if math.isfinite(value) else "null")
    elif isinstance(value, Decimal):
        if not value.is_finite():
            out.append("null")
            return
        number = float(value)
        if not math.isfinite(number):
            raise _NotPlain  # beyond a float: json's own error, as before
        out.append(float.__repr__(number))
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = indent + "  "
        sep = "{\n" + inner
        for key, item in value.items():
            if not isinstance(key, str):
                raise _NotPlain
            out.append(sep + _quote(key) + ": ")
            _json_parts(item, out, inner)
            sep = ",\n" + inner
        out.append("\n" + indent + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        inner = indent + "  "
        sep = "[\n" + inner
        for item in value:
            out.append(sep)
            _json_parts(item, out, inner)
            sep = ",\n" + inner
        out.append("\n" + indent + "]")
    else:
        raise _NotPlain


def write_csv(results: Iterable[Result], path: str | os.PathLike) -> Path:
    """One row per evaluation (unreadable files: one row, the reason in `note`); UTF-8 with BOM
    so Excel in China opens it right."""
    target = Path(path)
    with _atomic(target) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            for result in results:
                for row in _rows([result]):
                    writer.writerow([_csv_value(row[c]) for c in CSV_COLUMNS])
    return target


def to_dataframe(results: Iterable[Result]):
    """The CSV's rows as a DataFrame: numbers as floats (NaN when absent), rates as fractions,
    text through safe_text."""
    import pandas as pd

    records = []
    for row in _rows(results):
        rec = {}
        for col in CSV_COLUMNS:
            value = row[col]
            if col in _NUMBER_COLUMNS:
                rec[col] = _float(value)
            elif col in ("year", "errors", "warnings"):
                rec[col] = value
            else:
                rec[col] = safe_text(value)
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(CSV_COLUMNS))
    for col in _NUMBER_COLUMNS:
        frame[col] = frame[col].astype("float64")
    frame["year"] = frame["year"].astype("Int64")
    frame["errors"] = frame["errors"].astype("int64")
    frame["warnings"] = frame["warnings"].astype("int64")
    return frame


def _plain(value: Any) -> Any:
    """A seen/expected value for a table: numbers as floats, anything else as safe text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return _float(value)
    return safe_text(value)


def findings_dataframe(results: Iterable[Result]):
    """Every finding of every file, one row each (columns FINDING_COLUMNS)."""
    import pandas as pd

    records = []
    for result in results:
        for f in result.findings:
            records.append(
                {
                    "file": safe_text(result.file),
                    "unit": safe_text(result.unit),
                    "status": result.status,
                    "sheet": safe_text(f.sheet),
                    "cell": safe_text(f.cell),
                    "code": safe_text(f.code),
                    "severity": f.severity,
                    "message": safe_text(f.message),
                    "seen": _plain(f.seen),
                    "expected": _plain(f.expected),
                }
            )
    return pd.DataFrame.from_records(records, columns=list(FINDING_COLUMNS))
