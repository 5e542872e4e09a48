"""Who may see and do what in the console. Every route calls one of these before it reads a call.

- Reviewers (admin, qa_lead, inspector) see every call and judge hits.
- A team lead sees the calls of their team's agents (an agent's team: ``agents.team``, else the team
  of the agent user with that 工号 — ``qc.review.users.team_of``).
- An agent sees only calls with their own ``agent_id``; anything else is 403, on pages, audio and API
  alike.
- Customers' personal data is masked for every role below the QA lead (``qc.text.mask``).

The review desk checks roles again inside each action; checking here first gives exact HTTP statuses
and keeps other agents' calls from being read at all.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from qc.console.errors import RefusedError
from qc.review.users import LEADS, REVIEWERS, User, team_of
from qc.store.tables import agents, calls, users

# Roles that see customers' numbers and addresses unmasked.
UNMASKED = LEADS
# Roles that may open the agents' pages (an agent sees only their own).
AGENT_PAGES = REVIEWERS | {"team_lead"}


def require(user: User, roles: frozenset[str], what: str) -> None:
    if user.role not in roles:
        raise RefusedError(403, f"{what} is for {', '.join(sorted(roles))}; you are signed in as {user.role}")


def masked(user: User) -> bool:
    return user.role not in UNMASKED


def may_see_agent(conn: Connection, user: User, agent_id: str) -> bool:
    if user.role in REVIEWERS:
        return True
    if user.role == "agent":
        return user.agent_id == agent_id
    if user.role == "team_lead":
        return bool(user.team) and team_of(conn, agent_id) == user.team
    return False


def require_agent(conn: Connection, user: User, agent_id: str) -> None:
    if not may_see_agent(conn, user, agent_id):
        raise RefusedError(403, f"agent {agent_id}'s calls are not yours to see")


def require_call(conn: Connection, user: User, call_id: str) -> str:
    """The call's agent_id, when ``user`` may see the call (404 unknown, 403 someone else's)."""
    agent_id = conn.execute(select(calls.c.agent_id).where(calls.c.call_id == call_id)).scalar()
    if agent_id is None:
        raise RefusedError(404, f"unknown call {call_id!r}")
    if not may_see_agent(conn, user, agent_id):
        raise RefusedError(403, f"call {call_id} is not yours to see (agent {agent_id})")
    return str(agent_id)


def team_agent_ids(conn: Connection, team: str) -> list[str]:
    """The 工号 of a team: agents whose ``agents.team`` is it, and agent users of the team whose agent
    has no team of its own in the agents table."""
    own = select(agents.c.agent_id).where(agents.c.team == team)
    by_user = (
        select(users.c.agent_id)
        .outerjoin(agents, agents.c.agent_id == users.c.agent_id)
        .where(users.c.role == "agent", users.c.team == team, users.c.agent_id.is_not(None))
        .where(or_(agents.c.team.is_(None), agents.c.team == ""))
    )
    found = {a for (a,) in conn.execute(own)} | {a for (a,) in conn.execute(by_user)}
    return sorted(found)


def visible_agent_ids(conn: Connection, user: User) -> list[str] | None:
    """The agents whose calls ``user`` may list (None: every agent)."""
    if user.role in REVIEWERS:
        return None
    if user.role == "agent":
        return [user.agent_id] if user.agent_id else []
    if user.role == "team_lead" and user.team:
        return team_agent_ids(conn, user.team)
    return []
