"""Train the learned second layer (models/suspects.skops) and calibrate its thresholds.

Data: the dev part of the labelled corpus (corpus/dev.jsonl: agent violations, look-alikes and clean
sentences) and every phrase rule's own examples (must-hit → its category, must-not-hit → none),
plus the manual's scripted agent lines (none). Never corpus/test.jsonl: that is held out for
bench/bench_detection.py.

Thresholds come from out-of-fold predictions: the dev part is cut into five stratified folds (fixed
seed); each fold is scored by a model fitted on the other four plus the rules' examples, so every
dev sentence gets a score from a model that never saw it. Each category's threshold is then set
as low as it can go while at most ``--budget`` of the dev look-alike and clean sentences are
flagged in that category; recall and false flags at those thresholds are recorded. (A single
held-back quarter left ~300 clean sentences, so a 0.5 % budget meant "the second-highest one", and
the thresholds jumped with every corpus edit; five folds score all ~1,200.) The model is then
refitted on everything and saved with skops, next to models/suspects.meta.json (training-data
sha256, library versions, thresholds, out-of-fold figures, date).

    .venv/bin/python models/train_suspects.py
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import sklearn
import skops
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.classify.suspects import CATEGORIES, META_FILE, MODEL_FILE, NONE, SuspectModel  # noqa: E402
from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.inspection.rules import PhraseRule, PoliteRule  # noqa: E402
from qc.text.normalize import normalize  # noqa: E402

SEED = 7
FOLDS = 5
NGRAMS = (1, 3)
C = 8.0
# Never flag below this probability, however clean the held-back data looks.
FLOOR = 0.3


def corpus_rows() -> list[dict]:
    path = ROOT / "corpus" / "dev.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["speaker"] == "agent"]


def lexicon_rows() -> list[dict]:
    rows = []
    for rule in load_lexicon(ROOT / "lexicons").rules:
        if type(rule) is PhraseRule:
            rows += [{"text": t, "label": rule.info.category} for t in rule.examples_hit]
            rows += [{"text": t, "label": NONE} for t in rule.examples_miss]
        elif type(rule) is PoliteRule:
            rows += [{"text": t, "label": NONE} for t in rule.examples_hit]
    lines = (ROOT / "models" / "agent_lines.txt").read_text(encoding="utf-8").splitlines()
    rows += [{"text": t.strip(), "label": NONE} for t in lines if t.strip() and not t.startswith("#")]
    return rows


def make_model() -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=1),
        LogisticRegression(C=C, max_iter=3000, class_weight="balanced"),
    )


def digest(texts: list[str], labels: list[str]) -> str:
    return hashlib.sha256("\n".join(f"{y}\t{t}" for t, y in zip(texts, labels, strict=True)).encode()).hexdigest()


def out_of_fold(dev: list[dict], extra: list[dict]) -> tuple[np.ndarray, list[str]]:
    """Class probabilities for every dev row from a model that did not see it, and the class order."""
    labels = [r["label"] for r in dev]
    proba: np.ndarray | None = None
    classes: list[str] = []
    for train_idx, held_idx in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(dev, labels):
        fit_rows = [dev[i] for i in train_idx] + extra
        model = make_model().fit([normalize(r["text"]).text for r in fit_rows], [r["label"] for r in fit_rows])
        classes = list(model.classes_)
        if proba is None:
            proba = np.zeros((len(dev), len(classes)))
        proba[held_idx] = model.predict_proba([normalize(dev[i]["text"]).text for i in held_idx])
    assert proba is not None
    return proba, classes


def calibrate(proba: np.ndarray, classes: list[str], rows: list[dict], budget: float) -> tuple[dict[str, float], dict]:
    """Per-category thresholds on out-of-fold scores, and the figures at those thresholds."""
    cols = {c: classes.index(c) for c in CATEGORIES}
    best = [max(CATEGORIES, key=lambda c, row=row: row[cols[c]]) for row in proba]
    p_best = [float(row[cols[c]]) for row, c in zip(proba, best, strict=True)]
    clean = [i for i, r in enumerate(rows) if r["label"] == NONE]
    thresholds = {}
    for c in CATEGORIES:
        scores = sorted((p_best[i] for i in clean if best[i] == c), reverse=True)
        allowed = int(budget * len(clean))
        # lowest threshold flagging at most `allowed` clean rows in this category (never below FLOOR)
        thresholds[c] = max(FLOOR, round(scores[allowed] + 1e-6, 4) if len(scores) > allowed else FLOOR)
    flagged = [p_best[i] >= thresholds[best[i]] for i in range(len(rows))]
    violations = Counter(r["label"] for r in rows if r["label"] != NONE)
    found_any = Counter(r["label"] for r, f in zip(rows, flagged, strict=True) if r["label"] != NONE and f)
    found_right = Counter(
        r["label"] for i, (r, f) in enumerate(zip(rows, flagged, strict=True)) if f and best[i] == r["label"]
    )
    figures = {
        "scored_rows": len(rows),
        "clean_or_lookalike": len(clean),
        "clean_flagged": round(sum(flagged[i] for i in clean) / max(1, len(clean)), 4),
        "recall_flagged_as_any_violation": {c: round(found_any[c] / violations[c], 3) for c in violations},
        "recall_right_category": {c: round(found_right[c] / violations[c], 3) for c in violations},
    }
    return thresholds, figures


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=0.005, help="share of clean dev rows a category may flag")
    args = ap.parse_args()
    dev = corpus_rows()
    extra = lexicon_rows()
    proba, classes = out_of_fold(dev, extra)
    thresholds, figures = calibrate(proba, classes, dev, args.budget)
    every = dev + extra
    texts, labels = [normalize(r["text"]).text for r in every], [r["label"] for r in every]
    final = make_model().fit(texts, labels)
    path = ROOT / "models" / MODEL_FILE
    sio.dump(final, path, compression=8)  # zip deflate: ZIP_DEFLATED
    meta = {
        "model": f"TfidfVectorizer(analyzer=char, ngram_range={NGRAMS}, sublinear_tf) + "
        f"LogisticRegression(C={C}, class_weight=balanced), classes {sorted(set(labels))}",
        "stored_as": f"{MODEL_FILE}: scikit-learn Pipeline saved with skops (no pickle), loaded by "
        "qc.classify.suspects.SuspectModel against an allow-list of types",
        "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "trained": datetime.date.today().isoformat(),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "numpy_version": np.__version__,
        "training_examples": len(every),
        "training_labels": dict(Counter(labels)),
        "training_data_sha256": digest(texts, labels),
        "sources": [
            "corpus/dev.jsonl (agent sentences)",
            "lexicons/rules/*.yaml phrase and polite examples",
            "models/agent_lines.txt",
        ],  # fmt: skip
        "thresholds": thresholds,
        "calibration": {"out_of_fold": FOLDS, "seed": SEED, "budget_per_category": args.budget, **figures},
    }
    (ROOT / "models" / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    loaded = SuspectModel.load(path)
    assert loaded.thresholds == thresholds
    print(json.dumps({"thresholds": thresholds, **figures}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
