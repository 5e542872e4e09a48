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

from pathlib import Path

import pandas as pd
import xlsxwriter

from qc.reports.labels import (
    ADJUSTMENT_FILE_SUFFIX,
    ADJUSTMENT_HEADERS,
    ADJUSTMENT_SHEET,
    AGENT_SHEET_FALLBACK,
    CALL_CATEGORY_HEADERS,
    CALL_CATEGORY_SHEET,
    CALL_COUNT,
    CATEGORY,
    CATEGORY_CHART_TITLE,
    CHART_SHEET,
    HIT_COUNT,
    HIT_HEADERS,
    HITS_FILE_SUFFIX,
    LOCKED_NOTE,
    NO_ADJUSTMENTS,
    NO_VERDICTS,
    PRECISION_FILE_SUFFIX,
    PRECISION_HEADERS,
    PRECISION_SHEET,
    SCORE_BAND,
    SCORE_CHART_TITLE,
    SUMMARY_SHEET,
)
from qc.reports.monthly import MonthlyReport
from qc.reports.tables import HEADER_FORMAT, SheetNames, open_workbook, write_csv_files, write_rows

_PERCENT_COLUMNS = {"pass_rate", "opening_rate", "closing_rate", "polite_rate", "review_rate"}
_DECIMAL_COLUMNS = {"avg_score", "polite_per_call", "change", "prev_avg_score", "adjust_points", "adjusted_avg"}
_DETAIL_WIDTHS = {
    "call_id": 24, "started_at": 26, "score": 7, "veto": 7, "lost": 9, "opening_ok": 7, "closing_ok": 7,
    "polite_count": 11, "n_hits": 9, "deductions": 90, "call_categories": 14,
}  # fmt: skip


def write_monthly_xlsx(report: MonthlyReport, path: Path) -> Path:
    """Summary, charts, call categories, rule precision and adjustments (when the report carries the
    review state), then one sheet per agent; Chinese headers, frozen header rows.

    Raises qc.errors.OutputError (one line, naming ``path``) when the file cannot be written.
    """
    path = Path(path)
    with open_workbook(path, constant_memory=True) as wb:
        head = wb.add_format(HEADER_FORMAT)
        _summary_sheet(wb, report, head)
        _chart_sheet(wb, report, head)
        _call_category_sheet(wb, report, head)
        if report.precision is not None:
            _precision_sheet(wb, report.precision, report, head)
        if report.adjustments is not None:
            _adjustment_sheet(wb, report.adjustments, head)
        names = SheetNames([SUMMARY_SHEET, CHART_SHEET, CALL_CATEGORY_SHEET, PRECISION_SHEET, ADJUSTMENT_SHEET])
        headers = list(report.detail_headers.values())
        for agent_id, detail in report.details.items():
            wanted = f"{agent_id} {report.names.get(agent_id) or ''}".strip()
            ws = wb.add_worksheet(names(wanted, fallback=AGENT_SHEET_FALLBACK))
            ws.write_row(0, 0, headers, head)
            ws.freeze_panes(1, 1)
            for col, key in enumerate(report.detail_headers):
                ws.set_column(col, col, _DETAIL_WIDTHS.get(key, 12))
            write_rows(ws, detail)
            ws.autofilter(0, 0, max(len(detail), 1), len(headers) - 1)
    return path


def _summary_sheet(wb: xlsxwriter.Workbook, report: MonthlyReport, head: object) -> None:
    ws = wb.add_worksheet(SUMMARY_SHEET)
    pct = wb.add_format({"num_format": "0.0%"})
    num = wb.add_format({"num_format": "0.00"})
    columns = list(report.summary.columns)
    ws.write_row(0, 0, [report.summary_headers[c] for c in columns], head)
    if report.locked and "review_rate" in columns:
        at, by = report.locked
        note = LOCKED_NOTE.format(month=report.month, at=at, by=by)
        ws.write_comment(0, columns.index("review_rate"), note, {"x_scale": 3, "y_scale": 2})
    ws.freeze_panes(1, 2)
    for col, c in enumerate(columns):
        fmt = pct if c in _PERCENT_COLUMNS else num if c in _DECIMAL_COLUMNS or c.startswith("item:") else None
        ws.set_column(col, col, 12 if c != "name" else 10, fmt)
    write_rows(ws, report.summary)
    ws.autofilter(0, 0, max(len(report.summary), 1), len(columns) - 1)


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


def _precision_sheet(wb: xlsxwriter.Workbook, table: pd.DataFrame, report: MonthlyReport, head: object) -> None:
    """Which rules misfire: precision per rule from the month's verdicts, lowest first."""
    pct = wb.add_format({"num_format": "0.0%"})
    columns = {
        col: (24 if key == "rule_name" else 12, pct if key in ("precision", "low", "high") else None)
        for col, key in enumerate(PRECISION_HEADERS)
    }
    note = LOCKED_NOTE.format(month=report.month, at=report.locked[0], by=report.locked[1]) if report.locked else None
    _table_sheet(wb, PRECISION_SHEET, table, PRECISION_HEADERS, head, NO_VERDICTS, columns, note)


def _adjustment_sheet(wb: xlsxwriter.Workbook, table: pd.DataFrame, head: object) -> None:
    """Points decided this month for calls of earlier, locked months: shown here, not hidden in
    the month's own scores."""
    widths = {"call_id": 24, "comment": 40, "at": 26, "call_month": 12}
    columns = {col: (widths.get(key, 10), None) for col, key in enumerate(ADJUSTMENT_HEADERS)}
    _table_sheet(wb, ADJUSTMENT_SHEET, table, ADJUSTMENT_HEADERS, head, NO_ADJUSTMENTS, columns)


def _table_sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    table: pd.DataFrame,
    headers: dict[str, str],
    head: object,
    empty: str,
    columns: dict[int, tuple[float, object]],
    note: str | None = None,
) -> None:
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
    ws.insert_chart("D20", bars)


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
