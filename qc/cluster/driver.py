"""The Ray driver: run a ``qc.workers.Task`` over many inputs on Ray, with ``run_in_workers``'s contract.

Every input yields exactly one outcome, its result or a ``Failure`` naming it, never an exception, in
completion order (recordings differ in length by minutes; waiting for input order would idle slots).

- Ray Core tasks, one per input: Ray schedules them on whichever node has the CPUs (or GPU) free.
  The task (setup function and arguments: a compiled lexicon, recogniser options) is put in the
  object store once and each worker process sets it up once, on its first input, keeping the state
  (a loaded model) for every later input of the same batch.
- Bounded in flight: at most ``window`` tasks (about twice the cluster's slots) are submitted ahead, so
  the driver holds a bounded number of recordings' bytes and results, and results are stored as they
  arrive (``ray.wait``) while the workers go on.
- A worker that dies (killed, out of memory, a crash in native code) is a system failure: Ray runs
  that input again on another worker, ``retries`` times at most, then it is a Failure and the others
  finish. A Python exception inside a task is already a Failure (``run_safely``): never retried, since
  the same input would raise the same error again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from qc.cluster.connect import ClusterError, RayTarget, connected
from qc.errors import Failure
from qc.workers import Task, run_safely

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Attempts after the first when a worker dies on an input: a node lost or a worker killed by someone
# else gets another chance, a recording that crashes the decoder every time costs three worker starts.
RETRIES = 2
# Tasks in flight per slot: one running, one waiting, so a slot never idles while the driver reads the
# next recording and stores the last result.
AHEAD_PER_SLOT = 2
DIED = (
    "the worker died on this recording {n} times (killed, out of memory or a crash in native code); the others went on"
)


@dataclass(frozen=True, slots=True)
class Placement:
    """What one task asks of a node: the CPU threads it computes with, and with ``--device cuda`` one GPU
    (its CPUs then decode the audio and run the VAD). Ray starts a task only where these are free."""

    num_cpus: float = 1
    num_gpus: float = 0

    def slots(self, resources: dict[str, float]) -> int:
        """How many such tasks the cluster runs at once (at least one: an autoscaler may add nodes)."""
        fits = resources.get("GPU", 0) // self.num_gpus if self.num_gpus else resources.get("CPU", 0) // self.num_cpus
        return max(1, int(fits))


def run_on_ray(
    task: Task[T, R],
    items: Iterable[T],
    target: RayTarget | None = None,
    *,
    placement: Placement | None = None,
    retries: int | None = None,
    window: int | None = None,
    before: Callable[[T], Any] | None = None,
    finish: Callable[[T, R], Any] | None = None,
) -> Iterator[Any]:
    """One outcome per item, in completion order, computed by Ray tasks.

    ``before(item)``, in the driver, may answer an item itself (a cached transcript, an unreadable
    file): then nothing is submitted for it. ``finish(item, result)``, in the driver, turns each result
    a worker sent back into the outcome yielded (the driver caches a transcript and scores it: the
    workers' disks may be other machines', and they need no lexicon). ``retries``: default
    ``RETRIES``. ``items`` is read lazily, as the window frees up; Ray is started or joined only
    when the first item has to be submitted, so a batch answered entirely by ``before`` (a rerun)
    never waits for a cluster. Raises ClusterError (the batch cannot run at all) when Ray cannot be
    started or reached, or a GPU is asked of a cluster that has none.
    """
    placement = placement or Placement()
    retries = RETRIES if retries is None else retries
    source = iter(items)
    for item in source:
        answered = before(item) if before is not None else None
        if answered is None:
            first = item
            break
        yield answered
    else:
        return
    with connected(target or RayTarget()) as ray:
        batch = _Batch.start(ray, task, placement, retries, window)
        pending = {batch.submit(first): first}
        more = True
        try:
            while pending:
                while more and len(pending) < batch.window:
                    item = next(source, _END)  # type: ignore[arg-type]
                    if item is _END:
                        more = False
                        break
                    answered = before(item) if before is not None else None
                    if answered is not None:
                        yield answered
                    else:
                        pending[batch.submit(item)] = item
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    item = pending.pop(ref)
                    outcome = _outcome(ray, ref, task, item, retries)
                    if finish is not None and not isinstance(outcome, Failure):
                        outcome = finish(item, outcome)
                    yield outcome
        finally:
            for ref in pending:  # the consumer stopped early (a database error): free the cluster
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001 - finished meanwhile, or the cluster is gone: nothing to free
                    log.debug("could not cancel a Ray task", exc_info=True)


@dataclass(frozen=True, slots=True)
class _Batch:
    """One batch on a joined Ray: the remote function with its resources and retries, the task put in
    the object store once, and how many tasks may be in flight."""

    remote: Any
    key: str
    boxed: list[Any]
    window: int

    @classmethod
    def start(cls, ray: Any, task: Task[Any, Any], placement: Placement, retries: int, window: int | None) -> _Batch:
        resources = ray.cluster_resources()
        if placement.num_gpus and not resources.get("GPU"):  # else every task waits forever for a GPU
            raise ClusterError("--device cuda: this Ray cluster has no GPU (ray status lists its resources)")
        window = window or AHEAD_PER_SLOT * placement.slots(resources)
        remote = ray.remote(_run_remote).options(
            num_cpus=placement.num_cpus,
            num_gpus=placement.num_gpus,
            max_retries=retries,
            retry_exceptions=False,
        )
        log.info("running on Ray: %s per task, %d in flight", placement, window)
        # [ref]: a reference inside a list is not resolved by Ray, so a worker fetches and unpickles the
        # task only when it has not set this batch up yet, not once per input
        return cls(remote, uuid.uuid4().hex, [ray.put(task)], window)

    def submit(self, item: object) -> Any:
        return _submit(self.remote, self.key, self.boxed, item)


_END = object()


def _submit(remote: Any, key: str, boxed: list[Any], item: object) -> Any:
    """Submit one input (a function of its own, so that a test can count what is submitted)."""
    return remote.remote(key, boxed, item)


def _outcome(ray: Any, ref: Any, task: Task[T, R], item: T, retries: int) -> R | Failure:
    from ray.exceptions import NodeDiedError, OutOfMemoryError, RayError, TaskCancelledError, WorkerCrashedError

    try:
        return ray.get(ref)  # type: ignore[no-any-return]
    except (WorkerCrashedError, OutOfMemoryError, NodeDiedError):
        log.warning("%s: a worker died on it %d times; reported as failed", task.name(item), retries + 1)
        return Failure(task.name(item), DIED.format(n=retries + 1))
    except TaskCancelledError:
        return Failure(task.name(item), "cancelled")
    except RayError as err:  # an object lost with its node, a bug outside run_safely…: this input only
        first = str(err).strip().splitlines()[-1] if str(err).strip() else ""
        return Failure(task.name(item), f"ray error ({type(err).__name__}: {first})")


# --- in the worker process -----------------------------------------------------------------------

# The batch this worker process last set up: (key, task, state). One at a time: a long-lived worker
# that serves several batches keeps one model in memory, not one per batch.
_current: tuple[str, Task[Any, Any], object] | None = None


def _run_remote(key: str, boxed: list[Any], item: object) -> object:
    """One input in a Ray worker: the batch's state, set up once per process, then ``run_safely``."""
    global _current
    if _current is None or _current[0] != key:
        import ray

        _current = None  # the previous batch's model is released before the next one loads
        task: Task[Any, Any] = ray.get(boxed[0])
        try:
            _current = (key, task, task.setup(*task.setup_args))
        except Exception as err:  # noqa: BLE001 - the model cannot load here: this input fails, not the batch
            reason = getattr(err, "reason", None) or str(err)
            return Failure(task.name(item), f"cannot set the worker up ({type(err).__name__}: {reason})")
    _, task, state = _current
    return run_safely(task, state, item)
