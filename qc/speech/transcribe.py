"""Recordings → SPEC §1 transcripts: decode, recognise each channel, correct, attribute roles, cache.

Stereo: one channel per role (``agent_channel``: 0 = left, the default), each transcribed, merged
by time with overlaps kept (the interruption rule needs them). Mono: roles attributed per segment
with a confidence (qc.speech.roles); unsure segments stay ``unknown`` and are not scored.

Every result is cached under the audio's content hash + model + settings + correction terms, so a
call is never transcribed twice and an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from qc.speech.whisper import AsrSegment, AsrSettings, WhisperTranscriber, model_fingerprint
from qc.speech.audio import AUDIO_SUFFIXES, SAMPLE_RATE, is_silent, iter_chunks, probe
from qc.speech.correct import HomophoneCorrector
from qc.config import cache_dir
from qc.errors import InputError, QCError
from qc.inspection.lexicon import load_lexicon
from qc.speech.recordings import DEFAULT_NAME_PATTERN, CallMeta, meta_from_name, read_manifest
from qc.speech.roles import RoleModel, attribute_roles
from qc.inspection.rules import ScriptRule
from qc.schema import Transcript, Utterance
from qc.formats import transcript_to_dict


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    asr: AsrSettings = field(default_factory=AsrSettings)
    agent_channel: int = 0
    force: bool = False
    jobs: int = 1


def correction_terms(lexicon_dir: str | Path) -> tuple[list[str], list[str]]:
    """(terms to protect, company names) from lexicons/asr.yaml, settings and the script rules."""
    lexicon = load_lexicon(lexicon_dir)
    terms = list(lexicon.settings.company)
    asr_file = Path(lexicon_dir) / "asr.yaml"
    if asr_file.is_file():
        data = yaml.safe_load(asr_file.read_text(encoding="utf-8-sig")) or {}
        terms += [t for t in data.get("terms", []) if isinstance(t, str)]
    for rule in lexicon.rules:
        if isinstance(rule, ScriptRule):
            terms += [lit for p in rule.patterns for lit in p.literals if len(lit) >= 4]
    return sorted(set(terms)), list(lexicon.settings.company)


class CallTranscriber:
    """Everything one worker needs, built once: the model, the corrector, the role model."""

    def __init__(self, options: TranscribeOptions, lexicon_dir: str) -> None:
        self.options = options
        self.whisper = WhisperTranscriber(options.asr)
        terms, self.company = correction_terms(lexicon_dir)
        self.corrector = HomophoneCorrector(terms)
        self.roles = RoleModel.load()
        self._terms_hash = hashlib.sha256("\n".join(terms).encode()).hexdigest()[:8]

    def cache_key(self, audio_hash: str) -> str:
        self.whisper.load()
        assert self.whisper.model_dir is not None
        settings = json.dumps(
            {
                **self.options.asr.as_dict(),
                "agent_channel": self.options.agent_channel,
                "model": model_fingerprint(self.whisper.model_dir),
                "terms": self._terms_hash,
                "version": 3,
            },
            sort_keys=True,
        )
        return hashlib.sha256((audio_hash + settings).encode()).hexdigest()[:24]

    def transcribe(self, meta: CallMeta) -> Transcript:
        path = Path(meta.path)
        try:
            audio_hash = _file_hash(path)
        except OSError as err:
            raise InputError(str(path), f"cannot read recording ({err.strerror})") from None
        key = self.cache_key(audio_hash)
        cached = cache_dir() / "transcripts" / f"{key}.json"
        if cached.is_file() and not self.options.force:
            body = json.loads(cached.read_text(encoding="utf-8"))
        else:
            body = self._recognise(path)
            body["asr"]["cache_key"] = key
            _atomic_write(cached, json.dumps(body, ensure_ascii=False))
        utts = tuple(Utterance(**u) for u in body["utterances"])
        return Transcript(
            meta.call_id,
            meta.agent_id,
            utts,
            meta.agent_name,
            meta.started_at,
            source=str(path),
            audio=str(path),
            asr=body["asr"],
            roles=body["roles"],
        )

    def _recognise(self, path: Path) -> dict[str, Any]:
        t0 = time.perf_counter()
        n_channels, source_rate, codec, _ = probe(path)
        stereo = n_channels >= 2
        agent = self.options.agent_channel
        roles_of = ((agent, "agent"), (1 - agent, "customer")) if stereo else ((0, "unknown"),)
        segments: list[tuple[str, AsrSegment]] = []
        duration = 0.0
        for offset, channels in iter_chunks(path):
            duration = offset + len(channels[0]) / SAMPLE_RATE
            for channel, speaker in roles_of:
                if is_silent(channels[channel]):
                    continue
                for seg in self.whisper.transcribe(channels[channel]):
                    segments.append(
                        (speaker, replace(seg, start=round(seg.start + offset, 2), end=round(seg.end + offset, 2)))
                    )
        segments.sort(key=lambda item: (item[1].start, item[0]))
        roles: dict[str, Any]
        if stereo:
            roles = {"method": "stereo channels", "agent_channel": "left" if agent == 0 else "right", "confidence": 1.0}
        else:
            guess = attribute_roles(
                [self.corrector.correct(seg.text)[0] for _, seg in segments], self.roles, self.company
            )
            segments = [(speaker, seg) for speaker, (_, seg) in zip(guess.speakers, segments, strict=True)]
            roles = {
                "method": guess.method,
                "confidence": guess.confidence,
                "unsure": sum(s == "unknown" for s in guess.speakers),
            }
        corrections: list[dict[str, Any]] = []
        utterances = [self._utterance(speaker, seg, corrections, i) for i, (speaker, seg) in enumerate(segments)]
        elapsed = time.perf_counter() - t0
        asr = {
            **self.options.asr.as_dict(),
            "model_dir": str(self.whisper.model_dir),
            "audio_seconds": round(duration, 2),
            "source_rate": source_rate,
            "codec": codec,
            "channels": n_channels,
            "rtf": round(elapsed / max(duration, 1e-6), 3),
            "corrections": corrections,
            "silent": not utterances,
        }
        return {"utterances": utterances, "roles": roles, "asr": asr}

    def _utterance(self, speaker: str, seg: Any, corrections: list[dict[str, Any]], index: int) -> dict[str, Any]:
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


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_transcript(transcript: Transcript, out_dir: Path) -> Path:
    """Write SPEC §1 JSON as <out_dir>/<call_id>.json, atomically."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in transcript.call_id)
    path = out_dir / f"{safe}.json"
    _atomic_write(path, json.dumps(transcript_to_dict(transcript), ensure_ascii=False, indent=1) + "\n")
    return path


def resolve_recordings(paths: Iterable[str], name_pattern: str = DEFAULT_NAME_PATTERN) -> list[CallMeta | InputError]:
    """Audio files, folders of them and manifest CSVs → metadata per recording (or the error)."""
    out: list[CallMeta | InputError] = []
    for raw in paths:
        p = Path(raw)
        if p.suffix.lower() == ".csv":
            out.extend(read_manifest(p))
            continue
        files = sorted(q for q in p.rglob("*") if q.suffix.lower() in AUDIO_SUFFIXES) if p.is_dir() else [p]
        for f in files:
            try:
                out.append(meta_from_name(f, name_pattern))
            except InputError as err:
                out.append(err)
    return out


_worker: CallTranscriber | None = None


def _init_worker(options: TranscribeOptions, lexicon_dir: str) -> None:
    global _worker
    _worker = CallTranscriber(options, lexicon_dir)


def _run_one(meta: CallMeta) -> Transcript | InputError:
    assert _worker is not None
    try:
        return _worker.transcribe(meta)
    except InputError as err:
        return err
    except QCError as err:
        return InputError(meta.path, str(err).removeprefix(f"{meta.path}: "))


def transcribe_many(
    metas: list[CallMeta],
    options: TranscribeOptions,
    lexicon_dir: str,
    on_result: Callable[[Transcript | InputError], None] | None = None,
) -> Iterator[Transcript | InputError]:
    """Transcribe recordings with ``options.jobs`` worker processes (threads split between them)."""
    jobs = max(1, min(options.jobs, len(metas)))
    if jobs == 1:
        _init_worker(options, lexicon_dir)
        for meta in metas:
            yield _run_one(meta)
        return
    threads = max(1, (os.cpu_count() or 1) // jobs)
    per_worker = replace(options, asr=replace(options.asr, cpu_threads=threads), jobs=1)
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(per_worker, lexicon_dir)) as pool:
        yield from pool.map(_run_one, metas)
