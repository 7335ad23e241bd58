"""Many templates of one framework, fast: render once per shape, then patch what differs.

Every unit of a framework with the same shape (kind, number of projects, which figures are
pre-filled) gets a workbook that differs from its neighbour's only in a few values: the unit's
name, code and year in titles, the pre-filled figures, project names, the `_meta` sheet and its
signature, and the document properties. So the first unit of a shape is rendered by the plain
writer (writer.py) and kept as a skeleton: its zip entries, already compressed. For each further
unit of that shape:

- the unit's plan is compared with the skeleton's, cell by cell; only values may differ;
- a changed text takes the skeleton's slot in the shared-string table, so the sheets that hold it
  do not change at all: only xl/sharedStrings.xml is written again;
- a changed number (pre-filled figure, year) and a changed column width (a long unit or project
  name) are patched into that sheet's XML;
- docProps/core.xml and app.xml get the unit's title and company;
- the zip is spliced from the skeleton's compressed entries and the few new ones.

The result is byte for byte the file the plain writer makes for the same unit
(tests/test_template_fast.py checks it). Whenever a unit does not fit its skeleton (a project name
equal to a fixed label, so xlsxwriter would share the string; a value whose type differs; any
structural difference), that unit is written by the plain writer instead: slower, never different.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from xltool.template.layout import SHEET_META, Plan, col_number
from xltool.template.writer import HEIGHTS_FOLLOW_TEXT, _render, _value, atomic_path, column_widths, document_properties, row_heights

_NUMBER_TYPES = (int, float, Decimal)
_WRAPPED = ("header", "label", "label_bold", "label_center", "guide", "note")


class _Misfit(Exception):
    """The unit does not fit the skeleton: write it with the plain writer."""


# ---------------------------------------------------------------- zip entries


@dataclass
class _Entry:
    name: str
    local: bytes  # local header + compressed data, as zipfile wrote it
    central: bytes  # central directory record, offset to be patched


def _entries(data: bytes) -> list[_Entry]:
    end = data.rfind(b"PK\x05\x06")
    count, size, start = struct.unpack_from("<HII", data, end + 10)
    records, pos = [], start
    for _ in range(count):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", data, pos + 28)
        offset = struct.unpack_from("<I", data, pos + 42)[0]
        length = 46 + name_len + extra_len + comment_len
        records.append((data[pos + 46 : pos + 46 + name_len].decode("utf-8"), offset, data[pos : pos + length]))
        pos += length
    bounds = [offset for _n, offset, _c in records] + [start]
    return [_Entry(name, data[bounds[i] : bounds[i + 1]], central) for i, (name, _o, central) in enumerate(records)]


def _compress(parts: dict[str, bytes]) -> dict[str, _Entry]:
    """Zip entries exactly as xlsxwriter writes them (fixed date, deflate, no zip64)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=False) as zf:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return {e.name: e for e in _entries(buffer.getvalue())}


def _splice(entries: list[_Entry]) -> bytes:
    out, central, offset = [], [], 0
    for entry in entries:
        out.append(entry.local)
        central.append(entry.central[:42] + struct.pack("<I", offset) + entry.central[46:])
        offset += len(entry.local)
    directory = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(directory), offset, 0)
    return b"".join(out) + directory + end


# ---------------------------------------------------------------- the skeleton


@dataclass
class _SheetXml:
    part: str
    text: str
    cols: tuple[int, int]  # span of <cols>…</cols> in text
    numbers: dict[tuple[int, int], tuple[int, int, str]]  # (row, col) → span of <c>, its opening "<c r=.. s=..>"
    widths: dict[int, float]
    heights: dict[int, float]


@dataclass
class _Skeleton:
    plan: Plan
    entries: list[_Entry]
    strings: list[str]  # the shared-string table, by slot
    slot: dict[tuple[str, int, int], int]  # (sheet, row, col) of a text cell → its slot
    uses: dict[int, int]  # slot → how many cells use it
    sheets: dict[str, _SheetXml]
    sst_head: str
    signature: tuple[str, int, int]  # where the signature is written
    core: str
    app: str
    fragments: dict[str, str] = field(default_factory=dict)  # string → its <si> element
    positions: dict[str, list[int]] = field(default_factory=dict)  # sheet → indexes of its cells in plan.cells
    fragment_list: list[str] = field(default_factory=list)  # the <si> elements, by slot
    fits: int = 0  # units patched from it
    misfits: int = 0  # units that did not fit it


_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"[^>]*?(/>|>.*?</c>)', re.S)


def _build_skeleton(plan: Plan, key: bytes) -> tuple[_Skeleton, bytes]:
    buffer = io.BytesIO()
    wb = _render(plan, buffer, {}, key)
    data = buffer.getvalue()
    entries = _entries(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        texts = {name: zf.read(name).decode("utf-8") for name in zf.namelist() if name.endswith(".xml")}

    strings = list(wb.str_table.string_array)
    slot: dict[tuple[str, int, int], int] = {}
    uses: dict[int, int] = {}
    sheets: dict[str, _SheetXml] = {}
    by_sheet: dict[str, list] = {}
    positions: dict[str, list[int]] = {}
    for i, cell in enumerate(plan.cells):
        by_sheet.setdefault(cell.sheet, []).append(cell)
        positions.setdefault(cell.sheet, []).append(i)
    prefilled = {(c.sheet, c.row, c.col) for c in plan.cells if c.role == "prefill" or c.sheet == SHEET_META}
    for index, (spec, ws) in enumerate(zip(plan.sheets, wb.worksheets()), start=1):
        for row, cells in ws.table.items():
            for col, cell in cells.items():
                if type(cell).__name__ == "String":
                    slot[(spec.name, row, col)] = cell.string
                    uses[cell.string] = uses.get(cell.string, 0) + 1
        part = f"xl/worksheets/sheet{index}.xml"
        text = texts[part]
        start, stop = text.find("<cols>"), text.find("</cols>") + len("</cols>")
        numbers = {}
        for m in _CELL.finditer(text):
            row, col = int(m.group(2)) - 1, col_number(m.group(1))
            if (spec.name, row, col) in prefilled and "<v>" in m.group(3) and ' t="' not in m.group(0).split(">", 1)[0]:
                numbers[(row, col)] = (m.start(), m.end(), m.group(0).split(">", 1)[0] + ">")
        own = by_sheet.get(spec.name, [])
        sheets[spec.name] = _SheetXml(part, text, (start, stop), numbers, column_widths(spec, own), row_heights(spec, own))
    sst = texts["xl/sharedStrings.xml"]
    skeleton = _Skeleton(
        plan=plan,
        entries=entries,
        strings=strings,
        slot=slot,
        uses=uses,
        sheets=sheets,
        sst_head=sst[: sst.index("<si>")] if "<si>" in sst else sst,
        signature=(SHEET_META, len(plan.meta), 1),
        core=texts["docProps/core.xml"],
        app=texts["docProps/app.xml"],
        positions=positions,
    )
    return skeleton, data


# ---------------------------------------------------------------- per unit


def _structure(cell) -> tuple:
    return (cell.sheet, cell.row, cell.col, cell.role, cell.style, cell.validation, cell.span, cell.field, cell.rows)


def _changes(skeleton: _Skeleton, plan: Plan) -> list[tuple]:
    """(sheet, row, col, old, new, cell) for every cell whose value differs; _Misfit otherwise."""
    base = skeleton.plan
    if (
        len(plan.cells) != len(base.cells)
        or plan.sheets != base.sheets
        or plan.conditional != base.conditional
        or plan.names != base.names
        or list(plan.meta) != list(base.meta)
    ):
        raise _Misfit
    changes = []
    for new, old in zip(plan.cells, base.cells):
        if new is old:
            continue
        if new.value is old.value or (new.value == old.value and type(new.value) is type(old.value) and str(new.value) == str(old.value)):
            if _structure(new) != _structure(old):
                raise _Misfit
            continue
        if _structure(new) != _structure(old):
            raise _Misfit
        changes.append((new.sheet, new.row, new.col, old.value, new.value, new))
    return changes


_ESCAPE = XMLwriter()


def _si(skeleton: _Skeleton, text: str) -> str:
    fragment = skeleton.fragments.get(text)
    if fragment is None:
        writer = SharedStrings()
        writer.fh = io.StringIO()
        writer._write_si(text)
        fragment = writer.fh.getvalue()
    return fragment


def _cols_xml(widths: dict[int, float]) -> str:
    ws = Worksheet()
    for col, width in widths.items():
        ws.set_column(col, col, width)
    ws.fh = io.StringIO()
    ws._write_cols()
    return ws.fh.getvalue()


def _number_xml(opening: str, value) -> str:
    return f"{opening}<v>{_value(value):.16G}</v></c>"


def _replace_tag(text: str, tag: str, value: str) -> str:
    start = text.index(f"<{tag}>") + len(tag) + 2
    stop = text.index(f"</{tag}>", start)
    return text[:start] + _ESCAPE._escape_data(value) + text[stop:]


def _fast_bytes(skeleton: _Skeleton, plan: Plan, key: bytes) -> bytes:
    from xltool.template.signing import sign

    changes = _changes(skeleton, plan)
    signature = sign(plan.meta, key)
    sheet_name, sig_row, sig_col = skeleton.signature
    old_signature = skeleton.strings[skeleton.slot[skeleton.signature]]
    changes.append((sheet_name, sig_row, sig_col, old_signature, signature, None))

    strings = list(skeleton.strings)
    assigned: dict[int, list] = {}
    numbers: dict[str, dict] = {}
    widths_touched: set[str] = set()
    for sheet, row, col, old, new, cell in changes:
        if isinstance(old, str) and isinstance(new, str):
            index = skeleton.slot.get((sheet, row, col))
            if index is None or skeleton.strings[index] != old:
                raise _Misfit
            assigned.setdefault(index, []).append(new)
        elif (
            isinstance(old, _NUMBER_TYPES) and isinstance(new, _NUMBER_TYPES)
            and not isinstance(old, bool) and not isinstance(new, bool)
            and (row, col) in skeleton.sheets[sheet].numbers
        ):
            numbers.setdefault(sheet, {})[(row, col)] = new
        else:
            raise _Misfit
        if cell is not None and cell.span == 1 and cell.role != "input" and isinstance(new, str) and not (
            "wrap" in cell.style or cell.style in _WRAPPED
        ):
            widths_touched.add(sheet)
    for index, values in assigned.items():
        # every cell sharing the slot must change, and to the same text
        if len(values) != skeleton.uses[index] or len(set(values)) != 1:
            raise _Misfit
        strings[index] = values[0]
    if len(set(strings)) != len(strings):
        raise _Misfit  # xlsxwriter would have shared a string between two slots

    parts: dict[str, bytes] = {}
    changed = {change[0] for change in changes if change[5] is not None}
    cells = plan.cells

    def sheet_cells(sheet: str) -> list:
        return [cells[i] for i in skeleton.positions.get(sheet, ())]

    specs = {spec.name: spec for spec in plan.sheets}
    for sheet in changed & set(HEIGHTS_FOLLOW_TEXT):
        # row heights follow the guide's lines: a unit that changes one is not worth patching
        if row_heights(specs[sheet], sheet_cells(sheet)) != skeleton.sheets[sheet].heights:
            raise _Misfit
    for sheet in sorted(set(numbers) | widths_touched):
        xml = skeleton.sheets[sheet]
        pieces: list[tuple[int, int, str]] = []
        if sheet in widths_touched:
            widths = column_widths(specs[sheet], sheet_cells(sheet))
            if widths != xml.widths:
                pieces.append((*xml.cols, _cols_xml(widths)))
        for place, value in numbers.get(sheet, {}).items():
            start, stop, opening = xml.numbers[place]
            pieces.append((start, stop, _number_xml(opening, value)))
        if not pieces:
            continue
        pieces.sort()
        text, pos, out = xml.text, 0, []
        for start, stop, new in pieces:
            out.append(text[pos:start])
            out.append(new)
            pos = stop
        out.append(text[pos:])
        parts[xml.part] = "".join(out).encode("utf-8")

    fragments = list(skeleton.fragment_list)
    for index in assigned:
        fragments[index] = _si(skeleton, strings[index])
    parts["xl/sharedStrings.xml"] = (skeleton.sst_head + "".join(fragments) + "</sst>").encode("utf-8")
    props = document_properties(plan)
    core = _replace_tag(skeleton.core, "dc:title", props["title"])
    core = _replace_tag(core, "dc:description", props["comments"])
    parts["docProps/core.xml"] = core.encode("utf-8")
    parts["docProps/app.xml"] = _replace_tag(skeleton.app, "Company", props["company"]).encode("utf-8")

    fresh = _compress(parts)
    return _splice([fresh.get(e.name, e) for e in skeleton.entries])


# ---------------------------------------------------------------- the writer


def _shape(plan: Plan) -> tuple:
    unit = plan.unit
    figures = (unit.initial_budget, unit.adjusted_budget, unit.final_accounts)
    projects = tuple(
        (p.name is None, p.budget is None, p.executed is None, p.initial is None, not p.goal_plan,
         tuple(v is None for s in plan.framework.fund_sources for v in p.source(s)), _approved_shape(p.approved))
        for p in unit.projects
    )
    goals = tuple((not name, _approved_shape(rows)) for name, rows in unit.goals)
    return (plan.framework, unit.kind, not unit.code, tuple(v is None for v in figures), projects, goals, len(plan.cells))


def _approved_shape(rows) -> tuple:
    """Which cells of the approved rows are pre-filled (a blank one stays blank, an absent 调整后指标值 an input)."""
    return tuple((not i.level2, i.target is None, not i.unit, i.points is None, i.adjusted is None) for i in rows)


class TemplateWriter:
    """Writes blank templates; keeps one skeleton per framework and shape it has seen."""

    def __init__(self, key: bytes | None = None):
        from xltool.template.signing import current_key

        self.key = current_key() if key is None else key
        self.skeletons: dict[tuple, _Skeleton] = {}
        self.fast = 0  # units written from a skeleton
        self.plain = 0  # units written by the plain writer (a skeleton's own, or misfits)

    def render(self, plan: Plan) -> bytes:
        shape = _shape(plan)
        skeleton = self.skeletons.get(shape)
        if skeleton is None:
            skeleton, data = self._new_skeleton(plan)
            self.skeletons[shape] = skeleton
            self.plain += 1
            return data
        try:
            data = _fast_bytes(skeleton, plan, self.key)
        except _Misfit:
            self.plain += 1
            skeleton.misfits += 1
            if skeleton.misfits <= 2 * skeleton.fits + 1:
                buffer = io.BytesIO()
                _render(plan, buffer, {}, self.key)
                return buffer.getvalue()
            # An odd first unit (named like its own project, say) would send every later unit to
            # the plain writer: the unit in hand becomes the skeleton instead.
            skeleton, data = self._new_skeleton(plan)
            self.skeletons[shape] = skeleton
            return data
        skeleton.fits += 1
        self.fast += 1
        return data

    def _new_skeleton(self, plan: Plan) -> tuple[_Skeleton, bytes]:
        skeleton, data = _build_skeleton(plan, self.key)
        for text in skeleton.strings:
            skeleton.fragments[text] = _si(skeleton, text)
        skeleton.fragment_list = [skeleton.fragments[text] for text in skeleton.strings]
        return skeleton, data

    def write(self, plan: Plan, path: str | Path) -> Path:
        """Write atomically, as writer.write_plan does."""
        path = Path(path)
        data = self.render(plan)
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
        return path


__all__ = ["TemplateWriter"]
