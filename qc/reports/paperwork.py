"""The inspector's weekly and monthly paperwork as library calls (``qc report weekly``, ``qc report
analysis``): check the output's suffix before any work, read, build, write, and say what was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from qc.errors import ReportError
from qc.store.db import Store


@dataclass(frozen=True, slots=True)
class Paperwork:
    """What a report wrote: the file, how many calls it covers, and a few counts for the log line."""

    path: Path
    calls: int
    agents: int
    team_sessions: int = 0
    coaching: int = 0


WEEKLY_FORMATS = (".xlsx", ".html")


def check_out(kind: str, out_path: Path) -> None:
    """Refuse an output the report cannot write (``kind``: weekly | analysis), before any work is done."""
    suffix = out_path.suffix.lower()
    if kind == "weekly" and suffix not in WEEKLY_FORMATS:
        raise ReportError(f"{out_path}: the weekly report is written as .xlsx or .html")
    if kind == "analysis" and suffix != ".html":
        how = "; open the .html in a browser and print to PDF (A4 is set)" if suffix == ".pdf" else ""
        raise ReportError(f"{out_path}: the analysis report is written as .html{how}")


def weekly_report(
    store: Store, week: str, out_path: Path, team_threshold: str = "3", mask: bool = True, examples_each: int = 2
) -> Paperwork:
    """The week's 小结 and training plan as .xlsx or .html. ``team_threshold``: '3' (agents) or '20%'
    (of the week's agents) — a rule broken that widely gets a whole-team session, else one-to-one."""
    from qc.reports.weekly import TEAM_SESSION, Threshold, load_weekly
    from qc.reports.weekly_write import write_weekly
    from qc.store.history import parse_week

    check_out("weekly", out_path)
    report = load_weekly(store, parse_week(week), Threshold.parse(team_threshold), mask, examples_each)
    write_weekly(report, out_path)
    team = sum(1 for t in report.plan if t.kind == TEAM_SESSION)
    return Paperwork(out_path, report.calls, len(report.agents), team, len(report.plan) - team)


def analysis_report(
    store: Store,
    month: str,
    out_path: Path,
    pass_mark: float,
    history: int = 6,
    min_calls: int = 5,
    step: float = 3.0,
) -> Paperwork:
    """The monthly 质检分析报告 as one self-contained .html (a .pdf is refused, saying to print the page)."""
    from qc.reports.analysis import load_analysis
    from qc.reports.analysis_write import write_analysis

    check_out("analysis", out_path)
    report = load_analysis(store, month, pass_mark, history, min_calls, step)
    write_analysis(report, out_path)
    agents_now = int((report.data.agents["month"] == month).sum())
    return Paperwork(out_path, int(report.trend.iloc[-1]["calls"]), agents_now)
