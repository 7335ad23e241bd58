"""Hostile and broken files: each gets a clear finding, the batch goes on, nothing is touched."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import hostile_files
from cases import write_department, write_project
from xltool.batch import check_file
from xltool.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Path:
    return write_project(tmp_path_factory.mktemp("valid") / "武昌区档案馆 2020.xlsx")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run_batch(folder: Path, out: Path) -> tuple[int, dict]:
    before = {p: _sha(p) for p in folder.iterdir()}
    code = main(["check", str(folder), "--out", str(out / "汇总.xlsx"), "--json", str(out / "r.json"), "--csv", str(out / "r.csv"), "--feedback", str(out / "fb"), "--quiet"])
    assert {p: _sha(p) for p in folder.iterdir()} == before, "输入文件被改动"
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    return code, {Path(r["file"]).name: r for r in report}


@pytest.mark.parametrize("case", list(hostile_files.CASES))
def test_hostile_file_gets_its_code_and_the_batch_goes_on(case, valid, tmp_path):
    maker, name, status, code = hostile_files.CASES[case]
    folder = tmp_path / "回收"
    folder.mkdir()
    good = folder / "正常 文件.xlsx"
    shutil.copy(valid, good)
    started = time.monotonic()
    maker(valid, folder / name)
    exit_code, results = _run_batch(folder, tmp_path / "out")
    assert time.monotonic() - started < 60
    hostile = results[name]
    assert hostile["status"] == status, hostile
    codes = code if isinstance(code, tuple) else (code,)
    found = [f for f in hostile["findings"] if f["code"] in codes]
    assert found, [f["code"] for f in hostile["findings"]]
    assert "请" in found[0]["message"]  # tells the sender what to do
    normal = results["正常 文件.xlsx"]
    assert normal["status"] == "passed" and [e["execution_rate"] for e in normal["evaluations"]] == [1.0, 1.0]
    assert exit_code == (0 if status == "passed" else 1)
    assert (tmp_path / "out" / "汇总.xlsx").stat().st_size > 0


def test_real_excel_97_file_of_our_template_asks_for_xlsx(valid, tmp_path):
    from libreoffice import require_libreoffice, resave

    require_libreoffice()
    xls = resave(valid, tmp_path, fmt="xls")
    renamed = tmp_path / "改名.xlsx"
    shutil.copy(xls, renamed)
    for path in (xls, renamed):
        result = check_file(path)
        assert result.status == "unreadable"
        (f,) = [f for f in result.findings if f.code == "FILE_XLS_LEGACY"]
        assert ".xlsx" in f.message


def test_same_file_twice_and_two_files_for_one_unit(valid, tmp_path):
    folder = tmp_path / "回收"
    folder.mkdir()
    shutil.copy(valid, folder / "第一次.xlsx")
    shutil.copy(valid, folder / "第二次 提交.xlsx")
    write_project(folder / "另一份.xlsx", PROJ1_NOTE="补充说明")
    write_department(folder / "武汉.xlsx")
    _code, results = _run_batch(folder, tmp_path / "out")
    codes = {name: {f["code"] for f in r["findings"]} for name, r in results.items()}
    assert "DUPLICATE_FILE" in codes["第二次 提交.xlsx"]
    # The first file of the unit in the batch's order stands; the others are flagged.
    assert sum("DUPLICATE_UNIT" in codes[n] for n in ("第一次.xlsx", "第二次 提交.xlsx", "另一份.xlsx")) >= 1
    assert not codes["武汉.xlsx"] & {"DUPLICATE_FILE", "DUPLICATE_UNIT"}


def test_zip_bomb_is_refused_fast_and_small(valid, tmp_path):
    bomb = hostile_files.zip_bomb(valid, tmp_path / "bomb.xlsx", inflated_mb=2048)
    code = (
        "import resource, sys, time; sys.path.insert(0, %r)\n"
        "from xltool.batch import check_file\n"
        "t = time.monotonic(); r = check_file(%r)\n"
        "print(r.status, r.findings[0].code, time.monotonic() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    ) % (str(ROOT), str(bomb))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout.split()
    status, finding, seconds, peak_mb = out[0], out[1], float(out[2]), int(out[3])
    assert status == "unreadable" and finding in ("FILE_ZIP_BOMB", "SHEET_TOO_LARGE")
    assert seconds < 5 and peak_mb < 200


def test_external_entities_are_never_resolved(valid, tmp_path):
    result = check_file(hostile_files.external_entity(valid, tmp_path / "xxe.xlsx"))
    assert "root:" not in json.dumps(result.as_dict(), ensure_ascii=False)


def test_formula_text_from_a_submission_never_becomes_a_formula(tmp_path):
    import openpyxl

    path = write_project(tmp_path / "注入.xlsx", PROJ1_NOTE="=HYPERLINK(\"http://x\",\"点我\")", PROJ1_EXECUTED=320, PROBLEMS="@SUM(1)")
    out = tmp_path / "out"
    main(["check", str(path), "--out", str(out / "s.xlsx"), "--csv", str(out / "r.csv"), "--feedback", str(out / "fb"), "--quiet"])
    for workbook in [out / "s.xlsx", *(out / "fb").iterdir()]:
        wb = openpyxl.load_workbook(workbook)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f" or not str(c.value).upper().startswith(("=HYPERLINK", "=SUM", "@")), (workbook.name, c.coordinate)
    for line in (out / "r.csv").read_text(encoding="utf-8-sig").splitlines():
        for field in line.split(","):
            assert not field.strip('"').startswith(("=", "+", "@"))


# ---------------------------------------------------------------- fuzz


def _mutations(valid: bytes, rng: random.Random):
    with zipfile.ZipFile(__import__("io").BytesIO(valid)) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    names = sorted(parts)

    def rezip(mapping, dup=None):
        buf = __import__("io").BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for name, data in mapping.items():
                    out.writestr(name, data)
                if dup:
                    out.writestr(dup, mapping[dup])
        return buf.getvalue()

    while True:
        kind = rng.randrange(7)
        if kind == 0:  # byte flips anywhere
            data = bytearray(valid)
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            yield "flip", bytes(data)
        elif kind == 1:  # truncation
            yield "truncate", valid[: rng.randrange(len(valid))]
        elif kind == 2:  # a part removed
            victim = rng.choice(names)
            yield "remove", rezip({n: d for n, d in parts.items() if n != victim})
        elif kind == 3:  # a part duplicated
            yield "duplicate", rezip(dict(parts), dup=rng.choice(names))
        elif kind == 4:  # mangled XML inside a part
            victim = rng.choice([n for n in names if n.endswith(".xml")])
            data = bytearray(parts[victim])
            for _ in range(rng.randint(1, 10)):
                pos = rng.randrange(len(data))
                data[pos : pos + rng.randint(0, 5)] = rng.choice([b"<", b">", b"&", b'"', b"</c>", b"<v>x</v>", b"\x00", b"\xff\xfe", b""])
            yield "mangle", rezip({**parts, victim: bytes(data)})
        elif kind == 5:  # wrong types in cells: numbers become text, text becomes numbers, errors
            victim = rng.choice([n for n in names if n.startswith("xl/worksheets/")])
            text = parts[victim].decode("utf-8", "replace")
            text = text.replace("<v>", rng.choice(['<v>NaN', "<v>1e309", "<v>-", "<v>#DIV/0!", "<v>9" * 3]), rng.randint(1, 50))
            text = text.replace(' t="s"', rng.choice([' t="b"', ' t="e"', ' t="str"', ' t="n"', ' t="d"']), rng.randint(1, 20))
            yield "types", rezip({**parts, victim: text.encode()})
        else:  # shared strings index out of range, names pointing nowhere
            text = parts["xl/workbook.xml"].decode().replace("$E$5", rng.choice(["$XFD$1048576", "#REF!", "$E$0", "$ZZZZ$5"]))
            yield "names", rezip({**parts, "xl/workbook.xml": text.encode()})


def test_fuzz_thousands_of_mutations_never_raise(tmp_path):
    valid_files = [write_project(tmp_path / "p.xlsx"), write_department(tmp_path / "d.xlsx")]
    rng = random.Random(20261121)
    deadline = time.monotonic() + 45
    counts: dict[str, int] = {}
    n = 0
    target = tmp_path / "m.xlsx"
    generators = [_mutations(p.read_bytes(), rng) for p in valid_files]
    while n < 3000 and time.monotonic() < deadline:
        kind, data = next(generators[n % 2])
        target.write_bytes(data)
        result = check_file(target)  # must never raise
        assert result.status in ("passed", "failed", "unreadable"), kind
        assert result.status != "unreadable" or result.findings
        counts[result.status] = counts.get(result.status, 0) + 1
        n += 1
    assert n >= 1000, f"only {n} mutations in the time allowed"
    assert counts.get("unreadable") and (counts.get("failed") or counts.get("passed"))
