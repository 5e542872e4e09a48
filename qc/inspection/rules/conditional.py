"""Conditional lines: when the customer says X, the agent must answer with Y within a few turns.

The manual's 统一服务热线用语 are of this shape (客户非常着急 → 请您别着急，慢慢讲；a complaint →
an empathy line, then acceptance with a time limit), as are its business questions (查件 → ask
for the waybill number). ``steps`` are required in order (安抚 before 受理); ``satisfied_by``
names what makes the answer unnecessary (the customer gave the waybill number unasked).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from qc.inspection.pattern import CompiledPattern
from qc.inspection.rules.base import CallView, Definitions, Finding, RuleInfo, RuleSpecError, SpecReader
from qc.inspection.rules.dialogue import DialogueRule, agent_turns_after, quote, read_status, says, turns_saying


@dataclass(frozen=True, slots=True)
class Step:
    """One required line: its name (in the finding's detail) and the patterns that say it."""

    name: str
    patterns: tuple[CompiledPattern, ...]


@dataclass(frozen=True, slots=True)
class ConditionalRule(DialogueRule):
    """A trigger in one speaker's words (the customer's by default) requires agent lines after it
    (``or_before``: or anywhere before it)."""

    kind: ClassVar[str] = "conditional"
    keys: ClassVar[tuple[str, ...]] = (
        "status", "trigger", "trigger_speaker", "require", "steps", "within_turns", "within_seconds", "satisfied_by",
        "or_before", "max_gap"
    )  # fmt: skip

    info: RuleInfo
    trigger: tuple[CompiledPattern, ...]
    trigger_speaker: str
    steps: tuple[Step, ...]
    within_turns: int
    within_seconds: float | None
    satisfied_by: tuple[CompiledPattern, ...]
    or_before: bool
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]
    status: str = "confirmed"

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> ConditionalRule:
        r = SpecReader(spec, cls.keys, defs)
        info = r.info(file)
        max_gap = int(r.number("max_gap", 8))
        if ("require" in spec) == ("steps" in spec):
            raise RuleSpecError("give either 'require' (one line) or 'steps' (lines in order)")
        if "require" in spec:
            steps: tuple[Step, ...] = (Step(info.name, r.patterns("require", max_gap)),)
        else:
            raw = r.get("steps", list, required=True)
            built = []
            for k, step in enumerate(raw, start=1):
                if not isinstance(step, dict) or not step.get("patterns"):
                    raise RuleSpecError(f"step {k} must be {{name: …, patterns: […]}}")
                sub = SpecReader({**step, "cross_clauses": spec.get("cross_clauses", False)}, ("patterns",), defs)
                built.append(Step(str(step.get("name") or f"第{k}步"), sub.patterns("patterns", max_gap)))
            steps = tuple(built)
        speaker = (r.choice("trigger_speaker", ("customer", "agent"), "customer"),)
        hits, misses = r.examples()
        return cls(
            info,
            r.patterns("trigger", max_gap),
            speaker[0],
            steps,
            int(r.number("within_turns", 3, minimum=0)),  # 0: the trigger's own line (agent triggers)
            r.number("within_seconds", None),
            r.patterns("satisfied_by", max_gap, required=False),
            r.get("or_before", bool, False),
            tuple(hits),
            tuple(misses),
            read_status(r),
        )

    def find(self, view: CallView) -> list[Finding]:
        """One finding at most: at the first trigger none of whose windows holds every step."""
        first: tuple[int, list[int], tuple[Step, ...]] | None = None
        for t in turns_saying(view, self.trigger_speaker, self.trigger):
            window = agent_turns_after(view, t, self.within_turns, self.within_seconds)
            if self.or_before:  # the agent asked before the customer's words (单号 asked at the start)
                window = [i for i in view.agent_turns if i < t] + window
            if self.trigger_speaker == "agent":  # the agent's own line may carry the answer (转接，请稍等)
                window = [t, *window]
            if self.satisfied_by and any(says(view, i, self.satisfied_by) is not None for i in (t, *window)):
                return []
            missing = self._missing(view, window)
            if not missing:
                return []
            if first is None:
                first = (t, window, missing)
        if first is None:
            return []
        t, window, missing = first
        where = window[0] if window else None
        who = "客户" if self.trigger_speaker == "customer" else "坐席"
        detail = f"{who}说「{quote(view, t)}」后 {self.within_turns} 句内未说：" + "、".join(s.name for s in missing)
        utt = view.transcript.utterances[t]
        if where is not None:
            return [self.finding(where, detail)]
        return [self.finding(None, detail, utt.start, utt.end)]

    def _missing(self, view: CallView, window: list[int]) -> tuple[Step, ...]:
        """The steps not said, in order, across the window's turns (a later step only counts after
        the earlier one: acceptance before empathy is not the manual's order)."""
        k = 0
        for i in window:
            position = 0
            while k < len(self.steps):
                end = says(view, i, self.steps[k].patterns, position)
                if end is None:
                    break
                position, k = end, k + 1
        return self.steps[k:]
