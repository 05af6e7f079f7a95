"""The bot end to end: the real python-telegram-bot client, long polling the fake Bot API server on
127.0.0.1 over HTTP, answering every command from the database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from monitor.clock import FixedClock
from storage.db import make_engine, session_factory, upgrade
from storage.models import CrawlRun, Subscriber
from tests.fakebotapi import FakeBotAPI
from tests.notifyworld import NOW, BotRunner, add_finding, seed, write_settings

ADMIN = 9001
JX_ADMIN = 9002
USER = 1001


@pytest.fixture
def world(tmp_path: Any) -> Iterator[dict[str, Any]]:
    url = f"sqlite+pysqlite:///{tmp_path / 'bot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    sf = session_factory(engine)
    with sf() as s, s.begin():
        ids = seed(s)
        add_finding(s, ids)
        add_finding(s, ids, rule="STRUCT-005", severity="warning", message="没有写明统计期限", details={})
    with FakeBotAPI() as server:
        settings = write_settings(tmp_path, url, server.token, admins=(ADMIN,),
                                  county_admins={"370828": [JX_ADMIN]})
        from notifier.bot import build_application

        app = build_application(settings, sf, clock=FixedClock(NOW), base_url=server.base_url,
                                watch_interval=0.05)
        runner = BotRunner(app).start()
        yield {"server": server, "sf": sf, "ids": ids, "app": app}
        runner.stop()
    engine.dispose()


def ask(w: dict[str, Any], text: str, chat: int = USER, parts: int = 1) -> str:
    server: FakeBotAPI = w["server"]
    before = len(server.messages(chat))
    server.push_command(text, chat_id=chat)
    got = server.wait_messages(before + parts, chat_id=chat)
    return "\n".join(m.text for m in got[before:])


def test_set_my_commands_in_chinese(world: dict[str, Any]) -> None:
    names = [c["command"] for c in world["server"].commands]
    assert names == ["start", "help", "subscribe", "unsubscribe", "list", "status", "findings", "report",
                     "recrawl", "confirm", "dismiss", "digest", "mute"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in c["description"]) for c in world["server"].commands)


def test_start_and_help(world: dict[str, Any]) -> None:
    assert "/subscribe" in ask(world, "/start") and "年报" in ask(world, "/help")


def test_subscribe_list_unsubscribe(world: dict[str, Any]) -> None:
    assert "您还没有订阅" in ask(world, "/list")
    answer = ask(world, "/subscribe 金乡")
    assert "订阅成功" in answer and "金乡县（370828）" in answer
    assert "汶上县财政局" in ask(world, "/subscribe 370830 财政局")
    listing = ask(world, "/list")
    assert "金乡县（370828）" in listing and "汶上县 汶上县财政局" in listing
    with world["sf"]() as s:
        sub = s.scalar(select(Subscriber).where(Subscriber.address == str(USER)))
        assert sub.channel == "telegram" and sub.scope["counties"] == ["370828"] and len(sub.scope["entities"]) == 1
    assert "已取消订阅金乡县" in ask(world, "/unsubscribe 金乡县")
    assert "已取消全部订阅" in ask(world, "/unsubscribe")
    assert "您还没有订阅" in ask(world, "/list")


def test_unknown_county_names_the_closest(world: dict[str, Any]) -> None:
    answer = ask(world, "/subscribe 金相县")
    assert "没有找到县“金相县”" in answer and "金乡县（370828）" in answer
    with world["sf"]() as s:
        assert s.scalar(select(Subscriber)) is None


def test_status_findings_report(world: dict[str, Any]) -> None:
    st = ask(world, "/status 金乡县 2024")
    assert st.startswith("金乡县（370828）2024年度：") and "金乡县教育局：有错误 2025-01-20（错误1，警告1）" in st
    f = ask(world, "/findings 370828")
    assert "未解决的问题：2 个" in f and "[错误] ARITH-003 金乡县教育局 2024年度" in f
    assert f"• #{_finding_id(world, 'ARITH-003')} [错误] ARITH-003" in f
    assert "STRUCT-005" not in ask(world, "/findings 370828 error")
    rep = ask(world, "/report 金乡县教育局 2024")
    assert "公开日期：2025-01-20" in rep and "链接：http://127.0.0.1:9/jx/2024.html" in rep and "ARITH-003" in rep
    assert "尚未发现该年度报告" in ask(world, "/report 金乡县教育局 2023")


@pytest.mark.parametrize("text, expect", [
    ("/status", "用法：/status <县> [年度]"),
    ("/status 金乡县 去年", "“去年”不是年度"),
    ("/findings 金乡县 fatal", "级别应为 error、warning 或 info"),
    ("/report 2024", "用法：/report <单位> <年度>"),
    ("/report 不存在局 2024", "没有找到单位“不存在局”"),
    ("/mute abc", "用法：/mute <小时>"),
    ("/mute 100000", "您还没有订阅"),
    ("/digest maybe", "用法：/digest on|all|off"),
    ("/recrawl", "用法：/recrawl <县>"),
    ("/subscribe", "用法：/subscribe <县代码或名称> [单位]"),
    ("/frobnicate 1", "未知命令 /frobnicate"),
    ("你好", "请使用命令"),
    ("/status " + "金" * 300, "参数过长"),
])
def test_bad_arguments_get_a_helpful_answer(world: dict[str, Any], text: str, expect: str) -> None:
    assert expect in ask(world, text)


def test_digest_and_mute(world: dict[str, Any]) -> None:
    ask(world, "/subscribe 金乡县")
    assert "已开启每日摘要" in ask(world, "/digest on")
    assert "静音 3 小时" in ask(world, "/mute 3")
    assert "静音时长应在" in ask(world, "/mute 100000")
    with world["sf"]() as s:
        sub = s.scalar(select(Subscriber))
        assert sub.digest == "daily+errors" and sub.muted_until == NOW.replace(hour=7)
    assert "已关闭摘要" in ask(world, "/digest off")


def test_recrawl_refused_for_non_admins(world: dict[str, Any]) -> None:
    assert "只有金乡县的管理员可以重新抓取" in ask(world, "/recrawl 金乡县", chat=USER)
    assert "只有汶上县的管理员" in ask(world, "/recrawl 汶上县", chat=JX_ADMIN)  # admin of another county
    with world["sf"]() as s:
        assert s.scalar(select(CrawlRun)) is None


def test_recrawl_queues_and_reports_progress(world: dict[str, Any]) -> None:
    answer = ask(world, "/recrawl 金乡县", chat=JX_ADMIN)
    assert "已加入抓取队列" in answer and "没有检测到运行中的守护进程" in answer
    assert "已有一个排队中的抓取请求" in ask(world, "/recrawl 370828", chat=ADMIN)
    sf = world["sf"]
    with sf() as s, s.begin():
        run = s.scalar(select(CrawlRun))
        assert (run.status, run.trigger, run.requested_by) == ("queued", "chat", f"telegram:{JX_ADMIN}")
        run.status, run.started_at = "running", NOW
    server: FakeBotAPI = world["server"]
    got = server.wait_messages(2, chat_id=JX_ADMIN)
    assert "开始抓取金乡县" in got[-1].text
    with sf() as s, s.begin():
        run = s.scalar(select(CrawlRun))
        run.status, run.finished_at, run.stats = "ok", NOW, {"documents": 7, "new": 2}
    got = server.wait_messages(3, chat_id=JX_ADMIN)
    assert "金乡县抓取完成" in got[-1].text and "成功，文档 7，新文档 2" in got[-1].text


def _finding_id(w: dict[str, Any], rule: str) -> int:
    from storage.models import Finding

    with w["sf"]() as s:
        return s.scalar(select(Finding.id).where(Finding.rule_id == rule))


def test_dismiss_refused_for_non_admins(world: dict[str, Any]) -> None:
    from storage.models import Review

    fid = _finding_id(world, "ARITH-003")
    assert f"只有金乡县的管理员可以审核问题 {fid}" in ask(world, f"/dismiss {fid} 不是问题", chat=USER)
    assert f"只有金乡县的管理员可以审核问题 {fid}" in ask(world, f"/confirm {fid}", chat=USER)
    with world["sf"]() as s:
        assert s.scalar(select(Review)) is None


def test_admin_dismisses_and_confirms_with_the_summary_and_evidence(world: dict[str, Any]) -> None:
    from storage.models import Review

    fid = _finding_id(world, "ARITH-003")
    assert "排除问题时须说明原因" in ask(world, f"/dismiss {fid}", chat=JX_ADMIN)
    assert "不是问题编号" in ask(world, "/dismiss 金乡 原因", chat=JX_ADMIN)
    assert "没有编号为 999999 的问题" in ask(world, "/confirm 999999", chat=JX_ADMIN)
    answer = ask(world, f"/dismiss {fid} 统计口径 不同", chat=JX_ADMIN)
    lines = answer.split("\n")
    assert lines[0] == f"问题 {fid} 已标记为“已排除”，原因：统计口径 不同。以后不再提醒，除非相关数字改变。"
    assert lines[1] == "[错误] ARITH-003 金乡县 金乡县教育局 2024年度：表三“总计”列：（一）至（六）各项之和为12，“（七）总计”却填10"
    assert lines[2].startswith("公式：（七）总计 = （一）至（六）各项之和")
    assert "已经是“已排除”" in ask(world, f"/dismiss {fid} 再次", chat=ADMIN)
    assert f"问题 {fid} 已标记为“已确认”" in ask(world, f"/confirm {fid}", chat=ADMIN)
    assert f"• #{fid} [错误]（已确认） ARITH-003" in ask(world, "/findings 金乡县")
    with world["sf"]() as s:
        rows = [(r.state, r.reason, r.by, r.previous_state) for r in s.scalars(select(Review).order_by(Review.id))]
    assert rows == [("dismissed", "统计口径 不同", f"telegram:{JX_ADMIN}", "open"),
                    ("confirmed", None, f"telegram:{ADMIN}", "dismissed")]


def test_long_answer_is_split_under_4096(world: dict[str, Any]) -> None:
    ids = world["ids"]
    with world["sf"]() as s, s.begin():
        for i in range(60):
            add_finding(s, ids, rule="TEXT-001", severity="info", fp=f"long-{i}",
                        message=f"第{i}处：" + "固定用语被改写" * 12, details={})
    from notifier import bot

    old = bot.MAX_LIST
    bot.MAX_LIST = 1000
    try:
        text = ask(world, "/findings 金乡县 info", parts=2)
    finally:
        bot.MAX_LIST = old
    sent = world["server"].messages(USER)
    assert len(sent) >= 2 and all(len(m.text) <= 4096 for m in sent)
    assert "第59处" in text
