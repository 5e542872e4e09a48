"""Recordings → SPEC §1 transcripts: decode, recognise each channel, correct, attribute roles, cache.

Stereo: one channel per role (``agent_channel``: 0 = left, the default), each transcribed, merged
by time with overlaps kept (the interruption rule needs them). Mono: roles attributed per segment
with a confidence (qc.speech.roles); unsure segments stay ``unknown`` and are not scored.

Every result is cached under the audio's content hash and exactly what changes the words (model,
decoding settings, agent channel, correction terms, role model), never under how it was computed
(threads, worker count, paths), so a call is never transcribed twice and an interrupted batch resumes
where it stopped. This module transcribes one call at a time; running many in worker processes is
``qc.pipeline``'s job, and so is choosing the correction terms (speech does not read the lexicons).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from qc.config import cache_dir
from qc.errors import InputError, OutputError
from qc.files import describe_os_error, write_text_atomic
from qc.formats import transcript_to_dict
from qc.schema import Transcript, Utterance
from qc.speech.audio import DecodeStatus, is_silent, iter_chunks, probe, truncation
from qc.speech.correct import HomophoneCorrector
from qc.speech.recordings import CallMeta
from qc.speech.roles import RoleModel, attribute_roles, text_evidence
from qc.speech.roles import model_fingerprint as role_model_fingerprint
from qc.speech.voices import segment_features, split_voices
from qc.speech.whisper import AsrSegment, AsrSettings, WhisperTranscriber, model_fingerprint

log = logging.getLogger(__name__)

CACHE_FORMAT = 8  # bump when the cached body or the way it is produced changes
# A mono call with more of its turns left unknown than this, or a lower mean confidence, is marked
# for review: its scores rest on a guess about who spoke.
UNSURE_SHARE = 0.10
UNSURE_CONFIDENCE = 0.8
# A recording at this rate or below is telephone audio: it gets the telephone VAD threshold.
TELEPHONE_RATE = 8000


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """How to transcribe. ``force`` re-transcribes even when the cache holds the call."""

    asr: AsrSettings = field(default_factory=AsrSettings)
    agent_channel: int = 0
    force: bool = False


class CallTranscriber:
    """Everything one worker needs, built once: the recogniser, the corrector, the role model.

    ``terms``: words to protect by homophone correction (company names, script lines, domain words);
    ``company``: company names, which also mark the opening line on mono recordings.
    """

    def __init__(self, options: TranscribeOptions, terms: Sequence[str], company: Sequence[str]) -> None:
        self.options = options
        self.whisper = WhisperTranscriber(options.asr)
        self.terms = sorted(set(terms))
        self.company = list(company)
        self.corrector = HomophoneCorrector(self.terms)
        self._roles: RoleModel | None = None
        self._key_settings: tuple[TranscribeOptions, str] | None = None  # (for which options, settings JSON)

    @property
    def roles(self) -> RoleModel:
        """The role model, loaded on first use (stereo calls never need it)."""
        if self._roles is None:
            self._roles = RoleModel.load()
        return self._roles

    def cache_key(self, audio_hash: str) -> str:
        """Key of the cached transcript of this audio: only what changes the transcript goes in."""
        if self._key_settings is None or self._key_settings[0] != self.options:
            settings = {
                **self.options.asr.transcript_settings(),
                "model": model_fingerprint(self.whisper.resolve_model_dir()),
                "agent_channel": self.options.agent_channel,
                "terms": _digest("\n".join(self.terms)),
                "company": _digest("\n".join(self.company)),
                "roles_model": role_model_fingerprint(),
                "format": CACHE_FORMAT,
            }
            self._key_settings = (self.options, json.dumps(settings, sort_keys=True, ensure_ascii=False))
        return hashlib.sha256((audio_hash + self._key_settings[1]).encode()).hexdigest()[:24]

    def transcribe(self, meta: CallMeta) -> Transcript:
        """Transcribe one recording (or take it from the cache).

        Raises, each picklable: InputError for this recording (unreadable, not audio, damaged —
        ``RecordingError`` is both an InputError and an AudioError — or recognition failed), with
        ``path`` and ``reason``; AsrError when the model itself cannot be found or loaded.
        """
        path = Path(meta.path)
        try:
            audio_hash = _file_hash(path)
        except OSError as err:
            reason = "file not found" if isinstance(err, FileNotFoundError) else describe_os_error(err)
            raise InputError(meta.path, f"cannot read recording ({reason})") from None
        key = self.cache_key(audio_hash)
        body = None if self.options.force else _read_cache(_cache_file(key))
        if body is None:
            body = self._recognise(path)
            body["asr"]["cache_key"] = key
            _write_cache(key, body)
        return _transcript(meta, body)

    def audio_key(self, data: bytes) -> str:
        """The cache key of a recording already read into memory: a driver that sends recordings to
        other machines as bytes hashes what it sends, without reading the file twice."""
        return self.cache_key(hashlib.sha256(data).hexdigest())

    def cached(self, meta: CallMeta, key: str) -> Transcript | None:
        """The transcript cached under ``key`` (``audio_key``) for this recording, or None when there is
        none or ``force`` is set. Never loads the model: a Ray driver takes what is done before it
        submits anything, on a machine that may never recognise a word itself."""
        body = None if self.options.force else _read_cache(_cache_file(key))
        return None if body is None else _transcript(meta, body)

    def remember(self, key: str, transcript: Transcript) -> None:
        """Cache a transcript recognised elsewhere (a Ray worker on another machine, with its own disk)
        under this machine's ``key``, so that the next run here finds it."""
        body = {
            "utterances": [asdict(u) for u in transcript.utterances],
            "roles": transcript.roles,
            "asr": {**(transcript.asr or {}), "cache_key": key},
        }
        _write_cache(key, body)

    def _recognise(self, path: Path) -> dict[str, Any]:
        t0 = time.perf_counter()
        info = probe(path)
        stereo = info.channels >= 2
        agent = self.options.agent_channel
        roles_of = ((agent, "agent"), (1 - agent, "customer")) if stereo else ((0, "unknown"),)
        segments: list[tuple[str, AsrSegment]] = []
        sounds: list[Any] = []  # mono: segment_features per segment, in the order recognised
        status = DecodeStatus()
        for offset, channels in iter_chunks(path, status=status, info=info):
            heard = [(channel, speaker) for channel, speaker in roles_of if not is_silent(channels[channel])]
            try:  # both channels in one call: their speech units share recognition batches
                found = self.whisper.transcribe_channels(
                    [channels[channel] for channel, _ in heard],
                    telephone=0 < info.sample_rate <= TELEPHONE_RATE,
                    split_chunks=not stereo,
                )
            except (RuntimeError, ValueError) as err:  # this recording only: the batch goes on
                raise InputError(str(path), f"speech recognition failed ({err})") from None
            segments += [
                (speaker, replace(s, start=round(s.start + offset, 2), end=round(s.end + offset, 2)))
                for (_, speaker), channel_segments in zip(heard, found, strict=True)
                for s in channel_segments
            ]
            if not stereo and heard:  # how each segment sounds, while its audio is at hand
                sounds += [segment_features(channels[0], s.start, s.end) for s in found[0]]
        if not stereo:
            order = sorted(range(len(segments)), key=lambda i: segments[i][1].start)
            segments, sounds = [segments[i] for i in order], [sounds[i] for i in order]
        segments.sort(key=lambda item: (item[1].start, item[0]))
        if stereo:
            roles: dict[str, Any] = {
                "method": "stereo channels",
                "agent_channel": "left" if agent == 0 else "right",
                "confidence": 1.0,
            }
        else:
            segments, roles = self._attribute(segments, sounds)
        corrections: list[dict[str, Any]] = []
        utterances = [self._utterance(speaker, seg, corrections, i) for i, (speaker, seg) in enumerate(segments)]
        elapsed = time.perf_counter() - t0
        asr: dict[str, Any] = {
            **self.options.asr.as_dict(),
            "model_dir": str(self.whisper.resolve_model_dir()),
            "audio_seconds": round(status.seconds, 2),
            "source_rate": info.sample_rate,
            "codec": info.codec,
            "channels": info.channels,
            "rtf": round(elapsed / max(status.seconds, 1e-6), 3),
            "corrections": corrections,
            "silent": not utterances,
        }
        cut = truncation(info, status)
        if cut is not None:
            asr["truncated"] = cut.as_dict()
            log.warning("%s: recording is truncated (%s)", path, cut.as_dict())
        return {"utterances": utterances, "roles": roles, "asr": asr}

    def _attribute(
        self, segments: list[tuple[str, AsrSegment]], sounds: list[Any]
    ) -> tuple[list[tuple[str, AsrSegment]], dict[str, Any]]:
        """Mono: who said each segment, from what is said, how it sounds and turn-taking."""
        texts = [self.corrector.correct(seg.text)[0] for _, seg in segments]
        seconds = [seg.end - seg.start for _, seg in segments]
        voices = split_voices(sounds, seconds, text_evidence(texts, self.roles)) if texts else None
        guess = attribute_roles(texts, self.roles, self.company, voice=voices.p_agent if voices else None)
        labelled = [(speaker, seg) for speaker, (_, seg) in zip(guess.speakers, segments, strict=True)]
        unsure = sum(s == "unknown" for s in guess.speakers)
        roles: dict[str, Any] = {
            "method": guess.method,
            "confidence": guess.confidence,
            "unsure": unsure,
            "voices_margin": voices.margin if voices else None,
        }
        if segments and (unsure / len(segments) > UNSURE_SHARE or guess.confidence < UNSURE_CONFIDENCE):
            roles["review"] = True  # the engine warns and qc sample puts the call in front of a person
        return labelled, roles

    def _utterance(
        self, speaker: str, seg: AsrSegment, corrections: list[dict[str, Any]], index: int
    ) -> dict[str, Any]:
        text, fixes = self.corrector.correct(seg.text)
        corrections.extend({"utterance": index, "heard": f.original, "written": f.corrected} for f in fixes)
        return {
            "speaker": speaker,
            "text": text,
            "start": seg.start,
            "end": seg.end,
            "avg_logprob": seg.avg_logprob,
            "no_speech_prob": seg.no_speech_prob,
        }


def _transcript(meta: CallMeta, body: dict[str, Any]) -> Transcript:
    """A call's transcript from a cached (or just recognised) body and the call's metadata."""
    utts = tuple(Utterance(**u) for u in body["utterances"])
    audio = os.path.realpath(meta.path)
    return Transcript(
        meta.call_id,
        meta.agent_id,
        utts,
        meta.agent_name,
        meta.started_at,
        source=audio,
        audio=audio,
        asr=body["asr"],
        roles=body["roles"],
    )


def _cache_file(key: str) -> Path:
    return cache_dir() / "transcripts" / f"{key}.json"


def _write_cache(key: str, body: dict[str, Any]) -> None:
    try:
        write_text_atomic(_cache_file(key), json.dumps(body, ensure_ascii=False), make_parents=True)
    except OutputError as err:  # the transcript is still good; only the next run pays again
        log.warning("transcript cache not written: %s", err)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _read_cache(path: Path) -> dict[str, Any] | None:
    """A cached transcript body, or None when absent or unreadable (then it is transcribed again)."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        log.warning("%s: unreadable cached transcript, transcribing again (%s)", path, err)
        return None
    if not isinstance(body, dict) or not {"utterances", "roles", "asr"} <= body.keys():
        log.warning("%s: cached transcript lacks fields, transcribing again", path)
        return None
    return body


def transcript_file_name(call_id: str) -> str:
    """``<call_id>.json`` with every character outside [A-Za-z0-9._-] and CJK ideographs, and '%' itself,
    percent-encoded (UTF-8): an injective mapping, so ``X/1`` and ``X_1`` never share a file, and no
    call id can name a path outside the folder."""
    return "".join(c if _keep(c) else "".join(f"%{b:02X}" for b in c.encode()) for c in call_id) + ".json"


def _keep(c: str) -> bool:
    return (c.isascii() and (c.isalnum() or c in "._-")) or "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"


def write_transcript(transcript: Transcript, out_dir: str | Path) -> Path:
    """Write SPEC §1 JSON as ``<out_dir>/<encoded call_id>.json``, atomically; OutputError names the file."""
    path = Path(out_dir) / transcript_file_name(transcript.call_id)
    text = json.dumps(transcript_to_dict(transcript), ensure_ascii=False, indent=1) + "\n"
    return write_text_atomic(path, text, make_parents=True)
