"""Scoring throughput on synthetic 1,500-character calls (issue: ≥ 2,000 calls/s on 2 cores).

Measures, each as the median of --repeat runs:
  1. one process, transcripts already in memory → CallResult (the engine alone);
  2. --jobs processes over --calls calls (the month re-score after a lexicon edit);
  3. for scale: jieba segmentation of the same text (what a token-based matcher would pay).

Usage: python bench/bench_scoring.py [--calls 100000] [--jobs 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from qc.inspection.engine import Inspector
from qc.inspection.lexicon import load_lexicon
from qc.schema import Transcript, Utterance

LEXICONS = Path(__file__).resolve().parent.parent / "lexicons"
AGENT_OK = [
    "您好，中通速递，工号1024为您服务。",
    "请问您查哪里过来的快件？",
    "请问运单号码是多少？",
    "收件人地址也请告诉我好吗？",
    "您先别着急，我赶紧帮您查找，大概半个小时内给您答复，您看好吗？",
    "好的，麻烦您稍等，我为您查询一下。",
    "感谢您的耐心等待，您的快件已经到上海了，今天下午派送。",
    "您可以在网上申请理赔，不客气。",
    "不知道能否麻烦您留一个联系电话？",
    "请问您还有什么需要帮助？",
    "感谢您的来电，再见。",
]
AGENT_BAD = [
    "这个我也不知道，你找领导去。",
    "我也没有办法啊。",
    "老实说，这个很难搞定嘛。",
    "不行，这个不可以。",
    "很抱歉让你久等。",
]
CUSTOMER = [
    "我要查份快件，从一号就发出了，现在都四号了还没收到！",
    "从南京发到上海的。",
    "好吧。",
    "你们这是什么速递公司？",
    "发票，丢了没法补。",
    "没有了，谢谢。",
]


def synthetic_call(i: int, rng: random.Random, chars: int = 1500, bad: float = 0.05) -> Transcript:
    """About ``chars`` characters of alternating turns; ``bad``: share of agent turns that break a rule."""
    utts, t, n = [], 0.0, 0
    while n < chars:
        speaker = "agent" if len(utts) % 2 == 0 else "customer"
        if speaker == "customer":
            text = rng.choice(CUSTOMER)
        else:
            text = rng.choice(AGENT_BAD if rng.random() < bad else AGENT_OK)
        dur = len(text) / 4.5
        utts.append(Utterance(speaker, text, round(t, 2), round(t + dur, 2)))  # type: ignore[arg-type]
        t += dur + rng.uniform(0.3, 2.0)
        n += len(text)
    return Transcript(f"bench-{i}", str(1000 + i % 50), tuple(utts), started_at="2026-11-03T09:00:00+08:00")


_inspector: Inspector | None = None


def _init(learned: bool) -> None:
    global _inspector
    _inspector = Inspector(load_lexicon(LEXICONS), learned=learned, categorize=False)


def _score_range(args: tuple[int, int, int, float]) -> int:
    start, stop, seed, bad = args
    rng = random.Random(seed)
    calls = [synthetic_call(i, rng, bad=bad) for i in range(start, min(stop, start + 200))]
    assert _inspector is not None
    hits = 0
    for i in range(start, stop):
        hits += len(_inspector.score(calls[(i - start) % len(calls)]).hits)
    return hits


def _single(inspector: Inspector, bad: float, repeat: int) -> tuple[float, float, float]:
    rng = random.Random(7)
    calls = [synthetic_call(i, rng, bad=bad) for i in range(2000)]
    chars = statistics.mean(sum(len(u.text) for u in c.utterances) for c in calls)
    hits = statistics.mean(len(inspector.score(c).hits) for c in calls[:200])
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for c in calls:
            inspector.score(c)
        rates.append(len(calls) / (time.perf_counter() - t0))
    return statistics.median(rates), chars, hits


def _categories(inspector: Inspector, repeat: int) -> None:
    """Call categories as the pipeline finds them: batches of 200 stored results."""
    rng = random.Random(11)
    calls = [synthetic_call(i, rng) for i in range(2000)]
    scored = [(c, inspector.score(c)) for c in calls[:200]] * 10
    inspector.categorize_results(scored[:200])  # loads the classifier
    rates = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for k in range(0, len(scored), 200):
            inspector.categorize_results(scored[k : k + 200])
        rates.append(len(scored) / (time.perf_counter() - t0))
    model = "rules + classifier" if inspector.learned else "rules only"
    rate = statistics.median(rates)
    print(f"call categories ({model}), batches of 200 as qc score stores them: median {rate:,.0f} calls/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-learned", action="store_true", help="rules alone (the learned layer off)")
    args = ap.parse_args()
    learned = not args.no_learned
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    # As qc score runs: workers score without call categories; the main process finds them a stored
    # batch at a time (one classifier call per batch), measured on its own below.
    lexicon = load_lexicon(LEXICONS)
    inspector = Inspector(lexicon, learned=learned, categorize=False)
    print(f"learned layer: {'on' if inspector.suspects is not None else 'off'}")
    _categories(Inspector(lexicon, learned=learned), args.repeat)
    for bad in (0.05, 0.35):
        rate, chars, hits = _single(inspector, bad, args.repeat)
        print(
            f"1 process, in memory, {bad:.0%} of agent turns break a rule ({chars:.0f} chars, {hits:.1f} hits/call): "
            f"median {rate:,.0f} calls/s ({rate * chars / 1e6:.2f} Mchar/s)"
        )

    chunks = [(s, min(s + 2000, args.calls), s, 0.05) for s in range(0, args.calls, 2000)]
    multi = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(learned,)) as pool:
            total_hits = sum(pool.map(_score_range, chunks))
        multi.append(args.calls / (time.perf_counter() - t0))
    print(
        f"{args.jobs} processes, {args.calls:,} calls at 5% (pool start included): median "
        f"{statistics.median(multi):,.0f} calls/s, {args.calls / statistics.median(multi):.1f} s for the lot, "
        f"{total_hits / args.calls:.1f} hits/call"
    )

    text = "".join(AGENT_OK + CUSTOMER) * 40
    seg = inspector.segmenter
    seg.tokens("预热")
    t0 = time.perf_counter()
    seg.tokens(text)
    rate = len(text) / (time.perf_counter() - t0)
    print(f"for scale, jieba (HMM off) segmentation alone: {rate / 1e6:.2f} Mchar/s = {rate / 1500:,.0f} calls/s")


if __name__ == "__main__":
    main()
