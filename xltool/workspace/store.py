"""The workspace store: SQLAlchemy 2 tables, the schema version and its migrations, and the
folder of returned files kept by content hash.

The database (SQLite in the workspace folder by default, PostgreSQL by URL) holds campaigns,
roster units, every version of every return with its verdict, reviews and settings; the files
themselves live in `files/<sha256>` beside it, written to a temporary name and renamed, never
under a name a user chose. Every write goes through `Store.write()`, one transaction.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

SCHEMA_VERSION = 3
DB_NAME = "workspace.db"
FILES = "files"


def now() -> datetime:
    """The time a thing happened, as the officer's clock shows it (local, to the second)."""
    return datetime.now().replace(microsecond=0)


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Key/value settings: the schema version, the password hash, the CSRF/session secret."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Campaign(Base):
    """One batch (批次): a year, a kind, a framework and a roster; its stage says what it collects,
    self-evaluation returns ("evaluation", 评价批次) or 绩效目标申报表 ("declaration", 申报批次)."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # "" (both), "project" or "department"
    framework: Mapped[str] = mapped_column(String(200), default="")
    roster_sha256: Mapped[str] = mapped_column(String(64))
    roster_suffix: Mapped[str] = mapped_column(String(8))
    roster_name: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column()
    # the approved targets (绩效目标批复表) kept as a blob, "" when the campaign has none
    targets_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    targets_suffix: Mapped[str] = mapped_column(String(8), default="", server_default="")
    targets_name: Mapped[str] = mapped_column(String(500), default="", server_default="")
    stage: Mapped[str] = mapped_column(String(20), default="evaluation", server_default="evaluation")


class Unit(Base):
    """One roster unit of a campaign (a unit, a year and a kind; projects inside)."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("campaign_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    code: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))


class Return(Base):
    """One version of a returned file, with its verdict. `unit_id` is null for a file set aside
    (it belongs to no roster unit of the campaign); the same bytes are recorded once per campaign."""

    __tablename__ = "returns"
    __table_args__ = (UniqueConstraint("campaign_id", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(1000))
    size: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))  # passed | failed | unreadable
    score: Mapped[str | None] = mapped_column(String(20), nullable=True)
    grade: Mapped[str | None] = mapped_column(String(20), nullable=True)
    execution_rate: Mapped[str | None] = mapped_column(String(20), nullable=True)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    set_aside: Mapped[str] = mapped_column(Text, default="")  # why it belongs to no unit
    result_json: Mapped[str] = mapped_column(Text)


class Review(Base):
    """A unit drawn for 抽查复核, and what the reviewer entered."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("campaign_id", "unit_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    seed: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column()
    review_score: Mapped[str | None] = mapped_column(String(20), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Blob(Base):
    """Small files the workspace keeps in the database itself (rosters, approved targets), by hash."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


# Migrations: MIGRATIONS[n] takes a store at version n to n + 1 (one transaction each). Version
# 0 is an empty database; version 1 creates the tables above (in their newest shape, so later
# steps add only what an older database lacks); version 2 adds a campaign's approved targets;
# version 3 its stage (every campaign made before is a self-evaluation one).
def _create_v1(connection) -> None:
    Base.metadata.create_all(connection)


def _add_targets_v2(connection) -> None:
    from sqlalchemy import inspect, text

    present = {c["name"] for c in inspect(connection).get_columns("campaigns")}
    for name, size in (("targets_sha256", 64), ("targets_suffix", 8), ("targets_name", 500)):
        if name not in present:
            connection.execute(text(f"ALTER TABLE campaigns ADD COLUMN {name} VARCHAR({size}) NOT NULL DEFAULT ''"))


def _add_stage_v3(connection) -> None:
    from sqlalchemy import inspect, text

    if "stage" not in {c["name"] for c in inspect(connection).get_columns("campaigns")}:
        connection.execute(text("ALTER TABLE campaigns ADD COLUMN stage VARCHAR(20) NOT NULL DEFAULT 'evaluation'"))


MIGRATIONS = {0: _create_v1, 1: _add_targets_v2, 2: _add_stage_v3}


class StoreError(RuntimeError):
    """A store that cannot be used; the message says why and what to do (Chinese)."""


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def database_url(folder: Path, url: str | None) -> str:
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        return url
    return f"sqlite:///{folder / DB_NAME}"


class Store:
    """The database and the folder of files of one workspace."""

    def __init__(self, folder: str | os.PathLike, url: str | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / FILES).mkdir(exist_ok=True)
        self.url = database_url(self.folder, url)
        try:
            self.engine = create_engine(self.url, pool_pre_ping=True)
        except Exception as exc:  # noqa: BLE001 - a wrong URL or a missing driver
            raise StoreError(f"无法使用数据库 {url}：{exc}。请检查 --db 的写法，如 postgresql://用户@主机/库名。") from exc
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()

    # ------------------------------------------------------------ schema
    def version(self) -> int:
        from sqlalchemy import inspect

        if not inspect(self.engine).has_table("settings"):
            return 0
        with self.sessions() as s:
            row = s.get(Setting, "schema_version")
            return int(row.value) if row else 0

    def migrate(self) -> None:
        try:
            current = self.version()
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"无法打开数据库：{exc}。请确认数据库服务在运行、地址和权限正确。") from exc
        if current > SCHEMA_VERSION:
            raise StoreError(f"这个工作区由更新版本的 xltool 创建（数据结构版本 {current}，本程序支持到 {SCHEMA_VERSION}）。请升级 xltool 后再打开。")
        while current < SCHEMA_VERSION:
            with self.engine.begin() as connection:
                MIGRATIONS[current](connection)
                current += 1
                with Session(connection) as s:
                    s.merge(Setting(key="schema_version", value=str(current)))
                    s.flush()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self.sessions() as session:
            yield session

    def setting(self, key: str) -> str | None:
        with self.read() as s:
            row = s.get(Setting, key)
            return row.value if row else None

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as s:
            s.merge(Setting(key=key, value=value))

    def setting_once(self, key: str, make) -> str:
        """The setting, created by make() in a transaction when there is none (first start)."""
        found = self.setting(key)
        if found is not None:
            return found
        from sqlalchemy.exc import IntegrityError

        try:
            with self.write() as s:
                s.add(Setting(key=key, value=make()))
        except IntegrityError:
            pass
        return self.setting(key) or ""

    # ------------------------------------------------------------ files by hash
    def file_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256")
        return self.folder / FILES / sha256[:2] / sha256

    def put_file(self, data: bytes) -> str:
        """Keep `data` under its sha256 (written to a temporary file, synced, renamed)."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.file_path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return digest

    def get_file(self, sha256: str) -> bytes:
        return self.file_path(sha256).read_bytes()

    def put_blob(self, session: Session, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if session.get(Blob, digest) is None:
            session.add(Blob(sha256=digest, data=data))
        return digest

    def get_blob(self, sha256: str) -> bytes:
        with self.read() as s:
            row = s.get(Blob, sha256)
            if row is None:
                raise KeyError(sha256)
            return bytes(row.data)

    def count(self, model) -> int:
        from sqlalchemy import func

        with self.read() as s:
            return s.scalar(select(func.count()).select_from(model)) or 0

    def close(self) -> None:
        self.engine.dispose()
