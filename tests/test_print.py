"""The summary and feedback workbooks print legibly on A4 landscape through LibreOffice (issue 13):
every file name and finding comes out whole, nothing is printed over anything else, the text
stays at its 10 pt (never shrunk to the page width), and the charts have pages of their own."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from libreoffice import require_libreoffice, resave_many
from test_report import broken, wuchang, wuhan
from xltool import report
from xltool.core.model import Finding

FILES = 100


def _results():
    """100 returned files (a unit's two projects, a unit as a whole, an unreadable file), each
    with two long warnings that must wrap."""
    for i in range(FILES):
        base = (wuchang, wuhan, broken)[i % 3]()
        extra = [
            Finding("LONG_NOTE", "warning", f"第{i}号单位：第{k}条问题的说明比较长，需要换行才能放进单元格里，请核实后在说明栏写明原因（Reason {k} for unit {i}）。", "项目支出", f"C{k + 5}")
            for k in range(2)
        ]
        yield dataclasses.replace(
            base,
            file=f"回收/{2020 + i % 2}_第{i:03d}号单位_预算绩效自评表（已填报）.xlsx",
            unit=base.unit and f"第{i:03d}号单位{base.unit}",
            findings=list(base.findings) + extra,
        )


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    require_libreoffice()
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext (poppler-utils) 未安装")
    folder = tmp_path_factory.mktemp("print")
    summary = report.write_summary(_results(), folder / "summary.xlsx")
    feedback = report.write_feedback(next(_results()), folder, "feedback.xlsx")
    return dict(zip(("summary", "feedback"), resave_many([summary, feedback], folder / "pdf", fmt="pdf", timeout=300)))


_WORD = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">|<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _words(pdf: Path) -> dict[int, list[tuple[float, float, float, float, str]]]:
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages: dict[int, list] = defaultdict(list)
    page = 0
    for m in _WORD.finditer(html):
        if m.group(1):
            page += 1
            pages[page]  # noqa: B018 (an empty page is a page)
        else:
            x0, y0, x1, y1 = map(float, m.group(3, 4, 5, 6))
            pages[page].append((x0, y0, x1, y1, m.group(7)))
    return pages


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _cells(words) -> set[str]:
    """Texts of cells as printed (white space removed): words on one printed line less than 3.5 pt
    apart make a run (a space; between columns the cells' padding is wider); runs starting at the
    same x, each right under the one before, are the lines of one wrapped cell."""
    lines = []  # words on one printed line: their middles at the same height
    for w in sorted(words, key=lambda w: (w[1] + w[3]) / 2):
        mid = (w[1] + w[3]) / 2
        if lines and abs(mid - lines[-1][0]) < 0.25 * (w[3] - w[1]):
            lines[-1][1].append(w)
        else:
            lines.append((mid, [w]))
    runs = []
    for _, line in lines:
        run = None
        for w in sorted(line):
            if run and 0 <= w[0] - run[2] < 3.5:  # a space, not a column's border
                run = (run[0], min(run[1], w[1]), w[2], max(run[3], w[3]), run[4] + w[4])
            else:
                if run:
                    runs.append(run)
                run = w
        runs.append(run)
    stacks = defaultdict(list)
    for r in sorted(runs, key=lambda r: r[1]):
        stacks[round(r[0])].append(r)
    out = set()
    for column in stacks.values():
        text, bottom = "", None
        for r in column:
            if bottom is not None and 0 <= r[1] - bottom < 0.5 * (r[3] - r[1]):
                text += r[4]
            else:
                if text:
                    out.add(_squeeze(text))
                text = r[4]
            bottom = r[3]
        out.add(_squeeze(text))
    return out


def _overlaps(words) -> list[tuple[str, str]]:
    """Pairs of words printed over each other (boxes sharing more than a third of the lower's height)."""
    found = []
    words = sorted(words, key=lambda w: w[1])
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            if b[1] >= a[3]:
                break
            shared_y = min(a[3], b[3]) - b[1]
            shared_x = min(a[2], b[2]) - max(a[0], b[0])
            if shared_x > 1 and shared_y > (b[3] - b[1]) / 3:
                found.append((a[4], b[4]))
    return found


def _messages():
    return {f.message for r in _results() for f in r.findings}


def test_every_file_name_and_finding_prints_whole(printed):
    # read back cell by cell from where the words are printed: a name or message wrapped over
    # lines is one cell; text printed over other text, cut at a page edge or clipped is not
    summary = {c for words in _words(printed["summary"]).values() for c in _cells(words)}
    names = {_squeeze(report.common._file_name(r.file)) for r in _results()}
    assert sorted(names - summary) == []
    assert sorted({_squeeze(m) for m in _messages()} - summary) == []
    feedback = {c for words in _words(printed["feedback"]).values() for c in _cells(words)}
    first = next(_results())
    assert sorted({_squeeze(f.message) for f in first.findings} - feedback) == []


def test_nothing_prints_over_anything_else(printed):
    for which, pdf in printed.items():
        pages = _words(pdf)
        clashes = {page: _overlaps(words)[:3] for page, words in pages.items() if _overlaps(words)}
        assert clashes == {}, f"{which}: text printed over text on pages {sorted(clashes)[:10]}: {clashes}"


def test_text_is_printed_at_its_size(printed):
    # pdftotext's word box is the font's line height, about 1.3 × its size for the CJK fonts
    # LibreOffice uses: 10 pt text gives 13, the old shrink-to-page-width print 6.
    for which, pdf in printed.items():
        heights = sorted(w[3] - w[1] for words in _words(pdf).values() for w in words)
        assert heights and heights[0] >= 11.5, f"{which}: smallest text {heights[0] / 1.3:.1f} pt"


def test_page_count_for_100_files_is_the_one_the_readme_states(printed):
    pages = len(_words(printed["summary"]))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    m = re.search(r"100 个文件的汇总工作簿打印为 (\d+) 页", readme)
    assert m, "README 应写明 100 个文件的汇总打印页数"
    assert abs(pages - int(m.group(1))) <= 0.1 * pages, f"README says {m.group(1)} pages, LibreOffice printed {pages}"
