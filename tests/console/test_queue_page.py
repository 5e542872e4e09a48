"""The queue page: before anything is assigned, every call of the month in the sampling order; after a
lead deals the queue, each inspector's own calls by rank, filtered and paged, done once judged."""

from __future__ import annotations

import re

import pytest

from tests.console.conftest import BANNED_HIT, MONTH, OWN, make_client, sign_in

pytestmark = pytest.mark.issue(12)


def _queue(client, **params) -> dict:  # noqa: ANN001
    response = client.get("/api/queue", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_before_assignment_the_whole_month_in_sampling_order(client):
    sign_in(client, "insp1")
    queue = _queue(client, status="all")
    assert queue["scope"] == "all" and queue["month"] == MONTH
    reasons = [c["reason"] for c in queue["calls"]]
    order = ["suspected", "veto", "low", "complaint", "random"]
    assert reasons == sorted(reasons, key=order.index)  # tiers never interleave
    assert reasons[0] == "suspected" and len(queue["calls"]) == 9
    suspected = [c for c in queue["calls"] if c["reason"] == "suspected"]
    assert all(c["suspected"] > 0 for c in suspected)
    assert [c["score"] for c in suspected] == sorted(c["score"] for c in suspected)


def test_filters_narrow_the_month(client):
    sign_in(client, "insp1")
    assert {c["agent_id"] for c in _queue(client, status="all", agent="3072")["calls"]} == {"3072"}
    assert {c["agent_id"] for c in _queue(client, status="all", team="T1")["calls"]} == {"1024", "2048"}
    assert {c["call_id"] for c in _queue(client, status="all", rule="BAN-002")["calls"]} >= {OWN}
    complaints = _queue(client, status="all", category="投诉")["calls"]
    assert complaints and all("投诉" in c["categories"] for c in complaints)
    assert _queue(client, status="all", rule="NO-SUCH-RULE")["calls"] == []


def test_judging_every_hit_moves_a_call_to_done(client):
    token = sign_in(client, "insp1")
    shown = client.get(f"/api/calls/{OWN}").json()
    for hit in shown["hits"]:
        url = f"/api/calls/{OWN}/hits/{hit['hit_id']}/verdict"
        assert client.post(url, json={"verdict": "true"}, headers={"X-CSRF-Token": token}).status_code == 200
    assert OWN not in {c["call_id"] for c in _queue(client)["calls"]}
    assert OWN in {c["call_id"] for c in _queue(client, status="done")["calls"]}


def test_a_lead_deals_the_queue_and_each_inspector_sees_their_share(client, db_url, lexicon):
    inspector = make_client(db_url, lexicon)
    sign_in(inspector, "insp1")
    token = sign_in(client, "lead1")
    response = client.post(
        "/api/queue/assign", json={"month": MONTH, "per_agent": 2, "inspectors": ["insp1", "lead1"]},
        headers={"X-CSRF-Token": token},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    dealt = response.json()["assigned"]
    assert set(dealt) == {"insp1", "lead1"} and abs(dealt["insp1"] - dealt["lead1"]) <= 1
    mine = _queue(inspector, status="all")
    assert mine["scope"] == "mine" and mine["total"] == dealt["insp1"] == len(mine["calls"])
    ranks = [c["rank"] for c in mine["calls"]]
    assert ranks == sorted(ranks)
    theirs = {c["call_id"] for c in _queue(client, status="all")["calls"]}
    assert theirs.isdisjoint(c["call_id"] for c in mine["calls"])
    page = inspector.get("/queue").text
    assert "分配给我" in page and f"共 {dealt['insp1']} 通" in page and "分配本月队列" not in page


def test_only_leads_assign_and_only_reviewers_mark_done(client):
    token = sign_in(client, "insp1")
    refused = client.post("/api/queue/assign", json={"month": MONTH}, headers={"X-CSRF-Token": token})
    assert refused.status_code == 403
    not_queued = client.post(f"/api/calls/{OWN}/done", headers={"X-CSRF-Token": token})
    assert not_queued.status_code == 404 and "not in the review queue" in not_queued.text


def test_the_queue_page_pages(client):
    sign_in(client, "insp1")
    from qc.console import queue_view

    original = queue_view.PAGE_SIZE
    try:
        queue_view.all_page.__defaults__ = (4,)  # a page of four calls, for nine calls in the month
        first = client.get("/queue", params={"status": "all"}).text
        second = client.get("/queue", params={"status": "all", "page": 2}).text
        third = client.get("/queue", params={"status": "all", "page": 3}).text
    finally:
        queue_view.all_page.__defaults__ = (original,)
    ids = [re.findall(r'class="call-link" href="/calls/([^"]+)"', t) for t in (first, second, third)]
    assert [len(i) for i in ids] == [4, 4, 1]
    assert len({c for page in ids for c in page}) == 9
    assert 'rel="next"' in first and 'rel="next"' not in third and 'rel="prev"' in third


def test_a_verdict_through_the_page_url_shape(client):
    """The hit ids carry @ and : — the verdict URL takes them as they are."""
    token = sign_in(client, "insp1")
    url = f"/api/calls/{OWN}/hits/{BANNED_HIT.replace('@', '%40').replace(':', '%3A')}/verdict"
    assert client.post(url, json={"verdict": "false"}, headers={"X-CSRF-Token": token}).status_code == 200


def test_a_big_month_needs_a_filter_before_it_is_listed_whole(client, monkeypatch):
    from qc.console import queue_view

    monkeypatch.setattr(queue_view, "ALL_LIMIT", 5)  # nine calls: a "big" month here
    sign_in(client, "insp1")
    whole = _queue(client, status="all")
    assert whole["too_big"] and whole["calls"] == []
    assert 'id="too-big"' in client.get("/queue", params={"status": "all"}).text
    narrowed = _queue(client, status="all", agent="1024")
    assert not narrowed["too_big"] and {c["agent_id"] for c in narrowed["calls"]} == {"1024"}
