"""The roster: which archives get a template, and the figures finance already knows.

One row per archive for the unit-wide kind; one row per project for the project kind (the
archive's columns repeated on each of its project rows). CSV (UTF-8 or GBK, as Excel in China
saves it; or Excel's "Unicode 文本": UTF-16, tab-separated) or XLSX. Headers may be Chinese or
English; full-width/half-width brackets, spaces and a bracketed note ("年初预算数（万元）") do not
matter, and an unknown heading close to a known one ("单位名") is an error naming the known one.
Every problem of a roster is reported at once (up to 50):

| column            | English          | required | meaning                                         |
|-------------------|------------------|----------|-------------------------------------------------|
| 单位名称          | unit_name        | yes      | the archive                                     |
| 单位编码          | unit_code        | yes      | unique per archive                              |
| 年度              | year             | yes      | evaluation year, e.g. 2021                      |
| 类型              | kind             | yes      | 项目 / project, or 部门整体 / department        |
| 框架              | framework        | no       | framework name or YAML path (default: the kind) |
| 年初预算数        | initial_budget   | no       | 万元, unit-wide; on a project row the project's |
| 调整预算数        | adjusted_budget  | no       | 万元, unit-wide                                 |
| 决算数            | final_accounts   | no       | 万元, unit-wide                                 |
| 项目名称          | project          | project  | one project per row                             |
| 全年预算数        | project_budget   | no       | 万元, the project's full-year budget            |
| 全年执行数        | project_executed | no       | 万元, when finance already knows it             |
| 主管部门          | department       | no       | printed on the form (自评表); blank: filled in  |
| 预期目标          | goal_plan        | no       | the project's approved 年度总体目标             |
| 〈资金来源〉年初预算数 / 〈资金来源〉全年预算数 / 〈资金来源〉全年执行数 | | no | 万元, one 其中 row of 项目资金, e.g. 当年财政拨款全年预算数; the source a name of the framework's fund_sources |

A figure given here is pre-filled and locked in the template; a figure left blank becomes an input
cell for the archive to fill.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xltool.core.messages import explain
from xltool.template.celltext import xml_safe
from xltool.core.model import ProjectInfo, UnitInfo

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
    "department": ("主管部门", False),
    "goal_plan": ("预期目标", False),
}
# A fund-source column: the source's name, then one of these ("当年财政拨款全年预算数").
SOURCE_FIELDS = {"年初预算数": 1, "全年预算数": 2, "全年执行数": 3}
SOURCE_KEY = "source|"  # key of such a column: source|当年财政拨款|全年预算数
KIND_WORDS = {
    "project": "project", "项目": "project", "项目支出": "project",
    "department": "department", "部门整体": "department", "部门": "department", "单位整体": "department", "整体": "department",
}
KIND_NAMES = {"project": "项目支出", "department": "部门整体"}  # a kind as a sentence says it
MONEY = ("initial_budget", "adjusted_budget", "final_accounts", "project_budget", "project_executed")
MAX_ROWS = 100_000


MAX_LISTED = 50  # errors listed at once; beyond, a count


class RosterError(ValueError):
    """A roster that cannot be used; the message names the row and the column of every problem
    (up to MAX_LISTED), so the whole roster can be corrected in one go."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


@dataclass(frozen=True)
class TableKind:
    """What a table is, for reading it and for the sentences about it: the roster, or the approved
    targets file (template/approved.py), read by the same rules."""

    name: str  # "名册": how a sentence calls the file
    columns: dict  # key → (Chinese heading, required)
    one_row: str  # "每行填写一个单位": what a data row holds


ROSTER = TableKind("名册", COLUMNS, "每行填写一个单位")


@dataclass
class _Row:
    number: int  # as the user sees it in Excel: the header is row 1
    values: dict[str, str]


def read_roster(path: str | Path, notes: list[str] | None = None) -> list[UnitInfo]:
    """The units of a roster. Every problem is collected and raised together as one RosterError;
    `notes` (when given) receives what was accepted but is worth saying (an ignored column)."""
    path = Path(path)
    rows = _read_rows(path, notes)
    return build_units(rows, path.name)


def _fail(source: str, problems: list[str], table: TableKind = ROSTER) -> RosterError:
    """One error listing every problem ("第 3 行“年度”列：…"), at most MAX_LISTED of them."""
    if len(problems) == 1:
        return RosterError(f"{table.name} {source} {problems[0]}", problems)
    shown = "\n".join(f"  {i}. {problem}" for i, problem in enumerate(problems[:MAX_LISTED], 1))
    more = f"\n  还有 {len(problems) - MAX_LISTED} 处错误未列出。" if len(problems) > MAX_LISTED else ""
    return RosterError(f"{table.name} {source} 有 {len(problems)} 处错误，请全部改正后重新生成：\n{shown}{more}", problems)


def _decode(raw: bytes, name: str, table: TableKind = ROSTER) -> str:
    """A CSV's text: UTF-16 with its BOM (Excel's "Unicode 文本"), UTF-8 (with or without BOM), GBK."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    raise RosterError(f"{table.name} {name} 的文字编码无法识别。请在 Excel 中另存为“CSV UTF-8（逗号分隔）”或“Unicode 文本”后重试。")


def _read_csv(path: Path, table: TableKind = ROSTER) -> tuple[object, list[str]]:
    """A CSV or tab-separated text as a frame of text; a row with more fields than the header is an
    problem (pandas would silently shift such a row's columns), returned to be listed with the rest."""
    import csv
    import io

    import pandas as pd

    text = _decode(path.read_bytes(), path.name, table)
    header = text.split("\n", 1)[0]
    delimiter = "\t" if header.count("\t") > header.count(",") else ","
    records = []
    problems = []
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        if len(records) > MAX_ROWS:
            break
        records.append([field.strip() for field in record])
    if not records or not any(records[0]):
        raise RosterError(f"{table.name} {path.name} 无法读取：文件是空的，没有表头和数据。请在第 1 行填写表头，从第 2 行起{table.one_row}。")
    width = len(records[0])
    for number, record in enumerate(records[1:], 2):
        if len(record) > width and any(record[width:]):
            problems.append(f"第 {number} 行有 {len(record)} 列，比表头的 {width} 列多，请检查该行是否多了逗号。")
        record[width:] = []
        record.extend([""] * (width - len(record)))
    columns = [name or f"Unnamed: {i}" for i, name in enumerate(records[0])]
    return pd.DataFrame(records[1:], columns=pd.Index(columns, dtype=object), dtype=str), problems


def _read_rows(path: Path, notes: list[str] | None = None, table: TableKind = ROSTER) -> list[_Row]:
    import pandas as pd

    if not path.is_file():
        raise RosterError(f"找不到{table.name}文件 {path.name}。请检查路径是否写对。")
    suffix = path.suffix.lower()
    width_problems: list[str] = []
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, nrows=MAX_ROWS, engine="openpyxl")
        elif suffix in (".csv", ".txt"):
            frame, width_problems = _read_csv(path, table)
        else:
            raise RosterError(f"{table.name} {path.name} 的格式不支持：请使用 .csv、.txt（Unicode 文本）或 .xlsx。")
    except RosterError:
        raise
    except Exception as exc:  # pandas raises many kinds for a broken file
        raise RosterError(f"{table.name} {path.name} 无法读取：{explain(exc)}。请在 Excel 中打开检查，另存为 .xlsx 或 CSV 后重试。") from None
    headers = {}
    problems = []
    for column in frame.columns:
        shown = str(column).strip().lstrip("\ufeff")
        key = _column_key(shown, table)
        if key:
            if key in headers.values():
                problems.append(f"第 1 行：列“{_label(key, table)}”出现了两次，请删除其中一列。")
            headers[column] = key
        elif shown and not shown.startswith("Unnamed:"):
            near = _nearest_column(shown, table)
            if near:
                problems.append(f"第 1 行：未知的列“{shown}”，是不是“{near}”？请把表头改为“{near}”。")
            elif notes is not None:
                notes.append(f"{table.name} {path.name} 的列“{shown}”不是{table.name}使用的列，已忽略。")
    present = set(headers.values())
    missing = [cn for key, (cn, required) in table.columns.items() if required and key not in present]
    if missing:
        problems.insert(0, f"缺少必需的列：{'、'.join(missing)}（第 1 行为表头）。")
    problems += width_problems
    if problems:
        raise _fail(path.name, problems, table)
    rows = []
    for i, record in enumerate(frame.to_dict("records")):
        # characters a workbook cannot hold (control characters) are dropped, as the checker drops
        # them when it reads a cell: a pre-filled text then reads back as its roster text
        values = {key: xml_safe(str(record[col])).strip() for col, key in headers.items()}
        if any(values.values()):
            rows.append(_Row(i + 2, values))
    return rows


def _heading(text: str) -> str:
    """A heading as compared: NFKC (full-width → half-width), spaces removed, lower case, and the
    part before a bracket ("年初预算数（万元）" == "年初预算数(万元)" == "年初预算数")."""
    text = "".join(unicodedata.normalize("NFKC", text).split()).lower()
    for bracket in "([【〔":
        text = text.split(bracket)[0]
    return text


def _column_key(header: str, table: TableKind = ROSTER) -> str | None:
    text = _heading(header.lstrip("\ufeff"))
    headings = {_heading(name): key for key, (chinese, _req) in table.columns.items() for name in (key, chinese)}
    known = headings.get(text)
    if known or table is not ROSTER:
        return known
    # The roster's fund-source columns: 〈资金来源〉年初预算数 / 全年预算数 / 全年执行数.
    text = text.removeprefix("其中:").removeprefix("其中")
    for suffix in SOURCE_FIELDS:
        if text.endswith(suffix) and len(text) > len(suffix):
            return f"{SOURCE_KEY}{text[: -len(suffix)]}|{suffix}"
    return None


def _label(key: str, table: TableKind = ROSTER) -> str:
    """A column as the user wrote it: 单位名称, 当年财政拨款全年预算数."""
    if key.startswith(SOURCE_KEY):
        return "".join(key[len(SOURCE_KEY):].split("|"))
    return table.columns[key][0]


def _nearest_column(header: str, table: TableKind = ROSTER) -> str | None:
    """The known column a heading most resembles ("单位名" → "单位名称"), or None."""
    import difflib

    text = _heading(header)
    names = [chinese for chinese, _req in table.columns.values()]
    near = difflib.get_close_matches(text, names, n=1, cutoff=0.6)
    if near:
        return near[0]
    english = difflib.get_close_matches(text, list(table.columns), n=1, cutoff=0.75)
    return table.columns[english[0]][0] if english else None


def _money(row: _Row, key: str, problems: list[str]) -> Decimal | None:
    """A 万元 figure of the row (two decimals kept as written), or None when blank; a problem when
    it is not a number or negative."""
    text = row.values.get(key, "").replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        value = Decimal(unicodedata.normalize("NFKC", text))
    except InvalidOperation:
        value = None
    label = _label(key)
    if value is None or not value.is_finite():
        problems.append(f"第 {row.number} 行“{label}”列：“{row.values[key]}”不是数字，请填写以万元为单位的金额。")
        return None
    if value < 0:
        problems.append(f"第 {row.number} 行“{label}”列：金额 {value} 为负数，请更正。")
        return None
    return value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value


def _sources(row: _Row, framework, problems: list[str]) -> dict[str, list]:
    """The row's fund-source figures: source name → [年初预算数, 全年预算数, 全年执行数], in the
    framework's order; a source the framework does not name is a problem (when it has a figure)."""
    found: dict[str, list] = {}
    for key, written in row.values.items():
        if not key.startswith(SOURCE_KEY) or not written:
            continue
        _prefix, source, field = key.split("|")
        if source not in framework.fund_sources:
            known = "、".join(framework.fund_sources)
            problems.append(
                f"第 {row.number} 行“{_label(key)}”列：“{source}”不是框架“{framework.name}”的资金来源（{known}），"
                f"请把表头改为其中之一加“{field}”，如“{framework.fund_sources[0]}{field}”。"
            )
            continue
        value = _money(row, key, problems)
        if value is not None:
            found.setdefault(source, [None, None, None])[SOURCE_FIELDS[field] - 1] = value
    return {s: found[s] for s in framework.fund_sources if s in found}


def build_units(rows: list[_Row], source: str = "名册") -> list[UnitInfo]:
    """Validate every row before anything is written: a bad roster produces no template at all,
    and its error lists every problem found (row and column), not only the first."""
    from xltool.core.framework import FrameworkError, load_framework

    problems: list[str] = []
    groups: dict[tuple, dict] = {}
    names_by_code: dict[str, tuple[str, int]] = {}
    for row in rows:
        v = row.values
        before = len(problems)
        for key in ("unit_name", "unit_code", "year", "kind"):
            if not v.get(key):
                problems.append(f"第 {row.number} 行“{COLUMNS[key][0]}”列为空，请补全。")
        kind = KIND_WORDS.get(v.get("kind", "").lower())
        if kind is None and v.get("kind"):
            problems.append(f"第 {row.number} 行“类型”列：“{v['kind']}”不是已知类型，请填写“项目”或“部门整体”。")
        try:
            year = int(unicodedata.normalize("NFKC", v.get("year", "")).removesuffix(".0").removesuffix("年"))
        except ValueError:
            year = 0
        if v.get("year") and not 2000 <= year <= 2100:
            problems.append(f"第 {row.number} 行“年度”列：“{v['year']}”不是有效年度，请填写如 2021。")
        framework_name = v.get("framework") or kind
        framework = None
        if kind is not None:
            try:
                framework = load_framework(framework_name)
            except FrameworkError as exc:
                problems.append(f"第 {row.number} 行“框架”列：{exc}")
            else:
                if framework.kind != kind:
                    problems.append(f"第 {row.number} 行：框架“{framework_name}”用于{KIND_NAMES.get(framework.kind, framework.kind)}评价，与“类型”列的“{v['kind']}”不符。")
        code = v.get("unit_code", "")
        if code and v.get("unit_name"):
            seen = names_by_code.setdefault(code, (v["unit_name"], row.number))
            if seen[0] != v["unit_name"]:
                problems.append(f"第 {row.number} 行“单位编码”列：编码 {code} 已在第 {seen[1]} 行用于“{seen[0]}”，单位编码不能重复。")
        money = {k: _money(row, k, problems) for k in MONEY}
        if kind == "project" and not v.get("project", ""):
            problems.append(f"第 {row.number} 行“项目名称”列为空：项目支出评价每行填写一个项目。")
        sources: dict[str, list] = {}
        goal_plan = v.get("goal_plan", "")
        if kind == "project" and framework is not None:
            sources = _sources(row, framework, problems)
            if len(goal_plan) > framework.text_max_length:
                problems.append(f"第 {row.number} 行“预期目标”列有 {len(goal_plan)} 个字，超过 {framework.text_max_length} 个字的上限，请精简。")
        if len(problems) > before:
            continue
        key = (code, year, kind)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"row": row, "kind": kind, "year": year, "framework": framework_name, "money": money, "projects": []}
        elif kind == "department":
            problems.append(f"第 {row.number} 行：单位编码 {code} 的 {year} 年度部门整体评价已在第 {group['row'].number} 行出现，不能重复。")
            continue
        if kind == "project":
            name = v["project"]
            if any(p.name == name for p in group["projects"]):
                problems.append(f"第 {row.number} 行“项目名称”列：项目“{name}”在该单位中重复。")
                continue
            group["projects"].append(
                ProjectInfo(
                    name, money["project_budget"], money["project_executed"], initial=money["initial_budget"], goal_plan=goal_plan or None,
                    sources=tuple((source, *figures) for source, figures in sources.items()),
                )
            )
    if problems:
        raise _fail(source, problems)
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
                department=row.values.get("department") or "",
            )
        )
    if not units:
        raise RosterError(f"名册 {source} 没有数据行。请在表头下面每行填写一个单位（项目支出每行一个项目）。")
    return units
