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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
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
    NO_POINTS,
    NO_TEAM,
    NOT_CHECKED,
    PRECISION_HEADERS,
    SCORE_BAND,
    SCORE_BANDS,
    SUMMARY_HEADERS,
    SUMMARY_REVIEW_HEADERS,
    SUSPECTED,
    TEAM_HEADERS,
    TREND_HEADER,
    YES,
)
from qc.review.precision import wilson
from qc.schema import CATEGORIES
from qc.store.history import months_before
from qc.text.mask import mask_text

if TYPE_CHECKING:
    from qc.store.queries import MonthReview

__all__ = ["CATEGORY_NAMES", "MonthlyReport", "SheetFacts", "build_monthly"]

# How many earlier months the 汇总 sheet shows beside the month's own average.
TREND_MONTHS = 3


@dataclass(frozen=True, slots=True)
class SheetFacts:
    """What the 考评表's title block says that the month's rows do not (qc.reports.monthly_facts
    makes it from the lexicon and the store)."""

    centre: str = ""
    scoring: str = ""  # how a call's score is made, in words, from the scorecard
    inspectors: tuple[str, ...] = ()  # users who judged the month's calls; none: 自动质检
    made_on: date | None = None
    base: float = 100.0
    veto_score: float = 0.0
    item_of_category: Mapping[str, str] = field(default_factory=dict)
    item_of_rule: Mapping[str, str] = field(default_factory=dict)


class AgentDetails(Mapping[str, pd.DataFrame]):
    """agent_id → the agent's calls (one row per call, DETAIL_HEADERS order), as slices of one table
    sorted by agent: made when asked for, not 2,000 frames up front. ``table`` holds every agent's
    rows with an ``agent_id`` column first, for writers that go through them all at once."""

    def __init__(self, table: pd.DataFrame, columns: list[str]) -> None:
        self.table = table
        self.columns = columns
        agents = table["agent_id"].to_numpy()
        self._spans: dict[str, tuple[int, int]] = {}
        start = 0
        for agent, n in zip(*_runs(agents), strict=True):
            self._spans[agent] = (start, start + n)
            start += n

    def span(self, agent_id: str) -> tuple[int, int]:
        """The agent's rows in ``table``: [start, end)."""
        return self._spans[agent_id]

    def __getitem__(self, agent_id: str) -> pd.DataFrame:
        start, end = self._spans[agent_id]
        return self.table.iloc[start:end][self.columns]

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)


def _runs(values: object) -> tuple[list[str], list[int]]:
    """Consecutive equal values of a sorted array: (the values, how many of each)."""
    keys, counts = [], []
    for key, group in groupby(values):  # type: ignore[call-overload]
        keys.append(str(key))
        counts.append(sum(1 for _ in group))
    return keys, counts


@dataclass(frozen=True, slots=True)
class MonthlyReport:
    month: str
    summary: pd.DataFrame  # one row per agent, English columns (SUMMARY_HEADERS order)
    details: Mapping[str, pd.DataFrame]  # agent_id → one row per call (DETAIL_HEADERS order): AgentDetails
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
    # One row per team (TEAM_HEADERS order), ranked by average score.
    teams: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TEAM_HEADERS)))
    trend_months: tuple[str, ...] = ()  # the earlier months whose averages the summary shows
    pass_mark: float = 60.0
    rulesets: tuple[str, ...] = ()
    facts: SheetFacts = field(default_factory=SheetFacts)


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
    *,
    teams: Mapping[str, str] | None = None,
    history: pd.DataFrame | None = None,
    facts: SheetFacts | None = None,
    per_agent: bool = True,
) -> MonthlyReport:
    """Aggregate one month of stored results into the summary and per-agent tables.

    ``review`` (qc.store.queries.load_month_review): what reviewers did to the month's calls, shown
    per agent and per call, the rule precision table and the adjustments for earlier months; None
    leaves those out. ``rule_names``: rule id → name, for judged rules with no hit left this month.
    ``teams``: agent_id → team (班组). ``history``: earlier months' averages (agent_id, month, calls,
    avg_score: qc.store.history.load_month_averages), whatever run stored them; without it the
    trend is taken from ``previous`` (last month only). ``facts``: the title block's words.
    ``per_agent`` False leaves the per-agent deduction lines unwritten (the CSV export has no agent
    sheets; its per-hit file is the hit table).
    """
    facts = facts or SheetFacts()
    calls = calls.copy()
    calls["name"] = calls["name"].fillna("")
    calls["opening_ok"] = [_check_ok(c, "opening") for c in calls["checks"]]
    calls["closing_ok"] = [_check_ok(c, "closing") for c in calls["checks"]]
    calls["passed"] = (calls["score"] >= pass_mark) & ~calls["veto"]
    team = calls["agent_id"].map(teams or {}).astype(object)
    calls["team"] = team.where(team.notna(), NO_TEAM)
    calls["standard"] = _standard_calls(calls, hits)
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
            "team": grouped["team"].last(),
            "calls": grouped.size(),
            "avg_score": grouped["score"].mean().round(2),
            "min_score": grouped["score"].min(),
            "pass_rate": grouped["passed"].mean().round(4),
            "veto_calls": grouped["veto"].sum().astype(int),
            "opening_rate": grouped["opening_ok"].mean().round(4),
            "closing_rate": grouped["closing_ok"].mean().round(4),
            "polite_per_call": grouped["polite_count"].mean().round(2),
            "standard_rate": grouped["standard"].mean().round(4),
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
    if history is None and previous is not None and len(previous):
        history = previous.assign(month=_previous(month)).groupby(["agent_id", "month"], as_index=False)["score"]
        history = history.agg(calls="size", avg_score="mean")
    trend_months = tuple(months_before(month, TREND_MONTHS))
    averages = _trend(history, trend_months)
    for m in trend_months:
        summary[f"trend:{m}"] = averages[m].reindex(summary.index) if m in averages else float("nan")
    summary["prev_avg_score"] = summary[f"trend:{trend_months[-1]}"]
    summary["change"] = (summary["avg_score"] - summary["prev_avg_score"]).round(2)
    summary = summary.reset_index().sort_values(["rank", "agent_id"])
    summary_headers = _with_items(SUMMARY_HEADERS, "standard_rate", items, ITEM_SUMMARY_HEADER)
    summary_headers = _with_trend(summary_headers, trend_months)
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
    details, hit_table = _details(calls, hits, mask, detail_headers, facts, per_agent)
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
        teams=_team_table(calls), trend_months=trend_months, pass_mark=pass_mark,
        rulesets=tuple(sorted({str(r) for r in calls.get("ruleset", ()) if r})), facts=facts,
    )  # fmt: skip


def _previous(month: str) -> str:
    return months_before(month, 1)[0]


def _trend(history: pd.DataFrame | None, months: tuple[str, ...]) -> dict[str, pd.Series]:
    """month → each agent's average that month (agent_id index), rounded to 2 places."""
    if history is None or history.empty:
        return {}
    return {
        m: part.set_index("agent_id")["avg_score"].astype(float).round(2)
        for m, part in history[history["month"].isin(months)].groupby("month")
    }


def _with_trend(headers: dict[str, str], months: tuple[str, ...]) -> dict[str, str]:
    """``headers`` with an average column per earlier month before 上月平均分 (the last of them is
    上月平均分 itself, so it is not repeated)."""
    out: dict[str, str] = {}
    for key, value in headers.items():
        if key == "prev_avg_score":
            out.update({f"trend:{m}": TREND_HEADER.format(month=m) for m in months[:-1]})
        out[key] = value
    return out


def _standard_calls(calls: pd.DataFrame, hits: pd.DataFrame) -> pd.Series:
    """1.0 for a call served by the book: opening passed, closing passed (or not checkable), and no
    confirmed 服务禁语 or 不规范用语; else 0.0 (the 规范服务率's numerator)."""
    ok = (calls["opening_ok"] == 1.0) & (calls["closing_ok"] != 0.0)
    if len(hits):
        bad = hits["category"].isin(("banned", "nonstandard"))
        if "status" in hits:
            bad &= hits["status"] == "confirmed"
        ok &= ~calls["call_id"].isin(set(hits.loc[bad, "call_id"]))
    return ok.astype(float)


def _team_table(calls: pd.DataFrame) -> pd.DataFrame:
    """One row per team: agents, calls, average score (over calls), pass rate, vetoes, rank."""
    grouped = calls.groupby("team", sort=True)
    out = pd.DataFrame(
        {
            "agents": grouped["agent_id"].nunique(),
            "calls": grouped.size(),
            "avg_score": grouped["score"].mean().round(2),
            "pass_rate": grouped["passed"].mean().round(4),
            "veto_calls": grouped["veto"].sum().astype(int),
            "standard_rate": grouped["standard"].mean().round(4),
        }
    )
    out["rank"] = out["avg_score"].rank(ascending=False, method="min").astype(int)
    out = out.reset_index().sort_values(["rank", "team"])
    return out[list(TEAM_HEADERS)].reset_index(drop=True)


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
    calls: pd.DataFrame,
    hits: pd.DataFrame,
    mask: bool,
    headers: dict[str, str],
    facts: SheetFacts | None = None,
    with_lines: bool = True,
) -> tuple[AgentDetails, pd.DataFrame]:
    """Per-agent call tables (one row per call, its deductions one per line) and the flat hit table."""
    facts = facts or SheetFacts()
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
            deduction=pd.to_numeric(hits["deduction"], errors="coerce").fillna(0.0).round(2) + 0.0,  # no -0
        )
        h["line"] = _deduction_lines(h, hits, facts) if with_lines else ""
        per_call = h.groupby("call_id", sort=False).agg(lost=("deduction", "sum"), n_hits=("seq", "size"))
        # "\n".join per group through pandas runs Python once per call group (9 s for 300,000 calls);
        # one pass over the rows, which arrive ordered by call, takes well under a second.
        joined: dict[str, str] = {}
        for call_id, lines in groupby(zip(h["call_id"], h["line"], strict=True), key=itemgetter(0)):
            if with_lines:
                joined[call_id] = "\n".join(line for _, line in lines)
        per_call["deductions"] = per_call.index.map(joined)
        base = base.join(per_call, on="call_id")
        info = base.set_index("call_id")[["agent_id", "name", "started_at"]].rename(columns={"name": "name_agent"})
        hit_table = h.join(info, on="call_id")[list(HIT_HEADERS)]
    else:
        base = base.assign(lost=0.0, n_hits=0, deductions="")
        hit_table = pd.DataFrame(columns=list(HIT_HEADERS))
    base["lost"] = base["lost"].fillna(0.0).round(2) + 0.0
    base["n_hits"] = base["n_hits"].fillna(0).astype(int)
    deductions = base["deductions"].astype(object)
    base["deductions"] = deductions.where(deductions.notna(), "")
    base["started_at"] = started_at_dates(base["started_at"])
    base = base.sort_values("agent_id", kind="stable").reset_index(drop=True)
    details = AgentDetails(base[["agent_id", *(c for c in headers if c != "agent_id")]], list(headers))
    return details, hit_table


def started_at_dates(values: pd.Series) -> pd.Series:
    """Stored start times ('2026-11-03T09:15:00+08:00') as naive datetimes of the call centre's own
    clock (the offset is dropped, not converted: a sheet shows the time the agent saw); NaT when absent."""
    text = values.astype("string").str.slice(0, 19)
    return pd.to_datetime(text, format="%Y-%m-%dT%H:%M:%S", errors="coerce")


def _deduction_lines(h: pd.DataFrame, raw: pd.DataFrame, facts: SheetFacts) -> list[str]:
    """One line per hit: "01:23 BAN-002 让客户找领导/服务态度「你找领导去」−20分" (mm:ss into the call;
    a hit that cost nothing says why instead of printing −0)."""
    by_rule, by_category = facts.item_of_rule, facts.item_of_category
    status = raw["status"].tolist() if "status" in raw else ["confirmed"] * len(raw)
    out = []
    for t, rule_id, name, cat, raw_cat, text, points, state, note in zip(
        h["time"].tolist(), h["rule_id"].tolist(), h["name"].tolist(), h["category"].tolist(),
        raw["category"].tolist(), h["text"].tolist(), h["deduction"].tolist(), status, h["detail"].tolist(),
        strict=True,
    ):  # fmt: skip
        when = "--:--" if t != t or t is None else f"{int(t) // 60:02d}:{int(t) % 60:02d}"
        item = by_rule.get(rule_id) or by_category.get(raw_cat) or cat
        quoted = f"「{text}」" if isinstance(text, str) and text else ""
        cost = f"−{points:g}分" if points > 0 else SUSPECTED if state == "suspected" else NO_POINTS
        extra = f"（{note}）" if isinstance(note, str) and note else ""
        out.append(f"{when} {rule_id} {name}/{item}{quoted} {cost}{extra}")
    return out


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
