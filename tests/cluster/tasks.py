"""Tasks for the Ray tests: module-level functions, so that Ray workers import them by name (the
repository is on the workers' sys.path: the test fixture passes it in PYTHONPATH)."""

from __future__ import annotations

import os
from pathlib import Path

from qc.cluster.recordings import _transcribe as real_transcribe
from qc.speech.recordings import CallMeta

# Recordings whose call_id starts with this kill the Ray worker that transcribes them, every time.
CRASHING_AGENT = "3072"


def setup_marker(folder: str) -> Path:
    return Path(folder)


def upper_or_die_once(marker_folder: object, item: str) -> str:
    """``item`` in capitals; the first attempt on ``victim`` kills its own worker process mid-item
    (leaving a marker, so that the retry goes through)."""
    marker = Path(str(marker_folder)) / f"{item}.died"
    if item == "victim" and not marker.exists():
        marker.write_text(str(os.getpid()))
        os._exit(1)
    return item.upper()


def name_of(item: str) -> str:
    return item


def transcribe_or_crash(state: object, meta: CallMeta) -> object:
    """The workers' recognition, except that the worker dies on the crashing agent's recordings."""
    if meta.call_id.startswith(CRASHING_AGENT):
        os._exit(1)
    return real_transcribe(state, meta)
