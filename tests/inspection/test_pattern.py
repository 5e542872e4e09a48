"""The pattern language's prefilter anchors: what the Aho-Corasick pass looks for before a rule's
regex runs. An anchor set must be present in every match (else a hit is lost), and should be as
rare as the pattern allows (else the regex runs almost everywhere)."""

from __future__ import annotations

import re

import pytest

from qc.inspection.pattern import compile_pattern

GROUPS = {"你": ("你", "您"), "明白": ("明白", "清楚")}


@pytest.mark.parametrize(
    ("pattern", "anchors"),
    [
        ("(你|您)(搞|弄)懂", {"你搞懂", "您搞懂", "你弄懂", "您弄懂"}),
        ("{你}找领导", {"你找领导", "您找领导"}),
        (
            "没[有](找|查)(到|着)",
            {"没找到", "没找着", "没查到", "没查着", "没有找到", "没有找着", "没有查到", "没有查着"},
        ),
        ("不*管", {"不"}),  # a gap splits the runs: the single characters are all there is
        ("等[了](很|好)久", {"等很久", "等好久", "等了很久", "等了好久"}),
    ],
)
def test_adjacent_parts_are_joined_into_longer_anchors(pattern, anchors):
    assert compile_pattern(pattern, GROUPS).anchors == anchors


@pytest.mark.parametrize(
    ("pattern", "texts"),
    [
        ("(你|您)(搞|弄)懂[了]没", ["你搞懂了没", "您弄懂没"]),
        ("没[有](找|查)(到|着)", ["没找到", "没有查着"]),
        ("[搞|听](懂|{明白})[了]没[有]", ["听懂了没有", "清楚没"]),
        ("说(了|过)(多少|几)(遍|次)", ["说了多少遍", "说过几次"]),
    ],
)
def test_every_match_contains_one_of_the_anchors(pattern, texts):
    compiled = compile_pattern(pattern, GROUPS)
    for text in texts:
        assert re.search(compiled.regex, text), text
        assert compiled.anchors is None or any(a in text for a in compiled.anchors), (text, compiled.anchors)


def test_an_optional_run_never_becomes_an_empty_anchor():
    compiled = compile_pattern("[很|好]久", GROUPS)
    assert "" not in (compiled.anchors or {"久"})
    assert compiled.anchors == {"久"}
