"""Recordings for the player: the file itself, answering HTTP ``Range`` requests (206) so the browser
can seek in a long call without downloading all of it, and the waveform's peaks.

The file is Starlette's ``FileResponse`` (whose range parsing carries the fix for CVE-2025-62727:
pyproject pins ``starlette>=0.49.1``). The peaks are computed here with the decoder that transcribes
calls (PyAV, bundled FFmpeg) rather than in the browser: the browser then never downloads the whole
recording to draw it, and A-law/µ-law WAVs that a browser's WebAudio cannot decode still get a waveform.
"""

from __future__ import annotations

import mimetypes
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.engine import Connection

from qc.console.errors import RefusedError
from qc.errors import QCError
from qc.store.tables import calls

MEDIA_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg",
               ".opus": "audio/ogg", ".m4a": "audio/mp4", ".amr": "audio/amr"}  # fmt: skip
PEAK_BINS = 1600
_BLOCK = 160  # samples per first-pass peak: 10 ms at the decoder's 16 kHz


def recording_of(conn: Connection, call_id: str) -> Path | None:
    """The call's recording when it has one on disk (the stored absolute path, ``calls.audio``)."""
    stored = conn.execute(select(calls.c.audio).where(calls.c.call_id == call_id)).scalar()
    if not stored:
        return None
    path = Path(stored)
    return path if path.is_file() else None


def require_recording(conn: Connection, call_id: str) -> Path:
    path = recording_of(conn, call_id)
    if path is None:
        stored = conn.execute(select(calls.c.audio).where(calls.c.call_id == call_id)).scalar()
        why = f"its recording {stored} is not on this machine any more" if stored else "it has no recording"
        raise RefusedError(404, f"call {call_id}: {why}")
    return path


def recording_response(path: Path) -> FileResponse:
    media_type = (
        MEDIA_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    return FileResponse(path, media_type=media_type)


class PeakCache:
    """Peaks per recording file, kept for the last ``size`` files (keyed by path, size and mtime, so a
    replaced file is read again)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, int, int], dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> dict[str, Any]:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = peaks(path)
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def peaks(path: Path, bins: int = PEAK_BINS) -> dict[str, Any]:
    """``{"duration": seconds, "channels": [[peak, …] per channel]}``, each peak the largest absolute
    sample of its stretch (0–1), at most ``bins`` per channel."""
    from qc.speech.audio import SAMPLE_RATE, iter_chunks

    firsts: list[list[np.ndarray]] = []
    samples = 0
    try:
        for _offset, channels in iter_chunks(path):
            if not firsts:
                firsts = [[] for _ in channels]
            for store, audio in zip(firsts, channels, strict=True):
                usable = len(audio) - len(audio) % _BLOCK
                blocks = np.abs(audio[:usable]).reshape(-1, _BLOCK).max(axis=1) if usable else np.zeros(0)
                rest = np.abs(audio[usable:]).max(keepdims=True) if len(audio) > usable else np.zeros(0)
                store.append(np.concatenate([blocks, rest]))
            samples += len(channels[0])
    except QCError as err:
        raise RefusedError(422, f"the recording cannot be decoded for its waveform: {err}") from None
    out = []
    for store in firsts:
        joined = np.concatenate(store) if store else np.zeros(0)
        groups = max(1, -(-len(joined) // bins))
        padded = np.pad(joined, (0, (-len(joined)) % groups))
        out.append([round(float(v), 3) for v in padded.reshape(-1, groups).max(axis=1)] if len(padded) else [])
    return {"duration": samples / SAMPLE_RATE, "channels": out}
