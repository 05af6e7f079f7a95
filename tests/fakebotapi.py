"""A fake Telegram Bot API server over HTTP on 127.0.0.1, for tests and bench/fanout.py.

It answers the methods the project uses (getMe, sendMessage, getUpdates, setMyCommands,
getMyCommands, deleteWebhook, close) at `/bot<token>/<method>` like Telegram does, records every
accepted message, hands out updates the test writes (`push_command`), and can

- enforce Telegram's flood limits (`limits=True`): 30 messages/s per bot, 1/s per private chat,
  20/min per group (negative chat id), answering 429 with `parameters.retry_after` beyond them;
- fail on purpose: `fail_next(n, status)` for the next n sendMessage calls (502, 429…), `block(chat)`
  → 403 for a chat from then on.

The server runs in its own thread with its own event loop; PTB clients connect with
`base_url=server.base_url`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000001


@dataclass
class Sent:
    chat_id: int
    text: str
    parse_mode: str | None
    at: float
    message_id: int


@dataclass
class _Failure:
    status: int
    count: int
    chat_id: int | None = None
    retry_after: int | None = None


@dataclass
class FakeBotAPI:
    token: str = f"{BOT_ID}:AAFakeTokenForTestsOnly_0123456789abc"
    limits: bool = False
    per_bot: int = 30
    per_chat_interval: float = 1.0
    per_group_minute: int = 20
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rejected_429: int = 0
    commands: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._update_id = 0
        self._message_id = 0
        self._failures: list[_Failure] = []
        self._blocked: set[int] = set()
        self._window: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._group_window: dict[int, deque[float]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._new_update: asyncio.Event | None = None
        self._new_sent = threading.Condition(self._lock)
        self.port = 0

    # -- control from the test ---------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def push_command(self, text: str, chat_id: int = 1001, user_id: int | None = None,
                     chat_type: str | None = None) -> int:
        """Queue an update with a message from a user; a leading /command gets its entity."""
        with self._lock:
            self._update_id += 1
            self._message_id += 1
            entities = []
            if text.startswith("/"):
                entities.append({"type": "bot_command", "offset": 0, "length": len(text.split()[0])})
            chat_type = chat_type or ("private" if chat_id > 0 else "group")
            msg = {"message_id": self._message_id, "date": int(time.time()),
                   "chat": {"id": chat_id, "type": chat_type, "first_name": "测试", "title": "测试群"},
                   "from": {"id": user_id or abs(chat_id), "is_bot": False, "first_name": "测试"},
                   "text": text, "entities": entities}
            self._updates.append({"update_id": self._update_id, "message": msg})
            uid = self._update_id
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        return uid

    def fail_next(self, count: int, status: int, *, chat_id: int | None = None,
                  retry_after: int | None = None) -> None:
        with self._lock:
            self._failures.append(_Failure(status, count, chat_id, retry_after))

    def block(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.add(chat_id)

    def messages(self, chat_id: int | None = None) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if chat_id is None or s.chat_id == chat_id]

    def wait_messages(self, n: int, chat_id: int | None = None, timeout: float = 30.0) -> list[Sent]:
        """Block until at least n messages (to chat_id, if given) were accepted."""
        deadline = time.monotonic() + timeout
        with self._new_sent:
            while True:
                got = [s for s in self.sent if chat_id is None or s.chat_id == chat_id]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"expected {n} messages, got {len(got)}: {[g.text[:80] for g in got]}")
                self._new_sent.wait(left)

    # -- HTTP --------------------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        data = dict(await request.post())
        out: dict[str, Any] = {}
        for k, v in data.items():
            v = v if isinstance(v, str) else str(v)
            try:
                out[k] = json.loads(v) if v[:1] in "[{" else v
            except ValueError:
                out[k] = v
        return out

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _records(self, request: web.Request) -> web.Response:
        """What the server accepted and rejected (for a client in another process: bench/fanout.py)."""
        with self._lock:
            sent = [{"chat_id": m.chat_id, "text": m.text, "at": m.at} for m in self.sent]
            return web.json_response({"sent": sent, "rejected_429": self.rejected_429})

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method = request.match_info["method"]
        if token != self.token:
            return self._error(401, "Unauthorized")
        params = await self._params(request)
        with self._lock:
            self.calls.append((method, params))
        m = method.lower()
        if m == "getme":
            return self._ok({"id": BOT_ID, "is_bot": True, "first_name": "年报监测", "username": "nianbao_test_bot",
                             "can_join_groups": True, "can_read_all_group_messages": False,
                             "supports_inline_queries": False})
        if m in ("deletewebhook", "close", "logout"):
            return self._ok(True)
        if m == "setmycommands":
            cmds = params.get("commands") or []
            self.commands = json.loads(cmds) if isinstance(cmds, str) else cmds
            return self._ok(True)
        if m == "getmycommands":
            return self._ok(self.commands)
        if m == "getupdates":
            return await self._get_updates(params)
        if m == "sendmessage":
            return self._send_message(params)
        return self._error(404, "Not Found: method not found")

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + min(timeout, 2.0)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return self._ok(ready)
            assert self._new_update is not None
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), max(0.01, deadline - time.monotonic()))
            except TimeoutError:
                pass

    def _flood(self, chat: int, now: float) -> int | None:
        """Seconds to wait when a message to `chat` now would break a limit, else None (and count it)."""
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if len(self._window) >= self.per_bot:
            return 1
        if chat < 0:
            w = self._group_window.setdefault(chat, deque())
            while w and now - w[0] >= 60.0:
                w.popleft()
            if len(w) >= self.per_group_minute:
                return max(1, int(60 - (now - w[0])) + 1)
            w.append(now)
        else:
            last = self._chat_last.get(chat)
            if last is not None and now - last < self.per_chat_interval:
                return 1
            self._chat_last[chat] = now
        self._window.append(now)
        return None

    def _send_message(self, params: dict[str, Any]) -> web.Response:
        try:
            chat = int(params["chat_id"])
        except (KeyError, ValueError):
            return self._error(400, "Bad Request: chat_id is empty")
        text = str(params.get("text") or "")
        if not text:
            return self._error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return self._error(400, "Bad Request: message is too long")
        with self._new_sent:
            for f in self._failures:
                if f.count > 0 and (f.chat_id is None or f.chat_id == chat):
                    f.count -= 1
                    if f.status == 429:
                        self.rejected_429 += 1
                        return self._error(429, f"Too Many Requests: retry after {f.retry_after or 1}",
                                           f.retry_after or 1)
                    if f.status == 403:
                        return self._error(403, "Forbidden: bot was blocked by the user")
                    return self._error(f.status, "Bad Gateway" if f.status == 502 else "Internal Server Error")
            if chat in self._blocked:
                return self._error(403, "Forbidden: bot was blocked by the user")
            if self.limits:
                wait = self._flood(chat, time.monotonic())
                if wait is not None:
                    self.rejected_429 += 1
                    return self._error(429, f"Too Many Requests: retry after {wait}", wait)
            self._message_id += 1
            sent = Sent(chat, text, params.get("parse_mode"), time.monotonic(), self._message_id)
            self.sent.append(sent)
            self._new_sent.notify_all()
        return self._ok({"message_id": sent.message_id, "date": int(time.time()),
                         "chat": {"id": chat, "type": "private" if chat > 0 else "group"}, "text": text})

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> FakeBotAPI:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._new_update = asyncio.Event()
            app = web.Application()
            app.router.add_route("*", "/bot{token}/{method}", self._handle)
            app.router.add_get("/_records", self._records)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fakebotapi", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """`python -m tests.fakebotapi [--limits]`: serve until killed; prints "PORT TOKEN" once ready."""
    import sys

    server = FakeBotAPI(limits="--limits" in sys.argv).start()
    print(server.port, server.token, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
