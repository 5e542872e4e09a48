"""Issue 11, item 6: the review queue — its order by reason, the seeded random share, round-robin
assignment to inspectors, who may assign, the done state after verdicts, and the console's paged
read — on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, inspect, select, text, update

from qc.cli import cli
from qc.review.queue import assign, build_queue, mark_done, queue_page
from qc.review.users import ReviewError
from qc.store import Store
from qc.store.tables import (
    agents,
    assignments,
    audit_log,
    call_categories,
    calls,
    hits,
    results,
    rulesets,
    users,
    verdicts,
)
from tests.conftest import SAMPLES

pytestmark = pytest.mark.issue(11)

MONTH = "2026-11"


@pytest.fixture()
def store(db_url):
    s = Store(db_url)
    with s.engine.begin() as conn:  # PostgreSQL: the shared conftest does not drop the queue's table
        conn.execute(delete(assignments))
        conn.execute(rulesets.insert().values(version="t1", lexicon_root="", first_used_at="2026-11-30"))
        for name, role in (("lead", "qa_lead"), ("boss", "admin"), ("wang", "inspector"), ("zhang", "inspector"),
                           ("liu", "inspector"), ("a1024", "agent"), ("tl", "team_lead")):  # fmt: skip
            conn.execute(users.insert().values(name=name, role=role, created_at="2026-11-01T00:00:00+00:00"))
    yield s
    s.close()


def _agent(conn, agent_id: str, team: str | None = None) -> None:
    if conn.execute(select(agents.c.agent_id).where(agents.c.agent_id == agent_id)).first() is None:
        conn.execute(agents.insert().values(agent_id=agent_id, agent_name=f"坐席{agent_id}", team=team))


def _call(
    conn,
    call_id: str,
    agent: str,
    score: float = 100.0,
    veto: bool = False,
    warnings: tuple[str, ...] = (),
    hit_statuses: tuple[str, ...] = (),
    categories: tuple[str, ...] = (),
    month: str = MONTH,
    rule: str = "BAN-002",
) -> None:
    """A stored call as `qc score` leaves it, with hits of the given statuses."""
    _agent(conn, agent)
    conn.execute(
        calls.insert().values(
            call_id=call_id, agent_id=agent, started_at=f"{month}-05T10:00:00+08:00", month=month,
            audio=f"/rec/{call_id}.wav", transcript={"utterances": []},
        )
    )  # fmt: skip
    conn.execute(
        results.insert().values(
            call_id=call_id, ruleset="t1", score=score, veto=veto, polite_count=0, polite_terms={}, checks={},
            warnings=list(warnings), scored_at="2026-11-30T00:00:00+00:00",
        )
    )  # fmt: skip
    for seq, status in enumerate(hit_statuses):
        conn.execute(
            hits.insert().values(
                call_id=call_id, seq=seq, rule_id=rule, category="banned", name="规则", speaker="agent", utterance=seq,
                text="原话", context="原话", deduction=0.0 if status == "suspected" else 5.0, veto=False,
                hit_id=f"{rule}@{seq}#{seq}", status=status, confidence=0.6 if status == "suspected" else 1.0,
            )
        )  # fmt: skip
    for name in categories:
        conn.execute(call_categories.insert().values(call_id=call_id, name=name, source="rule", confidence=1.0))


def _verdict(conn, call_id: str, seq: int, at: str = "2026-12-01T09:00:00+00:00", rule: str = "BAN-002") -> None:
    conn.execute(
        verdicts.insert().values(
            call_id=call_id, hit_id=f"{rule}@{seq}#{seq}", verdict=True, by_user="wang", at=at,
            machine_status="suspected", rule_id=rule,
        )
    )  # fmt: skip


def _reasons_month(store: Store) -> None:
    """Agent 1024 has one call of every reason, agent 2048 a suspected call and a veto, plus fillers."""
    with store.engine.begin() as conn:
        _call(conn, "S1", "1024", score=90.0, hit_statuses=("suspected", "confirmed"))
        _call(conn, "V1", "1024", score=0.0, veto=True, hit_statuses=("confirmed",))
        _call(conn, "R1", "1024", score=95.0, warnings=("roles unsure: mono call, confidence 0.55",))
        _call(conn, "L1", "1024", score=40.0, hit_statuses=("confirmed",))
        _call(conn, "C1", "1024", score=88.0, categories=("投诉", "查件"))
        _call(conn, "F1", "1024", score=70.0)
        _call(conn, "F2", "1024", score=85.0)
        _call(conn, "J1", "1024", score=30.0, hit_statuses=("suspected", "confirmed"))  # suspected hit judged
        _verdict(conn, "J1", 0)
        for i in range(5):
            _call(conn, f"G{i}", "1024", score=100.0)
        _call(conn, "S2", "2048", score=100.0, hit_statuses=("suspected",))
        _call(conn, "V2", "2048", score=0.0, veto=True)
        _call(conn, "X2", "2048", score=99.0)
        _call(conn, "OCT", "1024", score=0.0, veto=True, month="2026-10")


def test_the_queue_takes_reasons_in_order_and_ranks_them_across_agents(store):
    _reasons_month(store)
    queue = build_queue(store, MONTH, per_agent=9, random_share=0.0)
    mine = [q for q in queue if q.agent_id == "1024"]
    assert [(q.call_id, q.reason) for q in mine] == [
        ("S1", "suspected"),
        ("V1", "veto"),
        ("R1", "roles"),
        ("J1", "low"),  # its only suspected hit has a verdict: no longer 疑似待确认
        ("L1", "low"),
        ("C1", "complaint"),  # a complaint call comes after failing scores, before passing low ones
        ("F1", "low"),
        ("F2", "low"),
        ("G0", "low"),
    ]
    assert [q.position for q in mine] == list(range(1, 10))
    assert "OCT" not in {q.call_id for q in queue}  # another month
    assert mine[0].label == "疑似待确认" and mine[5].label == "投诉来电"
    by_rank = [q.call_id for q in sorted(queue, key=lambda q: q.rank)]
    assert by_rank[:4] == ["S1", "S2", "V1", "V2"]  # every agent's suspected calls, then vetoes, …
    assert sorted(q.rank for q in queue) == list(range(1, len(queue) + 1))
    v1 = next(q for q in queue if q.call_id == "V1")
    assert v1.veto and v1.score == 0.0 and v1.name == "坐席1024" and v1.audio == "/rec/V1.wav" and v1.month == MONTH


def test_must_listen_reasons_take_the_random_share_and_low_scores_do_not(store):
    with store.engine.begin() as conn:
        for i in range(6):
            _call(conn, f"V{i}", "1024", score=float(i), veto=True)
        for i in range(20):
            _call(conn, f"P{i:02d}", "2048", score=float(i))  # all failing, none must-listen
            _call(conn, f"Q{i:02d}", "2048", score=100.0)
    queue = build_queue(store, MONTH, per_agent=5, random_share=0.4, seed=1)
    assert Counter(q.reason for q in queue if q.agent_id == "1024") == {"veto": 5}
    theirs = [q for q in queue if q.agent_id == "2048"]
    assert Counter(q.reason for q in theirs) == {"low": 3, "random": 2}
    assert [q.call_id for q in theirs[:3]] == ["P00", "P01", "P02"]


def test_the_random_share_is_seeded(store):
    with store.engine.begin() as conn:
        for i in range(40):
            _call(conn, f"N{i:02d}", "1024", score=60.0 + i % 7)
    first = build_queue(store, MONTH, per_agent=6, random_share=0.5, seed=3)
    again = build_queue(store, MONTH, per_agent=6, random_share=0.5, seed=3)
    assert first == again
    randoms = {seed: [q.call_id for q in build_queue(store, MONTH, 6, 0.5, seed) if q.reason == "random"]
               for seed in range(6)}  # fmt: skip
    assert all(len(r) == 3 for r in randoms.values())
    assert len({tuple(r) for r in randoms.values()}) > 1  # another seed, another draw
    head = {q.call_id for q in first if q.reason != "random"}
    assert not head & set(randoms[3])


def test_the_file_list_matches_the_listening_list_of_before_when_no_new_reason_applies(store):
    """Without suspected hits or complaints, the queue picks what `sample_calls` over load_month picks."""
    from qc.reports.sampling import sample_calls
    from qc.store import load_month

    with store.engine.begin() as conn:
        for i in range(30):
            _call(conn, f"M{i:02d}", f"{1024 + i % 3}", score=float((i * 37) % 100), veto=i % 11 == 0)
    frame, _ = load_month(store, MONTH)
    before = sample_calls(frame, per_agent=4, random_share=0.5, seed=9)
    queue = build_queue(store, MONTH, per_agent=4, random_share=0.5, seed=9)
    assert [q.call_id for q in queue] == before["call_id"].tolist()
    assert [q.label for q in queue] == before["reason"].tolist()


def test_fully_reviewed_calls_are_not_offered_again(store):
    with store.engine.begin() as conn:
        _call(conn, "DONE", "1024", score=10.0, hit_statuses=("confirmed", "confirmed"))
        _call(conn, "HALF", "1024", score=20.0, hit_statuses=("confirmed", "confirmed"))
        _call(conn, "OPEN", "1024", score=30.0)
        _verdict(conn, "DONE", 0)
        _verdict(conn, "DONE", 1)
        _verdict(conn, "HALF", 0)
    assert [q.call_id for q in build_queue(store, MONTH, per_agent=5)] == ["HALF", "OPEN"]
    assert [q.call_id for q in build_queue(store, MONTH, per_agent=5, include_reviewed=True)] == [
        "DONE",
        "HALF",
        "OPEN",
    ]


def _big_month(store: Store) -> None:
    with store.engine.begin() as conn:
        for a in range(4):
            agent = f"{1000 + a}"
            for i in range(12):
                statuses = ("suspected",) if i < 2 else ()
                _call(conn, f"{agent}-{i:02d}", agent, score=float(40 + i * 4), veto=i == 2, hit_statuses=statuses,
                      categories=("投诉",) if i == 9 else ())  # fmt: skip


def test_assignment_deals_round_robin_so_each_inspector_gets_every_reason(store):
    _big_month(store)
    queue = build_queue(store, MONTH, per_agent=9, random_share=0.25, seed=2)
    # 低分 twice (under the pass mark, then the lowest passing), with the complaint calls between them
    assert Counter(q.reason for q in queue) == {"suspected": 8, "veto": 4, "low": 12, "complaint": 4, "random": 8}
    done = assign(store, MONTH, queue, "lead", ["wang", "zhang", "liu"])
    assert set(done.assigned) == {q.call_id for q in queue} and not done.kept
    with store.engine.connect() as conn:
        rows = {r.call_id: r for r in conn.execute(select(assignments))}
        assert conn.execute(select(func.count()).select_from(audit_log).where(audit_log.c.action == "queue assign")
                            ).scalar_one() == 1  # fmt: skip
    assert len(rows) == len(queue)
    totals = Counter(r.inspector for r in rows.values())
    assert set(totals) == {"wang", "zhang", "liu"} and max(totals.values()) - min(totals.values()) <= 1
    for reason in {q.reason for q in queue}:
        shares = Counter(rows[q.call_id].inspector for q in queue if q.reason == reason)
        counts = [shares.get(n, 0) for n in ("wang", "zhang", "liu")]
        assert max(counts) - min(counts) <= 1, (reason, shares)
    for q in queue:
        row = rows[q.call_id]
        assert (row.rank, row.reason, row.month, row.assigned_by, row.done_at) == (
            q.rank,
            q.reason,
            MONTH,
            "lead",
            None,
        )
    first = min(queue, key=lambda q: q.rank)
    assert rows[first.call_id].inspector == "wang"  # dealing starts at the first name, in rank order


def test_only_a_lead_assigns_and_only_reviewers_are_assigned(store):
    _big_month(store)
    queue = build_queue(store, MONTH, per_agent=3)
    for by, names, message in (
        ("wang", ["zhang"], "qa_lead"),
        ("tl", ["zhang"], "qa_lead"),
        ("nobody", ["zhang"], "unknown user"),
        ("lead", ["a1024"], "a1024"),
        ("lead", ["ghost"], "unknown user"),
    ):
        with pytest.raises(ReviewError, match=message):
            assign(store, MONTH, queue, by, names)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(assignments)).scalar_one() == 0
    assert len(assign(store, MONTH, queue, "boss", None).assigned) == len(queue)  # None: every inspector
    with store.engine.connect() as conn:
        assert {i for (i,) in conn.execute(select(assignments.c.inspector))} == {"wang", "zhang", "liu"}


def test_assigned_calls_stay_with_their_inspector_unless_reassigned(store):
    _big_month(store)
    queue = build_queue(store, MONTH, per_agent=4)
    assign(store, MONTH, queue, "lead", ["wang"])
    again = assign(store, MONTH, queue, "lead", ["zhang"])
    assert not again.assigned and set(again.kept) == {q.call_id for q in queue}
    with store.engine.connect() as conn:
        assert {i for (i,) in conn.execute(select(assignments.c.inspector))} == {"wang"}
    moved = assign(store, MONTH, queue, "lead", ["zhang"], reassign=True)
    assert moved.reassigned == len(queue) and set(moved.assigned.values()) == {"zhang"}
    with store.engine.connect() as conn:
        assert {i for (i,) in conn.execute(select(assignments.c.inspector))} == {"zhang"}
        assert conn.execute(select(func.count()).select_from(assignments)).scalar_one() == len(queue)


def test_a_call_is_done_once_every_hit_has_a_verdict(store):
    with store.engine.begin() as conn:
        _call(conn, "TWO", "1024", score=10.0, hit_statuses=("suspected", "confirmed"))
        _call(conn, "CLEAN", "1024", score=20.0)
    assign(store, MONTH, build_queue(store, MONTH, per_agent=5), "lead", ["wang"])

    def state() -> dict[str, tuple[str, str | None, int, int]]:
        rows, total = queue_page(store, inspector="wang")
        assert total == 2
        return {r.call_id: (r.status, r.done_at, r.n_hits, r.n_judged) for r in rows}

    assert state() == {"TWO": ("pending", None, 2, 0), "CLEAN": ("pending", None, 0, 0)}
    with store.engine.begin() as conn:
        _verdict(conn, "TWO", 0, at="2026-12-01T09:00:00+00:00")
    assert state()["TWO"] == ("pending", None, 2, 1)
    with store.engine.begin() as conn:
        with pytest.raises(ReviewError, match="1 hit"):
            mark_done(conn, "TWO")
        _verdict(conn, "TWO", 1, at="2026-12-02T10:00:00+00:00")
    assert state()["TWO"] == ("done", "2026-12-02T10:00:00+00:00", 2, 2)  # the time of its last verdict
    assert [r.call_id for r in queue_page(store, status="done")[0]] == ["TWO"]
    assert [r.call_id for r in queue_page(store, status="pending")[0]] == ["CLEAN"]
    with store.engine.begin() as conn, pytest.raises(ReviewError, match="needs one of"):
        mark_done(conn, "CLEAN", by="a1024")  # a call with no hits is done when a reviewer says so
    with store.engine.begin() as conn:
        at = mark_done(conn, "CLEAN", by="wang")
        with pytest.raises(ReviewError, match="not in the review queue"):
            mark_done(conn, "NOPE")
    assert state()["CLEAN"] == ("done", at, 0, 0)
    assert queue_page(store, status="pending") == ([], 0)
    assert build_queue(store, MONTH, per_agent=5) == ()  # both reviewed: nothing offered again


def test_queue_page_filters_and_pages_in_rank_order(store):
    _big_month(store)
    with store.engine.begin() as conn:
        conn.execute(update(agents).where(agents.c.agent_id.in_(["1000", "1001"])).values(team="east"))
        _call(conn, "RULE", "1003", score=10.0, hit_statuses=("confirmed",), rule="NS-009")
        _call(conn, "NOV-OTHER", "1003", score=99.5, month="2026-12")
    queue = build_queue(store, MONTH, per_agent=7, random_share=0.0) + build_queue(store, "2026-12", per_agent=1)
    assign(store, MONTH, [q for q in queue if q.month == MONTH], "lead", ["wang", "zhang"])
    assign(store, "2026-12", [q for q in queue if q.month == "2026-12"], "lead", ["liu"])
    everything, total = queue_page(store, per_page=500)
    assert total == len(queue) == len(everything)
    assert [(r.rank, r.call_id) for r in everything] == sorted((r.rank, r.call_id) for r in everything)

    pages, n = [], 1
    while True:
        rows, total = queue_page(store, month=MONTH, page=n, per_page=7)
        assert total == len(queue) - 1 and len(rows) <= 7
        if not rows:
            break
        pages.extend(rows)
        n += 1
    assert n == -(-total // 7) + 1
    assert [r.call_id for r in pages] == [r.call_id for r in everything if r.month == MONTH]

    def ids(**kwargs) -> set[str]:
        rows, total = queue_page(store, per_page=500, **kwargs)
        assert total == len(rows)
        return {r.call_id for r in rows}

    assert ids(inspector="liu") == {"NOV-OTHER"}
    wang = ids(inspector="wang", month=MONTH)
    assert wang and not wang & ids(inspector="zhang")
    assert ids(agent="1002") == {q.call_id for q in queue if q.agent_id == "1002"}
    assert ids(team="east") == {q.call_id for q in queue if q.agent_id in ("1000", "1001")}
    assert ids(rule="NS-009") == {"RULE"}
    assert ids(rule="BAN-002") == {q.call_id for q in queue if q.call_id.endswith(("-00", "-01"))}
    assert ids(category="投诉") == {q.call_id for q in queue if q.call_id.endswith("-09")} != set()
    assert ids(category="投诉", inspector="wang") < ids(category="投诉")
    assert ids(status="done") == set()
    row = next(r for r in everything if r.call_id == "1000-02")
    assert (row.agent_id, row.agent_name, row.team, row.veto, row.reason, row.label) == (
        "1000",
        "坐席1000",
        "east",
        True,
        "veto",
        "致命项",
    )
    with pytest.raises(ReviewError, match="status"):
        queue_page(store, status="finished")
    with pytest.raises(ReviewError, match="page"):
        queue_page(store, page=0)


def _run(*args: str):  # noqa: ANN202
    return CliRunner().invoke(cli, list(args))


def test_qc_sample_assigns_through_the_cli(store, tmp_path):
    url = store.url
    assert _run("score", str(SAMPLES), "--db", url).exit_code == 0
    plain = tmp_path / "plain.csv"
    result = _run("sample", "--month", MONTH, "--per-agent", "2", "--out", str(plain), "--db", url)
    assert result.exit_code == 0, result.stderr
    assert "质检员" not in plain.read_text(encoding="utf-8-sig").splitlines()[0]
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(assignments)).scalar_one() == 0  # nothing assigned

    refused = _run("sample", "--month", MONTH, "--assign", "wang", "--by", "zhang", "--out", str(plain), "--db", url)
    assert refused.exit_code == 1 and "assigning the review queue needs one of" in refused.stderr
    assert _run("sample", "--month", MONTH, "--assign", "wang", "--out", str(plain), "--db", url).exit_code == 2

    out = tmp_path / "assigned.xlsx"
    result = _run("sample", "--month", MONTH, "--per-agent", "2", "--assign-all", "--by", "lead", "--out", str(out),
                  "--db", url)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    sheet = openpyxl.load_workbook(out)["复听清单"]
    header = [c.value for c in sheet[1]]
    assert header[header.index("录音") + 1] == "质检员"
    listed = {
        r[header.index("通话编号")]: r[header.index("质检员")] for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    with store.engine.connect() as conn:
        stored = dict(conn.execute(select(assignments.c.call_id, assignments.c.inspector)).all())
    assert listed == stored and set(stored.values()) == {"wang", "zhang", "liu"}
    reasons = {r[header.index("抽样原因")] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert "疑似待确认" in reasons  # every sample call has a suspected hit nobody judged


def test_a_version_5_database_gains_the_queue_indexes(db_url):
    store = Store(db_url)
    with store.engine.begin() as conn:
        for table in ("assignments", "appeals", "adjustments"):
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        conn.execute(text("DROP INDEX IF EXISTS ix_hits_call_rule"))
        conn.execute(text("UPDATE qc_meta SET value='5' WHERE key='schema_version'"))
    store.close()
    upgraded = Store(db_url)
    with upgraded.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM qc_meta WHERE key='schema_version'")).scalar() == "6"
        names = {i["name"] for i in inspect(conn).get_indexes("hits")}
        queue_names = {i["name"] for i in inspect(conn).get_indexes("assignments")}
    assert "ix_hits_call_rule" in names
    assert {"ix_assignments_inspector_month_rank", "ix_assignments_month_rank"} <= queue_names
    upgraded.close()
