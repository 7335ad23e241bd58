"""Hostile and broken files, made from valid filled templates: for the tests, the fuzz script
and the benchmark.

Every builder takes the folder to write into (and, where it needs one, a valid filled workbook
to start from) and returns the path it wrote. `CASES` lists the cases with the code and status
the checker must give; `Mutator` makes seed-deterministic mutations for fuzzing.
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
MB = 1024 * 1024


# ---------------------------------------------------------------- a raw zip writer


@dataclass
class Member:
    """One zip entry. `data` is the uncompressed content; `raw` (already deflated) with the
    declared `size` and `crc` lets a test write an entry whose declared sizes lie."""

    name: str
    data: bytes = b""
    raw: bytes | None = None
    size: int | None = None
    crc: int | None = None
    method: int = 8
    flags: int = 0x800  # names in UTF-8


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def zip_bytes(members: list[Member]) -> bytes:
    """A zip archive written field by field, so that anything in it can be made to lie."""
    out = io.BytesIO()
    central = []
    for m in members:
        if m.raw is not None:
            raw = m.raw
        elif m.method == 8:
            raw = deflate(m.data)
        else:
            raw = m.data
        size = len(m.data) if m.size is None else m.size
        crc = zlib.crc32(m.data) if m.crc is None else m.crc
        name = m.name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, m.flags, m.method, 0, 0x21, crc, len(raw) & 0xFFFFFFFF, size & 0xFFFFFFFF, len(name), 0))
        out.write(name)
        out.write(raw)
        central.append(
            struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, m.flags, m.method, 0, 0x21, crc, len(raw) & 0xFFFFFFFF, size & 0xFFFFFFFF, len(name), 0, 0, 0, 0, 0, offset)
            + name
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    count = min(len(members), 0xFFFF)
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, out.tell() - start, start, 0))
    return out.getvalue()


def members_of(path: Path) -> list[Member]:
    with zipfile.ZipFile(path) as z:
        return [Member(i.filename, z.read(i.filename)) for i in z.infolist()]


def rewrite(src: Path, dest: Path, edit) -> Path:
    """Copy a workbook, passing each part through edit(name, data) -> bytes | None (drop)."""
    members = []
    for m in members_of(src):
        data = edit(m.name, m.data)
        if data is not None:
            members.append(Member(m.name, data))
    dest.write_bytes(zip_bytes(members))
    return dest


def add_parts(src: Path, dest: Path, parts: dict[str, bytes], edit=None) -> Path:
    members = [Member(m.name, (edit(m.name, m.data) if edit else m.data)) for m in members_of(src)]
    members += [Member(name, data) for name, data in parts.items()]
    dest.write_bytes(zip_bytes(members))
    return dest


def sheet_part(path: Path, sheet: str) -> str:
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet)}"[^>]*r:id="(rId\d+)"', workbook).group(1)
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"', rels).group(1)
    return "xl/" + target.lstrip("/").removeprefix("xl/")


def _inline(ref: str, text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def set_meta(src: Path, dest: Path, **values: str) -> Path:
    """A copy whose very hidden _meta sheet says something else (framework_version="2019.1")."""
    from xltool.check import xlsx

    book, pkg = xlsx.open_book(src.read_bytes())
    meta = xlsx.load_sheet(book, pkg, "_meta")
    rows = {cell.value: row for (row, col), cell in meta.cells.items() if col == 0}
    part = sheet_part(src, "_meta")

    def edit(name, data):
        if name != part:
            return data
        xml = data.decode()
        for key, value in values.items():
            ref = f"B{rows[key] + 1}"
            xml, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', _inline(ref, value), xml, count=1, flags=re.S)
            assert n == 1, key
        return xml.encode()

    return rewrite(src, dest, edit)


# ---------------------------------------------------------------- an OLE compound file writer


def cfb_bytes(streams: dict[str, bytes]) -> bytes:
    """A minimal but valid compound file (v3, 512-byte sectors) holding the given streams.

    Every stream is padded to 4096 bytes so that none needs the mini stream; enough for the
    reader, which only looks at the directory and the first sectors of a Workbook stream."""
    size = 512
    end, free, fat_mark, none = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    items = [(name, data + b"\0" * max(0, 4096 - len(data))) for name, data in streams.items()]
    items = [(name, data + b"\0" * (-len(data) % size)) for name, data in items]
    fat = [fat_mark, end]  # sector 0: the FAT; sector 1: the directory
    starts = []
    for _name, data in items:
        count = len(data) // size
        start = len(fat)
        starts.append(start)
        fat.extend(range(start + 1, start + count))
        fat.append(end)
    assert len(fat) <= 128 and len(items) <= 3, "this writer is for small test files"
    fat_sector = struct.pack("<128I", *(fat + [free] * (128 - len(fat))))

    def entry(name: str, kind: int, child=none, right=none, start=end, length=0) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return (
            encoded.ljust(64, b"\0")
            + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", none, right, child)
            + b"\0" * 16 + struct.pack("<I", 0) + b"\0" * 16
            + struct.pack("<IQ", start, length)
        )

    entries = [entry("Root Entry", 5, child=1 if items else none)]
    for i, ((name, data), start) in enumerate(zip(items, starts), start=1):
        entries.append(entry(name, 2, right=i + 1 if i < len(items) else none, start=start, length=max(4096, len(streams[name]))))
    directory = b"".join(entries).ljust(size, b"\0")
    # Unused directory slots must be empty entries with the no-stream siblings.
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 0x28, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    return bytes(header) + fat_sector + directory + b"".join(data for _n, data in items)


def biff_workbook(encrypted: bool) -> bytes:
    """The start of a BIFF8 Workbook stream: BOF, then FILEPASS when it has an open password."""
    bof = struct.pack("<HH", 0x0809, 16) + struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0)
    body = bof
    if encrypted:
        body += struct.pack("<HH", 0x002F, 54) + struct.pack("<HHH", 1, 1, 1) + b"\x11" * 48
    body += struct.pack("<HH", 0x00E1, 2) + b"\xb0\x04"  # InterfaceHdr
    return body + struct.pack("<HH", 0x000A, 0)  # EOF


# ---------------------------------------------------------------- the cases


def empty(folder: Path) -> Path:
    path = folder / "空文件.xlsx"
    path.write_bytes(b"")
    return path


def random_bytes(folder: Path) -> Path:
    path = folder / "乱码 文件.xlsx"
    path.write_bytes(random.Random(1).randbytes(20_000))
    return path


def csv_renamed(folder: Path) -> Path:
    path = folder / "导出数据.xlsx"
    path.write_text("单位名称,年度,预算数,执行数\n武昌区档案馆,2020,300,214.68\n=1+1,2020,100,76\n", encoding="gbk")
    return path


def html_renamed(folder: Path) -> Path:
    path = folder / "系统导出.xls"
    path.write_text(
        "<html><head><meta charset='utf-8'></head><body><table><tr><td>单位</td><td>得分</td></tr>"
        "<tr><td>武昌区档案馆</td><td>95</td></tr></table></body></html>",
        encoding="utf-8",
    )
    return path


def truncated(folder: Path, valid: Path) -> Path:
    data = valid.read_bytes()
    path = folder / "截断.xlsx"
    path.write_bytes(data[: len(data) * 3 // 5])
    return path


def corrupt_member(folder: Path, valid: Path) -> Path:
    """Bytes inside the compressed data of the largest sheet overwritten: a CRC or inflate error."""
    members = members_of(valid)
    biggest = max(members, key=lambda m: len(m.data))
    out = []
    for m in members:
        if m is biggest:
            raw = bytearray(deflate(m.data))
            for k in range(len(raw) // 3, len(raw) // 3 + 40):
                raw[k] ^= 0x5A
            out.append(Member(m.name, m.data, raw=bytes(raw)))
        else:
            out.append(m)
    path = folder / "损坏.xlsx"
    path.write_bytes(zip_bytes(out))
    return path


def encrypted_cfb(folder: Path) -> Path:
    """An encrypted .xlsx as Office writes it: an OLE file with EncryptionInfo and EncryptedPackage."""
    path = folder / "加密.xlsx"
    path.write_bytes(cfb_bytes({"EncryptionInfo": b"\x04\x00\x04\x00\x40\x00\x00\x00" + b"<encryption/>", "EncryptedPackage": random.Random(2).randbytes(6000)}))
    return path


def encrypted_real(folder: Path, valid: Path) -> Path:
    """A workbook encrypted with a password by msoffcrypto-tool (Agile encryption, as Excel does)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    path = folder / "加密 真实.xlsx"
    with open(valid, "rb") as src, open(path, "wb") as out:
        OOXMLFile(src).encrypt("密码123", out)
    return path


def encrypted_xls(folder: Path) -> Path:
    path = folder / "加密旧版.xls"
    path.write_bytes(cfb_bytes({"Workbook": biff_workbook(encrypted=True)}))
    return path


def legacy_xls(folder: Path, valid: Path) -> Path:
    """Our template saved as Excel 97-2003 by real LibreOffice."""
    from libreoffice import resave

    work = folder / "lo"
    work.mkdir(exist_ok=True)
    out = resave(valid, work, fmt="xls")
    path = folder / "旧版 格式.xls"
    out.rename(path)
    work.rmdir()
    return path


def legacy_xls_renamed(folder: Path, xls: Path) -> Path:
    path = folder / "旧版改名.xlsx"
    path.write_bytes(xls.read_bytes())
    return path


VBA = b"\xcc\x61" + b"Attribute VB_Name = \"Module1\"\r\nSub AutoOpen()\r\nShell \"calc.exe\"\r\nEnd Sub\r\n" * 4


def macros(folder: Path, valid: Path) -> Path:
    """A copy with a VBA project (and its relationship and content type), named .xlsm."""

    def edit(name, data):
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rId99" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>',
            )
        if name == "[Content_Types].xml":
            return data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>').replace(
                b"spreadsheetml.sheet.main+xml", b"ms-excel.sheet.macroEnabled.main+xml"
            )
        return data

    return add_parts(valid, folder / "带宏 文件.xlsm", {"xl/vbaProject.bin": VBA}, edit)


EXTERNAL_LINK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    f'<externalLink xmlns="{NS}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<externalBook r:id="rId1"><sheetNames><sheetName val="Sheet1"/></sheetNames></externalBook></externalLink>'
).encode()
EXTERNAL_LINK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
    'Target="file:///C:/%E8%B4%A2%E5%8A%A1/%E9%A2%84%E7%AE%97.xlsx" TargetMode="External"/></Relationships>'
).encode()


def external_links(folder: Path, valid: Path) -> Path:
    def edit(name, data):
        if name == "xl/_rels/workbook.xml.rels":
            return data.replace(
                b"</Relationships>",
                b'<Relationship Id="rId98" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
            )
        if name == "xl/workbook.xml":
            return data.replace(b"</workbook>", b'<externalReferences><externalReference r:id="rId98"/></externalReferences></workbook>')
        return data

    parts = {"xl/externalLinks/externalLink1.xml": EXTERNAL_LINK, "xl/externalLinks/_rels/externalLink1.xml.rels": EXTERNAL_LINK_RELS}
    return add_parts(valid, folder / "外部链接.xlsx", parts, edit)


def _bomb_stream(gigabytes: float) -> tuple[bytes, int, int]:
    """A deflate stream of a worksheet that inflates to `gigabytes` GB: (raw, size, crc).

    Built in a second: each 1 MB block of blanks is compressed after a full flush, so its
    compressed form is the same every time and is simply repeated."""
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{NS}"><sheetData>'.encode()
    block = b" " * MB
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    one = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    assert one == again
    blocks = int(gigabytes * 1024)
    tail = b"</sheetData></worksheet>"
    raw = first + one * blocks + c.compress(tail) + c.flush()
    size = len(head) + blocks * MB + len(tail)
    crc = zlib.crc32(head)
    for _ in range(blocks):
        crc = zlib.crc32(block, crc)
    return raw, size, zlib.crc32(tail, crc)


_BOMB: dict[float, tuple[bytes, int, int]] = {}


def _bomb(valid: Path, dest: Path, gigabytes: float, honest: bool) -> Path:
    if gigabytes not in _BOMB:
        _BOMB[gigabytes] = _bomb_stream(gigabytes)
    raw, size, crc = _BOMB[gigabytes]
    part = sheet_part(valid, "绩效指标")
    out = []
    for m in members_of(valid):
        if m.name == part:
            # Honest: the real size and CRC are declared. Lying: the original sheet's are.
            out.append(Member(m.name, m.data, raw=raw, size=size if honest else len(m.data), crc=crc if honest else zlib.crc32(m.data)))
        else:
            out.append(m)
    dest.write_bytes(zip_bytes(out))
    return dest


def zip_bomb(folder: Path, valid: Path) -> Path:
    """The indicator sheet inflates to 2 GB; sizes declared truthfully."""
    return _bomb(valid, folder / "压缩炸弹.xlsx", 2, honest=True)


def zip_bomb_lying(folder: Path, valid: Path) -> Path:
    """The indicator sheet inflates to 4 GB, while the zip declares the template's 70 KB."""
    return _bomb(valid, folder / "压缩炸弹 虚报大小.xlsx", 4, honest=False)


def many_parts(folder: Path, valid: Path) -> Path:
    extra = {f"xl/media/image{i}.png": b"" for i in range(6000)}
    return add_parts(valid, folder / "部件过多.xlsx", extra)


def _replace_part(valid: Path, dest: Path, name: str, data: bytes) -> Path:
    return rewrite(valid, dest, lambda n, d: data if n == name else d)


BILLION_LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE sst [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n' for i in range(1, 10))
    + f']>\n<sst xmlns="{NS}" count="1" uniqueCount="1"><si><t>&lol9;</t></si></sst>'
)


def entity_bomb(folder: Path, valid: Path) -> Path:
    """Billion laughs in the shared strings."""
    return _replace_part(valid, folder / "实体炸弹.xlsx", "xl/sharedStrings.xml", BILLION_LAUGHS.encode())


def external_entity(folder: Path, valid: Path, url: str = "file:///etc/passwd") -> Path:
    """An external entity (XXE) in the workbook part, pointing at a local file or a URL."""
    with zipfile.ZipFile(valid) as z:
        workbook = z.read("xl/workbook.xml").decode()
    xml = workbook.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>', f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE workbook [<!ENTITY xxe SYSTEM "{url}">]>', 1)
    xml = xml.replace('<sheet name="填表说明"', '<sheet name="&xxe;"', 1)
    return _replace_part(valid, folder / "外部实体.xlsx", "xl/workbook.xml", xml.encode())


def external_dtd(folder: Path, valid: Path, url: str) -> Path:
    with zipfile.ZipFile(valid) as z:
        workbook = z.read("xl/workbook.xml").decode()
    xml = workbook.replace('standalone="yes"?>', f'standalone="no"?><!DOCTYPE workbook SYSTEM "{url}">', 1)
    return _replace_part(valid, folder / "外部DTD.xlsx", "xl/workbook.xml", xml.encode())


def utf16_dtd(folder: Path, valid: Path) -> Path:
    """The billion laughs again, in UTF-16 (a byte scan for '<!DOCTYPE' in UTF-8 misses it)."""
    xml = BILLION_LAUGHS.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    return _replace_part(valid, folder / "实体炸弹 UTF16.xlsx", "xl/sharedStrings.xml", xml.encode("utf-16"))


def utf7_dtd(folder: Path, valid: Path) -> Path:
    """A DTD hidden in UTF-7, where '<' is written '+ADw-'."""
    xml = BILLION_LAUGHS.replace('encoding="UTF-8"', 'encoding="UTF-7"')
    return _replace_part(valid, folder / "实体炸弹 UTF7.xlsx", "xl/sharedStrings.xml", xml.encode("utf-7"))


def huge_sheet(folder: Path, valid: Path, rows: int = 60_000) -> Path:
    """A legitimate sheet (good XML, ordinary compression) with far more cells than a template:
    data pasted below the indicator table."""
    part = sheet_part(valid, "绩效指标")

    def edit(name, data):
        if name != part:
            return data
        extra = "".join(f'<row r="{r}"><c r="A{r}"><v>{r * 7919 % 100003}</v></c></row>' for r in range(1000, 1000 + rows))
        return data.replace(b"</sheetData>", extra.encode() + b"</sheetData>")

    return rewrite(valid, folder / "工作表过大.xlsx", edit)


def huge_part(folder: Path, valid: Path, rows: int = 30_000, name: str = "工作表 25MB.xlsx") -> Path:
    """A sheet whose XML alone is 25 MB (long texts pasted below the template's cells)."""
    part = sheet_part(valid, "问题与改进")
    rng = random.Random(3)

    def edit(name, data):
        if name != part:
            return data
        words = ["档案", "数字化", "绩效", "预算", "执行", "管理", "服务", "利用", "保护", "编研"]
        pasted = []
        for r in range(100, 100 + rows):
            text = "".join(rng.choice(words) for _ in range(120))
            pasted.append(f'<row r="{r}">{_inline(f"A{r}", text)}</row>')
        return data.replace(b"</sheetData>", "".join(pasted).encode() + b"</sheetData>")

    return rewrite(valid, folder / name, edit)


def big_text_allowed(folder: Path, valid: Path) -> Path:
    """Just under the per-sheet limit (about 15 MB of Chinese text pasted below the template):
    read in full, streamed, and reported as content outside the template — the worst case for
    memory that is still accepted."""
    return huge_part(folder, valid, rows=18_000, name="工作表 15MB.xlsx")


def huge_part_lying(folder: Path, valid: Path) -> Path:
    """The 25 MB sheet again, while the zip declares the template's own small size and CRC:
    refused by the limit enforced while inflating, not by the declared size."""
    big = huge_part(folder, valid, name="tmp 工作表 25MB.xlsx")
    part = sheet_part(valid, "问题与改进")
    small = {m.name: m.data for m in members_of(valid)}[part]
    members = [Member(m.name, m.data, size=len(small), crc=zlib.crc32(small)) if m.name == part else m for m in members_of(big)]
    path = folder / "工作表 25MB 虚报大小.xlsx"
    path.write_bytes(zip_bytes(members))
    big.unlink()
    return path


def not_our_template(folder: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "自评表"
    ws.append(["单位名称", "年度", "总分"])
    ws.append(["武昌区档案馆", 2020, 95])
    wb.create_sheet("附表")
    path = folder / "自制表格.xlsx"
    wb.save(path)
    return path


def docx_renamed(folder: Path) -> Path:
    members = [
        Member("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'),
        Member("_rels/.rels", b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
        Member("word/document.xml", b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>'),
    ]
    path = folder / "自评报告.xlsx"
    path.write_bytes(zip_bytes(members))
    return path


def ods_file(folder: Path) -> Path:
    """An OpenDocument spreadsheet (what LibreOffice saves by default), named .xlsx as staff do."""
    members = [
        Member("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", method=0),
        Member("content.xml", b'<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>'),
        Member("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>'),
    ]
    path = folder / "自评表（LibreOffice 保存）.xlsx"
    path.write_bytes(zip_bytes(members))
    return path


STRICT_NAMESPACES = {
    NS.encode(): b"http://purl.oclc.org/ooxml/spreadsheetml/main",
    b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": b"http://purl.oclc.org/ooxml/officeDocument/relationships",
}


def strict_ooxml(folder: Path, valid: Path) -> Path:
    """The workbook as Excel's "Strict Open XML 电子表格" saves it: the same parts, other namespaces."""

    def edit(_name: str, data: bytes) -> bytes:
        for old, new in STRICT_NAMESPACES.items():
            data = data.replace(old, new)
        return data

    return rewrite(valid, folder / "自评表 Strict.xlsx", edit)


def word_doc(folder: Path) -> Path:
    """A Word 97-2003 document (.doc) renamed .xlsx: an OLE file that is not a workbook."""
    path = folder / "自评报告 Word.xlsx"
    path.write_bytes(cfb_bytes({"WordDocument": b"\xec\xa5" + b"\0" * 100}))
    return path


def pk_in_embedding(folder: Path, valid: Path) -> Path:
    """A valid return with a stored embedded object whose bytes hold zip signatures (an embedded
    archive, or an image): part data, not entries of the workbook's own zip."""
    blob = (b"PK\x03\x04" + b"\0" * 26 + b"PK\x01\x02" + b"\0" * 42) * 6000 + b"PK\x05\x06" + b"\0" * 18
    members = members_of(valid) + [Member("xl/embeddings/oleObject1.bin", blob, method=0)]
    path = folder / "含嵌入对象.xlsx"
    path.write_bytes(zip_bytes(members))
    return path


def other_version(folder: Path, valid: Path) -> Path:
    return set_meta(valid, folder / "旧框架版本.xlsx", framework_version="2019.1")


def unsupported_compression(folder: Path, valid: Path) -> Path:
    """A part compressed with bzip2 (method 12), which inflates without any bound in one call."""
    import bz2

    part = sheet_part(valid, "绩效指标")
    members = [Member(m.name, m.data, raw=bz2.compress(m.data), method=12) if m.name == part else m for m in members_of(valid)]
    path = folder / "bzip2.xlsx"
    path.write_bytes(zip_bytes(members))
    return path


def duplicate_part(folder: Path, valid: Path) -> Path:
    """Two entries named like the workbook part: which one would Excel read?"""
    members = members_of(valid)
    workbook = next(m for m in members if m.name == "xl/workbook.xml")
    path = folder / "重复部件.xlsx"
    path.write_bytes(zip_bytes(members + [Member("xl/workbook.xml", workbook.data.replace("填表说明".encode(), b"other"))]))
    return path


def bad_numbers(folder: Path, valid: Path) -> Path:
    """Numbers no spreadsheet can write (NaN, infinities, 1e400) and odd cell types in input cells."""
    part = sheet_part(valid, "预算执行")

    def edit(name, data):
        if name != part:
            return data
        xml = data.decode()
        odd = iter(["NaN", "1e400", "-inf", "abc"])
        # Number cells only (no t attribute): shared-string indexes stay as they are.
        xml = re.sub(r'(<c r="[A-Z]+\d+"(?: s="\d+")?>)<v>(-?\d+(?:\.\d+)?)</v>', lambda m: f"{m.group(1)}<v>{next(odd, m.group(2))}</v>", xml)
        return xml.encode()

    return rewrite(valid, folder / "非法数字.xlsx", edit)


@dataclass(frozen=True)
class Case:
    name: str
    build: object  # (folder, valid) -> Path, or (folder) -> Path
    code: str
    status: str = "unreadable"
    needs_valid: bool = True
    needs: str = ""  # "libreoffice" | "msoffcrypto"


CASES = [
    Case("empty", empty, "FILE_EMPTY", needs_valid=False),
    Case("random_bytes", random_bytes, "FILE_NOT_ZIP", needs_valid=False),
    Case("csv_renamed", csv_renamed, "FILE_NOT_ZIP", needs_valid=False),
    Case("html_renamed", html_renamed, "FILE_NOT_ZIP", needs_valid=False),
    Case("truncated", truncated, "FILE_CORRUPT"),
    Case("corrupt_member", corrupt_member, "FILE_CORRUPT"),
    Case("unsupported_compression", unsupported_compression, "FILE_CORRUPT"),
    Case("duplicate_part", duplicate_part, "FILE_CORRUPT"),
    Case("encrypted_cfb", encrypted_cfb, "FILE_ENCRYPTED", needs_valid=False),
    Case("encrypted_real", encrypted_real, "FILE_ENCRYPTED", needs="msoffcrypto"),
    Case("encrypted_xls", encrypted_xls, "FILE_ENCRYPTED", needs_valid=False),
    Case("legacy_xls", legacy_xls, "FILE_XLS_LEGACY", needs="libreoffice"),
    Case("macros", macros, "FILE_MACROS", status="passed"),
    Case("external_links", external_links, "FILE_EXTERNAL_LINKS", status="passed"),
    Case("zip_bomb", zip_bomb, "FILE_ZIP_BOMB"),
    Case("zip_bomb_lying", zip_bomb_lying, "FILE_ZIP_BOMB"),
    Case("many_parts", many_parts, "FILE_TOO_LARGE"),
    Case("ods_file", ods_file, "FILE_ODS", needs_valid=False),
    Case("strict_ooxml", strict_ooxml, "FILE_STRICT_OOXML"),
    Case("word_doc", word_doc, "FILE_NOT_ZIP", needs_valid=False),
    Case("entity_bomb", entity_bomb, "FILE_XML_UNSAFE"),
    Case("external_entity", external_entity, "FILE_XML_UNSAFE"),
    Case("utf16_dtd", utf16_dtd, "FILE_XML_UNSAFE"),
    Case("utf7_dtd", utf7_dtd, "FILE_XML_UNSAFE"),
    Case("huge_sheet", huge_sheet, "SHEET_TOO_LARGE"),
    Case("huge_part", huge_part, "SHEET_TOO_LARGE"),
    Case("huge_part_lying", huge_part_lying, "SHEET_TOO_LARGE"),
    Case("big_text_allowed", big_text_allowed, "EXTRA_CONTENT", status="passed"),
    Case("not_our_template", not_our_template, "NOT_OUR_TEMPLATE", needs_valid=False),
    Case("docx_renamed", docx_renamed, "NOT_OUR_TEMPLATE", needs_valid=False),
    Case("other_version", other_version, "FRAMEWORK_VERSION_MISMATCH", status="failed"),
    Case("bad_numbers", bad_numbers, "TEXT_IN_NUMBER", status="failed"),
]


def build(case: Case, folder: Path, valid: Path) -> Path:
    return case.build(folder, valid) if case.needs_valid else case.build(folder)


# ---------------------------------------------------------------- fuzzing


_ODD_VALUES = ["", "abc", "1e309", "-1e309", "NaN", "inf", "-0", "１２", "1,000", "0x10", "9" * 400, "2147483648", "-5", "1e-400", "#DIV/0!", "TRUE", "=1+1", "\x00"]
_ODD_TYPES = ["s", "n", "b", "e", "str", "inlineStr", "d", "x", ""]


class Mutator:
    """Seed-deterministic mutations of valid returned workbooks.

    Most work at the level of one zip member (rewrite the archive with one part changed): they
    reach the XML and cell readers, where whole-file byte flips mostly stop at the CRC check."""

    def __init__(self, seeds: list[Path]):
        self.seeds = [(p.name, members_of(p), p.read_bytes()) for p in seeds]
        self.kinds = [
            (self.flip_file_bytes, 1), (self.truncate_file, 1),
            (self.drop_part, 2), (self.duplicate_part, 1), (self.rename_part, 1), (self.empty_part, 1),
            (self.flip_part_bytes, 3), (self.cut_part, 2), (self.repeat_span, 2), (self.mangle_tag, 3),
            (self.odd_value, 5), (self.odd_type, 4), (self.odd_attribute, 3), (self.swap_parts, 1),
            (self.odd_name_ref, 2), (self.odd_meta, 3), (self.junk_xml, 1),
        ]
        self.total = sum(w for _k, w in self.kinds)

    def mutate(self, seed: int) -> tuple[str, bytes]:
        rng = random.Random(seed)
        _name, members, data = self.seeds[rng.randrange(len(self.seeds))]
        pick = rng.randrange(self.total)
        for kind, weight in self.kinds:
            if pick < weight:
                break
            pick -= weight
        members = [Member(m.name, m.data) for m in members]
        out = kind(rng, members, data)
        return kind.__name__, out if isinstance(out, bytes) else zip_bytes(out)

    # whole file
    def flip_file_bytes(self, rng, members, data):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        return bytes(buf)

    def truncate_file(self, rng, members, data):
        return data[: rng.randrange(len(data))]

    # parts
    def _xml_members(self, members):
        return [m for m in members if m.name.endswith((".xml", ".rels"))]

    def _pick(self, rng, members):
        xml = self._xml_members(members)
        weighted = [m for m in xml if "worksheets" in m.name or m.name in ("xl/workbook.xml", "xl/sharedStrings.xml")]
        return rng.choice(weighted if weighted and rng.random() < 0.8 else xml)

    def drop_part(self, rng, members, data):
        members.pop(rng.randrange(len(members)))
        return members

    def duplicate_part(self, rng, members, data):
        m = rng.choice(members)
        return members + [Member(m.name, m.data)]

    def rename_part(self, rng, members, data):
        m = rng.choice(members)
        m.name = rng.choice([m.name.upper(), m.name + "x", "/" + m.name, m.name.replace("/", "\\"), "../" + m.name])
        return members

    def empty_part(self, rng, members, data):
        self._pick(rng, members).data = b""
        return members

    def swap_parts(self, rng, members, data):
        a, b = rng.sample(self._xml_members(members), 2)
        a.data, b.data = b.data, a.data
        return members

    def flip_part_bytes(self, rng, members, data):
        m = self._pick(rng, members)
        buf = bytearray(m.data)
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(len(buf))] = rng.choice(b"<>/=\"'&;!?0123456789 abcxyz\x00\xff")
        m.data = bytes(buf)
        return members

    def cut_part(self, rng, members, data):
        m = self._pick(rng, members)
        i = rng.randrange(len(m.data) + 1)
        j = min(len(m.data), i + rng.randint(1, 400))
        m.data = m.data[:i] + m.data[j:]
        return members

    def repeat_span(self, rng, members, data):
        m = self._pick(rng, members)
        i = rng.randrange(len(m.data) + 1)
        j = min(len(m.data), i + rng.randint(1, 300))
        m.data = m.data[:j] + m.data[i:j] * rng.randint(1, 50) + m.data[j:]
        return members

    def mangle_tag(self, rng, members, data):
        m = self._pick(rng, members)
        tags = list(re.finditer(rb"</?([a-zA-Z][a-zA-Z0-9:]*)", m.data))
        if tags:
            hit = rng.choice(tags)
            old = hit.group(1)
            new = rng.choice([b"c", b"row", b"v", b"f", b"is", b"t", b"si", b"sheet", b"definedName", b"x:" + old, old.upper(), b"sheetData"])
            m.data = m.data[: hit.start(1)] + new + m.data[hit.end(1):]
        return members

    def _sheet(self, rng, members):
        sheets = [m for m in members if "worksheets/sheet" in m.name]
        return rng.choice(sheets) if sheets else self._pick(rng, members)

    def odd_value(self, rng, members, data):
        m = self._sheet(rng, members)
        values = list(re.finditer(rb"<v>([^<]*)</v>", m.data))
        if values:
            hit = rng.choice(values)
            value = rng.choice(_ODD_VALUES).encode("utf-8")
            m.data = m.data[: hit.start(1)] + value.replace(b"<", b"&lt;") + m.data[hit.end(1):]
        return members

    def odd_type(self, rng, members, data):
        m = self._sheet(rng, members)
        cells = list(re.finditer(rb'<c r="[A-Z]+\d+"( s="\d+")?( t="\w*")?', m.data))
        for _ in range(rng.randint(1, 10)):
            if not cells:
                break
            hit = rng.choice(cells)
            t = rng.choice(_ODD_TYPES).encode()
            new = hit.group(0).split(b" t=")[0] + b' t="' + t + b'"'
            m.data = m.data[: hit.start()] + new + m.data[hit.end():]
            cells = list(re.finditer(rb'<c r="[A-Z]+\d+"( s="\d+")?( t="\w*")?', m.data))
        return members

    def odd_attribute(self, rng, members, data):
        m = self._pick(rng, members)
        attrs = list(re.finditer(rb' ([a-zA-Z:]+)="([^"]*)"', m.data))
        if attrs:
            hit = rng.choice(attrs)
            value = rng.choice([b"", b"-1", b"ZZZZ99999999", b"A0", b"XFD1048577", b"99999999999999999999", b"x", b"1048576", b"rId999", b"A1:B2"])
            m.data = m.data[: hit.start(2)] + value + m.data[hit.end(2):]
        return members

    def odd_name_ref(self, rng, members, data):
        for m in members:
            if m.name == "xl/workbook.xml":
                names = list(re.finditer(rb"<definedName name=\"[^\"]+\"[^>]*>([^<]*)</definedName>", m.data))
                if names:
                    hit = rng.choice(names)
                    ref = rng.choice([b"#REF!", b"'x'!A1", b"Sheet9!$A$1:$A$99999", b"'\xe7\xbb\xa9\xe6\x95\x88\xe6\x8c\x87\xe6\xa0\x87'!$Z$1:$A$1", b"", b"1+1", b"'" * 200 + b"!A1"])
                    m.data = m.data[: hit.start(1)] + ref + m.data[hit.end(1):]
        return members

    def odd_meta(self, rng, members, data):
        """Change a value of the hidden _meta sheet (kind, year, version, prefills …)."""
        for m in members:
            if m.name == "xl/sharedStrings.xml":
                strings = list(re.finditer(rb"<t[^>]*>([^<]*)</t>", m.data))
                if strings:
                    hit = rng.choice(strings[: 40])
                    value = rng.choice([b"", b"department", b"project", b"2019.1", b"abc", b"{", b"[1,2", b'{"projects": [[1]]}', b'{"projects": [["x", "abc", null]]}', b"9999999999", b"-1", b"xltool", b"nope"])
                    m.data = m.data[: hit.start(1)] + value + m.data[hit.end(1):]
        return members

    def junk_xml(self, rng, members, data):
        m = self._pick(rng, members)
        junk = rng.choice([b"<!-- x -->", b"<?pi x?>", b"<![CDATA[<c>]]>", b"&amp;", b"&#0;", b"&#x1F600;", b"<x/>" * 100, b"\xef\xbb\xbf"])
        pos = rng.randrange(len(m.data) + 1)
        m.data = m.data[:pos] + junk + m.data[pos:]
        return members
