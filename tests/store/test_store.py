"""The results database on embedded SQLite and, when QC_TEST_POSTGRES_URL is set, on PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import text

from qc.errors import StoreError
from qc.formats import read_transcript
from qc.store import Store
from qc.store.tables import SCHEMA_VERSION
from tests.conftest import SAMPLES


def _scored(inspector):
    out = []
    for path in sorted(SAMPLES.glob("*.json")):
        t = read_transcript(path)
        out.append((t, inspector.score(t)))
    return out


def test_save_and_read_back(db_url, inspector):
    store = Store(db_url)
    items = _scored(inspector)
    assert store.save(items) == len(items)
    t, r = next((t, r) for t, r in items if r.hits)
    row = store.load_result_rows(t.call_id)
    assert row["score"] == r.score and row["veto"] == r.veto and row["month"] == t.started_at[:7]
    assert [h["rule_id"] for h in row["hits"]] == [h.rule_id for h in r.hits]
    assert row["hits"][0]["text"] == r.hits[0].text
    store.close()


def test_rescoring_replaces_without_duplicates(db_url, inspector):
    store = Store(db_url)
    items = _scored(inspector)
    store.save(items)
    t, r = items[0]
    store.save([(t, replace(r, score=12.5, hits=r.hits[:0]))])
    store.save(items[:3])
    assert store.count_calls() == len(items)
    with store.engine.connect() as conn:
        n_hits = conn.execute(text("SELECT count(*) FROM hits")).scalar()
    assert n_hits == sum(len(r.hits) for _, r in items)
    store.close()


def test_failed_transaction_keeps_earlier_commits(db_url, inspector):
    store = Store(db_url)
    items = _scored(inspector)
    store.save(items[:2])
    t, r = next((t, r) for t, r in items[3:] if r.hits)
    broken = replace(r, hits=(replace(r.hits[0], category=None),))  # NOT NULL violation mid-transaction
    with pytest.raises(StoreError):
        store.save([items[2], (t, broken)])
    assert store.count_calls() == 2
    store.close()


def test_newer_schema_version_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'qc.db'}"
    Store(url).close()
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE qc_meta SET value='99' WHERE key='schema_version'"))
    store.close()
    with pytest.raises(StoreError, match="schema version 99"):
        Store(url)


def test_bad_url_is_a_store_error():
    with pytest.raises(StoreError):
        Store("nosuchdb://x")


def test_reports_read_postgresql_too(db_url, tmp_path):
    """The month is read through the driver's cursor: check it on each database."""
    from click.testing import CliRunner

    from qc.cli import cli

    assert CliRunner().invoke(cli, ["score", str(SAMPLES), "--db", db_url]).exit_code == 0
    for args in (
        ["report", "monthly", "--month", "2026-11", "--out", str(tmp_path / "m.xlsx")],
        ["sample", "--month", "2026-11", "--out", str(tmp_path / "s.csv")],
        ["examples", "--out", str(tmp_path / "e.jsonl")],
    ):
        result = CliRunner().invoke(cli, [*args, "--db", db_url])
        assert result.exit_code == 0, result.stderr
    from qc.store import load_month

    calls, hits = load_month(Store(db_url), "2026-11")
    assert len(calls) == len(list(SAMPLES.glob("*.json"))) and len(hits) > 10
    assert calls["veto"].dtype == bool and all(isinstance(c, dict) for c in calls["checks"])


def _drop_result_columns_of_version_4(conn) -> None:  # noqa: ANN001
    conn.execute(text("ALTER TABLE results DROP COLUMN item_scores"))
    conn.execute(text("DROP TABLE call_categories"))


@pytest.mark.issue(8)
def test_a_version_1_database_is_migrated_in_place(db_url, inspector):
    """Hits gained hit_id, status and confidence (SPEC §2, round 2): an older database is upgraded,
    its stored hits get ids and stay confirmed, and nothing else changes."""
    store = Store(db_url)
    store.save(_scored(inspector))
    calls_before = store.count_calls()
    with store.engine.begin() as conn:
        for column in ("hit_id", "status", "confidence", "heard", "read_as"):
            conn.execute(text(f"ALTER TABLE hits DROP COLUMN {column}"))
        _drop_result_columns_of_version_4(conn)
        conn.execute(text("UPDATE qc_meta SET value='1' WHERE key='schema_version'"))
    store.close()
    upgraded = Store(db_url)
    with upgraded.engine.connect() as conn:
        version = conn.execute(text("SELECT value FROM qc_meta WHERE key='schema_version'")).scalar()
        assert version == str(SCHEMA_VERSION)
        rows = conn.execute(text("SELECT rule_id, hit_id, status, confidence FROM hits")).all()
    assert rows and all(h.startswith(f"{r}@") and s == "confirmed" and c == 1.0 for r, h, s, c in rows)
    assert upgraded.count_calls() == calls_before


@pytest.mark.issue(9)
def test_a_version_2_database_gains_heard_and_read_as(db_url, inspector):
    """Hits found by sound keep what was heard and how it was read: a version-2 database gets the
    two columns, empty for the hits it already holds."""
    store = Store(db_url)
    store.save(_scored(inspector))
    with store.engine.begin() as conn:
        for column in ("heard", "read_as"):
            conn.execute(text(f"ALTER TABLE hits DROP COLUMN {column}"))
        _drop_result_columns_of_version_4(conn)
        conn.execute(text("UPDATE qc_meta SET value='2' WHERE key='schema_version'"))
    store.close()
    upgraded = Store(db_url)
    with upgraded.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM qc_meta WHERE key='schema_version'")).scalar() == str(
            SCHEMA_VERSION
        )
        rows = conn.execute(text("SELECT heard, read_as FROM hits")).all()
    assert rows and all(h is None and r is None for h, r in rows)


@pytest.mark.issue(10)
def test_a_database_written_by_the_previous_release_upgrades_in_place(tmp_path):
    """tests/data/db/qc-v3.sqlite was written by qc at schema 3 (the eight samples scored before
    考评项 and call categories existed): it opens, upgrades to today's schema, keeps every call and
    hit, and its month still makes a report (those results simply have no subtotals)."""
    import shutil

    from qc.reports.monthly import build_monthly
    from qc.store import load_month
    from tests.conftest import DATA

    copy = tmp_path / "qc.sqlite"
    shutil.copy(DATA / "db" / "qc-v3.sqlite", copy)
    store = Store(f"sqlite:///{copy}")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM qc_meta WHERE key='schema_version'")).scalar() == str(
            SCHEMA_VERSION
        )
        assert conn.execute(text("SELECT count(*) FROM hits")).scalar() == 39
    assert store.count_calls() == 8
    calls, hits = load_month(store, "2026-11")
    assert len(calls) == 8 and all(scores == {} for scores in calls["item_scores"])
    report = build_monthly("2026-11", calls, hits, None, pass_mark=60.0)
    assert len(report.summary) == calls["agent_id"].nunique()
    assert not [c for c in report.summary.columns if c.startswith("item:")]


@pytest.mark.issue(11)
def test_a_database_with_review_work_from_the_previous_release_upgrades_in_place(tmp_path, lexicon):
    """tests/data/db/qc-v5.sqlite was written by qc at schema 5 (main before appeals): the samples
    scored, two users, a confirmed suspected hit, a false hit and a missed finding. It upgrades in
    place, keeps the review work, and takes appeals and hand-scored 考评项 afterwards."""
    import shutil

    from qc.review.desk import ReviewDesk
    from tests.conftest import DATA

    copy = tmp_path / "qc.sqlite"
    shutil.copy(DATA / "db" / "qc-v5.sqlite", copy)
    desk = ReviewDesk(Store(f"sqlite:///{copy}"), lexicon)
    with desk.store.engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM qc_meta WHERE key='schema_version'")).scalar() == str(
            SCHEMA_VERSION
        )
    shown = desk.show("20261103-0915-1024-0001")
    assert shown["score"] == 78.0  # 100 − a confirmed PRC-013 (2) − a missed BAN-001 (20), as stored at v5
    assert shown["review"]["verdicts"]["PRC-013@2"]["verdict"] is True
    assert [(m["rule_id"], m["item"]) for m in shown["review"]["manual"]] == [("BAN-001", None)]
    assert [v["cause"] for v in shown["review"]["versions"]] == ["auto", "review", "review"]
    old, new = desk.add_finding("20261103-0915-1024-0001", None, "insp", "语气生硬", points=2, item="语气语调")
    assert (old, new) == (78.0, 76.0)
    # the file's scores are from 2026-11-24: appeal within the window as it stood then
    from datetime import datetime, timedelta

    soon = datetime.fromisoformat(shown["review"]["versions"][0]["at"]) + timedelta(days=1)
    appeal_id = desk.open_appeal("20261103-0915-1024-0001", "lead", "复核", points=2, now=soon)
    assert desk.decide_appeal(appeal_id, "lead", "accept", "属实", now=soon)["score"] == [76.0, 78.0]
