"""Console and review users, their roles, and what each role may do.

Passwords are stored as argon2id hashes (argon2-cffi), never as text. An agent is tied to the
``agent_id`` (工号) whose calls are theirs; a team lead to a team.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.engine import Connection

from qc.errors import QCError
from qc.store.tables import users

ROLES = ("admin", "qa_lead", "inspector", "team_lead", "agent")
# Who may judge a machine hit or add a missed finding.
REVIEWERS = frozenset({"admin", "qa_lead", "inspector"})
# Who may change a verdict someone already gave, or lock a month.
LEADS = frozenset({"admin", "qa_lead"})


class ReviewError(QCError):
    """A review action refused: unknown call, hit or user, a wrong role, a locked month, a verdict
    already given. One line, shown as is."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    agent_id: str | None = None
    team: str | None = None


_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    if not password:
        raise ReviewError("the password is empty")
    return _HASHER.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    if not stored:
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_user(name: str, role: str, agent_id: str | None, team: str | None) -> User:
    """Validate a user before it is stored: a known role, an agent tied to an agent_id."""
    if not name or len(name) > 64 or name != name.strip():
        raise ReviewError(f"user name {name!r} must be 1–64 characters without surrounding spaces")
    if role not in ROLES:
        raise ReviewError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if role == "agent" and not agent_id:
        raise ReviewError("an agent user needs --agent-id (the 工号 whose calls are theirs)")
    return User(name, role, agent_id, team)


def load_user(conn: Connection, name: str) -> User:
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise ReviewError(f"unknown user {name!r} (add one with `qc user add`)")
    return User(row.name, row.role, row.agent_id, row.team)


def require_role(user: User, allowed: frozenset[str], action: str) -> None:
    if user.role not in allowed:
        raise ReviewError(f"user {user.name!r} is {user.role}; {action} needs one of: {', '.join(sorted(allowed))}")


def team_of(conn: Connection, agent_id: str) -> str | None:
    """An agent's team (班组): the agents table's, else the team of the agent user with that 工号."""
    from qc.store.tables import agents

    team = conn.execute(select(agents.c.team).where(agents.c.agent_id == agent_id)).scalar()
    if team:
        return str(team)
    team = conn.execute(
        select(users.c.team).where(users.c.role == "agent", users.c.agent_id == agent_id, users.c.team.is_not(None))
    ).scalar()
    return str(team) if team else None
