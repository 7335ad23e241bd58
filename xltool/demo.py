"""`xltool demo`: the whole loop on the bundled samples, into a fresh folder.

1. templates for every archive in samples/roster.csv, the approved targets of
   samples/approved_targets.csv pre-filled and locked;
2. a check of the filled sample workbooks (rebuilt from the two seed reports);
3. the graded summary (xlsx, JSON, CSV) and one feedback workbook per checked file;
4. a self-evaluation report draft (.docx) per checked file.
The samples are only read; everything is written under the new folder.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

_SAMPLE_DIRS = (
    Path(__file__).resolve().parent.parent / "samples",
    Path(__file__).resolve().parent / "samples",
)


def samples_dir() -> Path:
    for folder in _SAMPLE_DIRS:
        if (folder / "roster.csv").is_file():
            return folder
    raise FileNotFoundError("找不到自带样例（samples/roster.csv）。请从项目源码目录安装：pip install -e .")


def fresh_folder(out: str | None) -> Path:
    if out:
        folder = Path(out)
        if folder.exists() and any(folder.iterdir()):
            raise FileExistsError(f"输出文件夹 {folder} 已存在且不为空；演示只写入新的或空的文件夹。")
    else:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = Path.cwd() / f"xltool-demo-{stamp}"
        n = 1
        while folder.exists():
            n += 1
            folder = Path.cwd() / f"xltool-demo-{stamp}-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def run_demo(out: str | None = None, quiet: bool = False) -> int:
    import sys

    try:
        samples = samples_dir()
        folder = fresh_folder(out)
    except (FileNotFoundError, FileExistsError) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    say = (lambda *a: None) if quiet else print
    # The samples are signed with the published demonstration key (samples/demo.key): the demo
    # uses it for its own templates and checks too, and leaves the user's key alone.
    from xltool.template.signing import KEY_ENV, use_key_file

    before = os.environ.get(KEY_ENV)
    use_key_file(samples / "demo.key")
    try:
        return _run(samples, folder, quiet, say)
    finally:
        if before is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = before


def _run(samples, folder, quiet, say) -> int:
    from xltool.check import batch
    from xltool import report
    from xltool.template.roster import read_roster
    from xltool.template import generate

    units = read_roster(samples / "roster.csv")
    targets = samples / "approved_targets.csv"
    if targets.is_file():  # the approved targets pre-filled and locked (the yearly cycle)
        from xltool.template.approved import apply_targets, read_targets

        units = apply_targets(units, read_targets(targets, units))
    templates = generate(units, folder / "模板")
    say(f"1. 已按名册生成 {len(templates)} 份模板：{folder / '模板'}")
    if targets.is_file():
        say(f"   批复的绩效目标（{targets.name}）已预填并锁定，单位只填完成情况")
    files, _missing = batch.expand_paths([str(samples / "returned"), str(samples / "variants")])
    results = batch.check_paths(files)
    summary = folder / "汇总.xlsx"
    report.write_summary(results, summary)
    report.write_json(results, folder / "汇总.json")
    report.write_csv(results, folder / "汇总.csv")
    report.write_feedback_files(results, folder / "检查意见", files)
    say(f"2. 已检查 {len(results)} 份样例工作簿（来自 {samples}）：")
    if not quiet:
        report.print_table(results)
    say(f"3. 汇总：{summary}")
    say(f"   JSON：{folder / '汇总.json'}  CSV：{folder / '汇总.csv'}")
    say(f"   检查意见（每个文件一份，发回单位修改）：{folder / '检查意见'}")
    from xltool.report.drafts import write_draft

    drafts = 0
    for result, sub, framework in batch.iter_read(files):
        if sub is not None:
            write_draft(result, sub, framework, folder / "自评报告初稿")
            drafts += 1
    say(f"4. 自评报告初稿（Word，数字按复核结果）{drafts} 份：{folder / '自评报告初稿'}")
    say(f"全部输出位于：{folder}")
    return 0
