"""The workspace's store and service layer: the flows a finance officer goes through, against
SQLite (the default) and a real PostgreSQL server (a throwaway cluster; skipped without
Debian's `postgresql`), and `xltool check --workspace` recording into the same store."""

from __future__ import annotations

import io
import json
import threading
import zipfile

import openpyxl
import pytest
from sqlalchemy import create_engine, text

from workspace_help import ROSTER, WUCHANG, WUHAN, corrected_wuhan, wuhan_blank_actual, new_workspace_folder, postgres_bin, postgres_cluster, variant
from xltool.cli import main
from xltool.workspace import store as store_module
from xltool.workspace.service import BoardRow, RosterRejected, ServiceError, Workspace, choose_sample
from xltool.workspace.store import Return, StoreError

TWO_YEARS = ROSTER.read_text(encoding="utf-8-sig") + "武汉市档案馆,420100-DAG,2020,部门整体,,3000,2900,2900,,,\n"


@pytest.fixture(scope="session")
def pg_server():
    if postgres_bin() is None:
        pytest.skip("没有安装 PostgreSQL（Debian 的 postgresql 包），跳过 PostgreSQL 上的工作区测试；CI 会安装它")
    with postgres_cluster() as url:
        yield url


_databases = iter(range(1, 10_000))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    """None (SQLite in the workspace folder), or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        yield None
        return
    server = request.getfixturevalue("pg_server")
    name = f"ws_{next(_databases)}"
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    yield server.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def ws(tmp_path, db_url):
    workspace = Workspace(new_workspace_folder(tmp_path), db_url)
    yield workspace
    workspace.close()


def _campaign(ws: Workspace, year: int = 2021, roster: str | None = None) -> int:
    data = (roster or ROSTER.read_text(encoding="utf-8-sig")).encode("utf-8")
    campaign_id, _notes = ws.create_campaign(year, "", "", "名册.csv", data)
    return campaign_id


def test_a_campaign_from_returns_to_review_and_downloads(ws, tmp_path):
    cid, notes = ws.create_campaign(2021, "", "", "roster.csv", ROSTER.read_bytes())
    assert notes == ["名册中有 1 个单位不是 2021 年度的评价，没有纳入本批次。"]
    assert [u.name for u in ws.units(cid)] == ["武汉市档案馆"]
    assert ws.board(cid).counts["未交"] == 1

    name, data = ws.templates_zip(cid)
    assert name.endswith(".zip")
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["2021_武汉市档案馆_部门整体支出绩效自评.xlsx"]

    [first] = ws.add_upload(cid, WUHAN.name, WUHAN.read_bytes())
    assert (first.kind, first.status, first.unit) == ("recorded", "failed", "武汉市档案馆")
    [other_year] = ws.add_upload(cid, WUCHANG.name, WUCHANG.read_bytes())
    assert other_year.kind == "set_aside" and "它是 2020 年度 武昌区档案馆（420106-DAG） 的自评表，本批次收的是 2021 年度的自评表" in other_year.message
    [again] = ws.add_upload(cid, "再交一次.xlsx", WUHAN.read_bytes())
    assert again.kind == "duplicate" and "内容完全相同" in again.message and again.return_id == first.return_id
    board = ws.board(cid)
    assert board.counts == {"未交": 0, "无法读取": 0, "不通过": 1, "通过": 0, "已复核": 0}
    assert [r.filename for r in board.set_aside] == [WUCHANG.name]

    [fixed] = ws.add_upload(cid, "改正后.xlsx", corrected_wuhan(tmp_path / "fixed.xlsx").read_bytes())
    assert (fixed.kind, fixed.status) == ("recorded", "passed")
    row = ws.board(cid).rows[0]
    assert (row.state, row.score, row.grade, row.errors, row.versions, row.execution_rate) == ("通过", "95.00", "优", 0, 2, "100.00%")
    assert [len(ws.board(cid, **ask).rows) for ask in ({"state": "通过"}, {"state": "不通过"}, {"search": "武汉"}, {"search": "420100"}, {"search": "洪山"})] == [1, 0, 1, 1, 0]

    page = ws.unit_page(cid, row.unit_id)
    newest, oldest = page["versions"]
    assert oldest["diff"] is None and newest["row"].filename == "改正后.xlsx"
    assert [(f["code"], f["cell"]) for f in newest["diff"]["fixed"]] == [("REQUIRED_BLANK", wuhan_blank_actual())]
    assert newest["diff"]["new"] == [] and len(newest["diff"]["open"]) == 3
    feedback_name, feedback = ws.feedback(fixed.return_id)
    assert feedback_name.endswith(".xlsx") and feedback[:2] == b"PK"

    assert ws.draw_sample(cid, seed=11, per_grade=1) == [row.unit_id]
    assert ws.draw_sample(cid, seed=11, per_grade=1) == []  # drawn once
    with pytest.raises(ServiceError, match="0 到 100"):
        ws.save_review(cid, row.unit_id, "120", "x")
    ws.save_review(cid, row.unit_id, "93.5", "抽查核实，得分应扣减 1.5 分")
    assert ws.board(cid).counts["已复核"] == 1

    _name, summary = ws.export(cid, "summary")
    (tmp_path / "汇总.xlsx").write_bytes(summary)
    book = openpyxl.load_workbook(tmp_path / "汇总.xlsx")
    assert book.sheetnames[-1] == "抽查复核"
    assert [c.value for c in book["抽查复核"][2]] == ["武汉市档案馆", "420100-DAG", 95, 95, 93.5, "抽查核实，得分应扣减 1.5 分"]
    items = json.loads(ws.export(cid, "json")[1])
    assert items[0]["status"] == "passed" and items[0]["review"] == {"review_score": 93.5, "comment": "抽查核实，得分应扣减 1.5 分"}
    csv_text = ws.export(cid, "csv")[1].decode("utf-8-sig")
    assert csv_text.splitlines()[0].endswith("review_score,review_comment") and "93.50" in csv_text
    assert zipfile.ZipFile(io.BytesIO(ws.export(cid, "feedback")[1])).namelist() == ["改正后_检查意见.xlsx"]


def test_each_file_is_kept_by_its_hash_and_the_database_holds_the_rest(ws):
    cid = _campaign(ws)
    [outcome] = ws.add_upload(cid, "文件夹/2021 武汉.xlsx", WUHAN.read_bytes())
    row = ws.return_row(outcome.return_id)
    assert row.filename == "2021 武汉.xlsx"
    assert ws.store.file_path(row.sha256).read_bytes() == WUHAN.read_bytes()
    assert [p.name for p in (ws.folder / "files").rglob("*") if p.is_file()] == [row.sha256]


@pytest.mark.parametrize("name", ["../../x.xlsx", "..\\x.xlsx", "/etc/x.xlsx", "C:\\x.xlsx", "a/../../x.xlsx"])
def test_a_name_that_climbs_out_is_refused(ws, name):
    cid = _campaign(ws)
    [outcome] = ws.add_upload(cid, name, WUHAN.read_bytes())
    assert outcome.kind == "refused" and "没有收下" in outcome.message
    assert ws.store.count(Return) == 0 and not any((ws.folder / "files").rglob("*"))


def test_a_zip_of_returns_records_each_member(ws, tmp_path):
    cid = _campaign(ws)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("交回/武汉.xlsx", WUHAN.read_bytes())
        archive.writestr("交回/武昌.xlsx", WUCHANG.read_bytes())
        archive.writestr("说明.txt", "不是工作簿")
    outcomes = ws.add_upload(cid, "回收.zip", buffer.getvalue())
    assert sorted((o.filename, o.kind) for o in outcomes) == [("回收.zip/武昌.xlsx", "set_aside"), ("回收.zip/武汉.xlsx", "recorded")]


def test_an_unreadable_file_is_placed_by_its_name_or_set_aside(ws):
    cid = _campaign(ws)
    [named] = ws.add_upload(cid, "2021_武汉市档案馆_自评.xlsx", b"PK\x03\x04 broken")
    assert (named.kind, named.status, named.unit) == ("recorded", "unreadable", "武汉市档案馆")
    assert ws.board(cid).counts["无法读取"] == 1
    [nameless] = ws.add_upload(cid, "新建文件.xlsx", b"not a workbook")
    assert nameless.kind == "set_aside" and "无法读取" in nameless.message


def test_the_workspaces_own_outputs_and_returns_of_another_year_are_set_aside_saying_what_they_are(ws, tmp_path):
    """A summary, a feedback workbook and a 批复表 the tool wrote, dropped among the returns, and a
    return of another year: each set aside with a sentence saying what it is and what to do — not
    an unreadable return of the unit its name mentions, not a failed one."""
    import html

    import httpx

    from workspace_help import running
    from xltool.core.declaration import APPROVED_HEADER
    from xltool.template.declaration import write_approved
    from xltool.workspace.app import create_app

    cid = _campaign(ws, roster=TWO_YEARS)
    row = dict.fromkeys(APPROVED_HEADER, "")
    row.update({"单位编码": "420100-DAG", "年度目标": "档案安全", "一级指标": "产出指标", "三级指标": "档案接收", "计算符号": "≥", "指标值": "10"})
    approval = write_approved([list(row.values())], tmp_path / "2021_绩效目标批复表.xlsx")
    with running(create_app(ws)) as base, httpx.Client(base_url=base, timeout=120) as client:
        client.get("/")

        def send(name: str, data: bytes) -> dict:
            answer = client.post(f"/c/{cid}/upload", data={"csrf_token": client.cookies["xltool_csrf"]},
                                 files={"files": (name, data)}, headers={"accept": "application/json"})
            assert answer.status_code == 200
            [outcome] = answer.json()["outcomes"]
            return outcome

        first = send(WUHAN.name, WUHAN.read_bytes())
        assert (first["kind"], first["status"], first["unit"]) == ("recorded", "failed", "武汉市档案馆")
        summary = client.get(f"/c/{cid}/download/summary")
        feedback = client.get(f"/r/{first['return_id']}/feedback")
        assert summary.status_code == feedback.status_code == 200
        sent = {
            "2021_汇总.xlsx": (summary.content, "它是本工具写出的检查汇总工作簿，不是单位交回的自评表，不计入任何单位。汇总随时可以在本批次页面的“下载”中重新生成"),
            # named after the unit: it must not become 武汉市档案馆's latest (unreadable) return
            "2021_武汉市档案馆_部门整体支出绩效自评_检查意见.xlsx": (feedback.content, "它是本工具写出的检查意见工作簿（发给单位的修改意见），不是单位交回的自评表，不计入任何单位。请把它发给对应的单位"),
            approval.name: (approval.read_bytes(), "它是本工具生成的绩效目标批复表，不是单位交回的自评表，不计入任何单位。批复表请在绩效自评批次的“批复表”页上传"),
            WUCHANG.name: (WUCHANG.read_bytes(), "它是 2020 年度 武昌区档案馆（420106-DAG） 的自评表，本批次收的是 2021 年度的自评表。请核对是否交错了批次：2020 年度的文件请交到 2020 年度的批次"),
        }
        for name, (data, sentence) in sent.items():
            outcome = send(name, data)
            assert outcome["kind"] == "set_aside" and outcome["unit"] == "", outcome
            assert outcome["message"] == f"“{name}”已收下但另放：" + outcome["message"].split("已收下但另放：", 1)[1]
            assert sentence in outcome["message"] and "无法读取" not in outcome["message"], outcome["message"]
        assert ws.board(cid).counts == {"未交": 0, "无法读取": 0, "不通过": 1, "通过": 0, "已复核": 0}
        board = html.unescape(client.get(f"/c/{cid}").text)
        assert all(sentence in board for _data, sentence in sent.values())


def test_roster_errors_come_back_by_row_and_column(ws):
    bad = "单位名称,单位编码,年度,类型\n甲馆,,20x1,项目\n".encode("utf-8")
    with pytest.raises(RosterRejected) as caught:
        ws.create_campaign(2021, "", "", "名册.csv", bad)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "单位编码"), (2, "年度"), (2, "项目名称")]
    assert "没有建立" in str(caught.value) and ws.campaigns() == []
    with pytest.raises(ServiceError, match="没有 2030 年度"):
        ws.create_campaign(2030, "", "", "名册.csv", ROSTER.read_bytes())
    with pytest.raises(ServiceError, match=r"\.csv"):
        ws.create_campaign(2021, "", "", "名册.exe", ROSTER.read_bytes())


def test_a_roster_with_more_projects_than_a_template_holds_makes_no_campaign(ws):
    from xltool.template import MAX_PROJECTS

    rows = "".join(f"武昌区档案馆,420106-DAG,2020,项目,,,,,项目{i},10,,,\n" for i in range(MAX_PROJECTS + 1))
    roster = ROSTER.read_text(encoding="utf-8-sig").splitlines()[0] + "\n" + rows
    with pytest.raises(RosterRejected) as caught:
        ws.create_campaign(2020, "", "", "名册.csv", roster.encode("utf-8"))
    [problem] = caught.value.problems
    assert f"名册中有 {MAX_PROJECTS + 1} 个项目，一份项目支出自评模板最多容纳 {MAX_PROJECTS} 个项目" in problem.message
    assert "没有建立" in str(caught.value) and ws.campaigns() == []


def test_the_sample_draw_is_reproducible_by_seed():
    pool = [BoardRow(i, f"馆{i}", str(i), "部门整体", "通过", "90.00", "优良中差"[i % 4], "", 0, 1, "") for i in range(40)]
    first = choose_sample(pool, seed=2024, per_grade=2)
    assert [r.unit_id for r in first] == [r.unit_id for r in choose_sample(list(reversed(pool)), seed=2024, per_grade=2)]
    assert sorted(r.grade for r in first) == sorted("优优良良中中差差")
    assert [r.unit_id for r in choose_sample(pool, seed=2025, per_grade=2)] != [r.unit_id for r in first]
    assert len(choose_sample(pool, seed=1, share=0.1)) == 4


def test_history_across_years(ws):
    old = _campaign(ws, 2020, TWO_YEARS)
    new = _campaign(ws, 2021, TWO_YEARS)
    ws.add_upload(new, WUHAN.name, WUHAN.read_bytes())
    rows = ws.history(code="420100-DAG")
    assert [(r["year"], r["state"], r["score"]) for r in rows] == [(2020, "未交", ""), (2021, "不通过", "95.00")]
    assert old != new


def test_two_uploads_at_the_same_time_both_land(ws):
    cid = _campaign(ws)
    data = [variant(WUHAN.read_bytes(), n) for n in range(12)]
    data.append(data[0])  # the same bytes twice, at the same time: recorded once
    outcomes = []
    barrier = threading.Barrier(4)

    def client(k: int) -> None:
        barrier.wait()
        for n in range(k, len(data), 4):
            outcomes.extend(ws.add_upload(cid, f"{n}.xlsx", data[n]))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o.kind for o in outcomes) == ["duplicate"] + ["recorded"] * 12
    assert ws.store.count(Return) == 12
    assert ws.board(cid).rows[0].versions == 12


def test_the_schema_has_a_version_and_a_newer_one_is_refused(tmp_path):
    folder = new_workspace_folder(tmp_path)
    ws = Workspace(folder)
    assert ws.store.version() == store_module.SCHEMA_VERSION
    assert (folder / "workspace.db").exists()
    ws.store.set_setting("schema_version", "99")
    ws.close()
    with pytest.raises(StoreError, match="更新版本的 xltool"):
        Workspace(folder)


def test_a_write_that_fails_leaves_no_half_rows(ws):
    cid = _campaign(ws)
    with pytest.raises(RuntimeError):
        with ws.store.write() as s:
            s.add(Return(campaign_id=cid, unit_id=None, sha256="0" * 64, filename="a", size=1, received_at=store_module.now(),
                         status="failed", result_json="{}"))
            s.flush()
            raise RuntimeError("killed half-way")
    assert ws.store.count(Return) == 0


def test_check_workspace_records_into_the_same_store(tmp_path, capsys):
    folder = new_workspace_folder(tmp_path)
    ws = Workspace(folder)
    cid = _campaign(ws)
    ws.close()
    assert main(["check", str(WUHAN), "--workspace", str(folder)]) == 1
    fixed = corrected_wuhan(tmp_path / "fixed.xlsx")
    assert main(["check", str(fixed), "--workspace", str(folder), "--out", str(tmp_path / "汇总.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "已收下：武汉市档案馆，不通过" in out and "已收下：武汉市档案馆，通过" in out
    ws = Workspace(folder)
    assert ws.board(cid).rows[0].versions == 2
    ws.close()
    assert openpyxl.load_workbook(tmp_path / "汇总.xlsx")["汇总"].max_row >= 4
    assert main(["check", str(WUHAN), "--workspace", str(folder), "--campaign", "9"]) == 2
    assert "没有这个评价批次" in capsys.readouterr().err
    assert main(["check", str(WUHAN), "--workspace", str(folder), "--feedback", str(tmp_path / "意见")]) == 2
    assert "不能给出 --feedback" in capsys.readouterr().err
    assert main(["check", str(WUHAN), "--workspace", str(folder), "--json", "-", "--quiet"]) == 1
    assert json.loads(capsys.readouterr().out)[0]["unit"] == "武汉市档案馆"


def test_the_board_sorts_and_counts(ws):
    rows = ["单位名称,单位编码,年度,类型,框架,年初预算数,调整预算数,决算数,项目名称,全年预算数,全年执行数"]
    rows += [f"{name},{code},2021,部门整体,,100,100,100,,," for name, code in (("乙馆", "B"), ("武汉市档案馆", "420100-DAG"), ("甲馆", "A"))]
    cid = _campaign(ws, roster="\n".join(rows) + "\n")
    ws.add_upload(cid, WUHAN.name, WUHAN.read_bytes())
    board = ws.board(cid)
    assert board.counts == {"未交": 2, "无法读取": 0, "不通过": 1, "通过": 0, "已复核": 0}
    assert [r.name for r in board.rows] == ["乙馆", "武汉市档案馆", "甲馆"]  # the roster's order
    assert [r.name for r in ws.board(cid, sort="score").rows][0] == "武汉市档案馆"
    assert [r.name for r in ws.board(cid, sort="state").rows][-1] == "武汉市档案馆"
    assert [r.name for r in ws.board(cid, state="未交").rows] == ["乙馆", "甲馆"]


APPROVED = ROSTER.parent / "approved_targets.csv"


def _indicator_row(sheet, name: str) -> int:
    return next(c.row for row in sheet.iter_rows() for c in row if c.value == name)


def test_approved_targets_are_locked_in_the_templates_and_compared_in_every_check(ws, tmp_path):
    from xltool.template.layout import SHEET_INDICATORS, indicator_columns

    cid = _campaign(ws, year=2020)
    assert ws.campaign(cid).targets_sha256 == ""
    notes = ws.set_targets(cid, "批复表.csv", APPROVED.read_bytes())
    assert notes[-1].startswith("批复表已采用：1 个单位的 2 个项目或年度目标、18 个指标")
    assert ws.campaign(cid).targets_name == "批复表.csv"

    _name, data = ws.templates_zip(cid)
    [member] = zipfile.ZipFile(io.BytesIO(data)).namelist()
    template = tmp_path / member
    template.write_bytes(zipfile.ZipFile(io.BytesIO(data)).read(member))
    book = openpyxl.load_workbook(template)
    sheet = book[SHEET_INDICATORS]
    col = {key: i + 1 for i, (key, *_rest) in enumerate(indicator_columns("project"))}
    row = _indicator_row(sheet, "档案修复（指标值为示例）")
    target = sheet.cell(row, col["target"])
    assert sheet.protection.sheet and target.value == 25 and target.protection.locked
    assert not sheet.cell(row, col["actual"]).protection.locked  # staff fill what was achieved

    [untouched] = ws.add_upload(cid, template.name, template.read_bytes())
    assert untouched.kind == "recorded"
    assert "TARGET_CHANGED" not in json.dumps(ws.unit_page(cid, ws.board(cid).rows[0].unit_id)["versions"][0]["row"].result_json)

    sheet.protection.sheet = False  # protection lifted, the target lowered to be met, protection put back
    target.value = 5
    sheet.protection.sheet = True
    lowered = tmp_path / "改低了指标值.xlsx"
    book.save(lowered)
    [changed] = ws.add_upload(cid, lowered.name, lowered.read_bytes())
    found = [f for f in json.loads(ws.return_row(changed.return_id).result_json)["findings"] if f["code"] == "TARGET_CHANGED"]
    assert [(f["sheet"], f["cell"]) for f in found] == [(SHEET_INDICATORS, target.coordinate)]
    assert "25" in found[0]["message"] and "5" in found[0]["message"]

    with pytest.raises(ServiceError, match="已收到 2 份文件，不能再上传批复表"):
        ws.set_targets(cid, "批复表.csv", APPROVED.read_bytes())


def test_a_targets_file_with_errors_is_refused_row_by_row_and_not_kept(ws):
    from xltool.workspace.service import TargetsRejected

    cid = _campaign(ws, year=2020)
    lines = APPROVED.read_text(encoding="utf-8-sig").splitlines()
    bad = "\n".join([lines[0], lines[1].replace("420106-DAG", "999999"), lines[2].replace(",8,", ",800,").replace(",6,", ",600,")] + lines[3:]) + "\n"
    with pytest.raises(TargetsRejected) as caught:
        ws.set_targets(cid, "批复表.csv", bad.encode("utf-8"))
    assert "处错误，没有采用" in str(caught.value)
    assert 2 in [p.row for p in caught.value.problems] and any("999999" in p.message for p in caught.value.problems)
    assert ws.campaign(cid).targets_sha256 == ""
    with pytest.raises(ServiceError, match=r"\.csv、\.txt"):
        ws.set_targets(cid, "批复表.pdf", b"%PDF")


def test_a_workspace_made_before_approved_targets_is_migrated_in_place(tmp_path, monkeypatch):
    folder = new_workspace_folder(tmp_path)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 1)
    old = Workspace(folder)
    with old.store.engine.begin() as c:  # the campaigns table as version 1 made it
        for column in ("targets_sha256", "targets_suffix", "targets_name"):
            c.execute(text(f"ALTER TABLE campaigns DROP COLUMN {column}"))
        c.execute(text("INSERT INTO campaigns (name, year, kind, framework, roster_sha256, roster_suffix, roster_name, created_at) "
                       "VALUES ('2021 年度', 2021, '', '', :h, '.csv', 'roster.csv', '2021-03-01 09:00:00')"), {"h": "0" * 64})
    old.close()
    monkeypatch.undo()
    ws = Workspace(folder)
    assert ws.store.version() == store_module.SCHEMA_VERSION == 3
    [campaign] = ws.campaigns()
    assert (campaign.name, campaign.targets_sha256, campaign.targets_name, campaign.stage) == ("2021 年度", "", "", "evaluation")
    ws.close()


def test_a_workspace_made_before_stages_is_migrated_in_place(tmp_path, db_url, monkeypatch):
    folder = new_workspace_folder(tmp_path)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 2)
    old = Workspace(folder, db_url)
    old_id = _campaign(old)
    with old.store.engine.begin() as c:  # the campaigns table as version 2 made it
        c.execute(text("ALTER TABLE campaigns DROP COLUMN stage"))
    assert old.store.version() == 2
    old.close()
    monkeypatch.undo()
    ws = Workspace(folder, db_url)
    assert ws.store.version() == store_module.SCHEMA_VERSION == 3
    assert [(c.id, c.stage) for c in ws.campaigns()] == [(old_id, "evaluation")]
    [outcome] = ws.add_upload(old_id, WUHAN.name, WUHAN.read_bytes())  # still collects self-evaluations
    assert (outcome.kind, outcome.unit) == ("recorded", "武汉市档案馆")
    new_id, _notes = ws.create_campaign(2021, "", "", "名册.csv", ROSTER.read_bytes(), stage="declaration")
    assert ws.campaign(new_id).stage == "declaration" and ws.campaign(new_id).name == "2021 年度绩效目标申报"
    ws.close()


# ---------------------------------------------------------------- the 申报 stage, through the page


def _declaration_forms(client, cid: int, folder) -> dict[str, object]:
    """The 申报表 the page gives out, filled as a unit would: one with an error, one that passes."""
    from declfill import fill, good_project, good_rows

    answer = client.get(f"/c/{cid}/download/templates")
    assert answer.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    [member] = archive.namelist()
    assert member == "2020_武昌区档案馆_项目支出绩效目标申报表.xlsx"
    blank = folder / member
    blank.write_bytes(archive.read(member))
    without_benefit = [r for r in good_rows() if r["level1"] != "效益指标"]
    return {
        "blank": blank,
        "bad": fill(blank, folder / "武昌申报表.xlsx", [good_project(rows=without_benefit), good_project()]),
        "good": fill(blank, folder / "武昌申报表（改正）.xlsx", [good_project(), good_project()]),
    }


def _send(client, cid: int, path) -> dict:
    answer = client.post(f"/c/{cid}/upload", data={"csrf_token": client.cookies["xltool_csrf"]},
                         files={"files": (path.name, path.read_bytes())}, headers={"accept": "application/json"})
    assert answer.status_code == 200
    [outcome] = answer.json()["outcomes"]
    return outcome


def _stored(ws) -> tuple[int, list[str]]:
    return ws.store.count(Return), sorted(p.name for p in (ws.folder / "files").rglob("*") if p.is_file())


def test_a_declaration_campaign_collects_申报表_and_makes_the_批复表(ws, tmp_path, capsys):
    import html
    from urllib.parse import quote

    import httpx

    from workspace_help import running
    from xltool.template.approved import read_targets
    from xltool.template.roster import read_roster
    from xltool.workspace.app import create_app

    with running(create_app(ws)) as base, httpx.Client(base_url=base, timeout=120) as client:
        client.get("/")
        token = client.cookies["xltool_csrf"]
        made = client.post("/campaigns", data={"csrf_token": token, "year": "2020", "kind": "", "stage": "declaration"},
                           files={"roster": ("名册.csv", ROSTER.read_bytes())})
        assert made.status_code == 200 and "绩效目标申报批次已建立，共 1 个单位" in made.text and "下载全部申报表（zip）" in made.text
        [campaign] = ws.campaigns()
        cid = campaign.id
        assert (campaign.stage, campaign.name) == ("declaration", "2020 年度绩效目标申报")
        forms = _declaration_forms(client, cid, tmp_path)

        # nothing returned yet: refused, saying which unit has sent none
        refused = client.get(f"/c/{cid}/approval")
        assert refused.status_code == 409 and "没有生成批复表" in refused.text
        assert "武昌区档案馆（420106-DAG）还没有交回绩效目标申报表" in refused.text
        assert _stored(ws) == (0, [])

        bad = _send(client, cid, forms["bad"])
        assert (bad["kind"], bad["status"], bad["unit"]) == ("recorded", "failed", "武昌区档案馆")
        aside = _send(client, cid, WUCHANG)  # a self-evaluation return: not this campaign's
        assert aside["kind"] == "set_aside"
        assert "它是 2020 年度 武昌区档案馆（420106-DAG） 的自评表，不是绩效目标申报表，申报批次只收申报表" in aside["message"]
        board = client.get(f"/c/{cid}").text
        assert "生成批复表" in board and "抽查复核" not in board and "核查分数" not in board
        assert '<span class="tag 不通过">不通过</span>' in board and "申报批次只收申报表" in board

        # the 申报表 has an error: refused with exactly the lines `xltool targets` prints; nothing written
        before = _stored(ws)
        refused = client.get(f"/c/{cid}/approval")
        assert refused.status_code == 409 and refused.headers["content-type"].startswith("text/html")
        assert main(["targets", str(forms["bad"]), "--out", str(tmp_path / "cli.xlsx"), "--roster", str(ROSTER), "--key", str(ws.key_path)]) == 1
        printed = capsys.readouterr().err.split("未写出批复表")[0].splitlines()
        assert len(printed) == 2 and "武昌申报表.xlsx（武昌区档案馆）有 1 个错误" in printed[0] and "效益指标" in printed[1]
        shown = html.unescape(refused.text)
        assert all(line.removeprefix("  · ") in shown for line in printed)
        assert _stored(ws) == before and not (tmp_path / "cli.xlsx").exists()

        fixed = _send(client, cid, forms["good"])
        assert (fixed["kind"], fixed["status"]) == ("recorded", "passed")
        assert ws.board(cid).counts == {"未交": 0, "无法读取": 0, "不通过": 0, "通过": 1, "已复核": 0}
        approved = client.get(f"/c/{cid}/approval")
        assert approved.status_code == 200
        assert approved.headers["content-disposition"].endswith("filename*=UTF-8''" + quote("2020_绩效目标批复表.xlsx"))
        (tmp_path / "page.xlsx").write_bytes(approved.content)
        assert main(["targets", str(forms["good"]), "--out", str(tmp_path / "cli.xlsx"), "--roster", str(ROSTER), "--key", str(ws.key_path), "-q"]) == 0

        def rows(path):
            return [[c.value for c in row] for row in openpyxl.load_workbook(path).active.iter_rows()]

        assert rows(tmp_path / "page.xlsx") == rows(tmp_path / "cli.xlsx") and len(rows(tmp_path / "page.xlsx")) > 10
        blocks = read_targets(tmp_path / "page.xlsx", read_roster(ROSTER))
        assert sorted(blocks) == [("420106-DAG", "史料编研费"), ("420106-DAG", "档案保护费")]

        # the self-evaluation campaign of the same year takes that 批复表 without a file in between
        made = client.post("/campaigns", data={"csrf_token": token, "year": "2020", "kind": ""}, files={"roster": ("名册.csv", ROSTER.read_bytes())})
        assert "评价批次已建立" in made.text
        evaluation = next(c.id for c in ws.campaigns() if c.id != cid)
        assert ws.campaign(evaluation).stage == "evaluation"
        page = client.get(f"/c/{evaluation}/targets").text
        assert "选用申报批次的批复表" in page and f'<option value="{cid}">2020 年度绩效目标申报</option>' in page
        taken = client.post(f"/c/{evaluation}/targets", data={"csrf_token": token, "source": str(cid)})
        assert taken.status_code == 200 and "批复表由申报批次“2020 年度绩效目标申报”生成" in taken.text
        assert "批复表已采用：1 个单位的 2 个项目或年度目标" in taken.text
        assert ws.campaign(evaluation).targets_name == "2020_绩效目标批复表.xlsx"
        declared = _send(client, evaluation, forms["good"])  # a 申报表 in the self-evaluation campaign
        assert declared["kind"] == "set_aside" and "不是自评表，评价批次只收自评表。申报表请交到同一年度的绩效目标申报批次" in declared["message"]
        assert client.get(f"/c/{cid}/targets").status_code == 400  # a 申报 campaign takes no 批复表
        assert client.get(f"/c/{evaluation}/approval").status_code == 400
    with pytest.raises(ServiceError, match="申报批次没有自评得分，不做抽查复核"):
        ws.draw_sample(cid, seed=1, per_grade=1)
    assert [r["campaign"].id for r in ws.history(code="420106-DAG")] == [evaluation]  # 历年对比: self-evaluations only
