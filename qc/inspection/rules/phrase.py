"""Phrase rules: banned, nonstandard, filler and negative phrasing, and the polite-term tally.

A phrase rule matches its patterns on normalised characters, then narrows the match down with
data the QA staff control: where in the clause it must stand (``position``), whether it must be
a whole jieba word (``boundary``), and exception patterns that cancel it when they cover it
(``except``: 不可以 inside 可不可以, 不知道 in 不知道能否麻烦您…).

In a recognised transcript a rule may also match by sound (``pinyin``, qc.inspection.sound): on an
agent turn where it found nothing exactly, heard words are read as a spelling of one of its
patterns and the rule runs, exactly as above, on the sentence so corrected. What it finds there is
``suspected`` (deducted only once a reviewer confirms it), with ``heard``/``read_as``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, ClassVar

from qc.inspection.context import Contexts
from qc.inspection.pattern import CompiledPattern
from qc.inspection.rules.base import NOTHING, CallView, Definitions, Evaluation, Finding, Regions, RuleInfo, SpecReader
from qc.inspection.sound import Window, confidence, correct, heard_and_read
from qc.text.normalize import CLAUSE_BREAK, UTTERANCE_BREAK, NormalizedText, normalize
from qc.text.words import JiebaSegmenter

POSITIONS = ("anywhere", "clause_start", "whole_clause")
BOUNDARIES = ("substring", "word")


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """A phrase that costs points when the agent says it."""

    kind: ClassVar[str] = "phrase"
    categories: ClassVar[tuple[str, ...]] = ("banned", "nonstandard", "filler", "negative")
    keys: ClassVar[tuple[str, ...]] = (
        "patterns",
        "except",
        "except_window",
        "boundary",
        "position",
        "speaker",
        "max_gap",
        "unless",
        "pinyin",
    )

    info: RuleInfo
    patterns: tuple[CompiledPattern, ...]
    excepts: tuple[CompiledPattern, ...]
    except_window: int
    boundary: str
    position: str
    speakers: tuple[str, ...]
    examples_hit: tuple[str, ...]
    examples_miss: tuple[str, ...]
    # Word-level contexts (contexts.yaml) any of which cancels a match: 转述, 条件句…
    unless: tuple[str, ...] = ()
    contexts: Contexts | None = None
    # All patterns in one regex: one search tells whether any can match at all, so a rule whose
    # anchors occur but whose patterns do not (most candidates) costs one scan, not one per pattern.
    screen: re.Pattern[str] | None = None
    # The same for the exceptions: a region where none can occur needs no exception spans.
    except_screen: re.Pattern[str] | None = None
    # One pattern and nothing to check around it: the regex's matches are the answer.
    plain: bool = False
    # Matching by sound in recognised transcripts: "off", a level (qc.inspection.sound.LEVELS), or
    # None for the lexicon's default (settings.yaml ``pinyin``).
    pinyin: int | str | None = None

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any], defs: Definitions, file: str) -> PhraseRule:
        r = SpecReader(spec, cls.keys, defs)
        info = r.info(file, cls.categories)
        max_gap = int(r.number("max_gap", 8))
        hits, misses = r.examples()
        excepts = r.patterns("except", max_gap, required=False)
        boundary = r.choice("boundary", BOUNDARIES, "substring")
        position = r.choice("position", POSITIONS, "anywhere")
        patterns = tuple(_at_position(p, position) for p in r.patterns("patterns", max_gap))
        unless = r.context_names("unless")
        return cls(
            info=info,
            patterns=patterns,
            excepts=excepts,
            except_window=int(r.number("except_window", 0)),
            boundary=boundary,
            position=position,
            speakers=r.speakers(),
            examples_hit=tuple(str(h) for h in hits),
            examples_miss=tuple(str(m) for m in misses),
            unless=unless,
            contexts=defs.contexts if unless else None,
            screen=_alternation(patterns) if len(patterns) > 1 else None,
            except_screen=_alternation(excepts) if len(excepts) > 1 else None,
            plain=len(patterns) == 1
            and not excepts
            and position == "anywhere"
            and boundary == "substring"
            and not unless,
            pinyin=r.pinyin(),
        )

    def anchors(self) -> frozenset[str] | None:
        """Literals one of which must occur for this rule to match (None: always check)."""
        found: set[str] = set()
        for p in self.patterns:
            if p.anchors is None:
                return None
            found |= p.anchors
        return frozenset(found)

    def word_literals(self) -> Sequence[str]:
        if self.boundary != "word":
            return ()
        return [lit for p in self.patterns for lit in p.literals]

    def evaluate(self, view: CallView) -> Evaluation:
        """One finding per match in the turns of the speakers this rule applies to; in a recognised
        call, then one suspected finding per agent turn found only by sound."""
        findings = [Finding(self.info, index, span, quote=quote) for *_, index, span, quote in self._spans(view)]
        sound = view.sound
        if sound is not None and "agent" in self.speakers and sound.covers(self.info.id):
            found = {f.utterance for f in findings}
            for index, windows in sound.phrase_windows(self.info.id).items():
                if index not in found:
                    finding = self._heard_as(view, index, windows)
                    if finding is not None:
                        findings.append(finding)
        return Evaluation(tuple(findings)) if findings else NOTHING

    def _heard_as(self, view: CallView, index: int, windows: Sequence[Window]) -> Finding | None:
        """The first match of this rule on the utterance with heard words read as ``windows`` that
        covers a reading, as a suspected finding (None: the corrected sentence does not fire it, or
        its exceptions and contexts cancel it there as they would in typed text)."""
        heard = view.norm(index)
        corrected = correct(heard, windows, view.segmenter.log_probability)
        if corrected is None:
            return None
        for span in self.matches(corrected.norm, view.segmenter):
            if not corrected.used(*span):
                continue
            words, read_as, cost = heard_and_read(heard, corrected, span)
            h_span = corrected.to_heard(*span)
            detail = f"读音近似：识别为「{words}」，按「{read_as}」判断（读音差 {cost:g}），待复核：复核确认前不扣分"
            return Finding(
                self.info, index, h_span, detail, quote=heard.to_original(*h_span), status="suspected",
                confidence=confidence(cost), heard=words, read_as=read_as,
            )  # fmt: skip
        return None

    def _spans(self, view: CallView) -> Iterator[tuple[str, int, int, int, tuple[int, int], tuple[int, int]]]:
        """(speaker, joined start, joined end, utterance index, span in its normalised text, quote
        span in its original text) for every match."""
        for speaker in self.speakers:
            joined = view.joined.get(speaker)
            if joined is None or not view.is_candidate(speaker, self.info.id):
                continue
            for start, end in self.matches(joined.norm, view.segmenter, view.regions(speaker, self.info.id)):
                k = joined.locate(start)
                index, offset = joined.indices[k], joined.starts[k]
                span = (start - offset, end - offset)
                # mapped back through the utterance's own normalisation (the same text as its part of
                # the joined one): a few turns have hits, and the joined text's offset map costs more
                yield speaker, start, end, index, span, view.norm(index).to_original(*span)

    def matches(
        self, norm: NormalizedText, segmenter: JiebaSegmenter, regions: Regions | None = None
    ) -> list[tuple[int, int]]:
        """Spans of normalised text where this rule fires, overlapping matches merged.

        ``norm`` may hold several utterances joined by UTTERANCE_BREAK; no match crosses one, and
        an exception counts only in the utterance of the match. ``regions``: the utterances
        (spans of ``norm.text``) worth reading — where the prefilter saw an anchor; None: all.
        """
        text = norm.text
        if regions is None:
            regions = ((0, len(text)),)
        if self.plain:
            finditer = self.patterns[0].regex.finditer
            return [m.span() for lo, hi in regions for m in finditer(text, lo, hi)]
        spans: list[tuple[int, int]] = []
        screen = self.screen
        for lo, hi in regions:
            if screen is None or screen.search(text, lo, hi) is not None:
                spans.extend(self._matches_in(norm, segmenter, lo, hi))
        return _merge_overlaps(spans) if len(self.patterns) > 1 else spans

    def _matches_in(self, norm: NormalizedText, segmenter: JiebaSegmenter, lo: int, hi: int) -> list[tuple[int, int]]:
        text = norm.text
        spans: list[tuple[int, int]] = []
        excepted: _Spans | None = None
        for pattern in self.patterns:
            for m in pattern.regex.finditer(text, lo, hi):
                start, end = m.span()
                if start == end or not self._position_ok(norm, start, end):
                    continue
                if self.boundary == "word" and not self._whole_words(norm, segmenter, start, end):
                    continue
                if self.excepts:
                    screen = self.except_screen
                    if excepted is None and screen is not None and screen.search(text, lo, hi) is None:
                        excepted = _NO_SPANS
                    if excepted is None:
                        excepted = _Spans(
                            found.span()
                            for p in self.excepts
                            for found in p.regex.finditer(text, lo, hi)
                            if found.end() > found.start()
                        )
                    if excepted.overlaps(start - self.except_window, end + self.except_window):
                        continue
                if self.unless and self._in_cancelling_context(norm, start, end):
                    continue
                spans.append((start, end))
        return spans

    def _in_cancelling_context(self, norm: NormalizedText, start: int, end: int) -> bool:
        """Whether one of the rule's ``unless`` contexts stands around the match, read on the
        original words of its utterance (punctuation tells sentences and clauses apart there).

        The utterance is normalised again on its own (cached) to map the match back: the joined
        text's offset map would cost more than all the rules (it is built over the whole call)."""
        assert self.contexts is not None
        text = norm.text
        if UTTERANCE_BREAK not in text:  # one utterance (an example, a corpus line)
            o_start, o_end = norm.to_original(start, end)
            return self.contexts.first_holding(self.unless, norm.original, o_start, o_end) is not None
        lo = text.rfind(UTTERANCE_BREAK, 0, start) + 1
        utterance, _ = norm.original_line(start)
        o_start, o_end = _normalized(utterance).to_original(start - lo, end - lo)
        return self.contexts.first_holding(self.unless, utterance, o_start, o_end) is not None

    @staticmethod
    def _whole_words(norm: NormalizedText, segmenter: JiebaSegmenter, start: int, end: int) -> bool:
        lo, hi = norm.utterance_bounds(start)
        return segmenter.on_boundaries(norm.text[lo:hi], start - lo, end - lo)

    def _position_ok(self, norm: NormalizedText, start: int, end: int) -> bool:
        if self.position == "anywhere":
            return True
        if start not in norm.clause_starts:
            return False
        return self.position == "clause_start" or end == norm.clause_end(start)

    def fires_on(self, example: Any, segmenter: JiebaSegmenter) -> bool:
        return bool(self.matches(normalize(str(example)), segmenter))


class _Spans:
    """Exception spans of a region, answering "does any overlap [lo, hi)?" by bisection: 好 and 请
    occur dozens of times a call, each asking against every exception span found."""

    __slots__ = ("starts", "max_ends")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [s for s, _ in ordered]
        self.max_ends: list[int] = []
        top = -1
        for _, e in ordered:
            top = max(top, e)
            self.max_ends.append(top)

    def overlaps(self, lo: int, hi: int) -> bool:
        k = bisect_left(self.starts, hi)  # spans starting before hi
        return k > 0 and self.max_ends[k - 1] > lo


_NO_SPANS = _Spans(())

# Utterances whose matches ask for a context, normalised on their own: the same turn is asked
# about by several rules, and call-centre turns repeat.
_normalized = lru_cache(maxsize=4096)(normalize)


def _alternation(patterns: tuple[CompiledPattern, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.regex.pattern})" for p in patterns))


# Clause edges written into the regex itself, so that a clause_start rule anchored on a common
# character (不) is not checked in Python at every occurrence: "not preceded (followed) by
# anything but a clause or utterance break", true at the text's ends too.
_AT_CLAUSE_START = f"(?<![^{re.escape(CLAUSE_BREAK)}{UTTERANCE_BREAK}])"
_AT_CLAUSE_END = f"(?![^{re.escape(CLAUSE_BREAK)}{UTTERANCE_BREAK}])"


def _at_position(pattern: CompiledPattern, position: str) -> CompiledPattern:
    """The pattern with its ``position`` built in (the rule still checks it: this only narrows)."""
    if position == "anywhere":
        return pattern
    end = _AT_CLAUSE_END if position == "whole_clause" else ""
    regex = re.compile(f"{_AT_CLAUSE_START}(?:{pattern.regex.pattern}){end}")
    return replace(pattern, regex=regex)


def _merge_overlaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Keep the first of overlapping matches (the patterns' own order decides), sorted by position."""
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if kept and start < kept[-1][1]:
            continue
        kept.append((start, end))
    return kept


@dataclass(frozen=True, slots=True)
class PoliteRule(PhraseRule):
    """A polite term (文明用语) counted as a word in the agent's speech; it never costs points."""

    kind: ClassVar[str] = "polite"
    categories: ClassVar[tuple[str, ...]] = ("polite",)
    # Counted as said, never read by sound: a polite word is not charged, and not guessed either.
    keys: ClassVar[tuple[str, ...]] = tuple(k for k in PhraseRule.keys if k != "pinyin")

    def anchors(self) -> frozenset[str] | None:
        """None: always counted over the whole text. Polite words (您, 请, 好) are in nearly every
        turn; as prefilter anchors they made most of the automaton's reports, each a Python step,
        for no saving — the count needs every occurrence anyway."""
        return None

    def evaluate(self, view: CallView) -> Evaluation:
        """The number of times the term is said, under the rule's name; never a finding. (Counted on
        the joined text: mapping each of a call's many polite words back to its utterance would
        cost more than all the other rules together.)"""
        count = 0
        for speaker in self.speakers:
            joined = view.joined.get(speaker)
            if joined is not None and view.is_candidate(speaker, self.info.id):
                count += len(self.matches(joined.norm, view.segmenter, view.regions(speaker, self.info.id)))
        return Evaluation(polite={self.info.name: count}) if count else NOTHING
