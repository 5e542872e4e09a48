"""Timing rules, computed from utterance times: dead air, talking over the customer, speech rate.

Thresholds are lexicon data. A transcript without times (typed) skips these rules; the engine
says so on the result rather than scoring blindly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from qc.inspection.pattern import CompiledPattern
from qc.inspection.rules.base import (
    NOTHING,
    CallView,
    Definitions,
    Evaluation,
    Finding,
    RuleInfo,
    SpecReader,
    parse_snippet,
)
from qc.schema import Transcript


class _TimingRule:
    """Examples of timing rules are short timed snippets ('agent 0-3 您好')."""

    __slots__ = ()

    def evaluate(self, view: CallView) -> Evaluation:
        findings = self.find(view)
        return Evaluation(tuple(findings)) if findings else NOTHING

    def find(self, view: CallView) -> list[Finding]:  # pragma: no cover - overridden
        raise NotImplementedError

    def anchors(self) -> frozenset[str] | None:
        return None

    def word_literals(self) -> tuple[str, ...]:
        return ()

    def fires_on(self, example: Any, segmenter: object = None) -> bool:
        transcript: Transcript = parse_snippet(example)
        return bool(self.find(CallView(transcript)))


@dataclass(frozen=True, slots=True)
class SilenceRule(_TimingRule):
    """Dead air longer than a threshold, unless the agent asked to hold and thanked afterwards."""

    kind: ClassVar[str] = "silence"
    keys: ClassVar[tuple[str, ...]] = ("max_seconds", "hold_request", "hold_thanks", "max_hold_seconds")

    info: RuleInfo
    max_seconds: float
    hold_request: tuple[CompiledPattern, ...]
    hold_thanks: tuple[CompiledPattern, ...]
    max_hold_seconds: float | None
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> SilenceRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        return cls(
            r.info(file, ("silence",)),
            r.number("max_seconds", required=True),
            r.patterns("hold_request"),
            r.patterns("hold_thanks"),
            r.number("max_hold_seconds", None),
            tuple(hits),
            tuple(misses),
        )

    def _says(self, view: CallView, index: int | None, patterns: tuple[CompiledPattern, ...]) -> bool:
        if index is None:
            return False
        text = view.norm_text(index)
        return any(p.regex.search(text) for p in patterns)

    def find(self, view: CallView) -> list[Finding]:
        utts = view.transcript.utterances
        timed = view.timed()
        findings = []
        spoken_until = None
        last_agent = None
        for pos, i in enumerate(timed):
            u = utts[i]
            if spoken_until is not None and u.start - spoken_until > self.max_seconds:  # type: ignore[operator]
                gap = u.start - spoken_until  # type: ignore[operator]
                next_agent = next((j for j in timed[pos:] if utts[j].speaker == "agent"), None)
                held = self._says(view, last_agent, self.hold_request) and self._says(
                    view, next_agent, self.hold_thanks
                )
                too_long = self.max_hold_seconds is not None and gap > self.max_hold_seconds
                if not held or too_long:
                    why = "等待超时" if held else "静默"
                    findings.append(
                        Finding(
                            self.info,
                            last_agent if last_agent is not None else i,
                            None,
                            f"{why} {gap:.1f} 秒（上限 {self.max_seconds:g} 秒）",
                            start=spoken_until,
                            end=u.start,
                        )
                    )
            if spoken_until is None or u.end > spoken_until:  # type: ignore[operator]
                spoken_until = u.end
            if u.speaker == "agent":
                last_agent = i
        return findings


@dataclass(frozen=True, slots=True)
class InterruptionRule(_TimingRule):
    """The agent starts speaking while the customer is still talking, beyond a grace period."""

    kind: ClassVar[str] = "interruption"
    keys: ClassVar[tuple[str, ...]] = ("grace_seconds",)

    info: RuleInfo
    grace_seconds: float
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> InterruptionRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        return cls(r.info(file, ("interruption",)), r.number("grace_seconds", 0.5), tuple(hits), tuple(misses))

    def find(self, view: CallView) -> list[Finding]:
        utts = view.transcript.utterances
        findings = []
        talking_until = -1.0  # when the customer who started latest-ending so far stops talking
        order = view.timed()
        if any(utts[a].start == utts[b].start for a, b in zip(order, order[1:], strict=False)):
            # at equal starts the customer's turn first: it is already talking when the agent starts
            order = sorted(order, key=lambda i: (utts[i].start, utts[i].speaker != "customer"))
        for i in order:
            u = utts[i]
            if u.speaker == "customer":
                if u.end > talking_until:  # type: ignore[operator]
                    talking_until = u.end  # type: ignore[assignment]
            elif u.speaker == "agent" and talking_until - u.start > self.grace_seconds:  # type: ignore[operator]
                overlap = talking_until - u.start  # type: ignore[operator]
                findings.append(Finding(self.info, i, None, f"抢话 {overlap:.1f} 秒（容忍 {self.grace_seconds:g} 秒）"))
        return findings


@dataclass(frozen=True, slots=True)
class SpeechRateRule(_TimingRule):
    """The agent's overall speech rate (characters per second) outside the allowed range."""

    kind: ClassVar[str] = "speech_rate"
    keys: ClassVar[tuple[str, ...]] = ("min_rate", "max_rate", "min_chars")

    info: RuleInfo
    min_rate: float
    max_rate: float
    min_chars: int
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> SpeechRateRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        return cls(
            r.info(file, ("speech_rate",)),
            r.number("min_rate", required=True),
            r.number("max_rate", required=True),
            int(r.number("min_chars", 8)),
            tuple(hits),
            tuple(misses),
        )

    def find(self, view: CallView) -> list[Finding]:
        utts = view.transcript.utterances
        chars = 0
        seconds = 0.0
        extreme: tuple[float, int] | None = None
        for i in view.timed():
            u = utts[i]
            if u.speaker != "agent":
                continue
            n = view.norm_length(i)
            dur = u.end - u.start  # type: ignore[operator]
            if n < self.min_chars or dur <= 0:
                continue
            chars += n
            seconds += dur
            rate = n / dur
            above, below = rate - self.max_rate, self.min_rate - rate
            distance = above if above > below else below
            if extreme is None or distance > extreme[0]:
                extreme = (distance, i)
        if not seconds or extreme is None:
            return []
        rate = chars / seconds
        if self.min_rate <= rate <= self.max_rate:
            return []
        how = "过快" if rate > self.max_rate else "过慢"
        return [
            Finding(
                self.info, extreme[1], None, f"语速{how} {rate:.1f} 字/秒（标准 {self.min_rate:g}–{self.max_rate:g}）"
            )
        ]
