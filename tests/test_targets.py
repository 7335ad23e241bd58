"""Reading targets written as text: the phrases of the seed reports, cells with several targets,
full-width variants, and properties (never raises, round-trips, width-blind, no slow regexes)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from xltool.core.targets import (
    SIGNS,
    Target,
    describe,
    normalize_text,
    parse_target,
    parse_targets,
    split_targets,
)

D = Decimal

# (phrase, sign, value, unit, name) — every phrase is copied from seeds/000 or seeds/001.
SEED_PHRASES = [
    ("1万以上", "≥", "10000", "", ""),
    ("100%", "≥", "100", "%", ""),
    ("低于5%", "<", "5", "%", ""),
    ("100%以上", "≥", "100", "%", ""),
    ("95%以上", "≥", "95", "%", ""),
    ("馆藏资料整理4.1万册", "≥", "41000", "册", "馆藏资料整理"),
    ("重点档案修复幅面2万幅面", "≥", "20000", "幅面", "重点档案修复幅面"),
    ("出版《革命先烈小传》1000册", "≥", "1000", "册", "出版《革命先烈小传》"),
    ("出版《革命先烈小传》30册", "≥", "30", "册", "出版《革命先烈小传》"),
    ("武汉党史寻访专题片5集", "≥", "5", "集", "武汉党史寻访专题片"),
    ("主题档案公开课讲堂4场", "≥", "4", "场", "主题档案公开课讲堂"),
    ("《百年的百个瞬间》主题展览1期", "≥", "1", "期", "《百年的百个瞬间》主题展览"),
    ("馆藏资料整理完成分类索引100%", "≥", "100", "%", "馆藏资料整理完成分类索引"),
    ("抽检合格率98%以上", "≥", "98", "%", "抽检合格率"),
    ("《百年的百个瞬间》主题展览参观人数≥200人次", "≥", "200", "人次", "《百年的百个瞬间》主题展览参观人数"),
    ("宣传档案政策法规、档案业务信息300条", "≥", "300", "条", "宣传档案政策法规、档案业务信息"),
    ("《百年的百个瞬间》观展满意度≥90%", "≥", "90", "%", "《百年的百个瞬间》观展满意度"),
    ("目录数据合格率≥95%", "≥", "95", "%", "目录数据合格率"),
    ("数据挂接合格率=100%", "=", "100", "%", "数据挂接合格率"),
    ("数字化案卷利用件次≥25000", "≥", "25000", "", "数字化案卷利用件次"),
    ("查档人员满意度≥95%", "≥", "95", "%", "查档人员满意度"),
    ("档案资料整理42000件", "≥", "42000", "件", "档案资料整理"),
    ("项目验收合格率100%", "≥", "100", "%", "项目验收合格率"),
    ("档案查阅服务对象满意度>95%", ">", "95", "%", "档案查阅服务对象满意度"),
    ("内网堡垒机1台", "≥", "1", "台", "内网堡垒机"),
    ("终端检测与响应系统网络版1套", "≥", "1", "套", "终端检测与响应系统网络版"),
    ("达到2级", "定性", None, "", ""),
    ("事故率为零，避免经济损失", "=", "0", "", "事故率"),
    ("事故率为零", "=", "0", "", "事故率"),
    ("环保产品率>90%", ">", "90", "%", "环保产品率"),
    ("满足未来3年及以上时间档案馆网络安全需求", "≥", "3", "年", "满足未来"),
    ("3年以上", "≥", "3", "年", ""),
    ("对象满意程度>90%", ">", "90", "%", "对象满意程度"),
    ("95%", "≥", "95", "%", ""),
    ("2000462", "≥", "2000462", "", ""),
    ("数字化加工及质检数量≥合同要求", "定性", None, "", ""),
    ("所有网络进出口安全检查，所有终端安全可控", "定性", None, "", ""),
    ("《2019年武昌党史大事》", "定性", None, "", ""),
    ("全年重点档案修复23910幅面", "≥", "23910", "幅面", "全年重点档案修复"),
    ("群众满意度95%以上", "≥", "95", "%", "群众满意度"),
    ("档案查询人员满意度为95%", "≥", "95", "%", "档案查询人员满意度"),
    ("2,814.98万元", "≥", "2814.98", "万元", ""),
    ("著录12,607条", "≥", "12607", "条", "著录"),
]


@pytest.mark.parametrize("phrase, sign, value, unit, name", SEED_PHRASES)
def test_seed_phrases(phrase, sign, value, unit, name):
    target = parse_target(phrase)
    assert (target.sign, target.value, target.unit, target.name) == (
        sign,
        None if value is None else D(value),
        unit,
        name,
    )
    assert target.text == phrase
    assert target.sign in SIGNS


# Words and signs of DOMAIN.md, each with the sign it means.
@pytest.mark.parametrize(
    "phrase, sign, value, unit",
    [
        ("不少于200人次", "≥", "200", "人次"),
        ("不低于95%", "≥", "95", "%"),
        ("至少3场", "≥", "3", "场"),
        ("95%及以上", "≥", "95", "%"),
        ("95%(含)以上", "≥", "95", "%"),
        ("超过1000册", ">", "1000", "册"),
        ("高于90%", ">", "90", "%"),
        ("大于90%", ">", "90", "%"),
        ("5%以下", "≤", "5", "%"),
        ("不超过5%", "≤", "5", "%"),
        ("不高于5%", "≤", "5", "%"),
        ("5个工作日以内", "≤", "5", "个工作日"),
        ("1次及以下", "≤", "1", "次"),
        ("故障率控制在5%以内", "≤", "5", "%"),
        ("低于5%", "<", "5", "%"),
        ("少于3次", "<", "3", "次"),
        ("小于1%", "<", "1", "%"),
        ("事故率为0", "=", "0", ""),
        ("投诉0次", "=", "0", "次"),
        ("安全事故零发生", "=", "0", ""),
        (">=95%", "≥", "95", "%"),
        ("<=5%", "≤", "5", "%"),
        ("≧95%", "≥", "95", "%"),
        ("≦5%", "≤", "5", "%"),
        ("＞95%", ">", "95", "%"),
        ("＜5%", "<", "5", "%"),
        ("＝100%", "=", "100", "%"),
        ("==100%", "=", "100", "%"),
        ("≥2级", "≥", "2", "级"),  # an explicit comparator makes a grade comparable
        ("满意度不低于百分之95", "≥", "95", "%"),
        ("三公经费变动率≤-5%", "≤", "-5", "%"),
        ("1.5亿", "≥", "150000000", ""),
        ("3千人", "≥", "3000", "人"),
        ("300万元", "≥", "300", "万元"),  # 万元 is a unit of money, not a multiplier
        ("3千万元", "≥", "3000", "万元"),
        ("5亿元", "≥", "5", "亿元"),
        ("面积1000m²", "≥", "1000", "m2"),
        ("200人左右", "≥", "200", "人"),
        ("2015-2019年数据390条", "≥", "390", "条"),  # a range's "-" is not a minus sign
        ("Win10终端3套", "≥", "3", "套"),  # digits glued to latin letters are not the target
    ],
)
def test_words_and_signs(phrase, sign, value, unit):
    target = parse_target(phrase)
    assert (target.sign, target.value, target.unit) == (sign, D(value), unit)


def test_values_are_exact_and_plain():
    target = parse_target("馆藏资料整理4.1万册")
    assert target.value == D("4.1") * 10000
    assert str(target.value) == "41000"
    assert str(parse_target("1万以上").value) == "10000"
    assert str(parse_target("95.50%").value) == "95.5"
    assert str(parse_target("0.00").value) == "0"
    assert str(parse_target("1.23万").value) == "12300"
    assert str(parse_target("0.05万").value) == "500"


def test_non_text_inputs():
    assert parse_target(None) == Target("定性", None, "", name="", text="")
    assert parse_target(12) == Target("≥", D(12), "", text="12")
    assert parse_target(D("95.0")).value == D("95")
    assert parse_target(0.95).value == D("0.95")
    assert parse_target(0) == Target("=", D(0), "", text="0")
    assert parse_target(float("nan")).sign == "定性"
    assert parse_target(float("inf")).sign == "定性"
    assert parse_target(True).sign == "定性"
    assert parse_target("≥95%".encode()).value == D(95)
    assert parse_target("≥95%".encode("gb18030")).value == D(95)
    assert parse_target(b"\xff\xfe\x00").sign == "定性"
    assert parse_target(10**5000).sign == "定性"
    assert parse_target("9" * 100).sign == "定性"  # an ID, not a quantity

    class Broken:
        def __str__(self):
            raise RuntimeError("no text")

    assert parse_target(Broken()).sign == "定性"
    assert parse_targets(None) == []
    assert parse_targets("  \n ") == []
    assert parse_targets(42) == [Target("≥", D(42), "", text="42")]


@pytest.mark.parametrize(
    "target, text",
    [
        (parse_target("1万以上"), "≥ 10000"),
        (parse_target("低于5%"), "< 5%"),
        (parse_target("≥200人次"), "≥ 200人次"),
        (parse_target("达到2级"), "定性"),
        (parse_target("事故率为零"), "= 0"),
        (Target("≥", D("4.1E+4"), "册"), "≥ 41000册"),
    ],
)
def test_describe(target, text):
    assert describe(target) == text


# --- several targets in one cell (texts copied from the seeds, line breaks included) -------------

UNIT_GOAL_5 = (
    "内网堡垒机1台；内网日志审计1台；内网下一代防火墙1台；内网漏洞扫描1台；终端检测与响应系统网络版1套；"
    "所有网络进出口安全检查，所有终端安全\n可控"
)
QUALITY_CELL = (
    "目录数据合格率≥95%；元数据合格率≥95%；数字图像合格率≥95%；数据挂接合格率=100%；"
    "工作文件合格率≥95%；存储载体合格率=100%"
)


@pytest.mark.parametrize(
    "cell, expected",
    [
        (
            "馆藏资料整理4.1万册；重点档案修复幅面2万\n幅面",
            [("≥", "41000", "册", "馆藏资料整理"), ("≥", "20000", "幅面", "重点档案修复幅面")],
        ),
        (
            QUALITY_CELL,
            [
                ("≥", "95", "%", "目录数据合格率"),
                ("≥", "95", "%", "元数据合格率"),
                ("≥", "95", "%", "数字图像合格率"),
                ("=", "100", "%", "数据挂接合格率"),
                ("≥", "95", "%", "工作文件合格率"),
                ("=", "100", "%", "存储载体合格率"),
            ],
        ),
        (
            "出版《革命先烈小传》1000册；武汉党史寻访专题片5集；主题档案公开课讲堂4场；《百年的百个瞬间》主题展\n览1期",
            [
                ("≥", "1000", "册", "出版《革命先烈小传》"),
                ("≥", "5", "集", "武汉党史寻访专题片"),
                ("≥", "4", "场", "主题档案公开课讲堂"),
                ("≥", "1", "期", "《百年的百个瞬间》主题展览"),
            ],
        ),
        (
            UNIT_GOAL_5,
            [
                ("≥", "1", "台", "内网堡垒机"),
                ("≥", "1", "台", "内网日志审计"),
                ("≥", "1", "台", "内网下一代防火墙"),
                ("≥", "1", "台", "内网漏洞扫描"),
                ("≥", "1", "套", "终端检测与响应系统网络版"),
                ("定性", None, "", ""),
            ],
        ),
        (
            "《百年的百个瞬间》主题展览参观人数≥200人次；《建党百年 追寻初心》公开课参与人数≥400人次；"
            "宣传档案政策法规、档案业务信息300条",
            [
                ("≥", "200", "人次", "《百年的百个瞬间》主题展览参观人数"),
                ("≥", "400", "人次", "《建党百年追寻初心》公开课参与人数"),  # normalisation drops spaces
                ("≥", "300", "条", "宣传档案政策法规、档案业务信息"),
            ],
        ),
        (
            # an actual-value cell of seed 000: "，" between two counted phrases splits
            "整理、分类、排序、贴标的资料37479册；录入信息包括资料33523条，三级文件34808条；全年重点档案修复\n23910幅面",
            [
                ("≥", "37479", "册", "整理、分类、排序、贴标的资料"),
                ("≥", "33523", "条", "录入信息包括资料"),
                ("≥", "34808", "条", "三级文件"),
                ("≥", "23910", "幅面", "全年重点档案修复"),
            ],
        ),
        ("事故率为零，避免经济损失", [("=", "0", "", "事故率")]),
        ("事故率为零，伤亡为零", [("=", "0", "", "事故率"), ("=", "0", "", "伤亡")]),
        ("内网堡垒机1台\n内网日志审计1台", [("≥", "1", "台", "内网堡垒机"), ("≥", "1", "台", "内网日志审计")]),
        ("人数≥200、满意度≥95%", [("≥", "200", "", "人数"), ("≥", "95", "%", "满意度")]),
        ("决算数2,814.98万元", [("≥", "2814.98", "万元", "决算数")]),  # a thousands comma is no list
        ("《1949，2019》纪念册1000册", [("≥", "1000", "册", "《1949,2019》纪念册")]),  # nor inside 《》
    ],
)
def test_cells_with_several_targets(cell, expected):
    got = [(t.sign, t.value, t.unit, t.name) for t in parse_targets(cell)]
    assert got == [(s, None if v is None else D(v), u, n) for s, v, u, n in expected]


def test_split_keeps_pieces_as_written():
    assert split_targets("馆藏资料整理4.1万册；重点档案修复幅面2万\n幅面") == [
        "馆藏资料整理4.1万册",
        "重点档案修复幅面2万幅面",
    ]
    assert split_targets(UNIT_GOAL_5)[-1] == "所有网络进出口安全检查，所有终端安全可控"
    assert split_targets("＞９５％；\r\n≥２００人次；；") == ["＞９５％", "≥２００人次"]
    assert split_targets("") == split_targets(None) == split_targets(" ;；\n") == []
    assert [t.text for t in parse_targets(QUALITY_CELL)] == QUALITY_CELL.split("；")


# --- full-width variants ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "full, half",
    [
        ("＞９５％", ">95%"),
        ("≥２００人次", "≥200人次"),
        ("目录数据合格率＝１００％", "目录数据合格率=100%"),
        ("低于５％", "低于5%"),
        ("馆藏资料整理４．１万册", "馆藏资料整理4.1万册"),
        ("决算数２，８１４．９８万元", "决算数2,814.98万元"),
        ("满意度　≥　９５　％", "满意度≥95%"),
        ("＞＝９５％", ">=95%"),
    ],
)
def test_full_width(full, half):
    assert normalize_text(full) == normalize_text(half)
    a, b = parse_target(full), parse_target(half)
    assert (a.sign, a.value, a.unit, a.name) == (b.sign, b.value, b.unit, b.name)
    assert a.sign != "定性"


def test_normalize_text():
    assert normalize_text("＞９５％") == ">95%"
    assert normalize_text("≧９５％，≦５％；") == "≥95%,≤5%;"
    assert normalize_text(" 1 000\u3000册\u200b ") == "1000册"
    assert normalize_text("幅面2万\r\n幅面") == "幅面2万\n幅面"
    assert normalize_text(None) == ""
    assert normalize_text(95) == "95"


# --- properties -------------------------------------------------------------------------------

any_text = st.text(max_size=300) | st.text(
    alphabet=st.sampled_from("0123456789.,，；;、\n\r%％万亿千元以上下≥≤<>=＞《》〈〉为零-− 级册"),
    max_size=300,
)


@given(any_text)
@settings(max_examples=300)
def test_never_raises(text):
    target = parse_target(text)
    assert target.sign in SIGNS
    assert (target.value is None) == (target.sign == "定性")
    targets = parse_targets(text)
    assert all(t.sign in SIGNS for t in targets)
    assert len(targets) == len(split_targets(text))
    describe(target)


@given(st.binary(max_size=200) | st.integers() | st.floats() | st.decimals() | st.none())
def test_never_raises_on_other_types(value):
    assert parse_target(value).sign in SIGNS
    assert all(t.sign in SIGNS for t in parse_targets(value))


def test_long_inputs_finish():
    # No catastrophic backtracking: each must return at once, not after minutes.
    for text in (
        "9" * 100_000,
        "1," * 50_000,
        "《" * 100_000,
        "《1，" * 30_000,
        "满意度" * 30_000 + "≥95%",
        "a，" * 50_000 + "1台",
        "1.2." * 25_000,
        "\n" * 100_000,
        "幅面2万\n" * 15_000,
        "一册" * 50_000,
        "三百五十" * 25_000,
        "一万" * 50_000 + "册",
        "3-" * 50_000 + "5天",
        "三至" * 50_000 + "五天",
    ):
        parse_target(text)
        parse_targets(text)


SUFFIX_WORDS = [("以上", "≥"), ("及以上", "≥"), ("以下", "≤"), ("以内", "≤"), ("及以下", "≤")]
PREFIX_SIGNS = [
    ("≥", "≥"), (">", ">"), ("≤", "≤"), ("<", "<"), ("=", "="), (">=", "≥"), ("<=", "≤"), ("==", "="),
    ("＞", ">"), ("＜", "<"), ("≧", "≥"), ("≦", "≤"),
    ("不少于", "≥"), ("不低于", "≥"), ("至少", "≥"), ("超过", ">"), ("高于", ">"), ("大于", ">"),
    ("不超过", "≤"), ("不高于", "≤"), ("低于", "<"), ("少于", "<"), ("小于", "<"),
]
UNITS = ["", "%", "人次", "册", "件", "条", "台", "套", "幅面", "万元", "年", "次", "卷"]
NAMES = ["", "目录数据合格率", "出版《革命先烈小传》", "《2019年武昌党史大事》编印", "满意度"]
values = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)


@given(values, st.sampled_from(UNITS), st.sampled_from(SUFFIX_WORDS), st.sampled_from(NAMES), st.booleans())
def test_round_trip_word_after(value, unit, word, name, thousands):
    number = f"{value:,}" if thousands else f"{value}"
    target = parse_target(f"{name}{number}{unit}{word[0]}")
    assert (target.sign, target.value, target.unit, target.name) == (word[1], value, unit, name)


@given(values, st.sampled_from(UNITS), st.sampled_from(PREFIX_SIGNS), st.sampled_from(NAMES), st.booleans())
def test_round_trip_sign_before(value, unit, sign, name, thousands):
    number = f"{value:,}" if thousands else f"{value}"
    target = parse_target(f"{name}{sign[0]}{number}{unit}")
    assert (target.sign, target.value, target.unit, target.name) == (sign[1], value, unit, name)


@given(st.lists(st.tuples(values, st.sampled_from(UNITS), st.sampled_from(PREFIX_SIGNS)), min_size=1, max_size=5))
def test_round_trip_cell(items):
    cell = "；".join(f"指标{i}{sign}{value}{unit}" for i, (value, unit, (sign, _)) in enumerate(items))
    got = [(t.sign, t.value, t.unit) for t in parse_targets(cell)]
    assert got == [(sign, value, unit) for value, unit, (_, sign) in items]


def to_full_width(text: str) -> str:
    """ASCII → its full-width form (what a Chinese IME types), space → ideographic space."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


@given(
    values,
    st.sampled_from(UNITS),
    st.sampled_from(PREFIX_SIGNS + [("", "")]),
    st.sampled_from(SUFFIX_WORDS + [("", "")]),
    st.sampled_from(NAMES),
    st.booleans(),
)
def test_full_width_parses_like_half_width(value, unit, sign, word, name, thousands):
    number = f"{value:,}" if thousands else f"{value}"
    half = f"{name}{sign[0]}{number}{unit}{word[0]}"
    full = to_full_width(half)
    a, b = parse_target(half), parse_target(full)
    assert (a.sign, a.value, a.unit, a.name) == (b.sign, b.value, b.unit, b.name)
    pair = f"{half}；{half}"
    assert [(t.sign, t.value, t.unit) for t in parse_targets(pair)] == [
        (t.sign, t.value, t.unit) for t in parse_targets(to_full_width(pair))
    ]


# --- Chinese numerals and ranges ---------------------------------------------------------------


@pytest.mark.parametrize(
    "phrase, sign, value, unit, name",
    [
        ("一千册以上", "≥", "1000", "册", ""),
        ("两万", "≥", "20000", "", ""),
        ("三百五十人次", "≥", "350", "人次", ""),
        ("1.5万", "≥", "15000", "", ""),
        ("十", "≥", "10", "", ""),
        ("十五", "≥", "15", "", ""),
        ("一万五", "≥", "15000", "", ""),
        ("一百零五件", "≥", "105", "件", ""),
        ("出版图书一千册", "≥", "1000", "册", "出版图书"),
        ("不超过三次", "≤", "3", "次", ""),
        ("五个工作日以内", "≤", "5", "个工作日", ""),
        ("满意度不低于百分之九十五", "≥", "95", "%", "满意度"),
        ("三百万元", "≥", "300", "万元", ""),
        ("两亿", "≥", "200000000", "", ""),
        ("三公经费变动率为零", "=", "0", "", "三公经费变动率"),
    ],
)
def test_chinese_numerals(phrase, sign, value, unit, name):
    target = parse_target(phrase)
    assert (target.sign, target.value, target.unit, target.name) == (sign, D(value), unit, name)


@pytest.mark.parametrize(
    "phrase", ["一次性通过验收", "进一步提升服务水平", "十分满意", "口径统一", "账实一致", "二〇二一年", "达到三级", "第三方评价"]
)
def test_words_with_numeral_characters_stay_qualitative(phrase):
    assert parse_target(phrase).sign == "定性"


@pytest.mark.parametrize(
    "phrase, low, high, unit",
    [
        ("3-5天", "3", "5", "天"),
        ("3～5天", "3", "5", "天"),
        ("3~5天", "3", "5", "天"),
        ("3至5天", "3", "5", "天"),
        ("3到5天", "3", "5", "天"),
        ("3天-5天", "3", "5", "天"),
        ("三至五天", "3", "5", "天"),
        ("满意度90%-95%", "90", "95", "%"),
        ("1.5-2万册", "15000", "20000", "册"),
        ("-5%~5%", "-5", "5", "%"),
        ("100±5", "95", "105", ""),
        ("温度20±2℃", "18", "22", "°C"),  # NFKC writes ℃ as °C
        ("1万±500册", "9500", "10500", "册"),
    ],
)
def test_ranges_are_ranges_not_a_single_sign(phrase, low, high, unit):
    target = parse_target(phrase)
    assert (target.sign, target.value, target.unit) == ("定性", None, unit)
    assert (target.low, target.high) == (D(low), D(high))
    assert describe(target) == f"区间 {low}～{high}{unit}"


def test_a_tolerance_without_a_centre_is_a_bound():
    target = parse_target("测量误差±0.5%")
    assert (target.sign, target.value, target.unit, target.name) == ("≤", D("0.5"), "%", "测量误差")


@pytest.mark.parametrize("phrase", ["5-3天", "2021-12-31前完成"])
def test_what_is_neither_a_range_nor_a_number_is_qualitative(phrase):
    target = parse_target(phrase)
    assert (target.sign, target.low) == ("定性", None)


_CN = "零一二三四五六七八九"


def chinese_numeral(n: int, two: bool = False) -> str:
    """n (1 ≤ n < 10**12) written the standard way: 1005 → 一千零五, 20000 → 二万 (两万 if two)."""

    def section(x: int) -> str:
        out, gap = "", False
        for unit, size in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
            digit = x // size % 10
            if digit == 0:
                gap = bool(out)
                continue
            if gap:
                out += "零"
                gap = False
            out += ("两" if two and digit == 2 and unit else _CN[digit]) + unit
        return out

    out, gap = "", False
    for size, unit in ((10**8, "亿"), (10**4, "万"), (1, "")):
        group = n // size % 10**4
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        out += section(group) + unit
        gap = False
    return out


@pytest.mark.parametrize("n, text", [(1005, "一千零五"), (20000, "二万"), (350, "三百五十"), (100010, "一十万零一十"), (10**8 + 1, "一亿零一")])
def test_numeral_generator(n, text):
    assert chinese_numeral(n) == text


@given(st.integers(min_value=1, max_value=10**12 - 1), st.booleans(), st.sampled_from(UNITS[1:]), st.sampled_from(SUFFIX_WORDS + [("", "≥")]))
@settings(max_examples=300)
def test_round_trip_chinese_numerals(n, two, unit, word):
    numeral = chinese_numeral(n, two)
    if unit == "%":
        unit = "人次"  # "%" after a numeral is unusual; 百分之 is covered above
    target = parse_target(f"{numeral}{unit}{word[0]}")
    assert (target.sign, target.value, target.unit) == (word[1], n, unit)
    short = numeral[1:] if numeral.startswith("一十") else None  # "十五" as well as "一十五"
    if short:
        assert parse_target(f"{short}{unit}").value == n


@given(st.text(alphabet=st.sampled_from("零〇一二两三四五六七八九十百千万亿至到-~～±0123456789.%天册以上下第几元"), max_size=60))
@settings(max_examples=300)
def test_never_raises_on_numeral_soup(text):
    target = parse_target(text)
    assert target.sign in SIGNS
    assert (target.value is None) == (target.sign == "定性")
    if target.low is not None:
        assert target.low <= target.high and target.sign == "定性"
