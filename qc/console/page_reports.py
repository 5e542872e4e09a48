"""The reports page: the month's quality sheets (服务质量综合考评表), violation examples for trainers and
the listening list, each written by the same ``qc.pipeline`` function as its command into a temporary
folder, sent as a download and then deleted. Customers' data is masked below the QA lead, as in pages.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from sqlalchemy import select
from starlette.background import BackgroundTask

from qc.console.access import masked, require
from qc.console.errors import RefusedError
from qc.console.page_queue import latest_month
from qc.console.render import page
from qc.console.state import console, current_user
from qc.errors import QCError, ReportError
from qc.review.users import LEADS, REVIEWERS, User
from qc.schema import CATEGORIES
from qc.store.tables import month_locks

router = APIRouter()
_MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
Month = Annotated[str, Query(pattern=_MONTH)]
Optional = Annotated[str | None, Query(max_length=128)]


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, user: Annotated[User, Depends(current_user)], month: str | None = None) -> Response:
    require(user, REVIEWERS, "reports")
    if month and not re.fullmatch(_MONTH, month):
        raise RefusedError(400, f"{month!r} is not a month like 2026-11")
    with console(request).store.engine.connect() as conn:
        month = month or latest_month(conn)
        locks = {m: (by, at) for m, by, at in conn.execute(select(month_locks).order_by(month_locks.c.month.desc()))}
    return page(request, user, "reports.html", month=month, locks=locks, categories=CATEGORIES,
                can_lock=user.role in LEADS)  # fmt: skip


def _download(write: Callable[[Path], object], name: str) -> FileResponse:
    """Run ``write`` into a fresh temporary folder and send the file; the folder goes after sending."""
    folder = Path(tempfile.mkdtemp(prefix="qc-console-"))
    out = folder / name
    try:
        write(out)
    except ReportError as err:
        shutil.rmtree(folder, ignore_errors=True)
        raise RefusedError(404, str(err)) from None
    except QCError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out, filename=name, background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/reports/monthly")
def monthly(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    month: Month,
    agent: Optional = None,
    call_category: Optional = None,
    fmt: Annotated[Literal["xlsx", "csv"], Query(alias="format")] = "xlsx",
) -> FileResponse:
    from qc.pipeline import monthly_report

    require(user, REVIEWERS, "reports")
    state = console(request)
    pass_mark = state.lexicon.scorecard.pass_mark
    name = f"服务质量综合考评表-{month}{'-' + call_category if call_category else ''}.{fmt}"
    if fmt == "csv":  # the csv form is two files (summary and detail): send the summary, as named
        name = f"考评汇总-{month}.csv"
    return _download(
        lambda out: monthly_report(
            state.store, month, out, pass_mark, agent or None, masked(user), call_category or None
        ),
        name,
    )


@router.get("/reports/examples")
def examples(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    month: Annotated[str | None, Query(pattern=_MONTH)] = None,
    category: Optional = None,
    rule: Optional = None,
    agent: Optional = None,
    call_category: Optional = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    fmt: Annotated[Literal["html", "xlsx", "csv", "jsonl"], Query(alias="format")] = "html",
) -> FileResponse:
    from qc.pipeline import examples_report

    require(user, REVIEWERS, "reports")
    if category and category not in CATEGORIES:
        raise RefusedError(400, f"category {category!r} is not one of {', '.join(CATEGORIES)}")
    state = console(request)
    name = f"违规示例-{month or '全部'}{'-' + category if category else ''}{'-' + rule if rule else ''}.{fmt}"
    return _download(
        lambda out: examples_report(
            state.store,
            out,
            category or None,
            rule or None,
            agent or None,
            month,
            limit,
            masked(user),
            call_category or None,
        ),  # fmt: skip
        name,
    )


@router.get("/reports/sample")
def sample(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    month: Month,
    per_agent: Annotated[int, Query(ge=1, le=1000)] = 5,
    random_share: Annotated[float, Query(ge=0, le=1)] = 0.4,
    seed: int = 0,
    agent: Optional = None,
    fmt: Annotated[Literal["xlsx", "csv"], Query(alias="format")] = "xlsx",
) -> FileResponse:
    from qc.pipeline import sample_report

    require(user, REVIEWERS, "reports")
    state = console(request)
    return _download(
        lambda out: sample_report(state.store, month, out, per_agent, random_share, seed, agent or None),
        f"抽听清单-{month}.{fmt}",
    )
