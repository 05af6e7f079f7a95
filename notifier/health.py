"""Operators hear of the service's own trouble; subscribers are not flooded by it.

Two audiences. Operators are subscribers with `role = "operator"`: the ones added by hand
(`nianbao subscribe add --role operator`), plus those named in the configuration, which
`sync_operators` turns into operator subscribers at the daemon's start (`telegram.admin_chat_ids`,
`health.operators` = ["console:-", "telegram:123", "apprise:mailto://…"]). Subscribers are everyone
else. Crawl-health findings (CRAWL-*), STRUCT-006 caused by our extractor (`details.cause ==
"extractor"`), job failures and the daemon's start and stop go to operators only; a subscriber
hears of its county's portal only when it opted in (`/subscribe … --health`, `Subscriber.health`).

Escalation (`escalate`, run before every drain of the outbox): CRAWL-001/002 open at the first bad
crawl (so `/status` shows them), but their alert is written only once the county's last N finished
crawls all were blocked or failed (N = `health.crawl_alert_threshold`, default 3; a county
profile's `[health] crawl_alert_threshold` overrides it). While the problem lasts, operators who were
told get a reminder every `health.reminder_hours` (default daily; `Alert.seq` is its number, the
message says since when). The finding's resolution sends one 已恢复 notice to those who were told
(notifier.outbox). A portal that fails again within `health.quiet_hours` of its last 已恢复 is not
alerted again until the quiet period is over (flapping).

Held back: a subscriber's TIME-004 (missing report) alert stays pending while its county has an
open CRAWL-001/002 (the portal's state is unknown); a successful crawl resolves that finding and
the alert goes out at the next drain (notifier.outbox._due).

The heartbeat (`heartbeat`, `heartbeat_text`): a daily message to operators with what the service
did in the last period; the daemon's /healthz fails when it has not run for two periods.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Alert, County, CrawlRun, Finding, Report, ReportVersion, Subscriber

log = logging.getLogger(__name__)

ESCALATED_RULES = ("CRAWL-001", "CRAWL-002")  # alerted after N bad crawls in a row
HEALTH_RULES = ("CRAWL-001", "CRAWL-002", "CRAWL-003")
BAD_RUNS = ("blocked", "failed")
DAY = timedelta(days=1)


def operator_only(rule_id: str, details: Mapping[str, Any] | None) -> bool:
    """Whether a finding is about the service rather than a report: crawl health, or a document we
    could not read because of our own extractor (not because of the document)."""
    if rule_id.startswith("CRAWL-"):
        return True
    return rule_id == "STRUCT-006" and (details or {}).get("cause") == "extractor"


@dataclass(frozen=True, slots=True)
class HealthPolicy:
    threshold: int = 3
    reminder: timedelta = DAY
    quiet: timedelta = timedelta(hours=72)

    @classmethod
    def from_settings(cls, settings: Any) -> HealthPolicy:
        h = getattr(settings, "health", None)
        if h is None:
            return cls()
        return cls(threshold=h.crawl_alert_threshold, reminder=timedelta(hours=h.reminder_hours),
                   quiet=timedelta(hours=h.quiet_hours))


# ---- operators ----------------------------------------------------------------------------------

def configured_operators(settings: Any) -> list[tuple[str, str]]:
    """(channel, address) of every operator named in the configuration."""
    out = [("telegram", str(cid)) for cid in getattr(getattr(settings, "telegram", None), "admin_chat_ids", ())]
    for item in getattr(getattr(settings, "health", None), "operators", ()):
        channel, _, address = str(item).partition(":")
        out.append((channel, address))
    return list(dict.fromkeys(out))


def sync_operators(session: Session, settings: Any) -> int:
    """Configured operators as operator subscribers (created, or made operators and active).
    Returns how many rows changed."""
    changed = 0
    for channel, address in configured_operators(settings):
        sub = session.scalar(select(Subscriber).where(Subscriber.channel == channel, Subscriber.address == address))
        if sub is None:
            session.add(Subscriber(channel=channel, address=address, role="operator", scope={},
                                   min_severity="warning", health=True, active=True))
            changed += 1
        elif sub.role != "operator" or not sub.active:
            sub.role, sub.active = "operator", True
            changed += 1
    session.flush()
    return changed


def operators(session: Session) -> list[tuple[int, str, str]]:
    return [(r.id, r.channel, r.address) for r in session.execute(
        select(Subscriber.id, Subscriber.channel, Subscriber.address)
        .where(Subscriber.role == "operator", Subscriber.active.is_(True)).order_by(Subscriber.id))]


# ---- escalation ---------------------------------------------------------------------------------

def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> None:
    from notifier.outbox import _insert_ignore as insert

    insert(session, rows)


def bad_streak(session: Session, county_code: str, depth: int) -> int:
    """How many of the county's latest finished crawls (at most `depth`) were blocked or failed in a row."""
    n = 0
    for status in session.scalars(select(CrawlRun.status)
                                  .where(CrawlRun.county_code == county_code, CrawlRun.finished_at.is_not(None),
                                         CrawlRun.status.not_in(("queued", "running")))
                                  .order_by(CrawlRun.finished_at.desc(), CrawlRun.id.desc()).limit(depth)):
        if status not in BAD_RUNS:
            break
        n += 1
    return n


@dataclass(slots=True)
class EscalationResult:
    alerted: list[int] = field(default_factory=list)  # finding ids whose alert was written now
    reminded: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # open, below the threshold
    quiet: list[int] = field(default_factory=list)  # at the threshold, inside the quiet period
    rows: int = 0


def escalate(session: Session, now: datetime, policy: HealthPolicy = HealthPolicy(),
             county_codes: Iterable[str] | None = None) -> EscalationResult:
    """Alerts and reminders for the open crawl-health findings, in the caller's transaction
    (idempotent: the alerts' unique key makes a second run write nothing)."""
    from notifier.outbox import covers

    out = EscalationResult()
    q = (select(Finding.id, Finding.rule_id, Finding.severity, Finding.county_code, Finding.occurrence,
                Finding.first_seen_at, County.health)
         .outerjoin(County, County.code == Finding.county_code)
         .where(Finding.rule_id.in_(HEALTH_RULES), Finding.resolved_at.is_(None)))
    if county_codes is not None:
        q = q.where(Finding.county_code.in_(list(county_codes)))
    found = list(session.execute(q))
    if not found:
        return out
    subs = list(session.scalars(select(Subscriber).where(Subscriber.active.is_(True))))
    rows: list[dict[str, Any]] = []
    last_recovery: dict[str, datetime | None] = {}
    for f in found:
        told = {sid: (st, at) for sid, st, at in session.execute(
            select(Alert.subscriber_id, Alert.status, Alert.created_at)
            .where(Alert.finding_id == f.id, Alert.occurrence == f.occurrence, Alert.kind == "new"))}
        if not told and f.rule_id in ESCALATED_RULES:
            threshold = int((f.health or {}).get("crawl_alert_threshold") or policy.threshold)
            if bad_streak(session, f.county_code, threshold) < threshold:
                out.waiting.append(f.id)
                continue
            if f.county_code not in last_recovery:
                last_recovery[f.county_code] = session.scalar(
                    select(func.max(Alert.created_at)).join(Finding, Finding.id == Alert.finding_id)
                    .where(Finding.county_code == f.county_code, Finding.rule_id.in_(ESCALATED_RULES),
                           Alert.kind == "resolved"))
            recovered = last_recovery[f.county_code]
            if recovered is not None and now - recovered < policy.quiet:
                out.quiet.append(f.id)
                continue
            for s in subs:
                if covers(s, f.rule_id, f.severity, f.county_code, None):
                    rows.append({"subscriber_id": s.id, "finding_id": f.id, "occurrence": f.occurrence,
                                 "kind": "new", "seq": 0, "status": "pending", "attempts": 0, "created_at": now})
            out.alerted.append(f.id)
            continue
        sent = [(sid, at) for sid, (st, at) in told.items() if st == "sent"]
        if not sent:
            continue
        first = min(at for _sid, at in sent)
        seq = int((now - first) / policy.reminder)
        if seq < 1:
            continue
        op_ids = {s.id for s in subs if s.role == "operator"}
        for sid, _at in sent:
            if sid in op_ids:
                rows.append({"subscriber_id": sid, "finding_id": f.id, "occurrence": f.occurrence,
                             "kind": "reminder", "seq": seq, "status": "pending", "attempts": 0,
                             "created_at": now})
        out.reminded.append(f.id)
    _insert_ignore(session, rows)
    out.rows = len(rows)
    return out


def escalate_once(sf: sessionmaker[Session], clock: Any, policy: HealthPolicy) -> EscalationResult:
    with sf() as s, s.begin():
        result = escalate(s, clock.now(), policy)
    if result.alerted or result.reminded or result.quiet:
        log.info("crawl health escalation", extra={"alerted": result.alerted, "reminded": result.reminded,
                                                   "quiet": result.quiet})
    return result


def drop_reminders(session: Session, finding_id: int, occurrence: int) -> None:
    """Pending reminders of a problem that is over are never sent."""
    session.execute(update(Alert).where(Alert.finding_id == finding_id, Alert.occurrence == occurrence,
                                        Alert.kind == "reminder", Alert.status == "pending")
                    .values(status="dropped", last_error="问题已恢复"),
                    execution_options={"synchronize_session": False})


# ---- the heartbeat ------------------------------------------------------------------------------

@dataclass(slots=True)
class Heartbeat:
    at: datetime
    period: timedelta
    counties_crawled: int = 0
    runs: dict[str, int] = field(default_factory=dict)  # finished runs by status
    reports_new: int = 0
    reports_changed: int = 0
    findings_opened: int = 0
    findings_resolved: int = 0
    blocked: list[tuple[str, str, datetime]] = field(default_factory=list)  # (code, name, since) CRAWL-001
    failing: list[tuple[str, str, datetime]] = field(default_factory=list)  # CRAWL-002
    outbox_pending: int = 0
    oldest_pending: datetime | None = None


def heartbeat(session: Session, now: datetime, period: timedelta = DAY) -> Heartbeat:
    """What the service did in (now - period, now], and what waits now."""
    start = now - period
    hb = Heartbeat(at=now, period=period)
    in_window = (CrawlRun.finished_at > start, CrawlRun.finished_at <= now)
    hb.counties_crawled = session.scalar(select(func.count(func.distinct(CrawlRun.county_code))).where(*in_window)) or 0
    hb.runs = {st: n for st, n in session.execute(select(CrawlRun.status, func.count()).where(*in_window)
                                                  .group_by(CrawlRun.status))}
    hb.reports_new = session.scalar(select(func.count()).select_from(Report)
                                    .where(Report.first_seen_at > start, Report.first_seen_at <= now)) or 0
    hb.reports_changed = session.scalar(
        select(func.count(func.distinct(ReportVersion.report_id))).join(Report, Report.id == ReportVersion.report_id)
        .where(ReportVersion.parsed_at > start, ReportVersion.parsed_at <= now, Report.first_seen_at <= start)) or 0
    hb.findings_opened = session.scalar(select(func.count()).select_from(Finding)
                                        .where(Finding.first_seen_at > start, Finding.first_seen_at <= now)) or 0
    hb.findings_resolved = session.scalar(select(func.count()).select_from(Finding)
                                          .where(Finding.resolved_at > start, Finding.resolved_at <= now)) or 0
    for rule, target in (("CRAWL-001", hb.blocked), ("CRAWL-002", hb.failing)):
        for code, name, since in session.execute(
                select(Finding.county_code, County.name, func.min(Finding.first_seen_at))
                .outerjoin(County, County.code == Finding.county_code)
                .where(Finding.rule_id == rule, Finding.resolved_at.is_(None))
                .group_by(Finding.county_code, County.name).order_by(Finding.county_code)):
            target.append((code, name or code, since))
    hb.outbox_pending = session.scalar(select(func.count()).select_from(Alert).where(Alert.status == "pending")) or 0
    hb.oldest_pending = session.scalar(select(func.min(Alert.created_at)).where(Alert.status == "pending"))
    return hb


def _local(at: datetime) -> str:
    from monitor.clock import SHANGHAI

    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _hours(period: timedelta) -> str:
    h = period.total_seconds() / 3600
    return f"{h:g}小时"


MAX_LISTED = 20  # portals named in one heartbeat; the rest are counted


def _portals(label: str, items: list[tuple[str, str, datetime]]) -> list[str]:
    if not items:
        return [f"{label}：0"]
    lines = [f"{label}：{len(items)}"]
    lines += [f"  {name}（{code}），自 {_local(since)}" for code, name, since in items[:MAX_LISTED]]
    if len(items) > MAX_LISTED:
        lines.append(f"  另有 {len(items) - MAX_LISTED} 个")
    return lines


def heartbeat_text(hb: Heartbeat) -> str:
    """The heartbeat as plain text lines (Chinese)."""
    runs = "，".join(f"{label} {hb.runs.get(st, 0)}" for st, label in
                     (("ok", "成功"), ("partial", "部分"), ("blocked", "被拦截"), ("failed", "失败")))
    lines = [f"年报监测 · 每日心跳（{_local(hb.at)}）",
             f"过去{_hours(hb.period)}：",
             f"抓取的县：{hb.counties_crawled}（{runs}）",
             f"报告：新增 {hb.reports_new}，更新 {hb.reports_changed}",
             f"问题：新发现 {hb.findings_opened}，已解决 {hb.findings_resolved}",
             *_portals("被拦截的门户", hb.blocked),
             *_portals("抓取失败的门户", hb.failing),
             f"发件箱待发：{hb.outbox_pending}"]
    if hb.oldest_pending is not None:
        waited = max(0.0, (hb.at - hb.oldest_pending).total_seconds()) / 3600
        lines.append(f"最早待发提醒：{_local(hb.oldest_pending)}（已等待 {waited:.1f} 小时）")
    else:
        lines.append("最早待发提醒：无")
    return "\n".join(lines)


# ---- direct notices to operators ------------------------------------------------------------------

class OperatorNotices:
    """Messages to operators sent at once, outside the outbox (the heartbeat, the daemon's start and
    stop, job failures): they are about the service itself, so they must not wait behind a stuck
    outbox. Best effort: a failure is logged; the next heartbeat says it again."""

    def __init__(self, sf: sessionmaker[Session], channels: Mapping[str, Any]) -> None:
        self.sf = sf
        self.channels = channels
        self.sent = 0
        self._lock: asyncio.Lock | None = None

    async def send(self, text: str) -> int:
        """`text` (plain, several lines; the first is the title) to every operator; returns how many got it.
        One notice at a time (the channels are started and closed around each)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self._send(text)

    async def _send(self, text: str) -> int:
        ops = await asyncio.to_thread(self._operators)
        delivered = 0
        used = {ch for _sid, ch, _addr in ops if ch in self.channels}
        for name in used:
            await self.channels[name].start()
        try:
            for _sid, channel, address in ops:
                ch = self.channels.get(channel)
                if ch is None:
                    continue
                body = text
                if ch.fmt == "html":
                    head, _, rest = text.partition("\n")
                    body = f"<b>{html.escape(head, quote=False)}</b>" + (
                        "\n" + html.escape(rest, quote=False) if rest else "")
                try:
                    await ch.deliver(address, body)
                    delivered += 1
                except Exception as exc:  # noqa: BLE001 - one operator's channel must not stop the others
                    log.warning("operator notice not delivered", extra={"channel": channel, "error": str(exc)[:200]})
        finally:
            for name in used:
                await self.channels[name].close()
        self.sent += delivered
        return delivered

    def _operators(self) -> list[tuple[int, str, str]]:
        with self.sf() as s:
            return operators(s)


__all__ = ["operator_only", "HealthPolicy", "configured_operators", "sync_operators", "operators", "escalate",
           "escalate_once", "bad_streak", "EscalationResult", "drop_reminders", "Heartbeat", "heartbeat",
           "heartbeat_text", "OperatorNotices", "ESCALATED_RULES", "HEALTH_RULES"]
