"""The JSON report's writer: the same text as json.dumps of the safe tree, written in one pass."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from xltool.report.common import _safe_tree
from xltool.report.tabular import _json_item

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True, places=4), st.text(max_size=12),
    st.sampled_from(["=SUM(A1)", "+1", "@x", "-2", "项目“档案”\n第 2 行", "\x07\x1b[31m", "\ud800"]),
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=25,
)


def _as_before(tree) -> str:
    return json.dumps(_safe_tree(tree), ensure_ascii=False, indent=2, allow_nan=False).replace("\n", "\n  ")


@settings(max_examples=300, deadline=None)
@given(trees)
def test_the_quick_writer_writes_what_json_writes(tree):
    try:
        expected = _as_before(tree)
    except (ValueError, TypeError) as exc:  # what json refuses, the writer refuses the same way
        try:
            _json_item(tree)
        except type(exc):
            return
        raise AssertionError("written, where json refused")
    assert _json_item(tree) == expected


def test_a_finding_as_written():
    item = {"file": "a.xlsx", "errors": 1, "score": Decimal("95.50"), "findings": [{"code": "X", "seen": "=1+1", "expected": None}], "evaluations": []}
    assert _json_item(item) == (
        '{\n    "file": "a.xlsx",\n    "errors": 1,\n    "score": 95.5,\n    "findings": [\n      {\n        "code": "X",\n'
        '        "seen": "\'=1+1",\n        "expected": null\n      }\n    ],\n    "evaluations": []\n  }'
    )
