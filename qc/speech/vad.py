"""Where someone speaks on one channel: Silero VAD chunks grouped into speech units.

A unit is what Whisper recognises as one piece and what becomes one utterance: VAD chunks closer
than ``unit_gap`` belong together (a speaker's short pauses inside a sentence), a longer pause
starts a new unit. Recognising units one by one — instead of faster-whisper's default of joining
all speech and transcribing it as one stream — is what keeps every word inside the turn it was
spoken in: a Whisper segment can no longer run across a pause into the next turn (…为您服务，公 |
司是…). Unit times are the speech itself, without the padding the recogniser is given, so that
timing rules (interruptions, dead air) see when the speaker really spoke.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

SAMPLE_RATE = 16000
# Whisper reads 30 s windows; a unit and its padding must fit in one.
MAX_UNIT_SECONDS = 29.0


@dataclass(frozen=True, slots=True)
class SpeechUnit:
    """Seconds from the start of the channel: where speech begins and ends (no padding), and the
    VAD chunks inside it (pauses of ``min_silence_ms`` or more between them). On a mono recording
    the other speaker may answer within such a pause: the chunks are where the unit can be cut."""

    start: float
    end: float
    chunks: tuple[tuple[float, float], ...] = ()


def speech_units(
    samples: np.ndarray,
    *,
    threshold: float,
    min_silence_ms: int,
    unit_gap: float,
    max_seconds: float = MAX_UNIT_SECONDS,
) -> list[SpeechUnit]:
    """The channel's speech units, in time order. ``threshold`` is Silero's speech probability
    threshold (lower finds quieter, band-limited speech); chunks are split at ``min_silence_ms`` of
    silence and then joined again while the gap is below ``unit_gap`` seconds and the unit stays
    within ``max_seconds``."""
    chunks = get_speech_timestamps(
        samples,
        VadOptions(
            threshold=threshold,
            min_silence_duration_ms=min_silence_ms,
            speech_pad_ms=0,
            max_speech_duration_s=max_seconds,
        ),
    )
    units: list[SpeechUnit] = []
    for chunk in chunks:
        start, end = chunk["start"] / SAMPLE_RATE, chunk["end"] / SAMPLE_RATE
        if units and start - units[-1].end < unit_gap and end - units[-1].start <= max_seconds:
            units[-1] = SpeechUnit(units[-1].start, end, (*units[-1].chunks, (start, end)))
        else:
            units.append(SpeechUnit(start, end, ((start, end),)))
    return units


def whole_channel_units(seconds: float, max_seconds: float = MAX_UNIT_SECONDS) -> list[SpeechUnit]:
    """Without VAD: the channel cut into consecutive windows Whisper can read."""
    starts = np.arange(0.0, seconds, max_seconds)
    spans = [(float(s), float(min(seconds, s + max_seconds))) for s in starts]
    return [SpeechUnit(a, b, ((a, b),)) for a, b in spans]


def pack_units(
    units: list[SpeechUnit], pack_gap: float, max_seconds: float = MAX_UNIT_SECONDS
) -> list[list[SpeechUnit]]:
    """Consecutive units closer than ``pack_gap`` seconds, spanning at most ``max_seconds``, as one
    recognition window; ``pack_gap`` 0 gives each unit its own."""
    windows: list[list[SpeechUnit]] = []
    for unit in units:
        last = windows[-1] if windows else None
        if last and unit.start - last[-1].end < pack_gap and unit.end - last[0].start <= max_seconds:
            last.append(unit)
        else:
            windows.append([unit])
    return windows
