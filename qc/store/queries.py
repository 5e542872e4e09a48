"""Reads for reports and exports: a month of results as DataFrames, and hits with their calls.

Kept apart from ``db`` (which writes): reports only ever read.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.exc import SQLAlchemyError

from qc.errors import StoreError
from qc.store.db import Store, one_line
from qc.store.tables import (
    adjustments,
    agents,
    appeals,
    call_categories,
    calls,
    hits,
    manual_findings,
    month_locks,
    results,
    score_versions,
    verdicts,
)


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def load_month(  # noqa: ANN201
    store: Store,
    month: str,
    agent: str | None = None,
    call_category: str | None = None,
    names_as_called: bool = False,
):
    """(calls, hits) of one month as pandas DataFrames; calls carry their result columns, their
    考评项 subtotals (``item_scores``) and their categories (``call_categories``, a list of names).
    ``call_category``: only calls of that category (投诉, 查件…). ``names_as_called``: each call's
    agent name as stored with the call rather than the agent's current one, so a locked month's
    sheet does not change when a later call brings a new spelling of the name.

    Read through the driver's cursor rather than SQLAlchemy's row processing: for a 300,000-call
    month that is most of the report's reading time.
    """
    query = (
        select(
            calls.c.call_id,
            calls.c.agent_id,
            calls.c.started_at,
            calls.c.audio,
            (func.coalesce(calls.c.agent_name, agents.c.agent_name) if names_as_called else agents.c.agent_name).label(
                "name"
            ),
            results.c.ruleset,
            results.c.score,
            results.c.veto,
            results.c.polite_count,
            results.c.checks,
            results.c.warnings,
            results.c.item_scores,
        )
        .join(results, results.c.call_id == calls.c.call_id)
        .join(agents, agents.c.agent_id == calls.c.agent_id)
        .where(calls.c.month == month)
        .order_by(calls.c.agent_id, calls.c.started_at, calls.c.call_id)
    )
    hit_query = (
        select(
            hits.c.call_id,
            hits.c.seq,
            hits.c.rule_id,
            hits.c.category,
            hits.c.name,
            hits.c.start,
            hits.c.text,
            hits.c.suggestion,
            hits.c.deduction,
            hits.c.detail,
            hits.c.status,
        )
        .join(calls, calls.c.call_id == hits.c.call_id)
        .where(calls.c.month == month)
        .order_by(hits.c.call_id, hits.c.seq)
    )
    if agent is not None:
        query = query.where(calls.c.agent_id == agent)
        hit_query = hit_query.where(calls.c.agent_id == agent)
    try:
        call_df = read_frame(store, query)
        hit_df = read_frame(store, hit_query)
    except (SQLAlchemyError, store.engine.dialect.dbapi.Error) as err:  # type: ignore[union-attr]
        raise StoreError(f"cannot read {store.display()}: {one_line(err)}") from None
    call_df["veto"] = call_df["veto"].astype(bool)
    call_df["checks"] = [json.loads(c) if isinstance(c, str) else c for c in call_df["checks"]]
    call_df["warnings"] = [json.loads(w) if isinstance(w, str) else (w or []) for w in call_df["warnings"]]
    import pandas as pd

    call_df["item_scores"] = [json.loads(i) if isinstance(i, str) else (i or {}) for i in call_df["item_scores"]]
    call_df["call_categories"] = _categories_of(store, month, agent, call_df["call_id"])
    if call_category is not None:
        wanted = [call_category in cats for cats in call_df["call_categories"]]
        call_df = call_df.loc[pd.Series(wanted, index=call_df.index, dtype=bool)].reset_index(drop=True)
        hit_df = hit_df[hit_df["call_id"].isin(set(call_df["call_id"]))].reset_index(drop=True)
    return call_df, hit_df


def _categories_of(store: Store, month: str, agent: str | None, call_ids: Any) -> list[list[str]]:
    """Each call's categories (names, in name order), in the order of ``call_ids``."""
    query = (
        select(call_categories.c.call_id, call_categories.c.name)
        .join(calls, calls.c.call_id == call_categories.c.call_id)
        .where(calls.c.month == month)
    )
    if agent is not None:
        query = query.where(calls.c.agent_id == agent)
    by_call: dict[str, list[str]] = {}
    for call_id, name in read_frame(store, query).itertuples(index=False):
        by_call.setdefault(call_id, []).append(name)
    return [by_call.get(c, []) for c in call_ids]


def read_frame(store: Store, query: Any) -> Any:
    """The rows of a SQLAlchemy Core ``query`` as a DataFrame (see ``read_sql``)."""
    return read_sql(store, str(query.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True})))


def read_sql(store: Store, sql: str) -> Any:
    """The rows of a plain SQL text as a DataFrame, through the driver's cursor: SQLAlchemy's row
    processing costs more than the query on a month's rows. A database error is one StoreError line."""
    import pandas as pd

    try:
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql)
            columns = [d[0] for d in cursor.description]
            return pd.DataFrame(cursor.fetchall(), columns=columns)
        finally:
            raw.close()
    except (SQLAlchemyError, store.engine.dialect.dbapi.Error) as err:  # type: ignore[union-attr]
        raise StoreError(f"cannot read {store.display()}: {one_line(err)}") from None


def load_hits(
    store: Store,
    category: str | None = None,
    rule: str | None = None,
    agent: str | None = None,
    month: str | None = None,
    limit: int | None = None,
    call_category: str | None = None,
    *,
    week: tuple[str, str] | None = None,
    rules: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Stored hits with their call (and transcript), newest calls first, filtered as asked
    (``call_category``: only calls of that category, 投诉, 查件…; ``week``: calls started on or after
    its first date and before its second, 'YYYY-MM-DD'; ``rules``: only these rule ids, e.g. the
    rules of one 考评项)."""
    query = (
        select(hits, calls.c.agent_id, calls.c.started_at, calls.c.audio, calls.c.transcript, agents.c.agent_name)
        .join(calls, calls.c.call_id == hits.c.call_id)
        .join(agents, agents.c.agent_id == calls.c.agent_id)
    )
    query = _hit_filters(query, category, rule, agent, month, call_category, week, rules)
    query = query.order_by(calls.c.started_at.desc(), hits.c.call_id, hits.c.seq)
    if limit:
        query = query.limit(limit)
    try:
        with store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
    except SQLAlchemyError as err:
        raise StoreError(f"cannot read {store.display()}: {one_line(err)}") from None


def count_hits(
    store: Store,
    category: str | None = None,
    rule: str | None = None,
    agent: str | None = None,
    month: str | None = None,
    call_category: str | None = None,
    *,
    week: tuple[str, str] | None = None,
    rules: Collection[str] | None = None,
) -> int:
    """How many stored hits ``load_hits`` would return without a limit."""
    query = select(func.count()).select_from(hits.join(calls, calls.c.call_id == hits.c.call_id))
    query = _hit_filters(query, category, rule, agent, month, call_category, week, rules)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)
    except SQLAlchemyError as err:
        raise StoreError(f"cannot read {store.display()}: {one_line(err)}") from None


def _hit_filters(
    query: Any,
    category: str | None,
    rule: str | None,
    agent: str | None,
    month: str | None,
    call_category: str | None,
    week: tuple[str, str] | None,
    rules: Collection[str] | None,
) -> Any:
    if category:
        query = query.where(hits.c.category == category)
    if rule:
        query = query.where(hits.c.rule_id == rule)
    if rules is not None:
        query = query.where(hits.c.rule_id.in_(sorted(rules)))
    if agent:
        query = query.where(calls.c.agent_id == agent)
    if month:
        query = query.where(calls.c.month == month)
    if week:  # ISO text compares as dates: '2026-11-02T09:15:00+08:00' >= '2026-11-02'
        query = query.where(calls.c.started_at >= week[0], calls.c.started_at < week[1])
    if call_category:
        of_category = select(call_categories.c.call_id).where(call_categories.c.name == call_category)
        query = query.where(hits.c.call_id.in_(of_category))
    return query


# --- what people did to a month's calls (issue 11) ------------------------------------------------
# Each read is aggregated in the database (per call, per rule): a 300,000-call month has a few
# thousand reviewed calls, and only those come back. A locked month is read as it stood at its lock
# time (``as_of``), so its sheet made a week later is the same.

_OVERTURNED = ("accepted", "partial")


@dataclass(frozen=True, slots=True)
class MonthReview:
    """The review state of one month's calls, as of ``locked_at`` when the month is locked."""

    month: str
    locked_at: str | None
    locked_by: str | None
    per_call: Any  # call_id, verdicts, false_hits, manual_findings, appeals, overturned: calls with any
    verdict_counts: Any  # rule_id, verdict, reason, n
    adjustments: Any  # the adjustments shown in this month (ADJUSTMENT_HEADERS columns, plus id)


def month_lock(store: Store, month: str) -> tuple[str, str] | None:
    """(when, by whom) ``month`` was locked, or None."""
    query = select(month_locks.c.at, month_locks.c.by_user).where(month_locks.c.month == month)
    found = read_frame(store, query)
    return None if found.empty else (str(found.iloc[0]["at"]), str(found.iloc[0]["by_user"]))


def load_month_review(
    store: Store, month: str, agent: str | None = None, call_category: str | None = None
) -> MonthReview:
    """Verdicts, missed findings and appeals per call, verdicts per rule, and the adjustments shown
    in ``month``; counted as they stood at the lock time when ``month`` is locked."""
    lock = month_lock(store, month)
    as_of = lock[0] if lock else None
    return MonthReview(
        month,
        as_of,
        lock[1] if lock else None,
        _per_call_review(store, month, agent, call_category, as_of),
        read_frame(store, _verdict_counts(month, agent, call_category, as_of)),
        read_frame(store, _adjustments(month, agent, call_category, as_of)),
    )


def scores_as_of(store: Store, month: str, as_of: str, agent: str | None = None) -> dict[str, float]:
    """call_id → the score it had at ``as_of``, for ``month``'s calls whose score changed since (a
    later verdict, missed finding or appeal wrote a new score version): a locked month compares with
    the previous month as it stood at the lock, not as it stands now."""
    version, earlier, later = score_versions, score_versions.alias("earlier"), score_versions.alias("later")
    last_before = (
        select(func.max(earlier.c.n)).where(earlier.c.call_id == version.c.call_id, earlier.c.at <= as_of)
    ).scalar_subquery()
    changed = select(later.c.call_id).where(later.c.call_id == version.c.call_id, later.c.at > as_of).exists()
    query = (
        select(version.c.call_id, version.c.score)
        .join(calls, calls.c.call_id == version.c.call_id)
        .where(calls.c.month == month, version.c.n == last_before, changed)
    )
    if agent is not None:
        query = query.where(calls.c.agent_id == agent)
    return {call_id: float(score) for call_id, score in read_frame(store, query).itertuples(index=False)}


def _of_month(query: Any, month: str, agent: str | None, call_category: str | None) -> Any:
    """``query`` (joined to ``calls``) narrowed to the month's calls the report covers."""
    query = query.where(calls.c.month == month)
    if agent is not None:
        query = query.where(calls.c.agent_id == agent)
    if call_category is not None:
        of_category = select(call_categories.c.call_id).where(call_categories.c.name == call_category)
        query = query.where(calls.c.call_id.in_(of_category))
    return query


def _per_call_review(store: Store, month: str, agent: str | None, call_category: str | None, as_of: str | None) -> Any:
    """One row per call that has a verdict, a missed finding or an appeal (zeros where it has none)."""
    import pandas as pd

    judged = select(
        verdicts.c.call_id,
        func.count().label("verdicts"),
        func.sum(case((verdicts.c.verdict == false(), 1), else_=0)).label("false_hits"),
    ).join(calls, calls.c.call_id == verdicts.c.call_id)
    missed = select(manual_findings.c.call_id, func.count().label("manual_findings")).join(
        calls, calls.c.call_id == manual_findings.c.call_id
    )
    overturned = appeals.c.state.in_(_OVERTURNED)
    if as_of is not None:
        judged = judged.where(verdicts.c.at <= as_of)
        missed = missed.where(manual_findings.c.at <= as_of)
        overturned = and_(overturned, appeals.c.decided_at <= as_of)
    appealed = select(
        appeals.c.call_id,
        func.count().label("appeals"),
        func.sum(case((overturned, 1), else_=0)).label("overturned"),
    ).join(calls, calls.c.call_id == appeals.c.call_id)
    if as_of is not None:
        appealed = appealed.where(appeals.c.opened_at <= as_of)
    frames = [
        read_frame(store, _of_month(q, month, agent, call_category).group_by(table.c.call_id)).set_index("call_id")
        for q, table in ((judged, verdicts), (missed, manual_findings), (appealed, appeals))
    ]
    out = pd.concat(frames, axis=1).fillna(0)
    columns = ["verdicts", "false_hits", "manual_findings", "appeals", "overturned"]
    return out[columns].astype(int).rename_axis("call_id").reset_index()


def _verdict_counts(month: str, agent: str | None, call_category: str | None, as_of: str | None) -> Any:
    """Verdicts on the month's calls counted per rule, verdict and reason (rule precision's input)."""
    query = select(verdicts.c.rule_id, verdicts.c.verdict, verdicts.c.reason, func.count().label("n")).join(
        calls, calls.c.call_id == verdicts.c.call_id
    )
    if as_of is not None:
        query = query.where(verdicts.c.at <= as_of)
    query = _of_month(query, month, agent, call_category)
    return query.group_by(verdicts.c.rule_id, verdicts.c.verdict, verdicts.c.reason)


def _adjustments(month: str, agent: str | None, call_category: str | None, as_of: str | None) -> Any:
    """The adjustments shown in ``month`` (for calls of earlier, locked months), with the agent's
    name as stored with the call."""
    adj = adjustments
    query = (
        select(
            adj.c.id,
            adj.c.call_id,
            adj.c.agent_id,
            func.coalesce(calls.c.agent_name, agents.c.agent_name).label("name"),
            adj.c.call_month,
            adj.c.points,
            adj.c.cause,
            adj.c.appeal_id,
            adj.c.comment,
            adj.c.by_user,
            adj.c.at,
        )
        .outerjoin(calls, calls.c.call_id == adj.c.call_id)
        .outerjoin(agents, agents.c.agent_id == adj.c.agent_id)
        .where(adj.c.month == month)
        .order_by(adj.c.agent_id, adj.c.at, adj.c.id)
    )
    if agent is not None:
        query = query.where(adj.c.agent_id == agent)
    if call_category is not None:
        query = query.where(
            adj.c.call_id.in_(select(call_categories.c.call_id).where(call_categories.c.name == call_category))
        )
    if as_of is not None:
        query = query.where(adj.c.at <= as_of)
    return query
