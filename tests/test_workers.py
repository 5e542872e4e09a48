"""The one worker-pool driver: outcomes in order, and whatever a worker does, plain data back."""

from __future__ import annotations

import os

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
