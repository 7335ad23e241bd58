"""The summary's long sheets (问题清单, 评分明细) and the export's table are streamed: xltool renders
each row's cells itself instead of handing xlsxwriter one cell at a time. The files must be the
ones xlsxwriter itself writes, byte for byte, whatever the texts and numbers — and text from a
hostile file must never be taken for XML."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from xltool.core.model import Evaluation, Finding, Result
from xltool.report import common
from xltool.report.export import write_export
from xltool.report.feedback import write_feedback
from xltool.report.summary import write_summary
from xltool.template.celltext import needs_runs

ROOT = Path(__file__).resolve().parent.parent


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        # the document's creation time is the one thing that may differ from one second to the next
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}


@pytest.fixture
def unstreamed():
    """Writes with every sheet left to xlsxwriter, cell by cell (the reference)."""

    def write(fn, *args):
        real = common._Sheet.__init__

        def plain(self, book, name, stream=False):
            real(self, book, name, False)

        common._Sheet.__init__ = plain
        try:
            return fn(*args)
        finally:
            common._Sheet.__init__ = real

    return write


def _result(i: int, texts: list[str], numbers: list) -> Result:
    findings = [
        Finding(f"CODE_{k}", ("error", "warning", "info")[k % 3], text, sheet=texts[(k + 1) % len(texts)], cell=f"B{k + 2}", seen=numbers[k % len(numbers)], expected=text)
        for k, text in enumerate(texts)
    ]
    indicators = [
        {"level1": "产出指标", "level2": "数量指标", "name": text, "sign": "≥", "target": numbers[k % len(numbers)], "actual": text, "points": 10, "score": numbers[(k + 1) % len(numbers)], "declared": 9.5, "met": k % 2 == 0}
        for k, text in enumerate(texts)
    ]
    evaluation = Evaluation(name=texts[0], budget=Decimal("300"), executed=Decimal("214.68"), execution_rate=Decimal("0.7156"), score=Decimal("81.5"), grade="良", indicators=indicators)
    return Result(file=f"回收/{texts[-1]}.xlsx", status="failed", kind="project", unit=texts[0], year=2024, findings=findings, evaluations=[evaluation])


_TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),  # anything, control characters and characters beyond the BMP too
        st.sampled_from(["<", ">", "&", "_x0041_", "_x005F", "<r>", "</r>", " ", "\n", "\t", "=", "－", "档案"]),
    ),
    max_size=12,
).map("".join)
_NUMBER = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True), st.decimals(allow_nan=False, places=4))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_TEXT.filter(lambda t: not needs_runs(common._cell_text(t))), min_size=1, max_size=6), numbers=st.lists(_NUMBER, min_size=1, max_size=4))
@example(texts=["\x1f"], numbers=[None])  # blank to Python, not once written as _x001F_
@example(texts=[" 前后 ", "\t", "_x0041_\x01"], numbers=[Decimal("1E+30"), float("nan")])
def test_streamed_sheets_are_the_files_xlsxwriter_writes(tmp_path_factory, unstreamed, texts, numbers):
    folder = tmp_path_factory.mktemp("s")
    results = [_result(i, texts, numbers) for i in range(3)]
    write_summary(results, folder / "streamed.xlsx")
    unstreamed(write_summary, results, folder / "plain.xlsx")
    assert _members(folder / "streamed.xlsx") == _members(folder / "plain.xlsx")


def test_long_texts_beyond_the_bmp_are_cut_to_excels_limit_the_same_both_ways(tmp_path, unstreamed):
    long = "𠀀档" * 20_000  # 60,000 UTF-16 units
    results = [_result(0, [long, "普通说明"], [1.5])]
    write_summary(results, tmp_path / "streamed.xlsx")
    unstreamed(write_summary, results, tmp_path / "plain.xlsx")
    assert _members(tmp_path / "streamed.xlsx") == _members(tmp_path / "plain.xlsx")
    shown = openpyxl.load_workbook(tmp_path / "streamed.xlsx")["问题清单"]["G2"].value
    assert shown.endswith("…") and shown.startswith("𠀀档")
    assert len(shown.encode("utf-16-le")) // 2 <= 32767


def test_export_tables_are_the_files_xlsxwriter_writes(tmp_path, unstreamed):
    results = [_result(i, [f"单位{i}", "A & B <c>", " 前后空格 ", "_x0041_"], [Decimal("12.345"), 3, None]) for i in range(5)]
    write_export(results, tmp_path / "streamed")
    unstreamed(write_export, results, tmp_path / "plain")
    names = sorted(p.name for p in (tmp_path / "streamed").glob("*.xlsx"))
    assert names and names == sorted(p.name for p in (tmp_path / "plain").glob("*.xlsx"))
    for name in names:
        assert _members(tmp_path / "streamed" / name) == _members(tmp_path / "plain" / name)


# xlsxwriter writes a string that starts with <r> and ends with </r> as rich-text XML, unescaped.
HOSTILE = ["<r><t>x</t></is></c></row><row>", "<r></t></r>", "<r>&</r>", "<r> 空格 </r>"]


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "plain"])
def test_text_shaped_like_rich_text_xml_is_kept_as_text_in_the_summary(tmp_path, unstreamed, streamed):
    results = [_result(0, HOSTILE, [1])]
    path = tmp_path / "汇总.xlsx"
    write_summary(results, path) if streamed else unstreamed(write_summary, results, path)
    book = openpyxl.load_workbook(path)  # a broken sheet would raise here
    findings = book["问题清单"]
    assert [findings.cell(row=r, column=7).value for r in range(2, 2 + len(HOSTILE))] == HOSTILE
    assert findings["B2"].value == HOSTILE[0]  # the unit
    details = book["评分明细"]
    assert [details.cell(row=r, column=8).value for r in range(2, 2 + len(HOSTILE))] == HOSTILE
    assert book["汇总"]["B4"].value == HOSTILE[0]


def test_text_shaped_like_rich_text_xml_is_kept_as_text_in_feedback_and_export(tmp_path):
    results = [_result(0, HOSTILE, [1])]
    feedback = write_feedback(results[0], tmp_path / "意见")
    sheet = openpyxl.load_workbook(feedback)["检查意见"]
    shown = {cell.value for row in sheet.iter_rows() for cell in row}
    assert set(HOSTILE) <= shown
    write_export(results, tmp_path / "导出")
    for path in (tmp_path / "导出").glob("*.xlsx"):
        openpyxl.load_workbook(path)  # opens: nothing was taken for XML


def test_every_workbook_of_a_process_is_written_alike(tmp_path):
    """xlsxwriter adds a key to the default-font dict it is given: a shared one made the first
    workbook of a process differ from the rest (the default font's scheme in styles.xml). Run
    in a fresh interpreter: in this one, other tests wrote workbooks first."""
    script = (
        "import sys; from xltool.core.model import Result; from xltool.report.summary import write_summary\n"
        "r = [Result(file='a.xlsx', status='passed', unit='单位')]\n"
        "write_summary(r, sys.argv[1]); write_summary(r, sys.argv[2])\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "a.xlsx"), str(tmp_path / "b.xlsx")], check=True, cwd=ROOT)
    assert _members(tmp_path / "a.xlsx") == _members(tmp_path / "b.xlsx")


def test_text_shaped_like_rich_text_xml_in_a_cell_without_a_format(tmp_path):
    book = common._Book(tmp_path / "x.xlsx", "标题")
    sheet = common._Sheet(book, "表")
    sheet.text(0, 0, "<r></t></r>")
    sheet.text(1, 0, "<r>a</r>", book.cell)
    common._close_workbook(book)
    ws = openpyxl.load_workbook(tmp_path / "x.xlsx")["表"]
    assert (ws["A1"].value, ws["A2"].value) == ("<r></t></r>", "<r>a</r>")
