"""Scorecard arithmetic: caps, per-rule prices, veto, and invariants checked with hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.inspection.scorecard import price_findings
from qc.schema import CATEGORIES
from tests.helpers import agent_says, call


def test_deductions_add_up_to_lost_points(inspector, lexicon):
    result = inspector.score(call(("agent", "喂，什么事"), ("agent", "我也没有办法啊，这个我不知道，老实说你懂的")))
    assert not result.veto
    assert sum(h.deduction for h in result.hits) == lexicon.scorecard.base - result.score


def test_category_cap(lexicon):
    card = lexicon.scorecard
    cap = card.categories["nonstandard"].cap
    each = card.categories["nonstandard"].deduction
    n = int(cap // each) + 3
    priced, score, _ = price_findings([("NS-001", "nonstandard")] * n, card)
    assert sum(p.deduction for p in priced) == cap
    assert [p.deduction for p in priced][-3:] == [0, 0, 0]
    assert score == card.base - cap


def test_per_rule_price_overrides_category(lexicon):
    card = lexicon.scorecard
    priced, _, _ = price_findings([("CLOSE-002", "closing")], card)
    assert priced[0].deduction == card.rule_deductions["CLOSE-002"] != card.categories["closing"].deduction


def test_veto_rule_fails_the_call(inspector, lexicon):
    result = agent_says(inspector, "听不懂就滚")
    assert result.veto and result.score == lexicon.scorecard.veto_score
    assert any(h.veto and h.rule_id == "BAN-010" for h in result.hits)


@pytest.mark.issue(8)
def test_the_nine_banned_phrases_are_priced_alike(inspector, lexicon):
    """The manual lists its nine 服务禁语 alike: the same price, none a veto (abuse, BAN-010, is the veto)."""
    card = lexicon.scorecard
    nine = [f"BAN-00{i}" for i in range(1, 10)]
    assert len({card.price(rid, "banned") for rid in nine}) == 1
    assert not set(nine) & card.veto_rules and "BAN-010" in card.veto_rules
    result = agent_says(inspector, "我就这态度，你又能怎样")
    assert not result.veto and any(h.rule_id == "BAN-004" for h in result.hits)


_rule_ids = st.sampled_from(
    [
        "BAN-001",
        "NS-001",
        "FIL-001",
        "NEG-001",
        "OPEN-001",
        "CLOSE-001",
        "CLOSE-002",
        "SIL-001",
        "INT-001",
        "RATE-001",
        "BAN-003",
    ]
)
_CATEGORY = {
    "BAN": "banned",
    "NS": "nonstandard",
    "FIL": "filler",
    "NEG": "negative",
    "OPEN": "opening",
    "CLOSE": "closing",
    "SIL": "silence",
    "INT": "interruption",
    "RATE": "speech_rate",
}


def _key(rule_id: str) -> tuple[str, str]:
    return rule_id, _CATEGORY[rule_id.split("-")[0]]


@settings(max_examples=300, deadline=None)
@given(st.lists(_rule_ids, max_size=40), _rule_ids)
def test_a_violation_never_raises_the_score(lexicon, ids, extra):
    card = lexicon.scorecard
    _, before, _ = price_findings([_key(i) for i in ids], card)
    _, after, _ = price_findings([_key(i) for i in ids] + [_key(extra)], card)
    assert after <= before
    assert card.floor <= after <= card.base


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "你找领导去",
                "我也没有办法啊",
                "老实说",
                "您好，中通速递",
                "不客气",
                "感谢您的来电，再见",
                "这个我不知道",
                "喂喂喂",
                "好喽",
            ]
        ),
        min_size=1,
        max_size=12,
    )
)
def test_real_calls_score_in_range(inspector, lexicon, sentences):
    result = inspector.score(call(*[("agent", s) for s in sentences]))
    assert lexicon.scorecard.floor <= result.score <= lexicon.scorecard.base
    assert {h.category for h in result.hits} <= set(CATEGORIES)


@pytest.mark.issue(11)
def test_an_unconfirmed_veto_hit_does_not_fail_the_call(lexicon):
    """A BAN-010 that is only suspected (heard by sound) or rejected by a reviewer costs nothing and
    vetoes nothing; a confirmed one still fails the call."""
    card = lexicon.scorecard
    keys = [("BAN-010", "banned")]
    _, score, veto = price_findings(keys, card, free={0}, no_veto={0})
    assert not veto and score == card.base
    _, score, veto = price_findings(keys, card)
    assert veto and score == card.veto_score
