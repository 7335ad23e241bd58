"""The workspace's one service layer: the command line (`xltool check --workspace`) and the web
page both call these functions; route handlers only translate HTTP to calls and back.

Everything a user sees from here is Chinese. Files returned by units are checked with the same
checker as `xltool check` (check/batch.py), kept by content hash, and recorded with their
verdict; the outputs are the same writers as the command line's (report/).
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from xltool.core.model import Evaluation, Finding, Result, UnitInfo
from xltool.workspace.store import Campaign, Return, Review, Store, Unit, now

KEY_FILE = "signing.key"
ROSTERS = "rosters"
ROSTER_SUFFIXES = (".csv", ".txt", ".xlsx", ".xlsm")
KIND_TEXT = {"": "全部", "project": "项目支出", "department": "部门整体"}
EVALUATION, DECLARATION = "evaluation", "declaration"  # a campaign's stage: what it collects
STAGE_TEXT = {EVALUATION: "绩效自评", DECLARATION: "绩效目标申报"}
BOARD_STATES = ("未交", "无法读取", "不通过", "通过", "已复核")
_STATE_OF = {None: "未交", "unreadable": "无法读取", "failed": "不通过", "passed": "通过"}
GRADES = ("优", "良", "中", "差")

# One check at a time: the checker takes its key and roster from the process environment, and
# a check is CPU work (~0.3 s) that threads would not speed up.
_CHECK_LOCK = threading.Lock()


class ServiceError(ValueError):
    """Something the user asked that cannot be done; the message says why and what to do."""


@dataclass
class RosterProblem:
    row: int | None
    column: str
    message: str


class RosterRejected(ServiceError):
    def __init__(self, message: str, problems: list[RosterProblem]):
        super().__init__(message)
        self.problems = problems


class TargetsRejected(RosterRejected):
    """An approved targets file with errors: each by row and column, as for a roster."""


class ApprovalRefused(ServiceError):
    """The 批复表 cannot be made from a 申报 campaign's returns: `lines` say, per unit and file,
    what to fix (the lines `xltool targets` prints), the message what to do then."""

    def __init__(self, message: str, lines: list[str]):
        super().__init__(message)
        self.lines = lines


@dataclass
class Outcome:
    """What became of one uploaded file (or one member of an uploaded .zip)."""

    filename: str
    kind: str  # recorded | duplicate | set_aside | refused
    message: str
    status: str = ""
    unit: str = ""
    unit_id: int | None = None
    return_id: int | None = None

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("filename", "kind", "message", "status", "unit", "unit_id", "return_id")}


@dataclass
class BoardRow:
    unit_id: int
    name: str
    code: str
    kind: str
    state: str
    score: str
    grade: str
    execution_rate: str
    errors: int | None
    versions: int
    last_return: str
    review_score: str = ""


@dataclass
class Board:
    campaign: Campaign
    rows: list[BoardRow]
    counts: dict[str, int]
    grades: dict[str, int]
    set_aside: list[Return] = field(default_factory=list)


def shown_name(filename: str) -> str:
    """An uploaded file's name as shown: its last part only, control characters removed. It is
    only ever displayed and stored as text, never used as a path."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name).strip()
    return name[:255] or "未命名文件"


def _dec(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def result_from_dict(item: dict, sha256: str = "") -> Result:
    """A Result back from its JSON form (Result.as_dict), for the report writers."""
    kind = item.get("kind") or ""
    evaluations = []
    for ev in item.get("evaluations") or []:
        evaluations.append(
            Evaluation(
                name=ev.get("name") or "",
                budget=_dec(ev.get("budget")),
                executed=_dec(ev.get("executed")),
                execution_rate=_dec(ev.get("execution_rate")),
                declared_score=_dec(ev.get("declared_score")),
                score=_dec(ev.get("score")),
                declared_grade=ev.get("declared_grade"),
                grade=ev.get("grade"),
                initial_budget=_dec(ev.get("initial_budget")),
                initial_budget_completion_rate=_dec(ev.get("initial_budget_completion_rate")),
                criteria=list(ev.get("criteria") or []),
                indicators=list(ev.get("indicators") or []),
            )
        )
    findings = [
        Finding(code=f["code"], severity=f["severity"], message=f.get("message") or "", sheet=f.get("sheet") or "", cell=f.get("cell") or "", seen=f.get("seen"), expected=f.get("expected"))
        for f in item.get("findings") or []
    ]
    return Result(
        file=item.get("file") or "", status=item.get("status") or "unreadable", kind=kind, unit=item.get("unit") or "",
        unit_code=item.get("unit_code") or "", year=item.get("year"), framework=item.get("framework") or "",
        findings=findings, evaluations=evaluations, sha256=sha256,
    )


def _fmt_score(value) -> str:
    d = _dec(value)
    return "" if d is None else f"{d:.2f}"


def _fmt_rate(value) -> str:
    d = _dec(value)
    return "" if d is None else f"{d * 100:.2f}%"


def _roster_problem(text: str) -> RosterProblem:
    found = re.match(r"第\s*(\d+)\s*行(?:“([^”]+)”列)?[：:]?\s*(.*)", text.strip(), flags=re.S)
    if found:
        return RosterProblem(int(found.group(1)), found.group(2) or "", found.group(3) or text)
    return RosterProblem(None, "", text)


class Workspace:
    """One workspace: a folder (returned files, the signing key, the SQLite database unless
    `db` names a server database) and its store."""

    def __init__(self, folder: str | os.PathLike, db: str | None = None):
        self.folder = Path(folder).resolve()
        self.store = Store(self.folder, db)
        self.key_path = self.folder / KEY_FILE
        if not self.key_path.exists():
            from xltool.template.signing import create_key

            create_key(self.key_path)

    def close(self) -> None:
        self.store.close()

    # ------------------------------------------------------------ campaigns
    def campaigns(self) -> list[Campaign]:
        with self.store.read() as s:
            return list(s.scalars(select(Campaign).order_by(Campaign.year.desc(), Campaign.id.desc())))

    def campaign(self, campaign_id: int) -> Campaign:
        with self.store.read() as s:
            found = s.get(Campaign, campaign_id)
        if found is None:
            raise ServiceError("没有这个评价批次。请回到首页选择一个批次。")
        return found

    def units(self, campaign_id: int) -> list[Unit]:
        with self.store.read() as s:
            return list(s.scalars(select(Unit).where(Unit.campaign_id == campaign_id).order_by(Unit.position)))

    def _roster_path(self, sha256: str, suffix: str) -> Path:
        """The roster file of a campaign on disk (read_roster and the checker take a path),
        named by its hash; written from the database when missing."""
        if suffix not in ROSTER_SUFFIXES:
            suffix = ".csv"
        path = self.folder / ROSTERS / f"{sha256}{suffix}"
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            data = self.store.get_blob(sha256)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".roster-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        return path

    def create_campaign(self, year: int, kind: str, framework: str, roster_name: str, roster_data: bytes, name: str = "",
                        stage: str = EVALUATION) -> tuple[int, list[str]]:
        """A new campaign from a roster: its units are the roster's rows of that year (and kind,
        when given); `stage` says whether it collects self-evaluation returns or 绩效目标申报表.
        Returns the campaign's id and notes (rows left out, ignored columns). A roster with
        errors raises RosterRejected listing each (row, column, message)."""
        from xltool.template.roster import RosterError, read_roster

        if stage not in STAGE_TEXT:
            raise ServiceError("批次阶段无效：请选择“绩效自评”或“绩效目标申报”。")
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise ServiceError("年度无效：请填写四位数的评价年度，如 2021。")
        if kind not in KIND_TEXT:
            raise ServiceError("评价类型无效：请选择“全部”“项目支出”或“部门整体”。")
        suffix = PurePosixPath(shown_name(roster_name)).suffix.lower()
        if suffix not in ROSTER_SUFFIXES:
            raise ServiceError("名册应是 .csv、.txt（Unicode 文本）或 .xlsx 文件。请在 Excel 中另存为这些格式之一后再上传。")
        if not roster_data:
            raise ServiceError("名册文件是空的。请选择填好的名册文件。")
        if framework:
            from xltool.core.framework import FrameworkError, load_framework

            try:
                fw = load_framework(framework)
            except FrameworkError as exc:
                raise ServiceError(str(exc)) from None
            if kind and fw.kind != kind:
                raise ServiceError(f"框架“{framework}”用于{KIND_TEXT.get(fw.kind, fw.kind)}评价，与所选评价类型不符。请换一个框架或类型。")
        with tempfile.TemporaryDirectory(prefix="xltool-roster-") as tmp:
            path = Path(tmp) / f"名册{suffix}"
            path.write_bytes(roster_data)
            notes: list[str] = []
            try:
                units = read_roster(path, notes)
            except RosterError as exc:
                problems = [_roster_problem(p) for p in exc.problems]
                raise RosterRejected(f"名册有 {len(problems)} 处错误，评价批次没有建立。请按下表逐条改正名册后重新上传。", problems) from None
        taken = [u for u in units if u.year == year and (not kind or u.kind == kind)]
        if framework:
            from dataclasses import replace

            taken = [replace(u, framework=framework) for u in taken if u.kind == fw.kind]
        left = len(units) - len(taken)
        if left:
            notes.append(f"名册中有 {left} 个单位不是 {year} 年度{'' if not kind else KIND_TEXT[kind]}的评价，没有纳入本批次。")
        if stage == EVALUATION:
            from xltool.template import refuse_overfull

            try:
                refuse_overfull(taken)  # refused now, not when the templates are downloaded
            except RosterError as exc:
                problems = [_roster_problem(p) for p in exc.problems]
                raise RosterRejected(f"名册有 {len(problems)} 处内容超出模板的容量，评价批次没有建立。请按下表逐条改正名册后重新上传。", problems) from None
        if not taken:
            raise ServiceError(f"名册中没有 {year} 年度{'' if not kind else KIND_TEXT[kind]}的单位，评价批次没有建立。请核对名册的“年度”“类型”列或所选年度。")
        with self.store.write() as s:
            digest = self.store.put_blob(s, roster_data)
            campaign = Campaign(
                name=name.strip()[:200] or f"{year} 年度{KIND_TEXT[kind] if kind else ''}{STAGE_TEXT[stage]}",
                year=year, kind=kind, framework=framework, roster_sha256=digest, roster_suffix=suffix,
                roster_name=shown_name(roster_name), created_at=now(), stage=stage,
            )
            s.add(campaign)
            s.flush()
            for i, unit in enumerate(taken):
                s.add(Unit(campaign_id=campaign.id, position=i, name=unit.name, code=unit.code, year=unit.year, kind=unit.kind))
            campaign_id = campaign.id
        return campaign_id, notes

    def roster_units(self, campaign_id: int, with_targets: bool = True) -> list[UnitInfo]:
        """The campaign's units as the roster gives them (with budgets and projects), and with
        the approved targets attached when the campaign has a targets file."""
        from dataclasses import replace

        from xltool.template.roster import read_roster

        campaign = self.campaign(campaign_id)
        units = read_roster(self._roster_path(campaign.roster_sha256, campaign.roster_suffix))
        taken = [u for u in units if u.year == campaign.year and (not campaign.kind or u.kind == campaign.kind)]
        if campaign.framework:
            taken = [replace(u, framework=campaign.framework) for u in taken]
        if with_targets and campaign.targets_sha256:
            from xltool.template.approved import apply_targets, read_targets

            taken = apply_targets(taken, read_targets(self._roster_path(campaign.targets_sha256, campaign.targets_suffix), taken))
        return taken

    def set_targets(self, campaign_id: int, filename: str, data: bytes) -> list[str]:
        """Attach an approved targets file (绩效目标批复表) to a campaign: its rows are read by the
        roster's rules against the campaign's units, every problem at once (TargetsRejected, nothing
        kept); from then on the templates carry the approved rows locked and every check compares
        with them (TARGET_CHANGED). Only before the first return: files already checked without
        the targets would otherwise keep verdicts the targets contradict. Returns notes."""
        from xltool.template.approved import read_targets
        from xltool.template.roster import RosterError

        if self.campaign(campaign_id).stage == DECLARATION:  # a campaign that does not exist says so
            raise ServiceError("这是绩效目标申报批次：它收集申报表，并由申报表生成批复表，本身不采用批复表。请在同一年度的评价批次中上传或选用批复表。")
        with self.store.read() as s:
            received = s.scalar(select(func.count()).select_from(Return).where(Return.campaign_id == campaign_id)) or 0
        if received:
            raise ServiceError(f"本批次已收到 {received} 份文件，不能再上传批复表：已检查的文件没有与批复的指标核对。请新建一个评价批次，先上传批复表，再下载模板发给各单位。")
        suffix = PurePosixPath(shown_name(filename)).suffix.lower()
        if suffix not in ROSTER_SUFFIXES:
            raise ServiceError("批复表应是 .csv、.txt（Unicode 文本）或 .xlsx 文件。请在 Excel 中另存为这些格式之一后再上传。")
        if not data:
            raise ServiceError("批复表文件是空的。请选择填好的批复表文件。")
        units = self.roster_units(campaign_id, with_targets=False)
        with tempfile.TemporaryDirectory(prefix="xltool-targets-") as tmp:
            path = Path(tmp) / f"批复表{suffix}"
            path.write_bytes(data)
            notes: list[str] = []
            try:
                blocks = read_targets(path, units, notes)
            except RosterError as exc:
                problems = [_roster_problem(p) for p in exc.problems]
                raise TargetsRejected(f"批复表有 {len(problems)} 处错误，没有采用。请按下表逐条改正批复表后重新上传。", problems) from None
        if not blocks:
            raise ServiceError("批复表中没有指标行。请每行填写一个批复的指标后重新上传。")
        with self.store.write() as s:
            row = s.get(Campaign, campaign_id)
            row.targets_sha256 = self.store.put_blob(s, data)
            row.targets_suffix = suffix
            row.targets_name = shown_name(filename)
        covered = {code for code, _name in blocks}
        indicators = sum(len(b.indicators) for b in blocks.values())
        notes.append(f"批复表已采用：{len(covered)} 个单位的 {len(blocks)} 个项目或年度目标、{indicators} 个指标。"
                     "现在下载的模板中这些指标已预填并锁定，交回的文件逐格与批复表核对。")
        return notes

    def templates_zip(self, campaign_id: int) -> tuple[str, bytes]:
        """Every unit's template, signed with this workspace's key, as one zip: (name, bytes). In a
        申报 campaign, each unit's 绩效目标申报表 (as `xltool template --stage 申报`)."""
        from xltool.template import generate as generate_templates
        from xltool.template.declaration import generate_declarations
        from xltool.template.signing import use_key_file

        campaign = self.campaign(campaign_id)
        units = self.roster_units(campaign_id)
        generate = generate_declarations if campaign.stage == DECLARATION else generate_templates
        with _CHECK_LOCK, _environment():
            use_key_file(self.key_path)
            with tempfile.TemporaryDirectory(prefix="xltool-templates-") as tmp:
                paths = generate(units, tmp)
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                    for path in paths:
                        archive.write(path, path.name)
        what = "申报表" if campaign.stage == DECLARATION else "模板"
        return f"{campaign.year}_{what}_{len(paths)}份.zip", buffer.getvalue()

    # ------------------------------------------------------------ 申报 → 批复表
    def approval(self, campaign_id: int) -> tuple[str, bytes]:
        """The 批复表 of a 申报 campaign, (file name, bytes): `xltool targets --roster` (the same
        check.approval.targets_from) over the latest 申报表 of every roster unit. When a unit sent
        none, or any 申报表 has errors or disagrees with the roster, ApprovalRefused lists what to
        fix per unit and file (the lines the command prints); nothing is written or kept."""
        from sqlalchemy.orm import defer

        from xltool.check.approval import targets_from
        from xltool.check.batch import Inputs, Source
        from xltool.template.declaration import write_approved
        from xltool.template.signing import use_key_file

        campaign = self.campaign(campaign_id)
        if campaign.stage != DECLARATION:
            raise ServiceError("批复表由绩效目标申报批次生成，这是绩效自评批次。请打开同一年度的申报批次生成批复表，或在本批次的批复表页上传批复表。")
        units = self.units(campaign_id)
        with self.store.read() as s:
            returns = list(s.scalars(select(Return).options(defer(Return.result_json))
                                     .where(Return.campaign_id == campaign_id, Return.unit_id.is_not(None))
                                     .order_by(Return.received_at, Return.id)))
        latest = {r.unit_id: r for r in returns}
        lines = [f"{u.name}（{u.code or '无编码'}）还没有交回绩效目标申报表：请催交，收到并检查通过后再生成批复表。"
                 for u in units if u.id not in latest]
        roster = self.roster_units(campaign_id, with_targets=False)
        with tempfile.TemporaryDirectory(prefix="xltool-approval-") as tmp:
            sources = []
            for n, unit in enumerate(units):
                row = latest.get(unit.id)
                if row is None:
                    continue
                folder = Path(tmp) / str(n)  # each unit's file in its own folder, under its shown name
                folder.mkdir()
                name = PurePosixPath(shown_name(row.filename))
                path = folder / ((name.stem.strip(".")[:60] or "申报表") + name.suffix[:8])
                path.write_bytes(self.store.get_file(row.sha256))
                sources.append(Source(str(path), shown=row.filename))
            with _CHECK_LOCK, _environment():
                use_key_file(self.key_path)
                outcome = targets_from(Inputs(sources=sources), roster)
            lines += outcome.lines
            if lines or not outcome.ok:
                if not lines:  # every 申报表 passed but none holds an indicator row
                    raise ApprovalRefused(f"没有生成批复表：{outcome.reason}", [])
                if not outcome.ok and outcome.lines and "xltool targets" not in outcome.reason:  # rows the roster refuses
                    raise ApprovalRefused("没有生成批复表：" + outcome.reason.replace("（见上）", "（见下）").replace("重新运行", "重新生成"), lines)
                raise ApprovalRefused("没有生成批复表，也没有保存任何内容：下列单位的申报表需要处理。请让单位按说明改正后重新交回（或催交），"
                                      "全部通过后再点“生成批复表”。", lines)
            path = write_approved(outcome.rows, Path(tmp) / "批复表.xlsx")
            return f"{campaign.year}_绩效目标批复表.xlsx", Path(path).read_bytes()

    def declaration_campaigns(self, year: int) -> list[Campaign]:
        """The 申报 campaigns of `year`, newest first: where a self-evaluation campaign's 批复表 comes from."""
        return [c for c in self.campaigns() if c.stage == DECLARATION and c.year == year]

    def take_approval(self, campaign_id: int, source_id: int) -> list[str]:
        """A self-evaluation campaign takes the 批复表 its year's 申报 campaign `source_id` makes now
        (as though the officer downloaded it and uploaded it on the targets page)."""
        source = self.campaign(source_id)
        campaign = self.campaign(campaign_id)
        if source.stage != DECLARATION or source.year != campaign.year:
            raise ServiceError(f"只能选用 {campaign.year} 年度绩效目标申报批次生成的批复表。请在列表中选择一个申报批次。")
        name, data = self.approval(source_id)
        notes = self.set_targets(campaign_id, name, data)
        return [f"批复表由申报批次“{source.name}”生成。"] + notes

    # ------------------------------------------------------------ returns
    def check_bytes(self, campaign: Campaign, filename: str, data: bytes) -> Result:
        """Check one returned workbook's bytes as `xltool check --roster` does."""
        from xltool.check import batch
        from xltool.check.reader import ROSTER_ENV, TARGETS_ENV
        from xltool.check.rules import apply_expected_year
        from xltool.template.signing import use_key_file

        roster = self._roster_path(campaign.roster_sha256, campaign.roster_suffix)
        with _CHECK_LOCK, _environment():
            use_key_file(self.key_path)
            os.environ[ROSTER_ENV] = str(roster)
            if campaign.targets_sha256:
                os.environ[TARGETS_ENV] = str(self._roster_path(campaign.targets_sha256, campaign.targets_suffix))
            result = batch.check_file(filename, data=data)
        apply_expected_year(result, campaign.year)
        return result

    def add_upload(self, campaign_id: int, filename: str, data: bytes) -> list[Outcome]:
        """One uploaded file: a workbook, or a .zip of workbooks. Each workbook is checked at
        once and recorded in its own transaction (or recognised as already recorded, or set aside
        when it belongs to no unit of the campaign). A .zip that cannot be read, or a member that
        breaks the archive limits, is refused: nothing of it is recorded."""
        from xltool.check.batch import ARCHIVE_SUFFIXES, SPREADSHEET_SUFFIXES, archive_members

        campaign = self.campaign(campaign_id)
        name = shown_name(filename)
        if _climbs(filename):
            return [Outcome(name, "refused", f"文件名“{_printable(filename)}”含有“..”或从根目录开始的路径，没有收下，也没有记录任何内容。请直接上传文件本身，或先把文件改成普通的名字。")]
        suffix = PurePosixPath(name).suffix.lower()
        if suffix in ARCHIVE_SUFFIXES or (data[:4] == b"PK\x03\x04" and suffix not in SPREADSHEET_SUFFIXES and not _looks_like_workbook(data)):
            with tempfile.TemporaryDirectory(prefix="xltool-upload-") as tmp:
                path = Path(tmp) / "upload.zip"  # never the uploaded name
                path.write_bytes(data)
                # First every member is read (and dropped) to see that the whole archive is within
                # the limits; only then is each recorded, read again: memory holds one member.
                count = 0
                for _shown, _member, problem in archive_members(path):
                    if problem is not None:
                        reason = problem.findings[0].message if problem.findings else "无法读取"
                        return [Outcome(name, "refused", f"压缩包“{name}”没有收下：{reason}。请解压后检查里面的文件，再把工作簿逐个上传。")]
                    count += 1
                if not count:
                    return [Outcome(name, "refused", f"压缩包“{name}”里没有工作簿（.xlsx）。请确认压缩的是回收的自评表。")]
                return [self._add_one(campaign, f"{name}/{shown_name(shown)}", member) for shown, member, _ in archive_members(path)]
        if suffix not in SPREADSHEET_SUFFIXES:
            return [Outcome(name, "refused", f"“{name}”不是工作簿或 .zip 压缩包，没有收下。请上传单位交回的 .xlsx 文件。")]
        return [self._add_one(campaign, name, data)]

    def _add_one(self, campaign: Campaign, name: str, data: bytes) -> Outcome:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        with self.store.read() as s:
            known = s.scalar(select(Return).where(Return.campaign_id == campaign.id, Return.sha256 == digest))
            if known is not None:
                return self._duplicate(s, known, name)
        result = self.check_bytes(campaign, name, data)
        ours = _our_output(campaign, result, data)
        unit = None if ours else self._unit_of(campaign, result, name)
        first = result.evaluations[0] if result.evaluations else None
        scores = [e.score for e in result.evaluations if e.score is not None]
        score = sum(scores) / len(scores) if scores and len(scores) == len(result.evaluations) else None
        grades = [e.grade for e in result.evaluations if e.grade]
        row = Return(
            campaign_id=campaign.id, unit_id=unit.id if unit else None, sha256=digest, filename=name, size=len(data),
            received_at=now(), status=result.status, score=_fmt_score(score) or None,
            grade=(grades[0] if len(set(grades)) == 1 and len(grades) == len(result.evaluations) else "/".join(grades)) or None,
            execution_rate=str(first.execution_rate) if first is not None and first.execution_rate is not None and len(result.evaluations) == 1 else None,
            errors=result.errors, warnings=result.warnings,
            set_aside="" if unit else ours or _why_set_aside(campaign, result),
            result_json=json.dumps(result.as_dict(), ensure_ascii=False),
        )
        self.store.put_file(data)  # the file first: a row never names a file that is not there
        try:
            with self.store.write() as s:
                s.add(row)
                s.flush()
                return_id = row.id
        except IntegrityError:  # the same bytes, recorded a moment ago by another upload
            with self.store.read() as s:
                known = s.scalar(select(Return).where(Return.campaign_id == campaign.id, Return.sha256 == digest))
                return self._duplicate(s, known, name)
        status_text = {"passed": "通过", "failed": "不通过", "unreadable": "无法读取"}[result.status]
        if unit is None:
            return Outcome(name, "set_aside", f"“{name}”已收下但另放：{row.set_aside}", result.status, return_id=return_id)
        tail = f"，{result.errors} 处错误" if result.errors else ""
        return Outcome(name, "recorded", f"“{name}”已收下：{unit.name}，{status_text}{tail}。", result.status, unit.name, unit.id, return_id)

    def _duplicate(self, s, known: Return, name: str) -> Outcome:
        unit = s.get(Unit, known.unit_id) if known.unit_id else None
        when = known.received_at.strftime("%Y-%m-%d %H:%M")
        who = unit.name if unit else "另放的文件"
        return Outcome(name, "duplicate", f"“{name}”与 {when} 收到的“{known.filename}”（{who}）内容完全相同，不再重复记录。", known.status, unit.name if unit else "", known.unit_id, known.id)

    def _unit_of(self, campaign: Campaign, result: Result, name: str) -> Unit | None:
        units = self.units(campaign.id)
        if result.status != "unreadable" and (result.unit or result.unit_code):
            declared = result.kind == DECLARATION
            if declared != (campaign.stage == DECLARATION):
                return None  # the other stage's workbook: set aside, saying where it belongs
            found = []
            for unit in units:
                if unit.year != result.year or (unit.kind != result.kind and not declared):
                    continue
                if unit.code.strip() and (result.unit_code or "").strip():
                    if unit.code.strip() == result.unit_code.strip():
                        found.append(unit)
                elif unit.name.strip() == (result.unit or "").strip():
                    found.append(unit)
            if len(found) > 1:  # a 申报表 of a unit with both kinds in the roster: its framework's kind
                found = [u for u in found if u.kind == _declared_kind(result)] or found
            return found[0] if found else None
        # Unreadable: the file name may still say whose it is (templates are named by unit).
        named = [u for u in units if u.name and u.name in name]
        longest = max((len(u.name) for u in named), default=0)
        named = [u for u in named if len(u.name) == longest]
        return named[0] if len(named) == 1 else None

    # ------------------------------------------------------------ board and unit pages
    def board(self, campaign_id: int, state: str = "", sort: str = "", search: str = "") -> Board:
        """One row per roster unit with its latest return's verdict; `state` keeps one state,
        `search` the units whose name or code contains it; `sort`: name, state, score, errors, last."""
        from sqlalchemy.orm import defer

        campaign = self.campaign(campaign_id)
        with self.store.read() as s:
            units = list(s.scalars(select(Unit).where(Unit.campaign_id == campaign_id).order_by(Unit.position)))
            returns = list(s.scalars(select(Return).options(defer(Return.result_json)).where(Return.campaign_id == campaign_id).order_by(Return.received_at, Return.id)))
            reviews = {r.unit_id: r for r in s.scalars(select(Review).where(Review.campaign_id == campaign_id))}
        latest: dict[int, Return] = {}
        versions: dict[int, int] = {}
        for r in returns:
            if r.unit_id is not None:
                latest[r.unit_id] = r
                versions[r.unit_id] = versions.get(r.unit_id, 0) + 1
        rows = []
        for u in units:
            r = latest.get(u.id)
            review = reviews.get(u.id)
            state_text = _STATE_OF[r.status if r else None]
            if review is not None and review.reviewed_at is not None and r is not None:
                state_text = "已复核"
            rows.append(
                BoardRow(
                    unit_id=u.id, name=u.name, code=u.code, kind=KIND_TEXT.get(u.kind, u.kind), state=state_text,
                    score=r.score or "" if r else "", grade=r.grade or "" if r else "",
                    execution_rate=_fmt_rate(r.execution_rate) if r else "", errors=r.errors if r else None,
                    versions=versions.get(u.id, 0), last_return=r.received_at.strftime("%Y-%m-%d %H:%M") if r else "",
                    review_score=review.review_score or "" if review else "",
                )
            )
        counts = {k: 0 for k in BOARD_STATES}
        grades = {k: 0 for k in GRADES}
        for row in rows:
            counts[row.state] += 1
            if row.grade in grades:
                grades[row.grade] += 1
        if state:
            rows = [row for row in rows if row.state == state]
        if search.strip():
            rows = [row for row in rows if search.strip() in row.name or search.strip() in row.code]
        keys = {
            "score": lambda r: (_dec(r.score) is None, -(_dec(r.score) or 0)),
            "errors": lambda r: (r.errors is None, -(r.errors or 0)),
            "last": lambda r: (r.last_return == "", r.last_return),
            "state": lambda r: BOARD_STATES.index(r.state),
            "name": lambda r: r.name,
        }
        if sort in keys:
            rows.sort(key=keys[sort])
        set_aside = [r for r in returns if r.unit_id is None]
        return Board(campaign, rows, counts, grades, set_aside)

    def unit_page(self, campaign_id: int, unit_id: int) -> dict:
        """A unit's versions (newest first), each with its findings and what changed since the
        version before it (fixed / new / still open), and its review."""
        campaign = self.campaign(campaign_id)
        with self.store.read() as s:
            unit = s.get(Unit, unit_id)
            if unit is None or unit.campaign_id != campaign_id:
                raise ServiceError("这个单位不在本批次中。请从单位看板选择单位。")
            returns = list(s.scalars(select(Return).where(Return.unit_id == unit_id).order_by(Return.received_at, Return.id)))
            review = s.scalar(select(Review).where(Review.campaign_id == campaign_id, Review.unit_id == unit_id))
        versions = []
        previous: dict | None = None
        for number, r in enumerate(returns, 1):
            result = json.loads(r.result_json)
            findings = result.get("findings") or []
            keyed = {_finding_key(f): f for f in findings}
            diff = None
            if previous is not None:
                diff = {
                    "fixed": [f for k, f in previous.items() if k not in keyed],
                    "new": [f for k, f in keyed.items() if k not in previous],
                    "open": [f for k, f in keyed.items() if k in previous],
                }
            versions.append({"number": number, "row": r, "findings": findings, "evaluations": result.get("evaluations") or [], "diff": diff})
            previous = keyed
        versions.reverse()
        return {"campaign": campaign, "unit": unit, "versions": versions, "review": review}

    def return_row(self, return_id: int) -> Return:
        with self.store.read() as s:
            row = s.get(Return, return_id)
        if row is None:
            raise ServiceError("没有这个文件记录。")
        return row

    def feedback(self, return_id: int) -> tuple[str, bytes]:
        """The feedback workbook (检查意见) of one version: (file name, bytes)."""
        from xltool.report import feedback_filename, write_feedback

        row = self.return_row(return_id)
        result = result_from_dict(json.loads(row.result_json), row.sha256)
        name = feedback_filename(result.file)
        with tempfile.TemporaryDirectory(prefix="xltool-feedback-") as tmp:
            path = write_feedback(result, tmp, filename="feedback.xlsx")
            return name, Path(path).read_bytes()

    # ------------------------------------------------------------ review (抽查复核)
    def draw_sample(self, campaign_id: int, seed: int, per_grade: int | None = None, share: float | None = None) -> list[int]:
        """Draw units for review among those with a readable return: `per_grade` of each grade,
        or a `share` (0–1) of them; the same seed over the same returns draws the same units.
        Units already drawn stay drawn. Returns the unit ids drawn now."""
        if self.campaign(campaign_id).stage == DECLARATION:
            raise ServiceError("绩效目标申报批次没有自评得分，不做抽查复核。抽查请在同一年度的绩效自评批次中进行。")
        if per_grade is None and share is None:
            raise ServiceError("请填写每个等级抽取的数量，或抽取的比例。")
        if per_grade is not None and not 1 <= per_grade <= 1000:
            raise ServiceError("每个等级抽取的数量应在 1 到 1000 之间。")
        if share is not None and not 0 < share <= 1:
            raise ServiceError("抽取比例应大于 0%、不超过 100%。")
        board = self.board(campaign_id)
        pool = [r for r in board.rows if r.state in ("通过", "不通过", "已复核")]
        if not pool:
            raise ServiceError("还没有可抽查的单位：抽查在已交回并能读取的单位中进行。")
        chosen = choose_sample(pool, seed, per_grade, share)
        drawn = []
        with self.store.write() as s:
            existing = {r.unit_id for r in s.scalars(select(Review).where(Review.campaign_id == campaign_id))}
            for row in chosen:
                if row.unit_id not in existing:
                    s.add(Review(campaign_id=campaign_id, unit_id=row.unit_id, seed=seed, drawn_at=now()))
                    drawn.append(row.unit_id)
        return drawn

    def draw_sample_as_typed(self, campaign_id: int, seed: str, per_grade: str, share: str) -> list[int]:
        """draw_sample from the page's fields as typed: a whole seed, a count per grade, or a
        percentage ("10" or "10%")."""
        seed, per_grade, share = seed.strip(), per_grade.strip(), share.strip().rstrip("%").strip()
        if not seed.isdigit():
            raise ServiceError("随机种子应是整数，如 2024。同一个种子抽出的样本相同，便于复查。")
        if per_grade and not per_grade.isdigit():
            raise ServiceError("每个等级抽取的数量应是整数，如 2。")
        share_value = _dec(share) if share and not per_grade else None
        if share and not per_grade and share_value is None:
            raise ServiceError("抽取比例应是数字，如 10 表示 10%。")
        return self.draw_sample(campaign_id, int(seed), int(per_grade) if per_grade else None,
                                float(share_value) / 100 if share_value is not None else None)

    def reviews(self, campaign_id: int) -> list[tuple[Review, BoardRow]]:
        board = {r.unit_id: r for r in self.board(campaign_id).rows}
        with self.store.read() as s:
            items = list(s.scalars(select(Review).where(Review.campaign_id == campaign_id).order_by(Review.id)))
        return [(r, board[r.unit_id]) for r in items if r.unit_id in board]

    def save_review(self, campaign_id: int, unit_id: int, score: str, comment: str) -> None:
        value = _dec((score or "").strip())
        if value is None or not Decimal(0) <= value <= Decimal(100):
            raise ServiceError("核查分数应是 0 到 100 之间的数字，如 92.5。")
        if not (comment or "").strip():
            raise ServiceError("请填写审核意见，说明核查的结论。")
        with self.store.write() as s:
            review = s.scalar(select(Review).where(Review.campaign_id == campaign_id, Review.unit_id == unit_id))
            if review is None:
                raise ServiceError("这个单位没有被抽中复核。请先在抽查复核页抽取样本。")
            review.review_score = f"{value:.2f}"
            review.comment = comment.strip()[:4000]
            review.reviewed_at = now()

    # ------------------------------------------------------------ history across years
    def history(self, code: str = "", name: str = "") -> list[dict]:
        """A unit's latest verdict in every self-evaluation campaign it is in, oldest year first."""
        with self.store.read() as s:
            query = select(Unit, Campaign).join(Campaign, Unit.campaign_id == Campaign.id).where(Campaign.stage == EVALUATION)
            query = query.where(Unit.code == code) if code else query.where(Unit.name == name)
            pairs = list(s.execute(query.order_by(Campaign.year, Campaign.id)))
            out = []
            for unit, campaign in pairs:
                r = s.scalar(select(Return).where(Return.unit_id == unit.id).order_by(Return.received_at.desc(), Return.id.desc()).limit(1))
                review = s.scalar(select(Review).where(Review.unit_id == unit.id, Review.reviewed_at.is_not(None)))
                state = "已复核" if review is not None and r is not None else _STATE_OF[r.status if r else None]
                out.append({
                    "year": campaign.year, "campaign": campaign, "unit": unit, "review_score": review.review_score if review else "",
                    "state": state, "score": (r.score or "") if r else "",
                    "grade": (r.grade or "") if r else "", "execution_rate": _fmt_rate(r.execution_rate) if r else "",
                })
        return out

    def known_units(self) -> list[tuple[str, str]]:
        """(code, name) of every unit in any campaign, for the history page's list."""
        with self.store.read() as s:
            rows = s.execute(select(Unit.code, Unit.name, func.count(Unit.id)).group_by(Unit.code, Unit.name).order_by(Unit.name))
            return [(code, name) for code, name, _n in rows]

    # ------------------------------------------------------------ downloads
    def latest_results(self, campaign_id: int, missing: bool = True) -> Iterable[Result]:
        """The latest version of every unit's return (then files set aside), and, with `missing`,
        a MISSING_RETURN result for each unit that sent nothing: what `xltool check --roster` reports."""
        from xltool.core.messages import finding

        with self.store.read() as s:
            units = list(s.scalars(select(Unit).where(Unit.campaign_id == campaign_id).order_by(Unit.position)))
            returns = list(s.scalars(select(Return).where(Return.campaign_id == campaign_id).order_by(Return.received_at, Return.id)))
        latest: dict[int, Return] = {}
        for r in returns:
            if r.unit_id is not None:
                latest[r.unit_id] = r
        for u in units:
            r = latest.get(u.id)
            if r is not None:
                yield result_from_dict(json.loads(r.result_json), r.sha256)
            elif missing:
                kind_text = "，项目支出" if u.kind == "project" else "，部门整体支出"
                yield Result(file="", status="missing", kind=u.kind, unit=u.name, unit_code=u.code, year=u.year,
                             findings=[finding("MISSING_RETURN", unit=u.name, year=str(u.year), kind_text=kind_text, document="自评文件")])

    def _review_by_unit(self, campaign_id: int) -> dict[tuple[str, str], Review]:
        with self.store.read() as s:
            pairs = s.execute(select(Review, Unit).join(Unit, Review.unit_id == Unit.id).where(Review.campaign_id == campaign_id))
            return {(u.code, u.name): r for r, u in pairs if r.reviewed_at is not None}

    def export(self, campaign_id: int, what: str) -> tuple[str, bytes]:
        """A download: summary (xlsx), json, csv or feedback (zip). Reviews travel beside the
        self-score: a 抽查复核 sheet in the summary, `review` in JSON, two columns in CSV."""
        from xltool import report

        campaign = self.campaign(campaign_id)
        stem = f"{campaign.year}_{campaign.name}"
        reviews = self._review_by_unit(campaign_id)

        def review_of(result: Result):
            return reviews.get((result.unit_code, result.unit))

        with tempfile.TemporaryDirectory(prefix="xltool-export-") as tmp:
            if what == "summary":
                path = Path(tmp) / "summary.xlsx"
                rows = []
                for result in self.latest_results(campaign_id):
                    review = review_of(result)
                    if review is not None:
                        rows.append([result.unit, result.unit_code, _first(result, "declared_score"), _first(result, "score"), _dec(review.review_score), review.comment])
                extra = [("抽查复核", ("单位", "单位编码", "自评得分", "核算得分", "核查分数", "审核意见"), rows)]
                report.write_summary(self.latest_results(campaign_id), path, title=f"{campaign.name}检查汇总", extra_sheets=extra)
                return f"{stem}_汇总.xlsx", path.read_bytes()
            if what == "json":
                items = []
                for result in self.latest_results(campaign_id):
                    item = result.as_dict()
                    review = review_of(result)
                    item["review"] = {"review_score": float(review.review_score), "comment": review.comment} if review else None
                    items.append(item)
                return f"{stem}.json", json.dumps(items, ensure_ascii=False, indent=2).encode("utf-8")
            if what == "csv":
                import csv

                path = Path(tmp) / "report.csv"
                report.write_csv(self.latest_results(campaign_id), path)
                with open(path, encoding="utf-8-sig", newline="") as fh:
                    table = list(csv.reader(fh))
                unit_col, code_col = table[0].index("unit"), table[0].index("unit_code")
                out = io.StringIO()
                writer = csv.writer(out, lineterminator="\r\n")
                writer.writerow(table[0] + ["review_score", "review_comment"])
                for line in table[1:]:
                    review = reviews.get((line[code_col], line[unit_col]))
                    writer.writerow(line + ([review.review_score, report.safe_text(review.comment)] if review else ["", ""]))
                return f"{stem}.csv", out.getvalue().encode("utf-8-sig")
            if what == "feedback":
                buffer = io.BytesIO()
                names: set[str] = set()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                    for result in self.latest_results(campaign_id, missing=False):
                        name = report.feedback_filename(result.file)
                        while name in names:
                            name = name.replace(".xlsx", "_1.xlsx")
                        names.add(name)
                        path = report.write_feedback(result, tmp, filename="feedback.xlsx")
                        archive.write(path, name)
                return f"{stem}_检查意见.zip", buffer.getvalue()
        raise ServiceError("没有这种下载。可以下载：汇总工作簿、全部检查意见（zip）、JSON、CSV。")

    def counts(self) -> dict[str, int]:
        from xltool.workspace.store import Campaign as C, Return as R

        return {"campaigns": self.store.count(C), "returns": self.store.count(R)}


def choose_sample(pool: list[BoardRow], seed: int, per_grade: int | None = None, share: float | None = None) -> list[BoardRow]:
    """The units drawn for review: `per_grade` of each grade, or a `share` of all; the pool is
    ordered by unit id first, so the same seed over the same units draws the same ones."""
    pool = sorted(pool, key=lambda r: r.unit_id)
    rng = random.Random(seed)
    if per_grade is not None:
        chosen = []
        for grade in sorted({r.grade for r in pool}):
            group = [r for r in pool if r.grade == grade]
            chosen += rng.sample(group, min(per_grade, len(group)))
    else:
        chosen = rng.sample(pool, max(1, round(len(pool) * (share or 0))) if pool else 0)
    return sorted(chosen, key=lambda r: r.unit_id)


def _first(result: Result, attr: str):
    return getattr(result.evaluations[0], attr) if len(result.evaluations) == 1 else None


def _finding_key(f: dict) -> tuple:
    return (f.get("code"), f.get("sheet"), f.get("cell"))


def _declared_kind(result: Result) -> str:
    """The kind (project / department) of the framework a 申报表 names in its check result."""
    from xltool.core.framework import known_frameworks

    found = known_frameworks((result.framework or "").rsplit(" ", 1)[0])
    return found[0].kind if found else ""


# What each of this program's own outputs is, and what to do with it instead of uploading it
_OUTPUTS = {
    "summary": ("本工具写出的检查汇总工作簿", "汇总随时可以在本批次页面的“下载”中重新生成，不用上传。"),
    "feedback": ("本工具写出的检查意见工作簿（发给单位的修改意见）", "请把它发给对应的单位；单位按意见改好后，上传改好的{what}。"),
    "export": ("本工具导出的标准表", "它用于导入预算管理一体化系统，不用上传到这里。"),
    "approval": ("本工具生成的绩效目标批复表",
                 "批复表请在绩效自评批次的“批复表”页上传（或选用申报批次生成的批复表），下载的模板会预填并锁定批复的指标。"),
}


def _our_output(campaign: Campaign, result: Result, data: bytes) -> str:
    """The sentence for a workbook this program wrote (a summary, a feedback workbook, an export,
    a 批复表: check.batch.output_kind) uploaded among the returns; "" for any other file."""
    from xltool.check.batch import not_our_template, output_kind

    if not not_our_template(result):
        return ""
    kind = output_kind(data)
    if kind is None:
        return ""
    what = "绩效目标申报表" if campaign.stage == DECLARATION else "自评表"
    form, todo = _OUTPUTS.get(kind, ("本工具写出的工作簿", "请只上传单位交回的{what}。"))
    return f"它是{form}，不是单位交回的{what}，不计入任何单位。{todo.format(what=what)}"


def _why_set_aside(campaign: Campaign, result: Result) -> str:
    if result.status == "unreadable":
        return "文件无法读取，从文件名也看不出是哪个单位的。请联系交来文件的单位，请其用下发的模板重新填写后交回。"
    who = f"{result.year or '?'} 年度 {result.unit or '（未写单位名称）'}"
    if result.unit_code:
        who += f"（{result.unit_code}）"
    declared = result.kind == DECLARATION
    if declared and campaign.stage != DECLARATION:
        return (f"它是 {who} 的绩效目标申报表，不是自评表，评价批次只收自评表。申报表请交到同一年度的绩效目标申报批次"
                "（新建批次时阶段选“绩效目标申报”），在那里检查并生成批复表；也可以用 xltool check 检查，用 xltool targets 汇成批复表。")
    if not declared and campaign.stage == DECLARATION:
        return (f"它是 {who} 的自评表，不是绩效目标申报表，申报批次只收申报表。自评表请交到同一年度的绩效自评批次"
                "（在首页选择，或新建批次时阶段选“绩效自评”）。")
    what = "绩效目标申报表" if declared else "自评表"
    if result.year and result.year != campaign.year:
        made = "申报表" if declared else "模板"
        return (f"它是 {who} 的{what}，本批次收的是 {campaign.year} 年度的{what}。请核对是否交错了批次：{result.year} 年度的文件请交到 "
                f"{result.year} 年度的批次；若单位误用了其他年度的{made}，请其用本批次下发的 {campaign.year} 年度{made}重新填写后交回。")
    return f"它是 {who} 的{what}，不属于本批次名册中的单位。请核对是否交错了批次，或把这个单位补进名册后重建批次。"


def _climbs(filename: str) -> bool:
    """A name with a ".." part, or an absolute or drive path: no browser sends one for a file a
    user picked (a folder's files come as "文件夹/名称.xlsx")."""
    text = (filename or "").replace("\\", "/")
    return text.startswith("/") or re.match(r"^[A-Za-z]:", text) is not None or ".." in text.split("/")


def _printable(text: str) -> str:
    return re.sub(r"[\x00-\x1f\x7f]", "", text or "")[:200]


def _looks_like_workbook(data: bytes) -> bool:
    return b"xl/workbook.xml" in data[:65536] or b"[Content_Types].xml" in data[:65536]


class _environment:
    """Restores the variables the checker reads (key, roster, approved targets) after a check."""

    NAMES = ("XLTOOL_KEY_FILE", "XLTOOL_ROSTER", "XLTOOL_TARGETS")

    def __enter__(self):
        self.saved = {n: os.environ.get(n) for n in self.NAMES}
        return self

    def __exit__(self, *exc):
        for name, value in self.saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pick_campaign(ws: Workspace, campaign_id: int | None, year: int | None) -> Campaign:
    """The campaign `xltool check --workspace` records into: the one named, else the only one
    (of `year`, when given), else a Chinese error listing them."""
    if campaign_id is not None:
        return ws.campaign(campaign_id)
    found = [c for c in ws.campaigns() if year is None or c.year == year]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ServiceError("工作区中还没有评价批次。请先运行 xltool serve，在页面上用名册新建评价批次。")
    listed = "；".join(f"{c.id}：{c.name}" for c in found)
    raise ServiceError(f"工作区中有多个评价批次，请用 --campaign 指定一个（{listed}）。")


def add_paths(ws: Workspace, campaign_id: int, paths: list[str]) -> list[Outcome]:
    """Files, folders, globs and .zip archives given on the command line, recorded as the page
    records uploads (the same function for each file)."""
    from xltool.check import batch

    inputs = batch.collect(paths)
    outcomes = [Outcome(shown_name(r.file), "refused", r.findings[0].message if r.findings else "无法读取") for r in inputs.problems]
    archives: set[str] = set()
    for source in inputs.sources:
        if source.member:
            if source.path not in archives:
                archives.add(source.path)
                outcomes += ws.add_upload(campaign_id, Path(source.path).name, Path(source.path).read_bytes())
            continue
        try:
            data = Path(source.path).read_bytes()
        except OSError as exc:
            outcomes.append(Outcome(shown_name(source.path), "refused", f"“{shown_name(source.path)}”无法读取：{exc.strerror or exc}。"))
            continue
        outcomes += ws.add_upload(campaign_id, Path(source.path).name, data)
    return outcomes
