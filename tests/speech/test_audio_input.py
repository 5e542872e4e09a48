"""Decoding, metadata and bad audio: no model needed. Each bad recording is one clear error."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np
import pytest

from qc.speech.audio import is_silent, iter_chunks, load_recording
from qc.errors import AudioError, InputError
from qc.speech.recordings import meta_from_name, read_manifest
from tests.conftest import DATA

STEREO = DATA / "audio" / "stereo_call_8k.wav"
MONO = DATA / "audio" / "mono_call_8k.wav"


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


def test_stereo_is_split_into_two_channels():
    rec = load_recording(STEREO)
    assert len(rec.channels) == 2 and rec.source_rate == 8000
    assert rec.duration == pytest.approx(19.6, abs=0.05)
    left, right = rec.channels
    # the agent speaks first (0.3 s), the customer from 5.0 s: the channels really are apart
    assert np.abs(left[8000:16000]).max() > 0.05 and np.abs(right[8000:16000]).max() < 0.01


@pytest.mark.parametrize(
    "codec,fmt,suffix", [("pcm_alaw", "wav", ".wav"), ("pcm_mulaw", "wav", ".wav"), ("mp3", "mp3", ".mp3")]
)
def test_telephone_codecs_decode(tmp_path, codec, fmt, suffix):
    try:
        path = _encode(STEREO, tmp_path / f"call{suffix}", codec, fmt)
    except (av.error.FFmpegError, ValueError) as err:
        pytest.skip(f"this PyAV build cannot encode {codec}: {err}")
    rec = load_recording(path)
    assert len(rec.channels) == 2
    assert rec.duration == pytest.approx(19.6, abs=0.2)
    assert not is_silent(rec.channels[0])


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
    with pytest.raises(AudioError, match="empty file"):
        load_recording(tmp_path / "empty.wav")


def test_not_audio_with_audio_extension(tmp_path):
    (tmp_path / "notes.wav").write_text("this is not a recording", encoding="utf-8")
    with pytest.raises(AudioError, match="notes.wav: cannot read as audio"):
        load_recording(tmp_path / "notes.wav")


def test_truncated_file(tmp_path):
    data = STEREO.read_bytes()[:30]  # header cut off mid-way
    (tmp_path / "cut.wav").write_bytes(data)
    with pytest.raises(AudioError, match="cut.wav"):
        load_recording(tmp_path / "cut.wav")


def test_truncated_data_still_decodes_what_is_there(tmp_path):
    data = STEREO.read_bytes()
    (tmp_path / "half.wav").write_bytes(data[: len(data) // 2])
    rec = load_recording(tmp_path / "half.wav")
    assert 5 < rec.duration < 19.6


def test_long_recordings_are_decoded_in_bounded_chunks():
    """Memory stays bounded: no piece holds more than the chunk length, and the pieces add up exactly."""
    full = load_recording(STEREO)
    pieces = list(iter_chunks(STEREO, seconds=5))
    assert [offset for offset, _ in pieces] == [0.0, 5.0, 10.0, 15.0]
    assert all(len(ch) <= 5 * 16000 for _, chans in pieces for ch in chans)
    left = np.concatenate([chans[0] for _, chans in pieces])
    assert np.array_equal(left, full.channels[0])


def test_file_name_pattern():
    meta = meta_from_name("x/1024_20261103091500.wav")
    assert (meta.agent_id, meta.started_at, meta.call_id) == ("1024", "2026-11-03T09:15:00", "1024_20261103091500")
    custom = meta_from_name("a/王芳-1024-0001.mp3", "{agent_name}-{agent_id}-{call_id}")
    assert (custom.agent_name, custom.agent_id, custom.call_id) == ("王芳", "1024", "0001")
    with pytest.raises(InputError, match="no agent"):
        meta_from_name("x/recording.wav")


def test_manifest(tmp_path):
    (tmp_path / "m.csv").write_text(
        "path,call_id,agent_id,agent_name,started_at\na.wav,c1,1024,王芳,2026-11-03T09:15:00+08:00\nb.wav,c2,,,\n",
        encoding="utf-8-sig",
    )
    first, second = read_manifest(tmp_path / "m.csv")
    assert first.path == str(tmp_path / "a.wav") and first.agent_name == "王芳"
    assert isinstance(second, InputError) and "m.csv:3" in str(second) and "no agent_id" in str(second)


def test_manifest_with_wrong_header(tmp_path):
    (tmp_path / "m.csv").write_text("file,agent\nx.wav,1\n", encoding="utf-8")
    (err,) = read_manifest(tmp_path / "m.csv")
    assert "header lacks path, agent_id" in str(err)
