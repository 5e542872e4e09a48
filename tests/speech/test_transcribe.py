"""CallTranscriber without the real model: cache key, errors, truncation, absolute paths, output files.

A stand-in recogniser returns one segment per non-silent channel chunk, so the whole flow (decode,
recognise, correct, cache, write) runs in milliseconds; test_asr_real.py does it with Whisper.
"""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qc.errors import AudioError, InputError, OutputError, QCError
from qc.formats import read_transcript
from qc.schema import Transcript, Utterance
from qc.speech.recordings import CallMeta
from qc.speech.transcribe import CallTranscriber, TranscribeOptions, transcript_file_name, write_transcript
from qc.speech.whisper import AsrSegment, AsrSettings
from tests.conftest import DATA, ROOT

STEREO = DATA / "audio" / "stereo_call_8k.wav"
pytestmark = pytest.mark.issue(7)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("QC_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _fake_model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"\x01" * 4096)
    (folder / "config.json").write_text('{"n": 1}', encoding="utf-8")
    return folder


class FakeWhisper:
    """Stands in for WhisperTranscriber: '您好公号' (工号 misheard) for every non-silent chunk."""

    def __init__(self, model_dir: Path) -> None:
        self.model_dir = model_dir
        self.calls = 0
        self.telephone: list[bool] = []

    def resolve_model_dir(self) -> Path:
        return self.model_dir

    def transcribe_channels(self, channels, telephone=False, split_chunks=False):
        self.calls += 1
        self.telephone.append(telephone)
        return [[AsrSegment(0.5, min(2.0, len(samples) / 16000), "您好公号", -0.2, 0.01)] for samples in channels]


def _transcriber(tmp_path: Path, name: str = "m", terms=("工号",), **asr) -> CallTranscriber:
    model = tmp_path / name
    if not model.exists():
        _fake_model(model)
    t = CallTranscriber(TranscribeOptions(AsrSettings(model_dir=str(model), **asr)), list(terms), ["中通速递"])
    t.whisper = FakeWhisper(model)
    return t


def test_speech_does_not_import_the_inspection_package():
    code = "import sys, qc.speech.transcribe; print([m for m in sys.modules if m.startswith('qc.inspection')])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cache_key_ignores_threads_and_model_location(tmp_path):
    one = _transcriber(tmp_path, cpu_threads=1)
    eight = _transcriber(tmp_path, cpu_threads=8)
    assert one.cache_key("abc") == eight.cache_key("abc")
    shutil.copytree(tmp_path / "m", tmp_path / "same-model-elsewhere")
    moved = _transcriber(tmp_path, "same-model-elsewhere")
    assert moved.cache_key("abc") == one.cache_key("abc")
    forced = _transcriber(tmp_path)
    forced.options = TranscribeOptions(forced.options.asr, force=True)
    assert forced.cache_key("abc") == one.cache_key("abc")


def test_cache_key_changes_with_what_changes_the_transcript(tmp_path):
    base = _transcriber(tmp_path).cache_key("abc")
    assert _transcriber(tmp_path).cache_key("abd") != base
    assert _transcriber(tmp_path, beam_size=1).cache_key("abc") != base
    assert _transcriber(tmp_path, compute_type="float32").cache_key("abc") != base
    assert _transcriber(tmp_path, vad=False).cache_key("abc") != base
    assert _transcriber(tmp_path, language="yue").cache_key("abc") != base
    assert _transcriber(tmp_path, terms=("工号", "快件")).cache_key("abc") != base
    other = tmp_path / "other"
    _fake_model(other)
    (other / "model.bin").write_bytes(b"\x02" * 4096)
    assert _transcriber(tmp_path, "other").cache_key("abc") != base
    right = _transcriber(tmp_path)
    right.options = TranscribeOptions(right.options.asr, agent_channel=1)
    assert right.cache_key("abc") != base


def test_transcribe_with_stand_in_recogniser_corrects_caches_and_gives_absolute_paths(tmp_path, cache, monkeypatch):
    shutil.copy(STEREO, tmp_path / "call.wav")
    monkeypatch.chdir(tmp_path)
    t = _transcriber(tmp_path)
    first = t.transcribe(CallMeta("call.wav", "c-1", "1024"))
    assert first.audio == str((tmp_path / "call.wav").resolve()) and Path(first.audio).is_absolute()
    assert {u.speaker for u in first.utterances} == {"agent", "customer"}
    assert all(u.text == "您好工号" for u in first.utterances)  # corrected with the terms given
    assert "truncated" not in first.asr
    assert list((cache / "transcripts").glob("*.json")) and not list((cache / "transcripts").glob(".*tmp*"))
    calls = t.whisper.calls
    again = t.transcribe(CallMeta("call.wav", "c-1", "1024"))
    assert t.whisper.calls == calls and again.utterances == first.utterances  # from the cache


def test_telephone_recordings_get_the_telephone_vad_threshold(tmp_path, cache):
    """8 kHz recordings are telephone audio (Silero misses turns of it at the 16 kHz threshold)."""
    import wave

    import numpy as np

    t = _transcriber(tmp_path)
    t.transcribe(CallMeta(str(STEREO), "tel", "1024"))
    assert t.whisper.telephone and all(t.whisper.telephone)
    wide = tmp_path / "wide.wav"
    tone = (np.sin(np.arange(32000) * 2 * np.pi * 220 / 16000) * 8000).astype("<i2")
    with wave.open(str(wide), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000), w.writeframes(tone.tobytes())
    t.whisper.telephone.clear()
    t.transcribe(CallMeta(str(wide), "wide", "1024"))
    assert t.whisper.telephone == [False]
    assert AsrSettings().vad_threshold_telephone < AsrSettings().vad_threshold


def test_truncated_recording_is_transcribed_and_flagged(tmp_path, cache):
    data = STEREO.read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: 44 + 8000 * 4 * 12])  # 12 of 19.6 seconds
    transcript = _transcriber(tmp_path).transcribe(CallMeta(str(tmp_path / "cut.wav"), "cut", "1024"))
    assert transcript.utterances
    assert transcript.asr["truncated"] == {"expected_seconds": 19.6, "decoded_seconds": 12.0}
    assert transcript.asr["audio_seconds"] == 12.0


def test_bad_recordings_raise_plain_picklable_errors(tmp_path, cache):
    (tmp_path / "notes.wav").write_text("not a recording", encoding="utf-8")
    (tmp_path / "empty.wav").write_bytes(b"")
    t = _transcriber(tmp_path)
    expected = {
        "notes.wav": (AudioError, "not an audio file"),
        "empty.wav": (AudioError, "empty file"),
        "gone.wav": (InputError, "file not found"),
    }
    for name, (kind, words) in expected.items():
        meta = CallMeta(str(tmp_path / name), name, "1024")
        with pytest.raises(QCError) as caught:
            t.transcribe(meta)
        err = caught.value
        assert isinstance(err, kind) and isinstance(err, InputError)
        assert (err.path, str(err)) == (meta.path, f"{meta.path}: {err.reason}") and words in err.reason
        assert "Errno" not in str(err) and meta.path not in err.reason  # the batch names the file once
        back = pickle.loads(pickle.dumps(err))  # crosses a process boundary unchanged
        assert type(back) is type(err) and (back.path, back.reason) == (err.path, err.reason)


def test_unwritable_cache_still_gives_the_transcript(tmp_path, monkeypatch):
    (tmp_path / "cache").write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("QC_CACHE", str(tmp_path / "cache"))
    transcript = _transcriber(tmp_path).transcribe(CallMeta(str(STEREO), "c-1", "1024"))
    assert transcript.utterances


def _transcript(call_id: str) -> Transcript:
    return Transcript(call_id, "1024", (Utterance("agent", "您好", 0.0, 1.0),), started_at="2026-11-03T09:15:00")


def test_call_ids_that_differ_get_different_files(tmp_path):
    ids = ["X/1", "X_1", "X%2F1", "X 1", "王芳-0001", "..", ".", "a\\b", "A", "a"]
    paths = [write_transcript(_transcript(i), tmp_path / "out") for i in ids]
    assert len(set(paths)) == len(ids)
    assert all(p.parent == tmp_path / "out" for p in paths)
    assert {read_transcript(p).call_id for p in paths} == set(ids)
    assert transcript_file_name("王芳-0001.a_b") == "王芳-0001.a_b.json"
    assert transcript_file_name("X/1") == "X%2F1.json" and transcript_file_name("X%2F1") == "X%252F1.json"


@given(st.text(min_size=1, max_size=30).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)))
def test_file_name_encoding_is_injective(call_id):
    name = transcript_file_name(call_id)
    assert "/" not in name and "\\" not in name and "\0" not in name
    assert urllib.parse.unquote(name.removesuffix(".json"), errors="strict") == call_id


def test_unwritable_out_folder_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "blocked").write_text("a file, not a folder", encoding="utf-8")
    with pytest.raises(OutputError) as caught:
        write_transcript(_transcript("X/1"), tmp_path / "blocked" / "out")
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "blocked" / "out" / "X%2F1.json") in message


def test_written_transcript_is_spec_json(tmp_path):
    path = write_transcript(_transcript("c-1"), tmp_path)
    assert json.loads(path.read_text(encoding="utf-8"))["call_id"] == "c-1"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.issue(8)
def test_pauses_inside_a_unit_become_clause_breaks():
    """Recognised speech gets the clause boundaries typed text has: a pause is written as "，"."""
    from types import SimpleNamespace as W

    from qc.speech.whisper import _join_words

    timed = [("这个", 0.0, 0.4), ("箱子", 0.4, 0.8), ("偏大点", 0.8, 1.3), ("声明", 1.9, 2.2), ("价值", 2.2, 2.5),
             ("。", 2.5, 2.5), ("好", 3.2, 3.4), ("的", 3.5, 3.7)]  # fmt: skip
    words = [W(word=w, start=s, end=e) for w, s, e in timed]
    assert _join_words(words, clause_pause=0.4) == "这个箱子偏大点，声明价值。好的"


@pytest.mark.issue(9)
def test_vad_chunks_closer_than_the_unit_gap_are_one_unit(monkeypatch):
    """Chunks split at short pauses are joined again; a longer pause, or a unit that would outgrow
    Whisper's window, starts a new one. Unit times are the speech's own (no padding)."""
    import numpy as np

    from qc.speech import vad

    found = [(0.5, 2.0), (2.6, 4.0), (6.0, 7.0), (7.5, 20.0), (20.5, 36.0)]
    monkeypatch.setattr(
        vad,
        "get_speech_timestamps",
        lambda samples, options: [{"start": int(a * 16000), "end": int(b * 16000)} for a, b in found],
    )
    monkeypatch.setattr(vad, "_pieces", lambda samples: [(0.0, len(samples) / 16000)])
    units = vad.speech_units(np.zeros(16000 * 40, np.float32), threshold=0.3, min_silence_ms=500, unit_gap=1.0)
    assert [(u.start, u.end, len(u.chunks)) for u in units] == [(0.5, 4.0, 2), (6.0, 20.0, 2), (20.5, 36.0, 1)]
    whole = [(u.start, u.end) for u in vad.whole_channel_units(70.0)]
    assert whole == [(0.0, 29.0), (29.0, 58.0), (58.0, 70.0)]


@pytest.mark.issue(9)
def test_close_units_share_a_recognition_window_and_words_go_back_to_their_unit():
    """Packing saves encoder passes; the words still land in the unit they were spoken in."""
    from types import SimpleNamespace as W

    from qc.speech.vad import SpeechUnit, pack_units
    from qc.speech.whisper import _group

    units = [SpeechUnit(1.0, 3.0), SpeechUnit(4.5, 6.0), SpeechUnit(12.0, 14.0), SpeechUnit(15.0, 42.0)]
    assert [[u.start for u in w] for w in pack_units(units, 3.0)] == [[1.0, 4.5], [12.0], [15.0]]
    assert [len(w) for w in pack_units(units, 0.0)] == [1, 1, 1, 1]
    # words in the joined audio, 100 s later than in the channel; one falls in the pause, nearer the second unit
    words = [
        W(word=w, start=s + 100, end=e + 100) for w, s, e in [("您好", 1.1, 1.5), ("公", 2.6, 2.9), ("司", 4.0, 4.3)]
    ]
    groups = _group(words, [(1.0, 3.0), (4.5, 6.0)], shift=-100)
    assert [[w.word for w in g] for g in groups] == [["您好", "公"], ["司"]]


@pytest.mark.issue(9)
def test_speech_after_a_long_hold_is_heard(monkeypatch):
    """Silero carries its state across the channel; after the 38 s hold of test call zt-036 (its customer
    channel, first 70 s, A-law) it no longer heard the customer at 63.4 s. VAD restarts after quiet stretches."""
    from qc.speech import vad
    from qc.speech.audio import load_recording

    samples = load_recording(DATA / "audio" / "after_long_hold_8k.wav").channels[0]

    def heard_after_hold():
        units = vad.speech_units(samples, threshold=0.3, min_silence_ms=300, unit_gap=1.0)
        return [u for u in units if u.start > 60]

    assert [(round(u.start), round(u.end)) for u in heard_after_hold()] == [(63, 65)]
    monkeypatch.setattr(vad, "_pieces", lambda s: [(0.0, len(s) / vad.SAMPLE_RATE)])  # one pass, as before
    assert heard_after_hold() == []
