"""Write the monthly quality sheets (服务质量综合考评表): one Excel workbook, or a few CSV files.

The workbook has the summary (汇总), the charts (图表), the calls by category (来电类别), rule precision
from the month's verdicts (规则准确率), the points decided this month for earlier, locked months
(跨月调整), and one sheet per agent with every call and its deductions spelled out. Agent sheets
are named "工号 姓名", cleaned and de-duplicated by ``qc.reports.tables.SheetNames``: a name is data
from outside and must not break the workbook.
Cells, error handling and atomic writing are those of ``qc.reports.tables`` (safe text, numbers as
numbers, one-line OutputError, no partial file).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from qc.reports.cells import safe_text
from qc.reports.labels import (
    ADJUSTMENT_FILE_SUFFIX,
    ADJUSTMENT_HEADERS,
    ADJUSTMENT_SHEET,
    AGENT_HEADER,
    AGENT_SHEET_FALLBACK,
    AGENT_TABLE_TITLE,
    AUTO_INSPECTION,
    AXIS_CALLS,
    AXIS_CATEGORY,
    AXIS_HITS,
    AXIS_SCORE_BAND,
    CALL_CATEGORY_HEADERS,
    CALL_CATEGORY_SHEET,
    CALL_COUNT,
    CATEGORY,
    CATEGORY_CHART_TITLE,
    CHART_SHEET,
    DEFINITIONS,
    DEFINITIONS_TITLE,
    HIT_COUNT,
    HIT_HEADERS,
    HITS_FILE_SUFFIX,
    LOCKED_NOTE,
    NO_ADJUSTMENTS,
    NO_TEAM,
    NO_VERDICTS,
    PRECISION_FILE_SUFFIX,
    PRECISION_HEADERS,
    PRECISION_SHEET,
    SCORE_BAND,
    SCORE_CHART_TITLE,
    SHEET_TITLE,
    SIGNATURE_LINE,
    SUMMARY_SHEET,
    TEAM_HEADERS,
    TEAM_TABLE_TITLE,
    TITLE_FIELDS,
)
from qc.reports.monthly import AgentDetails, MonthlyReport
from qc.reports.print_setup import print_setup
from qc.reports.tables import (
    HEADER_FORMAT,
    SheetNames,
    open_workbook,
    prepare_rows,
    write_csv_files,
    write_prepared,
    write_rows,
)

_PERCENT_COLUMNS = {"pass_rate", "opening_rate", "closing_rate", "standard_rate", "review_rate"}
_DECIMAL_COLUMNS = {"avg_score", "polite_per_call", "change", "prev_avg_score", "adjust_points", "adjusted_avg"}
_DETAIL_WIDTHS = {
    "call_id": 22, "started_at": 16, "score": 7, "veto": 6, "lost": 8, "opening_ok": 7, "closing_ok": 7,
    "polite_count": 8, "n_hits": 7, "deductions": 64, "call_categories": 12,
}  # fmt: skip
_SUMMARY_WIDTHS = {"agent_id": 9, "name": 10, "team": 10, "calls": 8, "rank": 6}
_DATE_TIME = "yyyy-mm-dd hh:mm"
_DATE = "yyyy-mm-dd"
# Calls that still print legibly on one A4 page; an agent with more gets one page wide, several tall.
_ONE_PAGE_CALLS = 30


class _Formats:
    """Every cell format of the workbook, made once (xlsxwriter formats are per workbook)."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.head = wb.add_format(HEADER_FORMAT)
        self.title = wb.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.subtitle = wb.add_format({"bold": True, "font_size": 12})
        self.label = wb.add_format({"bold": True, "valign": "top", "bg_color": "#F2F2F2", "border": 1})
        self.text = wb.add_format({"text_wrap": True, "valign": "top", "border": 1})
        self.plain = wb.add_format({"valign": "top"})
        self.wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        self.date = wb.add_format({"num_format": _DATE, "align": "left", "border": 1})
        self.datetime = wb.add_format({"num_format": _DATE_TIME, "valign": "top"})
        self.pct = wb.add_format({"num_format": "0.0%", "valign": "top"})
        self.num = wb.add_format({"num_format": "0.00", "valign": "top"})
        self.int = wb.add_format({"num_format": "0", "valign": "top"})
        self.score = wb.add_format({"num_format": "0.##", "valign": "top"})
        self.mark = wb.add_format({"num_format": "0.##", "align": "left", "border": 1})
        self.sign = wb.add_format({"font_size": 12, "valign": "bottom"})

    def of(self, key: str) -> object:
        """The format of a summary or team column (by its English key)."""
        if key in _PERCENT_COLUMNS:
            return self.pct
        if key in _DECIMAL_COLUMNS or key.startswith(("item:", "trend:")):
            return self.num
        return self.plain

    def of_detail(self, key: str) -> object | None:
        """Only the cells that need one get a format (a date, the wrapped deductions): a format on
        each of 3 million cells costs seconds."""
        if key == "started_at":
            return self.datetime
        if key == "deductions":
            return self.wrap
        return None


def write_agent_pages_xlsx(report: MonthlyReport, path: Path, agents: Collection[str]) -> Path:
    """Only the sheets of ``agents`` (工号), each its printable 考评表 page with the signature line:
    what a team lead prints for one-to-one coaching, and what the README's picture is made from.

    Raises qc.errors.OutputError (one line, naming ``path``) when the file cannot be written.
    """
    path = Path(path)
    with open_workbook(path, constant_memory=True) as wb:
        _agent_sheets(wb, report, _Formats(wb), set(agents))
    return path


def write_monthly_xlsx(report: MonthlyReport, path: Path) -> Path:
    """The 考评表: the summary (title block, definitions, teams, agents), charts, call categories,
    rule precision and adjustments (when the report carries the review state), then one printable
    sheet per agent with every call, its deductions one per line, and a signature line. Every sheet
    is set up to print on A4.

    Raises qc.errors.OutputError (one line, naming ``path``) when the file cannot be written.
    """
    path = Path(path)
    with open_workbook(path, constant_memory=True) as wb:
        fmt = _Formats(wb)
        head = fmt.head
        _summary_sheet(wb, report, fmt)
        _chart_sheet(wb, report, head)
        _call_category_sheet(wb, report, head)
        if report.precision is not None:
            _precision_sheet(wb, report.precision, report, head)
        if report.adjustments is not None:
            _adjustment_sheet(wb, report.adjustments, head, report.month)
        _agent_sheets(wb, report, fmt)
    return path


def _agent_sheets(
    wb: xlsxwriter.Workbook, report: MonthlyReport, fmt: _Formats, only: Collection[str] | None = None
) -> None:
    """One sheet per agent, named "工号 姓名": a header line, the calls, a signature line."""
    names = SheetNames([SUMMARY_SHEET, CHART_SHEET, CALL_CATEGORY_SHEET, PRECISION_SHEET, ADJUSTMENT_SHEET])
    keys = list(report.detail_headers)
    headers = list(report.detail_headers.values())
    formats = [fmt.of_detail(k) for k in keys]
    widths = [_DETAIL_WIDTHS.get(k, 9) for k in keys]
    last = len(headers) - 1
    summary = report.summary.set_index("agent_id")
    n_agents = len(summary)
    # every agent's rows made cell-ready in one pass, then sliced: not 2,000 small passes
    details = report.details
    if not isinstance(details, AgentDetails):
        table = pd.concat([d.assign(agent_id=a) for a, d in details.items()], ignore_index=True)
        details = AgentDetails(table[["agent_id", *(k for k in keys if k != "agent_id")]], keys)
    rows, numeric = prepare_rows(details.table[keys]) if len(details) else ([], [])
    heights = _line_heights(details.table["deductions"], widths[keys.index("deductions")]) if rows else []
    for agent_id in details:
        if only is not None and agent_id not in only:
            continue
        start, end = details.span(agent_id)
        mine = rows[start:end]
        n_calls = end - start
        name = report.names.get(agent_id) or ""
        ws = wb.add_worksheet(names(f"{agent_id} {name}".strip(), fallback=AGENT_SHEET_FALLBACK))
        for col, width in enumerate(widths):
            ws.set_column(col, col, width, fmt.plain)  # top-aligned beside the multi-line deductions
        ws.merge_range(0, 0, 0, last, f"{SHEET_TITLE}（{AGENT_TABLE_TITLE}）", fmt.title)
        row = summary.loc[agent_id] if agent_id in summary.index else None
        line = AGENT_HEADER.format(
            agent=safe_text(f"{agent_id} {name}".strip()),
            team=safe_text(str(row["team"])) if row is not None and "team" in row else NO_TEAM,
            month=report.month,
            avg=f"{row['avg_score']:.2f}" if row is not None else "",
            rank=int(row["rank"]) if row is not None else "",
            of=n_agents,
            calls=n_calls,
        )
        ws.merge_range(1, 0, 1, last, line, fmt.subtitle)
        ws.write_row(2, 0, headers, fmt.head)
        ws.freeze_panes(3, 1)
        ws.set_row(2, 30)  # headers of two lines (考评项 and its full marks)
        write_prepared(ws, mine, numeric, 3, formats, heights=heights[start:end])
        ws.autofilter(2, 0, 2 + max(n_calls, 1), last)
        ws.merge_range(4 + n_calls, 0, 4 + n_calls, last, SIGNATURE_LINE, fmt.sign)
        ws.set_row(4 + n_calls, 36)
        print_setup(ws, SHEET_TITLE, report.month, repeat_rows=(2, 2), one_page=n_calls <= _ONE_PAGE_CALLS)


def _line_heights(texts: pd.Series, width: float) -> list[float | None]:
    """A row height (points) that shows every line of each wrapped deductions cell: its lines, each
    as many printed lines as it needs at ``width`` (a CJK character is two width units); None for
    a cell of one line (the default height)."""
    per_line = max(int(width), 10)
    out: list[float | None] = []
    for text in texts.tolist():
        if not text or "\n" not in text and len(text) * 1.6 <= per_line:
            out.append(None)
            continue
        lines = sum(1 + int(len(line) * 1.6) // per_line for line in text.split("\n"))
        out.append(min(15.0 * lines, 409.0))
    return out


def _summary_sheet(wb: xlsxwriter.Workbook, report: MonthlyReport, fmt: _Formats) -> None:
    """Title block, definitions, team totals, then the agents (header row repeated on every page)."""
    ws = wb.add_worksheet(SUMMARY_SHEET)
    columns = list(report.summary.columns)
    last = max(len(columns) - 1, 8)
    for col, c in enumerate(columns):
        ws.set_column(col, col, _SUMMARY_WIDTHS.get(c, 11))
    r = _title_block(ws, report, fmt, last)
    r = _definitions(ws, report, fmt, last, r + 1)
    r = _team_table(ws, report, fmt, r + 1)
    ws.write_string(r + 1, 0, AGENT_TABLE_TITLE, fmt.subtitle)
    top = r + 2
    ws.write_row(top, 0, [report.summary_headers[c] for c in columns], fmt.head)
    if report.locked and "review_rate" in columns:
        at, by = report.locked
        note = LOCKED_NOTE.format(month=report.month, at=at, by=by)
        ws.write_comment(top, columns.index("review_rate"), note, {"x_scale": 3, "y_scale": 2})
    write_rows(ws, report.summary, first_row=top + 1, formats=[fmt.of(c) for c in columns])
    ws.autofilter(top, 0, top + max(len(report.summary), 1), len(columns) - 1)
    print_setup(ws, SHEET_TITLE, report.month, repeat_rows=(top, top))


def _title_block(ws: Worksheet, report: MonthlyReport, fmt: _Formats, last: int) -> int:
    """服务质量综合考评表 and what it is about; returns the last row used."""
    facts = report.facts
    ws.merge_range(0, 0, 0, last, SHEET_TITLE, fmt.title)
    ws.set_row(0, 30)
    inspectors = "、".join(facts.inspectors) if facts.inspectors else AUTO_INSPECTION
    values: list[tuple[str, object]] = [
        ("centre", facts.centre),
        ("month", report.month),
        ("ruleset", "、".join(report.rulesets)),
        ("pass_mark", float(report.pass_mark)),
        ("scoring", facts.scoring),
        ("inspectors", inspectors),
        ("made_on", facts.made_on or date.today()),
    ]
    for r, (key, value) in enumerate(values, start=1):
        ws.merge_range(r, 0, r, 1, TITLE_FIELDS[key], fmt.label)
        if isinstance(value, date):
            ws.merge_range(r, 2, r, last, None, fmt.date)
            ws.write_datetime(r, 2, datetime(value.year, value.month, value.day), fmt.date)
        elif isinstance(value, float):
            ws.merge_range(r, 2, r, last, None, fmt.mark)
            ws.write_number(r, 2, value, fmt.mark)
        else:
            ws.merge_range(r, 2, r, last, safe_text(str(value)), fmt.text)
        if key == "scoring":
            ws.set_row(r, 15 * (1 + len(str(value)) // 90))
    return len(values)


def _definitions(ws: Worksheet, report: MonthlyReport, fmt: _Formats, last: int, first: int) -> int:
    """What every rate and figure means; returns the last row used."""
    facts = report.facts
    ws.write_string(first, 0, DEFINITIONS_TITLE, fmt.subtitle)
    r = first
    for r, (name, text) in enumerate(DEFINITIONS, start=first + 1):
        ws.merge_range(r, 0, r, 1, name, fmt.label)
        said = text.format(base=facts.base, veto_score=facts.veto_score, pass_mark=report.pass_mark)
        ws.merge_range(r, 2, r, last, said, fmt.text)
    return r


def _team_table(ws: Worksheet, report: MonthlyReport, fmt: _Formats, first: int) -> int:
    """Team totals and ranks; returns the last row used."""
    ws.write_string(first, 0, TEAM_TABLE_TITLE, fmt.subtitle)
    ws.write_row(first + 1, 0, list(TEAM_HEADERS.values()), fmt.head)
    teams = report.teams
    write_rows(ws, teams, first_row=first + 2, formats=[fmt.of(k) for k in TEAM_HEADERS])
    return first + 1 + len(teams)


def _call_category_sheet(wb: xlsxwriter.Workbook, report: MonthlyReport, head: object) -> None:
    """Each agent's calls cut by call category (查件, 投诉…): which kinds of calls go badly."""
    ws = wb.add_worksheet(CALL_CATEGORY_SHEET)
    table = report.by_call_category
    ws.write_row(0, 0, list(CALL_CATEGORY_HEADERS.values()), head)
    ws.freeze_panes(1, 2)
    pct = wb.add_format({"num_format": "0.0%"})
    for col, key in enumerate(CALL_CATEGORY_HEADERS):
        ws.set_column(col, col, 12, pct if key == "pass_rate" else None)
    write_rows(ws, table)
    ws.autofilter(0, 0, max(len(table), 1), len(CALL_CATEGORY_HEADERS) - 1)
    print_setup(ws, SHEET_TITLE, report.month, landscape=False, repeat_rows=(0, 0))


def _precision_sheet(wb: xlsxwriter.Workbook, table: pd.DataFrame, report: MonthlyReport, head: object) -> None:
    """Which rules misfire: precision per rule from the month's verdicts, lowest first."""
    pct = wb.add_format({"num_format": "0.0%"})
    columns = {
        col: (24 if key == "rule_name" else 12, pct if key in ("precision", "low", "high") else None)
        for col, key in enumerate(PRECISION_HEADERS)
    }
    note = LOCKED_NOTE.format(month=report.month, at=report.locked[0], by=report.locked[1]) if report.locked else None
    ws = _table_sheet(wb, PRECISION_SHEET, table, PRECISION_HEADERS, head, NO_VERDICTS, columns, note)
    print_setup(ws, SHEET_TITLE, report.month, repeat_rows=(0, 0))


def _adjustment_sheet(wb: xlsxwriter.Workbook, table: pd.DataFrame, head: object, month: str = "") -> None:
    """Points decided this month for calls of earlier, locked months: shown here, not hidden in
    the month's own scores."""
    widths = {"call_id": 24, "comment": 40, "at": 26, "call_month": 12}
    columns = {col: (widths.get(key, 10), None) for col, key in enumerate(ADJUSTMENT_HEADERS)}
    ws = _table_sheet(wb, ADJUSTMENT_SHEET, table, ADJUSTMENT_HEADERS, head, NO_ADJUSTMENTS, columns)
    print_setup(ws, SHEET_TITLE, month, repeat_rows=(0, 0))


def _table_sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    table: pd.DataFrame,
    headers: dict[str, str],
    head: object,
    empty: str,
    columns: dict[int, tuple[float, object]],
    note: str | None = None,
) -> Worksheet:
    """A sheet holding one table under its header row (``columns``: width and format by column;
    ``note``: a comment on the first header). An empty table says why in the first cell: a blank
    sheet would look like a broken report."""
    ws = wb.add_worksheet(name)
    for col, (width, fmt) in columns.items():
        ws.set_column(col, col, width, fmt)
    ws.write_row(0, 0, list(headers.values()), head)
    if note:
        ws.write_comment(0, 0, note, {"x_scale": 3, "y_scale": 2})
    ws.freeze_panes(1, 1)
    if len(table):
        write_rows(ws, table)
        ws.autofilter(0, 0, len(table), len(headers) - 1)
    else:
        ws.write_string(1, 0, empty)
    return ws


def _chart_sheet(wb: xlsxwriter.Workbook, report: MonthlyReport, head: object) -> None:
    ws = wb.add_worksheet(CHART_SHEET)
    bins, cats = report.score_bins, report.category_counts
    ws.write_row(0, 0, [SCORE_BAND, CALL_COUNT], head)
    write_rows(ws, bins)
    top = len(bins) + 2
    ws.write_row(top, 0, [CATEGORY, HIT_COUNT], head)
    write_rows(ws, cats, first_row=top + 1)
    ws.set_column(0, 1, 12)
    dist = wb.add_chart({"type": "column"})
    dist.add_series(
        {
            "name": CALL_COUNT,
            "categories": [CHART_SHEET, 1, 0, len(bins), 0],
            "values": [CHART_SHEET, 1, 1, len(bins), 1],
        }
    )
    dist.set_title({"name": SCORE_CHART_TITLE.format(month=report.month)})
    dist.set_legend({"none": True})
    dist.set_x_axis({"name": AXIS_SCORE_BAND})
    dist.set_y_axis({"name": AXIS_CALLS, "major_gridlines": {"visible": True}})
    ws.insert_chart("D2", dist)
    bars = wb.add_chart({"type": "bar"})
    n = len(cats)
    bars.add_series(
        {
            "name": HIT_COUNT,
            "categories": [CHART_SHEET, top + 1, 0, top + n, 0],
            "values": [CHART_SHEET, top + 1, 1, top + n, 1],
        }
    )
    bars.set_title({"name": CATEGORY_CHART_TITLE.format(month=report.month)})
    bars.set_legend({"none": True})
    bars.set_x_axis({"name": AXIS_HITS})
    bars.set_y_axis({"name": AXIS_CATEGORY})
    ws.insert_chart("D20", bars)
    print_setup(ws, SHEET_TITLE, report.month, landscape=False, one_page=True)


def monthly_hits_path(path: Path) -> Path:
    """Where the per-hit CSV goes beside the summary CSV: 2026-11.csv → 2026-11_明细.csv."""
    path = Path(path)
    return path.with_name(f"{path.stem}{HITS_FILE_SUFFIX}{path.suffix}")


def monthly_sibling_path(path: Path, suffix: str) -> Path:
    """A file beside the summary CSV: 2026-11.csv with 规则准确率 → 2026-11_规则准确率.csv."""
    path = Path(path)
    return path.with_name(f"{path.stem}{suffix}{path.suffix}")


def write_monthly_csv(report: MonthlyReport, path: Path) -> Path:
    """Summary to ``path``; every hit of the month (one row each) to ``<stem>_明细.csv`` beside it,
    and, when the report carries the review state, rule precision to ``<stem>_规则准确率.csv`` and the
    adjustments for earlier months to ``<stem>_跨月调整.csv`` (header only when there are none: a CSV
    is read by programs too).

    All files are written or none; returns the path of the per-hit file. Raises
    qc.errors.OutputError (one line, naming the file) when they cannot be written.
    """
    path = Path(path)
    detail_path = monthly_hits_path(path)
    files = [(report.summary, path, report.summary_headers), (report.hits, detail_path, HIT_HEADERS)]
    if report.precision is not None:
        files.append((report.precision, monthly_sibling_path(path, PRECISION_FILE_SUFFIX), PRECISION_HEADERS))
    if report.adjustments is not None:
        files.append((report.adjustments, monthly_sibling_path(path, ADJUSTMENT_FILE_SUFFIX), ADJUSTMENT_HEADERS))
    write_csv_files(files)
    return detail_path
