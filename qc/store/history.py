"""Reads the monthly 考评表 needs beyond one month: earlier months' averages, teams and inspectors.

Every read aggregates in the database and ignores which scoring run (ruleset, ``qc score`` or
``qc rescore`` invocation) stored a call: a month's average is the average of the final scores
stored for its calls, whoever stored them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, union

from qc.errors import ReportError
from qc.store.db import Store
from qc.store.queries import read_frame
from qc.store.tables import agents, call_categories, calls, manual_findings, results, users, verdicts


def months_before(month: str, n: int) -> list[str]:
    """The ``n`` months before ``month``, oldest first: ('2026-11', 3) → ['2026-08', '2026-09', '2026-10']."""
    year, mon = int(month[:4]), int(month[5:7])
    out = []
    for _ in range(n):
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
        out.append(f"{year}-{mon:02d}")
    return out[::-1]


def load_month_averages(
    store: Store, months: list[str], agent: str | None = None, call_category: str | None = None
) -> Any:
    """One row per (agent_id, month) of ``months`` with stored results: calls and average score."""
    query = (
        select(
            calls.c.agent_id,
            calls.c.month,
            func.count().label("calls"),
            func.avg(results.c.score).label("avg_score"),
        )
        .join(results, results.c.call_id == calls.c.call_id)
        .where(calls.c.month.in_(months))
        .group_by(calls.c.agent_id, calls.c.month)
    )
    if agent is not None:
        query = query.where(calls.c.agent_id == agent)
    if call_category is not None:
        of_category = select(call_categories.c.call_id).where(call_categories.c.name == call_category)
        query = query.where(calls.c.call_id.in_(of_category))
    frame = read_frame(store, query)
    if len(frame):
        frame["avg_score"] = frame["avg_score"].astype(float)
    return frame


def load_agent_teams(store: Store) -> dict[str, str]:
    """agent_id → team (班组): the agents table's, else the team of the agent user with that 工号."""
    by_user = read_frame(
        store,
        select(users.c.agent_id, users.c.team).where(
            users.c.role == "agent", users.c.agent_id.is_not(None), users.c.team.is_not(None)
        ),
    )
    teams = {str(a): str(t) for a, t in by_user.itertuples(index=False) if t}
    own = read_frame(store, select(agents.c.agent_id, agents.c.team).where(agents.c.team.is_not(None)))
    teams.update({str(a): str(t) for a, t in own.itertuples(index=False) if t})
    return teams


def load_inspectors(store: Store, month: str) -> list[str]:
    """The users who gave a verdict or added a missed finding on ``month``'s calls, by name."""
    judged = select(verdicts.c.by_user.label("who")).join(calls, calls.c.call_id == verdicts.c.call_id)
    added = select(manual_findings.c.by_user.label("who")).join(calls, calls.c.call_id == manual_findings.c.call_id)
    query = union(judged.where(calls.c.month == month), added.where(calls.c.month == month))
    return sorted({str(w) for w in read_frame(store, query)["who"] if w})


_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True, slots=True)
class Week:
    """An ISO week: Monday ``start`` to Sunday ``end``, and the months its days fall in."""

    label: str
    start: date
    end: date

    @property
    def months(self) -> tuple[str, ...]:
        return tuple(sorted({self.start.strftime("%Y-%m"), self.end.strftime("%Y-%m")}))

    @property
    def span(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"


def parse_week(text: str) -> Week:
    """'2026-W47' (or '2026-w47') → that ISO week; ReportError for anything else."""
    label = text.strip().upper()
    m = _WEEK.fullmatch(label)
    if m is None:
        raise ReportError(f"{text!r} is not an ISO week like 2026-W47")
    try:
        start = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ReportError(f"{text!r}: {m.group(1)} has no week {m.group(2)}") from None
    return Week(label, start, start + timedelta(days=6))


def iso_week_range(week: str) -> tuple[str, str]:
    """'2026-W45' → ('2026-11-02', '2026-11-09'): the Monday and the Monday after (ISO 8601 week);
    ReportError for text that is not a week."""
    w = parse_week(week)
    return w.start.isoformat(), (w.end + timedelta(days=1)).isoformat()
