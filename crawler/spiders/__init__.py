"""One spider per CMS flavour (docs: ../shared/domain/portals.md), on `base.PortalSpider`."""

from __future__ import annotations

from crawler.flavours import FLAVOURS
from crawler.spiders.base import PortalSpider
from crawler.spiders.generic import GenericSpider
from crawler.spiders.gkmlpt import GkmlptSpider
from crawler.spiders.hanweb import HanwebAnnualSpider, HanwebSpider
from crawler.spiders.kaipu import KaipuSpider
from crawler.spiders.trs import TrsSpider
from crawler.spiders.vsb import VsbSpider

SPIDERS: dict[str, type[PortalSpider]] = {
    s.flavour: s for s in (HanwebSpider, HanwebAnnualSpider, TrsSpider, GkmlptSpider, VsbSpider, KaipuSpider,
                           GenericSpider)
}
assert tuple(SPIDERS) == FLAVOURS, "crawler.flavours.FLAVOURS names one spider each"


def spider_for(flavour: str) -> type[PortalSpider]:
    try:
        return SPIDERS[flavour]
    except KeyError:
        raise ValueError(f"no spider for flavour {flavour!r}; one of {sorted(SPIDERS)}") from None


__all__ = ["SPIDERS", "spider_for", "PortalSpider"]
