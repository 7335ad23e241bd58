"""Time and peak memory of checking each hostile file, one fresh process per file.

    python benchmarks/bench_hostile.py [--repeat 3] [--only zip_bomb,huge_sheet]

Builds every case of tests/hostile.py (the real .xls needs LibreOffice, the real encrypted file
msoffcrypto-tool; both are skipped when missing) next to a valid filled template, then for each
file starts `python -c "check_file(path)"` and reports the time check_file took (modules already
imported), the process's
peak resident memory (VmHWM, which starts afresh at exec — ru_maxrss would carry over this
script's own peak on Linux; benchmarks/peak_memory.py), and the status and code it gave. The valid file is the baseline:
the memory of Python, lxml and the checker themselves. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from peak_memory import BENCHMARKS  # noqa: E402  (each measured process imports its peak_mb from there)

CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {bench!r})
from peak_memory import peak_mb
from xltool.check.batch import check_file
import xltool.check.rules, xltool.check.evaluate, xltool.check.reader  # imported before timing: not a per-file cost

start = time.perf_counter()
result = check_file(sys.argv[1])
seconds = time.perf_counter() - start
codes = [f.code for f in result.findings]
print(json.dumps({{"seconds": seconds, "peak_mb": peak_mb(), "status": result.status, "codes": codes}}))
"""


def measure(path: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        proc = subprocess.run([sys.executable, "-c", CHILD.format(bench=BENCHMARKS, root=str(ROOT)), str(path)], capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            return {"seconds": float("nan"), "peak_mb": float("nan"), "status": "CRASH", "codes": [proc.stderr.strip().splitlines()[-1:]]}
        runs.append(json.loads(proc.stdout))
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_mb"] = max(r["peak_mb"] for r in runs)
    return best


def main(argv=None) -> int:
    import hostile
    from cases import write_project

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs per file; the fastest time and the highest peak are shown")
    ap.add_argument("--only", help="comma-separated case names")
    args = ap.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None

    rows = []
    with tempfile.TemporaryDirectory(prefix="xltool-hostile-") as tmp:
        folder = Path(tmp)
        valid = write_project(folder / "valid.xlsx")
        cases = [("valid (baseline)", valid, "passed", "")]
        for case in hostile.CASES:
            if only and case.name not in only:
                continue
            try:
                path = hostile.build(case, folder, valid)
            except Exception as exc:  # noqa: BLE001 - LibreOffice or msoffcrypto missing
                print(f"skipped {case.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            cases.append((case.name, path, case.status, case.code))
        for name, path, status, code in cases:
            m = measure(path, args.repeat)
            ok = m["status"] == status and (not code or code in m["codes"])
            rows.append((name, path.stat().st_size, m, code, ok))

    print("| case | file size | status | code | time (ms) | peak RSS (MB) |")
    print("|---|---:|---|---|---:|---:|")
    for name, size, m, code, ok in rows:
        shown = code or ",".join(m["codes"][:2]) or "—"
        mark = "" if ok else " **UNEXPECTED**"
        print(f"| {name} | {_size(size)} | {m['status']}{mark} | {shown} | {m['seconds'] * 1000:.0f} | {m['peak_mb']:.0f} |")
    return 0 if all(ok for *_x, ok in rows) else 1


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"


if __name__ == "__main__":
    sys.exit(main())
