"""Command line: thin — parse arguments, call the library, print.

Exit status: 0 every file passed; 1 at least one file failed or could not be read (or the
templates could not be generated); 2 the command was used wrongly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors in Chinese, exit 2
        self.print_usage(sys.stderr)
        sys.stderr.write(f"xltool：命令用法有误：{message}\n运行 xltool {self.prog.split()[-1] if ' ' in self.prog else ''} --help 查看用法。\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xltool", description="预算绩效自评：生成模板、检查回收的工作簿、输出评分汇总。")
    parser.add_argument("--version", action="version", version=f"xltool {_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="{template,check,demo}")

    t = sub.add_parser("template", help="为每个单位生成自评模板", description="按框架和名册为每个单位生成一份自评模板（.xlsx）。")
    t.add_argument("--framework", help="框架名称（project / department）或 YAML 文件路径；用名册时可省略，按名册的“类型”列选择")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--roster", help="名册文件（.csv 或 .xlsx），列说明见 README")
    src.add_argument("--unit", help="单个单位名称（与 --year 一起使用）")
    t.add_argument("--year", type=int, help="评价年度，如 2021（与 --unit 一起使用）")
    t.add_argument("--code", default="", help="单位编码（与 --unit 一起使用，可省略）")
    t.add_argument("--out", required=True, help="输出文件夹")
    t.add_argument("--key", metavar="FILE", help="签名密钥文件（默认用户配置文件夹中的 xltool/key，首次使用时自动生成）；检查时要用同一把密钥")
    t.add_argument("--quiet", action="store_true", help="不显示进度")

    c = sub.add_parser("check", help="检查回收的工作簿并输出汇总", description="检查回收的自评工作簿，重新计算执行率和得分，输出评分汇总。")
    c.add_argument("paths", nargs="+", metavar="PATH", help="文件、文件夹或通配符（如 returned/*.xlsx）")
    c.add_argument("--out", required=True, help="汇总工作簿（.xlsx）的路径")
    c.add_argument("--json", help="同时输出 JSON 报告")
    c.add_argument("--csv", help="同时输出 CSV 报告")
    c.add_argument("--feedback", help="为每个文件生成一份检查意见工作簿，放到这个文件夹")
    c.add_argument("--jobs", type=int, default=1, help="并行进程数（默认 1）")
    c.add_argument("--year", type=int, help="本次检查的评价年度；其他年度的文件判为不通过（YEAR_MISMATCH）")
    c.add_argument("--roster", metavar="FILE", help="名册文件：预填数据以名册为准核对，名册中没有交回文件的单位列为“未交”（MISSING_RETURN）")
    c.add_argument("--key", metavar="FILE", help="生成模板时使用的签名密钥文件（默认用户配置文件夹中的 xltool/key）")
    c.add_argument("--framework", action="append", default=[], metavar="FILE", help="自定义框架的 YAML 文件（可多次给出）；文件中记录的框架只在自带框架和这里给出的框架中按名称和版本查找")
    c.add_argument("--quiet", action="store_true", help="不显示进度和结果表")

    d = sub.add_parser("demo", help="用自带的样例跑一遍完整流程", description="用自带样例生成模板、检查样例工作簿、输出汇总和检查意见。")
    d.add_argument("--out", help="输出文件夹（默认新建 xltool-demo-<时间>）")
    d.add_argument("--quiet", action="store_true")
    return parser


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    # --key, --roster and --framework reach worker processes through these variables; a run
    # leaves them as it found them (main may be called many times in one process).
    saved = {name: os.environ.get(name) for name in _RUN_ENV}
    try:
        if args.command == "template":
            return cmd_template(args, parser)
        if args.command == "check":
            return cmd_check(args, parser)
        if args.command == "demo":
            return cmd_demo(args)
    except KeyboardInterrupt:
        sys.stderr.write("\n已中断。已写出的文件保持完整，未写完的输出不会留下。\n")
        return EXIT_FAILED
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return EXIT_USAGE


_RUN_ENV = ("XLTOOL_KEY_FILE", "XLTOOL_ROSTER", "XLTOOL_FRAMEWORKS")


def _usage(message: str) -> int:
    sys.stderr.write(f"xltool：命令用法有误：{message}\n")
    return EXIT_USAGE


def cmd_template(args, parser) -> int:
    from .framework import FrameworkError, load_framework
    from .model import UnitInfo
    from .roster import RosterError, read_roster
    from .template import generate

    if args.key:
        from .signing import KeyError_, create_key, use_key_file

        try:
            if not os.path.lexists(args.key):  # a new key for a new campaign: made here, kept by finance
                create_key(Path(args.key))
                sys.stderr.write(f"已生成新的签名密钥 {args.key}（只有本人可读）。检查回收的文件时请用 --key 给出同一个文件，并妥善保管，不要发给填报单位。\n")
            use_key_file(args.key)
        except KeyError_ as exc:
            return _usage(str(exc))
        except OSError as exc:
            return _usage(f"无法生成密钥文件 {args.key}：{exc.strerror or exc}")
    try:
        if args.roster:
            units = read_roster(args.roster)
            if args.framework:
                framework = load_framework(args.framework)
                units = [_with_framework(u, args.framework) for u in units if u.kind == framework.kind]
                if not units:
                    sys.stderr.write(f"名册中没有类型为 {framework.kind} 的单位，未生成模板。\n")
                    return EXIT_FAILED
        else:
            if not args.year or not args.framework:
                return _usage("使用 --unit 时必须同时给出 --year 和 --framework。")
            if not 2000 <= args.year <= 2100:
                return _usage(f"年度 {args.year} 无效，请填写如 2021。")
            framework = load_framework(args.framework)
            units = [UnitInfo(args.unit.strip(), args.code.strip(), args.year, framework.kind, framework=args.framework)]
        paths = generate(units, args.out)
    except (RosterError, FrameworkError) as exc:
        sys.stderr.write(f"未生成模板：{exc}\n")
        return EXIT_FAILED
    except OSError as exc:
        sys.stderr.write(f"未生成模板：无法写入输出文件夹 {args.out}：{exc.strerror or exc}\n")
        return EXIT_FAILED
    if not args.quiet:
        for path in paths:
            print(path)
        print(f"已生成 {len(paths)} 份模板，位于 {args.out}")
    return EXIT_OK


def _with_framework(unit, framework: str):
    from dataclasses import replace

    return replace(unit, framework=framework)


def cmd_check(args, parser) -> int:
    from . import batch, report

    if args.jobs < 1 or args.jobs > 64:
        return _usage("--jobs 应为 1 到 64 之间的整数。")
    if args.framework:
        from .framework import FrameworkError, register_frameworks

        try:
            register_frameworks(args.framework)
        except FrameworkError as exc:
            return _usage(str(exc))
    if args.key:
        from .signing import KeyError_, use_key_file

        try:
            use_key_file(args.key)
        except KeyError_ as exc:
            return _usage(str(exc))
    roster = None
    if args.roster:
        from .reader import ROSTER_ENV
        from .roster import RosterError, read_roster

        try:
            roster = read_roster(args.roster)
        except RosterError as exc:
            return _usage(f"名册无法使用：{exc}")
        os.environ[ROSTER_ENV] = str(Path(args.roster).resolve())
    files, missing = batch.expand_paths(args.paths)
    for item in missing:
        sys.stderr.write(f"找不到：{item}\n")
    if not files:
        return _usage("没有找到要检查的文件。")
    outputs = [Path(p) for p in (args.out, args.json, args.csv) if p]
    conflicts = batch.output_conflicts(outputs, files)
    if conflicts:
        return _usage(f"输出文件 {conflicts[0]} 是被检查的文件之一：检查程序不会覆盖任何输入文件，请换一个输出路径。")
    results = batch.check_paths(files, jobs=args.jobs, progress=batch.Progress(not args.quiet))
    if roster is not None:
        results.extend(missing_returns(roster, results))
    if args.year:
        from .checks import apply_expected_year

        for result in results:
            apply_expected_year(result, args.year)
    try:
        report.write_summary(results, args.out)
        if args.json:
            report.write_json(results, args.json)
        if args.csv:
            report.write_csv(results, args.csv)
        if args.feedback:
            write_feedback_files([r for r in results if r.status != "missing"], args.feedback, files)
    except OSError as exc:
        sys.stderr.write(f"无法写出结果：{exc}\n")
        return EXIT_FAILED
    if not args.quiet:
        print_table(results)
        print(f"汇总：{args.out}")
    return EXIT_OK if all(r.status == "passed" for r in results) else EXIT_FAILED


def missing_returns(roster, results) -> list:
    """A result with status `missing` for every roster unit no readable file belongs to."""
    from .messages import finding
    from .model import Result

    def same(unit, result) -> bool:
        if unit.year != result.year or unit.kind != result.kind:
            return False
        if unit.code.strip() and (result.unit_code or "").strip():
            return unit.code.strip() == result.unit_code.strip()
        return unit.name.strip() == (result.unit or "").strip()

    returned = [r for r in results if r.status != "unreadable" and r.status != "missing"]
    out = []
    for unit in roster:
        if not any(same(unit, r) for r in returned):
            kind_text = "，项目支出" if unit.kind == "project" else "，部门整体支出"
            out.append(
                Result(
                    file="", status="missing", kind=unit.kind, unit=unit.name, unit_code=unit.code, year=unit.year,
                    findings=[finding("MISSING_RETURN", unit=unit.name, year=str(unit.year), kind_text=kind_text)],
                )
            )
    return out


def feedback_plan(results, folder, inputs) -> list[tuple[object, Path]]:
    """Each result's feedback path, decided before anything is written: names made unique
    (two returned files may share a name in different folders), and never an input's path."""
    from . import report

    taken = {os.path.realpath(p) for p in inputs}
    planned = []
    for result in results:
        name = report.feedback_filename(result.file)
        path = Path(folder) / name
        n = 1
        while os.path.realpath(path) in taken:
            n += 1
            path = Path(folder) / name.replace("_检查意见.xlsx", f"_检查意见_{n}.xlsx")
        taken.add(os.path.realpath(path))
        planned.append((result, path))
    return planned


def write_feedback_files(results, folder, inputs) -> list[Path]:
    from . import report

    return [report.write_feedback(result, folder, filename=path.name) for result, path in feedback_plan(results, folder, inputs)]


STATUS_TEXT = {"passed": "通过", "failed": "不通过", "unreadable": "无法读取", "missing": "未交"}


def _fmt_rate(rate) -> str:
    return "—" if rate is None else f"{float(rate) * 100:.2f}%"


def _fmt_score(score) -> str:
    return "—" if score is None else f"{float(score):.2f}"


def print_table(results) -> None:
    """A short table a finance officer can read in the terminal."""
    rows = [("文件", "单位", "评价对象", "执行率", "自评", "复核", "等级", "错误", "警告", "状态")]
    for r in results:
        name = Path(r.file).name
        if not r.evaluations:
            rows.append((name, r.unit or "—", "—", "—", "—", "—", "—", str(r.errors), str(r.warnings), STATUS_TEXT.get(r.status, r.status)))
        for e in r.evaluations:
            rows.append(
                (name, r.unit, e.name, _fmt_rate(e.execution_rate), _fmt_score(e.declared_score), _fmt_score(e.score), e.grade or "—", str(r.errors), str(r.warnings), STATUS_TEXT.get(r.status, r.status))
            )
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip())
    passed = sum(r.status == "passed" for r in results)
    failed = sum(r.status == "failed" for r in results)
    unreadable = sum(r.status == "unreadable" for r in results)
    missing = sum(r.status == "missing" for r in results)
    print(f"共 {len(results) - missing} 个文件：通过 {passed}，不通过 {failed}，无法读取 {unreadable}。" + (f"名册中另有 {missing} 个单位未交，请催交。" if missing else ""))


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args.out, quiet=args.quiet)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
