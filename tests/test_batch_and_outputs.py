"""A batch as the finance officer runs it: workers that die, SIGTERM, named files that are not
there, folders with other files, .zip archives of returns, outputs to devices, FIFOs, standard
output and into the returns folder itself, a full disk, and file names no terminal expects.

Each test asserts what the user sees: the exit status, the JSON report, stderr, the files left.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from cases import write_department, write_project
from xltool.check import batch
from xltool import report
from xltool.cli import main
from xltool.report import print_table
from xltool.core.model import Evaluation, Result
from xltool.core.messages import finding

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("good") / "武昌区档案馆.xlsx")


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> Path:
    return write_department(tmp_path_factory.mktemp("other") / "武汉市档案馆.xlsx")


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("bad") / "填错了.xlsx", PROJ1_EXECUTED="214.68万元")


def _records(path: Path) -> dict[str, dict]:
    return {r["file"].replace("\\", "/").rsplit("/", 1)[-1]: r for r in json.loads(path.read_text(encoding="utf-8"))}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _temporaries(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- item 9: workers


def test_a_killed_worker_costs_its_file_alone(good, other, bad, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "回收"
    folder.mkdir()
    for i, src in enumerate((good, other, bad)):
        shutil.copy(src, folder / f"{i} {src.name}")
    shutil.copy(good, folder / "3 杀死进程.xlsx")
    real = batch.check_file

    def dies_on_one(path, **kwargs):
        if "杀死进程" in str(path):
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer does
        return real(path, **kwargs)

    monkeypatch.setattr(batch, "check_file", dies_on_one)
    out = tmp_path / "out"
    code = main(["check", str(folder), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--jobs", "2", "--quiet"])
    assert code == 1
    records = _records(out / "r.json")
    assert len(records) == 4
    dead = records["3 杀死进程.xlsx"]
    assert dead["status"] == "unreadable"
    (f,) = dead["findings"]
    assert f["code"] == "FILE_UNREADABLE" and "意外中止" in f["message"] and "SIGKILL" in f["message"] and "请" in f["message"]
    assert records["0 武昌区档案馆.xlsx"]["status"] == "passed" and records["0 武昌区档案馆.xlsx"]["evaluations"][0]["score"] is not None
    assert records["1 武汉市档案馆.xlsx"]["status"] == "passed"
    assert records["2 填错了.xlsx"]["status"] == "failed"


def test_jobs_default_to_the_cores_but_not_more_than_the_files(monkeypatch):
    assert batch.default_jobs(1) == 1
    assert 1 <= batch.default_jobs(100) <= (os.cpu_count() or 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5}, raising=False)
    assert [batch.default_jobs(n) for n in (1, 2, 5, 6, 7, 500)] == [1, 2, 5, 6, 6, 6]


def test_check_without_jobs_uses_a_process_per_core_capped_by_the_files(tmp_path, monkeypatch):
    """`xltool check` with no --jobs: as many processes as cores, never more than files; --jobs wins."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(6)), raising=False)
    seen = []
    checked = batch.iter_checked

    def spy(sources, jobs=1, progress=None):
        seen.append(jobs)
        return checked(sources, jobs=1, progress=progress)  # checked here: only the choice is under test

    monkeypatch.setattr(batch, "iter_checked", spy)
    folder = tmp_path / "回收"
    folder.mkdir()
    write_project(folder / "a.xlsx")
    write_department(folder / "b.xlsx")
    for args in ([], ["--jobs", "1"]):
        assert main(["check", str(folder), "--out", str(tmp_path / "s.xlsx"), "--quiet", *args]) == 0
    for i in range(2, 9):
        shutil.copyfile(folder / "a.xlsx", folder / f"a{i}.xlsx")
    main(["check", str(folder), "--out", str(tmp_path / "s.xlsx"), "--quiet"])
    assert seen == [2, 1, 6]  # two files: two processes; --jobs 1: one; nine files: the six cores


_SLOW_RUN = """
import os, sys, time
sys.path.insert(0, {root!r})
from xltool.check import batch
from xltool import cli
from xltool import report
marks = {marks!r}
phase = {phase!r}
if phase == "checking":
    def slow(path, **kwargs):
        open(os.path.join(marks, str(os.getpid())), "w").close()
        time.sleep(120)
    batch.check_file = slow
else:
    real = report.summary._close_workbook
    def slow_close(wb):
        real(wb)
        open(os.path.join(marks, str(os.getpid())), "w").close()
        time.sleep(120)
    report.summary._close_workbook = slow_close
sys.exit(cli.main(sys.argv[1:]))
"""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.parametrize("phase", ["checking", "writing"])
def test_sigterm_stops_the_workers_and_leaves_no_temporary_files(good, other, tmp_path, phase):
    folder = tmp_path / "回收"
    folder.mkdir()
    for i in range(4):
        shutil.copy(good if i % 2 else other, folder / f"{i}.xlsx")
    marks, out, scratch = tmp_path / "marks", tmp_path / "out", tmp_path / "scratch"
    marks.mkdir()
    scratch.mkdir()
    script = _SLOW_RUN.format(root=str(ROOT), marks=str(marks), phase=phase)
    args = ["check", str(folder), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--feedback", str(out / "意见"), "--jobs", "2", "--quiet"]
    env = dict(os.environ, TMPDIR=str(scratch))
    proc = subprocess.Popen([sys.executable, "-c", script, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while len(list(marks.iterdir())) < (2 if phase == "checking" else 1):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the batch never got going"
            time.sleep(0.05)
        if phase == "writing":
            assert _temporaries(out), "the summary's temporary file should exist while it is written"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert "已中断" in err
    workers = [int(p.name) for p in marks.iterdir() if int(p.name) != proc.pid]
    assert phase == "writing" or len(workers) == 2
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(pid) for pid in workers), "a worker outlived the main process"
    assert _temporaries(out, scratch, folder) == []
    assert not (out / "汇总.xlsx").exists() and not (out / "r.json").exists()


# ---------------------------------------------------------------- item 10: inputs


def test_a_named_file_that_is_missing_is_reported_and_fails_the_run(good, tmp_path, capsys):
    out = tmp_path / "r.json"
    typo = tmp_path / "武昌区档案官.xlsx"
    code = main(["check", str(good), str(typo), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    records = _records(out)
    assert records["武昌区档案馆.xlsx"]["status"] == "passed"
    missing = records["武昌区档案官.xlsx"]
    assert missing["status"] == "missing" and [f["code"] for f in missing["findings"]] == ["FILE_NOT_FOUND"]
    assert "找不到" in err and "武昌区档案官.xlsx" in err and "请核对路径" in err


def test_a_named_fifo_is_reported_not_opened(good, tmp_path, capsys):
    fifo = tmp_path / "管道.xlsx"
    os.mkfifo(fifo)
    out = tmp_path / "r.json"
    assert main(["check", str(good), str(fifo), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--quiet"]) == 1
    record = _records(out)["管道.xlsx"]
    assert record["status"] == "unreadable" and record["findings"][0]["code"] == "NOT_A_FILE"
    assert "管道" in record["findings"][0]["message"]


def test_only_missing_names_is_a_usage_error(tmp_path, capsys):
    assert main(["check", str(tmp_path / "无此文件.xlsx"), "--out", str(tmp_path / "s.xlsx"), "--quiet"]) == 2
    assert "没有找到要检查的文件" in capsys.readouterr().err


def test_a_folder_scan_says_what_it_passed_over_and_why(good, tmp_path, capsys):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "a.xlsx")
    (folder / "名单.csv").write_text("x", encoding="utf-8")
    (folder / "说明").write_text("x", encoding="utf-8")
    (folder / "二进制.xlsb").write_bytes(b"x")
    (folder / "~$a.xlsx").write_bytes(b"x")
    os.mkfifo(folder / "管道.xlsx")
    (folder / "链接.xlsx").symlink_to(folder / "a.xlsx")
    out = tmp_path / "r.json"
    assert main(["check", str(folder), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert list(_records(out)) == ["a.xlsx"]
    assert "已跳过 6 个文件" in err
    assert "2 个不是工作簿" in err and "1 个是 .xlsb" in err and "另存为 .xlsx" in err
    assert "1 个是符号链接" in err and "1 个是管道、设备等特殊文件" in err and "1 个是 Office/WPS" in err


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_a_zip_of_returns_is_opened_and_each_member_checked(good, other, bad, tmp_path, capsys):
    archive = _zip(
        tmp_path / "回收.zip",
        {
            "单位A.xlsx": good.read_bytes(),
            "子目录/单位B.xlsx": other.read_bytes(),
            "填错了.xlsx": bad.read_bytes(),
            "../../逃逸.xlsx": good.read_bytes()[:100],  # a path out of the folder: only a name
            "炸弹.xlsx": b"\0" * (60 * 1024 * 1024),  # inflates past the limit
            "说明.txt": b"readme",
        },
    )
    before = set(tmp_path.parent.rglob("*"))
    out = tmp_path / "r.json"
    code = main(["check", str(archive), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    report_ = json.loads(out.read_text(encoding="utf-8"))
    by = {r["file"].split("回收.zip/", 1)[1]: r for r in report_}
    assert all("回收.zip/" in r["file"] for r in report_)
    assert by["单位A.xlsx"]["status"] == "passed" and by["单位A.xlsx"]["unit"] == "武昌区档案馆"
    assert by["子目录/单位B.xlsx"]["status"] == "passed"
    assert by["填错了.xlsx"]["status"] == "failed"
    assert by["../../逃逸.xlsx"]["status"] == "unreadable"
    assert by["炸弹.xlsx"]["status"] == "unreadable" and by["炸弹.xlsx"]["findings"][0]["code"] in ("FILE_TOO_LARGE", "FILE_ZIP_BOMB")
    assert "1 个是压缩包中的其他文件" in err
    # nothing was extracted anywhere
    assert set(tmp_path.parent.rglob("*")) - before <= {out, tmp_path / "s.xlsx"}


def test_a_zip_in_a_folder_is_opened_and_a_broken_one_reported(good, tmp_path, capsys):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "a.xlsx")
    _zip(folder / "第二批.zip", {"单位C.xlsx": good.read_bytes()})
    (folder / "坏的.zip").write_bytes(b"PK\x03\x04 not really")
    _zip(folder / "空的.zip", {"说明.txt": b"x"})
    out = tmp_path / "r.json"
    assert main(["check", str(folder), "--out", str(tmp_path / "s.xlsx"), "--json", str(out), "--quiet"]) == 1
    records = _records(out)
    assert records["单位C.xlsx"]["status"] == "passed" and "第二批.zip/单位C.xlsx" in records["单位C.xlsx"]["file"]
    assert [f["code"] for f in records["a.xlsx"]["findings"] + records["单位C.xlsx"]["findings"]] == ["DUPLICATE_FILE"]
    assert records["坏的.zip"]["findings"][0]["code"] == "ARCHIVE_UNREADABLE"
    assert records["空的.zip"]["findings"][0]["code"] == "ARCHIVE_EMPTY"


# ---------------------------------------------------------------- item 11: outputs


def test_outputs_to_a_fifo_and_a_device_link_write_into_them(good, tmp_path):
    fifo = tmp_path / "管道.json"
    os.mkfifo(fifo)
    link = tmp_path / "stdout.csv"
    link.symlink_to("/dev/null")
    received = {}

    def reader():
        with open(fifo, "rb") as fh:
            received["data"] = fh.read()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    code = main(["check", str(good), "--out", str(tmp_path / "s.xlsx"), "--json", str(fifo), "--csv", str(link), "--quiet"])
    thread.join(20)
    assert code == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    (record,) = json.loads(received["data"].decode("utf-8"))
    assert record["status"] == "passed"
    assert _temporaries(tmp_path) == []


def test_a_dash_writes_the_report_to_standard_output(good, tmp_path, capsys):
    assert main(["check", str(good), "--out", str(tmp_path / "s.xlsx"), "--json", "-"]) == 0
    captured = capsys.readouterr()
    (record,) = json.loads(captured.out)  # the table went to stderr: stdout is the JSON alone
    assert record["status"] == "passed"
    assert "共 1 个文件" in captured.err


def test_a_symlinked_output_stays_a_link(good, tmp_path):
    real = tmp_path / "真的.json"
    real.write_text("[]", encoding="utf-8")
    link = tmp_path / "链接.json"
    link.symlink_to(real)
    assert main(["check", str(good), "--out", str(tmp_path / "s.xlsx"), "--json", str(link), "--quiet"]) == 0
    assert link.is_symlink() and json.loads(real.read_text(encoding="utf-8"))[0]["status"] == "passed"


@pytest.mark.parametrize(
    "args, words",
    [
        (["--out", "{t}/汇总.json"], "必须是以 .xlsx 结尾"),
        (["--out", "-"], "必须是以 .xlsx 结尾"),
        (["--out", "{t}/x.xlsx", "--json", "{t}/x.xlsx"], "是同一个文件"),
        (["--out", "{t}/x.xlsx", "--json", "{t}/r", "--csv", "{t}/r"], "是同一个文件"),
        (["--out", "{t}/x.xlsx", "--json", "-", "--csv", "-"], "不能同时写到标准输出"),
        (["--out", "{t}/意见/武昌区档案馆_检查意见.xlsx", "--feedback", "{t}/意见"], "检查意见文件"),
        (["--out", "{t}/x.xlsx", "--json", "{t}"], "是一个文件夹"),
    ],
)
def test_outputs_that_collide_are_refused(good, tmp_path, capsys, args, words):
    args = [a.replace("{t}", str(tmp_path)) for a in args]
    before = sorted(tmp_path.rglob("*"))
    assert main(["check", str(good), *args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert words in err and "请" in err
    assert sorted(tmp_path.rglob("*")) == before


def test_running_twice_into_the_returns_folder_gives_the_same_result(good, bad, tmp_path, capsys):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "武昌.xlsx")
    shutil.copy(bad, folder / "填错了.xlsx")
    args = ["check", str(folder), "--out", str(folder / "汇总.xlsx"), "--json", str(folder / "r.json"), "--csv", str(folder / "r.csv"), "--feedback", str(folder / "意见")]
    first = main(args + ["--quiet"])
    report1 = (folder / "r.json").read_text(encoding="utf-8")
    capsys.readouterr()
    second = main(args + ["--quiet"])
    err = capsys.readouterr().err
    assert first == second == 1
    assert (folder / "r.json").read_text(encoding="utf-8") == report1
    assert set(_records(folder / "r.json")) == {"武昌.xlsx", "填错了.xlsx"}
    assert "是本程序写出的汇总、检查意见或批复表" in err and "已跳过 5 个文件" in err  # 汇总, r.json, r.csv, 2 feedback


def test_a_批复表_written_by_the_tool_among_the_returns_is_passed_over(good, tmp_path, capsys):
    from xltool.core.declaration import APPROVED_HEADER
    from xltool.template.declaration import write_approved

    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "武昌.xlsx")
    row = dict.fromkeys(APPROVED_HEADER, "") | {"单位编码": "420106-DAG", "项目名称": "档案保护费", "一级指标": "产出指标", "三级指标": "档案修复", "计算符号": "≥", "指标值": "10", "分值": "5"}
    write_approved([list(row.values())], folder / "2020_绩效目标批复表.xlsx")
    assert main(["check", str(folder), "--out", str(tmp_path / "汇总.xlsx"), "--json", str(tmp_path / "r.json"), "--quiet"]) == 0
    assert set(_records(tmp_path / "r.json")) == {"武昌.xlsx"}  # not an unreadable return
    err = capsys.readouterr().err
    assert "已跳过 1 个文件" in err and "是本程序写出的汇总、检查意见或批复表" in err


def test_a_full_disk_names_the_output_and_keeps_the_old_ones(good, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    args = ["check", str(good), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--csv", str(out / "r.csv"), "--quiet"]
    assert main(args) == 0
    old = {p.name: _sha(p) for p in out.iterdir()}
    real_csv = report.write_csv

    def full(results, path):
        real_csv(results, path)  # its temporary file is written …
        raise OSError(errno.ENOSPC, "No space left on device")  # … and then the disk is full

    monkeypatch.setattr(report, "write_csv", full)
    monkeypatch.setattr(report, "write_json", lambda results, path: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "无法写出JSON 报告" in err and "r.json" in err and "磁盘空间已满" in err and "原有的输出文件保持不变" in err
    assert {p.name: _sha(p) for p in out.iterdir()} == old  # no new summary beside the old JSON
    assert _temporaries(out) == []


# ---------------------------------------------------------------- item 16: the terminal table


NASTY = [
    os.fsdecode(b"\xb9\xfa\xbc\xd2\xb5\xb5\xb0\xb8.xlsx"),  # GBK bytes on a UTF-8 file system
    "档案馆🗂️👨‍👩‍👧.xlsx",
    "\x1b[2J\x1b[31m清屏.xlsx",
    "反向\u202excod.xlsx",
    "[bold]标记[/bold].xlsx",
    "换\n行\r.xlsx",
    "很长的文件名" * 20 + ".xlsx",
]


def _nasty_results() -> list[Result]:
    out = []
    for i, name in enumerate(NASTY):
        ev = Evaluation(name="档案保护费", budget=300, executed=214.68, execution_rate=0.7156, declared_score=97.16, score=97.16, declared_grade="优", grade="优")
        status = "passed" if i % 2 else "failed"
        findings = [] if status == "passed" else [finding("FILE_UNREADABLE", file=name, detail="x")]
        out.append(Result(file=f"/回收/{name}", status=status, unit="单位\x07" + name, findings=findings, evaluations=[ev]))
    return out


def _table(encoding: str, columns: int, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="\n")
    print_table(_nasty_results(), file=stream)
    stream.flush()
    return raw.getvalue().decode(encoding)


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "ascii"])
def test_the_table_prints_any_file_name_safely_and_fits_the_width(encoding, monkeypatch):
    from rich.cells import cell_len

    narrow = _table(encoding, 70, monkeypatch)  # strict encoding: a character it cannot take would raise
    assert max(cell_len(line) for line in narrow.splitlines()) <= 70
    wide = _table(encoding, 400, monkeypatch)
    for text in (narrow, wide):
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text and "\r" not in text
    if encoding == "ascii":
        return
    assert "\\x1b[2J\\x1b[31m清屏.xlsx" in wide and "\\xb9\\xfa\\xbc" in wide and "[bold]标记[/bold].xlsx" in wide
    assert "换\\x0a行\\x0d.xlsx" in wide
    statuses = [line.split()[0] for line in wide.splitlines() if line.split() and line.split()[0] in ("通过", "不通过")]
    assert statuses == ["不通过"] * 4 + ["通过"] * 3  # failures first


def test_check_in_a_folder_of_nasty_names_does_not_crash(good, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    folder = tmp_path / "回收"
    folder.mkdir()
    for name in ("档案馆🗂️.xlsx", "\x1b[2J清屏.xlsx"):
        shutil.copy(good, folder / name)
    with open(os.path.join(os.fsencode(folder), b"\xb9\xfa\xbc\xd2.xlsx"), "wb") as fh:
        fh.write(good.read_bytes())
    assert main(["check", str(folder), "--out", str(tmp_path / "s.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out, repr(out)
    assert "档案馆🗂️.xlsx" in out and "\\xb9\\xfa" in out


# ---------------------------------------------------------------- item 16: the summary workbook


def _two_projects() -> Result:
    evs = [Evaluation(name="档案保护费", execution_rate=0.7, score=90), Evaluation(name="史料编研费", execution_rate=0.9, score=95)]
    findings = [
        finding("REQUIRED_BLANK", field="全年执行数", item="项目“史料编研费”", hint="请填写。"),
        finding("REQUIRED_BLANK", field="绩效目标", item="项目“史料编研费”第 2 行指标", hint="请填写。"),
        finding("FORMULA_CHANGED", sheet="评分表", cell="F5", seen="95", expected="=IF(B5>=A5,C5,ROUND(C5*B5/A5,2))", how="被改成了数值"),
    ]
    return Result(file="/回收/武昌.xlsx", status="failed", kind="project", unit="武昌区档案馆", findings=findings, evaluations=evs)


def _sheet_rows(path: Path, sheet: str) -> list[tuple]:
    import openpyxl

    return [tuple(row) for row in openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True)]


def test_a_project_row_names_only_its_own_findings(tmp_path):
    path = report.write_summary([_two_projects()], tmp_path / "汇总.xlsx")
    rows = _sheet_rows(path, "汇总")
    header = rows[2]
    note, name = header.index("说明"), header.index("评价对象")
    notes = {row[name]: row[note] for row in rows[3:] if row[name]}
    assert "史料编研费" not in notes["档案保护费"] and "其他项目有 2 个错误" in notes["档案保护费"]
    assert "计算公式" in notes["档案保护费"]  # a finding about the whole file concerns every row
    assert notes["史料编研费"].startswith("项目“史料编研费”的“全年执行数”未填写") and "另有 2 个错误" in notes["史料编研费"]


def test_expected_never_shows_formula_text(tmp_path):
    result = _two_projects()
    summary = report.write_summary([result], tmp_path / "汇总.xlsx")
    feedback = report.write_feedback(result, tmp_path)
    for path, sheet, column in ((summary, "问题清单", "应为"), (feedback, "检查意见", "应为")):
        rows = _sheet_rows(path, sheet)
        (header,) = [row for row in rows if column in row]
        shown = [row[header.index(column)] for row in rows[rows.index(header) + 1 :]]
        assert report.FORMULA_EXPECTED in shown
        assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)
    advice = [row for row in _sheet_rows(feedback, "检查意见") if row[2] == "评分表"][0]
    assert "恢复原公式" in advice[5]


def test_a_missing_file_is_listed_in_the_summary(good, tmp_path):
    out = tmp_path / "汇总.xlsx"
    assert main(["check", str(good), str(tmp_path / "没有.xlsx"), "--out", str(out), "--quiet"]) == 1
    rows = _sheet_rows(out, "汇总")
    assert "未找到" in rows[1]
    status = rows[2].index("状态")
    assert [row[status] for row in rows[3:]][-1] == "未找到"


def test_a_named_folder_with_nothing_to_check_is_mentioned(good, tmp_path, capsys):
    empty = tmp_path / "第二批"
    empty.mkdir()
    (empty / "说明.txt").write_text("x", encoding="utf-8")
    assert main(["check", str(good), str(empty), "--out", str(tmp_path / "s.xlsx"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "第二批”中没有找到可检查的工作簿" in err and "已跳过 1 个文件" in err


def test_which_outputs_are_written_into_rather_than_replaced(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    assert report.is_direct("-") and report.is_direct("/dev/stdout") and report.is_direct("/dev/fd/5")
    assert report.is_direct("/dev/null") and report.is_direct(tmp_path / "fifo")
    assert not report.is_direct(tmp_path / "new.json") and not report.is_direct("/dev/shm/xltool-汇总.json")


# ---------------------------------------------------------------- issue 9 item 5: the terminal


def test_short_options_and_the_table_lists_what_needs_attention_first(good, bad, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(good, folder / "通过的单位.xlsx")
    shutil.copy(bad, folder / "填错了.xlsx")
    assert main(["check", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "-j", "1"]) == 1
    out = capsys.readouterr().out
    assert "填错了.xlsx" in out and "通过的单位.xlsx" not in out
    assert "通过的 1 个文件未列在表中，加 --all 可一并列出。" in out
    assert main(["check", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "-j", "1", "--all"]) == 1
    out = capsys.readouterr().out
    assert out.index("填错了.xlsx") < out.index("通过的单位.xlsx") and "--all" not in out
    assert main(["check", str(folder), "-o", str(tmp_path / "汇总.xlsx"), "-q"]) == 1
    assert capsys.readouterr().out == ""


def test_when_everything_passed_the_table_still_lists_the_files(good, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["check", str(good), "-o", str(tmp_path / "汇总.xlsx")]) == 0
    assert good.name in capsys.readouterr().out


def test_progress_bars_show_count_rate_and_time_left(good, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XLTOOL_PROGRESS", "1")
    files = []
    for i in range(3):
        files.append(tmp_path / f"{i}.xlsx")
        shutil.copy(good, files[-1])
    assert main(["check", *map(str, files), "-o", str(tmp_path / "汇总.xlsx"), "-j", "1"]) == 0
    err = capsys.readouterr().err
    assert "检查中" in err and "3/3" in err and "剩余" in err
    roster = Path(__file__).resolve().parent.parent / "samples" / "roster.csv"
    assert main(["template", "--roster", str(roster), "-o", str(tmp_path / "模板")]) == 0
    err = capsys.readouterr().err
    assert "生成模板" in err and "2/2" in err
