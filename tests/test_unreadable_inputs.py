"""Inputs the checker cannot read, or reads differently from the file's own formulas, as real
returned files hold them: no made-up expected score, and a warning where staff saw another figure."""

from __future__ import annotations

import json

from cases import write_project
from xltool.check.batch import check_file
from xltool.report import write_json


def test_money_with_its_unit_in_the_cell_gives_no_made_up_expected_score(tmp_path):
    result = check_file(write_project(tmp_path / "wan.xlsx", PROJ1_EXECUTED="214.68万元"))
    assert result.status == "failed"
    codes = [f.code for f in result.findings]
    assert "TEXT_IN_NUMBER" in codes and "SCORE_NOT_RECOMPUTED" in codes
    assert not {"DECLARED_SCORE_MISMATCH", "DECLARED_GRADE_MISMATCH", "SCORE_MISMATCH"} & set(codes)
    assert not any("应为" in f.message for f in result.findings), [f.message for f in result.findings]
    text = next(f for f in result.findings if f.code == "TEXT_IN_NUMBER")
    assert "214.68万元" in text.message and "不要带“万元”" in text.message
    out = json.loads(write_json([result], tmp_path / "r.json").read_text(encoding="utf-8"))
    first = out[0]["evaluations"][0]
    assert first["score"] is None and first["grade"] is None and first["execution_rate"] is None
    assert out[0]["evaluations"][1]["score"] is not None  # the other project is scored as usual


def test_numbers_stored_as_text_are_read_with_a_warning(tmp_path):
    result = check_file(write_project(tmp_path / "text.xlsx", PROJ1_EXECUTED="３００"))
    assert result.status == "passed"
    (f,) = [f for f in result.findings if f.code == "NUMBER_STORED_AS_TEXT"]
    assert f.severity == "warning" and "３００" in f.message and "300" in f.message
    assert result.evaluations[0].executed == 300


def test_percent_on_two_scales_is_a_warning(tmp_path):
    result = check_file(write_project(tmp_path / "pct.xlsx", PROJ1_ACTUAL=[149638, 0.98, 665, 95]))
    (f,) = [f for f in result.findings if f.code == "PERCENT_SCALE_MIXED"]
    assert f.severity == "warning" and "0.98" in f.message and "95% 填 95" in f.message
