"""`xltool targets`: every returned 绩效目标申报表 of a batch read and checked, and — when all are
fine — their indicator rows as the approved-targets file (批复表) that `template --targets` reads.

Above both the batch (which finds and loads the files) and the 申报表 reader, so neither imports
the other."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from xltool.check import batch
from xltool.check.declaration import read_file
from xltool.core.declaration import APPROVED_HEADER, Declaration, approved_rows, form_label, text
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
    read: list[tuple[str, Declaration]] = []  # (file shown, its 申报表) of every file without errors
    years: list[int | None] = []  # of every 申报表 read, with errors or not
    for source in inputs.sources:
        data, problem = batch._load(source, members)
        if problem is not None:
            out.lines.append(f"{source.file}：{problem.findings[0].message}")
            failed.append(source.file)
            continue
        result, decl, _fw = read_file(source.file if source.member else source.path, data, units)
        shown = Path(source.file).name
        if decl is None:
            result = batch.set_aside(source, data, result)  # a 批复表 (or summary) of ours among the returns
            if result.status == "skipped":
                inputs.skipped[batch.SKIP_OUTPUT] += 1
                continue
            out.lines.append(f"{shown}：{result.findings[0].message if result.findings else '无法读取'}")
            failed.append(shown)
            continue
        years.append(decl.year)
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
        out.lines += [f"{shown}（{decl.unit_name}）提示：{f.message}" for f in result.findings if f.severity == "warning"]  # not in the way, but said
        read.append((shown, decl))
    for shown, decl in read:
        wrong = _not_this_run(decl, units, years)
        if wrong:
            out.lines.append(f"{shown}（{decl.unit_name}）{wrong}")
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
            out.lines += str(exc).splitlines()
            out.reason = "申报表与名册不符（见上）。请核对名册，或让单位按说明改正申报表后重新运行。"
    return out


def _not_this_run(decl: Declaration, units: list[UnitInfo] | None, years: list[int | None]) -> str:
    """Why a 申报表 does not belong in this 批复表 (a sentence, after the file and unit, saying what
    to do), or "": with the roster, its unit is not listed (as a unit of its kind), or listed for
    another year; without it, the other 申报表 are of another year (a 批复表 serves one year: the
    year most of the files have, the latest of those tied)."""
    if units is not None:
        from xltool.check.reader import _same_unit
        from xltool.template.roster import KIND_NAMES

        listed = sorted({u.year for u in units if u.kind == decl.kind and _same_unit(u, decl.unit_code, decl.unit_name)})
        if not listed:
            return (f"：名册中没有这个{KIND_NAMES.get(decl.kind, decl.kind)}单位（单位编码 {decl.unit_code}），它的指标无法对应到名册。"
                    f"请核对名册的单位名称、编码和类型，或让单位改用按名册生成的申报表（xltool template --roster 名册 --stage 申报）。")
        if decl.year in listed:
            return ""
        shown = "、".join(str(y) for y in listed)
        return (f"是 {decl.year} 年度的申报表，名册中该单位是 {shown} 年度：不能用来生成本年度的批复表。"
                f"请用本年度的申报表（xltool template --roster 名册 --stage 申报 生成）填报后交回，或核对名册的年度。")
    counts = Counter(years)
    year = max(counts, key=lambda y: (counts[y], y or 0))
    if decl.year == year:
        return ""
    return (f"是 {decl.year} 年度的申报表，其他申报表是 {year} 年度：一份批复表只对应一个年度。"
            f"请去掉往年的申报表，或按年度分别运行 xltool targets。")
