"""Signing in and out, the session the scripts read (``GET /api/session``), and the front door.

``POST /login`` takes form fields ``username`` and ``password`` (SPEC §7) and sets the signed session
cookie; a browser is sent on with 303, a script that asks for JSON gets the session object. Failures
are counted per name and per address (``limits``) and answered alike for an unknown name and a
wrong password, which are also checked in the same time (a dummy hash is verified for unknown names).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timezone
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from qc.console.errors import NotSignedInError, RefusedError
from qc.console.render import page
from qc.console.state import console, csrf_token, current_user
from qc.review.users import REVIEWERS, User, hash_password, password_matches
from qc.store.tables import users

log = logging.getLogger(__name__)
router = APIRouter()

_DUMMY_HASH = hash_password("not a password: unknown names are checked as long as known ones")


def _safe_next(target: str | None) -> str:
    """Only a path on this console (no scheme, no host, no //evil.example)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


def home_of(user: User) -> str:
    if user.role in REVIEWERS:
        return "/queue"
    if user.role == "agent" and user.agent_id:
        return f"/agents/{user.agent_id}"
    return "/agents"


def session_object(request: Request, user: User) -> dict[str, str | None]:
    return {"user": user.name, "role": user.role, "csrf": csrf_token(request), "agent_id": user.agent_id,
            "team": user.team}  # fmt: skip


@router.get("/")
def front(request: Request) -> Response:
    try:
        user = current_user(request)
    except NotSignedInError:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_of(user), status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:  # noqa: A002 — the query name
    if request.session.get("user"):
        return RedirectResponse(_safe_next(next), status_code=303)
    return page(request, None, "login.html", next=_safe_next(next), error=None)


def _same_origin(request: Request) -> None:
    """A login form posted from another site is refused (login CSRF); browsers send ``Origin``. Behind
    a proxy that rewrites ``Host``, the host the browser used is in ``X-Forwarded-Host``."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return
    ours = {request.headers.get("host"), *request.headers.get("x-forwarded-host", "").split(",")}
    if urlsplit(origin).netloc not in {h.strip() for h in ours if h}:
        raise RefusedError(403, "sign in from the console's own page")


@router.post("/login", dependencies=[Depends(_same_origin)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form()] = None,  # noqa: A002 — the form field's name
) -> Response:
    state = console(request)
    address = request.client.host if request.client else "?"
    wait = state.limiter.retry_after(username, address)
    if wait is not None:
        message = f"too many failed sign-ins; try again in {wait} s"
        return _failed(request, 429, message, next, {"Retry-After": str(wait)})
    with state.store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == username)).mappings().first()
    if not password_matches(row["password_hash"] if row else _DUMMY_HASH, password) or row is None:
        state.limiter.failed(username, address)
        log.info("failed sign-in for %r from %s", username, address)
        return _failed(request, 401, "wrong user name or password", next, {})
    state.limiter.succeeded(username)
    request.session.clear()  # a fresh session: nothing from before signing in carries over
    request.session.update(
        {"user": username, "csrf": secrets.token_urlsafe(32),
         "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    )  # fmt: skip
    user = User(row["name"], row["role"], row["agent_id"], row["team"])
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(session_object(request, user))
    target = _safe_next(next)
    return RedirectResponse(home_of(user) if target == "/" else target, status_code=303)


def _failed(request: Request, status: int, message: str, next_: str | None, headers: dict[str, str]) -> Response:
    if "application/json" in request.headers.get("accept", "") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    response = page(request, None, "login.html", status=status, next=_safe_next(next_), error=message)
    response.headers.update(headers)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)


@router.get("/api/session")
def api_session(request: Request, user: Annotated[User, Depends(current_user)]) -> dict[str, str | None]:
    return session_object(request, user)
