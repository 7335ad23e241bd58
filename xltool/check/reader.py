"""A returned workbook → Submission (what it says) + Integrity (what was changed) + findings.

The template's metadata sheet says which framework, version and archive the file is; the layout
plan rebuilt from that says where every input lives and what every locked cell must hold. Inputs
are found through the workbook's defined names, so a file whose rows moved is still read right,
and reported. Cached formula values are never used for any figure.
"""

from __future__ import annotations

import json
import os
import re
from collections import OrderedDict
from functools import lru_cache
from decimal import Decimal, InvalidOperation
from pathlib import Path

from xltool.check import xlsx
from xltool.core.approved import ApprovedIndicator
from xltool.core.cells import as_date, type_choices, type_date
from xltool.core.framework import Framework, find_framework, known_frameworks
from xltool.core.messages import explain, finding, plain_number
from xltool.core.model import (
    CriterionRow,
    Finding,
    GoalBlock,
    IndicatorRow,
    Integrity,
    LAYOUTS,
    ProjectBlock,
    ProjectInfo,
    Submission,
    UnitInfo,
    Value,
)
from xltool.template.shaped import plan_shape_key, shaped_plan
from xltool.template.layout import (
    SHEET_BUDGET,
    SHEET_INDICATORS,
    SHEET_META,
    VISIBLE_SHEETS,
    Plan,
    optional_name,
    project_block_row,
    list_name,
    a1,
    build_plan,
    column_name,
    indicator_block_row,
    indicator_columns,
    is_form_sheet,
    measured_indicators,
)


class Unreadable(Exception):
    """The file cannot be read as a returned template; carries the findings that say why."""

    def __init__(self, findings: list[Finding]):
        super().__init__(findings[0].code if findings else "FILE_UNREADABLE")
        self.findings = findings


def read_submission(path: str | Path, data: bytes | None = None) -> tuple[Submission, Plan, Framework, list[Finding]]:
    """Read one returned workbook. Raises Unreadable with findings when it cannot be read."""
    path = Path(path)
    if data is None:
        data = read_bytes(path)
    notes: list[Finding] = []
    kind = xlsx.sniff(data[:8])
    if kind == "FILE_OLE":
        raise Unreadable([finding(xlsx.ole_code(data), file=path.name, detail=xlsx.describe(data))])
    if kind:
        raise Unreadable([finding(kind, file=path.name, detail=xlsx.describe(data))])
    try:
        book, pkg = xlsx.open_book(data)
        if book.has_macros:
            notes.append(finding("FILE_MACROS", file=path.name))
        if book.has_external_links:
            notes.append(finding("FILE_EXTERNAL_LINKS", file=path.name))
        meta, trust_findings = _read_meta(book, pkg, path)
        notes.extend(trust_findings)
        framework, plan, version_findings = _plan_from_meta(meta, path)
        notes.extend(version_findings)
        for name in checked_sheets(plan) + ["_lists"]:
            if name in book.sheets:
                xlsx.load_sheet(book, pkg, name)
    except xlsx.XlsxError as exc:
        code = "NOT_OUR_TEMPLATE" if exc.code == "NOT_WORKBOOK" else exc.code
        raise Unreadable([finding(code, file=path.name, detail=exc.detail)]) from None
    sub = bind(book, plan, framework, meta, str(path))
    if version_findings:
        sub.integrity.notes.append("framework-version")
    else:
        compare_locked(book, plan, sub.integrity)
    if trust_findings:
        # A forged, unsigned or doubled _meta: its figures are not believed, so no sentence may
        # present them as what finance pre-filled.
        sub.integrity.notes.append("meta-untrusted")
        sub.integrity.changed_cells = [c for c in sub.integrity.changed_cells if c[2] not in ("prefill", "target")]
    roster_unit = roster_unit_for(sub)
    if roster_unit is not None and not any(f.code == "FRAMEWORK_VERSION_MISMATCH" for f in version_findings):
        # With the targets file the approved rows are compared with it instead of the signed
        # metadata; without it, the metadata's approved rows stand (the roster has none).
        with_targets = bool(os.environ.get(TARGETS_ENV))
        dropped = ("prefill", "target") if with_targets else ("prefill",)
        sub.integrity.changed_cells = [c for c in sub.integrity.changed_cells if c[2] not in dropped]
        if not with_targets:
            roster_unit = _with_approved(roster_unit, plan.unit)
        compare_with_roster(book, plan, framework, roster_unit, sub.integrity, [p.name.text for p in sub.projects])
    return sub, plan, framework, notes


def checked_sheets(plan: Plan) -> list[str]:
    """The sheets staff see, the print forms included: all are loaded, checked and protected."""
    return list(VISIBLE_SHEETS) + [s.name for s in plan.sheets if is_form_sheet(s.name)]


def read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise Unreadable([finding("FILE_UNREADABLE", file=path.name, detail=explain(exc))]) from None
    if size > xlsx.MAX_FILE_BYTES:
        raise Unreadable([finding("FILE_TOO_LARGE", file=path.name, detail=f"文件大小 {size // 1048576} MB，上限 {xlsx.MAX_FILE_BYTES // 1048576} MB")])
    try:
        with open(path, "rb") as handle:  # read-only: the checker never writes to an input
            return handle.read(xlsx.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise Unreadable([finding("FILE_UNREADABLE", file=path.name, detail=explain(exc))]) from None


# ---------------------------------------------------------------- metadata → plan


_MAX_META_SHEETS = 5  # forged copies looked at, at most


def _is_meta(name: str) -> bool:
    return name.strip().casefold() == SHEET_META


def _read_meta(book: xlsx.Book, pkg, path: Path) -> tuple[dict[str, str], list[Finding]]:
    """The template's metadata, and an error finding when it cannot be believed: a second meta
    sheet (same name listed twice, or "_META"), a key listed twice, no signature or a wrong one.
    Of several meta sheets the one whose signature holds is used, so a forged copy cannot rename
    the unit; the file still fails."""
    from dataclasses import replace

    from xltool.template.signing import SIGNATURE, current_key, verify

    if SHEET_META not in book.sheets:
        raise Unreadable([finding("NOT_OUR_TEMPLATE", file=path.name, detail=_what_is_it(book))])
    sheets = [book.sheets[SHEET_META]] + [s for n, s in book.sheets.items() if _is_meta(n) and n != SHEET_META]
    sheets += [s for s in book.duplicate_sheets if _is_meta(s.name)]
    candidates = []
    for sheet in sheets[:_MAX_META_SHEETS]:
        if sheet is not book.sheets.get(sheet.name):  # a duplicate entry: read through a copy of the book
            sheet = xlsx.load_sheet(replace(book, sheets={sheet.name: sheet}), pkg, sheet.name)
        else:
            sheet = xlsx.load_sheet(book, pkg, sheet.name)
        candidates.append(_meta_of(sheet))
    key = current_key()
    signed = [c for c in candidates if c[0].get(SIGNATURE, "").strip() and verify(c[0], key)]
    meta, duplicate_keys = signed[0] if signed else candidates[0]
    if meta.get("generator") != "xltool" or not meta.get("framework"):
        raise Unreadable([finding("NOT_OUR_TEMPLATE", file=path.name, detail=_what_is_it(book))])
    if len(sheets) > 1:
        return meta, [finding("META_DUPLICATE", sheet=SHEET_META, file=path.name, detail=f"{len(sheets)} 个元数据工作表")]
    if duplicate_keys:
        detail = "重复的项目：" + "、".join(_short_text(k, 20) for k in dict.fromkeys(duplicate_keys))
        return meta, [finding("META_DUPLICATE", sheet=SHEET_META, file=path.name, detail=detail)]
    if not meta.get(SIGNATURE, "").strip():
        return meta, [finding("SIGNATURE_MISSING", sheet=SHEET_META, file=path.name)]
    if not signed:
        return meta, [finding("SIGNATURE_INVALID", sheet=SHEET_META, file=path.name)]
    return meta, []


def _meta_of(sheet: xlsx.Sheet) -> tuple[dict[str, str], list[str]]:
    meta: dict[str, str] = {}
    duplicates: list[str] = []
    for (row, col), cell in sorted(sheet.cells.items()):
        if col == 0 and isinstance(cell.value, str):
            value = sheet.cells.get((row, 1))
            if cell.value in meta:
                duplicates.append(cell.value)
                continue  # the first one counts; the file fails with META_DUPLICATE anyway
            meta[cell.value] = "" if value is None or value.value is None else _meta_text(value.value)
    return meta, duplicates


# ---------------------------------------------------------------- the roster, the source of truth


# The roster of this run (`check --roster FILE`): its path travels to worker processes here.
ROSTER_ENV = "XLTOOL_ROSTER"


TARGETS_ENV = "XLTOOL_TARGETS"  # `check --targets`: the approved targets file, read with the roster


@lru_cache(maxsize=4)
def _roster_units(path: str, _stamp: float, targets: str = "", _targets_stamp: float = 0) -> tuple[UnitInfo, ...]:
    from xltool.template.roster import read_roster

    units = read_roster(path)
    if targets:
        from xltool.template.approved import apply_targets, read_targets

        units = apply_targets(units, read_targets(targets, units))
    return tuple(units)


def roster_units(path: str) -> tuple[UnitInfo, ...]:
    targets = os.environ.get(TARGETS_ENV, "")
    return _roster_units(path, os.stat(path).st_mtime, targets, os.stat(targets).st_mtime if targets else 0)


def roster_unit_for(sub: Submission) -> UnitInfo | None:
    """The unit of this run's roster (`check --roster`) the file belongs to, or None; with
    `--targets`, carrying the approved rows of the targets file."""
    if not os.environ.get(ROSTER_ENV):
        return None
    for unit in roster_units(os.environ[ROSTER_ENV]):
        if unit.year == sub.year and unit.kind == sub.kind and _same_unit(unit, sub.unit_code, sub.unit_name):
            return unit
    return None


def _same_unit(unit: UnitInfo, code: str, name: str) -> bool:
    if unit.code.strip() and code.strip():
        return unit.code.strip() == code.strip()
    return unit.name.strip() == name.strip()


def _with_approved(unit: UnitInfo, signed: UnitInfo) -> UnitInfo:
    """The roster's unit with the approved rows (and their 预期目标) the signed metadata records."""
    from dataclasses import replace

    by_name = {p.name: p for p in signed.projects if p.approved}
    projects = tuple(
        replace(p, approved=by_name[p.name].approved, goal_plan=by_name[p.name].goal_plan) if p.name in by_name else p for p in unit.projects
    )
    return replace(unit, projects=projects, goals=signed.goals or unit.goals)


def compare_with_roster(
    book: xlsx.Book, plan: Plan, framework: Framework, unit: UnitInfo, integrity: Integrity, seen_names: list[str] | None = None
) -> None:
    """Every figure finance pre-filled must equal the roster's, cell by cell; a pre-filled cell
    the roster leaves blank, or a roster figure that is missing, is a change too.

    A project workbook's blocks are matched with the roster's projects by name (seen_names: the
    names the workbook's blocks hold): each block is compared with the roster project of its
    name, wherever the roster lists it. A roster project the workbook lacks is one
    PROJECT_MISSING, a block whose project the roster does not list one PROJECT_NOT_IN_ROSTER,
    instead of a PREFILL_CHANGED on each of that block's cells; a block renamed in place (its
    name in neither list's other places) stays compared with the roster's project at its place."""
    truth = build_plan(framework, unit)
    moves: dict[int, int] = {}  # the roster's project j → the workbook's block holding it
    unlisted: set[int] = set()
    if framework.kind == "project":
        issued = [p.name for p in plan.unit.projects]
        seen = list(seen_names or [])[: plan.blocks] + [""] * max(plan.blocks - len(seen_names or []), 0)
        names = [(seen[b] or (issued[b] if b < len(issued) else "")).strip() for b in range(plan.blocks)]
        moves, missing, unlisted = match_projects(names, [p.name for p in unit.projects])
        for j in missing:
            integrity.roster_projects.append(
                ("PROJECT_MISSING", SHEET_BUDGET, a1(project_block_row(framework, j), 2), unit.name, unit.projects[j - 1].name, j)
            )
        for b in sorted(unlisted):
            integrity.roster_projects.append(
                ("PROJECT_NOT_IN_ROSTER", SHEET_BUDGET, a1(project_block_row(framework, b), 2), unit.name, names[b - 1], b)
            )
    expected: dict[tuple, object] = {}  # the workbook's place → the roster's cell compared there
    for c in truth.cells:
        if c.role != "prefill":
            continue
        block, offset = _project_block(framework, c.sheet, c.row)
        if block is None:
            expected[(c.sheet, c.row, c.col)] = c
        elif block in moves:  # else a roster project the workbook lacks: PROJECT_MISSING says so
            expected[(c.sheet, c.row + offset * (moves[block] - block), c.col)] = c
    places = list(expected) + [
        (c.sheet, c.row, c.col) for c in plan.cells
        if c.role == "prefill" and (c.sheet, c.row, c.col) not in expected and _project_block(framework, c.sheet, c.row)[0] not in unlisted
    ]
    shifted = {plan.names[n].sheet for n, _e, _f in integrity.moved_names if n in plan.names}  # reported as STRUCTURE_CHANGED
    for sheet, row, col in places:
        if sheet not in book.sheets or sheet in shifted:
            continue
        cell = expected.get((sheet, row, col))
        value = None if cell is None else cell.value
        found = book.sheets[sheet].cells.get((row, col))
        seen = None if found is None else (found.formula if found.formula is not None else found.value)
        if (found is not None and found.formula is not None) or not _same_value(value, seen):
            shown = "（空白）" if _blank(value) else plain_number(value) if isinstance(value, (Decimal, int, float)) else value
            place = cell or next(c for c in plan.cells if (c.sheet, c.row, c.col) == (sheet, row, col))
            role = _role(truth if cell is not None else plan, place, integrity, at_row=row)
            integrity.changed_cells.append((sheet, a1(row, col), role, f"{shown}（{'批复表' if role == 'target' else '名册'}）", seen))


def match_projects(names: list[str], listed: list[str]) -> tuple[dict[int, int], list[int], set[int]]:
    """The workbook's project blocks (`names`, "" for a block left blank) against the roster's
    projects (`listed`), 1-based: ({roster position → block}, roster positions the workbook lacks,
    blocks whose project the roster does not list). A name matches the first roster project of
    that name not yet matched; a named block left over then takes the roster's project at its own
    position when that one is left over too (a project renamed in place, reported cell by cell)."""
    moves: dict[int, int] = {}
    held: set[int] = set()
    for b, name in enumerate(names, start=1):
        j = next((j for j, r in enumerate(listed, start=1) if name and j not in moves and r.strip() == name), None)
        if j is not None:
            moves[j] = b
            held.add(b)
    for b, name in enumerate(names, start=1):
        if name and b not in held and b <= len(listed) and b not in moves:
            moves[b] = b
            held.add(b)
    missing = [j for j in range(1, len(listed) + 1) if j not in moves]
    return moves, missing, {b for b, name in enumerate(names, start=1) if name and b not in held}


def _project_block(framework: Framework, sheet: str, row: int) -> tuple[int | None, int]:
    """(the project block a row of a project workbook's 预算执行 or 绩效指标 sheet belongs to, the
    rows between one block and the next), or (None, 0) for a row of no project."""
    if framework.kind != "project":
        return None, 0
    if sheet == SHEET_BUDGET:
        first, size = project_block_row(framework, 1), project_block_row(framework, 2) - project_block_row(framework, 1)
    elif sheet == SHEET_INDICATORS:
        first, size = indicator_block_row(framework, 1), indicator_block_row(framework, 2) - indicator_block_row(framework, 1)
    else:
        return None, 0
    return ((row - first) // size + 1, size) if row >= first else (None, 0)


def _short_text(text: str, limit: int = 60) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _meta_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _what_is_it(book: xlsx.Book) -> str:
    names = [n for n, s in book.sheets.items() if s.state == "visible"][:5]
    return "工作表：" + "、".join(names) if names else "没有可见工作表"


def _dec(text) -> Decimal | None:
    if text in (None, ""):
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _project_info(item: list) -> ProjectInfo:
    """One project of the metadata's prefills: [name, budget, executed] and, when the roster gave
    them, {"initial", "goal_plan", "sources"} (layout._project_prefills writes it)."""
    extra = item[3] if len(item) > 3 and isinstance(item[3], dict) else {}
    sources = []
    for entry in extra.get("sources") or []:
        if isinstance(entry, list) and len(entry) == 4:
            sources.append((str(entry[0]), _dec(entry[1]), _dec(entry[2]), _dec(entry[3])))
    plan = extra.get("goal_plan")
    return ProjectInfo(
        str(item[0]), _dec(item[1]), _dec(item[2]), initial=_dec(extra.get("initial")),
        goal_plan=str(plan) if plan else None, sources=tuple(sources), approved=_approved(extra.get("approved")),
    )


def _approved(items) -> tuple:
    """Approved indicators as layout._approved_prefill signs them; anything malformed is dropped
    (the signature already failed if the hidden sheet was edited)."""
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, list) or len(item) not in (9, 10):
            continue
        level1, level2, name, sign, target, unit, points, adjusted, row = item[:9]
        wording = item[9] if len(item) == 10 and isinstance(item[9], str) else ""  # a 定性 row's approved wording
        out.append(ApprovedIndicator(
            row if isinstance(row, int) else 0, str(level1 or ""), str(level2 or ""), str(name or ""), str(sign or ""),
            _dec(target), str(unit or ""), _dec(points), _dec(adjusted), wording,
        ))
    return tuple(out)


def unit_from_meta(meta: dict[str, str]) -> UnitInfo:
    try:
        prefills = json.loads(meta.get("prefills") or "{}")
    except ValueError:
        prefills = {}
    if not isinstance(prefills, dict):  # the hidden sheet was edited: "1", "[…]"
        prefills = {}
    listed = prefills.get("projects")
    projects = tuple(
        _project_info(p) for p in (listed if isinstance(listed, list) else []) if isinstance(p, list) and len(p) >= 3
    )
    try:
        year = int(meta.get("year", "0"))
    except ValueError:
        year = 0
    try:  # a template made before layouts were numbered has no such key: layout 1
        layout = int(meta.get("layout") or 1)
    except ValueError:
        layout = -1
    return UnitInfo(
        layout=layout,
        name=meta.get("unit_name", ""),
        code=meta.get("unit_code", ""),
        year=year,
        kind=meta.get("kind", ""),
        framework=meta.get("framework", ""),
        initial_budget=_dec(prefills.get("initial_budget")),
        adjusted_budget=_dec(prefills.get("adjusted_budget")),
        final_accounts=_dec(prefills.get("final_accounts")),
        projects=projects,
        department=prefills.get("department") if isinstance(prefills.get("department"), str) else "",
        goals=tuple(
            (str(g[0]), _approved(g[1])) for g in (prefills.get("goals") if isinstance(prefills.get("goals"), list) else [])
            if isinstance(g, list) and len(g) == 2
        ),
    )


def _plan_from_meta(meta: dict[str, str], path: Path) -> tuple[Framework, Plan, list[Finding]]:
    name, version = meta.get("framework", ""), meta.get("framework_version", "")
    findings: list[Finding] = []
    framework = find_framework(name, version)
    if framework is None:
        # By name among the bundled and registered frameworks only: the text comes from the file
        # and is never opened as a path (a name like /dev/zero or a FIFO would hang the run).
        same_name = known_frameworks(name)
        if not same_name:
            raise Unreadable([finding("FRAMEWORK_UNKNOWN", file=path.name, framework=_short_text(name), version=_short_text(version))])
        framework = same_name[0]
        findings.append(finding("FRAMEWORK_VERSION_MISMATCH", file=path.name, framework=name, version=version, expected=framework.version))
    unit = unit_from_meta(meta)
    if unit.layout not in LAYOUTS:
        shown = _short_text(meta.get("layout", ""))
        if unit.layout > max(LAYOUTS):
            raise Unreadable([finding("TEMPLATE_LAYOUT_NEWER", file=path.name, layout=shown, known="、".join(str(n) for n in LAYOUTS))])
        raise Unreadable([finding("NOT_OUR_TEMPLATE", file=path.name, detail=f"模板元数据中的模板格式“{shown}”无法识别")])
    if unit.kind != framework.kind:
        from xltool.template.roster import KIND_NAMES

        kind = KIND_NAMES.get(unit.kind, unit.kind)
        raise Unreadable([finding("NOT_OUR_TEMPLATE", file=path.name, detail=f"记录的评价类型“{kind}”与评价框架“{framework.name}”不符")])
    plan = shaped_plan(framework, unit)  # one layout per shape of a batch, each unit's values set in
    if not findings and plan.meta.get("fingerprint") != meta.get("fingerprint"):
        findings.append(finding("FINGERPRINT_MISMATCH", file=path.name))
    return framework, plan, findings


# ---------------------------------------------------------------- binding names → Submission


class Binder:
    """The plan's inputs read through the workbook's defined names (the self-evaluation's, and
    check.declaration's for a 申报表). A name deleted, moved or stretched is recorded in
    `integrity` (missing_names, moved_names, resized_names), and `resolved` keeps every name in the
    order it was first looked up. Its cells are read where the name now points, within the range
    the template gave it; with `at_template`, where the template put them, whatever the name says."""

    def __init__(self, book: xlsx.Book, plan: Plan, integrity: Integrity, *, at_template: bool = False):
        self.book = book
        self.plan = plan
        self.integrity = integrity
        self.at_template = at_template
        self.resolved: dict[str, tuple[str, tuple[int, int], tuple[int, int]] | None] = {}

    def where(self, name: str):
        if name in self.resolved:
            return self.resolved[name]
        spec = self.plan.names.get(name)
        text = self.book.names.get(name)
        found = xlsx.parse_name_ref(text) if text else None
        if spec is not None:
            if found is None and optional_name(name):
                pass  # a return made before the report texts existed: they are blank, not missing
            elif found is None:
                self.integrity.missing_names.append(name)
                self.integrity.name_places[name] = (spec.sheet, a1(spec.row, spec.col))
            else:
                expected = (spec.sheet, (spec.row, spec.col), (spec.last_row, spec.col))
                if found[:2] == expected[:2] and found != expected:
                    self.integrity.resized_names.append((name, spec.ref, text))
                elif found != expected:
                    self.integrity.moved_names.append((name, spec.ref, text))
                # Never read more cells than the layout gives the name: a name stretched to the
                # last row (1,048,576) would otherwise be read cell by cell.
                sheet, (row, col), (last, _c) = found
                found = (sheet, (row, col), (min(max(last, row), row + spec.last_row - spec.row), col))
            if self.at_template:
                found = (spec.sheet, (spec.row, spec.col), (spec.last_row, spec.col))
        elif found is not None:
            sheet, (row, col), _end = found
            found = (sheet, (row, col), (row, col))
        if found is not None and found[0] not in self.book.sheets:
            found = None
        self.resolved[name] = found
        return found

    def value_at(self, sheet: str, row: int, col: int) -> Value:
        s = self.book.sheets.get(sheet)
        return _value(s.cells if s is not None else {}, sheet, row, col, self.book.date_styles, self.book.percent_styles)

    def one(self, name: str) -> Value:
        found = self.where(name)
        if found is None:
            spec = self.plan.names.get(name)
            return Value(None, spec.sheet if spec else "", a1(spec.row, spec.col) if spec else "")
        sheet, (row, col), _end = found
        return self.value_at(sheet, row, col)

    def column(self, name: str, count: int) -> list[Value]:
        found = self.where(name)
        if found is None:
            return [Value() for _ in range(count)]
        sheet, (row, col), (last, _c) = found
        s = self.book.sheets.get(sheet)
        cells = s.cells if s is not None else {}
        dates, percents = self.book.date_styles, self.book.percent_styles
        values = [_value(cells, sheet, r, col, dates, percents) for r in range(row, min(last, row + count - 1) + 1)]
        return (values + [Value() for _ in range(count)])[:count] if len(values) < count else values


def _value(cells: dict, sheet: str, row: int, col: int, dates: frozenset = frozenset(), percents: frozenset = frozenset()) -> Value:
    """The input cell at (row, col) of a sheet's cells, typed (core.cells, through Value). A number
    shown as a date (its format among `dates`: a date pasted in brings its format) is the date's
    text, as staff see it, and no number: reason "date_in_number", its date on the Value. A number
    shown as a percent (its format among `percents`: "25%" typed is kept as 0.25) is that number,
    marked percent_format."""
    cell = cells.get((row, col))
    if cell is None:
        blank = _BLANKS.get((sheet, row, col))
        if blank is None:
            if len(_BLANKS) >= 50_000:  # a few templates' cells: memory stays flat
                _BLANKS.clear()
            blank = _BLANKS[sheet, row, col] = Value.empty_at(sheet, _a1(row, col))
        return blank
    raw = cell.value
    if isinstance(raw, str) and cell.formula is None and not raw.strip():
        raw = None
    if cell.style in dates and cell.formula is None and isinstance(raw, float):
        date, _reason = as_date(raw)
        if date is not None:
            return Value(date.isoformat(), sheet, _a1(row, col)).typed(date=date, reason="date_in_number")
    value = Value(raw, sheet, _a1(row, col), cell.formula, cell.is_error)
    if cell.style in percents and cell.formula is None and isinstance(raw, (int, float)) and not isinstance(raw, bool):
        value.__dict__["percent_format"] = True  # set once, here, as Value's own __init__ sets its fields
    return value


# A blank input cell's Value, by place: immutable and typed alike in every file, so one is
# shared by all the files read (most of a template's input cells are blank).
_BLANKS: dict[tuple[str, int, int], Value] = {}


@lru_cache(maxsize=65536)
def _a1(row: int, col: int) -> str:
    return a1(row, col)


def bind(book: xlsx.Book, plan: Plan, framework: Framework, meta: dict[str, str], path: str) -> Submission:
    integrity = Integrity()
    for name in checked_sheets(plan):
        sheet = book.sheets.get(name)
        if sheet is None:
            integrity.missing_sheets.append(name)
        else:
            integrity.protected[name] = sheet.protected
    b = Binder(book, plan, integrity)
    unit = plan.unit
    sub = Submission(
        path=path,
        kind=framework.kind,
        framework_name=framework.name,
        framework_version=meta.get("framework_version", ""),
        template_id=meta.get("template_id", ""),
        unit_name=unit.name,
        unit_code=unit.code,
        year=unit.year or None,
        integrity=integrity,
    )
    for key in ("UNIT", "CODE", "YEAR", "KIND", "CONTACT", "PHONE", "DATE", "DEPARTMENT"):
        sub.info[key.lower()] = b.one(f"INFO_{key}")
    sub.info["date"] = type_date(sub.info["date"])
    fields = [key for key, *_ in indicator_columns(framework.kind)]
    rows = framework.indicator_rows

    def indicator_rows(prefix: str, block: int) -> list[IndicatorRow]:
        columns = {key: b.column(column_name(prefix, block, key), rows) for key in fields}
        count = max(len(v) for v in columns.values())
        out = []
        for i in range(count):
            row = IndicatorRow(block=block, index=i + 1)
            for key, values in columns.items():
                if i < len(values):
                    setattr(row, key, values[i])
            type_choices(row, framework)
            out.append(row)
        return out

    if framework.kind == "project":
        for p in range(1, plan.blocks + 1):
            pre = f"PROJ{p}_"
            block = ProjectBlock(
                index=p,
                name=b.one(pre + "NAME"),
                budget=b.one(pre + "BUDGET"),
                executed=b.one(pre + "EXECUTED"),
                rate=b.one(pre + "RATE"),
                exec_score=b.one(pre + "EXEC_SCORE"),
                note=b.one(pre + "NOTE"),
                declared_score=b.one(pre + "DECLARED_SCORE"),
                declared_grade=b.one(pre + "DECLARED_GRADE"),
                rows=indicator_rows("PROJ", p),
                implementation=b.one(pre + "IMPLEMENTATION"),
                initial=b.one(pre + "INITIAL"),
                sources=[
                    (source, *(b.one(f"{pre}SRC{k}_{key}") for key in ("INITIAL", "BUDGET", "EXECUTED", "RATE")))
                    for k, source in enumerate(framework.fund_sources, start=1)
                ],
                goal_plan=b.one(pre + "GOAL_PLAN"),
                goal_done=b.one(pre + "GOAL_DONE"),
            )
            sub.projects.append(block)
    else:
        sub.budget = {
            "initial": b.one("BUDGET_INITIAL"),
            "adjusted": b.one("BUDGET_ADJUSTED"),
            "final": b.one("BUDGET_FINAL"),
            "rate": b.one("RATE_EXECUTION"),
            "initial_rate": b.one("RATE_INITIAL"),
            "note": b.one("BUDGET_NOTE"),
        }
        for g in range(1, plan.blocks + 1):
            sub.goals.append(GoalBlock(index=g, name=b.one(f"GOAL{g}_NAME"), rows=indicator_rows("GOAL", g)))
        indicators = framework.criterion_indicators
        count = len(indicators)
        points = b.column("CRIT_POINTS", count)
        deductions = b.column("CRIT_DEDUCTION", count)
        reasons = b.column("CRIT_REASON", count)
        for i, ind in enumerate(indicators):
            sub.criteria.append(CriterionRow(ind.criterion, ind.group, ind.name, points[i], deductions[i], reasons[i]))
        for j, (i, _ind) in enumerate(measured_indicators(framework), start=1):
            sub.measures[i] = (b.one(f"MEASURE{j}_A"), b.one(f"MEASURE{j}_B"))
        for k, crit in enumerate(framework.criteria, start=1):
            sub.declared[crit.name] = b.one(f"DECLARED_C{k}")
        sub.declared["total"] = b.one("DECLARED_TOTAL")
        sub.declared["grade"] = b.one("DECLARED_GRADE")
    sub.problems = b.one("PROBLEMS")
    sub.improvements = b.one("IMPROVEMENTS")
    if framework.kind == "project":
        for key in ("BACKGROUND", "ANALYSIS", "CONCLUSION"):
            sub.texts[key.lower()] = b.one(key)
    for name in plan.names:  # every name the template defined must still be there (but a dropdown's)
        if not list_name(name):
            b.where(name)
    sub.overlong = _overlong(b, plan)
    return sub


def _overlong(b: Binder, plan: Plan) -> list[tuple[Value, str, int]]:
    """Every text input longer than its validation allows, read where its name points: a paste
    is not stopped by the validation, and a text of 40,000 characters must not pass unseen. A list
    cell (计量单位, 定性评价档次) holds no more than the framework's text_max_length either."""
    limits = {}
    for c in plan.cells:
        check = c.validation
        if c.role != "input" or check is None:
            continue
        if check.kind == "length" and check.maximum:
            limits[c.sheet, c.row, c.col] = (c.field, int(check.maximum))
        elif check.kind == "list":
            limits[c.sheet, c.row, c.col] = (c.field, plan.framework.text_max_length)
    out = []
    for name, spec in plan.names.items():
        limit = limits.get((spec.sheet, spec.row, spec.col))
        found = b.where(name) if limit is not None else None
        if found is None:
            continue
        sheet, (row, col), (last, _c) = found
        cells = b.book.sheets[sheet].cells
        for r in range(row, min(last, row + spec.last_row - spec.row) + 1):
            cell = cells.get((r, col))
            if cell is None or (isinstance(cell.value, str) and len(cell.value) <= limit[1]):
                continue  # blank, or a text within the limit (its typed text is no longer): no Value made again
            v = b.value_at(sheet, r, col)
            if v.raw is not None and len(v.text) > limit[1]:
                out.append((v, limit[0], limit[1]))
    return out


# ---------------------------------------------------------------- locked content


_SPACES = re.compile(r"\s+")
# A number constant in a formula (not part of a cell reference, name or sheet name).
_NUMBER = re.compile(r"(?<![A-Z0-9_.$\\])(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:E[+-]?[0-9]+)?(?![A-Z0-9_(])")


def _number_text(match: re.Match) -> str:
    """Gnumeric writes 0.8 as 0.800000000000000000011: constants are compared as numbers."""
    try:
        return format(float(match.group(0)), ".15g")
    except (ValueError, OverflowError):
        return match.group(0)


@lru_cache(maxsize=16384)
def normalize_formula(text: str | None) -> str:
    """Formula text as Excel, WPS and LibreOffice may each re-save it, reduced to one form."""
    if text is None:
        return ""
    out = text.strip().lstrip("=")
    out = out.replace("_xlfn.", "").replace("_xlws.", "")
    out = re.sub(r"'((?:[^']|'')+)'!", lambda m: m.group(1).replace("''", "'") + "!", out)
    # Spaces outside string literals carry no meaning.
    parts = out.split('"')
    for i in range(0, len(parts), 2):
        parts[i] = _NUMBER.sub(_number_text, _SPACES.sub("", parts[i]).upper())
    return '"'.join(parts)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _same_value(expected, found) -> bool:
    if _blank(expected) or _blank(found):  # a blank cell and "" are the same (every program's re-save)
        return _blank(expected) and _blank(found)
    if isinstance(expected, Decimal):
        expected = float(expected)
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        if isinstance(found, (int, float)) and not isinstance(found, bool):
            return abs(float(found) - float(expected)) < 1e-9
        return False
    if isinstance(expected, str):
        return isinstance(found, str) and found.strip() == expected.strip()
    return expected == found


def _extra_content(book: xlsx.Book, plan: Plan, shifted: set[str], integrity: Integrity) -> None:
    """Values typed outside the template's cells (possible only with protection removed): the
    checker does not read them, so staff are told their content was not taken into account."""
    known = _plan_positions(plan)
    for name in checked_sheets(plan):
        sheet = book.sheets.get(name)
        if sheet is None or name in shifted:
            continue
        for (row, col), cell in sheet.cells.items():
            if (name, row, col) in known:
                continue
            if cell.formula is not None or not (cell.value is None or (isinstance(cell.value, str) and not cell.value.strip())):
                integrity.extra_content.append((name, a1(row, col)))


def _plan_positions(plan: Plan) -> frozenset:
    cached = getattr(plan, "_positions", None)
    if cached is None:
        cached = _shape_positions(plan)
        plan._positions = cached  # plans are cached and never change: remember the set
    return cached


# Positions of every cell a plan covers, by plan_shape_key: one set for all the files of a shape
# (a template's ~5,000 cells; template/shaped.py). Bounded: memory stays flat however many shapes a batch has.
_SHAPES: OrderedDict = OrderedDict()
SHAPE_CACHE_SIZE = 16  # ~0.6 MB a set


def _shape_positions(plan: Plan) -> frozenset:
    key = plan_shape_key(plan.framework, plan.unit)
    entry = _SHAPES.get(key)
    if entry is not None and entry[0] == len(plan.cells) and entry[1] == plan.names:
        _SHAPES.move_to_end(key)
        return entry[2]
    # A miss, or a plan not shaped as its key says (never expected): build the set. A mismatch
    # costs only this time; the entry is replaced by the set of the plan at hand.
    cells = {(c.sheet, c.row, c.col) for c in plan.cells}
    for c in plan.cells:
        if c.span > 1 or c.rows > 1:  # merged: every cell it covers
            cells.update((c.sheet, c.row + r, c.col + k) for k in range(c.span) for r in range(c.rows))
    positions = frozenset(cells)
    _SHAPES[key] = (len(plan.cells), dict(plan.names), positions)
    _SHAPES.move_to_end(key)
    while len(_SHAPES) > SHAPE_CACHE_SIZE:
        _SHAPES.popitem(last=False)
    return positions


def compare_locked(book: xlsx.Book, plan: Plan, integrity: Integrity) -> None:
    """Every label, pre-filled figure and formula the template locked must still be there.

    A sheet whose named inputs moved (rows inserted or deleted) is reported as a structure change
    instead of cell by cell, which would only repeat the same fault hundreds of times."""
    shifted = {plan.names[n].sheet for n, _e, _f in integrity.moved_names if n in plan.names}
    _extra_content(book, plan, shifted, integrity)
    sheets = {name: sheet.cells for name, sheet in book.sheets.items() if name not in shifted}
    for cell in plan.cells:  # plan.locked_cells(), without the list
        if cell.role == "input" or cell.value is None or cell.sheet == SHEET_META:
            continue
        cells = sheets.get(cell.sheet)
        if cells is None:
            continue
        found = cells.get((cell.row, cell.col))
        if found is not None and found.formula is None and type(found.value) is str and found.value == cell.value and cell.role != "formula":
            continue  # a label as written: the most common case, without the comparison's call
        if cell.role == "formula":
            if found is None or found.formula is None:
                integrity.changed_cells.append((cell.sheet, cell.ref, "formula", cell.value, None if found is None else found.value))
            elif normalize_formula(found.formula) != normalize_formula(cell.value):
                integrity.changed_cells.append((cell.sheet, cell.ref, "formula", cell.value, found.formula))
            continue
        value = None if found is None else found.value
        if found is not None and found.formula is not None:
            integrity.changed_cells.append((cell.sheet, cell.ref, _role(plan, cell, integrity), cell.value, found.formula))
        elif not _same_value(cell.value, value):
            integrity.changed_cells.append((cell.sheet, cell.ref, _role(plan, cell, integrity), cell.value, value))
    for cell in plan.cells:  # a pre-filled item finance left blank (a unit without a code) stays blank
        if cell.role != "prefill" or cell.value is not None or cell.sheet in shifted or cell.sheet not in book.sheets:
            continue
        found = book.sheets[cell.sheet].cells.get((cell.row, cell.col))
        if found is not None and (found.formula is not None or not _blank(found.value)):
            integrity.changed_cells.append((cell.sheet, cell.ref, _role(plan, cell, integrity), None, found.formula if found.formula is not None else found.value))


def _role(plan: Plan, cell, integrity: Integrity, at_row: int | None = None) -> str:
    """"target" for an approved target's cell on the indicator sheet (recording what it is), else
    the cell's role. at_row: the row of the workbook it is compared at, when not its own (a
    roster project the workbook holds in another block)."""
    if cell.role != "prefill" or cell.sheet != SHEET_INDICATORS:
        return cell.role
    row = cell.row if at_row is None else at_row
    name_col = [key for key, *_rest in indicator_columns(plan.framework.kind)].index("name")
    name = next((c.value for c in plan.cells if c.sheet == cell.sheet and c.row == cell.row and c.col == name_col), None)
    what = f"第 {row + 1} 行“{name}”的{cell.field}" if name and cell.col != name_col else f"第 {row + 1} 行的{cell.field}"
    integrity.target_labels[(cell.sheet, a1(row, cell.col))] = what
    return "target"
