"""Monthly report over a large month: time and peak memory (target: 300,000 calls, ≈ 3 hits each,
2,000 agents in < 60 s and < 2 GB on 2 cores).

Fills an SQLite database with synthetic stored results (once; reused when it exists), then runs
`qc report monthly` to .xlsx in a child process and reports wall time and its peak RSS.

    .venv/bin/python bench/bench_report.py [--calls 300000] [--agents 2000] [--db /tmp/qc-bench-report.db]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.store import Store  # noqa: E402
from qc.store.tables import agents, calls, hits, results, rulesets  # noqa: E402

RULES = [
    ("BAN-002", "banned", "让客户找领导", "你找领导去", 20.0),
    ("NS-009", "nonstandard", "我也没有办法", "我也没有办法", 5.0),
    ("NEG-002", "negative", "我不知道", "不知道", 2.0),
    ("FIL-007", "filler", "老实说", "老实说", 1.0),
    ("CLOSE-002", "closing", "结束前询问其他需求", "", 3.0),
    ("SIL-001", "silence", "通话静默过长", "好的", 3.0),
]


def fill(url: str, n_calls: int, n_agents: int) -> None:
    store = Store(url)
    rng = random.Random(1)
    with store.engine.begin() as conn:
        conn.execute(rulesets.insert(), [{"version": "bench", "lexicon_root": "", "first_used_at": "2026-11-30"}])
        conn.execute(agents.insert(), [{"agent_id": f"{a:04d}", "agent_name": f"坐席{a}"} for a in range(n_agents)])
    batch = 20_000
    for lo in range(0, n_calls, batch):
        call_rows, result_rows, hit_rows = [], [], []
        for i in range(lo, min(lo + batch, n_calls)):
            cid = f"C{i:07d}"
            agent = f"{i % n_agents:04d}"
            picked = [rng.choice(RULES) for _ in range(rng.choice((1, 2, 3, 3, 4, 5)))]
            lost = sum(p[4] for p in picked)
            call_rows.append(
                {
                    "call_id": cid,
                    "agent_id": agent,
                    "agent_name": None,
                    "started_at": f"2026-11-{1 + i % 28:02d}T09:00:00+08:00",
                    "month": "2026-11",
                    "source": None,
                    "audio": None,
                    "transcript": {"utterances": []},
                }
            )
            result_rows.append(
                {
                    "call_id": cid,
                    "ruleset": "bench",
                    "score": max(0.0, 100 - lost),
                    "veto": rng.random() < 0.01,
                    "polite_count": rng.randint(0, 20),
                    "polite_terms": {},
                    "checks": {"opening": {"ok": rng.random() < 0.9}, "closing": {"ok": True}},
                    "warnings": [],
                    "scored_at": "2026-11-30",
                }
            )
            for seq, (rid, cat, name, text, ded) in enumerate(picked):
                hit_rows.append(
                    {
                        "call_id": cid,
                        "seq": seq,
                        "rule_id": rid,
                        "category": cat,
                        "name": name,
                        "speaker": "agent",
                        "utterance": seq,
                        "start": 1.0 + seq,
                        "end": 3.0 + seq,
                        "text": text,
                        "context": text + "，跟我说没用。",
                        "suggestion": None,
                        "deduction": ded,
                        "veto": False,
                        "detail": None,
                        "source": None,
                    }
                )
        with store.engine.begin() as conn:
            conn.execute(calls.insert(), call_rows)
            conn.execute(results.insert(), result_rows)
            conn.execute(hits.insert(), hit_rows)
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300_000)
    ap.add_argument("--agents", type=int, default=2000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/qc-bench-report.db"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/qc-bench-report.xlsx"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    url = f"sqlite:///{args.db}"
    if not args.db.exists():
        t0 = time.perf_counter()
        fill(url, args.calls, args.agents)
        print(f"filled {args.db} with {args.calls:,} calls in {time.perf_counter() - t0:.0f} s")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for suffix in (".xlsx", ".csv"):
        out = args.out.with_suffix(suffix)
        walls, peaks = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", _CHILD, str(out), url], capture_output=True, text=True)
            walls.append(time.perf_counter() - t0)
            if proc.returncode:
                raise SystemExit(proc.stderr)
            peaks.append(float(proc.stdout.strip().splitlines()[-1]))
        print(
            f"qc report monthly → {suffix}: median {statistics.median(walls):.1f} s "
            f"(runs {', '.join(f'{w:.1f}' for w in walls)}), peak RSS {max(peaks):.0f} MiB, "
            f"{out.stat().st_size / 1e6:.1f} MB"
        )


# Runs the CLI in a fresh interpreter and prints its own peak RSS, so each run is measured alone.
_CHILD = """
import resource, sys
from qc.cli import cli
try:
    cli(["report", "monthly", "--month", "2026-11", "--out", sys.argv[1], "--db", sys.argv[2]], standalone_mode=False)
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


if __name__ == "__main__":
    main()
