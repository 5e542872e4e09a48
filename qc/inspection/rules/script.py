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
from qc.text.questions import is_question_at

# Two utterances of the same speaker this close are one line to a script rule: recognition starts a
# new utterance at a 1 s pause and may cut a closing there (感 | 谢您的来电，再见).
JOIN_GAP = 2.0

_DIGITS = re.compile(SPOKEN_NUMBER)


@dataclass(frozen=True, slots=True)
class ScriptRule:
    """A line the agent must say near the start (opening) or the end (closing) of the call."""

    kind: ClassVar[str] = "script"
    keys: ClassVar[tuple[str, ...]] = (
        "check", "line", "patterns", "partial", "where", "turns", "seconds", "max_gap", "pinyin", "question"
    )  # fmt: skip

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
    # Only a question counts (请问还有其他问题吗, not 有问题可以再打过来): qc.text.questions.
    question: bool = False
    job_number: tuple[CompiledPattern, ...] = ()

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> ScriptRule:
        r = SpecReader(spec, cls.keys, defs)
        info = r.info(file, ("opening", "closing"))
        max_gap = int(r.number("max_gap", 8))
        where = r.choice("where", ("start", "end"), "start" if info.category == "opening" else "end")
        turns = int(r.number("turns", 2, minimum=1))
        check = r.get("check", str, info.category)
        if not re.fullmatch(r"[a-z_]+", check):
            raise RuleSpecError(f"check {check!r} must be lower-case letters and _")
        line = r.get("line", str)
        if line is not None:
            # the words come from the profile (lexicons/profiles/<name>.yaml, lines: <line>)
            if "patterns" in spec or "partial" in spec or "examples" in spec:
                raise RuleSpecError("a rule with 'line' takes its patterns and examples from the profile")
            lines = defs.lines
            if line not in lines:
                raise RuleSpecError(f"the profile has no line {line!r} (profile 'lines': {', '.join(lines) or 'none'})")
            words = SpecReader({**lines[line], "cross_clauses": spec.get("cross_clauses", False)},
                               ("patterns", "partial", "examples"), defs)  # fmt: skip
            hits, misses = words.examples()
            patterns, partial = words.patterns("patterns", max_gap), words.patterns("partial", max_gap, required=False)
        else:
            hits, misses = r.examples()
            patterns, partial = r.patterns("patterns", max_gap), r.patterns("partial", max_gap, required=False)
        job_reader = SpecReader({"job_number": list(defs.job_number)}, ("job_number",), defs)
        return cls(
            info,
            check,
            patterns,
            partial,
            where,
            turns,
            r.number("seconds", None),
            tuple(map(str, hits)),
            tuple(map(str, misses)),
            r.pinyin(),
            r.get("question", bool, False),
            job_reader.patterns("job_number", required=False),
        )

    def _window(self, view: CallView) -> list[int]:
        """The agent turns the line must be in. ``seconds`` counts from the agent's first speech (an
        opening after 35 s of queue music is on time) and back from the end of the call."""
        utts = view.transcript.utterances
        turns = view.agent_turns[: self.turns] if self.where == "start" else view.agent_turns[-self.turns :]
        if self.seconds is None:
            return turns
        if self.where == "start":
            first = utts[view.agent_turns[0]].start or 0.0
            return [i for i in turns if (utts[i].start or first) - first <= self.seconds]
        last = max((u.end or u.start or 0.0) for u in utts)
        return [i for i in turns if (utts[i].end or utts[i].start or last) >= last - self.seconds]

    def _said(self, text: str) -> re.Match[str] | None:
        """The first match of a pattern in ``text`` that counts (a question where one is required)."""
        for pattern in self.patterns:
            for found in pattern.regex.finditer(text):
                if not self.question or is_question_at(text, found.start(), found.end()):
                    return found
        return None

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
            if self._said(text):
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
                    if self.question and not is_question_at(text, *span):
                        continue
                    if corrected.used(*span):
                        words, read_as, _ = heard_and_read(view.norm(i), corrected, span)
                        return Check(True, i, {**self._detail(text), "heard": words, "read_as": read_as})
        return None

    def _detail(self, text: str) -> dict[str, str]:
        """The 工号 the agent gave, by the profile's ``job_number`` patterns (the digits in the match)."""
        for pattern in self.job_number:
            m = pattern.regex.search(text)
            if m:
                # the whole spoken number from where the match starts (# stops at 千/百/十: 一千零二十四)
                digits = _DIGITS.search(text, m.start())
                if digits:
                    return {"job_number": spoken_number(digits.group(0))}
        return {}

    def fires_on(self, example: Any, segmenter: object = None) -> bool:
        """For examples: does the text contain the mandatory line (as a question, where required)?"""
        return self._said(normalize(str(example)).text) is not None


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
