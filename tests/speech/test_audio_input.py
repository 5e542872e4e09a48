"""Decoding and bad audio: no model needed. Each bad recording is one clear error, never an errno."""

from __future__ import annotations

import re
import struct
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from qc.errors import AudioError
from qc.speech import audio
from qc.speech.audio import DecodeStatus, is_silent, iter_chunks, load_recording, probe
from qc.speech.wavheader import wav_declared_seconds
from tests.conftest import DATA

STEREO = DATA / "audio" / "stereo_call_8k.wav"
MONO = DATA / "audio" / "mono_call_8k.wav"
RAW_CODE = re.compile(r"\[Errno|Errno \d|-?\d{6,}")  # FFmpeg's 1094995529 and friends


def _encode(src: Path, dest: Path, codec: str, fmt: str) -> Path:
    """Re-encode the stereo test call with PyAV (A-law, µ-law, MP3) at 8 kHz."""
    with av.open(str(src)) as inp, av.open(str(dest), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=8000, layout="stereo")
        for frame in inp.decode(audio=0):
            frame.pts = None
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return dest


def _encode_or_skip(dest: Path, codec: str, fmt: str) -> Path:
    try:
        return _encode(STEREO, dest, codec, fmt)
    except (av.error.FFmpegError, ValueError) as err:
        pytest.skip(f"this PyAV build cannot encode {codec}: {err}")


def test_stereo_is_split_into_two_channels():
    rec = load_recording(STEREO)
    assert len(rec.channels) == 2 and rec.source_rate == 8000
    assert rec.duration == pytest.approx(19.6, abs=0.05)
    assert rec.truncated is None
    left, right = rec.channels
    # the agent speaks first (0.3 s), the customer from 5.0 s: the channels really are apart
    assert np.abs(left[8000:16000]).max() > 0.05 and np.abs(right[8000:16000]).max() < 0.01


@pytest.mark.parametrize(
    "codec,fmt,suffix", [("pcm_alaw", "wav", ".wav"), ("pcm_mulaw", "wav", ".wav"), ("mp3", "mp3", ".mp3")]
)
def test_telephone_codecs_decode(tmp_path, codec, fmt, suffix):
    path = _encode_or_skip(tmp_path / f"call{suffix}", codec, fmt)
    rec = load_recording(path)
    assert len(rec.channels) == 2
    assert rec.duration == pytest.approx(19.6, abs=0.2)
    assert not is_silent(rec.channels[0])
    assert rec.truncated is None  # a complete file is never reported as cut off


def _wav(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def test_silence_is_detected(tmp_path):
    rec = load_recording(_wav(tmp_path / "silence.wav", np.zeros(8000 * 5)))
    assert is_silent(rec.channels[0])


def test_zero_length_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match=r"empty\.wav: empty file \(0 bytes\)"):
        load_recording(tmp_path / "empty.wav")


@pytest.mark.issue(7)
def test_not_audio_with_audio_extension_says_so_in_words(tmp_path):
    (tmp_path / "notes.wav").write_text("this is not a recording", encoding="utf-8")
    with pytest.raises(AudioError) as caught:
        load_recording(tmp_path / "notes.wav")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'notes.wav'}: not an audio file")
    assert "PyAV cannot decode it: Invalid data found when processing input" in message
    assert not RAW_CODE.search(message), message


def _bad_inputs(tmp: Path) -> dict[str, Path]:
    (tmp / "notes.mp3").write_text("not audio", encoding="utf-8")
    (tmp / "empty.wav").write_bytes(b"")
    (tmp / "header_cut.wav").write_bytes(STEREO.read_bytes()[:30])
    (tmp / "only_header.wav").write_bytes(STEREO.read_bytes()[:44])
    (tmp / "folder.wav").mkdir()
    (tmp / "random.wav").write_bytes(np.random.default_rng(1).integers(0, 255, 4000, dtype=np.uint8).tobytes())
    return {p.name: p for p in [*tmp.iterdir(), tmp / "missing.wav"]}


@pytest.mark.issue(7)
def test_every_bad_recording_is_one_plain_error_naming_the_file(tmp_path):
    for name, path in _bad_inputs(tmp_path).items():
        for decode in (load_recording, lambda p: list(iter_chunks(p))):
            with pytest.raises(AudioError) as caught:
                decode(path)
            message = str(caught.value)
            assert message.startswith(f"{path}: "), message
            assert not RAW_CODE.search(message), (name, message)
            assert "\n" not in message


def test_truncated_header_is_an_error(tmp_path):
    (tmp_path / "cut.wav").write_bytes(STEREO.read_bytes()[:30])  # header cut off mid-way
    with pytest.raises(AudioError, match="cut.wav"):
        load_recording(tmp_path / "cut.wav")


@pytest.mark.issue(7)
def test_wav_shorter_than_its_header_is_decoded_and_flagged(tmp_path):
    data = STEREO.read_bytes()
    keep = 44 + 8000 * 4 * 7  # header + 7 s of 8 kHz 16-bit stereo
    (tmp_path / "cut.wav").write_bytes(data[:keep])
    rec = load_recording(tmp_path / "cut.wav")
    assert rec.duration == pytest.approx(7.0, abs=0.01)
    assert rec.truncated is not None
    assert rec.truncated.as_dict() == {"expected_seconds": 19.6, "decoded_seconds": pytest.approx(7.0, abs=0.01)}


@pytest.mark.issue(7)
def test_alaw_wav_shorter_than_its_header_is_flagged(tmp_path):
    """Python's wave module cannot read A-law; the RIFF walk can."""
    full = _encode_or_skip(tmp_path / "alaw.wav", "pcm_alaw", "wav")
    data = full.read_bytes()
    (tmp_path / "alaw_cut.wav").write_bytes(data[: len(data) // 2])
    assert wav_declared_seconds(tmp_path / "alaw_cut.wav") == pytest.approx(19.6, abs=0.01)
    rec = load_recording(tmp_path / "alaw_cut.wav")
    assert rec.truncated is not None and rec.truncated.expected_seconds == pytest.approx(19.6, abs=0.01)
    assert rec.truncated.decoded_seconds == pytest.approx(9.8, abs=0.1)


@pytest.mark.issue(7)
def test_mp3_cut_short_is_flagged(tmp_path):
    data = _encode_or_skip(tmp_path / "call.mp3", "mp3", "mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 2])
    rec = load_recording(tmp_path / "cut.mp3")
    if probe(tmp_path / "cut.mp3").declared_seconds is None or rec.duration > 18:
        pytest.skip("this FFmpeg build estimates the cut MP3's length from its size")
    assert rec.truncated is not None and rec.truncated.expected_seconds == pytest.approx(19.6, abs=0.1)


@pytest.mark.issue(7)
def test_decode_error_mid_stream_keeps_the_audio_before_it_and_is_flagged(monkeypatch):
    """Whatever the codec: an FFmpeg error after some audio is a truncation, not a failure."""
    real_open = av.open

    class FailingHalfway:
        def __init__(self, container):
            self.container = container

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.container.close()

        def decode(self, **kwargs):
            for n, frame in enumerate(self.container.decode(**kwargs)):
                if n == 20:
                    raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
                yield frame

    info = probe(STEREO)
    monkeypatch.setattr(audio.av, "open", lambda *a, **k: FailingHalfway(real_open(*a, **k)))
    status = DecodeStatus()
    pieces = list(iter_chunks(STEREO, status=status, info=info))
    monkeypatch.undo()
    decoded = sum(len(chans[0]) for _, chans in pieces) / 16000
    assert 0 < decoded < 19.6
    assert status.error == "Invalid data found when processing input"
    assert status.seconds == pytest.approx(decoded)
    cut = audio.truncation(info, status)
    assert cut is not None and cut.expected_seconds == pytest.approx(19.6) and cut.decoded_seconds < 19.6


@pytest.mark.issue(7)
def test_wav_header_reading(tmp_path):
    assert wav_declared_seconds(STEREO) == pytest.approx(19.6)
    assert wav_declared_seconds(MONO) is not None
    streaming = bytearray(STEREO.read_bytes())
    streaming[40:44] = struct.pack("<I", 0xFFFFFFFF)  # a recorder that never wrote the final size
    (tmp_path / "live.wav").write_bytes(bytes(streaming))
    assert wav_declared_seconds(tmp_path / "live.wav") is None
    assert load_recording(tmp_path / "live.wav").truncated is None
    (tmp_path / "x.wav").write_text("RIFF but not really", encoding="utf-8")
    assert wav_declared_seconds(tmp_path / "x.wav") is None
    assert wav_declared_seconds(tmp_path / "missing.wav") is None


def test_long_recordings_are_decoded_in_bounded_chunks():
    """Memory stays bounded: no piece holds more than the chunk length, and the pieces add up exactly."""
    full = load_recording(STEREO)
    pieces = list(iter_chunks(STEREO, seconds=5))
    assert [offset for offset, _ in pieces] == [0.0, 5.0, 10.0, 15.0]
    assert all(len(ch) <= 5 * 16000 for _, chans in pieces for ch in chans)
    left = np.concatenate([chans[0] for _, chans in pieces])
    assert np.array_equal(left, full.channels[0])
