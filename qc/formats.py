"""Read transcript JSON files (SPEC §1) and write results (SPEC §2).

Every problem with one input becomes an InputError naming the file and the field, so a batch
can report it on one line and go on with the other calls.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from qc.errors import InputError
from qc.files import describe_os_error
from qc.schema import SPEAKERS, CallResult, Check, Transcript, Utterance
from qc.text.mask import mask_text

# Limits on one input, so that one absurd file cannot stall or bloat a batch. A real turn is at most
# a few hundred characters (Whisper's segments are ≤ 30 s); an eight-hour call is ~120,000.
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UTTERANCE_CHARS = 5_000
MAX_CALL_CHARS = 500_000

_TOP_KEYS = {"call_id", "agent_id", "agent_name", "started_at", "utterances", "audio", "asr", "roles", "team"}


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_started_at(value: str) -> str:
    """Check a call's start time and return it in ISO 8601; ValueError with the reason otherwise.

    Accepted: ISO 8601 date and time, with or without an offset (``2026-11-03T09:15:00+08:00``,
    ``2026-11-03 09:15``, ``2026-11-03T01:15:00Z``) or a bare date. The month of the monthly sheet is
    read from it, so anything else (``yesterday afternoon``, ``21/11/2026 10:00``, ``2026-02-30``)
    is refused rather than stored with no month.
    """
    text = value.strip()
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"started_at {value!r} is not a date and time like 2026-11-03T09:15:00+08:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"started_at {value!r} is not a valid date and time (expected ISO 8601 like 2026-11-03T09:15:00+08:00)"
        ) from None
    return parsed.date().isoformat() if _DATE_ONLY.fullmatch(text) else parsed.isoformat()


def read_transcript(path: str | Path) -> Transcript:
    """Load and validate one transcript file."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(
                str(path), f"file is {size / 1e6:.0f} MB; a transcript may be at most {MAX_FILE_BYTES // 2**20} MB"
            )
        raw = path.read_bytes()
    except OSError as err:
        raise InputError(str(path), f"cannot read file ({describe_os_error(err)})") from None
    # UTF-8 (with or without BOM) is the format; UTF-16 with a BOM (what Windows editors call
    # "Unicode") is unambiguous, so it is read too rather than refused.
    encoding = "utf-16" if raw[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        raise InputError(str(path), f"not UTF-8 (byte {err.start}; GBK?) — save the file as UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(str(path), f"invalid JSON at line {err.lineno} column {err.colno}: {err.msg}") from None
    except RecursionError:
        raise InputError(str(path), "invalid transcript: JSON nested too deeply") from None
    transcript = transcript_from_dict(data, str(path))
    if transcript.audio and not Path(transcript.audio).is_absolute():
        # A recording named relative to the transcript file is stored as an absolute path, so
        # exports run from any other folder still find it.
        return replace(transcript, audio=os.path.realpath(path.parent / transcript.audio))
    return transcript


# Longest identifiers the database keeps (and a person can read in a sheet); agent names likewise.
_MAX_FIELD_CHARS = {"call_id": 128, "agent_id": 64, "agent_name": 100, "started_at": 40}
# Characters no database column or spreadsheet takes: NUL and lone surrogates (broken UTF-16 in JSON
# escapes). Found here, one input fails with its field named; found by PostgreSQL, a batch would.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str, field: str, where: str) -> str:
    bad = _UNSTORABLE.search(text)
    if bad:
        what = "a NUL character" if bad.group() == "\x00" else f"invalid Unicode (lone surrogate {bad.group()!a})"
        raise InputError(where, f"{field} contains {what} at position {bad.start()}")
    return text


def _text_field(data: Mapping[str, Any], key: str, where: str, required: bool) -> str | None:
    value = data.get(key)
    if isinstance(value, str):
        value = value.strip()
    if value is None or value == "":
        if required:
            raise InputError(where, f"'{key}' is missing")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise InputError(where, f"'{key}' must be text, got {type(value).__name__}")
    limit = _MAX_FIELD_CHARS.get(key)
    if limit is not None and len(value) > limit:
        raise InputError(where, f"'{key}' is {len(value)} characters long; at most {limit} are allowed")
    return _storable(value, f"'{key}'", where)


def _time_field(u: Mapping[str, Any], key: str, where: str, index: int) -> float | None:
    value = u.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InputError(where, f"utterances[{index}].{key} must be a number of seconds ≥ 0, got {value!r}")
    return float(value)


def transcript_from_dict(data: Any, where: str = "<transcript>") -> Transcript:
    """Validate a decoded transcript object; raises InputError naming the field."""
    if not isinstance(data, dict):
        raise InputError(where, f"top level must be a JSON object, got {type(data).__name__}")
    call_id = _text_field(data, "call_id", where, True)
    agent_id = _text_field(data, "agent_id", where, True)
    utts_raw = data.get("utterances")
    if not isinstance(utts_raw, list):
        raise InputError(where, "'utterances' must be a list" if "utterances" in data else "'utterances' is missing")
    if not utts_raw:
        raise InputError(where, "'utterances' is empty: nothing to score")
    utterances = []
    total_chars = 0
    for i, u in enumerate(utts_raw):
        if type(u) is not dict:
            raise InputError(where, f"utterances[{i}] must be an object, got {type(u).__name__}")
        speaker = u.get("speaker")
        if speaker not in SPEAKERS:
            raise InputError(where, f"utterances[{i}].speaker must be one of {', '.join(SPEAKERS)}, got {speaker!r}")
        text = u.get("text")
        if type(text) is not str:
            raise InputError(where, f"utterances[{i}].text must be text, got {type(text).__name__}")
        if len(text) > MAX_UTTERANCE_CHARS:
            raise InputError(
                where,
                f"utterances[{i}].text is {len(text):,} characters; the limit is {MAX_UTTERANCE_CHARS:,} per utterance "
                "(split the turn into sentences or time segments)",
            )
        _storable(text, f"utterances[{i}].text", where)
        total_chars += len(text)
        if total_chars > MAX_CALL_CHARS:
            raise InputError(where, f"the call's text exceeds {MAX_CALL_CHARS:,} characters; split the recording")
        start, end = u.get("start"), u.get("end")
        # Fast path for the usual case (plain non-negative numbers); anything else gets the full check.
        if not (type(start) is float or start is None) or (start is not None and not 0 <= start < _INF):
            start = _time_field(u, "start", where, i)
        if not (type(end) is float or end is None) or (end is not None and not 0 <= end < _INF):
            end = _time_field(u, "end", where, i)
        if start is not None and end is not None and end < start:
            raise InputError(where, f"utterances[{i}] ends ({end}) before it starts ({start})")
        logprob, no_speech = u.get("avg_logprob"), u.get("no_speech_prob")
        utterances.append(
            Utterance(
                speaker,
                text,
                start,
                end,
                None if logprob is None else _opt_float(logprob),
                None if no_speech is None else _opt_float(no_speech),
            )
        )
    return Transcript(
        call_id=call_id,  # type: ignore[arg-type]
        agent_id=agent_id,  # type: ignore[arg-type]
        utterances=tuple(utterances),
        agent_name=_text_field(data, "agent_name", where, False),
        started_at=_started_at(data, where),
        source=where,
        audio=data.get("audio") if isinstance(data.get("audio"), str) else None,
        asr=data.get("asr") if isinstance(data.get("asr"), dict) else None,
        roles=data.get("roles") if isinstance(data.get("roles"), dict) else None,
    )


_INF = float("inf")


def _started_at(data: Mapping[str, Any], where: str) -> str | None:
    value = _text_field(data, "started_at", where, False)
    if value is None:
        return None
    try:
        return parse_started_at(value)
    except ValueError as err:
        raise InputError(where, str(err)) from None


def _opt_float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def transcript_to_dict(t: Transcript) -> dict[str, Any]:
    """The SPEC §1 form (what ``qc transcribe`` writes)."""
    out: dict[str, Any] = {"call_id": t.call_id, "agent_id": t.agent_id}
    if t.agent_name:
        out["agent_name"] = t.agent_name
    if t.started_at:
        out["started_at"] = t.started_at
    for key in ("audio", "asr", "roles"):
        if getattr(t, key):
            out[key] = getattr(t, key)
    # Field by field rather than dataclasses.asdict, whose recursion costs 5 ms a call here.
    fields = ("speaker", "text", "start", "end", "avg_logprob", "no_speech_prob")
    out["utterances"] = [{f: v for f in fields if (v := getattr(u, f)) is not None} for u in t.utterances]
    return out


def checks_to_dict(checks: Mapping[str, Check]) -> dict[str, dict[str, Any]]:
    """SPEC §2 ``checks``: {"opening": {"ok": true, "utterance": 0, "job_number": "1024"}, …}."""
    return {name: {"ok": c.ok, "utterance": c.utterance, **c.detail} for name, c in checks.items()}


def result_to_dict(r: CallResult, mask: bool = False) -> dict[str, Any]:
    """The SPEC §2 form: one JSON object per call.

    ``mask``: customers' phone, ID and card numbers and street addresses in the hits' quoted text
    and context are replaced by asterisks — the default of every output a person reads
    (``qc score --json`` included); the database keeps the words as said.
    """
    hits = [asdict(h) for h in r.hits]
    if mask:
        for h in hits:
            h["text"], h["context"] = mask_text(h["text"]), mask_text(h["context"])
    return {
        "call_id": r.call_id,
        "agent_id": r.agent_id,
        "agent_name": r.agent_name,
        "started_at": r.started_at,
        "ruleset": r.ruleset,
        "score": r.score,
        "veto": r.veto,
        "checks": checks_to_dict(r.checks),
        "polite": {"count": r.polite_count, "terms": dict(r.polite_terms)},
        "hits": hits,
        "items": {name: asdict(score) for name, score in r.items.items()},
        "categories": [asdict(c) for c in r.categories],
        "warnings": list(r.warnings),
        "source": r.source,
    }
