"""The monthly quality sheet (服务质量综合考评表) as tables: pure pandas, no I/O.

Columns are English snake_case until the very end; the writers (qc.reports.write) give them the
Chinese headers of qc.reports.labels (``SUMMARY_HEADERS``, ``DETAIL_HEADERS``, ``HIT_HEADERS``).

Scores are final (the stored result holds the call after review and appeals). Given the month's
review state (``qc.store.queries.load_month_review``), the summary and agent sheets also show what
reviewers did (复核率, 误命中, 漏检补录, 申诉, 申诉改判), and the report carries rule precision and the
adjustments decided this month for earlier, locked months — kept beside the month's own average,
never folded into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING

import pandas as pd

from qc.reports.labels import (
    ADJUSTMENT_CAUSES,
    ADJUSTMENT_HEADERS,
    CALL_CATEGORIES_HEADER,
    CALL_CATEGORY_HEADERS,
    CALL_COUNT,
    CATEGORY,
    CATEGORY_NAMES,
    DETAIL_HEADERS,
    DETAIL_REVIEW_HEADERS,
    FALSE_HIT_REASONS,
    HIT_COUNT,
    HIT_HEADERS,
    ITEM_DETAIL_HEADER,
    ITEM_SUMMARY_HEADER,
    NO,
    NO_CALL_CATEGORY,
    NOT_CHECKED,
    PRECISION_HEADERS,
    SCORE_BAND,
    SCORE_BANDS,
    SUMMARY_HEADERS,
    SUMMARY_REVIEW_HEADERS,
    YES,
)
from qc.review.precision import wilson
from qc.schema import CATEGORIES
from qc.text.mask import mask_text

if TYPE_CHECKING:
    from qc.store.queries import MonthReview

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
    # Rule precision from the month's verdicts (PRECISION_HEADERS order), lowest first; empty: no verdicts.
    # None (with ``adjustments``): built without the review state, so neither sheet is written.
    precision: pd.DataFrame | None = None
    # Points decided this month for calls of earlier, locked months (ADJUSTMENT_HEADERS order).
    adjustments: pd.DataFrame | None = None
    # (when, by whom) the month was locked: its review figures are those of that time.
    locked: tuple[str, str] | None = None


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
    review: MonthReview | None = None,
    rule_names: Mapping[str, str] | None = None,
) -> MonthlyReport:
    """Aggregate one month of stored results into the summary and per-agent tables.

    ``review`` (qc.store.queries.load_month_review): what reviewers did to the month's calls, shown
    per agent and per call, the rule precision table and the adjustments for earlier months; None
    leaves those out. ``rule_names``: rule id → name, for judged rules with no hit left this month.
    """
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
    if review is not None:
        calls = _with_call_review(calls, review.per_call)
        summary = _with_agent_review(summary, calls, review.adjustments)
        summary_headers = {**summary_headers, **SUMMARY_REVIEW_HEADERS}

    detail_headers = _with_items(DETAIL_HEADERS, "deductions", items, ITEM_DETAIL_HEADER)
    detail_headers = {**detail_headers, "call_categories": CALL_CATEGORIES_HEADER}
    if review is not None:
        detail_headers = {**detail_headers, **DETAIL_REVIEW_HEADERS}
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
        _by_call_category(calls), **_review_tables(review, hits, rule_names or {}),
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
    wanted += [c for c in headers if c.startswith("item:") or c in ("call_categories", *DETAIL_REVIEW_HEADERS)]
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


# --- review, appeals and adjustments (issue 11) ----------------------------------------------------


def _review_tables(review: MonthReview | None, hits: pd.DataFrame, rule_names: Mapping[str, str]) -> dict[str, object]:
    """The report's precision table, adjustment rows and lock (nothing when review is unknown)."""
    if review is None:
        return {}
    locked = (review.locked_at, review.locked_by or "") if review.locked_at else None
    return {
        "precision": _precision(review.verdict_counts, hits, rule_names),
        "adjustments": _adjustment_rows(review.adjustments),
        "locked": locked,
    }


def _with_call_review(calls: pd.DataFrame, per_call: pd.DataFrame) -> pd.DataFrame:
    """``calls`` (build_monthly's own copy, given columns in place rather than copied again: a
    300,000-call month) with each call's review counts (DETAIL_REVIEW_HEADERS); calls nobody touched
    keep them empty, so the few reviewed calls stand out on the agent's sheet."""
    aligned = per_call.set_index("call_id").reindex(calls["call_id"])
    for column in aligned.columns:
        calls[column] = aligned[column].to_numpy()
    touched = (aligned["verdicts"].fillna(0) + aligned["manual_findings"].fillna(0)).to_numpy() > 0
    calls["reviewed"] = pd.Series(touched, index=calls.index).map({True: YES, False: None})
    return calls


def _with_agent_review(summary: pd.DataFrame, calls: pd.DataFrame, adjustments: pd.DataFrame) -> pd.DataFrame:
    """The summary with review coverage, false hits, missed findings, appeals and overturns per
    agent, and the points adjusted this month for the agent's calls of earlier, locked months —
    kept apart from the month's own average, with the adjusted average beside it."""
    counted = ["false_hits", "manual_findings", "appeals", "overturned"]
    per_call = calls[["agent_id", *counted]].assign(touched=calls["reviewed"].notna())  # not a copy of every column
    grouped = per_call.groupby("agent_id")
    agent = summary["agent_id"]
    out = summary.copy()
    out["reviewed_calls"] = agent.map(grouped["touched"].sum()).fillna(0).astype(int)
    out["review_rate"] = (out["reviewed_calls"] / out["calls"]).round(4)
    for column in counted:
        out[column] = agent.map(grouped[column].sum()).fillna(0).astype(int)
    points = adjustments.groupby("agent_id")["points"].sum() if len(adjustments) else pd.Series(dtype=float)
    out["adjust_points"] = agent.map(points).fillna(0.0).astype(float).round(2)
    # as if the adjustment were one more deduction (or refund) spread over this month's calls
    out["adjusted_avg"] = (out["avg_score"] + out["adjust_points"] / out["calls"]).round(2)
    return out


def _precision(counts: pd.DataFrame, hits: pd.DataFrame, rule_names: Mapping[str, str]) -> pd.DataFrame:
    """Per rule judged: reviewed, true and false hits, precision with its 95 % Wilson interval and
    why the false ones were false; lowest precision first (as ``qc rules precision`` lists them)."""
    columns = list(PRECISION_HEADERS)
    if counts.empty:
        return pd.DataFrame(columns=columns)
    reasons = counts["reason"].where(counts["reason"].isin(list(FALSE_HIT_REASONS)), "other")
    counts = counts.assign(verdict=counts["verdict"].astype(bool), reason=reasons, n=counts["n"].astype(int))
    true = counts[counts["verdict"]].groupby("rule_id")["n"].sum()
    false = counts[~counts["verdict"]]
    why = false.pivot_table(index="rule_id", columns="reason", values="n", aggfunc="sum", fill_value=0)
    out = pd.DataFrame({"rule_id": sorted(set(counts["rule_id"]))})
    out["confirmed"] = out["rule_id"].map(true).fillna(0).astype(int)
    out["false"] = out["rule_id"].map(false.groupby("rule_id")["n"].sum()).fillna(0).astype(int)
    out["reviewed"] = out["confirmed"] + out["false"]
    out["precision"] = (out["confirmed"] / out["reviewed"]).round(4)
    bounds = [wilson(t, n) for t, n in zip(out["confirmed"], out["reviewed"], strict=True)]
    out["low"] = [round(low, 4) for low, _ in bounds]
    out["high"] = [round(high, 4) for _, high in bounds]
    for reason in FALSE_HIT_REASONS:
        out[f"reason_{reason}"] = out["rule_id"].map(why[reason]).fillna(0).astype(int) if reason in why else 0
    named = dict(rule_names)
    if len(hits):
        named.update(hits.drop_duplicates("rule_id").set_index("rule_id")["name"].dropna().to_dict())
    out["rule_name"] = out["rule_id"].map(named).fillna("")
    out = out.assign(_by=-out["reviewed"]).sort_values(["precision", "_by", "rule_id"], kind="stable")
    return out[columns].reset_index(drop=True)


def _adjustment_rows(adjustments: pd.DataFrame) -> pd.DataFrame:
    """The adjustments shown this month, causes in words (申诉改判, 复核改判)."""
    if adjustments.empty:
        return pd.DataFrame(columns=list(ADJUSTMENT_HEADERS))
    cause = adjustments["cause"].map(ADJUSTMENT_CAUSES).fillna(adjustments["cause"])
    return adjustments.assign(cause=cause, name=adjustments["name"].fillna(""))[list(ADJUSTMENT_HEADERS)]
