"""Reads for reports and exports: a month of results as DataFrames, and hits with their calls.

Kept apart from ``db`` (which writes): reports only ever read.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from qc.errors import StoreError
from qc.store.db import Store, one_line
from qc.store.tables import agents, call_categories, calls, hits, results


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def load_month(store: Store, month: str, agent: str | None = None, call_category: str | None = None):  # noqa: ANN201
    """(calls, hits) of one month as pandas DataFrames; calls carry their result columns, their
    考评项 subtotals (``item_scores``) and their categories (``call_categories``, a list of names).
    ``call_category``: only calls of that category (投诉, 查件…).

    Read through the driver's cursor rather than SQLAlchemy's row processing: for a 300,000-call
    month that is most of the report's reading time.
    """
    query = (
        select(
            calls.c.call_id,
            calls.c.agent_id,
            calls.c.started_at,
            calls.c.audio,
            agents.c.agent_name.label("name"),
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
        call_df = _frame(store, query)
        hit_df = _frame(store, hit_query)
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
    for call_id, name in _frame(store, query).itertuples(index=False):
        by_call.setdefault(call_id, []).append(name)
    return [by_call.get(c, []) for c in call_ids]


def _frame(store: Store, query: Any) -> Any:
    import pandas as pd

    sql = str(query.compile(dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}))
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=columns)
    finally:
        raw.close()


def load_hits(
    store: Store,
    category: str | None = None,
    rule: str | None = None,
    agent: str | None = None,
    month: str | None = None,
    limit: int | None = None,
    call_category: str | None = None,
) -> list[dict[str, Any]]:
    """Stored hits with their call (and transcript), newest calls first, filtered as asked
    (``call_category``: only calls of that category, 投诉, 查件…)."""
    query = (
        select(hits, calls.c.agent_id, calls.c.started_at, calls.c.audio, calls.c.transcript, agents.c.agent_name)
        .join(calls, calls.c.call_id == hits.c.call_id)
        .join(agents, agents.c.agent_id == calls.c.agent_id)
    )
    if category:
        query = query.where(hits.c.category == category)
    if rule:
        query = query.where(hits.c.rule_id == rule)
    if agent:
        query = query.where(calls.c.agent_id == agent)
    if month:
        query = query.where(calls.c.month == month)
    if call_category:
        of_category = select(call_categories.c.call_id).where(call_categories.c.name == call_category)
        query = query.where(hits.c.call_id.in_(of_category))
    query = query.order_by(calls.c.started_at.desc(), hits.c.call_id, hits.c.seq)
    if limit:
        query = query.limit(limit)
    try:
        with store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
    except SQLAlchemyError as err:
        raise StoreError(f"cannot read {store.display()}: {one_line(err)}") from None
