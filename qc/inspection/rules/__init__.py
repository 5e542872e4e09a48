"""Rule kinds. A new kind is one class implementing ``Rule`` (base.py) plus one entry in
RULE_KINDS; phrases are data."""

from __future__ import annotations

from qc.inspection.rules.base import NOTHING, CallView, Evaluation, Finding, Rule, RuleInfo, RuleSpecError
from qc.inspection.rules.phrase import PhraseRule, PoliteRule
from qc.inspection.rules.script import ScriptRule
from qc.inspection.rules.timing import InterruptionRule, SilenceRule, SpeechRateRule

RULE_KINDS: dict[str, type[Rule]] = {
    "phrase": PhraseRule,
    "polite": PoliteRule,
    "script": ScriptRule,
    "silence": SilenceRule,
    "interruption": InterruptionRule,
    "speech_rate": SpeechRateRule,
}

__all__ = [
    "NOTHING",
    "RULE_KINDS",
    "CallView",
    "Evaluation",
    "Finding",
    "Rule",
    "RuleInfo",
    "RuleSpecError",
    "PhraseRule",
    "PoliteRule",
    "ScriptRule",
    "SilenceRule",
    "InterruptionRule",
    "SpeechRateRule",
]
