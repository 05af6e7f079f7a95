"""Subscriptions: the write side behind `/subscribe`, `/unsubscribe`, `/list`, `/digest`, `/mute` and
`nianbao subscribe add|list|remove`, so the bot and the CLI cannot disagree.

A subscriber is one (channel, address): a Telegram chat id, an apprise URL, "-" for the console. Its
scope is `{"counties": [codes], "entities": [ids]}`; an empty scope covers nothing unless the
subscriber is an operator (operators hear of every county). Functions take a session inside the
caller's transaction and raise `SubscriptionError` (a one-line Chinese message) on bad input.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.errors import NianbaoError
from storage.models import County, Entity, Subscriber

ROLES = ("subscriber", "operator")
SEVERITIES = ("info", "warning", "error")
DIGESTS = ("daily", "daily+errors")  # errors at once in the second
MAX_MUTE_HOURS = 24 * 30
MAX_SCOPE = 500  # counties or bodies one subscriber may name


class SubscriptionError(NianbaoError):
    """Bad subscription input; the message is meant for the person who typed it."""


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", s or "").lower()


@dataclass(frozen=True, slots=True)
class CountyRef:
    code: str
    name: str


def find_county(session: Session, text: str) -> CountyRef:
    """A county from its 6-digit code or its name (exact, or the one county whose name contains the
    text: 金乡 → 金乡县). Unknown → `SubscriptionError` naming the closest county names."""
    q = (text or "").strip()
    if not q:
        raise SubscriptionError("请给出县的代码或名称，例如 370828 或 金乡县")
    if len(q) > 100:
        raise SubscriptionError("县名过长")
    rows = [CountyRef(c, n) for c, n in session.execute(select(County.code, County.name).order_by(County.code))]
    for r in rows:
        if r.code == q or _norm(r.name) == _norm(q):
            return r
    partial = [r for r in rows if _norm(q) in _norm(r.name)]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        names = "、".join(f"{r.name}（{r.code}）" for r in partial[:5])
        raise SubscriptionError(f"“{q}”对应多个县：{names}，请写全名或代码")
    raise SubscriptionError(f"没有找到县“{q}”。" + suggest(rows, q))


def suggest(rows: list[CountyRef], q: str) -> str:
    names = {r.name: r for r in rows}
    codes = {r.code: r for r in rows}
    close = difflib.get_close_matches(q, list(names), n=3, cutoff=0.3)
    close += [codes[c].name for c in difflib.get_close_matches(q, list(codes), n=3, cutoff=0.6)
              if codes[c].name not in close]
    if not close:
        return "可用 /list 或 nianbao status 查看已有的县。" if rows else "数据库里还没有县（先运行 nianbao init）。"
    return "您是不是要找：" + "、".join(f"{n}（{names[n].code}）" for n in close[:3]) + "？"


def find_entity(session: Session, county: CountyRef, text: str) -> Entity:
    q = _norm(text)
    ents = list(session.scalars(select(Entity).where(Entity.county_code == county.code)))
    for e in ents:
        if _norm(e.name) == q or q in [_norm(a) for a in (e.aliases or [])]:
            return e
    partial = [e for e in ents if q and q in _norm(e.name)]
    if len(partial) == 1:
        return partial[0]
    close = difflib.get_close_matches(text, [e.name for e in ents], n=3, cutoff=0.3)
    hint = f"您是不是要找：{'、'.join(close)}？" if close else f"{county.name}共有{len(ents)}个单位。"
    raise SubscriptionError(f"{county.name}没有单位“{text}”。{hint}")


def get_subscriber(session: Session, channel: str, address: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.channel == channel, Subscriber.address == address))


def _validate_address(channel: str, address: str) -> str:
    address = (address or "").strip()
    if not address or len(address) > 500:
        raise SubscriptionError("地址为空或过长")
    if channel == "telegram":
        if not re.fullmatch(r"-?\d{1,20}", address):
            raise SubscriptionError(f"Telegram 地址应为 chat id（整数），而不是“{address}”")
    elif channel == "apprise":
        if "://" not in address:
            raise SubscriptionError("apprise 地址应为 URL，例如 mailto://user:pass@example.org 或 wecombot://KEY")
    elif channel != "console":
        raise SubscriptionError(f"未知通道“{channel}”：可用 telegram、apprise、console")
    return address


def subscribe(session: Session, channel: str, address: str, *, county: str | None = None,
              body: str | None = None, role: str | None = None, min_severity: str | None = None,
              health: bool | None = None, digest: str | None = None) -> tuple[Subscriber, str]:
    """Create or extend the subscriber of (channel, address); returns it and a Chinese summary of what
    it now receives. `county` is a code or name, `body` a body of that county."""
    address = _validate_address(channel, address)
    if role is not None and role not in ROLES:
        raise SubscriptionError(f"角色应为 {' 或 '.join(ROLES)}")
    if min_severity is not None and min_severity not in SEVERITIES:
        raise SubscriptionError(f"最低级别应为 {'、'.join(SEVERITIES)} 之一")
    if digest is not None and digest not in DIGESTS and digest != "off":
        raise SubscriptionError(f"摘要模式应为 {'、'.join(DIGESTS)} 或 off")
    if body and not county:
        raise SubscriptionError("订阅单位时请先写县，例如 /subscribe 金乡县 金乡县教育局")
    sub = get_subscriber(session, channel, address)
    if sub is None:
        sub = Subscriber(channel=channel, address=address, role=role or "subscriber", scope={},
                         min_severity=min_severity or "warning", health=bool(health), active=True)
        session.add(sub)
    else:
        sub.active = True
        if role is not None:
            sub.role = role
        if min_severity is not None:
            sub.min_severity = min_severity
        if health is not None:
            sub.health = health
    if digest is not None:
        sub.digest = None if digest == "off" else digest
    scope = {"counties": list((sub.scope or {}).get("counties", [])),
             "entities": list((sub.scope or {}).get("entities", []))}
    if county:
        ref = find_county(session, county)
        if body:
            ent = find_entity(session, ref, body)
            if ent.id not in scope["entities"]:
                scope["entities"].append(ent.id)
        elif ref.code not in scope["counties"]:
            scope["counties"].append(ref.code)
    if len(scope["counties"]) + len(scope["entities"]) > MAX_SCOPE:
        raise SubscriptionError(f"订阅过多：一个地址最多订阅{MAX_SCOPE}个县或单位")
    sub.scope = scope
    session.flush()
    return sub, describe(session, sub)


def unsubscribe(session: Session, channel: str, address: str, county: str | None = None) -> str:
    """Remove one county (or body) from the scope, or everything (the subscriber stays, inactive)."""
    sub = get_subscriber(session, channel, address)
    if sub is None or not sub.active:
        raise SubscriptionError("您还没有订阅。用 /subscribe <县代码或名称> 订阅。")
    if county is None:
        sub.active = False
        sub.scope = {"counties": [], "entities": []}
        session.flush()
        return "已取消全部订阅。"
    ref = find_county(session, county)
    scope = {"counties": list((sub.scope or {}).get("counties", [])),
             "entities": list((sub.scope or {}).get("entities", []))}
    ent_ids = set(session.scalars(select(Entity.id).where(Entity.county_code == ref.code)))
    before = len(scope["counties"]) + len(scope["entities"])
    scope["counties"] = [c for c in scope["counties"] if c != ref.code]
    scope["entities"] = [e for e in scope["entities"] if e not in ent_ids]
    if len(scope["counties"]) + len(scope["entities"]) == before:
        raise SubscriptionError(f"您没有订阅{ref.name}（{ref.code}）。")
    sub.scope = scope
    session.flush()
    return f"已取消订阅{ref.name}（{ref.code}）。"


def describe(session: Session, sub: Subscriber) -> str:
    scope = sub.scope or {}
    codes = scope.get("counties", [])
    names = dict(session.execute(select(County.code, County.name).where(County.code.in_(codes))).all()) if codes else {}
    ents = list(session.execute(select(Entity.name, County.name).join(County, County.code == Entity.county_code)
                                .where(Entity.id.in_(scope.get("entities", []))))) if scope.get("entities") else []
    parts = [f"{names.get(c, '?')}（{c}）" for c in codes] + [f"{cn} {en}" for en, cn in ents]
    lines = []
    if sub.role == "operator":
        lines.append("角色：运维（接收所有县及门户抓取的提醒）")
    lines.append("订阅：" + ("、".join(parts) if parts else "（无）"))
    lines.append(f"最低级别：{sub.min_severity}" + ("，含门户抓取问题" if sub.health else ""))
    lines.append("摘要：" + {"daily": "每日一条", "daily+errors": "每日一条（错误立即发送）"}.get(sub.digest or "", "关闭（立即发送）"))
    if sub.muted_until is not None:
        lines.append(f"静音至：{sub.muted_until.isoformat(timespec='minutes')}")
    if not sub.active:
        lines.append("状态：已停用")
    return "\n".join(lines)


def list_subscribers(session: Session, *, channel: str | None = None, address: str | None = None,
                     active_only: bool = False) -> list[dict[str, Any]]:
    q = select(Subscriber).order_by(Subscriber.id)
    if channel:
        q = q.where(Subscriber.channel == channel)
    if address:
        q = q.where(Subscriber.address == address)
    if active_only:
        q = q.where(Subscriber.active.is_(True))
    return [{"id": s.id, "channel": s.channel, "address": s.address, "role": s.role, "scope": s.scope,
             "min_severity": s.min_severity, "health": s.health, "digest": s.digest,
             "muted_until": s.muted_until.isoformat() if s.muted_until else None, "active": s.active,
             "summary": describe(session, s)}
            for s in session.scalars(q)]


def remove_subscriber(session: Session, subscriber_id: int) -> None:
    """Deactivate a subscriber by id (its alerts stay: the history of what was sent)."""
    sub = session.get(Subscriber, subscriber_id)
    if sub is None:
        raise SubscriptionError(f"没有编号为 {subscriber_id} 的订阅者")
    sub.active = False
    session.flush()


def set_digest(session: Session, channel: str, address: str, mode: str) -> str:
    sub = get_subscriber(session, channel, address)
    if sub is None or not sub.active:
        raise SubscriptionError("您还没有订阅。用 /subscribe <县代码或名称> 订阅。")
    if mode not in (*DIGESTS, "off"):
        raise SubscriptionError("用法：/digest on|off")
    sub.digest = None if mode == "off" else mode
    session.flush()
    return "已开启每日摘要：提醒每天汇总发送一次，错误仍立即发送。" if sub.digest else "已关闭摘要：提醒将立即发送。"


def mute(session: Session, channel: str, address: str, hours: float, now: datetime) -> str:
    sub = get_subscriber(session, channel, address)
    if sub is None or not sub.active:
        raise SubscriptionError("您还没有订阅。用 /subscribe <县代码或名称> 订阅。")
    if not 0 <= hours <= MAX_MUTE_HOURS:
        raise SubscriptionError(f"静音时长应在 0 到 {MAX_MUTE_HOURS} 小时之间")
    if hours == 0:
        sub.muted_until = None
        session.flush()
        return "已取消静音。"
    sub.muted_until = now + timedelta(hours=hours)
    session.flush()
    return f"已静音 {hours:g} 小时，期间的提醒在静音结束后发送。"


def find_body(session: Session, text: str) -> tuple[Entity, str]:
    """A body of any county and its county's name, from its name (exact, an alias, or the one body
    whose name contains the text). Unknown or ambiguous → `SubscriptionError` naming the candidates."""
    q = _norm(text)
    if not q:
        raise SubscriptionError("请给出单位名称")
    rows = list(session.execute(select(Entity, County.name).join(County, County.code == Entity.county_code)))
    exact = [r for r in rows if _norm(r[0].name) == q or q in [_norm(a) for a in (r[0].aliases or [])]]
    found = exact or [r for r in rows if q in _norm(r[0].name)]
    if not found:
        close = difflib.get_close_matches(text, [r[0].name for r in rows], n=3, cutoff=0.3)
        raise SubscriptionError(f"没有找到单位“{text}”。" + (f"您是不是要找：{'、'.join(close)}？" if close else ""))
    if len(found) > 1:
        names = "、".join(f"{r[1]} {r[0].name}" for r in found[:5])
        raise SubscriptionError(f"“{text}”对应多个单位：{names}，请写全名")
    return found[0][0], found[0][1]


def report_detail(session: Session, body: str, year: int) -> dict[str, Any]:
    """The bot's /report: `body` resolved by `find_body`, then its report of `year` read by
    `monitor.status.report_detail` (what the web's report page shows) — publication, template,
    link — and the open findings of that body and year, most severe first (without a report
    too: a missing report's findings are the body's)."""
    from monitor.status import report_detail as read_report
    from monitor.status import search_findings
    from storage.models import Report

    entity, county_name = find_body(session, body)
    out: dict[str, Any] = {"entity_id": entity.id, "entity": entity.name, "county_name": county_name, "year": year,
                           "report_id": None, "published_at": None, "published_source": None,
                           "template": None, "link": None, "findings": []}
    rid = session.scalar(select(Report.id).where(Report.entity_id == entity.id, Report.year == year))
    detail = read_report(session, rid) if rid is not None else None
    if detail is not None:
        dated = detail["published_source"] != "first_seen"  # a report with no publication date of its own
        doc = detail["current"]["document"] if detail["current"] else None
        out.update(report_id=detail["id"], published_at=detail["published"].isoformat() if dated else None,
                   published_source=detail["published_source"] if dated else None,
                   template=detail["current"]["template"] if detail["current"] else None,
                   link=(doc["final_url"] or doc["url"]) if doc else None)
        found = [f for f in detail["findings"] if f["resolved_at"] is None]
    else:
        found, _ = search_findings(session, entity=entity.id, year=year, open_only=True, limit=None)
    rank = {"error": 0, "warning": 1, "info": 2}
    out["findings"] = sorted(({"rule": f["rule"], "severity": f["severity"], "message": f["message"]} for f in found),
                             key=lambda f: (rank.get(f["severity"], 3), f["rule"]))
    return out


__all__ = ["SubscriptionError", "report_detail", "CountyRef", "find_county", "find_entity", "find_body", "subscribe", "unsubscribe",
           "describe", "list_subscribers", "remove_subscriber", "set_digest", "mute", "get_subscriber",
           "ROLES", "SEVERITIES", "DIGESTS"]
