"""Every rule's own must-hit and must-not-hit examples, one test each (a lexicon edit must keep them)."""

from __future__ import annotations

import pytest

from qc.inspection.check import ExampleRunner, example_problems
from qc.inspection.lexicon import load_lexicon
from tests.conftest import LEXICONS

_LEX = load_lexicon(LEXICONS)
_RUNNER = ExampleRunner(_LEX)
_CASES = [
    pytest.param(rule, expected, example, id=f"{rule.info.id}-{'hit' if expected else 'miss'}-{i}")
    for rule in _LEX.rules
    for expected, examples in ((True, rule.examples_hit), (False, rule.examples_miss))
    for i, example in enumerate(examples)
]


@pytest.mark.parametrize("rule,expected,example", _CASES)
def test_rule_example(rule, expected, example):
    assert _RUNNER.fires(rule, example) is expected, f"{rule.info.file}:{rule.info.line} {rule.info.id} {example!r}"


def test_every_rule_has_hit_and_miss_examples():
    for rule in _LEX.rules:
        assert rule.examples_hit and rule.examples_miss, rule.info.id


def test_no_example_problems_in_shipped_lexicon():
    assert example_problems(_LEX) == []


def test_every_rule_names_its_seed_source():
    missing = [r.info.id for r in _LEX.rules if not r.info.source or not r.info.source.startswith(("001", "000"))]
    assert missing == []


def test_manual_lists_are_complete():
    ids = {r.info.id for r in _LEX.rules}
    assert {f"BAN-{i:03d}" for i in range(1, 10)} <= ids  # 服务禁语 1–9
    assert {f"NS-{i:03d}" for i in range(1, 19)} <= ids  # 不规范服务用语 1–18
    polite = {r.info.name for r in _LEX.rules if r.kind == "polite"}
    assert polite == {"您", "请", "好", "先生", "小姐", "谢谢", "对不起", "不客气", "麻烦您"}
