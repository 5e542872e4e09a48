"""Issue 11: `qc rescore` re-scores stored transcripts with the current lexicons, writes only what
changed and keeps every verdict; `qc lexicon diff` replays an edit without writing. SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from qc.cli import cli
from qc.store import Store
from qc.store.tables import results, score_versions, verdicts
from tests.conftest import LEXICONS, SAMPLES

pytestmark = pytest.mark.issue(11)

GOOD = "20261103-0915-1024-0001"  # suspected process items only
NEG = "20261105-0900-2048-0002"  # six negative-expression hits


def _run(*args: str, stdin: str | None = None):  # noqa: ANN202
    return CliRunner().invoke(cli, list(args), input=stdin)


def _show(db_url: str, call_id: str) -> dict:
    result = _run("show", call_id, "--json", "--db", db_url)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture()
def judged(db_url):
    """The samples scored, a negative hit judged false and a suspected hit judged true."""
    assert _run("score", str(SAMPLES), "--db", db_url).exit_code == 0
    assert (
        _run("user", "add", "wang", "--role", "inspector", "--password-stdin", "--db", db_url, stdin="pw\n").exit_code
        == 0
    )
    false_hit = next(h for h in _show(db_url, NEG)["hits"] if h["category"] == "negative")["hit_id"]
    true_hit = next(h for h in _show(db_url, GOOD)["hits"] if h["status"] == "suspected")["hit_id"]
    for call_id, hit_id, verdict in ((NEG, false_hit, "false"), (GOOD, true_hit, "true")):
        result = _run("review", "hit", call_id, hit_id, "--verdict", verdict, "--by", "wang", "--db", db_url)
        assert result.exit_code == 0, result.stderr
    return db_url, false_hit, true_hit


def _edited(tmp_path, old: str, new: str, file: str = "scorecard.yaml"):
    copy = tmp_path / "edited"
    shutil.copytree(LEXICONS, copy)
    path = copy / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


def _versions(db_url: str) -> int:
    with Store(db_url).engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(score_versions)).scalar_one()


def test_nothing_is_written_when_the_lexicons_did_not_change(judged):
    db_url, _, _ = judged
    before = _versions(db_url)
    done = _run("rescore", "--db", db_url)
    assert done.exit_code == 0, done.stderr
    assert "0 scored again" in done.stdout and "8 already under ruleset" in done.stdout
    forced = _run("rescore", "--force", "--db", db_url)
    assert "8 scored again, 0 changed" in forced.stdout
    assert _versions(db_url) == before + 2  # the two reviewed calls, priced again under the ruleset


def test_a_price_change_rescores_and_both_verdicts_survive(judged, tmp_path):
    db_url, false_hit, true_hit = judged
    neg_before, good_before = _show(db_url, NEG), _show(db_url, GOOD)
    edited = _edited(tmp_path, "negative:     {deduction: 2,", "negative:     {deduction: 3,")
    done = _run("rescore", "--lexicons", str(edited), "--db", db_url)
    assert done.exit_code == 0, done.stderr
    neg_after, good_after = _show(db_url, NEG), _show(db_url, GOOD)
    charged = [h for h in neg_after["hits"] if h["category"] == "negative" and h["deduction"] > 0]
    assert charged and all(h["deduction"] == 3 for h in charged)
    assert neg_after["score"] < neg_before["score"]
    assert neg_after["review"]["verdicts"][false_hit]["verdict"] is False
    (rejected,) = [h for h in neg_after["hits"] if h["hit_id"] == false_hit]
    assert rejected["status"] == "rejected" and rejected["deduction"] == 0
    assert good_after["review"]["verdicts"][true_hit]["verdict"] is True
    assert good_after["score"] == good_before["score"]  # still charged for the confirmed hit
    assert neg_after["review"]["versions"][-1]["cause"] == "rule change"
    with Store(db_url).engine.connect() as conn:
        rulesets = {r for (r,) in conn.execute(select(results.c.ruleset).distinct())}
    assert len(rulesets) == 1 and neg_before["ruleset"] not in rulesets
    again = _run("rescore", "--lexicons", str(edited), "--db", db_url)
    assert "0 scored again" in again.stdout


def test_only_changed_calls_get_a_version(db_url, tmp_path):
    assert _run("score", str(SAMPLES), "--db", db_url).exit_code == 0
    edited = _edited(tmp_path, "negative:     {deduction: 2,", "negative:     {deduction: 3,")
    done = _run("rescore", "--lexicons", str(edited), "--db", db_url)
    changed = int(done.stdout.split(" changed")[0].rsplit(" ", 1)[1])
    assert 0 < changed < 8
    with Store(db_url).engine.connect() as conn:
        touched = {c for (c,) in conn.execute(select(score_versions.c.call_id).distinct())}
        causes = [c for (c,) in conn.execute(select(score_versions.c.cause).order_by(score_versions.c.n))]
    assert len(touched) == changed and NEG in touched and GOOD not in touched
    assert set(causes) == {"auto", "rule change"}


def test_a_verdict_whose_hit_is_gone_is_kept_and_reported(judged, tmp_path):
    """A verdict given on a hit an earlier ruleset found (its hit_id no longer comes out): after a
    re-score it stays in the history and is reported by call, hit and quoted words."""
    from sqlalchemy import update

    db_url, false_hit, _ = judged
    with Store(db_url).engine.begin() as conn:
        conn.execute(update(verdicts).where(verdicts.c.hit_id == false_hit).values(hit_id="NEG-099@2:4-10"))
    edited = _edited(tmp_path, "negative:     {deduction: 2,", "negative:     {deduction: 3,")
    done = _run("rescore", "--lexicons", str(edited), "--db", db_url)
    assert done.exit_code == 0, done.stderr
    assert "1 verdict(s) without their hit" in done.stdout
    assert f"{NEG}: verdict on NEG-099@2:4-10" in done.stderr
    with Store(db_url).engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(verdicts)).scalar_one() == 2
    (hit,) = [h for h in _show(db_url, NEG)["hits"] if h["hit_id"] == false_hit]
    assert hit["status"] == "confirmed" and hit["deduction"] == 3  # the verdict no longer applies to it


def test_a_locked_month_is_not_rescored(judged, tmp_path):
    db_url, _, _ = judged
    assert (
        _run("user", "add", "li", "--role", "qa_lead", "--password-stdin", "--db", db_url, stdin="pw\n").exit_code == 0
    )
    assert _run("month", "lock", "2026-11", "--by", "li", "--db", db_url).exit_code == 0
    before = _show(db_url, NEG)
    edited = _edited(tmp_path, "negative:     {deduction: 2,", "negative:     {deduction: 3,")
    done = _run("rescore", "--lexicons", str(edited), "--db", db_url)
    assert done.exit_code == 0 and "8 in locked months" in done.stdout
    assert _show(db_url, NEG) == before


def test_lexicon_diff_shows_an_edit_without_writing(judged, tmp_path):
    db_url, _, _ = judged
    busy = "      - '我很忙'\n"
    edited = _edited(tmp_path, busy, busy + "      - '十分钟'\n", "rules/nonstandard.yaml")
    with Store(db_url).engine.connect() as conn:
        before = [tuple(r) for r in conn.execute(select(results.c.call_id, results.c.score, results.c.ruleset))]
    versions = _versions(db_url)
    out = tmp_path / "diff.xlsx"
    done = _run("lexicon", "diff", "--month", "2026-11", "--lexicons", str(edited), "--out", str(out), "--db", db_url)
    assert done.exit_code == 0, done.stderr
    assert "8 call(s) of 2026-11" in done.stdout and "1 hit(s) gained, 0 lost" in done.stdout
    from openpyxl import load_workbook

    book = load_workbook(out)
    rules = list(book["规则变化"].iter_rows(values_only=True))
    assert rules[1][:4] == ("NS-003", "催客户快讲", 1, 0)
    agents = {r[0]: r for r in book["坐席分数变化"].iter_rows(min_row=2, values_only=True)}
    assert agents["2048"][4] < 0 and agents["2048"][5] == 1 and agents["1024"][4] == 0
    (example,) = list(book["示例"].iter_rows(min_row=2, values_only=True))
    assert example[:3] == ("NS-003", "新增", NEG) and example[5] == "十分钟"
    with Store(db_url).engine.connect() as conn:
        after = [tuple(r) for r in conn.execute(select(results.c.call_id, results.c.score, results.c.ruleset))]
    assert after == before and _versions(db_url) == versions  # nothing written
    csv = _run("lexicon", "diff", "--month", "2026-11", "--lexicons", str(edited), "--out", str(tmp_path / "d.csv"),
               "--db", db_url)  # fmt: skip
    assert csv.exit_code == 0 and (tmp_path / "d-agents.csv").is_file() and (tmp_path / "d-examples.csv").is_file()


def _all_results(db_url: str) -> list[tuple]:
    from qc.store.tables import hits

    with Store(db_url).engine.connect() as conn:
        scored = [tuple(r) for r in conn.execute(select(results.c.call_id, results.c.score, results.c.veto,
                                                        results.c.ruleset).order_by(results.c.call_id))]  # fmt: skip
        found = [tuple(r) for r in conn.execute(select(hits.c.call_id, hits.c.hit_id, hits.c.status, hits.c.deduction)
                                                .order_by(hits.c.call_id, hits.c.seq))]  # fmt: skip
    return scored + found


@pytest.mark.parametrize("edit", ["add a phrase", "drop a phrase"])
def test_an_edit_to_phrase_rules_rescores_only_the_calls_it_can_reach_and_agrees_with_a_full_rescore(
    db_url, tmp_path, edit
):
    """Only calls where the changed rule now finds something else are scored again; the result is
    the same as re-scoring every call (--force)."""
    if edit == "add a phrase":
        busy = "      - '我很忙'\n"
        edited = _edited(tmp_path, busy, busy + "      - '十分钟'\n", "rules/nonstandard.yaml")
    else:  # NEG-012's 不可能那么快 (its must-hit example is still found by another of its patterns)
        edited = _edited(tmp_path, "      - '不可能那么快'\n", "", "rules/negative.yaml")
    assert _run("score", str(SAMPLES), "--db", db_url).exit_code == 0
    twin = f"sqlite:///{tmp_path / 'twin.db'}"
    assert _run("score", str(SAMPLES), "--db", twin).exit_code == 0
    done = _run("rescore", "--lexicons", str(edited), "--db", db_url)
    assert done.exit_code == 0, done.stderr
    reached = int(done.stdout.split(" scored again")[0].rsplit(" ", 1)[1])
    changed = int(done.stdout.split(" changed")[0].rsplit(" ", 1)[1])
    if edit == "add a phrase":  # only the call saying 十分钟 is scored again, and it gains a hit
        assert (reached, changed) == (1, 1) and "7 out of the edit's reach" in done.stdout
    else:  # the call with NEG-012's hit is probed: (不可能|…)(这么|那么)快 still finds 不可能那么快
        assert (reached, changed) == (0, 0) and "8 out of the edit's reach" in done.stdout
    forced = _run("rescore", "--force", "--lexicons", str(edited), "--db", twin)
    assert forced.exit_code == 0 and f"8 scored again, {changed} changed" in forced.stdout
    assert _all_results(db_url) == _all_results(twin)


def test_an_edit_beyond_phrase_rules_rescores_every_call(db_url, tmp_path):
    assert _run("score", str(SAMPLES), "--db", db_url).exit_code == 0
    edited = _edited(tmp_path, "negative:     {deduction: 2,", "negative:     {deduction: 3,")
    done = _run("rescore", "--lexicons", str(edited), "--db", db_url)
    assert "8 scored again" in done.stdout and "0 out of the edit's reach" in done.stdout


def test_lexicon_diff_refuses_an_unknown_format_before_replaying(tmp_path, monkeypatch):
    """The suffix is checked first: no database is even opened, nothing is written."""
    import qc.review.lexicon_diff as diff_module

    def never(*_args, **_kwargs):  # noqa: ANN202
        raise AssertionError("the month was replayed before the output format was checked")

    monkeypatch.setattr(diff_module, "lexicon_diff", never)
    out = tmp_path / "diff.txt"
    done = _run("lexicon", "diff", "--month", "2026-11", "--out", str(out), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert done.exit_code == 1 and "written as .xlsx or .csv, not .txt" in done.stderr
    assert not out.exists()
