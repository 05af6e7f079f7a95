"""How much of one report's prose is found in another's (内容雷同), for YOY-003 and TEXT-003.

The measure is *containment*: the share of a text's characters that lie in passages also found
in the other text. It is computed on a normalised form of the prose:

1. full-width ASCII → half-width (a 1:1 mapping, so positions still point into the original);
2. the template's fixed wording (`FIXED_WORDING`: section headings, table labels, the statistical
   period sentence and similar boilerplate every report must contain) is cut out;
3. the names of the bodies compared are replaced by one placeholder, so that 刘楼镇党委 and
   刘二堡镇党委 read the same, and the level words 省市县区镇乡 are folded into one (县委 / 区委);
4. every run of digits becomes "#" (dates, counts, years); punctuation and spaces are dropped.

Shared passages are found by greedy tiling: the positions of A whose next `SHINGLE` characters
also occur in B (found by intersecting the two shingle sets, or by one scan of A's shingles when
much is shared) are visited left to right; each match is extended as far as it goes and A resumes
after it. Tiles shorter than `MIN_TILE` are common
phrases (政府信息公开工作…) rather than copied text and are not counted. A text is normalised and
indexed once (cached), so comparing one report with forty peers costs forty set intersections
and tilings, not forty index builds.

A differing character (县委 / 区委, 我镇 / 我局) breaks a tile, but the next tile starts one
character later, so a copied paragraph with a few edits still counts almost entirely.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

__all__ = [
    "FIXED_WORDING",
    "SHINGLE",
    "MIN_TILE",
    "MIN_CHARS",
    "MAX_CANDIDATES",
    "QUOTE_CHARS",
    "Prose",
    "Passage",
    "Overlap",
    "prepare",
    "compare",
    "name_variants",
]

SHINGLE = 8  # characters of normalised text looked up at once
MIN_TILE = 12  # shorter shared runs are stock phrases, not copying
MIN_CHARS = 100  # a text with less normalised prose than this is never called 雷同
MAX_CANDIDATES = 8  # positions of a shingle in B tried when extending a match
QUOTE_CHARS = 120  # longest quotation of a shared passage

# The template's fixed wording: phrases every report of the `2008`, `2019` or `2021` shape contains
# because the notice prescribes them. Regexes, applied after full-width → half-width, so a bracket
# is "(" and a comma "," here. Removed on both sides before measuring. Every pattern starts with a
# fixed character (no optional prefix), which keeps the combined regex fast.
FIXED_WORDING: tuple[str, ...] = (
    # the numbering at the start of a paragraph: 五、 (五) 5. 5、
    r"(?m:^)[ \t]*(?:[一二三四五六七八九十]{1,3}[ \t]*[、.,]|\([ \t]*[一二三四五六七八九十]{1,3}[ \t]*\)|\d{1,2}[ \t]*[、.](?!\d))",
    # titles
    r"年度?\s*(?:政府)?(?:信息公开|政务公开)(?:工作)?(?:年度)?(?:报告|年报)",
    r"政府信息公开工作年度报告",
    # the six sections of `2019`/`2021`
    r"总体情况",
    r"主动公开政府信息(?:的)?情况",
    r"收到和处理政府信息公开申请(?:的)?情况",
    r"政府信息公开行政复议、?行政诉讼情况",
    r"(?:政府信息公开工作)?存在的主要问题及改进情况",
    r"其他需要报告的事项",
    r"(?:无|没有)其他需要(?:报告|说明)的事项",
    # the parts of a `2008` report (2008 条例 guidance)
    r"政府信息公开(?:工作)?(?:概述|概况)",
    r"政府信息公开的?组织领导和制度建设情况",
    r"发布解读、?回应社会关切以?及?互动交流情况",
    r"主动公开政府信息以?及公开平台建设情况",
    r"政府信息公开申请的办理情况",
    r"政府信息公开的收费(?:以)?及减免情况",
    r"因政府信息公开申请提?起?行政复议、?行政诉讼的情况",
    r"政府信息公开保密审查及监督检查情况",
    r"所属事业(?:单位|机构)信息公开工作推进措施和落实情况",
    r"需要说明的事项(?:与附表)?",
    # boilerplate sentences
    r"报告中?所列数据的?统计期限[^。\n]{0,60}?止",
    r"报告(?:内容)?由[^。\n]{0,300}?(?:组成|构成)",
    r"如对本?(?:年度)?报告有(?:任何)?疑问[^。\n]{0,120}",
    r"报告的?电子版[^。\n]{0,120}",
    r"《中华人民共和国政府信息公开条例》(?:\(以下简称《条例》\))?",
    r"国务院办公厅政府信息与政务公开办公室",
    r"《关于(?:印发)?政府信息公开(?:工作)?年度报告(?:格式|有关事项)的通知》",
    r"国办公开办函〔\d{4}〕\d+号",
    # table 二
    r"第二十条第\(?[一二三四五六七八九十]+\)?项",
    r"信息内容",
    r"本年新\s*制作数量",
    r"本年新\s*公开数量",
    r"对外公开总数量",
    r"上一年项目数量",
    r"本年增/减",
    r"处理决定数量",
    r"采购项目数量",
    r"采购总金额",
    r"本年制发件数",
    r"本年废止件数",
    r"现行有效件数",
    r"本年(?:处理决定数量|收费金额)",
    r"其他对外管理服务事项",
    r"行政事业性收费",
    r"政府集中采购",
    # table 三
    r"\(本列数据的勾稽关系为[^)]{0,60}\)",
    r"申请人情况",
    r"法人或其他组织",
    r"社会公益组织",
    r"法律服务机构",
    r"本年新收到?政府信息公开申请数量",
    r"上年结转政府信息公开(?:申请)?数量",
    r"本年度办理结果",
    r"\(区分处理的,?只计这一情形,?不计其他情形\)",
    r"属于国家秘密",
    r"其他法律行政法规禁止公开",
    r"危[及机][\"“”]?三安全一稳定[\"“”]?",
    r"保护第三方合法权益",
    r"属于三类内部事务信息",
    r"属于四类过程性信息",
    r"属于行政执?法?案卷",
    r"属于行政查询事项",
    r"本机关不掌握相关政府信息",
    r"没有现成信息需要?另行制作",
    r"补正后申请内容仍不明确",
    r"信访举报投诉类申请",
    r"要求提供公开出版物",
    r"无正当理由大量反复申请",
    r"要求行政机关确认或重新出具已获取信息",
    r"申请人无正当理由逾期不补正、?行政机关不再处理其政府信息公开申请",
    r"申请人逾期未按收费通知要求缴纳费用、?行政机关不再处理其政府信息公开申请",
    r"结转下年度继续办理",
    # table 四
    r"未经复议直接起诉",
    r"复议后起诉",
    r"结果维持",
    r"结果纠正",
    r"其他结果",
    r"尚未审结",
)

_FIXED_RE = re.compile("|".join(f"(?:{p})" for p in FIXED_WORDING))
_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_NAME = "\ue000"  # placeholder for a body's name (a private-use character: never in real text)
# 县委、县政府 / 区委、区政府, 全镇 / 全乡: the level of government is not what was copied.
_LEVEL = "\ue001"
_FOLD_LEVEL = str.maketrans(dict.fromkeys("省市县区镇乡", _LEVEL))
_TOKEN = re.compile(r"\d+|[^\W\d_]+|[" + _NAME + _LEVEL + "]")
_ADMIN_PREFIX = re.compile(r"^(?:.{1,8}?(?:自治区|省|自治州|地区|盟|市|自治县|自治旗|县|旗|区))+")
_BODY_SUFFIX = re.compile(r"(?:人民政府|政府|办事处|街道办事处)$")


class Prose:
    """A text ready to be compared: the original, its normalised form and (built on first use) a
    shingle index."""

    __slots__ = ("text", "norm", "pos", "_shingles", "_first", "_repeats", "_keys")

    def __init__(self, text: str, norm: str, pos: array[int]) -> None:
        self.text = text  # the original prose, paragraphs joined with "\n" (quotations come from here)
        self.norm = norm  # normalised characters
        self.pos = pos  # pos[k] = index in `text` of norm[k]
        self._shingles: list[str] = []
        self._first: dict[str, int] | None = None
        self._repeats: dict[str, list[int]] = {}
        self._keys: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return len(self.norm)

    def _build(self) -> dict[str, int]:
        # Built with C-level operations (dict/zip/frozenset); only repeated shingles need a loop.
        norm, n = self.norm, len(self.norm) - SHINGLE + 1
        shingles = [norm[k : k + SHINGLE] for k in range(max(0, n))]
        first = dict(zip(reversed(shingles), range(len(shingles) - 1, -1, -1), strict=True))
        if len(first) < len(shingles):
            twice = {x for x, count in Counter(shingles).items() if count > 1}
            for k, x in enumerate(shingles):
                if x in twice:
                    self._repeats.setdefault(x, []).append(k)
        self._keys = frozenset(first)
        self._shingles = shingles
        self._first = first
        return first

    @property
    def first(self) -> dict[str, int]:
        """Shingle → the first position where it starts in `norm`."""
        return self._first if self._first is not None else self._build()

    @property
    def keys(self) -> frozenset[str]:
        if self._first is None:
            self._build()
        return self._keys

    @property
    def shingles(self) -> list[str]:
        """The shingle starting at each position of `norm`."""
        if self._first is None:
            self._build()
        return self._shingles

    def positions(self, shingle: str) -> list[int]:
        """Every position where `shingle` starts (ascending)."""
        return self._repeats.get(shingle) or [self.first[shingle]]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The normalised range [ns, ne) of the original text's range [start, end)."""
        return bisect_left(self.pos, start), bisect_left(self.pos, end)

    def quote(self, start: int, length: int, limit: int = QUOTE_CHARS) -> str:
        """The original text of norm[start:start+length], cut to `limit` characters."""
        raw = self.text[self.pos[start] : self.pos[start + length - 1] + 1]
        raw = " ".join(raw.split())
        return raw if len(raw) <= limit else raw[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class Passage:
    a_start: int  # in A's normalised text
    b_start: int  # in B's normalised text
    length: int  # normalised characters


@dataclass(frozen=True, slots=True)
class Overlap:
    shared: int  # normalised characters of A inside counted passages
    total: int  # normalised characters of A
    passages: tuple[Passage, ...]  # the counted passages, in A's order

    @property
    def ratio(self) -> float:
        return self.shared / self.total if self.total else 0.0

    def covered(self, start: int, end: int) -> int:
        """Characters of A's normalised range [start, end) inside counted passages."""
        return sum(max(0, min(end, p.a_start + p.length) - max(start, p.a_start)) for p in self.passages)

    def covered_in_b(self, start: int, end: int) -> int:
        """Characters of B's normalised range [start, end) inside the passages (their union: two
        passages of A may come from the same place in B)."""
        total, reach = 0, start
        for p in sorted(self.passages, key=lambda p: p.b_start):
            lo, hi = max(reach, p.b_start), min(end, p.b_start + p.length)
            if hi > lo:
                total += hi - lo
                reach = hi
        return total

    def longest(self, k: int = 3) -> tuple[Passage, ...]:
        return tuple(sorted(self.passages, key=lambda p: (-p.length, p.a_start))[:k])


def name_variants(name: str | None) -> tuple[str, ...]:
    """Ways a body's name is written in its own report: 沈阳市辽中区刘二堡镇人民政府 → …, 刘二堡镇, 刘二堡."""
    if not name:
        return ()
    out = {name}
    short = _BODY_SUFFIX.sub("", name)
    out.add(short)
    local = _ADMIN_PREFIX.sub("", short) or short
    out.add(local)
    if len(local) >= 3 and local[-1] in "镇乡":
        out.add(local[:-1])
    elif local.endswith("街道") and len(local) >= 4:
        out.add(local[:-2])
    return tuple(sorted((v for v in out if len(v) >= 2), key=len, reverse=True))


def prepare(paragraphs: list[str] | tuple[str, ...] | str, names: tuple[str, ...] = ()) -> Prose:
    """Normalise prose (and index it) for `compare`; cached, so a report is prepared once."""
    if isinstance(paragraphs, str):
        paragraphs = (paragraphs,)
    return _prepare(tuple(paragraphs), tuple(names))


@lru_cache(maxsize=128)  # a county's reports (~45) under two sets of names; an index is ~1 MB per 5k chars
def _prepare(paragraphs: tuple[str, ...], names: tuple[str, ...]) -> Prose:
    text = "\n".join(paragraphs)
    work = text.translate(_HALF_WIDTH)
    masked = _FIXED_RE.sub(lambda m: " " * len(m.group()), work)
    for name in sorted({v for n in names for v in name_variants(n)}, key=len, reverse=True):
        masked = masked.replace(name, _NAME + " " * (len(name) - 1))
    masked = masked.translate(_FOLD_LEVEL)
    chars: list[str] = []
    pos: list[int] = []
    for m in _TOKEN.finditer(masked):
        tok = m.group()
        if tok[0].isdigit():
            chars.append("#")
            pos.append(m.start())
        else:
            chars.append(tok.lower() if tok.isascii() else tok)
            pos.extend(range(m.start(), m.end()))
    return Prose(text, "".join(chars), array("l", pos))


def _extend(a: str, i: int, b: str, j: int, n: int) -> int:
    """Length of the common run of a[i:] and b[j:], known to be at least `n` (gallop, then halve)."""
    limit = min(len(a) - i, len(b) - j)
    step = 32
    while n + step <= limit and a[i + n : i + n + step] == b[j + n : j + n + step]:
        n += step
        step *= 2
    while step > 1:  # the rest of the run is shorter than `step`
        step //= 2
        if n + step <= limit and a[i + n : i + n + step] == b[j + n : j + n + step]:
            n += step
    return n


def compare(a: Prose, b: Prose, *, min_tile: int = MIN_TILE) -> Overlap:
    """How much of `a` is found in `b` (containment of a in b; not symmetric).

    Greedy tiling, visiting only the positions of `a` whose shingle occurs in `b` (a set
    intersection, so two unrelated reports cost little more than that intersection), and jumping
    over each passage once it is counted.
    """
    sa, sb = a.norm, b.norm
    common = a.keys & b.keys
    if len(common) * 8 < len(a.shingles):  # few: look their positions up
        starts = list(map(a.first.__getitem__, common))
        if a._repeats:
            for shingle in common.intersection(a._repeats):
                starts.extend(a._repeats[shingle][1:])
        starts.sort()
    else:  # many (a copied text): one pass over a's shingles is cheaper
        starts = list(compress(range(len(a.shingles)), map(common.__contains__, a.shingles)))
    passages: list[Passage] = []
    shared = k = 0
    last = len(sa) - min_tile
    while k < len(starts) and starts[k] <= last:
        i = starts[k]
        best, best_j = 0, 0
        head = sa[i + SHINGLE : i + min_tile]
        for j in b.positions(sa[i : i + SHINGLE])[:MAX_CANDIDATES]:
            if sb[j + SHINGLE : j + min_tile] != head:  # a stock phrase, not a passage
                continue
            n = _extend(sa, i, sb, j, min_tile)
            if n > best:
                best, best_j = n, j
        if best >= min_tile:
            passages.append(Passage(i, best_j, best))
            shared += best
            k = bisect_left(starts, i + best, k + 1)  # resume after the passage
        else:
            k += 1
    return Overlap(shared, len(sa), tuple(passages))
