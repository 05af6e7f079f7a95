"""What blocked, broken and throttled portals answer (see domain/portals.md, "Defences and failures")."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass

from crawler.sim.pages import Page

# Cloud WAF block pages (mode → (title, lines)), as 云防护, 创宇盾, 安全狗, 云锁, D盾 and 长亭 SafeLine
# write them; served with 200 unless the fault gives another status (403 is the other one seen).
CLOUD_WAF_PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "yunfanghu": ("访问拦截", ("您的访问可能对网站造成威胁，已被云防护拦截。", "如有疑问请联系网站管理员。")),
    "chuangyudun": ("创宇盾", ("创宇盾提示您：当前访问疑似黑客攻击，已被网站管理员设置为拦截。",
                              "如果您是网站管理员，请登录创宇盾查看详情。")),
    "safedog": ("安全狗", ("您的请求带有不合法参数，已被网站管理员设置拦截！",
                          "可能原因：您提交的内容包含危险的攻击请求。", "网站安全狗")),
    "yunsuo": ("云锁", ("当前访问可能对网站安全造成威胁，已被云锁拦截。", "请联系网站管理员。")),
    "ddun": ("D盾_拦截提示", ("您的请求带有不合法参数，已被网站管理员设置拦截！", "D盾_IIS防火墙")),
    "safeline": ("请求已被阻断", ("您的请求已被阻断，如有疑问请联系网站管理员。", "由长亭雷池提供安全防护")),
}
FAULT_MODES = ("412", "521", "jsl512", "waf403", "waf200", *CLOUD_WAF_PAGES, "captcha", "maintenance", "5xx",
               "slow", "404")


@dataclass(eq=False)
class Fault:
    mode: str
    path_prefix: str | None = None
    count: int | None = None  # faulty answers left; None = until cleared
    delay: float = 1.0
    status: int | None = None  # the status the block page comes with, when not its usual one

    def applies(self, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)

    def consume(self) -> None:
        if self.count is not None:
            self.count -= 1


def jsl_clearance(code: str) -> str:
    """The cookie value a 521 (加速乐) answer asks the client to set for county `code`."""
    rng = random.Random(f"jsl-{code}")
    return f"{1764000000 + rng.randint(0, 9999999)}.{rng.randint(100, 999)}|0|{_b64(rng, 18)}%3D"


def _b64(rng: random.Random, n: int) -> str:
    return base64.b64encode(bytes(rng.getrandbits(8) for _ in range(n))).decode().rstrip("=").replace("/", "_")


def challenge_412(code: str, path: str) -> Page:
    """瑞数-style dynamic challenge: a meta with r='m' and a long obfuscated script; no way through."""
    rng = random.Random(f"412-{code}-{path}")
    meta = _b64(rng, 96)
    ts = "".join(rng.choice("qwertyuiopasdfghjklzxcvbnmQWERTYUIOPASDFGHJKLZXCVBNM0123456789_$") for _ in range(4200))
    body = (
        "<!DOCTYPE html><html><head>"
        '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        '<meta http-equiv="Pragma" content="no-cache"><meta http-equiv="Expires" content="0">'
        f"<meta id=\"{_b64(rng, 6)}\" content=\"{meta}\" r='m'>"
        "<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};"
        f'$_ts.nsd={rng.randint(10000, 99999)};$_ts.cd="{ts}";'
        "$_ts.lcd=function(){var _$a=$_ts.cd,_$b=[];for(var _$c=0;_$c<_$a.length;_$c++){"
        "_$b.push(_$a.charCodeAt(_$c)^0x5a)}return _$b};</script>"
        f"<script type=\"text/javascript\" charset=\"utf-8\" src=\"/{_b64(rng, 4)}/{_b64(rng, 6)}.js\" r='m'></script>"
        "</head><body></body></html>"
    )
    cookie = f"FSSBBIl1UgzbN7N80S={_b64(rng, 40)}; Path=/; HttpOnly"
    return Page(412, body.encode(), kind="fault", headers={"Set-Cookie": cookie})


def challenge_521(code: str) -> Page:
    """加速乐-style cookie script; a client that sets `__jsl_clearance` as told gets through."""
    body = (
        "<html><body><script>document.cookie='__jsl_clearance="
        + jsl_clearance(code)
        + ";max-age=3600;path=/';location.href=location.pathname+location.search</script></body></html>"
    )
    uid = _b64(random.Random(f"jsluid-{code}"), 16)
    return Page(521, body.encode(), kind="fault", headers={"Set-Cookie": f"__jsluid_h={uid}; max-age=31536000; path=/; HttpOnly"})


def challenge_jsl_go(code: str) -> Page:
    """加速乐's second step: a computed cookie (`go({…})` with the hash parameters), answered 512."""
    rng = random.Random(f"jslgo-{code}")
    bts = [_b64(rng, 8), _b64(rng, 12)]
    body = (
        "<html><head><meta charset=\"utf-8\"></head><body><script>"
        "function go(_0x1){function _0x2(){var _0x3=document.createElement('div');return _0x3}"
        "document.cookie=_0x1['tn']+'='+_0x1['bts'][0]+_0x1['chars'][0]+_0x1['bts'][1]+';Max-age='+_0x1['vt']"
        "+'; path = /';location.href=location.pathname+location.search}"
        f'go({{"bts":["{bts[0]}","{bts[1]}"],"chars":"{_b64(rng, 24)}","ct":"{_b64(rng, 20)}",'
        '"ha":"sha1","is":true,"tn":"__jsl_clearance_s","vt":"3600","wt":"1500"})'
        "</script></body></html>"
    )
    return Page(512, body.encode(), kind="fault")


def cloud_waf_page(mode: str, code: str, path: str, status: int = 200) -> Page:
    """A cloud WAF's block page (CLOUD_WAF_PAGES) with a request id, at `status`."""
    title, lines = CLOUD_WAF_PAGES[mode]
    rid = "".join(random.Random(f"{mode}-{code}-{path}").choice("0123456789abcdef") for _ in range(24))
    paras = "".join(f"<p>{line}</p>" for line in lines)
    body = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>'
        '<style>body{font:14px/1.5 "Microsoft Yahei",sans-serif;color:#555}</style></head><body>'
        f'<div class="box"><h2>{title}</h2>{paras}<p>请求ID：{rid}</p></div></body></html>'
    )
    return Page(status, body.encode(), kind="fault")


def waf_page(code: str, path: str, status: int) -> Page:
    rng = random.Random(f"waf-{code}-{path}")
    event = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>网站防火墙</title></head><body>'
        '<div class="waf"><h2>网站防火墙</h2><p>您的访问请求可能对网站造成安全威胁，请求已被拦截。</p>'
        "<p>访问被拦截，如有疑问请联系网站管理员并提供事件ID。</p>"
        f"<p>事件ID：{event}</p><p>拦截时间：2026-01-01</p></div></body></html>"
    )
    return Page(status, body.encode(), kind="fault")


def captcha_page() -> Page:
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证</title></head><body>'
        '<form method="post" action="/verify"><p>访问过于频繁，请输入验证码后继续访问：</p>'
        '<img src="/captcha.jpg" alt="验证码"><input name="code" placeholder="请输入验证码">'
        '<button type="submit">提交</button></form></body></html>'
    )
    return Page(200, body.encode(), kind="fault")


def maintenance_page() -> Page:
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>网站维护中</title></head><body>'
        "<h1>网站维护中</h1><p>为给您提供更好的服务，本网站正在进行系统升级维护，请稍后访问。给您带来不便，敬请谅解！</p>"
        "</body></html>"
    )
    return Page(200, body.encode(), kind="fault")


def server_error(status: int) -> Page:
    title = {503: "503 Service Temporarily Unavailable", 500: "500 Internal Server Error"}.get(status, str(status))
    body = f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center><hr><center>nginx</center></body></html>"
    return Page(status, body.encode(), kind="fault")
