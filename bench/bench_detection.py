"""Detection quality on the labelled corpus: precision and recall per category, look-alikes flagged.

Each sentence is scored as one turn of its speaker (agent or customer) in a call of its own, with
the bundled lexicons (and the learned layer, models/suspects.skops, unless the lexicon turns it off). Reports, per
category (banned, nonstandard, filler, negative):
- recall of violations: confirmed hits alone, and confirmed + suspected (the learned layer);
- precision of confirmed hits (a hit of category C on a sentence labelled C);
plus the share of look-alikes and of clean agent sentences that lose points, look-alikes vetoed,
and customer sentences charged to the agent (must be 0).

Usage: python bench/bench_detection.py [--part test|test2|dev|FILE.jsonl] [--show-misses]
The test parts (corpus/test.jsonl, corpus/test2.jsonl: two writers who never saw the rules) are held
out: nobody who writes rules reads them; only this script does, and only its figures are looked at.
--show-misses is refused on them for that reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.inspection.engine import Inspector  # noqa: E402
from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.schema import Transcript, Utterance  # noqa: E402

CATEGORIES = ("banned", "nonstandard", "filler", "negative")
# Parts nobody who writes rules reads: test (round 1 writer), test2 (a second writer, round 2).
HELD_OUT = ("test", "test2")


def load(part: str) -> list[dict]:
    path = ROOT / "corpus" / f"{part}.jsonl" if part in (*HELD_OUT, "dev") else Path(part)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def hits_of(inspector: Inspector, row: dict) -> list:
    transcript = Transcript("bench", "0", (Utterance(row["speaker"], row["text"]),))
    return [h for h in inspector.score(transcript).hits if h.category in CATEGORIES]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", default="test", help="test, test2, dev, or the path of another labelled .jsonl file")
    ap.add_argument("--show-misses", action="store_true", help="list misses and false hits (dev part only)")
    args = ap.parse_args()
    if args.show_misses and args.part in HELD_OUT:
        ap.error("the test part is held out: its sentences are not shown")
    rows = load(args.part)
    inspector = Inspector(load_lexicon(ROOT / "lexicons"))
    found = defaultdict(Counter)  # category -> confirmed / any / total
    flagged = defaultdict(Counter)  # category -> confirmed hits: right / all
    lookalike = Counter()
    clean = Counter()
    customer_charged = 0
    misses, false_hits = [], []
    for row in rows:
        hits = hits_of(inspector, row)
        confirmed = {h.category for h in hits if h.status == "confirmed"}
        suspected = {h.category for h in hits if h.status == "suspected"}
        if row["speaker"] == "customer":
            customer_charged += any(h.speaker == "agent" for h in hits)
            continue
        label, kind = row["label"], row["kind"]
        for category in confirmed:
            flagged[category]["all"] += 1
            flagged[category]["right"] += category == label
        if kind == "violation":
            found[label]["total"] += 1
            found[label]["confirmed"] += label in confirmed
            found[label]["any"] += label in confirmed | suspected
            if label not in confirmed:
                misses.append((row, "(only suspected)" if label in suspected else ""))
        elif kind in ("lookalike", "clean"):
            tally = lookalike if kind == "lookalike" else clean
            tally["total"] += 1
            tally["flagged"] += bool(confirmed)
            tally["vetoed"] += any(h.veto for h in hits)
            tally["suspected"] += bool(suspected) and not confirmed
            if confirmed:
                false_hits.append((row, sorted({h.rule_id for h in hits if h.status == "confirmed"})))
    print(f"{args.part}: {len(rows)} sentences; ruleset {inspector.lexicon.version}")
    print(f"{'category':<12} {'violations':>10} {'recall':>8} {'+suspected':>11} {'precision':>10}")
    for c in CATEGORIES:
        f, p = found[c], flagged[c]
        recall = f["confirmed"] / f["total"] if f["total"] else float("nan")
        recall_any = f["any"] / f["total"] if f["total"] else float("nan")
        precision = p["right"] / p["all"] if p["all"] else float("nan")
        print(f"{c:<12} {f['total']:>10} {recall:>8.1%} {recall_any:>11.1%} {precision:>10.1%}")
    for name, tally in (("look-alikes", lookalike), ("clean agent sentences", clean)):
        if tally["total"]:
            print(
                f"{name}: {tally['flagged']}/{tally['total']} lose points ({tally['flagged'] / tally['total']:.1%}), "
                f"{tally['vetoed']} vetoed, {tally['suspected']} only suspected"
            )
    print(f"customer sentences charged to the agent: {customer_charged}")
    if args.show_misses:
        print("\nviolations no rule caught:")
        for row, note in misses:
            print(f"  [{row['label']}/{row.get('rule')}] {row['text']}  {note}")
        print("\nlook-alikes and clean sentences that lose points:")
        for row, ids in false_hits:
            print(f"  [{row['kind']}/{row.get('rule')}] {row['text']}  ← {', '.join(ids)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
