"""Framework files (workbook_templates/*.yaml) → plain, validated dataclasses.

A framework is the year's or province's rulebook: weights, indicator lists, qualitative bands,
grade bands and layout sizes. Everything the template writer and the checker need to know about
the rules comes from here, so a new framework is a YAML file, not a code change.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from xltool.core.messages import explain, explain_yaml
from xltool.core.scoring import Band, GradeBand

KINDS = ("project", "department")
SIGNS = ("≥", ">", "≤", "<", "=", "定性")
REVERSE_RULES = ("ratio", "linear")
SCORE_CAPS = ("none", "points_minus_cent")
REASON_RULES = ("below_points", "target_unmet")
DEFAULT_FUND_SOURCES = ("当年财政拨款", "上年结转资金", "其他资金")
from xltool.core.cells import NOT_APPLICABLE  # noqa: F401 - re-exported; the 计算符号 of a row that does not apply (framework setting not_applicable)

# Where the bundled frameworks live: the repository's workbook_templates/ in a checkout or an
# editable install, or the copy packaged beside the code (see pyproject's package-dir).
_BUNDLED_DIRS = (
    Path(__file__).resolve().parents[2] / "workbook_templates",
    Path(__file__).resolve().parents[1] / "workbook_templates",
)


class FrameworkError(ValueError):
    """A framework file that cannot be used; the message names the file, the key and the fault."""


@dataclass(frozen=True)
class Category:
    """一级指标 with its 二级指标 (points are None where the block is not scored)."""

    name: str
    points: Decimal | None
    subcategories: tuple[str, ...]


MEASURE_FORMULAS = ("ratio", "change")


@dataclass(frozen=True)
class Measure:
    """A quantitative 53号 indicator scored by formula (a framework setting, per indicator).

    ratio: value = a ÷ b × 100 (在职人员控制率 = 在职人员数 ÷ 编制数); change: value = (a − b) ÷ b × 100
    ("三公经费"变动率 = (本年 − 上年) ÷ 上年). Full points while the value is at most (or at least)
    `limit` percent; beyond it `per_point` is deducted per percentage point (proportionally,
    rounded to 2 places), never more than the indicator's points."""

    formula: str  # ratio | change
    inputs: tuple[str, str]  # what a and b are, as the template labels them: 在职人员数（人）, 编制数（人）
    limit: Decimal  # percent
    at_most: bool  # True: full at value ≤ limit (a cost, a head count); False: full at value ≥ limit
    per_point: Decimal


@dataclass(frozen=True)
class CriterionIndicator:
    """One third-level row of the unit-wide scoring table."""

    criterion: str
    group: str
    name: str
    points: Decimal
    measure: Measure | None = None  # scored by formula from two inputs, not deducted by hand


@dataclass(frozen=True)
class Criterion:
    name: str
    points: Decimal
    indicators: tuple[CriterionIndicator, ...]


@dataclass(frozen=True)
class Framework:
    name: str
    version: str
    kind: str
    title: str
    basis: str
    categories: tuple[Category, ...]
    criteria: tuple[Criterion, ...]
    execution_name: str
    execution_points: Decimal
    reverse_rule: str
    bands: tuple[Band, ...]
    grades: tuple[GradeBand, ...]
    units: tuple[str, ...]
    blank_projects: int
    goals: int
    indicator_rows: int
    text_max_length: int
    # DOMAIN.md's national defaults; a province's framework may change each.
    score_cap: str = "none"  # points_minus_cent: an unmet row shows at most points − 0.01
    reason_rule: str = "below_points"  # target_unmet: a reason only where the target is missed
    reason_above_percent: Decimal | None = None  # 30: a reason also when B ≥ A × 130%
    over_achievement_percent: Decimal | None = Decimal(120)  # B ≥ 120% of A is flagged
    # 项目资金's 其中 rows under 年度资金总额 (Sichuan: 财政资金 / 财政专户管理资金 / 单位资金 / 其他资金)
    fund_sources: tuple[str, ...] = DEFAULT_FUND_SOURCES
    not_applicable: bool = False  # a row may be marked 不适用; the rest is rescaled to 100
    low_execution_percent: Decimal = Decimal(90)  # an execution rate below it must be explained
    source: str = ""
    # The report draft's wording (xltool report): "" = the bundled one of the kind; the name of a
    # bundled report template; or a YAML file (as loaded: an absolute path, read beside the framework).
    report_template: str = field(default="", compare=False)
    digest: str = field(default="", compare=False)

    @property
    def category_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.categories)

    @property
    def all_subcategories(self) -> tuple[str, ...]:
        return tuple(s for c in self.categories for s in c.subcategories)

    @property
    def criterion_indicators(self) -> tuple[CriterionIndicator, ...]:
        return tuple(i for c in self.criteria for i in c.indicators)

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)

    def band(self, label) -> Band | None:
        return next((b for b in self.bands if b.label == label), None)


# ---------------------------------------------------------------- loading


@lru_cache(maxsize=1)
def bundled_frameworks() -> dict[str, Path]:
    """Name → path of every framework shipped with xltool (looked up once per process)."""
    found: dict[str, Path] = {}
    for folder in _BUNDLED_DIRS:
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, path)
    return found


def load_framework(name_or_path: str | Path) -> Framework:
    """Load a bundled framework by name ("project", "department") or any YAML file by path."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if not (path.suffix.lower() in (".yaml", ".yml") or path.exists()):
        bundled = bundled_frameworks()
        if text_name not in bundled:
            known = "、".join(sorted(bundled)) or "（无）"
            raise FrameworkError(f"找不到框架“{text_name}”。可用的框架：{known}；也可以给出 YAML 文件路径。")
        path = bundled[text_name]
    return _load_cached(str(path.resolve()) if path.exists() else str(path))


_CACHE: dict[str, tuple[float, Framework]] = {}


def _load_cached(path_text: str) -> Framework:
    path = Path(path_text)
    try:
        stamp = path.stat().st_mtime
    except OSError:
        raise FrameworkError(f"框架文件 {path.name} 不存在或无法读取。") from None
    cached = _CACHE.get(path_text)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(f"框架文件 {path.name} 无法读取：{explain(exc)}。") from None
    framework = parse_framework(text, source=path.name)
    if framework.report_template.lower().endswith((".yaml", ".yml")) and not Path(framework.report_template).is_absolute():
        from dataclasses import replace

        framework = replace(framework, report_template=str(path.parent / framework.report_template))
    _CACHE[path_text] = (stamp, framework)
    return framework


# Frameworks given explicitly on the command line (`check --framework PATH`): absolute paths,
# joined with os.pathsep, in the environment so that worker processes (fork or spawn) see them.
REGISTERED_ENV = "XLTOOL_FRAMEWORKS"


def register_frameworks(paths) -> list[Framework]:
    """Load each YAML file (FrameworkError when one cannot be used) and make it findable by name
    and version for the rest of this run, in this process and the worker processes it starts."""
    loaded, absolute = [], []
    for item in paths:
        path = Path(item)
        if not path.is_file():
            raise FrameworkError(f"框架文件 {item} 不存在或不是普通文件，请检查 --framework 给出的路径。")
        loaded.append(load_framework(path))
        absolute.append(str(path.resolve()))
    known = [p for p in os.environ.get(REGISTERED_ENV, "").split(os.pathsep) if p]
    os.environ[REGISTERED_ENV] = os.pathsep.join(dict.fromkeys(known + absolute))
    return loaded


def known_frameworks(name: str) -> list[Framework]:
    """Every framework called `name` among the bundled and the registered ones. A name written in
    a returned file is only ever compared with these: it is never opened as a path."""
    found = []
    path = bundled_frameworks().get(name)
    if path is not None:
        framework = load_framework(path)
        if framework.name == name:
            found.append(framework)
    for text in os.environ.get(REGISTERED_ENV, "").split(os.pathsep):
        if not text:
            continue
        try:
            framework = _load_cached(text)
        except FrameworkError:
            continue
        if framework.name == name:
            found.append(framework)
    return found


def find_framework(name: str, version: str) -> Framework | None:
    """The bundled or registered framework with this name and version, or None."""
    for framework in known_frameworks(name):
        if framework.version == version:
            return framework
    return None


# ---------------------------------------------------------------- validation


class _Doc:
    """The parsed YAML plus the line of every key, so an error can say where it is."""

    def __init__(self, text: str, source: str):
        self.source = source
        try:
            self.node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise FrameworkError(f"框架文件 {source} 不是有效的 YAML：{explain_yaml(exc)}。请改正后再试。") from None

    def line(self, keys: tuple) -> str:
        node = self.node
        for key in keys:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if k.value == key), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
                node = node.value[key]
            else:
                node = None
            if node is None:
                return ""
        return f"（第 {node.start_mark.line + 1} 行）"

    def fail(self, keys: tuple, what: str):
        path = ".".join(str(k) for k in keys) or "（文件）"
        raise FrameworkError(f"框架文件 {self.source} 的 {path}{self.line(keys)}：{what}")


def _get(doc: _Doc, mapping, keys: tuple, key: str, kind, required=True, default=None):
    if not isinstance(mapping, dict):
        doc.fail(keys, "应当是“键: 值”的映射")
    if key not in mapping or mapping[key] is None:
        if required:
            doc.fail(keys + (key,), "缺少这一项")
        return default
    value = mapping[key]
    if kind is Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            doc.fail(keys + (key,), f"应当是数字，实际是 {value!r}")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            doc.fail(keys + (key,), f"应当是数字，实际是 {value!r}")
        if not number.is_finite() or number < 0:
            doc.fail(keys + (key,), f"应当是不小于 0 的数字，实际是 {value!r}")
        return number
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 500:
            doc.fail(keys + (key,), f"应当是 1 到 500 的整数，实际是 {value!r}")
        return value
    if kind is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not str(value).strip():
            doc.fail(keys + (key,), f"应当是非空文字，实际是 {value!r}")
        return str(value).strip()
    if kind is list:
        if not isinstance(value, list) or not value:
            doc.fail(keys + (key,), "应当是非空列表")
        return value
    if kind is dict and not isinstance(value, dict):
        doc.fail(keys + (key,), "应当是“键: 值”的映射")
    return value


def parse_framework(text: str, source: str = "<text>") -> Framework:
    """Validate a framework's YAML text; the first fault raises FrameworkError naming its line."""
    doc = _Doc(text, source)
    data = doc.data
    root: tuple = ()
    if not isinstance(data, dict):
        doc.fail(root, "框架文件的顶层应当是“键: 值”的映射")
    name = _get(doc, data, root, "name", str)
    version = _get(doc, data, root, "version", str)
    kind = _get(doc, data, root, "kind", str)
    if kind not in KINDS:
        doc.fail(("kind",), f"应当是 {' 或 '.join(KINDS)}，实际是 {kind!r}")
    title = _get(doc, data, root, "title", str)
    basis = _get(doc, data, root, "basis", str, required=False, default="")

    categories = _parse_categories(doc, data, scored=(kind == "project"))
    criteria: tuple[Criterion, ...] = ()
    execution_name, execution_points = "预算执行率", Decimal(0)
    if kind == "project":
        execution = _get(doc, data, root, "execution", dict)
        execution_name = _get(doc, execution, ("execution",), "name", str)
        execution_points = _get(doc, execution, ("execution",), "points", Decimal)
        total = execution_points + sum(c.points for c in categories)
        if total != 100:
            doc.fail(("categories",), f"预算执行率与各一级指标分值合计应为 100，实际是 {total}")
    else:
        criteria = _parse_criteria(doc, data)

    rule = _get(doc, data, root, "reverse_rule", str, required=False, default="linear")
    if rule not in REVERSE_RULES:
        doc.fail(("reverse_rule",), f"应当是 linear（线性扣减法，全国规则）或 ratio（比例法），实际是 {rule!r}")
    cap = _get(doc, data, root, "score_cap", str, required=False, default="none")
    if cap not in SCORE_CAPS:
        doc.fail(("score_cap",), f"应当是 none（不封顶，全国规则）或 points_minus_cent（未完成最多得分值 − 0.01），实际是 {cap!r}")
    reason_rule = _get(doc, data, root, "reason_rule", str, required=False, default="below_points")
    if reason_rule not in REASON_RULES:
        doc.fail(("reason_rule",), f"应当是 below_points（得分低于分值须说明，全国规则）或 target_unmet（未完成目标须说明），实际是 {reason_rule!r}")
    above = _get(doc, data, root, "reason_above_percent", Decimal, required=False, default=None)
    over = _get(doc, data, root, "over_achievement_percent", Decimal, required=False, default=Decimal(120))
    if over == 0 or above == 0:  # 0 switches the rule off
        over, above = (None if over == 0 else over), (None if above == 0 else above)
    if over is not None and over <= 100:
        doc.fail(("over_achievement_percent",), f"应当是大于 100 的百分数（如 120），或 0 表示不标记，实际是 {over}")
    sources = _get(doc, data, root, "fund_sources", list, required=False, default=list(DEFAULT_FUND_SOURCES))
    for i, item in enumerate(sources):
        if not isinstance(item, (str, int, float)) or isinstance(item, bool) or not str(item).strip():
            doc.fail(("fund_sources", i), f"应当是非空文字（资金来源名称），实际是 {item!r}")
    sources = tuple(str(item).strip() for item in sources)
    if len(set(sources)) != len(sources):
        doc.fail(("fund_sources",), "资金来源名称重复")
    if len(sources) > 10:
        doc.fail(("fund_sources",), f"资金来源最多 10 项，实际是 {len(sources)} 项")
    not_applicable = data.get("not_applicable", False)
    if not isinstance(not_applicable, bool):
        doc.fail(("not_applicable",), f"应当是 true（允许标记“不适用”并折算到 100 分）或 false（默认），实际是 {not_applicable!r}")
    if not_applicable and kind != "project":
        doc.fail(("not_applicable",), "只适用于项目支出框架")
    low = _get(doc, data, root, "low_execution_percent", Decimal, required=False, default=Decimal(90))
    if low > 100:
        doc.fail(("low_execution_percent",), f"应当是 0 到 100 之间的百分数（如 90），实际是 {low}")
    bands = _parse_bands(doc, data)
    grades = _parse_grades(doc, data)
    units = tuple(str(u) for u in (data.get("units") or []))
    layout = data.get("layout") or {}
    rows = _get(doc, layout, ("layout",), "indicator_rows", int, required=False, default=20)
    framework = Framework(
        name=name,
        version=version,
        kind=kind,
        title=title,
        basis=basis,
        categories=categories,
        criteria=criteria,
        execution_name=execution_name,
        execution_points=execution_points,
        reverse_rule=rule,
        bands=bands,
        grades=grades,
        units=units,
        blank_projects=_get(doc, layout, ("layout",), "blank_projects", int, required=False, default=3),
        goals=_get(doc, layout, ("layout",), "goals", int, required=False, default=6),
        indicator_rows=rows,
        text_max_length=_get(doc, layout, ("layout",), "text_max_length", int, required=False, default=500),
        score_cap=cap,
        reason_rule=reason_rule,
        reason_above_percent=above,
        over_achievement_percent=over,
        fund_sources=sources,
        not_applicable=not_applicable,
        low_execution_percent=low,
        source=source,
        report_template=_get(doc, data, root, "report_template", str, required=False, default=""),
    )
    digest = hashlib.sha256(json.dumps(_plain(framework), ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return _replace_digest(framework, digest[:16])


def _plain(obj):
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if hasattr(obj, "__dataclass_fields__"):
        # the report's wording is not part of the rules: a framework's digest does not change with it
        return {k: _plain(getattr(obj, k)) for k in obj.__dataclass_fields__ if k not in ("digest", "source", "report_template")}
    return obj


def _replace_digest(framework: Framework, digest: str) -> Framework:
    from dataclasses import replace

    return replace(framework, digest=digest)


def _parse_categories(doc: _Doc, data, scored: bool) -> tuple[Category, ...]:
    items = _get(doc, data, (), "categories", list)
    result = []
    for i, item in enumerate(items):
        keys = ("categories", i)
        name = _get(doc, item, keys, "name", str)
        points = _get(doc, item, keys, "points", Decimal) if scored else None
        subs = _get(doc, item, keys, "subcategories", list)
        result.append(Category(name, points, tuple(str(s) for s in subs)))
    names = [c.name for c in result]
    if len(set(names)) != len(names):
        doc.fail(("categories",), "一级指标名称重复")
    return tuple(result)


def _parse_measure(doc: _Doc, ind, keys: tuple) -> Measure | None:
    """measure: {formula: ratio | change, inputs: [a, b], full_at_most: 100 | full_at_least: 90, per_point: 0.1}"""
    spec = _get(doc, ind, keys, "measure", dict, required=False)
    if spec is None:
        return None
    keys = keys + ("measure",)
    formula = _get(doc, spec, keys, "formula", str)
    if formula not in MEASURE_FORMULAS:
        doc.fail(keys + ("formula",), f"应当是 ratio（a ÷ b）或 change（(a − b) ÷ b），实际是 {formula!r}")
    inputs = _get(doc, spec, keys, "inputs", list)
    if len(inputs) != 2 or not all(isinstance(x, str) and x.strip() for x in inputs) or inputs[0].strip() == inputs[1].strip():
        doc.fail(keys + ("inputs",), f"应当是两个不同的非空名称（如 [在职人员数, 编制数]），实际是 {inputs!r}")
    most, least = ("full_at_most" in spec), ("full_at_least" in spec)
    if most == least:
        doc.fail(keys, "应当给出 full_at_most（不超过多少 % 得满分）或 full_at_least（不低于多少 % 得满分）中的一项")
    limit = _get(doc, spec, keys, "full_at_most" if most else "full_at_least", Decimal)
    per_point = _get(doc, spec, keys, "per_point", Decimal)
    return Measure(formula, (inputs[0].strip(), inputs[1].strip()), limit, most, per_point)


def _parse_criteria(doc: _Doc, data) -> tuple[Criterion, ...]:
    items = _get(doc, data, (), "criteria", list)
    result, total = [], Decimal(0)
    for i, item in enumerate(items):
        keys = ("criteria", i)
        name = _get(doc, item, keys, "name", str)
        points = _get(doc, item, keys, "points", Decimal)
        indicators = []
        for j, group in enumerate(_get(doc, item, keys, "groups", list)):
            gkeys = keys + ("groups", j)
            group_name = _get(doc, group, gkeys, "name", str)
            for k, ind in enumerate(_get(doc, group, gkeys, "indicators", list)):
                ikeys = gkeys + ("indicators", k)
                indicators.append(
                    CriterionIndicator(
                        name, group_name, _get(doc, ind, ikeys, "name", str), _get(doc, ind, ikeys, "points", Decimal),
                        _parse_measure(doc, ind, ikeys),
                    )
                )
        subtotal = sum(ind.points for ind in indicators)
        if subtotal != points:
            doc.fail(keys + ("points",), f"准则“{name}”的三级指标分值合计为 {subtotal}，应当等于准则分值 {points}")
        total += points
        result.append(Criterion(name, points, tuple(indicators)))
    if total != 100:
        doc.fail(("criteria",), f"各准则分值合计应为 100，实际是 {total}")
    return tuple(result)


def _parse_bands(doc: _Doc, data) -> tuple[Band, ...]:
    items = _get(doc, data, (), "qualitative_bands", list)
    bands = []
    for i, item in enumerate(items):
        keys = ("qualitative_bands", i)
        low = _get(doc, item, keys, "low", Decimal)
        high = _get(doc, item, keys, "high", Decimal)
        if not (0 <= low < high <= 1):
            doc.fail(keys, f"档次区间应满足 0 ≤ low < high ≤ 1，实际是 [{low}, {high}]")
        bands.append(Band(_get(doc, item, keys, "label", str), low, high, bool(item.get("high_inclusive", False))))
    return tuple(sorted(bands, key=lambda b: b.high, reverse=True))


def _parse_grades(doc: _Doc, data) -> tuple[GradeBand, ...]:
    items = _get(doc, data, (), "grades", list)
    grades = []
    for i, item in enumerate(items):
        keys = ("grades", i)
        aliases = item.get("aliases") or [] if isinstance(item, dict) else []
        grades.append(GradeBand(_get(doc, item, keys, "label", str), _get(doc, item, keys, "minimum", Decimal), tuple(str(a) for a in aliases)))
    grades.sort(key=lambda g: g.minimum, reverse=True)
    if grades[-1].minimum != 0:
        doc.fail(("grades",), "最低一档的 minimum 应为 0，否则低分没有等级")
    return tuple(grades)
