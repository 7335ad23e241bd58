"""Hostile and broken files, as a finance officer receives them (and worse).

Every maker takes a valid filled workbook (or nothing) and a destination, and writes one file.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl

from cases import rewrite_parts, sheet_part


def empty(_valid: Path, dest: Path) -> Path:
    dest.write_bytes(b"")
    return dest


def text(_valid: Path, dest: Path) -> Path:
    dest.write_bytes("这不是工作簿，只是一段文字。\n".encode("utf-8") * 20)
    return dest


def csv_renamed(_valid: Path, dest: Path) -> Path:
    dest.write_bytes("单位名称,年度,执行数\n武昌区档案馆,2020,214.68\n".encode("utf-8-sig"))
    return dest


def html_renamed(_valid: Path, dest: Path) -> Path:
    dest.write_bytes(b"<html><head><meta charset='utf-8'></head><body><table><tr><td>\xe6\x89\xa7\xe8\xa1\x8c\xe6\x95\xb0</td></tr></table></body></html>")
    return dest


def truncated(valid: Path, dest: Path) -> Path:
    data = valid.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


def corrupt_member(valid: Path, dest: Path) -> Path:
    """A zip whose worksheet bytes were damaged in transit (CRC and inflate fail)."""
    data = bytearray(valid.read_bytes())
    with zipfile.ZipFile(valid) as z:
        info = z.getinfo(sheet_part(valid, "绩效指标"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 10, start + 400, 7):
        data[i] ^= 0xA5
    dest.write_bytes(bytes(data))
    return dest


def _ole(streams: list[str], payload: bytes = b"") -> bytes:
    """A minimal compound file: the OLE signature, a header, and directory entries naming
    `streams` (what readers look at to tell .xls from an encrypted .xlsx)."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:26] = struct.pack("<H", 0x3E)
    header[26:28] = struct.pack("<H", 3)
    header[28:30] = struct.pack("<H", 0xFFFE)
    header[30:32] = struct.pack("<H", 9)
    header[32:34] = struct.pack("<H", 6)
    directory = bytearray()
    for name in ["Root Entry", *streams]:
        entry = bytearray(128)
        encoded = name.encode("utf-16-le")[:62]
        entry[0 : len(encoded)] = encoded
        entry[64:66] = struct.pack("<H", len(encoded) + 2)
        entry[66] = 5 if name == "Root Entry" else 2
        directory += entry
    return bytes(header) + bytes(directory) + payload


def encrypted(_valid: Path, dest: Path) -> Path:
    dest.write_bytes(_ole(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"], b"\x00" * 4096))
    return dest


def with_part(valid: Path, dest: Path, name: str, data: bytes) -> Path:
    out = io.BytesIO()
    with zipfile.ZipFile(valid) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info.filename))
        zout.writestr(name, data)
    dest.write_bytes(out.getvalue())
    return dest


def macros(valid: Path, dest: Path) -> Path:
    return with_part(valid, dest, "xl/vbaProject.bin", _ole(["VBA", "PROJECT"], b"Attribute VB_Name = \"Module1\"\nSub AutoOpen()\nShell \"calc\"\nEnd Sub\n"))


def external_link(valid: Path, dest: Path) -> Path:
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><externalBook/></externalLink>'
    )
    return with_part(valid, dest, "xl/externalLinks/externalLink1.xml", xml)


def zip_bomb(valid: Path, dest: Path, inflated_mb: int = 1024) -> Path:
    """The indicator sheet replaced by a part that inflates to `inflated_mb` MB of one byte,
    whose local header declares a tiny size (declared sizes can lie)."""
    part = sheet_part(valid, "绩效指标")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"<" * (1 << 20)
    body = bytearray()
    for _ in range(inflated_mb):
        body += compressor.compress(chunk)
    body += compressor.flush()
    out = io.BytesIO()
    with zipfile.ZipFile(valid) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != part:
                zout.writestr(info.filename, zin.read(info.filename))
    # Append the bomb member by hand, declaring 1 KB uncompressed.
    data = bytearray(out.getvalue())
    eocd = data.rfind(b"PK\x05\x06")
    cd_size, cd_offset = struct.unpack("<II", data[eocd + 12 : eocd + 20])
    central = bytes(data[cd_offset : cd_offset + cd_size])
    entries = struct.unpack("<H", data[eocd + 10 : eocd + 12])[0]
    name = part.encode()
    crc = 0
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), 1024, len(name), 0) + name
    new_offset = cd_offset
    head = bytes(data[:cd_offset]) + local + bytes(body)
    central_entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(body), 1024, len(name), 0, 0, 0, 0, 0, new_offset) + name
    new_central = central + central_entry
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries + 1, entries + 1, len(new_central), len(head), 0)
    dest.write_bytes(head + new_central + end)
    return dest


_BOMB_DTD = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)


def entity_bomb(valid: Path, dest: Path) -> Path:
    def edit(name, data):
        if name == "xl/sharedStrings.xml":
            text = data.decode()
            text = text.split("?>", 1)[1] if text.startswith("<?xml") else text
            return (_BOMB_DTD + text.replace("<t>档案保护费</t>", "<t>&lol4;</t>", 1)).encode()
        return data

    return rewrite_parts(valid, dest, edit)


def external_entity(valid: Path, dest: Path) -> Path:
    def edit(name, data):
        if name == "xl/sharedStrings.xml":
            text = data.decode()
            text = text.split("?>", 1)[1] if text.startswith("<?xml") else text
            dtd = '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY net SYSTEM "http://127.0.0.1:9/x">]>'
            return (dtd + text.replace("<t>档案保护费</t>", "<t>&xxe;&net;</t>", 1)).encode()
        return data

    return rewrite_parts(valid, dest, edit)


def huge_sheet(valid: Path, dest: Path, rows: int = 30_000, cols: int = 10) -> Path:
    """A legitimate workbook whose 问题与改进 sheet holds far more cells than the template."""
    part = sheet_part(valid, "问题与改进")

    def edit(name, data):
        if name != part:
            return data
        text = data.decode()
        body = "".join(
            f'<row r="{r}">' + "".join(f'<c r="{chr(65 + c)}{r}"><v>{r * c}</v></c>' for c in range(cols)) + "</row>" for r in range(10, 10 + rows)
        )
        return text.replace("</sheetData>", body + "</sheetData>").encode()

    return rewrite_parts(valid, dest, edit)


def not_our_template(_valid: Path, dest: Path) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = "预算表"
    wb.active.append(["单位", "预算数", "执行数"])
    wb.active.append(["武昌区档案馆", 300, 214.68])
    wb.save(dest)
    return dest


def other_version(valid: Path, dest: Path) -> Path:
    return rewrite_parts(valid, dest, lambda n, d: d.replace(b">2020.1<", b">2019.3<") if n == "xl/sharedStrings.xml" else d)


CASES = {
    # name: (maker, file name, expected status, expected code)
    "empty": (empty, "空文件.xlsx", "unreadable", "FILE_EMPTY"),
    "text": (text, "随便 写的.xlsx", "unreadable", "FILE_NOT_ZIP"),
    "csv": (csv_renamed, "导出.xlsx", "unreadable", "FILE_NOT_ZIP"),
    "html": (html_renamed, "网页另存.xls", "unreadable", "FILE_NOT_ZIP"),
    "truncated": (truncated, "截断.xlsx", "unreadable", "FILE_CORRUPT"),
    "corrupt": (corrupt_member, "损坏.xlsx", "unreadable", "FILE_CORRUPT"),
    "encrypted": (encrypted, "加密 文件.xlsx", "unreadable", "FILE_ENCRYPTED"),
    "macros": (macros, "带宏.xlsm", "passed", "FILE_MACROS"),
    "external_link": (external_link, "外部链接.xlsx", "passed", "FILE_EXTERNAL_LINKS"),
    # Refused while inflating: by the compression ratio, or by the cell limit when the bytes
    # happen to parse as cells first. Either way nothing near the inflated size is held.
    "zip_bomb": (zip_bomb, "炸弹.xlsx", "unreadable", ("FILE_ZIP_BOMB", "SHEET_TOO_LARGE")),
    "entity_bomb": (entity_bomb, "实体炸弹.xlsx", "unreadable", "FILE_XML_UNSAFE"),
    "external_entity": (external_entity, "外部实体.xlsx", "unreadable", "FILE_XML_UNSAFE"),
    "huge_sheet": (huge_sheet, "超大.xlsx", "unreadable", "SHEET_TOO_LARGE"),
    "not_our_template": (not_our_template, "别的表.xlsx", "unreadable", "NOT_OUR_TEMPLATE"),
    "other_version": (other_version, "旧版框架.xlsx", "failed", "FRAMEWORK_VERSION_MISMATCH"),
}
