"""Hostile and broken files: each gets its code and status, the rest of the batch is checked as
usual, no input changes by a byte, and nothing crashes, hangs, runs out of memory, reads a local
file, touches the network or plants a formula in an output.

Every case is checked the way the finance officer does it — `xltool check FOLDER --out … --json
…` on a folder holding the hostile file beside a valid returned workbook — and the JSON report
is asserted for both files.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hostile
from cases import clean_project_values, write_department, write_project
from conftest import WUCHANG
from xltool.check import xlsx
from xltool.cli import main
from xltool.template.fill import write_filled
from xltool.template import plan_for

ROOT = Path(__file__).resolve().parent.parent
COMPANION = "武汉市档案馆 2021 自评.xlsx"  # the valid file every batch also holds
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("valid") / "武昌区档案馆.xlsx")


@pytest.fixture(scope="module")
def companion(tmp_path_factory) -> Path:
    return write_department(tmp_path_factory.mktemp("companion") / COMPANION)


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def check_folder(folder: Path, out: Path, *extra: str) -> tuple[int, dict[str, dict]]:
    """`xltool check folder` with summary, JSON and CSV; asserts every input is byte-identical
    afterwards; returns the exit code and the JSON records by file name."""
    before = _hashes(folder)
    out.mkdir(exist_ok=True)
    code = main(["check", str(folder), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--csv", str(out / "r.csv"), "--quiet", *extra])
    assert _hashes(folder) == before, "an input file was changed"
    records = json.loads((out / "r.json").read_text(encoding="utf-8"))
    return code, {Path(r["file"]).name: r for r in records}


def assert_companion_normal(records: dict[str, dict]) -> None:
    """The valid file of the batch got its normal result: passed, recomputed, nothing reported."""
    r = records[COMPANION]
    assert (r["status"], r["kind"], r["unit"], r["year"]) == ("passed", "department", "武汉市档案馆", 2021)
    assert r["findings"] == []
    (ev,) = r["evaluations"]
    assert ev["score"] == 100 and ev["execution_rate"] == 1.0 and ev["initial_budget_completion_rate"] == 0.8787
    assert [c["name"] for c in ev["criteria"]] == ["投入", "过程", "产出", "效果"]


def _needs(case: hostile.Case) -> None:
    if case.needs == "libreoffice":
        from libreoffice import require_libreoffice

        require_libreoffice()
    if case.needs == "msoffcrypto":
        pytest.importorskip("msoffcrypto", reason="msoffcrypto-tool 未安装（测试依赖）")


# ---------------------------------------------------------------- one test per case


@pytest.mark.parametrize("case", hostile.CASES, ids=[c.name for c in hostile.CASES])
def test_hostile_file_gets_its_code_and_the_batch_goes_on(case, valid, companion, tmp_path):
    _needs(case)
    folder = tmp_path / "回收 文件"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    path = hostile.build(case, folder, valid)
    code, records = check_folder(folder, tmp_path / "out")
    r = records[path.name]
    codes = [f["code"] for f in r["findings"]]
    assert (r["status"], case.code in codes) == (case.status, True), (codes, r["findings"][:2])
    f = next(f for f in r["findings"] if f["code"] == case.code)
    assert path.name in f["message"] or not f["message"].startswith("文件"), f["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in f["message"])
    if case.status == "unreadable":
        assert r["evaluations"] == [] and r["errors"] >= 1
    else:  # read and checked: its figures are there
        assert r["unit"] == "武昌区档案馆" and len(r["evaluations"]) == 2
    assert_companion_normal(records)
    assert code == (0 if case.status == "passed" else 1)


def test_real_excel_97_xls_also_renamed_xlsx_asks_for_xlsx(valid, companion, tmp_path):
    from libreoffice import require_libreoffice

    require_libreoffice()
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    xls = hostile.legacy_xls(folder, valid)
    assert xls.read_bytes().startswith(xlsx.OLE_MAGIC) and xlsx.ole_kind(xls.read_bytes()) == "xls"
    renamed = hostile.legacy_xls_renamed(folder, xls)
    code, records = check_folder(folder, tmp_path / "out")
    for name in (xls.name, renamed.name):
        r = records[name]
        assert r["status"] == "unreadable" and r["findings"][0]["code"] == "FILE_XLS_LEGACY"
        assert ".xlsx" in r["findings"][0]["message"]
    assert [f["code"] for f in records[renamed.name]["findings"]] == ["FILE_XLS_LEGACY", "DUPLICATE_FILE"]
    assert_companion_normal(records)
    assert code == 1


def test_ole_files_are_told_apart_by_their_streams(valid, tmp_path):
    cfb = hostile.cfb_bytes
    assert xlsx.ole_kind(cfb({"EncryptionInfo": b"x", "EncryptedPackage": b"y"})) == "encrypted"
    assert xlsx.ole_kind(cfb({"Workbook": hostile.biff_workbook(encrypted=True)})) == "xls_encrypted"
    assert xlsx.ole_kind(cfb({"Workbook": hostile.biff_workbook(encrypted=False)})) == "xls"
    assert xlsx.ole_kind(cfb({"WordDocument": b"x"})) == "other"
    assert xlsx.ole_streams(cfb({"Workbook": b"x"})) == ["Root Entry", "Workbook"]
    # A broken directory (sector chains looping, names cut) never hangs or raises.
    broken = bytearray(cfb({"EncryptionInfo": b"x"}))
    broken[0x30:0x34] = (0).to_bytes(4, "little")  # the directory chain starts at the FAT sector
    assert xlsx.ole_kind(bytes(broken)) in ("encrypted", "xls", "other")
    assert xlsx.ole_kind(xlsx.OLE_MAGIC + b"\0" * 100) == "other"
    if pytest.importorskip("msoffcrypto", reason="msoffcrypto-tool 未安装"):
        real = hostile.encrypted_real(tmp_path, valid).read_bytes()
        assert xlsx.ole_kind(real) == "encrypted" and "EncryptionInfo" in xlsx.ole_streams(real)


def test_text_files_are_described_for_the_sender(tmp_path):
    assert xlsx.describe(hostile.html_renamed(tmp_path).read_bytes()).startswith("HTML")
    assert xlsx.describe(hostile.csv_renamed(tmp_path).read_bytes()).startswith("CSV")
    assert xlsx.describe(b"%PDF-1.7") == "PDF 文件"
    assert xlsx.describe(b"") == "空文件"
    assert xlsx.describe("只是一段文字。".encode("utf-8") * 10) == "纯文本文件"
    # The finding says it is no workbook and what to send instead.
    code, records = check_folder(_folder(tmp_path, hostile.html_renamed), tmp_path / "out")
    (f,) = records["系统导出.xls"]["findings"]
    assert f["code"] == "FILE_NOT_ZIP" and "不是 Excel 工作簿" in f["message"] and ".xlsx" in f["message"]


def _folder(tmp_path: Path, *builders) -> Path:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    for build in builders:
        build(folder)
    return folder


# ---------------------------------------------------------------- bounded: time, memory, no access

_MEASURE = """
import json, sys, time
sys.path.insert(0, {root!r} + "/benchmarks")
from peak_memory import peak_mb  # VmHWM: starts afresh at exec; ru_maxrss would carry over the parent's peak on Linux
sys.path.insert(0, {root!r})
from xltool.check.batch import check_file
start = time.perf_counter()
result = check_file(sys.argv[1])
print(json.dumps({{"seconds": time.perf_counter() - start, "rss_mb": peak_mb(),
                  "status": result.status, "codes": [f.code for f in result.findings]}}))
"""


@pytest.mark.parametrize("name", ["zip_bomb", "zip_bomb_lying", "huge_part_lying", "huge_sheet", "big_text_allowed", "entity_bomb"])
def test_bombs_are_refused_within_seconds_and_well_under_200_mb(name, valid, tmp_path):
    case = next(c for c in hostile.CASES if c.name == name)
    path = hostile.build(case, tmp_path, valid)
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE.format(root=str(ROOT)), str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    m = json.loads(proc.stdout)
    assert m["status"] == case.status and case.code in m["codes"]
    assert m["seconds"] < 5, m
    assert m["rss_mb"] < 150, m


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'<!ENTITY leaked "LEAKED">')

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    _Recorder.hits = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_external_entities_and_dtds_never_read_a_file_or_the_network(valid, companion, tmp_path, http_server):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    local = hostile.external_entity(folder, valid, url=secret.as_uri())
    remote = hostile.external_dtd(folder, valid, url=http_server + "/evil.dtd")
    local.rename(folder / "外部实体 本地.xlsx")
    local = folder / "外部实体 本地.xlsx"
    hostile.external_entity(folder, valid, url=http_server + "/entity").rename(folder / "外部实体 网络.xlsx")
    code, records = check_folder(folder, tmp_path / "out")
    for name in (local.name, remote.name, "外部实体 网络.xlsx"):
        assert [f["code"] for f in records[name]["findings"]] == ["FILE_XML_UNSAFE"], name
    assert_companion_normal(records)
    assert _Recorder.hits == []
    assert "SECRET" not in (tmp_path / "out" / "r.json").read_text(encoding="utf-8")
    # Defence in depth: even past the byte scan, the parser itself resolves nothing.
    from lxml import etree

    doc = f'<!DOCTYPE a [<!ENTITY x SYSTEM "{secret.as_uri()}"><!ENTITY y SYSTEM "{http_server}/y">]><a>&x;&y;</a>'.encode()
    root = etree.fromstring(doc, xlsx._PARSER)
    assert b"SECRET" not in etree.tostring(root)
    for _event, _el in etree.iterparse(__import__("io").BytesIO(doc), **xlsx._PARSER_OPTIONS):
        pass
    assert _Recorder.hits == []


def test_entity_expansion_is_not_performed_even_by_the_parser():
    from lxml import etree

    try:
        root = etree.fromstring(hostile.BILLION_LAUGHS.encode(), xlsx._PARSER)
    except etree.XMLSyntaxError as exc:  # libxml2's own amplification guard
        assert "amplification" in str(exc) or "entit" in str(exc).lower()
    else:
        assert len(etree.tostring(root)) < 10_000


# ---------------------------------------------------------------- what the file says it is


def test_not_our_template_says_what_it_contains(companion, tmp_path):
    folder = _folder(tmp_path, hostile.not_our_template)
    shutil.copy(companion, folder / COMPANION)
    code, records = check_folder(folder, tmp_path / "out")
    (f,) = records["自制表格.xlsx"]["findings"]
    assert f["code"] == "NOT_OUR_TEMPLATE" and "自评表" in f["message"] and "附表" in f["message"] and "下发" in f["message"]
    assert_companion_normal(records)
    assert code == 1


def test_other_framework_version_says_found_and_expected(valid, companion, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    hostile.other_version(folder, valid)
    code, records = check_folder(folder, tmp_path / "out")
    r = records["旧框架版本.xlsx"]
    f = next(f for f in r["findings"] if f["code"] == "FRAMEWORK_VERSION_MISMATCH")
    assert r["status"] == "failed" and "2019.1" in f["message"] and "2020.1" in f["message"]
    assert_companion_normal(records)
    assert code == 1


def test_template_of_another_year_is_reported_with_its_year(companion, tmp_path):
    from dataclasses import replace

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    write_filled(plan_for(replace(WUCHANG, year=2019)), clean_project_values(), folder / "去年的表.xlsx")
    code, records = check_folder(folder, tmp_path / "out")
    assert records["去年的表.xlsx"]["year"] == 2019  # said even when no year is expected
    code, records = check_folder(folder, tmp_path / "out2", "--year", "2021")
    r = records["去年的表.xlsx"]
    (f,) = [f for f in r["findings"] if f["code"] == "YEAR_MISMATCH"]
    assert r["status"] == "failed" and "2019" in f["message"] and "2021" in f["message"]
    assert_companion_normal(records)
    assert code == 1


# ---------------------------------------------------------------- names, duplicates, two files one unit


def test_file_names_with_spaces_chinese_and_formula_characters(valid, companion, tmp_path):
    folder = tmp_path / "回收 文件 2020"
    (folder / "子 文件夹").mkdir(parents=True)
    shutil.copy(companion, folder / COMPANION)
    names = ["武昌区 档案馆（终稿） 2020.xlsx", "=HYPERLINK(1) 表.xlsx", "-1+2.xlsx", "@SUM 表.xlsx"]
    for name in names:
        write_project(folder / "子 文件夹" / name)
    code, records = check_folder(folder, tmp_path / "out")
    for name in names:
        assert records[name]["status"] == "passed" and len(records[name]["evaluations"]) == 2
    assert_companion_normal(records)
    _assert_no_formula_anywhere(tmp_path / "out")


def test_same_file_twice_and_two_files_claiming_one_unit(valid, companion, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    shutil.copy(valid, folder / "a 第一次.xlsx")
    shutil.copy(valid, folder / "b 第二次.xlsx")
    write_project(folder / "c 另一份.xlsx", PROJ1_EXECUTED=290, PROJ1_NOTE="部分采购延至次年", PROJ1_DECLARED_SCORE=99.67)
    code, records = check_folder(folder, tmp_path / "out")
    second = [f["code"] for f in records["b 第二次.xlsx"]["findings"]]
    other = records["c 另一份.xlsx"]["findings"]
    assert second == ["DUPLICATE_FILE"] and records["b 第二次.xlsx"]["status"] == "passed"
    assert [f["code"] for f in other] == ["DUPLICATE_UNIT"] and "武昌区档案馆" in other[0]["message"]
    assert records["a 第一次.xlsx"]["findings"] == []
    assert all(len(records[n]["evaluations"]) == 2 for n in ("a 第一次.xlsx", "b 第二次.xlsx", "c 另一份.xlsx"))
    assert_companion_normal(records)


def test_odd_folders_never_stop_the_batch(valid, companion, tmp_path):
    """A link loop, a FIFO named like a workbook and an unreadable folder are passed over."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    os.mkfifo(folder / "管道.xlsx")
    locked = folder / "无权限"
    locked.mkdir()
    shutil.copy(valid, locked / "x.xlsx")
    locked.chmod(0)
    try:
        code, records = check_folder(folder, tmp_path / "out")
    finally:
        locked.chmod(0o755)
    assert COMPANION in records and "管道.xlsx" not in records
    assert_companion_normal(records)


# ---------------------------------------------------------------- outputs


def _assert_no_formula_anywhere(out: Path) -> None:
    for book in out.rglob("*.xlsx"):
        wb = openpyxl.load_workbook(book)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.lstrip(" \u3000").startswith(TRIGGERS), (book.name, cell.coordinate, cell.value)
    for path in out.rglob("*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for value in row:
                    assert not value.lstrip(" \u3000").startswith(TRIGGERS) or _is_number(value), value
    for path in out.rglob("*.json"):

        def walk(x):
            if isinstance(x, str):
                assert not x.lstrip(" \u3000").startswith(TRIGGERS), x
            elif isinstance(x, dict):
                for v in x.values():
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)

        walk(json.loads(path.read_text(encoding="utf-8")))


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_text_from_a_submission_never_becomes_a_formula(valid, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    hostile.set_meta(valid, folder / "注入.xlsx", unit_name="=cmd|' /C calc'!A0", unit_code="@code")
    write_project(folder / "注入2.xlsx", INFO_CONTACT='=HYPERLINK("http://x","点我")', INFO_PHONE="+86 27 8888", PROBLEMS="-1+1", IMPROVEMENTS="@SUM(A1)")
    out = tmp_path / "out"
    code, records = check_folder(folder, out, "--feedback", str(out / "意见"))
    assert records["注入.xlsx"]["unit"].endswith("=cmd|' /C calc'!A0")
    assert len(list((out / "意见").iterdir())) == 2
    _assert_no_formula_anywhere(out)


def test_an_output_that_is_an_input_is_refused(valid, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    target = folder / "a.xlsx"
    shutil.copy(valid, target)
    os.link(target, tmp_path / "hardlink.xlsx")
    before = _hashes(folder)
    for args in (["--out", str(target)], ["--out", str(tmp_path / "s.xlsx"), "--json", str(target)], ["--out", str(tmp_path / "hardlink.xlsx")]):
        assert main(["check", str(folder), *args, "--quiet"]) == 2
    assert _hashes(folder) == before
    assert not (tmp_path / "s.xlsx").exists()


def test_an_interrupted_run_leaves_the_old_outputs_whole(valid, companion, tmp_path, monkeypatch):
    from xltool import report

    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(companion, folder / COMPANION)
    shutil.copy(valid, folder / "b.xlsx")
    out = tmp_path / "out"
    check_folder(folder, out)
    old = _hashes(out)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    # Interrupted while the summary workbook is being written …
    monkeypatch.setattr(report.summary, "_close_workbook", interrupted)
    assert main(["check", str(folder), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--quiet"]) == 1
    assert _hashes(out) == old
    monkeypatch.undo()
    # … and half-way through the JSON report (after its first file).
    calls = {"n": 0}
    real = report.tabular._json_item  # one file's JSON text

    def second_fails(value):
        if isinstance(value, dict) and "findings" in value:
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
        return real(value)

    monkeypatch.setattr(report.tabular, "_json_item", second_fails)
    assert main(["check", str(folder), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--quiet"]) == 1
    assert {k: v for k, v in _hashes(out).items() if k != "汇总.xlsx"} == {k: v for k, v in old.items() if k != "汇总.xlsx"}
    assert sorted(p.name for p in out.iterdir()) == sorted(old), "a temporary file was left behind"
    # With no old output, an interrupted run leaves none.
    calls["n"] = 0
    fresh = tmp_path / "fresh"
    assert main(["check", str(folder), "--out", str(fresh / "汇总.xlsx"), "--json", str(fresh / "r.json"), "--quiet"]) == 1
    assert not (fresh / "r.json").exists() and not any(p.name.endswith(".tmp") for p in fresh.iterdir())


# ---------------------------------------------------------------- the reader's own limits


def test_limits_are_sane_for_real_templates(valid):
    """Real templates are far below every limit; the limits keep memory well under 200 MB."""
    import zipfile

    with zipfile.ZipFile(valid) as z:
        assert max(i.file_size for i in z.infolist()) * 50 < xlsx.MAX_PART_BYTES
    assert xlsx.MAX_TREE_BYTES <= 1024 * 1024 and xlsx.MAX_PART_BYTES <= 16 * 1024 * 1024
    book, pkg = xlsx.open_book(valid.read_bytes())
    for name in book.sheets:
        xlsx.load_sheet(book, pkg, name)
    assert book.cell_count * 20 < xlsx.MAX_CELLS


def test_streamed_and_whole_parsing_read_the_same_cells(valid, monkeypatch):
    """A part above MAX_TREE_BYTES is streamed: the same cells, formulas and protection."""
    whole, pkg = xlsx.open_book(valid.read_bytes())
    for name in whole.sheets:
        xlsx.load_sheet(whole, pkg, name)
    monkeypatch.setattr(xlsx, "MAX_TREE_BYTES", 100)
    streamed, pkg = xlsx.open_book(valid.read_bytes())
    for name in streamed.sheets:
        xlsx.load_sheet(streamed, pkg, name)
    assert streamed.names == whole.names and streamed.unlocked_styles == whole.unlocked_styles
    for name, sheet in whole.sheets.items():
        assert streamed.sheets[name].cells == sheet.cells and streamed.sheets[name].protected == sheet.protected, name


def test_shared_formulas_are_translated_when_asked(tmp_path, valid):
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{hostile.NS}"><sheetData>'
        '<row r="1"><c r="A1"><f t="shared" ref="A1:A3" si="0">B1*2</f><v>0</v></c></row>'
        '<row r="2"><c r="A2"><f t="shared" si="0"/><v>0</v></c></row>'
        '<row r="3"><c r="A3"><f t="shared" si="0"/></c></row></sheetData></worksheet>'
    )
    path = hostile.rewrite(valid, tmp_path / "shared.xlsx", lambda n, d: sheet.encode() if n == hostile.sheet_part(valid, "填表说明") else d)
    book, pkg = xlsx.open_book(path.read_bytes())
    cells = xlsx.load_sheet(book, pkg, "填表说明").cells
    assert [cells[(r, 0)].formula for r in range(3)] == ["=B1*2", "=B2*2", "=B3*2"]


@pytest.mark.parametrize("text", ["", "PK", "PK\x03\x04", "PK\x05\x06" + "\0" * 18])
def test_tiny_zip_like_files(text, tmp_path):
    from xltool.check.batch import check_file

    path = tmp_path / "x.xlsx"
    path.write_bytes(text.encode("latin-1"))
    r = check_file(path, strict=True)
    assert r.status == "unreadable" and r.findings[0].code in ("FILE_EMPTY", "FILE_CORRUPT", "NOT_OUR_TEMPLATE")


def test_zip_signatures_inside_an_embedded_object_are_not_a_bomb(valid, companion, tmp_path):
    folder = tmp_path / "回收"
    folder.mkdir()
    path = hostile.pk_in_embedding(folder, valid)
    _code, records = check_folder(folder, tmp_path / "out")
    r = records[path.name]
    assert r["status"] == "passed", r["findings"][:2]
    assert r["findings"] == []


@pytest.mark.parametrize(
    "case, words, wrong",
    [
        ("many_parts", ["部件", "上限 5000 个", "图片"], ["解压后"]),
        ("ods_file", ["OpenDocument 表格（.ods）", "另存为", "Excel 工作簿（.xlsx）"], ["不是财政部门下发"]),
        ("strict_ooxml", ["Strict Open XML", "另存为", "Excel 工作簿（.xlsx）"], ["不是财政部门下发"]),
        ("word_doc", ["不是 Excel 工作簿", "看起来是其他 Office 文档（如 Word .doc）"], [".xls 格式"]),
        ("csv_renamed", ["看起来是CSV"], []),
    ],
)
def test_sentences_fit_their_case(case, words, wrong, valid, tmp_path):
    from xltool.check.batch import check_paths

    built = hostile.build(next(c for c in hostile.CASES if c.name == case), tmp_path, valid)
    (result,) = check_paths([built])
    message = result.findings[0].message
    for word in words:
        assert word in message, message
    for word in wrong:
        assert word not in message, message


def test_too_many_defined_names_is_not_told_to_delete_pictures(valid, tmp_path):
    from xltool.check.batch import check_paths

    names = "".join(f'<definedName name="n{i}">Sheet1!$A$1</definedName>' for i in range(xlsx.MAX_NAMES + 1))

    def edit(name, data):
        if name == "xl/workbook.xml":
            text = data.decode("utf-8")
            if "<definedNames>" in text:
                return text.replace("<definedNames>", "<definedNames>" + names, 1).encode("utf-8")
            return text.replace("</sheets>", "</sheets><definedNames>" + names + "</definedNames>", 1).encode("utf-8")
        return data

    (result,) = check_paths([hostile.rewrite(valid, tmp_path / "名称过多.xlsx", edit)])
    f = result.findings[0]
    assert f.code == "FILE_TOO_LARGE"
    assert "定义名称超过" in f.message and "复制" in f.message and "图片" not in f.message.split("。")[0]


def test_a_kind_that_does_not_match_its_framework_is_said_in_chinese(valid, tmp_path):
    from xltool.check.batch import check_paths

    (result,) = check_paths([hostile.set_meta(valid, tmp_path / "类型不符.xlsx", kind="department")])
    f = result.findings[0]
    assert f.code == "NOT_OUR_TEMPLATE"
    assert "记录的评价类型“部门整体”与评价框架" in f.message and "kind" not in f.message


@given(st.integers(min_value=0, max_value=16_383), st.integers(min_value=0, max_value=1_048_575))
def test_column_letters_and_cell_references_round_trip(col, row):
    from xltool.check.xlsx import parse_ref
    from xltool.template.layout import a1, col_letter, col_number

    assert col_number(col_letter(col)) == col
    assert parse_ref(a1(row, col)) == (row, col)
    assert parse_ref(a1(row, col, absolute=True)) == (row, col)
