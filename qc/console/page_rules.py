"""The rules page: how often each rule is right, from the reviewers' verdicts (precision with a Wilson
interval, ``qc rules precision``), a drill-down to a rule's hits, and the lexicon check (``qc lexicon
check``: every rule's own examples) — which takes seconds, so it is loaded into the page after it opens
and its result kept for the console's lifetime (the lexicon does not change under a running console).
"""

from __future__ import annotations

import re
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from qc.console import views
from qc.console.access import masked, require
from qc.console.errors import RefusedError
from qc.console.page_queue import latest_month
from qc.console.render import page
from qc.console.state import ConsoleState, console, current_user
from qc.review.precision import rule_precision, wilson
from qc.review.users import REVIEWERS, User
from qc.store.tables import calls, hits, verdicts

router = APIRouter()
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
PAGE_SIZE = 50
_CHECK_LOCK = threading.Lock()


def _month(value: str | None) -> str | None:
    if value and not _MONTH.fullmatch(value):
        raise RefusedError(400, f"{value!r} is not a month like 2026-11")
    return value


def _rule_names(state: ConsoleState) -> dict[str, tuple[str, str]]:
    return {r.info.id: (r.info.name, r.info.category) for r in state.lexicon.rules}


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, user: Annotated[User, Depends(current_user)], month: str | None = None) -> Response:
    require(user, REVIEWERS, "the rules page")
    state = console(request)
    with state.store.engine.connect() as conn:
        month = _month(month) or latest_month(conn)
        rows = rule_precision(conn, month)
    return page(request, user, "rules.html", month=month, rows=rows, names=_rule_names(state),
                rule_count=len(state.lexicon.rules), version=state.lexicon.version)  # fmt: skip


def lexicon_check(state: ConsoleState) -> dict[str, Any]:
    """``qc lexicon check``'s verdict on the console's lexicon folder, run once."""
    with _CHECK_LOCK:
        if "lexicon_check" not in state.cache:
            from qc.config import default_lexicon_dir
            from qc.inspection.check import check_lexicon

            root = state.lexicon_dir or default_lexicon_dir()
            lexicon, problems = check_lexicon(root, state.profile)
            examples = sum(len(r.examples_hit) + len(r.examples_miss) for r in lexicon.rules) if lexicon else 0
            state.cache["lexicon_check"] = {
                "root": str(root), "ok": lexicon is not None and not problems, "problems": [str(p) for p in problems],
                "rules": len(lexicon.rules) if lexicon else 0, "examples": examples,
                "version": lexicon.version if lexicon else None,
            }  # fmt: skip
        return state.cache["lexicon_check"]  # type: ignore[no-any-return]


@router.get("/rules/check", response_class=HTMLResponse)
def rules_check(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    require(user, REVIEWERS, "the lexicon check")
    return page(request, user, "_lexicon_check.html", check=lexicon_check(console(request)))


@router.get("/rules/{rule_id}", response_class=HTMLResponse)
def rule_page(
    request: Request,
    rule_id: str,
    user: Annotated[User, Depends(current_user)],
    month: str | None = None,
    page_no: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    require(user, REVIEWERS, "the rules page")
    state = console(request)
    try:
        info = state.lexicon.rule(rule_id).info
    except KeyError:
        info = None  # the learned layer's SUS-*, or a rule removed since: its stored hits still show
    with state.store.engine.connect() as conn:
        month = _month(month)
        query = (
            select(
                hits.c.call_id,
                hits.c.hit_id,
                hits.c.text,
                hits.c.context,
                hits.c.status,
                hits.c.deduction,
                hits.c.start,
                calls.c.agent_id,
                calls.c.started_at,
                verdicts.c.verdict,
                verdicts.c.reason,
                verdicts.c.by_user,
            )  # fmt: skip
            .join(calls, calls.c.call_id == hits.c.call_id)
            .outerjoin(verdicts, (verdicts.c.call_id == hits.c.call_id) & (verdicts.c.hit_id == hits.c.hit_id))
            .where(hits.c.rule_id == rule_id)
            .order_by(hits.c.call_id.desc(), hits.c.seq)
            .limit(PAGE_SIZE + 1)
            .offset((page_no - 1) * PAGE_SIZE)
        )
        if month:
            query = query.where(calls.c.month == month)
        rows = [dict(r) for r in conn.execute(query).mappings()]
        judged = [
            v
            for (v,) in conn.execute(
                select(verdicts.c.verdict)
                .join(calls, calls.c.call_id == verdicts.c.call_id)
                .where(verdicts.c.rule_id == rule_id, *([calls.c.month == month] if month else []))
            )
        ]
    if masked(user):
        for r in rows:
            r["text"], r["context"] = views.mask_text_or_none(r["text"]), views.mask_text_or_none(r["context"])
    true = sum(1 for v in judged if v)
    low, high = wilson(true, len(judged))
    return page(
        request, user, "rule.html", rule_id=rule_id, info=info, month=month, rows=rows[:PAGE_SIZE],
        has_next=len(rows) > PAGE_SIZE, page_no=page_no, reviewed=len(judged), confirmed=true,
        precision=true / len(judged) if judged else None, low=low, high=high,
    )  # fmt: skip
