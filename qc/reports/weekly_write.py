"""Write the weekly 小结 and training plan: an .xlsx to print and file (sheets 小结, 班组, 违规排行, 培训计划,
示例; A4, fit to width, header rows repeated, page numbers), or one self-contained .html to read and hear
(the examples' clips embedded).

Cells go through qc.reports.tables (no text can run as a formula, numbers stay numbers); the page
escapes everything it shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from qc.errors import ReportError
from qc.files import write_text_atomic
from qc.reports.examples import Example
from qc.reports.page import document, esc, example_block, facts, table
from qc.reports.tables import HEADER_FORMAT, open_workbook, prepare_rows, write_prepared
from qc.reports.weekly import TEAM_SESSION, TrainingItem, WeeklyReport

FORMATS = (".xlsx", ".html")
TITLE = "质检周小结"

AGENT_HEADERS = {
    "agent_id": "工号", "name": "姓名", "team": "班组", "calls": "抽检通话数", "average": "平均分",
    "lowest": "最低分", "vetoes": "否决通话数", "violations": "违规次数", "top_rule": "违反最多的规则",
}  # fmt: skip
TEAM_HEADERS = {
    "team": "班组", "agents": "坐席数", "calls": "抽检通话数", "average": "平均分", "vetoes": "否决通话数",
    "violations": "违规次数", "per_call": "每通违规次数",
}  # fmt: skip
RULE_HEADERS = {
    "rule_id": "规则编号", "rule_name": "规则", "category": "类别", "times": "违规次数", "agents": "涉及坐席数",
    "who": "违反的坐席（工号 姓名×次数）", "source": "手册依据", "suggestion": "建议说法",
}  # fmt: skip
PLAN_HEADERS = (
    "序号", "培训方式", "规则编号", "规则", "类别", "涉及坐席数", "违规次数", "辅导对象", "班组",
    "手册依据", "建议说法", "示例",
)  # fmt: skip
EXAMPLE_HEADERS = (
    "培训项序号",
    "培训方式",
    "规则编号",
    "规则",
    "坐席",
    "日期",
    "原话",
    "前后对话",
    "建议说法",
    "时间（秒）",
)


def _who(item: TrainingItem) -> str:
    return "全体坐席" if item.kind == TEAM_SESSION else f"{item.agent_id} {item.agent_name or ''}".strip()


def _example_who(item: TrainingItem, e: Example) -> str:
    return e.agent_id if item.kind == TEAM_SESSION else f"{e.agent_id} {e.agent_name or ''}".strip()


def _turns(e: Example) -> str:
    return "\n".join(f"{'▶' if t.is_hit else '  '}{t.speaker}：{t.text}" for t in e.turns)


def plan_frame(report: WeeklyReport) -> pd.DataFrame:
    rows = [
        (
            n, t.kind, t.rule_id, t.rule_name, t.category, t.agents, t.times, _who(t), t.team or "",
            t.source or "", t.suggestion or "", f"见“示例”表 {len(t.examples)} 条" if t.examples else "",
        )
        for n, t in enumerate(report.plan, start=1)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(PLAN_HEADERS))


def example_frame(report: WeeklyReport) -> pd.DataFrame:
    rows = [
        (
            n, t.kind, t.rule_id, t.rule_name, _example_who(t, e), (e.started_at or "")[:10], e.text, _turns(e),
            t.suggestion or "", None if e.start is None else round(float(e.start), 1),
        )
        for n, t in enumerate(report.plan, start=1)
        for e in t.examples
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(EXAMPLE_HEADERS))
    frame["时间（秒）"] = frame["时间（秒）"].astype(float)
    return frame


def write_weekly(report: WeeklyReport, path: Path) -> Path:
    """Write ``report`` as the suffix of ``path`` says (.xlsx or .html); OutputError if it cannot be written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ReportError(f"{path}: the weekly report is written as .xlsx or .html")
    if suffix == ".xlsx":
        _xlsx(report, path)
    else:
        write_text_atomic(path, weekly_html(report))
    return path


# --- .xlsx ----------------------------------------------------------------------------------------


def _sheet(
    workbook: object,
    name: str,
    title: str,
    frame: pd.DataFrame,
    widths: Sequence[float],
    landscape: bool,
    wrap: Sequence[int] = (),
    notes: Sequence[str] = (),
) -> None:
    """One printable table: a title row and notes, the header row (frozen, repeated on every printed
    page), the rows; A4, fit to one page wide, page numbers in the footer."""
    sheet = workbook.add_worksheet(name)  # type: ignore[attr-defined]
    bold = workbook.add_format({"bold": True, "font_size": 14})  # type: ignore[attr-defined]
    head = workbook.add_format(HEADER_FORMAT)  # type: ignore[attr-defined]
    wrapped = workbook.add_format({"text_wrap": True, "valign": "top"})  # type: ignore[attr-defined]
    top = workbook.add_format({"valign": "top"})  # type: ignore[attr-defined]
    number = workbook.add_format({"valign": "top", "num_format": "0.0"})  # type: ignore[attr-defined]
    sheet.write_string(0, 0, title, bold)
    for i, note in enumerate(notes, start=1):
        sheet.write_string(i, 0, note)
    header_row = len(notes) + 1
    sheet.write_row(header_row, 0, list(frame.columns), head)
    rows, numeric = prepare_rows(frame)
    is_float = [pd.api.types.is_float_dtype(frame.iloc[:, c]) for c in range(frame.shape[1])]
    formats = [wrapped if c in wrap else (number if is_float[c] else top) for c in range(frame.shape[1])]
    write_prepared(sheet, rows, numeric, header_row + 1, formats)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_paper(9)  # A4
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(header_row)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    sheet.set_footer("&C第 &P 页 / 共 &N 页")
    sheet.set_header(f"&L{title}")


def _xlsx(report: WeeklyReport, path: Path) -> None:
    week = f"{report.week.label}（{report.week.span}）"
    notes = (
        f"抽检通话 {report.calls} 通；坐席 {len(report.agents)} 人；平均分 {report.average:.1f}；"
        f"违规 {int(report.agents['violations'].sum())} 次（只计已确认的命中，疑似命中待复核后才计入）",
    )
    agents = report.agents[list(AGENT_HEADERS)].rename(columns=AGENT_HEADERS)
    teams = report.teams[list(TEAM_HEADERS)].rename(columns=TEAM_HEADERS)
    rules = report.rules[list(RULE_HEADERS)].rename(columns=RULE_HEADERS)
    with open_workbook(path) as workbook:
        _sheet(workbook, "小结", f"{TITLE}：{week}", agents, (8, 10, 10, 10, 8, 8, 10, 9, 36), True, (8,), notes)
        _sheet(workbook, "班组", f"班组小结：{week}", teams, (14, 8, 10, 8, 10, 9, 12), False)
        _sheet(
            workbook, "违规排行", f"违反最多的规则：{week}", rules, (10, 20, 10, 8, 9, 40, 36, 30), True, (1, 5, 6, 7)
        )
        _sheet(
            workbook, "培训计划", f"培训计划：{week}", plan_frame(report),
            (5, 10, 10, 18, 10, 9, 8, 14, 10, 36, 28, 14), True, (3, 7, 9, 10), (report.threshold.label,),
        )  # fmt: skip
        _sheet(
            workbook, "示例", f"培训示例：{week}", example_frame(report), (8, 10, 10, 16, 14, 11, 20, 50, 24, 9),
            True, (3, 6, 7, 8), ("全员培训的示例已匿名：坐席以甲、乙代称，工号、姓名和客户的个人号码已遮盖。",),
        )  # fmt: skip


# --- .html ----------------------------------------------------------------------------------------


def weekly_html(report: WeeklyReport) -> str:
    week = report.week
    cache: dict[str, np.ndarray] = {}
    body = [
        f"<h1>{TITLE} {esc(week.label)}</h1>",
        f"<div class='muted'>{esc(week.span)} · 只计已确认的命中（疑似命中待复核后计入）</div>",
        facts(
            [
                ("抽检通话", f"{report.calls}"),
                ("坐席", f"{len(report.agents)}"),
                ("平均分", f"{report.average:.1f}"),
                ("违规", f"{int(report.agents['violations'].sum())} 次"),
                ("培训项", f"{len(report.plan)}"),
            ]
        ),
        "<h2>一、坐席小结</h2>",
        table(list(AGENT_HEADERS.values()), report.agents[list(AGENT_HEADERS)].itertuples(index=False)),
        "<h2>二、班组小结</h2>",
        table(list(TEAM_HEADERS.values()), report.teams[list(TEAM_HEADERS)].itertuples(index=False)),
        "<h2>三、违反最多的规则</h2>",
        table(
            [RULE_HEADERS[k] for k in ("rule_id", "rule_name", "category", "times", "agents", "who")],
            report.rules[["rule_id", "rule_name", "category", "times", "agents", "who"]].itertuples(index=False),
        ),
        "<h2>四、培训计划</h2>",
        f"<p class='muted'>{esc(report.threshold.label)}。</p>",
    ]
    team = [t for t in report.plan if t.kind == TEAM_SESSION]
    own = [t for t in report.plan if t.kind != TEAM_SESSION]
    body.append(f"<h3>全员培训（{len(team)} 项）</h3>")
    body.extend(_item_html(t, cache) for t in team)
    if not team:
        body.append("<p class='muted'>本周没有需要全员培训的规则。</p>")
    body.append(f"<h3>一对一辅导（{len(own)} 项）</h3>")
    body.extend(_item_html(t, cache) for t in own)
    if not own:
        body.append("<p class='muted'>本周没有需要一对一辅导的规则。</p>")
    return document(f"{TITLE} {week.label}", body)


def _item_html(t: TrainingItem, cache: dict[str, np.ndarray]) -> str:
    head = (
        f"{esc(t.kind)}：{esc(t.rule_id)} {esc(t.rule_name)}（{esc(t.category)}）· {t.agents} 名坐席违反 {t.times} 次"
        if t.kind == TEAM_SESSION
        else f"{esc(t.kind)}：{esc(_who(t))}（{esc(t.team or '')}）· {esc(t.rule_id)} {esc(t.rule_name)}"
        f"（{esc(t.category)}）· 本周 {t.times} 次"
    )
    parts = [f"<div class='card'><h3>{head}</h3>"]
    if t.source:
        parts.append(f"<div class='source'>手册依据：{esc(t.source)}</div>")
    if t.suggestion:
        parts.append(f"<div class='sug'>建议说法：{esc(t.suggestion)}</div>")
    else:  # 禁语 and missing lines have no rewrite in the lexicon: the trainer shows the right words
        parts.append("<div class='meta'>建议说法：本规则未给出，培训时请示范规范说法。</div>")
    if t.kind == TEAM_SESSION and t.examples:
        parts.append("<div class='meta'>示例已匿名：坐席以甲、乙代称，工号、姓名和客户的个人号码已遮盖。</div>")
    parts.extend(example_block(e, _example_who(t, e), cache) for e in t.examples)
    parts.append("</div>")
    return "".join(parts)
