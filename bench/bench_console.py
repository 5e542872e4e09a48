"""The console's speed on a big month (issue 12: the queue page for a month of 300,000 calls in
< 300 ms, a call page in < 150 ms; SQLite).

Builds the database once (reused when it exists): the sample recording's call is scored for real
(its transcript in tests/console/data, with its audio), then its rows are copied in SQL with new ids
— 300,000 calls over 2,000 agents in 20 teams, varied scores, a veto in 1 %, a suspected hit in 10 %,
complaints in 5 % — and the whole month is queued and dealt to five inspectors through
``qc.review.queue`` (as ``qc sample --assign`` and the lead's 分配 button do). Then each page is
requested through the ASGI app, as a browser would get it (HTML rendered), and timed.

    .venv/bin/python bench/bench_console.py [--calls 300000] [--db /tmp/qc-bench-console.db] [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATE = "20261120-1000-1024-REC1"
AGENTS = 2000
INSPECTORS = ("insp1", "insp2", "insp3", "insp4", "insp5")
PASSWORD = "bench-pass-1"


def build(db: Path, n_calls: int) -> None:
    from click.testing import CliRunner

    from qc.cli import cli
    from qc.review.desk import ReviewDesk
    from qc.review.queue import assign, build_queue
    from qc.store import Store

    url = f"sqlite:///{db}"
    t0 = time.perf_counter()
    result = CliRunner().invoke(cli, ["score", str(ROOT / "tests" / "console" / "data" / f"{TEMPLATE}.json"),
                                      "--db", url])  # fmt: skip
    if result.exit_code:
        raise SystemExit(result.output)
    con = sqlite3.connect(db)
    con.executescript(f"""
        PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;
        BEGIN;
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {AGENTS - 1})
        INSERT INTO agents (agent_id, agent_name, team)
            SELECT printf('A%04d', i), '坐席' || i, '班组' || (i % 20) FROM n;
        CREATE TEMP TABLE n AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {n_calls - 1})
            SELECT i FROM n;
        INSERT INTO calls (call_id, agent_id, agent_name, started_at, month, source, audio, transcript)
            SELECT printf('B%07d', i), printf('A%04d', i % {AGENTS}), NULL,
                   printf('2026-11-%02dT%02d:%02d:00+08:00', 1 + i % 28, 8 + (i / 28) % 10, (i / 280) % 60),
                   '2026-11', t.source, t.audio, t.transcript
            FROM temp.n, calls t WHERE t.call_id = '{TEMPLATE}';
        INSERT INTO results (call_id, ruleset, score, veto, polite_count, polite_terms, checks, warnings, scored_at,
                             item_scores)
            SELECT printf('B%07d', i), r.ruleset, max(0, r.score + 25 - (i * 37) % 61), i % 100 = 0, r.polite_count,
                   r.polite_terms, r.checks, r.warnings, r.scored_at, r.item_scores
            FROM temp.n, results r WHERE r.call_id = '{TEMPLATE}';
        INSERT INTO hits (call_id, seq, rule_id, category, name, speaker, utterance, start, "end", text, context,
                          suggestion, deduction, veto, detail, source, hit_id, status, confidence, heard, read_as)
            SELECT printf('B%07d', i), h.seq, h.rule_id, h.category, h.name, h.speaker, h.utterance, h.start, h."end",
                   h.text, h.context, h.suggestion, h.deduction, h.veto, h.detail, h.source, h.hit_id, h.status,
                   h.confidence, h.heard, h.read_as
            FROM temp.n, hits h WHERE h.call_id = '{TEMPLATE}' AND (h.status != 'suspected' OR i % 10 = 0);
        INSERT INTO call_categories (call_id, name, source, rule_id, evidence, confidence)
            SELECT printf('B%07d', i), CASE WHEN i % 20 = 0 THEN '投诉' ELSE '查件' END, 'rule', NULL, NULL, 1.0
            FROM temp.n;
        COMMIT;
    """)  # fmt: skip
    con.close()
    print(f"copied {n_calls:,} calls in {time.perf_counter() - t0:.0f} s")
    store = Store(url)
    desk = ReviewDesk(store)
    for name in INSPECTORS:
        desk.add_user(name, "inspector", PASSWORD)
    desk.add_user("lead", "qa_lead", PASSWORD)
    t0 = time.perf_counter()
    queue = build_queue(store, "2026-11", per_agent=n_calls // AGENTS + 1, random_share=0.4)
    dealt = assign(store, "2026-11", queue, "lead", list(INSPECTORS))
    print(f"queued {len(queue):,} calls and dealt {len(dealt.assigned):,} to {len(INSPECTORS)} inspectors in "
          f"{time.perf_counter() - t0:.0f} s (qc.review.queue.build_queue + assign)")  # fmt: skip
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300_000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/qc-bench-console.db"))
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    if not args.db.exists():
        build(args.db, args.calls)
    os.environ.setdefault("QC_SECRET", "bench-secret-" + "x" * 32)

    from fastapi.testclient import TestClient

    from qc.config import default_lexicon_dir
    from qc.console.app import create_app
    from qc.inspection.lexicon import load_lexicon
    from qc.store import Store

    store = Store(f"sqlite:///{args.db}")
    t0 = time.perf_counter()
    app = create_app(store, load_lexicon(default_lexicon_dir()), os.environ["QC_SECRET"])
    print(f"console start (lexicon, indexes) {time.perf_counter() - t0:.1f} s")
    client = TestClient(app)
    client.post("/login", data={"username": "insp1", "password": PASSWORD})
    some_call = client.get("/api/queue", params={"page": 7}).json()["calls"][3]["call_id"]
    pages = {
        "queue (mine, page 1)": "/queue",
        "queue (mine, page 200)": "/queue?page=200",
        "queue (mine, agent filter)": "/queue?agent=A0042&status=all",
        "queue (mine, team + rule)": "/queue?team=班组7&rule=BAN-002&status=all",
        "queue (mine, call category 投诉)": "/queue?category=投诉&status=all",
        "queue JSON (mine, page 1)": "/api/queue",
        f"call page ({some_call})": f"/calls/{some_call}",
        "call page (B0299999)": f"/calls/B{args.calls - 1:07d}",
        "call JSON": f"/api/calls/{some_call}",
        "call panel (after a verdict)": f"/calls/{some_call}/panel",
        "agent page (A0042)": "/agents/A0042",
        "queue (all calls of one team, unassigned view)": "/queue?scope=all&status=all&team=班组7",
        "queue (all calls of one agent, unassigned view)": "/queue?scope=all&status=all&agent=A0042",
        "queue (whole month unassigned: asks for a filter)": "/queue?scope=all&status=all",
    }
    cpu = platform.processor() or platform.machine()
    print(
        f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(f"{'page':<44}{'median ms':>10}{'min':>8}{'max':>8}")
    for label, url in pages.items():
        times = []
        for _ in range(args.repeat + 1):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url}: {response.status_code} {response.text[:300]}")
        times = times[1:]  # the first request warms the page cache
        print(f"{label:<44}{statistics.median(times):>10.1f}{min(times):>8.1f}{max(times):>8.1f}")


if __name__ == "__main__":
    main()
