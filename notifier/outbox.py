"""The alert outbox: rows written with the finding change that caused them, drained by a sender.

Writing (`write_alerts`, called inside the transaction that opened, reopened or resolved findings):
- opened / reopened → one `new` alert per active subscriber whose scope and minimum severity cover
  the finding, keyed by the finding's occurrence: a finding resolved and firing again is a new
  problem and a new alert; the same event written twice is one row (the unique key).
- resolved → a `resolved` notice (已更正 / 已公开 / 已恢复) to each subscriber who was told of this
  occurrence; a `new` alert still pending is dropped instead (nobody heard of the problem).
- severity_changed → a `new` alert for subscribers the new severity covers and who had none.
Crawl-health findings (CRAWL-*) and STRUCT-006 caused by our extractor go only to operators (and
CRAWL-* to subscribers with `health`, within their scope); CRAWL-001/002 are not written here but by
`notifier.health.escalate`, after N bad crawls in a row, with daily reminders (kind `reminder`).
A subscriber's TIME-004 waits while its county's portal is blocked or failing (`_held_back`).
- a dismissed finding (monitor.review) gets no row of any kind: never alerted again.

Sending (`drain`): due alerts (pending, next_attempt_at passed, subscriber active and not muted)
grouped per subscriber and county into one message each, sent round-robin across subscribers so no
chat gets two in a row, each group's outcome committed right after the channel answered. A crash
between the answer and the commit sends that group again on the next drain (at least once; the
only duplicates). Failures: `RetryLater` → next attempt after `retry_after` or exponential backoff
with jitter, `failed` after `max_attempts`; `Unreachable` → subscriber inactive, its pending alerts
dropped; `Rejected` → the alert failed. Digest subscribers get their alerts from `drain(digest=True)`
(one message per subscriber and period); with `daily+errors`, new errors still go at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from monitor.clock import Clock
from monitor.review import dismissed_ids, states_of
from notifier.channels import Channel, Rejected, RetryLater, Unreachable
from notifier.health import ESCALATED_RULES, drop_reminders
from notifier.messages import AlertView, render
from storage.models import Alert, County, Document, Entity, Finding, ReportVersion, Subscriber

log = logging.getLogger(__name__)

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
MAX_GROUP = 50  # alerts in one message; more make a second message
OPEN_EVENTS = ("opened", "reopened")


# ---- writing -------------------------------------------------------------------------------------

def _ev(event: Any, name: str) -> Any:
    return event[name] if isinstance(event, Mapping) else getattr(event, name)


def covers(sub: Subscriber, rule_id: str, severity: str, county_code: str | None, entity_id: int | None,
           details: Mapping[str, Any] | None = None) -> bool:
    """Does this subscriber hear of a finding of this rule, severity and place? Findings about the
    service itself (notifier.health.operator_only) reach operators, and crawl health the
    subscribers who opted in (`health`) within their scope."""
    from notifier.health import operator_only

    if not sub.active:
        return False
    if SEVERITY_RANK.get(severity, 0) < SEVERITY_RANK.get(sub.min_severity or "warning", 1):
        return False
    scope = sub.scope or {}
    in_scope = (county_code is not None and county_code in scope.get("counties", ())) or \
               (entity_id is not None and entity_id in scope.get("entities", ()))
    if rule_id.startswith("CRAWL-"):
        return sub.role == "operator" or (bool(sub.health) and in_scope)
    if operator_only(rule_id, details):
        return sub.role == "operator"
    return sub.role == "operator" or in_scope


def _insert_ignore(session: Session, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(Alert).on_conflict_do_nothing(), rows)


def write_alerts(session: Session, events: Iterable[Any], *, now: datetime) -> int:
    """Outbox rows for finding events (objects or dicts with finding_id, kind, occurrence), in the
    caller's transaction. Returns the number of rows offered (duplicates are ignored)."""
    events = [e for e in events if _ev(e, "kind") in (*OPEN_EVENTS, "resolved", "severity_changed")]
    if not events:
        return 0
    ids = sorted({_ev(e, "finding_id") for e in events})
    dismissed = dismissed_ids(session, ids)
    events = [e for e in events if _ev(e, "finding_id") not in dismissed]
    findings = {}
    for i in range(0, len(ids), 500):
        for f in session.execute(select(Finding.id, Finding.rule_id, Finding.severity, Finding.county_code,
                                        Finding.entity_id, Finding.details).where(Finding.id.in_(ids[i:i + 500]))):
            findings[f.id] = f
    subs = list(session.scalars(select(Subscriber).where(Subscriber.active.is_(True))))
    rows: list[dict[str, Any]] = []
    for ev in events:
        f = findings.get(_ev(ev, "finding_id"))
        if f is None:
            continue
        kind, occ = _ev(ev, "kind"), _ev(ev, "occurrence") or 1
        told = dict(session.execute(
            select(Alert.subscriber_id, Alert.status).where(Alert.finding_id == f.id, Alert.occurrence == occ,
                                                            Alert.kind == "new")).all()) if kind != "opened" else {}
        if kind in OPEN_EVENTS or kind == "severity_changed":
            if f.rule_id in ESCALATED_RULES:
                continue  # alerted after N bad crawls in a row: notifier.health.escalate
            for s in subs:
                if s.id not in told and covers(s, f.rule_id, f.severity, f.county_code, f.entity_id, f.details):
                    rows.append({"subscriber_id": s.id, "finding_id": f.id, "occurrence": occ, "kind": "new",
                                 "status": "pending", "attempts": 0, "created_at": now})
        elif kind == "resolved":
            drop_reminders(session, f.id, occ)
            pending = [sid for sid, st in told.items() if st == "pending"]
            if pending:
                session.execute(update(Alert).where(Alert.finding_id == f.id, Alert.occurrence == occ,
                                                    Alert.kind == "new", Alert.status == "pending")
                                .values(status="dropped", last_error="问题在发送前已解决"),
                                execution_options={"synchronize_session": False})
            for sid, st in told.items():
                if st == "sent":
                    rows.append({"subscriber_id": sid, "finding_id": f.id, "occurrence": occ, "kind": "resolved",
                                 "status": "pending", "attempts": 0, "created_at": now})
    _insert_ignore(session, rows)
    return len(rows)


def hook(clock: Clock | None = None) -> Callable[[Session, list[Any]], None]:
    """The `on_events` hook for the pipeline, the sweep and revalidate (monitor.jobs): outbox rows in
    their transaction."""
    if clock is None:
        from monitor.clock import SystemClock

        clock = SystemClock()

    def on_events(session: Session, events: list[Any]) -> None:
        write_alerts(session, events, now=clock.now())

    return on_events


# ---- sending -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 30.0  # seconds before the 2nd attempt; doubles each time
    max_delay: float = 6 * 3600.0
    jitter: float = 0.5  # the delay is shortened by up to this fraction, at random

    def delay(self, attempts: int, rng: random.Random) -> float:
        d = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return d * (1 - self.jitter * rng.random())


@dataclass(slots=True)
class DrainStats:
    messages: int = 0  # messages (groups) delivered
    parts: int = 0  # channel sends (a long message is several)
    alerts_sent: int = 0
    retried: int = 0
    rate_limited: int = 0
    failed: int = 0
    dropped: int = 0
    deactivated: int = 0
    no_channel: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Batch:
    subscriber_id: int
    channel: str
    address: str
    county: str | None
    views: list[AlertView]
    attempts: int

    @property
    def alert_ids(self) -> list[int]:
        return [v.alert_id for v in self.views]


def _held_back() -> Any:
    """A subscriber's TIME-004 alert while its county's portal is blocked or failing (an open
    CRAWL-001/002): the report may be there, unseen. It stays pending, and goes once a successful
    crawl resolved the crawl finding. Operators get theirs at once."""
    crawl = aliased(Finding)
    portal_down = (select(crawl.id).where(crawl.county_code == Finding.county_code,
                                          crawl.rule_id.in_(ESCALATED_RULES), crawl.resolved_at.is_(None))
                   .exists())
    return and_(Finding.rule_id == "TIME-004", Alert.kind == "new", Subscriber.role != "operator", portal_down)


def _due(session: Session, now: datetime, digest: bool, limit: int | None) -> tuple[list[Any], dict[str, str]]:
    link = func.coalesce(Document.final_url, Document.url)
    held_back = _held_back()
    q = (select(Alert.id, Alert.kind, Alert.attempts, Subscriber.id.label("sid"), Subscriber.channel,
                Subscriber.address, Subscriber.digest, Finding.rule_id, Finding.severity, Finding.county_code,
                County.name.label("county_name"), Entity.name.label("entity"), Finding.year, Finding.message,
                Finding.details, link.label("link"), Alert.seq, Alert.created_at, Finding.first_seen_at,
                Finding.id.label("finding_id"), Finding.fingerprint)
         .join(Subscriber, Subscriber.id == Alert.subscriber_id)
         .join(Finding, Finding.id == Alert.finding_id)
         .outerjoin(County, County.code == Finding.county_code)
         .outerjoin(Entity, Entity.id == Finding.entity_id)
         .outerjoin(ReportVersion, ReportVersion.id == Finding.report_version_id)
         .outerjoin(Document, Document.id == ReportVersion.document_id)
         .where(Alert.status == "pending", or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now),
                Subscriber.active.is_(True),
                or_(Subscriber.muted_until.is_(None), Subscriber.muted_until <= now),
                ~held_back)
         .order_by(Alert.id))
    if digest:
        q = q.where(Subscriber.digest.is_not(None))
    else:
        q = q.where(or_(Subscriber.digest.is_(None),
                        (Subscriber.digest == "daily+errors") & (Finding.severity == "error") & (Alert.kind == "new")))
    if limit:
        q = q.limit(limit)
    rows = list(session.execute(q))
    # review states: dismissed ones are dropped here too (dismissed after the alert was written)
    reviews = states_of(session, {(r.fingerprint, False) for r in rows})
    return [r for r in rows if reviews.get(r.fingerprint) != "dismissed"], reviews


def batches(rows: list[Any], *, digest: bool = False, reviews: Mapping[str, str] | None = None) -> list[Batch]:
    """Group due alerts into messages (per subscriber and county; per subscriber in a digest), in
    round-robin order across subscribers."""
    groups: dict[tuple[Any, ...], Batch] = {}
    order: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        key0 = (r.sid,) if digest else (r.sid, r.county_code)
        n = 0
        while True:
            key = (*key0, n)
            b = groups.get(key)
            if b is None or len(b.views) < MAX_GROUP:
                break
            n += 1
        if b is None:
            b = groups[key] = Batch(r.sid, r.channel, r.address, None if digest else r.county_code, [], 0)
            order[r.sid].append(key)
        b.views.append(AlertView(alert_id=r.id, kind=r.kind, rule_id=r.rule_id, severity=r.severity,
                                 county_code=r.county_code, county_name=r.county_name, entity=r.entity,
                                 year=r.year, message=r.message, details=r.details or {}, link=r.link,
                                 seq=r.seq or 0, since=r.first_seen_at, at=r.created_at,
                                 finding_id=getattr(r, "finding_id", None),
                                 review=(reviews or {}).get(getattr(r, "fingerprint", ""), "open")))
        b.attempts = max(b.attempts, r.attempts)
    queues = deque(deque(keys) for keys in order.values())
    out: list[Batch] = []
    while queues:
        q = queues.popleft()
        out.append(groups[q.popleft()])
        if q:
            queues.append(q)
    return out


def _record(sf: sessionmaker[Session], batch: Batch, outcome: str, error: BaseException | None, now: datetime,
            policy: RetryPolicy, rng: random.Random) -> dict[str, int]:
    """Commit one message's outcome; returns the counts to add to the drain's stats."""
    stats: dict[str, int] = {}
    ids = batch.alert_ids
    pending = (Alert.id.in_(ids), Alert.status == "pending")
    msg = str(error)[:500] if error is not None else None
    with sf() as s, s.begin():
        if outcome == "sent":
            s.execute(update(Alert).where(*pending).values(status="sent", sent_at=now, attempts=Alert.attempts + 1,
                                                           last_error=None, next_attempt_at=None),
                      execution_options={"synchronize_session": False})
            stats["messages"] = stats.get("messages", 0) + 1
            stats["alerts_sent"] = stats.get("alerts_sent", 0) + len(ids)
        elif outcome == "unreachable":
            s.execute(update(Subscriber).where(Subscriber.id == batch.subscriber_id).values(active=False))
            res = s.execute(update(Alert).where(Alert.subscriber_id == batch.subscriber_id,
                                                Alert.status == "pending")
                            .values(status="dropped", last_error=msg),
                            execution_options={"synchronize_session": False})
            stats["deactivated"] = stats.get("deactivated", 0) + 1
            stats["dropped"] = stats.get("dropped", 0) + res.rowcount or 0
        elif outcome == "rejected":
            s.execute(update(Alert).where(*pending).values(status="failed", attempts=Alert.attempts + 1,
                                                           last_error=msg),
                      execution_options={"synchronize_session": False})
            stats["failed"] = stats.get("failed", 0) + len(ids)
        else:  # retry
            retry_after = getattr(error, "retry_after", None)
            if retry_after is not None:  # rate limited: not the alert's fault, no attempt counted
                s.execute(update(Alert).where(*pending).values(
                    next_attempt_at=now + timedelta(seconds=float(retry_after)), last_error=msg),
                    execution_options={"synchronize_session": False})
                stats["rate_limited"] = stats.get("rate_limited", 0) + len(ids)
                return stats
            attempts = batch.attempts + 1
            if attempts >= policy.max_attempts:
                s.execute(update(Alert).where(*pending).values(status="failed", attempts=attempts, last_error=msg),
                          execution_options={"synchronize_session": False})
                stats["failed"] = stats.get("failed", 0) + len(ids)
            else:
                s.execute(update(Alert).where(*pending).values(
                    attempts=attempts, last_error=msg,
                    next_attempt_at=now + timedelta(seconds=policy.delay(attempts, rng))),
                    execution_options={"synchronize_session": False})
                stats["retried"] = stats.get("retried", 0) + len(ids)
    return stats


Probe = Callable[[str, Batch], None]


def _read_due(sf: sessionmaker[Session], now: Any, digest: bool, limit: int | None) -> Any:
    with sf() as s:
        return _due(s, now, digest, limit)


async def drain_async(sf: sessionmaker[Session], channels: Mapping[str, Channel], clock: Clock, *,
                      policy: RetryPolicy | None = None, rng: random.Random | None = None, digest: bool = False,
                      limit: int | None = None, concurrency: int = 32, probe: Probe | None = None) -> DrainStats:
    """Send every due alert once; see the module docstring. `probe(stage, batch)` is called at
    "send", "answered" and "committed" (tests use it to crash the sender at exact points)."""
    policy = policy or RetryPolicy()
    rng = rng or random.Random()
    stats = DrainStats()
    # in a thread: on SQLite every transaction, reads too, waits for the write lock (BEGIN
    # IMMEDIATE) while a crawl process writes, and the daemon's loop must not wait with it
    rows, reviews = await asyncio.to_thread(_read_due, sf, clock.now(), digest, limit)
    todo = batches(rows, digest=digest, reviews=reviews)
    if not todo:
        return stats
    used = {b.channel for b in todo}
    missing = used - set(channels)
    for name in sorted(missing):
        n = sum(len(b.views) for b in todo if b.channel == name)
        stats.no_channel += n
        log.warning("outbox: %d alerts wait for channel %s, which is not configured", n, name)
    todo = [b for b in todo if b.channel in channels]
    for name in used - missing:
        await channels[name].start()
    sem = asyncio.Semaphore(concurrency)

    async def run(batch: Batch) -> None:
        async with sem:
            if probe:
                probe("send", batch)
            title = "年报监测 · 每日摘要" if digest else None
            text = render(batch.views, channels[batch.channel].fmt, title=title)
            error: BaseException | None = None
            try:
                stats.parts += await channels[batch.channel].deliver(batch.address, text)
                outcome = "sent"
            except Unreachable as exc:
                outcome, error = "unreachable", exc
            except Rejected as exc:
                outcome, error = "rejected", exc
            except RetryLater as exc:
                outcome, error = "retry", exc
            except Exception as exc:  # noqa: BLE001 - an unknown failure is retried, never lost
                log.exception("outbox: unexpected error sending to subscriber %s", batch.subscriber_id)
                outcome, error = "retry", exc
            if error is not None:
                stats.errors.append(str(error)[:200])
            if probe:
                probe("answered", batch)
            # in a thread: the commit's I/O must not stall the other sends of the loop
            delta = await asyncio.to_thread(_record, sf, batch, outcome, error, clock.now(), policy, rng)
            for key, n in delta.items():
                setattr(stats, key, getattr(stats, key) + n)
            if probe:
                probe("committed", batch)

    try:
        await asyncio.gather(*(run(b) for b in todo))
    finally:
        for name in used - missing:
            await channels[name].close()
    return stats


def drain(sf: sessionmaker[Session], channels: Mapping[str, Channel], clock: Clock, **kwargs: Any) -> DrainStats:
    """`drain_async` for callers without an event loop (the CLI, a scheduler job)."""
    return asyncio.run(drain_async(sf, channels, clock, **kwargs))


def retry_failed(session: Session) -> int:
    """Failed alerts back to pending (after the operator fixed an address): `nianbao notify --retry-failed`."""
    res = session.execute(update(Alert).where(Alert.status == "failed")
                          .values(status="pending", attempts=0, next_attempt_at=None),
                          execution_options={"synchronize_session": False})
    return res.rowcount or 0


def counts(session: Session) -> dict[str, int]:
    out = {"pending": 0, "sent": 0, "failed": 0, "dropped": 0}
    out.update({st: n for st, n in session.execute(select(Alert.status, func.count()).group_by(Alert.status))})
    return out


__all__ = ["write_alerts", "hook", "covers", "drain", "drain_async", "RetryPolicy", "DrainStats", "Batch", "batches",
           "retry_failed", "counts"]
