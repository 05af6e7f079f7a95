"""Text normalisation shared by the parser and the rules: width, whitespace, numbers, dates."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

_WS = re.compile(r"\s+")
# Quotes and brackets that NFKC leaves alone but reports mix freely.
_QUOTES = (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'"), ("〔", "["), ("〕", "]"), ("【", "["),
           ("】", "]"), ("﹝", "["), ("﹞", "]"))
# The full-width forms Chinese text is full of, with their NFKC forms (ASCII).
_FULL_WIDTH = tuple((c, unicodedata.normalize("NFKC", c)) for c in "（），：；．？！％　")
_is_normalized = unicodedata.is_normalized


def nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), fast for Chinese prose.

    normalize() costs ~100 ns a character once a text holds one full-width comma. Replacing the
    common full-width forms by their NFKC forms (ASCII: NFKD of the text is unchanged, so is its
    NFKC) with str.replace and checking is ~20 times faster; anything else left goes through
    normalize()."""
    if text.isascii() or _is_normalized("NFKC", text):
        return text
    for c, n in _FULL_WIDTH:
        if c in text:
            text = text.replace(c, n)
    return text if _is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


@lru_cache(maxsize=16384)
def norm(text: str) -> str:
    """Canonical form for matching labels: NFKC (full-width → half-width), no whitespace, one
    kind of quote. "（一）予以公开" → "(一)予以公开", "１．属于" → "1.属于"."""
    text = nfkc(text)
    if not text.isascii():
        for c, q in _QUOTES:
            if c in text:
                text = text.replace(c, q)
    return _WS.sub("", text)


@lru_cache(maxsize=16384)
def squash(text: str) -> str:
    """NFKC and collapsed whitespace, for quoting text back to people."""
    return _WS.sub(" ", nfkc(text)).strip()


PLACEHOLDERS = frozenset({"", "/", "-", "—", "–", "——", "--", "\\", "－", "/-"})

_NUMBER = re.compile(r"^(?P<sign>[+-]?)(?P<num>\d+(?:\.\d+)?)(?P<unit>万元|元|件|个|项|条|次|篇|人次)?$")


@dataclass(frozen=True, slots=True)
class Cell:
    """One numeric cell as written: its value (None when blank or a placeholder), the unit written
    in the cell, and the raw text."""

    value: int | float | None
    raw: str
    unit: str | None = None

    @property
    def blank(self) -> bool:
        return self.value is None


_PLAIN_INT = re.compile(r"\s*\d{1,9}\s*")


@lru_cache(maxsize=16384)
def parse_cell(raw: str) -> Cell | None:
    """A numeric or placeholder cell, or None when the text is not a number at all."""
    if _PLAIN_INT.fullmatch(raw):
        return Cell(int(raw), raw.strip())
    if len(raw) > 24:
        return None
    text = norm(raw).replace(",", "").replace("，", "")
    if text in PLACEHOLDERS or re.fullmatch(r"[/\\\-—–－]+", text):
        return Cell(None, raw.strip())
    m = _NUMBER.match(text)
    if not m:
        return None
    num = m.group("num")
    value: int | float = float(num) if "." in num else int(num)
    if m.group("sign") == "-":
        value = -value
    return Cell(value, raw.strip(), m.group("unit"))


CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}


def cn_number(text: str) -> int | None:
    """一 → 1, 十 → 10, 十二 → 12, 二十 → 20; also Arabic digits."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    if not text or any(c not in CN_DIGITS and c != "十" for c in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (CN_DIGITS.get(ones, 0) if ones else 0)
    return CN_DIGITS.get(text)


CN_NUMERALS = "一二三四五六七八九十"

_DATE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*[年./-]\s*(?P<m>\d{1,2})\s*[月./-]\s*(?P<d>\d{1,2})\s*日?")
_CN_DATE = re.compile(r"(?P<y>[二〇○零一二三四五六七八九]{4})年(?P<m>[一二三四五六七八九十]{1,2})月(?P<d>[一二三四五六七八九十]{1,3})日")


def find_dates(text: str) -> list[tuple[date, int, int]]:
    """Every plausible date in the text with its span (Arabic and Chinese numerals)."""
    out: list[tuple[date, int, int]] = []
    t = nfkc(text)
    for m in _DATE.finditer(t):
        d = _mkdate(int(m["y"]), int(m["m"]), int(m["d"]))
        if d:
            out.append((d, m.start(), m.end()))
    for m in _CN_DATE.finditer(t):
        y = int("".join(str(CN_DIGITS[c]) for c in m["y"]))
        mo, dd = cn_number(m["m"]), cn_number(m["d"])
        d = _mkdate(y, mo or 0, dd or 0)
        if d:
            out.append((d, m.start(), m.end()))
    return sorted(out, key=lambda x: x[1])


def _mkdate(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


_CN_YEAR = re.compile(r"[二〇零○一三四五六七八九]{4}(?=\s*年)")


def arabic_years(text: str) -> str:
    """"二〇二五年" → "2025年" (years written in Chinese numerals in titles and signatures)."""
    def conv(m: re.Match[str]) -> str:
        digits = [CN_DIGITS.get(c, 0 if c == "○" else None) for c in m.group(0)]
        return m.group(0) if None in digits else "".join(map(str, digits))
    return _CN_YEAR.sub(conv, text)
