"""The learned second layer: agent turns no rule caught that still read like a violation.

A scikit-learn Pipeline (character n-gram TF-IDF + multinomial logistic regression over none /
banned / nonstandard / filler / negative), trained by ``models/train_suspects.py`` on the labelled
corpus (dev part) and the rules' own examples, persisted with skops (``models/suspects.skops``).
Each category has a threshold, calibrated on out-of-fold scores of the dev part so that few clean or look-alike agent
sentences are flagged (``models/suspects.meta.json`` holds the thresholds and the figures).

What it finds is a *suspected* hit: listed in results, examples and reports with its confidence,
deducting nothing until a reviewer confirms it. Rules stay the only thing that costs points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qc.classify.persist import TEXT_PIPELINE_TYPES, file_sha256, load_model, read_meta
from qc.config import models_dir
from qc.errors import QCError
from qc.text.normalize import normalize

MODEL_FILE = "suspects.skops"
META_FILE = "suspects.meta.json"
CATEGORIES = ("banned", "nonstandard", "filler", "negative")
NONE = "none"
HINT = "retrain with models/train_suspects.py"


@dataclass(frozen=True, slots=True)
class Suspicion:
    """The most likely violation category of one text and the model's probability for it."""

    category: str
    confidence: float


class SuspectModel:
    """The fitted Pipeline and its per-category thresholds; predicts with scikit-learn itself."""

    def __init__(self, pipeline: Any, thresholds: Mapping[str, float], path: Path | None = None) -> None:
        self.pipeline = pipeline
        self.thresholds = dict(thresholds)
        self.path = path
        self.version = file_sha256(path)[:12] if path is not None else "in-memory"
        classes = list(pipeline.classes_)
        self._columns = {c: classes.index(c) for c in CATEGORIES if c in classes}

    @classmethod
    def load(cls, path: Path | None = None) -> SuspectModel:
        """The shipped model (or ``path``); QCError if it is missing, foreign or unsafe."""
        path = Path(path) if path is not None else models_dir() / MODEL_FILE
        pipeline = load_model(path, TEXT_PIPELINE_TYPES, "suspect model", HINT)
        meta = read_meta(path, META_FILE, "suspect model", HINT)
        thresholds = meta.get("thresholds")
        if not isinstance(thresholds, dict) or not all(c in thresholds for c in CATEGORIES):
            raise QCError(f"{path}: {META_FILE} has no threshold for every category; {HINT}")
        if NONE not in getattr(pipeline, "classes_", ()):
            raise QCError(f"{path}: not a suspect model (no '{NONE}' class); {HINT}")
        return cls(pipeline, {c: float(thresholds[c]) for c in CATEGORIES}, path)

    @classmethod
    def bundled(cls) -> SuspectModel | None:
        """The model shipped with qc, or None when there is none (the layer is then off)."""
        path = models_dir() / MODEL_FILE
        return cls.load(path) if path.is_file() else None

    def suspicions(self, texts: Sequence[str], normalized: bool = False) -> list[Suspicion | None]:
        """Per text: its most likely violation category if over that category's threshold, else None.
        One scikit-learn call for all texts (a call's agent turns at once); ``normalized``: the texts
        are already qc-normalised (the engine has them), so they are not normalised again."""
        if not texts:
            return []
        import sklearn

        prepared = list(texts) if normalized else [normalize(t).text for t in texts]
        # Input validation costs more than the prediction for one call's few dozen turns; the input
        # is a list of strings qc made itself.
        with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            probabilities = self.pipeline.predict_proba(prepared)
        out: list[Suspicion | None] = []
        for row in probabilities:
            category, p = max(((c, float(row[j])) for c, j in self._columns.items()), key=lambda cp: cp[1])
            out.append(Suspicion(category, round(p, 3)) if p >= self.thresholds[category] else None)
        return out
