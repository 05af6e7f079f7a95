"""`python -m crawler.sim --counties N --seed S`: serve simulated counties on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import argparse
import gc
import sys
import threading
from pathlib import Path

from crawler.sim.server import SimServer
from crawler.sim.world import FLAVOURS, SimWorld


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.sim", description=__doc__)
    parser.add_argument("--counties", type=int, default=6, help="how many counties (flavours cycle)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bodies", type=int, default=12, help="bodies per county")
    parser.add_argument("--years", default="2023,2024,2025", help="report years, comma-separated")
    parser.add_argument("--flavours", default=",".join(FLAVOURS), help=f"comma-separated, from {','.join(FLAVOURS)}")
    parser.add_argument("--attachments", default="", help="file types every fourth county serves reports as (docx,pdf,doc)")
    parser.add_argument("--variety", type=int, default=4, help="distinct report renders per (kind, year); 0 renders each report")
    parser.add_argument("--cache-mb", type=int, default=256, help="rendered-bytes cache size")
    parser.add_argument("--warm", action="store_true", help="render every report page before serving")
    parser.add_argument("--profiles", type=Path, help="write one county profile TOML per county into this directory")
    args = parser.parse_args(argv)

    years = [int(y) for y in args.years.split(",") if y.strip()]
    flavours = [f.strip() for f in args.flavours.split(",") if f.strip()]
    unknown = set(flavours) - set(FLAVOURS)
    if unknown:
        parser.error(f"unknown flavours: {', '.join(sorted(unknown))}")
    world = SimWorld.nation(
        args.counties, args.bodies, years, args.seed, flavours=flavours,
        attachments=[a for a in args.attachments.split(",") if a], variety=args.variety or None,
        cache_bytes=args.cache_mb << 20,
    )
    if args.warm:
        world.warm()
    gc.collect()
    gc.freeze()  # the world is long-lived: keep it out of every later collection
    with SimServer(world, log_requests=False) as server:
        for code, county in world.counties.items():
            profile = world.profile(code)
            print(f"{code}\t{county.flavour}\t{county.encoding}\t{server.base_url(code)}\t{profile['portals'][0]['start_urls'][0]}")
            if args.profiles:
                import tomli_w

                args.profiles.mkdir(parents=True, exist_ok=True)
                (args.profiles / f"sim-{code}.toml").write_text(tomli_w.dumps(profile), encoding="utf-8")
        print(f"serving {len(world.counties)} counties on 127.0.0.1 (sim clock {world.now():%Y-%m-%d %H:%M %Z}); Ctrl-C stops",
              file=sys.stderr, flush=True)
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
