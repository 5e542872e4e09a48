"""Re-scoring a month after a lexicon edit, two ways.

``--from-files``: `qc score` on transcript files into SQLite (read JSON, score, store) — how it was
done before `qc rescore`. Default: `qc rescore` on a database of ``--calls`` stored calls (read the
transcripts from the database, score, write only what changed), after a one-phrase lexicon edit;
peak memory (max RSS of the command) is printed so a flat profile can be checked across sizes.

    .venv/bin/python bench/bench_rescore.py [--calls 100000] [--jobs 2] [--from-files]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_score_files import write_calls  # noqa: E402
from bench_scoring import synthetic_call  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--distinct", type=int, default=2_000, help="Distinct synthetic calls the database copies.")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--from-files", action="store_true")
    ap.add_argument("--force", action="store_true", help="Re-detect every call (qc rescore --force).")
    args = ap.parse_args()
    if args.from_files:
        from_files(args)
    else:
        from_database(args)


def from_database(args: argparse.Namespace) -> None:
    """Score ``--distinct`` synthetic calls once, copy their rows up to ``--calls`` with new ids (a
    month's database without scoring it), then edit one phrase of a copied lexicon and time
    `qc rescore` (each run starts from the same database file)."""
    import shutil
    import sqlite3

    from qc.inspection.engine import Inspector
    from qc.inspection.lexicon import load_lexicon
    from qc.store import Store

    folder = Path(tempfile.mkdtemp(prefix="qc-rescore-db-"))
    lexicons = folder / "lexicons"
    shutil.copytree(Path(__file__).resolve().parent.parent / "lexicons", lexicons)
    rng = random.Random(5)
    lexicon = load_lexicon(lexicons)
    inspector = Inspector(lexicon)
    template = folder / "template.db"
    store = Store(f"sqlite:///{template}")
    store.note_ruleset(lexicon.version, str(lexicons), lexicon.fingerprints)  # as `qc score` does
    batch = []
    for i in range(args.distinct):
        t = synthetic_call(i, rng)
        batch.append((t, inspector.score(t)))
    store.save(batch, str(lexicons))
    store.close()
    db = sqlite3.connect(template)
    copies = -(-args.calls // args.distinct) - 1
    for k in range(1, copies + 1):
        suffix = f"-c{k:03d}"
        db.execute(
            "INSERT INTO calls SELECT call_id || ?, agent_id, agent_name, started_at, month, source, audio, "
            "json_set(transcript, '$.call_id', call_id || ?) FROM calls WHERE call_id NOT LIKE '%-c%'",
            (suffix, suffix),
        )
        db.execute(
            "INSERT INTO results SELECT call_id || ?, ruleset, score, veto, polite_count, polite_terms, checks, "
            "warnings, scored_at, item_scores FROM results WHERE call_id NOT LIKE '%-c%'",
            (suffix,),
        )
        cols = [r[1] for r in db.execute("PRAGMA table_info(hits)") if r[1] != "id"]
        picked = ", ".join("call_id || ?" if c == "call_id" else c for c in cols)
        db.execute(
            f"INSERT INTO hits ({', '.join(cols)}) SELECT {picked} FROM hits WHERE call_id NOT LIKE '%-c%'", (suffix,)
        )
    db.commit()
    total = db.execute("SELECT count(*) FROM calls").fetchone()[0]
    db.close()
    # the edit: one more phrase for a nonstandard rule (a QA lead's typical change)
    rules = lexicons / "rules" / "nonstandard.yaml"
    busy = "      - '我很忙'\n"
    text = rules.read_text(encoding="utf-8").replace(busy, busy + "      - '我很赶时间'\n", 1)
    rules.write_text(text, encoding="utf-8")
    walls = []
    for run in range(args.runs):
        work = folder / f"run{run}.db"
        shutil.copy(template, work)
        cmd = [sys.executable, "-m", "qc", "rescore", "--db", f"sqlite:///{work}", "--lexicons", str(lexicons),
               "--jobs", str(args.jobs), *(["--force"] if args.force else [])]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(proc.stderr[-2000:])
        rss_mb = int(proc.stderr.strip().splitlines()[-1]) / 1024
        walls.append(wall)
        print(f"run {run + 1}: {total:,} stored calls, {args.jobs} jobs → {total / wall:,.0f} calls/s ({wall:.1f} s, "
              f"max RSS {rss_mb:,.0f} MB) — {proc.stdout.strip()}")  # fmt: skip
        work.unlink()
    walls.sort()
    print(f"median: {total / walls[len(walls) // 2]:,.0f} calls/s")


def from_files(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="qc-rescore-"))
    write_calls(folder, args.calls)
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
