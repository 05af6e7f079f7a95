"""The **hist** rules: a report checked against stored history (domain/rules.md, "History" and TEXT-003).

Pure functions over `ParsedReport` objects; the storage layer loads the previous year's report of
the same body and this year's reports of the other bodies of the county and calls:

- `check_history(report, previous, peers, threshold=0.5)` → YOY-001, YOY-002, YOY-003, TEXT-003
- `describe_change(old, new)` → YOY-004 (or None when nothing meaningful changed)
- `disappeared(entity, year, url, last_seen)` → YOY-005

The prose measure (YOY-003, TEXT-003) is the containment of monitor/similarity.py: the share of a
report's normalised prose lying in passages also found in the other report. A report is alike when
that share reaches the threshold for its whole prose *or for one of its sections* with enough text
(a copied 存在的主要问题及改进情况 is 内容雷同 even when the rest is new). YOY-003 asks how much of
this year's prose comes from the earlier report; TEXT-003 asks it both ways, because between two
bodies of the same year nobody knows who copied whom, so both reports get the finding.

Each finding's `subject` names what it is about in a way that survives re-parsing: the cell and
both numbers for YOY-001/002 (a review is void when a number changes), the previous year for
YOY-003, the other body for TEXT-003 — never a similarity percentage, which moves with every edit.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from monitor.report import Finding, ParsedReport
from monitor.rules.base import ALL_TEMPLATES, MODERN, Rule, register
from monitor.similarity import MIN_CHARS, Prose, compare, prepare
from monitor.templates import APPLICANT_COLUMNS, cell_label, quoted, row_label, section_label

__all__ = [
    "HistRule",
    "CarriedOver",
    "CarryingCounts",
    "SameAsLastYear",
    "ChangedOnPortal",
    "Disappeared",
    "CopiedFromPeer",
    "Similarity",
    "check_history",
    "describe_change",
    "disappeared",
    "similarity",
    "similarity_pair",
]

DEFAULT_THRESHOLD = 0.5
TOTAL = 6  # index of 总计 in a row of table 三


# Where a report's prose has no per-section text (a report loaded with `ParsedReport.from_dict`
# keeps section titles only), the six headings are found in the prose itself.
SECTION_HEADINGS: tuple[tuple[str, str], ...] = (
    ("overview", r"总体情况"),
    ("active", r"主动公开政府信息"),
    ("requests", r"收到和处理政府信息公开申请"),
    ("review_litigation", r"行政复议.{0,3}行政诉讼"),
    ("problems", r"存在的?主要问题"),
    ("other", r"其他需要报告的事项"),
)
_HEADING = re.compile(r"^\s*(?:[一二三四五六]|[1-6１-６])\s*[、.．，,]\s*(?:政府信息公开)?(?P<title>.{2,30})$")


class HistRule(Rule):
    """Base of the rules that need stored history."""

    scope = "hist"


# ---- YOY-001 -----------------------------------------------------------------------------------

@register
class CarriedOver(HistRule):
    """本年度表三“二、上年结转政府信息公开申请数量”应等于上一年度报告表三“四、结转下年度继续办理”的数量
    （比较总计一栏，各申请人类别分栏一并列出）。两者不一致，说明本年或上年的统计有误。"""

    id = "YOY-001"
    severity = "error"
    templates = MODERN

    def check(self, report: ParsedReport, previous: ParsedReport) -> Iterable[Finding]:
        if not (_consecutive(report, previous) and previous.template in MODERN):
            return
        now = _row(report.tables.get("requests"), "carried_over")
        before = _row(previous.tables.get("requests"), "carried_forward")
        if now is None or before is None:
            return
        columns = [{"column": i, "label": APPLICANT_COLUMNS[i], "expected": before[i], "actual": now[i],
                    "differs": not _same(before[i], now[i])}
                   for i in range(7) if _numbers(before[i], now[i])]
        if not columns:
            return
        # 总计 decides; when it is blank on either side, the applicant columns known on both sides do.
        decisive = [c for c in columns if c["column"] == TOTAL] or columns
        wrong = next((c for c in decisive if c["differs"]), None)
        if wrong is None:
            return
        i, exp, act = wrong["column"], wrong["expected"], wrong["actual"]
        yield self.finding(
            f"{cell_label(report.template, 'requests', 'carried_over', i)}为{_fmt(act)}，应等于"
            f"{previous.year or '上一'}年报告{quoted(row_label(previous.template, 'requests', 'carried_forward'))}"
            f"的{_fmt(exp)}。",
            subject=f"requests.carried_over[{i}]:{_fmt(act)}≠{_fmt(exp)}",
            table="requests", row="carried_over", column=i, expected=exp, actual=act,
            previous_year=previous.year, previous_row="carried_forward", columns=columns)


# ---- YOY-002 -----------------------------------------------------------------------------------

CARRY_2021 = ("rules", "normative_docs")
CARRY_2019 = ("licensing", "other_services", "penalty", "enforcement", "fees")


@register
class CarryingCounts(HistRule):
    """逐年累计的数字应前后衔接：2021年版表二的“现行有效件数”应等于上年现行有效件数加本年制发件数、
    减本年废止件数；2019年版表二的“上一年项目数量”应等于上年报告的上一年项目数量加本年增/减。
    仅在两年采用同一版式时比较。"""

    id = "YOY-002"
    severity = "warning"
    templates = MODERN

    def check(self, report: ParsedReport, previous: ParsedReport) -> Iterable[Finding]:
        if not _consecutive(report, previous) or report.template != previous.template:
            return
        now, before = report.tables.get("active") or {}, previous.tables.get("active") or {}
        if report.template == "2021":
            yield from self._in_force(now, before, previous.year)
        elif report.template == "2019":
            yield from self._items(now, before, previous.year)

    def _in_force(self, now: dict, before: dict, year: int | None) -> Iterable[Finding]:
        for row in CARRY_2021:
            cur, old = now.get(row) or {}, before.get(row) or {}
            base, issued, repealed = old.get("in_force"), cur.get("issued"), cur.get("repealed")
            actual = cur.get("in_force")
            if not _numbers(base, issued, repealed, actual):
                continue
            expected = base + issued - repealed
            if not _same(expected, actual):
                yield self.finding(
                    f"{cell_label('2021', 'active', row, 'in_force')}为{_fmt(actual)}，应为{_fmt(expected)}"
                    f"（上年现行有效{_fmt(base)}＋本年制发{_fmt(issued)}－本年废止{_fmt(repealed)}）。",
                    subject=f"active.{row}.in_force:{_fmt(actual)}≠{_fmt(expected)}",
                    table="active", row=row, column="in_force", expected=expected, actual=actual,
                    previous_year=year, previous_in_force=base, issued=issued, repealed=repealed)

    def _items(self, now: dict, before: dict, year: int | None) -> Iterable[Finding]:
        for row in CARRY_2019:
            cur, old = now.get(row) or {}, before.get(row) or {}
            base, change, actual = old.get("prev"), old.get("change"), cur.get("prev")
            if not _numbers(base, change, actual):
                continue
            expected = base + change
            if not _same(expected, actual):
                yield self.finding(
                    f"{cell_label('2019', 'active', row, 'prev')}为{_fmt(actual)}，应为{_fmt(expected)}"
                    f"（{year or '上一'}年报告上一年项目数量{_fmt(base)}＋本年增/减{_fmt(change)}）。",
                    subject=f"active.{row}.prev:{_fmt(actual)}≠{_fmt(expected)}",
                    table="active", row=row, column="prev", expected=expected, actual=actual,
                    previous_year=year, previous_prev=base, previous_change=change)


# ---- similarity (YOY-003, TEXT-003) ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Similarity:
    """How much of report A's prose is found in report B's, after removing the fixed wording."""

    score: float  # the larger of `overall` and the best measurable section
    overall: float
    sections: dict[str, float] = field(default_factory=dict)  # section key → share (measurable ones)
    where: str | None = None  # the section key that gave `score`, or None: the prose as a whole
    passages: tuple[str, ...] = ()  # the longest shared passages, quoted from A
    chars: int = 0  # normalised characters of A's prose


def similarity(a: ParsedReport, b: ParsedReport, *, a_names: Sequence[str] = (),
               b_names: Sequence[str] = (), passages: int = 3) -> Similarity:
    """Containment of A's prose in B's, overall and per section of A (see monitor/similarity.py)."""
    return similarity_pair(a, b, a_names=a_names, b_names=b_names, passages=passages)[0]


def similarity_pair(a: ParsedReport, b: ParsedReport, *, a_names: Sequence[str] = (),
                    b_names: Sequence[str] = (), passages: int = 3) -> tuple[Similarity, Similarity]:
    """A in B and B in A, from one comparison: the shared passages are the same text on both sides.

    A section's share is the part of it inside shared passages. A section counts only with at
    least `MIN_CHARS` normalised characters, so that a short section (“六、无”) cannot make two
    reports look alike; the same floor applies to the whole.
    """
    pa = prepare(a.prose, _names(a, a_names))
    pb = prepare(b.prose, _names(b, b_names))
    if len(pa) < MIN_CHARS or len(pb) < MIN_CHARS:
        return Similarity(0.0, 0.0, chars=len(pa)), Similarity(0.0, 0.0, chars=len(pb))
    overlap = compare(pa, pb)
    longest = overlap.longest(passages)
    return (
        _similarity(a, pa, pb, overlap.covered, tuple(pa.quote(p.a_start, p.length) for p in longest)),
        _similarity(b, pb, pa, overlap.covered_in_b, tuple(pb.quote(p.b_start, p.length) for p in longest)),
    )


def _similarity(report: ParsedReport, mine: Prose, other: Prose, covered: Callable[[int, int], int],
                quotes: tuple[str, ...]) -> Similarity:
    overall = covered(0, len(mine)) / len(mine)
    counts: dict[str, list[int]] = {}  # section key → [shared, total]
    for key, where in _section_spans(report, mine.text):
        if isinstance(where, str):  # the section's text is not in the prose: measure it alone
            alone = compare(prepare(where, _names(report)), other)
            shared, total = alone.shared, alone.total
        else:
            start, end = mine.span(*where)
            shared, total = covered(start, end), end - start
        c = counts.setdefault(key, [0, 0])
        c[0] += shared
        c[1] += total
    sections = {key: shared / total for key, (shared, total) in counts.items() if total >= MIN_CHARS}
    score, where_max = overall, None
    for key, ratio in sections.items():
        if ratio > score:
            score, where_max = ratio, key
    return Similarity(score, overall, sections, where_max, quotes, len(mine))


def _names(report: ParsedReport, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The body's own names, masked in its prose (sorted: one cache entry per set of names)."""
    return tuple(sorted({n for n in (report.entity, *extra) if n}))


def _section_spans(report: ParsedReport, text: str) -> tuple[tuple[str, tuple[int, int] | str], ...]:
    """Each section's range in `text` (the prose joined with "\n"), or its own text when it cannot be
    found there. From `report.sections` when they carry text (the parser's), else from the headings
    in the prose (a report loaded with `ParsedReport.from_dict` keeps section titles only)."""
    return _spans(text, tuple(report.prose), tuple((s.key, s.text) for s in report.sections if s.text.strip()))


@lru_cache(maxsize=256)
def _spans(text: str, prose: tuple[str, ...],
           sections: tuple[tuple[str, str], ...]) -> tuple[tuple[str, tuple[int, int] | str], ...]:
    out: list[tuple[str, tuple[int, int] | str]] = []
    cursor = 0
    for key, section_text in sections:
        at = text.find(section_text, cursor)
        if at < 0:
            at = text.find(section_text)
        if at < 0:
            out.append((key, section_text))
        else:
            out.append((key, (at, at + len(section_text))))
            cursor = at + len(section_text)
    if out:
        return tuple(out)
    offset, current, start = 0, None, 0
    for paragraph in prose:
        heading = _heading_key(paragraph)
        if heading is not None:
            if current is not None:
                out.append((current, (start, offset)))
            current, start = heading, offset + len(paragraph) + 1
        offset += len(paragraph) + 1
    if current is not None:
        out.append((current, (start, offset)))
    return tuple(out)


def _heading_key(paragraph: str) -> str | None:
    m = _HEADING.match(paragraph)
    if m is None:
        return None
    return next((key for key, pattern in SECTION_HEADINGS if re.search(pattern, m.group("title"))), None)


def _pct(x: float) -> int:
    return int(x * 100 + 0.5)


def _where(sim: Similarity, *, other: bool = False) -> str:
    if sim.where is None:
        return "对方正文" if other else "正文"
    section = quoted(section_label(sim.where)) + "部分"
    return "对方" + section if other else section


def _check_threshold(threshold: float) -> None:
    if not 0 < threshold <= 1:
        raise ValueError(f"similarity threshold must be in (0, 1], got {threshold!r}")


# ---- YOY-003 -----------------------------------------------------------------------------------

@register
class SameAsLastYear(HistRule):
    """本年度报告的正文与本机关上一年度报告大段相同（内容雷同）：去除模板固定用语（标题、栏目名称、
    统计期限说明等）并忽略日期、数字和机关名称后，相同文字所占比例达到阈值（默认50%，全文或任一部分）。
    年度报告应如实反映本年度的工作，不应照搬上年内容。"""

    id = "YOY-003"
    severity = "warning"
    templates = ALL_TEMPLATES

    def check(self, report: ParsedReport, previous: ParsedReport,
              threshold: float = DEFAULT_THRESHOLD) -> Iterable[Finding]:
        if previous.template is None or previous is report:
            return
        if report.year is not None and previous.year is not None and previous.year >= report.year:
            return
        sim, theirs = similarity_pair(report, previous)
        if sim.score < threshold:
            return
        year = f"{previous.year}年" if previous.year else "上一年度"
        yield self.finding(
            f"本报告与本机关{year}报告内容雷同：{_where(sim)}有{_pct(sim.score)}%的文字相同"
            "（不计模板固定用语），请按本年度实际情况撰写。",
            subject=f"previous:{previous.year}",
            previous_year=previous.year, similarity=round(sim.score, 3), percent=_pct(sim.score),
            overall=_pct(sim.overall), sections={k: _pct(v) for k, v in sim.sections.items()},
            section=sim.where, passages=list(sim.passages), other_passages=list(theirs.passages),
            threshold=threshold)


# ---- TEXT-003 ----------------------------------------------------------------------------------

@register
class CopiedFromPeer(HistRule):
    """本报告的正文与同一年度另一机关的报告大段相同（疑似相互照抄）：度量方法和阈值与 YOY-003 相同；
    因无从判断谁抄谁，两份报告都会提示，并引用相同的段落。"""

    id = "TEXT-003"
    severity = "warning"
    templates = ALL_TEMPLATES

    def check(self, report: ParsedReport, peers: Sequence[tuple[str, ParsedReport]],
              threshold: float = DEFAULT_THRESHOLD) -> Iterable[Finding]:
        best: dict[str, Finding] = {}  # one finding per other body (its name is the subject)
        for name, peer in peers:
            if peer is report or peer.template is None or _same_body(report, name, peer):
                continue
            if report.year is not None and peer.year is not None and report.year != peer.year:
                continue
            finding = self._pair(report, name, peer, threshold)
            if finding is not None and (name not in best or finding.details["similarity"]
                                        > best[name].details["similarity"]):
                best[name] = finding
        yield from best.values()

    def _pair(self, report: ParsedReport, name: str, peer: ParsedReport,
              threshold: float) -> Finding | None:
        mine, theirs = similarity_pair(report, peer, b_names=(name,))
        # Copying has no known direction: the pair is alike when either text is largely in the other.
        if mine.score >= threshold:
            score, where = mine.score, _where(mine)
        elif theirs.score >= threshold:
            score, where = theirs.score, _where(theirs, other=True)
        else:
            return None
        return self.finding(
            f"与{name}的同年报告大段相同：{where}有{_pct(score)}%的文字相同（不计模板固定用语），"
            "疑似照抄，请核实。",
            subject=name,
            other=name, other_entity=peer.entity, similarity=round(score, 3), percent=_pct(score),
            overall=_pct(mine.overall), sections={k: _pct(v) for k, v in mine.sections.items()},
            section=mine.where,
            other_overall=_pct(theirs.overall), other_section=theirs.where,
            passages=list(mine.passages), other_passages=list(theirs.passages), threshold=threshold)


def _same_body(report: ParsedReport, name: str, peer: ParsedReport) -> bool:
    mine = {report.entity} - {None}
    return bool(mine & {name, peer.entity})


# ---- YOY-004 -----------------------------------------------------------------------------------

FIELDS = {"title": "标题", "published_at": "成文日期", "entity": "发布机关", "year": "年度",
          "template": "版式", "period": "统计期限"}
MAX_LISTED = 3  # changes named in the message; details hold them all


@register
class ChangedOnPortal(HistRule):
    """已发布的年度报告在首次发现后被修改（表格数字、正文、标题或日期有变动）。提示所改内容，
    以便核实修改是否必要、是否作出说明。"""

    id = "YOY-004"
    severity = "info"
    templates = ALL_TEMPLATES

    def describe(self, old: ParsedReport, new: ParsedReport) -> Finding | None:
        fields = [{"field": k, "old": getattr(old, k), "new": getattr(new, k)}
                  for k in FIELDS if _canon(getattr(old, k)) != _canon(getattr(new, k))]
        cells = _table_changes(old.tables, new.tables, new.template)
        prose = _prose_changes(old.prose, new.prose)
        if not (fields or cells or prose):
            return None
        parts = []
        if cells:
            listed = "；".join(f"{c['label']}由{_fmt(c['old'])}改为{_fmt(c['new'])}" for c in cells[:MAX_LISTED])
            more = f"等{len(cells)}处" if len(cells) > MAX_LISTED else ""
            parts.append(f"表格数据改动：{listed}{more}")
        if prose:
            first = prose["examples"][0] if prose["examples"] else None
            example = (f"（如“{first['old']}”改为“{first['new']}”）"
                       if first and first["old"] and first["new"] else "")
            parts.append(prose["summary"] + example)
        parts.extend(f"{FIELDS[f['field']]}由“{_fmt(f['old'])}”改为“{_fmt(f['new'])}”" for f in fields)
        return self.finding("报告发布后被修改。" + "。".join(parts) + "。",
                            subject=f"change:{_digest(old, new, fields, cells, prose)}",
                            fields=fields, cells=cells, prose=prose)


def _digest(old: ParsedReport, new: ParsedReport, fields: list[dict[str, Any]],
            cells: list[dict[str, Any]], prose: dict[str, Any] | None) -> str:
    """The change itself (raw values, not our wording of it), so re-parsing gives the same subject."""
    raw = [[(f["field"], f["old"], f["new"]) for f in fields],
           [(c["table"], c["row"], c["column"], c["old"], c["new"]) for c in cells],
           [[_canon(p) for p in old.prose], [_canon(p) for p in new.prose]] if prose else None]
    data = json.dumps(raw, ensure_ascii=False, default=str).encode()
    return hashlib.sha256(data).hexdigest()[:16]


def _flatten(value: Any, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    if isinstance(value, dict):
        out: dict[tuple[Any, ...], Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, (*path, k)))
        return out
    if isinstance(value, list | tuple):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, (*path, i)))
        return out
    return {path: value}


def _table_changes(old: dict[str, Any], new: dict[str, Any], template: str | None) -> list[dict[str, Any]]:
    a, b = _flatten(old), _flatten(new)
    changes = []
    for path in sorted(a.keys() | b.keys(), key=lambda p: tuple(map(str, p))):
        before, after = a.get(path), b.get(path)
        if _same(before, after):
            continue
        table, row, column = (list(path) + [None, None, None])[:3]
        changes.append({"table": table, "row": row, "column": column, "old": before, "new": after,
                        "label": _cell_label(template, path)})
    return changes


def _cell_label(template: str | None, path: tuple[Any, ...]) -> str:
    table, row, column = (list(path) + [None, None])[:3]
    return cell_label(template, str(table), row, column)


def _prose_changes(old: list[str], new: list[str]) -> dict[str, Any] | None:
    a = [p for p in (_canon(x) for x in old) if p]
    b = [p for p in (_canon(x) for x in new) if p]
    if a == b:
        return None
    added = removed = changed = 0
    examples: list[dict[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op == "replace":
            changed += min(i2 - i1, j2 - j1)
            removed += max(0, (i2 - i1) - (j2 - j1))
            added += max(0, (j2 - j1) - (i2 - i1))
        elif op == "delete":
            removed += i2 - i1
        else:
            added += j2 - j1
        if len(examples) < MAX_LISTED:
            examples.append(_excerpt(" ".join(a[i1:i2]), " ".join(b[j1:j2])))
    counts = "，".join(f"{word}{n}段" for word, n in (("修改", changed), ("新增", added), ("删除", removed)) if n)
    return {"changed": changed, "added": added, "removed": removed, "examples": examples,
            "summary": f"正文{counts}"}


def _excerpt(old: str, new: str, width: int = 30) -> dict[str, str]:
    """The first place where two texts differ, with a little context on both sides."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    lo = max(0, start - 10)

    def cut(s: str) -> str:
        piece = s[lo : min(len(s) - end + 10, lo + width + 20)]
        return ("…" if lo else "") + piece + ("…" if lo + len(piece) < len(s) else "")

    return {"old": cut(old), "new": cut(new)}


def _canon(value: Any) -> Any:
    """Whitespace and full-width/half-width differences do not make a change."""
    if isinstance(value, str):
        return "".join(value.split()).translate(_HALF)
    return value


_HALF = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


# ---- YOY-005 -----------------------------------------------------------------------------------

@register
class Disappeared(HistRule):
    """曾在门户网站上发现的年度报告已无法找到（页面被删除或撤下）。历年政府信息公开工作年度报告
    应持续公开，不得删除。"""

    id = "YOY-005"
    severity = "warning"
    templates = ALL_TEMPLATES

    def build(self, entity: str, year: int, url: str, last_seen: str) -> Finding:
        return self.finding(
            f"{entity}{year}年度报告已从门户网站撤下（最后一次见到：{last_seen}），历年年度报告应保持公开。",
            subject=url, entity=entity, year=year, url=url, last_seen=last_seen)


# ---- entry points ------------------------------------------------------------------------------

_CARRIED_OVER = CarriedOver()
_CARRYING_COUNTS = CarryingCounts()
_SAME_AS_LAST_YEAR = SameAsLastYear()
_COPIED = CopiedFromPeer()
_CHANGED = ChangedOnPortal()
_DISAPPEARED = Disappeared()


def check_history(report: ParsedReport, previous: ParsedReport | None,
                  peers: Sequence[tuple[str, ParsedReport]], *,
                  threshold: float = DEFAULT_THRESHOLD) -> list[Finding]:
    """YOY-001/002/003 against the same body's previous-year report, TEXT-003 against each peer.

    `peers` are (name, report) of other bodies' reports of the same year; the name is the one a
    county official knows (it is quoted in the message and is the finding's subject).
    """
    _check_threshold(threshold)
    findings: list[Finding] = []
    if previous is not None:
        for rule in (_CARRIED_OVER, _CARRYING_COUNTS):
            if rule.applies_to(report):
                findings.extend(rule.check(report, previous))
        if _SAME_AS_LAST_YEAR.applies_to(report):
            findings.extend(_SAME_AS_LAST_YEAR.check(report, previous, threshold))
    if _COPIED.applies_to(report):
        findings.extend(_COPIED.check(report, peers, threshold))
    return findings


def describe_change(old: ParsedReport, new: ParsedReport) -> Finding | None:
    """YOY-004: what changed between two versions of a published report; None when nothing did."""
    return _CHANGED.describe(old, new)


def disappeared(entity: str, year: int, url: str, last_seen: str) -> Finding:
    """YOY-005: a report seen before at `url` is gone from the portal."""
    return _DISAPPEARED.build(entity, year, url, last_seen)


# ---- helpers -----------------------------------------------------------------------------------

def _consecutive(report: ParsedReport, previous: ParsedReport) -> bool:
    """Carried-over counts compare only with the year just before (when both years are known)."""
    if report.year is None or previous.year is None:
        return True
    return previous.year == report.year - 1


def _row(table: Any, key: str) -> list[Any] | None:
    if not isinstance(table, dict):
        return None
    row = table.get(key)
    if not isinstance(row, list | tuple) or len(row) != 7:
        return None
    return list(row)


def _numbers(*values: Any) -> bool:
    """All are numbers (a blank cell is None and keeps the rule silent for that cell)."""
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(a - b) < 1e-9
    return a == b


def _fmt(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if x is None:
        return "空"
    if isinstance(x, list):
        return "至".join(_fmt(v) for v in x)
    return str(x)
