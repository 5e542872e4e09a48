"""The review queue over a 300,000-call month on SQLite: building it (the ordering), assigning it,
and the console's Queue page (target: a page in < 300 ms).

The month is made of copies of the eight sample calls as `qc score` stores them (their calls,
results, hits and call categories rows), bulk-inserted under new call ids and 2,000 agents in 40
teams — nothing is scored 300,000 times. Transcripts are stored as a stub (the queue never reads
them). The mix is made plausible: the vetoed sample is 1% of the copies, complaint calls about 8%;
95% of copies lose their suspected hits (as if already judged by the model's threshold), scores
are spread a little, and 2% of calls carry a verdict on every hit (fully reviewed). The database is
built once and reused when it exists.

    .venv/bin/python bench/bench_queue.py [--calls 300000] [--agents 2000] [--db /tmp/qc-bench-queue.db]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, select, text  # noqa: E402

from qc.review.desk import ReviewDesk  # noqa: E402
from qc.review.queue import assign, build_queue, queue_page  # noqa: E402
from qc.store import Store  # noqa: E402
from qc.store.tables import (  # noqa: E402
    agents,
    assignments,
    call_categories,
    calls,
    hits,
    results,
    rulesets,
    verdicts,
)

MONTH = "2026-11"
INSPECTORS = [f"insp{i}" for i in range(8)]


def _templates() -> list[dict[str, Any]]:
    """The eight samples scored by `qc score` into a scratch database, read back as rows."""
    with tempfile.TemporaryDirectory(prefix="qc-queue-seed-") as folder:
        return _read_templates(f"sqlite:///{Path(folder) / 'seed.db'}")


def _read_templates(url: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "qc", "score", str(ROOT / "samples" / "calls"), "--db", url, "--jobs", "1"],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    store = Store(url)
    out = []
    with store.engine.connect() as conn:
        for call in conn.execute(select(calls).order_by(calls.c.call_id)).mappings():
            cid = call["call_id"]
            result = conn.execute(select(results).where(results.c.call_id == cid)).mappings().one()
            hit_rows = conn.execute(select(hits).where(hits.c.call_id == cid)).mappings().all()
            cats = conn.execute(select(call_categories).where(call_categories.c.call_id == cid)).mappings().all()
            out.append(
                {
                    "call": dict(call),
                    "result": dict(result),
                    "hits": [{k: v for k, v in dict(h).items() if k != "id"} for h in hit_rows],
                    "categories": [dict(c) for c in cats],
                }
            )
    store.close()
    return out


def fill(url: str, n_calls: int, n_agents: int) -> None:
    templates = _templates()
    vetoed = [i for i, t in enumerate(templates) if t["result"]["veto"]]
    complaint = [
        i for i, t in enumerate(templates) if i not in vetoed and any(c["name"] == "投诉" for c in t["categories"])
    ]
    plain = [i for i in range(len(templates)) if i not in complaint and i not in vetoed]
    rng = random.Random(7)
    store = Store(url)
    with store.engine.begin() as conn:
        conn.execute(rulesets.insert(), [{"version": templates[0]["result"]["ruleset"], "first_used_at": "2026-11-30"}])
        conn.execute(
            agents.insert(),
            [{"agent_id": f"A{a:04d}", "agent_name": f"坐席{a}", "team": f"T{a % 40:02d}"} for a in range(n_agents)],
        )
    batch = 20_000
    for lo in range(0, n_calls, batch):
        call_rows, result_rows, hit_rows, cat_rows, verdict_rows = [], [], [], [], []
        for i in range(lo, min(lo + batch, n_calls)):
            roll = rng.random()
            pool = vetoed if roll < 0.01 else complaint if roll < 0.09 else plain
            t = templates[rng.choice(pool)]
            cid = f"B{i:07d}"
            call_rows.append(
                {
                    **t["call"],
                    "call_id": cid,
                    "agent_id": f"A{i % n_agents:04d}",
                    "agent_name": None,
                    "started_at": f"{MONTH}-{1 + i % 28:02d}T{8 + i % 10:02d}:00:00+08:00",
                    "month": MONTH,
                    "transcript": {"call_id": cid, "utterances": []},
                }
            )
            result = t["result"]
            score = (
                result["score"] if result["veto"] else max(0.0, result["score"] - rng.choice((0, 0, 0, 2, 5, 10, 30)))
            )
            result_rows.append({**result, "call_id": cid, "score": score})
            keep_suspected = rng.random() < 0.05
            call_hits = [{**h, "call_id": cid} for h in t["hits"] if keep_suspected or h["status"] != "suspected"]
            hit_rows.extend(call_hits)
            cat_rows.extend({**c, "call_id": cid} for c in t["categories"])
            if call_hits and rng.random() < 0.02:
                verdict_rows.extend(
                    {
                        "call_id": cid, "hit_id": h["hit_id"], "verdict": True, "by_user": "bench",
                        "at": "2026-12-01T00:00:00+00:00", "machine_status": h["status"], "rule_id": h["rule_id"],
                        "utterance": h["utterance"], "text": h["text"],
                    }
                    for h in call_hits
                )  # fmt: skip
        with store.engine.begin() as conn:
            conn.execute(calls.insert(), call_rows)
            conn.execute(results.insert(), result_rows)
            conn.execute(hits.insert(), hit_rows)
            if cat_rows:
                conn.execute(call_categories.insert(), cat_rows)
            if verdict_rows:
                conn.execute(verdicts.insert(), verdict_rows)
    desk = ReviewDesk(store)
    desk.add_user("lead", "qa_lead", "bench-password")
    for name in INSPECTORS:
        desk.add_user(name, "inspector", "bench-password")
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    store.close()


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, list[float], Any]:
    walls, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), walls, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300_000)
    ap.add_argument("--agents", type=int, default=2000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/qc-bench-queue.db"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    url = f"sqlite:///{args.db}"
    if not args.db.exists():
        t0 = time.perf_counter()
        fill(url, args.calls, args.agents)
        print(f"filled {args.db} with {args.calls:,} calls in {time.perf_counter() - t0:.0f} s")
    store = Store(url)
    with store.engine.connect() as conn:
        n_calls = conn.execute(text("SELECT count(*) FROM calls")).scalar()
        n_hits = conn.execute(text("SELECT count(*) FROM hits")).scalar()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {__import__('sqlite3').sqlite_version}")  # fmt: skip
    print(f"month: {n_calls:,} calls, {n_hits:,} hits, {args.agents:,} agents")

    def reset() -> None:
        with store.engine.begin() as conn:
            conn.execute(delete(assignments))

    def judge_some(picked: Any) -> int:
        ids = [q.call_id for q in picked]
        rows = []
        with store.engine.begin() as conn:
            for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
                found = conn.execute(
                    select(hits.c.call_id, hits.c.hit_id, hits.c.rule_id).where(hits.c.call_id.in_(chunk))
                )
                rows.extend(
                    {"call_id": c, "hit_id": h, "verdict": True, "by_user": "bench-queue", "at": "2026-12-02T00:00:00",
                     "machine_status": "confirmed", "rule_id": r}
                    for c, h, r in found
                )  # fmt: skip
            if rows:
                conn.execute(verdicts.insert(), rows)
        return len(rows)

    for per_agent in (5, 20, 150):
        med, walls, queue = timed(lambda p=per_agent: build_queue(store, MONTH, per_agent=p, seed=1), args.repeat)
        reasons: dict[str, int] = {}
        for q in queue:
            reasons[q.reason] = reasons.get(q.reason, 0) + 1
        print(
            f"build_queue per_agent={per_agent}: {len(queue):,} calls picked, median {med * 1000:.0f} ms "
            f"(runs {', '.join(f'{w * 1000:.0f}' for w in walls)}); reasons {reasons}"
        )

        def assign_once(q: Any = queue) -> Any:
            reset()
            return assign(store, MONTH, q, "lead", INSPECTORS)

        med, walls, done = timed(assign_once, args.repeat)
        print(
            f"  assign to {len(INSPECTORS)} inspectors: {len(done.assigned):,} rows, median {med * 1000:.0f} ms "
            f"(runs {', '.join(f'{w * 1000:.0f}' for w in walls)})"
        )
        judged = judge_some(queue[::10])  # every tenth assigned call: a verdict on each of its hits
        pages = {
            "inspector, page 1": {"inspector": "insp3"},
            "inspector + month, pending": {"inspector": "insp3", "month": MONTH, "status": "pending"},
            "inspector, done": {"inspector": "insp3", "status": "done"},
            "month, last page": {"month": MONTH, "page": max(1, len(queue) // 50)},
            "team": {"team": "T07"},
            "agent": {"agent": "A0042"},
            "rule BAN-002": {"rule": "BAN-002"},
            "call category 投诉, pending": {"category": "投诉", "status": "pending"},
            "everything, pending": {"status": "pending"},
        }
        for label, kwargs in pages.items():
            med, walls, (rows, total) = timed(lambda k=kwargs: queue_page(store, **k), args.repeat * 2)
            print(
                f"  queue_page {label}: {len(rows)} of {total:,} rows, median {med * 1000:.1f} ms "
                f"(max {max(walls) * 1000:.1f})"
            )
        with store.engine.begin() as conn:
            conn.execute(delete(verdicts).where(verdicts.c.by_user == "bench-queue"))
        print(f"  ({judged:,} verdicts given on every tenth assigned call, removed afterwards)")
    reset()
    store.close()


if __name__ == "__main__":
    main()
