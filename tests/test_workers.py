"""The one worker-pool driver: outcomes in order, and whatever a worker does, plain data back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qc.errors import Failure, InputError
from qc.workers import Task, run_in_workers

pytestmark = pytest.mark.issue(7)


class UnpicklableError(Exception):
    """An exception whose arguments do not survive pickling (the shape that once broke the pool)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")


def _setup(offset: int) -> int:
    return offset


def _run(offset: object, item: int) -> int:
    if item == 3:
        raise InputError(f"item-{item}", "bad input")
    if item == 5:
        raise UnpicklableError(f"item-{item}", "odd")
    if item == 7:
        os._exit(1)  # the worker process dies
    return item + int(offset)  # type: ignore[call-overload]


def _name(item: int) -> str:
    return f"item-{item}"


TASK = Task(_setup, (100,), _run, _name)


def test_in_process_outcomes_are_results_or_failures_in_order():
    out = list(run_in_workers(TASK, [1, 2, 3, 4, 5], jobs=1))
    assert out[:2] == [101, 102] and out[3] == 104
    assert out[2] == Failure("item-3", "bad input")
    assert isinstance(out[4], Failure) and "internal error" in out[4].reason


def test_worker_processes_hand_back_plain_data_even_when_one_dies():
    items = list(range(10))
    out = list(run_in_workers(TASK, items, jobs=2, chunk=2, min_parallel=2))
    assert len(out) == len(items)
    assert out[0] == 100 and out[9] == 109
    assert out[3] == Failure("item-3", "bad input")
    assert isinstance(out[5], Failure) and "UnpicklableError" in out[5].reason
    # only the input that kills its worker is lost, and it is reported; its neighbours are redone
    assert isinstance(out[7], Failure) and "died" in out[7].reason
    assert out[6] == 106 and out[8] == 108


def test_input_errors_cross_process_boundaries():
    import pickle

    err = pickle.loads(pickle.dumps(InputError("a.wav", "not audio")))
    assert (err.path, err.reason) == ("a.wav", "not audio")


class _SentOnce:
    """A setup argument that may be handed to the workers when they start (inherited by fork) but
    never pickled: stands for a compiled lexicon, 0.4 MB and a quarter of a second to unpickle."""

    def __reduce__(self):  # noqa: ANN204
        raise TypeError("the task's setup arguments were pickled with a chunk")


def _setup_once(_arg: object) -> int:
    return 1


@pytest.mark.issue(11)
@pytest.mark.skipif(os.name != "posix", reason="workers inherit their set-up by fork on POSIX only")
def test_chunks_travel_without_the_task():
    """The task (and its setup arguments) reaches each worker once; chunks carry only their inputs —
    on both the one-off driver and the pool kept across slices (qc rescore)."""
    from qc.workers import WorkerPool

    task = Task(_setup_once, (_SentOnce(),), lambda state, item: item + state, _name)
    items = list(range(1, 201))
    assert list(run_in_workers(task, items, jobs=2, chunk=10)) == [i + 1 for i in items]
    with WorkerPool(task, jobs=2, chunk=10) as pool:
        assert pool.map(items) == [i + 1 for i in items]
        assert pool.map(items[:7]) == [i + 1 for i in items[:7]]


def _run_batch(offset: object, items: list[int]) -> list[int | Failure]:
    if 13 in items:
        raise RuntimeError("a bug in the batch path")
    return [item + 1000 for item in items]


@pytest.mark.issue(13)
def test_a_batch_path_that_fails_falls_back_to_one_input_at_a_time():
    """A chunk goes through run_batch (one model call for all of it); if that raises, the chunk is
    run input by input, so only the input at fault becomes a Failure."""
    task = Task(_setup, (100,), _run, _name, _run_batch)
    assert list(run_in_workers(task, [1, 2], jobs=1)) == [1001, 1002]
    outcomes = list(run_in_workers(task, [1, 3, 13], jobs=1))
    assert outcomes[0] == 101 and outcomes[2] == 113  # run one by one: no +1000
    assert isinstance(outcomes[1], Failure) and outcomes[1].path == "item-3"


def _mark_setup(folder: str) -> str:
    return folder


def _mark(folder: object, item: int) -> int:
    (Path(str(folder)) / f"{item}.started").touch()
    return item


@pytest.mark.issue(13)
def test_workers_run_only_a_bounded_window_ahead_of_a_slow_consumer(tmp_path, monkeypatch):
    """The pool scores ahead of the database writer, but only a window of chunks: a consumer that
    stops (a slow database) does not make the workers score — and hold — the whole batch."""
    import time

    monkeypatch.setattr("qc.workers.AHEAD_PER_WORKER", 1)
    task = Task(_mark_setup, (str(tmp_path),), _mark, _name)
    outcomes = run_in_workers(task, list(range(12)), jobs=2, chunk=1)
    assert next(outcomes) == 0
    time.sleep(1.5)  # the consumer is busy; idle workers would start everything if it were submitted
    assert len(list(tmp_path.glob("*.started"))) <= 2
    assert list(outcomes) == list(range(1, 12))
