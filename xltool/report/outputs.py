"""Writing outputs safely: atomically (temporary file, then rename), all of a run's outputs staged and put
in place together, devices, FIFOs and standard output written into, never renamed over."""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator


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
