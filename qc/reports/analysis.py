"""The monthly 质检分析报告 (seed 004: the 质检员 hands one in each month with the training plan): how the
month scored and how that compares with the months before, which violations grew, which agents
improved or slipped, which kinds of call went badly, how much people reviewed and how right the
rules were, and how far the recognised text can be trusted.

Every figure is an aggregate the database computes (``read_analysis``), over whatever run stored the
months: a 300,000-call month never comes back row by row. Building the report is pure
(``build_analysis``); charts are in qc.reports.charts and the page in qc.reports.analysis_write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Integer, Text, and_, case, cast, distinct, func, not_, select

from qc.errors import ReportError
from qc.reports.labels import CATEGORY_NAMES
from qc.review.precision import RulePrecision, rule_precision
from qc.store.db import Store
from qc.store.queries import load_month_review, previous_month, read_frame, read_sql
from qc.store.tables import agents, call_categories, calls, hits, results

# A turn is low-confidence when Whisper's average log-probability of its words is below -1.0: the
# threshold faster-whisper itself uses to call a decoding failed (log_prob_threshold).
LOW_LOGPROB = -1.0
BUCKET = 5  # score distribution in 5-point bins
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def months_back(month: str, count: int) -> tuple[str, ...]:
    """``count`` months ending with ``month``, oldest first."""
    out = [month]
    while len(out) < count:
        out.append(previous_month(out[-1]))
    return tuple(reversed(out))


@dataclass(frozen=True, slots=True)
class Recognition:
    """How far the month's text can be trusted: hits by status, recognised calls and their turns."""

    hits: int
    suspected: int
    rejected: int
    recognised_calls: int
    turns: int | None  # recognised turns with a confidence (None: this database cannot count them)
    low_turns: int | None
    roles_unsure: int  # calls whose speaker roles were unsure (mono recordings)
    truncated: int  # calls whose recording was cut short


@dataclass(frozen=True, slots=True)
class ReviewCoverage:
    calls_reviewed: int  # calls with a verdict or a missed finding
    verdicts: int
    false_hits: int
    manual_findings: int
    appeals: int
    overturned: int


@dataclass(frozen=True, slots=True)
class AnalysisData:
    """What the database says about ``month`` and the months before (raw aggregates)."""

    month: str
    months: tuple[str, ...]
    per_month: pd.DataFrame  # month, calls, average, passed, vetoes
    histogram: pd.DataFrame  # bucket, calls (this month)
    categories: pd.DataFrame  # month, category, n
    rules: pd.DataFrame  # month, rule_id, name, category, n, agents
    agents: pd.DataFrame  # month, agent_id, name, calls, average
    call_kinds: pd.DataFrame  # name, calls, average, passed, vetoes, hits
    coverage: ReviewCoverage
    precision: tuple[RulePrecision, ...]
    recognition: Recognition


@dataclass(frozen=True, slots=True)
class AnalysisReport:
    month: str
    pass_mark: float
    data: AnalysisData
    trend: pd.DataFrame  # month, calls, average, pass_rate, vetoes, per_call (violations)
    category_rates: pd.DataFrame  # rows: category label, columns: months; violations per 100 calls
    top_rules: pd.DataFrame  # rule_id, name, category, n, agents, previous, change
    improving: pd.DataFrame  # agent_id, name, calls, average, previous, change
    slipping: pd.DataFrame
    moved: tuple[int, int, int]  # agents compared, improved, slipped (by at least ``step`` points)
    call_kinds: pd.DataFrame  # name, calls, share, average, gap, pass_rate, vetoes, per_call
    min_calls: int = 5
    step: float = 3.0


# --- reading --------------------------------------------------------------------------------------


def read_analysis(store: Store, month: str, pass_mark: float, history: int = 6) -> AnalysisData:
    """The aggregates of ``month`` and the ``history - 1`` months before it.

    Three passes over the months' rows, each grouped in the database: calls per month and agent (the
    trend, the agents' comparison and the month's recognition flags come from it), the month's score
    histogram, and hits per month, rule and status (categories, top rules, suspected share). One pass
    over the hits rather than one per figure: on a 300,000-call month each pass costs seconds.
    """
    if not _MONTH.fullmatch(month):
        raise ReportError(f"{month!r} is not a month like 2026-11")
    window = months_back(month, history)
    per_agent = _per_agent(store, month, window, pass_mark)
    sums = per_agent.groupby("month")[["calls", "score_sum", "passed", "vetoes"]].sum().reset_index()
    per_month = sums.assign(average=sums["score_sum"] / sums["calls"])[
        ["month", "calls", "average", "passed", "vetoes"]
    ]
    # the bin a score falls in: PostgreSQL's CAST rounds (97.6 / 5 → 20), SQLite's truncates and has no floor()
    scaled = results.c.score / BUCKET
    bucket = func.floor(scaled) if store.engine.dialect.name == "postgresql" else cast(scaled, Integer)
    histogram = read_frame(
        store,
        select(bucket.label("bucket"), func.count().label("calls"))
        .select_from(calls.join(results, results.c.call_id == calls.c.call_id))
        .where(calls.c.month == month)
        .group_by(bucket),
    )
    by_rule = read_frame(
        store,
        select(
            calls.c.month, hits.c.rule_id, hits.c.category, hits.c.status, func.max(hits.c.name).label("name"),
            func.count().label("n"), func.count(distinct(calls.c.agent_id)).label("agents"),
        )
        .select_from(hits.join(calls, calls.c.call_id == hits.c.call_id))
        .where(calls.c.month.in_(window))
        .group_by(calls.c.month, hits.c.rule_id, hits.c.category, hits.c.status),
    )  # fmt: skip
    confirmed = by_rule[by_rule["status"] == "confirmed"]
    categories = confirmed.groupby(["month", "category"], as_index=False)["n"].sum()
    rules = confirmed[confirmed["month"].isin((previous_month(month), month))]
    rules = rules.groupby(["month", "rule_id"], as_index=False).agg(
        name=("name", "first"), category=("category", "first"), n=("n", "sum"), agents=("agents", "max")
    )
    names = read_frame(store, select(agents.c.agent_id, agents.c.agent_name))
    compared = per_agent[per_agent["month"].isin((previous_month(month), month))]
    compared = compared.assign(average=compared["score_sum"] / compared["calls"])[
        ["month", "agent_id", "calls", "average"]
    ]
    compared = compared.merge(names, on="agent_id", how="left").rename(columns={"agent_name": "name"})
    this_month = per_agent[per_agent["month"] == month]
    status = by_rule[by_rule["month"] == month].groupby("status")["n"].sum()
    turns, low = _turn_confidence(store, month)
    recognition = Recognition(
        int(status.sum()), int(status.get("suspected", 0)), int(status.get("rejected", 0)),
        int(this_month["recognised"].sum()), turns, low, int(this_month["roles_unsure"].sum()),
        int(this_month["truncated"].sum()),
    )  # fmt: skip
    return AnalysisData(
        month, window, per_month, histogram, categories, rules, compared, _call_kinds(store, month, pass_mark),
        _coverage(store, month), _precision(store, month), recognition,
    )  # fmt: skip


def _per_agent(store: Store, month: str, window: tuple[str, ...], pass_mark: float) -> pd.DataFrame:
    """Per month and agent: calls, sum of scores, passed, vetoes, and (counted for ``month`` only) calls
    recognised from a recording, with unsure roles, with a cut recording."""
    this = calls.c.month == month
    warned = cast(results.c.warnings, Text)  # the JSON list as text, on every database

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    query = (
        select(
            calls.c.month, calls.c.agent_id, func.count().label("calls"), func.sum(results.c.score).label("score_sum"),
            count(and_(results.c.score >= pass_mark, not_(results.c.veto))).label("passed"),
            count(results.c.veto).label("vetoes"),
            count(and_(this, calls.c.audio.isnot(None))).label("recognised"),
            count(and_(this, warned.like("%roles unsure%"))).label("roles_unsure"),
            count(and_(this, warned.like("%recording truncated%"))).label("truncated"),
        )
        .select_from(calls.join(results, results.c.call_id == calls.c.call_id))
        .where(calls.c.month.in_(window))
        .group_by(calls.c.month, calls.c.agent_id)
    )  # fmt: skip
    out = read_frame(store, query)
    for column in ("calls", "passed", "vetoes", "recognised", "roles_unsure", "truncated"):
        out[column] = out[column].fillna(0).astype(int)
    out["score_sum"] = out["score_sum"].astype(float)
    return out


def _call_kinds(store: Store, month: str, pass_mark: float) -> pd.DataFrame:
    """Per call category (查件, 投诉…): calls, average score, passed, vetoes, confirmed hits."""
    of_month = call_categories.join(calls, calls.c.call_id == call_categories.c.call_id)
    scored = read_frame(
        store,
        select(
            call_categories.c.name, func.count().label("calls"), func.avg(results.c.score).label("average"),
            func.sum(case((and_(results.c.score >= pass_mark, not_(results.c.veto)), 1), else_=0)).label("passed"),
            func.sum(case((results.c.veto, 1), else_=0)).label("vetoes"),
        )
        .select_from(of_month.join(results, results.c.call_id == calls.c.call_id))
        .where(calls.c.month == month)
        .group_by(call_categories.c.name),
    )  # fmt: skip
    if scored.empty:  # no categorised call this month: nothing to count hits for
        return scored.assign(hits=pd.Series(dtype=int))
    hit_counts = read_frame(
        store,
        select(call_categories.c.name, func.count().label("hits"))
        .select_from(of_month.join(hits, hits.c.call_id == calls.c.call_id))
        .where(calls.c.month == month, hits.c.status == "confirmed")
        .group_by(call_categories.c.name),
    )
    out = scored.merge(hit_counts, on="name", how="left")
    out["hits"] = out["hits"].fillna(0).astype(int)
    return out


def _coverage(store: Store, month: str) -> ReviewCoverage:
    review = load_month_review(store, month)
    per_call = review.per_call
    reviewed = int(((per_call["verdicts"] > 0) | (per_call["manual_findings"] > 0)).sum()) if len(per_call) else 0
    total = lambda column: int(per_call[column].sum()) if len(per_call) else 0  # noqa: E731
    return ReviewCoverage(
        reviewed,
        total("verdicts"),
        total("false_hits"),
        total("manual_findings"),
        total("appeals"),
        total("overturned"),
    )


def _precision(store: Store, month: str) -> tuple[RulePrecision, ...]:
    with store.engine.connect() as conn:
        return tuple(rule_precision(conn, month))


def _turn_confidence(store: Store, month: str) -> tuple[int | None, int | None]:
    """(recognised turns with a confidence, of which low) in the month, counted inside the database by
    its own JSON functions (SQLite, PostgreSQL); (None, None) on another database. ``month`` was checked
    against _MONTH, so it is safe in the SQL text."""
    dialect = store.engine.dialect.name
    if dialect == "sqlite":
        sql = (
            "SELECT count(*) AS turns, coalesce(sum(CASE WHEN CAST(json_extract(u.value, '$.avg_logprob') AS REAL) "
            f"< {LOW_LOGPROB} THEN 1 ELSE 0 END), 0) AS low FROM calls c, json_each(c.transcript, '$.utterances') u "
            f"WHERE c.month = '{month}' AND json_extract(u.value, '$.avg_logprob') IS NOT NULL"
        )
    elif dialect == "postgresql":
        sql = (
            "SELECT count(*) AS turns, coalesce(sum(CASE WHEN (u ->> 'avg_logprob')::float "
            f"< {LOW_LOGPROB} THEN 1 ELSE 0 END), 0) AS low FROM calls c, "
            "json_array_elements(c.transcript::json -> 'utterances') u "
            f"WHERE c.month = '{month}' AND (u ->> 'avg_logprob') IS NOT NULL"
        )
    else:
        return None, None
    row = read_sql(store, sql).iloc[0]
    return int(row["turns"]), int(row["low"])


# --- building -------------------------------------------------------------------------------------


def build_analysis(data: AnalysisData, pass_mark: float, min_calls: int = 5, step: float = 3.0) -> AnalysisReport:
    """The report's tables from the aggregates. An agent counts as improving or slipping when the
    average score moved by at least ``step`` points since last month, with ``min_calls`` calls or more
    in both months (a 2-call month says little)."""
    month, previous = data.month, previous_month(data.month)
    trend = pd.DataFrame({"month": list(data.months)}).merge(data.per_month, on="month", how="left")
    trend["calls"] = trend["calls"].fillna(0).astype(int)
    trend["pass_rate"] = (trend["passed"] / trend["calls"].where(trend["calls"] > 0)).astype(float)
    trend["vetoes"] = trend["vetoes"].fillna(0).astype(int)
    violations = data.categories.groupby("month")["n"].sum()
    trend["per_call"] = (trend["month"].map(violations).fillna(0) / trend["calls"].where(trend["calls"] > 0)).astype(
        float
    )
    trend["average"] = trend["average"].astype(float)
    trend = trend[["month", "calls", "average", "pass_rate", "vetoes", "per_call"]]
    first = int((trend["calls"] > 0).to_numpy().argmax())  # months before the database's first are not shown
    trend = trend.iloc[first:].reset_index(drop=True)
    shown = list(trend["month"])

    rates = data.categories.pivot_table(index="category", columns="month", values="n", aggfunc="sum", fill_value=0)
    rates = rates.reindex(columns=shown, fill_value=0)
    per_100 = rates.div(trend.set_index("month")["calls"].where(lambda c: c > 0), axis=1) * 100
    per_100.index = [CATEGORY_NAMES.get(c, c) for c in per_100.index]

    this = data.rules[data.rules["month"] == month].set_index("rule_id")
    before = data.rules[data.rules["month"] == previous].set_index("rule_id")["n"]
    top = this.sort_values(["n", "agents"], ascending=False).head(15).copy()
    top["previous"] = before.reindex(top.index).fillna(0).astype(int)
    top["change"] = top["n"] - top["previous"]
    top["category"] = [CATEGORY_NAMES.get(c, c) for c in top["category"]]
    top = top.reset_index()[["rule_id", "name", "category", "n", "agents", "previous", "change"]]

    now = data.agents[data.agents["month"] == month].set_index("agent_id")
    then = data.agents[data.agents["month"] == previous].set_index("agent_id")
    both = now[["name", "calls", "average"]].merge(
        then[["calls", "average"]], left_index=True, right_index=True, suffixes=("", "_previous")
    )
    both = both[(both["calls"] >= min_calls) & (both["calls_previous"] >= min_calls)].copy()
    both["average"] = both["average"].astype(float)
    both["previous"] = both["average_previous"].astype(float)
    both["change"] = both["average"] - both["previous"]
    columns = ["agent_id", "name", "calls", "average", "previous", "change"]
    table = both.reset_index()[columns]
    improving = table[table["change"] >= step].sort_values(["change", "agent_id"], ascending=[False, True]).head(10)
    slipping = table[table["change"] <= -step].sort_values(["change", "agent_id"], ascending=[True, True]).head(10)
    moved = (len(table), int((table["change"] >= step).sum()), int((table["change"] <= -step).sum()))

    kinds = data.call_kinds.copy()
    this_month = trend[trend["month"] == month].iloc[0]
    if len(kinds):
        kinds["average"] = kinds["average"].astype(float)
        kinds["share"] = kinds["calls"] / max(int(this_month["calls"]), 1)
        kinds["gap"] = kinds["average"] - float(this_month["average"])
        kinds["pass_rate"] = kinds["passed"] / kinds["calls"]
        kinds["per_call"] = kinds["hits"] / kinds["calls"]
        kinds = kinds.sort_values(["average", "name"]).reset_index(drop=True)
    kinds = kinds.reindex(columns=["name", "calls", "share", "average", "gap", "pass_rate", "vetoes", "per_call"])
    return AnalysisReport(
        month, pass_mark, data, trend, per_100, top, improving.reset_index(drop=True), slipping.reset_index(drop=True),
        moved, kinds, min_calls, step,
    )  # fmt: skip


def load_analysis(
    store: Store, month: str, pass_mark: float, history: int = 6, min_calls: int = 5, step: float = 3.0
) -> AnalysisReport:
    """Read and build; ReportError when ``month`` has no scored call."""
    data = read_analysis(store, month, pass_mark, history)
    if not (data.per_month["month"] == month).any():
        raise ReportError(f"no scored calls for {month} in {store.display()}; nothing written")
    return build_analysis(data, pass_mark, min_calls, step)


def describe(value: Any, digits: int = 1) -> str:
    """A number for a sentence ('—' for a gap)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)
