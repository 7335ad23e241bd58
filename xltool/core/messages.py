"""Every finding code and every user-facing sentence of the checker, in one place.

A code is a stable identifier (UPPER_SNAKE): scripts, the JSON report and the summary workbook
rely on it, so a code is never renamed; a wording may be improved at any time. Each message is a
Chinese sentence a staff member of an archive can act on: what is wrong, and what to do.

`finding(code, sheet, cell, seen, expected, **params)` fills a template. It never raises: a
missing placeholder becomes empty text, a value that cannot be formatted is shown as text, and an
unknown code still gives an error-level finding (so a typo in a caller cannot crash a batch).
"""

from __future__ import annotations

import string
from decimal import Decimal

from xltool.core.model import SEVERITIES, Finding
from xltool.core.scoring import as_excel_shows

ERROR, WARNING, INFO = SEVERITIES

# code → (severity, template). Placeholders always available: {sheet} {cell} {seen} {expected}
# (shown as text; see `show`). Everything else is passed by the caller as a keyword.
CODES: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------ the file itself (reader)
    "FILE_EMPTY": (ERROR, "文件“{file}”是空文件（0 字节）。请在 Excel 或 WPS 中打开填写好的工作簿，重新保存后再提交。"),
    "FILE_NOT_ZIP": (
        ERROR,
        "文件“{file}”不是 Excel 工作簿（.xlsx），看起来是{detail}。请用财政部门下发的模板填写，在 Excel 或 WPS 中保存为“Excel 工作簿（.xlsx）”后提交。",
    ),
    "FILE_ODS": (
        ERROR,
        "文件“{file}”保存成了 OpenDocument 表格（.ods）格式，检查程序只读取 .xlsx。请在 WPS 或 LibreOffice 中打开，"
        "用“另存为”选择“Excel 工作簿（.xlsx）”（LibreOffice 中为“Excel 2007-365”）后重新提交。",
    ),
    "FILE_STRICT_OOXML": (
        ERROR,
        "文件“{file}”保存成了“Strict Open XML 电子表格”格式，检查程序只读取常规的 .xlsx。请在 Excel 中打开，"
        "用“另存为”选择“Excel 工作簿（.xlsx）”后重新提交。",
    ),
    "FILE_CORRUPT": (ERROR, "文件“{file}”已损坏，无法打开（{detail}）。请在 Excel 或 WPS 中打开确认内容完整，另存为 .xlsx 后重新提交。"),
    "FILE_XLS_LEGACY": (
        ERROR,
        "文件“{file}”是旧版 .xls 格式，模板的锁定和校验信息已经丢失，无法检查。请用下发的 .xlsx 模板填写，保存时选择“Excel 工作簿（.xlsx）”。",
    ),
    "FILE_ENCRYPTED": (ERROR, "文件“{file}”设置了打开密码，检查程序无法读取。请取消文件密码，重新保存后提交。"),
    "FILE_TOO_LARGE": (
        ERROR,
        "文件“{file}”超出检查上限：{detail}。请删除粘贴进来的图片、对象或从其他工作簿复制来的内容，只在下发的模板中填写要求的内容后提交。",
    ),
    "FILE_ZIP_BOMB": (
        ERROR,
        "文件“{file}”的压缩数据异常（{detail}），解压后会占用大量内存，为安全起见没有读取。请用下发的模板重新填写后提交。",
    ),
    "FILE_XML_UNSAFE": (ERROR, "文件“{file}”含有不安全的内部结构（{detail}），为安全起见没有读取。请用下发的模板重新填写后提交。"),
    "FILE_MACROS": (WARNING, "文件“{file}”含有宏代码。宏不会被执行，也不属于模板；请另存为不含宏的 .xlsx 格式。"),
    "FILE_EXTERNAL_LINKS": (WARNING, "文件“{file}”引用了其他工作簿（外部链接），引用的数据不会被读取。请把内容直接填入本表，并删除外部链接。"),
    "FILE_UNREADABLE": (ERROR, "文件“{file}”无法读取（{detail}）。请确认文件能在 Excel 或 WPS 中正常打开，重新保存后提交。"),
    "FILE_NOT_FOUND": (ERROR, "找不到命令中给出的“{file}”，这个文件没有检查。请核对路径和文件名（包括扩展名）是否写对，改正后重新运行检查。"),
    "NOT_A_FILE": (ERROR, "命令中给出的“{file}”不是普通文件（{detail}），没有检查。请给出工作簿文件本身或它所在的文件夹后重新运行检查。"),
    "ARCHIVE_UNREADABLE": (
        ERROR,
        "压缩包“{file}”无法打开（{detail}），其中的工作簿都没有检查。请确认压缩包完整（重新下载或重新压缩为 .zip），或解压后检查其中的工作簿。",
    ),
    "ARCHIVE_EMPTY": (ERROR, "压缩包“{file}”中没有可检查的工作簿（.xlsx）。请确认压缩了正确的文件，或直接给出工作簿所在的文件夹。"),
    "SHEET_TOO_LARGE": (ERROR, "文件“{file}”中的工作表过大（{detail}），超出检查上限。请不要在模板中粘贴大量数据，用下发的模板重新填写。"),
    "NOT_OUR_TEMPLATE": (
        ERROR,
        "文件“{file}”不是财政部门下发的自评模板（{detail}）。请用下发给本单位的模板填写，不要新建工作簿或把内容复制到其他文件中。",
    ),
    "FRAMEWORK_UNKNOWN": (ERROR, "文件“{file}”使用的评价框架“{framework}”（版本 {version}）无法识别。请使用财政部门今年下发的模板；财政部门使用自定义框架的，检查时请用 --framework 给出该框架文件。"),
    "META_DUPLICATE": (
        ERROR,
        "文件“{file}”含有多份模板元数据（{detail}），无法确认哪一份是财政部门下发的，其中的单位信息和预填数据不予采信。请用财政部门下发的模板重新填写。",
    ),
    "SIGNATURE_MISSING": (
        ERROR,
        "文件“{file}”的模板元数据没有签名，无法确认是财政部门下发的模板，其中的预填数据不予采信。请用财政部门下发的模板重新填写"
        "（财政部门：请用 xltool template 重新生成模板后下发）。",
    ),
    "SIGNATURE_INVALID": (
        ERROR,
        "文件“{file}”的模板元数据签名不符：隐藏的元数据被修改过，或者模板不是用这把密钥生成的，其中的预填数据不予采信。"
        "请用财政部门下发的模板重新填写（财政部门：检查时请用 --key 给出生成模板时使用的密钥文件）。",
    ),
    "MISSING_RETURN": (ERROR, "名册中的“{unit}”（{year} 年度{kind_text}）没有交回{document}。请联系该单位尽快提交。"),
    "TEMPLATE_LAYOUT_NEWER": (
        ERROR,
        "文件“{file}”的模板由更新版本的 xltool 生成（模板格式 {layout}，本程序只认得 {known}），无法按它的格式检查。请把 xltool 升级到最新版本后再检查。",
    ),
    "FRAMEWORK_VERSION_MISMATCH": (
        ERROR,
        "文件“{file}”使用的是评价框架“{framework}”的 {version} 版，现行的是 {expected} 版，指标和分值可能已经变化。请用今年下发的模板重新填写。",
    ),
    "DUPLICATE_FILE": (WARNING, "文件“{file}”与“{other}”内容完全相同，是重复提交。请确认是否提交了正确的文件。"),
    "YEAR_MISMATCH": (ERROR, "文件“{file}”是 {seen} 年度的{form}，本次检查的是 {expected} 年度。请确认是否提交错了文件，用下发的 {expected} 年度{what}填写后重新提交。"),
    "DUPLICATE_UNIT": (WARNING, "文件“{file}”与“{other}”都是{unit}同一年度的自评表。请确认以哪一份为准，并撤回另一份。"),
    # ------------------------------------------------------------ what the template locked
    "NAME_RANGE_CHANGED": (
        ERROR,
        "模板中的定义名称“{name}”（{label}）的范围被改动：原为 {expected}，现为 {seen}（本表共 {count} 个名称被改动），检查程序只读取原来的范围。"
        "请不要修改定义名称，用下发的模板重新填写。",
    ),
    "SHEET_MISSING": (ERROR, "工作表“{sheet}”不见了（被删除或改名）。请用下发的模板重新填写，不要删除或重命名工作表。"),
    "NAME_MISSING": (
        ERROR,
        "模板中的定义名称“{name}”（{label}）被删除，检查程序找不到这项内容。请不要剪切、删除模板中的单元格，用下发的模板重新填写。",
    ),
    "PROTECTION_REMOVED": (
        ERROR,
        "工作表“{sheet}”的保护被撤销了。锁定的内容由财政部门统一设置，请不要撤销工作表保护；请恢复保护或用下发的模板重新填写。",
    ),
    "STRUCTURE_CHANGED": (
        ERROR,
        "工作表“{sheet}”的表格结构被改动（插入或删除了行、列）：{label}原在 {expected}，现在在 {seen}，共 {count} 处内容移位。"
        "请不要插入或删除行列，用下发的模板重新填写；指标行不够用时请与财政部门联系。",
    ),
    "LOCKED_CHANGED": (
        ERROR,
        "锁定的内容被修改：“{sheet}”表 {cell} 原为“{expected}”，现为“{seen}”。表格文字、指标名称和分值不能修改，请改回原内容。",
    ),
    "PREFILL_CHANGED": (
        ERROR,
        "财政预填的数据被修改：“{sheet}”表 {cell} 原为“{expected}”，现为“{seen}”。预算数和单位信息以财政部门下发的为准，"
        "如有错误请与财政部门联系，不要自行修改。",
    ),
    "PROJECT_MISSING": (
        ERROR,
        "名册中{unit}的项目“{project}”在这份自评表中没有（按现行名册是该单位的第 {block} 个项目），这个项目没有自评。"
        "可能是模板下发后名册增加了该项目，或单位填写的是旧模板：请财政部门按现行名册重新生成该单位的模板"
        "（xltool template --roster 名册）下发，让单位把已填内容转填、补填该项目后交回；该项目确已取消的，请更新名册后重新检查。",
    ),
    "PROJECT_NOT_IN_ROSTER": (
        ERROR,
        "自评表中的项目“{project}”（预算执行表第 {block} 个项目）不在名册中{unit}的项目里。可能是名册已删去该项目，"
        "或单位填写的是旧模板：请财政部门核对名册。该项目确已取消的，请按现行名册重新生成该单位的模板（xltool template --roster 名册）"
        "下发，让单位转填后交回；名册漏列的，请补入名册后重新检查。",
    ),
    "TARGET_CHANGED": (
        ERROR,
        "批复的绩效目标被修改：“{sheet}”表 {cell}（{what}）原为“{expected}”，现为“{seen}”。绩效目标以财政批复的为准，不能自行修改；"
        "请改回“{expected}”。年中确经批准调整的，填在“年度指标值（调整后）”列并写明调整说明。",
    ),
    "FORMULA_CHANGED": (
        ERROR,
        "“{sheet}”表 {cell} 的计算公式{how}。自动计算的单元格（浅蓝色）不能填写或粘贴内容，请从下发的模板复制原公式恢复，或用下发的模板重新填写。",
    ),
    "FINGERPRINT_MISMATCH": (
        WARNING,
        "工作簿的锁定内容与下发模板的记录不一致（模板指纹不符），可能改动了模板，或者不是下发给本单位的模板。请确认使用的是下发给本单位的模板。",
    ),
    "EXTRA_CONTENT": (
        WARNING,
        "“{sheet}”表在模板的填写区域之外有 {count} 个单元格填写了内容（{cells}），检查程序不会读取这些内容。请把内容填到对应的黄色单元格中，并删除区域外的内容。",
    ),
    # ------------------------------------------------------------ content
    "REQUIRED_BLANK": (ERROR, "{item}的“{field}”未填写。{hint}"),
    "TEXT_IN_NUMBER": (ERROR, "{item}的“{field}”应填写数字，实际填写了“{seen}”。{hint}"),
    "NUMBER_STORED_AS_TEXT": (
        WARNING,
        "{item}的“{field}”是以文本形式保存的数字“{seen}”（全角数字、千分位逗号或前后空格）。检查程序按 {shown} 计算，"
        "但表格自己的公式不把它当作数字，表中显示的得分可能与检查结果不同。请删除该单元格内容，用半角数字重新输入 {shown}。",
    ),
    "PERCENT_SCALE_MIXED": (
        WARNING,
        "{item}“{name}”的计量单位是 %，但指标值 {target} 与实际完成值 {actual} 不在同一量级（一个像小数 0.95，一个像百分数 95），"
        "得分会因此算错。百分比请统一填百分数（95% 填 95），改正后再核对自评得分。",
    ),
    "INVALID_DATE": (ERROR, "{item}的“{field}”不是有效的日期：“{seen}”。请按 2022-06-30 的格式填写。"),
    "MULTIPLE_TARGETS": (
        ERROR,
        "{item}的“{field}”中写了 {count} 项指标：“{seen}”。一行只能填一项指标：请分成 {count} 行填写，"
        "每行在“三级指标名称”写名称，在“计算符号”“指标值”“计量单位”中分别填写符号、数字和单位。",
    ),
    "VALUE_OUT_OF_RANGE": (ERROR, "{item}的“{field}”为 {seen}，超出允许的范围（{expected}）。{hint}"),
    "INVALID_CHOICE": (ERROR, "{item}的“{field}”填写了“{seen}”，不是可以选择的值。请从下拉列表中选择：{expected}。"),
    "LEVEL2_MISMATCH": (
        ERROR,
        "{item}的二级指标“{seen}”不属于一级指标“{level1}”。“{level1}”下的二级指标是：{expected}。请重新选择二级指标或一级指标。",
    ),
    "POINTS_SUM_MISMATCH": (
        ERROR,
        "{item}中“{category}”各三级指标的分值合计为 {seen} 分，应为 {expected} 分。请调整各指标的分值，使合计等于一级指标分值。",
    ),
    "NO_INDICATORS": (ERROR, "{item}没有填写{what}。{hint}"),
    "RATE_UNDEFINED": (
        ERROR,
        "{item}的{rate_name}无法计算：{field}{state}。执行率不能按 0% 计算；请填写大于 0 的{field}（万元），预算确为 0 的请与财政部门联系。",
    ),
    "RATE_MISMATCH": (
        ERROR,
        "{item}的“{field}”被手工填写为 {seen}，按{formula}应为 {expected}。请恢复自动计算公式，不要手工填写执行率。",
    ),
    "OVER_BUDGET_NO_NOTE": (
        ERROR,
        "{item}的预算执行率为 {rate}，超过 100%（支出超出预算），但“执行情况说明”未填写。请在执行情况说明中写明超支的原因。",
    ),
    "FUNDS_SUM_MISMATCH": (
        ERROR,
        "{item}的“年度资金总额”{column}为 {total} 万元，其中各项资金（{sources}）的{column}合计为 {sum} 万元，两者应当相等。"
        "请核对年度资金总额和其中各项资金的{column}，改正后总额与各项之和一致。",
    ),
    "ADJUSTMENT_NOTE_MISSING": (
        ERROR,
        "{item}“{name}”的年度指标值（调整后）为 {adjusted}，与年初指标值 {initial} 不同，但“调整说明”未填写。"
        "评分按调整后的指标值计算：请在“调整说明”中写明调整的依据（如批复文号）和原因；没有经批准调整的，请清空“年度指标值（调整后）”。",
    ),
    "LOW_EXECUTION_NO_NOTE": (
        WARNING,
        "{item}的预算执行率为 {rate}，低于 {threshold}，“执行情况说明”未填写。请写明执行率偏低的原因和改进措施。",
    ),
    "TARGET_UNMET_NO_REASON": (
        ERROR,
        "{item}“{name}”未完成：{detail}，但“偏差原因分析及改进措施”未填写。未完成的指标必须说明原因和改进措施。",
    ),
    "REASON_REQUIRED": (
        ERROR,
        "{item}“{name}”{why}，但“偏差原因分析及改进措施”未填写。得分低于分值（或偏离指标值较多）的指标必须说明原因和改进措施，请补充填写。",
    ),
    "OVER_ACHIEVED": (
        WARNING,
        "{item}“{name}”超额完成：{detail}，完成值为指标值的 {share}（达到 {threshold} 即标记）。指标值可能定得偏低，"
        "请在“偏差原因分析及改进措施”中说明{score_note}。",
    ),
    "TARGET_UNMET": (INFO, "{item}“{name}”未完成：{detail}。已说明原因：{reason}"),
    "FULL_SCORE_UNMET": (
        ERROR,
        "{item}“{name}”未完成（{detail}），自评得分却是满分 {seen} 分。按完成情况应得 {expected} 分，请修改自评得分。",
    ),
    "SCORE_MISMATCH": (
        ERROR,
        "{item}“{name}”的自评得分为 {seen} 分，{rule}应为 {expected} 分。请核对指标值、实际完成值和自评得分。",
    ),
    "QUALITATIVE_NO_BAND": (
        ERROR,
        "{item}“{name}”是定性指标，但未选择“定性评价档次”。请从下拉列表中选择档次，并在该档次的分值区间内自评打分。",
    ),
    "QUALITATIVE_OUT_OF_BAND": (
        ERROR,
        "{item}“{name}”的定性评价档次为“{band}”，该档次的得分应在 {expected} 分之间，自评得分却是 {seen} 分。请调整自评得分或评价档次。",
    ),
    "DEDUCTION_OUT_OF_RANGE": (
        ERROR,
        "评分表“{name}”的扣分为 {seen}，超出范围：扣分应在 {expected} 分之间，不能为负数，也不能超过该指标的分值。",
    ),
    "DEDUCTION_NO_REASON": (ERROR, "评分表“{name}”扣了 {seen} 分，但未填写扣分原因。有扣分的指标必须写明扣分原因。"),
    "DECLARED_SCORE_MISMATCH": (ERROR, "{item}的自评得分填写为 {seen} 分，按表中数据计算应为 {expected} 分{basis}。请改正自评得分，或核对{check}。"),
    "DECLARED_GRADE_MISMATCH": (ERROR, "{item}的自评等级填写为“{seen}”，按计算得分 {score} 分应为“{expected}”。请改正自评等级。"),
    "SCORE_NOT_RECOMPUTED": (
        WARNING,
        "{item}的“{field}”填写为 {seen} 分，但表中有未填写或无法读取的数据，暂时无法重新计算得分。"
        "请先按本文件的其他检查意见改正，再次检查时会核对得分。",
    ),
    "DECLARED_MISSING": (WARNING, "{item}的“{field}”未填写，按表中数据计算为 {expected}。请填写。"),
    "CONTACT_MISSING": (WARNING, "基本信息的“{field}”未填写。请填写，以便财政部门核对时联系。"),
    "TEXT_MISSING": (WARNING, "“{field}”未填写。请写明本年度绩效方面存在的问题、原因和下一步的改进措施。"),
    # ------------------------------------------------------------ 绩效目标申报表 (xltool template --stage 申报)
    "DECL_FUNDS_SUM_MISMATCH": (
        ERROR,
        "{item}的“资金总额”为 {seen} 万元，与财政拨款、其他资金之和 {expected} 万元不符。资金总额应等于各来源之和：请恢复资金总额的自动计算公式，或改正各来源金额。",
    ),
    "DECL_DIMENSION_MISSING": (
        ERROR,
        "{item}没有“{category}”的指标。绩效指标必须包含{all}三类一级指标：请至少填写一行“{category}”的指标。",
    ),
    "DECL_COST_SIGN": (
        ERROR,
        "{item}的成本指标“{name}”计算符号为“{seen}”。成本指标是反向指标，计算符号只能选 ≤ 或 <（如“单位成本 ≤ 200 元”）：请改正计算符号。",
    ),
    "DECL_PERCENT_OVER_100": (
        ERROR,
        "{item}的指标“{name}”计量单位为 %，指标值却是 {seen}，超过 100。百分比指标的指标值不能超过 100：请改正指标值（95% 填 95），或换用合适的计量单位。",
    ),
    "DECL_POINTS_SUM": (
        ERROR,
        "{item}中“{category}”各指标的分值合计为 {seen} 分，应为 {expected} 分。请调整各指标的分值，使合计等于该一级指标的分值。",
    ),
    "DECL_PLACEHOLDER_TEXT": (
        ERROR,
        "{item}的“{field}”只填写了“{seen}”，这不是实际内容。请写明具体内容，不要用“*”“无”“见附件”等代替（附件中的内容请直接填到表中）。",
    ),
    "DECL_DATES_REVERSED": (ERROR, "{item}的结束时间 {seen} 早于起始时间 {expected}。请改正起止时间。"),
    "DECL_PROJECT_MISSING": (ERROR, "名册中{unit}的项目“{project}”在申报表中没有对应的工作表“{sheet}”{why}，这个项目没有申报。{hint}"),
    "DECL_SHEET_ADDED": (
        WARNING,
        "申报表中多了一个工作表“{sheet}”，不是下发时就有的，其中的内容不会被读取，也不会进入批复表。"
        "请把要申报的内容填在下发的工作表中，删除这个工作表后交回；项目表不够用时请与财政部门联系，不要复制工作表。",
    ),
    "DECL_TOO_MANY_PROJECTS": (
        ERROR,
        "文件“{file}”是有 {count} 个项目的申报表，超过一份申报表最多 {max} 个项目，无法检查。"
        "请用本程序（xltool template --stage 申报）生成的申报表填报，项目多于 {max} 个的单位分几份申报表、每份不超过 {max} 个项目。",
    ),
}

# The sentence used when a caller passes a code that is not in CODES (a bug, but never a crash).
_UNKNOWN = (ERROR, "检查发现问题（代码 {code}）：{detail}")


def severity(code: str) -> str:
    return CODES.get(code, _UNKNOWN)[0]


# ---------------------------------------------------------------- showing values in sentences

_MAX_SHOWN = 80
_MAX_DIGITS = 20  # a number longer than this as plain text reads as 1.0E+300
_MAX_PARAM = 400  # a text put into a sentence (a name from the file): longer ones are cut in the middle


def show(value) -> str:
    """A cell value as it should read in a sentence: 24, 7.16, 0.5, TRUE, （空白）, text cut at 80,
    a number of more than 20 characters as 1.0E+300."""
    if value is None:
        return "（空白）"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, Decimal)):
        return plain_number(value)
    text = str(value).replace("\r\n", " ").replace("\n", " ").strip()
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 1] + "…"
    return text if text else "（空白）"


def plain_number(value) -> str:
    """24 (not 24.00 or 2.4E+1), 7.16, 0.5, -3; floats through their shortest text, a fraction at
    Excel's 15 significant digits (0.30000000000000004 reads 0.3, as the cell shows it). A number that
    would take more than 20 characters (1E+300 from a hostile file, a 300-digit integer) reads
    1.0E+300, six significant digits at most: a sentence never carries hundreds of digits."""
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not d.is_finite():
            return str(value)
        if d != d.to_integral_value():
            d = as_excel_shows(d)  # a fraction Excel saved with 17 digits: 0.30000000000000004 shows 0.3
        d = d.normalize()
        if d.is_zero():
            return "0"
        text = format(d, "f")
        if len(text) > _MAX_DIGITS:
            mantissa, exponent = format(d, ".5E").split("E")
            mantissa = mantissa.rstrip("0")
            return f"{mantissa}0E{exponent}" if mantissa.endswith(".") else f"{mantissa}E{exponent}"
        return text
    except Exception:  # noqa: BLE001 - a sentence must come out whatever the value is
        return _cut(str(value))


def _cut(text: str, limit: int = _MAX_PARAM) -> str:
    """A text for a sentence, at most `limit` characters: a longer one keeps its start and end
    (“项目“长长…长长”第 3 行指标”), so a name pasted 40,000 characters long cannot blow up a message."""
    if len(text) <= limit:
        return text
    tail = limit // 4
    return text[: limit - tail - 1] + "…" + text[-tail:]


def percent(rate) -> str:
    """0.7156 → "71.56%"; None → "无法计算"."""
    if rate is None:
        return "无法计算"
    try:
        return format((Decimal(rate) * 100).quantize(Decimal("0.01")), "f") + "%"
    except Exception:  # noqa: BLE001
        return str(rate)


# ---------------------------------------------------------------- exceptions as Chinese details

_ERRNO_TEXT = {
    "ENOENT": "文件或文件夹不存在，请检查路径是否写对",
    "EACCES": "没有访问权限，请检查文件或文件夹的权限，或换一个位置",
    "EPERM": "操作不被允许，请检查文件或文件夹的权限，或换一个位置",
    "EISDIR": "这是一个文件夹，不是文件",
    "ENOTDIR": "路径中的某一级不是文件夹，请检查路径",
    "EEXIST": "同名文件已存在",
    "ENOSPC": "磁盘空间已满，请清理磁盘或换一个位置",
    "EDQUOT": "磁盘配额已用完，请清理磁盘或换一个位置",
    "EROFS": "磁盘或文件夹是只读的，请换一个可以写入的位置",
    "ENAMETOOLONG": "文件名或路径过长，请缩短名称",
    "EBUSY": "文件正被其他程序占用，请关闭该程序后重试",
    "ETXTBSY": "文件正被其他程序占用，请关闭该程序后重试",
    "ELOOP": "快捷方式（符号链接）互相指向，形成了循环",
    "EIO": "读写出错，可能是磁盘、U 盘或网络盘故障，请复制到本机后重试",
    "EMFILE": "同时打开的文件过多，请减少并行进程数后重试",
    "ENFILE": "同时打开的文件过多，请减少并行进程数后重试",
    "EINVAL": "文件名或路径中含有不允许的字符",
    "EXDEV": "不能跨磁盘移动文件，请把输出放在同一磁盘上",
    "EFBIG": "文件超过了磁盘允许的大小",
    "ENXIO": "设备不可用",
    "ESPIPE": "不是普通文件，无法读取",
}

# Where an output is being written, a few of these read better said of the output's place.
_ERRNO_OUTPUT_TEXT = {
    "ENOENT": "所在文件夹不存在或已被删除，请检查路径",
    "EISDIR": "这是一个文件夹，请给出文件路径",
    "EPIPE": "接收输出的程序已经退出",
    "ESPIPE": "不能写入这个位置，请给出普通文件的路径",
}

# (pattern in an exception's English text, Chinese) — pandas, zipfile, openpyxl, yaml and lxml.
_TEXT_PATTERNS = [
    (r"No columns to parse from file", "文件是空的，没有表头和数据"),
    (r"Error tokenizing data.*?Expected (\d+) fields in line (\d+), saw (\d+)", "第 {1} 行有 {2} 列，比表头的 {0} 列多，请检查该行是否多了逗号"),
    (r"File is not a zip file", "不是压缩包格式（.xlsx 工作簿实际上是一个压缩包），可能只是改了扩展名"),
    (r"Bad magic number|Bad CRC-32|Truncated file header|Corrupt extra field|zipfiles that span multiple disks",
     "压缩包已损坏或不完整，可能没有传输完整"),
    (r"There is no item named", "压缩包中缺少必需的部件"),
    (r"Error -3 while decompressing|invalid (?:stored )?block|incorrect header check|invalid distance", "压缩数据已损坏"),
    (r"openpyxl does not support (?:the old )?\.xls", "是旧版 .xls 格式，请另存为 .xlsx"),
    (r"openpyxl does not support (.+) file format", "不是 .xlsx 格式，请另存为 .xlsx"),
    (r"Excel file format cannot be determined", "无法识别的 Excel 格式，请另存为 .xlsx"),
    (r"Worksheet named '(.*)' not found", "找不到工作表“{0}”"),
    (r"could not convert string to float: '(.*)'", "“{0}”不是数字"),
    (r"invalid literal for int\(\) with base 10: '(.*)'", "“{0}”不是整数"),
]

_YAML_PROBLEMS = [
    ("mapping values are not allowed here", "此处不能出现冒号“:”（冒号后要有空格；文字中含冒号时请加引号）"),
    ("could not find expected ':'", "缺少冒号“:”"),
    ("found character '\\t' that cannot start any token", "含有制表符，请改用空格缩进"),
    ("found character '\t' that cannot start any token", "含有制表符，请改用空格缩进"),
    ("that cannot start any token", "含有不能出现在这里的字符"),
    ("did not find expected key", "缩进不一致或缺少键名"),
    ("did not find expected node content", "缺少内容"),
    ("did not find expected '-' indicator", "列表项的缩进不一致"),
    ("found unexpected end of stream", "文件在引号或括号闭合之前就结束了"),
    ("found undefined alias", "引用了未定义的锚点（*别名）"),
    ("found duplicate anchor", "锚点（&名称）重复"),
    ("expected <block end>, but found", "缩进不一致"),
    ("while scanning a quoted scalar", "引号没有闭合"),
    ("found unknown escape character", "引号中含有无效的转义字符（反斜杠）"),
    ("expected a single document", "文件中只能有一个文档（不要使用“---”分隔多个文档）"),
    ("found unhashable key", "键名不能是列表或映射"),
]


def explain(exc: BaseException, writing: bool = False) -> str:
    """An exception as a Chinese detail for a sentence: what went wrong, in words a finance officer
    reads (never the English text of Python, pandas, zipfile, lxml or yaml). writing: the error came
    from writing an output, whose path the sentence already names."""
    import errno as _errno
    import re

    try:
        wrapped = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__cause__
        if wrapped is not None and wrapped is not exc and not (isinstance(exc, OSError) and exc.errno is not None):
            return explain(wrapped, writing)  # xlsxwriter's FileCreateError(OSError), or OSError(text) from it
        if isinstance(exc, OSError) and getattr(exc, "errno", None) is not None:
            name = _errno.errorcode.get(exc.errno, "")
            text = (writing and _ERRNO_OUTPUT_TEXT.get(name)) or _ERRNO_TEXT.get(name, f"操作系统报告错误（错误号 {exc.errno}）")
            where = None if writing else getattr(exc, "filename", None)
            return f"{text}（{show(str(where))}）" if where else text
        if isinstance(exc, MemoryError):
            return "内存不足"
        if isinstance(exc, RecursionError):
            return "内容嵌套过深"
        if isinstance(exc, UnicodeError):
            return "文字编码无法识别，请保存为 UTF-8 编码"
        kind = type(exc).__name__
        if kind == "XMLSyntaxError":  # lxml: "... line 3, column 7"
            line = getattr(exc, "lineno", None)
            return f"XML 格式错误（第 {line} 行）" if line else "XML 格式错误"
        if kind.endswith("YAMLError") or hasattr(exc, "problem_mark"):
            return explain_yaml(exc)
        message = str(exc)
        for pattern, chinese in _TEXT_PATTERNS:
            found = re.search(pattern, message, flags=re.S)
            if found:
                return chinese.format(*found.groups())
        if kind in ("BadZipFile", "BadZipfile", "LargeZipFile"):
            return "压缩包已损坏或不完整"
        if kind == "error" and type(exc).__module__ == "zlib":
            return "压缩数据已损坏"
        if kind == "error" and type(exc).__module__ == "struct":
            return "文件内部结构已损坏"
        if kind in ("EmptyDataError",):
            return "文件是空的，没有表头和数据"
        if kind in ("ParserError", "CParserError"):
            return "表格的列数不一致，请检查是否有多余的逗号或引号"
        if kind == "InvalidFileException":
            return "不是 Excel 工作簿（.xlsx）"
        return "内容无法识别"
    except Exception:  # noqa: BLE001 - a detail must come out whatever the exception is
        return "内容无法识别"


def explain_yaml(exc: BaseException) -> str:
    """A yaml error → "第 3 行第 5 列：此处不能出现冒号“:”…"."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列：" if mark is not None else ""
    problem = str(getattr(exc, "problem", "") or "")
    context = str(getattr(exc, "context", "") or "")
    for english, chinese in _YAML_PROBLEMS:
        if english in problem or english in context:
            return where + chinese
    return where + "格式不正确"


class _SafeFormatter(string.Formatter):
    """str.format that never raises: a missing key is empty text, a bad spec shows the value."""

    def get_value(self, key, args, kwargs):
        if isinstance(key, int):
            return args[key] if key < len(args) else ""
        return kwargs.get(key, "")

    def get_field(self, field_name, args, kwargs):
        try:
            return super().get_field(field_name, args, kwargs)
        except Exception:  # noqa: BLE001 - "{a.b}" or "{a[0]}" on a value without them
            return "", field_name

    def format_field(self, value, format_spec):
        try:
            return super().format_field(value, format_spec)
        except Exception:  # noqa: BLE001
            return str(value)

    def convert_field(self, value, conversion):
        try:
            return super().convert_field(value, conversion)
        except Exception:  # noqa: BLE001
            return value


_FORMATTER = _SafeFormatter()


class _Blanks(dict):
    """Parameters where a missing one is empty text, as _SafeFormatter.get_value gives it."""

    def __missing__(self, key):
        return ""


def format_message(template: str, params: dict) -> str:
    try:
        # str.format_map first (C, a few times faster: every finding's sentence comes through
        # here); it gives what the safe formatter gives whenever it does not raise
        return template.format_map(_Blanks(params))
    except Exception:  # noqa: BLE001 - the safe formatter decides
        pass
    try:
        return _FORMATTER.vformat(template, (), params)
    except Exception:  # noqa: BLE001 - an unbalanced brace in a template: show it as written
        return template


def finding(code: str, sheet: str = "", cell: str = "", seen=None, expected=None, **params) -> Finding:
    """One finding with its message filled in. Keyword params fill the template's placeholders;
    seen and expected are kept as given (for the report) and shown as text in the sentence, or as
    the params seen_text / expected_text say when those are given (a rate shown as "71.56%")."""
    level, template = CODES.get(code, _UNKNOWN)
    seen_text = params.pop("seen_text", None)
    expected_text = params.pop("expected_text", None)
    values = {key: (_cut(value) if isinstance(value, str) else show(value)) for key, value in params.items()}
    values.setdefault("code", code)
    values.setdefault("sheet", sheet or "")
    values.setdefault("cell", cell or "")
    values["seen"] = _cut(str(seen_text)) if seen_text is not None else show(seen)
    values["expected"] = _cut(str(expected_text)) if expected_text is not None else show(expected)
    message = " ".join(format_message(template, values).split())  # no doubled or trailing spaces
    return Finding(code=code, severity=level, message=message, sheet=sheet or "", cell=cell or "", seen=seen, expected=expected)
