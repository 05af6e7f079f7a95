"""TIME-001, TIME-002: dates written in the report itself. (TIME-003…005 need the calendar and
live in monitor/deadlines.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from monitor.report import Finding, ParsedReport
from monitor.rules.base import DocRule, register


@register
class WrongPeriod(DocRule):
    """统计期限不是报告年度（例如2020年度报告却统计2019年1月1日至2019年12月31日）。"""

    id, severity = "TIME-001", "error"

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        if not report.period or report.year is None:
            return
        start, end = report.period
        if start is None or end is None:
            return
        if date.fromisoformat(start) != date(report.year, 1, 1) or date.fromisoformat(end) != date(report.year, 12, 31):
            yield self.finding(
                f"{report.year}年度报告的统计期限为{start}至{end}，应为{report.year}年1月1日至12月31日",
                subject=f"{start}/{end}", period=[start, end], year=report.year)


@register
class DatedBeforeYearEnd(DocRule):
    """报告落款日期早于报告年度结束（例如2019年度报告落款为2019年2月21日），年度报告只能在年度结束后形成。"""

    id, severity = "TIME-002", "error"

    def check(self, report: ParsedReport) -> Iterator[Finding]:
        if not report.published_at or report.year is None:
            return
        d = date.fromisoformat(report.published_at)
        if d <= date(report.year, 12, 31):
            yield self.finding(
                f"{report.year}年度报告落款日期为{d.year}年{d.month}月{d.day}日，早于该年度结束",
                subject=report.published_at, date=report.published_at, year=report.year)
