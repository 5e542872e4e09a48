"""Call categories: rules as data with their own examples, the model through the allow-list, rules
first and the model for what they miss, 其他 only when nothing applies, domains chosen by profile."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest

from qc.classify.categories import (
    META_FILE,
    MODEL_FILE,
    OTHER,
    CallCategorizer,
    CallCategory,
    CategoryModel,
    CategoryRules,
    category_problems,
    example_failures,
    load_category_rules,
    parse_categories,
)
from qc.config import models_dir
from qc.errors import LexiconError, QCError
from qc.inspection.lexicon_yaml import read_yaml, strip_lines

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES_YAML = ROOT / "lexicons" / "categories.yaml"
COURIER = ("查件", "催件", "破损", "丢件", "改地址", "投诉", "寄件", "理赔", "运费", OTHER)
TELECOM = ("网络质量", "计费争议", "业务办理", "增值服务", "服务态度", OTHER)


@pytest.fixture(scope="module")
def rules() -> CategoryRules:
    # The synonym groups straight from synonyms.yaml (what the lexicon loader passes), so that these
    # tests do not depend on every other lexicon file.
    data = strip_lines(read_yaml(ROOT / "lexicons" / "synonyms.yaml", "synonyms.yaml"))
    return load_category_rules(CATEGORIES_YAML, {k: tuple(v) for k, v in data["groups"].items()})


@pytest.fixture(scope="module")
def model() -> CategoryModel:
    return CategoryModel.load()


def names(categories: tuple[CallCategory, ...]) -> set[str]:
    return {c.name for c in categories}


# ── the rules file ──────────────────────────────────────────────────────────────────────────────


def test_the_shipped_rules_find_their_own_examples_and_cover_every_category(rules):
    assert example_failures(rules) == []
    assert rules.domains == {"courier": COURIER, "telecom": TELECOM}
    covered = {(r.domain, r.name) for r in rules.rules}
    for domain, categories in rules.domains.items():
        for name in categories:
            assert ((domain, name) in covered) == (name != OTHER), (domain, name)
    for rule in rules.rules:
        assert rule.source and rule.examples_hit and rule.examples_miss, rule.id
    assert len({r.id for r in rules.rules}) == len(rules.rules)


DAMAGED = """\
schema: qc.categories/1
domains:
  courier: [查件, 破损, 其他]
categories:
  - id: A-1
    name: 查件
    domain: courier
    patterns: ['到哪[了']
    examples: {hit: [到哪了]}
  - id: A-2
    name: 催单
    domain: courier
    patterns: ['快点']
    examples: {hit: [快点送]}
  - id: A-3
    name: 查件
    domain: telecom
    patterns: ['查']
    examples: {hit: [查一下]}
  - id: A-4
    name: 其他
    domain: courier
    patterns: ['加盟']
    examples: {hit: [我想加盟]}
  - id: A-5
    name: 破损
    domain: courier
    patterns: ['碎了']
    colour: red
  - id: A-6
    name: 破损
    domain: courier
    patterns: ['碎了']
    examples: {hit: [杯子碎了], miss: [碎了一地的心]}
  - id: A-6
    name: 查件
    domain: courier
    patterns: ['查件']
    examples: {hit: [我要查件]}
"""


def test_a_damaged_file_gives_each_problem_with_its_line(tmp_path):
    path = tmp_path / "categories.yaml"
    path.write_text(DAMAGED, encoding="utf-8")
    rules, problems = parse_categories(read_yaml(path, "categories.yaml"))
    by_line = {}
    for message, line in problems:
        by_line.setdefault(line, []).append(message)
    assert "never closed" in " ".join(by_line[5]) and "[A-1]" in by_line[5][0]
    assert "'name' must be a category of courier" in by_line[10][0] and "催单" in by_line[10][0]
    assert "'domain' must be one of courier" in by_line[15][0]
    assert "其他 takes no rules" in by_line[20][0]
    assert any("unknown key(s) colour" in m for m in by_line[25])
    assert any("examples: hit" in m for m in by_line[25])
    assert "duplicate id" in by_line[35][0] and "line 30" in by_line[35][0]
    assert set(by_line) == {5, 10, 15, 20, 25, 35}
    # the one good rule is kept, and its failing example is reported with its id and line
    assert [r.id for r in rules.rules] == ["A-6"]
    assert example_failures(rules) == [("A-6", "example '碎了一地的心' should not be found but is", 30)]
    reported = category_problems("lexicons/categories.yaml", rules, problems)
    assert str(reported[-1]).startswith("lexicons/categories.yaml:30 [A-6]: example '碎了一地的心'")
    with pytest.raises(LexiconError) as err:
        load_category_rules(path)
    assert len(err.value.problems) == len(problems) + 1


def test_a_file_that_is_not_yaml_or_has_another_schema_is_refused_with_a_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: qc.categories/1\ndomains:\n  courier: [查件\n", encoding="utf-8")
    with pytest.raises(LexiconError) as err:
        load_category_rules(bad)
    assert err.value.problems[0].line is not None and "invalid YAML" in err.value.problems[0].message
    bad.write_text("schema: qc.rules/1\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="qc.categories/1"):
        load_category_rules(bad)


def test_an_exception_cancels_only_the_match_it_touches(rules):
    lost = next(r for r in rules.rules if r.id == "KD-04")
    assert not lost.fires_on("取件码丢了")  # except: a lost pickup code is no lost parcel
    assert lost.fires_on("取件码丢了，而且我的件也丢了")  # the second 丢了 stands


# ── categorizing calls ──────────────────────────────────────────────────────────────────────────

# Calls written for this test (customer turns only), and the categories the rules must give.
CALLS = [
    ("courier", ["喂，你好", "我想问一下我的快递到哪了，单号是七五三一零零二八八四六", "好的，那麻烦你了"], {"查件"}),
    ("courier", ["你好，我昨天收到的那个件", "打开一看里面的碗碎了两个", "这个你们怎么赔"], {"破损", "理赔"}),
    ("courier", ["喂", "我那个快递显示已经签收了", "可我根本没收到", "驿站也说没有"], {"丢件"}),
    ("courier", ["你好，我想寄个东西到成都", "大概三公斤，多少钱"], {"寄件", "运费"}),
    ("courier", ["我要投诉你们那个快递员", "每次都不送货上门"], {"投诉"}),
    ("courier", ["麻烦帮我把地址改一下，送到我公司去"], {"改地址"}),
    ("courier", ["都 五天 了 还 没 到", "你们 能不能 快点 送"], {"催件"}),
    ("telecom", ["喂你好", "我家宽带从昨天开始就连不上了", "光猫一直闪红灯"], {"网络质量"}),
    ("telecom", ["我这个月话费怎么多扣了三十块"], {"计费争议"}),
    ("telecom", ["我想把套餐换成便宜一点的"], {"业务办理"}),
    ("telecom", ["我手机上老是收到手机报", "帮我退订了吧"], {"增值服务"}),
    ("telecom", ["你们那个客服态度太差了", "说两句就把我电话挂了"], {"服务态度"}),
]


@pytest.mark.parametrize(("domain", "turns", "expected"), CALLS)
def test_realistic_calls_get_their_categories_from_the_rules(rules, model, domain, turns, expected):
    found = CallCategorizer(rules, None, (domain,)).categorize(turns)
    assert names(found) == expected
    for category in found:
        assert category.source == "rule" and category.rule_id and category.confidence == 1.0
        # the evidence is the customer's own words, as said (spaces and all)
        assert category.evidence and any(category.evidence in t for t in turns)
    with_model = CallCategorizer(rules, model, (domain,)).categorize(turns)
    assert expected <= names(with_model)
    assert [c.source for c in with_model][: len(found)] == ["rule"] * len(found)  # rules first
    assert OTHER not in names(with_model)


def test_evidence_quotes_the_original_text_not_the_normalised_one(rules):
    found = CallCategorizer(rules, None, ("courier",)).categorize(["嗯", "箱子都壓扁了！"])
    assert [(c.name, c.rule_id, c.evidence) for c in found] == [("破损", "KD-03", "壓扁")]


def test_other_only_when_nothing_else_is_found(rules, model):
    categorizer = CallCategorizer(rules, model, ("courier",))
    assert categorizer.categorize(["喂", "嗯", "好的，谢谢"]) == (CallCategory(OTHER, "rule", None, "", 1.0),)
    assert categorizer.categorize([]) == (CallCategory(OTHER, "rule", None, "", 1.0),)
    assert OTHER not in names(categorizer.categorize(["我的快递到哪了"]))


def test_domains_choose_the_category_set(rules):
    telecom_call = ["我家里手机一点信号都没有"]
    assert names(CallCategorizer(rules, None, ("courier",)).categorize(telecom_call)) == {OTHER}
    assert names(CallCategorizer(rules, None, ("telecom",)).categorize(telecom_call)) == {"网络质量"}
    both = CallCategorizer(rules, None, ("courier", "telecom")).categorize(telecom_call + ["快递箱子压扁了"])
    assert names(both) == {"网络质量", "破损"}
    assert CallCategorizer(rules, None, ()).categorize(telecom_call) == ()
    with pytest.raises(QCError, match="unknown category domain"):
        CallCategorizer(rules, None, ("bank",))


class _CountingPipeline:
    """A stand-in model: fixed probabilities per text, and a count of scikit-learn calls."""

    def __init__(self, probabilities: dict[str, list[float]], outputs: int) -> None:
        self.probabilities = probabilities
        self.outputs = outputs
        self.calls = 0

    def predict_proba(self, texts):
        self.calls += 1
        return np.array([self.probabilities.get(t, [0.0] * self.outputs) for t in texts])


def test_the_model_adds_what_the_rules_miss_above_its_threshold_batched_once(rules):
    labels = ["courier:查件", "courier:破损", "courier:投诉", "telecom:网络质量"]
    thresholds = dict.fromkeys(labels, 0.6)
    pipeline = _CountingPipeline(
        {
            "快递箱子压扁了": [0.1, 0.99, 0.7, 0.9],  # 破损 found by a rule; the model adds 投诉 only
            "这个小哥是不是不想干了": [0.2, 0.1, 0.8, 0.0],  # no rule: the model alone finds 投诉
            "今天天气不错": [0.59, 0.1, 0.1, 0.0],  # under every threshold: 其他
        },
        len(labels),
    )
    categorizer = CallCategorizer(rules, CategoryModel(pipeline, labels, thresholds), ("courier",))
    results = categorizer.categorize_many([["快递箱子压扁了"], ["这个小哥是不是不想干了"], ["今天天气不错"]])
    assert pipeline.calls == 1
    assert [(c.name, c.source) for c in results[0]] == [("破损", "rule"), ("投诉", "model")]
    assert results[0][1] == CallCategory("投诉", "model", None, "", 0.7)
    assert results[1] == (CallCategory("投诉", "model", None, "", 0.8),)
    assert names(results[2]) == {OTHER}  # and telecom:网络质量 at 0.9 never counts in a courier profile
    assert categorizer.categorize_many([]) == [] and pipeline.calls == 1


def test_categorize_many_gives_what_categorize_gives(rules, model):
    calls = [turns for _, turns, _ in CALLS]
    categorizer = CallCategorizer(rules, model, ("courier", "telecom"))
    assert categorizer.categorize_many(calls) == [categorizer.categorize(turns) for turns in calls]


def test_a_categorizer_survives_pickling_for_worker_processes(rules, model):
    categorizer = CallCategorizer(rules, model, ("courier",))
    again = pickle.loads(pickle.dumps(categorizer))
    call = ["我的快递到哪了", "箱子压扁了"]
    assert again.categorize(call) == categorizer.categorize(call)


# ── the shipped model ───────────────────────────────────────────────────────────────────────────


def test_the_shipped_model_loads_through_the_allow_list_with_its_metadata(model):
    meta = json.loads((models_dir() / META_FILE).read_text(encoding="utf-8"))
    expected = [f"courier:{n}" for n in COURIER if n != OTHER] + [f"telecom:{n}" for n in TELECOM if n != OTHER]
    assert list(model.labels) == meta["labels"] == expected
    assert all(0.3 <= model.thresholds[k] < 1 for k in expected)
    assert meta["training_data_sha256"] and meta["sklearn_version"] and meta["skops_version"]
    assert "corpus/categories/dev.jsonl" in meta["sources"] and "test.jsonl" not in json.dumps(meta)
    assert (models_dir() / MODEL_FILE).stat().st_size < 2_000_000
    assert meta["calibration"]["micro"]["precision"] >= 0.8


def test_a_model_file_with_untrusted_types_is_refused(tmp_path):
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    bad = tmp_path / MODEL_FILE
    sio.dump(FunctionTransformer(os.system), bad)
    with pytest.raises(QCError, match="refused to load the category model"):
        CategoryModel.load(bad)


def test_a_model_whose_metadata_does_not_match_is_refused(tmp_path, model):
    import shutil

    path = tmp_path / MODEL_FILE
    shutil.copy(models_dir() / MODEL_FILE, path)
    meta = json.loads((models_dir() / META_FILE).read_text(encoding="utf-8"))
    meta["labels"] = meta["labels"][:-1]
    (tmp_path / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(QCError, match="outputs"):
        CategoryModel.load(path)


# Plain descriptions no rule is written for: the model must tell them apart on its own.
MODEL_ALONE = [
    ("courier", "我收到的快递里面的盘子全都碎成一片一片的", "破损"),
    ("courier", "我想问问我那个包裹现在走到什么地方了", "查件"),
    ("telecom", "我家手机信号特别差，老是掉线", "网络质量"),
    ("telecom", "这个月的账单比平时多了一百多块", "计费争议"),
]


def test_the_model_alone_recognises_plain_descriptions_and_adds_nothing_wrong(rules, model):
    no_rules = CategoryRules(rules.domains, ())
    recognised = 0
    for domain, text, expected in MODEL_ALONE:
        found = CallCategorizer(no_rules, model, (domain,)).categorize([text])
        assert names(found) <= {expected, OTHER}, (text, found)  # thresholds are set for precision
        if expected in names(found):
            recognised += 1
            assert all(c.source == "model" and c.rule_id is None and 0 < c.confidence <= 1 for c in found)
    # ~0.7 out-of-fold recall at those thresholds: most, not necessarily all, plain descriptions
    assert recognised >= 3
