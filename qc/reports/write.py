"""Write the monthly quality sheets (服务质量综合考评表): one Excel workbook, or two CSV files.

The workbook has the summary (汇总), the charts (图表) and one sheet per agent with every call and its
deductions spelled out. Agent sheets are named "工号 姓名", cleaned and de-duplicated by
``qc.reports.tables.SheetNames``: a name is data from outside and must not break the workbook.
Cells, error handling and atomic writing are those of ``qc.reports.tables`` (safe text, numbers as
numbers, one-line OutputError, no partial file).
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from qc.reports.labels import (
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
    SCORE_BAND,
    SCORE_CHART_TITLE,
    SUMMARY_SHEET,
)
from qc.reports.monthly import MonthlyReport
from qc.reports.tables import HEADER_FORMAT, SheetNames, open_workbook, write_csv_files, write_rows

_PERCENT_COLUMNS = {"pass_rate", "opening_rate", "closing_rate", "polite_rate"}
_DECIMAL_COLUMNS = {"avg_score", "polite_per_call", "change", "prev_avg_score"}
_DETAIL_WIDTHS = {
    "call_id": 24, "started_at": 26, "score": 7, "veto": 7, "lost": 9, "opening_ok": 7, "closing_ok": 7,
    "polite_count": 11, "n_hits": 9, "deductions": 90, "call_categories": 14,
}  # fmt: skip


def write_monthly_xlsx(report: MonthlyReport, path: Path) -> Path:
    """Summary sheet, chart sheet, then one sheet per agent; Chinese headers, frozen header rows.

    Raises qc.errors.OutputError (one line, naming ``path``) when the file cannot be written.
    """
    path = Path(path)
    with open_workbook(path, constant_memory=True) as wb:
        head = wb.add_format(HEADER_FORMAT)
        _summary_sheet(wb, report, head)
        _chart_sheet(wb, report, head)
        _call_category_sheet(wb, report, head)
        names = SheetNames([SUMMARY_SHEET, CHART_SHEET, CALL_CATEGORY_SHEET])
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


def write_monthly_csv(report: MonthlyReport, path: Path) -> Path:
    """Summary to ``path``; every hit of the month (one row each) to ``<stem>_明细.csv`` beside it.

    Both files are written or neither; returns the path of the per-hit file. Raises
    qc.errors.OutputError (one line, naming the file) when they cannot be written.
    """
    path = Path(path)
    detail_path = monthly_hits_path(path)
    write_csv_files([(report.summary, path, report.summary_headers), (report.hits, detail_path, HIT_HEADERS)])
    return detail_path
