"""Rendering pages: the templates, the values every page needs (user, CSRF token, navigation), and
the labels and formats the templates use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from qc.console import views
from qc.console.access import AGENT_PAGES
from qc.console.state import console, csrf_token
from qc.review.users import REVIEWERS, User

TEMPLATES = Path(__file__).resolve().parent / "templates"

NAV = (
    ("/queue", "复核队列", REVIEWERS),
    ("/agents", "坐席", AGENT_PAGES | {"agent"}),
    ("/rules", "规则", REVIEWERS),
    ("/reports", "报表", REVIEWERS),
)
ROLE_NAMES = {"admin": "管理员", "qa_lead": "质检主管", "inspector": "质检员", "team_lead": "班组长", "agent": "坐席"}


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.globals.update(
        SPEAKERS=views.SPEAKERS, STATUSES=views.STATUSES, CATEGORY_NAMES=views.CATEGORY_NAMES,
        REASONS=views.REASONS, APPEAL_STATES=views.APPEAL_STATES, VERSION_CAUSES=views.VERSION_CAUSES,
        ROLE_NAMES=ROLE_NAMES,
    )  # fmt: skip
    env.filters["clock"] = views.clock
    env.filters["points"] = _points
    return templates


def _points(value: float | None) -> str:
    """85.0 → '85', 2.5 → '2.5'."""
    if value is None:
        return ""
    return f"{value:g}"


def page(request: Request, user: User | None, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    nav = [(href, label) for href, label, roles in NAV if user is not None and user.role in roles]
    values = {"user": user, "nav": nav, "csrf": csrf_token(request) if user is not None else "", **context}
    return console(request).templates.TemplateResponse(request, name, values, status_code=status)
