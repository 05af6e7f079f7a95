"""County profiles (`counties/*.toml`, docs/CONTRACTS.md) and regional deadline files.

A county file declares the county, its expected bodies, its portals and optional `[deadlines]`.
Local notices often set earlier due dates for a whole province or city, so a region file may set
them once for all its counties:

```toml
# counties/regions/山东省.toml  (or 济宁市.toml)
[region]
name = "山东省"          # matched against the county's `province` or `city`
level = "province"       # province | city
[deadlines]
township = "01-20"
```

Precedence: county file > city file > province file > the law (monitor.deadlines). Overrides
apply from `since_year` (default 2019, the 2019 条例) on; earlier years always follow the 2008 条例.
Every file is validated on load; a `ProfileError` names the file, the line and what is wrong.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from crawler.flavours import FLAVOURS
from monitor.errors import ProfileError

log = logging.getLogger(__name__)

KINDS = ("county_gov", "department", "township", "street", "other")
DEADLINE_KINDS = ("county_gov", "department", "township", "street", "other")
DEADLINE_KEYS = (*DEADLINE_KINDS, "reminder_days", "since_year")
REGION_LEVELS = ("province", "city")
# a portal's crawl bounds (see crawler/limits.py) and the values a profile may give them
PORTAL_LIMITS = {"max_list_pages": (1, 10_000), "max_depth": (1, 10_000), "time_limit": (10, 86_400)}

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


@dataclass(slots=True)
class Body:
    name: str
    kind: str
    aliases: list[str] = field(default_factory=list)
    first_year: int | None = None
    retired_year: int | None = None


@dataclass(slots=True)
class Portal:
    flavour: str
    start_urls: list[str]
    body: str | None = None
    obey_robots: bool = True
    allowed_hosts: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    # crawl bounds (crawler/limits.py); None: the crawl default of crawler/settings.py
    max_list_pages: int | None = None
    max_depth: int | None = None
    time_limit: int | None = None  # seconds from the portal's first request


@dataclass(slots=True)
class CountyProfile:
    code: str
    name: str
    province: str | None
    city: str | None
    bodies: list[Body]
    portals: list[Portal]
    deadlines: dict[str, Any] = field(default_factory=dict)  # the file's own [deadlines]
    note: str | None = None
    path: Path | None = None
    # county > city > province, merged by load_profiles (equals `deadlines` for load_profile)
    effective_deadlines: dict[str, Any] = field(default_factory=dict)
    # [health] crawl_alert_threshold: failed/blocked crawls in a row before operators are told
    health: dict[str, Any] = field(default_factory=dict)

    def body(self, name: str) -> Body | None:
        return next((b for b in self.bodies if b.name == name or name in b.aliases), None)


@dataclass(slots=True)
class RegionDeadlines:
    name: str
    level: str
    deadlines: dict[str, Any]
    path: Path


class _Locator:
    """Line numbers for (table, index, key) in a TOML file, so errors can say where."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str, int, str | None], int] = {}
        counts: dict[str, int] = {}
        table, index = "", 0
        for no, line in enumerate(text.splitlines(), 1):
            if m := _HEADER.match(line):
                table = m.group(2)
                if m.group(1) == "[[":
                    index = counts.get(table, -1) + 1
                    counts[table] = index
                else:
                    index = 0
                self.lines.setdefault((table, index, None), no)
            elif m := _KEY.match(line):
                self.lines.setdefault((table, index, m.group(1)), no)

    def line(self, table: str, index: int = 0, key: str | None = None) -> int | None:
        return self.lines.get((table, index, key)) or self.lines.get((table, index, None))


class _Checker:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.loc = _Locator(text)

    def fail(self, what: str, table: str = "", index: int = 0, key: str | None = None) -> ProfileError:
        line = self.loc.line(table, index, key)
        where = f"{self.path}:{line}" if line else str(self.path)
        return ProfileError(what, source=where)

    def get(self, d: dict[str, Any], key: str, typ: type | tuple[type, ...], table: str, index: int = 0,
            *, required: bool = False, default: Any = None) -> Any:
        if key not in d:
            if required:
                label = f"[{table}]" if table else "top level"
                raise self.fail(f"{label}: missing required key {key!r}", table, index)
            return default
        value = d[key]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
            raise self.fail(f"{key} must be {names}, got {value!r}", table, index, key)
        return value

    def unknown(self, d: dict[str, Any], allowed: tuple[str, ...], table: str, index: int = 0) -> None:
        for key in d:
            if key not in allowed:
                raise self.fail(f"[{table}]: unknown key {key!r} (allowed: {', '.join(allowed)})",
                                table, index, key)

    def limit(self, d: dict[str, Any], key: str, index: int) -> int | None:
        value = self.get(d, key, int, "portals", index)
        lo, hi = PORTAL_LIMITS[key]
        if value is not None and not lo <= value <= hi:
            raise self.fail(f"{key} must be between {lo} and {hi}, got {value}", "portals", index, key)
        return value

    def deadlines(self, d: Any) -> dict[str, Any]:
        if not isinstance(d, dict):
            raise self.fail("[deadlines] must be a table", "deadlines")
        self.unknown(d, DEADLINE_KEYS, "deadlines")
        out: dict[str, Any] = {}
        for key, value in d.items():
            if key in ("reminder_days", "since_year"):
                v = self.get(d, key, int, "deadlines")
                if key == "reminder_days" and not 0 <= v <= 90:
                    raise self.fail(f"reminder_days must be between 0 and 90, got {v}", "deadlines", 0, key)
                if key == "since_year" and not 2008 <= v <= 2100:
                    raise self.fail(f"since_year must be a year, got {v}", "deadlines", 0, key)
                out[key] = v
                continue
            if not isinstance(value, str) or not re.fullmatch(r"\d{2}-\d{2}", value) \
                    or not _valid_mmdd(value):
                raise self.fail(f"deadline {key} must be a date \"MM-DD\" of the year after the "
                                f"report year (e.g. \"01-31\"), got {value!r}", "deadlines", 0, key)
            out[key] = value
        return out


def _valid_mmdd(value: str) -> bool:
    month, day = (int(x) for x in value.split("-"))
    try:
        date(2001, month, day)  # not a leap year: "02-29" would vanish three years in four
    except ValueError:
        return False
    return True


def _read(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise ProfileError("not UTF-8 text", source=str(path)) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise ProfileError(f"invalid TOML: {exc}", source=where) from None


def load_profile(path: str | Path) -> CountyProfile:
    path = Path(path)
    text, data = _read(path)
    c = _Checker(path, text)
    c.unknown(data, ("county", "deadlines", "health", "bodies", "portals"), "")
    county = data.get("county")
    if not isinstance(county, dict):
        raise c.fail("missing [county] table (code, name, province, city)")
    c.unknown(county, ("code", "name", "province", "city", "note"), "county")
    code = c.get(county, "code", str, "county", required=True)
    if not re.fullmatch(r"\d{6}", code):
        raise c.fail(f"county code must be the 6-digit administrative code, got {code!r}",
                     "county", 0, "code")
    name = c.get(county, "name", str, "county", required=True).strip()
    if not name:
        raise c.fail("county name is empty", "county", 0, "name")
    province = c.get(county, "province", str, "county")
    city = c.get(county, "city", str, "county")
    note = c.get(county, "note", str, "county")
    deadlines = c.deadlines(data["deadlines"]) if "deadlines" in data else {}
    health: dict[str, Any] = {}
    if "health" in data:
        if not isinstance(data["health"], dict):
            raise c.fail("[health] must be a table", "health")
        c.unknown(data["health"], ("crawl_alert_threshold",), "health")
        v = c.get(data["health"], "crawl_alert_threshold", int, "health")
        if v is not None:
            if not 1 <= v <= 100:
                raise c.fail(f"crawl_alert_threshold must be between 1 and 100, got {v}", "health", 0,
                             "crawl_alert_threshold")
            health["crawl_alert_threshold"] = v

    bodies_raw = data.get("bodies", [])
    if not isinstance(bodies_raw, list):
        raise c.fail("bodies must be an array of tables: [[bodies]]", "bodies")
    bodies: list[Body] = []
    seen: dict[str, int] = {}
    for i, b in enumerate(bodies_raw):
        c.unknown(b, ("name", "kind", "aliases", "first_year", "retired_year"), "bodies", i)
        bname = c.get(b, "name", str, "bodies", i, required=True).strip()
        kind = c.get(b, "kind", str, "bodies", i, required=True)
        if kind not in KINDS:
            raise c.fail(f"body {bname!r}: unknown kind {kind!r} (one of {', '.join(KINDS)})",
                         "bodies", i, "kind")
        aliases = c.get(b, "aliases", list, "bodies", i, default=[])
        if not all(isinstance(a, str) and a.strip() for a in aliases):
            raise c.fail(f"body {bname!r}: aliases must be non-empty strings", "bodies", i, "aliases")
        first = c.get(b, "first_year", int, "bodies", i)
        retired = c.get(b, "retired_year", int, "bodies", i)
        if first is not None and retired is not None and retired <= first:
            raise c.fail(f"body {bname!r}: retired_year {retired} must be after first_year {first}",
                         "bodies", i, "retired_year")
        for n in (bname, *aliases):
            if n in seen:
                raise c.fail(f"name or alias {n!r} is used by two bodies", "bodies", i,
                             "name" if n == bname else "aliases")
            seen[n] = i
        bodies.append(Body(name=bname, kind=kind, aliases=[a.strip() for a in aliases],
                           first_year=first, retired_year=retired))

    portals_raw = data.get("portals", [])
    if not isinstance(portals_raw, list):
        raise c.fail("portals must be an array of tables: [[portals]]", "portals")
    portals: list[Portal] = []
    for i, p in enumerate(portals_raw):
        c.unknown(p, ("flavour", "start_urls", "body", "obey_robots", "allowed_hosts", "options",
                      *PORTAL_LIMITS), "portals", i)
        flavour = c.get(p, "flavour", str, "portals", i, required=True)
        if flavour not in FLAVOURS:
            raise c.fail(f"unknown flavour {flavour!r} (one of {', '.join(FLAVOURS)})",
                         "portals", i, "flavour")
        urls = c.get(p, "start_urls", list, "portals", i, required=True)
        if not urls or not all(isinstance(u, str) and re.match(r"https?://", u) for u in urls):
            raise c.fail("start_urls must be a non-empty list of http(s) URLs", "portals", i, "start_urls")
        pbody = c.get(p, "body", str, "portals", i)
        if pbody is not None and not any(pbody == b.name or pbody in b.aliases for b in bodies):
            raise c.fail(f"portal body {pbody!r} is not one of the county's [[bodies]]",
                         "portals", i, "body")
        portals.append(Portal(
            flavour=flavour, start_urls=urls, body=pbody,
            obey_robots=c.get(p, "obey_robots", bool, "portals", i, default=True),
            allowed_hosts=c.get(p, "allowed_hosts", list, "portals", i, default=[]),
            options=c.get(p, "options", dict, "portals", i, default={}),
            **{key: c.limit(p, key, i) for key in PORTAL_LIMITS}))

    return CountyProfile(code=code, name=name, province=province, city=city, bodies=bodies,
                         portals=portals, deadlines=deadlines, note=note, path=path,
                         effective_deadlines=dict(deadlines), health=health)


def load_region(path: str | Path) -> RegionDeadlines:
    path = Path(path)
    text, data = _read(path)
    c = _Checker(path, text)
    c.unknown(data, ("region", "deadlines"), "")
    region = data.get("region")
    if not isinstance(region, dict):
        raise c.fail("missing [region] table (name, level)")
    c.unknown(region, ("name", "level"), "region")
    name = c.get(region, "name", str, "region", required=True)
    level = c.get(region, "level", str, "region", required=True)
    if level not in REGION_LEVELS:
        raise c.fail(f"unknown level {level!r} (province or city)", "region", 0, "level")
    if "deadlines" not in data:
        raise c.fail("a region file needs a [deadlines] table")
    return RegionDeadlines(name=name, level=level, deadlines=c.deadlines(data["deadlines"]), path=path)


def load_profiles(directory: str | Path, *, mentioning: str | None = None) -> list[CountyProfile]:
    """Every `*.toml` of the directory (sorted), with `regions/*.toml` merged into each county's
    `effective_deadlines`. Two files with the same county code are an error.

    `mentioning` (a county's code or name) loads only the files whose text contains it: a national
    directory holds 2,800 files and a crawl wants one county (parsing them all cost 0.8 s a crawl)."""
    directory = Path(directory)
    regions = [load_region(p) for p in sorted((directory / "regions").glob("*.toml"))]
    by_level: dict[tuple[str, str], RegionDeadlines] = {}
    for r in regions:
        if (r.level, r.name) in by_level:
            raise ProfileError(f"{r.level} {r.name!r} also set in {by_level[(r.level, r.name)].path}",
                               source=str(r.path))
        by_level[(r.level, r.name)] = r
    profiles: list[CountyProfile] = []
    codes: dict[str, Path] = {}
    needle = mentioning.encode("utf-8") if mentioning else None
    for path in sorted(directory.glob("*.toml")):
        if needle is not None and needle not in path.read_bytes():
            continue
        p = load_profile(path)
        if p.code in codes:
            raise ProfileError(f"county code {p.code} is also used by {codes[p.code]}", source=str(path))
        codes[p.code] = path
        merged: dict[str, Any] = {}
        for level, name in (("province", p.province), ("city", p.city)):
            if name and (level, name) in by_level:
                merged.update(by_level[(level, name)].deadlines)
        merged.update(p.deadlines)
        p.effective_deadlines = merged
        profiles.append(p)
    log.debug("profiles loaded", extra={"dir": str(directory), "count": len(profiles)})
    return profiles


def sync_profiles(session: Any, profiles: list[CountyProfile]) -> None:
    """Write counties and their expected bodies into the database (insert or update; bodies
    removed from a profile are kept, since their reports are history)."""
    from sqlalchemy import select

    from storage.models import County, Entity

    for p in profiles:
        county = session.get(County, p.code)
        if county is None:
            county = County(code=p.code, name=p.name)
            session.add(county)
        county.name, county.province, county.city = p.name, p.province, p.city
        county.deadlines = p.effective_deadlines or None
        county.health = p.health or None
        existing = {e.name: e for e in session.scalars(select(Entity).where(Entity.county_code == p.code))}
        for b in p.bodies:
            e = existing.get(b.name) or next((existing[a] for a in b.aliases if a in existing), None)
            if e is None:
                e = Entity(county_code=p.code, name=b.name)
                session.add(e)
            e.name, e.kind, e.aliases = b.name, b.kind, list(b.aliases)
            e.first_year, e.retired_year, e.discovered = b.first_year, b.retired_year, False
    session.flush()


__all__ = ["Body", "Portal", "CountyProfile", "RegionDeadlines", "load_profile", "load_profiles",
           "load_region", "sync_profiles", "KINDS", "FLAVOURS"]
