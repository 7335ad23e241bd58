"""Quicker ways to the same text: the JSON report's writer (json.dumps of the safe tree, in one
pass) and the findings' sentences (str.format_map before the safe formatter)."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from xltool.core.messages import CODES, _FORMATTER, format_message
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


def _safe_only(template, params):
    try:
        return _FORMATTER.vformat(template, (), params)
    except Exception:  # noqa: BLE001
        return template


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(["{item}", "{field}", "{0}", "{}", "{seen!r}", "{count:>3}", "{count:x}", "{item.real}", "{item[0]}", "{", "}", "{{", "}}", "{missing}", "{seen:%}"]), st.text(max_size=4)), max_size=6).map("".join),
    st.dictionaries(st.sampled_from(["item", "field", "seen", "count"]), st.one_of(st.text(max_size=4), st.integers(-5, 500), st.decimals(places=2, allow_nan=False), st.none()), max_size=4),
)
def test_a_sentence_is_what_the_safe_formatter_made(template, params):
    assert format_message(template, params) == _safe_only(template, params)


def test_every_code_sentence_as_before():
    params = {"item": "项目“档案保护费”第 2 行指标", "field": "实际完成值", "seen": "1万", "expected": "95", "count": 3}
    for _level, template in CODES.values():
        assert format_message(template, params) == _safe_only(template, params)
