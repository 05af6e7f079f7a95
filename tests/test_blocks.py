"""Block pages by content at any status: one test per row of crawler.blocks.BLOCK_MARKERS, the
simulator's block pages at every status they come with, and normal pages that must stay pages."""

from __future__ import annotations

import pytest

from crawler.blocks import (
    BLOCK_KINDS,
    BLOCK_MARKERS,
    BlockMarker,
    classify_block,
    example_page,
    matching_rows,
)
from crawler.sim import faults


def _row_id(m: BlockMarker) -> str:
    return f"{m.kind}-{m.vendor}-{m.phrase or m.pattern!r}"


@pytest.mark.parametrize("marker", BLOCK_MARKERS, ids=_row_id)
def test_every_row_is_a_block_at_each_of_its_statuses_in_both_encodings(marker: BlockMarker) -> None:
    assert marker.kind in BLOCK_KINDS
    for encoding in ("utf-8", "gb18030"):
        body = example_page(marker).encode(encoding)
        assert marker in matching_rows(body)  # this row, not only some other one, recognises it
        for status in marker.statuses:
            assert classify_block(status=status, body=body, content_type="text/html") == marker.kind, status


def test_rows_cover_the_statuses_real_portals_use() -> None:
    statuses = {(m.kind, s) for m in BLOCK_MARKERS for s in m.statuses}
    for pair in (("412", 200), ("412", 202), ("412", 400), ("521", 512), ("521", 200), ("waf", 200),
                 ("waf", 403)):
        assert pair in statuses


SIM_PAGES = [
    ("412", faults.challenge_412("990001", "/"), (412, 200, 202, 400)),
    ("521", faults.challenge_521("990001"), (521, 200)),
    ("521", faults.challenge_jsl_go("990001"), (512, 200)),
    *[("waf", faults.cloud_waf_page(mode, "990001", "/"), (200, 403)) for mode in faults.CLOUD_WAF_PAGES],
]


@pytest.mark.parametrize(("kind", "page", "statuses"), SIM_PAGES)
def test_simulator_block_pages_at_every_status(kind: str, page: faults.Page, statuses: tuple[int, ...]) -> None:
    for status in statuses:
        assert classify_block(status=status, body=page.body, content_type="text/html") == kind


def test_statuses_alone_and_binary_answers() -> None:
    assert classify_block(status=412, body=b"", content_type="text/html") == "412"
    assert classify_block(status=521, body=b"<html></html>", content_type="text/html") == "521"
    assert classify_block(status=403, body=b"Forbidden", content_type="text/html") == "403"
    assert classify_block(status=200, body=b"%PDF-1.7 D\xe7\x9b\xbe", content_type="application/pdf") is None
    # a 瑞数 page at 202 or 400 is a block, an ordinary 400 page is not
    assert classify_block(status=400, body=b"<html><body>Bad Request</body></html>", content_type="text/html") is None


def test_normal_portal_pages_are_not_blocks() -> None:
    """Pages of every simulated flavour (lists and report pages, UTF-8 and GBK) carry no marker."""
    from crawler.sim.client import fetch
    from crawler.sim.server import SimServer
    from crawler.sim.world import SimWorld

    world = SimWorld(3)
    bodies = [("模拟县人民政府办公室", "county_gov"), ("刘楼镇人民政府", "township")]
    with SimServer(world).start() as server:
        for i, flavour in enumerate(("hanweb", "trs", "vsb", "generic", "kaipu")):
            code = f"99100{i}"
            world.add_county(code, "模拟县", flavour, bodies, (2024, 2025), encoding="gbk" if i % 2 else "utf-8")
            world.populate(code)
            server.bind_new()
            urls = [u for p in world.profile(code)["portals"] for u in p["start_urls"]]
            urls += [e["url"] for e in world.expected_reports(code)]
            for url in urls:
                r = fetch(url)
                assert r.status == 200
                assert classify_block(status=200, body=r.body, content_type=r.headers.get("Content-Type")) is None, url
