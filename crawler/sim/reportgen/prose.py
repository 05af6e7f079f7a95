"""Chinese prose for generated reports, written for this project (no text copied from real reports).

Real reports of one county are written by different people and differ from year to year, so the
prose here is composed rather than picked: every sentence is a small grammar (`[甲|乙|丙]` picks an
alternative, nested freely; `{me}`, `{v}`… are slots) with a choice every few characters, sections
take a varying number of parts in varying order, and each body has its own details (villages or
communities, local industries, projects, its office: `Profile`, fixed per body by a stable hash of
its name) of which each year's report mentions a few. Two bodies' reports of one year, or one
body's reports of consecutive years, share well under a third of their prose by the measure of
monitor/similarity.py (tests/test_reportgen.py checks it).

Each function takes a `random.Random` and a `Voice` (how the body refers to itself) and returns
paragraphs. Figures that the rules compare with the tables (主动公开 count, 收到申请 N 件, 行政复议
/ 行政诉讼 counts, 信息处理费) are written by the caller-supplied numbers only, once each. The number
of random draws never depends on a variant (repeated item, forced plan year), so a variant changes
only the text it is about.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------
# The body: voice and profile

@dataclass(frozen=True, slots=True)
class Profile:
    """What a body's reports talk about, fixed per body (not per report)."""

    places: tuple[str, ...]  # 柳湾村 / 东园社区 / 青石镇 / 执法大队
    place_word: str  # 村（社区） / 社区 / 乡镇 / 股室
    features: tuple[str, ...]  # local industries or lines of work
    projects: tuple[str, ...]  # works the body runs
    topics: tuple[str, ...]  # what people ask about
    office: str  # who writes the report


@dataclass(frozen=True, slots=True)
class Voice:
    short: str  # 刘楼镇
    self_ref: str  # 我镇 / 本街道 / 我局 / 本县
    unit: str  # 镇 / 街道 / 局 / 县
    superior: str  # 县委、县政府 / 区委、区政府 / 市委、市政府
    year: int
    profile: Profile = field(default_factory=lambda: _profile("", "township"))


def voice_for(entity: str, short: str, kind: str, year: int) -> Voice:
    profile = _profile(entity, kind)
    if kind == "township":
        unit = "乡" if short.endswith("乡") else "镇"
        return Voice(short, f"我{unit}", unit, "县委、县政府", year, profile)
    if kind == "street":
        return Voice(short, "我街道", "街道", "区委、区政府", year, profile)
    if kind == "county_gov":
        unit = short[-1] if short[-1] in "县区市旗" else "县"
        return Voice(short, f"我{unit}", unit, "市委、市政府", year, profile)
    unit = entity[-1] if entity[-1] in "局委办院" else "单位"
    return Voice(short, f"我{unit}", unit, "县委、县政府", year, profile)


_NAME_A = "柳石桥杨李王张刘陈赵黄周吴孙马胡郭何高林罗梁谢宋唐韩冯董程曹袁邓许沈彭吕苏蒋蔡丁魏薛叶潘杜" \
          "夏钟汪田姜范方姚谭廖邹熊陆郝孔白崔康毛邱秦史顾侯邵孟龙段雷汤尹黎常武乔贺龚"
_NAME_B = "庄湾坪岗店集桥河沟坡岭铺营寨洼口楼屯圩堡园塘滩冲山湖台垭岔堰坝"
_NAME_MID = "家东西南北上下大小新老前后"
_STREET_A = "东西南北中新和安康兴华文明光建利民春秋金银"
_STREET_B = "园苑湖桥路门山里街城岭坊"
_FEATURES = ("茶叶种植", "食用菌栽培", "中药材种植", "设施蔬菜", "稻虾共作", "肉牛养殖", "生猪养殖",
             "乡村旅游", "光伏发电", "农村电商", "果蔬冷链", "特色林果", "水产养殖", "花卉苗木",
             "杂粮加工", "红色旅游", "竹木加工", "蚕桑产业", "油茶种植", "民宿经济")
_PROJECTS = ("农村公路提档升级", "人居环境整治", "高标准农田建设", "饮水安全巩固提升", "农村危房改造",
             "河道清淤疏浚", "污水管网延伸", "便民服务中心改造", "文化广场建设", "集贸市场改造",
             "山塘水库除险加固", "村级活动场所提升", "路灯亮化", "土地整治", "产业路硬化")
_STREET_FEATURES = ("社区养老服务", "垃圾分类", "物业管理", "背街小巷整治", "停车秩序管理", "便民服务",
                    "社区网格化管理", "文明城市创建", "老年食堂", "社区矫正")
_STREET_PROJECTS = ("老旧小区改造", "农贸市场提升", "雨污分流改造", "口袋公园建设", "背街小巷改造",
                    "社区服务站改造", "二次供水改造", "充电设施建设", "电梯加装")
_COUNTY_FEATURES = ("重大建设项目", "公共资源配置", "社会公益事业", "乡村振兴", "优化营商环境",
                    "财政预决算", "生态环境保护", "义务教育", "医疗卫生", "就业创业")
_COUNTY_PROJECTS = ("县城道路改造", "工业园区扩区", "城乡供水一体化", "县医院新院区建设", "职教中心建设",
                    "污水处理厂提标", "保障性住房建设", "物流园建设", "农村公路网化")
_DEPT_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("财政", ("预算公开", "决算公开", "惠民惠农补贴", "政府采购", "专项资金管理", "国有资产")),
    ("教育", ("招生入学", "学生资助", "校园安全", "教师招聘", "课后服务", "学校建设")),
    ("市场", ("食品安全抽检", "企业登记", "特种设备", "价格监管", "药品监管", "质量抽查")),
    ("卫生", ("疫苗接种", "医疗机构管理", "公共卫生", "家庭医生签约", "母婴保健", "健康教育")),
    ("人力", ("就业创业", "社会保险", "劳动维权", "职称评审", "技能培训", "人才引进")),
    ("民政", ("最低生活保障", "养老服务", "婚姻登记", "殡葬管理", "社会组织", "残疾人两项补贴")),
    ("自然资源", ("征地补偿", "国土空间规划", "不动产登记", "地质灾害防治", "矿产资源", "耕地保护")),
    ("住", ("保障性住房", "建筑市场", "老旧小区改造", "物业管理", "房屋安全", "燃气安全")),
    ("农", ("农业补贴", "高标准农田", "动物防疫", "农产品质量安全", "种子管理", "农机购置补贴")),
    ("交通", ("农村公路", "道路运输", "超限治理", "公交线路", "水路运输", "驾培维修")),
    ("环境", ("环境质量", "建设项目环评", "环境执法", "污染防治", "排污许可", "饮用水源保护")),
    ("应急", ("安全生产", "防汛抗旱", "自然灾害救助", "危化品监管", "森林防灭火", "应急演练")),
    ("水利", ("河湖长制", "水利工程", "防汛", "水资源管理", "农村饮水", "水土保持")),
)
_DEPT_DEFAULT = ("行政执法", "政策文件", "财政资金", "重点项目", "公共服务", "权责清单")
_DEPT_UNITS = ("办公室", "法规股", "业务股", "财务股", "执法大队", "服务中心", "监督所", "审批股", "规划股",
               "综合股", "信息中心", "稽查队")
_OFFICES = {"township": ("党政办公室", "党政综合办公室", "党政办", "综合办公室"),
            "street": ("党政办公室", "综合办公室", "党工委办公室"),
            "county_gov": ("政府办公室", "政务公开办公室", "政府办政务公开股"),
            "department": ("办公室", "综合股", "办公室（政务公开股）")}


def _profile(entity: str, kind: str) -> Profile:
    rng = random.Random(int.from_bytes(hashlib.sha256(f"reportgen-profile:{entity}:{kind}".encode()).digest()[:8], "big"))
    places: list[str] = []
    while len(places) < 12:
        if kind == "street":
            name = rng.choice(_STREET_A) + rng.choice(_STREET_B) + "社区"
        elif kind == "department":
            name = rng.choice(_DEPT_UNITS)
        else:
            mid = rng.choice(_NAME_MID) if rng.random() < 0.4 else ""
            name = rng.choice(_NAME_A) + mid + rng.choice(_NAME_B)
            name += ("镇" if rng.random() < 0.7 else "乡") if kind == "county_gov" else "村"
        if name not in places and name not in entity:
            places.append(name)
        if kind == "department" and len(places) >= 6:
            break
    if kind == "street":
        features, projects = _STREET_FEATURES, _STREET_PROJECTS
    elif kind == "county_gov":
        features, projects = _COUNTY_FEATURES, _COUNTY_PROJECTS
    elif kind == "department":
        features = next((t for key, t in _DEPT_TOPICS if key in entity), _DEPT_DEFAULT)
        projects = features
    else:
        features, projects = _FEATURES, _PROJECTS
    topics = {"township": ("征地补偿", "惠农补贴", "低保救助", "宅基地审批", "项目建设", "危房改造", "土地流转"),
              "street": ("征收补偿", "低保救助", "房屋安置", "物业纠纷", "小区改造", "社区事务"),
              "county_gov": ("征地拆迁", "规划审批", "项目资金", "土地出让", "行政执法", "政策文件")}.get(kind, features)
    return Profile(
        places=tuple(places),
        place_word={"township": "村", "street": "社区", "county_gov": "乡镇", "department": "股室"}[kind],
        features=tuple(rng.sample(features, min(len(features), 4))),
        projects=tuple(rng.sample(projects, min(len(projects), 5))),
        topics=tuple(rng.sample(topics, min(len(topics), 4))),
        office=rng.choice(_OFFICES[kind]),
    )


# ---------------------------------------------------------------------------------------------
# The grammar

_ALT = re.compile(r"\[([^\[\]]*)\]")
_SLOT = re.compile(r"\{(\w+)\}")


def pick(rng: random.Random, pool: list[T], k: int) -> list[T]:
    """k distinct items in pool order (never two equal items next to each other)."""
    idx = sorted(rng.sample(range(len(pool)), min(k, len(pool))))
    return [pool[i] for i in idx]


def fill(text: str, v: Voice, **extra: object) -> str:
    """Slots only ({s}, {me}, {unit}, {sup}, {Y}, {Y1} and `extra`), no alternatives, no draws."""
    return text.format(s=v.short, me=v.self_ref, unit=v.unit, sup=v.superior, Y=v.year,
                       Y1=v.year + 1, **extra)


def say(rng: random.Random, text: str, v: Voice, **extra: object) -> str:
    """Expand a grammar sentence: `[a|b|c]` alternatives (innermost first), then slots. Slots:
    {s} {me} {unit} {sup} {Y} {Y1} {office}; {v} a place of the body, {f} one of its lines of
    work, {p} a project, {t} a topic of requests (each drawn afresh); and `extra`."""
    while True:
        text, n = _ALT.subn(lambda m: rng.choice(m.group(1).split("|")), text)
        if not n:
            break
    pr = v.profile
    fixed = {"s": v.short, "me": v.self_ref, "unit": v.unit, "sup": v.superior, "Y": v.year,
             "Y1": v.year + 1, "office": pr.office, "pw": pr.place_word, **extra}
    seen: set[str] = set()  # one sentence never names the same place or topic twice

    def fresh(pool: tuple[str, ...]) -> str:
        left = [x for x in pool if x not in seen] or list(pool)
        x = rng.choice(left)
        seen.add(x)
        return x

    def slot(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in fixed:
            return str(fixed[key])
        pool = {"v": pr.places, "f": pr.features, "p": pr.projects, "t": pr.topics}[key]
        return fresh(pool)

    return _SLOT.sub(slot, text)


def _sentences(rng: random.Random, v: Voice, pool: list[str], k: int) -> str:
    return "".join(say(rng, s, v) for s in pick(rng, pool, k))


# ---------------------------------------------------------------------------------------------
# The preamble

PREAMBLE = [
    "[根据|按照|依据]《中华人民共和国政府信息公开条例》[第五十条|的有关规定|和[上级|{sup}]的[工作要求|统一部署]]，"
    "[{s}|{me}][编制|编写|起草]了本[年度|年]政府信息公开工作年度报告[，由{office}[负责撰写|汇总编制|牵头完成]|]。",
    "[现将|下面将]{s}{Y}年度政府信息公开[工作|][情况|开展情况][报告|公布]如下[。|，[请予审阅|敬请社会各界监督]。]",
    "本报告[由{s}{office}[编制|整理]|是{s}按照条例要求编制的]，[内容包括|分为|共有]总体情况、[主动公开|依申请公开]情况等[六个部分|几部分]。",
]
PERIOD = "本报告中所列数据的统计期限自{Y}年1月1日起至{Y}年12月31日止。"
CONTACT = "如对本报告有疑问，请与{s}{office}联系（[工作日|周一至周五][上午8:30—12:00，下午14:00—17:30|办公时间内]）。"


def preamble(rng: random.Random, v: Voice) -> str:
    return say(rng, rng.choice(PREAMBLE), v)


def contact(rng: random.Random, v: Voice) -> str:
    return say(rng, CONTACT, v)


# ---------------------------------------------------------------------------------------------
# Section 一 (overview)

# Never "{Y}年，{me}将/继续/进一步…": that is how TEXT-002 spots plans dated with the report year.
OVERVIEW_INTRO = [
    "[{Y}年|{Y}年度|过去一年|这一年|本年度]，{me}[在{sup}的[正确|坚强]领导下|在{sup}的统一部署下|按照{sup}的[工作安排|部署要求]]，"
    "[认真|全面|扎实]贯彻[《条例》|政府信息公开条例][和|以及][上级|省市]关于[政务公开|基层政务公开]的[各项部署|工作要求|工作要点]，"
    "[围绕|聚焦|紧扣][群众|办事群众|辖区群众][关心|关注|关切]的[热点|重点][问题|事项|领域]，"
    "[持续|不断|逐步][完善|健全][公开机制|工作机制|制度体系]，[拓宽|丰富|畅通]公开[渠道|载体|平台]，"
    "[政府信息公开工作|各项公开工作|政务公开工作][平稳有序推进|取得了新的进展|总体运行平稳|较好完成了年度任务]。",
    "[这一年|{Y}年|本年度]，{me}[坚持|始终坚持|把握]以公开为常态、不公开为例外[的原则|]，"
    "[把|将][政务公开|信息公开][与|和][{f}|中心工作|{p}|重点工作][同部署|一起谋划]、[同推进|一起落实]，"
    "以[标准化规范化建设|公开目录梳理|平台整合][为抓手|为契机|为突破口]，"
    "[持续|着力|努力][提升|提高][公开的质量|公开实效|信息发布质量][和|与][群众满意度|办事便利度|公信力]。",
    "[一年来|本年度|{Y}年]，{me}[紧扣|围绕|对照][年度政务公开工作要点|上级下达的公开任务|{sup}的工作部署]，"
    "[压实|落实|明确][工作责任|分管责任|各站所责任]，[强化|加强][制度保障|督促检查|业务指导]，"
    "[公开内容[更加|日益]全面|公开范围[有所|进一步]扩大|信息发布[更加|日益]及时]，[公开程序|发布流程|审核环节][更加|日趋]规范，"
    "[群众的知情权|群众的参与权和监督权|办事群众的合法权益][得到|获得了][有效|较好]保障。",
    "{Y}年是[{me}|{s}][推进|落实][{f}|{p}|乡村振兴|基层治理][的关键之年|的重要一年|任务较重的一年]，"
    "[{me}|全{unit}上下][把|将]政务公开作为[转变作风|密切联系群众|推进依法行政]的[重要抓手|具体举措|一项基础工作]，"
    "[结合|围绕][{p}|{f}|民生实事]等[重点工作|中心任务]，[及时|主动][发布|公开][进展情况|相关信息|政策措施]，"
    "[较好地|基本|总体]满足了[群众|企业和群众|辖区居民]的[信息需求|知情需求]。",
]

# topic → (sub-heading alternatives, sentence pool)
OVERVIEW_PARTS: list[tuple[tuple[str, ...], list[str]]] = [
    (("主动公开", "主动公开情况", "做好主动公开", "抓好重点领域信息公开"), [
        "{me}[依托|通过|利用][政府门户网站|信息公开专栏|政务公开栏][和|、][微信公众号|村务公开栏|便民服务大厅电子屏]等[载体|渠道|平台]，"
        "[重点|集中|及时][公开|发布]了[{f}|{p}|财政预决算|惠民补贴发放|安全生产][、|和][{p}|{f}|社会救助|项目建设]等[信息|方面的内容]。",
        "[围绕|针对|聚焦][{f}|{p}|社会救助|征地补偿][等|这类][群众关注的|社会关注的|涉及群众切身利益的][领域|事项]，"
        "{me}[及时|第一时间|按月][更新|发布|上传][公开内容|相关信息|办理结果]，[同步|一并|配套]做好[政策解读|图文解读|宣传解答]。",
        "[在{v}、{v}等{pw}|在{v}和{v}]，{me}[推行|试行|落实][“四议两公开”|{p}项目公示|惠民资金公示][制度|做法]，"
        "[项目|资金|补贴]的[立项|安排|发放][情况|结果][全部|均][张榜|上墙|挂网][公示|公开]。",
        "[对|针对][{p}|{f}|{p}项目]，{me}[从立项到验收|从招标到竣工|按进度节点][全程|逐项|分阶段][公开|公示][实施进度|资金使用|建设内容]，"
        "[主动|自觉][接受|欢迎][群众|社会|媒体][监督|评议]。",
    ]),
    (("依申请公开", "依申请公开办理", "规范依申请公开"), [
        "{me}[严格执行|认真落实|对照][依申请公开|政府信息公开申请][受理、审查、答复|登记、办理、送达|接收、审核、答复]等[环节的|各环节|全流程][工作流程|办理规程|要求]，"
        "[明确|压实|落实][办理时限|承办责任|审核责任]，[确保|做到][每一件申请|申请件件|所有申请][依法|按时|规范][答复|办结|处理]。",
        "{me}[畅通|拓宽|完善][依申请公开渠道|申请受理渠道]，[在|于][便民服务大厅|服务中心窗口|{office}][设置|安排|明确][受理窗口|专人|联络员]，"
        "[负责|承担][登记|接收][和|、][答复|转办|跟踪]，[做到|实现][件件有记录|事事有回音|全程可追溯]。",
        "[对涉及|对关于|针对]{t}[等方面|等事项|方面]的申请，{me}[会同|协调|组织][相关站所|相关股室|{v}][核实|查找|调取][信息|材料|档案]，"
        "[在法定期限内|按时|及时][作出|出具][答复|告知]，[答复文书|告知书][格式规范|说理充分|依据明确]。",
    ]),
    (("政府信息管理", "加强信息管理", "规范信息发布"), [
        "{me}[建立|落实|完善][政府信息公开属性|公文公开属性][源头认定|前置审查][机制|制度]，[文件|公文][起草|拟制]时[即|同时][明确|标注][公开属性|是否公开]，"
        "[拟公开的信息|发布前的信息|所有公开信息][一律|严格|均][履行|经过][保密审查|“三审三校”|审核把关][程序|环节]。",
        "{me}[对|就][历年|以往|近年][发布|印发]的[政策文件|规范性文件|公开信息][进行|开展了][清理|梳理|评估]，"
        "[对已废止|对失效|对过时]的[文件|信息][及时|逐一|统一][标注|下架|更新]，[保证|确保][公开信息|网上信息][准确|有效|及时]。",
        "{me}[结合|根据|对照][基层政务公开标准目录|公开事项清单|上级下发的目录]，[梳理|编制|修订]了[{f}|{p}|涉农补贴|民生保障]等[领域的|方面的][公开事项|公开目录|信息清单]，"
        "[做到|实现]了[应公开尽公开|公开内容有据可查|一事一表]。",
    ]),
    (("政府信息公开平台建设", "平台建设", "公开平台建设", "拓宽公开渠道"), [
        "{me}[加强|做好|落实][政府网站|信息公开专栏|政务新媒体][的日常维护|的运行管理|的内容保障]，[定期|按周|每月][巡查|检查|自查][栏目更新|内容发布|链接可用]情况，"
        "[对|就][空白栏目|更新滞后的栏目|错链断链][进行|及时|限期][整改|处理|修正]。",
        "{me}[在|于][{v}、{v}|{v}等{pw}|各{pw}][设立|更新|规范][政务公开栏|村务公开栏|信息公示栏]，[与|和][网站公开|线上公开][形成|实现][互补|衔接|联动]，"
        "[让|使][不便上网的群众|老年群众|外出返乡人员][也能|同样能|可以][及时|方便地][了解|知晓][政府工作|政策信息|办事流程]。",
        "[利用|借助|通过][微信群|村务微信群|政务新媒体][和|、][广播|宣传栏|院坝会]，{me}[把|将][{f}|{p}|惠民惠农]等[方面的信息|相关政策|政策信息][送到|推送到|传达到][群众|农户|居民][身边|手中]。",
    ]),
    (("监督保障", "强化监督保障", "考核与监督"), [
        "{me}[将|把][政务公开工作|信息公开工作][纳入|列入][年度目标考核|绩效考核|班子成员分工]，[明确|落实][分管领导|责任人][和|及][具体经办人员|信息员]，"
        "[定期|按季度|不定期][通报|检查|调度][工作进展|更新情况|落实情况]。",
        "{me}[主动|自觉][接受|欢迎][群众|社会|人大代表][监督|评议]，[公布|公开][监督电话|意见箱|联系方式]，"
        "[对|就][群众反映的|收到的][公开不及时|公开不规范|内容有误][等问题|的情况][认真|逐一|及时][核查|核实][整改|纠正]。",
    ]),
    (("教育培训", "业务培训", "加强队伍建设"), [
        "{me}[组织|安排][机关干部|工作人员|{pw}信息员][参加|开展][政务公开|信息公开][业务培训|专题学习|集中培训]，"
        "[学习|研讨][《条例》|信息发布规范|保密审查要求]，[提升|提高][业务能力|工作水平|履职能力]。",
        "{me}[通过|采取][以会代训|集中学习|跟班学习|专题辅导]等[方式|形式]，[加强|做好][对|][新任|新调整的|兼职]工作人员的[业务指导|帮带|培训]，"
        "[帮助|推动]其[尽快|较快][熟悉|掌握][信息公开工作流程|发布审核要求|依申请公开办理程序]。",
    ]),
    (("政策解读与回应关切", "解读回应", "回应社会关切"), [
        "[对|针对][{f}|{p}|惠民惠农][等|方面的][政策|文件|措施]，{me}[采取|运用][图文解读|问答|[干部|网格员]入户讲解]等[形式|方式][进行|作了][解读|宣讲]，"
        "[帮助|方便][群众|农户|居民][读懂|理解|用好][政策|规定]。",
        "[对|就][群众来电|网民留言|热线工单]中[涉及|反映的][{t}|{t}|{p}]等[问题|诉求]，{me}[及时|按时|逐件][回复|办理|回应]，"
        "[回应|答复][内容|口径][准确|一致|清楚]。",
    ]),
]

SUBNUM = "（一）（二）（三）（四）（五）（六）（七）（八）"
_SUB_STYLE = ("numbered", "numbered", "numbered", "plain", "inline")


def overview(rng: random.Random, v: Voice, *, repeated_item: bool = False) -> list[str]:
    paras = [say(rng, rng.choice(OVERVIEW_INTRO), v)]
    parts = rng.sample(range(len(OVERVIEW_PARTS)), rng.randint(3, 5))
    if rng.random() < 0.6:
        parts.sort()
    style = rng.choice(_SUB_STYLE)
    for i, p in enumerate(parts):
        heads, pool = OVERVIEW_PARTS[p]
        head = rng.choice(heads)
        text = _sentences(rng, v, pool, rng.randint(1, 2))
        if style == "numbered":
            paras.append(SUBNUM[3 * i: 3 * i + 3] + head)
            paras.append(text)
        elif style == "inline":
            paras.append(f"{SUBNUM[3 * i: 3 * i + 3]}{head}。{text}")
        else:
            paras.append(text)
    paras.append(systems(rng, v, repeated_item=repeated_item))
    return paras


_SYSTEMS_A = ("政府信息公开", "信息发布审核", "保密审查", "依申请公开办理", "政策解读", "政务公开考核",
              "网站内容保障", "公开属性认定", "信息公开责任追究", "政务舆情回应")
_SYSTEMS_B = ("工作制度", "实施办法", "工作规程", "管理办法", "工作细则", "操作流程")


def systems(rng: random.Random, v: Voice, *, repeated_item: bool = False) -> str:
    """The sentence listing the body's rules (with one item doubled when asked: TEXT-004)."""
    names = pick(rng, list(_SYSTEMS_A), 3)
    items = [f"“{v.short}{n}{rng.choice(_SYSTEMS_B)}”" for n in names]
    if repeated_item:
        items.insert(2, items[1])
    lead = say(rng, "[在制度建设方面|制度建设上|为使工作有章可循]，{me}[修订完善了|制定了|重新印发了|对照新条例修订了]", v)
    tail = say(rng, "等[工作制度|制度文件|规定][，|，从而]"
               "[进一步|逐项][明确了|理顺了|细化了][各环节的|每个环节的|公开工作的][责任人|承办人员|职责分工][和|与][办理时限|工作要求|审核流程]。", v)
    return lead + "、".join(items) + tail


# ---------------------------------------------------------------------------------------------
# Section 二 (active)

ACTIVE = [
    "[{Y}年|全年|本年度]，{me}[通过|依托][政府门户网站|信息公开专栏|各类公开平台]主动公开政府信息{n}条，"
    "[其中|这些信息中][工作动态|通知公告|政策文件][、|和][{f}|{p}|财政资金][等|方面的]信息[占比较大|数量较多|居多]。",
    "[全年|本年度]共主动公开政府信息{n}条，[涵盖|涉及|覆盖][机构职能|规划计划|财政资金|民生保障][、|和][{f}|{p}|社会救助]等[方面|领域|内容]。",
    "{me}[全年|本年度|{Y}年]主动公开政府信息{n}条，[各类信息|所有信息|公开内容][均|都][按照|依照][公开目录|发布流程|时限要求][及时|如期|规范]发布。",
]
ACTIVE_MORE = [
    "[围绕|针对][{p}|{f}]，[在|于]{v}、{v}[等{pw}|两地][公示了|公开了][项目清单|资金安排|实施方案]，[方便|便于][群众|村民|居民][查阅|监督|了解]。",
    "[财政预决算|“三公”经费|惠民补贴][信息|数据|明细][按规定|按时|如期][在|于][网站|专栏|公开栏][公开|发布]，[无|未发生][逾期|漏报|错报]情况。",
    "[表二|下表][列出了|反映了|统计了][规范性文件|行政许可|行政处罚][等|以及相关][事项的|方面的][公开情况|数据|情况]。",
    "[对涉及|凡涉及][群众切身利益|{t}|{t}]的[政策|事项|文件]，[均|都][在|先在][网上|公开栏][征求意见|公开听取意见|公示]后[再|才][出台|实施|印发]。",
]


def active_breakdown(rng: random.Random, v: Voice, count: int) -> str:
    """The total first, then its categories — the last of them an "其他应主动公开…" figure that a
    reader taking the last "N条" would mistake for the total."""
    news = rng.randint(0, count // 2)
    buying = rng.randint(0, (count - news) // 3)
    rest = count - news - buying
    lead = say(rng, "[全年|{Y}年|本年度]，{me}[共公布政府信息|累计主动公开政府信息|主动发布各类政府信息]", v)
    return (f"{lead}{count}条，其中工作动态{news}条、采购信息{buying}条、"
            f"其他应主动公开政府信息{rest}条。")


def active(rng: random.Random, v: Voice, count: int) -> list[str]:
    text = say(rng, rng.choice(ACTIVE), v, n=count)
    extra = _sentences(rng, v, ACTIVE_MORE, rng.randint(0, 2))
    return [text + extra] if rng.random() < 0.5 or not extra else [text, extra]


# ---------------------------------------------------------------------------------------------
# Section 三 (requests)

REQUESTS_RECEIVED = [
    "[{Y}年|本年度|全年]，{me}[共|]收到政府信息公开申请{n}件[，|，均在法定期限内作出答复，]",
    "[本年度|{Y}年度]{me}[共|]收到政府信息公开申请{n}件[，|，全部在规定期限内答复，]",
    "[全年|{Y}年全年][共|]收到政府信息公开申请{n}件，",
]
REQUESTS_TOPICS = "[申请内容|所申请的信息][主要|多][涉及|集中在|关于][{t}|{t}][和|、][{t}|{p}]等[方面|事项]。"
REQUESTS_NONE = "[没有|未出现][需要|要][答复|办理]的申请[事项|]。"
REQUESTS_CARRY = "另有上年结转申请{co}件，结转下年度继续办理{cf}件。"
REQUESTS_TAIL = [
    "办理情况详见下表。",
    "收到和处理政府信息公开申请的具体情况如下。",
    "[具体|详细][情况|数据]见下表。",
    "",
]


def requests(rng: random.Random, v: Voice, new: int, carried_over: int,
             carried_forward: int) -> tuple[list[str], dict[str, int]]:
    text = say(rng, rng.choice(REQUESTS_RECEIVED), v, n=new)
    about = say(rng, REQUESTS_TOPICS, v)
    none = say(rng, REQUESTS_NONE, v)
    text = text.partition("件")[0] + "件。" if new == 0 else text + about
    if new == 0 and rng.random() < 0.5:
        text += none
    stated = {"requests_new": new}
    if carried_over or carried_forward:
        text += REQUESTS_CARRY.format(co=carried_over, cf=carried_forward)
        stated |= {"requests_carried_over": carried_over, "requests_carried_forward": carried_forward}
    return [text + say(rng, rng.choice(REQUESTS_TAIL), v)], stated


# ---------------------------------------------------------------------------------------------
# Section 四 (review_litigation)

REVIEW_NONE = [
    "[{Y}年|本年度|全年]，{me}[未发生|没有发生|未出现][因政府信息公开[引起|引发]的|涉及政府信息公开的]行政复议[和|、]行政诉讼[案件|情况]。",
    "[本年度|{Y}年度]{me}[没有|未][发生|出现][政府信息公开方面的|因信息公开产生的]行政复议、行政诉讼。",
]


def review(rng: random.Random, v: Voice, review_total: int,
           litigation_total: int) -> tuple[list[str], dict[str, int]]:
    none = say(rng, rng.choice(REVIEW_NONE), v)
    some = say(rng, "[{Y}年|本年度]，{me}发生政府信息公开行政复议{r}件、行政诉讼{l}件，"
               "[具体情况如下。|详见下表。|情况见下表。]", v, r=review_total, l=litigation_total)
    if review_total == 0 and litigation_total == 0:
        return [none], {}
    return [some], {"review_total": review_total, "litigation_total": litigation_total}


# ---------------------------------------------------------------------------------------------
# Section 五 (problems)

PROBLEMS = [
    "[公开内容|部分领域的公开|主动公开的信息][的深度和广度|覆盖面|颗粒度][还不够|有待加强|仍有差距]，[个别|少数|有的][栏目|信息|专题][更新[不够|不太]及时|存在滞后|内容陈旧]",
    "[政策解读|文件解读|解读工作]的[形式|方式|手段][比较|较为|还比较][单一|简单|传统]，[图解|视频|音频|问答][、|和][动漫|长图|案例讲解]等[形式|方式][运用[不多|较少]|还没有用起来]",
    "[工作人员|信息员|经办人员|具体承办人][多为兼职|变动较频繁|身兼数职|年龄偏大]，[业务水平|专业能力|对条例的理解|文字把关能力][有待|还需][进一步|继续|持续][提高|加强|提升]",
    "[{v}等|部分|个别][{pw}的|][政务公开栏|公开栏|公示栏|村务公示牌][规范化程度不高|内容更新滞后|管理不够到位|版面不够统一]",
    "[依申请公开|申请办理]的[答复文书|告知书|办理记录|登记台账][还不够|不够|尚不够][规范|完整|严谨]，[个别|少数][引用依据|说理][不够|不太][准确|充分]",
    "[{f}|{p}|惠民资金]等[领域|方面|事项]的[信息|数据|进展][公开|发布|公示][不够|还不够|尚不够][细致|及时|系统]",
    "[对|就][公开工作|政务公开|信息公开][的重视程度|的认识|的理解][还存在|仍有|存在][上热下冷|不平衡|层层递减]的[现象|情况|问题]",
    "[政府网站|公开专栏|新媒体平台][与|和][政务服务|村务公开|便民服务][的衔接|的融合|的联动][还不够|仍不够|不够][紧密|顺畅|到位]",
    "[公开目录|事项清单|公开标准][的动态调整|的更新维护|的落地][不够|还不够][及时|到位|细致]",
    "[回应关切|舆情回应|热线回复][的时效性|的主动性|的质量][有待|还需][增强|提升|改进]",
    "[信息发布|稿件撰写|数据填报][质量|水平][参差不齐|不够稳定]，[偶有|出现过|存在][错字|数据前后不一|格式不规范][等|这类][情况|问题]",
    "[群众|办事群众|{pw}干部][对|关于][政府信息公开|依申请公开][渠道|方式|权利]的[知晓率|了解程度][还不高|仍然不高|偏低]",
    "[公开|公示]的[{p}|{f}|项目]信息[以|多以][结果|文件原文][为主|居多]，[过程|进展|执行]信息[公开|发布][较少|不多]",
]
PLANS = [
    "[加强|强化|抓好][对|][工作人员|信息员|经办人员]的[业务培训|学习培训|业务指导]，[提升|提高][信息发布|公开工作|答复][的质量|的水平|的规范性]",
    "[严格落实|认真执行|进一步落实][信息发布审核|保密审查|“三审三校”][制度|机制|要求]，[确保|保证][公开信息|发布内容|网上信息][准确规范|真实准确|安全可靠]",
    "[丰富|创新|拓展][政策解读|解读宣传|政策宣讲][形式|方式|手段]，[增强|提高][解读的|宣传的][针对性|可读性|实效性]",
    "[加强|做好][政府网站|信息公开专栏|政务新媒体]的[日常巡查|内容保障|运维管理]，[及时|按时|定期][更新|发布|充实][各类信息|栏目内容|专题信息]",
    "[推进|深化|继续抓好][基层政务公开标准化规范化建设|公开目录动态调整|标准目录落地]，[完善|细化|更新][公开事项目录|公开清单|事项标准]",
    "[规范|完善][依申请公开|申请办理][答复文书|办理流程|登记台账]，[做到|确保][依法依规|程序规范|答复及时|说理充分]",
    "[围绕|聚焦][{f}|{p}|民生实事][等|这些][重点工作|重点领域]，[加大|做好][信息公开|公开公示|进展发布][力度|工作]",
    "[督促|指导][{v}等{pw}|各{pw}|相关站所][及时|定期][更新|维护][公开栏|公示内容|公开信息]",
    "[把|将][政务公开|信息公开][与|和][{p}|政务服务|基层治理][结合起来|深度融合|统筹推进]",
    "[健全|完善][政务舆情|群众诉求][收集|回应|办理][机制|流程]，[做到|力争][及时回应|件件有回音|闭环管理]",
    "[开展|组织][[“政府开放日”|政务公开进{pw}][活动|宣传]|条例宣传[周|进{pw}活动]]，[提高|扩大][群众|社会][对公开工作的|对条例的][知晓度|参与度]",
    "[把|将][{p}|{f}|重点项目]的[实施进度|资金使用|验收结果][纳入|列入][公开范围|公示内容]，[接受|方便][群众|社会][监督|查询]",
    "[建立|落实][信息公开|政务公开][工作台账|月报制度|定期通报制度]，[对|就][公开任务|更新情况][逐项|定期][督办|跟踪]",
]
PROBLEMS_LEAD = ("[{me}[的|][政府信息公开|政务公开]工作[虽然|虽]取得了[一定成效|一些进展|较好成效|新的进步]，[但|但是]|"
                 "回顾[全年|本年度|{Y}年的|这一年的]工作，{me}在[政务公开|信息公开][方面|工作中]|"
                 "[对照|比照][上级要求|群众期盼|考核标准]，{me}[的|][公开工作|这项工作]]"
                 "[仍|还|依然][存在|有][一些|以下|不少][不足|问题|短板|薄弱环节]：")
ORDINALS = ("一是", "二是", "三是", "四是")


def _listing(items: list[str]) -> str:
    return "；".join(f"{ORDINALS[i]}{x}" for i, x in enumerate(items)) + "。"


def problems(rng: random.Random, v: Voice, *, plans_year: int | None = None) -> list[str]:
    probs = [say(rng, x, v) for x in pick(rng, PROBLEMS, rng.randint(2, 3))]
    plans = [say(rng, x, v) for x in pick(rng, PLANS, rng.randint(3, 4))]
    rng.shuffle(plans)
    p1 = say(rng, PROBLEMS_LEAD, v) + _listing(probs)
    year = plans_year if plans_year is not None else v.year + 1
    dated = rng.random() < 0.6  # drawn either way, so a forced year leaves the rest of the prose alone
    lead = say(rng, "{y}年，{me}将[[重点|着重|主要][做好|抓好|推进]以下[几项|几方面|][工作|任务]|从以下[几个方面|方面][加以改进|入手整改|抓好落实]|"
               "在以下方面[持续用力|补齐短板|下功夫]|[针对|对照|围绕][上述|以上|存在的][问题|不足]，[重点|着力][抓好|做好|推进]以下[工作|几点]]：",
               v, y=year)
    undated = say(rng, "[下一步|今后|针对上述问题|对照上述不足]，{me}将[着力|重点|主要][做好|抓好|落实][以下|如下][工作|几项措施|几点]：", v)
    if plans_year is None and not dated:
        lead = undated
    p2 = lead + _listing(plans)
    return [p1, p2]


# ---------------------------------------------------------------------------------------------
# Section 六 (other)

def other(rng: random.Random, v: Voice, template: str, fee_yuan: int) -> tuple[list[str], dict[str, int]]:
    charged = say(rng, "[{Y}年|本年度]，{me}[依据|按照]《政府信息公开信息处理费管理办法》收取信息处理费", v)
    free = say(rng, rng.choice([
        "[{Y}年|本年度]，{me}[未收取|没有收取]信息处理费[，无其他需要报告的事项。|。无其他需要报告的事项。]",
        "本年度{me}没有收取信息处理费。[无其他需要报告的事项。|无。|]",
    ]), v)
    plain = say(rng, "[无其他需要报告的事项。|无。|本年度无其他需要报告的事项。]", v)
    if template == "2021":
        if fee_yuan > 0:
            return [charged + f"{fee_yuan}元。"], {"fees_collected_yuan": fee_yuan}
        return [free], {}
    return [plain], {}


# ---------------------------------------------------------------------------------------------
# The 2008 template: free-form parts

OLD_ORG = [
    "{me}[成立了|调整了|充实了][由主要负责同志任组长的|由分管领导牵头的]政府信息公开工作领导小组，领导小组办公室设在{office}，"
    "[配备|明确][专门人员|兼职人员|一名工作人员][负责|承担][日常工作|具体工作]。",
    "{me}[进一步|重新][调整|明确][政府信息公开工作|信息公开][分管领导和工作人员|责任分工]，[把|将]信息公开工作[列入|纳入][重要议事日程|年度工作计划]。",
]
OLD_ACTIVE = [
    "[{Y}年|本年度]，{me}主动公开政府信息{n}条，内容[涵盖|涉及][机构职能|政策法规|规划计划][、|和][{f}|{p}|业务工作]等方面，"
    "[公开形式|公开载体]以[政府网站|公开栏]和[政务公开栏|便民服务大厅]为主。",
    "[全年|本年度]共主动公开政府信息{n}条，其中[政策法规类|业务工作类|{f}方面的]信息[占多数|较多]，[均|都]按照公开目录[和|及]公开时限发布。",
]
OLD_REQUESTS = [
    "[{Y}年|本年度]，{me}共收到政府信息公开申请{n}件，[均已按规定办结|全部按时答复]。",
    "本年度{me}共收到政府信息公开申请{n}件，[全部|均]在规定期限内答复申请人。",
]
OLD_REQUESTS_NONE = "[{Y}年|本年度]，{me}共收到政府信息公开申请0件。"
OLD_FEES = ["{me}在政府信息公开工作中[未收取任何费用|没有收取费用]。", "[本年度|{Y}年]未发生政府信息公开收费及减免情况。"]
OLD_REVIEW = ["[本年度|{Y}年]未发生因政府信息公开申请提起的行政复议、行政诉讼。",
              "[{Y}年|本年度]，{me}没有发生[有关|涉及]政府信息公开的行政复议和行政诉讼案件。"]
OLD_OTHER = ["无需要说明的事项。", "本年度无其他需要说明的事项。", "无。"]


def old_parts(rng: random.Random, v: Voice, active_count: int, requests_new: int,
              *, plans_year: int | None = None,
              repeated_item: bool = False) -> tuple[dict[str, list[str]], dict[str, int]]:
    parts = pick(rng, [0, 2, 3, 4, 5, 6], 2)
    sections = {
        "overview": [say(rng, rng.choice(OVERVIEW_INTRO), v), say(rng, rng.choice(OLD_ORG), v)]
        + [_sentences(rng, v, OVERVIEW_PARTS[i][1], 1) for i in parts]
        + [systems(rng, v, repeated_item=repeated_item)],
        "active": [say(rng, rng.choice(OLD_ACTIVE), v, n=active_count)],
        "requests": [say(rng, rng.choice(OLD_REQUESTS) if requests_new else OLD_REQUESTS_NONE, v, n=requests_new)],
        "fees": [say(rng, rng.choice(OLD_FEES), v)],
        "review_litigation": [say(rng, rng.choice(OLD_REVIEW), v)],
        "problems": problems(rng, v, plans_year=plans_year),
        "other": [rng.choice(OLD_OTHER)],
    }
    return sections, {"active_count": active_count, "requests_new": requests_new}
