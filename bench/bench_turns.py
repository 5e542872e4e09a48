"""Turn integrity from recordings: are all spoken turns heard, and is every word in its own turn?

Reads a folder of test calls made by tools/make_test_audio.py (``<id>.wav`` + ``<id>.json``, the
reference transcript with the times each turn was rendered at; default ``~/.cache/qc/test-calls``),
transcribes each recording as ``qc transcribe`` does (through qc's cache, so a rerun with the same
settings is free) and prints per channel (stereo: agent and customer; mono: the one channel):

- **turns found**: reference turns overlapped in time by a recognised utterance on that channel (the
  VAD heard them and Whisper wrote something); **turns recognised**: those at least half of whose
  characters are in those utterances (recognition errors count here);
- **words in the right turn**: of the recognised characters that can be aligned to a reference
  turn of the channel, the share aligned to the turn their own utterance mostly belongs to (a word
  of the next turn stuck to this one counts as wrong); characters aligned nowhere are recognition
  errors and counted by CER instead;
- **CER**: the channel's recognised text against its reference text, both normalised as qc does
  (clause breaks not counted);
- **RTF**: recognition seconds / audio seconds over the batch, one process (``--threads``).

    .venv/bin/python bench/bench_turns.py [--calls DIR] [--limit N] [--vad-thresholds 0.5,0.3]
        [--unit-gaps 1.0] [--threads 2]
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
from collections import defaultdict
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_asr import edit_distance  # noqa: E402  (run as a script: bench/ is on the path)

from qc.formats import read_transcript  # noqa: E402
from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.pipeline import protected_terms  # noqa: E402
from qc.schema import Transcript  # noqa: E402
from qc.speech.recordings import CallMeta  # noqa: E402
from qc.speech.transcribe import CallTranscriber, TranscribeOptions  # noqa: E402
from qc.speech.whisper import AsrSettings  # noqa: E402
from qc.text.normalize import CLAUSE_BREAK, UTTERANCE_BREAK, normalize  # noqa: E402

DEFAULT_CALLS = Path.home() / ".cache" / "qc" / "test-calls"


def plain(text: str) -> str:
    return normalize(text).text.replace(CLAUSE_BREAK, "").replace(UTTERANCE_BREAK, "")


@dataclass
class Tally:
    turns: int = 0
    found: int = 0
    recognised: int = 0  # turns at least half of whose characters were recognised
    aligned: int = 0
    utts: int = 0  # mono: recognised utterances, attributed ones, attributed right
    attributed: int = 0
    role_right: int = 0
    right_turn: int = 0
    errors: int = 0
    chars: int = 0

    def add(self, other: Tally) -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))


def channel_of(speaker: str, stereo: bool) -> str:
    return speaker if stereo else "mono"


def score_call(ref: Transcript, hyp: Transcript, stereo: bool, missed: list[str]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    channels = {channel_of(u.speaker, stereo) for u in ref.utterances}
    for ch in channels:
        rturns = [u for u in ref.utterances if channel_of(u.speaker, stereo) == ch]
        # mono: recognised utterances may carry any role; the channel is the whole recording
        hutts = [u for u in hyp.utterances if not stereo or u.speaker == ch]
        t = tallies[ch]
        rtexts = [plain(u.text) for u in rturns]
        # turns found
        for r, rtext in zip(rturns, rtexts, strict=True):
            t.turns += 1
            heard = [h for h in hutts if h.start is not None and h.start < r.end and h.end > r.start and h.text]
            near = "".join(plain(h.text) for h in heard)
            matched = sum(b.size for b in SequenceMatcher(None, rtext, near, autojunk=False).get_matching_blocks())
            t.found += bool(heard)
            t.recognised += bool(rtext) and matched >= len(rtext) / 2
            if not heard:
                missed.append(f"{ref.call_id} {ch} {r.start:.1f}s {r.text}")
        # words in the right turn: align each utterance to the channel's turns near it
        for h in hutts:
            htext = plain(h.text)
            cands = [
                i
                for i, r in enumerate(rturns)
                if h.start is not None and r.start < h.end + 2.0 and r.end > h.start - 2.0
            ]
            if not cands or not htext:
                continue
            joined, owner = "", []
            for i in cands:
                joined += rtexts[i]
                owner += [i] * len(rtexts[i])
            per_turn: dict[int, int] = defaultdict(int)
            for block in SequenceMatcher(None, joined, htext, autojunk=False).get_matching_blocks():
                for k in range(block.size):
                    per_turn[owner[block.a + k]] += 1
            if per_turn:
                t.aligned += sum(per_turn.values())
                t.right_turn += max(per_turn.values())
        if not stereo:  # roles: each utterance against the speaker of the turn it overlaps most
            for h in hutts:
                overlap = {r.speaker: 0.0 for r in rturns}
                for r in rturns:
                    overlap[r.speaker] += max(0.0, min(r.end, h.end) - max(r.start, h.start))
                if max(overlap.values(), default=0.0) <= 0:
                    continue
                t.utts += 1
                if h.speaker != "unknown":
                    t.attributed += 1
                    t.role_right += h.speaker == max(overlap, key=overlap.get)
        # CER over the channel, in time order
        rall = "".join(rtexts)
        hall = "".join(plain(h.text) for h in sorted(hutts, key=lambda u: u.start or 0.0))
        t.errors += edit_distance(rall, hall)
        t.chars += len(rall)
    return tallies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=Path, default=DEFAULT_CALLS)
    ap.add_argument("--limit", type=int, default=0, help="only the first N calls (by name)")
    ap.add_argument("--vad-thresholds", default="", help="telephone VAD thresholds to compare (default: qc's)")
    ap.add_argument("--unit-gaps", default="", help="unit gaps to compare, seconds (default: qc's)")
    ap.add_argument("--pack-gaps", default="", help="pack gaps to compare, seconds (default: qc's)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--missed", action="store_true", help="list the turns not found")
    args = ap.parse_args()
    refs = sorted(p for p in args.calls.glob("*.json") if p.with_suffix(".wav").is_file())
    if args.limit:
        refs = refs[: args.limit]
    if not refs:
        sys.exit(f"{args.calls}: no test calls (<id>.wav + <id>.json); make them with tools/make_test_audio.py")
    labels_file = args.calls / "labels.json"
    labels = json.loads(labels_file.read_text(encoding="utf-8")) if labels_file.is_file() else {}
    os.environ.setdefault("QC_CACHE", str(Path(tempfile.gettempdir()) / "qc-bench-cache"))
    terms, company = protected_terms(load_lexicon(ROOT / "lexicons"))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(refs)} calls from {args.calls}")
    base = AsrSettings(cpu_threads=args.threads)
    thresholds = [float(v) for v in args.vad_thresholds.split(",") if v] or [base.vad_threshold_telephone]
    gaps = [float(v) for v in args.unit_gaps.split(",") if v] or [base.unit_gap]
    packs = [float(v) for v in args.pack_gaps.split(",") if v] or [base.pack_gap]
    print("| settings | channel | turns found | turns recognised | words in the right turn | CER | RTF |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for threshold, gap, pack in ((t, g, p) for t in thresholds for g in gaps for p in packs):
        if True:
            settings = replace(base, vad_threshold_telephone=threshold, unit_gap=gap, pack_gap=pack)
            transcribers = {
                side: CallTranscriber(TranscribeOptions(settings, agent_channel=side), terms, company)
                for side in (0, 1)
            }
            totals: dict[str, Tally] = defaultdict(Tally)
            missed: list[str] = []
            seconds = audio = 0.0
            rtfs = []
            for ref_path in refs:
                ref = read_transcript(ref_path)
                t0 = time.perf_counter()
                right = labels.get(ref.call_id, {}).get("layout") == "stereo_agent_right"
                hyp = transcribers[int(right)].transcribe(
                    CallMeta(str(ref_path.with_suffix(".wav")), ref.call_id, ref.agent_id)
                )
                if "rtf" in hyp.asr and hyp.asr.get("cache_key"):
                    spent = time.perf_counter() - t0
                    seconds += float(hyp.asr["rtf"]) * float(hyp.asr["audio_seconds"]) if spent < 0.5 else spent
                    audio += float(hyp.asr["audio_seconds"])
                    rtfs.append(float(hyp.asr["rtf"]))
                stereo = int(hyp.asr.get("channels", 1)) >= 2
                for ch, tally in score_call(ref, hyp, stereo, missed).items():
                    totals[ch].add(tally)
                    totals["all"].add(tally)
            name = f"telephone VAD {threshold}, unit gap {gap}s, pack gap {pack}s"
            for ch in ("agent", "customer", "mono", "all"):
                t = totals.get(ch)
                if not t or not t.turns:
                    continue
                rtf = f"{seconds / max(audio, 1e-9):.3f} (median per call {statistics.median(rtfs):.3f})"
                print(
                    f"| {name} | {ch} | {t.found}/{t.turns} = {t.found / t.turns:.1%} | {t.recognised / t.turns:.1%} | "
                    f"{t.right_turn / max(t.aligned, 1):.1%} | {t.errors / max(t.chars, 1):.1%} | "
                    f"{rtf if ch == 'all' else ''} |",
                    flush=True,
                )
            mono = totals.get("mono")
            if mono and mono.utts:
                print(
                    f"   mono roles: {mono.role_right}/{mono.attributed} = "
                    f"{mono.role_right / max(mono.attributed, 1):.1%}"
                    f" of attributed utterances right, {1 - mono.attributed / mono.utts:.1%} left unknown"
                )
            if args.missed:
                for line in missed:
                    print("   missed:", line)
    if labels:
        layouts = defaultdict(int)
        for ref_path in refs:
            layouts[str(labels.get(ref_path.stem, {}).get("layout", "?"))] += 1
        print("calls by layout:", dict(layouts))


if __name__ == "__main__":
    main()
