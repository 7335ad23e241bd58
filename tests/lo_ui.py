"""Type into LibreOffice Calc as a person does: the test side of tests/lo_ui_driver.py.

`CalcUI` starts one soffice (headless, a private profile, a port of its own, zh-CN locale) and runs
the driver script under the system Python, which has Debian's python3-uno (the project's
virtual environment has no `uno`), once per document. Facts this rests on (LibreOffice 7.4.7,
Debian 12):

- Only keystrokes into Calc's grid window (the UITest service) meet sheet protection and data
  validation as a person does; the cell API (`setString`, `setValue`) ignores both. Headless,
  the "protected cell" and validation error boxes are cancelled at once, which drops the entry
  exactly as clicking OK would.
- The grid window needs Calc's user interface files (share/config/soffice.cfg/modules/scalc/ui).
  Debian's libreoffice-calc-nogui ships none: a visible Calc document then fails to load
  ("NoSuchElementException" in CreateInterimBuilder, soffice aborts). So these tests need the
  libreoffice-calc package, and skip, saying so, without it. XLTOOL_LO_BRAND_DIR may name a
  LibreOffice tree of the same version whose share/ has those files (a copy or a tree of links
  over the installed one): soffice is then started with -env:BRAND_BASE_DIR set to it.
- LibreOffice leaves a lock file (.~lock.NAME#) beside an open document, and a document whose
  lock file is left over from a killed soffice fails to load headless (the "in use" question is
  answered no): the profile turns locking off.
- The "protected cell" box is asynchronous: headless it is cancelled (the keystrokes dropped) but
  keeps the focus, so the driver opens a new window on the document to go on typing (see
  lo_ui_driver.Session.box). A validation error box is cancelled without taking the focus.
- An information-style validation (计量单位: a list that allows other values) is answered no
  headless: a value outside its list cannot be entered here, though a person could.
- A new line inside a cell is Ctrl+Enter in Calc (Alt+Enter in Excel).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from libreoffice import soffice_path

SYSTEM_PYTHON = "/usr/bin/python3"
DRIVER = Path(__file__).resolve().parent / "lo_ui_driver.py"
BRAND_ENV = "XLTOOL_LO_BRAND_DIR"


_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">\
<value>zh-CN</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="UseLocking" oor:op="fuse">\
<value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse">\
<value>false</value></prop></item>
</oor:items>
"""


@lru_cache(maxsize=1)
def _system_uno() -> bool:
    try:
        done = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _brand_dir(soffice: str) -> Path:
    given = os.environ.get(BRAND_ENV)
    if given:
        return Path(given)
    return Path(os.path.realpath(soffice)).parent.parent  # /usr/lib/libreoffice/program/soffice → /usr/lib/libreoffice


def missing_reason() -> str | None:
    """Why Calc cannot be typed into here (a sentence for pytest.skip), or None."""
    soffice = soffice_path()
    if soffice is None:
        return "LibreOffice 未安装（需要 libreoffice-calc）"
    if not _system_uno():
        return f"{SYSTEM_PYTHON} 无法 import uno：请安装 python3-uno"
    ui = _brand_dir(soffice) / "share" / "config" / "soffice.cfg" / "modules" / "scalc" / "ui"
    if not ui.is_dir() or not any(ui.glob("*.ui")):
        return (
            "LibreOffice Calc 缺少界面文件（例如装的是 libreoffice-calc-nogui）：请安装 libreoffice-calc，"
            f"或用环境变量 {BRAND_ENV} 指向带界面文件的同版本 LibreOffice 目录"
        )
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DriverError(RuntimeError):
    pass


class CalcUI:
    """One soffice for several documents; `run(file, actions, save)` does the actions in one document."""

    def __init__(self, *, timeout: float = 180):
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="lo-ui-profile-", ignore_cleanup_errors=True)
        user = Path(self._profile.name, "user")
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_PROFILE, encoding="utf-8")
        self.port = _free_port()
        cmd = [
            soffice_path(),
            f"-env:UserInstallation={Path(self._profile.name).as_uri()}",
            "--headless", "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            f"--accept=socket,host=127.0.0.1,port={self.port};urp;",
        ]
        if os.environ.get(BRAND_ENV):
            cmd.insert(2, f"-env:BRAND_BASE_DIR={Path(os.environ[BRAND_ENV]).resolve().as_uri()}")
        # A session of its own: soffice is a script starting oosplash and soffice.bin; a hung one
        # is killed as a whole group.
        self._log = open(Path(self._profile.name, "soffice.log"), "wb")  # a pipe nobody reads could fill up
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def run(self, file: Path, actions: list[dict], save: Path | None = None) -> list[dict]:
        """Open file, do the actions, recalculate, save as .xlsx to save; the actions' results."""
        job = {"file": str(file), "save": str(save) if save else None, "actions": actions}
        try:
            done = subprocess.run(
                [SYSTEM_PYTHON, str(DRIVER), "--port", str(self.port)],
                input=json.dumps(job, ensure_ascii=False), capture_output=True, text=True, timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise DriverError(f"LibreOffice 界面操作超时（{self.timeout} 秒）：{file.name}") from None
        try:
            out = json.loads(done.stdout)
        except ValueError:
            raise DriverError(f"驱动脚本没有返回结果（退出码 {done.returncode}）：{done.stderr.strip()}") from None
        if "error" in out:
            raise DriverError(f"{out['error']}\n{self.log()}")
        return out["results"]

    def log(self) -> str:
        """soffice's own output so far (its crash report, if it died)."""
        state = "仍在运行" if self.proc.poll() is None else f"已退出（{self.proc.returncode}）"
        text = Path(self._profile.name, "soffice.log").read_text(encoding="utf-8", errors="replace")
        return f"soffice {state}：{text[-3000:]}"

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                subprocess.run(  # desktop.terminate(): soffice quits itself
                    [SYSTEM_PYTHON, str(DRIVER), "--port", str(self.port), "--terminate"],
                    capture_output=True, timeout=30, input="{}", text=True,
                )
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass  # killed below
        if self.proc.poll() is None or _group_alive(self.proc.pid):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self._log.close()
        self._profile.cleanup()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
