"""What the checker writes, one module per output: the summary workbook (summary), the feedback
workbook per file (feedback), JSON / CSV / DataFrames (tabular), the standard tables for a
provincial system (export), the terminal table (terminal),
all written through outputs (atomic, staged, devices written into) with the vocabulary of common.

Nothing here reads a submission or decides a verdict: every figure comes from the Results."""

from xltool.report.common import FORMULA_EXPECTED, KIND_TEXT, OUTPUT_MARKER, SEVERITY_TEXT, STATUS_TEXT, safe_text, status_label
from xltool.report.export import INDICATOR_TABLE, PROJECT_TABLE, export_paths, write_export
from xltool.report.feedback import feedback_filename, feedback_plan, write_feedback, write_feedback_files
from xltool.report.outputs import OutputError, is_block_device, is_direct, staged
from xltool.report.spool import Spool
from xltool.report.summary import write_summary
from xltool.report.tabular import CSV_COLUMNS, FINDING_COLUMNS, findings_dataframe, to_dataframe, write_csv, write_json
from xltool.report.terminal import Progress, print_table, printable

__all__ = [
    "CSV_COLUMNS", "FINDING_COLUMNS", "FORMULA_EXPECTED", "INDICATOR_TABLE", "PROJECT_TABLE", "export_paths", "write_export", "KIND_TEXT", "OUTPUT_MARKER", "OutputError", "Progress", "SEVERITY_TEXT", "STATUS_TEXT", "Spool",
    "feedback_filename", "feedback_plan", "findings_dataframe", "is_block_device", "is_direct", "print_table",
    "printable", "safe_text", "staged", "status_label", "to_dataframe", "write_csv", "write_feedback",
    "write_feedback_files", "write_json", "write_summary",
]
