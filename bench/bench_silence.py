"""Timing-rule hits per call over a folder of timed transcripts: silence (SIL-001), thanks after a hold
(SIL-002), interruption (INT-001), speech rate (RATE-001), and the agent's speech rates they are judged on.

Reads every ``*.json`` transcript in ``--calls`` (default ``~/.cache/qc/test-calls``, made by
tools/make_test_audio.py; qc's transcript cache, ``~/.cache/qc/transcripts``, works too: a file without a
``call_id`` is named after the file). When the folder has a ``labels.json`` (the test calls' planted faults), the
planted long silences and interruptions are compared with the hits: a silence hit is right when its
gap ends where the labelled utterance starts, an interruption hit when it is on the labelled utterance.

    .venv/bin/python bench/bench_silence.py [--calls DIR] [--lexicons DIR] [--show] [--rates]

``--show`` prints the utterances around each hit (to judge whether it is real); ``--rates`` prints the
distribution of the agent's per-utterance speech rate (spoken characters per second), the measurement
RATE-001's per-utterance bounds were chosen from.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.errors import InputError  # noqa: E402
from qc.formats import read_transcript, transcript_from_dict  # noqa: E402
from qc.inspection.engine import Inspector  # noqa: E402
from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.schema import CallResult, Hit, Transcript  # noqa: E402
from qc.text.normalize import normalize, speech_length  # noqa: E402

DEFAULT_CALLS = Path.home() / ".cache" / "qc" / "test-calls"
TIMING_KINDS = ("silence", "hold", "interruption", "speech_rate")
PLANTED = {"long_silence": "silence", "interruption": "interruption"}


def load(path: Path) -> Transcript | None:
    """The transcript in ``path``; a cached recognition without ids is named after its file; None: not a transcript."""
    try:
        return read_transcript(path)
    except InputError:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "utterances" not in data:
            return None
        return transcript_from_dict({"call_id": path.stem, "agent_id": "?", **data}, str(path))


def show(transcript: Transcript, hit: Hit) -> None:
    """The hit and the utterances around it: two before the gap (or the hit's utterance) and two after."""
    utts = transcript.utterances
    at = hit.utterance if hit.utterance is not None else 0
    if hit.category == "silence":  # the gap ends where the first utterance after it starts
        at = next((i for i, u in enumerate(utts) if u.start is not None and u.start >= (hit.end or 0)), at)
    print(f"  {transcript.call_id} {hit.rule_id} {hit.detail}")
    for i in range(max(0, at - 2), min(len(utts), at + 2)):
        u = utts[i]
        mark = ">" if i == hit.utterance else " "
        print(f"   {mark}{i:3d} {u.speaker:8s} {u.start:7.2f}-{u.end:7.2f} {u.text[:60]}")


def planted_found(transcript: Transcript, result: CallResult, planted: list[dict]) -> Counter[str]:
    """Per planted category: how many were planted and how many a hit found."""
    out: Counter[str] = Counter()
    utts = transcript.utterances
    for fault in planted:
        category = PLANTED.get(fault.get("category", ""))
        if category is None:
            continue
        out[f"{category} planted"] += 1
        at = fault["utterance"]
        if category == "silence":
            found = any(h.category == "silence" and h.end == utts[at].start for h in result.hits)
        else:
            found = any(h.category == category and h.utterance == at for h in result.hits)
        out[f"{category} found"] += found
    return out


def agent_rates(transcript: Transcript, min_chars: int) -> list[float]:
    return [
        speech_length(normalize(u.text).text) / (u.end - u.start)
        for u in transcript.utterances
        if u.speaker == "agent"
        and u.start is not None
        and u.end is not None
        and u.end > u.start
        and speech_length(normalize(u.text).text) >= min_chars
    ]


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=Path, default=DEFAULT_CALLS)
    ap.add_argument("--lexicons", type=Path, default=ROOT / "lexicons")
    ap.add_argument("--show", action="store_true", help="print the utterances around each hit")
    ap.add_argument("--rates", action="store_true", help="print the agent's per-utterance speech rates")
    args = ap.parse_args()
    paths = sorted(p for p in args.calls.glob("*.json") if p.name != "labels.json" and not p.name.startswith("."))
    if not paths:
        sys.exit(f"{args.calls}: no transcripts (*.json)")
    labels_path = args.calls / "labels.json"
    labels = json.loads(labels_path.read_text(encoding="utf-8")) if labels_path.is_file() else {}
    lexicon = load_lexicon(args.lexicons)
    inspector = Inspector(lexicon, learned=False)
    rules = [r for r in lexicon.rules if r.kind in TIMING_KINDS]
    ids = [r.info.id for r in rules]
    totals: Counter[str] = Counter()
    planted: Counter[str] = Counter()
    rates: list[float] = []
    min_chars = int(next((getattr(r, "min_utterance_chars", 12) for r in rules if r.kind == "speech_rate"), 12))
    print("| call | " + " | ".join(ids) + " |")
    print("| --- |" + " --- |" * len(ids))
    for path in paths:
        transcript = load(path)
        if transcript is None:
            continue
        result = inspector.score(transcript)
        timing = [h for h in result.hits if h.rule_id in ids]
        counts = Counter(h.rule_id for h in timing)
        totals.update(counts)
        print(f"| {transcript.call_id} | " + " | ".join(str(counts[i]) for i in ids) + " |")
        if args.show:
            for hit in timing:
                show(transcript, hit)
        planted.update(planted_found(transcript, result, labels.get(transcript.call_id, {}).get("violations", [])))
        rates.extend(agent_rates(transcript, min_chars))
    print(f"| **{len(paths)} calls** | " + " | ".join(str(totals[i]) for i in ids) + " |")
    for category in PLANTED.values():
        if planted[f"{category} planted"]:
            print(f"planted {category}: {planted[f'{category} found']} of {planted[f'{category} planted']} found")
    if args.rates and rates:
        print(
            f"agent utterances of {min_chars}+ characters: {len(rates)}; 字/秒 min {min(rates):.2f}, "
            f"p1 {quantile(rates, 0.01):.2f}, median {statistics.median(rates):.2f}, p95 {quantile(rates, 0.95):.2f}, "
            f"p99 {quantile(rates, 0.99):.2f}, max {max(rates):.2f}"
        )


if __name__ == "__main__":
    main()
