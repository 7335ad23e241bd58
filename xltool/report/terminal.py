"""The short table a finance officer reads in the terminal: failures first, fitted to the width,
every name printed safely."""

from __future__ import annotations

import os
import sys

from xltool.report.common import STATUS_TEXT, status_label


_STATUS_ORDER = {"missing": 0, "unreadable": 1, "failed": 2, "passed": 3}


_KEEP_FORMAT = {"\u200c", "\u200d"}  # joiners inside emoji and scripts: harmless


def printable(text) -> str:
    """Text from a file name or a file, safe to print: bytes the file system gave undecoded
    (surrogateescape) shown as \\xNN, control and direction characters escaped, so a name can
    neither crash the output nor move the cursor, clear the screen or reverse the line."""
    import unicodedata

    out = []
    for ch in str(text):
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        elif ch not in _KEEP_FORMAT and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _fmt_rate(rate) -> str:
    return "—" if rate is None else f"{float(rate) * 100:.2f}%"


def _fmt_score(score) -> str:
    return "—" if score is None else f"{float(score):.2f}"


def print_table(results, file=None, show_passed: bool = True) -> None:
    """A short table a finance officer can read in the terminal: failures first, fitted to the
    terminal's width (long names fold), every name printed safely. Without show_passed, the files
    that passed are only counted (unless nothing else is there to show)."""
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    stream = file or sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"

    def cell(text) -> Text:
        shown = printable(text)
        try:
            shown.encode(encoding)
        except (UnicodeEncodeError, LookupError):
            shown = shown.encode(encoding, "backslashreplace").decode(encoding, "replace")
        return Text(shown)

    # A terminal's own width; a pipe or a log file has none, so a width wide enough for a whole row
    # (80 columns, rich's fallback, folds every name into a narrow column).
    try:
        interactive = stream.isatty()
    except (AttributeError, ValueError):
        interactive = False
    console = Console(file=stream, highlight=False, markup=False, emoji=False, width=None if interactive or os.environ.get("COLUMNS") else 132)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for name, kind in (("状态", "short"), ("文件", "text"), ("单位", "text"), ("评价对象", "text"), ("执行率", "number"),
                       ("自评", "number"), ("复核", "number"), ("等级", "short"), ("错误/警告", "number")):
        table.add_column(cell(name), justify="right" if kind == "number" else "left", overflow="fold",
                         no_wrap=kind != "text", ratio=(2 if name == "文件" else 1) if kind == "text" else None,
                         min_width=6 if kind == "text" else None)
    ordered = sorted(results, key=lambda r: _STATUS_ORDER.get(r.status, 1))
    hidden = 0
    if not show_passed and any(r.status != "passed" for r in ordered):
        hidden = sum(r.status == "passed" for r in ordered)
        ordered = [r for r in ordered if r.status != "passed"]
    for r in ordered:
        name = _shown_name(r.file)
        status = status_label(r.status, r.file)
        counts = f"{r.errors}/{r.warnings}"
        if not r.evaluations:
            table.add_row(*map(cell, (status, name, r.unit or "—", "—", "—", "—", "—", "—", counts)))
        for i, e in enumerate(r.evaluations):
            # a file's second project: its name, unit and counts are already on the row above
            first = i == 0
            table.add_row(*map(cell, (status, name if first else "", (r.unit or "—") if first else "", e.name or "—",
                                      _fmt_rate(e.execution_rate), _fmt_score(e.declared_score), _fmt_score(e.score), e.grade or "—",
                                      counts if first else "")))
    try:
        console.print(table)
    except UnicodeEncodeError:  # a stream that cannot print the frame either: plain lines
        for row in ordered:
            stream.write(cell(f"{status_label(row.status, row.file)}  {_shown_name(row.file)}").plain + "\n")
    counts = {key: sum(r.status == key for r in results) for key in STATUS_TEXT}
    unsent = sum(r.status == "missing" and not r.file for r in results)
    counts["missing"] -= unsent
    line = f"共 {len(results) - unsent} 个文件：通过 {counts['passed']}，不通过 {counts['failed']}，无法读取 {counts['unreadable']}"
    line += f"，未找到 {counts['missing']}。" if counts["missing"] else "。"
    if unsent:
        line += f"名册中另有 {unsent} 个单位未交，请催交。"
    if hidden:
        line += f"通过的 {hidden} 个文件未列在表中，加 --all 可一并列出。"
    if len(results) > counts["passed"]:
        line += "不通过的原因见汇总工作簿的“问题清单”，或用 --feedback 为每个文件生成检查意见。"
    console.print(cell(line))


class Progress:
    """A progress bar on stderr for a long batch — done of total, files a second, time left — shown
    only on a terminal (or with XLTOOL_PROGRESS=1) and for more than one file. Called as
    progress(done, total[, result]); close() ends the line."""

    def __init__(self, enabled: bool, label: str = "检查中", unit: str = "份"):
        self.enabled = enabled and (_isatty(sys.stderr) or os.environ.get("XLTOOL_PROGRESS") == "1")
        self.label, self.unit = label, unit
        self._bar = None

    def __call__(self, done: int, total: int, result=None) -> None:
        if not self.enabled or total < 2:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeRemainingColumn

            console = Console(file=sys.stderr, highlight=False, markup=False, emoji=False, force_terminal=_isatty(sys.stderr) or None)
            self._bar = Bar(
                TextColumn(self.label), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TextColumn("剩余"), TimeRemainingColumn(compact=True),
                console=console, transient=False, redirect_stdout=False, redirect_stderr=False,
            )
            self._task = self._bar.add_task(self.label, total=total, rate="")
            self._bar.start()
        speed = self._bar.tasks[0].speed
        rate = f"{speed:.1f} {self.unit}/秒" if speed else ""
        self._bar.update(self._task, completed=done, total=total, rate=rate)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _shown_name(file: str) -> str:
    """A file's name for the table: the last part of its path; a member of a .zip keeps the
    archive's name in front ("回收.zip/单位A.xlsx")."""
    parts = file.replace("\\", "/").split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i].lower().endswith(".zip"):
            return parts[i] + "/" + parts[-1]
    return parts[-1]
