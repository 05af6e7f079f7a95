"""textnorm's fast paths give exactly what the plain definitions give."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.textnorm import nfkc, norm, squash

_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "〔": "[", "〕": "]",
                         "【": "[", "】": "]", "﹝": "[", "﹞": "]"})

# Chinese report text: ideographs, full-width forms, combining marks, quotes, blanks, digits.
_ALPHABET = st.sampled_from(list("本年新收申请数量予以公开（）()，,：:；;．.？！％、　 \t\n１２３123ａＡ“”‘’〔〕【】﹝﹞")
                            + ["\u0301", "\u0308", "e", "\u3099", "か", "ﾊ", "\uff9e", "①", "㈠", "ﬁ", "½"])
_TEXT = st.lists(_ALPHABET, max_size=40).map("".join) | st.text(max_size=40)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_nfkc_is_unicode_nfkc(text: str) -> None:
    assert nfkc(text) == unicodedata.normalize("NFKC", text)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_norm_and_squash_definitions(text: str) -> None:
    nf = unicodedata.normalize("NFKC", text)
    assert norm(text) == re.sub(r"\s+", "", nf.translate(_QUOTES))
    assert squash(text) == re.sub(r"\s+", " ", nf).strip()


def test_examples() -> None:
    assert norm("（一）予以公开") == "(一)予以公开"
    assert norm("１．属于") == "1.属于"
    assert squash(" 本年　新收 （件） ") == "本年 新收 (件)"


_PROSE = st.lists(st.sampled_from(["、", "，", ",", "；", ";", "。", ":", "：", " ", "公开", "政务", "信息",
                                   "公开政务信息", "加强", "abc", "x"]), max_size=30).map("".join)


@settings(max_examples=800, deadline=None)
@given(_PROSE)
def test_repeat_precheck_never_hides_a_repeat(text: str) -> None:
    from monitor.rules.text import _REPEAT, _may_repeat

    if _REPEAT.search(text):
        assert _may_repeat(text)
