"""The status web pages through the ASGI app (Starlette's test client, in-process): access and
tokens, the CSRF-protected recrawl form, exports equal to the service rows, the review filter,
bad input, accessibility basics, and `nianbao serve` through the real entry point."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from monitor import status as svc
from monitor.config import WebSettings, load_config
from monitor.errors import ConfigError
from monitor.templates import T2021
from monitor.web import create_app
from monitor.web.access import CSRF_COOKIE, Access
from monitor.web.views import targets
from storage.models import CrawlRun, Finding, Review
from tests.web_seed import CODE, seed

ROOT = Path(__file__).parents[1]
READ, ADMIN = "read-token-3f9a", "admin-token-71c2"


@pytest.fixture
def seeded(engine: Any, tmp_path: Path, county_profile: str) -> dict[str, Any]:
    return seed(engine, tmp_path, county_profile)


def client(data: dict[str, Any], host: str = "127.0.0.1", web: WebSettings | None = None) -> Any:
    """The app for a client at `host`, its tokens in `web` (settings.web)."""
    app = create_app(SimpleNamespace(reminder_days=14, web=web or WebSettings()), data["clock"],
                     session_factory=data["sf"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's note on its httpx dependency
        from starlette.testclient import TestClient

        return TestClient(app, client=(host, 40000), follow_redirects=False)


def _csrf(c: Any, path: str = "/") -> str:
    c.get(path)
    return c.cookies[CSRF_COOKIE]


def test_pages_render_on_both_backends(seeded: dict[str, Any]) -> None:
    c = client(seeded)
    for url in ("/", f"/county/{CODE}", "/findings", "/findings?open=1&severity=error", "/runs",
                f"/runs?county={CODE}&status=blocked"):
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        assert '<html lang="zh-CN">' in r.text
    grid = c.get(f"/county/{CODE}").text
    for rid in set(re.findall(r'href="/report/(\d+)"', grid)):
        assert c.get(f"/report/{rid}").status_code == 200
    assert "被拦截" in c.get(f"/runs?county={CODE}&status=blocked").text
    r = c.get(f"/county/{CODE}")
    assert "<script" not in r.text and "default-src 'none'" in r.headers["content-security-policy"]


def test_strip_chart_puts_late_above_the_due_line_and_missing_in_the_band() -> None:
    from datetime import date

    from monitor.deadlines import CrawlState
    from monitor.status import BodyRow, CellStatus, CountyStatus
    from monitor.web.views import strip_chart

    due = date(2023, 1, 31)
    body = BodyRow(1, "甲镇", "township", False, {
        2021: CellStatus("on_time", due.replace(year=2022), 1, date(2022, 1, 21)),
        2022: CellStatus("late", due, 2, date(2023, 3, 2)),
        2023: CellStatus("missing", due.replace(year=2024))})
    chart = strip_chart(CountyStatus("1", "某县", [2021, 2022, 2023], [body], CrawlState()))
    early, late, missing = chart["marks"]
    assert early.y > chart["zero"] > late.y > chart["top"] + chart["band"] - 10 > missing.y
    assert late.title == "甲镇 2022年度：2023-03-02 公开，期限 2023-01-31，逾期30天"
    assert missing.shape == "cross" and early.x < late.x < missing.x


def test_the_bots_report_reads_what_the_report_page_shows(seeded: dict[str, Any]) -> None:
    from notifier.service import report_detail as bot_report

    with seeded["sf"]() as s:
        bot = bot_report(s, "刘楼镇", 2022)
        page = svc.report_detail(s, bot["report_id"])
        assert page is not None and page["entity"] == bot["entity"] == "刘楼镇人民政府"
        assert bot["published_at"] == page["published"].isoformat() == "2023-01-20"
        assert bot["published_source"] == page["published_source"] == "manual"
        doc = page["current"]["document"]
        assert bot["template"] == page["current"]["template"] and bot["link"] == (doc["final_url"] or doc["url"])
        open_rules = sorted(f["rule"] for f in page["findings"] if f["resolved_at"] is None)
        assert sorted(f["rule"] for f in bot["findings"]) == open_rules and "ARITH-002" in open_rules
        # no report: the body's open findings of the year, as the findings page lists them
        none = bot_report(s, "汶上县财政局", 2022)
        rows, _ = svc.search_findings(s, entity=none["entity_id"], year=2022, open_only=True)
        assert none["report_id"] is None and none["link"] is None
        assert [f["rule"] for f in none["findings"]] == [r["rule"] for r in rows] and rows


def test_loopback_reads_without_login_other_hosts_need_a_token(seeded: dict[str, Any]) -> None:
    assert client(seeded).get("/findings").status_code == 200
    r = client(seeded, "10.1.2.3").get("/findings")
    assert r.status_code == 403 and "NIANBAO_WEB_TOKEN" in r.text
    remote = client(seeded, "10.1.2.3", WebSettings(token=READ))
    r = remote.get("/findings")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ffindings"
    assert remote.get("/findings", headers={"authorization": f"Bearer {READ}"}).status_code == 200
    assert remote.get("/findings", headers={"authorization": "Bearer wrong"}).status_code == 303


def test_login_sets_a_session_without_the_token_and_never_logs_it(seeded: dict[str, Any],
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c = client(seeded, "10.1.2.3", WebSettings(token=READ, admin_token=ADMIN))
    token = _csrf(c, "/login")
    r = c.post("/login?next=/runs", data={"csrf": token, "token": "nope"})
    assert r.status_code == 403 and "令牌不正确" in r.text
    r = c.post("/login?next=/runs", data={"csrf": "forged", "token": READ})
    assert r.status_code == 403
    r = c.post("/login?next=//evil.example/", data={"csrf": token, "token": READ})
    assert r.status_code == 303 and r.headers["location"] == "/"
    session = c.cookies["nianbao_session"]
    assert READ not in session and session.startswith("read.")
    assert c.get("/runs").status_code == 200
    assert READ not in caplog.text and ADMIN not in caplog.text
    assert READ not in repr(Access(token=READ)) and ADMIN not in repr(Access(admin_token=ADMIN))
    # a session made with an old token ends when the token changes
    other = client(seeded, "10.1.2.3", WebSettings(token="rotated"))
    other.cookies.set("nianbao_session", session)
    assert other.get("/runs").status_code == 303


def test_tokens_come_from_the_settings_read_from_a_variable_or_a_file(seeded: dict[str, Any],
                                                                      tmp_path: Path) -> None:
    cfg = tmp_path / "nianbao.toml"
    cfg.write_text("", encoding="utf-8")
    token_file = tmp_path / "web.token"
    token_file.write_text(READ + "\n", encoding="utf-8")
    settings = load_config(cfg, env={"NIANBAO_WEB_TOKEN_FILE": str(token_file), "NIANBAO_WEB_ADMIN_TOKEN": ADMIN})
    assert READ not in repr(settings) and ADMIN not in repr(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        c = TestClient(create_app(settings, seeded["clock"], session_factory=seeded["sf"]),
                       client=("10.1.2.3", 40000), follow_redirects=False)
    assert c.get("/runs", headers={"authorization": f"Bearer {READ}"}).status_code == 200
    assert c.get("/runs", headers={"authorization": "Bearer wrong"}).status_code == 303
    token = _csrf(c, "/login")
    assert c.post("/login", data={"csrf": token, "token": ADMIN}).status_code == 303
    assert c.cookies["nianbao_session"].startswith("admin.")
    # the variable wins over the file; an unreadable file is one clear error naming its variable
    settings = load_config(cfg, env={"NIANBAO_WEB_TOKEN": "from-env", "NIANBAO_WEB_TOKEN_FILE": str(token_file)})
    assert settings.web.token is not None and settings.web.token.get_secret_value() == "from-env"
    with pytest.raises(ConfigError, match=r"cannot read the web admin token file \(NIANBAO_WEB_ADMIN_TOKEN_FILE\)"):
        load_config(cfg, env={"NIANBAO_WEB_ADMIN_TOKEN_FILE": str(tmp_path / "absent")})


def test_recrawl_is_for_admins_with_a_valid_form(seeded: dict[str, Any]) -> None:
    c = client(seeded, web=WebSettings(admin_token=ADMIN))
    token = _csrf(c)
    assert "请求重新抓取" not in c.get(f"/county/{CODE}").text  # loopback reads, but is no admin
    r = c.post(f"/county/{CODE}/recrawl", data={"csrf": token})
    assert r.status_code == 403 and "管理员" in r.text
    assert c.post("/login", data={"csrf": token, "token": ADMIN}).status_code == 303
    assert "请求重新抓取汶上县" in c.get(f"/county/{CODE}").text
    assert c.post(f"/county/{CODE}/recrawl", data={}).status_code == 403
    assert c.post(f"/county/{CODE}/recrawl", data={"csrf": "x" * 32}).status_code == 403
    r = c.post(f"/county/{CODE}/recrawl", data={"csrf": token},
               headers={"origin": "http://evil.example"})
    assert r.status_code == 403
    assert c.post(f"/county/{CODE}/recrawl", data={"csrf": token, "pad": "x" * 9000}).status_code == 413
    r = c.post(f"/county/{CODE}/recrawl", data={"csrf": token})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/county/{CODE}?msg=")
    assert "已排队重新抓取" in c.get(r.headers["location"]).text
    r = c.post(f"/county/{CODE}/recrawl", data={"csrf": token})
    assert "已有排队中的抓取请求" in c.get(r.headers["location"]).text
    with seeded["sf"]() as s:
        queued = s.scalars(select(CrawlRun).where(CrawlRun.status == "queued")).all()
    assert [(q.county_code, q.trigger, q.requested_by) for q in queued] == [(CODE, "web", "web:admin")]
    assert c.post("/county/999999/recrawl", data={"csrf": token}).status_code == 404


def test_exports_are_the_service_rows(seeded: dict[str, Any], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    c = client(seeded)
    with seeded["sf"]() as s:
        rows = svc.report_rows(s, seeded["clock"], county=CODE)
        found, total = svc.search_findings(s, rule="ARITH-002", limit=None)
    r = c.get(f"/county/{CODE}?format=csv")
    assert r.headers["content-disposition"] == f'attachment; filename="status-{CODE}.csv"'
    got = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert got == [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    assert json.loads(c.get(f"/county/{CODE}?format=json").text) == {"报告": rows}
    data = json.loads(c.get("/findings?rule=ARITH-002&format=json").text)["问题"]
    assert [f["id"] for f in data] == [f["id"] for f in found] and total == len(found) > 0
    wb = load_workbook(io.BytesIO(c.get("/runs?format=xlsx").content))
    assert wb.sheetnames == ["抓取记录"] and wb["抓取记录"].max_row == 1 + 3

    grid = c.get(f"/county/{CODE}").text
    rid = re.search(r'href="/report/(\d+)">有错误', grid)[1]  # type: ignore[index]
    wb = load_workbook(io.BytesIO(c.get(f"/report/{rid}?format=xlsx").content))
    assert wb.sheetnames == ["表二", "表三", "表四", "问题"]  # one sheet per table
    req = [list(r) for r in wb["表三"].iter_rows(values_only=True)]
    assert req[0] == ["项目", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
    assert req[1][0] == "一、本年新收政府信息公开申请数量" and len(req) == 1 + len(T2021.requests)
    cells = list(csv.DictReader(io.StringIO(c.get(f"/report/{rid}?format=csv").content.decode("utf-8-sig"))))
    assert {"table", "row", "label", "column", "value"} == set(cells[0])
    fees = next(x for x in cells if x["row"] == "fees")  # a table 二 row under its group's header
    assert fees["label"] == "行政事业性收费" and fees["column"] == "本年收费金额（万元）"
    assert [x["column"] for x in cells if x["row"] in ("penalty", "enforcement")] == ["本年处理决定数量"] * 2
    assert [x["column"] for x in cells if x["row"] == "normative_docs"] == ["本年制发件数", "本年废止件数", "现行有效件数"]
    assert len([x for x in cells if x["table"] == "requests"]) == 7 * len(T2021.requests)
    assert c.get("/findings?format=pdf").status_code == 400


def test_a_finding_marks_the_cells_it_concerns(seeded: dict[str, Any]) -> None:
    c = client(seeded)
    grid = c.get(f"/county/{CODE}").text
    rid = re.search(r'href="/report/(\d+)">有错误', grid)[1]  # type: ignore[index]
    page = c.get(f"/report/{rid}").text
    with seeded["sf"]() as s:
        arith = s.scalars(select(Finding).where(Finding.report_id == int(rid), Finding.rule_id == "ARITH-002",
                                                Finding.resolved_at.is_(None))).all()
    assert arith
    for f in arith:  # ARITH-002 names a row of table 三 and its 总计 column (index 6)
        anchor = f"cell-requests-{f.details['row']}-6"
        cell = re.search(rf'<td id="{anchor}" class="([^"]+)"[^>]*>(.*?)</td>', page, re.S)
        assert cell and "flagged flag-error" in cell[1] and f'href="#finding-{f.id}"' in cell[2]
        assert f'href="#{anchor}"' in page  # and the finding links to its cell
    resolved = re.findall(r'<li id="finding-(\d+)" class="finding sev-error resolved">', page)
    assert resolved and all(f'href="#finding-{i}"' not in page.split("<h2>表格</h2>")[1] for i in resolved)
    assert "（依据：手工录入日期）" in page and "未采用" in page
    assert "与上一版本相比：报告发布后被修改" in page


@pytest.mark.parametrize(("details", "expected"), [
    ({"table": "requests", "row": "total", "column": "总计"}, [("requests", "total", 6)]),
    ({"table": "requests", "row": "carried_over", "column": 3}, [("requests", "carried_over", 3)]),
    ({"table": "requests", "column": "自然人"}, [("requests", None, 0)]),
    ({"table": "requests", "row": "new", "column": "法人或其他组织小计"}, [("requests", "new", None)]),
    ({"table": "active", "row": "rules", "column": "本年新公开数量"}, [("active", "rules", "published")]),
    ({"table": "review_litigation", "row": "review", "column": "总计"}, [("review_litigation", "review", 4)]),
    ({"cell": "review_litigation.litigation_*[总计]"}, [("review_litigation", "litigation_*", 4)]),
    ({"cells": [{"table": "requests", "row": "new", "column": 0}]}, [("requests", "new", 0)]),
    ({"table": "nowhere", "row": "x"}, []),
    ({}, []),
])
def test_finding_targets(details: dict[str, Any], expected: list[Any]) -> None:
    assert targets(details) == expected


def test_review_filter_appears_with_reviews_and_narrows(seeded: dict[str, Any]) -> None:
    c = client(seeded)
    assert 'name="review"' not in c.get("/findings").text
    with seeded["sf"]() as s, s.begin():
        fps = s.scalars(select(Finding.fingerprint).order_by(Finding.id).limit(2)).all()
        s.add(Review(finding_fingerprint=fps[0], state="confirmed", by="审核员"))
        s.add(Review(finding_fingerprint=fps[1], state="confirmed", by="审核员", at=seeded["clock"].now()))
        s.add(Review(finding_fingerprint=fps[1], state="dismissed", reason="误报", by="审核员",
                     at=seeded["clock"].now().replace(year=2025)))
    page = c.get("/findings").text
    assert 'name="review"' in page and "已确认" in page
    with seeded["sf"]() as s:
        everything = svc.search_findings(s, limit=None)[1]
        confirmed, n_conf = svc.search_findings(s, review="confirmed", limit=None)
        dismissed, n_dis = svc.search_findings(s, review="dismissed", limit=None)
        _, n_none = svc.search_findings(s, review="none", limit=None)
    assert [f["fingerprint"] for f in confirmed] == [fps[0]] and [f["fingerprint"] for f in dismissed] == [fps[1]]
    assert n_none == everything - 2 and n_conf == n_dis == 1
    assert "共 1 条问题" in c.get("/findings?review=dismissed").text


BAD_INPUT = [
    ("/report/abc", 400, "参数 rid 应为整数"),
    ("/report/99999", 404, "没有编号为 99999 的报告"),
    ("/county/999999", 404, "没有代码为 999999 的县"),
    ("/findings?severity=fatal", 400, "筛选条件有误"),
    ("/findings?review=maybe", 400, "筛选条件有误"),
    ("/findings?year=abc", 400, "参数 year 应为整数"),
    ("/findings?page=0", 400, "参数 page 超出范围"),
    ("/runs?format=pdf", 400, "不支持的导出格式"),
    ("/nowhere", 404, "页面不存在"),
]


def test_bad_input_is_a_clear_page(seeded: dict[str, Any]) -> None:
    c = client(seeded)
    for url, status, text in BAD_INPUT:
        r = c.get(url)
        assert r.status_code == status and text in r.text and '<html lang="zh-CN">' in r.text, url


def test_accessibility_basics(seeded: dict[str, Any]) -> None:
    c = client(seeded)
    grid = c.get(f"/county/{CODE}").text
    rid = re.search(r'href="/report/(\d+)">有错误', grid)[1]  # type: ignore[index]
    for url in ("/", f"/county/{CODE}", f"/report/{rid}", "/findings", "/runs"):
        html = c.get(url).text
        assert html.startswith("<!doctype html>\n<html lang=\"zh-CN\">")
        ths = re.findall(r"<th\b[^>]*>", html)
        assert ths and all('scope="col"' in th or 'scope="row"' in th for th in ths), url
        for text in re.findall(r"<a\b[^>]*>(.*?)</a>", html, re.S):
            plain = re.sub(r"<[^>]+>", "", text).strip()
            assert plain and plain not in ("点击这里", "这里", "链接", "更多"), (url, text)
    # a grid cell's link names the body and year it leads to
    cells = re.findall(r'<td class="st st-\w+"><a href="[^"]+">(.*?)</a></td>', grid)
    assert cells and all(re.search(r"：.+ \d{4}年度(报告|问题)</span>$", c) for c in cells)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command(cli_env: dict[str, str], tmp_path: Path) -> None:
    import httpx

    cmd = [sys.executable, "-c", "from monitor.cli import main; main()"]
    r = subprocess.run([*cmd, "serve", "--host", "0.0.0.0"], env=cli_env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "NIANBAO_WEB_TOKEN" in r.stderr and "Traceback" not in r.stderr
    assert subprocess.run([*cmd, "init"], env=cli_env, cwd=tmp_path, capture_output=True, timeout=120).returncode == 0
    port = _free_port()
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port)], env=cli_env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):
            try:
                r2 = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                if proc.poll() is not None:
                    raise AssertionError(proc.stderr.read() if proc.stderr else "serve exited") from None
                time.sleep(0.1)
        else:
            raise AssertionError("nianbao serve did not answer")
        assert r2.status_code == 200 and "各县年报公开情况" in r2.text and "app;dur=" in r2.headers["server-timing"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
