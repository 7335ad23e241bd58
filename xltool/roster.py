"""The roster: which archives get a template, and the figures finance already knows.

One row per archive for the unit-wide kind; one row per project for the project kind (the
archive's columns repeated on each of its project rows). CSV (UTF-8 or GBK, as Excel in China
saves it) or XLSX. Headers may be Chinese or English:

| column            | English          | required | meaning                                         |
|-------------------|------------------|----------|-------------------------------------------------|
| 单位名称          | unit_name        | yes      | the archive                                     |
| 单位编码          | unit_code        | yes      | unique per archive                              |
| 年度              | year             | yes      | evaluation year, e.g. 2021                      |
| 类型              | kind             | yes      | 项目 / project, or 部门整体 / department        |
| 框架              | framework        | no       | framework name or YAML path (default: the kind) |
| 年初预算数        | initial_budget   | no       | 万元, unit-wide                                 |
| 调整预算数        | adjusted_budget  | no       | 万元, unit-wide                                 |
| 决算数            | final_accounts   | no       | 万元, unit-wide                                 |
| 项目名称          | project          | project  | one project per row                             |
| 全年预算数        | project_budget   | no       | 万元, the project's full-year budget            |
| 全年执行数        | project_executed | no       | 万元, when finance already knows it             |

A figure given here is pre-filled and locked in the template; a figure left blank becomes an input
cell for the archive to fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .model import ProjectInfo, UnitInfo

COLUMNS = {
    "unit_name": ("单位名称", True),
    "unit_code": ("单位编码", True),
    "year": ("年度", True),
    "kind": ("类型", True),
    "framework": ("框架", False),
    "initial_budget": ("年初预算数", False),
    "adjusted_budget": ("调整预算数", False),
    "final_accounts": ("决算数", False),
    "project": ("项目名称", False),
    "project_budget": ("全年预算数", False),
    "project_executed": ("全年执行数", False),
}
KIND_WORDS = {
    "project": "project", "项目": "project", "项目支出": "project",
    "department": "department", "部门整体": "department", "部门": "department", "单位整体": "department", "整体": "department",
}
MONEY = ("initial_budget", "adjusted_budget", "final_accounts", "project_budget", "project_executed")
MAX_ROWS = 100_000


class RosterError(ValueError):
    """A roster that cannot be used; the message names the row and the column."""


@dataclass
class _Row:
    number: int  # as the user sees it in Excel: the header is row 1
    values: dict[str, str]


def read_roster(path: str | Path) -> list[UnitInfo]:
    path = Path(path)
    rows = _read_rows(path)
    return build_units(rows, path.name)


def _read_rows(path: Path) -> list[_Row]:
    import pandas as pd

    if not path.is_file():
        raise RosterError(f"找不到名册文件 {path.name}。")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, nrows=MAX_ROWS, engine="openpyxl")
        elif suffix in (".csv", ".txt"):
            frame = None
            for encoding in ("utf-8-sig", "gb18030"):
                try:
                    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding, nrows=MAX_ROWS)
                    break
                except UnicodeDecodeError:
                    continue
            if frame is None:
                raise RosterError(f"名册 {path.name} 的编码无法识别，请另存为 UTF-8 或 GBK 编码的 CSV。")
        else:
            raise RosterError(f"名册 {path.name} 的格式不支持：请使用 .csv 或 .xlsx。")
    except RosterError:
        raise
    except Exception as exc:  # pandas raises many kinds for a broken file
        raise RosterError(f"名册 {path.name} 无法读取：{exc}") from None
    headers = {}
    for column in frame.columns:
        key = _column_key(str(column))
        if key:
            headers[column] = key
    missing = [cn for key, (cn, required) in COLUMNS.items() if required and key not in headers.values()]
    if missing:
        raise RosterError(f"名册 {path.name} 缺少必需的列：{'、'.join(missing)}（第 1 行为表头）。")
    rows = []
    for i, record in enumerate(frame.to_dict("records")):
        values = {key: str(record[col]).strip() for col, key in headers.items()}
        if any(values.values()):
            rows.append(_Row(i + 2, values))
    return rows


def _column_key(header: str) -> str | None:
    text = header.strip().lstrip("\ufeff")
    for key, (chinese, _req) in COLUMNS.items():
        if text in (key, chinese) or text.split("（")[0] == chinese:
            return key
    return None


def _money(row: _Row, key: str, source: str) -> Decimal | None:
    text = row.values.get(key, "").replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = None
    label = COLUMNS[key][0]
    if value is None or not value.is_finite():
        raise RosterError(f"名册 {source} 第 {row.number} 行“{label}”列：“{row.values[key]}”不是数字，请填写以万元为单位的金额。")
    if value < 0:
        raise RosterError(f"名册 {source} 第 {row.number} 行“{label}”列：金额 {value} 为负数，请更正。")
    return value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value


def build_units(rows: list[_Row], source: str = "名册") -> list[UnitInfo]:
    """Validate every row before anything is written: a bad roster produces no template at all."""
    from .framework import FrameworkError, load_framework

    groups: dict[tuple, dict] = {}
    names_by_code: dict[str, tuple[str, int]] = {}
    for row in rows:
        v = row.values
        for key in ("unit_name", "unit_code", "year", "kind"):
            if not v.get(key):
                raise RosterError(f"名册 {source} 第 {row.number} 行“{COLUMNS[key][0]}”列为空，请补全。")
        kind = KIND_WORDS.get(v["kind"].lower())
        if kind is None:
            raise RosterError(f"名册 {source} 第 {row.number} 行“类型”列：“{v['kind']}”不是已知类型，请填写“项目”或“部门整体”。")
        try:
            year = int(v["year"].removesuffix(".0").removesuffix("年"))
        except ValueError:
            year = 0
        if not 2000 <= year <= 2100:
            raise RosterError(f"名册 {source} 第 {row.number} 行“年度”列：“{v['year']}”不是有效年度，请填写如 2021。")
        framework_name = v.get("framework") or kind
        try:
            framework = load_framework(framework_name)
        except FrameworkError as exc:
            raise RosterError(f"名册 {source} 第 {row.number} 行“框架”列：{exc}") from None
        if framework.kind != kind:
            raise RosterError(f"名册 {source} 第 {row.number} 行：框架“{framework_name}”用于{framework.kind}，与“类型”列的“{v['kind']}”不符。")
        code = v["unit_code"]
        seen = names_by_code.setdefault(code, (v["unit_name"], row.number))
        if seen[0] != v["unit_name"]:
            raise RosterError(f"名册 {source} 第 {row.number} 行“单位编码”列：编码 {code} 已在第 {seen[1]} 行用于“{seen[0]}”，单位编码不能重复。")
        key = (code, year, kind)
        group = groups.get(key)
        money = {k: _money(row, k, source) for k in MONEY}
        if group is None:
            group = groups[key] = {"row": row, "kind": kind, "year": year, "framework": framework_name, "money": money, "projects": []}
        elif kind == "department":
            raise RosterError(f"名册 {source} 第 {row.number} 行：单位编码 {code} 的 {year} 年度部门整体评价已在第 {group['row'].number} 行出现，不能重复。")
        if kind == "project":
            name = v.get("project", "")
            if not name:
                raise RosterError(f"名册 {source} 第 {row.number} 行“项目名称”列为空：项目支出评价每行填写一个项目。")
            if any(p.name == name for p in group["projects"]):
                raise RosterError(f"名册 {source} 第 {row.number} 行“项目名称”列：项目“{name}”在该单位中重复。")
            group["projects"].append(ProjectInfo(name, money["project_budget"], money["project_executed"]))
    units = []
    for (code, year, kind), group in groups.items():
        row = group["row"]
        money = group["money"]
        units.append(
            UnitInfo(
                name=row.values["unit_name"],
                code=code,
                year=year,
                kind=kind,
                framework=group["framework"],
                initial_budget=money["initial_budget"] if kind == "department" else None,
                adjusted_budget=money["adjusted_budget"] if kind == "department" else None,
                final_accounts=money["final_accounts"] if kind == "department" else None,
                projects=tuple(group["projects"]),
            )
        )
    if not units:
        raise RosterError(f"名册 {source} 没有数据行。")
    return units
