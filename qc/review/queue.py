"""The review queue: which calls inspectors listen to, in which order, and who listens to which.

``qc sample`` and the console's Queue page both read it. Per agent, a quota of calls (``per_agent``)
is taken in this order, each with its reason:

1. 疑似待确认 (``suspected``) — a hit the learned layer only suspects, not judged yet: it carries no
   deduction until a person confirms it, so the agent's score is not final until someone listens;
2. 致命项 (``veto``) — a vetoed call, whose score a wrong hit would ruin;
3. 角色存疑 (``roles``) — a mono call whose speakers are a guess;
4. 低分 (``low``) — a score under ``low_below`` (the scorecard's pass mark, 60 by default);
5. 投诉来电 (``complaint``) — a complaint call (call category 投诉) that scored at or above it;
6. 低分 again — the lowest of the remaining calls, if the quota still has room;
7. 随机抽样 (``random``) — a seeded random share of the rest, so good calls are heard too.

Complaints come after failing calls, as the issue orders them, but *before* the merely-lowest
passing calls: ranked purely by score they would never be reached, since every call has a score
and the low-score slots always fill. The first three reasons are things only a person can settle,
so (as vetoes and unsure roles did in the listening list) they may take the random share's slots;
the others never do.

Calls already fully reviewed — every hit has a verdict, or the assignment was marked done — are
not offered again unless ``include_reviewed``. The month is read in SQL — one pass over its calls
and results, and small reads for the few calls with unjudged suspected hits, complaints or reviews;
the per-agent quota and the seeded draw run vectorised over that (no Python loop per call), and the
draw reproduces the listening list of before the queue existed when none of the new reasons apply.

Each queued call has a ``rank``: the whole month's queue ordered by reason class first (every
agent's suspected calls, then vetoes, …), worst score first within a class — the order an
inspector works in. Assignment deals it round-robin over the inspectors, reason by reason in rank
order with the count running on, so each inspector's share of every reason, and of the whole, is
within one call of the others'.
Whether an assigned call is done is computed when it is read: once every hit has a verdict, it is
done at the time of its last verdict; ``mark_done`` records it explicitly (a call with no hits,
listened to and found clean).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Text, and_, case, cast, delete, exists, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from qc.errors import StoreError
from qc.reports.labels import (
    REASON_COMPLAINT,
    REASON_LOW,
    REASON_RANDOM,
    REASON_ROLES,
    REASON_SUSPECT,
    REASON_VETO,
)
from qc.review import audit
from qc.review.users import LEADS, REVIEWERS, ReviewError, load_user, require_role
from qc.store.db import Store, one_line
from qc.store.tables import agents, assignments, call_categories, calls, hits, results, users, verdicts

# Reason codes, in queue order; stored in assignments.reason (the label is for people).
REASONS = ("suspected", "veto", "roles", "low", "complaint", "random")
REASON_LABELS: dict[str, str] = {
    "suspected": REASON_SUSPECT,
    "veto": REASON_VETO,
    "roles": REASON_ROLES,
    "low": REASON_LOW,
    "complaint": REASON_COMPLAINT,
    "random": REASON_RANDOM,
}
COMPLAINT = "投诉"  # the call category (lexicons/categories.yaml) that makes a complaint call
LOW_BELOW = 60.0  # the scorecard's default pass mark

# Classes a call falls in (first that applies); below MUST_LISTEN a person has to settle something.
_SUSPECTED, _VETO, _ROLES, _LOW, _COMPLAINT, _FILL, _RANDOM = range(7)
MUST_LISTEN = _LOW
_CLASS_REASON = ("suspected", "veto", "roles", "low", "complaint", "low", "random")
STATUSES = ("pending", "done")
MAX_PER_PAGE = 500


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class QueuedCall:
    """One call in the queue. ``rank``: its place in the whole queue (reasons first, 1-based);
    ``position``: its place in its agent's list (1-based)."""

    rank: int
    position: int
    call_id: str
    agent_id: str
    name: str | None
    started_at: str | None
    month: str | None
    score: float
    veto: bool
    reason: str
    audio: str | None

    @property
    def label(self) -> str:
        return REASON_LABELS[self.reason]


@dataclass(frozen=True, slots=True)
class Assignment:
    """What one assignment run did: ``assigned`` call_id → inspector (new or, with reassign, moved),
    ``kept`` call_id → the inspector it already had."""

    month: str
    by: str
    inspectors: tuple[str, ...]
    assigned: dict[str, str]
    kept: dict[str, str]
    reassigned: int


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One row of the console's Queue page."""

    rank: int | None
    call_id: str
    month: str | None
    agent_id: str | None
    agent_name: str | None
    team: str | None
    started_at: str | None
    score: float | None
    veto: bool | None
    reason: str | None
    inspector: str
    assigned_by: str
    assigned_at: str
    done_at: str | None
    n_hits: int
    n_judged: int

    @property
    def status(self) -> str:
        return "done" if self.done_at else "pending"

    @property
    def label(self) -> str | None:
        return REASON_LABELS.get(self.reason or "", self.reason)


# --- the order -------------------------------------------------------------------------------------


def pick(frame: pd.DataFrame, per_agent: int, random_share: float = 0.4, seed: int = 0) -> pd.DataFrame:
    """Each agent's calls to listen to, from ``frame`` (one row per call: call_id, agent_id, score,
    veto, ``cls`` — the class above — and optionally ``unsure`` and ``started_at``), in
    listening-list order (agent by agent, reasons first, then the random share), with ``reason``
    (a code) and ``position``.

    The draw follows the listening list of before: per agent in agent order, a seeded
    ``random.sample`` of positions among the agent's remaining calls in call_id order — so the same
    seed over the same calls gives the same list. The strings are sorted once; every other sort is
    on integers (a 300,000-call month is sorted in well under a second).
    """
    if not 0 <= random_share <= 1:
        raise ReviewError(f"the random share must be between 0 and 1, got {random_share}")
    if per_agent < 1:
        raise ReviewError(f"calls per agent must be 1 or more, got {per_agent}")
    frame = frame.reset_index(drop=True)
    n = len(frame)
    if not n:
        return frame.assign(reason=pd.Series(dtype=object), position=pd.Series(dtype=int))
    n_random = int(round(per_agent * random_share))
    agent, agent_ids = pd.factorize(frame["agent_id"].to_numpy(dtype=object), sort=True)
    call_ids = frame["call_id"].to_numpy(dtype=object)
    call_rank = np.empty(n, dtype=np.intp)
    call_rank[sorted(range(n), key=call_ids.__getitem__)] = np.arange(n)
    cls = frame["cls"].to_numpy(dtype=np.intp)
    veto = frame["veto"].to_numpy(dtype=bool)
    unsure = frame["unsure"].to_numpy(dtype=bool) if "unsure" in frame else np.zeros(n, dtype=bool)
    score = frame["score"].to_numpy(dtype=float)

    sizes = np.bincount(agent, minlength=len(agent_ids))
    first = np.r_[0, np.cumsum(sizes)[:-1]]
    worst = np.lexsort((call_rank, score, ~unsure, ~veto, cls, agent))  # agent, then reasons, worst first
    pos = np.arange(n) - first[agent[worst]]
    must = np.bincount(agent, weights=cls < MUST_LISTEN, minlength=len(agent_ids)).astype(int)
    n_head = np.maximum(per_agent - n_random, np.minimum(must, per_agent))
    taken = pos < n_head[agent[worst]]
    head, head_pos = worst[taken], pos[taken]
    head_count = np.minimum(n_head, sizes)

    in_head = np.zeros(n, dtype=bool)
    in_head[head] = True
    rest = np.lexsort((call_rank, agent))
    rest = rest[~in_head[rest]]
    rng = random.Random(seed)
    chosen: list[int] = []
    if len(rest):
        rest_agent = agent[rest]
        starts = np.flatnonzero(np.r_[True, rest_agent[1:] != rest_agent[:-1]])
        ends = np.r_[starts[1:], len(rest)]
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):  # one step per agent, in agent order
            take = min(per_agent - int(head_count[rest_agent[lo]]), hi - lo)
            if take > 0:
                chosen.extend(int(rest[lo + i]) for i in rng.sample(range(hi - lo), take))
    started = frame["started_at"].to_numpy(dtype=object) if "started_at" in frame else None

    def month_order(i: int) -> tuple[Any, ...]:
        """The drawn calls in the month's order, as load_month lists them (started_at, call_id)."""
        if started is None:
            return (agent[i], i)
        when = started[i] if isinstance(started[i], str) else None  # None or NaN: first, as SQLite sorts it
        return (agent[i], when is not None, when or "", call_rank[i])

    tail = np.array(sorted(chosen, key=month_order), dtype=np.intp)
    rows = np.r_[head, tail]
    part = np.r_[np.zeros(len(head), dtype=np.intp), np.ones(len(tail), dtype=np.intp)]
    order = np.lexsort((np.r_[head_pos, np.arange(len(tail))], part, agent[rows]))
    rows, part = rows[order], part[order]
    reasons = np.array(_CLASS_REASON, dtype=object)[np.where(part == 1, _RANDOM, cls[rows])]
    group = agent[rows]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    position = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    return frame.iloc[rows].reset_index(drop=True).assign(reason=reasons, position=position + 1)


def classes(frame: pd.DataFrame, low_below: float = LOW_BELOW, complaint: str = COMPLAINT) -> pd.Series:
    """The class of each call (0 suspected … 5 the rest), from ``suspected`` and ``complaint``
    (bools) when present — else ``call_categories`` (names, as ``qc.store.load_month`` reads them)
    — ``veto``, ``score``, and ``unsure`` (bool) or else ``warnings``."""
    n = len(frame)
    none = pd.Series(False, index=frame.index)
    suspected = frame["suspected"].astype(bool) if "suspected" in frame else none
    veto = frame["veto"].astype(bool)
    if "unsure" in frame:
        unsure = frame["unsure"].astype(bool)
    else:
        unsure = pd.Series([roles_unsure(w) for w in frame.get("warnings", [[]] * n)], index=frame.index)
    low = frame["score"].astype(float) < low_below
    if "complaint" in frame:
        is_complaint = frame["complaint"].astype(bool)
    else:
        categories = frame.get("call_categories", [[]] * n)
        is_complaint = pd.Series(
            [isinstance(c, list | tuple) and complaint in c for c in categories], index=frame.index
        )
    cls = np.select(
        [suspected, veto, unsure, low, is_complaint], [_SUSPECTED, _VETO, _ROLES, _LOW, _COMPLAINT], default=_FILL
    )
    return pd.Series(cls, index=frame.index)


def roles_unsure(warnings: object) -> bool:
    """The engine's warning that a mono call's roles are a guess (qc.inspection.engine)."""
    return isinstance(warnings, list) and any(str(w).startswith("roles unsure") for w in warnings)


def _unjudged(call_id: Any) -> Any:
    """EXISTS a hit of the call that has no verdict."""
    h, v = hits.alias("qh"), verdicts.alias("qv")
    return exists().where(h.c.call_id == call_id, ~exists().where(v.c.call_id == h.c.call_id, v.c.hit_id == h.c.hit_id))


def _judged_any(call_id: Any) -> Any:
    v = verdicts.alias("qj")
    return exists().where(v.c.call_id == call_id)


def candidates(
    conn: Connection,
    month: str,
    agent: str | None = None,
    low_below: float = LOW_BELOW,
    complaint: str = COMPLAINT,
    include_reviewed: bool = False,
) -> pd.DataFrame:
    """Every call of the month that may be queued, with its class.

    One pass over the month's calls and results for what every call has (score, veto, unsure
    roles), and three small reads for what few calls have — unjudged suspected hits, the complaint
    category, reviews — rather than a CASE of subqueries per call: on SQLite that takes half the
    time for a 300,000-call month. Nothing is sorted in SQL (SQLite's sort beside the join took
    longer than the whole read).
    """
    unsure = cast(results.c.warnings, Text).like('%"roles unsure%')
    in_month = [calls.c.month == month] + ([calls.c.agent_id == agent] if agent is not None else [])
    query = (
        select(
            calls.c.call_id, calls.c.agent_id, calls.c.started_at, results.c.score, results.c.veto,
            case((unsure, 1), else_=0),
        )
        .join(results, results.c.call_id == calls.c.call_id)
        .where(*in_month)
    )  # fmt: skip
    frame = pd.DataFrame(
        _fetch_all(conn, query), columns=["call_id", "agent_id", "started_at", "score", "veto", "unsure"]
    )
    v = verdicts.alias("cv")
    suspected = _ids(
        conn,
        select(hits.c.call_id)
        .join(calls, calls.c.call_id == hits.c.call_id)
        .where(
            hits.c.status == "suspected",
            ~exists().where(v.c.call_id == hits.c.call_id, v.c.hit_id == hits.c.hit_id),
            *in_month,
        ),
    )
    complaints = _ids(
        conn,
        select(call_categories.c.call_id)
        .join(calls, calls.c.call_id == call_categories.c.call_id)
        .where(call_categories.c.name == complaint, *in_month),
    )
    if not include_reviewed:
        reviewed = _reviewed_ids(conn, month, agent)
        frame = frame[~frame["call_id"].isin(reviewed)].reset_index(drop=True)
    frame["veto"] = frame["veto"].astype(bool)
    frame["unsure"] = frame["unsure"].astype(bool)
    frame["suspected"] = frame["call_id"].isin(suspected)
    frame["complaint"] = frame["call_id"].isin(complaints)
    return frame.assign(cls=classes(frame, low_below, complaint))


def _fetch_all(conn: Connection, query: Any) -> list[tuple[Any, ...]]:
    """All rows as plain tuples through the driver's cursor, inside ``conn``'s transaction: for a
    300,000-row month SQLAlchemy's per-row processing costs a third of the read, and pandas builds
    a frame from tuples ten times faster than from Rows. (The values are bound as escaped literals,
    as qc.store.queries does.)"""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _ids(conn: Connection, query: Any) -> set[str]:
    return {c for (c,) in conn.execute(query)}


def _reviewed_ids(conn: Connection, month: str, agent: str | None) -> set[str]:
    """Calls of the month fully reviewed: a verdict on every hit (and at least one), or marked done.
    Grouped by call before the hits are looked at: once per call, not once per verdict."""
    in_month = [calls.c.month == month] + ([calls.c.agent_id == agent] if agent is not None else [])
    judged = (
        select(verdicts.c.call_id)
        .join(calls, calls.c.call_id == verdicts.c.call_id)
        .where(*in_month)
        .group_by(verdicts.c.call_id)
        .having(~_unjudged(verdicts.c.call_id))
    )
    marked = select(assignments.c.call_id).where(assignments.c.done_at.is_not(None), assignments.c.month == month)
    if agent is not None:
        marked = marked.join(calls, calls.c.call_id == assignments.c.call_id).where(calls.c.agent_id == agent)
    return _ids(conn, judged) | _ids(conn, marked)


def build_queue(
    conn_or_store: Connection | Store,
    month: str,
    per_agent: int = 5,
    random_share: float = 0.4,
    seed: int = 0,
    agent: str | None = None,
    low_below: float = LOW_BELOW,
    complaint: str = COMPLAINT,
    include_reviewed: bool = False,
) -> tuple[QueuedCall, ...]:
    """The month's queue in listening-list order (agent by agent), each call with its rank in the
    whole queue (reason first: every agent's suspected calls, then vetoes, …, worst score first)."""
    with _reading(conn_or_store) as conn:
        frame = candidates(conn, month, agent, low_below, complaint, include_reviewed)
        picked = pick(frame, per_agent, random_share, seed)
        if picked.empty:
            return ()
        ids: list[str] = picked["call_id"].tolist()
        agent_ids: list[str] = picked["agent_id"].tolist()
        names = _agent_names(conn, sorted(set(agent_ids)))
        audio = _audio(conn, ids, month, agent, whole_month=len(ids) * 10 > len(frame))
    n = len(ids)
    veto = picked["veto"].to_numpy(dtype=bool)
    score = picked["score"].to_numpy(dtype=float)
    reasons: list[str] = picked["reason"].tolist()
    in_class = np.where(np.array(reasons, dtype=object) == "random", _RANDOM, picked["cls"].to_numpy(dtype=np.intp))
    by_id = np.empty(n, dtype=np.intp)
    by_id[sorted(range(n), key=ids.__getitem__)] = np.arange(n)
    agent_code = pd.factorize(np.array(agent_ids, dtype=object), sort=True)[0]
    rank = np.empty(n, dtype=np.intp)
    rank[np.lexsort((by_id, agent_code, score, ~veto, in_class))] = np.arange(1, n + 1)
    started = [s if isinstance(s, str) else None for s in picked["started_at"].tolist()]
    return tuple(
        QueuedCall(r, p, c, a, names.get(a), when, month, sc, v, why, audio.get(c))
        for r, p, c, a, when, sc, v, why in zip(
            rank.tolist(), picked["position"].tolist(), ids, agent_ids, started, score.tolist(), veto.tolist(), reasons,
            strict=True,
        )
    )  # fmt: skip


def _agent_names(conn: Connection, agent_ids: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for chunk in (agent_ids[i : i + 500] for i in range(0, len(agent_ids), 500)):
        query = select(agents.c.agent_id, agents.c.agent_name).where(agents.c.agent_id.in_(chunk))
        out.update({a: n for a, n in conn.execute(query)})
    return out


def _audio(conn: Connection, call_ids: list[str], month: str, agent: str | None, whole_month: bool) -> dict[str, Any]:
    """The recordings of the picked calls: looked up by id when they are a few of the month, read
    with the month when they are most of it (hundreds of lookups cost more than one pass)."""
    if whole_month:
        query = select(calls.c.call_id, calls.c.audio).where(calls.c.month == month, calls.c.audio.is_not(None))
        if agent is not None:
            query = query.where(calls.c.agent_id == agent)
        return dict(_fetch_all(conn, query))
    out: dict[str, Any] = {}
    for chunk in (call_ids[i : i + 500] for i in range(0, len(call_ids), 500)):
        query = select(calls.c.call_id, calls.c.audio).where(calls.c.call_id.in_(chunk))
        out.update({c: a for c, a in conn.execute(query)})
    return out


@contextmanager
def _reading(conn_or_store: Connection | Store) -> Iterator[Connection]:
    """A connection from a Store (opened and closed here), or the caller's own connection; a
    database error becomes one StoreError line."""
    try:
        if isinstance(conn_or_store, Store):
            with conn_or_store.engine.connect() as conn:
                yield conn
        else:
            yield conn_or_store
    except SQLAlchemyError as err:
        raise StoreError(f"cannot read the review queue: {one_line(err)}") from None


# --- assignment -----------------------------------------------------------------------------------


def all_inspectors(conn: Connection) -> list[str]:
    """Every user whose role is inspector, by name (``qc sample --assign-all``)."""
    return [n for (n,) in conn.execute(select(users.c.name).where(users.c.role == "inspector").order_by(users.c.name))]


def assign(
    store: Store,
    month: str,
    queue: Sequence[QueuedCall],
    by: str,
    inspectors: Sequence[str] | None = None,
    reassign: bool = False,
    settings: dict[str, Any] | None = None,
) -> Assignment:
    """Write the queue into ``assignments``, dealt round-robin over ``inspectors`` (None: every
    inspector) in rank order, rank = queue position; one audit entry for the run.

    Refused (ReviewError): ``by`` is not a QA lead or admin; an unknown assignee or one who may not
    review; no inspector at all. A call already assigned keeps its inspector unless ``reassign``.
    ``settings``: how the queue was built (per agent, seed…), recorded in the audit entry.
    """
    with store.transaction() as conn:
        lead = load_user(conn, by)
        require_role(lead, LEADS, "assigning the review queue")
        names = list(dict.fromkeys(inspectors)) if inspectors is not None else all_inspectors(conn)
        if not names:
            raise ReviewError("no inspector to assign to (add one with `qc user add NAME --role inspector`)")
        for name in names:
            require_role(load_user(conn, name), REVIEWERS, "being assigned calls to review")
        # dealt reason by reason (in rank order within each), the count running on across reasons:
        # each inspector's share of every reason, and of the whole, is within one call of the others'
        ranked = sorted(queue, key=lambda q: (REASONS.index(q.reason), q.rank))
        existing: dict[str, str] = {}
        ids = [q.call_id for q in ranked]
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            query = select(assignments.c.call_id, assignments.c.inspector).where(assignments.c.call_id.in_(chunk))
            existing.update({c: i for c, i in conn.execute(query)})
        now = _now()
        dealt: dict[str, str] = {}
        kept: dict[str, str] = {}
        rows = []
        for q in ranked:
            if q.call_id in existing and not reassign:
                kept[q.call_id] = existing[q.call_id]
                continue
            inspector = names[len(dealt) % len(names)]
            dealt[q.call_id] = inspector
            rows.append(
                {"call_id": q.call_id, "month": q.month or month, "inspector": inspector, "reason": q.reason,
                 "rank": q.rank, "assigned_by": by, "at": now, "done_at": None}
            )  # fmt: skip
        moved = [c for c in dealt if c in existing]
        for chunk in (moved[i : i + 500] for i in range(0, len(moved), 500)):
            conn.execute(delete(assignments).where(assignments.c.call_id.in_(chunk)))
        if rows:
            conn.execute(assignments.insert(), rows)
        dealt_to = Counter(dealt.values())
        per_inspector = {n: dealt_to[n] for n in names}
        audit.append(
            conn, now, by, "queue assign", month,
            {"inspectors": names, "assigned": per_inspector, "reassigned": len(moved), "kept": len(kept),
             "reassign": reassign, **(settings or {})},
        )  # fmt: skip
    return Assignment(month, by, tuple(names), dealt, kept, len(moved))


def mark_done(conn: Connection, call_id: str, by: str | None = None) -> str:
    """Record that the assigned call has been reviewed (inside the caller's transaction); returns
    its done time. Refused while a hit of the call has no verdict, or when it is not in the queue.
    Needed only for a call with no hits (listened to, found clean): one whose hits all have verdicts
    reads as done without it. ``by``: who says so (a reviewer), audited."""
    row = conn.execute(select(assignments).where(assignments.c.call_id == call_id)).mappings().first()
    if row is None:
        raise ReviewError(f"call {call_id!r} is not in the review queue (assign it with `qc sample --assign`)")
    h, v = hits.alias("mh"), verdicts.alias("mv")
    open_hits = conn.execute(
        select(func.count())
        .select_from(h)
        .where(h.c.call_id == call_id, ~exists().where(v.c.call_id == h.c.call_id, v.c.hit_id == h.c.hit_id))
    ).scalar_one()
    if open_hits:
        raise ReviewError(f"call {call_id} still has {open_hits} hit(s) without a verdict; judge them first")
    if row["done_at"]:
        return str(row["done_at"])
    now = _now()
    if by is not None:
        require_role(load_user(conn, by), REVIEWERS, "marking a review done")
        audit.append(conn, now, by, "queue done", call_id, {"inspector": row["inspector"]})
    conn.execute(update(assignments).where(assignments.c.call_id == call_id).values(done_at=now))
    return now


# --- the console's Queue page ----------------------------------------------------------------------


def _done_at(a: Any) -> Any:
    """When the assigned call was done: marked, else (every hit judged) its last verdict's time."""
    v = verdicts.alias("qd")
    last = select(func.max(v.c.at)).where(v.c.call_id == a.c.call_id).scalar_subquery()
    return func.coalesce(a.c.done_at, case((~_unjudged(a.c.call_id), last), else_=None))


def _is_done(a: Any) -> Any:
    """Done, as a condition cheap on pending calls: most have no verdict and stop at the first probe."""
    return or_(a.c.done_at.is_not(None), and_(_judged_any(a.c.call_id), ~_unjudged(a.c.call_id)))


def queue_page(
    conn_or_store: Connection | Store,
    inspector: str | None = None,
    month: str | None = None,
    agent: str | None = None,
    team: str | None = None,
    rule: str | None = None,
    category: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[QueueRow], int]:
    """One page of assigned calls, by rank, and how many match in all. ``rule``: calls with a hit
    of that rule; ``category``: calls of that call category (投诉, 查件…); ``status``: pending|done."""
    if status is not None and status not in STATUSES:
        raise ReviewError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ReviewError(f"page must be 1 or more and per_page 1–{MAX_PER_PAGE}, got {page} and {per_page}")
    a = assignments
    where: list[Any] = []
    if inspector is not None:
        where.append(a.c.inspector == inspector)
    if month is not None:
        where.append(a.c.month == month)
    if agent is not None or team is not None:  # from the agent's (team's) calls to their assignments, not back
        of_calls = select(calls.c.call_id)
        if team is not None:
            of_calls = of_calls.join(agents, agents.c.agent_id == calls.c.agent_id).where(agents.c.team == team)
        if agent is not None:
            of_calls = of_calls.where(calls.c.agent_id == agent)
        if month is not None:
            of_calls = of_calls.where(calls.c.month == month)
        where.append(a.c.call_id.in_(of_calls))
    if rule is not None:
        where.append(exists().where(hits.c.call_id == a.c.call_id, hits.c.rule_id == rule))
    if category is not None:
        where.append(exists().where(call_categories.c.call_id == a.c.call_id, call_categories.c.name == category))
    if status is not None:
        where.append(_is_done(a) if status == "done" else ~_is_done(a))

    keys = (
        select(a.c.call_id).where(*where).order_by(a.c.rank, a.c.call_id).limit(per_page).offset((page - 1) * per_page)
    )
    with _reading(conn_or_store) as conn:
        total = int(conn.execute(select(func.count()).select_from(a).where(*where)).scalar_one())
        page_ids = [c for (c,) in conn.execute(keys)]
        rows = _page_rows(conn, page_ids)
    return [rows[c] for c in page_ids if c in rows], total


def _page_rows(conn: Connection, call_ids: list[str]) -> dict[str, QueueRow]:
    """The page's rows in full. Apart from the filtering and paging, so that skipping to a deep page
    walks the rank index only, without joining or judging the calls it skips."""
    if not call_ids:
        return {}
    a = assignments
    query = (
        select(
            a.c.rank, a.c.call_id, a.c.month, calls.c.agent_id, agents.c.agent_name, agents.c.team,
            calls.c.started_at, results.c.score, results.c.veto, a.c.reason, a.c.inspector, a.c.assigned_by,
            a.c.at, _done_at(a).label("done_at"),
        )
        .select_from(
            a.outerjoin(calls, calls.c.call_id == a.c.call_id)
            .outerjoin(agents, agents.c.agent_id == calls.c.agent_id)
            .outerjoin(results, results.c.call_id == a.c.call_id)
        )
        .where(a.c.call_id.in_(call_ids))
    )  # fmt: skip
    counts = _hit_counts(conn, call_ids)
    return {
        r.call_id: QueueRow(
            r.rank, r.call_id, r.month, r.agent_id, r.agent_name, r.team, r.started_at,
            None if r.score is None else float(r.score), None if r.veto is None else bool(r.veto), r.reason,
            r.inspector, r.assigned_by, r.at, r.done_at, *counts.get(r.call_id, (0, 0)),
        )
        for r in conn.execute(query)
    }  # fmt: skip


def _hit_counts(conn: Connection, call_ids: list[str]) -> dict[str, tuple[int, int]]:
    """(hits, hits with a verdict) of each call on the page."""
    if not call_ids:
        return {}
    v = verdicts.alias("cv")
    judged = exists().where(v.c.call_id == hits.c.call_id, v.c.hit_id == hits.c.hit_id)
    query = (
        select(hits.c.call_id, func.count(), func.sum(case((judged, 1), else_=0)))
        .where(hits.c.call_id.in_(call_ids))
        .group_by(hits.c.call_id)
    )
    return {c: (int(n), int(j or 0)) for c, n, j in conn.execute(query)}
