"""Chinese prose for generated reports: phrase pools written for this project (no text copied from
real reports) and the functions that assemble each section from them.

Each function takes a `random.Random` and a `Voice` (how the body refers to itself) and returns
paragraphs. Figures that the rules compare with the tables (主动公开 count, 收到申请 N 件, 行政复议
/ 行政诉讼 counts, 信息处理费) are written by the caller-supplied numbers only, once each.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Voice:
    short: str  # 刘楼镇
    self_ref: str  # 我镇 / 本街道 / 我局 / 本县
    unit: str  # 镇 / 街道 / 局 / 县
    superior: str  # 县委、县政府 / 区委、区政府 / 市委、市政府
    year: int


def voice_for(entity: str, short: str, kind: str, year: int) -> Voice:
    if kind == "township":
        unit = "乡" if short.endswith("乡") else "镇"
        return Voice(short, f"我{unit}", unit, "县委、县政府", year)
    if kind == "street":
        return Voice(short, "我街道", "街道", "区委、区政府", year)
    if kind == "county_gov":
        unit = short[-1] if short[-1] in "县区市旗" else "县"
        return Voice(short, f"我{unit}", unit, "市委、市政府", year)
    unit = entity[-1] if entity[-1] in "局委办院" else "单位"
    return Voice(short, f"我{unit}", unit, "县委、县政府", year)


def pick(rng: random.Random, pool: list[T], k: int) -> list[T]:
    """k distinct items in pool order (never two equal items next to each other)."""
    idx = sorted(rng.sample(range(len(pool)), min(k, len(pool))))
    return [pool[i] for i in idx]


def fill(text: str, v: Voice, **extra: object) -> str:
    return text.format(s=v.short, me=v.self_ref, unit=v.unit, sup=v.superior, Y=v.year,
                       Y1=v.year + 1, **extra)


# ---------------------------------------------------------------------------------------------
# Section 一 (overview) and the preamble

PREAMBLE = [
    "本报告依据《中华人民共和国政府信息公开条例》（以下简称《条例》）第五十条的规定编制，"
    "由{s}政府信息公开工作领导小组办公室负责撰写。",
    "按照《中华人民共和国政府信息公开条例》和上级政务公开工作部署，现将{s}{Y}年度政府信息公开工作情况报告如下。",
    "根据《中华人民共和国政府信息公开条例》要求，{s}编制了本年度政府信息公开工作年度报告，"
    "报告全文可在本级政府门户网站查阅。",
]
PERIOD = "本报告中所列数据的统计期限自{Y}年1月1日起至{Y}年12月31日止。"
CONTACT = "如对本报告有疑问，请与{s}党政综合办公室联系（工作日上午8:30—12:00，下午14:00—17:30）。"

OVERVIEW_INTRO = [
    "{Y}年，{me}在{sup}的正确领导下，认真贯彻落实《条例》和上级关于政务公开的各项部署，"
    "围绕群众关心关切的事项，不断完善公开机制，拓宽公开渠道，政府信息公开工作平稳有序推进。",
    "{Y}年，{me}坚持以公开为常态、不公开为例外，把政务公开与中心工作同部署、同推进，"
    "以标准化规范化建设为抓手，持续提升政府信息公开的质量和实效。",
    "一年来，{me}紧扣年度政务公开工作要点，压实工作责任，强化制度保障，"
    "公开内容更加全面，公开程序更加规范，群众的知情权、参与权和监督权得到有效保障。",
]

# (sub-heading, paragraphs): the sub-parts of 一、总体情况 most reports list
OVERVIEW_PARTS: list[tuple[str, list[str]]] = [
    ("主动公开", [
        "{me}依托政府门户网站、政务公开栏和微信公众号等载体，重点公开财政预决算、惠民补贴发放、"
        "项目建设、安全生产等信息，做到应公开尽公开。",
        "围绕乡村振兴、社会救助、征地补偿等群众关注的领域，{me}及时更新公开内容，"
        "对政策文件同步做好解读，方便群众查询和理解。",
    ]),
    ("依申请公开", [
        "{me}严格执行依申请公开受理、审查、答复等环节的工作流程，明确办理时限，"
        "确保每一件申请都能依法依规、按时答复。",
        "{me}畅通依申请公开渠道，在政务服务大厅设置申请受理窗口，安排专人负责登记和答复，"
        "做到件件有记录、事事有回音。",
    ]),
    ("政府信息管理", [
        "{me}建立政府信息公开属性源头认定机制，文件起草时即明确公开属性，"
        "对拟公开的信息严格履行保密审查程序，防止泄密事件发生。",
        "{me}对历年发布的政策文件进行清理，对已废止或失效的文件及时标注，"
        "保证公开信息的准确性和时效性。",
    ]),
    ("政府信息公开平台建设", [
        "{me}加强政府网站信息公开专栏的日常维护，定期巡查栏目更新情况，"
        "对空白栏目和长期未更新栏目进行整改。",
        "{me}在各村（社区）设立政务公开栏，与网站公开形成互补，"
        "让不便上网的群众也能及时了解政府工作。",
    ]),
    ("监督保障", [
        "{me}将政务公开工作纳入年度目标考核，明确分管领导和具体经办人员，"
        "定期通报工作进展，督促各站所按时完成公开任务。",
        "{me}主动接受群众和社会监督，公布监督电话，对群众反映的公开不及时、不规范问题认真核查整改。",
    ]),
    ("教育培训", [
        "{me}组织机关干部和村级信息员参加政务公开业务培训，"
        "学习《条例》和信息发布规范，提升工作人员的业务能力。",
        "{me}通过以会代训、集中学习等方式，加强对新任工作人员的业务指导，"
        "帮助其尽快熟悉信息公开工作流程。",
    ]),
]

SUBNUM = "（一）（二）（三）（四）（五）（六）（七）（八）"


def overview(rng: random.Random, v: Voice, *, repeated_item: bool = False) -> list[str]:
    paras = [fill(rng.choice(OVERVIEW_INTRO), v)]
    parts = pick(rng, list(range(len(OVERVIEW_PARTS))), rng.randint(3, 5))
    for i, p in enumerate(parts):
        head, pool = OVERVIEW_PARTS[p]
        paras.append(SUBNUM[3 * i: 3 * i + 3] + head)
        paras.append(fill(rng.choice(pool), v))
    paras.append(systems(rng, v, repeated_item=repeated_item))
    return paras


def systems(rng: random.Random, v: Voice, *, repeated_item: bool = False) -> str:
    """The sentence listing the body's rules (with one item doubled when asked: TEXT-004)."""
    names = pick(rng, ["政府信息公开工作制度", "信息发布保密审查制度", "依申请公开办理制度",
                       "政务公开考核评议制度", "政策解读工作制度"], 3)
    items = [f"“{v.short}{n}”" for n in names]
    if repeated_item:
        items.insert(2, items[1])
    return (fill("在制度建设方面，{me}修订完善了", v) + "、".join(items) + "等工作制度，"
            "进一步明确了各环节的责任人和办理时限。")


# ---------------------------------------------------------------------------------------------
# Section 二 (active)

ACTIVE = [
    "{Y}年，{me}通过政府门户网站主动公开政府信息{n}条，其中工作动态、通知公告和政策文件占比较大，"
    "主动公开的内容以表格形式列示如下。",
    "全年共主动公开政府信息{n}条，涵盖机构职能、规划计划、财政资金、民生保障等方面，"
    "具体情况见下表。",
    "{me}全年主动公开政府信息{n}条，各类信息均按照公开目录及时发布。",
]


def active(rng: random.Random, v: Voice, count: int) -> list[str]:
    return [fill(rng.choice(ACTIVE), v, n=count)]


# ---------------------------------------------------------------------------------------------
# Section 三 (requests)

REQUESTS_RECEIVED = [
    "{Y}年，{me}共收到政府信息公开申请{n}件。",
    "本年度{me}共收到政府信息公开申请{n}件，均在法定期限内予以答复。",
    "全年共收到政府信息公开申请{n}件，申请内容主要涉及征地拆迁、社会保障和项目建设等方面。",
]
REQUESTS_CARRY = "另有上年结转申请{co}件，结转下年度继续办理{cf}件。"
REQUESTS_TAIL = [
    "办理情况详见下表。",
    "收到和处理政府信息公开申请的具体情况如下。",
]


def requests(rng: random.Random, v: Voice, new: int, carried_over: int,
             carried_forward: int) -> tuple[list[str], dict[str, int]]:
    text = fill(rng.choice(REQUESTS_RECEIVED), v, n=new)
    stated = {"requests_new": new}
    if carried_over or carried_forward:
        text += REQUESTS_CARRY.format(co=carried_over, cf=carried_forward)
        stated |= {"requests_carried_over": carried_over, "requests_carried_forward": carried_forward}
    return [text + rng.choice(REQUESTS_TAIL)], stated


# ---------------------------------------------------------------------------------------------
# Section 四 (review_litigation)

def review(rng: random.Random, v: Voice, review_total: int,
           litigation_total: int) -> tuple[list[str], dict[str, int]]:
    if review_total == 0 and litigation_total == 0:
        return [fill(rng.choice([
            "{Y}年，{me}未发生因政府信息公开引起的行政复议和行政诉讼案件。",
            "本年度{me}没有发生政府信息公开方面的行政复议、行政诉讼。",
        ]), v)], {}
    text = fill("{Y}年，{me}发生政府信息公开行政复议{r}件、行政诉讼{l}件，具体情况如下。", v,
                r=review_total, l=litigation_total)
    return [text], {"review_total": review_total, "litigation_total": litigation_total}


# ---------------------------------------------------------------------------------------------
# Section 五 (problems)

PROBLEMS = [
    "公开内容的深度和广度还不够，部分信息更新不够及时",
    "政策解读的形式比较单一，图解、视频等群众喜闻乐见的形式运用不多",
    "工作人员多为兼职，业务水平有待进一步提高",
    "村级政务公开栏的规范化程度不高，个别内容更新滞后",
    "依申请公开的答复文书还不够规范",
]
PLANS = [
    "加强对工作人员的业务培训，提升信息发布的质量",
    "严格落实信息发布审核制度，确保公开信息准确规范",
    "丰富政策解读形式，增强解读的针对性和可读性",
    "加强政府网站栏目的日常巡查，及时更新各类信息",
    "推进基层政务公开标准化规范化建设，完善公开事项目录",
]


def problems(rng: random.Random, v: Voice, *, plans_year: int | None = None) -> list[str]:
    probs = pick(rng, PROBLEMS, 2)
    plans = pick(rng, PLANS, 3)
    p1 = fill("{me}政府信息公开工作虽然取得了一定成效，但仍存在一些不足：", v) + \
        f"一是{probs[0]}；二是{probs[1]}。"
    year = plans_year if plans_year is not None else v.year + 1
    dated = rng.random() < 0.6  # drawn either way, so a forced year leaves the rest of the prose alone
    lead = rng.choice(["{y}年，{me}将重点做好以下工作：", "{y}年，{me}将从以下几个方面加以改进："])
    if plans_year is None and not dated:
        lead = "下一步，{me}将着力做好以下工作："
    p2 = lead.format(y=year, me=v.self_ref) + f"一是{plans[0]}；二是{plans[1]}；三是{plans[2]}。"
    return [p1, p2]


# ---------------------------------------------------------------------------------------------
# Section 六 (other)

def other(rng: random.Random, v: Voice, template: str, fee_yuan: int) -> tuple[list[str], dict[str, int]]:
    if template == "2021":
        if fee_yuan > 0:
            return [fill("{Y}年，{me}依据《政府信息公开信息处理费管理办法》收取信息处理费", v)
                    + f"{fee_yuan}元。"], {"fees_collected_yuan": fee_yuan}
        return [fill(rng.choice([
            "{Y}年，{me}未收取信息处理费，无其他需要报告的事项。",
            "本年度{me}没有收取信息处理费。无其他需要报告的事项。",
        ]), v)], {}
    return [rng.choice(["无其他需要报告的事项。", "无。", "本年度无其他需要报告的事项。"])], {}


# ---------------------------------------------------------------------------------------------
# The 2008 template: free-form parts

OLD_ORG = [
    "{me}成立了由主要负责同志任组长的政府信息公开工作领导小组，领导小组办公室设在党政办，"
    "配备专门人员负责日常工作，形成了主要领导亲自抓、分管领导具体抓的工作格局。",
    "{me}进一步调整充实了政府信息公开工作领导小组，明确一名分管领导和两名工作人员具体负责，"
    "把信息公开工作列入重要议事日程。",
]
OLD_ACTIVE = [
    "{Y}年，{me}主动公开政府信息{n}条，内容涵盖机构职能、政策法规、规划计划、业务工作等方面，"
    "公开形式以政府网站和政务公开栏为主。",
    "全年共主动公开政府信息{n}条，其中政策法规类信息、业务工作类信息占多数，"
    "均按照公开目录和公开时限发布。",
]
OLD_REQUESTS = [
    "{Y}年，{me}共收到政府信息公开申请{n}件，均已按规定办结。",
    "本年度{me}共收到政府信息公开申请{n}件，全部在规定期限内答复申请人。",
]
OLD_REQUESTS_NONE = "{Y}年，{me}共收到政府信息公开申请0件。"
OLD_FEES = ["{me}在政府信息公开工作中未收取任何费用。", "本年度未发生政府信息公开收费及减免情况。"]
OLD_REVIEW = ["本年度未发生因政府信息公开申请提起的行政复议、行政诉讼。",
              "{Y}年，{me}没有发生有关政府信息公开的行政复议和行政诉讼案件。"]
OLD_OTHER = ["无需要说明的事项。", "本年度无其他需要说明的事项。"]


def old_parts(rng: random.Random, v: Voice, active_count: int, requests_new: int,
              *, plans_year: int | None = None,
              repeated_item: bool = False) -> tuple[dict[str, list[str]], dict[str, int]]:
    sections = {
        "overview": [fill(rng.choice(OVERVIEW_INTRO), v), fill(rng.choice(OLD_ORG), v)]
        + [fill(rng.choice(OVERVIEW_PARTS[i][1]), v) for i in pick(rng, [0, 2, 3, 4, 5], 2)]
        + [systems(rng, v, repeated_item=repeated_item)],
        "active": [fill(rng.choice(OLD_ACTIVE), v, n=active_count)],
        "requests": [fill(rng.choice(OLD_REQUESTS) if requests_new else OLD_REQUESTS_NONE, v, n=requests_new)],
        "fees": [fill(rng.choice(OLD_FEES), v)],
        "review_litigation": [fill(rng.choice(OLD_REVIEW), v)],
        "problems": problems(rng, v, plans_year=plans_year),
        "other": [rng.choice(OLD_OTHER)],
    }
    return sections, {"active_count": active_count, "requests_new": requests_new}
