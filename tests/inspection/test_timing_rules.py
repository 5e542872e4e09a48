"""Timing rules on the shipped lexicon: silence only while the customer waits (SIL-001), thanks after a
hold (SIL-002), backchannels are no interruption (INT-001), speech rate per utterance too (RATE-001)."""

from __future__ import annotations

import pytest

from qc.errors import LexiconError
from qc.inspection.lexicon import load_lexicon
from qc.schema import CallResult, Hit
from tests.helpers import call


def hits(result: CallResult, rule_id: str) -> list[Hit]:
    return [h for h in result.hits if h.rule_id == rule_id]


# --- INT-001: a backchannel is listening, not interrupting --------------------------------------

LONG_COMPLAINT = ("customer", "我的快件一号就发出了，到现在都没到，你们到底怎么回事，我等着急用的", 0.0, 9.0)


@pytest.mark.parametrize("word", ["嗯", "嗯嗯", "好的", "好", "对", "对对", "是", "是的", "明白", "了解", "哦", "行"])
def test_a_backchannel_over_the_customer_is_no_interruption(inspector, word):
    result = inspector.score(call(LONG_COMPLAINT, ("agent", word, 3.0, 3.6)))
    assert not hits(result, "INT-001")


def test_backchannels_in_a_row_are_no_interruption(inspector):
    result = inspector.score(
        call(
            LONG_COMPLAINT,
            ("agent", "嗯。", 2.0, 2.4),
            ("agent", "对对对", 4.0, 4.8),
            ("agent", "好的，明白。", 6.0, 7.0),
        )
    )
    assert not hits(result, "INT-001")


@pytest.mark.parametrize("words", ["好的，我帮您查一下", "你听我说", "嗯，您先别急，听我说"])
def test_real_words_over_the_customer_still_interrupt(inspector, words):
    result = inspector.score(call(LONG_COMPLAINT, ("agent", words, 3.0, 5.0)))
    assert [h.utterance for h in hits(result, "INT-001")] == [1]


# --- SIL-001: silence only while the customer waits for the agent -------------------------------


def _silences(inspector, *turns) -> list[Hit]:
    return hits(inspector.score(call(*turns)), "SIL-001")


@pytest.mark.parametrize("question", ["请问运单号是多少？", "请问运单号是多少", "您看这样可以吗", "您是寄到哪里"])
@pytest.mark.parametrize("next_speaker", ["customer", "agent"])
def test_the_customers_own_pause_after_an_agent_question_is_no_silence(inspector, question, next_speaker):
    later = ("customer", "有了，七五幺二三四零八六九五幺", 23.0, 26.0)
    if next_speaker == "agent":
        later = ("agent", "您找到了吗？", 23.0, 24.0)
    assert not _silences(inspector, ("agent", question, 0.0, 3.0), later)


def test_a_gap_after_the_customers_question_is_silence(inspector):
    found = _silences(
        inspector,
        ("agent", "您好，中通速递", 0.0, 2.0),
        ("customer", "我的快件到哪了？", 2.5, 4.0),
        ("agent", "您的快件在上海", 19.0, 21.0),
    )
    assert [(h.utterance, h.start, h.end) for h in found] == [(2, 4.0, 19.0)]
    assert found[0].detail.startswith("静默 15.0 秒")


def test_a_gap_after_the_customer_counts_whoever_breaks_it(inspector):
    found = _silences(
        inspector,
        ("agent", "请问运单号是多少？", 0.0, 2.0),
        ("customer", "七五幺二三四零八六九五幺", 3.0, 6.0),
        ("customer", "喂，在吗？", 25.0, 26.0),
        ("agent", "在的", 26.5, 27.0),
    )
    assert [(h.start, h.end) for h in found] == [(6.0, 25.0)]


def test_the_agent_going_quiet_mid_task_is_silence(inspector):
    found = _silences(inspector, ("agent", "我帮您查一下", 0.0, 2.0), ("agent", "查到了，您的快件在上海", 32.0, 35.0))
    assert [h.utterance for h in found] == [1]


def test_a_pause_before_the_customer_speaks_after_an_agent_statement_is_no_silence(inspector):
    assert not _silences(
        inspector, ("agent", "您的快件已经签收了", 0.0, 3.0), ("customer", "哦，那我再问问家里人", 18.0, 20.0)
    )


def test_a_customer_who_asks_the_agent_to_wait_pauses_on_their_own(inspector):
    assert not _silences(
        inspector,
        ("agent", "请问运单号是多少？", 0.0, 2.0),
        ("customer", "你等一下，我找一下单号。", 3.0, 5.0),
        ("customer", "有了，七五幺二三四零八六九五幺", 35.0, 38.0),
    )


# --- SIL-001: a hold request alone allows the hold ----------------------------------------------


@pytest.mark.parametrize(
    "request_words",
    [
        "您稍等",
        "请稍等",
        "稍等一下",
        "您先稍等",
        "麻烦您稍等",
        "请您稍候",
        "稍等片刻",
        "我查一下请稍等",
        "麻烦您稍等片刻，好吗？",
    ],
)
def test_a_hold_request_alone_allows_the_hold(inspector, request_words):
    result = inspector.score(
        call(
            ("customer", "我的快件到哪了？", 0.0, 2.0),
            ("agent", request_words, 2.5, 4.0),
            ("customer", "嗯", 4.5, 5.0),
            ("agent", "查到了，快件在上海转运中心", 35.0, 38.0),
        )
    )
    assert not hits(result, "SIL-001")


def test_a_request_just_before_the_agents_last_words_holds(inspector):
    assert not _silences(
        inspector,
        ("agent", "好的，您稍等", 0.0, 1.5),
        ("customer", "好", 2.0, 2.4),
        ("agent", "我查一下", 3.0, 4.0),
        ("agent", "谢谢等待，快件在上海", 34.0, 37.0),
    )


def test_an_earlier_hold_is_over_once_the_agent_is_back(inspector):
    found = _silences(
        inspector,
        ("agent", "您稍等", 0.0, 1.0),
        ("customer", "好", 1.5, 2.0),
        ("agent", "谢谢等待，快件在上海", 8.0, 10.0),
        ("customer", "那什么时候到？", 11.0, 13.0),
        ("agent", "明天上午", 33.0, 34.0),
    )
    assert [h.utterance for h in found] == [4]


def test_a_hold_past_the_limit_is_charged_once_though_the_customer_checks_in(inspector):
    found = _silences(
        inspector,
        ("agent", "请您稍等", 0.0, 2.0),
        ("customer", "好", 2.5, 3.0),
        ("customer", "喂，还在吗？", 100.0, 101.0),
        ("agent", "感谢您的耐心等待", 200.0, 203.0),
    )
    assert [(h.detail[:4], h.start, h.end, h.utterance) for h in found] == [("等待超时", 2.0, 200.0, 3)]


# --- SIL-002: thanks after a hold ---------------------------------------------------------------


def _hold(back: str, *more: tuple, seconds: float = 30.0) -> tuple[tuple, ...]:
    """Turns of a call where the agent asks the customer to hold, and comes back after ``seconds`` with ``back``."""
    return (
        ("agent", "好的，请您稍等，我查一下", 0.0, 2.0),
        ("customer", "好的", 2.5, 3.0),
        ("agent", back, 3.0 + seconds, 6.0 + seconds),
        *more,
    )


def test_no_thanks_after_a_hold_is_a_process_finding_on_the_return(inspector):
    result = inspector.score(call(*_hold("快件在上海转运中心")))
    found = hits(result, "SIL-002")
    assert [(h.utterance, h.category) for h in found] == [(2, "process")]
    assert not hits(result, "SIL-001")  # the hold itself was announced and within the limit


@pytest.mark.parametrize("back", ["谢谢等待，快件在上海", "感谢您的耐心等待。快件在上海", "感谢您的耐心", "让您久等了"])
def test_thanks_on_return_satisfy_the_hold_rule(inspector, back):
    assert not hits(inspector.score(call(*_hold(back))), "SIL-002")


def test_thanks_in_the_next_agent_line_count_when_it_follows_at_once(inspector):
    soon = call(*_hold("好的", ("agent", "谢谢等待，快件在上海", 37.0, 40.0)))
    late = call(*_hold("好的", ("agent", "谢谢等待，快件在上海", 45.0, 48.0)))
    assert not hits(inspector.score(soon), "SIL-002")
    assert [h.utterance for h in hits(inspector.score(late), "SIL-002")] == [2]


def test_a_short_hold_needs_no_thanks(inspector):
    assert not hits(inspector.score(call(*_hold("快件在上海", seconds=6.0))), "SIL-002")


def test_no_hold_request_is_silence_not_the_hold_rule(inspector):
    result = inspector.score(call(("agent", "我帮您查一下", 0.0, 2.0), ("agent", "快件在上海", 32.0, 34.0)))
    assert not hits(result, "SIL-002") and hits(result, "SIL-001")


def test_a_hold_split_by_the_customers_check_in_is_judged_once(inspector):
    request, answer, back = _hold("快件在上海", seconds=40.0)
    result = inspector.score(call(request, answer, ("customer", "喂？", 20.0, 20.5), back))
    found = hits(result, "SIL-002")
    assert [h.utterance for h in found] == [3]
    assert "等待 41 秒" in found[0].detail  # from the request to the agent's return, not to the customer's "喂？"


# --- RATE-001: speech rate per utterance, and over the call -------------------------------------


def _rate(chars: int, per_second: float, start: float) -> tuple[str, str, float, float]:
    text = ("您好中通速递很高兴为您服务请问有什么可以帮您" * 3)[:chars]
    return ("agent", text, start, start + chars / per_second)


def test_one_utterance_rattled_off_in_a_calm_call_is_caught(inspector):
    calm = [_rate(20, 4.0, 10.0 * k) for k in range(5)]
    result = inspector.score(call(*calm[:2], _rate(20, 10.0, 20.0), *calm[3:]))
    found = hits(result, "RATE-001")
    assert [(h.utterance, h.detail[:4]) for h in found] == [(2, "语速过快")]


def test_a_brisk_normal_utterance_is_no_finding(inspector):
    calm = [_rate(20, 4.0, 10.0 * k) for k in range(5)]
    assert not hits(inspector.score(call(*calm[:2], _rate(20, 8.0, 20.0), *calm[3:])), "RATE-001")


def test_a_drawled_utterance_is_caught(inspector):
    calm = [_rate(20, 4.0, 20.0 * k) for k in range(5)]
    found = hits(inspector.score(call(*calm[:2], _rate(14, 1.2, 40.0), *calm[3:])), "RATE-001")
    assert [(h.utterance, h.detail[:4]) for h in found] == [(2, "语速过慢")]


def test_short_utterances_are_not_judged_alone(inspector):
    calm = [_rate(20, 4.0, 10.0 * k) for k in range(3)]
    assert not hits(inspector.score(call(*calm, ("agent", "好的好的", 30.0, 30.3))), "RATE-001")


def test_the_call_average_is_still_checked(inspector):
    steady_fast = [_rate(20, 7.5, 10.0 * k) for k in range(4)]
    found = hits(inspector.score(call(*steady_fast)), "RATE-001")
    assert len(found) == 1 and found[0].detail.startswith("语速过快") and "全通话平均" in found[0].detail


def test_a_rate_range_upside_down_is_refused(lexicon_copy):
    path = lexicon_copy / "rules" / "timing.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("min_utterance_rate: 1.5", "min_utterance_rate: 12"), encoding="utf-8")
    with pytest.raises(LexiconError, match="min_utterance_rate"):
        load_lexicon(lexicon_copy)
