"""What the rules about the course of a call share (conditional, required, restating, frequency):
their examples are short dialogues, and they ask the same questions of a call — which turns say
one of these patterns, which agent turns follow this one.

A dialogue example is a list of 'speaker [start-end] text' lines (qc.inspection.rules.base.
parse_snippet); times may be left out, as they are in typed transcripts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qc.inspection.pattern import CompiledPattern
from qc.inspection.rules.base import NOTHING, CallView, Evaluation, Finding, SpecReader, parse_snippet

# ``status: suspected`` in a rule: its findings are listed for review and cost nothing until an
# inspector confirms them (the manual asks for the line, but words alone cannot always show it was
# missed: a need restated in other words, understanding confirmed by tone). Their confidence:
SUSPECTED_CONFIDENCE = 0.5


class DialogueRule:
    """Base of the course-of-call kinds: ``find(view)`` gives the findings; examples are dialogues."""

    __slots__ = ()
    # True: the rule reads the other rules' findings (view.findings), so the engine runs it last.
    after_findings = False

    def evaluate(self, view: CallView) -> Evaluation:
        findings = self.find(view)
        return Evaluation(tuple(findings)) if findings else NOTHING

    def find(self, view: CallView) -> list[Finding]:  # pragma: no cover - overridden
        raise NotImplementedError

    def finding(
        self, utterance: int | None, detail: str, start: float | None = None, end: float | None = None
    ) -> Finding:
        """A finding of this rule, confirmed or suspected as the rule's ``status`` says."""
        status = getattr(self, "status", "confirmed")
        confidence = 1.0 if status == "confirmed" else SUSPECTED_CONFIDENCE
        info = self.info  # type: ignore[attr-defined]
        return Finding(info, utterance, None, detail, start=start, end=end, status=status, confidence=confidence)

    def anchors(self) -> frozenset[str] | None:
        return None

    def word_literals(self) -> tuple[str, ...]:
        return ()

    def fires_on(self, example: Any, segmenter: object = None) -> bool:
        """Whether the example dialogue triggers the rule. A rule that counts other rules' findings
        sees none here: qc.inspection.check runs its examples through the whole lexicon instead."""
        return bool(self.find(CallView(parse_snippet(example if isinstance(example, list) else [example]))))


def says(view: CallView, index: int, patterns: Sequence[CompiledPattern], start: int = 0) -> int | None:
    """Where (the end of the first match at or after ``start``) utterance ``index`` says one of
    ``patterns``; None if it says none."""
    text = view.norm_text(index)
    ends = [m.end() for p in patterns if (m := p.regex.search(text, start))]
    return min(ends) if ends else None


def turns_saying(view: CallView, speaker: str, patterns: Sequence[CompiledPattern]) -> list[int]:
    """The utterances of ``speaker`` that say one of ``patterns``, in call order: one search of the
    speaker's joined text per pattern (a match never crosses an utterance break)."""
    joined = view.joined_of(speaker)
    text = joined.norm.text
    found: set[int] = set()
    for pattern in patterns:
        for m in pattern.regex.finditer(text):
            if m.end() > m.start():
                found.add(joined.indices[joined.locate(m.start())])
    return sorted(found)


def turns_of(view: CallView, speaker: str) -> list[int]:
    """The utterances of ``speaker`` in call order."""
    if speaker == "agent":
        return view.agent_turns
    return [i for i, u in enumerate(view.transcript.utterances) if u.speaker == speaker]


def agent_turns_after(view: CallView, index: int, turns: int, seconds: float | None) -> list[int]:
    """The next ``turns`` agent utterances after utterance ``index``, cut at ``seconds`` after its end
    when both have times."""
    utts = view.transcript.utterances
    after = [i for i in view.agent_turns if i > index][:turns]
    end = utts[index].end
    if seconds is None or end is None:
        return after
    return [i for i in after if utts[i].start is None or utts[i].start - end <= seconds]


def quote(view: CallView, index: int, limit: int = 30) -> str:
    """The words of utterance ``index``, cut to ``limit`` characters, for a finding's detail."""
    text = view.transcript.utterances[index].text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def read_status(reader: SpecReader) -> str:
    """The rule's ``status``: confirmed (deducted, the default) or suspected (listed for review)."""
    return reader.choice("status", ("confirmed", "suspected"), "confirmed")
