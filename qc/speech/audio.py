"""Decode call recordings with PyAV (bundled FFmpeg: no system ffmpeg needed), one array per role.

Call-centre recordings are usually stereo with the agent on one channel and the customer on the
other; splitting the channels is exact diarization for free. WAV (PCM, A-law, µ-law) and MP3 at
8 or 16 kHz all go through the same decoder, resampled to the 16 kHz Whisper expects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from qc.errors import AudioError

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".amr"})
SAMPLE_RATE = 16000
CHUNK_SECONDS = 600  # long recordings are decoded and recognised 10 minutes at a time: memory stays bounded


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
    if Path(path).is_file() and Path(path).stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
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
    """Decode a whole (short) recording; raises AudioError with the file and a plain reason."""
    channels, rate, codec, _seconds = probe(_existing(path))
    pieces = [chans for _offset, chans in iter_chunks(path)]
    arrays = tuple(np.concatenate([p[c] for p in pieces]) for c in range(len(pieces[0])))
    return Recording(str(path), arrays, len(arrays[0]) / SAMPLE_RATE, rate, codec)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    return path


def iter_chunks(path: str | Path, seconds: float = CHUNK_SECONDS) -> Iterator[tuple[float, tuple[np.ndarray, ...]]]:
    """Decode a recording piece by piece: (offset in seconds, one 16 kHz array per channel).

    At most ``seconds`` of audio is held at a time, so an hours-long recording needs no more
    memory than a ten-minute one.
    """
    path = _existing(path)
    channels, _rate, codec, _ = probe(path)
    layout = "stereo" if channels >= 2 else "mono"
    width = 2 if channels >= 2 else 1
    limit = int(seconds * SAMPLE_RATE) * width
    resampler = av.audio.resampler.AudioResampler(format="s16", layout=layout, rate=SAMPLE_RATE)
    pending: list[np.ndarray] = []
    held = 0
    offset = 0.0
    produced = False

    def flush(buffer: np.ndarray) -> tuple[float, tuple[np.ndarray, ...]]:
        audio = buffer.astype(np.float32) / 32768.0
        return offset, (audio[0::2], audio[1::2]) if width == 2 else (audio,)

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    pending.append(out.to_ndarray().reshape(-1))
                    held += pending[-1].size
                    while held >= limit:
                        buffer = np.concatenate(pending)
                        yield flush(buffer[:limit])
                        produced = True
                        offset += seconds
                        rest = buffer[limit:]
                        pending, held = [rest], rest.size
            for out in resampler.resample(None):
                pending.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, OSError, ValueError) as err:
        if not produced and not pending:
            raise AudioError(f"{path}: cannot decode {codec} audio ({_reason(err)})") from None
        # a truncated tail: keep what decoded
    tail = np.concatenate(pending) if pending else np.zeros(0, np.int16)
    if tail.size:
        yield flush(tail)
    elif not produced:
        raise AudioError(f"{path}: no audio samples could be decoded (truncated or corrupt?)")


def is_silent(samples: np.ndarray, threshold_db: float = -50.0) -> bool:
    """True when the channel never rises above ``threshold_db`` dBFS (RMS over 0.1 s windows)."""
    if not len(samples):
        return True
    window = SAMPLE_RATE // 10
    usable = samples[: len(samples) // window * window] if len(samples) >= window else samples
    frames = usable.reshape(-1, window) if len(usable) >= window else usable[None, :]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return bool(20 * np.log10(rms.max() + 1e-12) < threshold_db)
