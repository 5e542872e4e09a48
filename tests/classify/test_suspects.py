"""The learned second layer (issue 8): safe loading, suspected hits that cost nothing, thresholds."""

from __future__ import annotations

import json

import pytest

from qc.classify.suspects import CATEGORIES, META_FILE, MODEL_FILE, SuspectModel
from qc.config import models_dir
from qc.errors import QCError
from qc.inspection.engine import Inspector
from tests.helpers import call

pytestmark = pytest.mark.issue(8)


@pytest.fixture(scope="module")
def model() -> SuspectModel:
    return SuspectModel.load()


def test_the_shipped_model_has_metadata_and_a_threshold_per_category(model):
    meta = json.loads((models_dir() / META_FILE).read_text(encoding="utf-8"))
    assert set(model.thresholds) == set(CATEGORIES)
    assert all(0.3 <= t < 1 for t in model.thresholds.values())
    assert meta["training_data_sha256"] and meta["sklearn_version"] and meta["skops_version"]
    assert meta["calibration"]["clean_flagged"] <= 0.03
    assert "corpus/dev.jsonl" in " ".join(meta["sources"]) and "test.jsonl" not in json.dumps(meta)


def test_a_model_file_with_untrusted_types_is_refused(tmp_path):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    bad = tmp_path / MODEL_FILE
    sio.dump(FunctionTransformer(os.system), bad)
    with pytest.raises(QCError, match="refused to load the suspect model"):
        SuspectModel.load(bad)


# Rude agent lines no rule was written for when this test was written (the rules may catch some later).
UNRULED = ["跟你说了也白说", "烦不烦啊你", "随便你怎么想", "你自己看着办吧"]


def test_a_violation_no_rule_catches_becomes_a_suspected_hit_that_costs_nothing(lexicon, model):
    with_model = Inspector(lexicon, suspects=model)
    rules_only = Inspector(lexicon, learned=False)
    suspected = 0
    for sentence in UNRULED:
        transcript = call(("agent", "您好，中通速递"), ("agent", sentence), ("agent", "感谢您的来电，再见"))
        plain = rules_only.score(transcript)
        if any(h.utterance == 1 for h in plain.hits):
            continue  # the rules already catch it: the layer has nothing to add
        result = with_model.score(transcript)
        hits = [h for h in result.hits if h.utterance == 1]
        assert result.score == plain.score  # a suspected hit never costs points
        for hit in hits:
            assert hit.status == "suspected" and hit.deduction == 0 and hit.rule_id.startswith("SUS-")
            assert model.thresholds[hit.category] <= hit.confidence < 1
            assert "待复核" in hit.detail and hit.text == sentence
            suspected += 1
    assert suspected >= 1


def test_clean_agent_turns_are_not_suspected(lexicon, model):
    inspector = Inspector(lexicon, suspects=model)
    clean = ["您好，中通速递，很高兴为您服务", "请问您的运单号是多少", "好的，我马上帮您查询一下", "感谢您的耐心等待"]
    result = inspector.score(call(*(("agent", t) for t in clean)))
    assert not [h for h in result.hits if h.status == "suspected"]


def test_the_layer_can_be_switched_off(lexicon):
    assert Inspector(lexicon, learned=False).suspects is None
