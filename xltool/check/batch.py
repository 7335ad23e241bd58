"""Checking many returned files: expand paths, check each file in isolation, compare across files.

One bad file never stops the batch: everything that can go wrong inside one file's check becomes
that file's finding. Inputs are only ever opened for reading.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import signal
import stat
import sys
from collections import Counter, deque
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from xltool.core.messages import explain, finding
from xltool.core import model
from xltool.core.model import Result

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xltx", ".et", ".ods")
ARCHIVE_SUFFIXES = (".zip",)
MAX_ARCHIVE_BYTES = 100 * 1024 * 1024  # a .zip of returns (a return is ~30 KB)
MAX_ARCHIVE_RETURNS = 2_000  # workbooks in one .zip
MAX_ARCHIVE_TOTAL = 1024 * 1024 * 1024  # inflated workbooks read from one .zip, all together
OUTPUT_MARKER = model.OUTPUT_MARKER.encode()  # custom document property of the outputs we write (summaries, feedback, 批复表)

# Why a file found in a folder (or inside a .zip) was not checked: reason → what to do.
SKIP_NOT_WORKBOOK = "不是工作簿（.csv、.pdf、没有扩展名等），如是回收的自评表请另存为 .xlsx"
SKIP_XLSB = "是 .xlsb 二进制工作簿，请在 Excel 中另存为 .xlsx 后再检查"
SKIP_SYMLINK = "是符号链接（不跟随），如需检查请直接给出链接指向的文件"
SKIP_SPECIAL = "是管道、设备等特殊文件，不是工作簿"
SKIP_LOCK = "是 Office/WPS 打开文件时留下的临时锁定文件（~$ 开头），无需检查"
SKIP_FOLDER = "所在的子文件夹无法打开（没有读取权限），请检查权限后重新运行"
SKIP_OUTPUT = "是本程序写出的汇总、检查意见或批复表，不是回收的自评表或申报表"
OUR_OUTPUT = "它是本程序写出的汇总、检查意见或批复表，不是单位交回的文件，请不要把它当作回收的文件给出"
SKIP_IN_ARCHIVE = "是压缩包中的其他文件（不是工作簿，或是压缩包中的压缩包），如需检查请解压后给出"


@dataclass(frozen=True)
class Source:
    """One returned workbook to check: a file, or a member of a .zip archive (`member`, a name
    that is only ever shown, never used as a path; its bytes are read from the archive)."""

    path: str
    member: str = ""
    shown: str = ""
    scanned: bool = False  # found in a folder (not named): our own outputs there are passed over

    @property
    def file(self) -> str:
        return self.shown or self.path


@dataclass
class Inputs:
    sources: list[Source] = field(default_factory=list)
    problems: list[Result] = field(default_factory=list)  # named paths that cannot be checked
    skipped: Counter = field(default_factory=Counter)  # reason → files passed over
    empty_folders: list[str] = field(default_factory=list)  # named folders with nothing to check
    outputs_found: list[str] = field(default_factory=list)  # files a folder scan passed over as this run's outputs

    @property
    def missing(self) -> list[str]:
        return [r.file for r in self.problems if r.status == "missing"]


def expand_paths(items: list[str]) -> tuple[list[Path], list[str]]:
    """Files, folders (searched recursively for spreadsheets) and globs → files, and the items
    that matched nothing (archives' members are not listed here: see `collect`)."""
    inputs = collect(items)
    return [Path(s.path) for s in inputs.sources if not s.member], inputs.missing


def collect(items: list[str], exclude=()) -> Inputs:
    """Files, folders (searched recursively), globs and .zip archives → what to check.

    A named path that is missing or not a regular file becomes a result of its own (status
    `missing` / `unreadable`), so that it is in the report and fails the run. Files a folder scan
    passes over are counted by reason. Symbolic links found in folders are not followed (a link
    loop cannot make the walk endless); only regular files are taken (a FIFO or a device named
    .xlsx would block or never end); `exclude` (this run's outputs) is never read back."""
    inputs = Inputs()
    excluded = {os.path.realpath(p) for p in exclude}
    for item in items:
        path = Path(item)
        try:
            mode = os.stat(path).st_mode
        except OSError:
            mode = None
        if mode is None and glob.has_magic(item):
            matched = sorted(glob.glob(item, recursive=True))
            if not matched:
                inputs.problems.append(_missing(item))
            for m in matched:
                _named(Path(m), inputs, excluded)
            continue
        if mode is None:
            inputs.problems.append(_missing(item))
        elif stat.S_ISDIR(mode):
            before = len(inputs.sources) + len(inputs.problems)
            _scan(path, inputs, excluded)
            if len(inputs.sources) + len(inputs.problems) == before:
                inputs.empty_folders.append(item)
        else:
            _named(path, inputs, excluded)
    seen, unique = set(), []
    for s in inputs.sources:
        key = (os.path.realpath(s.path), s.member)
        if key not in seen:
            seen.add(key)
            unique.append(s)
    inputs.sources = unique
    return inputs


def _missing(item: str) -> Result:
    return Result(file=item, status="missing", findings=[finding("FILE_NOT_FOUND", file=item)])


def _special(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "是管道（FIFO）"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "是设备文件"
    if stat.S_ISSOCK(mode):
        return "是套接字"
    return "是特殊文件"


def _named(path: Path, inputs: Inputs, excluded: set[str], scanned: bool = False) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        inputs.problems.append(Result(file=str(path), status="unreadable", findings=[finding("FILE_UNREADABLE", file=path.name, detail=exc.strerror or str(exc))]))
        return
    if stat.S_ISDIR(mode):
        _scan(path, inputs, excluded)
    elif not stat.S_ISREG(mode):
        inputs.problems.append(Result(file=str(path), status="unreadable", findings=[finding("NOT_A_FILE", file=str(path), detail=_special(mode))]))
    elif path.suffix.lower() in ARCHIVE_SUFFIXES:
        _archive(path, inputs, scanned)
    else:
        inputs.sources.append(Source(str(path), scanned=scanned))


def _scan(folder: Path, inputs: Inputs, excluded: set[str]) -> None:
    def unreadable(_exc):
        inputs.skipped[SKIP_FOLDER] += 1

    for root, dirs, names in os.walk(folder, followlinks=False, onerror=unreadable):
        dirs.sort()
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):
                inputs.skipped[SKIP_SYMLINK] += 1
                dirs.remove(d)
        for name in sorted(names):
            path = Path(root, name)
            try:
                mode = os.lstat(path).st_mode
            except OSError:  # a name the file system cannot stat
                inputs.skipped[SKIP_SPECIAL] += 1
                continue
            suffix = path.suffix.lower()
            if stat.S_ISLNK(mode):
                inputs.skipped[SKIP_SYMLINK] += 1
            elif not stat.S_ISREG(mode):
                inputs.skipped[SKIP_SPECIAL] += 1
            elif name.startswith(("~$", ".~lock")):
                inputs.skipped[SKIP_LOCK] += 1
            elif os.path.realpath(path) in excluded:
                inputs.skipped[SKIP_OUTPUT] += 1
                inputs.outputs_found.append(str(path))
            elif suffix in ARCHIVE_SUFFIXES:
                _archive(path, inputs, scanned=True)
            elif suffix in SPREADSHEET_SUFFIXES:
                inputs.sources.append(Source(str(path), scanned=True))
            elif suffix == ".xlsb":
                inputs.skipped[SKIP_XLSB] += 1
            else:
                inputs.skipped[SKIP_NOT_WORKBOOK] += 1


# ---------------------------------------------------------------- .zip archives of returns


def _member_name(info) -> str:
    """A member's name as its maker meant it: zips made on Chinese Windows store GBK names
    without the UTF-8 flag, which zipfile decodes as cp437."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name.replace("\\", "/")


def _archive_bytes(path: Path) -> bytes:
    from xltool.check import xlsx

    size = os.stat(path).st_size
    if size > MAX_ARCHIVE_BYTES:
        raise xlsx.XlsxError("FILE_TOO_LARGE", f"{size // (1024 * 1024)} MB，上限 {MAX_ARCHIVE_BYTES // (1024 * 1024)} MB")
    with open(path, "rb") as handle:  # read-only
        return handle.read(MAX_ARCHIVE_BYTES + 1)


def _open_archive(path: Path):
    """The archive as the hardened reader's package: entries counted before zipfile parses them,
    members inflated in bounded steps with the ratio and size checked on what comes out."""
    from xltool.check import xlsx

    data = _archive_bytes(path)
    if xlsx.sniff(data[:8]) or not data.startswith(b"PK"):
        raise xlsx.XlsxError("FILE_NOT_ZIP", "不是 .zip 压缩包")
    return xlsx._Package(data)


def _archive(path: Path, inputs: Inputs, scanned: bool) -> None:
    from xltool.check import xlsx

    def unreadable(detail: str) -> None:
        inputs.problems.append(Result(file=str(path), status="unreadable", findings=[finding("ARCHIVE_UNREADABLE", file=path.name, detail=detail)]))

    try:
        package = _open_archive(path)
    except xlsx.XlsxError as exc:
        return unreadable(exc.detail)
    except OSError as exc:
        return unreadable(exc.strerror or str(exc))
    found = []
    for name, info in package.infos.items():
        if info.is_dir():
            continue
        shown = _member_name(info)
        last = shown.rsplit("/", 1)[-1]
        if shown.startswith("__MACOSX/") or last.startswith(("~$", "._", ".~lock")):
            inputs.skipped[SKIP_IN_ARCHIVE] += 1
        elif Path(last).suffix.lower() in SPREADSHEET_SUFFIXES:
            found.append(Source(str(path), member=name, shown=f"{path}/{shown}", scanned=scanned))
        else:
            inputs.skipped[SKIP_IN_ARCHIVE] += 1
    if len(found) > MAX_ARCHIVE_RETURNS:
        return unreadable(f"压缩包内有 {len(found)} 个工作簿，上限 {MAX_ARCHIVE_RETURNS}")
    if not found:
        inputs.problems.append(Result(file=str(path), status="unreadable", findings=[finding("ARCHIVE_EMPTY", file=path.name)]))
    inputs.sources.extend(sorted(found, key=lambda s: s.shown))


class _Members:
    """Reads members of one archive at a time (sources of an archive come together)."""

    def __init__(self):
        self.path = None
        self.package = None
        self.total = 0

    def read(self, source: Source) -> bytes:
        from xltool.check import xlsx

        if source.path != self.path:
            self.path, self.package, self.total = source.path, None, 0
            self.package = _open_archive(Path(source.path))
        self.package.read_total = 0  # the per-file cap applies to each member
        data = self.package.read(source.member, limit=xlsx.MAX_FILE_BYTES)
        self.total += len(data)
        if self.total > MAX_ARCHIVE_TOTAL:
            raise xlsx.XlsxError("FILE_TOO_LARGE", f"压缩包解压后的工作簿合计超过 {MAX_ARCHIVE_TOTAL // (1024 * 1024)} MB")
        return data


def _load(source: Source, members: _Members) -> tuple[bytes | None, Result | None]:
    """A member's bytes (read in this process, bounded), or the result saying why it cannot be."""
    if not source.member:
        return None, None
    from xltool.check import xlsx

    name = source.file.rsplit("/", 1)[-1]
    try:
        return members.read(source), None
    except xlsx.XlsxError as exc:
        return None, Result(file=source.file, status="unreadable", findings=[finding(exc.code, file=name, detail=exc.detail)])
    except OSError as exc:
        return None, Result(file=source.file, status="unreadable", findings=[finding("FILE_UNREADABLE", file=name, detail=exc.strerror or str(exc))])


def archive_members(path: str | Path) -> Iterator[tuple[str, bytes | None, Result | None]]:
    """The workbooks inside one .zip, read with the batch's limits: (name shown, bytes, None), or
    (name, None, the result saying why it cannot be read); an archive that cannot be opened at
    all yields one (name, None, result). Other members are passed over, as in a folder scan."""
    inputs = Inputs()
    _archive(Path(path), inputs, scanned=False)
    for problem in inputs.problems:
        yield problem.file, None, problem
    members = _Members()
    for source in inputs.sources:
        data, problem = _load(source, members)
        yield source.file, data, problem


def check_source(source: Source, data: bytes | None = None) -> Result:
    """Check one source; never raises. A file found in a folder that turns out to be a summary
    or feedback workbook this program wrote gets status `skipped`."""
    result = check_file(source.file if source.member else source.path, data=data)
    return set_aside(source, data, result)


def not_our_template(result: Result) -> bool:
    """Whether a checked file proved to be no template of ours: then it may be one of our outputs."""
    return result.status == "unreadable" and any(f.code == "NOT_OUR_TEMPLATE" for f in result.findings)


def set_aside(source: Source, data: bytes | None, result: Result) -> Result:
    """`result` of a source that proved not to be a return; if it is an output this program
    wrote: `skipped` when found in a folder, else said to be ours (named, it still fails the run)."""
    if not not_our_template(result) or not _is_our_output(source, data):
        return result
    if source.scanned:
        return Result(file=source.file, status="skipped")
    shown = source.file.replace("\\", "/").rsplit("/", 1)[-1]
    return Result(file=result.file, status="unreadable", findings=[finding("NOT_OUR_TEMPLATE", file=shown, detail=OUR_OUTPUT)], sha256=result.sha256)


def returns_at_outputs(inputs: Inputs) -> list[str]:
    """Workbooks a folder scan passed over because an output of this run is to be written there
    (by any spelling of the path, or through a link) which this program did not write: a return
    that the output would overwrite (the caller refuses; only our own earlier outputs are replaced)."""
    return [
        p for p in inputs.outputs_found
        if Path(p).suffix.lower() in SPREADSHEET_SUFFIXES + ARCHIVE_SUFFIXES and not _is_our_output(Source(p), None)
    ]


def _is_our_output(source: Source, data: bytes | None) -> bool:
    try:
        if data is None:
            from xltool.check.reader import read_bytes

            data = read_bytes(Path(source.path))
    except Exception:  # noqa: BLE001 - not readable as ours: it is checked (and reported) as a return
        return False
    return output_kind(data) is not None


_MARKED = re.compile(rb'name="' + OUTPUT_MARKER + rb'"[^>]*>\s*<vt:lpwstr>([a-z_]{1,20})</vt:lpwstr>')
_APPROVAL_TITLE = "绩效目标批复表".encode()


def output_kind(data: bytes) -> str | None:
    """Which of this program's own outputs a workbook is: the kind its output marker names
    ("summary", "feedback", "export", "approval" for a 批复表; "output" when it names another;
    a 批复表 of an earlier release has no marker and is known by its title 绩效目标批复表 and
    creator xltool), None for
    anything else — a return, a template, someone else's workbook, bytes that are no package."""
    from xltool.check import xlsx

    try:
        package = xlsx._Package(data)
        if package.has("docProps/custom.xml"):
            custom = package.read("docProps/custom.xml", limit=64 * 1024)
            if OUTPUT_MARKER in custom:
                found = _MARKED.search(custom)
                return found.group(1).decode() if found else "output"
        if package.has("docProps/core.xml"):
            core = package.read("docProps/core.xml", limit=64 * 1024)
            if b">" + _APPROVAL_TITLE + b"</dc:title>" in core and b">xltool</dc:creator>" in core:
                return "approval"
    except Exception:  # noqa: BLE001 - not readable as ours: it is checked (and reported) as a return
        return None
    return None


def check_file(path: str | Path, *, strict: bool = False, data: bytes | None = None) -> Result:
    """Check one returned workbook; never raises.

    Everything a hostile or broken file can do ends as that file's finding. An exception nobody
    foresaw also does (FILE_UNREADABLE naming it) — unless `strict`, used by the fuzz tests,
    where it is raised so that it can be fixed where it happens. With `data`, the bytes are those
    (a member of an archive) and `path` is only shown."""
    return check_file_read(path, strict=strict, data=data)[0]


def check_file_read(path: str | Path, *, strict: bool = False, data: bytes | None = None):
    """As check_file, and also what was read: (Result, Submission, Framework), the last two None
    when the file could not be read. The report drafts are written from these."""
    from xltool.check.rules import check, read_result
    from xltool.check.evaluate import evaluate
    from xltool.check.reader import Unreadable, read_bytes, read_submission

    path = Path(path)
    shown = str(path)
    try:
        if data is None:
            data = read_bytes(path)
        digest = hashlib.sha256(data).hexdigest()
        sub, _plan, framework, notes = read_submission(path, data)
        evaluations = evaluate(sub, framework)
        findings = notes + check(sub, framework, evaluations)  # the same figures, not worked out again
        findings = _dedupe(findings)
        return _read(read_result(shown, sub, findings, digest, evaluations=evaluations), sub, framework)
    except Unreadable as exc:
        if data is not None and any(f.code == "NOT_OUR_TEMPLATE" for f in exc.findings):
            from xltool.check.declaration import check_declaration_file  # a 绩效目标申报表 (template --stage 申报)

            try:
                declared = check_declaration_file(path, data)
            except Exception:  # noqa: BLE001 - never: it answers every file; the reader's finding stands
                if strict:
                    raise
                declared = None
            if declared is not None:
                return _read(declared[0])
        return _read(Result(file=shown, status="unreadable", findings=exc.findings, sha256=locals().get("digest", "")))
    except MemoryError:
        return _read(Result(file=shown, status="unreadable", findings=[finding("FILE_TOO_LARGE", file=path.name, detail="检查时内存不足，文件内容过多")]))
    except RecursionError:
        return _read(Result(file=shown, status="unreadable", findings=[finding("FILE_CORRUPT", file=path.name, detail="嵌套过深")]))
    except Exception as exc:  # the batch goes on, whatever one file does
        if strict:
            raise
        detail = explain(exc)
        return _read(Result(
            file=shown,
            status="unreadable",
            findings=[finding("FILE_UNREADABLE", file=path.name, detail=detail)],
            sha256=locals().get("digest", ""),
        ))


def _read(result: Result, sub=None, framework=None):
    return result, sub, framework


def iter_read(sources) -> Iterator[tuple]:
    """(Result, Submission, Framework) for each source (paths or `Source`s), in this process, in
    order; Submission and Framework are None for a file that could not be read. Members of a
    .zip are read from the archive, never extracted."""
    members = _Members()
    for source in (s if isinstance(s, Source) else Source(str(s)) for s in sources):
        data, failed = _load(source, members)
        if failed is not None:
            yield failed, None, None
            continue
        yield check_file_read(source.file if source.member else source.path, data=data)


def _dedupe(findings):
    seen, out = set(), []
    for f in findings:
        key = (f.code, f.sheet, f.cell, f.message)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


class CrossFile:
    """The checks across files, one result at a time in the order given: the same file submitted
    twice; two files claiming the same unit, year and kind. Only a small record of each earlier
    file is kept (its name and digest), never its result."""

    def __init__(self):
        self.by_hash: dict[str, str] = {}  # sha256 → file name
        self.by_unit: dict[tuple, tuple[str, str]] = {}  # (unit, year, kind) → (file name, sha256)

    def add(self, result: Result) -> None:
        name = Path(result.file).name
        if result.sha256:
            if result.sha256 in self.by_hash:
                result.findings.append(finding("DUPLICATE_FILE", file=name, other=self.by_hash[result.sha256]))
            else:
                self.by_hash[result.sha256] = name
        if result.status != "unreadable" and result.unit:
            key = (result.unit_code or result.unit, result.year, result.kind)
            if key in self.by_unit:
                other, digest = self.by_unit[key]
                if digest != result.sha256:
                    result.findings.append(finding("DUPLICATE_UNIT", file=name, other=other, unit=result.unit))
            else:
                self.by_unit[key] = (name, result.sha256)


def cross_file_findings(results: list[Result]) -> None:
    """The same file submitted twice; two files claiming the same archive and year."""
    cross = CrossFile()
    for result in results:
        cross.add(result)


def default_jobs(files: int) -> int:
    """As many processes as cores this process may use, no more than there are files."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, files, 64))


def check_paths(files, jobs: int = 1, progress=None) -> list[Result]:
    """Check every file (paths or `Source`s), in `jobs` processes; results in the order given,
    with the findings across files. (`iter_checked` gives them one at a time instead.)"""
    out = []
    cross = CrossFile()
    with closing(iter_checked(files, jobs, progress)) as results:
        for result in results:
            if result.status != "skipped":
                cross.add(result)
            out.append(result)
    return out


def iter_checked(files, jobs: int = 1, progress=None) -> Iterator[Result]:
    """Check every file (paths or `Source`s), in `jobs` processes, and yield each result in the
    order given as soon as it and those before it are done, so that a caller can write it out
    and let it go (the findings across files are the caller's: see `CrossFile`).

    With several processes, a worker that dies (killed, out of memory) costs the file it was
    checking alone: that file gets FILE_UNREADABLE and a new worker takes the rest. Interrupted
    (Ctrl-C, or SIGTERM turned into an exception by the caller), or closed early, every worker
    is stopped."""
    sources = [s if isinstance(s, Source) else Source(str(s)) for s in files]
    total = len(sources)
    members = _Members()
    waiting: dict[int, Result] = {}  # done, but a file before it is not yet
    done = following = 0

    if jobs > 1 and total > 1:
        arrivals = _run_workers(sources, min(jobs, total), members)
    else:
        arrivals = _in_process(sources, members)
    with closing(arrivals):
        for i, result in arrivals:
            done += 1
            if progress:
                progress(done, total, result)
            waiting[i] = result
            while following in waiting:
                yield waiting.pop(following)
                following += 1


def _in_process(sources: list[Source], members: _Members) -> Iterator[tuple[int, Result]]:
    for i, source in enumerate(sources):
        data, failed = _load(source, members)
        yield i, failed or check_source(source, data)


def _worker(conn) -> None:
    """A worker: check what it is sent, one source at a time, until told to stop or the main
    process goes away (its end of the pipe closes)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        index, source, data = item
        conn.send((index, check_source(source, data)))


def _crashed(source: Source, exitcode) -> Result:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"被系统以信号 {signal.Signals(-exitcode).name} 结束，常见原因是内存不足"
        except ValueError:
            how = f"被系统以信号 {-exitcode} 结束"
    else:
        how = f"退出码 {exitcode}"
    name = source.file.replace("\\", "/").rsplit("/", 1)[-1]
    detail = f"检查这个文件时检查进程意外中止（{how}），文件没有检查完"
    return Result(file=source.file, status="unreadable", findings=[finding("FILE_UNREADABLE", file=name, detail=detail)])


def _run_workers(sources: list[Source], jobs: int, members: _Members) -> Iterator[tuple[int, Result]]:
    """(index, result) as each file is done, in whatever order the workers finish."""
    import multiprocessing
    from multiprocessing.connection import wait

    # fork: a worker starts in milliseconds and shares the loaded code; elsewhere spawn.
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    queue = deque(range(len(sources)))
    busy: dict = {}  # connection → (process, index being checked)
    idle: list = []
    ready: list[tuple[int, Result]] = []  # done, not yet handed on

    def record(i: int, result: Result) -> None:
        ready.append((i, result))

    def start():
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(child,), daemon=True, name="xltool-check")
        proc.start()
        child.close()
        return parent, proc

    def give(conn, proc) -> None:
        while queue:
            i = queue.popleft()
            data, failed = _load(sources[i], members)
            if failed:
                record(i, failed)
                continue
            conn.send((i, sources[i], data))
            busy[conn] = (proc, i)
            return
        idle.append((conn, proc))

    procs = []
    try:
        for _ in range(jobs):
            conn, proc = start()
            procs.append(proc)
            give(conn, proc)
        yield from ready
        ready.clear()
        while busy:
            for conn in wait(list(busy)):
                proc, i = busy.pop(conn)
                try:
                    index, result = conn.recv()
                except (EOFError, OSError):  # the worker died while checking sources[i]
                    proc.join(5)
                    record(i, _crashed(sources[i], proc.exitcode))
                    conn.close()
                    if queue:
                        conn, proc = start()
                        procs.append(proc)
                        give(conn, proc)
                    continue
                record(index, result)
                give(conn, proc)
            yield from ready
            ready.clear()
        for conn, _proc in idle:
            try:
                conn.send(None)
            except OSError:
                pass
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join(2)


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


def missing_returns(roster, results) -> list:
    """A result with status `missing` for every roster unit no readable file belongs to. A batch
    of 绩效目标申报表 only (the 申报 stage) is matched by unit and year: who sent no 申报表."""
    returned = [r for r in results if r.status != "unreadable" and r.status != "missing"]
    declarations = bool(returned) and all(r.kind == "declaration" for r in returned)

    def same(unit, result) -> bool:
        if unit.year != result.year or (unit.kind != result.kind and not declarations):
            return False
        if unit.code.strip() and (result.unit_code or "").strip():
            return unit.code.strip() == result.unit_code.strip()
        return unit.name.strip() == (result.unit or "").strip()

    out = []
    for unit in roster:
        if not any(same(unit, r) for r in returned):
            kind_text = "，项目支出" if unit.kind == "project" else "，部门整体支出"
            out.append(
                Result(
                    file="", status="missing", kind=unit.kind, unit=unit.name, unit_code=unit.code, year=unit.year,
                    findings=[finding("MISSING_RETURN", unit=unit.name, year=str(unit.year), kind_text=kind_text, document="绩效目标申报表" if declarations else "自评文件")],
                )
            )
    return out
