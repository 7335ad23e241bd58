"""Tests of the LibreOffice test utility (tests/libreoffice.py) against a real soffice.

They pin down what the rest of the suite relies on: a re-save recalculates formulas whose
cached values are stale, and keeps the defined names, validations and protection the reader needs.
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from libreoffice import require_libreoffice, resave, resave_many, soffice_path

SHEET = "基本信息"

# Formula cells with the value a correct recalculation must cache. Every one is written with a
# stale cached 0, as xlsxwriter does by default.
FORMULAS = {
    "A3": ("=A1*A2", 6),
    "B3": ('=ROUND(IF(ISNUMBER(A1),SUMIFS(A1:A2,B1:B2,"x")+MEDIAN(A1:A2,10),0),1)', 5),
    "C3": ("=ROUND(2.675,2)", 2.68),
    "D3": ('=IF(A1>1,"达成","未达成")', "达成"),
    "E3": ("=SUM(TOTAL)", 5),  # through a defined name
}


def make_workbook(path: Path) -> Path:
    """A small xltool-like workbook: CJK sheet names, a name, validations, protection, a very hidden sheet."""
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    lists = wb.add_worksheet("_lists")
    meta = wb.add_worksheet("_meta")
    unlocked = wb.add_format({"locked": False})
    ws.write("A1", 2)
    ws.write("A2", 3)
    ws.write("B1", "x")
    ws.write("B2", "y")
    for cell, (formula, _) in FORMULAS.items():
        ws.write_formula(cell, formula, None, 0)
    ws.write_blank("F1", None, unlocked)
    ws.write_blank("G1", None, unlocked)
    lists.write_column("A1", ["是", "否"])
    ws.data_validation("F1", {"validate": "list", "source": "='_lists'!$A$1:$A$2"})
    ws.data_validation("G1", {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 100})
    ws.protect("")
    lists.hide()
    meta.write("A1", "template_id")
    meta.very_hidden()
    wb.define_name("TOTAL", f"='{SHEET}'!$A$1:$A$2")
    wb.define_name("INPUT", f"='{SHEET}'!$F$1")
    wb.close()
    return path


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return make_workbook(tmp_path_factory.mktemp("src") / "sample.xlsx")


@pytest.fixture(scope="module")
def resaved(source, tmp_path_factory) -> Path:
    """One recalculating re-save shared by the tests that only read it (each call costs ~2 s)."""
    require_libreoffice()
    return resave(source, tmp_path_factory.mktemp("out"))


def unquote(ref: str) -> str:
    """LibreOffice drops the quotes around sheet names that need none: compare without them."""
    return ref.replace("'", "")


def test_soffice_found():
    assert require_libreoffice() == soffice_path()


def test_require_libreoffice_skips_locally_and_fails_on_ci(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        require_libreoffice()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        require_libreoffice()


def test_stale_cached_values_are_recalculated(source, resaved):
    require_libreoffice()
    before = openpyxl.load_workbook(source, data_only=True)[SHEET]
    after = openpyxl.load_workbook(resaved, data_only=True)[SHEET]
    assert before["A3"].value == 0  # the stale value the test is about
    assert {cell: after[cell].value for cell in FORMULAS} == {cell: want for cell, (_, want) in FORMULAS.items()}


def test_without_recalc_stale_values_stay(source, tmp_path):
    # LibreOffice's own default ("never recalculate") trusts a cached 0: the reason recalc=True exists.
    require_libreoffice()
    out = resave(source, tmp_path, recalc=False)
    assert openpyxl.load_workbook(out, data_only=True)[SHEET]["A3"].value == 0


def test_formulas_names_validations_and_protection_survive(source, resaved):
    require_libreoffice()
    before, after = openpyxl.load_workbook(source), openpyxl.load_workbook(resaved)
    assert {n: unquote(d.attr_text) for n, d in after.defined_names.items()} == {
        n: unquote(d.attr_text) for n, d in before.defined_names.items()
    }
    ws0, ws1 = before[SHEET], after[SHEET]
    assert {c: unquote(ws1[c].value) for c in FORMULAS} == {c: unquote(ws0[c].value) for c in FORMULAS}
    rules = {
        str(v.sqref): (v.type, unquote(v.formula1), v.formula2 if v.type != "list" else None)
        for v in ws1.data_validations.dataValidation
    }
    assert rules == {"F1": ("list", "_lists!$A$1:$A$2", None), "G1": ("decimal", "0", "100")}
    assert ws1.protection.sheet
    assert [ws1[c].protection.locked for c in ("A1", "A3", "F1", "G1")] == [True, True, False, False]
    assert after["_lists"].sheet_state == "hidden"
    # LibreOffice 7.4 writes a very hidden sheet back as merely "hidden": never "visible".
    assert after["_meta"].sheet_state in ("hidden", "veryHidden")
    assert after["_meta"]["A1"].value == "template_id"


def test_xls_pdf_and_csv(source, tmp_path):
    require_libreoffice()
    xls = resave(source, tmp_path, fmt="xls")
    assert xls.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")  # OLE2 compound file: BIFF8
    # The values computed on the way to .xls come back from it without any recalculation.
    back = resave(xls, tmp_path / "back", recalc=False)
    assert openpyxl.load_workbook(back, data_only=True)[SHEET]["A3"].value == 6
    pdf = resave(source, tmp_path, fmt="pdf")
    assert pdf.read_bytes().startswith(b"%PDF")
    csv = resave(source, tmp_path, fmt="csv")  # first sheet only
    assert csv.read_text(encoding="utf-8").splitlines()[2].split(",")[:4] == ["6", "5", "2.68", '"达成"']


def test_resave_many_converts_in_one_run(source, tmp_path):
    require_libreoffice()
    other = tmp_path / "src" / "other.xlsx"
    other.parent.mkdir()
    shutil.copy(source, other)
    outs = resave_many([source, other], tmp_path / "out")
    assert [p.name for p in outs] == ["sample.xlsx", "other.xlsx"]
    for out in outs:
        assert openpyxl.load_workbook(out, data_only=True)[SHEET]["A3"].value == 6


def test_parallel_calls_do_not_collide(source, tmp_path):
    # Each call has its own profile; with a shared one the second soffice would hand its job over.
    require_libreoffice()
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(lambda i: resave(source, tmp_path / str(i)), range(2)))
    assert [openpyxl.load_workbook(o, data_only=True)[SHEET]["A3"].value for o in outs] == [6, 6]


def test_bad_input(tmp_path):
    require_libreoffice()
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook\x00\x01")
    with pytest.raises(RuntimeError, match="could not be loaded"):
        resave(junk, tmp_path / "out")
    with pytest.raises(FileNotFoundError):
        resave(tmp_path / "missing.xlsx", tmp_path / "out")
    with pytest.raises(ValueError):
        resave(junk, tmp_path, fmt="docx")
    with pytest.raises(ValueError):  # would overwrite its source
        resave(junk, tmp_path)


def test_timeout_kills_the_whole_process_group(source, tmp_path, monkeypatch):
    require_libreoffice()
    # The private profile lands under tmp_path, so any survivor can be found by its command line.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(RuntimeError, match="timed out"):
        resave(source, tmp_path / "out", timeout=0.3)
    survivors = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(tmp_path).encode() in cmdline.read_bytes():
                survivors.append(cmdline.parent.name)
        except OSError:  # the process ended while being looked at
            pass
    assert survivors == []
