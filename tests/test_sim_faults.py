"""The simulator's fault modes answer what blocked and broken real portals answer (portals.md)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from crawler.sim import SimError, SimServer, SimWorld
from crawler.sim.client import fetch
from crawler.sim.faults import jsl_clearance

CODE = "990201"


@pytest.fixture
def world() -> SimWorld:
    w = SimWorld(seed=9)
    w.add_county(CODE, "模拟县", "trs", [("刘楼镇人民政府", "township"), ("城关街道办事处", "street")], [2024, 2025],
                 attachments=("pdf",))
    w.populate(CODE)
    return w


@pytest.fixture
def server(world: SimWorld) -> Iterator[SimServer]:
    with SimServer(world) as s:
        yield s


def list_url(world: SimWorld) -> str:
    return world.profile(CODE)["portals"][0]["start_urls"][0]


def test_412_is_a_script_challenge(world: SimWorld, server: SimServer) -> None:
    world.set_fault(CODE, "412")
    r = fetch(list_url(world))
    assert r.status == 412
    html = r.text()
    assert re.search(r"<meta id=\"[^\"]+\" content=\"[^\"]{60,}\" r='m'>", html)
    assert "$_ts" in html and len(html) > 4000
    assert "Set-Cookie" in r.headers


def test_521_sets_a_clearance_cookie_and_lets_it_through(world: SimWorld, server: SimServer) -> None:
    world.set_fault(CODE, "521")
    r = fetch(list_url(world))
    assert r.status == 521
    m = re.search(r"document\.cookie='__jsl_clearance=([^;]+);.*location\.href=", r.text())
    assert m and m.group(1) == jsl_clearance(CODE)
    passed = fetch(list_url(world), headers={"Cookie": f"__jsl_clearance={m.group(1)}"})
    assert passed.status == 200 and "createPageHTML" in passed.text()


@pytest.mark.parametrize(
    "mode,status,texts",
    [
        ("waf403", 403, ["您的访问请求可能对网站造成安全威胁", "网站防火墙", "事件ID"]),
        ("waf200", 200, ["您的访问请求可能对网站造成安全威胁", "网站防火墙", "事件ID"]),
        ("captcha", 200, ["请输入验证码"]),
        ("maintenance", 200, ["网站维护中"]),
    ],
)
def test_block_pages(world: SimWorld, server: SimServer, mode: str, status: int, texts: list[str]) -> None:
    world.set_fault(CODE, mode)
    r = fetch(list_url(world))
    assert r.status == status
    for text in texts:
        assert text in r.text()
    assert "createPageHTML" not in r.text()


def test_5xx_burst_then_normal(world: SimWorld, server: SimServer) -> None:
    world.set_fault(CODE, "5xx", count=3)
    statuses = [fetch(list_url(world)).status for _ in range(5)]
    assert statuses[:3] in ([503, 500, 503], [500, 503, 500]) and statuses[3:] == [200, 200]
    assert server.count(CODE, status=200) == 2
    assert server.count(CODE, status=503) + server.count(CODE, status=500) == 3


def test_slow_answers_wait_then_answer(world: SimWorld, server: SimServer) -> None:
    world.set_fault(CODE, "slow", delay=0.4)
    t0 = time.perf_counter()
    r = fetch(list_url(world))
    assert r.status == 200 and time.perf_counter() - t0 >= 0.4


def test_404_hits_details_and_attachments_not_lists(world: SimWorld, server: SimServer) -> None:
    world.set_fault(CODE, "404")
    assert fetch(list_url(world)).status == 200
    for report in world.expected_reports(CODE):
        assert fetch(report["url"]).status == 404
        if report["attachment_url"]:
            assert fetch(report["attachment_url"]).status == 404


def test_fault_under_a_path_prefix_and_for_a_count(world: SimWorld, server: SimServer) -> None:
    world.set_fault(CODE, "waf403", path_prefix="/xxgk/gknb/20", count=1)
    report = world.expected_reports(CODE)[0]
    assert fetch(list_url(world)).status == 200
    assert fetch(report["url"]).status == 403
    assert fetch(report["url"]).status == 200


def test_clearing_faults(world: SimWorld, server: SimServer) -> None:
    world.set_fault(CODE, "captcha")
    assert "请输入验证码" in fetch(list_url(world)).text()
    world.set_fault(CODE, None)
    assert "请输入验证码" not in fetch(list_url(world)).text()
    with pytest.raises(SimError):
        world.set_fault(CODE, "teapot")


def test_robots_txt_not_caught_in_a_5xx_burst(world: SimWorld, server: SimServer) -> None:
    world.set_robots(CODE, "allow")
    world.set_fault(CODE, "5xx", count=1)
    assert fetch(server.base_url(CODE) + "/robots.txt").status == 200
    assert fetch(list_url(world)).status in (500, 503)


@pytest.mark.parametrize("backend", ["raw", "aiohttp"])
def test_site_merger_moves_the_portal_to_a_new_host(world: SimWorld, backend: str) -> None:
    with SimServer(world, backend=backend) as server:
        old_list = list_url(world)
        old_base = server.base_url(CODE)
        new_base = server.move_domain(CODE)
        assert new_base != old_base and server.base_url(CODE) == new_base
        moved = fetch(old_list + "?x=1")
        assert moved.status == 301
        assert moved.headers["Location"] == new_base + old_list.removeprefix(old_base) + "?x=1"
        assert fetch(moved.headers["Location"]).status == 200
        assert world.profile(CODE)["portals"][0]["start_urls"][0].startswith(new_base)
        assert [r.status for r in server.records(CODE)] == [301, 200]
