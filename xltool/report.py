"""Results → the graded summary workbook, JSON, CSV, pandas tables and per-file feedback.

Pure writers: nothing here reads a submission or decides a verdict; every figure comes from the
`Result`s handed in. The only file I/O is writing the outputs the caller names, each one atomically
(a temporary file in the target's folder, then `os.replace`), so an interrupted run leaves the old
output or none, never half of one.

Text that came from a submission (unit names, file names, messages quoting a cell, values seen)
is passed through `safe_text` before it reaches any output, and workbook text is written with
`write_string` only, in a Workbook that never turns strings into formulas, numbers or links: a
returned file can never plant a formula in the finance officer's summary.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import os
import re
import shutil
import stat
import sys
import tempfile
import unicodedata
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Iterator

import xlsxwriter

from .model import Evaluation, Finding, Result

__all__ = [
    "safe_text",
    "write_json",
    "write_csv",
    "to_dataframe",
    "findings_dataframe",
    "write_summary",
    "write_feedback",
    "feedback_filename",
    "CSV_COLUMNS",
    "FINDING_COLUMNS",
]

# ---------------------------------------------------------------- vocabulary

STATUS_TEXT = {"passed": "通过", "failed": "不通过", "unreadable": "无法读取", "missing": "未找到"}


def status_label(status: str, file: str = "x") -> str:
    """The status as a user reads it; `missing` is 未交 for a roster unit that sent nothing (no
    file) and 未找到 for a file named on the command line that is not there."""
    if status == "missing" and not file:
        return "未交"
    return STATUS_TEXT.get(status, status)
_NOT_EVALUATED = ("unreadable", "missing")
KIND_TEXT = {"project": "项目支出", "department": "部门整体"}
SEVERITY_TEXT = {"error": "错误", "warning": "警告", "info": "提示"}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

FONT = "宋体"
OUTPUT_MARKER = "xltool-output"  # custom document property of every workbook written here
MAX_CELL_CHARS = 32767  # Excel's limit for one cell's text

WORKBOOK_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "in_memory": True,  # no scratch files outside the output's own temporary file
    "default_format_properties": {"font_name": FONT},
}

# ---------------------------------------------------------------- formula injection

# OWASP CSV injection: a cell starting with one of these is a formula (or DDE) to Excel, WPS or
# LibreOffice. Full-width forms are included: WPS and IMEs turn them into ASCII on some paths.
_TRIGGERS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
# Characters that may precede a trigger and are ignored by some importers.
_LEADING_BLANKS = " \u3000\u00a0\u200b\ufeff"


def _clean_unicode(text: str) -> str:
    """Replace lone surrogates (e.g. from undecodable file names) so the text can be UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def safe_text(value: Any) -> str:
    """`value` as text that no spreadsheet program will take for a formula.

    Text starting with = + - @ (also full-width ＝＋－＠), a tab, a carriage return or a line
    feed — also after leading spaces — gets a single quote in front (the OWASP rule). None
    becomes ''. Everything else is returned unchanged.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = _clean_unicode(text)
    stripped = text.lstrip(_LEADING_BLANKS)
    if stripped and stripped[0] in _TRIGGERS:
        return "'" + text
    return text


def _safe_tree(value: Any) -> Any:
    """Every string in a JSON-shaped tree through safe_text; non-finite numbers to null."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {k: _safe_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_safe_tree(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    return value


# ---------------------------------------------------------------- atomic outputs


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no way to read it without setting it
    os.umask(mask)
    return mask


class OutputError(OSError):
    """Writing one output failed; `target` says which."""

    def __init__(self, target: str, cause: OSError):
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.target = target
        self.cause = cause


class _Stage:
    """Outputs written to temporary files, put in place together by `commit`."""

    def __init__(self):
        self.renames: list[tuple[Path, Path]] = []
        self.direct: list[tuple[Path, str]] = []

    def temporaries(self) -> list[Path]:
        return [tmp for tmp, _ in self.renames] + [tmp for tmp, _ in self.direct]

    def discard(self) -> None:
        for tmp in self.temporaries():
            with suppress(OSError):
                tmp.unlink()
        self.renames, self.direct = [], []

    def commit(self) -> None:
        try:
            # The renames take microseconds: Ctrl-C or SIGTERM waits for them, so that an
            # interrupted run never leaves half the outputs new and half old.
            with _signals_held():
                while self.renames:
                    tmp, target = self.renames[0]
                    try:
                        os.replace(tmp, target)
                    except OSError as exc:
                        raise OutputError(str(target), exc) from None
                    self.renames.pop(0)
                    _fsync_dir(target.parent)
            while self.direct:
                tmp, target = self.direct[0]
                try:
                    _copy_to(tmp, target)
                except OSError as exc:
                    raise OutputError(target, exc) from None
                with suppress(OSError):
                    tmp.unlink()
                self.direct.pop(0)
        finally:
            self.discard()


@contextmanager
def _signals_held() -> Iterator[None]:
    import signal
    import threading

    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_STAGE: ContextVar[_Stage | None] = ContextVar("xltool_output_stage", default=None)


@contextmanager
def staged() -> Iterator[_Stage]:
    """Within this block, outputs written by this module go to temporary files; at its end they
    are all put in place, one rename each (devices and FIFOs then written), or, if anything went
    wrong, all temporary files are removed and every old output stays as it was: never a new
    summary beside a stale JSON report."""
    stage = _Stage()
    token = _STAGE.set(stage)
    try:
        yield stage
    except BaseException:
        _STAGE.reset(token)
        stage.discard()
        raise
    _STAGE.reset(token)
    stage.commit()


_STDOUT_NAMES = ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")
_STDERR_NAMES = ("/dev/stderr", "/dev/fd/2", "/proc/self/fd/2")
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/(?:self|\d+)/fd)/\d+$")


def is_direct(path: str | os.PathLike) -> bool:
    """An output written straight into (never renamed over): standard output (`-`), an open
    file descriptor's path (/dev/fd/N), a device, a FIFO or anything else that exists and is
    not a regular file or folder. (A regular file in /dev/shm is an ordinary output.)"""
    text = os.fspath(path)
    if text in _STDOUT_NAMES or text in _STDERR_NAMES or _FD_PATH.match(text):
        return True
    try:
        mode = os.stat(text).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def is_block_device(path: str | os.PathLike) -> bool:
    try:
        return stat.S_ISBLK(os.stat(path).st_mode)
    except OSError:
        return False


def _copy_to(tmp: Path, target: str) -> None:
    """Write a finished temporary file into standard output, a device or a FIFO, as it is."""
    if target in _STDOUT_NAMES or target in _STDERR_NAMES:
        stream = sys.stdout if target in _STDOUT_NAMES else sys.stderr
        stream.flush()
        data = tmp.read_bytes()
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:
            stream.write(data.decode("utf-8", "replace"))
            stream.flush()
        return
    if is_block_device(target):
        raise OSError(errno.EPERM, "输出路径是磁盘等块设备，不会写入")
    # No O_CREAT, no O_TRUNC: the device or FIFO is written as it is, never replaced.
    fd = os.open(target, os.O_WRONLY)
    with open(fd, "wb") as out, open(tmp, "rb") as src:
        shutil.copyfileobj(src, out, 1024 * 1024)


@contextmanager
def _atomic(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success move it over `path` in one step.

    On any exception the temporary file is removed and `path` is left as it was. Inside
    `staged()`, the move waits for the end of the block. Only regular files are replaced: a
    symbolic link keeps pointing where it did (the file it points to is replaced), and standard
    output, a device or a FIFO is written into (see `is_direct`)."""
    text = os.fspath(path)
    stage = _STAGE.get()
    if is_direct(text):
        if is_block_device(text):
            raise OutputError(text, OSError(errno.EPERM, "输出路径是磁盘等块设备，不会写入"))
        fd, name = tempfile.mkstemp(prefix=".xltool.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            if stage is not None:
                stage.direct.append((tmp, text))
                return
            _copy_to(tmp, text)
        except BaseException:
            with suppress(OSError):
                tmp.unlink()
            raise
        with suppress(OSError):
            tmp.unlink()
        return
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.is_dir():
        raise IsADirectoryError(21, "输出路径是一个文件夹", str(target))
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name[:40]}.", suffix=".tmp", dir=parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        _fsync(tmp)
        if stage is not None:
            stage.renames.append((tmp, target))
            return
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(parent)


def _fsync(path: Path) -> None:
    with suppress(OSError):
        with open(path, "rb+") as fh:
            os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _close_workbook(workbook: xlsxwriter.Workbook) -> None:
    """Close (= write) a workbook; xlsxwriter's own file errors become OSError."""
    from xlsxwriter.exceptions import FileCreateError

    try:
        workbook.close()
    except FileCreateError as exc:
        raise OSError(str(exc)) from exc


# ---------------------------------------------------------------- numbers


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return Decimal(str(value))
    return None


def _float(value: Any) -> float | None:
    d = _dec(value)
    if d is None:
        return None
    number = float(d)  # a finite Decimal beyond float range (1E+400) becomes inf
    return number if math.isfinite(number) else None


def _difference(declared: Any, score: Any) -> Decimal | None:
    a, b = _dec(declared), _dec(score)
    if a is None or b is None:
        return None
    try:
        return a - b
    except InvalidOperation:
        return None


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (Decimal, float)):
        d = _dec(value)
        return "" if d is None else format(d, "f")
    return safe_text(value)


# ---------------------------------------------------------------- rows (shared by CSV, DataFrame, workbook)

CSV_COLUMNS = (
    "file",
    "status",
    "kind",
    "unit",
    "unit_code",
    "year",
    "evaluation",
    "budget",
    "executed",
    "execution_rate",
    "declared_score",
    "score",
    "difference",
    "declared_grade",
    "grade",
    "errors",
    "warnings",
    "initial_budget",
    "initial_budget_completion_rate",
    "note",
)
_NUMBER_COLUMNS = (
    "budget",
    "executed",
    "execution_rate",
    "declared_score",
    "score",
    "difference",
    "initial_budget",
    "initial_budget_completion_rate",
)

FINDING_COLUMNS = ("file", "unit", "status", "sheet", "cell", "code", "severity", "message", "seen", "expected")


def _file_name(file: str) -> str:
    """The last component of a path written with / or \\ (paths from Windows shares too)."""
    parts = re.split(r"[\\/]", file or "")
    return parts[-1] if parts and parts[-1] else (file or "")


def _about(f: Finding, name: str) -> bool:
    """Does the finding's message name this project (项目“名称”, or 项目 N when unnamed)?"""
    if name.startswith("项目 "):
        return re.search(re.escape(name) + r"(?!\d)", f.message) is not None
    return f"项目“{name}”" in f.message


def _note(result: Result, evaluation: str | None = None) -> str:
    """One sentence for the 说明 column: why a file failed or could not be read. On the row of
    one of several projects, only that project's findings and the file's own (those naming no
    project) are named; errors about the other projects are only counted."""
    findings = list(result.findings)
    elsewhere = 0
    if evaluation and len(result.evaluations) > 1:
        others = {e.name for e in result.evaluations if e.name and e.name != evaluation}
        mine = [f for f in findings if _about(f, evaluation) or not any(_about(f, o) for o in others)]
        elsewhere = sum(1 for f in findings if f.severity == "error" and f not in mine)
        findings = mine
    errors = [f for f in findings if f.severity == "error"]
    warnings = sum(1 for f in findings if f.severity == "warning")
    if result.status in _NOT_EVALUATED:
        reasons = errors or findings
        return "；".join(f.message for f in reasons) or STATUS_TEXT.get(result.status, "无法读取")
    others_text = f"同一文件中其他项目有 {elsewhere} 个错误，见问题清单" if elsewhere else ""
    if errors:
        more = f"（另有 {len(errors) - 1} 个错误，见问题清单）" if len(errors) > 1 else ""
        return errors[0].message + more + (f"（{others_text}）" if others_text else "")
    if others_text:
        return f"本项目未发现错误；{others_text}。"
    if warnings:
        return f"{warnings} 条警告，请核实（见问题清单）"
    return ""


def _rows(results: Iterable[Result]) -> list[dict]:
    """One raw row per evaluation (one per file when a file has none), values unformatted."""
    rows = []
    for result in results:
        base = {
            "file": result.file,
            "status": result.status,
            "kind": result.kind,
            "unit": result.unit,
            "unit_code": result.unit_code,
            "year": result.year,
            "errors": result.errors,
            "warnings": result.warnings,
            "note": _note(result),
        }
        evaluations: list[Evaluation | None] = list(result.evaluations) or [None]
        for ev in evaluations:
            row = dict(base)
            if ev is None:
                row.update({k: None for k in _NUMBER_COLUMNS})
                row.update(evaluation="", declared_grade=None, grade=None)
            else:
                row.update(
                    note=_note(result, ev.name),
                    evaluation=ev.name,
                    budget=ev.budget,
                    executed=ev.executed,
                    execution_rate=ev.execution_rate,
                    declared_score=ev.declared_score,
                    score=ev.score,
                    difference=_difference(ev.declared_score, ev.score),
                    declared_grade=ev.declared_grade,
                    grade=ev.grade,
                    initial_budget=ev.initial_budget if result.kind == "department" else None,
                    initial_budget_completion_rate=ev.initial_budget_completion_rate if result.kind == "department" else None,
                )
            rows.append(row)
    return rows


# ---------------------------------------------------------------- JSON / CSV / pandas


def write_json(results: Iterable[Result], path: str | os.PathLike) -> Path:
    """The JSON report: a list of `Result.as_dict()` (UTF-8, indent 2, numbers as numbers,
    rates as fractions), every string through safe_text."""
    target = Path(path)
    with _atomic(target) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            # One file at a time: memory stays that of one file's report, not the batch's.
            fh.write("[")
            for i, result in enumerate(results):
                item = json.dumps(_safe_tree(result.as_dict()), ensure_ascii=False, indent=2, allow_nan=False)
                fh.write(("," if i else "") + "\n  " + item.replace("\n", "\n  "))
            fh.write("\n]\n")
    return target


def write_csv(results: Iterable[Result], path: str | os.PathLike) -> Path:
    """One row per evaluation (unreadable files: one row, the reason in `note`); UTF-8 with BOM
    so Excel in China opens it right."""
    target = Path(path)
    with _atomic(target) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            for result in results:
                for row in _rows([result]):
                    writer.writerow([_csv_value(row[c]) for c in CSV_COLUMNS])
    return target


def to_dataframe(results: Iterable[Result]):
    """The CSV's rows as a DataFrame: numbers as floats (NaN when absent), rates as fractions,
    text through safe_text."""
    import pandas as pd

    records = []
    for row in _rows(results):
        rec = {}
        for col in CSV_COLUMNS:
            value = row[col]
            if col in _NUMBER_COLUMNS:
                rec[col] = _float(value)
            elif col in ("year", "errors", "warnings"):
                rec[col] = value
            else:
                rec[col] = safe_text(value)
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=list(CSV_COLUMNS))
    for col in _NUMBER_COLUMNS:
        frame[col] = frame[col].astype("float64")
    frame["year"] = frame["year"].astype("Int64")
    frame["errors"] = frame["errors"].astype("int64")
    frame["warnings"] = frame["warnings"].astype("int64")
    return frame


def _plain(value: Any) -> Any:
    """A seen/expected value for a table: numbers as floats, anything else as safe text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return _float(value)
    return safe_text(value)


def findings_dataframe(results: Iterable[Result]):
    """Every finding of every file, one row each (columns FINDING_COLUMNS)."""
    import pandas as pd

    records = []
    for result in results:
        for f in result.findings:
            records.append(
                {
                    "file": safe_text(result.file),
                    "unit": safe_text(result.unit),
                    "status": result.status,
                    "sheet": safe_text(f.sheet),
                    "cell": safe_text(f.cell),
                    "code": safe_text(f.code),
                    "severity": f.severity,
                    "message": safe_text(f.message),
                    "seen": _plain(f.seen),
                    "expected": _plain(f.expected),
                }
            )
    return pd.DataFrame.from_records(records, columns=list(FINDING_COLUMNS))


# ---------------------------------------------------------------- workbook helpers


def text_width(text: str) -> float:
    """Column width (Excel character units) showing `text` on one line: CJK characters are two
    units wide (xlsxwriter's autofit measures Latin glyphs only)."""
    longest = 0.0
    for line in str(text).split("\n"):
        longest = max(longest, sum(2.0 if unicodedata.east_asian_width(ch) in "WF" else 1.1 for ch in line))
    return longest


def _cell_text(value: Any) -> str:
    text = safe_text(value)
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


class _Sheet:
    """A worksheet that only ever writes text with write_string, and tracks column widths."""

    def __init__(self, book: "_Book", name: str):
        self.book = book
        self.ws = book.wb.add_worksheet(name)
        self.widths: dict[int, float] = {}

    def _measure(self, col: int, shown: str) -> None:
        self.widths[col] = max(self.widths.get(col, 0.0), text_width(shown))

    def text(self, row: int, col: int, value: Any, fmt=None, measure: bool = True) -> None:
        shown = _cell_text(value)
        if shown:
            self.ws.write_string(row, col, shown, fmt)
        else:
            self.ws.write_blank(row, col, None, fmt)
        if measure:
            self._measure(col, shown)

    def number(self, row: int, col: int, value: Any, fmt=None, shown_as: str | None = None) -> None:
        number = _float(value)
        if number is None:
            self.ws.write_blank(row, col, None, fmt)
            return
        self.ws.write_number(row, col, number, fmt)
        self._measure(col, shown_as if shown_as is not None else f"{number:,.2f}")

    def value(self, row: int, col: int, value: Any, fmt=None, text_fmt=None) -> None:
        """Numbers as numbers, booleans as 是/否, everything else as text."""
        if isinstance(value, bool):
            self.text(row, col, "是" if value else "否", text_fmt or fmt)
        elif isinstance(value, (int, float, Decimal)):
            self.number(row, col, value, fmt, shown_as=str(value))
        else:
            self.text(row, col, value, text_fmt or fmt)

    def fit_columns(self, minimum: float = 6, maximum: float = 50, caps: dict[int, float] | None = None) -> None:
        caps = caps or {}
        for col, width in self.widths.items():
            self.ws.set_column(col, col, min(max(width + 2, minimum), caps.get(col, maximum)))

    def print_setup(self, header_row: int | None, title: str, last_col: int) -> None:
        ws = self.ws
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.center_horizontally()
        if header_row is not None:
            ws.repeat_rows(header_row)
        safe_title = _cell_text(title).replace("&", "&&")[:200]
        ws.set_header(f'&C&"{FONT},Bold"&12{safe_title}')
        ws.set_footer("&C第 &P 页，共 &N 页")


class _Book:
    def __init__(self, path: Path, title: str, kind: str = "summary"):
        self.wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
        self.wb.set_properties({"title": _cell_text(title), "author": "xltool", "comments": "由 xltool 生成"})
        # The mark by which a later run passes over this workbook when it lies among the returns.
        self.wb.set_custom_property(OUTPUT_MARKER, kind)
        self._formats: dict[tuple, Any] = {}

    def fmt(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format({"font_name": FONT, "font_size": 10, "valign": "vcenter", **props})
        return self._formats[key]

    # the recurring styles
    @property
    def title(self):
        return self.fmt(font_size=16, bold=True, align="center")

    @property
    def header(self):
        return self.fmt(bold=True, align="center", text_wrap=True, border=1, bg_color="#D9D9D9")

    @property
    def cell(self):
        return self.fmt(border=1)

    @property
    def wrap(self):
        return self.fmt(border=1, text_wrap=True)

    @property
    def center(self):
        return self.fmt(border=1, align="center")

    @property
    def money(self):
        return self.fmt(border=1, num_format="#,##0.00")

    @property
    def percent(self):
        return self.fmt(border=1, num_format="0.00%", align="center")

    @property
    def score(self):
        return self.fmt(border=1, num_format="0.00", align="center")

    @property
    def integer(self):
        return self.fmt(border=1, num_format="0", align="center")

    @property
    def general(self):
        return self.fmt(border=1, num_format="General")

    def cond(self, bg: str, font: str):
        return self.wb.add_format({"bg_color": bg, "font_color": font})


GRADE_COLOURS = {  # grade → (fill, font)
    "优": ("#C6EFCE", "#006100"),
    "良": ("#E2EFDA", "#375623"),
    "中": ("#FFEB9C", "#9C5700"),
    "差": ("#FFC7CE", "#9C0006"),
}
RED = ("#FFC7CE", "#9C0006")
GREEN = ("#C6EFCE", "#006100")
SEVERITY_COLOURS = {"错误": RED, "警告": ("#FFEB9C", "#9C5700"), "提示": ("#DDEBF7", "#1F4E78")}


# ---------------------------------------------------------------- 汇总

SUMMARY_HEADERS = (
    # header, row key, style
    ("文件", "file_name", "text"),
    ("单位", "unit", "text"),
    ("年度", "year", "integer"),
    ("类型", "kind_text", "center"),
    ("评价对象", "evaluation", "text"),
    ("预算数（万元）", "budget", "money"),
    ("执行数（万元）", "executed", "money"),
    ("执行率", "execution_rate", "percent"),
    ("年初预算完成率", "initial_budget_completion_rate", "percent"),
    ("自评得分", "declared_score", "score"),
    ("复核得分", "score", "score"),
    ("差异", "difference", "score"),
    ("自评等级", "declared_grade", "center"),
    ("复核等级", "grade", "center"),
    ("错误数", "errors", "integer"),
    ("警告数", "warnings", "integer"),
    ("状态", "status_text", "center"),
    ("说明", "note", "wrap"),
    ("路径", "file", "text"),
)
SUMMARY_HEADER_ROW = 2  # 0: title, 1: totals, 2: header
_COL = {key: i for i, (_, key, _) in enumerate(SUMMARY_HEADERS)}


def _summary_rows(results: list[Result]) -> list[dict]:
    """Rows of 汇总: readable files first (in the order given), unreadable files last, so the
    charts can cover one unbroken block of evaluated rows."""
    ordered = [r for r in results if r.status not in _NOT_EVALUATED] + [r for r in results if r.status == "unreadable"]
    ordered += [r for r in results if r.status == "missing" and r.file] + [r for r in results if r.status == "missing" and not r.file]
    rows = _rows(ordered)
    for row in rows:
        row["file_name"] = _file_name(row["file"])
        row["kind_text"] = KIND_TEXT.get(row["kind"], row["kind"] or "")
        row["status_text"] = status_label(row["status"], row["file"])
    return rows


def _write_overview(book: _Book, results: list[Result], title: str) -> tuple[int, int]:
    """The 汇总 sheet; returns (first data row, last evaluated data row) for the charts."""
    sh = _Sheet(book, "汇总")
    ws = sh.ws
    last_col = len(SUMMARY_HEADERS) - 1
    ws.merge_range(0, 0, 0, last_col, "", book.title)
    sh.text(0, 0, title, book.title, measure=False)
    ws.set_row(0, 30)

    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "failed" for r in results)
    unreadable = sum(r.status == "unreadable" for r in results)
    missing = sum(r.status == "missing" for r in results)
    rows = _summary_rows(results)
    evaluated = sum(1 for r in results for _ in r.evaluations)
    label = book.fmt(bold=True, align="right")
    count = book.fmt(bold=True, align="left", num_format="0")
    totals = (("文件数", len(results)), ("通过", passed), ("不通过", failed), ("无法读取", unreadable), ("评价对象", evaluated))
    if missing:
        totals += (("未找到", missing),)
    for i, (name, n) in enumerate(totals):
        sh.text(1, 2 * i, name, label, measure=False)
        ws.write_number(1, 2 * i + 1, n, count)

    header_fmt = book.header
    for col, (name, _, _) in enumerate(SUMMARY_HEADERS):
        sh.text(SUMMARY_HEADER_ROW, col, name, header_fmt)
    ws.set_row(SUMMARY_HEADER_ROW, 30)
    ws.write_comment(SUMMARY_HEADER_ROW, _COL["difference"], "差异 = 自评得分 − 复核得分：正数表示自评偏高。", {"font_name": FONT})

    styles = {
        "text": book.cell,
        "wrap": book.wrap,
        "center": book.center,
        "money": book.money,
        "percent": book.percent,
        "score": book.score,
        "integer": book.integer,
    }
    first = SUMMARY_HEADER_ROW + 1
    last_evaluated = first - 1
    for i, row in enumerate(rows):
        r = first + i
        for col, (_, key, style) in enumerate(SUMMARY_HEADERS):
            value = row[key]
            fmt = styles[style]
            if style in ("money", "percent", "score"):
                shown = None
                if style == "percent" and _float(value) is not None:
                    shown = f"{_float(value) * 100:.2f}%"
                sh.number(r, col, value, fmt, shown_as=shown)
            elif style == "integer":
                sh.number(r, col, value, fmt, shown_as=None if value is None else str(value))
            else:
                sh.text(r, col, value, fmt, measure=key != "note")
        # 说明 wraps within its column: give the row the lines it needs.
        lines = min(6, int(text_width(_cell_text(row["note"])) // 46) + 1)
        if lines > 1:
            ws.set_row(r, 15 * lines)
        if row["status"] not in _NOT_EVALUATED:
            last_evaluated = r
    last = first + len(rows) - 1

    # 说明 wraps; 文件 and 路径 are long but 路径 is for lookups, not for the printed page.
    sh.fit_columns(minimum=6, maximum=30, caps={_COL["file"]: 40, _COL["file_name"]: 36})
    ws.set_column(_COL["note"], _COL["note"], 48)
    ws.freeze_panes(first, 0)
    ws.autofilter(SUMMARY_HEADER_ROW, 0, max(last, SUMMARY_HEADER_ROW), last_col)
    sh.print_setup(SUMMARY_HEADER_ROW, title, last_col)
    ws.print_area(0, 0, max(last, SUMMARY_HEADER_ROW), _COL["note"])

    if rows:
        for key in ("declared_grade", "grade"):
            col = _COL[key]
            for grade, (bg, font) in GRADE_COLOURS.items():
                ws.conditional_format(
                    first, col, last, col, {"type": "text", "criteria": "begins with", "value": grade, "format": book.cond(bg, font)}
                )
        col = _COL["status_text"]
        for text, (bg, font) in (("不通过", RED), ("无法读取", RED), ("未找到", RED), ("通过", GREEN)):
            ws.conditional_format(first, col, last, col, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": book.cond(bg, font)})
        col = _COL["difference"]
        ws.conditional_format(
            first, col, last, col, {"type": "cell", "criteria": "!=", "value": 0, "format": book.wb.add_format({"font_color": "#C00000", "bold": True})}
        )
        col = _COL["execution_rate"]
        ws.conditional_format(
            first, col, last, col, {"type": "cell", "criteria": ">", "value": 1, "format": book.wb.add_format({"font_color": "#C65911", "bold": True})}
        )
    return first, last_evaluated


# ---------------------------------------------------------------- 问题清单

FINDING_HEADERS = ("文件", "单位", "工作表", "单元格", "代码", "级别", "说明", "填报值", "应为")


def _write_findings(book: _Book, results: list[Result], title: str) -> int:
    sh = _Sheet(book, "问题清单")
    ws = sh.ws
    for col, name in enumerate(FINDING_HEADERS):
        sh.text(0, col, name, book.header)
    ws.set_row(0, 24)
    r = 0
    for result in results:
        name = _file_name(result.file)
        for f in result.findings:
            r += 1
            sh.text(r, 0, name, book.cell)
            sh.text(r, 1, result.unit, book.cell)
            sh.text(r, 2, f.sheet, book.cell)
            sh.text(r, 3, f.cell, book.center)
            sh.text(r, 4, f.code, book.cell)
            sh.text(r, 5, SEVERITY_TEXT.get(f.severity, f.severity), book.center)
            sh.text(r, 6, f.message, book.wrap)
            sh.value(r, 7, _plain_value(f.seen), book.general, book.wrap)
            sh.value(r, 8, _expected_value(f.expected), book.general, book.wrap)
    if r == 0:
        sh.text(1, 0, "没有发现问题。", book.fmt(italic=True), measure=False)
    sh.fit_columns(minimum=6, maximum=30, caps={6: 70})
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r, 0), len(FINDING_HEADERS) - 1)
    sh.print_setup(0, f"{title} · 问题清单", len(FINDING_HEADERS) - 1)
    if r:
        for text, (bg, font) in SEVERITY_COLOURS.items():
            ws.conditional_format(
                1, 0, r, len(FINDING_HEADERS) - 1, {"type": "formula", "criteria": f'=$F2="{text}"', "format": book.cond(bg, font)}
            )
    return r


def _plain_value(value: Any) -> Any:
    """A seen/expected value for a cell: Decimal/int/float as a number, anything else as text."""
    if value is None or isinstance(value, (bool, int, float, Decimal, str)):
        return value
    return str(value)


FORMULA_EXPECTED = "公式（请勿改动，从下发的模板复制原公式恢复）"


def _expected_value(value: Any) -> Any:
    """The 应为 column: a formula is described, never shown as its raw text ("=IF(…)" means
    nothing to staff, and pasted back it would overwrite the template's own formula)."""
    if isinstance(value, str) and value.lstrip().startswith(("=", "\uff1d")):
        return FORMULA_EXPECTED
    return _plain_value(value)


# ---------------------------------------------------------------- 评分明细

DETAIL_HEADERS = (
    "文件",
    "单位",
    "评价对象",
    "类别",
    "项目/目标序号",
    "一级指标",
    "二级指标",
    "名称",
    "计算符号",
    "指标值",
    "计量单位",
    "实际完成值",
    "定性档次",
    "分值",
    "扣分",
    "自评得分",
    "复核得分",
    "差异",
    "是否达成",
)
_D = {name: i for i, name in enumerate(DETAIL_HEADERS)}

# Keys the evaluation dicts may use for each column (the first present wins).
_INDICATOR_KEYS = {
    "项目/目标序号": ("block",),
    "一级指标": ("level1", "criterion"),
    "二级指标": ("level2", "group"),
    "名称": ("name",),
    "计算符号": ("sign",),
    "指标值": ("target",),
    "计量单位": ("measure", "unit"),
    "实际完成值": ("actual",),
    "定性档次": ("band",),
    "分值": ("points",),
    "扣分": ("deduction",),
    "自评得分": ("declared", "declared_score"),
    "复核得分": ("score", "recomputed"),
    "是否达成": ("met",),
}


def _pick(item: dict, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if key in item:
            return item[key]
    return None


def _write_details(book: _Book, results: list[Result], title: str) -> int:
    sh = _Sheet(book, "评分明细")
    ws = sh.ws
    for col, name in enumerate(DETAIL_HEADERS):
        sh.text(0, col, name, book.header)
    ws.set_row(0, 24)
    numbers = {"指标值", "实际完成值"}
    scores = {"分值", "扣分", "自评得分", "复核得分", "差异"}
    r = 0
    for result in results:
        if result.status == "unreadable":
            continue
        name = _file_name(result.file)
        criteria_label = "准则" if result.kind == "department" else "类别"
        for ev in result.evaluations:
            items = [(criteria_label, c) for c in ev.criteria] + [("指标", i) for i in ev.indicators]
            for label, item in items:
                if not isinstance(item, dict):
                    continue
                r += 1
                sh.text(r, 0, name, book.cell)
                sh.text(r, 1, result.unit, book.cell)
                sh.text(r, 2, ev.name, book.cell)
                sh.text(r, 3, label, book.center)
                for header, keys in _INDICATOR_KEYS.items():
                    col = _D[header]
                    value = _pick(item, keys)
                    if header == "是否达成":
                        text = "是" if value is True else "否" if value is False else value
                        sh.text(r, col, text, book.center)
                    elif header in scores:
                        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                            sh.number(r, col, value, book.score, shown_as=f"{_float(value):.2f}" if _float(value) is not None else "")
                        else:
                            sh.text(r, col, value, book.center)
                    elif header in numbers or header == "项目/目标序号":
                        sh.value(r, col, _plain_value(value), book.general if header in numbers else book.center, book.wrap)
                    else:
                        sh.text(r, col, value, book.wrap if header == "名称" else book.cell)
                declared = _pick(item, _INDICATOR_KEYS["自评得分"])
                score = _pick(item, _INDICATOR_KEYS["复核得分"])
                sh.number(r, _D["差异"], _difference(declared, score), book.score)
    if r == 0:
        sh.text(1, 0, "没有可列出的评分明细。", book.fmt(italic=True), measure=False)
    sh.fit_columns(minimum=6, maximum=30, caps={_D["名称"]: 40})
    ws.freeze_panes(1, 0)
    last_col = len(DETAIL_HEADERS) - 1
    ws.autofilter(0, 0, max(r, 0), last_col)
    sh.print_setup(0, f"{title} · 评分明细", last_col)
    if r:
        ws.conditional_format(
            1, _D["差异"], r, _D["差异"], {"type": "cell", "criteria": "!=", "value": 0, "format": book.wb.add_format({"font_color": "#C00000", "bold": True})}
        )
        ws.conditional_format(1, _D["是否达成"], r, _D["是否达成"], {"type": "cell", "criteria": "==", "value": '"否"', "format": book.cond(*RED)})
    return r


# ---------------------------------------------------------------- 图表


def _write_charts(book: _Book, first: int, last: int) -> int:
    """Two charts over the 汇总 rows first..last (0-based); returns how many were drawn."""
    sh = _Sheet(book, "图表")
    ws = sh.ws
    if last < first:
        sh.text(0, 0, "没有可绘制的评价对象（所有文件均无法读取）。", book.fmt(italic=True), measure=False)
        return 0
    n = last - first + 1
    cats = ["汇总", first, _COL["evaluation"], last, _COL["evaluation"]]
    axis_font = {"name": FONT, "size": 9}
    title_font = {"name": FONT, "size": 12, "bold": True}
    name_font = {"name": FONT, "size": 10, "bold": False}

    scores = book.wb.add_chart({"type": "bar"})
    for key, colour in (("score", "#4472C4"), ("declared_score", "#A5A5A5")):
        col = _COL[key]
        scores.add_series(
            {
                "name": ["汇总", SUMMARY_HEADER_ROW, col, SUMMARY_HEADER_ROW, col],
                "categories": cats,
                "values": ["汇总", first, col, last, col],
                "fill": {"color": colour},
                "data_labels": {"value": n <= 40, "num_format": "0.00", "font": axis_font},
                "gap": 60,
            }
        )
    scores.set_title({"name": "复核得分与自评得分（按评价对象）", "name_font": title_font})
    scores.set_x_axis({"name": "得分", "min": 0, "max": 100, "major_unit": 10, "name_font": name_font, "num_font": axis_font})
    scores.set_y_axis({"name": "评价对象", "reverse": True, "name_font": name_font, "num_font": axis_font})
    scores.set_legend({"position": "bottom", "font": axis_font})
    height = int(min(max(320, 26 * n + 140), 6000))
    scores.set_size({"width": 900, "height": height})
    ws.insert_chart(1, 1, scores)

    rates = book.wb.add_chart({"type": "column"})
    col = _COL["execution_rate"]
    rates.add_series(
        {
            "name": ["汇总", SUMMARY_HEADER_ROW, col, SUMMARY_HEADER_ROW, col],
            "categories": cats,
            "values": ["汇总", first, col, last, col],
            "fill": {"color": "#70AD47"},
            "data_labels": {"value": n <= 30, "num_format": "0.00%", "font": axis_font},
            "gap": 80,
        }
    )
    rates.set_title({"name": "预算执行率（按评价对象）", "name_font": title_font})
    rates.set_x_axis({"name": "评价对象", "name_font": name_font, "num_font": {**axis_font, "rotation": -45 if n > 6 else 0}})
    rates.set_y_axis({"name": "执行率", "min": 0, "num_format": "0%", "name_font": name_font, "num_font": axis_font})
    rates.set_legend({"none": True})
    rates.set_size({"width": int(min(max(900, 48 * n + 200), 8000)), "height": 420})
    ws.insert_chart(1 + math.ceil(height / 20) + 2, 1, rates)
    return 2


# ---------------------------------------------------------------- the summary workbook


def write_summary(results: Iterable[Result], path: str | os.PathLike, title: str = "预算绩效自评检查汇总") -> Path:
    """The graded summary workbook: 汇总, 问题清单, 评分明细, 图表."""
    results = list(results)
    target = Path(path)
    with _atomic(target) as tmp:
        book = _Book(tmp, title)
        first, last_evaluated = _write_overview(book, results, title)
        _write_findings(book, results, title)
        _write_details(book, results, title)
        _write_charts(book, first, last_evaluated)
        book.wb.worksheets()[0].activate()
        _close_workbook(book.wb)
    return target


# ---------------------------------------------------------------- feedback to one archive

_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_BAD_NAME_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def feedback_filename(file: str) -> str:
    """'…/武昌区档案馆2020.xlsx' → '武昌区档案馆2020_检查意见.xlsx', safe on Windows and POSIX."""
    name = _clean_unicode(_file_name(file))
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _BAD_NAME_CHARS.sub("_", stem).strip(" .")
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    while len(stem.encode("utf-8")) > 180:  # room for the suffix within 255 bytes
        stem = stem[:-1]
    return f"{stem or '文件'}_检查意见.xlsx"


def _advice(f: Finding) -> str:
    """What must happen about a finding (the message itself already says what is wrong and how
    to put it right)."""
    if f.severity == "error":
        if f.code.startswith("FILE_") or f.code == "NOT_OUR_TEMPLATE":
            return "请按左侧说明处理后重新报送。"
        if isinstance(_expected_value(f.expected), str) and _expected_value(f.expected) == FORMULA_EXPECTED:
            return "必须恢复原公式（从下发的模板复制），恢复后重新报送。"
        if f.expected is not None and f.expected != "":
            return f"必须更正（应为 {_shown(f.expected)}），更正后重新报送。"
        return "必须更正，更正后重新报送。"
    if f.severity == "warning":
        return "请核实；如无误，请在说明栏写明原因。"
    return "供参考，无需处理。"


def _shown(value: Any) -> str:
    """A value in a sentence: exact decimals, safe text."""
    d = None if isinstance(value, str) else _dec(value)
    return format(d, "f") if d is not None else safe_text(value)


def _evaluation_line(ev: Evaluation) -> str:
    parts = []
    rate = _float(ev.execution_rate)
    if rate is not None:
        parts.append(f"执行率 {rate * 100:.2f}%")
    if _dec(ev.declared_score) is not None:
        parts.append(f"自评 {_shown(ev.declared_score)} 分" + (f"（{ev.declared_grade}）" if ev.declared_grade else ""))
    if _dec(ev.score) is not None:
        parts.append(f"复核 {_shown(ev.score)} 分" + (f"（{ev.grade}）" if ev.grade else ""))
    return f"{ev.name or '评价对象'}：" + ("，".join(parts) or "未能计算得分")


def write_feedback(result: Result, out_dir: str | os.PathLike, filename: str | None = None) -> Path:
    """A short workbook for one returned file: what is wrong, where, and what to do.

    Written (atomically) to out_dir / feedback_filename(result.file) unless `filename` is given.
    """
    out = Path(out_dir)
    target = out / (filename or feedback_filename(result.file))
    name = _file_name(result.file)
    unit = result.unit or "（未能识别单位）"
    title = f"检查意见：{unit}（{name}）"
    headers = ("序号", "级别", "工作表", "单元格", "问题", "处理意见", "填报值", "应为")
    last_col = len(headers) - 1
    with _atomic(target) as tmp:
        book = _Book(tmp, title, kind="feedback")
        sh = _Sheet(book, "检查意见")
        ws = sh.ws
        ws.merge_range(0, 0, 0, last_col, "", book.title)
        sh.text(0, 0, title, book.title, measure=False)
        ws.set_row(0, 30)
        info = book.fmt()
        status = status_label(result.status, result.file)
        lines = [
            f"文件：{name}",
            f"单位：{unit}    年度：{result.year or '—'}    检查结果：{status}（错误 {result.errors} 个，警告 {result.warnings} 个）",
            f"检查日期：{date.today().isoformat()}",
        ]
        if result.status == "passed" and not result.findings:
            lines.append("检查通过，无需更正。")
        elif result.status == "passed":
            lines.append("检查通过；下列提示请核实，无需重新报送。")
        else:
            lines.append("请按下表逐项更正或说明，更正后重新报送。")
        for i, line in enumerate(lines, start=1):
            ws.merge_range(i, 0, i, last_col, "", info)
            sh.text(i, 0, line, info, measure=False)
        r = len(lines) + 2

        for ev in result.evaluations:
            ws.merge_range(r, 0, r, last_col, "", info)
            sh.text(r, 0, _evaluation_line(ev), info, measure=False)
            r += 1
        if result.evaluations:
            r += 1

        header_row = r
        for col, h in enumerate(headers):
            sh.text(r, col, h, book.header)
        ordered = sorted(result.findings, key=lambda f: _SEVERITY_RANK.get(f.severity, 9))
        for k, f in enumerate(ordered, start=1):
            r += 1
            ws.write_number(r, 0, k, book.integer)
            sh.text(r, 1, SEVERITY_TEXT.get(f.severity, f.severity), book.center)
            sh.text(r, 2, f.sheet, book.cell)
            sh.text(r, 3, f.cell, book.center)
            sh.text(r, 4, f.message, book.wrap)
            sh.text(r, 5, _advice(f), book.wrap)
            sh.value(r, 6, _plain_value(f.seen), book.general, book.wrap)
            sh.value(r, 7, _expected_value(f.expected), book.general, book.wrap)
        if not ordered:
            r += 1
            ws.merge_range(r, 0, r, last_col, "", book.cell)
            sh.text(r, 0, "没有发现问题。", book.cell, measure=False)
        elif r > header_row:
            for text, (bg, font) in SEVERITY_COLOURS.items():
                ws.conditional_format(
                    header_row + 1, 1, r, 1, {"type": "cell", "criteria": "==", "value": f'"{text}"', "format": book.cond(bg, font)}
                )
        sh.widths[0] = max(sh.widths.get(0, 0), 4)
        sh.fit_columns(minimum=6, maximum=24, caps={4: 60, 5: 40})
        ws.freeze_panes(header_row + 1, 0)
        sh.print_setup(header_row, title, last_col)
        _close_workbook(book.wb)
    return target
