"""The real counties' profiles (counties/*.toml): valid, and the requests they plan stay on the
portal's hosts. Nothing here touches the network: those portals are unreachable from test machines."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crawler.middlewares import on_portal
from crawler.runner import profile_dict
from crawler.spiders import spider_for
from monitor.profiles import load_profiles

COUNTIES = Path(__file__).resolve().parents[1] / "counties"


def planned(profile: object) -> list[str]:
    prof = profile_dict(profile)
    urls: list[str] = []
    for portal in prof["portals"]:
        spider = spider_for(portal["flavour"])(county=prof["county"], portals=[portal], bodies=prof["bodies"])
        for request in spider.portal_requests(portal):
            assert on_portal(request.url, hosts=spider.allowed_hosts), request.url
            urls.append(request.url)
    return urls


def test_at_least_five_real_counties_load_and_say_they_are_unreachable() -> None:
    profiles = [p for p in load_profiles(COUNTIES) if not p.code.startswith("99")]
    assert len(profiles) >= 5
    for p in profiles:
        assert p.portals, p.code
        assert "not reachable" in (p.note or ""), p.code
        text = (p.path.read_text("utf-8") if p.path else "")
        assert "cannot be reached" in text, p.code
        assert planned(p), p.code


def test_hanweb_annual_profile_plans_one_url_per_body_and_year() -> None:
    (wenshang,) = [p for p in load_profiles(COUNTIES) if p.code == "370830"]
    urls = planned(wenshang)
    assert len(urls) == 3 * 3
    pairs = {(parse_qs(urlsplit(u).query)["area"][0], parse_qs(urlsplit(u).query)["fbtime"][0]) for u in urls}
    assert ("11370830004335465W", "2025") in pairs
    assert all(urlsplit(u).netloc == "www.wenshang.gov.cn" for u in urls)
