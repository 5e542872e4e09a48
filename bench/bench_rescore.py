"""End to end: `qc score` on transcript files into SQLite (read JSON, score, store), the way a month
is re-scored after a lexicon edit. Complements bench_scoring.py, which times the engine alone.

    .venv/bin/python bench/bench_rescore.py [--calls 20000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scoring import synthetic_call  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="qc-rescore-"))
    rng = random.Random(5)
    for i in range(args.calls):
        t = synthetic_call(i, rng)
        data = {
            "call_id": t.call_id,
            "agent_id": t.agent_id,
            "started_at": t.started_at,
            "utterances": [{k: v for k, v in asdict(u).items() if v is not None} for u in t.utterances],
        }
        (folder / f"{i:06d}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    db = folder / "qc.db"
    for run in ("first score", "re-score (replaces every call)"):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "qc", "score", str(folder), "--db", f"sqlite:///{db}", "--jobs", str(args.jobs)],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(proc.stderr[-2000:])
        print(f"{run}: {args.calls:,} files, {args.jobs} jobs → {args.calls / wall:,.0f} calls/s ({wall:.1f} s)")


if __name__ == "__main__":
    main()
