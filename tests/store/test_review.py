"""Issue 11, first part: users, verdicts on hits, missed findings, score versions, month locks and
the audit chain — on SQLite and PostgreSQL, through the CLI as inspectors use it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from qc.cli import cli
from qc.store import Store
from tests.conftest import SAMPLES

pytestmark = pytest.mark.issue(11)

GOOD = "20261103-0915-1024-0001"  # the manual's case 1: no confirmed hit, suspected process items
BAD = "20261106-1500-3072-0002"  # 你快点讲 and friends


def _run(*args: str, stdin: str | None = None):  # noqa: ANN202
    return CliRunner().invoke(cli, list(args), input=stdin)


@pytest.fixture()
def scored(db_url):
    assert _run("score", str(SAMPLES), "--db", db_url).exit_code == 0
    for name, role, extra in (
        ("wang", "inspector", []),
        ("li", "qa_lead", []),
        ("a1024", "agent", ["--agent-id", "1024"]),
    ):
        result = _run(
            "user", "add", name, "--role", role, *extra, "--password-stdin", "--db", db_url, stdin="pw-12345\n"
        )
        assert result.exit_code == 0, result.stderr
    return db_url


def _show(db_url: str, call_id: str) -> dict:
    result = _run("show", call_id, "--json", "--db", db_url)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _first_hit(shown: dict, status: str) -> dict:
    return next(h for h in shown["hits"] if h["status"] == status and (status != "confirmed" or h["deduction"] > 0))


def test_rejecting_a_hit_raises_the_score_everywhere(scored, tmp_path):
    before = _show(scored, BAD)
    hit = _first_hit(before, "confirmed")
    result = _run("review", "hit", BAD, hit["hit_id"], "--verdict", "false", "--reason", "rule", "--by", "wang",
                  "--db", scored)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    after = _show(scored, BAD)
    assert after["score"] == pytest.approx(before["score"] + hit["deduction"])
    (judged,) = [h for h in after["hits"] if h["hit_id"] == hit["hit_id"]]
    assert judged["status"] == "rejected" and judged["deduction"] == 0
    assert after["review"]["verdicts"][hit["hit_id"]]["verdict"] is False
    assert [(v["n"], v["cause"]) for v in after["review"]["versions"]] == [(1, "auto"), (2, "review")]
    assert after["review"]["versions"][0]["score"] == before["score"]
    sheet = tmp_path / "m.xlsx"
    assert _run("report", "monthly", "--month", "2026-11", "--out", str(sheet), "--db", scored).exit_code == 0
    from openpyxl import load_workbook

    rows = {r[0]: r[2] for r in load_workbook(sheet)["3072 赵敏"].iter_rows(min_row=2, values_only=True)}
    assert rows[BAD] == after["score"]


def test_confirming_a_suspected_hit_deducts_it(scored):
    before = _show(scored, GOOD)
    hit = _first_hit(before, "suspected")
    assert (
        _run("review", "hit", GOOD, hit["hit_id"], "--verdict", "true", "--by", "wang", "--db", scored).exit_code == 0
    )
    after = _show(scored, GOOD)
    (judged,) = [h for h in after["hits"] if h["hit_id"] == hit["hit_id"]]
    assert judged["status"] == "confirmed" and judged["deduction"] > 0
    assert after["score"] == pytest.approx(before["score"] - judged["deduction"])


def test_refusals_name_the_problem(scored):
    hit = _first_hit(_show(scored, BAD), "confirmed")["hit_id"]
    cases = [
        (("review", "hit", "NO-SUCH-CALL", hit, "--verdict", "false", "--by", "wang"), "unknown call 'NO-SUCH-CALL'"),
        (("review", "hit", BAD, "XX-001@0", "--verdict", "false", "--by", "wang"), "has no hit 'XX-001@0'"),
        (("review", "hit", BAD, hit, "--verdict", "false", "--by", "nobody"), "unknown user 'nobody'"),
        (("review", "hit", BAD, hit, "--verdict", "false", "--by", "a1024"), "'a1024' is agent"),
        (("month", "lock", "2026-11", "--by", "wang"), "'wang' is inspector"),
    ]
    for args, message in cases:
        result = _run(*args, "--db", scored)
        assert result.exit_code == 1 and message in result.stderr, (args, result.stderr)


def test_a_second_verdict_needs_a_lead_and_replace(scored):
    hit = _first_hit(_show(scored, BAD), "confirmed")["hit_id"]
    base = ("review", "hit", BAD, hit, "--db", scored)
    assert _run(*base, "--verdict", "false", "--by", "wang").exit_code == 0
    again = _run(*base, "--verdict", "true", "--by", "wang")
    assert again.exit_code == 1 and "was judged false by wang" in again.stderr
    assert _run(*base, "--verdict", "true", "--by", "wang", "--replace").exit_code == 1
    assert _run(*base, "--verdict", "true", "--by", "li", "--replace").exit_code == 0
    shown = _show(scored, BAD)
    assert shown["review"]["verdicts"][hit]["by"] == "li"
    assert [v["cause"] for v in shown["review"]["versions"]] == ["auto", "review", "review"]
    assert shown["review"]["versions"][-1]["score"] == shown["review"]["versions"][0]["score"]


def test_a_missed_finding_is_charged(scored):
    before = _show(scored, GOOD)["score"]
    result = _run("review", "add", GOOD, "--rule", "NS-007", "--utterance", "2", "--points", "4",
                  "--comment", "推诿，机器漏了", "--by", "wang", "--db", scored)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    after = _show(scored, GOOD)
    assert after["score"] == before - 4
    assert after["review"]["manual"][0]["rule_id"] == "NS-007"
    bad_rule = _run("review", "add", GOOD, "--rule", "NS-999", "--comment", "x", "--by", "wang", "--db", scored)
    assert bad_rule.exit_code == 1 and "unknown rule 'NS-999'" in bad_rule.stderr


def test_a_locked_month_refuses_changes(scored):
    assert _run("month", "lock", "2026-11", "--by", "li", "--db", scored).exit_code == 0
    hit = _first_hit(_show(scored, BAD), "confirmed")["hit_id"]
    result = _run("review", "hit", BAD, hit, "--verdict", "false", "--by", "wang", "--db", scored)
    assert result.exit_code == 1 and "2026-11 was locked by li" in result.stderr


def test_the_audit_chain_shows_an_edited_row(scored):
    from qc.review.audit import verify

    hit = _first_hit(_show(scored, BAD), "confirmed")["hit_id"]
    assert _run("review", "hit", BAD, hit, "--verdict", "false", "--by", "wang", "--db", scored).exit_code == 0
    store = Store(scored)
    with store.engine.connect() as conn:
        assert verify(conn) is None
        actions = [a for (a,) in conn.execute(text("SELECT action FROM audit_log ORDER BY id"))]
    assert actions == ["user add", "user add", "user add", "verdict"]
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'li' WHERE action = 'verdict'"))
    with store.engine.connect() as conn:
        assert verify(conn) == 4


def test_passwords_are_stored_as_argon2_hashes(scored):
    from qc.review.users import password_matches

    with Store(scored).engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE name = 'wang'")).scalar()
    assert stored.startswith("$argon2id$") and "pw-12345" not in stored
    assert password_matches(stored, "pw-12345") and not password_matches(stored, "pw-1234")


def test_verdicts_survive_scoring_the_calls_again(scored):
    rejected = _first_hit(_show(scored, BAD), "confirmed")["hit_id"]
    confirmed = _first_hit(_show(scored, GOOD), "suspected")["hit_id"]
    assert _run("review", "hit", BAD, rejected, "--verdict", "false", "--by", "wang", "--db", scored).exit_code == 0
    assert _run("review", "hit", GOOD, confirmed, "--verdict", "true", "--by", "wang", "--db", scored).exit_code == 0
    judged_bad, judged_good = _show(scored, BAD), _show(scored, GOOD)
    assert _run("score", str(SAMPLES), "--db", scored).exit_code == 0
    again_bad, again_good = _show(scored, BAD), _show(scored, GOOD)
    assert again_bad["score"] == judged_bad["score"] and again_good["score"] == judged_good["score"]
    assert {h["hit_id"]: h["status"] for h in again_bad["hits"]}[rejected] == "rejected"
    assert {h["hit_id"]: h["status"] for h in again_good["hits"]}[confirmed] == "confirmed"
    assert set(again_bad["review"]["verdicts"]) == {rejected} and set(again_good["review"]["verdicts"]) == {confirmed}
    assert again_bad["review"]["versions"][-1]["cause"] == "rescore"


def test_a_locked_month_is_not_scored_again(scored):
    before = _show(scored, BAD)
    assert _run("month", "lock", "2026-11", "--by", "li", "--db", scored).exit_code == 0
    result = _run("score", str(SAMPLES), "--db", scored)
    assert result.exit_code == 1 and "2026-11 is locked (qc month lock); not scored again" in result.stderr
    assert _show(scored, BAD)["score"] == before["score"]


def test_rule_precision_from_verdicts(scored):
    from qc.review.precision import wilson

    hits = [h for h in _show(scored, BAD)["hits"] if h["status"] == "confirmed" and h["deduction"] > 0][:2]
    assert len(hits) == 2
    for h, verdict in zip(hits, ("false", "true"), strict=True):
        args = ("review", "hit", BAD, h["hit_id"], "--verdict", verdict, "--reason", "context", "--by", "wang")
        assert _run(*args, "--db", scored).exit_code == 0
    result = _run("rules", "precision", "--month", "2026-11", "--json", "--db", scored)
    assert result.exit_code == 0, result.stderr
    rows = {r["rule_id"]: r for r in map(json.loads, result.stdout.splitlines())}
    judged = {h["rule_id"] for h in hits}
    assert set(rows) == judged
    assert sum(r["reviewed"] for r in rows.values()) == 2 and sum(r["false"] for r in rows.values()) == 1
    wrong = next(r for r in rows.values() if r["false"])
    assert wrong["reasons"] == {"context": 1} and wrong["precision"] < 1
    assert wilson(3, 3)[0] == pytest.approx(0.4385, abs=1e-4)  # three of three is not "certainly right"
    empty = _run("rules", "precision", "--month", "2026-10", "--db", scored)
    assert empty.exit_code == 0 and "no verdicts yet for 2026-10" in empty.stdout
