"""Every correct file passes after staff open and save it in another program.

Each template kind (project, department), with and without a unit code, untouched and correctly
filled, is re-saved by LibreOffice (xlsx with both of its Excel filters, xlsm, via .ods and via
.xls), by Gnumeric (ssconvert) and by openpyxl (load + save): none may get an integrity finding,
and a correctly filled one passes with no finding at all.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from cases import clean_department_values, clean_project_values
from conftest import WUCHANG, WUHAN
from xltool.check.batch import check_file
from xltool.template.fill import write_filled
from xltool.template import plan_for, write_plan

# Codes that say the template itself was changed: none may appear on a correct file re-saved.
INTEGRITY = {
    "PREFILL_CHANGED", "LOCKED_CHANGED", "FORMULA_CHANGED", "STRUCTURE_CHANGED", "NAME_MISSING", "SHEET_MISSING",
    "FINGERPRINT_MISMATCH", "EXTRA_CONTENT", "PROTECTION_REMOVED", "SIGNATURE_MISSING", "SIGNATURE_INVALID",
    "META_DUPLICATE", "FRAMEWORK_UNKNOWN", "FRAMEWORK_VERSION_MISMATCH", "NOT_OUR_TEMPLATE",
}

UNITS = {
    "project": WUCHANG,
    "project_nocode": replace(WUCHANG, code=""),
    "department": WUHAN,
    "department_nocode": replace(WUHAN, code=""),
}


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("originals")
    out = {}
    for key, unit in UNITS.items():
        plan = plan_for(unit)
        out[f"{key}_blank"] = write_plan(plan, folder / f"{key}_blank.xlsx")
        values = clean_project_values() if unit.kind == "project" else clean_department_values()
        out[f"{key}_filled"] = write_filled(plan, values, folder / f"{key}_filled.xlsx")
    return out


def _assert_correct(key: str, path: Path) -> None:
    result = check_file(path)
    codes = [(f.code, f.sheet, f.cell, f.message) for f in result.findings]
    assert not [c for c in codes if c[0] in INTEGRITY], (key, path.name, codes)
    assert result.status != "unreadable", (key, codes)
    if key.endswith("_filled"):
        assert (result.status, codes) == ("passed", []), key


def test_the_originals_pass(originals):
    for key, path in originals.items():
        _assert_correct(key, path)


def test_openpyxl_resave(originals, tmp_path):
    for key, path in originals.items():
        out = tmp_path / path.name
        openpyxl.load_workbook(path).save(out)
        _assert_correct(key, out)


def test_gnumeric_resave(originals, tmp_path):
    ssconvert = shutil.which("ssconvert")
    if ssconvert is None:
        pytest.skip("Gnumeric（ssconvert）未安装")
    for key, path in originals.items():
        out = tmp_path / path.name
        subprocess.run([ssconvert, "--export-type=Gnumeric_Excel:xlsx2", str(path), str(out)], check=True, capture_output=True, timeout=120)
        _assert_correct(key, out)


@pytest.mark.parametrize("route", [("xlsx",), ("ooxml",), ("xlsm",), ("ods", "xlsx"), ("xls", "xlsx")], ids=lambda r: "→".join(r))
def test_libreoffice_resave(originals, tmp_path, route):
    from libreoffice import require_libreoffice, resave_many

    require_libreoffice()
    keys = list(originals)
    files = [originals[k] for k in keys]
    for step, fmt in enumerate(route):  # one soffice run per step, every file at once
        files = resave_many(files, tmp_path / f"{step}_{fmt}", fmt=fmt, recalc=True)
    for key, path in zip(keys, files):
        _assert_correct(key, path)
