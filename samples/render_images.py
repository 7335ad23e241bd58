"""Regenerate the README's pictures of a printed 自评表 from the filled samples.

    python samples/render_images.py

LibreOffice (headless, recalculating on load) prints each sample workbook to PDF; the pages that
carry a print form (项目支出绩效自评表 / 部门整体支出绩效自评表) are found with pdftotext, and the
first of each kind is rasterised with pdftoppm into samples/images/. Needs soffice and
poppler-utils (pdftotext, pdftoppm); a CJK font (fonts-noto-cjk) so the page shows no boxes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

from libreoffice import resave_many  # noqa: E402  (tests/libreoffice.py: a private profile, recalculation on)

IMAGES = HERE / "images"
# (sample, title on the page, picture)
PICTURES = (
    (HERE / "returned" / "2020_武昌区档案馆_项目支出绩效自评（已填报）.xlsx", "项目支出绩效自评表（", "form.png"),
    (HERE / "returned" / "2021_武汉市档案馆_部门整体支出绩效自评（已填报）.xlsx", "部门整体支出绩效自评表（", "form_unit.png"),
)


def form_page(pdf: Path, title: str) -> int:
    """The 1-based number of the first page whose text holds `title`."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for number, page in enumerate(text.split("\f"), start=1):
        if title in page:
            return number
    raise SystemExit(f"{pdf.name}：没有找到“{title}”所在的页")


def main() -> int:
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pdfs = resave_many([source for source, _t, _p in PICTURES], Path(tmp), fmt="pdf", recalc=True)
        for pdf, (_source, title, picture) in zip(pdfs, PICTURES):
            page = form_page(pdf, title)
            stem = Path(tmp) / Path(picture).stem
            subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", "-f", str(page), "-l", str(page), str(pdf), str(stem)], check=True)
            (IMAGES / picture).write_bytes(stem.with_suffix(".png").read_bytes())
            print(IMAGES / picture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
