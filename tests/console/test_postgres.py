"""The console's own SQL on PostgreSQL (the team's shared database): the pages and the changes that
read or write through it, once each. Runs when QC_TEST_POSTGRES_URL is set (`.ci/run` sets it)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import text

from qc.cli import cli
from qc.console.app import create_app
from qc.review.desk import ReviewDesk
from qc.store import Store
from tests.conftest import SAMPLES
from tests.console.conftest import BANNED_HIT, DATA, MONTH, OWN, PASSWORD, sign_in

PG_URL = os.environ.get("QC_TEST_POSTGRES_URL")
pytestmark = [
    pytest.mark.issue(12),
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="QC_TEST_POSTGRES_URL not set (CI starts PostgreSQL and sets it)"),
]
TABLES = (
    "adjustments", "appeals", "assignments", "audit_log", "month_locks", "score_versions", "manual_findings",
    "verdicts", "users", "call_categories", "hits", "results", "calls", "agents", "rulesets", "qc_meta",
)  # fmt: skip


@pytest.fixture()
def pg_client(lexicon):  # noqa: ANN001, ANN201
    store = Store(PG_URL)
    with store.engine.begin() as conn:
        for table in TABLES:
            conn.execute(text(f"DROP TABLE IF EXISTS {table} CASCADE"))
    store.close()
    result = CliRunner().invoke(cli, ["score", str(SAMPLES), str(DATA / f"{OWN}.json"), "--db", PG_URL])
    assert result.exit_code == 0, result.output
    store = Store(PG_URL)
    desk = ReviewDesk(store)
    desk.add_user("lead1", "qa_lead", PASSWORD)
    desk.add_user("insp1", "inspector", PASSWORD)
    desk.add_user("a1024", "agent", PASSWORD, "1024", "T1")
    with TestClient(create_app(store, lexicon, "pg-secret-" + "p" * 32)) as client:
        yield client


def test_the_console_on_postgresql(pg_client):
    token = sign_in(pg_client, "lead1")
    pages = ("/queue?status=all", "/api/queue?status=all&category=投诉", f"/calls/{OWN}", "/agents", "/agents/1024",
             "/rules", "/rules/BAN-002", f"/reports/examples?month={MONTH}&format=jsonl")  # fmt: skip
    for url in pages:
        assert pg_client.get(url).status_code == 200, url
    whole = pg_client.get("/api/queue", params={"status": "all"}).json()
    assert whole["scope"] == "all" and len(whole["calls"]) == 9 and whole["calls"][0]["reason"] == "suspected"
    verdict = pg_client.post(
        f"/api/calls/{OWN}/hits/{BANNED_HIT}/verdict", json={"verdict": "false"}, headers={"X-CSRF-Token": token}
    )
    assert verdict.status_code == 200 and verdict.json()["score"] == 95
    dealt = pg_client.post(
        "/api/queue/assign", json={"month": MONTH, "inspectors": ["insp1"]}, headers={"X-CSRF-Token": token}
    )
    assert dealt.status_code == 200, dealt.text
    sign_in(pg_client, "insp1")
    mine = pg_client.get("/api/queue", params={"status": "all"}).json()
    assert mine["scope"] == "mine" and mine["total"] == dealt.json()["assigned"]["insp1"] > 0
    agent_token = sign_in(pg_client, "a1024")
    appeal = pg_client.post(
        f"/api/calls/{OWN}/appeals", json={"reason": "整通不服", "points": 2}, headers={"X-CSRF-Token": agent_token}
    )
    assert appeal.status_code == 201, appeal.text
