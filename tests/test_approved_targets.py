"""The approved targets file (绩效目标批复表): read by the roster's rules, checked against the roster
and the framework, every problem listed at once with its row and column, before any template."""

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xltool.template.approved import read_targets
from xltool.template.roster import RosterError, read_roster

ROOT = Path(__file__).resolve().parent.parent
HEADER = "单位编码,项目名称,年度目标,一级指标,二级指标,三级指标,计算符号,指标值,计量单位,分值,调整后指标值,预期目标"
# 档案保护费: 产出 50 = 20 + 30, 效益 30, 满意度 10 (the framework's points).
GOOD = [
    "420106-DAG,档案保护费,,产出指标,数量指标,档案修复,≥,25,卷,20,,完成馆藏档案保护与修复",
    "420106-DAG,档案保护费,,产出指标,质量指标,修复合格率,,95%以上,,30,,",
    "420106-DAG,档案保护费,,效益指标,社会效益指标,线下查档利用人数,,1万以上,人次,30,12000,",
    "420106-DAG,档案保护费,,满意度指标,服务对象满意度指标,服务对象满意度,≥,90,%,10,,",
    "420100-DAG,,提升档案服务能力,产出指标,数量指标,档案整理,≥,41000,册,,,",
]


@pytest.fixture(scope="module")
def units():
    return read_roster(ROOT / "samples" / "roster.csv")


def _write(tmp_path, lines, name="批复.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding=encoding)
    return path


def test_a_good_file_gives_each_block_its_rows_in_order(tmp_path, units):
    blocks = read_targets(_write(tmp_path, GOOD), units)
    protect = blocks[("420106-DAG", "档案保护费")]
    assert protect.goal_text == "完成馆藏档案保护与修复"
    assert [i.name for i in protect.indicators] == ["档案修复", "修复合格率", "线下查档利用人数", "服务对象满意度"]
    quality = protect.indicators[1]
    assert (quality.sign, quality.target, quality.unit, quality.points) == ("≥", Decimal(95), "%", Decimal(30))
    users = protect.indicators[2]
    assert (users.sign, users.target, users.unit, users.adjusted) == ("≥", Decimal(10000), "人次", Decimal(12000))
    goal = blocks[("420100-DAG", "提升档案服务能力")]
    assert goal.indicators[0].points is None and goal.indicators[0].target == Decimal(41000)


def test_gbk_and_utf16_files_read_alike(tmp_path, units):
    utf8 = read_targets(_write(tmp_path, GOOD), units)
    gbk = read_targets(_write(tmp_path, GOOD, "gbk.csv", "gbk"), units)
    tsv = tmp_path / "unicode.txt"
    tsv.write_text("\n".join(line.replace(",", "\t") for line in [HEADER, *GOOD]) + "\n", encoding="utf-16")
    assert gbk == utf8 == read_targets(tsv, units)


def test_every_problem_is_listed_at_once_with_row_and_column(tmp_path, units):
    bad = [
        "999999,档案保护费,,产出指标,数量指标,档案修复,≥,25,卷,20,,",  # unknown unit
        "420106-DAG,不存在的项目,,产出指标,数量指标,档案修复,≥,25,卷,20,,",  # unknown project
        "420106-DAG,史料编研费,,产出指标,数量指标,出版与讲座,,出版1000册；公开课5期,,20,,",  # two targets in one cell
        "420106-DAG,史料编研费,,产出指标,数量指标,档案整理,约等于,25,卷,20,,",  # unknown sign
        "420106-DAG,史料编研费,,产出指标,数量指标,扫描,≥,很多,幅,20,,",  # no number
        "420106-DAG,史料编研费,,产出指标,数量指标,扫描,≥,100,幅,,,",  # no points
        "420106-DAG,史料编研费,,产出指标,数量指标,差错率,≤,低于5%以上,,10,,",  # sign contradicts the phrase
        "420106-DAG,史料编研费,,效益指标,社会效益指标,利用人次,≥,600,人次,5,,",  # fine, but its block is incomplete
    ]
    with pytest.raises(RosterError) as caught:
        read_targets(_write(tmp_path, bad), units)
    problems = caught.value.problems
    text = "\n".join(problems)
    assert "第 2 行“单位编码”列：名册中没有单位编码 999999" in text
    assert "第 3 行“项目名称”列：武昌区档案馆在名册中没有项目“不存在的项目”" in text
    assert "第 4 行“指标值”列：一格写了 2 个目标" in text and "请拆成 2 行" in text
    assert "第 5 行“计算符号”列：“约等于”不是计算符号" in text
    assert "第 6 行“指标值”列：“很多”读不出数值" in text
    assert "第 7 行“分值”列为空" in text
    assert "第 8 行：“计算符号”列是 ≤" in text
    assert str(caught.value).startswith("绩效目标批复表 批复.csv 有 7 处错误")


def test_points_must_add_up_to_the_frameworks(tmp_path, units):
    lines = GOOD[:3] + ["420106-DAG,档案保护费,,满意度指标,服务对象满意度指标,服务对象满意度,≥,90,%,8,,"]
    with pytest.raises(RosterError) as caught:
        read_targets(_write(tmp_path, lines), units)
    assert caught.value.problems == [
        "第 5 行起：武昌区档案馆“档案保护费”的“满意度指标”分值合计 8 分，框架规定 10 分，请调整各指标分值。"
    ]


def test_levels_must_be_the_frameworks(tmp_path, units):
    lines = [line.replace("质量指标", "社会效益指标") if "修复合格率" in line else line for line in GOOD]
    lines[0] = lines[0].replace("产出指标,数量指标", "投入指标,数量指标")
    with pytest.raises(RosterError) as caught:
        read_targets(_write(tmp_path, lines), units)
    text = "\n".join(caught.value.problems)
    assert "第 2 行“一级指标”列：“投入指标”不是本框架的一级指标" in text
    assert "第 3 行“二级指标”列：“社会效益指标”不属于“产出指标”" in text


def test_two_different_goal_texts_for_one_project_are_refused(tmp_path, units):
    lines = list(GOOD)
    lines[1] = lines[1].rstrip(",") + ",,另一个目标"
    lines[1] = "420106-DAG,档案保护费,,产出指标,质量指标,修复合格率,,95%以上,,30,,另一个目标"
    with pytest.raises(RosterError) as caught:
        read_targets(_write(tmp_path, lines), units)
    assert caught.value.problems == ["第 3 行“预期目标”列：与第 2 行写的不同；同一项目名称的预期目标只写一次，或每行写得一样。"]


def test_headings_are_compared_loosely_and_a_near_miss_is_named(tmp_path, units):
    loose = HEADER.replace("计量单位", "计量单位（单位）").replace("指标值,", "指标值 ,", 1)
    path = tmp_path / "loose.csv"
    path.write_text("\n".join([loose, *GOOD]) + "\n", encoding="utf-8")
    assert len(read_targets(path, units)) == 2
    path.write_text("\n".join([HEADER.replace("三级指标", "三级指"), *GOOD]) + "\n", encoding="utf-8")
    with pytest.raises(RosterError) as caught:
        read_targets(path, units)
    assert "未知的列“三级指”，是不是“三级指标”？" in str(caught.value)


def test_an_empty_or_missing_file_says_what_to_do(tmp_path, units):
    empty = tmp_path / "空.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(RosterError, match="绩效目标批复表 空.csv 无法读取：文件是空的.*每行填写一个指标"):
        read_targets(empty, units)
    with pytest.raises(RosterError, match="找不到绩效目标批复表文件 没有.csv"):
        read_targets(tmp_path / "没有.csv", units)


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False), st.sampled_from(["≥", ">", "≤", "<", "="]))
def test_any_plain_number_with_a_sign_is_read_exactly(value, sign):
    from xltool.template.approved import _indicator
    from xltool.template.roster import _Row

    problems = []
    row = _Row(2, {"level1": "产出指标", "name": "x", "sign": sign, "target": f"{value:,}", "points": "5"})
    ind = _indicator(row, "project", problems)
    assert problems == [] and ind.sign == sign and ind.target == value


QUALITATIVE = '420106-DAG,档案保护费,,产出指标,质量指标,档案保管安全,定性,"档案保管安全, 无丢失损毁；全年零事故",,30,,'


def test_a_qualitative_rows_wording_is_kept_as_written(tmp_path, units):
    """A 定性 row's 指标值 is the approved wording: kept whole (its commas and semicolons do not make
    several targets), never read as a number; a 定性 row may still leave it blank."""
    lines = [GOOD[0], QUALITATIVE, *GOOD[2:]]
    protect = read_targets(_write(tmp_path, lines), units)[("420106-DAG", "档案保护费")]
    safe = protect.indicators[1]
    assert (safe.sign, safe.target, safe.wording, safe.shown_target) == ("定性", None, "档案保管安全, 无丢失损毁；全年零事故", "档案保管安全, 无丢失损毁；全年零事故")
    assert protect.indicators[0].wording == "" and protect.indicators[0].shown_target == Decimal(25)
    blank = QUALITATIVE.replace('"档案保管安全, 无丢失损毁；全年零事故"', "")
    assert read_targets(_write(tmp_path, [GOOD[0], blank, *GOOD[2:]]), units)[("420106-DAG", "档案保护费")].indicators[1].shown_target is None
    # without 定性 in 计算符号 the same words are a quantitative target that cannot be read
    unsigned = QUALITATIVE.replace(",定性,", ",,")
    with pytest.raises(RosterError) as caught:
        read_targets(_write(tmp_path, [GOOD[0], unsigned, *GOOD[2:]]), units)
    assert "第 3 行“指标值”列" in str(caught.value) and "定性指标请在“计算符号”列填“定性”" in str(caught.value)
    too_long = QUALITATIVE.replace("全年零事故", "全年零事故" * 40)
    with pytest.raises(RosterError) as caught:
        read_targets(_write(tmp_path, [GOOD[0], too_long, *GOOD[2:]]), units)
    assert caught.value.problems == ["第 3 行“指标值”列：定性指标的表述有 214 个字，超过 200 个字，请精简。"]
