"""A returned 绩效目标申报表 → Declaration + findings, and the Result the check pipeline reports.

The `_meta` sheet says stage 申报 (template.declaration); the plan is rebuilt from it, inputs are
found through the defined names, and every locked label, pre-filled figure and formula is
compared with the plan (the self-evaluation's codes: LOCKED_CHANGED, PREFILL_CHANGED,
FORMULA_CHANGED, PROTECTION_REMOVED, SHEET_MISSING, NAME_MISSING, STRUCTURE_CHANGED, and the
signature's). Cached formula values are never used for any figure. With the roster (`check
--roster`, or `targets --roster`), the pre-filled cells are compared with the roster instead, as the
self-evaluation's are (check.reader.compare_with_roster), and a project the roster lists whose form
sheet the file lacks is DECL_PROJECT_MISSING.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from xltool.check import xlsx
from xltool.check.reader import Binder
from xltool.core.declaration import ROW_FIELDS, STAGE, Declaration, DeclForm, DeclGoal, DeclRow, check_declaration
from xltool.core.framework import Framework, find_framework, known_frameworks
from xltool.core.messages import finding, show
from xltool.core.model import Finding, Integrity, Result, UnitInfo, Value
from xltool.template.declaration import DECL_LAYOUTS, DEPARTMENT_HEADER_ROWS, HEADER_ROWS, MAX_FORMS, META_FORMS, build_declaration_plan, column_name, form_prefills, goal_name, header_name
from xltool.template.layout import SHEET_META, Plan, a1

KIND = "declaration"  # Result.kind of a 申报表
_MAX_TEXT = 60


class NotDeclaration(Exception):
    """The workbook is not a 申报表 this program made (the caller's own finding stands)."""


def _short(text: str) -> str:
    text = str(text)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def read_meta(book: xlsx.Book, pkg) -> dict[str, str]:
    sheet = xlsx.load_sheet(book, pkg, SHEET_META)
    meta: dict[str, str] = {}
    for (_row, col), cell in sorted(sheet.cells.items()):
        if col == 0 and isinstance(cell.value, str) and cell.value not in meta:
            value = sheet.cells.get((_row, 1))
            raw = None if value is None else value.value
            meta[cell.value] = "" if raw is None else (str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw))
    return meta


def read_declaration(path: str | Path, data: bytes, roster: Sequence[UnitInfo] | None = None) -> tuple[Declaration, Framework, Plan, list[Finding]]:
    """Read a returned 申报表. Raises NotDeclaration when the bytes are not one; raises
    xlsx.XlsxError when the package breaks while reading (the caller reports it). With the
    roster's units, what finance pre-filled is compared with the roster, not the signed metadata."""
    from xltool.template.signing import SIGNATURE, current_key, verify

    path = Path(path)
    try:
        book, pkg = xlsx.open_book(data)
        if SHEET_META not in book.sheets:
            raise NotDeclaration()
        meta = read_meta(book, pkg)
    except xlsx.XlsxError:
        raise NotDeclaration() from None  # whatever it is, the self-evaluation reader has said so
    if meta.get("generator") != "xltool" or meta.get("stage") != STAGE:
        raise NotDeclaration()
    notes: list[Finding] = []
    layout = meta.get("layout", "").strip() or "1"  # made before the layout was recorded: 1
    try:
        number = int(layout)
    except ValueError:
        raise NotDeclaration() from None
    if number not in DECL_LAYOUTS:
        if number > max(DECL_LAYOUTS):  # made by a later release: said so, never read as this layout
            raise _Unknown([finding("TEMPLATE_LAYOUT_NEWER", file=path.name, layout=_short(layout), known="、".join(str(n) for n in DECL_LAYOUTS))], meta)
        raise NotDeclaration()
    if not meta.get(SIGNATURE, "").strip():
        notes.append(finding("SIGNATURE_MISSING", sheet=SHEET_META, file=path.name))
    elif not verify(meta, current_key()):
        notes.append(finding("SIGNATURE_INVALID", sheet=SHEET_META, file=path.name))
    name, version = meta.get("declaration_framework", ""), meta.get("framework_version", "")
    fw = find_framework(name, version)
    if fw is None:
        same = known_frameworks(name)
        if not same:
            return _unknown(path, meta, name, version)
        fw = same[0]
        notes.append(finding("FRAMEWORK_VERSION_MISMATCH", file=path.name, framework=_short(name), version=_short(version), expected=fw.version))
    try:
        year = int(meta.get("year", ""))
        forms = json.loads(meta.get(META_FORMS, "[]"))
        if not isinstance(forms, list) or not forms or not all(_form_entry(f) for f in forms):
            raise ValueError
    except ValueError:
        raise NotDeclaration() from None
    if len(forms) > MAX_FORMS:  # no template made here has as many: a 申报表 it cannot read, said so
        raise _Unknown(notes + [finding("DECL_TOO_MANY_PROJECTS", file=path.name, count=len(forms), max=MAX_FORMS)], meta)
    kind = meta.get("kind", "")
    if kind != fw.kind:
        raise NotDeclaration()
    unit = UnitInfo(meta.get("unit_name", ""), meta.get("unit_code", ""), year, kind, framework=fw.name, department=meta.get("department", ""))
    plan = build_declaration_plan(fw, unit, forms)
    if plan.meta.get("fingerprint") != meta.get("fingerprint") and not notes:
        notes.append(finding("FINGERPRINT_MISMATCH", file=path.name))
    for sheet in plan.sheets:
        if sheet.name in book.sheets and sheet.name != SHEET_META:
            xlsx.load_sheet(book, pkg, sheet.name)
    decl = Declaration(str(path), kind, unit.name, unit.code, year, fw.name, version)
    integrity = _integrity(book, plan)
    roster_unit = _roster_unit(roster, unit) if not any(n.code == "FRAMEWORK_VERSION_MISMATCH" for n in notes) else None
    if roster_unit is not None:  # the roster is the source of truth: its figures replace the metadata's
        integrity = [f for f in integrity if f.code != "PREFILL_CHANGED"]
    truth = build_declaration_plan(fw, roster_unit) if roster_unit is not None else None
    if truth is not None:
        integrity = _with_missing_projects(integrity, book, fw, plan, truth, roster_unit)
    notes += integrity
    names = Binder(book, plan, Integrity(), at_template=True)  # a name moved or deleted: read where the template put it
    header_rows = HEADER_ROWS if kind == "project" else DEPARTMENT_HEADER_ROWS
    goals = 1 if kind == "project" else fw.goals
    for p, (sheet, prefill) in enumerate(zip(_form_sheets(plan), forms), start=1):
        if sheet not in book.sheets:
            continue  # deleted or renamed: SHEET_MISSING (or DECL_PROJECT_MISSING) says so, once, not per cell
        form = DeclForm(p, sheet, {key: names.one(header_name(p, key)) for key in header_rows}, prefilled_name=bool(prefill[0]))
        for g in range(1, goals + 1):
            columns = {key: names.column(column_name(p, g, key), fw.indicator_rows) for key in ROW_FIELDS}
            rows = [DeclRow(i + 1, **{key: columns[key][i] for key in ROW_FIELDS}) for i in range(fw.indicator_rows)]
            form.goals.append(DeclGoal(g, names.one(goal_name(p, g)) if kind == "department" else Value(), rows))
        decl.forms.append(form)
    notes += _name_findings(names)
    if truth is not None:
        notes += _compare_with_roster(book, plan, truth, {n.sheet for n in notes if n.code == "STRUCTURE_CHANGED"})
    return decl, fw, plan, notes


def _roster_unit(roster: Sequence[UnitInfo] | None, unit: UnitInfo) -> UnitInfo | None:
    """The roster's unit this 申报表 was made for (same year and kind; by code, else by name), or
    None; without `roster`, that of this run's `check --roster` (none when there is none)."""
    from xltool.check.reader import ROSTER_ENV, _same_unit, roster_units

    if roster is None:
        if not os.environ.get(ROSTER_ENV):
            return None
        try:
            roster = roster_units(os.environ[ROSTER_ENV])
        except Exception:  # noqa: BLE001 - the command read it before any file; gone since: the metadata stands
            return None
    return next((u for u in roster if u.year == unit.year and u.kind == unit.kind and _same_unit(u, unit.code, unit.name)), None)


def _with_missing_projects(integrity: list[Finding], book: xlsx.Book, fw: Framework, plan: Plan, truth: Plan, unit: UnitInfo) -> list[Finding]:
    """A project the roster lists whose form sheet the file lacks is DECL_PROJECT_MISSING on that
    sheet: the sheet deleted or renamed (it replaces that sheet's SHEET_MISSING, naming the
    project), or a 申报表 made from a roster without the project. A project of the file the
    roster does not list is PREFILL_CHANGED on its pre-filled cells (_compare_with_roster), as
    the self-evaluation's roster comparison reports it."""
    if unit.kind != "project":
        return integrity
    issued = {s.name for s in plan.sheets}
    missing: dict[str, Finding] = {}
    for sheet, (name, _fiscal) in zip(_form_sheets(truth), form_prefills(unit, fw)):
        if not name or sheet in book.sheets:
            continue
        if sheet in issued:
            why, hint = "（工作表被删除或改名）", "请用下发的申报表重新填写该项目后交回，不要删除或重命名工作表；该项目确已取消的，请与财政部门联系更新名册。"
        else:
            why, hint = "（这份申报表是按没有该项目的名册生成的）", "请财政部门按现行名册重新生成该单位的申报表（xltool template --roster 名册 --stage 申报）下发，让单位把已填内容转填、补填该项目后交回。"
        missing[sheet] = finding("DECL_PROJECT_MISSING", sheet=sheet, expected=f"{name}（名册）", unit=unit.name, project=name, why=why, hint=hint)
    out = [missing.pop(f.sheet) if f.code == "SHEET_MISSING" and f.sheet in missing else f for f in integrity]
    return out + list(missing.values())


def _compare_with_roster(book: xlsx.Book, plan: Plan, truth: Plan, shifted: set[str]) -> list[Finding]:
    """Every cell finance pre-fills (unit name, project names, 主管部门, 财政拨款) as the roster says
    it now (`truth`, the roster unit's plan): a 申报表 made from an older roster, or re-signed
    elsewhere, is PREFILL_CHANGED on the cell, with the roster's value (marked 名册) and what the
    file holds."""
    from decimal import Decimal

    from xltool.core.messages import plain_number

    expected = {(c.sheet, c.row, c.col): c.value for c in truth.cells if c.role == "prefill"}
    places = list(expected) + [(c.sheet, c.row, c.col) for c in plan.cells if c.role == "prefill" and (c.sheet, c.row, c.col) not in expected]
    out: list[Finding] = []
    for sheet, row, col in places:
        if sheet not in book.sheets or sheet in shifted:
            continue  # a form the file does not have, or rows moved (STRUCTURE_CHANGED says so)
        value = expected.get((sheet, row, col))
        found = book.sheets[sheet].cells.get((row, col))
        seen = None if found is None else (found.formula if found.formula is not None else found.value)
        if (found is not None and found.formula is not None) or not _same(value, seen):
            shown = "（空白）" if value is None else plain_number(value) if isinstance(value, Decimal) else value
            out.append(finding("PREFILL_CHANGED", sheet=sheet, cell=a1(row, col), seen=seen, expected=f"{shown}（名册）"))
    return out


def _form_entry(entry) -> bool:
    """[project name, 财政拨款 as text or null], as template.declaration.form_prefills writes it."""
    from decimal import Decimal, InvalidOperation

    if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str) and len(entry[0]) <= 200):
        return False
    if entry[1] is None:
        return True
    try:
        return isinstance(entry[1], str) and len(entry[1]) <= 30 and Decimal(entry[1]).is_finite()
    except InvalidOperation:
        return False


def _unknown(path: Path, meta, name, version):
    raise _Unknown([finding("FRAMEWORK_UNKNOWN", file=path.name, framework=_short(name), version=_short(version))], meta)


class _Unknown(Exception):
    """A 申报表 this program made that it cannot check (unknown framework, too many projects): its findings."""

    def __init__(self, findings, meta):
        super().__init__("FRAMEWORK_UNKNOWN")
        self.findings, self.meta = findings, meta


def _form_sheets(plan: Plan) -> list[str]:
    return [s.name for s in plan.sheets if s.name.startswith("项目") or s.name == "部门整体"]


def _name_findings(binder: Binder) -> list[Finding]:
    """The binder's facts about the names, in the order they were looked up: a name deleted is
    NAME_MISSING at its cell; names moved are STRUCTURE_CHANGED once per sheet, at the first
    looked up (a name stretched or shrunk is read over its template range, and not reported)."""
    plan, integrity = binder.plan, binder.integrity
    missing, moved = set(integrity.missing_names), {name: text for name, _ref, text in integrity.moved_names}
    out: list[Finding] = []
    shifted: set[str] = set()
    for name in binder.resolved:
        spec = plan.names.get(name)
        if spec is None:
            continue
        if name in missing:
            out.append(finding("NAME_MISSING", sheet=spec.sheet, cell=a1(spec.row, spec.col), name=name, label=_label(plan, spec)))
        elif name in moved and spec.sheet not in shifted:
            shifted.add(spec.sheet)
            found = xlsx.parse_name_ref(moved[name])
            seen = a1(found[1][0], found[1][1]) if found[0] == spec.sheet else f"{found[0]}!{a1(found[1][0], found[1][1])}"
            out.append(finding(
                "STRUCTURE_CHANGED", sheet=spec.sheet, cell=a1(spec.row, spec.col), label=_label(plan, spec),
                expected=a1(spec.row, spec.col), seen=seen, count=1,
            ))
    return out


def _label(plan: Plan, spec) -> str:
    cell = next((c for c in plan.cells if c.sheet == spec.sheet and c.row == spec.row and c.col == spec.col), None)
    return cell.field if cell is not None and cell.field else spec.name


def _integrity(book: xlsx.Book, plan: Plan) -> list[Finding]:
    from xltool.check.reader import normalize_formula

    out: list[Finding] = []
    for spec in plan.sheets:
        if spec.name == SHEET_META:
            continue
        sheet = book.sheets.get(spec.name)
        if sheet is None:
            out.append(finding("SHEET_MISSING", sheet=spec.name))
        elif spec.protect and spec.state == "visible" and not sheet.protected:
            out.append(finding("PROTECTION_REMOVED", sheet=spec.name))
    issued = {spec.name for spec in plan.sheets}
    out += [finding("DECL_SHEET_ADDED", sheet=name) for name in book.sheets if name not in issued]
    for cell in plan.cells:
        if cell.role == "input" or cell.sheet == SHEET_META or cell.sheet not in book.sheets:
            continue
        found = book.sheets[cell.sheet].cells.get((cell.row, cell.col))
        if cell.role == "formula":
            if found is None or found.formula is None:
                out.append(finding("FORMULA_CHANGED", sheet=cell.sheet, cell=cell.ref, how="被删除或改成了数值", seen=None if found is None else found.value, expected=cell.value))
            elif normalize_formula(found.formula) != normalize_formula(cell.value):
                out.append(finding("FORMULA_CHANGED", sheet=cell.sheet, cell=cell.ref, how="被改动", seen=found.formula, expected=cell.value))
            continue
        value = None if found is None else (found.formula if found.formula is not None else found.value)
        if not _same(cell.value, value):
            code = "PREFILL_CHANGED" if cell.role == "prefill" else "LOCKED_CHANGED"
            out.append(finding(code, sheet=cell.sheet, cell=cell.ref, seen=value, expected=cell.value))
    return out


def _same(expected, found) -> bool:
    from decimal import Decimal

    blank = lambda v: v is None or (isinstance(v, str) and not v.strip())  # noqa: E731
    if blank(expected) or blank(found):
        return blank(expected) and blank(found)
    if isinstance(expected, (int, float, Decimal)) and not isinstance(expected, bool):
        return isinstance(found, (int, float)) and not isinstance(found, bool) and abs(float(found) - float(expected)) < 1e-9
    return isinstance(found, str) and found.strip() == str(expected).strip() or show(found) == show(expected)


def check_declaration_file(path: str | Path, data: bytes, roster: Sequence[UnitInfo] | None = None) -> tuple[Result, Declaration | None, Framework | None] | None:
    """The check of one returned 申报表, as the pipeline reports it (kind "declaration"); None when
    the bytes are not a 申报表 (the caller's NOT_OUR_TEMPLATE stands). Never raises. `roster`: the
    units its pre-fills are compared with (default: this run's `check --roster`, if any)."""
    from xltool.check.rules import read_result

    path = Path(path)
    digest = hashlib.sha256(data).hexdigest()
    try:
        decl, fw, _plan, notes = read_declaration(path, data, roster)
    except NotDeclaration:
        return None
    except _Unknown as exc:
        meta = exc.meta
        return Result(file=str(path), status="unreadable", kind=KIND, unit=meta.get("unit_name", ""), unit_code=meta.get("unit_code", ""), findings=exc.findings, sha256=digest), None, None
    except xlsx.XlsxError as exc:
        return Result(file=str(path), status="unreadable", kind=KIND, findings=[finding(exc.code, file=path.name, detail=exc.detail)], sha256=digest), None, None
    return read_result(str(path), decl, notes + check_declaration(decl, fw), digest, kind=KIND), decl, fw


def read_file(path: str | Path, data: bytes | None = None, roster: Sequence[UnitInfo] | None = None):
    """check_declaration_file for a path on disk (the targets command); the file is only read."""
    from xltool.check.reader import Unreadable, read_bytes

    path = Path(path)
    try:
        if data is None:
            data = read_bytes(path)
    except Unreadable as exc:
        return Result(file=str(path), status="unreadable", kind=KIND, findings=exc.findings), None, None
    try:
        checked = check_declaration_file(path, data, roster)
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
        from xltool.core.messages import explain

        return Result(file=str(path), status="unreadable", kind=KIND, findings=[finding("FILE_UNREADABLE", file=path.name, detail=explain(exc))]), None, None
    if checked is None:
        return Result(file=str(path), status="unreadable", findings=[finding("NOT_OUR_TEMPLATE", file=path.name, detail="不是绩效目标申报表")]), None, None
    return checked
