"""Channels: where alerts go. A channel is a small class registered by its `kind`, whose docstring
says what it is (`nianbao channels` lists them). `deliver(address, text)` splits the text at the
channel's own limit and sends each part; a failure is one of three errors, which the sender turns
into what happens next:

    DeliveryError
    ├── RetryLater   network error, 5xx, 429 (with `retry_after` when the service gave one)
    ├── Unreachable  the address is gone for good (403: blocked the bot, left the group) →
    │                the subscriber is made inactive, no more tries
    └── Rejected     the service refused this message (400) → the alert fails, the address stays
"""

from __future__ import annotations

from typing import Any, ClassVar

from monitor.errors import NianbaoError
from notifier.messages import split


class DeliveryError(NianbaoError):
    """A message was not delivered."""


class RetryLater(DeliveryError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(DeliveryError):
    """The address will never accept messages again (blocked, kicked, deleted)."""


class Rejected(DeliveryError):
    """The service refused this message; another message may pass."""


_CHANNELS: dict[str, type[Channel]] = {}


class Channel:
    kind: ClassVar[str]
    fmt: ClassVar[str] = "text"  # the rendering it takes: "html" or "text"
    limit: ClassVar[int] = 4096

    async def start(self) -> None:
        """Open connections (called once before a drain)."""

    async def close(self) -> None:
        """Close connections (called once after a drain)."""

    async def send(self, address: str, text: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def parts(self, text: str) -> list[str]:
        return split(text, self.limit, self.fmt)

    async def deliver(self, address: str, text: str) -> int:
        """Send the text in parts of at most `limit`; returns the number of parts sent."""
        parts = self.parts(text)
        for part in parts:
            await self.send(address, part)
        return len(parts)


def register(cls: type[Channel]) -> type[Channel]:
    _CHANNELS[cls.kind] = cls
    return cls


def channel_kinds() -> dict[str, type[Channel]]:
    """Every channel kind with its class (imports the channel modules)."""
    from notifier.channels import apprise, console, telegram  # noqa: F401

    return dict(_CHANNELS)


def describe() -> list[tuple[str, str]]:
    return [(k, " ".join((c.__doc__ or "").split())) for k, c in sorted(channel_kinds().items())]


def build_channels(settings: Any, *, console_out: Any = None) -> dict[str, Channel]:
    """The channels the settings make available: console and apprise always (apprise addresses are
    apprise URLs), telegram when a bot token is set."""
    from notifier.channels.apprise import AppriseChannel
    from notifier.channels.console import ConsoleChannel

    out: dict[str, Channel] = {"console": ConsoleChannel(console_out), "apprise": AppriseChannel()}
    tg = getattr(settings, "telegram", None)
    token = getattr(tg, "token", None)
    if token is not None:
        from notifier.channels.telegram import TelegramChannel

        out["telegram"] = TelegramChannel(token.get_secret_value(), base_url=tg.api_url, rate=tg.rate,
                                          group_per_minute=tg.group_per_minute)
    return out


__all__ = ["Channel", "DeliveryError", "RetryLater", "Unreachable", "Rejected", "register", "channel_kinds",
           "describe", "build_channels"]
