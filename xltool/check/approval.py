"""`xltool targets`: every returned 绩效目标申报表 of a batch read and checked, and — when all are
fine — their indicator rows as the approved-targets file (批复表) that `template --targets` reads.

Above both the batch (which finds and loads the files) and the 申报表 reader, so neither imports
the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xltool.check import batch
from xltool.check.declaration import read_file
from xltool.core.declaration import APPROVED_HEADER, approved_rows, form_label, text
from xltool.core.model import UnitInfo


@dataclass
class TargetsOutcome:
    ok: bool
    reason: str = ""  # why nothing is written (Chinese), when not ok
    lines: list[str] = field(default_factory=list)  # what to say per file, in order
    rows: list[list] = field(default_factory=list)  # core.declaration.APPROVED_HEADER rows
    files: int = 0
    blocks: int = 0


def targets_from(inputs, units: list[UnitInfo] | None = None) -> TargetsOutcome:
    """Read and check every 申报表 of `inputs` (check.batch.collect); the approved rows when all
    are fine. Any unreadable file, non-申报表, error finding, unit or project declared twice, or
    (with the roster's `units`) a row the roster's checks refuse makes the outcome not ok, with a
    line saying what to fix in which file."""
    out = TargetsOutcome(ok=True)
    failed: list[str] = []
    for problem in inputs.problems:
        out.lines.append(problem.findings[0].message)
        failed.append(problem.file)
    members = batch._Members()
    owners: dict[tuple[str, str], str] = {}
    for source in inputs.sources:
        data, problem = batch._load(source, members)
        if problem is not None:
            out.lines.append(f"{source.file}：{problem.findings[0].message}")
            failed.append(source.file)
            continue
        result, decl, _fw = read_file(source.file if source.member else source.path, data, units)
        shown = Path(source.file).name
        if decl is None:
            out.lines.append(f"{shown}：{result.findings[0].message if result.findings else '无法读取'}")
            failed.append(shown)
            continue
        errors = [f for f in result.findings if f.severity == "error"]
        if errors:
            out.lines.append(f"{shown}（{decl.unit_name}）有 {len(errors)} 个错误，请改正后重新交回：")
            out.lines += [f"  · {f.sheet + ' ' if f.sheet else ''}{f.cell + '：' if f.cell else ''}{f.message}" for f in errors[:20]]
            if len(errors) > 20:
                out.lines.append(f"  · ……另有 {len(errors) - 20} 个错误，完整列表请用 xltool check 查看。")
            failed.append(shown)
            continue
        if not decl.unit_code.strip():
            out.lines.append(f"{shown}（{decl.unit_name}）没有单位编码：批复表按单位编码对应名册。请用名册（或 --unit 加 --code）重新生成申报表，让单位把内容转填后交回。")
            failed.append(shown)
            continue
        out.files += 1
        for form in decl.forms:
            if form.empty:
                continue
            names = [text(form.value("name"))] if decl.kind == "project" else [text(g.name) for g in form.goals if g.filled]
            for name in names:
                key = (decl.unit_code, name)
                if key in owners:
                    out.lines.append(f"{shown}：{decl.unit_name}的“{name}”在 {owners[key]} 中已经申报过（{form_label(decl, form)}），同一项目或年度目标只能申报一次，请删去重复的一份。")
                    failed.append(shown)
                owners[key] = shown
                out.blocks += 1
        out.rows += approved_rows(decl)
    if failed:
        out.ok = False
        shown = "、".join(dict.fromkeys(failed))
        out.reason = f"{len(dict.fromkeys(failed))} 份文件需要处理（{shown}）。请按上面的说明改正后重新运行 xltool targets；全部通过后才写出批复表。"
        return out
    if not out.rows:
        out.ok = False
        out.reason = "没有读到任何指标。请确认给出的是填好的绩效目标申报表。"
        return out
    if units is not None:
        from xltool.template.approved import COLUMNS, build_blocks
        from xltool.template.roster import RosterError, _Row

        keys = {chinese: key for key, (chinese, _req) in COLUMNS.items()}
        rows = [_Row(i + 2, {keys[h]: str(v) for h, v in zip(APPROVED_HEADER, row)}) for i, row in enumerate(out.rows)]
        try:
            build_blocks(rows, units, "申报表汇总的批复表")
        except RosterError as exc:
            out.ok = False
            out.lines.append(str(exc))
            out.reason = "申报表与名册不符（见上）。请核对名册，或让单位按说明改正申报表后重新运行。"
    return out
