"""The monthly quality sheet (服务质量综合考评表) as tables: pure pandas, no I/O.

Columns are English snake_case until the very end; the writers (qc.reports.write) give them the
Chinese headers of qc.reports.labels (``SUMMARY_HEADERS``, ``DETAIL_HEADERS``, ``HIT_HEADERS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

import pandas as pd

from qc.reports.labels import (
    CALL_CATEGORIES_HEADER,
    CALL_CATEGORY_HEADERS,
    CALL_COUNT,
    CATEGORY,
    CATEGORY_NAMES,
    DETAIL_HEADERS,
    HIT_COUNT,
    HIT_HEADERS,
    ITEM_DETAIL_HEADER,
    ITEM_SUMMARY_HEADER,
    NO,
    NO_CALL_CATEGORY,
    NOT_CHECKED,
    SCORE_BAND,
    SCORE_BANDS,
    SUMMARY_HEADERS,
    YES,
)
from qc.schema import CATEGORIES
from qc.text.mask import mask_text

__all__ = ["CATEGORY_NAMES", "MonthlyReport", "build_monthly"]


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    month: str
    summary: pd.DataFrame  # one row per agent, English columns (SUMMARY_HEADERS order)
    details: dict[str, pd.DataFrame]  # agent_id → one row per call (DETAIL_HEADERS order)
    hits: pd.DataFrame  # one row per hit, every agent (HIT_HEADERS order), for the flat export
    names: dict[str, str]  # agent_id → name
    score_bins: pd.DataFrame  # 分数段, 通话数
    category_counts: pd.DataFrame  # 类别, 次数
    # The headers of ``summary`` and ``details``: the fixed ones plus a column per 考评项.
    summary_headers: dict[str, str] = field(default_factory=lambda: dict(SUMMARY_HEADERS))
    detail_headers: dict[str, str] = field(default_factory=lambda: dict(DETAIL_HEADERS))
    # One row per agent and call category (CALL_CATEGORY_HEADERS order): which kinds of calls go badly.
    by_call_category: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CALL_CATEGORY_HEADERS)))


def _check_ok(checks: object, name: str) -> float:
    """1.0 passed, 0.0 failed, NaN not checked (a truncated recording's closing): rates leave NaN out."""
    check = checks.get(name) if isinstance(checks, dict) else None
    if not isinstance(check, dict):
        return 0.0
    ok = check.get("ok")
    return float("nan") if ok is None else float(bool(ok))


def build_monthly(
    month: str,
    calls: pd.DataFrame,
    hits: pd.DataFrame,
    previous: pd.DataFrame | None,
    pass_mark: float,
    mask: bool = True,
) -> MonthlyReport:
    """Aggregate one month of stored results into the summary and per-agent tables."""
    calls = calls.copy()
    calls["name"] = calls["name"].fillna("")
    calls["opening_ok"] = [_check_ok(c, "opening") for c in calls["checks"]]
    calls["closing_ok"] = [_check_ok(c, "closing") for c in calls["checks"]]
    calls["passed"] = (calls["score"] >= pass_mark) & ~calls["veto"]
    items = _item_weights(calls)
    for name in items:
        calls[f"item:{name}"] = pd.to_numeric(
            [
                (scores.get(name) or {}).get("score") if isinstance(scores, dict) else None
                for scores in calls.get("item_scores", pd.Series([{}] * len(calls)))
            ],
            errors="coerce",
        )
    grouped = calls.groupby("agent_id", sort=True)
    summary = pd.DataFrame(
        {
            "name": grouped["name"].last(),
            "calls": grouped.size(),
            "avg_score": grouped["score"].mean().round(2),
            "min_score": grouped["score"].min(),
            "pass_rate": grouped["passed"].mean().round(4),
            "veto_calls": grouped["veto"].sum().astype(int),
            "opening_rate": grouped["opening_ok"].mean().round(4),
            "closing_rate": grouped["closing_ok"].mean().round(4),
            "polite_per_call": grouped["polite_count"].mean().round(2),
            "polite_rate": grouped["polite_count"].apply(lambda s: (s > 0).mean()).round(4),
        }
    )
    if len(hits):
        per_call_agent = calls.set_index("call_id")["agent_id"]
        # suspected hits (learned layer, not yet reviewed) are listed on the agent's sheet but not counted
        confirmed = hits[hits["status"] == "confirmed"] if "status" in hits else hits
        counted = confirmed.assign(agent_id=confirmed["call_id"].map(per_call_agent))
        counts = counted.pivot_table(index="agent_id", columns="category", values="seq", aggfunc="count", fill_value=0)
    else:
        counts = pd.DataFrame(index=summary.index)
    for name in items:
        summary[f"item:{name}"] = grouped[f"item:{name}"].mean().round(2)
    for cat in CATEGORIES:
        summary[f"n_{cat}"] = counts[cat].reindex(summary.index).fillna(0).astype(int) if cat in counts else 0
    summary["rank"] = summary["avg_score"].rank(ascending=False, method="min").astype(int)
    if previous is not None and len(previous):
        prev = previous.groupby("agent_id")["score"].mean().round(2)
        summary["prev_avg_score"] = prev.reindex(summary.index)
        summary["change"] = (summary["avg_score"] - summary["prev_avg_score"]).round(2)
    else:
        summary["prev_avg_score"] = float("nan")
        summary["change"] = float("nan")
    summary = summary.reset_index().sort_values(["rank", "agent_id"])
    summary_headers = _with_items(SUMMARY_HEADERS, "polite_rate", items, ITEM_SUMMARY_HEADER)
    summary = summary[list(summary_headers)]

    detail_headers = _with_items(DETAIL_HEADERS, "deductions", items, ITEM_DETAIL_HEADER)
    detail_headers = {**detail_headers, "call_categories": CALL_CATEGORIES_HEADER}
    calls["call_categories"] = [
        "、".join(c) if isinstance(c, list) else "" for c in calls.get("call_categories", pd.Series([[]] * len(calls)))
    ]
    details, hit_table = _details(calls, hits, mask, detail_headers)
    bins = pd.cut(
        calls["score"],
        [-0.01, 59.99, 69.99, 79.99, 89.99, 100.0],
        labels=list(SCORE_BANDS),
    )
    score_bins = bins.value_counts(sort=False).rename_axis(SCORE_BAND).reset_index(name=CALL_COUNT)
    cat_counts = pd.DataFrame(
        {
            CATEGORY: [CATEGORY_NAMES[c] for c in CATEGORIES],
            HIT_COUNT: [int(summary[f"n_{c}"].sum()) for c in CATEGORIES],
        }
    )
    names = dict(zip(summary["agent_id"], summary["name"], strict=True))
    return MonthlyReport(
        month, summary, details, hit_table, names, score_bins, cat_counts, summary_headers, detail_headers,
        _by_call_category(calls),
    )  # fmt: skip


def _item_weights(calls: pd.DataFrame) -> dict[str, float]:
    """The 考评项 of the month's results and their full marks, in the scorecard's order (the first
    result that has them; results scored before items existed have none)."""
    for scores in calls.get("item_scores", ()):
        if isinstance(scores, dict) and scores:
            return {name: float(v.get("weight", 0)) for name, v in scores.items() if isinstance(v, dict)}
    return {}


def _with_items(headers: dict[str, str], after: str, items: dict[str, float], label: str) -> dict[str, str]:
    """``headers`` with a column per 考评项 inserted after ``after``."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        out[key] = value
        if key == after:
            out.update({f"item:{n}": label.format(name=n, weight=w) for n, w in items.items()})
    return out


def _by_call_category(calls: pd.DataFrame) -> pd.DataFrame:
    """Per agent and call category: calls, average score, pass rate, vetoes (a call of two
    categories counts in both; a call without one is 未分类)."""
    columns = list(CALL_CATEGORY_HEADERS)
    if calls.empty:
        return pd.DataFrame(columns=columns)
    cats = calls["call_categories"].map(lambda c: c.split("、") if c else [NO_CALL_CATEGORY])
    long = calls.assign(call_category=cats).explode("call_category")
    grouped = long.groupby(["agent_id", "call_category"], sort=True)
    out = pd.DataFrame(
        {
            "name": grouped["name"].last(),
            "calls": grouped.size(),
            "avg_score": grouped["score"].mean().round(2),
            "pass_rate": grouped["passed"].mean().round(4),
            "veto_calls": grouped["veto"].sum().astype(int),
        }
    ).reset_index()
    return out[columns]


def _masked(column: pd.Series, mask: bool) -> pd.Series:
    if not mask or column.empty:
        return column
    unique = column.dropna().unique()
    return column.map(dict(zip(unique, (mask_text(t) for t in unique), strict=True)))


def _details(
    calls: pd.DataFrame, hits: pd.DataFrame, mask: bool, headers: dict[str, str]
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Per-agent call tables (one row per call, its deductions spelled out) and the flat hit table."""
    wanted = ["agent_id", "name", "call_id", "started_at", "score", "veto", "opening_ok", "closing_ok", "polite_count"]
    wanted += [c for c in headers if c.startswith("item:") or c == "call_categories"]
    base = calls[wanted].copy()
    base["veto"] = base["veto"].map({True: YES, False: NO})
    for flag in ("opening_ok", "closing_ok"):
        base[flag] = base[flag].map({1.0: YES, 0.0: NO}).fillna(NOT_CHECKED)
    if len(hits):
        h = hits.assign(
            category=hits["category"].map(CATEGORY_NAMES),
            time=pd.to_numeric(hits["start"], errors="coerce").round(1),
            text=_masked(hits["text"], mask),
        )
        when = h["time"].map(lambda t: "" if pd.isna(t) else f" {t:g}秒")
        quoted = h["text"].fillna("").map(lambda t: f"「{t}」" if t else "")
        note = h["detail"].fillna("")
        h["line"] = h["rule_id"] + " " + h["name"] + " -" + h["deduction"].map("{:g}".format) + when + quoted + note
        per_call = h.groupby("call_id", sort=False).agg(lost=("deduction", "sum"), n_hits=("seq", "size"))
        # "；".join per group through pandas runs Python once per call group (9 s for 300,000 calls);
        # one pass over the rows, which arrive ordered by call, takes well under a second.
        joined: dict[str, str] = {}
        for call_id, lines in groupby(zip(h["call_id"], h["line"], strict=True), key=itemgetter(0)):
            joined[call_id] = "；".join(line for _, line in lines)
        per_call["deductions"] = per_call.index.map(joined)
        base = base.join(per_call, on="call_id")
        info = base.set_index("call_id")[["agent_id", "name", "started_at"]].rename(columns={"name": "name_agent"})
        hit_table = h.join(info, on="call_id")[list(HIT_HEADERS)]
    else:
        base = base.assign(lost=0.0, n_hits=0, deductions="")
        hit_table = pd.DataFrame(columns=list(HIT_HEADERS))
    base["lost"] = base["lost"].fillna(0.0)
    base["n_hits"] = base["n_hits"].fillna(0).astype(int)
    base["deductions"] = base["deductions"].fillna("")
    details = {agent: frame[list(headers)] for agent, frame in base.groupby("agent_id", sort=True)}
    return details, hit_table
