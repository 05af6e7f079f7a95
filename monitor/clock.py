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


class AcceleratedClock:
    """Simulated time that runs `rate` times faster than the wall clock from `start`.

    Anchored to the wall clock (`time.time()` at `origin`), so that a child process given the same
    three numbers (`to_env()` / `clock_from_env()`) reads the same time as its parent. Used by the
    daemon's demo, its tests and the soak benchmark to run a publication season in a minute.
    """

    def __init__(self, start: datetime, rate: float, origin: float | None = None) -> None:
        import time

        if start.tzinfo is None:
            start = start.replace(tzinfo=SHANGHAI)
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.start = start
        self.rate = float(rate)
        self.origin = time.time() if origin is None else float(origin)

    def now(self) -> datetime:
        import time

        return self.start + timedelta(seconds=(time.time() - self.origin) * self.rate)

    def real_seconds(self, simulated: float) -> float:
        """Wall-clock seconds that `simulated` seconds of this clock take."""
        return simulated / self.rate

    def to_env(self) -> str:
        return f"accelerated:{self.start.isoformat()}:{self.rate!r}:{self.origin!r}"


CLOCK_ENV = "NIANBAO_CLOCK"


def clock_from_env(value: str | None = None) -> Clock:
    """The clock a process was told to use (`NIANBAO_CLOCK`, set by a parent running an
    accelerated clock), else the system clock."""
    import os

    value = os.environ.get(CLOCK_ENV) if value is None else value
    if not value:
        return SystemClock()
    kind, _, rest = value.partition(":")
    if kind != "accelerated":
        raise ValueError(f"unknown clock {value!r}")
    start, rate, origin = rest.rsplit(":", 2)
    return AcceleratedClock(datetime.fromisoformat(start), float(rate), float(origin))


def clock_rate(clock: Clock) -> float:
    """How many simulated seconds pass per wall-clock second (1 for real clocks)."""
    return float(getattr(clock, "rate", 1.0))
