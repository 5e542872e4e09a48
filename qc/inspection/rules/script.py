"""Mandatory lines: the opening (开场白) in the agent's first turns, the closing (结束语) in the last.

The rule reports a check (ok, which utterance) for the result's ``checks`` and, when the line is
missing, a finding that the scorecard prices. A ``partial`` pattern (a greeting without the
company name, say) turns "missing" into "incomplete" and quotes the utterance that fell short.

In a recognised transcript a line heard as near-homophones (感谢您的来点) is read by sound
(``pinyin``, qc.inspection.sound) before it is called missing or incomplete: read as one of the
patterns, it counts as said, and the check records ``heard`` and ``read_as``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
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
    iter_matches,
)
from qc.inspection.sound import correct, heard_and_read
from qc.schema import Check
from qc.text.normalize import normalize
from qc.text.numbers import SPOKEN_NUMBER, spoken_number

# Two utterances of the same speaker this close are one line to a script rule: recognition starts a
# new utterance at a 1 s pause and may cut a closing there (感 | 谢您的来电，再见).
JOIN_GAP = 2.0

_JOB_NUMBER = re.compile(f"工号({SPOKEN_NUMBER})|({SPOKEN_NUMBER})号为您服务")


@dataclass(frozen=True, slots=True)
class ScriptRule:
    """A line the agent must say near the start (opening) or the end (closing) of the call."""

    kind: ClassVar[str] = "script"
    keys: ClassVar[tuple[str, ...]] = ("check", "patterns", "partial", "where", "turns", "seconds", "max_gap", "pinyin")

    info: RuleInfo
    check: str
    patterns: tuple[CompiledPattern, ...]
    partial: tuple[CompiledPattern, ...]
    where: str
    turns: int
    seconds: float | None
    examples_hit: tuple[str, ...]
    examples_miss: tuple[str, ...]
    # Matching by sound in recognised transcripts: "off", a level, or None for the lexicon's default.
    pinyin: int | str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> ScriptRule:
        r = SpecReader(spec, cls.keys, defs)
        info = r.info(file, ("opening", "closing"))
        max_gap = int(r.number("max_gap", 8))
        where = r.choice("where", ("start", "end"), "start" if info.category == "opening" else "end")
        turns = int(r.number("turns", 2, minimum=1))
        hits, misses = r.examples()
        check = r.get("check", str, info.category)
        if not re.fullmatch(r"[a-z_]+", check):
            raise RuleSpecError(f"check {check!r} must be lower-case letters and _")
        return cls(
            info,
            check,
            r.patterns("patterns", max_gap),
            r.patterns("partial", max_gap, required=False),
            where,
            turns,
            r.number("seconds", None),
            tuple(map(str, hits)),
            tuple(map(str, misses)),
            r.pinyin(),
        )

    def _window(self, view: CallView) -> list[int]:
        utts = view.transcript.utterances
        turns = view.agent_turns[: self.turns] if self.where == "start" else view.agent_turns[-self.turns :]
        if self.seconds is None:
            return turns
        if self.where == "start":
            return [i for i in turns if (utts[i].start or 0.0) <= self.seconds]
        last = max((u.end or u.start or 0.0) for u in utts)
        return [i for i in turns if (utts[i].end or utts[i].start or last) >= last - self.seconds]

    def evaluate(self, view: CallView) -> Evaluation:
        """The check for the result's ``checks`` and, when the line is missing or incomplete, a finding.

        No agent turns: nothing can be checked (the result says so in a warning). A truncated
        recording lost its end, so a missing closing is reported as not checked, never charged.
        """
        if not view.agent_turns:
            return NOTHING
        if view.truncated and self.where == "end":
            return Evaluation(checks={self.check: Check(None, None, {"skipped": "录音不完整，未检查"})})
        check, finding = self._check(view)
        return Evaluation((finding,) if finding else (), {self.check: check})

    def anchors(self) -> frozenset[str] | None:
        return None

    def word_literals(self) -> tuple[str, ...]:
        return ()

    def _check(self, view: CallView) -> tuple[Check, Finding | None]:
        window = self._window(view)
        for i, text in _with_next_close(view, window):
            for pattern in self.patterns:
                found = pattern.regex.search(text)
                if found:
                    return Check(True, i, self._detail(text)), None
        heard = self._heard_as(view, window)
        if heard is not None:
            return heard, None
        for i in window:
            text = view.norm_text(i)
            for pattern in self.partial:
                span = next(iter_matches(pattern, text), None)
                if span is not None:
                    return Check(False, i), Finding(self.info, i, span, f"{self.info.name}不完整")
        return Check(False, None), Finding(self.info, None, None, f"未说{self.info.name}")

    def _heard_as(self, view: CallView, window: list[int]) -> Check | None:
        """The line read by sound in one of the window's turns: said, with how it was heard."""
        sound = view.sound
        if sound is None or not sound.covers(self.info.id):
            return None
        for i in window:
            windows = sound.windows(self.info.id, i)
            corrected = correct(view.norm(i), windows, view.segmenter.log_probability) if windows else None
            if corrected is None:
                continue
            text = corrected.norm.text
            for pattern in self.patterns:
                for span in iter_matches(pattern, text):
                    if corrected.used(*span):
                        words, read_as, _ = heard_and_read(view.norm(i), corrected, span)
                        return Check(True, i, {**self._detail(text), "heard": words, "read_as": read_as})
        return None

    def _detail(self, text: str) -> dict[str, str]:
        m = _JOB_NUMBER.search(text)
        return {"job_number": spoken_number(m.group(1) or m.group(2))} if m else {}

    def fires_on(self, example: Any, segmenter: object = None) -> bool:
        """For examples: does the text contain the mandatory line?"""
        text = normalize(str(example)).text
        return any(p.regex.search(text) for p in self.patterns)


def _with_next_close(view: CallView, window: list[int]) -> Iterator[tuple[int, str]]:
    """Each window turn's text, then (where the same speaker goes on within ``JOIN_GAP`` seconds,
    nobody speaking between) that text joined with the next utterance's."""
    utts = view.transcript.utterances
    for i in window:
        text = view.norm_text(i)
        yield i, text
        j = i + 1
        if j < len(utts) and utts[j].speaker == utts[i].speaker:
            end, start = utts[i].end, utts[j].start
            if end is not None and start is not None and start - end < JOIN_GAP:
                yield i, text + view.norm_text(j)
