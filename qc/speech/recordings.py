"""Call metadata for recordings: from a manifest CSV, or parsed from the file name.

Manifest: UTF-8 CSV with header ``path,call_id,agent_id,agent_name,started_at``; relative paths are
relative to the manifest's folder. File names: a pattern such as
``{agent_id}_{started_at:%Y%m%d%H%M%S}`` (the default); call_id defaults to the file's stem.
A recording with no resolvable agent is an error for that file only.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from qc.errors import InputError

DEFAULT_NAME_PATTERN = "{agent_id}_{started_at:%Y%m%d%H%M%S}"
MANIFEST_COLUMNS = ("path", "call_id", "agent_id", "agent_name", "started_at")
_STRPTIME_TO_REGEX = {"%Y": r"\d{4}", "%m": r"\d{2}", "%d": r"\d{2}", "%H": r"\d{2}", "%M": r"\d{2}", "%S": r"\d{2}"}


@dataclass(frozen=True, slots=True)
class CallMeta:
    path: str
    call_id: str
    agent_id: str
    agent_name: str | None = None
    started_at: str | None = None


def read_manifest(manifest: str | Path) -> list[CallMeta | InputError]:
    """One entry per row: CallMeta, or an InputError naming the manifest line."""
    manifest = Path(manifest)
    try:
        text = manifest.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return [InputError(str(manifest), "manifest is not UTF-8; save it as UTF-8 CSV")]
    except OSError as err:
        return [InputError(str(manifest), f"cannot read manifest ({err.strerror})")]
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in ("path", "agent_id") if c not in (reader.fieldnames or [])]
    if missing:
        return [
            InputError(
                str(manifest), f"manifest header lacks {', '.join(missing)} (expected {','.join(MANIFEST_COLUMNS)})"
            )
        ]
    out: list[CallMeta | InputError] = []
    for line, row in enumerate(reader, start=2):
        raw_path = (row.get("path") or "").strip()
        where = f"{manifest}:{line}"
        if not raw_path:
            out.append(InputError(where, "empty 'path'"))
            continue
        path = Path(raw_path)
        path = path if path.is_absolute() else manifest.parent / path
        agent = (row.get("agent_id") or "").strip()
        if not agent:
            out.append(InputError(f"{path} ({where})", "no agent_id in the manifest row"))
            continue
        out.append(
            CallMeta(
                str(path),
                (row.get("call_id") or "").strip() or path.stem,
                agent,
                (row.get("agent_name") or "").strip() or None,
                (row.get("started_at") or "").strip() or None,
            )
        )
    return out


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
    """Parse call metadata from a file name; InputError when the agent cannot be found."""
    path = Path(path)
    regex, formats = _pattern_regex(pattern)
    m = regex.match(path.stem)
    if not m or not m.groupdict().get("agent_id"):
        raise InputError(str(path), f"no agent: file name does not match {pattern!r} and no manifest row names it")
    fields = m.groupdict()
    started = fields.get("started_at")
    if started and "started_at" in formats:
        try:
            started = datetime.strptime(started, formats["started_at"]).isoformat()
        except ValueError:
            raise InputError(str(path), f"started_at {started!r} does not match {formats['started_at']}") from None
    return CallMeta(
        str(path), fields.get("call_id") or path.stem, fields["agent_id"], fields.get("agent_name"), started
    )
