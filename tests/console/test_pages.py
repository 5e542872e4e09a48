"""The agent, rules and reports pages, and appeals through the console: an agent appeals a hit of their
own call, the team lead passes it on, the QA lead accepts it and the score follows."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from tests.console.conftest import BANNED_HIT, MONTH, OTHER, OWN, make_client, sign_in

pytestmark = pytest.mark.issue(12)


def _post(client, url: str, token: str, body: dict | None = None):  # noqa: ANN001, ANN202
    return client.post(url, json=body or {}, headers={"X-CSRF-Token": token})


def test_an_appeal_goes_from_the_agent_through_the_team_lead_to_the_qa_lead(client, db_url, lexicon):
    token = sign_in(client, "a1024")
    before = client.get(f"/api/calls/{OWN}").json()["score"]
    opened = _post(client, f"/api/calls/{OWN}/appeals", token, {"hit_id": BANNED_HIT, "reason": "这是客户的原话"})
    assert opened.status_code == 201, opened.text
    appeal_id = opened.json()["appeal"]
    assert opened.json()["call"]["review"]["appeals"][0]["state"] == "submitted"
    again = _post(client, f"/api/calls/{OWN}/appeals", token, {"hit_id": BANNED_HIT, "reason": "再申诉"})
    assert again.status_code == 409 and "still open" in again.text
    assert "这是客户的原话" in client.get("/agents/1024").text

    lead = make_client(db_url, lexicon)
    lead_token = sign_in(lead, "tl1")
    refused = _post(lead, f"/api/appeals/{appeal_id}/decision", lead_token, {"decision": "accept", "comment": "同意"})
    assert refused.status_code == 403 and "team lead forwards" in refused.text
    forwarded = _post(lead, f"/api/appeals/{appeal_id}/decision", lead_token,
                      {"decision": "forward", "comment": "请主管定"})  # fmt: skip
    assert forwarded.status_code == 200 and forwarded.json()["appeal"]["level"] == 2

    qa = make_client(db_url, lexicon)
    qa_token = sign_in(qa, "lead1")
    accepted = _post(qa, f"/api/appeals/{appeal_id}/decision", qa_token, {"decision": "accept", "comment": "属实"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["appeal"]["state"] == "accepted"
    after = client.get(f"/api/calls/{OWN}").json()
    assert after["score"] == before + 20 and after["review"]["verdicts"][BANNED_HIT]["verdict"] is False
    assert [a["state"] for a in client.get("/api/appeals", params={"agent_id": "1024"}).json()] == ["accepted"]


def test_an_agent_withdraws_and_cannot_appeal_for_another_agent(client):
    token = sign_in(client, "a1024")
    opened = _post(client, f"/api/calls/{OWN}/appeals", token, {"reason": "整通不服", "points": 5})
    assert opened.status_code == 201
    withdrawn = _post(client, f"/api/appeals/{opened.json()['appeal']}/withdraw", token)
    assert withdrawn.status_code == 200 and withdrawn.json()["appeal"]["state"] == "withdrawn"
    assert _post(client, f"/api/calls/{OTHER}/appeals", token, {"reason": "x"}).status_code == 403


def test_the_agent_page_shows_the_month_trend_and_appeals(client):
    sign_in(client, "a1024")
    page = client.get("/agents/1024").text
    assert "王芳" in page and "平均" in page and OWN in page and 'class="trend"' in page
    assert client.get("/agents").headers.get("location") is None  # followed to the agent's own page
    assert client.get("/agents", follow_redirects=False).headers["location"] == "/agents/1024"


def test_a_team_lead_sees_their_team_only(client):
    sign_in(client, "tl1")
    page = client.get("/agents").text
    assert "/agents/1024" in page and "/agents/2048" in page
    assert "/agents/3072" not in page and "/agents/4096" not in page
    appeals = client.get("/api/appeals").json()
    assert all(a["agent_id"] in ("1024", "2048") for a in appeals)


def test_the_rules_page_shows_precision_from_verdicts_and_drills_down(client):
    token = sign_in(client, "insp1")
    assert (
        _post(
            client, f"/api/calls/{OWN}/hits/{BANNED_HIT}/verdict", token, {"verdict": "false", "reason": "asr"}
        ).status_code
        == 200
    )
    page = client.get("/rules").text
    assert 'href="/rules/BAN-002?month=2026-11"' in page and "0%" in page and "识别错误 1" in page
    precision = client.get("/api/rules/precision").json()
    assert precision[0]["rule_id"] == "BAN-002" and precision[0]["false"] == 1
    drill = client.get("/rules/BAN-002", params={"month": MONTH}).text
    assert OWN in drill and "误命中 · insp1" in drill and "让客户找领导" in drill


def test_the_lexicon_check_runs_once(db_url, lexicon, monkeypatch):
    """On the console's own lexicon folder (here the small test lexicon, which checks in a second)."""
    from fastapi.testclient import TestClient

    from qc.console import page_rules
    from qc.console.app import create_app
    from qc.inspection import check
    from qc.store import Store
    from tests.conftest import DATA

    runs = []
    real = check.check_lexicon
    monkeypatch.setattr(check, "check_lexicon", lambda *a: runs.append(a) or real(*a))
    app = create_app(Store(db_url), lexicon, "k" * 40, lexicon_dir=DATA / "lexicon_small")
    client = TestClient(app)
    sign_in(client, "lead1")
    first = client.get("/rules/check").text
    assert 'id="check-result"' in first and "通过：11 条规则" in first and "lexicon_small" in first
    assert client.get("/rules/check").text == first and len(runs) == 1
    assert page_rules.lexicon_check(app.state.console)["ok"] is True


def test_reports_download_the_pipeline_s_files(client):
    sign_in(client, "insp1")
    sheet = client.get("/reports/monthly", params={"month": MONTH})
    assert sheet.status_code == 200 and "attachment" in sheet.headers["content-disposition"]
    book = load_workbook(io.BytesIO(sheet.content))
    assert any("1024" in name for name in book.sheetnames)
    lines = client.get("/reports/examples", params={"month": MONTH, "format": "jsonl", "rule": "BAN-002"})
    assert lines.status_code == 200
    rows = [json.loads(line) for line in lines.text.splitlines()]
    assert rows and all("BAN-002" in json.dumps(r, ensure_ascii=False) for r in rows)
    listing = client.get("/reports/sample", params={"month": MONTH, "format": "csv", "per_agent": 1})
    assert listing.status_code == 200 and OWN.split("-")[0] in listing.text
    empty = client.get("/reports/monthly", params={"month": "2025-01"})
    assert empty.status_code == 404 and "no scored calls for 2025-01" in empty.text


def test_a_lead_locks_the_month_from_the_reports_page(client):
    token = sign_in(client, "lead1")
    assert f'data-post="/api/months/{MONTH}/lock"' in client.get("/reports").text
    assert _post(client, f"/api/months/{MONTH}/lock", token).status_code == 200
    assert _post(client, f"/api/months/{MONTH}/lock", token).status_code == 409
    assert f'data-post="/api/months/{MONTH}/lock"' not in client.get("/reports").text
