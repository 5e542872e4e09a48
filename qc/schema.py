"""Data passed between stages: frozen, slotted dataclasses.

The transcript mirrors SPEC §1; the result mirrors SPEC §2. Modelled on faster-whisper's
``Segment``/``TranscriptionInfo``: the settings that produced a transcript travel with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

Speaker = Literal["agent", "customer", "unknown"]
SPEAKERS: tuple[str, ...] = ("agent", "customer", "unknown")

Category = Literal[
    "banned",
    "nonstandard",
    "filler",
    "negative",
    "opening",
    "closing",
    "silence",
    "interruption",
    "speech_rate",
    "process",
]
CATEGORIES: tuple[str, ...] = get_args(Category)


@dataclass(frozen=True, slots=True)
class Utterance:
    """One turn of one speaker. Times are seconds from the start of the recording."""

    speaker: Speaker
    text: str
    start: float | None = None
    end: float | None = None
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


@dataclass(frozen=True, slots=True)
class Transcript:
    """One call (SPEC §1)."""

    call_id: str
    agent_id: str
    utterances: tuple[Utterance, ...]
    agent_name: str | None = None
    started_at: str | None = None
    source: str | None = None
    audio: str | None = None
    asr: dict[str, object] | None = None
    roles: dict[str, object] | None = None

    @property
    def recognised(self) -> bool:
        """Produced from a recording by speech recognition (it has ``asr`` settings or an ``audio``
        path), so its words may be near-homophones of what was said; typed text has neither."""
        return self.asr is not None or self.audio is not None


@dataclass(frozen=True, slots=True)
class Hit:
    """One violation, with everything an inspector needs to defend the lost points."""

    rule_id: str
    category: str
    name: str
    speaker: str
    utterance: int | None
    start: float | None
    end: float | None
    text: str
    context: str
    suggestion: str | None
    deduction: float
    veto: bool
    source: str | None = None
    detail: str | None = None
    hit_id: str = ""  # stable within the call while rule, utterance and quoted span stay: BAN-002@2:0-5
    status: str = "confirmed"  # confirmed (a rule matched) | suspected (learned layer, sound) | rejected (review)
    confidence: float = 1.0
    # Only for a hit found by sound in a recognised transcript (qc.inspection.sound), else None:
    heard: str | None = None  # the recognised words the hit quotes, as written: 您朝领导去
    read_as: str | None = None  # the same words as read to match the rule: 您找领导去


Status = Literal["confirmed", "suspected", "rejected"]


@dataclass(frozen=True, slots=True)
class Check:
    """Result of a mandatory-line check (opening, closing…). ``ok`` is None when the line could not
    be checked (the recording was truncated before the end): neither passed nor failed."""

    ok: bool | None
    utterance: int | None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ItemScore:
    """One 考评项's subtotal on a call: full marks, points lost, points kept."""

    weight: float
    lost: float
    score: float


@dataclass(frozen=True, slots=True)
class CallCategory:
    """What the customer called about (查件, 投诉, 计费争议…) and how qc knows: a rule of
    lexicons/categories.yaml that matched the customer's words, or the classifier."""

    name: str
    source: str  # "rule" | "model"
    rule_id: str | None = None
    evidence: str = ""
    confidence: float = 1.0


@dataclass(frozen=True, slots=True)
class CallResult:
    """The scored call (SPEC §2)."""

    call_id: str
    agent_id: str
    agent_name: str | None
    started_at: str | None
    ruleset: str
    score: float
    veto: bool
    checks: dict[str, Check]
    polite_count: int
    polite_terms: dict[str, int]
    hits: tuple[Hit, ...]
    warnings: tuple[str, ...] = ()
    source: str | None = None
    audio: str | None = None
    # The 考评项 subtotals (scorecard.yaml items), in the card's order; empty without items.
    items: dict[str, ItemScore] = field(default_factory=dict)
    categories: tuple[CallCategory, ...] = ()
