"""Numbers that ran together: "6000017" where a row of seven cells (6 0 0 0 0 0 6… 7) lost the
separators between them (crawler text exports, copy-paste from a PDF).

`splits(digits, n, accept)` lists every way to cut a digit run into n numbers written without
leading zeros ("0" alone is a number, "06" is not) for which `accept(values)` holds — the row's own
relation (总计 = the six applicant columns). The parser takes a split only when it is the one such
reading, or when the column relations of the table leave one (monitor/parse.py).
"""

from __future__ import annotations

from collections.abc import Callable

# A run longer than this is not read (the count of splits grows as C(len-1, n-1)).
MAX_DIGITS = 40
# Work bound: cuts tried before giving up on a run (then it stays unread: STRUCT-002).
MAX_STEPS = 200_000


class TooManySplits(Exception):
    """The run has more readings than the work bound allows to list."""


def splits(digits: str, n: int, accept: Callable[[list[int]], bool] | None = None) -> list[list[int]]:
    """Every split of `digits` into n numbers without leading zeros that `accept` keeps."""
    if not digits.isdigit() or n < 1 or len(digits) < n or len(digits) > MAX_DIGITS:
        return []
    out: list[list[int]] = []
    parts: list[int] = []
    steps = 0

    def walk(pos: int) -> None:
        nonlocal steps
        steps += 1
        if steps > MAX_STEPS:
            raise TooManySplits(digits)
        left = n - len(parts)
        if left == 1:
            rest = digits[pos:]
            if rest and (rest == "0" or rest[0] != "0"):
                values = [*parts, int(rest)]
                if accept is None or accept(values):
                    out.append(values)
            return
        # this part: at least 1 digit, leaving at least one digit for each part after it
        longest = 1 if digits[pos] == "0" else len(digits) - pos - (left - 1)
        for size in range(1, longest + 1):
            parts.append(int(digits[pos:pos + size]))
            walk(pos + size)
            parts.pop()

    try:
        walk(0)
    except TooManySplits:
        return []
    return out


def row_total_holds(values: list[int]) -> bool:
    """Table 三: the last number (总计) is the sum of the others before it (the six applicant
    columns; with an 8th 小计 column, 小计 = the five organisation columns as well)."""
    if len(values) == 8:
        return sum(values[:6]) == values[7] and sum(values[1:6]) == values[6]
    return sum(values[:-1]) == values[-1]


def review_holds(values: list[int]) -> bool:
    """Table 四, 15 numbers: in each block of five, 总计 = 维持 + 纠正 + 其他 + 尚未审结."""
    return all(sum(values[i:i + 4]) == values[i + 4] for i in range(0, len(values), 5))
