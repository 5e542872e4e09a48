"""The queue page: the calls the signed-in inspector should review next (``queue_view``), with filters
by month, agent, team, rule, call category (投诉, 查件…) and status, paged; the same as JSON for
scripts; and the lead's actions on it — deal the month's queue to the inspectors (``qc.review.queue``,
as ``qc sample --assign`` does) and mark a reviewed call done.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from qc.console import queue_view
from qc.console.access import require, require_call, team_agent_ids
from qc.console.errors import RefusedError
from qc.console.render import page
from qc.console.state import ConsoleState, console, current_user
from qc.review import queue as review_queue
from qc.review.users import LEADS, REVIEWERS, User
from qc.store.tables import calls

router = APIRouter()
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
QueryStr = Annotated[str | None, Query(max_length=128)]
PageNo = Annotated[int, Query(alias="page", ge=1, le=100_000)]


def latest_month(conn: Connection) -> str | None:
    """The newest month with calls (read from the end of the month index)."""
    return conn.execute(select(func.max(calls.c.month))).scalar()


def _blank(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def _queue(state: ConsoleState, user: User, params: dict[str, Any], page_no: int) -> dict[str, Any]:
    require(user, REVIEWERS, "the review queue")
    month, status, scope = params["month"], params["status"], params["scope"]
    if month and not _MONTH.fullmatch(month):
        raise RefusedError(400, f"{month!r} is not a month like 2026-11")
    if status not in ("pending", "done", "all"):
        raise RefusedError(400, "status is pending, done or all")
    with state.store.engine.connect() as conn:
        month = month or latest_month(conn)
        if month is None:
            return {"month": None, "queue": None, "filters": {}, "scope": "all", "assigned": False}
        team = params["team"]
        members = tuple(team_agent_ids(conn, team)) if team else None
        f = queue_view.QueueFilter(month, params["agent"], team, members, params["rule"], params["category"], status)
        assigned = queue_view.has_assignments(conn, user.name, month)
        scope = scope if scope in ("mine", "all") else ("mine" if assigned else "all")
        if scope == "mine":
            result = queue_view.mine_page(conn, user.name, f, page_no)
        else:
            result = queue_view.all_page(conn, f, state.lexicon.scorecard.pass_mark, page_no)
    filters = {k: params[k] or "" for k in ("agent", "team", "rule", "category")} | {"month": month, "status": status}
    return {"month": month, "queue": result, "filters": filters, "scope": scope, "assigned": assigned,
            "is_lead": user.role in LEADS}  # fmt: skip


def _params(
    month: QueryStr = None,
    agent: QueryStr = None,
    team: QueryStr = None,
    rule: QueryStr = None,
    category: QueryStr = None,
    status: str = "pending",
    scope: QueryStr = None,
) -> dict[str, Any]:
    return {"month": _blank(month), "agent": _blank(agent), "team": _blank(team), "rule": _blank(rule),
            "category": _blank(category), "status": status, "scope": scope}  # fmt: skip


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    params: Annotated[dict[str, Any], Depends(_params)],
    page_no: PageNo = 1,
) -> Response:
    context = _queue(console(request), user, params, page_no)
    return page(request, user, "queue.html", page_size=queue_view.PAGE_SIZE, all_limit=queue_view.ALL_LIMIT, **context)


@router.get("/api/queue")
def queue_api(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    params: Annotated[dict[str, Any], Depends(_params)],
    page_no: PageNo = 1,
) -> dict[str, Any]:
    context = _queue(console(request), user, params, page_no)
    result = context["queue"]
    return {
        "month": context["month"], "scope": context["scope"], "page": result.page if result else 1,
        "has_next": bool(result and result.has_next), "total": result.total if result else 0,
        "too_big": bool(result and result.too_big),
        "calls": result.rows if result else [],
    }  # fmt: skip


class AssignIn(BaseModel):
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    per_agent: int = Field(default=5, ge=1, le=1000)
    random_share: float = Field(default=0.4, ge=0, le=1)
    seed: int = 0
    inspectors: list[str] | None = None  # None: every inspector
    reassign: bool = False


@router.post("/api/queue/assign")
def assign(request: Request, body: AssignIn, user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
    """Build the month's queue (per agent, as ``qc sample``) and deal it round-robin to the inspectors."""
    require(user, LEADS, "assigning the review queue")
    state = console(request)
    queued = review_queue.build_queue(
        state.store, body.month, body.per_agent, body.random_share, body.seed,
        low_below=state.lexicon.scorecard.pass_mark,
    )  # fmt: skip
    settings = {"per_agent": body.per_agent, "random_share": body.random_share, "seed": body.seed}
    done = review_queue.assign(state.store, body.month, queued, user.name, body.inspectors, body.reassign, settings)
    counts = {name: sum(1 for i in done.assigned.values() if i == name) for name in done.inspectors}
    return {"month": body.month, "queued": len(queued), "assigned": counts, "kept": len(done.kept)}


@router.post("/api/calls/{call_id}/done")
def mark_done(request: Request, call_id: str, user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
    """The assigned call was listened to and every hit judged (or it had none): done."""
    require(user, REVIEWERS, "marking a review done")
    state = console(request)
    with state.store.transaction() as conn:
        require_call(conn, user, call_id)
        at = review_queue.mark_done(conn, call_id, user.name)
    return {"call_id": call_id, "done_at": at}
