"""Text handed to xlsxwriter so that any text reads back as itself.

xlsxwriter (3.x) writes a string that starts with "<r>" and ends with "</r>" into the workbook
as it stands, taking it for rich-string XML it made itself: a name such as "<r></t></r>" from a
roster, a 批复表 or a returned file would make the workbook invalid XML (Excel offers to repair it,
openpyxl and our reader refuse it). `write_text` writes such a text as that XML itself: one run,
<r><t>…</t></r>, holding the text escaped, with no run properties (so in the cell's own font);
every reader joins a cell's runs, so the cell reads back as the same text. (write_rich_string
would not do: it escapes control characters and literal _xHHHH_ in a run twice.) Any other text
is written as write_string writes it, byte for byte.

Every cell text that may come from outside (a roster, a 批复表, a returned file) goes through
`write_text` or `merge_text`. `xml_safe` drops what no workbook can hold (control characters):
the roster's texts go through it, so that a pre-filled text and the signed metadata holding it
read back as the roster said (the checker drops such characters when it reads a cell).
"""

from __future__ import annotations

import functools
import io
import re

MAX_CELL_UNITS = 32767  # Excel's limit for one cell's text, in UTF-16 code units

# Characters XML 1.0 cannot hold (control characters, non-characters, lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_RUN_START, _RUN_END = '<r><t xml:space="preserve">', "</t></r>"


def needs_runs(text: str) -> bool:
    """Whether xlsxwriter would write `text` unescaped, as rich-string XML of its own."""
    return text.startswith("<r>") and text.endswith("</r>") and _writes_raw()


@functools.cache
def _writes_raw() -> bool:
    """Whether this xlsxwriter still writes "<r>…</r>" unescaped (a later one may not)."""
    from xlsxwriter.sharedstrings import SharedStrings

    writer = SharedStrings()
    writer.fh = io.StringIO()
    writer._write_si("<r><t>a</t></r>")
    return writer.fh.getvalue() == "<si><r><t>a</t></r></si>"


def utf16_units(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def fit_cell(text: str) -> str:
    """`text` cut to Excel's 32,767 UTF-16 units, as write_string cuts it (a cut pair dropped whole)."""
    if len(text) <= MAX_CELL_UNITS // 2:
        return text
    units = text.encode("utf-16-le", "surrogatepass")
    if len(units) <= 2 * MAX_CELL_UNITS:
        return text
    return units[: 2 * MAX_CELL_UNITS].decode("utf-16-le", "ignore")


def as_written(text: str) -> str:
    """The string to hand to xlsxwriter's write_string for `text`: `text` itself, or for a text
    xlsxwriter would take for its own XML, that XML (one run holding the text, escaped).

    A text that needs the run but whose XML would pass Excel's limit is cut by one character
    (its last ">"): it then no longer needs it. Only texts within a few characters of the
    32,767 limit are affected; longer ones are cut anyway."""
    if not needs_runs(text):
        return text
    text = fit_cell(text)
    if not needs_runs(text):
        return text
    xml = _RUN_START + text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + _RUN_END
    return xml if utf16_units(xml) <= MAX_CELL_UNITS else text[:-1]


def write_text(ws, row: int, col: int, text: str, fmt=None) -> None:
    """ws.write_string(row, col, text, fmt), except that a text xlsxwriter would take for its own
    rich-string XML is written as a run that reads back as the text (see as_written)."""
    ws.write_string(row, col, as_written(text), fmt)


def merge_text(ws, first_row: int, first_col: int, last_row: int, last_col: int, text: str, fmt) -> None:
    """ws.merge_range with a text, written as `write_text` writes it (in one call: in constant
    memory a row is final once a later one is written)."""
    ws.merge_range(first_row, first_col, last_row, last_col, as_written(text), fmt)


def xml_safe(text: str) -> str:
    """`text` without the characters XML cannot hold: for the places xlsxwriter writes without
    Excel's _xHHHH_ escapes (document properties, validation prompts, headers)."""
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text


__all__ = ["MAX_CELL_UNITS", "as_written", "fit_cell", "merge_text", "needs_runs", "write_text", "xml_safe"]
