"""Train the call-category model (models/categories.skops) and calibrate a threshold per category.

Data: corpus/categories/dev.jsonl (customer words of one call, with its categories) and every rule's
``examples: hit`` sentences in lexicons/categories.yaml (each labelled with its rule's category).
Never corpus/categories/test.jsonl: that is held out for bench/bench_categories.py.

Model: TF-IDF over character 1–3-grams of the normalised text (qc.text.normalize, every run of
clause and turn breaks written as one break: ``categories.model_text``) and one logistic regression
per category (scikit-learn ``OneVsRestClassifier``): a call may have several categories, and each
gets its own yes/no. The label of an output is ``domain:name`` (courier:查件); 其他 has no output, it
is what is left when nothing else is found.

Thresholds come from out-of-fold scores: dev is cut into five folds (fixed seed); each fold is
scored by a model fitted on the other four plus the rules' examples, so every dev call gets a score
from a model that never saw it. For each category, among the dev calls of its domain, the threshold
is the lowest score (not under ``FLOOR``) at which precision is at least ``--precision`` (0.85),
so the model adds categories rarely wrongly; where no threshold reaches it, the one with the best F1
(recorded as ``target_met: false``). The model is then refitted on everything, saved with skops,
and described in models/categories.meta.json (training-data sha256, versions, labels, thresholds,
out-of-fold figures, date).

    .venv/bin/python models/train_categories.py
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline, make_pipeline

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.classify.categories import (  # noqa: E402
    META_FILE,
    MODEL_FILE,
    OTHER,
    CallCategorizer,
    CategoryModel,
    CategoryRules,
    label_key,
    load_category_rules,
    model_text,
)
from qc.inspection.lexicon_yaml import read_yaml, strip_lines  # noqa: E402
from qc.text.normalize import normalize  # noqa: E402

DEV = ROOT / "corpus" / "categories" / "dev.jsonl"
RULES = ROOT / "lexicons" / "categories.yaml"
SYNONYMS = ROOT / "lexicons" / "synonyms.yaml"
SEED = 7
FOLDS = 5
NGRAMS = (1, 2)
MIN_DF = 1
C = 3.0
# Never add a category below this probability, however clean the out-of-fold scores look.
FLOOR = 0.3


def read_rules() -> CategoryRules:
    """categories.yaml with the synonym groups of lexicons/synonyms.yaml (the patterns may name
    them). Read directly, not through the whole lexicon: training must not depend on every other
    rule file being valid at that moment."""
    data = strip_lines(read_yaml(SYNONYMS, str(SYNONYMS))) or {}
    groups = {str(k): tuple(v) for k, v in (data.get("groups") or {}).items() if isinstance(v, list)}
    return load_category_rules(RULES, groups)


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def label_list(rules: CategoryRules) -> list[str]:
    """Every category the model has an output for (all but 其他), domain by domain."""
    return [label_key(d, n) for d, names in rules.domains.items() for n in names if n != OTHER]


def row_keys(row: dict[str, Any]) -> set[str]:
    return {label_key(row["domain"], n) for n in row["labels"] if n != OTHER}


def example_rows(rules: CategoryRules) -> list[dict[str, Any]]:
    """The rules' must-hit examples as training calls of their rule's category."""
    return [{"text": t, "domain": r.domain, "labels": [r.name]} for r in rules.rules for t in r.examples_hit]


def prepare(text: str) -> str:
    return model_text(normalize(text).text)


def matrix(rows: list[dict[str, Any]], labels: list[str]) -> np.ndarray:
    index = {k: j for j, k in enumerate(labels)}
    y = np.zeros((len(rows), len(labels)), dtype=int)
    for i, row in enumerate(rows):
        for key in row_keys(row):
            y[i, index[key]] = 1
    return y


def make_model() -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=MIN_DF, dtype=np.float32),
        OneVsRestClassifier(LogisticRegression(C=C, max_iter=3000, class_weight="balanced")),
    )


def fit(rows: list[dict[str, Any]], labels: list[str]) -> Pipeline:
    return make_model().fit([prepare(r["text"]) for r in rows], matrix(rows, labels))


def out_of_fold(dev: list[dict[str, Any]], extra: list[dict[str, Any]], labels: list[str]) -> np.ndarray:
    """Probabilities for every dev call from a model that did not see it (fitted on the other folds
    and the rules' examples)."""
    proba = np.zeros((len(dev), len(labels)))
    for train_idx, held_idx in KFold(FOLDS, shuffle=True, random_state=SEED).split(dev):
        model = fit([dev[i] for i in train_idx] + extra, labels)
        proba[held_idx] = model.predict_proba([prepare(dev[i]["text"]) for i in held_idx])
    return proba


def choose_threshold(scores: np.ndarray, truth: np.ndarray, precision: float) -> tuple[float, bool]:
    """The lowest threshold (≥ FLOOR) at which precision reaches ``precision``, and True; else the
    threshold with the best F1, and False."""
    candidates = sorted({round(float(s), 4) for s in scores if s >= FLOOR} | {FLOOR})
    best_f1, best_t = -1.0, 0.5
    for t in candidates:
        flagged = scores >= t
        tp = int((flagged & (truth == 1)).sum())
        if not flagged.any():
            continue
        p = tp / int(flagged.sum())
        if p >= precision and tp > 0:
            return t, True
        r = tp / max(1, int(truth.sum()))
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > best_f1:
            best_f1, best_t = f1, t
    return best_t, False


def figures(scores: np.ndarray, truth: np.ndarray, threshold: float) -> dict[str, float | int]:
    flagged = scores >= threshold
    tp = int((flagged & (truth == 1)).sum())
    fp = int((flagged & (truth == 0)).sum())
    fn = int((~flagged & (truth == 1)).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
        "positives": int(truth.sum()),
    }


def calibrate(
    proba: np.ndarray, dev: list[dict[str, Any]], labels: list[str], precision: float
) -> tuple[dict[str, float], dict[str, Any]]:
    """Per-category thresholds on out-of-fold scores (each over the dev calls of its own domain: the
    categorizer never asks a courier call about telecom categories), and the figures there."""
    y = matrix(dev, labels)
    thresholds: dict[str, float] = {}
    per_label: dict[str, Any] = {}
    for j, key in enumerate(labels):
        domain = key.split(":", 1)[0]
        mine = np.array([r["domain"] == domain for r in dev])
        t, met = choose_threshold(proba[mine, j], y[mine, j], precision)
        thresholds[key] = t
        per_label[key] = {"threshold": t, "target_met": met, **figures(proba[mine, j], y[mine, j], t)}
    flagged = proba >= np.array([thresholds[k] for k in labels])
    domain_mask = np.array([[r["domain"] == k.split(":", 1)[0] for k in labels] for r in dev])
    flagged &= domain_mask
    tp, fp, fn = int((flagged & (y == 1)).sum()), int((flagged & (y == 0)).sum()), int((~flagged & (y == 1)).sum())
    micro = {"precision": round(tp / max(1, tp + fp), 3), "recall": round(tp / max(1, tp + fn), 3)}
    return thresholds, {"per_category": per_label, "micro": micro}


def digest(texts: list[str], y: np.ndarray) -> str:
    lines = (f"{''.join(map(str, row))}\t{t}" for t, row in zip(texts, y, strict=True))
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--precision", type=float, default=0.85, help="precision each threshold aims for (out-of-fold)")
    args = ap.parse_args()
    rules = read_rules()
    labels = label_list(rules)
    dev = read_rows(DEV)
    extra = example_rows(rules)
    proba = out_of_fold(dev, extra, labels)
    thresholds, calibration = calibrate(proba, dev, labels, args.precision)
    every = dev + extra
    final = fit(every, labels)
    path = ROOT / "models" / MODEL_FILE
    sio.dump(final, path, compression=8)  # zip deflate: ZIP_DEFLATED
    y = matrix(every, labels)
    meta = {
        "model": f"TfidfVectorizer(analyzer=char, ngram_range={NGRAMS}, min_df={MIN_DF}, sublinear_tf) + "
        f"OneVsRestClassifier(LogisticRegression(C={C}, class_weight=balanced)), one output per label",
        "stored_as": f"{MODEL_FILE}: scikit-learn Pipeline saved with skops (no pickle), loaded by "
        "qc.classify.categories.CategoryModel against an allow-list of types",
        "model_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "trained": datetime.date.today().isoformat(),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "numpy_version": np.__version__,
        "labels": labels,
        "training_examples": len(every),
        "training_positives": {k: int(y[:, j].sum()) for j, k in enumerate(labels)},
        "training_data_sha256": digest([prepare(r["text"]) for r in every], y),
        "sources": ["corpus/categories/dev.jsonl", "lexicons/categories.yaml examples.hit"],
        "thresholds": thresholds,
        "calibration": {
            "out_of_fold": FOLDS,
            "seed": SEED,
            "precision_target": args.precision,
            "floor": FLOOR,
            "dev_calls": len(dev),
            "dev_domains": dict(Counter(r["domain"] for r in dev)),
            **calibration,
        },
    }
    (ROOT / "models" / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    loaded = CategoryModel.load(path)
    assert loaded.thresholds == thresholds and list(loaded.labels) == labels
    CallCategorizer(rules, loaded, tuple(rules.domains)).categorize(["我的快递到哪了"])  # loads and runs
    print(json.dumps({"thresholds": thresholds, **calibration}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
