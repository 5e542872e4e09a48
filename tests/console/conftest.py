"""A scored database for the console tests: the bundled sample transcripts, plus the sample recording's
transcript with its audio path (``data/``), and one user per role. Built once per session by the CLI,
then copied for each test that changes it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from qc.cli import cli
from qc.console.app import create_app
from qc.console.limits import LoginLimiter
from qc.review import users as users_module
from qc.review.desk import ReviewDesk
from qc.store import Store
from tests.conftest import SAMPLES

DATA = Path(__file__).resolve().parent / "data"
PASSWORD = "pw-console-1"
MONTH = "2026-11"
OWN = "20261120-1000-1024-REC1"  # agent 1024 (team T1 through its user), with a recording
TEAM = "20261104-1400-2048-0001"  # agent 2048, team T1 in the agents table
OTHER = "20261106-1500-3072-0002"  # agent 3072, team T2: a waybill number read out by the customer
BANNED_HIT = "BAN-002@2:7-12"  # 你找领导去 in OWN, 9.81 s into the recording, 20 points

# name → (role, agent_id, team)
USERS = {
    "admin1": ("admin", None, None),
    "lead1": ("qa_lead", None, None),
    "insp1": ("inspector", None, None),
    "tl1": ("team_lead", None, "T1"),
    "a1024": ("agent", "1024", "T1"),
    "a3072": ("agent", "3072", None),
}
ROLE_USER = {"admin": "admin1", "qa_lead": "lead1", "inspector": "insp1", "team_lead": "tl1", "agent": "a1024"}


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("console-db") / "qc.db"
    url = f"sqlite:///{path}"
    result = CliRunner().invoke(cli, ["score", str(SAMPLES), str(DATA / f"{OWN}.json"), "--db", url])
    assert result.exit_code == 0, result.output
    store = Store(url)
    desk = ReviewDesk(store)
    # cheap argon2 parameters for the test users only: a sign-in then costs milliseconds, not 0.4 s
    # (the parameters travel inside each hash, so verifying needs nothing else)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users_module, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        for name, (role, agent_id, team) in USERS.items():
            desk.add_user(name, role, PASSWORD, agent_id, team)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE agents SET team = 'T1' WHERE agent_id = '2048'"))
        conn.execute(text("UPDATE agents SET team = 'T2' WHERE agent_id = '3072'"))
    store.close()
    return path


@pytest.fixture()
def db_url(template_db: Path, tmp_path: Path) -> str:
    """A fresh copy of the scored database for a test that changes it."""
    path = tmp_path / "qc.db"
    shutil.copy(template_db, path)
    return f"sqlite:///{path}"


def make_client(url: str, lexicon, limiter: LoginLimiter | None = None) -> TestClient:  # noqa: ANN001
    app = create_app(Store(url), lexicon, "console-test-secret-" + "x" * 32, limiter=limiter)
    return TestClient(app, base_url="http://127.0.0.1:8000")


@pytest.fixture()
def client(db_url: str, lexicon) -> Iterator[TestClient]:  # noqa: ANN001
    with make_client(db_url, lexicon) as c:
        yield c


def sign_in(client: TestClient, name: str) -> str:
    """Sign ``name`` in on ``client``; returns the session's CSRF token."""
    response = client.post("/login", data={"username": name, "password": PASSWORD}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client.get("/api/session").json()["csrf"]
