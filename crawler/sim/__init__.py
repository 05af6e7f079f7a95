"""The portal simulator: simulated county portals in each CMS flavour, served on 127.0.0.1.

    world = SimWorld(seed=1)
    world.add_county("990001", "模拟县", "trs", [("刘楼镇人民政府", "township")], [2024, 2025])
    world.populate("990001")
    with SimServer(world) as server:
        profile = world.profile("990001")          # start URLs point at the running server
        truth = world.expected_reports("990001")   # what a crawl must find

See domain/portals.md for what each flavour reproduces.
"""

from crawler.sim.server import LogRecord, SimServer
from crawler.sim.world import FLAVOURS, SimCounty, SimError, SimReport, SimWorld

__all__ = ["FLAVOURS", "LogRecord", "SimCounty", "SimError", "SimReport", "SimServer", "SimWorld"]
