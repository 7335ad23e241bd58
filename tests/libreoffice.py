"""Open, recalculate and re-save workbooks with real LibreOffice (headless), as archive staff would.

Recalculation — the question this module exists to answer (verified with LibreOffice 7.4.7.2):

- xlsxwriter writes every formula with a cached value (0 by default, "" in xltool's writer) and sets
  `<calcPr fullCalcOnLoad="1"/>`. Excel and WPS honour that flag; LibreOffice ignores it.
- LibreOffice's own setting decides instead: org.openoffice.Office.Calc/Formula/Load/OOXMLRecalcMode
  (Tools > Options > Calc > Formula > "Recalculation on File Load", Excel 2007 and newer):
  0 = always, 1 = never, 2 = prompt. The shipped default is 1 (never), ODFRecalcMode likewise.
  With "never" a cached value is trusted: =A1*A2 written with value 0 is re-saved still holding 0
  (checked: a plain `soffice --convert-to xlsx` of such a file gives 0, not 6). Only a formula
  whose cached value is empty (`<v></v>`, what xltool's writer emits) or absent is computed.
  With "prompt", headless conversion fails outright: "Error: source file could not be loaded".
- So every call here starts LibreOffice with a fresh private profile (-env:UserInstallation) whose
  registrymodifications.xcu sets both modes before the first start: 0 (always) for recalc=True,
  1 (never) for recalc=False, so the result never depends on the machine's own profile. With 0 the
  re-saved file holds the true values (A1*A2 → 6; ROUND/IF/SUMIFS/MEDIAN/ISNUMBER correct).
  A private profile also keeps parallel or stale soffice processes apart (a second soffice on a
  profile in use hands its job to the running one and returns at once), and a fresh one costs
  nothing measurable: one call takes about 1.5–2 s either way.

What a LibreOffice re-save of an xltool template changes (the reader must tolerate all of it):
- Sheet names lose their quotes wherever they need none, in formulas, defined names and list
  validations alike: '基本信息'!$B$4 becomes 基本信息!$B$4 ('数据 表' keeps its quotes).
  Formula text otherwise stays Excel syntax; TRUE becomes TRUE(); _xlfn. prefixes are kept.
- Defined names (workbook and sheet scoped), data validations, sheet protection (no password),
  locked/unlocked cell styles, merged cells, conditional formats and document properties survive.
  Validations gain explicit defaults (operator="between", errorStyle="stop", formula2 "0").
- A very hidden sheet comes back merely hidden. Headless conversion also drops the view settings:
  freeze panes, hidden gridlines. A formula returning "" is written t="str" <v></v> (openpyxl: None).
- Via .xls, SUMIFS and other post-2003 functions leave an empty defined name such as _xlfn_SUMIFS.

Other facts worth knowing:
- soffice exits 0 even when it cannot load or convert a file, so success means "the output
  file exists"; otherwise RuntimeError carries LibreOffice's output.
- The output is named <stem>.<fmt> in dest_dir: two inputs with the same stem would collide, and
  re-saving into the source's own folder with the same format would overwrite the source.
- "csv" writes the first sheet only, UTF-8, comma separated.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

# --convert-to target "ext:Filter name[:options]" per format.
FILTERS = {
    "xlsx": "xlsx:Calc MS Excel 2007 XML",
    "xls": "xls:MS Excel 97",
    "xlsm": "xlsm:Calc MS Excel 2007 VBA XML",
    "ooxml": "xlsx:Calc Office Open XML",  # the "Office Open XML 电子表格" choice of the save dialog
    "ods": "ods:calc8",
    "pdf": "pdf:calc_pdf_Export",
    # 44 = comma, 34 = double quote, 76 = UTF-8, 1 = start at line 1.
    "csv": "csv:Text - txt - csv (StarCalc):44,34,76,1",
}

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>{mode}</value></prop></item>
</oor:items>
"""


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def require_libreoffice() -> str:
    """Skip the calling test without LibreOffice — except on CI, which must have it installed."""
    path = soffice_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice 未安装：CI 必须安装 libreoffice-calc（见 .ci/run）")
        pytest.skip("LibreOffice 未安装")
    return path


def resave(src: Path, dest_dir: Path, *, fmt: str = "xlsx", recalc: bool = True, timeout: float = 120) -> Path:
    """Open src in LibreOffice and save it as fmt into dest_dir; returns the written file."""
    return resave_many([src], dest_dir, fmt=fmt, recalc=recalc, timeout=timeout)[0]


def resave_many(srcs, dest_dir: Path, *, fmt: str = "xlsx", recalc: bool = True, timeout: float = 120) -> list[Path]:
    """Convert several files in one soffice run (start-up is most of the cost of a call)."""
    if fmt not in FILTERS:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FILTERS)}")
    soffice = soffice_path()
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) not found")
    srcs = [Path(s).resolve() for s in srcs]
    for src in srcs:  # LibreOffice would only say "source file could not be loaded"
        if not src.is_file():
            raise FileNotFoundError(src)
    dest_dir = Path(dest_dir).resolve()
    dest_dir.mkdir(parents=True, exist_ok=True)
    ext = FILTERS[fmt].split(":")[0]
    outs = [dest_dir / f"{s.stem}.{ext}" for s in srcs]
    if len(set(outs)) != len(outs):
        raise ValueError("two inputs would be written to the same output name")
    if set(outs) & set(srcs):
        raise ValueError("the output would overwrite its source; use another dest_dir")
    for out in outs:  # a stale output must not pass for a fresh one
        out.unlink(missing_ok=True)

    # ignore_cleanup_errors: after a kill, a dying soffice.bin may still be writing to the profile.
    with tempfile.TemporaryDirectory(prefix="lo-profile-", ignore_cleanup_errors=True) as profile:
        user = Path(profile, "user")
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE.format(mode=0 if recalc else 1), encoding="utf-8")
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            "--convert-to", FILTERS[fmt], "--outdir", str(dest_dir), *map(str, srcs),
        ]
        # A session of its own: soffice is a script starting oosplash and soffice.bin, and a hung
        # conversion must be killed as a whole group, not leave soffice.bin behind.
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise RuntimeError(f"LibreOffice timed out after {timeout}s converting {[s.name for s in srcs]}") from None

    missing = [out for out in outs if not out.exists()]
    if missing:
        raise RuntimeError(
            f"LibreOffice wrote no {', '.join(m.name for m in missing)} (exit {proc.returncode}):\n"
            + (stderr.decode(errors="replace") + stdout.decode(errors="replace")).strip()
        )
    return outs
