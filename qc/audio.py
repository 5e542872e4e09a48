"""Decode call recordings with PyAV (bundled FFmpeg: no system ffmpeg needed), one array per role.

Call-centre recordings are usually stereo with the agent on one channel and the customer on the
other; splitting the channels is exact diarization for free. WAV (PCM, A-law, µ-law) and MP3 at
8 or 16 kHz all go through the same decoder, resampled to the 16 kHz Whisper expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from faster_whisper.audio import decode_audio

from qc.errors import AudioError

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".amr"})
SAMPLE_RATE = 16000
MAX_SECONDS = 3 * 3600  # a longer file is refused rather than filling memory (3 h ≈ 690 MB as float32)


@dataclass(frozen=True, slots=True)
class Recording:
    """Decoded audio: one float32 array per channel at 16 kHz, and what the file said about itself."""

    path: str
    channels: tuple[np.ndarray, ...]
    duration: float
    source_rate: int
    codec: str


def probe(path: str | Path) -> tuple[int, int, str, float]:
    """(channels, sample rate, codec, seconds) of the first audio stream; AudioError if none."""
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: no audio stream (not a recording?)")
            stream = container.streams.audio[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
            if not seconds and container.duration:
                seconds = container.duration / 1_000_000
            return stream.channels, stream.rate or 0, stream.codec_context.name, seconds
    except AudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise AudioError(f"{path}: cannot read as audio ({_reason(err)})") from None


def _reason(err: Exception) -> str:
    text = str(err)
    return text.split(": '", 1)[0] if text else type(err).__name__


def load_recording(path: str | Path) -> Recording:
    """Decode a recording; raises AudioError with the file and a plain reason."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    channels, rate, codec, seconds = probe(path)
    if seconds > MAX_SECONDS:
        raise AudioError(f"{path}: {seconds / 3600:.1f} h long; split recordings over {MAX_SECONDS // 3600} h")
    try:
        if channels >= 2:
            left, right = decode_audio(str(path), sampling_rate=SAMPLE_RATE, split_stereo=True)
            arrays: tuple[np.ndarray, ...] = (left, right)
        else:
            arrays = (decode_audio(str(path), sampling_rate=SAMPLE_RATE),)
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise AudioError(f"{path}: cannot decode {codec} audio ({_reason(err)})") from None
    if not len(arrays[0]):
        raise AudioError(f"{path}: no audio samples could be decoded (truncated or corrupt?)")
    return Recording(str(path), arrays, len(arrays[0]) / SAMPLE_RATE, rate, codec)


def is_silent(samples: np.ndarray, threshold_db: float = -50.0) -> bool:
    """True when the channel never rises above ``threshold_db`` dBFS (RMS over 0.1 s windows)."""
    if not len(samples):
        return True
    window = SAMPLE_RATE // 10
    usable = samples[: len(samples) // window * window] if len(samples) >= window else samples
    frames = usable.reshape(-1, window) if len(usable) >= window else usable[None, :]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return bool(20 * np.log10(rms.max() + 1e-12) < threshold_db)
