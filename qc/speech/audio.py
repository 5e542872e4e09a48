"""Decode call recordings with PyAV (bundled FFmpeg: no system ffmpeg needed), one array per role.

Call-centre recordings are usually stereo with the agent on one channel and the customer on the
other; splitting the channels is exact diarization for free. WAV (PCM, A-law, µ-law) and MP3 at
8 or 16 kHz all go through the same decoder, resampled to the 16 kHz Whisper expects.

A recording that ends early (a cut-off copy, a decode error mid-stream) is still decoded as far as it
goes, and the decoder says so (``Truncation``): scoring it as a complete but shorter call would charge
the agent for a closing line that was never recorded. Every failure is a RecordingError (both an
AudioError and an InputError: path and reason apart, picklable), ``<path>: <plain reason>`` — never
FFmpeg's numeric error codes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from qc.errors import AudioError, InputError
from qc.files import describe_os_error
from qc.speech.wavheader import wav_declared_seconds

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus", ".amr"})
SAMPLE_RATE = 16000
CHUNK_SECONDS = 600  # long recordings are decoded and recognised 10 minutes at a time: memory stays bounded
# Missing audio below this is codec padding or rounding, not a cut-off recording.
TRUNCATION_TOLERANCE = 0.5


class RecordingError(AudioError, InputError):
    """One recording cannot be decoded: an AudioError that carries ``path`` and ``reason`` apart, like
    every InputError, so a batch reports ``<path>: <reason>`` once and the error pickles unchanged."""


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a recording says about itself before it is decoded."""

    channels: int
    sample_rate: int
    codec: str
    declared_seconds: float | None  # the header's length (a WAV's data chunk), None where unknown


@dataclass(frozen=True, slots=True)
class Truncation:
    """A recording shorter than its header says, or whose decoding stopped on an error."""

    expected_seconds: float | None
    decoded_seconds: float

    def as_dict(self) -> dict[str, float | None]:
        return {"expected_seconds": self.expected_seconds, "decoded_seconds": self.decoded_seconds}


@dataclass
class DecodeStatus:
    """Filled in by ``iter_chunks`` as it goes: how much was decoded and why decoding stopped early."""

    samples: int = 0  # per channel, at 16 kHz
    error: str | None = None

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Recording:
    """Decoded audio: one float32 array per channel at 16 kHz, and what the file said about itself."""

    path: str
    channels: tuple[np.ndarray, ...]
    duration: float
    source_rate: int
    codec: str
    truncated: Truncation | None = None


def _ffmpeg_reason(err: Exception) -> str:
    """FFmpeg's words without its numeric code ('Invalid data found when processing input')."""
    if isinstance(err, OSError) and not isinstance(err, av.error.FFmpegError):
        return describe_os_error(err)
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def _open_error(path: Path, err: Exception) -> RecordingError:
    if isinstance(err, av.error.InvalidDataError | av.error.DecoderNotFoundError | av.error.DemuxerNotFoundError):
        reason = f"not an audio file, or a damaged one (PyAV cannot decode it: {_ffmpeg_reason(err)})"
    elif isinstance(err, OSError):
        reason = f"cannot read the file ({_ffmpeg_reason(err)})"
    else:
        reason = f"cannot read as audio ({_ffmpeg_reason(err)})"
    return RecordingError(str(path), reason)


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        raise RecordingError(str(path), "is a folder, not a recording")
    if not path.is_file():
        raise RecordingError(str(path), "file not found")
    try:
        size = path.stat().st_size
    except OSError as err:
        raise RecordingError(str(path), f"cannot read the file ({describe_os_error(err)})") from None
    if size == 0:
        raise RecordingError(str(path), "empty file (0 bytes)")
    return path


def probe(path: str | Path) -> AudioInfo:
    """Channels, rate, codec and declared length of the first audio stream; AudioError if there is none."""
    path = _existing(path)
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise RecordingError(str(path), "not an audio file (it holds no audio stream)")
            stream = container.streams.audio[0]
            seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
            if not seconds and container.duration:
                seconds = container.duration / 1_000_000
            codec = stream.codec_context.name
            info = AudioInfo(stream.channels, stream.rate or 0, codec, seconds)
            is_wav = container.format.name == "wav"
    except AudioError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as err:
        raise _open_error(path, err) from None
    if is_wav:
        # FFmpeg clamps a WAV's length to the bytes present; only the header knows what was recorded.
        info = AudioInfo(info.channels, info.sample_rate, codec, wav_declared_seconds(path) or info.declared_seconds)
    return info


def truncation(info: AudioInfo, status: DecodeStatus) -> Truncation | None:
    """Truncation when decoding stopped on an error or fell short of the declared length, else None."""
    decoded = round(status.seconds, 2)
    expected = round(info.declared_seconds, 2) if info.declared_seconds else None
    short = expected is not None and expected - decoded > max(TRUNCATION_TOLERANCE, 0.02 * expected)
    if status.error is None and not short:
        return None
    return Truncation(expected, decoded)


def load_recording(path: str | Path) -> Recording:
    """Decode a whole (short) recording; raises AudioError with the file and a plain reason."""
    info = probe(path)
    status = DecodeStatus()
    pieces = [chans for _offset, chans in iter_chunks(path, status=status, info=info)]
    arrays = tuple(np.concatenate([p[c] for p in pieces]) for c in range(len(pieces[0])))
    return Recording(
        str(path), arrays, len(arrays[0]) / SAMPLE_RATE, info.sample_rate, info.codec, truncation(info, status)
    )


def iter_chunks(
    path: str | Path,
    seconds: float = CHUNK_SECONDS,
    status: DecodeStatus | None = None,
    info: AudioInfo | None = None,
) -> Iterator[tuple[float, tuple[np.ndarray, ...]]]:
    """Decode a recording piece by piece: (offset in seconds, one 16 kHz array per channel).

    At most ``seconds`` of audio is held at a time, so an hours-long recording needs no more
    memory than a ten-minute one. A decode error after some audio keeps what decoded and is
    recorded in ``status.error``; with nothing decoded it is an AudioError.
    """
    path = _existing(path)
    info = info or probe(path)
    status = status if status is not None else DecodeStatus()
    width = 2 if info.channels >= 2 else 1
    limit = int(seconds * SAMPLE_RATE) * width
    resampler = av.audio.resampler.AudioResampler(
        format="s16", layout="stereo" if width == 2 else "mono", rate=SAMPLE_RATE
    )
    pending: list[np.ndarray] = []
    held = 0
    offset = 0.0

    def flush(buffer: np.ndarray) -> tuple[float, tuple[np.ndarray, ...]]:
        status.samples += buffer.size // width
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
                        offset += seconds
                        rest = buffer[limit:]
                        pending, held = [rest], rest.size
    except (av.error.FFmpegError, OSError, ValueError) as err:
        if not status.samples and not held:
            raise RecordingError(str(path), f"cannot decode {info.codec} audio ({_ffmpeg_reason(err)})") from None
        status.error = _ffmpeg_reason(err)
        log.warning("%s: decoding stopped early (%s); keeping the audio before it", path, status.error)
    try:
        pending.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    except (av.error.FFmpegError, ValueError) as err:  # the resampler's own tail; losing it costs milliseconds
        log.debug("%s: resampler flush failed: %s", path, _ffmpeg_reason(err))
    tail = np.concatenate(pending) if pending else np.zeros(0, np.int16)
    if tail.size:
        yield flush(tail)
    elif not status.samples:
        raise RecordingError(str(path), "no audio samples could be decoded (truncated or damaged?)")


def is_silent(samples: np.ndarray, threshold_db: float = -50.0) -> bool:
    """True when the channel never rises above ``threshold_db`` dBFS (RMS over 0.1 s windows)."""
    if not len(samples):
        return True
    window = SAMPLE_RATE // 10
    usable = samples[: len(samples) // window * window] if len(samples) >= window else samples
    frames = usable.reshape(-1, window) if len(usable) >= window else usable[None, :]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return bool(20 * np.log10(rms.max() + 1e-12) < threshold_db)
