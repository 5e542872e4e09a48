"""What every rule kind shares: its identity, its spec parsing, the view of a call it reads, and the
one shape of its answer.

Every kind implements the ``Rule`` protocol: ``evaluate(view) -> Evaluation``. The engine calls
each rule the same way and merges what comes back (findings, mandatory-line checks, polite-term
counts); it never asks which class a rule is. Adding a kind is one class and one entry in
``RULE_KINDS``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from qc.inspection.context import Contexts
from qc.inspection.pattern import CompiledPattern, PatternError, compile_pattern
from qc.inspection.profile import fill_placeholders
from qc.inspection.sound import LEVELS, SoundCall
from qc.schema import CATEGORIES, SPEAKERS, Check, Transcript, Utterance
from qc.text.normalize import (
    CLAUSE_BREAK,
    UTTERANCE_BREAK,
    JoinedText,
    NormalizedText,
    normalize,
    normalize_joined,
    speech_length,
)
from qc.text.words import JiebaSegmenter


class RuleSpecError(ValueError):
    """A rule's YAML is invalid. The loader adds the file, line and rule id; ``messages`` holds one
    line per problem, so every bad pattern of a rule is reported, not only the first."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """Identity and provenance of a rule, identical for every kind."""

    id: str
    name: str
    category: str
    source: str | None
    suggestion: str | None
    file: str
    line: int | None
    # The 考评项 the rule's findings count against, when not its category's (scorecard.yaml items).
    item: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A rule firing on a call, before the scorecard prices it."""

    rule: RuleInfo
    utterance: int | None
    span: tuple[int, int] | None = None  # in the utterance's normalised text
    detail: str | None = None
    start: float | None = None  # override the utterance times (silence gaps)
    end: float | None = None
    quote: tuple[int, int] | None = None  # the span in the utterance's original text, when known
    status: str = "confirmed"  # "suspected": found by the learned layer or by sound, costs nothing until reviewed
    confidence: float = 1.0
    # Found by sound in a recognised transcript (qc.inspection.sound): the recognised words and the
    # same words as read ("您朝领导去" read as "您找领导去"). None for exact matches.
    heard: str | None = None
    read_as: str | None = None


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one rule found in one call: findings to price, checks for the result's ``checks``
    (opening, closing…), and polite-term counts. Most rules return ``NOTHING``."""

    findings: tuple[Finding, ...] = ()
    checks: Mapping[str, Check] = field(default_factory=dict)
    polite: Mapping[str, int] = field(default_factory=dict)


NOTHING = Evaluation()

# Spans of a speaker's joined normalised text (whole utterances) where a rule's anchors occur.
Regions = tuple[tuple[int, int], ...]


class CallView:
    """A transcript plus what rules share: each speaker's turns joined and normalised (phrase
    rules), single utterances normalised on demand (script and timing rules), the segmenter, and
    per speaker the phrase rules whose anchor literals occur, each with the utterances where they
    do (the engine's prefilter; ``None`` means "not prefiltered: try every rule everywhere", as
    for examples)."""

    __slots__ = (
        "transcript", "joined", "agent_turns", "segmenter", "candidates", "truncated", "sound", "findings", "_norms",
        "_lengths", "_parts", "_timed", "_more_joined"
    )  # fmt: skip

    def __init__(
        self,
        transcript: Transcript,
        speakers: Iterable[str] = ("agent",),
        segmenter: JiebaSegmenter | None = None,
        candidates: Mapping[str, Mapping[str, Regions | None]] | None = None,
    ) -> None:
        self.transcript = transcript
        self.segmenter = segmenter or _DEFAULT_SEGMENTER
        self.candidates = candidates
        # Readings by sound (qc.inspection.sound): set by the engine for a recognised transcript only.
        self.sound: SoundCall | None = None
        # The other rules' findings, for rules that count them (``after_findings``); set by the engine.
        self.findings: tuple[Finding, ...] = ()
        asr = transcript.asr or {}
        self.truncated = bool(asr.get("truncated"))
        utts = transcript.utterances
        self.joined: dict[str, JoinedText] = {}
        for speaker in speakers:
            idx = [i for i, u in enumerate(utts) if u.speaker == speaker]
            if idx:
                self.joined[speaker] = normalize_joined([utts[i].text for i in idx], idx)
        self.agent_turns = [i for i, u in enumerate(utts) if u.speaker == "agent"]
        self._norms: dict[int, NormalizedText] = {}
        self._lengths: dict[int, int] | None = None
        self._parts: dict[int, tuple[JoinedText, int]] | None = None
        self._timed: list[int] | None = None
        self._more_joined: dict[str, JoinedText] = {}  # joined_of for speakers not joined up front

    def joined_of(self, speaker: str) -> JoinedText:
        """The speaker's utterances normalised as one text (the agent's, and any speaker a phrase rule
        reads, are joined up front; others on first use): a rule that looks for a few patterns in
        every customer turn reads one text once instead of calling a regex per turn."""
        joined = self.joined.get(speaker) or self._more_joined.get(speaker)
        if joined is None:
            utts = self.transcript.utterances
            idx = [i for i, u in enumerate(utts) if u.speaker == speaker]
            joined = self._more_joined[speaker] = normalize_joined([utts[i].text for i in idx], idx)
        return joined

    def norm(self, index: int) -> NormalizedText:
        cached = self._norms.get(index)
        if cached is None:
            cached = self._norms[index] = normalize(self.transcript.utterances[index].text)
        return cached

    def norm_length(self, index: int) -> int:
        """Spoken characters of the utterance after normalisation (from the joined text when there is one)."""
        if self._lengths is None:
            self._lengths = {}
            for joined in self.joined.values():
                parts = joined.norm.text.split(UTTERANCE_BREAK)
                self._lengths.update(
                    (i, len(part) - part.count(CLAUSE_BREAK)) for i, part in zip(joined.indices, parts, strict=True)
                )
        length = self._lengths.get(index)
        return length if length is not None else speech_length(self.norm(index).text)

    def norm_text(self, index: int) -> str:
        """The utterance's normalised text, cut from its speaker's joined text when there is one."""
        if self._parts is None:
            self._parts = {i: (j, k) for j in self.joined.values() for k, i in enumerate(j.indices)}
        part = self._parts.get(index)
        return part[0].part_text(part[1]) if part is not None else self.norm(index).text

    def timed(self) -> list[int]:
        """Indices of the utterances with both times, in order of start (timing rules share it)."""
        if self._timed is None:
            utts = self.transcript.utterances
            timed = [i for i, u in enumerate(utts) if u.start is not None and u.end is not None]
            starts = [utts[i].start for i in timed]
            if any(b < a for a, b in zip(starts, starts[1:], strict=False)):  # type: ignore[operator]
                timed.sort(key=lambda i: utts[i].start)  # type: ignore[arg-type,return-value]
            self._timed = timed
        return self._timed

    def is_candidate(self, speaker: str, rule_id: str) -> bool:
        return self.candidates is None or rule_id in self.candidates.get(speaker, ())

    def regions(self, speaker: str, rule_id: str) -> Regions | None:
        """Where in the speaker's joined text the rule's anchors occur (None: read it all)."""
        if self.candidates is None:
            return None
        return self.candidates.get(speaker, {}).get(rule_id)


_DEFAULT_SEGMENTER = JiebaSegmenter()


class Rule(Protocol):
    """The one protocol every rule kind implements (see the module docstring)."""

    kind: ClassVar[str]
    info: RuleInfo
    examples_hit: tuple[Any, ...]
    examples_miss: tuple[Any, ...]

    def evaluate(self, view: CallView) -> Evaluation:
        """Everything this rule finds in the call."""
        ...

    def fires_on(self, example: Any, segmenter: JiebaSegmenter) -> bool:
        """Whether one of the rule's own examples (a sentence, or a timed snippet) triggers it."""
        ...

    def anchors(self) -> frozenset[str] | None:
        """Literals one of which must occur in a speaker's text for ``evaluate`` to find anything
        there (the prefilter); None: the rule does not read phrases, or must always be tried."""
        ...

    def word_literals(self) -> Sequence[str]:
        """Phrases the segmenter must keep as one word."""
        ...


@dataclass(frozen=True, slots=True)
class Definitions:
    """What a rule may refer to by name: synonym groups (``{领导}`` in a pattern, synonyms.yaml) and
    word-level contexts (``unless: [转述]``, contexts.yaml)."""

    groups: Mapping[str, tuple[str, ...]]
    contexts: Contexts = field(default_factory=lambda: Contexts({}))
    # From the profile (qc.inspection.profile): the script lines by name, the name ``{公司}`` in an
    # example becomes, and the 工号 patterns.
    lines: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    company_example: str = "中通速递"
    job_number: tuple[str, ...] = ()


class SpecReader:
    """Reads one rule's mapping, rejecting unknown keys and wrong types with a clear message."""

    COMMON = ("id", "name", "kind", "category", "item", "source", "suggestion", "examples", "cross_clauses", "__line__")

    def __init__(self, spec: Mapping[str, Any], allowed: Sequence[str], defs: Definitions):
        unknown = sorted(set(spec) - set(self.COMMON) - set(allowed))
        if unknown:
            raise RuleSpecError(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        self.spec = spec
        self.groups = defs.groups
        self.defs = defs

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        if key not in self.spec or self.spec[key] is None:
            if required:
                raise RuleSpecError(f"'{key}' is required")
            return default
        value = self.spec[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise RuleSpecError(f"'{key}' must be {_type_name(kind)}, got {value!r}")
        return value

    def choice(self, key: str, options: Sequence[str], default: str) -> str:
        value = self.get(key, str, default)
        if value not in options:
            raise RuleSpecError(f"'{key}' must be one of {', '.join(options)}, got {value!r}")
        return value

    def number(self, key: str, default: float | None = None, required: bool = False, minimum: float = 0) -> float:
        value = self.get(key, float, default, required)
        if value is not None and value < minimum:
            raise RuleSpecError(f"'{key}' must be at least {minimum}, got {value}")
        return value

    def patterns(self, key: str, max_gap: int = 8, required: bool = True) -> tuple[CompiledPattern, ...]:
        raw = self.get(key, list, [] if not required else None, required)
        if required and not raw:
            raise RuleSpecError(f"'{key}' is empty")
        cross = self.get("cross_clauses", bool, False)
        out, errors = [], []
        for text in raw:
            try:
                out.append(compile_pattern(text, self.groups, max_gap, cross))
            except PatternError as err:
                errors.append(f"pattern {text!r} in '{key}': {err}")
        if errors:
            raise RuleSpecError(*errors)
        return tuple(out)

    def pinyin(self) -> int | str | None:
        """The rule's ``pinyin`` setting: "off", a level of LEVELS, or None (the lexicon's default)."""
        return parse_pinyin(self.spec.get("pinyin"), "'pinyin'")

    def context_names(self, key: str) -> tuple[str, ...]:
        """Names of contexts.yaml entries, each checked to exist."""
        raw = self.get(key, list, [])
        names = tuple(str(n) for n in raw)
        unknown = [n for n in names if n not in self.defs.contexts.contexts]
        if unknown:
            known = ", ".join(self.defs.contexts.contexts) or "none defined"
            raise RuleSpecError(f"'{key}': unknown context(s) {', '.join(unknown)} (contexts.yaml: {known})")
        return names

    def speakers(self, default: tuple[str, ...] = ("agent",)) -> tuple[str, ...]:
        raw = self.get("speaker", (str, list), None)
        if raw is None:
            return default
        values = (raw,) if isinstance(raw, str) else tuple(raw)
        bad = [v for v in values if v not in SPEAKERS]
        if bad:
            raise RuleSpecError(f"'speaker' must be among {', '.join(SPEAKERS)}, got {bad}")
        return values

    def info(self, file: str, category_choices: Sequence[str] = CATEGORIES) -> RuleInfo:
        rule_id = self.get("id", str, required=True)
        if not re.fullmatch(r"[A-Z]+-[0-9A-Z]+(?:-[0-9A-Z]+)*", rule_id):
            raise RuleSpecError(f"id {rule_id!r} must look like BAN-001 (capitals, digits, hyphens)")
        category = self.get("category", str, required=True)
        if category not in category_choices:
            raise RuleSpecError(f"category must be one of {', '.join(category_choices)}, got {category!r}")
        return RuleInfo(
            id=rule_id,
            name=self.get("name", str, required=True),
            category=category,
            source=self.get("source", str),
            suggestion=self.get("suggestion", str),
            file=file,
            line=self.spec.get("__line__"),
            item=self.get("item", str),
        )

    def examples(self, spec: Mapping[str, Any] | None = None) -> tuple[list[Any], list[Any]]:
        """The must-hit and must-not-hit examples (of the rule, or of ``spec``), ``{公司}`` filled in."""
        ex = self.get("examples", dict, required=True) if spec is None else spec.get("examples")
        if not isinstance(ex, dict):
            raise RuleSpecError("'examples' must be a mapping with 'hit' and 'miss'")
        unknown = set(ex) - {"hit", "miss", "__line__"}
        if unknown:
            raise RuleSpecError(f"examples: unknown key(s) {sorted(unknown)}; use hit and miss")
        hits, misses = ex.get("hit") or [], ex.get("miss") or []
        if not isinstance(hits, list) or not isinstance(misses, list) or not hits or not misses:
            raise RuleSpecError("examples need at least one 'hit' and one 'miss'")
        company = self.defs.company_example
        return fill_placeholders(hits, company), fill_placeholders(misses, company)


def parse_pinyin(value: Any, name: str) -> int | str | None:
    """``pinyin: off|0|1|2`` (YAML reads a bare off as false): "off", a level, or None when absent."""
    if value is None:
        return None
    if value is False or value == "off":
        return "off"
    if isinstance(value, int) and not isinstance(value, bool) and value in LEVELS:
        return value
    raise RuleSpecError(f"{name} must be off or one of {', '.join(map(str, LEVELS))}, got {value!r}")


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "text",
        float: "a number",
        int: "a whole number",
        list: "a list",
        dict: "a mapping",
        bool: "true or false",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


_SNIPPET_LINE = re.compile(r"^\s*(agent|customer|unknown)\s+(?:([0-9.]+)\s*-\s*([0-9.]+)\s+)?(.*)$")


def parse_snippet(lines: Any) -> Transcript:
    """A dialogue example: a list of 'speaker [start-end] text' lines, e.g. 'agent 0-3.5 您好' or
    'customer 我想查个快递' (times may be left out where a rule does not read them)."""
    if not isinstance(lines, list) or not lines:
        raise RuleSpecError(f"a dialogue example must be a list of 'speaker [start-end] text' lines, got {lines!r}")
    utts = []
    for line in lines:
        m = _SNIPPET_LINE.match(str(line))
        if not m:
            raise RuleSpecError(f"example line {line!r} is not 'speaker [start-end] text'")
        start, end = (float(m.group(2)), float(m.group(3))) if m.group(2) else (None, None)
        utts.append(Utterance(m.group(1), m.group(4), start, end))  # type: ignore[arg-type]
    return Transcript(call_id="example", agent_id="example", utterances=tuple(utts))


def iter_matches(pattern: CompiledPattern, text: str) -> Iterator[tuple[int, int]]:
    for m in pattern.regex.finditer(text):
        if m.end() > m.start():
            yield m.span()
