"""Command line: thin — parse arguments, call the library, print.

Exit status: 0 every file passed; 1 at least one file failed or could not be read (or the
templates could not be generated); 2 the command was used wrongly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from xltool.core.messages import explain

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


# argparse's own words, in Chinese (no gettext catalogue is needed: the few sentences argparse
# can say are matched here). A message no pattern matches is still shown, inside a Chinese one.
_ARGPARSE_ERRORS = [
    (r"the following arguments are required: (.+)", "缺少必需的参数：{0}。"),
    (r"one of the arguments (.+) is required", "以下参数必须给出其中一个：{0}。"),
    (r"argument (.+?): invalid int value: '(.*)'", "参数 {0} 应为整数，实际给出的是“{1}”。"),
    (r"argument (.+?): invalid float value: '(.*)'", "参数 {0} 应为数字，实际给出的是“{1}”。"),
    (r"argument (.+?): invalid (\S+) value: '(.*)'", "参数 {0} 的值“{2}”无效。"),
    (r"argument (.+?): invalid choice: '(.*)' \(choose from (.*)\)", "“{1}”不是可用的{0}，可选：{2}。"),
    (r"argument (.+?): expected one argument", "参数 {0} 后面需要跟一个值。"),
    (r"argument (.+?): expected at least one argument", "参数 {0} 后面至少需要跟一个值。"),
    (r"argument (.+?): expected (\S+) arguments?", "参数 {0} 后面需要跟 {1} 个值。"),
    (r"argument (.+?): not allowed with argument (.+)", "参数 {0} 不能与 {1} 同时使用。"),
    (r"argument (.+?): ignored explicit argument '(.*)'", "参数 {0} 不接受值“{1}”。"),
    (r"unrecognized arguments: (.+)", "无法识别的参数：{0}。"),
    (r"ambiguous option: (\S+) could match (.+)", "参数 {0} 不完整，可能是：{1}。"),
]
# Placeholders shown in usage lines for options without their own metavar.
_METAVARS = {
    "framework": "框架", "roster": "名册文件", "unit": "单位名称", "year": "年度", "code": "单位编码",
    "out": "输出路径", "json": "JSON文件", "csv": "CSV文件", "feedback": "文件夹", "jobs": "进程数",
    "key": "密钥文件", "paths": "路径",
}


def translate_argparse(message: str) -> str:
    """argparse's English error → a Chinese sentence ("argument --jobs: invalid int value: 'x'" →
    "参数 --jobs 应为整数，实际给出的是“x”。")."""
    import re

    message = re.sub(r"^argument (?:command|\{[^}]*\}):", "argument 命令:", message.strip())
    for pattern, chinese in _ARGPARSE_ERRORS:
        found = re.fullmatch(pattern, message.strip(), flags=re.S)
        if found:
            return chinese.format(*(g.replace("'", "") for g in found.groups()))
    return f"命令行参数有误（{message}）。"


def _width(text: str) -> int:
    """Terminal columns: a Chinese character takes two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class _Formatter(argparse.HelpFormatter):
    """Help and usage in Chinese: "用法：", and Chinese placeholders for option values."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)

    def _format_action(self, action):
        # argparse pads with len(); a Chinese placeholder is two columns wide per character
        text = super()._format_action(action)
        invocation = self._format_action_invocation(action)
        extra = _width(invocation) - len(invocation)
        head, sep, rest = text.partition(invocation)
        if extra > 0 and sep and not head.strip():
            spaces = len(rest) - len(rest.lstrip(" "))
            if rest.strip() and spaces > 2:
                rest = rest[min(extra, spaces - 2) :]
        return head + sep + rest

    def _get_default_metavar_for_optional(self, action):
        return _METAVARS.get(action.dest, "值")

    def _get_default_metavar_for_positional(self, action):
        return _METAVARS.get(action.dest, "参数")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, add_help=True, formatter_class=_Formatter, **kwargs):
        super().__init__(*args, add_help=False, formatter_class=formatter_class, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示本帮助并退出")

    def error(self, message):  # usage errors in Chinese, exit 2
        self.print_usage(sys.stderr)
        command = self.prog.split()[-1] if " " in self.prog else ""
        help_hint = f"xltool {command} --help" if command else "xltool --help"
        sys.stderr.write(f"xltool：命令用法有误：{translate_argparse(message)}\n运行 {help_hint} 查看用法。\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xltool", description="预算绩效自评：生成模板、检查回收的工作簿、输出评分汇总。")
    parser.add_argument("--version", action="version", version=f"xltool {_version()}", help="显示版本号并退出")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, title="命令", metavar="{template,check,targets,report,serve,demo}")

    t = sub.add_parser("template", help="为每个单位生成自评模板", description="按框架和名册为每个单位生成一份自评模板（.xlsx）。")
    t.add_argument("--framework", help="框架名称（project / department）或 YAML 文件路径；用名册时可省略，按名册的“类型”列选择")
    src = t.add_mutually_exclusive_group(required=True)
    src.add_argument("--roster", help="名册文件（.csv 或 .xlsx），列说明见 README")
    src.add_argument("--unit", help="单个单位名称（与 --year 一起使用）")
    t.add_argument("--year", type=int, help="评价年度，如 2021（与 --unit 一起使用）")
    t.add_argument("--code", default="", help="单位编码（与 --unit 一起使用，可省略）")
    t.add_argument("--targets", metavar="批复表", help="绩效目标批复表（.csv 或 .xlsx，与 --roster 一起使用）：批复的指标预填到模板并锁定，列说明见 README")
    t.add_argument("--stage", choices=("自评", "申报"), default="自评", metavar="阶段", help="自评（默认）：绩效自评表；申报：绩效目标申报表（每个项目一张，部门整体类型为单位一张），回收后用 xltool check 检查、xltool targets 生成批复表")
    t.add_argument("-o", "--out", required=True, help="输出文件夹")
    t.add_argument("--key", metavar="密钥文件", help="签名密钥文件（默认使用本机用户配置文件夹中的密钥，首次使用时自动生成）；检查时要用同一把密钥")
    t.add_argument("-q", "--quiet", action="store_true", help="不显示进度")

    c = sub.add_parser("check", help="检查回收的工作簿并输出汇总", description="检查回收的自评工作簿，重新计算执行率和得分，输出评分汇总。")
    c.add_argument("paths", nargs="+", metavar="路径", help="文件、文件夹或通配符（如 returned/*.xlsx）")
    c.add_argument("-o", "--out", help="汇总工作簿（.xlsx）的路径（用 --workspace 时可省略）")
    c.add_argument("--json", help="同时输出 JSON 报告")
    c.add_argument("--csv", help="同时输出 CSV 报告")
    c.add_argument("--feedback", help="为每个文件生成一份检查意见工作簿，放到这个文件夹")
    c.add_argument("--export", metavar="文件夹", help="导出标准数据表 PM_PERF_SELF_BGT（项目）和 PM_SELF_EVAL_INDICATOR（指标）到这个文件夹，各一份 .xlsx 和 .csv，供导入预算管理一体化系统")
    c.add_argument("-j", "--jobs", type=int, default=None, help="并行进程数（默认为本机处理器核数，不超过文件数）")
    c.add_argument("--year", type=int, help="本次检查的评价年度；其他年度的文件判为不通过（YEAR_MISMATCH）")
    c.add_argument("--roster", metavar="名册文件", help="名册文件：预填数据以名册为准核对，名册中没有交回文件的单位列为“未交”（MISSING_RETURN）")
    c.add_argument("--targets", metavar="批复表", help="绩效目标批复表（与 --roster 一起使用）：锁定的指标再与批复表逐格核对（不符为 TARGET_CHANGED）")
    c.add_argument("--key", metavar="密钥文件", help="生成模板时使用的签名密钥文件（默认使用本机用户配置文件夹中的密钥）")
    c.add_argument("--framework", action="append", default=[], metavar="框架文件", help="自定义框架的 YAML 文件（可多次给出）；文件中记录的框架只在自带框架和这里给出的框架中按名称和版本查找")
    c.add_argument("--reports", metavar="文件夹", help="同时为每个能读取的文件写一份自评报告初稿（.docx），放到这个文件夹（同 xltool report）")
    c.add_argument("--pdf", action="store_true", help="与 --reports 一起使用：初稿再用 LibreOffice 转一份 PDF")
    c.add_argument("-q", "--quiet", action="store_true", help="不显示进度和结果表")
    c.add_argument("-a", "--all", action="store_true", help="结果表也列出通过的文件（默认只列出需要处理的）")
    c.add_argument("--workspace", metavar="文件夹", help="把检查结果记入这个工作区（与 xltool serve 的页面是同一个库）")
    c.add_argument("--db", metavar="数据库地址", help="工作区的数据库（默认是工作区文件夹中的 SQLite 文件），如 postgresql://用户@主机/库名")
    c.add_argument("--campaign", type=int, metavar="批次编号", help="记入哪个评价批次（工作区中只有一个批次时可省略）")
    parser.check_parser = c  # --out is required unless --workspace is given: said in its words

    g = sub.add_parser(
        "targets", help="把检查通过的绩效目标申报表汇成批复表",
        description="读取回收的绩效目标申报表（xltool template --stage 申报 生成），逐份检查；全部没有错误时，写出绩效目标批复表（.xlsx），供 xltool template --targets 和 xltool check --targets 使用。",
    )
    g.add_argument("paths", nargs="+", metavar="路径", help="申报表文件、文件夹、通配符或 .zip 压缩包")
    g.add_argument("-o", "--out", required=True, metavar="批复表", help="写出的批复表（.xlsx）")
    g.add_argument("--roster", metavar="名册文件", help="名册文件：批复表先按名册核对（单位编码、项目名称、分值），与生成自评模板时一致")
    g.add_argument("--key", metavar="密钥文件", help="生成申报表时使用的签名密钥文件（同 check）")
    g.add_argument("--framework", action="append", default=[], metavar="框架文件", help="自定义框架的 YAML 文件（可多次给出，同 check）")
    g.add_argument("-q", "--quiet", action="store_true", help="只在出错时输出")

    r = sub.add_parser(
        "report", help="按检查复核的结果写自评报告初稿（Word）",
        description="检查回收的自评工作簿，按复核的数字和单位填写的文字，为每个文件写一份自评报告初稿（.docx），结构同《整体绩效自评结果（摘要版）》或《项目支出绩效自评报告》。",
    )
    r.add_argument("paths", nargs="+", metavar="路径", help="文件、文件夹、通配符或 .zip 压缩包")
    r.add_argument("-o", "--out", required=True, metavar="文件夹", help="初稿放到这个文件夹（不存在时新建）")
    r.add_argument("--pdf", action="store_true", help="初稿再用 LibreOffice（无界面）转一份 PDF")
    r.add_argument("--key", metavar="密钥文件", help="生成模板时使用的签名密钥文件（同 check）")
    r.add_argument("--framework", action="append", default=[], metavar="框架文件", help="自定义框架的 YAML 文件（可多次给出，同 check）")
    r.add_argument("-q", "--quiet", action="store_true", help="不列出写出的文件")

    s = sub.add_parser("serve", help="打开工作区页面（新建批次、回收、看板、抽查复核）", description="在本机启动工作区网页：新建评价批次、下载模板、回收文件、单位看板、抽查复核、历年对比和下载。")
    s.add_argument("--dir", default="工作区", metavar="文件夹", help="工作区文件夹（默认：当前目录下的“工作区”，不存在时新建）")
    s.add_argument("--db", metavar="数据库地址", help="数据库地址（默认是工作区文件夹中的 SQLite 文件），如 postgresql://用户@主机/库名")
    s.add_argument("--host", default="127.0.0.1", metavar="地址", help="监听地址（默认 127.0.0.1，只有本机能打开）；其他地址需要密码，首次启动时生成并显示一次")
    s.add_argument("--port", type=int, default=8765, metavar="端口", help="端口（默认 8765）")
    s.add_argument("--no-browser", action="store_true", help="不自动打开浏览器")
    s.add_argument("--reset-password", action="store_true", help="重新生成登录密码（显示一次）")

    d = sub.add_parser("demo", help="用自带的样例跑一遍完整流程", description="用自带样例生成模板、检查样例工作簿、输出汇总、检查意见和自评报告初稿。")
    d.add_argument("-o", "--out", help="输出文件夹（默认新建 xltool-demo-<时间>）")
    d.add_argument("-q", "--quiet", action="store_true", help="不显示进度")
    return parser


def _version() -> str:
    from xltool import __version__

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
            if args.workspace:
                return cmd_check_workspace(args)
            if not args.out:
                parser.check_parser.error("the following arguments are required: --out")
            return cmd_check(args, parser)
        if args.command == "targets":
            return cmd_targets(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "serve":
            return cmd_serve(args)
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


def _safe(text) -> str:
    """Text from a file name or a file, safe to print (see report.terminal.printable)."""
    from xltool.report.terminal import printable

    return printable(text)


def _usage(message: str) -> int:
    sys.stderr.write(f"xltool：命令用法有误：{message}\n")
    return EXIT_USAGE


def cmd_template(args, parser) -> int:
    from xltool.core.framework import FrameworkError, load_framework
    from xltool.core.model import UnitInfo
    from xltool.template.roster import KIND_NAMES, RosterError, read_roster
    from xltool.template import generate as generate_self_evaluations

    if args.key:
        from xltool.template.signing import KeyError_, create_key, use_key_file

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
            notes: list[str] = []
            units = read_roster(args.roster, notes)
            if args.targets:
                from xltool.template.approved import apply_targets, read_targets

                units = apply_targets(units, read_targets(args.targets, units, notes))
            for note in notes:
                sys.stderr.write(f"提示：{note}\n")
            if args.framework:
                framework = load_framework(args.framework)
                units = [_with_framework(u, args.framework) for u in units if u.kind == framework.kind]
                if not units:
                    kind = KIND_NAMES.get(framework.kind, framework.kind)
                    sys.stderr.write(f"名册中没有类型为“{kind}”的单位，未生成模板。请检查名册的“类型”列，或换用 --framework。\n")
                    return EXIT_FAILED
        else:
            if args.targets:
                return _usage("--targets 需与 --roster 一起使用：批复表按名册的单位编码和项目名称对应。")
            if not args.year or not args.framework:
                return _usage("使用 --unit 时必须同时给出 --year 和 --framework。")
            if not 2000 <= args.year <= 2100:
                return _usage(f"年度 {args.year} 无效，请填写如 2021。")
            framework = load_framework(args.framework)
            from xltool.template.celltext import xml_safe

            units = [UnitInfo(xml_safe(args.unit).strip(), xml_safe(args.code).strip(), args.year, framework.kind, framework=args.framework)]
        from xltool.report.terminal import Progress

        if args.stage == "申报":
            if args.targets:
                return _usage("--targets 用于自评模板；生成绩效目标申报表（--stage 申报）时不能同时给出。")
            from xltool.template.declaration import generate_declarations as generate
        else:
            generate = generate_self_evaluations
        progress = Progress(not args.quiet, "生成模板")
        try:
            paths = generate(units, args.out, progress=progress)
        finally:
            progress.close()
    except (RosterError, FrameworkError) as exc:
        sys.stderr.write(f"未生成模板：{exc}\n")
        return EXIT_FAILED
    except OSError as exc:
        sys.stderr.write(f"未生成模板：无法写入输出文件夹 {args.out}：{explain(exc)}。\n")
        return EXIT_FAILED
    if not args.quiet:
        for path in paths:
            print(path)
        print(f"已生成 {len(paths)} 份{'绩效目标申报表' if args.stage == '申报' else '模板'}，位于 {args.out}")
    return EXIT_OK


def _with_framework(unit, framework: str):
    from dataclasses import replace

    return replace(unit, framework=framework)


def cmd_check(args, parser) -> int:
    from contextlib import closing

    from xltool.check import batch
    from xltool.check.rules import apply_expected_year
    from xltool.core.model import Brief
    from xltool import report

    if args.jobs is not None and not 1 <= args.jobs <= 64:
        return _usage("--jobs 应为 1 到 64 之间的整数。")
    problem = _output_problem(args) or _setup(args)
    if problem:
        return _usage(problem)
    roster = None
    if args.targets and not args.roster:
        return _usage("--targets 需与 --roster 一起使用：批复表按名册的单位编码和项目名称对应。")
    if args.roster:
        from xltool.check.reader import ROSTER_ENV, TARGETS_ENV
        from xltool.template.roster import RosterError, read_roster

        try:
            roster = read_roster(args.roster)
            if args.targets:
                from xltool.template.approved import read_targets

                read_targets(args.targets, roster)  # every error of it now, not once per file
        except RosterError as exc:
            return _usage(f"{'批复表' if args.targets and roster is not None else '名册'}无法使用：{exc}")
        os.environ[ROSTER_ENV] = str(Path(args.roster).resolve())
        if args.targets:
            os.environ[TARGETS_ENV] = str(Path(args.targets).resolve())
    named_outputs = [p for p in (args.out, args.json, args.csv) if p and not report.is_direct(p)]
    if args.export:
        named_outputs += [str(p) for p in report.export_paths(args.export)]
    inputs = batch.collect(args.paths, exclude=named_outputs)
    overwritten = batch.returns_at_outputs(inputs)  # reads each passed-over file: once
    if overwritten:
        return _usage(_output_is_a_return(overwritten[0]))
    for result in inputs.problems:
        sys.stderr.write(f"{_safe(result.findings[0].message)}\n")
    for folder in inputs.empty_folders:
        sys.stderr.write(f"文件夹“{_safe(folder)}”中没有找到可检查的工作簿（.xlsx 等或 .zip）。请确认回收的文件放在这个文件夹里。\n")
    if not inputs.sources and all(r.status == "missing" for r in inputs.problems):
        _say_skipped(inputs.skipped)
        return _usage("没有找到要检查的文件。请核对命令中的路径，或给出回收的工作簿所在的文件夹。")
    on_disk = [Path(s.path) for s in inputs.sources]
    conflicts = batch.output_conflicts([Path(p) for p in named_outputs], on_disk)
    if conflicts:
        return _usage(f"输出文件 {_safe(str(conflicts[0]))} 是被检查的文件之一：检查程序不会覆盖任何输入文件，请换一个输出路径。")
    feedback = report.feedback_plan(inputs.sources, args.feedback, on_disk) if args.feedback else []
    taken = {os.path.realpath(p): p for p in named_outputs}
    for _source, path in feedback:
        if os.path.realpath(path) in taken:
            return _usage(
                f"检查意见文件 {_safe(str(path))} 与输出 {_safe(taken[os.path.realpath(path)])} 是同一个文件。请把 --feedback 换到另一个文件夹，或给汇总换一个文件名。"
            )
    jobs = args.jobs or batch.default_jobs(len(inputs.sources))
    # Each result is written to a spool on disk as it arrives and only a Brief of it is kept:
    # the main process's memory does not grow with the number of files. The outputs then read
    # the spool, one result at a time.
    briefs: list[Brief] = []
    feedback_at: dict[int, Path] = {}  # position in the spool → feedback workbook
    with _stop_on_sigterm(), report.Spool() as spool:

        def keep(result, feedback_path=None) -> None:
            if args.year:
                apply_expected_year(result, args.year)
            if feedback_path is not None:
                feedback_at[len(spool)] = feedback_path
            spool.add(result)
            briefs.append(Brief.of(result))

        for result in inputs.problems:
            keep(result)
        cross = batch.CrossFile()
        progress = report.Progress(not args.quiet, "检查中")
        checked = batch.iter_checked(inputs.sources, jobs=jobs, progress=progress)
        with closing(checked):
            for i, result in enumerate(checked):
                if result.status == "skipped":
                    inputs.skipped[batch.SKIP_OUTPUT] += 1
                    continue
                cross.add(result)
                keep(result, feedback[i][1] if feedback else None)
        progress.close()
        _say_skipped(inputs.skipped)
        if roster is not None:
            for result in batch.missing_returns(roster, briefs):
                keep(result)
        failed = _write_outputs(spool, args, feedback_at)
    if failed:
        return EXIT_FAILED
    if args.reports and _write_drafts(inputs.sources, args.reports, args.pdf, quiet=args.quiet):
        failed = True
    to_stdout = any(p and report.is_direct(p) and p in ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1") for p in (args.json, args.csv))
    if not args.quiet:
        stream = sys.stderr if to_stdout else sys.stdout
        report.print_table(briefs, file=stream, show_passed=args.all)
        print(f"汇总：{_safe(args.out)}", file=stream)
    return EXIT_OK if not failed and briefs and all(r.status == "passed" for r in briefs) else EXIT_FAILED


def _output_is_a_return(path: str) -> str:
    return (f"输出会写到要读取的文件 {_safe(path)} 上（输出路径就是它，或是指向它的链接），而它不是本程序写出的文件："
            "不会覆盖任何输入文件，也不会跳过不读。请换一个输出路径（如放到另一个文件夹）。")


def _setup(args) -> str:
    """Register --framework files and use --key; why they cannot be used, or ""."""
    if args.framework:
        from xltool.core.framework import FrameworkError, register_frameworks

        try:
            register_frameworks(args.framework)
        except FrameworkError as exc:
            return str(exc)
    if args.key:
        from xltool.template.signing import KeyError_, use_key_file

        try:
            use_key_file(args.key)
        except KeyError_ as exc:
            return str(exc)
    return ""


def cmd_targets(args) -> int:
    """`xltool targets PATH... --out 批复表.xlsx`: the checked 申报表 → the approved-targets file.
    Written only when every 申报表 could be read and has no error (and, with --roster, the rows
    pass the roster's checks); otherwise the files to fix are listed and nothing is written."""
    from xltool.check import batch
    from xltool.check.approval import targets_from

    out = args.out
    if not out.lower().endswith(".xlsx") or out == "-" or os.path.isdir(out):
        return _usage(f"--out {_safe(out)} 必须是以 .xlsx 结尾的文件路径，如 批复表.xlsx。")
    problem = _setup(args)
    if problem:
        return _usage(problem)
    units = None
    if args.roster:
        from xltool.template.roster import RosterError, read_roster

        try:
            units = read_roster(args.roster)
        except RosterError as exc:
            return _usage(f"名册无法使用：{exc}")
    inputs = batch.collect(args.paths, exclude=[out])
    overwritten = batch.returns_at_outputs(inputs)  # reads each passed-over file: once
    if overwritten:
        return _usage(_output_is_a_return(overwritten[0]))
    if not inputs.sources and not inputs.problems:
        _say_skipped(inputs.skipped)
        return _usage("没有找到申报表。请核对命令中的路径，或给出回收的申报表所在的文件夹。")
    if batch.output_conflicts([Path(out)], [Path(s.path) for s in inputs.sources]):
        return _usage(f"输出文件 {_safe(out)} 是被读取的文件之一：不会覆盖任何输入文件，请换一个输出路径。")
    outcome = targets_from(inputs, units)
    _say_skipped(inputs.skipped)
    for line in outcome.lines:
        sys.stderr.write(_safe(line) + "\n")
    if not outcome.ok:
        sys.stderr.write(f"未写出批复表 {_safe(out)}：{outcome.reason}\n")
        return EXIT_FAILED
    from xltool.template.declaration import write_approved

    try:
        write_approved(outcome.rows, out)
    except OSError as exc:
        sys.stderr.write(f"无法写出批复表 {_safe(out)}：{_os_reason(exc)}。\n")
        return EXIT_FAILED
    if not args.quiet:
        print(f"已写出批复表 {_safe(out)}：{outcome.files} 份申报表，{outcome.blocks} 个项目或年度目标，{len(outcome.rows)} 个指标。"
              f"生成自评模板：xltool template --roster 名册 --targets {_safe(out)} --out 文件夹")
    return EXIT_OK


def cmd_report(args) -> int:
    from xltool.check import batch

    if os.path.exists(args.out) and not os.path.isdir(args.out):
        return _usage(f"--out {_safe(args.out)} 应是一个文件夹（不存在时会新建）。请换一个文件夹路径。")
    problem = _setup(args)
    if problem:
        return _usage(problem)
    inputs = batch.collect(args.paths)
    for result in inputs.problems:
        sys.stderr.write(f"{_safe(result.findings[0].message)}\n")
    _say_skipped(inputs.skipped)
    if not inputs.sources:
        return _usage("没有找到可读取的工作簿。请核对命令中的路径，或给出回收的工作簿所在的文件夹。")
    failures = _write_drafts(inputs.sources, args.out, args.pdf, quiet=args.quiet)
    return EXIT_FAILED if failures or inputs.problems else EXIT_OK


def _write_drafts(sources, folder: str, pdf: bool, quiet: bool) -> int:
    """A report draft per readable source into folder (and its PDF with --pdf); each file that
    gets no draft or no PDF is said on stderr and counted, the others are still written."""
    from xltool.check import batch
    from xltool.report import drafts
    from xltool.report import pdf as pdf_tool

    written, failures, used = [], 0, set()
    for result, sub, framework in batch.iter_read(sources):
        shown = _safe(Path(result.file).name)
        if result.kind == "declaration":  # a 绩效目标申报表: nothing to report on yet
            sys.stderr.write(f"未写初稿：{shown} 是绩效目标申报表，自评报告初稿只为自评表编写。\n")
            continue
        if sub is None or framework is None:
            why = result.findings[0].message if result.findings else "无法读取"
            sys.stderr.write(f"未写初稿：{shown} 无法读取（{_safe(why)}）。\n")
            failures += 1
            continue
        name = drafts.draft_filename(result.file)
        stem, n = name[: -len(".docx")], 2
        while name in used:  # two returns with the same name in different folders
            name, n = f"{stem}（{n}）.docx", n + 1
        used.add(name)
        try:
            path = drafts.write_draft(result, sub, framework, folder, filename=name)
        except drafts.ReportTemplateError as exc:
            sys.stderr.write(f"未写初稿：{shown}：{exc}\n")
            failures += 1
            continue
        except OSError as exc:
            sys.stderr.write(f"未写初稿：无法写入 {_safe(os.path.join(folder, name))}：{_os_reason(exc)}。\n")
            failures += 1
            continue
        written.append(path)
        if not quiet:
            print(f"初稿：{_safe(str(path))}")
    if pdf and written:
        if pdf_tool.soffice() is None:
            sys.stderr.write(pdf_tool.INSTALL_HINT + "\n")
            return failures + len(written)
        for converted in pdf_tool.to_pdf(written):
            if converted.pdf is None:
                sys.stderr.write(f"未生成 PDF：{_safe(converted.error)}\n")
                failures += 1
            elif not quiet:
                print(f"PDF：{_safe(str(converted.pdf))}")
    return failures


_OUTPUT_LABELS = {"out": "汇总工作簿", "json": "JSON 报告", "csv": "CSV 报告"}


def _output_problem(args) -> str:
    """Why the outputs asked for cannot be written as asked, or ""."""
    from xltool import report

    if not args.out.lower().endswith(".xlsx") or report.is_direct(args.out):
        return f"汇总文件 --out {_safe(args.out)} 必须是以 .xlsx 结尾的文件路径，如 汇总.xlsx；JSON、CSV 报告请用 --json、--csv 输出。"
    named = [(key, getattr(args, key)) for key in ("out", "json", "csv") if getattr(args, key)]
    stdout = [key for key, p in named if p in ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")]
    if len(stdout) > 1:
        return "--json 和 --csv 不能同时写到标准输出（-）。请把其中一个写到文件。"
    seen: dict[str, str] = {}
    for key, p in named:
        if report.is_direct(p):
            continue
        real = os.path.realpath(p)
        if real in seen:
            return f"--{seen[real]} 和 --{key} 是同一个文件 {_safe(p)}，后写的会覆盖先写的。请给两个输出不同的文件名。"
        seen[real] = key
        if os.path.isdir(p):
            return f"输出路径 --{key} {_safe(p)} 是一个文件夹。请给出文件路径，如 {_safe(os.path.join(p, '汇总.xlsx' if key == 'out' else '报告.' + key))}。"
        if report.is_block_device(p):
            return f"输出路径 --{key} {_safe(p)} 是磁盘设备，不会写入。请给出普通文件路径。"
    if args.pdf and not args.reports:
        return "--pdf 要与 --reports 文件夹一起使用（PDF 是自评报告初稿的另一份）。"
    if args.reports and (args.reports == "-" or (os.path.exists(args.reports) and not os.path.isdir(args.reports))):
        return f"--reports {_safe(args.reports)} 应是一个文件夹（不存在时会新建）。请换一个文件夹路径。"
    if args.export and (args.export == "-" or (os.path.exists(args.export) and not os.path.isdir(args.export))):
        return f"--export {_safe(args.export)} 应是一个文件夹（不存在时会新建），导出的数据表写在里面。请换一个文件夹路径。"
    if args.feedback and (args.feedback == "-" or (os.path.exists(args.feedback) and not os.path.isdir(args.feedback))):
        return f"--feedback {_safe(args.feedback)} 应是一个文件夹（不存在时会新建）。请换一个文件夹路径。"
    return ""


def _write_outputs(results, args, feedback_at) -> bool:
    """Write every output to a temporary file, then put them all in place: if one cannot be
    written, none is replaced (no new summary beside a stale JSON report). `results` is read
    once per output (a Spool); `feedback_at` maps a result's position to its feedback workbook.
    True if it failed."""
    from xltool import report

    label, target = "", ""
    try:
        with report.staged():
            label, target = _OUTPUT_LABELS["out"], args.out
            report.write_summary(results, args.out)
            if args.json:
                label, target = _OUTPUT_LABELS["json"], args.json
                report.write_json(results, args.json)
            if args.csv:
                label, target = _OUTPUT_LABELS["csv"], args.csv
                report.write_csv(results, args.csv)
            if args.export:
                label, target = "标准数据表", args.export
                report.write_export(results, args.export)
            if feedback_at:
                for i, result in enumerate(results):
                    path = feedback_at.get(i)
                    if path is not None:
                        label, target = "检查意见", str(path)
                        report.write_feedback(result, path.parent, filename=path.name)
            label, target = "", ""
    except report.OutputError as exc:
        sys.stderr.write(
            f"无法写出 {_safe(exc.target)}：{_os_reason(exc.cause)}。在它之前的输出已经写好，之后的没有写出；请处理后重新运行检查。\n"
        )
        return True
    except OSError as exc:
        sys.stderr.write(
            f"无法写出{label} {_safe(target)}：{_os_reason(exc)}。本次所有输出都没有写出，原有的输出文件保持不变；请处理后重新运行检查。\n"
        )
        return True
    return False


def _os_reason(exc: OSError) -> str:
    """Why an output could not be written, as a Chinese phrase with what to do."""
    reason = explain(exc, writing=True)
    return reason if "请" in reason or "已经退出" in reason else reason + "，请检查输出位置"


def _say_skipped(skipped) -> None:
    if not skipped:
        return
    total = sum(skipped.values())
    parts = "；".join(f"{n} 个{reason}" for reason, n in skipped.items())
    sys.stderr.write(f"已跳过 {total} 个文件，没有检查：{parts}。\n")


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main process is, so that workers are stopped and temporary
    files removed on the way out (the same path as Ctrl-C)."""


def _stop_on_sigterm():
    import contextlib
    import signal

    @contextlib.contextmanager
    def handler():
        def raise_terminated(signum, frame):
            raise _Terminated()

        try:
            previous = signal.signal(signal.SIGTERM, raise_terminated)
        except ValueError:  # not the main thread: leave signals alone
            yield
            return
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)

    return handler()


















def cmd_check_workspace(args) -> int:
    """`xltool check --workspace DIR`: record the files into the workspace's store through the
    same service as the page; --out (and --json, --csv) are then written from the store."""
    from xltool.workspace.service import ServiceError, Workspace, add_paths, pick_campaign
    from xltool.workspace.store import StoreError

    ignored = [flag for flag, value in (("--feedback", args.feedback), ("--roster", args.roster), ("--key", args.key), ("--framework", args.framework), ("--jobs", args.jobs)) if value]
    if ignored:
        return _usage(f"与 --workspace 一起使用时不能给出 {'、'.join(ignored)}：名册、密钥和框架已记在工作区的评价批次里，检查意见在工作区页面上下载。")
    try:
        ws = Workspace(args.workspace, args.db)
    except (StoreError, OSError) as exc:
        return _usage(f"无法打开工作区 {_safe(args.workspace)}：{exc}")
    try:
        campaign = pick_campaign(ws, args.campaign, args.year)
        outcomes = add_paths(ws, campaign.id, args.paths)
        if not args.quiet:
            for o in outcomes:
                print(_safe(o.message))
        for option, what in ((args.out, "summary"), (args.json, "json"), (args.csv, "csv")):
            if option:
                _name, data = ws.export(campaign.id, what)
                _write_bytes(option, data)
    except ServiceError as exc:
        return _usage(str(exc))
    finally:
        ws.close()
    if not args.quiet:
        print(f"已记入工作区 {_safe(args.workspace)} 的评价批次“{_safe(campaign.name)}”。")
    ok = outcomes and all(o.kind in ("recorded", "duplicate") and o.status == "passed" for o in outcomes)
    return EXIT_OK if ok else EXIT_FAILED


def _write_bytes(path: str, data: bytes) -> None:
    """An output of the workspace: `-` is standard output; a file is written whole, then renamed."""
    import tempfile

    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=".xltool-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def cmd_serve(args) -> int:
    from xltool.workspace.app import serve
    from xltool.workspace.store import StoreError

    if not 1 <= args.port <= 65535:
        return _usage("--port 应为 1 到 65535 之间的整数。")
    try:
        return serve(args.dir, db=args.db, host=args.host, port=args.port, open_browser=not args.no_browser, reset_password=args.reset_password)
    except StoreError as exc:
        return _usage(str(exc))


def cmd_demo(args) -> int:
    from xltool.demo import run_demo

    return run_demo(args.out, quiet=args.quiet)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
