"""Normalisation: one character for one character or a deletion, so every hit maps back exactly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.text.normalize import CLAUSE_BREAK, fold, normalize


# fmt: off
@pytest.mark.parametrize("raw,expected", [
    ("這個我不知道啊", "这个我不知道啊"),
    ("你 找 领导 去", "你找领导去"),
    ("你找领导去，跟我说没用。", "你找领导去|跟我说没用|"),
    ("这个箱子偏大点， 声明价值", "这个箱子偏大点|声明价值"),
    ("好的……您 稍等", "好的|您稍等"),
    ("ＡＢＣ１２３", "abc123"),
    ("工号幺零二四", "工号1024"),
    ("一二线城市", "一二线城市"),
])
# fmt: on
def test_normalize(raw, expected):
    assert normalize(raw).text == expected


@pytest.mark.issue(8)
def test_clause_starts_after_punctuation_not_spaces():
    norm = normalize("好的， 不会 的")
    assert norm.text == "好的|不会的"
    assert norm.clause_starts == {0, 3}
    assert norm.clause_end(3) == 6 and norm.clause_end(0) == 2


_text = st.text(alphabet=st.sampled_from(list("你好您请不知道這個我們，。！？ 　ＡＢa1２幺零二四 \t、…")), max_size=40)


@settings(deadline=None)  # shared, noisy machines: no per-example time limit
@given(_text)
def test_normalize_is_idempotent(raw):
    once = normalize(raw).text
    assert normalize(once).text == once


@settings(deadline=None)
@given(_text, st.data())
def test_spans_map_back_to_the_same_characters(raw, data):
    norm = normalize(raw)
    if not norm.text:
        return
    start = data.draw(st.integers(0, len(norm.text) - 1))
    end = data.draw(st.integers(start + 1, len(norm.text)))
    o_start, o_end = norm.to_original(start, end)
    folded = fold(raw)  # the 1:1 steps, so positions in it are positions in raw
    assert len(folded) == len(raw)
    digits = str.maketrans("〇零幺一二两三四五六七八九", "001122345678" + "9")
    # the original span, normalised on its own, is the normalised span (up to how digits were read)
    assert normalize(raw[o_start:o_end]).text.translate(digits) == norm.text[start:end].translate(digits)
    # a span starts and ends on a kept character: a letter, or the first mark of a clause break
    for pos, orig in ((start, o_start), (end - 1, o_end - 1)):
        assert (norm.text[pos] == CLAUSE_BREAK) == bool(re.fullmatch(r"[\W_]", raw[orig]))


def test_original_line_finds_the_utterance_of_a_joined_position():
    from qc.text.normalize import normalize_joined

    joined = normalize_joined(["您好，中通速递。", "这个 我 不 知道", "再见！"], [0, 2, 4])
    text = joined.norm.text
    for k, expected in enumerate(["您好，中通速递。", "这个 我 不 知道", "再见！"]):
        start = joined.starts[k]
        for pos in range(start, start + joined.part_length(k)):
            line, at = joined.norm.original_line(pos)
            assert line == expected and joined.norm.original[at : at + len(line)] == line, (pos, text)
