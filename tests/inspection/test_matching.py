"""Tables of what the manual forbids and its look-alikes, as agents and ASR really produce them."""

from __future__ import annotations

import pytest

from tests.helpers import agent_says, call, rule_ids

# fmt: off
HITS = [
    ("你找领导去", {"BAN-002"}),
    ("您找领导去", {"BAN-002"}),
    ("你去找你们领导吧", {"BAN-002"}),
    ("你 找 领导 去", {"BAN-002"}),                  # ASR spaces
    ("你找領導去", {"BAN-002"}),                      # traditional
    ("ｎｉ你找领导去！", {"BAN-002"}),                 # full width
    ("你问我我问谁", {"BAN-005"}),                    # no punctuation
    ("我又不是业务员，我怎么知道", {"BAN-006"}),
    ("我也没有办法啊", {"NS-009"}),
    ("这个我也不知道", {"NEG-002"}),
    ("這個我不知道啊", {"NEG-002"}),
    ("很抱歉让你久等", {"NEG-001"}),
    ("对不起，这事不是我们管", {"NEG-004"}),
    ("这是公司的政策", {"NEG-005"}),
    ("你说得不错，他们常常这样", {"NEG-006"}),
    ("你给我滚", {"BAN-010"}),
    ("好喽，马上给您办", {"FIL-012"}),
    ("老实说，这个很难", {"FIL-007"}),
]
MISSES = [
    "您可以在网上申请理赔",
    "不客气",
    "不知道能否麻烦您再说一遍",
    "不管您在哪个城市都可以寄件",
    "请向下滚动页面",
    "您要寄件是干嘛用的",
    "感谢您的耐心等待",
    "我帮您向主管反映一下",
    "橡胶水和油漆属于禁寄物品，这个不可以寄",
    "您看这样行不行",
    "我来帮您查一下",
]
# fmt: on


@pytest.mark.parametrize("text,expected", HITS)
def test_manual_phrases_hit(inspector, text, expected):
    assert rule_ids(agent_says(inspector, text)) == expected


@pytest.mark.parametrize("text", MISSES)
def test_look_alikes_do_not_hit(inspector, text):
    assert rule_ids(agent_says(inspector, text)) == set()


def test_customer_quoting_a_banned_phrase_is_no_violation(inspector):
    result = inspector.score(call(("customer", "你们客服让我找领导去，还说我问谁"), ("agent", "非常理解您的心情")))
    assert rule_ids(result) == set()


def test_hit_quotes_the_original_text_and_context(inspector):
    text = "這個 我也 不知道，您再問問"
    hit = next(h for h in agent_says(inspector, text).hits if h.rule_id == "NEG-002")
    assert hit.text == "不知道"
    assert hit.context == text
    assert hit.suggestion == "这个情况很少，我替您查一下"
    assert text[text.index(hit.text) :].startswith(hit.text)


def test_hit_span_across_removed_spaces_maps_back(inspector):
    hit = next(h for h in agent_says(inspector, "好的 你 找 领导 去 吧").hits if h.rule_id == "BAN-002")
    assert hit.text == "你 找 领导 去"


@pytest.mark.parametrize(
    "text,count", [("请问您查哪里的快件", 1), ("请您稍等", 1), ("您可以申请理赔", 0), ("我去请示一下", 0)]
)
def test_polite_qing_counted_as_a_word(inspector, text, count):
    assert agent_says(inspector, text).polite_terms.get("请", 0) == count


def test_polite_terms_only_from_agent(inspector):
    result = inspector.score(call(("customer", "谢谢您，麻烦您了"), ("agent", "不客气")))
    assert result.polite_terms == {"不客气": 1}


def test_bu_keqi_is_polite_not_negative(inspector):
    result = agent_says(inspector, "不客气")
    assert result.polite_terms == {"不客气": 1}
    assert rule_ids(result) == set()


@pytest.mark.parametrize(
    "variant",
    [
        "您好，中通速递，工号1024为您服务。你找领导去。感谢您的来电，再见。",
        "您好 中通速递 工号 幺零二四 为您服务 你 找 领导 去 感谢您的来电 再见",
        "您好中通速遞工號一零二四為您服務你找領導去感謝您的來電再見",
    ],
)
def test_typed_asr_and_traditional_score_the_same(inspector, variant):
    parts = variant.split("。") if "。" in variant else [variant]
    result = inspector.score(call(*[("agent", p) for p in parts if p]))
    assert {h.rule_id for h in result.hits} == {"BAN-002", "CLOSE-002"}
    assert result.checks["opening"].ok and result.checks["closing"].ok


# fmt: off
@pytest.mark.issue(8)
@pytest.mark.parametrize("text,not_expected", [
    ("这个箱子偏大点，声明价值您填一下", "NS-002"),   # not 大点声
    ("今天派得快，说不定上午就到", "NS-003"),         # not 快说
])
# fmt: on
def test_patterns_do_not_cross_clause_boundaries(inspector, text, not_expected):
    assert not_expected not in rule_ids(agent_says(inspector, text))


@pytest.mark.issue(8)
def test_a_rule_may_say_it_crosses_clauses(inspector):
    """NS-010 不行，就是不行 is one behaviour said across a comma: its rule has cross_clauses: true."""
    assert "NS-010" in rule_ids(agent_says(inspector, "不行，就是不行"))
