"""Scoring from recordings against scoring from the same calls' transcripts.

For every test call made by tools/make_test_audio.py (``<id>.wav``, its reference ``<id>.json`` and
``labels.json``; default ``~/.cache/qc/test-calls``) the call is scored twice with the shipped
lexicons: from the reference transcript (typed text, exact times) and from the recording (through
``qc transcribe``'s recogniser and cache, so after bench/bench_turns.py this costs no recognition).

Printed, per category:

- **checks holding**: what the text gives — each rule hit (rule id, counted per call) and each
  script check (opening, closing, closing question: said or not) — and the share of it the audio
  gives too; a rule found from audio only by sound (``suspected``) is counted apart;
- **false hits on clean calls**: hits from audio that the text of a call labelled clean does not give;
- **planted violations**: of the violations the call was written with (labels.json), the share found
  from text and from audio (the rules' own recall, not the recogniser's).

    .venv/bin/python bench/bench_audio.py [--calls DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.formats import read_transcript  # noqa: E402
from qc.inspection.engine import Inspector  # noqa: E402
from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.pipeline import protected_terms  # noqa: E402
from qc.schema import CallResult  # noqa: E402
from qc.speech.recordings import CallMeta  # noqa: E402
from qc.speech.transcribe import CallTranscriber, TranscribeOptions  # noqa: E402

DEFAULT_CALLS = Path.home() / ".cache" / "qc" / "test-calls"
# the labels' planted categories → the result categories whose hits count as finding them
PLANTED = {
    "banned": ("banned",),
    "nonstandard": ("nonstandard",),
    "negative": ("negative",),
    "filler": ("filler",),
    "missing_opening": ("opening",),
    "missing_closing": ("closing",),
    "missing_closing_question": ("closing_question", "closing"),
    "long_silence": ("silence", "timing"),
    "interruption": ("interruption", "timing"),
}


def items(result: CallResult, statuses: tuple[str, ...]) -> Counter[tuple[str, str]]:
    """(category, what) → count: rule hits of the given statuses, and each script check's outcome."""
    out: Counter[tuple[str, str]] = Counter(
        (h.category, h.rule_id) for h in result.hits if h.status in statuses and h.category not in ("polite",)
    )
    for name, check in result.checks.items():
        if check.ok is not None:
            out[(f"check:{name}", "said" if check.ok else "not said")] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=Path, default=DEFAULT_CALLS)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", action="store_true", help="list what the audio lost or added, per call")
    args = ap.parse_args()
    refs = sorted(p for p in args.calls.glob("*.json") if p.with_suffix(".wav").is_file())[: args.limit or None]
    labels_path = args.calls / "labels.json"
    if not refs or not labels_path.is_file():
        sys.exit(f"{args.calls}: no test calls with labels.json; make them with tools/make_test_audio.py")
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    labels = labels.get("calls", labels)
    os.environ.setdefault("QC_CACHE", str(Path(tempfile.gettempdir()) / "qc-bench-cache"))
    lexicon = load_lexicon(ROOT / "lexicons")
    inspector = Inspector(lexicon)
    terms, company = protected_terms(lexicon)
    transcribers = {side: CallTranscriber(TranscribeOptions(agent_channel=side), terms, company) for side in (0, 1)}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {len(refs)} calls from {args.calls}")
    held: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # category → [on text, held from audio, by sound]
    false_clean: Counter[str] = Counter()
    false_sound: Counter[str] = Counter()  # suspected hits by sound: listed for review, not deducted
    clean_calls = 0
    planted: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # category → [planted, text found, audio found]
    started = time.perf_counter()
    for ref_path in refs:
        ref = read_transcript(ref_path)
        label = labels.get(ref.call_id, {})
        side = int(label.get("layout") == "stereo_agent_right")
        hyp = transcribers[side].transcribe(CallMeta(str(ref_path.with_suffix(".wav")), ref.call_id, ref.agent_id))
        on_text, on_audio = inspector.score(ref), inspector.score(hyp)
        text_items = items(on_text, ("confirmed",))
        audio_items = items(on_audio, ("confirmed",))
        sound_items = items(on_audio, ("suspected",))
        lost, added = [], []
        for (category, what), n in text_items.items():
            kind = category if not category.startswith("check:") else category
            got = min(n, audio_items[(category, what)])
            by_sound = min(n - got, sound_items[(category, what)])
            held[kind][0] += n
            held[kind][1] += got
            held[kind][2] += by_sound
            if got + by_sound < n:
                lost.append(f"{category}:{what}")
        if label.get("clean"):
            clean_calls += 1
            for (category, what), n in audio_items.items():
                if not category.startswith("check:") and n > text_items[(category, what)]:
                    false_clean[category] += n - text_items[(category, what)]
                    added.append(f"{category}:{what}")
            for (category, what), n in sound_items.items():
                if not category.startswith("check:") and n > text_items[(category, what)]:
                    false_sound[category] += n - text_items[(category, what)]
                    added.append(f"{category}:{what} (by sound)")
        for v in label.get("violations", []):
            cats = PLANTED.get(v.get("category"), (v.get("category"),))
            row = planted[v.get("category")]
            row[0] += 1
            row[1] += any(h.category in cats and h.status == "confirmed" for h in on_text.hits)
            row[2] += any(h.category in cats for h in on_audio.hits)
        if args.show and (lost or added):
            print(f"  {ref.call_id}: lost {lost} added {added}")
    print(f"scored in {time.perf_counter() - started:.0f} s (recognition from the cache where it was there)")
    print("| category | on text | held from audio | + by sound (suspected) | share held |")
    print("| --- | --- | --- | --- | --- |")
    total = [0, 0, 0]
    for kind in sorted(held):
        n, got, sound = held[kind]
        total = [total[0] + n, total[1] + got, total[2] + sound]
        print(f"| {kind} | {n} | {got} | {sound} | {got / n:.1%} ({(got + sound) / n:.1%} with sound) |")
    n, got, sound = total
    print(f"| **all** | {n} | {got} | {sound} | {got / n:.1%} ({(got + sound) / n:.1%} with sound) |")
    print(
        f"false hits from audio on {clean_calls} clean calls: {sum(false_clean.values())} deducted "
        f"{dict(false_clean)}, {sum(false_sound.values())} suspected by sound {dict(false_sound)}"
    )
    print("| planted | calls | found from text | found from audio |")
    print("| --- | --- | --- | --- |")
    for category in sorted(planted):
        n, text, audio = planted[category]
        print(f"| {category} | {n} | {text / n:.0%} | {audio / n:.0%} |")


if __name__ == "__main__":
    main()
