"""The template's metadata signature: HMAC-SHA256 keyed by a secret the finance bureau keeps.

Staff can unhide and edit the `_meta` sheet, so its figures are only believed when its signature
checks out: `sign` covers every metadata entry (template id, framework name and version, unit,
code, year, kind, pre-filled figures, the fingerprint of the locked content), in a canonical
form where a blank and "" are the same (every program saves "" as a blank cell).

The key is a file: `--key FILE` for `template` and `check`, or by default `xltool/key` in the
user's configuration folder (XDG_CONFIG_HOME, else ~/.config), created on first use with mode
0600. The chosen file travels to worker processes in the environment (KEY_ENV), as a path only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

KEY_ENV = "XLTOOL_KEY_FILE"
SIGNATURE = "signature"
MIN_KEY_BYTES = 16
MAX_KEY_BYTES = 4096


class KeyError_(ValueError):
    """A key file that cannot be used; the message says which and what to do (Chinese)."""


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    folder = Path(base) if base.strip() and Path(base).is_absolute() else Path.home() / ".config"
    return folder / "xltool" / "key"


def use_key_file(path: str | Path) -> bytes:
    """Check that `path` holds a usable key and make it this run's key (here and in workers)."""
    key = read_key(Path(path))
    os.environ[KEY_ENV] = str(Path(path).resolve())
    return key


def current_key() -> bytes:
    """The key chosen with use_key_file, else the user's default key (created on first use)."""
    chosen = os.environ.get(KEY_ENV)
    if chosen:
        return read_key(Path(chosen))
    path = default_key_path()
    if not path.exists():
        create_key(path)
    return read_key(path)


def read_key(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise KeyError_(f"密钥文件 {path} 不存在或不是普通文件。请用 --key 给出生成模板时使用的密钥文件。")
        with open(path, "rb") as handle:
            key = handle.read(MAX_KEY_BYTES + 1).strip()
    except OSError as exc:
        raise KeyError_(f"密钥文件 {path} 无法读取（{exc.strerror or exc}）。请检查文件权限。") from None
    if len(key) < MIN_KEY_BYTES or len(key) > MAX_KEY_BYTES:
        raise KeyError_(f"密钥文件 {path} 的内容不是有效的密钥（应为 {MIN_KEY_BYTES} 到 {MAX_KEY_BYTES} 字节）。请换用生成模板时使用的密钥文件。")
    return key


def create_key(path: Path) -> None:
    """A new random key in a file only its owner can read (an existing file is left alone)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use that one
        return
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")


def _canonical(meta: dict) -> bytes:
    items = {}
    for key, value in meta.items():
        if key == SIGNATURE:
            continue
        text = "" if value is None else str(value)
        items[str(key)] = text.strip()
    return json.dumps(items, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(meta: dict, key: bytes) -> str:
    return hmac.new(key, _canonical(meta), hashlib.sha256).hexdigest()


def verify(meta: dict, key: bytes) -> bool:
    given = str(meta.get(SIGNATURE) or "").strip().lower()
    # as bytes: compare_digest refuses str with non-ASCII characters, and an edited file may put any text here
    return bool(given) and hmac.compare_digest(given.encode("utf-8"), sign(meta, key).encode("ascii"))
