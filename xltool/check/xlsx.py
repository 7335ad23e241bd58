"""A small, defensive .xlsx reader: zip + lxml, values, formulas, locks and protection.

Why not openpyxl: it builds a full object model (≈16 ms for one template here) and trusts the
zip's declared sizes. This reader pulls only what the checker needs and never evaluates anything.
It reads; it never writes.

Bounded for any input (a returned template is ~30 KB zipped, its largest sheet ~100 KB of XML):
- The zip's central directory is only parsed when it cannot hold more than MAX_PARTS entries.
- Parts are inflated by this module, not by zipfile: stored or deflated only (bzip2 and lzma
  inflate unboundedly in one call), in 64 KB steps, with every limit enforced on the bytes as
  they come out — one part (MAX_PART_BYTES), all parts read (MAX_TOTAL_BYTES), the ratio
  inflated/compressed (MAX_RATIO) — so declared sizes, which can lie, are never relied on;
  CRC and size are checked at the end.
- A part up to MAX_TREE_BYTES is parsed whole (fast); a larger one is streamed (iterparse) and
  every element is dropped as soon as it has been read, so memory does not grow with its size.
  Cells, shared strings, styles, sheets, names and elements per part are counted and capped.
- DTDs and entities (billion laughs, external entities) are refused before and after parsing;
  only UTF-8 / UTF-16 documents are accepted (a UTF-7 DTD would hide from a byte scan); lxml
  itself never resolves entities nor touches the network.
- Legacy OLE files are told apart by their stream names (a real compound-file directory walk):
  an encrypted .xlsx (EncryptionInfo), a BIFF .xls (Workbook/Book, encrypted when FILEPASS), or
  another Office document.

Everything that goes wrong raises `XlsxError(code, detail)`; the codes are finding codes and the
details are short Chinese phrases shown inside the finding's message.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from xltool.core.messages import explain
from xltool.template.layout import col_letter, col_number

MB = 1024 * 1024

# ---------------------------------------------------------------- limits
MAX_FILE_BYTES = 50 * MB  # the file itself (a returned template is ~30 KB; pasted scans make MBs)
MAX_PART_BYTES = 16 * MB  # one inflated part (template sheets are < 0.1 MB of XML)
MAX_TREE_BYTES = 1 * MB  # parts up to this are parsed whole; larger ones are streamed
MAX_RELS_BYTES = 4 * MB  # one relationships part
MAX_TOTAL_BYTES = 32 * MB  # all inflated parts read from one file
MAX_RATIO = 200  # inflated / compressed, once a part passes RATIO_FLOOR
RATIO_FLOOR = 1 * MB
MAX_PARTS = 5_000  # zip entries
MAX_ELEMENTS = 1_000_000  # XML elements in one part (time bound for streamed parts)
MAX_CELLS = 50_000  # non-empty cells kept per sheet
MAX_BOOK_CELLS = 150_000  # non-empty cells kept per workbook
MAX_SHARED_STRINGS = 200_000
MAX_STYLES = 100_000  # cell formats (Excel's own limit is 64,000)
MAX_SHEETS = 1_000
MAX_NAMES = 20_000  # defined names
MAX_TEXT = 32_767  # characters in one cell (Excel's limit): longer text is cut
MAX_FORMULA = 8_192  # characters in one formula (Excel's limit): longer text is cut
MAX_NAME_TEXT = 8_192  # a defined name's reference text: longer names are ignored
_STEP = 64 * 1024

NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_M = "{%s}" % NS_MAIN
_R = "{%s}" % NS_REL
_C, _F, _V, _IS, _T, _RPH = (_M + t for t in ("c", "f", "v", "is", "t", "rPh"))
_PROT = _M + "sheetProtection"
_REL = "{%s}Relationship" % NS_PKG_REL

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False)
_PARSER = etree.XMLParser(remove_blank_text=False, collect_ids=False, **_PARSER_OPTIONS)


class XlsxError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


class Cell:
    """One cell as read. A shared formula's text is worked out on first use (few are ever asked
    for, and a hostile sheet may hold tens of thousands)."""

    __slots__ = ("value", "_formula", "style", "is_error", "_shared")

    def __init__(self, value: object = None, formula: str | None = None, style: int = 0, is_error: bool = False):
        self.value = value  # float | str | bool | None; errors as their text ("#DIV/0!")
        self._formula = formula
        self.style = style
        self.is_error = is_error
        self._shared: tuple[str, int, int] | None = None

    @property
    def formula(self) -> str | None:
        if self._shared is not None:
            master, drow, dcol = self._shared
            self._formula, self._shared = "=" + _translate(master, drow, dcol), None
        return self._formula

    @formula.setter
    def formula(self, text: str | None) -> None:
        self._formula, self._shared = text, None

    def __eq__(self, other):
        if not isinstance(other, Cell):
            return NotImplemented
        return (self.value, self.formula, self.style, self.is_error) == (other.value, other.formula, other.style, other.is_error)

    def __repr__(self):
        return f"Cell(value={self.value!r}, formula={self.formula!r}, style={self.style}, is_error={self.is_error})"


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
    date_styles: frozenset[int] = frozenset()  # cell formats that show a number as a date or time
    has_macros: bool = False
    has_external_links: bool = False
    part_count: int = 0
    shared_part: str | None = None
    shared: list[str] | None = field(default=None, repr=False)
    cell_count: int = 0
    duplicate_sheets: list[Sheet] = field(default_factory=list)  # a second <sheet> with a name already used
    percent_styles: frozenset[int] = frozenset()  # cell formats that show a number as a percent ("25%" typed is 0.25)


# ---------------------------------------------------------------- what a file is


def sniff(data_head: bytes) -> str | None:
    """A finding code for bytes that are not an .xlsx package at all, else None."""
    if not data_head:
        return "FILE_EMPTY"
    if data_head.startswith(OLE_MAGIC):
        return "FILE_OLE"  # legacy .xls or an encrypted OOXML: see ole_kind
    if not data_head.startswith(b"PK"):
        return "FILE_NOT_ZIP"
    return None


_HTML = re.compile(rb"<\s*(!doctype\s+html|html|head|body|table|meta)\b", re.IGNORECASE)


def describe(data: bytes) -> str:
    """What a file that is not an .xlsx package looks like, as a short Chinese phrase."""
    head = bytes(data[:4096])
    if not head:
        return "空文件"
    if head.startswith(OLE_MAGIC):
        return {
            "encrypted": "设置了打开密码的 Excel 工作簿",
            "xls_encrypted": "设置了打开密码的旧版 .xls 工作簿",
            "xls": "旧版 Excel 97-2003 工作簿（.xls）",
        }.get(ole_kind(data), "其他 Office 文档（如 Word .doc）")
    if head.startswith(b"PK"):
        return "压缩包"
    for magic, text in (
        (b"%PDF", "PDF 文件"), (b"\x89PNG", "PNG 图片"), (b"\xff\xd8\xff", "JPEG 图片"), (b"GIF8", "GIF 图片"),
        (b"{\\rtf", "RTF 文档"), (b"Rar!", "RAR 压缩包"), (b"7z\xbc\xaf", "7z 压缩包"), (b"\x1f\x8b", "gzip 压缩包"),
    ):
        if head.startswith(magic):
            return text
    text = _as_text(head)
    if text is None:
        return "一种无法识别的文件"
    lowered = text.lower()
    if _HTML.search(text.encode("utf-8", "replace")):
        return "HTML 网页（常见于从网页或业务系统导出后改了扩展名）"
    if lowered.lstrip().startswith("<?xml"):
        if "urn:schemas-microsoft-com:office:spreadsheet" in lowered:
            return "Excel 2003 XML 表格"
        return "XML 文本"
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if lines and sum(("," in line or "\t" in line or "，" in line) for line in lines) >= max(1, len(lines) // 2):
        return "CSV 或制表符分隔的文本（不是工作簿）"
    return "纯文本文件"  # each phrase reads after "看起来是" in FILE_NOT_ZIP


def _as_text(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head.decode("utf-16")
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError:
            # The head may end inside a multibyte character.
            try:
                text = head[:-3].decode(encoding)
            except UnicodeDecodeError:
                continue
        controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
        if controls <= len(text) // 100:
            return text
    return None


# ---------------------------------------------------------------- OLE compound files

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE


def ole_streams(data: bytes) -> list[str] | None:
    """Names in an OLE compound file's directory, or None when it is malformed.

    Bounded: every chain walk stops at a repeated sector or after as many sectors as the file
    has, and at most 10,000 directory entries are read."""
    try:
        if len(data) < 512 or not data.startswith(OLE_MAGIC):
            return None
        shift = struct.unpack_from("<H", data, 0x1E)[0]
        if shift not in (9, 12):
            return None
        size = 1 << shift
        sectors = (len(data) - 512) // size + 1
        fat_count, dir_start = struct.unpack_from("<II", data, 0x2C)
        difat_start, difat_count = struct.unpack_from("<II", data, 0x44)
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < sectors]
        seen = set()
        while difat_start < sectors and difat_start not in seen and len(seen) < sectors:
            seen.add(difat_start)
            entries = struct.unpack_from(f"<{size // 4}I", data, 512 + difat_start * size)
            fat_sectors.extend(s for s in entries[:-1] if s < sectors)
            difat_start = entries[-1]
        fat_sectors = fat_sectors[: min(max(fat_count, 1), sectors)]

        def fat(sector: int) -> int:
            index, offset = divmod(sector, size // 4)
            if index >= len(fat_sectors):
                return _END_OF_CHAIN
            where = 512 + fat_sectors[index] * size + offset * 4
            return struct.unpack_from("<I", data, where)[0] if where + 4 <= len(data) else _END_OF_CHAIN

        names: list[str] = []
        sector, visited = dir_start, set()
        while sector < sectors and sector not in visited and len(names) < 10_000:
            visited.add(sector)
            base = 512 + sector * size
            for k in range(size // 128):
                entry = data[base + k * 128 : base + (k + 1) * 128]
                if len(entry) < 128:
                    break
                length = struct.unpack_from("<H", entry, 64)[0]
                kind = entry[66]
                if kind in (1, 2, 5) and 2 <= length <= 64:
                    names.append(entry[: length - 2].decode("utf-16-le", "replace"))
            sector = fat(sector)
        return names or None
    except (struct.error, IndexError, ValueError):
        return None


def _ole_stream_head(data: bytes, name: str, limit: int = 4096) -> bytes:
    """The first bytes of a regular (not mini) stream, following the FAT; b"" when not found."""
    try:
        shift = struct.unpack_from("<H", data, 0x1E)[0]
        size = 1 << shift
        sectors = (len(data) - 512) // size + 1
        fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s < sectors]
        dir_start = struct.unpack_from("<I", data, 0x30)[0]
        cutoff = struct.unpack_from("<I", data, 0x38)[0]

        def fat(sector: int) -> int:
            index, offset = divmod(sector, size // 4)
            if index >= len(fat_sectors):
                return _END_OF_CHAIN
            where = 512 + fat_sectors[index] * size + offset * 4
            return struct.unpack_from("<I", data, where)[0] if where + 4 <= len(data) else _END_OF_CHAIN

        sector, visited = dir_start, set()
        while sector < sectors and sector not in visited:
            visited.add(sector)
            base = 512 + sector * size
            for k in range(size // 128):
                entry = data[base + k * 128 : base + (k + 1) * 128]
                length = struct.unpack_from("<H", entry, 64)[0] if len(entry) == 128 else 0
                if entry[66:67] == b"\x02" and 2 <= length <= 64 and entry[: length - 2].decode("utf-16-le", "replace") == name:
                    start, stream_size = struct.unpack_from("<II", entry, 0x74)
                    if stream_size < cutoff:
                        return b""  # in the mini stream: not needed for what we look at
                    out, s, seen = [], start, set()
                    while s < sectors and s not in seen and sum(map(len, out)) < limit:
                        seen.add(s)
                        out.append(data[512 + s * size : 512 + (s + 1) * size])
                        s = fat(s)
                    return b"".join(out)[: min(limit, stream_size)]
            sector = fat(sector)
    except (struct.error, IndexError, ValueError):
        pass
    return b""


def _biff_has_filepass(head: bytes) -> bool:
    """A BIFF workbook stream is encrypted when FILEPASS (0x002F) follows its first BOF."""
    pos = 0
    for _ in range(8):
        if pos + 4 > len(head):
            return False
        rtype, length = struct.unpack_from("<HH", head, pos)
        if rtype == 0x002F:
            return True
        if pos and rtype not in (0x0086,):  # WriteProtect may come between BOF and FILEPASS
            return False
        pos += 4 + length
    return False


def ole_kind(data: bytes) -> str:
    """"encrypted" (an encrypted OOXML package), "xls" (a BIFF workbook), "xls_encrypted"
    (a BIFF workbook with a password to open), or "other" (another Office document)."""
    names = ole_streams(data)
    if names is None:  # a broken directory: fall back to looking for the names anywhere
        if ole_is_encrypted_scan(data):
            return "encrypted"
        return "xls" if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data else "other"
    if "EncryptionInfo" in names or "EncryptedPackage" in names:
        return "encrypted"
    for stream in ("Workbook", "Book"):
        if stream in names:
            return "xls_encrypted" if _biff_has_filepass(_ole_stream_head(data, stream)) else "xls"
    return "other"


def ole_code(data: bytes) -> str:
    """The finding code for an OLE compound file: a password (FILE_ENCRYPTED), a legacy .xls
    (FILE_XLS_LEGACY), or another Office document such as a Word .doc (FILE_NOT_ZIP)."""
    kind = ole_kind(data)
    if kind in ("encrypted", "xls_encrypted"):
        return "FILE_ENCRYPTED"
    return "FILE_XLS_LEGACY" if kind == "xls" else "FILE_NOT_ZIP"


def ole_is_encrypted_scan(data: bytes) -> bool:
    return "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data


def ole_is_encrypted(data: bytes) -> bool:
    """An encrypted .xlsx (EncryptionInfo / EncryptedPackage streams) or an .xls with a password."""
    return ole_kind(data) in ("encrypted", "xls_encrypted")


# ---------------------------------------------------------------- the zip package


def _clip(text: object, limit: int = 60) -> str:
    """Text from a file, made safe to quote in a message: no control characters, short."""
    out = "".join(ch if ch.isprintable() else "?" for ch in str(text))
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _mb(n: int) -> str:
    return f"{n / MB:.0f} MB" if n >= MB else f"{n // 1024} KB"


def _too_many_parts(count: int) -> str:
    return f"工作簿内部有 {count} 个以上的部件（图片、对象等），上限 {MAX_PARTS} 个，通常是粘贴了大量图片或对象"


def _directory_entries(data: bytes) -> int:
    """How many entries zipfile would build: the central-directory signatures inside the central
    directory only. The same four bytes anywhere else (inside a stored image or embedded object)
    are part data, not entries, and must not make a valid workbook look like an attack."""
    tail = max(0, len(data) - 65_557)  # the end record sits in the last 22 bytes + a comment
    end = data.rfind(b"PK\x05\x06", tail)
    if end < 0 or end + 22 > len(data):
        return data.count(b"PK\x01\x02")  # no end record: zipfile will refuse it anyway
    size = struct.unpack_from("<I", data, end + 12)[0]
    if size == 0xFFFFFFFF:  # zip64: the size is elsewhere; count everything, as before
        return data.count(b"PK\x01\x02")
    start = max(0, end - size - 76)  # a zip64 end record and locator may sit in between
    return data.count(b"PK\x01\x02", start, end)


class _Package:
    def __init__(self, data: bytes):
        self.data = data
        # zipfile builds one object per central-directory entry before anything can be checked;
        # each entry starts with this signature, so this bounds what it will build.
        entries = _directory_entries(data)
        if entries > MAX_PARTS:
            raise XlsxError("FILE_TOO_LARGE", _too_many_parts(entries))
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            infos = archive.infolist()
        except Exception as exc:  # BadZipFile, struct.error, UnicodeDecodeError, …
            raise XlsxError("FILE_CORRUPT", f"不是完整的压缩包：{explain(exc)}") from None
        if len(infos) > MAX_PARTS:
            raise XlsxError("FILE_TOO_LARGE", _too_many_parts(len(infos)))
        self.infos: dict[str, zipfile.ZipInfo] = {}
        self.lower: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            key = info.filename.lower()
            if key in self.lower:  # two parts of one name: which would Excel read? Neither.
                raise XlsxError("FILE_CORRUPT", f"部件 {_clip(info.filename)} 重复出现")
            self.infos[info.filename] = info
            self.lower[key] = info
        self.read_total = 0

    def has(self, name: str) -> bool:
        return name in self.infos or name.lower() in self.lower

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = self.infos.get(name) or self.lower.get(name.lower())
        if info is None:
            raise XlsxError("FILE_CORRUPT", f"缺少部件 {_clip(name)}")
        return info

    def chunks(self, name: str, limit: int = MAX_PART_BYTES, too_large: str = "FILE_TOO_LARGE"):
        """The part's inflated bytes in steps of at most 64 KB, every limit enforced as they come."""
        info = self._info(name)
        shown = _clip(name)
        if info.flag_bits & 0x1:
            raise XlsxError("FILE_ENCRYPTED", shown)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise XlsxError("FILE_CORRUPT", f"{shown} 使用了不支持的压缩方式（{info.compress_type}）")
        compressed = max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * compressed:
            raise XlsxError("FILE_ZIP_BOMB", f"{shown} 声明解压后 {_mb(info.file_size)}，压缩比超过 {MAX_RATIO}")
        if info.file_size > limit:
            raise XlsxError(too_large, f"{shown} 解压后 {_mb(info.file_size)}，上限 {_mb(limit)}")
        data = self.data
        start = info.header_offset
        if start < 0 or start + 30 > len(data) or data[start : start + 4] != b"PK\x03\x04":
            raise XlsxError("FILE_CORRUPT", f"{shown} 的本地文件头损坏")
        name_len, extra_len = struct.unpack_from("<HH", data, start + 26)
        begin = start + 30 + name_len + extra_len
        end = begin + info.compress_size
        if end > len(data):
            raise XlsxError("FILE_CORRUPT", f"{shown} 数据不完整（文件被截断）")
        raw = memoryview(data)[begin:end]
        size, crc, consumed = 0, 0, 0
        inflater = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        pos = 0
        try:
            while True:
                if inflater is None:
                    if pos >= len(raw):
                        break
                    out = bytes(raw[pos : pos + _STEP])
                    pos += len(out)
                    consumed = pos
                else:
                    if inflater.eof:
                        break
                    if inflater.unconsumed_tail:
                        source = inflater.unconsumed_tail
                    elif pos < len(raw):
                        source = raw[pos : pos + _STEP]
                        pos += len(source)
                    else:
                        raise XlsxError("FILE_CORRUPT", f"{shown} 数据不完整（文件被截断）")
                    out = inflater.decompress(source, _STEP)
                    consumed = pos - len(inflater.unconsumed_tail)
                    if not out and inflater.unconsumed_tail and len(inflater.unconsumed_tail) >= len(source):
                        raise XlsxError("FILE_CORRUPT", f"{shown} 无法解压")
                if not out:
                    continue
                size += len(out)
                self.read_total += len(out)
                # Enforced on what actually comes out, against the compressed bytes consumed so
                # far: the declared sizes can lie.
                if size > RATIO_FLOOR and size > MAX_RATIO * max(consumed, 1):
                    raise XlsxError("FILE_ZIP_BOMB", f"{shown} 解压后超过 {_mb(size)}，压缩比超过 {MAX_RATIO}")
                if size > limit:
                    raise XlsxError(too_large, f"{shown} 解压后超过 {_mb(limit)}")
                if self.read_total > MAX_TOTAL_BYTES:
                    raise XlsxError("FILE_TOO_LARGE", f"解压后的内容合计超过 {_mb(MAX_TOTAL_BYTES)}")
                crc = zlib.crc32(out, crc)
                yield out
        except zlib.error as exc:
            raise XlsxError("FILE_CORRUPT", f"{shown} 无法解压：{explain(exc)}") from None
        if size != info.file_size or crc != info.CRC:
            raise XlsxError("FILE_CORRUPT", f"{shown} 校验不符（文件损坏或被截断）")

    def read(self, name: str, limit: int = MAX_PART_BYTES, too_large: str = "FILE_TOO_LARGE") -> bytes:
        return b"".join(self.chunks(name, limit, too_large))

    def xml(self, name: str, limit: int = MAX_TREE_BYTES):
        return parse_xml(self.read(name, limit), name)

    def elements(self, name: str, tags: tuple[str, ...], limit: int = MAX_PART_BYTES, too_large: str = "FILE_TOO_LARGE"):
        """Every element of the part whose tag is in tags, each complete with its children.

        A part up to MAX_TREE_BYTES is parsed whole; a larger one is streamed, and every element
        outside a wanted one is dropped as soon as it ends (and a wanted one once handled)."""
        chunks = self.chunks(name, limit, too_large)
        head, complete = [], True
        got = 0
        for chunk in chunks:
            head.append(chunk)
            got += len(chunk)
            if got > MAX_TREE_BYTES:
                complete = False
                break
        data = b"".join(head)
        if complete:
            # lxml's own iterator, handed on: no Python step per element. A whole-parsed part
            # (at most MAX_TREE_BYTES, 4 bytes an element at least) cannot reach MAX_ELEMENTS.
            return parse_xml(data, name).iter(*tags)
        return _stream(_ChunkReader(data, chunks, name), name, frozenset(tags), too_large)


_DTD_MARKS = tuple(
    mark.encode(enc) for mark in ("<!DOCTYPE", "<!ENTITY", "<!doctype", "<!entity") for enc in ("ascii", "utf-16-le", "utf-16-be")
)
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_ALLOWED_ENCODINGS = {"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "us-ascii", "ascii"}


def _check_prolog(data: bytes, name: str) -> None:
    """Only UTF-8 or UTF-16 (what OOXML allows): any other declared encoding could hide a DTD
    from the byte scan."""
    head = bytes(data[:200])
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")):
        return  # UTF-16, scanned in both byte orders
    head = head.removeprefix(b"\xef\xbb\xbf")
    m = _ENCODING.match(head)
    if m and m.group(1).decode("ascii").lower() not in _ALLOWED_ENCODINGS:
        raise XlsxError("FILE_XML_UNSAFE", f"{_clip(name)} 使用了不允许的字符编码 {_clip(m.group(1).decode('ascii'), 20)}")


def _has_dtd_mark(data) -> bool:
    # Every mark begins with "<!" in its encoding ("<\0!" in UTF-16): only the "!"s, rare in a
    # part (a formula's sheet reference), are looked at before the twelve scans.
    bang = data.find(b"!")
    while bang != -1:
        if bang and (data[bang - 1] == 0x3C or (bang > 1 and data[bang - 1] == 0 and data[bang - 2] == 0x3C)):
            return any(mark in data for mark in _DTD_MARKS)
        bang = data.find(b"!", bang + 1)
    return False


def _refuse_dtd(tree, name: str) -> None:
    info = tree.docinfo
    if info.internalDTD is not None or info.externalDTD is not None or info.doctype or info.system_url or info.public_id:
        raise XlsxError("FILE_XML_UNSAFE", f"{_clip(name)} 含有 DTD 声明")


def parse_xml(data: bytes, name: str = ""):
    """A whole (small) part → its root element; OOXML never carries a DTD: any DOCTYPE or
    ENTITY is an attack (billion laughs, XXE) and is refused."""
    _check_prolog(data, name)
    if _has_dtd_mark(data):
        raise XlsxError("FILE_XML_UNSAFE", f"{_clip(name)} 含有 DTD 或实体声明")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XlsxError("FILE_CORRUPT", f"{_clip(name)} 不是有效的 XML：{explain(exc)}") from None
    except ValueError:  # e.g. "can only parse strings" or an encoding lxml refuses
        raise XlsxError("FILE_CORRUPT", f"{_clip(name)} 的文字编码无法识别") from None
    _refuse_dtd(root.getroottree(), name)
    return root


class _ChunkReader:
    """A file-like view of a part's chunks for iterparse; scans every byte for DTD marks."""

    def __init__(self, head: bytes, chunks, name: str):
        _check_prolog(head, name)
        self.pending = head
        self.chunks = chunks
        self.name = name
        self.tail = b""

    def read(self, n: int = -1) -> bytes:
        if not self.pending:
            self.pending = next(self.chunks, b"")
            if not self.pending:
                return b""
        if n is None or n < 0 or n >= len(self.pending):
            out, self.pending = self.pending, b""
        else:
            out, self.pending = self.pending[:n], self.pending[n:]
        window = self.tail + out
        if _has_dtd_mark(window):
            raise XlsxError("FILE_XML_UNSAFE", f"{_clip(self.name)} 含有 DTD 或实体声明")
        self.tail = window[-20:]
        return out


def _stream(reader: _ChunkReader, name: str, tags: frozenset, too_large: str):
    inside = count = 0
    checked = False
    try:
        for event, el in etree.iterparse(
            reader, events=("start", "end"), collect_ids=False, remove_comments=True, remove_pis=True, **_PARSER_OPTIONS
        ):
            if not checked:
                _refuse_dtd(el.getroottree(), name)
                checked = True
            if event == "start":
                count += 1
                if count > MAX_ELEMENTS:
                    raise XlsxError(too_large, f"{_clip(name)} 含有超过 {MAX_ELEMENTS} 个元素")
                if el.tag in tags:
                    inside += 1
                continue
            if el.tag in tags:
                inside -= 1
                yield el
            elif inside:
                continue  # part of a wanted element: kept until that one has been handled
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise XlsxError("FILE_CORRUPT", f"{_clip(name)} 不是有效的 XML：{explain(exc)}") from None


def _rels(pkg: _Package, part: str) -> dict[str, tuple[str, str, bool]]:
    """Relationship id → (type, absolute target, external) for a part."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    if not pkg.has(rels_name):
        return {}
    out = {}
    for rel in pkg.elements(rels_name, (_REL,), MAX_RELS_BYTES):
        if len(out) >= MAX_PARTS:
            raise XlsxError("FILE_CORRUPT", f"{_clip(rels_name)} 含有过多关系")
        target = rel.get("Target", "") or ""
        external = rel.get("TargetMode") == "External"
        if external:
            absolute = target
        elif target.startswith("/"):
            absolute = target.lstrip("/")
        else:
            absolute = posixpath.normpath(posixpath.join(folder, target))
        out[rel.get("Id", "")] = (rel.get("Type", "") or "", absolute, external)
    return out


def _what_package(pkg: _Package) -> str:
    names = set(pkg.lower)
    if "word/document.xml" in names:
        return "这是 Word 文档（.docx），不是工作簿"
    if "ppt/presentation.xml" in names:
        return "这是 PowerPoint 演示文稿，不是工作簿"
    if "content.xml" in names and "mimetype" in names:
        try:
            kind = pkg.read("mimetype", 200).decode("ascii", "replace")
        except XlsxError:
            kind = ""
        if "spreadsheet" in kind:
            return "这是 OpenDocument 表格（.ods），请在 LibreOffice 或 WPS 中另存为 .xlsx"
        return "这是 OpenDocument 文档，不是工作簿"
    return "压缩包中没有工作簿"


_STRICT_NS = b"purl.oclc.org/ooxml/spreadsheetml/main"


def _not_workbook(pkg: _Package, workbook_part: str) -> XlsxError:
    """Why a package holds no (transitional) workbook: an .ods spreadsheet (FILE_ODS), an Excel
    workbook saved as "Strict Open XML" (FILE_STRICT_OOXML), or something else (NOT_WORKBOOK)."""
    if pkg.has("mimetype") and pkg.has("content.xml"):
        try:
            kind = pkg.read("mimetype", 200)
        except XlsxError:
            kind = b""
        if b"opendocument.spreadsheet" in kind:
            return XlsxError("FILE_ODS", "OpenDocument 表格（.ods）")
    if pkg.has(workbook_part):
        try:
            head = next(iter(pkg.chunks(workbook_part, MAX_PART_BYTES)), b"")
        except XlsxError:
            head = b""
        if _STRICT_NS in head[:4096]:
            return XlsxError("FILE_STRICT_OOXML", "Strict Open XML 电子表格")
    return XlsxError("NOT_WORKBOOK", _what_package(pkg))


_MACRO_RELS = ("/vbaProject", "/xlMacrosheet", "/xlIntlMacrosheet", "/macrosheet")


def open_book(data: bytes) -> tuple[Book, _Package]:
    """Read the workbook part, its relationships, names and styles (not the sheets yet)."""
    if len(data) > MAX_FILE_BYTES:
        raise XlsxError("FILE_TOO_LARGE", f"文件大小 {_mb(len(data))}，上限 {_mb(MAX_FILE_BYTES)}")
    kind = sniff(bytes(data[:8]))
    if kind == "FILE_OLE":
        raise XlsxError(ole_code(data), describe(data))
    if kind:
        raise XlsxError(kind, describe(data))
    pkg = _Package(data)
    workbook_part = "xl/workbook.xml"
    for rtype, target, external in _rels(pkg, "").values():
        if rtype.endswith("/officeDocument") and not external and pkg.has(target):
            workbook_part = target
    if not pkg.has(workbook_part):
        raise _not_workbook(pkg, workbook_part)
    rels = _rels(pkg, workbook_part)
    sheets: dict[str, Sheet] = {}
    if not workbook_part.lower().startswith("xl/") and not pkg.has("xl/workbook.xml"):
        raise _not_workbook(pkg, workbook_part)
    names: dict[str, str] = {}
    duplicates: list[Sheet] = []
    for el in pkg.elements(workbook_part, (_M + "sheet", _M + "definedName")):
        if el.tag == _M + "sheet":
            if len(sheets) >= MAX_SHEETS:
                raise XlsxError("FILE_TOO_LARGE", f"工作表超过 {MAX_SHEETS} 个，模板只有几个工作表")
            rid = el.get(_R + "id", "") or ""
            _rtype, target, external = rels.get(rid, ("", "", False))
            name = el.get("name", "") or ""
            if name not in sheets:
                sheets[name] = Sheet(name, el.get("state", "visible") or "visible", "" if external else target)
            else:
                duplicates.append(Sheet(name, el.get("state", "visible") or "visible", "" if external else target))
        else:
            name = el.get("name")
            text = el.text or ""
            if len(names) >= MAX_NAMES:
                raise XlsxError("FILE_TOO_LARGE", f"定义名称超过 {MAX_NAMES} 个，通常是从其他工作簿复制了工作表或单元格")
            if el.get("localSheetId") is None and name and len(text) <= MAX_NAME_TEXT:
                names[name] = text.strip()
    if not sheets:  # a workbook has at least one sheet: this is some other package
        raise _not_workbook(pkg, workbook_part)
    lowered = list(pkg.lower)
    has_macros = any(p.endswith("vbaproject.bin") or p.startswith("xl/macrosheets/") for p in lowered) or any(
        t.endswith(_MACRO_RELS) for t, _x, _e in rels.values()
    )
    has_links = any(t.endswith("/externalLink") for t, _x, _e in rels.values()) or any(p.startswith("xl/externallinks/") for p in lowered)
    styles_part = next((target for t, target, _e in rels.values() if t.endswith("/styles")), None)
    unlocked, dates, percents = _styles(pkg, styles_part)
    shared_part = next((target for t, target, _e in rels.values() if t.endswith("/sharedStrings")), None)
    book = Book(sheets, names, unlocked, dates, has_macros, has_links, len(pkg.infos), shared_part=shared_part, duplicate_sheets=duplicates,
                percent_styles=percents)
    return book, pkg


# Excel's built-in number formats that show a date or a time (ECMA-376 18.8.30, with the CJK ones)
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)])
_PERCENT_FORMAT_IDS = frozenset([9, 10])  # Excel's built-in "0%" and "0.00%"
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')  # literal text, [colour]/[$-804], escapes, padding


def is_date_format(code: str) -> bool:
    """A custom number format that shows a date or time: y, m, d, h or s outside its literal text
    ("yyyy-mm-dd", 'yyyy"年"m"月"d"日"'); "0.00", '#,##0"万元"' and "@" are not."""
    section = _QUOTED.sub("", code.split(";")[0]).lower()
    return section != "general" and any(ch in section for ch in "ymdhs")


def is_percent_format(code: str) -> bool:
    """A custom number format that shows a number × 100 with a % sign ("0.00%"), outside its
    literal text ('0"%"' shows the number as it is)."""
    return "%" in _QUOTED.sub("", code.split(";")[0])


def _styles(pkg: _Package, part: str | None) -> tuple[frozenset[int], frozenset[int], frozenset[int]]:
    """(unlocked, dates, percents): the cell formats (cellXfs indexes) whose cells are unlocked,
    those that show a number as a date or time (a date pasted into a number cell brings its
    format), and those that show it as a percent (Excel and Calc keep "25%" typed as 0.25 so)."""
    if not part or not pkg.has(part):
        return frozenset(), frozenset(), frozenset()
    unlocked, dates, percents = set(), set(), set()
    date_ids = {str(i) for i in _DATE_FORMAT_IDS}
    percent_ids = {str(i) for i in _PERCENT_FORMAT_IDS}
    index = 0
    for xf in pkg.elements(part, (_M + "numFmt", _M + "xf")):
        if xf.tag == _M + "numFmt":
            code = xf.get("formatCode") or ""
            if is_date_format(code):
                date_ids.add(xf.get("numFmtId"))
            elif is_percent_format(code):
                percent_ids.add(xf.get("numFmtId"))
            continue
        parent = xf.getparent()
        if parent is None or parent.tag != _M + "cellXfs":
            continue
        prot = xf.find(_M + "protection")
        if prot is not None and prot.get("locked") in ("0", "false"):
            unlocked.add(index)
        format_id = (xf.get("numFmtId") or "0").strip()
        if format_id in date_ids:
            dates.add(index)
        elif format_id in percent_ids:
            percents.add(index)
        index += 1
        if index > MAX_STYLES:
            raise XlsxError("FILE_TOO_LARGE", f"单元格格式超过 {MAX_STYLES} 种，通常是从其他工作簿复制粘贴了大量格式")
    return frozenset(unlocked), frozenset(dates), frozenset(percents)


def _shared_strings(book: Book, pkg: _Package) -> list[str]:
    if book.shared is None:
        strings: list[str] = []
        part = book.shared_part
        if part and pkg.has(part):
            for si in pkg.elements(part, (_M + "si",), MAX_PART_BYTES, "SHEET_TOO_LARGE"):
                if len(strings) >= MAX_SHARED_STRINGS:
                    raise XlsxError("SHEET_TOO_LARGE", f"共享文字超过 {MAX_SHARED_STRINGS} 条")
                strings.append(_rich_text(si))
        book.shared = strings
    return book.shared


def _rich_text(el) -> str:
    # Plain <t>, or runs <r><t>; phonetic runs <rPh> are not part of the text.
    t = el.find(_T)
    if t is not None and len(el) == 1:
        text = t.text or ""
    else:
        text = "".join((x.text or "") for x in el.iter(_T) if x.getparent() is None or x.getparent().tag != _RPH)
    if "_x" in text:
        text = decode_escapes(text)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT]


# Excel writes a character XML cannot hold (a control character) as _xHHHH_ in shared and inline
# strings, and a literal "_xHHHH_" typed by a user as "_x005F_xHHHH_" (the underscore escaped).
_ESCAPE = re.compile("_x([0-9A-Fa-f]{4})_")
# Not allowed in XML 1.0 (and refused by python-docx and lxml): dropped, as the drafts do.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def decode_escapes(text: str) -> str:
    """Excel's _xHHHH_ escapes decoded as Excel reads them (left to right, each escape once);
    characters XML cannot hold are dropped, so the text can go into any report."""
    return _NOT_XML.sub("", _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))


_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d{1,7})$")


@lru_cache(maxsize=65536)
def parse_ref(ref: str) -> tuple[int, int]:
    """"B4" → (3, 1); ValueError for anything outside A1:XFD1048576."""
    m = _REF.match(ref.upper())
    if not m:
        raise ValueError(ref)
    letters, digits = m.groups()
    col = col_number(letters)
    row = int(digits)
    if not (1 <= row <= 1_048_576 and 0 <= col < 16_384):
        raise ValueError(ref)
    return row - 1, col


def load_sheet(book: Book, pkg: _Package, name: str) -> Sheet:
    sheet = book.sheets[name]
    if sheet.loaded:
        return sheet
    if not sheet.path or not pkg.has(sheet.path):
        raise XlsxError("FILE_CORRUPT", f"工作表“{_clip(name, 31)}”缺少内容部件")
    shared = None
    masters: dict[str, tuple[int, int, str]] = {}
    cells = sheet.cells
    kept = 0
    protected = False
    # The loop below runs once per cell of every sheet read: names are bound locally and each
    # cell's children are visited once (instead of three find() calls).
    C, F, V, IS, PROT = _C, _F, _V, _IS, _PROT
    ref_of = parse_ref
    number_of = _number
    limit_book = MAX_BOOK_CELLS - book.cell_count
    for c in pkg.elements(sheet.path, (C, PROT), MAX_PART_BYTES, "SHEET_TOO_LARGE"):
        if c.tag == PROT:
            parent = c.getparent()
            if parent is not None and parent.getparent() is None:
                protected = c.get("sheet") in ("1", "true")
            continue
        if not len(c):
            continue  # a styled empty cell (inline strings always have a child): nothing to read
        get = c.get
        ref = get("r")
        if not ref:
            continue  # cells without a reference are legal but no spreadsheet program writes them
        try:
            pos = ref_of(ref)
        except ValueError:
            continue
        t = get("t", "n")
        s = get("s")
        if s is None:
            style = 0
        else:
            try:
                style = int(s or 0)
            except ValueError:
                style = 0
        f = v = is_ = None
        for child in c:  # the first of each, as find() would give
            tag = child.tag
            if tag == V:
                if v is None:
                    v = child
            elif tag == F:
                if f is None:
                    f = child
            elif tag == IS:
                if is_ is None:
                    is_ = child
        formula = None
        value = None
        is_error = False
        shared_formula = None
        if f is not None:
            formula, shared_formula = _formula_text(f, pos, masters)
        if t == "inlineStr":
            value = _rich_text(is_) if is_ is not None else ""
        elif v is not None:
            text = v.text
            if text is None:
                pass
            elif t == "n":
                value = number_of(text)
            elif t == "s":
                if shared is None:
                    shared = _shared_strings(book, pkg)
                try:
                    value = shared[int(text)]
                except (ValueError, IndexError):
                    value = None
            elif t in ("str", "d"):
                value = text[:MAX_TEXT]
            elif t == "b":
                value = text.strip() in ("1", "true")
            elif t == "e":
                value, is_error = text[:MAX_TEXT], True
            else:
                value = number_of(text)
        if value is None and formula is None and shared_formula is None:
            continue
        kept += 1
        if kept > MAX_CELLS:
            book.cell_count += kept
            raise XlsxError("SHEET_TOO_LARGE", f"工作表“{_clip(name, 31)}”有超过 {MAX_CELLS} 个非空单元格")
        if kept > limit_book:
            book.cell_count += kept
            raise XlsxError("SHEET_TOO_LARGE", f"各工作表合计超过 {MAX_BOOK_CELLS} 个非空单元格")
        cell = Cell(value, formula, style, is_error)
        if shared_formula is not None:
            cell._shared = shared_formula
        cells[pos] = cell
    book.cell_count += kept
    sheet.protected = protected
    sheet.loaded = True
    return sheet


def _number(text: str):
    """A numeric cell's text → float; anything a spreadsheet could not have written (text,
    NaN, infinities) stays text, for the checks to report."""
    if len(text) > 400:
        return text[:MAX_TEXT]
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    return number


def _formula_text(f, pos, masters) -> tuple[str | None, tuple[str, int, int] | None]:
    """(formula text, None), or (None, (master, Δrow, Δcol)) for a shared formula's child."""
    text = (f.text or "")[:MAX_FORMULA]
    if f.get("t") == "shared":
        si = f.get("si", "")
        if text:
            if len(masters) < MAX_CELLS:
                masters[si] = (pos[0], pos[1], text)
        elif si in masters:
            row, col, master = masters[si]
            return None, (master, pos[0] - row, pos[1] - col)
    return ("=" + text if text else "="), None


def _translate(formula: str, drow: int, dcol: int) -> str:
    """Shift the relative references of a shared formula's master to a child cell."""
    from openpyxl.formula.translate import Translator

    try:
        if dcol < 0 or drow < 0:
            return formula
        return Translator("=" + formula, origin="A1").translate_formula(f"{col_letter(dcol)}{1 + drow}")[1:]
    except Exception:  # noqa: BLE001 - a formula openpyxl cannot tokenise stays as written
        return formula


# ---------------------------------------------------------------- names


_NAME_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!']+))!(\$?[A-Z]{1,3}\$?\d+)(?::(\$?[A-Z]{1,3}\$?\d+))?$")


def parse_name_ref(text: str) -> tuple[str, tuple[int, int], tuple[int, int]] | None:
    """"'绩效指标'!$E$5:$E$24" → ("绩效指标", (4, 4), (23, 4)); None for #REF! and the like."""
    if len(text) > 300:
        return _parse_name_ref(text)
    return _parse_name_ref_cached(text)  # every file of a template defines the same names alike


@lru_cache(maxsize=4096)
def _parse_name_ref_cached(text: str):
    return _parse_name_ref(text)


def _parse_name_ref(text: str):
    text = text.strip().lstrip("=")
    if len(text) > 300:  # a sheet name has at most 31 characters: no reference is this long
        return None
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
