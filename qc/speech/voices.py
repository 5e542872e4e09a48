"""Who speaks on a mono recording, from the voice: two speakers told apart by simple acoustics.

The text classifier (qc.speech.roles) knows what agents and customers say, but a short 好的 or 对
says nothing about who said it, and customers sometimes sound like agents. The voice does: each
segment gets a small description of how it sounds — pitch (median F0 of its voiced frames), loudness
and spectral shape (mean and spread of log mel-band energies in the telephone band) — normalised
over the call so that the line and the handset cancel out. The call's segments are then split into
two groups (a two-component Gaussian mixture over the main directions of those features); the group
whose segments the text model finds more agent-like is the agent. No model is downloaded or trained:
the only learning is this per-call split, which is used only when two groups explain the call
clearly better than one (BIC) and the text agrees with the split on the whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
_FRAME, _HOP = 400, 160  # 25 ms frames every 10 ms
_BANDS = 24
_LOW_HZ, _HIGH_HZ = 250.0, 3400.0  # what survives a telephone line
_F0_RANGE = (70.0, 400.0)
# Segments shorter than this say too little about a voice to shape the split; they are still placed.
MIN_SECONDS_FOR_SPLIT = 0.8
PITCH_WEIGHT = 2.0
# Fewer segments long enough to describe a voice than this, and the call is not split by voice.
MIN_SEGMENTS = 4


@dataclass(frozen=True, slots=True)
class VoiceSplit:
    """Per segment, the probability that the agent's voice said it; ``margin`` is how much better
    two voices explain the call than one (BIC difference per segment; larger is clearer)."""

    p_agent: tuple[float, ...]
    margin: float


def _mel_filters() -> np.ndarray:
    def mel(f: np.ndarray) -> np.ndarray:
        return 2595 * np.log10(1 + f / 700)

    def hz(m: np.ndarray) -> np.ndarray:
        return 700 * (10 ** (m / 2595) - 1)

    edges = hz(np.linspace(mel(np.array(_LOW_HZ)), mel(np.array(_HIGH_HZ)), _BANDS + 2))
    freqs = np.fft.rfftfreq(_FRAME, 1 / SAMPLE_RATE)
    bank = np.zeros((_BANDS, len(freqs)))
    for b in range(_BANDS):
        lo, mid, hi = edges[b : b + 3]
        bank[b] = np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
    return bank


_MEL = _mel_filters()
_WINDOW = np.hanning(_FRAME)


def segment_features(samples: np.ndarray, start: float, end: float) -> np.ndarray | None:
    """How one stretch of a channel sounds: [log F0, mean log-mel shape ×24 (each frame's bands
    minus its mean, so loudness drops out)], from its louder (speech) frames; None when it is too
    short to say anything."""
    x = samples[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)].astype(np.float64)
    if len(x) < _FRAME * 4:
        return None
    count = 1 + (len(x) - _FRAME) // _HOP
    frames = np.lib.stride_tricks.sliding_window_view(x, _FRAME)[::_HOP][:count] * _WINDOW
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    logmel = np.log(power @ _MEL.T + 1e-10)
    energy = logmel.mean(axis=1)
    loud = energy >= np.median(energy)
    if loud.sum() < 3:
        return None
    f0 = _pitch(frames[loud])
    voiced = f0[f0 > 0]
    log_f0 = float(np.log(np.median(voiced))) if len(voiced) >= 3 else np.nan
    shape = logmel[loud] - energy[loud, None]  # spectral shape apart from loudness
    return np.concatenate([[log_f0], shape.mean(axis=0)])


def _pitch(frames: np.ndarray) -> np.ndarray:
    """F0 per frame by autocorrelation (0 where the frame is not clearly periodic)."""
    lo, hi = int(SAMPLE_RATE / _F0_RANGE[1]), int(SAMPLE_RATE / _F0_RANGE[0])
    spectrum = np.fft.rfft(frames - frames.mean(axis=1, keepdims=True), n=2 * _FRAME, axis=1)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, axis=1)[:, :_FRAME]
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lag = lo + np.argmax(ac[:, lo:hi], axis=1)
    strength = ac[np.arange(len(ac)), lag]
    return np.where(strength > 0.45, SAMPLE_RATE / lag, 0.0)


def split_voices(
    feats: Sequence[np.ndarray | None], seconds: Sequence[float], p_text: Sequence[float]
) -> VoiceSplit | None:
    """Two voices over a mono call's segments (``segment_features`` of each, and its length),
    oriented by the text model's ``p_text`` (P(agent) per segment); None when the call does not
    clearly hold two voices or the text does not say which is the agent."""
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    rows = [i for i, f in enumerate(feats) if f is not None]
    long_rows = [i for i in rows if seconds[i] >= MIN_SECONDS_FOR_SPLIT]
    if len(long_rows) < MIN_SEGMENTS:
        return None
    matrix = np.array([feats[i] for i in rows])
    col_mean = np.nanmean(matrix, axis=0)
    matrix = np.where(np.isnan(matrix), col_mean, matrix)  # unvoiced segments: the call's mean pitch
    matrix = (matrix - matrix.mean(axis=0)) / (matrix.std(axis=0) + 1e-6)
    fit_rows = [rows.index(i) for i in long_rows]
    # pitch tells sexes and most voices apart; the bands' main direction adds timbre
    shape = PCA(n_components=2, random_state=0).fit(matrix[fit_rows][:, 1:])
    reduced = np.column_stack([matrix[:, :1] * PITCH_WEIGHT, shape.transform(matrix[:, 1:])])
    one = GaussianMixture(1, covariance_type="diag", random_state=0).fit(reduced[fit_rows])
    two = GaussianMixture(2, covariance_type="diag", random_state=0, n_init=3).fit(reduced[fit_rows])
    margin = (one.bic(reduced[fit_rows]) - two.bic(reduced[fit_rows])) / len(fit_rows)
    if margin <= 0.5:
        return None
    member = two.predict_proba(reduced)[:, 0]
    logit = np.log(np.clip(np.asarray([p_text[i] for i in rows]), 0.02, 0.98))
    logit -= np.log(np.clip(1 - np.asarray([p_text[i] for i in rows]), 0.02, 0.98))
    agreement = float(np.sum(logit * (2 * member - 1)))  # > 0: component 0 sounds like the agent's text
    if abs(agreement) < 1.0:
        return None
    p_agent_rows = member if agreement > 0 else 1 - member
    p_agent = [0.5] * len(feats)
    for k, i in enumerate(rows):
        p_agent[i] = float(p_agent_rows[k])
    return VoiceSplit(tuple(p_agent), round(float(margin), 3))
