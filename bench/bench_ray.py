"""Ray against the local process pool on this machine: the same batch of recordings, both really
transcribing (``--force``: the cache neither read nor skipped), wall time and real-time factor.

Three ways, interleaved run by run so that a busy machine weighs on each alike:

- ``pool``: ``transcribe_inputs`` as ``qc transcribe`` runs it (worker processes started, models loaded);
- ``ray``: ``--ray`` alone, a local Ray started and stopped by each run (what one command costs);
- ``ray-up``: a local Ray already running (``ray start`` once, then ``--ray auto``: how a cluster is used);
  each run is a new batch, so its workers load the model again.

Recordings: ``/work/shared/audio`` (12 clips of real Mandarin, 68 s) when present, else the test calls
in tests/data/audio/calls; ``--calls DIR`` for others (``--limit N`` of them).

    .venv/bin/python bench/bench_ray.py [--calls DIR] [--limit N] [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_transcribe_batch import seconds_of  # noqa: E402

from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.pipeline import Recognition, transcribe_inputs  # noqa: E402
from qc.speech.transcribe import TranscribeOptions  # noqa: E402

SHARED = Path("/work/shared/audio")
SAMPLES = ROOT / "tests" / "data" / "audio" / "calls"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=Path, default=SHARED if SHARED.is_dir() else SAMPLES)
    ap.add_argument("--limit", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    wavs = sorted(args.calls.glob("*.wav"))[: args.limit]
    if not wavs:
        sys.exit(f"{args.calls}: no recordings")
    work = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    os.environ["QC_CACHE"] = str(work / "cache")  # set before Ray starts: its workers inherit it
    manifest = work / "recordings.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["path", "call_id", "agent_id"])
        out.writerows([str(w), f"BENCH-{i}", "9000"] for i, w in enumerate(wavs))
    audio = sum(seconds_of(w) for w in wavs)
    lexicon = load_lexicon(ROOT / "lexicons")
    logging.basicConfig(level=logging.WARNING)
    print(f"{len(wavs)} recordings, {audio:.1f} s of audio, from {args.calls}; {os.cpu_count()} cores")

    import ray

    times: dict[str, list[float]] = {"pool": [], "ray": [], "ray-up": []}

    def run(mode: str, k: int) -> None:
        recognition = Recognition(TranscribeOptions(force=True), ray=None if mode == "pool" else "local")
        t0 = time.perf_counter()
        summary = transcribe_inputs([manifest], work / f"{mode}-{k}", lexicon, recognition)
        elapsed = time.perf_counter() - t0
        assert summary.done == len(wavs) and not summary.failures, summary.failures
        times[mode].append(elapsed)
        print(f"run {k} {mode:>6}: {elapsed:6.1f} s  RTF {elapsed / audio:.3f}  (load {os.getloadavg()[0]:.1f})")

    for k in range(1, args.runs + 1):
        run("pool", k)
        run("ray", k)  # no Ray running: the run starts its own and stops it
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
        try:
            run("ray-up", k)  # the driver finds this Ray joined and uses it
        finally:
            ray.shutdown()
    pool = statistics.median(times["pool"])
    print(f"\nmedian of {args.runs} ({len(wavs)} recordings, {audio:.1f} s of audio):")
    for mode, ts in times.items():
        m = statistics.median(ts)
        print(f"  {mode:>6}: {m:6.1f} s  RTF {m / audio:.3f}  × pool {m / pool:.2f}")


if __name__ == "__main__":
    main()
