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
from xltool.batch import check_file
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
