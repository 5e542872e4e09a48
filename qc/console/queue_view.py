"""The queue page's reads: the calls an inspector should review next, filtered and paged.

Two sources, one page:

- **mine** — the signed-in inspector's assigned calls (the ``assignments`` table, filled by
  ``qc sample --assign`` or the lead's 分配 button through ``qc.review.queue``), in queue rank order,
  read by ``qc.review.queue.queue_page``. The console adds an (inspector, month, rank) index, so a
  page costs about the same on a 300,000-call month as on a small one.
- **all** — every call of the month in the sampling order, computed here on the fly: calls with an
  unjudged suspected hit first, then vetoed calls, calls below the pass mark (lowest first),
  complaints (call category 投诉), then the rest in a fixed shuffled order. This reads the whole month
  (a lead browsing, or an inspector before anything is assigned); the assigned queue is the fast path.

Both give the same row dicts, so the page renders either. The "all" source fetches one row more
than a page to know whether there is a next page, instead of counting the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.engine import Connection

from qc.review import queue as review_queue
from qc.store.tables import agents, assignments, call_categories, calls, hits, results, verdicts

COMPLAINT = review_queue.COMPLAINT
PAGE_SIZE = 50
# Above this many calls in a month, the "all" source needs an agent or team filter: ordering the whole
# month takes seconds there (7 s for 300,000 calls on 2 cores), and such a month is worked by queue.
ALL_LIMIT = 20_000
REASON_LABELS = review_queue.REASON_LABELS


@dataclass(frozen=True)
class QueueFilter:
    month: str
    agent: str | None = None
    team: str | None = None
    team_agents: tuple[str, ...] | None = None  # the team, resolved to its 工号 (the "all" source)
    rule: str | None = None
    category: str | None = None  # the call category (投诉, 查件…)
    status: str = "pending"  # pending | done | all


@dataclass
class QueuePage:
    rows: list[dict[str, Any]]
    page: int
    has_next: bool
    source: str  # mine | all
    total: int | None = None
    too_big: bool = False  # the whole month was asked for and is larger than ALL_LIMIT


def has_assignments(conn: Connection, inspector: str, month: str) -> bool:
    query = select(assignments.c.call_id).where(assignments.c.inspector == inspector, assignments.c.month == month)
    return conn.execute(query.limit(1)).first() is not None


def mine_page(conn: Connection, inspector: str, f: QueueFilter, page: int, size: int = PAGE_SIZE) -> QueuePage:
    status = None if f.status == "all" else f.status
    rows, total = review_queue.queue_page(
        conn, inspector, f.month, f.agent, f.team, f.rule, f.category, status, page, size
    )
    extra = _extra(conn, [r.call_id for r in rows])
    out = [
        {
            "rank": r.rank, "call_id": r.call_id, "agent_id": r.agent_id, "agent_name": r.agent_name, "team": r.team,
            "started_at": r.started_at, "score": r.score, "veto": bool(r.veto), "reason": r.reason,
            "reason_label": r.label or "", "n_hits": r.n_hits, "n_judged": r.n_judged, "done": r.status == "done",
            **extra.get(r.call_id, {}),
        }
        for r in rows
    ]  # fmt: skip
    return QueuePage(out, page, page * size < total, "mine", total)


# --- every call of the month, in the sampling order -------------------------------------------------


def month_is_big(conn: Connection, month: str) -> bool:
    """More than ALL_LIMIT calls in the month (counted no further than that, on the month index)."""
    first = select(calls.c.call_id).where(calls.c.month == month).limit(ALL_LIMIT + 1).subquery()
    return int(conn.execute(select(func.count()).select_from(first)).scalar_one()) > ALL_LIMIT


def _unjudged(status: str | None = None) -> Any:
    h, v = hits.alias("uh"), verdicts.alias("uv")
    where = [h.c.call_id == calls.c.call_id, ~exists().where(v.c.call_id == h.c.call_id, v.c.hit_id == h.c.hit_id)]
    if status is not None:
        where.append(h.c.status == status)
    return exists().where(*where)


def _done() -> Any:
    """Reviewed: some verdict and no hit left unjudged, or its assignment marked done."""
    judged = exists().where(verdicts.c.call_id == calls.c.call_id)
    marked = exists().where(assignments.c.call_id == calls.c.call_id, assignments.c.done_at.is_not(None))
    return or_(and_(judged, ~_unjudged()), marked)


def _tier(pass_mark: float) -> Any:
    complaint = exists().where(call_categories.c.call_id == calls.c.call_id, call_categories.c.name == COMPLAINT)
    return case(
        (_unjudged("suspected"), 0),
        (results.c.veto.is_(True), 1),
        (results.c.score < pass_mark, 2),
        (complaint, 3),
        else_=4,
    )


_TIER_REASON = {0: "suspected", 1: "veto", 2: "low", 3: "complaint", 4: "random"}


def _shuffled(conn: Connection) -> Any:
    """A fixed order that spreads the rest of the month over agents and days: the call id read from its
    end (call ids end in a running number, so neighbours in this order are far apart in time)."""
    if conn.dialect.name == "postgresql":
        return func.reverse(calls.c.call_id)
    tail = [func.substr(calls.c.call_id, -i, 1) for i in range(1, 5)]
    return tail[0].concat(tail[1]).concat(tail[2]).concat(tail[3])


def all_page(conn: Connection, f: QueueFilter, pass_mark: float, page: int, size: int = PAGE_SIZE) -> QueuePage:
    """The month's calls in the sampling order (see the module docstring); reads the whole month, so
    a month of more than ``ALL_LIMIT`` calls needs an agent or team filter."""
    if not f.agent and f.team_agents is None and month_is_big(conn, f.month):
        return QueuePage([], page, False, "all", too_big=True)
    query = (
        select(
            calls.c.call_id,
            _tier(pass_mark).label("tier"),
            results.c.score.label("score"),
            _shuffled(conn).label("shuffle"),
        )
        .join(results, results.c.call_id == calls.c.call_id)
        .where(calls.c.month == f.month)
    )
    if f.agent:
        query = query.where(calls.c.agent_id == f.agent)
    if f.team_agents is not None:
        query = query.where(calls.c.agent_id.in_(f.team_agents or ("",)))
    if f.rule:
        query = query.where(exists().where(hits.c.call_id == calls.c.call_id, hits.c.rule_id == f.rule))
    if f.category:
        query = query.where(
            exists().where(call_categories.c.call_id == calls.c.call_id, call_categories.c.name == f.category)
        )
    if f.status == "pending":
        query = query.where(~_done())
    elif f.status == "done":
        query = query.where(_done())
    month = query.subquery()
    query = (
        select(month.c.call_id, month.c.tier)
        .order_by(
            month.c.tier,
            case((month.c.tier < 4, month.c.score), else_=literal(0.0)),
            case((month.c.tier == 4, month.c.shuffle), else_=literal("")),
            month.c.call_id,
        )
        .limit(size + 1)
        .offset((page - 1) * size)
    )
    picked = [(c, _TIER_REASON[t]) for c, t in conn.execute(query)]
    ids = [c for c, _ in picked[:size]]
    info = _info(conn, ids)
    extra = _extra(conn, ids)
    rows = []
    for call_id, reason in picked[:size]:
        if call_id in info:
            rows.append({**info[call_id], "rank": None, "reason": reason, "reason_label": REASON_LABELS[reason],
                         **extra.get(call_id, {})})  # fmt: skip
    return QueuePage(rows, page, len(picked) > size, "all")


def _info(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """The call's own columns, its hits judged and not, and whether it is done (one page of calls)."""
    if not ids:
        return {}
    query = (
        select(
            calls.c.call_id,
            calls.c.agent_id,
            agents.c.agent_name,
            agents.c.team,
            calls.c.started_at,
            results.c.score,
            results.c.veto,
        )  # fmt: skip
        .join(results, results.c.call_id == calls.c.call_id)
        .outerjoin(agents, agents.c.agent_id == calls.c.agent_id)
        .where(calls.c.call_id.in_(ids))
    )
    judged = exists().where(verdicts.c.call_id == hits.c.call_id, verdicts.c.hit_id == hits.c.hit_id)
    counts = {
        c: (int(n), int(j or 0))
        for c, n, j in conn.execute(
            select(hits.c.call_id, func.count(), func.sum(case((judged, 1), else_=0)))
            .where(hits.c.call_id.in_(ids))
            .group_by(hits.c.call_id)
        )
    }
    marked = {c for (c,) in conn.execute(select(assignments.c.call_id).where(
        assignments.c.call_id.in_(ids), assignments.c.done_at.is_not(None)))}  # fmt: skip
    out = {}
    for r in conn.execute(query).mappings():
        n, j = counts.get(r["call_id"], (0, 0))
        out[r["call_id"]] = {**dict(r), "veto": bool(r["veto"]), "n_hits": n, "n_judged": j,
                             "done": r["call_id"] in marked or (j > 0 and j == n)}  # fmt: skip
    return out


def _extra(conn: Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    """What the queue shows beyond the assignment: suspected hits still unjudged, call categories."""
    if not ids:
        return {}
    judged = exists().where(verdicts.c.call_id == hits.c.call_id, verdicts.c.hit_id == hits.c.hit_id)
    suspected = dict(
        conn.execute(
            select(hits.c.call_id, func.count())
            .where(hits.c.call_id.in_(ids), hits.c.status == "suspected", ~judged)
            .group_by(hits.c.call_id)
        ).all()
    )
    kinds: dict[str, list[str]] = {}
    for call_id, name in conn.execute(
        select(call_categories.c.call_id, call_categories.c.name)
        .where(call_categories.c.call_id.in_(ids))
        .order_by(call_categories.c.name)
    ):
        kinds.setdefault(call_id, []).append(name)
    return {c: {"suspected": int(suspected.get(c, 0)), "categories": kinds.get(c, [])} for c in ids}
