"""The call page's API (SPEC §7): the call object is `qc show --json`'s, a verdict re-prices the call and
is audited, refusals carry the review desk's message with the right status, and customers' data is
masked below the QA lead."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from qc.cli import cli
from qc.store import Store
from tests.console.conftest import BANNED_HIT, MONTH, OTHER, OWN, make_client, sign_in

pytestmark = pytest.mark.issue(12)


def _cli_show(db_url: str, call_id: str, *extra: str) -> dict:
    result = CliRunner().invoke(cli, ["show", call_id, "--json", "--db", db_url, *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_call_object_is_qc_show_json(client, db_url):
    sign_in(client, "lead1")
    assert client.get(f"/api/calls/{OWN}").json() == _cli_show(db_url, OWN, "--no-mask")


def test_a_verdict_reprices_the_call_and_is_audited(client, db_url):
    token = sign_in(client, "insp1")
    before = client.get(f"/api/calls/{OWN}").json()
    hit = next(h for h in before["hits"] if h["hit_id"] == BANNED_HIT)
    assert hit["deduction"] == 20 and hit["status"] == "confirmed"
    response = client.post(
        f"/api/calls/{OWN}/hits/{BANNED_HIT}/verdict",
        json={"verdict": "false", "reason": "context", "comment": "客户原话"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200
    after = response.json()
    assert after["score"] == before["score"] + 20
    assert after["review"]["verdicts"][BANNED_HIT] == {
        **after["review"]["verdicts"][BANNED_HIT], "verdict": False, "reason": "context", "by": "insp1",
    }  # fmt: skip
    assert [v["cause"] for v in after["review"]["versions"]] == ["auto", "review"]
    assert client.get(f"/api/calls/{OWN}").json()["score"] == after["score"]
    assert _cli_show(db_url, OWN)["score"] == after["score"]
    from qc.review.audit import verify

    store = Store(db_url)
    with store.engine.connect() as conn:
        assert verify(conn) is None
        actor, target = conn.execute(text("SELECT actor, target FROM audit_log WHERE action = 'verdict'")).one()
    assert (actor, target) == ("insp1", f"{OWN}/{BANNED_HIT}")


@pytest.mark.parametrize(
    "path,body,status,message",
    [
        (f"/api/calls/NO-SUCH/hits/{BANNED_HIT}/verdict", {"verdict": "true"}, 404, "unknown call"),
        (f"/api/calls/{OWN}/hits/XX-001@0/verdict", {"verdict": "true"}, 404, "has no hit 'XX-001@0'"),
        (f"/api/calls/{OWN}/hits/{BANNED_HIT}/verdict", {"verdict": "maybe"}, 422, "verdict"),
        (f"/api/calls/{OWN}/hits/{BANNED_HIT}/verdict", {"verdict": "true", "reason": "mood"}, 422, "reason"),
        (f"/api/calls/{OWN}/findings", {"rule_id": "NS-999", "comment": "x"}, 404, "unknown rule 'NS-999'"),
    ],
)
def test_refusals_say_why(client, path, body, status, message):
    token = sign_in(client, "insp1")
    response = client.post(path, json=body, headers={"X-CSRF-Token": token})
    assert response.status_code == status and message in response.text


def test_a_second_verdict_is_a_conflict_unless_a_lead_replaces_it(client, lexicon, db_url):
    token = sign_in(client, "insp1")
    url = f"/api/calls/{OWN}/hits/{BANNED_HIT}/verdict"
    assert client.post(url, json={"verdict": "false"}, headers={"X-CSRF-Token": token}).status_code == 200
    again = client.post(url, json={"verdict": "true"}, headers={"X-CSRF-Token": token})
    assert again.status_code == 409 and "was judged false by insp1" in again.json()["detail"]
    lead = make_client(db_url, lexicon)
    lead_token = sign_in(lead, "lead1")
    changed = lead.post(url, json={"verdict": "true", "replace": True}, headers={"X-CSRF-Token": lead_token})
    assert changed.status_code == 200 and changed.json()["review"]["verdicts"][BANNED_HIT]["by"] == "lead1"


def test_a_locked_month_refuses_verdicts(client):
    token = sign_in(client, "lead1")
    assert client.post(f"/api/months/{MONTH}/lock", headers={"X-CSRF-Token": token}).status_code == 200
    response = client.post(
        f"/api/calls/{OWN}/hits/{BANNED_HIT}/verdict", json={"verdict": "false"}, headers={"X-CSRF-Token": token}
    )
    assert response.status_code == 409 and f"{MONTH} was locked by lead1" in response.json()["detail"]
    assert "已锁定" in client.get(f"/calls/{OWN}").text


def test_a_missed_finding_is_charged(client):
    token = sign_in(client, "insp1")
    before = client.get(f"/api/calls/{OWN}").json()["score"]
    response = client.post(
        f"/api/calls/{OWN}/findings",
        json={"rule_id": "NS-007", "utterance": 2, "points": 4, "comment": "推诿，机器漏了"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert response.json()["score"] == before - 4
    assert response.json()["review"]["manual"][0]["by"] == "insp1"


@pytest.mark.parametrize("user,masked", [("insp1", True), ("tl1", None), ("lead1", False), ("admin1", False)])
def test_customer_numbers_are_masked_below_the_qa_lead(client, user, masked):
    sign_in(client, user)
    page = client.get(f"/calls/{OTHER}")
    if masked is None:  # the team lead of T1 may not open a T2 call at all
        assert page.status_code == 403
        return
    assert page.status_code == 200
    waybill = "七五三一二四六八九二"
    assert (waybill in page.text) is not masked
    assert ("*" * len(waybill) in page.text) is masked
    assert ("客户信息已脱敏" in page.text) is masked


def test_the_call_page_shows_the_transcript_hits_and_player(client):
    sign_in(client, "insp1")
    page = client.get(f"/calls/{OWN}").text
    assert f'<audio id="player" controls preload="auto" src="/calls/{OWN}/audio">' in page
    assert '<mark data-hits="1 2">你找领导去</mark>' in page  # the quoted words (BAN-002, inside PRC-013's turn)
    assert "让客户找领导" in page and "001 第二章第一节" in page  # rule name and the manual's line
    assert "服务用语" in page and "服务态度" in page  # 考评项 subtotals
    assert 'data-hit-id="BAN-002@2:7-12"' in page and 'data-start="9.81"' in page
    assert "/static/vendor/wavesurfer/wavesurfer.min.js" in page
    without_audio = client.get(f"/calls/{OTHER}").text
    assert 'id="no-audio"' in without_audio and "<audio" not in without_audio


def test_the_audio_answers_range_requests(client):
    from tests.conftest import ROOT

    sign_in(client, "a1024")
    recording = (ROOT / "tests" / "data" / "audio" / "stereo_call_8k.wav").read_bytes()
    whole = client.get(f"/calls/{OWN}/audio")
    assert whole.status_code == 200 and whole.content == recording
    assert whole.headers["accept-ranges"] == "bytes" and whole.headers["content-type"] == "audio/wav"
    part = client.get(f"/calls/{OWN}/audio", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == recording[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(recording)}"
    tail = client.get(f"/calls/{OWN}/audio", headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == recording[-100:]
    beyond = client.get(f"/calls/{OWN}/audio", headers={"Range": f"bytes={len(recording) + 10}-"})
    assert beyond.status_code == 416


def test_the_waveform_peaks_follow_the_recording(client):
    sign_in(client, "insp1")
    peaks = client.get(f"/calls/{OWN}/peaks").json()
    assert peaks["duration"] == pytest.approx(19.6, abs=0.05)
    assert len(peaks["channels"]) == 2 and all(0 < len(c) <= 1600 for c in peaks["channels"])
    agent, customer = peaks["channels"]
    # the banned phrase (9.8–12.1 s) is the agent speaking: loud on the agent's channel, quiet on the other
    at = slice(int(10.2 / 19.6 * len(agent)), int(11.6 / 19.6 * len(agent)))
    assert max(agent[at]) > 0.05 and max(agent[at]) > 4 * max(customer[at])
