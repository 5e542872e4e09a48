"""Which features for the learned layer: character n-grams, jieba words, or both?

Each variant is trained and calibrated exactly as models/train_suspects.py does (dev part + rule
examples, thresholds on a held-back quarter of dev), then measured on the held-out test part on the
sentences the learned layer would see alone (agent sentences): share of violations flagged (any
category, and the right one) and share of look-alike and clean sentences flagged.

Usage: python bench/bench_suspect_features.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "models"))

import train_suspects as train  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline, make_union  # noqa: E402

from qc.classify.suspects import CATEGORIES, NONE  # noqa: E402
from qc.text.normalize import CLAUSE_BREAK, normalize  # noqa: E402
from qc.text.words import JiebaSegmenter  # noqa: E402

SEGMENTER = JiebaSegmenter()


def words(text: str) -> list[str]:
    return [w for w in SEGMENTER.tokens(text.replace(CLAUSE_BREAK, " ")) if w.strip()]


def variants() -> dict:
    char = {"analyzer": "char", "sublinear_tf": True}
    lr = {"C": train.C, "max_iter": 3000, "class_weight": "balanced"}
    return {
        "char 1-2": lambda: make_pipeline(TfidfVectorizer(ngram_range=(1, 2), **char), LogisticRegression(**lr)),
        "char 1-3 (chosen)": lambda: make_pipeline(
            TfidfVectorizer(ngram_range=(1, 3), **char), LogisticRegression(**lr)
        ),
        "jieba words": lambda: make_pipeline(
            TfidfVectorizer(analyzer=words, sublinear_tf=True), LogisticRegression(**lr)
        ),
        "char 1-3 + words": lambda: make_pipeline(
            make_union(TfidfVectorizer(ngram_range=(1, 3), **char), TfidfVectorizer(analyzer=words, sublinear_tf=True)),
            LogisticRegression(**lr),
        ),
    }


def main() -> int:
    dev, extra = train.corpus_rows(), train.lexicon_rows()
    fit_rows, held = train_test_split(dev, test_size=train.HELD_BACK, random_state=train.SEED,
                                      stratify=[r["label"] for r in dev])  # fmt: skip
    test_path = ROOT / "corpus" / "test.jsonl"
    test = [json.loads(x) for x in test_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    test = [r for r in test if r["speaker"] == "agent"]
    print(f"{'features':<20} {'violations flagged':>19} {'right category':>15} {'look-alike/clean flagged':>25} "
          f"{'ms/100 texts':>13}")  # fmt: skip
    for name, make in variants().items():
        rows = fit_rows + extra
        model = make().fit([normalize(r["text"]).text for r in rows], [r["label"] for r in rows])
        thresholds, _ = train.calibrate(model, held, 0.005)
        texts = [normalize(r["text"]).text for r in test]
        t0 = time.perf_counter()
        proba = model.predict_proba(texts)
        ms = (time.perf_counter() - t0) * 1000 / len(texts) * 100
        cols = {c: list(model.classes_).index(c) for c in CATEGORIES}
        flagged, right, clean_flagged = 0, 0, 0
        for row, p in zip(test, proba, strict=True):
            best = max(CATEGORIES, key=lambda c, p=p: p[cols[c]])
            hit = p[cols[best]] >= thresholds[best]
            if row["label"] == NONE:
                clean_flagged += hit
            else:
                flagged += hit
                right += hit and best == row["label"]
        n_violations = sum(r["label"] != NONE for r in test)
        n_clean = len(test) - n_violations
        print(f"{name:<20} {flagged / n_violations:>19.1%} {right / n_violations:>15.1%} "
              f"{clean_flagged / n_clean:>25.1%} {ms:>13.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
