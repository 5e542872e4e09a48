"""Train the agent-vs-customer language classifier (models/roles.json) and record how well it does.

Data the project ships: the agent and customer turns of samples/calls, the manual's scripted agent
lines (models/agent_lines.txt), every rule example in lexicons/ (agent speech), and customer
utterances written for this purpose (models/customer_lines.txt). 25 % is held back (stratified,
fixed seed) to measure accuracy; the model is then fitted on everything and written as JSON.

    .venv/bin/python models/train_roles.py
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qc.inspection.lexicon import load_lexicon  # noqa: E402
from qc.text.normalize import normalize  # noqa: E402
from qc.speech.roles import RoleModel  # noqa: E402

NGRAMS = (1, 2)


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]


def training_data() -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for path in sorted((ROOT / "samples" / "calls").glob("*.json")):
        for u in json.loads(path.read_text(encoding="utf-8"))["utterances"]:
            if u["speaker"] in ("agent", "customer"):
                texts.append(u["text"])
                labels.append(int(u["speaker"] == "agent"))
    lexicon = load_lexicon(ROOT / "lexicons")
    for rule in lexicon.rules:
        for example in rule.examples_hit:
            if isinstance(example, str):
                texts.append(example)
                labels.append(1)
        if rule.info.suggestion and "……" not in rule.info.suggestion:
            texts.append(rule.info.suggestion)
            labels.append(1)
    for line in _lines(ROOT / "models" / "agent_lines.txt"):
        texts.append(line)
        labels.append(1)
    for line in _lines(ROOT / "models" / "customer_lines.txt"):
        texts.append(line)
        labels.append(0)
    return [normalize(t).text for t in texts], labels


def make_model() -> object:
    vec = TfidfVectorizer(analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, lowercase=False)
    return make_pipeline(vec, LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced"))


def main() -> None:
    texts, labels = training_data()
    x_train, x_test, y_train, y_test = train_test_split(texts, labels, test_size=0.25, random_state=13, stratify=labels)
    held = make_model().fit(x_train, y_train)
    accuracy = accuracy_score(y_test, held.predict(x_test))
    model = make_model().fit(texts, labels)
    vec, clf = model.steps[0][1], model.steps[1][1]
    out = {
        "vocabulary": {k: int(v) for k, v in vec.vocabulary_.items()},
        "idf": [float(x) for x in vec.idf_],
        "coef": [float(x) for x in clf.coef_[0]],
        "intercept": float(clf.intercept_[0]),
        "ngram_range": list(NGRAMS),
    }
    (ROOT / "models" / "roles.json").write_text(json.dumps(out, ensure_ascii=False) + "\n", encoding="utf-8")
    digest = hashlib.sha256("\n".join(f"{y}\t{t}" for t, y in zip(texts, labels, strict=True)).encode()).hexdigest()
    meta = {
        "model": "agent-vs-customer language: TfidfVectorizer(analyzer=char, ngram_range=(1, 2), sublinear_tf) "
        "+ LogisticRegression(C=4, class_weight=balanced)",
        "stored_as": "roles.json: vocabulary, idf, coef, intercept (evaluated by qc.speech.roles.RoleModel, no pickle)",
        "sklearn_version": sklearn.__version__,
        "training_examples": len(texts),
        "agent_examples": sum(labels),
        "customer_examples": len(labels) - sum(labels),
        "training_data_sha256": digest,
        "held_out": {"share": 0.25, "random_state": 13, "examples": len(y_test), "accuracy": round(accuracy, 3)},
        "sources": [
            "samples/calls/*.json",
            "lexicons/rules/*.yaml examples and suggestions",
            "models/agent_lines.txt",
            "models/customer_lines.txt",
        ],
    }
    (ROOT / "models" / "roles.meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    ours = RoleModel.load(ROOT / "models" / "roles.json")
    probe = x_test[:20]
    gap = max(abs(ours.p_agent(t) - p) for t, p in zip(probe, model.predict_proba(probe)[:, 1], strict=True))
    print(
        f"{len(texts)} examples; held-out accuracy {accuracy:.3f} on {len(y_test)}; JSON model matches sklearn "
        f"within {gap:.2e}"
    )


if __name__ == "__main__":
    main()
