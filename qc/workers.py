"""The one worker-pool driver: run a task over many inputs in worker processes, in input order.

Scoring transcripts and transcribing recordings both use it. Whatever happens inside a worker,
what comes back is plain data: the task's result or a ``Failure`` (path + reason). An exception
object never has to cross the process boundary (a custom exception that could not be pickled once
broke the whole pool, and no recording of the batch was stored), and a worker that dies (killed,
out of memory) costs the inputs it held, reported as failures, not the batch.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

from qc.errors import Failure, QCError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# The state each worker process builds once (a compiled lexicon, a loaded model) and reuses.
_state: object = None


class Task(Generic[T, R]):
    """What the pool runs: ``setup(*args)`` once per process, then ``run(state, item)`` per input.

    Both are module-level functions so they pickle by name. ``name(item)`` says which input a
    failure belongs to.
    """

    def __init__(
        self,
        setup: Callable[..., object],
        setup_args: tuple[object, ...],
        run: Callable[[object, T], R],
        name: Callable[[T], str],
        run_batch: Callable[[object, Sequence[T]], list[R | Failure]] | None = None,
    ) -> None:
        self.setup = setup
        self.setup_args = setup_args
        self.run = run
        self.name = name
        # optional: a chunk at once (one model call for all its inputs); it must give one outcome per
        # input, a Failure for a bad one. Should it raise, the chunk is run input by input with ``run``.
        self.run_batch = run_batch


def run_safely(task: Task[T, R], state: object, item: T) -> R | Failure:
    """One input: its result, or a Failure for any error (a bug in qc included: the batch goes on)."""
    try:
        return task.run(state, item)
    except QCError as err:
        reason = getattr(err, "reason", None) or str(err)
        return Failure(getattr(err, "path", None) or task.name(item), reason)
    except Exception as err:  # noqa: BLE001 - one input must never stop the batch
        log.debug("unexpected error on %s", task.name(item), exc_info=True)
        return Failure(task.name(item), f"internal error ({type(err).__name__}: {err}); please report it")


_task: Task[object, object] | None = None


def _init(task: Task[object, object]) -> None:
    """Set a worker up once: its state, and the task kept so that chunks travel without it — a
    task's setup arguments (a compiled lexicon: 0.4 MB, a quarter of a second to unpickle) sent with
    every chunk of 50 inputs cost more than scoring them."""
    global _state, _task
    _task = task
    _state = task.setup(*task.setup_args)


def run_items(task: Task[T, R], state: object, items: Sequence[T]) -> list[R | Failure]:
    """One outcome per item: the whole chunk through ``run_batch`` where the task has one, else (or if
    it fails) item by item, so a bug in the batch path costs speed, not inputs."""
    if task.run_batch is not None and len(items) > 1:
        try:
            outcomes = task.run_batch(state, items)
            if len(outcomes) == len(items):
                return outcomes
            log.warning("batch gave %d outcomes for %d inputs; running them one by one", len(outcomes), len(items))
        except Exception:  # noqa: BLE001 - fall back to one input at a time, which names the input at fault
            log.debug("batch failed; running its %d inputs one by one", len(items), exc_info=True)
    return [run_safely(task, state, item) for item in items]


def _run_chunk(items: Sequence[T]) -> list[R | Failure]:
    assert _task is not None
    return run_items(_task, _state, items)  # type: ignore[arg-type]


def run_in_workers(
    task: Task[T, R], items: Iterable[T], jobs: int | None = None, chunk: int = 50, min_parallel: int = 2
) -> Iterator[R | Failure]:
    """Yield one outcome per item, in order. ``jobs`` processes (default: all cores); in this
    process when one job is asked for or there are fewer than ``min_parallel`` items.

    A worker that dies breaks the whole process pool, and which input killed it is unknown: the
    remaining inputs are run again in a fresh pool, and if that breaks too, one at a time in a
    single worker, so that only the input that kills its worker is lost (as a Failure).
    """
    todo = list(items)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    if jobs == 1 or len(todo) < min_parallel:
        state = task.setup(*task.setup_args) if todo else None
        for i in range(0, len(todo), chunk):
            yield from run_items(task, state, todo[i : i + chunk])
        return
    size = max(1, min(chunk, -(-len(todo) // jobs)))
    for _attempt in range(2):
        done = 0
        for outcome in _run_pool(task, todo, jobs, size):
            if outcome is _BROKEN:
                break
            done += 1
            yield outcome  # type: ignore[misc]
        todo = todo[done:]
        if not todo:
            return
        log.warning("a worker process died; running the remaining %d input(s) again", len(todo))
    while todo:
        done = 0
        for outcome in _run_pool(task, todo, 1, 1):
            if outcome is _BROKEN:
                break
            done += 1
            yield outcome  # type: ignore[misc]
        if done < len(todo):
            yield Failure(task.name(todo[done]), "the worker process died on this input (out of memory or killed)")
            done += 1
        todo = todo[done:]


_BROKEN = object()


# Chunks submitted ahead per worker: enough that a worker never waits for the main process to hand
# it work, few enough that results waiting for a slower consumer (the database writer) stay bounded.
AHEAD_PER_WORKER = 4


def _run_pool(task: Task[T, R], todo: Sequence[T], jobs: int, size: int) -> Iterator[R | Failure | object]:
    """Outcomes in order until the pool breaks; then one ``_BROKEN`` marker and stop. At most
    ``AHEAD_PER_WORKER × jobs`` chunks are in flight: the workers score ahead of the consumer while it
    stores, and the consumer never holds more than that window of results."""
    chunks = deque(todo[i : i + size] for i in range(0, len(todo), size))
    with ProcessPoolExecutor(jobs, initializer=_init, initargs=(task,)) as pool:
        window: deque[tuple[Future[list[R | Failure]], Sequence[T]]] = deque()
        while chunks or window:
            while chunks and len(window) < AHEAD_PER_WORKER * jobs:
                part = chunks.popleft()
                window.append((pool.submit(_run_chunk, part), part))
            future, part = window.popleft()
            try:
                results = future.result()
            except BrokenProcessPool:
                for f, _ in window:
                    f.cancel()
                yield _BROKEN
                return
            except Exception as err:  # noqa: BLE001 - e.g. a result that cannot be unpickled
                results = [Failure(task.name(item), f"worker error ({type(err).__name__}: {err})") for item in part]
            yield from results


class WorkerPool(Generic[T, R]):
    """Worker processes kept across batches, for work that arrives in slices (re-scoring a month
    from the database streams slices of a thousand calls through it: starting a pool per slice
    would pay each worker's set-up — a compiled lexicon, loaded models — every time).

    Use as a context manager; ``map(items)`` returns one outcome per item, in order. If the pool
    breaks (a worker killed), that batch is run again through ``run_in_workers``, which isolates
    the input at fault, and the next batch gets a fresh pool.
    """

    def __init__(self, task: Task[T, R], jobs: int | None = None, chunk: int = 50) -> None:
        self.task = task
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.chunk = chunk
        self._pool: ProcessPoolExecutor | None = None
        self._state: object = None

    def __enter__(self) -> WorkerPool[T, R]:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def map(self, items: Sequence[T]) -> list[R | Failure]:
        if not items:
            return []
        if self.jobs == 1:
            if self._state is None:
                self._state = self.task.setup(*self.task.setup_args)
            return run_items(self.task, self._state, items)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.jobs, initializer=_init, initargs=(self.task,))
        size = max(1, min(self.chunk, -(-len(items) // self.jobs)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        try:
            futures = [self._pool.submit(_run_chunk, c) for c in chunks]
            return [outcome for future in futures for outcome in future.result()]
        except BrokenProcessPool:
            log.warning("a worker process died; running this batch of %d again", len(items))
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            return list(run_in_workers(self.task, items, self.jobs, self.chunk))
