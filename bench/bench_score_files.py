"""`qc score FOLDER` end to end: transcript files read, validated, scored and stored in SQLite.

The issue's figure (issue 13: ≥ 1,000 calls/s on 2 cores) is for the whole command, process start,
model loading and the database included: each run is `python -m qc score FOLDER --db sqlite:///…`
into a new database, timed from outside. Runs with the shipped lexicons (learned layer on, as users
run it) and with a copy whose settings turn the learned layer off (rules alone).

Usage: python bench/bench_score_files.py [--calls 10000] [--jobs 2] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench_scoring import LEXICONS, synthetic_call


def write_calls(folder: Path, count: int) -> None:
    """``count`` synthetic 1,500-character calls (5 % of agent turns break a rule), one file each."""
    rng = random.Random(5)
    for i in range(count):
        t = synthetic_call(i, rng)
        data = {
            "call_id": t.call_id,
            "agent_id": t.agent_id,
            "started_at": t.started_at,
            "utterances": [{k: v for k, v in asdict(u).items() if v is not None} for u in t.utterances],
        }
        (folder / f"{i:06d}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def rules_only_lexicons(work: Path) -> Path:
    copy = work / "lexicons-rules-only"
    shutil.copytree(LEXICONS, copy)
    settings = copy / "settings.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("learned_layer: true", "learned_layer: false"))
    return copy


def one_run(folder: Path, db: Path, jobs: int, lexicons: Path | None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB of the largest process) of one `qc score` into a new database."""
    db.unlink(missing_ok=True)
    command = [sys.executable, "-m", "qc", "-q", "score", str(folder), "--db", f"sqlite:///{db}", "--jobs", str(jobs)]
    if lexicons is not None:
        command += ["--lexicons", str(lexicons)]
    t0 = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    return wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="qc-score-files-"))
    folder = work / "calls"
    folder.mkdir()
    write_calls(folder, args.calls)
    for name, lexicons in (("learned layer on (shipped)", None), ("rules only", rules_only_lexicons(work))):
        walls = []
        for _ in range(args.runs):
            wall, rss = one_run(folder, work / "qc.db", args.jobs, lexicons)
            walls.append(wall)
            print(f"  {name}: {args.calls / wall:,.0f} calls/s ({wall:.1f} s, peak RSS so far {rss:,.0f} MB)")
        median = statistics.median(walls)
        print(f"{name}: median {args.calls / median:,.0f} calls/s over {args.runs} runs, {args.jobs} jobs")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
