"""Train the agent-vs-customer language classifier (models/roles.skops) and record how well it does.

Data the project ships: the agent and customer turns of samples/calls, the manual's scripted agent
lines (models/agent_lines.txt), the rules' example sentences as frozen in models/agent_rule_lines.txt
(agent speech; frozen so that a lexicon edit does not make the model stale), and customer
utterances written for this purpose (models/customer_lines.txt). 25 % is held back (stratified,
fixed seed) to measure accuracy; the model is then fitted on everything.

The fitted scikit-learn Pipeline is saved with skops (no pickle: loading it cannot run code, see
qc.speech.roles), next to models/roles.meta.json: where the data came from (its sha256), the
library versions, the held-out accuracy and the date, so a stale or foreign model is noticed.

    .venv/bin/python models/train_roles.py
"""

from __future__ import annotations

import datetime
import hashlib
import json
import sys
import zipfile
from pathlib import Path
from typing import Any

import sklearn
import skops
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.speech.roles import META_FILE, MODEL_FILE, RoleModel  # noqa: E402
from qc.text.normalize import normalize  # noqa: E402

NGRAMS = (1, 2)
HELD_OUT = 0.25
SEED = 13


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]


def training_data() -> tuple[list[str], list[int]]:
    """(normalised texts, labels: 1 = agent, 0 = customer) from the files the project ships."""
    texts, labels = [], []
    for path in sorted((ROOT / "samples" / "calls").glob("*.json")):
        for u in json.loads(path.read_text(encoding="utf-8"))["utterances"]:
            if u["speaker"] in ("agent", "customer"):
                texts.append(u["text"])
                labels.append(int(u["speaker"] == "agent"))
    # The rules' examples, frozen into a file: a lexicon edit must not make the shipped model stale.
    for line in _lines(ROOT / "models" / "agent_rule_lines.txt"):
        texts.append(line)
        labels.append(1)
    for line in _lines(ROOT / "models" / "agent_lines.txt"):
        texts.append(line)
        labels.append(1)
    for line in _lines(ROOT / "models" / "customer_lines.txt"):
        texts.append(line)
        labels.append(0)
    return [normalize(t).text for t in texts], labels


def data_digest(texts: list[str], labels: list[int]) -> str:
    """sha256 of the training data as fitted (label, tab, normalised text per line)."""
    return hashlib.sha256("\n".join(f"{y}\t{t}" for t, y in zip(texts, labels, strict=True)).encode()).hexdigest()


def make_model() -> Pipeline:
    vec = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, lowercase=False)
    return make_pipeline(vec, LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"))


def held_out_accuracy(texts: list[str], labels: list[int]) -> tuple[float, int]:
    """Accuracy on the held-back share, and how many examples that share has."""
    x_train, x_test, y_train, y_test = train_test_split(
        texts, labels, test_size=HELD_OUT, random_state=SEED, stratify=labels
    )
    held = make_model().fit(x_train, y_train)
    return float(accuracy_score(y_test, held.predict(x_test))), len(y_test)


def metadata(texts: list[str], labels: list[int], accuracy: float, tested: int, model_sha256: str) -> dict[str, Any]:
    return {
        "model": "agent-vs-customer language: TfidfVectorizer(analyzer=char, ngram_range=(1, 2), sublinear_tf) "
        "+ LogisticRegression(C=4, class_weight=balanced)",
        "stored_as": f"{MODEL_FILE}: the scikit-learn Pipeline saved with skops.io (no pickle), "
        "loaded by qc.speech.roles.RoleModel against an allow-list of types",
        "model_sha256": model_sha256,
        "trained": datetime.date.today().isoformat(),
        "sklearn_version": sklearn.__version__,
        "skops_version": skops.__version__,
        "training_examples": len(texts),
        "agent_examples": sum(labels),
        "customer_examples": len(labels) - sum(labels),
        "training_data_sha256": data_digest(texts, labels),
        "held_out": {"share": HELD_OUT, "random_state": SEED, "examples": tested, "accuracy": round(accuracy, 3)},
        "sources": [
            "samples/calls/*.json",
            "models/agent_rule_lines.txt (rule examples and rewrites, frozen)",
            "models/agent_lines.txt",
            "models/customer_lines.txt",
        ],
    }


def main() -> None:
    texts, labels = training_data()
    accuracy, tested = held_out_accuracy(texts, labels)
    model = make_model().fit(texts, labels)
    out = ROOT / "models"
    sio.dump(model, out / MODEL_FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)  # 1.2 MB → 40 kB
    digest = hashlib.sha256((out / MODEL_FILE).read_bytes()).hexdigest()
    meta = metadata(texts, labels, accuracy, tested, digest)
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    loaded = RoleModel.load(out / MODEL_FILE)  # the way qc loads it: allow-list checked
    probe = texts[:20]
    gap = max(abs(a - b) for a, b in zip(loaded.p_agent_many(probe), model.predict_proba(probe)[:, 1], strict=True))
    print(
        f"{len(texts)} examples; held-out accuracy {accuracy:.3f} on {tested}; reloaded model agrees within {gap:.1e}"
    )


if __name__ == "__main__":
    main()
