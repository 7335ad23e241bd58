"""Checking many returned files: expand paths, check each file in isolation, compare across files.

One bad file never stops the batch: everything that can go wrong inside one file's check becomes
that file's finding. Inputs are only ever opened for reading.
"""

from __future__ import annotations

import glob
import hashlib
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .messages import explain, finding
from .model import Result

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xltx", ".et", ".ods")


def expand_paths(items: list[str]) -> tuple[list[Path], list[str]]:
    """Files, folders (searched recursively for spreadsheets) and globs → files, and the items
    that matched nothing. Symbolic links to folders are not followed (a link loop cannot make
    the walk endless); unreadable folders are skipped; only regular files are taken (a FIFO or
    a device named .xlsx would block or never end)."""
    files: list[Path] = []
    missing: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files.extend(_spreadsheets_under(path))
        elif path.is_file():
            files.append(path)
        elif glob.has_magic(item):
            matched = sorted(Path(p) for p in glob.glob(item, recursive=True) if Path(p).is_file())
            if matched:
                files.extend(matched)
            else:
                missing.append(item)
        else:
            missing.append(item)
    seen, unique = set(), []
    for f in files:
        key = os.path.realpath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing


def _spreadsheets_under(folder: Path) -> list[Path]:
    found = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in names:
            if Path(name).suffix.lower() not in SPREADSHEET_SUFFIXES or name.startswith(("~$", ".~lock")):
                continue
            path = Path(root, name)
            try:
                if path.is_file():
                    found.append(path)
            except OSError:  # a name the file system cannot stat: skipped like any non-file
                continue
    return sorted(found)


def check_file(path: str | Path, *, strict: bool = False) -> Result:
    """Check one returned workbook; never raises.

    Everything a hostile or broken file can do ends as that file's finding. An exception nobody
    foresaw also does (FILE_UNREADABLE naming it) — unless `strict`, used by the fuzz tests,
    where it is raised so that it can be fixed where it happens."""
    from .checks import check, result_status
    from .evaluate import evaluate
    from .reader import Unreadable, read_bytes, read_submission

    path = Path(path)
    shown = str(path)
    try:
        data = read_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        sub, _plan, framework, notes = read_submission(path, data)
        findings = notes + check(sub, framework)
        findings = _dedupe(findings)
        evaluations = evaluate(sub, framework)
        return Result(
            file=shown,
            status=result_status(findings),
            kind=sub.kind,
            unit=sub.unit_name,
            unit_code=sub.unit_code,
            year=sub.year,
            framework=f"{sub.framework_name} {sub.framework_version}",
            findings=findings,
            evaluations=evaluations,
            sha256=digest,
        )
    except Unreadable as exc:
        return Result(file=shown, status="unreadable", findings=exc.findings, sha256=locals().get("digest", ""))
    except MemoryError:
        return Result(file=shown, status="unreadable", findings=[finding("FILE_TOO_LARGE", file=path.name, detail="检查时内存不足，文件内容过多")])
    except RecursionError:
        return Result(file=shown, status="unreadable", findings=[finding("FILE_CORRUPT", file=path.name, detail="嵌套过深")])
    except Exception as exc:  # the batch goes on, whatever one file does
        if strict:
            raise
        detail = explain(exc)
        return Result(
            file=shown,
            status="unreadable",
            findings=[finding("FILE_UNREADABLE", file=path.name, detail=detail)],
            sha256=locals().get("digest", ""),
        )


def _dedupe(findings):
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.sheet, f.cell, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def cross_file_findings(results: list[Result]) -> None:
    """The same file submitted twice; two files claiming the same archive and year."""
    by_hash: dict[str, Result] = {}
    by_unit: dict[tuple, Result] = {}
    for result in results:
        if result.sha256:
            first = by_hash.setdefault(result.sha256, result)
            if first is not result:
                result.findings.append(finding("DUPLICATE_FILE", file=Path(result.file).name, other=Path(first.file).name))
        if result.status != "unreadable" and result.unit:
            key = (result.unit_code or result.unit, result.year, result.kind)
            first = by_unit.setdefault(key, result)
            if first is not result and first.sha256 != result.sha256:
                result.findings.append(finding("DUPLICATE_UNIT", file=Path(result.file).name, other=Path(first.file).name, unit=result.unit))


def check_paths(files: list[Path], jobs: int = 1, progress=None) -> list[Result]:
    """Check every file, in `jobs` processes; results in the order of `files`."""
    results: list[Result] = []
    total = len(files)
    if jobs > 1 and total > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            chunk = max(1, min(32, total // (jobs * 4) or 1))
            for i, result in enumerate(pool.map(check_file, files, chunksize=chunk), start=1):
                results.append(result)
                if progress:
                    progress(i, total, result)
    else:
        for i, path in enumerate(files, start=1):
            result = check_file(path)
            results.append(result)
            if progress:
                progress(i, total, result)
    cross_file_findings(results)
    return results


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def output_conflicts(outputs: list[Path], inputs: list[Path]) -> list[Path]:
    """Outputs that would overwrite an input (the checker never writes to an input)."""
    inputs_real = {os.path.realpath(p) for p in inputs}
    bad = []
    for out in outputs:
        if os.path.realpath(out) in inputs_real or any(same_file(out, p) for p in inputs if out.exists()):
            bad.append(out)
    return bad


class Progress:
    """A one-line progress bar on stderr for long batches."""

    def __init__(self, enabled: bool):
        self.enabled = enabled and sys.stderr.isatty() or (enabled and os.environ.get("XLTOOL_PROGRESS") == "1")

    def __call__(self, done: int, total: int, result: Result) -> None:
        if not self.enabled or total < 2:
            return
        width = 30
        filled = int(width * done / total)
        bar = "█" * filled + "·" * (width - filled)
        sys.stderr.write(f"\r检查中 [{bar}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
