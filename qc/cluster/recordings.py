"""Recordings through Ray (``qc transcribe|score --ray``): the workers recognise speech; the driver skips
what is already transcribed, caches what comes back and finishes each call with the pipeline's own task.

- Skipping: the driver reads each recording once, hashes it and looks up the transcript cache under the
  key ``CallTranscriber`` uses (its own ``audio_key``/``cached``). A recording transcribed before under
  the same settings never leaves the driver, so a rerun of a finished batch submits nothing (and starts
  no Ray at all).
- Workers get the bytes (qc.cluster.shipping) and the recogniser's settings only: no lexicon, no rule
  engine, no scoring models — a worker process sets up in milliseconds, loads Whisper on its first
  recording, and a GPU box needs nothing but qc and the model. Each transcript that comes back is
  written to the driver's cache (a worker's disk may be another machine's).
- Finishing: the pipeline's task runs in the driver on the transcript that came back (for ``qc score``:
  the silent-call check and scoring, a few milliseconds a call against a minute of recognition), so a
  call is scored the same way whether it was cached or just transcribed. Workers never touch the
  database: the pipeline stores results in the driver as they arrive.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from qc.cluster.connect import LOCAL, RayTarget
from qc.cluster.driver import Placement, run_on_ray
from qc.cluster.shipping import Shipped, shipped_task
from qc.errors import Failure, QCError
from qc.files import describe_os_error
from qc.schema import Transcript
from qc.speech.recordings import CallMeta
from qc.speech.transcribe import CallTranscriber, TranscribeOptions
from qc.workers import Task, run_safely

log = logging.getLogger(__name__)

R = TypeVar("R")


def recognise_on_ray(
    task: Task[CallMeta, R], recordings: Sequence[CallMeta], address: str, jobs: int
) -> Iterator[R | Failure]:
    """One outcome per recording, in completion order, as ``task`` (the pipeline's recognition task,
    whose state holds a ``CallTranscriber``) would give it, the speech recognised by Ray workers.

    ``address``: ``local``, ``auto`` or a cluster's; ``jobs``: the local Ray's worker count. Each Ray task
    asks the CPU threads the transcriber is set to (``cpu_threads``), and one GPU with ``--device cuda``.
    Raises AsrError before anything is submitted when the model cannot be found here (the cache key
    names the model), and ClusterError when Ray cannot be started or reached.
    """
    state = task.setup(*task.setup_args)  # Whisper loads lazily: never here, unless a cache file vanishes
    transcriber = _transcriber_in(state)
    transcriber.cache_key("")  # the model's fingerprint: an AsrError now, not one failure per recording
    asr = transcriber.options.asr
    threads = asr.cpu_threads or 1
    placement = Placement(num_cpus=threads, num_gpus=1 if asr.device == "cuda" else 0)
    target = RayTarget(address, max(os.cpu_count() or 1, jobs * threads) if address == LOCAL else None)
    remote: Task[CallMeta, Transcript] = Task(
        _setup_transcriber, (transcriber.options, transcriber.terms, transcriber.company), _transcribe, _name
    )
    counts = {"cached": 0, "sent": 0}

    def shipments() -> Iterator[Shipped | Failure]:
        for meta in recordings:
            try:
                with open(meta.path, "rb") as f:
                    data = f.read()
            except OSError as err:
                reason = "file not found" if isinstance(err, FileNotFoundError) else describe_os_error(err)
                yield Failure(meta.path, f"cannot read recording ({reason})")
                continue
            yield Shipped(meta, data, transcriber.audio_key(data))

    def before(item: Shipped | Failure) -> R | Failure | None:
        if isinstance(item, Failure):
            return item
        cached = transcriber.cached(item.meta, item.key)
        if cached is None:
            counts["sent"] += 1
            return None
        counts["cached"] += 1
        return run_safely(task, _with_transcript(state, cached), item.meta)

    def finish(item: Shipped, transcript: Transcript) -> R | Failure:
        try:
            transcriber.remember(item.key, transcript)
        except Exception:  # noqa: BLE001 - the transcript is still good; only the next run pays again
            log.warning("%s: transcript not cached", item.meta.path, exc_info=True)
        return run_safely(task, _with_transcript(state, transcript), item.meta)

    yield from run_on_ray(shipped_task(remote), shipments(), target, placement=placement, before=before, finish=finish)
    log.info("Ray: %d recording(s) from the cache, %d sent to the workers", counts["cached"], counts["sent"])


# --- the workers' task: recognition only ---------------------------------------------------------


def _setup_transcriber(options: TranscribeOptions, terms: Sequence[str], company: Sequence[str]) -> CallTranscriber:
    return CallTranscriber(options, terms, company)


def _transcribe(state: object, meta: CallMeta) -> Transcript:
    assert isinstance(state, CallTranscriber)
    return state.transcribe(meta)


def _name(meta: CallMeta) -> str:
    return meta.path


# --- finishing in the driver ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Recognised:
    """Stands in for the driver's CallTranscriber while the pipeline's task finishes one call: its
    ``transcribe`` gives the transcript already at hand (from a worker, or the cache), so the file is
    not read again and the model never loads in the driver."""

    transcript: Transcript

    def transcribe(self, meta: CallMeta) -> Transcript:
        return self.transcript


def _with_transcript(state: Any, transcript: Transcript) -> Any:
    """The task's state with its CallTranscriber replaced by ``_Recognised(transcript)``."""
    if isinstance(state, CallTranscriber):
        return _Recognised(transcript)
    return tuple(_Recognised(transcript) if isinstance(part, CallTranscriber) else part for part in state)


def _transcriber_in(state: object) -> CallTranscriber:
    """The CallTranscriber in a recognition task's state (itself, or an element of the state tuple)."""
    parts = state if isinstance(state, tuple) else (state,)
    for part in parts:
        if isinstance(part, CallTranscriber):
            return part
    raise QCError("internal error: a recognition task's state holds no CallTranscriber; please report it")
