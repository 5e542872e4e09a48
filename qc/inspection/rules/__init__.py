"""Rule kinds. A new kind is one class here plus one entry in RULE_KINDS; phrases are data."""

from __future__ import annotations

from qc.inspection.rules.base import CallView, Finding, RuleInfo, RuleSpecError
from qc.inspection.rules.phrase import PhraseRule, PoliteRule
from qc.inspection.rules.script import ScriptRule
from qc.inspection.rules.timing import InterruptionRule, SilenceRule, SpeechRateRule

Rule = PhraseRule | PoliteRule | ScriptRule | SilenceRule | InterruptionRule | SpeechRateRule

RULE_KINDS: dict[str, type] = {
    "phrase": PhraseRule,
    "polite": PoliteRule,
    "script": ScriptRule,
    "silence": SilenceRule,
    "interruption": InterruptionRule,
    "speech_rate": SpeechRateRule,
}

__all__ = [
    "RULE_KINDS",
    "CallView",
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
