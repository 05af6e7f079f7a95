"""The simulator's clock and events: publish later, edit, remove, move, layout; determinism; robots."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from crawler.sim import SimError, SimServer, SimWorld
from crawler.sim.client import fetch, links
from monitor.clock import SHANGHAI, FixedClock

BODIES = [("刘楼镇人民政府", "township"), ("城关街道办事处", "street"), ("模拟县教育局", "department")]
NOW = datetime(2026, 4, 1, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def world() -> SimWorld:
    w = SimWorld(seed=3, clock=FixedClock(NOW))
    w.add_county("990101", "模拟县", "trs", BODIES, [2024, 2025], attachments=("pdf",), page_size=50)
    w.populate("990101", [2024], published_at_fn=lambda body, year: datetime(2025, 1, 20, 9, 30, tzinfo=SHANGHAI))
    w.add_county("990102", "模拟县", "hanweb", BODIES, [2024, 2025])
    w.populate("990102", [2024])
    return w


@pytest.fixture
def server(world: SimWorld) -> Iterator[SimServer]:
    with SimServer(world) as s:
        yield s


def start_url(world: SimWorld, code: str) -> str:
    return world.profile(code)["portals"][0]["start_urls"][0]


def list_hrefs(world: SimWorld, code: str) -> set[str]:
    url = start_url(world, code)
    return {h for h, _ in links(fetch(url).text(), url)}


def test_report_published_later_is_invisible_until_the_clock_passes_it(world: SimWorld, server: SimServer) -> None:
    clock = world.clock
    report = world.publish("990101", "刘楼镇人民政府", 2025, at=NOW + timedelta(days=2))
    url = server.base_url("990101") + world.county("990101").site.detail_path(report)
    before = fetch(start_url(world, "990101"))
    assert url not in list_hrefs(world, "990101")
    assert fetch(url).status == 404
    assert all(r["year"] == 2024 for r in world.expected_reports("990101"))

    clock.advance(days=2, seconds=1)
    assert url in list_hrefs(world, "990101")
    assert fetch(url).status == 200
    assert fetch(start_url(world, "990101"), headers={"If-None-Match": before.headers["ETag"]}).status == 200
    assert [(r["body"], r["year"]) for r in world.expected_reports("990101") if r["year"] == 2025] == [("刘楼镇人民政府", 2025)]


def test_edit_gives_new_bytes_at_the_same_url(world: SimWorld, server: SimServer) -> None:
    before = {r["body"]: r for r in world.expected_reports("990101")}["城关街道办事处"]
    first = fetch(before["url"])
    att = before["attachment_url"]
    first_att = fetch(att) if att else None
    world.clock.advance(days=1)
    world.edit("990101", "城关街道办事处", 2024)
    after = {r["body"]: r for r in world.expected_reports("990101")}["城关街道办事处"]
    assert after["url"] == before["url"] and after["version"] == 1
    second = fetch(before["url"], headers={"If-None-Match": first.headers["ETag"]})
    assert second.status == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert second.headers["Last-Modified"] != first.headers["Last-Modified"]
    if first_att is not None:
        second_att = fetch(att, headers={"If-None-Match": first_att.headers["ETag"]})
        assert second_att.status == 200 and second_att.body != first_att.body


def test_edit_in_the_future_waits_for_the_clock(world: SimWorld, server: SimServer) -> None:
    report = world.expected_reports("990102")[0]
    first = fetch(report["url"])
    world.edit("990102", report["body"], report["year"], at=NOW + timedelta(hours=5))
    assert fetch(report["url"], headers={"If-None-Match": first.headers["ETag"]}).status == 304
    world.clock.advance(hours=6)
    assert fetch(report["url"], headers={"If-None-Match": first.headers["ETag"]}).status == 200


def test_removed_report_is_gone_from_list_and_detail(world: SimWorld, server: SimServer) -> None:
    report = {r["body"]: r for r in world.expected_reports("990101")}["模拟县教育局"]
    assert report["url"] in list_hrefs(world, "990101")
    world.remove("990101", "模拟县教育局", 2024)
    assert report["url"] not in list_hrefs(world, "990101")
    assert fetch(report["url"]).status == 404
    assert "模拟县教育局" not in {r["body"] for r in world.expected_reports("990101")}
    with pytest.raises(SimError):
        world.remove("990101", "模拟县教育局", 2024)


@pytest.mark.parametrize("code", ["990101", "990102"])
def test_moved_column_answers_301_to_the_new_list(world: SimWorld, server: SimServer, code: str) -> None:
    old = start_url(world, code)
    old_reports = {r["url"] for r in world.expected_reports(code)}
    world.move_column(code)
    new = start_url(world, code)
    assert new != old
    moved = fetch(old)
    assert moved.status == 301 and moved.headers["Location"] == new
    assert fetch(new).status == 200
    new_reports = {r["url"] for r in world.expected_reports(code)}
    for url in old_reports - new_reports:  # details under the old column root move too
        assert fetch(url).headers.get("Location") in new_reports
    world.move_column(code)
    assert fetch(old).headers["Location"] == start_url(world, code)


def test_changed_layout_hides_report_links_from_the_known_markup(world: SimWorld, server: SimServer) -> None:
    reports = {r["url"] for r in world.expected_reports("990101")}
    assert reports <= list_hrefs(world, "990101")
    world.change_layout("990101")
    html = fetch(start_url(world, "990101")).text()
    assert not reports & list_hrefs(world, "990101")
    assert "onclick=\"window.open(" in html
    assert fetch(next(iter(reports))).status == 200


@pytest.mark.parametrize("mode,status,text", [("none", 404, None), ("allow", 200, "Disallow: /admin/"), ("disallow", 200, "Disallow: /\n")])
def test_robots_txt_modes(world: SimWorld, server: SimServer, mode: str, status: int, text: str | None) -> None:
    world.set_robots("990101", mode)
    r = fetch(server.base_url("990101") + "/robots.txt")
    assert r.status == status
    if text:
        assert text in r.text()


def test_same_seed_same_site_bytes() -> None:
    def build(seed: int) -> list[bytes]:
        w = SimWorld(seed=seed, clock=FixedClock(NOW))
        w.add_county("990103", "模拟县", "generic", BODIES, [2024])
        w.populate("990103")
        with SimServer(w) as s:
            pages = [fetch(start_url(w, "990103")).body]
            pages += [fetch(r["url"]).body for r in w.expected_reports("990103")]
            s.stop()
        return pages

    a, b, c = build(11), build(11), build(12)
    assert a == b
    assert a != c


def test_nation_starts_fast_and_serves_every_county() -> None:
    t0 = time.perf_counter()
    world = SimWorld.nation(30, bodies_per_county=20, years=(2024, 2025), seed=5)
    with SimServer(world) as server:
        elapsed = time.perf_counter() - t0
        assert elapsed < 10
        flavours = {c.flavour for c in world.counties.values()}
        assert flavours == {"hanweb", "hanweb_annual", "trs", "gkmlpt", "vsb", "kaipu", "generic"}
        for code in world.counties:
            for url in world.profile(code)["portals"][0]["start_urls"][:1]:
                assert fetch(url).status == 200, url
        assert server.count() == 30
    assert sum(len(world.expected_reports(c, base_url="")) for c in world.counties) > 30 * 20


def test_added_county_is_bound_on_demand(world: SimWorld, server: SimServer) -> None:
    world.add_county("990104", "新县", "vsb", BODIES, [2024])
    world.populate("990104")
    assert fetch(server.base_url("990104") + "/xxgk/gknb.htm").status == 200


@pytest.mark.parametrize("flavour", ["hanweb", "hanweb_annual", "trs", "gkmlpt", "vsb", "kaipu", "generic"])
def test_change_layout_breaks_the_known_markup_in_every_flavour(flavour: str) -> None:
    import json
    import re

    w = SimWorld(seed=5, clock=FixedClock(NOW))
    w.add_county("990110", "模拟县", flavour, BODIES, [2024], page_size=50)
    w.populate("990110")
    with SimServer(w) as s:
        base = s.base_url("990110")
        portal = w.profile("990110")["portals"][0]

        def known_markup() -> bool:
            if flavour == "gkmlpt":
                opts = portal["options"]
                data = json.loads(fetch(f"{base}/gkmlpt/api/all/{opts['cat_id']}?page=1&sid={opts['sid']}").body)
                return bool(data.get("articles"))
            html = fetch(portal["start_urls"][-1]).text()
            if flavour == "hanweb_annual":
                return "发布时间：" in html
            paths = {r["url"][len(base):] for r in w.expected_reports("990110")}
            hrefs = set(re.findall(r'<a href="([^"]+)"', html))
            return any(h.endswith(p.rsplit("/", 1)[-1]) for h in hrefs for p in paths)

        assert known_markup()
        w.change_layout("990110")
        assert not known_markup()
