"""Recognition speed (real-time factor) and accuracy (character error rate) of the ASR stage.

Sets: ../shared/audio (real Mandarin with reference texts; skipped when absent) at 16 kHz and
resampled to 8 kHz telephone rate, and tests/data/audio (our TTS call-centre calls, whose texts are
known) with and without the pinyin correction of protected terms.

    .venv/bin/python bench/bench_asr.py [--shared ../shared/audio] [--configs int8:1,int8:5]

CER = edit distance / reference length, after qc's normalisation (simplified, no punctuation or
spaces) of both sides. RTF = processing seconds / audio seconds, median over clips.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.pipeline import protected_terms  # noqa: E402
from qc.speech.audio import load_recording  # noqa: E402
from qc.speech.correct import HomophoneCorrector  # noqa: E402
from qc.speech.transcribe import TELEPHONE_RATE  # noqa: E402
from qc.speech.whisper import AsrSettings, WhisperTranscriber  # noqa: E402
from qc.text.normalize import CLAUSE_BREAK, UTTERANCE_BREAK, normalize  # noqa: E402


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def resample(src: Path, dest: Path, rate: int) -> Path:
    with av.open(str(src)) as inp, av.open(str(dest), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=rate)
        for frame in inp.decode(audio=0):
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dest


def run(transcriber: WhisperTranscriber, clips: list[tuple[Path, str]], corrector: HomophoneCorrector | None = None):
    errors = chars = 0
    rtfs = []
    for path, ref in clips:
        rec = load_recording(path)
        t0 = time.perf_counter()
        telephone = 0 < rec.source_rate <= TELEPHONE_RATE  # as qc transcribe decides it
        segments = sorted((s.start, s.text) for ch in rec.channels for s in transcriber.transcribe(ch, telephone))
        hyp = "".join(text for _, text in segments)  # both sides of a call, in time order
        rtfs.append((time.perf_counter() - t0) / rec.duration)
        if corrector is not None:
            hyp = corrector.correct(hyp)[0]
        # clause breaks are punctuation, not speech: the reference's and the pauses' commas must not count
        r, h = (normalize(x).text.replace(CLAUSE_BREAK, "").replace(UTTERANCE_BREAK, "") for x in (ref, hyp))
        errors += edit_distance(r, h)
        chars += len(r)
    return statistics.median(rtfs), errors / max(chars, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "audio")
    ap.add_argument("--configs", default="int8:1,int8:5,float32:5", help="compute_type:beam,…")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--vad-thresholds", default="", help="compare Silero VAD thresholds, e.g. 0.5,0.3 (default: qc's)")
    args = ap.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; cpu_threads={args.threads}")
    tmp = Path(tempfile.mkdtemp())
    sets: dict[str, list[tuple[Path, str]]] = {}
    refs = args.shared / "refs.tsv"
    if refs.is_file():
        clips = [
            (args.shared / name, text)
            for name, text in (
                line.split("\t", 1) for line in refs.read_text(encoding="utf-8").splitlines() if "\t" in line
            )
        ]
        sets["shared 16 kHz"] = [(resample(p, tmp / f"16k_{p.name}", 16000), t) for p, t in clips]
        sets["shared 8 kHz"] = [(resample(p, tmp / f"8k_{p.name}", 8000), t) for p, t in clips]
    else:
        print(f"{args.shared} not found: skipping the real-speech set")
    calls = json.loads((ROOT / "tests" / "data" / "audio" / "calls.json").read_text(encoding="utf-8"))
    tts = [(ROOT / "tests" / "data" / "audio" / name, "".join(t for _, _, t in lines)) for name, lines in calls.items()]
    terms, _ = protected_terms(load_lexicon(ROOT / "lexicons"))  # the words qc score protects
    corrector = HomophoneCorrector(terms)
    print("| set | compute | beam | RTF (median) | CER |")
    print("| --- | --- | --- | --- | --- |")
    # None: qc's own thresholds (by the recording's rate); a number: that threshold for every recording
    thresholds: list[float | None] = [float(v) for v in args.vad_thresholds.split(",") if v] or [None]
    for config, vad in ((c, v) for c in args.configs.split(",") for v in thresholds):
        compute, beam = config.split(":")
        settings = AsrSettings(compute_type=compute, beam_size=int(beam), cpu_threads=args.threads)
        if vad is not None:
            settings = replace(settings, vad_threshold=vad, vad_threshold_telephone=vad)
            compute = f"{compute}, VAD {vad}"
        t = WhisperTranscriber(settings)
        t.load()
        for name, clips in sets.items():
            rtf, cer = run(t, clips)
            print(f"| {name} | {compute} | {beam} | {rtf:.3f} | {cer:.1%} |", flush=True)
        rtf, cer = run(t, tts)
        _, cer_fixed = run(t, tts, corrector)
        print(
            f"| TTS calls 8 kHz stereo/mono | {compute} | {beam} | {rtf:.3f} | {cer:.1%} raw → {cer_fixed:.1%} "
            "corrected |",
            flush=True,
        )


if __name__ == "__main__":
    main()
