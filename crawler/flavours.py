"""The CMS flavours nianbao has a spider for (docs: ../shared/domain/portals.md): the one list that
county profiles are validated against, the simulator serves and `crawler.spiders.SPIDERS` maps
(kept light: no Scrapy import)."""

from __future__ import annotations

FLAVOURS = ("hanweb", "hanweb_annual", "trs", "gkmlpt", "vsb", "kaipu", "generic")

__all__ = ["FLAVOURS"]
