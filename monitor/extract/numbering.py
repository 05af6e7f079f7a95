"""Word automatic numbering (word/numbering.xml): the "一、" / "（二）" / "1." Word draws in front of
a numbered paragraph is not in the text runs; we render the common formats so headings read as
they print. Bullets and unknown formats render as nothing.
"""

from __future__ import annotations

import re

from lxml import etree

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DIGITS = "零一二三四五六七八九"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
          (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
_PPR, _NUMPR, _PSTYLE = W + "pPr", W + "numPr", W + "pStyle"
_STYLE_NUMID = re.compile(rb"<w:numId\s+w:val=[\"'](\d+)")
_STYLE_ILVL = re.compile(rb"<w:ilvl\s+w:val=[\"'](\d+)")
_STYLE_BASED_ON = re.compile(rb"<w:basedOn\s+w:val=[\"']([^\"']+)")
_PLACEHOLDER = re.compile(r"%([1-9])")


def chinese_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 105 -> 一百零五 (small counts, as in headings)."""
    if n <= 0:
        return str(n)
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        tail = "" if rest == 0 else ("零" + _DIGITS[rest] if rest < 10 else chinese_number(rest).lstrip())
        if 10 <= rest < 20:
            tail = "一" + tail
        return _DIGITS[n // 100] + "百" + tail
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, sym in _ROMAN:
        while n >= value:
            out += sym
            n -= value
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_number(n: int, fmt: str) -> str | None:
    """Render counter n in a w:numFmt; None for bullets and formats we do not render."""
    if fmt in ("decimal", "decimalZero"):
        return f"{n:02d}" if fmt == "decimalZero" else str(n)
    if fmt == "decimalFullWidth":
        return "".join(chr(ord(c) + 0xFEE0) for c in str(n))
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "ideographDigital",
               "taiwaneseCounting", "taiwaneseCountingThousand"):
        return chinese_number(n)
    if fmt == "ideographTraditional":
        return _TIANGAN[(n - 1) % 10]
    if fmt == "decimalEnclosedCircle" or fmt == "decimalEnclosedCircleChinese":
        return _CIRCLED[n - 1] if 0 < n <= len(_CIRCLED) else str(n)
    if fmt in ("upperLetter", "lowerLetter"):
        return _letters(n).upper() if fmt == "upperLetter" else _letters(n)
    if fmt in ("upperRoman", "lowerRoman"):
        return _roman(n).upper() if fmt == "upperRoman" else _roman(n)
    if fmt == "none":
        return ""
    return None


class _Level:
    __slots__ = ("start", "fmt", "text")

    def __init__(self, start: int, fmt: str, text: str) -> None:
        self.start, self.fmt, self.text = start, fmt, text


class Numbering:
    """Counters of one document; call `label(p)` for paragraphs in document order."""

    def __init__(self, levels: dict[str, dict[int, _Level]], nums: dict[str, tuple[str, dict[int, int]]],
                 styles: StyleNumbering | None = None) -> None:
        self._levels = levels  # abstractNumId -> ilvl -> level
        self._nums = nums  # numId -> (abstractNumId, start overrides)
        self._styles = styles or StyleNumbering(None)
        self._counters: dict[str, dict[int, int]] = {}

    @classmethod
    def from_xml(cls, root: etree._Element | None, styles: bytes | None = None) -> Numbering:
        if root is None:
            return cls({}, {})
        levels: dict[str, dict[int, _Level]] = {}
        for absnum in root.iter(W + "abstractNum"):
            lv: dict[int, _Level] = {}
            for lvl in absnum.iter(W + "lvl"):
                lv[_int(lvl.get(W + "ilvl"), 0)] = _Level(
                    _int(_val(lvl, "start"), 1), _val(lvl, "numFmt") or "decimal", _val(lvl, "lvlText") or ""
                )
            levels[absnum.get(W + "abstractNumId", "")] = lv
        nums: dict[str, tuple[str, dict[int, int]]] = {}
        for num in root.iter(W + "num"):
            overrides = {
                _int(o.get(W + "ilvl"), 0): _int(_val(o, "startOverride"), 1)
                for o in num.iter(W + "lvlOverride") if o.find(W + "startOverride") is not None
            }
            nums[num.get(W + "numId", "")] = (_val(num, "abstractNumId") or "", overrides)
        return cls(levels, nums, StyleNumbering(styles if nums else None))

    def label(self, p: etree._Element) -> str:
        if not self._nums:
            return ""
        ppr = _child(p, _PPR)
        numpr = _child(ppr, _NUMPR)
        if numpr is not None:
            num_id, ilvl = _val(numpr, "numId"), _int(_val(numpr, "ilvl"), 0)
        else:
            style = _child(ppr, _PSTYLE)
            found = self._styles.get(style.get(W + "val", "")) if style is not None else None
            num_id, ilvl = found if found else (None, 0)
        if not num_id or num_id == "0" or num_id not in self._nums:
            return ""
        abs_id, overrides = self._nums[num_id]
        levels = self._levels.get(abs_id, {})
        if ilvl not in levels:
            return ""
        counters = self._counters.setdefault(num_id, {})
        start = overrides.get(ilvl, levels[ilvl].start)
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        return self._render(levels, counters, overrides, ilvl)

    @staticmethod
    def _render(levels: dict[int, _Level], counters: dict[int, int], overrides: dict[int, int], ilvl: int) -> str:
        level = levels[ilvl]
        if format_number(1, level.fmt) is None:
            return ""  # bullet or exotic format

        def sub(m: re.Match[str]) -> str:
            k = int(m.group(1)) - 1
            lv = levels.get(k)
            n = counters.get(k, overrides.get(k, lv.start if lv else 1))
            return (format_number(n, lv.fmt) if lv else None) or str(n)

        return _PLACEHOLDER.sub(sub, level.text)


class StyleNumbering:
    """Numbering a paragraph gets from its style (a numbered "Heading 1"), looked up lazily in the
    raw styles.xml bytes: templates carry ~350 KB of latent styles that are not worth parsing
    for the few a document uses."""

    def __init__(self, xml: bytes | None) -> None:
        self._xml = xml or b""
        self._cache: dict[str, tuple[str, int] | None] = {}

    def get(self, style_id: str, depth: int = 0) -> tuple[str, int] | None:
        if not self._xml or not style_id or depth > 10:
            return None
        if style_id not in self._cache:
            self._cache[style_id] = self._resolve(style_id, depth)
        return self._cache[style_id]

    def _resolve(self, style_id: str, depth: int) -> tuple[str, int] | None:
        block = self._block(style_id)
        if block is None:
            return None
        num = _STYLE_NUMID.search(block)
        if num:
            ilvl = _STYLE_ILVL.search(block)
            found = (num.group(1).decode(), int(ilvl.group(1)) if ilvl else 0)
            return None if found[0] == "0" else found
        parent = _STYLE_BASED_ON.search(block)
        return self.get(parent.group(1).decode(), depth + 1) if parent else None

    def _block(self, style_id: str) -> bytes | None:
        m = re.search(rb"w:styleId=[\"']" + re.escape(style_id.encode()) + rb"[\"']", self._xml)
        if not m:
            return None
        start = self._xml.rfind(b"<w:style", 0, m.start())
        end = self._xml.find(b"</w:style>", m.end())
        return self._xml[start:end] if start >= 0 and end > 0 else None


def _child(el: etree._Element | None, tag: str) -> etree._Element | None:
    if el is None:
        return None
    if len(el) and el[0].tag == tag:
        return el[0]
    for c in el:
        if c.tag == tag:
            return c
    return None


def _val(el: etree._Element, child: str) -> str | None:
    c = el.find(W + child)
    return c.get(W + "val") if c is not None else None


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
