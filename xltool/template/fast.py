"""Many templates of one framework, fast: render once per shape, then patch what differs.

Every unit of a framework with the same shape (kind, number of projects, the same cells in the
same places) gets a workbook that differs from its neighbour's only in some cells: the unit's
name, code and year in titles, the pre-filled figures, project names and 预期目标, the approved
indicators (pre-filled and locked here, inputs there), the `_meta` sheet and its signature, and
the document properties. So the first unit of a shape is rendered by the plain writer (writer.py)
and kept as a skeleton: its zip entries, already compressed, and its sheets' XML. For each
further unit of that shape:

- the unit's plan is compared with the skeleton's, cell by cell: a cell may change its value, or
  (a single, unmerged cell) its role and format: an input in one template, pre-filled in another;
- the shared-string table is numbered as xlsxwriter numbers it (first written, first numbered);
  a sheet is rewritten only where a text cell's number, a figure, a cell's format, the column
  widths or the validations (runs of validated cells, each run's element rendered once) changed;
- a changed format must keep xlsxwriter's numbering of the formats (in the order first written),
  so styles.xml stays the skeleton's;
- docProps/core.xml and app.xml get the unit's title and company;
- the zip is spliced from the skeleton's compressed entries and the few new ones.

The result is byte for byte the file the plain writer makes for the same unit
(tests/test_template_fast.py checks it). Whenever a unit does not fit any of its shape's few
skeletons (row heights that follow a longer text, a format the skeleton never wrote or one that
would be numbered differently, a formula or a merged cell that changed), that unit is written by
the plain writer instead, and kept as another skeleton while there are fewer than
SKELETONS_PER_SHAPE: slower, never different.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from xlsxwriter.sharedstrings import SharedStrings
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

from xlsxwriter.utility import xl_rowcol_to_cell_fast

from xltool.template.celltext import needs_runs
from xltool.template.layout import SHEET_META, Plan, col_number
from xltool.template.writer import (
    HEIGHTS_FOLLOW_TEXT, _render, _skip_future_function_rewrite, _validation_options, _value, atomic_path, column_widths, document_properties, row_heights,
    validation_runs,
)

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


def _recompressed(entry: _Entry, content: bytes) -> _Entry:
    """The skeleton's entry with new content: deflated as zipfile deflates (zlib's default level,
    raw stream), the header's CRC and sizes patched, all else (name, date, flags) kept."""
    deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    data = deflate.compress(content) + deflate.flush()
    sizes = struct.pack("<III", zlib.crc32(content), len(data), len(content))
    name_len, extra_len = struct.unpack_from("<HH", entry.local, 26)
    local = entry.local[:14] + sizes + entry.local[26 : 30 + name_len + extra_len] + data
    return _Entry(entry.name, local, entry.central[:16] + sizes + entry.central[28:])


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
    text: bytes  # the sheet's XML, UTF-8
    cols: tuple[int, int]  # span of <cols>…</cols> in text
    cells: dict[tuple[int, int], tuple[int, int]]  # (row, col) → span of its <c> element
    validations: tuple[int, int]  # span of <dataValidations>…</dataValidations> (empty when none)
    widths: dict[int, float]
    heights: dict[int, float]
    strings: list[tuple[int, int, int]]  # (row, col, slot) of its text cells, in the order written
    slots: list[int] = field(default_factory=list)  # the slots alone


@dataclass
class _Skeleton:
    plan: Plan
    entries: list[_Entry]
    strings: list[str]  # the shared-string table, by slot
    sheets: dict[str, _SheetXml]
    sst_head: str
    core: str
    app: str
    kinds: list[str]  # by cell of plan.cells: how xlsxwriter wrote it: s(tring) n(umber) b(lank) f(ormula) o(ther)
    text_cells: dict[str, list[int]]  # sheet → indexes (in plan.cells) of its text cells, in the order written
    style_xf: dict[str, int]  # a style's xf index in this skeleton's styles.xml
    xf_places: dict[int, list[tuple[int, int, int]]]  # xf index → (sheet, row, col) of the cells written with it, in order
    sheet_number: dict[str, int]  # sheet → its place in the workbook
    positions: dict[str, list[int]] = field(default_factory=dict)  # sheet → indexes of its cells in plan.cells
    fragments: dict[str, bytes] = field(default_factory=dict)  # string → its <si> element, UTF-8
    validations: dict[tuple, str] = field(default_factory=dict)  # a run of validated cells → its <dataValidation>
    fits: int = 0  # units patched from it
    misfits: int = 0  # units that did not fit it


_CELL = re.compile(rb'<c r="([A-Z]+)(\d+)"[^>]*?(/>|>.*?</c>)', re.S)
_XF = re.compile(rb' s="(\d+)"')
_KINDS = {"String": "s", "Number": "n", "Blank": "b", "Formula": "f"}


def _build_skeleton(plan: Plan, key: bytes) -> tuple[_Skeleton, bytes]:
    from xltool.template.signing import SIGNATURE

    buffer = io.BytesIO()
    wb = _render(plan, buffer, {}, key)
    data = buffer.getvalue()
    entries = _entries(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        texts = {name: zf.read(name).decode("utf-8") for name in zf.namelist() if name.endswith(".xml")}

    positions: dict[str, list[int]] = {}
    for i, cell in enumerate(plan.cells):
        positions.setdefault(cell.sheet, []).append(i)
    kinds = [""] * len(plan.cells)
    style_xf: dict[str, int] = {}
    sheets: dict[str, _SheetXml] = {}
    xf_places: dict[int, list[tuple[int, int, int]]] = {}
    for index, (spec, ws) in enumerate(zip(plan.sheets, wb.worksheets()), start=1):
        strings = []
        own = [plan.cells[i] for i in positions.get(spec.name, ())]
        for i in positions.get(spec.name, ()):
            cell = plan.cells[i]
            written = ws.table[cell.row][cell.col]
            kinds[i] = _KINDS.get(type(written).__name__, "o")
            if kinds[i] == "s":
                strings.append((cell.row, cell.col, written.string))
            xf = written.format._get_xf_index() if written.format else None
            if style_xf.setdefault(cell.style, xf) != xf:
                raise _Misfit  # one style, two formats: not a layout this writer knows
        if spec.name == SHEET_META:
            row = len(plan.meta)
            strings += [(row, 0, ws.table[row][0].string), (row, 1, ws.table[row][1].string)]
        part = f"xl/worksheets/sheet{index}.xml"
        text = texts[part].encode("utf-8")  # patched as bytes: a sheet is encoded once, not per unit
        cols = (text.find(b"<cols>"), text.find(b"</cols>") + len(b"</cols>"))
        at = text.find(b"<dataValidations")
        validations = (at, text.index(b"</dataValidations>") + len(b"</dataValidations>")) if at >= 0 else (0, 0)
        cells = {}
        for m in _CELL.finditer(text):
            place = (int(m.group(2)) - 1, col_number(m.group(1).decode()))
            cells[place] = (m.start(), m.end())
            xf = _XF.search(m.group(0), 0, m.group(0).index(b">"))
            if xf:
                xf_places.setdefault(int(xf.group(1)), []).append((index, *place))
        sheets[spec.name] = _SheetXml(part, text, cols, cells, validations, column_widths(spec, own), row_heights(spec, own), strings, [s for *_rc, s in strings])
    if any(needs_runs(text) for text in wb.str_table.string_array):
        raise _Misfit  # a text written as a run (celltext.as_written): the table is not the plan's texts
    sst = texts["xl/sharedStrings.xml"]
    skeleton = _Skeleton(
        plan=plan,
        entries=entries,
        strings=list(wb.str_table.string_array),
        sheets=sheets,
        sst_head=sst[: sst.index("<si>")] if "<si>" in sst else sst,
        core=texts["docProps/core.xml"],
        app=texts["docProps/app.xml"],
        kinds=kinds,
        text_cells={name: [i for i in own if kinds[i] == "s"] for name, own in positions.items()},
        style_xf={k: v for k, v in style_xf.items() if v is not None},
        xf_places=xf_places,
        sheet_number={spec.name: k for k, spec in enumerate(plan.sheets, start=1)},
        positions=positions,
    )
    for text in skeleton.strings:
        skeleton.fragments[text] = _si(text).encode("utf-8")
    # what the per-unit path computes must be what xlsxwriter did for the skeleton itself
    if _string_table(skeleton, plan, {}, SIGNATURE, wb.str_table.string_array[-1])[1] != {
        name: [slot for *_rc, slot in xml.strings] for name, xml in sheets.items()
    }:
        raise _Misfit
    return skeleton, data


# ---------------------------------------------------------------- per unit


_ESCAPE = XMLwriter()


def _si(text: str) -> str:
    writer = SharedStrings()
    writer.fh = io.StringIO()
    writer._write_si(text)
    return writer.fh.getvalue()


def _cols_xml(widths: dict[int, float]) -> str:
    ws = Worksheet()
    for col, width in widths.items():
        ws.set_column(col, col, width)
    ws.fh = io.StringIO()
    ws._write_cols()
    return ws.fh.getvalue()


def _validations_xml(cells, cache: dict) -> bytes:
    """<dataValidations> as the plain writer makes it; each run's element rendered once (cache)."""
    runs = validation_runs(cells)
    if not runs:
        return b""
    elements = []
    for run in runs:
        element = cache.get(run)
        if element is None:
            ws = Worksheet()
            _skip_future_function_rewrite(ws)  # as the plain writer
            ws.data_validation(*run[:4], _validation_options(run[4]))
            ws.fh = io.StringIO()
            ws._write_data_validation(ws.validations[0])
            if len(cache) >= 4096:
                cache.clear()
            element = cache[run] = ws.fh.getvalue()
        elements.append(element)
    return (f'<dataValidations count="{len(runs)}">' + "".join(elements) + "</dataValidations>").encode("utf-8")


def _replace_tag(text: str, tag: str, value: str) -> str:
    start = text.index(f"<{tag}>") + len(tag) + 2
    stop = text.index(f"</{tag}>", start)
    # as xlsxwriter writes an element's text: XML's escapes, then Excel's _xHHHH_ ones
    return text[:start] + _ESCAPE._escape_control_characters(_ESCAPE._escape_data(value)) + text[stop:]


def _is_number(value) -> bool:
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


def _written_kind(cell) -> str:
    """How the plain writer writes a single, unmerged, non-formula cell: string, number or blank."""
    value = cell.value
    if value is None:
        return "b"
    if isinstance(value, str) and value and len(value) < 16000:
        return "s"
    if _is_number(value):
        return "n"
    raise _Misfit


def _widens(cell) -> bool:
    """Whether the cell's text can widen its column (as writer.column_widths measures)."""
    return cell.span == 1 and cell.role != "input" and isinstance(cell.value, str) and not (
        "wrap" in cell.style or cell.style in _WRAPPED
    )


def _string_table(skeleton: _Skeleton, plan: Plan, restyled: dict[int, str], label: str, signature: str):
    """The shared strings as xlsxwriter numbers them for this plan (first seen, first numbered: the
    sheets in order, each sheet's cells in plan order, the signature last), the total of text
    cells, and the slots of each sheet's text cells in the order written."""
    cells = plan.cells
    kinds = skeleton.kinds
    restyled_sheets = {cells[i].sheet for i in restyled}
    table: dict[str, int] = {}
    put = table.setdefault
    slots: dict[str, list[int]] = {}
    count = 0
    for spec in plan.sheets:
        if spec.name in restyled_sheets:
            texts = [i for i in skeleton.positions.get(spec.name, ()) if (restyled.get(i) or kinds[i]) == "s"]
        else:
            texts = skeleton.text_cells[spec.name]
        own = [put(cells[i].value, len(table)) for i in texts]
        if spec.name == SHEET_META:
            own.append(put(label, len(table)))
            own.append(put(signature, len(table)))
        count += len(own)
        slots[spec.name] = own
    return table, slots, count


def _fast_bytes(skeleton: _Skeleton, plan: Plan, key: bytes) -> bytes:
    from xltool.template.signing import SIGNATURE, sign

    base = skeleton.plan
    if (
        len(plan.cells) != len(base.cells)
        or plan.sheets != base.sheets
        or plan.conditional != base.conditional
        or plan.names != base.names
        or list(plan.meta) != list(base.meta)
    ):
        raise _Misfit
    kinds = skeleton.kinds
    numbers: dict[int, object] = {}  # cell index → its new number
    restyled: dict[int, str] = {}  # cell index → how it is written now (its format or kind changed)
    touched: set[str] = set()  # sheets with a changed cell
    widths_touched: set[str] = set()
    formats: list[tuple[tuple, int, int]] = []  # (place, old xf, new xf) of a cell whose format changed
    for i, (new, old) in enumerate(zip(plan.cells, base.cells)):
        if new is old or (new == old and type(new.value) is type(old.value) and (type(new.value) is not Decimal or str(new.value) == str(old.value))):
            continue
        if new.row != old.row or new.col != old.col or new.sheet != old.sheet or new.span != old.span or new.rows != old.rows:
            raise _Misfit
        if isinstance(new.value, str) and needs_runs(new.value):
            raise _Misfit  # written as a run by the plain writer (celltext.as_written)
        nv, ov = new.value, old.value
        same_value = nv is ov or (type(nv) is type(ov) and nv == ov and str(nv) == str(ov))
        if new.role == old.role and new.style == old.style and new.validation == old.validation:
            if same_value:
                continue
            kind = kinds[i]
            if kind == "s" and isinstance(nv, str) and nv and len(nv) < 16000:
                pass  # the string table says where it goes
            elif kind == "n" and _is_number(nv) and _is_number(ov):
                numbers[i] = nv
            elif kind in ("s", "n", "b") and new.span == 1 and new.rows == 1:
                restyled[i] = _written_kind(new)  # a pre-filled figure or text left blank, or the reverse
                if restyled[i] == "n":
                    numbers[i] = nv
            else:
                raise _Misfit  # a formula, a merged cell emptied
        else:
            # pre-filled here, an input there (an approved indicator, a figure finance knows)
            if new.span != 1 or new.rows != 1 or "formula" in (new.role, old.role) or kinds[i] == "f" or new.style not in skeleton.style_xf:
                raise _Misfit
            if new.style != old.style:
                formats.append(((skeleton.sheet_number[new.sheet], new.row, new.col), skeleton.style_xf[old.style], skeleton.style_xf[new.style]))
            restyled[i] = _written_kind(new)
            if restyled[i] == "n":
                numbers[i] = nv
        touched.add(new.sheet)
        if _widens(new) or _widens(old):
            widths_touched.add(new.sheet)

    if formats and not _same_numbering(skeleton.xf_places, formats):
        raise _Misfit

    signature = sign(plan.meta, key)
    table, slots, count = _string_table(skeleton, plan, restyled, SIGNATURE, signature)

    cells = plan.cells
    specs = {spec.name: spec for spec in plan.sheets}
    restyled_sheets = {cells[i].sheet for i in restyled}
    parts: dict[str, bytes] = {}
    for spec in plan.sheets:
        sheet = spec.name
        xml = skeleton.sheets[sheet]
        own_slots = slots[sheet]
        old_slots = xml.slots
        if sheet not in touched and own_slots == old_slots:
            continue
        own = [cells[i] for i in skeleton.positions.get(sheet, ())] if sheet in restyled_sheets or sheet in widths_touched or sheet in HEIGHTS_FOLLOW_TEXT else []
        if (sheet in restyled_sheets or sheet in HEIGHTS_FOLLOW_TEXT) and row_heights(spec, own) != xml.heights:
            raise _Misfit  # row heights follow the texts here: not worth patching
        pieces: list[tuple[int, int, bytes]] = []
        if sheet in widths_touched or sheet in restyled_sheets:
            widths = column_widths(specs[sheet], own)
            if widths != xml.widths:
                if xml.cols[0] < 0:
                    raise _Misfit
                pieces.append((*xml.cols, _cols_xml(widths).encode("utf-8")))
        if sheet in restyled_sheets:
            # the runs of validated cells change where cells turned from inputs into pre-filled ones
            validations = _validations_xml(own, skeleton.validations)
            if validations != xml.text[slice(*xml.validations)]:
                if xml.validations == (0, 0):
                    raise _Misfit
                pieces.append((*xml.validations, validations))
        text = xml.text
        # text cells: the slot of each, in the order written (restyled cells come and go)
        if sheet in restyled_sheets:
            rows_cols = [(cells[i].row, cells[i].col) for i in skeleton.positions.get(sheet, ()) if (restyled.get(i) or kinds[i]) == "s"]
            if sheet == SHEET_META:
                rows_cols += [(len(plan.meta), 0), (len(plan.meta), 1)]
            before = {(r, c): slot for r, c, slot in xml.strings}
        else:
            rows_cols = [(r, c) for r, c, _slot in xml.strings]
            before = None
        restyled_here = _restyled_places(cells, restyled, sheet) if sheet in restyled_sheets else ()
        for n, (place, slot) in enumerate(zip(rows_cols, own_slots)):
            old_slot = before.get(place) if before is not None else old_slots[n]
            if slot != old_slot and place not in restyled_here:  # a restyled cell is written below
                start, stop = xml.cells[place]
                pieces.append((start, stop, _retext(text, start, stop, slot)))
        for i, kind in restyled.items():
            cell = cells[i]
            if cell.sheet != sheet:
                continue
            start, stop = xml.cells[(cell.row, cell.col)]
            ref = xl_rowcol_to_cell_fast(cell.row, cell.col)
            xf = skeleton.style_xf[cell.style]
            if kind == "s":
                element = f'<c r="{ref}" s="{xf}" t="s"><v>{table[cell.value]}</v></c>'
            elif kind == "n":
                element = f'<c r="{ref}" s="{xf}"><v>{_value(cell.value):.16G}</v></c>'
            else:
                element = f'<c r="{ref}" s="{xf}"/>'
            pieces.append((start, stop, element.encode("utf-8")))
        for i, value in numbers.items():
            cell = cells[i]
            if cell.sheet != sheet or i in restyled:
                continue
            start, stop = xml.cells[(cell.row, cell.col)]
            opening = text[start : text.index(b">", start) + 1]
            pieces.append((start, stop, opening + f"<v>{_value(value):.16G}</v></c>".encode("ascii")))
        if not pieces:
            continue
        pieces.sort()
        pos, out = 0, []
        for start, stop, new in pieces:
            if start < pos:
                raise _Misfit  # two edits of one place: not a layout this writer knows
            out.append(text[pos:start])
            out.append(new)
            pos = stop
        out.append(text[pos:])
        parts[xml.part] = b"".join(out)

    fragments = skeleton.fragments
    head = re.sub(r'count="\d+" uniqueCount="\d+"', f'count="{count}" uniqueCount="{len(table)}"', skeleton.sst_head, count=1)
    parts["xl/sharedStrings.xml"] = head.encode("utf-8") + b"".join([fragments.get(t) or _si(t).encode("utf-8") for t in table]) + b"</sst>"
    props = document_properties(plan)
    core = _replace_tag(skeleton.core, "dc:title", props["title"])
    core = _replace_tag(core, "dc:description", props["comments"])
    parts["docProps/core.xml"] = core.encode("utf-8")
    parts["docProps/app.xml"] = _replace_tag(skeleton.app, "Company", props["company"]).encode("utf-8")

    return _splice([_recompressed(e, parts[e.name]) if e.name in parts else e for e in skeleton.entries])


def _same_numbering(xf_places: dict[int, list[tuple]], formats: list[tuple[tuple, int, int]]) -> bool:
    """Whether xlsxwriter numbers the formats as in the skeleton when these cells change format.
    It numbers them in the order they are first written (sheet by sheet, row by row): the order
    must stay, and no format may vanish (styles.xml would lose it)."""
    removed: dict[int, set] = {}
    added: dict[int, tuple] = {}
    for place, old, new in formats:
        removed.setdefault(old, set()).add(place)
        added[new] = min(added.get(new, place), place)
    first = {xf: places[0] for xf, places in xf_places.items()}
    for xf, gone in removed.items():
        if first[xf] in gone:
            first[xf] = next((p for p in xf_places[xf] if p not in gone), None)
    for xf, place in added.items():
        first[xf] = place if first[xf] is None else min(first[xf], place)
    if None in first.values():
        return False
    before = sorted(xf_places, key=lambda xf: xf_places[xf][0])
    return sorted(first, key=first.__getitem__) == before


def _restyled_places(cells, restyled: dict[int, str], sheet: str) -> set[tuple[int, int]]:
    return {(cells[i].row, cells[i].col) for i in restyled if cells[i].sheet == sheet}


def _retext(text: bytes, start: int, stop: int, slot: int) -> bytes:
    """A text cell's element pointing at another slot of the string table."""
    value = text.index(b"<v>", start, stop)
    return text[start:value] + b"<v>%d</v></c>" % slot


# ---------------------------------------------------------------- the writer


def _shape(plan: Plan) -> tuple:
    """Units of one shape have their cells in the same places; what differs (values, and a cell
    pre-filled in one and an input in another) is patched."""
    return (plan.framework, plan.unit.kind, len(plan.unit.projects), len(plan.cells), tuple(s.name for s in plan.sheets))


SKELETONS_PER_SHAPE = 4


class TemplateWriter:
    """Writes blank templates; keeps a few skeletons per framework and shape it has seen."""

    def __init__(self, key: bytes | None = None):
        from xltool.template.signing import current_key

        self.key = current_key() if key is None else key
        self.skeletons: dict[tuple, list[_Skeleton]] = {}
        self.fast = 0  # units written from a skeleton
        self.plain = 0  # units written by the plain writer (a skeleton's own, or misfits)

    def render(self, plan: Plan) -> bytes:
        shape = _shape(plan)
        kept = self.skeletons.setdefault(shape, [])
        for n, skeleton in enumerate(kept):
            try:
                data = _fast_bytes(skeleton, plan, self.key)
            except _Misfit:
                skeleton.misfits += 1
                continue
            skeleton.fits += 1
            self.fast += 1
            if n:  # the skeleton that fits goes first next time
                kept.insert(0, kept.pop(n))
            return data
        self.plain += 1
        if len(kept) < SKELETONS_PER_SHAPE:
            # An odd first unit (named like its own project, say, or without a style the others
            # use) would send every later unit to the plain writer: this one becomes a skeleton too.
            try:
                skeleton, data = _build_skeleton(plan, self.key)
            except _Misfit:
                pass
            else:
                kept.insert(0, skeleton)
                return data
        buffer = io.BytesIO()
        _render(plan, buffer, {}, self.key)
        return buffer.getvalue()

    def write(self, plan: Plan, path: str | Path) -> Path:
        """Write atomically, as writer.write_plan does."""
        path = Path(path)
        data = self.render(plan)
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(data)
        return path


__all__ = ["TemplateWriter"]
