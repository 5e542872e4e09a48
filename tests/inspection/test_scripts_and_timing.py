"""Opening/closing lines and the timing rules, computed from utterance times."""

from __future__ import annotations

import pytest

from tests.helpers import call


@pytest.mark.parametrize(
    "opening,number",
    [
        ("您好，中通速递，工号1024为您服务", "1024"),
        ("您好，中通速递，工号幺零二四为您服务", "1024"),
        ("您好，中通速递，工号一千零二十四为您服务", "1024"),
        ("您好，中通速递", None),
    ],
)
def test_opening_ok_and_job_number(inspector, opening, number):
    result = inspector.score(call(("agent", opening), ("customer", "你好"), ("agent", "感谢您的来电，再见")))
    assert result.checks["opening"].ok
    assert result.checks["opening"].detail.get("job_number") == number
    assert "OPEN-001" not in {h.rule_id for h in result.hits}


def test_opening_missing_and_incomplete(inspector):
    missing = inspector.score(call(("agent", "喂，什么事"), ("customer", "查快件"), ("agent", "好的")))
    hit = next(h for h in missing.hits if h.rule_id == "OPEN-001")
    assert not missing.checks["opening"].ok and hit.utterance is None
    partial = inspector.score(call(("agent", "您好，请问有什么可以帮您"), ("customer", "查快件")))
    hit = next(h for h in partial.hits if h.rule_id == "OPEN-001")
    assert hit.utterance == 0 and hit.detail == "标准开场白不完整"


def test_opening_only_counts_in_the_first_agent_turns(inspector):
    result = inspector.score(call(("agent", "喂"), ("agent", "说吧"), ("agent", "您好，中通速递")))
    assert not result.checks["opening"].ok


def test_closing_in_last_turns(inspector):
    ok = inspector.score(
        call(
            ("agent", "您好，中通速递"),
            ("agent", "请问您还有什么需要帮助"),
            ("customer", "没有了"),
            ("agent", "感谢您的来电，再会"),
        )
    )
    assert ok.checks["closing"].ok and ok.checks["closing_question"].ok
    assert not [h for h in ok.hits if h.category == "closing"]


def _silence_call(request_hold: bool, thank: bool, gap: float = 30.0):
    first = "好的，请您稍等，我查一下" if request_hold else "好的，我查一下"
    back = "感谢您的耐心等待，查到了" if thank else "查到了"
    return call(
        ("agent", "您好，中通速递", 0.0, 2.0),
        ("customer", "查快件", 2.5, 4.0),
        ("agent", first, 4.5, 6.5),
        ("agent", back, 6.5 + gap, 9.0 + gap),
        ("agent", "感谢您的来电，再见", 10 + gap, 12 + gap),
    )


@pytest.mark.parametrize(
    "request_hold,thank,silence,no_thanks",
    [(True, True, 0, 0), (True, False, 0, 1), (False, True, 1, 0), (False, False, 1, 0)],
)
def test_a_hold_request_allows_the_silence_and_thanks_are_checked_on_return(
    inspector, request_hold, thank, silence, no_thanks
):
    """Issue 10: the request alone makes the hold allowed (SIL-001); coming back without thanks is
    its own process finding (SIL-002), no longer charged as dead air."""
    result = inspector.score(_silence_call(request_hold, thank))
    assert sum(h.rule_id == "SIL-001" for h in result.hits) == silence
    assert sum(h.rule_id == "SIL-002" for h in result.hits) == no_thanks


def test_hold_too_long_is_a_silence_hit_even_when_announced(inspector):
    result = inspector.score(_silence_call(True, True, gap=300))
    hit = next(h for h in result.hits if h.rule_id == "SIL-001")
    assert hit.detail.startswith("等待超时") and hit.end - hit.start == pytest.approx(300)


def test_short_pause_is_no_silence(inspector):
    assert not [h for h in inspector.score(_silence_call(False, False, gap=5)).hits if h.category == "silence"]


def test_interruption_with_grace(inspector):
    over = call(("customer", "我的快件一号就发出了到现在都没到", 0.0, 6.0), ("agent", "你听我说", 3.0, 5.0))
    within_grace = call(("customer", "我的快件一号就发出了", 0.0, 6.0), ("agent", "您别着急", 5.5, 7.0))
    assert [h.rule_id for h in inspector.score(over).hits if h.category == "interruption"] == ["INT-001"]
    assert not [h for h in inspector.score(within_grace).hits if h.category == "interruption"]


def test_speech_rate(inspector):
    fast = call(("agent", "您好中通速递很高兴为您服务请问有什么可以帮您", 0.0, 2.0))
    normal = call(("agent", "您好中通速递很高兴为您服务请问有什么可以帮您", 0.0, 5.0))
    assert [h.detail[:4] for h in inspector.score(fast).hits if h.category == "speech_rate"] == ["语速过快"]
    assert not [h for h in inspector.score(normal).hits if h.category == "speech_rate"]


def test_untimed_transcript_skips_timing_rules_and_says_so(inspector):
    result = inspector.score(call(("agent", "您好，中通速递"), ("customer", "嗯"), ("agent", "感谢您的来电，再见")))
    assert not [h for h in result.hits if h.category in ("silence", "interruption", "speech_rate")]
    assert any("no utterance times" in w for w in result.warnings)


@pytest.mark.issue(9)
@pytest.mark.parametrize("gap,said", [(0.4, True), (1.6, True), (3.0, False)])
def test_a_closing_cut_at_a_pause_is_seen_whole(inspector, gap, said):
    """Recognition may cut a line where the agent pauses (感 | 谢您的来电，再见): close utterances of the
    same speaker are one line to the script rules; far apart, or with the customer between, they are not."""
    opening = ("agent", "您好，中通速递，工号1024为您服务", 0.0, 3.0)
    cut = call(
        opening,
        ("customer", "好的谢谢", 3.5, 4.5),
        ("agent", "感", 5.0, 5.3),
        ("agent", "谢您的来电，再见", 5.3 + gap, 7.0 + gap),
    )
    assert cut.utterances and inspector.score(cut).checks["closing"].ok is said
    between = call(
        opening, ("agent", "感", 5.0, 5.3), ("customer", "嗯", 5.4, 5.6), ("agent", "谢您的来电，再见", 5.7, 7.0)
    )
    assert not inspector.score(between).checks["closing"].ok
