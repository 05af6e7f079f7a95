"""Table 二 as some 2019-template reports print it: notes in brackets after row labels and column
headers (the template's own explanations), and an extra row the template does not have."""

from __future__ import annotations

from monitor.engine import check_bytes

ROWS = [
    ["第二十条第（一）项"],
    ["信息内容", "本年新<br>制作数量", "本年新<br>公开数量", "对外公开总数量"],
    ["规章（设区的市、自治州人民政府应提供相关数据）", "0", "0", "0"],
    ["规范性文件（行政机关制定发布的决定、公告、通告等，一般情况下属于规范性文件）", "2", "2", "19"],
    ["其他主动公开文件（除规范性文件以外的主动公开文件）", "186", "86", "255"],
    ["第二十条第（五）项"],
    ["信息内容", "上一年项目数量（指上一年事项数）", "本年增/减（减用负值表示，如-8）", "处理决定数量（指本年办件量）"],
    ["行政许可", "8", "5", "93"],
    ["其他对外管理服务事项（指行政许可以外的政务服务事项）", "117", "0", "165"],
    ["第二十条第（六）项"],
    ["信息内容", "上一年项目数量（指上一年事项数）", "本年增/减（减用负值表示，如-8）", "处理决定数量（指本年办件量）"],
    ["行政处罚", "90", "0", "22"],
    ["行政强制", "4", "4", "-"],
    ["第二十条第（八）项"],
    ["信息内容", "上一年项目数量", "本年增/减"],
    ["行政事业性收费", "3", "-1"],
    ["第二十条第（九）项"],
    ["信息内容", "采购项目数量", "采购总金额（万元）"],
    ["政府集中采购", "12", "359.7"],
]


def page() -> bytes:
    def tr(r: list[str]) -> str:
        if len(r) == 1:
            return f'<tr><td colspan="4">{r[0]}</td></tr>'
        return "<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>"

    body = ("<p>模拟市生态环境局2020年政府信息公开工作年度报告</p>"
            "<p>本报告中所列数据的统计期限自2020年1月1日起至2020年12月31日止。</p>"
            "<p>一、总体情况</p><p>我局认真贯彻落实《条例》。</p><p>二、主动公开政府信息情况</p>"
            f"<table border=1>{''.join(tr(r) for r in ROWS)}</table>")
    return f"<html><head><meta charset='utf-8'></head><body><div class='article'>{body}</div></body></html>".encode()


def test_row_labels_with_notes_are_their_rows() -> None:
    result = check_bytes(page(), filename="report.html")
    assert result.report is not None and result.report.template == "2019"
    assert result.report.tables["active"] == {
        "rules": {"made": 0, "published": 0, "total": 0},
        "normative_docs": {"made": 2, "published": 2, "total": 19},
        "licensing": {"prev": 8, "change": 5, "decisions": 93},
        "other_services": {"prev": 117, "change": 0, "decisions": 165},
        "penalty": {"prev": 90, "change": 0, "decisions": 22},
        "enforcement": {"prev": 4, "change": 4, "decisions": None},
        "fees": {"prev": 3, "change": -1},
        "procurement": {"count": 12, "amount": 359.7},
    }
    missing_rows = [f for f in result.findings if f.rule == "STRUCT-002" and f.details.get("table") == "active"]
    assert missing_rows == []
