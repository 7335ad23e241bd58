"""Scoring rules: the figures of the seed reports, Excel's half-up rounding, and properties."""

from decimal import Decimal, localcontext, ROUND_HALF_EVEN

import pytest
from hypothesis import given, strategies as st

from xltool.core.scoring import (
    D,
    DEFAULT_BANDS,
    DEFAULT_GRADES,
    GradeBand,
    band_range,
    criterion_score,
    deduction_valid,
    execution_score,
    grade,
    indicator_score,
    is_met,
    qualitative_in_band,
    qualitative_score,
    rate,
    round_half_up,
    same_grade,
    sum_scores,
    to_decimal,
)

ACHIEVED, PARTIAL, POOR = DEFAULT_BANDS
SIGNS = ("≥", ">", "≤", "<", "=")
RULES = ("ratio", "linear")


def exact(value, expected: str):
    """Equal and shown the same way (7.60, not 7.6)."""
    assert isinstance(value, Decimal), value
    assert str(value) == expected, (value, expected)


# ---------------------------------------------------------------- seed figures


class TestSeedFigures:
    def test_project_execution_rates_seed_001(self):
        # 档案保护费 214.68 / 300 = 71.56%; 史料编研费 76 / 100 = 76.00%
        exact(rate(214.68, 300), "0.7156")
        exact(rate(76, 100), "0.7600")
        exact(execution_score(rate(214.68, 300)), "7.16")
        exact(execution_score(rate(76, 100)), "7.60")

    def test_unit_execution_rates_seed_000(self):
        # 决算数 / 调整预算数 = 100.00%; 决算数 / 年初预算数 = 87.87%
        assert rate(2814.98, 2814.98) == 1
        exact(rate(2814.98, 2814.98), "1.0000")
        exact(rate(2814.98, 3203.46), "0.8787")
        exact(rate("2,814.98", "3,203.46"), "0.8787")  # as printed in the report

    def test_unit_criteria_seed_000(self):
        inputs = criterion_score(20, [0.5, 0.5])  # 绩效指标明确性, 预算调整率
        process = criterion_score(30, [0.5, 0.5])  # 管理制度健全性, 基础信息完善性
        outputs = criterion_score(25, [0.5, 0.5])  # 完成及时率, 质量达标率
        effects = criterion_score(25, [0.5] * 4)  # 经济/社会/生态效益, 满意度
        exact(inputs, "19.00")
        exact(process, "29.00")
        exact(outputs, "24.00")
        exact(effects, "23.00")
        assert effects != 24  # the report's text says 24; its own deductions give 23
        total = sum_scores([inputs, process, outputs, effects])
        exact(total, "95.00")
        assert grade(total) == "优"
        assert same_grade("优秀", "优")
        assert same_grade("“优秀”", grade(total))

    def test_unmet_target_seed_000(self):
        # 出版《革命先烈小传》1000 册 planned, 30 done; 专题片 5 集 planned, 4 done
        assert is_met("≥", 1000, 30) is False
        exact(indicator_score("≥", 1000, 30, 5), "0.15")
        exact(indicator_score("≥", 5, 4, 5), "4.00")
        # 事故率为零 met; 对象满意程度 >90% with 95
        exact(indicator_score("=", 0, 0, 5), "5.00")
        exact(indicator_score(">", 90, 95, 5), "5.00")


# ---------------------------------------------------------------- rounding


class TestRounding:
    def test_half_up_not_bankers(self):
        exact(round_half_up(Decimal("2.675")), "2.68")
        exact(round_half_up(0.125), "0.13")  # banker's rounding gives 0.12
        exact(round_half_up(2.5, 0), "3")  # Python round(2.5) == 2
        exact(round_half_up(Decimal("0.005")), "0.01")
        exact(round_half_up(-2.5, 0), "-3")  # Excel ROUND(-2.5,0) = -3: away from zero

    def test_float_is_its_decimal_text(self):
        # 1.005 as a binary float is 1.00499999…; Excel's ROUND(1.005,2) shows 1.01
        exact(round_half_up(1.005), "1.01")
        exact(round_half_up(2.675), "2.68")
        assert to_decimal(0.1) == Decimal("0.1")

    def test_places(self):
        exact(round_half_up("7.15555", 4), "7.1556")
        exact(round_half_up(3), "3.00")
        assert round_half_up(1250, -2) == 1300

    def test_independent_of_callers_context(self):
        with localcontext() as ctx:
            ctx.rounding = ROUND_HALF_EVEN
            ctx.prec = 3
            exact(round_half_up(Decimal("2.675")), "2.68")
            exact(rate(2814.98, 3203.46), "0.8787")

    def test_non_numbers(self):
        for value in (None, "", "abc", "1万以上", "95%", True, False, float("nan"), float("inf"), Decimal("NaN"),
                      Decimal("sNaN"), Decimal("-Infinity"), "nan", "Infinity", [1], object()):
            assert round_half_up(value) is None, value


class TestToDecimal:
    @pytest.mark.parametrize(
        "value, expected",
        [
            (Decimal("1.50"), Decimal("1.50")),
            (3, Decimal(3)),
            (0.1, Decimal("0.1")),
            ("214.68", Decimal("214.68")),
            (" 76 ", Decimal(76)),
            ("２１４．６８", Decimal("214.68")),  # full-width
            ("2,814.98", Decimal("2814.98")),
            ("-1e3", Decimal(-1000)),
        ],
    )
    def test_numbers(self, value, expected):
        result = to_decimal(value)
        assert isinstance(result, Decimal) and result == expected

    @pytest.mark.parametrize(
        "value",
        [None, True, False, "", "  ", "abc", "1万", "低于5%", "95%", "1_000", "1,5", "nan", "inf", float("nan"),
         float("-inf"), Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), b"1", [1], {}, object()],
    )
    def test_not_numbers(self, value):
        assert to_decimal(value) is None

    @pytest.mark.parametrize("value", ["1E+308", "-1E+308", "1e400", Decimal("1E+999999"), 10**400, 1.7976931348623157e308])
    def test_beyond_excels_range_is_not_a_number(self, value):
        assert to_decimal(value) is None

    def test_excels_largest_number_is_a_number(self):
        assert to_decimal("9.99999999999999E+307") == Decimal("9.99999999999999E+307")
        assert to_decimal(-9.99999999999999e307) is not None

    @given(st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True), st.text(), st.integers(),
                     st.decimals(allow_nan=True), st.binary()))
    def test_never_raises(self, value):
        result = to_decimal(value)
        assert result is None or (isinstance(result, Decimal) and result.is_finite() and abs(result) < Decimal("1E+308"))


# ---------------------------------------------------------------- execution rate


class TestRate:
    @pytest.mark.parametrize("denominator", [None, 0, 0.0, "0", Decimal("0.00"), "", "  ", "abc", -100, True])
    def test_undefined_denominator(self, denominator):
        assert rate(214.68, denominator) is None

    @pytest.mark.parametrize("numerator", [None, "", "abc", float("nan"), False])
    def test_undefined_numerator(self, numerator):
        assert rate(numerator, 300) is None

    def test_zero_numerator_is_zero(self):
        exact(rate(0, 300), "0.0000")

    def test_over_budget(self):
        exact(rate(330, 300), "1.1000")
        exact(execution_score(rate(330, 300)), "10.00")

    def test_half_up_at_four_places(self):
        exact(rate(1, 8), "0.1250")
        exact(rate(Decimal("0.00005"), 1), "0.0001")  # 0.005% → 0.01%, not banker's 0.00%

    @given(st.one_of(st.none(), st.floats(allow_nan=True), st.text(), st.decimals(allow_nan=True), st.integers()),
           st.one_of(st.none(), st.floats(allow_nan=True), st.text(), st.decimals(allow_nan=True), st.integers()))
    def test_never_raises(self, numerator, denominator):
        result = rate(numerator, denominator)
        assert result is None or (isinstance(result, Decimal) and result.as_tuple().exponent == -4)
        den = to_decimal(denominator)
        if den is None or den <= 0:
            assert result is None


class TestExecutionScore:
    def test_examples(self):
        exact(execution_score(D("0.7156")), "7.16")
        exact(execution_score(D("0.76")), "7.60")
        exact(execution_score(D("1.2")), "10.00")
        exact(execution_score(D("1")), "10.00")
        exact(execution_score(D("-0.1")), "0.00")
        exact(execution_score(None), "0.00")
        exact(execution_score(D("0.7156"), 20), "14.31")

    @given(st.decimals(min_value=-2, max_value=5, places=4), st.decimals(min_value=0, max_value=100, places=2))
    def test_within_points(self, rate_, points):
        score = execution_score(rate_, points)
        assert 0 <= score <= points


# ---------------------------------------------------------------- quantitative indicators


class TestIndicatorScore:
    def test_positive(self):
        exact(indicator_score("≥", 100, 100, 10), "10.00")
        exact(indicator_score("≥", 100, 150, 10), "10.00")  # no bonus for over-achievement
        exact(indicator_score("≥", 100, 95, 10), "9.50")
        exact(indicator_score(">", 95, 95, 10), "10.00")  # ">" read as "≥"
        exact(indicator_score("≥", 3, 2, 5), "3.33")
        exact(indicator_score("≥", 100, -5, 10), "0.00")  # negative actual counts as 0
        exact(indicator_score("≥", 0, 0, 10), "10.00")
        exact(indicator_score("≥", -5, 0, 10), "10.00")

    def test_reverse_ratio(self):
        exact(indicator_score("≤", 5, 5, 10), "10.00")
        exact(indicator_score("<", 5, 3, 10), "10.00")
        exact(indicator_score("≤", 5, 8, 10, "ratio"), "6.25")  # 5/8 × 10
        exact(indicator_score("≤", 5, 15, 10, "ratio"), "3.33")
        exact(indicator_score("≤", 0, 0, 10, "ratio"), "10.00")
        exact(indicator_score("≤", 0, 1, 10, "ratio"), "0.00")
        exact(indicator_score("≤", 5, -1, 10, "ratio"), "10.00")

    def test_reverse_linear_is_the_default(self):
        exact(indicator_score("≤", 5, 8, 10), "4.00")
        exact(indicator_score("≤", 5, 10, 10), "0.00")
        exact(indicator_score("≤", 5, 8, 10, "linear"), "4.00")  # (1 − 3/5) × 10
        exact(indicator_score("≤", 5, 10, 10, "linear"), "0.00")  # twice the target
        exact(indicator_score("≤", 5, 12, 10, "linear"), "0.00")
        exact(indicator_score("<", 5, 5, 10, "linear"), "10.00")
        exact(indicator_score("≤", 0, 1, 10, "linear"), "0.00")

    def test_equal(self):
        exact(indicator_score("=", 100, 100, 10), "10.00")
        exact(indicator_score("=", 100, 80, 10), "8.00")
        exact(indicator_score("=", 0, 0, 10), "10.00")
        exact(indicator_score("=", 0, -1, 10), "10.00")
        exact(indicator_score("=", 0, 1, 10), "0.00")

    def test_half_up(self):
        exact(indicator_score("≥", 8, 1, 1), "0.13")  # 0.125

    def test_no_cap_on_a_near_miss(self):
        # the national rule: 9,996 of 10,000 on 10 points is ROUND(9.996, 2) = 10.00
        exact(indicator_score("≥", 10000, 9996, 10), "10.00")
        exact(indicator_score("≥", 100000, D("99999.9"), 10), "10.00")
        exact(indicator_score("≤", 100000, D("100000.1"), 10), "10.00")
        exact(indicator_score("≥", 10000, 9994, 10), "9.99")

    def test_cap_is_an_opt_in(self):
        # score_cap: points_minus_cent in a framework: an unmet row shows at most points − 0.01
        exact(indicator_score("≥", 10000, 9996, 10, cap=True), "9.99")
        exact(indicator_score("≤", 100000, D("100000.1"), 10, "ratio", cap=True), "9.99")
        exact(indicator_score("≥", 10000, 10000, 10, cap=True), "10.00")
        exact(indicator_score("≥", 100, 50, 10, cap=True), "5.00")

    def test_full_width_and_ascii_signs(self):
        exact(indicator_score("＞", 90, 95, 5), "5.00")
        exact(indicator_score(" >= ", 90, 45, 5), "2.50")
        exact(indicator_score("<=", 5, 10, 10, "ratio"), "5.00")

    def test_uncomputable(self):
        assert indicator_score("定性", 100, 100, 10) is None
        assert indicator_score("≥", None, 100, 10) is None
        assert indicator_score("≥", 100, None, 10) is None
        assert indicator_score("≥", 100, 100, None) is None
        assert indicator_score("≥", "1万以上", 100, 10) is None
        assert indicator_score("≈", 100, 100, 10) is None
        assert indicator_score(None, 100, 100, 10) is None

    def test_unknown_rule_is_a_programming_error(self):
        with pytest.raises(ValueError):
            indicator_score("≤", 5, 8, 10, "quadratic")

    def test_accepts_cell_types(self):
        exact(indicator_score("≥", "100", 95.0, Decimal(10)), "9.50")


class TestIsMet:
    def test_examples(self):
        assert is_met("≥", 100, 100) is True
        assert is_met("≥", 100, 99) is False
        assert is_met(">", 95, 95) is True
        assert is_met("≤", 5, 5) is True
        assert is_met("<", 5, 6) is False
        assert is_met("=", 0, 0) is True
        assert is_met("=", 0, 1) is False
        assert is_met("=", 100, 100) is True
        assert is_met("≤", 5, -3) is True  # counts as 0
        assert is_met("≥", 1, -3) is False

    def test_compared_as_excel_keeps_numbers(self):
        """Excel writes a figure computed and pasted as a value with 17 digits (0.1 + 0.2 is
        0.30000000000000004, 0.955 × 100 may be 95.499999999999986) and shows and compares it with
        15: met, as in the sheet — and as its 2-decimal score already says (full points)."""
        assert is_met("≤", Decimal("0.3"), 0.1 + 0.2) is True
        assert is_met("≥", 95.5, Decimal("95.499999999999986")) is True
        assert is_met("=", 95.5, Decimal("95.499999999999986")) is True
        exact(indicator_score("≥", 95.5, Decimal("95.499999999999986"), 10), "10.00")
        assert is_met("≥", 95.5, Decimal("95.49999999999")) is False  # 13 digits: a real shortfall

    def test_uncomputable(self):
        assert is_met("定性", 1, 1) is None
        assert is_met("≥", None, 1) is None
        assert is_met("≥", 1, "") is None
        assert is_met("?", 1, 1) is None


# values as typed in a table: 2 decimals, including negatives and zero
figures = st.decimals(min_value=-50, max_value=100000, places=2)
positive_points = st.decimals(min_value=D("0.01"), max_value=100, places=2)
targets = st.decimals(min_value=D("0.01"), max_value=100000, places=2)


class TestIndicatorProperties:
    @given(st.sampled_from(SIGNS), figures, figures, st.decimals(min_value=0, max_value=100, places=2),
           st.sampled_from(RULES))
    def test_score_within_points(self, sign, target, actual, points, rule):
        score = indicator_score(sign, target, actual, points, rule)
        assert score is not None
        assert 0 <= score <= points
        assert score.as_tuple().exponent == -2

    @given(st.sampled_from(SIGNS), figures, figures, positive_points, st.sampled_from(RULES))
    def test_met_gives_full_points_and_a_miss_only_by_rounding(self, sign, target, actual, points, rule):
        score = indicator_score(sign, target, actual, points, rule)
        if is_met(sign, target, actual):
            assert score == points
        else:
            assert score <= points  # full only when ROUND gives it (9,996 of 10,000)
            assert indicator_score(sign, target, actual, points, rule, cap=True) < points

    @given(st.sampled_from(("≥", ">", "=")), targets, figures, figures, positive_points)
    def test_positive_non_decreasing(self, sign, target, a1, a2, points):
        low, high = sorted((a1, a2))
        assert indicator_score(sign, target, low, points) <= indicator_score(sign, target, high, points)

    @given(st.sampled_from(("≤", "<")), st.decimals(min_value=0, max_value=100000, places=2), figures, figures,
           positive_points, st.sampled_from(RULES))
    def test_reverse_non_increasing(self, sign, target, a1, a2, points, rule):
        low, high = sorted((a1, a2))
        assert indicator_score(sign, target, low, points, rule) >= indicator_score(sign, target, high, points, rule)

    @given(targets, st.decimals(min_value=0, max_value=100000, places=2), positive_points)
    def test_linear_zero_from_twice_the_target(self, target, extra, points):
        assert indicator_score("≤", target, 2 * target + extra, points, "linear") == 0

    @given(targets, st.decimals(min_value=0, max_value=100000, places=2), positive_points)
    def test_linear_never_above_ratio(self, target, actual, points):
        # the national rule is the harsher one: 1 − (r − 1) ≤ 1 / r for r ≥ 1
        assert indicator_score("≤", target, actual, points, "linear") <= indicator_score("≤", target, actual, points, "ratio")


# ---------------------------------------------------------------- qualitative indicators


class TestQualitative:
    def test_band_ranges_for_ten_points(self):
        assert band_range(ACHIEVED, 10) == (D("8.00"), D("10.00"))
        assert band_range(PARTIAL, 10) == (D("6.00"), D("7.99"))
        assert band_range(POOR, 10) == (D("0.00"), D("5.99"))
        exact(band_range(PARTIAL, 10)[1], "7.99")

    def test_bands_tile_the_points(self):
        for points in (D(5), D("2.55"), D(10), D(25)):
            ranges = [band_range(b, points) for b in DEFAULT_BANDS]
            assert ranges[0][1] == points
            assert ranges[-1][0] == 0
            for upper, lower in zip(ranges, ranges[1:]):
                assert lower[1] + D("0.01") == upper[0]

    def test_score_clamped(self):
        exact(qualitative_score(ACHIEVED, 9, 10), "9.00")
        exact(qualitative_score(ACHIEVED, 10, 10), "10.00")
        exact(qualitative_score(ACHIEVED, 12, 10), "10.00")
        exact(qualitative_score(ACHIEVED, 7, 10), "8.00")
        exact(qualitative_score(PARTIAL, 8, 10), "7.99")
        exact(qualitative_score(PARTIAL, 5, 10), "6.00")
        exact(qualitative_score(POOR, 6, 10), "5.99")
        exact(qualitative_score(POOR, -1, 10), "0.00")
        exact(qualitative_score(POOR, "3.5", 10), "3.50")

    def test_in_band(self):
        assert qualitative_in_band(ACHIEVED, 8, 10) is True
        assert qualitative_in_band(ACHIEVED, D("7.99"), 10) is False
        assert qualitative_in_band(PARTIAL, 8, 10) is False
        assert qualitative_in_band(PARTIAL, D("7.99"), 10) is True
        assert qualitative_in_band(POOR, 0, 10) is True

    def test_uncomputable(self):
        assert qualitative_score(None, 9, 10) is None
        assert qualitative_score(ACHIEVED, None, 10) is None
        assert qualitative_score(ACHIEVED, "九分", 10) is None
        assert qualitative_score(ACHIEVED, 9, None) is None
        assert qualitative_in_band(None, 9, 10) is None
        assert qualitative_in_band(ACHIEVED, "", 10) is None

    def test_band_range_needs_points(self):
        with pytest.raises(ValueError):
            band_range(ACHIEVED, None)

    @given(st.sampled_from(DEFAULT_BANDS), st.decimals(min_value=-10, max_value=200, places=3),
           st.decimals(min_value=D("0.05"), max_value=100, places=2))
    def test_score_inside_band(self, band, declared, points):
        score = qualitative_score(band, declared, points)
        low, high = band_range(band, points)
        assert score is not None
        assert low <= score <= high
        assert 0 <= score <= points
        # in band ⇔ the recomputed score is the declared one as shown
        assert qualitative_in_band(band, declared, points) == (score == round_half_up(declared))


# ---------------------------------------------------------------- unit-wide criteria


class TestCriterion:
    def test_examples(self):
        exact(criterion_score(20, []), "20.00")
        exact(criterion_score(20, [None, "", 0.5]), "19.50")
        exact(criterion_score(20, [30]), "0.00")
        exact(criterion_score(20, [-5]), "20.00")  # a negative deduction adds nothing
        exact(criterion_score(20, None), "20.00")
        exact(criterion_score(20, D("0.5")), "19.50")

    def test_deduction_valid(self):
        assert deduction_valid(0, 2)
        assert deduction_valid(D("0.5"), 2)
        assert deduction_valid(2, 2)
        assert not deduction_valid(D("2.01"), 2)
        assert not deduction_valid(-0.5, 2)
        assert not deduction_valid(None, 2)
        assert not deduction_valid("半分", 2)
        assert not deduction_valid(0.5, None)

    @given(st.decimals(min_value=0, max_value=100, places=2),
           st.lists(st.one_of(st.none(), st.decimals(min_value=-10, max_value=50, places=2), st.text(max_size=3))))
    def test_within_points(self, points, deductions):
        score = criterion_score(points, deductions)
        assert 0 <= score <= points
        assert score.as_tuple().exponent == -2


# ---------------------------------------------------------------- grades


class TestGrades:
    @pytest.mark.parametrize(
        "total, label",
        [(100, "优"), (90, "优"), (D("89.99"), "良"), (80, "良"), (D("79.99"), "中"), (60, "中"),
         (D("59.99"), "差"), (0, "差"), (-5, "差"), ("95", "优")],
    )
    def test_bounds_belong_to_the_higher_grade(self, total, label):
        assert grade(total) == label

    def test_graded_as_shown(self):
        assert grade(D("89.995")) == "优"  # shows as 90.00

    def test_uncomputable(self):
        assert grade(None) is None
        assert grade("优秀") is None
        assert grade(95, ()) is None

    def test_unsorted_grades(self):
        grades = tuple(reversed(DEFAULT_GRADES))
        assert grade(85, grades) == "良"
        assert grade(D("59.99"), grades) == "差"

    def test_custom_grades(self):
        grades = (GradeBand("合格", D(60)), GradeBand("不合格", D(0)))
        assert grade(60, grades) == "合格"
        assert grade(59, grades) == "不合格"

    def test_same_grade(self):
        assert same_grade("优秀", "优")
        assert same_grade("优", "优")
        assert same_grade(" 优　秀 ", "优")  # full-width space
        assert same_grade("合格", "中")
        assert same_grade("中等", "中")
        assert not same_grade("良好", "优")
        assert not same_grade("优秀", "良")
        assert not same_grade("", "优")
        assert not same_grade(None, "优")
        assert not same_grade("优秀", None)

    @given(st.decimals(min_value=-10, max_value=110, places=2), st.decimals(min_value=-10, max_value=110, places=2))
    def test_monotonic(self, t1, t2):
        order = [g.label for g in DEFAULT_GRADES]  # best first
        low, high = sorted((t1, t2))
        assert order.index(grade(low)) >= order.index(grade(high))


class TestSumScores:
    def test_examples(self):
        exact(sum_scores([D("7.16"), None, "", "abc", 50, D("29.5")]), "86.66")
        exact(sum_scores([]), "0.00")
        exact(sum_scores([D("0.005")]), "0.01")
