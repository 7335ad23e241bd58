"""Pasting skips a cell's data validation (Excel, WPS and LibreOffice alike): a date pasted into a
number cell, a text of 40,000 characters, a number far beyond any budget. The returned sample
files are edited as staff would, and the checker must report each on its cell, in Chinese, with
what to do: never read the date as the number 44377, never pass the text unseen, never crash."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pytest

from xltool.check.batch import check_file
from xltool.template.signing import use_key_file

ROOT = Path(__file__).resolve().parent.parent
RETURNED = ROOT / "samples" / "returned"
WUCHANG = next(RETURNED.glob("2020_*.xlsx"))  # project kind, two projects
WUHAN = next(RETURNED.glob("2021_*.xlsx"))  # unit-wide kind


@pytest.fixture(autouse=True)
def _sample_key():
    use_key_file(ROOT / "samples" / "demo.key")  # the samples are signed with it


def _place(book, name: str, row: int = 0) -> tuple[str, str]:
    (sheet, ref), = book.defined_names[name].destinations
    first = ref.replace("$", "").split(":")[0]
    column = first.rstrip("0123456789")
    return sheet, f"{column}{int(first[len(column):]) + row}"


def _pasted(tmp_path: Path, source: Path, **cells) -> tuple[Path, dict]:
    """The sample with each named cell (NAME or NAME__row) set as a paste leaves it: a date with
    its date format. Returns the file and where each name's cell is."""
    book = openpyxl.load_workbook(source)
    places = {}
    for key, value in cells.items():
        name, _sep, row = key.partition("__")
        sheet, ref = places[key] = _place(book, name, int(row or 0))
        cell = book[sheet][ref]
        cell.value = value
        if isinstance(value, dt.date):
            cell.number_format = "yyyy-mm-dd"
    path = tmp_path / source.name
    book.save(path)
    return path, places


def _findings(path: Path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = check_file(path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # never written to
    return result.findings


def _at(findings, place: tuple[str, str]):
    return [f for f in findings if (f.sheet, f.cell) == place]


def _qualitative_row(source: Path, prefix: str) -> int:
    book = openpyxl.load_workbook(source)
    sheet, first = _place(book, prefix + "_SIGN")
    column = first.rstrip("0123456789")
    start = int(first[len(column):])
    return next(i for i in range(20) if book[sheet][f"{column}{start + i}"].value == "定性")


def test_a_date_pasted_into_a_money_cell_is_not_read_as_44377(tmp_path):
    path, places = _pasted(tmp_path, WUCHANG, PROJ1_EXECUTED=dt.datetime(2021, 6, 30))
    findings = _findings(path)
    [f] = _at(findings, places["PROJ1_EXECUTED"])
    assert f.code == "TEXT_IN_NUMBER" and f.severity == "error"
    assert "“全年执行数”应填写数字，实际填写了“2021-06-30”" in f.message and "这是一个日期" in f.message and "请改填数字" in f.message
    assert not any("44377" in g.message for g in findings)


def test_a_date_pasted_into_an_actual_value_or_a_deduction_is_reported_there(tmp_path):
    path, places = _pasted(tmp_path, WUCHANG, PROJ1_ACTUAL=dt.datetime(2021, 6, 30), PROJ2_SCORE=dt.date(2021, 1, 5))
    findings = _findings(path)
    for name in ("PROJ1_ACTUAL", "PROJ2_SCORE"):
        [f] = _at(findings, places[name])
        assert f.code == "TEXT_IN_NUMBER" and "日期" in f.message, f.message
    assert not any(f.code == "FULL_SCORE_UNMET" for f in findings)  # nothing scored from 44377
    path, places = _pasted(tmp_path, WUHAN, CRIT_DEDUCTION=dt.datetime(2021, 6, 30))
    [f] = _at(_findings(path), places["CRIT_DEDUCTION"])
    assert f.code == "TEXT_IN_NUMBER" and "这是一个日期" in f.message


def test_the_date_cell_still_takes_a_date(tmp_path):
    path, places = _pasted(tmp_path, WUCHANG, INFO_DATE=dt.datetime(2021, 3, 1))
    assert _at(_findings(path), places["INFO_DATE"]) == []


@pytest.mark.parametrize("name, limit", [("PROJ1_REASON", "500"), ("PROJ1_GOAL_DONE", "500"), ("PROJ1_UNIT", "500"), ("PROBLEMS", "2,000")])
def test_a_text_of_40000_characters_is_out_of_range_on_its_cell(tmp_path, name, limit):
    path, places = _pasted(tmp_path, WUCHANG, **{name: "文" * 40_000})
    findings = _findings(path)
    [f] = [g for g in _at(findings, places[name]) if g.code == "VALUE_OUT_OF_RANGE"]
    assert f.severity == "error" and f"不超过 {limit} 个字" in f.message and f"请精简到 {limit} 个字以内" in f.message
    assert "32,767 个字" in f.message  # what the workbook can hold of it
    assert all(len(g.message) < 1000 for g in findings)


def test_a_text_just_within_its_limit_passes(tmp_path):
    path, places = _pasted(tmp_path, WUCHANG, PROJ1_REASON="文" * 500)
    assert not any(f.code == "VALUE_OUT_OF_RANGE" for f in _at(_findings(path), places["PROJ1_REASON"]))


def test_a_number_far_beyond_range_is_out_of_range_and_nothing_else_breaks(tmp_path):
    path, places = _pasted(tmp_path, WUCHANG, PROJ1_EXECUTED=1e300, PROJ1_ACTUAL=1e300)
    findings = _findings(path)
    for name in ("PROJ1_EXECUTED", "PROJ1_ACTUAL"):
        [f] = _at(findings, places[name])
        assert f.code == "VALUE_OUT_OF_RANGE" and "为 1.0E+300，超出允许的范围" in f.message, f.message
    assert not any(f.code == "FUNDS_SUM_MISMATCH" for f in findings)  # not "全年执行数为 None 万元"
    assert not any("None" in f.message for f in findings)


def test_a_huge_number_on_a_qualitative_row_is_reported_too(tmp_path):
    row = _qualitative_row(WUCHANG, "PROJ1")
    path, places = _pasted(tmp_path, WUCHANG, **{f"PROJ1_ACTUAL__{row}": 1e300})
    [f] = _at(_findings(path), places[f"PROJ1_ACTUAL__{row}"])
    assert f.code == "VALUE_OUT_OF_RANGE" and "定性指标不按数字计分" in f.message
