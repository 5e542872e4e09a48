"""Issue 11: appeals (申诉) through a team lead to the QA lead — every state change and every refusal —
manual scoring of a 考评项, and locked months turning a late overturn into next month's adjustment.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from qc.cli import cli
from qc.review.desk import ReviewDesk
from qc.review.users import ReviewError
from qc.store import Store
from qc.store.tables import adjustments, appeals, results
from tests.conftest import SAMPLES

pytestmark = pytest.mark.issue(11)

BAD = "20261106-1500-3072-0002"  # agent 3072: 你快点讲 and friends


def _run(*args: str, stdin: str | None = None):  # noqa: ANN202
    return CliRunner().invoke(cli, list(args), input=stdin)


@pytest.fixture()
def desk(db_url, lexicon):
    assert _run("score", str(SAMPLES), "--db", db_url).exit_code == 0
    people = (
        ("qa", "qa_lead", []),
        ("insp", "inspector", []),
        ("lead_a", "team_lead", ["--team", "A"]),
        ("lead_b", "team_lead", ["--team", "B"]),
        ("a3072", "agent", ["--agent-id", "3072", "--team", "A"]),
        ("a1024", "agent", ["--agent-id", "1024", "--team", "B"]),
    )
    for name, role, extra in people:
        result = _run("user", "add", name, "--role", role, *extra, "--password-stdin", "--db", db_url, stdin="pw\n")
        assert result.exit_code == 0, result.stderr
    return ReviewDesk(Store(db_url), lexicon)


def _charged(desk: ReviewDesk, call_id: str) -> dict:
    return next(h for h in desk.show(call_id)["hits"] if h["deduction"] > 0)


def test_a_hit_appeal_goes_through_the_team_lead_to_the_qa_lead_and_raises_the_score(desk):
    before = desk.show(BAD)
    hit = _charged(desk, BAD)
    appeal_id = desk.open_appeal(BAD, "a3072", "客户先说的，我是复述", hit_id=hit["hit_id"])
    assert desk.show(BAD)["review"]["appeals"][0]["state"] == "submitted"
    with pytest.raises(ReviewError, match="team lead forwards"):
        desk.decide_appeal(appeal_id, "lead_a", "accept", "同意")
    forwarded = desk.decide_appeal(appeal_id, "lead_a", "forward", "属实，请质检主管复核")
    assert forwarded["state"] == "submitted" and forwarded["level"] == 2
    with pytest.raises(ReviewError, match="with the QA lead now"):
        desk.decide_appeal(appeal_id, "lead_a", "reject", "改主意了")
    done = desk.decide_appeal(appeal_id, "qa", "accept", "录音核实")
    assert done["state"] == "accepted" and done["points"] == hit["deduction"]
    assert done["score"] == [before["score"], pytest.approx(min(100, before["score"] + hit["deduction"]))]
    after = desk.show(BAD)
    (judged,) = [h for h in after["hits"] if h["hit_id"] == hit["hit_id"]]
    assert judged["status"] == "rejected" and judged["deduction"] == 0
    assert after["review"]["verdicts"][hit["hit_id"]]["verdict"] is False
    assert after["review"]["versions"][-1]["cause"] == "appeal"
    with pytest.raises(ReviewError, match="accepted already"):
        desk.decide_appeal(appeal_id, "qa", "reject", "再议")


def test_the_decision_survives_scoring_the_calls_again(desk, db_url):
    hit = _charged(desk, BAD)
    appeal_id = desk.open_appeal(BAD, "a3072", "误判", hit_id=hit["hit_id"])
    raised = desk.decide_appeal(appeal_id, "qa", "accept", "误判")["score"][1]
    assert _run("score", str(SAMPLES), "--db", db_url).exit_code == 0
    shown = desk.show(BAD)
    assert shown["score"] == raised
    assert shown["review"]["appeals"][0]["state"] == "accepted"


def test_a_call_appeal_gives_back_the_points_decided(desk):
    before = desk.show(BAD)["score"]
    first = desk.open_appeal(BAD, "a3072", "整通评分过严", points=10)
    with pytest.raises(ReviewError, match="needs --points"):
        desk.decide_appeal(first, "qa", "partial", "部分属实")
    assert desk.decide_appeal(first, "qa", "partial", "部分属实", points=4)["score"] == [before, before + 4]
    second = desk.open_appeal(BAD, "a3072", "还有一处", points=3)
    assert desk.decide_appeal(second, "qa", "accept", "属实")["score"] == [before + 4, before + 7]
    third = desk.open_appeal(BAD, "a3072", "再申诉")
    assert desk.decide_appeal(third, "lead_a", "reject", "理由不足")["state"] == "rejected"
    assert desk.show(BAD)["score"] == before + 7


@pytest.mark.parametrize(
    ("who", "message"),
    [("a1024", "may not appeal"), ("lead_b", "may not appeal"), ("insp", "may not appeal")],
)
def test_only_the_agent_their_team_lead_or_a_qa_lead_may_appeal(desk, who, message):
    with pytest.raises(ReviewError, match=message):
        desk.open_appeal(BAD, who, "不服")
    assert desk.open_appeal(BAD, "lead_a", "替组员申诉") > 0


def test_refusals_when_deciding(desk):
    appeal_id = desk.open_appeal(BAD, "a3072", "不服", points=5)
    with pytest.raises(ReviewError, match="not in 'lead_b'"):
        desk.decide_appeal(appeal_id, "lead_b", "reject", "不是我组")
    with pytest.raises(ReviewError, match="needs a team lead or a QA lead"):
        desk.decide_appeal(appeal_id, "insp", "accept", "可以")
    with pytest.raises(ReviewError, match="needs --comment"):
        desk.decide_appeal(appeal_id, "qa", "accept", " ")
    with pytest.raises(ReviewError, match="unknown appeal #999"):
        desk.decide_appeal(999, "qa", "accept", "可以")
    with pytest.raises(ReviewError, match="unknown user"):
        desk.decide_appeal(appeal_id, "nobody", "accept", "可以")
    with pytest.raises(ReviewError, match="still open"):
        desk.open_appeal(BAD, "a3072", "再来一次")
    with pytest.raises(ReviewError, match="unknown call"):
        desk.open_appeal("no-such-call", "qa", "不服")
    with pytest.raises(ReviewError, match="has no hit"):
        desk.open_appeal(BAD, "a3072", "不服", hit_id="XYZ@1")


def test_withdrawing(desk):
    appeal_id = desk.open_appeal(BAD, "a3072", "不服")
    with pytest.raises(ReviewError, match="only a3072"):
        desk.withdraw_appeal(appeal_id, "lead_a")
    assert desk.withdraw_appeal(appeal_id, "a3072")["state"] == "withdrawn"
    with pytest.raises(ReviewError, match="withdrawn already"):
        desk.decide_appeal(appeal_id, "qa", "accept", "可以", points=1)


def test_deadlines(desk, monkeypatch):
    monkeypatch.setenv("QC_APPEAL_DAYS", "3")
    now = datetime.now(timezone.utc)
    appeal_id = desk.open_appeal(BAD, "a3072", "不服", points=2, now=now)
    later = now + timedelta(days=3, hours=1)
    assert desk.list_appeals(call_id=BAD, now=later)[0]["state"] == "expired"  # shown so before anyone acts
    with pytest.raises(ReviewError, match="expired at"):
        desk.decide_appeal(appeal_id, "qa", "accept", "晚了", now=later)
    with desk.store.engine.connect() as conn:
        assert conn.execute(select(appeals.c.state).where(appeals.c.id == appeal_id)).scalar() == "expired"
    with pytest.raises(ReviewError, match="appeal window of call .* closed"):
        desk.open_appeal(BAD, "a3072", "又不服", now=now + timedelta(days=4))


def test_a_locked_month_keeps_its_result_and_the_overturn_lands_in_the_next_month(desk):
    hit = _charged(desk, BAD)
    appeal_id = desk.open_appeal(BAD, "a3072", "误判", hit_id=hit["hit_id"])
    before = desk.show(BAD)["score"]
    desk.lock_month("2026-11", "qa")
    done = desk.decide_appeal(appeal_id, "qa", "accept", "录音核实")
    assert done["state"] == "accepted" and "score" not in done
    assert done["adjustment"]["month"] == "2026-12" and done["adjustment"]["points"] > 0
    shown = desk.show(BAD)
    assert shown["score"] == before and hit["hit_id"] not in shown["review"]["verdicts"]
    with desk.store.engine.connect() as conn:
        (row,) = conn.execute(select(adjustments)).mappings().all()
        assert (row["call_month"], row["month"], row["agent_id"], row["appeal_id"]) == (
            "2026-11",
            "2026-12",
            "3072",
            appeal_id,
        )
        assert conn.execute(select(results.c.score).where(results.c.call_id == BAD)).scalar() == before


def test_an_item_scored_by_hand(desk):
    before = desk.show(BAD)
    old, new = desk.add_finding(BAD, None, "insp", "语气不耐烦", points=3, item="语气语调")
    room = 10 - before["items"]["语气语调"]["lost"]  # an item never loses more than its weight
    assert old == before["score"] and new == pytest.approx(old - min(3, room))
    shown = desk.show(BAD)
    assert shown["review"]["manual"][-1]["item"] == "语气语调"
    assert shown["items"]["语气语调"]["lost"] == pytest.approx(min(10, before["items"]["语气语调"]["lost"] + 3))
    with pytest.raises(ReviewError, match="unknown 考评项"):
        desk.add_finding(BAD, None, "insp", "x", points=3, item="颜值")
    with pytest.raises(ReviewError, match="needs --points"):
        desk.add_finding(BAD, None, "insp", "x", item="语气语调")
    with pytest.raises(ReviewError, match="either a rule"):
        desk.add_finding(BAD, "BAN-001", "insp", "x", points=3, item="语气语调")


def test_appeals_through_the_cli(desk, db_url):
    hit = _charged(desk, BAD)
    opened = _run("appeal", "open", BAD, "--hit", hit["hit_id"], "--reason", "误判", "--by", "a3072", "--db", db_url)
    assert opened.exit_code == 0, opened.stderr
    appeal_id = opened.stdout.split("#")[1].split()[0]
    refused = _run("appeal", "decide", appeal_id, "--accept", "--comment", "ok", "--by", "insp", "--db", db_url)
    assert refused.exit_code == 1 and "needs a team lead or a QA lead" in refused.stderr
    decided = _run("appeal", "decide", appeal_id, "--accept", "--comment", "ok", "--by", "qa", "--db", db_url)
    assert decided.exit_code == 0 and "accepted" in decided.stdout and "score" in decided.stdout
    listed = _run("appeal", "list", "--json", "--db", db_url)
    assert [json.loads(line)["state"] for line in listed.stdout.splitlines()] == ["accepted"]
    shown = json.loads(_run("show", BAD, "--json", "--db", db_url).stdout)
    assert shown["review"]["appeals"][0]["decided_by"] == "qa"


@pytest.mark.parametrize("days", ["seven", "0"])
def test_a_bad_appeal_window_setting_is_one_line(desk, db_url, monkeypatch, days):
    monkeypatch.setenv("QC_APPEAL_DAYS", days)
    done = _run("appeal", "open", BAD, "--reason", "不服", "--by", "a3072", "--db", db_url)
    assert done.exit_code == 1 and done.stderr.count("\n") == 1 and "QC_APPEAL_DAYS" in done.stderr
    assert desk.list_appeals() == []
