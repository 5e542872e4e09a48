"""Recordings travel to Ray workers as bytes, so no node needs the driver's filesystem.

Chosen over a shared path because a call centre's recordings usually sit on the machine (or the NAS
mount) that runs ``qc score``, not on every GPU box that joins the cluster; the cost is the driver
reading each file once (it hashes it anyway, to skip what is cached) and the bytes crossing the
network (a 10-minute 8 kHz call is about 5 MB — transcribing it takes a minute). Ray moves the bytes
through its object store; at most the driver's window of recordings is in flight.

A worker writes the bytes to a temporary file with the recording's own suffix (the decoder reads files,
and the suffix helps it know the format), runs the pipeline's task on it, deletes it, and puts the
original path back wherever the temporary one shows: the transcript's ``source`` and ``audio``, the
result's, and a failure's path and reason — a user is told about their file, never about /tmp.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from qc.errors import Failure
from qc.speech.recordings import CallMeta
from qc.workers import Task, run_safely

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Shipped:
    """A recording on its way to a worker: the call's metadata (with the driver's path), the file's bytes,
    and the driver's cache key for them (the driver caches what comes back under it)."""

    meta: CallMeta
    data: bytes
    key: str


def shipped_task(task: Task[CallMeta, R]) -> Task[Shipped, R]:
    """``task`` over recordings sent as bytes: same setup, same results, the original paths kept."""
    return Task(_setup, (task, os.environ.get("OMP_NUM_THREADS")), _run, _name)


def _setup(task: Task[CallMeta, Any], driver_omp: str | None) -> tuple[Task[CallMeta, Any], object]:
    _blas_as_in_a_pool(driver_omp)
    return task, task.setup(*task.setup_args)


def _blas_as_in_a_pool(driver_omp: str | None) -> None:
    """Give numpy's BLAS the threads a process-pool worker on this machine has.

    Ray sets OMP_NUM_THREADS to a task's CPUs (1) in its workers; a pool worker inherits the driver's
    environment, where it is usually unset, so its BLAS uses every core. numpy's BLAS computes the
    log-mel features, and its thread count changes their last bits, which changes a word now and
    then (measured on tests/data/audio: 你好/您好, a logprob in the third decimal). Same threads, same
    floats: Ray and the pool give the same transcripts, and the cache (keyed without threads) stays true.
    """
    if os.environ.get("OPENBLAS_NUM_THREADS"):  # the node's own setting, honoured as a pool worker would
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # comes with scikit-learn; without it the words may differ by a character
        return
    threads = int(driver_omp) if driver_omp and driver_omp.isdigit() else os.cpu_count() or 1
    threadpool_limits(threads, user_api="blas")


def _name(shipped: Shipped) -> str:
    return shipped.meta.path


def _run(state: object, shipped: Shipped) -> object:
    task, inner = state  # type: ignore[misc]
    original = shipped.meta.path
    with tempfile.TemporaryDirectory(prefix="qc-ray-") as folder:
        local = os.path.join(folder, "recording" + Path(original).suffix)
        with open(local, "wb") as f:
            f.write(shipped.data)
        outcome = run_safely(task, inner, replace(shipped.meta, path=local))
        return _renamed(outcome, {local: original, os.path.realpath(local): os.path.realpath(original)})


def _renamed(value: object, paths: dict[str, str]) -> object:
    """``value`` with the temporary file's path replaced by the original wherever a result names it."""
    if isinstance(value, Failure):
        return Failure(_swap(value.path, paths), _swap(value.reason, paths))
    if isinstance(value, tuple):
        return tuple(_renamed(v, paths) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            name: paths[old]
            for name in ("source", "audio")
            if isinstance(old := getattr(value, name, None), str) and old in paths
        }
        return replace(value, **changes) if changes else value  # type: ignore[type-var]
    return value


def _swap(text: str, paths: dict[str, str]) -> str:
    for old in sorted(paths, key=len, reverse=True):  # the longer first: a realpath may extend the other
        text = text.replace(old, paths[old])
    return text
