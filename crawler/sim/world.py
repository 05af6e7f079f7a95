"""The simulated world: counties, their columns, reports, distractors, faults and a clock.

Everything is decided from the world's seed and the calls made on it, so the same seed and the same
calls give the same sites, byte for byte. Report bytes are rendered on first request and kept in a
byte-bounded cache, so a world of 100 counties starts at once and stays small.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.flavours import FLAVOURS  # noqa: F401  (re-exported by crawler.sim)
from crawler.sim import content
from crawler.sim.content import stable_int, stable_rng
from crawler.sim.faults import FAULT_MODES, Fault
from crawler.sim.pages import encode_html
from monitor.clock import SHANGHAI, FixedClock

if TYPE_CHECKING:
    from crawler.sim.flavours.base import Site

ROBOTS_MODES = ("none", "allow", "disallow")
DEFAULT_NOW = datetime(2026, 4, 1, 10, 0, tzinfo=SHANGHAI)


class SimError(Exception):
    """A simulator call that makes no sense (unknown county, body, flavour, fault…)."""


@dataclass(eq=False)
class Column:
    """One list (年报 column) of a site: the county's own, or one body's own."""

    key: str  # "main" or the body's name
    body: str | None
    ids: list[int]  # the column's id in each layout generation (Hanweb col, gkmlpt cat, VSB col)
    slug: str  # ASCII path segment for per-body directories
    sid: int = 0  # gkmlpt site id

    @property
    def id(self) -> int:
        return self.ids[-1]


@dataclass(eq=False)
class SimReport:
    """An item on a list: a report, or a distractor/noise item that is not one."""

    county: str
    column: Column
    id: int
    kind: str  # "report" | "distractor" | "noise"
    title: str
    body: str | None
    body_kind: str
    year: int
    published_at: datetime
    fmt: str = "html"  # html: the page is the report; docx/pdf/doc: the page links the file
    variants: tuple[str, ...] = ()
    list_date: bool = True  # the list shows a date for it
    edits: list[tuple[datetime, tuple[str, ...]]] = field(default_factory=list)
    removed_at: datetime | None = None
    token: str = ""  # digits used in attachment file names

    def visible(self, now: datetime) -> bool:
        return self.published_at <= now and (self.removed_at is None or now < self.removed_at)

    def version(self, now: datetime) -> int:
        return sum(1 for at, _ in self.edits if at <= now)

    def variants_at(self, now: datetime) -> tuple[str, ...]:
        current = self.variants
        for at, variants in self.edits:
            if at <= now:
                current = variants
        return current

    def modified_at(self, now: datetime) -> datetime:
        times = [self.published_at] + [at for at, _ in self.edits if at <= now]
        return max(times)


@dataclass(eq=False)
class SimCounty:
    code: str
    name: str
    flavour: str
    bodies: list[tuple[str, str]]
    years: list[int]
    encoding: str
    attachments: tuple[str, ...]
    per_body_columns: bool
    page_size: int
    robots: str
    pdf_viewer: bool = False  # report pages show their PDF in an embedded pdf.js viewer, no download link
    # a site migration / republication: every page generated again at this time (Kaipu, TRS: the
    # PubDate meta moves to it, Kaipu lists show it too; the visible 发布日期 and the URL keep the real date)
    regenerated_at: datetime | None = None
    pager: str = "call"  # TRS: "call" = createPageHTML(…), "inline" = var countPage/currentPage + document.write
    columns: list[Column] = field(default_factory=list)
    entries: list[SimReport] = field(default_factory=list)
    by_id: dict[int, SimReport] = field(default_factory=dict)
    by_token: dict[str, SimReport] = field(default_factory=dict)
    org_codes: dict[str, str] = field(default_factory=dict)
    layout: int = 0
    moves: int = 0
    redirects: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    rev: int = 0
    next_id: int = 0
    site: Site = field(init=False)
    page_cache: dict[Any, Any] = field(default_factory=dict)
    cache_stamp: Any = None

    def body_kind(self, body: str) -> str:
        for name, kind in self.bodies:
            if name == body:
                return kind
        raise SimError(f"county {self.code} has no body {body!r}; bodies: {[b for b, _ in self.bodies]}")

    def column_for(self, body: str | None) -> Column:
        if self.per_body_columns and body is not None:
            for col in self.columns:
                if col.body == body:
                    return col
        return self.columns[0]

    def column_by_any_id(self, col_id: int) -> Column | None:
        for col in self.columns:
            if col_id in col.ids:
                return col
        return None

    def visible(self, column: Column, now: datetime) -> list[SimReport]:
        items = [e for e in self.entries if e.column is column and e.visible(now)]
        items.sort(key=lambda e: (e.published_at, e.id), reverse=True)
        return items

    def list_modified(self, column: Column, now: datetime) -> datetime:
        """When the column last changed as seen at `now` (publish, edit, removal)."""
        times = [datetime(2020, 1, 1, tzinfo=SHANGHAI)]
        for e in self.entries:
            if e.column is not column or e.published_at > now:
                continue
            times.append(e.modified_at(now))
            if e.removed_at is not None and e.removed_at <= now:
                times.append(e.removed_at)
        return max(times)

    def report(self, body: str, year: int, *, include_removed: bool = False) -> SimReport | None:
        found = None
        for e in self.entries:
            if e.kind == "report" and e.body == body and e.year == year:
                if include_removed or e.removed_at is None:
                    found = e
        return found


def short_name(name: str) -> str:
    """The short form titles use: 刘楼镇人民政府 → 刘楼镇, 城关街道办事处 → 城关街道."""
    for suffix in ("人民政府", "办事处"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


REPORT_TITLES = (
    "{short}{year}年政府信息公开工作年度报告",
    "{year}年度{short}政府信息公开工作年报",
    "{name}{year}年政府信息公开工作年度报告",
    "关于{short}{year}年政府信息公开工作年度报告的公告",
    "{short}{year}年度政府信息公开工作年度报告",
)
COUNTY_GOV_TITLES = (
    "{name}{year}年政务公开工作年度报告",
    "{county}人民政府{year}年政府信息公开工作年度报告",
)
DISTRACTOR_TITLES = (
    "关于做好{year}年政府信息公开工作年度报告编制发布工作的通知",
    "关于开展{year}年度企业年度报告公示工作的通告",
    "{county}{year}年统计年报",
    "{county}{year}年部门决算公开",
    "关于开展{year}年度社会组织年报工作的通知",
    "政府信息公开工作年度报告格式（模板）",
)
NOISE_TITLES = (
    "关于印发{county}{year}年政务公开工作要点的通知",
    "{county}{year}年国民经济和社会发展统计公报",
    "{county}{year}年度法治政府建设情况报告",
    "{county}政府信息公开指南（{year}年修订）",
    "{county}{year}年政府工作报告",
)


def report_title(seed: int, code: str, county_name: str, body: str, kind: str, year: int) -> str:
    rng = stable_rng(seed, code, "title", body, year)
    pool = COUNTY_GOV_TITLES if kind == "county_gov" else REPORT_TITLES
    return rng.choice(pool).format(short=short_name(body), name=body, year=year, county=county_name)


def realistic_published_at(seed: int, code: str, body: str, kind: str, year: int) -> datetime:
    """Jan–Mar of the next year; county governments later (by 03-31); about one in ten late."""
    rng = stable_rng(seed, code, "published", body, year)
    start = datetime(year + 1, 1, 4, tzinfo=SHANGHAI)
    if rng.random() < 0.1:
        day = rng.randint(60, 120)  # late: March to early May
    elif kind == "county_gov":
        day = rng.randint(20, 85)
    else:
        day = rng.randint(0, 26)
    return start + timedelta(days=day, hours=rng.randint(8, 17), minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))


class SimWorld:
    """Counties served by a `SimServer`. All public methods are safe to call while it serves."""

    def __init__(
        self, seed: int = 0, clock: FixedClock | None = None, *, cache_bytes: int = 256 << 20, variety: int | None = None
    ) -> None:
        self.seed = seed
        self.variety = variety
        self.clock = clock if clock is not None else FixedClock(DEFAULT_NOW)
        self.counties: dict[str, SimCounty] = {}
        self.lock = threading.RLock()
        self.cache = content.ByteLRU(cache_bytes)
        self.base_urls: dict[str, str] = {}  # filled by a running SimServer

    def now(self) -> datetime:
        return self.clock.now()

    def county(self, code: str) -> SimCounty:
        try:
            return self.counties[code]
        except KeyError:
            raise SimError(f"no simulated county {code!r}; known: {sorted(self.counties)}") from None

    # ---------------------------------------------------------------- building
    def add_county(
        self,
        code: str,
        name: str,
        flavour: str,
        bodies: list[tuple[str, str]],
        years: Iterable[int],
        *,
        encoding: str = "utf-8",
        attachments: Iterable[str] = (),
        distractors: bool = True,
        per_body_columns: bool = False,
        page_size: int = 15,
        robots: str = "none",
        pdf_viewer: bool = False,
        pager: str = "call",
    ) -> SimCounty:
        from crawler.sim.flavours import make_site

        if flavour not in FLAVOURS:
            raise SimError(f"unknown flavour {flavour!r}; one of {FLAVOURS}")
        if encoding not in ("utf-8", "gbk"):
            raise SimError(f"encoding must be 'utf-8' or 'gbk', not {encoding!r}")
        if pager not in ("call", "inline"):
            raise SimError(f"pager must be 'call' or 'inline', not {pager!r}")
        if robots not in ROBOTS_MODES:
            raise SimError(f"robots must be one of {ROBOTS_MODES}, not {robots!r}")
        atts = tuple(attachments)
        for a in atts:
            if a not in content.ATTACHMENT_TYPES:
                raise SimError(f"attachment type {a!r} not one of {tuple(content.ATTACHMENT_TYPES)}")
        with self.lock:
            if code in self.counties:
                raise SimError(f"county {code} already added")
            rng = stable_rng(self.seed, code, "county")
            county = SimCounty(
                code=code, name=name, flavour=flavour, bodies=list(bodies), years=sorted(set(years)),
                encoding=encoding, attachments=atts, per_body_columns=per_body_columns,
                page_size=page_size, robots=robots, pdf_viewer=pdf_viewer, pager=pager,
            )
            county.next_id = rng.randint(300_000, 2_000_000)
            if flavour == "gkmlpt":  # gkmlpt post ids are 7 digits: /gkmlpt/content/1/1223/post_1223632.html
                county.next_id = 1_000_000 + county.next_id % 800_000
            alnum = "0123456789ABCDEFGHJKLMNPQRTUWXY"
            for i, (body, _kind) in enumerate(county.bodies):
                county.org_codes[body] = "11" + code + "".join(rng.choice(alnum) for _ in range(9)) + alnum[i % len(alnum)]
            county.columns.append(Column("main", None, [rng.randint(1000, 99999)], "gknb", sid=rng.randint(700000, 799999)))
            if per_body_columns:
                for i, (body, _kind) in enumerate(county.bodies):
                    county.columns.append(
                        Column(body, body, [rng.randint(1000, 99999)], f"b{i + 1:03d}", sid=rng.randint(700000, 799999))
                    )
            county.site = make_site(self, county)
            self.counties[code] = county
            if distractors:
                self._add_distractors(county, rng)
            county.rev += 1
            return county

    def _add_distractors(self, county: SimCounty, rng: Any) -> None:
        cols = county.columns if county.flavour != "hanweb_annual" else []
        for year in county.years:
            for col in cols:
                pool = DISTRACTOR_TITLES if col.body is None else DISTRACTOR_TITLES[:1] + DISTRACTOR_TITLES[-1:]
                picks = rng.sample(pool, k=min(len(pool), 4 if col.body is None else 1))
                noise = rng.sample(NOISE_TITLES, k=2 if col.body is None else 0)
                for kind, titles in (("distractor", picks), ("noise", noise)):
                    for title in titles:
                        at = datetime(year, 11, 1, tzinfo=SHANGHAI) + timedelta(
                            days=rng.randint(0, 150), hours=rng.randint(8, 17), minutes=rng.randint(0, 59)
                        )
                        self._new_entry(
                            county, col, kind=kind, title=title.format(year=year, county=county.name),
                            body=col.body, body_kind="other", year=year, published_at=at, fmt="html",
                            variants=(), rng=rng,
                        )

    def _new_entry(self, county: SimCounty, column: Column, *, rng: Any, **fields: Any) -> SimReport:
        county.next_id += rng.randint(3, 97)
        entry = SimReport(county=county.code, column=column, id=county.next_id, **fields)
        entry.list_date = county.flavour != "generic" or rng.random() > 0.15
        entry.token = f"{rng.randint(0, 10**12 - 1):012d}"
        county.entries.append(entry)
        county.by_id[entry.id] = entry
        county.by_token[entry.token] = entry
        return entry

    # ---------------------------------------------------------------- events on the sim clock
    def publish(
        self,
        code: str,
        body: str,
        year: int,
        at: datetime | None = None,
        fmt: str = "html",
        variants: Iterable[str] = (),
        *,
        title: str | None = None,
    ) -> SimReport:
        """Publish `body`'s report for `year`, visible from `at` (default: now on the sim clock)."""
        if fmt != "html" and fmt not in content.ATTACHMENT_TYPES:
            raise SimError(f"fmt must be 'html' or one of {tuple(content.ATTACHMENT_TYPES)}, not {fmt!r}")
        with self.lock:
            county = self.county(code)
            kind = county.body_kind(body)
            if county.report(body, year) is not None:
                raise SimError(f"{code} {body} {year} is already published; use edit()")
            at = self._aware(at) if at is not None else self.now()
            rng = stable_rng(self.seed, code, "entry", body, year)
            entry = self._new_entry(
                county, county.column_for(body), kind="report",
                title=title or report_title(self.seed, code, county.name, body, kind, year),
                body=body, body_kind=kind, year=year, published_at=at, fmt=fmt, variants=tuple(variants), rng=rng,
            )
            county.rev += 1
            return entry

    def edit(self, code: str, body: str, year: int, *, at: datetime | None = None, variants: Iterable[str] | None = None) -> SimReport:
        """A new version of the report: new bytes at the same URL, new Last-Modified and ETag."""
        with self.lock:
            entry = self._require(code, body, year)
            at = self._aware(at) if at is not None else self.now()
            entry.edits.append((at, tuple(variants) if variants is not None else entry.variants_at(at)))
            entry.edits.sort(key=lambda e: e[0])
            self.county(code).rev += 1
            return entry

    def remove(self, code: str, body: str, year: int, *, at: datetime | None = None) -> SimReport:
        with self.lock:
            entry = self._require(code, body, year)
            entry.removed_at = self._aware(at) if at is not None else self.now()
            self.county(code).rev += 1
            return entry

    def move_column(self, code: str, *, redirect: bool = True) -> None:
        """Move every column of the county: old list URLs answer 301 to the new ones (or 404, with
        `redirect=False`, as when a portal is rebuilt and the old column simply disappears)."""
        with self.lock:
            county = self.county(code)
            rng = stable_rng(self.seed, code, "move", county.moves)
            for col in county.columns:
                old = county.site.column_root(col)
                col.ids.append(rng.randint(100000, 999999))
                new = county.site.column_root(col)
                if old != new and redirect:
                    county.redirects = [(o, new if n == old else n) for o, n in county.redirects]
                    county.redirects.append((old, new))
            county.moves += 1
            county.rev += 1

    def regenerate(self, code: str, at: datetime | None = None) -> None:
        """The site is migrated to a new CMS (or republished) at `at`: every page's PubDate stamp
        becomes that time (Kaipu and TRS), while what the page shows keeps the real date."""
        with self.lock:
            county = self.county(code)
            county.regenerated_at = self._aware(at) if at is not None else self.now()
            county.rev += 1

    def change_layout(self, code: str) -> None:
        """List pages stop showing report links in the known markup."""
        with self.lock:
            county = self.county(code)
            county.layout += 1
            county.rev += 1

    def set_fault(
        self, code: str, mode: str | None, *, path_prefix: str | None = None, count: int | None = None, delay: float = 1.0,
        status: int | None = None,
    ) -> None:
        """Switch a fault on for the county (or under `path_prefix`); `mode=None` clears them.

        `count` limits how many answers are faulty (for "5xx" it defaults to 3); "slow" waits
        `delay` seconds before answering normally; "404" hits detail pages and attachments only;
        `status` serves a block page with another status than its usual one (a 瑞数 page with
        200, 202 or 400, a 加速乐 script with 200, a cloud WAF page with 403).
        """
        with self.lock:
            county = self.county(code)
            if mode is None:
                county.faults = [f for f in county.faults if path_prefix is not None and f.path_prefix != path_prefix]
                return
            if mode not in FAULT_MODES:
                raise SimError(f"unknown fault mode {mode!r}; one of {FAULT_MODES}")
            if mode == "5xx" and count is None:
                count = 3
            county.faults = [f for f in county.faults if f.path_prefix != path_prefix]
            county.faults.append(Fault(mode, path_prefix, count, delay, status))

    def set_robots(self, code: str, mode: str) -> None:
        if mode not in ROBOTS_MODES:
            raise SimError(f"robots must be one of {ROBOTS_MODES}, not {mode!r}")
        with self.lock:
            county = self.county(code)
            county.robots = mode
            county.rev += 1

    def populate(
        self,
        code: str,
        years: Iterable[int] | None = None,
        published_at_fn: Callable[[str, int], datetime] | None = None,
    ) -> list[SimReport]:
        """Publish every body's report for `years` (default: the county's years) at realistic dates."""
        with self.lock:
            county = self.county(code)
            out = []
            for year in sorted(set(years) if years is not None else county.years):
                for body, kind in county.bodies:
                    if county.report(body, year) is not None:
                        continue
                    if published_at_fn is not None:
                        at = published_at_fn(body, year)
                    else:
                        at = realistic_published_at(self.seed, code, body, kind, year)
                    rng = stable_rng(self.seed, code, "fmt", body, year)
                    fmt = rng.choice(("html",) + county.attachments) if county.attachments else "html"
                    out.append(self.publish(code, body, year, at=at, fmt=fmt))
            return out

    # ---------------------------------------------------------------- what tests compare to
    def expected_reports(self, code: str, base_url: str | None = None) -> list[dict[str, Any]]:
        """The reports visible now: body, year, url, published_at, fmt (+ title, attachment_url, version)."""
        with self.lock:
            county = self.county(code)
            base = base_url if base_url is not None else self.base_urls.get(code, "")
            now = self.now()
            out = []
            for e in county.entries:
                if e.kind != "report" or not e.visible(now):
                    continue
                att = county.site.attachment_path(e)
                out.append({
                    "body": e.body, "year": e.year, "url": base + county.site.detail_path(e),
                    "published_at": e.published_at, "fmt": e.fmt, "title": e.title,
                    "attachment_url": base + att if att else None, "version": e.version(now),
                })
            out.sort(key=lambda r: (r["body"], r["year"]))
            return out

    def profile(self, code: str, base_url: str | None = None) -> dict[str, Any]:
        """The county profile (docs/CONTRACTS.md shape) pointing at the running server."""
        with self.lock:
            county = self.county(code)
            base = base_url if base_url is not None else self.base_urls.get(code)
            if base is None:
                raise SimError(f"county {code}: no base_url given and no server is serving it")
            portals = []
            for body, paths, options in county.site.portals():
                portal: dict[str, Any] = {
                    "flavour": county.flavour, "start_urls": [base + p for p in paths], "options": options,
                }
                if body is not None:
                    portal["body"] = body
                portals.append(portal)
            bodies = []
            for name, kind in county.bodies:
                b: dict[str, Any] = {"name": name, "kind": kind}
                if short_name(name) != name:
                    b["aliases"] = [short_name(name)]
                bodies.append(b)
            return {
                "county": {
                    "code": code, "name": county.name, "province": "模拟省", "city": "模拟市",
                    "note": "simulated county served by crawler.sim on 127.0.0.1",
                },
                "bodies": bodies,
                "portals": portals,
            }

    # ---------------------------------------------------------------- rendering (used by sites)
    def spec_seed(self, entry: SimReport, version: int) -> int:
        return stable_int(self.seed, entry.county, entry.body, entry.year, version) % (2**31)

    def _spec_args(self, entry: SimReport, now: datetime) -> tuple[int, str, str, tuple[str, ...]]:
        """(seed, entity rendered, reportgen kind, variants) for the entry's current version.

        With `variety`, reports come from a pool of `variety` renders per (kind, year) made for a
        placeholder body, whose name is then swapped for the real one (HTML, DOCX; PDF and DOC keep
        the placeholder): a nation of thousands of reports renders in seconds.
        """
        version = entry.version(now)
        kind = entry.body_kind if entry.body_kind in content.PLACEHOLDERS else "department"
        variants = entry.variants_at(now)
        if not self.variety:
            return self.spec_seed(entry, version), entry.body or "", kind, variants
        slot = stable_int(self.seed, entry.county, entry.body, entry.year, version) % self.variety
        return stable_int(self.seed, "pool", kind, entry.year, slot) % (2**31), content.PLACEHOLDERS[kind], kind, variants

    def _spec(self, seed: int, entity: str, kind: str, year: int, variants: tuple[str, ...]) -> Any | None:
        return self.cache.get_or_make(
            ("spec", seed, entity, kind, year, variants),
            lambda: content.make_spec(seed, entity=entity, year=year, entity_kind=kind, variants=variants),
            lambda _: 20_000,
        )

    def report_spec(self, code: str, body: str, year: int) -> Any | None:
        """The reportgen `ReportSpec` behind a published report as it is now (None without reportgen).

        `reportgen.expected(world.report_spec(...))` is the ground truth of what the page/file says.
        """
        with self.lock:
            entry = self._require(code, body, year)
            seed, entity, kind, variants = self._spec_args(entry, self.now())
            spec = self._spec(seed, entity, kind, year, variants)
            if spec is None or entity == entry.body:
                return spec
            return content.respec(spec, entry.body or "")

    def report_html(self, entry: SimReport, now: datetime) -> str:
        _seed, entity, _kind, _variants = self._spec_args(entry, now)
        html = self._pool_html(entry, now)
        if entity != entry.body:
            html = content.swap_names(html, entity, entry.body or "")
        return html

    def report_html_bytes(self, entry: SimReport, now: datetime, encoding: str) -> bytes:
        """`report_html` encoded for a page in `encoding` (pooled renders are renamed as bytes)."""
        seed, entity, kind, variants = self._spec_args(entry, now)
        key = ("html-bytes", seed, entity, kind, entry.year, variants, encoding)
        data = self.cache.get_or_make(
            key, lambda: encode_html(self.report_html(entry, now) if entity == entry.body else self._pool_html(entry, now), encoding), len
        )
        if entity != entry.body:
            data = content.swap_names_bytes(data, entity, entry.body or "", encoding)
        return data

    def _pool_html(self, entry: SimReport, now: datetime) -> str:
        seed, entity, kind, variants = self._spec_args(entry, now)

        def make() -> str:
            spec = self._spec(seed, entity, kind, entry.year, variants)
            return content.report_body_html(spec, entity=entity, year=entry.year, seed=seed)

        return self.cache.get_or_make(("html", seed, entity, kind, entry.year, variants), make, lambda t: len(t) * 2)

    def report_file(self, entry: SimReport, now: datetime) -> bytes:
        seed, entity, kind, variants = self._spec_args(entry, now)
        fmt = entry.fmt

        def make() -> bytes:
            spec = self._spec(seed, entity, kind, entry.year, variants)
            return content.report_file(spec, fmt, entity=entity, year=entry.year, seed=seed)

        data = self.cache.get_or_make(("file", seed, entity, kind, entry.year, variants, fmt), make, len)
        if entity != entry.body and fmt == "docx":
            data = self.cache.get_or_make(
                ("swapped", seed, entity, entry.body, entry.year, variants), lambda: content.swap_docx(data, entity, entry.body or ""), len
            )
        return data

    def warm(self, codes: Iterable[str] | None = None, *, pages: bool = True) -> int:
        """Render every visible report of `codes` (default: all) now, so later requests are cache hits.

        With `pages`, whole detail pages too (as served). Returns how many reports it went through.
        For benchmarks: rendering is the simulator's slow part and should not be timed as the
        crawler's; give the world a `cache_bytes` that holds them all.
        """
        from urllib.parse import parse_qsl

        from crawler.sim.pages import SimRequest

        n = 0
        with self.lock:
            now = self.now()
            for code in codes if codes is not None else list(self.counties):
                county = self.county(code)
                for e in county.entries:
                    if e.kind != "report" or not e.visible(now):
                        continue
                    if e.fmt == "html":
                        self.report_html_bytes(e, now, county.encoding)
                    else:
                        self.report_file(e, now)
                    if pages:
                        path, _, query = county.site.detail_path(e).partition("?")
                        page = county.site.handle(SimRequest("GET", path, dict(parse_qsl(query)), {}, "127.0.0.1"), now)
                        page.gzipped()  # crawlers ask for gzip
                    n += 1
        return n

    # ---------------------------------------------------------------- helpers
    def _require(self, code: str, body: str, year: int) -> SimReport:
        entry = self.county(code).report(body, year)
        if entry is None:
            raise SimError(f"{code}: no published report of {body} for {year}")
        return entry

    @staticmethod
    def _aware(at: datetime) -> datetime:
        return at if at.tzinfo is not None else at.replace(tzinfo=SHANGHAI)

    # ---------------------------------------------------------------- benchmarks
    @classmethod
    def nation(
        cls,
        n_counties: int,
        bodies_per_county: int = 45,
        years: Iterable[int] = (2023, 2024, 2025),
        seed: int = 0,
        *,
        flavours: Iterable[str] = FLAVOURS,
        clock: FixedClock | None = None,
        attachments: Iterable[str] = (),
        variety: int | None = 4,
        cache_bytes: int = 256 << 20,
    ) -> SimWorld:
        """`n_counties` populated counties cycling through `flavours` (a size knob for benchmarks).

        Every third county is GBK; every fourth one (from the second) serves its reports as
        `attachments` files when given. `variety` pools report renders (see `_spec_args`).
        """
        world = cls(seed, clock, variety=variety, cache_bytes=cache_bytes)
        atts = tuple(attachments)
        years = sorted(set(years))
        flav = tuple(flavours)
        for i in range(n_counties):
            rng = stable_rng(seed, "nation", i)
            code = f"99{i + 1:04d}"
            name = _place(rng) + "县"
            bodies = make_bodies(rng, name, bodies_per_county)
            world.add_county(
                code, name, flav[i % len(flav)], bodies, years,
                encoding="gbk" if i % 3 == 2 else "utf-8",
                attachments=atts if i % 4 == 1 else (),
            )
            world.populate(code, years)
        return world


_SYLLABLES = "安宝北昌城大东丰福高古广桂海和河红华黄吉江金锦井九兰乐临龙鹿马梅明南宁平青清庆泉山上石双水顺松泰桃天通王文西仙新兴阳杨永玉源云长正中"
_DEPARTMENTS = ("教育局", "财政局", "民政局", "自然资源局", "住房和城乡建设局", "交通运输局", "农业农村局", "水利局",
                "卫生健康局", "市场监督管理局", "应急管理局", "人力资源和社会保障局", "生态环境分局", "司法局", "统计局",
                "商务局", "文化和旅游局", "退役军人事务局", "医疗保障局", "审计局", "林业局", "发展和改革局")


def _place(rng: Any) -> str:
    return rng.choice(_SYLLABLES) + rng.choice(_SYLLABLES)


def make_bodies(rng: Any, county_name: str, n: int) -> list[tuple[str, str]]:
    """`n` plausible bodies: the county office, townships, streets and departments (distinct names)."""
    bodies: list[tuple[str, str]] = [(f"{county_name}人民政府办公室", "county_gov")]
    names = {bodies[0][0]}
    depts = list(_DEPARTMENTS)
    rng.shuffle(depts)
    while len(bodies) < n:
        r = rng.random()
        if r < 0.45:
            name, kind = _place(rng) + "镇人民政府", "township"
        elif r < 0.6:
            name, kind = _place(rng) + "街道办事处", "street"
        elif depts:
            name, kind = county_name + depts.pop(), "department"
        else:
            name, kind = _place(rng) + "乡人民政府", "township"
        if name not in names:
            names.add(name)
            bodies.append((name, kind))
    return bodies
