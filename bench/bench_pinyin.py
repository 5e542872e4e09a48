"""Matching by sound (issue 9): what it costs on clean speech, what it finds on misheard violations.

Measures, for each ``pinyin`` level (lexicons/settings.yaml; rules' own settings still apply):
  1. false suspected hits: every agent line of corpus/dev.jsonl that is not a violation (kind clean
     or lookalike) scored as if recognised; a line counts when it gets a hit found by sound. Per
     kind, and the rules that make them;
  2. recall on misheard violations: violating dev lines that the rules catch exactly, with 1–2
     characters of the caught words replaced by a deterministic corruptor — a homophone (same
     toneless syllable) or a near-homophone (one initial/final confusion), drawn from the 3,500
     commonest characters of jieba's dictionary, as Whisper picks common characters; detection
     of the line's category exactly (typed) and with sound (recognised: confirmed or suspected);
  3. cost: ms per call for calls of dev lines, typed vs recognised, and the one-off compile.
If ~/.cache/qc/test-calls/labels.json exists (TTS calls with reference transcripts), the agent
turns of its clean calls are a further clean-speech check, read-only.

Usage: python bench/bench_pinyin.py [--levels 0 1 2] [--show 10]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from qc.inspection import sound
from qc.inspection.engine import Inspector
from qc.inspection.lexicon import Lexicon, load_lexicon
from qc.inspection.sound import NEAR, char_readings, syllable_cost
from qc.schema import CallResult, Transcript, Utterance

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "corpus" / "dev.jsonl"
TEST_CALLS = Path.home() / ".cache" / "qc" / "test-calls"
ASR = {"model": "bench"}  # any asr metadata marks a transcript as recognised
CATEGORIES = ("banned", "nonstandard", "filler", "negative")


def one_line(text: str, recognised: bool) -> Transcript:
    return Transcript("dev", "1", (Utterance("agent", text),), asr=ASR if recognised else None)


def sound_hits(result: CallResult) -> list:
    return [h for h in result.hits if h.heard is not None and h.category in CATEGORIES]


def detected(result: CallResult, category: str, with_sound: bool) -> bool:
    return any(
        h.category == category and (h.status == "confirmed" or (with_sound and h.heard is not None))
        for h in result.hits
    )


# --- the corruptor ----------------------------------------------------------------------------


def common_chars(limit: int = 3500) -> dict[str, list[str]]:
    """{toneless syllable: common characters read so, commonest first} from jieba's dictionary."""
    import jieba

    freq: Counter[str] = Counter()
    with open(Path(jieba.__file__).parent / "dict.txt", encoding="utf-8") as f:
        for line in f:
            word, count, *_ = line.split()
            for ch in word:
                if "\u4e00" <= ch <= "\u9fff":
                    freq[ch] += int(count)
    by_sound: dict[str, list[str]] = {}
    for ch, _ in freq.most_common(limit):
        readings = char_readings(ch)
        if readings:
            by_sound.setdefault(readings[0], []).append(ch)
    return by_sound


class Corruptor:
    """Replaces characters by common (near-)homophones, the same way every run."""

    def __init__(self) -> None:
        self.by_sound = common_chars()
        self.near = {
            s: [t for t in self.by_sound if syllable_cost(s, t) == NEAR] for s in self.by_sound
        }  # fmt: skip

    def replacement(self, ch: str, near: bool, rng: random.Random) -> str | None:
        readings = char_readings(ch)
        if not readings:
            return None
        sounds = self.near.get(readings[0], []) if near else [readings[0]]
        pool = [c for s in sounds for c in self.by_sound.get(s, [])[:5] if c != ch]
        return rng.choice(pool) if pool else None

    def corrupt(self, text: str, span: tuple[int, int], n: int, near: bool, seed: int) -> str | None:
        rng = random.Random(seed)
        positions = [i for i in range(*span) if char_readings(text[i]) and not text[i].isdigit()]
        if len(positions) < n:
            return None
        chars = list(text)
        for i in sorted(rng.sample(positions, n)):
            new = self.replacement(text[i], near, rng)
            if new is None:
                return None
            chars[i] = new
        return "".join(chars)


_QUOTE = re.compile(r"@0:(\d+)-(\d+)")


# --- measurements -----------------------------------------------------------------------------


def clean_check(inspector: Inspector, rows: list[dict], show: int) -> None:
    lines = [r for r in rows if r["speaker"] == "agent" and r["kind"] in ("clean", "lookalike")]
    flagged: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    examples = []
    for r in lines:
        found = sound_hits(inspector.score(one_line(r["text"], True)))
        if found:
            flagged[r["kind"]] += 1
            by_rule.update({h.rule_id for h in found})
            first = found[0]
            examples.append(f"    {r['kind']:9} {first.rule_id:8} {r['text']}  ({first.heard}→{first.read_as})")
    total = sum(flagged.values())
    kinds = ", ".join(
        f"{k} {flagged[k]}/{sum(1 for r in lines if r['kind'] == k)}" for k in ("clean", "lookalike")
    )  # fmt: skip
    print(f"  clean speech: {total}/{len(lines)} lines get a hit by sound ({total / len(lines):.2%}; {kinds})")
    if by_rule:
        print("    worst rules: " + ", ".join(f"{rule} {n}" for rule, n in by_rule.most_common(8)))
    for line in examples[:show]:
        print(line)


def recall_check(inspector: Inspector, rows: list[dict], corruptor: Corruptor, show: int) -> None:
    modes = {"1 homophone": (1, False), "1 near-homophone": (1, True), "2 mixed": (2, None)}
    tally = {m: [0, 0, 0] for m in modes}  # lines, exact, with sound
    examples = []
    for number, r in enumerate(rows):
        if r["speaker"] != "agent" or r["kind"] != "violation":
            continue
        typed = inspector.score(one_line(r["text"], False))
        caught = [h for h in typed.hits if h.category == r["label"] and h.status == "confirmed"]
        m = _QUOTE.search(caught[0].hit_id) if caught else None
        if m is None:
            continue
        span = (int(m.group(1)), int(m.group(2)))
        for mode, (n, near) in modes.items():
            corrupt = corruptor.corrupt(r["text"], span, n, bool(number % 2) if near is None else near, number)
            if corrupt is None or corrupt == r["text"]:
                continue
            exact = detected(inspector.score(one_line(corrupt, False)), r["label"], False)
            heard = detected(inspector.score(one_line(corrupt, True)), r["label"], True)
            counts = tally[mode]
            counts[0] += 1
            counts[1] += exact
            counts[2] += heard
            if heard and not exact and len(examples) < show:
                examples.append(f"    {mode:16} {r['text']} → {corrupt}")
    for mode, (n, exact, heard) in tally.items():
        print(f"  misheard violations, {mode:16}: {n:4} lines, exact {exact / n:6.1%}, with sound {heard / n:6.1%}")
    for line in examples:
        print(line)


def speed_check(lexicon: Lexicon, rows: list[dict]) -> None:
    agent = [r["text"] for r in rows if r["speaker"] == "agent" and r["kind"] in ("clean", "lookalike")]
    customer = [r["text"] for r in rows if r["speaker"] == "customer"]
    rng = random.Random(7)
    calls = []
    for i in range(200):
        turns = []
        for k in range(30):  # 15 agent turns, 15 customer turns
            speaker, lines = ("agent", agent) if k % 2 == 0 else ("customer", customer)
            turns.append(Utterance(speaker, rng.choice(lines)))
        calls.append(Transcript(f"b{i}", "1", tuple(turns)))
    inspector = Inspector(lexicon, learned=False)
    t0 = time.perf_counter()
    inspector.sound_matcher()
    build = time.perf_counter() - t0
    for recognised in (False, True):
        batch = [replace(c, asr=ASR) if recognised else c for c in calls]
        for c in batch[:20]:
            inspector.score(c)  # warm caches
        t0 = time.perf_counter()
        for c in batch:
            inspector.score(c)
        ms = (time.perf_counter() - t0) / len(batch) * 1000
        chars = sum(len(u.text) for c in batch for u in c.utterances) / len(batch)
        print(f"  {'recognised' if recognised else 'typed':10}: {ms:6.2f} ms per call ({chars:.0f} characters)")
    print(f"  compiling the runs (once per lexicon, on the first recognised call): {build:.2f} s")


def test_calls_check(inspector: Inspector) -> None:
    """Agent turns of the TTS test calls (reference transcripts, tools/make_test_audio.py) that are not
    a planted violation, scored as recognised."""
    labels_path = TEST_CALLS / "labels.json"
    if not labels_path.is_file():
        print(f"  {TEST_CALLS} has no labels.json yet: skipped")
        return
    labels = json.loads(labels_path.read_text(encoding="utf-8"))
    turns = flagged = 0
    shown = []
    for call_id, label in labels.items():
        path = TEST_CALLS / f"{call_id}.json"
        if not isinstance(label, dict) or not path.is_file():
            continue
        planted = {v.get("utterance") for v in label.get("violations") or [] if isinstance(v, dict)}
        data = json.loads(path.read_text(encoding="utf-8"))
        for index, u in enumerate(data.get("utterances", [])):
            if u.get("speaker") == "agent" and index not in planted:
                turns += 1
                found = sound_hits(inspector.score(one_line(u["text"], True)))
                flagged += bool(found)
                if found and len(shown) < 5:
                    shown.append(f"    {found[0].rule_id:8} {u['text']}  ({found[0].heard}→{found[0].read_as})")
    print(f"  TTS test calls: {flagged}/{turns} agent turns that are not planted violations get a hit by sound")
    for line in shown:
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--levels", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument(
        "--min-gains", type=float, nargs="+", default=[sound.MIN_GAIN],
        help="sound.MIN_GAIN values to try (how much likelier a reading must make its sentence)",
    )  # fmt: skip
    ap.add_argument("--show", type=int, default=8, help="examples to print per measurement")
    args = ap.parse_args()
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    lexicon = load_lexicon(ROOT / "lexicons")
    corruptor = Corruptor()
    print(f"corpus: {DEV.name}, lexicon default pinyin level {lexicon.settings.pinyin}")
    default_gain = sound.MIN_GAIN
    for level in args.levels:
        for gain in args.min_gains:
            sound.MIN_GAIN = gain
            print(f"level {level}, MIN_GAIN {gain:g}:")
            tuned = replace(lexicon, settings=replace(lexicon.settings, pinyin=level))
            inspector = Inspector(tuned, learned=False)
            clean_check(inspector, rows, args.show)
            recall_check(inspector, rows, corruptor, args.show)
            test_calls_check(inspector)
    sound.MIN_GAIN = default_gain
    print("speed (default level, learned layer off):")
    speed_check(lexicon, rows)


if __name__ == "__main__":
    main()
