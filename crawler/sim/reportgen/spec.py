"""`ReportSpec`, `make_spec` and `expected`: what a generated report says, and its ground truth.

A spec holds the ground truth (the `tables` in the shape of domain/templates.md, null where a cell
is blank) and everything a renderer needs to write the report (prose, headings, how each table cell
is written). Renderers never choose content: every format of one spec says the same thing.

Variants (pass them to `make_spec(variants=…)`) imitate what published reports get wrong or do
differently; each one's docstring is in `VARIANT_DOCS` and `meta["expected_findings"]` lists the
doc-rule IDs the variants must cause (and nothing else may fire on a spec).
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import history, numbers, prose
from .layout import LABEL_GARBLED, LABEL_TYPOS, REVIEW_BLOCKS, SUBTOTAL_GROUPS, request_keys, subtotal_groups

TEMPLATES = ("2008", "2019", "2021")
ENTITY_KINDS = ("township", "street", "department", "county_gov")
SECTION_KEYS = ("overview", "active", "requests", "review_litigation", "problems", "other")
TABLE_KEYS = ("active", "requests", "review_litigation")
SECTION_KEYS_2008 = ("overview", "active", "requests", "fees", "review_litigation", "problems", "other")

CN_NUM = "一二三四五六七八九十"
HEADINGS: dict[str, tuple[str, ...]] = {
    "overview": ("总体情况",),
    "active": ("主动公开政府信息情况",),
    "requests": ("收到和处理政府信息公开申请情况",),
    "review_litigation": ("政府信息公开行政复议、行政诉讼情况",),
    "problems": ("存在的主要问题及改进情况", "政府信息公开工作存在的主要问题及改进情况"),
    "other": ("其他需要报告的事项",),
}
HEADINGS_2008: dict[str, tuple[str, ...]] = {
    "overview": ("概述", "政府信息公开工作概述"),
    "active": ("主动公开政府信息情况", "主动公开政府信息的情况"),
    "requests": ("依申请公开政府信息情况", "政府信息公开申请的办理情况"),
    "fees": ("政府信息公开的收费及减免情况",),
    "review_litigation": ("因政府信息公开申请提起行政复议、行政诉讼的情况",),
    "problems": ("政府信息公开工作存在的主要问题及改进措施", "存在的主要问题及改进情况"),
    "other": ("需要说明的事项", "其他需要报告的事项"),
}

VARIANT_DOCS: dict[str, str] = {
    "subtotal_column": "Table 三 gets an 8th column 法人或其他组织 小计 between 其他 and 总计; ground truth "
                       "keeps 7-number rows and adds tables.requests_org_subtotal (row key → number).",
    "subtotal_rows": "Table 三 gets 小计 rows after （三）（四）（五）（and 2021 （六））; ground truth adds "
                     "tables.requests_subtotals {refused, unable, rejected[, other]: 7 numbers}.",
    "blank_cells": "1–6 zero cells of tables 三/四 are written \"\", \"/\", \"-\" or \"—\"; they are null in "
                   "the ground truth. Fires STRUCT-007.",
    "yuan_amount": "The money cell of table 二 (2019 采购总金额, 2021 收费金额) is written in 元 "
                   "(\"251000元\"); ground truth stays in 万元 (25.1). Fires PLAUS-003.",
    "thousands": "Numbers ≥ 1000 are written with thousands separators (\"3,119\"); at least one exists.",
    "fullwidth_digits": "Table cells use full-width digits (\"１２\").",
    "unit_suffix": "Table 二 cells carry units: counts \"6件\", money \"359.7万元\".",
    "label_typos": "Table 三 labels altered as in real reports (危机, 行政法案卷, 需另行制作, "
                   "上年结转政府信息公开数量, 本年新收到…). Fires TEXT-001.",
    "arabic_section_numbers": "Headings from 四 or 五 on are numbered \"5、\" instead of \"五、\". "
                              "Fires STRUCT-003.",
    "no_period": "No 统计期限 sentence; period is null. Fires STRUCT-005.",
    "early_date": "The date under the signature falls inside the report year. Fires TIME-002.",
    "missing_section": "missing_section:<key>: that section's heading and prose are left out (its "
                       "table stays, under the previous section). Fires STRUCT-001.",
    "missing_table": "missing_table:<key>: that table is left out; absent from the ground truth. "
                     "Fires STRUCT-002.",
    "no_headings": "No section headings at all (prose and tables remain). Fires STRUCT-001.",
    "broken_arith": "broken_arith:ARITH-00N: cells of table 三/四 perturbed so that relation N breaks "
                    "(and, where unavoidable, others: all recorded); meta['perturbed_cells'].",
    "wrong_year_plans": "The plans in section 五 are dated with the report year. Fires TEXT-002.",
    "repeated_phrase": "A list item in section 一 is repeated next to itself. Fires TEXT-004.",
    "table_image": "Table 三 is an image (HTML <img>, DOCX/PDF picture, nothing in text formats); "
                   "absent from the ground truth. Fires STRUCT-002.",
    "garbled_labels": "Three labels of table 三 lose a character, as in published tables "
                      "(其他法律行政止公开, 属于三类内事务信息, 要求提供公开出物): no pattern names them; "
                      "the rows keep their cells. Fires TEXT-001.",
    "other_unsplit": "2021 only: table 三 keeps the 2019 （六）其他处理 as one row without the 1./2./3. "
                     "sub-rows; ground truth has requests.other (the sum) and the three sub-rows null. "
                     "Fires STRUCT-002 (the split is missing).",
    "flat_text": "Text formats only: the whole report on one line, headings inline, table cells "
                 "separated by single spaces (a crawler's text export). Other formats unchanged.",
    "run_together": "Text formats only: the numbers of each row of table 三 written with no "
                    "separator after the label (\"（一）予以公开6000017\") when the row total leaves one "
                    "reading (other rows keep their separators). Other formats unchanged.",
    "prose_breakdown": "Section 二 states the 主动公开 total with its categories after it (共公布政府"
                       "信息N条，其中…采购信息a条、其他应主动公开政府信息b条); narrative.active_count is N.",
    "repeated_paragraph": "A paragraph of section 一 is written twice in a row; text formats indent "
                          "paragraphs with a TAB (Word's text export). Fires TEXT-004.",
}
VARIANTS: tuple[str, ...] = tuple(VARIANT_DOCS)
PARAM_VARIANTS = {
    "missing_section": SECTION_KEYS,
    "missing_table": TABLE_KEYS,
    "broken_arith": ("ARITH-001", "ARITH-002", "ARITH-003", "ARITH-004"),
}


def concrete_variants(template: str = "2021") -> list[str]:
    """Every variant string `make_spec` accepts for `template`, parameters spelled out."""
    out = []
    for name in VARIANTS:
        if template == "2008" and (name in TABLE_VARIANTS or name in NOT_2008):
            continue
        if ONLY_TEMPLATE.get(name, template) != template:
            continue
        out += [f"{name}:{arg}" for arg in PARAM_VARIANTS[name]] if name in PARAM_VARIANTS else [name]
    return out


TABLE_VARIANTS = {"subtotal_column", "subtotal_rows", "blank_cells", "yuan_amount", "thousands",
                  "fullwidth_digits", "unit_suffix", "label_typos", "missing_table", "broken_arith",
                  "table_image", "garbled_labels", "other_unsplit", "run_together"}
# the fixed six sections do not exist in the free-form 2008 shape
NOT_2008 = {"missing_section", "no_headings", "arabic_section_numbers", "prose_breakdown",
            "repeated_paragraph"}
# variants of one template only
ONLY_TEMPLATE = {"other_unsplit": "2021"}
BLANK_MARKS = ("", "/", "-", "—")
# Prose figures in the parsed report's `narrative` (domain/templates.md); the other figures the
# prose states (carried-over requests, review / litigation counts) go to meta["narrative_extra"].
NARRATIVE_KEYS = ("active_count", "requests_new", "fees_collected_yuan")


@dataclass
class ReportSpec:
    entity: str
    entity_short: str
    entity_kind: str
    year: int
    template: str
    title: str
    period: list[str] | None
    published_at: str | None
    sections: dict[str, list[str]]
    tables: dict[str, Any]
    narrative: dict[str, Any]
    variants: frozenset[str]
    seed: int = 0
    # Rendering facts shared by all formats and the expected findings:
    #   expected_findings (set), headings (key → heading text), preamble (paragraphs),
    #   cell_text (cell path → text written instead of the plain number), signature_date
    #   (as written), page_published_at ("YYYY-MM-DD HH:MM"), perturbed_cells, blank_cells
    meta: dict[str, Any] = field(default_factory=dict)


def default_template(year: int) -> str:
    return "2008" if year <= 2018 else "2019" if year <= 2020 else "2021"


def short_name(entity: str) -> str:
    for suffix in ("人民政府", "街道办事处", "办事处"):
        if entity.endswith(suffix) and len(entity) > len(suffix):
            rest = entity[: -len(suffix)]
            return rest + "街道" if suffix == "街道办事处" else rest
    return entity


def _check_variants(variants: Iterable[str], template: str) -> frozenset[str]:
    out = frozenset(variants)
    for v in out:
        name, _, arg = v.partition(":")
        if name not in VARIANT_DOCS:
            raise ValueError(f"unknown variant {v!r}; known: {', '.join(VARIANTS)}")
        if name in PARAM_VARIANTS and arg not in PARAM_VARIANTS[name]:
            raise ValueError(f"variant {v!r} needs one of {PARAM_VARIANTS[name]} after ':'")
        if template == "2008" and (name in TABLE_VARIANTS or name in NOT_2008):
            raise ValueError(f"variant {v!r} does not apply to a 2008-template report")
        if ONLY_TEMPLATE.get(name, template) != template:
            raise ValueError(f"variant {v!r} applies to {ONLY_TEMPLATE[name]}-template reports only")
    return out


def variant_args(variants: frozenset[str], name: str) -> list[str]:
    """The arguments of a variant (["" ] for a plain one, [] when absent)."""
    return [v.partition(":")[2] for v in sorted(variants) if v.partition(":")[0] == name]


def make_spec(seed: int, *, entity: str, year: int, template: str | None = None,
              entity_kind: str = "township", variants: Iterable[str] = (), history_seed: int = 0) -> ReportSpec:
    """A report for `entity` and `year`, deterministic from `seed` (variants do not change the
    base figures or prose, only what they are documented to change).

    The figures that carry over from year to year (上年结转 / 结转下年度, 现行有效件数, 上一年项目数量)
    do not depend on `seed`: they are a function of (entity, kind, year, history_seed), so that
    reports of consecutive years generated with any seeds agree (history.py)."""
    template = template or default_template(year)
    if template not in TEMPLATES:
        raise ValueError(f"template must be one of {TEMPLATES}, not {template!r}")
    if entity_kind not in ENTITY_KINDS:
        raise ValueError(f"entity_kind must be one of {ENTITY_KINDS}, not {entity_kind!r}")
    vs = _check_variants(variants, template)
    tag = f"{seed}:{entity}:{year}:{template}:{entity_kind}"
    rng = random.Random(f"reportgen:{tag}")
    vrng = random.Random(f"reportgen-variants:{tag}:{sorted(vs)}")
    short = short_name(entity)
    voice = prose.voice_for(entity, short, entity_kind, year)
    spec = ReportSpec(entity=entity, entity_short=short, entity_kind=entity_kind, year=year,
                      template=template, title="", period=None, published_at=None, sections={},
                      tables={}, narrative={}, variants=vs, seed=seed)
    spec.meta = {"cell_text": {}, "expected_findings": set(), "perturbed_cells": [], "blank_cells": [],
                 "history_seed": history_seed}
    spec.title = _title(rng, entity, short, year)
    _dates(spec, rng, vrng)
    if template == "2008":
        _old_report(spec, rng, voice)
    else:
        _tables(spec, rng, vrng)
        _prose(spec, rng, voice)
    _layout_variants(spec, vrng)
    spec.meta["expected_findings"] = _expected_findings(spec)
    return spec


def _title(rng: random.Random, entity: str, short: str, year: int) -> str:
    name = rng.choice((entity, short))
    return rng.choice((f"{name}{year}年政府信息公开工作年度报告", f"{name}{year}年度政府信息公开工作年度报告",
                       f"{name}{year}年政府信息公开年度报告"))


def _dates(spec: ReportSpec, rng: random.Random, vrng: random.Random) -> None:
    y = spec.year
    day = dt.date(y + 1, 1, 5) + dt.timedelta(days=rng.randint(0, 24 if rng.random() < 0.8 else 75))
    if variant_args(spec.variants, "early_date"):
        day = dt.date(y, vrng.randint(1, 3), vrng.randint(1, 28))
    spec.published_at = day.isoformat()
    spec.meta["signature_date"] = f"{day.year}年{day.month}月{day.day}日"
    page = max(day, dt.date(y + 1, 1, 2)) + dt.timedelta(days=rng.randint(0, 4))
    spec.meta["page_published_at"] = f"{page.isoformat()} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}"
    if not variant_args(spec.variants, "no_period"):
        spec.period = [f"{y}-01-01", f"{y}-12-31"]


# ---------------------------------------------------------------------------------------------
# Tables and their variants


def _tables(spec: ReportSpec, rng: random.Random, vrng: random.Random) -> None:
    t, kind, vs = spec.template, spec.entity_kind, spec.variants
    hist = (spec.entity, kind, spec.year, spec.meta["history_seed"])
    carry = (history.carried_over(*hist), history.carried_forward(*hist))
    tables: dict[str, Any] = {
        "active": numbers.gen_active(rng, kind, t),
        "requests": numbers.gen_requests(rng, kind, t, carry),
        "review_litigation": numbers.gen_review(rng, kind),
    }
    if t == "2021":
        tables["active"]["normative_docs"] = history.normative_2021(*hist)
    else:
        for row, values in history.items_2019(*hist).items():
            tables["active"][row].update(values)
    spec.narrative["active_count"] = numbers.active_count(rng, kind)
    spec.meta["fee_yuan"] = rng.choice((50, 100, 120, 300, 1080)) if t == "2021" and rng.random() < 0.2 else 0
    cell_text: dict[str, str] = spec.meta["cell_text"]
    money = "procurement" if t == "2019" else "fees"

    for rule in variant_args(vs, "broken_arith"):
        spec.meta["perturbed_cells"] = _perturb(tables, t, rule, vrng)
    if variant_args(vs, "thousands"):
        tables["active"]["licensing"]["decisions"] = vrng.randint(1000, 9999)
    if variant_args(vs, "yuan_amount"):
        block = tables["active"][money]
        if not block["amount"]:
            block["amount"] = round(vrng.uniform(1, 300), vrng.choice((1, 2)))
            if "count" in block and not block["count"]:
                block["count"] = vrng.randint(1, 4)
        yuan = round(block["amount"] * 10000)
        block["amount"] = yuan / 10000
        cell_text[f"active.{money}.amount"] = f"{yuan}元"
    if variant_args(vs, "subtotal_column"):
        req = tables["requests"]
        tables["requests_org_subtotal"] = {k: sum(req[k][1:6]) for k in request_keys(t)}
    if variant_args(vs, "subtotal_rows"):
        req = tables["requests"]
        subs = {}
        for g in subtotal_groups(t):
            members = [k for k in request_keys(t) if k.startswith(SUBTOTAL_GROUPS[g][1])]
            subs[g] = [sum(req[k][c] for k in members) for c in range(7)]
        tables["requests_subtotals"] = subs
    if variant_args(vs, "blank_cells"):
        _blank(tables, cell_text, spec.meta["blank_cells"], vrng)
    if variant_args(vs, "label_typos"):
        spec.meta["labels"] = dict(LABEL_TYPOS)
    if variant_args(vs, "garbled_labels"):
        spec.meta["labels"] = {**spec.meta.get("labels", {}), **LABEL_GARBLED}
    if variant_args(vs, "other_unsplit"):
        req = tables["requests"]
        split = [req.pop(k) for k in ("other_no_correction", "other_no_fee", "other_other")]
        req_other = [None if any(r[c] is None for r in split) else sum(r[c] for r in split) for c in range(7)]
        # "other" before the tail rows, the three sub-rows null (the parser's "not found")
        tail = {k: req.pop(k) for k in ("total", "carried_forward")}
        req["other"] = req_other
        req.update(tail)
        for k in ("other_no_correction", "other_no_fee", "other_other"):
            req[k] = [None] * 7
        spec.meta["other_unsplit"] = True
        if "requests_subtotals" in tables:
            tables["requests_subtotals"].pop("other", None)
        if "requests_org_subtotal" in tables:
            sub = tables["requests_org_subtotal"]
            sub["other"] = sum(sub.pop(k) for k in ("other_no_correction", "other_no_fee", "other_other"))
    spec.tables = tables


def _perturb(tables: dict[str, Any], template: str, rule: str, rng: random.Random) -> list[str]:
    """Change cells so that `rule` breaks while, where one change can manage it, the others hold."""
    req, rl = tables["requests"], tables["review_litigation"]
    c = rng.randrange(6)
    d = rng.randint(1, 3)
    if rule == "ARITH-004":
        block = rng.choice(REVIEW_BLOCKS)
        rl[block][0] += d  # 维持 changes, 总计 does not
        return [f"review_litigation.{block}.0"]
    if rule == "ARITH-001":  # carried_forward in one column and in 总计: rows still add up
        req["carried_forward"][c] += d
        req["carried_forward"][6] += d
        return [f"requests.carried_forward.{c}", "requests.carried_forward.6"]
    if rule == "ARITH-003":  # one outcome row, applicant and 总计 columns: (七)总计 no longer adds up
        key = rng.choice(("granted", "unable_not_held", "rejected_petition"))
        req[key][c] += d
        req[key][6] += d
        return [f"requests.{key}.{c}", f"requests.{key}.6"]
    # ARITH-002: move d between two outcome rows in 总计 only, so every column still adds up …
    key, other = rng.choice(("granted", "partial")), "unable_not_held"
    if req[other][6] >= d:
        req[key][6] += d
        req[other][6] -= d
        return [f"requests.{key}.6", f"requests.{other}.6"]
    # … or, with nothing to move, raise 总计 of an outcome, （七）总计 and 一、本年新收 together
    for k in (key, "total", "new"):
        req[k][6] += d
    return [f"requests.{key}.6", "requests.total.6", "requests.new.6"]


def _blank(tables: dict[str, Any], cell_text: dict[str, str], blanks: list[str], rng: random.Random) -> None:
    zeros = [(f"requests.{k}.{c}", tables["requests"][k], c)
             for k in tables["requests"] for c in range(7) if tables["requests"][k][c] == 0]
    zeros += [(f"review_litigation.{b}.{c}", tables["review_litigation"][b], c)
              for b in REVIEW_BLOCKS for c in range(5) if tables["review_litigation"][b][c] == 0]
    if not zeros:  # every cell is non-zero: blank a review cell anyway (its relation goes unknown)
        zeros = [("review_litigation.review.0", tables["review_litigation"]["review"], 0)]
    for path, row, c in rng.sample(zeros, min(len(zeros), rng.randint(1, 6))):
        row[c] = None
        cell_text[path] = rng.choice(BLANK_MARKS)
        blanks.append(path)


# ---------------------------------------------------------------------------------------------
# Prose


def _prose(spec: ReportSpec, rng: random.Random, voice: prose.Voice) -> None:
    t = spec.tables
    req, rl = t["requests"], t["review_litigation"]
    vs = spec.variants
    stated: dict[str, dict[str, int]] = {}
    spec.sections["overview"] = prose.overview(rng, voice, repeated_item=bool(variant_args(vs, "repeated_phrase")))
    count = spec.narrative.pop("active_count")
    spec.sections["active"] = prose.active(rng, voice, count)
    if variant_args(vs, "prose_breakdown"):
        spec.sections["active"][0] = prose.active_breakdown(rng, voice, count) + spec.sections["active"][0]
    stated["active"] = {"active_count": count}
    spec.sections["requests"], stated["requests"] = prose.requests(
        rng, voice, _int(req["new"][6]), _int(req["carried_over"][6]), _int(req["carried_forward"][6]))
    spec.sections["review_litigation"], stated["review_litigation"] = prose.review(
        rng, voice, _int(rl["review"][4]), _int(rl["litigation_direct"][4]) + _int(rl["litigation_after_review"][4]))
    plans_year = spec.year if variant_args(vs, "wrong_year_plans") else None
    spec.sections["problems"] = prose.problems(rng, voice, plans_year=plans_year)
    spec.sections["other"], stated["other"] = prose.other(rng, voice, spec.template, spec.meta["fee_yuan"])
    spec.meta["stated"] = stated
    _preamble(spec, rng, voice)
    if variant_args(vs, "repeated_paragraph"):  # the last paragraph of 一, twice
        spec.sections["overview"].append(spec.sections["overview"][-1])
    spec.meta["headings"] = {k: rng.choice(HEADINGS[k]) for k in SECTION_KEYS}
    spec.meta["numbers"] = {k: CN_NUM[i] + "、" for i, k in enumerate(SECTION_KEYS)}


def _int(v: int | None) -> int:
    return v or 0


def _preamble(spec: ReportSpec, rng: random.Random, voice: prose.Voice) -> None:
    pre = [prose.preamble(rng, voice)]
    if spec.period is not None:
        sentence = prose.fill(prose.PERIOD, voice)
        if rng.random() < 0.5 or "overview" in variant_args(spec.variants, "missing_section"):
            pre[0] += sentence
        else:
            spec.sections["overview"].insert(1, sentence)
    if rng.random() < 0.3:
        pre.append(prose.contact(rng, voice))
    spec.meta["preamble"] = pre


def _old_report(spec: ReportSpec, rng: random.Random, voice: prose.Voice) -> None:
    count = numbers.active_count(rng, spec.entity_kind)
    new = numbers.gen_requests(rng, spec.entity_kind, "2019")["new"][6]
    plans_year = spec.year if variant_args(spec.variants, "wrong_year_plans") else None
    spec.sections, _ = prose.old_parts(rng, voice, count, new, plans_year=plans_year,
                                       repeated_item=bool(variant_args(spec.variants, "repeated_phrase")))
    spec.meta["stated"] = {"active": {"active_count": count}, "requests": {"requests_new": new}}
    _preamble(spec, rng, voice)
    spec.meta["headings"] = {k: rng.choice(HEADINGS_2008[k]) for k in SECTION_KEYS_2008}
    spec.meta["numbers"] = {k: CN_NUM[i] + "、" for i, k in enumerate(SECTION_KEYS_2008)}


# ---------------------------------------------------------------------------------------------
# Layout variants, narrative, expected findings


def _layout_variants(spec: ReportSpec, vrng: random.Random) -> None:
    vs = spec.variants
    for key in variant_args(vs, "missing_section"):
        spec.sections.pop(key, None)
        spec.meta["headings"].pop(key, None)
    for key in variant_args(vs, "missing_table"):
        _drop_table(spec, key)
    if variant_args(vs, "table_image"):
        _drop_table(spec, "requests")
        spec.meta["table_image"] = "requests"
    if variant_args(vs, "no_headings"):
        spec.meta["headings"] = {}
    if variant_args(vs, "arabic_section_numbers"):
        keys = list(spec.meta["numbers"])
        start = vrng.choice((3, 4))
        for i, k in enumerate(keys[start:], start):
            spec.meta["numbers"][k] = f"{i + 1}、"
    spec.narrative, extra = {}, {}
    for key, facts in spec.meta["stated"].items():
        if key in spec.sections:
            for name, value in facts.items():
                (spec.narrative if name in NARRATIVE_KEYS else extra)[name] = value
    spec.meta["narrative_extra"] = extra


def _drop_table(spec: ReportSpec, key: str) -> None:
    spec.tables.pop(key, None)
    if key == "requests":
        spec.tables.pop("requests_org_subtotal", None)
        spec.tables.pop("requests_subtotals", None)


def _expected_findings(spec: ReportSpec) -> set[str]:
    """The doc rules the finished spec must raise — read from what the report ends up containing,
    so that combined variants (a typo in a table that is then left out…) are counted right."""
    vs, out = spec.variants, set()
    mismatch = {("2019", "2021"), ("2021", "2019"), ("2008", "2019"), ("2008", "2021")}
    if (spec.template, default_template(spec.year)) in mismatch:
        out.add("STRUCT-004")
    if spec.period is None:
        out.add("STRUCT-005")
    if variant_args(vs, "early_date"):
        out.add("TIME-002")
    if variant_args(vs, "wrong_year_plans") and "problems" in spec.sections:
        out.add("TEXT-002")
    if (variant_args(vs, "repeated_phrase") or variant_args(vs, "repeated_paragraph")) and "overview" in spec.sections:
        out.add("TEXT-004")
    if spec.template == "2008":
        return out
    headings, numbers_ = spec.meta["headings"], spec.meta["numbers"]
    if any(k not in headings for k in SECTION_KEYS):
        out.add("STRUCT-001")
    if any(numbers_[k] != CN_NUM[i] + "、" for i, k in enumerate(SECTION_KEYS) if k in headings):
        out.add("STRUCT-003")
    if any(k not in spec.tables for k in TABLE_KEYS):
        out.add("STRUCT-002")
    if (variant_args(vs, "label_typos") or variant_args(vs, "garbled_labels")) and "requests" in spec.tables:
        out.add("TEXT-001")
    if variant_args(vs, "other_unsplit") and "requests" in spec.tables:
        out.add("STRUCT-002")
    if variant_args(vs, "yuan_amount") and "active" in spec.tables:
        out.add("PLAUS-003")
    if any(path.split(".")[0] in spec.tables for path in spec.meta["blank_cells"]):
        out.add("STRUCT-007")
    out |= set(numbers.arith_breaks(spec.tables, spec.template))
    return out


def expected(spec: ReportSpec) -> dict[str, Any]:
    """Ground truth in the shape of `nianbao check --json` (without findings and prose).

    `entity` is the full name as signed ("刘楼镇人民政府"); the title may use the short form, given
    as `entity_short` — a parser that reports either is right. `sections` lists the keys whose
    heading is written, in order. `narrative` holds the figures stated in the prose:
    active_count, requests_new and (2021, when charged) fees_collected_yuan; the other stated
    figures — requests_carried_over / requests_carried_forward, review_total / litigation_total —
    are in `narrative_extra` (for ARITH-006 tests).
    The doc-rule IDs the report must raise are in `spec.meta["expected_findings"]`."""
    return {
        "entity": spec.entity,
        "entity_short": spec.entity_short,
        "year": spec.year,
        "template": spec.template,
        "title": spec.title,
        "period": list(spec.period) if spec.period else None,
        "published_at": spec.published_at,
        "sections": [k for k in spec.meta["headings"] if k in spec.sections],
        "tables": copy.deepcopy(spec.tables),
        "narrative": dict(spec.narrative),
        "narrative_extra": dict(spec.meta["narrative_extra"]),
    }
