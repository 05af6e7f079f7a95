"""One module per CMS flavour; `make_site` picks the class for a county."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.sim.flavours.base import Site
from crawler.sim.flavours.generic import GenericSite
from crawler.sim.flavours.gkmlpt import GkmlptSite
from crawler.sim.flavours.hanweb import HanwebSite
from crawler.sim.flavours.hanweb_annual import HanwebAnnualSite
from crawler.sim.flavours.kaipu import KaipuSite
from crawler.sim.flavours.trs import TrsSite
from crawler.sim.flavours.vsb import VsbSite

if TYPE_CHECKING:
    from crawler.sim.world import SimCounty, SimWorld

SITES: dict[str, type[Site]] = {cls.flavour: cls for cls in (HanwebSite, HanwebAnnualSite, TrsSite, GkmlptSite, VsbSite, KaipuSite,
                                                           GenericSite)}


def make_site(world: SimWorld, county: SimCounty) -> Site:
    try:
        cls = SITES[county.flavour]
    except KeyError:
        raise NotImplementedError(f"flavour {county.flavour!r} is not simulated yet") from None
    return cls(world, county)
