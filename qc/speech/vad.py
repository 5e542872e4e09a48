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
    options = VadOptions(
        threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=0, max_speech_duration_s=max_seconds
    )
    chunks = [
        (a + chunk["start"] / SAMPLE_RATE, a + chunk["end"] / SAMPLE_RATE)
        for a, b in _pieces(samples)
        for chunk in get_speech_timestamps(samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)], options)
    ]
    units: list[SpeechUnit] = []
    for start, end in chunks:
        if units and start - units[-1].end < unit_gap and end - units[-1].start <= max_seconds:
            units[-1] = SpeechUnit(units[-1].start, end, (*units[-1].chunks, (start, end)))
        else:
            units.append(SpeechUnit(start, end, ((start, end),)))
    return units


_BLOCK = 0.1  # seconds
# Silero VAD carries its state from one window to the next, and after a long stretch of near-digital
# silence (an agent's 38 s hold on a clean recording) it stopped hearing loud speech for half a minute
# (test call zt-036: nothing found from 63 to 92 s; found at once when VAD starts after the hold). So
# VAD starts afresh after every quiet stretch of this length, and at least every PIECE_SECONDS.
QUIET_SECONDS = 1.0
PIECE_SECONDS = 60.0


def _pieces(samples: np.ndarray) -> list[tuple[float, float]]:
    """The channel cut at the end of its quiet stretches (0.1 s blocks whose level is under 2 % of the
    channel's loud level; half a second before the sound returns), and at the quietest block of any
    piece longer than PIECE_SECONDS."""
    seconds = len(samples) / SAMPLE_RATE
    n = int(len(samples) // int(_BLOCK * SAMPLE_RATE))
    if n < 2:
        return [(0.0, seconds)]
    blocks = samples[: n * int(_BLOCK * SAMPLE_RATE)].reshape(n, -1)
    level = np.sqrt((blocks.astype(np.float64) ** 2).mean(axis=1))
    quiet = level < max(0.02 * float(np.percentile(level, 95)), 1e-5)
    cuts: list[float] = []
    run = 0
    for i, q in enumerate(np.append(quiet, False)):
        if q:
            run += 1
            continue
        if run * _BLOCK >= QUIET_SECONDS:  # just before the sound comes back: the piece opens on speech
            cuts.append(max((i - run / 2) * _BLOCK, (i - 5) * _BLOCK))
        run = 0
    edges = [0.0, *cuts, seconds]
    out: list[tuple[float, float]] = []
    for a, b in zip(edges, edges[1:], strict=False):
        while b - a > PIECE_SECONDS:  # a long stretch without pauses: cut at its quietest block
            lo, hi = int((a + PIECE_SECONDS / 2) / _BLOCK), int((a + PIECE_SECONDS) / _BLOCK)
            cut = (lo + int(np.argmin(level[lo:hi]))) * _BLOCK + _BLOCK / 2
            out.append((a, cut))
            a = cut
        out.append((a, b))
    return out


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


def split_at_replies(units: list[SpeechUnit], other: list[SpeechUnit]) -> list[SpeechUnit]:
    """Stereo: a unit cut at each pause between its chunks in which the other channel spoke (began
    after the chunk before the pause began, and stopped before the chunk after it): that is a turn
    exchange — 我想改地址 | 单号多少？| 七五二八… — not a pause inside one turn."""
    spoken = [c for u in other for c in u.chunks]
    out: list[SpeechUnit] = []
    for unit in units:
        parts: list[list[tuple[float, float]]] = [[unit.chunks[0]]]
        for before, after in zip(unit.chunks, unit.chunks[1:], strict=False):
            if any(before[0] < a and b <= after[0] for a, b in spoken):
                parts.append([])
            parts[-1].append(after)
        out += [SpeechUnit(p[0][0], p[-1][1], tuple(p)) for p in parts]
    return out
