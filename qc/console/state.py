"""What every request of one console shares — the database, the review desk, the lexicon, the
templates, the login limiter — and the request's signed-in user.

The user is read from the database on every request (one primary-key lookup), not trusted from the
cookie: a changed role or a removed user takes effect at once, without waiting for sessions to expire.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from qc.console.errors import NotSignedInError, RefusedError
from qc.console.limits import LoginLimiter
from qc.inspection.lexicon import Lexicon
from qc.review.desk import ReviewDesk
from qc.review.users import ReviewError, User, load_user
from qc.store import Store

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"
# Routes a visitor without a session may change: only signing in.
CSRF_EXEMPT = frozenset({"/login"})


@dataclass
class ConsoleState:
    store: Store
    desk: ReviewDesk
    lexicon: Lexicon
    templates: Jinja2Templates
    limiter: LoginLimiter
    lexicon_dir: Path | None = None
    profile: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)


def console(request: Request) -> ConsoleState:
    return request.app.state.console  # type: ignore[no-any-return]


def current_user(request: Request) -> User:
    """The signed-in user (dependency of every route but the login page and static files)."""
    name = request.session.get("user")
    if not name:
        raise NotSignedInError()
    try:
        with console(request).store.engine.connect() as conn:
            return load_user(conn, name)
    except ReviewError:  # the user was removed since signing in
        request.session.clear()
        raise NotSignedInError() from None


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made at sign-in; made here for an older session without one)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_guard(request: Request) -> None:
    """Every change (POST, PUT, PATCH, DELETE) of a signed-in session carries the session's token in
    ``X-CSRF-Token``: a page of another site can make the browser send the cookie, not the header."""
    if request.method not in UNSAFE_METHODS or request.url.path in CSRF_EXEMPT:
        return
    if not request.session.get("user"):
        return  # the route's own sign-in check answers 401
    sent = request.headers.get(CSRF_HEADER, "")
    expected = request.session.get("csrf", "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise RefusedError(403, f"missing or wrong {CSRF_HEADER} header (GET /api/session gives the token)")
