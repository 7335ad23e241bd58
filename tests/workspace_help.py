"""Helpers for the workspace tests: a real server on a free local port, a throwaway PostgreSQL
cluster, and returned files that differ in bytes but not in content."""

from __future__ import annotations

import glob
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
ROSTER = SAMPLES / "roster.csv"
WUHAN = next((SAMPLES / "returned").glob("2021_*.xlsx"))
WUCHANG = next((SAMPLES / "returned").glob("2020_*.xlsx"))


def new_workspace_folder(parent: Path) -> Path:
    """A workspace folder whose signing key is the samples' (the sample returns are signed with it)."""
    folder = parent / "工作区"
    folder.mkdir()
    shutil.copy(SAMPLES / "demo.key", folder / "signing.key")
    return folder


def wuhan_blank_actual() -> str:
    """Where the Wuhan sample leaves its one quantitative actual value blank (the seed gives none),
    found by the template's defined names wherever the layout puts it: "H33"."""
    book = openpyxl.load_workbook(WUHAN)
    sheet = book["绩效指标"]
    blanks = []
    for name in book.defined_names:
        if not (name.startswith("GOAL") and name.endswith("_ACTUAL")):
            continue
        block = name.removesuffix("_ACTUAL")
        ranges = [next(iter(book.defined_names[n].destinations))[1].replace("$", "") for n in (name, block + "_INDICATOR", block + "_SIGN")]
        for (actual,), (label,), (sign,) in zip(*(sheet[r] for r in ranges)):
            if label.value and sign.value != "定性" and actual.value is None:
                blanks.append(actual.coordinate)
    assert len(blanks) == 1, blanks
    return blanks[0]


def corrected_wuhan(path: Path) -> Path:
    """The Wuhan sample with its one blank actual value filled: it then passes."""
    book = openpyxl.load_workbook(WUHAN)
    book["绩效指标"][wuhan_blank_actual()] = 320
    book.save(path)
    return path


def variant(data: bytes, n: int) -> bytes:
    """The same workbook with a different zip comment: other bytes (another sha256), same content."""
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a") as archive:
        archive.comment = f"copy {n}".encode()
    return out.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app, port: int | None = None):
    """Serve `app` with uvicorn on 127.0.0.1 in a thread; yields the base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def serve(folder, *extra: str):
    """`xltool serve --no-browser` on a free port, in its own process, as a user starts it;
    yields (process, base URL) once it answers."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "xltool", "serve", "--dir", str(folder), "--port", str(port), "--no-browser", *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/login", timeout=2)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("xltool serve did not start: " + (process.stdout.read() if process.stdout else ""))
            time.sleep(0.2)
    try:
        yield process, base
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(30)


def chromium() -> str | None:
    for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.path.exists(path):
            return path
    return shutil.which("chromium")


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_cluster():
    """A throwaway PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1; yields
    its SQLAlchemy URL. As root, the server runs as `nobody` (PostgreSQL refuses root)."""
    bin_dir = postgres_bin()
    assert bin_dir is not None
    folder = Path(tempfile.mkdtemp(prefix="xltool-pg-"))
    data = folder / "data"
    as_user: list[str] = []
    user = os.environ.get("USER") or "postgres"
    if os.geteuid() == 0:
        as_user, user = ["runuser", "-u", "nobody", "--"], "nobody"
        os.chmod(folder, 0o777)
    port = free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        subprocess.run(as_user + [str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-E", "UTF8", "--auth=trust", "--no-sync"],
                       check=True, capture_output=True, env=env, cwd=folder)
        subprocess.run(as_user + [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-t", "60", "-o",
                        f"-h 127.0.0.1 -p {port} -k {folder} -F", "start"], check=True, capture_output=True, env=env, cwd=folder)
        try:
            yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(as_user + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, env=env, cwd=folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
