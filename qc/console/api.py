"""The JSON API the pages use and scripts may use: every change goes through the review desk, which
writes it and its audit entry in one transaction.

``GET /api/calls/{id}`` is ``qc show --json``'s object (masked below the QA lead, as the pages are);
``POST /api/calls/{id}/hits/{hit_id}/verdict`` judges a hit and answers with the updated object.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from qc.console import views
from qc.console.access import masked, require, require_agent, require_call, visible_agent_ids
from qc.console.errors import RefusedError
from qc.console.state import ConsoleState, console, current_user
from qc.review.users import LEADS, REVIEWERS, User
from qc.store.tables import appeals, hits

router = APIRouter(prefix="/api")

Reason = Literal["asr", "rule", "context", "other"]


class VerdictIn(BaseModel):
    verdict: Literal["true", "false", True, False]
    reason: Reason | None = None
    comment: str | None = Field(default=None, max_length=2000)
    replace: bool = False  # a QA lead changing a verdict already given


class FindingIn(BaseModel):
    rule_id: str = Field(min_length=1, max_length=64)
    comment: str = Field(min_length=1, max_length=2000)
    utterance: int | None = Field(default=None, ge=0)
    points: float | None = Field(default=None, ge=0)


class AppealIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    hit_id: str | None = Field(default=None, max_length=160)
    points: float | None = Field(default=None, gt=0)


class DecisionIn(BaseModel):
    decision: Literal["forward", "accept", "partial", "reject"]
    comment: str = Field(min_length=1, max_length=2000)
    points: float | None = Field(default=None, gt=0)


def shown_for(state: ConsoleState, user: User, call_id: str) -> dict[str, Any]:
    shown = state.desk.show(call_id)
    return views.mask_shown(shown) if masked(user) else shown


def _hit_exists(state: ConsoleState, call_id: str, hit_id: str) -> None:
    with state.store.engine.connect() as conn:
        found = conn.execute(select(hits.c.id).where(hits.c.call_id == call_id, hits.c.hit_id == hit_id)).first()
    if found is None:
        raise RefusedError(404, f"call {call_id} has no hit {hit_id!r}")


@router.get("/calls/{call_id}")
def get_call(request: Request, call_id: str, user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
    state = console(request)
    with state.store.engine.connect() as conn:
        require_call(conn, user, call_id)
    return shown_for(state, user, call_id)


@router.post("/calls/{call_id}/hits/{hit_id}/verdict")
def post_verdict(
    request: Request, call_id: str, hit_id: str, body: VerdictIn, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    state = console(request)
    with state.store.engine.connect() as conn:
        require_call(conn, user, call_id)
    require(user, REVIEWERS, "judging a hit")
    _hit_exists(state, call_id, hit_id)
    verdict = body.verdict in (True, "true")
    state.desk.judge_hit(call_id, hit_id, verdict, user.name, body.reason, body.comment or None, body.replace)
    return shown_for(state, user, call_id)


@router.post("/calls/{call_id}/findings")
def post_finding(
    request: Request, call_id: str, body: FindingIn, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    state = console(request)
    with state.store.engine.connect() as conn:
        require_call(conn, user, call_id)
    require(user, REVIEWERS, "adding a missed finding")
    state.desk.add_finding(call_id, body.rule_id, user.name, body.comment, body.utterance, body.points)
    return shown_for(state, user, call_id)


@router.post("/calls/{call_id}/appeals", status_code=201)
def post_appeal(
    request: Request, call_id: str, body: AppealIn, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    state = console(request)
    with state.store.engine.connect() as conn:
        require_call(conn, user, call_id)
    require(user, LEADS | {"agent", "team_lead"}, "appealing")
    if body.hit_id:
        _hit_exists(state, call_id, body.hit_id)
    appeal_id = state.desk.open_appeal(call_id, user.name, body.reason, body.hit_id or None, body.points)
    return {"appeal": appeal_id, "call": shown_for(state, user, call_id)}


def _appeal_call(state: ConsoleState, user: User, appeal_id: int) -> str:
    with state.store.engine.connect() as conn:
        call_id = conn.execute(select(appeals.c.call_id).where(appeals.c.id == appeal_id)).scalar()
        if call_id is None:
            raise RefusedError(404, f"unknown appeal #{appeal_id}")
        require_call(conn, user, call_id)
    return str(call_id)


@router.post("/appeals/{appeal_id}/decision")
def post_decision(
    request: Request, appeal_id: int, body: DecisionIn, user: Annotated[User, Depends(current_user)]
) -> dict[str, Any]:
    state = console(request)
    call_id = _appeal_call(state, user, appeal_id)
    require(user, LEADS | {"team_lead"}, "deciding an appeal")
    if user.role == "team_lead" and body.decision not in ("forward", "reject"):
        raise RefusedError(403, "a team lead forwards an appeal to the QA lead or rejects it; the QA lead decides")
    decided = state.desk.decide_appeal(appeal_id, user.name, body.decision, body.comment, body.points)
    return {"appeal": decided, "call": shown_for(state, user, call_id)}


@router.post("/appeals/{appeal_id}/withdraw")
def post_withdraw(request: Request, appeal_id: int, user: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
    state = console(request)
    call_id = _appeal_call(state, user, appeal_id)
    withdrawn = state.desk.withdraw_appeal(appeal_id, user.name)
    return {"appeal": withdrawn, "call": shown_for(state, user, call_id)}


_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


@router.get("/appeals")
def get_appeals(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    month: Annotated[str | None, Query(pattern=_MONTH)] = None,
    agent_id: str | None = None,
    state_: Annotated[str | None, Query(alias="state")] = None,
) -> list[dict[str, Any]]:
    state = console(request)
    with state.store.engine.connect() as conn:
        if agent_id is not None:
            require_agent(conn, user, agent_id)
        visible = visible_agent_ids(conn, user)
    rows = state.desk.list_appeals(agent_id=agent_id, month=month, state=state_)
    if visible is not None:
        allowed = set(visible)
        rows = [r for r in rows if r["agent_id"] in allowed]
    return rows


@router.post("/months/{month}/lock")
def post_lock(request: Request, month: str, user: Annotated[User, Depends(current_user)]) -> dict[str, str]:
    if not re.fullmatch(_MONTH, month):
        raise RefusedError(400, f"{month!r} is not a month like 2026-11")
    require(user, LEADS, "locking a month")
    console(request).desk.lock_month(month, user.name)
    return {"month": month, "locked_by": user.name}


@router.get("/rules/precision")
def get_precision(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    month: Annotated[str | None, Query(pattern=_MONTH)] = None,
) -> list[dict[str, Any]]:
    from qc.review.precision import rule_precision

    require(user, REVIEWERS, "rule precision")
    with console(request).store.engine.connect() as conn:
        return [asdict(r) for r in rule_precision(conn, month)]
