"""Which recordings to transcribe, and each call's metadata: from a manifest CSV or the file name.

Manifest: UTF-8 CSV with header ``path,call_id,agent_id,agent_name,started_at``; relative paths are
relative to the manifest's folder. File names: a pattern such as
``{agent_id}_{started_at:%Y%m%d%H%M%S}`` (the default); call_id defaults to the file's stem.

Every path comes out absolute and resolved, so a transcript's ``audio`` still points at the
recording when a later command (``qc examples``) runs from another folder. A recording with no
agent, or with a start time that is not a real date, is an error for that file (or manifest line)
only; the rest of the batch goes on.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qc.errors import InputError
from qc.files import describe_os_error
from qc.formats import parse_started_at
from qc.speech.audio import AUDIO_SUFFIXES

DEFAULT_NAME_PATTERN = "{agent_id}_{started_at:%Y%m%d%H%M%S}"
MANIFEST_COLUMNS = ("path", "call_id", "agent_id", "agent_name", "started_at")
_STRPTIME_TO_REGEX = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}", "%H": r"\d{2}", "%M": r"\d{2}", "%S": r"\d{2}"}


@dataclass(frozen=True, slots=True)
class CallMeta:
    """One recording to transcribe: its absolute path and the call's metadata."""

    path: str
    call_id: str
    agent_id: str
    agent_name: str | None = None
    started_at: str | None = None


def read_manifest(manifest: str | Path) -> list[CallMeta | InputError]:
    """One entry per row: CallMeta, or an InputError naming the manifest line."""
    manifest = Path(os.path.realpath(manifest))
    try:
        text = manifest.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [InputError(str(manifest), "manifest is not UTF-8; save it as UTF-8 CSV")]
    except OSError as err:
        return [InputError(str(manifest), f"cannot read manifest ({describe_os_error(err)})")]
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("path", "agent_id") if c not in (reader.fieldnames or [])]
    if missing:
        expected = ",".join(MANIFEST_COLUMNS)
        return [InputError(str(manifest), f"manifest header lacks {', '.join(missing)} (expected {expected})")]
    return [_manifest_row(manifest, line, row) for line, row in enumerate(reader, start=2)]


def _manifest_row(manifest: Path, line: int, row: dict[str, str | None]) -> CallMeta | InputError:
    where = f"{manifest}:{line}"
    raw_path = (row.get("path") or "").strip()
    if not raw_path:
        return InputError(where, "empty 'path'")
    path = Path(os.path.realpath(manifest.parent / Path(raw_path).expanduser()))
    named = f"{path} ({where})"
    if not path.is_file():
        return InputError(named, "recording not found" if not path.exists() else "not a file")
    agent = (row.get("agent_id") or "").strip()
    if not agent:
        return InputError(named, "no agent_id in the manifest row")
    started = (row.get("started_at") or "").strip() or None
    if started is not None:
        try:
            started = parse_started_at(started)
        except ValueError as err:
            return InputError(named, str(err))
    return CallMeta(
        str(path),
        (row.get("call_id") or "").strip() or path.stem,
        agent,
        (row.get("agent_name") or "").strip() or None,
        started,
    )


def _pattern_regex(pattern: str) -> tuple[re.Pattern[str], dict[str, str]]:
    formats: dict[str, str] = {}
    regex = ""
    pos = 0
    for m in re.finditer(r"\{(\w+)(?::([^}]+))?\}", pattern):
        regex += re.escape(pattern[pos : m.start()])
        name, fmt = m.group(1), m.group(2)
        if fmt:
            formats[name] = fmt
            part = fmt
            for code, rx in _STRPTIME_TO_REGEX.items():
                part = part.replace(code, rx)
            regex += f"(?P<{name}>{part})"
        else:
            regex += f"(?P<{name}>.+?)"
        pos = m.end()
    regex += re.escape(pattern[pos:])
    return re.compile(regex + r"$"), formats


def meta_from_name(path: str | Path, pattern: str = DEFAULT_NAME_PATTERN) -> CallMeta:
    """Parse call metadata from a file name; InputError when the agent or the start time cannot be read."""
    path = Path(os.path.realpath(Path(path).expanduser()))
    regex, formats = _pattern_regex(pattern)
    m = regex.match(path.stem)
    if not m or not m.groupdict().get("agent_id"):
        raise InputError(str(path), f"no agent: file name does not match {pattern!r} and no manifest row names it")
    fields = m.groupdict()
    started = fields.get("started_at")
    if started:
        try:
            if "started_at" in formats:
                started = datetime.strptime(started, formats["started_at"]).isoformat()
            started = parse_started_at(started)
        except ValueError:
            wanted = formats.get("started_at", "ISO 8601 such as 2026-11-03T09:15:00")
            raise InputError(
                str(path), f"file name gives started_at {started!r}, not a valid date and time ({wanted})"
            ) from None
    return CallMeta(
        str(path), fields.get("call_id") or path.stem, fields["agent_id"], fields.get("agent_name"), started
    )


def resolve_recordings(
    paths: Iterable[str | Path], name_pattern: str = DEFAULT_NAME_PATTERN
) -> list[CallMeta | InputError]:
    """Audio files, folders of them and manifest CSVs → metadata per recording (or the error), in order."""
    out: list[CallMeta | InputError] = []
    for raw in paths:
        p = Path(raw)
        if p.suffix.lower() == ".csv":
            out.extend(read_manifest(p))
            continue
        if not p.exists():
            out.append(InputError(str(p), "file not found"))
            continue
        files = (
            sorted(q for q in p.rglob("*") if q.suffix.lower() in AUDIO_SUFFIXES and q.is_file()) if p.is_dir() else [p]
        )
        for f in files:
            try:
                out.append(meta_from_name(f, name_pattern))
            except InputError as err:
                out.append(err)
    return out
