"""The standard tables for a provincial budget system: `xltool check … --export DIR`.

Two tables, named and laid out as the national budget system (预算管理一体化, performance module)
stores a project self-evaluation: PM_PERF_SELF_BGT, one row per project, and
PM_SELF_EVAL_INDICATOR, one row per indicator. Each is written twice, as .xlsx and as .csv (UTF-8
with BOM, so Excel in China opens it right). Every figure is the checker's recomputed one, never
what the unit declared; every text goes through safe_text (never a formula). Only project
evaluations of files that could be read are exported (a unit-wide evaluation has tables of its
own in the national system).
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from xltool.core import scoring
from xltool.core.model import Evaluation, Result
from xltool.report.common import STATUS_TEXT, _Book, _close_workbook, _dec, _file_name, _Sheet
from xltool.report.outputs import _atomic
from xltool.report.tabular import _csv_value


@dataclass(frozen=True)
class Column:
    field: str  # the system's field name (the header of both files)
    label: str  # Chinese, for the README and the 字段说明 sheet
    kind: str  # text | money | percent | score | integer | value
    about: str = ""


PROJECT_TABLE = "PM_PERF_SELF_BGT"
INDICATOR_TABLE = "PM_SELF_EVAL_INDICATOR"

PROJECT_COLUMNS = (
    Column("agency_code", "单位编码", "text", "模板中的单位编码"),
    Column("agency_name", "单位名称", "text"),
    Column("fiscal_year", "评价年度", "integer"),
    Column("pro_name", "项目名称", "text"),
    Column("reply_amt", "年初批复数（万元）", "money", "年初预算数；模板没有这一项时为空"),
    Column("year_adj_amt", "年度调整金额（万元）", "money", "全年预算数 − 年初预算数；年初预算数为空时为空"),
    Column("cur_amt", "变动后预算数（万元）", "money", "全年预算数（调整后）"),
    Column("year_exe_amt", "全年执行数（万元）", "money"),
    Column("exe_amt_rate", "预算执行率（%）", "percent", "全年执行数 ÷ 全年预算数 × 100，两位小数；如 71.56"),
    Column("exe_score", "预算执行率得分", "score", "执行率（超过 100% 按 100% 计）× 分值"),
    Column("total_score", "自评总分（重新计算）", "score", "检查程序按填报数据重新计算的总分；填报不全时为空"),
    Column("eval_level", "评价等级（重新计算）", "text"),
    Column("check_result", "检查结果", "text", "通过 / 不通过"),
    Column("source_file", "文件", "text", "交回的文件名"),
)

INDICATOR_COLUMNS = (
    Column("agency_code", "单位编码", "text"),
    Column("fiscal_year", "评价年度", "integer"),
    Column("pro_name", "项目名称", "text"),
    Column("ind_seq", "行号", "integer", "指标在项目块中的行号"),
    Column("first_ind", "一级指标", "text"),
    Column("second_ind", "二级指标", "text"),
    Column("ind_name", "三级指标", "text"),
    Column("ind_sign", "计算符号", "text", "≥ > ≤ < = 或 定性"),
    Column("kpi_val", "指标值", "value", "计分所用的年度指标值（有调整后的值时为调整后的值）；定性指标为批复的文字表述（没有时为空）"),
    Column("measure_unit", "计量单位", "text"),
    Column("ind_comp", "实际完成值", "value", "定量指标为数字，定性指标为所选档次"),
    Column("ind_weight", "分值", "score"),
    Column("eval_score", "得分（重新计算）", "score", "检查程序按国家规则重新计算的得分；无法计算时为空"),
    Column("is_met", "是否达成", "text", "是 / 否；无法判断时为空"),
    Column("devi_analy", "偏差原因分析及改进措施", "text"),
    Column("application_advise", "结果应用建议", "text", "留空，由财政（主管）部门填写"),
    Column("source_file", "文件", "text"),
)

TABLES = ((PROJECT_TABLE, PROJECT_COLUMNS), (INDICATOR_TABLE, INDICATOR_COLUMNS))
_HUNDRED = Decimal(100)


def _exported(results: Iterable[Result]) -> Iterable[tuple[Result, Evaluation]]:
    for result in results:
        if result.kind != "project" or result.status not in ("passed", "failed"):
            continue
        for ev in result.evaluations:
            yield result, ev


def _exec_score(ev: Evaluation) -> Decimal | None:
    return ev.criteria[0]["score"] if ev.criteria else None


def _percent(rate: Decimal | None) -> Decimal | None:
    return None if rate is None else scoring.round_half_up(rate * _HUNDRED, 2)


def project_rows(results: Iterable[Result]) -> Iterable[dict[str, Any]]:
    """PM_PERF_SELF_BGT: one row per evaluated project, recomputed figures only."""
    for result, ev in _exported(results):
        initial = ev.initial_budget
        yield {
            "agency_code": result.unit_code,
            "agency_name": result.unit,
            "fiscal_year": result.year,
            "pro_name": ev.name,
            "reply_amt": initial,
            "year_adj_amt": None if initial is None or ev.budget is None else ev.budget - initial,
            "cur_amt": ev.budget,
            "year_exe_amt": ev.executed,
            "exe_amt_rate": _percent(ev.execution_rate),
            "exe_score": _exec_score(ev),
            "total_score": ev.score,
            "eval_level": ev.grade,
            "check_result": STATUS_TEXT.get(result.status, result.status),
            "source_file": _file_name(result.file),
        }


def indicator_rows(results: Iterable[Result]) -> Iterable[dict[str, Any]]:
    """PM_SELF_EVAL_INDICATOR: one row per used indicator row of every evaluated project."""
    for result, ev in _exported(results):
        for ind in ev.indicators:
            qualitative = ind.get("sign") == "定性"
            met = ind.get("met")
            yield {
                "agency_code": result.unit_code,
                "fiscal_year": result.year,
                "pro_name": ev.name,
                "ind_seq": ind.get("row"),
                "first_ind": ind.get("level1"),
                "second_ind": ind.get("level2"),
                "ind_name": ind.get("name"),
                "ind_sign": ind.get("sign"),
                "kpi_val": ind.get("target") if not qualitative or isinstance(ind.get("target"), str) else None,  # 定性: the wording
                "measure_unit": ind.get("unit"),
                "ind_comp": (ind.get("band") or None) if qualitative else ind.get("actual"),
                "ind_weight": ind.get("points"),
                "eval_score": ind.get("score"),
                "is_met": None if met is None else ("是" if met else "否"),
                "devi_analy": ind.get("reason"),
                "application_advise": None,
                "source_file": _file_name(result.file),
            }


_ROWS: dict[str, Callable[[Iterable[Result]], Iterable[dict[str, Any]]]] = {PROJECT_TABLE: project_rows, INDICATOR_TABLE: indicator_rows}


def export_paths(folder: str | os.PathLike) -> list[Path]:
    """The files --export writes into `folder`."""
    return [Path(folder) / f"{table}.{ext}" for table, _c in TABLES for ext in ("csv", "xlsx")]


def write_export(results: Iterable[Result], folder: str | os.PathLike) -> list[Path]:
    """Both tables, .xlsx and .csv, into `folder` (made if missing). `results` is read once per
    file (a Spool). Within report.staged() nothing is put in place until every output is written."""
    if iter(results) is results:  # a generator is read once: keep it (a Spool or list is read again)
        results = list(results)
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(20, "导出位置不是文件夹", str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    for table, columns in TABLES:
        _write_csv(folder / f"{table}.csv", columns, _ROWS[table](results))
        _write_xlsx(folder / f"{table}.xlsx", table, columns, _ROWS[table](results))
    return export_paths(folder)


_CENT = Decimal("0.01")


def _csv_text(value: Any, kind: str) -> str:
    """Money, rates and scores with exactly two decimals (300.00, 71.56); other numbers as
    written, without a trailing .0 or an exponent (140000, 0.5); text through safe_text."""
    number = _dec(value) if kind != "text" else None
    if number is not None and kind in ("money", "percent", "score"):
        return format(scoring.round_half_up(number, 2).quantize(_CENT), "f")
    if number is not None:
        text = format(number.normalize(), "f")
        return text
    return _csv_value(value)


def _write_csv(path: Path, columns, rows) -> Path:
    with _atomic(path) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow([c.field for c in columns])
            for row in rows:
                writer.writerow([_csv_text(row[c.field], c.kind) for c in columns])
    return path


def _write_xlsx(path: Path, table: str, columns, rows) -> Path:
    # constant memory (rows flushed as written, into a scratch folder removed at the end): the
    # indicator table of a large batch never sits in memory
    with tempfile.TemporaryDirectory(prefix="xltool-") as scratch, _atomic(path) as tmp:
        book = _Book(tmp, table, kind="export", constant_memory=True, in_memory=False, tmpdir=scratch)
        sheet = _Sheet(book, table, stream=True)
        formats = {"text": book.cell, "money": book.money, "percent": book.score, "score": book.score, "integer": book.integer, "value": book.general}
        for col, column in enumerate(columns):
            sheet.text(0, col, column.field, book.header)
        for r, row in enumerate(rows, start=1):
            for col, column in enumerate(columns):
                value = row[column.field]
                if column.kind == "text":
                    sheet.text(r, col, value, book.cell)
                elif column.kind == "value":
                    sheet.value(r, col, _dec(value) if isinstance(value, (Decimal, int, float)) and not isinstance(value, bool) else value, book.general, book.cell)
                else:
                    sheet.number(r, col, value, formats[column.kind])
        sheet.fit_columns()
        sheet.ws.freeze_panes(1, 0)
        about = _Sheet(book, "字段说明")
        for col, head in enumerate(("字段", "中文名称", "说明")):
            about.text(0, col, head, book.header)
        for r, column in enumerate(columns, start=1):
            about.text(r, 0, column.field, book.cell)
            about.text(r, 1, column.label, book.cell)
            about.text(r, 2, column.about, book.wrap)
        about.fit_columns(maximum=60)
        _close_workbook(book)
    return path
