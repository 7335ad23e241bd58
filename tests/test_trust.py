"""What the checker believes: never a path written inside a returned file, never a defined name
stretched beyond its layout, never a forged or unsigned `_meta` sheet."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

import hostile
from cases import write_department, write_project
from xltool.check.batch import check_file
from xltool.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _codes(result) -> list[str]:
    return [f.code for f in result.findings]


# ---------------------------------------------------------------- item 7: framework by name only


@pytest.fixture
def valid(tmp_path) -> Path:
    return write_project(tmp_path / "valid.xlsx")


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_framework_named_as_a_device_or_fifo_is_never_opened(tmp_path, valid, target):
    if target == "fifo":
        target = str(tmp_path / "framework.yaml")
        os.mkfifo(target)  # opening it for reading would wait for a writer for ever
    forged = hostile.set_meta(valid, tmp_path / "forged.xlsx", framework=target)
    start = time.monotonic()
    result = check_file(forged)
    assert time.monotonic() - start < 5
    assert result.status == "unreadable"
    assert _codes(result) == ["FRAMEWORK_UNKNOWN"]
    assert "请使用财政部门今年下发的模板" in result.findings[0].message


def test_a_custom_framework_is_found_only_when_given_on_the_command_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("XLTOOL_FRAMEWORKS", raising=False)
    text = (ROOT / "workbook_templates" / "project.yaml").read_text(encoding="utf-8")
    custom = tmp_path / "本市项目框架.yaml"
    custom.write_text(re.sub(r"(?m)^name: project$", "name: city-project", text), encoding="utf-8")
    out = tmp_path / "模板"
    assert main(["template", "--framework", str(custom), "--unit", "示例馆", "--year", "2022", "--out", str(out), "--quiet"]) == 0
    (template,) = out.glob("*.xlsx")
    report = tmp_path / "r.json"
    main(["check", str(template), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--quiet"])
    assert [f["code"] for f in json.loads(report.read_text(encoding="utf-8"))[0]["findings"]] == ["FRAMEWORK_UNKNOWN"]
    main(["check", str(template), "--framework", str(custom), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--quiet"])
    (entry,) = json.loads(report.read_text(encoding="utf-8"))
    assert entry["status"] != "unreadable"
    assert entry["framework"].startswith("city-project")
    assert "FRAMEWORK_UNKNOWN" not in [f["code"] for f in entry["findings"]]


# ---------------------------------------------------------------- item 8: names bounded by the layout


def _stretch_names(src: Path, dest: Path) -> Path:
    """Every multi-row defined name made to reach the sheet's last row (1,048,576)."""

    def edit(name, data):
        if name != "xl/workbook.xml":
            return data
        text = data.decode()
        text, count = re.subn(r"(\$[A-Z]+\$[0-9]+:\$[A-Z]+\$)[0-9]+(</definedName>)", r"\g<1>1048576\g<2>", text)
        assert count > 10
        return text.encode()

    return hostile.rewrite(src, dest, edit)


_MEASURE = """
import resource, sys, time
from xltool.check.batch import check_file
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
result = check_file(sys.argv[1])
elapsed = time.monotonic() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, (after - before) // 1024, result.status, *sorted({f.code for f in result.findings}))
"""


@pytest.mark.parametrize("build", [write_project, write_department], ids=["project", "department"])
def test_names_stretched_to_the_last_row_are_read_in_bounded_time_and_memory(tmp_path, build):
    import subprocess
    import sys

    stretched = _stretch_names(build(tmp_path / "valid.xlsx"), tmp_path / "stretched.xlsx")
    assert stretched.stat().st_size < 100_000
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(stretched)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    elapsed, grown_mb, status, *codes = done.stdout.split()
    assert float(elapsed) < 5
    assert int(grown_mb) < 100  # peak memory grew by less than 100 MB while checking it
    assert status == "failed"
    assert "NAME_RANGE_CHANGED" in codes


def test_a_stretched_name_is_named_with_both_ranges(tmp_path):
    stretched = _stretch_names(write_project(tmp_path / "valid.xlsx"), tmp_path / "stretched.xlsx")
    result = check_file(stretched)
    first = next(f for f in result.findings if f.code == "NAME_RANGE_CHANGED")
    assert first.severity == "error"
    assert re.search(r"原为 [A-Z]+[0-9]+:[A-Z]+[0-9]+，现为 [A-Z]+[0-9]+:[A-Z]+1048576", first.message), first.message
    assert "STRUCTURE_CHANGED" not in _codes(result)


# ---------------------------------------------------------------- item 6: signed metadata, roster


def _edit_budget(src: Path, dest: Path, budget: int) -> Path:
    """PROJ1_BUDGET changed in the sheet (as if protection were removed): 300 → budget."""
    from cases import edit_sheet, number_cell, replace_cell
    from conftest import WUCHANG
    from xltool.template import plan_for
    from xltool.template.layout import a1

    spec = plan_for(WUCHANG).names["PROJ1_BUDGET"]
    ref = a1(spec.row, spec.col)
    return edit_sheet(src, dest, spec.sheet, lambda xml: replace_cell(xml, ref, number_cell(ref, budget)))


def _forged_pair(tmp_path: Path) -> Path:
    """The budget edited in the sheet and in the (unhidden) _meta sheet alike."""
    valid = write_project(tmp_path / "valid.xlsx")
    edited = _edit_budget(valid, tmp_path / "edited.xlsx", 500)
    prefills = '{"adjusted_budget": null, "final_accounts": null, "initial_budget": null, "projects": [["档案保护费", "500", null], ["史料编研费", "100", null]]}'
    return hostile.set_meta(edited, tmp_path / "forged.xlsx", prefills=prefills)


def test_the_unedited_file_is_signed_and_passes(tmp_path):
    result = check_file(write_project(tmp_path / "valid.xlsx"))
    assert (result.status, _codes(result)) == ("passed", [])


def test_budget_edited_in_the_sheet_and_in_meta_is_an_error(tmp_path):
    result = check_file(_forged_pair(tmp_path))
    assert result.status == "failed"
    (signature,) = [f for f in result.findings if f.code == "SIGNATURE_INVALID"]
    assert signature.severity == "error"
    assert "签名不符" in signature.message and "--key" in signature.message
    # The forged _meta's figures are not presented as what finance pre-filled.
    assert "PREFILL_CHANGED" not in _codes(result)


def test_budget_edited_in_the_sheet_only_names_the_signed_figure(tmp_path):
    result = check_file(_edit_budget(write_project(tmp_path / "valid.xlsx"), tmp_path / "edited.xlsx", 500))
    (changed,) = [f for f in result.findings if f.code == "PREFILL_CHANGED"]
    assert "原为“300”，现为“500”" in changed.message
    assert "SIGNATURE_INVALID" not in _codes(result)


def _second_meta(src: Path, dest: Path, unit: str) -> Path:
    """A forged copy of _meta (another unit name) listed first, under the same sheet name."""
    from xltool.check import xlsx

    book, pkg = xlsx.open_book(src.read_bytes())
    meta = xlsx.load_sheet(book, pkg, "_meta")
    row = next(r for (r, c), cell in meta.cells.items() if c == 0 and cell.value == "unit_name")
    part = hostile.sheet_part(src, "_meta")
    original = dict((m.name, m.data) for m in hostile.members_of(src))[part].decode()
    ref = f"B{row + 1}"
    forged = re.sub(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', f'<c r="{ref}" t="inlineStr"><is><t>{unit}</t></is></c>', original, count=1, flags=re.S)

    def edit(name, data):
        text = data.decode()
        if name == "xl/workbook.xml":
            return re.sub(r"<sheets>", '<sheets><sheet name="_meta" sheetId="99" state="hidden" r:id="rId99"/>', text, count=1).encode()
        if name == "xl/_rels/workbook.xml.rels":
            rel = '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet99.xml"/>'
            return text.replace("</Relationships>", rel + "</Relationships>").encode()
        if name == "[Content_Types].xml":
            override = '<Override PartName="/xl/worksheets/sheet99.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            return text.replace("</Types>", override + "</Types>").encode()
        return data

    return hostile.add_parts(src, dest, {"xl/worksheets/sheet99.xml": forged.encode()}, edit)


def test_a_second_meta_sheet_is_an_error_and_does_not_rename_the_unit(tmp_path):
    forged = _second_meta(write_project(tmp_path / "valid.xlsx"), tmp_path / "second.xlsx", "冒名档案馆")
    result = check_file(forged)
    assert result.status in ("failed", "unreadable")
    (duplicate,) = [f for f in result.findings if f.code == "META_DUPLICATE"]
    assert duplicate.severity == "error"
    assert "2 个元数据工作表" in duplicate.message
    assert result.unit == "武昌区档案馆"  # the signed metadata is the one read, not the forged copy


def test_a_duplicated_meta_key_is_an_error(tmp_path):
    from cases import edit_sheet

    valid = write_project(tmp_path / "valid.xlsx")
    extra = '<row r="60"><c r="A60" t="inlineStr"><is><t>unit_name</t></is></c><c r="B60" t="inlineStr"><is><t>冒名档案馆</t></is></c></row>'
    forged = edit_sheet(valid, tmp_path / "dup.xlsx", "_meta", lambda xml: xml.replace("</sheetData>", extra + "</sheetData>"))
    result = check_file(forged)
    assert "META_DUPLICATE" in _codes(result)
    assert result.unit == "武昌区档案馆"


def test_unsigned_metadata_is_an_error(tmp_path):
    from cases import edit_sheet

    valid = write_project(tmp_path / "valid.xlsx")
    # the signature is the last row of _meta
    unsigned = edit_sheet(valid, tmp_path / "unsigned.xlsx", "_meta", lambda xml: re.sub(r"<row (?:(?!<row ).)*?</row>(?=</sheetData>)", "", xml, flags=re.S))
    result = check_file(unsigned)
    assert result.status == "failed"
    assert "SIGNATURE_MISSING" in _codes(result)


def test_key_file_option_and_default_key(tmp_path, monkeypatch, capsys):
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.delenv("XLTOOL_KEY_FILE", raising=False)
    bureau = tmp_path / "财政局.key"
    bureau.write_text("d" * 64 + "\n", encoding="ascii")
    assert main(["template", "--framework", "project", "--unit", "示例馆", "--year", "2022", "--key", str(bureau), "--out", str(tmp_path / "t"), "--quiet"]) == 0
    assert "XLTOOL_KEY_FILE" not in os.environ  # a run leaves the environment as it found it
    (template,) = (tmp_path / "t").glob("*.xlsx")
    report = tmp_path / "r.json"
    main(["check", str(template), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--quiet"])
    assert "SIGNATURE_INVALID" in [f["code"] for f in json.loads(report.read_text(encoding="utf-8"))[0]["findings"]]
    key = config / "xltool" / "key"  # the default key, created on first use, readable by its owner only
    assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    main(["check", str(template), "--key", str(bureau), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--quiet"])
    codes = [f["code"] for f in json.loads(report.read_text(encoding="utf-8"))[0]["findings"]]
    assert not {"SIGNATURE_INVALID", "SIGNATURE_MISSING"} & set(codes)
    monkeypatch.delenv("XLTOOL_KEY_FILE", raising=False)
    assert main(["check", str(template), "--key", str(tmp_path / "没有.key"), "--out", str(tmp_path / "s.xlsx"), "--quiet"]) == 2
    assert "密钥文件" in capsys.readouterr().err


def _roster(path: Path, budget: str = "300") -> Path:
    path.write_text(
        "单位名称,单位编码,年度,类型,项目名称,全年预算数\n"
        f"武昌区档案馆,420106-DAG,2020,项目,档案保护费,{budget}\n"
        "武昌区档案馆,420106-DAG,2020,项目,史料编研费,100\n"
        "武汉市档案馆,420100-DAG,2021,部门整体,,\n",
        encoding="utf-8",
    )
    return path


def test_check_with_roster_compares_prefills_with_the_roster_and_lists_missing_units(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("XLTOOL_ROSTER", raising=False)
    returned = tmp_path / "回收"
    returned.mkdir()
    _forged_pair(tmp_path)  # budget 500 in the sheet and in _meta
    (tmp_path / "forged.xlsx").rename(returned / "武昌.xlsx")
    (tmp_path / "valid.xlsx").rename(returned / "武昌（原样）.xlsx")  # two files: worker processes check them
    report, csv_path = tmp_path / "r.json", tmp_path / "r.csv"
    code = main(["check", str(returned), "--roster", str(_roster(tmp_path / "名册.csv")), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--csv", str(csv_path), "--feedback", str(tmp_path / "fb"), "--jobs", "2"])
    assert code == 1
    entries = json.loads(report.read_text(encoding="utf-8"))
    wuchang = next(e for e in entries if e["file"].endswith("武昌.xlsx"))
    assert next(e for e in entries if e["file"].endswith("（原样）.xlsx"))["findings"][0]["code"] == "DUPLICATE_UNIT"
    (changed,) = [f for f in wuchang["findings"] if f["code"] == "PREFILL_CHANGED"]
    assert "原为“300（名册）”，现为“500”" in changed["message"]
    (missing,) = [e for e in entries if e["status"] == "missing"]
    assert (missing["unit"], missing["year"], missing["kind"], missing["file"]) == ("武汉市档案馆", 2021, "department", "")
    assert [f["code"] for f in missing["findings"]] == ["MISSING_RETURN"]
    assert "没有交回自评文件" in missing["findings"][0]["message"]
    assert "武汉市档案馆" in csv_path.read_text(encoding="utf-8-sig")
    assert "未交" in capsys.readouterr().out
    assert len(list((tmp_path / "fb").iterdir())) == 2  # feedback only for files that came back
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["汇总"]
    assert any(cell.value == "未交" for row in ws.iter_rows() for cell in row)


def test_check_with_roster_passes_a_correct_return(tmp_path, monkeypatch):
    monkeypatch.delenv("XLTOOL_ROSTER", raising=False)
    write_project(tmp_path / "武昌.xlsx")
    roster = tmp_path / "名册.csv"
    roster.write_text(
        "单位名称,单位编码,年度,类型,项目名称,全年预算数\n武昌区档案馆,420106-DAG,2020,项目,档案保护费,300\n武昌区档案馆,420106-DAG,2020,项目,史料编研费,100\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    assert main(["check", str(tmp_path / "武昌.xlsx"), "--roster", str(roster), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--quiet"]) == 0
    assert json.loads(report.read_text(encoding="utf-8"))[0]["findings"] == []


def test_a_code_typed_into_the_blank_prefilled_code_is_reported(tmp_path):
    from dataclasses import replace

    from cases import clean_project_values, edit_sheet, replace_cell, text_cell
    from conftest import WUCHANG
    from xltool.template.fill import write_filled
    from xltool.template import plan_for
    from xltool.template.layout import a1

    plan = plan_for(replace(WUCHANG, code=""))
    valid = write_filled(plan, clean_project_values(), tmp_path / "valid.xlsx")
    assert check_file(valid).findings == []
    spec = plan.names["INFO_CODE"]
    ref = a1(spec.row, spec.col)
    typed = edit_sheet(valid, tmp_path / "typed.xlsx", spec.sheet, lambda xml: replace_cell(xml, ref, text_cell(ref, "999999")))
    (changed,) = [f for f in check_file(typed).findings if f.code == "PREFILL_CHANGED"]
    assert "原为“（空白）”，现为“999999”" in changed.message


def test_template_key_that_does_not_exist_yet_is_created_for_the_bureau(tmp_path, capsys):
    key = tmp_path / "2022.key"
    assert main(["template", "--framework", "department", "--unit", "示例馆", "--year", "2022", "--key", str(key), "--out", str(tmp_path / "t"), "--quiet"]) == 0
    assert key.is_file() and (key.stat().st_mode & 0o777) == 0o600
    assert "已生成新的签名密钥" in capsys.readouterr().err
    (template,) = (tmp_path / "t").glob("*.xlsx")
    report = tmp_path / "r.json"
    main(["check", str(template), "--key", str(key), "--out", str(tmp_path / "s.xlsx"), "--json", str(report), "--quiet"])
    codes = [f["code"] for f in json.loads(report.read_text(encoding="utf-8"))[0]["findings"]]
    assert not {"SIGNATURE_INVALID", "SIGNATURE_MISSING", "META_DUPLICATE"} & set(codes)


def test_a_signature_edited_into_non_ascii_text_is_invalid_not_a_crash():
    from xltool.template.signing import SIGNATURE, sign, verify

    meta = {"template_id": "t", "year": "2020"}
    key = b"k" * 32
    assert verify({**meta, SIGNATURE: sign(meta, key)}, key)
    assert verify({**meta, SIGNATURE: "签名" + sign(meta, key)[2:]}, key) is False  # found by the fuzzer
