"""Documents to PDF with LibreOffice, headless: one file at a time, each in a fresh private profile
and with a time limit, so that one document that hangs or fails costs only itself.

soffice exits 0 even when it could not convert, so success means "the PDF exists and is a PDF".
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 180  # seconds per document (a first start of LibreOffice takes a few)
INSTALL_HINT = (
    "没有找到 LibreOffice（soffice），未生成 PDF；Word 初稿已经写好。"
    "需要 PDF 时请安装 LibreOffice 后重新运行，如 Debian/Ubuntu：apt-get install libreoffice-writer-nogui fonts-noto-cjk；"
    "Windows/macOS：从 https://www.libreoffice.org 安装。"
)


@dataclass
class Converted:
    source: Path
    pdf: Path | None
    error: str = ""  # why there is no PDF, in Chinese


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(documents, timeout: float = TIMEOUT, program: str | None = None) -> list[Converted]:
    """Each document → <same folder>/<stem>.pdf. Never raises for one document: its Converted
    says what went wrong. Without LibreOffice every entry says how to install it."""
    program = program or soffice()
    out = []
    for document in documents:
        document = Path(document)
        if program is None:
            out.append(Converted(document, None, INSTALL_HINT))
            continue
        out.append(_one(program, document, timeout))
    return out


def _one(program: str, document: Path, timeout: float) -> Converted:
    target = document.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="xltool-pdf-") as tmp:
        work = Path(tmp)
        profile = (work / "profile").as_uri()
        command = [
            program, f"-env:UserInstallation={profile}", "--headless", "--invisible", "--norestore",
            "--nolockcheck", "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(work / "out"), str(document.resolve()),
        ]
        try:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, env=_env(work))
        except OSError as exc:
            return Converted(document, None, f"无法启动 LibreOffice（{exc.strerror or exc}），请检查安装。")
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            return Converted(document, None, f"LibreOffice 转换 {document.name} 超过 {timeout:g} 秒仍未完成，已停止；请用 Word 或 WPS 打开初稿另存为 PDF。")
        made = work / "out" / f"{document.stem}.pdf"
        if not made.is_file() or not made.read_bytes()[:5] == b"%PDF-":
            said = output.decode("utf-8", "replace").strip()[-300:]
            return Converted(document, None, f"LibreOffice 未能把 {document.name} 转为 PDF（{said or '没有输出'}）；请用 Word 或 WPS 打开初稿另存为 PDF。")
        try:
            shutil.move(str(made), target)
        except OSError as exc:
            return Converted(document, None, f"无法写出 {target.name}（{exc.strerror or exc}）。")
    return Converted(document, target)


def _env(work: Path) -> dict:
    env = dict(os.environ)
    env["HOME"] = str(work)  # nothing of the user's own profile is read or written
    return env


def _kill(proc: subprocess.Popen) -> None:
    """Stop the soffice started for one document and everything it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
