"""Real speech through the real model (Whisper base from its PyPI packages), end to end.

The calls in tests/data/audio were made with offline TTS by tools/make_test_audio.py: a stereo
8 kHz call (agent left) with the opening line and a planted banned phrase, and a mono call.
"""

from __future__ import annotations

import json
import os
import shutil
import wave

import numpy as np
import pytest
from click.testing import CliRunner

from qc.cli import cli
from qc.formats import read_transcript
from qc.inspection.engine import Inspector
from qc.speech.recordings import CallMeta
from qc.speech.transcribe import CallTranscriber, TranscribeOptions
from qc.speech.whisper import AsrSettings
from qc.store import Store
from qc.text.normalize import to_simplified
from tests.conftest import DATA

AUDIO = DATA / "audio"


@pytest.fixture(scope="module")
def asr_cache(tmp_path_factory):
    """A fresh cache: the model is joined from its packages and nothing is already transcribed."""
    old = os.environ.get("QC_CACHE")
    os.environ["QC_CACHE"] = str(tmp_path_factory.mktemp("qc-cache"))
    yield os.environ["QC_CACHE"]
    if old is None:
        del os.environ["QC_CACHE"]
    else:
        os.environ["QC_CACHE"] = old


@pytest.fixture(scope="module")
def transcriber(asr_cache, terms, company):
    return CallTranscriber(TranscribeOptions(), terms, company)


@pytest.fixture(scope="module")
def stereo(transcriber):
    return transcriber.transcribe(CallMeta(str(AUDIO / "stereo_call_8k.wav"), "stereo-1", "1024"))


@pytest.fixture(scope="module")
def mono(transcriber):
    return transcriber.transcribe(CallMeta(str(AUDIO / "mono_call_8k.wav"), "mono-1", "1024"))


def test_stereo_call_opening_and_planted_banned_phrase_found_for_the_agent(stereo, inspector):
    assert stereo.roles["method"] == "stereo channels"
    speakers = {u.speaker for u in stereo.utterances}
    assert speakers == {"agent", "customer"}
    assert stereo.utterances[0].speaker == "agent" and stereo.utterances[0].start < 1.0
    result = inspector.score(stereo)
    assert result.checks["opening"].ok
    assert result.checks["closing"].ok
    banned = [h for h in result.hits if h.rule_id == "BAN-002"]
    assert banned and all(h.speaker == "agent" for h in banned)
    assert 9.0 < banned[0].start < 10.5  # the agent says it at 9.4 s
    assert not [h for h in result.hits if h.speaker == "customer"]


def test_transcript_keeps_confidence_and_settings(stereo):
    assert all(u.avg_logprob is not None and u.no_speech_prob is not None for u in stereo.utterances)
    assert stereo.asr["compute_type"] == "int8" and stereo.asr["language"] == "zh"
    assert stereo.asr["audio_seconds"] == pytest.approx(19.6, abs=0.1)
    assert all(to_simplified(u.text) == u.text for u in stereo.utterances)  # Whisper wrote 這個, 為, 來電


def test_mono_call_roles_attributed_with_confidence(mono, inspector):
    assert mono.roles["method"].startswith("opening script")
    assert 0.5 < mono.roles["confidence"] <= 1.0
    assert mono.utterances[0].speaker == "agent"
    assert "customer" in {u.speaker for u in mono.utterances}
    assert inspector.score(mono).checks["opening"].ok


def test_second_run_uses_the_cache(transcriber, stereo):
    again = transcriber.transcribe(CallMeta(str(AUDIO / "stereo_call_8k.wav"), "stereo-1", "1024"))
    assert again.utterances == stereo.utterances
    assert again.asr["cache_key"] == stereo.asr["cache_key"]


@pytest.mark.issue(7)
def test_other_thread_count_uses_the_same_cache_entry(asr_cache, terms, company, stereo):
    other = CallTranscriber(TranscribeOptions(AsrSettings(cpu_threads=1)), terms, company)
    again = other.transcribe(CallMeta(str(AUDIO / "stereo_call_8k.wav"), "stereo-1", "1024"))
    assert again.asr["cache_key"] == stereo.asr["cache_key"] and again.utterances == stereo.utterances
    assert other.whisper._model is None  # answered from the cache: the model was never loaded


@pytest.mark.issue(7)
def test_truncated_recording_is_transcribed_as_far_as_it_goes_and_flagged(tmp_path, transcriber):
    data = (AUDIO / "stereo_call_8k.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: 44 + 8000 * 4 * 13])  # 13 s of 19.6: the closing (16.2 s) is lost
    cut = transcriber.transcribe(CallMeta(str(tmp_path / "cut.wav"), "cut-1", "1024"))
    assert cut.asr["truncated"] == {"expected_seconds": 19.6, "decoded_seconds": 13.0}
    assert cut.utterances[0].speaker == "agent" and "中通速递" in cut.utterances[0].text
    assert all(u.end <= 13.0 for u in cut.utterances)
    assert not any("再见" in u.text for u in cut.utterances)


def _silence(path):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(8000 * 4, "<i2").tobytes())


def test_cli_transcribe_and_score_recordings_with_bad_ones(tmp_path, asr_cache, stereo):
    rec = tmp_path / "rec"
    rec.mkdir()
    shutil.copy(AUDIO / "stereo_call_8k.wav", rec / "1024_20261103091500.wav")
    _silence(rec / "2048_20261103100000.wav")
    (rec / "3072_20261103110000.wav").write_bytes(b"")
    (rec / "4096_20261103120000.mp3").write_text("not audio", encoding="utf-8")
    shutil.copy(AUDIO / "stereo_call_8k.wav", rec / "unnamed.wav")
    out = tmp_path / "transcripts"
    result = CliRunner().invoke(cli, ["transcribe", str(rec), "--out", str(out), "--jobs", "1"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert any("2048_20261103100000.wav" in e and "silent" in e for e in errors)
    assert any("3072_20261103110000.wav" in e and "empty file" in e for e in errors)
    assert any("4096_20261103120000.mp3" in e and "not an audio file" in e for e in errors)
    assert not any("Errno" in e for e in errors)
    assert any("unnamed.wav" in e and "no agent" in e for e in errors)
    written = read_transcript(out / "1024_20261103091500.json")
    assert written.agent_id == "1024" and written.started_at == "2026-11-03T09:15:00"
    assert [u.text for u in written.utterances] == [u.text for u in stereo.utterances]
    assert json.loads((out / "2048_20261103100000.json").read_text(encoding="utf-8"))["asr"]["silent"] is True

    db = f"sqlite:///{tmp_path / 'qc.db'}"
    scored = CliRunner().invoke(cli, ["score", str(rec), "--db", db, "--json", "-", "--jobs", "1"])
    assert scored.exit_code == 1
    rows = [json.loads(line) for line in scored.stdout.splitlines()]
    assert [r["call_id"] for r in rows] == ["1024_20261103091500"]
    assert Store(db).count_calls() == 1


def test_manifest_gives_metadata(tmp_path, asr_cache, stereo):
    shutil.copy(AUDIO / "stereo_call_8k.wav", tmp_path / "call.wav")
    (tmp_path / "manifest.csv").write_text(
        "path,call_id,agent_id,agent_name,started_at\ncall.wav,M-1,2048,李强,2026-11-04T14:00:00+08:00\n",
        encoding="utf-8",
    )
    db = f"sqlite:///{tmp_path / 'qc.db'}"
    result = CliRunner().invoke(cli, ["score", str(tmp_path / "manifest.csv"), "--db", db, "--json", "-"])
    assert result.exit_code == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["call_id"], row["agent_id"], row["agent_name"]) == ("M-1", "2048", "李强")


def test_inspector_fixture_is_the_shipped_lexicon(inspector):
    assert isinstance(inspector, Inspector)


def _spoken_turns(name):
    """(speaker, start, text) of the turns the call was made from (tools/make_test_audio.py)."""
    return [tuple(line) for line in json.loads((AUDIO / "calls.json").read_text(encoding="utf-8"))[name]]


@pytest.mark.issue(9)
def test_every_spoken_turn_is_one_utterance_and_no_words_cross_into_another(stereo):
    """Each turn of the stereo call comes out as its own utterance, inside the time the turn was spoken:
    recognising speech units one by one keeps the next turn's first word out of the previous one."""
    turns = _spoken_turns("stereo_call_8k.wav")
    assert len(stereo.utterances) == len(turns)
    for utt, (speaker, start, text) in zip(stereo.utterances, turns, strict=True):
        assert utt.speaker == speaker
        assert start - 0.1 <= utt.start < start + 1.0  # the VAD's time of the speech, not a padded one
        assert utt.end - utt.start < len(text) * 0.35
    assert "再见" in stereo.utterances[-1].text and "感谢" in stereo.utterances[-1].text


CALLS = AUDIO / "calls"  # six short scripted calls: both stereo layouts, mono, µ-law, A-law, 16 kHz


@pytest.fixture(scope="module")
def short_calls(asr_cache, terms, company):
    """(reference, recognised, label) for each committed test call, each with its own agent channel."""
    labels = json.loads((CALLS / "labels.json").read_text(encoding="utf-8"))
    labels = labels.get("calls", labels)
    sides = {side: CallTranscriber(TranscribeOptions(agent_channel=side), terms, company) for side in (0, 1)}
    out = []
    for ref_path in sorted(CALLS.glob("*.json")):
        if ref_path.name == "labels.json":
            continue
        ref = read_transcript(ref_path)
        label = labels[ref.call_id]
        side = int(label["layout"] == "stereo_agent_right")
        hyp = sides[side].transcribe(CallMeta(str(ref_path.with_suffix(".wav")), ref.call_id, ref.agent_id))
        out.append((ref, hyp, label))
    return out


def _overlap(a, b) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


@pytest.mark.issue(9)
def test_short_calls_every_turn_heard_in_its_own_utterance_with_its_speaker(short_calls):
    """Across layouts and codecs: each spoken turn overlaps a recognised utterance of the same
    speaker (or, on a mono call too short to tell the voices apart, one left unknown on a call marked
    for review), and no recognised utterance spans two turns of the same speaker."""
    missed, merged, wrong_role = [], [], []
    for ref, hyp, _ in short_calls:
        for turn in ref.utterances:
            near = [u for u in hyp.utterances if _overlap(u, turn) > 0]
            if not near:
                missed.append(f"{ref.call_id} {turn.start}s {turn.text}")
            elif all(u.speaker != turn.speaker for u in near):
                if all(u.speaker == "unknown" for u in near) and hyp.roles.get("review"):
                    continue  # left unknown on a call marked for review: said, not guessed
                wrong_role.append(f"{ref.call_id} {turn.start}s {turn.text}: {[u.speaker for u in near]}")
        for utt in hyp.utterances:
            spanned = [t for t in ref.utterances if t.speaker == utt.speaker and _overlap(utt, t) > 0.15]
            if len(spanned) > 1:
                merged.append(f"{ref.call_id} {utt.start}s {utt.text}")
    turns = sum(len(ref.utterances) for ref, _, _ in short_calls)
    assert len(missed) <= turns // 20, missed
    assert not merged, merged
    assert len(wrong_role) <= turns // 20, wrong_role


@pytest.mark.issue(9)
def test_short_calls_score_from_audio_as_from_their_transcripts(short_calls, inspector):
    """The checks the transcript gives (rule hits, opening/closing said or not) mostly hold from the
    recording, and a clean call gets no deduction from recognition errors."""
    held = total = 0
    for ref, hyp, label in short_calls:
        on_text, on_audio = inspector.score(ref), inspector.score(hyp)
        text_items = {(h.rule_id, h.utterance is None) for h in on_text.hits if h.status == "confirmed"}
        audio_items = {(h.rule_id, h.utterance is None) for h in on_audio.hits}
        text_checks = {k: c.ok for k, c in on_text.checks.items() if c.ok is not None}
        total += len(text_items) + len(text_checks)
        held += len(text_items & audio_items) + sum(on_audio.checks[k].ok == ok for k, ok in text_checks.items())
        if label["clean"] and not hyp.roles.get("review"):  # a call marked for review is a person's to judge
            on_text_rules = {rule for rule, _ in text_items}
            added = [
                h.rule_id
                for h in on_audio.hits
                if h.status == "confirmed" and h.deduction > 0 and h.rule_id not in on_text_rules
            ]
            assert not added, (ref.call_id, added)
    # 20 of 27 held when written (two of the six are mono calls too short to tell the voices apart)
    assert total >= 15 and held / total >= 0.7, (held, total)
