"""The console application: ``create_app`` wires the database, the review desk, the lexicon, sessions,
the CSRF guard, the error pages and every route; ``qc serve`` runs it with uvicorn.

Sessions are signed cookies (Starlette's ``SessionMiddleware``: itsdangerous-signed, HttpOnly,
SameSite=Lax, 12 hours): the server keeps no session table, and a stolen database holds no session.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from qc.console import api, indexes, login, page_agents, page_call, page_queue, page_reports, page_rules
from qc.console.errors import NotSignedInError, RefusedError, review_status, wants_json
from qc.console.limits import LoginLimiter
from qc.console.render import make_templates, page
from qc.console.state import ConsoleState, csrf_guard
from qc.errors import QCError
from qc.inspection.lexicon import Lexicon
from qc.review.desk import ReviewDesk
from qc.review.users import ReviewError
from qc.store import Store

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "qc_session"
SESSION_HOURS = 12


def create_app(
    store: Store,
    lexicon: Lexicon,
    secret: str,
    *,
    lexicon_dir: Path | None = None,
    profile: str | None = None,
    secure_cookies: bool = False,
    limiter: LoginLimiter | None = None,
) -> FastAPI:
    """The console over ``store``; ``lexicon`` re-prices calls after verdicts (load it as the CLI does).
    ``secure_cookies``: send the session cookie over HTTPS only (behind a TLS proxy)."""
    app = FastAPI(title="qc console", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(csrf_guard)])  # fmt: skip
    indexes.ensure_indexes(store.engine)
    app.state.console = ConsoleState(
        store=store, desk=ReviewDesk(store, lexicon), lexicon=lexicon, templates=make_templates(),
        limiter=limiter or LoginLimiter(), lexicon_dir=lexicon_dir, profile=profile,
    )  # fmt: skip
    app.add_middleware(
        SessionMiddleware, secret_key=secret, session_cookie=SESSION_COOKIE, max_age=SESSION_HOURS * 3600,
        same_site="lax", https_only=secure_cookies,
    )  # fmt: skip
    app.middleware("http")(_security_headers)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for module in (login, page_queue, page_call, page_agents, page_rules, page_reports, api):
        app.include_router(module.router)
    app.add_exception_handler(NotSignedInError, _not_signed_in)  # type: ignore[arg-type]
    app.add_exception_handler(RefusedError, _refused)  # type: ignore[arg-type]
    app.add_exception_handler(ReviewError, _review_error)  # type: ignore[arg-type]
    app.add_exception_handler(QCError, _qc_error)  # type: ignore[arg-type]
    return app


async def _security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]  # noqa: ANN202
    response: Response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    if request.url.path.startswith(("/api/", "/calls/")):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _refusal(request: Request, status: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    from qc.console.state import current_user

    try:
        user = current_user(request)
    except NotSignedInError:
        user = None
    return page(request, user, "error.html", status=status, status_code=status, message=message)


async def _not_signed_in(request: Request, _exc: NotSignedInError) -> Response:
    if wants_json(request) or request.method != "GET":
        return JSONResponse({"detail": "sign in first (POST /login)"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import quote

    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def _refused(request: Request, exc: RefusedError) -> Response:
    return _refusal(request, exc.status, exc.message)


async def _review_error(request: Request, exc: ReviewError) -> Response:
    return _refusal(request, review_status(exc), str(exc))


async def _qc_error(request: Request, exc: QCError) -> Response:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return _refusal(request, 500, str(exc))
