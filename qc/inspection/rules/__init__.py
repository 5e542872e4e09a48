"""Rule kinds. A new kind is one class implementing ``Rule`` (base.py) plus one entry in
RULE_KINDS; phrases are data."""

from __future__ import annotations

from qc.inspection.rules.base import NOTHING, CallView, Evaluation, Finding, Rule, RuleInfo, RuleSpecError
from qc.inspection.rules.conditional import ConditionalRule
from qc.inspection.rules.frequency import FrequencyRule
from qc.inspection.rules.phrase import PhraseRule, PoliteRule
from qc.inspection.rules.required import RequiredRule
from qc.inspection.rules.restating import RestatingRule
from qc.inspection.rules.script import ScriptRule
from qc.inspection.rules.timing import HoldRule, InterruptionRule, SilenceRule, SpeechRateRule

RULE_KINDS: dict[str, type[Rule]] = {
    "phrase": PhraseRule,
    "polite": PoliteRule,
    "script": ScriptRule,
    "silence": SilenceRule,
    "interruption": InterruptionRule,
    "speech_rate": SpeechRateRule,
    "hold": HoldRule,
    "conditional": ConditionalRule,
    "required": RequiredRule,
    "restating": RestatingRule,
    "frequency": FrequencyRule,
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
    "HoldRule",
    "ConditionalRule",
    "RequiredRule",
    "RestatingRule",
    "FrequencyRule",
]
