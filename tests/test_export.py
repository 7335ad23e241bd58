"""`xltool check … --export DIR`: the standard tables PM_PERF_SELF_BGT and PM_SELF_EVAL_INDICATOR,
as .xlsx and .csv, with recomputed figures only, text never a formula, all or nothing."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import openpyxl

from cases import _project_rows, with_row, write_department, write_project
from xltool.cli import main
from xltool.report.export import INDICATOR_COLUMNS, INDICATOR_TABLE, PROJECT_COLUMNS, PROJECT_TABLE

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT = ROOT / "samples" / "returned" / "2020_武昌区档案馆_项目支出绩效自评（已填报）.xlsx"
SAMPLE_UNIT = ROOT / "samples" / "returned" / "2021_武汉市档案馆_部门整体支出绩效自评（已填报）.xlsx"
ROWS = _project_rows(1)


def _csv(path: Path) -> list[dict]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel in China opens it right
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def _xlsx(path: Path) -> list[dict]:
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert wb.sheetnames == [path.stem, "字段说明"]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _export(tmp_path, *files) -> Path:
    returned = tmp_path / "回收"
    returned.mkdir()
    for f in files:
        shutil.copy(f, returned / Path(f).name)
    out = tmp_path / "导出"
    main(["check", str(returned), "--out", str(tmp_path / "汇总.xlsx"), "--export", str(out), "--quiet"])
    return out


def test_the_samples_export_the_seed_figures_one_row_per_project_and_per_indicator(tmp_path):
    out = _export(tmp_path, SAMPLE_PROJECT, SAMPLE_UNIT)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.{e}" for t in (INDICATOR_TABLE, PROJECT_TABLE) for e in ("csv", "xlsx"))
    projects = _csv(out / f"{PROJECT_TABLE}.csv")
    assert list(projects[0]) == [c.field for c in PROJECT_COLUMNS]
    # the unit-wide evaluation has tables of its own: only the two projects of 武昌区档案馆
    assert [(r["agency_name"], r["fiscal_year"], r["pro_name"]) for r in projects] == [("武昌区档案馆", "2020", "档案保护费"), ("武昌区档案馆", "2020", "史料编研费")]
    first = projects[0]
    assert (first["reply_amt"], first["year_adj_amt"]) == ("300.00", "0.00")
    assert (first["cur_amt"], first["year_exe_amt"], first["exe_amt_rate"], first["exe_score"], first["total_score"], first["eval_level"]) == ("300.00", "214.68", "71.56", "7.16", "94.16", "优")
    assert (projects[1]["exe_amt_rate"], projects[1]["exe_score"], projects[1]["total_score"]) == ("76.00", "7.60", "82.60")
    indicators = _csv(out / f"{INDICATOR_TABLE}.csv")
    assert list(indicators[0]) == [c.field for c in INDICATOR_COLUMNS]
    assert len(indicators) == 18  # 10 rows in 档案保护费, 8 in 史料编研费
    scan = indicators[0]
    assert (scan["ind_name"], scan["ind_sign"], scan["kpi_val"], scan["measure_unit"], scan["ind_comp"], scan["ind_weight"], scan["eval_score"], scan["is_met"]) == (
        "数字化年度项目扫描（指标值为示例）", "≥", "140000", "幅", "149638", "8.00", "8.00", "是")
    protect = next(r for r in indicators if r["ind_name"] == "实体档案保护达到预期效果")
    assert (protect["kpi_val"], protect["ind_comp"], protect["eval_score"], protect["is_met"]) == ("", "部分达成年度指标并具有一定效果", "7.00", "否")
    assert protect["devi_analy"].startswith("受场地、馆所条件限制")
    street = next(r for r in indicators if r["ind_name"] == "街道志出版")
    assert (street["kpi_val"], street["ind_comp"], street["ind_weight"], street["eval_score"], street["is_met"]) == ("4", "0", "12.00", "0.00", "否")
    # the workbook holds the same rows, figures as numbers
    book = _xlsx(out / f"{PROJECT_TABLE}.xlsx")
    assert [(r["pro_name"], r["cur_amt"], r["exe_amt_rate"], r["total_score"]) for r in book] == [("档案保护费", 300, 71.56, 94.16), ("史料编研费", 100, 76, 82.6)]
    assert len(_xlsx(out / f"{INDICATOR_TABLE}.xlsx")) == 18


def test_figures_are_recomputed_never_the_declared_ones(tmp_path):
    returned = tmp_path / "in"
    returned.mkdir()
    # 30,000 of 140,000 scanned, yet 30 of 30 points declared and 100 in total
    write_project(returned / "a.xlsx", PROJ1_ACTUAL=with_row(ROWS["ACTUAL"], 0, 30000), PROJ1_DECLARED_SCORE=100, PROJ1_REASON=with_row([None] * 4, 0, "设备故障"), PROJ1_INITIAL=250)
    out = tmp_path / "export"
    main(["check", str(returned), "--out", str(tmp_path / "s.xlsx"), "--export", str(out), "--quiet"])
    projects = _csv(out / f"{PROJECT_TABLE}.csv")
    assert (projects[0]["reply_amt"], projects[0]["year_adj_amt"], projects[0]["cur_amt"]) == ("250.00", "50.00", "300.00")
    assert projects[0]["total_score"] == "76.43"  # 10 (execution) + 6.43 (30 × 30000 / 140000) + 20 + 30 + 10
    row = _csv(out / f"{INDICATOR_TABLE}.csv")[0]
    assert (row["eval_score"], row["is_met"], row["devi_analy"]) == ("6.43", "否", "设备故障")


def test_text_is_never_a_formula_in_either_file(tmp_path):
    returned = tmp_path / "in"
    returned.mkdir()
    write_project(returned / "a.xlsx", PROJ1_INDICATOR=with_row(ROWS["INDICATOR"], 0, "=HYPERLINK(\"http://x\",\"点我\")"), PROJ1_REASON=with_row([None] * 4, 1, "+1+2"))
    out = tmp_path / "export"
    main(["check", str(returned), "--out", str(tmp_path / "s.xlsx"), "--export", str(out), "--quiet"])
    rows = _csv(out / f"{INDICATOR_TABLE}.csv")
    assert rows[0]["ind_name"] == "'=HYPERLINK(\"http://x\",\"点我\")" and rows[1]["devi_analy"] == "'+1+2"
    wb = openpyxl.load_workbook(out / f"{INDICATOR_TABLE}.xlsx")
    cells = [c for row in wb.worksheets[0].iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)


def test_an_export_that_cannot_be_written_leaves_every_output_as_it_was(tmp_path, capsys):
    returned = tmp_path / "in"
    returned.mkdir()
    write_project(returned / "a.xlsx")
    out = tmp_path / "export"
    out.mkdir()
    (out / f"{INDICATOR_TABLE}.xlsx").mkdir()  # a folder where the last table goes
    summary = tmp_path / "s.xlsx"
    summary.write_bytes(b"old")
    code = main(["check", str(returned), "--out", str(summary), "--export", str(out), "--quiet"])
    assert code == 1
    assert summary.read_bytes() == b"old"
    assert sorted(p.name for p in out.iterdir()) == [f"{INDICATOR_TABLE}.xlsx"]  # nothing half-written beside it
    assert "标准数据表" in capsys.readouterr().err


def test_export_must_be_a_folder(tmp_path, capsys):
    returned = tmp_path / "in"
    returned.mkdir()
    write_department(returned / "d.xlsx")
    (tmp_path / "file.txt").write_text("x")
    code = main(["check", str(returned), "--out", str(tmp_path / "s.xlsx"), "--export", str(tmp_path / "file.txt")])
    assert code == 2 and "应是一个文件夹" in capsys.readouterr().err
    assert not (tmp_path / "s.xlsx").exists()


def test_the_readme_documents_every_column():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for column in PROJECT_COLUMNS + INDICATOR_COLUMNS:
        assert f"| `{column.field}` | {column.label} |" in readme, column.field


def test_the_library_call_takes_a_generator(tmp_path):
    from xltool import check_files
    from xltool.report import write_export

    results = check_files(str(SAMPLE_PROJECT))
    write_export((r for r in results), tmp_path / "out")
    assert len(_csv(tmp_path / "out" / f"{PROJECT_TABLE}.csv")) == 2
    assert len(_xlsx(tmp_path / "out" / f"{INDICATOR_TABLE}.xlsx")) == 18
