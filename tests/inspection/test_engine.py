"""The engine on a tiny made-up rulebook (tests/data/lexicon_small): behaviour of matching, the rule
protocol, pricing, context windows and warnings, independent of the business lexicons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from qc.inspection.engine import CONTEXT_CHARS, Inspector, context_window
from qc.inspection.lexicon import load_lexicon
from qc.inspection.rules import NOTHING, RULE_KINDS, CallView, Evaluation
from qc.schema import Transcript, Utterance
from tests.conftest import DATA
from tests.helpers import call

SMALL = DATA / "lexicon_small"


@pytest.fixture(scope="module")
def small() -> Inspector:
    return Inspector(load_lexicon(SMALL), learned=False)


def test_every_kind_answers_with_one_evaluation_shape(small):
    view = CallView(call(("agent", "您好测试公司"), ("agent", "谢谢，再见")), {"agent"}, small.segmenter)
    kinds = set()
    for rule in small.rules:
        evaluation = rule.evaluate(view)
        assert isinstance(evaluation, Evaluation)
        kinds.add(rule.kind)
    assert kinds == set(RULE_KINDS) - {"interruption", "speech_rate", "hold"}


def test_findings_checks_and_polite_terms_are_merged(small):
    result = small.score(call(("agent", "您好测试公司，一根香蕉"), ("customer", "苹果"), ("agent", "谢谢谢谢，再见")))
    assert [h.rule_id for h in result.hits] == ["T-NS-001"]  # the customer's 苹果 is not the agent's
    assert result.checks["opening"].ok and result.checks["closing"].ok
    assert result.polite_terms == {"谢谢": 2}
    assert result.score == 90


def test_exception_and_clause_start(small):
    assert not small.score(call(("agent", "您好测试公司，香蕉皮别扔，再见"))).hits
    ids = [h.rule_id for h in small.score(call(("agent", "您好测试公司。梨子甜，一个梨，再见"))).hits]
    assert ids == ["T-FIL-001"]


def test_veto_zeroes_the_call(small):
    result = small.score(call(("agent", "您好测试公司，苹果，再见")))
    assert result.veto and result.score == 0


def test_missing_lines_are_findings_with_no_utterance(small):
    result = small.score(call(("agent", "喂"), ("agent", "好的")))
    assert {h.rule_id for h in result.hits} == {"T-OPEN-001", "T-CLOSE-001"}
    assert all(h.utterance is None for h in result.hits)
    assert result.checks["opening"].ok is False


@pytest.mark.issue(7)
def test_context_is_a_window_around_the_hit_not_the_whole_turn(small):
    long_turn = "好" * 3000 + "一根香蕉" + "好" * 3000
    result = small.score(call(("agent", "您好测试公司"), ("agent", long_turn), ("agent", "再见")))
    (hit,) = result.hits
    assert hit.text == "香蕉"
    assert len(hit.context) <= 2 * CONTEXT_CHARS + len(hit.text) + 2
    assert hit.context.startswith("…") and hit.context.endswith("…") and "一根香蕉" in hit.context


def test_context_window_keeps_short_turns_whole():
    assert context_window("你好，一根香蕉。", 5, 7) == "你好，一根香蕉。"
    text = "甲乙丙丁戊" * 20
    assert context_window(text, 50, 52, radius=3) == "…" + text[47:55] + "…"


@pytest.mark.issue(7)
def test_truncated_recording_warns_and_does_not_charge_the_closing(small):
    utts = (Utterance("agent", "您好测试公司", 0.0, 2.0), Utterance("customer", "我查快件", 2.5, 4.0))
    whole = Transcript("t", "1024", utts)
    assert "T-CLOSE-001" in {h.rule_id for h in small.score(whole).hits}
    truncated = replace(whole, asr={"truncated": {"expected_seconds": 60.0, "decoded_seconds": 4.0}})
    result = small.score(truncated)
    assert "T-CLOSE-001" not in {h.rule_id for h in result.hits}
    assert result.checks["closing"].ok is None
    assert any("truncated" in w and "60.0" in w for w in result.warnings)


def test_rules_without_anchors_are_always_tried(small):
    def candidates(text: str) -> set[str]:
        view = CallView(Transcript("t", "1", (Utterance("agent", text),)), small.speakers, small.segmenter)
        return set(small.prefilter(view)["agent"])

    assert {"T-OPEN-001", "T-CLOSE-001", "T-SIL-001"} <= candidates("")
    assert "T-NS-001" in candidates("一根香蕉") and "T-NS-001" not in candidates("一个梨")


def test_a_new_kind_is_one_class(small):
    """The engine never asks a rule's class: any object with the protocol is evaluated."""

    class Shout:
        kind = "shout"
        info = replace(small.rules[0].info, id="T-SHOUT-001")
        examples_hit = examples_miss = ()

        def evaluate(self, view):
            return NOTHING if not view.agent_turns else Evaluation(polite={"shout": len(view.agent_turns)})

        def anchors(self):
            return None

        def word_literals(self):
            return ()

    inspector = Inspector(replace(small.lexicon, rules=(*small.lexicon.rules, Shout())), learned=False)
    assert inspector.score(call(("agent", "您好测试公司"), ("agent", "再见"))).polite_terms["shout"] == 2


@pytest.mark.issue(8)
def test_one_utterance_costs_once_per_category(small):
    """Two nonstandard phrases in one turn: the dearer is charged, the other listed at 0 saying why."""
    result = small.score(call(("agent", "您好测试公司"), ("agent", "一根香蕉，两根香蕉"), ("agent", "香蕉，再见")))
    bananas = [h for h in result.hits if h.rule_id == "T-NS-001"]
    assert [h.deduction for h in bananas] == [10, 0, 10]
    assert "不重复扣分" in bananas[1].detail and "T-NS-001" in bananas[1].detail
    assert result.score == 80


@pytest.mark.issue(8)
def test_hit_ids_are_stable_and_unique(small):
    transcript = call(("agent", "您好测试公司"), ("agent", "一根香蕉，两根香蕉"), ("agent", "好的"))
    first, again = small.score(transcript), small.score(transcript)
    ids = [h.hit_id for h in first.hits]
    assert ids == [h.hit_id for h in again.hits]
    assert len(set(ids)) == len(ids)
    assert "T-NS-001@1:2-4" in ids and "T-NS-001@1:7-9" in ids and "T-CLOSE-001@call" in ids
    assert all(h.status == "confirmed" and h.confidence == 1.0 for h in first.hits)
    assert transcript.utterances[1].text[2:4] == "香蕉"


def test_prefilter_names_the_utterances_holding_an_anchor(small):
    """A rule's regex reads only the utterances where its anchors occur, so it matches there and
    only there; an exception counts in the utterance of the match, not in the agent's next turn."""
    utts = (
        Utterance("agent", "一根香蕉", 0.0, 1.0),
        Utterance("customer", "嗯", 1.0, 2.0),
        Utterance("agent", "还有别的", 2.0, 3.0),
        Utterance("agent", "不要香蕉皮", 3.0, 4.0),
        Utterance("agent", "香蕉", 4.0, 5.0),
    )
    result = small.score(Transcript("t", "1024", utts))
    assert sorted(h.utterance for h in result.hits if h.rule_id == "T-NS-001") == [0, 4]


@pytest.mark.issue(13)
def test_scoring_many_calls_at_once_gives_each_call_its_own_result():
    """score_many asks the learned layer once for all the calls' turns; each result must still be
    exactly the one score gives that call alone (a misaligned slice would move suspicions between
    calls). The sample calls plus rule-breaking turns long enough for the layer to judge."""
    from qc.formats import read_transcript
    from tests.conftest import LEXICONS, ROOT

    inspector = Inspector(load_lexicon(LEXICONS), categorize=False)
    assert inspector.suspects is not None, "the shipped suspect model is needed for this test"
    calls = [read_transcript(p) for p in sorted((ROOT / "samples" / "calls").glob("*.json"))]
    odd = Utterance("agent", "你自己不会看吗，这种事情别来烦我，我们这边管不了的", 1.0, 4.0)
    calls += [replace(c, call_id=c.call_id + "-x", utterances=(*c.utterances, odd)) for c in calls[::2]]
    alone = [inspector.score(c) for c in calls]
    together = inspector.score_many(calls)
    assert together == alone
    assert any(h.status == "suspected" for r in alone for h in r.hits), "no suspicion: the test would prove nothing"
