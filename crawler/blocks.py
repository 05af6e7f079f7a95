"""What a block page looks like: one declared table of markers, judged by content at any status.

Real challenge and WAF pages do not keep to one status (../shared/domain/portals.md, "Defences and
failures"): 瑞数-style dynamic challenges answer 412 but also 200, 202 and 400; 加速乐's first step
answers 521, its second step 512, and its cookie scripts also come with 200; cloud WAF pages
(云防护, 创宇盾, 安全狗, 云锁, D盾, 长亭 SafeLine) come with 200 or 403. So the status alone decides
nothing except for 412/521 (no content behind them whatever the page says) and a bare 403; a
marker from `BLOCK_MARKERS` in a page (up to `max_page` bytes) makes it a block at any status.

Each row says the kind (`BLOCK_KINDS`, the stats key `nianbao/blocked/<kind>` and CRAWL-001's
detail), who writes such pages, the marker (a phrase, in UTF-8 and GB18030, or a bytes regex for
script shapes) and the statuses it has been seen with (tests serve each row at each of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ahocorasick_rs import BytesAhoCorasick, Implementation

BLOCK_KINDS = ("412", "521", "waf", "captcha", "maintenance", "403")
_ENCODINGS = ("utf-8", "gb18030")


@dataclass(frozen=True, slots=True)
class BlockMarker:
    kind: str  # one of BLOCK_KINDS: "412" = 瑞数-style dynamic challenge, "521" = 加速乐 cookie script
    vendor: str
    phrase: str | None = None  # text written in the page (either encoding)
    pattern: bytes | None = None  # or a regular expression over the raw bytes (script shapes)…
    triggers: tuple[bytes, ...] = ()  # …with the literals one of which every match contains
    statuses: tuple[int, ...] = (200,)
    example: str = ""  # a minimal page carrying the marker, for the tests (filled below when empty)


BLOCK_MARKERS: tuple[BlockMarker, ...] = (
    # 瑞数 (River Security) dynamic challenge: <meta … r='m'>, then $_ts.nsd / $_ts.cd in a script
    BlockMarker("412", "瑞数", pattern=rb"""<meta[^>]+\br=['"]?m['"]?""",
                triggers=(b"r='m'", b'r="m"', b"r=m"), statuses=(412, 200, 202, 400),
                example="<html><head><meta id=\"x1\" content=\"abc\" r='m'></head><body></body></html>"),
    BlockMarker("412", "瑞数", pattern=rb"""\$_ts\s*=\s*window\[|\$_ts\.(?:cd|nsd)\s*=""", triggers=(b"$_ts",),
                statuses=(412, 200, 202, 400),
                example="<script>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=1234;$_ts.cd=\"q\";</script>"),
    # 加速乐: first step sets __jsl_clearance by a script, the second step computes it in go({…})
    BlockMarker("521", "加速乐", pattern=rb"""document\.cookie\s*=[^;]{0,400}__jsl_clearance""",
                triggers=(b"__jsl_clearance",),
                statuses=(521, 200),
                example="<script>document.cookie='__jsl_clearance=1.2|0|x;max-age=3600;path=/';"
                        "location.href=location.pathname</script>"),
    BlockMarker("521", "加速乐", pattern=rb"""\bgo\(\{\s*["']?(?:bts|chars|ct|ha|tn|vt|wt)["']?\s*:""",
                triggers=(b"go({",),
                statuses=(512, 521, 200),
                example="<script>function go(za){};go({\"bts\":[\"1\",\"2\"],\"chars\":\"ab\",\"ct\":\"c\","
                        "\"ha\":\"sha1\",\"tn\":\"__jsl_clearance_s\",\"vt\":\"3600\",\"wt\":\"1500\"})</script>"),
    BlockMarker("521", "加速乐", pattern=rb"""__jsluid_[hs]=|document\.cookie[^;]{0,200}__jsl_clearance_s""",
                triggers=(b"__jsluid_", b"__jsl_clearance_s"),
                statuses=(512, 521, 200),
                example="<script>document.cookie=('__jsluid_h=')+'abc';location.reload()</script>"),
    # cloud WAF pages
    BlockMarker("waf", "云防护", phrase="已被云防护拦截", statuses=(200, 403)),
    BlockMarker("waf", "云防护", phrase="您的访问可能对网站造成威胁", statuses=(200, 403)),
    BlockMarker("waf", "创宇盾", phrase="创宇盾", statuses=(200, 403)),
    BlockMarker("waf", "创宇盾", phrase="已被网站管理员设置为拦截", statuses=(200, 403)),
    BlockMarker("waf", "安全狗", phrase="安全狗", statuses=(200, 403)),
    BlockMarker("waf", "安全狗", phrase="已被网站管理员设置拦截", statuses=(200, 403)),
    BlockMarker("waf", "安全狗", phrase="已被系统设置拦截", statuses=(200, 403)),
    BlockMarker("waf", "云锁", phrase="已被云锁拦截", statuses=(200, 403)),
    BlockMarker("waf", "云锁", pattern=rb"""yunsuo_session_verify|security_verify_(?:data|img)""",
                triggers=(b"yunsuo_session_verify", b"security_verify_"),
                statuses=(200, 403),
                example="<script>document.cookie='yunsuo_session_verify=abc';"
                        "window.location.href='/x?security_verify_data=313932'</script>"),
    BlockMarker("waf", "D盾", phrase="D盾", statuses=(200, 403)),
    BlockMarker("waf", "长亭 SafeLine", phrase="请求已被阻断", statuses=(200, 403)),
    BlockMarker("waf", "网站防火墙", phrase="您的访问请求可能对网站造成安全威胁", statuses=(200, 403)),
    BlockMarker("waf", "网站防火墙", phrase="网站防火墙", statuses=(200, 403)),
    BlockMarker("waf", "网站防火墙", phrase="访问被拦截", statuses=(200, 403)),
    BlockMarker("waf", "网站防火墙", phrase="请求已被拦截", statuses=(200, 403)),
    BlockMarker("waf", "网站防火墙", phrase="WAF拦截", statuses=(200, 403)),
    BlockMarker("waf", "网站防火墙", phrase="事件ID", statuses=(200, 403)),
    # captcha and maintenance pages
    BlockMarker("captcha", "验证码", phrase="请输入验证码", statuses=(200, 403)),
    BlockMarker("captcha", "验证码", phrase="滑动验证", statuses=(200,)),
    BlockMarker("captcha", "验证码", phrase="人机验证", statuses=(200,)),
    BlockMarker("maintenance", "维护", phrase="网站维护中", statuses=(200, 503)),
    BlockMarker("maintenance", "维护", phrase="系统维护中", statuses=(200, 503)),
    BlockMarker("maintenance", "维护", phrase="网站正在维护", statuses=(200, 503)),
    BlockMarker("maintenance", "维护", phrase="系统升级维护", statuses=(200, 503)),
)

# Statuses that are blocks whatever the page says (the content is not behind them).
STATUS_KINDS = {412: "412", 521: "521"}


def example_page(marker: BlockMarker) -> str:
    """A small page carrying `marker` (its own example, or its phrase in a paragraph)."""
    if marker.example:
        return marker.example
    return f"<html><head><title>访问提示</title></head><body><p>{marker.phrase}</p></body></html>"


def _triggers(m: BlockMarker) -> tuple[bytes, ...]:
    if m.phrase is not None:
        return tuple(dict.fromkeys(m.phrase.encode(enc) for enc in _ENCODINGS))
    return m.triggers


# One Aho-Corasick automaton over every row's literals: a page is scanned once (~2 ns a byte),
# whatever the number of rows; only a page that carries a literal is looked at row by row.
_LITERALS: dict[bytes, list[int]] = {}
for _i, _m in enumerate(BLOCK_MARKERS):
    for _t in _triggers(_m):
        _LITERALS.setdefault(_t, []).append(_i)
_SCAN = BytesAhoCorasick(list(_LITERALS), implementation=Implementation.DFA)
_ROWS = list(_LITERALS.values())
_PATTERNS = {i: re.compile(m.pattern, re.I) for i, m in enumerate(BLOCK_MARKERS) if m.pattern is not None}
# Priority when a page carries several markers: a script challenge beats WAF wording, which beats
# a captcha form or a maintenance notice.
_PRIORITY = {k: i for i, k in enumerate(("412", "521", "waf", "captcha", "maintenance"))}


def matching_rows(body: bytes) -> list[BlockMarker]:
    """The rows of BLOCK_MARKERS whose marker `body` carries."""
    hits = {i for lit in _SCAN.find_matches_as_indexes(body, overlapping=True) for i in _ROWS[lit[0]]}
    return [BLOCK_MARKERS[i] for i in sorted(hits) if i not in _PATTERNS or _PATTERNS[i].search(body)]


def marker_kind(body: bytes) -> str | None:
    """The kind of the block markers in `body`, or None when it carries none."""
    rows = matching_rows(body)
    if not rows:
        return None
    return min((m.kind for m in rows), key=_PRIORITY.__getitem__)


def classify_block(*, status: int, body: bytes, content_type: str | None = None,
                   max_page: int = 64 * 1024) -> str | None:
    """The kind of block an answer is (one of BLOCK_KINDS), or None for a normal answer.

    412 and 521 are blocks whatever the page. Otherwise an HTML/text answer up to `max_page` bytes
    is judged by its content at any status (`BLOCK_MARKERS`); a 403 without a marker is still a
    block ("403"). A binary answer (a PDF, a DOCX) is never a block page unless it is a 403.
    """
    kind = STATUS_KINDS.get(status)
    if kind is not None:
        return kind
    if content_type and not any(t in content_type.lower() for t in ("html", "text", "xml", "json")):
        return "403" if status == 403 else None
    if len(body) <= max_page:
        kind = marker_kind(body)
        if kind is not None:
            return kind
    if status == 403:
        return "403"
    return None


__all__ = ["BLOCK_KINDS", "BLOCK_MARKERS", "BlockMarker", "STATUS_KINDS", "classify_block", "example_page",
           "marker_kind", "matching_rows"]
