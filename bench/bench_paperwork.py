"""The weekly 小结 and the monthly 质检分析报告 over a large month: time and peak memory (target: each < 30 s
for a 300,000-call month on 2 cores).

The database is bench_report's synthetic month (its ``fill``, imported), plus the same calls copied
into the month before with other scores (so the analysis has a trend and agents to compare) and agents
put in 20 teams. Built once and reused when it exists. Each report runs through the CLI in a fresh
interpreter; wall time and its peak RSS are printed, with the median of the runs.

    .venv/bin/python bench/bench_paperwork.py [--calls 300000] [--agents 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_report import fill  # noqa: E402
from qc.store import Store  # noqa: E402

# October: the November calls again under other ids, scores moved by -8..+8 points per agent, so some
# agents improve and some slip; its hits copied with them.
_PREVIOUS_MONTH = (
    "INSERT INTO calls (call_id, agent_id, agent_name, started_at, month, source, audio, transcript) "
    "SELECT 'P' || call_id, agent_id, agent_name, replace(started_at, '2026-11-', '2026-10-'), '2026-10', source, "
    "audio, transcript FROM calls WHERE month = '2026-11'",
    "INSERT INTO results (call_id, ruleset, score, veto, polite_count, polite_terms, checks, warnings, scored_at, "
    "item_scores) SELECT 'P' || r.call_id, r.ruleset, "
    "max(0, min(100, r.score + (CAST(c.agent_id AS INTEGER) % 17) - 8)), "
    "r.veto, r.polite_count, r.polite_terms, r.checks, r.warnings, r.scored_at, r.item_scores FROM results r "
    "JOIN calls c ON c.call_id = r.call_id WHERE c.month = '2026-11'",
    'INSERT INTO hits (call_id, seq, rule_id, category, name, speaker, utterance, start, "end", text, context, '
    "suggestion, deduction, veto, detail, source, hit_id, status, confidence) SELECT 'P' || h.call_id, h.seq, "
    'h.rule_id, h.category, h.name, h.speaker, h.utterance, h.start, h."end", h.text, h.context, h.suggestion, '
    "h.deduction, h.veto, h.detail, h.source, h.hit_id, h.status, h.confidence FROM hits h "
    "JOIN calls c ON c.call_id = h.call_id WHERE c.month = '2026-11'",
    "UPDATE agents SET team = 'T' || (CAST(agent_id AS INTEGER) % 20)",
)


def build(path: Path, n_calls: int, n_agents: int) -> None:
    url = f"sqlite:///{path}"
    fill(url, n_calls, n_agents)
    store = Store(url)
    with store.engine.begin() as conn:
        for statement in _PREVIOUS_MONTH:
            conn.exec_driver_sql(statement)
    store.close()


def run(args: list[str], repeat: int) -> tuple[list[float], float]:
    walls, peaks = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, cwd=ROOT)
        walls.append(time.perf_counter() - t0)
        if proc.returncode:
            raise SystemExit(proc.stderr)
        peaks.append(float(proc.stdout.strip().splitlines()[-1]))
    return walls, max(peaks)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300_000)
    ap.add_argument("--agents", type=int, default=2000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/qc-bench-paperwork.db"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/qc-bench-paperwork"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    url = f"sqlite:///{args.db}"
    if not args.db.exists():
        t0 = time.perf_counter()
        build(args.db, args.calls, args.agents)
        print(
            f"filled {args.db} with {args.calls:,} calls a month (2026-10, 2026-11) in {time.perf_counter() - t0:.0f} s"
        )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    jobs = [
        ("qc report weekly --week 2026-W47", [".xlsx", ".html"], ["report", "weekly", "--week", "2026-W47"]),
        ("qc report analysis --month 2026-11", [".html"], ["report", "analysis", "--month", "2026-11"]),
    ]
    for label, suffixes, argv in jobs:
        for suffix in suffixes:
            out = args.out.with_suffix(suffix)
            walls, peak = run([*argv, "--out", str(out), "--db", url], args.repeat)
            print(
                f"{label} → {suffix}: median {statistics.median(walls):.1f} s "
                f"(runs {', '.join(f'{w:.1f}' for w in walls)}), peak RSS {peak:.0f} MiB, "
                f"{out.stat().st_size / 1e6:.1f} MB"
            )


# Runs the CLI in a fresh interpreter and prints its own peak RSS, so each run is measured alone.
_CHILD = """
import resource, sys
from qc.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


if __name__ == "__main__":
    main()
