"""Messages and the apprise channels against local servers: a JSON webhook on a local HTTP server,
e-mail to a local SMTP server (aiosmtpd), and the 企业微信/钉钉/飞书 robots, whose hosts are fixed, with
only the plugin's `notify_url` pointed at a local HTTP server (the payload is built and POSTed by
apprise itself)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from notifier.channels import Rejected, RetryLater
from notifier.channels.apprise import AppriseChannel
from notifier.messages import AlertView, numbers, render, split


def view(i: int = 1, **kw: Any) -> AlertView:
    base = dict(alert_id=i, kind="new", rule_id="ARITH-003", severity="error", county_code="370828",
                county_name="金乡县", entity="金乡县教育局", year=2024,
                message="表三“总计”列：（一）至（六）各项之和为12，“（七）总计”却填10",
                details={"table": "requests", "row": "total", "column": "总计", "expected": 12, "actual": 10,
                         "difference": 2}, link="http://127.0.0.1:9/r?a=1&b=<2>")
    base.update(kw)
    return AlertView(**base)


# ---- messages ------------------------------------------------------------------------------------

def test_alert_message_is_exact_and_escaped() -> None:
    text = render([view(), view(2, rule_id="STRUCT-005", severity="warning", message="没有写明统计期限 <b>", details={})])
    lines = text.split("\n")
    assert lines[0] == "<b>年报监测 · 金乡县（370828）：2个问题</b>"
    assert "<b>🔴 错误：ARITH-003 金乡县教育局 2024年度</b>" in lines
    assert any(line.startswith("规则：表三：“（七）总计”应等于（一）至（六）") for line in lines)
    assert "位置：表三 total行 总计列；应为 12；实为 10；相差 2" in lines
    assert '<a href="http://127.0.0.1:9/r?a=1&amp;b=&lt;2&gt;">报告链接</a>' in lines
    assert "没有写明统计期限 &lt;b&gt;" in lines


def test_resolved_notices() -> None:
    assert "✅ 已更正：ARITH-003" in render([view(kind="resolved")], "text")
    assert "✅ 已公开：TIME-004" in render([view(kind="resolved", rule_id="TIME-004")], "text")
    assert "✅ 已恢复：CRAWL-001" in render([view(kind="resolved", rule_id="CRAWL-001")], "text")


def test_numbers_from_a_prose_contradiction() -> None:
    assert numbers({"cell": "requests.new.total", "expected": 16, "actual": 0.0}) == \
        "位置：requests.new.total；应为 16；实为 0"
    assert numbers({}) == ""


def test_split_keeps_lines_and_tags_whole() -> None:
    text = render([view(i, message=f"第{i}条" + "长" * 200) for i in range(60)])
    parts = split(text, 4096)
    assert len(parts) > 2 and all(len(p) <= 4096 for p in parts)
    for p in parts:
        assert p.count("<b>") == p.count("</b>") and p.count("<a ") == p.count("</a>")
    assert "\n".join(parts).count("第59条") == 1


def test_split_cuts_an_overlong_line_after_unescaping() -> None:
    line = "<b>" + "&amp;" * 3000 + "</b>"
    parts = split(line, 4096)
    assert len(parts) == 4 and all(len(p) <= 4096 for p in parts)  # 15,000 characters
    assert all("<" not in p for p in parts) and "".join(parts).count("&amp;") == 3000


# ---- local servers -------------------------------------------------------------------------------

class Recorder(ThreadingHTTPServer):
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        self.reply: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "code": 0}

        class H(BaseHTTPRequestHandler):
            def do_POST(h) -> None:  # noqa: N805
                body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
                self.requests.append((h.path, json.loads(body)))
                out = json.dumps(self.reply).encode()
                h.send_response(self.status)
                h.send_header("Content-Type", "application/json")
                h.send_header("Content-Length", str(len(out)))
                h.end_headers()
                h.wfile.write(out)

            def log_message(h, *a: Any) -> None:  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), H)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def http() -> Iterator[Recorder]:
    srv = Recorder()
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def deliver(url: str, text: str) -> int:
    return asyncio.run(AppriseChannel().deliver(url, text))


def test_json_webhook(http: Recorder) -> None:
    deliver(f"json://127.0.0.1:{http.server_address[1]}/hook", render([view()], "text"))
    (path, payload), = http.requests
    assert path == "/hook" and payload["title"] == "年报监测 · 金乡县（370828）：1个问题"
    assert "位置：表三 total行 总计列；应为 12；实为 10" in payload["message"]


def test_webhook_failure_is_retried_later(http: Recorder) -> None:
    http.status = 502
    with pytest.raises(RetryLater):
        deliver(f"json://127.0.0.1:{http.server_address[1]}/hook", "标题\n正文")


def test_bad_apprise_url_is_rejected() -> None:
    with pytest.raises(Rejected):
        deliver("nosuchscheme://x", "标题\n正文")


def test_mail_to_a_local_smtp_server() -> None:
    from aiosmtpd.controller import Controller

    got: list[Any] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            got.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as sock:  # a free port (the controller probes the port it is given)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctl = Controller(Handler(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        deliver(f"mailto://127.0.0.1:{port}?from=nianbao@example.org&to=ops@example.org&mode=insecure",
                render([view()], "text"))
    finally:
        ctl.stop()
    (env,) = got
    assert env.rcpt_tos == ["ops@example.org"]
    import email
    from email.policy import default

    msg = email.message_from_bytes(env.content, policy=default)
    assert str(msg["Subject"]) == "年报监测 · 金乡县（370828）：1个问题"
    body = msg.get_body(("plain",)).get_content()
    assert "ARITH-003" in body and "应为 12" in body


@pytest.fixture
def robots(http: Recorder, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """The robots' fixed hosts → the local server (apprise builds and posts the payload itself)."""
    from apprise.plugins.dingtalk import NotifyDingTalk
    from apprise.plugins.feishu import NotifyFeishu
    from apprise.plugins.wecombot import NotifyWeComBot

    monkeypatch.setattr(NotifyWeComBot, "notify_url", http.url + "/cgi-bin/webhook/send?key={key}")
    monkeypatch.setattr(NotifyDingTalk, "notify_url", http.url + "/robot/send?access_token={token}")
    monkeypatch.setattr(NotifyFeishu, "notify_url", http.url + "/open-apis/bot/v2/hook/{token}/")
    return http


def test_wecom_robot_payload(robots: Recorder) -> None:
    deliver("wecombot://BOTKEY123", render([view()], "text"))
    (path, payload), = robots.requests
    assert path == "/cgi-bin/webhook/send?key=BOTKEY123"
    assert payload["msgtype"] == "text" and "ARITH-003" in payload["text"]["content"]
    assert payload["text"]["content"].startswith("年报监测 · 金乡县")


def test_wecom_long_message_split_at_its_limit(robots: Recorder) -> None:
    deliver("wecombot://BOTKEY123", render([view(i) for i in range(40)], "text"))
    assert len(robots.requests) >= 2
    assert all(len(p["text"]["content"]) <= 2048 for _, p in robots.requests)


def test_dingtalk_robot_payload(robots: Recorder) -> None:
    deliver("dingtalk://TOKEN123/", render([view()], "text"))
    (path, payload), = robots.requests
    assert path == "/robot/send?access_token=TOKEN123"
    assert payload["msgtype"] == "text" and "金乡县教育局" in payload["text"]["content"]


def test_feishu_robot_payload(robots: Recorder) -> None:
    deliver("feishu://TOKEN123", render([view()], "text"))
    (path, payload), = robots.requests
    assert path == "/open-apis/bot/v2/hook/TOKEN123/"
    assert payload["msg_type"] == "text" and "应为 12" in payload["content"]["text"]
