"""The official table layouts, declared as data, and the grid model every renderer draws.

A `Grid` is a table as Word sees it: origin cells with their row/column spans. Renderers ask it for
the form they need — Word rows with vertical-merge continuations (txt-cells, DOCX), the expanded
rectangle (txt-tabs), HTML rows of origin cells, or span commands (PDF).

The declarations follow 国办公开办函〔2019〕60号 and 〔2021〕30号: table 二 is drawn as one small
table per 第二十条 item (as most published reports do), table 三 has three label columns whose
merged cells (三、本年度办理结果, （三）不予公开 …) come from the row label paths, table 四 has the
行政复议 / 行政诉讼 header with its spans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Grid model


@dataclass(frozen=True, slots=True)
class Cell:
    text: str  # "\n" marks a line break inside the cell (Word's manual break, HTML <br>)
    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    kind: str = "label"  # label | head | num


@dataclass(slots=True)
class Grid:
    key: str  # "active" | "requests" | "review_litigation"
    ncols: int
    cells: list[Cell] = field(default_factory=list)
    nrows: int = 0
    header_rows: int = 0  # rows repeated when a PDF table continues on the next page

    def add(self, text: str, row: int, col: int, rowspan: int = 1, colspan: int = 1,
            kind: str = "label") -> None:
        self.cells.append(Cell(text, row, col, rowspan, colspan, kind))
        self.nrows = max(self.nrows, row + rowspan)

    def origins(self) -> dict[tuple[int, int], Cell]:
        return {(c.row, c.col): c for c in self.cells}

    def owner_map(self) -> list[list[Cell | None]]:
        """For every grid position, the origin cell covering it."""
        grid: list[list[Cell | None]] = [[None] * self.ncols for _ in range(self.nrows)]
        for c in self.cells:
            for r in range(c.row, c.row + c.rowspan):
                for k in range(c.col, c.col + c.colspan):
                    grid[r][k] = c
        return grid

    def word_rows(self) -> list[list[tuple[Cell | None, int]]]:
        """Rows as Word stores them: one entry per <w:tc>, `(cell, gridspan)`; a vertical-merge
        continuation is `(None, gridspan)` (an empty cell in a text export)."""
        owners = self.owner_map()
        rows: list[list[tuple[Cell | None, int]]] = []
        for r in range(self.nrows):
            out: list[tuple[Cell | None, int]] = []
            k = 0
            while k < self.ncols:
                c = owners[r][k]
                if c is None:
                    out.append((None, 1))
                    k += 1
                    continue
                out.append((c if c.row == r else None, c.colspan))
                k += c.colspan
            rows.append(out)
        return rows

    def expanded(self) -> list[list[str]]:
        """The full rectangle: text at each origin, "" in every covered position."""
        out = [[""] * self.ncols for _ in range(self.nrows)]
        for c in self.cells:
            out[c.row][c.col] = c.text
        return out

    def col_fractions(self) -> list[float]:
        """Relative column widths as report templates draw them (wide label columns)."""
        if self.key == "requests":
            label = [0.09, 0.13, 0.24]
            return label + [(1 - sum(label)) / (self.ncols - 3)] * (self.ncols - 3)
        if self.key == "active":
            return [0.31] + [0.23] * (self.ncols - 1)
        return [1 / self.ncols] * self.ncols

    def html_rows(self) -> list[list[Cell]]:
        rows: list[list[Cell]] = [[] for _ in range(self.nrows)]
        for c in sorted(self.cells, key=lambda c: (c.row, c.col)):
            rows[c.row].append(c)
        return rows


# ---------------------------------------------------------------------------------------------
# Table 二 (tables.active)


@dataclass(frozen=True, slots=True)
class ActiveBlock:
    caption: str  # 第二十条第（一）项 …
    heads: tuple[str, ...]  # column headers after 信息内容 ("\n" = a line break some exports keep)
    rows: tuple[tuple[str, str], ...]  # (key, label)
    columns: tuple[str, ...]  # value keys, in header order
    amount_columns: tuple[str, ...] = ()  # decimal 万元 columns


ACTIVE_2019: tuple[ActiveBlock, ...] = (
    ActiveBlock("第二十条第（一）项", ("本年新\n制作数量", "本年新\n公开数量", "对外公开\n总数量"),
                (("rules", "规章"), ("normative_docs", "规范性文件")), ("made", "published", "total")),
    ActiveBlock("第二十条第（五）项", ("上一年\n项目数量", "本年增/减", "处理决定\n数量"),
                (("licensing", "行政许可"), ("other_services", "其他对外管理服务事项")),
                ("prev", "change", "decisions")),
    ActiveBlock("第二十条第（六）项", ("上一年\n项目数量", "本年增/减", "处理决定\n数量"),
                (("penalty", "行政处罚"), ("enforcement", "行政强制")), ("prev", "change", "decisions")),
    ActiveBlock("第二十条第（八）项", ("上一年\n项目数量", "本年增/减"),
                (("fees", "行政事业性收费"),), ("prev", "change")),
    ActiveBlock("第二十条第（九）项", ("采购项目数量", "采购总金额"),
                (("procurement", "政府集中采购"),), ("count", "amount"), ("amount",)),
)

ACTIVE_2021: tuple[ActiveBlock, ...] = (
    ActiveBlock("第二十条第（一）项", ("本年制发件数", "本年废止件数", "现行有效件数"),
                (("rules", "规章"), ("normative_docs", "行政规范性文件")), ("issued", "repealed", "in_force")),
    ActiveBlock("第二十条第（五）项", ("本年处理决定数量",), (("licensing", "行政许可"),), ("decisions",)),
    ActiveBlock("第二十条第（六）项", ("本年处理决定数量",),
                (("penalty", "行政处罚"), ("enforcement", "行政强制")), ("decisions",)),
    ActiveBlock("第二十条第（八）项", ("本年收费金额（单位：万元）",), (("fees", "行政事业性收费"),),
                ("amount",), ("amount",)),
)

ACTIVE_BLOCKS = {"2019": ACTIVE_2019, "2021": ACTIVE_2021}
ACTIVE_WIDTH = 4  # every table-二 block is 信息内容 + three value columns wide


# ---------------------------------------------------------------------------------------------
# Table 三 (tables.requests)

REQUEST_COLUMNS = ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")
ORG_COLUMNS = REQUEST_COLUMNS[1:6]
REQUEST_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"

_RESULT = "三、本年度办理结果"
_REFUSED = "（三）不予公开"
_UNABLE = "（四）无法提供"
_REJECTED = "（五）不予处理"
_OTHER = "（六）其他处理"

# (key, label path). A path of one label spans the three label columns, two labels span 1 + 2,
# three labels 1 + 1 + 1; equal consecutive prefixes merge vertically.
_ROWS_HEAD: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("new", ("一、本年新收政府信息公开申请数量",)),
    ("carried_over", ("二、上年结转政府信息公开申请数量",)),
    ("granted", (_RESULT, "（一）予以公开")),
    ("partial", (_RESULT, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")),
    ("refused_state_secret", (_RESULT, _REFUSED, "1．属于国家秘密")),
    ("refused_law", (_RESULT, _REFUSED, "2．其他法律行政法规禁止公开")),
    ("refused_security", (_RESULT, _REFUSED, "3．危及“三安全一稳定”")),
    ("refused_third_party", (_RESULT, _REFUSED, "4．保护第三方合法权益")),
    ("refused_internal", (_RESULT, _REFUSED, "5．属于三类内部事务信息")),
    ("refused_process", (_RESULT, _REFUSED, "6．属于四类过程性信息")),
    ("refused_enforcement_file", (_RESULT, _REFUSED, "7．属于行政执法案卷")),
    ("refused_query", (_RESULT, _REFUSED, "8．属于行政查询事项")),
    ("unable_not_held", (_RESULT, _UNABLE, "1．本机关不掌握相关政府信息")),
    ("unable_needs_creation", (_RESULT, _UNABLE, "2．没有现成信息需要另行制作")),
    ("unable_unclear", (_RESULT, _UNABLE, "3．补正后申请内容仍不明确")),
    ("rejected_petition", (_RESULT, _REJECTED, "1．信访举报投诉类申请")),
    ("rejected_duplicate", (_RESULT, _REJECTED, "2．重复申请")),
    ("rejected_publication", (_RESULT, _REJECTED, "3．要求提供公开出版物")),
    ("rejected_mass", (_RESULT, _REJECTED, "4．无正当理由大量反复申请")),
    ("rejected_confirmation", (_RESULT, _REJECTED, "5．要求行政机关确认或重新出具已获取信息")),
)
_ROWS_OTHER = {
    "2019": (("other", (_RESULT, _OTHER)),),
    "2021": (
        ("other_no_correction", (_RESULT, _OTHER,
                                 "1．申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请")),
        ("other_no_fee", (_RESULT, _OTHER,
                          "2．申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请")),
        ("other_other", (_RESULT, _OTHER, "3．其他")),
    ),
}
_ROWS_TAIL = (
    ("total", (_RESULT, "（七）总计")),
    ("carried_forward", ("四、结转下年度继续办理",)),
)


def request_rows(template: str, *, other_unsplit: bool = False) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The rows of table 三; `other_unsplit`: a 2021 table keeping the 2019 （六）其他处理 row."""
    return _ROWS_HEAD + _ROWS_OTHER["2019" if other_unsplit else template] + _ROWS_TAIL


def request_keys(template: str) -> tuple[str, ...]:
    return tuple(k for k, _ in request_rows(template))


def result_keys(template: str) -> tuple[str, ...]:
    """The sub-rows of 三、本年度办理结果 whose sum is （七）总计 (ARITH-003)."""
    return tuple(k for k, path in request_rows(template) if path[0] == _RESULT and k != "total")


# Subtotal rows (variant "subtotal_rows"): group key → (group label, member row-key prefix)
SUBTOTAL_GROUPS: dict[str, tuple[str, str]] = {
    "refused": (_REFUSED, "refused_"),
    "unable": (_UNABLE, "unable_"),
    "rejected": (_REJECTED, "rejected_"),
    "other": (_OTHER, "other_"),
}


def subtotal_groups(template: str) -> tuple[str, ...]:
    # 2019's （六）其他处理 is a single row: a subtotal under it would repeat it
    return ("refused", "unable", "rejected") + (("other",) if template == "2021" else ())


# Label typos seen in real reports (variant "label_typos"): row key → altered label path tail
LABEL_TYPOS: dict[str, str] = {
    "new": "一、本年新收到政府信息公开申请数量",
    "carried_over": "二、上年结转政府信息公开数量",
    "refused_security": "3．危机“三安全一稳定”",
    "refused_enforcement_file": "7．属于行政法案卷",
    "unable_needs_creation": "2．没有现成信息需另行制作",
}

# Labels that lost a character (variant "garbled_labels"): no row pattern names them.
LABEL_GARBLED: dict[str, str] = {
    "refused_law": "2．其他法律行政止公开",
    "refused_internal": "5．属于三类内事务信息",
    "rejected_publication": "3．要求提供公开出物",
}


# ---------------------------------------------------------------------------------------------
# Table 四 (tables.review_litigation)

REVIEW_RESULTS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")
REVIEW_BLOCKS = ("review", "litigation_direct", "litigation_after_review")


# ---------------------------------------------------------------------------------------------
# Builders: spec values → grids. `fmt(path, value)` turns a value into the cell text.

Fmt = Callable[[str, object], str]


def build_active(template: str, values: dict[str, dict[str, object]], fmt: Fmt) -> list[Grid]:
    grids = []
    for block in ACTIVE_BLOCKS[template]:
        g = Grid("active", ACTIVE_WIDTH, header_rows=2)
        g.add(block.caption, 0, 0, colspan=ACTIVE_WIDTH, kind="head")
        g.add("信息内容", 1, 0, kind="head")
        spans = _spans(len(block.heads), ACTIVE_WIDTH - 1)
        col = 1
        for head, span in zip(block.heads, spans, strict=True):
            g.add(head, 1, col, colspan=span, kind="head")
            col += span
        for i, (key, label) in enumerate(block.rows):
            r = 2 + i
            g.add(label, r, 0)
            col = 1
            for ckey, span in zip(block.columns, spans, strict=True):
                g.add(fmt(f"active.{key}.{ckey}", values[key][ckey]), r, col, colspan=span, kind="num")
                col += span
        grids.append(g)
    return grids


def _spans(n: int, width: int) -> list[int]:
    """n columns over `width` grid columns: the last one takes what is left (Word's layout)."""
    return [1] * (n - 1) + [width - (n - 1)]


def build_requests(template: str, rows: dict[str, Sequence[object]], fmt: Fmt, *,
                   subtotal_column: dict[str, object] | None = None,
                   subtotal_rows: dict[str, Sequence[object]] | None = None,
                   labels: dict[str, str] | None = None, other_unsplit: bool = False) -> Grid:
    """Table 三 in the official layout (3 header rows, 3 label columns)."""
    labels = labels or {}
    ndata = 8 if subtotal_column is not None else 7
    g = Grid("requests", 3 + ndata, header_rows=3)
    g.add(REQUEST_NOTE, 0, 0, rowspan=3, colspan=3, kind="head")
    g.add("申请人情况", 0, 3, colspan=ndata, kind="head")
    g.add("自然人", 1, 3, rowspan=2, kind="head")
    g.add("法人或其他组织", 1, 4, colspan=ndata - 2, kind="head")
    g.add("总计", 1, 3 + ndata - 1, rowspan=2, kind="head")
    org_heads = list(ORG_COLUMNS) + (["小计"] if subtotal_column is not None else [])
    for i, head in enumerate(org_heads):
        g.add(head, 2, 4 + i, kind="head")

    decl: list[tuple[str, tuple[str, ...]]] = []
    groups = set(subtotal_rows or ())
    for key, path in request_rows(template, other_unsplit=other_unsplit):
        if key in labels:
            path = path[:-1] + (labels[key],)
        decl.append((key, path))
        for gkey in groups:
            glabel, prefix = SUBTOTAL_GROUPS[gkey]
            members = [k for k in request_keys(template) if k.startswith(prefix)]
            if key == members[-1]:
                decl.append((f"subtotal.{gkey}", (_RESULT, glabel, "小计")))

    first = 3
    _label_cells(g, [p for _, p in decl], first)
    for i, (key, _) in enumerate(decl):
        r = first + i
        if key.startswith("subtotal."):
            gkey = key.split(".", 1)[1]
            vals = list(subtotal_rows[gkey])  # type: ignore[index]
            path = f"requests_subtotals.{gkey}"
        else:
            vals = list(rows[key])
            path = f"requests.{key}"
        cells = [(f"{path}.{c}", vals[c]) for c in range(6)]
        if subtotal_column is not None:
            sub = subtotal_column.get(key) if not key.startswith("subtotal.") else sum(
                int(v) for v in vals[1:6] if isinstance(v, int))
            cells.append((f"requests_org_subtotal.{key}", sub))
        cells.append((f"{path}.6", vals[6]))
        for j, (p, v) in enumerate(cells):
            g.add(fmt(p, v), r, 3 + j, kind="num")
    return g


def _label_cells(g: Grid, paths: list[tuple[str, ...]], first: int) -> None:
    """Place the label columns: level l of a path occupies column l; a path ending at level l
    spans the remaining label columns; equal prefixes on consecutive rows merge vertically."""
    n = len(paths)
    for level in range(3):
        r = 0
        while r < n:
            path = paths[r]
            if len(path) <= level:
                r += 1
                continue
            end = r + 1
            if len(path) > level + 1:  # a group label: merge over rows sharing the prefix
                while end < n and paths[end][: level + 1] == path[: level + 1] and len(paths[end]) > level + 1:
                    end += 1
                span_cols = 1
            else:
                span_cols = 3 - level
            g.add(path[level], first + r, level, rowspan=end - r, colspan=span_cols)
            r = end


def build_review(values: dict[str, Sequence[object]], fmt: Fmt) -> Grid:
    g = Grid("review_litigation", 15, header_rows=3)
    g.add("行政复议", 0, 0, colspan=5, kind="head")
    g.add("行政诉讼", 0, 5, colspan=10, kind="head")
    for i, head in enumerate(REVIEW_RESULTS):
        g.add(head, 1, i, rowspan=2, kind="head")
    g.add("未经复议直接起诉", 1, 5, colspan=5, kind="head")
    g.add("复议后起诉", 1, 10, colspan=5, kind="head")
    for i in range(10):
        g.add(REVIEW_RESULTS[i % 5], 2, 5 + i, kind="head")
    for b, block in enumerate(REVIEW_BLOCKS):
        for i in range(5):
            g.add(fmt(f"review_litigation.{block}.{i}", values[block][i]), 3, 5 * b + i, kind="num")
    return g
