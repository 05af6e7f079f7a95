"""Declarations of the 2008, 2019 (国办公开办函〔2019〕60号) and 2021 (国办公开办函〔2021〕30号)
templates. Patterns are regexes on normalised text (NFKC, no whitespace): "(" not "（", "." not "．"."""

from __future__ import annotations

from monitor.templates import ColumnDecl, GroupDecl, RowDecl, SectionDecl, Template, Variant

SECTIONS = (
    SectionDecl("overview", 1, "总体情况", (r"总体情况", r"^概述$", r"工作概述", r"总体概[述况]", r"^概况$",
                                         r"整体情况", r"总体工作情况", r"工作基本情况")),
    # "主动公开政府政府情况" (a doubled word) is still section 二
    SectionDecl("active", 2, "主动公开政府信息情况", (r"主动公开政府信息", r"主动公开情况", r"^主动公开.{0,6}情况$")),
    SectionDecl("requests", 3, "收到和处理政府信息公开申请情况",
                (r"收到和处理.*申请", r"收到.*处理.*申请", r"依申请公开.*情况", r"申请的?办理情况")),
    SectionDecl("review_litigation", 4, "政府信息公开行政复议、行政诉讼情况",
                (r"行政复议.{0,3}行政诉讼", r"复议.*诉讼")),
    SectionDecl("problems", 5, "存在的主要问题及改进情况",
                (r"存在的?主要问题", r"存在的?问题", r"问题及改进", r"改进情况")),
    SectionDecl("other", 6, "其他需要报告的事项",
                (r"其他需要报告", r"其他需要说明", r"需要说明的事项", r"其他事项", r"其他.{0,2}报告.{0,2}事项",
                 r"其他需报告")),
)

# ---- table 二 -------------------------------------------------------------------------------
_DOC_COLS_2019 = (ColumnDecl("made", "本年新制作数量"), ColumnDecl("published", "本年新公开数量"),
                  ColumnDecl("total", "对外公开总数量"))
_ITEM_COLS_2019 = (ColumnDecl("prev", "上一年项目数量"), ColumnDecl("change", "本年增/减", signed=True),
                   ColumnDecl("decisions", "处理决定数量"))
_FEE_COLS_2019 = (ColumnDecl("prev", "上一年项目数量"), ColumnDecl("change", "本年增/减", signed=True))
_PROC_COLS_2019 = (ColumnDecl("count", "采购项目数量"), ColumnDecl("amount", "采购总金额", money=True))

ACTIVE_2019 = (
    GroupDecl(_DOC_COLS_2019, (RowDecl("rules", "规章", (r"规章$",)),
                               RowDecl("normative_docs", "规范性文件", (r"规范性文件$",))),
              ("本年新制作数量", "本年新公开数量", "对外公开总数量")),
    GroupDecl(_ITEM_COLS_2019, (RowDecl("licensing", "行政许可", (r"行政许可$",)),
                                RowDecl("other_services", "其他对外管理服务事项",
                                        (r"其他对外管理服务事项$", r"对外管理服务事项$")))),
    GroupDecl(_ITEM_COLS_2019, (RowDecl("penalty", "行政处罚", (r"行政处罚$",)),
                                RowDecl("enforcement", "行政强制", (r"行政强制$",)))),
    GroupDecl(_FEE_COLS_2019, (RowDecl("fees", "行政事业性收费", (r"行政事业性收费$", r"事业性收费$")),)),
    GroupDecl(_PROC_COLS_2019, (RowDecl("procurement", "政府集中采购", (r"政府集中采购$", r"集中采购$")),),
              ("采购项目数量", "采购总金额")),
)

_DOC_COLS_2021 = (ColumnDecl("issued", "本年制发件数"), ColumnDecl("repealed", "本年废止件数"),
                  ColumnDecl("in_force", "现行有效件数"))
_DECISIONS_2021 = (ColumnDecl("decisions", "本年处理决定数量"),)

ACTIVE_2021 = (
    GroupDecl(_DOC_COLS_2021, (RowDecl("rules", "规章", (r"规章$",)),
                               RowDecl("normative_docs", "行政规范性文件", (r"规范性文件$",))),
              ("本年制发件数", "本年废止件数", "现行有效件数")),
    GroupDecl(_DECISIONS_2021, (RowDecl("licensing", "行政许可", (r"行政许可$",)),)),
    GroupDecl(_DECISIONS_2021, (RowDecl("penalty", "行政处罚", (r"行政处罚$",)),
                                RowDecl("enforcement", "行政强制", (r"行政强制$",)))),
    GroupDecl((ColumnDecl("amount", "本年收费金额（万元）", money=True),),
              (RowDecl("fees", "行政事业性收费", (r"行政事业性收费$", r"事业性收费$")),)),
)

# ---- table 三 -------------------------------------------------------------------------------
_R = RowDecl
# The merged label cells of table 三 (the `under` of its rows).
RESULTS = "三、本年度办理结果"
REFUSED = "（三）不予公开"
UNABLE = "（四）无法提供"
REJECTED = "（五）不予处理"
OTHER = "（六）其他处理"
_RES, _REF, _UNA, _REJ, _OTH = (RESULTS,), (RESULTS, REFUSED), (RESULTS, UNABLE), (RESULTS, REJECTED), (RESULTS, OTHER)
_REQ_HEAD = (
    _R("new", "一、本年新收政府信息公开申请数量", (r"本年新收", r"新收.*申请数量"),
       (Variant(r"本年新收到", "本年新收政府信息公开申请数量"),)),
    _R("carried_over", "二、上年结转政府信息公开申请数量", (r"上年结转", r"上年度结转"),
       (Variant(r"上年结转政府信息公开数量", "上年结转政府信息公开申请数量"),)),
    _R("granted", "（一）予以公开", (r"予以公开",), under=_RES),
    _R("partial", "（二）部分公开", (r"部分公开",), under=_RES),
    _R("refused_state_secret", "1．属于国家秘密", (r"国家秘密",), under=_REF),
    _R("refused_law", "2．其他法律行政法规禁止公开", (r"法律行政法规禁止", r"法规禁止公开", r"禁止公开"), under=_REF),
    _R("refused_security", "3．危及“三安全一稳定”", (r"三安全一稳定", r"危及", r"危机"),
       (Variant(r"危机", "危及“三安全一稳定”"),), under=_REF),
    _R("refused_third_party", "4．保护第三方合法权益", (r"第三方",), under=_REF),
    _R("refused_internal", "5．属于三类内部事务信息", (r"内部事务",), under=_REF),
    _R("refused_process", "6．属于四类过程性信息", (r"过程性",), under=_REF),
    _R("refused_enforcement_file", "7．属于行政执法案卷", (r"执法案卷", r"法案卷", r"案卷"),
       (Variant(r"(?<!执)法案卷", "属于行政执法案卷"),), under=_REF),
    _R("refused_query", "8．属于行政查询事项", (r"行政查询", r"查询事项"), under=_REF),
    _R("unable_not_held", "1．本机关不掌握相关政府信息", (r"不掌握",), under=_UNA),
    _R("unable_needs_creation", "2．没有现成信息需要另行制作", (r"另行制作", r"现成信息"),
       (Variant(r"需另行制作", "没有现成信息需要另行制作"),), under=_UNA),
    _R("unable_unclear", "3．补正后申请内容仍不明确", (r"仍不明确", r"补正后"), under=_UNA),
    _R("rejected_petition", "1．信访举报投诉类申请", (r"信访", r"举报投诉"), under=_REJ),
    _R("rejected_duplicate", "2．重复申请", (r"重复申请",), under=_REJ),
    _R("rejected_publication", "3．要求提供公开出版物", (r"出版物",), under=_REJ),
    _R("rejected_mass", "4．无正当理由大量反复申请", (r"大量反复", r"反复申请"), under=_REJ),
    _R("rejected_confirmation", "5．要求行政机关确认或重新出具已获取信息", (r"重新出具", r"确认或"), under=_REJ),
)
_REQ_TAIL = (
    _R("total", "（七）总计", (r"总计$", r"\(七\)总计", r"七\)?总计"), under=_RES),
    _R("carried_forward", "四、结转下年度继续办理", (r"结转下年度", r"下年度继续办理", r"结转下一?年")),
)
REQUESTS_2019 = _REQ_HEAD + (_R("other", OTHER, (r"其他处理$", r"\(六\)其他处理"), under=_RES),) + _REQ_TAIL
REQUESTS_2021 = _REQ_HEAD + (
    _R("other_no_correction", "1．申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
       (r"逾期不补正", r"不补正"), under=_OTH),
    _R("other_no_fee", "2．申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
       (r"收费通知", r"缴纳费用"), under=_OTH),
    _R("other_other", "3．其他", (r"(?:^|[^\u4e00-\u9fa5])(?:3\.?)?其他$", r"^其他$"), under=_OTH),
) + _REQ_TAIL

# Subtotal rows ("（三）不予公开" with its own numbers). Matched only when the label ends there.
REQUEST_SUBTOTALS = (
    _R("refused", REFUSED, (r"不予公开$",), required=False, under=_RES),
    _R("unable", UNABLE, (r"无法提供$",), required=False, under=_RES),
    _R("rejected", REJECTED, (r"不予处理$",), required=False, under=_RES),
)
REQUEST_SUBTOTALS_2021 = REQUEST_SUBTOTALS + (
    _R("other", OTHER, (r"其他处理$",), required=False, under=_RES),
)

T2008 = Template(id="2008", years=(2008, 2018), sections=SECTIONS)
T2019 = Template(
    id="2019", years=(2019, 2020), sections=SECTIONS, active=ACTIVE_2019, requests=REQUESTS_2019,
    request_subtotals=REQUEST_SUBTOTALS,
    markers=("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减",
             "采购项目数量", "采购总金额"),
)
T2021 = Template(
    id="2021", years=(2021, 2100), sections=SECTIONS, active=ACTIVE_2021, requests=REQUESTS_2021,
    request_subtotals=REQUEST_SUBTOTALS_2021,
    markers=("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额",
             "逾期不补正", "收费通知要求缴纳费用"),
)
TEMPLATES = {t.id: t for t in (T2008, T2019, T2021)}

# Section-heading wording of the modern templates that says "2019 or later" even without tables.
MODERN_HEADINGS = (r"收到和处理政府信息公开申请情况", r"政府信息公开行政复议、?行政诉讼情况",
                   r"存在的主要问题及改进情况")
