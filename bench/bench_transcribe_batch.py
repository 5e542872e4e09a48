"""Real-time factor of ``qc transcribe`` over a batch of recordings: the whole command, as a user runs it.

Runs ``qc transcribe FOLDER --out … --jobs J`` on the test calls (tools/make_test_audio.py; default
``~/.cache/qc/test-calls``) with an empty transcript cache each time, so every recording is
recognised, and divides the command's wall time (process start, model load, decoding, VAD,
recognition, roles, writing included) by the recordings' total length. Repeats give a median.

    .venv/bin/python bench/bench_transcribe_batch.py [--calls DIR] [--limit N] [--jobs 1,2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CALLS = Path.home() / ".cache" / "qc" / "test-calls"


def seconds_of(path: Path) -> float:
    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / w.getframerate()
    except wave.Error:  # µ-law / A-law WAV: the wave module reads PCM only
        with av.open(str(path)) as f:
            return float(f.duration) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=Path, default=DEFAULT_CALLS)
    ap.add_argument("--limit", type=int, default=20)
    ap.add_argument("--jobs", default="1,2")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--keep-cache",
        type=Path,
        help="use this cache folder (its transcripts emptied first) and keep what is recognised",
    )
    args = ap.parse_args()
    wavs = sorted(args.calls.glob("*.wav"))[: args.limit]
    if not wavs:
        sys.exit(f"{args.calls}: no recordings; make them with tools/make_test_audio.py")
    work = Path(tempfile.mkdtemp())
    folder = work / "rec"
    folder.mkdir()
    for i, w in enumerate(wavs):  # named as qc expects, {agent_id}_{started_at}: the content keys the cache
        shutil.copy(w, folder / f"{9000 + i}_2026112410{i // 60:02d}{i % 60:02d}.wav")
    audio = sum(seconds_of(w) for w in wavs)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(wavs)} recordings, {audio / 60:.1f} min")
    print("| jobs | wall s (median) | RTF |")
    print("| --- | --- | --- |")
    qc = ROOT / ".venv" / "bin" / "qc"
    for jobs in (int(j) for j in args.jobs.split(",")):
        walls = []
        for k in range(args.repeat):
            cache = work / f"cache-{jobs}-{k}"
            if args.keep_cache:
                cache = args.keep_cache
                shutil.rmtree(cache / "transcripts", ignore_errors=True)
            env = {**os.environ, "QC_CACHE": str(cache)}
            models = Path(os.environ.get("QC_CACHE", Path.home() / ".cache" / "qc")) / "models"
            if (
                models.is_dir() and not (cache / "models").exists()
            ):  # the joined model is reused: joining it is a one-time install step
                shutil.copytree(models, cache / "models")
            t0 = time.perf_counter()
            cmd = [str(qc), "transcribe", str(folder), "--out", str(work / f"out-{jobs}-{k}"), "--jobs", str(jobs)]
            done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done.returncode != 0:
                sys.exit(f"qc transcribe failed:\n{done.stderr[-2000:]}")
            walls.append(time.perf_counter() - t0)
        wall = statistics.median(walls)
        print(f"| {jobs} | {wall:.1f} | {wall / audio:.3f} |", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
