"""Time as a dependency: every component takes a `Clock`; tests pass a `FixedClock`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=SHANGHAI)
        self._now = at

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        self._now = at if at.tzinfo else at.replace(tzinfo=SHANGHAI)

    def advance(self, **kwargs: float) -> None:
        self._now += timedelta(**kwargs)


def today_shanghai(clock: Clock) -> date:
    return clock.now().astimezone(SHANGHAI).date()
