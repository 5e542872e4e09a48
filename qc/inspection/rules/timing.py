"""Timing rules, computed from utterance times: dead air, holds, talking over the customer, speech rate.

Thresholds and the phrases that decide a case (hold requests, thanks for waiting, question markers,
backchannels) are lexicon data (lexicons/rules/timing.yaml). A transcript without times (typed)
skips these rules; the engine says so on the result rather than scoring blindly.

Silence is charged only while the customer waits for the agent (manual 001, 服务行为原则 6): a
pause after the agent's question, or after the customer asked the agent to wait, is the customer's
own; a hold the agent announced is allowed up to a limit, and SIL-002 checks the thanks on return.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
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
    RuleSpecError,
    SpecReader,
    parse_snippet,
)
from qc.schema import Transcript, Utterance
from qc.text.normalize import CLAUSE_BREAK

# A question mark at the end of the original text, before any closing quotes or spaces. Normalised
# text has lost it (a punctuation run becomes one CLAUSE_BREAK), so it is read from the original.
_ENDS_WITH_QUESTION_MARK = re.compile(r"[?？][^\w?？]*$")


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


# --- what the timing rules share -------------------------------------------------------------


def _times(u: Utterance) -> tuple[float, float]:
    """Start and end of an utterance taken from ``CallView.timed()``, where both are set."""
    return u.start or 0.0, u.end or 0.0


def _says(view: CallView, index: int, patterns: Sequence[CompiledPattern]) -> bool:
    """Whether one of the patterns occurs anywhere in the utterance's normalised text."""
    text = view.norm_text(index)
    return any(p.regex.search(text) for p in patterns)


def _union(patterns: Sequence[CompiledPattern]) -> str:
    """One regex alternation of several compiled patterns (they use only non-capturing groups)."""
    return "(?:" + "|".join(p.regex.pattern for p in patterns) + ")"


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch where nobody speaks: from the end of ``before`` (the utterance that ended last) to
    the start of ``after``, which is at ``position`` in ``CallView.timed()``."""

    before: int
    after: int
    position: int
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def gaps(view: CallView, min_seconds: float = 0.0) -> Iterator[Gap]:
    """Every gap of the call of at least ``min_seconds`` (and never of zero length), in order.
    Overlapping speech leaves no gap: what ended last bounds it. (A call has a gap between almost
    every two turns; the rules want only the long ones, so the short ones are never built.)"""
    utts = view.transcript.utterances
    last = -1
    until = 0.0
    for position, i in enumerate(view.timed()):
        u = utts[i]
        start, end = u.start or 0.0, u.end or 0.0
        if last >= 0 and start > until and start - until >= min_seconds:
            yield Gap(last, i, position, until, start)
        if last < 0 or end > until:
            last, until = i, end


def hold_request(view: CallView, gap: Gap, patterns: Sequence[CompiledPattern], lookback_seconds: float) -> int | None:
    """The agent utterance that announced a hold covering ``gap``, or None.

    Read in the agent's last utterance before the gap, and in the one before that when it ended
    within ``lookback_seconds`` of the last one's start: agents say "请您稍等", the customer
    answers "好的", and the agent may add "我查一下" before going quiet."""
    utts = view.transcript.utterances
    timed = view.timed()
    last: int | None = None
    for i in reversed(timed[: gap.position]):
        if utts[i].speaker != "agent":
            continue
        if last is None:
            if _says(view, i, patterns):
                return i
            last = i
            continue
        said_just_before = _times(utts[last])[0] - _times(utts[i])[1] <= lookback_seconds
        return i if said_just_before and _says(view, i, patterns) else None
    return None


def next_agent(view: CallView, position: int) -> int | None:
    """The first agent utterance at or after ``position`` in ``CallView.timed()`` (None: the agent
    does not speak again)."""
    utts = view.transcript.utterances
    return next((i for i in view.timed()[position:] if utts[i].speaker == "agent"), None)


@dataclass(frozen=True, slots=True)
class QuestionMarkers:
    """Decides whether an utterance asks the customer something, so the pause after it is the
    customer's. A question mark at the end counts (read from the original text: normalisation has
    removed it); recognised speech often has no punctuation, so words count too: ``anywhere``
    (请问, 多少, 是不是…) anywhere in the utterance, ``ending`` (吗, 呢…) as its last spoken words."""

    anywhere: tuple[CompiledPattern, ...]
    ending: re.Pattern[str] | None

    @classmethod
    def from_patterns(
        cls, anywhere: tuple[CompiledPattern, ...], ending: tuple[CompiledPattern, ...]
    ) -> QuestionMarkers:
        last_words = re.compile(_union(ending) + re.escape(CLAUSE_BREAK) + "?$") if ending else None
        return cls(anywhere, last_words)

    def asks(self, view: CallView, index: int) -> bool:
        if _ENDS_WITH_QUESTION_MARK.search(view.transcript.utterances[index].text):
            return True
        text = view.norm_text(index)
        if self.ending is not None and self.ending.search(text):
            return True
        return any(p.regex.search(text) for p in self.anywhere)


# --- SIL-001: dead air while the customer waits ----------------------------------------------


@dataclass(frozen=True, slots=True)
class SilenceRule(_TimingRule):
    """Dead air longer than ``max_seconds`` while the customer waits for the agent.

    The customer waits after their own utterance (unless they asked the agent to wait:
    ``customer_pause``), and after an agent utterance that is no question when the agent speaks
    next (the agent went quiet mid-task). After an agent question the pause is the customer's. A
    hold the agent announced (``hold_request``) is allowed up to ``max_hold_seconds``, counted from
    the request; beyond it the hold is charged once, as 等待超时.

    ``hold_thanks`` is still read (and its patterns checked) so lexicons written before the hold
    rule existed load, but silence no longer depends on it: the thanks are SIL-002's to check."""

    kind: ClassVar[str] = "silence"
    keys: ClassVar[tuple[str, ...]] = (
        "max_seconds", "max_hold_seconds", "hold_request", "hold_lookback_seconds", "question", "question_end",
        "customer_pause", "hold_thanks",
    )  # fmt: skip

    info: RuleInfo
    max_seconds: float
    max_hold_seconds: float | None
    hold_request: tuple[CompiledPattern, ...]
    hold_lookback_seconds: float
    questions: QuestionMarkers
    customer_pause: tuple[CompiledPattern, ...]
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> SilenceRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        r.patterns("hold_thanks", required=False)  # read for its errors only (see the class docstring)
        return cls(
            r.info(file, ("silence",)),
            r.number("max_seconds", required=True),
            r.number("max_hold_seconds", None),
            r.patterns("hold_request"),
            r.number("hold_lookback_seconds", 5.0),
            QuestionMarkers.from_patterns(
                r.patterns("question", required=False), r.patterns("question_end", required=False)
            ),
            r.patterns("customer_pause", required=False),
            tuple(hits),
            tuple(misses),
        )

    def find(self, view: CallView) -> list[Finding]:
        findings = []
        charged_holds: set[int] = set()
        for gap in gaps(view, self.max_seconds):
            if gap.seconds <= self.max_seconds:
                continue
            request = hold_request(view, gap, self.hold_request, self.hold_lookback_seconds)
            if request is not None:
                finding = self._hold_too_long(view, gap, request, charged_holds)
            else:
                finding = self._dead_air(view, gap)
            if finding is not None:
                findings.append(finding)
        return findings

    def _hold_too_long(self, view: CallView, gap: Gap, request: int, charged: set[int]) -> Finding | None:
        """An announced hold past ``max_hold_seconds``, once per request: a customer's "喂？" in the
        middle splits the hold into two gaps, but the customer has waited since the request."""
        held_from = _times(view.transcript.utterances[request])[1]
        held = gap.end - held_from
        if self.max_hold_seconds is None or held <= self.max_hold_seconds or request in charged:
            return None
        charged.add(request)
        detail = f"等待超时 {held:.1f} 秒（请客户等待后上限 {self.max_hold_seconds:g} 秒）"
        return Finding(self.info, self._anchor(view, gap), None, detail, start=held_from, end=gap.end)

    def _dead_air(self, view: CallView, gap: Gap) -> Finding | None:
        why = self._who_waits(view, gap)
        if why is None:
            return None
        detail = f"静默 {gap.seconds:.1f} 秒（上限 {self.max_seconds:g} 秒）：{why}"
        return Finding(self.info, self._anchor(view, gap), None, detail, start=gap.start, end=gap.end)

    def _who_waits(self, view: CallView, gap: Gap) -> str | None:
        """Why the customer is the one waiting in this gap, or None when the pause is the customer's
        own (or no one can tell: a speaker of unknown role before the gap)."""
        utts = view.transcript.utterances
        before = utts[gap.before]
        if before.speaker == "customer":
            return None if _says(view, gap.before, self.customer_pause) else "客户说完后坐席未接话"
        if before.speaker == "agent" and utts[gap.after].speaker == "agent":
            return None if self.questions.asks(view, gap.before) else "坐席未说明请客户等待就停了下来"
        return None

    @staticmethod
    def _anchor(view: CallView, gap: Gap) -> int:
        """The utterance the finding is shown on: the agent's words that end the wait (the late
        answer), else the agent's last words before it, else whatever ends the gap."""
        back = next_agent(view, gap.position)
        if back is not None:
            return back
        utts = view.transcript.utterances
        before = [i for i in view.timed()[: gap.position] if utts[i].speaker == "agent"]
        return before[-1] if before else gap.after


# --- SIL-002: thanks after a hold ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldRule(_TimingRule):
    """After an announced hold of at least ``min_hold_seconds``, the agent's first words back (or
    the agent's next utterance within ``thanks_within_seconds``: recognition may cut "谢谢等待。"
    off the news that follows) must thank the customer for waiting (001 服务行为原则 6「返回时应讲：
    谢谢等待」). The manual also asks for the customer's consent before the hold (……好吗？); that is
    not checked: the answer (好, 嗯, 行, or nothing) cannot be told from the customer's ordinary
    replies, and a guess would charge agents for what they did right."""

    kind: ClassVar[str] = "hold"
    keys: ClassVar[tuple[str, ...]] = (
        "hold_request", "hold_thanks", "min_hold_seconds", "hold_lookback_seconds", "thanks_within_seconds",
    )  # fmt: skip

    info: RuleInfo
    hold_request: tuple[CompiledPattern, ...]
    hold_thanks: tuple[CompiledPattern, ...]
    min_hold_seconds: float
    hold_lookback_seconds: float
    thanks_within_seconds: float
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> HoldRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        return cls(
            r.info(file, ("process",)),
            r.patterns("hold_request"),
            r.patterns("hold_thanks"),
            r.number("min_hold_seconds", 10.0),
            r.number("hold_lookback_seconds", 5.0),
            r.number("thanks_within_seconds", 2.0),
            tuple(hits),
            tuple(misses),
        )

    def find(self, view: CallView) -> list[Finding]:
        findings = []
        judged: set[int] = set()  # return utterances already judged (a hold split by the customer's "喂？")
        for gap in gaps(view, self.min_hold_seconds):
            if gap.seconds < self.min_hold_seconds:
                continue
            request = hold_request(view, gap, self.hold_request, self.hold_lookback_seconds)
            back = next_agent(view, gap.position) if request is not None else None
            if request is None or back is None or back in judged:
                continue
            judged.add(back)
            if not self._thanked(view, back):
                utts = view.transcript.utterances
                held = _times(utts[back])[0] - _times(utts[request])[1]
                findings.append(
                    Finding(self.info, back, None, f"请客户等待 {held:.0f} 秒，返回时未致谢（应讲“谢谢等待”）")
                )
        return findings

    def _thanked(self, view: CallView, back: int) -> bool:
        """Thanks in the return utterance, or in the agent's next one if it starts within
        ``thanks_within_seconds`` (a customer's "嗯" in between does not end the return)."""
        if _says(view, back, self.hold_thanks):
            return True
        utts = view.transcript.utterances
        timed = view.timed()
        returned_at = _times(utts[back])[1]
        for i in timed[timed.index(back) + 1 :]:
            start = _times(utts[i])[0]
            if start - returned_at > self.thanks_within_seconds:
                return False
            if utts[i].speaker == "agent":
                return _says(view, i, self.hold_thanks)
        return False


# --- INT-001: talking over the customer ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InterruptionRule(_TimingRule):
    """The agent starts speaking while the customer is still talking, beyond a grace period.

    A backchannel (嗯, 好的, 对对…: the whole utterance made of ``backchannel`` forms) is listening,
    not interrupting: the manual asks agents to show they listen (适时与客户交流，使他相信你一直在仔细聆听)."""

    kind: ClassVar[str] = "interruption"
    keys: ClassVar[tuple[str, ...]] = ("grace_seconds", "backchannel")

    info: RuleInfo
    grace_seconds: float
    backchannel: re.Pattern[str] | None  # the whole utterance, clause breaks removed, is one or more forms
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> InterruptionRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        forms = r.patterns("backchannel", required=False)
        return cls(
            r.info(file, ("interruption",)),
            r.number("grace_seconds", 0.5),
            re.compile(_union(forms) + "+") if forms else None,
            tuple(hits),
            tuple(misses),
        )

    def is_backchannel(self, view: CallView, index: int) -> bool:
        """Whether the utterance is only backchannel words (or no words at all: a cough, "…")."""
        spoken = view.norm_text(index).replace(CLAUSE_BREAK, "")
        if not spoken:
            return True
        return self.backchannel is not None and self.backchannel.fullmatch(spoken) is not None

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
            start, end = _times(u)
            if u.speaker == "customer":
                talking_until = max(talking_until, end)
            elif (
                u.speaker == "agent" and talking_until - start > self.grace_seconds and not self.is_backchannel(view, i)
            ):
                overlap = talking_until - start
                findings.append(Finding(self.info, i, None, f"抢话 {overlap:.1f} 秒（容忍 {self.grace_seconds:g} 秒）"))
        return findings


# --- RATE-001: speech rate -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpeechRateRule(_TimingRule):
    """The agent's speech rate (spoken characters per second) outside the allowed range: over the
    whole call (``min_rate``–``max_rate``, utterances of at least ``min_chars``), and per utterance
    (``min_utterance_rate``–``max_utterance_rate``, utterances of at least ``min_utterance_chars``),
    because an average hides a notice rattled off at 10 字/秒 in an otherwise calm call."""

    kind: ClassVar[str] = "speech_rate"
    keys: ClassVar[tuple[str, ...]] = (
        "min_rate", "max_rate", "min_chars", "min_utterance_rate", "max_utterance_rate", "min_utterance_chars",
    )  # fmt: skip

    info: RuleInfo
    min_rate: float
    max_rate: float
    min_chars: int
    min_utterance_rate: float | None
    max_utterance_rate: float | None
    min_utterance_chars: int
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> SpeechRateRule:
        r = SpecReader(spec, cls.keys, defs)
        hits, misses = r.examples()
        rule = cls(
            r.info(file, ("speech_rate",)),
            r.number("min_rate", required=True),
            r.number("max_rate", required=True),
            int(r.number("min_chars", 8)),
            r.number("min_utterance_rate", None),
            r.number("max_utterance_rate", None),
            int(r.number("min_utterance_chars", 12)),
            tuple(hits),
            tuple(misses),
        )
        for low, high in (("min_rate", "max_rate"), ("min_utterance_rate", "max_utterance_rate")):
            lo, hi = getattr(rule, low), getattr(rule, high)
            if lo is not None and hi is not None and lo >= hi:
                raise RuleSpecError(f"'{low}' ({lo:g}) must be below '{high}' ({hi:g})")
        return rule

    def _rates(self, view: CallView, min_chars: int) -> Iterator[tuple[int, int, float]]:
        """(utterance, spoken characters, seconds) of the agent's timed utterances of ``min_chars`` or more."""
        utts = view.transcript.utterances
        for i in view.timed():
            if utts[i].speaker != "agent":
                continue
            n = view.norm_length(i)
            start, end = _times(utts[i])
            if n >= min_chars and end > start:
                yield i, n, end - start

    def find(self, view: CallView) -> list[Finding]:
        """Per-utterance findings, and the call's average; when the average is shown on an utterance
        that is itself too fast or slow, one finding says both (one utterance, one rate problem)."""
        details = self._per_utterance(view)
        average = self._per_call(view)
        if average is not None:
            i, rate = average
            how = "过快" if rate > self.max_rate else "过慢"
            standard = f"全通话平均 {rate:.1f} 字/秒（标准 {self.min_rate:g}–{self.max_rate:g}）"
            details[i] = f"{details[i]}；{standard}" if i in details else f"语速{how}：{standard}"
        return [Finding(self.info, i, None, details[i]) for i in sorted(details)]

    def _per_utterance(self, view: CallView) -> dict[int, str]:
        if self.min_utterance_rate is None and self.max_utterance_rate is None:
            return {}
        details = {}
        for i, n, seconds in self._rates(view, self.min_utterance_chars):
            rate = n / seconds
            if self.max_utterance_rate is not None and rate > self.max_utterance_rate:
                details[i] = f"语速过快 {rate:.1f} 字/秒（单句上限 {self.max_utterance_rate:g}）"
            elif self.min_utterance_rate is not None and rate < self.min_utterance_rate:
                details[i] = f"语速过慢 {rate:.1f} 字/秒（单句下限 {self.min_utterance_rate:g}）"
        return details

    def _per_call(self, view: CallView) -> tuple[int, float] | None:
        """The call's average rate when it is outside the range, with the utterance furthest outside."""
        chars = 0
        seconds = 0.0
        extreme: tuple[float, int] | None = None
        for i, n, dur in self._rates(view, self.min_chars):
            chars += n
            seconds += dur
            rate = n / dur
            distance = max(rate - self.max_rate, self.min_rate - rate)
            if extreme is None or distance > extreme[0]:
                extreme = (distance, i)
        if not seconds or extreme is None:
            return None
        rate = chars / seconds
        return None if self.min_rate <= rate <= self.max_rate else (extreme[1], rate)
