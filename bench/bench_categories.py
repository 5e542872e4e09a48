"""Call-category quality: precision, recall and F1 per category for rules only, model only, and
rules + model (what qc ships), with micro averages, as a markdown table; plus throughput.

Each line of the corpus is one call's customer words (turns joined by " / "), its domain (courier or
telecom) and its categories. A call is categorised with its own domain's category set, exactly as a
profile with that one domain would; 其他 counts as a category (predicted when nothing else is).

Data: corpus/categories/test.jsonl — written by someone who never saw the rules or the model, held
out: nobody who writes rules reads it; only this script opens it, and only its figures are looked
at (it prints no text of it). Without it (or with ``--part dev``) the figures are on
corpus/categories/dev.jsonl, out-of-fold for the model (each fifth scored by a model fitted on the
other four plus the rules' examples, thresholds as calibrated) — but the rules were written looking
at dev, so the rules' figures there are optimistic, and the table says so.

Usage: python bench/bench_categories.py [--part test|dev]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "models"))

import train_categories as training  # noqa: E402

from qc.classify.categories import (  # noqa: E402
    OTHER,
    CallCategorizer,
    CategoryModel,
    CategoryRules,
    default_model_path,
)

TEST = ROOT / "corpus" / "categories" / "test.jsonl"
MODES = ("rules", "model", "rules+model")


def turns(row: dict[str, Any]) -> list[str]:
    """A row's customer turns (a " / "-joined string, or already a list)."""
    text = row["text"]
    return list(text) if isinstance(text, list) else [t for t in str(text).split(" / ") if t.strip()]


def predict(rows: list[dict[str, Any]], rules: CategoryRules, model: CategoryModel | None) -> dict[str, list[set[str]]]:
    """Predicted category names per row, for each mode."""
    no_rules = CategoryRules(rules.domains, ())
    out: dict[str, list[set[str]]] = {}
    for mode, (r, m) in {"rules": (rules, None), "model": (no_rules, model), "rules+model": (rules, model)}.items():
        predicted: list[set[str]] = [set() for _ in rows]
        for domain in rules.domains:
            idx = [i for i, row in enumerate(rows) if row["domain"] == domain]
            found = CallCategorizer(r, m, (domain,)).categorize_many([turns(rows[i]) for i in idx])
            for i, cats in zip(idx, found, strict=True):
                predicted[i] = {c.name for c in cats}
        out[mode] = predicted
    return out


def out_of_fold_predictions(rows: list[dict[str, Any]], rules: CategoryRules) -> dict[str, list[set[str]]]:
    """Dev predictions where the model part of each row comes from a model that did not see it."""
    from sklearn.model_selection import KFold

    labels = training.label_list(rules)
    extra = training.example_rows(rules)
    proba = training.out_of_fold(rows, extra, labels)
    thresholds, _ = training.calibrate(proba, rows, labels, 0.85)
    merged: dict[str, list[set[str]]] = {m: [set() for _ in rows] for m in MODES}
    for train_idx, held_idx in KFold(training.FOLDS, shuffle=True, random_state=training.SEED).split(rows):
        pipeline = training.fit([rows[i] for i in train_idx] + extra, labels)
        held = [rows[i] for i in held_idx]
        part = predict(held, rules, CategoryModel(pipeline, labels, thresholds))
        for mode in MODES:
            for i, names in zip(held_idx, part[mode], strict=True):
                merged[mode][i] = names
    return merged


def scores(rows: list[dict[str, Any]], predicted: list[set[str]], domain: str, name: str) -> tuple[int, int, int]:
    tp = fp = fn = 0
    for row, names in zip(rows, predicted, strict=True):
        if row["domain"] != domain:
            continue
        gold, got = name in row["labels"], name in names
        tp += gold and got
        fp += got and not gold
        fn += gold and not got
    return tp, fp, fn


def prf(tp: int, fp: int, fn: int) -> str:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"{p:.2f} | {r:.2f} | {f:.2f}"


def table(rows: list[dict[str, Any]], predictions: dict[str, list[set[str]]], rules: CategoryRules) -> str:
    head = "| domain | category | n | " + " | ".join(f"{m} P | {m} R | {m} F1" for m in MODES) + " |"
    lines = [head, "|" + " --- |" * (3 + 3 * len(MODES))]
    totals = {m: Counter() for m in MODES}
    totals_no_other = {m: Counter() for m in MODES}
    for domain, names in rules.domains.items():
        for name in names:
            n = sum(name in r["labels"] for r in rows if r["domain"] == domain)
            cells = []
            for mode in MODES:
                tp, fp, fn = scores(rows, predictions[mode], domain, name)
                totals[mode].update(tp=tp, fp=fp, fn=fn)
                if name != OTHER:
                    totals_no_other[mode].update(tp=tp, fp=fp, fn=fn)
                cells.append(prf(tp, fp, fn))
            lines.append(f"| {domain} | {name} | {n} | " + " | ".join(cells) + " |")
    for title, sums in (("micro, all", totals), ("micro, without 其他", totals_no_other)):
        cells = [prf(sums[m]["tp"], sums[m]["fp"], sums[m]["fn"]) for m in MODES]
        lines.append(f"| **{title}** | | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Customer turns that carry no category, as most of a real call's customer turns do.
FILLER = (
    "嗯",
    "对",
    "好的",
    "是的",
    "嗯嗯，好",
    "我姓王",
    "一三八一二三四五六七八",
    "对对对",
    "好的，谢谢",
    "没有了",
    "行",
    "喂",
)


def throughput(rules: CategoryRules, model: CategoryModel | None, rows: list[dict[str, Any]]) -> str:
    """Calls per second for categorize_many on calls of 12 customer turns: one corpus call's turns
    and filler, both domains' rules and the model on, best of three runs over 2,000 calls."""
    calls = []
    for i in range(2000):
        own = turns(rows[i % len(rows)])
        calls.append(own + [FILLER[(i + k) % len(FILLER)] for k in range(12 - len(own))])
    categorizer = CallCategorizer(rules, model, tuple(rules.domains))
    categorizer.categorize_many(calls[:10])
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for k in range(0, len(calls), 500):
            categorizer.categorize_many(calls[k : k + 500])
        best = min(best, time.perf_counter() - start)
    return f"{len(calls) / best:,.0f} calls/s (rules + model, batches of 500 calls of 12 customer turns, both domains)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("test", "dev"), default="test")
    args = ap.parse_args()
    rules = training.read_rules()
    if args.part == "test" and TEST.is_file():
        rows = training.read_rows(TEST)
        model_path = default_model_path()
        model = CategoryModel.load(model_path) if model_path else None
        predictions = predict(rows, rules, model)
        note = f"held-out test part ({TEST.relative_to(ROOT)}), shipped model {model.version if model else '(none)'}"
    else:
        rows = training.read_rows(training.DEV)
        predictions = out_of_fold_predictions(rows, rules)
        note = (
            "NO held-out test part: dev, model out-of-fold (5 folds). The rules were written looking at dev, "
            "so the rules' figures here are optimistic"
        )
    domains = Counter(r["domain"] for r in rows)
    print(f"Call categories — {note}; {len(rows)} calls ({', '.join(f'{d} {n}' for d, n in domains.items())})\n")
    print(table(rows, predictions, rules))
    path = default_model_path()
    print("\n" + throughput(rules, CategoryModel.load(path) if path else None, training.read_rows(training.DEV)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
