"""A line the agent must say somewhere in the call (称呼客户, 确认客户是否明白…).

Short calls (fewer agent turns than ``min_agent_turns``: a wrong number, a dropped line) are not
held to it. The finding is about the whole call, so it quotes nothing; its detail names the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from qc.inspection.pattern import CompiledPattern
from qc.inspection.rules.base import CallView, Definitions, Finding, RuleInfo, SpecReader
from qc.inspection.rules.dialogue import DialogueRule, read_status, turns_saying


@dataclass(frozen=True, slots=True)
class RequiredRule(DialogueRule):
    """Fires when no utterance of the speaker (the agent) says one of the patterns."""

    kind: ClassVar[str] = "required"
    keys: ClassVar[tuple[str, ...]] = ("status", "patterns", "min_agent_turns", "speaker", "max_gap")

    info: RuleInfo
    patterns: tuple[CompiledPattern, ...]
    speaker: str
    min_agent_turns: int
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]
    status: str = "confirmed"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> RequiredRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        return cls(
            r.info(file),
            r.patterns("patterns", int(r.number("max_gap", 8))),
            r.speakers()[0],
            int(r.number("min_agent_turns", 4)),
            tuple(hits),
            tuple(misses),
            read_status(r),
        )

    def find(self, view: CallView) -> list[Finding]:
        if len(view.agent_turns) < self.min_agent_turns:
            return []
        if turns_saying(view, self.speaker, self.patterns):
            return []
        return [self.finding(None, f"整通电话未说：{self.info.name}")]
