"""`xltool check --roster`: when the roster and a returned self-evaluation disagree about a unit's
projects, the finance officer reads one sentence per project (PROJECT_MISSING,
PROJECT_NOT_IN_ROSTER) on the 预算执行 sheet, not a PREFILL_CHANGED on every cell of the block.
Projects are matched by name; a project renamed in place stays PREFILL_CHANGED on its name."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, strategies as st

from xltool.check.reader import match_projects
from xltool.cli import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
KEY = SAMPLES / "demo.key"  # the sample returns are signed with it
TARGETS = SAMPLES / "approved_targets.csv"
WUCHANG = next((SAMPLES / "returned").glob("2020_*.xlsx"))  # 档案保护费 (block 1), 史料编研费 (block 2), approved targets pre-filled
NOISE = {"PREFILL_CHANGED", "TARGET_CHANGED", "LOCKED_CHANGED"}

pytestmark = pytest.mark.usefixtures("clean_env")  # conftest: no roster of an earlier check in the environment


def _roster(path: Path, projects) -> Path:
    """samples/roster.csv with 武昌区档案馆's project rows replaced: each (name, budget) (with the
    sample's 预期目标 when it has that project), or a name of the sample roster to keep its row."""
    header, *rows = list(csv.reader((SAMPLES / "roster.csv").read_text(encoding="utf-8-sig").splitlines()))
    sample = {r[8]: r for r in rows if r[8]}
    out = [header] + [r for r in rows if not r[8]]
    for project in projects:
        if isinstance(project, str):
            out.append(sample[project])
        else:
            name, budget = project
            goal = sample[name][12] if name in sample else f"完成{name}的年度工作。"
            out.append(["武昌区档案馆", "420106-DAG", "2020", "项目", "", "", "", "", name, budget, "", budget, goal])
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(out)
    return path


def _check(tmp_path: Path, roster: Path, targets: Path | None = TARGETS) -> tuple[int, list[dict], Path]:
    report, summary = tmp_path / "r.json", tmp_path / "汇总.xlsx"
    extra = ["--targets", str(targets)] if targets else []
    code = main(["check", str(WUCHANG), "--roster", str(roster), *extra, "--key", str(KEY), "--json", str(report), "-o", str(summary), "-q", "-j", "1"])
    (entry,) = [e for e in json.loads(report.read_text(encoding="utf-8")) if e["file"]]
    return code, entry["findings"], summary


def _issue_rows(summary: Path, code: str) -> list[tuple]:
    sheet = openpyxl.load_workbook(summary)["问题清单"]
    header = [c.value for c in sheet[1]]
    return [row for row in sheet.iter_rows(min_row=2, values_only=True) if row[header.index("代码")] == code]


def test_the_sample_return_agrees_with_the_sample_roster(tmp_path):
    _code, findings, _summary = _check(tmp_path, SAMPLES / "roster.csv")
    assert not {f["code"] for f in findings} & (NOISE | {"PROJECT_MISSING", "PROJECT_NOT_IN_ROSTER"})


def test_a_project_the_roster_gained_is_one_project_missing(tmp_path):
    roster = _roster(tmp_path / "名册.csv", ["档案保护费", "史料编研费", ("档案数字化费", "50")])
    code, findings, summary = _check(tmp_path, roster)
    assert code == 1
    (missing,) = [f for f in findings if f["code"] == "PROJECT_MISSING"]
    assert (missing["severity"], missing["sheet"], missing["cell"]) == ("error", "预算执行", "C23")  # block 3's 项目名称
    assert (missing["seen"], missing["expected"]) == (None, "档案数字化费（名册）")
    assert missing["message"].startswith("名册中武昌区档案馆的项目“档案数字化费”在这份自评表中没有（按现行名册是该单位的第 3 个项目）")
    assert "xltool template --roster 名册" in missing["message"] and "旧模板" in missing["message"]
    assert not {f["code"] for f in findings} & NOISE  # not its 项目名称, 全年预算数, 当年财政拨款 and 预期目标 cell by cell
    (row,) = _issue_rows(summary, "PROJECT_MISSING")
    assert row[1:6] == ("武昌区档案馆", "预算执行", "C23", "PROJECT_MISSING", "错误") and row[6] == missing["message"]


def test_a_project_the_roster_no_longer_lists_is_one_finding_and_the_others_are_compared_by_name(tmp_path):
    # 档案保护费 dropped: 史料编研费 is now the roster's first project, still in the workbook's block 2;
    # its budget changed in the roster (120), so block 2's cells are compared with it, not block 1's.
    roster = _roster(tmp_path / "名册.csv", [("史料编研费", "120")])
    targets = tmp_path / "批复表.csv"
    targets.write_text("".join(line for line in TARGETS.read_text(encoding="utf-8-sig").splitlines(True) if "档案保护费" not in line), encoding="utf-8")
    code, findings, summary = _check(tmp_path, roster, targets)
    assert code == 1
    (extra,) = [f for f in findings if f["code"] == "PROJECT_NOT_IN_ROSTER"]
    assert (extra["severity"], extra["sheet"], extra["cell"], extra["seen"], extra["expected"]) == ("error", "预算执行", "C3", "档案保护费", None)
    assert extra["message"].startswith("自评表中的项目“档案保护费”（预算执行表第 1 个项目）不在名册中武昌区档案馆的项目里")
    assert "请财政部门核对名册" in extra["message"] and "xltool template --roster 名册" in extra["message"]
    changed = [(f["code"], f["cell"], f["expected"]) for f in findings if f["code"] in NOISE]
    assert changed == [("PREFILL_CHANGED", "D15", "120（名册）"), ("PREFILL_CHANGED", "D16", "120（名册）")]  # block 2: 年度资金总额, 当年财政拨款
    assert len(_issue_rows(summary, "PROJECT_NOT_IN_ROSTER")) == 1


def test_an_approved_target_of_a_project_the_roster_lists_first_is_compared_in_the_block_holding_it(tmp_path):
    roster = _roster(tmp_path / "名册.csv", ["史料编研费"])
    targets = tmp_path / "批复表.csv"
    lines = [line for line in TARGETS.read_text(encoding="utf-8-sig").splitlines(True) if "档案保护费" not in line]
    targets.write_text("".join(line.replace(",街道志出版,≥,4,部,", ",街道志出版,≥,5,部,") for line in lines), encoding="utf-8")
    _code, findings, _summary = _check(tmp_path, roster, targets)
    (changed,) = [f for f in findings if f["code"] in NOISE]
    # 街道志出版 is the 2nd row of block 2 on the 绩效指标 sheet (block 1 is 档案保护费, not in the roster)
    assert (changed["code"], changed["cell"], changed["seen"], changed["expected"]) == ("TARGET_CHANGED", "E29", 4, "5（批复表）")
    assert "第 29 行“街道志出版”的年初指标值" in changed["message"]


def test_a_project_renamed_in_place_stays_prefill_changed_on_its_name(tmp_path):
    roster = _roster(tmp_path / "名册.csv", ["档案保护费", ("史料编研经费", "100")])
    _code, findings, _summary = _check(tmp_path, roster, targets=None)  # the signed approved targets stand
    assert not {f["code"] for f in findings} & {"PROJECT_MISSING", "PROJECT_NOT_IN_ROSTER"}
    renamed = [(f["code"], f["cell"], f["seen"], f["expected"]) for f in findings if f["code"] in NOISE]
    assert ("PREFILL_CHANGED", "C13", "史料编研费", "史料编研经费（名册）") in renamed
    assert {cell for _c, cell, _s, _e in renamed} <= {"C13", "C21"}  # its name, and the roster's own 预期目标


def test_a_roster_listing_the_same_projects_in_another_order_finds_nothing(tmp_path):
    roster = _roster(tmp_path / "名册.csv", ["史料编研费", "档案保护费"])
    _code, findings, _summary = _check(tmp_path, roster)
    assert not {f["code"] for f in findings} & (NOISE | {"PROJECT_MISSING", "PROJECT_NOT_IN_ROSTER"})


def test_the_workspace_reports_a_project_its_roster_gained(tmp_path):
    from workspace_help import new_workspace_folder
    from xltool.workspace.service import Workspace

    roster = _roster(tmp_path / "名册.csv", ["档案保护费", "史料编研费", ("档案数字化费", "50")])
    ws = Workspace(new_workspace_folder(tmp_path))
    try:
        cid, _notes = ws.create_campaign(2020, "", "", "名册.csv", roster.read_bytes())
        [outcome] = ws.add_upload(cid, WUCHANG.name, WUCHANG.read_bytes())
        assert (outcome.kind, outcome.status) == ("recorded", "failed")
        (item,) = [i for i in json.loads(ws.export(cid, "json")[1]) if i["file"]]
        (missing,) = [f for f in item["findings"] if f["code"] == "PROJECT_MISSING"]
        assert (missing["sheet"], missing["cell"]) == ("预算执行", "C23") and "档案数字化费" in missing["message"]
        assert not {f["code"] for f in item["findings"]} & NOISE
    finally:
        ws.close()


_NAMES = st.lists(st.sampled_from(["", "甲", "乙", "丙", "丁"]), max_size=5)


@given(names=_NAMES, listed=st.lists(st.sampled_from(["甲", "乙", "丙", "戊"]), max_size=5))
def test_every_project_is_matched_once_missing_or_not_listed(names, listed):
    moves, missing, unlisted = match_projects(names, listed)
    assert sorted(list(moves) + missing) == list(range(1, len(listed) + 1))
    assert len(set(moves.values())) == len(moves) and not set(moves.values()) & unlisted
    assert unlisted | set(moves.values()) == {b for b, name in enumerate(names, start=1) if name} | set(moves.values())
    for j, b in moves.items():  # a match by name, or a project renamed in place
        assert names[b - 1] == listed[j - 1] or (j == b and names[b - 1])
    for b in unlisted:
        assert names[b - 1] not in [listed[j - 1] for j in missing]  # a name the roster lists is never "not listed" while that project is "missing"
