"""The call page: player and waveform, the transcript with every hit marked, the review panel
(hits with their verdicts, score, 考评项, score versions, missed findings, appeals), and the recording.

The panel is its own fragment (``/calls/{id}/panel``) so that after a verdict the page swaps in the new
panel without reloading the player: listening goes on where it was.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import select

from qc.console import views
from qc.console.access import masked, require_call
from qc.console.audio import PeakCache, recording_of, recording_response, require_recording
from qc.console.render import page
from qc.console.state import ConsoleState, console, current_user
from qc.review.users import LEADS, REVIEWERS, User
from qc.store.tables import assignments, call_categories, calls, month_locks

router = APIRouter()
_PEAKS = PeakCache()


def call_context(state: ConsoleState, user: User, call_id: str) -> dict[str, Any]:
    """Everything the call page and its panel show, for one user (masked below the QA lead)."""
    with state.store.engine.connect() as conn:
        require_call(conn, user, call_id)
        stored = conn.execute(
            select(calls.c.transcript, calls.c.month, calls.c.audio).where(calls.c.call_id == call_id)
        ).one()
        kinds = [
            n
            for (n,) in conn.execute(
                select(call_categories.c.name)
                .where(call_categories.c.call_id == call_id)
                .order_by(call_categories.c.name)
            )
        ]
        locked = conn.execute(select(month_locks.c.by_user).where(month_locks.c.month == stored.month)).first()
        has_audio = recording_of(conn, call_id) is not None
        assignment = conn.execute(
            select(assignments.c.inspector, assignments.c.done_at).where(assignments.c.call_id == call_id)
        ).first()
    shown = state.desk.show(call_id)
    hide = masked(user)
    if hide:
        shown = views.mask_shown(shown)
    transcript = stored.transcript if isinstance(stored.transcript, dict) else {}
    hits = shown["hits"]
    verdicts = shown["review"]["verdicts"]
    appeals = shown["review"].get("appeals", [])
    open_on = {a["hit_id"] for a in appeals if a["state"] == "submitted"}
    return {
        "call": shown, "hits": hits, "verdicts": verdicts, "appeals": appeals, "appealed": open_on,
        "turns": views.turns(transcript, hits, hide), "categories": kinds, "month": stored.month,
        "locked": locked is not None, "has_audio": has_audio, "masked": hide,
        "can_judge": user.role in REVIEWERS and locked is None, "is_lead": user.role in LEADS,
        "can_appeal": locked is None and (user.role in LEADS or user.role in ("agent", "team_lead")),
        "can_decide": user.role in LEADS or user.role == "team_lead",
        "rules": [(r.info.id, r.info.name) for r in state.lexicon.rules],
        "deductions": views.deductions(shown),
        "assignment": assignment, "all_judged": all(h["hit_id"] in verdicts for h in hits),
    }  # fmt: skip


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, call_id: str, user: Annotated[User, Depends(current_user)]) -> Response:
    context = call_context(console(request), user, call_id)
    return page(request, user, "call.html", **context)


@router.get("/calls/{call_id}/panel", response_class=HTMLResponse)
def call_panel(request: Request, call_id: str, user: Annotated[User, Depends(current_user)]) -> Response:
    context = call_context(console(request), user, call_id)
    return page(request, user, "_panel.html", **context)


@router.get("/calls/{call_id}/audio")
def call_audio(request: Request, call_id: str, user: Annotated[User, Depends(current_user)]) -> Response:
    with console(request).store.engine.connect() as conn:
        require_call(conn, user, call_id)
        path = require_recording(conn, call_id)
    return recording_response(path)


@router.get("/calls/{call_id}/peaks")
def call_peaks(request: Request, call_id: str, user: Annotated[User, Depends(current_user)]) -> Response:
    with console(request).store.engine.connect() as conn:
        require_call(conn, user, call_id)
        path = require_recording(conn, call_id)
    return JSONResponse(_PEAKS.get(path), headers={"Cache-Control": "private, max-age=3600"})
