"""Small stored-looking months built in memory, so report writers are tested without the CLI or a store.

``month_frames`` gives the two DataFrames ``qc.store.load_month`` returns (calls, hits);
``hit_rows`` the dicts ``qc.store.load_hits`` returns. Values that a spreadsheet would run as a
formula (``HOSTILE``) can be put in any text field.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from qc.reports.monthly import MonthlyReport, build_monthly

HOSTILE = (
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "@SUM(1)",
    "-2+3",
    "\t=1+1",
)

_CHECKS = {"opening": {"ok": True, "utterance": 0}, "closing": {"ok": False, "utterance": None}}


def month_frames(
    agents: list[tuple[str, str]], month: str = "2026-11", calls_each: int = 2, hit_text: str = "你找领导去"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(calls, hits) for ``agents`` [(agent_id, name)], each with ``calls_each`` calls of one hit."""
    calls: list[dict[str, Any]] = []
    hits: list[dict[str, Any]] = []
    for a, (agent_id, name) in enumerate(agents):
        for i in range(calls_each):
            call_id = f"{month}-{a:03d}-{i}"
            calls.append(
                {
                    "call_id": call_id,
                    "agent_id": agent_id,
                    "started_at": f"{month}-03T10:{i:02d}:00",
                    "audio": None,
                    "name": name,
                    "ruleset": "r1",
                    "score": 80.0 - 10 * i,
                    "veto": i == 1,
                    "polite_count": 2,
                    "checks": _CHECKS,
                }
            )
            hits.append(
                {
                    "call_id": call_id,
                    "seq": 0,
                    "rule_id": "BAN-002",
                    "category": "banned",
                    "name": "让客户找领导",
                    "start": 6.6,
                    "text": hit_text,
                    "suggestion": None,
                    "deduction": 20.0,
                    "detail": None,
                }
            )
    return pd.DataFrame(calls), pd.DataFrame(hits)


def monthly(
    agents: list[tuple[str, str]], hit_text: str = "你找领导去", previous_score: float | None = 95.0
) -> MonthlyReport:
    """A built monthly report; with ``previous_score`` October scored higher, so 环比 is negative."""
    calls, hits = month_frames(agents, hit_text=hit_text)
    previous = None
    if previous_score is not None:
        previous, _ = month_frames(agents, month="2026-10")
        previous["score"] = previous_score
    return build_monthly("2026-11", calls, hits, previous, pass_mark=60.0)


def hit_rows(
    agent_name: str = "赵敏", hit_text: str = "你找领导去", context: str = "这个不归我管"
) -> list[dict[str, Any]]:
    """One stored hit as load_hits returns it, with a three-turn transcript around it."""
    transcript = {
        "utterances": [
            {"speaker": "customer", "text": context, "start": 1.0},
            {"speaker": "agent", "text": hit_text, "start": 6.6},
            {"speaker": "customer", "text": "好吧", "start": 9.9},
        ]
    }
    return [
        {
            "call_id": "C-1",
            "agent_id": "1001",
            "agent_name": agent_name,
            "started_at": "2026-11-03T10:00:00",
            "rule_id": "BAN-002",
            "category": "banned",
            "name": "让客户找领导",
            "text": hit_text,
            "detail": None,
            "suggestion": "我帮您反映",
            "deduction": 20.0,
            "start": 6.6,
            "end": 9.7,
            "utterance": 1,
            "transcript": transcript,
            "audio": None,
        }
    ]


def summary_table(sheet: Any) -> tuple[int, list[Any], list[tuple[Any, ...]]]:
    """The agent table of a 汇总 sheet read by openpyxl: (its header row number, the headers, the
    rows below it). The title block, definitions and team totals stand above it."""
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if row and row[0] == "工号":
            headers = list(row)
            body = [r for r in sheet.iter_rows(min_row=number + 1, values_only=True) if r[0] is not None]
            return number, headers, body
    raise AssertionError("no agent table (工号 header) on the sheet")


def agent_table(sheet: Any) -> tuple[int, list[Any], list[tuple[Any, ...]]]:
    """An agent sheet's call table: (header row number, headers, one row per call)."""
    for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        if row and row[0] == "通话编号":
            body = []
            for r in sheet.iter_rows(min_row=number + 1, values_only=True):
                if r[0] is None:
                    break
                body.append(r)
            return number, list(row), body
    raise AssertionError("no call table (通话编号 header) on the sheet")
