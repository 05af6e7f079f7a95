"""The Telegram channel: python-telegram-bot's `ExtBot` with its `AIORateLimiter`.

The limiter is set without bursts (one request per 1/rate s overall, one per 60/group_per_minute s
per group) so that Telegram's 30 messages/s per bot and 20/min per group hold in every window; a
private chat gets at most one message per `chat_interval` s (Telegram's 1/s per chat, which the
limiter does not cover). 429 → the limiter waits `retry_after` and retries (`max_retries`), then
`RetryLater(retry_after)`; 403 → `Unreachable`; 400 → `Rejected` ("chat not found" →
`Unreachable`); network errors and 5xx → `RetryLater`.
"""

from __future__ import annotations

import asyncio
import time
import warnings

from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from notifier.channels import Channel, Rejected, RetryLater, Unreachable, register
from notifier.messages import TELEGRAM_LIMIT
from notifier.secrets import redact


def rate_limiter(rate: float = 29.0, group_per_minute: float = 20.0, max_retries: int = 2) -> AIORateLimiter:
    """AIORateLimiter without bursts: a bucket of one request, refilled `rate` times per second."""
    return AIORateLimiter(overall_max_rate=1 if rate else 0, overall_time_period=1 / rate if rate else 0,
                          group_max_rate=1 if group_per_minute else 0,
                          group_time_period=60 / group_per_minute if group_per_minute else 0,
                          max_retries=max_retries)


def make_bot(token: str, *, base_url: str | None = None, rate: float = 29.0, group_per_minute: float = 20.0,
             max_retries: int = 2, pool: int = 64, timeout: float = 10.0) -> ExtBot:
    request = HTTPXRequest(connection_pool_size=pool, read_timeout=timeout, write_timeout=timeout,
                           connect_timeout=timeout, pool_timeout=timeout * 3)
    kwargs = {"base_url": base_url} if base_url else {}
    return ExtBot(token, request=request, rate_limiter=rate_limiter(rate, group_per_minute, max_retries),
                  **kwargs)


@register
class TelegramChannel(Channel):
    """Telegram：机器人私聊或群组，地址为 chat id（如 123456789 或 -1001234567890），HTML 格式，
    超过 4096 字按行拆分。"""

    kind = "telegram"
    fmt = "html"
    limit = TELEGRAM_LIMIT

    def __init__(self, token: str, *, base_url: str | None = None, rate: float = 29.0,
                 group_per_minute: float = 20.0, chat_interval: float = 1.0, max_retries: int = 2,
                 bot: ExtBot | None = None) -> None:
        self._token = token
        self.bot = bot or make_bot(token, base_url=base_url, rate=rate, group_per_minute=group_per_minute,
                                   max_retries=max_retries)
        self.chat_interval = chat_interval
        self._next: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._started = False

    def __repr__(self) -> str:
        return "TelegramChannel(<token hidden>)"

    async def start(self) -> None:
        if not self._started:
            await self.bot.initialize()
            self._started = True

    async def close(self) -> None:
        if self._started:
            await self.bot.shutdown()
            self._started = False

    async def _pace(self, chat: int) -> None:
        """Wait until `chat_interval` has passed since the last message to this private chat was
        answered (measured from the answer: a request may wait long in the limiter's queue)."""
        if chat < 0 or not self.chat_interval:
            return  # groups are paced by the limiter
        wait = self._next.get(chat, 0.0) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    async def deliver(self, address: str, text: str) -> int:
        chat = _chat_id(address)
        lock = self._locks.setdefault(chat, asyncio.Lock())
        async with lock:  # the parts of one chat in order, one at a time
            return await super().deliver(address, text)

    async def send(self, address: str, text: str) -> None:
        chat = _chat_id(address)
        await self.start()
        await self._pace(chat)
        try:
            await self.bot.send_message(chat, text, parse_mode=ParseMode.HTML,
                                        link_preview_options=None, disable_notification=False)
            if chat > 0 and self.chat_interval:
                self._next[chat] = time.monotonic() + self.chat_interval
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB 22 warns that the type will be timedelta
                warnings.simplefilter("ignore")
                ra = exc.retry_after
            secs = ra.total_seconds() if hasattr(ra, "total_seconds") else float(ra)
            raise RetryLater(f"Telegram 429：{secs:g} 秒后重试", retry_after=secs) from None
        except Forbidden as exc:
            raise Unreachable(f"Telegram 403：{redact(exc.message, self._token)}") from None
        except BadRequest as exc:
            msg = redact(exc.message, self._token)
            if "chat not found" in msg.lower():
                raise Unreachable(f"Telegram 400：{msg}") from None
            raise Rejected(f"Telegram 400：{msg}") from None
        except NetworkError as exc:  # includes TimedOut and 5xx
            raise RetryLater(f"Telegram 网络错误：{redact(exc.message, self._token)}") from None
        except TelegramError as exc:
            raise RetryLater(f"Telegram 错误：{redact(exc.message, self._token)}") from None


def _chat_id(address: str) -> int:
    try:
        return int(address)
    except ValueError:
        raise Rejected(f"Telegram 地址应为 chat id（整数）：{address!r}") from None
