"""Homophone correction after recognition, and the mono role classifier (no ASR model needed)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import zipfile

import pytest

from qc.errors import QCError
from qc.speech.correct import HomophoneCorrector
from qc.speech.roles import ALLOWED_TYPES, RoleModel, attribute_roles, role_model_path
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def corrector(terms):
    return HomophoneCorrector(terms)


@pytest.fixture(scope="module")
def model():
    return RoleModel.load()


@pytest.fixture(scope="module")
def train():
    spec = importlib.util.spec_from_file_location("train_roles", ROOT / "models" / "train_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# fmt: off
@pytest.mark.parametrize("heard,expected", [
    ("您好中通宿地公号102死为您服务", "您好中通速递工号1024为您服务"),   # seen from Whisper base on our test call
    ("你好我的快剑到现在还没有收到", "你好我的快件到现在还没有收到"),
    ("麻烦您告诉我收剑人的电话", "麻烦您告诉我收件人的电话"),
    ("感谢您的来电再见", "感谢您的来电再见"),
])
# fmt: on
def test_corrects_homophones_of_protected_terms(corrector, heard, expected):
    assert corrector.correct(heard)[0] == expected


# fmt: off
@pytest.mark.issue(9)
@pytest.mark.parametrize("heard,expected", [
    ("工号102次为您服务", "工号1024为您服务"),     # 四 heard as 次 (issue 9)
    ("工号102此为您服务", "工号1024为您服务"),     # 四 as 此
    ("工号10是4为您服务", "工号1044为您服务"),     # 四 as 是, between two digits
    ("工号102死为您服务", "工号1024为您服务"),     # 四 as 死 (same syllable)
    ("工号要024为您服务", "工号1024为您服务"),     # 幺 as 要
    ("工号邀024为您服务", "工号1024为您服务"),     # 幺 as 邀
    ("工号1玲24为您服务", "工号1024为您服务"),     # 零 as 玲
    ("工号1林24为您服务", "工号1024为您服务"),     # 零 as 林 (lin/ling)
    ("工号10而4为您服务", "工号1024为您服务"),     # 二 as 而
    ("工号10儿4为您服务", "工号1024为您服务"),     # 二 as 儿
    ("工号10山4为您服务", "工号1034为您服务"),     # 三 as 山 (shan/san)
    ("工号102起为您服务", "工号1027为您服务"),     # 七 as 起
    ("工号102期为您服务", "工号1027为您服务"),     # 七 as 期
    ("工号102把为您服务", "工号1028为您服务"),     # 八 as 把
    ("工号102久为您服务", "工号1029为您服务"),     # 九 as 久
])
# fmt: on
def test_job_number_digits_heard_as_near_homophones(corrector, heard, expected):
    assert corrector.correct(heard)[0] == expected


# fmt: off
@pytest.mark.issue(9)
@pytest.mark.parametrize("text", [
    "工号是1024为您服务",     # 是 right after 工号 is "the number is", never 四
    "工号1024是吧",           # nor a 是 after the number
    "工号次102为您服务",      # a near-homophone never starts the run
    "工号十二为您服务",       # 十 is a number of its own, not 四
    "您的工号是多少",         # no digits: not a number
    "工号说一下",             # nothing that looks like a number
])
# fmt: on
def test_job_number_near_homophones_only_inside_a_number(corrector, text):
    assert corrector.correct(text)[0] == text


@pytest.mark.parametrize("text", ["我们领到了", "他是十点到的", "请问您是几号到的", "我想查一下"])
def test_never_creates_a_violation_or_changes_other_words(corrector, text):
    assert corrector.correct(text)[0] == text


def test_banned_phrases_are_not_protected_terms(terms):
    assert "领导" not in terms and "中通速递" in terms and "工号" in terms


@pytest.mark.issue(7)
def test_role_model_is_a_skops_file_in_the_models_folder():
    path = role_model_path()
    assert path.name == "roles.skops" and path.is_file() and zipfile.is_zipfile(path)
    assert not (path.parent / "roles.json").exists()
    from sklearn.pipeline import Pipeline

    assert isinstance(RoleModel.load().pipeline, Pipeline)


@pytest.mark.issue(7)
def test_role_model_metadata_and_accuracy(model, train):
    meta = json.loads((ROOT / "models" / "roles.meta.json").read_text(encoding="utf-8"))
    assert meta["held_out"]["accuracy"] >= 0.934 and meta["training_examples"] > 300
    assert meta["model_sha256"] == hashlib.sha256(role_model_path().read_bytes()).hexdigest()
    assert meta["sklearn_version"] and meta["skops_version"] and meta["trained"]
    texts, labels = train.training_data()
    assert meta["training_data_sha256"] == train.data_digest(texts, labels), "training data changed: retrain"
    assert model.p_agent("请问您还有什么需要帮助") > 0.7
    assert model.p_agent("我的快递怎么还没到，你们到底管不管") < 0.3


def test_committed_model_is_the_one_the_training_script_fits(model, train):
    """Refit from the shipped data: the stored model must give the same probabilities (no stale model)."""
    texts, labels = train.training_data()
    fitted = train.make_model().fit(texts, labels)
    probe = texts[::17] + ["我想问一下运费", "您好请问有什么可以帮您"]
    ours = model.p_agent_many(probe)
    for text, mine, p in zip(probe, ours, fitted.predict_proba(probe)[:, 1], strict=True):
        assert mine == pytest.approx(p, abs=1e-9), text


@pytest.mark.issue(7)
def test_held_out_accuracy_is_what_the_metadata_says(train):
    meta = json.loads((ROOT / "models" / "roles.meta.json").read_text(encoding="utf-8"))
    accuracy, tested = train.held_out_accuracy(*train.training_data())
    assert round(accuracy, 3) == meta["held_out"]["accuracy"] >= 0.934 and tested == meta["held_out"]["examples"]


@pytest.mark.issue(7)
def test_a_model_file_with_untrusted_types_is_refused_before_anything_runs(tmp_path):
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    evil = make_pipeline(FunctionTransformer(os.system), LogisticRegression())
    sio.dump(evil, tmp_path / "roles.skops")
    assert sio.get_untrusted_types(file=tmp_path / "roles.skops")  # skops itself would not trust it either
    with pytest.raises(QCError, match="refused to load the role model.*system"):
        RoleModel.load(tmp_path / "roles.skops")
    assert not any("system" in t or "function" in t for t in ALLOWED_TYPES)


@pytest.mark.issue(7)
def test_a_foreign_or_missing_model_file_is_a_clear_error(tmp_path):
    import skops.io as sio
    from sklearn.dummy import DummyClassifier

    sio.dump(DummyClassifier().fit([[0], [1]], [0, 1]), tmp_path / "dummy.skops")
    with pytest.raises(QCError, match="not a role model"):
        RoleModel.load(tmp_path / "dummy.skops")
    (tmp_path / "text.skops").write_text("hello", encoding="utf-8")
    with pytest.raises(QCError, match="not a skops role model"):
        RoleModel.load(tmp_path / "text.skops")
    with pytest.raises(QCError, match="No such file"):
        RoleModel.load(tmp_path / "missing.skops")


def test_opening_script_makes_the_speaker_agent(model):
    guess = attribute_roles(["您好中通速递工号1024为您服务", "我的件到哪了", "我帮您查一下"], model, ["中通速递"])
    assert guess.speakers[0] == "agent" and guess.speakers[1] == "customer"
    assert 0.5 <= guess.confidence <= 1


def test_turn_taking_keeps_a_lone_ambiguous_turn_from_being_blamed_on_the_agent(model):
    """Seen on the mono test call: the customer's 我现在找不到单号了 between two agent turns."""
    texts = ["您好中通速递很高兴为您服务", "您好我想查一下我的快件", "好的请问您的运单号码是多少", "我现在找不到单号了",
             "没关系麻烦您告诉我收件人的电话"]
    guess = attribute_roles(texts, model, ["中通速递"])
    assert guess.speakers[0] == "agent" and guess.speakers[1] == "customer" and guess.speakers[2] == "agent"
    assert guess.speakers[3] != "agent"


# fmt: off
@pytest.mark.parametrize("text,invented", [
    ("字幕由Amara.org社群提供", True),
    ("请不吝点赞 订阅 转发 打赏支持明镜与点点栏目", True),
    ("谢谢大家观看", True),
    ("我们可以帮您从邮局转发EMS", False),       # the manual's own answer: must reach the rules
    ("谢谢您的理解与支持", False),
    ("您订阅的短信通知已经开通了", False),
])
# fmt: on
def test_invented_text_filter_drops_only_known_phrases(text, invented):
    from qc.speech.whisper import _is_invented

    assert _is_invented(text, no_speech_prob=0.1, avg_logprob=-0.3) is invented
