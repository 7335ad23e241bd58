"""A small, defensive .xlsx reader: zip + lxml, values, formulas, locks and protection.

Why not openpyxl: it builds a full object model (≈16 ms for one template here) and trusts the
zip's declared sizes. This reader pulls only what the checker needs, inflates every part with a
hard cap (declared sizes can lie), refuses DTDs and entities (OOXML never has them), and never
evaluates anything. It reads; it never writes.

Everything that goes wrong raises `XlsxError(code, detail)`; the codes are finding codes.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

# Limits: a returned template is ~30 KB zipped and well under 2 MB inflated.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_PART_BYTES = 40 * 1024 * 1024  # one inflated part
MAX_TOTAL_BYTES = 120 * 1024 * 1024  # all inflated parts read
MAX_RATIO = 200  # inflated / compressed for a part above 1 MB
MAX_CELLS = 200_000  # per sheet
MAX_PARTS = 5_000

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_M = "{%s}" % NS_MAIN
_R = "{%s}" % NS_REL

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, remove_blank_text=False
)


class XlsxError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


@dataclass
class Cell:
    value: object = None  # float | str | bool | None; errors as their text ("#DIV/0!")
    formula: str | None = None
    style: int = 0
    is_error: bool = False


@dataclass
class Sheet:
    name: str
    state: str  # visible | hidden | veryHidden
    path: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)  # 0-based (row, col)
    protected: bool = False
    loaded: bool = False


@dataclass
class Book:
    sheets: dict[str, Sheet]
    names: dict[str, str]  # workbook-scope defined names → reference text
    unlocked_styles: frozenset[int]
    has_macros: bool = False
    has_external_links: bool = False
    part_count: int = 0


# ---------------------------------------------------------------- opening


def sniff(data_head: bytes) -> str | None:
    """A finding code for bytes that are not an .xlsx package at all, else None."""
    if not data_head:
        return "FILE_EMPTY"
    if data_head.startswith(OLE_MAGIC):
        return "FILE_OLE"  # legacy .xls or an encrypted OOXML: told apart by the caller
    if not data_head.startswith(b"PK"):
        return "FILE_NOT_ZIP"
    return None


def ole_is_encrypted(data: bytes) -> bool:
    """An encrypted .xlsx is an OLE file holding EncryptionInfo / EncryptedPackage streams."""
    return "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data


class _Package:
    def __init__(self, data: bytes):
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise XlsxError("FILE_CORRUPT", str(exc)) from None
        if len(infos) > MAX_PARTS:
            raise XlsxError("FILE_ZIP_BOMB", f"{len(infos)} parts")
        self.infos = {i.filename: i for i in infos}
        self.read_total = 0

    def has(self, name: str) -> bool:
        return name in self.infos

    def read(self, name: str, limit: int = MAX_PART_BYTES) -> bytes:
        info = self.infos.get(name)
        if info is None:
            raise XlsxError("FILE_CORRUPT", f"missing part {name}")
        if info.flag_bits & 0x1:
            raise XlsxError("FILE_ENCRYPTED", name)
        chunks, size = [], 0
        try:
            with self.zip.open(info) as stream:
                while True:
                    chunk = stream.read(1 << 16)
                    if not chunk:
                        break
                    size += len(chunk)
                    self.read_total += len(chunk)
                    # Enforced while inflating: the declared size in the zip can lie.
                    if size > limit or self.read_total > MAX_TOTAL_BYTES:
                        raise XlsxError("FILE_ZIP_BOMB", f"{name} inflates beyond {limit} bytes")
                    if size > (1 << 20) and size > MAX_RATIO * max(info.compress_size, 1):
                        raise XlsxError("FILE_ZIP_BOMB", f"{name} compression ratio above {MAX_RATIO}")
                    chunks.append(chunk)
        except XlsxError:
            raise
        except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
            # zlib.error is an OSError subclass? No: catch it explicitly below.
            raise XlsxError("FILE_CORRUPT", f"{name}: {exc}") from None
        except Exception as exc:  # zlib.error and other inflate faults
            raise XlsxError("FILE_CORRUPT", f"{name}: {exc}") from None
        return b"".join(chunks)

    def xml(self, name: str, limit: int = MAX_PART_BYTES):
        return parse_xml(self.read(name, limit), name)


_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(data: bytes, name: str = ""):
    # OOXML never carries a DTD: any DOCTYPE/ENTITY is an attack (billion laughs, XXE).
    if _DTD.search(data[:4096]) or (b"<!ENTITY" in data) or (b"<!DOCTYPE" in data):
        raise XlsxError("FILE_XML_UNSAFE", name)
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XlsxError("FILE_CORRUPT", f"{name}: {exc}") from None


def _rels(pkg: _Package, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, absolute target) for a part."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    if not pkg.has(rels_name):
        return {}
    root = pkg.xml(rels_name)
    out = {}
    for rel in root.iter("{%s}Relationship" % NS_PKG_REL):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            absolute = target
        elif target.startswith("/"):
            absolute = target.lstrip("/")
        else:
            absolute = posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", ""), absolute)
    return out


def open_book(data: bytes) -> tuple[Book, _Package]:
    """Read the workbook part, its relationships, names and styles (not the sheets yet)."""
    if len(data) > MAX_FILE_BYTES:
        raise XlsxError("FILE_TOO_LARGE", f"{len(data)} bytes")
    pkg = _Package(data)
    workbook_part = "xl/workbook.xml"
    root_rels = _rels(pkg, "")
    for rtype, target in root_rels.values():
        if rtype.endswith("/officeDocument"):
            workbook_part = target
    if not pkg.has(workbook_part):
        raise XlsxError("NOT_WORKBOOK", "no workbook part")
    wb = pkg.xml(workbook_part)
    rels = _rels(pkg, workbook_part)
    sheets: dict[str, Sheet] = {}
    sheets_el = wb.find(_M + "sheets")
    for el in (sheets_el if sheets_el is not None else []):
        rid = el.get(_R + "id", "")
        rtype, target = rels.get(rid, ("", ""))
        name = el.get("name", "")
        sheets[name] = Sheet(name, el.get("state", "visible"), target)
    names: dict[str, str] = {}
    names_el = wb.find(_M + "definedNames")
    for el in (names_el if names_el is not None else []):
        if el.get("localSheetId") is None and el.get("name"):
            names[el.get("name")] = (el.text or "").strip()
    has_macros = any(p.lower().endswith("vbaproject.bin") for p in pkg.infos)
    has_links = any(t.endswith("/externalLink") for t, _ in rels.values()) or any(
        p.startswith("xl/externalLinks/") for p in pkg.infos
    )
    styles_part = next((target for t, target in rels.values() if t.endswith("/styles")), None)
    unlocked = _unlocked_styles(pkg, styles_part)
    book = Book(sheets, names, unlocked, has_macros, has_links, len(pkg.infos))
    book._shared = None  # type: ignore[attr-defined]
    book._shared_part = next((target for t, target in rels.values() if t.endswith("/sharedStrings")), None)  # type: ignore[attr-defined]
    return book, pkg


def _unlocked_styles(pkg: _Package, part: str | None) -> frozenset[int]:
    if not part or not pkg.has(part):
        return frozenset()
    root = pkg.xml(part)
    xfs = root.find(_M + "cellXfs")
    unlocked = set()
    for i, xf in enumerate(xfs if xfs is not None else []):
        prot = xf.find(_M + "protection")
        if prot is not None and prot.get("locked") in ("0", "false"):
            unlocked.add(i)
    return frozenset(unlocked)


def _shared_strings(book: Book, pkg: _Package) -> list[str]:
    if book._shared is None:  # type: ignore[attr-defined]
        strings: list[str] = []
        part = book._shared_part  # type: ignore[attr-defined]
        if part and pkg.has(part):
            root = pkg.xml(part)
            for si in root.iterchildren(_M + "si"):
                strings.append(_rich_text(si))
        book._shared = strings  # type: ignore[attr-defined]
    return book._shared  # type: ignore[attr-defined]


def _rich_text(el) -> str:
    # Plain <t>, or runs <r><t>; phonetic runs <rPh> are not part of the text.
    t = el.find(_M + "t")
    if t is not None and len(el) == 1:
        return t.text or ""
    return "".join((x.text or "") for x in el.iter(_M + "t") if x.getparent().tag != _M + "rPh")


_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")


@lru_cache(maxsize=65536)
def parse_ref(ref: str) -> tuple[int, int]:
    m = _REF.match(ref.upper())
    if not m:
        raise ValueError(ref)
    letters, digits = m.groups()
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(digits) - 1, col - 1


def load_sheet(book: Book, pkg: _Package, name: str) -> Sheet:
    sheet = book.sheets[name]
    if sheet.loaded:
        return sheet
    if not sheet.path or not pkg.has(sheet.path):
        raise XlsxError("FILE_CORRUPT", f"sheet {name} has no part")
    data = pkg.read(sheet.path)
    root = parse_xml(data, sheet.path)
    shared = None
    masters: dict[str, tuple[int, int, str]] = {}
    cells = sheet.cells
    data_el = root.find(_M + "sheetData")
    count = 0
    for row_el in (data_el if data_el is not None else []):
        for c in row_el:
            count += 1
            if count > MAX_CELLS:
                raise XlsxError("SHEET_TOO_LARGE", f"{name}: more than {MAX_CELLS} cells")
            if not len(c) and c.get("t") != "inlineStr":
                continue  # a styled empty cell: nothing to read
            ref = c.get("r")
            if not ref:
                continue  # cells without a reference are legal but our templates never write them
            try:
                pos = parse_ref(ref)
            except ValueError:
                continue
            t = c.get("t", "n")
            style = int(c.get("s", "0") or 0)
            formula = None
            value = None
            is_error = False
            f = c.find(_M + "f")
            if f is not None:
                formula = _formula_text(f, pos, masters)
            v = c.find(_M + "v")
            if t == "inlineStr":
                is_ = c.find(_M + "is")
                value = _rich_text(is_) if is_ is not None else ""
            elif v is not None and v.text is not None:
                text = v.text
                if t == "s":
                    if shared is None:
                        shared = _shared_strings(book, pkg)
                    try:
                        value = shared[int(text)]
                    except (ValueError, IndexError):
                        value = None
                elif t in ("str", "d"):
                    value = text
                elif t == "b":
                    value = text.strip() in ("1", "true")
                elif t == "e":
                    value, is_error = text, True
                else:
                    try:
                        value = float(text)
                    except ValueError:
                        value = text
            if value is None and formula is None:
                continue
            cells[pos] = Cell(value, formula, style, is_error)
    prot = root.find(_M + "sheetProtection")
    sheet.protected = prot is not None and prot.get("sheet") in ("1", "true")
    sheet.loaded = True
    return sheet


def _formula_text(f, pos, masters) -> str:
    text = f.text or ""
    if f.get("t") == "shared":
        si = f.get("si", "")
        if text:
            masters[si] = (pos[0], pos[1], text)
        elif si in masters:
            row, col, master = masters[si]
            text = _translate(master, pos[0] - row, pos[1] - col)
    return "=" + text if text else "="


def _translate(formula: str, drow: int, dcol: int) -> str:
    """Shift the relative references of a shared formula's master to a child cell."""
    from openpyxl.formula.translate import Translator

    try:
        origin = "A1"
        dest = f"{_col(dcol)}{1 + drow}" if dcol >= 0 and drow >= 0 else None
        if dest is None:
            return formula
        return Translator("=" + formula, origin=origin).translate_formula(dest)[1:]
    except Exception:
        return formula


def _col(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------- names


_NAME_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!']+))!(\$?[A-Z]{1,3}\$?\d+)(?::(\$?[A-Z]{1,3}\$?\d+))?$")


def parse_name_ref(text: str) -> tuple[str, tuple[int, int], tuple[int, int]] | None:
    """"'绩效指标'!$E$5:$E$24" → ("绩效指标", (4, 4), (23, 4)); None for #REF! and the like."""
    text = text.strip().lstrip("=")
    m = _NAME_REF.match(text)
    if not m:
        return None
    sheet = (m.group(1) or "").replace("''", "'") or m.group(2)
    try:
        start = parse_ref(m.group(3))
        end = parse_ref(m.group(4)) if m.group(4) else start
    except ValueError:
        return None
    return sheet, start, end
