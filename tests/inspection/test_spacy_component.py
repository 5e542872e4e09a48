"""The spaCy component (qc.inspection.spacy_component): hits become spans on jieba tokens with the
hit's fields as attributes, whole-call findings stay out, and the pipeline saves, loads and pipes.

Most tests use the tiny made-up rulebook (tests/data/lexicon_small), so they depend on the
component and the engine only; the look-alike and the default-config tests need the real lexicons.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import spacy
import yaml
from spacy.language import Language
from spacy.tokens import Doc

from qc.inspection.engine import SUSPECT_CATEGORIES
from qc.inspection.spacy_component import FACTORY, QCInspector
from tests.conftest import DATA

SMALL = DATA / "lexicon_small"
JIEBA = {"nlp": {"tokenizer": {"segmenter": "jieba"}}}


def make_nlp(**config: object) -> Language:
    nlp = spacy.blank("zh", config=JIEBA)
    nlp.add_pipe(FACTORY, config=config)
    return nlp


@pytest.fixture(scope="module")
def small() -> Language:
    return make_nlp(lexicons=str(SMALL))


@pytest.fixture(scope="module")
def real() -> Language:
    """The default config: the lexicons qc.config finds (the bundled ones in a checkout)."""
    return make_nlp()


@pytest.fixture(scope="module")
def learned() -> Language:
    return make_nlp(lexicons=str(SMALL), learned=True)


def summary(doc: Doc, key: str = "qc") -> list[tuple[str, str, str]]:
    return [(s.text, s.label_, s._.qc_rule_id) for s in doc.spans[key]]


def test_banned_sentence_yields_a_span_with_the_hits_fields(small):
    doc = small("我要苹果")
    (span,) = doc.spans["qc"]
    assert (span.text, span.label_, span._.qc_rule_id) == ("苹果", "banned", "T-BAN-001")
    assert span._.qc_hit_id == "T-BAN-001@0:2-4"
    assert span._.qc_name == "苹果"
    assert span._.qc_status == "confirmed" and span._.qc_confidence == 1.0
    assert span._.qc_deduction == 50  # the small scorecard's banned price
    assert span._.qc_suggestion is None


def test_default_config_finds_a_banned_phrase_with_the_real_lexicons(real):
    doc = real("这个我也不知道，你找领导去。")
    banned = [s for s in doc.spans["qc"] if s.label_ == "banned"]
    assert [s.text for s in banned] == ["你找领导去"]
    assert banned[0]._.qc_rule_id.startswith("BAN-") and banned[0]._.qc_deduction > 0


def test_whole_call_findings_are_not_spans(real):
    """One sentence has no opening and no closing: the engine reports both for the call, the
    component does not, nor the "opening incomplete" that a lone 您好 would get."""
    for text in ("这个我也不知道，你找领导去。", "您好，很高兴为您服务，请问有什么可以帮您？"):
        doc = real(text)
        assert not {s.label_ for s in doc.spans["qc"]} & {"opening", "closing"}
        assert not any(hit_id.endswith("@call") for hit_id in doc._.qc_hits)


def test_clean_polite_sentence_yields_no_span(small, real):
    assert summary(real("您好，很高兴为您服务，请问有什么可以帮您？")) == []
    doc = small("谢谢你")  # a polite term is counted by the engine, never a hit
    assert summary(doc) == [] and doc._.qc_hits == {}


def test_look_alike_is_not_banned(real):
    doc = real("包裹可能滚到柜子后面了")
    assert [s for s in doc.spans["qc"] if s.label_ == "banned"] == []


def test_spans_expand_to_jieba_tokens(small):
    doc = small("我要苹果汁")  # jieba: 我要 / 苹果汁; the rule quotes 苹果
    (span,) = doc.spans["qc"]
    assert span.text == "苹果汁" and [t.text for t in span] == ["苹果汁"]
    assert doc._.qc_hits[span._.qc_hit_id]["text"] == "苹果"
    doc = small("好的，梨子")  # clause-start filler 梨, inside the token 梨子
    assert summary(doc) == [("梨子", "filler", "T-FIL-001")]


def test_two_hits_on_the_same_words_keep_their_own_attributes(tmp_path):
    """spaCy stores a span's extension values by its character offsets; the component reads them
    by hit id, so a banned and a negative rule on the same words do not overwrite each other."""
    lexicon = tmp_path / "lexicon"
    shutil.copytree(SMALL, lexicon)
    rules_file = lexicon / "rules" / "test.yaml"
    rules = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    rules["rules"].append(
        {"id": "T-NEG-001", "name": "也是苹果", "kind": "phrase", "category": "negative", "patterns": ["苹果"],
         "examples": {"hit": ["我要苹果"], "miss": ["我要香蕉"]}}
    )  # fmt: skip
    rules_file.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    doc = make_nlp(lexicons=str(lexicon))("我要苹果")
    assert sorted(summary(doc)) == [("苹果", "banned", "T-BAN-001"), ("苹果", "negative", "T-NEG-001")]
    assert {s._.qc_deduction for s in doc.spans["qc"]} == {50, 2}


def test_learned_layer_gives_a_suspected_span(small, learned):
    text = "你听不懂吗"  # no rule of the small lexicon says so; the model does
    assert summary(small(text)) == []
    doc = learned(text)
    (span,) = doc.spans["qc"]
    assert span.label_ in SUSPECT_CATEGORIES and span._.qc_rule_id == f"SUS-{span.label_.upper()}"
    assert span._.qc_status == "suspected" and 0 < span._.qc_confidence < 1
    assert span._.qc_deduction == 0  # suspected costs nothing until reviewed
    assert span.text == text  # the model judges the sentence, not words in it


def test_learned_layer_leaves_rule_hits_confirmed(learned):
    doc = learned("我要苹果")
    (span,) = doc.spans["qc"]
    assert span._.qc_rule_id == "T-BAN-001" and span._.qc_status == "confirmed"


def test_pipe_scores_each_doc_on_its_own(small):
    docs = list(small.pipe(["我要苹果", "谢谢你", "一根香蕉", ""]))
    assert [[s._.qc_rule_id for s in d.spans["qc"]] for d in docs] == [["T-BAN-001"], [], ["T-NS-001"], []]


def test_to_disk_and_load_rebuild_the_component(small, tmp_path: Path):
    small.to_disk(tmp_path / "nlp")
    nlp = spacy.load(tmp_path / "nlp")
    assert isinstance(nlp.get_pipe(FACTORY), QCInspector)
    assert nlp.config["components"][FACTORY]["lexicons"] == str(SMALL)
    assert summary(nlp("我要苹果")) == [("苹果", "banned", "T-BAN-001")]


def test_doc_round_trips_through_bytes_with_its_attributes(small):
    doc = Doc(small.vocab).from_bytes(small("一根香蕉，我要苹果").to_bytes())
    assert summary(doc) == [("香蕉", "nonstandard", "T-NS-001"), ("苹果", "banned", "T-BAN-001")]
    assert [s._.qc_deduction for s in doc.spans["qc"]] == [10, 50]


def test_config_spans_key_and_speaker():
    assert summary(make_nlp(lexicons=str(SMALL), spans_key="hits")("我要苹果"), "hits")[0][2] == "T-BAN-001"
    # no rule of the small lexicon names the customer: only the agent's words are scored
    assert summary(make_nlp(lexicons=str(SMALL), speaker="customer")("我要苹果")) == []
    with pytest.raises(ValueError, match="speaker"):
        make_nlp(lexicons=str(SMALL), speaker="robot")
