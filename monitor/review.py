"""Review of findings: people confirm or dismiss a finding once, and nianbao remembers.

A review is tied to the finding's fingerprint (rule, body, year and the cells or text it concerns:
`monitor.report.Finding.fingerprint`), never to the message's wording, so it outlives `revalidate`,
recrawls and new parser versions; a finding whose numbers changed has a new fingerprint and starts
unreviewed. The `reviews` table is an audit trail: rows are only appended (who, when, why, the state
before), and a finding's state is read from its newest row:

  open       no review, or a person reopened it
  confirmed  a person agrees (digests mark it 已确认)
  dismissed  a person says it is not a problem, with a reason: never alerted again
  fixed      the rule stopped firing on a new version of the report (written by nianbao); when the
             same finding fires again, the state before `fixed` applies again

Service floor: functions take a session and return plain data; the CLI (`nianbao review`) and the
bot (`/confirm`, `/dismiss`) call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from monitor.clock import Clock
from monitor.config import DEFAULT_POLICY, Policy
from monitor.errors import NianbaoError
from monitor.evidence import evidence
from storage.models import REVIEW_STATES, Alert, County, Entity, Finding, Report, ReportVersion, Review

__all__ = ["ReviewError", "STATE_LABELS", "PERSON_STATES", "states_of", "state_of", "set_state", "finding_summary",
           "record_fixed", "dismissed_ids", "list_reviewed", "audit", "county_summary", "write_summary",
           "MAX_REASON"]

STATE_LABELS = {"open": "待审核", "confirmed": "已确认", "dismissed": "已排除", "fixed": "已更正"}
PERSON_STATES = ("open", "confirmed", "dismissed")  # what a person may set; `fixed` is nianbao's
MAX_REASON = 500
SYSTEM = "nianbao"


class ReviewError(NianbaoError):
    """A review that cannot be made (unknown finding, no reason for a dismissal…)."""


def _effective(rows: list[str], resolved: bool) -> str:
    """The state from a fingerprint's review states, oldest first: the newest, except that `fixed`
    holds only while the finding stays resolved."""
    for st in reversed(rows):
        if st == "fixed" and not resolved:
            continue
        return st
    return "open"


def states_of(session: Session, findings: Iterable[tuple[str, bool]]) -> dict[str, str]:
    """fingerprint → state, for (fingerprint, resolved) pairs."""
    pairs = dict(findings)
    out = {fp: "open" for fp in pairs}
    fps = list(pairs)
    history: dict[str, list[str]] = {}
    for i in range(0, len(fps), 500):
        q = (select(Review.finding_fingerprint, Review.state)
             .where(Review.finding_fingerprint.in_(fps[i:i + 500])).order_by(Review.id))
        for fp, st in session.execute(q):
            history.setdefault(fp, []).append(st)
    for fp, rows in history.items():
        out[fp] = _effective(rows, pairs[fp])
    return out


def state_of(session: Session, finding: Finding) -> str:
    return states_of(session, [(finding.fingerprint, finding.resolved_at is not None)])[finding.fingerprint]


def dismissed_ids(session: Session, finding_ids: Iterable[int]) -> set[int]:
    """The ids among `finding_ids` whose finding is dismissed (the outbox sends them nothing):
    one join per 500 ids, returning review rows only (most findings have none)."""
    ids = sorted(set(finding_ids))
    history: dict[int, list[str]] = {}
    resolved: dict[int, bool] = {}
    for i in range(0, len(ids), 500):
        q = (select(Finding.id, Finding.resolved_at, Review.state)
             .join(Review, Review.finding_fingerprint == Finding.fingerprint)
             .where(Finding.id.in_(ids[i:i + 500])).order_by(Review.id))
        for fid, res, st in session.execute(q):
            history.setdefault(fid, []).append(st)
            resolved[fid] = res is not None
    return {fid for fid, rows in history.items() if _effective(rows, resolved[fid]) == "dismissed"}


def _finding(session: Session, finding_id: int) -> Finding:
    f = session.get(Finding, finding_id)
    if f is None:
        raise ReviewError(f"没有编号为 {finding_id} 的问题")
    return f


def set_state(session: Session, finding_id: int, state: str, *, by: str, now: datetime,
              reason: str | None = None) -> dict[str, Any]:
    """Append a person's review of a finding (inside the caller's transaction) and return the
    finding's summary. Dismissing needs a reason; setting the state it already has is refused."""
    if state not in PERSON_STATES:
        raise ReviewError(f"审核结果应为 {'、'.join(PERSON_STATES)} 之一，而不是“{state}”")
    reason = (reason or "").strip() or None
    if state == "dismissed" and not reason:
        raise ReviewError("排除问题时须说明原因")
    if reason is not None and len(reason) > MAX_REASON:
        raise ReviewError(f"原因过长（{len(reason)} 字，最多 {MAX_REASON} 字）")
    f = _finding(session, finding_id)
    before = state_of(session, f)
    if before == state:
        raise ReviewError(f"问题 {finding_id} 已经是“{STATE_LABELS[state]}”状态")
    session.add(Review(finding_fingerprint=f.fingerprint, state=state, reason=reason, by=by[:200], at=now,
                       finding_id=f.id, rule_id=f.rule_id, county_code=f.county_code, previous_state=before))
    if state == "dismissed":  # alerts of it not sent yet are not sent
        session.execute(update(Alert).where(Alert.finding_id == f.id, Alert.status == "pending")
                        .values(status="dropped", last_error="问题已被排除"),
                        execution_options={"synchronize_session": False})
    session.flush()
    return finding_summary(session, f.id)


def record_fixed(session: Session, events: Iterable[Any], *, now: datetime) -> int:
    """After a new version of a report was checked: each of its doc findings that stopped firing
    (`resolved` events) is `fixed` — the publisher corrected it. Returns the rows appended."""
    ids = [e.finding_id for e in events if e.kind == "resolved"]
    if not ids:
        return 0
    rows = session.execute(select(Finding).where(Finding.id.in_(ids))).scalars().all()
    st = states_of(session, [(f.fingerprint, True) for f in rows])
    n = 0
    for f in rows:
        if st[f.fingerprint] == "fixed":
            continue
        session.add(Review(finding_fingerprint=f.fingerprint, state="fixed", reason="新版本报告中不再出现该问题",
                           by=SYSTEM, at=now, finding_id=f.id, rule_id=f.rule_id, county_code=f.county_code,
                           previous_state=st[f.fingerprint]))
        n += 1
    session.flush()
    return n


def _template(session: Session, version_id: int | None) -> str | None:
    if version_id is None:
        return None
    return session.scalar(select(ReportVersion.template).where(ReportVersion.id == version_id))


def finding_summary(session: Session, finding_id: int) -> dict[str, Any]:
    """One finding with its state, last review and evidence (what the bot answers with)."""
    row = session.execute(select(Finding, Entity.name, County.name)
                          .outerjoin(Entity, Entity.id == Finding.entity_id)
                          .outerjoin(County, County.code == Finding.county_code)
                          .where(Finding.id == finding_id)).first()
    if row is None:
        raise ReviewError(f"没有编号为 {finding_id} 的问题")
    f, entity, county_name = row
    return _row(session, f, entity, county_name, state_of(session, f))


def _row(session: Session, f: Finding, entity: str | None, county_name: str | None, state: str,
         last: Review | None = None) -> dict[str, Any]:
    if last is None:
        last = session.scalar(select(Review).where(Review.finding_fingerprint == f.fingerprint,
                                                   Review.by.is_(None) | (Review.by != SYSTEM))
                              .order_by(Review.id.desc()).limit(1))
    return {"id": f.id, "fingerprint": f.fingerprint, "rule": f.rule_id, "severity": f.severity,
            "county": f.county_code, "county_name": county_name, "entity": entity, "year": f.year,
            "message": f.message, "state": state, "state_label": STATE_LABELS[state],
            "resolved": f.resolved_at is not None,
            "reason": last.reason if last is not None else None, "by": last.by if last is not None else None,
            "reviewed_at": last.at.isoformat() if last is not None else None,
            "evidence": evidence(f.rule_id, f.details, f.message, _template(session, f.report_version_id))}


def list_reviewed(session: Session, *, county: str | None = None, state: str | None = None,
                  limit: int | None = None) -> list[dict[str, Any]]:
    """Findings with their review state: open findings, and resolved ones that were reviewed or
    fixed. `state` filters on it."""
    if state is not None and state not in REVIEW_STATES:
        raise ReviewError(f"状态应为 {'、'.join(REVIEW_STATES)} 之一，而不是“{state}”")
    reviewed = select(Review.finding_fingerprint).distinct()
    q = (select(Finding, Entity.name, County.name)
         .outerjoin(Entity, Entity.id == Finding.entity_id)
         .outerjoin(County, County.code == Finding.county_code)
         .where(Finding.resolved_at.is_(None) | Finding.fingerprint.in_(reviewed)))
    if county:
        q = q.where(Finding.county_code == county)
    q = q.order_by(Finding.county_code, Finding.year.desc(), Finding.rule_id, Finding.id)
    found = session.execute(q).all()
    st = states_of(session, [(f.fingerprint, f.resolved_at is not None) for f, _e, _c in found])
    out = []
    for f, entity, county_name in found:
        s = st[f.fingerprint]
        if state is not None and s != state:
            continue
        if f.resolved_at is not None and s == "open":
            continue  # resolved without a review: history, not something to review
        out.append(_row(session, f, entity, county_name, s))
        if limit and len(out) >= limit:
            break
    return out


def audit(session: Session, *, finding_id: int | None = None, county: str | None = None) -> list[dict[str, Any]]:
    """Every review, oldest first: who, when, why, from which state to which."""
    q = select(Review).order_by(Review.id)
    if finding_id is not None:
        q = q.where(Review.finding_fingerprint == _finding(session, finding_id).fingerprint)
    if county:
        q = q.where(Review.county_code == county)
    return [{"id": r.id, "finding_id": r.finding_id, "fingerprint": r.finding_fingerprint, "rule": r.rule_id,
             "county": r.county_code, "from": r.previous_state, "to": r.state, "reason": r.reason, "by": r.by,
             "at": r.at.isoformat()} for r in session.scalars(q)]


# ---- the per-county summary (the table a 政务公开 office sends upwards) -----------------------------

SUMMARY_COLUMNS = {"county": "县代码", "county_name": "县", "year": "年度", "bodies": "应公开单位数",
                   "published": "已公开", "on_time": "按时公开", "late": "逾期公开", "missing": "未公开",
                   "unknown": "待检查", "late_bodies": "逾期公开的单位", "missing_bodies": "未公开的单位",
                   "open_findings": "待审核问题", "confirmed_findings": "已确认问题",
                   "dismissed_findings": "已排除问题", "fixed_findings": "已更正问题"}
PUBLISHED_STATES = ("on_time", "late", "published", "errors")
SUMMARY_SHEET = "年报公开情况汇总"


def county_summary(session: Session, clock: Clock, year: int, *, county: str | None = None,
                   policy: Policy = DEFAULT_POLICY) -> list[dict[str, Any]]:
    """Per county, for one report year: who has not published, who published late, and the
    findings by review state (doc and history findings of that year's reports)."""
    from monitor.status import county_status

    codes = [county] if county else list(session.scalars(select(County.code).order_by(County.code)))
    out = []
    for code in codes:
        st = county_status(session, code, clock, [year], policy=policy)
        row: dict[str, Any] = {k: 0 for k in SUMMARY_COLUMNS}
        row.update(county=code, county_name=st.name, year=year, late_bodies=[], missing_bodies=[])
        for b in st.bodies:
            cell = b.cells.get(year)
            if cell is None or cell.state == "not_expected":
                continue
            row["bodies"] += 1
            if cell.state in PUBLISHED_STATES:
                row["published"] += 1
                # `errors` hides on_time/late in the status grid: decided here from the dates
                late = cell.state == "late" or (
                    cell.state == "errors" and cell.published is not None and cell.due is not None
                    and cell.published > cell.due and cell.published_source != "first_seen")
                row["late" if late else "on_time"] += 1
                if late and cell.published is not None:
                    row["late_bodies"].append(f"{b.name}（{cell.published.isoformat()}）")
            elif cell.state == "missing":
                row["missing"] += 1
                row["missing_bodies"].append(b.name)
            else:
                row["unknown"] += 1
        found = session.execute(select(Finding.fingerprint, Finding.resolved_at)
                                .join(Report, Report.id == Finding.report_id)
                                .where(Finding.county_code == code, Finding.year == year,
                                       Finding.scope.in_(("doc", "hist")))).all()
        states = states_of(session, [(fp, r is not None) for fp, r in found])
        for fp, resolved in found:
            s = states[fp]
            if resolved is not None and s in ("open", "confirmed"):
                continue  # resolved (rechecked away) and not a publisher's fix: not counted
            row[f"{s}_findings"] += 1
        row["late_bodies"] = "、".join(row["late_bodies"])
        row["missing_bodies"] = "、".join(row["missing_bodies"])
        out.append(row)
    return out


def write_summary(rows: list[dict[str, Any]], out: Path | None, fmt: str) -> str | None:
    """The summary with Chinese column names, written by monitor.export (as `nianbao export`): CSV
    (UTF-8 with BOM in a file, so Excel reads it; returned as text without `out`) or XLSX (needs
    `out`)."""
    from monitor.export import csv_text, xlsx_bytes

    table = [{label: r.get(key) for key, label in SUMMARY_COLUMNS.items()} for r in rows]
    if fmt == "csv":
        text = csv_text(table) if table else ",".join(SUMMARY_COLUMNS.values()) + "\r\n"
        if out is None:
            return text
        _write(out, lambda: out.write_text(text, encoding="utf-8-sig"))
        return None
    if fmt == "xlsx":
        if out is None:
            raise ReviewError("xlsx 需要 --out 文件")
        data = xlsx_bytes({SUMMARY_SHEET: table or [list(SUMMARY_COLUMNS.values())]})
        _write(out, lambda: out.write_bytes(data))
        return None
    raise ReviewError(f"格式应为 csv 或 xlsx，而不是“{fmt}”")


def _write(out: Path, fn: Any) -> None:
    try:
        fn()
    except OSError as exc:
        raise ReviewError(f"无法写入：{exc.strerror}", source=str(out)) from None


def count_by_state(session: Session) -> dict[str, int]:
    """Reviews written per state (all time)."""
    return dict(session.execute(select(Review.state, func.count()).group_by(Review.state)).all())
