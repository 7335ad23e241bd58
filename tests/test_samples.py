"""The bundled samples (samples/): fresh, read back right, faithful to the two seed reports."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest

from xltool.core.framework import load_framework
from xltool.template.roster import read_roster
from xltool.core.targets import parse_target

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
WUHAN = SAMPLES / "returned" / "2021_武汉市档案馆_部门整体支出绩效自评（已填报）.xlsx"
WUCHANG = SAMPLES / "returned" / "2020_武昌区档案馆_项目支出绩效自评（已填报）.xlsx"
VARIANT = SAMPLES / "variants" / "2021_武汉市档案馆_效果自评24分.xlsx"


def _seed_data():
    spec = importlib.util.spec_from_file_location("samples_seed_data", SAMPLES / "seed_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SEED = _seed_data()


# ---------------------------------------------------------------- helpers


def _destinations(wb, name):
    """(sheet, [A1 cells]) of a workbook-level defined name."""
    defined = wb.defined_names[name]
    ((sheet, ref),) = list(defined.destinations)
    ws = wb[sheet]
    cells = ws[ref.replace("$", "")]
    if not isinstance(cells, tuple):
        return sheet, [cells]
    return sheet, [row[0] for row in cells]  # a one-column range


def _value(wb, name):
    _sheet, cells = _destinations(wb, name)
    assert len(cells) == 1, name
    return cells[0].value


def _column(wb, name):
    return [c.value for c in _destinations(wb, name)[1]]


def _cell_ref(wb, name) -> tuple[str, str]:
    sheet, cells = _destinations(wb, name)
    return sheet, cells[0].coordinate


@pytest.fixture(autouse=True, scope="module")
def demo_key():
    """The samples are signed with the published demonstration key (samples/demo.key)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XLTOOL_KEY_FILE", str(SAMPLES / "demo.key"))
        yield


@pytest.fixture(scope="module")
def books():
    return {path: openpyxl.load_workbook(path) for path in (WUHAN, WUCHANG, VARIANT)}


# ---------------------------------------------------------------- (a) fresh


def test_committed_samples_are_fresh():
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(
        [sys.executable, "samples/build_samples.py", "--check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


# ---------------------------------------------------------------- (b) roster


def test_roster_reads_the_two_archives():
    raw = (SAMPLES / "roster.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, as Excel opens it correctly
    units = read_roster(SAMPLES / "roster.csv")
    assert len(units) == 2
    wuhan, wuchang = units
    assert (wuhan.name, wuhan.code, wuhan.year, wuhan.kind) == ("武汉市档案馆", "420100-DAG", 2021, "department")
    assert (wuhan.initial_budget, wuhan.adjusted_budget, wuhan.final_accounts) == (D("3203.46"), D("2814.98"), D("2814.98"))
    assert wuhan.projects == ()
    assert (wuchang.name, wuchang.code, wuchang.year, wuchang.kind) == ("武昌区档案馆", "420106-DAG", 2020, "project")
    assert [(p.name, p.budget, p.executed) for p in wuchang.projects] == [
        ("档案保护费", D("300"), None),
        ("史料编研费", D("100"), None),
    ]


# ---------------------------------------------------------------- (c) values read back


def test_wuchang_sample_values(books):
    wb = books[WUCHANG]
    assert _value(wb, "PROJ1_NAME") == "档案保护费"
    assert _value(wb, "PROJ1_BUDGET") == 300
    assert _value(wb, "PROJ1_EXECUTED") == pytest.approx(214.68)
    assert _value(wb, "PROJ2_EXECUTED") == 76
    assert "71.56%" in _value(wb, "PROJ1_NOTE") and "76.00%" in _value(wb, "PROJ2_NOTE")
    for p in (1, 2):
        assert (_value(wb, f"PROJ{p}_DECLARED_SCORE"), _value(wb, f"PROJ{p}_DECLARED_GRADE")) == (95, "优")
    names = _column(wb, "PROJ2_INDICATOR")
    row = names.index("街道志出版")
    assert (_column(wb, "PROJ2_TARGET")[row], _column(wb, "PROJ2_ACTUAL")[row]) == (4, 0)
    assert "送出版社审稿3部" in _column(wb, "PROJ2_REASON")[row]


def test_wuhan_sample_values(books):
    wb = books[WUHAN]
    assert (_value(wb, "INFO_CONTACT"), _value(wb, "INFO_PHONE")) == ("财务科", "027-00000000")
    assert _value(wb, "INFO_DATE").date().isoformat() == "2022-06-30"
    names = _column(wb, "GOAL2_INDICATOR")
    row = next(i for i, n in enumerate(names) if n and "出版《革命先烈小传》" in n)
    assert _column(wb, "GOAL2_TARGET")[row] == 1000
    assert _column(wb, "GOAL2_ACTUAL")[row] == 30
    assert _column(wb, "GOAL2_REASON")[row].startswith("按相关出版文件要求")
    assert [_value(wb, f"GOAL{n}_NAME") for n in range(1, 6)] == [
        "档案馆运行维护", "档案馆事业发展建设", "档案数字化", "全市新冠肺炎疫情防控档案整理", "信息化建设",
    ]
    assert [_value(wb, f"DECLARED_C{k}") for k in range(1, 5)] == [19, 29, 24, 23]
    assert (_value(wb, "DECLARED_TOTAL"), _value(wb, "DECLARED_GRADE")) == (95, "优秀")
    deductions = _column(wb, "CRIT_DEDUCTION")
    reasons = _column(wb, "CRIT_REASON")
    assert sum(d for d in deductions if d) == 5
    assert all(reasons[i] for i, d in enumerate(deductions) if d)
    # 预算调整率 and 管理制度健全性 occur twice: the deductions sit on the 投入 / 预算管理 ones.
    fw = load_framework("department")
    deducted = [(i.criterion, i.group, i.name) for i, d in zip(fw.criterion_indicators, deductions) if d]
    assert ("投入", "预算配置", "预算调整率") in deducted
    assert ("过程", "预算管理", "管理制度健全性") in deducted
    assert ("过程", "预算执行", "预算调整率") not in deducted
    assert ("过程", "资产管理", "管理制度健全性") not in deducted


def test_variant_differs_only_in_the_declared_effect_score(books):
    wuhan, variant = books[WUHAN], books[VARIANT]
    assert _value(variant, "DECLARED_C4") == 24
    sheet, cell = _cell_ref(variant, "DECLARED_C4")
    differences = []
    assert wuhan.sheetnames == variant.sheetnames
    for name in wuhan.sheetnames:
        a, b = wuhan[name], variant[name]
        rows = max(a.max_row, b.max_row)
        cols = max(a.max_column, b.max_column)
        for r in range(1, rows + 1):
            for c in range(1, cols + 1):
                if a.cell(r, c).value != b.cell(r, c).value:
                    differences.append((name, a.cell(r, c).coordinate))
    assert differences == [(sheet, cell)]


# ---------------------------------------------------------------- seed_data is faithful and consistent


def _all_rows():
    for n, goal in enumerate(SEED.WUHAN_2021["年度目标"], start=1):
        for row in goal["指标"]:
            yield f"GOAL{n}", row
    for project in SEED.WUCHANG_2020["项目"]:
        for row in project["指标"]:
            yield project["项目名称"], row


def test_structured_targets_agree_with_the_seed_phrases():
    for block, row in _all_rows():
        phrase = row.get("原表指标值")
        if not phrase:
            continue
        parsed = parse_target(phrase)
        if "街道志" in phrase:  # "4条街道": the count is of streets, one 志 each
            assert (row["计算符号"], row["指标值"]) == ("≥", 4)
            continue
        assert parsed.sign == row["计算符号"], (block, phrase)
        if parsed.value is not None:
            assert parsed.value == D(str(row["指标值"])), (block, phrase)
        if parsed.unit:
            assert parsed.unit == row["计量单位"], (block, phrase)


def test_illustrative_targets_are_marked_in_the_name():
    for block, row in _all_rows():
        if row.get("计算符号") != "定性" and not row.get("原表指标值"):
            assert row["指标名称"].endswith("（指标值为示例）"), (block, row["指标名称"])
        else:
            assert "示例" not in row["指标名称"], (block, row["指标名称"])


def test_project_points_add_up():
    fw = load_framework("project")
    for project in SEED.WUCHANG_2020["项目"]:
        for cat in fw.categories:
            total = sum(D(str(r["分值"])) for r in project["指标"] if r["一级指标"] == cat.name)
            assert total == cat.points, (project["项目名称"], cat.name)


def test_texts_fit_the_template_limits():
    limit = load_framework("department").text_max_length
    for _block, row in _all_rows():
        assert len(row.get("偏差原因") or "") <= limit
        assert len(row["指标名称"]) <= 200
    for item in SEED.WUHAN_2021["扣分"]:
        assert len(item["扣分原因"]) <= limit


# ---------------------------------------------------------------- what the checker makes of them

batch = pytest.importorskip("xltool.check.batch")


def _finding(result, code):
    return [f for f in result.findings if f.code == code]


def test_checker_reproduces_seed_000():
    result = batch.check_file(WUHAN)
    assert result.status != "unreadable"
    (ev,) = result.evaluations
    assert (ev.score, ev.grade) == (D("95"), "优")
    assert ev.execution_rate == D("1.0000")
    assert ev.initial_budget_completion_rate == D("0.8787")
    assert [(c["name"], c["score"]) for c in ev.criteria] == [("投入", 19), ("过程", 29), ("产出", 24), ("效果", 23)]
    assert not _finding(result, "DECLARED_SCORE_MISMATCH")
    assert not _finding(result, "DECLARED_GRADE_MISMATCH")  # 优秀 is accepted as 优


def test_checker_reproduces_seed_001():
    result = batch.check_file(WUCHANG)
    rates = [ev.execution_rate for ev in result.evaluations]
    assert rates == [D("0.7156"), D("0.7600")]
    # Declared 95 / 优 for both (the report's 自评结论: 优); recomputed lower.
    assert [(ev.score, ev.grade) for ev in result.evaluations] == [(D("94.16"), "优"), (D("82.60"), "良")]
    assert len(_finding(result, "DECLARED_SCORE_MISMATCH")) == 2
    assert len(_finding(result, "DECLARED_GRADE_MISMATCH")) == 1


def test_checker_flags_the_effect_24_variant(books):
    result = batch.check_file(VARIANT)
    sheet, cell = _cell_ref(books[VARIANT], "DECLARED_C4")
    (found,) = [f for f in _finding(result, "DECLARED_SCORE_MISMATCH") if (f.sheet, f.cell) == (sheet, cell)]
    assert D(str(found.seen)) == 24
    assert D(str(found.expected)) == 23
    (ev,) = result.evaluations
    assert ev.score == D("95")
