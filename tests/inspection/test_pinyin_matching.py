"""Matching by sound in recognised transcripts (issue 9): near-homophones Whisper writes for a script
line or a phrase are read as what was said; typed text is matched exactly, as before."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.errors import LexiconError
from qc.formats import result_to_dict
from qc.inspection.engine import Inspector
from qc.inspection.lexicon import Lexicon, load_lexicon
from qc.inspection.sound import allowed_cost, syllable_cost
from qc.schema import CallResult, Transcript, Utterance

pytestmark = pytest.mark.issue(9)

ASR = {"model_dir": "whisper-base", "language": "zh"}
OPENING = "您好，中通速递，工号1024为您服务"
CLOSING = "感谢您的来电，再见"
PHRASES = ("banned", "nonstandard", "filler", "negative")


def _call(*turns: tuple[str, str], recognised: bool = True) -> Transcript:
    utts = tuple(Utterance(s, t) for s, t in turns)  # type: ignore[arg-type]  # no times: timing rules stay out
    return Transcript("p-1", "1024", utts, asr=ASR if recognised else None)


@pytest.fixture(scope="module")
def rules_only(lexicon: Lexicon) -> Inspector:
    """The rules alone (the learned layer off), so every suspected hit here is one found by sound."""
    return Inspector(lexicon, learned=False)


def _heard(result: CallResult) -> list:
    return [h for h in result.hits if h.heard is not None]


def _agent(inspector: Inspector, text: str, recognised: bool = True) -> CallResult:
    return inspector.score(_call(("agent", OPENING), ("agent", text), ("agent", CLOSING), recognised=recognised))


# --- the issue's examples ----------------------------------------------------------------------


# fmt: off
@pytest.mark.parametrize("heard,rule,read_as", [
    ("您朝领导去", "BAN-002", "您找领导去"),                     # 朝 zhao/chao: a polyphone read as 找
    ("邀误说多少便你才明白", "NS-015", "要我说多少遍"),           # 邀 yao, 误 wu~wo (u/o), 便 bian
    ("我也没有办发", "NS-009", "没有办法"),                       # 发 fa = 法 fa
])
# fmt: on
def test_a_misheard_phrase_is_a_suspected_hit(rules_only, heard, rule, read_as):
    result = _agent(rules_only, heard)
    [hit] = _heard(result)
    assert (hit.rule_id, hit.status, hit.deduction) == (rule, "suspected", 0)
    assert read_as in hit.read_as and hit.heard in heard and hit.text == hit.heard
    assert 0.3 <= hit.confidence < 1.0
    assert "读音近似" in hit.detail and hit.heard in hit.detail
    assert result.score == _agent(rules_only, "好的，我帮您查一下").score, "a suspected hit costs nothing"


def test_the_same_words_typed_get_no_reading(rules_only):
    for text in ("您朝领导去", "邀误说多少便你才明白", "我也没有办发"):
        assert not _heard(_agent(rules_only, text, recognised=False)), text
        assert not [h for h in _agent(rules_only, text, recognised=False).hits if h.category == "banned"]


def test_fewer_edits_give_more_confidence(rules_only):
    homophone = _heard(_agent(rules_only, "您朝领导去"))[0]
    near = _heard(_agent(rules_only, "邀误说多少便你才明白"))[0]  # one confusion (误 wu for 我 wo)
    assert homophone.confidence > near.confidence


def test_a_misheard_closing_counts_as_said(rules_only):
    result = rules_only.score(_call(("agent", OPENING), ("customer", "好的"), ("agent", "感谢您的来点再见")))
    closing = result.checks["closing"]
    assert closing.ok is True and closing.utterance == 2
    assert closing.detail == {"heard": "感谢您的来点", "read_as": "感谢您的来电"}
    assert not [h for h in result.hits if h.rule_id == "CLOSE-001"]
    typed = rules_only.score(
        _call(("agent", OPENING), ("customer", "好的"), ("agent", "感谢您的来点再见"), recognised=False)
    )
    assert typed.checks["closing"].ok is False and [h for h in typed.hits if h.rule_id == "CLOSE-001"]


def test_a_misheard_closing_question_counts_as_said(rules_only):
    result = rules_only.score(_call(("agent", OPENING), ("agent", "请问您孩有什么需要吗"), ("agent", CLOSING)))
    assert result.checks["closing_question"].ok is True
    assert result.checks["closing_question"].detail == {"heard": "孩有什么需要", "read_as": "还有什么需要"}


def test_an_exact_match_stays_confirmed_and_is_not_read_again(rules_only):
    result = _agent(rules_only, "你找领导去")
    [hit] = [h for h in result.hits if h.rule_id == "BAN-002"]
    assert hit.status == "confirmed" and hit.heard is None and hit.read_as is None and hit.deduction > 0


# --- what must not become a hit ----------------------------------------------------------------

# fmt: off
@pytest.mark.parametrize("text", [
    "这个规定确实不太好理解，我跟您解释一下。",   # 解释 is not 解试 (NEG-009's 试一下): a word for a non-word
    "我帮您联系派件员核实一下签收情况。",         # 核实 likewise
    "老师说可以放在传达室是吗",                   # 老师说 sounds like 老实说 (FIL-007)
    "我把您的情况转给理赔组",                     # 我把您 is not 我怕您 (BAN-003)
    "这是网点的地址，步行大约五分钟。",           # 步行 sounds like 不行; 地址 not 事
    "如果超时了也没关系，派件员可以帮您重新投柜。",
    "不用客气，有需要随时找我。",
    "您看什么时候方便？",
])
# fmt: on
def test_clean_speech_that_sounds_alike_is_not_flagged(rules_only, text):
    assert not _heard(_agent(rules_only, text)), text


@pytest.mark.parametrize("text", ["快递员说您朝领导去", "要是实在没有办发，您也别着急"])
def test_exceptions_and_contexts_still_cancel_a_reading(rules_only, text):
    typed = text.replace("朝", "找").replace("办发", "办法")
    assert not [h for h in _agent(rules_only, typed, recognised=False).hits if h.category in PHRASES], typed
    assert not _heard(_agent(rules_only, text)), text


def test_the_customers_words_are_never_read(rules_only):
    result = rules_only.score(
        _call(("agent", OPENING), ("customer", "您朝领导去，我要说多少便你才明白"), ("agent", CLOSING))
    )
    assert not _heard(result) and not [h for h in result.hits if h.speaker == "customer"]


# --- settings ----------------------------------------------------------------------------------


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BAN_002 = "    name: 让客户找领导\n"
CLOSE_001 = "    name: 标准结束语\n"


def test_a_rule_can_turn_reading_by_sound_off(lexicon_copy):
    _edit(lexicon_copy / "rules" / "banned.yaml", BAN_002, BAN_002 + "    pinyin: off\n")
    _edit(lexicon_copy / "rules" / "scripts.yaml", CLOSE_001, CLOSE_001 + "    pinyin: off\n")
    inspector = Inspector(load_lexicon(lexicon_copy), learned=False)
    assert not _heard(_agent(inspector, "您朝领导去"))
    assert [h.rule_id for h in _heard(_agent(inspector, "邀误说多少便你才明白"))] == ["NS-015"]  # others still read
    result = inspector.score(_call(("agent", OPENING), ("agent", "感谢您的来点再见")))
    assert result.checks["closing"].ok is False


def test_level_0_reads_homophones_only(lexicon_copy):
    name = "    name: 要我说多少遍\n"
    _edit(lexicon_copy / "rules" / "nonstandard.yaml", name, name + "    pinyin: 0\n")
    inspector = Inspector(load_lexicon(lexicon_copy), learned=False)
    assert not _heard(_agent(inspector, "邀误说多少便你才明白"))  # 误 wu for 我 wo is a confusion, not a homophone
    assert [h.rule_id for h in _heard(_agent(inspector, "您朝领导去"))] == ["BAN-002"]


def test_the_lexicon_wide_default_can_turn_it_off(lexicon_copy):
    _edit(lexicon_copy / "settings.yaml", "\npinyin: 1\n", "\npinyin: off\n")
    lexicon = load_lexicon(lexicon_copy)
    assert lexicon.settings.pinyin is None
    inspector = Inspector(lexicon, learned=False)
    assert not _heard(_agent(inspector, "您朝领导去"))
    assert inspector.sound_matcher() is None


def test_the_bundled_default_is_level_1(lexicon):
    assert lexicon.settings.pinyin == 1


@pytest.mark.parametrize("value", ["3", "maybe", "true", "1.5"])
def test_a_bad_rule_setting_names_file_and_rule(lexicon_copy, value):
    _edit(lexicon_copy / "rules" / "banned.yaml", BAN_002, BAN_002 + f"    pinyin: {value}\n")
    with pytest.raises(LexiconError) as info:
        load_lexicon(lexicon_copy)
    [problem] = [str(p) for p in info.value.problems]
    assert "banned.yaml:" in problem and "[BAN-002]" in problem and "'pinyin' must be off or one of 0, 1, 2" in problem
    result = CliRunner().invoke(cli, ["lexicon", "check", "--lexicons", str(lexicon_copy)])
    assert result.exit_code == 1 and "BAN-002" in result.output + result.stderr


def test_a_bad_lexicon_wide_setting_names_the_file(lexicon_copy):
    _edit(lexicon_copy / "settings.yaml", "\npinyin: 1\n", "\npinyin: sometimes\n")
    with pytest.raises(LexiconError, match=r"settings\.yaml.*'pinyin' must be off or one of 0, 1, 2"):
        load_lexicon(lexicon_copy)


def test_polite_terms_are_never_read_by_sound(lexicon_copy):
    path = lexicon_copy / "rules" / "polite.yaml"
    text = path.read_text(encoding="utf-8")
    first = text.index("    name: ")
    end = text.index("\n", first) + 1
    path.write_text(text[:end] + "    pinyin: 1\n" + text[end:], encoding="utf-8")
    with pytest.raises(LexiconError, match="unknown key.*pinyin"):
        load_lexicon(lexicon_copy)


# --- typed text pays nothing; the result carries the reading -----------------------------------


def test_typed_transcripts_never_build_the_readings(lexicon):
    inspector = Inspector(lexicon, learned=False)
    inspector.score(_call(("agent", "您朝领导去"), recognised=False))
    assert inspector._sound_built is False
    inspector.score(_call(("agent", "您朝领导去")))
    assert inspector._sound_built is True


def test_an_audio_path_alone_marks_a_transcript_recognised():
    typed = _call(("agent", "您好"), recognised=False)
    assert not typed.recognised
    assert replace(typed, audio="/rec/1.wav").recognised and _call(("agent", "您好")).recognised


def test_heard_and_read_as_reach_the_json_result(rules_only, tmp_path):
    result = _agent(rules_only, "您朝领导去")
    [hit] = [h for h in result_to_dict(result)["hits"] if h["rule_id"] == "BAN-002"]
    assert (hit["heard"], hit["read_as"], hit["status"]) == ("您朝领导去", "您找领导去", "suspected")
    exact = result_to_dict(_agent(rules_only, "你找领导去"))["hits"]
    assert all(h["heard"] is None and h["read_as"] is None for h in exact)

    path = tmp_path / "call.json"
    body = {"call_id": "p-2", "agent_id": "1024", "asr": ASR, "utterances": [
        {"speaker": "agent", "text": OPENING, "start": 0, "end": 2},
        {"speaker": "agent", "text": "您朝领导去", "start": 3, "end": 5},
        {"speaker": "agent", "text": "感谢您的来点再见", "start": 6, "end": 8},
    ]}  # fmt: skip
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    out = CliRunner().invoke(cli, ["score", str(path), "--db", f"sqlite:///{tmp_path / 'qc.db'}", "--json", "-"])
    assert out.exit_code == 0, out.stderr
    row = json.loads(out.stdout.splitlines()[0])
    [hit] = [h for h in row["hits"] if h["rule_id"] == "BAN-002"]
    assert hit["heard"] == "您朝领导去" and hit["read_as"] == "您找领导去" and hit["deduction"] == 0
    assert row["checks"]["closing"] == {"ok": True, "utterance": 2, "heard": "感谢您的来点", "read_as": "感谢您的来电"}

    from qc.store import Store

    stored = Store(f"sqlite:///{tmp_path / 'qc.db'}").load_result_rows("p-2")
    read = [(h["heard"], h["read_as"]) for h in stored["hits"] if h["rule_id"] == "BAN-002"]
    assert read == [("您朝领导去", "您找领导去")]


# --- the distance --------------------------------------------------------------------------------

# fmt: off
@pytest.mark.parametrize("a,b,cost", [
    ("zhao", "zhao", 0), ("zhao", "zao", 0.5), ("shi", "si", 0.5), ("nan", "lan", 0.5), ("xin", "xing", 0.5),
    ("wo", "wu", 0.5), ("ni", "nin", 0.5), ("fan", "huan", 1), ("zhang", "zan", 1), ("bu", "wo", 1),
])
# fmt: on
def test_syllable_confusions_cost_less_than_other_syllables(a, b, cost):
    assert syllable_cost(a, b) == syllable_cost(b, a) == cost


def test_short_runs_are_never_read_and_longer_ones_may_cost_more():
    assert allowed_cost(2, 2) < 0  # 不行/步行: two syllables have too many real homophones
    assert allowed_cost(3, 1) == 0.5 and allowed_cost(5, 1) == 1 and allowed_cost(9, 2) == 2
    assert allowed_cost(9, 0) == 0
