"""The agents' pages: a team's (or everyone's) month at a glance, and one agent's month — calls and
scores, the trend over the last months, appeals. An agent sees only their own page; a team lead sees
their team's agents; reviewers see everyone.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Integer, case, func, select

from qc.console import views
from qc.console.access import AGENT_PAGES, require, require_agent, visible_agent_ids
from qc.console.errors import RefusedError
from qc.console.page_queue import latest_month
from qc.console.render import page
from qc.console.state import console, current_user
from qc.review.users import User, team_of
from qc.store.tables import agents, appeals, calls, hits, results

router = APIRouter()
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
TREND_MONTHS = 12
PAGE_SIZE = 100


def _month(value: str | None) -> str | None:
    if value and not _MONTH.fullmatch(value):
        raise RefusedError(400, f"{value!r} is not a month like 2026-11")
    return value


@router.get("/agents", response_class=HTMLResponse)
def agents_page(request: Request, user: Annotated[User, Depends(current_user)], month: str | None = None) -> Response:
    if user.role == "agent":
        return RedirectResponse(f"/agents/{user.agent_id}", status_code=303)
    require(user, AGENT_PAGES, "the agents' pages")
    state = console(request)
    with state.store.engine.connect() as conn:
        month = _month(month) or latest_month(conn)
        visible = visible_agent_ids(conn, user)
        query = (
            select(
                calls.c.agent_id,
                func.max(agents.c.agent_name).label("agent_name"),
                func.max(agents.c.team).label("team"),
                func.count().label("calls"),
                func.avg(results.c.score).label("average"),
                func.sum(case((results.c.veto.is_(True), 1), else_=0).cast(Integer)).label("vetoes"),
                func.min(results.c.score).label("lowest"),
            )  # fmt: skip
            .join(results, results.c.call_id == calls.c.call_id)
            .outerjoin(agents, agents.c.agent_id == calls.c.agent_id)
            .where(calls.c.month == month)
            .group_by(calls.c.agent_id)
            .order_by(calls.c.agent_id)
        )
        if visible is not None:
            query = query.where(calls.c.agent_id.in_(visible or [""]))
        rows = [dict(r) for r in conn.execute(query).mappings()]
        open_appeals = dict(
            conn.execute(
                select(appeals.c.agent_id, func.count())
                .where(appeals.c.month == month, appeals.c.state == "submitted")
                .group_by(appeals.c.agent_id)
            ).all()
        )
    for r in rows:
        r["open_appeals"] = open_appeals.get(r["agent_id"], 0)
    return page(request, user, "agents.html", month=month, rows=rows)


@router.get("/agents/{agent_id}", response_class=HTMLResponse)
def agent_page(
    request: Request,
    agent_id: str,
    user: Annotated[User, Depends(current_user)],
    month: str | None = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    state = console(request)
    with state.store.engine.connect() as conn:
        require_agent(conn, user, agent_id)
        month = (
            _month(month) or conn.execute(select(func.max(calls.c.month)).where(calls.c.agent_id == agent_id)).scalar()
        )
        name = conn.execute(select(agents.c.agent_name).where(agents.c.agent_id == agent_id)).scalar()
        trend = [
            dict(r)
            for r in conn.execute(
                select(calls.c.month, func.count().label("calls"), func.avg(results.c.score).label("average"))
                .join(results, results.c.call_id == calls.c.call_id)
                .where(calls.c.agent_id == agent_id, calls.c.month.is_not(None))
                .group_by(calls.c.month)
                .order_by(calls.c.month.desc())
                .limit(TREND_MONTHS)
            ).mappings()
        ][::-1]
        listed = [
            dict(r)
            for r in conn.execute(
                select(calls.c.call_id, calls.c.started_at, results.c.score, results.c.veto)
                .join(results, results.c.call_id == calls.c.call_id)
                .where(calls.c.agent_id == agent_id, calls.c.month == month)
                .order_by(calls.c.started_at.desc(), calls.c.call_id)
                .limit(PAGE_SIZE + 1)
                .offset((page_no - 1) * PAGE_SIZE)
            ).mappings()
        ]
        ids = [r["call_id"] for r in listed[:PAGE_SIZE]]
        charged: dict[str, list[str]] = {}
        for call_id, rule_name, points in conn.execute(
            select(hits.c.call_id, hits.c.name, hits.c.deduction)
            .where(hits.c.call_id.in_(ids or [""]), hits.c.deduction > 0)
            .order_by(hits.c.call_id, hits.c.seq)
        ):
            charged.setdefault(call_id, []).append(f"{rule_name} -{points:g}")
        team = team_of(conn, agent_id)
        summary = (
            conn.execute(
                select(
                    func.count().label("calls"),
                    func.avg(results.c.score).label("average"),
                    func.sum(case((results.c.veto.is_(True), 1), else_=0).cast(Integer)).label("vetoes"),
                )  # fmt: skip
                .join(results, results.c.call_id == calls.c.call_id)
                .where(calls.c.agent_id == agent_id, calls.c.month == month)
            )
            .mappings()
            .one()
        )
    appealed = state.desk.list_appeals(agent_id=agent_id, month=month) if month else []
    if user.role not in ("admin", "qa_lead"):
        for a in appealed:
            a["reason"] = views.mask_text_or_none(a.get("reason"))
    context: dict[str, Any] = {
        "agent_id": agent_id, "agent_name": name, "team": team, "month": month, "trend": trend,
        "calls": [{**r, "charged": charged.get(r["call_id"], [])} for r in listed[:PAGE_SIZE]],
        "has_next": len(listed) > PAGE_SIZE, "page_no": page_no, "appeals": appealed,
        "summary": dict(summary),
        "can_decide": user.role in ("admin", "qa_lead", "team_lead"),
        "trend_max": max((t["average"] or 0 for t in trend), default=100) or 100,
    }  # fmt: skip
    return page(request, user, "agent.html", **context)
